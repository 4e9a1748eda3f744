//! The resilience settings: a scenario using all of them builds the expected `ModelConfig`,
//! the shorthand and the general form of an endpoint agree, and each class of bad input gets
//! its whole message with `file:line:col`.

use crate::{check_error_of, edit, parse_with, FLAGSHIP, RESILIENCE};
use squall_kernel::time::{NS_PER_MS, NS_PER_S};
use squall_kernel::{Dist, SimDuration, SimTime};
use squall_model::{
    AimdConfig, BulkheadConfig, CallPolicy, CodelConfig, ConcurrencyLimitConfig, Criticality,
    DependencyConfig, Discipline, EndpointId, FaultKind, Gradient2Config, Outcome, PoolConfig, QueueConfig,
    QueueSize, RateLimitConfig, ServiceId, ShedMetric, SheddingConfig, Step, TokenBucket,
};

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

fn is_constant(d: &Dist, ns: u64) -> bool {
    matches!(d, Dist::Constant(v) if *v == ns as f64)
}

#[test]
fn every_resilience_setting_builds_the_expected_model_config() {
    let s = parse_with(RESILIENCE, &[]).unwrap();
    let c = &s.config;
    let names: Vec<&str> = c.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["api", "db", "shipping", "pricing"]);
    let (api, db) = (&c.services[0], &c.services[1]);

    assert_eq!(
        api.queue,
        QueueConfig {
            capacity: 64,
            shared: false,
            discipline: Discipline::AdaptiveLifo,
            codel: Some(CodelConfig { target: ms(10), interval: ms(100) }),
            drop_abandoned: true,
        }
    );
    assert_eq!(
        db.queue,
        QueueConfig {
            capacity: 100,
            shared: false,
            discipline: Discipline::Lifo,
            codel: None,
            drop_abandoned: false
        }
    );

    // Steps: work, one call, two calls at once needing one, more work.
    let checkout = &api.endpoints[0];
    assert!(!checkout.blocking);
    assert!(checkout.cache.is_none());
    assert_eq!(checkout.steps.len(), 4);
    assert!(matches!(&checkout.steps[0], Step::Work(d) if is_constant(d, 2 * NS_PER_MS)));
    let Step::Calls { calls, need: 1 } = &checkout.steps[1] else { panic!("{:?}", checkout.steps[1]) };
    assert_eq!(
        (calls.len(), calls[0].service, calls[0].endpoint, calls[0].timeout),
        (1, ServiceId(1), EndpointId(0), None)
    );
    let cache = calls[0].cache.as_ref().unwrap();
    assert_eq!((cache.hit_ratio, cache.warmup, cache.cold_start), (0.8, SimDuration::from_secs(30), true));
    assert!(is_constant(&cache.hit_latency, NS_PER_MS), "the default hit latency is 1ms");
    let Step::Calls { calls, need: 1 } = &checkout.steps[2] else { panic!("{:?}", checkout.steps[2]) };
    let targets: Vec<_> = calls.iter().map(|c| (c.service, c.endpoint, c.timeout)).collect();
    assert_eq!(targets, [(ServiceId(2), EndpointId(0), Some(ms(300))), (ServiceId(3), EndpointId(0), None)]);
    assert!(
        matches!(&checkout.steps[3], Step::Work(Dist::Exponential { mean }) if *mean == NS_PER_MS as f64)
    );

    // The shorthand, with an endpoint cache.
    let home = &api.endpoints[1];
    assert!(home.blocking, "endpoints block by default");
    assert!(matches!(&home.steps[..], [Step::Work(d)] if is_constant(d, NS_PER_MS)));
    let cache = home.cache.as_ref().unwrap();
    assert_eq!((cache.hit_ratio, cache.warmup, cache.cold_start), (0.95, SimDuration::ZERO, false));
    assert!(is_constant(&cache.hit_latency, 200_000));

    assert_eq!(
        api.dependencies,
        [
            DependencyConfig {
                service: ServiceId(1),
                policy: CallPolicy { timeout: Some(ms(100)), ..CallPolicy::default() },
                bulkhead: None,
                pool: Some(PoolConfig {
                    maximum_pool_size: 8,
                    minimum_idle: 2,
                    connection_timeout: SimDuration::from_secs(30)
                }),
            },
            DependencyConfig {
                service: ServiceId(2),
                policy: CallPolicy { timeout: None, ..CallPolicy::default() },
                bulkhead: Some(BulkheadConfig::ThreadPool {
                    core_thread_pool_size: 9,
                    max_thread_pool_size: 10,
                    queue_capacity: 100,
                    keep_alive_duration: ms(20),
                }),
                pool: None,
            },
            DependencyConfig {
                service: ServiceId(3),
                policy: CallPolicy { timeout: Some(ms(50)), ..CallPolicy::default() },
                bulkhead: Some(BulkheadConfig::Semaphore {
                    max_concurrent_calls: 25,
                    max_wait_duration: ms(5)
                }),
                pool: None,
            },
        ]
    );

    let admission = &api.admission;
    assert_eq!(
        admission.rate_limit,
        Some(RateLimitConfig {
            bucket: TokenBucket::Continuous { rate: 500.0, burst: 50 },
            per_instance: true
        })
    );
    assert_eq!(
        admission.concurrency_limit,
        Some(ConcurrencyLimitConfig::Gradient2(Gradient2Config {
            initial_limit: 40,
            min_limit: 20,
            max_concurrency: 100,
            smoothing: 0.2,
            queue_size: QueueSize::Fixed(4),
            long_window: 600,
            rtt_tolerance: 1.5,
        }))
    );
    assert_eq!(
        admission.shedding,
        Some(SheddingConfig {
            metric: ShedMetric::QueueDelay,
            at: 50 * NS_PER_MS,
            per_class: None,
            retry_after: SimDuration::from_secs(2)
        })
    );
    assert_eq!(api.max_connections, None);

    assert_eq!(
        db.admission.rate_limit,
        Some(RateLimitConfig {
            bucket: TokenBucket::Discrete { max_tokens: 100, tokens_per_fill: 10, fill_interval: ms(100) },
            per_instance: false
        })
    );
    assert_eq!(
        db.admission.concurrency_limit,
        Some(ConcurrencyLimitConfig::Aimd(AimdConfig {
            initial_limit: 20,
            min_limit: 20,
            max_limit: 200,
            backoff_ratio: 0.9,
            timeout: SimDuration::from_secs(5)
        })),
        "Netflix's defaults"
    );
    assert_eq!(
        db.admission.shedding,
        Some(SheddingConfig {
            metric: ShedMetric::QueueLength,
            at: 60,
            per_class: Some([80, 60, 40, 20]),
            retry_after: SimDuration::from_secs(1)
        })
    );
    assert_eq!(db.max_connections, Some(12));
    assert!(db.dependencies.is_empty());
    assert_eq!(c.services[2].admission, squall_model::AdmissionConfig::default());

    let criticality: Vec<_> = c.clients.iter().map(|c| c.criticality).collect();
    assert_eq!(criticality, [Criticality::CriticalPlus, Criticality::Sheddable]);

    let faults: Vec<_> =
        c.faults.iter().map(|f| (f.name.as_str(), f.service, f.share, f.start, f.end)).collect();
    let t = |s: u64| SimTime(s * NS_PER_S);
    assert_eq!(
        faults,
        [
            ("shipping-slow", ServiceId(2), 1.0, t(60), t(90)),
            ("down db", ServiceId(1), 0.5, t(120), t(130)),
            ("fail pricing", ServiceId(3), 1.0, t(180), t(200)),
            ("flush_cache db", ServiceId(1), 1.0, t(240), t(241)),
        ]
    );
    let kinds: Vec<_> = c.faults.iter().map(|f| f.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            FaultKind::Slow { factor: 10.0 },
            FaultKind::Down,
            FaultKind::Fail { fraction: 0.25, outcome: Outcome::ServerError },
            FaultKind::FlushCache,
        ]
    );
}

