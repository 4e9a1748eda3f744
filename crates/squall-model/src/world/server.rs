//! The server side: admission at an instance, wait queues and their disciplines, workers,
//! the steps of an endpoint, and the end of a request's service.

use super::*;
use crate::config::{Discipline, ShedMetric};
use plan::PlanStep;

/// What shedding compares with its thresholds: the queue's length, or how long its oldest
/// request has waited (ns).
fn queue_metric(reqs: &Requests, q: &WaitQueue, metric: ShedMetric, now: SimTime) -> u64 {
    match metric {
        ShedMetric::QueueLength => q.items.len() as u64,
        ShedMetric::QueueDelay => {
            q.items.front().map_or(0, |f| now.since(reqs.get(*f).enqueued_at).as_nanos())
        }
    }
}

/// How a request's service ends.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Ending {
    /// It ran its steps, or failed one.
    Served,
    /// A fault killed its instance.
    Reset,
}

impl World {
    /// A request reaches its service: a cache in front of the endpoint may answer it; else
    /// it goes to an instance (or the shared queue).
    pub(super) fn send(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        let now = sched.now();
        let req = self.reqs.get_mut(r);
        req.arrived_at = now;
        let (service, endpoint) = (req.service, req.endpoint);
        let cache = self.plan.endpoint(service, 0, endpoint).cache;
        if cache != NONE {
            let c = &mut self.endpoint_caches[cache as usize];
            let ratio =
                if self.faults.cache_flushed(cache as usize) { 0.0 } else { c.warmth.hit_ratio_at(now) };
            if ratio > 0.0 && c.rng.random::<f64>() < ratio {
                let (_, cfg) = &self.plan.endpoint_caches[cache as usize];
                let d = round_ns(cfg.hit_latency.sample(&mut c.rng));
                sched.after(SimDuration(d), Event::CacheHit { req: r });
                return;
            }
        }
        let b = self.bucket(now);
        let svc = &mut self.services[service];
        svc.arrivals += 1;
        svc.series[b].arrivals += 1;
        if svc.queue_cfg.shared {
            self.admit_shared(sched, r, service);
        } else if let Some(inst) = self.pick_instance(service, r, now) {
            self.reqs.get_mut(r).host = Some(inst);
            self.admit_local(sched, r, inst);
        } else {
            self.refuse(sched, r, Outcome::NoEndpoint);
        }
    }

    /// A cache answered `r` (in front of an endpoint, or a caller's local cache).
    pub(super) fn on_cache_hit(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        let req = self.reqs.get_mut(r);
        req.server_done = true;
        if req.answered {
            self.reqs.release_if_done(r);
        } else {
            self.answer(sched, r, Outcome::Ok);
        }
    }

    /// The balancer's choice among the service's endpoints (`None` when it has none). With
    /// traffic-routed weights, a draw first picks which side (the routed version, or the
    /// rest) the request goes to. With outlier detection or health checks it picks among the
    /// eligible endpoints (`lb_pool`).
    fn pick_instance(&mut self, service: ServiceId, r: ReqRef, now: SimTime) -> Option<InstanceId> {
        let s = service;
        if self.services[s].health.panic {
            self.services[s].fleet.panic_picks += 1;
        }
        let side = self.routed_side(service);
        if self.services[s].hash_stale {
            self.build_hash(service);
        }
        if self.services[s].hash.is_some() {
            let key = self.session_key(r);
            let svc = &self.services[s];
            let h = svc.hash.as_ref().expect("a hash balancer");
            if svc.routed.is_none() {
                return Some(self.lb_pool(service)[h.pick(key)]);
            }
            // With traffic routing, the routed side is chosen first; the key picks within it.
            let pool = side.map_or_else(|| self.lb_pool(service), |k| &svc.split[k]);
            return (!pool.is_empty()).then(|| pool[(key % pool.len() as u64) as usize]);
        }
        let pool = std::mem::take(self.pool_mut(service, side));
        let pick = (!pool.is_empty()).then(|| self.balance(service, &pool, side, now));
        *self.pool_mut(service, side) = pool;
        pick
    }

