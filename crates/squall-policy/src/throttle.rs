//! Client-side adaptive throttling (Google SRE book, ch. 21): over a sliding window the
//! client counts `requests` it attempted and `accepts` the backend took, and rejects new
//! requests locally with probability `max(0, (requests − K·accepts) / (requests + 1))`.

use squall_kernel::{SimDuration, SimTime};

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
    _todo: (),
}

impl AdaptiveThrottle {
    /// Empty counters.
    pub fn new(config: AdaptiveThrottleConfig) -> AdaptiveThrottle {
        let _ = config;
        todo!()
    }

    /// The probability of rejecting a request now.
    pub fn reject_probability(&mut self, now: SimTime) -> f64 {
        let _ = now;
        todo!()
    }

    /// A request was attempted (counted whether or not it was then rejected locally).
    pub fn record_request(&mut self, now: SimTime) {
        let _ = now;
        todo!()
    }

    /// The backend accepted a request.
    pub fn record_accept(&mut self, now: SimTime) {
        let _ = now;
        todo!()
    }
}
