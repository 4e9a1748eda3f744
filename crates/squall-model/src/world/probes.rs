//! The orchestrator's probes: one kubelet probe worker per instance and probe kind, driving
//! the `squall_policy::Probe` state machine. A probe checks something concrete: the process
//! answers; the process answers and a call to a dependency succeeds within the probe's
//! timeout (a real request, sent with no client policy); or the process answers and its queue
//! is short enough. Verdicts act on the instance: readiness moves it in and out of the
//! balancers' endpoints, a failed liveness or startup probe kills its process, which the
//! kubelet restarts after the crash-loop back-off.
//!
//! `Probes` owns every worker. It is told what it needs of an instance (`Seen`) and answers
//! with what to do: a tick to schedule (`Due`), a check to make (`Probing`), a verdict to act
//! on (`Act`). The orchestrator below schedules, sends the dependency call and acts.

use super::logical::Owner;
use super::*;
use crate::config::{ProbeCheck, ProbeSpec};
use fleet::Phase;
use squall_policy::{Probe, ProbeKind, ProbeVerdict};

/// Probe kinds by the index events carry.
pub(super) const KINDS: [ProbeKind; 3] = [ProbeKind::Startup, ProbeKind::Liveness, ProbeKind::Readiness];

/// One probe worker of an instance.
struct Worker {
    kind: u8,
    probe: Probe,
    /// Bumped whenever a tick is scheduled or a probe in flight is discarded, so stale events
    /// and answers are recognised.
    seq: u32,
    in_flight: bool,
}

/// The workers of one instance.
struct OnInstance {
    service: ServiceId,
    workers: Vec<Worker>,
}

/// A worker's next tick: schedule `Event::ProbeTick { inst, seq, kind }` at `at`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct Due {
    pub at: SimTime,
    pub seq: u32,
    pub kind: u8,
}

/// What a probe tick needs to know of its instance.
#[derive(Copy, Clone, Debug)]
pub(super) struct Seen {
    /// It is gone: its workers are stopped for good.
    pub gone: bool,
    /// Its deletion has begun: liveness and startup probes stop.
    pub terminating: bool,
    /// Its process answers (running or stopping, and no fault holds it down).
    pub up: bool,
    /// Requests in its queue.
    pub queued: u64,
}

/// What a due tick does.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Probing {
    /// Nothing: the tick is stale, or the probe stopped.
    Nothing,
    /// Skipped (startup has not passed yet): the worker's next tick.
    Skipped(Option<Due>),
    /// The check's result is known at once: pass it to `Probes::result`.
    Checked(bool),
    /// The check is a call to `target` within `timeout`, owned by the probe (`seq`); its end
    /// goes to `Probes::call_done`.
    Call { target: (ServiceId, crate::config::EndpointId), timeout: SimDuration, seq: u32 },
}

/// What a probe's verdict asks of the instance.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Act {
    /// Readiness changed (a ready verdict counts only while the instance runs).
    Ready(bool),
    /// Liveness or startup failed: stop the container and restart it.
    Restart,
}

/// The probe subsystem.
///
/// **Invariant:** a worker has at most one tick scheduled or one probe in flight; only the
/// event or answer carrying its current `seq` counts.
pub(super) struct Probes {
    /// Per service, its probes by kind index.
    specs: IdVec<ServiceId, [Option<ProbeSpec>; 3]>,
    /// Per instance, its workers, made at its first start.
    on: Vec<OnInstance>,
}

impl Probes {
    pub(super) fn new(services: &[crate::config::ServiceConfig]) -> Probes {
        let specs = services
            .iter()
            .map(|s| [s.probes.startup.clone(), s.probes.liveness.clone(), s.probes.readiness.clone()])
            .collect();
        Probes { specs, on: Vec::new() }
    }

    fn spec(&self, inst: InstanceId, kind: u8) -> &ProbeSpec {
        self.specs[self.on[inst.idx()].service][kind as usize]
            .as_ref()
            .expect("a worker runs a configured probe")
    }

    fn worker(&self, inst: InstanceId, kind: u8) -> Option<usize> {
        self.on.get(inst.idx())?.workers.iter().position(|w| w.kind == kind)
    }

