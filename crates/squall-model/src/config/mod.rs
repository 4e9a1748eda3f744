//! The description of a world to build: plain data, names already resolved to ids.
//!
//! The scenario layer produces a [`ModelConfig`] from a file; tests and benchmarks can build
//! one directly. Nothing here is deserialized: the file format has its own types.

use squall_kernel::{Dist, SimDuration, SimTime};
pub use squall_policy::{
    AdaptiveThrottleConfig, AimdConfig, Backoff, BreakerConfig, ConsecutiveConfig, Gradient2Config,
    GrpcJitter, Jitter, QueueSize, Resilience4jConfig, RetryBudgetConfig, SlidingWindow,
};

mod fleet;
mod flow;
pub use fleet::*;
pub use flow::*;

/// Index of a service in [`ModelConfig::services`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId(pub u32);

/// Index of an endpoint in its service's [`ServiceConfig::endpoints`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EndpointId(pub u32);

/// Index of a client group in [`ModelConfig::clients`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub u32);

/// Everything needed to build and run a world.
#[derive(Clone, Debug)]
pub struct ModelConfig {
    /// Master seed; every random stream derives from it and a stable name.
    pub seed: u64,
    /// Simulated time to run for. Requests still in flight at the end are reported as such.
    pub duration: SimDuration,
    /// Width of one time-series bucket.
    pub bucket_width: SimDuration,
    /// Bounds that stop a runaway run with an explanation.
    pub limits: Limits,
    /// Services, indexed by [`ServiceId`].
    pub services: Vec<ServiceConfig>,
    /// Client groups, indexed by [`ClientId`].
    pub clients: Vec<ClientConfig>,
    /// Faults, in the order declared (the order names their random streams).
    pub faults: Vec<FaultConfig>,
    /// Deploys, in the order declared.
    pub deploys: Vec<DeployConfig>,
    /// Names of the flags endpoints set on their answers ([`EndpointConfig::flags`] holds
    /// bits of this list; at most 64).
    pub flags: Vec<String>,
    /// How reports find the end of the initial transient; `None`: the whole run counts.
    /// It changes nothing in the run itself, only what [`crate::analysis::steady_state`]
    /// reads as the steady window.
    pub warmup: Option<Warmup>,
}

/// How the warm-up (the initial transient) is removed before steady-state figures.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Warmup {
    /// A fixed transient: the steady window starts at the first bucket that starts at or
    /// after this time.
    Fixed(SimDuration),
    /// MSER-5 (White 1997; Franklin and White): the truncation point that minimises the
    /// marginal standard error of the all-clients goodput series in batches of 5 buckets.
    Mser5,
}

/// Bounds on a run, so a scenario that explodes stops with a reason instead of running out
/// of memory or time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Events handled in all.
    pub max_events: u64,
    /// Requests alive at once (waiting, in service, or awaiting a downstream call).
    pub max_in_flight: u32,
    /// Bytes the model's growable state (request tables, queues, pending events) may hold,
    /// measured every [`MEMORY_CHECK_EVERY`](crate::MEMORY_CHECK_EVERY) events or more.
    pub max_memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_events: 2_000_000_000, max_in_flight: 1_000_000, max_memory_bytes: 4 << 30 }
    }
}

