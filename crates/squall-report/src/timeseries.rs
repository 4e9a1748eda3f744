//! `timeseries.csv`: one wide row per time bucket, for spreadsheets and pandas.
//!
//! Columns: `t_s` (bucket start, s); per client group `client.<name>.issued`, one
//! `client.<name>.<outcome>` per outcome in `Outcome::ALL` order (requests that ended in the
//! bucket), `client.<name>.p50_ms` and `.p99_ms` (successful requests ending in the bucket);
//! per service `service.<name>.arrivals`, `.completed`, `.rejected`, `.busy_mean` (mean busy
//! workers), `.utilisation`, `.queue_mean`, `.queue_max`, then the work accounting: `.useful`
//! (requests served for a caller that still waited: goodput, against `.completed`, the
//! throughput), `.dropped` (waiting requests dropped unserved), `.useful_work_s` and
//! `.wasted_work_s` (worker seconds of the useful and the wasted requests that finished in
//! the bucket). The work columns come after the older ones so that readers by position of
//! those still work.
//!
//! Then, only for call sites whose client policy kept a series (so a scenario without
//! policies keeps its narrow file): per client group `client.<name>.attempts` (attempts sent
//! in the bucket: first tries, retries and hedges), `.amplification` (attempts per request
//! issued in the bucket), `.retries`, `.hedges`, `.retries_denied` (refused by the budget),
//! `.attempts_throttled` (refused by adaptive throttling; named apart from the outcome column
//! `.throttled`, which counts requests), `.attempts_short_circuited` (refused by a breaker),
//! `.breakers_open` and `.breakers_half_open` (mean breakers in that state over the bucket);
//! then per dependency `dependency.<caller>-><callee>.calls` (logical calls made in the
//! bucket) and the same columns. A dependency whose calls per bucket are unknown has empty
//! `calls` and `amplification` cells.
//!
//! Counts are integers and every float has exactly six decimals. An empty cell means
//! undefined: no successes in the bucket (latency), or a bucket that covers no time (means).
//! Rows follow [`crate::series`]: the last bucket may be partial and its means are over the
//! span it covers.
//!
//! Versions and flows go to files of their own, [`fleet_csv`] and [`flows_csv`], written only
//! for runs that have them.

use crate::format::{csv_field, fixed};
use crate::series::{policy_sites, spans, ClientPoint, PolicyPoint, ServicePoint, SiteKind};
use crate::stats::ns_to_s;
use squall_model::{Outcome, RunOutput};

mod fleet;

pub use fleet::{fleet_csv, flows_csv};

/// Service columns after `service.<name>.`, in order.
const SERVICE_COLUMNS: [&str; 11] = [
    "arrivals",
    "completed",
    "rejected",
    "busy_mean",
    "utilisation",
    "queue_mean",
    "queue_max",
    "useful",
    "dropped",
    "useful_work_s",
    "wasted_work_s",
];

/// Policy columns after `client.<name>.` or `dependency.<caller>-><callee>.calls`, in order.
const POLICY_COLUMNS: [&str; 9] = [
    "attempts",
    "amplification",
    "retries",
    "hedges",
    "retries_denied",
    "attempts_throttled",
    "attempts_short_circuited",
    "breakers_open",
    "breakers_half_open",
];

/// The run's time series as CSV: a header row, then one row per bucket (see the module docs).
pub fn timeseries_csv(out: &RunOutput) -> String {
    let mut header = vec!["t_s".to_string()];
    for c in &out.clients {
        header.push(format!("client.{}.issued", c.name));
        header.extend(Outcome::ALL.iter().map(|o| format!("client.{}.{}", c.name, o.name())));
        header.push(format!("client.{}.p50_ms", c.name));
        header.push(format!("client.{}.p99_ms", c.name));
    }
    for s in &out.services {
        header.extend(SERVICE_COLUMNS.iter().map(|col| format!("service.{}.{col}", s.name)));
    }
    let sites = policy_sites(out);
    for site in &sites {
        let prefix = site.column_prefix();
        if site.kind == SiteKind::Dependency {
            header.push(format!("{prefix}.calls"));
        }
        header.extend(POLICY_COLUMNS.iter().map(|col| format!("{prefix}.{col}")));
    }
    let n_cols = header.len();

    let mut csv = String::new();
    push_row(&mut csv, header.iter().map(|h| csv_field(h)).collect(), n_cols);
    let cell = |v: Option<f64>| v.map(fixed).unwrap_or_default();
    for span in spans(out) {
        let mut row = vec![fixed(span.start_s())];
        for c in &out.clients {
            let p = ClientPoint::at(c, &span);
            row.push(p.issued().to_string());
            row.extend(Outcome::ALL.iter().map(|o| p.count(*o).to_string()));
            row.push(cell(p.latency_ok_ms(0.5)));
            row.push(cell(p.latency_ok_ms(0.99)));
        }
        for s in &out.services {
            let p = ServicePoint::at(s, &span);
            let b = p.bucket();
            row.push(b.arrivals.to_string());
            row.push(b.completed.to_string());
            row.push(b.rejected.to_string());
            row.push(cell(p.busy_mean()));
            row.push(cell(p.utilisation()));
            row.push(cell(p.queue_mean()));
            row.push(b.queue_max.to_string());
            row.push(b.useful.to_string());
            row.push(b.dropped.to_string());
            row.push(fixed(ns_to_s(b.useful_work_ns)));
            row.push(fixed(ns_to_s(b.wasted_work_ns)));
        }
        for site in &sites {
            let p = PolicyPoint::at(site, &span);
            let b = p.bucket();
            if site.kind == SiteKind::Dependency {
                row.push(p.logical().map(|n| n.to_string()).unwrap_or_default());
            }
            row.push(b.attempts.to_string());
            row.push(cell(p.amplification()));
            row.push(b.retries.to_string());
            row.push(b.hedges.to_string());
            row.push(b.retries_denied.to_string());
            row.push(b.throttled.to_string());
            row.push(b.short_circuited.to_string());
            row.push(cell(p.breakers_open()));
            row.push(cell(p.breakers_half_open()));
        }
        push_row(&mut csv, row, n_cols);
    }
    csv
}

