//! Instances over time: creation, start-up and warm-up, readiness and the balancers'
//! endpoint lists (which learn of changes after a propagation delay), graceful termination
//! (pre-stop, drain, kill at the end of the grace period), crashes and restarts with
//! CrashLoopBackOff, and the per-version counts and skew windows a run reports.
//!
//! An instance's index in the world never changes and is never reused: requests and timers
//! refer to it by index, and a restart keeps it (a container restart keeps its pod). Events
//! about an instance carry its incarnation (bumped at every start, crash and deletion), so
//! one that outlived what it was about is recognised and ignored.

use super::*;
use crate::output::VersionBucket;

/// Where an instance's process is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Starting (or restarting): not accepting work yet.
    Starting,
    /// Accepting and serving work.
    Running,
    /// Told to stop: refuses new work, finishes what it holds.
    Stopping,
    /// Crashed (or killed by a probe), waiting for its restart.
    Crashed,
    /// Deleted; its index is kept for the record.
    Gone,
}

/// How the version series count an instance.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Category {
    Starting = 0,
    Ready = 1,
    NotReady = 2,
    Terminating = 3,
    Gone = 4,
}

/// A version of a service: its instance counts now, and what it reports.
pub(super) struct VersionState {
    /// Instances per category (`Category as usize`, `Gone` excluded).
    pub counts: [u32; 4],
    pub answers: OutcomeCounts,
    pub series: Vec<VersionBucket>,
    /// Buckets before this one hold their final counts.
    pub filled: usize,
    /// Instances of this version in the balancers' endpoints.
    pub in_endpoints: u32,
    /// Answers since the last canary analysis measurement.
    pub window: Window,
}

/// Answers of a version over a measurement window.
pub(super) struct Window {
    pub answers: u64,
    pub errors: u64,
    /// Latency of successful answers (time at the service), ns.
    pub latency: crate::latency::Latencies,
}

impl Window {
    pub fn reset(&mut self) {
        self.answers = 0;
        self.errors = 0;
        self.latency.clear();
    }
}

impl VersionState {
    pub fn new(n_buckets: usize) -> VersionState {
        VersionState {
            counts: [0; 4],
            answers: OutcomeCounts::default(),
            series: vec![VersionBucket::default(); n_buckets],
            filled: 0,
            in_endpoints: 0,
            window: Window { answers: 0, errors: 0, latency: hist(2) },
        }
    }

    /// Writes the current counts into bucket `b`, first carrying the previous counts
    /// through the buckets since the last write.
    pub fn write_counts(&mut self, b: usize) {
        let prev = if self.filled > 0 { Some(self.series[self.filled - 1].clone()) } else { None };
        for k in self.filled..b {
            let x = &mut self.series[k];
            if let Some(p) = &prev {
                (x.starting, x.ready, x.not_ready, x.terminating) =
                    (p.starting, p.ready, p.not_ready, p.terminating);
            }
        }
        let x = &mut self.series[b];
        [x.starting, x.ready, x.not_ready, x.terminating] = self.counts;
        self.filled = b + 1;
    }
}

/// A consistent-hash table over a service's endpoints (indices into its endpoint list).
pub(super) enum HashTable {
    Ring(squall_policy::RingHash),
    Maglev(squall_policy::Maglev),
}

impl HashTable {
    pub fn pick(&self, key: u64) -> usize {
        match self {
            HashTable::Ring(r) => r.pick(key).index(),
            HashTable::Maglev(m) => m.pick(key).index(),
        }
    }
}

/// Whether an outcome counts as an error of the version that gave it.
fn is_error(o: Outcome) -> bool {
    !o.is_success() && o != Outcome::Cancelled
}

/// The lifecycle the fleet tracks for each instance beside its `Phase` (which stays in
/// `InstanceState`, next to the workers, because the request path reads it): its
/// incarnation, deletion, readiness, its endpoint as wanted and as the balancers have it, its
/// category in the version series and its crash loop.
///
/// **Invariant:** an incarnation only grows, and an event carrying an older one is stale;
/// the endpoint wanted is `Running && ready && !terminating`, and the balancers' view
/// changes only through `set_in_endpoints`; once terminating, always terminating.
pub(super) struct Lifecycle {
    at: IdVec<InstanceId, Life>,
}