    /// With traffic-routed weights, a draw of which side a request goes to: `Some(0)` the
    /// routed version's endpoints, `Some(1)` the others; `None` without routing or when the
    /// side drawn has no endpoint (the balancer's whole pool then).
    fn routed_side(&mut self, service: ServiceId) -> Option<usize> {
        let svc = &mut self.services[service];
        let (_, weight) = svc.routed?;
        let side = usize::from(svc.routing_rng.random_range(0..100) >= weight);
        (!svc.split[side].is_empty()).then_some(side)
    }

    /// The list a balancer picks from: a routed side, or the balancer's pool.
    fn pool_mut(&mut self, service: ServiceId, side: Option<usize>) -> &mut Vec<InstanceId> {
        let svc = &mut self.services[service];
        match side {
            Some(k) => &mut svc.split[k],
            None if svc.health.outlier.is_some() || svc.health.hc.is_some() => &mut svc.health.eligible,
            None => &mut svc.endpoints,
        }
    }

    /// A request's session key: a flow run's, shared by its steps; a call inherits its
    /// caller's; any other request has its own.
    fn session_key(&self, r: ReqRef) -> u64 {
        let mut r = r;
        loop {
            let Some(req) = self.reqs.find(r) else { return 0 };
            let Some(lg) = self.logicals.find(req.logical) else { return 0 };
            let key = match lg.owner {
                Owner::Client { client, flow: Some(flow) } => {
                    let run = self.flows.key(flow);
                    (u64::from(client.0) << 48) ^ run
                }
                Owner::Client { .. } | Owner::Probe { .. } | Owner::HealthCheck { .. } => {
                    u64::from(req.logical.index) << 32 | u64::from(req.logical.gen)
                }
                Owner::Parent { req: p, .. } => {
                    r = p;
                    continue;
                }
            };
            return squall_policy::xxh64(&key.to_le_bytes(), 0);
        }
    }

    /// The balancer's algorithm over `pool` (not empty; the routed `side`'s list, or the
    /// balancer's pool), weighted while an endpoint is in slow start.
    fn balance(
        &mut self,
        service: ServiceId,
        pool: &[InstanceId],
        side: Option<usize>,
        now: SimTime,
    ) -> InstanceId {
        // Slow start's weighted draw stays O(n) per pick: it runs only while an endpoint
        // ramps (a window after it joins), and its weights move with time, so an index would
        // be rebuilt on every pick anyway.
        if let Some(local) = self.slow_start_pick(service, pool, now) {
            return pool[local as usize];
        }
        let svc = &mut self.services[service];
        let n = pool.len() as u32;
        let local = match svc.balancer {
            BalancerKind::RoundRobin => {
                let i = svc.rr_next % n;
                svc.rr_next = (i + 1) % n;
                i
            }
            BalancerKind::Random => svc.lb_rng.random_range(0..n),
            BalancerKind::LeastOutstanding if n <= LEAST_SCAN_MAX && !cfg!(test) => {
                // A short pool is cheaper to scan; its index is then never built, so it stays
                // stale and load changes pass it by. Tests take the index whatever the size,
                // so that every world test holds it to the scan.
                let best = least_outstanding_scan(&self.instances, pool, svc.rr_next % n);
                svc.rr_next = (best + 1) % n;
                best
            }
            BalancerKind::LeastOutstanding => {
                // The first least loaded from after the last pick, so ties rotate instead of
                // piling on index 0; an index finds it in O(log n) (`least`).
                let start = svc.rr_next % n;
                let indexes = svc.least.as_mut().expect("a least-outstanding balancer has its indexes");
                let ix = &mut indexes[least_slot(side)];
                let instances = &self.instances;
                if !ix.is_fresh() {
                    ix.rebuild(pool.iter().map(|&i| {
                        let i = &instances[i];
                        (i.ordinal, i.outstanding)
                    }));
                }
                let best = u32::try_from(ix.pick(start as usize)).expect("a pool position fits u32");
                // Tests (also in release builds) hold every pick to the scan the index replaced:
                // a pool change that forgot to make the index stale shows up here.
                if cfg!(any(test, debug_assertions)) {
                    let keys = pool.iter().map(|&i| instances[i].ordinal);
                    assert!(
                        ix.keys().iter().copied().eq(keys),
                        "least-outstanding index of {} is stale",
                        service.0
                    );
                    let scan = least_outstanding_scan(instances, pool, start);
                    assert_eq!(best, scan, "index picked {best}, the scan {scan}, from {start} of {n}");
                }
                svc.rr_next = (best + 1) % n;
                best
            }
            BalancerKind::RingHash | BalancerKind::Maglev => unreachable!("hash balancers pick by key"),
            BalancerKind::PowerOfTwoChoices => {
                if n == 1 {
                    0
                } else {
                    let a = svc.lb_rng.random_range(0..n);
                    let mut b = svc.lb_rng.random_range(0..n - 1);
                    if b >= a {
                        b += 1;
                    }
                    let la = self.instances[pool[a as usize]].outstanding;
                    let lb = self.instances[pool[b as usize]].outstanding;
                    if lb < la {
                        b
                    } else {
                        a
                    }
                }
            }
        };
        assert!(local < n, "balancer picked endpoint {local} of {n}");
        pool[local as usize]
    }

