//! Unit and property tests of the engine.
use super::*;
use crate::config::*;
use squall_kernel::Dist;

/// One service, one client: the smallest world, with knobs for the tests below.
pub(crate) fn single(
    rate: f64,
    mean_ms: f64,
    replicas: u32,
    workers: u32,
    capacity: u32,
    shared: bool,
) -> ModelConfig {
    ModelConfig {
        seed: 1,
        duration: SimDuration::from_secs(2000),
        bucket_width: SimDuration::from_secs(10),
        limits: Limits::default(),
        services: vec![ServiceConfig::new(
            "s",
            replicas,
            workers,
            QueueConfig::fifo(capacity, shared),
            BalancerKind::RoundRobin,
            vec![EndpointConfig::work("e", Dist::exponential(mean_ms * 1e6).unwrap())],
        )],
        clients: vec![ClientConfig {
            name: "c".into(),
            service: ServiceId(0),
            endpoint: EndpointId(0),
            load: Load::Open { process: ArrivalProcess::Poisson, rate: RateSchedule::constant(rate) },
            policy: CallPolicy::default(),
            criticality: Criticality::default(),
            flow: None,
        }],
        faults: Vec::new(),
        deploys: Vec::new(),
        flags: Vec::new(),
        warmup: None,
    }
}

#[test]
fn mm1_mean_sojourn_is_close_to_theory() {
    // lambda = 80/s, mu = 100/s: W = 1/(mu - lambda) = 50 ms. 160k customers give a
    // standard error around 1.5 ms; this is a smoke test, tests/ holds the real ones.
    let out = run(&single(80.0, 10.0, 1, 1, 100_000, false));
    let s = &out.services[0];
    let w_ms = s.sojourn_ns_sum as f64 / s.completed as f64 / 1e6;
    assert!((w_ms - 50.0).abs() < 6.0, "mean sojourn {w_ms} ms");
    // Regression: histograms once clamped every value to their tiny initial range.
    let p50_ms = s.sojourn.value_at_quantile(0.5) as f64 / 1e6;
    assert!((p50_ms - 34.7).abs() < 5.0, "median sojourn {p50_ms} ms, expected ln 2 * 50 ms");
    assert_eq!(out.stop, StopReason::Completed);
    assert_eq!(out.conservation.issued, out.conservation.ended + out.conservation.in_flight);
}

/// A random small world: up to three services whose endpoints call only later services
/// (so the call graph has no cycle), each knob drawn from a small range.
fn arb_config() -> impl Strategy<Value = ModelConfig> {
    let service =
        (1u32..4, 1u32..4, 0u32..6, any::<bool>(), 0usize..4, 0.2f64..5.0, prop::option::of(1u64..40));
    (prop::collection::vec(service, 1..4), any::<u64>(), 10.0f64..400.0, prop::option::of(1u64..50), 0u8..3)
        .prop_map(|(svcs, seed, rate, client_timeout_ms, load_kind)| {
            let n = svcs.len();
            let balancers = [
                BalancerKind::RoundRobin,
                BalancerKind::Random,
                BalancerKind::LeastOutstanding,
                BalancerKind::PowerOfTwoChoices,
            ];
            let services = svcs
                .iter()
                .enumerate()
                .map(|(i, &(replicas, workers, capacity, shared, lb, mean_ms, call_timeout_ms))| {
                    let mut ep = EndpointConfig::work("e", Dist::exponential(mean_ms * 1e6).unwrap());
                    if i + 1 < n {
                        ep.steps.push(Step::Calls {
                            calls: vec![CallConfig {
                                service: ServiceId((i + 1) as u32),
                                endpoint: EndpointId(0),
                                timeout: call_timeout_ms.map(SimDuration::from_millis),
                                cache: None,
                            }],
                            need: 1,
                        });
                    }
                    ServiceConfig::new(
                        &format!("s{i}"),
                        replicas,
                        workers,
                        QueueConfig::fifo(capacity, shared),
                        balancers[lb],
                        vec![ep],
                    )
                })
                .collect();
            let load = match load_kind {
                0 => Load::Open { process: ArrivalProcess::Poisson, rate: RateSchedule::constant(rate) },
                1 => Load::Open {
                    process: ArrivalProcess::Constant,
                    rate: RateSchedule {
                        points: vec![
                            (SimTime::ZERO, rate),
                            (SimTime(1_000_000_000), 0.0),
                            (SimTime(1_500_000_000), rate * 2.0),
                        ],
                    },
                },
                _ => Load::Closed { users: (rate / 10.0) as u32 + 1, think: Dist::exponential(5e6).unwrap() },
            };
            ModelConfig {
                seed,
                duration: SimDuration::from_secs(3),
                bucket_width: SimDuration::from_millis(500),
                limits: Limits::default(),
                services,
                clients: vec![ClientConfig {
                    name: "c".into(),
                    service: ServiceId(0),
                    endpoint: EndpointId(0),
                    load,
                    policy: CallPolicy {
                        timeout: client_timeout_ms.map(SimDuration::from_millis),
                        ..CallPolicy::default()
                    },
                    criticality: Criticality::default(),
                    flow: None,
                }],
                faults: Vec::new(),
                deploys: Vec::new(),
                flags: Vec::new(),
                warmup: None,
            }
        })
}

/// Protections and faults drawn for one service of [`arb_graph`].
#[derive(Clone, Debug)]
struct Knobs {
    fan_out: u32,
    need: u32,
    blocking: bool,
    discipline: u8,
    codel: bool,
    drop_abandoned: bool,
    rate: Option<(f64, u32, bool)>,
    shed: Option<(bool, u64)>,
    limit: bool,
    bulkhead: u8,
    pool: Option<(u32, u32, u32)>,
    cache: Option<(f64, bool)>,
    fault: Option<(u8, u64, u64, f64)>,
}

