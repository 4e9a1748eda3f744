//! Policies: the call policy a client group and a dependency share (`with_call_policy!`:
//! timeouts, deadline propagation, retries and back-off, budgets, breakers, throttling,
//! hedging, fallbacks), a dependency's bulkhead and connection pool, and a service's
//! admission control (rate limit, concurrency limit, shedding).

use super::*;

use std::collections::BTreeSet;

use squall_model::{
    AdaptiveThrottleConfig, AimdConfig, Backoff, BreakerConfig, BreakerPolicy, BulkheadConfig, CallPolicy,
    ConcurrencyLimitConfig, ConsecutiveConfig, DeadlineFormat, DeadlinePropagation, DependencyConfig,
    FallbackConfig, Gradient2Config, GrpcJitter, HedgePolicy, Jitter, PoolConfig, QueueSize, RateLimitConfig,
    Resilience4jConfig, RetryBudgetConfig, RetryPolicy, ServiceId, ShedMetric, SheddingConfig, SlidingWindow,
    TokenBucket,
};

use crate::build::{duration_of, id_of, path, problem, u32_of, under, Pending};
use crate::error::unknown_name;
use crate::locate::Seg;

/// Declares a struct with, after its own fields, the call-policy fields that a client group
/// and a dependency share, and its [`PolicyFields`]: both accept exactly the same policy,
/// and `build` turns it into a `CallPolicy` in one place.
macro_rules! with_call_policy {
    (
        $(#[$meta:meta])*
        pub(crate) struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        pub(crate) struct $name {
            $($(#[$field_meta])* pub $field: $ty,)*
            #[serde(default)]
            pub timeout: Option<PosDur>,
            #[serde(default)]
            pub per_try_timeout: Option<PosDur>,
            #[serde(default)]
            pub propagate_deadline: Option<PropagateSpec>,
            #[serde(default)]
            pub retry: Option<RetrySpec>,
            #[serde(default)]
            pub budget: Option<BudgetSpec>,
            #[serde(default)]
            pub breaker: Option<BreakerSpec>,
            #[serde(default)]
            pub throttle: Option<ThrottleSpec>,
            #[serde(default)]
            pub hedge: Option<HedgeSpec>,
            #[serde(default)]
            pub fallback: Option<FallbackSpec>,
        }

        impl $name {
            /// The call-policy fields.
            pub fn policy(&self) -> PolicyFields<'_> {
                PolicyFields {
                    timeout: self.timeout.as_ref(),
                    per_try_timeout: self.per_try_timeout.as_ref(),
                    propagate_deadline: self.propagate_deadline.as_ref(),
                    retry: self.retry.as_ref(),
                    budget: self.budget.as_ref(),
                    breaker: self.breaker.as_ref(),
                    throttle: self.throttle.as_ref(),
                    hedge: self.hedge.as_ref(),
                    fallback: self.fallback.as_ref(),
                }
            }
        }
    };
}

pub(crate) use with_call_policy;

/// The reference section "Dependencies".
pub(crate) const DEPENDENCIES_DOC: Section = (
    "Dependencies",
    "`services.*.dependencies` maps the names of services this service calls to its policy for those calls. Each key must name a service that some endpoint of this service calls: a policy that nothing uses is an error, since it would mislead. Each instance of the caller has its own bulkhead, pool, budget, throttle and breaker (unless the breaker is `shared`), as each process does. An attempt passes adaptive throttling, then the breaker, then the bulkhead and the pool. The call-policy fields (`timeout` to `fallback`) are those of a client group, plus `propagate_deadline`; `retry`, `budget`, `breaker`, `throttle`, `hedge` and `fallback` are documented once, in their own sections. Names follow Resilience4j (bulkheads, breakers), HikariCP (pools), gRPC (deadlines, retries, hedging) and Envoy.",
    &[
        f("services.*.dependencies", "map of service name to policy", "`{}`", "How this service's instances call other services; a callee not listed is called with no policy."),
        f("services.*.dependencies.*.timeout", "duration > 0, or `None`", "`None`", "Overall deadline of each call to the callee that does not set its own (a call's `timeout` wins), over every attempt and back-off, as gRPC's deadline and Envoy's route `timeout`."),
        f("services.*.dependencies.*.per_try_timeout", "duration > 0 and < `timeout`, or `None`", "`None`", "Each attempt gives up after this long (Envoy's `per_try_timeout`), so that a retry can follow; the last attempt gets only what is left of `timeout`."),
        f("services.*.dependencies.*.propagate_deadline", "struct, or `None`", "`None`", "Pass the caller's own deadline on: a call gets `min(remaining * factor, timeout)`, and fails at once with `DeadlineExceeded` if nothing remains. The callee refuses expired work only with `honor_deadlines`. `propagate_deadline: ()` takes the defaults."),
        f("services.*.dependencies.*.propagate_deadline.factor", "number, > 0 and <= 1", "`0.9`", "Share of the caller's remaining time given to the call, leaving headroom for the reply (a common practice, not a default of gRPC or Envoy)."),
        f("services.*.dependencies.*.propagate_deadline.format", "`Absolute` or `Relative`", "`Absolute`", "`Absolute`: the deadline travels as a wall-clock time of the caller (a custom deadline header), which the callee compares with its own clock, so `clock_skew` moves it. `Relative`: it travels as a duration (gRPC's `grpc-timeout`), counted from arrival, which no clock skew affects."),
        f("services.*.dependencies.*.retry", "struct, or `None`", "`None`", "Retries of failed attempts. Not with `hedge`. See `retry`."),
        f("services.*.dependencies.*.budget", "`Finagle(...)`, `Envoy(...)`, `MaxRetries(...)`, `GrpcThrottle(...)`, `AwsQuota(...)`, or `None`", "`None`", "What limits the instance's retries and hedges to the callee, across calls. Needs `retry` or `hedge`. See `budget`."),
        f("services.*.dependencies.*.breaker", "`Resilience4j(...)`, `Consecutive(...)`, or `None`", "`None`", "A circuit breaker in front of the attempts: one per caller instance, or one for the whole service if `shared`. See `breaker`."),
        f("services.*.dependencies.*.throttle", "struct, or `None`", "`None`", "Adaptive throttling of the instance's attempts to the callee. See `throttle`."),
        f("services.*.dependencies.*.hedge", "struct, or `None`", "`None`", "Parallel attempts (gRPC hedging). Not with `retry`. See `hedge`."),
        f("services.*.dependencies.*.fallback", "`Static`, `Cache(...)`, or `None`", "`None`", "What a failed call falls back to, answered `Degraded` instead of failing. See `fallback`."),
        f("services.*.dependencies.*.bulkhead", "`Semaphore(...)`, `ThreadPool(...)`, or `None`", "`None`", "Limits the calls out to the callee at once; a call that cannot get in fails with `BulkheadFull`."),
        f("services.*.dependencies.*.bulkhead.Semaphore", "struct variant", "", "A counting semaphore (Resilience4j `Bulkhead`): `Semaphore(max_concurrent_calls: 25, max_wait_duration: \"0s\")`."),
        f("services.*.dependencies.*.bulkhead.Semaphore.max_concurrent_calls", "integer, 1 to 4294967295", MAX_CONCURRENT_CALLS_DEFAULT, "Calls out at once (`maxConcurrentCalls`)."),
        f("services.*.dependencies.*.bulkhead.Semaphore.max_wait_duration", "duration", SEMAPHORE_MAX_WAIT_DURATION_DEFAULT, "How long a call may wait for a permit (`maxWaitDuration`); 0 fails at once."),
        f("services.*.dependencies.*.bulkhead.ThreadPool", "struct variant", "", "A thread pool with Java `ThreadPoolExecutor` rules (Resilience4j `ThreadPoolBulkhead`): below the core size a call gets a new thread; otherwise it waits in the queue; when the queue is full the pool grows up to the maximum; past that the call fails."),
        f("services.*.dependencies.*.bulkhead.ThreadPool.max_thread_pool_size", "integer, 1 to 4294967295", REQ, "Threads at most (`maxThreadPoolSize`)."),
        f("services.*.dependencies.*.bulkhead.ThreadPool.core_thread_pool_size", "integer, 1 to `max_thread_pool_size`, or `None`", "`None` (`max_thread_pool_size` - 1, at least 1)", "Threads kept even when idle (`coreThreadPoolSize`)."),
        f("services.*.dependencies.*.bulkhead.ThreadPool.queue_capacity", "integer, 0 to 4294967295", BULKHEAD_QUEUE_CAPACITY_DEFAULT, "Calls that may wait for a thread (`queueCapacity`)."),
        f("services.*.dependencies.*.bulkhead.ThreadPool.keep_alive_duration", "duration", KEEP_ALIVE_DEFAULT, "Idle time after which a thread above the core size ends (`keepAliveDuration`)."),
        f("services.*.dependencies.*.pool", "struct, or `None`", "`None`", "A connection pool: a call holds a connection while it is out. `pool: ()` takes the defaults."),
        f("services.*.dependencies.*.pool.maximum_pool_size", "integer, 1 to 4294967295", POOL_SIZE_DEFAULT, "Connections at most (`maximumPoolSize`)."),
        f("services.*.dependencies.*.pool.minimum_idle", "integer, 0 to `maximum_pool_size`, or `None`", "`None` (`maximum_pool_size`)", "Connections opened at the start and kept open (`minimumIdle`); HikariCP's default makes a fixed-size pool."),
        f("services.*.dependencies.*.pool.connection_timeout", "duration, > 0", CONNECTION_TIMEOUT_DEFAULT, "How long a call waits for a connection before failing (`connectionTimeout`)."),
    ],
);

with_call_policy! {
    /// A caller's policy for calls to one service: `dependencies: {"db": (timeout: ..., ...)}`.
    #[derive(Clone, Debug, Default, Serialize, Deserialize)]
    #[serde(
        rename = "Dependency",
        expecting = "a dependency policy, as in (timeout: \"100ms\", retry: (max_attempts: 3), bulkhead: Semaphore(max_concurrent_calls: 25), pool: (maximum_pool_size: 10))",
        deny_unknown_fields
    )]
    pub(crate) struct DependencySpec {
        #[serde(default)]
        pub bulkhead: Option<BulkheadSpec>,
        #[serde(default)]
        pub pool: Option<PoolSpec>,
    }
}

