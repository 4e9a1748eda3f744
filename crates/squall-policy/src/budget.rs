//! Retry budgets: what stops retries from multiplying load when a dependency fails. Finagle's
//! `RetryBudget`, Envoy's retry budget and `max_retries` circuit breaker, gRPC retry
//! throttling (milli-token arithmetic), and the AWS SDK standard-mode retry quota.
//!
//! One [`RetryBudget`] holds one of them behind the same calls, made by the engine at fixed
//! points of a logical request's life:
//! - [`RetryBudget::record_request`] when a logical request starts (its first attempt);
//! - [`RetryBudget::record_result`] when an attempt ends;
//! - [`RetryBudget::try_retry`] when a retry (or hedge) would be sent: `Some(cost)` allows it,
//!   holding `cost` units that go back with the request's final success.

use squall_kernel::{SimDuration, SimTime};

/// Which budget, with its parameters (real names, real defaults).
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum RetryBudgetConfig {
    /// Finagle `RetryBudget(ttl, minRetriesPerSec, percentCanRetry)`: within any `ttl`,
    /// retries ≤ `min_retries_per_sec · ttl + percent_can_retry · requests`.
    Finagle {
        /// Window over which deposits and withdrawals count (10 s; 1–60 s).
        ttl: SimDuration,
        /// Retries always allowed per second (10).
        min_retries_per_sec: u32,
        /// Retries allowed per request (0.2).
        percent_can_retry: f64,
    },
    /// Envoy `retry_budget`: retries in flight ≤ `max(budget_percent/100 · active,
    /// min_retry_concurrency)`, `active` being the requests in flight.
    Envoy {
        /// `budget_percent` (20).
        budget_percent: f64,
        /// `min_retry_concurrency` (3).
        min_retry_concurrency: u32,
    },
    /// Envoy's `max_retries` circuit-breaker threshold: retries in flight ≤ `max_retries` (3).
    MaxRetries {
        /// `max_retries`.
        max_retries: u32,
    },
    /// gRPC `retryThrottling`: milli-token bucket; a retry only while `tokens > max/2`.
    GrpcThrottle {
        /// `maxTokens` (e.g. 10).
        max_tokens: u32,
        /// `tokenRatio` (e.g. 0.1), truncated to 3 decimals.
        token_ratio: f64,
    },
    /// AWS SDK standard-mode retry quota.
    AwsQuota {
        /// `INITIAL_CAPACITY` (500), also the cap.
        initial_capacity: u32,
        /// `RETRY_COST` (5).
        retry_cost: u32,
        /// `TIMEOUT_RETRY_COST` (10), for retries after a timeout.
        timeout_retry_cost: u32,
        /// `NO_RETRY_INCREMENT` (1): refill on a success that needed no retry.
        no_retry_increment: u32,
    },
}

/// How an attempt ended, as budgets see it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AttemptResult {
    /// It succeeded.
    Success,
    /// It failed in a way the policy retries (`timeout`: it timed out).
    RetryableFailure {
        /// A timeout (AWS charges more to retry those).
        timeout: bool,
    },
    /// It failed in a way the policy does not retry (neutral for gRPC).
    OtherFailure,
}

/// A retry budget's state.
#[derive(Clone, Debug)]
pub struct RetryBudget {
    _todo: (),
}

impl RetryBudget {
    /// A full budget.
    pub fn new(config: RetryBudgetConfig) -> RetryBudget {
        let _ = config;
        todo!()
    }

    /// A logical request starts (Finagle deposits).
    pub fn record_request(&mut self, now: SimTime) {
        let _ = now;
        todo!()
    }

    /// An attempt ended. `held` is what the logical request holds from earlier
    /// [`try_retry`](Self::try_retry) calls; on a success it goes back (AWS).
    pub fn record_result(&mut self, now: SimTime, result: AttemptResult, held: u32) {
        let _ = (now, result, held);
        todo!()
    }

    /// May a retry be sent now? `active` attempts of this caller are in flight, `retries_active`
    /// of them retries. `timeout`: the failure being retried was a timeout. `Some(cost)` allows
    /// it (the cost is held by the request, see [`record_result`](Self::record_result)).
    pub fn try_retry(
        &mut self,
        now: SimTime,
        active: u32,
        retries_active: u32,
        timeout: bool,
    ) -> Option<u32> {
        let _ = (now, active, retries_active, timeout);
        todo!()
    }
}
