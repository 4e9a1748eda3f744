//! The compact text table printed at the end of a run: plain ASCII, no colours, aligned
//! columns, so it reads the same in a terminal, a log file and a CI transcript.

use crate::format::{decimal, human_ms, percent, seconds, thousands};
use crate::stats::{stop_detail, stop_kind, PolicyStats, RunStats};
use crate::ReportMeta;
use squall_model::analysis::{Recovery, RecoveryStatus, SteadyState};
use squall_model::{FaultWindow, Outcome, OutcomeCounts, RunOutput, StopReason, Warmup};
use std::fmt::Write as _;

mod fleet;

/// Compact text table for the terminal (no colours; fixed-width columns).
///
/// A header names the run; a run that stopped before its configured duration says so on a
/// line starting with `!!`. Then one row per client group (percentages are of ended
/// requests: the successes, ok or degraded, then the degraded part of them — answers of a
/// fallback — and the failures by outcome; latency percentiles are of successful ones), one per service (refusals by
/// outcome, only those that happened), one per service on work (throughput against goodput,
/// useful against wasted worker time), one per dependency and one per fault window (these
/// two only when there are any). When some call site has a client policy, a policy section
/// has one row per such site (a client group, or `caller->callee`): logical calls, attempts,
/// amplification (attempts per call), retries, retries denied by the budget, attempts
/// short-circuited by a breaker or throttled, calls answered by a fallback, breaker opens and
/// the share of breaker time spent open. With fault windows, a recovery section says per
/// window how long after its end goodput came back (see [`squall_model::analysis`]), or that
/// it did not by the end of the run. Runs with fleets, flows or deploys get sections on them:
/// per service with more than one version or lifecycle activity, its versions (instances
/// ready at the end, answers, error rate, most frequent failures) and a line with restarts,
/// crashes, instances created, requests refused while not accepting and version skew; per
/// client group with a flow, its flows started, completed, failed and in flight with the
/// success rate, its steps (run, skipped, failed, most frequent failures) and the paths of
/// versions that served them; and the deploys (target, strategy, start, end, duration and
/// result). When the scenario configures a `warmup`, a steady-state section gives where the
/// warm-up ended and, per client group and for all, the throughput, goodput, success rate and
/// mean latency of successes over the steady window. A line with the conservation numbers
/// follows when
/// requests were still in flight at the end, or when the numbers do not add up. Undefined
/// values print as `-`.
pub fn summary_table(meta: &ReportMeta, out: &RunOutput) -> String {
    let stats = RunStats::of(out);
    let mut s = String::new();
    // Writing into a String cannot fail, so the fmt::Results below are discarded.
    let _ = writeln!(
        s,
        "squall  {} ({})  seed {}  scenario hash {:016x}  config hash {:016x}",
        meta.title(),
        meta.file,
        meta.seed,
        meta.scenario_hash,
        meta.config_hash
    );
    if !meta.overrides.is_empty() {
        let _ = writeln!(s, "overrides: {}", meta.overrides.join("  "));
    }
    let _ = writeln!(
        s,
        "simulated {:.3} s of {:.3} s  stop: {}  events {}",
        out.end.as_secs_f64(),
        out.duration.as_secs_f64(),
        stop_kind(&out.stop),
        thousands(out.n_events)
    );
    if out.stop != StopReason::Completed {
        let _ = writeln!(s, "!! STOPPED EARLY: {}", stop_detail(out).unwrap_or_default());
    }

    let mut clients = vec![row(&[
        "client", "issued", "ended", "success", "degraded", "p50", "p90", "p99", "p99.9", "failures",
    ])];
    for c in &stats.clients {
        let failures: Vec<String> = Outcome::ALL
            .iter()
            .filter(|o| !o.is_success() && c.out.outcomes.get(**o) > 0)
            .map(|o| format!("{} {}", o.name(), percent(c.share(*o))))
            .collect();
        let l = &c.latency_ok;
        clients.push(vec![
            c.out.name.clone(),
            thousands(c.out.issued),
            thousands(c.ended),
            percent(c.success_rate),
            percent(c.degraded_rate),
            human_ms(l.p50_ms),
            human_ms(l.p90_ms),
            human_ms(l.p99_ms),
            human_ms(l.p999_ms),
            if failures.is_empty() { "-".to_string() } else { failures.join("  ") },
        ]);
    }
    s.push('\n');
    s.push_str(&align(&clients));

    let mut services = vec![row(&[
        "service",
        "instances",
        "workers",
        "util",
        "queue mean",
        "queue max",
        "wait mean",
        "dropped",
        "refusals",
    ])];
    for v in &stats.services {
        services.push(vec![
            v.out.name.clone(),
            thousands(u64::from(v.out.instances)),
            thousands(u64::from(v.out.workers)),
            percent(v.utilisation),
            decimal(v.queue_mean, 2),
            thousands(v.out.queue_max),
            human_ms(v.wait_mean_ms),
            thousands(v.out.dropped),
            nonzero_counts(&v.out.refusals),
        ]);
    }
    s.push('\n');
    s.push_str(&align(&services));

    // Throughput counts every finished request, goodput only those someone still waited for;
    // the gap between them, and the wasted share of worker time, is what a retry storm or a
    // timeout shorter than the queueing delay costs.
    let mut work = vec![row(&["service", "thru/s", "good/s", "useful work", "wasted work"])];
    for v in &stats.services {
        work.push(vec![
            v.out.name.clone(),
            decimal(v.throughput_per_s, 2),
            decimal(v.goodput_per_s, 2),
            format!("{} ({})", seconds(v.useful_work_s), percent(v.useful_share)),
            format!("{} ({})", seconds(v.wasted_work_s), percent(v.wasted_share)),
        ]);
    }
    s.push('\n');
    s.push_str(&align(&work));

    if !stats.dependencies.is_empty() {
        let mut deps = vec![row(&[
            "dependency",
            "calls",
            "success",
            "degraded",
            "cache hits",
            "waited",
            "p50",
            "p99",
            "failures",
        ])];
        for d in &stats.dependencies {
            let failures: Vec<String> = Outcome::ALL
                .iter()
                .filter(|o| !o.is_success() && d.out.outcomes.get(**o) > 0)
                .map(|o| format!("{} {}", o.name(), percent(d.share(*o))))
                .collect();
            deps.push(vec![
                d.name(),
                thousands(d.out.calls),
                percent(d.success_rate),
                percent(d.degraded_rate),
                thousands(d.out.cache_hits),
                thousands(d.out.waited),
                human_ms(d.latency_ok.p50_ms),
                human_ms(d.latency_ok.p99_ms),
                if failures.is_empty() { "-".to_string() } else { failures.join("  ") },
            ]);
        }
        s.push('\n');
        s.push_str(&align(&deps));
    }

    if !out.faults.is_empty() {
        let mut faults = vec![row(&["fault", "service", "start", "end", "what"])];
        for f in &out.faults {
            faults.push(vec![
                f.name.clone(),
                f.service.clone(),
                seconds(f.start.as_secs_f64()),
                seconds(f.end.as_secs_f64()),
                f.what.clone(),
            ]);
        }
        s.push('\n');
        s.push_str(&align(&faults));
    }

    if stats.any_policy() {
        let mut policies = vec![row(&[
            "policy",
            "calls",
            "attempts",
            "amplif.",
            "retries",
            "denied",
            "short-circ.",
            "throttled",
            "degraded",
            "breaker opens",
            "time open",
        ])];
        let clients =
            stats.clients.iter().map(|c| (c.out.name.clone(), c.out.issued, &c.out.outcomes, &c.policy));
        let deps = stats.dependencies.iter().map(|d| (d.name(), d.out.calls, &d.out.outcomes, &d.policy));
        for (name, calls, outcomes, p) in clients.chain(deps).filter(|site| site.3.active()) {
            policies.push(policy_row(name, calls, outcomes, p));
        }
        s.push('\n');
        s.push_str(&align(&policies));
    }

    if !out.faults.is_empty() {
        let mut recovery = vec![row(&["recovery", "baseline", "goodput after the fault"])];
        for (r, f) in stats.recovery.iter().zip(&out.faults) {
            recovery.push(vec![
                r.fault.clone(),
                r.baseline_per_s.map_or_else(|| "-".to_string(), |b| format!("{}/s", decimal(Some(b), 2))),
                recovery_text(r, f, out),
            ]);
        }
        s.push('\n');
        s.push_str(&align(&recovery));
    }

    if let Some(st) = &stats.steady {
        s.push_str(&steady_section(st));
    }

    s.push_str(&fleet::fleet_sections(out));

    let c = &out.conservation;
    let balanced = c.ended.checked_add(c.in_flight) == Some(c.issued);
    if !balanced {
        let _ = writeln!(
            s,
            "\n!! CONSERVATION MISMATCH: issued {} != ended {} + in flight {}",
            thousands(c.issued),
            thousands(c.ended),
            thousands(c.in_flight)
        );
    } else if c.in_flight > 0 {
        let _ = writeln!(
            s,
            "\nin flight at end: {} (issued {} = ended {} + in flight {})",
            thousands(c.in_flight),
            thousands(c.issued),
            thousands(c.ended),
            thousands(c.in_flight)
        );
    }
    s
}

