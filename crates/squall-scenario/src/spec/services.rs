//! Services: endpoints and their steps, calls and caches, versions, the queue, the
//! balancer and its view of health (outlier detection, active health checks), clock skew.

use super::*;

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
