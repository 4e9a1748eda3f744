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
//! [`seeds_table`] prints them, one column per variant; [`seeds_csv`] is `seeds.csv`, one row
//! per variant and metric (`variant`, `kind`, `name`, `metric`, `mean`, `ci_low`, `ci_high`,
//! `n`; the interval is empty below two values, every cell empty when undefined); and the
//! same rows go into `comparison.json` under `seeds`.

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
    /// The 95 % confidence interval of the mean, `(low, high)`; `None` below two values.
    pub ci: Option<(f64, f64)>,
}

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
        let variants = runs.iter().map(|(name, outs)| (name.clone(), metrics(outs))).collect();
        OverSeeds { seeds, variants }
    }
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
            let values: Vec<f64> =
                stats.iter().filter_map(|st| pick.value(st)).filter(|v| v.is_finite()).collect();
            let summary = mean_ci95(&values);
            SeedMetric {
                kind,
                name,
                metric,
                mean: summary.map(|(m, _)| m),
                ci: summary.and_then(|(_, ci)| ci),
                values,
            }
        })
        .collect()
}

/// `seeds.csv`: a header, then one row per variant and metric (see the module docs).
pub fn seeds_csv(over: &OverSeeds) -> String {
    let mut csv = String::from("variant,kind,name,metric,mean,ci_low,ci_high,n\n");
    let num = |v: Option<f64>| v.map(fixed).unwrap_or_default();
    for (variant, metrics) in &over.variants {
        for m in metrics {
            let cells = [
                csv_field(variant),
                m.kind.to_string(),
                csv_field(&m.name),
                m.metric.to_string(),
                num(m.mean),
                num(m.ci.map(|c| c.0)),
                num(m.ci.map(|c| c.1)),
                m.values.len().to_string(),
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

/// The over-seeds section of the comparison table: a heading with the seeds, then per client
/// group, the totals and the steady state, one row per metric and one column per variant,
/// each cell `mean [low, high]` (`-` when undefined; the mean alone below two values).
pub fn seeds_table(over: &OverSeeds) -> String {
    let seeds = match over.seeds.as_slice() {
        [] => "no seeds".to_string(),
        [one] => format!("seed {one}"),
        [first, .., last] => format!("{} seeds, {first} to {last}", over.seeds.len()),
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec![format!("over {seeds}: mean [95% CI]")];
    header.extend(over.variants.iter().map(|(name, _)| name.clone()));
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
        for (_, metrics) in &over.variants {
            let cell = metrics.iter().find(|x| x.kind == kind && x.name == name && x.metric == metric);
            row.push(match cell.and_then(|x| x.mean.map(|mean| (mean, x.ci))) {
                None => "-".to_string(),
                Some((mean, None)) => show(metric, mean),
                Some((mean, Some((lo, hi)))) => {
                    format!("{} [{}, {}]", show(metric, mean), show(metric, lo), show(metric, hi))
                }
            });
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
    let mut s = String::from("\n");
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
        assert!(csv.starts_with("variant,kind,name,metric,mean,ci_low,ci_high,n\n"), "{csv}");
        assert!(csv.contains("\nbaseline,client,web,success_rate,0.950000,0.950000,0.950000,3\n"), "{csv}");
        assert!(csv.lines().all(|l| l.split(',').count() == 8), "{csv}");
        let table = seeds_table(&over);
        assert!(table.contains("over 3 seeds, 7 to 9: mean [95% CI]"), "{table}");
        assert!(table.contains("\nsteady web\n"), "{table}");
        assert!(table.contains("95.00% [95.00%, 95.00%]"), "{table}");
    }
}
