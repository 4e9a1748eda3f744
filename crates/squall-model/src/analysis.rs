//! Derived figures that need the whole run: how quickly goodput came back after each fault,
//! and steady-state figures once the warm-up is removed.
//!
//! Pure functions over a [`RunOutput`]: no IO, no state, the same input gives the same answer.
//!
//! Goodput here is what the users got: the successes (`Ok` and `Degraded`, a fallback being a
//! usable answer) of all client groups that ended in a bucket, per second of the time the
//! bucket covers. Only buckets that start before the run's end are considered; the last one
//! may be partial, and its rate is over the part it covers.
//!
//! For each fault window, the *baseline* is the mean goodput of the buckets lying wholly in
//! the [`BASELINE_WINDOW`] before the fault started (none when there is no such bucket, as
//! for a fault that starts with the run). The run *recovered* at the start of the first
//! bucket that starts at or after the fault's end and begins [`SUSTAIN_BUCKETS`] buckets in a
//! row (or all the buckets that remain, if fewer, but at least one) each with goodput at
//! least [`RECOVERY_FRACTION`] of the baseline. A run that never gets there did not recover by
//! its end: the sign of a metastable failure, where the system stays degraded after its
//! trigger is gone (a retry storm that keeps itself going, a cache that never warms up).
//!
//! The *steady window* ([`steady_state`]) is the buckets from the end of the warm-up on:
//! from bucket 0 without a configured [`Warmup`], from the first bucket that starts at or
//! after a fixed warm-up, or from the truncation point [`mser`] picks on the goodput series
//! in batches of [`MSER_BATCH`] buckets (MSER-5). Its figures are sums over those buckets, so
//! a rate is over the time they cover (up to the run's end) and the mean latency of successes
//! is exact, from the buckets' sums rather than from histograms.

use crate::config::Warmup;
use crate::output::RunOutput;
use squall_kernel::{SimDuration, SimTime};

/// How far before a fault's start the baseline looks: 60 s.
pub const BASELINE_WINDOW: SimDuration = SimDuration::from_secs(60);
/// Buckets in a row that must each reach the threshold for goodput to count as recovered: 5.
pub const SUSTAIN_BUCKETS: usize = 5;
/// Share of the baseline that counts as recovered: 0.9.
pub const RECOVERY_FRACTION: f64 = 0.9;

/// The knobs of [`recovery_with`]; [`Default`] gives [`BASELINE_WINDOW`],
/// [`SUSTAIN_BUCKETS`] and [`RECOVERY_FRACTION`].
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct RecoveryParams {
    /// How far before a fault's start the baseline looks.
    pub baseline_window: SimDuration,
    /// Buckets in a row that must reach the threshold (0 is taken as 1).
    pub sustain_buckets: usize,
    /// Share of the baseline that counts as recovered.
    pub fraction: f64,
}

impl Default for RecoveryParams {
    fn default() -> Self {
        RecoveryParams {
            baseline_window: BASELINE_WINDOW,
            sustain_buckets: SUSTAIN_BUCKETS,
            fraction: RECOVERY_FRACTION,
        }
    }
}

/// How goodput came back after one fault window.
#[derive(Clone, Debug, PartialEq)]
pub struct Recovery {
    /// The fault's name.
    pub fault: String,
    /// Mean goodput (successes per second) before the fault; `None` when no whole bucket lies
    /// in the baseline window.
    pub baseline_per_s: Option<f64>,
    /// Start of the bucket from which goodput stayed back at the threshold; `None` without a
    /// baseline, or when it never did before the run ended.
    pub recovered_at: Option<SimTime>,
    /// `recovered_at` minus the fault's end.
    pub time_to_recover: Option<SimDuration>,
}

/// What a [`Recovery`] amounts to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RecoveryStatus {
    /// Goodput came back this long after the fault ended.
    Recovered(SimDuration),
    /// There was a baseline, and goodput did not come back by the end of the run.
    Never,
    /// There was nothing to compare with: no whole bucket before the fault started.
    NoBaseline,
}

