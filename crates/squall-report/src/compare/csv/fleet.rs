//! The rows of `comparison.csv` on flows, versions and deploys, and the columns they add, for
//! comparisons where some variant has them.

use super::RowBuilder;
use crate::fleet::{deploy_stats, fleet_stats, flow_clients};
use crate::format::fixed;
use squall_model::metrics::{Ctx, Scope};
use squall_model::RunOutput;

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

/// The catalogue metrics of a client group's flows a `flow` row fills.
const FLOW_CELLS: [&str; 5] =
    ["success_rate", "flow_started", "flow_completed", "flow_failed", "flow_in_flight"];

/// The catalogue metrics of a service version a `version` row fills.
const VERSION_CELLS: [&str; 3] = ["success_rate", "answers", "errors"];

/// Whether the run has anything for the fleet columns.
pub(super) fn has_fleet_rows(out: &RunOutput) -> bool {
    !fleet_stats(out).is_empty() || !flow_clients(out).is_empty() || !out.deploys.is_empty()
}

/// `value` at six decimals, or empty when undefined.
fn num(v: Option<f64>) -> String {
    v.map(fixed).unwrap_or_default()
}

/// A variant's rows: per flow, per version of a reported fleet (named `service/version`),
/// per deploy.
pub(super) fn fleet_rows(header: &[String], variant: &str, out: &RunOutput) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (client, f) in flow_clients(out) {
        let mut r = RowBuilder::new(header, variant, "flow", client.to_string());
        r.metrics(Scope::Flow, &FLOW_CELLS, Ctx::Flow(f));
        rows.push(r.cells);
    }
    for fleet in fleet_stats(out) {
        for v in &fleet.versions {
            let mut r =
                RowBuilder::new(header, variant, "version", format!("{}/{}", fleet.service, v.out.name));
            r.metrics(Scope::Version, &VERSION_CELLS, Ctx::Version(v.out)).outcomes(&v.out.answers);
            rows.push(r.cells);
        }
    }
    for d in deploy_stats(out) {
        let mut r = RowBuilder::new(header, variant, "deploy", d.out.name.clone());
        r.set("deploy_result", d.out.result.name())
            .set("deploy_started_s", &num(d.started_s))
            .set("deploy_ended_s", &num(d.ended_s))
            .set("deploy_duration_s", &num(d.duration_s()));
        rows.push(r.cells);
    }
    rows
}
