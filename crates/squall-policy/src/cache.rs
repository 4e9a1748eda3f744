//! Cache warm-up: the hit ratio of a cache in front of a dependency after a restart or flush.
//!
//! No specific system is followed: a cold cache (look-aside or in-process) fills as traffic
//! passes, and we model its hit ratio as ramping linearly from 0 at the flush instant `since`
//! to the steady-state `hit_ratio` at `since + warmup`, flat afterwards. `warmup = 0` means the
//! cache is always warm (a flush has no effect). The engine draws hit or miss per request with
//! `hit_ratio_at(now)` from its own random stream; this state holds no randomness.

use squall_kernel::{SimDuration, SimTime};

/// Hit ratio of a cache over time: a linear ramp after each flush.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Warmth {
    hit_ratio: f64,
    warmup: SimDuration,
    since: SimTime,
    /// Warm before any flush (the ramp from `since` does not apply until the first flush).
    warm_from_start: bool,
}

impl Warmth {
    /// A cache that was last empty at `since` (its start, typically) and reaches `hit_ratio`
    /// after `warmup`.
    ///
    /// # Panics
    /// If `hit_ratio` is not within [0, 1].
    pub fn new(hit_ratio: f64, warmup: SimDuration, since: SimTime) -> Self {
        assert!((0.0..=1.0).contains(&hit_ratio), "hit ratio {hit_ratio} outside [0, 1]");
        Warmth { hit_ratio, warmup, since, warm_from_start: false }
    }

    /// A cache that is already warm at time zero; a flush starts the ramp.
    ///
    /// # Panics
    /// If `hit_ratio` is not within [0, 1].
    pub fn warm(hit_ratio: f64, warmup: SimDuration) -> Self {
        let mut w = Warmth::new(hit_ratio, warmup, SimTime::ZERO);
        w.warm_from_start = true;
        w
    }

    /// The probability that a lookup at `now` hits.
    ///
    /// # Panics
    /// If `now` is before the last flush.
    pub fn hit_ratio_at(&self, now: SimTime) -> f64 {
        let elapsed = now.since(self.since);
        if self.warm_from_start || elapsed >= self.warmup {
            return self.hit_ratio;
        }
        // Both are whole nanoseconds below 2^64; the ratio is a fraction, not accumulated time.
        self.hit_ratio * (elapsed.as_nanos() as f64 / self.warmup.as_nanos() as f64)
    }

    /// The cache is emptied at `now` (a restart or an explicit flush): the ramp starts over.
    ///
    /// # Panics
    /// If `now` is before the previous flush.
    pub fn flush(&mut self, now: SimTime) {
        assert!(now >= self.since, "flush at {now:?} before the previous one at {:?}", self.since);
        self.since = now;
        self.warm_from_start = false;
    }

    /// The steady-state hit ratio.
    pub fn hit_ratio(&self) -> f64 {
        self.hit_ratio
    }

    /// Time from a flush to the steady state.
    pub fn warmup(&self) -> SimDuration {
        self.warmup
    }

    /// When the cache was last empty.
    pub fn since(&self) -> SimTime {
        self.since
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> SimTime {
        SimTime(n * 1_000_000_000)
    }

    #[test]
    fn hit_ratio_ramps_linearly_after_a_flush() {
        let mut w = Warmth::new(0.8, SimDuration::from_secs(10), SimTime::ZERO);
        assert_eq!(w.hit_ratio_at(secs(0)), 0.0);
        assert!((w.hit_ratio_at(secs(5)) - 0.4).abs() < 1e-12);
        assert_eq!(w.hit_ratio_at(secs(10)), 0.8);
        assert_eq!(w.hit_ratio_at(secs(100)), 0.8);
        w.flush(secs(100));
        assert_eq!(w.hit_ratio_at(secs(100)), 0.0);
        assert!((w.hit_ratio_at(secs(102)) - 0.16).abs() < 1e-12);
        assert_eq!(w.hit_ratio_at(secs(110)), 0.8);
    }

    #[test]
    fn zero_warmup_is_always_warm() {
        let mut w = Warmth::new(0.9, SimDuration::ZERO, SimTime::ZERO);
        assert_eq!(w.hit_ratio_at(SimTime::ZERO), 0.9);
        w.flush(secs(3));
        assert_eq!(w.hit_ratio_at(secs(3)), 0.9);
    }

    #[test]
    fn ramp_is_monotone_and_bounded() {
        let w = Warmth::new(0.7, SimDuration(999_983), SimTime(17));
        let mut previous = 0.0;
        for ns in (17..2_000_000).step_by(7_919) {
            let h = w.hit_ratio_at(SimTime(ns));
            assert!(h >= previous && h <= 0.7, "{h} after {previous} at {ns} ns");
            previous = h;
        }
        assert_eq!(previous, 0.7);
    }
}
