//! The canonical scenarios show what they claim, asserted on numbers: each runs its variants
//! in-process with the seed in its file, and the test checks the outcome each variant's
//! description promises.

use crate::cli::root;
use squall_kernel::SimDuration;
use squall_model::analysis::{recovery, RecoveryStatus};
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

/// Every variant of `scenarios/<name>.ron` with its seed replaced, run, by name.
fn run_variants_seeded(name: &str, seed: u64) -> Vec<(String, RunOutput)> {
    let path = root().join("scenarios").join(format!("{name}.ron"));
    let variants = squall_scenario::load_variants(&path, &[], None).unwrap_or_else(|e| panic!("{e}"));
    variants
        .into_iter()
        .map(|v| {
            let mut cfg = v.scenario.config.clone();
            cfg.seed = seed;
            (v.name, run(&cfg))
        })
        .collect()
}

/// How goodput came back after the fault named `fault`.
fn recovery_of(out: &RunOutput, fault: &str) -> RecoveryStatus {
    recovery(out)
        .into_iter()
        .find(|r| r.fault == fault)
        .unwrap_or_else(|| panic!("no fault {fault}"))
        .status()
}

fn recovered_within(out: &RunOutput, fault: &str, secs: u64) -> bool {
    matches!(recovery_of(out, fault), RecoveryStatus::Recovered(d) if d <= SimDuration::from_secs(secs))
}

#[test]
fn a_retry_storm_outlives_its_trigger_and_every_fix_ends_it_over_several_seeds() {
    for seed in [7, 8, 9] {
        let runs = run_variants_seeded("retry-storm", seed);
        let names: Vec<&str> = runs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "baseline",
                "jittered-backoff",
                "retry-budget",
                "circuit-breaker",
                "deadline-aware",
                "adaptive-throttling"
            ]
        );
        let base = variant(&runs, "baseline");
        // Fine before the slowdown (0:00 to 1:00), collapsed from then to the end (5:00).
        assert!(success_within(base, "users", 10, 60) > 0.999, "seed {seed}");
        assert!(success_within(base, "users", 120, 300) < 0.05, "seed {seed}: still collapsed");
        assert_eq!(recovery_of(base, "db-slowdown"), RecoveryStatus::Never, "seed {seed}");
        // Naive retries triple the load on the database while it is collapsed.
        let db = base.dependencies.iter().find(|d| d.callee == "db").unwrap();
        let late: u64 = db.policy.series[200..300].iter().map(|b| b.attempts).sum();
        let calls: u64 = db.calls_series[200..300].iter().sum();
        assert!(late as f64 > 2.8 * calls as f64, "seed {seed}: {late} attempts for {calls} calls");
        for v in
            ["jittered-backoff", "retry-budget", "circuit-breaker", "deadline-aware", "adaptive-throttling"]
        {
            let out = variant(&runs, v);
            assert!(
                recovered_within(out, "db-slowdown", 150),
                "seed {seed}, {v}: {:?}",
                recovery_of(out, "db-slowdown")
            );
            assert!(success_within(out, "users", 260, 300) > 0.99, "seed {seed}, {v} at the end");
        }
    }
}

#[test]
fn a_thundering_herd_knocks_the_database_over_unless_retries_are_budgeted() {
    let runs = run_variants("thundering-herd");
    let base = variant(&runs, "baseline");
    assert_eq!(recovery_of(base, "db-failover"), RecoveryStatus::Never);
    // Jitter alone or Retry-After alone do not stop the herd; the budget does, within seconds.
    for v in ["jitter", "retry-after"] {
        assert_eq!(recovery_of(variant(&runs, v), "db-failover"), RecoveryStatus::Never, "{v}");
    }
    for v in ["budget", "all-three"] {
        let out = variant(&runs, v);
        assert!(recovered_within(out, "db-failover", 5), "{v}: {:?}", recovery_of(out, "db-failover"));
        assert!(success_within(out, "tasks", 80, 240) > 0.999, "{v}");
    }
}

