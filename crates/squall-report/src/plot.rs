//! SVG charts drawn with plotters: outcomes, latency and queues over simulated time, and,
//! when call sites have client policies, amplification and breaker state.
//!
//! Each chart is first described as plain data (a [`Figure`] of panels and lines), then drawn
//! by one renderer, so all charts share a layout: 900x500 px, white background, a title naming
//! the scenario and seed, simulated seconds on the x axis, and the legend in a column on the
//! right where it never covers data. Colour says *what* a line is (an outcome, a percentile,
//! a service) and the same thing has the same colour in every chart; the dash pattern says
//! *which client group* it belongs to. A bucket with no value leaves a gap in its line. Fault
//! windows are shaded behind the lines of every chart as translucent bands, labelled with the
//! fault's name in the top panel; overlapping windows show darker. In the policy charts a
//! colour is a call site (a client group, or `caller->callee`), the same in both. Deploy
//! events are drawn on every chart as thin vertical lines, labelled at the foot of the top
//! panel; runs with versions or flows also get `fleet.svg` and `flows.svg` (see `fleet`).
//!
//! The SVG backend writes text as `<text>` elements (no fonts are needed) and nothing that
//! varies between runs, so the same input gives byte-identical files.

use crate::error::ReportError;
use crate::series::{policy_sites, spans, ClientPoint, PolicyPoint, PolicySite, ServicePoint, Span};
use crate::ReportMeta;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use squall_model::{FaultWindow, Outcome, RunOutput};

mod fleet;
pub(crate) mod sweep;

/// Width and height of every chart, px.
const SIZE_PX: (u32, u32) = (900, 500);
/// Width of the legend column on the right, px.
const LEGEND_WIDTH_PX: u32 = 230;
/// Legend entries shown; the rest are summarised in one line, so the column never overflows.
const LEGEND_ENTRIES_MAX: usize = 20;
/// Centre of the first legend row, and the distance between rows, px.
const LEGEND_TOP_PX: i32 = 24;
const LEGEND_ROW_PX: i32 = 21;
/// Characters of a legend label; longer labels are cut so they stay inside the column.
const LEGEND_LABEL_CHARS_MAX: usize = 26;
/// A y range wider than this ratio (max / min) is drawn on a log scale.
const LOG_SCALE_RATIO_MIN: f64 = 20.0;
pub(crate) const X_DESC: &str = "simulated time (s)";
const FONT: &str = "sans-serif";

/// Line pattern, one per client group (cycled after four).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Dash {
    Solid,
    Dashed,
    Dotted,
    LongDashed,
}

pub(crate) const CLIENT_DASHES: [Dash; 4] = [Dash::Solid, Dash::Dashed, Dash::Dotted, Dash::LongDashed];

impl Dash {
    /// Dash length and gap, px; `None` for a solid line.
    fn pattern_px(self) -> Option<(i32, i32)> {
        match self {
            Dash::Solid => None,
            Dash::Dashed => Some((8, 5)),
            Dash::Dotted => Some((2, 4)),
            Dash::LongDashed => Some((18, 6)),
        }
    }
}

/// A palette of distinct colours (Tableau 10) for services and percentiles.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// The colour of an outcome in every chart: success in green, failures in other colours.
fn outcome_color(o: Outcome) -> RGBColor {
    match o {
        Outcome::Ok => RGBColor(0x2c, 0xa0, 0x2c),
        Outcome::Degraded => RGBColor(0xbc, 0xbd, 0x22),
        Outcome::Timeout => RGBColor(0xff, 0x7f, 0x0e),
        Outcome::DeadlineExceeded => RGBColor(0x8c, 0x56, 0x4b),
        Outcome::RateLimited => RGBColor(0x94, 0x67, 0xbd),
        Outcome::Shed => RGBColor(0xe3, 0x77, 0xc2),
        Outcome::QueueFull => RGBColor(0xd6, 0x27, 0x28),
        Outcome::BulkheadFull => RGBColor(0x7f, 0x7f, 0x7f),
        Outcome::CircuitOpen => RGBColor(0x17, 0xbe, 0xcf),
        Outcome::Throttled => RGBColor(0x5b, 0x3a, 0x8e),
        Outcome::ServerError => RGBColor(0x80, 0x00, 0x00),
        Outcome::Unsupported => RGBColor(0x1f, 0x77, 0xb4),
        Outcome::NoEndpoint => RGBColor(0x00, 0x00, 0x80),
        Outcome::ConnectionReset => RGBColor(0xb8, 0x86, 0x0b),
        Outcome::Cancelled => RGBColor(0x00, 0x80, 0x80),
    }
}

