//! The caller side of a call: the caller instance's local cache, bulkhead and connection
//! pool for the dependency, timeouts, and answering a caller exactly once.

use super::*;
use policy::AttemptEnd;
use requests::Waiting;

impl World {
    /// Request `p`, in step `seq`, makes call `call` of the plan: a logical request of the
    /// caller's policy for that dependency.
    pub(super) fn issue_call(&mut self, sched: &mut Scheduler<Event>, p: ReqRef, seq: u32, call: CallId) {
        let parent = self.reqs.get(p);
        let (criticality, caller_instance) = (parent.criticality, parent.at());
        let parent_deadline = (parent.deadline, parent.deadline_clock);
        let c = &self.plan.calls[call];
        let (service, endpoint, timeout, edge) = (c.service, c.endpoint, c.timeout, c.edge);
        self.edges[edge as usize].calls += 1;
        let scope = self.instances[caller_instance].ordinal;
        let site = self.edge_site(edge);
        self.start_logical(
            sched,
            LogicalStart {
                owner: Owner::Parent { req: p, seq },
                target: (service, endpoint, criticality),
                site,
                scope,
                call: Some(call),
                caller_instance: Some(caller_instance),
                timeout,
                parent_deadline,
            },
        );
    }

    /// An attempt of a call leaves its caller: the caller's local cache may answer it;
    /// else it passes the bulkhead and the pool.
    pub(super) fn issue_attempt(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        let now = sched.now();
        let req = self.reqs.get(r);
        let c = &self.plan.calls[req.call()];
        let caller_instance = req.caller();
        let (edge, cache) = (c.edge, c.cache);
        if cache != NONE {
            let i = &mut self.instances[caller_instance];
            let ratio = i.caches[cache as usize].hit_ratio_at(now);
            if ratio > 0.0 && i.cache_rng.random::<f64>() < ratio {
                let cfg = &self.plan.call_caches[i.service.index()][cache as usize];
                let d = round_ns(cfg.hit_latency.sample(&mut i.cache_rng));
                self.edges[edge as usize].cache_hits += 1;
                sched.after(SimDuration(d), Event::CacheHit { req: r });
                return;
            }
        }
        self.pass_bulkhead(sched, r);
    }

    /// The dependency state of call `r`, if its call site has a policy.
    fn dependency_of(&self, r: ReqRef) -> Option<usize> {
        let req = self.reqs.get(r);
        let d = self.plan.calls[req.call()].dependency;
        (d != NONE).then(|| (self.instances[req.caller()].dep_base + d) as usize)
    }

    /// A call takes a bulkhead permit (or pool thread), waits for one, or is refused.
    fn pass_bulkhead(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        let now = sched.now();
        let Some(d) = self.dependency_of(r) else { return self.send(sched, r) };
        let admit = match &mut self.dependencies[d].bulkhead {
            None => return self.pass_pool(sched, r),
            Some(Bulkhead::Semaphore { gate, max_wait }) => {
                let max_wait = *max_wait;
                let a = gate.acquire(r);
                if let squall_policy::Admit::Queued = a {
                    self.reqs.get_mut(r).wait_timer =
                        Some(sched.timer_after(max_wait, Event::WaitExpired { req: r }));
                }
                a
            }
            Some(Bulkhead::ThreadPool(pool)) => pool.submit(now, r),
        };
        match admit {
            squall_policy::Admit::Now(r) => {
                self.reqs.get_mut(r).holds_bulkhead = true;
                self.pass_pool(sched, r);
            }
            squall_policy::Admit::Queued => self.start_waiting(r, Waiting::Bulkhead),
            squall_policy::Admit::Rejected(r) => self.refuse_call(sched, r, Outcome::BulkheadFull),
        }
    }

    /// A call takes a pooled connection (opening one if the pool and the callee's cap allow),
    /// waits for one, or is refused.
    fn pass_pool(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        let Some(d) = self.dependency_of(r) else { return self.send(sched, r) };
        let callee = self.reqs.get(r).service;
        let Some(pool) = &mut self.dependencies[d].pool else { return self.send(sched, r) };
        let c = &pool.connections;
        let callee_state = &mut self.services[callee];
        if c.in_use() >= c.permits()
            && c.permits() < pool.maximum
            && callee_state.connections < callee_state.max_connections
        {
            callee_state.connections += 1;
            let reqs = &self.reqs;
            if let Some(w) = pool.connections.grow(|q| reqs.is_waiting(q)) {
                // Someone waited longer: the new connection is theirs.
                self.got_connection(sched, w);
            }
        }
        let Some(pool) = &mut self.dependencies[d].pool else { unreachable!() };
        let timeout = pool.timeout;
        match pool.connections.acquire(r) {
            squall_policy::Admit::Now(r) => {
                self.reqs.get_mut(r).holds_connection = true;
                self.send(sched, r);
            }
            squall_policy::Admit::Queued => {
                self.start_waiting(r, Waiting::Connection);
                self.reqs.get_mut(r).wait_timer =
                    Some(sched.timer_after(timeout, Event::WaitExpired { req: r }));
            }
            squall_policy::Admit::Rejected(r) => self.refuse_call(sched, r, Outcome::Timeout),
        }
    }

    fn start_waiting(&mut self, r: ReqRef, what: Waiting) {
        self.reqs.get_mut(r).waiting = what;
        let edge = self.plan.calls[self.reqs.get(r).call()].edge;
        self.edges[edge as usize].waited += 1;
    }

