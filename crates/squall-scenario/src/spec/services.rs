//! Services: endpoints and their steps, calls and caches, versions, the queue, the
//! balancer and its view of health (outlier detection, active health checks), clock skew.

use super::*;

use std::collections::BTreeSet;

use indexmap::IndexSet;
use squall_model::{
    AdmissionConfig, BalancerHealth, BalancerKind, CacheConfig, CallConfig, ClockSkew, CodelConfig,
    Discipline, EndpointConfig, EndpointId, HealthCheckConfig, OutlierConfig, QueueConfig, ServiceConfig,
    ServiceId, Step, VersionConfig,
};

use crate::build::{duration_of, id_of, index, path, problem, u32_of, under, Pending};
use crate::error::{unknown_name, unknown_name_in};
use crate::locate::Seg;

/// The reference section "Services".
pub(crate) const SERVICES_DOC: Section = (
    "Services",
    "`services` maps names to services. File order gives the service ids; names must be unique, non-empty, and contain no `/` or `.`.",
    &[
        f("services", "map of name to service, at least one", REQ, "The services of the system."),
        f("services.*.replicas", "integer, 1 to 100000", SERVICE_REPLICAS_DEFAULT, "Instances of the service at the start of the run."),
        f("services.*.workers", "integer, 1 to 1000000", SERVICE_WORKERS_DEFAULT, "Requests one instance serves at once."),
        f("services.*.queue", "struct", "`(capacity: 1000, shared: false, discipline: Fifo, codel: None, drop_abandoned: false)`", "Where requests wait when every worker is busy."),
        f("services.*.queue.capacity", "integer, 0 to 4294967295", QUEUE_CAPACITY_DEFAULT, "Requests that may wait at once, per instance (or for the whole service if `shared`). 0 means no waiting: a request that finds no idle worker is refused (`QueueFull`)."),
        f("services.*.queue.shared", "bool", "`false`", "One queue for the whole service, served by every instance's workers (the M/M/c model of Erlang C), instead of one queue per instance behind the balancer."),
        f("services.*.queue.discipline", "one of `Fifo`, `Lifo`, `AdaptiveLifo`", "`Fifo`", "Which waiting request a free worker takes: the oldest; the newest; or the oldest until CoDel's detector says the queue is standing, then the newest (Facebook's adaptive LIFO, with `codel`'s settings, or 5 ms and 100 ms if `codel` is `None`)."),
        f("services.*.queue.codel", "struct, or `None`", "`None`", "Facebook's CoDel variant (folly `Codel`): once the shortest wait seen over an `interval` exceeds `target`, requests that waited longer than twice `target` are dropped as they leave the queue, answered `Shed`. `codel: ()` takes the defaults."),
        f("services.*.queue.codel.target", "duration, > 0", CODEL_TARGET_DEFAULT, "Acceptable standing queue delay (folly's `codel_target_delay`)."),
        f("services.*.queue.codel.interval", "duration, > `target`", CODEL_INTERVAL_DEFAULT, "Window over which the shortest wait is compared with `target` (folly's `codel_interval`)."),
        f("services.*.queue.drop_abandoned", "bool", "`false`", "Drop a waiting request whose caller has already given up, instead of serving it (a deadline-aware server). Its caller was already answered, so nothing more is sent."),
        f("services.*.balancer", "one of `RoundRobin`, `Random`, `LeastOutstanding`, `PowerOfTwoChoices`, `RingHash`, `Maglev`", "`RoundRobin`", "How callers pick an instance among the endpoints: each in turn; uniformly at random; the one with the fewest requests assigned; the less loaded of two picked at random; or by consistent hashing of the request's session key (Envoy's ring hash or Maglev over xxHash): the steps of a client's flow share a key, and calls inherit their caller's, so a user's requests stick to one instance while it stays in the endpoints (sticky sessions)."),
        f("services.*.outlier_detection", "struct, or `None`", "`None`", "Envoy passive outlier detection by the service's balancer (one view shared by its callers): every answer an instance gives counts for it (`ServerError` as a 5xx; `ConnectionReset`, `NoEndpoint`, `Timeout`, `Shed` and `QueueFull` as gateway failures; other answers as successes), and ejected instances are skipped. `outlier_detection: ()` takes Envoy's defaults. Not applied to a shared queue."),
        f("services.*.outlier_detection.consecutive_5xx", "integer", OUTLIER_CONSECUTIVE_5XX_DEFAULT, "5xx answers in a row that eject an instance; 0 turns this detector off."),
        f("services.*.outlier_detection.enforcing_consecutive_5xx", "percent, 0 to 100", OUTLIER_ENFORCING_CONSECUTIVE_5XX_DEFAULT, "Chance that a detection by consecutive 5xx ejects."),
        f("services.*.outlier_detection.consecutive_gateway_failure", "integer", OUTLIER_CONSECUTIVE_GATEWAY_FAILURE_DEFAULT, "Gateway failures (502, 503, 504 and local failures) in a row that detect an instance; 0 turns this detector off."),
        f("services.*.outlier_detection.enforcing_consecutive_gateway_failure", "percent, 0 to 100", "`0`", "Chance that a detection by consecutive gateway failures ejects (0: detect only, as Envoy's default)."),
        f("services.*.outlier_detection.interval", "duration, > 0", OUTLIER_INTERVAL_DEFAULT, "Time between sweeps, which un-eject, and run the success-rate and failure-percentage detectors."),
        f("services.*.outlier_detection.base_ejection_time", "duration, > 0", BASE_EJECTION_TIME_DEFAULT, "An ejection lasts this long times the number of times the instance has been ejected (decaying while it is not)."),
        f("services.*.outlier_detection.max_ejection_time", "duration, > 0", MAX_EJECTION_TIME_DEFAULT, "Cap on an ejection's length."),
        f("services.*.outlier_detection.max_ejection_percent", "percent, 0 to 100", MAX_EJECTION_PERCENT_DEFAULT, "Most of the endpoints ejected at once: a detection is ejected only if 100 x (ejected + 1) <= this x endpoints."),
        f("services.*.outlier_detection.always_eject_one_host", "bool", "`false`", "Eject a detected instance when none is ejected, whatever `max_ejection_percent` says."),
        f("services.*.outlier_detection.success_rate_minimum_hosts", "integer", OUTLIER_SUCCESS_RATE_MINIMUM_HOSTS_DEFAULT, "Instances with enough requests needed before the success-rate detector runs."),
        f("services.*.outlier_detection.success_rate_request_volume", "integer", OUTLIER_SUCCESS_RATE_REQUEST_VOLUME_DEFAULT, "Requests an instance needs in an interval to count for the success-rate detector."),
        f("services.*.outlier_detection.success_rate_stdev_factor", "integer, thousandths", STDEV_FACTOR_DEFAULT, "An instance is an outlier if its success rate is below mean - factor/1000 x stdev."),
        f("services.*.outlier_detection.enforcing_success_rate", "percent, 0 to 100", OUTLIER_ENFORCING_SUCCESS_RATE_DEFAULT, "Chance that a success-rate detection ejects."),
        f("services.*.outlier_detection.failure_percentage_threshold", "percent, 0 to 100", FAILURE_PERCENTAGE_THRESHOLD_DEFAULT, "An instance failing at least this share of its requests in an interval is an outlier."),
        f("services.*.outlier_detection.enforcing_failure_percentage", "percent, 0 to 100", "`0`", "Chance that a failure-percentage detection ejects (0: detect only)."),
        f("services.*.outlier_detection.failure_percentage_minimum_hosts", "integer", OUTLIER_FAILURE_PERCENTAGE_MINIMUM_HOSTS_DEFAULT, "Instances with enough requests needed before the failure-percentage detector runs."),
        f("services.*.outlier_detection.failure_percentage_request_volume", "integer", FAILURE_PERCENTAGE_REQUEST_VOLUME_DEFAULT, "Requests an instance needs in an interval to count for the failure-percentage detector."),
        f("services.*.health_check", "struct, or `None`", "`None`", "Envoy active health checking by the service's balancer: each endpoint is checked every `interval` from when it joins the endpoints, is skipped until its first check passes, then leaves the balancer's choice after `unhealthy_threshold` failures in a row and comes back after `healthy_threshold` successes. Not applied to a shared queue."),
        f("services.*.health_check.check", "`Process`, `Dependency(service: ..., endpoint: ...)` or `QueueBelow(n)`", "`Process`", "What a check depends on, as for probes: the process answers; it answers and a call to a dependency succeeds within `timeout`; or its queue is shorter than `n`."),
        f("services.*.health_check.interval", "duration, > 0", HEALTH_CHECK_INTERVAL_DEFAULT, "`interval` between checks of an endpoint (Envoy requires it; the default is a common choice)."),
        f("services.*.health_check.timeout", "duration, > 0", HEALTH_CHECK_TIMEOUT_DEFAULT, "`timeout` of one check; a slower answer is a failure."),
        f("services.*.health_check.unhealthy_threshold", "integer, >= 1", HEALTH_CHECK_UNHEALTHY_THRESHOLD_DEFAULT, "`unhealthy_threshold`: failures in a row that take a healthy endpoint out."),
        f("services.*.health_check.healthy_threshold", "integer, >= 1", HEALTH_CHECK_HEALTHY_THRESHOLD_DEFAULT, "`healthy_threshold`: successes in a row that bring an unhealthy endpoint back."),
        f("services.*.healthy_panic_threshold", "percent, 0 to 100", PANIC_THRESHOLD_DEFAULT, "Envoy's panic threshold: when fewer than this share of the endpoints are healthy (not ejected), the balancer ignores health and uses all of them. 0 turns panic mode off."),
        f("services.*.slow_start", "duration > 0, or `None`", "`None`", "Envoy slow start: an instance joining the endpoints gets a weight that ramps from 10 % to full over this window (aggression 1.0). For `RoundRobin`, `Random` and `LeastOutstanding`; picks during a ramp are a weighted draw."),
        f("services.*.max_connections", "integer, 1 to 4294967295, or `None`", "`None`", "Connections the service accepts from all callers' connection pools together (a database's `max_connections`); `None` is unlimited. See `dependencies.*.pool`."),
        f("services.*.honor_deadlines", "bool", "`false`", "Refuse on arrival, and drop when taken from the queue, requests whose propagated deadline (see `dependencies.*.propagate_deadline`) has passed by this instance's clock, answering `DeadlineExceeded`, instead of serving them."),
        f("services.*.clock_skew", "`Offsets([...])`, `Uniform(...)`, or `None`", "`None`", "How far each instance's wall clock is off true time. Only absolute deadlines that cross instances see it (`honor_deadlines` compares a propagated deadline with this clock); timeouts run on local timers and are exact."),
        f("services.*.clock_skew.Offsets", "list of signed durations, at least one", "", "Instance `i` is off by `offsets[i % len]`: `Offsets([\"0s\", \"+1500ms\", \"-200ms\"])`. A signed duration is a duration with an optional sign: `+` (or none) is ahead of true time, `-` behind."),
        f("services.*.clock_skew.Uniform", "struct variant", "", "Each instance is off by an amount drawn uniformly from `[-max, +max]`: `Uniform(max: \"1s\")`."),
        f("services.*.clock_skew.Uniform.max", "duration, > 0", REQ, "Largest offset either way."),
        f("services.*.propagation_delay", "duration", SERVICE_PROPAGATION_DELAY_DEFAULT, "Time for a change of an instance's readiness to reach the balancers of its callers (endpoints propagation): a terminating instance keeps receiving requests, and a new one receives none, for this long."),
    ],
);