/// Fault windows: a light amber, translucent so grid lines and overlaps show through.
const BAND_COLOR: RGBColor = RGBColor(0xf5, 0xa6, 0x23);
const BAND_OPACITY: f64 = 0.18;
/// Band labels: a darker shade of the band, small, stacked in this many rows so the labels of
/// windows that start close together do not print over each other.
const BAND_LABEL_COLOR: RGBColor = RGBColor(0x8a, 0x55, 0x00);
const BAND_LABEL_ROWS: usize = 3;
/// Deploy events: a thin violet line, labelled at the foot of the top panel in stacked rows.
const MARK_COLOR: RGBColor = RGBColor(0x6a, 0x3d, 0x9a);
const MARK_LABEL_ROWS: usize = 4;

/// Offered load (requests issued) is drawn in near-black, under the outcomes.
const ISSUED_COLOR: RGBColor = RGBColor(0x33, 0x33, 0x33);
/// Worker capacity lines in the queues chart.
const CAPACITY_DASH: Dash = Dash::Dotted;
/// Half-open breakers, against open ones drawn solid.
const HALF_OPEN_DASH: Dash = Dash::Dashed;

/// One line: a value per bucket, `None` leaving a gap.
pub(crate) struct Line {
    pub(crate) color: RGBColor,
    pub(crate) dash: Dash,
    pub(crate) stroke_px: u32,
    pub(crate) points: Vec<(f64, Option<f64>)>,
    /// A reference level (such as worker capacity), not data: a panel with only reference
    /// lines still says "no data".
    pub(crate) reference: bool,
}

pub(crate) struct LegendEntry {
    pub(crate) label: String,
    pub(crate) color: RGBColor,
    pub(crate) dash: Dash,
}

/// One chart panel: a y axis and the lines drawn against it.
pub(crate) struct Panel {
    pub(crate) y_desc: String,
    pub(crate) lines: Vec<Line>,
}

/// A shaded span of simulated time (a fault window), drawn behind the lines.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Band {
    pub(crate) start_s: f64,
    pub(crate) end_s: f64,
    pub(crate) label: String,
}

impl Band {
    pub(crate) fn of(f: &FaultWindow) -> Band {
        Band { start_s: f.start.as_secs_f64(), end_s: f.end.as_secs_f64(), label: f.name.clone() }
    }
}

/// A whole chart, described as data before any drawing.
pub(crate) struct Figure {
    pub(crate) title: String,
    pub(crate) x_max: f64,
    pub(crate) panels: Vec<Panel>,
    pub(crate) legend: Vec<LegendEntry>,
    /// Shaded behind every panel; labelled in the first.
    pub(crate) bands: Vec<Band>,
    /// Moments drawn as vertical lines in every panel; labelled in the first.
    pub(crate) marks: Vec<Mark>,
}

/// A moment of simulated time (a deploy's event), drawn as a vertical line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Mark {
    pub(crate) at_s: f64,
    pub(crate) label: String,
}

/// A mark per event of every deploy, labelled with what happened (and, with several
/// deploys, which deploy).
pub(crate) fn deploy_marks(out: &RunOutput) -> Vec<Mark> {
    let several = out.deploys.len() > 1;
    out.deploys
        .iter()
        .flat_map(|d| {
            d.events.iter().map(move |e| Mark {
                at_s: e.at.as_secs_f64(),
                label: if several { format!("{}: {}", d.name, e.what) } else { e.what.clone() },
            })
        })
        .collect()
}

/// `(file name, SVG text)` for each plot: `outcomes.svg`, `latency.svg`, `queues.svg`; then
/// `amplification.svg` (attempts per logical call over time) when some call site's policy
/// kept a series, and `breakers.svg` (breakers open and half-open) when one of those sites
/// has breakers; `fleet.svg` (instances by version and state, and each version's share of
/// answers) when some service has versions or lifecycle activity, and `flows.svg` (flows
/// started, completed and failed per second, with the versions' shares beneath) when some
/// client group runs a flow.
///
/// # Errors
/// [`ReportError::Plot`] if plotters refuses to draw; it draws into memory, so this points to
/// a bug rather than to the environment.
pub fn plots(meta: &ReportMeta, out: &RunOutput) -> Result<Vec<(String, String)>, ReportError> {
    let spans = spans(out);
    let x_max = x_max_s(out, &spans);
    let bands: Vec<Band> = out.faults.iter().map(Band::of).collect();
    let marks = deploy_marks(out);
    let mut figures = vec![
        ("outcomes.svg", outcomes_figure(meta, out, &spans, x_max)),
        ("latency.svg", latency_figure(meta, out, &spans, x_max)),
        ("queues.svg", queues_figure(meta, out, &spans, x_max)),
    ];
    let sites = policy_sites(out);
    if !sites.is_empty() {
        figures.push(("amplification.svg", amplification_figure(meta, &sites, &spans, x_max)));
    }
    if sites.iter().any(PolicySite::has_breaker) {
        figures.push(("breakers.svg", breakers_figure(meta, &sites, &spans, x_max)));
    }
    figures.extend(fleet::fleet_figures(meta, out, &spans, x_max));
    render_all(figures.into_iter().map(|(name, mut fig)| {
        fig.bands.clone_from(&bands);
        fig.marks.clone_from(&marks);
        (name, fig)
    }))
}