/// The steady-state section: where the warm-up ended, then per client group and for all of
/// them the figures over the steady window.
fn steady_section(st: &SteadyState) -> String {
    let how = match st.warmup {
        Some(Warmup::Fixed(d)) => format!("fixed {d}"),
        Some(Warmup::Mser5) => "MSER-5".to_string(),
        None => "none".to_string(),
    };
    let mut s = format!(
        "\nsteady state from {} (warm-up: {how}, {} buckets deleted), window {}\n",
        seconds(st.start.as_secs_f64()),
        st.buckets_deleted,
        seconds(st.window.as_secs_f64())
    );
    for w in &st.warnings {
        let _ = writeln!(s, "warning: {}", crate::stats::mser_warning(w));
    }
    let mut rows = vec![row(&["steady", "ended", "thru/s", "good/s", "success", "mean latency"])];
    let groups = st.clients.iter().map(|(n, f)| (n.as_str(), f)).chain([("all", &st.all)]);
    for (name, f) in groups {
        rows.push(vec![
            name.to_string(),
            thousands(f.ended),
            decimal(f.throughput_per_s, 2),
            decimal(f.goodput_per_s, 2),
            percent(f.success_rate),
            human_ms(f.latency_ok_mean_ns.map(|ns| ns / 1e6)),
        ]);
    }
    s.push_str(&align(&rows));
    s
}

