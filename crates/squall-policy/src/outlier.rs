//! Envoy passive outlier detection over a cluster's hosts (`outlier_detection.proto`,
//! `outlier.rst`; source `outlier_detection_impl.cc` and its tests; the admission rule of
//! PR #27909).
//!
//! The engine reports every response with [`OutlierDetector::on_result`] and calls
//! [`OutlierDetector::sweep`] every `interval` (Envoy's interval timer, re-armed after each
//! sweep). The balancer skips hosts for which [`OutlierDetector::is_ejected`] holds (unless it
//! is in panic mode, which is its business).
//!
//! Results ([`HostResult`], default mode, `split_external_local_origin_errors: false`):
//! a 5xx increments `consecutive_5xx`; a 502/503/504 also increments
//! `consecutive_gateway_failure`, any other 5xx resets it; a locally-originated failure
//! (connect failure, timeout, reset) is mapped to 503/504 and counts as a gateway failure; any
//! non-5xx response resets both and counts as a success. Every result counts in the host's
//! success-rate bucket for the current interval.
//!
//! Detection and ejection:
//! - Consecutive: when a counter reaches its threshold exactly (a threshold of 0 never fires),
//!   the host is detected at once, unless it is already ejected, and the counter is reset
//!   whether or not the host is ejected. Gateway failure is checked before 5xx.
//! - At each sweep, in this order: every ejected host whose ejection has lasted at least
//!   `min(base_ejection_time · backoff, max(max_ejection_time, base_ejection_time))` is
//!   un-ejected and its consecutive counters reset, and every host that is not ejected has its
//!   `backoff` decremented (floor 0); then the success-rate buckets swap, so detection sees
//!   exactly the interval that just ended; then success rate, then failure percentage.
//! - Success rate: hosts not ejected with at least `success_rate_request_volume` requests in
//!   the previous interval qualify; with at least `success_rate_minimum_hosts` of them, `mean`
//!   and population `stdev` of their success percentages give the threshold
//!   `mean − (success_rate_stdev_factor / 1000) · stdev`, and hosts strictly below it are
//!   detected. Example: {50, 100, 100, 100, 100} → mean 90, stdev 20, threshold 52.
//! - Failure percentage: same, with `failure_percentage_request_volume` and
//!   `failure_percentage_minimum_hosts`; a host is detected if `100 − success% ≥
//!   failure_percentage_threshold`. A host already ejected by success rate in the same sweep
//!   is skipped.
//! - A detected host is ejected only if `100·(ejected + 1) ≤ max_ejection_percent · hosts`
//!   (capped at 100 %), or `always_eject_one_host` holds and none is ejected; otherwise it is an
//!   overflow. Then the matching `enforcing_*` percentage decides (Envoy's runtime
//!   `featureEnabled`, `random % 100 < percent`): 100 always ejects, 0 never does, and values in
//!   between consume one uniform draw `u ∈ [0, 1)` from the caller (ejected iff
//!   `u · 100 < percent`). On ejection `backoff` increments if
//!   `backoff · base < max + base`, so with the defaults durations go 30 s, 60 s, …, 300 s.
//! - [`OutlierDetector::on_health_check_passed`] un-ejects at once
//!   (`successful_active_health_check_uneject_host`, default true).
//!
//! Hosts come and go ([`OutlierDetector::add_host`], [`OutlierDetector::remove_host`]): as in
//! Envoy, a host that leaves the cluster takes its monitor with it (an ejected one frees its
//! ejection slot), one that joins starts fresh, and `max_ejection_percent` counts the hosts in
//! the cluster now. Results for a host not in the cluster are ignored.
//!
//! Sweeps visit hosts in index order (Envoy iterates a map keyed by host pointer, so which of
//! several same-sweep outliers wins the last ejection slot is unspecified there).
//! Not modelled: `split_external_local_origin_errors` and the local-origin detectors,
//! `max_ejection_time_jitter` (default 0) and runtime overrides.

use squall_kernel::{SimDuration, SimTime};

use crate::hashing::HostIndex;

/// Envoy `OutlierDetection` settings (names and defaults of the proto).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OutlierConfig {
    /// `consecutive_5xx` (5); 0 disables the detector.
    pub consecutive_5xx: u32,
    /// `enforcing_consecutive_5xx`, percent (100).
    pub enforcing_consecutive_5xx: u32,
    /// `consecutive_gateway_failure` (5); 0 disables the detector.
    pub consecutive_gateway_failure: u32,
    /// `enforcing_consecutive_gateway_failure`, percent (0: detect only).
    pub enforcing_consecutive_gateway_failure: u32,
    /// `interval` between sweeps (10 s); the caller's sweep period.
    pub interval: SimDuration,
    /// `base_ejection_time` (30 s).
    pub base_ejection_time: SimDuration,
    /// `max_ejection_time` (300 s; `base_ejection_time` if that is larger).
    pub max_ejection_time: SimDuration,
    /// `max_ejection_percent` (10), capped at 100.
    pub max_ejection_percent: u32,
    /// `always_eject_one_host` (false).
    pub always_eject_one_host: bool,
    /// `success_rate_minimum_hosts` (5).
    pub success_rate_minimum_hosts: u32,
    /// `success_rate_request_volume` (100).
    pub success_rate_request_volume: u32,
    /// `success_rate_stdev_factor`, thousandths (1900 → 1.9).
    pub success_rate_stdev_factor: u32,
    /// `enforcing_success_rate`, percent (100).
    pub enforcing_success_rate: u32,
    /// `failure_percentage_threshold`, percent (85).
    pub failure_percentage_threshold: u32,
    /// `enforcing_failure_percentage`, percent (0: detect only).
    pub enforcing_failure_percentage: u32,
    /// `failure_percentage_minimum_hosts` (5).
    pub failure_percentage_minimum_hosts: u32,
    /// `failure_percentage_request_volume` (50).
    pub failure_percentage_request_volume: u32,
}

