//! The fault timeline: windows during which instances are slow, down, failing or crashing,
//! or caches are emptied.
//!
//! `Faults` owns every window's state (the instances it hit, its random stream, what it
//! did) and what the windows do to each instance and cache, behind queries the request path
//! asks (`is_down`, `slow_factor`, `injected_failure`, `cache_flushed`, `crashing`). Opening
//! or closing a window does not reach into the rest of the engine: it fills a work list,
//! and the orchestrator (`World::on_fault_start` / `on_fault_end`) drains it with `next`,
//! which applies one instance's change and returns what the engine must do about it
//! (`Effect`). One instance at a time, so what one instance's reset causes (an answer, a
//! parent's next call) sees the instances after it as they were.

use super::*;
use crate::config::{FaultConfig, FaultKind};
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

/// What the engine must do after `Faults::next` applied one step of a window.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Effect {
    /// The process of the instance went down: every request it holds fails.
    Reset(InstanceId),
    /// The instance crashes (and keeps crashing at each start until the window closes).
    Crash(InstanceId),
    /// The instance's process is back: its idle workers may take work again.
    Resume(InstanceId),
    /// The endpoint cache (an index of `Plan::endpoint_caches`) was emptied: its warmth
    /// starts again from cold.
    Flush(usize),
}

/// One pending step of a window opening or closing.
#[derive(Copy, Clone, Debug)]
enum Step {
    /// A `Slow` or `Fail` window starts acting on an instance.
    Affect(FaultId, InstanceId),
    /// It stops acting on it.
    Unaffect(FaultId, InstanceId),
    Down(InstanceId),
    Up(InstanceId),
    Crash(InstanceId),
    Uncrash(InstanceId),
    Flush(usize),
}

/// One window: its configuration and what it did.
struct Window {
    service: ServiceId,
    share: f64,
    kind: FaultKind,
    /// Instances hit, chosen when the window opens.
    hit: Vec<InstanceId>,
    rng: StreamRng,
    /// What the window did so far: instances hit, caches emptied, failures injected.
    fired: u64,
}

/// What the open windows do to one instance.
#[derive(Clone, Default)]
struct OnInstance {
    /// Open `Down` windows.
    down: u32,
    /// Open `Crash` windows: it crashes again as soon as it starts.
    crashing: u32,
    /// Product of the open `Slow` factors.
    slow: f64,
    /// Open `Slow` and `Fail` windows, in the order they opened.
    failing: Vec<FaultId>,
}

/// The fault subsystem.
///
/// **Invariant:** an instance's counters are the number of open windows of that kind that
/// hit it, and `slow` is the product of its open `Slow` factors in opening order; a cache is
/// flushed while a `FlushCache` window of its service is open.
pub(super) struct Faults {
    windows: IdVec<FaultId, Window>,
    /// Per instance, grown when a window first reaches it: an instance no window ever hit
    /// costs nothing, and the request path's queries are one bounds check outside faults.
    on: Vec<OnInstance>,
    /// The service of each endpoint cache, and the open `FlushCache` windows over it.
    cache_service: Vec<ServiceId>,
    cache_down: Vec<u32>,
    /// Steps of the window opening or closing, drained by `next` in order.
    work: VecDeque<Step>,
}