pub(crate) fn push_row(csv: &mut String, row: Vec<String>, n_cols: usize) {
    assert_eq!(row.len(), n_cols, "a CSV row has {} cells, the header {n_cols}", row.len());
    csv.push_str(&row.join(","));
    csv.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{policy_output, sample_output, zero_output};

    /// Splits the CSV (whose sample names need no quoting) into cells.
    fn cells(csv: &str) -> Vec<Vec<&str>> {
        csv.lines().map(|l| l.split(',').collect()).collect()
    }

    fn column(rows: &[Vec<&str>], name: &str) -> usize {
        rows[0].iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}: {:?}", rows[0]))
    }

    #[test]
    fn there_is_a_header_and_one_row_per_bucket_all_of_the_same_width() {
        let csv = timeseries_csv(&sample_output());
        let rows = cells(&csv);
        assert_eq!(rows.len(), 1 + 60);
        // t_s, then 2 clients x (issued + 15 outcomes + 2 percentiles), then 2 services x 11.
        assert_eq!(rows[0].len(), 1 + 2 * 18 + 2 * 11);
        assert!(rows.iter().all(|r| r.len() == rows[0].len()));
        assert_eq!(rows[0][0], "t_s");
        assert_eq!(rows[0][1], "client.web.issued");
        assert_eq!(rows[0][2], "client.web.ok");
        assert_eq!(rows[0][16], "client.web.cancelled");
        assert_eq!(rows[0][17], "client.web.p50_ms");
        assert_eq!(rows[0].last().copied(), Some("service.db.wasted_work_s"));
        assert_eq!(rows[1][0], "0.000000");
        assert_eq!(rows[60][0], "59.000000");
    }

    #[test]
    fn cells_hold_the_bucket_counts_and_means() {
        let csv = timeseries_csv(&sample_output());
        let rows = cells(&csv);
        // Second 25 is inside the incident (row 26: the header is row 0).
        let r = &rows[26];
        assert_eq!(r[column(&rows, "client.web.issued")], "17");
        assert_eq!(r[column(&rows, "client.web.timeout")], "1");
        assert_eq!(r[column(&rows, "client.web.queue_full")], "1");
        assert_eq!(r[column(&rows, "service.api.busy_mean")], "7.500000");
        assert_eq!(r[column(&rows, "service.api.utilisation")], "0.937500");
        assert_eq!(r[column(&rows, "service.api.queue_mean")], "10.000000");
        assert_eq!(r[column(&rows, "service.api.queue_max")], "12");
        let p50: f64 = r[column(&rows, "client.web.p50_ms")].parse().unwrap();
        assert!((p50 - 80.0).abs() < 0.01 * 80.0, "{p50}");
        assert_eq!(rows[1][column(&rows, "service.db.utilisation")], "0.250000");
    }

    #[test]
    fn service_buckets_split_goodput_from_throughput_and_useful_from_wasted_work() {
        let csv = timeseries_csv(&sample_output());
        let rows = cells(&csv);
        let header: Vec<&str> = rows[0].iter().copied().filter(|h| h.starts_with("service.api.")).collect();
        assert_eq!(
            &header[7..],
            [
                "service.api.useful",
                "service.api.dropped",
                "service.api.useful_work_s",
                "service.api.wasted_work_s"
            ]
        );
        // Second 25: 27 arrivals, 1 refused, 26 completed, of which one was wasted (90 ms).
        let r = &rows[26];
        assert_eq!(r[column(&rows, "service.api.completed")], "26");
        assert_eq!(r[column(&rows, "service.api.useful")], "25");
        assert_eq!(r[column(&rows, "service.api.dropped")], "0");
        assert_eq!(r[column(&rows, "service.api.useful_work_s")], "7.410000");
        assert_eq!(r[column(&rows, "service.api.wasted_work_s")], "0.090000");
        // Before the incident nothing is wasted.
        assert_eq!(rows[1][column(&rows, "service.api.wasted_work_s")], "0.000000");
        assert_eq!(rows[1][column(&rows, "service.api.useful_work_s")], "3.000000");
    }

    #[test]
    fn buckets_without_successes_have_empty_latency_cells() {
        let csv = timeseries_csv(&sample_output());
        let rows = cells(&csv);
        assert_eq!(rows[55][column(&rows, "client.batch.p50_ms")], "");
        assert_eq!(rows[55][column(&rows, "client.batch.p99_ms")], "");
        assert_ne!(rows[5][column(&rows, "client.batch.p99_ms")], "");
    }

    #[test]
    fn a_partial_last_bucket_is_averaged_over_the_time_it_covers() {
        let mut out = sample_output();
        out.end = squall_kernel::SimTime(59_500_000_000);
        let csv = timeseries_csv(&out);
        let rows = cells(&csv);
        assert_eq!(rows.len(), 61);
        // 3e9 busy worker-ns over half a second: 6 busy workers.
        assert_eq!(rows[60][column(&rows, "service.api.busy_mean")], "6.000000");
    }

    #[test]
    fn names_with_commas_or_quotes_are_quoted_in_the_header() {
        let mut out = sample_output();
        out.clients[0].name = "web, \"eu\"".to_string();
        let csv = timeseries_csv(&out);
        assert!(csv.starts_with("t_s,\"client.web, \"\"eu\"\".issued\","), "{}", &csv[..80]);
    }

    #[test]
    fn an_empty_run_has_only_the_header() {
        let csv = timeseries_csv(&zero_output());
        assert_eq!(csv.lines().count(), 1);
        assert!(!csv.contains("NaN"));
    }

    #[test]
    fn sites_with_a_policy_series_get_policy_columns_after_the_services() {
        let plain = timeseries_csv(&sample_output());
        assert!(!plain.lines().next().unwrap().contains("attempts"), "no policy, no policy columns");
        let csv = timeseries_csv(&policy_output());
        let rows = cells(&csv);
        let old = cells(&plain)[0].len();
        assert_eq!(rows[0][old - 1], "service.db.wasted_work_s", "the older columns keep their places");
        let web: Vec<String> = POLICY_COLUMNS.iter().map(|c| format!("client.web.{c}")).collect();
        assert_eq!(rows[0][old..old + 9], web);
        assert_eq!(rows[0][old + 9], "dependency.api->db.calls");
        assert_eq!(rows[0][old + 10], "dependency.api->db.attempts");
        assert_eq!(rows[0].last().copied(), Some("dependency.api->db.breakers_half_open"));
        assert_eq!(rows[0].len(), old + 9 + 10, "batch has no policy series");
        assert!(rows.iter().all(|r| r.len() == rows[0].len()));
    }

    #[test]
    fn policy_cells_hold_attempts_amplification_and_breaker_state() {
        let rows_text = timeseries_csv(&policy_output());
        let rows = cells(&rows_text);
        let at = |second: usize, name: &str| rows[second + 1][column(&rows, name)];
        // Second 25: web issued 17, sent 20 attempts (3 retries), its breaker was open from
        // 25.5 s, and it short-circuited 1 attempt.
        assert_eq!(at(25, "client.web.attempts"), "20");
        assert_eq!(at(25, "client.web.amplification"), "1.176471");
        assert_eq!(at(25, "client.web.retries"), "3");
        assert_eq!(at(25, "client.web.attempts_short_circuited"), "1");
        assert_eq!(at(25, "client.web.breakers_open"), "0.500000");
        assert_eq!(at(30, "client.web.breakers_half_open"), "0.500000");
        assert_eq!(at(33, "client.web.breakers_half_open"), "1.000000");
        assert_eq!(at(5, "client.web.amplification"), "1.000000");
        // Second 35: api made 26 calls and 28 attempts; one retry was denied, 3 throttled.
        assert_eq!(at(35, "dependency.api->db.calls"), "26");
        assert_eq!(at(35, "dependency.api->db.attempts"), "28");
        assert_eq!(at(35, "dependency.api->db.amplification"), "1.076923");
        assert_eq!(at(35, "dependency.api->db.retries_denied"), "1");
        assert_eq!(at(35, "dependency.api->db.attempts_throttled"), "3");
        assert_eq!(at(35, "client.web.throttled"), "0", "the outcome column is still there");
        // Unknown calls per bucket leave the cells empty.
        let mut out = policy_output();
        out.dependencies[0].calls_series.clear();
        let csv = timeseries_csv(&out);
        let rows = cells(&csv);
        assert_eq!(rows[36][column(&rows, "dependency.api->db.calls")], "");
        assert_eq!(rows[36][column(&rows, "dependency.api->db.amplification")], "");
        assert_eq!(rows[36][column(&rows, "dependency.api->db.attempts")], "28");
    }
}
