//! The engine: one closed event enum and one handler per event, over subsystems that own
//! their state (client groups, services, instances, the request table, metrics).
//!
//! A request's life. A client, or a request on another service (its parent), sends it. A call
//! first passes its caller's policy for that dependency (`calls`): a cache local to the
//! caller, a bulkhead and a connection pool, which may answer it at once or make it wait. At
//! the service (`server`), a cache in front of the endpoint may answer it; otherwise the
//! balancer picks an instance (among those its view of their health allows: `lb`), whose
//! admission checks (fault, rate limit, shedding, concurrency limit) may refuse it; then it
//! starts on an idle worker, waits in the queue, or is refused (`QueueFull`). It runs its endpoint's steps: work holds a worker; a call step
//! sends calls at once and moves on when enough succeed, holding the worker if the endpoint
//! is blocking. Its caller is answered exactly once (`answer`): by the finish, by a failure,
//! or earlier by the caller's own timeout, in which case the server carries on and the work
//! is counted as wasted. A request's slot is freed only when both sides are done with it.
//! Faults (`faults`) change instances for a window of time.

mod calls;
mod deadline;
mod deploy;
mod faults;
mod fleet;
mod flows;
mod ids;
mod lb;
mod least;
mod logical;
mod plan;
mod policy;
mod probes;
mod requests;
mod server;

use crate::config::{
    ArrivalProcess, CallPolicy, ClientId, ClockSkew, Criticality, Load, ModelConfig, ServiceId,
};
use crate::config::{
    BalancerKind, BulkheadConfig, ConcurrencyLimitConfig, QueueConfig, ShedMetric, TokenBucket,
};
use crate::latency::Latencies;
use crate::outcome::{Outcome, OutcomeCounts};
use crate::output::{
    ClientBucket, ClientOutput, Conservation, DependencyOutput, FaultWindow, LatencySummary, PolicyBucket,
    RunOutput, ServiceBucket, ServiceOutput, StopReason, HIST_SIGFIG,
};
use deadline::{Clock, Deadline};
use ids::{CallId, DeployId, FaultId, FlowId, Id, IdVec, InstanceId, SiteId};
use logical::{LogRef, Logicals, Owner};
use plan::{Plan, NONE};
use policy::{BreakerSlot, LogicalStart, ScopeState, Site};
use rand::Rng;
use rand_distr::{Distribution, Exp1};
use requests::{ReqRef, Requests};
use squall_kernel::time::round_ns;
use squall_kernel::{
    stream, Model, Pause, Scheduler, SimDuration, SimTime, Simulation, StreamRng, DEFAULT_SLOT_SHIFT,
};
use squall_policy::{
    AdaptiveThrottle, AimdLimit, Breaker, BreakerState, Codel, ConcurrencyLimit, Gradient2Limit, Limiter,
    Outcome as LimitOutcome, RateLimiter, RetryBudget, Semaphore, ShedThresholds, Shedder, ThreadPool,
    Warmth, WhenFull,
};
use std::collections::VecDeque;

/// Everything that can happen.
#[derive(Copy, Clone, Debug)]
enum Event {
    /// An open-loop client group's next request arrives.
    Arrival { client: ClientId },
    /// A closed-loop user has finished thinking and sends a request.
    UserWake { client: ClientId },
    /// A worker finished a work step of a request.
    WorkDone { req: ReqRef },
    /// An attempt's own (per-try) timeout expired.
    Timeout { req: ReqRef },
    /// A logical request's deadline passed.
    Deadline { log: LogRef },
    /// A logical request's back-off before a retry, or delay before a hedge, is over.
    NextAttempt { log: LogRef },
    /// A call's wait for a bulkhead permit or a pooled connection expired.
    WaitExpired { req: ReqRef },
    /// A cache answered a request.
    CacheHit { req: ReqRef },
    /// A fault's window opens.
    FaultStart { fault: FaultId },
    /// A fault's window closes.
    FaultEnd { fault: FaultId },
    /// An instance's process has started (incarnation `inc`).
    InstanceUp { inst: InstanceId, inc: u32 },
    /// A crashed instance's restart back-off is over.
    Restart { inst: InstanceId, inc: u32 },
    /// A terminating instance's pre-stop hook is over: it stops taking work.
    Stop { inst: InstanceId, inc: u32 },
    /// A terminating instance's grace period is over.
    Kill { inst: InstanceId, inc: u32 },
    /// A change of an instance's readiness reaches the balancers.
    EndpointChange { inst: InstanceId, add: bool },
    /// A probe of an instance is due (`kind` indexes `probes::KINDS`; `seq` is the
    /// worker's, to recognise a stale tick).
    ProbeTick { inst: InstanceId, seq: u32, kind: u8 },
    /// An active health check of an instance by its service's balancer is due.
    HealthCheck { inst: InstanceId, seq: u32 },
    /// A deploy starts.
    DeployStart { deploy: DeployId },
    /// A deploy's controller looks at the fleet again (a pause ended, a pod became
    /// available, an analysis is due).
    DeployTick { deploy: DeployId, what: deploy::Tick },
    /// The next step of a flow run is due.
    FlowStep { flow: FlowId, gen: u32 },
    /// A service's outlier detector sweeps (its `interval` timer).
    OutlierSweep { service: ServiceId },
}

/// What a client group learns when one of its requests ends.
#[derive(Copy, Clone, Debug)]
struct ClientAnswer {
    issued: SimTime,
    outcome: Outcome,
    service: ServiceId,
    /// The version of the instance that answered the last attempt (`NONE` if none did).
    version: u32,
    /// Flags of a successful answer.
    flags: u64,
}

/// A time-weighted gauge (busy workers, queue length) that also splits its integral into
/// time-series buckets.
#[derive(Default)]
struct Gauge {
    value: u64,
    since: SimTime,
    integral: u128,
    max: u64,
    /// The bucket holding `since`, and where it ends, so updates need no division.
    bucket: usize,
    bucket_end: u64,
}

/// Per-bucket fields a gauge writes into.
#[derive(Copy, Clone)]
enum GaugeKind {
    Busy,
    Queue,
    /// Workers of instances whose process is up (no per-bucket series).
    Capacity,
}

struct ClientState {
    name: String,
    service: ServiceId,
    endpoint: crate::config::EndpointId,
    criticality: Criticality,
    load: Load,
    /// Peak of the open-loop rate schedule (0 for closed loops), for sizing the timer ring.
    max_rate: f64,
    arrivals_rng: StreamRng,
    think_rng: StreamRng,
    issued: u64,
    outcomes: OutcomeCounts,
    /// Latencies of successes in buckets already closed (the open bucket's join it when it
    /// closes, so a success is recorded once).
    latency_ok: Latencies,
    /// Latencies of answers that were not successes (`latency_all` is both together).
    latency_failed: Latencies,
    series: Vec<ClientBucket>,
    /// Successful latencies of the bucket `open_bucket`, summarised into the series when a
    /// later bucket starts: answers come in time order, so one histogram serves them all.
    open_latency: Latencies,
    /// Exact sum of the latencies in `open_latency`, ns.
    open_latency_sum_ns: u128,
    open_bucket: usize,
    /// Requests by the version that answered: `served[version_base[service] + v]`.
    served: Vec<OutcomeCounts>,
    /// It runs a flow (its runs and figures are in `World::flows`).
    flow: bool,
}