/// A call site's row of the policy section.
fn policy_row(name: String, calls: u64, outcomes: &OutcomeCounts, p: &PolicyStats<'_>) -> Vec<String> {
    let o = p.out;
    vec![
        name,
        thousands(calls),
        thousands(o.attempts),
        p.amplification.map_or_else(|| "-".to_string(), |a| format!("{}x", decimal(Some(a), 2))),
        thousands(o.retries),
        thousands(o.retries_denied),
        thousands(o.short_circuited),
        thousands(o.throttled),
        thousands(outcomes.get(Outcome::Degraded)),
        p.breaker.as_ref().map_or_else(|| "-".to_string(), |b| thousands(b.opens)),
        p.breaker.as_ref().map_or_else(|| "-".to_string(), |b| percent(b.open_share)),
    ]
}

/// What happened to goodput after fault window `f`, in words.
fn recovery_text(r: &Recovery, f: &FaultWindow, out: &RunOutput) -> String {
    match r.status() {
        RecoveryStatus::Recovered(d) => {
            format!("goodput recovered {:.1} s after {} ended", d.as_secs_f64(), r.fault)
        }
        RecoveryStatus::Never if f.end >= out.end => "still active at the end of the run".to_string(),
        RecoveryStatus::Never => "did not recover by the end of the run (metastable)".to_string(),
        RecoveryStatus::NoBaseline => "no baseline: no whole bucket of goodput before it started".to_string(),
    }
}