/// One service.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Service",
    expecting = "a service, as in (replicas: 2, workers: 8, endpoints: {...})",
    deny_unknown_fields
)]
pub(crate) struct ServiceSpec {
    #[serde(default = "default_service_replicas")]
    pub replicas: Count<1, 100_000>,
    #[serde(default = "default_service_workers")]
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
    #[serde(default = "default_service_propagation_delay")]
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

default_value!(SERVICE_REPLICAS_DEFAULT, fn default_service_replicas() -> Count<1, 100_000> = Count(1));
default_value!(SERVICE_WORKERS_DEFAULT, fn default_service_workers() -> Count<1, 1_000_000> = Count(1));
default_value!(SERVICE_PROPAGATION_DELAY_DEFAULT, fn default_service_propagation_delay() -> Dur = dur "0s");

/// The reference section "Versions".
pub(crate) const VERSIONS_DOC: Section = (
    "Versions",
    "`services.*.versions` maps version names to what each version serves, in order: the first runs at the start, and `deploys` move the service to the others. Without `versions` a service has one version, `v1`, serving `endpoints`. Each version serves the service's `endpoints` with its own `endpoints` added or replacing those of the same name, and without those in `remove`; versions do not build on one another. The ids of the endpoints (what clients and calls name) are the service's `endpoints` in file order, then those that only versions define, in order of first appearance; a request for an endpoint the running version lacks fails with `Unsupported`.\n\n\
     ```ron\n\
     versions: {\n\
     \x20   \"v1\": (),\n\
     \x20   \"v2\": (endpoints: { \"confirm\": (work: Exponential(mean: \"3ms\")) }, remove: [\"legacy\"]),\n\
     },\n\
     ```",
    &[
        f("services.*.versions", "map of name to version, at least one, or `None`", "`None` (one version, `v1`)", "The versions of the service, in order; the first runs at the start."),
        f("services.*.versions.*.endpoints", "map of name to endpoint", "`{}`", "Endpoints this version adds, or serves differently: whole endpoint definitions, with the fields of `services.*.endpoints.*`. Their calls are checked as the service's own (known targets, no cycles, whichever versions run together)."),
        f("services.*.versions.*.remove", "list of endpoint names", "`[]`", "Endpoints of the service's `endpoints` this version does not serve; requests for them fail with `Unsupported`."),
    ],
);

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
    #[serde(default = "default_health_check_interval")]
    pub interval: PosDur,
    #[serde(default = "default_health_check_timeout")]
    pub timeout: PosDur,
    #[serde(default = "default_health_check_unhealthy_threshold")]
    pub unhealthy_threshold: Count<1, U32_MAX>,
    #[serde(default = "default_health_check_healthy_threshold")]
    pub healthy_threshold: Count<1, U32_MAX>,
}