    /// The checks an instance makes before a request may wait for a worker: is the process
    /// up, does an injected failure hit it, rate limit, shedding, concurrency limit. `None`
    /// admits it.
    fn admission(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, inst: InstanceId) -> Option<Outcome> {
        let now = sched.now();
        if let Some(outcome) = self.reach(r, inst) {
            return Some(outcome);
        }
        if self.faults.is_down(inst) {
            return Some(Outcome::NoEndpoint);
        }
        if self.expired(r, inst, now) {
            return Some(Outcome::DeadlineExceeded);
        }
        if let Some(outcome) = self.faults.injected_failure(inst) {
            return Some(outcome);
        }
        let service = self.instances[inst].service;
        if let Some(outcome) = self.rate_and_shedding(r, now, service, Some(inst)) {
            return Some(outcome);
        }
        let i = &mut self.instances[inst];
        if let Some(l) = i.limiter.as_mut() {
            match l.try_acquire() {
                Some(p) => self.reqs.get_mut(r).permit = Some(p),
                None => return Some(Outcome::Shed),
            }
        }
        None
    }

    /// A request reaches the process of `inst`, which refuses it if it is not accepting work
    /// (`ConnectionReset`: the balancer still had it) or its version lacks the endpoint
    /// (`Unsupported`). The request learns the version either way.
    #[inline]
    fn reach(&mut self, r: ReqRef, inst: InstanceId) -> Option<Outcome> {
        let i = &self.instances[inst];
        let (version, accepting) = (i.version, i.phase == fleet::Phase::Running);
        let req = self.reqs.get_mut(r);
        if !accepting {
            self.services[i.service].fleet.refused_not_accepting += 1;
            return Some(Outcome::ConnectionReset);
        }
        req.version = version;
        if !self.plan.endpoint(req.service, version, req.endpoint).present {
            return Some(Outcome::Unsupported);
        }
        None
    }

    /// The rate limiter (the instance's, else the service's) and load shedding (on the
    /// instance's queue, or the service's shared one when `inst` is `None`).
    fn rate_and_shedding(
        &mut self,
        r: ReqRef,
        now: SimTime,
        service: ServiceId,
        inst: Option<InstanceId>,
    ) -> Option<Outcome> {
        let svc = &mut self.services[service];
        let mut i = inst.map(|i| &mut self.instances[i]);
        let limiter = match i.as_deref_mut().and_then(|i| i.rate.as_mut()) {
            Some(l) => Some(l),
            None => svc.rate.as_mut(),
        };
        if let Some(Err(retry_after)) = limiter.map(|l| l.try_acquire(now)) {
            self.reqs.get_mut(r).retry_after = retry_after;
            return Some(Outcome::RateLimited);
        }
        let (shedder, metric) = svc.shedder?;
        let q = match i {
            Some(i) if !svc.queue_cfg.shared => &i.queue,
            _ => &svc.shared_queue,
        };
        let m = queue_metric(&self.reqs, q, metric, now);
        if !shedder.should_shed(m, self.reqs.get(r).criticality) {
            return None;
        }
        self.reqs.get_mut(r).retry_after = svc.shed_retry_after;
        Some(Outcome::Shed)
    }