    /// A waiting call was handed a bulkhead permit: on to the pool.
    fn got_permit(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        let req = self.reqs.get_mut(r);
        debug_assert_eq!(req.waiting, Waiting::Bulkhead);
        req.waiting = Waiting::Nothing;
        req.holds_bulkhead = true;
        if let Some(t) = req.wait_timer.take() {
            sched.cancel(t);
        }
        self.pass_pool(sched, r);
    }

    /// A waiting call was handed a connection: send it.
    fn got_connection(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        let req = self.reqs.get_mut(r);
        debug_assert_eq!(req.waiting, Waiting::Connection);
        req.waiting = Waiting::Nothing;
        req.holds_connection = true;
        if let Some(t) = req.wait_timer.take() {
            sched.cancel(t);
        }
        self.send(sched, r);
    }

    /// A call fails on the caller's side, before reaching the service.
    fn refuse_call(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, outcome: Outcome) {
        self.reqs.get_mut(r).server_done = true;
        self.answer(sched, r, outcome);
    }

    /// A call's wait for a permit or connection ran out.
    pub(super) fn on_wait_expired(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        let req = self.reqs.get_mut(r);
        req.wait_timer = None;
        let outcome = match req.waiting {
            Waiting::Bulkhead => Outcome::BulkheadFull,
            Waiting::Connection => Outcome::Timeout,
            Waiting::Nothing => unreachable!("a wait timer outlived its wait: {req:?}"),
        };
        self.refuse_call(sched, r, outcome);
    }

    /// A caller's timeout expired: it stops waiting. The server carries on.
    pub(super) fn on_timeout(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        // The timer was cancelled if the request had been answered, so it is still waiting.
        let req = self.reqs.get_mut(r);
        req.timer = None;
        if req.waiting != Waiting::Nothing {
            // It never left the caller.
            req.server_done = true;
        }
        self.answer(sched, r, Outcome::Timeout);
    }

    /// Stops a call's wait at a gate: it no longer counts as waiting there.
    fn abandon_wait(&mut self, r: ReqRef) {
        let Some(d) = self.dependency_of(r) else { unreachable!("a call waited without a policy") };
        let waiting = std::mem::replace(&mut self.reqs.get_mut(r).waiting, Waiting::Nothing);
        let reqs = &self.reqs;
        let dep = &mut self.dependencies[d];
        match waiting {
            Waiting::Bulkhead => match dep.bulkhead.as_mut().expect("waited at a bulkhead") {
                Bulkhead::Semaphore { gate, .. } => gate.abandon(|q| reqs.is_waiting(q)),
                Bulkhead::ThreadPool(pool) => pool.abandon(),
            },
            Waiting::Connection => dep
                .pool
                .as_mut()
                .expect("waited for a connection")
                .connections
                .abandon(|q| reqs.is_waiting(q)),
            Waiting::Nothing => {}
        }
    }

    /// Gives back a call's bulkhead permit and connection, handing them to the next waiters.
    fn release_gates(&mut self, sched: &mut Scheduler<Event>, r: ReqRef) {
        let req = self.reqs.get_mut(r);
        let (bulkhead, connection) = (req.holds_bulkhead, req.holds_connection);
        req.holds_bulkhead = false;
        req.holds_connection = false;
        if !bulkhead && !connection {
            return;
        }
        let d = self.dependency_of(r).expect("a call held a gate without a policy");
        let now = sched.now();
        if connection {
            let reqs = &self.reqs;
            let pool = self.dependencies[d].pool.as_mut().expect("held a connection");
            if let Some(w) = pool.connections.release(|q| reqs.is_waiting(q)) {
                self.got_connection(sched, w);
            }
        }
        if bulkhead {
            let reqs = &self.reqs;
            let next = match self.dependencies[d].bulkhead.as_mut().expect("held a permit") {
                Bulkhead::Semaphore { gate, .. } => gate.release(|q| reqs.is_waiting(q)),
                Bulkhead::ThreadPool(pool) => pool.complete(now, |q| reqs.is_waiting(q)),
            };
            if let Some(w) = next {
                self.got_permit(sched, w);
            }
        }
    }

    /// Gives the caller its outcome, exactly once: the attempt ends, and its logical request
    /// decides what follows.
    pub(super) fn answer(&mut self, sched: &mut Scheduler<Event>, r: ReqRef, outcome: Outcome) {
        let now = sched.now();
        let req = self.reqs.get_mut(r);
        assert!(!req.answered, "request answered twice: {req:?}, now {outcome:?}");
        req.answered = true;
        if let Some(t) = req.timer.take() {
            sched.cancel(t);
        }
        if let Some(t) = req.wait_timer.take() {
            sched.cancel(t);
        }
        let waiting = req.waiting != Waiting::Nothing;
        let end = AttemptEnd {
            outcome,
            sent: true,
            latency: now.since(req.issued_at),
            permit: req.breaker_permit.take(),
            retry_after: req.retry_after,
            version: req.version,
            flags: req.flags,
        };
        let l = req.logical;
        let (service, host) = (req.service, req.host);
        if let Some(host) = host {
            self.lb_result(now, service, host, outcome);
        }
        self.detach_attempt(l, r);
        if waiting {
            self.abandon_wait(r);
        }
        // The logical request decides before the gates are handed on: handing them on can
        // end other attempts of the same logical request, and the request itself.
        self.on_attempt_done(sched, l, end);
        self.release_gates(sched, r);
        self.reqs.release_if_done(r);
    }
}
