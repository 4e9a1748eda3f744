//! Circuit breakers: Resilience4j's (count- or time-based sliding window, failure-rate and
//! slow-call thresholds, half-open trial calls) and a consecutive-failures breaker.
//!
//! The engine asks [`Breaker::try_acquire`] before sending an attempt and reports its end with
//! [`Breaker::on_result`] (or [`Breaker::on_ignored`] for a call whose result does not count,
//! e.g. a cancelled hedge). Results are tagged with the permit's epoch: a result of a call
//! admitted before the last state change is not recorded. Each call makes at most one state
//! transition, and [`Breaker::since`] says when the current state began, so the engine can
//! keep exact time-in-state figures.
//!
//! Resilience4j (`CircuitBreakerStateMachine`, `CircuitBreakerMetrics`,
//! `FixedSizeSlidingWindowMetrics`, `SlidingTimeWindowMetrics`):
//! - A call is slow if it took strictly longer than `slowCallDurationThreshold`, whether it
//!   failed or not.
//! - Closed: every result is recorded in the window: the last `slidingWindowSize` calls
//!   (count-based; `minimumNumberOfCalls` is then capped at the window size), or the calls of
//!   `slidingWindowSize` one-second buckets aligned to whole seconds of simulated time, the
//!   current one included (time-based; the minimum is not capped), emptied lazily. After each
//!   record, with at least the minimum number of calls in the window, the breaker opens if
//!   `failed·100/calls ≥ failureRateThreshold` or `slow·100/calls ≥ slowCallRateThreshold`
//!   (Resilience4j computes these rates in `f32`; here in `f64`).
//! - Open: calls are refused. Without automatic transition, the first call strictly after
//!   `since + waitDurationInOpenState` (`isAfter`) turns it half-open at that call's time;
//!   with it, it turns half-open at exactly `since + wait`, applied by
//!   [`Breaker::advance`] or by whichever call comes first at or after that instant.
//! - Half-open: exactly `permittedNumberOfCallsInHalfOpenState` calls are admitted (an
//!   ignored one gives its slot back, as `releasePermission` does). Once that many results
//!   are in, the same thresholds over them decide: open (the wait restarts) or closed (the
//!   window starts empty).
//! - Resilience4j records a late result in whatever state it arrives in; here it is dropped
//!   (the permit's epoch is stale), so that trials are judged on trial calls only.
//!
//! Consecutive (Polly v7 `CircuitBreaker(exceptionsAllowedBeforeBreaking, durationOfBreak)`,
//! Hystrix's single probe): a failure adds one to a run of failures and a success ends it;
//! `failure_threshold` failures in a row open the breaker for `break_duration`. It turns
//! half-open at exactly the end of the break (Polly's state turns half-open as soon as
//! `now ≥ blockedTill`, whoever looks), and admits one trial call: success closes it, failure
//! opens it again. Durations and slow calls do not matter.

use squall_kernel::{SimDuration, SimTime};

use crate::window::{SliceRing, Tally};

/// A breaker's state.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BreakerState {
    /// Calls pass; results are recorded.
    Closed,
    /// Calls are refused (`CallNotPermittedException`).
    Open,
    /// A few trial calls pass; their results decide.
    HalfOpen,
}

impl BreakerState {
    /// The three states, in output order.
    pub const ALL: [BreakerState; 3] = [BreakerState::Closed, BreakerState::Open, BreakerState::HalfOpen];

    /// Index in [`BreakerState::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Resilience4j sliding window kinds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SlidingWindow {
    /// The last `sliding_window_size` calls.
    CountBased,
    /// Calls of the last `sliding_window_size` seconds, in one-second buckets.
    TimeBased,
}

/// Resilience4j `CircuitBreakerConfig` (names and defaults of the library).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Resilience4jConfig {
    /// `failureRateThreshold`, percent (50).
    pub failure_rate_threshold: f64,
    /// `slowCallRateThreshold`, percent (100).
    pub slow_call_rate_threshold: f64,
    /// `slowCallDurationThreshold` (60 s); a call is slow if it took strictly longer.
    pub slow_call_duration_threshold: SimDuration,
    /// `slidingWindowType` (count-based).
    pub sliding_window_type: SlidingWindow,
    /// `slidingWindowSize`: calls, or seconds (100).
    pub sliding_window_size: u32,
    /// `minimumNumberOfCalls` (100); capped at the window size when count-based.
    pub minimum_number_of_calls: u32,
    /// `permittedNumberOfCallsInHalfOpenState` (10).
    pub permitted_number_of_calls_in_half_open_state: u32,
    /// `waitDurationInOpenState` (60 s).
    pub wait_duration_in_open_state: SimDuration,
    /// `automaticTransitionFromOpenToHalfOpenEnabled` (false): if false, the breaker turns
    /// half-open lazily, on the first call after the wait.
    pub automatic_transition_from_open_to_half_open_enabled: bool,
}