/// One service: identical replicas behind a load balancer.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// Stable name, used in outputs and random stream keys.
    pub name: String,
    /// Instances at the start of the run.
    pub replicas: u32,
    /// Requests one instance serves at once.
    pub workers: u32,
    /// Where requests wait for a worker.
    pub queue: QueueConfig,
    /// How callers pick an instance.
    pub balancer: BalancerKind,
    /// Endpoints, indexed by [`EndpointId`].
    pub endpoints: Vec<EndpointConfig>,
    /// How this service's instances call other services: one entry per dependency that has
    /// a policy; a call to a service not listed goes out with no policy.
    pub dependencies: Vec<DependencyConfig>,
    /// Checks a request passes on reaching an instance, before it may wait for a worker.
    pub admission: AdmissionConfig,
    /// Connections the service accepts from all callers' pools together (a database's
    /// `max_connections`); `None` is unlimited.
    pub max_connections: Option<u32>,
    /// Refuse at admission, and drop at dequeue, requests whose propagated deadline has
    /// passed by this instance's clock (`DeadlineExceeded`), instead of serving them.
    pub honor_deadlines: bool,
    /// How far each instance's wall clock is off true time. Only absolute deadlines crossing
    /// instances see it.
    pub clock_skew: ClockSkew,
    /// Versions of the service; the first runs at the start. Empty means one version, `v1`,
    /// serving [`ServiceConfig::endpoints`]. When given, `endpoints` only names the
    /// endpoints (what an [`EndpointId`] means) and each version says what each one does.
    pub versions: Vec<VersionConfig>,
    /// How instances start, warm up, stop and restart.
    pub lifecycle: Lifecycle,
    /// Probes the orchestrator runs on each instance.
    pub probes: Probes,
    /// Time for a change of an instance's readiness to reach the balancers: a terminating
    /// instance keeps receiving requests, and a new one receives none, for this long.
    pub propagation_delay: SimDuration,
    /// The balancer's own view of its endpoints: passive outlier detection, the panic
    /// threshold and slow start (Envoy).
    pub lb: BalancerHealth,
}

/// Wall-clock offsets of a service's instances.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ClockSkew {
    /// Every clock is exact.
    #[default]
    None,
    /// Instance `i` is off by `offsets[i % len]` nanoseconds (positive: ahead of true time).
    Offsets(Vec<i64>),
    /// Each instance is off by an amount drawn uniformly from `[-max, +max]`.
    Uniform {
        /// Largest offset either way.
        max: SimDuration,
    },
}

impl ServiceConfig {
    /// A service with no dependency policies, no admission control and no connection cap.
    pub fn new(
        name: &str,
        replicas: u32,
        workers: u32,
        queue: QueueConfig,
        balancer: BalancerKind,
        endpoints: Vec<EndpointConfig>,
    ) -> ServiceConfig {
        ServiceConfig {
            name: name.to_string(),
            replicas,
            workers,
            queue,
            balancer,
            endpoints,
            dependencies: Vec::new(),
            admission: AdmissionConfig::default(),
            max_connections: None,
            honor_deadlines: false,
            clock_skew: ClockSkew::None,
            versions: Vec::new(),
            lifecycle: Lifecycle::default(),
            probes: Probes::default(),
            propagation_delay: SimDuration::ZERO,
            lb: BalancerHealth::default(),
        }
    }
}

impl ServiceConfig {
    /// Number of versions (at least one).
    pub fn n_versions(&self) -> usize {
        self.versions.len().max(1)
    }

    /// Name of version `v`.
    pub fn version_name(&self, v: usize) -> &str {
        self.versions.get(v).map_or("v1", |x| x.name.as_str())
    }

    /// Endpoint `e` as version `v` serves it, if that version has it.
    pub fn version_endpoint(&self, v: usize, e: usize) -> Option<&EndpointConfig> {
        if self.versions.is_empty() {
            self.endpoints.get(e)
        } else {
            self.versions[v].endpoints.get(e).and_then(Option::as_ref)
        }
    }

    /// Every endpoint any version serves, with repeats: what call sites can exist.
    pub fn all_endpoints(&self) -> impl Iterator<Item = &EndpointConfig> {
        (0..self.n_versions())
            .flat_map(move |v| (0..self.endpoints.len()).filter_map(move |e| self.version_endpoint(v, e)))
    }
}

impl QueueConfig {
    /// A first-in, first-out queue that serves whatever waits.
    pub fn fifo(capacity: u32, shared: bool) -> QueueConfig {
        QueueConfig { capacity, shared, discipline: Discipline::Fifo, codel: None, drop_abandoned: false }
    }
}

/// Where requests wait when every worker is busy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// Requests that may wait at once: per instance, or for the whole service if `shared`.
    /// Zero means no waiting: a request that finds no idle worker is refused (`QueueFull`).
    pub capacity: u32,
    /// One FIFO queue for the whole service, served by every instance's workers (the
    /// M/M/c model of Erlang C), instead of one queue per instance behind the balancer.
    pub shared: bool,
    /// Which waiting request a free worker takes.
    pub discipline: Discipline,
    /// Facebook's CoDel variant: while the queue has been standing for an interval, drop
    /// requests that waited longer than twice the target (answered `Shed`).
    pub codel: Option<CodelConfig>,
    /// Drop a waiting request whose caller has already given up, instead of serving it
    /// (a deadline-aware server). Its caller was already answered; nothing more is sent.
    pub drop_abandoned: bool,
}

