//! The file format: `*Spec` types that mirror the RON schema, one to one.
//!
//! Checks on a single field run here, while deserializing, so ron reports their position:
//! durations (`Dur`, and `SignedDur` for clock offsets), rates (`Rate`), bounded counts
//! (`Count`, `HedgeAttempts`), bounded numbers (`Fraction`, `Share`, ...), entity names and
//! duplicate keys (`NamedMap`), schedules (`ScheduleSpec`), distributions (`DistField`),
//! outcomes (`FailOutcome` for faults, `FailureList` for retries and hedges), flags
//! (`FlagList`), Kubernetes' int-or-percent (`IntOrPercentSpec`), canary steps
//! (`CanaryStepSpec`) and variants (`VariantsSpec`: names, paths that may be overridden,
//! values that parse). Checks between
//! two fields wait for `build`. The types also serialize, to the same shape, so overrides can
//! edit them as JSON and read them back.
//!
//! A client group and a dependency share their call-policy fields through
//! `with_call_policy!`, so the two accept the same policy and are built by one function.

use indexmap::IndexMap;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use squall_kernel::time::{unit_ns, DurationError, DURATION_UNITS, NS_PER_MS, NS_PER_S};
use squall_kernel::{Dist, SimDuration};
use squall_model::Outcome;
use std::fmt;
use std::marker::PhantomData;

use crate::error::did_you_mean;

/// Deepest nesting of `Mixture` inside `Mixture`.
pub(crate) const MIXTURE_DEPTH_MAX: u32 = 8;
/// Longest entity name, in bytes.
pub(crate) const NAME_BYTES_MAX: usize = 128;
/// Highest arrival rate: one request per nanosecond.
pub(crate) const RATE_PER_SEC_MAX: f64 = 1e9;

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

/// The whole file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Scenario",
    expecting = "a scenario, as in Scenario(name: \"x\", seed: 1, duration: \"1m\", services: {...}, clients: {...})",
    deny_unknown_fields
)]
pub(crate) struct ScenarioSpec {
    pub name: NonEmpty,
    #[serde(default)]
    pub description: String,
    pub seed: Count<0, { u64::MAX }>,
    pub duration: PosDur,
    #[serde(default)]
    pub timeseries: TimeseriesSpec,
    #[serde(default)]
    pub limits: LimitsSpec,
    pub services: NamedMap<ServiceSpec>,
    pub clients: NamedMap<ClientSpec>,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub deploys: Vec<DeploySpec>,
    #[serde(default)]
    pub invariants: Vec<crate::spec_checks::InvariantSpec>,
    #[serde(default)]
    pub explore: crate::spec_checks::ExploreSpec,
    #[serde(default)]
    pub variants: VariantsSpec,
    #[serde(default)]
    pub warmup: Option<WarmupSpec>,
}

/// `warmup: Fixed("30s")` or `warmup: Mser5`: how reports remove the initial transient.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename = "Warmup", expecting = "a warm-up: Fixed(\"30s\") or Mser5", deny_unknown_fields)]
pub(crate) enum WarmupSpec {
    Fixed(Dur),
    Mser5,
}

impl WarmupSpec {
    /// The model's warm-up rule.
    pub(crate) fn to_model(&self) -> squall_model::Warmup {
        match self {
            WarmupSpec::Fixed(d) => squall_model::Warmup::Fixed(SimDuration::from_nanos(d.ns)),
            WarmupSpec::Mser5 => squall_model::Warmup::Mser5,
        }
    }
}

/// `timeseries: (bucket: "1s", max_buckets: 3600)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Timeseries",
    expecting = "time-series settings, as in (bucket: \"1s\", max_buckets: 3600)",
    deny_unknown_fields
)]
pub(crate) struct TimeseriesSpec {
    #[serde(default = "default_bucket")]
    pub bucket: PosDur,
    #[serde(default = "default_max_buckets")]
    pub max_buckets: Count<1, 10_000_000>,
}

impl Default for TimeseriesSpec {
    fn default() -> Self {
        TimeseriesSpec { bucket: default_bucket(), max_buckets: default_max_buckets() }
    }
}

fn default_bucket() -> PosDur {
    PosDur(Dur { ns: NS_PER_S, text: "1s".to_string() })
}

fn default_max_buckets() -> Count<1, 10_000_000> {
    Count(3600)
}

/// `limits: (max_events: ..., max_in_flight: ...)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Limits",
    expecting = "limits, as in (max_events: 1000000000, max_in_flight: 100000)",
    deny_unknown_fields
)]
pub(crate) struct LimitsSpec {
    #[serde(default = "default_max_events")]
    pub max_events: Count<1, { u64::MAX }>,
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: Count<1, { u32::MAX as u64 }>,
}

impl Default for LimitsSpec {
    fn default() -> Self {
        LimitsSpec { max_events: default_max_events(), max_in_flight: default_max_in_flight() }
    }
}

fn default_max_events() -> Count<1, { u64::MAX }> {
    Count(squall_model::Limits::default().max_events)
}

fn default_max_in_flight() -> Count<1, { u32::MAX as u64 }> {
    Count(u64::from(squall_model::Limits::default().max_in_flight))
}

/// One service.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Service",
    expecting = "a service, as in (replicas: 2, workers: 8, endpoints: {...})",
    deny_unknown_fields
)]
pub(crate) struct ServiceSpec {
    #[serde(default = "one")]
    pub replicas: Count<1, 100_000>,
    #[serde(default = "one")]
    pub workers: Count<1, 1_000_000>,
    #[serde(default)]
    pub queue: QueueSpec,
    #[serde(default)]
    pub balancer: BalancerSpec,
    pub endpoints: NamedMap<EndpointSpec>,
    #[serde(default)]
    pub dependencies: NamedMap<DependencySpec>,
    #[serde(default)]
    pub rate_limit: Option<RateLimitSpec>,
    #[serde(default)]
    pub concurrency_limit: Option<ConcurrencyLimitSpec>,
    #[serde(default)]
    pub shedding: Option<SheddingSpec>,
    #[serde(default)]
    pub max_connections: Option<Count<1, U32_MAX>>,
    #[serde(default)]
    pub honor_deadlines: bool,
    #[serde(default)]
    pub clock_skew: Option<ClockSkewSpec>,
    /// `None` when absent: one implicit version. Present, it must list at least one.
    #[serde(default)]
    pub versions: Option<NamedMap<VersionSpec>>,
    #[serde(default)]
    pub lifecycle: LifecycleSpec,
    #[serde(default)]
    pub probes: ProbesSpec,
    #[serde(default = "zero")]
    pub propagation_delay: Dur,
    #[serde(default)]
    pub outlier_detection: Option<OutlierSpec>,
    #[serde(default = "fifty")]
    pub healthy_panic_threshold: Count<0, 100>,
    #[serde(default)]
    pub slow_start: Option<PosDur>,
    #[serde(default)]
    pub health_check: Option<HealthCheckSpec>,
}

/// One version of a service: the service's `endpoints`, with these added or replaced and
/// those in `remove` taken out.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(
    rename = "Version",
    expecting = "a version, as in (endpoints: {\"get\": (work: Exponential(mean: \"3ms\"))}, remove: [\"legacy\"])",
    deny_unknown_fields
)]
pub(crate) struct VersionSpec {
    #[serde(default)]
    pub endpoints: NamedMap<EndpointSpec>,
    #[serde(default)]
    pub remove: Vec<String>,
}

/// `lifecycle: (startup: Constant("20s"), warmup: "30s", warmup_factor: 3.0, ...)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Lifecycle",
    expecting = "a lifecycle, as in (startup: Constant(\"20s\"), warmup: \"30s\", warmup_factor: 3.0, pre_stop: \"5s\", grace_period: \"30s\")",
    deny_unknown_fields
)]
pub(crate) struct LifecycleSpec {
    #[serde(default = "default_startup")]
    pub startup: DistField,
    #[serde(default = "zero")]
    pub warmup: Dur,
    #[serde(default = "no_slowdown")]
    pub warmup_factor: SlowFactor,
    #[serde(default = "zero")]
    pub pre_stop: Dur,
    #[serde(default = "default_grace_period")]
    pub grace_period: Dur,
    #[serde(default)]
    pub restart: RestartSpec,
}

impl Default for LifecycleSpec {
    fn default() -> Self {
        LifecycleSpec {
            startup: default_startup(),
            warmup: zero(),
            warmup_factor: no_slowdown(),
            pre_stop: zero(),
            grace_period: default_grace_period(),
            restart: RestartSpec::default(),
        }
    }
}

fn default_startup() -> DistField {
    let spec = DistSpec::Constant(zero());
    let (dist, mixture_depth) = build_dist(&spec).expect("a constant of 0s is a valid distribution");
    DistField { spec, dist, mixture_depth }
}