impl Default for OutlierConfig {
    fn default() -> Self {
        OutlierConfig {
            consecutive_5xx: 5,
            enforcing_consecutive_5xx: 100,
            consecutive_gateway_failure: 5,
            enforcing_consecutive_gateway_failure: 0,
            interval: SimDuration::from_secs(10),
            base_ejection_time: SimDuration::from_secs(30),
            max_ejection_time: SimDuration::from_secs(300),
            max_ejection_percent: 10,
            always_eject_one_host: false,
            success_rate_minimum_hosts: 5,
            success_rate_request_volume: 100,
            success_rate_stdev_factor: 1900,
            enforcing_success_rate: 100,
            failure_percentage_threshold: 85,
            enforcing_failure_percentage: 0,
            failure_percentage_minimum_hosts: 5,
            failure_percentage_request_volume: 50,
        }
    }
}

/// What a host answered, as outlier detection classifies it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HostResult {
    /// Any response that is not a 5xx.
    Success,
    /// A 5xx other than 502, 503 or 504.
    ServerError,
    /// A 502, 503 or 504, or a locally-originated failure (connect failure, timeout, reset),
    /// which default mode maps to 503/504.
    GatewayFailure,
}

/// Why a host was detected (Envoy's `OutlierEjectionType`, external-origin kinds).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum EjectionKind {
    /// `CONSECUTIVE_5XX`.
    Consecutive5xx,
    /// `CONSECUTIVE_GATEWAY_FAILURE`.
    ConsecutiveGatewayFailure,
    /// `SUCCESS_RATE`.
    SuccessRate,
    /// `FAILURE_PERCENTAGE`.
    FailurePercentage,
}

impl EjectionKind {
    /// Index into per-kind counters.
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Envoy's `outlier_detection.*` counters.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct OutlierStats {
    /// `ejections_detected_*`, by [`EjectionKind::index`]: detections, ejected or not.
    pub ejections_detected: [u64; 4],
    /// `ejections_enforced_*`, by [`EjectionKind::index`].
    pub ejections_enforced: [u64; 4],
    /// `ejections_overflow`: detections refused by `max_ejection_percent`.
    pub ejections_overflow: u64,
}

#[derive(Copy, Clone, Debug, Default)]
struct Bucket {
    n_total: u64,
    n_success: u64,
}

#[derive(Clone, Debug, Default)]
struct HostMonitor {
    /// In the cluster now.
    active: bool,
    consecutive_5xx: u32,
    consecutive_gateway_failure: u32,
    /// Results of the current interval.
    current: Bucket,
    /// Results of the interval that ended at the last sweep.
    previous: Bucket,
    /// When the current ejection began.
    ejected_at: Option<SimTime>,
    /// Envoy's `eject_time_backoff_`: the multiplier of `base_ejection_time`.
    backoff: u32,
    /// Envoy's `num_ejections_`: ejections ever.
    num_ejections: u64,
}

/// Envoy's outlier detector for one cluster.
#[derive(Clone, Debug)]
pub struct OutlierDetector {
    config: OutlierConfig,
    hosts: Vec<HostMonitor>,
    /// Hosts in the cluster now.
    n_active: u32,
    n_ejected: u32,
    /// Ejections, un-ejections and host-set changes so far.
    changes: u64,
    stats: OutlierStats,
    /// Success percentages of the hosts that qualified at a sweep (allocated once).
    scratch: Vec<(HostIndex, f64)>,
    now: SimTime,
}

impl OutlierDetector {
    /// A detector over `n_hosts` hosts, none ejected.
    ///
    /// # Panics
    /// If `n_hosts` is 0 or the config has a zero `interval` or `base_ejection_time`, or an
    /// `enforcing_*` percentage above 100.
    pub fn new(config: OutlierConfig, n_hosts: u32) -> Self {
        assert!(n_hosts >= 1, "outlier detection needs at least one host");
        let mut d = Self::empty(config);
        d.hosts = vec![HostMonitor { active: true, ..HostMonitor::default() }; n_hosts as usize];
        d.n_active = n_hosts;
        d.scratch.reserve(n_hosts as usize);
        d
    }