fn arb_knobs() -> impl Strategy<Value = Knobs> {
    (
        (1u32..4, 1u32..4, any::<bool>(), 0u8..3, any::<bool>(), any::<bool>()),
        (
            prop::option::of((20.0f64..500.0, 1u32..20, any::<bool>())),
            prop::option::of((any::<bool>(), 1u64..30)),
            any::<bool>(),
            0u8..3,
            prop::option::of((1u32..6, 0u32..6, 1u32..40)),
            prop::option::of((0.0f64..1.0, any::<bool>())),
            prop::option::of((0u8..4, 0u64..2500, 1u64..1500, 0.1f64..1.0)),
        ),
    )
        .prop_map(|((fan_out, need, blocking, discipline, codel, drop_abandoned), rest)| {
            let (rate, shed, limit, bulkhead, pool, cache, fault) = rest;
            Knobs {
                fan_out,
                need: need.min(fan_out),
                blocking,
                discipline,
                codel,
                drop_abandoned,
                rate,
                shed,
                limit,
                bulkhead,
                pool,
                cache,
                fault,
            }
        })
}

/// A random world with the whole service graph: fan-out, non-blocking endpoints, queue
/// disciplines, admission control, bulkheads, pools, caches and faults.
pub(super) fn arb_graph() -> impl Strategy<Value = ModelConfig> {
    (arb_config(), prop::collection::vec(arb_knobs(), 3)).prop_map(|(mut cfg, knobs)| {
        let n = cfg.services.len();
        for (i, k) in knobs.iter().enumerate().take(n) {
            let svc = &mut cfg.services[i];
            let ep = &mut svc.endpoints[0];
            ep.blocking = k.blocking;
            if let Some(Step::Calls { calls, need }) = ep.steps.get_mut(1) {
                let c = calls[0].clone();
                *calls = vec![c; k.fan_out as usize];
                *need = k.need;
                if let Some((hit_ratio, cold_start)) = k.cache {
                    calls[0].cache = Some(CacheConfig {
                        hit_ratio,
                        hit_latency: Dist::constant(5e5).unwrap(),
                        warmup: SimDuration::from_secs(1),
                        cold_start,
                    });
                }
                let callee = calls[0].service;
                ep.steps.push(Step::Work(Dist::exponential(1e6).unwrap()));
                svc.dependencies.push(DependencyConfig {
                    service: callee,
                    policy: CallPolicy {
                        timeout: Some(SimDuration::from_millis(30)),
                        ..CallPolicy::default()
                    },
                    bulkhead: match k.bulkhead {
                        0 => None,
                        1 => Some(BulkheadConfig::Semaphore {
                            max_concurrent_calls: 3,
                            max_wait_duration: SimDuration::from_millis(5),
                        }),
                        _ => Some(BulkheadConfig::ThreadPool {
                            core_thread_pool_size: 1,
                            max_thread_pool_size: 3,
                            queue_capacity: 2,
                            keep_alive_duration: SimDuration::from_millis(20),
                        }),
                    },
                    pool: k.pool.map(|(size, idle, timeout_ms)| PoolConfig {
                        maximum_pool_size: size,
                        minimum_idle: idle.min(size),
                        connection_timeout: SimDuration::from_millis(u64::from(timeout_ms)),
                    }),
                });
                if k.pool.is_some() {
                    cfg.services[callee.index()].max_connections = Some(4);
                }
            }
            let svc = &mut cfg.services[i];
            svc.queue.discipline =
                [Discipline::Fifo, Discipline::Lifo, Discipline::AdaptiveLifo][k.discipline as usize];
            svc.queue.codel = k.codel.then(CodelConfig::default);
            svc.queue.drop_abandoned = k.drop_abandoned;
            svc.admission.rate_limit = k.rate.map(|(rate, burst, per_instance)| RateLimitConfig {
                bucket: TokenBucket::Continuous { rate, burst },
                per_instance,
            });
            svc.admission.shedding = k.shed.map(|(by_delay, at)| SheddingConfig {
                metric: if by_delay { ShedMetric::QueueDelay } else { ShedMetric::QueueLength },
                at: if by_delay { at * 1_000_000 } else { at },
                per_class: None,
                retry_after: SimDuration::from_secs(1),
            });
            if k.limit {
                svc.admission.concurrency_limit = Some(ConcurrencyLimitConfig::Aimd(AimdConfig {
                    initial_limit: 4,
                    min_limit: 2,
                    max_limit: 8,
                    backoff_ratio: 0.9,
                    timeout: SimDuration::from_millis(50),
                }));
            }
            if i == 0 {
                svc.endpoints[0].cache = k.cache.map(|(hit_ratio, cold_start)| CacheConfig {
                    hit_ratio,
                    hit_latency: Dist::constant(1e5).unwrap(),
                    warmup: SimDuration::from_millis(500),
                    cold_start,
                });
            }
            if let Some((kind, start_ms, len_ms, share)) = k.fault {
                cfg.faults.push(FaultConfig {
                    name: format!("f{i}"),
                    service: ServiceId(i as u32),
                    share,
                    start: SimTime(start_ms * 1_000_000),
                    end: SimTime((start_ms + len_ms) * 1_000_000),
                    kind: match kind {
                        0 => FaultKind::Slow { factor: 4.0 },
                        1 => FaultKind::Down,
                        2 => FaultKind::Fail { fraction: 0.5, outcome: Outcome::ServerError },
                        _ => FaultKind::FlushCache,
                    },
                });
            }
        }
        cfg
    })
}