fn no_slowdown() -> SlowFactor {
    SlowFactor(1.0)
}

fn default_grace_period() -> Dur {
    dur(30 * NS_PER_S, "30s")
}

/// `restart: (initial: "10s", max: "300s", reset_after: "600s")`: kubelet's crash-loop back-off.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Restart",
    expecting = "a restart back-off, as in (initial: \"10s\", max: \"300s\", reset_after: \"600s\")",
    deny_unknown_fields
)]
pub(crate) struct RestartSpec {
    #[serde(default = "ten_seconds")]
    pub initial: PosDur,
    #[serde(default = "default_restart_max")]
    pub max: PosDur,
    #[serde(default = "default_reset_after")]
    pub reset_after: PosDur,
}

impl Default for RestartSpec {
    fn default() -> Self {
        RestartSpec { initial: ten_seconds(), max: default_restart_max(), reset_after: default_reset_after() }
    }
}

fn ten_seconds() -> PosDur {
    PosDur(dur(10 * NS_PER_S, "10s"))
}

fn default_restart_max() -> PosDur {
    PosDur(dur(300 * NS_PER_S, "300s"))
}

fn default_reset_after() -> PosDur {
    PosDur(dur(600 * NS_PER_S, "600s"))
}

/// `probes: (liveness: (...), readiness: (...), startup: (...))`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(
    rename = "Probes",
    expecting = "probes, as in (liveness: (check: Process), readiness: (check: QueueBelow(100)))",
    deny_unknown_fields
)]
pub(crate) struct ProbesSpec {
    #[serde(default)]
    pub liveness: Option<ProbeSpec>,
    #[serde(default)]
    pub readiness: Option<ProbeSpec>,
    #[serde(default)]
    pub startup: Option<ProbeSpec>,
}

/// One probe: `(check: Process, initial_delay: "0s", period: "10s", timeout: "1s", ...)`.
/// Zero periods and timeouts are refused while reading; the thresholds a probe kind
/// requires are checked when building, where the kind is known.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Probe",
    expecting = "a probe, as in (check: Process, period: \"10s\", timeout: \"1s\", failure_threshold: 3)",
    deny_unknown_fields
)]
pub(crate) struct ProbeSpec {
    #[serde(default)]
    pub check: ProbeCheckSpec,
    #[serde(default = "zero")]
    pub initial_delay: Dur,
    #[serde(default = "ten_seconds")]
    pub period: PosDur,
    #[serde(default = "one_second")]
    pub timeout: PosDur,
    #[serde(default = "one")]
    pub success_threshold: Count<1, U32_MAX>,
    #[serde(default = "three")]
    pub failure_threshold: Count<1, U32_MAX>,
}

fn one_second() -> PosDur {
    PosDur(dur(NS_PER_S, "1s"))
}

/// Envoy active health checking: `health_check: (check: Process, interval: "5s")`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "HealthCheck",
    expecting = "a health check, as in (check: Process, interval: \"5s\", timeout: \"1s\", unhealthy_threshold: 3)",
    deny_unknown_fields
)]
pub(crate) struct HealthCheckSpec {
    #[serde(default)]
    pub check: ProbeCheckSpec,
    #[serde(default = "five_seconds")]
    pub interval: PosDur,
    #[serde(default = "one_second")]
    pub timeout: PosDur,
    #[serde(default = "three")]
    pub unhealthy_threshold: Count<1, U32_MAX>,
    #[serde(default = "two")]
    pub healthy_threshold: Count<1, U32_MAX>,
}

fn five_seconds() -> PosDur {
    PosDur(dur(5 * NS_PER_S, "5s"))
}

fn two<const MIN: u64, const MAX: u64>() -> Count<MIN, MAX> {
    count(2)
}

/// What a probe checks.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(
    rename = "ProbeCheck",
    expecting = "a probe check: Process, Dependency(service: ..., endpoint: ...) or QueueBelow(...)",
    deny_unknown_fields
)]
pub(crate) enum ProbeCheckSpec {
    #[default]
    Process,
    Dependency {
        service: String,
        endpoint: String,
    },
    QueueBelow(Count<1, U32_MAX>),
}

fn one<const MAX: u64>() -> Count<1, MAX> {
    Count(1)
}

/// The largest `u32`, as a bound of [`Count`].
pub(crate) const U32_MAX: u64 = u32::MAX as u64;

/// A duration known to be valid, for defaults.
fn dur(ns: u64, text: &str) -> Dur {
    Dur { ns, text: text.to_string() }
}

fn zero() -> Dur {
    dur(0, "0s")
}

/// `queue: (capacity: 256, shared: false, discipline: Fifo, codel: None, drop_abandoned: false)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename = "Queue", expecting = "a queue, as in (capacity: 100, shared: false)", deny_unknown_fields)]
pub(crate) struct QueueSpec {
    #[serde(default = "default_capacity")]
    pub capacity: Count<0, { u32::MAX as u64 }>,
    #[serde(default)]
    pub shared: bool,
    #[serde(default)]
    pub discipline: DisciplineSpec,
    #[serde(default)]
    pub codel: Option<CodelSpec>,
    #[serde(default)]
    pub drop_abandoned: bool,
}

impl Default for QueueSpec {
    fn default() -> Self {
        QueueSpec {
            capacity: default_capacity(),
            shared: false,
            discipline: DisciplineSpec::default(),
            codel: None,
            drop_abandoned: false,
        }
    }
}

/// Which waiting request a free worker takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Discipline", expecting = "one of Fifo, Lifo, AdaptiveLifo")]
pub(crate) enum DisciplineSpec {
    #[default]
    Fifo,
    Lifo,
    AdaptiveLifo,
}

/// `codel: (target: "5ms", interval: "100ms")`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Codel",
    expecting = "CoDel settings, as in (target: \"5ms\", interval: \"100ms\")",
    deny_unknown_fields
)]
pub(crate) struct CodelSpec {
    #[serde(default = "default_codel_target")]
    pub target: PosDur,
    #[serde(default = "default_codel_interval")]
    pub interval: PosDur,
}

fn default_codel_target() -> PosDur {
    PosDur(dur(5 * NS_PER_MS, "5ms"))
}

fn default_codel_interval() -> PosDur {
    PosDur(dur(100 * NS_PER_MS, "100ms"))
}

fn default_capacity() -> Count<0, { u32::MAX as u64 }> {
    Count(1000)
}

/// Load-balancing algorithm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Balancer", expecting = "one of RoundRobin, Random, LeastOutstanding, PowerOfTwoChoices")]
pub(crate) enum BalancerSpec {
    #[default]
    RoundRobin,
    Random,
    LeastOutstanding,
    PowerOfTwoChoices,
    RingHash,
    Maglev,
}

/// One endpoint: either the shorthand `work` then `calls`, or the general `steps`. Which
/// one is given, and that not both are, is checked when building, where both fields are
/// known and an override may have just switched forms.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Endpoint",
    expecting = "an endpoint, as in (work: Exponential(mean: \"5ms\"), calls: [...]) or (steps: [...])",
    deny_unknown_fields
)]
pub(crate) struct EndpointSpec {
    #[serde(default)]
    pub work: Option<DistField>,
    #[serde(default)]
    pub calls: Option<Vec<CallSpec>>,
    #[serde(default)]
    pub steps: Option<Vec<StepSpec>>,
    #[serde(default = "yes")]
    pub blocking: bool,
    #[serde(default)]
    pub cache: Option<CacheSpec>,
    #[serde(default)]
    pub error_rate: Fraction,
    #[serde(default)]
    pub flags: FlagList,
}

impl Default for Fraction {
    fn default() -> Self {
        Fraction(0.0)
    }
}

/// Flags an endpoint sets on its answers: names, each once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub(crate) struct FlagList(pub Vec<String>);

impl TryFrom<Vec<String>> for FlagList {
    type Error = String;
    fn try_from(names: Vec<String>) -> Result<Self, String> {
        for (i, name) in names.iter().enumerate() {
            check_name(name).map_err(|e| format!("flag names follow the rules of entity names: {e}"))?;
            if names[..i].contains(name) {
                return Err(format!("the flag `{name}` is listed twice"));
            }
        }
        Ok(FlagList(names))
    }
}

impl From<FlagList> for Vec<String> {
    fn from(l: FlagList) -> Self {
        l.0
    }
}

fn yes() -> bool {
    true
}

/// `(service: "db", endpoint: "query", timeout: "100ms", cache: (...))`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Call",
    expecting = "a call, as in (service: \"db\", endpoint: \"query\", timeout: \"100ms\")",
    deny_unknown_fields
)]
pub(crate) struct CallSpec {
    pub service: String,
    pub endpoint: String,
    #[serde(default)]
    pub timeout: Option<PosDur>,
    #[serde(default)]
    pub cache: Option<CacheSpec>,
}