#[test]
fn the_shorthand_and_the_steps_build_the_same_endpoint() {
    let shorthand = parse_with(FLAGSHIP, &[]).unwrap();
    let steps = parse_with(
        &edit(&[(
            "work: LogNormal(median: \"8ms\", p99: \"40ms\"),\n                    calls: [ (service: \"db\", endpoint: \"query\", timeout: \"100ms\") ],",
            "steps: [Work(LogNormal(median: \"8ms\", p99: \"40ms\")), Call(service: \"db\", endpoint: \"query\", timeout: \"100ms\")],",
        )]),
        &[],
    )
    .unwrap();
    let (a, b) = (&shorthand.config.services[0].endpoints[0], &steps.config.services[0].endpoints[0]);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

#[test]
fn a_parallel_step_needs_all_its_calls_by_default() {
    let s = parse_with(RESILIENCE, &["services.api.endpoints.checkout.steps.2.Parallel.need=None"]).unwrap();
    let Step::Calls { calls, need } = &s.config.services[0].endpoints[0].steps[2] else { panic!() };
    assert_eq!((calls.len(), *need), (2, 2));
}

#[test]
fn a_call_timeout_is_kept_apart_from_its_dependency_timeout() {
    // The model applies the dependency's timeout to calls without their own.
    let s =
        parse_with(RESILIENCE, &["services.api.endpoints.checkout.steps.1.Call.timeout=\"20ms\""]).unwrap();
    let api = &s.config.services[0];
    assert_eq!(api.endpoints[0].calls().next().unwrap().timeout, Some(ms(20)));
    assert_eq!(api.dependencies[0].policy.timeout, Some(ms(100)));
}

#[test]
fn optional_structs_written_empty_take_their_defaults() {
    let s = parse_with(
        RESILIENCE,
        &[
            "services.db.queue.codel=()",
            "services.api.dependencies.db.pool=()",
            "services.api.dependencies.db.bulkhead=Semaphore()",
        ],
    )
    .unwrap();
    let (api, db) = (&s.config.services[0], &s.config.services[1]);
    assert_eq!(db.queue.codel, Some(CodelConfig::default()));
    assert_eq!(
        api.dependencies[0].pool,
        Some(PoolConfig {
            maximum_pool_size: 10,
            minimum_idle: 10,
            connection_timeout: SimDuration::from_secs(30)
        })
    );
    assert_eq!(
        api.dependencies[0].bulkhead,
        Some(BulkheadConfig::Semaphore { max_concurrent_calls: 25, max_wait_duration: SimDuration::ZERO })
    );
}

#[test]
fn a_thread_pool_of_one_keeps_one_core_thread() {
    let s = parse_with(
        RESILIENCE,
        &["services.api.dependencies.shipping.bulkhead=ThreadPool(max_thread_pool_size: 1)"],
    )
    .unwrap();
    let Some(BulkheadConfig::ThreadPool { core_thread_pool_size, max_thread_pool_size, .. }) =
        s.config.services[0].dependencies[1].bulkhead
    else {
        panic!()
    };
    assert_eq!((core_thread_pool_size, max_thread_pool_size), (1, 1));
}

#[test]
fn a_fault_outcome_is_any_failing_outcome() {
    let s = parse_with(RESILIENCE, &["faults.2.what=Fail(fraction: 1, outcome: RateLimited)"]).unwrap();
    assert_eq!(s.config.faults[2].kind, FaultKind::Fail { fraction: 1.0, outcome: Outcome::RateLimited });
}

#[test]
fn a_dependency_policy_can_be_added_by_its_path() {
    let s = parse_with(FLAGSHIP, &["services.api.dependencies.db.timeout=\"20ms\""]).unwrap();
    assert_eq!(
        s.config.services[0].dependencies,
        [DependencyConfig {
            service: ServiceId(1),
            policy: CallPolicy { timeout: Some(ms(20)), ..CallPolicy::default() },
            bulkhead: None,
            pool: None
        }]
    );
}

// Errors, one class each.

#[track_caller]
fn check(edits: &[(&str, &str)], expected: &str) {
    check_error_of(RESILIENCE, edits, expected);
}

#[test]
fn steps_with_work_or_calls_names_both() {
    check(
        &[("steps: [", "work: Constant(\"1ms\"), steps: [")],
        "f.ron:14:44: services.api.endpoints.checkout.steps: `steps` cannot be combined with `work`: `steps` is the general form of `work` then `calls`, so write the work as a `Work(...)` step and each call as a `Call(...)` step",
    );
    check(
        &[("steps: [", "work: Constant(\"1ms\"), calls: [], steps: [")],
        "f.ron:14:55: services.api.endpoints.checkout.steps: `steps` cannot be combined with `work` or `calls`: `steps` is the general form of `work` then `calls`, so write the work as a `Work(...)` step and each call as a `Call(...)` step",
    );
}

#[test]
fn an_endpoint_without_work_or_steps_is_refused() {
    check(
        &[("(work: Constant(\"1ms\"), cache: (hit_ratio: 0.95", "(cache: (hit_ratio: 0.95")],
        "f.ron:28:17: services.api.endpoints.home: missing `work`: an endpoint needs `work` (then, optionally, `calls`) or `steps`",
    );
}

#[test]
fn an_empty_step_list_is_refused() {
    check(
        &[("\"home\": (work: Constant(\"1ms\"),", "\"home\": (steps: [],")],
        "f.ron:28:26: services.api.endpoints.home.steps: an endpoint needs at least one step",
    );
}

#[test]
fn a_parallel_step_needing_more_than_its_calls_is_refused() {
    check(
        &[("need: 1,", "need: 3,")],
        "f.ron:22:29: services.api.endpoints.checkout.steps[2].Parallel.need: need (3) must be from 1 to the number of calls (2): the step cannot succeed with more successes than calls",
    );
    check(
        &[("need: 1,", "need: 0,")],
        "f.ron:22:35: services.api.endpoints.checkout.steps[2].Parallel.need: must be at least 1, got 0",
    );
}

#[test]
fn a_parallel_step_without_calls_is_refused() {
    check(
        &[(
            "calls: [\n                                (service: \"shipping\", endpoint: \"quote\", timeout: \"300ms\"),\n                                (service: \"pricing\", endpoint: \"quote\"),\n                            ],\n                            need: 1,",
            "calls: [],",
        )],
        "f.ron:18:29: services.api.endpoints.checkout.steps[2].Parallel.calls: a Parallel step needs at least one call\n\
         f.ron:28:17: services.api.dependencies.shipping: `api` never calls `shipping`, so this policy would have no effect\n\
         f.ron:29:17: services.api.dependencies.pricing: `api` never calls `pricing`, so this policy would have no effect",
    );
}

#[test]
fn a_call_in_a_step_to_an_unknown_endpoint_suggests_the_near_miss() {
    check(
        &[("(service: \"pricing\", endpoint: \"quote\")", "(service: \"pricing\", endpoint: \"qoute\")")],
        "f.ron:20:64: services.api.endpoints.checkout.steps[2].Parallel.calls[1].endpoint: unknown endpoint `qoute` of service `pricing`, did you mean `quote`?",
    );
    check(
        &[("Call(service: \"db\"", "Call(service: \"dbb\"")],
        "f.ron:16:39: services.api.endpoints.checkout.steps[1].Call.service: unknown service `dbb`, did you mean `db`?",
    );
}

#[test]
fn a_call_cycle_through_steps_is_shown_as_a_chain() {
    check(
        &[("\"quote\": (work: Constant(\"3ms\"))", "\"quote\": (steps: [Parallel(calls: [(service: \"api\", endpoint: \"checkout\")])])")],
        "f.ron:14:21: services.api.endpoints.checkout.steps: call cycle api.checkout -> pricing.quote -> api.checkout",
    );
}

#[test]
fn a_hit_ratio_outside_zero_to_one_is_refused() {
    check(
        &[("hit_ratio: 0.95", "hit_ratio: 1.5")],
        "f.ron:28:68: services.api.endpoints.home.cache.hit_ratio: must be from 0 to 1, got 1.5",
    );
}

#[test]
fn a_cold_start_without_warmup_is_refused() {
    check(
        &[("warmup: \"30s\", ", "")],
        "f.ron:16:88: services.api.endpoints.checkout.steps[1].Call.cache.cold_start: cold_start has no effect with a warmup of \"0s\": the cache would be warm at once; give a warmup",
    );
}

#[test]
fn a_dependency_on_an_unknown_service_suggests_the_near_miss() {
    check(
        &[("\"pricing\": (timeout", "\"pricng\": (timeout")],
        "f.ron:33:17: services.api.dependencies.pricng: unknown service `pricng`, did you mean `pricing`?",
    );
}

#[test]
fn a_dependency_the_service_never_calls_is_refused() {
    check(
        &[("\"shipping\": (replicas: 2, workers: 4,", "\"shipping\": (replicas: 2, workers: 4, dependencies: {\"db\": (timeout: \"1s\")},")],
        "f.ron:49:62: services.shipping.dependencies.db: `shipping` never calls `db`, so this policy would have no effect",
    );
}

#[test]
fn a_thread_pool_with_more_core_than_max_threads_is_refused() {
    check(
        &[("max_thread_pool_size: 10", "max_thread_pool_size: 10, core_thread_pool_size: 11")],
        "f.ron:32:77: services.api.dependencies.shipping.bulkhead.ThreadPool.core_thread_pool_size: core_thread_pool_size (11) must not exceed max_thread_pool_size (10)",
    );
}

#[test]
fn a_pool_keeping_more_idle_connections_than_its_maximum_is_refused() {
    check(
        &[("minimum_idle: 2", "minimum_idle: 20")],
        "f.ron:31:71: services.api.dependencies.db.pool.minimum_idle: minimum_idle (20) must not exceed maximum_pool_size (8)",
    );
}

#[test]
fn a_zero_fill_interval_is_refused() {
    check(
        &[("fill_interval: \"100ms\"", "fill_interval: \"0s\"")],
        "f.ron:44:87: services.db.rate_limit.Discrete.fill_interval: must be greater than zero, got \"0s\"",
    );
}

#[test]
fn concurrency_limits_out_of_order_are_refused() {
    check(
        &[("Gradient2(initial_limit: 40", "Gradient2(initial_limit: 400")],
        "f.ron:36:42: services.api.concurrency_limit.Gradient2.initial_limit: initial_limit (400) must be from min_limit (20) to max_concurrency (100)",
    );
    check(
        &[("Aimd()", "Aimd(min_limit: 300)")],
        "f.ron:45:37: services.db.concurrency_limit.Aimd.min_limit: min_limit (300) must not exceed max_limit (200)",
    );
}

#[test]
fn concurrency_limit_ratios_out_of_range_are_refused() {
    check(
        &[("Aimd()", "Aimd(backoff_ratio: 1.0)")],
        "f.ron:45:52: services.db.concurrency_limit.Aimd.backoff_ratio: must be at least 0.5 and less than 1, got 1",
    );
    check(
        &[("max_concurrency: 100)", "max_concurrency: 100, smoothing: 0)")],
        "f.ron:36:94: services.api.concurrency_limit.Gradient2.smoothing: must be greater than 0 and at most 1, got 0",
    );
}

#[test]
fn shedding_thresholds_that_increase_are_refused() {
    check(
        &[("sheddable_plus: 40", "sheddable_plus: 70")],
        "f.ron:46:78: services.db.shedding.QueueLength.classes.sheddable_plus: sheddable_plus (70) must not be above critical (60): less critical work is shed first, so thresholds must not increase from critical_plus to sheddable",
    );
}

#[test]
fn shedding_needs_exactly_one_of_at_and_classes() {
    check(
        &[("QueueDelay(at: \"50ms\"", "QueueDelay(at: \"50ms\", classes: (critical_plus: \"1ms\", critical: \"1ms\", sheddable_plus: \"1ms\", sheddable: \"1ms\")")],
        "f.ron:37:46: services.api.shedding.QueueDelay.classes: give either `at` (the threshold for Critical work; the other classes follow from it) or `classes` (all four thresholds), not both",
    );
    check(
        &[("QueueDelay(at: \"50ms\", ", "QueueDelay(")],
        "f.ron:37:23: services.api.shedding.QueueDelay: missing `at`: give the threshold at which Critical work is shed, or `classes` with one threshold per class",
    );
}

#[test]
fn shedding_classes_need_all_four_thresholds() {
    check(
        &[("sheddable_plus: 40, sheddable: 20", "sheddable_plus: 40")],
        "f.ron:46:96: services.db.shedding.QueueLength.classes: missing required field `sheddable`",
    );
}

#[test]
fn an_unknown_criticality_suggests_the_near_miss() {
    check(
        &[("criticality: Sheddable,", "criticality: Shedable,")],
        "f.ron:62:26: clients.crawlers.criticality: unknown variant `Shedable`, did you mean `Sheddable`?",
    );
}

#[test]
fn a_fault_on_an_unknown_service_suggests_the_near_miss() {
    check(
        &[("service: \"pricing\", at", "service: \"pricng\", at")],
        "f.ron:68:19: faults[2].service: unknown service `pricng`, did you mean `pricing`?",
    );
}

#[test]
fn fault_shares_and_fractions_out_of_range_are_refused() {
    check(
        &[("share: 0.5", "share: 0")],
        "f.ron:67:54: faults[1].share: must be greater than 0 and at most 1, got 0",
    );
    check(
        &[("fraction: 0.25", "fraction: 1.25")],
        "f.ron:68:73: faults[2].what.Fail.fraction: must be from 0 to 1, got 1.25",
    );
    check(
        &[("Slow(factor: 10.0)", "Slow(factor: 0.5)")],
        "f.ron:66:95: faults[0].what.Slow.factor: must be from 1 to 1000000, got 0.5",
    );
}

#[test]
fn a_fault_that_fails_with_ok_is_refused() {
    check(
        &[("fraction: 0.25", "fraction: 0.25, outcome: Ok")],
        "f.ron:68:79: faults[2].what.Fail.outcome: `Ok` is not a failure; a `Fail` fault answers with a failing outcome, such as ServerError",
    );
    check(
        &[("fraction: 0.25", "fraction: 0.25, outcome: ServerEror")],
        "f.ron:68:88: faults[2].what.Fail.outcome: unknown variant `ServerEror`, did you mean `ServerError`?",
    );
}

#[test]
fn a_fault_lasting_no_time_is_refused() {
    check(
        &[("for: \"30s\"", "for: \"0s\"")],
        "f.ron:66:69: faults[0].for: must be greater than zero, got \"0s\"",
    );
}

#[test]
fn a_fault_window_past_the_end_of_time_is_refused() {
    check(
        &[("at: \"3m\", for: \"20s\"", "at: \"5000000h\", for: \"5000000h\"")],
        "f.ron:68:46: faults[2].for: the fault would end past the largest time that can be simulated (about 584 years): at \"5000000h\" for \"5000000h\"",
    );
}

#[test]
fn flushing_a_service_without_a_cache_is_refused() {
    check(
        &[("\"db\", at: \"4m\"", "\"shipping\", at: \"4m\"")],
        "f.ron:69:52: faults[3].what: FlushCache empties the caches in front of `shipping`'s endpoints, but none has a `cache`",
    );
}

#[test]
fn two_faults_with_the_same_name_are_refused() {
    check(
        &[("(service: \"db\", at: \"2m\"", "(name: \"shipping-slow\", service: \"db\", at: \"2m\"")],
        "f.ron:67:10: faults[1].name: the name `shipping-slow` is also used by faults[0]; give each fault its own `name`",
    );
}
