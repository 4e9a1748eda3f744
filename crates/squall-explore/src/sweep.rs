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
use squall_model::analysis::{steady_state, RecoveryParams};

use crate::invariant::{merged_latency_ok, recoveries};
use squall_model::{OutcomeCounts, RunOutput};

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
/// measures it, `progress` is called after each.
///
/// # Errors
/// The first run error, in run order.
pub fn sweep(
    plan: &SweepPlan<'_>,
    run: &(dyn Fn(usize, &Setting) -> Result<RunOutput, String> + Sync),
    metrics: &(dyn Fn(&RunOutput) -> Vec<Option<f64>> + Sync),
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<RunRow>, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.jobs.clamp(1, n_runs(plan).max(1)))
        .thread_name(|i| format!("squall-sweep-{i}"))
        .build()
        .map_err(|e| format!("starting the threads that run the sweep: {e}"))?;
    let todo: Vec<usize> = (0..n_runs(plan)).filter(|i| plan.shard.has(*i)).collect();
    let rows: Vec<Result<RunRow, String>> = pool.install(|| {
        use rayon::prelude::*;
        todo.into_par_iter()
            .map(|i| {
                let (point, variant, setting) = run_setting(plan, i);
                let out = run(variant, &setting)?;
                progress();
                Ok(RunRow { run: i, point, variant, seed: setting.seed, metrics: metrics(&out) })
            })
            .collect()
    });
    rows.into_iter().collect()
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

/// Names of the metrics [`measure`] gives for clients named `clients`, in its order.
pub fn metric_names(clients: &[String]) -> Vec<String> {
    let mut names: Vec<String> = [
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
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for c in clients {
        names.push(format!("{c}.success_rate"));
        names.push(format!("{c}.p99_ms"));
    }
    names
}

/// A run's metrics (see [`metric_names`]): over all client groups, the success rate, goodput
/// (successes per simulated second), the median and 99th percentile latency of successes,
/// attempts per request; `recovered` is 1 if goodput came back after every fault that had a
/// baseline and 0 if it never did after one (the metastable map), `recovery_s` the slowest
/// recovery; the `steady_` figures are over the steady window after the scenario's `warmup`
/// (the whole run without one): goodput, success rate and exact mean latency of successes;
/// then per client group its success rate and p99.
pub fn measure(out: &RunOutput) -> Vec<Option<f64>> {
    let mut counts = OutcomeCounts::default();
    let (mut attempts, mut issued) = (0u64, 0u64);
    for c in &out.clients {
        counts.merge(&c.outcomes);
        attempts += c.policy.attempts;
        issued += c.issued;
    }
    let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
    let quantile_ms =
        |h: &squall_model::Latencies, q: f64| (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1e6);
    let hist = merged_latency_ok(out.clients.iter())
        .unwrap_or_else(|| squall_model::Latencies::new(squall_model::HIST_SIGFIG));
    let r = recoveries(out, RecoveryParams::default().fraction);
    let recovered = (r.judged > 0).then(|| if r.never.is_some() { 0.0 } else { 1.0 });
    let slowest = r.slowest.filter(|_| r.never.is_none());
    let mut m = vec![
        ratio(counts.successes() as f64, counts.total() as f64),
        ratio(counts.successes() as f64, out.end.as_secs_f64()),
        quantile_ms(&hist, 0.5),
        quantile_ms(&hist, 0.99),
        ratio(attempts as f64, issued as f64),
        recovered,
        slowest,
    ];
    let steady = steady_state(out).all;
    m.extend([steady.goodput_per_s, steady.success_rate, steady.latency_ok_mean_ns.map(|ns| ns / 1e6)]);
    for c in &out.clients {
        m.push(ratio(c.outcomes.successes() as f64, c.outcomes.total() as f64));
        m.push(quantile_ms(&c.latency_ok, 0.99));
    }
    m
}