    /// The process of `inst` (of `service`) starts: its workers are made at its first start,
    /// told of the new container at the next ones. Returns their next ticks.
    pub(super) fn start(&mut self, inst: InstanceId, service: ServiceId, now: SimTime) -> [Option<Due>; 3] {
        if self.on.len() <= inst.idx() {
            self.on.resize_with(inst.idx() + 1, || OnInstance { service, workers: Vec::new() });
        }
        if self.on[inst.idx()].workers.is_empty() {
            let workers = (0..3u8)
                .filter_map(|k| {
                    self.specs[service][k as usize].as_ref().map(|spec| Worker {
                        kind: k,
                        probe: Probe::new(KINDS[k as usize], spec.config, now),
                        seq: 0,
                        in_flight: false,
                    })
                })
                .collect();
            self.on[inst.idx()] = OnInstance { service, workers };
        } else {
            for w in &mut self.on[inst.idx()].workers {
                // Readiness starts at Failure again: the instance is not ready yet anyway.
                let _ = w.probe.on_container_started(now);
            }
        }
        let mut due = [None; 3];
        for (k, d) in due.iter_mut().enumerate().take(self.on[inst.idx()].workers.len()) {
            *d = self.schedule(inst, k, now);
        }
        due
    }

    /// Discards the probes in flight of `inst` (its process died): their answers no longer
    /// count, and their workers move to the next tick.
    pub(super) fn stop(&mut self, inst: InstanceId) {
        let Some(on) = self.on.get_mut(inst.idx()) else { return };
        for w in &mut on.workers {
            if w.in_flight {
                w.in_flight = false;
                w.seq += 1;
                if w.probe.next_tick().is_some() {
                    w.probe.skip_tick();
                }
            }
        }
    }

    /// Worker `k`'s next tick, if it is probing and has no probe in flight.
    fn schedule(&mut self, inst: InstanceId, k: usize, now: SimTime) -> Option<Due> {
        let w = &mut self.on[inst.idx()].workers[k];
        if w.in_flight {
            return None;
        }
        let t = w.probe.next_tick()?;
        w.seq += 1;
        Some(Due { at: t.max(now), seq: w.seq, kind: w.kind })
    }

    /// The tick `seq` of `inst`'s probe `kind` is due, the instance looking as `seen` says.
    pub(super) fn tick(&mut self, inst: InstanceId, seq: u32, kind: u8, seen: Seen, now: SimTime) -> Probing {
        let Some(k) = self.worker(inst, kind) else { return Probing::Nothing };
        let workers = &self.on[inst.idx()].workers;
        let w = &workers[k];
        if w.seq != seq || w.in_flight || seen.gone {
            return Probing::Nothing;
        }
        let probe_kind = KINDS[kind as usize];
        // During deletion liveness and startup probes stop (their result is taken as Success).
        if seen.terminating && probe_kind != ProbeKind::Readiness {
            return Probing::Nothing;
        }
        let startup_pending = probe_kind != ProbeKind::Startup
            && workers.iter().any(|w| {
                KINDS[w.kind as usize] == ProbeKind::Startup && w.probe.verdict() != ProbeVerdict::Success
            });
        if startup_pending {
            self.on[inst.idx()].workers[k].probe.skip_tick();
            return Probing::Skipped(self.schedule(inst, k, now));
        }
        self.on[inst.idx()].workers[k].in_flight = true;
        let spec = self.spec(inst, kind);
        match spec.check {
            ProbeCheck::Process => Probing::Checked(seen.up),
            ProbeCheck::QueueBelow(n) => Probing::Checked(seen.up && seen.queued < u64::from(n)),
            ProbeCheck::Dependency { .. } if !seen.up => Probing::Checked(false),
            ProbeCheck::Dependency { service, endpoint } => {
                Probing::Call { target: (service, endpoint), timeout: spec.config.timeout_seconds, seq }
            }
        }
    }

    /// Whether the answer of probe `seq` of `inst`'s worker `kind` still counts.
    pub(super) fn wanted(&self, inst: InstanceId, seq: u32, kind: u8) -> bool {
        self.worker(inst, kind).is_some_and(|k| {
            let w = &self.on[inst.idx()].workers[k];
            w.seq == seq && w.in_flight
        })
    }

    /// Probe `kind` of `inst` ended with `ok`: the worker's next tick, and what its verdict
    /// asks, if it changed.
    pub(super) fn result(
        &mut self,
        inst: InstanceId,
        kind: u8,
        ok: bool,
        now: SimTime,
    ) -> (Option<Due>, Option<Act>) {
        let k = self.worker(inst, kind).expect("a probe in flight has a worker");
        let w = &mut self.on[inst.idx()].workers[k];
        w.in_flight = false;
        let change = w.probe.on_result(now, ok);
        let due = self.schedule(inst, k, now);
        let act = match (KINDS[kind as usize], change) {
            (ProbeKind::Readiness, Some(v)) => Some(Act::Ready(v == ProbeVerdict::Success)),
            (ProbeKind::Liveness | ProbeKind::Startup, Some(ProbeVerdict::Failure)) => Some(Act::Restart),
            // A passed startup probe lets liveness and readiness probe from their next tick.
            _ => None,
        };
        (due, act)
    }
}