impl ClientState {
    fn close_bucket(&mut self) {
        self.series[self.open_bucket].latency_ok =
            LatencySummary::with_sum(&self.open_latency, self.open_latency_sum_ns);
        self.latency_ok.add(&self.open_latency);
        self.open_latency.clear();
        self.open_latency_sum_ns = 0;
    }
}

/// Requests waiting for a worker, with the discipline's state.
struct WaitQueue {
    items: VecDeque<ReqRef>,
    /// CoDel shedding, when configured.
    codel: Option<Codel>,
    /// The standing-queue detector of adaptive LIFO when CoDel itself is not configured.
    detector: Option<Codel>,
}

impl WaitQueue {
    fn new(cfg: &QueueConfig) -> WaitQueue {
        let detector = (cfg.discipline == crate::config::Discipline::AdaptiveLifo && cfg.codel.is_none())
            .then(|| {
                let d = crate::config::CodelConfig::default();
                Codel::new(d.target, d.interval)
            });
        WaitQueue {
            items: VecDeque::new(),
            codel: cfg.codel.map(|c| Codel::new(c.target, c.interval)),
            detector,
        }
    }
}

/// A caller instance's state for one dependency.
struct DependencyState {
    bulkhead: Option<Bulkhead>,
    pool: Option<Pool>,
}

enum Bulkhead {
    Semaphore { gate: Semaphore<ReqRef>, max_wait: SimDuration },
    ThreadPool(ThreadPool<ReqRef>),
}

struct Pool {
    /// One permit per open connection.
    connections: Semaphore<ReqRef>,
    maximum: u32,
    timeout: SimDuration,
}

struct InstanceState {
    service: ServiceId,
    workers: u32,
    busy: u32,
    /// Requests assigned: waiting, in service, or waiting on calls (what balancers compare).
    outstanding: u32,
    queue: WaitQueue,
    /// Requests of non-blocking endpoints that finished their calls and wait for a worker to
    /// go on; served before new requests.
    ready: VecDeque<ReqRef>,
    rate: Option<RateLimiter>,
    limiter: Option<Limiter>,
    work_rng: StreamRng,
    cache_rng: StreamRng,
    /// Caches of the service's cached call sites, local to this instance.
    caches: Vec<Warmth>,
    /// This instance's dependency states: `dependencies[dep_base + d]`.
    dep_base: u32,
    /// How far its wall clock is ahead of true time, ns.
    skew: i64,
    /// The version it runs, and its creation rank within its service (its policy scope and
    /// the key of its random streams).
    version: u32,
    ordinal: u32,
    /// Where its process is (the rest of its lifecycle is in `World::lifecycle`).
    phase: fleet::Phase,
    /// Work is slower until then (warm-up).
    warm_until: SimTime,
    error_rng: StreamRng,
    /// With slow start: when it last joined the endpoints (`None`: it does not ramp).
    ramp_from: Option<SimTime>,
    /// The balancer's active health checks of it.
    hc: lb::HcState,
}

struct ServiceState {
    name: String,
    /// Its instances that are not gone, oldest first.
    members: Vec<InstanceId>,
    /// The instances the balancers pick among, in index order: those ready, as the
    /// balancers know it (after the propagation delay).
    endpoints: Vec<InstanceId>,
    next_ordinal: u32,
    versions: Vec<fleet::VersionState>,
    /// Index of its first version in client groups' `served` (`NONE` with one version).
    version_base: u32,
    /// Count answers by version: the service has several versions, is deployed, probed or
    /// crashed (otherwise its one version's figures are not reported, and cost time).
    track_versions: bool,
    /// Traffic-routed weights: the share of requests (0..=100) the balancer sends to
    /// `routed.0`'s instances, the rest going to the others; `None` routes by endpoints.
    routed: Option<(u32, u32)>,
    /// With `routed`: the endpoints of the routed version, and the others.
    split: [Vec<InstanceId>; 2],
    /// Consistent-hash balancers: the table over the endpoints (`None` while there are
    /// none), rebuilt at the first pick after they change, so that instances joining one
    /// after another (a fleet starting, a rollout) cost one build rather than one each.
    hash: Option<fleet::HashTable>,
    /// The endpoints changed since `hash` was built.
    hash_stale: bool,
    /// Tables built, for the tests.
    hash_builds: u64,
    /// Outlier detection, the panic threshold and slow start.
    health: lb::LbHealth,
    routing_rng: StreamRng,
    skew_since: Option<SimTime>,
    fleet: crate::output::FleetOutput,
    capacity: Gauge,
    queue_cfg: QueueConfig,
    balancer: BalancerKind,
    lb_rng: StreamRng,
    rr_next: u32,
    /// A least-outstanding balancer's indexes, one per list it picks from: `[lb_pool, split[0],
    /// split[1]]` (see `least_slot`). `None` for other balancers, and with a shared queue,
    /// which picks no endpoint.
    least: Option<[least::LeastIndex; 3]>,
    shared_queue: WaitQueue,
    /// A rate limiter for the whole service.
    rate: Option<RateLimiter>,
    /// Load shedding by queue length or delay.
    shedder: Option<(Shedder, ShedMetric)>,
    /// The Retry-After a shed request is answered with (zero for none).
    shed_retry_after: SimDuration,
    /// Refuse and drop requests whose deadline has passed.
    honor_deadlines: bool,
    /// Connections open to it from callers' pools, and its cap.
    connections: u32,
    max_connections: u32,
    busy: Gauge,
    queued: Gauge,
    arrivals: u64,
    completed: u64,
    rejected: u64,
    refusals: OutcomeCounts,
    dropped: u64,
    useful: u64,
    useful_work_ns: u128,
    wasted_work_ns: u128,
    waited: u64,
    wait: Latencies,
    wait_ns_sum: u128,
    sojourn: Latencies,
    sojourn_ns_sum: u128,
    series: Vec<ServiceBucket>,
}

/// Results of one caller-callee edge.
struct EdgeStats {
    calls: u64,
    outcomes: OutcomeCounts,
    cache_hits: u64,
    waited: u64,
    latency_ok: Latencies,
}

/// A cache in front of an endpoint.
struct EndpointCache {
    warmth: Warmth,
    rng: StreamRng,
}

