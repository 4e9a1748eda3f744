//! The table's sections on fleets, flows and deploys, each only for runs that have them.

use super::{align, row};
use crate::fleet::{deploy_stats, fleet_stats, flow_stats, top_failures, FleetStats, FlowStats};
use crate::format::{percent, seconds, thousands};
use squall_model::{OutcomeCounts, RunOutput};

/// Failure outcomes shown per flow step.
const TOP_FAILURES: usize = 3;

/// The fleet, flow and deploy sections, each preceded by a blank line; empty for a run
/// without them.
pub(super) fn fleet_sections(out: &RunOutput) -> String {
    let mut blocks: Vec<String> = fleet_stats(out).iter().map(fleet_block).collect();
    let flows = flow_stats(out);
    if !flows.is_empty() {
        blocks.push(flows_block(&flows));
        for f in &flows {
            blocks.push(steps_block(f));
            blocks.push(paths_block(f));
        }
    }
    if !out.deploys.is_empty() {
        blocks.push(deploys_block(out));
    }
    blocks.iter().map(|b| format!("\n{b}")).collect()
}

/// `seconds`, or `-` when undefined.
fn maybe_seconds(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), seconds)
}

/// `name count` of the most frequent failures, or `-`.
fn failures_text(counts: &OutcomeCounts) -> String {
    let top = top_failures(counts, TOP_FAILURES);
    if top.is_empty() {
        return "-".to_string();
    }
    top.iter().map(|(o, n)| format!("{} {}", o.name(), thousands(*n))).collect::<Vec<_>>().join("  ")
}

/// One service's versions, then its lifecycle on one line.
fn fleet_block(f: &FleetStats<'_>) -> String {
    let mut rows = vec![row(&[&format!("fleet {}", f.service), "ready", "answers", "errors", "failures"])];
    for v in &f.versions {
        rows.push(vec![
            format!("  {}", v.out.name),
            thousands(u64::from(v.ready_at_end)),
            thousands(v.answered),
            percent(v.error_rate),
            failures_text(&v.out.answers),
        ]);
    }
    let o = f.out;
    format!(
        "{}restarts {}  crashes {} ({} by probes)  created {}  refused not accepting {}  ejections {}  \
         health-check failures {}  skew {} in {} window{}\n",
        align(&rows),
        thousands(o.restarts),
        thousands(o.crashes),
        thousands(o.probe_kills),
        thousands(o.created),
        thousands(o.refused_not_accepting),
        thousands(o.ejections),
        thousands(o.health_check_failures),
        seconds(f.skew_s),
        o.skew_windows.len(),
        if o.skew_windows.len() == 1 { "" } else { "s" }
    )
}

fn flows_block(flows: &[FlowStats<'_>]) -> String {
    let mut rows = vec![row(&["flow", "started", "completed", "failed", "in flight", "success"])];
    for f in flows {
        rows.push(vec![
            f.client.to_string(),
            thousands(f.out.started),
            thousands(f.out.completed),
            thousands(f.out.failed),
            thousands(f.in_flight),
            percent(f.success_rate),
        ]);
    }
    align(&rows)
}

/// A flow's failures by step.
fn steps_block(f: &FlowStats<'_>) -> String {
    let mut rows = vec![row(&[&format!("flow {} step", f.client), "run", "skipped", "failed", "failures"])];
    for s in &f.out.steps {
        rows.push(vec![
            format!("  {}", s.name),
            thousands(s.run),
            thousands(s.skipped),
            thousands(s.outcomes.total() - s.outcomes.successes()),
            failures_text(&s.outcomes),
        ]);
    }
    align(&rows)
}

/// A flow's paths: the versions that served its steps.
fn paths_block(f: &FlowStats<'_>) -> String {
    let mut rows = vec![row(&[&format!("flow {} path", f.client), "completed", "failed"])];
    for p in &f.out.paths {
        rows.push(vec![format!("  {}", p.versions.join(" > ")), thousands(p.completed), thousands(p.failed)]);
    }
    align(&rows)
}

fn deploys_block(out: &RunOutput) -> String {
    let mut rows = vec![row(&["deploy", "target", "strategy", "start", "end", "duration", "result"])];
    for d in deploy_stats(out) {
        rows.push(vec![
            d.out.name.clone(),
            d.target(),
            d.out.strategy.clone(),
            maybe_seconds(d.started_s),
            maybe_seconds(d.ended_s),
            maybe_seconds(d.duration_s()),
            d.out.result.name().to_string(),
        ]);
    }
    align(&rows)
}

#[cfg(test)]
mod tests {
    use crate::sample::{fleet_output, meta, policy_output, sample_output};
    use crate::summary_table;

    /// The lines of the table section whose header row starts with `header`.
    fn section(table: &str, header: &str) -> Vec<String> {
        table
            .split("\n\n")
            .find(|block| block.starts_with(header))
            .unwrap_or_else(|| panic!("no section `{header}` in\n{table}"))
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    #[test]
    fn the_fleet_section_shows_versions_and_lifecycle() {
        let t = summary_table(&meta(), &fleet_output());
        let rows = section(&t, "fleet api");
        assert_eq!(rows[0], "fleet api ready answers errors failures");
        assert_eq!(rows[1], "v1 2 1,080 3.70% timeout 40");
        assert_eq!(rows[2], "v2 0 400 10.00% server_error 40");
        assert_eq!(
            rows[3],
            "restarts 1 crashes 1 (0 by probes) created 1 refused not accepting 3 ejections 0 health-check failures 0 skew 10.000 s in 1 window"
        );
        assert!(!t.contains("fleet db"), "{t}");
    }

    #[test]
    fn the_flow_sections_show_totals_failures_by_step_and_paths() {
        let t = summary_table(&meta(), &fleet_output());
        assert_eq!(section(&t, "flow ")[1], "web 210 190 10 10 95.00%");
        let steps = section(&t, "flow web step");
        assert_eq!(steps[1], "login 210 0 5 timeout 5");
        assert_eq!(steps[2], "pay 195 10 5 server_error 5");
        let paths = section(&t, "flow web path");
        assert_eq!(paths[1..], ["v1 > v1 150 2", "v1 > v2 40 3", "v1 > - 0 5"]);
    }

    #[test]
    fn the_deploy_section_shows_target_times_and_result() {
        let t = summary_table(&meta(), &fleet_output());
        let rows = section(&t, "deploy");
        assert_eq!(rows[1], "api-v2 api->v2 canary 30.000 s 45.000 s 15.000 s rolled_back");
    }

    #[test]
    fn a_run_without_fleet_features_has_no_such_sections() {
        for out in [sample_output(), policy_output()] {
            let t = summary_table(&meta(), &out);
            for word in ["fleet", "flow", "deploy"] {
                assert!(!t.contains(word), "{word} in\n{t}");
            }
        }
    }
}
