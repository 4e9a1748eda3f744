//! A sweep's results: a table for the terminal, `runs.csv` (one row per run), `points.csv`
//! (one row per point and variant, each metric's mean and 95 % interval over the seeds), and
//! charts: a metric against the parameter with a band per variant for one parameter, a
//! heatmap per variant for two on a grid.

use squall_explore::sweep::aggregate;
use squall_explore::{Estimate, RunRow, SweepMeta};

use crate::error::ReportError;
use crate::format::{csv_field, fixed};
use crate::plot::sweep::{heatmap_svg, sweep_line_svg, Heatmap, LineChart, LinePoint, LineSeries};

type Points = Vec<(usize, usize, Vec<Option<Estimate>>)>;

fn points(meta: &SweepMeta, rows: &[RunRow]) -> Points {
    aggregate(meta.points.len(), meta.variants.len(), rows, meta.metrics.len())
}

fn cell(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map_or(String::new(), fixed)
}

/// `runs.csv`: run, point, variant, seed, each parameter's value, then every metric.
pub fn sweep_runs_csv(meta: &SweepMeta, rows: &[RunRow]) -> String {
    let mut header =
        vec!["run", "point", "variant", "seed"].into_iter().map(String::from).collect::<Vec<_>>();
    header.extend(meta.params.iter().map(|p| csv_field(p)));
    header.extend(meta.metrics.iter().map(|m| csv_field(m)));
    let mut s = header.join(",") + "\n";
    for r in rows {
        let mut row = vec![
            r.run.to_string(),
            r.point.to_string(),
            csv_field(&meta.variants[r.variant]),
            r.seed.to_string(),
        ];
        row.extend(meta.points[r.point].iter().map(|v| csv_field(v)));
        row.extend(r.metrics.iter().map(|m| cell(*m)));
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

/// `points.csv`: point, variant, each parameter's value, the seeds run, then per metric its
/// mean and 95 % interval (`<metric>`, `<metric>_low`, `<metric>_high`; the bounds are empty
/// with one seed).
pub fn sweep_points_csv(meta: &SweepMeta, rows: &[RunRow]) -> String {
    let mut header = vec!["point".to_string(), "variant".to_string()];
    header.extend(meta.params.iter().map(|p| csv_field(p)));
    header.push("seeds".to_string());
    for m in &meta.metrics {
        header.extend([csv_field(m), csv_field(&format!("{m}_low")), csv_field(&format!("{m}_high"))]);
    }
    let mut s = header.join(",") + "\n";
    for (p, v, est) in points(meta, rows) {
        let mut row = vec![p.to_string(), csv_field(&meta.variants[v])];
        row.extend(meta.points[p].iter().map(|x| csv_field(x)));
        let n = rows.iter().filter(|r| r.point == p && r.variant == v).count();
        row.push(n.to_string());
        for e in &est {
            row.extend([cell(e.map(|e| e.mean)), cell(e.and_then(|e| e.low)), cell(e.and_then(|e| e.high))]);
        }
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

/// The terminal table: per point and variant, each plotted metric's mean and interval.
pub fn sweep_table(meta: &SweepMeta, rows: &[RunRow]) -> String {
    let shown: Vec<usize> =
        meta.plot.iter().filter_map(|m| meta.metrics.iter().position(|x| x == m)).collect();
    let mut s = format!(
        "sweep `{}` ({}): {} points x {} variants x {} seeds = {} runs\n",
        meta.scenario,
        meta.file,
        meta.points.len(),
        meta.variants.len(),
        meta.seeds,
        rows.len()
    );
    let mut header: Vec<String> = meta.params.clone();
    header.push("variant".to_string());
    header.extend(shown.iter().map(|&m| format!("{} (95% CI)", meta.metrics[m])));
    let mut table = vec![header];
    for (p, v, est) in points(meta, rows) {
        let mut row = meta.points[p].clone();
        row.push(meta.variants[v].clone());
        for &m in &shown {
            row.push(match est[m] {
                None => "-".to_string(),
                Some(Estimate { mean, low: Some(l), high: Some(h), .. }) => {
                    format!("{} [{}, {}]", sig(mean), sig(l), sig(h))
                }
                Some(e) => sig(e.mean),
            });
        }
        table.push(row);
    }
    let widths: Vec<usize> =
        (0..table[0].len()).map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for row in &table {
        let line: Vec<String> = row.iter().zip(&widths).map(|(x, w)| format!("{x:<w$}")).collect();
        s.push_str(line.join("  ").trim_end());
        s.push('\n');
    }
    s
}

/// Four significant digits, for the table.
fn sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}")
}

/// A file name for a metric (and a variant): letters, digits, `-` and `_`.
fn file_stem(parts: &[&str]) -> String {
    let joined = parts.join("-");
    joined.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' }).collect()
}

/// The charts of a sweep, as `(file name, SVG)`: with one parameter, one chart per plotted
/// metric with a line (and band) per variant; with two on a grid, a heatmap per plotted
/// metric and variant; none otherwise.
///
/// # Errors
/// [`ReportError`] if a chart cannot be drawn.
pub fn sweep_plots(meta: &SweepMeta, rows: &[RunRow]) -> Result<Vec<(String, String)>, ReportError> {
    let agg = points(meta, rows);
    let mut out = Vec::new();
    let title = |m: &str| format!("{}: {m} (mean of {} seeds)", meta.scenario, meta.seeds);
    // Durations are plotted in seconds; say so.
    let label = |i: usize| {
        let text = meta.points.first().map_or("", |p| p[i].as_str());
        if text.parse::<f64>().is_ok() {
            meta.params[i].clone()
        } else {
            format!("{} (s)", meta.params[i])
        }
    };
    for name in &meta.plot {
        let Some(m) = meta.metrics.iter().position(|x| x == name) else { continue };
        match meta.params.len() {
            1 => {
                let series = meta
                    .variants
                    .iter()
                    .enumerate()
                    .map(|(v, vname)| LineSeries {
                        name: vname.clone(),
                        points: agg
                            .iter()
                            .filter(|(_, pv, _)| *pv == v)
                            .map(|(p, _, est)| LinePoint {
                                x: meta.x(*p)[0],
                                mean: est[m].map(|e| e.mean),
                                low: est[m].and_then(|e| e.low),
                                high: est[m].and_then(|e| e.high),
                            })
                            .collect(),
                    })
                    .collect();
                let chart =
                    LineChart { title: title(name), x_label: label(0), y_label: name.clone(), series };
                out.push((format!("{}.svg", file_stem(&[name])), sweep_line_svg(&chart)?));
            }
            2 => {
                let mut xs: Vec<f64> = (0..meta.points.len()).map(|p| meta.x(p)[0]).collect();
                let mut ys: Vec<f64> = (0..meta.points.len()).map(|p| meta.x(p)[1]).collect();
                for v in [&mut xs, &mut ys] {
                    v.sort_by(f64::total_cmp);
                    v.dedup();
                }
                if xs.len() * ys.len() != meta.points.len() {
                    continue; // random points: no grid to colour
                }
                for (v, vname) in meta.variants.iter().enumerate() {
                    let mut values = vec![None; xs.len() * ys.len()];
                    for (p, pv, est) in &agg {
                        if *pv != v {
                            continue;
                        }
                        let x = meta.x(*p);
                        let ix = xs.iter().position(|a| *a == x[0]).expect("a grid value");
                        let iy = ys.iter().position(|a| *a == x[1]).expect("a grid value");
                        values[iy * xs.len() + ix] = est[m].map(|e| e.mean);
                    }
                    let chart = Heatmap {
                        title: format!("{} [{vname}]", title(name)),
                        x_label: label(0),
                        y_label: label(1),
                        value_label: name.clone(),
                        xs: xs.clone(),
                        ys: ys.clone(),
                        values,
                    };
                    out.push((format!("{}.svg", file_stem(&[name, vname])), heatmap_svg(&chart)?));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}
