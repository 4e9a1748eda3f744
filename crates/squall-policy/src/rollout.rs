//! Kubernetes Deployment `RollingUpdate`: the surge/unavailable arithmetic and one sync of the
//! deployment controller.
//!
//! Rules (Kubernetes `pkg/controller/deployment/rolling.go` and `util/deployment_util.go`;
//! policies.md §9.1):
//! - Defaults: `maxSurge` 25 %, `maxUnavailable` 25 %, `minReadySeconds` 0,
//!   `progressDeadlineSeconds` 600.
//! - Fenceposts (`ResolveFenceposts`): a percentage is scaled by `replicas`, `maxSurge` rounded
//!   **up** and `maxUnavailable` rounded **down**; if both come out 0, `maxUnavailable` is 1
//!   (policies.md §0 item 7). Kubernetes computes `ceil`/`floor` of `p·replicas/100` in
//!   `float64`; for these sizes that is exact, so integer arithmetic gives the same values.
//!   `MaxUnavailable` then caps it at `replicas` (0 when `replicas` is 0).
//! - A sync (`rolloutRolling`) first runs `reconcileNewReplicaSet`: a new ReplicaSet above
//!   `replicas` is scaled down to it; below, with `maxTotal = replicas + surge` and `current`
//!   the sum of `spec.replicas` over all ReplicaSets, if `current < maxTotal` the new one grows
//!   by `min(maxTotal − current, replicas − new)`. If that scaled, the sync ends.
//! - Otherwise `reconcileOldReplicaSets`: with `minAvailable = replicas − unavailable` and
//!   `maxScaledDown = Σspec − minAvailable − (new.spec − new.available)`, nothing happens unless
//!   `maxScaledDown > 0`. Then up to `maxScaledDown` old replicas that are not available are
//!   removed first (`cleanupUnhealthyReplicas`, kubernetes#16737), and then, if the available
//!   total exceeds `minAvailable`, up to `available − minAvailable` more
//!   (`scaleDownOldReplicaSetsForRollingUpdate`).
//! - Counts are ReplicaSet `spec.replicas`, so pods still terminating do not count against the
//!   surge; "available" means Ready for at least `minReadySeconds` ([`RollingUpdate::is_available`]).
//! - Progress deadline (`DeploymentTimedOut`): a rollout whose last progress was at `T` has
//!   timed out once `T + progressDeadlineSeconds` is strictly before now. There is no automatic
//!   rollback; the rollout keeps going.
//!
//! The old ReplicaSets are given as one aggregate: the controller walks them oldest first, but
//! the totals it removes per phase equal those computed on the sums, so only the split among
//! old ReplicaSets (oldest first) is left to the caller. Scaling events (a change of
//! `replicas` during a rollout, proportional scaling) and `Recreate` are not here.

use squall_kernel::{SimDuration, SimTime};

/// An `intstr.IntOrString` as used by `maxSurge` and `maxUnavailable`: a count or a
/// percentage of `replicas`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum IntOrPercent {
    /// An absolute number of pods.
    Int(u32),
    /// A percentage of `replicas` (`"25%"`).
    Percent(u32),
}

impl IntOrPercent {
    /// `GetScaledValueFromIntOrPercent`: the count itself, or `p·total/100` rounded up or
    /// down.
    ///
    /// # Panics
    /// If a percentage above 100 % of `total` overflows `u32`.
    pub fn scaled(self, total: u32, round_up: bool) -> u32 {
        match self {
            IntOrPercent::Int(n) => n,
            IntOrPercent::Percent(p) => {
                let product = u64::from(p) * u64::from(total);
                let value = if round_up { product.div_ceil(100) } else { product / 100 };
                u32::try_from(value).expect("percentage of replicas overflows u32")
            }
        }
    }
}