    /// A detector over no hosts yet: hosts join with [`OutlierDetector::add_host`].
    ///
    /// # Panics
    /// If the config has a zero `interval` or `base_ejection_time`, or an `enforcing_*`
    /// percentage above 100.
    pub fn empty(config: OutlierConfig) -> Self {
        assert!(config.interval > SimDuration::ZERO, "interval must be positive");
        assert!(config.base_ejection_time > SimDuration::ZERO, "base_ejection_time must be positive");
        for p in [
            config.enforcing_consecutive_5xx,
            config.enforcing_consecutive_gateway_failure,
            config.enforcing_success_rate,
            config.enforcing_failure_percentage,
        ] {
            assert!(p <= 100, "enforcing percentage {p} above 100");
        }
        OutlierDetector {
            config,
            hosts: Vec::new(),
            n_active: 0,
            n_ejected: 0,
            changes: 0,
            stats: OutlierStats::default(),
            scratch: Vec::new(),
            now: SimTime::ZERO,
        }
    }

    /// `host` joins the cluster, with a fresh monitor (not ejected, no back-off). Indices
    /// need not be dense: the slots below `host` that never joined stay out of the cluster.
    ///
    /// # Panics
    /// If `host` is in the cluster already.
    pub fn add_host(&mut self, host: HostIndex) {
        let h = host.index();
        if h >= self.hosts.len() {
            self.hosts.resize(h + 1, HostMonitor::default());
        }
        assert!(!self.hosts[h].active, "host {host:?} added twice");
        self.hosts[h] = HostMonitor { active: true, ..HostMonitor::default() };
        self.n_active += 1;
        self.changes += 1;
        if self.scratch.capacity() < self.n_active as usize {
            self.scratch.reserve(self.n_active as usize - self.scratch.len());
        }
    }

    /// `host` leaves the cluster: un-ejected if it was ejected, its monitor dropped.
    ///
    /// # Panics
    /// If `host` is not in the cluster.
    pub fn remove_host(&mut self, host: HostIndex) {
        assert!(self.is_active(host), "host {host:?} removed while not in the cluster");
        if self.is_ejected(host) {
            self.uneject(host);
        }
        self.hosts[host.index()] = HostMonitor::default();
        self.n_active -= 1;
        self.changes += 1;
    }

    /// Whether `host` is in the cluster.
    pub fn is_active(&self, host: HostIndex) -> bool {
        self.hosts.get(host.index()).is_some_and(|m| m.active)
    }

    /// Ejections, un-ejections and host-set changes so far: the caller's cue that the set
    /// of hosts to balance over has changed.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// The configuration.
    pub fn config(&self) -> &OutlierConfig {
        &self.config
    }

    /// Number of hosts in the cluster.
    pub fn n_hosts(&self) -> u32 {
        self.n_active
    }

    /// Number of hosts ejected now.
    pub fn n_ejected(&self) -> u32 {
        self.n_ejected
    }

    /// Whether `host` is ejected.
    ///
    /// # Panics
    /// If `host` is out of range.
    pub fn is_ejected(&self, host: HostIndex) -> bool {
        self.monitor(host).ejected_at.is_some()
    }

    /// How many times `host` has been ejected.
    ///
    /// # Panics
    /// If `host` is out of range.
    pub fn num_ejections(&self, host: HostIndex) -> u64 {
        self.monitor(host).num_ejections
    }

    /// How long `host`'s current (or next) ejection lasts before the sweep that ends it:
    /// `min(base · backoff, max(max, base))`.
    ///
    /// # Panics
    /// If `host` is out of range.
    pub fn ejection_time(&self, host: HostIndex) -> SimDuration {
        let c = &self.config;
        let max = c.max_ejection_time.max(c.base_ejection_time);
        SimDuration(c.base_ejection_time.0.saturating_mul(u64::from(self.monitor(host).backoff)).min(max.0))
    }

    /// Counters so far.
    pub fn stats(&self) -> &OutlierStats {
        &self.stats
    }

    fn monitor(&self, host: HostIndex) -> &HostMonitor {
        assert!(host.index() < self.hosts.len(), "host {host:?} out of range ({} hosts)", self.hosts.len());
        &self.hosts[host.index()]
    }

    fn advance(&mut self, now: SimTime) {
        assert!(now >= self.now, "time went backwards: {now:?} after {:?}", self.now);
        self.now = now;
    }