/// A digest of everything a report would show, to compare runs.
pub(super) fn digest(out: &RunOutput) -> String {
    let mut s = format!("{:?} {} {:?}\n", out.stop, out.n_events, out.conservation);
    for c in &out.clients {
        s += &format!("{} {} {:?} {}\n", c.name, c.issued, c.outcomes, c.latency_all.mean());
    }
    for v in &out.services {
        s += &format!(
            "{} {} {} {} {} {} {}\n",
            v.name, v.arrivals, v.completed, v.rejected, v.busy_integral, v.queue_integral, v.wasted_work_ns
        );
    }
    s
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Conservation is asserted inside `finish`; here we also check that every request
    /// that ended is accounted for by outcome, that buckets add up to totals, and that the
    /// same seed gives the same run.
    #[test]
    fn random_worlds_conserve_requests_and_repeat_exactly(cfg in arb_config()) {
        let a = run(&cfg);
        let b = run(&cfg);
        prop_assert_eq!(digest(&a), digest(&b));
        let c = &a.clients[0];
        prop_assert_eq!(c.issued, a.conservation.issued);
        prop_assert_eq!(c.outcomes.total(), a.conservation.ended);
        let bucket_issued: u64 = c.series.iter().map(|b| b.issued).sum();
        prop_assert_eq!(bucket_issued, c.issued);
        let bucket_ended: u64 = c.series.iter().map(|b| b.outcomes.total()).sum();
        prop_assert_eq!(bucket_ended, c.outcomes.total());
        for s in &a.services {
            let busy: u128 = s.series.iter().map(|b| b.busy_integral).sum();
            prop_assert_eq!(busy, s.busy_integral);
            let queued: u128 = s.series.iter().map(|b| b.queue_integral).sum();
            prop_assert_eq!(queued, s.queue_integral);
            // Busy workers never exceed the workers there are.
            let cap = u128::from(s.workers) * u128::from(a.end.as_nanos());
            prop_assert!(s.busy_integral <= cap, "busy {} > capacity {}", s.busy_integral, cap);
        }
    }

    /// The same with fan-out, non-blocking endpoints, every protection and faults: requests
    /// are conserved (checked inside `finish`, and every 4096 events in tests), runs repeat
    /// exactly, and work is accounted for.
    #[test]
    fn random_graphs_with_protections_and_faults_conserve_requests(cfg in arb_graph()) {
        let a = run(&cfg);
        let b = run(&cfg);
        prop_assert_eq!(digest(&a), digest(&b));
        let c = &a.clients[0];
        prop_assert_eq!(c.outcomes.total(), a.conservation.ended);
        for s in &a.services {
            // Worker time of finished requests is useful or wasted, never more than was used.
            prop_assert!(s.useful_work_ns + s.wasted_work_ns <= s.busy_integral);
            prop_assert!(s.useful <= s.completed);
            let useful: u64 = s.series.iter().map(|b| b.useful).sum();
            prop_assert_eq!(useful, s.useful);
            prop_assert_eq!(s.refusals.total(), s.rejected);
        }
        for d in &a.dependencies {
            // Every call ended, or is still out.
            prop_assert!(d.outcomes.total() <= d.calls);
        }
    }
}

#[test]
fn a_timeout_answers_the_client_and_the_late_work_counts_as_wasted() {
    // Work takes 100 ms, the client waits 10 ms: every request times out, and all the work
    // done for them is wasted.
    let mut cfg = single(5.0, 100.0, 1, 1, 1000, false);
    cfg.services[0].endpoints[0].steps = vec![Step::Work(Dist::constant(100e6).unwrap())];
    cfg.clients[0].policy.timeout = Some(SimDuration::from_millis(10));
    cfg.duration = SimDuration::from_secs(100);
    let out = run(&cfg);
    let c = &out.clients[0];
    assert_eq!(c.outcomes.get(Outcome::Timeout), c.outcomes.total());
    assert!(c.outcomes.total() > 400, "{:?}", c.outcomes);
    let s = &out.services[0];
    assert_eq!(s.wasted_work_ns, u128::from(s.completed) * 100_000_000);
}

#[test]
fn a_full_queue_refuses_with_queue_full() {
    // Two requests per 100 ms of work, no queue: the loss system refuses many.
    let mut cfg = single(20.0, 100.0, 1, 1, 0, false);
    cfg.duration = SimDuration::from_secs(100);
    let out = run(&cfg);
    let c = &out.clients[0];
    assert!(c.outcomes.get(Outcome::QueueFull) > 0);
    assert_eq!(out.services[0].queue_max, 0);
    assert_eq!(
        c.outcomes.get(Outcome::Ok) + c.outcomes.get(Outcome::QueueFull) + out.conservation.in_flight,
        c.issued
    );
}

#[test]
fn a_failed_downstream_call_fails_the_caller_with_server_error() {
    let mut cfg = single(50.0, 1.0, 1, 4, 10, false);
    let mut db = cfg.services[0].clone();
    db.name = "db".into();
    db.queue = QueueConfig::fifo(0, false);
    db.workers = 1;
    db.endpoints[0].steps = vec![Step::Work(Dist::constant(50e6).unwrap())];
    cfg.services.push(db);
    cfg.services[0].endpoints[0].steps.push(Step::Calls {
        calls: vec![CallConfig {
            service: ServiceId(1),
            endpoint: EndpointId(0),
            timeout: None,
            cache: None,
        }],
        need: 1,
    });
    cfg.duration = SimDuration::from_secs(50);
    let out = run(&cfg);
    let c = &out.clients[0];
    assert_eq!(c.outcomes.get(Outcome::ServerError), out.services[1].rejected);
    assert!(c.outcomes.get(Outcome::ServerError) > 0);
    assert!(c.outcomes.get(Outcome::Ok) > 0);
}

#[test]
fn the_in_flight_limit_halts_a_runaway_run() {
    let mut cfg = single(1000.0, 100.0, 1, 1, 1_000_000, false);
    cfg.limits.max_in_flight = 500;
    let out = run(&cfg);
    assert!(matches!(&out.stop, StopReason::Halted { reason } if reason.contains("max_in_flight")));
    assert!(out.end < SimTime::ZERO + cfg.duration);
}

