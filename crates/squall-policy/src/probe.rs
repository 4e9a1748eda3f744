//! A kubelet probe worker: when a liveness, readiness or startup probe is sent, and how its
//! results turn into a verdict.
//!
//! Rules (Kubernetes `pkg/kubelet/prober/worker.go`, `run` and `doProbe`; fields and defaults
//! from "Configure Liveness, Readiness and Startup Probes"; policies.md §8.1):
//! - Ticks are aligned to the worker's start, not the container's: the worker probes at once,
//!   then on a `periodSeconds` ticker, so ticks fall at `worker_start + k·period`, k ≥ 0. (Right
//!   after a kubelet restart the worker first sleeps `U(0, period)`; not modelled.)
//! - A tick is skipped while `int(seconds since container start) < initialDelaySeconds`
//!   (elapsed time truncated to whole seconds). The initial delay only suppresses ticks; it
//!   never schedules one, so the first probe comes at the first tick at or after
//!   `container_start + initialDelaySeconds` (policies.md §0 item 8).
//! - A probe is cut off after `timeoutSeconds`, and a timeout is a failure.
//! - The worker probes synchronously and Go's ticker keeps one tick buffered: when a probe
//!   outlasts the next tick, the following probe starts as soon as the result is in, and later
//!   ticks are back on the grid.
//! - Consecutive identical results form a run. The verdict is set to a result when its run
//!   reaches `successThreshold` (successes) or `failureThreshold` (failures); any other result
//!   leaves it unchanged, and one opposite result starts a new run.
//! - Initial verdicts: readiness Failure (not ready until it passes), liveness Success, startup
//!   Unknown. They are set again whenever a new container starts.
//! - A liveness or startup verdict of Failure means the container is restarted; the worker
//!   stops probing ("on hold") until the new container exists, and the run restarts from zero.
//! - A startup probe stops once it has succeeded (until the container restarts).
//!
//! Not here, because they need knowledge of other probes or of the pod: liveness and readiness
//! ticks are skipped until the startup probe has succeeded (the engine calls
//! [`Probe::skip_tick`] for those), readiness "manual triggers", and the pod-deletion rule that
//! forces liveness and startup to Success.
//!
//! The engine sends a probe at [`Probe::next_tick`], and reports its end with
//! [`Probe::on_result`] at the time the result arrived, or at `sent + timeout_seconds` with
//! `ok = false` if the probe timed out.

use squall_kernel::time::NS_PER_S;
use squall_kernel::{SimDuration, SimTime};

/// Kubernetes probe timing and thresholds (field names and defaults of the `Probe` API
/// object). The seconds fields are durations here; Kubernetes allows whole seconds only.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ProbeConfig {
    /// `initialDelaySeconds` (0): ticks earlier than this after container start are skipped.
    pub initial_delay_seconds: SimDuration,
    /// `periodSeconds` (10 s): time between ticks.
    pub period_seconds: SimDuration,
    /// `timeoutSeconds` (1 s): a probe that takes longer is a failure.
    pub timeout_seconds: SimDuration,
    /// `successThreshold` (1): successes in a row that set the verdict to Success. Must be 1
    /// for liveness and startup probes.
    pub success_threshold: u32,
    /// `failureThreshold` (3): failures in a row that set the verdict to Failure.
    pub failure_threshold: u32,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            initial_delay_seconds: SimDuration::ZERO,
            period_seconds: SimDuration::from_secs(10),
            timeout_seconds: SimDuration::from_secs(1),
            success_threshold: 1,
            failure_threshold: 3,
        }
    }
}

/// Which probe a worker runs; decides the initial verdict and what a verdict leads to.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProbeKind {
    /// Failure restarts the container. Starts at Success.
    Liveness,
    /// Failure takes the pod out of endpoints. Starts at Failure.
    Readiness,
    /// Failure restarts the container; Success ends startup. Starts at Unknown.
    Startup,
}

impl ProbeKind {
    /// The verdict before any threshold run is complete (`worker.initialValue`).
    pub const fn initial_verdict(self) -> ProbeVerdict {
        match self {
            ProbeKind::Liveness => ProbeVerdict::Success,
            ProbeKind::Readiness => ProbeVerdict::Failure,
            ProbeKind::Startup => ProbeVerdict::Unknown,
        }
    }
}