/// The simulated world.
struct World {
    cfg: ModelConfig,
    plan: Plan,
    clients: IdVec<ClientId, ClientState>,
    services: IdVec<ServiceId, ServiceState>,
    instances: IdVec<InstanceId, InstanceState>,
    lifecycle: fleet::Lifecycle,
    dependencies: Vec<DependencyState>,
    edges: Vec<EdgeStats>,
    endpoint_caches: Vec<EndpointCache>,
    faults: faults::Faults,
    deploys: deploy::Deploys,
    flows: flows::Flows,
    probes: probes::Probes,
    reqs: Requests,
    logicals: Logicals,
    /// Client policies: one site per client group, then one per plan edge.
    sites: IdVec<SiteId, Site>,
    states: Vec<ScopeState>,
    breakers: Vec<BreakerSlot>,
    bucket_ns: u64,
    n_buckets: usize,
    cur_bucket: usize,
    cur_bucket_start: u64,
    /// Events handled, for the periodic conservation check of debug builds.
    n_handled: u64,
    /// Events left before the footprint is measured again against `limits.max_memory`.
    footprint_countdown: u32,
    /// The largest footprint measured so far, in bytes.
    footprint_max: usize,
}

/// Events between two measures of the footprint against `limits.max_memory` (or the
/// model's number of instances and services, if larger: a measure visits each).
pub const MEMORY_CHECK_EVERY: u32 = 1 << 16;

/// Events between two conservation checks in debug builds (each scans the request table).
const CONSERVATION_CHECK_EVERY: u64 = 1 << 12;

fn hist(sigfig: u8) -> Latencies {
    Latencies::new(sigfig)
}

fn rate_limiter(b: &TokenBucket) -> RateLimiter {
    match *b {
        TokenBucket::Continuous { rate, burst } => RateLimiter::gcra(rate, burst),
        TokenBucket::Discrete { max_tokens, tokens_per_fill, fill_interval } => {
            RateLimiter::discrete(max_tokens, tokens_per_fill, fill_interval)
        }
    }
}

fn concurrency_limiter(c: &ConcurrencyLimitConfig) -> Limiter {
    Limiter::new(match *c {
        ConcurrencyLimitConfig::Aimd(c) => ConcurrencyLimit::Aimd(AimdLimit::new(c)),
        ConcurrencyLimitConfig::Gradient2(c) => ConcurrencyLimit::Gradient2(Gradient2Limit::new(c)),
    })
}

fn warmth(c: &crate::config::CacheConfig) -> Warmth {
    if c.cold_start {
        Warmth::new(c.hit_ratio, c.warmup, SimTime::ZERO)
    } else {
        Warmth::warm(c.hit_ratio, c.warmup)
    }
}

fn shedder(c: &crate::config::SheddingConfig) -> Shedder {
    match c.per_class {
        None => Shedder::new(c.at),
        Some([critical_plus, critical, sheddable_plus, sheddable]) => {
            Shedder::with_thresholds(ShedThresholds { critical_plus, critical, sheddable_plus, sheddable })
        }
    }
}

/// The state of a caller instance's policy for one dependency: its bulkhead and pool.
fn dependency_state(d: &crate::config::DependencyConfig) -> DependencyState {
    DependencyState {
        bulkhead: d.bulkhead.as_ref().map(|b| match *b {
            BulkheadConfig::Semaphore { max_concurrent_calls, max_wait_duration } => {
                let when_full =
                    if max_wait_duration > SimDuration::ZERO { WhenFull::Wait } else { WhenFull::Reject };
                Bulkhead::Semaphore {
                    gate: Semaphore::new(max_concurrent_calls, when_full),
                    max_wait: max_wait_duration,
                }
            }
            BulkheadConfig::ThreadPool {
                core_thread_pool_size,
                max_thread_pool_size,
                queue_capacity,
                keep_alive_duration,
            } => Bulkhead::ThreadPool(ThreadPool::new(
                core_thread_pool_size,
                max_thread_pool_size,
                queue_capacity,
                keep_alive_duration,
            )),
        }),
        pool: d.pool.as_ref().map(|p| Pool {
            connections: Semaphore::new(0, WhenFull::Wait),
            maximum: p.maximum_pool_size,
            timeout: p.connection_timeout,
        }),
    }
}

/// The policy sites of a world: client groups (one scope each), then plan edges (a scope
/// per caller instance, added as instances are created).
fn policy_sites(cfg: &ModelConfig, plan: &Plan, n_buckets: usize) -> IdVec<SiteId, Site> {
    let seed = cfg.seed;
    let clients = cfg.clients.iter().map(|c| (c.policy.clone(), format!("clients/{}/policy", c.name), false));
    let edges = plan.edges.iter().map(|e| {
        let caller = &cfg.services[e.caller.index()];
        let callee = &cfg.services[e.callee.index()].name;
        let policy = caller
            .dependencies
            .iter()
            .find(|d| d.service == e.callee)
            .map_or_else(CallPolicy::default, |d| d.policy.clone());
        (policy, format!("services/{}/dependencies/{callee}/policy", caller.name), true)
    });
    clients
        .chain(edges)
        .map(|(policy, key, is_edge)| {
            let mut site = Site::new(policy, stream(seed, &key));
            if site.tracked {
                site.stats.series = vec![PolicyBucket::default(); n_buckets];
                if is_edge {
                    // A client group's requests per bucket are in its own series already.
                    site.calls_series = vec![0; n_buckets];
                }
            }
            site
        })
        .collect()
}

