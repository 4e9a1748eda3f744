//! Headline figures of each variant over several seeds: mean and 95 % confidence interval.
//!
//! A comparison run with `--seeds K` runs every variant with the same K seeds (common random
//! numbers across variants). [`OverSeeds::of`] reduces each variant's runs to one value per
//! seed of each headline metric and summarises them by their mean and a Student t interval
//! with `n - 1` degrees of freedom (`n` the seeds where the metric is defined): per client
//! group (matched by name) the success rate, the goodput (successes, ok or degraded, per second), the p99
//! latency of successes and the amplification of the group's policy (attempts per request);
//! the amplification of all groups together; and, when the scenario configures a warm-up,
//! the end of the warm-up and the steady-state throughput, goodput, success rate and mean
//! latency of successes per client group and for all of them.
//!
//! Every variant after the first (the baseline) also gets its *paired* difference from the
//! baseline per metric: the mean of `variant - baseline` over the seeds where both are defined,
//! with its own t interval, and whether that interval excludes zero (`significant`). The
//! variants share random numbers seed by seed, so most of the noise cancels in the pairs and
//! this interval is far narrower than the two intervals side by side suggest.
//!
//! Intervals are clipped to the range the metric can take: a rate to [0, 1] (its difference
//! to [-1, 1]), other figures to zero and above. [`OverSeeds::warnings`] names the intervals
//! that say little: those from fewer than three values, and those of zero width (every seed
//! gave the same value, or the same difference).
//!
//! [`seeds_table`] prints them, one column per variant, then the differences and the
//! warnings; [`seeds_csv`] is `seeds.csv`, one row per variant and metric (`variant`, `kind`,
//! `name`, `metric`, `mean`, `ci_low`, `ci_high`, `n`, then `diff`, `diff_low`, `diff_high`,
//! `diff_n` and `significant`, empty for the baseline; an interval is empty below two values,
//! every cell empty when undefined); and the same rows go into `comparison.json` under
//! `seeds`, with the warnings.

use crate::format::{csv_field, fixed};
use crate::stats::{mean_ci95, measure, warmup_kind, RunStats};
use squall_model::analysis::SteadyFigures;
use squall_model::metrics::{Clients, Ctx, Scope};
use squall_model::RunOutput;

/// Confidence level of every interval: 95 %.
pub const CONFIDENCE: f64 = 0.95;

/// One metric of one variant summarised over its seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedMetric {
    /// What it is about: `client`, `total` (all client groups), `steady` (a client group, or
    /// `all`, over the steady window) or `warmup`.
    pub kind: &'static str,
    /// The client group's name, or `all`.
    pub name: String,
    /// The metric's name, as in `summary.json` (`success_rate`, `goodput_per_s`, `p99_ms`,
    /// `amplification`, `throughput_per_s`, `latency_ok_mean_ms`, `warmup_end_s`).
    pub metric: &'static str,
    /// The value of each seed where it is defined, in seed order.
    pub values: Vec<f64>,
    /// Their mean; `None` when no seed defines it.
    pub mean: Option<f64>,
    /// The 95 % confidence interval of the mean, `(low, high)`, clipped to the metric's
    /// range; `None` below two values.
    pub ci: Option<(f64, f64)>,
    /// The value of each seed, in seed order, `None` where undefined: what the pairs are
    /// made of.
    pub per_seed: Vec<Option<f64>>,
    /// The paired difference from the baseline; `None` for the baseline itself, or when no
    /// seed defines the metric in both.
    pub diff: Option<PairedDiff>,
}

/// The mean of `variant - baseline` over the seeds where both define a metric.
#[derive(Clone, Debug, PartialEq)]
pub struct PairedDiff {
    /// The mean difference.
    pub mean: f64,
    /// Its 95 % confidence interval (Student t over the pairs), clipped to the range a
    /// difference can take; `None` below two pairs.
    pub ci: Option<(f64, f64)>,
    /// The pairs.
    pub n: usize,
}

