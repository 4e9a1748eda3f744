//! `comparison.csv`: the main numbers in one long table, one row per variant and client group,
//! per variant and service, per variant and dependency, per variant as a whole and per variant
//! and fault window, for spreadsheets and pandas.
//!
//! Columns: `variant`, `kind` (`client`, `service`, `dependency`, `total` or `fault`), `name`
//! (a dependency is named `caller->callee`); then the client columns, which a dependency row
//! fills with its logical calls (`issued`), their outcomes and latency:
//! `issued`, `ended`, `success_rate`, `p50_ms`, `p99_ms`, `p999_ms` (successful requests);
//! `goodput_per_s` for both kinds (a client's successes, ok or degraded; a service's useful requests; per
//! second); the service columns `arrivals`, `completed`, `useful`, `rejected`, `dropped`,
//! `throughput_per_s`, `utilisation`, `useful_work_s`, `wasted_work_s`, `wasted_share`; and
//! one `outcome.<name>` per outcome in `Outcome::ALL` order: for a client the requests that
//! ended with it, for a service the requests it refused with it. Then the policy columns,
//! last so that readers by position of the older ones still work: `amplification` (attempts
//! per request), `retries_denied`, `breaker_opens` and `degraded` (requests answered by a
//! fallback) for a client or a dependency, and for the `total` row (named `all`): the amplification of all
//! client groups together, denials and opens at every call site (dependencies included),
//! and the degraded requests of all client groups; then, for a `fault` row (named after the
//! window), `baseline_per_s` (goodput before it), `recovered_at_s`, `time_to_recover_s` and
//! `recovery` (`recovered`, `never` or `no_baseline`, as in `summary.json`).
//!
//! When some variant has flows, versions or deploys, more columns follow: `flow_started`,
//! `flow_completed`, `flow_failed`, `flow_in_flight`, `answers`, `errors`, `deploy_result`,
//! `deploy_started_s`, `deploy_ended_s` and `deploy_duration_s`; and more rows after each
//! variant's faults: a `flow` row per client group with a flow (its `success_rate` is of
//! ended flows), a `version` row per version of a service that reports its fleet (named
//! `service/version`: the requests its instances answered, `answers` and `errors`, by
//! outcome in the `outcome.*` columns, the blast radius of a bad version), and a `deploy`
//! row per deploy (its result, as in `summary.json`, its start and end from its first and
//! last events, and the time between, such as the time to roll back).
//!
//! Every row is built by column name: a figure goes in the column of its name in the metric
//! catalogue (`docs/metrics.md`), of the row's scope (client, service, dependency, the run for
//! `total`, flow, fault), so no row is padded to line up by position.
//!
//! An empty cell is a column that does not apply to the row's kind, or an undefined value
//! (as in `timeseries.csv`). Rows come in variant order; within a variant clients, services,
//! dependencies, the total, then faults, each in its run's order. Counts are integers and every float has
//! six decimals.

use super::{check_runs, CompareMeta};
use crate::format::{csv_field, fixed};
use crate::json::recovery_status;
use squall_model::analysis::recovery;
use squall_model::metrics::{metric, Clients, Ctx, Scope, Unit};
use squall_model::{Outcome, OutcomeCounts, RunOutput};

mod fleet;

/// The columns before the outcomes, in order.
const COLUMNS: [&str; 20] = [
    "variant",
    "kind",
    "name",
    "issued",
    "ended",
    "success_rate",
    "p50_ms",
    "p99_ms",
    "p999_ms",
    "goodput_per_s",
    "arrivals",
    "completed",
    "useful",
    "rejected",
    "dropped",
    "throughput_per_s",
    "utilisation",
    "useful_work_s",
    "wasted_work_s",
    "wasted_share",
];

/// The columns after the outcomes, in order.
const POLICY_COLUMNS: [&str; 8] = [
    "amplification",
    "retries_denied",
    "breaker_opens",
    "degraded",
    "baseline_per_s",
    "recovered_at_s",
    "time_to_recover_s",
    "recovery",
];