    /// Records one response of `host` at `now`; returns whether it ejected the host.
    /// `draw` is called only to enforce with a percentage strictly between 0 and 100.
    /// A response of a host that is not in the cluster (any more) is ignored.
    ///
    /// # Panics
    /// If `host` is out of range, `now` is before the previous call's, or a draw is outside
    /// `[0, 1)`.
    pub fn on_result(
        &mut self,
        now: SimTime,
        host: HostIndex,
        result: HostResult,
        draw: &mut impl FnMut() -> f64,
    ) -> bool {
        self.advance(now);
        let c = self.config;
        if !self.monitor(host).active {
            return false;
        }
        let m = &mut self.hosts[host.index()];
        m.current.n_total += 1;
        let (mut gateway_hit, mut server_hit) = (false, false);
        match result {
            HostResult::Success => {
                m.current.n_success += 1;
                m.consecutive_5xx = 0;
                m.consecutive_gateway_failure = 0;
            }
            HostResult::ServerError | HostResult::GatewayFailure => {
                if result == HostResult::GatewayFailure {
                    m.consecutive_gateway_failure += 1;
                    gateway_hit = m.consecutive_gateway_failure == c.consecutive_gateway_failure;
                } else {
                    m.consecutive_gateway_failure = 0;
                }
                m.consecutive_5xx += 1;
                server_hit = m.consecutive_5xx == c.consecutive_5xx;
            }
        }
        let mut ejected = false;
        if gateway_hit && !self.is_ejected(host) {
            ejected |= self.detect(now, host, EjectionKind::ConsecutiveGatewayFailure, draw);
            self.hosts[host.index()].consecutive_gateway_failure = 0;
        }
        if server_hit && !self.is_ejected(host) {
            ejected |= self.detect(now, host, EjectionKind::Consecutive5xx, draw);
            self.hosts[host.index()].consecutive_5xx = 0;
        }
        ejected
    }

    /// The `interval` timer: un-ejects hosts whose time is up, decays back-offs, and runs
    /// success-rate and failure-percentage detection over the interval that just ended.
    /// Returns the number of hosts ejected by this sweep.
    ///
    /// # Panics
    /// If `now` is before the previous call's, or a draw is outside `[0, 1)`.
    pub fn sweep(&mut self, now: SimTime, draw: &mut impl FnMut() -> f64) -> u32 {
        self.advance(now);
        for h in 0..self.hosts.len() {
            if !self.hosts[h].active {
                continue;
            }
            let time = self.ejection_time(HostIndex(h as u32));
            let m = &mut self.hosts[h];
            match m.ejected_at {
                None => m.backoff = m.backoff.saturating_sub(1),
                Some(at) => {
                    debug_assert!(m.num_ejections > 0, "host {h} ejected without an ejection");
                    if now.since(at) >= time {
                        self.uneject(HostIndex(h as u32));
                    }
                }
            }
            let m = &mut self.hosts[h];
            m.previous = std::mem::take(&mut m.current);
        }
        let before = self.n_ejected_total();
        self.success_rate(now, draw);
        self.failure_percentage(now, draw);
        (self.n_ejected_total() - before) as u32
    }

    /// An active health check passed: un-eject `host` at once, if ejected.
    ///
    /// # Panics
    /// If `host` is out of range or `now` is before the previous call's.
    pub fn on_health_check_passed(&mut self, now: SimTime, host: HostIndex) {
        self.advance(now);
        if self.is_ejected(host) {
            self.uneject(host);
        }
    }

    fn n_ejected_total(&self) -> u64 {
        self.stats.ejections_enforced.iter().sum()
    }

    fn uneject(&mut self, host: HostIndex) {
        let m = &mut self.hosts[host.index()];
        assert!(m.ejected_at.is_some(), "host {host:?} un-ejected while not ejected");
        m.ejected_at = None;
        m.consecutive_5xx = 0;
        m.consecutive_gateway_failure = 0;
        assert!(self.n_ejected >= 1, "ejected count underflow");
        self.n_ejected -= 1;
        self.changes += 1;
    }

    fn success_rate(&mut self, now: SimTime, draw: &mut impl FnMut() -> f64) {
        let c = self.config;
        self.collect(u64::from(c.success_rate_request_volume));
        if self.scratch.is_empty() || self.scratch.len() < c.success_rate_minimum_hosts as usize {
            return;
        }
        let threshold =
            success_rate_threshold(&self.scratch, f64::from(c.success_rate_stdev_factor) / 1000.0);
        for i in 0..self.scratch.len() {
            let (host, sr) = self.scratch[i];
            if sr < threshold {
                self.detect(now, host, EjectionKind::SuccessRate, draw);
            }
        }
    }

    fn failure_percentage(&mut self, now: SimTime, draw: &mut impl FnMut() -> f64) {
        let c = self.config;
        self.collect(u64::from(c.failure_percentage_request_volume));
        if self.scratch.is_empty() || self.scratch.len() < c.failure_percentage_minimum_hosts as usize {
            return;
        }
        for i in 0..self.scratch.len() {
            let (host, sr) = self.scratch[i];
            if 100.0 - sr >= f64::from(c.failure_percentage_threshold) {
                self.detect(now, host, EjectionKind::FailurePercentage, draw);
            }
        }
    }

    /// Fills `scratch` with the success percentage of every host not ejected with at least
    /// `volume` (and at least one) requests in the previous interval.
    fn collect(&mut self, volume: u64) {
        self.scratch.clear();
        for (h, m) in self.hosts.iter().enumerate() {
            let b = m.previous;
            if m.active && m.ejected_at.is_none() && b.n_total >= volume.max(1) {
                self.scratch.push((HostIndex(h as u32), 100.0 * b.n_success as f64 / b.n_total as f64));
            }
        }
    }