/// Renders each `(file name, figure)` to SVG, in order.
pub(crate) fn render_all(
    figures: impl IntoIterator<Item = (&'static str, Figure)>,
) -> Result<Vec<(String, String)>, ReportError> {
    figures
        .into_iter()
        .map(|(name, fig)| {
            render(&fig)
                .map(|svg| (name.to_string(), svg))
                .map_err(|e| ReportError::Plot { plot: name.to_string(), message: e.to_string() })
        })
        .collect()
}

/// Right end of the x axis: the run's end, or the last shown bucket if that is later; never
/// zero, so an empty run still gets a valid axis.
pub(crate) fn x_max_s(out: &RunOutput, spans: &[Span]) -> f64 {
    let last = spans.last().map_or(0.0, Span::start_s);
    let x = out.end.as_secs_f64().max(last);
    if x > 0.0 {
        x
    } else {
        1.0
    }
}

pub(crate) fn title(meta: &ReportMeta, what: &str) -> String {
    format!("{} (seed {}): {what}", meta.title(), meta.seed)
}

/// With one client group its name is left out of labels; with several it prefixes them.
fn label(out: &RunOutput, client: &str, what: &str) -> String {
    if out.clients.len() > 1 {
        format!("{client}/{what}")
    } else {
        what.to_string()
    }
}

fn outcomes_figure(meta: &ReportMeta, out: &RunOutput, spans: &[Span], x_max: f64) -> Figure {
    let mut lines = Vec::new();
    let mut legend = Vec::new();
    for (k, c) in out.clients.iter().enumerate() {
        let dash = CLIENT_DASHES[k % CLIENT_DASHES.len()];
        let rate = |count: &dyn Fn(&ClientPoint<'_>) -> u64| -> Vec<(f64, Option<f64>)> {
            spans.iter().map(|s| (s.start_s(), s.rate_per_s(count(&ClientPoint::at(c, s))))).collect()
        };
        if c.issued > 0 {
            lines.push(Line {
                color: ISSUED_COLOR,
                dash,
                stroke_px: 1,
                points: rate(&|p| p.issued()),
                reference: false,
            });
            legend.push(LegendEntry { label: label(out, &c.name, "issued"), color: ISSUED_COLOR, dash });
        }
        for o in Outcome::ALL.into_iter().filter(|o| c.outcomes.get(*o) > 0) {
            let color = outcome_color(o);
            lines.push(Line { color, dash, stroke_px: 2, points: rate(&|p| p.count(o)), reference: false });
            legend.push(LegendEntry { label: label(out, &c.name, o.name()), color, dash });
        }
    }
    Figure {
        title: title(meta, "requests per second by outcome"),
        x_max,
        panels: vec![Panel { y_desc: "requests per second (1/s)".to_string(), lines }],
        legend,
        bands: Vec::new(),
        marks: Vec::new(),
    }
}

fn latency_figure(meta: &ReportMeta, out: &RunOutput, spans: &[Span], x_max: f64) -> Figure {
    let quantiles = [("p50", 0.5, PALETTE[0]), ("p90", 0.9, PALETTE[1]), ("p99", 0.99, PALETTE[3])];
    let mut lines = Vec::new();
    let mut legend = Vec::new();
    for (k, c) in out.clients.iter().enumerate() {
        let dash = CLIENT_DASHES[k % CLIENT_DASHES.len()];
        for (name, q, color) in quantiles {
            let points =
                spans.iter().map(|s| (s.start_s(), ClientPoint::at(c, s).latency_ok_ms(q))).collect();
            lines.push(Line { color, dash, stroke_px: 2, points, reference: false });
            legend.push(LegendEntry { label: label(out, &c.name, name), color, dash });
        }
    }
    Figure {
        title: title(meta, "latency of successful requests"),
        x_max,
        panels: vec![Panel { y_desc: "latency (ms)".to_string(), lines }],
        legend,
        bands: Vec::new(),
        marks: Vec::new(),
    }
}

fn queues_figure(meta: &ReportMeta, out: &RunOutput, spans: &[Span], x_max: f64) -> Figure {
    let mut queue_lines = Vec::new();
    let mut busy_lines = Vec::new();
    let mut legend = Vec::new();
    for (k, s) in out.services.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let series = |f: &dyn Fn(&ServicePoint) -> Option<f64>| -> Vec<(f64, Option<f64>)> {
            spans.iter().map(|sp| (sp.start_s(), f(&ServicePoint::at(s, sp)))).collect()
        };
        queue_lines.push(Line {
            color,
            dash: Dash::Solid,
            stroke_px: 2,
            points: series(&|p| p.queue_mean()),
            reference: false,
        });
        busy_lines.push(Line {
            color,
            dash: Dash::Solid,
            stroke_px: 2,
            points: series(&|p| p.busy_mean()),
            reference: false,
        });
        let workers = f64::from(s.workers);
        let capacity = vec![(0.0, Some(workers)), (x_max, Some(workers))];
        busy_lines.push(Line { color, dash: CAPACITY_DASH, stroke_px: 1, points: capacity, reference: true });
        legend.push(LegendEntry {
            label: format!("{} ({} workers)", s.name, s.workers),
            color,
            dash: Dash::Solid,
        });
    }
    if !out.services.is_empty() {
        legend.push(LegendEntry {
            label: "workers (at end of run)".to_string(),
            color: PALETTE[7],
            dash: CAPACITY_DASH,
        });
    }
    Figure {
        title: title(meta, "queues and busy workers"),
        x_max,
        panels: vec![
            Panel { y_desc: "mean queue length (requests)".to_string(), lines: queue_lines },
            Panel { y_desc: "mean busy workers (workers)".to_string(), lines: busy_lines },
        ],
        legend,
        bands: Vec::new(),
        marks: Vec::new(),
    }
}