    /// A request reaches one instance: refused by admission, started, queued, or refused.
    fn admit_local(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, inst: InstanceId) {
        let now = sched.now();
        if let Some(outcome) = self.admission(sched, r, inst) {
            self.refuse(sched, r, outcome);
            return;
        }
        let i = &mut self.instances[inst];
        let service = i.service;
        let capacity = self.services[service].queue_cfg.capacity;
        if i.busy < i.workers {
            self.add_outstanding(inst, 1);
            self.reqs.get_mut(r).instance = Some(inst);
            self.start_worker(sched, r, inst);
        } else if (i.queue.items.len() as u64) < u64::from(capacity) {
            i.queue.items.push_back(r);
            self.add_outstanding(inst, 1);
            let req = self.reqs.get_mut(r);
            req.instance = Some(inst);
            req.in_queue = true;
            req.enqueued_at = now;
            self.services[service].waited += 1;
            self.add_queued(service, now, 1);
        } else {
            self.release_permit(r, inst, SimDuration::ZERO, LimitOutcome::Ignored);
            self.refuse(sched, r, Outcome::QueueFull);
        }
    }

    /// A request reaches a service with one shared queue: any idle worker of an instance
    /// that is up takes it. Rate limiting and shedding apply service-wide; injected failures
    /// apply on the instance that takes the request.
    fn admit_shared(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, service: ServiceId) {
        let now = sched.now();
        if let Some(outcome) = self.rate_and_shedding(r, now, service, None) {
            self.refuse(sched, r, outcome);
            return;
        }
        let svc = &mut self.services[service];
        let members = &svc.members;
        let n = members.len() as u32;
        let start = if n == 0 { 0 } else { svc.rr_next % n };
        let idle = (0..n).map(|k| (start + k) % n).find(|&k| {
            let i = &self.instances[members[k as usize]];
            i.busy < i.workers
                && !self.faults.is_down(members[k as usize])
                && i.phase == fleet::Phase::Running
        });
        if let Some(k) = idle {
            svc.rr_next = (k + 1) % n;
            let inst = members[k as usize];
            self.take_shared(sched, r, inst);
        } else if (svc.shared_queue.items.len() as u64) < u64::from(svc.queue_cfg.capacity) {
            svc.shared_queue.items.push_back(r);
            svc.waited += 1;
            let req = self.reqs.get_mut(r);
            req.in_queue = true;
            req.enqueued_at = now;
            self.add_queued(service, now, 1);
        } else {
            self.refuse(sched, r, Outcome::QueueFull);
        }
    }

    /// An instance's idle worker takes a request of its service's shared queue (or one just
    /// arrived), unless an injected failure hits it first.
    fn take_shared(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, inst: InstanceId) {
        if let Some(outcome) = self.reach(r, inst) {
            self.refuse(sched, r, outcome);
            return;
        }
        if self.expired(r, inst, sched.now()) {
            self.refuse(sched, r, Outcome::DeadlineExceeded);
            return;
        }
        if let Some(outcome) = self.faults.injected_failure(inst) {
            self.refuse(sched, r, outcome);
            return;
        }
        self.add_outstanding(inst, 1);
        self.reqs.get_mut(r).instance = Some(inst);
        self.start_worker(sched, r, inst);
    }

    /// The service turned the request away before any work.
    pub(super) fn refuse(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, outcome: Outcome) {
        let req = self.reqs.get_mut(r);
        req.server_done = true;
        req.instance = None;
        let (service, version) = (req.service, req.version);
        self.count_version_answer(sched.now(), service, version, outcome, None);
        let b = self.bucket(sched.now());
        let svc = &mut self.services[service];
        svc.rejected += 1;
        svc.refusals.add(outcome);
        svc.series[b].rejected += 1;
        // A request taken from a shared queue may have been given up on while it waited.
        if self.reqs.get(r).answered {
            self.reqs.release_if_done(r);
        } else {
            self.answer(sched, r, outcome);
        }
    }

