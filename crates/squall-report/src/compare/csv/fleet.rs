//! The rows of `comparison.csv` on flows, versions and deploys, and the columns they add, for
//! comparisons where some variant has them.

use crate::fleet::{deploy_stats, fleet_stats, flow_stats};
use crate::format::fixed;
use squall_model::{Outcome, OutcomeCounts, RunOutput};

/// The columns after the policy columns, when some variant has flows, versions or deploys.
pub(super) const FLEET_COLUMNS: [&str; 10] = [
    "flow_started",
    "flow_completed",
    "flow_failed",
    "flow_in_flight",
    "answers",
    "errors",
    "deploy_result",
    "deploy_started_s",
    "deploy_ended_s",
    "deploy_duration_s",
];

/// Whether the run has anything for the fleet columns.
pub(super) fn has_fleet_rows(out: &RunOutput) -> bool {
    !fleet_stats(out).is_empty() || !flow_stats(out).is_empty() || !out.deploys.is_empty()
}

/// A row of `header`'s width, filled by column name.
struct RowBuilder<'a> {
    header: &'a [String],
    cells: Vec<String>,
}

impl<'a> RowBuilder<'a> {
    fn new(header: &'a [String], variant: &str, kind: &str, name: String) -> RowBuilder<'a> {
        let mut b = RowBuilder { header, cells: vec![String::new(); header.len()] };
        b.set("variant", variant.to_string()).set("kind", kind.to_string()).set("name", name);
        b
    }

    fn set(&mut self, column: &str, value: String) -> &mut Self {
        let i = self.header.iter().position(|h| h == column).expect("a column of the header");
        self.cells[i] = value;
        self
    }

    fn outcomes(&mut self, counts: &OutcomeCounts) -> &mut Self {
        for o in Outcome::ALL {
            self.set(&format!("outcome.{}", o.name()), counts.get(o).to_string());
        }
        self
    }
}

/// `value` at six decimals, or empty when undefined.
fn num(v: Option<f64>) -> String {
    v.map(fixed).unwrap_or_default()
}

/// A variant's rows: per flow, per version of a reported fleet (named `service/version`),
/// per deploy.
pub(super) fn fleet_rows(header: &[String], variant: &str, out: &RunOutput) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for f in flow_stats(out) {
        let mut r = RowBuilder::new(header, variant, "flow", f.client.to_string());
        r.set("success_rate", num(f.success_rate))
            .set("flow_started", f.out.started.to_string())
            .set("flow_completed", f.out.completed.to_string())
            .set("flow_failed", f.out.failed.to_string())
            .set("flow_in_flight", f.in_flight.to_string());
        rows.push(r.cells);
    }
    for fleet in fleet_stats(out) {
        for v in &fleet.versions {
            let mut r =
                RowBuilder::new(header, variant, "version", format!("{}/{}", fleet.service, v.out.name));
            r.set("success_rate", num(v.error_rate.map(|e| 1.0 - e)))
                .outcomes(&v.out.answers)
                .set("answers", v.answered.to_string())
                .set("errors", v.errors().to_string());
            rows.push(r.cells);
        }
    }
    for d in deploy_stats(out) {
        let mut r = RowBuilder::new(header, variant, "deploy", d.out.name.clone());
        r.set("deploy_result", d.out.result.name().to_string())
            .set("deploy_started_s", num(d.started_s))
            .set("deploy_ended_s", num(d.ended_s))
            .set("deploy_duration_s", num(d.duration_s()));
        rows.push(r.cells);
    }
    rows
}
