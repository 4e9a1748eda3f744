//! Charts of parameter sweeps, for a scenario run over a range of parameter values (and seeds):
//! [`sweep_line_svg`], a metric against one parameter with a line per variant of the scenario
//! and its 95 % confidence band, and [`heatmap_svg`], a metric over a grid of two parameters,
//! such as which trigger sizes and durations leave a system metastable.
//!
//! Both take numbers the caller has already aggregated (a mean and bounds per point, a value
//! per cell), so they know nothing of runs or seeds, and both return the SVG text. They share
//! the page, fonts, mesh and legend column of the single-run charts. An undefined number is
//! `None` and shows as such: a gap in a line, a hatched grey cell. A NaN or an infinity in the
//! input is refused with [`ReportError::ChartData`] rather than drawn, so none reaches the SVG.

use super::{
    chart_builder, draw_legend, draw_mesh, draw_no_data, shorten, svg_page, Area, Dash, DrawResult,
    LegendEntry, CLIENT_DASHES, FONT, LEGEND_ENTRIES_MAX, LEGEND_ROW_PX, LEGEND_TOP_PX, PALETTE,
};
use crate::error::ReportError;
use crate::format::compact;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::{
    Cartesian2d, ChartContext, Circle, Color, DashedLineSeries, DrawingAreaErrorKind, IntoFont, PathElement,
    Polygon, RGBColor, Rectangle, SVGBackend, ShapeStyle, Text, BLACK, WHITE,
};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::iter::once;

/// A metric against one swept parameter: a line per series, each point the mean over seeds
/// with a band for its 95 % confidence interval.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineChart {
    /// Printed on top of the chart.
    pub title: String,
    /// The swept parameter, with its unit: `offered load (requests/s)`.
    pub x_label: String,
    /// The metric, with its unit: `p99 latency (ms)`.
    pub y_label: String,
    /// The lines, in legend order; a series' colour follows from its position.
    pub series: Vec<LineSeries>,
}

/// One variant of the scenario across the sweep.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineSeries {
    /// Shown in the legend.
    pub name: String,
    /// The metric at each parameter value, in any order (they are drawn by increasing `x`).
    pub points: Vec<LinePoint>,
}

/// The metric at one value of the swept parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LinePoint {
    /// The parameter's value.
    pub x: f64,
    /// Mean of the metric over seeds; `None` if undefined, which leaves a gap in the line.
    pub mean: Option<f64>,
    /// Lower bound of the 95 % confidence interval; without both bounds (a single seed, say)
    /// the point gets no band.
    pub low: Option<f64>,
    /// Upper bound of the 95 % confidence interval.
    pub high: Option<f64>,
}

/// A metric over a grid of two swept parameters, one coloured cell per pair of values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Heatmap {
    /// Printed on top of the chart.
    pub title: String,
    /// The parameter along the x axis, with its unit.
    pub x_label: String,
    /// The parameter along the y axis, with its unit.
    pub y_label: String,
    /// The metric, with its unit, printed over the colour bar.
    pub value_label: String,
    /// The x parameter's values, left to right; each gets a column of equal width.
    pub xs: Vec<f64>,
    /// The y parameter's values, bottom to top; each gets a row of equal height.
    pub ys: Vec<f64>,
    /// Row-major: the cell of `xs[ix]` and `ys[iy]` is `values[iy * xs.len() + ix]`; `None`
    /// for an undefined value, drawn as a hatched grey cell.
    pub values: Vec<Option<f64>>,
}

/// A grid with more cells is refused: its SVG would be too large to be of use.
const HEATMAP_CELLS_MAX: usize = 40_000;
/// Cell values are written inside the cells when neither side of the grid is longer.
const CELL_VALUES_SIDE_MAX: usize = 12;
/// At most this many grid values are labelled on each heatmap axis.
const GRID_LABELS_MAX: usize = 10;
/// The extent of the data is padded by this share of its span on each side.
const X_PAD_RATIO: f64 = 0.03;
const Y_PAD_RATIO: f64 = 0.08;
/// Confidence bands: the series' colour at this opacity, so lines and grid show through.
const CI_OPACITY: f64 = 0.2;
/// Width of the bar drawn for the interval of a point whose neighbours have none, px.
const CI_BAR_PX: u32 = 6;
const LINE_PX: u32 = 2;
const MARKER_RADIUS_PX: u32 = 3;
/// Cells without a value: light grey, hatched in a darker grey.
const MISSING_COLOR: RGBColor = RGBColor(0xe6, 0xe6, 0xe6);
const HATCH_COLOR: RGBColor = RGBColor(0x9a, 0x9a, 0x9a);
/// Cell text is white on cells at or below this luminance (0 to 255), black on the others.
const DARK_LUMINANCE_MAX: f64 = 140.0;
/// The colour bar in the legend column: x span, top, height (a multiple of the steps), px.
const BAR_X_PX: (i32, i32) = (10, 34);
const BAR_TOP_PX: i32 = 48;
const BAR_HEIGHT_PX: i32 = 256;
const BAR_STEPS: i32 = 64;
/// Ticks on the colour bar, evenly spaced from the lowest value to the highest.
const BAR_TICKS: i32 = 5;