#[test]
fn propagated_deadlines_stop_work_for_users_who_gave_up_and_skewed_clocks_break_them() {
    let runs = run_variants("deadline-propagation");
    let wasted = |o: &RunOutput, s: &str| {
        let v = o.services.iter().find(|v| v.name == s).unwrap();
        v.wasted_work_ns as f64 / (v.wasted_work_ns + v.useful_work_ns) as f64
    };
    let (base, prop, skew) =
        (variant(&runs, "baseline"), variant(&runs, "propagated"), variant(&runs, "skewed-clock"));
    for s in ["gateway", "a", "db"] {
        assert!(wasted(base, s) > 0.1, "{s} wastes work without propagation: {}", wasted(base, s));
        assert!(wasted(prop, s) < 0.01, "{s} with propagation: {}", wasted(prop, s));
    }
    assert!(success(prop, "users") > success(base, "users"));
    // One b instance of two runs 450 ms fast: it finds every deadline passed.
    let b = skew.services.iter().find(|v| v.name == "b").unwrap();
    let expired = b.refusals.get(Outcome::DeadlineExceeded) as f64 / b.arrivals as f64;
    assert!((expired - 0.5).abs() < 0.02, "{expired}");
    assert!(success_within(skew, "users", 0, 60) < 0.55, "fails even when nothing is slow");
    // Sent as durations, deadlines do not care about the skewed clock.
    let relative = variant(&runs, "relative-deadlines");
    assert_eq!(success(relative, "users"), success(prop, "users"));
}

#[test]
fn a_fallback_keeps_the_page_up_and_criticality_protects_checkouts() {
    let runs = run_variants("graceful-degradation");
    let base = variant(&runs, "baseline");
    // Recommendations down from 1:00 to 2:00: the page is served with the fallback.
    assert!(success_within(base, "browsers", 62, 118) > 0.999);
    let recs = base.dependencies.iter().find(|d| d.callee == "recommendations").unwrap();
    assert!(recs.outcomes.get(Outcome::Degraded) > 50_000, "{:?}", recs.outcomes);
    assert!(success_within(variant(&runs, "no-fallback"), "browsers", 62, 118) < 0.01);
    // The surge (3:00 to 4:00) sheds page views, never checkouts...
    assert!(success_within(base, "browsers", 182, 238) < 0.8);
    assert_eq!(success_within(base, "buyers", 182, 238), 1.0);
    // ...unless checkouts are as sheddable as page views.
    assert!(success_within(variant(&runs, "no-criticality"), "buyers", 182, 238) < 0.8);
}

#[test]
fn failover_to_a_second_provider_meets_the_target_a_single_one_cannot() {
    let runs = run_variants("payment-failover");
    let (base, retries, failover) = (
        success(variant(&runs, "baseline"), "checkout"),
        success(variant(&runs, "retries"), "checkout"),
        success(variant(&runs, "failover"), "checkout"),
    );
    assert!(base < 0.9995, "a single 99.9 % provider: {base}");
    assert!(retries > base && retries < 0.99965, "retries fix random errors, not the outage: {retries}");
    assert!(failover > 0.9999, "failover: {failover}");
}

/// Flows of a client: (started, completed, failed).
fn flows(out: &RunOutput, name: &str) -> (u64, u64, u64) {
    let f = client(out, name).flow.as_ref().unwrap_or_else(|| panic!("{name} runs no flow"));
    (f.started, f.completed, f.failed)
}

/// Requests a service's version answered.
fn answered_by(out: &RunOutput, service: &str, version: &str) -> u64 {
    let s = out.services.iter().find(|s| s.name == service).unwrap();
    s.fleet.versions.iter().find(|v| v.name == version).map_or(0, |v| v.answers.total())
}