/// The comparison as CSV: a header row, then one row per variant and client group and one
/// per variant and service (see the module docs). Every row is built by column name, each
/// figure read from the metric catalogue under the column's name.
///
/// # Panics
/// If `meta.overrides` does not have one entry per run, or two runs share a name.
pub fn comparison_csv(meta: &CompareMeta, runs: &[(String, RunOutput)]) -> String {
    check_runs(meta, runs);
    let mut header: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(Outcome::ALL.iter().map(|o| format!("outcome.{}", o.name())));
    header.extend(POLICY_COLUMNS.iter().map(|c| c.to_string()));
    if runs.iter().any(|(_, out)| fleet::has_fleet_rows(out)) {
        header.extend(fleet::FLEET_COLUMNS.iter().map(|c| c.to_string()));
    }
    let mut csv = String::new();
    push_row(&mut csv, &header);
    for (variant, out) in runs {
        let elapsed_ns = out.end.as_nanos();
        for c in &out.clients {
            let group = Clients::one(out, c);
            let mut r = RowBuilder::new(&header, variant, "client", c.name.clone());
            r.metrics(Scope::Client, &CLIENT_CELLS, Ctx::Clients(&group)).outcomes(&c.outcomes);
            push_row(&mut csv, &r.cells);
        }
        for s in &out.services {
            let mut r = RowBuilder::new(&header, variant, "service", s.name.clone());
            r.metrics(Scope::Service, &SERVICE_CELLS, Ctx::Service(s, elapsed_ns)).outcomes(&s.refusals);
            push_row(&mut csv, &r.cells);
        }
        for d in &out.dependencies {
            let name = format!("{}->{}", d.caller, d.callee);
            let mut r = RowBuilder::new(&header, variant, "dependency", name);
            r.metrics(Scope::Dependency, &DEPENDENCY_CELLS, Ctx::Dependency(d)).outcomes(&d.outcomes);
            push_row(&mut csv, &r.cells);
        }
        let all = Clients::all(out);
        let mut r = RowBuilder::new(&header, variant, "total", "all".to_string());
        r.metrics(Scope::Run, &TOTAL_CELLS, Ctx::Clients(&all));
        push_row(&mut csv, &r.cells);
        for rec in recovery(out) {
            let mut r = RowBuilder::new(&header, variant, "fault", rec.fault.clone());
            r.metrics(Scope::Fault, &FAULT_CELLS, Ctx::Fault(&rec)).set("recovery", recovery_status(&rec));
            push_row(&mut csv, &r.cells);
        }
        for row in fleet::fleet_rows(&header, variant, out) {
            push_row(&mut csv, &row);
        }
    }
    csv
}

/// The catalogue metrics a client row fills, each in the column of its name.
const CLIENT_CELLS: [&str; 11] = [
    "issued",
    "ended",
    "success_rate",
    "p50_ms",
    "p99_ms",
    "p999_ms",
    "goodput_per_s",
    "amplification",
    "retries_denied",
    "breaker_opens",
    "degraded",
];

/// The catalogue metrics a service row fills.
const SERVICE_CELLS: [&str; 11] = [
    "goodput_per_s",
    "arrivals",
    "completed",
    "useful",
    "rejected",
    "dropped",
    "throughput_per_s",
    "utilisation",
    "useful_work_s",
    "wasted_work_s",
    "wasted_share",
];

/// The catalogue metrics a dependency row fills (`issued` is its calls).
const DEPENDENCY_CELLS: [&str; 10] = [
    "issued",
    "ended",
    "success_rate",
    "p50_ms",
    "p99_ms",
    "p999_ms",
    "amplification",
    "retries_denied",
    "breaker_opens",
    "degraded",
];

/// The catalogue metrics of the whole run the `total` row fills.
const TOTAL_CELLS: [&str; 4] = ["amplification", "retries_denied", "breaker_opens", "degraded"];

/// The catalogue metrics a fault row fills.
const FAULT_CELLS: [&str; 3] = ["baseline_per_s", "recovered_at_s", "time_to_recover_s"];

/// A row of `header`'s width, filled by column name; the cells of other kinds stay empty.
pub(super) struct RowBuilder<'a> {
    header: &'a [String],
    pub(super) cells: Vec<String>,
}

