//! `sweep`: runs a scenario at every point of a grid (or at random points) over some
//! parameters, for each variant and several seeds, and reduces each point to means with 95 %
//! confidence intervals over the seeds.
//!
//! A run is named by its index in point-major order (point, then variant, then seed), which
//! fixes its seed and values whatever `--jobs` or `--shard` is. Seeds are the scenario's
//! seed plus the seed's index, the same at every point and for every variant, so points and
//! variants are compared on common random numbers.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;
use squall_model::metrics::{metric, Clients, Ctx, Scope};
use squall_model::RunOutput;

use crate::check::{Setting, Shard};
use crate::space::Axis;
use crate::stats::{mean_ci, Estimate};

/// The points of a sweep: every combination of each axis' grid, or `random` points drawn
/// uniformly over the box. Each point is one step per axis.
pub fn points(axes: &[Axis], grid: &[u64], random: Option<usize>, seed: u64) -> Vec<Vec<u64>> {
    if let Some(n) = random {
        let mut rng = ChaCha12Rng::seed_from_u64(seed ^ 0x5357_4545_5053_2121);
        return (0..n).map(|_| axes.iter().map(|a| rng.random_range(0..=a.steps())).collect()).collect();
    }
    let mut out: Vec<Vec<u64>> = vec![Vec::new()];
    for (a, n) in axes.iter().zip(grid) {
        let ks = a.grid(*n);
        out = out.into_iter().flat_map(|p| ks.iter().map(move |k| [p.clone(), vec![*k]].concat())).collect();
    }
    out
}

/// What a sweep does.
pub struct SweepPlan<'a> {
    /// Swept parameters.
    pub axes: &'a [Axis],
    /// Steps of each point, one per axis.
    pub points: &'a [Vec<u64>],
    /// Variants run at every point.
    pub variants: &'a [String],
    /// Seeds per point and variant.
    pub seeds: u64,
    /// The first seed.
    pub seed: u64,
    /// Which runs to make.
    pub shard: Shard,
    /// Threads.
    pub jobs: usize,
}

/// One run's numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    /// Index of the run (point-major, then variant, then seed).
    pub run: usize,
    /// Index of the point.
    pub point: usize,
    /// Index of the variant.
    pub variant: usize,
    /// The seed.
    pub seed: u64,
    /// One per metric, `None` when undefined.
    pub metrics: Vec<Option<f64>>,
}

/// A run of a sweep that failed (a value the scenario refused, or a panic): it has no row.
#[derive(Clone, Debug, PartialEq)]
pub struct FailedRun {
    /// Index of the run (point-major, then variant, then seed).
    pub run: usize,
    /// Index of the point.
    pub point: usize,
    /// Index of the variant.
    pub variant: usize,
    /// What ran.
    pub setting: Setting,
    /// Why it failed.
    pub message: String,
}

/// Runs in a sweep (all shards).
pub fn n_runs(plan: &SweepPlan<'_>) -> usize {
    plan.points.len() * plan.variants.len() * plan.seeds as usize
}

/// The setting of run `i`, and its point and variant.
pub fn run_setting(plan: &SweepPlan<'_>, i: usize) -> (usize, usize, Setting) {
    let per_point = plan.variants.len() * plan.seeds as usize;
    let (point, rest) = (i / per_point, i % per_point);
    let (variant, s) = (rest / plan.seeds as usize, rest % plan.seeds as usize);
    let values =
        plan.axes.iter().zip(&plan.points[point]).map(|(a, k)| (a.path.clone(), a.value(*k))).collect();
    (point, variant, Setting { seed: plan.seed.wrapping_add(s as u64), values })
}

/// Runs this shard's share of the sweep: `run(variant, setting)` makes a run, `metrics`
/// measures it, `progress` is called after each. A run that fails (an error or a panic)
/// has no row; it is returned among the failures, in run order, and the others go on.
///
/// # Errors
/// Only if the thread pool cannot start.
pub fn sweep(
    plan: &SweepPlan<'_>,
    run: &(dyn Fn(usize, &Setting) -> Result<RunOutput, String> + Sync),
    metrics: &(dyn Fn(&RunOutput) -> Vec<Option<f64>> + Sync),
    progress: &(dyn Fn() + Sync),
) -> Result<(Vec<RunRow>, Vec<FailedRun>), String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.jobs.clamp(1, n_runs(plan).max(1)))
        .thread_name(|i| format!("squall-sweep-{i}"))
        .build()
        .map_err(|e| format!("starting the threads that run the sweep: {e}"))?;
    let todo: Vec<usize> = (0..n_runs(plan)).filter(|i| plan.shard.has(*i)).collect();
    let rows: Vec<Result<RunRow, FailedRun>> = pool.install(|| {
        use rayon::prelude::*;
        todo.into_par_iter()
            .map(|i| {
                let (point, variant, setting) = run_setting(plan, i);
                let out = crate::check::guarded(|| run(variant, &setting).map(|out| metrics(&out)));
                progress();
                match out {
                    Ok(metrics) => Ok(RunRow { run: i, point, variant, seed: setting.seed, metrics }),
                    Err(message) => Err(FailedRun { run: i, point, variant, setting, message }),
                }
            })
            .collect()
    });
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for r in rows {
        match r {
            Ok(row) => ok.push(row),
            Err(f) => failed.push(f),
        }
    }
    Ok((ok, failed))
}