/// A sequential ramp close to matplotlib's viridis (dark purple to yellow), in nine stops:
/// perceptually even, and readable in grey and by most colour-blind readers.
const RAMP: [RGBColor; 9] = [
    RGBColor(0x44, 0x01, 0x54),
    RGBColor(0x47, 0x2c, 0x7a),
    RGBColor(0x3b, 0x51, 0x8b),
    RGBColor(0x2c, 0x71, 0x8e),
    RGBColor(0x21, 0x90, 0x8d),
    RGBColor(0x27, 0xad, 0x81),
    RGBColor(0x5c, 0xc8, 0x63),
    RGBColor(0xaa, 0xdc, 0x32),
    RGBColor(0xfd, 0xe7, 0x25),
];

/// A sweep's metric against one parameter as an SVG: a line per series with markers at its
/// points, over a translucent band of the same colour between each point's confidence
/// bounds. A point without a mean leaves a gap in the line, and one without both bounds a gap
/// in the band. The axes span the data with a little padding (never below zero for data that
/// is not); a chart with no mean at all says "no data".
///
/// # Errors
/// [`ReportError::ChartData`] if a number is NaN or infinite, or the values span more than an
/// `f64` can; [`ReportError::Plot`] (naming the chart by its title) if plotters refuses to draw.
pub fn sweep_line_svg(chart: &LineChart) -> Result<String, ReportError> {
    check_line_chart(chart)?;
    let series: Vec<Vec<LinePoint>> = chart.series.iter().map(|s| by_x(&s.points)).collect();
    let points = || series.iter().flatten();
    let x = axis_range(extent(points().map(|p| p.x)), X_PAD_RATIO);
    let y = axis_range(extent(points().flat_map(|p| [p.mean, p.low, p.high]).flatten()), Y_PAD_RATIO);
    for (lo, hi) in [x, y] {
        if !(hi - lo).is_finite() {
            return Err(data_error(&chart.title, "the values span more than an f64 can hold".to_string()));
        }
    }
    svg_page(&chart.title, |plot, legend| {
        draw_line_plot(plot, chart, &series, (x, y))?;
        draw_line_legend(legend, chart)
    })
    .map_err(|e| plot_error(&chart.title, e))
}

/// A sweep's metric over two parameters as an SVG: a cell per pair of grid values, coloured
/// on a viridis-like ramp from the lowest value to the highest, with the colour bar in the
/// legend column. Cells without a value are hatched grey; on grids of up to 12 x 12 each cell
/// also shows its value. Axis ticks sit at the grid values (at most ten labelled per axis).
/// A grid whose values are all equal is drawn in the ramp's middle colour; an empty grid
/// says "no data".
///
/// # Errors
/// [`ReportError::ChartData`] if `values` does not hold one entry per cell, the grid has more
/// than 40,000 cells, or a number is NaN or infinite; [`ReportError::Plot`] (naming the
/// chart by its title) if plotters refuses to draw.
pub fn heatmap_svg(chart: &Heatmap) -> Result<String, ReportError> {
    check_heatmap(chart)?;
    let range = extent(chart.values.iter().flatten().copied()).map(|(lo, hi)| nonempty(lo, hi));
    if range.is_some_and(|(lo, hi)| !(hi - lo).is_finite()) {
        return Err(data_error(&chart.title, "the values span more than an f64 can hold".to_string()));
    }
    svg_page(&chart.title, |plot, legend| {
        draw_heat_plot(plot, chart, range)?;
        draw_colour_bar(legend, chart, range)
    })
    .map_err(|e| plot_error(&chart.title, e))
}

fn data_error(title: &str, reason: String) -> ReportError {
    ReportError::ChartData { chart: title.to_string(), reason }
}

fn plot_error(title: &str, e: DrawingAreaErrorKind<std::io::Error>) -> ReportError {
    ReportError::Plot { plot: title.to_string(), message: e.to_string() }
}

/// `Err` saying which number (`what`) is not finite.
fn finite(title: &str, v: f64, what: impl FnOnce() -> String) -> Result<(), ReportError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(data_error(title, format!("{} is {v}", what())))
    }
}

fn check_line_chart(chart: &LineChart) -> Result<(), ReportError> {
    for s in &chart.series {
        for (i, p) in s.points.iter().enumerate() {
            let fields = [("x", Some(p.x)), ("mean", p.mean), ("low", p.low), ("high", p.high)];
            for (field, v) in fields.into_iter().filter_map(|(f, v)| v.map(|v| (f, v))) {
                finite(&chart.title, v, || format!("{field} of point {i} of series `{}`", s.name))?;
            }
        }
    }
    Ok(())
}

