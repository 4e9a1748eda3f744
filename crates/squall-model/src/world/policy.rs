//! Client policies: a logical request (a client's request, or a call an endpoint makes) and
//! the attempts that try to fulfil it.
//!
//! A logical request gets its deadline (its own timeout, or a share of its caller's remaining
//! deadline when propagated), then sends attempts. Each attempt passes adaptive throttling and
//! the breaker (refused locally as `Throttled` or `CircuitOpen`), then goes out as a request.
//! When an attempt ends, its result feeds the breaker, the budget and the throttle, and the
//! policy decides: done (success, or a failure not retried), another attempt after a back-off
//! (retry, if the budget allows and the deadline leaves time), or another hedge at once. A
//! failure that ends the call may be served by the fallback as `Degraded`. When the logical
//! request ends, attempts still out are answered (`Cancelled`, or `Timeout` when the deadline
//! ended it); their servers carry on unless they drop abandoned or expired work.
//!
//! Policy state lives per site (a client group, or a caller's dependency: one per plan edge)
//! and scope (the caller instance; a client group has one scope). A shared breaker is one per
//! site.

use super::logical::{LogRef, Owner};
use super::*;
use crate::config::{CallPolicy, DeadlineFormat, FallbackConfig};
use crate::output::{BreakerOutput, PolicyBucket, PolicyOutput};
use squall_policy::{AdaptiveThrottle, AttemptResult, Breaker, BreakerState, RetryBudget};

/// A bit per outcome, for fast membership tests of `retry_on` and `non_fatal`.
fn mask(outcomes: &[Outcome]) -> u32 {
    outcomes.iter().fold(0, |m, o| m | 1 << *o as u32)
}

#[inline]
fn has(mask: u32, o: Outcome) -> bool {
    mask & (1 << o as u32) != 0
}

/// Which attempt is being sent.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum AttemptKind {
    First,
    Retry,
    Hedge,
}

/// One policy site: a client group, or a caller's dependency.
pub(super) struct Site {
    pub policy: CallPolicy,
    pub retry_mask: u32,
    pub non_fatal_mask: u32,
    /// Policy state of scope `k` is `states[scopes[k]]`. Scopes are added as caller
    /// instances are created.
    pub scopes: Vec<u32>,
    /// The site's breakers: `breakers[breaker_slots[k]]` for scope `k`, or the one at
    /// `breaker_slots[0]` if shared; empty without a breaker.
    pub breaker_slots: Vec<u32>,
    pub shared_breaker: bool,
    pub rng: StreamRng,
    pub stats: PolicyOutput,
    /// Track per-bucket figures (the policy does more than time out).
    pub tracked: bool,
    /// Logical calls per bucket (dependency sites that are tracked).
    pub calls_series: Vec<u64>,
}

impl Site {
    pub fn new(policy: CallPolicy, rng: StreamRng) -> Site {
        let p = &policy;
        let tracked = p.retry.is_some()
            || p.hedge.is_some()
            || p.breaker.is_some()
            || p.throttle.is_some()
            || p.fallback.is_some()
            || p.budget.is_some();
        Site {
            retry_mask: p.retry.as_ref().map_or(0, |r| mask(&r.retry_on)),
            non_fatal_mask: p.hedge.as_ref().map_or(0, |h| mask(&h.non_fatal)),
            scopes: Vec::new(),
            breaker_slots: Vec::new(),
            shared_breaker: p.breaker.as_ref().is_some_and(|b| b.shared),
            rng,
            stats: PolicyOutput::default(),
            tracked,
            calls_series: Vec::new(),
            policy,
        }
    }

    fn breaker_index(&self, scope: u32) -> Option<usize> {
        let k = if self.shared_breaker { 0 } else { scope as usize };
        self.breaker_slots.get(k).map(|&b| b as usize)
    }

    /// Index of scope `k`'s state.
    #[inline]
    pub fn state(&self, scope: u32) -> usize {
        self.scopes[scope as usize] as usize
    }
}