/// One step of an endpoint. `Call` is a struct variant rather than a newtype around
/// [`CallSpec`] so that it is written `Call(service: ...)`, not `Call((service: ...))`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Step",
    expecting = "a step: Work(<distribution>), Call(service: ..., endpoint: ...) or Parallel(calls: [...])",
    deny_unknown_fields
)]
pub(crate) enum StepSpec {
    Work(DistField),
    Call {
        service: String,
        endpoint: String,
        #[serde(default)]
        timeout: Option<PosDur>,
        #[serde(default)]
        cache: Option<CacheSpec>,
    },
    Parallel {
        calls: Vec<CallSpec>,
        #[serde(default)]
        need: Option<Count<1, U32_MAX>>,
    },
}

/// `cache: (hit_ratio: 0.9, hit_latency: Constant("1ms"), warmup: "0s", cold_start: false)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Cache",
    expecting = "a cache, as in (hit_ratio: 0.9, hit_latency: Constant(\"1ms\"))",
    deny_unknown_fields
)]
pub(crate) struct CacheSpec {
    pub hit_ratio: Fraction,
    #[serde(default = "default_hit_latency")]
    pub hit_latency: DistField,
    #[serde(default = "zero")]
    pub warmup: Dur,
    #[serde(default)]
    pub cold_start: bool,
}

fn default_hit_latency() -> DistField {
    let spec = DistSpec::Constant(dur(NS_PER_MS, "1ms"));
    let (dist, mixture_depth) = build_dist(&spec).expect("a constant of 1ms is a valid distribution");
    DistField { spec, dist, mixture_depth }
}

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

/// A whole number known to be in `MIN..=MAX`, for defaults.
fn count<const MIN: u64, const MAX: u64>(n: u64) -> Count<MIN, MAX> {
    assert!((MIN..=MAX).contains(&n), "default {n} outside {MIN}..={MAX}");
    Count(n)
}

fn three<const MIN: u64, const MAX: u64>() -> Count<MIN, MAX> {
    count(3)
}

fn five<const MIN: u64, const MAX: u64>() -> Count<MIN, MAX> {
    count(5)
}

fn ten<const MIN: u64, const MAX: u64>() -> Count<MIN, MAX> {
    count(10)
}

fn hundred<const MIN: u64, const MAX: u64>() -> Count<MIN, MAX> {
    count(100)
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

fn one_minute() -> PosDur {
    PosDur(dur(60 * NS_PER_S, "60s"))
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

impl<'de> Deserialize<'de> for HedgeAttempts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HedgeAttemptsVisitor)
    }
}

struct HedgeAttemptsVisitor;

impl HedgeAttemptsVisitor {
    const COUNT: CountVisitor<2, GRPC_ATTEMPTS_MAX> = CountVisitor;
}

impl Visitor<'_> for HedgeAttemptsVisitor {
    type Value = HedgeAttempts;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        Self::COUNT.expecting(f)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
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

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Self::COUNT.visit_i64(v).map(|c| HedgeAttempts(c.0))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        Self::COUNT.visit_u128(v).map(|c| HedgeAttempts(c.0))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        Self::COUNT.visit_i128(v).map(|c| HedgeAttempts(c.0))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Self::COUNT.visit_f64(v).map(|c| HedgeAttempts(c.0))
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

/// How far each instance's clock is off true time.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "ClockSkew",
    expecting = "a clock skew: Offsets([\"+1s\", \"-200ms\"]) or Uniform(max: \"1s\")",
    deny_unknown_fields
)]
pub(crate) enum ClockSkewSpec {
    Offsets(Vec<SignedDur>),
    Uniform { max: PosDur },
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

/// `(name: "db-slow", service: "db", at: "2m", for: "20s", share: 1.0, what: Slow(factor: 5.0))`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Fault",
    expecting = "a fault, as in (service: \"db\", at: \"2m\", for: \"20s\", what: Slow(factor: 5.0))",
    deny_unknown_fields
)]
pub(crate) struct FaultSpec {
    #[serde(default)]
    pub name: Option<Label>,
    pub service: String,
    pub at: Dur,
    #[serde(rename = "for")]
    pub lasting: PosDur,
    #[serde(default = "whole_share")]
    pub share: Share,
    pub what: FaultKindSpec,
}

fn whole_share() -> Share {
    Share(1.0)
}

/// What goes wrong during a fault.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "FaultKind",
    expecting = "one of Slow(factor: ...), Down, Fail(fraction: ..., outcome: ...), FlushCache, Crash",
    deny_unknown_fields
)]
pub(crate) enum FaultKindSpec {
    Slow {
        factor: SlowFactor,
    },
    Down,
    Fail {
        fraction: Fraction,
        #[serde(default)]
        outcome: FailOutcome,
    },
    FlushCache,
    Crash,
}

impl FaultKindSpec {
    /// The kind as it appears in a fault's default name.
    pub fn label(&self) -> &'static str {
        match self {
            FaultKindSpec::Slow { .. } => "slow",
            FaultKindSpec::Down => "down",
            FaultKindSpec::Fail { .. } => "fail",
            FaultKindSpec::FlushCache => "flush_cache",
            FaultKindSpec::Crash => "crash",
        }
    }
}

/// Every outcome, by its variant name. `Ok` is here so that writing it gets a message
/// saying why it is refused rather than a bare "unknown variant".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Outcome", expecting = "an outcome, as in ServerError")]
pub(crate) enum OutcomeName {
    Ok,
    Degraded,
    Timeout,
    DeadlineExceeded,
    RateLimited,
    Shed,
    QueueFull,
    BulkheadFull,
    CircuitOpen,
    Throttled,
    ServerError,
    Unsupported,
    NoEndpoint,
    ConnectionReset,
    Cancelled,
}

impl OutcomeName {
    /// Every name, in the model's order.
    pub const ALL: [OutcomeName; Outcome::COUNT] = [
        OutcomeName::Ok,
        OutcomeName::Degraded,
        OutcomeName::Timeout,
        OutcomeName::DeadlineExceeded,
        OutcomeName::RateLimited,
        OutcomeName::Shed,
        OutcomeName::QueueFull,
        OutcomeName::BulkheadFull,
        OutcomeName::CircuitOpen,
        OutcomeName::Throttled,
        OutcomeName::ServerError,
        OutcomeName::Unsupported,
        OutcomeName::NoEndpoint,
        OutcomeName::ConnectionReset,
        OutcomeName::Cancelled,
    ];

    pub fn outcome(self) -> Outcome {
        match self {
            OutcomeName::Ok => Outcome::Ok,
            OutcomeName::Degraded => Outcome::Degraded,
            OutcomeName::Timeout => Outcome::Timeout,
            OutcomeName::DeadlineExceeded => Outcome::DeadlineExceeded,
            OutcomeName::RateLimited => Outcome::RateLimited,
            OutcomeName::Shed => Outcome::Shed,
            OutcomeName::QueueFull => Outcome::QueueFull,
            OutcomeName::BulkheadFull => Outcome::BulkheadFull,
            OutcomeName::CircuitOpen => Outcome::CircuitOpen,
            OutcomeName::Throttled => Outcome::Throttled,
            OutcomeName::ServerError => Outcome::ServerError,
            OutcomeName::Unsupported => Outcome::Unsupported,
            OutcomeName::NoEndpoint => Outcome::NoEndpoint,
            OutcomeName::ConnectionReset => Outcome::ConnectionReset,
            OutcomeName::Cancelled => Outcome::Cancelled,
        }
    }

    /// The name of `outcome`.
    pub fn of(outcome: Outcome) -> OutcomeName {
        *OutcomeName::ALL.iter().find(|n| n.outcome() == outcome).expect("every outcome has a name")
    }
}

/// The outcome a `Fail` fault answers with: any but `Ok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OutcomeName", into = "OutcomeName")]
pub(crate) struct FailOutcome(pub OutcomeName);

impl Default for FailOutcome {
    fn default() -> Self {
        FailOutcome(OutcomeName::ServerError)
    }
}

impl TryFrom<OutcomeName> for FailOutcome {
    type Error = &'static str;
    fn try_from(o: OutcomeName) -> Result<Self, &'static str> {
        if o == OutcomeName::Ok {
            return Err(
                "`Ok` is not a failure; a `Fail` fault answers with a failing outcome, such as ServerError",
            );
        }
        Ok(FailOutcome(o))
    }
}

impl From<FailOutcome> for OutcomeName {
    fn from(o: FailOutcome) -> Self {
        o.0
    }
}