struct Life {
    /// Incarnation: bumped at every start, crash and deletion, to recognise stale events.
    inc: u32,
    /// Deletion has begun: it will not be ready again.
    terminating: bool,
    /// Its readiness (always true without a readiness probe, once up).
    is_ready: bool,
    /// The endpoint state last sent to the balancers, and the one they have.
    want_endpoint: bool,
    in_endpoints: bool,
    category: Category,
    started_at: SimTime,
    ready_since: SimTime,
    /// Crashes since its process last ran long enough to reset the back-off.
    crashes_in_row: u32,
}

impl Lifecycle {
    pub(super) fn new() -> Lifecycle {
        Lifecycle { at: IdVec::new() }
    }

    /// A new instance, created up and ready (the fleet at time zero: its endpoint is
    /// wanted at once) or not yet started.
    pub(super) fn add(&mut self, up: bool) -> InstanceId {
        self.at.push(Life {
            inc: 0,
            terminating: false,
            is_ready: up,
            want_endpoint: up,
            in_endpoints: false,
            category: Category::Gone,
            started_at: SimTime::ZERO,
            ready_since: SimTime::ZERO,
            crashes_in_row: 0,
        })
    }

    /// Whether an event about incarnation `inc` of `inst` is still about it.
    pub(super) fn is_current(&self, inst: InstanceId, inc: u32) -> bool {
        self.at[inst].inc == inc
    }

    /// A new incarnation of `inst` begins (a start, a stop, an exit): events about the
    /// previous ones become stale.
    pub(super) fn next_incarnation(&mut self, inst: InstanceId) -> u32 {
        let l = &mut self.at[inst];
        l.inc += 1;
        l.inc
    }

    pub(super) fn is_terminating(&self, inst: InstanceId) -> bool {
        self.at[inst].terminating
    }

    /// Deletion of `inst` begins: its new incarnation.
    pub(super) fn terminate(&mut self, inst: InstanceId) -> u32 {
        assert!(!self.at[inst].terminating, "instance {inst} is deleted once");
        self.at[inst].terminating = true;
        self.next_incarnation(inst)
    }

    pub(super) fn is_ready(&self, inst: InstanceId) -> bool {
        self.at[inst].is_ready
    }

    /// Since when `inst` has been ready (meaningful while it is).
    pub(super) fn ready_since(&self, inst: InstanceId) -> SimTime {
        self.at[inst].ready_since
    }

    /// Its readiness is now `ready`.
    pub(super) fn set_ready(&mut self, inst: InstanceId, ready: bool, now: SimTime) {
        let l = &mut self.at[inst];
        if ready && !l.is_ready {
            l.ready_since = now;
        }
        l.is_ready = ready;
    }

    /// The endpoint `inst` should have, its process `running` or not: `Some(add)` if that
    /// changed and the balancers must be told, else `None`.
    pub(super) fn update_endpoint(&mut self, inst: InstanceId, running: bool) -> Option<bool> {
        let l = &mut self.at[inst];
        let want = running && l.is_ready && !l.terminating;
        if want == l.want_endpoint {
            return None;
        }
        l.want_endpoint = want;
        Some(want)
    }

    /// Whether the balancers have `inst` in their endpoints.
    pub(super) fn in_endpoints(&self, inst: InstanceId) -> bool {
        self.at[inst].in_endpoints
    }

    /// The balancers learn that `inst` is in their endpoints (`add`) or not. Returns
    /// whether that changed anything.
    pub(super) fn set_in_endpoints(&mut self, inst: InstanceId, add: bool) -> bool {
        let l = &mut self.at[inst];
        let changed = l.in_endpoints != add;
        l.in_endpoints = add;
        changed
    }