impl Default for Resilience4jConfig {
    fn default() -> Self {
        Resilience4jConfig {
            failure_rate_threshold: 50.0,
            slow_call_rate_threshold: 100.0,
            slow_call_duration_threshold: SimDuration::from_secs(60),
            sliding_window_type: SlidingWindow::CountBased,
            sliding_window_size: 100,
            minimum_number_of_calls: 100,
            permitted_number_of_calls_in_half_open_state: 10,
            wait_duration_in_open_state: SimDuration::from_secs(60),
            automatic_transition_from_open_to_half_open_enabled: false,
        }
    }
}

/// A breaker that opens after `failure_threshold` consecutive failures, stays open for
/// `break_duration`, then lets one trial call through (Polly v7 `CircuitBreaker`, Hystrix's
/// single-probe half-open).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct ConsecutiveConfig {
    /// Failures in a row that open it (5).
    pub failure_threshold: u32,
    /// Time open before the trial call (5 s).
    pub break_duration: SimDuration,
}

impl Default for ConsecutiveConfig {
    fn default() -> Self {
        ConsecutiveConfig { failure_threshold: 5, break_duration: SimDuration::from_secs(5) }
    }
}

/// Which breaker.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum BreakerConfig {
    /// Resilience4j `CircuitBreaker`.
    Resilience4j(Resilience4jConfig),
    /// Consecutive failures.
    Consecutive(ConsecutiveConfig),
}

/// Admission to call through a breaker; hand it back with the result.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BreakerPermit {
    /// The breaker's epoch (bumped at every state change) when the call was admitted.
    pub epoch: u32,
}

/// A circuit breaker's state machine.
#[derive(Clone, Debug)]
pub struct Breaker {
    kind: Kind,
    state: BreakerState,
    since: SimTime,
    /// Bumped (wrapping) at every transition; permits carry it.
    epoch: u32,
    opens: u64,
    /// Half-open: trial permits handed out and not given back by `on_ignored`.
    trials_admitted: u32,
    /// Half-open: results of the trial calls.
    trials: Outcomes,
    /// Latest `now` seen, to assert time order.
    now: SimTime,
}

/// Per-kind configuration and closed-state metrics.
#[derive(Clone, Debug)]
enum Kind {
    Resilience4j {
        config: Resilience4jConfig,
        /// Calls needed before a decision in the closed state.
        minimum: u64,
        window: Window,
    },
    Consecutive {
        config: ConsecutiveConfig,
        /// Failures in a row so far.
        failures: u32,
    },
}

/// Counts of recorded calls.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
struct Outcomes {
    calls: u64,
    failed: u64,
    slow: u64,
}

impl Outcomes {
    fn one(failed: bool, slow: bool) -> Outcomes {
        Outcomes { calls: 1, failed: u64::from(failed), slow: u64::from(slow) }
    }
}

impl Tally for Outcomes {
    fn add(&mut self, o: &Self) {
        self.calls += o.calls;
        self.failed += o.failed;
        self.slow += o.slow;
    }
    fn sub(&mut self, o: &Self) {
        self.calls -= o.calls;
        self.failed -= o.failed;
        self.slow -= o.slow;
    }
}

/// Resilience4j's closed-state sliding window.
#[derive(Clone, Debug)]
enum Window {
    /// `FixedSizeSlidingWindowMetrics`: the last N outcomes.
    Count {
        /// Outcome per slot: bit 0 failed, bit 1 slow.
        ring: Box<[u8]>,
        /// Next slot to write (the oldest once the ring is full).
        head: usize,
        /// Slots written so far, up to the ring's length.
        filled: usize,
        total: Outcomes,
    },
    /// `SlidingTimeWindowMetrics`: N one-second buckets.
    Time(SliceRing<Outcomes>),
}

const FAILED: u8 = 1;
const SLOW: u8 = 2;

