//! Checks across entities and the build of a [`ModelConfig`]: names resolve to ids, calls do
//! not form cycles, settings that depend on each other agree, and every problem is collected
//! before any is reported.
//!
//! Checks that compare two fields of one struct (`min_limit <= initial_limit`, core and
//! maximum thread-pool sizes, `steps` against `work`) run here rather than while reading:
//! ron could only point past the struct's end, and an override may need to change both
//! fields before the pair makes sense again.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexSet;

use squall_kernel::time::NS_PER_MS;
use squall_kernel::{SimDuration, SimTime};
use squall_model::{
    AdaptiveThrottleConfig, AdmissionConfig, AimdConfig, ArrivalProcess, Backoff, BalancerKind,
    BreakerConfig, BreakerPolicy, BulkheadConfig, CacheConfig, CallConfig, CallPolicy, ClientConfig,
    ClockSkew, CodelConfig, ConcurrencyLimitConfig, ConsecutiveConfig, Criticality, DeadlineFormat,
    DeadlinePropagation, DependencyConfig, Discipline, EndpointConfig, EndpointId, FallbackConfig,
    FaultConfig, FaultKind, Gradient2Config, GrpcJitter, HedgePolicy, Jitter, Limits, Load, ModelConfig,
    PoolConfig, QueueConfig, QueueSize, RateLimitConfig, RateSchedule, Resilience4jConfig, RetryBudgetConfig,
    RetryPolicy, ServiceConfig, ServiceId, ShedMetric, SheddingConfig, SlidingWindow, Step, TokenBucket,
};
use squall_model::{
    AnalysisConfig, BalancerHealth, BlueGreenParams, CanaryParams, CanaryStepConfig, DeployConfig,
    DeployStrategy, DeployTrigger, FlowCondition, FlowConfig, FlowStep, HealthCheckConfig, IntOrPercent,
    Lifecycle, OutlierConfig, ProbeCheck, ProbeConfig, Probes, RestartBackoff, RollingParams, VersionConfig,
};

use crate::error::{unknown_name, unknown_name_in, Origin, Problem, ScenarioError};
use crate::locate::{line_col, locate, path_string, Seg};
use crate::overrides::{related_change, Change};
use crate::spec::{AnalysisSpec, OutlierSpec};
use crate::spec::{
    ArrivalsSpec, BackoffSpec, BalancerSpec, BreakerSpec, BudgetSpec, BulkheadSpec, CacheSpec, CallSpec,
    ClassesSpec, ClockSkewSpec, ConcurrencyLimitSpec, CriticalitySpec, DeadlineFormatSpec, DependencySpec,
    DisciplineSpec, Dur, EndpointSpec, FallbackSpec, FaultKindSpec, GrpcJitterSpec, HedgeSpec, JitterSpec,
    PolicyFields, PoolSpec, QueueSpec, RateLimitSpec, RetrySpec, ScenarioSpec, ScheduleEntrySpec,
    ServiceSpec, SheddingSpec, SlidingWindowSpec, StepSpec,
};
use crate::spec::{
    CanaryStepSpec, FlowStepSpec, IntOrPercentSpec, LifecycleSpec, ProbeCheckSpec, ProbeSpec, ProbesSpec,
    StrategySpec, WarmupSpec, WhenSpec,
};

/// A problem before it is given an origin: the paths it concerns (the first is shown) and
/// the quoted name to point at in the source, if any.
pub(crate) struct Pending {
    pub paths: Vec<Vec<Seg>>,
    pub anchor: Option<String>,
    pub message: String,
}

pub(crate) fn key(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

fn path(segs: &[&str]) -> Vec<Seg> {
    segs.iter().map(|s| key(s)).collect()
}

/// `base` followed by the fields `more`.
pub(crate) fn under(base: &[Seg], more: &[&str]) -> Vec<Seg> {
    let mut p = base.to_vec();
    p.extend(more.iter().map(|s| key(s)));
    p
}

/// `base[i]`.
pub(crate) fn index(base: &[Seg], i: usize) -> Vec<Seg> {
    let mut p = base.to_vec();
    p.push(Seg::Index(i));
    p
}

/// Records a problem at one path.
pub(crate) fn problem(pending: &mut Vec<Pending>, at: Vec<Seg>, message: String) {
    pending.push(Pending { paths: vec![at], anchor: None, message });
}

/// Where the problems come from, to give each one an origin.
pub(crate) struct Context<'a> {
    pub source: &'a str,
    pub file: &'a str,
    /// The overrides applied, in order, each with whom to blame.
    pub changes: &'a [Change],
    /// Who to blame for a problem no override explains: the variant being built, if any.
    /// (The baseline built cleanly first, so the variant caused it.)
    pub fallback: Option<Origin>,
}

impl Context<'_> {
    fn origin(&self, p: &Pending) -> Origin {
        if let Some(c) = p.paths.iter().find_map(|path| related_change(self.changes, path)) {
            return c.origin.clone();
        }
        if let Some(o) = &self.fallback {
            return o.clone();
        }
        match locate(self.source, &p.paths[0], p.anchor.as_deref()) {
            Some(at) => {
                let (line, col) = line_col(self.source, at);
                Origin::Source { file: self.file.to_string(), line, col }
            }
            None => Origin::File { file: self.file.to_string() },
        }
    }
}