/// The call-policy fields of a client group or a dependency, as written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PolicyFields<'a> {
    pub timeout: Option<&'a PosDur>,
    pub per_try_timeout: Option<&'a PosDur>,
    pub propagate_deadline: Option<&'a PropagateSpec>,
    pub retry: Option<&'a RetrySpec>,
    pub budget: Option<&'a BudgetSpec>,
    pub breaker: Option<&'a BreakerSpec>,
    pub throttle: Option<&'a ThrottleSpec>,
    pub hedge: Option<&'a HedgeSpec>,
    pub fallback: Option<&'a FallbackSpec>,
}

/// `propagate_deadline: (factor: 0.9)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "PropagateDeadline",
    expecting = "deadline propagation, as in (factor: 0.9, format: Absolute)",
    deny_unknown_fields
)]
pub(crate) struct PropagateSpec {
    #[serde(default = "default_deadline_factor")]
    pub factor: Share,
    #[serde(default)]
    pub format: DeadlineFormatSpec,
}

/// How a propagated deadline travels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "DeadlineFormat", expecting = "Absolute or Relative")]
pub(crate) enum DeadlineFormatSpec {
    #[default]
    Absolute,
    Relative,
}

fn default_deadline_factor() -> Share {
    Share(squall_model::DeadlinePropagation::default().factor)
}

/// The reference section "Retries (`retry`)".
pub(crate) const RETRY_DOC: Section = (
    "Retries (`retry`)",
    "Fields of type retry (a client group's or a dependency's `retry`) take `(max_attempts: 3, backoff: Constant(delay: \"500ms\"), retry_on: [Timeout, ServerError, Shed, QueueFull, ConnectionReset], honor_retry_after: true)`; `retry: ()` takes these defaults: Resilience4j's attempts and wait, and retries of timeouts, 5xx, 503-style refusals and connection resets (never of 4xx-like refusals). Each retry must also pass the `budget`, if there is one, and the overall `timeout` spans every attempt and back-off.",
    &[
        f("retry.max_attempts", "integer, 1 to 100", RETRY_MAX_ATTEMPTS_DEFAULT, "Attempts at most, the first included (Resilience4j's and gRPC's `maxAttempts`; gRPC itself caps it at 5)."),
        f("retry.backoff", "`Immediate`, `Constant(...)`, `Exponential(...)`, `Grpc(...)`, or `Envoy(...)`", "`Constant(delay: \"500ms\")`", "The wait before each retry. `Immediate` retries at once (the naive client)."),
        f("retry.backoff.Constant", "struct variant", "", "The same wait every time (Resilience4j's `waitDuration`): `Constant(delay: \"500ms\")`."),
        f("retry.backoff.Constant.delay", "duration", RETRY_DELAY_DEFAULT, "The wait."),
        f("retry.backoff.Exponential", "struct variant", "", "AWS's exponential back-off and jitter: the wait before retry n (from 0) is drawn below the ceiling `min(cap, base * 2^n)`: `Exponential(base: \"100ms\", cap: \"20s\", jitter: Full)`. The formulas have no defaults, so `base` and `cap` are required."),
        f("retry.backoff.Exponential.base", "duration, > 0", REQ, "First ceiling."),
        f("retry.backoff.Exponential.cap", "duration, >= `base`", REQ, "Largest ceiling."),
        f("retry.backoff.Exponential.jitter", "one of `None`, `Full`, `Equal`, `Decorrelated`", "`Full`", "How the wait is drawn below the ceiling `t`: exactly `t` (retries stay in lockstep); `U(0, t)`; `t/2 + U(0, t/2)`; or `min(cap, U(base, 3 * previous wait))`."),
        f("retry.backoff.Grpc", "struct variant", "", "gRPC's retry back-off (gRFC A6): the ceiling starts at `initial_backoff` and is multiplied by `multiplier` after each retry, up to `max_backoff`. As in gRPC's service config, the three are required: `Grpc(initial_backoff: \"100ms\", max_backoff: \"1s\", multiplier: 2.0)`."),
        f("retry.backoff.Grpc.initial_backoff", "duration, > 0", REQ, "First ceiling (`initialBackoff`)."),
        f("retry.backoff.Grpc.max_backoff", "duration, > 0", REQ, "Largest ceiling (`maxBackoff`)."),
        f("retry.backoff.Grpc.multiplier", "number, > 0", REQ, "Growth of the ceiling per retry (`backoffMultiplier`)."),
        f("retry.backoff.Grpc.jitter", "one of `Full`, `CCore`", "`Full`", "`Full` waits `U(0, ceiling)`, as grpc-go and grpc-java do; `CCore` waits `ceiling * U(0.8, 1.2)`, as gRPC C-core (C++, Python, Ruby, PHP) does, which may exceed `max_backoff` by 20 %."),
        f("retry.backoff.Envoy", "struct variant", "", "Envoy's back-off: retry n (from 1) waits `U[0, min(base_interval * 2^(n-1), max_interval))`, in whole milliseconds: `Envoy(base_interval: \"25ms\")`."),
        f("retry.backoff.Envoy.base_interval", "duration, > 0", BASE_INTERVAL_DEFAULT, "`retry_back_off.base_interval`."),
        f("retry.backoff.Envoy.max_interval", "duration >= `base_interval`, or `None`", "`None` (10 * `base_interval`)", "`retry_back_off.max_interval`."),
        f("retry.retry_on", "list of outcomes, each once, at least one", "`[Timeout, ServerError, Shed, QueueFull, ConnectionReset]`", "Outcomes of an attempt that are retried; any other ends the call. Any failure may be listed; `Ok` and `Degraded` are answers and `Cancelled` ends only the caller's own abandoned attempts, so they may not."),
        f("retry.honor_retry_after", "bool", RETRY_HONOR_RETRY_AFTER_DEFAULT, "When a refusal carries a Retry-After (as `shedding`'s 503s do), wait exactly that long instead of the back-off, and start the back-off over (gRPC's pushback)."),
    ],
);

/// `retry: (max_attempts: 3, backoff: Constant(delay: "500ms"), retry_on: [...], honor_retry_after: true)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Retry",
    expecting = "a retry policy, as in (max_attempts: 3, backoff: Exponential(base: \"100ms\", cap: \"10s\"))",
    deny_unknown_fields
)]
pub(crate) struct RetrySpec {
    #[serde(default = "default_retry_max_attempts")]
    pub max_attempts: Count<1, 100>,
    #[serde(default)]
    pub backoff: BackoffSpec,
    #[serde(default = "default_retry_on")]
    pub retry_on: FailureList,
    #[serde(default = "default_retry_honor_retry_after")]
    pub honor_retry_after: bool,
}

default_value!(RETRY_MAX_ATTEMPTS_DEFAULT, fn default_retry_max_attempts() -> Count<1, 100> = Count(3));
default_value!(RETRY_HONOR_RETRY_AFTER_DEFAULT, fn default_retry_honor_retry_after() -> bool = true);

fn default_retry_on() -> FailureList {
    let names = squall_model::RetryPolicy::DEFAULT_RETRY_ON.iter().map(|o| OutcomeName::of(*o));
    FailureList::try_from(names.map(FailureName).collect::<Vec<_>>())
        .expect("the model's defaults are failures, once each")
}

/// The wait before each retry.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Backoff",
    expecting = "a back-off: Immediate, Constant(delay: ...), Exponential(base: ..., cap: ...), Grpc(initial_backoff: ..., max_backoff: ..., multiplier: ...) or Envoy(base_interval: ...)",
    deny_unknown_fields
)]
pub(crate) enum BackoffSpec {
    Immediate,
    Constant {
        #[serde(default = "default_retry_delay")]
        delay: Dur,
    },
    Exponential {
        base: PosDur,
        cap: PosDur,
        /// `None` is no jitter; an `Option` so that `None` reads the same in the file and in
        /// an override (where RON's `None` is JSON's null).
        #[serde(default = "full_jitter")]
        jitter: Option<JitterSpec>,
    },
    Grpc {
        initial_backoff: PosDur,
        max_backoff: PosDur,
        multiplier: PosNumber,
        #[serde(default)]
        jitter: GrpcJitterSpec,
    },
    Envoy {
        #[serde(default = "default_base_interval")]
        base_interval: PosDur,
        #[serde(default)]
        max_interval: Option<PosDur>,
    },
}

impl Default for BackoffSpec {
    fn default() -> Self {
        BackoffSpec::Constant { delay: default_retry_delay() }
    }
}

// Resilience4j's `waitDuration`.
default_value!(RETRY_DELAY_DEFAULT, fn default_retry_delay() -> Dur = dur "500ms");

fn full_jitter() -> Option<JitterSpec> {
    Some(JitterSpec::Full)
}

// Envoy's `retry_back_off.base_interval`.
default_value!(BASE_INTERVAL_DEFAULT, fn default_base_interval() -> PosDur = PosDur(dur "25ms"));

/// The jitter of AWS's exponential back-off, other than none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Jitter", expecting = "one of None, Full, Equal, Decorrelated")]
pub(crate) enum JitterSpec {
    Full,
    Equal,
    Decorrelated,
}

/// How a gRPC implementation jitters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "GrpcJitter", expecting = "one of Full, CCore")]
pub(crate) enum GrpcJitterSpec {
    #[default]
    Full,
    CCore,
}