    /// A detected outlier: gate by `max_ejection_percent`, then enforce.
    fn detect(
        &mut self,
        now: SimTime,
        host: HostIndex,
        kind: EjectionKind,
        draw: &mut impl FnMut() -> f64,
    ) -> bool {
        let c = self.config;
        self.stats.ejections_detected[kind.index()] += 1;
        assert!(!self.is_ejected(host), "host {host:?} detected while ejected");
        let max_percent = u64::from(c.max_ejection_percent.min(100));
        let n_hosts = u64::from(self.n_active);
        let admit = 100 * (u64::from(self.n_ejected) + 1) <= max_percent * n_hosts
            || (c.always_eject_one_host && self.n_ejected == 0);
        if !admit {
            self.stats.ejections_overflow += 1;
            return false;
        }
        let enforcing = match kind {
            EjectionKind::Consecutive5xx => c.enforcing_consecutive_5xx,
            EjectionKind::ConsecutiveGatewayFailure => c.enforcing_consecutive_gateway_failure,
            EjectionKind::SuccessRate => c.enforcing_success_rate,
            EjectionKind::FailurePercentage => c.enforcing_failure_percentage,
        };
        if !enforced(enforcing, draw) {
            return false;
        }
        self.stats.ejections_enforced[kind.index()] += 1;
        self.n_ejected += 1;
        self.changes += 1;
        let base = c.base_ejection_time.0;
        let max = c.max_ejection_time.0;
        let m = &mut self.hosts[host.index()];
        m.ejected_at = Some(now);
        m.num_ejections += 1;
        if u128::from(m.backoff) * u128::from(base) < u128::from(max) + u128::from(base) {
            m.backoff += 1;
        }
        true
    }
}

/// Envoy's `featureEnabled(percent)`: 100 and 0 decide without a draw.
fn enforced(percent: u32, draw: &mut impl FnMut() -> f64) -> bool {
    match percent {
        0 => false,
        100.. => true,
        p => {
            let u = draw();
            assert!((0.0..1.0).contains(&u), "draw {u} outside [0, 1)");
            u * 100.0 < f64::from(p)
        }
    }
}

