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
//!
//! The rules, in the systems' own integer arithmetic:
//! - Finagle (`finagle-core` `RetryBudget.scala`, `TokenBucket.newLeakyBucket`,
//!   `util-core` `WindowedAdder`): tokens ×1000. Each request deposits 1000; a retry
//!   withdraws `cost = floor(1000 / percentCanRetry)` (5000 at 0.2) if `balance ≥ cost`, where
//!   `balance = reserve + Σ deposits − Σ withdrawals` over the last `ttl` and
//!   `reserve = minRetriesPerSec · ttl_secs · cost`. With `percentCanRetry = 0` deposits are
//!   0 and a retry costs 1, so only the reserve pays; with both parameters 0 the budget is
//!   Finagle's `Empty` and never allows a retry. The window is a ring of 10 slices of
//!   `ttl/10` aligned to multiples of `ttl/10`, so an entry lives between 9/10 and all of
//!   `ttl`. Finagle's `WindowedAdder` also keeps 10 slices but starts each at the first call
//!   after the previous one ended, so its lifetimes differ from these by under a slice.
//! - Envoy (`circuit_breaker.proto`, `ResourceManagerImpl::RetryBudgetImpl`): a retry may
//!   start while `retries_active < max(floor(budget_percent/100 · active),
//!   min_retry_concurrency)`; `max_retries` alone: `retries_active < max_retries`. Both are
//!   concurrency limits and keep no state here; the engine passes the live gauges.
//! - gRPC (C-core `retry_throttle.cc`): milli-tokens, `max = maxTokens·1000`,
//!   `ratio = tokenRatio·1000` truncated; the bucket starts full. A retryable failure takes
//!   1000 (not below 0), a success adds `ratio` (not above `max`), other failures are neutral;
//!   a retry (or a hedge after the first attempt) is allowed iff `tokens > max/2`, integer
//!   division, strictly. The engine records the failure first, so the decision sees the
//!   count after it, as gRPC's `RecordFailure()` return value does.
//! - AWS (botocore `retries/quota.py`, `standard.py`): capacity starts at and is capped at
//!   `INITIAL_CAPACITY`; a retry acquires `RETRY_COST` (`TIMEOUT_RETRY_COST` after a timeout)
//!   if the capacity covers it, else the error is returned; a success releases what the
//!   request acquired, or `NO_RETRY_INCREMENT` if it acquired nothing.
//!
//! Each kind is evaluated lazily from the `now` of each call; nothing allocates after
//! [`RetryBudget::new`].

use squall_kernel::time::NS_PER_S;
use squall_kernel::{SimDuration, SimTime};

use crate::window::SliceRing;

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

/// Finagle's `ScaleFactor`: a deposit is worth 1000 milli-tokens.
const FINAGLE_SCALE: i64 = 1000;

/// Finagle's `WindowedAdder` slices over `ttl`.
const FINAGLE_SLICES: usize = 10;

/// A retry budget's state.
#[derive(Clone, Debug)]
pub struct RetryBudget {
    config: RetryBudgetConfig,
    state: State,
    /// Latest `now` seen, to assert time order.
    now: SimTime,
}

/// Per-kind state.
#[derive(Clone, Debug)]
enum State {
    /// Finagle's token bucket over a windowed adder, in milli-tokens.
    Finagle {
        /// Deposits minus withdrawals within the ttl.
        window: SliceRing<i64>,
        /// Always-present tokens: `min_retries_per_sec · ttl_secs · cost`.
        reserve: i64,
        /// Added per request: 1000, or 0 when `percent_can_retry` is 0.
        deposit: i64,
        /// Taken per retry: `floor(1000 / percent_can_retry)`, or 1 when it is 0.
        cost: i64,
    },
    /// Finagle's `RetryBudget.Empty`: both parameters zero.
    Empty,
    /// Stateless concurrency checks (Envoy budget and `max_retries`).
    Concurrency,
    /// gRPC retry throttling, in milli-tokens.
    Grpc {
        /// Current tokens.
        tokens: u64,
        /// `maxTokens · 1000`.
        max: u64,
        /// `tokenRatio · 1000`, truncated.
        ratio: u64,
    },
    /// AWS retry quota.
    Aws {
        /// Capacity left.
        capacity: u32,
    },
}