/// The reference section "Retry budgets (`budget`)".
pub(crate) const BUDGET_DOC: Section = (
    "Retry budgets (`budget`)",
    "Fields of type budget (a client group's or a dependency's `budget`) limit retries, and hedges after the first attempt, across calls: a retry the budget refuses is not sent, and the call ends with the failure it had. A budget needs a `retry` or a `hedge` beside it.",
    &[
        f("budget.Finagle", "struct variant", "", "Finagle's `RetryBudget` (also Linkerd's): within any `ttl`, retries are at most `min_retries_per_sec * ttl + percent_can_retry * requests`. `Finagle()` takes Finagle's defaults."),
        f("budget.Finagle.ttl", "duration, 1s to 60s", FINAGLE_TTL_DEFAULT, "Window over which requests and retries count (`ttl`)."),
        f("budget.Finagle.min_retries_per_sec", "integer, 0 to 4294967295", FINAGLE_MIN_RETRIES_PER_SEC_DEFAULT, "Retries always allowed per second (`minRetriesPerSec`)."),
        f("budget.Finagle.percent_can_retry", "number, 0 to 1000", PERCENT_CAN_RETRY_DEFAULT, "Retries allowed per request (`percentCanRetry`). With this and `min_retries_per_sec` both 0, nothing is retried."),
        f("budget.Envoy", "struct variant", "", "Envoy's `retry_budget`: retries in flight at most `max(budget_percent / 100 * requests in flight, min_retry_concurrency)`."),
        f("budget.Envoy.budget_percent", "number, 0 to 100", BUDGET_PERCENT_DEFAULT, "`budget_percent`."),
        f("budget.Envoy.min_retry_concurrency", "integer, 0 to 4294967295", ENVOY_BUDGET_MIN_RETRY_CONCURRENCY_DEFAULT, "`min_retry_concurrency`."),
        f("budget.MaxRetries", "struct variant", "", "Envoy's `max_retries` circuit-breaker threshold: retries in flight at most `max_retries`. With Envoy's default of 3, most retries are refused in a broad outage."),
        f("budget.MaxRetries.max_retries", "integer, 0 to 4294967295", MAX_RETRIES_MAX_RETRIES_DEFAULT, "`max_retries`."),
        f("budget.GrpcThrottle", "struct variant", "", "gRPC's `retryThrottling`: a bucket of `max_tokens` tokens, full at the start; a retried failure takes one, a success gives back `token_ratio`, and a retry (or hedge) goes only while more than half the tokens remain. As in gRPC's service config, both fields are required: `GrpcThrottle(max_tokens: 10, token_ratio: 0.1)`."),
        f("budget.GrpcThrottle.max_tokens", "integer, 1 to 1000", REQ, "`maxTokens`."),
        f("budget.GrpcThrottle.token_ratio", "number, > 0", REQ, "`tokenRatio`; gRPC keeps three decimals."),
        f("budget.AwsQuota", "struct variant", "", "The AWS SDKs' standard-mode retry quota: each retry costs `retry_cost` (`timeout_retry_cost` after a timeout) from a capacity of `initial_capacity`; a success gives back what its call took, or `no_retry_increment` if it needed no retry. `AwsQuota()` takes the SDKs' values."),
        f("budget.AwsQuota.initial_capacity", "integer, 1 to 4294967295", INITIAL_CAPACITY_DEFAULT, "`INITIAL_CAPACITY`, also the most the quota holds."),
        f("budget.AwsQuota.retry_cost", "integer, 0 to 4294967295", AWS_QUOTA_RETRY_COST_DEFAULT, "`RETRY_COST`."),
        f("budget.AwsQuota.timeout_retry_cost", "integer, 0 to 4294967295", AWS_QUOTA_TIMEOUT_RETRY_COST_DEFAULT, "`TIMEOUT_RETRY_COST`, for a retry after a timeout."),
        f("budget.AwsQuota.no_retry_increment", "integer, 0 to 4294967295", AWS_QUOTA_NO_RETRY_INCREMENT_DEFAULT, "`NO_RETRY_INCREMENT`: given back by a success that needed no retry."),
    ],
);

/// What limits retries (and hedges) across calls.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Budget",
    expecting = "a retry budget: Finagle(...), Envoy(...), MaxRetries(...), GrpcThrottle(max_tokens: ..., token_ratio: ...) or AwsQuota(...)",
    deny_unknown_fields
)]
pub(crate) enum BudgetSpec {
    Finagle {
        #[serde(default = "default_finagle_ttl")]
        ttl: FinagleTtl,
        #[serde(default = "default_finagle_min_retries_per_sec")]
        min_retries_per_sec: Count<0, U32_MAX>,
        #[serde(default = "default_percent_can_retry")]
        percent_can_retry: PercentCanRetry,
    },
    Envoy {
        #[serde(default = "default_budget_percent")]
        budget_percent: Percent,
        #[serde(default = "default_envoy_budget_min_retry_concurrency")]
        min_retry_concurrency: Count<0, U32_MAX>,
    },
    MaxRetries {
        #[serde(default = "default_max_retries_max_retries")]
        max_retries: Count<0, U32_MAX>,
    },
    GrpcThrottle {
        max_tokens: Count<1, 1000>,
        token_ratio: PosNumber,
    },
    AwsQuota {
        #[serde(default = "default_initial_capacity")]
        initial_capacity: Count<1, U32_MAX>,
        #[serde(default = "default_aws_quota_retry_cost")]
        retry_cost: Count<0, U32_MAX>,
        #[serde(default = "default_aws_quota_timeout_retry_cost")]
        timeout_retry_cost: Count<0, U32_MAX>,
        #[serde(default = "default_aws_quota_no_retry_increment")]
        no_retry_increment: Count<0, U32_MAX>,
    },
}

default_value!(FINAGLE_MIN_RETRIES_PER_SEC_DEFAULT, fn default_finagle_min_retries_per_sec() -> Count<0, U32_MAX> = Count(10));
default_value!(ENVOY_BUDGET_MIN_RETRY_CONCURRENCY_DEFAULT, fn default_envoy_budget_min_retry_concurrency() -> Count<0, U32_MAX> = Count(3));
default_value!(MAX_RETRIES_MAX_RETRIES_DEFAULT, fn default_max_retries_max_retries() -> Count<0, U32_MAX> = Count(3));
default_value!(AWS_QUOTA_RETRY_COST_DEFAULT, fn default_aws_quota_retry_cost() -> Count<0, U32_MAX> = Count(5));
default_value!(AWS_QUOTA_TIMEOUT_RETRY_COST_DEFAULT, fn default_aws_quota_timeout_retry_cost() -> Count<0, U32_MAX> = Count(10));
default_value!(AWS_QUOTA_NO_RETRY_INCREMENT_DEFAULT, fn default_aws_quota_no_retry_increment() -> Count<0, U32_MAX> = Count(1));

default_value!(FINAGLE_TTL_DEFAULT, fn default_finagle_ttl() -> FinagleTtl = FinagleTtl(dur "10s"));

default_value!(PERCENT_CAN_RETRY_DEFAULT, fn default_percent_can_retry() -> PercentCanRetry = PercentCanRetry(0.2));

default_value!(BUDGET_PERCENT_DEFAULT, fn default_budget_percent() -> Percent = Percent(20.0));

default_value!(INITIAL_CAPACITY_DEFAULT, fn default_initial_capacity() -> Count<1, U32_MAX> = Count(500));

/// Finagle's `ttl`: from 1 s to 60 s, as `RetryBudget` requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FinagleTtl(pub Dur);

impl<'de> Deserialize<'de> for FinagleTtl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let dur = Dur::deserialize(d)?;
        if !(NS_PER_S..=60 * NS_PER_S).contains(&dur.ns) {
            return Err(de::Error::custom(format!(
                "must be from \"1s\" to \"60s\", as Finagle's RetryBudget requires, got \"{}\"",
                dur.text
            )));
        }
        Ok(FinagleTtl(dur))
    }
}

impl Serialize for FinagleTtl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// The reference section "Circuit breakers (`breaker`)".
pub(crate) const BREAKER_DOC: Section = (
    "Circuit breakers (`breaker`)",
    "Fields of type breaker (a client group's or a dependency's `breaker`) put a circuit breaker in front of the attempts: while it is open, attempts fail at once with `CircuitOpen`. `Resilience4j()` and `Consecutive()` take their defaults.",
    &[
        f("breaker.Resilience4j", "struct variant", "", "Resilience4j's `CircuitBreaker`: it opens when, over a sliding window holding at least `minimum_number_of_calls` calls, the failure rate or the slow-call rate reaches its threshold; after `wait_duration_in_open_state` it lets `permitted_number_of_calls_in_half_open_state` trial calls through, whose rates decide whether it closes or opens again."),
        f("breaker.Resilience4j.failure_rate_threshold", "number, > 0 and <= 100", FAILURE_RATE_THRESHOLD_DEFAULT, "`failureRateThreshold`, percent."),
        f("breaker.Resilience4j.slow_call_rate_threshold", "number, > 0 and <= 100", SLOW_CALL_RATE_THRESHOLD_DEFAULT, "`slowCallRateThreshold`, percent; at 100 slowness opens the breaker only if every call in the window is slow."),
        f("breaker.Resilience4j.slow_call_duration_threshold", "duration, > 0", RESILIENCE4J_SLOW_CALL_DURATION_THRESHOLD_DEFAULT, "`slowCallDurationThreshold`: a call that takes longer is slow."),
        f("breaker.Resilience4j.sliding_window_type", "one of `CountBased`, `TimeBased`", "`CountBased`", "`slidingWindowType`: the last `sliding_window_size` calls, or the calls of the last `sliding_window_size` seconds."),
        f("breaker.Resilience4j.sliding_window_size", "integer, 1 to 1000000 when `CountBased`, 1 to 86400 (a day) when `TimeBased`", RESILIENCE4J_SLIDING_WINDOW_SIZE_DEFAULT, "`slidingWindowSize`, in calls or seconds. The breaker keeps a slot per call or per second, so the window is bounded (Resilience4j sets no bound)."),
        f("breaker.Resilience4j.minimum_number_of_calls", "integer, 1 to 4294967295", RESILIENCE4J_MINIMUM_NUMBER_OF_CALLS_DEFAULT, "`minimumNumberOfCalls`: calls recorded before the rates count; capped at `sliding_window_size` when count-based, as in Resilience4j."),
        f("breaker.Resilience4j.permitted_number_of_calls_in_half_open_state", "integer, 1 to 4294967295", RESILIENCE4J_PERMITTED_NUMBER_OF_CALLS_IN_HALF_OPEN_STATE_DEFAULT, "`permittedNumberOfCallsInHalfOpenState`: trial calls let through when half-open."),
        f("breaker.Resilience4j.wait_duration_in_open_state", "duration, > 0", RESILIENCE4J_WAIT_DURATION_IN_OPEN_STATE_DEFAULT, "`waitDurationInOpenState`: time open before turning half-open."),
        f("breaker.Resilience4j.automatic_transition_from_open_to_half_open_enabled", "bool", "`false`", "`automaticTransitionFromOpenToHalfOpenEnabled`: turn half-open as soon as the wait ends, rather than at the first call after it."),
        f("breaker.Resilience4j.shared", "bool", "`false`", "One breaker for all instances of the calling service instead of one per instance. A client group has one breaker anyway, so there it changes nothing."),
        f("breaker.Consecutive", "struct variant", "", "Opens after `failure_threshold` failures in a row, stays open for `break_duration`, then lets one trial call through (Polly's consecutive-count `CircuitBreaker`, Hystrix's single-probe half-open)."),
        f("breaker.Consecutive.failure_threshold", "integer, 1 to 4294967295", CONSECUTIVE_FAILURE_THRESHOLD_DEFAULT, "Failures in a row that open it."),
        f("breaker.Consecutive.break_duration", "duration, > 0", BREAK_DURATION_DEFAULT, "Time open before the trial call."),
        f("breaker.Consecutive.shared", "bool", "`false`", "As `Resilience4j.shared`."),
    ],
);