with_call_policy! {
    /// One client group.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    #[serde(
        rename = "Client",
        expecting = "a client group, as in (target: (service: \"api\", endpoint: \"feed\"), arrivals: Poisson(rate: 100))",
        deny_unknown_fields
    )]
    pub(crate) struct ClientSpec {
        #[serde(default)]
        pub target: Option<TargetSpec>,
        #[serde(default)]
        pub flow: Option<Vec<FlowStepSpec>>,
        pub arrivals: ArrivalsSpec,
        #[serde(default)]
        pub schedule: ScheduleSpec,
        #[serde(default)]
        pub criticality: CriticalitySpec,
    }
}

/// `(service: "api", endpoint: "feed")`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Target",
    expecting = "a target, as in (service: \"api\", endpoint: \"feed\")",
    deny_unknown_fields
)]
pub(crate) struct TargetSpec {
    pub service: String,
    pub endpoint: String,
}

/// One step of a client's flow:
/// `(name: "confirm", target: (...), delay: Exponential(mean: "5s"), when: Flag(step: "signup", flag: "x"))`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "FlowStep",
    expecting = "a flow step, as in (name: \"signup\", target: (service: \"web\", endpoint: \"signup\"))",
    deny_unknown_fields
)]
pub(crate) struct FlowStepSpec {
    pub name: String,
    pub target: TargetSpec,
    #[serde(default = "default_startup")]
    pub delay: DistField,
    #[serde(default)]
    pub when: WhenSpec,
}

/// When a flow step runs.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(
    rename = "When",
    expecting = "Always, Flag(step: ..., flag: ...) or NotFlag(step: ..., flag: ...)",
    deny_unknown_fields
)]
pub(crate) enum WhenSpec {
    #[default]
    Always,
    Flag {
        step: String,
        flag: String,
    },
    NotFlag {
        step: String,
        flag: String,
    },
    ServedBy {
        step: String,
        version: String,
    },
    NotServedBy {
        step: String,
        version: String,
    },
}

/// `(name: "v2", service: "web", version: "v2", at: "10m", strategy: Rolling(...))`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Deploy",
    expecting = "a deploy, as in (name: \"v2\", service: \"web\", version: \"v2\", at: \"10m\", strategy: Rolling())",
    deny_unknown_fields
)]
pub(crate) struct DeploySpec {
    pub name: Label,
    pub service: String,
    pub version: String,
    #[serde(default)]
    pub at: Option<Dur>,
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub delay: Option<Dur>,
    #[serde(default)]
    pub strategy: StrategySpec,
}

/// How a deploy replaces instances.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Strategy",
    expecting = "a deploy strategy: Rolling(max_surge: ..., max_unavailable: ...), Canary(steps: [...]) or BlueGreen(...)",
    deny_unknown_fields
)]
pub(crate) enum StrategySpec {
    Rolling {
        #[serde(default = "quarter")]
        max_surge: IntOrPercentSpec,
        #[serde(default = "quarter")]
        max_unavailable: IntOrPercentSpec,
        #[serde(default = "zero")]
        min_ready: Dur,
        #[serde(default = "default_progress_deadline")]
        progress_deadline: PosDur,
    },
    Canary {
        #[serde(default)]
        steps: Vec<CanaryStepSpec>,
        #[serde(default)]
        traffic_routing: bool,
        #[serde(default)]
        analysis: Option<AnalysisSpec>,
    },
    BlueGreen {
        #[serde(default = "zero")]
        auto_promotion: Dur,
        #[serde(default = "thirty_seconds")]
        scale_down_delay: Dur,
        #[serde(default = "thirty_seconds")]
        abort_scale_down_delay: Dur,
        #[serde(default)]
        analysis: Option<AnalysisSpec>,
    },
}

fn thirty_seconds() -> Dur {
    dur(30 * NS_PER_S, "30s")
}

fn fifty() -> Count<0, 100> {
    Count(50)
}

/// Envoy passive outlier detection, with the names and defaults of `outlier_detection`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "OutlierDetection",
    expecting = "outlier detection, as in (consecutive_5xx: 5, interval: \"10s\", base_ejection_time: \"30s\")",
    deny_unknown_fields
)]
pub(crate) struct OutlierSpec {
    #[serde(default = "five")]
    pub consecutive_5xx: Count<0, U32_MAX>,
    #[serde(default = "hundred")]
    pub enforcing_consecutive_5xx: Count<0, 100>,
    #[serde(default = "five")]
    pub consecutive_gateway_failure: Count<0, U32_MAX>,
    #[serde(default)]
    pub enforcing_consecutive_gateway_failure: Count<0, 100>,
    #[serde(default = "ten_seconds")]
    pub interval: PosDur,
    #[serde(default = "thirty_seconds_pos")]
    pub base_ejection_time: PosDur,
    #[serde(default = "three_hundred_seconds")]
    pub max_ejection_time: PosDur,
    #[serde(default = "ten_percent")]
    pub max_ejection_percent: Count<0, 100>,
    #[serde(default)]
    pub always_eject_one_host: bool,
    #[serde(default = "five")]
    pub success_rate_minimum_hosts: Count<0, U32_MAX>,
    #[serde(default = "hundred")]
    pub success_rate_request_volume: Count<0, U32_MAX>,
    #[serde(default = "stdev_factor")]
    pub success_rate_stdev_factor: Count<0, U32_MAX>,
    #[serde(default = "hundred")]
    pub enforcing_success_rate: Count<0, 100>,
    #[serde(default = "eighty_five")]
    pub failure_percentage_threshold: Count<0, 100>,
    #[serde(default)]
    pub enforcing_failure_percentage: Count<0, 100>,
    #[serde(default = "five")]
    pub failure_percentage_minimum_hosts: Count<0, U32_MAX>,
    #[serde(default = "fifty_any")]
    pub failure_percentage_request_volume: Count<0, U32_MAX>,
}

fn fifty_any() -> Count<0, U32_MAX> {
    Count(50)
}
fn ten_percent() -> Count<0, 100> {
    Count(10)
}
fn eighty_five() -> Count<0, 100> {
    Count(85)
}
fn stdev_factor() -> Count<0, U32_MAX> {
    Count(1900)
}
fn thirty_seconds_pos() -> PosDur {
    PosDur(thirty_seconds())
}
fn three_hundred_seconds() -> PosDur {
    PosDur(dur(300 * NS_PER_S, "300s"))
}

impl Default for StrategySpec {
    fn default() -> Self {
        StrategySpec::Rolling {
            max_surge: quarter(),
            max_unavailable: quarter(),
            min_ready: zero(),
            progress_deadline: default_progress_deadline(),
        }
    }
}

fn quarter() -> IntOrPercentSpec {
    IntOrPercentSpec::Percent(25)
}

fn default_progress_deadline() -> PosDur {
    PosDur(dur(600 * NS_PER_S, "600s"))
}

/// One canary step: `SetWeight(20)`, `Pause("10m")`, or `Pause()` (until the end of the run).
///
/// `Pause()` is not a newtype with nothing inside as far as ron is concerned, so `Pause` is
/// read as a tuple of at most one duration from the file, and as a newtype (a duration, or
/// null, `{}` or `[]` for none) from the JSON tree overrides edit: see [`reading_tree`].
#[derive(Clone, Debug, Serialize)]
#[serde(rename = "CanaryStep")]
pub(crate) enum CanaryStepSpec {
    SetWeight(Count<0, 100>),
    Pause(Option<Dur>),
}