    /// The category `inst` counts in, its process in `phase`: `Some((old, new))` if it
    /// changed.
    pub(super) fn recategorise(&mut self, inst: InstanceId, phase: Phase) -> Option<(Category, Category)> {
        let l = &mut self.at[inst];
        let cat = match phase {
            Phase::Gone => Category::Gone,
            _ if l.terminating => Category::Terminating,
            Phase::Starting | Phase::Crashed => Category::Starting,
            _ if l.in_endpoints => Category::Ready,
            _ => Category::NotReady,
        };
        if cat == l.category {
            return None;
        }
        let old = std::mem::replace(&mut l.category, cat);
        Some((old, cat))
    }

    /// The process of `inst` started at `now`.
    pub(super) fn started(&mut self, inst: InstanceId, now: SimTime) {
        self.at[inst].started_at = now;
    }

    /// The process of `inst` exited at `now` for a restart: its new incarnation and how many
    /// times in a row it crashed (the count starts again if it ran for `reset_after`).
    pub(super) fn crashed(&mut self, inst: InstanceId, now: SimTime, reset_after: SimDuration) -> (u32, u32) {
        let inc = self.next_incarnation(inst);
        let l = &mut self.at[inst];
        if now.since(l.started_at) >= reset_after {
            l.crashes_in_row = 0;
        }
        l.crashes_in_row += 1;
        (inc, l.crashes_in_row)
    }
}

impl World {
    /// Creates an instance of `service` running `version`: with its process up at once (the
    /// fleet at time zero), or starting.
    pub(super) fn spawn_instance(
        &mut self,
        sched: Option<&mut Scheduler<Event>>,
        service: ServiceId,
        version: u32,
    ) -> InstanceId {
        let s = service;
        let sc = &self.cfg.services[s.index()];
        let seed = self.cfg.seed;
        let ordinal = self.services[s].next_ordinal;
        self.services[s].next_ordinal += 1;
        let key = |what: &str| format!("services/{}/instance/{ordinal}/{what}", sc.name);
        let dep_base = self.dependencies.len() as u32;
        for d in &sc.dependencies {
            self.dependencies.push(dependency_state(d));
        }
        let adm = &sc.admission;
        let skew = match &sc.clock_skew {
            ClockSkew::None => 0,
            ClockSkew::Offsets(v) if v.is_empty() => 0,
            ClockSkew::Offsets(v) => v[ordinal as usize % v.len()],
            ClockSkew::Uniform { max } => {
                let m = max.as_nanos().min(i64::MAX as u64) as i64;
                stream(seed, &key("clock")).random_range(-m..=m)
            }
        };
        let up = sched.is_none();
        let life = self.lifecycle.add(up);
        let inst = self.instances.push(InstanceState {
            service,
            workers: sc.workers,
            busy: 0,
            outstanding: 0,
            queue: WaitQueue::new(&sc.queue),
            ready: VecDeque::new(),
            rate: adm.rate_limit.as_ref().filter(|r| r.per_instance).map(|r| rate_limiter(&r.bucket)),
            limiter: adm.concurrency_limit.as_ref().map(concurrency_limiter),
            work_rng: stream(seed, &key("work")),
            cache_rng: stream(seed, &key("cache")),
            caches: self.plan.call_caches[s.index()].iter().map(warmth).collect(),
            dep_base,
            skew,
            version,
            ordinal,
            phase: if up { Phase::Running } else { Phase::Starting },
            warm_until: SimTime::ZERO,
            error_rng: stream(seed, &key("errors")),
            ramp_from: None,
            hc: lb::HcState::default(),
        });
        assert_eq!(life, inst, "the lifecycle follows the instance table");
        self.services[s].members.push(inst);
        self.add_policy_scopes(service, ordinal);
        self.open_pools(inst);
        match sched {
            None => {
                self.apply_endpoint(SimTime::ZERO, inst, true);
                // The fleet of the start is warm: it does not ramp.
                self.instances[inst].ramp_from = None;
                self.set_category(SimTime::ZERO, inst);
                let workers = u64::from(self.instances[inst].workers);
                self.add_capacity(service, SimTime::ZERO, workers as i64);
            }
            Some(sched) => {
                self.services[s].fleet.created += 1;
                self.set_category(sched.now(), inst);
                self.start_probes(sched, inst);
                self.schedule_start(sched, inst);
            }
        }
        inst
    }