impl Window {
    fn new(kind: SlidingWindow, size: u32) -> Window {
        match kind {
            SlidingWindow::CountBased => Window::Count {
                ring: vec![0; size as usize].into_boxed_slice(),
                head: 0,
                filled: 0,
                total: Outcomes::default(),
            },
            SlidingWindow::TimeBased => {
                Window::Time(SliceRing::new(size as usize, SimDuration::from_secs(1)))
            }
        }
    }

    /// Records one call at `now` and returns the window's totals.
    fn record(&mut self, now: SimTime, failed: bool, slow: bool) -> Outcomes {
        match self {
            Window::Count { ring, head, filled, total } => {
                if *filled == ring.len() {
                    let old = ring[*head];
                    total.sub(&Outcomes::one(old & FAILED != 0, old & SLOW != 0));
                } else {
                    *filled += 1;
                }
                ring[*head] = if failed { FAILED } else { 0 } | if slow { SLOW } else { 0 };
                total.add(&Outcomes::one(failed, slow));
                *head = (*head + 1) % ring.len();
                *total
            }
            Window::Time(ring) => {
                ring.add(now, Outcomes::one(failed, slow));
                ring.total()
            }
        }
    }

    fn clear(&mut self) {
        match self {
            Window::Count { ring, head, filled, total } => {
                ring.fill(0);
                *head = 0;
                *filled = 0;
                *total = Outcomes::default();
            }
            Window::Time(ring) => ring.clear(),
        }
    }
}

/// Resilience4j's thresholds: `failureRate ≥ failureRateThreshold` or `slowCallRate ≥
/// slowCallRateThreshold`, as percentages. Callers check the minimum number of calls.
fn exceeds(config: &Resilience4jConfig, o: Outcomes) -> bool {
    assert!(o.calls > 0, "rates of an empty window");
    let calls = o.calls as f64;
    let failure_rate = o.failed as f64 * 100.0 / calls;
    let slow_rate = o.slow as f64 * 100.0 / calls;
    failure_rate >= config.failure_rate_threshold || slow_rate >= config.slow_call_rate_threshold
}

impl Breaker {
    /// A closed breaker, its state beginning at time zero.
    ///
    /// # Panics
    /// On a Resilience4j config that Resilience4j rejects: a window size, minimum number of
    /// calls or permitted half-open calls of 0, or a rate threshold outside (0, 100]; on a
    /// consecutive breaker with a failure threshold of 0.
    pub fn new(config: BreakerConfig) -> Breaker {
        let kind = match config {
            BreakerConfig::Resilience4j(c) => {
                assert!(c.sliding_window_size >= 1, "slidingWindowSize must be at least 1");
                assert!(c.minimum_number_of_calls >= 1, "minimumNumberOfCalls must be at least 1");
                assert!(
                    c.permitted_number_of_calls_in_half_open_state >= 1,
                    "permittedNumberOfCallsInHalfOpenState must be at least 1"
                );
                for (name, t) in [
                    ("failureRateThreshold", c.failure_rate_threshold),
                    ("slowCallRateThreshold", c.slow_call_rate_threshold),
                ] {
                    assert!(t > 0.0, "{name} must be above 0, got {t}");
                    assert!(t <= 100.0, "{name} must be at most 100, got {t}");
                }
                let minimum = match c.sliding_window_type {
                    SlidingWindow::CountBased => c.minimum_number_of_calls.min(c.sliding_window_size),
                    SlidingWindow::TimeBased => c.minimum_number_of_calls,
                };
                Kind::Resilience4j {
                    config: c,
                    minimum: u64::from(minimum),
                    window: Window::new(c.sliding_window_type, c.sliding_window_size),
                }
            }
            BreakerConfig::Consecutive(c) => {
                assert!(
                    c.failure_threshold >= 1,
                    "a consecutive breaker needs a failure threshold of 1 or more"
                );
                Kind::Consecutive { config: c, failures: 0 }
            }
        };
        Breaker {
            kind,
            state: BreakerState::Closed,
            since: SimTime::ZERO,
            epoch: 0,
            opens: 0,
            trials_admitted: 0,
            trials: Outcomes::default(),
            now: SimTime::ZERO,
        }
    }

    /// The current state (as of the last call; see [`advance`](Self::advance)).
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// When the current state began.
    pub fn since(&self) -> SimTime {
        self.since
    }

    /// Times the breaker opened (from closed or half-open).
    pub fn opens(&self) -> u64 {
        self.opens
    }