/// A circuit breaker, and whether the caller's instances share it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Breaker",
    expecting = "a circuit breaker: Resilience4j(...) or Consecutive(...)",
    deny_unknown_fields
)]
pub(crate) enum BreakerSpec {
    Resilience4j {
        #[serde(default = "default_failure_rate_threshold")]
        failure_rate_threshold: Threshold,
        #[serde(default = "default_slow_call_rate_threshold")]
        slow_call_rate_threshold: Threshold,
        #[serde(default = "default_resilience4j_slow_call_duration_threshold")]
        slow_call_duration_threshold: PosDur,
        #[serde(default)]
        sliding_window_type: SlidingWindowSpec,
        #[serde(default = "default_resilience4j_sliding_window_size")]
        sliding_window_size: Count<1, U32_MAX>,
        #[serde(default = "default_resilience4j_minimum_number_of_calls")]
        minimum_number_of_calls: Count<1, U32_MAX>,
        #[serde(default = "default_resilience4j_permitted_number_of_calls_in_half_open_state")]
        permitted_number_of_calls_in_half_open_state: Count<1, U32_MAX>,
        #[serde(default = "default_resilience4j_wait_duration_in_open_state")]
        wait_duration_in_open_state: PosDur,
        #[serde(default)]
        automatic_transition_from_open_to_half_open_enabled: bool,
        #[serde(default)]
        shared: bool,
    },
    Consecutive {
        #[serde(default = "default_consecutive_failure_threshold")]
        failure_threshold: Count<1, U32_MAX>,
        #[serde(default = "default_break_duration")]
        break_duration: PosDur,
        #[serde(default)]
        shared: bool,
    },
}

default_value!(RESILIENCE4J_SLOW_CALL_DURATION_THRESHOLD_DEFAULT, fn default_resilience4j_slow_call_duration_threshold() -> PosDur = PosDur(dur "60s"));
default_value!(RESILIENCE4J_SLIDING_WINDOW_SIZE_DEFAULT, fn default_resilience4j_sliding_window_size() -> Count<1, U32_MAX> = Count(100));
default_value!(RESILIENCE4J_MINIMUM_NUMBER_OF_CALLS_DEFAULT, fn default_resilience4j_minimum_number_of_calls() -> Count<1, U32_MAX> = Count(100));
default_value!(RESILIENCE4J_PERMITTED_NUMBER_OF_CALLS_IN_HALF_OPEN_STATE_DEFAULT, fn default_resilience4j_permitted_number_of_calls_in_half_open_state() -> Count<1, U32_MAX> = Count(10));
default_value!(RESILIENCE4J_WAIT_DURATION_IN_OPEN_STATE_DEFAULT, fn default_resilience4j_wait_duration_in_open_state() -> PosDur = PosDur(dur "60s"));
default_value!(CONSECUTIVE_FAILURE_THRESHOLD_DEFAULT, fn default_consecutive_failure_threshold() -> Count<1, U32_MAX> = Count(5));

default_value!(FAILURE_RATE_THRESHOLD_DEFAULT, fn default_failure_rate_threshold() -> Threshold = Threshold(50.0));

default_value!(SLOW_CALL_RATE_THRESHOLD_DEFAULT, fn default_slow_call_rate_threshold() -> Threshold = Threshold(100.0));

default_value!(BREAK_DURATION_DEFAULT, fn default_break_duration() -> PosDur = PosDur(dur "5s"));

/// Resilience4j's `slidingWindowType`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "SlidingWindow", expecting = "one of CountBased, TimeBased")]
pub(crate) enum SlidingWindowSpec {
    #[default]
    CountBased,
    TimeBased,
}

/// The reference section "Throttling, hedging and fallbacks (`throttle`, `hedge`, `fallback`)".
pub(crate) const THROTTLE_HEDGE_FALLBACK_DOC: Section = (
    "Throttling, hedging and fallbacks (`throttle`, `hedge`, `fallback`)",
    "Fields of type throttle, hedge and fallback, of a client group or a dependency.\n\n\
     `throttle: (window: \"2m\", k: 2.0)` is the Google SRE book's client-side adaptive throttling: over the last `window` the caller counts the attempts it made (`requests`, including those it refused) and those the callee accepted (`accepts`), and refuses an attempt itself, as `Throttled`, with probability `max(0, (requests - k * accepts) / (requests + 1))`. `throttle: ()` takes these defaults.\n\n\
     `hedge: (max_attempts: 3, hedging_delay: \"10ms\", non_fatal: [ServerError])` is gRPC hedging: the first attempt goes at once and another every `hedging_delay` while none has succeeded, up to `max_attempts`; the first success wins and the others are cancelled. A call hedges or retries, not both.\n\n\
     `fallback` is `Static`, a static answer always available, or `Cache(hit_ratio: 0.9)`, a stale cached answer for a share of the failed calls. A call served by its fallback is answered `Degraded`. On a dependency, `Failover(service: \"provider-b\", endpoint: \"charge\")` instead calls another service when the call fails (or its breaker refuses it), under the caller's policy for that service; its answer is the call's answer (`Ok` when it succeeds), and a failover is not failed over again.",
    &[
        f("throttle.window", "duration, at least 60ns", THROTTLE_WINDOW_DEFAULT, "The window over which requests and accepts count."),
        f("throttle.k", "number, > 0", THROTTLE_K_DEFAULT, "`K`: the callee may refuse up to `1 - 1/k` of attempts before the caller starts refusing its own; closer to 1 is more aggressive."),
        f("hedge.max_attempts", "integer, 2 to 5", REQ, "Attempts at most, the first included (`maxAttempts`; gRPC caps it at 5)."),
        f("hedge.hedging_delay", "duration", HEDGE_HEDGING_DELAY_DEFAULT, "Time between hedges (`hedgingDelay`); 0 sends them all at once."),
        f("hedge.non_fatal", "list of outcomes, each once", "`[]`", "Failures after which the next hedge goes at once (`nonFatalStatusCodes`); any other failure ends the call. As in `retry.retry_on`, `Ok`, `Degraded` and `Cancelled` may not be listed."),
        f("fallback.Cache", "struct variant", "", "A stale cached answer for a share of the failed calls; the others fail as they would have: `Cache(hit_ratio: 0.9)`."),
        f("fallback.Cache.hit_ratio", "number, 0 to 1", REQ, "Share of failed calls the cache covers."),
        f("fallback.Failover", "struct variant", "", "Dependencies only: call another service instead: `Failover(service: \"provider-b\", endpoint: \"charge\")`."),
        f("fallback.Failover.service", "service name", REQ, "The service called instead; it may have its own entry in `dependencies`."),
        f("fallback.Failover.endpoint", "endpoint name", REQ, "Its endpoint."),
    ],
);

/// `throttle: (window: "2m", k: 2.0)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Throttle",
    expecting = "adaptive throttling, as in (window: \"2m\", k: 2.0)",
    deny_unknown_fields
)]
pub(crate) struct ThrottleSpec {
    #[serde(default = "default_throttle_window")]
    pub window: PosDur,
    #[serde(default = "default_throttle_k")]
    pub k: PosNumber,
}

default_value!(THROTTLE_WINDOW_DEFAULT, fn default_throttle_window() -> PosDur = PosDur(dur "2m"));

default_value!(THROTTLE_K_DEFAULT, fn default_throttle_k() -> PosNumber = PosNumber(2.0));

/// `hedge: (max_attempts: 3, hedging_delay: "10ms", non_fatal: [ServerError])`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Hedge",
    expecting = "a hedging policy, as in (max_attempts: 3, hedging_delay: \"10ms\")",
    deny_unknown_fields
)]
pub(crate) struct HedgeSpec {
    pub max_attempts: HedgeAttempts,
    #[serde(default = "default_hedge_hedging_delay")]
    pub hedging_delay: Dur,
    #[serde(default)]
    pub non_fatal: FailureList,
}

default_value!(HEDGE_HEDGING_DELAY_DEFAULT, fn default_hedge_hedging_delay() -> Dur = dur "0s");

/// Most attempts gRPC lets a hedging (or retry) policy make.
pub(crate) const GRPC_ATTEMPTS_MAX: u64 = 5;

/// A hedging policy's `max_attempts`: from 2 (the first attempt counts) to gRPC's cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(into = "u64")]
pub(crate) struct HedgeAttempts(pub u64);

impl From<HedgeAttempts> for u64 {
    fn from(n: HedgeAttempts) -> u64 {
        n.0
    }
}

impl WholeNumber for HedgeAttempts {
    const MIN: u64 = 2;
    const MAX: u64 = GRPC_ATTEMPTS_MAX;

    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        if v > GRPC_ATTEMPTS_MAX {
            return Err(E::custom(format!(
                "must be at most {GRPC_ATTEMPTS_MAX}, got {v}: gRPC caps a hedging policy's maxAttempts at {GRPC_ATTEMPTS_MAX}"
            )));
        }
        if v < 2 {
            return Err(E::custom(format!(
                "must be at least 2, got {v}: the first attempt counts, so fewer would never hedge"
            )));
        }
        Ok(HedgeAttempts(v))
    }
}

impl<'de> Deserialize<'de> for HedgeAttempts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        NumberVisitor::read(d)
    }
}

/// What a failed call falls back to.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Fallback",
    expecting = "a fallback: Static, Cache(hit_ratio: ...) or Failover(service: ..., endpoint: ...)",
    deny_unknown_fields
)]
pub(crate) enum FallbackSpec {
    Static,
    Cache { hit_ratio: Fraction },
    Failover { service: String, endpoint: String },
}