default_value!(HEALTH_CHECK_INTERVAL_DEFAULT, fn default_health_check_interval() -> PosDur = PosDur(dur "5s"));
default_value!(HEALTH_CHECK_TIMEOUT_DEFAULT, fn default_health_check_timeout() -> PosDur = PosDur(dur "1s"));
default_value!(HEALTH_CHECK_UNHEALTHY_THRESHOLD_DEFAULT, fn default_health_check_unhealthy_threshold() -> Count<1, U32_MAX> = Count(3));
default_value!(HEALTH_CHECK_HEALTHY_THRESHOLD_DEFAULT, fn default_health_check_healthy_threshold() -> Count<1, U32_MAX> = Count(2));

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

default_value!(CODEL_TARGET_DEFAULT, fn default_codel_target() -> PosDur = PosDur(dur "5ms"));

default_value!(CODEL_INTERVAL_DEFAULT, fn default_codel_interval() -> PosDur = PosDur(dur "100ms"));

default_value!(QUEUE_CAPACITY_DEFAULT, fn default_capacity() -> Count<0, U32_MAX> = Count(1000));

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

/// The reference section "Endpoints".
pub(crate) const ENDPOINTS_DOC: Section = (
    "Endpoints",
    "`services.*.endpoints` maps names to endpoints. File order gives the endpoint ids. An endpoint is written either in the shorthand `work` then `calls`, or in the general form `steps`; not both. These two are the same endpoint:\n\n\
     ```ron\n\
     \"feed\": (work: Exponential(mean: \"2ms\"), calls: [(service: \"db\", endpoint: \"query\", timeout: \"100ms\")])\n\
     \"feed\": (steps: [Work(Exponential(mean: \"2ms\")), Call(service: \"db\", endpoint: \"query\", timeout: \"100ms\")])\n\
     ```\n\n\
     Calls must not form a cycle (`a.x -> b.y -> a.x`), whichever form they are written in.",
    &[
        f("services.*.endpoints", "map of name to endpoint, at least one", REQ, "The endpoints of the service."),
        f("services.*.endpoints.*.work", "distribution, or `None`", "required unless `steps` is given", "Worker time per request, before the `calls`. Not allowed with `steps`. See `dist`."),
        f("services.*.endpoints.*.calls", "list of calls, or `None`", "`None` (no calls)", "Downstream calls made one after another after `work`, each waited for before the next. Not allowed with `steps`."),
        f("services.*.endpoints.*.calls[*].service", "service name", REQ, "Callee service."),
        f("services.*.endpoints.*.calls[*].endpoint", "endpoint name", REQ, "Callee endpoint, of the callee service."),
        f("services.*.endpoints.*.calls[*].timeout", "duration > 0, or `None`", "`None`", "The caller gives up on the call after this long. `None` takes the `timeout` of the caller's `dependencies` entry for the callee, or waits forever if there is none."),
        f("services.*.endpoints.*.calls[*].cache", "cache, or `None`", "`None`", "A cache local to each caller instance, in front of this call: a hit answers without calling. See `cache`."),
        f("services.*.endpoints.*.steps", "list of `Work(...)`, `Call(...)`, `Parallel(...)`, or `None`", "`None`", "What serving a request does, in order: the general form of `work` and `calls`, and not allowed with them. At least one step."),
        f("services.*.endpoints.*.steps[*].Work", "distribution", "", "Worker time: `Work(Exponential(mean: \"5ms\"))`. See `dist`."),
        f("services.*.endpoints.*.steps[*].Call", "struct variant", "", "One call, waited for before the next step: `Call(service: \"db\", endpoint: \"query\", timeout: \"100ms\")`. The step fails if the call does."),
        f("services.*.endpoints.*.steps[*].Call.service", "service name", REQ, "Callee service."),
        f("services.*.endpoints.*.steps[*].Call.endpoint", "endpoint name", REQ, "Callee endpoint, of the callee service."),
        f("services.*.endpoints.*.steps[*].Call.timeout", "duration > 0, or `None`", "`None`", "As `calls[*].timeout`."),
        f("services.*.endpoints.*.steps[*].Call.cache", "cache, or `None`", "`None`", "As `calls[*].cache`. See `cache`."),
        f("services.*.endpoints.*.steps[*].Parallel", "struct variant", "", "Calls sent at once: `Parallel(calls: [(service: \"a\", endpoint: \"x\"), (service: \"b\", endpoint: \"y\")], need: 1)`. The step succeeds once `need` calls have succeeded and fails as soon as that cannot happen; calls still out then are abandoned (their servers carry on, but nobody waits for them)."),
        f("services.*.endpoints.*.steps[*].Parallel.calls", "list of calls, at least one", REQ, "The calls, written as in `calls`."),
        f("services.*.endpoints.*.steps[*].Parallel.calls[*].service", "service name", REQ, "Callee service."),
        f("services.*.endpoints.*.steps[*].Parallel.calls[*].endpoint", "endpoint name", REQ, "Callee endpoint, of the callee service."),
        f("services.*.endpoints.*.steps[*].Parallel.calls[*].timeout", "duration > 0, or `None`", "`None`", "As `calls[*].timeout`."),
        f("services.*.endpoints.*.steps[*].Parallel.calls[*].cache", "cache, or `None`", "`None`", "As `calls[*].cache`. See `cache`."),
        f("services.*.endpoints.*.steps[*].Parallel.need", "integer, 1 to the number of calls, or `None`", "`None` (all of them)", "Successes the step needs."),
        f("services.*.endpoints.*.blocking", "bool", ENDPOINT_BLOCKING_DEFAULT, "`true`: the endpoint holds its worker while it waits on calls (a thread-per-request server). `false`: an event-loop server, which frees its worker while it waits and needs one again for any work after the calls."),
        f("services.*.endpoints.*.cache", "cache, or `None`", "`None`", "A cache shared by every caller, in front of the endpoint: a hit is answered in `hit_latency` instead of running the steps. See `cache`."),
        f("services.*.endpoints.*.error_rate", "number, 0 to 1", "`0.0`", "Share of the requests that run every step and then fail with `ServerError`: a bug of the version serving them."),
        f("services.*.endpoints.*.flags", "list of names, each once", "`[]`", "Flags a successful answer carries, which a client's `flow` may depend on (`clients.*.flow[*].when`). A scenario may name at most 64 flags in all."),
    ],
);

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
    #[serde(default = "default_endpoint_blocking")]
    pub blocking: bool,
    #[serde(default)]
    pub cache: Option<CacheSpec>,
    #[serde(default)]
    pub error_rate: Fraction,
    #[serde(default)]
    pub flags: FlagList,
}

