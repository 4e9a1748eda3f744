//! Client-side adaptive throttling (Google SRE book, ch. 21): over a sliding window the
//! client counts `requests` it attempted and `accepts` the backend took, and rejects new
//! requests locally with probability `max(0, (requests − K·accepts) / (requests + 1))`.
//!
//! Requests are counted when made, locally rejected ones included: that is what keeps `P`
//! rising while the backend rejects everything (a backend that accepts nothing gives
//! `P = n/(n+1)` after `n` requests). The window is a ring of 60 slices of `window/60`
//! aligned to multiples of the slice width and emptied lazily from `now`, so a count lives
//! between 59/60 and all of the window (the book does not say how its two minutes are
//! bucketed). The caller draws `U(0, 1) < P` to reject.

use squall_kernel::{SimDuration, SimTime};

use crate::window::{SliceRing, Tally};

/// Slices of the counting window.
const SLICES: usize = 60;

/// Requests and accepts in a slice.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
struct Counts {
    requests: u64,
    accepts: u64,
}

impl Tally for Counts {
    fn add(&mut self, o: &Self) {
        self.requests += o.requests;
        self.accepts += o.accepts;
    }
    fn sub(&mut self, o: &Self) {
        self.requests -= o.requests;
        self.accepts -= o.accepts;
    }
}

/// Parameters of adaptive throttling.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct AdaptiveThrottleConfig {
    /// The counting window (2 minutes).
    pub window: SimDuration,
    /// `K` (2.0): the backend may reject up to `1 − 1/K` of requests before the client starts
    /// rejecting locally.
    pub k: f64,
}

impl Default for AdaptiveThrottleConfig {
    fn default() -> Self {
        AdaptiveThrottleConfig { window: SimDuration::from_secs(120), k: 2.0 }
    }
}

/// The counters and the rejection rule.
#[derive(Clone, Debug)]
pub struct AdaptiveThrottle {
    k: f64,
    window: SliceRing<Counts>,
    /// Latest `now` seen, to assert time order.
    now: SimTime,
}

impl AdaptiveThrottle {
    /// Empty counters.
    ///
    /// # Panics
    /// If the window is shorter than 60 ns (one slice would be empty) or `k` is not a
    /// positive finite number.
    pub fn new(config: AdaptiveThrottleConfig) -> AdaptiveThrottle {
        let k = config.k;
        assert!(k.is_finite(), "K must be finite, got {k}");
        assert!(k > 0.0, "K must be positive, got {k}");
        let slice = SimDuration(config.window.as_nanos() / SLICES as u64);
        assert!(
            slice > SimDuration::ZERO,
            "throttling window {:?} is shorter than {SLICES} ns",
            config.window
        );
        AdaptiveThrottle { k, window: SliceRing::new(SLICES, slice), now: SimTime::ZERO }
    }

    fn tick(&mut self, now: SimTime) {
        assert!(now >= self.now, "time went backwards: {now:?} after {:?}", self.now);
        self.now = now;
    }

    /// The probability of rejecting a request now, in `[0, 1)`.
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn reject_probability(&mut self, now: SimTime) -> f64 {
        self.tick(now);
        let Counts { requests, accepts } = self.window.total_at(now);
        let (requests, accepts) = (requests as f64, accepts as f64);
        ((requests - self.k * accepts) / (requests + 1.0)).max(0.0)
    }

    /// A request was attempted (counted whether or not it was then rejected locally).
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn record_request(&mut self, now: SimTime) {
        self.tick(now);
        self.window.add(now, Counts { requests: 1, accepts: 0 });
    }

    /// The backend accepted a request.
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn record_accept(&mut self, now: SimTime) {
        self.tick(now);
        self.window.add(now, Counts { requests: 0, accepts: 1 });
    }