/// Call site `k`'s colour in the policy charts.
fn site_color(k: usize) -> RGBColor {
    PALETTE[k % PALETTE.len()]
}

/// One number of a call site's policy in a bucket.
type PolicyValue = fn(&PolicyPoint) -> Option<f64>;

/// A line of `value` per bucket of one call site, for the policy figures.
fn site_line(site: &PolicySite<'_>, spans: &[Span], color: RGBColor, dash: Dash, value: PolicyValue) -> Line {
    let points = spans.iter().map(|s| (s.start_s(), value(&PolicyPoint::at(site, s)))).collect();
    Line { color, dash, stroke_px: 2, points, reference: false }
}

fn amplification_figure(meta: &ReportMeta, sites: &[PolicySite<'_>], spans: &[Span], x_max: f64) -> Figure {
    let mut lines = Vec::new();
    let mut legend = Vec::new();
    for (k, site) in sites.iter().enumerate() {
        lines.push(site_line(site, spans, site_color(k), Dash::Solid, PolicyPoint::amplification));
        legend.push(LegendEntry { label: site.name.clone(), color: site_color(k), dash: Dash::Solid });
    }
    // One attempt per call: no amplification at all.
    let one = vec![(0.0, Some(1.0)), (x_max, Some(1.0))];
    lines.push(Line { color: PALETTE[7], dash: CAPACITY_DASH, stroke_px: 1, points: one, reference: true });
    legend.push(LegendEntry {
        label: "one attempt per call".to_string(),
        color: PALETTE[7],
        dash: CAPACITY_DASH,
    });
    Figure {
        title: title(meta, "attempts per logical call"),
        x_max,
        panels: vec![Panel { y_desc: "attempts per call (x)".to_string(), lines }],
        legend,
        bands: Vec::new(),
        marks: Vec::new(),
    }
}

fn breakers_figure(meta: &ReportMeta, sites: &[PolicySite<'_>], spans: &[Span], x_max: f64) -> Figure {
    let mut lines = Vec::new();
    let mut legend = Vec::new();
    for (k, site) in sites.iter().enumerate().filter(|(_, s)| s.has_breaker()) {
        let color = site_color(k);
        let states: [(&str, Dash, PolicyValue); 2] = [
            ("open", Dash::Solid, PolicyPoint::breakers_open),
            ("half-open", HALF_OPEN_DASH, PolicyPoint::breakers_half_open),
        ];
        for (state, dash, value) in states {
            lines.push(site_line(site, spans, color, dash, value));
            legend.push(LegendEntry { label: format!("{} {state}", site.name), color, dash });
        }
    }
    Figure {
        title: title(meta, "circuit breakers open and half-open"),
        x_max,
        panels: vec![Panel { y_desc: "mean breakers in the state".to_string(), lines }],
        legend,
        bands: Vec::new(),
        marks: Vec::new(),
    }
}

type DrawResult<T> = Result<T, DrawingAreaErrorKind<std::io::Error>>;

fn render(fig: &Figure) -> DrawResult<String> {
    svg_page(&fig.title, |charts, legend| {
        let areas = charts.split_evenly((fig.panels.len().max(1), 1));
        for (i, (area, panel)) in areas.iter().zip(&fig.panels).enumerate() {
            let labels = if i == 0 { BandLabels::Shown } else { BandLabels::Hidden };
            draw_panel(area, fig, labels, panel)?;
        }
        draw_legend(legend, &fig.legend)
    })
}

/// A drawing area of an SVG page.
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// The page every chart shares: white, [`SIZE_PX`], `title` on top; `draw` gets the chart
/// area and the legend column on its right.
fn svg_page(title: &str, draw: impl FnOnce(&Area<'_>, &Area<'_>) -> DrawResult<()>) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE_PX).into_drawing_area();
        root.fill(&WHITE)?;
        let body = root.titled(title, (FONT, 24).into_font().color(&BLACK))?;
        let (charts, legend) = body.split_horizontally(SIZE_PX.0 - LEGEND_WIDTH_PX);
        draw(&charts, &legend)?;
        root.present()?;
    }
    Ok(svg)
}