/// Order in which waiting requests are served.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Discipline {
    /// Oldest first.
    Fifo,
    /// Newest first.
    Lifo,
    /// Oldest first normally; newest first while the CoDel detector says the queue is standing
    /// (Facebook's adaptive LIFO). Uses `codel`'s parameters, or 5 ms / 100 ms if unset.
    AdaptiveLifo,
}

/// CoDel parameters (folly `Codel`: target 5 ms, interval 100 ms).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CodelConfig {
    /// Acceptable standing queue delay.
    pub target: SimDuration,
    /// How long the delay must stay above target before shedding starts.
    pub interval: SimDuration,
}

impl Default for CodelConfig {
    fn default() -> Self {
        CodelConfig { target: SimDuration::from_millis(5), interval: SimDuration::from_millis(100) }
    }
}

/// Server-side protection, checked in this order when a request reaches an instance.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AdmissionConfig {
    /// Answer `RateLimited` (429) above a rate.
    pub rate_limit: Option<RateLimitConfig>,
    /// Answer `Shed` (503) when the instance already holds as many requests as an adaptive
    /// limit allows.
    pub concurrency_limit: Option<ConcurrencyLimitConfig>,
    /// Answer `Shed` (503) by queue length or queue delay, least critical work first.
    pub shedding: Option<SheddingConfig>,
}

/// A rate limiter.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimitConfig {
    /// The bucket.
    pub bucket: TokenBucket,
    /// One bucket per instance (Envoy's local rate limit), or one for the whole service.
    pub per_instance: bool,
}

/// Token-bucket variants.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenBucket {
    /// Continuous refill at `rate` per second, bursts of `burst` (GCRA).
    Continuous {
        /// Tokens per second.
        rate: f64,
        /// Bucket size.
        burst: u32,
    },
    /// Envoy's discrete refill: `tokens_per_fill` every `fill_interval`, at most `max_tokens`.
    Discrete {
        /// Bucket size, and its initial fill.
        max_tokens: u32,
        /// Tokens added per fill.
        tokens_per_fill: u32,
        /// Time between fills.
        fill_interval: SimDuration,
    },
}

/// Netflix concurrency-limits algorithms, with their parameter names and defaults (the
/// policy crate's configurations, used as they are).
#[derive(Clone, Debug, PartialEq)]
pub enum ConcurrencyLimitConfig {
    /// Additive increase, multiplicative decrease.
    Aimd(AimdConfig),
    /// Gradient of long-term to short-term round-trip time.
    Gradient2(Gradient2Config),
}

/// Load shedding.
#[derive(Clone, Debug, PartialEq)]
pub struct SheddingConfig {
    /// What is compared with the thresholds.
    pub metric: ShedMetric,
    /// Threshold at which `Critical` work is shed, in requests or nanoseconds.
    pub at: u64,
    /// Thresholds for `[CriticalPlus, Critical, SheddablePlus, Sheddable]`; `None` derives
    /// them from `at` (125 %, 100 %, 75 %, 50 %).
    pub per_class: Option<[u64; 4]>,
    /// Retry-After sent with the 503.
    pub retry_after: SimDuration,
}

/// What load shedding measures.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ShedMetric {
    /// Requests waiting at the instance (or service, for a shared queue).
    QueueLength,
    /// How long the oldest waiting request has waited, ns.
    QueueDelay,
}

/// How important a request is; calls inherit their parent's. Shedding drops the least
/// critical first (the SRE book's classes).
pub use squall_policy::Criticality;

/// A caller's policy for one dependency: applies to every call its endpoints make to that
/// service, per caller instance (each instance has its own bulkhead and pool, as each
/// process does).
#[derive(Clone, Debug, PartialEq)]
pub struct DependencyConfig {
    /// The service called.
    pub service: ServiceId,
    /// Timeouts, deadlines, retries, budgets, breaker, throttling, hedging and fallback of
    /// calls to it. The policy's `timeout` applies unless a call sets its own.
    pub policy: CallPolicy,
    /// Limits concurrent calls; calls past it fail fast with `BulkheadFull`.
    pub bulkhead: Option<BulkheadConfig>,
    /// A call holds a pooled connection while it is out.
    pub pool: Option<PoolConfig>,
}