fn check_heatmap(chart: &Heatmap) -> Result<(), ReportError> {
    let (nx, ny) = (chart.xs.len(), chart.ys.len());
    let cells = nx.checked_mul(ny).filter(|n| *n <= HEATMAP_CELLS_MAX);
    let Some(cells) = cells else {
        let reason = format!("a {nx} x {ny} grid has more than {HEATMAP_CELLS_MAX} cells");
        return Err(data_error(&chart.title, reason));
    };
    if chart.values.len() != cells {
        let reason = format!("{} values for a {nx} x {ny} grid of {cells} cells", chart.values.len());
        return Err(data_error(&chart.title, reason));
    }
    for (axis, grid) in [("x", &chart.xs), ("y", &chart.ys)] {
        for (i, v) in grid.iter().enumerate() {
            finite(&chart.title, *v, || format!("{axis} value {i}"))?;
        }
    }
    for (i, v) in chart.values.iter().enumerate() {
        if let Some(v) = v {
            finite(&chart.title, *v, || format!("the value of cell (x {}, y {})", i % nx, i / nx))?;
        }
    }
    Ok(())
}

/// `points` sorted by `x`, so lines run left to right whatever the caller's order.
fn by_x(points: &[LinePoint]) -> Vec<LinePoint> {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.x.total_cmp(&b.x));
    sorted
}

/// The lowest and highest of `values`; `None` if there are none.
fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// `lo..hi` widened around a single value, so that it has a length: by a tenth of the value
/// on each side, or by one if the value is zero.
fn nonempty(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        return (lo, hi);
    }
    let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
    (lo - pad, hi + pad)
}

/// An axis over `extent` padded by `pad_ratio` of its span on each side, but not below zero
/// when the data is not; `0..1` when there is no data.
fn axis_range(extent: Option<(f64, f64)>, pad_ratio: f64) -> (f64, f64) {
    let Some((lo, hi)) = extent else { return (0.0, 1.0) };
    let (a, b) = if hi > lo {
        let pad = (hi - lo) * pad_ratio;
        (lo - pad, hi + pad)
    } else {
        nonempty(lo, hi)
    };
    (if lo >= 0.0 { a.max(0.0) } else { a }, b)
}

/// A tick label on an axis spanning `span`, with enough decimals to tell ticks apart (about
/// ten ticks at steps of 1, 2 or 5 times a power of ten), trailing zeros dropped.
fn axis_label(v: f64, span: f64) -> String {
    let decimals = (2 - span.log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { &s };
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Series `k`'s colour, and its dash once the palette has been used up.
fn series_style(k: usize) -> (RGBColor, Dash) {
    (PALETTE[k % PALETTE.len()], CLIENT_DASHES[(k / PALETTE.len()) % CLIENT_DASHES.len()])
}

/// A line chart's plotting area: x and y both in the caller's units.
type LineContext<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The ranges are `(x, y)`, each `(low, high)`.
fn draw_line_plot(
    area: &Area<'_>,
    chart: &LineChart,
    series: &[Vec<LinePoint>],
    (x, y): ((f64, f64), (f64, f64)),
) -> DrawResult<()> {
    let mut ctx = chart_builder(area).build_cartesian_2d(x.0..x.1, y.0..y.1)?;
    let labels = (&|v: &f64| axis_label(*v, x.1 - x.0), &|v: &f64| axis_label(*v, y.1 - y.0));
    draw_mesh(&mut ctx, (&chart.x_label, &chart.y_label), (labels.0, labels.1))?;
    // Every band before any line, so no band covers another series' line.
    for (k, points) in series.iter().enumerate() {
        draw_band(&mut ctx, points, series_style(k).0)?;
    }
    for (k, points) in series.iter().enumerate() {
        draw_means(&mut ctx, points, series_style(k))?;
    }
    if series.iter().flatten().all(|p| p.mean.is_none()) {
        draw_no_data(ctx.plotting_area())?;
    }
    Ok(())
}

/// The confidence band of one series: a polygon over each run of points with both bounds, or
/// a short bar for such a point that stands alone.
fn draw_band(ctx: &mut LineContext<'_, '_>, points: &[LinePoint], color: RGBColor) -> DrawResult<()> {
    let bounds = |p: &LinePoint| p.low.zip(p.high);
    for run in points.split(|p| bounds(p).is_none()).filter(|r| !r.is_empty()) {
        let expect = |p: &LinePoint| bounds(p).expect("runs are split where a bound is missing");
        if let [only] = run {
            let (low, high) = expect(only);
            let style = ShapeStyle { color: color.mix(CI_OPACITY), filled: false, stroke_width: CI_BAR_PX };
            ctx.draw_series(once(PathElement::new(vec![(only.x, low), (only.x, high)], style)))?;
        } else {
            let upper = run.iter().map(|p| (p.x, expect(p).1));
            let lower = run.iter().rev().map(|p| (p.x, expect(p).0));
            let outline: Vec<(f64, f64)> = upper.chain(lower).collect();
            ctx.draw_series(once(Polygon::new(outline, color.mix(CI_OPACITY).filled())))?;
        }
    }
    Ok(())
}

/// The line through one series' means, broken where a mean is missing, and a marker at each.
fn draw_means(
    ctx: &mut LineContext<'_, '_>,
    points: &[LinePoint],
    (color, dash): (RGBColor, Dash),
) -> DrawResult<()> {
    let style = ShapeStyle { color: color.to_rgba(), filled: false, stroke_width: LINE_PX };
    for run in points.split(|p| p.mean.is_none()).filter(|r| r.len() > 1) {
        let xy: Vec<(f64, f64)> =
            run.iter().map(|p| (p.x, p.mean.expect("runs are split where a mean is missing"))).collect();
        if let Some((on, off)) = dash.pattern_px() {
            ctx.draw_series(DashedLineSeries::new(xy, on, off, style))?;
        } else {
            ctx.draw_series(plotters::series::LineSeries::new(xy, style))?;
        }
    }
    let markers = points.iter().filter_map(|p| p.mean.map(|m| (p.x, m)));
    ctx.draw_series(markers.map(|xy| Circle::new(xy, MARKER_RADIUS_PX, color.filled())))?;
    Ok(())
}

/// The series' names, then, when some point has a band, a swatch saying what bands mean.
fn draw_line_legend(area: &Area<'_>, chart: &LineChart) -> DrawResult<()> {
    let entries: Vec<LegendEntry> = chart
        .series
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let (color, dash) = series_style(k);
            LegendEntry { label: s.name.clone(), color, dash }
        })
        .collect();
    draw_legend(area, &entries)?;
    let banded = chart.series.iter().flat_map(|s| &s.points).any(|p| p.low.is_some() && p.high.is_some());
    if banded {
        let rows = entries.len().min(LEGEND_ENTRIES_MAX) + usize::from(entries.len() > LEGEND_ENTRIES_MAX);
        let y = LEGEND_TOP_PX + LEGEND_ROW_PX * (rows as i32 + 1);
        area.draw(&Rectangle::new([(4, y - 6), (34, y + 6)], PALETTE[7].mix(CI_OPACITY).filled()))?;
        area.draw_text("95% confidence interval", &legend_text(), (42, y))?;
    }
    Ok(())
}