/// Checks `spec` as a whole and builds the model configuration.
///
/// # Errors
/// [`ScenarioError::Invalid`] with every problem found.
pub(crate) fn build(spec: &ScenarioSpec, ctx: &Context<'_>) -> Result<Built, ScenarioError> {
    let mut pending = Vec::new();
    let flags = collect_flags(spec, &mut pending);
    let services = build_services(spec, &flags, &mut pending);
    check_cycles(spec, &services, &mut pending);
    let clients = build_clients(spec, &services, &flags, &mut pending);
    let faults = build_faults(spec, &mut pending);
    let deploys = build_deploys(spec, &services, &mut pending);
    let invariants = crate::checks::build_invariants(spec, &faults, &deploys, &mut pending);
    let explore = crate::checks::build_explore(spec);
    if !pending.is_empty() {
        let problems = pending
            .iter()
            .map(|p| Problem {
                origin: ctx.origin(p),
                path: path_string(&p.paths[0]),
                message: p.message.clone(),
            })
            .collect();
        return Err(ScenarioError::Invalid { problems });
    }
    assert_eq!(services.len(), spec.services.0.len(), "service ids follow file order");
    assert_eq!(clients.len(), spec.clients.0.len(), "client ids follow file order");
    assert_eq!(faults.len(), spec.faults.len(), "faults follow file order");
    assert_eq!(deploys.len(), spec.deploys.len(), "deploys follow file order");
    let duration = SimDuration::from_nanos(spec.duration.0.ns);
    assert!(duration.as_nanos() > 0, "a zero duration passed the field check");
    let bucket_width = bucket_width(duration, spec.timeseries.bucket.0.ns, spec.timeseries.max_buckets.0);
    let max_in_flight =
        u32::try_from(spec.limits.max_in_flight.0).expect("max_in_flight is bounded by u32::MAX when read");
    let config = ModelConfig {
        seed: spec.seed.0,
        duration,
        bucket_width,
        limits: Limits { max_events: spec.limits.max_events.0, max_in_flight },
        services,
        clients,
        faults,
        deploys,
        flags,
        warmup: spec.warmup.as_ref().map(WarmupSpec::to_model),
    };
    Ok(Built { config, invariants, explore })
}

/// What a scenario file builds into: the model, and what checks assert and explore.
pub(crate) struct Built {
    pub config: ModelConfig,
    pub invariants: Vec<squall_explore::Invariant>,
    pub explore: Vec<squall_explore::Axis>,
}

/// The effective bucket width: at least `bucket_ns`, wide enough that `duration` needs at
/// most `max_buckets` buckets, rounded up to a whole millisecond.
pub(crate) fn bucket_width(duration: SimDuration, bucket_ns: u64, max_buckets: u64) -> SimDuration {
    assert!(max_buckets > 0, "max_buckets is at least 1 when read");
    let needed_ns = duration.as_nanos().div_ceil(max_buckets);
    let width_ns = bucket_ns.max(needed_ns).max(1);
    let width_ms = width_ns.div_ceil(NS_PER_MS);
    SimDuration::from_nanos(width_ms.saturating_mul(NS_PER_MS))
}

fn u32_of(n: u64, what: &str) -> u32 {
    u32::try_from(n).unwrap_or_else(|_| panic!("{what} {n} passed a u32 bound check"))
}

fn id_of(index: usize) -> u32 {
    // A 10 MiB file cannot hold 2^32 entities.
    u32::try_from(index).expect("fewer than 2^32 entities in a 10 MiB file")
}

fn duration_of(d: &Dur) -> SimDuration {
    SimDuration::from_nanos(d.ns)
}