/// What a caller does around each logical call: the client policy of a client group or of
/// a caller's dependency. Attempts pass, in order: adaptive throttling, the breaker, then
/// (for dependencies) the bulkhead and the pool.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallPolicy {
    /// Overall deadline of the logical call, over every attempt and back-off (gRPC deadline,
    /// Envoy route `timeout`); `None` waits forever.
    pub timeout: Option<SimDuration>,
    /// Each attempt gives up after this long (Envoy `per_try_timeout`); the last attempt
    /// gets only what is left of the deadline.
    pub per_try_timeout: Option<SimDuration>,
    /// Pass the caller's own deadline on: the call's budget is `min(remaining × factor,
    /// timeout)`, and it fails at once with `DeadlineExceeded` if nothing remains.
    pub propagate_deadline: Option<DeadlinePropagation>,
    /// Retries of failed attempts.
    pub retry: Option<RetryPolicy>,
    /// What limits retries (and hedges) across calls.
    pub budget: Option<RetryBudgetConfig>,
    /// A circuit breaker in front of the attempts.
    pub breaker: Option<BreakerPolicy>,
    /// SRE client-side adaptive throttling of attempts (refused locally as `Throttled`).
    pub throttle: Option<AdaptiveThrottleConfig>,
    /// Parallel attempts (gRPC hedging). Exclusive with `retry`.
    pub hedge: Option<HedgePolicy>,
    /// Serve a fallback instead of failing (`Degraded`).
    pub fallback: Option<FallbackConfig>,
}

/// How a deadline is handed down.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct DeadlinePropagation {
    /// Share of the remaining time given to the callee (0.9), leaving headroom for the reply.
    pub factor: f64,
    /// How the deadline travels.
    pub format: DeadlineFormat,
}

impl Default for DeadlinePropagation {
    fn default() -> Self {
        DeadlinePropagation { factor: 0.9, format: DeadlineFormat::Absolute }
    }
}

/// How a deadline travels between instances.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum DeadlineFormat {
    /// A wall-clock time of the sender (a custom deadline header): the receiver compares it
    /// with its own clock, so clock skew between them moves it.
    #[default]
    Absolute,
    /// A duration (gRPC's `grpc-timeout`): the receiver counts it from its own arrival, so
    /// clock skew does not matter.
    Relative,
}

/// When and how failed attempts are retried.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts at most, the first included (gRPC caps this at 5).
    pub max_attempts: u32,
    /// Outcomes that are retried; others end the call at once.
    pub retry_on: Vec<crate::Outcome>,
    /// The wait before each retry.
    pub backoff: Backoff,
    /// When a refusal carries a Retry-After (429/503), wait exactly that long instead of the
    /// back-off (gRPC pushback), and start the back-off over.
    pub honor_retry_after: bool,
}

impl RetryPolicy {
    /// What is retried unless a policy says otherwise: timeouts, 5xx and 503-style refusals,
    /// connection resets. Never 4xx-like outcomes (`RateLimited`, `Unsupported`).
    pub const DEFAULT_RETRY_ON: [crate::Outcome; 5] = [
        crate::Outcome::Timeout,
        crate::Outcome::ServerError,
        crate::Outcome::Shed,
        crate::Outcome::QueueFull,
        crate::Outcome::ConnectionReset,
    ];
}

/// A circuit breaker and who shares it.
#[derive(Clone, Debug, PartialEq)]
pub struct BreakerPolicy {
    /// The state machine and its thresholds.
    pub config: BreakerConfig,
    /// One breaker for all instances of the caller, instead of one per instance.
    pub shared: bool,
}

/// gRPC hedging: parallel attempts, first success wins, the others are cancelled.
#[derive(Clone, Debug, PartialEq)]
pub struct HedgePolicy {
    /// Attempts at most, the first included (capped at 5).
    pub max_attempts: u32,
    /// Delay between hedges; zero sends them all at once.
    pub hedging_delay: SimDuration,
    /// Outcomes after which the next hedge goes at once; any other failure ends the call.
    pub non_fatal: Vec<crate::Outcome>,
}