default_value!(ENDPOINT_BLOCKING_DEFAULT, fn default_endpoint_blocking() -> bool = true);

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

/// The reference section "Caches (`cache`)".
pub(crate) const CACHE_DOC: Section = (
    "Caches (`cache`)",
    "Fields of type cache (an endpoint's `cache`, a call's `cache`) take `(hit_ratio: 0.9, hit_latency: Constant(\"1ms\"), warmup: \"0s\", cold_start: false)`.",
    &[
        f("cache.hit_ratio", "number, 0 to 1", REQ, "Share of requests answered by the cache once it is warm."),
        f("cache.hit_latency", "distribution", "`Constant(\"1ms\")`", "Time to answer a hit. See `dist`."),
        f("cache.warmup", "duration", CACHE_WARMUP_DEFAULT, "After a flush (a `FlushCache` fault) or a cold start, the hit ratio grows linearly from 0 to `hit_ratio` over this long."),
        f("cache.cold_start", "bool", "`false`", "The cache starts empty at time zero and warms up over `warmup`, which must then be more than zero."),
    ],
);

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
    #[serde(default = "default_cache_warmup")]
    pub warmup: Dur,
    #[serde(default)]
    pub cold_start: bool,
}

default_value!(CACHE_WARMUP_DEFAULT, fn default_cache_warmup() -> Dur = dur "0s");

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

default_value!(PANIC_THRESHOLD_DEFAULT, fn fifty() -> Count<0, 100> = Count(50));

/// Envoy passive outlier detection, with the names and defaults of `outlier_detection`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "OutlierDetection",
    expecting = "outlier detection, as in (consecutive_5xx: 5, interval: \"10s\", base_ejection_time: \"30s\")",
    deny_unknown_fields
)]
pub(crate) struct OutlierSpec {
    #[serde(default = "default_outlier_consecutive_5xx")]
    pub consecutive_5xx: Count<0, U32_MAX>,
    #[serde(default = "default_outlier_enforcing_consecutive_5xx")]
    pub enforcing_consecutive_5xx: Count<0, 100>,
    #[serde(default = "default_outlier_consecutive_gateway_failure")]
    pub consecutive_gateway_failure: Count<0, U32_MAX>,
    #[serde(default)]
    pub enforcing_consecutive_gateway_failure: Count<0, 100>,
    #[serde(default = "default_outlier_interval")]
    pub interval: PosDur,
    #[serde(default = "thirty_seconds_pos")]
    pub base_ejection_time: PosDur,
    #[serde(default = "three_hundred_seconds")]
    pub max_ejection_time: PosDur,
    #[serde(default = "ten_percent")]
    pub max_ejection_percent: Count<0, 100>,
    #[serde(default)]
    pub always_eject_one_host: bool,
    #[serde(default = "default_outlier_success_rate_minimum_hosts")]
    pub success_rate_minimum_hosts: Count<0, U32_MAX>,
    #[serde(default = "default_outlier_success_rate_request_volume")]
    pub success_rate_request_volume: Count<0, U32_MAX>,
    #[serde(default = "stdev_factor")]
    pub success_rate_stdev_factor: Count<0, U32_MAX>,
    #[serde(default = "default_outlier_enforcing_success_rate")]
    pub enforcing_success_rate: Count<0, 100>,
    #[serde(default = "eighty_five")]
    pub failure_percentage_threshold: Count<0, 100>,
    #[serde(default)]
    pub enforcing_failure_percentage: Count<0, 100>,
    #[serde(default = "default_outlier_failure_percentage_minimum_hosts")]
    pub failure_percentage_minimum_hosts: Count<0, U32_MAX>,
    #[serde(default = "fifty_any")]
    pub failure_percentage_request_volume: Count<0, U32_MAX>,
}

default_value!(OUTLIER_CONSECUTIVE_5XX_DEFAULT, fn default_outlier_consecutive_5xx() -> Count<0, U32_MAX> = Count(5));
default_value!(OUTLIER_ENFORCING_CONSECUTIVE_5XX_DEFAULT, fn default_outlier_enforcing_consecutive_5xx() -> Count<0, 100> = Count(100));
default_value!(OUTLIER_CONSECUTIVE_GATEWAY_FAILURE_DEFAULT, fn default_outlier_consecutive_gateway_failure() -> Count<0, U32_MAX> = Count(5));
default_value!(OUTLIER_INTERVAL_DEFAULT, fn default_outlier_interval() -> PosDur = PosDur(dur "10s"));
default_value!(OUTLIER_SUCCESS_RATE_MINIMUM_HOSTS_DEFAULT, fn default_outlier_success_rate_minimum_hosts() -> Count<0, U32_MAX> = Count(5));
default_value!(OUTLIER_SUCCESS_RATE_REQUEST_VOLUME_DEFAULT, fn default_outlier_success_rate_request_volume() -> Count<0, U32_MAX> = Count(100));
default_value!(OUTLIER_ENFORCING_SUCCESS_RATE_DEFAULT, fn default_outlier_enforcing_success_rate() -> Count<0, 100> = Count(100));
default_value!(OUTLIER_FAILURE_PERCENTAGE_MINIMUM_HOSTS_DEFAULT, fn default_outlier_failure_percentage_minimum_hosts() -> Count<0, U32_MAX> = Count(5));