impl Faults {
    /// The windows of `cfg.faults`, each with its stream `faults/<name>/<k>` (`k` counts
    /// the earlier windows of the same name), over endpoint caches of the services in
    /// `cache_service`.
    pub(super) fn new(seed: u64, faults: &[FaultConfig], cache_service: Vec<ServiceId>) -> Faults {
        let windows = faults
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let same_name = faults[..k].iter().filter(|g| g.name == f.name).count();
                Window {
                    service: f.service,
                    share: f.share,
                    kind: f.kind.clone(),
                    hit: Vec::new(),
                    rng: stream(seed, &format!("faults/{}/{same_name}", f.name)),
                    fired: 0,
                }
            })
            .collect();
        let cache_down = vec![0; cache_service.len()];
        Faults { windows, on: Vec::new(), cache_service, cache_down, work: VecDeque::new() }
    }

    /// The service a window acts on.
    pub(super) fn service(&self, fault: FaultId) -> ServiceId {
        self.windows[fault].service
    }

    /// The windows, in configuration order.
    pub(super) fn ids(&self) -> impl Iterator<Item = FaultId> {
        self.windows.ids()
    }

    /// What window `fault` did in all: instances hit, caches emptied, failures injected.
    pub(super) fn fired(&self, fault: FaultId) -> u64 {
        self.windows[fault].fired
    }

    /// Whether a `Down` window holds `inst`: it refuses new connections and takes no work.
    #[inline]
    pub(super) fn is_down(&self, inst: InstanceId) -> bool {
        self.on.get(inst.idx()).is_some_and(|o| o.down > 0)
    }

    /// Whether a `Crash` window holds `inst`: it crashes again as soon as it starts.
    pub(super) fn crashing(&self, inst: InstanceId) -> bool {
        self.on.get(inst.idx()).is_some_and(|o| o.crashing > 0)
    }

    /// How many times longer work on `inst` takes (1 outside `Slow` windows).
    #[inline]
    pub(super) fn slow_factor(&self, inst: InstanceId) -> f64 {
        self.on.get(inst.idx()).map_or(1.0, |o| o.slow)
    }

    /// Whether a `FlushCache` window holds endpoint cache `cache`: it answers nothing.
    #[inline]
    pub(super) fn cache_flushed(&self, cache: usize) -> bool {
        self.cache_down[cache] > 0
    }

    /// The outcome an open `Fail` window on `inst` gives a request, if one does: each open
    /// window draws in turn, in opening order, until one fails it.
    // Inlined: outside fault windows there is nothing to look at, and every admission asks.
    #[inline]
    pub(super) fn injected_failure(&mut self, inst: InstanceId) -> Option<Outcome> {
        let on = self.on.get(inst.idx())?;
        for &f in &on.failing {
            let w = &mut self.windows[f];
            if let FaultKind::Fail { fraction, outcome } = w.kind {
                if w.rng.random::<f64>() < fraction {
                    w.fired += 1;
                    return Some(outcome);
                }
            }
        }
        None
    }

    /// Window `fault` opens over the first instances of `members` (the service's
    /// instances, oldest first): `ceil(share x n)` of them, at least one if there are any.
    /// Its effects follow from `next`.
    pub(super) fn open(&mut self, fault: FaultId, members: &[InstanceId]) {
        let w = &mut self.windows[fault];
        let m = members.len() as u32;
        let n = ((w.share * f64::from(m)).ceil() as u32).clamp(1, m.max(1)).min(m);
        w.hit = members[..n as usize].to_vec();
        if !matches!(w.kind, FaultKind::Fail { .. } | FaultKind::FlushCache) {
            w.fired += w.hit.len() as u64;
        }
        let hit = &w.hit;
        match w.kind {
            FaultKind::Slow { .. } | FaultKind::Fail { .. } => {
                self.work.extend(hit.iter().map(|&i| Step::Affect(fault, i)));
            }
            FaultKind::Down => self.work.extend(hit.iter().map(|&i| Step::Down(i))),
            FaultKind::Crash => self.work.extend(hit.iter().map(|&i| Step::Crash(i))),
            FaultKind::FlushCache => {
                let service = w.service;
                for (k, &s) in self.cache_service.iter().enumerate() {
                    if s == service {
                        self.windows[fault].fired += 1;
                        self.cache_down[k] += 1;
                    }
                }
            }
        }
    }

    /// Window `fault` closes over the instances it hit. Its effects follow from `next`.
    pub(super) fn close(&mut self, fault: FaultId) {
        let w = &mut self.windows[fault];
        let hit = std::mem::take(&mut w.hit);
        match w.kind {
            FaultKind::Slow { .. } | FaultKind::Fail { .. } => {
                self.work.extend(hit.iter().map(|&i| Step::Unaffect(fault, i)));
            }
            FaultKind::Down => self.work.extend(hit.iter().map(|&i| Step::Up(i))),
            FaultKind::Crash => self.work.extend(hit.iter().map(|&i| Step::Uncrash(i))),
            FaultKind::FlushCache => {
                let service = w.service;
                // Every cache of the service is back before any starts again from cold.
                for (k, &s) in self.cache_service.iter().enumerate() {
                    if s == service {
                        self.cache_down[k] = self.cache_down[k].checked_sub(1).expect("an open flush closes");
                    }
                }
                for (k, &s) in self.cache_service.iter().enumerate() {
                    if s == service {
                        self.work.push_back(Step::Flush(k));
                    }
                }
            }
        }
    }

    /// Applies the next pending step of the windows opened or closed, and says what the
    /// engine must do about it; `None` once there is nothing left to do.
    pub(super) fn next(&mut self) -> Option<Effect> {
        while let Some(step) = self.work.pop_front() {
            let effect = match step {
                Step::Affect(fault, inst) => {
                    self.at(inst).failing.push(fault);
                    self.refresh_slow(inst);
                    None
                }
                Step::Unaffect(fault, inst) => {
                    let on = self.at(inst);
                    let k = on.failing.iter().position(|&g| g == fault).expect("an open window closes");
                    on.failing.remove(k);
                    self.refresh_slow(inst);
                    None
                }
                Step::Down(inst) => {
                    let on = self.at(inst);
                    on.down += 1;
                    (on.down == 1).then_some(Effect::Reset(inst))
                }
                Step::Up(inst) => {
                    let on = self.at(inst);
                    on.down = on.down.checked_sub(1).expect("an open down window closes");
                    Some(Effect::Resume(inst))
                }
                Step::Crash(inst) => {
                    self.at(inst).crashing += 1;
                    Some(Effect::Crash(inst))
                }
                Step::Uncrash(inst) => {
                    let on = self.at(inst);
                    on.crashing = on.crashing.checked_sub(1).expect("an open crash window closes");
                    None
                }
                Step::Flush(k) => Some(Effect::Flush(k)),
            };
            if effect.is_some() {
                return effect;
            }
        }
        None
    }

    /// The state of `inst`, created on first use.
    fn at(&mut self, inst: InstanceId) -> &mut OnInstance {
        if self.on.len() <= inst.idx() {
            self.on.resize(inst.idx() + 1, OnInstance { slow: 1.0, ..OnInstance::default() });
        }
        &mut self.on[inst.idx()]
    }

    /// Recomputes an instance's slow-down from its open windows.
    fn refresh_slow(&mut self, inst: InstanceId) {
        let on = &self.on[inst.idx()];
        let slow = on
            .failing
            .iter()
            .map(|&f| match self.windows[f].kind {
                FaultKind::Slow { factor } => factor,
                _ => 1.0,
            })
            .product();
        self.on[inst.idx()].slow = slow;
    }
}