impl PairedDiff {
    /// Whether the interval excludes zero: the variant differs from the baseline at the 95 %
    /// level. `false` without an interval.
    pub fn significant(&self) -> bool {
        self.ci.is_some_and(|(lo, hi)| lo > 0.0 || hi < 0.0)
    }
}

/// The range a metric's values can take: rates are in [0, 1], the rest are not negative.
fn range_of(metric: &str) -> (f64, f64) {
    if metric == "success_rate" {
        (0.0, 1.0)
    } else {
        (0.0, f64::INFINITY)
    }
}

/// `ci` clipped to `[lo, hi]`.
fn clip(ci: Option<(f64, f64)>, (lo, hi): (f64, f64)) -> Option<(f64, f64)> {
    ci.map(|(a, b)| (a.clamp(lo, hi), b.clamp(lo, hi)))
}

/// Seeds below which an interval is flagged: with two, Student's t has one degree of freedom
/// and the interval is twelve standard errors wide.
pub const SEEDS_MIN: usize = 3;

/// Every variant's headline metrics over the seeds, in variant order.
#[derive(Clone, Debug, PartialEq)]
pub struct OverSeeds {
    /// The seeds, in order; every variant ran with each of them.
    pub seeds: Vec<u64>,
    /// Per variant, its name and metrics (clients in run order, then totals, then the
    /// steady-state figures).
    pub variants: Vec<(String, Vec<SeedMetric>)>,
}

/// Picks one figure out of steady-state figures.
type SteadyFigure = fn(&SteadyFigures) -> Option<f64>;