    /// Opens the `minimum_idle` connections of the instance's pools, as far as each callee's
    /// connection cap allows.
    fn open_pools(&mut self, inst: InstanceId) {
        let sc = &self.cfg.services[self.instances[inst].service.index()];
        let dep_base = self.instances[inst].dep_base as usize;
        for (d, dc) in sc.dependencies.iter().enumerate() {
            let (Some(pc), Some(pool)) = (&dc.pool, &mut self.dependencies[dep_base + d].pool) else {
                continue;
            };
            let callee = &mut self.services[dc.service];
            let n =
                pc.minimum_idle.min(pc.maximum_pool_size).min(callee.max_connections - callee.connections);
            callee.connections += n;
            for _ in 0..n {
                let none = pool.connections.grow(|_| false);
                debug_assert!(none.is_none(), "nobody waits on a new pool");
            }
        }
    }

    /// Closes the connections of a gone instance's pools.
    fn close_pools(&mut self, inst: InstanceId) {
        let sc = &self.cfg.services[self.instances[inst].service.index()];
        let dep_base = self.instances[inst].dep_base as usize;
        for (d, dc) in sc.dependencies.iter().enumerate() {
            if let Some(pool) = &self.dependencies[dep_base + d].pool {
                let callee = &mut self.services[dc.service];
                callee.connections -= pool.connections.permits();
            }
        }
    }

    /// The process of `inst` will be up after a start-up time.
    fn schedule_start(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId) {
        let s = self.instances[inst].service;
        let i = &mut self.instances[inst];
        i.phase = Phase::Starting;
        let inc = self.lifecycle.next_incarnation(inst);
        let d = round_ns(self.cfg.services[s.index()].lifecycle.startup.sample(&mut i.work_rng));
        sched.after(SimDuration(d), Event::InstanceUp { inst, inc });
    }

    /// The process of `inst` is up: it accepts work, cold, and is ready unless a readiness
    /// probe must pass first.
    pub(super) fn on_instance_up(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId, inc: u32) {
        let now = sched.now();
        let i = &self.instances[inst];
        if !self.lifecycle.is_current(inst, inc) || i.phase != Phase::Starting {
            return;
        }
        let s = i.service;
        let lc = &self.cfg.services[s.index()].lifecycle;
        let warm_until = if lc.warmup > SimDuration::ZERO && lc.warmup_factor != 1.0 {
            now.saturating_add(lc.warmup)
        } else {
            SimTime::ZERO
        };
        let i = &mut self.instances[inst];
        i.phase = Phase::Running;
        self.lifecycle.started(inst, now);
        i.warm_until = warm_until;
        for c in &mut i.caches {
            c.flush(now);
        }
        let workers = i.workers;
        self.add_capacity(s, now, i64::from(workers));
        if self.faults.crashing(inst) {
            return self.crash(sched, inst);
        }
        let readiness = self.cfg.services[s.index()].probes.readiness.is_some();
        self.set_ready(sched, inst, !readiness);
        self.start_probes(sched, inst);
        self.set_category(now, inst);
        self.pull_next(sched, inst);
    }

    /// The readiness of `inst` changed (or was set): its endpoint follows, after the
    /// propagation delay, and running deploys of its service look again.
    pub(super) fn set_ready(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId, ready: bool) {
        self.lifecycle.set_ready(inst, ready, sched.now());
        self.update_endpoint(sched, inst);
        let service = self.instances[inst].service;
        self.fleet_changed(sched, service);
    }

    /// Sends the balancers the endpoint state `inst` should have now, if it changed.
    fn update_endpoint(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId) {
        let i = &self.instances[inst];
        let Some(want) = self.lifecycle.update_endpoint(inst, i.phase == Phase::Running) else { return };
        let delay = self.cfg.services[i.service.index()].propagation_delay;
        if delay == SimDuration::ZERO {
            self.on_endpoint_change(sched, inst, want);
        } else {
            sched.after(delay, Event::EndpointChange { inst, add: want });
        }
    }