/// A probe worker's published result (`results.Result`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProbeVerdict {
    /// No verdict yet (startup probes only).
    Unknown,
    /// Alive / ready / started.
    Success,
    /// Dead / not ready / failed to start.
    Failure,
}

/// One kubelet probe worker (one container, one probe kind).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    kind: ProbeKind,
    config: ProbeConfig,
    /// Grid origin: ticks at `worker_start + k·period`.
    worker_start: SimTime,
    /// Start of the current container; the initial delay counts from here.
    container_start: SimTime,
    /// Earliest time the next probe may be sent, before the initial-delay rule: a grid tick,
    /// or the end of a probe that outlasted a tick (the buffered tick).
    next: SimTime,
    verdict: ProbeVerdict,
    /// Result of the current run (`lastResult`); `None` before the first result.
    run_ok: Option<bool>,
    /// Length of the current run (`resultRun`).
    run_len: u32,
    /// Not probing: liveness/startup failed (until a new container) or startup succeeded.
    stopped: bool,
}

impl Probe {
    /// A worker started at `worker_start`, whose container is taken to start at the same time
    /// (see [`Probe::on_container_started`] for a later container start).
    ///
    /// # Panics
    /// If the period or timeout is zero, a threshold is zero, or `success_threshold` is not 1
    /// for a liveness or startup probe (Kubernetes validation rejects all of these; its
    /// minimum of one second for period and timeout is left to scenario validation).
    pub fn new(kind: ProbeKind, config: ProbeConfig, worker_start: SimTime) -> Self {
        assert!(config.period_seconds > SimDuration::ZERO, "periodSeconds must be positive");
        assert!(config.timeout_seconds > SimDuration::ZERO, "timeoutSeconds must be positive");
        assert!(config.success_threshold >= 1, "successThreshold must be at least 1");
        assert!(config.failure_threshold >= 1, "failureThreshold must be at least 1");
        if kind != ProbeKind::Readiness {
            assert_eq!(
                config.success_threshold, 1,
                "successThreshold must be 1 for {kind:?} probes, got {}",
                config.success_threshold
            );
        }
        Probe {
            kind,
            config,
            worker_start,
            container_start: worker_start,
            next: worker_start,
            verdict: kind.initial_verdict(),
            run_ok: None,
            run_len: 0,
            stopped: false,
        }
    }

    /// The probe kind.
    pub fn kind(&self) -> ProbeKind {
        self.kind
    }

    /// The configuration.
    pub fn config(&self) -> &ProbeConfig {
        &self.config
    }

    /// The current verdict.
    pub fn verdict(&self) -> ProbeVerdict {
        self.verdict
    }

    /// When the next probe is to be sent: the first tick not suppressed by the initial delay,
    /// at or after the previous probe's end. `None` while the worker is not probing: a
    /// liveness or startup probe that failed (until [`Probe::on_container_started`]), or a
    /// startup probe that succeeded.
    pub fn next_tick(&self) -> Option<SimTime> {
        if self.stopped {
            return None;
        }
        let probing_from =
            self.container_start.saturating_add(whole_seconds_ceil(self.config.initial_delay_seconds));
        if self.next >= probing_from {
            Some(self.next)
        } else {
            // Ticks before `probing_from` are skipped; the next one after them is on the grid.
            Some(self.grid_at_or_after(probing_from))
        }
    }

    /// The probe sent at [`Probe::next_tick`] ended at `now`: `ok` is its result. Returns the
    /// new verdict if it changed.
    ///
    /// A probe is cut off at its timeout and a timeout is a failure: the caller reports a
    /// probe that took longer than `timeout_seconds` at `sent + timeout_seconds` with
    /// `ok = false`.
    ///
    /// # Panics
    /// If the worker is not probing (`next_tick()` is `None`), or `now` is before the send
    /// time or after `sent + timeout_seconds`.
    pub fn on_result(&mut self, now: SimTime, ok: bool) -> Option<ProbeVerdict> {
        let sent = self.next_tick().expect("a result from a probe worker that is not probing");
        assert!(now >= sent, "probe result at {now:?} before it was sent at {sent:?}");
        let deadline = sent.saturating_add(self.config.timeout_seconds);
        assert!(now <= deadline, "probe result at {now:?} after its timeout at {deadline:?}");
        // Go's ticker buffers one tick: if one fell while probing, the next probe starts now.
        let tick_after_sent = self.grid_at_or_after(SimTime(sent.0.saturating_add(1)));
        self.next = if tick_after_sent <= now { now } else { tick_after_sent };

        if self.run_ok == Some(ok) {
            self.run_len = self.run_len.saturating_add(1);
        } else {
            self.run_ok = Some(ok);
            self.run_len = 1;
        }
        let threshold = if ok { self.config.success_threshold } else { self.config.failure_threshold };
        if self.run_len < threshold {
            return None;
        }
        let verdict = if ok { ProbeVerdict::Success } else { ProbeVerdict::Failure };
        match (self.kind, ok) {
            (ProbeKind::Liveness | ProbeKind::Startup, false) => {
                // The container will be restarted; `onHold` until a new one, run reset.
                self.stopped = true;
                self.run_len = 0;
            }
            (ProbeKind::Startup, true) => self.stopped = true,
            _ => {}
        }
        self.set_verdict(verdict)
    }

