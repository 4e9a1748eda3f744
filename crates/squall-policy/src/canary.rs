//! Argo Rollouts canary: the step machine of `strategy.canary.steps` and the replica counts
//! a weight turns into.
//!
//! Rules (argo-rollouts `utils/replicaset/canary.go`, `rollout/pause.go`,
//! `utils/defaults/defaults.go`; policies.md §9.2, §9.6):
//! - Steps run in order: `setWeight: N` sets the canary weight and moves on; `pause: {}`
//!   waits for a promote; `pause: {duration}` waits until the controller's clock is strictly
//!   after `start + duration` (`CompletedCanaryPauseStep`: `now.After(expiredTime)`), or for a
//!   promote; `analysis` blocks the step until its run ends (judged by an
//!   [`AnalysisRun`](crate::analysis::AnalysisRun) that the caller runs).
//! - The current weight is the last `setWeight` at or before the current step, 0 before any
//!   (`GetCurrentSetWeight`); past the last step it is 100 and the rollout is complete; an
//!   aborted rollout has weight 0.
//! - An analysis run that ends Successful completes its step; Failed or Error aborts the
//!   rollout; Inconclusive pauses it for a human (policies.md §9.3), and a promote then moves on.
//! - Abort (manual, failed analysis): weight back to 0, all traffic to stable. The canary pods
//!   are scaled down `abortScaleDownDelaySeconds` (30 s) later; that timer is the caller's.
//! - A promote (`kubectl argo rollouts promote`, no `--full`) ends the current pause or skips
//!   the current analysis step.
//!
//! Weights become pods in one of two ways:
//! - Replica-based, no traffic router ([`basic_canary_counts`], `approximateWeightedCanaryStableReplicaCounts`):
//!   the canary count is the floor or ceiling of `replicas·w/100`, whichever gives the actual
//!   weight `canary·100/total` closest to `w`, with totals of `replicas` or, if `maxSurge > 0`,
//!   `replicas + 1`; when floor and ceiling are equally close the ceiling wins. For `w` in
//!   1–99 and more than one pod, neither side is ever 0. Example: 10 replicas at 41 % → 4
//!   canary and 6 stable. Traffic then splits by pod share ([`CanaryCounts::pod_share`]).
//! - Traffic-routed ([`routed_canary_counts`], `CalculateReplicaCountsForTrafficRoutedCanary`):
//!   the router sends exactly `w` % of requests to the canary; canary replicas are
//!   `ceil(replicas·w/100)` and stable stays at `replicas` unless `dynamicStableScale`, when it
//!   is `ceil(replicas·(100−w)/100)`, or more while the router still sends stable more traffic.
//!
//! Deviations: Argo computes the closeness and the tie test in `float64`; here they are exact
//! integer comparisons, which can differ only where Argo's float rounding misjudges a tie. When
//! no candidate is left (a tie whose ceiling is every pod, with no surge: 2 pods at 75 %) Argo
//! falls back to 0 canary and all stable, and so does this. The
//! step-by-step scaling within `maxSurge`/`maxUnavailable` of the basic canary (which needs pod
//! availability) is left to a [`RollingUpdate`](crate::RollingUpdate)-style caller: these are
//! the desired counts. `setCanaryScale`, experiments, header and mirror routes, background
//! analysis and progress deadlines are not modelled.

use squall_kernel::{SimDuration, SimTime};

use crate::analysis::AnalysisPhase;

/// One entry of `strategy.canary.steps`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CanaryStep {
    /// `setWeight: N`, a percentage 0–100.
    SetWeight(u32),
    /// `pause: {duration}`, or `pause: {}` when `duration` is `None` (wait for a promote).
    Pause {
        /// How long to wait; `None` waits for a promote.
        duration: Option<SimDuration>,
    },
    /// An inline `analysis` step: blocks until the caller reports the run's end.
    Analysis,
}

/// Where a canary rollout stands.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CanaryStatus {
    /// [`Canary::start`] has not been called.
    NotStarted,
    /// Ready to execute the current step on the next [`Canary::advance`].
    Progressing,
    /// In a pause step: until strictly after `until`, or for a promote if `None`.
    Paused {
        /// The pause ends at the first `advance` strictly after this time.
        until: Option<SimTime>,
    },
    /// In an analysis step, waiting for [`Canary::analysis_result`].
    Analyzing,
    /// The analysis run was Inconclusive: paused until a promote.
    Inconclusive,
    /// Past the last step: weight 100, the canary is the new stable.
    Completed,
    /// Aborted: weight 0, stable only.
    Aborted,
}

