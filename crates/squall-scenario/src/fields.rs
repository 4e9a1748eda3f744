//! The documentation of every field, in one table used by [`reference`], [`explain`] and
//! [`suggest_fields`]. A test walks a fully populated scenario and checks that the table
//! and the schema name the same fields.
//!
//! Paths: `*` stands for any name (`services.*.replicas`), `[*]` for any list entry, and
//! enum variants are path segments (`clients.*.arrivals.Poisson.rate`). Every distribution
//! field (`work`, `think`, a `Work` step, a cache's `hit_latency`, a mixture's `dist`) has
//! the same shape, documented once under `dist`; every cache (an endpoint's or a call's)
//! likewise under `cache`, and each part of a call policy (a client group's or a dependency's
//! `retry`, `budget`, `breaker`, `throttle`, `hedge`, `fallback`) under its own name.

use crate::error::did_you_mean;

/// One documented field.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldDoc {
    pub path: &'static str,
    pub ty: &'static str,
    /// "required" for a field without a default.
    pub default: &'static str,
    pub doc: &'static str,
}

const fn f(path: &'static str, ty: &'static str, default: &'static str, doc: &'static str) -> FieldDoc {
    FieldDoc { path, ty, default, doc }
}

/// The fields whose keys are names (of entities, callees or variants) or override paths.
#[cfg(test)]
pub(crate) const MAP_FIELDS: &[&str] = &[
    "services",
    "services.*.endpoints",
    "services.*.dependencies",
    "services.*.versions",
    "services.*.versions.*.endpoints",
    "clients",
    "variants",
    "variants.*",
    "explore",
];

/// The fields whose value has a shape documented once, with the path it is documented under.
#[cfg(test)]
pub(crate) const SHAPE_FIELDS: &[(&str, &str)] = &[
    ("services.*.endpoints.*.work", "dist"),
    ("services.*.endpoints.*.steps[*].Work", "dist"),
    ("clients.*.arrivals.Closed.think", "dist"),
    ("dist.Mixture[*].dist", "dist"),
    ("cache.hit_latency", "dist"),
    ("services.*.endpoints.*.cache", "cache"),
    ("services.*.endpoints.*.calls[*].cache", "cache"),
    ("services.*.endpoints.*.steps[*].Call.cache", "cache"),
    ("services.*.endpoints.*.steps[*].Parallel.calls[*].cache", "cache"),
    ("clients.*.retry", "retry"),
    ("clients.*.budget", "budget"),
    ("clients.*.breaker", "breaker"),
    ("clients.*.throttle", "throttle"),
    ("clients.*.hedge", "hedge"),
    ("clients.*.fallback", "fallback"),
    ("services.*.dependencies.*.retry", "retry"),
    ("services.*.dependencies.*.budget", "budget"),
    ("services.*.dependencies.*.breaker", "breaker"),
    ("services.*.dependencies.*.throttle", "throttle"),
    ("services.*.dependencies.*.hedge", "hedge"),
    ("services.*.dependencies.*.fallback", "fallback"),
    ("services.*.versions.*.endpoints.*", "services.*.endpoints.*"),
    ("services.*.lifecycle.startup", "dist"),
    ("services.*.health_check.check", "probe.check"),
    ("services.*.probes.liveness", "probe"),
    ("services.*.probes.readiness", "probe"),
    ("services.*.probes.startup", "probe"),
    ("clients.*.flow[*].delay", "dist"),
];

/// Path segments whose fields are documented under a shared shape: a segment inside one of
/// these restarts the path at the shape (`...feed.work.LogNormal.p99` is `dist.LogNormal.p99`).
const SHAPE_SEGMENTS: &[(&str, &str)] = &[
    ("work", "dist"),
    ("Work", "dist"),
    ("think", "dist"),
    ("dist", "dist"),
    ("hit_latency", "dist"),
    ("cache", "cache"),
    ("retry", "retry"),
    ("budget", "budget"),
    ("breaker", "breaker"),
    ("throttle", "throttle"),
    ("hedge", "hedge"),
    ("fallback", "fallback"),
];

const REQ: &str = "required";