    /// A worker of `inst` takes the request, which then runs its current step.
    fn start_worker(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, inst: InstanceId) {
        let now = sched.now();
        let req = self.reqs.get_mut(r);
        assert_eq!(req.instance, Some(inst), "request started on an instance it was not assigned to");
        debug_assert!(!req.holds_worker && !req.in_queue);
        req.holds_worker = true;
        req.worker_since = now;
        let first_start = !req.started;
        req.started = true;
        let (service, arrived) = (req.service, req.arrived_at);
        let i = &mut self.instances[inst];
        assert!(i.busy < i.workers, "instance {inst} has no idle worker: {} of {}", i.busy, i.workers);
        i.busy += 1;
        if first_start {
            let wait_ns = now.since(arrived).as_nanos();
            let svc = &mut self.services[service];
            svc.wait.record(wait_ns);
            svc.wait_ns_sum += u128::from(wait_ns);
        }
        self.add_busy(service, now, 1);
        self.run_step(sched, r);
    }

    /// The request gives its worker back.
    #[inline]
    pub(super) fn release_worker(&mut self, now: SimTime, r: ReqRef) -> InstanceId {
        let req = self.reqs.get_mut(r);
        debug_assert!(req.holds_worker);
        req.holds_worker = false;
        req.work_ns += now.since(req.worker_since).as_nanos();
        let (inst, service) = (req.at(), req.service);
        let i = &mut self.instances[inst];
        assert!(i.busy > 0, "instance {inst} released a worker it did not have");
        i.busy -= 1;
        self.add_busy(service, now, -1);
        inst
    }

    /// Runs the request's current step: work on its worker, or calls; past the last step,
    /// finishes it.
    pub(super) fn run_step(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        let now = sched.now();
        let req = self.reqs.get(r);
        let ep = self.plan.endpoint(req.service, req.version, req.endpoint);
        let (first_step, n_steps, blocking) = (ep.first_step, ep.n_steps, ep.blocking);
        if req.step >= n_steps {
            let (error_rate, flags) = (ep.error_rate, ep.flags);
            let i = &mut self.instances[req.at()];
            if error_rate > 0.0 && i.error_rng.random::<f64>() < error_rate {
                self.finish(sched, r, Outcome::ServerError);
            } else {
                self.reqs.get_mut(r).flags = flags;
                self.finish(sched, r, Outcome::Ok);
            }
            return;
        }
        let inst = req.at();
        match &self.plan.steps[(first_step + req.step) as usize] {
            PlanStep::Work(dist) => {
                if !req.holds_worker {
                    // A non-blocking endpoint back from its calls: wait for a worker.
                    self.instances[inst].ready.push_back(r);
                    self.pull_next(sched, inst);
                    return;
                }
                let warmup = self.warmup_factor(inst, now);
                let i = &mut self.instances[inst];
                let mut work = dist.sample(&mut i.work_rng);
                let slow = self.faults.slow_factor(inst);
                if slow != 1.0 {
                    work *= slow;
                }
                if warmup != 1.0 {
                    work *= warmup;
                }
                sched.after(SimDuration(round_ns(work)), Event::WorkDone { req: r });
            }
            &PlanStep::Calls { first, n, .. } => {
                let freed = (!blocking && req.holds_worker).then(|| self.release_worker(now, r));
                let req = self.reqs.get_mut(r);
                req.calls_ok = 0;
                req.calls_failed = 0;
                let seq = req.step_seq;
                for k in 0..n {
                    // An answer given at once (a refusal) may end the step, or the request.
                    match self.reqs.find(r) {
                        Some(q) if q.step_seq == seq && !q.server_done => {}
                        _ => break,
                    }
                    self.issue_call(sched, r, seq, first.plus(k));
                }
                if let Some(inst) = freed {
                    self.pull_next(sched, inst);
                }
            }
        }
    }

    /// A work step ended.
    pub(super) fn on_work_done(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        // A request reset by a fault while it worked has ended already.
        let Some(req) = self.reqs.find(r) else { return };
        if req.server_done {
            return;
        }
        let req = self.reqs.get_mut(r);
        req.step += 1;
        req.step_seq += 1;
        self.run_step(sched, r);
    }