// Issue 18: 10 M requests a second piling up behind one slow worker (no in-flight limit
// to speak of) stop at the memory limit instead of growing until the process aborts.
#[test]
fn the_memory_limit_halts_a_run_whose_state_keeps_growing() {
    let mut cfg = single(1e7, 1000.0, 1, 1, u32::MAX, false);
    cfg.limits.max_in_flight = u32::MAX;
    cfg.limits.max_memory_bytes = 64 << 20;
    let mut r = Run::new(&cfg);
    while r.advance(SimTime::MAX).is_none() {}
    let footprint = r.footprint_max_bytes() as u64;
    let out = r.finish();
    assert!(
        matches!(&out.stop, StopReason::Halted { reason } if reason.contains("limits.max_memory (64.0 MiB)")),
        "{:?}",
        out.stop
    );
    assert!(out.end < SimTime::ZERO + SimDuration::from_secs(1), "{}", out.end);
    assert!(footprint > 64 << 20 && footprint < 128 << 20, "measured {footprint} bytes");
}

// Issue 18: a closed-loop population too large for the limit stops before its first event.
#[test]
fn the_memory_limit_halts_a_huge_closed_loop_population_at_the_start() {
    let mut cfg = single(1.0, 1.0, 1, 1, 1000, false);
    cfg.clients[0].load = Load::Closed { users: 2_000_000, think: Dist::exponential(1e9).unwrap() };
    cfg.limits.max_memory_bytes = 16 << 20;
    let out = run(&cfg);
    assert!(
        matches!(&out.stop, StopReason::Halted { reason } if reason.contains("limits.max_memory")),
        "{:?}",
        out.stop
    );
    assert_eq!(out.n_events, 0);
}

// Issue 18: a schedule that ramps toward 1e9 a second over 1,000 hours keeps its piece's
// bound at 1e9 while the rate is a few thousand a second: candidates rejected by thinning
// count toward the event limit, so the run stops there instead of crawling.
#[test]
fn rejected_arrival_candidates_count_toward_the_event_limit() {
    let mut cfg = single(1.0, 1.0, 1, 1, 1000, false);
    let hours = SimDuration::from_secs(3_600_000);
    cfg.clients[0].load = Load::Open {
        process: ArrivalProcess::Poisson,
        rate: RateSchedule { points: vec![(SimTime::ZERO, 0.0), (SimTime::ZERO + hours, 1e9)] },
    };
    cfg.duration = SimDuration::from_secs(10);
    cfg.limits.max_events = 1_000_000;
    let out = run(&cfg);
    assert_eq!(out.stop, StopReason::EventLimit { limit: 1_000_000 });
    assert!(out.n_events < 10_000, "{} events: most of the limit went to candidates", out.n_events);
}

#[test]
fn the_event_limit_stops_the_run_with_its_number() {
    let mut cfg = single(1000.0, 0.5, 1, 1, 100, false);
    cfg.limits.max_events = 10_000;
    let out = run(&cfg);
    assert_eq!(out.stop, StopReason::EventLimit { limit: 10_000 });
    assert_eq!(out.n_events, 10_000);
}

#[test]
fn state_does_not_grow_with_run_length() {
    let footprint = |secs| {
        let mut cfg = single(80.0, 10.0, 1, 1, 1000, false);
        cfg.duration = SimDuration::from_secs(secs);
        let mut r = Run::new(&cfg);
        let mut t = 0;
        loop {
            t += 10_000_000_000;
            if r.advance(SimTime(t)).is_some() {
                break;
            }
        }
        r.footprint_max_bytes()
    };
    let (short, long) = (footprint(1_000), footprint(10_000));
    assert!(long <= short * 2, "footprint grew from {short} to {long} bytes");
}

// ---- the service graph and its protections ----

pub(super) fn ms(x: u64) -> SimDuration {
    SimDuration::from_millis(x)
}

pub(super) fn constant_ms(x: f64) -> Dist {
    Dist::constant(x * 1e6).unwrap()
}

pub(super) fn call(service: u32) -> CallConfig {
    CallConfig { service: ServiceId(service), endpoint: EndpointId(0), timeout: None, cache: None }
}

/// A service with one endpoint doing `work` and nothing else.
pub(super) fn leaf(name: &str, replicas: u32, workers: u32, capacity: u32, work: Dist) -> ServiceConfig {
    ServiceConfig::new(
        name,
        replicas,
        workers,
        QueueConfig::fifo(capacity, false),
        BalancerKind::RoundRobin,
        vec![EndpointConfig::work("e", work)],
    )
}

/// A world of `services`, with one Poisson client calling service 0 at `rate`.
pub(super) fn world(services: Vec<ServiceConfig>, rate: f64, secs: u64) -> ModelConfig {
    ModelConfig {
        seed: 3,
        duration: SimDuration::from_secs(secs),
        bucket_width: SimDuration::from_secs(1),
        limits: Limits::default(),
        services,
        clients: vec![ClientConfig {
            name: "c".into(),
            service: ServiceId(0),
            endpoint: EndpointId(0),
            load: Load::Open { process: ArrivalProcess::Poisson, rate: RateSchedule::constant(rate) },
            policy: CallPolicy::default(),
            criticality: Criticality::default(),
            flow: None,
        }],
        faults: Vec::new(),
        deploys: Vec::new(),
        flags: Vec::new(),
        warmup: None,
    }
}

fn ok_share(out: &RunOutput) -> f64 {
    let c = &out.clients[0];
    c.outcomes.get(Outcome::Ok) as f64 / c.outcomes.total() as f64
}