    /// When the open state will turn half-open by itself (automatic transition enabled, or a
    /// consecutive breaker), for the engine to schedule an [`advance`](Self::advance); `None`
    /// when not open or when the transition waits for a call.
    pub fn next_transition(&self) -> Option<SimTime> {
        (self.state == BreakerState::Open && self.automatic()).then(|| self.since.saturating_add(self.wait()))
    }

    /// Applies a transition due by `now` without a call (open to half-open at the end of the
    /// wait, when automatic transition is enabled). At most one transition.
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn advance(&mut self, now: SimTime) {
        self.tick(now);
        self.apply_due(now);
    }

    /// May a call go through now? Open turns half-open here, lazily, once the wait is over.
    /// At most one transition (open to half-open), then the call is judged in the new state.
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn try_acquire(&mut self, now: SimTime) -> Option<BreakerPermit> {
        self.tick(now);
        if self.state == BreakerState::Open {
            if self.automatic() {
                self.apply_due(now);
            } else if now > self.since.saturating_add(self.wait()) {
                // Resilience4j `OpenState.tryAcquirePermission`: `clock.instant().isAfter(
                // retryAfterWaitDuration)`, strictly after.
                self.transition(BreakerState::HalfOpen, now);
            }
        }
        match self.state {
            BreakerState::Closed => Some(self.permit()),
            BreakerState::Open => None,
            BreakerState::HalfOpen => {
                if self.trials_admitted >= self.permitted() {
                    return None;
                }
                self.trials_admitted += 1;
                Some(self.permit())
            }
        }
    }

    /// A permitted call ended: `failed`, and how long it took (slow-call detection). A result
    /// whose permit predates the last transition is dropped. At most one transition: closed
    /// to open, half-open to open or closed, or (automatic) a due open to half-open, after
    /// which the result is necessarily stale.
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn on_result(&mut self, now: SimTime, permit: BreakerPermit, duration: SimDuration, failed: bool) {
        self.tick(now);
        if self.apply_due(now) || permit.epoch != self.epoch {
            return;
        }
        match self.state {
            BreakerState::Open => unreachable!("permit of epoch {} current while open", permit.epoch),
            BreakerState::Closed => {
                let open = match &mut self.kind {
                    Kind::Resilience4j { config, minimum, window } => {
                        let slow = duration > config.slow_call_duration_threshold;
                        let totals = window.record(now, failed, slow);
                        totals.calls >= *minimum && exceeds(config, totals)
                    }
                    Kind::Consecutive { config, failures } => {
                        *failures = if failed { failures.saturating_add(1) } else { 0 };
                        *failures >= config.failure_threshold
                    }
                };
                if open {
                    self.transition(BreakerState::Open, now);
                }
            }
            BreakerState::HalfOpen => {
                assert!(
                    self.trials.calls < u64::from(self.trials_admitted),
                    "trial result without an outstanding trial ({} results, {} admitted)",
                    self.trials.calls,
                    self.trials_admitted
                );
                let to = match &self.kind {
                    Kind::Resilience4j { config, .. } => {
                        let slow = duration > config.slow_call_duration_threshold;
                        self.trials.add(&Outcomes::one(failed, slow));
                        if self.trials.calls < u64::from(self.permitted()) {
                            return;
                        }
                        if exceeds(config, self.trials) {
                            BreakerState::Open
                        } else {
                            BreakerState::Closed
                        }
                    }
                    Kind::Consecutive { .. } if failed => BreakerState::Open,
                    Kind::Consecutive { .. } => BreakerState::Closed,
                };
                self.transition(to, now);
            }
        }
    }

    /// A permitted call ended without a result that counts (cancelled): in half-open its
    /// trial slot is freed. At most one transition (a due automatic open to half-open).
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn on_ignored(&mut self, now: SimTime, permit: BreakerPermit) {
        self.tick(now);
        if self.apply_due(now) || permit.epoch != self.epoch || self.state != BreakerState::HalfOpen {
            return;
        }
        assert!(
            self.trials.calls < u64::from(self.trials_admitted),
            "ignored trial without an outstanding trial ({} results, {} admitted)",
            self.trials.calls,
            self.trials_admitted
        );
        // Resilience4j `HalfOpenState.releasePermission`.
        self.trials_admitted -= 1;
    }

    fn tick(&mut self, now: SimTime) {
        assert!(now >= self.now, "time went backwards: {now:?} after {:?}", self.now);
        self.now = now;
    }

    fn permit(&self) -> BreakerPermit {
        BreakerPermit { epoch: self.epoch }
    }