/// `(title, introduction, fields)`.
pub(crate) const SECTIONS: &[(&str, &str, &[FieldDoc])] = &[
    (
        "Scenario",
        "The file holds one `Scenario(...)`. Field order does not matter; unknown fields are errors.",
        &[
            f("name", "string, not empty", REQ, "Name of the scenario, shown in reports."),
            f("description", "string", "`\"\"`", "Free text shown in reports."),
            f("seed", "integer, 0 to 2^64-1", REQ, "Master seed. Every random stream derives from it and a stable name, so the same seed gives the same run. The CLI's `--seed` overrides it."),
            f("duration", "duration, > 0", REQ, "Simulated time to run for. Requests still in flight at the end are reported as such."),
            f("timeseries", "struct", "`(bucket: \"1s\", max_buckets: 3600)`", "Time-series resolution."),
            f("timeseries.bucket", "duration, > 0", "`\"1s\"`", "Width of one time-series bucket. The width used is `max(bucket, ceil(duration / max_buckets))`, rounded up to a whole millisecond, so memory stays bounded however long the run."),
            f("timeseries.max_buckets", "integer, 1 to 10000000", "`3600`", "Most buckets a run keeps; longer runs get wider buckets."),
            f("limits", "struct", "`(max_events: 2000000000, max_in_flight: 1000000)`", "Bounds that stop a runaway run with an explanation instead of exhausting memory or time."),
            f("limits.max_events", "integer, >= 1", "`2000000000`", "Events handled in all before the run stops."),
            f("limits.max_in_flight", "integer, 1 to 4294967295", "`1000000`", "Requests alive at once (waiting, in service, or awaiting a downstream call) before the run stops."),
            f("warmup", "`Fixed(...)`, `Mser5`, or `None`", "`None`", "How reports remove the initial transient before steady-state figures (throughput, goodput, success rate and mean latency of successes per client group and for all, from the first bucket of the steady window on, in the summary and in `compare`). `None`: the whole run counts and no steady-state section is written. `Mser5`: MSER-5 (White 1997; Franklin and White): the all-clients goodput per bucket in batches of 5 buckets, truncated where the marginal standard error `sum_{i>d} (x_i - mean_d)^2 / (n-d)^2` is smallest, over `d` in the first half of the batches. The run itself is the same either way."),
            f("warmup.Fixed", "duration", "", "A fixed transient: `Fixed(\"30s\")`. The steady window starts with the first bucket that starts at or after it."),
        ],
    ),
    (
        "Services",
        "`services` maps names to services. File order gives the service ids; names must be unique, non-empty, and contain no `/` or `.`.",
        &[
            f("services", "map of name to service, at least one", REQ, "The services of the system."),
            f("services.*.replicas", "integer, 1 to 100000", "`1`", "Instances of the service at the start of the run."),
            f("services.*.workers", "integer, 1 to 1000000", "`1`", "Requests one instance serves at once."),
            f("services.*.queue", "struct", "`(capacity: 1000, shared: false, discipline: Fifo, codel: None, drop_abandoned: false)`", "Where requests wait when every worker is busy."),
            f("services.*.queue.capacity", "integer, 0 to 4294967295", "`1000`", "Requests that may wait at once, per instance (or for the whole service if `shared`). 0 means no waiting: a request that finds no idle worker is refused (`QueueFull`)."),
            f("services.*.queue.shared", "bool", "`false`", "One queue for the whole service, served by every instance's workers (the M/M/c model of Erlang C), instead of one queue per instance behind the balancer."),
            f("services.*.queue.discipline", "one of `Fifo`, `Lifo`, `AdaptiveLifo`", "`Fifo`", "Which waiting request a free worker takes: the oldest; the newest; or the oldest until CoDel's detector says the queue is standing, then the newest (Facebook's adaptive LIFO, with `codel`'s settings, or 5 ms and 100 ms if `codel` is `None`)."),
            f("services.*.queue.codel", "struct, or `None`", "`None`", "Facebook's CoDel variant (folly `Codel`): once the shortest wait seen over an `interval` exceeds `target`, requests that waited longer than twice `target` are dropped as they leave the queue, answered `Shed`. `codel: ()` takes the defaults."),
            f("services.*.queue.codel.target", "duration, > 0", "`\"5ms\"`", "Acceptable standing queue delay (folly's `codel_target_delay`)."),
            f("services.*.queue.codel.interval", "duration, > 0", "`\"100ms\"`", "Window over which the shortest wait is compared with `target` (folly's `codel_interval`)."),
            f("services.*.queue.drop_abandoned", "bool", "`false`", "Drop a waiting request whose caller has already given up, instead of serving it (a deadline-aware server). Its caller was already answered, so nothing more is sent."),
            f("services.*.balancer", "one of `RoundRobin`, `Random`, `LeastOutstanding`, `PowerOfTwoChoices`, `RingHash`, `Maglev`", "`RoundRobin`", "How callers pick an instance among the endpoints: each in turn; uniformly at random; the one with the fewest requests assigned; the less loaded of two picked at random; or by consistent hashing of the request's session key (Envoy's ring hash or Maglev over xxHash): the steps of a client's flow share a key, and calls inherit their caller's, so a user's requests stick to one instance while it stays in the endpoints (sticky sessions)."),
            f("services.*.outlier_detection", "struct, or `None`", "`None`", "Envoy passive outlier detection by the service's balancer (one view shared by its callers): every answer an instance gives counts for it (`ServerError` as a 5xx; `ConnectionReset`, `NoEndpoint`, `Timeout`, `Shed` and `QueueFull` as gateway failures; other answers as successes), and ejected instances are skipped. `outlier_detection: ()` takes Envoy's defaults. Not applied to a shared queue."),
            f("services.*.outlier_detection.consecutive_5xx", "integer", "`5`", "5xx answers in a row that eject an instance; 0 turns this detector off."),
            f("services.*.outlier_detection.enforcing_consecutive_5xx", "percent, 0 to 100", "`100`", "Chance that a detection by consecutive 5xx ejects."),
            f("services.*.outlier_detection.consecutive_gateway_failure", "integer", "`5`", "Gateway failures (502, 503, 504 and local failures) in a row that detect an instance; 0 turns this detector off."),
            f("services.*.outlier_detection.enforcing_consecutive_gateway_failure", "percent, 0 to 100", "`0`", "Chance that a detection by consecutive gateway failures ejects (0: detect only, as Envoy's default)."),
            f("services.*.outlier_detection.interval", "duration, > 0", "`\"10s\"`", "Time between sweeps, which un-eject, and run the success-rate and failure-percentage detectors."),
            f("services.*.outlier_detection.base_ejection_time", "duration, > 0", "`\"30s\"`", "An ejection lasts this long times the number of times the instance has been ejected (decaying while it is not)."),
            f("services.*.outlier_detection.max_ejection_time", "duration, > 0", "`\"300s\"`", "Cap on an ejection's length."),
            f("services.*.outlier_detection.max_ejection_percent", "percent, 0 to 100", "`10`", "Most of the endpoints ejected at once: a detection is ejected only if 100 x (ejected + 1) <= this x endpoints."),
            f("services.*.outlier_detection.always_eject_one_host", "bool", "`false`", "Eject a detected instance when none is ejected, whatever `max_ejection_percent` says."),
            f("services.*.outlier_detection.success_rate_minimum_hosts", "integer", "`5`", "Instances with enough requests needed before the success-rate detector runs."),
            f("services.*.outlier_detection.success_rate_request_volume", "integer", "`100`", "Requests an instance needs in an interval to count for the success-rate detector."),
            f("services.*.outlier_detection.success_rate_stdev_factor", "integer, thousandths", "`1900`", "An instance is an outlier if its success rate is below mean - factor/1000 x stdev."),
            f("services.*.outlier_detection.enforcing_success_rate", "percent, 0 to 100", "`100`", "Chance that a success-rate detection ejects."),
            f("services.*.outlier_detection.failure_percentage_threshold", "percent, 0 to 100", "`85`", "An instance failing at least this share of its requests in an interval is an outlier."),
            f("services.*.outlier_detection.enforcing_failure_percentage", "percent, 0 to 100", "`0`", "Chance that a failure-percentage detection ejects (0: detect only)."),
            f("services.*.outlier_detection.failure_percentage_minimum_hosts", "integer", "`5`", "Instances with enough requests needed before the failure-percentage detector runs."),
            f("services.*.outlier_detection.failure_percentage_request_volume", "integer", "`50`", "Requests an instance needs in an interval to count for the failure-percentage detector."),
            f("services.*.health_check", "struct, or `None`", "`None`", "Envoy active health checking by the service's balancer: each endpoint is checked every `interval` from when it joins the endpoints, is skipped until its first check passes, then leaves the balancer's choice after `unhealthy_threshold` failures in a row and comes back after `healthy_threshold` successes. Not applied to a shared queue."),
            f("services.*.health_check.check", "`Process`, `Dependency(service: ..., endpoint: ...)` or `QueueBelow(n)`", "`Process`", "What a check depends on, as for probes: the process answers; it answers and a call to a dependency succeeds within `timeout`; or its queue is shorter than `n`."),
            f("services.*.health_check.interval", "duration, > 0", "`\"5s\"`", "`interval` between checks of an endpoint (Envoy requires it; the default is a common choice)."),
            f("services.*.health_check.timeout", "duration, > 0", "`\"1s\"`", "`timeout` of one check; a slower answer is a failure."),
            f("services.*.health_check.unhealthy_threshold", "integer, >= 1", "`3`", "`unhealthy_threshold`: failures in a row that take a healthy endpoint out."),
            f("services.*.health_check.healthy_threshold", "integer, >= 1", "`2`", "`healthy_threshold`: successes in a row that bring an unhealthy endpoint back."),
            f("services.*.healthy_panic_threshold", "percent, 0 to 100", "`50`", "Envoy's panic threshold: when fewer than this share of the endpoints are healthy (not ejected), the balancer ignores health and uses all of them. 0 turns panic mode off."),
            f("services.*.slow_start", "duration > 0, or `None`", "`None`", "Envoy slow start: an instance joining the endpoints gets a weight that ramps from 10 % to full over this window (aggression 1.0). For `RoundRobin`, `Random` and `LeastOutstanding`; picks during a ramp are a weighted draw."),
            f("services.*.max_connections", "integer, 1 to 4294967295, or `None`", "`None`", "Connections the service accepts from all callers' connection pools together (a database's `max_connections`); `None` is unlimited. See `dependencies.*.pool`."),
            f("services.*.honor_deadlines", "bool", "`false`", "Refuse on arrival, and drop when taken from the queue, requests whose propagated deadline (see `dependencies.*.propagate_deadline`) has passed by this instance's clock, answering `DeadlineExceeded`, instead of serving them."),
            f("services.*.clock_skew", "`Offsets([...])`, `Uniform(...)`, or `None`", "`None`", "How far each instance's wall clock is off true time. Only absolute deadlines that cross instances see it (`honor_deadlines` compares a propagated deadline with this clock); timeouts run on local timers and are exact."),
            f("services.*.clock_skew.Offsets", "list of signed durations, at least one", "", "Instance `i` is off by `offsets[i % len]`: `Offsets([\"0s\", \"+1500ms\", \"-200ms\"])`. A signed duration is a duration with an optional sign: `+` (or none) is ahead of true time, `-` behind."),
            f("services.*.clock_skew.Uniform", "struct variant", "", "Each instance is off by an amount drawn uniformly from `[-max, +max]`: `Uniform(max: \"1s\")`."),
            f("services.*.clock_skew.Uniform.max", "duration, > 0", REQ, "Largest offset either way."),
            f("services.*.propagation_delay", "duration", "`\"0s\"`", "Time for a change of an instance's readiness to reach the balancers of its callers (endpoints propagation): a terminating instance keeps receiving requests, and a new one receives none, for this long."),
        ],
    ),
    (
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
            f("services.*.endpoints.*.blocking", "bool", "`true`", "`true`: the endpoint holds its worker while it waits on calls (a thread-per-request server). `false`: an event-loop server, which frees its worker while it waits and needs one again for any work after the calls."),
            f("services.*.endpoints.*.cache", "cache, or `None`", "`None`", "A cache shared by every caller, in front of the endpoint: a hit is answered in `hit_latency` instead of running the steps. See `cache`."),
            f("services.*.endpoints.*.error_rate", "number, 0 to 1", "`0.0`", "Share of the requests that run every step and then fail with `ServerError`: a bug of the version serving them."),
            f("services.*.endpoints.*.flags", "list of names, each once", "`[]`", "Flags a successful answer carries, which a client's `flow` may depend on (`clients.*.flow[*].when`). A scenario may name at most 64 flags in all."),
        ],
    ),
    (
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
    ),
    (
        "Lifecycle and probes",
        "How instances start, warm up, stop and restart, and the probes an orchestrator runs on them, with Kubernetes' semantics and defaults. The three probes share one shape, documented as `probe`.",
        &[
            f("services.*.lifecycle", "struct", "`(startup: Constant(\"0s\"), warmup: \"0s\", warmup_factor: 1.0, pre_stop: \"0s\", grace_period: \"30s\", restart: (...))`", "How the service's instances start, warm up, stop and restart."),
            f("services.*.lifecycle.startup", "distribution", "`Constant(\"0s\")`", "Time from the creation of an instance (or a restart of its process) until the process accepts work. See `dist`."),
            f("services.*.lifecycle.warmup", "duration", "`\"0s\"`", "After the process starts, work is slower for this long: it takes `warmup_factor` times as long at first, falling linearly to normal. Caches local to the instance start empty after every start."),
            f("services.*.lifecycle.warmup_factor", "number, 1 to 1000000", "`1.0`", "Work multiplier at the start of warm-up; 1 is none. Above 1 it needs a `warmup`."),
            f("services.*.lifecycle.pre_stop", "duration", "`\"0s\"`", "The `preStop` hook: after termination begins the process keeps serving, new requests included, for this long before it is told to stop (SIGTERM)."),
            f("services.*.lifecycle.grace_period", "duration", "`\"30s\"`", "`terminationGracePeriodSeconds`: from the start of termination, time allowed for `pre_stop` and the drain of the work in progress; whatever remains then is killed (`ConnectionReset`)."),
            f("services.*.lifecycle.restart", "struct", "`(initial: \"10s\", max: \"300s\", reset_after: \"600s\")`", "kubelet's crash-loop back-off: the delay before the n-th restart in a row is `initial * 2^(n-1)`, at most `max`."),
            f("services.*.lifecycle.restart.initial", "duration, > 0", "`\"10s\"`", "First delay."),
            f("services.*.lifecycle.restart.max", "duration, >= `initial`", "`\"300s\"`", "Largest delay."),
            f("services.*.lifecycle.restart.reset_after", "duration, > 0", "`\"600s\"`", "A process that ran this long without crashing starts over at `initial`."),
            f("services.*.probes", "struct", "`(liveness: None, readiness: None, startup: None)`", "Probes the orchestrator runs on each instance. See `probe`."),
            f("services.*.probes.liveness", "probe, or `None`", "`None`", "Failure restarts the process. Its `success_threshold` must be 1."),
            f("services.*.probes.readiness", "probe, or `None`", "`None`", "Failure takes the instance out of load balancing until it passes again. Without one, an instance is ready as soon as its process accepts work."),
            f("services.*.probes.startup", "probe, or `None`", "`None`", "Holds the other probes back until it passes; failure restarts the process. Its `success_threshold` must be 1."),
            f("probe.check", "`Process`, `Dependency(...)`, or `QueueBelow(...)`", "`Process`", "What an answer depends on. `Process`: the process answers (it is up and not stopped)."),
            f("probe.check.Dependency", "struct variant", "", "The process answers and a call to a dependency's endpoint succeeds within the probe's `timeout`, with no client policy: `Dependency(service: \"cache\", endpoint: \"get\")`."),
            f("probe.check.Dependency.service", "service name", REQ, "Service called."),
            f("probe.check.Dependency.endpoint", "endpoint name", REQ, "Endpoint called, of that service."),
            f("probe.check.QueueBelow", "integer, 1 to 4294967295", "", "The process answers and its queue holds fewer than this many requests: `QueueBelow(100)`."),
            f("probe.initial_delay", "duration", "`\"0s\"`", "`initialDelaySeconds`: probes earlier than this after the process starts are skipped."),
            f("probe.period", "duration, > 0", "`\"10s\"`", "`periodSeconds`: time between probes."),
            f("probe.timeout", "duration, > 0", "`\"1s\"`", "`timeoutSeconds`: a probe that takes longer fails."),
            f("probe.success_threshold", "integer, 1 to 4294967295", "`1`", "`successThreshold`: successes in a row that make the probe pass. Must be 1 for liveness and startup probes, as Kubernetes requires."),
            f("probe.failure_threshold", "integer, 1 to 4294967295", "`3`", "`failureThreshold`: failures in a row that make the probe fail."),
        ],
    ),
    (
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
            f("services.*.dependencies.*.bulkhead.Semaphore.max_concurrent_calls", "integer, 1 to 4294967295", "`25`", "Calls out at once (`maxConcurrentCalls`)."),
            f("services.*.dependencies.*.bulkhead.Semaphore.max_wait_duration", "duration", "`\"0s\"`", "How long a call may wait for a permit (`maxWaitDuration`); 0 fails at once."),
            f("services.*.dependencies.*.bulkhead.ThreadPool", "struct variant", "", "A thread pool with Java `ThreadPoolExecutor` rules (Resilience4j `ThreadPoolBulkhead`): below the core size a call gets a new thread; otherwise it waits in the queue; when the queue is full the pool grows up to the maximum; past that the call fails."),
            f("services.*.dependencies.*.bulkhead.ThreadPool.max_thread_pool_size", "integer, 1 to 4294967295", REQ, "Threads at most (`maxThreadPoolSize`)."),
            f("services.*.dependencies.*.bulkhead.ThreadPool.core_thread_pool_size", "integer, 1 to `max_thread_pool_size`, or `None`", "`None` (`max_thread_pool_size` - 1, at least 1)", "Threads kept even when idle (`coreThreadPoolSize`)."),
            f("services.*.dependencies.*.bulkhead.ThreadPool.queue_capacity", "integer, 0 to 4294967295", "`100`", "Calls that may wait for a thread (`queueCapacity`)."),
            f("services.*.dependencies.*.bulkhead.ThreadPool.keep_alive_duration", "duration", "`\"20ms\"`", "Idle time after which a thread above the core size ends (`keepAliveDuration`)."),
            f("services.*.dependencies.*.pool", "struct, or `None`", "`None`", "A connection pool: a call holds a connection while it is out. `pool: ()` takes the defaults."),
            f("services.*.dependencies.*.pool.maximum_pool_size", "integer, 1 to 4294967295", "`10`", "Connections at most (`maximumPoolSize`)."),
            f("services.*.dependencies.*.pool.minimum_idle", "integer, 0 to `maximum_pool_size`, or `None`", "`None` (`maximum_pool_size`)", "Connections opened at the start and kept open (`minimumIdle`); HikariCP's default makes a fixed-size pool."),
            f("services.*.dependencies.*.pool.connection_timeout", "duration, > 0", "`\"30s\"`", "How long a call waits for a connection before failing (`connectionTimeout`)."),
        ],
    ),
    (
        "Admission control",
        "Checks a request passes on reaching an instance, before it may wait for a worker, in this order: `rate_limit` (429, `RateLimited`), `concurrency_limit` (503, `Shed`), `shedding` (503, `Shed`). All are off by default.",
        &[
            f("services.*.rate_limit", "`TokenBucket(...)`, `Discrete(...)`, or `None`", "`None`", "Refuses requests above a rate with `RateLimited` (429)."),
            f("services.*.rate_limit.TokenBucket", "struct variant", "", "A token bucket refilled continuously (GCRA): `TokenBucket(rate: 100, burst: 10)`."),
            f("services.*.rate_limit.TokenBucket.rate", "number, > 0 and <= 1e9", REQ, "Tokens added per second: the sustained rate let through."),
            f("services.*.rate_limit.TokenBucket.burst", "integer, 1 to 4294967295", "`1`", "Bucket size: requests that may pass at once after a quiet spell."),
            f("services.*.rate_limit.TokenBucket.per_instance", "bool", "`true`", "One bucket per instance (as Envoy's local rate limit), or one for the whole service."),
            f("services.*.rate_limit.Discrete", "struct variant", "", "Envoy's token bucket, refilled in steps: `Discrete(max_tokens: 100, tokens_per_fill: 10, fill_interval: \"100ms\")`."),
            f("services.*.rate_limit.Discrete.max_tokens", "integer, 1 to 4294967295", REQ, "Bucket size, and its initial fill (`max_tokens`)."),
            f("services.*.rate_limit.Discrete.tokens_per_fill", "integer, 1 to 4294967295", "`1`", "Tokens added per fill (`tokens_per_fill`)."),
            f("services.*.rate_limit.Discrete.fill_interval", "duration, > 0", REQ, "Time between fills (`fill_interval`; Envoy itself requires at least 50 ms)."),
            f("services.*.rate_limit.Discrete.per_instance", "bool", "`true`", "One bucket per instance (as Envoy's local rate limit), or one for the whole service."),
            f("services.*.concurrency_limit", "`Aimd(...)`, `Gradient2(...)`, or `None`", "`None`", "Refuses a request with `Shed` (503) when the instance already holds as many as an adaptive limit allows (Netflix concurrency-limits). `Aimd()` takes the defaults."),
            f("services.*.concurrency_limit.Aimd", "struct variant", "", "Additive increase, multiplicative decrease (`AIMDLimit`): the limit grows by one while it is in use and is multiplied by `backoff_ratio` on a drop or a response slower than `timeout`."),
            f("services.*.concurrency_limit.Aimd.initial_limit", "integer, `min_limit` to `max_limit`", "`20`", "Starting limit."),
            f("services.*.concurrency_limit.Aimd.min_limit", "integer, 1 to `max_limit`", "`20`", "Floor of the limit."),
            f("services.*.concurrency_limit.Aimd.max_limit", "integer, 1 to 4294967295", "`200`", "Ceiling of the limit."),
            f("services.*.concurrency_limit.Aimd.backoff_ratio", "number, >= 0.5 and < 1", "`0.9`", "Factor applied to the limit on a drop."),
            f("services.*.concurrency_limit.Aimd.timeout", "duration, > 0", "`\"5s\"`", "A response slower than this counts as a drop."),
            f("services.*.concurrency_limit.Gradient2", "struct variant", "", "Follows the gradient of long-term to short-term round-trip time (`Gradient2Limit`)."),
            f("services.*.concurrency_limit.Gradient2.initial_limit", "integer, `min_limit` to `max_concurrency`", "`20`", "Starting limit."),
            f("services.*.concurrency_limit.Gradient2.min_limit", "integer, 1 to `max_concurrency`", "`20`", "Floor of the limit."),
            f("services.*.concurrency_limit.Gradient2.max_concurrency", "integer, 1 to 4294967295", "`200`", "Ceiling of the limit."),
            f("services.*.concurrency_limit.Gradient2.smoothing", "number, > 0 and <= 1", "`0.2`", "Weight of a new estimate when the limit is updated."),
            f("services.*.concurrency_limit.Gradient2.queue_size", "integer, 0 to 4294967295", "`4`", "Headroom added to the estimated limit."),
            f("services.*.concurrency_limit.Gradient2.long_window", "integer, 1 to 4294967295", "`600`", "Samples in the long-term round-trip-time average."),
            f("services.*.concurrency_limit.Gradient2.rtt_tolerance", "number, >= 1", "`1.5`", "How far the short-term round-trip time may exceed the long-term one before the limit drops."),
            f("services.*.shedding", "`QueueLength(...)`, `QueueDelay(...)`, or `None`", "`None`", "Refuses requests with `Shed` (503) by queue length or queue delay, least critical first (the SRE book's criticality classes; see `clients.*.criticality`). Give a threshold with `at` (for `Critical` work; `CriticalPlus` is shed at 125 % of it, `SheddablePlus` at 75 %, `Sheddable` at 50 %) or all four with `classes`, not both."),
            f("services.*.shedding.QueueLength", "struct variant", "", "Sheds by the number of requests waiting at the instance (or the service, for a shared queue): `QueueLength(at: 100)`."),
            f("services.*.shedding.QueueLength.at", "integer, 1 to 4294967295, or `None`", "required unless `classes` is given", "Queue length at which `Critical` work is shed."),
            f("services.*.shedding.QueueLength.retry_after", "duration", "`\"1s\"`", "Retry-After sent with the 503."),
            f("services.*.shedding.QueueLength.classes", "struct, or `None`", "`None`", "One threshold per class, in requests; they must not increase from `critical_plus` to `sheddable`."),
            f("services.*.shedding.QueueLength.classes.critical_plus", "integer, 1 to 4294967295", REQ, "Threshold for `CriticalPlus` work."),
            f("services.*.shedding.QueueLength.classes.critical", "integer, 1 to 4294967295", REQ, "Threshold for `Critical` work."),
            f("services.*.shedding.QueueLength.classes.sheddable_plus", "integer, 1 to 4294967295", REQ, "Threshold for `SheddablePlus` work."),
            f("services.*.shedding.QueueLength.classes.sheddable", "integer, 1 to 4294967295", REQ, "Threshold for `Sheddable` work."),
            f("services.*.shedding.QueueDelay", "struct variant", "", "Sheds by how long the oldest waiting request has waited: `QueueDelay(at: \"50ms\")`."),
            f("services.*.shedding.QueueDelay.at", "duration > 0, or `None`", "required unless `classes` is given", "Queue delay at which `Critical` work is shed."),
            f("services.*.shedding.QueueDelay.retry_after", "duration", "`\"1s\"`", "Retry-After sent with the 503."),
            f("services.*.shedding.QueueDelay.classes", "struct, or `None`", "`None`", "One threshold per class, as durations; they must not increase from `critical_plus` to `sheddable`."),
            f("services.*.shedding.QueueDelay.classes.critical_plus", "duration, > 0", REQ, "Threshold for `CriticalPlus` work."),
            f("services.*.shedding.QueueDelay.classes.critical", "duration, > 0", REQ, "Threshold for `Critical` work."),
            f("services.*.shedding.QueueDelay.classes.sheddable_plus", "duration, > 0", REQ, "Threshold for `SheddablePlus` work."),
            f("services.*.shedding.QueueDelay.classes.sheddable", "duration, > 0", REQ, "Threshold for `Sheddable` work."),
        ],
    ),
    (
        "Clients",
        "`clients` maps names to client groups. File order gives the client ids.",
        &[
            f("clients", "map of name to client group, at least one", REQ, "The sources of load."),
            f("clients.*.target", "struct, or `None`", "required unless `flow` is given", "The endpoint the group calls: one request per arrival (or per user's turn). Not allowed with `flow`."),
            f("clients.*.target.service", "service name", REQ, "Service called."),
            f("clients.*.target.endpoint", "endpoint name", REQ, "Endpoint called, of that service."),
            f("clients.*.flow", "list of flow steps, at least one, or `None`", "`None`", "A multi-step user flow instead of a `target`: each arrival (or each user's turn) runs the steps in order, each a request, each after its `delay`. The flow fails when a step fails for good (after the group's policy has retried it) and completes when its last step succeeds or is skipped. Not allowed with `target`."),
            f("clients.*.flow[*].name", "name, unique in the flow", REQ, "Name of the step, used in outputs and in later steps' `when`."),
            f("clients.*.flow[*].target", "struct", REQ, "The endpoint the step calls."),
            f("clients.*.flow[*].target.service", "service name", REQ, "Service called."),
            f("clients.*.flow[*].target.endpoint", "endpoint name", REQ, "Endpoint called, of that service."),
            f("clients.*.flow[*].delay", "distribution", "`Constant(\"0s\")`", "Time between the end of the previous step (or the start of the flow) and this request. See `dist`."),
            f("clients.*.flow[*].when", "`Always`, `Flag(...)`, `NotFlag(...)`, `ServedBy(...)` or `NotServedBy(...)`", "`Always`", "The step runs only if this holds; otherwise it is skipped (and carries no flags)."),
            f("clients.*.flow[*].when.Flag", "struct variant", "", "An earlier step's answer carried a flag: `Flag(step: \"signup\", flag: \"needs_confirmation\")`."),
            f("clients.*.flow[*].when.Flag.step", "step name", REQ, "An earlier step of the flow."),
            f("clients.*.flow[*].when.Flag.flag", "flag name", REQ, "A flag that the earlier step's endpoint sets in some version of its service (see `services.*.endpoints.*.flags`); otherwise the condition could never hold."),
            f("clients.*.flow[*].when.NotFlag", "struct variant", "", "An earlier step's answer did not carry a flag (a skipped step carries none): `NotFlag(step: \"signup\", flag: \"needs_confirmation\")`."),
            f("clients.*.flow[*].when.NotFlag.step", "step name", REQ, "An earlier step of the flow."),
            f("clients.*.flow[*].when.NotFlag.flag", "flag name", REQ, "A flag that the earlier step's endpoint sets in some version of its service; otherwise the condition would always hold."),
            f("clients.*.flow[*].when.ServedBy", "struct variant", "", "An earlier step was answered by a given version of its service: `ServedBy(step: \"signup\", version: \"v2\")`."),
            f("clients.*.flow[*].when.ServedBy.step", "step name", REQ, "An earlier step of the flow."),
            f("clients.*.flow[*].when.ServedBy.version", "version name", REQ, "A version of the service the earlier step calls."),
            f("clients.*.flow[*].when.NotServedBy", "struct variant", "", "An earlier step was not answered by that version (a skipped step, or one no instance answered, was answered by none): `NotServedBy(step: \"signup\", version: \"v2\")`."),
            f("clients.*.flow[*].when.NotServedBy.step", "step name", REQ, "An earlier step of the flow."),
            f("clients.*.flow[*].when.NotServedBy.version", "version name", REQ, "A version of the service the earlier step calls."),
            f("clients.*.arrivals", "one of `Poisson(...)`, `Constant(...)`, `Closed(...)`", REQ, "How requests are generated."),
            f("clients.*.arrivals.Poisson", "struct variant", "", "Open loop, exponential gaps between requests (a non-homogeneous Poisson process when a schedule varies the rate)."),
            f("clients.*.arrivals.Poisson.rate", "number, > 0 and <= 1e9", REQ, "Requests per second at the start of the run."),
            f("clients.*.arrivals.Constant", "struct variant", "", "Open loop, gaps of exactly 1/rate."),
            f("clients.*.arrivals.Constant.rate", "number, > 0 and <= 1e9", REQ, "Requests per second at the start of the run."),
            f("clients.*.arrivals.Closed", "struct variant", "", "Closed loop: each user sends a request, waits for its end, thinks, and sends the next."),
            f("clients.*.arrivals.Closed.users", "integer, 1 to 10000000", REQ, "Number of users."),
            f("clients.*.arrivals.Closed.think", "distribution", REQ, "Think time between a response and the user's next request. See `dist`."),
            f("clients.*.schedule", "list of `Step(...)` or `Ramp(...)`", "`[]`", "Changes to the rate of open-loop arrivals over time, in time order and not overlapping. Not allowed with `Closed`. Times past `duration` are allowed and never reached."),
            f("clients.*.schedule[*].Step", "struct variant", "", "The rate jumps to a new value."),
            f("clients.*.schedule[*].Step.at", "duration", REQ, "When the rate changes."),
            f("clients.*.schedule[*].Step.rate", "number, >= 0", REQ, "Requests per second from then on; 0 pauses arrivals."),
            f("clients.*.schedule[*].Ramp", "struct variant", "", "The rate changes linearly from its current value to a new one."),
            f("clients.*.schedule[*].Ramp.start", "duration", REQ, "When the ramp starts."),
            f("clients.*.schedule[*].Ramp.end", "duration, > start", REQ, "When the ramp reaches `rate`."),
            f("clients.*.schedule[*].Ramp.rate", "number, >= 0", REQ, "Requests per second at the end of the ramp, and from then on."),
            f("clients.*.timeout", "duration > 0, or `None`", "`None`", "Overall deadline of each request, over every attempt and back-off: the client gives up after this long; `None` waits forever."),
            f("clients.*.per_try_timeout", "duration > 0 and < `timeout`, or `None`", "`None`", "Each attempt gives up after this long, so that a retry can follow; the last attempt gets only what is left of `timeout`."),
            f("clients.*.propagate_deadline", "not allowed", "`None`", "Refused: a client group has no caller whose deadline it could pass on. Give it a `timeout`, and `propagate_deadline` to the `dependencies` of the services it calls."),
            f("clients.*.retry", "struct, or `None`", "`None`", "Retries of failed requests. Not with `hedge`. See `retry`."),
            f("clients.*.budget", "`Finagle(...)`, `Envoy(...)`, `MaxRetries(...)`, `GrpcThrottle(...)`, `AwsQuota(...)`, or `None`", "`None`", "What limits the group's retries and hedges, across requests: one budget for the group. Needs `retry` or `hedge`. See `budget`."),
            f("clients.*.breaker", "`Resilience4j(...)`, `Consecutive(...)`, or `None`", "`None`", "A circuit breaker in front of the group's attempts. A group has one breaker, so its `shared` changes nothing. See `breaker`."),
            f("clients.*.throttle", "struct, or `None`", "`None`", "Adaptive throttling of the group's attempts. See `throttle`."),
            f("clients.*.hedge", "struct, or `None`", "`None`", "Parallel attempts (gRPC hedging). Not with `retry`. See `hedge`."),
            f("clients.*.fallback", "`Static`, `Cache(...)`, or `None`", "`None`", "What a failed request falls back to, answered `Degraded` instead of failing. See `fallback`."),
            f("clients.*.criticality", "one of `CriticalPlus`, `Critical`, `SheddablePlus`, `Sheddable`", "`Critical`", "How important the group's requests are; the calls they cause inherit it. Load shedding refuses the least critical first."),
        ],
    ),
    (
        "Faults",
        "`faults` lists faults, each active over a window of time on some instances of one service. Their order names their random streams, so adding a fault at the end changes no other fault's draws.",
        &[
            f("faults", "list of faults", "`[]`", "Faults injected during the run."),
            f("faults[*].name", "string, not empty, or `None`", "`None` (`\"<kind> <service>\"`, as in `\"slow db\"`)", "Label in outputs and plots. Faults must have distinct names."),
            f("faults[*].service", "service name", REQ, "Service affected."),
            f("faults[*].at", "duration", REQ, "When the window opens."),
            f("faults[*].for", "duration, > 0", REQ, "How long the window stays open. It may extend past `duration`."),
            f("faults[*].share", "number, > 0 and <= 1", "`1.0`", "Share of the service's instances affected: the first `ceil(share * replicas)`, at least one."),
            f("faults[*].what", "one of `Slow(...)`, `Down`, `Fail(...)`, `FlushCache`, `Crash`", REQ, "What goes wrong. `Down`: the process is gone; requests it holds fail with `ConnectionReset` when the window opens, and new ones are refused (`NoEndpoint`) until it closes. `Crash`: the process crashes when the window opens (requests it holds fail with `ConnectionReset`), is restarted after the crash-loop back-off (`lifecycle.restart`), and crashes again as soon as it starts while the window is open. `FlushCache`: the caches in front of the service's endpoints are emptied when the window opens and warm up again after it closes (see `cache.warmup`); the service needs an endpoint with a `cache`."),
            f("faults[*].what.Slow", "struct variant", "", "Work started during the window takes `factor` times as long: `Slow(factor: 5.0)`."),
            f("faults[*].what.Slow.factor", "number, 1 to 1000000", REQ, "Work multiplier."),
            f("faults[*].what.Fail", "struct variant", "", "A share of the requests reaching the affected instances fail at once: `Fail(fraction: 0.3, outcome: ServerError)`."),
            f("faults[*].what.Fail.fraction", "number, 0 to 1", REQ, "Probability that a request fails."),
            f("faults[*].what.Fail.outcome", "one of `Degraded`, `Timeout`, `DeadlineExceeded`, `RateLimited`, `Shed`, `QueueFull`, `BulkheadFull`, `CircuitOpen`, `Throttled`, `ServerError`, `Unsupported`, `NoEndpoint`, `ConnectionReset`, `Cancelled`", "`ServerError`", "The outcome a failed request ends with (any outcome but `Ok`)."),
        ],
    ),
    (
        "Deploys",
        "`deploys` lists changes of a service's version, each rolled out over time, in the order declared.\n\n\
         ```ron\n\
         deploys: [\n\
         \x20   (name: \"v2\", service: \"web\", version: \"v2\", at: \"10m\", strategy: Rolling(max_surge: 1, max_unavailable: 0)),\n\
         \x20   (name: \"v3\", service: \"web\", version: \"v3\", after: \"v2\", delay: \"1m\", strategy: Canary(steps: [SetWeight(20), Pause(\"10m\"), SetWeight(100)])),\n\
         ],\n\
         ```",
        &[
            f("deploys", "list of deploys", "`[]`", "Deploys during the run."),
            f("deploys[*].name", "string, not empty", REQ, "Label in outputs and plots, and the name `after` refers to. Deploys must have distinct names."),
            f("deploys[*].service", "service name", REQ, "Service deployed."),
            f("deploys[*].version", "version name", REQ, "Version deployed, one of the service's `versions` (`v1` for a service without them)."),
            f("deploys[*].at", "duration, or `None`", "required unless `after` is given", "When the deploy starts. Not with `after`."),
            f("deploys[*].after", "deploy name, or `None`", "`None`", "Start when this other deploy completes (plus `delay`) instead of at a time; one that never completes (aborted, or still running at the end) never starts this one. No deploy may wait for itself, directly or through others. Not with `at`."),
            f("deploys[*].delay", "duration, or `None`", "`None` (`\"0s\"`)", "With `after`: time between the other deploy's completion and this start."),
            f("deploys[*].strategy", "`Rolling(...)`, `Canary(...)` or `BlueGreen(...)`", "`Rolling()`", "How the deploy replaces instances."),
            f("deploys[*].strategy.Rolling", "struct variant", "", "A Kubernetes Deployment's `RollingUpdate`: `Rolling(max_surge: 1, max_unavailable: 0, min_ready: \"10s\")`."),
            f("deploys[*].strategy.Rolling.max_surge", "integer, or percentage string `\"0%\"` to `\"100%\"`", "`\"25%\"`", "`maxSurge`: instances above `replicas` during the rollout, a percentage rounded up."),
            f("deploys[*].strategy.Rolling.max_unavailable", "integer, or percentage string `\"0%\"` to `\"100%\"`", "`\"25%\"`", "`maxUnavailable`: instances below `replicas` during the rollout, a percentage rounded down. Not 0 when `max_surge` is 0, as Kubernetes requires."),
            f("deploys[*].strategy.Rolling.min_ready", "duration", "`\"0s\"`", "`minReadySeconds`: time a new instance must stay ready before it counts as available."),
            f("deploys[*].strategy.Rolling.progress_deadline", "duration, > 0", "`\"600s\"`", "`progressDeadlineSeconds`: a rollout that makes no progress for this long is reported as stalled (Kubernetes does not roll back by itself)."),
            f("deploys[*].strategy.Canary", "struct variant", "", "An Argo Rollouts canary: `Canary(steps: [SetWeight(20), Pause(\"10m\"), SetWeight(100)], traffic_routing: true, analysis: (...))`."),
            f("deploys[*].strategy.Canary.steps", "list of `SetWeight(...)` or `Pause(...)`", "`[]`", "The steps, in order; after the last one the canary is promoted."),
            f("deploys[*].strategy.Canary.steps[*].SetWeight", "integer, 0 to 100", "", "`setWeight`: percent of the traffic (or of the replicas) on the new version."),
            f("deploys[*].strategy.Canary.steps[*].Pause", "duration, or nothing", "", "`pause`: `Pause(\"10m\")` waits that long; `Pause()` waits until the end of the run."),
            f("deploys[*].strategy.Canary.traffic_routing", "bool", "`false`", "`trafficRouting`: the balancer sends the canary exactly its weight of the requests, instead of the weight following from replica counts."),
            f("deploys[*].strategy.Canary.analysis", "struct, or `None`", "`None`", "Background analysis over the whole canary: every `interval`, a measurement of the answers the canary's instances gave since the last one; when more than `failure_limit` measurements fail, the rollout aborts and goes back to the stable version. It must check `max_error_rate`, `max_p99` or both."),
            f("deploys[*].strategy.Canary.analysis.interval", "duration, > 0", "`\"60s\"`", "Time between measurements (`interval`)."),
            f("deploys[*].strategy.Canary.analysis.failure_limit", "integer, 0 to 4294967295", "`0`", "Failed measurements allowed before the analysis fails (`failureLimit`)."),
            f("deploys[*].strategy.Canary.analysis.max_error_rate", "number 0 to 1, or `None`", "`None`", "Highest share of errors among the answers a measurement may show."),
            f("deploys[*].strategy.Canary.analysis.max_p99", "duration > 0, or `None`", "`None`", "Highest p99 latency of successful answers a measurement may show."),
            f("deploys[*].strategy.Canary.analysis.min_samples", "integer, 1 to 4294967295", "`1`", "Fewest answers a measurement needs; fewer make it inconclusive (counted neither way)."),
            f("deploys[*].strategy.BlueGreen", "struct variant", "", "An Argo Rollouts blue-green: a full set of the new version comes up as a preview that receives no traffic; once it is available, all traffic switches to it; the old version stays up for `scale_down_delay`, and a failed analysis meanwhile switches back: `BlueGreen(scale_down_delay: \"5m\", analysis: (...))`."),
            f("deploys[*].strategy.BlueGreen.auto_promotion", "duration", "`\"0s\"`", "`autoPromotionSeconds`: wait this long after the preview is available before the switch (0: at once)."),
            f("deploys[*].strategy.BlueGreen.scale_down_delay", "duration", "`\"30s\"`", "`scaleDownDelaySeconds`: the old version stays up this long after the switch."),
            f("deploys[*].strategy.BlueGreen.abort_scale_down_delay", "duration", "`\"30s\"`", "`abortScaleDownDelaySeconds`: after an abort, the new version is scaled down this long later."),
            f("deploys[*].strategy.BlueGreen.analysis", "struct, or `None`", "`None`", "Post-promotion analysis of the new version's answers, from the switch until the old version is scaled down; written as the canary's `analysis`, whose fields it shares. A failure switches all traffic back."),
            f("deploys[*].strategy.BlueGreen.analysis.interval", "duration, > 0", "`\"60s\"`", "As in the canary's analysis."),
            f("deploys[*].strategy.BlueGreen.analysis.failure_limit", "integer, 0 to 4294967295", "`0`", "As in the canary's analysis."),
            f("deploys[*].strategy.BlueGreen.analysis.max_error_rate", "number 0 to 1, or `None`", "`None`", "As in the canary's analysis."),
            f("deploys[*].strategy.BlueGreen.analysis.max_p99", "duration > 0, or `None`", "`None`", "As in the canary's analysis."),
            f("deploys[*].strategy.BlueGreen.analysis.min_samples", "integer, 1 to 4294967295", "`1`", "As in the canary's analysis."),
        ],
    ),
    (
        "Invariants (`invariants`)",
        "`invariants` lists what must hold in every run, for `squall check` (which also always checks conservation of requests and that the run reaches its `duration`). Each run gets a verdict per invariant with the value it measured. An invariant that measures nothing (no request ended, no successful request) fails: it was never exercised.\n\n\
         ```ron\n\
         invariants: [\n\
         \x20   SuccessRate(client: \"users\", at_least: 0.99),\n\
         \x20   Latency(client: \"users\", quantile: 0.99, at_most: \"500ms\"),\n\
         \x20   Recovers(to: 0.9, within: \"60s\"),\n\
         \x20   Sometimes(FaultFired(fault: \"db down\")),\n\
         ],\n\
         ```",
        &[
            f("invariants", "list of invariants", "`[]`", "Checked on every run by `squall check`; a `Sometimes(...)` assertion is checked over all the runs instead: it holds if at least one run shows the evidence."),
            f("invariants[*].SuccessRate", "struct variant", "", "Successes (`Ok` and `Degraded`) over ended requests are at least `at_least`, for exactly one of: a client group, an endpoint (the client groups that target it, together), a client group's flows (completed over completed and failed), or a service's calls to a dependency."),
            f("invariants[*].SuccessRate.client", "client group name", "`None`", "The client group."),
            f("invariants[*].SuccessRate.endpoint", "`(service: ..., endpoint: ...)`", "`None`", "The endpoint: every client group that targets it."),
            f("invariants[*].SuccessRate.endpoint.service", "service name", REQ, "Service of the endpoint."),
            f("invariants[*].SuccessRate.endpoint.endpoint", "endpoint name", REQ, "The endpoint."),
            f("invariants[*].SuccessRate.flow", "client group name", "`None`", "The client group whose flows count."),
            f("invariants[*].SuccessRate.caller", "service name", "`None`", "The calling service (with `callee`)."),
            f("invariants[*].SuccessRate.callee", "service name", "`None`", "The called service (with `caller`)."),
            f("invariants[*].SuccessRate.at_least", "number, 0 to 1", REQ, "Lowest acceptable success rate."),
            f("invariants[*].Latency", "struct variant", "", "The `quantile` of the latency of the client group's successful requests is at most `at_most`."),
            f("invariants[*].Latency.client", "client group name", REQ, "The client group."),
            f("invariants[*].Latency.quantile", "number, > 0 and <= 1", "`0.99`", "Which quantile."),
            f("invariants[*].Latency.at_most", "duration, > 0", REQ, "Highest acceptable latency."),
            f("invariants[*].Recovers", "struct variant", "", "The metastability check: after every fault window that ran, goodput (all client groups' successes per second) is back to `to` of its level in the minute before the fault within `within` of the fault's end (and stays there for 5 buckets). Measures the slowest recovery."),
            f("invariants[*].Recovers.to", "number, > 0 and <= 1", "`0.9`", "Share of the pre-fault goodput that counts as recovered."),
            f("invariants[*].Recovers.within", "duration, > 0", REQ, "Longest acceptable time to recover after a fault ends."),
            f("invariants[*].NoFailedFlows", "struct variant", "", "No flow of the client group fails."),
            f("invariants[*].NoFailedFlows.client", "client group name, with a `flow`", REQ, "The client group."),
            f("invariants[*].ErrorBudget", "struct variant", "", "Failures of the client group stay within the error budget of an availability `objective`: at most `(1 - objective)` of ended requests. Measures the share of the budget used (100 % is exhausted)."),
            f("invariants[*].ErrorBudget.client", "client group name", REQ, "The client group."),
            f("invariants[*].ErrorBudget.objective", "number, > 0 and < 1", REQ, "The availability objective, as `0.999`."),
            f("invariants[*].MaxVersions", "struct variant", "", "At most `at_most` versions of the service answer requests within the same time bucket (version skew)."),
            f("invariants[*].MaxVersions.service", "service name", REQ, "The service."),
            f("invariants[*].MaxVersions.at_most", "integer, >= 1", REQ, "Most versions serving at once."),
            f("invariants[*].Sometimes", "one of `FaultFired(...)`, `BreakerOpened(...)`, `Retried(...)`, `RolledBack(...)`, `Refused(...)`", "", "Holds when at least one run of the check shows the evidence, so a check cannot pass by never exercising what it claims to test. Measures how often it showed in each run."),
            f("invariants[*].Sometimes.FaultFired", "struct variant", "", "The fault acted on something: instances hit when it opened (`Slow`, `Down`, `Crash`), caches emptied (`FlushCache`), failures injected (`Fail`). A window that opens after the run's end never fires."),
            f("invariants[*].Sometimes.FaultFired.fault", "fault name", REQ, "The fault, by its `name` (or its default name, as `\"slow db\"`)."),
            f("invariants[*].Sometimes.BreakerOpened", "struct variant", "", "A breaker of the call site opened: a client group (`client`), or a service's calls to a dependency (`caller` and `callee`)."),
            f("invariants[*].Sometimes.BreakerOpened.client", "client group name", "`None`", "The client group."),
            f("invariants[*].Sometimes.BreakerOpened.caller", "service name", "`None`", "The calling service."),
            f("invariants[*].Sometimes.BreakerOpened.callee", "service name", "`None`", "The called service."),
            f("invariants[*].Sometimes.Retried", "struct variant", "", "The call site retried or hedged at least once; named as for `BreakerOpened`."),
            f("invariants[*].Sometimes.Retried.client", "client group name", "`None`", "The client group."),
            f("invariants[*].Sometimes.Retried.caller", "service name", "`None`", "The calling service."),
            f("invariants[*].Sometimes.Retried.callee", "service name", "`None`", "The called service."),
            f("invariants[*].Sometimes.RolledBack", "struct variant", "", "The deploy was aborted and rolled back."),
            f("invariants[*].Sometimes.RolledBack.deploy", "deploy name", REQ, "The deploy."),
            f("invariants[*].Sometimes.Refused", "struct variant", "", "The service refused requests (queue full, rate limited, shed, down)."),
            f("invariants[*].Sometimes.Refused.service", "service name", REQ, "The service."),
        ],
    ),
    (
        "Exploration (`explore`)",
        "`explore` declares the parameters `squall check` varies, each a range over a path written as for `--set`. Every case of a check draws a seed and a value of each parameter; a failure is shrunk toward the first bound of each range, so write the simpler end first (the shorter trigger, the lower load, the fewer replicas).\n\n\
         ```ron\n\
         explore: {\n\
         \x20   \"faults.0.for\": (\"5s\", \"60s\"),\n\
         \x20   \"clients.users.arrivals.rate\": (200.0, 600.0),\n\
         \x20   \"services.api.replicas\": (2, 10),\n\
         },\n\
         ```",
        &[
            f("explore", "map of override path to `(from, to)`, at most 32", "`{}`", "Integers range over every whole number between the bounds; decimals (either bound written with a point) over a grid of a thousandth of the range; durations in steps of the largest unit dividing both bounds (`\"5s\"` to `\"60s\"` in seconds, `\"500ms\"` to `\"2s\"` in milliseconds). The scenario must build at both bounds. Values are applied as `--set` overrides, so the one-line reproduction of a failure is exact."),
        ],
    ),
    (
        "Variants",
        "`variants` names sets of overrides: variations of the scenario to run and compare with the scenario as written, which is called `baseline`.\n\n\
         ```ron\n\
         variants: {\n\
         \x20   \"small-bulkhead\": { \"services.api.dependencies.db.bulkhead\": \"Semaphore(max_concurrent_calls: 10)\" },\n\
         \x20   \"more-replicas\": { \"services.api.replicas\": \"8\", \"services.db.replicas\": \"4\" },\n\
         },\n\
         ```",
        &[
            f("variants", "map of name to (map of override path to value), at most 1000 variants", "`{}`", "Each variant applies its overrides, in order, to the file; then the command line's `--set` overrides apply, and win. Paths and values are written as for `--set`, each value as a string. Names must be unique and not empty, contain no `/`, and not be `baseline`. A variant may not change `seed`, `duration` or `timeseries`, so its runs compare with the baseline's. A dependency policy may be added by its path (`services.api.dependencies.db.timeout`); anything else must already exist. Every variant is built whenever the file is loaded, so a broken one is an error even when it is not run."),
        ],
    ),
    (
        "Retries (`retry`)",
        "Fields of type retry (a client group's or a dependency's `retry`) take `(max_attempts: 3, backoff: Constant(delay: \"500ms\"), retry_on: [Timeout, ServerError, Shed, QueueFull, ConnectionReset], honor_retry_after: true)`; `retry: ()` takes these defaults: Resilience4j's attempts and wait, and retries of timeouts, 5xx, 503-style refusals and connection resets (never of 4xx-like refusals). Each retry must also pass the `budget`, if there is one, and the overall `timeout` spans every attempt and back-off.",
        &[
            f("retry.max_attempts", "integer, 1 to 100", "`3`", "Attempts at most, the first included (Resilience4j's and gRPC's `maxAttempts`; gRPC itself caps it at 5)."),
            f("retry.backoff", "`Immediate`, `Constant(...)`, `Exponential(...)`, `Grpc(...)`, or `Envoy(...)`", "`Constant(delay: \"500ms\")`", "The wait before each retry. `Immediate` retries at once (the naive client)."),
            f("retry.backoff.Constant", "struct variant", "", "The same wait every time (Resilience4j's `waitDuration`): `Constant(delay: \"500ms\")`."),
            f("retry.backoff.Constant.delay", "duration", "`\"500ms\"`", "The wait."),
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
            f("retry.backoff.Envoy.base_interval", "duration, > 0", "`\"25ms\"`", "`retry_back_off.base_interval`."),
            f("retry.backoff.Envoy.max_interval", "duration >= `base_interval`, or `None`", "`None` (10 * `base_interval`)", "`retry_back_off.max_interval`."),
            f("retry.retry_on", "list of outcomes, each once, at least one", "`[Timeout, ServerError, Shed, QueueFull, ConnectionReset]`", "Outcomes of an attempt that are retried; any other ends the call. Any failure may be listed; `Ok` and `Degraded` are answers and `Cancelled` ends only the caller's own abandoned attempts, so they may not."),
            f("retry.honor_retry_after", "bool", "`true`", "When a refusal carries a Retry-After (as `shedding`'s 503s do), wait exactly that long instead of the back-off, and start the back-off over (gRPC's pushback)."),
        ],
    ),
    (
        "Retry budgets (`budget`)",
        "Fields of type budget (a client group's or a dependency's `budget`) limit retries, and hedges after the first attempt, across calls: a retry the budget refuses is not sent, and the call ends with the failure it had. A budget needs a `retry` or a `hedge` beside it.",
        &[
            f("budget.Finagle", "struct variant", "", "Finagle's `RetryBudget` (also Linkerd's): within any `ttl`, retries are at most `min_retries_per_sec * ttl + percent_can_retry * requests`. `Finagle()` takes Finagle's defaults."),
            f("budget.Finagle.ttl", "duration, 1s to 60s", "`\"10s\"`", "Window over which requests and retries count (`ttl`)."),
            f("budget.Finagle.min_retries_per_sec", "integer, 0 to 4294967295", "`10`", "Retries always allowed per second (`minRetriesPerSec`)."),
            f("budget.Finagle.percent_can_retry", "number, 0 to 1000", "`0.2`", "Retries allowed per request (`percentCanRetry`). With this and `min_retries_per_sec` both 0, nothing is retried."),
            f("budget.Envoy", "struct variant", "", "Envoy's `retry_budget`: retries in flight at most `max(budget_percent / 100 * requests in flight, min_retry_concurrency)`."),
            f("budget.Envoy.budget_percent", "number, 0 to 100", "`20.0`", "`budget_percent`."),
            f("budget.Envoy.min_retry_concurrency", "integer, 0 to 4294967295", "`3`", "`min_retry_concurrency`."),
            f("budget.MaxRetries", "struct variant", "", "Envoy's `max_retries` circuit-breaker threshold: retries in flight at most `max_retries`. With Envoy's default of 3, most retries are refused in a broad outage."),
            f("budget.MaxRetries.max_retries", "integer, 0 to 4294967295", "`3`", "`max_retries`."),
            f("budget.GrpcThrottle", "struct variant", "", "gRPC's `retryThrottling`: a bucket of `max_tokens` tokens, full at the start; a retried failure takes one, a success gives back `token_ratio`, and a retry (or hedge) goes only while more than half the tokens remain. As in gRPC's service config, both fields are required: `GrpcThrottle(max_tokens: 10, token_ratio: 0.1)`."),
            f("budget.GrpcThrottle.max_tokens", "integer, 1 to 1000", REQ, "`maxTokens`."),
            f("budget.GrpcThrottle.token_ratio", "number, > 0", REQ, "`tokenRatio`; gRPC keeps three decimals."),
            f("budget.AwsQuota", "struct variant", "", "The AWS SDKs' standard-mode retry quota: each retry costs `retry_cost` (`timeout_retry_cost` after a timeout) from a capacity of `initial_capacity`; a success gives back what its call took, or `no_retry_increment` if it needed no retry. `AwsQuota()` takes the SDKs' values."),
            f("budget.AwsQuota.initial_capacity", "integer, 1 to 4294967295", "`500`", "`INITIAL_CAPACITY`, also the most the quota holds."),
            f("budget.AwsQuota.retry_cost", "integer, 0 to 4294967295", "`5`", "`RETRY_COST`."),
            f("budget.AwsQuota.timeout_retry_cost", "integer, 0 to 4294967295", "`10`", "`TIMEOUT_RETRY_COST`, for a retry after a timeout."),
            f("budget.AwsQuota.no_retry_increment", "integer, 0 to 4294967295", "`1`", "`NO_RETRY_INCREMENT`: given back by a success that needed no retry."),
        ],
    ),
    (
        "Circuit breakers (`breaker`)",
        "Fields of type breaker (a client group's or a dependency's `breaker`) put a circuit breaker in front of the attempts: while it is open, attempts fail at once with `CircuitOpen`. `Resilience4j()` and `Consecutive()` take their defaults.",
        &[
            f("breaker.Resilience4j", "struct variant", "", "Resilience4j's `CircuitBreaker`: it opens when, over a sliding window holding at least `minimum_number_of_calls` calls, the failure rate or the slow-call rate reaches its threshold; after `wait_duration_in_open_state` it lets `permitted_number_of_calls_in_half_open_state` trial calls through, whose rates decide whether it closes or opens again."),
            f("breaker.Resilience4j.failure_rate_threshold", "number, > 0 and <= 100", "`50.0`", "`failureRateThreshold`, percent."),
            f("breaker.Resilience4j.slow_call_rate_threshold", "number, > 0 and <= 100", "`100.0`", "`slowCallRateThreshold`, percent; at 100 slowness opens the breaker only if every call in the window is slow."),
            f("breaker.Resilience4j.slow_call_duration_threshold", "duration, > 0", "`\"60s\"`", "`slowCallDurationThreshold`: a call that takes longer is slow."),
            f("breaker.Resilience4j.sliding_window_type", "one of `CountBased`, `TimeBased`", "`CountBased`", "`slidingWindowType`: the last `sliding_window_size` calls, or the calls of the last `sliding_window_size` seconds."),
            f("breaker.Resilience4j.sliding_window_size", "integer, 1 to 4294967295", "`100`", "`slidingWindowSize`, in calls or seconds."),
            f("breaker.Resilience4j.minimum_number_of_calls", "integer, 1 to 4294967295", "`100`", "`minimumNumberOfCalls`: calls recorded before the rates count; capped at `sliding_window_size` when count-based, as in Resilience4j."),
            f("breaker.Resilience4j.permitted_number_of_calls_in_half_open_state", "integer, 1 to 4294967295", "`10`", "`permittedNumberOfCallsInHalfOpenState`: trial calls let through when half-open."),
            f("breaker.Resilience4j.wait_duration_in_open_state", "duration, > 0", "`\"60s\"`", "`waitDurationInOpenState`: time open before turning half-open."),
            f("breaker.Resilience4j.automatic_transition_from_open_to_half_open_enabled", "bool", "`false`", "`automaticTransitionFromOpenToHalfOpenEnabled`: turn half-open as soon as the wait ends, rather than at the first call after it."),
            f("breaker.Resilience4j.shared", "bool", "`false`", "One breaker for all instances of the calling service instead of one per instance. A client group has one breaker anyway, so there it changes nothing."),
            f("breaker.Consecutive", "struct variant", "", "Opens after `failure_threshold` failures in a row, stays open for `break_duration`, then lets one trial call through (Polly's consecutive-count `CircuitBreaker`, Hystrix's single-probe half-open)."),
            f("breaker.Consecutive.failure_threshold", "integer, 1 to 4294967295", "`5`", "Failures in a row that open it."),
            f("breaker.Consecutive.break_duration", "duration, > 0", "`\"5s\"`", "Time open before the trial call."),
            f("breaker.Consecutive.shared", "bool", "`false`", "As `Resilience4j.shared`."),
        ],
    ),
    (
        "Throttling, hedging and fallbacks (`throttle`, `hedge`, `fallback`)",
        "Fields of type throttle, hedge and fallback, of a client group or a dependency.\n\n\
         `throttle: (window: \"2m\", k: 2.0)` is the Google SRE book's client-side adaptive throttling: over the last `window` the caller counts the attempts it made (`requests`, including those it refused) and those the callee accepted (`accepts`), and refuses an attempt itself, as `Throttled`, with probability `max(0, (requests - k * accepts) / (requests + 1))`. `throttle: ()` takes these defaults.\n\n\
         `hedge: (max_attempts: 3, hedging_delay: \"10ms\", non_fatal: [ServerError])` is gRPC hedging: the first attempt goes at once and another every `hedging_delay` while none has succeeded, up to `max_attempts`; the first success wins and the others are cancelled. A call hedges or retries, not both.\n\n\
         `fallback` is `Static`, a static answer always available, or `Cache(hit_ratio: 0.9)`, a stale cached answer for a share of the failed calls. A call served by its fallback is answered `Degraded`. On a dependency, `Failover(service: \"provider-b\", endpoint: \"charge\")` instead calls another service when the call fails (or its breaker refuses it), under the caller's policy for that service; its answer is the call's answer (`Ok` when it succeeds), and a failover is not failed over again.",
        &[
            f("throttle.window", "duration, > 0", "`\"2m\"`", "The window over which requests and accepts count."),
            f("throttle.k", "number, > 0", "`2.0`", "`K`: the callee may refuse up to `1 - 1/k` of attempts before the caller starts refusing its own; closer to 1 is more aggressive."),
            f("hedge.max_attempts", "integer, 2 to 5", REQ, "Attempts at most, the first included (`maxAttempts`; gRPC caps it at 5)."),
            f("hedge.hedging_delay", "duration", "`\"0s\"`", "Time between hedges (`hedgingDelay`); 0 sends them all at once."),
            f("hedge.non_fatal", "list of outcomes, each once", "`[]`", "Failures after which the next hedge goes at once (`nonFatalStatusCodes`); any other failure ends the call. As in `retry.retry_on`, `Ok`, `Degraded` and `Cancelled` may not be listed."),
            f("fallback.Cache", "struct variant", "", "A stale cached answer for a share of the failed calls; the others fail as they would have: `Cache(hit_ratio: 0.9)`."),
            f("fallback.Cache.hit_ratio", "number, 0 to 1", REQ, "Share of failed calls the cache covers."),
            f("fallback.Failover", "struct variant", "", "Dependencies only: call another service instead: `Failover(service: \"provider-b\", endpoint: \"charge\")`."),
            f("fallback.Failover.service", "service name", REQ, "The service called instead; it may have its own entry in `dependencies`."),
            f("fallback.Failover.endpoint", "endpoint name", REQ, "Its endpoint."),
        ],
    ),
    (
        "Caches (`cache`)",
        "Fields of type cache (an endpoint's `cache`, a call's `cache`) take `(hit_ratio: 0.9, hit_latency: Constant(\"1ms\"), warmup: \"0s\", cold_start: false)`.",
        &[
            f("cache.hit_ratio", "number, 0 to 1", REQ, "Share of requests answered by the cache once it is warm."),
            f("cache.hit_latency", "distribution", "`Constant(\"1ms\")`", "Time to answer a hit. See `dist`."),
            f("cache.warmup", "duration", "`\"0s\"`", "After a flush (a `FlushCache` fault) or a cold start, the hit ratio grows linearly from 0 to `hit_ratio` over this long."),
            f("cache.cold_start", "bool", "`false`", "The cache starts empty at time zero and warms up over `warmup`, which must then be more than zero."),
        ],
    ),
    (
        "Distributions (`dist`)",
        "Fields of type distribution (`work`, `think`, a `Work` step, a cache's `hit_latency`, and a mixture's `dist`) take one of these. \
         All times are duration strings; samples are whole nanoseconds and never negative.",
        &[
            f("dist.Constant", "duration", "", "Always this value: `Constant(\"5ms\")`."),
            f("dist.Uniform", "struct variant", "", "Uniform between two values: `Uniform(low: \"1ms\", high: \"5ms\")`."),
            f("dist.Uniform.low", "duration", REQ, "Lower bound."),
            f("dist.Uniform.high", "duration, >= low", REQ, "Upper bound."),
            f("dist.Exponential", "struct variant", "", "Exponential: `Exponential(mean: \"5ms\")`."),
            f("dist.Exponential.mean", "duration, > 0", REQ, "Mean."),
            f("dist.Normal", "struct variant", "", "Normal, truncated at zero (negative draws are redrawn): `Normal(mean: \"10ms\", std_dev: \"2ms\")`."),
            f("dist.Normal.mean", "duration, > 0", REQ, "Mean of the untruncated normal."),
            f("dist.Normal.std_dev", "duration", REQ, "Standard deviation of the untruncated normal."),
            f("dist.LogNormal", "struct variant", "", "Log-normal, given either as `LogNormal(median: \"8ms\", p99: \"40ms\")` or as `LogNormal(mu: 1.5, sigma: 0.5, unit: \"ms\")`; exactly one of the two forms."),
            f("dist.LogNormal.median", "duration, > 0", "", "Median (first form, with `p99`)."),
            f("dist.LogNormal.p99", "duration, > median", "", "99th percentile (first form, with `median`)."),
            f("dist.LogNormal.mu", "number", "", "Mean of the natural logarithm of the value measured in `unit` (second form)."),
            f("dist.LogNormal.sigma", "number, >= 0", "", "Standard deviation of that logarithm (second form)."),
            f("dist.LogNormal.unit", "one of `ns`, `us`, `ms`, `s`, `m`, `h`", "", "Unit in which `mu` and `sigma` describe the value (second form)."),
            f("dist.Pareto", "struct variant", "", "Bounded Pareto: `Pareto(scale: \"1ms\", shape: 1.5, max: \"1s\")`."),
            f("dist.Pareto.scale", "duration, > 0", REQ, "Smallest value."),
            f("dist.Pareto.shape", "number, > 0", REQ, "Tail index; smaller means a heavier tail."),
            f("dist.Pareto.max", "duration, > scale", REQ, "Largest value."),
            f("dist.Gamma", "struct variant", "", "Gamma: `Gamma(shape: 2.0, scale: \"5ms\")`, mean `shape * scale`."),
            f("dist.Gamma.shape", "number, > 0", REQ, "Shape k."),
            f("dist.Gamma.scale", "duration, > 0", REQ, "Scale theta."),
            f("dist.Erlang", "struct variant", "", "Erlang, the sum of k exponentials: `Erlang(k: 3, mean: \"6ms\")`."),
            f("dist.Erlang.k", "integer, 1 to 10000", REQ, "Number of exponential phases."),
            f("dist.Erlang.mean", "duration, > 0", REQ, "Mean of the sum."),
            f("dist.Mixture", "list of `(weight, dist)`", "", "Picks a component with probability proportional to its weight, then samples it: `Mixture([(weight: 0.9, dist: Exponential(mean: \"5ms\")), (weight: 0.1, dist: Constant(\"100ms\"))])`. Mixtures nest at most 8 deep."),
            f("dist.Mixture[*].weight", "number, >= 0", REQ, "Relative weight; weights need not sum to 1 but must not all be 0."),
            f("dist.Mixture[*].dist", "distribution", REQ, "The component."),
            f("dist.Empirical", "list of durations, at least one", "", "One of the values, each equally likely: `Empirical([\"1ms\", \"2ms\", \"5ms\"])`."),
            f("dist.Quantiles", "list of `(quantile, duration)`", "", "Piecewise-linear inverse CDF: `Quantiles([(0.0, \"1ms\"), (0.5, \"3ms\"), (1.0, \"50ms\")])`. Quantiles increase from 0 to 1; values do not decrease."),
        ],
    ),
];

