//! Policies: the call policy a client group and a dependency share (`with_call_policy!`:
//! timeouts, deadline propagation, retries and back-off, budgets, breakers, throttling,
//! hedging, fallbacks), a dependency's bulkhead and connection pool, and a service's
//! admission control (rate limit, concurrency limit, shedding).

use super::*;

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
