//! The compact text table printed at the end of a run: plain ASCII, no colours, aligned
//! columns, so it reads the same in a terminal, a log file and a CI transcript.

use crate::format::{decimal, human_ms, percent, thousands};
use crate::stats::{stop_detail, stop_kind, RunStats};
use crate::ReportMeta;
use squall_model::{Outcome, RunOutput, StopReason};
use std::fmt::Write as _;

/// Compact text table for the terminal (no colours; fixed-width columns).
///
/// A header names the run; a run that stopped before its configured duration says so on a
/// line starting with `!!`. Then one row per client group (percentages are of ended
/// requests; latency percentiles are of successful ones) and one per service. A line with
/// the conservation numbers follows when requests were still in flight at the end, or when
/// the numbers do not add up. Undefined values print as `-`.
pub fn summary_table(meta: &ReportMeta, out: &RunOutput) -> String {
    let stats = RunStats::of(out);
    let mut s = String::new();
    // Writing into a String cannot fail, so the fmt::Results below are discarded.
    let _ = writeln!(
        s,
        "squall  {} ({})  seed {}  scenario hash {:016x}",
        meta.scenario, meta.file, meta.seed, meta.scenario_hash
    );
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

    let mut clients =
        vec![row(&["client", "issued", "ended", "success", "p50", "p90", "p99", "p99.9", "failures"])];
    for c in &stats.clients {
        let failures: Vec<String> = Outcome::ALL
            .iter()
            .filter(|o| **o != Outcome::Ok && c.out.outcomes.get(**o) > 0)
            .map(|o| format!("{} {}", o.name(), percent(c.share(*o))))
            .collect();
        let l = &c.latency_ok;
        clients.push(vec![
            c.out.name.clone(),
            thousands(c.out.issued),
            thousands(c.ended),
            percent(c.success_rate),
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
        "thru/s",
        "wait mean",
        "wasted",
    ])];
    for v in &stats.services {
        services.push(vec![
            v.out.name.clone(),
            thousands(u64::from(v.out.instances)),
            thousands(u64::from(v.out.workers)),
            percent(v.utilisation),
            decimal(v.queue_mean, 2),
            thousands(v.out.queue_max),
            decimal(v.throughput_per_s, 2),
            human_ms(v.wait_mean_ms),
            percent(v.wasted_share),
        ]);
    }
    s.push('\n');
    s.push_str(&align(&services));

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
    use crate::sample::{meta, sample_output, zero_output};

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

    #[test]
    fn service_rows_show_utilisation_queue_throughput_wait_and_waste() {
        let t = summary_table(&meta(), &sample_output());
        let api = line_starting(&t, "api");
        // 1490 completed in 60 s; 300 waits of 5 ms over 1490 served; 2.7 of 270 busy s wasted.
        for part in ["  2  ", "  8  ", "56.25%", "3.47", "12", "24.83", "1.01ms", "1.00%"] {
            assert!(api.contains(part), "`{part}` missing from `{api}`");
        }
        let db = line_starting(&t, "db");
        assert!(db.contains("25.00%"), "{db}");
        assert!(db.contains("0.00%"), "{db}");
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
}