/// The y range a panel needs, and whether it is wide enough for a log scale.
enum YRange {
    Linear(f64),
    Log(f64, f64),
}

fn y_range(panel: &Panel) -> YRange {
    let values = || panel.lines.iter().flat_map(|l| l.points.iter().filter_map(|p| p.1));
    let max = values().fold(0.0, f64::max);
    let min_positive = values().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    let all_positive = values().all(|v| v > 0.0);
    if all_positive && min_positive.is_finite() && max / min_positive >= LOG_SCALE_RATIO_MIN {
        // Headroom on both ends, so no line runs along an axis.
        YRange::Log(min_positive / 1.5, max * 1.5)
    } else if max > 0.0 {
        YRange::Linear(max * 1.08)
    } else {
        YRange::Linear(1.0)
    }
}

/// Whether a panel names the bands it shades (only the top panel does, to save clutter).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum BandLabels {
    Shown,
    Hidden,
}

fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    fig: &Figure,
    labels: BandLabels,
    panel: &Panel,
) -> DrawResult<()> {
    let x_max = fig.x_max;
    let mut builder = chart_builder(area);
    match y_range(panel) {
        YRange::Linear(hi) => {
            let mut chart = builder.build_cartesian_2d(0f64..x_max, 0f64..hi)?;
            draw_lines(&mut chart, (x_max, 0.0, hi), fig, labels, panel)
        }
        YRange::Log(lo, hi) => {
            let mut chart = builder.build_cartesian_2d(0f64..x_max, (lo..hi).log_scale())?;
            draw_lines(&mut chart, (x_max, lo, hi), fig, labels, panel)
        }
    }
}

/// A chart builder with the margins and label areas of every chart.
fn chart_builder<'a, 'b>(area: &'a Area<'b>) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(area);
    builder.margin(10).margin_right(20).x_label_area_size(40).y_label_area_size(70);
    builder
}

/// A chart of one panel, with x in seconds.
type Chart<'a, 'b, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y>>;