thread_local! {
    /// Whether the spec being read is the JSON tree of overrides rather than the file.
    static READING_TREE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` (which reads a spec back from the JSON tree) with [`CanaryStepSpec`] reading
/// `Pause` in the tree's form.
pub(crate) fn reading_tree<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            READING_TREE.with(|r| r.set(self.0));
        }
    }
    let _reset = Reset(READING_TREE.with(|r| r.replace(true)));
    f()
}

const CANARY_STEPS: &[&str] = &["SetWeight", "Pause"];

impl<'de> Deserialize<'de> for CanaryStepSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_enum("CanaryStep", CANARY_STEPS, CanaryStepVisitor)
    }
}

struct CanaryStepVisitor;

#[derive(Deserialize)]
#[serde(rename = "CanaryStep")]
enum CanaryStepTag {
    SetWeight,
    Pause,
}

impl<'de> Visitor<'de> for CanaryStepVisitor {
    type Value = CanaryStepSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a canary step: SetWeight(<percent>), Pause(\"<duration>\") or Pause()")
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        use de::VariantAccess as _;
        let (tag, variant) = data.variant::<CanaryStepTag>()?;
        match tag {
            CanaryStepTag::SetWeight => variant.newtype_variant().map(CanaryStepSpec::SetWeight),
            CanaryStepTag::Pause if READING_TREE.with(std::cell::Cell::get) => {
                variant.newtype_variant::<PauseArg>().map(|p| CanaryStepSpec::Pause(p.0))
            }
            CanaryStepTag::Pause => {
                variant.tuple_variant(1, PauseArgVisitor).map(|p| CanaryStepSpec::Pause(p.0))
            }
        }
    }
}

/// What `Pause` holds: a duration, or none (until the end of the run).
struct PauseArg(Option<Dur>);

impl<'de> Deserialize<'de> for PauseArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PauseArgVisitor)
    }
}

struct PauseArgVisitor;

impl<'de> Visitor<'de> for PauseArgVisitor {
    type Value = PauseArg;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration, as in Pause(\"10m\"), or nothing, as in Pause() (until the end of the run)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<PauseArg, E> {
        DurVisitor.visit_str(v).map(|d| PauseArg(Some(d)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<PauseArg, E> {
        DurVisitor.visit_u64(v).map(|d| PauseArg(Some(d)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<PauseArg, E> {
        DurVisitor.visit_i64(v).map(|d| PauseArg(Some(d)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<PauseArg, E> {
        DurVisitor.visit_f64(v).map(|d| PauseArg(Some(d)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<PauseArg, E> {
        Ok(PauseArg(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<PauseArg, E> {
        Ok(PauseArg(None))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<PauseArg, A::Error> {
        let first = seq.next_element::<Dur>()?;
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("a pause takes at most one duration, as in Pause(\"10m\")"));
        }
        Ok(PauseArg(first))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PauseArg, A::Error> {
        // `Pause()` in an override reads as a struct with every field at its default.
        if map.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("a pause takes a duration, as in Pause(\"10m\"), or nothing"));
        }
        Ok(PauseArg(None))
    }
}

/// `analysis: (interval: "1m", failure_limit: 0, max_error_rate: 0.01, max_p99: "200ms", min_samples: 20)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Analysis",
    expecting = "a canary analysis, as in (interval: \"1m\", max_error_rate: 0.01, max_p99: \"200ms\")",
    deny_unknown_fields
)]
pub(crate) struct AnalysisSpec {
    #[serde(default = "one_minute")]
    pub interval: PosDur,
    #[serde(default)]
    pub failure_limit: Count<0, U32_MAX>,
    #[serde(default)]
    pub max_error_rate: Option<Fraction>,
    #[serde(default)]
    pub max_p99: Option<PosDur>,
    #[serde(default = "one")]
    pub min_samples: Count<1, U32_MAX>,
}

impl<const MAX: u64> Default for Count<0, MAX> {
    fn default() -> Self {
        Count(0)
    }
}

/// Kubernetes `IntOrString` for `maxSurge` and `maxUnavailable`: a count (`1`) or a
/// percentage of the replicas (`"25%"`, at most 100 %).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntOrPercentSpec {
    Int(u32),
    Percent(u32),
}

impl IntOrPercentSpec {
    pub fn is_zero(self) -> bool {
        matches!(self, IntOrPercentSpec::Int(0) | IntOrPercentSpec::Percent(0))
    }
}

impl<'de> Deserialize<'de> for IntOrPercentSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IntOrPercentVisitor)
    }
}

struct IntOrPercentVisitor;

impl IntOrPercentVisitor {
    const COUNT: CountVisitor<0, U32_MAX> = CountVisitor;
}

impl Visitor<'_> for IntOrPercentVisitor {
    type Value = IntOrPercentSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number of instances, as in 1, or a percentage of the replicas, as in \"25%\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let bad = || {
            E::custom(format!(
                "expected a whole number of instances, as in 1, or a percentage from \"0%\" to \"100%\", got \"{v}\""
            ))
        };
        let digits = v.trim().strip_suffix('%').ok_or_else(bad)?.trim();
        let p: u32 = digits.parse().map_err(|_| bad())?;
        if p > 100 {
            return Err(bad());
        }
        Ok(IntOrPercentSpec::Percent(p))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Self::COUNT.visit_u64(v).map(|c| IntOrPercentSpec::Int(u32::try_from(c.0).expect("bounded by u32")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Self::COUNT.visit_i64(v).map(|c| IntOrPercentSpec::Int(u32::try_from(c.0).expect("bounded by u32")))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        Self::COUNT.visit_u128(v).map(|c| IntOrPercentSpec::Int(u32::try_from(c.0).expect("bounded by u32")))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        Self::COUNT.visit_i128(v).map(|c| IntOrPercentSpec::Int(u32::try_from(c.0).expect("bounded by u32")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Self::COUNT.visit_f64(v).map(|c| IntOrPercentSpec::Int(u32::try_from(c.0).expect("bounded by u32")))
    }
}

impl Serialize for IntOrPercentSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrPercentSpec::Int(n) => s.serialize_u32(*n),
            IntOrPercentSpec::Percent(p) => s.serialize_str(&format!("{p}%")),
        }
    }
}

/// How a client group generates requests.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Arrivals",
    expecting = "Poisson(rate: ...), Constant(rate: ...) or Closed(users: ..., think: ...)",
    deny_unknown_fields
)]
pub(crate) enum ArrivalsSpec {
    Poisson { rate: Rate },
    Constant { rate: Rate },
    Closed { users: Count<1, 10_000_000>, think: DistField },
}

/// One entry of a rate schedule.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "ScheduleEntry",
    expecting = "Step(at: ..., rate: ...) or Ramp(start: ..., end: ..., rate: ...)",
    deny_unknown_fields
)]
pub(crate) enum ScheduleEntrySpec {
    Step { at: Dur, rate: ScheduleRate },
    Ramp { start: Dur, end: Dur, rate: ScheduleRate },
}

impl ScheduleEntrySpec {
    fn start(&self) -> &Dur {
        match self {
            ScheduleEntrySpec::Step { at, .. } => at,
            ScheduleEntrySpec::Ramp { start, .. } => start,
        }
    }

    fn end(&self) -> &Dur {
        match self {
            ScheduleEntrySpec::Step { at, .. } => at,
            ScheduleEntrySpec::Ramp { end, .. } => end,
        }
    }

    fn describe(&self) -> String {
        match self {
            ScheduleEntrySpec::Step { at, .. } => format!("Step at {}", at.text),
            ScheduleEntrySpec::Ramp { start, end, .. } => format!("Ramp from {} to {}", start.text, end.text),
        }
    }
}

/// A rate schedule, checked to be in time order without overlaps.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<ScheduleEntrySpec>", into = "Vec<ScheduleEntrySpec>")]
pub(crate) struct ScheduleSpec(pub Vec<ScheduleEntrySpec>);

impl TryFrom<Vec<ScheduleEntrySpec>> for ScheduleSpec {
    type Error = String;
    fn try_from(steps: Vec<ScheduleEntrySpec>) -> Result<Self, String> {
        for (i, step) in steps.iter().enumerate() {
            if let ScheduleEntrySpec::Ramp { start, end, .. } = step {
                if end.ns <= start.ns {
                    return Err(format!(
                        "schedule[{i}]: a ramp must end after it starts, but it goes from {} to {}",
                        start.text, end.text
                    ));
                }
            }
            if i > 0 {
                let prev = &steps[i - 1];
                if step.start().ns < prev.end().ns {
                    return Err(format!(
                        "schedule[{i}] ({}) starts before schedule[{}] ({}) ends; entries must be in time order and not overlap",
                        step.describe(),
                        i - 1,
                        prev.describe()
                    ));
                }
            }
        }
        Ok(ScheduleSpec(steps))
    }
}

impl From<ScheduleSpec> for Vec<ScheduleEntrySpec> {
    fn from(s: ScheduleSpec) -> Self {
        s.0
    }
}

/// A distribution as written; [`DistField`] checks it and builds the kernel's [`Dist`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Distribution",
    expecting = "a distribution, as in Exponential(mean: \"5ms\")",
    deny_unknown_fields
)]
pub(crate) enum DistSpec {
    Constant(Dur),
    Uniform {
        low: Dur,
        high: Dur,
    },
    Exponential {
        mean: Dur,
    },
    Normal {
        mean: Dur,
        std_dev: Dur,
    },
    LogNormal {
        #[serde(default)]
        median: Option<Dur>,
        #[serde(default)]
        p99: Option<Dur>,
        #[serde(default)]
        mu: Option<f64>,
        #[serde(default)]
        sigma: Option<f64>,
        #[serde(default)]
        unit: Option<UnitSpec>,
    },
    Pareto {
        scale: Dur,
        shape: f64,
        max: Dur,
    },
    Gamma {
        shape: f64,
        scale: Dur,
    },
    Erlang {
        k: Count<1, 10_000>,
        mean: Dur,
    },
    Mixture(Vec<MixturePartSpec>),
    Empirical(Vec<Dur>),
    Quantiles(Vec<(f64, Dur)>),
}