/// Per site and scope: what limits retries and attempts.
pub(super) struct ScopeState {
    pub budget: Option<RetryBudget>,
    pub throttle: Option<AdaptiveThrottle>,
    /// Attempts out.
    pub active: u32,
    /// Logical requests retrying (a retry scheduled or out).
    pub retries_active: u32,
}

/// A breaker and the time it spent in each state, accounted up to `since`.
pub(super) struct BreakerSlot {
    pub breaker: Breaker,
    pub site: SiteId,
    pub state: BreakerState,
    pub since: SimTime,
    pub state_ns: [u128; 3],
}

/// What the engine knows of an attempt when it ends.
#[derive(Copy, Clone, Debug)]
pub(super) struct AttemptEnd {
    pub outcome: Outcome,
    /// It left the caller (not refused by throttling or the breaker, nor answered by a
    /// cache).
    pub sent: bool,
    pub latency: SimDuration,
    pub permit: Option<squall_policy::BreakerPermit>,
    pub retry_after: SimDuration,
    /// The version of the instance that answered (`NONE` if none did) and the answer's flags.
    pub version: u32,
    pub flags: u64,
}

/// What starts a logical request: who waits for it, what it asks, and under which policy.
#[derive(Copy, Clone, Debug)]
pub(super) struct LogicalStart {
    pub owner: Owner,
    pub target: (ServiceId, crate::config::EndpointId, Criticality),
    /// Its policy site, and the scope within the site (the caller instance's ordinal; 0 for
    /// a client group's, a probe's or a health check's request).
    pub site: SiteId,
    pub scope: u32,
    /// The plan call it makes and the instance making it (`None` for a request that is not
    /// a call).
    pub call: Option<CallId>,
    pub caller_instance: Option<InstanceId>,
    /// Its own timeout, over all attempts.
    pub timeout: Option<SimDuration>,
    /// The caller's deadline, which a site that propagates deadlines shortens it to.
    pub parent_deadline: (Deadline, Clock),
}

impl LogicalStart {
    /// A request no instance makes (a client group's, a probe's, a health check's), so
    /// with no call, no caller and no deadline to inherit.
    pub(super) fn outside(
        owner: Owner,
        target: (ServiceId, crate::config::EndpointId, Criticality),
        site: SiteId,
        timeout: Option<SimDuration>,
    ) -> LogicalStart {
        LogicalStart {
            owner,
            target,
            site,
            scope: 0,
            call: None,
            caller_instance: None,
            timeout,
            parent_deadline: (Deadline::NONE, Clock::Wall),
        }
    }
}

impl World {
    /// A logical request starts: its deadline (its own timeout, or what propagation leaves
    /// of the caller's), then its first attempt (and hedges).
    pub(super) fn start_logical(&mut self, sched: &mut Scheduler<Event>, start: LogicalStart) {
        let LogicalStart { owner, target, site, scope, call, caller_instance, timeout, parent_deadline } =
            start;
        let now = sched.now();
        let l = self.logicals.alloc(owner, site, scope, call, now);
        let lg = self.logicals.get_mut(l);
        (lg.service, lg.endpoint, lg.criticality) = target;
        lg.caller_instance = caller_instance;
        let b = self.bucket(now);
        let s = &mut self.sites[site];
        if !s.calls_series.is_empty() {
            s.calls_series[b] += 1;
        }
        let mut budget = timeout.map_or(u64::MAX, SimDuration::as_nanos);
        // The caller reads its deadline on its own clock (instances may have skewed clocks).
        let propagated = s.policy.propagate_deadline.and_then(|p| {
            let (deadline, clock) = parent_deadline;
            let skew = clock.skew_ns(caller_instance.map_or(0, |i| self.instances[i].skew));
            Some((p, deadline.remaining_ns(now, skew)?))
        });
        if let Some((p, remaining)) = propagated {
            if remaining <= 0 {
                // Nothing left of the caller's deadline: the call is not even sent.
                self.end_logical(sched, l, Outcome::DeadlineExceeded, Outcome::Cancelled);
                return;
            }
            budget = budget.min(round_ns(remaining as f64 * p.factor));
        }
        if budget != u64::MAX {
            let deadline = now.saturating_add(SimDuration(budget));
            let lg = self.logicals.get_mut(l);
            lg.deadline = Deadline::at(deadline);
            lg.timer = Some(sched.timer_at(deadline, Event::Deadline { log: l }));
        }
        // Only a tracked site (one with a retry, hedge, breaker, throttle, fallback or budget
        // policy) has a budget: the others skip the lookup of their scope's state.
        if s.tracked {
            let st = &mut self.states[s.state(scope)];
            if let Some(b) = st.budget.as_mut() {
                b.record_request(now);
            }
        }
        let hedges = self.sites[site].policy.hedge.is_some();
        self.send_attempt(sched, l, AttemptKind::First);
        if hedges {
            self.schedule_hedge(sched, l);
        }
    }