/// An outcome a policy may retry or hedge on: a failure of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OutcomeName", into = "OutcomeName")]
pub(crate) struct FailureName(pub OutcomeName);

impl TryFrom<OutcomeName> for FailureName {
    type Error = &'static str;
    fn try_from(o: OutcomeName) -> Result<Self, &'static str> {
        match o {
            OutcomeName::Ok => Err("`Ok` is a success; only failures are retried or hedged on"),
            OutcomeName::Degraded => Err(
                "`Degraded` is an answer (a fallback's), not a failure; retrying it would throw a response away",
            ),
            OutcomeName::Cancelled => Err(
                "`Cancelled` is how the caller's own abandoned attempts end (a hedge that lost); nobody waits to retry them",
            ),
            _ => Ok(FailureName(o)),
        }
    }
}

impl From<FailureName> for OutcomeName {
    fn from(o: FailureName) -> Self {
        o.0
    }
}

/// Failures a retry or a hedge reacts to, each listed once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<FailureName>", into = "Vec<FailureName>")]
pub(crate) struct FailureList(pub Vec<FailureName>);

impl TryFrom<Vec<FailureName>> for FailureList {
    type Error = String;
    fn try_from(names: Vec<FailureName>) -> Result<Self, String> {
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(format!("`{:?}` is listed twice", name.0));
            }
        }
        Ok(FailureList(names))
    }
}

impl From<FailureList> for Vec<FailureName> {
    fn from(l: FailureList) -> Self {
        l.0
    }
}

/// Resilience4j bulkheads, with its parameter names and defaults.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Bulkhead",
    expecting = "Semaphore(max_concurrent_calls: ...) or ThreadPool(max_thread_pool_size: ...)",
    deny_unknown_fields
)]
pub(crate) enum BulkheadSpec {
    Semaphore {
        #[serde(default = "default_max_concurrent_calls")]
        max_concurrent_calls: Count<1, U32_MAX>,
        #[serde(default = "default_semaphore_max_wait_duration")]
        max_wait_duration: Dur,
    },
    ThreadPool {
        max_thread_pool_size: Count<1, U32_MAX>,
        #[serde(default)]
        core_thread_pool_size: Option<Count<1, U32_MAX>>,
        #[serde(default = "default_queue_capacity")]
        queue_capacity: Count<0, U32_MAX>,
        #[serde(default = "default_keep_alive")]
        keep_alive_duration: Dur,
    },
}

default_value!(SEMAPHORE_MAX_WAIT_DURATION_DEFAULT, fn default_semaphore_max_wait_duration() -> Dur = dur "0s");

default_value!(MAX_CONCURRENT_CALLS_DEFAULT, fn default_max_concurrent_calls() -> Count<1, U32_MAX> = Count(25));

default_value!(BULKHEAD_QUEUE_CAPACITY_DEFAULT, fn default_queue_capacity() -> Count<0, U32_MAX> = Count(100));

default_value!(KEEP_ALIVE_DEFAULT, fn default_keep_alive() -> Dur = dur "20ms");

/// A HikariCP-style connection pool.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Pool",
    expecting = "a connection pool, as in (maximum_pool_size: 10, minimum_idle: 10, connection_timeout: \"30s\")",
    deny_unknown_fields
)]
pub(crate) struct PoolSpec {
    #[serde(default = "default_pool_size")]
    pub maximum_pool_size: Count<1, U32_MAX>,
    #[serde(default)]
    pub minimum_idle: Option<Count<0, U32_MAX>>,
    #[serde(default = "default_connection_timeout")]
    pub connection_timeout: PosDur,
}

default_value!(POOL_SIZE_DEFAULT, fn default_pool_size() -> Count<1, U32_MAX> = Count(10));

default_value!(CONNECTION_TIMEOUT_DEFAULT, fn default_connection_timeout() -> PosDur = PosDur(dur "30s"));

/// The reference section "Admission control".
pub(crate) const ADMISSION_DOC: Section = (
    "Admission control",
    "Checks a request passes on reaching an instance, before it may wait for a worker, in this order: `rate_limit` (429, `RateLimited`), `concurrency_limit` (503, `Shed`), `shedding` (503, `Shed`). All are off by default.",
    &[
        f("services.*.rate_limit", "`TokenBucket(...)`, `Discrete(...)`, or `None`", "`None`", "Refuses requests above a rate with `RateLimited` (429)."),
        f("services.*.rate_limit.TokenBucket", "struct variant", "", "A token bucket refilled continuously (GCRA): `TokenBucket(rate: 100, burst: 10)`."),
        f("services.*.rate_limit.TokenBucket.rate", "number, > 0 and <= 1e9, with `burst / rate` <= 1e9", REQ, "Tokens added per second: the sustained rate let through. The bucket must refill from empty in at most 1e9 s (about 31 years)."),
        f("services.*.rate_limit.TokenBucket.burst", "integer, 1 to 4294967295, with `burst / rate` <= 1e9", TOKEN_BUCKET_BURST_DEFAULT, "Bucket size: requests that may pass at once after a quiet spell."),
        f("services.*.rate_limit.TokenBucket.per_instance", "bool", TOKEN_BUCKET_PER_INSTANCE_DEFAULT, "One bucket per instance (as Envoy's local rate limit), or one for the whole service."),
        f("services.*.rate_limit.Discrete", "struct variant", "", "Envoy's token bucket, refilled in steps: `Discrete(max_tokens: 100, tokens_per_fill: 10, fill_interval: \"100ms\")`."),
        f("services.*.rate_limit.Discrete.max_tokens", "integer, 1 to 4294967295", REQ, "Bucket size, and its initial fill (`max_tokens`)."),
        f("services.*.rate_limit.Discrete.tokens_per_fill", "integer, 1 to 4294967295", DISCRETE_TOKENS_PER_FILL_DEFAULT, "Tokens added per fill (`tokens_per_fill`)."),
        f("services.*.rate_limit.Discrete.fill_interval", "duration, > 0", REQ, "Time between fills (`fill_interval`; Envoy itself requires at least 50 ms)."),
        f("services.*.rate_limit.Discrete.per_instance", "bool", DISCRETE_PER_INSTANCE_DEFAULT, "One bucket per instance (as Envoy's local rate limit), or one for the whole service."),
        f("services.*.concurrency_limit", "`Aimd(...)`, `Gradient2(...)`, or `None`", "`None`", "Refuses a request with `Shed` (503) when the instance already holds as many as an adaptive limit allows (Netflix concurrency-limits). `Aimd()` takes the defaults."),
        f("services.*.concurrency_limit.Aimd", "struct variant", "", "Additive increase, multiplicative decrease (`AIMDLimit`): the limit grows by one while it is in use and is multiplied by `backoff_ratio` on a drop or a response slower than `timeout`."),
        f("services.*.concurrency_limit.Aimd.initial_limit", "integer, `min_limit` to `max_limit`", LIMIT_START_DEFAULT, "Starting limit."),
        f("services.*.concurrency_limit.Aimd.min_limit", "integer, 1 to `max_limit`", LIMIT_START_DEFAULT, "Floor of the limit."),
        f("services.*.concurrency_limit.Aimd.max_limit", "integer, 1 to 4294967295", LIMIT_MAX_DEFAULT, "Ceiling of the limit."),
        f("services.*.concurrency_limit.Aimd.backoff_ratio", "number, >= 0.5 and < 1", BACKOFF_RATIO_DEFAULT, "Factor applied to the limit on a drop."),
        f("services.*.concurrency_limit.Aimd.timeout", "duration, > 0", AIMD_TIMEOUT_DEFAULT, "A response slower than this counts as a drop."),
        f("services.*.concurrency_limit.Gradient2", "struct variant", "", "Follows the gradient of long-term to short-term round-trip time (`Gradient2Limit`)."),
        f("services.*.concurrency_limit.Gradient2.initial_limit", "integer, `min_limit` to `max_concurrency`", LIMIT_START_DEFAULT, "Starting limit."),
        f("services.*.concurrency_limit.Gradient2.min_limit", "integer, 1 to `max_concurrency`", LIMIT_START_DEFAULT, "Floor of the limit."),
        f("services.*.concurrency_limit.Gradient2.max_concurrency", "integer, 1 to 4294967295", LIMIT_MAX_DEFAULT, "Ceiling of the limit."),
        f("services.*.concurrency_limit.Gradient2.smoothing", "number, > 0 and <= 1", SMOOTHING_DEFAULT, "Weight of a new estimate when the limit is updated."),
        f("services.*.concurrency_limit.Gradient2.queue_size", "integer, 0 to 4294967295", GRADIENT_QUEUE_SIZE_DEFAULT, "Headroom added to the estimated limit."),
        f("services.*.concurrency_limit.Gradient2.long_window", "integer, 1 to 4294967295", LONG_WINDOW_DEFAULT, "Samples in the long-term round-trip-time average."),
        f("services.*.concurrency_limit.Gradient2.rtt_tolerance", "number, >= 1", RTT_TOLERANCE_DEFAULT, "How far the short-term round-trip time may exceed the long-term one before the limit drops."),
        f("services.*.shedding", "`QueueLength(...)`, `QueueDelay(...)`, or `None`", "`None`", "Refuses requests with `Shed` (503) by queue length or queue delay, least critical first (the SRE book's criticality classes; see `clients.*.criticality`). Give a threshold with `at` (for `Critical` work; `CriticalPlus` is shed at 125 % of it, `SheddablePlus` at 75 %, `Sheddable` at 50 %) or all four with `classes`, not both."),
        f("services.*.shedding.QueueLength", "struct variant", "", "Sheds by the number of requests waiting at the instance (or the service, for a shared queue): `QueueLength(at: 100)`."),
        f("services.*.shedding.QueueLength.at", "integer, 1 to 4294967295, or `None`", "required unless `classes` is given", "Queue length at which `Critical` work is shed."),
        f("services.*.shedding.QueueLength.retry_after", "duration", SHED_RETRY_AFTER_DEFAULT, "Retry-After sent with the 503."),
        f("services.*.shedding.QueueLength.classes", "struct, or `None`", "`None`", "One threshold per class, in requests; they must not increase from `critical_plus` to `sheddable`."),
        f("services.*.shedding.QueueLength.classes.critical_plus", "integer, 1 to 4294967295", REQ, "Threshold for `CriticalPlus` work."),
        f("services.*.shedding.QueueLength.classes.critical", "integer, 1 to 4294967295", REQ, "Threshold for `Critical` work."),
        f("services.*.shedding.QueueLength.classes.sheddable_plus", "integer, 1 to 4294967295", REQ, "Threshold for `SheddablePlus` work."),
        f("services.*.shedding.QueueLength.classes.sheddable", "integer, 1 to 4294967295", REQ, "Threshold for `Sheddable` work."),
        f("services.*.shedding.QueueDelay", "struct variant", "", "Sheds by how long the oldest waiting request has waited: `QueueDelay(at: \"50ms\")`."),
        f("services.*.shedding.QueueDelay.at", "duration > 0, or `None`", "required unless `classes` is given", "Queue delay at which `Critical` work is shed."),
        f("services.*.shedding.QueueDelay.retry_after", "duration", SHED_RETRY_AFTER_DEFAULT, "Retry-After sent with the 503."),
        f("services.*.shedding.QueueDelay.classes", "struct, or `None`", "`None`", "One threshold per class, as durations; they must not increase from `critical_plus` to `sheddable`."),
        f("services.*.shedding.QueueDelay.classes.critical_plus", "duration, > 0", REQ, "Threshold for `CriticalPlus` work."),
        f("services.*.shedding.QueueDelay.classes.critical", "duration, > 0", REQ, "Threshold for `Critical` work."),
        f("services.*.shedding.QueueDelay.classes.sheddable_plus", "duration, > 0", REQ, "Threshold for `SheddablePlus` work."),
        f("services.*.shedding.QueueDelay.classes.sheddable", "duration, > 0", REQ, "Threshold for `Sheddable` work."),
    ],
);