/// What a failed call falls back to.
#[derive(Clone, Debug, PartialEq)]
pub enum FallbackConfig {
    /// A static answer, always available.
    Static,
    /// A stale cached answer, available for a share of requests.
    Cache {
        /// Share of failed calls a cached answer covers.
        hit_ratio: f64,
    },
    /// Call another service instead (a second provider), under the caller's policy for
    /// that service. Its answer is the call's answer: `Ok` if it succeeds. Only for
    /// dependencies; a failover is not itself failed over.
    Failover {
        /// The alternative service.
        service: ServiceId,
        /// Its endpoint.
        endpoint: EndpointId,
    },
}

/// Resilience4j bulkheads.
#[derive(Clone, Debug, PartialEq)]
pub enum BulkheadConfig {
    /// A counting semaphore (`max_concurrent_calls` 25, `max_wait_duration` 0).
    Semaphore {
        /// Calls out at once.
        max_concurrent_calls: u32,
        /// How long a call may wait for a permit; zero fails at once.
        max_wait_duration: SimDuration,
    },
    /// A thread pool with Java `ThreadPoolExecutor` rules.
    ThreadPool {
        /// Threads kept even when idle.
        core_thread_pool_size: u32,
        /// Threads at most; the pool grows past core only when the queue is full.
        max_thread_pool_size: u32,
        /// Calls that may wait for a thread (100).
        queue_capacity: u32,
        /// Idle time after which a thread above core ends (20 ms).
        keep_alive_duration: SimDuration,
    },
}

/// A connection pool (HikariCP names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Connections at most (`maximumPoolSize`, 10).
    pub maximum_pool_size: u32,
    /// Connections opened at start and kept (`minimumIdle`, defaults to the maximum).
    pub minimum_idle: u32,
    /// How long a call waits for a connection before failing (`connectionTimeout`, 30 s).
    pub connection_timeout: SimDuration,
}

/// A cache in front of an endpoint or a call.
#[derive(Clone, Debug)]
pub struct CacheConfig {
    /// Share of requests answered by the cache once warm.
    pub hit_ratio: f64,
    /// Time to answer a hit, ns.
    pub hit_latency: Dist,
    /// After a flush (or a cold start) the hit ratio grows linearly from 0 over this long.
    pub warmup: SimDuration,
    /// The cache starts empty at time zero.
    pub cold_start: bool,
}

/// A fault: for a window of time, some instances of a service misbehave.
#[derive(Clone, Debug)]
pub struct FaultConfig {
    /// Label in outputs and plots.
    pub name: String,
    /// Service affected.
    pub service: ServiceId,
    /// Instances affected: the first `ceil(share × n)` (at least one) of the `n` instances the
    /// service has when the window opens, oldest first.
    pub share: f64,
    /// Start of the window.
    pub start: SimTime,
    /// End of the window.
    pub end: SimTime,
    /// What goes wrong.
    pub kind: FaultKind,
}

/// What a fault does while active.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// Work started during the window takes `factor` times as long.
    Slow {
        /// Work multiplier.
        factor: f64,
    },
    /// The process is gone: requests it holds fail with `ConnectionReset` when the window
    /// opens, and new connections are refused (`NoEndpoint`) until it closes.
    Down,
    /// A share of the requests reaching the instances fail at once with `outcome`.
    Fail {
        /// Probability that a request fails.
        fraction: f64,
        /// The outcome it fails with.
        outcome: crate::Outcome,
    },
    /// The caches in front of the service's endpoints are emptied when the window opens and
    /// warm up again after it closes.
    FlushCache,
    /// The process crashes when the window opens: requests it holds fail with
    /// `ConnectionReset`. It is restarted after the crash-loop back-off, and crashes again as
    /// soon as it starts while the window is open.
    Crash,
}