    /// Requests and accepts in the window at `now`.
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn counts(&mut self, now: SimTime) -> (u64, u64) {
        self.tick(now);
        let c = self.window.total_at(now);
        (c.requests, c.accepts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use squall_kernel::time::NS_PER_S;

    fn secs(s: u64) -> SimTime {
        SimTime(s * NS_PER_S)
    }

    #[test]
    fn with_no_accepts_the_probability_approaches_one() {
        let mut t = AdaptiveThrottle::new(AdaptiveThrottleConfig::default());
        assert_eq!(t.reject_probability(secs(0)), 0.0);
        for n in 1..=100u32 {
            t.record_request(secs(1));
            let p = t.reject_probability(secs(1));
            assert!((p - f64::from(n) / f64::from(n + 1)).abs() < 1e-12, "n {n}: {p}");
        }
    }

    #[test]
    fn all_accepted_means_no_rejection_for_k_at_least_one() {
        for k in [1.0, 1.5, 2.0] {
            let mut t = AdaptiveThrottle::new(AdaptiveThrottleConfig { k, ..Default::default() });
            for _ in 0..50 {
                t.record_request(secs(3));
                t.record_accept(secs(3));
            }
            assert_eq!(t.reject_probability(secs(3)), 0.0, "K = {k}");
        }
    }

    #[test]
    fn the_backend_may_reject_up_to_one_minus_one_over_k() {
        // K = 2: 100 requests, 50 accepted is the edge; 40 accepted gives (100 − 80)/101.
        let mut t = AdaptiveThrottle::new(AdaptiveThrottleConfig::default());
        for i in 0..100 {
            t.record_request(secs(0));
            if i < 50 {
                t.record_accept(secs(0));
            }
        }
        assert_eq!(t.reject_probability(secs(0)), 0.0);
        let mut t = AdaptiveThrottle::new(AdaptiveThrottleConfig::default());
        for i in 0..100 {
            t.record_request(secs(0));
            if i < 40 {
                t.record_accept(secs(0));
            }
        }
        assert!((t.reject_probability(secs(0)) - 20.0 / 101.0).abs() < 1e-12);
    }

    #[test]
    fn counts_expire_after_the_window() {
        // 2 minutes in 60 slices of 2 s: counts made at 1 s leave at 120 s.
        let mut t = AdaptiveThrottle::new(AdaptiveThrottleConfig::default());
        for _ in 0..10 {
            t.record_request(secs(1));
        }
        t.record_request(secs(60));
        assert_eq!(t.counts(SimTime(120 * NS_PER_S - 1)), (11, 0));
        assert_eq!(t.counts(secs(120)), (1, 0));
        assert!((t.reject_probability(secs(120)) - 0.5).abs() < 1e-12);
        assert_eq!(t.reject_probability(secs(180)), 0.0);
    }

    proptest! {
        /// `P` is the formula over the counts of the last 60 slices, recomputed from the raw
        /// event times, and stays in `[0, 1)`.
        #[test]
        fn probability_follows_the_windowed_counts(
            k in 0.5f64..4.0,
            window_s in 1u64..300,
            events in proptest::collection::vec((0u64..5_000, any::<bool>()), 1..300),
        ) {
            let mut t = AdaptiveThrottle::new(AdaptiveThrottleConfig { window: SimDuration::from_secs(window_s), k });
            let slice = window_s * NS_PER_S / 60;
            let (mut now, mut log) = (0u64, Vec::new());
            for (gap_ms, accept) in events {
                now += gap_ms * 1_000_000;
                if accept {
                    t.record_accept(SimTime(now));
                } else {
                    t.record_request(SimTime(now));
                }
                log.push((now, accept));
                let first = (now / slice).saturating_sub(59);
                let live = log.iter().filter(|(at, _)| at / slice >= first);
                let accepts = live.clone().filter(|(_, a)| *a).count() as f64;
                let requests = live.filter(|(_, a)| !*a).count() as f64;
                let p = t.reject_probability(SimTime(now));
                prop_assert!((0.0..1.0).contains(&p));
                let expected = ((requests - k * accepts) / (requests + 1.0)).max(0.0);
                prop_assert!((p - expected).abs() < 1e-12, "{} vs {}", p, expected);
            }
        }
    }
}
