//! Envoy slow start: a host that just became healthy gets a fraction of its weight that grows
//! over `slow_start_window` (`common.proto` `SlowStartConfig`, `slow_start.rst`, source
//! `EdfLoadBalancerBase::applySlowStartFactor` in `load_balancer_impl.cc`).
//!
//! With `elapsed = now − host_since` (the host's last transition to healthy, or when it joined):
//! - if `elapsed ≥ window` (or the window is zero, i.e. slow start is off) the factor is 1;
//! - otherwise `time_factor = max(1 ms, elapsed truncated to whole ms) / window` (window in
//!   whole ms: Envoy converts both with `duration_cast<milliseconds>`; its docs speak of 1 s
//!   granularity but the source uses ms) and the factor is
//!   `max(time_factor^(1/aggression), min_weight_percent / 100)`.
//!
//! Defaults: `aggression` 1.0 (must be > 0; the power is skipped when it is exactly 1, as in
//! Envoy), `min_weight_percent` 10. The window has no default. The caller multiplies a host's
//! `load_balancing_weight` by the factor (Envoy's ROUND_ROBIN and LEAST_REQUEST only).

use squall_kernel::time::NS_PER_MS;
use squall_kernel::{SimDuration, SimTime};

/// Envoy `SlowStartConfig`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct SlowStart {
    /// `slow_start_window`, truncated to whole milliseconds.
    window: SimDuration,
    /// `aggression` (1.0).
    aggression: f64,
    /// `min_weight_percent / 100` (0.1).
    min_weight: f64,
}

impl SlowStart {
    /// Envoy's default `aggression`.
    pub const AGGRESSION: f64 = 1.0;
    /// Envoy's default `min_weight_percent`.
    pub const MIN_WEIGHT_PERCENT: f64 = 10.0;

    /// Slow start over `window` with the default aggression and minimum weight.
    pub fn new(window: SimDuration) -> Self {
        Self::with(window, Self::AGGRESSION, Self::MIN_WEIGHT_PERCENT)
    }

    /// Slow start over `window` (truncated to whole ms) with explicit `aggression` and
    /// `min_weight_percent`.
    ///
    /// # Panics
    /// If `aggression` is not positive and finite, or `min_weight_percent` is outside 0..=100.
    pub fn with(window: SimDuration, aggression: f64, min_weight_percent: f64) -> Self {
        assert!(aggression.is_finite(), "aggression must be finite, got {aggression}");
        assert!(aggression > 0.0, "aggression must be positive, got {aggression}");
        assert!(
            (0.0..=100.0).contains(&min_weight_percent),
            "min_weight_percent must be within 0..=100, got {min_weight_percent}"
        );
        let window = SimDuration(window.0 / NS_PER_MS * NS_PER_MS);
        SlowStart { window, aggression, min_weight: min_weight_percent / 100.0 }
    }

    /// The effective window (whole milliseconds).
    pub fn window(&self) -> SimDuration {
        self.window
    }

    /// Whether a host healthy since `host_since` is still ramping up at `now`.
    ///
    /// # Panics
    /// If `host_since` is after `now`.
    pub fn in_slow_start(&self, now: SimTime, host_since: SimTime) -> bool {
        now.since(host_since) < self.window
    }

    /// The factor in `(0, 1]` to multiply the host's weight by at `now`.
    ///
    /// # Panics
    /// If `host_since` is after `now`.
    pub fn weight_factor(&self, now: SimTime, host_since: SimTime) -> f64 {
        let elapsed = now.since(host_since);
        if elapsed >= self.window {
            return 1.0;
        }
        let elapsed_ms = (elapsed.0 / NS_PER_MS).max(1);
        let time_factor = elapsed_ms as f64 / (self.window.0 / NS_PER_MS) as f64;
        let ramp = if self.aggression == 1.0 || time_factor == 1.0 {
            time_factor
        } else {
            time_factor.powf(1.0 / self.aggression)
        };
        let factor = ramp.max(self.min_weight);
        debug_assert!(factor > 0.0 && factor <= 1.0, "factor {factor} out of (0, 1]");
        factor
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(n: u64) -> SimTime {
        SimTime(SimDuration::from_secs(n).0)
    }

    #[test]
    fn linear_ramp_with_the_default_floor() {
        let ss = SlowStart::new(SimDuration::from_secs(60));
        let t0 = s(100);
        // 3 s of 60 = 5 %, below the 10 % floor.
        assert_eq!(ss.weight_factor(s(103), t0), 0.1);
        assert_eq!(ss.weight_factor(s(106), t0), 0.1);
        assert_eq!(ss.weight_factor(s(115), t0), 0.25);
        assert_eq!(ss.weight_factor(s(130), t0), 0.5);
        assert_eq!(ss.weight_factor(s(160), t0), 1.0, "the window has ended");
        assert!(!ss.in_slow_start(s(160), t0));
        assert!(ss.in_slow_start(s(159), t0));
    }

    #[test]
    fn aggression_bends_the_ramp() {
        // aggression 2: factor = sqrt(t/window). 15 s of 60: sqrt(0.25) = 0.5.
        let ss = SlowStart::with(SimDuration::from_secs(60), 2.0, 10.0);
        assert_eq!(ss.weight_factor(s(15), s(0)), 0.5);
        // aggression 0.5: factor = (t/window)²; 30 s: 0.25; 6 s: 0.01 → floor 0.1.
        let ss = SlowStart::with(SimDuration::from_secs(60), 0.5, 10.0);
        assert_eq!(ss.weight_factor(s(30), s(0)), 0.25);
        assert_eq!(ss.weight_factor(s(6), s(0)), 0.1);
    }

    #[test]
    fn elapsed_counts_in_whole_milliseconds_from_one() {
        let ss = SlowStart::with(SimDuration::from_secs(1), 1.0, 0.0);
        // 0 elapsed counts as 1 ms of 1000.
        assert_eq!(ss.weight_factor(s(5), s(5)), 0.001);
        // 2.9 ms truncates to 2 ms.
        assert_eq!(ss.weight_factor(SimTime(s(5).0 + 2_900_000), s(5)), 0.002);
    }

    #[test]
    fn a_zero_window_disables_slow_start() {
        let ss = SlowStart::new(SimDuration::ZERO);
        assert_eq!(ss.weight_factor(s(5), s(5)), 1.0);
        // A sub-millisecond window truncates to zero as well.
        assert_eq!(SlowStart::new(SimDuration::from_micros(900)).window(), SimDuration::ZERO);
    }

    proptest! {
        /// The factor stays within [floor, 1] and never decreases as time passes.
        #[test]
        fn factor_is_bounded_and_monotone(
            window_ms in 0u64..100_000,
            aggression in 0.1f64..5.0,
            floor in 0.0f64..100.0,
            a in 0u64..200_000_000_000,
            b in 0u64..200_000_000_000,
        ) {
            let ss = SlowStart::with(SimDuration::from_millis(window_ms), aggression, floor);
            let (early, late) = (a.min(b), a.max(b));
            let f1 = ss.weight_factor(SimTime(early), SimTime::ZERO);
            let f2 = ss.weight_factor(SimTime(late), SimTime::ZERO);
            prop_assert!(f1 >= floor / 100.0 && f1 <= 1.0);
            prop_assert!(f1 > 0.0);
            prop_assert!(f2 >= f1, "{} then {}", f1, f2);
        }
    }
}