default_value!(FAILURE_PERCENTAGE_REQUEST_VOLUME_DEFAULT, fn fifty_any() -> Count<0, U32_MAX> = Count(50));
default_value!(MAX_EJECTION_PERCENT_DEFAULT, fn ten_percent() -> Count<0, 100> = Count(10));
default_value!(FAILURE_PERCENTAGE_THRESHOLD_DEFAULT, fn eighty_five() -> Count<0, 100> = Count(85));
default_value!(STDEV_FACTOR_DEFAULT, fn stdev_factor() -> Count<0, U32_MAX> = Count(1900));
default_value!(BASE_EJECTION_TIME_DEFAULT, fn thirty_seconds_pos() -> PosDur = PosDur(dur "30s"));
default_value!(MAX_EJECTION_TIME_DEFAULT, fn three_hundred_seconds() -> PosDur = PosDur(dur "300s"));

// Building: checks across fields and entities, and the conversion to the model's
// configuration.

pub(crate) fn build_services(
    spec: &ScenarioSpec,
    flags: &[String],
    pending: &mut Vec<Pending>,
) -> Vec<ServiceConfig> {
    if spec.services.0.is_empty() {
        problem(pending, path(&["services"]), "at least one service is needed".to_string());
    }
    let mut services = Vec::with_capacity(spec.services.0.len());
    for (name, s) in &spec.services.0 {
        let at = path(&["services", name]);
        if s.endpoints.0.is_empty() {
            problem(pending, under(&at, &["endpoints"]), "a service needs at least one endpoint".to_string());
        }
        // Every endpoint gets a config, even a broken one, so endpoint ids stay in file order.
        let mut endpoints: Vec<EndpointConfig> = s
            .endpoints
            .0
            .iter()
            .map(|(ep_name, ep)| {
                build_endpoint(spec, &under(&at, &["endpoints", ep_name]), ep_name, ep, flags, pending)
            })
            .collect();
        let versions = build_versions(spec, name, s, &mut endpoints, flags, pending);
        let dependencies = build_dependencies(spec, name, s, pending);
        let admission = AdmissionConfig {
            rate_limit: s.rate_limit.as_ref().map(|r| rate_limit(r, &under(&at, &["rate_limit"]), pending)),
            concurrency_limit: s
                .concurrency_limit
                .as_ref()
                .map(|c| concurrency_limit(c, &under(&at, &["concurrency_limit"]), pending)),
            shedding: s.shedding.as_ref().and_then(|sh| shedding(sh, &under(&at, &["shedding"]), pending)),
        };
        services.push(ServiceConfig {
            name: name.clone(),
            replicas: u32_of(s.replicas.0, "replicas"),
            workers: u32_of(s.workers.0, "workers"),
            queue: queue(&s.queue, &under(&at, &["queue"]), pending),
            balancer: match s.balancer {
                BalancerSpec::RoundRobin => BalancerKind::RoundRobin,
                BalancerSpec::Random => BalancerKind::Random,
                BalancerSpec::LeastOutstanding => BalancerKind::LeastOutstanding,
                BalancerSpec::PowerOfTwoChoices => BalancerKind::PowerOfTwoChoices,
                BalancerSpec::RingHash => BalancerKind::RingHash,
                BalancerSpec::Maglev => BalancerKind::Maglev,
            },
            endpoints,
            dependencies,
            admission,
            max_connections: s.max_connections.map(|n| u32_of(n.0, "max_connections")),
            honor_deadlines: s.honor_deadlines,
            clock_skew: clock_skew(s.clock_skew.as_ref(), &under(&at, &["clock_skew"]), pending),
            versions,
            lifecycle: lifecycle(&s.lifecycle, &under(&at, &["lifecycle"]), pending),
            probes: probes(spec, &s.probes, &under(&at, &["probes"]), pending),
            propagation_delay: duration_of(&s.propagation_delay),
            lb: BalancerHealth {
                outlier_detection: s.outlier_detection.as_ref().map(outlier_detection),
                healthy_panic_threshold: u32_of(s.healthy_panic_threshold.0, "healthy_panic_threshold"),
                slow_start: s.slow_start.as_ref().map(|d| duration_of(&d.0)),
                health_check: s.health_check.as_ref().and_then(|h| {
                    let at = under(&at, &["health_check"]);
                    Some(HealthCheckConfig {
                        check: probe_check(spec, &h.check, &at, pending)?,
                        interval: duration_of(&h.interval.0),
                        timeout: duration_of(&h.timeout.0),
                        unhealthy_threshold: u32_of(h.unhealthy_threshold.0, "unhealthy_threshold"),
                        healthy_threshold: u32_of(h.healthy_threshold.0, "healthy_threshold"),
                    })
                }),
            },
        });
    }
    services
}

pub(crate) fn clock_skew(c: Option<&ClockSkewSpec>, at: &[Seg], pending: &mut Vec<Pending>) -> ClockSkew {
    match c {
        None => ClockSkew::None,
        Some(ClockSkewSpec::Offsets(offsets)) => {
            if offsets.is_empty() {
                problem(
                    pending,
                    under(at, &["Offsets"]),
                    "`Offsets` needs at least one offset: instance i is off by offsets[i % len]".to_string(),
                );
            }
            ClockSkew::Offsets(offsets.iter().map(|o| o.ns).collect())
        }
        Some(ClockSkewSpec::Uniform { max }) => ClockSkew::Uniform { max: duration_of(&max.0) },
    }
}

pub(crate) fn queue(q: &QueueSpec, at: &[Seg], pending: &mut Vec<Pending>) -> QueueConfig {
    if let Some(c) = &q.codel {
        // folly's `Codel::setOptions` rejects an interval not above the target, and so does
        // `squall_policy::Codel`.
        if c.interval.0.ns <= c.target.0.ns {
            problem(
                pending,
                under(at, &["codel", "interval"]),
                format!(
                    "codel.interval (\"{}\") must be longer than codel.target (\"{}\"): CoDel compares \
                     the shortest wait of each interval with the target",
                    c.interval.0.text, c.target.0.text
                ),
            );
        }
    }
    QueueConfig {
        capacity: u32_of(q.capacity.0, "capacity"),
        shared: q.shared,
        discipline: match q.discipline {
            DisciplineSpec::Fifo => Discipline::Fifo,
            DisciplineSpec::Lifo => Discipline::Lifo,
            DisciplineSpec::AdaptiveLifo => Discipline::AdaptiveLifo,
        },
        codel: q
            .codel
            .as_ref()
            .map(|c| CodelConfig { target: duration_of(&c.target.0), interval: duration_of(&c.interval.0) }),
        drop_abandoned: q.drop_abandoned,
    }
}