impl World {
    /// Starts the probe workers of `inst` (at creation), or tells them a new process started.
    pub(super) fn start_probes(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId) {
        let service = self.instances[inst].service;
        for due in self.probes.start(inst, service, sched.now()).into_iter().flatten() {
            sched.at(due.at, Event::ProbeTick { inst, seq: due.seq, kind: due.kind });
        }
    }

    /// Discards the probes in flight of `inst` (its process died).
    pub(super) fn stop_probes(&mut self, inst: InstanceId) {
        self.probes.stop(inst);
    }

    /// A probe is due: skipped (startup not passed yet, or the instance is being deleted), or
    /// sent.
    pub(super) fn on_probe_tick(
        &mut self,
        sched: &mut Scheduler<Event>,
        inst: InstanceId,
        seq: u32,
        kind: u8,
    ) {
        let i = &self.instances[inst];
        let seen = Seen {
            gone: i.phase == Phase::Gone,
            terminating: self.lifecycle.is_terminating(inst),
            up: matches!(i.phase, Phase::Running | Phase::Stopping) && !self.faults.is_down(inst),
            queued: i.queue.items.len() as u64,
        };
        match self.probes.tick(inst, seq, kind, seen, sched.now()) {
            Probing::Nothing => {}
            Probing::Skipped(due) => {
                if let Some(d) = due {
                    sched.at(d.at, Event::ProbeTick { inst, seq: d.seq, kind: d.kind });
                }
            }
            Probing::Checked(ok) => self.probe_result(sched, inst, kind, ok),
            Probing::Call { target: (service, endpoint), timeout, seq } => {
                let site = self.probe_site();
                let target = (service, endpoint, Criticality::CriticalPlus);
                let start =
                    LogicalStart::outside(Owner::Probe { inst, seq, kind }, target, site, Some(timeout));
                self.start_logical(sched, start);
            }
        }
    }

    /// The site dependency probes' calls use: the last one, with no policy.
    pub(super) fn probe_site(&self) -> SiteId {
        SiteId::new(self.sites.len() - 1)
    }

    /// A dependency probe's call ended.
    pub(super) fn on_probe_call_done(
        &mut self,
        sched: &mut Scheduler<Event>,
        inst: InstanceId,
        seq: u32,
        kind: u8,
        ok: bool,
    ) {
        if self.probes.wanted(inst, seq, kind) {
            self.probe_result(sched, inst, kind, ok);
        }
    }

    /// A probe of `inst`'s worker `kind` ended with `ok`: the verdict may change, and act.
    fn probe_result(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId, kind: u8, ok: bool) {
        let (due, act) = self.probes.result(inst, kind, ok, sched.now());
        if let Some(d) = due {
            sched.at(d.at, Event::ProbeTick { inst, seq: d.seq, kind: d.kind });
        }
        match act {
            Some(Act::Ready(ready)) if self.instances[inst].phase == Phase::Running || !ready => {
                self.set_ready(sched, inst, ready);
            }
            Some(Act::Restart) => self.kill_for_restart(sched, inst),
            Some(Act::Ready(_)) | None => {}
        }
    }