/// `ResolveFenceposts`: `(surge, unavailable)` for `replicas`, `maxSurge` rounded up and
/// `maxUnavailable` rounded down, and `unavailable = 1` if both are 0.
///
/// # Panics
/// If a percentage above 100 % of `replicas` overflows `u32`.
pub fn resolve(max_surge: IntOrPercent, max_unavailable: IntOrPercent, replicas: u32) -> (u32, u32) {
    let surge = max_surge.scaled(replicas, true);
    let unavailable = max_unavailable.scaled(replicas, false);
    if surge == 0 && unavailable == 0 {
        // Rounding down can make a legal percentage 0; the controller then allows one.
        return (0, 1);
    }
    (surge, unavailable)
}

/// A ReplicaSet's counts as the deployment controller reads them.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicaSetCounts {
    /// `spec.replicas`: desired pods (terminating pods are not counted).
    pub replicas: u32,
    /// `status.availableReplicas`: pods Ready for at least `minReadySeconds`.
    pub available: u32,
}

/// The ReplicaSets of a Deployment in the middle of a rollout.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RolloutState {
    /// The ReplicaSet of the current pod template.
    pub new: ReplicaSetCounts,
    /// All older ReplicaSets, summed.
    pub old: ReplicaSetCounts,
}

impl RolloutState {
    /// `Σ spec.replicas` over all ReplicaSets.
    pub fn total_replicas(&self) -> u32 {
        self.new.replicas + self.old.replicas
    }

    /// Available pods over all ReplicaSets.
    pub fn total_available(&self) -> u32 {
        self.new.available + self.old.available
    }

    /// Only new replicas are left and all `replicas` of them are available.
    pub fn is_complete(&self, replicas: u32) -> bool {
        self.old.replicas == 0 && self.new.replicas == replicas && self.new.available == replicas
    }
}

/// What one sync of the controller does.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ScaleDecision {
    /// Set the new ReplicaSet's `spec.replicas` to `replicas`.
    ScaleNew {
        /// The new `spec.replicas`.
        replicas: u32,
    },
    /// Scale the old ReplicaSets down to `replicas` in total: `n_unhealthy` removed because
    /// they were not available, then `n_healthy` more while keeping `minAvailable`. The
    /// ReplicaSet controller deletes not-ready pods first, so old availability drops by
    /// `max(0, n_unhealthy + n_healthy − (old.replicas − old.available))`.
    ScaleOld {
        /// The old ReplicaSets' new `spec.replicas` in total.
        replicas: u32,
        /// Scaled down by the unhealthy-replica cleanup.
        n_unhealthy: u32,
        /// Scaled down afterwards, bounded by `available − minAvailable`.
        n_healthy: u32,
    },
    /// Nothing can change until pods become available (or the rollout is done).
    NoChange,
}

/// A Deployment's size and `RollingUpdate` strategy (API field names and defaults).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RollingUpdate {
    /// `spec.replicas`.
    pub replicas: u32,
    /// `maxSurge` (25 %).
    pub max_surge: IntOrPercent,
    /// `maxUnavailable` (25 %).
    pub max_unavailable: IntOrPercent,
    /// `minReadySeconds` (0): how long a pod must be Ready to count as available.
    pub min_ready_seconds: SimDuration,
    /// `progressDeadlineSeconds` (600 s).
    pub progress_deadline_seconds: SimDuration,
}

impl RollingUpdate {
    /// `replicas` pods with the default strategy.
    pub fn new(replicas: u32) -> Self {
        RollingUpdate {
            replicas,
            max_surge: IntOrPercent::Percent(25),
            max_unavailable: IntOrPercent::Percent(25),
            min_ready_seconds: SimDuration::ZERO,
            progress_deadline_seconds: SimDuration::from_secs(600),
        }
    }

    /// `(surge, unavailable)` as the controller uses them: [`resolve`], then `unavailable`
    /// capped at `replicas` (`MaxUnavailable`; 0 when `replicas` is 0).
    pub fn fenceposts(&self) -> (u32, u32) {
        let (surge, unavailable) = resolve(self.max_surge, self.max_unavailable, self.replicas);
        (surge, unavailable.min(self.replicas))
    }