impl Recovery {
    /// Whether goodput recovered, and how fast.
    pub fn status(&self) -> RecoveryStatus {
        match (self.baseline_per_s, self.time_to_recover) {
            (None, _) => RecoveryStatus::NoBaseline,
            (Some(_), Some(d)) => RecoveryStatus::Recovered(d),
            (Some(_), None) => RecoveryStatus::Never,
        }
    }
}

/// Successes (`Ok` and `Degraded`) of all client groups per second, one value per bucket that
/// starts before the run's end (and is stored); the last bucket's rate is over the part of it
/// before the end. Empty when the bucket width is zero.
pub fn goodput_per_s(out: &RunOutput) -> Vec<f64> {
    let width_ns = out.bucket_width.as_nanos();
    if width_ns == 0 {
        return Vec::new();
    }
    let end_ns = out.end.as_nanos();
    let stored = out.clients.iter().map(|c| c.series.len()).max().unwrap_or(0);
    let before_end = usize::try_from(end_ns.div_ceil(width_ns)).unwrap_or(usize::MAX);
    (0..stored.min(before_end))
        .map(|i| {
            let start_ns = (i as u64).saturating_mul(width_ns);
            let covered_ns = start_ns.saturating_add(width_ns).min(end_ns) - start_ns;
            let successes: u64 =
                out.clients.iter().filter_map(|c| c.series.get(i)).map(|b| b.outcomes.successes()).sum();
            successes as f64 * 1e9 / covered_ns as f64
        })
        .collect()
}

/// [`recovery_with`] the default parameters: one entry per fault window, in order.
pub fn recovery(out: &RunOutput) -> Vec<Recovery> {
    recovery_with(out, &RecoveryParams::default())
}

/// How goodput recovered after each fault window of `out`, in the windows' order (see the
/// module docs for the definitions).
pub fn recovery_with(out: &RunOutput, params: &RecoveryParams) -> Vec<Recovery> {
    let goodput = goodput_per_s(out);
    let width_ns = out.bucket_width.as_nanos();
    let start_of = |i: usize| (i as u64).saturating_mul(width_ns);
    let sustain = params.sustain_buckets.max(1);
    out.faults
        .iter()
        .map(|f| {
            let (start_ns, end_ns) = (f.start.as_nanos(), f.end.as_nanos());
            let from_ns = start_ns.saturating_sub(params.baseline_window.as_nanos());
            let before: Vec<f64> = goodput
                .iter()
                .enumerate()
                .filter(|(i, _)| start_of(*i) >= from_ns && start_of(*i).saturating_add(width_ns) <= start_ns)
                .map(|(_, g)| *g)
                .collect();
            let baseline_per_s =
                (!before.is_empty()).then(|| before.iter().sum::<f64>() / before.len() as f64);
            let recovered_at = baseline_per_s.and_then(|baseline| {
                let threshold = params.fraction * baseline;
                (0..goodput.len())
                    .filter(|i| start_of(*i) >= end_ns)
                    .find(|&b| goodput[b..(b + sustain).min(goodput.len())].iter().all(|g| *g >= threshold))
                    .map(|b| SimTime(start_of(b)))
            });
            Recovery {
                fault: f.name.clone(),
                baseline_per_s,
                recovered_at,
                time_to_recover: recovered_at.map(|t| t.since(f.end)),
            }
        })
        .collect()
}

/// Buckets per batch of MSER-5: 5.
pub const MSER_BATCH: usize = 5;

