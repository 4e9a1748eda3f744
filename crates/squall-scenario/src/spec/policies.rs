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

/// `retry: (max_attempts: 3, backoff: Constant(delay: "500ms"), retry_on: [...], honor_retry_after: true)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Retry",
    expecting = "a retry policy, as in (max_attempts: 3, backoff: Exponential(base: \"100ms\", cap: \"10s\"))",
    deny_unknown_fields
)]
pub(crate) struct RetrySpec {
    #[serde(default = "three")]
    pub max_attempts: Count<1, 100>,
    #[serde(default)]
    pub backoff: BackoffSpec,
    #[serde(default = "default_retry_on")]
    pub retry_on: FailureList,
    #[serde(default = "yes")]
    pub honor_retry_after: bool,
}

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

/// Resilience4j's `waitDuration`.
fn default_retry_delay() -> Dur {
    dur(500 * NS_PER_MS, "500ms")
}

fn full_jitter() -> Option<JitterSpec> {
    Some(JitterSpec::Full)
}

/// Envoy's `retry_back_off.base_interval`.
fn default_base_interval() -> PosDur {
    PosDur(dur(25 * NS_PER_MS, "25ms"))
}

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
        #[serde(default = "ten")]
        min_retries_per_sec: Count<0, U32_MAX>,
        #[serde(default = "default_percent_can_retry")]
        percent_can_retry: PercentCanRetry,
    },
    Envoy {
        #[serde(default = "default_budget_percent")]
        budget_percent: Percent,
        #[serde(default = "three")]
        min_retry_concurrency: Count<0, U32_MAX>,
    },
    MaxRetries {
        #[serde(default = "three")]
        max_retries: Count<0, U32_MAX>,
    },
    GrpcThrottle {
        max_tokens: Count<1, 1000>,
        token_ratio: PosNumber,
    },
    AwsQuota {
        #[serde(default = "default_initial_capacity")]
        initial_capacity: Count<1, U32_MAX>,
        #[serde(default = "five")]
        retry_cost: Count<0, U32_MAX>,
        #[serde(default = "ten")]
        timeout_retry_cost: Count<0, U32_MAX>,
        #[serde(default = "one_or_more")]
        no_retry_increment: Count<0, U32_MAX>,
    },
}

fn default_finagle_ttl() -> FinagleTtl {
    FinagleTtl(dur(10 * NS_PER_S, "10s"))
}

fn default_percent_can_retry() -> PercentCanRetry {
    PercentCanRetry(0.2)
}

fn default_budget_percent() -> Percent {
    Percent(20.0)
}

fn default_initial_capacity() -> Count<1, U32_MAX> {
    count(500)
}

fn one_or_more<const MIN: u64, const MAX: u64>() -> Count<MIN, MAX> {
    count(1)
}

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
        #[serde(default = "one_minute")]
        slow_call_duration_threshold: PosDur,
        #[serde(default)]
        sliding_window_type: SlidingWindowSpec,
        #[serde(default = "hundred")]
        sliding_window_size: Count<1, U32_MAX>,
        #[serde(default = "hundred")]
        minimum_number_of_calls: Count<1, U32_MAX>,
        #[serde(default = "ten")]
        permitted_number_of_calls_in_half_open_state: Count<1, U32_MAX>,
        #[serde(default = "one_minute")]
        wait_duration_in_open_state: PosDur,
        #[serde(default)]
        automatic_transition_from_open_to_half_open_enabled: bool,
        #[serde(default)]
        shared: bool,
    },
    Consecutive {
        #[serde(default = "five")]
        failure_threshold: Count<1, U32_MAX>,
        #[serde(default = "default_break_duration")]
        break_duration: PosDur,
        #[serde(default)]
        shared: bool,
    },
}

fn default_failure_rate_threshold() -> Threshold {
    Threshold(50.0)
}

fn default_slow_call_rate_threshold() -> Threshold {
    Threshold(100.0)
}

fn default_break_duration() -> PosDur {
    PosDur(dur(5 * NS_PER_S, "5s"))
}

/// Resilience4j's `slidingWindowType`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "SlidingWindow", expecting = "one of CountBased, TimeBased")]
pub(crate) enum SlidingWindowSpec {
    #[default]
    CountBased,
    TimeBased,
}

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

fn default_throttle_window() -> PosDur {
    PosDur(dur(2 * 60 * NS_PER_S, "2m"))
}

fn default_throttle_k() -> PosNumber {
    PosNumber(2.0)
}

/// `hedge: (max_attempts: 3, hedging_delay: "10ms", non_fatal: [ServerError])`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Hedge",
    expecting = "a hedging policy, as in (max_attempts: 3, hedging_delay: \"10ms\")",
    deny_unknown_fields
)]
pub(crate) struct HedgeSpec {
    pub max_attempts: HedgeAttempts,
    #[serde(default = "zero")]
    pub hedging_delay: Dur,
    #[serde(default)]
    pub non_fatal: FailureList,
}

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
        #[serde(default = "zero")]
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

fn default_max_concurrent_calls() -> Count<1, U32_MAX> {
    Count(25)
}

fn default_queue_capacity() -> Count<0, U32_MAX> {
    Count(100)
}

fn default_keep_alive() -> Dur {
    dur(20 * NS_PER_MS, "20ms")
}

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

fn default_pool_size() -> Count<1, U32_MAX> {
    Count(10)
}

fn default_connection_timeout() -> PosDur {
    PosDur(dur(30 * NS_PER_S, "30s"))
}

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
        #[serde(default = "one")]
        burst: Count<1, U32_MAX>,
        #[serde(default = "yes")]
        per_instance: bool,
    },
    Discrete {
        max_tokens: Count<1, U32_MAX>,
        #[serde(default = "one")]
        tokens_per_fill: Count<1, U32_MAX>,
        fill_interval: PosDur,
        #[serde(default = "yes")]
        per_instance: bool,
    },
}

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

fn twenty() -> Count<1, U32_MAX> {
    Count(20)
}

fn two_hundred() -> Count<1, U32_MAX> {
    Count(200)
}

fn default_backoff_ratio() -> BackoffRatio {
    BackoffRatio(0.9)
}

fn default_aimd_timeout() -> PosDur {
    PosDur(dur(5 * NS_PER_S, "5s"))
}

fn default_smoothing() -> Smoothing {
    Smoothing(0.2)
}

fn default_queue_size() -> Count<0, U32_MAX> {
    Count(4)
}

fn default_long_window() -> Count<1, U32_MAX> {
    Count(600)
}

fn default_rtt_tolerance() -> Tolerance {
    Tolerance(1.5)
}

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

fn default_retry_after() -> Dur {
    dur(NS_PER_S, "1s")
}

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
        breaker: p.breaker.map(breaker),
        throttle: p.throttle.map(|t| AdaptiveThrottleConfig { window: duration_of(&t.window.0), k: t.k.0 }),
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

pub(crate) fn breaker(b: &BreakerSpec) -> BreakerPolicy {
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

pub(crate) fn rate_limit(r: &RateLimitSpec) -> RateLimitConfig {
    match r {
        RateLimitSpec::TokenBucket { rate, burst, per_instance } => RateLimitConfig {
            bucket: TokenBucket::Continuous { rate: rate.0, burst: u32_of(burst.0, "burst") },
            per_instance: *per_instance,
        },
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