    /// One of the current step's calls was answered.
    pub(super) fn on_call_answered(&mut self, sched: &mut Scheduler<Event>, p: ReqRef, seq: u32, ok: bool) {
        let Some(req) = self.reqs.find(p) else { return };
        if req.server_done || req.step_seq != seq {
            return;
        }
        let ep = self.plan.endpoint(req.service, req.version, req.endpoint);
        let PlanStep::Calls { n, need, .. } = self.plan.steps[(ep.first_step + req.step) as usize] else {
            unreachable!("a call answered a request that is not in a call step")
        };
        let req = self.reqs.get_mut(p);
        if ok {
            req.calls_ok += 1;
            if req.calls_ok == need {
                req.step += 1;
                req.step_seq += 1;
                self.run_step(sched, p);
            }
        } else {
            req.calls_failed += 1;
            if n - req.calls_failed < need {
                self.finish(sched, p, Outcome::ServerError);
            }
        }
    }

    /// Whether anyone still waits for `r`'s answer: its caller, and every caller above it.
    pub(super) fn wanted(&self, r: ReqRef) -> bool {
        let mut r = r;
        loop {
            let Some(req) = self.reqs.find(r) else { return false };
            if req.answered {
                return false;
            }
            let Some(lg) = self.logicals.find(req.logical) else { return false };
            match lg.owner {
                Owner::Client { .. } => return true,
                Owner::Probe { inst, seq, kind } => return self.probe_wanted(inst, seq, kind),
                Owner::HealthCheck { inst, seq } => return self.health_check_wanted(inst, seq),
                Owner::Parent { req: p, seq } => {
                    let Some(parent) = self.reqs.find(p) else { return false };
                    if parent.server_done || parent.step_seq != seq {
                        return false;
                    }
                    r = p;
                }
            }
        }
    }

    /// Whether `r`'s deadline has passed by the clock of `inst`, on a service that honours
    /// deadlines.
    #[inline]
    fn expired(&self, r: ReqRef, inst: InstanceId, now: SimTime) -> bool {
        let i = &self.instances[inst];
        if !self.services[i.service].honor_deadlines {
            return false;
        }
        let req = self.reqs.get(r);
        req.deadline.passed(now, req.deadline_clock.skew_ns(i.skew))
    }

    /// The server is done with the request: free its worker, classify its work as useful or
    /// wasted, answer the caller if it still waits, and let the worker take the next request.
    pub(super) fn finish(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, outcome: Outcome) {
        self.end_service(sched, r, outcome, Ending::Served);
    }

    /// Ends a request's service: `finish`, or a reset by a fault, whose work is all wasted and
    /// whose sojourn is not a service time.
    pub(super) fn end_service(
        &mut self,
        sched: &mut Scheduler<Event>,
        r: ReqRef,
        outcome: Outcome,
        how: Ending,
    ) {
        let now = sched.now();
        let useful = how == Ending::Served && self.wanted(r);
        let req = self.reqs.get_mut(r);
        assert!(!req.server_done, "request finished twice: {req:?}");
        req.server_done = true;
        // Calls still out are abandoned.
        req.step_seq += 1;
        let holds_worker = req.holds_worker;
        let freed = holds_worker.then(|| self.release_worker(now, r));
        let req = self.reqs.get_mut(r);
        let (inst, service, arrived, answered, work_ns, version) =
            (req.at(), req.service, req.arrived_at, req.answered, req.work_ns, req.version);
        let latency = (how == Ending::Served).then(|| now.since(arrived).as_nanos());
        self.count_version_answer(now, service, version, outcome, latency);
        let b = self.bucket(now);
        let svc = &mut self.services[service];
        svc.completed += 1;
        svc.series[b].completed += 1;
        if how == Ending::Served {
            let sojourn = now.since(arrived).as_nanos();
            svc.sojourn.record(sojourn);
            svc.sojourn_ns_sum += u128::from(sojourn);
        }
        if useful {
            svc.useful += 1;
            svc.useful_work_ns += u128::from(work_ns);
            svc.series[b].useful += 1;
            svc.series[b].useful_work_ns += u128::from(work_ns);
        } else {
            svc.wasted_work_ns += u128::from(work_ns);
            svc.series[b].wasted_work_ns += u128::from(work_ns);
        }
        self.add_outstanding(inst, -1);
        let sample = if useful { LimitOutcome::Success } else { LimitOutcome::Dropped };
        self.release_permit(r, inst, now.since(arrived), sample);
        if answered {
            self.reqs.release_if_done(r);
        } else {
            self.answer(sched, r, outcome);
        }
        if let Some(inst) = freed {
            self.pull_next(sched, inst);
        }
        self.maybe_gone(sched, inst);
    }