fn legend_text() -> plotters::style::TextStyle<'static> {
    (FONT, 15).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center))
}

/// A heatmap axis: one unit per column (or row), ticks only at the centres of those labelled.
///
/// plotters' `with_key_points` over an `f64` range would place the ticks, but it does not
/// implement the `ValueFormatter` that a mesh requires.
struct GridAxis {
    units: RangedCoordf64,
    ticks: Vec<f64>,
}

impl GridAxis {
    /// An axis of `n` columns (or rows); one unit long when there are none.
    fn new(n: usize) -> GridAxis {
        let step = n.div_ceil(GRID_LABELS_MAX).max(1);
        let ticks = (0..n).step_by(step).map(|i| i as f64 + 0.5).collect();
        GridAxis { units: (0.0..n.max(1) as f64).into(), ticks }
    }
}

impl Ranged for GridAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.units.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // No light grid lines: the cells cover the plotting area.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.units.range()
    }
}

/// A heatmap's plotting area: one unit per column and row.
type HeatContext<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<GridAxis, GridAxis>>;

fn draw_heat_plot(area: &Area<'_>, chart: &Heatmap, range: Option<(f64, f64)>) -> DrawResult<()> {
    let (nx, ny) = (chart.xs.len(), chart.ys.len());
    let mut ctx = chart_builder(area).build_cartesian_2d(GridAxis::new(nx), GridAxis::new(ny))?;
    let labels = (&|v: &f64| grid_label(&chart.xs, *v), &|v: &f64| grid_label(&chart.ys, *v));
    draw_mesh(&mut ctx, (&chart.x_label, &chart.y_label), (labels.0, labels.1))?;
    if chart.values.is_empty() {
        return draw_no_data(ctx.plotting_area());
    }
    assert_eq!(chart.values.len(), nx * ny, "a grid's values fill it (checked on the way in)");
    let values = if nx <= CELL_VALUES_SIDE_MAX && ny <= CELL_VALUES_SIDE_MAX {
        CellValues::Written
    } else {
        CellValues::Hidden
    };
    for (i, value) in chart.values.iter().enumerate() {
        draw_cell(&mut ctx, ((i % nx) as f64, (i / nx) as f64), *value, range, values)?;
    }
    Ok(())
}

/// Whether cells show their values (only on grids small enough for the text to fit).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum CellValues {
    Written,
    Hidden,
}

/// The cell whose lower-left corner is `(x, y)`: its colour with a white edge, then its value
/// or, without one, a grey hatching.
fn draw_cell(
    ctx: &mut HeatContext<'_, '_>,
    (x, y): (f64, f64),
    value: Option<f64>,
    range: Option<(f64, f64)>,
    values: CellValues,
) -> DrawResult<()> {
    let fill = value.zip(range).map_or(MISSING_COLOR, |(v, r)| ramp(unit(v, r)));
    let corners = [(x, y), (x + 1.0, y + 1.0)];
    let edge = ShapeStyle { color: WHITE.to_rgba(), filled: false, stroke_width: 1 };
    ctx.draw_series([Rectangle::new(corners, fill.filled()), Rectangle::new(corners, edge)])?;
    match value {
        None => {
            let strokes = hatch([x, x + 0.5, x + 1.0], [y, y + 0.5, y + 1.0]);
            ctx.draw_series(strokes.map(|stroke| PathElement::new(stroke, hatch_style())))?;
        }
        Some(v) if values == CellValues::Written => draw_cell_value(ctx, (x, y), v, fill)?,
        Some(_) => {}
    }
    Ok(())
}