/// `(weight: 0.9, dist: Exponential(mean: "5ms"))`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "MixtureComponent",
    expecting = "a mixture component, as in (weight: 0.9, dist: Exponential(mean: \"5ms\"))",
    deny_unknown_fields
)]
pub(crate) struct MixturePartSpec {
    pub weight: f64,
    pub dist: DistField,
}

/// A checked distribution: the spec as written (for overrides and docs) and the built
/// [`Dist`] in nanoseconds.
#[derive(Clone, Debug)]
pub(crate) struct DistField {
    pub spec: DistSpec,
    pub dist: Dist,
    /// Levels of `Mixture`: 0 for a plain distribution.
    pub mixture_depth: u32,
}

impl<'de> Deserialize<'de> for DistField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spec = DistSpec::deserialize(d)?;
        let (dist, mixture_depth) = build_dist(&spec).map_err(de::Error::custom)?;
        Ok(DistField { spec, dist, mixture_depth })
    }
}

impl Serialize for DistField {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.spec.serialize(s)
    }
}

fn positive(name: &str, d: &Dur) -> Result<f64, String> {
    if d.ns == 0 {
        return Err(format!("{name} must be greater than zero, got \"{}\"", d.text));
    }
    Ok(d.ns as f64)
}

fn kernel<T>(r: Result<T, squall_kernel::DistError>) -> Result<T, String> {
    r.map_err(|e| e.0)
}

/// Builds the kernel distribution, in nanoseconds, with messages in the file's own units.
fn build_dist(spec: &DistSpec) -> Result<(Dist, u32), String> {
    let dist = match spec {
        DistSpec::Constant(v) => kernel(Dist::constant(v.ns as f64))?,
        DistSpec::Uniform { low, high } => {
            if high.ns < low.ns {
                return Err(format!("high ({}) must not be below low ({})", high.text, low.text));
            }
            kernel(Dist::uniform(low.ns as f64, high.ns as f64))?
        }
        DistSpec::Exponential { mean } => kernel(Dist::exponential(positive("mean", mean)?))?,
        DistSpec::Normal { mean, std_dev } => {
            kernel(Dist::normal(positive("mean", mean)?, std_dev.ns as f64))?
        }
        DistSpec::LogNormal { median, p99, mu, sigma, unit } => lognormal(median, p99, *mu, *sigma, unit)?,
        DistSpec::Pareto { scale, shape, max } => {
            let scale_ns = positive("scale", scale)?;
            if max.ns <= scale.ns {
                return Err(format!("max ({}) must be greater than scale ({})", max.text, scale.text));
            }
            kernel(Dist::bounded_pareto(scale_ns, *shape, max.ns as f64))?
        }
        DistSpec::Gamma { shape, scale } => kernel(Dist::gamma(*shape, positive("scale", scale)?))?,
        DistSpec::Erlang { k, mean } => {
            let k = u32::try_from(k.0).map_err(|_| format!("k is too large: {}", k.0))?;
            kernel(Dist::erlang(k, positive("mean", mean)?))?
        }
        DistSpec::Mixture(parts) => {
            let depth = 1 + parts.iter().map(|p| p.dist.mixture_depth).max().unwrap_or(0);
            if depth > MIXTURE_DEPTH_MAX {
                return Err(format!("mixtures are nested {depth} deep; the limit is {MIXTURE_DEPTH_MAX}"));
            }
            let parts = parts.iter().map(|p| (p.weight, p.dist.dist.clone())).collect();
            return Ok((kernel(Dist::mixture(parts))?, depth));
        }
        DistSpec::Empirical(values) => kernel(Dist::choice(values.iter().map(|v| v.ns as f64).collect()))?,
        DistSpec::Quantiles(points) => {
            for pair in points.windows(2) {
                let ((q0, v0), (q1, v1)) = (&pair[0], &pair[1]);
                if v1.ns < v0.ns {
                    return Err(format!(
                        "values must not decrease: {} at quantile {q0}, then {} at quantile {q1}",
                        v0.text, v1.text
                    ));
                }
            }
            kernel(Dist::quantiles(points.iter().map(|(q, v)| (*q, v.ns as f64)).collect()))?
        }
    };
    Ok((dist, 0))
}

fn lognormal(
    median: &Option<Dur>,
    p99: &Option<Dur>,
    mu: Option<f64>,
    sigma: Option<f64>,
    unit: &Option<UnitSpec>,
) -> Result<Dist, String> {
    let quantile_form = median.is_some() || p99.is_some();
    let log_form = mu.is_some() || sigma.is_some() || unit.is_some();
    match (quantile_form, log_form) {
        (true, true) => {
            Err("give either `median` and `p99`, or `mu`, `sigma` and `unit`, not both".to_string())
        }
        (false, false) => {
            Err("LogNormal needs either `median` and `p99` (durations) or `mu`, `sigma` and `unit`"
                .to_string())
        }
        (true, false) => {
            let (Some(median), Some(p99)) = (median, p99) else {
                return Err("give both `median` and `p99`".to_string());
            };
            let median_ns = positive("median", median)?;
            if p99.ns <= median.ns {
                return Err(format!("p99 ({}) must be greater than the median ({})", p99.text, median.text));
            }
            kernel(Dist::lognormal_from_median_p99(median_ns, p99.ns as f64))
        }
        (false, true) => {
            let (Some(mu), Some(sigma), Some(unit)) = (mu, sigma, unit) else {
                return Err("give all of `mu`, `sigma` and `unit` (the unit of the values whose logarithm has mean mu, e.g. \"ms\")".to_string());
            };
            // ln(x_ns) = ln(x_unit) + ln(ns per unit), so only mu moves.
            let mu_ns = mu + (unit.ns as f64).ln();
            kernel(Dist::lognormal(mu_ns, sigma))
        }
    }
}

/// A time unit for `LogNormal(mu, sigma, unit)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct UnitSpec {
    pub text: String,
    pub ns: u64,
}

impl TryFrom<String> for UnitSpec {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        match unit_ns(text.trim()) {
            Some(ns) => Ok(UnitSpec { text, ns }),
            None => Err(unknown_unit(&text)),
        }
    }
}

impl From<UnitSpec> for String {
    fn from(u: UnitSpec) -> Self {
        u.text
    }
}

/// Common spellings of the units, mapped to the one the parser accepts.
const UNIT_ALIASES: &[(&str, &str)] = &[
    ("nsec", "ns"),
    ("nanos", "ns"),
    ("nanoseconds", "ns"),
    ("usec", "us"),
    ("micros", "us"),
    ("microseconds", "us"),
    ("msec", "ms"),
    ("millis", "ms"),
    ("milliseconds", "ms"),
    ("sec", "s"),
    ("secs", "s"),
    ("second", "s"),
    ("seconds", "s"),
    ("mins", "m"),
    ("minute", "m"),
    ("minutes", "m"),
    ("hr", "h"),
    ("hrs", "h"),
    ("hour", "h"),
    ("hours", "h"),
];

fn suggest_unit(unit: &str) -> Option<&'static str> {
    let lower = unit.to_lowercase();
    if let Some((_, to)) = UNIT_ALIASES.iter().find(|(from, _)| *from == lower) {
        return Some(to);
    }
    if let Some(u) = DURATION_UNITS.iter().find(|u| **u == lower) {
        return Some(u);
    }
    did_you_mean(unit, DURATION_UNITS.iter().copied())
}

fn unknown_unit(unit: &str) -> String {
    match suggest_unit(unit) {
        Some(s) => format!("unknown unit `{unit}`, did you mean `{s}`?"),
        None => format!("unknown unit `{unit}`; use one of ns, us, ms, s, m, h"),
    }
}

/// A duration as written: `"250ms"`, `"1.5s"`, `"10m"`. Zero is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dur {
    pub ns: u64,
    /// The text as written, kept for messages and for writing the spec back out.
    pub text: String,
}

pub(crate) fn parse_duration(text: &str) -> Result<Dur, String> {
    match SimDuration::parse(text) {
        Ok(d) => Ok(Dur { ns: d.as_nanos(), text: text.to_string() }),
        Err(DurationError::UnknownUnit(u)) => {
            Err(format!("invalid duration \"{text}\": {}", unknown_unit(&u)))
        }
        Err(e) => Err(format!("invalid duration \"{text}\": {e}")),
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurVisitor)
    }
}

struct DurVisitor;

impl Visitor<'_> for DurVisitor {
    type Value = Dur;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration string such as \"250ms\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
        parse_duration(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
        if v == 0 {
            return Ok(Dur { ns: 0, text: "0".to_string() });
        }
        Err(E::custom(format!(
            "a duration is a string with a unit, as in \"{v}ms\" or \"{v}s\", not a bare number"
        )))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom("durations cannot be negative")),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
        if v < 0.0 {
            return Err(E::custom("durations cannot be negative"));
        }
        if v == 0.0 {
            return Ok(Dur { ns: 0, text: "0".to_string() });
        }
        Err(E::custom(format!(
            "a duration is a string with a unit, as in \"{v}ms\" or \"{v}s\", not a bare number"
        )))
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// A duration either way, as a clock offset: `"+1500ms"`, `"-200ms"`, `"0s"` (no sign is
/// ahead, as `+`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SignedDur {
    pub ns: i64,
    /// The text as written, kept for messages and for writing the spec back out.
    pub text: String,
}