    /// Schedules the next hedge of `l`, if it hedges, is still on, and has attempts left.
    fn schedule_hedge(&mut self, sched: &mut Scheduler<Event>, l: LogRef) {
        let Some(lg) = self.logicals.find(l) else { return };
        if lg.ending || lg.next_timer.is_some() {
            return;
        }
        let Some(h) = &self.sites[lg.site].policy.hedge else { return };
        if u32::from(lg.attempts) >= h.max_attempts {
            return;
        }
        let t = sched.timer_after(h.hedging_delay, Event::NextAttempt { log: l });
        self.logicals.get_mut(l).next_timer = Some(t);
    }

    /// A retry's back-off or a hedge's delay is over.
    pub(super) fn on_next_attempt(&mut self, sched: &mut Scheduler<Event>, l: LogRef) {
        let lg = self.logicals.get_mut(l);
        lg.next_timer = None;
        let site = lg.site;
        if self.sites[site].policy.hedge.is_none() {
            self.send_attempt(sched, l, AttemptKind::Retry);
            return;
        }
        if self.budget_allows(sched.now(), l, false) {
            self.send_attempt(sched, l, AttemptKind::Hedge);
            self.schedule_hedge(sched, l);
        } else if self.logicals.get(l).n_out == 0 {
            let last = self.logicals.get(l).last_failure;
            self.end_logical(sched, l, last, Outcome::Cancelled);
        }
    }

    /// Asks the scope's budget, if any, for one more retry or hedge of `l` (gRPC: hedges
    /// after the first only while the throttle has more than half its tokens); a refusal is
    /// counted. `timeout`: the failure to retry was a timeout.
    fn budget_allows(&mut self, now: SimTime, l: LogRef, timeout: bool) -> bool {
        let lg = self.logicals.get(l);
        let (site, scope, in_retry) = (lg.site, lg.scope, lg.in_retry);
        let st = &mut self.states[self.sites[site].state(scope)];
        let Some(b) = st.budget.as_mut() else { return true };
        let others = st.retries_active - u32::from(in_retry);
        match b.try_retry(now, st.active, others, timeout) {
            Some(cost) => {
                self.logicals.get_mut(l).held = cost;
                true
            }
            None => {
                let b = self.bucket(now);
                let s = &mut self.sites[site];
                s.stats.retries_denied += 1;
                if s.tracked {
                    s.stats.series[b].retries_denied += 1;
                }
                false
            }
        }
    }