    /// Idle workers of `inst` take waiting work: continuations first, then new requests.
    pub(super) fn pull_next(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId) {
        loop {
            let i = &mut self.instances[inst];
            let serving = matches!(i.phase, fleet::Phase::Running | fleet::Phase::Stopping);
            if i.busy >= i.workers || self.faults.is_down(inst) || !serving {
                return;
            }
            if let Some(r) = i.ready.pop_front() {
                self.start_worker(sched, r, inst);
                continue;
            }
            let service = i.service;
            let shared = self.services[service].queue_cfg.shared;
            if shared && i.phase != fleet::Phase::Running {
                // A stopping instance takes no new work from the shared queue.
                return;
            }
            let queue = if shared { None } else { Some(inst) };
            let Some((r, from_back)) = self.pop_waiting(sched, service, queue, inst) else { return };
            // Requests dropped on the way were answered, and an answer can start new work:
            // the worker this loop found idle may be gone.
            let i = &self.instances[inst];
            if i.busy >= i.workers || self.faults.is_down(inst) {
                self.requeue(sched.now(), service, queue, r, from_back);
                return;
            }
            if shared {
                self.take_shared(sched, r, inst);
            } else {
                self.start_worker(sched, r, inst);
            }
        }
    }

    /// The next request to serve from an instance's queue (or the service's shared one),
    /// by the queue's discipline, dropping on the way requests whose caller has given up
    /// (if the server drops abandoned work), requests whose deadline has passed by the clock
    /// of `taker` (if it honours deadlines) and requests CoDel sheds.
    fn pop_waiting(
        &mut self,
        sched: &mut Scheduler<Event>,
        service: ServiceId,
        inst: Option<InstanceId>,
        taker: InstanceId,
    ) -> Option<(ReqRef, bool)> {
        let now = sched.now();
        let (discipline, drop_abandoned) = {
            let q = &self.services[service].queue_cfg;
            (q.discipline, q.drop_abandoned)
        };
        loop {
            let q = match inst {
                Some(i) => &mut self.instances[i].queue,
                None => &mut self.services[service].shared_queue,
            };
            let lifo = match discipline {
                Discipline::Fifo => false,
                Discipline::Lifo => true,
                Discipline::AdaptiveLifo => {
                    q.codel.as_ref().or(q.detector.as_ref()).is_some_and(|c| c.overloaded())
                }
            };
            let r = if lifo { q.items.pop_back() } else { q.items.pop_front() }?;
            let req = self.reqs.get_mut(r);
            req.in_queue = false;
            let delay = now.since(req.enqueued_at);
            let q = match inst {
                Some(i) => &mut self.instances[i].queue,
                None => &mut self.services[service].shared_queue,
            };
            if let Some(d) = q.detector.as_mut() {
                let _ = d.on_dequeue(now, delay);
            }
            let shed = q.codel.as_mut().is_some_and(|c| c.on_dequeue(now, delay));
            self.add_queued(service, now, -1);
            if shed {
                self.drop_waiting(sched, r, Some(Outcome::Shed));
            } else if self.expired(r, taker, now) {
                self.drop_waiting(sched, r, Some(Outcome::DeadlineExceeded));
            } else if drop_abandoned && !self.wanted(r) {
                self.drop_waiting(sched, r, None);
            } else {
                return Some((r, lifo));
            }
        }
    }

    /// Puts a request taken by `pop_waiting` back where it was.
    fn requeue(
        &mut self,
        now: SimTime,
        service: ServiceId,
        inst: Option<InstanceId>,
        r: ReqRef,
        at_back: bool,
    ) {
        let q = match inst {
            Some(i) => &mut self.instances[i].queue,
            None => &mut self.services[service].shared_queue,
        };
        if at_back {
            q.items.push_back(r);
        } else {
            q.items.push_front(r);
        }
        self.reqs.get_mut(r).in_queue = true;
        self.add_queued(service, now, 1);
    }