/// What one call changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CanaryEvent {
    /// A `setWeight` step set the canary weight.
    WeightSet(u32),
    /// A pause step began.
    Paused {
        /// When a timed pause ends (it ends at the first `advance` strictly after it).
        until: Option<SimTime>,
    },
    /// An analysis step began; the caller starts a run.
    AnalysisStarted,
    /// A pause, an analysis step or an inconclusive pause ended; the next step is due.
    Resumed,
    /// An analysis run ended Inconclusive; the rollout waits for a promote.
    PausedInconclusive,
    /// The last step is done: weight 100.
    Completed,
    /// The rollout was aborted: weight 0.
    Aborted,
    /// Nothing changed.
    NoChange,
}

/// An Argo Rollouts canary step machine.
#[derive(Clone, Debug)]
pub struct Canary {
    steps: Vec<CanaryStep>,
    step_index: usize,
    weight: u32,
    status: CanaryStatus,
    since: SimTime,
}

impl Canary {
    /// A rollout with these steps, not yet started.
    ///
    /// # Panics
    /// If a `SetWeight` is above 100.
    pub fn new(steps: Vec<CanaryStep>) -> Self {
        for step in &steps {
            if let CanaryStep::SetWeight(w) = step {
                assert!(*w <= 100, "setWeight {w} above 100");
            }
        }
        Canary { steps, step_index: 0, weight: 0, status: CanaryStatus::NotStarted, since: SimTime::ZERO }
    }

    /// The steps.
    pub fn steps(&self) -> &[CanaryStep] {
        &self.steps
    }

    /// `status.currentStepIndex`: the step being executed (equal to the number of steps once
    /// completed).
    pub fn step_index(&self) -> usize {
        self.step_index
    }

    /// The canary weight in percent.
    pub fn weight(&self) -> u32 {
        self.weight
    }

    /// The current status.
    pub fn status(&self) -> CanaryStatus {
        self.status
    }

    /// When the current status began.
    pub fn since(&self) -> SimTime {
        self.since
    }

    /// When a timed pause ends (`advance` resumes strictly after it), if paused on a timer.
    pub fn paused_until(&self) -> Option<SimTime> {
        match self.status {
            CanaryStatus::Paused { until } => until,
            _ => None,
        }
    }

    /// Completed or aborted: nothing more will change.
    pub fn is_done(&self) -> bool {
        matches!(self.status, CanaryStatus::Completed | CanaryStatus::Aborted)
    }

    /// Starts the rollout at step 0 with weight 0; call [`Canary::advance`] next.
    ///
    /// # Panics
    /// If already started.
    pub fn start(&mut self, now: SimTime) {
        assert_eq!(self.status, CanaryStatus::NotStarted, "canary started twice");
        self.set_status(CanaryStatus::Progressing, now);
    }

    fn set_status(&mut self, status: CanaryStatus, now: SimTime) {
        assert!(now >= self.since, "time went backwards: {now:?} before {:?}", self.since);
        self.status = status;
        self.since = now;
    }

    fn next_step(&mut self, now: SimTime) {
        self.step_index += 1;
        self.set_status(CanaryStatus::Progressing, now);
    }