/// `name count` for each outcome with a nonzero count, in `Outcome::ALL` order; `-` when
/// there is none.
fn nonzero_counts(counts: &OutcomeCounts) -> String {
    let parts: Vec<String> = Outcome::ALL
        .iter()
        .filter(|o| counts.get(**o) > 0)
        .map(|o| format!("{} {}", o.name(), thousands(counts.get(*o))))
        .collect();
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join("  ")
    }
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// Lays out rows in columns: the first column left-aligned, the last left-aligned and
/// unpadded (it is free text), the others right-aligned; two spaces between columns.
fn align(rows: &[Vec<String>]) -> String {
    let n_cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n_cols)
        .map(|i| rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let w = widths[i];
            if i == 0 {
                let _ = write!(line, "{cell:<w$}");
            } else if i + 1 == n_cols {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:>w$}");
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{meta, policy_output, sample_output, zero_output};

    fn line_starting<'a>(table: &'a str, prefix: &str) -> &'a str {
        table
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line `{prefix}` in\n{table}"))
    }

    #[test]
    fn the_header_names_the_run() {
        let t = summary_table(&meta(), &sample_output());
        let first = t.lines().next().unwrap();
        assert!(first.contains("retry-storm (scenarios/retry_storm.ron)"), "{t}");
        assert!(first.contains("seed 42"), "{t}");
        assert!(first.contains("00000000deadbeef"), "{t}");
        assert!(t.contains("simulated 60.000 s of 60.000 s  stop: completed  events 123,456"), "{t}");
        assert!(!t.contains("!!"), "{t}");
    }

    #[test]
    fn client_rows_show_success_rate_percentiles_and_nonzero_failures() {
        let t = summary_table(&meta(), &sample_output());
        let web = line_starting(&t, "web");
        for part in [
            "1,010",
            "1,000",
            "95.00%",
            "10.0ms",
            "20.0ms",
            "100ms",
            "1.00s",
            "timeout 3.00%  queue_full 2.00%",
        ] {
            assert!(web.contains(part), "`{part}` missing from `{web}`");
        }
        assert!(!web.contains("shed"), "{web}");
        let batch = line_starting(&t, "batch");
        assert!(batch.contains("100.00%"), "{batch}");
        assert!(batch.contains("5.00ms"), "{batch}");
        assert!(batch.ends_with('-'), "{batch}");
    }

    /// The lines of the table section whose header row starts with `header`.
    fn section<'a>(table: &'a str, header: &str) -> Vec<&'a str> {
        table
            .split("\n\n")
            .find(|block| block.starts_with(header))
            .unwrap_or_else(|| panic!("no section `{header}` in\n{table}"))
            .lines()
            .collect()
    }

    #[test]
    fn service_rows_show_utilisation_queue_wait_drops_and_refusals() {
        let t = summary_table(&meta(), &sample_output());
        let rows = section(&t, "service  instances");
        // 300 waits of 5 ms over 1490 served; 20 refused because the queue was full.
        for part in ["  2  ", "  8  ", "56.25%", "3.47", "12", "1.01ms", "queue_full 20"] {
            assert!(rows[1].contains(part), "`{part}` missing from `{}`", rows[1]);
        }
        assert!(rows[1].starts_with("api"), "{}", rows[1]);
        assert!(!rows[1].contains("shed"), "zero refusals are left out: {}", rows[1]);
        assert!(rows[2].starts_with("db") && rows[2].contains("25.00%"), "{}", rows[2]);
        assert!(rows[2].ends_with("  -"), "no refusals print `-`: {}", rows[2]);
    }

    #[test]
    fn work_rows_set_goodput_against_throughput_and_useful_against_wasted_work() {
        let t = summary_table(&meta(), &sample_output());
        let rows = section(&t, "service  thru/s");
        assert_eq!(rows[0].split_whitespace().collect::<Vec<_>>().len(), 7, "{}", rows[0]);
        // 1490 completed and 1460 useful in 60 s; 2.7 of 270 busy worker-seconds wasted.
        for part in ["24.83", "24.33", "267.300 s (99.00%)", "2.700 s (1.00%)"] {
            assert!(rows[1].contains(part), "`{part}` missing from `{}`", rows[1]);
        }
        assert!(rows[2].contains("60.000 s (100.00%)"), "{}", rows[2]);
    }

    #[test]
    fn dependency_rows_show_calls_success_waits_latency_and_failures() {
        let t = summary_table(&meta(), &sample_output());
        let rows = section(&t, "dependency");
        assert_eq!(rows.len(), 2, "{rows:?}");
        for part in ["api->db", "1,490", "99.33%", "  0  ", "  12  ", "2.00ms", "timeout 0.67%"] {
            assert!(rows[1].contains(part), "`{part}` missing from `{}`", rows[1]);
        }
    }

    #[test]
    fn fault_windows_are_listed_with_their_times_in_seconds() {
        let t = summary_table(&meta(), &sample_output());
        let rows = section(&t, "fault");
        assert_eq!(rows.len(), 2, "{rows:?}");
        for part in ["db-slow", "db", "20.000 s", "40.000 s", "slow x5"] {
            assert!(rows[1].contains(part), "`{part}` missing from `{}`", rows[1]);
        }
    }

    #[test]
    fn a_run_without_dependencies_or_faults_has_no_such_sections() {
        let t = summary_table(&meta(), &zero_output());
        assert!(!t.contains("dependency"), "{t}");
        assert!(!t.contains("fault"), "{t}");
        assert!(!t.contains("recovery"), "{t}");
    }

    #[test]
    fn degraded_answers_are_successes_shown_apart_not_failures() {
        let t = summary_table(&meta(), &policy_output());
        let web: Vec<&str> = line_starting(&t, "web ").split_whitespace().collect();
        assert_eq!(web[..5], ["web", "1,010", "1,000", "96.00%", "1.00%"]);
        assert!(web.ends_with(&["timeout", "2.00%", "queue_full", "2.00%"]), "{web:?}");
        assert!(!web.contains(&"degraded"), "{web:?}");
        let dep: Vec<&str> = section(&t, "dependency")[1].split_whitespace().collect();
        assert_eq!(dep[..4], ["api->db", "1,490", "99.87%", "0.54%"]);
        assert_eq!(dep[dep.len() - 2..], ["timeout", "0.13%"]);
    }

    #[test]
    fn a_run_without_policies_has_no_policy_section() {
        let t = summary_table(&meta(), &sample_output());
        assert!(!t.contains("\npolicy "), "{t}");
        assert!(!t.contains("amplif"), "{t}");
    }

    #[test]
    fn policy_rows_show_attempts_amplification_denials_and_breakers_per_site() {
        let t = summary_table(&meta(), &policy_output());
        let rows = section(&t, "policy");
        assert_eq!(rows.len(), 3, "web and api->db; batch has no policy: {rows:?}");
        let cells = |r: &str| r.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        // 1,070 attempts for 1,010 requests; 60 retries; 14 short-circuited; 10 fallbacks;
        // 2 opens; open 7 s of 60 breaker-seconds.
        assert_eq!(
            cells(rows[1]),
            ["web", "1,010", "1,070", "1.06x", "60", "0", "14", "0", "10", "2", "11.67%"]
        );
        // 1,530 attempts for 1,490 calls; 20 retries denied; 3 throttled; 8 fallbacks.
        assert_eq!(
            cells(rows[2]),
            ["api->db", "1,490", "1,530", "1.03x", "40", "20", "0", "3", "8", "-", "-"]
        );
    }

    #[test]
    fn recovery_lines_say_how_long_goodput_took_to_come_back_after_each_fault() {
        let t = summary_table(&meta(), &policy_output());
        let rows = section(&t, "recovery");
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert!(rows[1].starts_with("cold-start"), "{}", rows[1]);
        assert!(
            rows[1].ends_with("  -  no baseline: no whole bucket of goodput before it started"),
            "{}",
            rows[1]
        );
        assert!(rows[2].starts_with("db-slow"), "{}", rows[2]);
        assert!(rows[2].ends_with("26.00/s  goodput recovered 5.0 s after db-slow ended"), "{}", rows[2]);
        assert!(
            rows[3].ends_with("21.20/s  did not recover by the end of the run (metastable)"),
            "{}",
            rows[3]
        );
        let sample = summary_table(&meta(), &sample_output());
        assert!(sample.contains("goodput recovered 0.0 s after db-slow ended"), "{sample}");
        let mut endless = policy_output();
        endless.faults[2].end = squall_kernel::SimTime(60 * squall_kernel::time::NS_PER_S);
        let t = summary_table(&meta(), &endless);
        assert!(section(&t, "recovery")[3].ends_with("still active at the end of the run"), "{t}");
    }

    #[test]
    fn requests_in_flight_at_the_end_get_a_conservation_line() {
        let t = summary_table(&meta(), &sample_output());
        assert!(t.contains("in flight at end: 10 (issued 1,510 = ended 1,500 + in flight 10)"), "{t}");
        let mut out = sample_output();
        out.conservation.in_flight = 0;
        out.conservation.ended = 1_510;
        assert!(!summary_table(&meta(), &out).contains("in flight"));
    }

    #[test]
    fn numbers_that_do_not_add_up_are_flagged() {
        let mut out = sample_output();
        out.conservation.ended = 1_400;
        let t = summary_table(&meta(), &out);
        assert!(t.contains("!! CONSERVATION MISMATCH: issued 1,510 != ended 1,400 + in flight 10"), "{t}");
    }

    #[test]
    fn a_run_stopped_by_the_event_limit_says_so_prominently() {
        let mut out = sample_output();
        out.stop = StopReason::EventLimit { limit: 1_000 };
        out.end = squall_kernel::SimTime(12_500_000_000);
        let t = summary_table(&meta(), &out);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[2],
            "!! STOPPED EARLY: event limit of 1000 reached at 12.500 s of 60.000 s; raise limits.max_events to go further"
        );
        assert!(lines[1].contains("stop: event_limit"), "{t}");
    }

    #[test]
    fn an_empty_run_prints_dashes_instead_of_numbers() {
        let t = summary_table(&meta(), &zero_output());
        assert!(!t.contains("NaN"), "{t}");
        assert!(!t.contains("inf"), "{t}");
        let nobody = line_starting(&t, "nobody");
        assert!(nobody.contains(" - "), "{nobody}");
        let idle = line_starting(&t, "idle");
        assert!(idle.contains(" - "), "{idle}");
    }

    #[test]
    fn a_configured_warmup_adds_a_steady_state_section() {
        let mut out = sample_output();
        assert!(!summary_table(&meta(), &out).contains("steady"), "no warm-up, no section");
        out.warmup = Some(Warmup::Fixed(squall_kernel::SimDuration::from_secs(45)));
        let t = summary_table(&meta(), &out);
        assert!(
            t.contains(
                "steady state from 45.000 s (warm-up: fixed 45s, 45 buckets deleted), window 15.000 s"
            ),
            "{t}"
        );
        let rows = section(&t, "steady state from");
        assert!(rows[1].starts_with("steady  ended"), "{}", rows[1]);
        assert!(
            rows[2].starts_with("web") && rows[2].contains("15.67") && rows[2].contains("97.87%"),
            "{}",
            rows[2]
        );
        assert!(rows[2].ends_with("17.8ms"), "{}", rows[2]);
        assert!(rows[4].starts_with("all") && rows[4].contains("285"), "{}", rows[4]);
    }
}