/// `mean − factor · stdev` (population stdev) over the success percentages, as Envoy's
/// `successRateEjectionThreshold` computes it.
fn success_rate_threshold(rates: &[(HostIndex, f64)], factor: f64) -> f64 {
    let n = rates.len() as f64;
    let mean = rates.iter().map(|r| r.1).sum::<f64>() / n;
    let variance = rates.iter().map(|r| (r.1 - mean).powi(2)).sum::<f64>() / n;
    mean - factor * variance.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use HostResult::{GatewayFailure, ServerError, Success};

    fn s(n: u64) -> SimTime {
        SimTime(SimDuration::from_secs(n).0)
    }

    /// A draw for configs that must not need one.
    fn no_draw() -> f64 {
        panic!("no draw expected with enforcing 0 or 100")
    }

    fn hit(d: &mut OutlierDetector, t: SimTime, host: u32, r: HostResult) -> bool {
        d.on_result(t, HostIndex(host), r, &mut no_draw)
    }

    /// `n_ok` successes then `n_err` 5xx for `host`, interleaved so no consecutive run forms.
    fn traffic(d: &mut OutlierDetector, t: SimTime, host: u32, n_ok: u32, n_err: u32) {
        for i in 0..n_ok.max(n_err) {
            if i < n_err {
                hit(d, t, host, ServerError);
            }
            if i < n_ok {
                hit(d, t, host, Success);
            }
        }
    }

    #[test]
    fn consecutive_5xx_ejects_at_the_fifth() {
        let mut d = OutlierDetector::new(OutlierConfig::default(), 10);
        for _ in 0..4 {
            assert!(!hit(&mut d, s(1), 3, ServerError));
        }
        assert!(hit(&mut d, s(1), 3, ServerError), "the fifth 5xx ejects inline");
        assert!(d.is_ejected(HostIndex(3)));
        assert_eq!(d.n_ejected(), 1);
        assert_eq!(d.stats().ejections_enforced[EjectionKind::Consecutive5xx.index()], 1);
        // A second host would make 20 % > 10 %: overflow.
        for _ in 0..5 {
            hit(&mut d, s(1), 4, ServerError);
        }
        assert!(!d.is_ejected(HostIndex(4)));
        assert_eq!(d.stats().ejections_overflow, 1);
    }

    #[test]
    fn a_success_breaks_the_run_and_gateway_failures_count_as_5xx() {
        let mut d = OutlierDetector::new(OutlierConfig::default(), 10);
        for r in [ServerError, ServerError, ServerError, ServerError, Success] {
            hit(&mut d, s(1), 0, r);
        }
        for _ in 0..4 {
            hit(&mut d, s(1), 0, GatewayFailure);
        }
        assert!(!d.is_ejected(HostIndex(0)));
        assert!(hit(&mut d, s(1), 0, GatewayFailure));
        // Gateway failure was detected too (enforcing 0: not ejected by it) and checked first.
        let st = d.stats();
        assert_eq!(st.ejections_detected[EjectionKind::ConsecutiveGatewayFailure.index()], 1);
        assert_eq!(st.ejections_enforced[EjectionKind::ConsecutiveGatewayFailure.index()], 0);
        assert_eq!(st.ejections_enforced[EjectionKind::Consecutive5xx.index()], 1);
    }

    #[test]
    fn nine_hosts_never_eject_with_defaults() {
        let mut d = OutlierDetector::new(OutlierConfig::default(), 9);
        for t in 0..50 {
            for _ in 0..20 {
                hit(&mut d, s(t * 10), 0, ServerError);
            }
            d.sweep(s(t * 10 + 10), &mut no_draw);
        }
        assert_eq!(d.n_ejected(), 0);
        assert_eq!(d.stats().ejections_overflow, 200, "4 detections per 20 errors, 50 times");
        // always_eject_one_host lets the first one go, and only one.
        let config = OutlierConfig { always_eject_one_host: true, ..Default::default() };
        let mut d = OutlierDetector::new(config, 9);
        for h in 0..2 {
            for _ in 0..5 {
                hit(&mut d, s(1), h, ServerError);
            }
        }
        assert!(d.is_ejected(HostIndex(0)));
        assert!(!d.is_ejected(HostIndex(1)));
    }

    #[test]
    fn ejection_ends_at_the_first_sweep_after_its_duration_and_backs_off() {
        let mut d = OutlierDetector::new(OutlierConfig::default(), 10);
        let eject = |d: &mut OutlierDetector, t| {
            for _ in 0..5 {
                hit(d, t, 0, ServerError);
            }
            assert!(d.is_ejected(HostIndex(0)));
        };
        // Ejected at 5 s, sweeps every 10 s: 30 s elapse at 35 s, so it ends at the 40 s sweep.
        eject(&mut d, s(5));
        assert_eq!(d.ejection_time(HostIndex(0)), SimDuration::from_secs(30));
        for t in [10, 20, 30] {
            d.sweep(s(t), &mut no_draw);
            assert!(d.is_ejected(HostIndex(0)), "still ejected at {t} s");
        }
        d.sweep(s(40), &mut no_draw);
        assert!(!d.is_ejected(HostIndex(0)));
        // Ejected again right away: 60 s, ends at the first sweep ≥ 101 s.
        eject(&mut d, s(41));
        assert_eq!(d.ejection_time(HostIndex(0)), SimDuration::from_secs(60));
        for t in (50..=100).step_by(10) {
            d.sweep(s(t), &mut no_draw);
            assert!(d.is_ejected(HostIndex(0)));
        }
        d.sweep(s(110), &mut no_draw);
        assert!(!d.is_ejected(HostIndex(0)));
        // The 110 s sweep un-ejected it without decrementing the back-off (2); one healthy sweep
        // takes it to 1, so the next ejection increments it back to 2: 60 s again.
        d.sweep(s(120), &mut no_draw);
        eject(&mut d, s(121));
        assert_eq!(d.ejection_time(HostIndex(0)), SimDuration::from_secs(60), "backoff 1 + 1");
        assert_eq!(d.num_ejections(HostIndex(0)), 3);
    }

    #[test]
    fn ejection_time_is_capped_by_max_ejection_time() {
        let mut d = OutlierDetector::new(OutlierConfig::default(), 10);
        let mut t = 0;
        for _ in 0..15 {
            for _ in 0..5 {
                hit(&mut d, s(t), 0, ServerError);
            }
            assert!(d.is_ejected(HostIndex(0)));
            while d.is_ejected(HostIndex(0)) {
                t += 10;
                d.sweep(s(t), &mut no_draw);
            }
        }
        assert_eq!(d.ejection_time(HostIndex(0)), SimDuration::from_secs(300));
        // Envoy's back-off stops at 11 (11·30 < 300 + 30 fails), so it takes 11 healthy
        // sweeps to decay fully.
        assert_eq!(d.hosts[0].backoff, 11);
    }

    #[test]
    fn success_rate_threshold_matches_envoys_worked_example() {
        let rates: Vec<(HostIndex, f64)> = [50.0, 100.0, 100.0, 100.0, 100.0]
            .iter()
            .enumerate()
            .map(|(i, &r)| (HostIndex(i as u32), r))
            .collect();
        assert_eq!(success_rate_threshold(&rates, 1.9), 52.0);
        // The same five hosts through the detector (20 % allowed so one may go).
        let config = OutlierConfig { max_ejection_percent: 20, ..Default::default() };
        let mut d = OutlierDetector::new(config, 5);
        traffic(&mut d, s(1), 0, 50, 50);
        for h in 1..5 {
            traffic(&mut d, s(1), h, 100, 0);
        }
        assert_eq!(d.sweep(s(10), &mut no_draw), 1);
        assert!(d.is_ejected(HostIndex(0)));
        assert_eq!(d.stats().ejections_enforced[EjectionKind::SuccessRate.index()], 1);
    }

    #[test]
    fn success_rate_uses_only_the_previous_interval_and_its_volume_gates() {
        let mut d = OutlierDetector::new(OutlierConfig::default(), 10);
        // Ten hosts, one at 50 %: mean 95, stdev 15, threshold 66.5.
        traffic(&mut d, s(1), 0, 50, 50);
        for h in 1..10 {
            traffic(&mut d, s(1), h, 100, 0);
        }
        // Nothing is judged before the interval has ended.
        assert!(!d.is_ejected(HostIndex(0)));
        d.sweep(s(10), &mut no_draw);
        assert!(d.is_ejected(HostIndex(0)));
        // Next interval: only 4 hosts reach 100 requests: fewer than 5, no detection.
        let mut d = OutlierDetector::new(OutlierConfig::default(), 10);
        traffic(&mut d, s(1), 0, 50, 50);
        for h in 1..4 {
            traffic(&mut d, s(1), h, 100, 0);
        }
        for h in 4..10 {
            traffic(&mut d, s(1), h, 99, 0);
        }
        d.sweep(s(10), &mut no_draw);
        assert_eq!(d.n_ejected(), 0);
        // Counts from before the last sweep are forgotten.
        d.sweep(s(20), &mut no_draw);
        assert_eq!(d.stats().ejections_detected[EjectionKind::SuccessRate.index()], 0);
    }

    #[test]
    fn failure_percentage_detects_but_does_not_enforce_by_default() {
        // Consecutive detection off, so that the failing host's error run does not eject it.
        let base = OutlierConfig { consecutive_5xx: 0, ..Default::default() };
        let mut d = OutlierDetector::new(base, 10);
        for h in 0..10 {
            let err = if h == 0 { 45 } else { 0 };
            traffic(&mut d, s(1), h, 50 - err, err);
        }
        // 90 % failures ≥ 85 %; success rate skips all hosts (volume 50 < 100).
        d.sweep(s(10), &mut no_draw);
        assert_eq!(d.stats().ejections_detected[EjectionKind::FailurePercentage.index()], 1);
        assert_eq!(d.n_ejected(), 0);
        let config = OutlierConfig { enforcing_failure_percentage: 50, ..base };
        let mut d = OutlierDetector::new(config, 10);
        for h in 0..10 {
            let err = if h == 0 { 45 } else { 0 };
            traffic(&mut d, s(1), h, 50 - err, err);
        }
        d.sweep(s(10), &mut || 0.49);
        assert!(d.is_ejected(HostIndex(0)), "0.49·100 < 50");
    }

    #[test]
    fn a_passing_health_check_uneject_at_once() {
        let mut d = OutlierDetector::new(OutlierConfig::default(), 10);
        for _ in 0..5 {
            hit(&mut d, s(1), 2, ServerError);
        }
        d.on_health_check_passed(s(2), HostIndex(2));
        assert!(!d.is_ejected(HostIndex(2)));
        assert_eq!(d.n_ejected(), 0);
    }

    #[test]
    fn hosts_join_and_leave_and_the_percentage_follows_the_current_set() {
        // 20 % of 5 hosts: one may be ejected.
        let config = OutlierConfig { max_ejection_percent: 20, ..Default::default() };
        let mut d = OutlierDetector::empty(config);
        for h in [0, 1, 2, 3, 7] {
            d.add_host(HostIndex(h));
        }
        assert_eq!(d.n_hosts(), 5);
        assert!(!d.is_active(HostIndex(5)) && d.is_active(HostIndex(7)));
        let before = d.changes();
        for _ in 0..5 {
            hit(&mut d, s(1), 7, ServerError);
        }
        assert!(d.is_ejected(HostIndex(7)));
        assert_eq!(d.changes(), before + 1);
        for _ in 0..5 {
            hit(&mut d, s(1), 0, ServerError);
        }
        assert!(!d.is_ejected(HostIndex(0)), "40 % > 20 %");
        assert_eq!(d.stats().ejections_overflow, 1);
        // Five more hosts: 2 of 10 is within 20 %.
        for h in 10..15 {
            d.add_host(HostIndex(h));
        }
        for _ in 0..5 {
            hit(&mut d, s(2), 0, ServerError);
        }
        assert!(d.is_ejected(HostIndex(0)));
        assert_eq!(d.n_ejected(), 2);
        // An ejected host that leaves frees its slot; results for it are ignored.
        d.remove_host(HostIndex(7));
        assert_eq!((d.n_hosts(), d.n_ejected()), (9, 1));
        assert!(!d.is_ejected(HostIndex(7)));
        for _ in 0..5 {
            assert!(!hit(&mut d, s(3), 7, ServerError));
        }
        // It comes back fresh: no back-off, a new run of five to eject it.
        d.add_host(HostIndex(7));
        assert_eq!(d.ejection_time(HostIndex(7)), SimDuration::ZERO);
        assert_eq!(d.num_ejections(HostIndex(7)), 0);
        for _ in 0..4 {
            hit(&mut d, s(4), 7, ServerError);
        }
        assert!(!d.is_ejected(HostIndex(7)));
        // Sweeps skip hosts not in the cluster, and un-eject on time.
        d.sweep(s(10), &mut no_draw);
        d.sweep(s(40), &mut no_draw);
        assert_eq!(d.n_ejected(), 0);
    }

    #[test]
    fn the_last_host_leaving_empties_the_cluster() {
        let mut d =
            OutlierDetector::empty(OutlierConfig { always_eject_one_host: true, ..Default::default() });
        d.add_host(HostIndex(0));
        for _ in 0..5 {
            hit(&mut d, s(1), 0, ServerError);
        }
        assert!(d.is_ejected(HostIndex(0)), "always_eject_one_host admits the only host");
        d.remove_host(HostIndex(0));
        assert_eq!((d.n_hosts(), d.n_ejected()), (0, 0));
        assert_eq!(d.sweep(s(10), &mut no_draw), 0);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Result { host: u32, result: HostResult },
        Burst { host: u32, n_ok: u32, n_err: u32 },
        Sweep,
        HealthCheck { host: u32 },
        Leave { host: u32 },
        Join { host: u32 },
    }

    fn any_op() -> impl Strategy<Value = Op> {
        let result = prop_oneof![Just(Success), Just(ServerError), Just(GatewayFailure)];
        prop_oneof![
            4 => (any::<u32>(), result).prop_map(|(host, result)| Op::Result { host, result }),
            2 => (any::<u32>(), 0u32..150, 0u32..150).prop_map(|(host, n_ok, n_err)| Op::Burst { host, n_ok, n_err }),
            2 => Just(Op::Sweep),
            1 => any::<u32>().prop_map(|host| Op::HealthCheck { host }),
            1 => any::<u32>().prop_map(|host| Op::Leave { host }),
            1 => any::<u32>().prop_map(|host| Op::Join { host }),
        ]
    }

    proptest! {
        /// The ejected count matches the hosts flagged and never exceeds what
        /// `max_ejection_percent` (or `always_eject_one_host`) admits.
        #[test]
        fn ejected_count_obeys_the_percentage_rule(
            n_hosts in 1u32..25,
            max_percent in 0u32..120,
            always in any::<bool>(),
            enforcing in 0u32..=100,
            ops in proptest::collection::vec((0u64..3, any_op()), 1..300),
            draws in proptest::collection::vec(0.0f64..1.0, 64),
        ) {
            let config = OutlierConfig {
                max_ejection_percent: max_percent,
                always_eject_one_host: always,
                enforcing_consecutive_gateway_failure: enforcing,
                enforcing_failure_percentage: enforcing,
                success_rate_minimum_hosts: 2,
                failure_percentage_minimum_hosts: 2,
                ..Default::default()
            };
            let mut d = OutlierDetector::new(config, n_hosts);
            let mut k = 0usize;
            let mut draw = || { k += 1; draws[k % draws.len()] };
            let mut now = SimTime::ZERO;
            let mut prev = 0u32;
            for (gap_s, op) in ops {
                now += SimDuration::from_secs(gap_s);
                match op {
                    Op::Result { host, result } => {
                        d.on_result(now, HostIndex(host % n_hosts), result, &mut draw);
                    }
                    Op::Burst { host, n_ok, n_err } => {
                        for i in 0..n_ok.max(n_err) {
                            if i < n_err {
                                d.on_result(now, HostIndex(host % n_hosts), ServerError, &mut draw);
                            }
                            if i < n_ok {
                                d.on_result(now, HostIndex(host % n_hosts), Success, &mut draw);
                            }
                        }
                    }
                    Op::Sweep => {
                        d.sweep(now, &mut draw);
                    }
                    Op::HealthCheck { host } => d.on_health_check_passed(now, HostIndex(host % n_hosts)),
                    Op::Leave { host } => {
                        if d.is_active(HostIndex(host % n_hosts)) {
                            d.remove_host(HostIndex(host % n_hosts));
                        }
                    }
                    Op::Join { host } => {
                        if !d.is_active(HostIndex(host % n_hosts)) {
                            d.add_host(HostIndex(host % n_hosts));
                        }
                    }
                }
                let flagged = (0..n_hosts).filter(|&h| d.is_ejected(HostIndex(h))).count() as u32;
                prop_assert_eq!(flagged, d.n_ejected());
                let active = (0..n_hosts).filter(|&h| d.is_active(HostIndex(h))).count() as u32;
                prop_assert_eq!(active, d.n_hosts());
                // A host leaving lowers the host count too, so the rule is checked whenever the
                // ejected count grows, against the hosts present then.
                let e = u64::from(flagged);
                let within = flagged <= prev
                    || 100 * e <= u64::from(max_percent.min(100)) * u64::from(active)
                    || (always && e == 1);
                prev = flagged;
                prop_assert!(within, "{} of {} ejected at max {} %", e, n_hosts, max_percent);
            }
        }
    }
}