#[test]
fn a_rolling_update_strands_sign_ups_a_canary_strands_more_and_expand_contract_none_over_seeds() {
    for seed in [5, 6, 7] {
        let runs = run_variants_seeded("rolling-email-confirmation", seed);
        let names: Vec<&str> = runs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["baseline", "canary-hour", "expand-contract", "sticky-sessions"]);
        let failed = |v: &str| flows(variant(&runs, v), "new-users").2;
        let (rolling, canary, expand, sticky) =
            (failed("baseline"), failed("canary-hour"), failed("expand-contract"), failed("sticky-sessions"));
        assert!(rolling > 0, "seed {seed}: the rolling update failed no sign-up");
        assert!(canary > 10 * rolling, "seed {seed}: canary {canary} vs rolling {rolling}");
        assert_eq!(expand, 0, "seed {seed}: expand/contract failed sign-ups");
        assert!(sticky < rolling, "seed {seed}: sticky {sticky} vs rolling {rolling}");
        // Every failure is a confirmation that reached v1.
        let base = variant(&runs, "baseline");
        let f = client(base, "new-users").flow.as_ref().unwrap();
        assert_eq!(f.steps[1].outcomes.get(Outcome::Unsupported), rolling);
        assert!(f.paths.iter().filter(|p| p.failed > 0).all(|p| p.versions == ["v2", "v1"]), "{:?}", f.paths);
    }
}

#[test]
fn analysis_rolls_a_bad_canary_back_with_a_small_blast_radius_and_blue_green_switches_back() {
    use squall_model::DeployResult;
    let runs = run_variants("canary-bad-release");
    let names: Vec<&str> = runs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["baseline", "canary", "canary-traffic-routed", "blue-green"]);
    let blast = |v: &str| answered_by(variant(&runs, v), "shop", "v2");
    let result = |v: &str| variant(&runs, v).deploys[0].result.clone();
    // A rolling update has no analysis: v2 serves everything from about 5:40 to the end.
    assert_eq!(result("baseline"), DeployResult::Completed);
    assert!(blast("baseline") > 250_000, "{}", blast("baseline"));
    for v in ["canary", "canary-traffic-routed", "blue-green"] {
        assert_eq!(result(v), DeployResult::RolledBack, "{v}");
        let d = &variant(&runs, v).deploys[0];
        let took = d.events.last().unwrap().at.since(d.events[0].at).as_secs_f64();
        assert!(took < 300.0, "{v} took {took} s to roll back");
        assert!(success(variant(&runs, v), "buyers") > 0.99, "{v}");
    }
    // A canary exposes a tenth of the traffic, a blue-green switch all of it.
    assert!(blast("canary") < 6_000 && blast("canary-traffic-routed") < 6_000);
    assert!(blast("blue-green") > 5 * blast("canary"), "{} vs {}", blast("blue-green"), blast("canary"));
    assert!(blast("blue-green") < blast("baseline") / 4);
}

#[test]
fn a_liveness_probe_on_the_cache_restarts_every_pod_and_readiness_only_rides_the_blip_out() {
    let runs = run_variants("liveness-death-spiral");
    let names: Vec<&str> = runs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["baseline", "readiness-only"]);
    let base = variant(&runs, "baseline");
    let app = base.services.iter().find(|s| s.name == "app").unwrap();
    // Every pod is killed by its probe, more than once: the restarts stampede the cache.
    assert!(app.fleet.probe_kills > 2 * 8, "{} probe kills", app.fleet.probe_kills);
    assert!(matches!(recovery_of(base, "cache-failover"), RecoveryStatus::Never));
    assert!(success(base, "users") < 0.5);
    let fixed = variant(&runs, "readiness-only");
    let app = fixed.services.iter().find(|s| s.name == "app").unwrap();
    assert_eq!((app.fleet.crashes, app.fleet.restarts), (0, 0));
    assert!(recovered_within(fixed, "cache-failover", 10));
    assert!(success(fixed, "users") > 0.99);
}