    /// One reconciliation: executes the current step if one is due, or ends a timed pause
    /// that has expired. Call it until it returns [`CanaryEvent::NoChange`]; then nothing
    /// changes before [`Canary::paused_until`], a promote, an analysis result or an abort.
    pub fn advance(&mut self, now: SimTime) -> CanaryEvent {
        match self.status {
            CanaryStatus::NotStarted
            | CanaryStatus::Analyzing
            | CanaryStatus::Inconclusive
            | CanaryStatus::Completed
            | CanaryStatus::Aborted => CanaryEvent::NoChange,
            CanaryStatus::Paused { until: None } => CanaryEvent::NoChange,
            CanaryStatus::Paused { until: Some(until) } => {
                // `now.After(expiredTime)`: strictly after.
                if now > until {
                    self.next_step(now);
                    CanaryEvent::Resumed
                } else {
                    CanaryEvent::NoChange
                }
            }
            CanaryStatus::Progressing => {
                let Some(&step) = self.steps.get(self.step_index) else {
                    self.weight = 100;
                    self.set_status(CanaryStatus::Completed, now);
                    return CanaryEvent::Completed;
                };
                match step {
                    CanaryStep::SetWeight(w) => {
                        self.weight = w;
                        self.next_step(now);
                        CanaryEvent::WeightSet(w)
                    }
                    CanaryStep::Pause { duration } => {
                        let until = duration.map(|d| now.saturating_add(d));
                        self.set_status(CanaryStatus::Paused { until }, now);
                        CanaryEvent::Paused { until }
                    }
                    CanaryStep::Analysis => {
                        self.set_status(CanaryStatus::Analyzing, now);
                        CanaryEvent::AnalysisStarted
                    }
                }
            }
        }
    }

    /// A promote: ends a pause (timed or not), skips a running analysis step or resumes
    /// after an inconclusive one. Otherwise nothing changes.
    pub fn promote(&mut self, now: SimTime) -> CanaryEvent {
        match self.status {
            CanaryStatus::Paused { .. } | CanaryStatus::Analyzing | CanaryStatus::Inconclusive => {
                self.next_step(now);
                CanaryEvent::Resumed
            }
            _ => CanaryEvent::NoChange,
        }
    }

    /// Aborts the rollout: weight 0, stable only. No effect once completed or aborted, or
    /// before the start.
    pub fn abort(&mut self, now: SimTime) -> CanaryEvent {
        if self.is_done() || self.status == CanaryStatus::NotStarted {
            return CanaryEvent::NoChange;
        }
        self.weight = 0;
        self.set_status(CanaryStatus::Aborted, now);
        CanaryEvent::Aborted
    }

    /// The analysis run of the current analysis step has reached `phase`: Successful moves
    /// on, Failed or Error aborts, Inconclusive pauses for a promote, Running changes
    /// nothing. Ignored unless an analysis step is running.
    pub fn analysis_result(&mut self, now: SimTime, phase: AnalysisPhase) -> CanaryEvent {
        if self.status != CanaryStatus::Analyzing {
            return CanaryEvent::NoChange;
        }
        match phase {
            AnalysisPhase::Running => CanaryEvent::NoChange,
            AnalysisPhase::Successful => {
                self.next_step(now);
                CanaryEvent::Resumed
            }
            AnalysisPhase::Failed | AnalysisPhase::Error => self.abort(now),
            AnalysisPhase::Inconclusive => {
                self.set_status(CanaryStatus::Inconclusive, now);
                CanaryEvent::PausedInconclusive
            }
        }
    }
}

/// Desired pod counts for a canary weight.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CanaryCounts {
    /// Canary (new) ReplicaSet replicas.
    pub canary: u32,
    /// Stable ReplicaSet replicas.
    pub stable: u32,
}

impl CanaryCounts {
    /// The canary's share of pods in percent (0 with no pods): the traffic share without a
    /// router, to the extent that kube-proxy spreads evenly over pods.
    pub fn pod_share(&self) -> f64 {
        let total = self.canary + self.stable;
        if total == 0 {
            return 0.0;
        }
        f64::from(self.canary) * 100.0 / f64::from(total)
    }
}