/// Every documented field, in reference order.
pub(crate) fn all() -> impl Iterator<Item = &'static FieldDoc> {
    SECTIONS.iter().flat_map(|(_, _, fields)| fields.iter())
}

/// Text before the tables of the reference.
const PREAMBLE: &str = "\
# Scenario file reference

<!-- Generated by `squall_scenario::reference()`; do not edit by hand.
     `UPDATE_GOLDEN=1 cargo test -p squall-scenario` rewrites it. -->

A scenario is a [RON](https://github.com/ron-rs/ron) file. A minimal one:

```ron
Scenario(
    name: \"minimal\",
    seed: 7,
    duration: \"1m\",
    services: {
        \"api\": (workers: 8, endpoints: { \"get\": (work: Exponential(mean: \"5ms\")) }),
    },
    clients: {
        \"users\": (target: (service: \"api\", endpoint: \"get\"), arrivals: Poisson(rate: 1000)),
    },
)
```

**Durations** are strings with a unit: `ns`, `us`, `ms`, `s`, `m` (or `min`), `h`, as in
`\"250us\"`, `\"1.5s\"`, `\"10m\"`. A bare `0` is allowed; any other number needs a unit.

**Optional values** are written bare (`timeout: \"1s\"`) or as `None`.

**Paths** below name fields as `squall explain` and `--set` take them: `*` stands for any
name, `[*]` for any list entry, and enum variants are segments
(`clients.*.arrivals.Poisson.rate`). Overrides use the names and indices themselves:
`--set services.api.replicas=8`, `--set clients.users.arrivals=Poisson(rate: 500)`,
`--set services.api.endpoints.feed.calls.0.timeout=\"50ms\"`. The variant may be left out
when it does not change: `--set clients.users.arrivals.rate=500`. A field that is `None`
is set as a whole (`--set services.api.rate_limit=\"TokenBucket(rate: 100)\"`). The entries
of `variants` use the same paths and values.
";

fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Markdown reference of every field: its type, default and meaning.
pub fn reference() -> String {
    let mut out = String::from(PREAMBLE);
    for (title, intro, fields) in SECTIONS {
        out.push_str(&format!(
            "\n## {title}\n\n{intro}\n\n| Field | Type | Default | Meaning |\n|---|---|---|---|\n"
        ));
        for d in *fields {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                d.path,
                escape_cell(d.ty),
                escape_cell(d.default),
                escape_cell(d.doc)
            ));
        }
    }
    out
}