    /// Time open before half-open.
    fn wait(&self) -> SimDuration {
        match &self.kind {
            Kind::Resilience4j { config, .. } => config.wait_duration_in_open_state,
            Kind::Consecutive { config, .. } => config.break_duration,
        }
    }

    /// Does the open state end by itself, at exactly `since + wait`?
    fn automatic(&self) -> bool {
        match &self.kind {
            Kind::Resilience4j { config, .. } => config.automatic_transition_from_open_to_half_open_enabled,
            Kind::Consecutive { .. } => true,
        }
    }

    /// Trial calls in half-open.
    fn permitted(&self) -> u32 {
        match &self.kind {
            Kind::Resilience4j { config, .. } => config.permitted_number_of_calls_in_half_open_state,
            Kind::Consecutive { .. } => 1,
        }
    }

    /// The automatic open to half-open transition, if due by `now`; it happens at the end of
    /// the wait, not at `now`. Returns whether it happened.
    fn apply_due(&mut self, now: SimTime) -> bool {
        let due = self.next_transition();
        match due {
            Some(at) if at <= now => {
                self.transition(BreakerState::HalfOpen, at);
                true
            }
            _ => false,
        }
    }

    fn transition(&mut self, to: BreakerState, at: SimTime) {
        use BreakerState::{Closed, HalfOpen, Open};
        let from = self.state;
        let legal =
            matches!((from, to), (Closed, Open) | (Open, HalfOpen) | (HalfOpen, Open) | (HalfOpen, Closed));
        assert!(legal, "illegal breaker transition {from:?} -> {to:?}");
        assert!(at >= self.since, "transition at {at:?} before the state began at {:?}", self.since);
        assert!(at <= self.now, "transition at {at:?} after now {:?}", self.now);
        self.state = to;
        self.since = at;
        // Wrapping: a permit would need to outlive 2^32 transitions to be mistaken as current.
        self.epoch = self.epoch.wrapping_add(1);
        match to {
            Open => self.opens += 1,
            HalfOpen => {
                self.trials_admitted = 0;
                self.trials = Outcomes::default();
            }
            // Resilience4j starts a new `ClosedState` with fresh metrics.
            Closed => match &mut self.kind {
                Kind::Resilience4j { window, .. } => window.clear(),
                Kind::Consecutive { failures, .. } => *failures = 0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use squall_kernel::time::NS_PER_MS;
    use BreakerState::{Closed, HalfOpen, Open};

    fn ms(n: u64) -> SimTime {
        SimTime(n * NS_PER_MS)
    }

    const FAST: SimDuration = SimDuration::from_millis(10);

    fn r4j(c: Resilience4jConfig) -> Breaker {
        Breaker::new(BreakerConfig::Resilience4j(c))
    }

    /// Acquires and reports one call at `t`.
    fn call(b: &mut Breaker, t: SimTime, failed: bool) {
        let p = b.try_acquire(t).expect("call admitted");
        b.on_result(t, p, FAST, failed);
    }

    #[test]
    fn count_based_minimum_is_capped_at_the_window_size() {
        // slidingWindowSize 10 with the default minimumNumberOfCalls 100: judged after 10.
        let mut b = r4j(Resilience4jConfig { sliding_window_size: 10, ..Default::default() });
        for i in 0..5 {
            call(&mut b, ms(i), true);
        }
        for i in 5..9 {
            call(&mut b, ms(i), false);
        }
        assert_eq!(b.state(), Closed, "9 calls, below the minimum of 10");
        call(&mut b, ms(9), false);
        assert_eq!(b.state(), Open, "5 failures of 10 = 50 % ≥ 50 %");
        assert_eq!((b.since(), b.opens()), (ms(9), 1));
        assert_eq!(b.try_acquire(ms(10)), None);
    }

    #[test]
    fn count_based_window_forgets_the_oldest_outcome() {
        let mut b = r4j(Resilience4jConfig { sliding_window_size: 10, ..Default::default() });
        call(&mut b, ms(0), true);
        for i in 1..10 {
            call(&mut b, ms(i), false);
        }
        // F S S S drop out as F F F F come in: 4 of 10.
        for i in 10..14 {
            call(&mut b, ms(i), true);
        }
        assert_eq!(b.state(), Closed, "40 %");
        call(&mut b, ms(14), true);
        assert_eq!(b.state(), Open, "50 %");
    }

    #[test]
    fn slow_calls_are_strictly_longer_than_the_threshold() {
        let mut b = r4j(Resilience4jConfig {
            sliding_window_size: 4,
            slow_call_rate_threshold: 50.0,
            slow_call_duration_threshold: SimDuration::from_secs(1),
            ..Default::default()
        });
        let mut t = 0;
        for d in [SimDuration::from_secs(1), SimDuration::from_millis(1001), FAST, FAST] {
            let p = b.try_acquire(ms(t)).unwrap();
            b.on_result(ms(t), p, d, false);
            t += 1;
        }
        assert_eq!(b.state(), Closed, "1 slow call of 4: exactly 1 s is not slow");
        let p = b.try_acquire(ms(t)).unwrap();
        b.on_result(ms(t), p, SimDuration::from_secs(2), false);
        assert_eq!(b.state(), Open, "2 slow successes of the last 4 = 50 %");
    }

    #[test]
    fn time_based_window_expires_whole_seconds_and_does_not_cap_the_minimum() {
        // Two one-second buckets, minimum 5 calls (more than the window size).
        let config = Resilience4jConfig {
            sliding_window_type: SlidingWindow::TimeBased,
            sliding_window_size: 2,
            minimum_number_of_calls: 5,
            ..Default::default()
        };
        let mut b = r4j(config);
        for i in 0..4 {
            call(&mut b, ms(100 * i), true);
        }
        // At 2.0 s the bucket of second 0 is gone: one call in the window.
        call(&mut b, ms(2000), true);
        assert_eq!(b.state(), Closed);
        let mut b = r4j(config);
        for i in 0..4 {
            call(&mut b, ms(100 * i), true);
        }
        // At 1.999 s seconds 0 and 1 are both in the window: 5 failures of 5.
        call(&mut b, ms(1999), true);
        assert_eq!(b.state(), Open);
    }

    fn tripped(config: Resilience4jConfig) -> Breaker {
        let mut b = r4j(Resilience4jConfig { sliding_window_size: 2, ..config });
        call(&mut b, ms(0), true);
        call(&mut b, ms(0), true);
        assert_eq!(b.state(), Open);
        b
    }

    #[test]
    fn half_open_comes_lazily_strictly_after_the_wait_and_admits_the_permitted_calls() {
        let mut b = tripped(Resilience4jConfig {
            permitted_number_of_calls_in_half_open_state: 3,
            ..Default::default()
        });
        assert_eq!(b.try_acquire(ms(60_000)), None, "isAfter is strict");
        b.advance(ms(90_000));
        assert_eq!(b.state(), Open, "no automatic transition");
        assert_eq!(b.next_transition(), None);
        let late = ms(90_000) + SimDuration(1);
        let trials: Vec<_> = (0..3).map(|_| b.try_acquire(late).expect("trial")).collect();
        assert_eq!((b.state(), b.since()), (HalfOpen, late), "since is the lazy transition");
        assert_eq!(b.try_acquire(late), None, "only 3 trial calls");
        // 1 failure of 3 = 33 % < 50 %: closed, with an empty window.
        b.on_result(ms(91_000), trials[0], FAST, false);
        b.on_result(ms(91_000), trials[1], FAST, true);
        assert_eq!(b.state(), HalfOpen, "decides once all trials reported");
        b.on_result(ms(92_000), trials[2], FAST, false);
        assert_eq!((b.state(), b.since(), b.opens()), (Closed, ms(92_000), 1));
        call(&mut b, ms(93_000), true);
        assert_eq!(b.state(), Closed, "the window restarted: 1 call is below the minimum");
    }

    #[test]
    fn failing_trials_reopen_and_restart_the_wait() {
        let mut b = tripped(Resilience4jConfig {
            permitted_number_of_calls_in_half_open_state: 2,
            ..Default::default()
        });
        let t = ms(60_001);
        let (p1, p2) = (b.try_acquire(t).unwrap(), b.try_acquire(t).unwrap());
        b.on_result(t, p1, FAST, true);
        b.on_result(ms(61_000), p2, FAST, false);
        assert_eq!((b.state(), b.since(), b.opens()), (Open, ms(61_000), 2), "50 % ≥ 50 %");
        assert_eq!(b.try_acquire(ms(121_000)), None);
        assert!(b.try_acquire(ms(121_001)).is_some());
    }

    #[test]
    fn automatic_transition_happens_at_exactly_the_end_of_the_wait() {
        let mut b = tripped(Resilience4jConfig {
            automatic_transition_from_open_to_half_open_enabled: true,
            ..Default::default()
        });
        assert_eq!(b.next_transition(), Some(ms(60_000)));
        b.advance(ms(59_999));
        assert_eq!(b.state(), Open);
        // A call 10 s after the wait: the state began at 60 s, not now.
        assert!(b.try_acquire(ms(70_000)).is_some());
        assert_eq!((b.state(), b.since()), (HalfOpen, ms(60_000)));
        assert_eq!(b.next_transition(), None);
        let mut b = tripped(Resilience4jConfig {
            automatic_transition_from_open_to_half_open_enabled: true,
            ..Default::default()
        });
        b.advance(ms(60_000));
        assert_eq!((b.state(), b.since()), (HalfOpen, ms(60_000)));
    }

    #[test]
    fn results_of_calls_admitted_before_a_transition_are_ignored() {
        let mut b = r4j(Resilience4jConfig {
            sliding_window_size: 2,
            permitted_number_of_calls_in_half_open_state: 1,
            wait_duration_in_open_state: SimDuration::from_secs(1),
            ..Default::default()
        });
        let old = b.try_acquire(ms(0)).unwrap();
        call(&mut b, ms(0), true);
        call(&mut b, ms(0), true);
        assert_eq!(b.state(), Open);
        b.on_result(ms(500), old, FAST, false);
        assert_eq!((b.state(), b.opens()), (Open, 1), "stale in open");
        let trial = b.try_acquire(ms(1001)).unwrap();
        b.on_result(ms(1002), old, FAST, false);
        assert_eq!(b.state(), HalfOpen, "a stale success does not close it");
        b.on_result(ms(1003), trial, FAST, true);
        assert_eq!(b.state(), Open);
    }

    #[test]
    fn an_ignored_trial_frees_its_slot() {
        let mut b = tripped(Resilience4jConfig {
            permitted_number_of_calls_in_half_open_state: 1,
            ..Default::default()
        });
        let t = ms(60_001);
        let trial = b.try_acquire(t).unwrap();
        assert_eq!(b.try_acquire(t), None);
        b.on_ignored(t, trial);
        assert_eq!(b.state(), HalfOpen);
        let trial = b.try_acquire(t).expect("the slot came back");
        b.on_result(t, trial, FAST, false);
        assert_eq!(b.state(), Closed);
    }

    #[test]
    fn consecutive_breaker_opens_on_a_run_of_failures_and_probes_once() {
        let config = ConsecutiveConfig { failure_threshold: 3, break_duration: SimDuration::from_secs(5) };
        let mut b = Breaker::new(BreakerConfig::Consecutive(config));
        for (i, failed) in [true, true, false, true, true].into_iter().enumerate() {
            call(&mut b, ms(i as u64), failed);
        }
        assert_eq!(b.state(), Closed, "the success ended the first run");
        call(&mut b, ms(5), true);
        assert_eq!((b.state(), b.since()), (Open, ms(5)));
        assert_eq!(b.next_transition(), Some(ms(5005)));
        assert_eq!(b.try_acquire(ms(5004)), None);
        b.advance(ms(6000));
        assert_eq!((b.state(), b.since()), (HalfOpen, ms(5005)));
        let trial = b.try_acquire(ms(6000)).unwrap();
        assert_eq!(b.try_acquire(ms(6000)), None, "a single probe");
        b.on_result(ms(6001), trial, FAST, true);
        assert_eq!((b.state(), b.since(), b.opens()), (Open, ms(6001), 2));
        let trial = b.try_acquire(ms(11_001)).unwrap();
        assert_eq!(b.since(), ms(11_001));
        b.on_result(ms(11_002), trial, SimDuration::from_secs(100), false);
        assert_eq!(b.state(), Closed);
        call(&mut b, ms(11_003), true);
        call(&mut b, ms(11_004), true);
        assert_eq!(b.state(), Closed, "the failure count restarted");
    }

    #[derive(Clone, Copy, Debug)]
    enum Op {
        Acquire,
        Result { pick: usize, failed: bool, duration_ms: u64 },
        Ignore { pick: usize },
        Advance,
    }

    fn any_config() -> impl Strategy<Value = BreakerConfig> {
        let window = prop_oneof![Just(SlidingWindow::CountBased), Just(SlidingWindow::TimeBased)];
        let threshold = prop_oneof![Just(50.0), Just(100.0), 1.0f64..=100.0];
        let r4j = (
            (threshold.clone(), threshold, 0u64..2000, window),
            (1u32..8, 1u32..12, 1u32..5, 0u64..5000, any::<bool>()),
        )
            .prop_map(
                |((failure, slow, slow_ms, kind), (size, minimum, permitted, wait_ms, automatic))| {
                    BreakerConfig::Resilience4j(Resilience4jConfig {
                        failure_rate_threshold: failure,
                        slow_call_rate_threshold: slow,
                        slow_call_duration_threshold: SimDuration::from_millis(slow_ms),
                        sliding_window_type: kind,
                        sliding_window_size: size,
                        minimum_number_of_calls: minimum,
                        permitted_number_of_calls_in_half_open_state: permitted,
                        wait_duration_in_open_state: SimDuration::from_millis(wait_ms),
                        automatic_transition_from_open_to_half_open_enabled: automatic,
                    })
                },
            );
        let consecutive = (1u32..5, 0u64..5000).prop_map(|(failure_threshold, break_ms)| {
            BreakerConfig::Consecutive(ConsecutiveConfig {
                failure_threshold,
                break_duration: SimDuration::from_millis(break_ms),
            })
        });
        prop_oneof![r4j, consecutive]
    }

    fn any_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Acquire),
            3 => (any::<usize>(), prop::bool::weighted(0.6), 0u64..3000)
                .prop_map(|(pick, failed, duration_ms)| Op::Result { pick, failed, duration_ms }),
            1 => any::<usize>().prop_map(|pick| Op::Ignore { pick }),
            1 => Just(Op::Advance),
        ]
    }