/// Load-balancing algorithm of a service's callers.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BalancerKind {
    /// Each instance in turn.
    RoundRobin,
    /// An instance chosen uniformly at random.
    Random,
    /// The instance with the fewest requests assigned (ties: lowest index after the last pick).
    LeastOutstanding,
    /// Two distinct instances at random; the one with fewer requests assigned.
    PowerOfTwoChoices,
    /// Envoy's ring hash (Ketama) on the request's session key: the steps of a flow share a
    /// key, so they reach the same instance while it is in the endpoints (sticky sessions);
    /// calls inherit the key of the request that makes them.
    RingHash,
    /// Envoy's Maglev table on the session key, like `RingHash`.
    Maglev,
}

/// One endpoint of a service.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// Stable name.
    pub name: String,
    /// What serving a request does, in order.
    pub steps: Vec<Step>,
    /// A blocking endpoint holds its worker while it waits on downstream calls
    /// (thread-per-request). A non-blocking one (an event loop) frees the worker while it
    /// waits and needs one again for the work after the calls.
    pub blocking: bool,
    /// A cache shared by every caller, in front of this endpoint.
    pub cache: Option<CacheConfig>,
    /// Share of the requests that run every step and then fail with `ServerError` (a bug of
    /// the version serving it), in `[0, 1]`.
    pub error_rate: f64,
    /// Flags a successful answer carries, as bits of [`ModelConfig::flags`]: what a flow's
    /// later steps may depend on.
    pub flags: u64,
}

impl EndpointConfig {
    /// An endpoint that only works, for `work` ns.
    pub fn work(name: &str, work: Dist) -> EndpointConfig {
        EndpointConfig {
            name: name.to_string(),
            steps: vec![Step::Work(work)],
            blocking: true,
            cache: None,
            error_rate: 0.0,
            flags: 0,
        }
    }

    /// Every call the endpoint makes, in step order.
    pub fn calls(&self) -> impl Iterator<Item = &CallConfig> {
        self.steps.iter().flat_map(|s| match s {
            Step::Work(_) => &[][..],
            Step::Calls { calls, .. } => &calls[..],
        })
    }
}

/// One step of an endpoint.
#[derive(Clone, Debug)]
pub enum Step {
    /// Worker time, ns.
    Work(Dist),
    /// Calls sent at once (one call is the sequential case); the step succeeds when `need`
    /// of them succeed and fails as soon as that cannot happen. Calls still out then are
    /// abandoned: their servers carry on, but nobody waits for them.
    Calls {
        /// The calls.
        calls: Vec<CallConfig>,
        /// Successes needed, `1..=calls.len()`.
        need: u32,
    },
}

/// A downstream call an endpoint makes.
#[derive(Clone, Debug)]
pub struct CallConfig {
    /// Callee service.
    pub service: ServiceId,
    /// Callee endpoint.
    pub endpoint: EndpointId,
    /// The caller gives up after this long; `None` uses the dependency policy's timeout.
    pub timeout: Option<SimDuration>,
    /// A cache local to each caller instance, in front of this call.
    pub cache: Option<CacheConfig>,
}

/// A group of clients sending requests to one endpoint.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Stable name.
    pub name: String,
    /// Service called.
    pub service: ServiceId,
    /// Endpoint called.
    pub endpoint: EndpointId,
    /// How requests are generated.
    pub load: Load,
    /// Timeouts, retries and the rest of the client's resilience policy. A client group has
    /// no instances: its breaker, budget and throttle are one for the group.
    pub policy: CallPolicy,
    /// Criticality of its requests and of the calls they cause.
    pub criticality: Criticality,
    /// A multi-step user flow: each arrival (or user) runs the flow instead of one request
    /// to `service`/`endpoint` (which are then the flow's first step's).
    pub flow: Option<FlowConfig>,
}

/// How a client group generates requests.
#[derive(Clone, Debug)]
pub enum Load {
    /// Open loop: arrivals follow a rate schedule, whatever the system does.
    Open {
        /// Poisson or evenly spaced.
        process: ArrivalProcess,
        /// Requests per second over time.
        rate: RateSchedule,
    },
    /// Closed loop: `users` users, each sending one request, waiting for its end, thinking,
    /// and sending the next.
    Closed {
        /// Number of users.
        users: u32,
        /// Think time between a response and the next request, in nanoseconds.
        think: Dist,
    },
}

