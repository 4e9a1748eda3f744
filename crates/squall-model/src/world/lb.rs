//! The balancer's view of its endpoints' health (Envoy): passive outlier detection, the
//! panic threshold and slow start. A service's balancer is one view shared by all its
//! callers.
//!
//! Outlier detection: every answer an instance gives its caller (served, refused at the
//! instance, reset, or timed out by the caller while the instance held it) is a result for
//! that instance's host ([`host_result`]); a sweep runs every `interval`. The hosts are the
//! balancer's endpoints: an instance joins the detector when it enters them and leaves when
//! it leaves them (a returning instance starts fresh, as a new host does in Envoy), and
//! `max_ejection_percent` counts the endpoints present. An instance's host index is its
//! ordinal, which is never reused.
//!
//! The balancer picks among `eligible`: the endpoints not ejected or, when fewer than
//! `healthy_panic_threshold` percent of them are healthy, all of them (panic mode). The list
//! is rebuilt only when the endpoints or the ejections change, and traffic-routed splits and
//! consistent-hash tables are built over it.
//!
//! Active health checks: each endpoint is checked every `interval` (a check like a probe's:
//! the process, a dependency, or the queue) from when it joins the endpoints; it is not
//! eligible until its first check passes, then `unhealthy_threshold` failures in a row take
//! it out and `healthy_threshold` successes bring it back. Panic mode counts it as any
//! unhealthy host.
//!
//! Slow start: an endpoint that joined at `t` has weight `SlowStart::weight_factor(now, t)`
//! until `t + window`; the fleet of the start does not ramp. While some endpoint ramps, the
//! balancer picks by a weighted draw from its own stream: `RoundRobin` and `Random` by
//! weight, `LeastOutstanding` by `weight / (outstanding + 1)` (Envoy's least request with
//! unequal weights and `active_request_bias` 1). Envoy schedules both by earliest deadline
//! first over the same weights; a draw gives the same shares without a schedule to rebuild
//! as the weights move. Once no endpoint ramps, the plain algorithm resumes.

use super::*;
use crate::config::ServiceConfig;
use squall_policy::{HostIndex, HostResult, OutlierDetector, SlowStart};

/// An endpoint's active health-check state.
#[derive(Default)]
pub(super) struct HcState {
    /// In the endpoints, so being checked.
    pub joined: bool,
    /// Bumped when it joins or leaves, so checks of an earlier stay are ignored.
    pub seq: u32,
    pub in_flight: bool,
    /// A first check has passed since it joined.
    pub checked: bool,
    pub healthy: bool,
    /// The current run of results: (ok, length).
    pub run: (bool, u32),
}

/// A service's balancer health state.
pub(super) struct LbHealth {
    pub outlier: Option<OutlierDetector>,
    /// Draws for enforcing percentages strictly between 0 and 100.
    rng: Option<StreamRng>,
    /// The detector's change count `eligible` reflects.
    changes: u64,
    /// Active health checking, if configured.
    pub hc: Option<crate::config::HealthCheckConfig>,
    /// With outlier detection or health checks: the endpoints the balancer picks among, in
    /// index order.
    pub eligible: Vec<InstanceId>,
    /// Fewer than `panic_threshold` percent of the endpoints are healthy.
    pub panic: bool,
    panic_threshold: u32,
    pub slow_start: Option<SlowStart>,
    /// No endpoint ramps from then on.
    pub ramp_until: SimTime,
}

impl LbHealth {
    pub fn new(sc: &ServiceConfig, seed: u64) -> LbHealth {
        let h = &sc.lb;
        let outlier = h.outlier_detection.filter(|_| !sc.queue.shared);
        let ramps = matches!(
            sc.balancer,
            BalancerKind::RoundRobin | BalancerKind::Random | BalancerKind::LeastOutstanding
        );
        LbHealth {
            outlier: outlier.map(OutlierDetector::empty),
            rng: outlier.map(|_| stream(seed, &format!("services/{}/outlier", sc.name))),
            changes: 0,
            hc: h.health_check.clone().filter(|_| !sc.queue.shared),
            eligible: Vec::new(),
            panic: false,
            panic_threshold: h.healthy_panic_threshold,
            slow_start: h.slow_start.filter(|_| ramps).map(SlowStart::new),
            ramp_until: SimTime::ZERO,
        }
    }
}