    /// One sync of `rolloutRolling`: scale the new ReplicaSet up if the surge allows, else
    /// scale the old ones down as far as availability allows.
    pub fn step(&self, state: &RolloutState) -> ScaleDecision {
        let replicas = self.replicas;
        let (surge, unavailable) = self.fenceposts();
        let (new, old) = (state.new, state.old);

        // reconcileNewReplicaSet.
        if new.replicas > replicas {
            return ScaleDecision::ScaleNew { replicas };
        }
        if new.replicas < replicas {
            let max_total = u64::from(replicas) + u64::from(surge);
            let current = u64::from(new.replicas) + u64::from(old.replicas);
            if current < max_total {
                let up = (max_total - current).min(u64::from(replicas - new.replicas));
                assert!(up > 0, "a scale-up that changes nothing: {state:?}");
                let up = u32::try_from(up).expect("bounded by replicas − new");
                return ScaleDecision::ScaleNew { replicas: new.replicas + up };
            }
        }

        // reconcileOldReplicaSets. Signed: availability may exceed spec for a moment while
        // pods are being deleted, and the controller's int32 arithmetic allows it.
        if old.replicas == 0 {
            return ScaleDecision::NoChange;
        }
        let min_available = i64::from(replicas) - i64::from(unavailable);
        let new_unavailable = i64::from(new.replicas) - i64::from(new.available);
        let max_scaled_down = i64::from(state.total_replicas()) - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return ScaleDecision::NoChange;
        }
        // cleanupUnhealthyReplicas: old replicas that are not available go first.
        let old_unhealthy = (i64::from(old.replicas) - i64::from(old.available)).max(0);
        let n_unhealthy = max_scaled_down.min(old_unhealthy);
        let old_after_cleanup = i64::from(old.replicas) - n_unhealthy;
        // scaleDownOldReplicaSetsForRollingUpdate: availability is unchanged by the cleanup.
        let available = i64::from(state.total_available());
        let n_healthy =
            if available > min_available { old_after_cleanup.min(available - min_available) } else { 0 };
        if n_unhealthy + n_healthy == 0 {
            return ScaleDecision::NoChange;
        }
        let to_u32 = |v: i64| u32::try_from(v).expect("between 0 and old.replicas");
        ScaleDecision::ScaleOld {
            replicas: to_u32(old_after_cleanup - n_healthy),
            n_unhealthy: to_u32(n_unhealthy),
            n_healthy: to_u32(n_healthy),
        }
    }

    /// `IsPodAvailable`: a pod Ready since `ready_since` is available at `now` if
    /// `minReadySeconds` is 0 or `ready_since + minReadySeconds` is strictly before `now`.
    pub fn is_available(&self, ready_since: SimTime, now: SimTime) -> bool {
        self.min_ready_seconds == SimDuration::ZERO
            || ready_since.saturating_add(self.min_ready_seconds) < now
    }

    /// `DeploymentTimedOut`: a rollout that last progressed at `last_progress` has exceeded
    /// its deadline at `now` if `last_progress + progressDeadlineSeconds` is strictly before
    /// `now`. Progress is the new ReplicaSet growing, old pods going away, or more pods Ready
    /// or available; only meaningful while the rollout is not complete.
    pub fn progress_deadline_exceeded(&self, last_progress: SimTime, now: SimTime) -> bool {
        last_progress.saturating_add(self.progress_deadline_seconds) < now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use IntOrPercent::{Int, Percent};

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        let table = [
            // (maxSurge, maxUnavailable, replicas) -> (surge, unavailable)
            ((Percent(25), Percent(25), 3), (1, 0)),
            ((Percent(25), Percent(25), 10), (3, 2)),
            ((Percent(25), Percent(25), 4), (1, 1)),
            ((Percent(25), Percent(25), 1), (1, 0)),
            ((Percent(30), Percent(30), 10), (3, 3)),
            ((Percent(0), Percent(0), 1), (0, 1)),
            ((Int(0), Int(0), 1), (0, 1)),
            ((Int(0), Percent(25), 3), (0, 1)),
            ((Int(2), Int(0), 5), (2, 0)),
            ((Percent(100), Percent(0), 7), (7, 0)),
            ((Percent(200), Int(1), 3), (6, 1)),
        ];
        for ((surge, unavailable, replicas), want) in table {
            assert_eq!(
                resolve(surge, unavailable, replicas),
                want,
                "{surge:?}/{unavailable:?} of {replicas}"
            );
        }
    }

    #[test]
    fn max_unavailable_is_capped_at_replicas() {
        let d = RollingUpdate { max_unavailable: Int(5), ..RollingUpdate::new(2) };
        assert_eq!(d.fenceposts(), (1, 2));
        assert_eq!(RollingUpdate::new(0).fenceposts(), (0, 0));
    }

    #[test]
    fn ten_replicas_at_the_defaults_surge_three_then_trade_two_for_two() {
        let d = RollingUpdate::new(10);
        let counts = |replicas, available| ReplicaSetCounts { replicas, available };
        let mut s = RolloutState { new: counts(0, 0), old: counts(10, 10) };
        assert_eq!(d.step(&s), ScaleDecision::ScaleNew { replicas: 3 });
        s.new = counts(3, 0);
        // 13 = maxTotal: no more surge; 10 available > minAvailable 8, so two old go.
        assert_eq!(d.step(&s), ScaleDecision::ScaleOld { replicas: 8, n_unhealthy: 0, n_healthy: 2 });
        s.old = counts(8, 8);
        assert_eq!(d.step(&s), ScaleDecision::ScaleNew { replicas: 5 });
        s.new = counts(5, 0);
        assert_eq!(d.step(&s), ScaleDecision::NoChange, "8 available = minAvailable");
        s.new = counts(5, 3);
        assert_eq!(d.step(&s), ScaleDecision::ScaleOld { replicas: 5, n_unhealthy: 0, n_healthy: 3 });
    }

    #[test]
    fn unhealthy_old_replicas_are_removed_first() {
        // Old 10 with 4 not available, new 3 none available: maxScaledDown = 13 − 8 − 3 = 2,
        // both taken from the unhealthy ones; available 6 < 8, so no healthy one goes.
        let d = RollingUpdate::new(10);
        let s = RolloutState {
            new: ReplicaSetCounts { replicas: 3, available: 0 },
            old: ReplicaSetCounts { replicas: 10, available: 6 },
        };
        assert_eq!(d.step(&s), ScaleDecision::ScaleOld { replicas: 8, n_unhealthy: 2, n_healthy: 0 });
    }

    #[test]
    fn a_new_replica_set_above_replicas_is_scaled_down() {
        let d = RollingUpdate::new(3);
        let s =
            RolloutState { new: ReplicaSetCounts { replicas: 5, available: 5 }, ..RolloutState::default() };
        assert_eq!(d.step(&s), ScaleDecision::ScaleNew { replicas: 3 });
    }

    #[test]
    fn availability_needs_min_ready_seconds_strictly_passed() {
        let mut d = RollingUpdate::new(1);
        assert!(d.is_available(SimTime(5), SimTime(5)));
        d.min_ready_seconds = SimDuration::from_secs(10);
        let ready = SimTime::ZERO + SimDuration::from_secs(5);
        assert!(!d.is_available(ready, SimTime::ZERO + SimDuration::from_secs(15)));
        assert!(d.is_available(ready, SimTime(15_000_000_001)));
    }

    #[test]
    fn the_progress_deadline_is_600_seconds_and_strict() {
        let d = RollingUpdate::new(3);
        let t = SimTime::ZERO + SimDuration::from_secs(100);
        assert!(!d.progress_deadline_exceeded(t, SimTime::ZERO + SimDuration::from_secs(700)));
        assert!(d.progress_deadline_exceeded(t, SimTime(700_000_000_001)));
    }

    /// A Deployment whose old pods are all available at t = 0, driven by `step` the way the
    /// controller is (a sync after every change), with new pod `i` available `delays[i]`
    /// after it is created. Checks the surge and availability bounds after every change;
    /// returns the decisions with their times, and the end time.
    fn drive(d: &RollingUpdate, delays: &[u64]) -> (Vec<(u64, ScaleDecision)>, u64) {
        let (surge, unavailable) = d.fenceposts();
        let mut s = RolloutState {
            old: ReplicaSetCounts { replicas: d.replicas, available: d.replicas },
            ..Default::default()
        };
        let mut available_at: Vec<u64> = Vec::new();
        let mut trace = Vec::new();
        let mut now = 0;
        for _ in 0..10_000 {
            let available = u32::try_from(available_at.iter().filter(|&&t| t <= now).count()).unwrap();
            if available != s.new.available {
                s.new.available = available;
                continue;
            }
            match d.step(&s) {
                ScaleDecision::ScaleNew { replicas } => {
                    assert!(replicas > s.new.replicas, "this rollout never scales the new set down");
                    for i in s.new.replicas..replicas {
                        available_at.push(now + delays[i as usize % delays.len()]);
                    }
                    s.new.replicas = replicas;
                    trace.push((now, ScaleDecision::ScaleNew { replicas }));
                }
                decision @ ScaleDecision::ScaleOld { replicas, n_unhealthy, n_healthy } => {
                    assert_eq!(replicas + n_unhealthy + n_healthy, s.old.replicas);
                    let unhealthy = s.old.replicas - s.old.available;
                    s.old.available -= (n_unhealthy + n_healthy).saturating_sub(unhealthy);
                    s.old.replicas = replicas;
                    trace.push((now, decision));
                }
                ScaleDecision::NoChange => {
                    if s.is_complete(d.replicas) {
                        return (trace, now);
                    }
                    now = *available_at.iter().filter(|&&t| t > now).min().expect("a stuck rollout");
                    continue;
                }
            }
            assert!(
                s.total_replicas() <= d.replicas + surge,
                "spec total {} above replicas {} + surge {surge}: {s:?}",
                s.total_replicas(),
                d.replicas
            );
            assert!(
                s.total_available() + unavailable >= d.replicas,
                "available {} below replicas {} − unavailable {unavailable}: {s:?}",
                s.total_available(),
                d.replicas
            );
        }
        panic!("rollout did not finish in 10 000 steps: {s:?}");
    }

    #[test]
    fn three_replicas_at_the_defaults_roll_one_pod_at_a_time() {
        // Surge 1, unavailable 0: one new pod, wait 5 s for it, one old pod goes, repeat.
        let (trace, end) = drive(&RollingUpdate::new(3), &[5]);
        let new = |replicas| ScaleDecision::ScaleNew { replicas };
        let old = |replicas| ScaleDecision::ScaleOld { replicas, n_unhealthy: 0, n_healthy: 1 };
        assert_eq!(
            trace,
            vec![(0, new(1)), (5, old(2)), (5, new(2)), (10, old(1)), (10, new(3)), (15, old(0))]
        );
        assert_eq!(end, 15);
    }

    fn int_or_percent() -> impl Strategy<Value = IntOrPercent> {
        prop_oneof![(0u32..6).prop_map(Int), (0u32..=100).prop_map(Percent)]
    }

    proptest! {
        #[test]
        fn a_rollout_driven_by_step_finishes_within_its_bounds(
            replicas in 1u32..30,
            max_surge in int_or_percent(),
            max_unavailable in int_or_percent(),
            delays in proptest::collection::vec(0u64..100, 1..30),
        ) {
            let d = RollingUpdate { max_surge, max_unavailable, ..RollingUpdate::new(replicas) };
            // `drive` asserts the surge and availability bounds after every change.
            let (trace, _) = drive(&d, &delays);
            prop_assert!(!trace.is_empty());
            let last_new = trace.iter().rev().find_map(|(_, d)| match d {
                ScaleDecision::ScaleNew { replicas } => Some(*replicas),
                _ => None,
            });
            prop_assert_eq!(last_new, Some(replicas));
        }
    }
}