/// One endpoint, from either form. `at` is `services.NAME.endpoints.NAME`.
pub(crate) fn build_endpoint(
    spec: &ScenarioSpec,
    at: &[Seg],
    name: &str,
    ep: &EndpointSpec,
    flags: &[String],
    pending: &mut Vec<Pending>,
) -> EndpointConfig {
    let mut steps = Vec::new();
    if let Some(given) = &ep.steps {
        let shorthand: Vec<&str> = [("work", ep.work.is_some()), ("calls", ep.calls.is_some())]
            .iter()
            .filter(|f| f.1)
            .map(|f| f.0)
            .collect();
        if !shorthand.is_empty() {
            let mut paths = vec![under(at, &["steps"])];
            paths.extend(shorthand.iter().map(|f| under(at, &[f])));
            pending.push(Pending {
                paths,
                anchor: None,
                message: format!(
                    "`steps` cannot be combined with `{}`: `steps` is the general form of `work` then `calls`, \
                     so write the work as a `Work(...)` step and each call as a `Call(...)` step",
                    shorthand.join("` or `")
                ),
            });
        }
        if given.is_empty() {
            problem(pending, under(at, &["steps"]), "an endpoint needs at least one step".to_string());
        }
        let steps_at = under(at, &["steps"]);
        for (i, step) in given.iter().enumerate() {
            if let Some(s) = build_step(spec, &index(&steps_at, i), step, pending) {
                steps.push(s);
            }
        }
    } else if let Some(work) = &ep.work {
        // The shorthand: the work, then each call on its own, one after another.
        steps.push(Step::Work(work.dist.clone()));
        let calls_at = under(at, &["calls"]);
        for (i, call) in ep.calls.iter().flatten().enumerate() {
            if let Some(c) = build_call(spec, &index(&calls_at, i), call, pending) {
                steps.push(Step::Calls { calls: vec![c], need: 1 });
            }
        }
    } else {
        problem(
            pending,
            at.to_vec(),
            "missing `work`: an endpoint needs `work` (then, optionally, `calls`) or `steps`".to_string(),
        );
    }
    let cache = ep.cache.as_ref().map(|c| cache(c, &under(at, &["cache"]), pending));
    // `collect_flags` holds every flag named, at most 64 of them.
    let bits = ep
        .flags
        .0
        .iter()
        .filter_map(|f| flags.iter().position(|g| g == f))
        .fold(0u64, |bits, i| bits | (1u64 << i));
    EndpointConfig {
        name: name.to_string(),
        steps,
        blocking: ep.blocking,
        cache,
        error_rate: ep.error_rate.0,
        flags: bits,
    }
}

/// One entry of `steps`; `at` is `...steps[i]`. `None` when a call in it did not resolve.
pub(crate) fn build_step(
    spec: &ScenarioSpec,
    at: &[Seg],
    step: &StepSpec,
    pending: &mut Vec<Pending>,
) -> Option<Step> {
    match step {
        StepSpec::Work(d) => Some(Step::Work(d.dist.clone())),
        StepSpec::Call { service, endpoint, timeout, cache } => {
            let call = CallSpec {
                service: service.clone(),
                endpoint: endpoint.clone(),
                timeout: timeout.clone(),
                cache: cache.clone(),
            };
            let c = build_call(spec, &under(at, &["Call"]), &call, pending)?;
            Some(Step::Calls { calls: vec![c], need: 1 })
        }
        StepSpec::Parallel { calls, need } => {
            let at = under(at, &["Parallel"]);
            let n_calls = calls.len();
            if n_calls == 0 {
                problem(
                    pending,
                    under(&at, &["calls"]),
                    "a Parallel step needs at least one call".to_string(),
                );
            }
            let need_n = need.map_or(n_calls as u64, |n| n.0);
            if n_calls > 0 && need_n > n_calls as u64 {
                problem(
                    pending,
                    under(&at, &["need"]),
                    format!(
                        "need ({need_n}) must be from 1 to the number of calls ({n_calls}): the step cannot \
                         succeed with more successes than calls"
                    ),
                );
            }
            let calls_at = under(&at, &["calls"]);
            let built: Vec<CallConfig> = calls
                .iter()
                .enumerate()
                .filter_map(|(i, c)| build_call(spec, &index(&calls_at, i), c, pending))
                .collect();
            // Left out when broken; the problem recorded fails the build.
            (built.len() == n_calls && n_calls > 0 && need_n <= n_calls as u64)
                .then(|| Step::Calls { calls: built, need: u32_of(need_n, "need") })
        }
    }
}

/// A call; `at` is the call's own path (`...calls[i]` or `...steps[i].Call`).
pub(crate) fn build_call(
    spec: &ScenarioSpec,
    at: &[Seg],
    call: &CallSpec,
    pending: &mut Vec<Pending>,
) -> Option<CallConfig> {
    let cache = call.cache.as_ref().map(|c| cache(c, &under(at, &["cache"]), pending));
    let (service, endpoint) = resolve(spec, &call.service, &call.endpoint, at, pending)?;
    Some(CallConfig { service, endpoint, timeout: call.timeout.as_ref().map(|t| duration_of(&t.0)), cache })
}

pub(crate) fn cache(c: &CacheSpec, at: &[Seg], pending: &mut Vec<Pending>) -> CacheConfig {
    if c.cold_start && c.warmup.ns == 0 {
        problem(
            pending,
            under(at, &["cold_start"]),
            format!(
                "cold_start has no effect with a warmup of \"{}\": the cache would be warm at once; give a warmup",
                c.warmup.text
            ),
        );
    }
    CacheConfig {
        hit_ratio: c.hit_ratio.0,
        hit_latency: c.hit_latency.dist.clone(),
        warmup: duration_of(&c.warmup),
        cold_start: c.cold_start,
    }
}

/// The services an endpoint's calls name, as written (resolved or not), so a typo in a
/// call's endpoint does not also make its dependency look unused.
pub(crate) fn called_names(ep: &EndpointSpec) -> Vec<&str> {
    let mut names: Vec<&str> = ep.calls.iter().flatten().map(|c| c.service.as_str()).collect();
    for step in ep.steps.iter().flatten() {
        match step {
            StepSpec::Work(_) => {}
            StepSpec::Call { service, .. } => names.push(service),
            StepSpec::Parallel { calls, .. } => names.extend(calls.iter().map(|c| c.service.as_str())),
        }
    }
    names
}

