//! Back-off between retry attempts: the AWS architecture-blog formulas, gRPC's (per
//! language), Envoy's doubling ceiling, and a fixed interval.
//!
//! Every function takes its random draw as a uniform `u` in `[0, 1)` from the caller, so the
//! policy needs no random number generator of its own and tests can pass exact values.

use squall_kernel::SimDuration;

/// How a jittered exponential back-off spreads its waits (AWS "Exponential Backoff and
/// Jitter", 2015). `t = min(cap, base · 2^retry)` with `retry` counted from 0.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Jitter {
    /// Wait exactly `t`: retries of many callers stay in lockstep.
    None,
    /// `U(0, t)`.
    Full,
    /// `t/2 + U(0, t/2)`.
    Equal,
    /// `min(cap, U(base, 3 · previous))`, the previous wait starting at `base`.
    Decorrelated,
}

/// How gRPC implementations jitter (gRFC A6 and its implementations differ).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum GrpcJitter {
    /// grpc-go and grpc-java: `U(0, current)`.
    Full,
    /// gRPC C-core (C++, Python, Ruby, PHP): `current · U(0.8, 1.2)`, which may exceed
    /// `max_backoff` by 20 %.
    CCore,
}

/// A back-off rule: the wait before each retry.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Backoff {
    /// Retry at once (the naive client).
    Immediate,
    /// The same wait every time (Resilience4j's `waitDuration`, 500 ms by default).
    Constant {
        /// The wait.
        delay: SimDuration,
    },
    /// AWS's exponential back-off with a jitter variant.
    Exponential {
        /// First ceiling.
        base: SimDuration,
        /// Largest ceiling.
        cap: SimDuration,
        /// How the wait is drawn below the ceiling.
        jitter: Jitter,
    },
    /// gRPC retry policy back-off: `current` starts at `initial_backoff` and is multiplied by
    /// `multiplier` after each retry, capped at `max_backoff`.
    Grpc {
        /// `initialBackoff`.
        initial_backoff: SimDuration,
        /// `maxBackoff`.
        max_backoff: SimDuration,
        /// `backoffMultiplier`.
        multiplier: f64,
        /// Per-language jitter.
        jitter: GrpcJitter,
    },
    /// Envoy's `JitteredExponentialBackOffStrategy`: retry n waits `U[0, min(base · 2^(n−1),
    /// max))` in whole milliseconds.
    Envoy {
        /// `retry_back_off.base_interval` (25 ms).
        base_interval: SimDuration,
        /// `retry_back_off.max_interval` (10 × base).
        max_interval: SimDuration,
    },
}

/// Per-request back-off state: how many retries were waited for, and the previous wait (or
/// gRPC's current ceiling). Small and `Copy`, kept inside each logical request.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct BackoffState {
    /// Retries already waited for.
    pub retries: u32,
    /// Previous wait (decorrelated), or the current ceiling (gRPC, Envoy); zero before the
    /// first retry.
    pub prev: SimDuration,
}

impl Backoff {
    /// The wait before the next retry, given a uniform draw `u` in `[0, 1)`. Advances `state`.
    pub fn next_delay(&self, state: &mut BackoffState, u: f64) -> SimDuration {
        let _ = (state, u);
        todo!()
    }

    /// A server's pushback was honoured: the exponential state starts over (gRPC).
    pub fn reset(&self, state: &mut BackoffState) {
        *state = BackoffState::default();
    }

    /// The smallest and largest wait `next_delay` can return for the retry after `retries`
    /// earlier ones (for decorrelated jitter, given the previous wait `prev`).
    pub fn bounds(&self, state: &BackoffState) -> (SimDuration, SimDuration) {
        let _ = state;
        todo!()
    }
}