/// A rate limiter: `rate_limit: TokenBucket(rate: 100)` or `Discrete(max_tokens: 10, ...)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "RateLimit",
    expecting = "TokenBucket(rate: ...) or Discrete(max_tokens: ..., fill_interval: ...)",
    deny_unknown_fields
)]
pub(crate) enum RateLimitSpec {
    TokenBucket {
        rate: Rate,
        #[serde(default = "default_token_bucket_burst")]
        burst: Count<1, U32_MAX>,
        #[serde(default = "default_token_bucket_per_instance")]
        per_instance: bool,
    },
    Discrete {
        max_tokens: Count<1, U32_MAX>,
        #[serde(default = "default_discrete_tokens_per_fill")]
        tokens_per_fill: Count<1, U32_MAX>,
        fill_interval: PosDur,
        #[serde(default = "default_discrete_per_instance")]
        per_instance: bool,
    },
}

default_value!(TOKEN_BUCKET_BURST_DEFAULT, fn default_token_bucket_burst() -> Count<1, U32_MAX> = Count(1));
default_value!(TOKEN_BUCKET_PER_INSTANCE_DEFAULT, fn default_token_bucket_per_instance() -> bool = true);
default_value!(DISCRETE_TOKENS_PER_FILL_DEFAULT, fn default_discrete_tokens_per_fill() -> Count<1, U32_MAX> = Count(1));
default_value!(DISCRETE_PER_INSTANCE_DEFAULT, fn default_discrete_per_instance() -> bool = true);

/// Netflix concurrency-limits algorithms, with their parameter names and defaults.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename = "ConcurrencyLimit", expecting = "Aimd(...) or Gradient2(...)", deny_unknown_fields)]
pub(crate) enum ConcurrencyLimitSpec {
    Aimd {
        #[serde(default = "twenty")]
        initial_limit: Count<1, U32_MAX>,
        #[serde(default = "twenty")]
        min_limit: Count<1, U32_MAX>,
        #[serde(default = "two_hundred")]
        max_limit: Count<1, U32_MAX>,
        #[serde(default = "default_backoff_ratio")]
        backoff_ratio: BackoffRatio,
        #[serde(default = "default_aimd_timeout")]
        timeout: PosDur,
    },
    Gradient2 {
        #[serde(default = "twenty")]
        initial_limit: Count<1, U32_MAX>,
        #[serde(default = "twenty")]
        min_limit: Count<1, U32_MAX>,
        #[serde(default = "two_hundred")]
        max_concurrency: Count<1, U32_MAX>,
        #[serde(default = "default_smoothing")]
        smoothing: Smoothing,
        #[serde(default = "default_queue_size")]
        queue_size: Count<0, U32_MAX>,
        #[serde(default = "default_long_window")]
        long_window: Count<1, U32_MAX>,
        #[serde(default = "default_rtt_tolerance")]
        rtt_tolerance: Tolerance,
    },
}

default_value!(LIMIT_START_DEFAULT, fn twenty() -> Count<1, U32_MAX> = Count(20));

default_value!(LIMIT_MAX_DEFAULT, fn two_hundred() -> Count<1, U32_MAX> = Count(200));

default_value!(BACKOFF_RATIO_DEFAULT, fn default_backoff_ratio() -> BackoffRatio = BackoffRatio(0.9));

default_value!(AIMD_TIMEOUT_DEFAULT, fn default_aimd_timeout() -> PosDur = PosDur(dur "5s"));

default_value!(SMOOTHING_DEFAULT, fn default_smoothing() -> Smoothing = Smoothing(0.2));

default_value!(GRADIENT_QUEUE_SIZE_DEFAULT, fn default_queue_size() -> Count<0, U32_MAX> = Count(4));

default_value!(LONG_WINDOW_DEFAULT, fn default_long_window() -> Count<1, U32_MAX> = Count(600));

default_value!(RTT_TOLERANCE_DEFAULT, fn default_rtt_tolerance() -> Tolerance = Tolerance(1.5));

/// Load shedding by queue length or queue delay. `at` and `classes` are alternatives; that
/// exactly one is given, and that class thresholds do not increase, is checked when
/// building.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename = "Shedding", expecting = "QueueLength(at: ...) or QueueDelay(at: ...)", deny_unknown_fields)]
pub(crate) enum SheddingSpec {
    QueueLength {
        #[serde(default)]
        at: Option<Count<1, U32_MAX>>,
        #[serde(default = "default_retry_after")]
        retry_after: Dur,
        #[serde(default)]
        classes: Option<ClassesSpec<Count<1, U32_MAX>>>,
    },
    QueueDelay {
        #[serde(default)]
        at: Option<PosDur>,
        #[serde(default = "default_retry_after")]
        retry_after: Dur,
        #[serde(default)]
        classes: Option<ClassesSpec<PosDur>>,
    },
}

default_value!(SHED_RETRY_AFTER_DEFAULT, fn default_retry_after() -> Dur = dur "1s");

/// One shedding threshold per criticality class, most critical first.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Classes",
    expecting = "thresholds per class, as in (critical_plus: 125, critical: 100, sheddable_plus: 75, sheddable: 50)",
    deny_unknown_fields
)]
pub(crate) struct ClassesSpec<T> {
    pub critical_plus: T,
    pub critical: T,
    pub sheddable_plus: T,
    pub sheddable: T,
}

/// How important a client's requests are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Criticality", expecting = "one of CriticalPlus, Critical, SheddablePlus, Sheddable")]
pub(crate) enum CriticalitySpec {
    CriticalPlus,
    #[default]
    Critical,
    SheddablePlus,
    Sheddable,
}

// Building: checks across fields and entities, and the conversion to the model's
// configuration.

pub(crate) fn build_dependencies(
    spec: &ScenarioSpec,
    name: &str,
    s: &ServiceSpec,
    pending: &mut Vec<Pending>,
) -> Vec<DependencyConfig> {
    let mut called: BTreeSet<&str> = all_endpoint_specs(s).flat_map(called_names).collect();
    // A failover target is called when a call it backs fails.
    for (callee, d) in &s.dependencies.0 {
        if let (true, Some(FallbackSpec::Failover { service, .. })) =
            (called.contains(callee.as_str()), &d.fallback)
        {
            called.insert(service);
        }
    }
    // A call to a misspelt service is reported already; do not also call its policy unused.
    let all_known = called.iter().all(|n| spec.services.0.contains_key(*n));
    let mut out = Vec::with_capacity(s.dependencies.0.len());
    for (callee, d) in &s.dependencies.0 {
        let at = path(&["services", name, "dependencies", callee]);
        let Some(callee_index) = spec.services.0.get_index_of(callee) else {
            let names: Vec<&str> = spec.services.0.keys().map(String::as_str).collect();
            problem(pending, at, unknown_name("service", callee, &names));
            continue;
        };
        if all_known && !called.contains(callee.as_str()) {
            problem(
                pending,
                at.clone(),
                format!("`{name}` never calls `{callee}`, so this policy would have no effect"),
            );
        }
        let mut dep = dependency(ServiceId(id_of(callee_index)), d, &at, pending);
        if let Some(FallbackSpec::Failover { service, endpoint }) = &d.fallback {
            let f_at = under(&at, &["fallback", "Failover"]);
            dep.policy.fallback = resolve(spec, service, endpoint, &f_at, pending)
                .map(|(service, endpoint)| FallbackConfig::Failover { service, endpoint });
            if service == callee {
                pending.push(Pending {
                    paths: vec![under(&f_at, &["service"])],
                    anchor: Some(service.clone()),
                    message: format!(
                        "a failover to `{callee}` itself would only repeat the call; use `retry` for that"
                    ),
                });
            }
        }
        out.push(dep);
    }
    out
}