impl World {
    fn new(cfg: &ModelConfig) -> World {
        assert!(cfg.bucket_width.as_nanos() > 0, "bucket width must be positive");
        let bucket_ns = cfg.bucket_width.as_nanos();
        let n_buckets = usize::try_from(cfg.duration.as_nanos().div_ceil(bucket_ns).max(1))
            .expect("bucket count fits in memory");
        let seed = cfg.seed;
        let plan = Plan::new(cfg);
        let mut services: IdVec<ServiceId, ServiceState> = IdVec::new();
        let mut version_base = 0;
        for sc in &cfg.services {
            let adm = &sc.admission;
            let n_versions = sc.n_versions();
            services.push(ServiceState {
                name: sc.name.clone(),
                members: Vec::new(),
                endpoints: Vec::new(),
                next_ordinal: 0,
                versions: (0..n_versions).map(|_| fleet::VersionState::new(n_buckets)).collect(),
                // Answers by version are reported only for services with several versions:
                // the others take no room in client groups' `served`.
                version_base: if n_versions > 1 { version_base } else { NONE },
                track_versions: n_versions > 1
                    || cfg.deploys.iter().any(|d| d.service.0 as usize == services.len())
                    || cfg.faults.iter().any(|f| {
                        f.service.0 as usize == services.len() && f.kind == crate::config::FaultKind::Crash
                    })
                    || sc.probes.liveness.is_some()
                    || sc.probes.readiness.is_some()
                    || sc.probes.startup.is_some(),
                routed: None,
                split: [Vec::new(), Vec::new()],
                hash: None,
                hash_stale: false,
                hash_builds: 0,
                health: lb::LbHealth::new(sc, seed),
                routing_rng: stream(seed, &format!("services/{}/routing", sc.name)),
                skew_since: None,
                fleet: crate::output::FleetOutput::default(),
                capacity: Gauge::default(),
                queue_cfg: sc.queue.clone(),
                balancer: sc.balancer,
                lb_rng: stream(seed, &format!("services/{}/balancer", sc.name)),
                rr_next: 0,
                least: (sc.balancer == BalancerKind::LeastOutstanding && !sc.queue.shared)
                    .then(Default::default),
                shared_queue: WaitQueue::new(&sc.queue),
                rate: adm.rate_limit.as_ref().filter(|r| !r.per_instance).map(|r| rate_limiter(&r.bucket)),
                shedder: adm.shedding.as_ref().map(|c| (shedder(c), c.metric)),
                shed_retry_after: adm.shedding.as_ref().map_or(SimDuration::ZERO, |c| c.retry_after),
                honor_deadlines: sc.honor_deadlines,
                connections: 0,
                max_connections: sc.max_connections.unwrap_or(u32::MAX),
                busy: Gauge::default(),
                queued: Gauge::default(),
                arrivals: 0,
                completed: 0,
                rejected: 0,
                refusals: OutcomeCounts::default(),
                dropped: 0,
                useful: 0,
                useful_work_ns: 0,
                wasted_work_ns: 0,
                waited: 0,
                wait: hist(HIST_SIGFIG),
                wait_ns_sum: 0,
                sojourn: hist(HIST_SIGFIG),
                sojourn_ns_sum: 0,
                series: vec![ServiceBucket::default(); n_buckets],
            });
            if n_versions > 1 {
                version_base += n_versions as u32;
            }
        }
        let clients = cfg
            .clients
            .iter()
            .map(|cc| ClientState {
                name: cc.name.clone(),
                service: cc.service,
                endpoint: cc.endpoint,
                criticality: cc.criticality,
                load: cc.load.clone(),
                max_rate: match &cc.load {
                    Load::Open { rate, .. } => rate.max_rate(),
                    Load::Closed { .. } => 0.0,
                },
                arrivals_rng: stream(seed, &format!("clients/{}/arrivals", cc.name)),
                think_rng: stream(seed, &format!("clients/{}/think", cc.name)),
                issued: 0,
                outcomes: OutcomeCounts::default(),
                latency_ok: hist(HIST_SIGFIG),
                latency_failed: hist(HIST_SIGFIG),
                series: vec![ClientBucket::default(); n_buckets],
                open_latency: hist(HIST_SIGFIG),
                open_latency_sum_ns: 0,
                open_bucket: 0,
                served: vec![OutcomeCounts::default(); version_base as usize],
                flow: cc.flow.is_some(),
            })
            .collect();
        let edges = plan
            .edges
            .iter()
            .map(|_| EdgeStats {
                calls: 0,
                outcomes: OutcomeCounts::default(),
                cache_hits: 0,
                waited: 0,
                latency_ok: hist(HIST_SIGFIG),
            })
            .collect();
        let endpoint_caches = plan
            .endpoint_caches
            .iter()
            .enumerate()
            .map(|(k, (s, c))| EndpointCache {
                warmth: warmth(c),
                rng: stream(seed, &format!("services/{}/cache/{k}", cfg.services[s.index()].name)),
            })
            .collect();
        let faults =
            faults::Faults::new(seed, &cfg.faults, plan.endpoint_caches.iter().map(|(s, _)| *s).collect());
        let sites = policy_sites(cfg, &plan, n_buckets);
        let mut world = World {
            cfg: cfg.clone(),
            plan,
            clients,
            services,
            instances: IdVec::new(),
            lifecycle: fleet::Lifecycle::new(),
            dependencies: Vec::new(),
            edges,
            endpoint_caches,
            faults,
            deploys: deploy::Deploys::new(&cfg.deploys, &cfg.services),
            flows: flows::Flows::new(&cfg.clients, &cfg.services, n_buckets, seed),
            probes: probes::Probes::new(&cfg.services),
            reqs: Requests::new(),
            logicals: Logicals::new(),
            sites,
            states: Vec::new(),
            breakers: Vec::new(),
            bucket_ns,
            n_buckets,
            cur_bucket: 0,
            cur_bucket_start: 0,
            n_handled: 0,
            footprint_countdown: MEMORY_CHECK_EVERY,
            footprint_max: 0,
        };
        // The site of dependency probes' calls: no policy, one scope.
        let probe_site = world.sites.push(Site::new(CallPolicy::default(), stream(seed, "probes")));
        world.add_scope(probe_site);
        // Client groups have one scope each; a shared breaker is one per site.
        for k in (0..probe_site.idx()).map(SiteId::new) {
            if world.sites[k].shared_breaker {
                world.add_breaker(k);
            }
            if k.idx() < world.clients.len() {
                world.add_scope(k);
            }
        }
        // The fleet at time zero, up and ready. Pools open their `minimum_idle` connections
        // at start, caller by caller in configuration order, as far as each callee's
        // connection cap allows.
        for (s, sc) in cfg.services.iter().enumerate() {
            for _ in 0..sc.replicas {
                world.spawn_instance(None, ServiceId(s as u32), 0);
            }
        }
        world
    }

    /// A new scope (a client group's, or a new caller instance's) of site `k`: its budget,
    /// throttle and, unless shared, breaker.
    fn add_scope(&mut self, k: SiteId) {
        let site = &self.sites[k];
        let p = &site.policy;
        self.states.push(ScopeState {
            budget: p.budget.map(RetryBudget::new),
            throttle: p.throttle.map(AdaptiveThrottle::new),
            active: 0,
            retries_active: 0,
        });
        let index = (self.states.len() - 1) as u32;
        self.sites[k].scopes.push(index);
        if self.sites[k].policy.breaker.is_some() && !self.sites[k].shared_breaker {
            self.add_breaker(k);
        }
    }

    fn add_breaker(&mut self, k: SiteId) {
        let config = self.sites[k].policy.breaker.as_ref().expect("a breaker policy").config;
        self.breakers.push(BreakerSlot {
            breaker: Breaker::new(config),
            site: k,
            state: BreakerState::Closed,
            since: SimTime::ZERO,
            state_ns: [0; 3],
        });
        let index = (self.breakers.len() - 1) as u32;
        self.sites[k].breaker_slots.push(index);
    }

    /// Scope `ordinal` of every dependency site of `service`, for a new instance.
    fn add_policy_scopes(&mut self, service: ServiceId, ordinal: u32) {
        for e in 0..self.plan.edges.len() {
            if self.plan.edges[e].caller == service {
                let site = self.edge_site(e as u32);
                debug_assert_eq!(self.sites[site].scopes.len(), ordinal as usize);
                self.add_scope(site);
            }
        }
    }

    /// The policy site of client group `c`: the sites start with one per group, in order.
    #[inline]
    fn client_site(c: ClientId) -> SiteId {
        SiteId::new(c.index())
    }

    /// The policy site of the calls of plan edge `edge`, which come after the groups'.
    #[inline]
    fn edge_site(&self, edge: u32) -> SiteId {
        SiteId::new(self.clients.len() + edge as usize)
    }