fn build_services(spec: &ScenarioSpec, flags: &[String], pending: &mut Vec<Pending>) -> Vec<ServiceConfig> {
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
            rate_limit: s.rate_limit.as_ref().map(rate_limit),
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
            queue: queue(&s.queue),
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

fn clock_skew(c: Option<&ClockSkewSpec>, at: &[Seg], pending: &mut Vec<Pending>) -> ClockSkew {
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

fn queue(q: &QueueSpec) -> QueueConfig {
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
fn build_endpoint(
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
fn build_step(spec: &ScenarioSpec, at: &[Seg], step: &StepSpec, pending: &mut Vec<Pending>) -> Option<Step> {
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
fn build_call(
    spec: &ScenarioSpec,
    at: &[Seg],
    call: &CallSpec,
    pending: &mut Vec<Pending>,
) -> Option<CallConfig> {
    let cache = call.cache.as_ref().map(|c| cache(c, &under(at, &["cache"]), pending));
    let (service, endpoint) = resolve(spec, &call.service, &call.endpoint, at, pending)?;
    Some(CallConfig { service, endpoint, timeout: call.timeout.as_ref().map(|t| duration_of(&t.0)), cache })
}

fn cache(c: &CacheSpec, at: &[Seg], pending: &mut Vec<Pending>) -> CacheConfig {
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
fn called_names(ep: &EndpointSpec) -> Vec<&str> {
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

fn build_dependencies(
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

fn dependency(
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
fn call_policy(p: PolicyFields<'_>, at: &[Seg], pending: &mut Vec<Pending>) -> CallPolicy {
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

fn retry(r: &RetrySpec, at: &[Seg], pending: &mut Vec<Pending>) -> RetryPolicy {
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

fn backoff(b: &BackoffSpec, at: &[Seg], pending: &mut Vec<Pending>) -> Backoff {
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

fn budget(b: &BudgetSpec) -> RetryBudgetConfig {
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

fn breaker(b: &BreakerSpec) -> BreakerPolicy {
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

fn hedge(h: &HedgeSpec) -> HedgePolicy {
    HedgePolicy {
        max_attempts: u32_of(h.max_attempts.0, "max_attempts"),
        hedging_delay: duration_of(&h.hedging_delay),
        non_fatal: h.non_fatal.0.iter().map(|o| o.0.outcome()).collect(),
    }
}

fn pool(p: &PoolSpec, at: &[Seg], pending: &mut Vec<Pending>) -> PoolConfig {
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

fn rate_limit(r: &RateLimitSpec) -> RateLimitConfig {
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
fn check_limits(
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

fn concurrency_limit(
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
fn shedding(sh: &SheddingSpec, at: &[Seg], pending: &mut Vec<Pending>) -> Option<SheddingConfig> {
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
fn class_values<T>(c: &ClassesSpec<T>, f: impl Fn(&T) -> (u64, String)) -> [(u64, String); 4] {
    [f(&c.critical_plus), f(&c.critical), f(&c.sheddable_plus), f(&c.sheddable)]
}

/// Resolves a `(service, endpoint)` reference made at `at`, or records why it does not.
fn resolve(
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
fn check_cycles(spec: &ScenarioSpec, services: &[ServiceConfig], pending: &mut Vec<Pending>) {
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

fn cycle_problem(spec: &ScenarioSpec, cycle: &[usize], names: &[(String, String)]) -> Pending {
    let mut chain: Vec<String> = cycle.iter().map(|&n| format!("{}.{}", names[n].0, names[n].1)).collect();
    chain.push(chain[0].clone());
    let paths = cycle.iter().map(|&n| calls_path(spec, &names[n].0, &names[n].1)).collect();
    Pending { paths, anchor: None, message: format!("call cycle {}", chain.join(" -> ")) }
}

/// The field that holds an endpoint's calls (`steps` in the general form, else `calls`), in
/// the first definition of the endpoint that makes calls: the service's own, or a version's.
fn calls_path(spec: &ScenarioSpec, service: &str, endpoint: &str) -> Vec<Seg> {
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

fn build_clients(
    spec: &ScenarioSpec,
    services: &[ServiceConfig],
    flags: &[String],
    pending: &mut Vec<Pending>,
) -> Vec<ClientConfig> {
    if spec.clients.0.is_empty() {
        problem(pending, path(&["clients"]), "at least one client group is needed".to_string());
    }
    let mut clients = Vec::with_capacity(spec.clients.0.len());
    for (name, c) in &spec.clients.0 {
        let at = path(&["clients", name]);
        let (target, flow) = match (&c.target, &c.flow) {
            (Some(t), None) => {
                (resolve(spec, &t.service, &t.endpoint, &under(&at, &["target"]), pending), None)
            }
            (None, Some(steps)) => {
                let flow = build_flow(spec, services, steps, &under(&at, &["flow"]), flags, pending);
                let first = flow.as_ref().map(|f| (f.steps[0].service, f.steps[0].endpoint));
                (first, flow)
            }
            (Some(_), Some(_)) => {
                pending.push(Pending {
                    paths: vec![under(&at, &["flow"]), under(&at, &["target"])],
                    anchor: None,
                    message: "give either `target` (one request per arrival) or `flow` (a multi-step user \
                              flow), not both"
                        .to_string(),
                });
                (None, None)
            }
            (None, None) => {
                problem(
                    pending,
                    at.clone(),
                    "missing `target`: a client group needs a `target`, or a `flow` of steps".to_string(),
                );
                (None, None)
            }
        };
        let load = match &c.arrivals {
            ArrivalsSpec::Poisson { rate } => open(ArrivalProcess::Poisson, rate.0, &c.schedule.0),
            ArrivalsSpec::Constant { rate } => open(ArrivalProcess::Constant, rate.0, &c.schedule.0),
            ArrivalsSpec::Closed { users, think } => {
                if !c.schedule.0.is_empty() {
                    pending.push(Pending {
                        paths: vec![
                            path(&["clients", name, "schedule"]),
                            path(&["clients", name, "arrivals"]),
                        ],
                        anchor: None,
                        message: "a schedule changes the rate of open-loop arrivals (Poisson or Constant); \
                                  Closed arrivals have no rate to change"
                            .to_string(),
                    });
                }
                Load::Closed { users: u32_of(users.0, "users"), think: think.dist.clone() }
            }
        };
        if c.propagate_deadline.is_some() {
            problem(
                pending,
                path(&["clients", name, "propagate_deadline"]),
                "a client group has no caller, so it has no deadline to pass on; give it a `timeout`, \
                 and `propagate_deadline` to the `dependencies` of the services it calls"
                    .to_string(),
            );
        }
        if let Some(FallbackSpec::Failover { .. }) = &c.fallback {
            problem(
                pending,
                path(&["clients", name, "fallback"]),
                "a client group has one target and no caller to fail over for it; give `Failover` to \
                 the `dependencies` of the service that calls the provider"
                    .to_string(),
            );
        }
        let policy = call_policy(c.policy(), &path(&["clients", name]), pending);
        // An unresolved client is left out; the problem recorded for it fails the build.
        if let Some((service, endpoint)) = target {
            clients.push(ClientConfig {
                name: name.clone(),
                service,
                endpoint,
                load,
                policy,
                criticality: match c.criticality {
                    CriticalitySpec::CriticalPlus => Criticality::CriticalPlus,
                    CriticalitySpec::Critical => Criticality::Critical,
                    CriticalitySpec::SheddablePlus => Criticality::SheddablePlus,
                    CriticalitySpec::Sheddable => Criticality::Sheddable,
                },
                flow,
            });
        }
    }
    clients
}

fn build_faults(spec: &ScenarioSpec, pending: &mut Vec<Pending>) -> Vec<FaultConfig> {
    let mut faults = Vec::with_capacity(spec.faults.len());
    // Name -> index of the first fault with it.
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for (i, f) in spec.faults.iter().enumerate() {
        let at = index(&[key("faults")], i);
        let name = match &f.name {
            Some(n) => n.0.clone(),
            None => format!("{} {}", f.what.label(), f.service),
        };
        if let Some(first) = names.get(&name) {
            let at = if f.name.is_some() { under(&at, &["name"]) } else { at.clone() };
            problem(
                pending,
                at,
                format!("the name `{name}` is also used by faults[{first}]; give each fault its own `name`"),
            );
        } else {
            names.insert(name.clone(), i);
        }
        let Some((s_index, _, s)) = spec.services.0.get_full(&f.service) else {
            let known: Vec<&str> = spec.services.0.keys().map(String::as_str).collect();
            pending.push(Pending {
                paths: vec![under(&at, &["service"])],
                anchor: Some(f.service.clone()),
                message: unknown_name("service", &f.service, &known),
            });
            continue;
        };
        let kind = match &f.what {
            FaultKindSpec::Slow { factor } => FaultKind::Slow { factor: factor.0 },
            FaultKindSpec::Down => FaultKind::Down,
            FaultKindSpec::Fail { fraction, outcome } => {
                FaultKind::Fail { fraction: fraction.0, outcome: outcome.0.outcome() }
            }
            FaultKindSpec::Crash => FaultKind::Crash,
            FaultKindSpec::FlushCache => {
                if !all_endpoint_specs(s).any(|e| e.cache.is_some()) {
                    problem(
                        pending,
                        under(&at, &["what"]),
                        format!("FlushCache empties the caches in front of `{}`'s endpoints, but none has a `cache`", f.service),
                    );
                }
                FaultKind::FlushCache
            }
        };
        let start = f.at.ns;
        let Some(end) = start.checked_add(f.lasting.0.ns) else {
            problem(
                pending,
                under(&at, &["for"]),
                format!(
                    "the fault would end past the largest time that can be simulated (about 584 years): at \"{}\" for \"{}\"",
                    f.at.text, f.lasting.0.text
                ),
            );
            continue;
        };
        faults.push(FaultConfig {
            name,
            service: ServiceId(id_of(s_index)),
            share: f.share.0,
            start: SimTime(start),
            end: SimTime(end),
            kind,
        });
    }
    faults
}

/// Most flags a scenario may name: each is a bit of an answer.
pub(crate) const N_FLAGS_MAX: usize = 64;

/// Every flag the endpoints name, in first-appearance order: services in file order, each
/// service's `endpoints`, then its versions' endpoints. Past [`N_FLAGS_MAX`] is an error.
fn collect_flags(spec: &ScenarioSpec, pending: &mut Vec<Pending>) -> Vec<String> {
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
fn registry(s: &ServiceSpec) -> IndexSet<&str> {
    let mut reg: IndexSet<&str> = s.endpoints.0.keys().map(String::as_str).collect();
    for v in s.versions.iter().flat_map(|vs| vs.0.values()) {
        reg.extend(v.endpoints.0.keys().map(String::as_str));
    }
    reg
}

/// Every endpoint definition of a service: its own, then its versions'.
fn all_endpoint_specs(s: &ServiceSpec) -> impl Iterator<Item = &EndpointSpec> {
    s.endpoints
        .0
        .values()
        .chain(s.versions.iter().flat_map(|vs| vs.0.values()).flat_map(|v| v.endpoints.0.values()))
}

/// The versions of service `name`, each its service's `endpoints` with its own added or
/// replaced and its removals taken out. Endpoints that only versions define are appended to
/// `endpoints` (the registry), with the definition of the first version that has them.
fn build_versions(
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

fn lifecycle(l: &LifecycleSpec, at: &[Seg], pending: &mut Vec<Pending>) -> Lifecycle {
    if l.warmup_factor.0 > 1.0 && l.warmup.ns == 0 {
        problem(
            pending,
            under(at, &["warmup_factor"]),
            format!(
                "warmup_factor ({}) has no effect with a warmup of \"{}\": work would be at normal speed at once; \
                 give a warmup",
                l.warmup_factor.0, l.warmup.text
            ),
        );
    }
    let r = &l.restart;
    if r.max.0.ns < r.initial.0.ns {
        problem(
            pending,
            under(at, &["restart", "max"]),
            format!(
                "max (\"{}\") must not be below initial (\"{}\"): every delay is at most max",
                r.max.0.text, r.initial.0.text
            ),
        );
    }
    Lifecycle {
        startup: l.startup.dist.clone(),
        warmup: duration_of(&l.warmup),
        warmup_factor: l.warmup_factor.0,
        pre_stop: duration_of(&l.pre_stop),
        grace_period: duration_of(&l.grace_period),
        restart: RestartBackoff {
            initial: duration_of(&r.initial.0),
            max: duration_of(&r.max.0),
            reset_after: duration_of(&r.reset_after.0),
        },
    }
}

fn probes(spec: &ScenarioSpec, p: &ProbesSpec, at: &[Seg], pending: &mut Vec<Pending>) -> Probes {
    let mut one = |kind: &str, probe_spec: &Option<ProbeSpec>| {
        probe_spec.as_ref().and_then(|ps| probe(spec, kind, ps, &under(at, &[kind]), pending))
    };
    Probes {
        liveness: one("liveness", &p.liveness),
        readiness: one("readiness", &p.readiness),
        startup: one("startup", &p.startup),
    }
}

/// One probe; `None` when its dependency does not resolve.
fn probe(
    spec: &ScenarioSpec,
    kind: &str,
    p: &ProbeSpec,
    at: &[Seg],
    pending: &mut Vec<Pending>,
) -> Option<squall_model::ProbeSpec> {
    if kind != "readiness" && p.success_threshold.0 != 1 {
        problem(
            pending,
            under(at, &["success_threshold"]),
            format!(
                "must be 1 for a {kind} probe, as Kubernetes requires, got {}: only a readiness probe may \
                 wait for several successes",
                p.success_threshold.0
            ),
        );
    }
    let check = probe_check(spec, &p.check, at, pending)?;
    Some(squall_model::ProbeSpec {
        check,
        config: ProbeConfig {
            initial_delay_seconds: duration_of(&p.initial_delay),
            period_seconds: duration_of(&p.period.0),
            timeout_seconds: duration_of(&p.timeout.0),
            success_threshold: u32_of(p.success_threshold.0, "success_threshold"),
            failure_threshold: u32_of(p.failure_threshold.0, "failure_threshold"),
        },
    })
}

/// A client's flow; `at` is `clients.NAME.flow`. `None` when a step does not resolve.
fn build_flow(
    spec: &ScenarioSpec,
    services: &[ServiceConfig],
    steps: &[FlowStepSpec],
    at: &[Seg],
    flags: &[String],
    pending: &mut Vec<Pending>,
) -> Option<FlowConfig> {
    if steps.is_empty() {
        problem(pending, at.to_vec(), "a flow needs at least one step".to_string());
        return None;
    }
    let mut out = Vec::with_capacity(steps.len());
    // Each step's target, once resolved, to check that the flags conditions name can be set.
    let mut targets: Vec<Option<(ServiceId, EndpointId)>> = Vec::with_capacity(steps.len());
    for (i, st) in steps.iter().enumerate() {
        let s_at = index(at, i);
        if let Err(e) = crate::spec::check_name(&st.name) {
            problem(pending, under(&s_at, &["name"]), e);
        } else if let Some(j) = steps[..i].iter().position(|o| o.name == st.name) {
            problem(
                pending,
                under(&s_at, &["name"]),
                format!("the step name `{}` is also used by flow[{j}]; give each step its own name", st.name),
            );
        }
        let target =
            resolve(spec, &st.target.service, &st.target.endpoint, &under(&s_at, &["target"]), pending);
        let when = match &st.when {
            WhenSpec::Always => Some(FlowCondition::Always),
            WhenSpec::ServedBy { step, version } | WhenSpec::NotServedBy { step, version } => {
                let (variant, is) = match &st.when {
                    WhenSpec::ServedBy { .. } => ("ServedBy", true),
                    _ => ("NotServedBy", false),
                };
                let w_at = under(&s_at, &["when", variant]);
                let step_index = earlier_step(steps, i, step, &w_at, pending);
                let version_index = step_index.and_then(|j| targets[j]).and_then(|(service, _)| {
                    let s = &services[service.0 as usize];
                    let names: Vec<&str> = (0..s.n_versions()).map(|v| s.version_name(v)).collect();
                    let found = names.iter().position(|n| n == version);
                    if found.is_none() {
                        pending.push(Pending {
                            paths: vec![under(&w_at, &["version"])],
                            anchor: Some(version.clone()),
                            message: unknown_name_in(
                                "version",
                                version,
                                &format!(" of service `{}`", s.name),
                                &names,
                            ),
                        });
                    }
                    found
                });
                match (step_index, version_index) {
                    (Some(step), Some(version)) => {
                        Some(FlowCondition::ServedBy { step: id_of(step), version: id_of(version), is })
                    }
                    _ => None,
                }
            }
            WhenSpec::Flag { step, flag } | WhenSpec::NotFlag { step, flag } => {
                let (variant, set) = match &st.when {
                    WhenSpec::Flag { .. } => ("Flag", true),
                    _ => ("NotFlag", false),
                };
                let w_at = under(&s_at, &["when", variant]);
                let step_index = earlier_step(steps, i, step, &w_at, pending);
                let flag_index = flags.iter().position(|f| f == flag);
                if flag_index.is_none() {
                    let known: Vec<&str> = flags.iter().map(String::as_str).collect();
                    let message = if known.is_empty() {
                        format!(
                            "unknown flag `{flag}`: no endpoint sets any flag (see an endpoint's `flags`)"
                        )
                    } else {
                        unknown_name("flag", flag, &known)
                    };
                    pending.push(Pending {
                        paths: vec![under(&w_at, &["flag"])],
                        anchor: Some(flag.clone()),
                        message,
                    });
                }
                if let (Some(j), Some(f)) = (step_index, flag_index) {
                    if let Some((service, endpoint)) = targets[j] {
                        let s = &services[service.0 as usize];
                        let e = endpoint.0 as usize;
                        let sets = (0..s.n_versions())
                            .filter_map(|v| s.version_endpoint(v, e))
                            .any(|ep| ep.flags & (1u64 << f) != 0);
                        if !sets {
                            let (target, what) =
                                (&steps[j].target, if set { "never hold" } else { "always hold" });
                            pending.push(Pending {
                                paths: vec![under(&w_at, &["flag"])],
                                anchor: Some(flag.clone()),
                                message: format!(
                                    "no version of `{}.{}`, which step `{step}` calls, sets `{flag}`, so this \
                                     condition would {what}",
                                    target.service, target.endpoint
                                ),
                            });
                        }
                    }
                }
                match (step_index, flag_index) {
                    (Some(step), Some(flag)) => {
                        Some(FlowCondition::Flag { step: id_of(step), flag: id_of(flag), set })
                    }
                    _ => None,
                }
            }
        };
        targets.push(target);
        if let (Some((service, endpoint)), Some(when)) = (target, when) {
            out.push(FlowStep {
                name: st.name.clone(),
                service,
                endpoint,
                delay: st.delay.dist.clone(),
                when,
            });
        }
    }
    (out.len() == steps.len()).then_some(FlowConfig { steps: out })
}

/// The index of the earlier step a condition of step `i` names, or a located problem.
fn earlier_step(
    steps: &[FlowStepSpec],
    i: usize,
    step: &str,
    w_at: &[Seg],
    pending: &mut Vec<Pending>,
) -> Option<usize> {
    let earlier: Vec<&str> = steps[..i].iter().map(|o| o.name.as_str()).collect();
    let found = earlier.iter().position(|n| *n == step);
    if found.is_none() {
        let message = match steps[i..].iter().position(|o| o.name == step) {
            Some(0) => format!("a step cannot depend on itself: `{step}` is this step"),
            Some(k) => {
                format!(
                    "a condition may only name an earlier step, but `{step}` is flow[{}], after this one",
                    i + k
                )
            }
            None if earlier.is_empty() => {
                format!("unknown step `{step}`: the first step has no earlier step to depend on")
            }
            None => unknown_name("step", step, &earlier),
        };
        pending.push(Pending {
            paths: vec![under(w_at, &["step"])],
            anchor: Some(step.to_string()),
            message,
        });
    }
    found
}

/// What a probe or a health check checks; `None` when its dependency does not resolve.
fn probe_check(
    spec: &ScenarioSpec,
    c: &ProbeCheckSpec,
    at: &[Seg],
    pending: &mut Vec<Pending>,
) -> Option<ProbeCheck> {
    Some(match c {
        ProbeCheckSpec::Process => ProbeCheck::Process,
        ProbeCheckSpec::Dependency { service, endpoint } => {
            let (service, endpoint) =
                resolve(spec, service, endpoint, &under(at, &["check", "Dependency"]), pending)?;
            ProbeCheck::Dependency { service, endpoint }
        }
        ProbeCheckSpec::QueueBelow(n) => ProbeCheck::QueueBelow(u32_of(n.0, "QueueBelow")),
    })
}

fn int_or_percent(v: IntOrPercentSpec) -> IntOrPercent {
    match v {
        IntOrPercentSpec::Int(n) => IntOrPercent::Int(n),
        IntOrPercentSpec::Percent(p) => IntOrPercent::Percent(p),
    }
}

fn build_deploys(
    spec: &ScenarioSpec,
    services: &[ServiceConfig],
    pending: &mut Vec<Pending>,
) -> Vec<DeployConfig> {
    let names: Vec<&str> = spec.deploys.iter().map(|d| d.name.0.as_str()).collect();
    let mut out = Vec::with_capacity(spec.deploys.len());
    // Index of the deploy each one waits for, to find cycles once every name is known.
    let mut waits_for: Vec<Option<usize>> = vec![None; spec.deploys.len()];
    for (i, d) in spec.deploys.iter().enumerate() {
        let at = index(&[key("deploys")], i);
        if let Some(first) = names[..i].iter().position(|n| *n == d.name.0) {
            problem(
                pending,
                under(&at, &["name"]),
                format!(
                    "the name `{}` is also used by deploys[{first}]; give each deploy its own `name`",
                    d.name.0
                ),
            );
        }
        let service = match spec.services.0.get_index_of(&d.service) {
            Some(s_index) => Some(s_index),
            None => {
                let known: Vec<&str> = spec.services.0.keys().map(String::as_str).collect();
                pending.push(Pending {
                    paths: vec![under(&at, &["service"])],
                    anchor: Some(d.service.clone()),
                    message: unknown_name("service", &d.service, &known),
                });
                None
            }
        };
        let version = service.and_then(|s_index| {
            let s = &services[s_index];
            let known: Vec<&str> = (0..s.n_versions()).map(|v| s.version_name(v)).collect();
            let found = known.iter().position(|v| *v == d.version);
            if found.is_none() {
                let owner = format!(" of service `{}`", d.service);
                let mut message = unknown_name_in("version", &d.version, &owner, &known);
                if s.versions.is_empty() {
                    message.push_str(" (a service without `versions` has one, `v1`)");
                }
                pending.push(Pending {
                    paths: vec![under(&at, &["version"])],
                    anchor: Some(d.version.clone()),
                    message,
                });
            }
            found
        });
        let trigger = match (&d.at, &d.after) {
            (Some(t), None) => {
                if d.delay.is_some() {
                    pending.push(Pending {
                        paths: vec![under(&at, &["delay"]), under(&at, &["at"])],
                        anchor: None,
                        message:
                            "`delay` counts from the end of the deploy named in `after`; with `at`, give the \
                                  start time itself"
                                .to_string(),
                    });
                }
                Some(DeployTrigger::At(SimTime(t.ns)))
            }
            (None, Some(after)) => match names.iter().position(|n| n == after) {
                Some(j) if j == i => {
                    pending.push(Pending {
                        paths: vec![under(&at, &["after"])],
                        anchor: Some(after.clone()),
                        message: format!("a deploy cannot wait for itself: `{after}` is this deploy"),
                    });
                    None
                }
                Some(j) => {
                    waits_for[i] = Some(j);
                    let delay = d.delay.as_ref().map_or(SimDuration::ZERO, duration_of);
                    Some(DeployTrigger::After { deploy: id_of(j), delay })
                }
                None => {
                    pending.push(Pending {
                        paths: vec![under(&at, &["after"])],
                        anchor: Some(after.clone()),
                        message: unknown_name("deploy", after, &names),
                    });
                    None
                }
            },
            (Some(_), Some(_)) => {
                pending.push(Pending {
                    paths: vec![under(&at, &["after"]), under(&at, &["at"])],
                    anchor: None,
                    message: "give either `at` (a time) or `after` (the deploy this one follows), not both"
                        .to_string(),
                });
                None
            }
            (None, None) => {
                problem(
                    pending,
                    at.clone(),
                    "missing `at`: give the time the deploy starts, or `after` with the deploy it follows"
                        .to_string(),
                );
                None
            }
        };
        let strategy = deploy_strategy(&d.strategy, &under(&at, &["strategy"]), pending);
        if let (Some(s_index), Some(version), Some(trigger), Some(strategy)) =
            (service, version, trigger, strategy)
        {
            out.push(DeployConfig {
                name: d.name.0.clone(),
                service: ServiceId(id_of(s_index)),
                version: id_of(version),
                trigger,
                strategy,
            });
        }
    }
    deploy_cycles(spec, &waits_for, pending);
    out
}

/// Reports each cycle of `after` once, at its first deploy in file order. Each deploy waits
/// for at most one other, so following the chain from each deploy finds every cycle.
fn deploy_cycles(spec: &ScenarioSpec, waits_for: &[Option<usize>], pending: &mut Vec<Pending>) {
    let mut reported: BTreeSet<usize> = BTreeSet::new();
    for start in 0..waits_for.len() {
        let mut chain = vec![start];
        let mut cur = start;
        while let Some(next) = waits_for[cur] {
            if let Some(pos) = chain.iter().position(|&c| c == next) {
                let cycle = &chain[pos..];
                let first = *cycle.iter().min().expect("a cycle has members");
                if first == start && !reported.contains(&first) {
                    reported.extend(cycle.iter().copied());
                    let rotate = cycle.iter().position(|&c| c == first).expect("first is in the cycle");
                    let mut names: Vec<&str> = cycle[rotate..]
                        .iter()
                        .chain(&cycle[..rotate])
                        .map(|&c| spec.deploys[c].name.0.as_str())
                        .collect();
                    names.push(names[0]);
                    pending.push(Pending {
                        paths: vec![index(&[key("deploys")], first)
                            .into_iter()
                            .chain([key("after")])
                            .collect()],
                        anchor: None,
                        message: format!(
                            "`after` forms a cycle: {}; none of these deploys would ever start",
                            names.join(" -> ")
                        ),
                    });
                }
                break;
            }
            chain.push(next);
            cur = next;
        }
    }
}

fn deploy_strategy(s: &StrategySpec, at: &[Seg], pending: &mut Vec<Pending>) -> Option<DeployStrategy> {
    match s {
        StrategySpec::Rolling { max_surge, max_unavailable, min_ready, progress_deadline } => {
            if max_surge.is_zero() && max_unavailable.is_zero() {
                pending.push(Pending {
                    paths: vec![
                        under(at, &["Rolling", "max_unavailable"]),
                        under(at, &["Rolling", "max_surge"]),
                    ],
                    anchor: None,
                    message:
                        "max_surge and max_unavailable cannot both be 0, as Kubernetes requires: the rollout \
                              could neither add an instance nor take one down"
                            .to_string(),
                });
                return None;
            }
            Some(DeployStrategy::Rolling(RollingParams {
                max_surge: int_or_percent(*max_surge),
                max_unavailable: int_or_percent(*max_unavailable),
                min_ready: duration_of(min_ready),
                progress_deadline: duration_of(&progress_deadline.0),
            }))
        }
        StrategySpec::Canary { steps, traffic_routing, analysis } => {
            let analysis =
                analysis.as_ref().map(|a| analysis_config(a, &under(at, &["Canary", "analysis"]), pending));
            Some(DeployStrategy::Canary(CanaryParams {
                steps: steps
                    .iter()
                    .map(|st| match st {
                        CanaryStepSpec::SetWeight(w) => CanaryStepConfig::SetWeight(u32_of(w.0, "SetWeight")),
                        CanaryStepSpec::Pause(d) => CanaryStepConfig::Pause(d.as_ref().map(duration_of)),
                    })
                    .collect(),
                traffic_routing: *traffic_routing,
                analysis,
            }))
        }
        StrategySpec::BlueGreen { auto_promotion, scale_down_delay, abort_scale_down_delay, analysis } => {
            Some(DeployStrategy::BlueGreen(BlueGreenParams {
                auto_promotion: duration_of(auto_promotion),
                scale_down_delay: duration_of(scale_down_delay),
                abort_scale_down_delay: duration_of(abort_scale_down_delay),
                analysis: analysis
                    .as_ref()
                    .map(|a| analysis_config(a, &under(at, &["BlueGreen", "analysis"]), pending)),
            }))
        }
    }
}

/// An analysis of the new version's answers; one that checks nothing is refused.
fn analysis_config(a: &AnalysisSpec, at: &[Seg], pending: &mut Vec<Pending>) -> AnalysisConfig {
    if a.max_error_rate.is_none() && a.max_p99.is_none() {
        problem(
            pending,
            at.to_vec(),
            "the analysis checks nothing, so it would never fail; give `max_error_rate`, `max_p99`, or both"
                .to_string(),
        );
    }
    AnalysisConfig {
        interval: duration_of(&a.interval.0),
        failure_limit: u32_of(a.failure_limit.0, "failure_limit"),
        max_error_rate: a.max_error_rate.map(|r| r.0),
        max_p99: a.max_p99.as_ref().map(|d| duration_of(&d.0)),
        min_samples: u32_of(a.min_samples.0, "min_samples"),
    }
}

/// Envoy outlier detection, field for field.
fn outlier_detection(o: &OutlierSpec) -> OutlierConfig {
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

/// The rate schedule: `(0, rate)`, then for each entry the current rate at its start and the
/// new rate at its end (the same instant for a step).
fn open(process: ArrivalProcess, rate: f64, schedule: &[ScheduleEntrySpec]) -> Load {
    let mut points = vec![(SimTime::ZERO, rate)];
    let mut current = rate;
    for step in schedule {
        let (start, end, next) = match step {
            ScheduleEntrySpec::Step { at, rate } => (at.ns, at.ns, rate.0),
            ScheduleEntrySpec::Ramp { start, end, rate } => (start.ns, end.ns, rate.0),
        };
        points.push((SimTime(start), current));
        points.push((SimTime(end), next));
        current = next;
    }
    debug_assert!(points.windows(2).all(|w| w[0].0 <= w[1].0), "schedule points sorted: {points:?}");
    Load::Open { process, rate: RateSchedule { points } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use squall_kernel::time::NS_PER_S;

    #[test]
    fn bucket_width_grows_to_bound_the_bucket_count_and_rounds_up_to_a_millisecond() {
        let s = |x: u64| SimDuration::from_secs(x);
        assert_eq!(bucket_width(s(600), NS_PER_S, 3600), s(1));
        assert_eq!(bucket_width(s(36_000), NS_PER_S, 3600), s(10));
        assert_eq!(bucket_width(s(7200), NS_PER_S / 2, 3600), s(2));
        assert_eq!(bucket_width(s(1), 1, 3600), SimDuration::from_millis(1));
        assert_eq!(bucket_width(s(10), NS_PER_S, 3), SimDuration::from_nanos(3_334 * NS_PER_MS));
        assert_eq!(bucket_width(SimDuration::MAX, 1, 1).as_nanos(), u64::MAX);
    }
}