impl RetryBudget {
    /// A full budget.
    ///
    /// # Panics
    /// On a Finagle `ttl` outside [1 s, 60 s] or a `percent_can_retry` outside [0, 1000]
    /// (Finagle's own checks); on a gRPC `max_tokens` of 0 or a `token_ratio` that is negative
    /// or not finite; on an Envoy `budget_percent` that is negative or not finite.
    pub fn new(config: RetryBudgetConfig) -> RetryBudget {
        let state = match config {
            RetryBudgetConfig::Finagle { ttl, min_retries_per_sec, percent_can_retry } => {
                let p = percent_can_retry;
                assert!(ttl >= SimDuration::from_secs(1), "Finagle ttl must be at least 1 s, got {ttl}");
                assert!(ttl <= SimDuration::from_secs(60), "Finagle ttl must be at most 60 s, got {ttl}");
                assert!(p.is_finite(), "percent_can_retry must be finite, got {p}");
                assert!((0.0..=1000.0).contains(&p), "percent_can_retry {p} outside [0, 1000]");
                if min_retries_per_sec == 0 && p == 0.0 {
                    State::Empty
                } else {
                    // Finagle: `(ScaleFactor / percentCanRetry).toInt`, and with no percentage
                    // deposits are 0 and a retry costs 1, so only the reserve pays.
                    let (deposit, cost) =
                        if p == 0.0 { (0, 1) } else { (FINAGLE_SCALE, (FINAGLE_SCALE as f64 / p) as i64) };
                    let ttl_secs = (ttl.as_nanos() / NS_PER_S) as i64;
                    let reserve =
                        i64::from(min_retries_per_sec).saturating_mul(ttl_secs).saturating_mul(cost);
                    let slice = SimDuration(ttl.as_nanos() / FINAGLE_SLICES as u64);
                    State::Finagle { window: SliceRing::new(FINAGLE_SLICES, slice), reserve, deposit, cost }
                }
            }
            RetryBudgetConfig::Envoy { budget_percent, .. } => {
                assert!(budget_percent.is_finite(), "budget_percent must be finite, got {budget_percent}");
                assert!(budget_percent >= 0.0, "budget_percent must not be negative, got {budget_percent}");
                State::Concurrency
            }
            RetryBudgetConfig::MaxRetries { .. } => State::Concurrency,
            RetryBudgetConfig::GrpcThrottle { max_tokens, token_ratio } => {
                assert!(max_tokens >= 1, "gRPC maxTokens must be positive");
                assert!(token_ratio.is_finite(), "gRPC tokenRatio must be finite, got {token_ratio}");
                assert!(token_ratio >= 0.0, "gRPC tokenRatio must not be negative, got {token_ratio}");
                let max = u64::from(max_tokens) * 1000;
                // gRPC parses the decimal text and keeps 3 decimals. Going through millionths
                // first recovers that text from the nearest f64 (0.57 · 1000 is 569.99… in f64).
                let micro = (token_ratio * 1e6).round() as u64;
                State::Grpc { tokens: max, max, ratio: micro / 1000 }
            }
            RetryBudgetConfig::AwsQuota { initial_capacity, .. } => State::Aws { capacity: initial_capacity },
        };
        RetryBudget { config, state, now: SimTime::ZERO }
    }

    /// The configuration.
    pub fn config(&self) -> &RetryBudgetConfig {
        &self.config
    }

    /// Asserts time order and remembers `now`.
    fn tick(&mut self, now: SimTime) {
        assert!(now >= self.now, "time went backwards: {now:?} after {:?}", self.now);
        self.now = now;
    }

    /// A logical request starts (Finagle deposits).
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn record_request(&mut self, now: SimTime) {
        self.tick(now);
        if let State::Finagle { window, deposit, .. } = &mut self.state {
            window.add(now, *deposit);
        }
    }