    /// The tick at [`Probe::next_tick`] was skipped by the engine (a liveness or readiness
    /// probe whose startup probe has not succeeded yet): the next one is the following grid
    /// tick.
    ///
    /// # Panics
    /// If the worker is not probing.
    pub fn skip_tick(&mut self) {
        let tick = self.next_tick().expect("skipping a tick of a probe worker that is not probing");
        self.next = self.grid_at_or_after(SimTime(tick.0.saturating_add(1)));
    }

    /// A new container started at `at` (a restart): the initial delay counts from `at`, the
    /// verdict goes back to the kind's initial one (returned if that is a change), and a worker
    /// on hold resumes. The current result run is kept, as the kubelet does.
    ///
    /// Kubernetes resets the verdict at the first tick that sees the new container; here it is
    /// reset at once.
    ///
    /// # Panics
    /// If `at` is before the worker's start.
    pub fn on_container_started(&mut self, at: SimTime) -> Option<ProbeVerdict> {
        assert!(
            at >= self.worker_start,
            "container start {at:?} before the worker's {:?}",
            self.worker_start
        );
        self.container_start = at;
        self.stopped = false;
        self.next = self.next.max(self.grid_at_or_after(at));
        self.set_verdict(self.kind.initial_verdict())
    }

    fn set_verdict(&mut self, verdict: ProbeVerdict) -> Option<ProbeVerdict> {
        if verdict == self.verdict {
            return None;
        }
        self.verdict = verdict;
        Some(verdict)
    }

    /// The first tick `worker_start + k·period` at or after `t`.
    fn grid_at_or_after(&self, t: SimTime) -> SimTime {
        if t <= self.worker_start {
            return self.worker_start;
        }
        let period_ns = self.config.period_seconds.as_nanos();
        let k = t.since(self.worker_start).as_nanos().div_ceil(period_ns);
        // Saturates: a tick beyond the end of simulated time never comes.
        self.worker_start.saturating_add(SimDuration(k.saturating_mul(period_ns)))
    }
}