/// MSER truncation (White 1997; Franklin and White): how many leading observations of
/// `series` to delete as the initial transient.
///
/// The series is cut into `n` batches of `batch` observations (a last, incomplete batch is
/// left out) and each batch is replaced by its mean `x_1..x_n`. For each `d` from 0 to
/// `n / 2` (deleting more than half is not allowed), the statistic is
/// `sum_{i>d} (x_i - mean_d)^2 / (n - d)^2`, where `mean_d` is the mean of `x_{d+1}..x_n`: the
/// squared marginal standard error of the mean of what remains. The `d` with the smallest
/// statistic wins (the first of equals, so a flat series deletes nothing), and the answer is
/// `d * batch`. `batch` 0 is taken as 1; fewer than two batches delete nothing. Non-finite
/// values are not expected (goodput per bucket is finite) and make the answer meaningless.
pub fn mser(series: &[f64], batch: usize) -> usize {
    let batch = batch.max(1);
    let means: Vec<f64> = series.chunks_exact(batch).map(|c| c.iter().sum::<f64>() / batch as f64).collect();
    let n = means.len();
    if n < 2 {
        return 0;
    }
    let mut best = (0usize, f64::INFINITY);
    for d in 0..=n / 2 {
        let rest = &means[d..];
        let k = rest.len() as f64;
        let mean = rest.iter().sum::<f64>() / k;
        let stat = rest.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (k * k);
        if stat < best.1 {
            best = (d, stat);
        }
    }
    assert!(best.0 <= n / 2, "MSER deletes at most half the batches: {} of {n}", best.0);
    best.0 * batch
}

/// Steady-state figures of one client group, or of all of them together, over the steady
/// window.
#[derive(Clone, Debug, PartialEq)]
pub struct SteadyFigures {
    /// Requests that ended in the window.
    pub ended: u64,
    /// Of those, successes (`Ok` and `Degraded`).
    pub successes: u64,
    /// Ended requests per second of the window; `None` for an empty window.
    pub throughput_per_s: Option<f64>,
    /// Successes per second of the window; `None` for an empty window.
    pub goodput_per_s: Option<f64>,
    /// Successes over ended requests; `None` when none ended.
    pub success_rate: Option<f64>,
    /// Exact mean latency of the successes, ns; `None` without successes.
    pub latency_ok_mean_ns: Option<f64>,
}

/// The steady window of a run and its figures (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct SteadyState {
    /// The warm-up rule applied; `None`: the whole run is the window.
    pub warmup: Option<Warmup>,
    /// Start of the steady window (the end of the warm-up), at a bucket boundary; the run's
    /// end or later when no bucket is left.
    pub start: SimTime,
    /// Leading buckets deleted as warm-up.
    pub buckets_deleted: usize,
    /// Time the window covers, up to the run's end.
    pub window: SimDuration,
    /// Per client group, in run order, with its name.
    pub clients: Vec<(String, SteadyFigures)>,
    /// All client groups together.
    pub all: SteadyFigures,
    /// Why MSER-5's cut may not be trusted; empty for a fixed warm-up.
    pub warnings: Vec<MserWarning>,
}

/// A sign that MSER-5 failed silently: the figures are still given, with this beside them.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum MserWarning {
    /// It cut exactly at its limit, half the run: the transient may last longer, or the run
    /// never settles.
    AtLimit {
        /// Where it cut.
        at: SimTime,
    },
    /// It found no transient (steady from 0 s), but the goodput has a spike or a dip: a batch
    /// whose mean is far from the others' (more than six robust standard deviations from
    /// their median, and more than 10 % of it). The load or the service changed during the
    /// run, so the "steady" figures average over the change.
    NotSteady {
        /// Start of the first such batch.
        at: SimTime,
        /// Its mean goodput per second.
        goodput_per_s: f64,
        /// The median of the batch means.
        median_per_s: f64,
    },
}

/// Robust standard deviations (1.4826 MAD) a batch mean must be from the median to count as a
/// spike: a stationary series almost never reaches six.
const SPIKE_SIGMAS: f64 = 6.0;

/// And the share of the median it must be off by at least, so that a nearly constant series
/// (a MAD of almost nothing) does not call every wobble a spike.
const SPIKE_SHARE_MIN: f64 = 0.1;