/// The grid value of the column (or row) whose centre is `centre`.
fn grid_label(grid: &[f64], centre: f64) -> String {
    grid.get(centre.floor() as usize).map_or_else(String::new, |v| compact(*v))
}

/// Where `v` sits in `lo..hi`, from 0 to 1.
fn unit(v: f64, (lo, hi): (f64, f64)) -> f64 {
    ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
}

/// The ramp's colour at `t` (0 to 1), interpolated linearly between its two nearest stops.
fn ramp(t: f64) -> RGBColor {
    let pos = t.clamp(0.0, 1.0) * (RAMP.len() - 1) as f64;
    let i = (pos.floor() as usize).min(RAMP.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (RAMP[i], RAMP[i + 1]);
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Three parallel diagonal strokes across the box whose `(low, middle, high)` coordinates on
/// each axis are `x` and `y`.
fn hatch<T: Copy>(x: [T; 3], y: [T; 3]) -> [Vec<(T, T)>; 3] {
    [vec![(x[0], y[1]), (x[1], y[2])], vec![(x[0], y[0]), (x[2], y[2])], vec![(x[1], y[0]), (x[2], y[1])]]
}

fn hatch_style() -> ShapeStyle {
    ShapeStyle { color: HATCH_COLOR.to_rgba(), filled: false, stroke_width: 1 }
}

/// `v` in the middle of its cell, in white on dark cells and black on light ones.
fn draw_cell_value(
    ctx: &mut HeatContext<'_, '_>,
    cell: (f64, f64),
    v: f64,
    fill: RGBColor,
) -> DrawResult<()> {
    let luminance = 0.299 * f64::from(fill.0) + 0.587 * f64::from(fill.1) + 0.114 * f64::from(fill.2);
    let color = if luminance <= DARK_LUMINANCE_MAX { WHITE } else { BLACK };
    let style = (FONT, 14).into_font().color(&color).pos(Pos::new(HPos::Center, VPos::Center));
    ctx.draw_series(once(Text::new(compact(v), (cell.0 + 0.5, cell.1 + 0.5), style)))?;
    Ok(())
}

/// The value label, the colour bar with its ticks (or "no values"), and a swatch for cells
/// without a value when there are some.
fn draw_colour_bar(area: &Area<'_>, chart: &Heatmap, range: Option<(f64, f64)>) -> DrawResult<()> {
    area.draw_text(&shorten(&chart.value_label), &legend_text(), (4, LEGEND_TOP_PX))?;
    let below_px = match range {
        Some(r) => {
            draw_bar(area, r)?;
            BAR_TOP_PX + BAR_HEIGHT_PX + 2 * LEGEND_ROW_PX
        }
        None => {
            area.draw_text("no values", &legend_text(), (4, BAR_TOP_PX))?;
            BAR_TOP_PX + 2 * LEGEND_ROW_PX
        }
    };
    if chart.values.iter().any(Option::is_none) {
        let (x, y) =
            ([BAR_X_PX.0, (BAR_X_PX.0 + BAR_X_PX.1) / 2, BAR_X_PX.1], [below_px + 8, below_px, below_px - 8]);
        area.draw(&Rectangle::new([(x[0], y[2]), (x[2], y[0])], MISSING_COLOR.filled()))?;
        for stroke in hatch(x, y) {
            area.draw(&PathElement::new(stroke, hatch_style()))?;
        }
        area.draw_text("no value", &legend_text(), (42, below_px))?;
    }
    Ok(())
}

/// The ramp from `hi` at the top to `lo` at the bottom, with evenly spaced ticks.
fn draw_bar(area: &Area<'_>, (lo, hi): (f64, f64)) -> DrawResult<()> {
    let step_px = BAR_HEIGHT_PX / BAR_STEPS;
    for step in 0..BAR_STEPS {
        let t = 1.0 - (f64::from(step) + 0.5) / f64::from(BAR_STEPS);
        let top = BAR_TOP_PX + step * step_px;
        area.draw(&Rectangle::new([(BAR_X_PX.0, top), (BAR_X_PX.1, top + step_px)], ramp(t).filled()))?;
    }
    let bottom = BAR_TOP_PX + BAR_HEIGHT_PX;
    let frame = ShapeStyle { color: BLACK.mix(0.4), filled: false, stroke_width: 1 };
    area.draw(&Rectangle::new([(BAR_X_PX.0, BAR_TOP_PX), (BAR_X_PX.1, bottom)], frame))?;
    let label = (FONT, 14).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    for j in 0..BAR_TICKS {
        let f = f64::from(j) / f64::from(BAR_TICKS - 1);
        let y = bottom - (f * f64::from(BAR_HEIGHT_PX)).round() as i32;
        let v = lo + (hi - lo) * f;
        // A tick that should be zero can come out as 1e-17; print it as the zero it is.
        let v = if v.abs() < (hi - lo) * 1e-9 { 0.0 } else { v };
        area.draw(&PathElement::new(vec![(BAR_X_PX.1, y), (BAR_X_PX.1 + 4, y)], frame))?;
        area.draw_text(&compact(v), &label, (BAR_X_PX.1 + 8, y))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A point from `(x, mean, low, high)`.
    fn point((x, mean, low, high): (f64, Option<f64>, Option<f64>, Option<f64>)) -> LinePoint {
        LinePoint { x, mean, low, high }
    }

    /// A point with a mean and a confidence interval of +-10 %.
    fn ci(x: f64, mean: f64) -> LinePoint {
        point((x, Some(mean), Some(mean * 0.9), Some(mean * 1.1)))
    }

    fn series(name: &str, points: Vec<LinePoint>) -> LineSeries {
        LineSeries { name: name.to_string(), points }
    }

    fn line_chart(series: Vec<LineSeries>) -> LineChart {
        LineChart {
            title: "retry-storm: p99 latency by offered load".to_string(),
            x_label: "offered load (requests/s)".to_string(),
            y_label: "p99 latency (ms)".to_string(),
            series,
        }
    }

    /// Two variants over five load levels: one with intervals (a gap at 400/s), one from a
    /// single seed, so with means only.
    fn sample_line_chart() -> LineChart {
        let retries = [(100.0, 12.0), (200.0, 14.5), (300.0, 21.0), (500.0, 180.0), (600.0, 420.0)];
        let mut with_ci: Vec<LinePoint> = retries.iter().map(|&(x, m)| ci(x, m)).collect();
        with_ci.push(point((400.0, None, None, None)));
        let budget =
            [(100.0, 11.0), (200.0, 13.0), (300.0, 16.0), (400.0, 25.0), (500.0, 40.0), (600.0, 61.0)];
        let single = budget.iter().map(|&(x, m)| point((x, Some(m), None, None))).collect();
        line_chart(vec![series("retries x3", with_ci), series("retry budget 10%", single)])
    }

    /// An `nx` x `ny` grid of distinct values, with the cells in `missing` left undefined.
    fn grid(nx: usize, ny: usize, missing: &[usize]) -> Heatmap {
        Heatmap {
            title: "retry-storm: metastable after the trigger".to_string(),
            x_label: "trigger size (x load)".to_string(),
            y_label: "trigger duration (s)".to_string(),
            value_label: "p99 latency after (ms)".to_string(),
            xs: (0..nx).map(|i| 1.0 + 0.25 * i as f64).collect(),
            ys: (0..ny).map(|i| 5.0 * (i + 1) as f64).collect(),
            values: (0..nx * ny)
                .map(|i| if missing.contains(&i) { None } else { Some(10.0 + 1.5 * i as f64) })
                .collect(),
        }
    }

    /// The text of every `<text>` element.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim().to_string()))
            .collect()
    }

    /// The polylines drawn in `color` with the series' stroke width: the lines of a series.
    fn lines_of(svg: &str, color: RGBColor) -> usize {
        let stroke =
            format!("stroke=\"#{:02X}{:02X}{:02X}\" stroke-width=\"{LINE_PX}\"", color.0, color.1, color.2);
        svg.split('<').filter(|e| e.starts_with("polyline") && e.contains(&stroke)).count()
    }

    fn assert_valid(svg: &str) {
        assert!(svg.starts_with("<svg"), "{}", &svg[..60]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("width=\"900\" height=\"500\""));
        for bad in ["NaN", "inf"] {
            assert!(!svg.contains(bad), "{bad} in the SVG");
        }
    }

    /// Text drawn centred on a point: the cell values (or "no data").
    fn centred_texts(svg: &str) -> usize {
        svg.split("<text").filter(|t| t.contains("dy=\"0.5ex\" text-anchor=\"middle\"")).count()
    }

    fn hex(c: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    #[test]
    fn bands_are_drawn_only_where_a_point_has_both_bounds() {
        let svg = sweep_line_svg(&sample_line_chart()).unwrap();
        assert_valid(&svg);
        // The first series' band breaks at 400/s, where it has no value; the second has none.
        assert_eq!(svg.matches("<polygon").count(), 2);
        let band = format!("<polygon opacity=\"{CI_OPACITY}\" fill=\"{}\"", hex(PALETTE[0]));
        assert_eq!(svg.matches(&band).count(), 2);
        assert!(texts(&svg).contains(&"95% confidence interval".to_string()));

        let mut means_only = sample_line_chart();
        means_only.series.remove(0);
        let svg = sweep_line_svg(&means_only).unwrap();
        assert!(!svg.contains("<polygon"));
        assert!(!svg.contains("confidence interval"), "no band, no legend entry for bands");
    }

    #[test]
    fn a_lone_point_with_bounds_gets_a_bar_instead_of_a_band() {
        let points =
            vec![point((1.0, Some(5.0), None, None)), ci(2.0, 6.0), point((3.0, Some(7.0), None, None))];
        let svg = sweep_line_svg(&line_chart(vec![series("one seed but at 2", points)])).unwrap();
        assert!(!svg.contains("<polygon"));
        let bar =
            format!("opacity=\"{CI_OPACITY}\" stroke=\"{}\" stroke-width=\"{CI_BAR_PX}\"", hex(PALETTE[0]));
        assert_eq!(svg.matches(&bar).count(), 1);
    }

    #[test]
    fn a_missing_mean_leaves_a_gap_in_the_line_but_every_mean_has_a_marker() {
        let svg = sweep_line_svg(&sample_line_chart()).unwrap();
        // Each count includes the series' sample line in the legend.
        assert_eq!(lines_of(&svg, PALETTE[0]), 2 + 1, "broken at 400/s");
        assert_eq!(lines_of(&svg, PALETTE[1]), 1 + 1);
        assert_eq!(svg.matches("<circle").count(), 5 + 6);
    }

    #[test]
    fn bands_are_drawn_behind_every_line() {
        let svg = sweep_line_svg(&sample_line_chart()).unwrap();
        let last_band = svg.rfind("<polygon").unwrap();
        let first_line = format!("stroke=\"{}\" stroke-width=\"{LINE_PX}\"", hex(PALETTE[1]));
        assert!(last_band < svg.find(&first_line).unwrap());
    }

    #[test]
    fn line_charts_are_byte_identical_whatever_the_order_of_points() {
        let chart = sample_line_chart();
        let svg = sweep_line_svg(&chart).unwrap();
        assert_eq!(svg, sweep_line_svg(&chart.clone()).unwrap());
        let mut reversed = chart;
        for s in &mut reversed.series {
            s.points.reverse();
        }
        assert_eq!(svg, sweep_line_svg(&reversed).unwrap());
    }

    #[test]
    fn line_charts_without_means_say_no_data() {
        let undefined = vec![point((1.0, None, None, None)), point((2.0, None, None, None))];
        for chart in [
            line_chart(Vec::new()),
            line_chart(vec![series("empty", Vec::new())]),
            line_chart(vec![series("undefined", undefined)]),
        ] {
            let svg = sweep_line_svg(&chart).unwrap();
            assert_valid(&svg);
            assert_eq!(texts(&svg).iter().filter(|t| *t == "no data").count(), 1);
        }
    }

    #[test]
    fn one_point_or_equal_values_still_get_an_axis_around_them() {
        let one = line_chart(vec![series("alone", vec![ci(3.0, 0.0)])]);
        let flat = line_chart(vec![series("flat", vec![ci(1.0, -2.0), ci(2.0, -2.0)])]);
        for chart in [one, flat] {
            let svg = sweep_line_svg(&chart).unwrap();
            assert_valid(&svg);
            assert!(svg.contains("<circle"));
            assert!(!texts(&svg).contains(&"no data".to_string()));
        }
        assert_eq!(axis_range(Some((3.0, 3.0)), X_PAD_RATIO), (2.7, 3.3));
        assert_eq!(axis_range(Some((0.0, 0.0)), Y_PAD_RATIO), (0.0, 1.0), "never below zero");
        assert_eq!(axis_range(Some((-2.0, -2.0)), Y_PAD_RATIO), (-2.2, -1.8));
        assert_eq!(axis_range(None, Y_PAD_RATIO), (0.0, 1.0));
    }

    #[test]
    fn non_finite_numbers_are_refused_rather_than_drawn() {
        let mut chart = sample_line_chart();
        chart.series[1].points[2].high = Some(f64::NAN);
        let err = sweep_line_svg(&chart).unwrap_err().to_string();
        assert!(err.contains("high of point 2 of series `retry budget 10%` is NaN"), "{err}");
        chart.series[1].points[2] = point((f64::INFINITY, None, None, None));
        assert!(matches!(sweep_line_svg(&chart), Err(ReportError::ChartData { .. })));
        let huge = line_chart(vec![series("huge", vec![ci(1.0, f64::MAX), ci(2.0, -f64::MAX)])]);
        assert!(matches!(sweep_line_svg(&huge), Err(ReportError::ChartData { .. })));

        let mut heat = grid(2, 2, &[]);
        heat.values[3] = Some(f64::NEG_INFINITY);
        let err = heatmap_svg(&heat).unwrap_err().to_string();
        assert!(err.contains("the value of cell (x 1, y 1) is -inf"), "{err}");
        let mut heat = grid(2, 2, &[]);
        heat.ys[0] = f64::NAN;
        assert!(matches!(heatmap_svg(&heat), Err(ReportError::ChartData { .. })));
    }

    #[test]
    fn a_one_by_one_heatmap_is_one_cell_in_the_middle_colour_of_the_ramp() {
        let svg = heatmap_svg(&grid(1, 1, &[])).unwrap();
        assert_valid(&svg);
        assert_eq!(centred_texts(&svg), 1);
        assert!(svg.contains(&format!("fill=\"{}\"", hex(ramp(0.5)))));
        let texts = texts(&svg);
        for label in ["1", "5", "10", "9", "11"] {
            assert!(texts.contains(&label.to_string()), "no label {label} in {texts:?}");
        }
    }

    #[test]
    fn a_three_by_four_heatmap_labels_every_grid_value_and_writes_every_defined_cell() {
        let svg = heatmap_svg(&grid(3, 4, &[4])).unwrap();
        assert_valid(&svg);
        assert_eq!(centred_texts(&svg), 11, "one cell has no value");
        let texts = texts(&svg);
        for label in
            ["1", "1.25", "1.5", "5", "10", "15", "20", "11.5", "26.5", "no value", "p99 latency after (ms)"]
        {
            assert!(texts.contains(&label.to_string()), "no label {label} in {texts:?}");
        }
        assert!(!texts.contains(&"16".to_string()), "the missing cell gets no value");
        assert!(svg.contains(&format!("fill=\"{}\"", hex(MISSING_COLOR))));
        assert_eq!(
            svg.matches(&format!("stroke=\"{}\"", hex(HATCH_COLOR))).count(),
            3 + 3,
            "cell and swatch"
        );
        // The lowest value takes the ramp's first colour and the highest its last.
        assert!(svg.contains(&format!("fill=\"{}\"", hex(RAMP[0]))));
        assert!(svg.contains(&format!("fill=\"{}\"", hex(RAMP[RAMP.len() - 1]))));
    }

    #[test]
    fn a_twenty_by_twenty_heatmap_labels_every_other_grid_value_and_writes_no_cell() {
        let svg = heatmap_svg(&grid(20, 20, &[0, 399])).unwrap();
        assert_valid(&svg);
        assert_eq!(centred_texts(&svg), 0);
        let texts = texts(&svg);
        assert!(texts.contains(&"1.5".to_string()) && !texts.contains(&"1.25".to_string()), "{texts:?}");
        assert!(texts.contains(&"95".to_string()) && !texts.contains(&"100".to_string()), "{texts:?}");
    }

    #[test]
    fn cell_values_are_written_up_to_twelve_by_twelve() {
        assert_eq!(centred_texts(&heatmap_svg(&grid(12, 12, &[])).unwrap()), 144);
        assert_eq!(centred_texts(&heatmap_svg(&grid(13, 12, &[])).unwrap()), 0);
        assert_eq!(centred_texts(&heatmap_svg(&grid(12, 13, &[])).unwrap()), 0);
    }

    #[test]
    fn degenerate_heatmaps_draw_valid_charts_or_say_what_is_wrong() {
        let all_missing = grid(3, 2, &[0, 1, 2, 3, 4, 5]);
        let svg = heatmap_svg(&all_missing).unwrap();
        assert_valid(&svg);
        let labels = texts(&svg);
        assert!(labels.contains(&"no values".to_string()) && labels.contains(&"no value".to_string()));
        for empty in [grid(0, 0, &[]), grid(0, 3, &[]), grid(4, 0, &[])] {
            let svg = heatmap_svg(&empty).unwrap();
            assert_valid(&svg);
            assert!(texts(&svg).contains(&"no data".to_string()));
        }
        let mut short = grid(3, 4, &[]);
        short.values.pop();
        let err = heatmap_svg(&short).unwrap_err().to_string();
        assert!(err.contains("11 values for a 3 x 4 grid of 12 cells"), "{err}");
        let mut huge = grid(0, 0, &[]);
        (huge.xs, huge.ys) = (vec![1.0; 201], vec![1.0; 200]);
        assert!(matches!(heatmap_svg(&huge), Err(ReportError::ChartData { .. })));
        let mut wide = grid(2, 1, &[]);
        wide.values = vec![Some(f64::MAX), Some(-f64::MAX)];
        assert!(matches!(heatmap_svg(&wide), Err(ReportError::ChartData { .. })));
    }

    #[test]
    fn heatmaps_are_byte_identical_for_the_same_input() {
        let heat = grid(6, 5, &[7, 22]);
        assert_eq!(heatmap_svg(&heat).unwrap(), heatmap_svg(&heat.clone()).unwrap());
    }

    #[test]
    fn the_ramp_runs_through_its_stops() {
        assert_eq!(ramp(0.0), RAMP[0]);
        assert_eq!(ramp(0.5), RAMP[4]);
        assert_eq!(ramp(1.0), RAMP[8]);
        assert_eq!(ramp(1.0 / 16.0), RGBColor(0x46, 0x17, 0x67));
    }

    #[test]
    fn axis_labels_have_the_decimals_their_span_needs() {
        assert_eq!(axis_label(0.30000000000000004, 1.0), "0.3");
        assert_eq!(axis_label(-0.0001, 1.0), "0");
        assert_eq!(axis_label(1000.1, 0.5), "1000.1");
        assert_eq!(axis_label(250.0, 600.0), "250");
        assert_eq!(axis_label(0.00025, 0.002), "0.00025");
    }

    #[test]
    fn sample_charts_are_written_when_asked() {
        let Ok(dir) = std::env::var("SQUALL_SWEEP_SAMPLES") else { return };
        let dir = std::path::Path::new(&dir);
        std::fs::write(dir.join("sweep-line.svg"), sweep_line_svg(&sample_line_chart()).unwrap()).unwrap();
        std::fs::write(dir.join("sweep-heat.svg"), heatmap_svg(&grid(6, 5, &[7, 22])).unwrap()).unwrap();
    }
}