/// `approximateWeightedCanaryStableReplicaCounts`: the canary and stable counts closest to
/// `weight` % of `replicas` without a traffic router; `max_surge` is the resolved `maxSurge`
/// count (see [`resolve`](crate::resolve)).
///
/// # Panics
/// If `weight` is above 100.
pub fn basic_canary_counts(replicas: u32, weight: u32, max_surge: u32) -> CanaryCounts {
    assert!(weight <= 100, "weight {weight} above 100");
    if replicas == 0 {
        return CanaryCounts { canary: 0, stable: 0 };
    }
    let product = u64::from(replicas) * u64::from(weight);
    let ceil = product.div_ceil(100);
    let floor = product / 100;
    let tied = |total: u64| (total * u64::from(weight)) % 100 == 50;
    let zero_allowed = weight == 100 || weight == 0 || (replicas == 1 && max_surge == 0);
    let total = u64::from(replicas);

    // (canary, total) candidates in Argo's order; the first of equally close ones wins.
    let mut options: Vec<(u64, u64)> = Vec::with_capacity(4);
    if ceil < total || zero_allowed {
        options.push((ceil, total));
    }
    if !tied(total) && (floor != 0 || zero_allowed) {
        options.push((floor, total));
    }
    if max_surge > 0 {
        options.push((ceil, total + 1));
        if !tied(total + 1) && (floor != 0 || zero_allowed) {
            options.push((floor, total + 1));
        }
    }
    // |c·100/t − w| compared exactly as |c·100 − w·t| / t.
    let delta = |(c, t): (u64, u64)| (c * 100).abs_diff(u64::from(weight) * t);
    let Some(&first) = options.first() else {
        // Argo's "should not get here": a tie whose ceiling is all pods, with no surge (2 pods
        // at 75 %). Argo then keeps everything stable; so does this.
        return CanaryCounts { canary: 0, stable: replicas };
    };
    let mut best = first;
    for &option in &options[1..] {
        if u128::from(delta(option)) * u128::from(best.1) < u128::from(delta(best)) * u128::from(option.1) {
            best = option;
        }
    }
    let to_u32 = |v: u64| u32::try_from(v).expect("at most replicas + 1");
    CanaryCounts { canary: to_u32(best.0), stable: to_u32(best.1 - best.0) }
}

/// `trafficWeightToReplicas`: `ceil(replicas·weight/100)`.
fn weight_to_replicas(replicas: u32, weight: u32) -> u32 {
    let value = (u64::from(replicas) * u64::from(weight)).div_ceil(100);
    u32::try_from(value).expect("at most replicas")
}

