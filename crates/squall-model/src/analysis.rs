//! Derived figures that need the whole run: how quickly goodput came back after each fault.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Outcome, OutcomeCounts};
    use crate::output::{ClientBucket, ClientOutput, Conservation, FaultWindow, PolicyOutput, StopReason};
    use hdrhistogram::Histogram;

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
            latency_ok: Histogram::new(3).unwrap(),
            latency_all: Histogram::new(3).unwrap(),
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
}