    /// A change of `inst`'s endpoint reaches the balancers.
    pub(super) fn on_endpoint_change(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId, add: bool) {
        let joined = !self.lifecycle.in_endpoints(inst) && add;
        self.apply_endpoint(sched.now(), inst, add);
        self.set_category(sched.now(), inst);
        if joined {
            self.start_health_checks(sched, inst);
        }
    }

    /// Adds `inst` to (or removes it from) its service's endpoints, kept in index order, and
    /// tracks the windows when two versions or more are in them.
    fn apply_endpoint(&mut self, now: SimTime, inst: InstanceId, add: bool) {
        if !self.lifecycle.set_in_endpoints(inst, add) {
            return;
        }
        let i = &self.instances[inst];
        let (s, v) = (i.service, i.version as usize);
        let svc = &mut self.services[s];
        let before = svc.versions.iter().filter(|x| x.in_endpoints > 0).count();
        match svc.endpoints.binary_search(&inst) {
            Err(k) if add => {
                svc.endpoints.insert(k, inst);
                svc.versions[v].in_endpoints += 1;
            }
            Ok(k) if !add => {
                svc.endpoints.remove(k);
                svc.versions[v].in_endpoints -= 1;
            }
            _ => unreachable!("endpoint list out of step with in_endpoints"),
        }
        let after = svc.versions.iter().filter(|x| x.in_endpoints > 0).count();
        self.least_stale(s);
        self.lb_membership(now, inst, add);
        self.refresh_eligible(s);
        self.refresh_split(s);
        self.refresh_hash(s);
        let svc = &mut self.services[s];
        if before < 2 && after >= 2 {
            svc.skew_since = Some(now);
        } else if before >= 2 && after < 2 {
            let since = svc.skew_since.take().expect("a skew window was open");
            svc.fleet.skew_ns += now.since(since).as_nanos();
            svc.fleet.skew_windows.push((since, now));
        }
    }

    /// Recomputes the two sides of traffic-routed weights from the endpoints (those the
    /// balancer may pick: see `lb_pool`).
    pub(super) fn refresh_split(&mut self, s: ServiceId) {
        self.least_stale(s);
        let mut split = std::mem::take(&mut self.services[s].split);
        let [routed, rest] = &mut split;
        routed.clear();
        rest.clear();
        if let Some((version, _)) = self.services[s].routed {
            for &i in self.lb_pool(s) {
                if self.instances[i].version == version {
                    routed.push(i);
                } else {
                    rest.push(i);
                }
            }
        }
        self.services[s].split = split;
    }

    /// Marks a consistent-hash balancer's table out of date after its endpoints changed;
    /// the next pick rebuilds it ([`World::build_hash`]).
    pub(super) fn refresh_hash(&mut self, s: ServiceId) {
        let kind = self.cfg.services[s.index()].balancer;
        if matches!(kind, BalancerKind::RingHash | BalancerKind::Maglev) {
            self.services[s].hash_stale = true;
        }
    }

    /// Rebuilds a consistent-hash balancer's table over the endpoints; hosts are named by
    /// service and ordinal, so a replaced instance is a new host. The table depends only on
    /// the endpoints, so building it late picks exactly as building it at each change did.
    #[cold]
    pub(super) fn build_hash(&mut self, s: ServiceId) {
        let kind = self.cfg.services[s.index()].balancer;
        let svc = &self.services[s];
        let names: Vec<String> =
            self.lb_pool(s).iter().map(|&i| format!("{}/{}", svc.name, self.instances[i].ordinal)).collect();
        let hosts: Vec<(&str, u32)> = names.iter().map(|n| (n.as_str(), 1)).collect();
        let table = (!hosts.is_empty()).then(|| match kind {
            BalancerKind::RingHash => HashTable::Ring(squall_policy::RingHash::new(&hosts)),
            _ => HashTable::Maglev(squall_policy::Maglev::new(&hosts)),
        });
        let svc = &mut self.services[s];
        svc.hash = table;
        svc.hash_stale = false;
        svc.hash_builds += 1;
    }