    /// Schedules each client group's first request and each fault's window.
    fn start(&mut self, sched: &mut Scheduler<Event>) {
        for client in self.clients.ids() {
            let c = client;
            match self.clients[c].load.clone() {
                Load::Open { .. } => {
                    if let Some(t) = self.next_arrival(sched, client, SimTime::ZERO, true) {
                        sched.at(t, Event::Arrival { client });
                    }
                }
                Load::Closed { users, think } => {
                    // Users start spread over one think time, so they do not all fire at t=0.
                    for _ in 0..users {
                        let d = round_ns(think.sample(&mut self.clients[c].think_rng));
                        let offset = round_ns(self.clients[c].think_rng.random::<f64>() * d as f64);
                        sched.at(SimTime(offset), Event::UserWake { client });
                    }
                }
            }
        }
        for inst in self.instances.ids() {
            self.start_probes(sched, inst);
            self.start_health_checks(sched, inst);
        }
        for (k, d) in self.cfg.deploys.iter().enumerate() {
            if let crate::config::DeployTrigger::At(t) = d.trigger {
                sched.at(t, Event::DeployStart { deploy: DeployId::new(k) });
            }
        }
        for (k, f) in self.cfg.faults.iter().enumerate() {
            let fault = FaultId::new(k);
            if f.end > f.start {
                sched.at(f.start, Event::FaultStart { fault });
                sched.at(f.end, Event::FaultEnd { fault });
            }
        }
        self.start_outlier_sweeps(sched);
    }

    /// The time-series bucket of `t`. Time only moves forward, so the current bucket is
    /// cached and advanced by addition: a division per counter update would cost more than
    /// the update.
    #[inline]
    fn bucket(&mut self, t: SimTime) -> usize {
        let t = t.as_nanos();
        debug_assert!(t >= self.cur_bucket_start, "bucket lookup went back in time");
        while t >= self.cur_bucket_start + self.bucket_ns && self.cur_bucket + 1 < self.n_buckets {
            self.cur_bucket += 1;
            self.cur_bucket_start += self.bucket_ns;
        }
        self.cur_bucket
    }

    /// The next open-loop arrival strictly after `after` (or at it, for the first), by
    /// thinning a Poisson process at the peak rate of the schedule's current piece (moving to
    /// the next piece when a candidate falls past this one's end, which the process's lack of
    /// memory allows), or by stepping 1/rate for constant spacing. `None` when no arrival
    /// falls within the run, or when the candidates thinning rejected used up the event
    /// limit (each counts as an event, so a schedule far above its rate stops at the limit).
    fn next_arrival(
        &mut self,
        sched: &mut Scheduler<Event>,
        client: ClientId,
        after: SimTime,
        first: bool,
    ) -> Option<SimTime> {
        let end = self.cfg.duration.as_nanos();
        let c = &mut self.clients[client];
        let Load::Open { process, rate } = &c.load else { unreachable!("closed loop has no arrivals") };
        if c.max_rate <= 0.0 {
            return None;
        }
        let mut t = after.as_nanos() as f64;
        // A constant rate, the common case: one draw per arrival and no piece to find.
        if let (ArrivalProcess::Poisson, [(_, r)]) = (process, &rate.points[..]) {
            let e: f64 = Exp1.sample(&mut c.arrivals_rng);
            t += e * 1e9 / *r;
            return (t <= end as f64).then(|| SimTime(round_ns(t)));
        }
        // Bounded: every step moves time forward by at least 1 ns, to the next piece of the
        // schedule, or ends the search.
        loop {
            match process {
                ArrivalProcess::Poisson => {
                    let (bound, piece_end) = rate.piece_at(SimTime(round_ns(t)));
                    let piece_end = piece_end.map(|e| e.as_nanos() as f64);
                    if bound <= 0.0 {
                        match piece_end {
                            Some(e) if e <= end as f64 => {
                                t = e;
                                continue;
                            }
                            _ => return None,
                        }
                    }
                    let e: f64 = Exp1.sample(&mut c.arrivals_rng);
                    let next = t + e * 1e9 / bound;
                    if let Some(e) = piece_end.filter(|e| next >= *e) {
                        if e > end as f64 {
                            return None;
                        }
                        t = e;
                        continue;
                    }
                    t = next;
                    if t > end as f64 {
                        return None;
                    }
                    // Rounded once: the rate is asked and the arrival made at the same instant.
                    let at = SimTime(round_ns(t));
                    let r = rate.rate_at(at);
                    if r >= bound || c.arrivals_rng.random::<f64>() * bound < r {
                        return Some(at);
                    }
                    if !sched.charge(1) {
                        return None;
                    }
                }
                ArrivalProcess::Constant => {
                    let now = SimTime(round_ns(t));
                    let r = rate.rate_at(now);
                    if r > 0.0 {
                        if first {
                            return (t <= end as f64).then_some(now);
                        }
                        t += 1e9 / r;
                        if t > end as f64 {
                            return None;
                        }
                        let at = SimTime(round_ns(t));
                        if rate.rate_at(at) > 0.0 {
                            return Some(at);
                        }
                        // The rate fell to zero before the gap ran out: no arrival until
                        // it rises again (the next pass finds where).
                        continue;
                    }
                    // A zero rate: jump to the next schedule point with a positive rate.
                    let next = rate.points.iter().find(|(at, r)| *at > now && *r > 0.0)?;
                    t = next.0.as_nanos() as f64;
                    if rate.rate_at(next.0) > 0.0 {
                        return (t <= end as f64).then_some(next.0);
                    }
                }
            }
        }
    }

    // ---- gauges and buckets ----

    /// Moves a service gauge to `value` at `now`, adding the elapsed area to the totals and
    /// to each bucket the elapsed interval overlaps.
    // Always inlined so that `kind`, a constant at every call site, selects its field and
    // bucket figure at compile time: the busy and queue gauges move several times per
    // request, and a plain `#[inline]` left it a call.
    #[inline(always)]
    fn set_gauge(&mut self, s: ServiceId, kind: GaugeKind, now: SimTime, value: u64) {
        let bucket_ns = self.bucket_ns;
        let last_bucket = self.n_buckets - 1;
        let svc = &mut self.services[s];
        let g = match kind {
            GaugeKind::Busy => &mut svc.busy,
            GaugeKind::Queue => &mut svc.queued,
            GaugeKind::Capacity => &mut svc.capacity,
        };
        if g.bucket_end == 0 {
            g.bucket_end = bucket_ns;
        }
        let (mut t, to) = (g.since.as_nanos(), now.as_nanos());
        debug_assert!(to >= t, "gauge went back in time");
        // A gauge often moves twice at one instant (a worker freed, then taken by the next
        // request): no time passed, so there is no area to add and no bucket to move to (the
        // last update left `bucket_end` past `since`, or the gauge in its last bucket).
        if to > t {
            let v = u128::from(g.value);
            g.integral += v * u128::from(to - t);
            let series = &mut svc.series;
            let mut add = |b: usize, area: u128| match kind {
                GaugeKind::Busy => series[b].busy_integral += area,
                GaugeKind::Queue => series[b].queue_integral += area,
                GaugeKind::Capacity => {}
            };
            while to >= g.bucket_end && g.bucket < last_bucket {
                add(g.bucket, v * u128::from(g.bucket_end - t));
                t = g.bucket_end;
                g.bucket += 1;
                g.bucket_end += bucket_ns;
            }
            add(g.bucket, v * u128::from(to - t));
        }
        g.since = now;
        g.value = value;
        g.max = g.max.max(value);
        if let GaugeKind::Queue = kind {
            let m = &mut svc.series[g.bucket].queue_max;
            *m = (*m).max(value);
        }
    }

