//! `fleet.svg` and `flows.svg`, for runs with versions or lifecycle activity, and with flows.
//!
//! In both, colour says *which version* (of which service, with several), the same in every
//! panel. In `fleet.svg` the dash pattern says the instances' state: ready solid, not ready
//! dashed, starting dotted, terminating long-dashed (a state no instance of a version was
//! ever in gets no line). In `flows.svg` colour says the flows' fate (started in near-black,
//! completed in green, failed in red) and the dash pattern which client group.

use super::{title, Dash, Figure, LegendEntry, Line, Panel, CLIENT_DASHES, ISSUED_COLOR, PALETTE};
use crate::fleet::{answer_share, fleet_services, flow_bucket, flow_clients, version_bucket};
use crate::series::Span;
use crate::ReportMeta;
use plotters::style::RGBColor;
use squall_model::{ClientOutput, FlowBucket, FlowOutput, RunOutput, ServiceOutput, VersionBucket};

/// Instances of a version in one state in a bucket.
type StateCount = fn(&VersionBucket) -> u32;
/// Flows in a bucket that had one fate.
type FateCount = fn(&FlowBucket) -> u64;

/// Instance states: name, dash, count.
const STATES: [(&str, Dash, StateCount); 4] = [
    ("ready", Dash::Solid, |b| b.ready),
    ("not ready", Dash::Dashed, |b| b.not_ready),
    ("starting", Dash::Dotted, |b| b.starting),
    ("terminating", Dash::LongDashed, |b| b.terminating),
];

/// Flow fates: name, colour, count.
const FATES: [(&str, RGBColor, FateCount); 3] = [
    ("started", ISSUED_COLOR, |b| b.started),
    ("completed", RGBColor(0x2c, 0xa0, 0x2c), |b| b.completed),
    ("failed", RGBColor(0xd6, 0x27, 0x28), |b| b.failed),
];

/// `fleet.svg` when some service reports a fleet, then `flows.svg` when some client group
/// runs a flow.
pub(super) fn fleet_figures(
    meta: &ReportMeta,
    out: &RunOutput,
    spans: &[Span],
    x_max: f64,
) -> Vec<(&'static str, Figure)> {
    let services = fleet_services(out);
    let mut figures = Vec::new();
    if !services.is_empty() {
        figures.push(("fleet.svg", fleet_figure(meta, &services, spans, x_max)));
    }
    let flows = flow_clients(out);
    if !flows.is_empty() {
        figures.push(("flows.svg", flows_figure(meta, out, &flows, spans, x_max)));
    }
    figures
}

fn figure(meta: &ReportMeta, what: &str, x_max: f64, panels: Vec<Panel>, legend: Vec<LegendEntry>) -> Figure {
    Figure { title: title(meta, what), x_max, panels, legend, bands: Vec::new(), marks: Vec::new() }
}

fn line(color: RGBColor, dash: Dash, points: Vec<(f64, Option<f64>)>) -> Line {
    Line { color, dash, stroke_px: 2, points, reference: false }
}

/// Each version of `services` with its colour and its label (`service/version` with several
/// services, else the version's name).
fn versions<'a>(services: &[&'a ServiceOutput]) -> Vec<(&'a ServiceOutput, usize, RGBColor, String)> {
    let several = services.len() > 1;
    let all = services.iter().flat_map(|s| (0..s.fleet.versions.len()).map(move |i| (*s, i)));
    all.enumerate()
        .map(|(k, (s, i))| {
            let name = &s.fleet.versions[i].name;
            let label = if several { format!("{}/{name}", s.name) } else { name.clone() };
            (s, i, PALETTE[k % PALETTE.len()], label)
        })
        .collect()
}

/// Per version, its share of its service's answers in each bucket.
fn share_panel(services: &[&ServiceOutput], spans: &[Span]) -> Panel {
    let lines = versions(services)
        .into_iter()
        .map(|(s, i, color, _)| {
            let v = &s.fleet.versions[i];
            line(
                color,
                Dash::Solid,
                spans.iter().map(|sp| (sp.start_s(), answer_share(&s.fleet, v, sp))).collect(),
            )
        })
        .collect();
    Panel { y_desc: "share of answers by version".to_string(), lines }
}

