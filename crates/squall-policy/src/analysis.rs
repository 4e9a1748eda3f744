//! Argo Rollouts analysis: one metric of an `AnalysisRun`, measured periodically and judged
//! against its limits.
//!
//! Rules (argo-rollouts `utils/evaluate/evaluate.go` `EvaluateResult`, `analysis/analysis.go`
//! `assessMetricStatus`; policies.md §9.3, §0 item 9):
//! - A measurement's verdict: with only `successCondition`, failure if it is not met; with
//!   only `failureCondition`, success if it is not met; with both, failure if the failure
//!   condition holds, else success if the success condition holds, else **inconclusive**;
//!   with neither, success (current code; the docs say inconclusive). A provider error is an
//!   error, not a failure.
//! - Counters: successful, failed, inconclusive, error, consecutive errors (reset by any
//!   measurement that is not an error) and consecutive successes; every measurement, errors
//!   included, counts towards `count`.
//! - After each measurement, in this order: `failed > failureLimit` (default **0**, so one
//!   failure fails the run; `None` = −1 disables it) → Failed; `inconclusive >
//!   inconclusiveLimit` (default 0) → Inconclusive; `consecutiveErrors >
//!   consecutiveErrorLimit` (default **4**, so the fifth error in a row) → Error;
//!   `consecutiveSuccessLimit > 0` reached → Successful; `count` measurements taken →
//!   Successful; else Running. No `interval` means one measurement; an `interval` without a
//!   `count` runs until terminated, and a terminated run is Successful unless a limit was
//!   broken ([`AnalysisRun::terminate`]).
//! - Measurements are due at `start + initialDelay`, then every `interval`
//!   ([`AnalysisRun::next_measurement_at`]); the caller measures its simulated metric then.
//!
//! Conditions are modelled as one comparison of the measured value with a threshold
//! ([`Condition`]) rather than Argo's expression language. `dryRun` and multi-metric runs
//! (the worst phase wins) are left to the caller.

use squall_kernel::{SimDuration, SimTime};

/// An analysis run's (or metric's) phase.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum AnalysisPhase {
    /// Still measuring.
    Running,
    /// Passed: the count was reached (or the run terminated) within the limits.
    Successful,
    /// More failed measurements than `failureLimit`.
    Failed,
    /// More inconclusive measurements than `inconclusiveLimit`; the rollout pauses.
    Inconclusive,
    /// More consecutive provider errors than `consecutiveErrorLimit`.
    Error,
}

impl AnalysisPhase {
    /// Any phase but Running.
    pub fn is_completed(self) -> bool {
        self != AnalysisPhase::Running
    }
}

/// A comparison operator of a [`Condition`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `result < threshold`.
    Lt,
    /// `result <= threshold`.
    Le,
    /// `result > threshold`.
    Gt,
    /// `result >= threshold`.
    Ge,
}

/// A `successCondition` or `failureCondition` of the form `result OP threshold`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Condition {
    /// The comparison.
    pub op: Op,
    /// The right-hand side.
    pub threshold: f64,
}

impl Condition {
    /// Whether `value` meets the condition (NaN meets none).
    pub fn holds(&self, value: f64) -> bool {
        match self.op {
            Op::Lt => value < self.threshold,
            Op::Le => value <= self.threshold,
            Op::Gt => value > self.threshold,
            Op::Ge => value >= self.threshold,
        }
    }
}

/// One measurement from the metric provider.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Measurement {
    /// A measured value.
    Value(f64),
    /// The provider failed to measure.
    Error,
}

/// A single measurement's verdict.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The value passed.
    Successful,
    /// The value failed.
    Failed,
    /// The value met neither condition (both set).
    Inconclusive,
    /// The provider failed.
    Error,
}

/// A metric's measurement schedule, conditions and limits (API names and defaults).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Metric {
    /// `interval`: time between measurements; `None` takes one measurement.
    pub interval: Option<SimDuration>,
    /// `count`: measurements to take; `None` with an interval runs until terminated.
    pub count: Option<u32>,
    /// `initialDelay` (0).
    pub initial_delay: SimDuration,
    /// `successCondition`.
    pub success_condition: Option<Condition>,
    /// `failureCondition`.
    pub failure_condition: Option<Condition>,
    /// `failureLimit` (0); `None` is −1, never fail on failed measurements.
    pub failure_limit: Option<u32>,
    /// `inconclusiveLimit` (0).
    pub inconclusive_limit: u32,
    /// `consecutiveErrorLimit` (4).
    pub consecutive_error_limit: u32,
    /// `consecutiveSuccessLimit` (0 = off).
    pub consecutive_success_limit: u32,
}