    /// An attempt ended. `held` is what the logical request holds from earlier
    /// [`try_retry`](Self::try_retry) calls; on a success it goes back (AWS).
    ///
    /// gRPC: a retryable failure takes a token (1000 milli-tokens, not below 0), a success
    /// adds `tokenRatio`, other failures are neutral. AWS: a success gives back `held` if it
    /// is positive, else `NO_RETRY_INCREMENT`, capped at the initial capacity; botocore gives
    /// back the cost of the request's *last* acquisition only (it overwrites
    /// `retry_quota_capacity` in the request context), so that is what `held` should be. The
    /// other budgets ignore results.
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn record_result(&mut self, now: SimTime, result: AttemptResult, held: u32) {
        self.tick(now);
        match (&mut self.state, result) {
            (State::Grpc { tokens, .. }, AttemptResult::RetryableFailure { .. }) => {
                *tokens = tokens.saturating_sub(1000);
            }
            (State::Grpc { tokens, max, ratio }, AttemptResult::Success) => {
                *tokens = tokens.saturating_add(*ratio).min(*max);
            }
            (State::Aws { capacity }, AttemptResult::Success) => {
                let RetryBudgetConfig::AwsQuota { initial_capacity, no_retry_increment, .. } = self.config
                else {
                    unreachable!("AWS state built from an AWS config")
                };
                let release = if held > 0 { held } else { no_retry_increment };
                *capacity = capacity.saturating_add(release).min(initial_capacity);
            }
            _ => {}
        }
    }

    /// May a retry be sent now? `active` attempts of this caller are in flight, `retries_active`
    /// of them retries. `timeout`: the failure being retried was a timeout. `Some(cost)` allows
    /// it (the cost is held by the request, see [`record_result`](Self::record_result)).
    ///
    /// Only the AWS quota holds anything: `Some(RETRY_COST)` or `Some(TIMEOUT_RETRY_COST)`.
    /// The others answer `Some(0)`: Finagle's withdrawal is not given back, and Envoy's and
    /// gRPC's checks take nothing.
    /// - Finagle: withdraws `cost` if `reserve + Σ(deposits − withdrawals within ttl) ≥ cost`.
    /// - Envoy: `retries_active < max(floor(budget_percent/100 · active),
    ///   min_retry_concurrency)`; `MaxRetries`: `retries_active < max_retries`.
    /// - gRPC: `tokens > max/2` (strictly; the failure was recorded first).
    /// - AWS: takes the cost if the capacity left covers it.
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn try_retry(
        &mut self,
        now: SimTime,
        active: u32,
        retries_active: u32,
        timeout: bool,
    ) -> Option<u32> {
        self.tick(now);
        match (&mut self.state, self.config) {
            (State::Finagle { window, reserve, cost, .. }, _) => {
                let balance = reserve.saturating_add(window.total_at(now));
                if balance < *cost {
                    return None;
                }
                window.add(now, -*cost);
                Some(0)
            }
            (State::Empty, _) => None,
            (State::Concurrency, RetryBudgetConfig::Envoy { budget_percent, min_retry_concurrency }) => {
                // Envoy `RetryBudgetImpl`: `std::max<uint64_t>(budget_percent / 100.0 *
                // current_active, min_retry_concurrency)`; the float-to-integer conversion
                // truncates.
                let budget = (budget_percent / 100.0 * f64::from(active)) as u64;
                let limit = budget.max(u64::from(min_retry_concurrency));
                (u64::from(retries_active) < limit).then_some(0)
            }
            (State::Concurrency, RetryBudgetConfig::MaxRetries { max_retries }) => {
                (retries_active < max_retries).then_some(0)
            }
            (State::Concurrency, config) => unreachable!("no concurrency budget for {config:?}"),
            (State::Grpc { tokens, max, .. }, _) => (*tokens > *max / 2).then_some(0),
            (State::Aws { capacity }, RetryBudgetConfig::AwsQuota { retry_cost, timeout_retry_cost, .. }) => {
                let cost = if timeout { timeout_retry_cost } else { retry_cost };
                let left = capacity.checked_sub(cost)?;
                *capacity = left;
                Some(cost)
            }
            (State::Aws { .. }, config) => unreachable!("AWS state built from {config:?}"),
        }
    }