    #[inline]
    fn add_busy(&mut self, s: ServiceId, now: SimTime, delta: i64) {
        let v = self.services[s].busy.value.checked_add_signed(delta).expect("busy >= 0");
        self.set_gauge(s, GaugeKind::Busy, now, v);
    }

    #[inline]
    fn add_queued(&mut self, s: ServiceId, now: SimTime, delta: i64) {
        let v = self.services[s].queued.value.checked_add_signed(delta).expect("queued >= 0");
        self.set_gauge(s, GaugeKind::Queue, now, v);
    }

    // ---- clients ----

    /// A client group's arrival (or a user's wake-up): a request, or a new flow run.
    fn on_client_request(&mut self, sched: &mut Scheduler<Event>, client: ClientId) {
        if self.clients[client].flow {
            return self.start_flow(sched, client);
        }
        let cs = &self.clients[client];
        let target = (cs.service, cs.endpoint);
        self.send_client_request(sched, client, None, target);
    }

    /// A client group sends a request to `target`, on its own or as a step of flow run `flow`.
    fn send_client_request(
        &mut self,
        sched: &mut Scheduler<Event>,
        client: ClientId,
        flow: Option<FlowId>,
        (service, endpoint): (ServiceId, crate::config::EndpointId),
    ) {
        let now = sched.now();
        let b = self.bucket(now);
        let cs = &mut self.clients[client];
        cs.issued += 1;
        cs.series[b].issued += 1;
        let target = (service, endpoint, cs.criticality);
        let site = World::client_site(client);
        let timeout = self.sites[site].policy.timeout;
        self.start_logical(
            sched,
            LogicalStart::outside(Owner::Client { client, flow }, target, site, timeout),
        );
    }

    /// Stops the run (after the current event) if too many requests are alive.
    #[inline]
    fn check_in_flight(&mut self, sched: &mut Scheduler<Event>) {
        if self.reqs.n_live < self.cfg.limits.max_in_flight {
            return;
        }
        self.halt_in_flight(sched);
    }

    /// The halt of `check_in_flight`, out of line: it happens at most once per run.
    #[cold]
    fn halt_in_flight(&mut self, sched: &mut Scheduler<Event>) {
        sched.halt(format!(
            "more than {} requests were in flight at {}: the modelled system is holding work \
             faster than it finishes it. Raise limits.max_in_flight if this is expected, or \
             shorten the run",
            self.cfg.limits.max_in_flight,
            sched.now()
        ));
    }

    /// A client group's request ended; a flow's step goes on with its flow.
    fn client_answered(
        &mut self,
        sched: &mut Scheduler<Event>,
        c: ClientId,
        flow: Option<FlowId>,
        a: ClientAnswer,
    ) {
        let now = sched.now();
        let latency = now.since(a.issued).as_nanos();
        let b = self.bucket(now);
        let version_base = self.services[a.service].version_base;
        let cs = &mut self.clients[c];
        let outcome = a.outcome;
        cs.outcomes.add(outcome);
        cs.series[b].outcomes.add(outcome);
        if outcome.is_success() {
            if b != cs.open_bucket {
                cs.close_bucket();
                cs.open_bucket = b;
            }
            cs.open_latency.record(latency);
            cs.open_latency_sum_ns += u128::from(latency);
        } else {
            cs.latency_failed.record(latency);
        }
        if a.version != NONE && version_base != NONE {
            cs.served[(version_base + a.version) as usize].add(outcome);
        }
        if let Some(flow) = flow {
            return self.flow_step_answered(sched, flow, a);
        }
        self.user_thinks(sched, c);
    }

    /// A closed-loop user, done with a request or a flow, thinks before the next.
    fn user_thinks(&mut self, sched: &mut Scheduler<Event>, c: ClientId) {
        let cs = &mut self.clients[c];
        if let Load::Closed { think, .. } = &cs.load {
            let d = round_ns(think.sample(&mut cs.think_rng));
            sched.after(SimDuration(d), Event::UserWake { client: c });
        }
    }

    /// Each client group's requests by the version that answered them, for services with
    /// more than one version.
    fn served_by(&self) -> Vec<Vec<crate::output::ServedBy>> {
        // Found once, not per client: clients x services was quadratic in a large model.
        let versioned: Vec<ServiceId> =
            self.services.ids().filter(|&s| self.services[s].versions.len() >= 2).collect();
        self.clients
            .iter()
            .map(|c| {
                let mut out = Vec::new();
                for &s in &versioned {
                    let svc = &self.services[s];
                    for v in 0..svc.versions.len() {
                        let counts = &c.served[svc.version_base as usize + v];
                        if counts.total() > 0 {
                            out.push(crate::output::ServedBy {
                                service: svc.name.clone(),
                                version: self.cfg.services[s.index()].version_name(v).to_string(),
                                outcomes: counts.clone(),
                            });
                        }
                    }
                }
                out
            })
            .collect()
    }

    /// Checks that no request was lost or duplicated, comparing counters with what a scan of
    /// the request table and the instances actually finds.
    ///
    /// # Panics
    /// If the two tallies differ: the engine has a bug and its numbers cannot be trusted.
    fn check_conservation(&self) -> Conservation {
        let in_flight =
            self.logicals.slots.iter().filter(|l| l.live && matches!(l.owner, Owner::Client { .. })).count()
                as u64;
        let issued: u64 = self.clients.iter().map(|c| c.issued).sum();
        let ended: u64 = self.clients.iter().map(|c| c.outcomes.total()).sum();
        assert_eq!(
            issued,
            ended + in_flight,
            "requests leaked or duplicated: issued {issued}, ended {ended}, in flight {in_flight}"
        );
        // What each service's instances hold, in one pass over the instances (a pass per
        // service made the check quadratic in the size of the model).
        let mut held: Vec<u64> =
            self.services.iter().map(|svc| svc.shared_queue.items.len() as u64).collect();
        for i in &self.instances {
            held[i.service.index()] += u64::from(i.outstanding);
        }
        for ((s, svc), held) in self.services.iter().enumerate().zip(held) {
            assert_eq!(
                svc.arrivals,
                svc.completed + svc.rejected + svc.dropped + held,
                "service {s} ({}) lost requests",
                svc.name
            );
        }
        self.flows.check();
        Conservation { issued, ended, in_flight }
    }

