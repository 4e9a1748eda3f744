//! Queue-delay load shedding: folly's CoDel variant (`folly/executors/Codel.cpp`, described in
//! Facebook's "Fail at Scale", ACM Queue 2015), not the CoDel of RFC 8289.
//!
//! Parameters: `target` (flag `codel_target_delay`, 5 ms) and `interval` (`codel_interval`,
//! 100 ms); the "slough timeout" is `2·target`. State: the minimum queueing delay of the current
//! interval, the interval's end time (initially the creation time, *not* creation + interval),
//! a reset flag (initially set) and `overloaded` (initially false). On each dequeue at `now`
//! with queueing delay `d`, `Codel::overloaded_explicit_now` does, in order:
//! 1. if `now > interval_end` and no reset is pending: set the reset flag, set
//!    `interval_end = now + interval`, and `overloaded = (min_delay > target)`;
//! 2. if the reset flag is set: clear it, set `min_delay = d`, and return "keep": the first
//!    request of an interval only resets the minimum;
//! 3. otherwise `min_delay = min(min_delay, d)`;
//! 4. drop iff `overloaded && d > 2·target`.
//!
//! So an interval runs from the request that reset the minimum to the first request more than
//! `interval` later, and `overloaded` holds for the whole of the next one. Quirk kept on
//! purpose: the first interval ends at the first dequeue after creation (step 1 needs a
//! previous request, so this is the second dequeue), however soon that is, so one slow request
//! right after start-up can already make the next interval overloaded.
//! `load()` is folly's `getLoad`: `min(100, 100·min_delay / (2·target))`, integer division,
//! using the running minimum of the current interval.

use squall_kernel::{SimDuration, SimTime};

/// folly's default `codel_target_delay`.
pub const CODEL_DEFAULT_TARGET: SimDuration = SimDuration::from_millis(5);
/// folly's default `codel_interval`.
pub const CODEL_DEFAULT_INTERVAL: SimDuration = SimDuration::from_millis(100);

/// folly's CoDel overload detector; call [`Codel::on_dequeue`] for every request leaving the
/// queue and drop the request when it returns true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codel {
    target: SimDuration,
    interval: SimDuration,
    /// Minimum queueing delay seen in the current interval.
    min_delay: SimDuration,
    /// After this instant, the next dequeue closes the interval.
    interval_end: SimTime,
    /// The next dequeue resets `min_delay` instead of comparing with it.
    reset_pending: bool,
    overloaded: bool,
    /// Latest `now` seen, to assert time order.
    now: SimTime,
}

impl Codel {
    /// A detector created at t = 0.
    ///
    /// # Panics
    /// If `target` is zero or `interval` is not longer than `target` (folly's `setOptions`
    /// rejects both).
    pub fn new(target: SimDuration, interval: SimDuration) -> Self {
        Self::created_at(SimTime::ZERO, target, interval)
    }

    /// A detector created at `created`: its first interval ends at the first dequeue after it.
    ///
    /// # Panics
    /// As [`Codel::new`].
    pub fn created_at(created: SimTime, target: SimDuration, interval: SimDuration) -> Self {
        assert!(target > SimDuration::ZERO, "CoDel target delay must be positive");
        assert!(interval > target, "CoDel interval {interval} must exceed the target {target}");
        Codel {
            target,
            interval,
            min_delay: SimDuration::ZERO,
            interval_end: created,
            reset_pending: true,
            overloaded: false,
            now: created,
        }
    }

    /// A request leaves the queue at `now` after waiting `queue_delay`. Returns true when it
    /// must be dropped: the previous interval was overloaded and this request waited longer
    /// than the slough timeout `2·target`.
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn on_dequeue(&mut self, now: SimTime, queue_delay: SimDuration) -> bool {
        assert!(now >= self.now, "time went backwards: {now:?} after {:?}", self.now);
        self.now = now;
        if now > self.interval_end && !self.reset_pending {
            self.reset_pending = true;
            self.interval_end = now.saturating_add(self.interval);
            self.overloaded = self.min_delay > self.target;
        }
        if self.reset_pending {
            self.reset_pending = false;
            self.min_delay = queue_delay;
            // More than one request must arrive in an interval before CoDel drops anything.
            return false;
        }
        if queue_delay < self.min_delay {
            self.min_delay = queue_delay;
        }
        self.overloaded && queue_delay > self.slough_timeout()
    }

    /// Whether the last closed interval had its minimum queueing delay above `target`.
    pub fn overloaded(&self) -> bool {
        self.overloaded
    }

    /// folly's load metric, 0..=100: `min(100, 100·min_delay / (2·target))`.
    pub fn load(&self) -> u8 {
        let load = 100 * u128::from(self.min_delay.as_nanos()) / u128::from(self.slough_timeout().as_nanos());
        u8::try_from(load.min(100)).expect("at most 100")
    }

    /// `2·target`: requests that waited longer are dropped while overloaded.
    pub fn slough_timeout(&self) -> SimDuration {
        SimDuration(self.target.as_nanos().saturating_mul(2))
    }