#[test]
fn fan_out_waits_for_all_or_for_the_first_k() {
    // The front calls three leaves that take 10, 20 and 30 ms, at once.
    let mut front = leaf("front", 1, 1000, 0, constant_ms(0.0));
    front.endpoints[0].steps = vec![Step::Calls { calls: vec![call(1), call(2), call(3)], need: 3 }];
    let leaves = [10.0, 20.0, 30.0].map(|w| leaf("leaf", 1, 1000, 0, constant_ms(w)));
    let mut services = vec![front];
    for (k, mut l) in leaves.into_iter().enumerate() {
        l.name = format!("leaf{k}");
        services.push(l);
    }
    let mut cfg = world(services, 100.0, 20);
    let all = run(&cfg);
    assert_eq!(ok_share(&all), 1.0);
    let p50 = all.clients[0].latency_ok.value_at_quantile(0.5);
    assert!((29_900_000..=30_100_000).contains(&p50), "all of three: {p50} ns");
    assert!(all.dependencies.iter().all(|d| d.outcomes.get(Outcome::Cancelled) == 0));

    let Step::Calls { need, .. } = &mut cfg.services[0].endpoints[0].steps[0] else { unreachable!() };
    *need = 1;
    let first = run(&cfg);
    assert_eq!(ok_share(&first), 1.0);
    let p50 = first.clients[0].latency_ok.value_at_quantile(0.5);
    assert!((9_900_000..=10_100_000).contains(&p50), "first of three: {p50} ns");
    // The two slower calls of every request were abandoned, and their work was wasted.
    let cancelled: u64 = first.dependencies.iter().map(|d| d.outcomes.get(Outcome::Cancelled)).sum();
    let issued = first.clients[0].issued;
    assert!(cancelled + 2 >= 2 * issued && cancelled <= 2 * issued, "{cancelled} of {issued}");
    assert_eq!(first.services[1].wasted_work_ns, 0);
    assert!(first.services[2].wasted_work_ns > 0 && first.services[3].wasted_work_ns > 0);
}

#[test]
fn a_failed_call_fails_the_step_as_soon_as_need_cannot_be_met() {
    // Two of three calls must succeed; the third leaf is down, so every request needs both
    // others, and fails only when one of them is refused too.
    let mut front = leaf("front", 1, 1000, 0, constant_ms(0.0));
    front.endpoints[0].steps = vec![Step::Calls { calls: vec![call(1), call(2), call(3)], need: 2 }];
    let a = leaf("a", 1, 1000, 0, constant_ms(5.0));
    let b = leaf("b", 1, 1000, 0, constant_ms(5.0));
    let dead = leaf("dead", 0, 1, 0, constant_ms(5.0));
    let out = run(&world(vec![front, a, b, dead], 100.0, 10));
    assert_eq!(ok_share(&out), 1.0);
    let mut cfg = world(
        vec![
            {
                let mut f = leaf("front", 1, 1000, 0, constant_ms(0.0));
                f.endpoints[0].steps = vec![Step::Calls { calls: vec![call(1), call(2)], need: 2 }];
                f
            },
            leaf("a", 1, 1000, 0, constant_ms(50.0)),
            leaf("dead", 0, 1, 0, constant_ms(5.0)),
        ],
        100.0,
        10,
    );
    let out = run(&cfg);
    // The refusal by `dead` ends each request at once: no waiting for the 50 ms call.
    assert_eq!(out.clients[0].outcomes.get(Outcome::ServerError), out.clients[0].issued);
    assert!(out.clients[0].latency_all.max() < 1_000_000);
    cfg.services[0].endpoints[0].steps = vec![Step::Calls { calls: vec![call(1), call(2)], need: 1 }];
    assert_eq!(ok_share(&run(&cfg)), 1.0);
}

#[test]
fn a_blocking_endpoint_holds_its_worker_while_an_event_loop_does_not() {
    let mut api = leaf("api", 1, 2, 10, constant_ms(1.0));
    api.endpoints[0].steps.push(Step::Calls { calls: vec![call(1)], need: 1 });
    let slow = leaf("slow", 1, 1000, 0, constant_ms(100.0));
    // 50 requests/s, each holding a worker for 101 ms: 5 workers' worth, but there are 2.
    let mut cfg = world(vec![api, slow], 50.0, 60);
    let blocking = run(&cfg);
    assert!(ok_share(&blocking) < 0.5, "blocking: {}", ok_share(&blocking));
    assert!(blocking.clients[0].outcomes.get(Outcome::QueueFull) > 0);
    cfg.services[0].endpoints[0].blocking = false;
    let event_loop = run(&cfg);
    assert_eq!(ok_share(&event_loop), 1.0);
    // It does the same work: two 0.5 ms... one 1 ms step per request, and no worker time
    // while waiting.
    let s = &event_loop.services[0];
    let per_request = (s.useful_work_ns as f64) / s.useful as f64;
    assert!((per_request - 1e6).abs() < 1.0, "worker time per request {per_request} ns");
}

#[test]
fn a_non_blocking_endpoint_needs_a_worker_again_after_its_calls() {
    let mut api = leaf("api", 1, 1, 1000, constant_ms(2.0));
    api.endpoints[0].blocking = false;
    api.endpoints[0].steps.push(Step::Calls { calls: vec![call(1)], need: 1 });
    api.endpoints[0].steps.push(Step::Work(constant_ms(3.0)));
    let out = run(&world(vec![api, leaf("db", 1, 1000, 0, constant_ms(10.0))], 20.0, 30));
    let s = &out.services[0];
    let per_request = s.useful_work_ns as f64 / s.useful as f64;
    assert!((per_request - 5e6).abs() < 1.0, "worker time per request {per_request} ns");
    let p50 = out.clients[0].latency_ok.value_at_quantile(0.5);
    assert!(p50 >= 15_000_000, "2 + 10 + 3 ms at least: {p50}");
}

/// An api with `workers` workers calling a slow dependency (service 1) and a fast one
/// (service 2) from two endpoints.
fn two_dependencies(workers: u32) -> ModelConfig {
    let mut api = ServiceConfig::new(
        "api",
        1,
        workers,
        QueueConfig::fifo(1000, false),
        BalancerKind::RoundRobin,
        vec![EndpointConfig::work("slow", constant_ms(1.0)), EndpointConfig::work("fast", constant_ms(1.0))],
    );
    api.endpoints[0].steps.push(Step::Calls { calls: vec![call(1)], need: 1 });
    api.endpoints[1].steps.push(Step::Calls { calls: vec![call(2)], need: 1 });
    // The slow endpoint alone wants 30/s x 2 s = 60 workers.
    let mut cfg = world(
        vec![
            api,
            leaf("third-party", 1, 1000, 0, constant_ms(2000.0)),
            leaf("db", 1, 100, 0, constant_ms(2.0)),
        ],
        30.0,
        60,
    );
    cfg.clients[0].policy.timeout = Some(SimDuration::from_secs(1));
    let mut fast = cfg.clients[0].clone();
    fast.name = "fast".into();
    fast.endpoint = EndpointId(1);
    fast.load = Load::Open { process: ArrivalProcess::Poisson, rate: RateSchedule::constant(100.0) };
    cfg.clients.push(fast);
    cfg
}

