//! Overlay charts of a comparison: one line per variant (and client group) on shared axes.
//!
//! They use the single-run charts' renderer and layout. Colour says *which variant* (by its
//! index, from the same palette, so the baseline is always blue) and the dash pattern *which
//! client group*, as in the single-run charts. Fault windows are shaded as there: those of
//! the first variant, plus any other variant's windows that differ, labelled with the
//! variant's name; deploy events are marked the same way, as vertical lines.

use super::{check_runs, union_names, CompareMeta};
use crate::error::ReportError;
use crate::plot::{
    deploy_marks, render_all, title, x_max_s, Band, Dash, Figure, LegendEntry, Line, Mark, Panel,
    CLIENT_DASHES, PALETTE,
};
use crate::series::{spans, ClientPoint, Span};
use squall_model::{FaultWindow, RunOutput};

/// Client groups in the legend: grey, since colour belongs to the variants.
const CLIENT_LEGEND_COLOR: usize = 7;

/// `(file name, SVG text)` for each overlay: `compare_goodput.svg` (goodput: ok and degraded
/// answers per second, as the metric catalogue defines it),
/// `compare_errors.svg` (answers that were not a success, per second) and `compare_p99.svg`
/// (99th percentile latency of successful requests per bucket).
///
/// # Errors
/// [`ReportError::Plot`] if plotters refuses to draw (a bug rather than the environment).
///
/// # Panics
/// If `meta.overrides` does not have one entry per run, or two runs share a name.
pub fn comparison_plots(
    meta: &CompareMeta,
    runs: &[(String, RunOutput)],
) -> Result<Vec<(String, String)>, ReportError> {
    check_runs(meta, runs);
    let spans: Vec<Vec<Span>> = runs.iter().map(|(_, out)| spans(out)).collect();
    let x_max = runs.iter().zip(&spans).map(|((_, out), sp)| x_max_s(out, sp)).fold(0.0, f64::max).max(1.0);
    let clients = union_names(runs, |o| o.clients.iter().map(|c| c.name.as_str()).collect());
    let bands = bands(runs);
    let marks = marks(runs);
    let overlay = |what: &str, y_desc: &str, value: &dyn Fn(&ClientPoint<'_>, &Span) -> Option<f64>| {
        let mut lines = Vec::new();
        for (v, ((_, out), sp)) in runs.iter().zip(&spans).enumerate() {
            for (k, name) in clients.iter().enumerate() {
                let Some(c) = out.clients.iter().find(|c| c.name == *name) else { continue };
                lines.push(Line {
                    color: variant_color(v),
                    dash: client_dash(k),
                    stroke_px: 2,
                    points: sp.iter().map(|s| (s.start_s(), value(&ClientPoint::at(c, s), s))).collect(),
                    reference: false,
                });
            }
        }
        Figure {
            title: title(&meta.scenario, what),
            x_max,
            panels: vec![Panel { y_desc: y_desc.to_string(), lines }],
            legend: legend(runs, &clients),
            bands: bands.clone(),
            marks: marks.clone(),
        }
    };
    let figures = [
        (
            "compare_goodput.svg",
            overlay("goodput (ok and degraded answers per second) by variant", "goodput (1/s)", &|p, s| {
                s.rate_per_s(p.successes())
            }),
        ),
        (
            "compare_errors.svg",
            overlay("failed answers per second by variant", "failed answers per second (1/s)", &|p, s| {
                s.rate_per_s(p.failed())
            }),
        ),
        (
            "compare_p99.svg",
            overlay("p99 latency of successful requests by variant", "p99 latency (ms)", &|p, _| {
                p.latency_ok_ms(0.99)
            }),
        ),
    ];
    render_all(figures)
}

/// Variant `v`'s colour: fixed by its index, so it is the same in every chart and run.
fn variant_color(v: usize) -> plotters::style::RGBColor {
    PALETTE[v % PALETTE.len()]
}

fn client_dash(k: usize) -> Dash {
    CLIENT_DASHES[k % CLIENT_DASHES.len()]
}

/// One entry per variant (its colour, solid); with several client groups, one per group too
/// (its dash pattern, in grey).
fn legend(runs: &[(String, RunOutput)], clients: &[&str]) -> Vec<LegendEntry> {
    let mut legend: Vec<LegendEntry> = runs
        .iter()
        .enumerate()
        .map(|(v, (name, _))| LegendEntry { label: name.clone(), color: variant_color(v), dash: Dash::Solid })
        .collect();
    if clients.len() > 1 {
        legend.extend(clients.iter().enumerate().map(|(k, name)| LegendEntry {
            label: format!("client {name}"),
            color: PALETTE[CLIENT_LEGEND_COLOR],
            dash: client_dash(k),
        }));
    }
    legend
}

/// The first variant's fault windows, then every other variant's windows that the first
/// does not have (same name, service and times), labelled `name (variant)`.
fn bands(runs: &[(String, RunOutput)]) -> Vec<Band> {
    let Some((_, first)) = runs.first() else { return Vec::new() };
    let same = |a: &FaultWindow, b: &FaultWindow| {
        a.name == b.name && a.service == b.service && a.start == b.start && a.end == b.end
    };
    let mut seen: Vec<&FaultWindow> = first.faults.iter().collect();
    let mut bands: Vec<Band> = first.faults.iter().map(Band::of).collect();
    for (name, out) in &runs[1..] {
        for f in &out.faults {
            if !seen.iter().any(|s| same(s, f)) {
                seen.push(f);
                bands.push(Band { label: format!("{} ({name})", f.name), ..Band::of(f) });
            }
        }
    }
    bands
}