pub(crate) fn dependency(
    service: ServiceId,
    d: &DependencySpec,
    at: &[Seg],
    pending: &mut Vec<Pending>,
) -> DependencyConfig {
    let bulkhead = d.bulkhead.as_ref().map(|b| match b {
        BulkheadSpec::Semaphore { max_concurrent_calls, max_wait_duration } => BulkheadConfig::Semaphore {
            max_concurrent_calls: u32_of(max_concurrent_calls.0, "max_concurrent_calls"),
            max_wait_duration: duration_of(max_wait_duration),
        },
        BulkheadSpec::ThreadPool {
            max_thread_pool_size,
            core_thread_pool_size,
            queue_capacity,
            keep_alive_duration,
        } => {
            let max = max_thread_pool_size.0;
            // Resilience4j's default: one thread fewer than the maximum, at least one.
            let core = core_thread_pool_size.map_or(max.saturating_sub(1).max(1), |c| c.0);
            if core > max {
                problem(
                    pending,
                    under(at, &["bulkhead", "ThreadPool", "core_thread_pool_size"]),
                    format!("core_thread_pool_size ({core}) must not exceed max_thread_pool_size ({max})"),
                );
            }
            BulkheadConfig::ThreadPool {
                core_thread_pool_size: u32_of(core, "core_thread_pool_size"),
                max_thread_pool_size: u32_of(max, "max_thread_pool_size"),
                queue_capacity: u32_of(queue_capacity.0, "queue_capacity"),
                keep_alive_duration: duration_of(keep_alive_duration),
            }
        }
    });
    let pool = d.pool.as_ref().map(|p| pool(p, &under(at, &["pool"]), pending));
    DependencyConfig { service, policy: call_policy(d.policy(), at, pending), bulkhead, pool }
}

/// The call policy of a client group or a dependency at `at`, with the checks between its
/// fields.
pub(crate) fn call_policy(p: PolicyFields<'_>, at: &[Seg], pending: &mut Vec<Pending>) -> CallPolicy {
    if let (Some(timeout), Some(per_try)) = (p.timeout, p.per_try_timeout) {
        if per_try.0.ns >= timeout.0.ns {
            pending.push(Pending {
                paths: vec![under(at, &["per_try_timeout"]), under(at, &["timeout"])],
                anchor: None,
                message: format!(
                    "per_try_timeout (\"{}\") must be less than timeout (\"{}\"): the overall timeout would \
                     always end the call first, so the per-try timeout would never fire",
                    per_try.0.text, timeout.0.text
                ),
            });
        }
    }
    if p.retry.is_some() && p.hedge.is_some() {
        pending.push(Pending {
            paths: vec![under(at, &["hedge"]), under(at, &["retry"])],
            anchor: None,
            message: "give either `retry` or `hedge`, not both: as in gRPC, a call has a retry policy or a \
                      hedging policy (hedges already resend after the failures listed in `non_fatal`)"
                .to_string(),
        });
    }
    if p.budget.is_some() && p.retry.is_none() && p.hedge.is_none() {
        pending.push(Pending {
            paths: vec![under(at, &["budget"]), under(at, &["retry"]), under(at, &["hedge"])],
            anchor: None,
            message: "a budget limits retries and hedges, but there is no `retry` or `hedge`, so it would \
                      have no effect"
                .to_string(),
        });
    }
    CallPolicy {
        timeout: p.timeout.map(|t| duration_of(&t.0)),
        per_try_timeout: p.per_try_timeout.map(|t| duration_of(&t.0)),
        propagate_deadline: p.propagate_deadline.map(|d| DeadlinePropagation {
            factor: d.factor.0,
            format: match d.format {
                DeadlineFormatSpec::Absolute => DeadlineFormat::Absolute,
                DeadlineFormatSpec::Relative => DeadlineFormat::Relative,
            },
        }),
        retry: p.retry.map(|r| retry(r, &under(at, &["retry"]), pending)),
        budget: p.budget.map(budget),
        breaker: p.breaker.map(|b| breaker(b, &under(at, &["breaker"]), pending)),
        throttle: p.throttle.map(|t| throttle(t, &under(at, &["throttle"]), pending)),
        hedge: p.hedge.map(hedge),
        // A failover names a service: resolved by the dependency that has it.
        fallback: p.fallback.and_then(|f| match f {
            FallbackSpec::Static => Some(FallbackConfig::Static),
            FallbackSpec::Cache { hit_ratio } => Some(FallbackConfig::Cache { hit_ratio: hit_ratio.0 }),
            FallbackSpec::Failover { .. } => None,
        }),
    }
}

pub(crate) fn retry(r: &RetrySpec, at: &[Seg], pending: &mut Vec<Pending>) -> RetryPolicy {
    if r.retry_on.0.is_empty() {
        problem(
            pending,
            under(at, &["retry_on"]),
            "retry_on is empty, so nothing would be retried; list the failures to retry, or remove `retry`"
                .to_string(),
        );
    }
    RetryPolicy {
        max_attempts: u32_of(r.max_attempts.0, "max_attempts"),
        retry_on: r.retry_on.0.iter().map(|o| o.0.outcome()).collect(),
        backoff: backoff(&r.backoff, &under(at, &["backoff"]), pending),
        honor_retry_after: r.honor_retry_after,
    }
}

pub(crate) fn backoff(b: &BackoffSpec, at: &[Seg], pending: &mut Vec<Pending>) -> Backoff {
    match b {
        BackoffSpec::Immediate => Backoff::Immediate,
        BackoffSpec::Constant { delay } => Backoff::Constant { delay: duration_of(delay) },
        BackoffSpec::Exponential { base, cap, jitter } => {
            if cap.0.ns < base.0.ns {
                problem(
                    pending,
                    under(at, &["Exponential", "cap"]),
                    format!(
                        "cap (\"{}\") must not be below base (\"{}\"): every wait is at most cap",
                        cap.0.text, base.0.text
                    ),
                );
            }
            Backoff::Exponential {
                base: duration_of(&base.0),
                cap: duration_of(&cap.0),
                jitter: match jitter {
                    None => Jitter::None,
                    Some(JitterSpec::Full) => Jitter::Full,
                    Some(JitterSpec::Equal) => Jitter::Equal,
                    Some(JitterSpec::Decorrelated) => Jitter::Decorrelated,
                },
            }
        }
        BackoffSpec::Grpc { initial_backoff, max_backoff, multiplier, jitter } => Backoff::Grpc {
            initial_backoff: duration_of(&initial_backoff.0),
            max_backoff: duration_of(&max_backoff.0),
            multiplier: multiplier.0,
            jitter: match jitter {
                GrpcJitterSpec::Full => GrpcJitter::Full,
                GrpcJitterSpec::CCore => GrpcJitter::CCore,
            },
        },
        BackoffSpec::Envoy { base_interval, max_interval } => {
            let base = base_interval.0.ns;
            // Envoy's default: ten times the base interval.
            let max = max_interval.as_ref().map_or(base.saturating_mul(10), |m| m.0.ns);
            if let Some(m) = max_interval.as_ref().filter(|m| m.0.ns < base) {
                problem(
                    pending,
                    under(at, &["Envoy", "max_interval"]),
                    format!(
                        "max_interval (\"{}\") must not be below base_interval (\"{}\"), as Envoy requires",
                        m.0.text, base_interval.0.text
                    ),
                );
            }
            Backoff::Envoy {
                base_interval: SimDuration::from_nanos(base),
                max_interval: SimDuration::from_nanos(max),
            }
        }
    }
}

pub(crate) fn budget(b: &BudgetSpec) -> RetryBudgetConfig {
    match b {
        BudgetSpec::Finagle { ttl, min_retries_per_sec, percent_can_retry } => RetryBudgetConfig::Finagle {
            ttl: duration_of(&ttl.0),
            min_retries_per_sec: u32_of(min_retries_per_sec.0, "min_retries_per_sec"),
            percent_can_retry: percent_can_retry.0,
        },
        BudgetSpec::Envoy { budget_percent, min_retry_concurrency } => RetryBudgetConfig::Envoy {
            budget_percent: budget_percent.0,
            min_retry_concurrency: u32_of(min_retry_concurrency.0, "min_retry_concurrency"),
        },
        BudgetSpec::MaxRetries { max_retries } => {
            RetryBudgetConfig::MaxRetries { max_retries: u32_of(max_retries.0, "max_retries") }
        }
        BudgetSpec::GrpcThrottle { max_tokens, token_ratio } => RetryBudgetConfig::GrpcThrottle {
            max_tokens: u32_of(max_tokens.0, "max_tokens"),
            token_ratio: token_ratio.0,
        },
        BudgetSpec::AwsQuota { initial_capacity, retry_cost, timeout_retry_cost, no_retry_increment } => {
            RetryBudgetConfig::AwsQuota {
                initial_capacity: u32_of(initial_capacity.0, "initial_capacity"),
                retry_cost: u32_of(retry_cost.0, "retry_cost"),
                timeout_retry_cost: u32_of(timeout_retry_cost.0, "timeout_retry_cost"),
                no_retry_increment: u32_of(no_retry_increment.0, "no_retry_increment"),
            }
        }
    }
}

/// Shortest throttling window, in nanoseconds: the window is kept as 60 slices
/// (`squall_policy::throttle`), each at least a nanosecond long.
pub(crate) const THROTTLE_WINDOW_NS_MIN: u64 = 60;

pub(crate) fn throttle(t: &ThrottleSpec, at: &[Seg], pending: &mut Vec<Pending>) -> AdaptiveThrottleConfig {
    if t.window.0.ns < THROTTLE_WINDOW_NS_MIN {
        problem(
            pending,
            under(at, &["window"]),
            format!(
                "throttle.window (\"{}\") must be at least 60ns: the window is counted in 60 slices",
                t.window.0.text
            ),
        );
    }
    AdaptiveThrottleConfig { window: duration_of(&t.window.0), k: t.k.0 }
}

/// Largest count-based breaker window, in calls: one byte each, so a megabyte a breaker.
pub(crate) const BREAKER_COUNT_WINDOW_MAX: u64 = 1_000_000;
/// Largest time-based breaker window, in seconds (one slice each): a day.
pub(crate) const BREAKER_TIME_WINDOW_MAX: u64 = 86_400;