/// Resolves a `(service, endpoint)` reference made at `at`, or records why it does not.
pub(crate) fn resolve(
    spec: &ScenarioSpec,
    service: &str,
    endpoint: &str,
    at: &[Seg],
    pending: &mut Vec<Pending>,
) -> Option<(ServiceId, EndpointId)> {
    let Some((s_index, _, s)) = spec.services.0.get_full(service) else {
        let names: Vec<&str> = spec.services.0.keys().map(String::as_str).collect();
        pending.push(Pending {
            paths: vec![under(at, &["service"])],
            anchor: Some(service.to_string()),
            message: unknown_name("service", service, &names),
        });
        return None;
    };
    let reg = registry(s);
    let Some(e_index) = reg.get_index_of(endpoint) else {
        let names: Vec<&str> = reg.iter().copied().collect();
        pending.push(Pending {
            paths: vec![under(at, &["endpoint"])],
            anchor: Some(endpoint.to_string()),
            message: unknown_name_in("endpoint", endpoint, &format!(" of service `{service}`"), &names),
        });
        return None;
    };
    Some((ServiceId(id_of(s_index)), EndpointId(id_of(e_index))))
}

/// Finds call cycles with an iterative depth-first search (a recursive one could overflow the
/// stack on a long chain) and reports each cycle once, from the endpoint that comes first in
/// the file.
pub(crate) fn check_cycles(spec: &ScenarioSpec, services: &[ServiceConfig], pending: &mut Vec<Pending>) {
    // Node = (service, endpoint); index nodes densely in file order.
    let mut first_node = Vec::with_capacity(services.len());
    let mut n_nodes = 0usize;
    for s in services {
        first_node.push(n_nodes);
        n_nodes += s.endpoints.len();
    }
    let node_of = |s: ServiceId, e: EndpointId| first_node[s.0 as usize] + e.0 as usize;
    let mut names = Vec::with_capacity(n_nodes);
    let mut edges: Vec<Vec<usize>> = Vec::with_capacity(n_nodes);
    for s in services {
        for (e_index, e) in s.endpoints.iter().enumerate() {
            names.push((s.name.clone(), e.name.clone()));
            // A call any version makes: versions run side by side during a deploy.
            let calls = (0..s.n_versions())
                .filter_map(|v| s.version_endpoint(v, e_index))
                .flat_map(EndpointConfig::calls)
                .map(|c| node_of(c.service, c.endpoint));
            let mut callees: Vec<usize> = Vec::new();
            for c in calls {
                if !callees.contains(&c) {
                    callees.push(c);
                }
            }
            edges.push(callees);
        }
    }
    assert_eq!(names.len(), n_nodes, "every endpoint is a node");

    #[derive(Clone, Copy, PartialEq)]
    enum Color {
        White,
        Grey,
        Black,
    }
    let mut color = vec![Color::White; n_nodes];
    let mut seen_cycles: BTreeSet<Vec<usize>> = BTreeSet::new();
    for root in 0..n_nodes {
        if color[root] != Color::White {
            continue;
        }
        // (node, next edge to follow); the stack is the current call path.
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        color[root] = Color::Grey;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let Some(&callee) = edges[node].get(*next) else {
                color[node] = Color::Black;
                stack.pop();
                continue;
            };
            *next += 1;
            match color[callee] {
                Color::White => {
                    color[callee] = Color::Grey;
                    stack.push((callee, 0));
                }
                Color::Grey => {
                    let start =
                        stack.iter().position(|&(n, _)| n == callee).expect("a grey node is on the stack");
                    let cycle: Vec<usize> = stack[start..].iter().map(|&(n, _)| n).collect();
                    // Rotate so the cycle starts at its first node in file order.
                    let min_at = cycle.iter().enumerate().min_by_key(|&(_, n)| n).map_or(0, |(i, _)| i);
                    let mut canonical = cycle[min_at..].to_vec();
                    canonical.extend_from_slice(&cycle[..min_at]);
                    if seen_cycles.insert(canonical.clone()) {
                        pending.push(cycle_problem(spec, &canonical, &names));
                    }
                }
                Color::Black => {}
            }
        }
    }
}

pub(crate) fn cycle_problem(spec: &ScenarioSpec, cycle: &[usize], names: &[(String, String)]) -> Pending {
    let mut chain: Vec<String> = cycle.iter().map(|&n| format!("{}.{}", names[n].0, names[n].1)).collect();
    chain.push(chain[0].clone());
    let paths = cycle.iter().map(|&n| calls_path(spec, &names[n].0, &names[n].1)).collect();
    Pending { paths, anchor: None, message: format!("call cycle {}", chain.join(" -> ")) }
}

/// The field that holds an endpoint's calls (`steps` in the general form, else `calls`), in
/// the first definition of the endpoint that makes calls: the service's own, or a version's.
pub(crate) fn calls_path(spec: &ScenarioSpec, service: &str, endpoint: &str) -> Vec<Seg> {
    let Some(s) = spec.services.0.get(service) else { return path(&["services", service]) };
    let mut definitions: Vec<(Vec<Seg>, &EndpointSpec)> = Vec::new();
    if let Some(ep) = s.endpoints.0.get(endpoint) {
        definitions.push((path(&["services", service, "endpoints", endpoint]), ep));
    }
    for (v_name, v) in s.versions.iter().flat_map(|vs| vs.0.iter()) {
        if let Some(ep) = v.endpoints.0.get(endpoint) {
            definitions.push((path(&["services", service, "versions", v_name, "endpoints", endpoint]), ep));
        }
    }
    let chosen = definitions.iter().find(|(_, ep)| !called_names(ep).is_empty()).or(definitions.first());
    match chosen {
        Some((at, ep)) => under(at, &[if ep.steps.is_some() { "steps" } else { "calls" }]),
        None => path(&["services", service, "endpoints", endpoint]),
    }
}

/// Most flags a scenario may name: each is a bit of an answer.
pub(crate) const N_FLAGS_MAX: usize = 64;