impl Default for Metric {
    fn default() -> Self {
        Metric {
            interval: None,
            count: None,
            initial_delay: SimDuration::ZERO,
            success_condition: None,
            failure_condition: None,
            failure_limit: Some(0),
            inconclusive_limit: 0,
            consecutive_error_limit: 4,
            consecutive_success_limit: 0,
        }
    }
}

impl Metric {
    /// `EffectiveCount`: `count`, or 1 without an interval, or `None` (unbounded).
    pub fn effective_count(&self) -> Option<u32> {
        match (self.count, self.interval) {
            (Some(n), _) => Some(n),
            (None, None) => Some(1),
            (None, Some(_)) => None,
        }
    }

    /// `EvaluateResult`: the verdict on one measurement.
    pub fn verdict(&self, measurement: Measurement) -> Verdict {
        let Measurement::Value(value) = measurement else {
            return Verdict::Error;
        };
        let (success, failure) = match (self.success_condition, self.failure_condition) {
            (None, None) => return Verdict::Successful,
            (Some(s), None) => {
                let success = s.holds(value);
                (success, !success)
            }
            (None, Some(f)) => {
                let failure = f.holds(value);
                (!failure, failure)
            }
            (Some(s), Some(f)) => (s.holds(value), f.holds(value)),
        };
        if failure {
            Verdict::Failed
        } else if success {
            Verdict::Successful
        } else {
            Verdict::Inconclusive
        }
    }
}

/// The counters of a metric result.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct AnalysisCounts {
    /// All measurements taken, errors included.
    pub n_measured: u32,
    /// Successful measurements.
    pub n_successful: u32,
    /// Failed measurements.
    pub n_failed: u32,
    /// Inconclusive measurements.
    pub n_inconclusive: u32,
    /// Provider errors.
    pub n_error: u32,
    /// Provider errors in a row, up to the latest measurement.
    pub n_consecutive_error: u32,
    /// Successful measurements in a row, up to the latest measurement.
    pub n_consecutive_successful: u32,
}

/// One metric's run: counters, phase and measurement schedule.
#[derive(Clone, Debug)]
pub struct AnalysisRun {
    metric: Metric,
    started: SimTime,
    last_measured: Option<SimTime>,
    counts: AnalysisCounts,
    phase: AnalysisPhase,
}

impl AnalysisRun {
    /// A run of `metric` started at `now`.
    ///
    /// # Panics
    /// If `interval` is zero (the run would measure without end at one instant).
    pub fn new(metric: Metric, now: SimTime) -> Self {
        if let Some(interval) = metric.interval {
            assert!(interval > SimDuration::ZERO, "zero analysis interval");
        }
        AnalysisRun {
            metric,
            started: now,
            last_measured: None,
            counts: AnalysisCounts::default(),
            phase: AnalysisPhase::Running,
        }
    }

    /// The metric.
    pub fn metric(&self) -> &Metric {
        &self.metric
    }

    /// The counters.
    pub fn counts(&self) -> AnalysisCounts {
        self.counts
    }

    /// The current phase.
    pub fn phase(&self) -> AnalysisPhase {
        self.phase
    }

    /// When the next measurement is due: `start + initialDelay` first, then one `interval`
    /// after the last; `None` once the run is over or its single measurement is taken.
    pub fn next_measurement_at(&self) -> Option<SimTime> {
        if self.phase.is_completed() {
            return None;
        }
        match (self.last_measured, self.metric.interval) {
            (None, _) => Some(self.started.saturating_add(self.metric.initial_delay)),
            (Some(last), Some(interval)) => Some(last.saturating_add(interval)),
            (Some(_), None) => None,
        }
    }