/// How outlier detection classifies an answer an instance gave, by the HTTP status each
/// outcome stands for (Envoy's default mode):
/// - `Ok`, `Degraded`: success;
/// - `ServerError` (500): a 5xx;
/// - `ConnectionReset`, `NoEndpoint` (the instance is down: a connect failure) and `Timeout`
///   (the caller's timeout while the instance held the request): locally-originated
///   failures, which count as gateway failures (503/504);
/// - `Shed` and `QueueFull`: the instance answered 503, a gateway failure, so overloaded
///   instances get ejected, as in Envoy;
/// - `RateLimited` (429), `Unsupported` (404) and `DeadlineExceeded` (a gRPC status, carried
///   by an HTTP 200): not 5xx, so successes;
/// - `Cancelled` (the caller no longer wants it) and the caller-side refusals: no result.
pub(super) fn host_result(o: Outcome) -> Option<HostResult> {
    Some(match o {
        Outcome::Ok | Outcome::Degraded => HostResult::Success,
        Outcome::RateLimited | Outcome::Unsupported | Outcome::DeadlineExceeded => HostResult::Success,
        Outcome::ServerError => HostResult::ServerError,
        Outcome::ConnectionReset | Outcome::NoEndpoint | Outcome::Timeout => HostResult::GatewayFailure,
        Outcome::Shed | Outcome::QueueFull => HostResult::GatewayFailure,
        Outcome::Cancelled | Outcome::BulkheadFull | Outcome::CircuitOpen | Outcome::Throttled => {
            return None
        }
    })
}

impl World {
    /// The set the balancer of `s` picks among: `eligible` with outlier detection, else the
    /// endpoints.
    pub(super) fn lb_pool(&self, s: ServiceId) -> &[InstanceId] {
        let svc = &self.services[s];
        if svc.health.outlier.is_some() || svc.health.hc.is_some() {
            &svc.health.eligible
        } else {
            &svc.endpoints
        }
    }

    /// `inst` enters (or leaves) its service's endpoints: it joins (or leaves) the outlier
    /// detector's hosts, and starts its slow-start ramp.
    pub(super) fn lb_membership(&mut self, now: SimTime, inst: InstanceId, add: bool) {
        let i = &self.instances[inst];
        let (s, host) = (i.service, HostIndex(i.ordinal));
        let h = &mut self.services[s].health;
        if let Some(d) = h.outlier.as_mut() {
            if add {
                d.add_host(host);
            } else {
                d.remove_host(host);
            }
        }
        let checked = h.hc.is_some();
        if let (true, Some(ss)) = (add, h.slow_start) {
            h.ramp_until = h.ramp_until.max(now.saturating_add(ss.window()));
            self.instances[inst].ramp_from = Some(now);
        }
        if checked {
            let hc = &mut self.instances[inst].hc;
            hc.seq += 1;
            hc.in_flight = false;
            hc.healthy = false;
            hc.checked = false;
            hc.run = (false, 0);
            hc.joined = add;
        }
    }

    /// Starts the health checks of an endpoint that joined: the first one at once.
    pub(super) fn start_health_checks(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId) {
        let i = &self.instances[inst];
        if self.services[i.service].health.hc.is_none() || !i.hc.joined {
            return;
        }
        let seq = i.hc.seq;
        sched.after(SimDuration::ZERO, Event::HealthCheck { inst, seq });
    }