    /// Recounts `inst` in its version's series.
    pub(super) fn set_category(&mut self, now: SimTime, inst: InstanceId) {
        let i = &self.instances[inst];
        let Some((old, cat)) = self.lifecycle.recategorise(inst, i.phase) else { return };
        let (s, v) = (i.service, i.version as usize);
        let b = self.bucket(now);
        let vs = &mut self.services[s].versions[v];
        if old != Category::Gone {
            vs.counts[old as usize] -= 1;
        }
        if cat != Category::Gone {
            vs.counts[cat as usize] += 1;
        }
        vs.write_counts(b);
    }

    /// Counts an answer an instance of version `v` of `service` gave.
    /// `latency` is the time the request spent at the service, for a served request.
    #[inline]
    pub(super) fn count_version_answer(
        &mut self,
        now: SimTime,
        service: ServiceId,
        v: u32,
        outcome: Outcome,
        latency: Option<u64>,
    ) {
        if v == NONE || !self.services[service].track_versions {
            return;
        }
        self.count_tracked_version_answer(now, service, v, outcome, latency);
    }

    /// `count_version_answer` for a service that tracks its versions: kept out of line so
    /// that the check above, all most services need, inlines into every answer.
    fn count_tracked_version_answer(
        &mut self,
        now: SimTime,
        service: ServiceId,
        v: u32,
        outcome: Outcome,
        latency: Option<u64>,
    ) {
        let b = self.bucket(now);
        let vs = &mut self.services[service].versions[v as usize];
        vs.answers.add(outcome);
        vs.series[b].answers += 1;
        vs.window.answers += 1;
        if is_error(outcome) {
            vs.series[b].errors += 1;
            vs.window.errors += 1;
        } else if let (true, Some(l)) = (outcome.is_success(), latency) {
            vs.window.latency.record(l);
        }
    }

    fn add_capacity(&mut self, s: ServiceId, now: SimTime, delta: i64) {
        let v = self.services[s].capacity.value.checked_add_signed(delta).expect("capacity >= 0");
        self.set_gauge(s, GaugeKind::Capacity, now, v);
    }

    /// Deletion of `inst` begins (a deploy scaled it away): it leaves the endpoints (after
    /// the propagation delay), runs its pre-stop hook while still serving, is told to stop,
    /// drains, and is killed at the end of the grace period if work remains.
    pub(super) fn terminate(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId) {
        let now = sched.now();
        let i = &self.instances[inst];
        if self.lifecycle.is_terminating(inst) || i.phase == Phase::Gone {
            return;
        }
        let inc = self.lifecycle.terminate(inst);
        let phase = i.phase;
        let s = i.service;
        self.update_endpoint(sched, inst);
        self.set_category(now, inst);
        match phase {
            Phase::Starting | Phase::Crashed => self.gone(sched, inst),
            Phase::Running => {
                let lc = &self.cfg.services[s.index()].lifecycle;
                let (pre_stop, grace) = (lc.pre_stop, lc.grace_period);
                // A pre-stop hook still running when the grace period ends gets 2 s more.
                let kill = if pre_stop >= grace { grace + SimDuration::from_secs(2) } else { grace };
                sched.after(pre_stop.min(grace), Event::Stop { inst, inc });
                sched.after(kill, Event::Kill { inst, inc });
            }
            Phase::Stopping => {
                // Already stopping for a restart: it now goes for good, within a new grace period.
                let grace = self.cfg.services[s.index()].lifecycle.grace_period;
                sched.after(grace, Event::Kill { inst, inc });
                self.maybe_gone(sched, inst);
            }
            Phase::Gone => unreachable!("a gone instance is not terminated"),
        }
    }

    /// The pre-stop hook of `inst` is over: the process stops taking work and drains.
    pub(super) fn on_stop(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId, inc: u32) {
        let i = &mut self.instances[inst];
        if !self.lifecycle.is_current(inst, inc) || i.phase != Phase::Running {
            return;
        }
        i.phase = Phase::Stopping;
        self.maybe_gone(sched, inst);
    }