    /// The minimum queueing delay of the current interval so far.
    pub fn min_delay(&self) -> SimDuration {
        self.min_delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: u64 = 1_000_000;

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

    fn at(n: u64) -> SimTime {
        SimTime(n * MS)
    }

    fn folly_default() -> Codel {
        Codel::new(CODEL_DEFAULT_TARGET, CODEL_DEFAULT_INTERVAL)
    }

    #[test]
    fn a_standing_queue_is_shed_after_one_interval() {
        let mut c = folly_default();
        // First dequeue: resets the minimum. Second (after creation): closes the first interval,
        // whose minimum (20 ms) was above target, and resets again.
        assert!(!c.on_dequeue(at(1), ms(20)));
        assert!(!c.on_dequeue(at(2), ms(20)));
        assert!(c.overloaded());
        // Now overloaded until 102 ms: anything waiting over 10 ms is dropped.
        assert!(c.on_dequeue(at(3), ms(11)));
        assert!(!c.on_dequeue(at(4), ms(10)), "exactly the slough timeout is kept");
        assert!(!c.on_dequeue(at(5), ms(3)));
        assert!(c.on_dequeue(at(102), ms(30)), "102 ms is not after the interval end");
        // At 103 ms the interval closes with minimum 3 ms: no longer overloaded.
        assert!(!c.on_dequeue(at(103), ms(30)));
        assert!(!c.overloaded());
        assert!(!c.on_dequeue(at(104), ms(30)));
    }

    #[test]
    fn the_first_request_of_an_interval_is_never_dropped() {
        let mut c = folly_default();
        assert!(!c.on_dequeue(at(0), ms(50)));
        assert!(!c.on_dequeue(at(1), ms(50)), "closes the first interval: overloaded, but it only resets");
        assert!(c.overloaded());
        assert!(c.on_dequeue(at(2), ms(50)));
        assert!(!c.on_dequeue(at(200), ms(50)), "opens the next interval");
        assert!(c.overloaded());
        assert!(c.on_dequeue(at(200), ms(50)));
    }

    #[test]
    fn a_single_fast_request_clears_overload_for_the_next_interval() {
        let mut c = folly_default();
        assert!(!c.on_dequeue(at(0), ms(40)));
        assert!(!c.on_dequeue(at(1), ms(40)));
        assert!(c.overloaded());
        assert!(!c.on_dequeue(at(50), ms(4)), "below target: kept, and the minimum drops to 4 ms");
        assert!(c.on_dequeue(at(60), ms(40)));
        assert!(!c.on_dequeue(at(102), ms(40)));
        assert!(!c.overloaded());
        assert!(!c.on_dequeue(at(103), ms(40)));
    }

    #[test]
    fn load_is_min_delay_over_the_slough_timeout() {
        let mut c = folly_default();
        assert_eq!(c.load(), 0);
        assert!(!c.on_dequeue(at(0), ms(3)));
        assert_eq!(c.load(), 30);
        assert!(!c.on_dequeue(at(0), SimDuration(2_500_000)));
        assert_eq!(c.load(), 25);
        assert!(!c.on_dequeue(at(1), ms(500)));
        assert_eq!(c.load(), 100);
    }

    #[test]
    fn creation_time_sets_the_first_interval_end() {
        let mut c = Codel::created_at(at(50), CODEL_DEFAULT_TARGET, CODEL_DEFAULT_INTERVAL);
        assert!(!c.on_dequeue(at(50), ms(40)));
        assert!(!c.on_dequeue(at(50), ms(40)), "not after the creation instant yet");
        assert!(!c.overloaded());
        assert!(!c.on_dequeue(at(51), ms(40)));
        assert!(c.overloaded());
    }

    /// Dequeues as (gap since the previous one, queue delay), in ms with a fine grain.
    fn dequeues() -> impl Strategy<Value = Vec<(u64, u64)>> {
        proptest::collection::vec(
            (
                prop_oneof![3 => 0u64..5 * MS, 1 => 0u64..150 * MS],
                prop_oneof![1 => 0u64..6 * MS, 2 => 4 * MS..30 * MS],
            ),
            1..400,
        )
    }

    proptest! {
        /// Any drop needs: a delay above `2·target`; and an earlier stretch of consecutive
        /// requests `a..b`, all with delays above target, followed by a request `b` before the
        /// drop that came more than `interval` after `a` (or, for the first interval, any time
        /// after creation with `a` the very first request).
        #[test]
        fn codel_drops_only_after_an_interval_whose_delays_all_exceeded_target(trace in dequeues()) {
            let mut c = folly_default();
            let target = CODEL_DEFAULT_TARGET.as_nanos();
            let interval = CODEL_DEFAULT_INTERVAL.as_nanos();
            let mut times = Vec::new();
            let mut delays = Vec::new();
            let mut now = 0u64;
            for (gap, delay) in trace {
                now += gap;
                let dropped = c.on_dequeue(SimTime(now), SimDuration(delay));
                let i = times.len();
                times.push(now);
                delays.push(delay);
                if !dropped {
                    continue;
                }
                prop_assert!(delay > 2 * target, "dropped a request that waited only {} ns", delay);
                let mut justified = false;
                for b in 1..i {
                    // Longest stretch of above-target delays ending just before b.
                    let mut a = b;
                    while a > 0 && delays[a - 1] > target {
                        a -= 1;
                    }
                    if a == b {
                        continue;
                    }
                    let full = times[b] > times[a] + interval;
                    let first = a == 0 && times[b] > 0;
                    if full || first {
                        justified = true;
                        break;
                    }
                }
                prop_assert!(justified, "drop at request {} (t = {} ns) without an overloaded interval", i, now);
            }
        }

        #[test]
        fn codel_never_drops_while_every_delay_is_within_the_slough_timeout(
            trace in proptest::collection::vec((0u64..50 * MS, 0u64..=10 * MS), 1..300),
        ) {
            let mut c = folly_default();
            let mut now = 0u64;
            for (gap, delay) in trace {
                now += gap;
                prop_assert!(!c.on_dequeue(SimTime(now), SimDuration(delay)));
                prop_assert!(c.load() <= 100);
            }
        }
    }
}