    /// A health check of `inst` is due: sent, and the next one scheduled.
    pub(super) fn on_health_check(&mut self, sched: &mut Scheduler<Event>, inst: InstanceId, seq: u32) {
        let i = &self.instances[inst];
        let s = i.service;
        let Some(cfg) = self.services[s].health.hc.clone() else { return };
        if i.hc.seq != seq || !i.hc.joined {
            return;
        }
        sched.after(cfg.interval, Event::HealthCheck { inst, seq });
        if i.hc.in_flight {
            return;
        }
        let up = i.phase == fleet::Phase::Running && !self.faults.is_down(inst);
        self.instances[inst].hc.in_flight = true;
        match cfg.check {
            crate::config::ProbeCheck::Process => self.health_result(inst, seq, up),
            crate::config::ProbeCheck::QueueBelow(n) => {
                let q = self.instances[inst].queue.items.len() as u64;
                self.health_result(inst, seq, up && q < u64::from(n));
            }
            crate::config::ProbeCheck::Dependency { service, endpoint } => {
                if !up {
                    return self.health_result(inst, seq, false);
                }
                let site = self.probe_site();
                let owner = logical::Owner::HealthCheck { inst, seq };
                let target = (service, endpoint, Criticality::CriticalPlus);
                self.start_logical(sched, LogicalStart::outside(owner, target, site, Some(cfg.timeout)));
            }
        }
    }

    /// Whether a health check's call is still awaited.
    pub(super) fn health_check_wanted(&self, inst: InstanceId, seq: u32) -> bool {
        let hc = &self.instances[inst].hc;
        hc.seq == seq && hc.in_flight
    }

    /// A health check of `inst` ended with `ok`: the host's health may change.
    pub(super) fn health_result(&mut self, inst: InstanceId, seq: u32, ok: bool) {
        if !self.health_check_wanted(inst, seq) {
            return;
        }
        let s = self.instances[inst].service;
        let cfg = self.services[s].health.hc.clone().expect("health checks are configured");
        let hc = &mut self.instances[inst].hc;
        hc.in_flight = false;
        hc.run = if hc.run.0 == ok { (ok, hc.run.1.saturating_add(1)) } else { (ok, 1) };
        let was = hc.healthy;
        if ok && (!hc.checked || hc.run.1 >= cfg.healthy_threshold) {
            hc.healthy = true;
        }
        if !ok && hc.checked && hc.run.1 >= cfg.unhealthy_threshold {
            hc.healthy = false;
        }
        hc.checked |= ok;
        if hc.healthy != was {
            if !hc.healthy {
                self.services[s].fleet.health_check_failures += 1;
            }
            self.refresh_eligible(s);
            self.refresh_split(s);
            self.refresh_hash(s);
        }
    }

    /// Rebuilds the eligible endpoints of `s` from its endpoints and ejections.
    pub(super) fn refresh_eligible(&mut self, s: ServiceId) {
        let svc = &mut self.services[s];
        let h = &mut svc.health;
        if h.outlier.is_none() && h.hc.is_none() {
            return;
        }
        if let Some(d) = &h.outlier {
            h.changes = d.changes();
        }
        if let Some(indexes) = svc.least.as_mut() {
            indexes.iter_mut().for_each(least::LeastIndex::invalidate);
        }
        h.eligible.clear();
        for &i in &svc.endpoints {
            let inst = &self.instances[i];
            let ejected = h.outlier.as_ref().is_some_and(|d| d.is_ejected(HostIndex(inst.ordinal)));
            let failing = h.hc.is_some() && !inst.hc.healthy;
            if !ejected && !failing {
                h.eligible.push(i);
            }
        }
        let total = svc.endpoints.len() as u64;
        h.panic = 100 * (h.eligible.len() as u64) < u64::from(h.panic_threshold) * total;
        if h.panic {
            h.eligible.clear();
            h.eligible.extend_from_slice(&svc.endpoints);
        }
    }