/// The first variant's deploy events, then every other variant's events that the first does
/// not have (same time and label), labelled `label (variant)`.
fn marks(runs: &[(String, RunOutput)]) -> Vec<Mark> {
    let Some((_, first)) = runs.first() else { return Vec::new() };
    let mut marks = deploy_marks(first);
    let n_first = marks.len();
    for (name, out) in &runs[1..] {
        for m in deploy_marks(out) {
            if !marks[..n_first].contains(&m) {
                marks.push(Mark { label: format!("{} ({name})", m.label), ..m });
            }
        }
    }
    marks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{compare_meta, variants};
    use squall_kernel::SimTime;
    use squall_model::Outcome;

    fn plot<'a>(plots: &'a [(String, String)], name: &str) -> &'a str {
        &plots.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}")).1
    }

    #[test]
    fn there_are_three_overlays_naming_every_variant() {
        let p = comparison_plots(&compare_meta(), &variants()).unwrap();
        let names: Vec<&str> = p.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["compare_goodput.svg", "compare_errors.svg", "compare_p99.svg"]);
        for (name, svg) in &p {
            assert!(svg.starts_with("<svg"), "{name}");
            assert!(svg.contains("retry-storm (seed 42)"), "{name}");
            for label in ["baseline", "db-x2", "client web", "client batch"] {
                assert!(svg.contains(label), "{name}: no legend entry {label}");
            }
            assert!(!svg.contains("NaN"), "{name}");
        }
        assert!(plot(&p, "compare_p99.svg").contains("p99 latency (ms)"));
    }

    #[test]
    fn variants_have_fixed_colours_by_index() {
        let p = comparison_plots(&compare_meta(), &variants()).unwrap();
        let svg = plot(&p, "compare_goodput.svg");
        // Tableau blue for the first variant, orange for the second.
        assert!(svg.contains("stroke=\"#1F77B4\""), "no blue line");
        assert!(svg.contains("stroke=\"#FF7F0E\""), "no orange line");
    }

    #[test]
    fn fault_windows_are_shaded_once_and_a_variants_own_windows_are_added() {
        let p = comparison_plots(&compare_meta(), &variants()).unwrap();
        for (name, svg) in &p {
            assert_eq!(
                svg.matches("fill=\"#F5A623\"").count(),
                1,
                "{name}: the same window in both is one band"
            );
            assert_eq!(svg.matches("db-slow").count(), 1, "{name}");
        }
        let mut runs = variants();
        runs[1].1.faults[0].end = SimTime(50 * squall_kernel::time::NS_PER_S);
        let p = comparison_plots(&compare_meta(), &runs).unwrap();
        let svg = plot(&p, "compare_errors.svg");
        assert_eq!(svg.matches("fill=\"#F5A623\"").count(), 2);
        assert!(svg.contains("db-slow (db-x2)"), "the differing window names its variant");
    }

    #[test]
    fn goodput_counts_degraded_answers_as_the_catalogue_does() {
        let before = comparison_plots(&compare_meta(), &variants()).unwrap();
        let mut runs = variants();
        let idx = |o: Outcome| Outcome::ALL.iter().position(|x| *x == o).unwrap();
        let mut moved = 0;
        for c in &mut runs[0].1.clients {
            for b in &mut c.series {
                let ok = b.outcomes.get(Outcome::Ok);
                b.outcomes.0[idx(Outcome::Ok)] = ok / 2;
                b.outcomes.0[idx(Outcome::Degraded)] += ok - ok / 2;
                moved += ok - ok / 2;
            }
        }
        assert!(moved > 0, "the sample has ok answers to turn into fallbacks");
        let after = comparison_plots(&compare_meta(), &runs).unwrap();
        for name in ["compare_goodput.svg", "compare_errors.svg"] {
            assert_eq!(plot(&before, name), plot(&after, name), "{name}: a fallback is a success");
        }
        assert!(plot(&after, "compare_goodput.svg").contains("goodput (1/s)"));
    }

    #[test]
    fn one_client_needs_no_client_legend() {
        let mut runs = variants();
        for (_, out) in &mut runs {
            out.clients.truncate(1);
        }
        let p = comparison_plots(&compare_meta(), &runs).unwrap();
        assert!(!plot(&p, "compare_goodput.svg").contains("client web"));
    }

    #[test]
    fn the_same_runs_give_byte_identical_plots() {
        assert_eq!(
            comparison_plots(&compare_meta(), &variants()).unwrap(),
            comparison_plots(&compare_meta(), &variants()).unwrap()
        );
    }

    #[test]
    fn deploy_events_are_marked_with_the_variant_that_had_them() {
        let p = comparison_plots(&compare_meta(), &crate::sample::fleet_variants()).unwrap();
        for (name, svg) in &p {
            assert_eq!(svg.matches("rolled back (canary)").count(), 1, "{name}");
            assert!(svg.contains("#6A3D9A"), "{name}");
        }
        for (name, svg) in comparison_plots(&compare_meta(), &variants()).unwrap() {
            assert!(!svg.contains("#6A3D9A"), "{name}: no deploy, no mark");
        }
    }
}