    /// What is left, in the budget's own unit, as of `now`: Finagle's balance (reserve plus
    /// the windowed sum, milli-tokens), gRPC's milli-tokens, AWS's capacity; `None` for the
    /// concurrency budgets, which hold nothing, and for Finagle's empty budget.
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn level(&mut self, now: SimTime) -> Option<i64> {
        self.tick(now);
        match &mut self.state {
            State::Finagle { window, reserve, .. } => Some(reserve.saturating_add(window.total_at(now))),
            State::Empty | State::Concurrency => None,
            State::Grpc { tokens, .. } => i64::try_from(*tokens).ok(),
            State::Aws { capacity } => Some(i64::from(*capacity)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use squall_kernel::time::NS_PER_MS;

    fn secs(s: u64) -> SimTime {
        SimTime(s * NS_PER_S)
    }

    fn finagle(ttl_s: u64, min_retries_per_sec: u32, percent_can_retry: f64) -> RetryBudget {
        RetryBudget::new(RetryBudgetConfig::Finagle {
            ttl: SimDuration::from_secs(ttl_s),
            min_retries_per_sec,
            percent_can_retry,
        })
    }

    /// Retries allowed in a row at `now`.
    fn drain(b: &mut RetryBudget, now: SimTime) -> u32 {
        let mut n = 0;
        while b.try_retry(now, 0, 0, false).is_some() {
            n += 1;
            assert!(n <= 1_000_000, "budget never runs out");
        }
        n
    }

    #[test]
    fn finagle_defaults_allow_100_retries_from_the_reserve_then_one_per_five_requests() {
        // ttl 10 s, 10/s, 0.2: cost 5000, reserve 10 · 10 · 5000 = 500 000.
        let mut b = finagle(10, 10, 0.2);
        assert_eq!(b.level(secs(0)), Some(500_000));
        assert_eq!(drain(&mut b, secs(0)), 100);
        for _ in 0..4 {
            b.record_request(secs(1));
        }
        assert_eq!(b.try_retry(secs(1), 0, 0, false), None, "4000 < 5000");
        b.record_request(secs(1));
        assert_eq!(b.try_retry(secs(1), 0, 0, false), Some(0));
        assert_eq!(b.try_retry(secs(1), 0, 0, false), None);
        // Just before 10 s every withdrawal still counts; the 1 s deposits paid for the last.
        assert_eq!(b.level(SimTime(10 * NS_PER_S - 1)), Some(0));
        // The 100 withdrawals at t = 0 expire with their slice, at 10 s.
        assert_eq!(b.level(secs(10)), Some(500_000));
        // At 11 s the request deposits go too, and so does the retry they funded.
        assert_eq!(b.level(secs(11)), Some(500_000));
        for _ in 0..5 {
            b.record_request(secs(11));
        }
        assert_eq!(b.level(secs(20)), Some(505_000));
        assert_eq!(b.level(secs(21)), Some(500_000));
    }

    #[test]
    fn finagle_cost_is_the_truncated_inverse_of_the_percentage() {
        // 1000 / 0.3 = 3333.3 → 3333; reserve 1 · 1 · 3333.
        let mut b = finagle(1, 1, 0.3);
        assert_eq!(b.level(secs(0)), Some(3333));
        for _ in 0..10 {
            b.record_request(secs(0));
        }
        // 3333 + 10 000 = 13 333 = 4 · 3333 + 1.
        assert_eq!(drain(&mut b, secs(0)), 4);
        assert_eq!(b.level(secs(0)), Some(1));
    }

    #[test]
    fn finagle_with_no_percentage_only_the_reserve_pays() {
        // Cost 1, reserve 2 · 5 · 1 = 10, deposits 0.
        let mut b = finagle(5, 2, 0.0);
        for _ in 0..1000 {
            b.record_request(secs(0));
        }
        assert_eq!(drain(&mut b, secs(0)), 10);
        // Both zero: Finagle's empty budget.
        let mut empty = finagle(5, 0, 0.0);
        empty.record_request(secs(0));
        assert_eq!(empty.try_retry(secs(0), 0, 0, false), None);
        assert_eq!(empty.level(secs(0)), None);
    }

    #[test]
    fn envoy_budget_is_a_share_of_active_requests_with_a_floor() {
        let mut b =
            RetryBudget::new(RetryBudgetConfig::Envoy { budget_percent: 20.0, min_retry_concurrency: 3 });
        let t = SimTime::ZERO;
        // 20 % of 10 = 2 < 3: the floor rules.
        assert_eq!(b.try_retry(t, 10, 2, false), Some(0));
        assert_eq!(b.try_retry(t, 10, 3, false), None);
        // 20 % of 16 = 3.2 → 3.
        assert_eq!(b.try_retry(t, 16, 3, false), None);
        // 20 % of 100 = 20.
        assert_eq!(b.try_retry(t, 100, 19, false), Some(0));
        assert_eq!(b.try_retry(t, 100, 20, false), None);
        assert_eq!(b.level(t), None);
    }

    #[test]
    fn envoy_max_retries_defaults_to_three_concurrent_retries() {
        let mut b = RetryBudget::new(RetryBudgetConfig::MaxRetries { max_retries: 3 });
        assert_eq!(b.try_retry(SimTime::ZERO, 1000, 2, false), Some(0));
        assert_eq!(b.try_retry(SimTime::ZERO, 1000, 3, false), None);
    }

    fn grpc(max_tokens: u32, token_ratio: f64) -> RetryBudget {
        RetryBudget::new(RetryBudgetConfig::GrpcThrottle { max_tokens, token_ratio })
    }

    const FAIL: AttemptResult = AttemptResult::RetryableFailure { timeout: false };

    #[test]
    fn grpc_throttle_follows_the_worked_example() {
        // max 4, ratio 1.6, in milli-tokens; a retry needs tokens > 2000.
        let mut b = grpc(4, 1.6);
        let t = SimTime::ZERO;
        let steps: [(AttemptResult, i64, bool); 11] = [
            (FAIL, 3000, true),
            (AttemptResult::Success, 4000, true),
            (FAIL, 3000, true),
            (FAIL, 2000, false),
            (FAIL, 1000, false),
            (FAIL, 0, false),
            (FAIL, 0, false),
            (AttemptResult::Success, 1600, false),
            (AttemptResult::Success, 3200, true),
            (FAIL, 2200, true),
            (AttemptResult::OtherFailure, 2200, true),
        ];
        assert_eq!(b.level(t), Some(4000), "starts full");
        for (i, (result, tokens, allowed)) in steps.into_iter().enumerate() {
            b.record_result(t, result, 0);
            assert_eq!(b.level(t), Some(tokens), "step {i}");
            assert_eq!(b.try_retry(t, 0, 0, false).is_some(), allowed, "step {i}");
        }
    }

    #[test]
    fn grpc_throttle_closes_after_five_failures_with_ten_tokens() {
        let mut b = grpc(10, 0.1);
        for _ in 0..4 {
            b.record_result(SimTime::ZERO, FAIL, 0);
        }
        assert!(b.try_retry(SimTime::ZERO, 0, 0, false).is_some(), "6000 > 5000");
        b.record_result(SimTime::ZERO, FAIL, 0);
        assert!(b.try_retry(SimTime::ZERO, 0, 0, false).is_none(), "5000 is not > 5000");
        // Each success earns 100 milli-tokens: ten of them for one token.
        for _ in 0..10 {
            b.record_result(SimTime::ZERO, AttemptResult::Success, 0);
        }
        assert_eq!(b.level(SimTime::ZERO), Some(6000));
    }

    #[test]
    fn grpc_token_ratio_keeps_three_decimals() {
        for (ratio, milli) in [(0.57, 570), (0.5999, 599), (1.6, 1600), (0.0015, 1), (0.1, 100)] {
            let mut b = grpc(10, ratio);
            for _ in 0..2 {
                b.record_result(SimTime::ZERO, FAIL, 0);
            }
            b.record_result(SimTime::ZERO, AttemptResult::Success, 0);
            assert_eq!(b.level(SimTime::ZERO), Some(8000 + milli), "ratio {ratio}");
        }
    }

    fn aws() -> RetryBudget {
        RetryBudget::new(RetryBudgetConfig::AwsQuota {
            initial_capacity: 500,
            retry_cost: 5,
            timeout_retry_cost: 10,
            no_retry_increment: 1,
        })
    }

    #[test]
    fn aws_quota_drains_after_100_retries_or_50_timeout_retries() {
        let mut b = aws();
        let t = SimTime::ZERO;
        for _ in 0..100 {
            assert_eq!(b.try_retry(t, 0, 0, false), Some(5));
        }
        assert_eq!(b.try_retry(t, 0, 0, false), None);
        let mut b = aws();
        for _ in 0..50 {
            assert_eq!(b.try_retry(t, 0, 0, true), Some(10));
        }
        assert_eq!(b.try_retry(t, 0, 0, true), None);
        // 5 left would pay a plain retry but not a timeout retry.
        b.record_result(t, AttemptResult::Success, 5);
        assert_eq!(b.try_retry(t, 0, 0, true), None);
        assert_eq!(b.try_retry(t, 0, 0, false), Some(5));
    }

    #[test]
    fn aws_quota_refills_by_what_was_held_or_by_one_and_stays_capped() {
        let mut b = aws();
        let t = SimTime::ZERO;
        assert_eq!(b.try_retry(t, 0, 0, true), Some(10));
        b.record_result(t, FAIL, 10);
        assert_eq!(b.level(t), Some(490), "failures give nothing back");
        b.record_result(t, AttemptResult::Success, 0);
        assert_eq!(b.level(t), Some(491), "a success without retries adds NO_RETRY_INCREMENT");
        b.record_result(t, AttemptResult::Success, 10);
        assert_eq!(b.level(t), Some(500), "capped at the initial capacity");
        b.record_result(t, AttemptResult::Success, 0);
        assert_eq!(b.level(t), Some(500));
    }

    #[derive(Clone, Copy, Debug)]
    enum Op {
        Request,
        Retry,
    }

    fn finagle_case() -> impl Strategy<Value = (u64, u32, f64, Vec<(u64, Op)>)> {
        let percent = prop_oneof![Just(0.0), Just(0.2), 0.0f64..2.0, 0.001f64..0.01];
        (1u64..=60, 0u32..20, percent).prop_flat_map(|(ttl_s, min, p)| {
            let gap_max_ms = ttl_s * 1000 / 4;
            let op = prop_oneof![Just(Op::Request), Just(Op::Retry)];
            let ops = proptest::collection::vec((0u64..=gap_max_ms, op), 1..400);
            (Just(ttl_s), Just(min), Just(p), ops)
        })
    }

    proptest! {
        /// Finagle: at every granted retry at `T`, the `k` retries granted in `[T − 9/10·ttl,
        /// T]` (all still in the window: an entry lives more than 9 slices) and the `D`
        /// requests whose slices are still in it satisfy `k·cost ≤ reserve + 1000·D`. As the
        /// formula: `k ≤ minRetriesPerSec·ttl + (1000/cost)·D`, and `cost > 1000/p − 1` gives
        /// `1000/cost < p/(1 − p/1000)`: the truncation slack is below `D·p²/1000`.
        #[test]
        fn finagle_never_allows_more_retries_than_its_formula((ttl_s, min, p, ops) in finagle_case()) {
            let mut b = finagle(ttl_s, min, p);
            let slice = ttl_s * NS_PER_S / 10;
            let State::Finagle { reserve, deposit, cost, .. } = b.state.clone() else {
                prop_assert!(min == 0 && p == 0.0, "only both zero is empty");
                return Ok(());
            };
            let (mut now, mut requests, mut retries) = (0u64, Vec::new(), Vec::new());
            for (gap_ms, op) in ops {
                now += gap_ms * NS_PER_MS;
                match op {
                    Op::Request => {
                        b.record_request(SimTime(now));
                        requests.push(now);
                    }
                    Op::Retry => {
                        if b.try_retry(SimTime(now), 0, 0, false).is_none() {
                            continue;
                        }
                        retries.push(now);
                        let from = now.saturating_sub(9 * slice);
                        let k = retries.iter().filter(|&&t| t >= from).count() as i64;
                        let oldest_slice = (now / slice).saturating_sub(9);
                        let d = requests.iter().filter(|&&t| t / slice >= oldest_slice).count() as i64;
                        prop_assert!(k * cost <= reserve + deposit * d, "k {} cost {} reserve {} D {}", k, cost, reserve, d);
                        let formula = f64::from(min) * ttl_s as f64
                            + if p > 0.0 { p * d as f64 / (1.0 - p / 1000.0) } else { 0.0 };
                        prop_assert!(k as f64 <= formula + 1e-9, "k {} > {}", k, formula);
                    }
                }
            }
        }

        /// Envoy: a retry is allowed iff `retries_active < max(floor(percent·active/100),
        /// min)`, computed here in exact integers (Envoy's float product can only land just
        /// below an integer, never above one, since `percent·active/100` is a multiple of 1/100).
        #[test]
        fn envoy_allows_iff_retries_are_below_the_concurrency_bound(
            percent in 0u32..=100,
            min in 0u32..10,
            checks in proptest::collection::vec((0u32..500, 0u32..200), 1..100),
        ) {
            let mut b = RetryBudget::new(RetryBudgetConfig::Envoy {
                budget_percent: f64::from(percent),
                min_retry_concurrency: min,
            });
            let mut m = RetryBudget::new(RetryBudgetConfig::MaxRetries { max_retries: min });
            for (active, retries_active) in checks {
                let exact = u64::from(percent) * u64::from(active) / 100;
                let bound = exact.max(u64::from(min));
                let allowed = b.try_retry(SimTime::ZERO, active, retries_active, false).is_some();
                if allowed {
                    prop_assert!(u64::from(retries_active) < bound);
                } else {
                    prop_assert!(u64::from(retries_active) >= exact.saturating_sub(1).max(u64::from(min)));
                }
                let allowed = m.try_retry(SimTime::ZERO, active, retries_active, false).is_some();
                prop_assert_eq!(allowed, retries_active < min);
            }
        }

        /// gRPC against grpc-go's float model: `tokens` in tokens, `ratio = k/1000`, allowed
        /// iff `tokens > max/2` (with a tolerance where the float sum meets the threshold).
        #[test]
        fn grpc_allows_iff_tokens_exceed_half_the_max(
            max_tokens in 1u32..20,
            ratio_milli in 0u32..3000,
            ops in proptest::collection::vec(0u8..4, 1..300),
        ) {
            let mut b = grpc(max_tokens, f64::from(ratio_milli) / 1000.0);
            let max = f64::from(max_tokens);
            let ratio = f64::from(ratio_milli) / 1000.0;
            let mut tokens = max;
            for op in ops {
                match op {
                    0 => {
                        b.record_result(SimTime::ZERO, FAIL, 0);
                        tokens = (tokens - 1.0).max(0.0);
                    }
                    1 => {
                        b.record_result(SimTime::ZERO, AttemptResult::Success, 0);
                        tokens = (tokens + ratio).min(max);
                    }
                    2 => b.record_result(SimTime::ZERO, AttemptResult::OtherFailure, 0),
                    _ => {}
                }
                let level = b.level(SimTime::ZERO).unwrap() as f64 / 1000.0;
                prop_assert!((level - tokens).abs() < 1e-6, "{} vs {}", level, tokens);
                let allowed = b.try_retry(SimTime::ZERO, 0, 0, false).is_some();
                prop_assert_eq!(allowed, tokens > max / 2.0 + 1e-6, "tokens {}", tokens);
            }
        }

        /// AWS: the capacity stays within `[0, initial]` and what retries took never exceeds
        /// the initial capacity plus what successes gave back.
        #[test]
        fn aws_never_spends_more_than_it_was_given(
            ops in proptest::collection::vec((0u8..3, any::<bool>()), 1..500),
        ) {
            let mut b = aws();
            let (mut taken, mut given, mut held) = (0u64, 0u64, 0u32);
            for (op, timeout) in ops {
                let before = b.level(SimTime::ZERO).unwrap() as u64;
                match op {
                    0 => {
                        if let Some(cost) = b.try_retry(SimTime::ZERO, 0, 0, timeout) {
                            prop_assert_eq!(cost, if timeout { 10 } else { 5 });
                            taken += u64::from(cost);
                            held = cost;
                        } else {
                            let cost = if timeout { 10 } else { 5 };
                            prop_assert!(before < cost, "refused with {} left", before);
                        }
                    }
                    1 => {
                        b.record_result(SimTime::ZERO, AttemptResult::Success, held);
                        given += (before + u64::from(if held > 0 { held } else { 1 })).min(500) - before;
                        held = 0;
                    }
                    _ => b.record_result(SimTime::ZERO, FAIL, held),
                }
                let level = b.level(SimTime::ZERO).unwrap() as u64;
                prop_assert!(level <= 500);
                prop_assert_eq!(level + taken, 500 + given);
            }
        }
    }
}