    /// Records a measurement taken at `now` and returns the run's phase after it. A
    /// measurement after the run is over changes nothing.
    pub fn on_measurement(&mut self, now: SimTime, measurement: Measurement) -> AnalysisPhase {
        if self.phase.is_completed() {
            return self.phase;
        }
        if let Some(last) = self.last_measured {
            assert!(now >= last, "measurement at {now:?} before the previous one at {last:?}");
        }
        self.last_measured = Some(now);
        let c = &mut self.counts;
        let verdict = self.metric.verdict(measurement);
        match verdict {
            Verdict::Successful => {
                c.n_successful += 1;
                c.n_consecutive_successful += 1;
            }
            Verdict::Failed => c.n_failed += 1,
            Verdict::Inconclusive => c.n_inconclusive += 1,
            Verdict::Error => c.n_error += 1,
        }
        if measurement == Measurement::Error {
            c.n_consecutive_error += 1;
        } else {
            c.n_consecutive_error = 0;
        }
        if verdict != Verdict::Successful {
            c.n_consecutive_successful = 0;
        }
        c.n_measured += 1;
        self.phase = self.assess(false);
        self.phase
    }

    /// Terminates a run (e.g. background analysis at the end of the rollout): Successful
    /// unless a limit is already broken. Returns the final phase.
    pub fn terminate(&mut self) -> AnalysisPhase {
        if !self.phase.is_completed() {
            self.phase = self.assess(true);
        }
        self.phase
    }