    /// The grace period of `inst` is over: what it still holds fails, and it is gone.
    pub(super) fn on_kill(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId, inc: u32) {
        let i = &self.instances[inst];
        if !self.lifecycle.is_current(inst, inc) || !matches!(i.phase, Phase::Running | Phase::Stopping) {
            return;
        }
        self.reset(sched, inst);
        self.exited(sched, inst);
    }

    /// A stopping instance that holds nothing more exits: gone if it is being deleted,
    /// else restarted.
    #[inline]
    pub(super) fn maybe_gone(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId) {
        let i = &self.instances[inst];
        if i.phase == Phase::Stopping && i.outstanding == 0 {
            self.exited(sched, inst);
        }
    }

    /// `inst` no longer exists.
    fn gone(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId) {
        let now = sched.now();
        let i = &mut self.instances[inst];
        debug_assert_eq!(i.outstanding, 0, "an instance went with work");
        let was_up = matches!(i.phase, Phase::Running | Phase::Stopping);
        i.phase = Phase::Gone;
        self.lifecycle.next_incarnation(inst);
        let (service, workers) = (i.service, i.workers);
        if was_up {
            self.add_capacity(service, now, -i64::from(workers));
        }
        let svc = &mut self.services[service];
        let k = svc.members.iter().position(|&m| m == inst).expect("a member goes");
        svc.members.remove(k);
        self.close_pools(inst);
        self.update_endpoint(sched, inst);
        self.set_category(now, inst);
        self.fleet_changed(sched, service);
    }

    /// The process of `inst` dies (a fault): what it holds fails with `ConnectionReset`, it
    /// leaves the endpoints, and the kubelet restarts it after the crash-loop back-off
    /// (unless it is being deleted).
    pub(super) fn crash(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId) {
        let i = &self.instances[inst];
        if !matches!(i.phase, Phase::Running | Phase::Stopping) {
            return;
        }
        self.services[i.service].fleet.crashes += 1;
        self.reset(sched, inst);
        self.exited(sched, inst);
    }

    /// A failed liveness or startup probe: the kubelet stops the container gracefully (it
    /// leaves the endpoints and drains within the grace period), then restarts it.
    pub(super) fn kill_for_restart(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId) {
        let i = &mut self.instances[inst];
        if i.phase != Phase::Running {
            return;
        }
        i.phase = Phase::Stopping;
        let (inc, s) = (self.lifecycle.next_incarnation(inst), i.service);
        let f = &mut self.services[s].fleet;
        f.crashes += 1;
        f.probe_kills += 1;
        let grace = self.cfg.services[s.index()].lifecycle.grace_period;
        sched.after(grace, Event::Kill { inst, inc });
        self.set_ready(sched, inst, false);
        self.maybe_gone(sched, inst);
    }

    /// The process of `inst` has exited, holding nothing: gone if it is being deleted, else
    /// restarted after the crash-loop back-off.
    fn exited(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId) {
        let now = sched.now();
        let i = &self.instances[inst];
        if !matches!(i.phase, Phase::Running | Phase::Stopping) {
            return;
        }
        if self.lifecycle.is_terminating(inst) {
            return self.gone(sched, inst);
        }
        let (service, s) = (i.service, i.service);
        let backoff = self.cfg.services[s.index()].lifecycle.restart;
        let i = &mut self.instances[inst];
        let workers = i.workers;
        i.phase = Phase::Crashed;
        let (inc, n) = self.lifecycle.crashed(inst, now, backoff.reset_after);
        self.add_capacity(service, now, -i64::from(workers));
        self.stop_probes(inst);
        self.set_ready(sched, inst, false);
        self.set_category(now, inst);
        sched.after(backoff.delay(n), Event::Restart { inst, inc });
    }

    /// The crash-loop back-off of `inst` is over: its process starts again.
    pub(super) fn on_restart(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId, inc: u32) {
        let i = &self.instances[inst];
        if !self.lifecycle.is_current(inst, inc) || i.phase != Phase::Crashed {
            return;
        }
        let s = i.service;
        self.services[s].fleet.restarts += 1;
        self.schedule_start(sched, inst);
    }