/// Splits a path into segments, dropping list markers (`calls[0]`, `calls.0`, `calls[*]`
/// all become `calls`) and restarting at `dist` inside a distribution field.
fn normalize(path: &str) -> Vec<String> {
    let mut segs: Vec<String> = Vec::new();
    for raw in path.split('.') {
        let seg = match raw.find('[') {
            Some(i) => &raw[..i],
            None => raw,
        }
        .trim();
        if seg.is_empty() || seg.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        segs.push(seg.to_string());
    }
    // A version's endpoints have the fields of the service's: `services.api.versions.v2.
    // endpoints.get.flags` is `services.api.endpoints.get.flags`.
    if let Some(i) = segs.iter().position(|s| s == "versions") {
        if segs.len() > i + 3 && segs[i + 2] == "endpoints" {
            segs.drain(i..i + 2);
        }
    }
    // Inside a probe, fields are those of `probe`.
    if let Some(i) = segs.iter().position(|s| s == "probes") {
        if segs.len() > i + 2 {
            let mut rebased = vec!["probe".to_string()];
            rebased.extend(segs.drain(i + 2..));
            segs = rebased;
        }
    }
    // Inside a distribution or a cache, fields are those of `dist` or `cache`: restart at the
    // last such segment that has fields after it.
    let inner = segs.len().saturating_sub(1);
    let shape = segs[..inner]
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, s)| SHAPE_SEGMENTS.iter().find(|(seg, _)| seg == s).map(|(_, base)| (i, *base)));
    if let Some((i, base)) = shape {
        let mut rebased = vec![base.to_string()];
        rebased.extend(segs.drain(i + 1..));
        segs = rebased;
    }
    segs
}