/// Inter-arrival process of an open-loop client.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ArrivalProcess {
    /// Exponential gaps (a non-homogeneous Poisson process when the rate varies).
    Poisson,
    /// Gaps of exactly 1/rate.
    Constant,
}

/// A piecewise-linear rate in requests per second.
///
/// `points` are sorted by time; the rate is linear between consecutive points, so a step is
/// two points at the same instant. Before the first point the rate is the first point's;
/// after the last, the last point's.
#[derive(Clone, Debug, PartialEq)]
pub struct RateSchedule {
    /// `(time, requests per second)`.
    pub points: Vec<(SimTime, f64)>,
}

impl RateSchedule {
    /// A constant rate.
    pub fn constant(per_sec: f64) -> Self {
        RateSchedule { points: vec![(SimTime::ZERO, per_sec)] }
    }

    /// Rate at `t`.
    #[inline]
    pub fn rate_at(&self, t: SimTime) -> f64 {
        // A constant rate (one point), the common case, needs no search: the rate is the
        // same before and after its only point. Open-loop arrivals ask on every arrival.
        if let [(_, r)] = self.points[..] {
            return r;
        }
        let i = self.points.partition_point(|(at, _)| *at <= t);
        if i == 0 {
            return self.points[0].1;
        }
        if i == self.points.len() {
            return self.points[i - 1].1;
        }
        let (t0, r0) = self.points[i - 1];
        let (t1, r1) = self.points[i];
        let span = (t1.0 - t0.0) as f64;
        r0 + (r1 - r0) * ((t.0 - t0.0) as f64 / span)
    }

    /// The piece of the schedule that holds `t`: the highest rate on it (a piece is linear,
    /// so that is one of its ends) and where it ends (`None` for the last, which lasts for
    /// ever). Arrivals are thinned piece by piece at this bound, so a peak elsewhere in the
    /// schedule, or past the end of the run, costs nothing here.
    #[inline]
    pub fn piece_at(&self, t: SimTime) -> (f64, Option<SimTime>) {
        if let [(_, r)] = self.points[..] {
            return (r, None);
        }
        let i = self.points.partition_point(|(at, _)| *at <= t);
        if i == 0 {
            return (self.points[0].1, Some(self.points[0].0));
        }
        if i == self.points.len() {
            return (self.points[i - 1].1, None);
        }
        let ((_, r0), (t1, r1)) = (self.points[i - 1], self.points[i]);
        (r0.max(r1), Some(t1))
    }

    /// The highest rate anywhere in the schedule.
    pub fn max_rate(&self) -> f64 {
        self.points.iter().map(|p| p.1).fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_schedule_interpolates_ramps_and_steps() {
        let s = |x: u64| SimTime(x);
        let r = RateSchedule { points: vec![(s(10), 100.0), (s(20), 200.0), (s(20), 50.0)] };
        assert_eq!(r.rate_at(s(0)), 100.0);
        assert_eq!(r.rate_at(s(15)), 150.0);
        assert_eq!(r.rate_at(s(20)), 50.0);
        assert_eq!(r.rate_at(s(99)), 50.0);
        assert_eq!(r.max_rate(), 200.0);
    }

    #[test]
    fn pieces_bound_the_rate_on_them_and_say_where_they_end() {
        let s = |x: u64| SimTime(x);
        let r = RateSchedule { points: vec![(s(10), 100.0), (s(20), 200.0), (s(20), 50.0), (s(30), 0.0)] };
        assert_eq!(r.piece_at(s(0)), (100.0, Some(s(10))));
        assert_eq!(r.piece_at(s(10)), (200.0, Some(s(20))));
        assert_eq!(r.piece_at(s(19)), (200.0, Some(s(20))));
        // At a step the piece after it holds: the two points share the instant.
        assert_eq!(r.piece_at(s(20)), (50.0, Some(s(30))));
        assert_eq!(r.piece_at(s(30)), (0.0, None));
        assert_eq!(RateSchedule::constant(7.0).piece_at(s(5)), (7.0, None));
        for t in 0..40 {
            let (bound, end) = r.piece_at(s(t));
            assert!(r.rate_at(s(t)) <= bound, "t = {t}");
            assert!(end.is_none_or(|e| e > s(t)), "t = {t}: a piece ends after the time it holds");
        }
    }
}