/// Draws the mesh, then the bands and marks, then the lines over them. `(x_max, y_lo, y_hi)`
/// is the chart's range.
fn draw_lines<Y>(
    chart: &mut Chart<'_, '_, Y>,
    (x_max, y_lo, y_hi): (f64, f64, f64),
    fig: &Figure,
    labels: BandLabels,
    panel: &Panel,
) -> DrawResult<()>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    draw_mesh(chart, (X_DESC, &panel.y_desc), (&|v| tick(*v), &|v| tick(*v)))?;
    let band_style = BAND_COLOR.mix(BAND_OPACITY).filled();
    let label_style = (FONT, 12).into_font().color(&BAND_LABEL_COLOR).pos(Pos::new(HPos::Left, VPos::Top));
    // Windows outside the axis are clipped (or skipped) here: plotters would draw them over
    // the axis labels.
    let visible = fig.bands.iter().filter(|b| b.start_s < x_max && b.end_s > 0.0);
    for (i, band) in visible.enumerate() {
        let (x0, x1) = (band.start_s.max(0.0), band.end_s.min(x_max));
        chart.draw_series(std::iter::once(Rectangle::new([(x0, y_lo), (x1, y_hi)], band_style)))?;
        if labels == BandLabels::Shown {
            let row_px = 3 + 14 * (i % BAND_LABEL_ROWS) as i32;
            let text = EmptyElement::at((x0, y_hi))
                + Text::new(band.label.clone(), (3, row_px), label_style.clone());
            chart.draw_series(std::iter::once(text))?;
        }
    }
    draw_marks(chart, (x_max, y_lo, y_hi), &fig.marks, labels)?;
    let mut any_point = false;
    for line in &panel.lines {
        let style = ShapeStyle { color: line.color.to_rgba(), filled: false, stroke_width: line.stroke_px };
        for run in line.points.split(|p| p.1.is_none()).filter(|r| !r.is_empty()) {
            any_point |= !line.reference;
            let points: Vec<(f64, f64)> = run.iter().filter_map(|&(x, y)| y.map(|y| (x, y))).collect();
            if let [only] = points.as_slice() {
                // A lone value between two gaps would draw nothing as a line.
                chart.draw_series(std::iter::once(Circle::new(*only, 3, line.color.filled())))?;
            } else if let Some((dash, gap)) = line.dash.pattern_px() {
                chart.draw_series(DashedLineSeries::new(points, dash, gap, style))?;
            } else {
                chart.draw_series(LineSeries::new(points, style))?;
            }
        }
    }
    if !any_point {
        draw_no_data(chart.plotting_area())?;
    }
    Ok(())
}

/// A tick label formatter of one axis.
type TickLabel<'a> = &'a dyn Fn(&f64) -> String;

/// The axes, their descriptions `(x, y)` and faint grid lines, in the style of every chart.
fn draw_mesh<X, Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    (x_desc, y_desc): (&str, &str),
    (x_label, y_label): (TickLabel<'_>, TickLabel<'_>),
) -> DrawResult<()>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style((FONT, 17))
        .label_style((FONT, 14))
        .x_label_formatter(x_label)
        .y_label_formatter(y_label)
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(BLACK.mix(0.04))
        .max_light_lines(4)
        .draw()
}

/// "no data" in grey in the middle of a plotting area that has nothing to show.
fn draw_no_data<X: Ranged, Y: Ranged>(
    area: &DrawingArea<SVGBackend<'_>, Cartesian2d<X, Y>>,
) -> DrawResult<()> {
    let (w, h) = area.dim_in_pixel();
    let centre = ((w / 2) as i32, (h / 2) as i32);
    let style = (FONT, 16).into_font().color(&PALETTE[7]).pos(Pos::new(HPos::Center, VPos::Center));
    area.strip_coord_spec().draw_text("no data", &style, centre)
}

/// Draws each mark within the axis as a vertical line, labelled at the foot of the panel
/// when `labels` says so.
fn draw_marks<Y>(
    chart: &mut Chart<'_, '_, Y>,
    (x_max, y_lo, y_hi): (f64, f64, f64),
    marks: &[Mark],
    labels: BandLabels,
) -> DrawResult<()>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let style = ShapeStyle { color: MARK_COLOR.mix(0.7), filled: false, stroke_width: 1 };
    let label_style = (FONT, 11).into_font().color(&MARK_COLOR).pos(Pos::new(HPos::Left, VPos::Bottom));
    for (i, mark) in marks.iter().filter(|m| (0.0..=x_max).contains(&m.at_s)).enumerate() {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(mark.at_s, y_lo), (mark.at_s, y_hi)],
            style,
        )))?;
        if labels == BandLabels::Shown {
            let row_px = -3 - 13 * (i % MARK_LABEL_ROWS) as i32;
            let text = EmptyElement::at((mark.at_s, y_lo))
                + Text::new(mark.label.clone(), (3, row_px), label_style.clone());
            chart.draw_series(std::iter::once(text))?;
        }
    }
    Ok(())
}