/// Whether `query` names `doc`: it matches the end of the doc path, where `*` in the doc
/// path matches any segment.
fn matches(query: &[String], doc: &[String]) -> bool {
    if query.is_empty() || query.len() > doc.len() {
        return false;
    }
    let tail = &doc[doc.len() - query.len()..];
    query.iter().zip(tail).all(|(q, d)| d == "*" || q == d)
}

/// The documented fields that `field` names.
pub(crate) fn lookup(field: &str) -> Vec<&'static FieldDoc> {
    let query = normalize(field);
    let exact: Vec<&FieldDoc> = all().filter(|d| normalize(d.path) == query).collect();
    if !exact.is_empty() {
        return exact;
    }
    all().filter(|d| matches(&query, &normalize(d.path))).collect()
}

/// One field's documentation for `squall explain FIELD`: a full path
/// (`services.*.queue.capacity`, or with real names, `services.api.queue.capacity`) or its
/// end (`queue.capacity`, `capacity`). A name shared by several fields explains them all.
/// `None` if no field matches; [`suggest_fields`] has near misses.
pub fn explain(field: &str) -> Option<String> {
    let found = lookup(field);
    if found.is_empty() {
        return None;
    }
    let parts: Vec<String> = found
        .iter()
        .map(|d| {
            let mut s = format!("{}\n  type:    {}\n", d.path, d.ty);
            if !d.default.is_empty() {
                s.push_str(&format!("  default: {}\n", d.default.trim_matches('`')));
            }
            s.push_str(&format!("  {}\n", d.doc));
            s
        })
        .collect();
    Some(parts.join("\n"))
}