impl<'a> RowBuilder<'a> {
    pub(super) fn new(header: &'a [String], variant: &str, kind: &str, name: String) -> RowBuilder<'a> {
        let mut b = RowBuilder { header, cells: vec![String::new(); header.len()] };
        b.set("variant", variant).set("kind", kind).set("name", &name);
        b
    }

    /// Puts `value` in `column`.
    ///
    /// # Panics
    /// If the header has no such column (a bug: columns are fixed in code).
    pub(super) fn set(&mut self, column: &str, value: &str) -> &mut Self {
        let i = self.header.iter().position(|h| h == column).unwrap_or_else(|| panic!("no column {column}"));
        self.cells[i] = value.to_string();
        self
    }

    /// Puts each catalogue metric `names` of `scope`, measured on `ctx`, in the column of its
    /// name: a count as an integer, anything else at six decimals, empty when undefined.
    pub(super) fn metrics(&mut self, scope: Scope, names: &[&str], ctx: Ctx<'_>) -> &mut Self {
        for name in names {
            let m = metric(scope, name);
            let v = m.of(ctx);
            let text = match m.unit {
                Unit::Count | Unit::Flag => v.map(|n| (n as u64).to_string()),
                _ => v.map(fixed),
            };
            self.set(name, &text.unwrap_or_default());
        }
        self
    }

    /// Puts each outcome's count of `counts` in its `outcome.<name>` column.
    pub(super) fn outcomes(&mut self, counts: &OutcomeCounts) -> &mut Self {
        for o in Outcome::ALL {
            self.set(&format!("outcome.{}", o.name()), &counts.get(o).to_string());
        }
        self
    }
}

/// Writes `row`, which has one cell per column of the header.
fn push_row(csv: &mut String, row: &[String]) {
    let cells: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
    csv.push_str(&cells.join(","));
    csv.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{compare_meta, policy_variants, variants};

    fn rows(csv: &str) -> Vec<Vec<&str>> {
        csv.lines().map(|l| l.split(',').collect()).collect()
    }

    fn cell<'a>(rows: &[Vec<&'a str>], variant: &str, name: &str, column: &str) -> &'a str {
        let i = rows[0].iter().position(|h| *h == column).unwrap_or_else(|| panic!("no column {column}"));
        let r = rows
            .iter()
            .find(|r| r[0] == variant && r[2] == name)
            .unwrap_or_else(|| panic!("no row {variant} {name}"));
        r[i]
    }

    #[test]
    fn the_header_lists_the_main_metrics_then_every_outcome() {
        let csv = comparison_csv(&compare_meta(), &variants());
        let header = csv.lines().next().unwrap();
        assert!(
            header.starts_with(
                "variant,kind,name,issued,ended,success_rate,p50_ms,p99_ms,p999_ms,goodput_per_s,arrivals,"
            ),
            "{header}"
        );
        assert!(
            header.ends_with(
                ",outcome.connection_reset,outcome.cancelled,amplification,retries_denied,breaker_opens,\
                 degraded,baseline_per_s,recovered_at_s,time_to_recover_s,recovery"
            ),
            "{header}"
        );
        assert_eq!(header.split(',').count(), COLUMNS.len() + Outcome::COUNT + POLICY_COLUMNS.len());
    }

    #[test]
    fn there_is_one_row_per_variant_and_client_service_dependency_total_or_fault_in_order() {
        let csv = comparison_csv(&compare_meta(), &variants());
        let r = rows(&csv);
        let keys: Vec<(&str, &str, &str)> = r[1..].iter().map(|r| (r[0], r[1], r[2])).collect();
        assert_eq!(
            keys,
            [
                ("baseline", "client", "web"),
                ("baseline", "client", "batch"),
                ("baseline", "service", "api"),
                ("baseline", "service", "db"),
                ("baseline", "dependency", "api->db"),
                ("baseline", "total", "all"),
                ("baseline", "fault", "db-slow"),
                ("db-x2", "client", "web"),
                ("db-x2", "client", "batch"),
                ("db-x2", "service", "api"),
                ("db-x2", "service", "db"),
                ("db-x2", "dependency", "api->db"),
                ("db-x2", "total", "all"),
                ("db-x2", "fault", "db-slow"),
            ]
        );
        assert!(r.iter().all(|row| row.len() == r[0].len()));
    }

    #[test]
    fn cells_hold_each_kinds_numbers_and_leave_the_others_empty() {
        let csv = comparison_csv(&compare_meta(), &variants());
        let r = rows(&csv);
        assert_eq!(cell(&r, "baseline", "web", "success_rate"), "0.950000");
        assert_eq!(cell(&r, "db-x2", "web", "success_rate"), "0.990000");
        assert_eq!(cell(&r, "baseline", "web", "outcome.queue_full"), "20");
        assert_eq!(cell(&r, "baseline", "web", "goodput_per_s"), "15.833333");
        assert_eq!(cell(&r, "baseline", "web", "utilisation"), "");
        assert_eq!(cell(&r, "baseline", "api", "success_rate"), "");
        assert_eq!(cell(&r, "baseline", "api", "goodput_per_s"), "24.333333");
        assert_eq!(cell(&r, "baseline", "api", "outcome.queue_full"), "20", "a service's refusals");
        assert_eq!(cell(&r, "db-x2", "api", "outcome.queue_full"), "0");
        assert_eq!(cell(&r, "baseline", "api", "wasted_work_s"), "2.700000");
        assert_eq!(cell(&r, "baseline", "api", "wasted_share"), "0.010000");
    }

    #[test]
    fn variant_names_with_commas_are_quoted() {
        let mut runs = variants();
        runs[1].0 = "a,b".to_string();
        let csv = comparison_csv(&compare_meta(), &runs);
        assert!(csv.lines().last().unwrap().starts_with("\"a,b\",fault,db-slow,"), "{csv}");
    }

    #[test]
    fn policy_and_recovery_columns_hold_each_variants_figures() {
        let csv = comparison_csv(&compare_meta(), &policy_variants());
        let r = rows(&csv);
        assert!(r.iter().all(|row| row.len() == r[0].len()));
        // web: 1,070 attempts for 1,010 requests, 2 breaker opens, 10 degraded.
        assert_eq!(cell(&r, "retries", "web", "amplification"), "1.059406");
        assert_eq!(cell(&r, "retries", "web", "breaker_opens"), "2");
        assert_eq!(cell(&r, "retries", "web", "degraded"), "10");
        assert_eq!(cell(&r, "retries", "web", "recovery"), "");
        assert_eq!(cell(&r, "baseline", "web", "amplification"), "1.000000");
        assert_eq!(cell(&r, "retries", "api", "amplification"), "", "not for a service");
        // api->db: 1,530 attempts for 1,490 calls, 20 retries denied, 8 fallbacks.
        assert_eq!(cell(&r, "retries", "api->db", "issued"), "1490");
        assert_eq!(cell(&r, "retries", "api->db", "amplification"), "1.026846");
        assert_eq!(cell(&r, "retries", "api->db", "retries_denied"), "20");
        assert_eq!(cell(&r, "retries", "api->db", "utilisation"), "");
        // The run as a whole: 1,570 attempts for 1,510 requests; api's 20 denied retries.
        assert_eq!(cell(&r, "retries", "all", "amplification"), "1.039735");
        assert_eq!(cell(&r, "retries", "all", "retries_denied"), "20");
        assert_eq!(cell(&r, "retries", "all", "breaker_opens"), "2");
        assert_eq!(cell(&r, "retries", "all", "degraded"), "10");
        assert_eq!(cell(&r, "retries", "all", "issued"), "");
        // One row per fault window.
        assert_eq!(cell(&r, "retries", "db-slow", "baseline_per_s"), "26.000000");
        assert_eq!(cell(&r, "retries", "db-slow", "recovered_at_s"), "45.000000");
        assert_eq!(cell(&r, "retries", "db-slow", "time_to_recover_s"), "5.000000");
        assert_eq!(cell(&r, "retries", "db-slow", "recovery"), "recovered");
        assert_eq!(cell(&r, "retries", "api-leak", "baseline_per_s"), "21.200000");
        assert_eq!(cell(&r, "retries", "api-leak", "time_to_recover_s"), "");
        assert_eq!(cell(&r, "retries", "api-leak", "recovery"), "never");
        assert_eq!(cell(&r, "retries", "cold-start", "baseline_per_s"), "");
        assert_eq!(cell(&r, "retries", "cold-start", "recovery"), "no_baseline");
        assert_eq!(cell(&r, "baseline", "db-slow", "time_to_recover_s"), "0.000000");
    }

    #[test]
    fn flows_versions_and_deploys_add_columns_and_rows_when_a_variant_has_them() {
        let csv = comparison_csv(&compare_meta(), &crate::sample::fleet_variants());
        let r = rows(&csv);
        assert!(r.iter().all(|row| row.len() == r[0].len()));
        assert_eq!(r[0].last(), Some(&"deploy_duration_s"));
        let keys: Vec<(&str, &str, &str)> =
            r.iter().filter(|x| x[0] == "canary").map(|x| (x[0], x[1], x[2])).skip(6).collect();
        assert_eq!(
            keys,
            [
                ("canary", "fault", "db-slow"),
                ("canary", "flow", "web"),
                ("canary", "version", "api/v1"),
                ("canary", "version", "api/v2"),
                ("canary", "deploy", "api-v2"),
            ]
        );
        let flow = r.iter().find(|x| x[0] == "canary" && x[1] == "flow").unwrap();
        let at = |column: &str| r[0].iter().position(|h| *h == column).unwrap();
        assert_eq!(flow[at("flow_started")], "210");
        assert_eq!(flow[at("flow_in_flight")], "10");
        assert_eq!(flow[at("success_rate")], "0.950000");
        assert_eq!(cell(&r, "canary", "web", "flow_started"), "", "the client row has no flow cells");
        assert_eq!(cell(&r, "canary", "api/v2", "answers"), "400");
        assert_eq!(cell(&r, "canary", "api/v2", "errors"), "40");
        assert_eq!(cell(&r, "canary", "api/v2", "outcome.server_error"), "40");
        assert_eq!(cell(&r, "canary", "api/v2", "success_rate"), "0.900000");
        assert_eq!(cell(&r, "canary", "api-v2", "deploy_result"), "rolled_back");
        assert_eq!(cell(&r, "canary", "api-v2", "deploy_duration_s"), "15.000000");
        assert_eq!(cell(&r, "baseline", "web", "flow_started"), "");
    }
}