    /// Gives back the request's concurrency-limiter permit, if it holds one, with its sample.
    #[inline]
    fn release_permit(&mut self, r: ReqRef, inst: InstanceId, rtt: SimDuration, sample: LimitOutcome) {
        if let Some(p) = self.reqs.get_mut(r).permit.take() {
            let l = self.instances[inst].limiter.as_mut().expect("a permit has a limiter");
            l.release(p, rtt, sample);
        }
    }

    /// A waiting request leaves unserved; its caller, if it still waits, gets `outcome`.
    pub(super) fn drop_waiting(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, outcome: Option<Outcome>) {
        let now = sched.now();
        let req = self.reqs.get_mut(r);
        req.server_done = true;
        let (inst, service, answered, arrived) = (req.instance, req.service, req.answered, req.arrived_at);
        let b = self.bucket(now);
        let svc = &mut self.services[service];
        svc.dropped += 1;
        svc.series[b].dropped += 1;
        if let Some(inst) = inst {
            self.add_outstanding(inst, -1);
            self.release_permit(r, inst, now.since(arrived), LimitOutcome::Dropped);
        }
        match outcome {
            Some(o) if !answered => self.answer(sched, r, o),
            _ => self.reqs.release_if_done(r),
        }
        if let Some(inst) = inst {
            self.maybe_gone(sched, inst);
        }
    }

    /// The one place an instance's requests assigned change, so that a least-outstanding
    /// balancer's indexes follow them (O(log n) per list indexed). An index knows instances
    /// by ordinal: dense within a service, so its table from key to position stays short.
    ///
    /// # Panics
    /// If the count would go below zero (work finished that the instance did not hold) or
    /// overflow.
    #[inline]
    pub(super) fn add_outstanding(&mut self, inst: InstanceId, delta: i32) {
        let i = &mut self.instances[inst];
        let held = i.outstanding;
        i.outstanding = held
            .checked_add_signed(delta)
            .unwrap_or_else(|| panic!("instance {inst} holds {held} requests and cannot take {delta}"));
        let (load, ordinal, s) = (i.outstanding, i.ordinal, i.service);
        if let Some(indexes) = self.services[s].least.as_mut() {
            // Most indexes are stale most of the time (a short pool, an unused routed side):
            // checked here so that they cost no call.
            for ix in indexes.iter_mut().filter(|ix| ix.is_fresh()) {
                ix.set_load(ordinal, load);
            }
        }
    }

    /// A list a balancer of `s` picks from changed (endpoints, eligible endpoints or a
    /// traffic-routed side): its least-outstanding indexes are rebuilt at their next pick.
    pub(super) fn least_stale(&mut self, s: ServiceId) {
        if let Some(indexes) = self.services[s].least.as_mut() {
            for ix in indexes {
                ix.invalidate();
            }
        }
    }
}

/// Pools up to this size are scanned rather than indexed: on the flagship scenario (four
/// replicas) keeping the index cost 4 % more instructions than the scan. 16 is a guess at
/// where the two meet, not a measurement; any value gives the same picks.
const LEAST_SCAN_MAX: u32 = 16;

/// Which of a service's least-outstanding indexes serves a pick: 0 for the balancer's pool,
/// `k + 1` for the traffic-routed side `k`.
fn least_slot(side: Option<usize>) -> usize {
    side.map_or(0, |k| k + 1)
}

/// The least-outstanding pick by its definition: the first position of minimal requests
/// assigned scanning cyclically from `start`: the pick for short pools, and the index's check
/// in tests and debug builds.
fn least_outstanding_scan(
    instances: &IdVec<InstanceId, InstanceState>,
    pool: &[InstanceId],
    start: u32,
) -> u32 {
    let n = pool.len() as u32;
    let mut best = start;
    let mut best_load = u32::MAX;
    for k in 0..n {
        let i = (start + k) % n;
        let load = instances[pool[i as usize]].outstanding;
        if load < best_load {
            best = i;
            best_load = load;
        }
    }
    best
}