#[test]
fn a_semaphore_bulkhead_keeps_a_slow_dependency_from_taking_every_worker() {
    let mut cfg = two_dependencies(40);
    let shared = run(&cfg);
    let fast_ok = |o: &RunOutput| {
        let c = &o.clients[1];
        c.outcomes.get(Outcome::Ok) as f64 / c.outcomes.total() as f64
    };
    assert!(fast_ok(&shared) < 0.5, "without a bulkhead: {}", fast_ok(&shared));
    cfg.services[0].dependencies.push(DependencyConfig {
        service: ServiceId(1),
        policy: CallPolicy::default(),
        bulkhead: Some(BulkheadConfig::Semaphore {
            max_concurrent_calls: 10,
            max_wait_duration: SimDuration::ZERO,
        }),
        pool: None,
    });
    let isolated = run(&cfg);
    assert!(fast_ok(&isolated) > 0.99, "with a bulkhead: {}", fast_ok(&isolated));
    let d = isolated.dependencies.iter().find(|d| d.callee == "third-party").unwrap();
    assert!(d.outcomes.get(Outcome::BulkheadFull) > 0);
    // Never more than 10 calls at the third party: its time-average in system stays below.
    let tp = &isolated.services[1];
    assert!(tp.in_system_integral as f64 / isolated.end.as_nanos() as f64 <= 10.0);
}

#[test]
fn a_thread_pool_bulkhead_queues_then_grows_then_rejects() {
    let mut cfg = two_dependencies(40);
    cfg.services[0].dependencies.push(DependencyConfig {
        service: ServiceId(1),
        policy: CallPolicy::default(),
        bulkhead: Some(BulkheadConfig::ThreadPool {
            core_thread_pool_size: 4,
            max_thread_pool_size: 8,
            queue_capacity: 5,
            keep_alive_duration: ms(20),
        }),
        pool: None,
    });
    let out = run(&cfg);
    let d = out.dependencies.iter().find(|d| d.callee == "third-party").unwrap();
    assert!(d.waited > 0, "calls queued for a thread");
    assert!(d.outcomes.get(Outcome::BulkheadFull) > 0, "then were rejected");
    let tp = &out.services[1];
    assert!(tp.in_system_integral as f64 / out.end.as_nanos() as f64 <= 8.0);
    let c = &out.clients[1];
    assert!(c.outcomes.get(Outcome::Ok) as f64 / c.outcomes.total() as f64 > 0.99);
}

#[test]
fn pools_beyond_the_callee_connection_cap_starve_the_last_instances() {
    // Three app instances with pools of 10, a database capped at 20 connections: the first
    // two instances fill their pools at start, the third gets none and its calls time out.
    let mut app = leaf("app", 3, 100, 100, constant_ms(1.0));
    app.endpoints[0].steps.push(Step::Calls { calls: vec![call(1)], need: 1 });
    app.dependencies.push(DependencyConfig {
        service: ServiceId(1),
        policy: CallPolicy::default(),
        bulkhead: None,
        pool: Some(PoolConfig { maximum_pool_size: 10, minimum_idle: 10, connection_timeout: ms(500) }),
    });
    let mut db = leaf("db", 1, 100, 100, constant_ms(2.0));
    db.max_connections = Some(20);
    let out = run(&world(vec![app.clone(), db.clone()], 300.0, 30));
    let d = &out.dependencies[0];
    let timeouts = d.outcomes.get(Outcome::Timeout) as f64 / d.calls as f64;
    assert!((timeouts - 1.0 / 3.0).abs() < 0.03, "a third of the calls time out: {timeouts}");
    // The app answers those requests with an error.
    let c = &out.clients[0];
    assert_eq!(c.outcomes.get(Outcome::ServerError), d.outcomes.get(Outcome::Timeout));
    // Within the cap, every instance gets its connections.
    db.max_connections = Some(30);
    assert_eq!(ok_share(&run(&world(vec![app.clone(), db.clone()], 300.0, 30))), 1.0);
    // Lazily opened pools (minimum_idle 0) share the cap by demand instead.
    app.dependencies[0].pool.as_mut().unwrap().minimum_idle = 0;
    db.max_connections = Some(20);
    assert_eq!(ok_share(&run(&world(vec![app, db], 300.0, 30))), 1.0);
}

#[test]
fn a_token_bucket_grants_at_most_rate_times_time_plus_burst() {
    let mut s = leaf("s", 2, 100, 100, constant_ms(1.0));
    s.admission.rate_limit = Some(RateLimitConfig {
        bucket: TokenBucket::Continuous { rate: 100.0, burst: 10 },
        per_instance: false,
    });
    let out = run(&world(vec![s.clone()], 300.0, 60));
    let ok = out.clients[0].outcomes.get(Outcome::Ok);
    assert!(ok <= 100 * 60 + 10, "{ok} granted");
    assert!(ok >= 100 * 59, "{ok} granted");
    assert_eq!(
        out.services[0].refusals.get(Outcome::RateLimited),
        out.clients[0].outcomes.get(Outcome::RateLimited)
    );
    // Per instance, each of the two instances has its own bucket.
    s.admission.rate_limit.as_mut().unwrap().per_instance = true;
    let out = run(&world(vec![s], 300.0, 60));
    let ok = out.clients[0].outcomes.get(Outcome::Ok);
    assert!((2 * 100 * 59..=2 * (100 * 60 + 10)).contains(&ok), "{ok} granted");
}