/// Where a metric's value comes from in one run's numbers.
enum Pick {
    /// A client group's whole-run metric, by its name in the catalogue.
    Client(String, &'static str),
    /// A metric of the whole run, by its name in the catalogue.
    Run(&'static str),
    /// The start of the steady window.
    WarmupEnd,
    /// A steady-state figure of a client group, or of all (`None`).
    Steady(Option<String>, SteadyFigure),
}

impl Pick {
    /// The value in `st`; `None` when the run lacks the entity or the value is undefined.
    fn value(&self, st: &RunStats<'_>) -> Option<f64> {
        match self {
            Pick::Client(name, metric) => {
                let c = st.out.clients.iter().find(|c| c.name == *name)?;
                measure(Scope::Client, metric, Ctx::Clients(&Clients::one(st.out, c)))
            }
            Pick::Run(metric) => measure(Scope::Run, metric, Ctx::Clients(&Clients::all(st.out))),
            Pick::WarmupEnd => st.steady.as_ref().map(|s| s.start.as_secs_f64()),
            Pick::Steady(group, f) => {
                let s = st.steady.as_ref()?;
                match group {
                    None => f(&s.all),
                    Some(g) => s.clients.iter().find(|(n, _)| n == g).and_then(|(_, x)| f(x)),
                }
            }
        }
    }
}

impl OverSeeds {
    /// Summarises `runs`: per variant, in order, its outputs in seed order (the seeds are
    /// read from the outputs of the first variant).
    ///
    /// # Panics
    /// If a variant has no runs, or not as many as the first one.
    pub fn of(runs: &[(String, Vec<RunOutput>)]) -> OverSeeds {
        let k = runs.first().map_or(0, |(_, outs)| outs.len());
        for (name, outs) in runs {
            assert!(!outs.is_empty(), "variant `{name}` has no runs");
            assert_eq!(outs.len(), k, "variant `{name}` has {} runs, the first {k}", outs.len());
        }
        let seeds = runs.first().map(|(_, outs)| outs.iter().map(|o| o.seed).collect()).unwrap_or_default();
        let mut variants: Vec<(String, Vec<SeedMetric>)> =
            runs.iter().map(|(name, outs)| (name.clone(), metrics(outs))).collect();
        if let Some(((_, base), rest)) = variants.split_first_mut() {
            for (_, metrics) in rest {
                for m in metrics.iter_mut() {
                    let b =
                        base.iter().find(|b| b.kind == m.kind && b.name == m.name && b.metric == m.metric);
                    m.diff = b.and_then(|b| paired_diff(m.metric, &b.per_seed, &m.per_seed));
                }
            }
        }
        OverSeeds { seeds, variants }
    }

    /// Sentences on the intervals that say little: computed from fewer than [`SEEDS_MIN`]
    /// values, or of zero width (every seed gave the same value or difference, so the interval
    /// measures nothing). One sentence per variant and kind of problem, naming the metrics.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if (2..SEEDS_MIN).contains(&self.seeds.len()) {
            out.push(format!(
                "intervals from {} seeds have {} degree(s) of freedom and are very wide; run --seeds {SEEDS_MIN} or more",
                self.seeds.len(),
                self.seeds.len() - 1
            ));
        }
        let label = |m: &SeedMetric| format!("{} {} {}", m.kind, m.name, m.metric);
        for (variant, metrics) in &self.variants {
            let few: Vec<String> = metrics
                .iter()
                .filter(|m| m.ci.is_some() && m.values.len() < SEEDS_MIN.min(self.seeds.len()))
                .map(label)
                .collect();
            if !few.is_empty() {
                out.push(format!(
                    "variant `{variant}`: intervals from fewer than {SEEDS_MIN} seeds (the others left the metric undefined): {}",
                    few.join(", ")
                ));
            }
            let flat: Vec<String> = metrics.iter().filter(|m| zero_width(m.ci)).map(label).collect();
            if !flat.is_empty() {
                out.push(format!(
                    "variant `{variant}`: zero-width intervals (the same value in every seed): {}",
                    flat.join(", ")
                ));
            }
            let same: Vec<String> = metrics
                .iter()
                .filter(|m| m.diff.as_ref().is_some_and(|d| zero_width(d.ci)))
                .map(label)
                .collect();
            if !same.is_empty() {
                out.push(format!(
                    "variant `{variant}`: zero-width difference from the baseline (the same difference in every seed): {}",
                    same.join(", ")
                ));
            }
        }
        out
    }
}

/// Whether an interval is a point, up to the rounding of the mean and variance of equal
/// values (which leaves a width of a few ulps).
fn zero_width(ci: Option<(f64, f64)>) -> bool {
    ci.is_some_and(|(lo, hi)| hi - lo <= 1e-9 * lo.abs().max(hi.abs()).max(1e-300))
}

/// The paired difference `variant - baseline` of a metric, over the seeds where both are
/// defined.
fn paired_diff(metric: &str, base: &[Option<f64>], variant: &[Option<f64>]) -> Option<PairedDiff> {
    let diffs: Vec<f64> = base
        .iter()
        .zip(variant)
        .filter_map(|(b, v)| Some(v.as_ref()? - b.as_ref()?))
        .filter(|d| d.is_finite())
        .collect();
    let (mean, ci) = mean_ci95(&diffs)?;
    let (lo, hi) = range_of(metric);
    // A difference of two values in [lo, hi] lies in [lo - hi, hi - lo].
    Some(PairedDiff { mean, ci: clip(ci, (lo - hi, hi - lo)), n: diffs.len() })
}