    /// Sends one attempt of `l`: throttling, the breaker, then out as a request.
    pub(super) fn send_attempt(&mut self, sched: &mut Scheduler<Event>, l: LogRef, kind: AttemptKind) {
        let now = sched.now();
        let b = self.bucket(now);
        let lg = self.logicals.get_mut(l);
        lg.attempts += 1;
        let (site, scope, call, caller_instance) = (lg.site, lg.scope, lg.call, lg.caller_instance);
        let (service, endpoint, criticality, deadline) =
            (lg.service, lg.endpoint, lg.criticality, lg.deadline);
        let attempt = lg.attempts - 1;
        let s = &mut self.sites[site];
        s.stats.attempts += 1;
        match kind {
            AttemptKind::First => {}
            AttemptKind::Retry => s.stats.retries += 1,
            AttemptKind::Hedge => s.stats.hedges += 1,
        }
        if s.tracked {
            let sb = &mut s.stats.series[b];
            sb.attempts += 1;
            match kind {
                AttemptKind::First => {}
                AttemptKind::Retry => sb.retries += 1,
                AttemptKind::Hedge => sb.hedges += 1,
            }
        }
        // An untracked site has neither a throttle nor a breaker (see `Site::tracked`).
        let tracked = s.tracked;
        let st = &mut self.states[s.state(scope)];
        if let (true, Some(t)) = (tracked, st.throttle.as_mut()) {
            t.record_request(now);
            let p = t.reject_probability(now);
            if p > 0.0 && s.rng.random::<f64>() < p {
                s.stats.throttled += 1;
                if s.tracked {
                    s.stats.series[b].throttled += 1;
                }
                return self.attempt_refused(sched, l, Outcome::Throttled);
            }
        }
        let breaker = if tracked { self.sites[site].breaker_index(scope) } else { None };
        let permit = match breaker {
            None => None,
            Some(k) => {
                let p = self.with_breaker(k, now, |br| br.try_acquire(now));
                if p.is_none() {
                    let s = &mut self.sites[site];
                    s.stats.short_circuited += 1;
                    if s.tracked {
                        s.stats.series[b].short_circuited += 1;
                    }
                    return self.attempt_refused(sched, l, Outcome::CircuitOpen);
                }
                p
            }
        };
        self.check_in_flight(sched);
        let r = self.reqs.alloc(l, service, endpoint, criticality, now);
        let skew = caller_instance.map_or(0, |i| self.instances[i].skew);
        let per_try = self.sites[site].policy.per_try_timeout;
        let propagate = self.sites[site].policy.propagate_deadline;
        let req = self.reqs.get_mut(r);
        req.attempt = attempt;
        req.breaker_permit = permit;
        req.call = call;
        req.caller_instance = caller_instance;
        // The attempt carries the earlier of its own timeout and the call's deadline (as Envoy
        // tells the upstream its per-try timeout), on the sender's clock.
        let mut until = deadline.time();
        if let Some(d) = per_try {
            let t = now.saturating_add(d);
            if t < until.unwrap_or(SimTime::MAX) {
                req.timer = Some(sched.timer_at(t, Event::Timeout { req: r }));
                until = Some(t);
            }
        }
        if let Some(until) = until {
            // A relative deadline travels as a duration and becomes a time again on arrival:
            // no clock moves it.
            let relative = propagate.is_some_and(|p| p.format == DeadlineFormat::Relative);
            (req.deadline, req.deadline_clock) = if relative {
                (Deadline::at(until), Clock::True)
            } else {
                (Deadline::on_clock(until, skew), Clock::Wall)
            };
        }
        let lg = self.logicals.get_mut(l);
        lg.out[lg.n_out as usize] = r;
        lg.n_out += 1;
        let s = &self.sites[site];
        self.states[s.state(scope)].active += 1;
        match call {
            None => self.send(sched, r),
            Some(_) => self.issue_attempt(sched, r),
        }
    }

    /// An attempt refused before leaving the caller.
    fn attempt_refused(&mut self, sched: &mut Scheduler<Event>, l: LogRef, outcome: Outcome) {
        let end = AttemptEnd {
            outcome,
            sent: false,
            latency: SimDuration::ZERO,
            permit: None,
            retry_after: SimDuration::ZERO,
            version: NONE,
            flags: 0,
        };
        self.on_attempt_done(sched, l, end);
    }

    /// Runs `f` on breaker `k`, accounting its time in state around it (each breaker call
    /// makes at most one transition; `advance` first applies one that fell due meanwhile).
    fn with_breaker<R>(&mut self, k: usize, now: SimTime, f: impl FnOnce(&mut Breaker) -> R) -> R {
        self.breakers[k].breaker.advance(now);
        self.sync_breaker(k);
        let r = f(&mut self.breakers[k].breaker);
        self.sync_breaker(k);
        r
    }

