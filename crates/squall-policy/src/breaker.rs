//! Circuit breakers: Resilience4j's (count- or time-based sliding window, failure-rate and
//! slow-call thresholds, half-open trial calls) and a consecutive-failures breaker.
//!
//! The engine asks [`Breaker::try_acquire`] before sending an attempt and reports its end with
//! [`Breaker::on_result`] (or [`Breaker::on_ignored`] for a call whose result does not count,
//! e.g. a cancelled hedge). Results are tagged with the permit's epoch: a result of a call
//! admitted before the last state change is not recorded. Each call makes at most one state
//! transition, and [`Breaker::since`] says when the current state began, so the engine can
//! keep exact time-in-state figures.

use squall_kernel::{SimDuration, SimTime};

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
    _todo: (),
}

impl Breaker {
    /// A closed breaker, its state beginning at time zero.
    pub fn new(config: BreakerConfig) -> Breaker {
        let _ = config;
        todo!()
    }

    /// The current state (as of the last call; see [`advance`](Self::advance)).
    pub fn state(&self) -> BreakerState {
        todo!()
    }

    /// When the current state began.
    pub fn since(&self) -> SimTime {
        todo!()
    }

    /// Times the breaker opened (from closed or half-open).
    pub fn opens(&self) -> u64 {
        todo!()
    }

    /// Applies a transition due by `now` without a call (open to half-open at the end of the
    /// wait, when automatic transition is enabled). At most one transition.
    pub fn advance(&mut self, now: SimTime) {
        let _ = now;
        todo!()
    }

    /// May a call go through now? Open turns half-open here, lazily, once the wait is over.
    pub fn try_acquire(&mut self, now: SimTime) -> Option<BreakerPermit> {
        let _ = now;
        todo!()
    }

    /// A permitted call ended: `failed`, and how long it took (slow-call detection).
    pub fn on_result(&mut self, now: SimTime, permit: BreakerPermit, duration: SimDuration, failed: bool) {
        let _ = (now, permit, duration, failed);
        todo!()
    }

    /// A permitted call ended without a result that counts (cancelled): in half-open its
    /// trial slot is freed.
    pub fn on_ignored(&mut self, now: SimTime, permit: BreakerPermit) {
        let _ = (now, permit);
        todo!()
    }
}