pub(crate) fn parse_signed_duration(text: &str) -> Result<SignedDur, String> {
    let invalid = |why: String| format!("invalid offset \"{text}\": {why}");
    let trimmed = text.trim();
    let (negative, magnitude) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    if magnitude.starts_with(['+', '-']) {
        return Err(invalid("give at most one sign, as in \"+1500ms\" or \"-200ms\"".to_string()));
    }
    let ns = match SimDuration::parse(magnitude) {
        Ok(d) => d.as_nanos(),
        Err(DurationError::UnknownUnit(u)) => return Err(invalid(unknown_unit(&u))),
        Err(e) => return Err(invalid(e.to_string())),
    };
    // Both signs reach the same magnitude, so -ns cannot overflow.
    let Ok(ns) = i64::try_from(ns) else {
        return Err(invalid("an offset must be at most about 292 years either way".to_string()));
    };
    Ok(SignedDur { ns: if negative { -ns } else { ns }, text: text.to_string() })
}

impl<'de> Deserialize<'de> for SignedDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SignedDurVisitor)
    }
}

struct SignedDurVisitor;

impl SignedDurVisitor {
    fn bare<E: de::Error>(v: impl fmt::Display) -> E {
        E::custom(format!(
            "an offset is a string with a sign and a unit, as in \"+{v}ms\" or \"-{v}ms\", not a bare number"
        ))
    }
}

impl Visitor<'_> for SignedDurVisitor {
    type Value = SignedDur;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a signed duration string such as \"+1500ms\" or \"-200ms\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SignedDur, E> {
        parse_signed_duration(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<SignedDur, E> {
        if v == 0 {
            return Ok(SignedDur { ns: 0, text: "0".to_string() });
        }
        Err(Self::bare(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<SignedDur, E> {
        if v == 0 {
            return self.visit_u64(0);
        }
        Err(Self::bare(v.unsigned_abs()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<SignedDur, E> {
        if v == 0.0 {
            return self.visit_u64(0);
        }
        Err(Self::bare(v.abs()))
    }
}

impl Serialize for SignedDur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// A duration greater than zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PosDur(pub Dur);

impl<'de> Deserialize<'de> for PosDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let dur = Dur::deserialize(d)?;
        if dur.ns == 0 {
            return Err(de::Error::custom(format!("must be greater than zero, got \"{}\"", dur.text)));
        }
        Ok(PosDur(dur))
    }
}

impl Serialize for PosDur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// Requests per second of an arrival process: finite and greater than zero.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub(crate) struct Rate(pub f64);

/// Rates above one request per nanosecond cannot be represented in integer time.
fn check_rate_cap(v: f64) -> Result<(), String> {
    if v > RATE_PER_SEC_MAX {
        return Err(format!("a rate must be at most 1e9 per second (one request per nanosecond), got {v}"));
    }
    Ok(())
}

impl TryFrom<f64> for Rate {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if !(v.is_finite() && v > 0.0) {
            return Err(format!(
                "a rate must be a finite number of requests per second greater than 0, got {v}"
            ));
        }
        check_rate_cap(v)?;
        Ok(Rate(v))
    }
}

impl From<Rate> for f64 {
    fn from(r: Rate) -> f64 {
        r.0
    }
}

/// Requests per second in a schedule: finite and at least zero (zero pauses arrivals).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub(crate) struct ScheduleRate(pub f64);

impl TryFrom<f64> for ScheduleRate {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if !(v.is_finite() && v >= 0.0) {
            return Err(format!(
                "a scheduled rate must be a finite number of requests per second, 0 or more, got {v}"
            ));
        }
        check_rate_cap(v)?;
        Ok(ScheduleRate(v))
    }
}

impl From<ScheduleRate> for f64 {
    fn from(r: ScheduleRate) -> f64 {
        r.0
    }
}

/// Defines a number type checked while reading, so ron can say where a bad one is.
macro_rules! checked_number {
    ($(#[$doc:meta])* $name:ident, $what:literal, $ok:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(try_from = "f64", into = "f64")]
        pub(crate) struct $name(pub f64);

        impl TryFrom<f64> for $name {
            type Error = String;
            fn try_from(v: f64) -> Result<Self, String> {
                let ok: fn(f64) -> bool = $ok;
                if !ok(v) {
                    return Err(format!(concat!("must be ", $what, ", got {}"), v));
                }
                Ok($name(v))
            }
        }

        impl From<$name> for f64 {
            fn from(x: $name) -> f64 {
                x.0
            }
        }
    };
}

checked_number!(
    /// A probability or ratio in `[0, 1]`: a cache's hit ratio, a fault's failing fraction.
    Fraction,
    "from 0 to 1",
    |v| (0.0..=1.0).contains(&v)
);
checked_number!(
    /// A share of instances in `(0, 1]`.
    Share,
    "greater than 0 and at most 1",
    |v| v > 0.0 && v <= 1.0
);
checked_number!(
    /// AIMD's backoff ratio, in `[0.5, 1)` as Netflix's `AIMDLimit` requires.
    BackoffRatio,
    "at least 0.5 and less than 1",
    |v| (0.5..1.0).contains(&v)
);
checked_number!(
    /// Gradient2's smoothing, in `(0, 1]`.
    Smoothing,
    "greater than 0 and at most 1",
    |v| v > 0.0 && v <= 1.0
);
checked_number!(
    /// Gradient2's RTT tolerance, at least 1 as Netflix's `Gradient2Limit` requires.
    Tolerance,
    "a finite number, at least 1",
    |v| v.is_finite() && v >= 1.0
);
checked_number!(
    /// A slowdown factor (a `Slow` fault's, or warm-up's): at least 1 (neither speeds work
    /// up), at most a million so that slowed work still fits in integer nanoseconds.
    SlowFactor,
    "from 1 to 1000000",
    |v| (1.0..=1e6).contains(&v)
);
checked_number!(
    /// A finite number greater than 0: gRPC's back-off multiplier and token ratio, the
    /// throttling constant K.
    PosNumber,
    "a finite number greater than 0",
    |v| v.is_finite() && v > 0.0
);
checked_number!(
    /// A percentage in `[0, 100]`: Envoy's `budget_percent`.
    Percent,
    "from 0 to 100",
    |v| (0.0..=100.0).contains(&v)
);
checked_number!(
    /// Finagle's `percentCanRetry`, in `[0, 1000]` as `RetryBudget` requires.
    PercentCanRetry,
    "from 0 to 1000",
    |v| (0.0..=1000.0).contains(&v)
);
checked_number!(
    /// A Resilience4j rate threshold, a percentage in `(0, 100]`.
    Threshold,
    "greater than 0 and at most 100",
    |v| v > 0.0 && v <= 100.0
);

/// A label shown in outputs: not empty, at most [`NAME_BYTES_MAX`] bytes, no control
/// characters. Unlike entity names it may contain `.` and `/`: it names nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct Label(pub String);

impl TryFrom<String> for Label {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Err("must not be empty".to_string());
        }
        if s.len() > NAME_BYTES_MAX {
            return Err(format!("the name \"{s}\" is longer than {NAME_BYTES_MAX} bytes"));
        }
        if s.chars().any(char::is_control) {
            return Err(format!("the name {s:?} contains a control character"));
        }
        Ok(Label(s))
    }
}

impl From<Label> for String {
    fn from(l: Label) -> Self {
        l.0
    }
}

/// Top-level fields a variant may not change: runs are compared over the same time axis
/// and the same random streams. `variants` itself is not an override target either.
const FIXED_FIELDS: &[(&str, &str)] = &[
    ("seed", "variants share the seed, so that their runs differ only by what the variant changes"),
    ("duration", "variants are compared over the same time axis"),
    ("timeseries", "variants are compared over the same time axis"),
    ("variants", "a variant cannot define variants"),
];

/// Why `name` cannot name a variant, if it cannot.
pub(crate) fn check_variant_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("variant names must not be empty".to_string());
    }
    if name.len() > NAME_BYTES_MAX {
        return Err(format!("the variant name \"{name}\" is longer than {NAME_BYTES_MAX} bytes"));
    }
    // A variant's name becomes a directory of its report.
    if name.contains('/') || name.contains('\\') {
        return Err(format!("the variant name \"{name}\" contains a path separator"));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("the variant name {name:?} contains a control character"));
    }
    if name.trim() != name {
        return Err(format!("the variant name \"{name}\" starts or ends with a space"));
    }
    if name.eq_ignore_ascii_case(crate::BASELINE) {
        return Err(format!(
            "`{name}` is reserved for the scenario without changes; give the variant another name"
        ));
    }
    Ok(())
}