    /// Accounts breaker `k`'s time in its previous state if it changed state.
    pub(super) fn sync_breaker(&mut self, k: usize) {
        let slot = &self.breakers[k];
        let (state, since) = (slot.breaker.state(), slot.breaker.since());
        if state == slot.state {
            return;
        }
        self.account_breaker(k, since);
        let slot = &mut self.breakers[k];
        slot.state = state;
        slot.since = since;
    }

    /// Adds breaker `k`'s time in its current state up to `to`.
    pub(super) fn account_breaker(&mut self, k: usize, to: SimTime) {
        let bucket_ns = self.bucket_ns;
        let n_buckets = self.n_buckets;
        let slot = &mut self.breakers[k];
        let (from, state) = (slot.since, slot.state);
        let to = to.max(from);
        slot.state_ns[state.index()] += u128::from(to.since(from).as_nanos());
        slot.since = to;
        let s = &mut self.sites[slot.site];
        if !s.tracked || state == BreakerState::Closed {
            return;
        }
        spread(from.as_nanos(), to.as_nanos(), bucket_ns, n_buckets, |bk, ns| {
            let pb: &mut PolicyBucket = &mut s.stats.series[bk];
            match state {
                BreakerState::Open => pb.breaker_open_ns += u128::from(ns),
                _ => pb.breaker_half_open_ns += u128::from(ns),
            }
        });
    }

    /// Takes the request `r` off the attempts `l` has out.
    #[inline]
    pub(super) fn detach_attempt(&mut self, l: LogRef, r: ReqRef) {
        let lg = self.logicals.get_mut(l);
        let n = lg.n_out as usize;
        let k = lg.out[..n].iter().position(|&x| x == r).expect("an attempt out ends");
        lg.out.copy_within(k + 1..n, k);
        lg.n_out -= 1;
        let (site, scope) = (lg.site, lg.scope);
        self.states[self.sites[site].state(scope)].active -= 1;
    }

    /// An attempt of `l` ended (and, if it was sent, was detached from `l`).
    pub(super) fn on_attempt_done(&mut self, sched: &mut Scheduler<Event>, l: LogRef, end: AttemptEnd) {
        let now = sched.now();
        let lg = self.logicals.get_mut(l);
        let (site, scope) = (lg.site, lg.scope);
        let ending = lg.ending;
        let held = lg.held;
        if end.version != NONE {
            lg.version = end.version;
            lg.flags = end.flags;
        }
        let s = &mut self.sites[site];
        s.stats.attempt_outcomes.add(end.outcome);
        let success = end.outcome.is_success();
        // An untracked site has no budget, throttle, breaker, hedge or retry (see
        // `Site::tracked`), and `held` stays zero without a budget: its attempt only decides
        // the end of its logical request.
        if !s.tracked {
            if ending {
                return;
            }
            if !success {
                self.logicals.get_mut(l).last_failure = end.outcome;
            }
            return self.end_logical(sched, l, end.outcome, Outcome::Cancelled);
        }
        let st = &mut self.states[s.state(scope)];
        if end.sent {
            if let Some(b) = st.budget.as_mut() {
                let result = if success {
                    AttemptResult::Success
                } else if has(s.retry_mask | s.non_fatal_mask, end.outcome) {
                    AttemptResult::RetryableFailure { timeout: end.outcome == Outcome::Timeout }
                } else {
                    AttemptResult::OtherFailure
                };
                if end.outcome != Outcome::Cancelled {
                    b.record_result(now, result, held);
                }
            }
            if success {
                self.logicals.get_mut(l).held = 0;
                if let Some(t) = st.throttle.as_mut() {
                    t.record_accept(now);
                }
            }
        }
        if let (Some(permit), Some(k)) = (end.permit, self.sites[site].breaker_index(scope)) {
            let cancelled = end.outcome == Outcome::Cancelled;
            self.with_breaker(k, now, |br| {
                if cancelled {
                    br.on_ignored(now, permit);
                } else {
                    br.on_result(now, permit, end.latency, !success);
                }
            });
        }
        if ending {
            return;
        }
        if success {
            return self.end_logical(sched, l, end.outcome, Outcome::Cancelled);
        }
        self.logicals.get_mut(l).last_failure = end.outcome;
        let s = &self.sites[site];
        if let Some(h) = &s.policy.hedge {
            let max = h.max_attempts;
            if !has(s.non_fatal_mask, end.outcome) {
                return self.end_logical(sched, l, end.outcome, Outcome::Cancelled);
            }
            let lg = self.logicals.get_mut(l);
            if u32::from(lg.attempts) < max {
                // A non-fatal failure sends the next hedge at once; later ones keep the delay.
                if let Some(t) = lg.next_timer.take() {
                    sched.cancel(t);
                }
                let t = sched.timer_after(SimDuration::ZERO, Event::NextAttempt { log: l });
                self.logicals.get_mut(l).next_timer = Some(t);
            } else if lg.n_out == 0 {
                self.end_logical(sched, l, end.outcome, Outcome::Cancelled);
            }
            return;
        }
        if !self.retry(sched, l, end) {
            self.end_logical(sched, l, end.outcome, Outcome::Cancelled);
        }
    }