/// The warnings of an MSER-5 cut of `series` that deleted `deleted` observations.
fn mser_warnings(series: &[f64], deleted: usize, batch: usize, width_ns: u64) -> Vec<MserWarning> {
    let means: Vec<f64> = series.chunks_exact(batch).map(|c| c.iter().sum::<f64>() / batch as f64).collect();
    let n = means.len();
    let at = |batches: usize| SimTime((batches * batch) as u64 * width_ns);
    let mut out = Vec::new();
    if n >= 2 && deleted > 0 && deleted == n / 2 * batch {
        out.push(MserWarning::AtLimit { at: at(n / 2) });
    }
    if deleted == 0 && n >= 4 {
        let median = |xs: &mut Vec<f64>| {
            xs.sort_by(f64::total_cmp);
            let m = xs.len() / 2;
            if xs.len() % 2 == 1 {
                xs[m]
            } else {
                (xs[m - 1] + xs[m]) / 2.0
            }
        };
        let med = median(&mut means.clone());
        let mad = median(&mut means.iter().map(|x| (x - med).abs()).collect());
        let limit = (SPIKE_SIGMAS * 1.4826 * mad).max(SPIKE_SHARE_MIN * med.abs());
        if let Some(i) = means.iter().position(|x| (x - med).abs() > limit) {
            out.push(MserWarning::NotSteady { at: at(i), goodput_per_s: means[i], median_per_s: med });
        }
    }
    out
}

/// Sums of one client group (or of all) over a window, turned into figures.
#[derive(Default)]
struct SteadySums {
    ended: u64,
    successes: u64,
    latency_count: u64,
    latency_sum_ns: u128,
}

impl SteadySums {
    fn add(&mut self, b: &crate::output::ClientBucket) {
        self.ended += b.outcomes.total();
        self.successes += b.outcomes.successes();
        self.latency_count += b.latency_ok.count;
        self.latency_sum_ns += b.latency_ok.sum_ns;
    }

    fn figures(&self, window_ns: u64) -> SteadyFigures {
        let per_s = |n: u64| (window_ns > 0).then(|| n as f64 * 1e9 / window_ns as f64);
        SteadyFigures {
            ended: self.ended,
            successes: self.successes,
            throughput_per_s: per_s(self.ended),
            goodput_per_s: per_s(self.successes),
            success_rate: (self.ended > 0).then(|| self.successes as f64 / self.ended as f64),
            latency_ok_mean_ns: (self.latency_count > 0)
                .then(|| self.latency_sum_ns as f64 / self.latency_count as f64),
        }
    }
}

