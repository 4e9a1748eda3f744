//! The fault timeline: windows during which instances are slow, down or failing, or caches
//! are emptied.

use super::*;
use crate::config::FaultKind;
use server::Ending;

/// A fault's effect in a few words, for outputs.
pub(super) fn describe(kind: &FaultKind) -> String {
    match kind {
        FaultKind::Slow { factor } => format!("slow x{factor}"),
        FaultKind::Down => "down".to_string(),
        FaultKind::Fail { fraction, outcome } => format!("fail {}% {}", fraction * 100.0, outcome.name()),
        FaultKind::FlushCache => "cache flushed".to_string(),
        FaultKind::Crash => "crash".to_string(),
    }
}

impl World {
    /// The outcome an active `Fail` fault on `inst` gives a request, if one does.
    // Inlined: outside fault windows the list is empty, and every admission asks.
    #[inline]
    pub(super) fn injected_failure(&mut self, inst: InstanceId) -> Option<Outcome> {
        let n = self.instances[inst].failing.len();
        if n == 0 {
            return None;
        }
        for k in 0..n {
            let f = self.instances[inst].failing[k];
            if let FaultKind::Fail { fraction, outcome } = self.cfg.faults[f.idx()].kind {
                if self.faults[f].rng.random::<f64>() < fraction {
                    self.faults[f].fired += 1;
                    return Some(outcome);
                }
            }
        }
        None
    }

    pub(super) fn on_fault_start(&mut self, sched: &mut Scheduler<Event>, fault: FaultId) {
        let cfg = &self.cfg.faults[fault.idx()];
        let members = &self.services[cfg.service].members;
        let m = members.len() as u32;
        let n = ((cfg.share * f64::from(m)).ceil() as u32).clamp(1, m.max(1)).min(m);
        let hit: Vec<InstanceId> = members[..n as usize].to_vec();
        self.faults[fault].hit = hit.clone();
        let kind = self.cfg.faults[fault.idx()].kind.clone();
        if !matches!(kind, FaultKind::Fail { .. } | FaultKind::FlushCache) {
            self.faults[fault].fired += hit.len() as u64;
        }
        match kind {
            FaultKind::Slow { .. } | FaultKind::Fail { .. } => {
                for inst in hit {
                    self.instances[inst].failing.push(fault);
                    self.refresh_faults(inst);
                }
            }
            FaultKind::Down => {
                for inst in hit {
                    let i = &mut self.instances[inst];
                    i.down += 1;
                    if i.down == 1 {
                        self.reset(sched, inst);
                    }
                }
            }
            FaultKind::Crash => {
                for inst in hit {
                    self.instances[inst].crashing += 1;
                    self.crash(sched, inst);
                }
            }
            FaultKind::FlushCache => self.set_caches_down(fault, 1),
        }
    }

    pub(super) fn on_fault_end(&mut self, sched: &mut Scheduler<Event>, fault: FaultId) {
        let hit = std::mem::take(&mut self.faults[fault].hit);
        match self.cfg.faults[fault.idx()].kind {
            FaultKind::Slow { .. } | FaultKind::Fail { .. } => {
                for &inst in &hit {
                    let i = &mut self.instances[inst];
                    let k = i.failing.iter().position(|&g| g == fault).expect("an active fault ends");
                    i.failing.remove(k);
                    self.refresh_faults(inst);
                }
            }
            FaultKind::Down => {
                for &inst in &hit {
                    self.instances[inst].down -= 1;
                    self.pull_next(sched, inst);
                }
            }
            FaultKind::Crash => {
                for &inst in &hit {
                    self.instances[inst].crashing -= 1;
                }
            }
            FaultKind::FlushCache => {
                self.set_caches_down(fault, -1);
                let now = sched.now();
                let service = self.cfg.faults[fault.idx()].service;
                for (k, (s, _)) in self.plan.endpoint_caches.iter().enumerate() {
                    if *s == service {
                        self.endpoint_caches[k].warmth.flush(now);
                    }
                }
            }
        }
    }

    fn set_caches_down(&mut self, fault: FaultId, delta: i32) {
        let service = self.cfg.faults[fault.idx()].service;
        for (k, (s, _)) in self.plan.endpoint_caches.iter().enumerate() {
            if *s == service {
                if delta > 0 {
                    self.faults[fault].fired += 1;
                }
                let c = &mut self.endpoint_caches[k];
                c.down = c.down.checked_add_signed(delta).expect("cache fault count stays >= 0");
            }
        }
    }

    /// Recomputes an instance's slow-down from its active faults.
    fn refresh_faults(&mut self, inst: InstanceId) {
        let i = &mut self.instances[inst];
        i.slow = i
            .failing
            .iter()
            .map(|&f| match self.cfg.faults[f.idx()].kind {
                FaultKind::Slow { factor } => factor,
                _ => 1.0,
            })
            .product();
    }

    /// The process of `inst` dies: every request it holds fails with `ConnectionReset`
    /// (queued ones are dropped unserved), and its calls still out are abandoned.
    pub(super) fn reset(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId) {
        let now = sched.now();
        // A scan of the request table: faults are rare, and this keeps the hot path free of
        // per-instance request lists.
        let held: Vec<ReqRef> = self
            .reqs
            .slots
            .iter()
            .enumerate()
            .filter(|(_, q)| q.live && !q.server_done && q.instance == Some(inst))
            .map(|(index, q)| ReqRef { index: index as u32, gen: q.gen })
            .collect();
        let i = &mut self.instances[inst];
        let queued = i.queue.items.len() as i64;
        i.queue.items.clear();
        i.ready.clear();
        let service = i.service;
        self.add_queued(service, now, -queued);
        for r in held {
            // Answers given along the way may have ended some of them already.
            let Some(req) = self.reqs.find(r) else { continue };
            if req.server_done {
                continue;
            }
            if req.in_queue {
                self.reqs.get_mut(r).in_queue = false;
                self.drop_waiting(sched, r, Some(Outcome::ConnectionReset));
            } else {
                self.end_service(sched, r, Outcome::ConnectionReset, Ending::Reset);
            }
        }
    }
}