#[test]
fn shedding_drops_the_least_critical_work_first() {
    let mut s = leaf("s", 1, 4, 1000, Dist::exponential(10e6).unwrap());
    s.admission.shedding = Some(SheddingConfig {
        metric: ShedMetric::QueueLength,
        at: 40,
        per_class: None,
        retry_after: SimDuration::from_secs(1),
    });
    // 600/s offered to a 400/s server: half critical, half sheddable.
    let mut cfg = world(vec![s], 300.0, 60);
    let mut batch = cfg.clients[0].clone();
    batch.name = "batch".into();
    batch.criticality = Criticality::Sheddable;
    cfg.clients.push(batch);
    let out = run(&cfg);
    let shed = |c: &ClientOutput| c.outcomes.get(Outcome::Shed) as f64 / c.outcomes.total() as f64;
    let (critical, sheddable) = (shed(&out.clients[0]), shed(&out.clients[1]));
    assert!(sheddable > 0.5, "sheddable shed {sheddable}");
    assert!(critical < 0.01, "critical shed {critical}");
    // The queue never grows past the critical threshold plus one.
    assert!(out.services[0].queue_max <= 40);
}

#[test]
fn lifo_serves_more_requests_in_time_than_fifo_under_overload() {
    let mut s = leaf("s", 1, 4, 400, Dist::exponential(10e6).unwrap());
    let mut cfg = world(vec![s.clone()], 480.0, 120);
    cfg.clients[0].policy.timeout = Some(ms(200));
    let fifo = run(&cfg);
    s.queue.discipline = Discipline::Lifo;
    cfg.services[0] = s.clone();
    let lifo = run(&cfg);
    assert!(ok_share(&lifo) > ok_share(&fifo) + 0.2, "lifo {} fifo {}", ok_share(&lifo), ok_share(&fifo));
    s.queue.discipline = Discipline::AdaptiveLifo;
    cfg.services[0] = s;
    let adaptive = run(&cfg);
    assert!(ok_share(&adaptive) > ok_share(&fifo) + 0.2, "adaptive {}", ok_share(&adaptive));
}

#[test]
fn codel_sheds_standing_queues_and_keeps_waits_short() {
    let mut s = leaf("s", 1, 4, 10_000, Dist::exponential(10e6).unwrap());
    s.queue.codel = Some(CodelConfig::default());
    let out = run(&world(vec![s], 480.0, 60));
    let svc = &out.services[0];
    assert!(out.clients[0].outcomes.get(Outcome::Shed) > 0);
    assert_eq!(svc.dropped, out.clients[0].outcomes.get(Outcome::Shed));
    // Served requests waited little: the queue does not stand.
    let p50_wait = svc.wait.value_at_quantile(0.5);
    assert!(p50_wait < 20_000_000, "median wait {p50_wait} ns");
}

#[test]
fn a_deadline_aware_server_drops_work_nobody_waits_for() {
    let mut s = leaf("s", 1, 4, 10_000, Dist::exponential(10e6).unwrap());
    let mut cfg = world(vec![s.clone()], 440.0, 60);
    cfg.clients[0].policy.timeout = Some(ms(100));
    let plain = run(&cfg);
    s.queue.drop_abandoned = true;
    cfg.services[0] = s;
    let aware = run(&cfg);
    assert!(aware.services[0].dropped > 0);
    assert!(aware.services[0].wasted_work_ns < plain.services[0].wasted_work_ns / 2);
    assert!(ok_share(&aware) > ok_share(&plain));
}

#[test]
fn an_aimd_limit_refuses_past_its_limit() {
    let mut s = leaf("s", 1, 1000, 0, Dist::exponential(100e6).unwrap());
    s.admission.concurrency_limit = Some(ConcurrencyLimitConfig::Aimd(AimdConfig {
        initial_limit: 20,
        min_limit: 20,
        max_limit: 30,
        backoff_ratio: 0.9,
        timeout: SimDuration::from_secs(5),
    }));
    // 400/s x 100 ms = 40 in flight wanted, at most 30 allowed.
    let out = run(&world(vec![s], 400.0, 60));
    assert!(out.clients[0].outcomes.get(Outcome::Shed) > 0);
    assert!(out.services[0].in_system_integral as f64 / out.end.as_nanos() as f64 <= 30.0);
}

#[test]
fn a_cache_answers_hits_and_a_flush_sends_a_burst_of_misses_to_the_origin() {
    let mut s = leaf("s", 1, 100, 100, constant_ms(5.0));
    s.endpoints[0].cache = Some(CacheConfig {
        hit_ratio: 0.9,
        hit_latency: constant_ms(1.0),
        warmup: SimDuration::from_secs(20),
        cold_start: false,
    });
    let mut cfg = world(vec![s], 1000.0, 100);
    cfg.faults.push(FaultConfig {
        name: "flush".into(),
        service: ServiceId(0),
        share: 1.0,
        start: SimTime(40_000_000_000),
        end: SimTime(41_000_000_000),
        kind: FaultKind::FlushCache,
    });
    let out = run(&cfg);
    let arrivals = |b: usize| out.services[0].series[b].arrivals as f64;
    assert!((arrivals(20) / 1000.0 - 0.1).abs() < 0.03, "warm: {}", arrivals(20));
    assert!(arrivals(40) > 900.0, "during the flush: {}", arrivals(40));
    // From 46 s to 56 s the hit ratio ramps from 0.9 x 5/20 to 0.9 x 15/20: misses average
    // 1 - 0.9 x 0.5 = 0.55 of 10,000 requests (standard error about 0.005).
    let ramp: f64 = (46..56).map(arrivals).sum::<f64>() / 10_000.0;
    assert!((ramp - 0.55).abs() < 0.03, "half-way through warm-up: {ramp}");
    assert!((arrivals(70) / 1000.0 - 0.1).abs() < 0.03, "warm again: {}", arrivals(70));
    assert_eq!(ok_share(&out), 1.0);
}