/// A tick label: up to three decimals, trailing zeros dropped (`0.5`, `10`, `0.001`).
fn tick(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn draw_legend(area: &DrawingArea<SVGBackend<'_>, Shift>, entries: &[LegendEntry]) -> DrawResult<()> {
    let text = (FONT, 15).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, e) in entries.iter().take(LEGEND_ENTRIES_MAX).enumerate() {
        let y = LEGEND_TOP_PX + LEGEND_ROW_PX * i as i32;
        let style = ShapeStyle { color: e.color.to_rgba(), filled: false, stroke_width: 2 };
        for (x0, x1) in sample_segments(e.dash, 4, 34) {
            area.draw(&PathElement::new(vec![(x0, y), (x1, y)], style))?;
        }
        area.draw_text(&shorten(&e.label), &text, (42, y))?;
    }
    if entries.len() > LEGEND_ENTRIES_MAX {
        let y = LEGEND_TOP_PX + LEGEND_ROW_PX * LEGEND_ENTRIES_MAX as i32;
        let more = format!("... and {} more", entries.len() - LEGEND_ENTRIES_MAX);
        area.draw_text(&more, &text, (42, y))?;
    }
    Ok(())
}

/// The segments `[from, to]` of a legend sample drawn with `dash`.
fn sample_segments(dash: Dash, from: i32, to: i32) -> Vec<(i32, i32)> {
    match dash.pattern_px() {
        None => vec![(from, to)],
        Some((on, off)) => {
            let mut segments = Vec::new();
            let mut x = from;
            while x < to {
                segments.push((x, (x + on).min(to)));
                x += on + off;
            }
            segments
        }
    }
}