/// `CalculateReplicaCountsForTrafficRoutedCanary` (without `setCanaryScale` or
/// `minPodsPerReplicaSet`): canary `ceil(replicas·weight/100)`; stable `replicas`, or with
/// `dynamic_stable_scale` the larger of `ceil(replicas·(100−weight)/100)` and the same for
/// the stable weight the router currently applies (`actual_stable_weight`, if known).
///
/// # Panics
/// If a weight is above 100.
pub fn routed_canary_counts(
    replicas: u32,
    weight: u32,
    dynamic_stable_scale: bool,
    actual_stable_weight: Option<u32>,
) -> CanaryCounts {
    assert!(weight <= 100, "weight {weight} above 100");
    let canary = weight_to_replicas(replicas, weight);
    if !dynamic_stable_scale {
        return CanaryCounts { canary, stable: replicas };
    }
    let mut stable = weight_to_replicas(replicas, 100 - weight);
    if let Some(actual) = actual_stable_weight {
        assert!(actual <= 100, "stable weight {actual} above 100");
        stable = stable.max(weight_to_replicas(replicas, actual));
    }
    CanaryCounts { canary, stable }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    fn worked_steps() -> Vec<CanaryStep> {
        vec![
            CanaryStep::SetWeight(20),
            CanaryStep::Pause { duration: Some(SimDuration::from_secs(60)) },
            CanaryStep::SetWeight(50),
            CanaryStep::Pause { duration: None },
            CanaryStep::SetWeight(100),
        ]
    }

    #[test]
    fn the_worked_step_list_runs_to_completion() {
        let mut c = Canary::new(worked_steps());
        assert_eq!(c.advance(secs(0)), CanaryEvent::NoChange, "not started");
        c.start(secs(0));
        assert_eq!(c.advance(secs(0)), CanaryEvent::WeightSet(20));
        assert_eq!(c.advance(secs(0)), CanaryEvent::Paused { until: Some(secs(60)) });
        assert_eq!(c.paused_until(), Some(secs(60)));
        assert_eq!(c.advance(secs(60)), CanaryEvent::NoChange, "the pause ends strictly after 60 s");
        assert_eq!(c.advance(SimTime(secs(60).0 + 1)), CanaryEvent::Resumed);
        assert_eq!(c.weight(), 20);
        let t = SimTime(secs(60).0 + 1);
        assert_eq!(c.advance(t), CanaryEvent::WeightSet(50));
        assert_eq!(c.advance(t), CanaryEvent::Paused { until: None });
        assert_eq!(c.advance(secs(3600)), CanaryEvent::NoChange, "waits for a promote");
        assert_eq!(c.promote(secs(3600)), CanaryEvent::Resumed);
        assert_eq!(c.step_index(), 4);
        assert_eq!(c.advance(secs(3600)), CanaryEvent::WeightSet(100));
        assert_eq!(c.advance(secs(3600)), CanaryEvent::Completed);
        assert_eq!((c.weight(), c.status(), c.step_index()), (100, CanaryStatus::Completed, 5));
        assert_eq!(c.abort(secs(3601)), CanaryEvent::NoChange, "a completed rollout cannot abort");
    }

    #[test]
    fn an_abort_in_the_middle_sends_everything_back_to_stable() {
        let mut c = Canary::new(worked_steps());
        c.start(secs(0));
        c.advance(secs(0));
        c.advance(secs(0));
        c.advance(secs(61));
        assert_eq!(c.advance(secs(61)), CanaryEvent::WeightSet(50));
        assert_eq!(c.advance(secs(61)), CanaryEvent::Paused { until: None });
        assert_eq!(c.abort(secs(100)), CanaryEvent::Aborted);
        assert_eq!((c.weight(), c.status(), c.since()), (0, CanaryStatus::Aborted, secs(100)));
        assert_eq!(c.promote(secs(101)), CanaryEvent::NoChange);
        assert_eq!(c.advance(secs(101)), CanaryEvent::NoChange);
    }

    #[test]
    fn no_steps_completes_at_once_and_weight_is_zero_before_the_first_set_weight() {
        let mut c = Canary::new(vec![]);
        c.start(secs(0));
        assert_eq!(c.advance(secs(0)), CanaryEvent::Completed);
        assert_eq!(c.weight(), 100);

        let mut c = Canary::new(vec![CanaryStep::Pause { duration: None }, CanaryStep::SetWeight(10)]);
        c.start(secs(0));
        c.advance(secs(0));
        assert_eq!(c.weight(), 0);
    }

    #[test]
    fn analysis_steps_move_on_abort_or_pause_by_the_run_phase() {
        let steps = vec![CanaryStep::SetWeight(10), CanaryStep::Analysis, CanaryStep::SetWeight(60)];
        let started = || {
            let mut c = Canary::new(steps.clone());
            c.start(secs(0));
            c.advance(secs(0));
            assert_eq!(c.advance(secs(0)), CanaryEvent::AnalysisStarted);
            c
        };
        let mut c = started();
        assert_eq!(c.analysis_result(secs(5), AnalysisPhase::Running), CanaryEvent::NoChange);
        assert_eq!(c.analysis_result(secs(5), AnalysisPhase::Successful), CanaryEvent::Resumed);
        assert_eq!(c.advance(secs(5)), CanaryEvent::WeightSet(60));

        for bad in [AnalysisPhase::Failed, AnalysisPhase::Error] {
            let mut c = started();
            assert_eq!(c.analysis_result(secs(5), bad), CanaryEvent::Aborted);
            assert_eq!(c.weight(), 0);
        }

        let mut c = started();
        assert_eq!(c.analysis_result(secs(5), AnalysisPhase::Inconclusive), CanaryEvent::PausedInconclusive);
        assert_eq!(c.advance(secs(500)), CanaryEvent::NoChange);
        assert_eq!(c.weight(), 10);
        assert_eq!(c.promote(secs(500)), CanaryEvent::Resumed);
        assert_eq!(c.advance(secs(500)), CanaryEvent::WeightSet(60));
    }

    #[test]
    fn basic_canary_counts_match_argo_examples() {
        let table = [
            // (replicas, weight, maxSurge) -> (canary, stable)
            ((10, 41, 3), (4, 6)),
            ((10, 0, 3), (0, 10)),
            ((10, 100, 3), (10, 0)),
            ((10, 10, 1), (1, 9)),
            ((10, 15, 0), (2, 8)), // 1.5 ties: the ceiling wins.
            ((3, 50, 0), (2, 1)),  // 1.5 of 3 ties: the ceiling wins.
            ((1, 1, 0), (0, 1)),   // One pod, no surge: zero is allowed.
            ((1, 99, 0), (1, 0)),
            ((1, 50, 1), (1, 1)), // With surge, one of each (50 %).
            ((2, 1, 0), (1, 1)),  // Never 0 canary for 1–99 with 2+ pods.
            ((2, 99, 0), (1, 1)), // Never 0 stable either.
            ((4, 10, 1), (1, 4)), // 1 of 5 (20 %) is closer than 1 of 4 (25 %) or 0 of 4.
            ((0, 50, 1), (0, 0)),
            ((2, 75, 0), (0, 2)), // Argo's fallback when no option is left.
        ];
        for ((replicas, weight, surge), (canary, stable)) in table {
            assert_eq!(
                basic_canary_counts(replicas, weight, surge),
                CanaryCounts { canary, stable },
                "{replicas} replicas at {weight} % with surge {surge}"
            );
        }
        assert!((basic_canary_counts(10, 41, 3).pod_share() - 40.0).abs() < 1e-9);
    }

    #[test]
    fn routed_counts_round_the_canary_up_and_keep_stable_full_unless_dynamic() {
        assert_eq!(routed_canary_counts(10, 41, false, None), CanaryCounts { canary: 5, stable: 10 });
        assert_eq!(routed_canary_counts(10, 41, true, None), CanaryCounts { canary: 5, stable: 6 });
        // The router still sends stable 90 %: stable stays at 9 until traffic moves.
        assert_eq!(routed_canary_counts(10, 41, true, Some(90)), CanaryCounts { canary: 5, stable: 9 });
        assert_eq!(routed_canary_counts(3, 1, false, None), CanaryCounts { canary: 1, stable: 3 });
    }

    #[derive(Copy, Clone, Debug)]
    enum Op {
        Advance(u64),
        Promote,
        Abort,
        Result(u8),
    }

    fn step() -> impl Strategy<Value = CanaryStep> {
        prop_oneof![
            (0u32..=100).prop_map(CanaryStep::SetWeight),
            proptest::option::of(0u64..100)
                .prop_map(|d| CanaryStep::Pause { duration: d.map(SimDuration::from_secs) }),
            Just(CanaryStep::Analysis),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u64..50).prop_map(Op::Advance),
            2 => Just(Op::Promote),
            1 => Just(Op::Abort),
            2 => (0u8..5).prop_map(Op::Result),
        ]
    }

    proptest! {
        #[test]
        fn weight_changes_only_at_set_weight_abort_or_completion(
            steps in proptest::collection::vec(step(), 0..10),
            ops in proptest::collection::vec(op(), 0..60),
        ) {
            let phases = [
                AnalysisPhase::Running,
                AnalysisPhase::Successful,
                AnalysisPhase::Failed,
                AnalysisPhase::Inconclusive,
                AnalysisPhase::Error,
            ];
            let mut c = Canary::new(steps.clone());
            let mut now = SimTime::ZERO;
            c.start(now);
            let check = |c: &mut Canary, now: SimTime, op: Op| {
                let (before, index) = (c.weight(), c.step_index());
                let event = match op {
                    Op::Advance(_) => c.advance(now),
                    Op::Promote => c.promote(now),
                    Op::Abort => c.abort(now),
                    Op::Result(i) => c.analysis_result(now, phases[usize::from(i)]),
                };
                match event {
                    CanaryEvent::WeightSet(w) => {
                        assert_eq!(steps[index], CanaryStep::SetWeight(w));
                        assert_eq!(c.weight(), w);
                    }
                    CanaryEvent::Completed => assert_eq!(c.weight(), 100),
                    CanaryEvent::Aborted => assert_eq!(c.weight(), 0),
                    other => assert_eq!(c.weight(), before, "{other:?} changed the weight"),
                }
            };
            for op in ops {
                if let Op::Advance(dt) = op {
                    now = now.saturating_add(SimDuration::from_secs(dt));
                }
                check(&mut c, now, op);
            }
            // Drive to the end: promote through every wait, pass every analysis.
            for _ in 0..100 {
                if c.is_done() {
                    break;
                }
                now = now.saturating_add(SimDuration::from_secs(1));
                check(&mut c, now, Op::Advance(1));
                check(&mut c, now, Op::Result(1));
                check(&mut c, now, Op::Promote);
            }
            match c.status() {
                CanaryStatus::Completed => prop_assert_eq!(c.weight(), 100),
                CanaryStatus::Aborted => prop_assert_eq!(c.weight(), 0),
                other => prop_assert!(false, "not finished: {:?}", other),
            }
        }
    }
}