/// Documented field paths close to `field`, best first (at most five).
pub fn suggest_fields(field: &str) -> Vec<String> {
    let query = normalize(field);
    let Some(last) = query.last() else { return Vec::new() };
    let mut scored: Vec<(f64, &'static str)> = Vec::new();
    for d in all() {
        let segs = normalize(d.path);
        let Some(doc_last) = segs.last() else { continue };
        if did_you_mean(last, [doc_last.as_str()]).is_some() {
            let score = strsim::jaro_winkler(&last.to_lowercase(), &doc_last.to_lowercase());
            scored.push((score, d.path));
        }
    }
    // Best score first; the table order breaks ties so the output is stable.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(5).map(|(_, p)| p.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_accepts_full_paths_real_names_and_suffixes() {
        for q in ["services.*.queue.capacity", "services.api.queue.capacity", "queue.capacity", "capacity"] {
            let text = explain(q).unwrap_or_else(|| panic!("{q}"));
            assert!(text.starts_with("services.*.queue.capacity\n"), "{q}: {text}");
            assert!(text.contains("default: 1000"), "{text}");
        }
    }

    #[test]
    fn explain_rebases_paths_inside_distributions() {
        let text = explain("services.api.endpoints.feed.work.LogNormal.p99").unwrap();
        assert!(text.starts_with("dist.LogNormal.p99\n"), "{text}");
        assert!(explain("calls[0].timeout").unwrap().starts_with("services.*.endpoints.*.calls[*].timeout"));
    }

    #[test]
    fn explain_finds_probe_and_version_endpoint_fields_by_shape() {
        let text = explain("services.api.probes.startup.period").unwrap();
        assert!(text.starts_with("probe.period\n"), "{text}");
        let text = explain("services.api.versions.v2.endpoints.get.flags").unwrap();
        assert!(text.starts_with("services.*.endpoints.*.flags\n"), "{text}");
        assert!(explain("services.api.versions").unwrap().starts_with("services.*.versions\n"));
    }

    #[test]
    fn a_shared_field_name_explains_every_field_with_it() {
        let text = explain("rate").unwrap();
        assert_eq!(text.matches("rate\n  type:").count(), 5, "{text}");
    }

    #[test]
    fn unknown_fields_get_suggestions() {
        assert_eq!(explain("replicaz"), None);
        assert_eq!(suggest_fields("replicaz"), vec!["services.*.replicas"]);
        assert_eq!(suggest_fields("services.api.capacty")[0], "services.*.queue.capacity");
        assert!(suggest_fields("zzzzzz").is_empty());
    }

    #[test]
    fn every_documented_path_is_unique() {
        let mut paths: Vec<&str> = all().map(|d| d.path).collect();
        paths.sort_unstable();
        let n = paths.len();
        paths.dedup();
        assert_eq!(paths.len(), n);
    }

    /// A scenario in which every optional struct that has defaults for all its fields is
    /// present, so that an override can reach the fields beneath it.
    const DEFAULTS_BASE: &str = r#"Scenario(
        name: "defaults", seed: 1, duration: "2s",
        timeseries: (), limits: (),
        services: {
            "s": (
                queue: (codel: ()), lifecycle: (restart: ()), outlier_detection: (),
                health_check: (), slow_start: None,
                endpoints: {"e": (work: Constant("1ms"), calls: [(service: "d", endpoint: "q")])},
                dependencies: {"d": (retry: (), propagate_deadline: ())},
            ),
            "d": (endpoints: {"q": (work: Constant("1ms"))}),
        },
        clients: {
            "c": (target: (service: "s", endpoint: "e"), arrivals: Poisson(rate: 10), retry: ()),
            "c2": (
                target: (service: "d", endpoint: "q"), arrivals: Poisson(rate: 10),
                retry: (), budget: Finagle(), breaker: Resilience4j(), throttle: (),
            ),
            "c3": (
                target: (service: "d", endpoint: "q"), arrivals: Poisson(rate: 10),
                retry: (), budget: AwsQuota(), breaker: Consecutive(),
            ),
            "c4": (target: (service: "d", endpoint: "q"), arrivals: Poisson(rate: 10), retry: (), budget: Envoy()),
            "c5": (target: (service: "d", endpoint: "q"), arrivals: Poisson(rate: 10), retry: (), budget: MaxRetries()),
        },
    )"#;

    /// Documented fields that `DEFAULTS_BASE` sets to something other than their default, to
    /// reach the fields beneath them: their own defaults are not checked here.
    const SET_IN_BASE: &[&str] = &[
        "services.*.queue",
        "services.*.queue.codel",
        "services.*.outlier_detection",
        "services.*.health_check",
        "services.*.dependencies",
        "services.*.dependencies.*.propagate_deadline",
        "services.*.dependencies.*.retry",
        "clients.*.retry",
        "clients.*.budget",
        "clients.*.breaker",
        "clients.*.throttle",
    ];

    /// Where a field documented once by its shape is tried: `retry.max_attempts` as
    /// `clients.c.retry.max_attempts`.
    const SHAPE_AT: &[(&str, &[&str])] = &[
        ("retry.", &["clients.c.retry."]),
        (
            "budget.",
            &["clients.c2.budget.", "clients.c3.budget.", "clients.c4.budget.", "clients.c5.budget."],
        ),
        ("breaker.", &["clients.c2.breaker.", "clients.c3.breaker."]),
        ("throttle.", &["clients.c2.throttle."]),
    ];

    /// The documented default of a field, when it is one RON value in backticks.
    fn documented_value(default: &str) -> Option<&str> {
        let v = default.strip_prefix('`')?.strip_suffix('`')?;
        (!v.contains('`')).then_some(v)
    }

    #[test]
    fn documented_defaults_are_the_defaults_the_parser_applies() {
        let base = format!("{:?}", crate::parse(DEFAULTS_BASE, "defaults.ron", &[]).unwrap().config);
        let (mut checked, mut wrong) = (Vec::new(), Vec::new());
        for doc in all() {
            let Some(value) = documented_value(doc.default) else { continue };
            if SET_IN_BASE.contains(&doc.path) {
                continue;
            }
            let mut path =
                doc.path.replace("services.*.endpoints.*.calls[*]", "services.s.endpoints.e.calls.0");
            path = path.replace("services.*.endpoints.*", "services.s.endpoints.e");
            path = path.replace("services.*.dependencies.*", "services.s.dependencies.d");
            path = path.replace("services.*", "services.s").replace("clients.*", "clients.c");
            let mut tries = vec![path.clone()];
            for (shape, places) in SHAPE_AT {
                if let Some(rest) = path.strip_prefix(shape) {
                    tries = places.iter().map(|at| format!("{at}{rest}")).collect();
                }
            }
            // A field beneath an absent optional part, or of another enum variant than the
            // base's, cannot be set on its own: it is not checked here.
            let Some(with) = tries.iter().filter(|p| !p.contains('*')).find_map(|p| {
                let set: crate::Override = format!("{p}={value}").parse().unwrap();
                crate::parse(DEFAULTS_BASE, "defaults.ron", &[set]).ok()
            }) else {
                continue;
            };
            checked.push(doc.path);
            if format!("{:?}", with.config) != base {
                wrong.push(format!("{} documents `{value}`", doc.path));
            }
        }
        assert!(wrong.is_empty(), "documented defaults that are not the parser's:\n{}", wrong.join("\n"));
        // 121 of the 220 single-value defaults are reachable from the base today.
        assert!(
            checked.len() >= 121,
            "only {} documented defaults could be checked: {checked:?}",
            checked.len()
        );
    }
}