    /// Whether the answer of a dependency probe's call still counts.
    pub(super) fn probe_wanted(&self, inst: InstanceId, seq: u32, kind: u8) -> bool {
        self.probes.wanted(inst, seq, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EndpointId, ProbeConfig};

    const S: u64 = 1_000_000_000;
    const STARTUP: u8 = 0;
    const LIVENESS: u8 = 1;
    const READINESS: u8 = 2;

    fn spec(check: ProbeCheck) -> Option<ProbeSpec> {
        let config = ProbeConfig {
            period_seconds: SimDuration::from_secs(2),
            failure_threshold: 2,
            ..ProbeConfig::default()
        };
        Some(ProbeSpec { check, config })
    }

    /// Probes of one service with the given workers (startup, liveness, readiness).
    fn probes(
        startup: Option<ProbeSpec>,
        liveness: Option<ProbeSpec>,
        readiness: Option<ProbeSpec>,
    ) -> Probes {
        let mut cfg = super::super::tests::single(1.0, 1.0, 1, 1, 1, false);
        cfg.services[0].probes = crate::config::Probes { startup, liveness, readiness };
        Probes::new(&cfg.services)
    }

    fn seen(up: bool) -> Seen {
        Seen { gone: false, terminating: false, up, queued: 0 }
    }

    /// The instance probed.
    fn i0() -> InstanceId {
        InstanceId::new(0)
    }

    #[test]
    fn readiness_follows_the_process_after_its_thresholds_and_stale_ticks_are_ignored() {
        let mut p = probes(None, None, spec(ProbeCheck::Process));
        let due = p.start(i0(), ServiceId(0), SimTime::ZERO);
        assert_eq!(due, [Some(Due { at: SimTime::ZERO, seq: 1, kind: READINESS }), None, None]);
        assert_eq!(p.tick(i0(), 1, READINESS, seen(true), SimTime::ZERO), Probing::Checked(true));
        let (due, act) = p.result(i0(), READINESS, true, SimTime::ZERO);
        assert_eq!(due, Some(Due { at: SimTime(2 * S), seq: 2, kind: READINESS }));
        assert_eq!(act, Some(Act::Ready(true)));
        assert_eq!(p.tick(i0(), 1, READINESS, seen(true), SimTime(2 * S)), Probing::Nothing, "a stale tick");
        // One failure is below the threshold of two; the second takes the instance out.
        assert_eq!(p.tick(i0(), 2, READINESS, seen(false), SimTime(2 * S)), Probing::Checked(false));
        assert_eq!(p.result(i0(), READINESS, false, SimTime(2 * S)).1, None);
        assert_eq!(p.tick(i0(), 3, READINESS, seen(false), SimTime(4 * S)), Probing::Checked(false));
        assert_eq!(p.result(i0(), READINESS, false, SimTime(4 * S)).1, Some(Act::Ready(false)));
    }

    #[test]
    fn liveness_waits_for_startup_and_stops_during_deletion() {
        let mut p = probes(spec(ProbeCheck::Process), spec(ProbeCheck::Process), None);
        let due = p.start(i0(), ServiceId(0), SimTime::ZERO);
        assert_eq!(due.iter().flatten().count(), 2);
        let Probing::Skipped(Some(next)) = p.tick(i0(), 1, LIVENESS, seen(true), SimTime::ZERO) else {
            panic!("liveness is skipped until startup passes")
        };
        assert_eq!((next.at, next.kind), (SimTime(2 * S), LIVENESS));
        assert_eq!(p.tick(i0(), 1, STARTUP, seen(true), SimTime::ZERO), Probing::Checked(true));
        assert_eq!(p.result(i0(), STARTUP, true, SimTime::ZERO).1, None);
        let deleting = Seen { terminating: true, ..seen(true) };
        assert_eq!(p.tick(i0(), next.seq, LIVENESS, deleting, next.at), Probing::Nothing);
        assert_eq!(p.tick(i0(), next.seq, LIVENESS, seen(false), next.at), Probing::Checked(false));
        assert_eq!(p.result(i0(), LIVENESS, false, next.at).1, None);
    }

    #[test]
    fn failed_liveness_restarts_and_the_worker_waits_for_the_new_container() {
        let mut p = probes(None, spec(ProbeCheck::QueueBelow(3)), None);
        p.start(i0(), ServiceId(0), SimTime::ZERO);
        let busy = Seen { queued: 3, ..seen(true) };
        assert_eq!(p.tick(i0(), 1, LIVENESS, busy, SimTime::ZERO), Probing::Checked(false));
        let (due, _) = p.result(i0(), LIVENESS, false, SimTime::ZERO);
        let due = due.expect("a next tick");
        assert_eq!(p.tick(i0(), due.seq, LIVENESS, busy, due.at), Probing::Checked(false));
        assert_eq!(p.result(i0(), LIVENESS, false, due.at), (None, Some(Act::Restart)));
        let again = p.start(i0(), ServiceId(0), SimTime(10 * S));
        assert!(again[0].is_some_and(|d| d.at >= SimTime(10 * S)), "{again:?}");
    }

    #[test]
    fn a_dependency_probe_calls_and_a_dead_process_discards_its_answer() {
        let dep = ProbeCheck::Dependency { service: ServiceId(0), endpoint: EndpointId(0) };
        let mut p = probes(None, None, spec(dep));
        p.start(i0(), ServiceId(0), SimTime::ZERO);
        assert_eq!(p.tick(i0(), 1, READINESS, seen(false), SimTime::ZERO), Probing::Checked(false));
        let (due, _) = p.result(i0(), READINESS, false, SimTime::ZERO);
        let due = due.expect("a next tick");
        let call = p.tick(i0(), due.seq, READINESS, seen(true), due.at);
        assert_eq!(
            call,
            Probing::Call {
                target: (ServiceId(0), EndpointId(0)),
                timeout: SimDuration::from_secs(1),
                seq: due.seq
            }
        );
        assert!(p.wanted(i0(), due.seq, READINESS));
        p.stop(i0());
        assert!(!p.wanted(i0(), due.seq, READINESS), "the answer of a dead process's probe is ignored");
    }
}