/// Means over the seeds of `rows`: per point and variant (point-major), per metric.
pub fn aggregate(
    n_points: usize,
    n_variants: usize,
    rows: &[RunRow],
    n_metrics: usize,
) -> Vec<(usize, usize, Vec<Option<Estimate>>)> {
    let mut out = Vec::new();
    for point in 0..n_points {
        for variant in 0..n_variants {
            let mine: Vec<&RunRow> =
                rows.iter().filter(|r| r.point == point && r.variant == variant).collect();
            let est = (0..n_metrics).map(|m| mean_ci(mine.iter().filter_map(|r| r.metrics[m]))).collect();
            out.push((point, variant, est));
        }
    }
    out
}

/// The whole-run metrics a sweep measures, by their catalogue names (scope `Run`), in the
/// order of its columns.
pub const RUN_METRICS: [&str; 10] = [
    "success_rate",
    "goodput_per_s",
    "p50_ms",
    "p99_ms",
    "amplification",
    "recovered",
    "recovery_s",
    "steady_goodput_per_s",
    "steady_success_rate",
    "steady_latency_ms",
];

/// The metrics a sweep measures per client group (scope `Client`), as `<client>.<name>`.
pub const CLIENT_METRICS: [&str; 2] = ["success_rate", "p99_ms"];

/// Names of the metrics [`measure`] gives for clients named `clients`, in its order: the
/// [`RUN_METRICS`], then per client group its [`CLIENT_METRICS`].
pub fn metric_names(clients: &[String]) -> Vec<String> {
    let mut names: Vec<String> = RUN_METRICS.iter().map(|s| s.to_string()).collect();
    for c in clients {
        names.extend(CLIENT_METRICS.iter().map(|m| format!("{c}.{m}")));
    }
    names
}

/// A run's metrics (see [`metric_names`]), each measured by its definition in the metric
/// catalogue (`docs/metrics.md`): over all client groups the success rate, goodput
/// (successes, `Ok` and `Degraded`, per simulated second), the median and 99th percentile
/// latency of successes, attempts per request; `recovered` is 1 if goodput came back after
/// every fault that had a baseline and 0 if it never did after one (the metastable map),
/// `recovery_s` the slowest recovery; the `steady_` figures are over the steady window after
/// the scenario's `warmup` (the whole run without one): goodput, success rate and exact mean
/// latency of successes; then per client group its success rate and p99.
pub fn measure(out: &RunOutput) -> Vec<Option<f64>> {
    let all = Clients::all(out);
    let mut m: Vec<Option<f64>> =
        RUN_METRICS.iter().map(|name| metric(Scope::Run, name).of(Ctx::Clients(&all))).collect();
    for c in &out.clients {
        let one = Clients::one(out, c);
        m.extend(CLIENT_METRICS.iter().map(|name| metric(Scope::Client, name).of(Ctx::Clients(&one))));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sweep_metric_is_in_the_catalogue() {
        for name in RUN_METRICS {
            assert!(squall_model::metrics::find(Scope::Run, name).is_some(), "run metric {name}");
        }
        for name in CLIENT_METRICS {
            assert!(squall_model::metrics::find(Scope::Client, name).is_some(), "client metric {name}");
        }
    }

    #[test]
    fn the_metrics_reference_names_every_sweep_metric() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/metrics.md");
        let doc = std::fs::read_to_string(path).unwrap().replace('\n', " ");
        let line = doc.split("Sweeps measure").nth(1).expect("a paragraph on sweeps");
        for name in RUN_METRICS {
            assert!(
                line.contains(&format!("`{name}`")),
                "docs/metrics.md does not list the sweep metric {name}"
            );
        }
        for name in CLIENT_METRICS {
            assert!(line.contains(&format!("`<client>.{name}`")), "docs/metrics.md does not list {name}");
        }
    }
}
