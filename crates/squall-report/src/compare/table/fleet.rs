//! The comparison table's sections on flows, versions and deploys, for comparisons where some
//! variant has them.

use super::{cells, metric, Better, Cell, Row};
use crate::compare::union_names;
use crate::fleet::{deploy_stats, fleet_stats, flow_stats, DeployStats, FleetStats, FlowStats, VersionStats};
use crate::format::{percent, seconds, thousands};
use squall_model::RunOutput;

/// Per client group with a flow, per service reporting its fleet (its versions' answers and
/// errors) and per deploy (result and duration), in first-seen order over the variants.
pub(super) fn fleet_rows(rows: &mut Vec<Row>, runs: &[(String, RunOutput)]) {
    let flows: Vec<Vec<FlowStats<'_>>> = runs.iter().map(|(_, o)| flow_stats(o)).collect();
    for client in union_names(runs, |o| flow_stats(o).iter().map(|f| f.client).collect()) {
        let per: Vec<Option<&FlowStats<'_>>> =
            flows.iter().map(|fs| fs.iter().find(|f| f.client == client)).collect();
        flow_rows(rows, client, &per);
    }
    let fleets: Vec<Vec<FleetStats<'_>>> = runs.iter().map(|(_, o)| fleet_stats(o)).collect();
    for service in union_names(runs, |o| fleet_stats(o).iter().map(|f| f.service).collect()) {
        let per: Vec<Option<&FleetStats<'_>>> =
            fleets.iter().map(|fs| fs.iter().find(|f| f.service == service)).collect();
        version_rows(rows, service, &per);
    }
    let deploys: Vec<Vec<DeployStats<'_>>> = runs.iter().map(|(_, o)| deploy_stats(o)).collect();
    for name in union_names(runs, |o| o.deploys.iter().map(|d| d.name.as_str()).collect()) {
        let per: Vec<Option<&DeployStats<'_>>> =
            deploys.iter().map(|ds| ds.iter().find(|d| d.out.name == name)).collect();
        deploy_rows(rows, name, &per);
    }
}

/// A count, ranked by its value.
fn count(n: u64) -> Cell {
    Cell::new(thousands(n), Some(n as f64))
}

fn flow_rows(rows: &mut Vec<Row>, client: &str, per: &[Option<&FlowStats<'_>>]) {
    rows.push(Row::Heading(format!("flow {client}")));
    rows.push(metric("started", Better::Neither, cells(per, |f| count(f.out.started))));
    rows.push(metric("completed", Better::Higher, cells(per, |f| count(f.out.completed))));
    rows.push(metric("failed", Better::Lower, cells(per, |f| count(f.out.failed))));
    rows.push(metric(
        "success",
        Better::Higher,
        cells(per, |f| Cell::new(percent(f.success_rate), f.success_rate)),
    ));
}

/// Per version: the answers its instances gave, and the errors among them (the blast radius).
fn version_rows(rows: &mut Vec<Row>, service: &str, per: &[Option<&FleetStats<'_>>]) {
    rows.push(Row::Heading(format!("versions {service}")));
    let mut names: Vec<&str> = Vec::new();
    for f in per.iter().flatten() {
        for v in &f.versions {
            if !names.contains(&v.out.name.as_str()) {
                names.push(&v.out.name);
            }
        }
    }
    for name in names {
        let version: Vec<Option<&VersionStats<'_>>> =
            per.iter().map(|f| f.and_then(|f| f.versions.iter().find(|v| v.out.name == name))).collect();
        rows.push(metric(
            &format!("{name} answers"),
            Better::Neither,
            cells(&version, |v| count(v.answered)),
        ));
        rows.push(metric(
            &format!("{name} errors"),
            Better::Lower,
            cells(&version, |v| {
                Cell::new(
                    format!("{} ({})", thousands(v.errors()), percent(v.error_rate)),
                    Some(v.errors() as f64),
                )
            }),
        ));
    }
}

fn deploy_rows(rows: &mut Vec<Row>, name: &str, per: &[Option<&DeployStats<'_>>]) {
    rows.push(Row::Heading(format!("deploy {name}")));
    rows.push(metric(
        "result",
        Better::Neither,
        cells(per, |d| Cell::new(d.out.result.name().to_string(), None)),
    ));
    rows.push(metric(
        "start to end",
        Better::Neither,
        cells(per, |d| {
            let s = d.duration_s();
            Cell::new(s.map_or_else(|| "-".to_string(), seconds), s)
        }),
    ));
}
