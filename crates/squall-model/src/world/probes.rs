//! The orchestrator's probes: one kubelet probe worker per instance and probe kind, driving
//! the `squall_policy::Probe` state machine. A probe checks something concrete: the process
//! answers; the process answers and a call to a dependency succeeds within the probe's
//! timeout (a real request, sent with no client policy); or the process answers and its queue
//! is short enough. Verdicts act on the instance: readiness moves it in and out of the
//! balancers' endpoints, a failed liveness or startup probe kills its process, which the
//! kubelet restarts after the crash-loop back-off.

use super::logical::Owner;
use super::*;
use crate::config::{ProbeCheck, ProbeSpec};
use fleet::Phase;
use squall_policy::{Probe, ProbeKind, ProbeVerdict};

/// Probe kinds by the index events carry.
pub(super) const KINDS: [ProbeKind; 3] = [ProbeKind::Startup, ProbeKind::Liveness, ProbeKind::Readiness];

/// One probe worker of an instance.
pub(super) struct ProbeState {
    kind: u8,
    probe: Probe,
    /// Bumped whenever a tick is scheduled or a probe in flight is discarded, so stale events
    /// and answers are recognised.
    seq: u32,
    in_flight: bool,
}

impl World {
    fn probe_spec(&self, inst: InstanceId, kind: u8) -> &ProbeSpec {
        let p = &self.cfg.services[self.instances[inst].service.index()].probes;
        match KINDS[kind as usize] {
            ProbeKind::Startup => p.startup.as_ref(),
            ProbeKind::Liveness => p.liveness.as_ref(),
            ProbeKind::Readiness => p.readiness.as_ref(),
        }
        .expect("a worker runs a configured probe")
    }

    /// Starts the probe workers of `inst` (at creation), or tells them a new process started.
    pub(super) fn start_probes(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId) {
        let now = sched.now();
        if self.instances[inst].probes.is_empty() {
            let p = &self.cfg.services[self.instances[inst].service.index()].probes;
            let specs = [&p.startup, &p.liveness, &p.readiness];
            let workers: Vec<ProbeState> = (0..3u8)
                .filter_map(|k| {
                    specs[k as usize].as_ref().map(|spec| ProbeState {
                        kind: k,
                        probe: Probe::new(KINDS[k as usize], spec.config, now),
                        seq: 0,
                        in_flight: false,
                    })
                })
                .collect();
            self.instances[inst].probes = workers;
        } else {
            for w in &mut self.instances[inst].probes {
                // Readiness starts at Failure again: the instance is not ready yet anyway.
                let _ = w.probe.on_container_started(now);
            }
        }
        for k in 0..self.instances[inst].probes.len() {
            self.schedule_probe(sched, inst, k);
        }
    }

    /// Discards the probes in flight of `inst` (its process died): their answers no longer
    /// count, and their workers move to the next tick.
    pub(super) fn stop_probes(&mut self, inst: InstanceId) {
        for w in &mut self.instances[inst].probes {
            if w.in_flight {
                w.in_flight = false;
                w.seq += 1;
                if w.probe.next_tick().is_some() {
                    w.probe.skip_tick();
                }
            }
        }
    }

    /// Schedules worker `k`'s next tick, if it is probing.
    fn schedule_probe(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId, k: usize) {
        let now = sched.now();
        let i = &mut self.instances[inst];
        let w = &mut i.probes[k];
        if w.in_flight {
            return;
        }
        let Some(t) = w.probe.next_tick() else { return };
        w.seq += 1;
        let (kind, seq) = (w.kind, w.seq);
        sched.at(t.max(now), Event::ProbeTick { inst, seq, kind });
    }

    fn worker(&self, inst: InstanceId, kind: u8) -> Option<usize> {
        self.instances[inst].probes.iter().position(|w| w.kind == kind)
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
        let Some(k) = self.worker(inst, kind) else { return };
        let i = &self.instances[inst];
        let w = &i.probes[k];
        if w.seq != seq || w.in_flight || i.phase == Phase::Gone {
            return;
        }
        let probe_kind = KINDS[kind as usize];
        // During deletion liveness and startup probes stop (their result is taken as Success).
        if i.terminating && probe_kind != ProbeKind::Readiness {
            return;
        }
        let startup_pending = probe_kind != ProbeKind::Startup
            && i.probes.iter().any(|w| {
                KINDS[w.kind as usize] == ProbeKind::Startup && w.probe.verdict() != ProbeVerdict::Success
            });
        if startup_pending {
            self.instances[inst].probes[k].probe.skip_tick();
            return self.schedule_probe(sched, inst, k);
        }
        let up = matches!(i.phase, Phase::Running | Phase::Stopping) && !self.faults.is_down(inst);
        self.instances[inst].probes[k].in_flight = true;
        match self.probe_spec(inst, kind).check.clone() {
            ProbeCheck::Process => self.probe_result(sched, inst, k, up),
            ProbeCheck::QueueBelow(n) => {
                let q = self.instances[inst].queue.items.len() as u64;
                self.probe_result(sched, inst, k, up && q < u64::from(n));
            }
            ProbeCheck::Dependency { service, endpoint } => {
                if !up {
                    return self.probe_result(sched, inst, k, false);
                }
                let timeout = self.probe_spec(inst, kind).config.timeout_seconds;
                let seq = self.instances[inst].probes[k].seq;
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
        let Some(k) = self.worker(inst, kind) else { return };
        let w = &self.instances[inst].probes[k];
        if w.seq != seq || !w.in_flight {
            return;
        }
        self.probe_result(sched, inst, k, ok);
    }

    /// A probe of worker `k` ended with `ok`: the verdict may change, and act.
    fn probe_result(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId, k: usize, ok: bool) {
        let now = sched.now();
        let w = &mut self.instances[inst].probes[k];
        w.in_flight = false;
        let kind = KINDS[w.kind as usize];
        let change = w.probe.on_result(now, ok);
        self.schedule_probe(sched, inst, k);
        match (kind, change) {
            (ProbeKind::Readiness, Some(v)) => {
                let i = &self.instances[inst];
                if i.phase == Phase::Running || v != ProbeVerdict::Success {
                    self.set_ready(sched, inst, v == ProbeVerdict::Success);
                }
            }
            (ProbeKind::Liveness | ProbeKind::Startup, Some(ProbeVerdict::Failure)) => {
                self.kill_for_restart(sched, inst);
            }
            (ProbeKind::Startup, Some(ProbeVerdict::Success)) => {
                // Liveness and readiness probe from their next tick on.
            }
            _ => {}
        }
    }

    /// The probe verdicts a Dependency probe's `DeadlineExceeded` or `Timeout` may not reach
    /// in time are decided by its timeout: nothing to do here but keep the answer path alive.
    pub(super) fn probe_wanted(&self, inst: InstanceId, seq: u32, kind: u8) -> bool {
        self.worker(inst, kind).is_some_and(|k| {
            let w = &self.instances[inst].probes[k];
            w.seq == seq && w.in_flight
        })
    }
}