#[test]
fn faults_slow_down_stop_and_fail_instances_for_their_window() {
    // 40 ms of work at 100 requests/s per instance: about 4 in flight on each.
    let s = leaf("s", 2, 100, 100, constant_ms(40.0));
    let mut cfg = world(vec![s], 200.0, 60);
    let fault = |name: &str, start: u64, kind: FaultKind| FaultConfig {
        name: name.into(),
        service: ServiceId(0),
        share: 0.5,
        start: SimTime(start * 1_000_000_000),
        end: SimTime((start + 10) * 1_000_000_000),
        kind,
    };
    cfg.faults = vec![
        fault("slow", 5, FaultKind::Slow { factor: 5.0 }),
        fault("down", 20, FaultKind::Down),
        fault("fail", 40, FaultKind::Fail { fraction: 0.4, outcome: Outcome::ServerError }),
    ];
    let out = run(&cfg);
    let c = &out.clients[0];
    let b = |k: usize| &c.series[k];
    // Slow: half the requests take 200 ms instead of 40.
    assert!(b(10).latency_ok.p90_ns >= 199_000_000, "{:?}", b(10).latency_ok);
    assert!(b(2).latency_ok.max_ns <= 40_100_000);
    // Down: one instance of two refuses connections (round robin sends it half the load).
    let refused = b(25).outcomes.get(Outcome::NoEndpoint) as f64 / b(25).outcomes.total() as f64;
    assert!((refused - 0.5).abs() < 0.05, "refused {refused}");
    assert!(c.outcomes.get(Outcome::ConnectionReset) > 0, "in-flight work was reset");
    // Fail: 40 % of the faulty instance's half.
    let failed = b(45).outcomes.get(Outcome::ServerError) as f64 / b(45).outcomes.total() as f64;
    assert!((failed - 0.2).abs() < 0.06, "failed {failed}");
    assert_eq!(b(55).outcomes.get(Outcome::Ok), b(55).outcomes.total());
    assert_eq!(out.faults.len(), 3);
    assert_eq!(out.faults[1].what, "down");
}

#[test]
fn buckets_keep_the_exact_sum_of_their_success_latencies() {
    // Constant 5 ms of work and a worker for everyone: every latency is exactly 5 ms.
    let out = run(&world(vec![leaf("s", 1, 1000, 0, constant_ms(5.0))], 200.0, 5));
    let c = &out.clients[0];
    let count: u64 = c.series.iter().map(|b| b.latency_ok.count).sum();
    let sum_ns: u128 = c.series.iter().map(|b| b.latency_ok.sum_ns).sum();
    assert_eq!(count, c.outcomes.successes());
    assert!(count > 500, "{count}");
    assert_eq!(sum_ns, u128::from(count) * 5_000_000);
    for b in &c.series {
        assert_eq!(b.latency_ok.sum_ns, u128::from(b.latency_ok.count) * 5_000_000);
    }
}

/// `single` with a fast service and the client's rate schedule replaced.
fn scheduled(process: ArrivalProcess, points: Vec<(SimTime, f64)>, secs: u64) -> ModelConfig {
    let mut cfg = single(1.0, 0.001, 1, 1000, 1000, false);
    cfg.duration = SimDuration::from_secs(secs);
    cfg.bucket_width = SimDuration::from_secs(1);
    cfg.clients[0].load = Load::Open { process, rate: RateSchedule { points } };
    cfg
}

#[test]
fn a_peak_past_the_end_of_the_run_costs_nothing() {
    // Thinning at the peak of the whole schedule drew 5e9 candidates for 500 arrivals.
    let s = |x: u64| SimTime(x * 1_000_000_000);
    let cfg = scheduled(ArrivalProcess::Poisson, vec![(s(0), 100.0), (s(3600), 100.0), (s(3600), 1e9)], 5);
    let issued = run(&cfg).conservation.issued as f64;
    // 500 expected, standard deviation about 22.
    assert!((issued - 500.0).abs() < 5.0 * 22.4, "{issued} arrivals");
}

#[test]
fn thinning_piece_by_piece_gives_the_integral_of_the_rate() {
    // 1,000/s for 10 s, a step to 10,000/s, then a ramp down to 0 over 10 s: 10,000 +
    // 50,000 arrivals expected, standard deviation sqrt(60,000) = 245 (Poisson).
    let s = |x: u64| SimTime(x * 1_000_000_000);
    let points = vec![(s(0), 1000.0), (s(10), 1000.0), (s(10), 10_000.0), (s(20), 0.0)];
    let issued = run(&scheduled(ArrivalProcess::Poisson, points, 30)).conservation.issued as f64;
    assert!((issued - 60_000.0).abs() < 5.0 * 245.0, "{issued} arrivals");
}

#[test]
fn constant_arrivals_stop_at_a_step_to_zero() {
    // 10/s from 0 to 1 s: arrivals at 0, 0.1, ..., 0.9 s and none at 1 s, when the rate is 0.
    let s = |x: u64| SimTime(x * 1_000_000_000);
    let points = vec![(s(0), 10.0), (s(1), 10.0), (s(1), 0.0), (s(2), 0.0), (s(2), 10.0)];
    let cfg = scheduled(ArrivalProcess::Constant, points, 3);
    // ... and again from 2 s: 2.0, 2.1, ..., 3.0 s (the end is inclusive).
    assert_eq!(run(&cfg).conservation.issued, 10 + 11);
}

#[test]
fn the_slot_width_holds_a_few_arrivals_within_its_bounds() {
    // Sparse: about two arrivals a slot (M/M/8's 7.2 a second: 268 ms slots).
    assert_eq!(slot_shift(7.2), 28);
    assert_eq!(slot_shift(1e-9), 34);
    // Between: the default.
    assert_eq!(slot_shift(300.0), DEFAULT_SLOT_SHIFT);
    // Dense: about eight arrivals a slot, never below about 1 ms.
    assert_eq!(slot_shift(1400.0), 22);
    assert_eq!(slot_shift(1e9), 20);
    // No open-loop arrivals, or a rate that is no rate.
    assert_eq!(slot_shift(0.0), DEFAULT_SLOT_SHIFT);
    assert_eq!(slot_shift(f64::NAN), DEFAULT_SLOT_SHIFT);
}