/// Every flag the endpoints name, in first-appearance order: services in file order, each
/// service's `endpoints`, then its versions' endpoints. Past [`N_FLAGS_MAX`] is an error.
pub(crate) fn collect_flags(spec: &ScenarioSpec, pending: &mut Vec<Pending>) -> Vec<String> {
    let mut flags: Vec<String> = Vec::new();
    let mut reported = false;
    for (s_name, s) in &spec.services.0 {
        let base = s.endpoints.0.iter().map(|(e, ep)| (path(&["services", s_name, "endpoints", e]), ep));
        let versioned = s.versions.iter().flat_map(|vs| vs.0.iter()).flat_map(|(v_name, v)| {
            v.endpoints
                .0
                .iter()
                .map(move |(e, ep)| (path(&["services", s_name, "versions", v_name, "endpoints", e]), ep))
        });
        for (at, ep) in base.chain(versioned) {
            for flag in &ep.flags.0 {
                if flags.contains(flag) {
                    continue;
                }
                if flags.len() == N_FLAGS_MAX {
                    if !reported {
                        pending.push(Pending {
                            paths: vec![under(&at, &["flags"])],
                            anchor: Some(flag.clone()),
                            message: format!(
                                "`{flag}` would be flag number {}: a scenario may name at most {N_FLAGS_MAX} \
                                 flags, each a bit of an answer",
                                N_FLAGS_MAX + 1
                            ),
                        });
                        reported = true;
                    }
                    continue;
                }
                flags.push(flag.clone());
            }
        }
    }
    flags
}

/// The names that give a service's endpoint ids: its `endpoints` in file order, then the
/// endpoints its versions add, in order of first appearance.
pub(crate) fn registry(s: &ServiceSpec) -> IndexSet<&str> {
    let mut reg: IndexSet<&str> = s.endpoints.0.keys().map(String::as_str).collect();
    for v in s.versions.iter().flat_map(|vs| vs.0.values()) {
        reg.extend(v.endpoints.0.keys().map(String::as_str));
    }
    reg
}

/// Every endpoint definition of a service: its own, then its versions'.
pub(crate) fn all_endpoint_specs(s: &ServiceSpec) -> impl Iterator<Item = &EndpointSpec> {
    s.endpoints
        .0
        .values()
        .chain(s.versions.iter().flat_map(|vs| vs.0.values()).flat_map(|v| v.endpoints.0.values()))
}

/// The versions of service `name`, each its service's `endpoints` with its own added or
/// replaced and its removals taken out. Endpoints that only versions define are appended to
/// `endpoints` (the registry), with the definition of the first version that has them.
pub(crate) fn build_versions(
    spec: &ScenarioSpec,
    name: &str,
    s: &ServiceSpec,
    endpoints: &mut Vec<EndpointConfig>,
    flags: &[String],
    pending: &mut Vec<Pending>,
) -> Vec<VersionConfig> {
    let Some(versions) = &s.versions else { return Vec::new() };
    let at = path(&["services", name, "versions"]);
    if versions.0.is_empty() {
        problem(
            pending,
            at.clone(),
            "a service with `versions` needs at least one; leave `versions` out for one version, `v1`, \
             serving `endpoints`"
                .to_string(),
        );
    }
    let reg = registry(s);
    let n_base = endpoints.len();
    let base_names: Vec<&str> = s.endpoints.0.keys().map(String::as_str).collect();
    let mut out = Vec::with_capacity(versions.0.len());
    for (v_name, v) in &versions.0 {
        let v_at = under(&at, &[v_name]);
        let mut eps: Vec<Option<EndpointConfig>> =
            (0..reg.len()).map(|i| endpoints.get(i).filter(|_| i < n_base).cloned()).collect();
        for (ep_name, ep) in &v.endpoints.0 {
            let built =
                build_endpoint(spec, &under(&v_at, &["endpoints", ep_name]), ep_name, ep, flags, pending);
            let i = reg.get_index_of(ep_name.as_str()).expect("the registry holds every version's endpoints");
            eps[i] = Some(built);
        }
        let remove_at = under(&v_at, &["remove"]);
        for (k, removed) in v.remove.iter().enumerate() {
            let r_at = index(&remove_at, k);
            let message = if v.remove[..k].contains(removed) {
                format!("`{removed}` is listed twice")
            } else if v.endpoints.0.contains_key(removed) {
                format!(
                    "`{removed}` is both defined in this version's `endpoints` and removed; keep one or the other"
                )
            } else if let Some(i) = s.endpoints.0.get_index_of(removed) {
                eps[i] = None;
                continue;
            } else {
                let owner = format!(" in the `endpoints` of service `{name}`");
                unknown_name_in("endpoint", removed, &owner, &base_names)
            };
            pending.push(Pending { paths: vec![r_at], anchor: Some(removed.clone()), message });
        }
        out.push(VersionConfig { name: v_name.clone(), endpoints: eps });
    }
    for i in n_base..reg.len() {
        let first = out.iter().find_map(|v| v.endpoints[i].clone());
        endpoints.push(first.expect("an endpoint only versions define is defined by one"));
    }
    out
}

/// Envoy outlier detection, field for field.
pub(crate) fn outlier_detection(o: &OutlierSpec) -> OutlierConfig {
    let n = |c: u64, what| u32_of(c, what);
    OutlierConfig {
        consecutive_5xx: n(o.consecutive_5xx.0, "consecutive_5xx"),
        enforcing_consecutive_5xx: n(o.enforcing_consecutive_5xx.0, "enforcing_consecutive_5xx"),
        consecutive_gateway_failure: n(o.consecutive_gateway_failure.0, "consecutive_gateway_failure"),
        enforcing_consecutive_gateway_failure: n(
            o.enforcing_consecutive_gateway_failure.0,
            "enforcing_consecutive_gateway_failure",
        ),
        interval: duration_of(&o.interval.0),
        base_ejection_time: duration_of(&o.base_ejection_time.0),
        max_ejection_time: duration_of(&o.max_ejection_time.0),
        max_ejection_percent: n(o.max_ejection_percent.0, "max_ejection_percent"),
        always_eject_one_host: o.always_eject_one_host,
        success_rate_minimum_hosts: n(o.success_rate_minimum_hosts.0, "success_rate_minimum_hosts"),
        success_rate_request_volume: n(o.success_rate_request_volume.0, "success_rate_request_volume"),
        success_rate_stdev_factor: n(o.success_rate_stdev_factor.0, "success_rate_stdev_factor"),
        enforcing_success_rate: n(o.enforcing_success_rate.0, "enforcing_success_rate"),
        failure_percentage_threshold: n(o.failure_percentage_threshold.0, "failure_percentage_threshold"),
        enforcing_failure_percentage: n(o.enforcing_failure_percentage.0, "enforcing_failure_percentage"),
        failure_percentage_minimum_hosts: n(
            o.failure_percentage_minimum_hosts.0,
            "failure_percentage_minimum_hosts",
        ),
        failure_percentage_request_volume: n(
            o.failure_percentage_request_volume.0,
            "failure_percentage_request_volume",
        ),
    }
}