/// The metrics of one variant, from its runs in seed order.
fn metrics(outs: &[RunOutput]) -> Vec<SeedMetric> {
    let stats: Vec<RunStats<'_>> = outs.iter().map(RunStats::of).collect();
    let first = &outs[0];
    let mut picks: Vec<(&'static str, String, &'static str, Pick)> = Vec::new();
    // Catalogue metrics, named as the catalogue names them.
    let per_client = ["success_rate", "goodput_per_s", "p99_ms", "amplification"];
    for c in &first.clients {
        for metric in per_client {
            picks.push(("client", c.name.clone(), metric, Pick::Client(c.name.clone(), metric)));
        }
    }
    picks.push(("total", "all".to_string(), "amplification", Pick::Run("amplification")));
    if first.warmup.is_some() {
        picks.push(("warmup", warmup_kind(first.warmup).to_string(), "warmup_end_s", Pick::WarmupEnd));
        let per_group: [(&'static str, SteadyFigure); 4] = [
            ("throughput_per_s", |f| f.throughput_per_s),
            ("goodput_per_s", |f| f.goodput_per_s),
            ("success_rate", |f| f.success_rate),
            ("latency_ok_mean_ms", |f| f.latency_ok_mean_ns.map(|ns| ns / 1e6)),
        ];
        let groups = first.clients.iter().map(|c| Some(c.name.clone())).chain([None]);
        for group in groups {
            for (metric, f) in per_group {
                let name = group.clone().unwrap_or_else(|| "all".to_string());
                picks.push(("steady", name, metric, Pick::Steady(group.clone(), f)));
            }
        }
    }
    picks
        .into_iter()
        .map(|(kind, name, metric, pick)| {
            let per_seed: Vec<Option<f64>> =
                stats.iter().map(|st| pick.value(st).filter(|v| v.is_finite())).collect();
            let values: Vec<f64> = per_seed.iter().flatten().copied().collect();
            let summary = mean_ci95(&values);
            SeedMetric {
                kind,
                name,
                metric,
                mean: summary.map(|(m, _)| m),
                ci: clip(summary.and_then(|(_, ci)| ci), range_of(metric)),
                values,
                per_seed,
                diff: None,
            }
        })
        .collect()
}

/// `seeds.csv`: a header, then one row per variant and metric (see the module docs).
pub fn seeds_csv(over: &OverSeeds) -> String {
    let mut csv = String::from(
        "variant,kind,name,metric,mean,ci_low,ci_high,n,diff,diff_low,diff_high,diff_n,significant\n",
    );
    let num = |v: Option<f64>| v.map(fixed).unwrap_or_default();
    for (variant, metrics) in &over.variants {
        for m in metrics {
            let d = m.diff.as_ref();
            let cells = [
                csv_field(variant),
                m.kind.to_string(),
                csv_field(&m.name),
                m.metric.to_string(),
                num(m.mean),
                num(m.ci.map(|c| c.0)),
                num(m.ci.map(|c| c.1)),
                m.values.len().to_string(),
                num(d.map(|d| d.mean)),
                num(d.and_then(|d| d.ci.map(|c| c.0))),
                num(d.and_then(|d| d.ci.map(|c| c.1))),
                d.map(|d| d.n.to_string()).unwrap_or_default(),
                d.map(|d| d.significant().to_string()).unwrap_or_default(),
            ];
            csv.push_str(&cells.join(","));
            csv.push('\n');
        }
    }
    csv
}

/// How a metric's values print in the table.
fn show(metric: &str, v: f64) -> String {
    match metric {
        "success_rate" => format!("{:.2}%", 100.0 * v),
        "amplification" => format!("{v:.3}x"),
        "p99_ms" | "latency_ok_mean_ms" => format!("{v:.3}ms"),
        "warmup_end_s" => format!("{v:.3}s"),
        _ => format!("{v:.2}"),
    }
}

/// A difference as [`show`] prints its metric, with its sign (`+0.00` for none).
fn show_diff(metric: &str, v: f64) -> String {
    let text = show(metric, v.abs());
    if v < 0.0 {
        format!("-{text}")
    } else {
        format!("+{text}")
    }
}

/// A table cell: `mean [low, high]`, the mean alone without an interval, `-` when undefined.
fn cell(shown: impl Fn(f64) -> String, mean: Option<f64>, ci: Option<(f64, f64)>) -> String {
    match (mean, ci) {
        (None, _) => "-".to_string(),
        (Some(mean), None) => shown(mean),
        (Some(mean), Some((lo, hi))) => format!("{} [{}, {}]", shown(mean), shown(lo), shown(hi)),
    }
}

/// The over-seeds section of the comparison table: a heading with the seeds, then per client
/// group, the totals and the steady state, one row per metric and one column per variant,
/// each cell `mean [low, high]` (`-` when undefined; the mean alone below two values); then
/// the same rows for the paired difference of each other variant from the baseline, marked
/// `*` when significant; then the [`OverSeeds::warnings`].
pub fn seeds_table(over: &OverSeeds) -> String {
    let seeds = match over.seeds.as_slice() {
        [] => "no seeds".to_string(),
        [one] => format!("seed {one}"),
        [first, .., last] => format!("{} seeds, {first} to {last}", over.seeds.len()),
    };
    let means = grid(over, &format!("over {seeds}: mean [95% CI]"), &over.variants, |metric, m| {
        cell(|v| show(metric, v), m.mean, m.ci)
    });
    let mut s = String::from("\n");
    s.push_str(&means);
    if let Some((base, rest)) = over.variants.split_first() {
        if !rest.is_empty() {
            let heading = format!("difference from {}, paired by seed: mean [95% CI], * significant", base.0);
            let diffs = grid(over, &heading, rest, |metric, m| match &m.diff {
                None => "-".to_string(),
                Some(d) => {
                    let mark = if d.significant() { " *" } else { "" };
                    format!("{}{mark}", cell(|v| show_diff(metric, v), Some(d.mean), d.ci))
                }
            });
            s.push('\n');
            s.push_str(&diffs);
        }
    }
    for w in over.warnings() {
        s.push_str(&format!("warning: {w}\n"));
    }
    s
}

/// One table of `variants`' metrics: `heading` and a column per variant, then per client
/// group, the totals and the steady state, one row per metric with `show(metric, m)` in it.
fn grid(
    over: &OverSeeds,
    heading: &str,
    variants: &[(String, Vec<SeedMetric>)],
    show: impl Fn(&str, &SeedMetric) -> String,
) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec![heading.to_string()];
    header.extend(variants.iter().map(|(name, _)| name.clone()));
    rows.push(header);
    // Rows are the metrics of every variant, in first-seen order.
    let mut keys: Vec<(&str, &str, &str)> = Vec::new();
    for (_, metrics) in &over.variants {
        for m in metrics {
            let key = (m.kind, m.name.as_str(), m.metric);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    let mut section = String::new();
    for (kind, name, metric) in keys {
        let heading = format!("{kind} {name}");
        if heading != section {
            rows.push(vec![heading.clone()]);
            section = heading;
        }
        let mut row = vec![format!("  {metric}")];
        for (_, metrics) in variants {
            let found = metrics.iter().find(|x| x.kind == kind && x.name == name && x.metric == metric);
            row.push(found.map_or_else(|| "-".to_string(), |m| show(metric, m)));
        }
        rows.push(row);
    }
    let n_cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n_cols)
        .map(|c| {
            rows.iter()
                .filter(|r| r.len() > 1)
                .filter_map(|r| r.get(c))
                .map(|x| x.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for r in &rows {
        let mut line = String::new();
        if r.len() == 1 {
            line.push_str(&r[0]);
        } else {
            for (c, cell) in r.iter().enumerate() {
                let pad = widths[c].saturating_sub(cell.chars().count());
                if c == 0 {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                } else {
                    line.push_str("  ");
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                }
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{policy_output, sample_output};

    /// Three "seeds" of two variants: the sample with its ok answers scaled.
    fn runs() -> Vec<(String, Vec<RunOutput>)> {
        let seeded = |base: RunOutput, seed: u64| RunOutput { seed, ..base };
        vec![
            ("baseline".to_string(), (0..3).map(|i| seeded(sample_output(), 7 + i)).collect()),
            ("retries".to_string(), (0..3).map(|i| seeded(policy_output(), 7 + i)).collect()),
        ]
    }

    #[test]
    fn each_variant_gets_its_clients_metrics_and_the_total_with_a_mean_and_an_interval() {
        let over = OverSeeds::of(&runs());
        assert_eq!(over.seeds, [7, 8, 9]);
        assert_eq!(over.variants.len(), 2);
        let (name, m) = &over.variants[0];
        assert_eq!(name, "baseline");
        let labels: Vec<String> = m.iter().map(|x| format!("{} {} {}", x.kind, x.name, x.metric)).collect();
        assert_eq!(
            labels[..4],
            [
                "client web success_rate",
                "client web goodput_per_s",
                "client web p99_ms",
                "client web amplification"
            ]
        );
        assert_eq!(labels.last().unwrap(), "total all amplification");
        // Identical runs: the interval collapses on the mean.
        let success = &m[0];
        assert_eq!(success.values, [0.95, 0.95, 0.95]);
        assert!((success.mean.unwrap() - 0.95).abs() < 1e-12, "{success:?}");
        let (lo, hi) = success.ci.unwrap();
        assert!((lo - 0.95).abs() < 1e-12 && (hi - 0.95).abs() < 1e-12, "{lo} {hi}");
        assert!(!labels.iter().any(|l| l.starts_with("steady")), "no warm-up, no steady figures");
    }

    #[test]
    fn the_interval_holds_the_mean_and_a_warmup_adds_steady_figures() {
        let mut runs = runs();
        for (i, out) in runs[0].1.iter_mut().enumerate() {
            out.warmup = Some(squall_model::Warmup::Fixed(squall_kernel::SimDuration::from_secs(45)));
            // Different goodput per seed: drop some ok answers of later buckets.
            for b in out.clients[0].series.iter_mut().skip(50) {
                let ok = b.outcomes.get(squall_model::Outcome::Ok);
                b.outcomes = crate::sample::counts(&[(squall_model::Outcome::Ok, ok - i as u64)]);
            }
        }
        let over = OverSeeds::of(&runs);
        let m = &over.variants[0].1;
        let good =
            m.iter().find(|x| x.kind == "steady" && x.name == "web" && x.metric == "goodput_per_s").unwrap();
        let (mean, (lo, hi)) = (good.mean.unwrap(), good.ci.unwrap());
        assert_eq!(good.values.len(), 3);
        assert!(lo < mean && mean < hi, "{lo} {mean} {hi}");
        assert!(m.iter().any(|x| x.kind == "steady" && x.name == "all" && x.metric == "latency_ok_mean_ms"));
        let warmup = m.iter().find(|x| x.kind == "warmup").unwrap();
        assert_eq!((warmup.name.as_str(), warmup.mean), ("fixed", Some(45.0)));
        assert!(!over.variants[1].1.iter().any(|x| x.kind == "steady"), "the other variant has no warm-up");

        let csv = seeds_csv(&over);
        assert!(
            csv.starts_with(
                "variant,kind,name,metric,mean,ci_low,ci_high,n,diff,diff_low,diff_high,diff_n,significant\n"
            ),
            "{csv}"
        );
        assert!(
            csv.contains("\nbaseline,client,web,success_rate,0.950000,0.950000,0.950000,3,,,,,\n"),
            "{csv}"
        );
        assert!(csv.lines().all(|l| l.split(',').count() == 13), "{csv}");
        let table = seeds_table(&over);
        assert!(table.contains("over 3 seeds, 7 to 9: mean [95% CI]"), "{table}");
        assert!(table.contains("\nsteady web\n"), "{table}");
        assert!(table.contains("95.00% [95.00%, 95.00%]"), "{table}");
    }

    /// Common random numbers: seed by seed both variants see the same luck, so the pairs'
    /// differences vary far less than either variant does.
    #[test]
    fn a_paired_interval_is_narrower_than_the_intervals_side_by_side() {
        let base = [Some(0.90), Some(0.95), Some(0.80), Some(0.85)];
        let variant = [Some(0.911), Some(0.959), Some(0.812), Some(0.860)];
        let d = paired_diff("success_rate", &base, &variant).unwrap();
        assert_eq!(d.n, 4);
        assert!((d.mean - 0.0105).abs() < 1e-12, "{d:?}");
        let (lo, hi) = d.ci.unwrap();
        assert!(d.significant() && lo > 0.0, "{d:?}");
        let width = |xs: &[Option<f64>]| {
            let v: Vec<f64> = xs.iter().flatten().copied().collect();
            let (_, ci) = mean_ci95(&v).unwrap();
            let (a, b) = ci.unwrap();
            b - a
        };
        assert!(hi - lo < 0.1 * width(&base), "paired {} vs {}", hi - lo, width(&base));
        // Side by side, the two intervals overlap: unpaired, the change would look like noise.
        let (b, v): (Vec<f64>, Vec<f64>) =
            (base.iter().flatten().copied().collect(), variant.iter().flatten().copied().collect());
        let (bc, vc) = (mean_ci95(&b).unwrap().1.unwrap(), mean_ci95(&v).unwrap().1.unwrap());
        assert!(vc.0 < bc.1, "{bc:?} {vc:?}");
        // Seeds where either side is undefined make no pair.
        let d = paired_diff("p99_ms", &[Some(1.0), None, Some(3.0)], &[Some(2.0), Some(5.0), None]).unwrap();
        assert_eq!((d.n, d.mean, d.ci), (1, 1.0, None));
        assert!(!d.significant(), "no interval, no claim");
    }

    #[test]
    fn intervals_stay_within_what_the_metric_can_take() {
        let (_, ci) = mean_ci95(&[1.0, 1.0, 0.99]).unwrap();
        assert!(ci.unwrap().1 > 1.0, "the t interval itself passes 1: {ci:?}");
        let clipped = clip(ci, range_of("success_rate")).unwrap();
        assert_eq!(clipped.1, 1.0);
        assert!(clipped.0 < 1.0);
        let (_, ci) = mean_ci95(&[0.1, 5.0, 0.2]).unwrap();
        assert_eq!(clip(ci, range_of("p99_ms")).unwrap().0, 0.0, "latencies are not negative");
        let d = paired_diff(
            "success_rate",
            &[Some(0.0), Some(0.0), Some(0.1)],
            &[Some(1.0), Some(1.0), Some(0.2)],
        )
        .unwrap();
        let (lo, hi) = d.ci.unwrap();
        assert!(hi <= 1.0 && lo >= -1.0, "{d:?}");
    }

    #[test]
    fn few_seeds_and_zero_width_intervals_are_warned_about() {
        let over = OverSeeds::of(&runs());
        let w = over.warnings();
        assert!(!w.iter().any(|w| w.contains("degree")), "three seeds are enough: {w:?}");
        // The sample runs are the same in every seed: every interval is a point.
        assert!(
            w.iter().any(|w| w.starts_with("variant `baseline`: zero-width intervals")
                && w.contains("client web success_rate")),
            "{w:?}"
        );
        assert!(w.iter().any(|w| w.starts_with("variant `retries`: zero-width difference")), "{w:?}");
        let table = seeds_table(&over);
        assert!(table.contains("difference from baseline, paired by seed"), "{table}");
        assert!(table.contains("\nwarning: variant `baseline`: zero-width intervals"), "{table}");

        let mut two = runs();
        for (_, outs) in &mut two {
            outs.truncate(2);
        }
        let w = OverSeeds::of(&two).warnings();
        assert!(w[0].contains("intervals from 2 seeds have 1 degree(s) of freedom"), "{w:?}");
    }
}