    /// After the detector of `s` may have changed: rebuilds what the balancer picks among.
    fn outlier_changed(&mut self, s: ServiceId) {
        let h = &self.services[s].health;
        if h.outlier.as_ref().is_some_and(|d| d.changes() != h.changes) {
            self.refresh_eligible(s);
            self.refresh_split(s);
            self.refresh_hash(s);
        }
    }

    /// An instance the balancer of `service` picked answered its caller with `outcome`.
    pub(super) fn lb_result(&mut self, now: SimTime, service: ServiceId, inst: InstanceId, outcome: Outcome) {
        let s = service;
        if self.services[s].health.outlier.is_none() {
            return;
        }
        let Some(result) = host_result(outcome) else { return };
        let host = HostIndex(self.instances[inst].ordinal);
        let h = &mut self.services[s].health;
        let (Some(d), Some(rng)) = (h.outlier.as_mut(), h.rng.as_mut()) else { return };
        d.on_result(now, host, result, &mut || rng.random::<f64>());
        self.outlier_changed(service);
    }

    /// The outlier detector's interval timer for `service`.
    pub(super) fn on_outlier_sweep(&mut self, sched: &mut Scheduler<Event>, service: ServiceId) {
        let h = &mut self.services[service].health;
        let (Some(d), Some(rng)) = (h.outlier.as_mut(), h.rng.as_mut()) else { return };
        d.sweep(sched.now(), &mut || rng.random::<f64>());
        let interval = d.config().interval;
        self.outlier_changed(service);
        sched.after(interval, Event::OutlierSweep { service });
    }

    /// Schedules the first sweep of every service with outlier detection.
    pub(super) fn start_outlier_sweeps(&mut self, sched: &mut Scheduler<Event>) {
        for (service, svc) in self.services.iter_enumerated() {
            if let Some(d) = &svc.health.outlier {
                sched.at(SimTime::ZERO + d.config().interval, Event::OutlierSweep { service });
            }
        }
    }

    /// Slow-start weight of `inst` at `now`, divided by its requests assigned plus one for
    /// a least-outstanding balancer.
    fn lb_weight(&self, ss: &SlowStart, inst: InstanceId, now: SimTime, least: bool) -> f64 {
        let i = &self.instances[inst];
        let w = match i.ramp_from {
            Some(t) if now.since(t) < ss.window() => ss.weight_factor(now, t),
            _ => 1.0,
        };
        if least {
            w / (f64::from(i.outstanding) + 1.0)
        } else {
            w
        }
    }

    /// The weighted pick (index into `pool`) while some endpoint of `service` is in slow
    /// start; `None` when none is, or the balancer does not ramp.
    pub(super) fn slow_start_pick(
        &mut self,
        service: ServiceId,
        pool: &[InstanceId],
        now: SimTime,
    ) -> Option<u32> {
        let h = &self.services[service].health;
        let ss = h.slow_start?;
        if now >= h.ramp_until {
            return None;
        }
        let least = self.services[service].balancer == BalancerKind::LeastOutstanding;
        let total: f64 = pool.iter().map(|&i| self.lb_weight(&ss, i, now, least)).sum();
        let mut u = self.services[service].lb_rng.random::<f64>() * total;
        for (k, &i) in pool.iter().enumerate() {
            u -= self.lb_weight(&ss, i, now, least);
            if u < 0.0 {
                return Some(k as u32);
            }
        }
        Some(pool.len() as u32 - 1)
    }

    /// Copies the detector's counters into the fleet output.
    pub(super) fn close_outlier(&mut self) {
        for svc in &mut self.services {
            if let Some(d) = &svc.health.outlier {
                let st = d.stats();
                svc.fleet.ejections = st.ejections_enforced.iter().sum();
                svc.fleet.ejections_detected = st.ejections_detected.iter().sum();
                svc.fleet.ejections_overflow = st.ejections_overflow;
            }
        }
    }
}