fn shorten(label: &str) -> String {
    if label.chars().count() <= LEGEND_LABEL_CHARS_MAX {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(LEGEND_LABEL_CHARS_MAX - 3).collect();
        s.push_str("...");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{meta, policy_output, sample_output, zero_output};

    fn plot<'a>(plots: &'a [(String, String)], name: &str) -> &'a str {
        &plots.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}")).1
    }

    #[test]
    fn there_are_three_plots_in_a_fixed_order() {
        let p = plots(&meta(), &sample_output()).unwrap();
        let names: Vec<&str> = p.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["outcomes.svg", "latency.svg", "queues.svg"]);
        for (name, svg) in &p {
            assert!(svg.starts_with("<svg"), "{name}: {}", &svg[..60]);
            assert!(svg.trim_end().ends_with("</svg>"), "{name}");
            assert!(svg.contains("width=\"900\" height=\"500\""), "{name}");
            assert!(svg.contains("retry-storm (seed 42)"), "{name}");
            assert!(svg.contains(X_DESC), "{name}");
            assert!(!svg.contains("NaN"), "{name}");
        }
    }

    #[test]
    fn the_outcomes_plot_labels_lines_by_client_and_outcome() {
        let p = plots(&meta(), &sample_output()).unwrap();
        let svg = plot(&p, "outcomes.svg");
        assert!(svg.contains("requests per second (1/s)"));
        for label in ["web/ok", "web/timeout", "web/queue_full", "web/issued", "batch/ok"] {
            assert!(
                svg.contains(&format!(">\n{label}\n<")) || svg.contains(label),
                "no legend entry {label}"
            );
        }
        assert!(!svg.contains("batch/timeout"), "zero outcomes get no line");
        assert!(!svg.contains("web/shed"));
        // Ok is green.
        assert!(svg.contains("#2CA02C") || svg.contains("rgb(44,160,44)"), "no green line");
    }

    #[test]
    fn the_latency_and_queue_plots_have_units_and_legends() {
        let p = plots(&meta(), &sample_output()).unwrap();
        let latency = plot(&p, "latency.svg");
        assert!(latency.contains("latency (ms)"));
        for label in ["web/p50", "web/p90", "web/p99", "batch/p99"] {
            assert!(latency.contains(label), "no legend entry {label}");
        }
        let queues = plot(&p, "queues.svg");
        assert!(queues.contains("mean queue length (requests)"));
        assert!(queues.contains("mean busy workers (workers)"));
        assert!(queues.contains("api (8 workers)"));
        assert!(queues.contains("db (4 workers)"));
    }

    #[test]
    fn one_client_needs_no_client_prefix_in_labels() {
        let mut out = sample_output();
        out.clients.truncate(1);
        let p = plots(&meta(), &out).unwrap();
        assert!(!plot(&p, "outcomes.svg").contains("web/"));
        assert!(plot(&p, "latency.svg").contains("p99"));
    }

    #[test]
    fn fault_windows_are_shaded_on_every_plot_and_named_once() {
        let p = plots(&meta(), &sample_output()).unwrap();
        let fill = "fill=\"#F5A623\"";
        for (name, svg) in &p {
            assert_eq!(svg.matches(fill).count(), panels(name), "{name}: one band per panel");
            assert_eq!(svg.matches("db-slow").count(), 1, "{name}: one label, in the top panel");
            assert!(svg.contains("opacity=\"0.18\""), "{name}: the band is translucent");
        }
        // The band sits behind the data: drawn before the first 2 px line (the mesh is 1 px).
        let outcomes = plot(&p, "outcomes.svg");
        assert!(outcomes.find(fill).unwrap() < outcomes.find("stroke-width=\"2\"").unwrap());
        let mut calm = sample_output();
        calm.faults.clear();
        for (name, svg) in plots(&meta(), &calm).unwrap() {
            assert!(!svg.contains(fill), "{name}: no fault, no band");
        }
    }

    fn panels(name: &str) -> usize {
        if name == "queues.svg" {
            2
        } else {
            1
        }
    }

    #[test]
    fn fault_windows_outside_the_axis_are_clipped_or_left_out() {
        let mut out = sample_output();
        let mut late = out.faults[0].clone();
        late.name = "after-the-end".to_string();
        late.start = squall_kernel::SimTime(70 * squall_kernel::time::NS_PER_S);
        late.end = squall_kernel::SimTime(80 * squall_kernel::time::NS_PER_S);
        let mut long = out.faults[0].clone();
        long.name = "runs-past-the-end".to_string();
        long.end = squall_kernel::SimTime(90 * squall_kernel::time::NS_PER_S);
        out.faults = vec![late, long];
        let p = plots(&meta(), &out).unwrap();
        let svg = plot(&p, "outcomes.svg");
        assert!(!svg.contains("after-the-end"), "a window after the run is not drawn");
        assert!(svg.contains("runs-past-the-end"));
    }

    #[test]
    fn call_sites_with_a_policy_add_amplification_and_breaker_plots() {
        let p = plots(&meta(), &policy_output()).unwrap();
        let names: Vec<&str> = p.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["outcomes.svg", "latency.svg", "queues.svg", "amplification.svg", "breakers.svg"]);
        let amplification = plot(&p, "amplification.svg");
        assert!(amplification.contains("attempts per call (x)"));
        assert!(amplification.contains("one attempt per call"));
        for label in ["web", "api-&gt;db"] {
            assert!(
                amplification.contains(&format!(">{label}<")) || amplification.contains(label),
                "no {label}"
            );
        }
        assert!(!amplification.contains("batch"), "batch has no policy series");
        let breakers = plot(&p, "breakers.svg");
        assert!(breakers.contains("mean breakers in the state"));
        assert!(breakers.contains("web open") && breakers.contains("web half-open"));
        assert!(!breakers.contains("api-&gt;db"), "api has no breaker for db");
        for svg in [amplification, breakers] {
            // Three fault windows, shaded, each named once.
            assert_eq!(svg.matches("fill=\"#F5A623\"").count(), 3);
            for fault in ["cold-start", "db-slow", "api-leak"] {
                assert_eq!(svg.matches(fault).count(), 1, "{fault}");
            }
            assert!(!svg.contains("NaN"));
            assert!(!svg.contains("no data"));
        }
        // A breaker-less policy draws amplification only.
        let mut out = policy_output();
        out.clients[0].policy.breaker = None;
        let names: Vec<String> = plots(&meta(), &out).unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names.last().map(String::as_str), Some("amplification.svg"));
        assert_eq!(plots(&meta(), &policy_output()).unwrap(), p, "byte-identical");
    }

    #[test]
    fn plots_are_byte_identical_for_the_same_input() {
        assert_eq!(plots(&meta(), &sample_output()).unwrap(), plots(&meta(), &sample_output()).unwrap());
    }

    #[test]
    fn an_empty_run_still_draws_valid_plots_saying_no_data() {
        let p = plots(&meta(), &zero_output()).unwrap();
        for (name, svg) in &p {
            assert!(svg.contains("no data"), "{name}");
            assert!(!svg.contains("NaN"), "{name}");
        }
    }

    #[test]
    fn wide_latency_ranges_use_a_log_scale() {
        let line = |ys: &[f64]| Line {
            color: PALETTE[0],
            dash: Dash::Solid,
            stroke_px: 1,
            points: ys.iter().map(|y| (0.0, Some(*y))).collect(),
            reference: false,
        };
        let wide = Panel { y_desc: String::new(), lines: vec![line(&[0.5, 900.0])] };
        assert!(matches!(y_range(&wide), YRange::Log(lo, hi) if lo < 0.5 && hi > 900.0));
        let narrow = Panel { y_desc: String::new(), lines: vec![line(&[5.0, 20.0])] };
        assert!(matches!(y_range(&narrow), YRange::Linear(_)));
        let with_zero = Panel { y_desc: String::new(), lines: vec![line(&[0.0, 900.0])] };
        assert!(matches!(y_range(&with_zero), YRange::Linear(_)));
    }
}