    /// Schedules a retry of `l` after a failed attempt, if the policy retries this outcome,
    /// attempts are left, the deadline leaves time for the back-off, and the budget allows.
    fn retry(&mut self, sched: &mut Scheduler<Event>, l: LogRef, end: AttemptEnd) -> bool {
        let now = sched.now();
        let lg = self.logicals.get(l);
        let (site, scope) = (lg.site, lg.scope);
        let s = &mut self.sites[site];
        let Some(p) = &s.policy.retry else { return false };
        if !has(s.retry_mask, end.outcome) || u32::from(lg.attempts) >= p.max_attempts {
            return false;
        }
        let mut backoff = lg.backoff;
        let delay = if p.honor_retry_after && end.retry_after > SimDuration::ZERO {
            p.backoff.reset(&mut backoff);
            end.retry_after
        } else {
            p.backoff.next_delay(&mut backoff, s.rng.random::<f64>())
        };
        if now.saturating_add(delay) >= lg.deadline.time().unwrap_or(SimTime::MAX) {
            return false;
        }
        let in_retry = lg.in_retry;
        if !self.budget_allows(now, l, end.outcome == Outcome::Timeout) {
            return false;
        }
        let st = &mut self.states[self.sites[site].state(scope)];
        if !in_retry {
            st.retries_active += 1;
        }
        let lg = self.logicals.get_mut(l);
        lg.in_retry = true;
        lg.backoff = backoff;
        lg.next_timer = Some(sched.timer_after(delay, Event::NextAttempt { log: l }));
        true
    }

    /// The deadline of `l` passed: it ends with `Timeout`, and so do its attempts out.
    pub(super) fn on_deadline(&mut self, sched: &mut Scheduler<Event>, l: LogRef) {
        self.logicals.get_mut(l).timer = None;
        self.end_logical(sched, l, Outcome::Timeout, Outcome::Timeout);
    }