    /// Closes the gauges at `end` and checks conservation by scanning live requests.
    fn into_output(mut self, end: SimTime, stop: StopReason, n_events: u64) -> RunOutput {
        for id in self.services.ids() {
            let svc = &self.services[id];
            let (busy, queued, capacity) = (svc.busy.value, svc.queued.value, svc.capacity.value);
            self.set_gauge(id, GaugeKind::Busy, end, busy);
            self.set_gauge(id, GaugeKind::Queue, end, queued);
            self.set_gauge(id, GaugeKind::Capacity, end, capacity);
        }
        self.close_fleet(end);
        self.close_outlier();
        let conservation = self.check_conservation();
        for c in &mut self.clients {
            c.close_bucket();
        }
        let mut policies = self.policy_outputs(end).into_iter();
        let first_edge_site = self.edge_site(0);
        let mut calls_series: Vec<Vec<u64>> = self
            .sites
            .tail_mut(first_edge_site)
            .iter_mut()
            .map(|s| std::mem::take(&mut s.calls_series))
            .collect();
        let served_by = self.served_by();
        let deploys = self.deploy_outputs();
        let flows = self.flows.into_outputs();
        let clients = self
            .clients
            .into_iter()
            .zip(served_by)
            .zip(flows)
            .map(|((c, served_by), flow)| ClientOutput {
                name: c.name,
                issued: c.issued,
                outcomes: c.outcomes,
                latency_all: {
                    let mut all = c.latency_ok.clone();
                    all.add(&c.latency_failed);
                    all
                },
                latency_ok: c.latency_ok,
                series: c.series,
                policy: policies.next().expect("a site per client"),
                served_by,
                flow,
            })
            .collect();
        let service_names: Vec<String> = self.services.iter().map(|s| s.name.clone()).collect();
        let dependencies = self
            .plan
            .edges
            .iter()
            .zip(self.edges)
            .enumerate()
            .map(|(k, (e, st))| DependencyOutput {
                caller: service_names[e.caller.index()].clone(),
                callee: service_names[e.callee.index()].clone(),
                calls: st.calls,
                outcomes: st.outcomes,
                cache_hits: st.cache_hits,
                waited: st.waited,
                latency_ok: st.latency_ok,
                policy: policies.next().expect("a site per edge"),
                calls_series: std::mem::take(&mut calls_series[k]),
            })
            .collect();
        let faults = self
            .cfg
            .faults
            .iter()
            .zip(self.faults.ids())
            .map(|(f, id)| FaultWindow {
                name: f.name.clone(),
                service: service_names[f.service.index()].clone(),
                what: faults::describe(&f.kind),
                start: f.start,
                end: f.end,
                fired: self.faults.fired(id),
            })
            .collect();
        let instances = &self.instances;
        let services = self
            .services
            .into_iter()
            .enumerate()
            .map(|(k, s)| ServiceOutput {
                instances: s.members.len() as u32,
                workers: s.members.iter().map(|&i| instances[i].workers).sum(),
                fleet: crate::output::FleetOutput {
                    versions: s
                        .versions
                        .into_iter()
                        .enumerate()
                        .map(|(v, x)| crate::output::VersionOutput {
                            name: self.cfg.services[k].version_name(v).to_string(),
                            answers: x.answers,
                            series: x.series,
                        })
                        .collect(),
                    capacity_integral: s.capacity.integral,
                    ..s.fleet
                },
                name: s.name,
                arrivals: s.arrivals,
                completed: s.completed,
                rejected: s.rejected,
                refusals: s.refusals,
                dropped: s.dropped,
                useful: s.useful,
                useful_work_ns: s.useful_work_ns,
                waited: s.waited,
                wait: s.wait,
                wait_ns_sum: s.wait_ns_sum,
                sojourn: s.sojourn,
                sojourn_ns_sum: s.sojourn_ns_sum,
                busy_integral: s.busy.integral,
                queue_integral: s.queued.integral,
                in_system_integral: s.busy.integral + s.queued.integral,
                queue_max: s.queued.max,
                wasted_work_ns: s.wasted_work_ns,
                series: s.series,
            })
            .collect();
        RunOutput {
            seed: self.cfg.seed,
            duration: self.cfg.duration,
            end,
            stop,
            n_events,
            bucket_width: self.cfg.bucket_width,
            clients,
            services,
            dependencies,
            faults,
            deploys,
            conservation,
            warmup: self.cfg.warmup,
        }
    }

    /// Bytes held by the growable state: the request table, queues and the event queue
    /// are what could grow with run length, so tests watch this number.
    fn footprint_bytes(&self, n_pending: usize) -> usize {
        let reqs = self.reqs.slots.capacity() * std::mem::size_of::<requests::Request>()
            + self.reqs.free.capacity() * 4
            + self.logicals.slots.capacity() * std::mem::size_of::<logical::Logical>()
            + self.logicals.free.capacity() * 4;
        let queues: usize =
            self.instances.iter().map(|i| (i.queue.items.capacity() + i.ready.capacity()) * 8).sum::<usize>()
                + self.services.iter().map(|s| s.shared_queue.items.capacity() * 8).sum::<usize>();
        reqs + queues + n_pending * std::mem::size_of::<Event>()
    }

    /// Measures the footprint, keeps its maximum and stops the run (after the current
    /// event) once it passes `limits.max_memory`, so a run that would exhaust the machine's
    /// memory ends with a partial report and a reason instead of an abort.
    #[cold]
    fn measure_footprint(&mut self, sched: &mut Scheduler<Event>) {
        let every = (self.instances.len() + self.services.len())
            .clamp(MEMORY_CHECK_EVERY as usize, u32::MAX as usize);
        self.footprint_countdown = every as u32;
        let bytes = self.footprint_bytes(sched.n_pending());
        self.footprint_max = self.footprint_max.max(bytes);
        let limit = self.cfg.limits.max_memory_bytes;
        if bytes as u64 > limit {
            sched.halt(format!(
                "the model's state (requests in flight, queues and pending events) held {} at {}, \
                 more than limits.max_memory ({}): the modelled system is holding work faster \
                 than it finishes it. Raise limits.max_memory (e.g. --set limits.max_memory=16GiB) \
                 if the machine has the memory, or lower the load or shorten the run",
                mib(bytes as u64),
                sched.now(),
                mib(limit)
            ));
        }
    }
}

/// `bytes` for a message, in MiB (or GiB from 10 GiB).
fn mib(bytes: u64) -> String {
    let mib = bytes as f64 / (1u64 << 20) as f64;
    if mib >= 10.0 * 1024.0 {
        format!("{:.1} GiB", mib / 1024.0)
    } else {
        format!("{mib:.1} MiB")
    }
}

impl Model for World {
    type Event = Event;