fn fleet_figure(meta: &ReportMeta, services: &[&ServiceOutput], spans: &[Span], x_max: f64) -> Figure {
    let mut lines = Vec::new();
    let mut legend = Vec::new();
    for (s, i, color, label) in versions(services) {
        let v = &s.fleet.versions[i];
        for (state, dash, count) in STATES {
            if state != "ready" && v.series.iter().all(|b| count(b) == 0) {
                continue;
            }
            let points = spans
                .iter()
                .map(|sp| (sp.start_s(), Some(f64::from(count(&version_bucket(v, sp))))))
                .collect();
            lines.push(line(color, dash, points));
            legend.push(LegendEntry { label: format!("{label} {state}"), color, dash });
        }
    }
    let panels =
        vec![Panel { y_desc: "instances at end of bucket".to_string(), lines }, share_panel(services, spans)];
    figure(meta, "instances and answers by version", x_max, panels, legend)
}

/// The services a client group's requests were served by, or every reported fleet.
fn served_services<'a>(out: &'a RunOutput, client: &ClientOutput) -> Vec<&'a ServiceOutput> {
    let fleets = fleet_services(out);
    let named: Vec<&ServiceOutput> =
        fleets.iter().copied().filter(|s| client.served_by.iter().any(|b| b.service == s.name)).collect();
    if named.is_empty() {
        fleets
    } else {
        named
    }
}

fn flows_figure(
    meta: &ReportMeta,
    out: &RunOutput,
    flows: &[(&str, &FlowOutput)],
    spans: &[Span],
    x_max: f64,
) -> Figure {
    let mut lines = Vec::new();
    let mut legend = Vec::new();
    let mut services: Vec<&ServiceOutput> = Vec::new();
    for (k, (name, f)) in flows.iter().enumerate() {
        let dash = CLIENT_DASHES[k % CLIENT_DASHES.len()];
        for (fate, color, count) in FATES {
            let points =
                spans.iter().map(|sp| (sp.start_s(), sp.rate_per_s(count(&flow_bucket(f, sp))))).collect();
            lines.push(line(color, dash, points));
            let label = if flows.len() > 1 { format!("{name}/{fate}") } else { fate.to_string() };
            legend.push(LegendEntry { label, color, dash });
        }
        let client = out.clients.iter().find(|c| c.name == *name).expect("a flow belongs to a client group");
        for s in served_services(out, client) {
            if !services.iter().any(|x| x.name == s.name) {
                services.push(s);
            }
        }
    }
    let mut panels = vec![Panel { y_desc: "flows per second (1/s)".to_string(), lines }];
    if !services.is_empty() {
        panels.push(share_panel(&services, spans));
        legend.extend(versions(&services).into_iter().map(|(_, _, color, label)| LegendEntry {
            label: format!("{label} share"),
            color,
            dash: Dash::Solid,
        }));
    }
    figure(meta, "flows started, completed and failed", x_max, panels, legend)
}

#[cfg(test)]
mod tests {
    use crate::plots;
    use crate::sample::{fleet_output, meta, policy_output, sample_output};

    fn plot<'a>(plots: &'a [(String, String)], name: &str) -> &'a str {
        &plots.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}")).1
    }

    #[test]
    fn a_run_with_versions_and_a_flow_adds_the_fleet_and_flow_plots() {
        let p = plots(&meta(), &fleet_output()).unwrap();
        let names: Vec<&str> = p.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["outcomes.svg", "latency.svg", "queues.svg", "fleet.svg", "flows.svg"]);
        let fleet = plot(&p, "fleet.svg");
        for label in ["v1 ready", "v2 ready", "v2 starting", "v2 terminating", "share of answers by version"]
        {
            assert!(fleet.contains(label), "no {label}");
        }
        assert!(!fleet.contains("v1 starting"), "a state never seen gets no line");
        let flows = plot(&p, "flows.svg");
        for label in ["started", "completed", "failed", "v2 share", "flows per second (1/s)"] {
            assert!(flows.contains(label), "no {label}");
        }
        for (name, svg) in &p {
            assert!(!svg.contains("NaN"), "{name}");
        }
        assert_eq!(plots(&meta(), &fleet_output()).unwrap(), p, "byte-identical");
    }

    #[test]
    fn deploy_events_are_marked_on_every_plot_and_labelled_once() {
        let p = plots(&meta(), &fleet_output()).unwrap();
        for (name, svg) in &p {
            assert!(svg.contains("#6A3D9A"), "{name}: no deploy mark");
            assert_eq!(svg.matches("abort: error rate 10.0%").count(), 1, "{name}");
            assert_eq!(svg.matches("rolled back").count(), 1, "{name}");
        }
    }

    #[test]
    fn runs_without_fleet_features_get_no_new_plots_or_marks() {
        for out in [sample_output(), policy_output()] {
            for (name, svg) in plots(&meta(), &out).unwrap() {
                assert!(name != "fleet.svg" && name != "flows.svg");
                assert!(!svg.contains("#6A3D9A"), "{name}");
            }
        }
    }
}
