//! The canonical scenarios show what they claim, asserted on numbers: each runs its variants
//! in-process with the seed in its file, and the test checks the outcome each variant's
//! description promises.

use crate::cli::root;
use squall_model::{run, ClientOutput, Outcome, RunOutput};

/// Every variant of `scenarios/<name>.ron`, run, by name.
fn run_variants(name: &str) -> Vec<(String, RunOutput)> {
    let path = root().join("scenarios").join(format!("{name}.ron"));
    let variants = squall_scenario::load_variants(&path, &[], None).unwrap_or_else(|e| panic!("{e}"));
    variants.into_iter().map(|v| (v.name, run(&v.scenario.config))).collect()
}

fn variant<'a>(runs: &'a [(String, RunOutput)], name: &str) -> &'a RunOutput {
    &runs.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no variant {name}")).1
}

fn client<'a>(out: &'a RunOutput, name: &str) -> &'a ClientOutput {
    out.clients.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no client {name}"))
}

/// Share of a client's ended requests that succeeded, over the whole run.
fn success(out: &RunOutput, name: &str) -> f64 {
    let c = client(out, name);
    c.outcomes.get(Outcome::Ok) as f64 / c.outcomes.total() as f64
}

/// The same over the buckets `from..to` (seconds, with 1 s buckets).
fn success_within(out: &RunOutput, name: &str, from: usize, to: usize) -> f64 {
    let c = client(out, name);
    let (ok, all) = c.series[from..to]
        .iter()
        .fold((0, 0), |(ok, all), b| (ok + b.outcomes.get(Outcome::Ok), all + b.outcomes.total()));
    ok as f64 / all as f64
}

#[test]
fn bulkheads_keep_browsing_and_checkout_up_while_the_shipping_api_is_slow() {
    let runs = run_variants("bulkhead");
    let names: Vec<&str> = runs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["baseline", "bulkhead", "thread-pool", "tight-timeout"]);
    let base = variant(&runs, "baseline");
    for c in ["browsers", "buyers"] {
        // The slow API (1 to 5 minutes) takes every worker: almost nothing else gets through.
        assert!(success(base, c) < 0.5, "{c} without bulkheads: {}", success(base, c));
        assert!(success_within(base, c, 70, 300) < 0.1, "{c} during the slowdown");
        assert!(success_within(base, c, 0, 60) > 0.999, "{c} before it");
        for v in ["bulkhead", "thread-pool", "tight-timeout"] {
            let s = success(variant(&runs, v), c);
            assert!(s > 0.99, "{c} with {v}: {s}");
        }
    }
    // The bulkhead refuses the excess shipping calls fast, so quotes fail while the API is
    // slow; the pool of workers is left to everything else.
    let with = variant(&runs, "bulkhead");
    let shipping = with.dependencies.iter().find(|d| d.callee == "shipping").unwrap();
    assert!(shipping.outcomes.get(Outcome::BulkheadFull) > 1000);
    let web = |o: &RunOutput| o.services.iter().find(|s| s.name == "web").unwrap().busy_integral;
    assert!(web(with) < web(base) / 2, "the bulkhead frees the web workers");
}

#[test]
fn scaling_the_app_out_past_the_connection_cap_hurts_and_the_real_fixes_help() {
    let runs = run_variants("db-connections");
    let base = variant(&runs, "baseline");
    let reads = |v: &str| success(variant(&runs, v), "readers");
    let (baseline, spike) = (reads("baseline"), success_within(base, "readers", 125, 240));
    assert!(success_within(base, "readers", 0, 120) > 0.999, "fine before the spike");
    assert!(spike < 0.9, "the spike overloads the database: {spike}");

    // More replicas than connections: the last instances get none, and fail all the time.
    let more = variant(&runs, "more-app-replicas");
    assert!(reads("more-app-replicas") < baseline - 0.05, "{} vs {baseline}", reads("more-app-replicas"));
    assert!(success_within(more, "readers", 0, 120) < 0.85, "failing before the spike too");

    // Rate limiting serves about as much, but refuses the excess at once: latency stays low.
    let limited = variant(&runs, "rate-limit");
    assert!((reads("rate-limit") - baseline).abs() < 0.02);
    assert!(client(limited, "readers").outcomes.get(Outcome::RateLimited) > 0);
    let p99 = |o: &RunOutput| client(o, "readers").latency_ok.value_at_quantile(0.99);
    assert!(p99(limited) * 3 < p99(base), "p99 {} vs {}", p99(limited), p99(base));

    // Caching hot reads and read replicas take the reads off the primary.
    assert!(reads("cache-hot-reads") > 0.999, "{}", reads("cache-hot-reads"));
    assert!(reads("read-replicas") > 0.999, "{}", reads("read-replicas"));
    let cached = variant(&runs, "cache-hot-reads");
    let app_db = cached.dependencies.iter().find(|d| d.caller == "app" && d.callee == "db").unwrap();
    let hit_share = app_db.cache_hits as f64 / client(cached, "readers").issued as f64;
    assert!((hit_share - 0.6).abs() < 0.01, "the cache answers 60 % of reads: {hit_share}");

    // Queueing writes frees connections for reads.
    assert!(reads("queue-writes") > baseline + 0.03, "{} vs {baseline}", reads("queue-writes"));
}