    /// Ends `l` with `outcome` (or its fallback), answering attempts still out with `cancel`,
    /// and tells its owner.
    pub(super) fn end_logical(
        &mut self,
        sched: &mut Scheduler<Event>,
        l: LogRef,
        outcome: Outcome,
        cancel: Outcome,
    ) {
        let now = sched.now();
        let lg = self.logicals.get_mut(l);
        debug_assert!(!lg.ending, "logical request ended twice: {lg:?}");
        lg.ending = true;
        for t in [lg.timer.take(), lg.next_timer.take()].into_iter().flatten() {
            sched.cancel(t);
        }
        let (site, scope, in_retry) = (lg.site, lg.scope, lg.in_retry);
        if in_retry {
            let st = &mut self.states[self.sites[site].state(scope)];
            st.retries_active -= 1;
        }
        let mut outcome = outcome;
        let mut failover = None;
        let s = &mut self.sites[site];
        if !outcome.is_success() {
            let served = match s.policy.fallback {
                None => false,
                Some(FallbackConfig::Static) => true,
                Some(FallbackConfig::Cache { hit_ratio }) => s.rng.random::<f64>() < hit_ratio,
                Some(FallbackConfig::Failover { .. }) => {
                    failover = self.logicals.get(l).call.and_then(|c| self.plan.calls[c].failover);
                    false
                }
            };
            if served {
                outcome = Outcome::Degraded;
            }
            if served || failover.is_some() {
                let b = self.bucket(now);
                let s = &mut self.sites[site];
                s.stats.fallbacks += 1;
                if s.tracked {
                    s.stats.series[b].fallbacks += 1;
                }
            }
        }
        loop {
            let lg = self.logicals.get(l);
            if lg.n_out == 0 {
                break;
            }
            let r = lg.out[0];
            self.answer(sched, r, cancel);
        }
        let lg = self.logicals.get(l);
        let (owner, issued, call, caller_instance, criticality) =
            (lg.owner, lg.issued_at, lg.call, lg.caller_instance, lg.criticality);
        let answer = ClientAnswer {
            issued,
            outcome,
            service: lg.service,
            version: lg.version,
            flags: if outcome.is_success() { lg.flags } else { 0 },
        };
        self.logicals.release(l);
        match owner {
            Owner::Client { client, flow } => self.client_answered(sched, client, flow, answer),
            Owner::Probe { inst, seq, kind } => {
                self.on_probe_call_done(sched, inst, seq, kind, outcome.is_success())
            }
            Owner::HealthCheck { inst, seq } => self.health_result(inst, seq, outcome.is_success()),
            Owner::Parent { req: p, seq } => {
                let call = call.expect("a parent's logical request is a call");
                let edge = self.plan.calls[call].edge as usize;
                let still_wanted = self.reqs.find(p).is_some_and(|q| !q.server_done && q.step_seq == seq);
                let stats = &mut self.edges[edge];
                if !still_wanted {
                    stats.outcomes.add(Outcome::Cancelled);
                    return;
                }
                stats.outcomes.add(outcome);
                if outcome.is_success() {
                    stats.latency_ok.record(now.since(issued).as_nanos());
                }
                let Some(failover) = failover else {
                    return self.on_call_answered(sched, p, seq, outcome.is_success());
                };
                // The caller tries the other provider; its answer is the call's answer.
                let f = &self.plan.calls[failover];
                let (target, timeout, f_edge) = ((f.service, f.endpoint, criticality), f.timeout, f.edge);
                self.edges[f_edge as usize].calls += 1;
                let parent = self.reqs.get(p);
                let parent_deadline = (parent.deadline, parent.deadline_clock);
                let site = self.edge_site(f_edge);
                self.start_logical(
                    sched,
                    LogicalStart {
                        owner: Owner::Parent { req: p, seq },
                        target,
                        site,
                        scope,
                        call: Some(failover),
                        caller_instance,
                        timeout,
                        parent_deadline,
                    },
                );
            }
        }
    }

    /// The policy figures of each site, with breakers closed at `end`.
    pub(super) fn policy_outputs(&mut self, end: SimTime) -> Vec<PolicyOutput> {
        for k in 0..self.breakers.len() {
            self.breakers[k].breaker.advance(end);
            self.sync_breaker(k);
            self.account_breaker(k, end);
        }
        let mut out: Vec<PolicyOutput> =
            self.sites.iter_mut().map(|s| std::mem::take(&mut s.stats)).collect();
        for slot in &self.breakers {
            let o = &mut out[slot.site.idx()];
            let b = o.breaker.get_or_insert_with(BreakerOutput::default);
            b.breakers += 1;
            b.opens += slot.breaker.opens();
            for (t, x) in b.state_ns.iter_mut().zip(slot.state_ns) {
                *t += x;
            }
        }
        out
    }
}

/// Splits `[from, to)` (ns) over time buckets of `bucket_ns`, the last bucket taking any
/// overflow, calling `add(bucket, ns)` for each overlap.
pub(super) fn spread(from: u64, to: u64, bucket_ns: u64, n_buckets: usize, mut add: impl FnMut(usize, u64)) {
    let last = n_buckets - 1;
    let mut t = from;
    while t < to {
        let b = ((t / bucket_ns) as usize).min(last);
        let end = if b == last { to } else { ((b as u64 + 1) * bucket_ns).min(to) };
        add(b, end - t);
        t = end;
    }
}