    /// Work multiplier of `inst` at `now`: 1, or more while it warms up.
    #[inline]
    pub(super) fn warmup_factor(&self, inst: InstanceId, now: SimTime) -> f64 {
        let i = &self.instances[inst];
        if now >= i.warm_until {
            return 1.0;
        }
        let lc = &self.cfg.services[i.service.index()].lifecycle;
        let left = i.warm_until.since(now).as_nanos() as f64 / lc.warmup.as_nanos() as f64;
        1.0 + (lc.warmup_factor - 1.0) * left
    }

    /// Closes the fleet's figures at `end`: counts carried to the last bucket, the open skew
    /// window closed.
    pub(super) fn close_fleet(&mut self, end: SimTime) {
        let last = self.n_buckets - 1;
        for svc in &mut self.services {
            for v in &mut svc.versions {
                if v.filled > 0 {
                    v.write_counts(last);
                }
            }
            if let Some(since) = svc.skew_since.take() {
                svc.fleet.skew_ns += end.since(since).as_nanos();
                svc.fleet.skew_windows.push((since, end));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn events_of_an_older_incarnation_are_stale() {
        let mut l = Lifecycle::new();
        let i = l.add(false);
        assert!(l.is_current(i, 0));
        let inc = l.next_incarnation(i);
        assert!(l.is_current(i, inc));
        assert!(!l.is_current(i, 0));
        let deleting = l.terminate(i);
        assert!(deleting > inc);
        assert!(l.is_terminating(i));
        assert!(!l.is_current(i, inc), "a deletion makes the start's events stale");
    }

    #[test]
    fn the_endpoint_is_wanted_only_running_ready_and_not_deleted() {
        let mut l = Lifecycle::new();
        let up = l.add(true);
        assert_eq!(l.update_endpoint(up, true), None, "the fleet at time zero wants its endpoint already");
        let i = l.add(false);
        assert_eq!(l.update_endpoint(i, true), None, "not ready");
        l.set_ready(i, true, SimTime(5 * S));
        assert_eq!(l.update_endpoint(i, false), None, "not running");
        assert_eq!(l.update_endpoint(i, true), Some(true));
        assert_eq!(l.update_endpoint(i, true), None, "told once");
        // Readiness again does not move the time it became ready.
        l.set_ready(i, true, SimTime(9 * S));
        assert_eq!(l.ready_since(i), SimTime(5 * S));
        l.terminate(i);
        assert_eq!(l.update_endpoint(i, true), Some(false));
        assert!(l.set_in_endpoints(i, true));
        assert!(!l.set_in_endpoints(i, true));
        assert!(l.in_endpoints(i));
    }

    #[test]
    fn categories_change_once_per_move() {
        let mut l = Lifecycle::new();
        let i = l.add(false);
        assert_eq!(l.recategorise(i, Phase::Starting), Some((Category::Gone, Category::Starting)));
        assert_eq!(l.recategorise(i, Phase::Starting), None);
        assert_eq!(l.recategorise(i, Phase::Running), Some((Category::Starting, Category::NotReady)));
        l.set_in_endpoints(i, true);
        assert_eq!(l.recategorise(i, Phase::Running), Some((Category::NotReady, Category::Ready)));
        l.terminate(i);
        assert_eq!(l.recategorise(i, Phase::Running), Some((Category::Ready, Category::Terminating)));
        assert_eq!(l.recategorise(i, Phase::Gone), Some((Category::Terminating, Category::Gone)));
    }

    #[test]
    fn the_crash_loop_count_restarts_after_a_long_enough_run() {
        let mut l = Lifecycle::new();
        let i = l.add(false);
        let reset_after = SimDuration::from_secs(600);
        l.started(i, SimTime(10 * S));
        assert_eq!(l.crashed(i, SimTime(20 * S), reset_after).1, 1);
        l.started(i, SimTime(30 * S));
        let (inc, n) = l.crashed(i, SimTime(40 * S), reset_after);
        assert_eq!(n, 2);
        assert!(l.is_current(i, inc));
        l.started(i, SimTime(50 * S));
        assert_eq!(l.crashed(i, SimTime(650 * S), reset_after).1, 1, "ten minutes up reset the count");
    }
}