/// Why a variant cannot override `path`, if it cannot.
pub(crate) fn check_variant_path(path: &str) -> Result<(), String> {
    let segs = crate::overrides::split_path(path)?;
    if let Some((field, why)) = FIXED_FIELDS.iter().find(|(f, _)| segs[0] == *f) {
        return Err(format!("a variant cannot change `{field}`: {why}"));
    }
    Ok(())
}

/// `variants: {"name": {"override.path": "RON value", ...}, ...}`, in file order.
#[derive(Clone, Debug, Default)]
pub(crate) struct VariantsSpec(pub IndexMap<String, VariantSpec>);

/// One variant: override paths to values, in file order (the order they apply in).
#[derive(Clone, Debug, Default)]
pub(crate) struct VariantSpec(pub IndexMap<String, String>);

impl<'de> Deserialize<'de> for VariantsSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(VariantsVisitor)
    }
}

struct VariantsVisitor;

impl<'de> Visitor<'de> for VariantsVisitor {
    type Value = VariantsSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            "a map from variant names to overrides, as in {\"bigger\": {\"services.api.replicas\": \"8\"}}",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = IndexMap::new();
        while let Some(name) = access.next_key::<String>()? {
            check_variant_name(&name).map_err(de::Error::custom)?;
            if map.len() == crate::N_VARIANTS_MAX {
                return Err(de::Error::custom(format!(
                    "a file may define at most {} variants; each is a whole build",
                    crate::N_VARIANTS_MAX
                )));
            }
            if map.contains_key(&name) {
                return Err(de::Error::custom(format!("the variant `{name}` is defined twice")));
            }
            let value = access.next_value()?;
            map.insert(name, value);
        }
        Ok(VariantsSpec(map))
    }
}

impl<'de> Deserialize<'de> for VariantSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(VariantVisitor)
    }
}

struct VariantVisitor;

impl<'de> Visitor<'de> for VariantVisitor {
    type Value = VariantSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map from override paths to values written as strings, as in {\"services.api.replicas\": \"8\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = IndexMap::new();
        while let Some(path) = access.next_key::<String>()? {
            check_variant_path(&path).map_err(de::Error::custom)?;
            if map.contains_key(&path) {
                return Err(de::Error::custom(format!("`{path}` is set twice in this variant")));
            }
            let OverrideValue(value) = access.next_value()?;
            map.insert(path, value);
        }
        Ok(VariantSpec(map))
    }
}

/// A variant's value: RON text in a string, checked to parse as `--set` values do.
struct OverrideValue(String);

impl<'de> Deserialize<'de> for OverrideValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OverrideValueVisitor)
    }
}

struct OverrideValueVisitor;

impl OverrideValueVisitor {
    fn quote<E: de::Error>(shown: impl fmt::Display) -> E {
        E::custom(format!(
            "a variant's values are RON written as a string, as with --set: write \"{shown}\", not {shown}"
        ))
    }
}

impl Visitor<'_> for OverrideValueVisitor {
    type Value = OverrideValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a RON value written as a string, as in \"8\" or \"Semaphore(max_concurrent_calls: 10)\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<OverrideValue, E> {
        crate::overrides::parse_value(v).map_err(E::custom)?;
        Ok(OverrideValue(v.to_string()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<OverrideValue, E> {
        Err(Self::quote(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<OverrideValue, E> {
        Err(Self::quote(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<OverrideValue, E> {
        Err(Self::quote(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<OverrideValue, E> {
        Err(Self::quote(v))
    }
}

impl Serialize for VariantsSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Serialize for VariantSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// A whole number in `MIN..=MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Count<const MIN: u64, const MAX: u64>(pub u64);

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Count<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CountVisitor::<MIN, MAX>)
    }
}

struct CountVisitor<const MIN: u64, const MAX: u64>;

impl<const MIN: u64, const MAX: u64> Visitor<'_> for CountVisitor<MIN, MAX> {
    type Value = Count<MIN, MAX>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a whole number from {MIN} to {MAX}")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        if v < MIN {
            return Err(E::custom(format!("must be at least {MIN}, got {v}")));
        }
        if v > MAX {
            return Err(E::custom(format!("must be at most {MAX}, got {v}")));
        }
        Ok(Count(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format!("must be at least {MIN}, got {v}"))),
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format!("must be at most {MAX}, got {v}"))),
        }
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) if v < 0 => Err(E::custom(format!("must be at least {MIN}, got {v}"))),
            Err(_) => Err(E::custom(format!("must be at most {MAX}, got {v}"))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // ron reads integers too large for 64 bits as floats.
        if v.fract() == 0.0 && v > MAX as f64 {
            return Err(E::custom(format!("must be at most {MAX}, got {v}")));
        }
        if v.fract() == 0.0 && v < MIN as f64 {
            return Err(E::custom(format!("must be at least {MIN}, got {v}")));
        }
        Err(E::custom(format!("must be a whole number from {MIN} to {MAX}, got {v}")))
    }
}

impl<const MIN: u64, const MAX: u64> Serialize for Count<MIN, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// A non-empty string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct NonEmpty(pub String);

impl TryFrom<String> for NonEmpty {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, &'static str> {
        if s.trim().is_empty() {
            return Err("must not be empty");
        }
        Ok(NonEmpty(s))
    }
}

impl From<NonEmpty> for String {
    fn from(s: NonEmpty) -> Self {
        s.0
    }
}

/// Why `name` cannot name an entity, if it cannot.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("names must not be empty".to_string());
    }
    if name.len() > NAME_BYTES_MAX {
        return Err(format!("the name \"{name}\" is longer than {NAME_BYTES_MAX} bytes"));
    }
    // Names are segments of random-stream keys (`services/api/instance/0/work`) and of
    // dotted field paths (`services.api.replicas`), so neither separator may appear.
    for (c, why) in [('/', "random-stream keys"), ('.', "field paths such as `services.NAME.replicas`")] {
        if name.contains(c) {
            return Err(format!("the name \"{name}\" contains `{c}`, which separates {why}"));
        }
    }
    if name.chars().any(char::is_control) {
        return Err(format!("the name {name:?} contains a control character"));
    }
    if name.trim() != name {
        return Err(format!("the name \"{name}\" starts or ends with a space"));
    }
    Ok(())
}

/// Entities by name, in file order (the order gives their ids). Duplicate and invalid names
/// are refused while reading, where ron can still say where they are.
#[derive(Clone, Debug)]
pub(crate) struct NamedMap<T>(pub IndexMap<String, T>);

impl<T> Default for NamedMap<T> {
    fn default() -> Self {
        NamedMap(IndexMap::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NamedMap<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(NamedMapVisitor(PhantomData))
    }
}

struct NamedMapVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for NamedMapVisitor<T> {
    type Value = NamedMap<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map from names to entries, as in {\"api\": (...)}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = IndexMap::new();
        while let Some(name) = access.next_key::<String>()? {
            check_name(&name).map_err(de::Error::custom)?;
            if map.contains_key(&name) {
                return Err(de::Error::custom(format!("`{name}` is defined twice")));
            }
            let value = access.next_value()?;
            map.insert(name, value);
        }
        Ok(NamedMap(map))
    }
}

impl<T: Serialize> Serialize for NamedMap<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_suggest_the_accepted_spelling() {
        assert_eq!(suggest_unit("sec"), Some("s"));
        assert_eq!(suggest_unit("MS"), Some("ms"));
        assert_eq!(suggest_unit("hours"), Some("h"));
        assert_eq!(suggest_unit("parsec"), None);
    }

    #[test]
    fn names_that_would_break_stream_keys_or_paths_are_refused() {
        assert!(check_name("api").is_ok());
        assert!(check_name("api-v2_blue").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a/b").unwrap_err().contains("random-stream keys"));
        assert!(check_name("a.b").unwrap_err().contains("field paths"));
        assert!(check_name(" api").is_err());
        assert!(check_name("a\u{0}b").is_err());
    }

    #[test]
    fn lognormal_by_mu_and_sigma_shifts_mu_into_nanoseconds() {
        let ms = UnitSpec::try_from("ms".to_string()).unwrap();
        let d = lognormal(&None, &None, Some(1.5), Some(0.5), &Some(ms)).unwrap();
        let Dist::LogNormal { mu, sigma } = d else { panic!("{d:?}") };
        assert!((mu - (1.5 + 1e6f64.ln())).abs() < 1e-12);
        assert_eq!(sigma, 0.5);
    }
}