    #[inline]
    fn on_event(&mut self, _now: SimTime, event: Event, sched: &mut Scheduler<Event>) {
        if cfg!(debug_assertions) {
            // In debug builds and tests, check conservation along the way too, not only at the
            // end, so a leak is caught near the event that caused it.
            self.n_handled += 1;
            if self.n_handled % CONSERVATION_CHECK_EVERY == 0 {
                self.check_conservation();
            }
        }
        self.footprint_countdown -= 1;
        if self.footprint_countdown == 0 {
            self.measure_footprint(sched);
        }
        match event {
            Event::Arrival { client } => {
                self.on_client_request(sched, client);
                if let Some(t) = self.next_arrival(sched, client, sched.now(), false) {
                    sched.at(t, Event::Arrival { client });
                }
            }
            Event::UserWake { client } => self.on_client_request(sched, client),
            Event::WorkDone { req } => self.on_work_done(sched, req),
            Event::Timeout { req } => self.on_timeout(sched, req),
            Event::Deadline { log } => self.on_deadline(sched, log),
            Event::NextAttempt { log } => self.on_next_attempt(sched, log),
            Event::WaitExpired { req } => self.on_wait_expired(sched, req),
            Event::CacheHit { req } => self.on_cache_hit(sched, req),
            Event::FaultStart { fault } => self.on_fault_start(sched, fault),
            Event::FaultEnd { fault } => self.on_fault_end(sched, fault),
            Event::InstanceUp { inst, inc } => self.on_instance_up(sched, inst, inc),
            Event::Restart { inst, inc } => self.on_restart(sched, inst, inc),
            Event::Stop { inst, inc } => self.on_stop(sched, inst, inc),
            Event::Kill { inst, inc } => self.on_kill(sched, inst, inc),
            Event::EndpointChange { inst, add } => self.on_endpoint_change(sched, inst, add),
            Event::ProbeTick { inst, seq, kind } => self.on_probe_tick(sched, inst, seq, kind),
            Event::HealthCheck { inst, seq } => self.on_health_check(sched, inst, seq),
            Event::DeployStart { deploy } => self.on_deploy_start(sched, deploy),
            Event::DeployTick { deploy, what } => self.on_deploy_tick(sched, deploy, what),
            Event::FlowStep { flow, gen } => self.on_flow_step(sched, flow, gen),
            Event::OutlierSweep { service } => self.on_outlier_sweep(sched, service),
        }
    }
}

/// The kernel's timer-ring slot width (a power of two, ns) for open-loop arrivals at
/// `rate_per_s` in all. Sparse arrivals widen the default (about 17 ms) to hold about two
/// arrivals a slot, up to about 17 s; dense ones (above about 480 a second) narrow it to hold
/// about eight, down to about 1 ms (the ring then spans 4.3 s, past the usual timeouts).
/// Without open-loop arrivals it is the default. An empty slot costs a scan and a pour for
/// nothing, and a crowded one makes every push and pop of its heap deeper (at 1,400 arrivals a
/// second, 17 ms slots held about 140 events); the order of events, `(time, seq)`, does not
/// depend on the width, so neither do the results.
fn slot_shift(rate_per_s: f64) -> u32 {
    const NARROWEST: u32 = 20;
    const WIDEST: u32 = 34;
    // A NaN rate takes the default too, as a zero or negative one does.
    if rate_per_s.is_nan() || rate_per_s <= 0.0 {
        return DEFAULT_SLOT_SHIFT;
    }
    let sparse = (2.0e9 / rate_per_s).log2().floor();
    if sparse > f64::from(DEFAULT_SLOT_SHIFT) {
        return (sparse as u32).min(WIDEST);
    }
    // `as` saturates: a width below 1 ns gives 0, raised to the narrowest.
    ((8.0e9 / rate_per_s).log2().floor() as u32).clamp(NARROWEST, DEFAULT_SLOT_SHIFT)
}

/// A run in progress: build it, advance it in chunks (for progress display), finish it.
pub struct Run {
    sim: Simulation<World>,
    duration: SimTime,
    max_events: u64,
    stop: Option<StopReason>,
    footprint_max: usize,
    /// Events handled when the footprint was last measured.
    footprint_events: u64,
}

impl Run {
    /// Builds the world described by `config`, with its first events scheduled.
    pub fn new(config: &ModelConfig) -> Run {
        let world = World::new(config);
        let shift = slot_shift(world.clients.iter().map(|c| c.max_rate).sum());
        let mut sim = Simulation::with_slot_shift(world, config.limits.max_events, shift);
        let (world, sched) = sim.parts();
        world.start(sched);
        // A population of closed-loop users is scheduled before any event runs.
        world.measure_footprint(sched);
        Run {
            sim,
            duration: SimTime::ZERO + config.duration,
            max_events: config.limits.max_events,
            stop: None,
            footprint_max: 0,
            footprint_events: 0,
        }
    }

    /// Runs until `until` (capped at the configured duration). Returns why the run is over,
    /// or `None` if there is more to run.
    pub fn advance(&mut self, until: SimTime) -> Option<StopReason> {
        if let Some(s) = &self.stop {
            return Some(s.clone());
        }
        let target = until.min(self.duration);
        let pause = self.sim.run_until(target);
        // Measuring visits every instance and service, so it waits until at least that many
        // events have run since the last time: a thousand progress steps over a model of
        // 10,000 services would otherwise cost more than the run.
        let w = &self.sim.model;
        let n_events = self.sim.n_events();
        if n_events - self.footprint_events >= (w.instances.len() + w.services.len()) as u64 {
            self.footprint_events = n_events;
            let n_pending = self.sim.scheduler().n_pending();
            let footprint = self.sim.model.footprint_bytes(n_pending);
            self.footprint_max = self.footprint_max.max(footprint);
        }
        let stop = match pause {
            Pause::Reached | Pause::Idle if target >= self.duration => StopReason::Completed,
            Pause::Idle => {
                self.sim.run_until(self.duration);
                StopReason::Completed
            }
            Pause::Reached => return None,
            Pause::EventLimit => StopReason::EventLimit { limit: self.max_events },
            Pause::Halted(reason) => StopReason::Halted { reason },
        };
        self.stop = Some(stop.clone());
        Some(stop)
    }

    /// Current simulated time.
    pub fn now(&self) -> SimTime {
        self.sim.now()
    }

    /// Events handled so far.
    pub fn n_events(&self) -> u64 {
        self.sim.n_events()
    }

    /// The largest footprint of growable state seen at the end of an `advance`, in bytes.
    pub fn footprint_max_bytes(&self) -> usize {
        self.footprint_max.max(self.sim.model.footprint_max)
    }

    /// Ends the run and collects its output, checking conservation.
    ///
    /// # Panics
    /// If requests were lost or duplicated: that is a bug in the engine, and a report built
    /// on it would be wrong.
    pub fn finish(mut self) -> RunOutput {
        let stop = self.stop.take().unwrap_or(StopReason::Halted { reason: "finished early".into() });
        let end = self.sim.now();
        let n_events = self.sim.n_events();
        self.sim.into_model().into_output(end, stop, n_events)
    }
}

/// Builds and runs `config` to the end.
pub fn run(config: &ModelConfig) -> RunOutput {
    let mut r = Run::new(config);
    while r.advance(SimTime::MAX).is_none() {}
    r.finish()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fleet;
#[cfg(test)]
mod tests_lb;
#[cfg(test)]
mod tests_policy;