    /// `assessMetricStatus`.
    fn assess(&self, terminating: bool) -> AnalysisPhase {
        let (m, c) = (&self.metric, &self.counts);
        if c.n_measured == 0 {
            return if terminating { AnalysisPhase::Successful } else { AnalysisPhase::Running };
        }
        if let Some(limit) = m.failure_limit {
            if c.n_failed > limit {
                return AnalysisPhase::Failed;
            }
        }
        if c.n_inconclusive > m.inconclusive_limit {
            return AnalysisPhase::Inconclusive;
        }
        if c.n_consecutive_error > m.consecutive_error_limit {
            return AnalysisPhase::Error;
        }
        if m.consecutive_success_limit > 0 && c.n_consecutive_successful >= m.consecutive_success_limit {
            return AnalysisPhase::Successful;
        }
        if let Some(count) = m.effective_count() {
            if c.n_measured >= count {
                return AnalysisPhase::Successful;
            }
        }
        if terminating {
            AnalysisPhase::Successful
        } else {
            AnalysisPhase::Running
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    /// Success rate ≥ 0.95, measured every minute, five times.
    fn success_rate() -> Metric {
        Metric {
            interval: Some(SimDuration::from_secs(60)),
            count: Some(5),
            success_condition: Some(Condition { op: Op::Ge, threshold: 0.95 }),
            ..Metric::default()
        }
    }

    fn run(metric: Metric, values: &[Measurement]) -> Vec<AnalysisPhase> {
        let mut r = AnalysisRun::new(metric, secs(0));
        let mut phases = Vec::new();
        for &v in values {
            let at = r.next_measurement_at().expect("a measurement is due");
            phases.push(r.on_measurement(at, v));
        }
        phases
    }

    use AnalysisPhase::{Error as E, Failed as F, Inconclusive as I, Running as R, Successful as S};
    use Measurement::{Error as Err, Value as V};

    #[test]
    fn the_default_failure_limit_fails_on_the_first_failed_measurement() {
        assert_eq!(run(success_rate(), &[V(0.99), V(0.90)]), vec![R, F]);
        let lenient = Metric { failure_limit: Some(1), ..success_rate() };
        assert_eq!(run(lenient, &[V(0.90), V(0.99), V(0.90)]), vec![R, R, F]);
        let never = Metric { failure_limit: None, ..success_rate() };
        assert_eq!(run(never, &[V(0.1); 5]), vec![R, R, R, R, S], "−1 disables the limit");
    }

    #[test]
    fn four_consecutive_errors_are_tolerated_and_the_fifth_is_an_error() {
        let m = Metric { count: Some(20), ..success_rate() };
        assert_eq!(run(m, &[Err, Err, Err, Err, V(0.99), Err, Err, Err, Err]), vec![R; 9]);
        assert_eq!(run(m, &[Err, Err, Err, Err, Err]), vec![R, R, R, R, E]);
    }

    #[test]
    fn reaching_the_count_without_failures_succeeds() {
        assert_eq!(run(success_rate(), &[V(0.99); 5]), vec![R, R, R, R, S]);
        // Errors count towards `count` and are not failures.
        assert_eq!(run(success_rate(), &[V(0.99), Err, V(0.99), Err, V(0.99)]), vec![R, R, R, R, S]);
    }

    #[test]
    fn measurements_are_due_after_the_initial_delay_then_every_interval() {
        let m = Metric { initial_delay: SimDuration::from_secs(30), ..success_rate() };
        let mut r = AnalysisRun::new(m, secs(100));
        assert_eq!(r.next_measurement_at(), Some(secs(130)));
        r.on_measurement(secs(131), V(1.0));
        assert_eq!(r.next_measurement_at(), Some(secs(191)));
        let mut once = AnalysisRun::new(Metric::default(), secs(0));
        assert_eq!(once.on_measurement(secs(0), V(1.0)), S, "no interval: one measurement");
        assert_eq!(once.next_measurement_at(), None);
    }

    #[test]
    fn verdicts_follow_evaluate_result() {
        let s = Condition { op: Op::Ge, threshold: 0.95 };
        let f = Condition { op: Op::Lt, threshold: 0.90 };
        let both = Metric { success_condition: Some(s), failure_condition: Some(f), ..Metric::default() };
        assert_eq!(both.verdict(V(0.97)), Verdict::Successful);
        assert_eq!(both.verdict(V(0.92)), Verdict::Inconclusive, "neither condition holds");
        assert_eq!(both.verdict(V(0.80)), Verdict::Failed);
        let only_failure = Metric { failure_condition: Some(f), ..Metric::default() };
        assert_eq!(only_failure.verdict(V(0.92)), Verdict::Successful);
        assert_eq!(Metric::default().verdict(V(-1.0)), Verdict::Successful, "no conditions");
        assert_eq!(Metric::default().verdict(Err), Verdict::Error);
        // Inconclusive limit 0: the first inconclusive measurement ends the run.
        let m = Metric { interval: Some(SimDuration::from_secs(10)), count: Some(3), ..both };
        assert_eq!(run(m, &[V(0.97), V(0.92)]), vec![R, I]);
    }

    #[test]
    fn an_unbounded_run_succeeds_when_terminated_within_its_limits() {
        let m = Metric { count: None, ..success_rate() };
        let mut r = AnalysisRun::new(m, secs(0));
        for i in 0..50 {
            assert_eq!(r.on_measurement(secs(60 * i), V(0.99)), R);
        }
        assert_eq!(r.terminate(), S);
        let mut r = AnalysisRun::new(m, secs(0));
        r.on_measurement(secs(0), V(0.5));
        assert_eq!(r.terminate(), F, "a broken limit stays broken");
    }

    #[test]
    fn a_consecutive_success_limit_ends_the_run_early() {
        let m = Metric {
            consecutive_success_limit: 2,
            count: Some(10),
            failure_limit: Some(3),
            ..success_rate()
        };
        assert_eq!(run(m, &[V(0.99), V(0.5), V(0.99), V(0.99)]), vec![R, R, R, S]);
    }

    fn measurement() -> impl Strategy<Value = Measurement> {
        prop_oneof![(0.0f64..1.0).prop_map(V), Just(Err)]
    }

    proptest! {
        #[test]
        fn the_phase_matches_the_counters_and_never_leaves_a_final_phase(
            values in proptest::collection::vec(measurement(), 1..40),
            failure_limit in proptest::option::of(0u32..4),
            count in proptest::option::of(1u32..30),
        ) {
            let m = Metric {
                count,
                failure_limit,
                failure_condition: Some(Condition { op: Op::Lt, threshold: 0.3 }),
                inconclusive_limit: 2,
                ..success_rate()
            };
            let mut r = AnalysisRun::new(m, secs(0));
            let mut done: Option<AnalysisPhase> = None;
            for (i, v) in values.into_iter().enumerate() {
                let phase = r.on_measurement(secs(60 * i as u64), v);
                if let Some(d) = done {
                    prop_assert_eq!(phase, d);
                    continue;
                }
                let c = r.counts();
                prop_assert_eq!(c.n_measured, c.n_successful + c.n_failed + c.n_inconclusive + c.n_error);
                prop_assert_eq!(phase == F, failure_limit.is_some_and(|l| c.n_failed > l));
                if phase == S {
                    prop_assert_eq!(Some(c.n_measured), count);
                }
                if phase.is_completed() {
                    done = Some(phase);
                }
            }
        }
    }
}