impl World {
    pub(super) fn on_fault_start(&mut self, sched: &mut Scheduler<Event>, fault: FaultId) {
        let service = self.faults.service(fault);
        self.faults.open(fault, &self.services[service].members);
        self.apply_fault_effects(sched);
    }

    pub(super) fn on_fault_end(&mut self, sched: &mut Scheduler<Event>, fault: FaultId) {
        self.faults.close(fault);
        self.apply_fault_effects(sched);
    }

    /// Drains the fault work list, one instance at a time.
    fn apply_fault_effects(&mut self, sched: &mut Scheduler<Event>) {
        while let Some(effect) = self.faults.next() {
            match effect {
                Effect::Reset(inst) => self.reset(sched, inst),
                Effect::Crash(inst) => self.crash(sched, inst),
                Effect::Resume(inst) => self.pull_next(sched, inst),
                Effect::Flush(k) => self.endpoint_caches[k].warmth.flush(sched.now()),
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn window(name: &str, share: f64, kind: FaultKind) -> FaultConfig {
        FaultConfig {
            name: name.into(),
            service: ServiceId(0),
            share,
            start: SimTime::ZERO,
            end: SimTime(1),
            kind,
        }
    }

    fn insts(n: usize) -> Vec<InstanceId> {
        (0..n).map(InstanceId::new).collect()
    }

    fn drain(f: &mut Faults) -> Vec<Effect> {
        std::iter::from_fn(|| f.next()).collect()
    }

    #[test]
    fn a_window_hits_the_oldest_share_rounded_up_and_at_least_one() {
        let cfgs = [window("a", 0.5, FaultKind::Down), window("b", 0.01, FaultKind::Down)];
        let mut f = Faults::new(1, &cfgs, Vec::new());
        f.open(FaultId::new(0), &insts(3));
        assert_eq!(drain(&mut f), vec![Effect::Reset(InstanceId::new(0)), Effect::Reset(InstanceId::new(1))]);
        assert!(!f.is_down(InstanceId::new(2)));
        f.open(FaultId::new(1), &insts(3));
        // Instance 0 is down already: the second window resets nothing.
        assert_eq!(drain(&mut f), vec![]);
        assert_eq!(f.fired(FaultId::new(0)), 2);
        assert_eq!(f.fired(FaultId::new(1)), 1);
        // A window over a service with no instances hits nothing.
        f.open(FaultId::new(1), &[]);
        assert_eq!(drain(&mut f), vec![]);
    }

    #[test]
    fn overlapping_down_windows_keep_the_instance_down_until_the_last_closes() {
        let cfgs = [window("a", 1.0, FaultKind::Down), window("b", 1.0, FaultKind::Down)];
        let mut f = Faults::new(1, &cfgs, Vec::new());
        let i = InstanceId::new(0);
        f.open(FaultId::new(0), &[i]);
        f.open(FaultId::new(1), &[i]);
        assert_eq!(drain(&mut f), vec![Effect::Reset(i)]);
        f.close(FaultId::new(0));
        assert_eq!(drain(&mut f), vec![Effect::Resume(i)]);
        assert!(f.is_down(i));
        f.close(FaultId::new(1));
        assert_eq!(drain(&mut f), vec![Effect::Resume(i)]);
        assert!(!f.is_down(i));
    }

    #[test]
    fn each_step_is_applied_only_when_the_engine_takes_its_effect() {
        let cfgs = [window("a", 1.0, FaultKind::Down)];
        let mut f = Faults::new(1, &cfgs, Vec::new());
        let (a, b) = (InstanceId::new(0), InstanceId::new(1));
        f.open(FaultId::new(0), &[a, b]);
        assert!(!f.is_down(a), "nothing happens before the work list is drained");
        assert_eq!(f.next(), Some(Effect::Reset(a)));
        // While the engine resets `a`, `b` is still up.
        assert!(f.is_down(a));
        assert!(!f.is_down(b));
        assert_eq!(f.next(), Some(Effect::Reset(b)));
        assert!(f.is_down(b));
        assert_eq!(f.next(), None);
    }

    #[test]
    fn slow_windows_multiply_and_undo_in_any_order() {
        let cfgs = [
            window("a", 1.0, FaultKind::Slow { factor: 2.0 }),
            window("b", 1.0, FaultKind::Slow { factor: 3.0 }),
        ];
        let mut f = Faults::new(1, &cfgs, Vec::new());
        let i = InstanceId::new(4);
        assert_eq!(f.slow_factor(i), 1.0);
        f.open(FaultId::new(0), &[i]);
        f.open(FaultId::new(1), &[i]);
        assert_eq!(drain(&mut f), vec![]);
        assert_eq!(f.slow_factor(i), 6.0);
        assert_eq!(f.slow_factor(InstanceId::new(3)), 1.0);
        f.close(FaultId::new(0));
        drain(&mut f);
        assert_eq!(f.slow_factor(i), 3.0);
        f.close(FaultId::new(1));
        drain(&mut f);
        assert_eq!(f.slow_factor(i), 1.0);
    }

    #[test]
    fn a_fail_window_fails_about_its_fraction_and_counts_what_it_injected() {
        let cfgs = [window("a", 1.0, FaultKind::Fail { fraction: 0.25, outcome: Outcome::ServerError })];
        let mut f = Faults::new(7, &cfgs, Vec::new());
        let i = InstanceId::new(0);
        assert_eq!(f.injected_failure(i), None);
        f.open(FaultId::new(0), &[i]);
        drain(&mut f);
        let failed = (0..10_000).filter(|_| f.injected_failure(i) == Some(Outcome::ServerError)).count();
        assert!((2_200..2_800).contains(&failed), "{failed} failures of 10,000 at 25 %");
        assert_eq!(f.fired(FaultId::new(0)), failed as u64);
        f.close(FaultId::new(0));
        drain(&mut f);
        assert_eq!(f.injected_failure(i), None);
        assert_eq!(f.fired(FaultId::new(0)), failed as u64);
    }

    #[test]
    fn a_crash_window_crashes_each_instance_and_marks_it_until_it_closes() {
        let cfgs = [window("a", 1.0, FaultKind::Crash)];
        let mut f = Faults::new(1, &cfgs, Vec::new());
        let i = InstanceId::new(0);
        f.open(FaultId::new(0), &[i]);
        assert_eq!(drain(&mut f), vec![Effect::Crash(i)]);
        assert!(f.crashing(i));
        f.close(FaultId::new(0));
        assert_eq!(drain(&mut f), vec![]);
        assert!(!f.crashing(i));
    }

    #[test]
    fn a_flush_window_empties_its_services_caches_and_they_start_cold_when_it_closes() {
        let cfgs = [window("a", 1.0, FaultKind::FlushCache)];
        let mut f = Faults::new(1, &cfgs, vec![ServiceId(0), ServiceId(1), ServiceId(0)]);
        f.open(FaultId::new(0), &insts(2));
        assert_eq!(drain(&mut f), vec![]);
        assert_eq!((0..3).map(|k| f.cache_flushed(k)).collect::<Vec<_>>(), [true, false, true]);
        assert_eq!(f.fired(FaultId::new(0)), 2);
        f.close(FaultId::new(0));
        assert!(!f.cache_flushed(0), "every cache is back before the first flush effect");
        assert_eq!(drain(&mut f), vec![Effect::Flush(0), Effect::Flush(2)]);
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Whatever windows open and close, over whichever fleets, each instance's state is
        /// what its open windows say: down while a `Down` window holds it, crashing while a
        /// `Crash` one does, slowed by the product of its `Slow` factors; and the engine is
        /// told to reset an instance only when it goes down, to resume it at each close.
        #[test]
        fn instance_state_follows_the_open_windows(
            kinds in prop::collection::vec(0u8..3, 1..6),
            shares in prop::collection::vec(0.01f64..=1.0, 6),
            steps in prop::collection::vec((0usize..6, 1usize..5), 1..30),
        ) {
            let cfgs: Vec<FaultConfig> = kinds
                .iter()
                .enumerate()
                .map(|(k, kind)| {
                    let kind = match kind {
                        0 => FaultKind::Down,
                        1 => FaultKind::Crash,
                        _ => FaultKind::Slow { factor: 1.5 + k as f64 },
                    };
                    window("w", shares[k], kind)
                })
                .collect();
            let mut f = Faults::new(3, &cfgs, Vec::new());
            // The model: the instances each open window hit, in opening order.
            let mut open: Vec<Option<Vec<InstanceId>>> = vec![None; cfgs.len()];
            let mut order: Vec<usize> = Vec::new();
            for (w, n) in steps {
                let w = w % cfgs.len();
                let id = FaultId::new(w);
                if let Some(hit) = open[w].take() {
                    order.retain(|&o| o != w);
                    f.close(id);
                    let effects = drain(&mut f);
                    if cfgs[w].kind == FaultKind::Down {
                        prop_assert_eq!(&effects, &hit.iter().map(|&i| Effect::Resume(i)).collect::<Vec<_>>());
                    } else {
                        prop_assert!(effects.is_empty());
                    }
                } else {
                    let members = insts(n);
                    let was_down: Vec<bool> = members.iter().map(|&i| f.is_down(i)).collect();
                    f.open(id, &members);
                    let effects = drain(&mut f);
                    let hit = ((cfgs[w].share * n as f64).ceil() as usize).clamp(1, n);
                    let expected: Vec<Effect> = match cfgs[w].kind {
                        FaultKind::Down => (0..hit).filter(|&k| !was_down[k]).map(|k| Effect::Reset(members[k])).collect(),
                        FaultKind::Crash => members[..hit].iter().map(|&i| Effect::Crash(i)).collect(),
                        _ => Vec::new(),
                    };
                    prop_assert_eq!(&effects, &expected);
                    open[w] = Some(members[..hit].to_vec());
                    order.push(w);
                }
                for i in insts(5) {
                    let holding = |kind: &dyn Fn(&FaultKind) -> bool| {
                        order.iter().filter(|&&o| kind(&cfgs[o].kind) && open[o].as_ref().is_some_and(|h| h.contains(&i)))
                            .count()
                    };
                    prop_assert_eq!(f.is_down(i), holding(&|k| *k == FaultKind::Down) > 0);
                    prop_assert_eq!(f.crashing(i), holding(&|k| *k == FaultKind::Crash) > 0);
                    let slow: f64 = order
                        .iter()
                        .filter(|&&o| open[o].as_ref().is_some_and(|h| h.contains(&i)))
                        .map(|&o| match cfgs[o].kind { FaultKind::Slow { factor } => factor, _ => 1.0 })
                        .product();
                    prop_assert_eq!(f.slow_factor(i), slow);
                }
            }
        }
    }
}