pub(crate) fn breaker(b: &BreakerSpec, at: &[Seg], pending: &mut Vec<Pending>) -> BreakerPolicy {
    if let BreakerSpec::Resilience4j { sliding_window_type, sliding_window_size, .. } = b {
        let (max, unit, kind) = match sliding_window_type {
            SlidingWindowSpec::CountBased => (BREAKER_COUNT_WINDOW_MAX, "calls", "CountBased"),
            SlidingWindowSpec::TimeBased => (BREAKER_TIME_WINDOW_MAX, "seconds (a day)", "TimeBased"),
        };
        if sliding_window_size.0 > max {
            problem(
                pending,
                under(at, &["Resilience4j", "sliding_window_size"]),
                format!(
                    "sliding_window_size ({}) must be at most {max} with `sliding_window_type: {kind}`: \
                     the breaker keeps a slot for each of the window's {unit}",
                    sliding_window_size.0
                ),
            );
        }
    }
    match b {
        BreakerSpec::Resilience4j {
            failure_rate_threshold,
            slow_call_rate_threshold,
            slow_call_duration_threshold,
            sliding_window_type,
            sliding_window_size,
            minimum_number_of_calls,
            permitted_number_of_calls_in_half_open_state,
            wait_duration_in_open_state,
            automatic_transition_from_open_to_half_open_enabled,
            shared,
        } => BreakerPolicy {
            config: BreakerConfig::Resilience4j(Resilience4jConfig {
                failure_rate_threshold: failure_rate_threshold.0,
                slow_call_rate_threshold: slow_call_rate_threshold.0,
                slow_call_duration_threshold: duration_of(&slow_call_duration_threshold.0),
                sliding_window_type: match sliding_window_type {
                    SlidingWindowSpec::CountBased => SlidingWindow::CountBased,
                    SlidingWindowSpec::TimeBased => SlidingWindow::TimeBased,
                },
                sliding_window_size: u32_of(sliding_window_size.0, "sliding_window_size"),
                minimum_number_of_calls: u32_of(minimum_number_of_calls.0, "minimum_number_of_calls"),
                permitted_number_of_calls_in_half_open_state: u32_of(
                    permitted_number_of_calls_in_half_open_state.0,
                    "permitted_number_of_calls_in_half_open_state",
                ),
                wait_duration_in_open_state: duration_of(&wait_duration_in_open_state.0),
                automatic_transition_from_open_to_half_open_enabled:
                    *automatic_transition_from_open_to_half_open_enabled,
            }),
            shared: *shared,
        },
        BreakerSpec::Consecutive { failure_threshold, break_duration, shared } => BreakerPolicy {
            config: BreakerConfig::Consecutive(ConsecutiveConfig {
                failure_threshold: u32_of(failure_threshold.0, "failure_threshold"),
                break_duration: duration_of(&break_duration.0),
            }),
            shared: *shared,
        },
    }
}

pub(crate) fn hedge(h: &HedgeSpec) -> HedgePolicy {
    HedgePolicy {
        max_attempts: u32_of(h.max_attempts.0, "max_attempts"),
        hedging_delay: duration_of(&h.hedging_delay),
        non_fatal: h.non_fatal.0.iter().map(|o| o.0.outcome()).collect(),
    }
}

pub(crate) fn pool(p: &PoolSpec, at: &[Seg], pending: &mut Vec<Pending>) -> PoolConfig {
    let max = p.maximum_pool_size.0;
    // HikariCP's default: a fixed-size pool.
    let min_idle = p.minimum_idle.map_or(max, |m| m.0);
    if min_idle > max {
        problem(
            pending,
            under(at, &["minimum_idle"]),
            format!("minimum_idle ({min_idle}) must not exceed maximum_pool_size ({max})"),
        );
    }
    PoolConfig {
        maximum_pool_size: u32_of(max, "maximum_pool_size"),
        minimum_idle: u32_of(min_idle, "minimum_idle"),
        connection_timeout: duration_of(&p.connection_timeout.0),
    }
}

/// Longest time a token bucket may take to refill from empty (`burst / rate`), in seconds:
/// about 31.7 years. The bucket's clock runs that far ahead of the simulated time, which
/// must stay within `u64` nanoseconds.
pub(crate) const TOKEN_BUCKET_REFILL_SECS_MAX: f64 = 1e9;

pub(crate) fn rate_limit(r: &RateLimitSpec, at: &[Seg], pending: &mut Vec<Pending>) -> RateLimitConfig {
    match r {
        RateLimitSpec::TokenBucket { rate, burst, per_instance } => {
            // `rate` is positive and finite, and at most 1e9, when it is read.
            let refill_secs = burst.0 as f64 / rate.0;
            if refill_secs > TOKEN_BUCKET_REFILL_SECS_MAX {
                let variant = under(at, &["TokenBucket"]);
                pending.push(Pending {
                    paths: vec![under(&variant, &["rate"]), under(&variant, &["burst"])],
                    anchor: None,
                    message: format!(
                        "a token bucket with rate {:e} and burst {} takes {refill_secs:.3e} s to refill \
                         (burst / rate); it may take at most 1e9 s (about 31 years), so raise `rate` or lower \
                         `burst`",
                        rate.0, burst.0
                    ),
                });
            }
            RateLimitConfig {
                bucket: TokenBucket::Continuous { rate: rate.0, burst: u32_of(burst.0, "burst") },
                per_instance: *per_instance,
            }
        }
        RateLimitSpec::Discrete { max_tokens, tokens_per_fill, fill_interval, per_instance } => {
            RateLimitConfig {
                bucket: TokenBucket::Discrete {
                    max_tokens: u32_of(max_tokens.0, "max_tokens"),
                    tokens_per_fill: u32_of(tokens_per_fill.0, "tokens_per_fill"),
                    fill_interval: duration_of(&fill_interval.0),
                },
                per_instance: *per_instance,
            }
        }
    }
}

/// Checks `min <= initial <= max`; `at` is the variant's path.
pub(crate) fn check_limits(
    at: &[Seg],
    (min, initial, max): (u64, u64, u64),
    max_name: &str,
    pending: &mut Vec<Pending>,
) {
    if min > max {
        problem(
            pending,
            under(at, &["min_limit"]),
            format!("min_limit ({min}) must not exceed {max_name} ({max})"),
        );
    } else if !(min..=max).contains(&initial) {
        problem(
            pending,
            under(at, &["initial_limit"]),
            format!("initial_limit ({initial}) must be from min_limit ({min}) to {max_name} ({max})"),
        );
    }
}

pub(crate) fn concurrency_limit(
    c: &ConcurrencyLimitSpec,
    at: &[Seg],
    pending: &mut Vec<Pending>,
) -> ConcurrencyLimitConfig {
    match c {
        ConcurrencyLimitSpec::Aimd { initial_limit, min_limit, max_limit, backoff_ratio, timeout } => {
            let limits = (min_limit.0, initial_limit.0, max_limit.0);
            check_limits(&under(at, &["Aimd"]), limits, "max_limit", pending);
            ConcurrencyLimitConfig::Aimd(AimdConfig {
                initial_limit: u32_of(initial_limit.0, "initial_limit"),
                min_limit: u32_of(min_limit.0, "min_limit"),
                max_limit: u32_of(max_limit.0, "max_limit"),
                backoff_ratio: backoff_ratio.0,
                timeout: duration_of(&timeout.0),
            })
        }
        ConcurrencyLimitSpec::Gradient2 {
            initial_limit,
            min_limit,
            max_concurrency,
            smoothing,
            queue_size,
            long_window,
            rtt_tolerance,
        } => {
            let limits = (min_limit.0, initial_limit.0, max_concurrency.0);
            check_limits(&under(at, &["Gradient2"]), limits, "max_concurrency", pending);
            ConcurrencyLimitConfig::Gradient2(Gradient2Config {
                initial_limit: u32_of(initial_limit.0, "initial_limit"),
                min_limit: u32_of(min_limit.0, "min_limit"),
                max_concurrency: u32_of(max_concurrency.0, "max_concurrency"),
                smoothing: smoothing.0,
                queue_size: QueueSize::Fixed(u32_of(queue_size.0, "queue_size")),
                long_window: u32_of(long_window.0, "long_window"),
                rtt_tolerance: rtt_tolerance.0,
            })
        }
    }
}

/// The shedding config; `None` (with a problem recorded) when `at` and `classes` do not
/// give exactly one set of thresholds.
pub(crate) fn shedding(sh: &SheddingSpec, at: &[Seg], pending: &mut Vec<Pending>) -> Option<SheddingConfig> {
    // (variant, metric, at, classes) with thresholds in requests or nanoseconds, and the
    // text of each class threshold for messages.
    let (variant, metric, threshold, classes, retry_after) = match sh {
        SheddingSpec::QueueLength { at, retry_after, classes } => (
            "QueueLength",
            ShedMetric::QueueLength,
            at.map(|a| a.0),
            classes.as_ref().map(|c| class_values(c, |n| (n.0, n.0.to_string()))),
            retry_after,
        ),
        SheddingSpec::QueueDelay { at, retry_after, classes } => (
            "QueueDelay",
            ShedMetric::QueueDelay,
            at.as_ref().map(|a| a.0.ns),
            classes.as_ref().map(|c| class_values(c, |d| (d.0.ns, format!("\"{}\"", d.0.text)))),
            retry_after,
        ),
    };
    let at = under(at, &[variant]);
    let (critical, per_class) = match (threshold, &classes) {
        (Some(_), Some(_)) => {
            pending.push(Pending {
                paths: vec![under(&at, &["classes"]), under(&at, &["at"])],
                anchor: None,
                message:
                    "give either `at` (the threshold for Critical work; the other classes follow from it) \
                          or `classes` (all four thresholds), not both"
                        .to_string(),
            });
            return None;
        }
        (None, None) => {
            problem(
                pending,
                at,
                "missing `at`: give the threshold at which Critical work is shed, or `classes` with one \
                 threshold per class"
                    .to_string(),
            );
            return None;
        }
        (Some(t), None) => (t, None),
        (None, Some(values)) => {
            let names = ["critical_plus", "critical", "sheddable_plus", "sheddable"];
            for i in 1..4 {
                let ((hi, hi_text), (lo, lo_text)) = (&values[i - 1], &values[i]);
                if lo > hi {
                    problem(
                        pending,
                        under(&at, &["classes", names[i]]),
                        format!(
                            "{} ({lo_text}) must not be above {} ({hi_text}): less critical work is shed first, \
                             so thresholds must not increase from critical_plus to sheddable",
                            names[i],
                            names[i - 1]
                        ),
                    );
                    return None;
                }
            }
            (values[1].0, Some([values[0].0, values[1].0, values[2].0, values[3].0]))
        }
    };
    Some(SheddingConfig { metric, at: critical, per_class, retry_after: duration_of(retry_after) })
}

/// The four class thresholds as (value, text), most critical first.
pub(crate) fn class_values<T>(c: &ClassesSpec<T>, f: impl Fn(&T) -> (u64, String)) -> [(u64, String); 4] {
    [f(&c.critical_plus), f(&c.critical), f(&c.sheddable_plus), f(&c.sheddable)]
}