/// `d` rounded up to whole seconds: `int(elapsed) < d` fails exactly when `elapsed` reaches
/// this, because the kubelet truncates the elapsed time to whole seconds.
fn whole_seconds_ceil(d: SimDuration) -> SimDuration {
    // Saturates: a delay within a second of the largest duration stays the largest.
    SimDuration(d.as_nanos().div_ceil(NS_PER_S).saturating_mul(NS_PER_S))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: u64 = NS_PER_S;

    fn at(s: u64) -> SimTime {
        SimTime(s * S)
    }

    /// Sends probes at each tick with the given results, each answered `latency` later;
    /// returns the verdict changes as (result index, verdict).
    fn run(probe: &mut Probe, results: &[bool], latency: SimDuration) -> Vec<(usize, ProbeVerdict)> {
        let mut changes = Vec::new();
        for (i, &ok) in results.iter().enumerate() {
            let sent = probe.next_tick().unwrap();
            if let Some(v) = probe.on_result(sent + latency, ok) {
                changes.push((i, v));
            }
        }
        changes
    }

    #[test]
    fn defaults_are_the_kubernetes_ones() {
        let c = ProbeConfig::default();
        assert_eq!(c.initial_delay_seconds, SimDuration::ZERO);
        assert_eq!(c.period_seconds, SimDuration::from_secs(10));
        assert_eq!(c.timeout_seconds, SimDuration::from_secs(1));
        assert_eq!((c.success_threshold, c.failure_threshold), (1, 3));
    }

    #[test]
    fn initial_verdicts_depend_on_the_kind() {
        let c = ProbeConfig::default();
        assert_eq!(Probe::new(ProbeKind::Liveness, c, at(0)).verdict(), ProbeVerdict::Success);
        assert_eq!(Probe::new(ProbeKind::Readiness, c, at(0)).verdict(), ProbeVerdict::Failure);
        assert_eq!(Probe::new(ProbeKind::Startup, c, at(0)).verdict(), ProbeVerdict::Unknown);
    }

    #[test]
    fn readiness_fails_at_the_third_failure_and_a_success_in_between_resets_the_run() {
        let mut p = Probe::new(ProbeKind::Readiness, ProbeConfig::default(), at(0));
        let ms = SimDuration::from_millis(5);
        assert_eq!(run(&mut p, &[true], ms), vec![(0, ProbeVerdict::Success)]);
        // F F S F F: never three in a row.
        assert_eq!(run(&mut p, &[false, false, true, false, false], ms), vec![]);
        assert_eq!(p.verdict(), ProbeVerdict::Success);
        // The third failure in a row flips it, not the second; later failures change nothing.
        assert_eq!(run(&mut p, &[false, false], ms), vec![(0, ProbeVerdict::Failure)]);
        assert_eq!(run(&mut p, &[false], ms), vec![]);
    }

    #[test]
    fn readiness_needs_success_threshold_successes_in_a_row() {
        let config = ProbeConfig { success_threshold: 2, ..ProbeConfig::default() };
        let mut p = Probe::new(ProbeKind::Readiness, config, at(0));
        let ms = SimDuration::from_millis(5);
        assert_eq!(run(&mut p, &[true, false, true], ms), vec![]);
        assert_eq!(run(&mut p, &[true], ms), vec![(0, ProbeVerdict::Success)]);
    }

    #[test]
    fn ticks_are_aligned_to_the_worker_start_and_the_initial_delay_only_skips_them() {
        // Worker at 3 s, period 10 s, delay 15 s: ticks at 3, 13, 23, ...; 3 and 13 are
        // skipped (less than 15 s after start), the first probe is at 23 s, not at 18 s.
        let config =
            ProbeConfig { initial_delay_seconds: SimDuration::from_secs(15), ..ProbeConfig::default() };
        let mut p = Probe::new(ProbeKind::Liveness, config, at(3));
        assert_eq!(p.next_tick(), Some(at(23)));
        assert_eq!(p.on_result(at(23) + SimDuration::from_millis(200), true), None);
        assert_eq!(p.next_tick(), Some(at(33)));
        // A delay that is a whole number of periods: the tick exactly at the end is probed.
        let config =
            ProbeConfig { initial_delay_seconds: SimDuration::from_secs(20), ..ProbeConfig::default() };
        assert_eq!(Probe::new(ProbeKind::Liveness, config, at(3)).next_tick(), Some(at(23)));
        // Without a delay the worker probes at once.
        assert_eq!(Probe::new(ProbeKind::Liveness, ProbeConfig::default(), at(3)).next_tick(), Some(at(3)));
    }

    #[test]
    fn the_initial_delay_counts_from_the_container_start_in_truncated_seconds() {
        // Worker at 0, container at 2.5 s, delay 5 s, period 1 s: int(elapsed) ≥ 5 first at
        // elapsed 5 s, i.e. 7.5 s, so the first probe is at the 8 s tick.
        let config = ProbeConfig {
            initial_delay_seconds: SimDuration::from_secs(5),
            period_seconds: SimDuration::from_secs(1),
            ..ProbeConfig::default()
        };
        let mut p = Probe::new(ProbeKind::Readiness, config, at(0));
        assert_eq!(p.on_container_started(SimTime(2_500_000_000)), None);
        assert_eq!(p.next_tick(), Some(at(8)));
        // A fractional delay is rounded up by the truncation: 1.2 s acts as 2 s.
        let config = ProbeConfig {
            initial_delay_seconds: SimDuration::from_millis(1_200),
            period_seconds: SimDuration::from_millis(500),
            ..ProbeConfig::default()
        };
        assert_eq!(Probe::new(ProbeKind::Readiness, config, at(0)).next_tick(), Some(at(2)));
    }

    #[test]
    fn a_probe_that_outlasts_a_tick_is_followed_at_once_then_the_grid_resumes() {
        let config = ProbeConfig {
            period_seconds: SimDuration::from_secs(2),
            timeout_seconds: SimDuration::from_secs(5),
            ..ProbeConfig::default()
        };
        let mut p = Probe::new(ProbeKind::Readiness, config, at(0));
        // Sent at 0, ends at 3 s: the tick at 2 s was buffered, so the next probe is at 3 s.
        assert_eq!(p.on_result(at(3), true), Some(ProbeVerdict::Success));
        assert_eq!(p.next_tick(), Some(at(3)));
        // Sent at 3 s, ends at 3.5 s: no tick in between, back to the grid at 4 s.
        assert_eq!(p.on_result(SimTime(3_500_000_000), true), None);
        assert_eq!(p.next_tick(), Some(at(4)));
        // A result exactly at a tick: the next probe is sent at that tick.
        assert_eq!(p.on_result(at(6), false), None);
        assert_eq!(p.next_tick(), Some(at(6)));
    }

    #[test]
    fn liveness_failure_holds_the_worker_until_the_container_restarts() {
        let mut p = Probe::new(ProbeKind::Liveness, ProbeConfig::default(), at(0));
        // Timeouts: reported at sent + 1 s as failures; the third one kills the container.
        for (i, t) in [0, 10, 20].into_iter().enumerate() {
            assert_eq!(p.next_tick(), Some(at(t)));
            let verdict = p.on_result(at(t + 1), false);
            assert_eq!(verdict, if i == 2 { Some(ProbeVerdict::Failure) } else { None });
        }
        assert_eq!(p.next_tick(), None);
        // The new container starts at 34 s: verdict back to Success, probing at the 40 s tick.
        assert_eq!(p.on_container_started(at(34)), Some(ProbeVerdict::Success));
        assert_eq!(p.next_tick(), Some(at(40)));
        // The run restarted: one failure does not kill it again.
        assert_eq!(p.on_result(at(41), false), None);
    }

    #[test]
    fn startup_stops_probing_once_it_succeeds() {
        let mut p = Probe::new(ProbeKind::Startup, ProbeConfig::default(), at(0));
        assert_eq!(p.on_result(at(0), false), None);
        assert_eq!(p.verdict(), ProbeVerdict::Unknown);
        assert_eq!(p.on_result(at(10), true), Some(ProbeVerdict::Success));
        assert_eq!(p.next_tick(), None);
    }

    #[test]
    fn skipped_ticks_move_to_the_next_grid_tick() {
        let mut p = Probe::new(ProbeKind::Readiness, ProbeConfig::default(), at(1));
        p.skip_tick();
        p.skip_tick();
        assert_eq!(p.next_tick(), Some(at(21)));
    }

    proptest! {
        #[test]
        fn the_verdict_changes_only_after_a_threshold_run_of_identical_results(
            success_threshold in 1u32..5,
            failure_threshold in 1u32..5,
            results in proptest::collection::vec(any::<bool>(), 1..200),
            latency_ms in 0u64..=1000,
        ) {
            let config = ProbeConfig { success_threshold, failure_threshold, ..ProbeConfig::default() };
            let mut p = Probe::new(ProbeKind::Readiness, config, SimTime::ZERO);
            let mut verdict = ProbeVerdict::Failure;
            for (i, &ok) in results.iter().enumerate() {
                let sent = p.next_tick().unwrap();
                prop_assert_eq!(sent.as_nanos() % (10 * S), 0, "ticks stay on the grid");
                let change = p.on_result(sent + SimDuration::from_millis(latency_ms), ok);
                let threshold = if ok { success_threshold } else { failure_threshold } as usize;
                let run_is_complete =
                    i + 1 >= threshold && results[i + 1 - threshold..=i].iter().all(|&r| r == ok);
                let target = if ok { ProbeVerdict::Success } else { ProbeVerdict::Failure };
                if run_is_complete {
                    prop_assert_eq!(p.verdict(), target);
                    prop_assert_eq!(change, (verdict != target).then_some(target));
                } else {
                    prop_assert_eq!(change, None, "changed without a full run at {}", i);
                    prop_assert_eq!(p.verdict(), verdict);
                }
                verdict = p.verdict();
            }
        }
    }
}