/// The steady window of `out` under its configured [`RunOutput::warmup`] and, over it, each
/// client group's and all groups' throughput, goodput, success rate and mean latency of
/// successes. The buckets are those [`goodput_per_s`] reports (starting before the run's
/// end); a fixed warm-up past the end leaves an empty window, whose rates are `None`.
pub fn steady_state(out: &RunOutput) -> SteadyState {
    let width_ns = out.bucket_width.as_nanos();
    let end_ns = out.end.as_nanos();
    let series = goodput_per_s(out);
    let n_buckets = series.len();
    let buckets_deleted = match out.warmup {
        None => 0,
        Some(Warmup::Fixed(d)) if width_ns > 0 => {
            usize::try_from(d.as_nanos().div_ceil(width_ns)).unwrap_or(usize::MAX)
        }
        Some(Warmup::Fixed(_)) => 0,
        Some(Warmup::Mser5) => mser(&series, MSER_BATCH),
    };
    let warnings = match out.warmup {
        Some(Warmup::Mser5) => mser_warnings(&series, buckets_deleted, MSER_BATCH, width_ns),
        _ => Vec::new(),
    };
    let start_ns = (buckets_deleted as u64).saturating_mul(width_ns);
    let stored_end_ns = (n_buckets as u64).saturating_mul(width_ns).min(end_ns);
    let window_ns = stored_end_ns.saturating_sub(start_ns);
    let mut all = SteadySums::default();
    let clients = out
        .clients
        .iter()
        .map(|c| {
            let mut sums = SteadySums::default();
            for b in c.series.iter().take(n_buckets).skip(buckets_deleted) {
                sums.add(b);
                all.add(b);
            }
            (c.name.clone(), sums.figures(window_ns))
        })
        .collect();
    SteadyState {
        warmup: out.warmup,
        start: SimTime(start_ns),
        buckets_deleted,
        window: SimDuration::from_nanos(window_ns),
        clients,
        all: all.figures(window_ns),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::Latencies;
    use crate::outcome::{Outcome, OutcomeCounts};
    use crate::output::{ClientBucket, ClientOutput, Conservation, FaultWindow, PolicyOutput, StopReason};

    fn bucket(ok: u64, degraded: u64, failed: u64) -> ClientBucket {
        let mut outcomes = OutcomeCounts::default();
        for (o, n) in [(Outcome::Ok, ok), (Outcome::Degraded, degraded), (Outcome::Timeout, failed)] {
            for _ in 0..n {
                outcomes.add(o);
            }
        }
        ClientBucket { issued: ok + degraded + failed, outcomes, ..ClientBucket::default() }
    }

    fn client(name: &str, series: Vec<ClientBucket>) -> ClientOutput {
        ClientOutput {
            name: name.to_string(),
            issued: series.iter().map(|b| b.issued).sum(),
            outcomes: OutcomeCounts::default(),
            latency_ok: Latencies::new(3),
            latency_all: Latencies::new(3),
            series,
            policy: PolicyOutput::default(),
            served_by: Vec::new(),
            flow: None,
        }
    }

    fn fault(name: &str, start_s: u64, end_s: u64) -> FaultWindow {
        FaultWindow {
            name: name.to_string(),
            service: "db".to_string(),
            what: "down".to_string(),
            start: SimTime(start_s * 1_000_000_000),
            end: SimTime(end_s * 1_000_000_000),
            fired: 1,
        }
    }

    /// A run of `oks.len()` buckets of `width_s` seconds whose only client ends `oks[i]` ok
    /// requests in bucket `i`.
    fn run(width_s: u64, oks: &[u64], faults: Vec<FaultWindow>) -> RunOutput {
        let n = oks.len() as u64;
        RunOutput {
            seed: 1,
            duration: SimDuration::from_secs(n * width_s),
            end: SimTime(n * width_s * 1_000_000_000),
            stop: StopReason::Completed,
            n_events: 0,
            bucket_width: SimDuration::from_secs(width_s),
            clients: vec![client("users", oks.iter().map(|ok| bucket(*ok, 0, 1)).collect())],
            services: Vec::new(),
            dependencies: Vec::new(),
            faults,
            deploys: Vec::new(),
            conservation: Conservation { issued: 0, ended: 0, in_flight: 0 },
            warmup: None,
        }
    }

    fn secs(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }

    #[test]
    fn goodput_counts_ok_and_degraded_of_every_client_per_second() {
        let mut out = run(2, &[10, 20], Vec::new());
        out.clients.push(client("batch", vec![bucket(0, 4, 3)]));
        // Bucket 0: 10 ok + 4 degraded in 2 s; bucket 1: 20 ok in 2 s.
        assert_eq!(goodput_per_s(&out), [7.0, 10.0]);
        // A run that stops a quarter into its second bucket: 20 in 0.5 s.
        out.end = SimTime(2_500_000_000);
        assert_eq!(goodput_per_s(&out), [7.0, 40.0]);
        out.bucket_width = SimDuration::ZERO;
        assert!(goodput_per_s(&out).is_empty());
    }

    #[test]
    fn goodput_back_at_once_recovers_in_the_first_bucket_after_the_fault() {
        // 10/s before, 2/s during [5, 8), 10/s after.
        let oks = [10, 10, 10, 10, 10, 2, 2, 2, 10, 10, 10, 10, 10, 10];
        let r = recovery(&run(1, &oks, vec![fault("db-down", 5, 8)]));
        assert_eq!(
            r,
            [Recovery {
                fault: "db-down".to_string(),
                baseline_per_s: Some(10.0),
                recovered_at: Some(SimTime(8_000_000_000)),
                time_to_recover: Some(SimDuration::ZERO),
            }]
        );
        assert_eq!(r[0].status(), RecoveryStatus::Recovered(SimDuration::ZERO));
    }

    #[test]
    fn recovery_needs_five_buckets_in_a_row_at_ninety_percent_of_the_baseline() {
        // Baseline 10/s over [0, 4). After the fault ends at 6 s: 9 (enough), 8 (not), then
        // 9, 9, 9, 10, 9 from 8 s: the first run of five at or above 9/s starts at 8 s.
        let oks = [10, 10, 10, 10, 0, 0, 9, 8, 9, 9, 9, 10, 9, 3];
        let r = &recovery(&run(1, &oks, vec![fault("slow", 4, 6)]))[0];
        assert_eq!(r.baseline_per_s, Some(10.0));
        assert_eq!(r.recovered_at, Some(SimTime(8_000_000_000)));
        assert_eq!(r.time_to_recover, Some(secs(2)));
        assert_eq!(r.status(), RecoveryStatus::Recovered(secs(2)));
    }

    #[test]
    fn near_the_end_the_remaining_buckets_are_enough() {
        // Fault ends at 5 s; the dip lasts until 7 s; only 8 s and 9 s remain, both back.
        let oks = [10, 10, 10, 10, 0, 5, 5, 5, 10, 10];
        let r = &recovery(&run(1, &oks, vec![fault("slow", 4, 5)]))[0];
        assert_eq!(r.recovered_at, Some(SimTime(8_000_000_000)));
        assert_eq!(r.time_to_recover, Some(secs(3)));
    }

    #[test]
    fn goodput_that_stays_low_never_recovers() {
        // A metastable failure: the trigger ends at 6 s, goodput stays at half.
        let oks = [10, 10, 10, 10, 0, 0, 5, 5, 5, 5, 5, 5, 5, 8];
        let r = &recovery(&run(1, &oks, vec![fault("retry-storm", 4, 6)]))[0];
        assert_eq!(r.baseline_per_s, Some(10.0));
        assert_eq!(r.recovered_at, None);
        assert_eq!(r.time_to_recover, None);
        assert_eq!(r.status(), RecoveryStatus::Never);
        // A fault lasting until the run's end leaves no bucket to recover in.
        let r = &recovery(&run(1, &oks, vec![fault("forever", 4, 14)]))[0];
        assert_eq!(r.status(), RecoveryStatus::Never);
    }

    #[test]
    fn a_fault_at_the_start_has_no_baseline() {
        let oks = [0, 0, 10, 10, 10, 10, 10];
        let r = &recovery(&run(1, &oks, vec![fault("cold-start", 0, 2)]))[0];
        assert_eq!(r.baseline_per_s, None);
        assert_eq!(r.recovered_at, None);
        assert_eq!(r.time_to_recover, None);
        assert_eq!(r.status(), RecoveryStatus::NoBaseline);
        // A fault starting mid-bucket has no whole bucket before it either.
        let r = &recovery(&run(2, &oks, vec![fault("early", 1, 2)]))[0];
        assert_eq!(r.status(), RecoveryStatus::NoBaseline);
    }

    #[test]
    fn the_baseline_covers_only_whole_buckets_of_the_last_minute() {
        // 10 s buckets; a fault at 85 s looks back to 25 s: buckets [30, 40) to [70, 80).
        let oks = [1000, 1000, 1000, 100, 100, 100, 100, 100, 100, 100, 100, 100];
        let r = &recovery(&run(10, &oks, vec![fault("late", 85, 90)]))[0];
        assert_eq!(r.baseline_per_s, Some(10.0));
        assert_eq!(r.recovered_at, Some(SimTime(90_000_000_000)));
    }

    #[test]
    fn the_parameters_can_be_changed() {
        let oks = [10, 10, 10, 10, 0, 0, 7, 7, 7, 7, 7, 7];
        let out = run(1, &oks, vec![fault("slow", 4, 6)]);
        assert_eq!(recovery(&out)[0].status(), RecoveryStatus::Never);
        let lenient = RecoveryParams { fraction: 0.5, sustain_buckets: 2, ..RecoveryParams::default() };
        assert_eq!(recovery_with(&out, &lenient)[0].time_to_recover, Some(SimDuration::ZERO));
        let short = RecoveryParams { baseline_window: secs(2), ..RecoveryParams::default() };
        assert_eq!(recovery_with(&out, &short)[0].baseline_per_s, Some(10.0));
    }

    /// A fixed pseudo-random sequence in [-1, 1) (a 64-bit LCG), for noisy test series.
    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn mser_truncates_an_initial_transient_near_its_end() {
        // 40 observations climbing from 0 to 100, then 400 at 100 with noise of +-10.
        let mut series: Vec<f64> = (0..40).map(|i| f64::from(i) * 2.5).collect();
        series.extend(noise(400, 7).iter().map(|e| 100.0 + 10.0 * e));
        let d = mser(&series, MSER_BATCH);
        assert_eq!(d % MSER_BATCH, 0, "whole batches: {d}");
        assert!((30..=60).contains(&d), "the transient ends at 40: {d}");
    }

    #[test]
    fn mser_keeps_nearly_all_of_a_stationary_series() {
        for seed in 1..=5 {
            let series: Vec<f64> = noise(500, seed).iter().map(|e| 50.0 + 5.0 * e).collect();
            let d = mser(&series, MSER_BATCH);
            assert!(d <= 50, "seed {seed}: at most a tenth deleted, got {d}");
        }
        assert_eq!(mser(&[3.0; 100], MSER_BATCH), 0, "a flat series deletes nothing");
    }

    #[test]
    fn mser5_warns_when_it_cuts_at_its_limit_or_finds_no_transient_in_a_spiky_run() {
        let w_ns = 1_000_000_000;
        // A climb that never settles: the cut lands on the half-run limit.
        let climbing: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let d = mser(&climbing, MSER_BATCH);
        assert_eq!(d, 50);
        assert_eq!(
            mser_warnings(&climbing, d, MSER_BATCH, w_ns),
            [MserWarning::AtLimit { at: SimTime(50 * w_ns) }]
        );
        // Steady with a little noise, then a load spike three quarters in: nothing to delete at
        // the start, and the spike is named.
        let mut spiky: Vec<f64> =
            (0..100).map(|i| 100.0 + [-2.0, 1.0, 0.0, 2.0, -1.0][i % 5] * (i % 7) as f64).collect();
        let plain = spiky.clone();
        for x in &mut spiky[75..85] {
            *x = 300.0;
        }
        let d = mser(&spiky, MSER_BATCH);
        assert_eq!(d, 0, "a late spike is no initial transient");
        match mser_warnings(&spiky, d, MSER_BATCH, w_ns)[..] {
            [MserWarning::NotSteady { at, goodput_per_s, .. }] => {
                assert_eq!(at, SimTime(75 * w_ns));
                assert!(goodput_per_s > 250.0, "{goodput_per_s}");
            }
            ref other => panic!("{other:?}"),
        }
        // The same run without the spike, and a flat one, warn of nothing.
        assert_eq!(mser(&plain, MSER_BATCH), 0);
        assert!(mser_warnings(&plain, 0, MSER_BATCH, w_ns).is_empty());
        assert!(mser_warnings(&[3.0; 100], 0, MSER_BATCH, w_ns).is_empty());
        // A ramp that settles well before half the run cuts inside the limit, silently.
        let ramp: Vec<f64> =
            (0..100).map(|i| if i < 15 { i as f64 * 6.0 } else { 100.0 + (i % 3) as f64 }).collect();
        let d = mser(&ramp, MSER_BATCH);
        assert!(d > 0 && d < 50, "{d}");
        assert!(mser_warnings(&ramp, d, MSER_BATCH, w_ns).is_empty());
    }

    #[test]
    fn mser_needs_two_batches_and_deletes_at_most_half() {
        assert_eq!(mser(&[], MSER_BATCH), 0);
        assert_eq!(mser(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], MSER_BATCH), 0, "one whole batch");
        // A series that only ever climbs would be cut late; the cut stops at half the batches.
        let climbing: Vec<f64> = (0..100).map(f64::from).collect();
        assert!(mser(&climbing, MSER_BATCH) <= 50);
        assert_eq!(mser(&[0.0, 0.0, 9.0, 9.0, 9.0, 9.0], 0), 2, "batch 0 is taken as 1");
    }

    /// A bucket with `ok` successes of latency `ms` each and `failed` timeouts.
    fn timed(ok: u64, failed: u64, ms: u64) -> ClientBucket {
        let mut b = bucket(ok, 0, failed);
        b.latency_ok.count = ok;
        b.latency_ok.sum_ns = u128::from(ok * ms * 1_000_000);
        b
    }

    #[test]
    fn without_warmup_the_whole_run_is_steady() {
        let out = run(1, &[10, 20], Vec::new());
        let st = steady_state(&out);
        assert_eq!(st.warmup, None);
        assert_eq!(st.start, SimTime(0));
        assert_eq!(st.buckets_deleted, 0);
        assert_eq!(st.window, secs(2));
        // 30 ok and 2 timeouts in 2 s.
        assert_eq!(st.all.ended, 32);
        assert_eq!(st.all.throughput_per_s, Some(16.0));
        assert_eq!(st.all.goodput_per_s, Some(15.0));
        assert_eq!(st.all.success_rate, Some(30.0 / 32.0));
        assert_eq!(st.clients[0].0, "users");
        assert_eq!(st.clients[0].1, st.all);
    }

    #[test]
    fn a_fixed_warmup_starts_the_window_at_the_next_bucket_with_exact_latency_means() {
        let mut out = run(2, &[0, 0, 0], Vec::new());
        out.clients[0].series = vec![timed(5, 5, 100), timed(10, 0, 10), timed(10, 2, 20)];
        out.clients.push(client("batch", vec![timed(1, 0, 1), timed(4, 0, 40), timed(0, 4, 0)]));
        out.warmup = Some(Warmup::Fixed(SimDuration::from_millis(1_500)));
        let st = steady_state(&out);
        assert_eq!(st.start, SimTime(2_000_000_000), "1.5 s rounds up to the bucket at 2 s");
        assert_eq!(st.buckets_deleted, 1);
        assert_eq!(st.window, secs(4));
        let users = &st.clients[0].1;
        assert_eq!((users.ended, users.successes), (22, 20));
        assert_eq!(users.throughput_per_s, Some(5.5));
        assert_eq!(users.goodput_per_s, Some(5.0));
        assert_eq!(users.latency_ok_mean_ns, Some(15e6));
        let batch = &st.clients[1].1;
        assert_eq!(batch.success_rate, Some(0.5));
        assert_eq!(batch.latency_ok_mean_ns, Some(40e6));
        // All: 24 successes of 30 ended, whose latencies add up to 100 + 200 + 160 ms.
        assert_eq!(st.all.ended, 30);
        assert_eq!(st.all.successes, 24);
        assert_eq!(st.all.latency_ok_mean_ns, Some((100.0 + 200.0 + 160.0) * 1e6 / 24.0));
        // A warm-up past the end leaves nothing.
        out.warmup = Some(Warmup::Fixed(secs(100)));
        let st = steady_state(&out);
        assert_eq!(st.window, SimDuration::ZERO);
        assert_eq!(st.all.goodput_per_s, None);
        assert_eq!(st.all.success_rate, None);
        assert_eq!(st.all.latency_ok_mean_ns, None);
    }

    #[test]
    fn mser5_cuts_the_goodput_series_of_a_run_after_its_ramp() {
        let mut oks: Vec<u64> = (0..20).map(|i| i * 5).collect();
        oks.extend(noise(200, 3).iter().map(|e| (100.0 + 5.0 * e).round() as u64));
        let mut out = run(1, &oks, Vec::new());
        out.warmup = Some(Warmup::Mser5);
        let st = steady_state(&out);
        assert_eq!(st.warmup, Some(Warmup::Mser5));
        assert!((15..=30).contains(&st.buckets_deleted), "{}", st.buckets_deleted);
        assert_eq!(st.start, SimTime(st.buckets_deleted as u64 * 1_000_000_000));
        let g = st.all.goodput_per_s.unwrap();
        assert!((g - 100.0).abs() < 2.0, "steady goodput {g}");
    }
}