    proptest! {
        /// Only legal transitions, at most one per call; `since` never decreases nor passes
        /// `now`; half-open never has more than the permitted trials out; open never admits
        /// before `since + wait` (strictly after, for a lazy Resilience4j breaker).
        #[test]
        fn breaker_makes_only_legal_transitions(
            config in any_config(),
            ops in proptest::collection::vec((0u64..400, any_op()), 1..400),
        ) {
            let (wait, lazy, permitted) = match config {
                BreakerConfig::Resilience4j(c) => (
                    c.wait_duration_in_open_state,
                    !c.automatic_transition_from_open_to_half_open_enabled,
                    c.permitted_number_of_calls_in_half_open_state,
                ),
                BreakerConfig::Consecutive(c) => (c.break_duration, false, 1),
            };
            let mut b = Breaker::new(config);
            let mut now = SimTime::ZERO;
            // Outstanding permits, with the episode (count of transitions) they came from.
            let mut out: Vec<(BreakerPermit, u64)> = Vec::new();
            let mut episode = 0u64;
            let mut opens = 0u64;
            for (gap_ms, op) in ops {
                now += SimDuration::from_millis(gap_ms);
                let (state, since) = (b.state(), b.since());
                let mut admitted = false;
                match op {
                    Op::Acquire => {
                        if let Some(p) = b.try_acquire(now) {
                            admitted = true;
                            out.push((p, episode));
                        }
                    }
                    Op::Result { pick, failed, duration_ms } if !out.is_empty() => {
                        let (p, _) = out.swap_remove(pick % out.len());
                        b.on_result(now, p, SimDuration::from_millis(duration_ms), failed);
                    }
                    Op::Ignore { pick } if !out.is_empty() => {
                        let (p, _) = out.swap_remove(pick % out.len());
                        b.on_ignored(now, p);
                    }
                    _ => b.advance(now),
                }
                let (after, after_since) = (b.state(), b.since());
                if after == state {
                    prop_assert_eq!(after_since, since, "a state re-entered itself in one call");
                    prop_assert_eq!(b.opens(), opens);
                } else {
                    let legal = matches!(
                        (state, after),
                        (Closed, Open) | (Open, HalfOpen) | (HalfOpen, Open) | (HalfOpen, Closed)
                    );
                    prop_assert!(legal, "{:?} -> {:?}", state, after);
                    episode += 1;
                    if after == Open {
                        opens += 1;
                    }
                    prop_assert_eq!(b.opens(), opens);
                }
                prop_assert!(after_since >= since && after_since <= now);
                if after == Open {
                    prop_assert!(!admitted, "admitted while open");
                }
                if admitted && state == Open {
                    let end = since.saturating_add(wait);
                    prop_assert!(now >= end && after_since >= end);
                    if lazy {
                        prop_assert!(now > end);
                    }
                }
                if after == HalfOpen {
                    let current = out.iter().filter(|(_, e)| *e == episode).count();
                    prop_assert!(current <= permitted as usize, "{} trials out of {}", current, permitted);
                }
            }
        }
    }
}
