//! Every number the engine hands to a `squall_policy` constructor is checked by validation:
//! a value that would make a constructor panic, an allocation explode or simulated time
//! overflow is refused with a located message naming the field, so a scenario that
//! validates never panics when run.
//!
//! The first tests are regressions for values that once validated and then panicked when
//! run; `every_constructor_precondition_is_refused_by_validation` enumerates the
//! preconditions of the policy constructors reachable from a scenario.

use crate::{edit_of, parse_with, FLAGSHIP, FLEET, RESILIENCE};

/// Parses `src` with `sets` and returns the rendered error; panics if it parses.
#[track_caller]
fn refused(src: &str, sets: &[&str]) -> String {
    match parse_with(src, sets) {
        Ok(_) => panic!("validated, but the engine would refuse it: {sets:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_codel_interval_not_above_its_target_is_refused() {
    // The default interval is 100ms: a 200ms target left it below, and folly's CoDel panics.
    let src = edit_of(RESILIENCE, &[("codel: (target: \"10ms\")", "codel: (target: \"200ms\")")]);
    assert_eq!(
        refused(&src, &[]),
        "f.ron:11:61: services.api.queue.codel.interval: codel.interval (\"100ms\") must be longer than \
         codel.target (\"200ms\"): CoDel compares the shortest wait of each interval with the target"
    );
    // The same with the FIFO discipline (CoDel drops on its own), and equal values.
    let src = edit_of(
        RESILIENCE,
        &[(
            "discipline: AdaptiveLifo, codel: (target: \"10ms\")",
            "codel: (target: \"1s\", interval: \"1s\")",
        )],
    );
    let e = refused(&src, &[]);
    assert!(e.starts_with("f.ron:11:"), "{e}");
    assert!(e.contains("services.api.queue.codel.interval: codel.interval (\"1s\") must be longer"), "{e}");
    let e = refused(RESILIENCE, &["services.db.queue.codel=(target: \"200ms\")"]);
    assert!(
        e.starts_with("--set services.db.queue.codel=(target: \"200ms\"): services.db.queue.codel.interval:"),
        "{e}"
    );
}

#[test]
fn a_token_bucket_slower_than_simulated_time_is_refused() {
    for (bucket, says) in [
        ("TokenBucket(rate: 1e-300)", "rate 1e-300 and burst 1 takes 1.000e300 s"),
        ("TokenBucket(rate: 0.001, burst: 4294967295)", "rate 1e-3 and burst 4294967295 takes 4.295e12 s"),
    ] {
        let src = edit_of(RESILIENCE, &[("TokenBucket(rate: 500.0, burst: 50)", bucket)]);
        assert_eq!(
            refused(&src, &[]),
            format!(
                "f.ron:35:37: services.api.rate_limit.TokenBucket.rate: a token bucket with {says} to refill \
                 (burst / rate); it may take at most 1e9 s (about 31 years), so raise `rate` or lower `burst`"
            )
        );
    }
    // A slow bucket that refills within the bound is fine.
    parse_with(RESILIENCE, &["services.api.rate_limit=TokenBucket(rate: 0.001, burst: 1000)"]).unwrap();
}

#[test]
fn a_throttling_window_under_60ns_is_refused() {
    let e = refused(RESILIENCE, &["services.api.dependencies.db.throttle=(window: \"59ns\")"]);
    assert_eq!(
        e,
        "--set services.api.dependencies.db.throttle=(window: \"59ns\"): services.api.dependencies.db.throttle.window: \
         throttle.window (\"59ns\") must be at least 60ns: the window is counted in 60 slices"
    );
    parse_with(RESILIENCE, &["services.api.dependencies.db.throttle=(window: \"60ns\")"]).unwrap();
}

#[test]
fn a_breaker_window_is_bounded() {
    let e = refused(
        RESILIENCE,
        &["services.api.dependencies.db.breaker=Resilience4j(sliding_window_type: TimeBased, sliding_window_size: 4294967295)"],
    );
    assert!(
        e.ends_with(
            ": services.api.dependencies.db.breaker.Resilience4j.sliding_window_size: sliding_window_size (4294967295) \
             must be at most 86400 with `sliding_window_type: TimeBased`: the breaker keeps a slot for each of the \
             window's seconds (a day)"
        ),
        "{e}"
    );
    let e = refused(
        RESILIENCE,
        &["services.api.dependencies.db.breaker=Resilience4j(sliding_window_size: 1000001)"],
    );
    assert!(e.contains("must be at most 1000000 with `sliding_window_type: CountBased`"), "{e}");
    for ok in [
        "Resilience4j(sliding_window_type: TimeBased, sliding_window_size: 86400)",
        "Resilience4j(sliding_window_size: 1000000)",
    ] {
        parse_with(RESILIENCE, &[&format!("services.api.dependencies.db.breaker={ok}")]).unwrap();
    }
}

/// Each precondition (an `assert!`, `expect` or unchecked operation) of a `squall_policy`
/// constructor (`new`, `created_at`, `with_*`) or of arithmetic a scenario value reaches,
/// with overrides that violate it and the field the error must name.
///
/// Not reachable from a scenario, so not listed:
/// - `Backoff` draws and bounds, `OutlierDetector` host counts, `hashing` host lists, ring and
///   table sizes and weights, `ThreadPool` processors, `Semaphore::grow`: set by the engine
///   (fixed sizes, weights of 1, one processor, the pool's own maximum), not by a file.
/// - `SlowStart` aggression and minimum weight: fixed at Envoy's defaults (1.0, 10 %).
/// - `Gcra`'s tat, `DiscreteBucket`'s next fill and `Probe`'s ticks and initial delay:
///   the arithmetic saturates at `SimTime::MAX` ("never") instead of checking.
/// - `rollout` and `canary` percentage arithmetic: bounded by `replicas` (a `u32`) times a
///   percentage of at most 100, which the schema checks.
const PRECONDITIONS: &[(&str, &str, &[&str], &str)] = &[
    // codel.rs: `Codel::created_at`
    ("codel target > 0", RESILIENCE, &["services.api.queue.codel=(target: \"0s\")"], "services.api.queue.codel.target"),
    ("codel interval > target", RESILIENCE, &["services.api.queue.codel=(target: \"100ms\")"], "services.api.queue.codel.interval"),
    // rate.rs: `Gcra::new`
    ("gcra rate > 0", RESILIENCE, &["services.api.rate_limit=TokenBucket(rate: 0)"], "services.api.rate_limit.TokenBucket.rate"),
    ("gcra rate finite", RESILIENCE, &["services.api.rate_limit=TokenBucket(rate: inf)"], "services.api.rate_limit"),
    ("gcra emission >= 1 ns", RESILIENCE, &["services.api.rate_limit=TokenBucket(rate: 2e9)"], "services.api.rate_limit.TokenBucket.rate"),
    ("gcra burst >= 1", RESILIENCE, &["services.api.rate_limit=TokenBucket(rate: 1, burst: 0)"], "services.api.rate_limit.TokenBucket.burst"),
    ("gcra burst * T fits", RESILIENCE, &["services.api.rate_limit=TokenBucket(rate: 0.001, burst: 4294967295)"], "services.api.rate_limit.TokenBucket.rate"),
    // rate.rs: `DiscreteBucket::new`
    ("discrete max_tokens >= 1", RESILIENCE, &["services.db.rate_limit=Discrete(max_tokens: 0, fill_interval: \"1s\")"], "services.db.rate_limit.Discrete.max_tokens"),
    ("discrete tokens_per_fill >= 1", RESILIENCE, &["services.db.rate_limit=Discrete(max_tokens: 1, tokens_per_fill: 0, fill_interval: \"1s\")"], "services.db.rate_limit.Discrete.tokens_per_fill"),
    ("discrete fill_interval > 0", RESILIENCE, &["services.db.rate_limit=Discrete(max_tokens: 1, fill_interval: \"0s\")"], "services.db.rate_limit.Discrete.fill_interval"),
    // limit.rs: `Aimd::new`
    ("aimd backoff ratio >= 0.5", RESILIENCE, &["services.db.concurrency_limit=Aimd(backoff_ratio: 0.4)"], "services.db.concurrency_limit.Aimd.backoff_ratio"),
    ("aimd backoff ratio < 1", RESILIENCE, &["services.db.concurrency_limit=Aimd(backoff_ratio: 1.0)"], "services.db.concurrency_limit.Aimd.backoff_ratio"),
    ("aimd min <= max", RESILIENCE, &["services.db.concurrency_limit=Aimd(min_limit: 30, max_limit: 20)"], "services.db.concurrency_limit.Aimd.min_limit"),
    ("aimd timeout > 0", RESILIENCE, &["services.db.concurrency_limit=Aimd(timeout: \"0s\")"], "services.db.concurrency_limit.Aimd.timeout"),
    // limit.rs: `Gradient2::new`
    ("gradient2 min <= max", RESILIENCE, &["services.api.concurrency_limit=Gradient2(min_limit: 30, max_concurrency: 20)"], "services.api.concurrency_limit.Gradient2.min_limit"),
    ("gradient2 smoothing > 0", RESILIENCE, &["services.api.concurrency_limit=Gradient2(smoothing: 0)"], "services.api.concurrency_limit.Gradient2.smoothing"),
    ("gradient2 smoothing <= 1", RESILIENCE, &["services.api.concurrency_limit=Gradient2(smoothing: 1.5)"], "services.api.concurrency_limit.Gradient2.smoothing"),
    ("gradient2 long_window >= 1", RESILIENCE, &["services.api.concurrency_limit=Gradient2(long_window: 0)"], "services.api.concurrency_limit.Gradient2.long_window"),
    ("gradient2 rtt_tolerance >= 1", RESILIENCE, &["services.api.concurrency_limit=Gradient2(rtt_tolerance: 0.5)"], "services.api.concurrency_limit.Gradient2.rtt_tolerance"),
    // shed.rs: `Threshold::new`, `Thresholds::new`
    ("shed threshold >= 1", RESILIENCE, &["services.db.shedding=QueueLength(at: 0)"], "services.db.shedding.QueueLength.at"),
    ("shed thresholds monotone", RESILIENCE, &["services.db.shedding=QueueLength(classes: (critical_plus: 10, critical: 60, sheddable_plus: 40, sheddable: 20))"], "services.db.shedding"),
    // throttle.rs: `AdaptiveThrottle::new` (and window.rs: `SliceRing::new`, width > 0)
    ("throttle k > 0", RESILIENCE, &["services.api.dependencies.db.throttle=(k: 0)"], "services.api.dependencies.db.throttle.k"),
    ("throttle k finite", RESILIENCE, &["services.api.dependencies.db.throttle=(k: inf)"], "services.api.dependencies.db.throttle"),
    ("throttle window >= 60 ns", RESILIENCE, &["services.api.dependencies.db.throttle=(window: \"59ns\")"], "services.api.dependencies.db.throttle.window"),
    // breaker.rs: `Breaker::new` (and window.rs: `SliceRing::new`, n >= 1)
    ("breaker window >= 1", RESILIENCE, &["services.api.dependencies.db.breaker=Resilience4j(sliding_window_size: 0)"], "services.api.dependencies.db.breaker.Resilience4j.sliding_window_size"),
    ("breaker count window bounded", RESILIENCE, &["services.api.dependencies.db.breaker=Resilience4j(sliding_window_size: 4294967295)"], "services.api.dependencies.db.breaker.Resilience4j.sliding_window_size"),
    ("breaker time window bounded", RESILIENCE, &["services.api.dependencies.db.breaker=Resilience4j(sliding_window_type: TimeBased, sliding_window_size: 86401)"], "services.api.dependencies.db.breaker.Resilience4j.sliding_window_size"),
    ("breaker minimum calls >= 1", RESILIENCE, &["services.api.dependencies.db.breaker=Resilience4j(minimum_number_of_calls: 0)"], "services.api.dependencies.db.breaker.Resilience4j.minimum_number_of_calls"),
    ("breaker half-open calls >= 1", RESILIENCE, &["services.api.dependencies.db.breaker=Resilience4j(permitted_number_of_calls_in_half_open_state: 0)"], "services.api.dependencies.db.breaker.Resilience4j.permitted_number_of_calls_in_half_open_state"),
    ("breaker failure rate > 0", RESILIENCE, &["services.api.dependencies.db.breaker=Resilience4j(failure_rate_threshold: 0)"], "services.api.dependencies.db.breaker.Resilience4j.failure_rate_threshold"),
    ("breaker failure rate <= 100", RESILIENCE, &["services.api.dependencies.db.breaker=Resilience4j(failure_rate_threshold: 101)"], "services.api.dependencies.db.breaker.Resilience4j.failure_rate_threshold"),
    ("breaker slow rate > 0", RESILIENCE, &["services.api.dependencies.db.breaker=Resilience4j(slow_call_rate_threshold: 0)"], "services.api.dependencies.db.breaker.Resilience4j.slow_call_rate_threshold"),
    ("breaker slow rate <= 100", RESILIENCE, &["services.api.dependencies.db.breaker=Resilience4j(slow_call_rate_threshold: 100.5)"], "services.api.dependencies.db.breaker.Resilience4j.slow_call_rate_threshold"),
    ("consecutive threshold >= 1", RESILIENCE, &["services.api.dependencies.db.breaker=Consecutive(failure_threshold: 0)"], "services.api.dependencies.db.breaker.Consecutive.failure_threshold"),
    // budget.rs: `RetryBudget::new` (Finagle's window: window.rs, width = ttl / 10 > 0)
    ("finagle ttl >= 1s", RESILIENCE, &["services.api.dependencies.db.retry=()", "services.api.dependencies.db.budget=Finagle(ttl: \"999ms\")"], "services.api.dependencies.db.budget.Finagle.ttl"),
    ("finagle ttl <= 60s", RESILIENCE, &["services.api.dependencies.db.retry=()", "services.api.dependencies.db.budget=Finagle(ttl: \"61s\")"], "services.api.dependencies.db.budget.Finagle.ttl"),
    ("finagle percent <= 1000", RESILIENCE, &["services.api.dependencies.db.retry=()", "services.api.dependencies.db.budget=Finagle(percent_can_retry: 1001)"], "services.api.dependencies.db.budget.Finagle.percent_can_retry"),
    ("finagle percent >= 0", RESILIENCE, &["services.api.dependencies.db.retry=()", "services.api.dependencies.db.budget=Finagle(percent_can_retry: -1)"], "services.api.dependencies.db.budget.Finagle.percent_can_retry"),
    ("envoy budget percent >= 0", RESILIENCE, &["services.api.dependencies.db.retry=()", "services.api.dependencies.db.budget=Envoy(budget_percent: -1)"], "services.api.dependencies.db.budget.Envoy.budget_percent"),
    ("grpc max tokens >= 1", RESILIENCE, &["services.api.dependencies.db.retry=()", "services.api.dependencies.db.budget=GrpcThrottle(max_tokens: 0, token_ratio: 0.1)"], "services.api.dependencies.db.budget.GrpcThrottle.max_tokens"),
    ("grpc token ratio >= 0", RESILIENCE, &["services.api.dependencies.db.retry=()", "services.api.dependencies.db.budget=GrpcThrottle(max_tokens: 10, token_ratio: -1)"], "services.api.dependencies.db.budget.GrpcThrottle.token_ratio"),
    // cache.rs: `Warmth::new`
    ("cache hit ratio <= 1", RESILIENCE, &["services.api.endpoints.home.cache=(hit_ratio: 1.5)"], "services.api.endpoints.home.cache.hit_ratio"),
    ("cache hit ratio >= 0", RESILIENCE, &["services.api.endpoints.home.cache=(hit_ratio: -0.5)"], "services.api.endpoints.home.cache.hit_ratio"),
    // gate.rs: `ThreadPool::new`
    ("thread pool core >= 1", RESILIENCE, &["services.api.dependencies.shipping.bulkhead=ThreadPool(max_thread_pool_size: 4, core_thread_pool_size: 0)"], "services.api.dependencies.shipping.bulkhead.ThreadPool.core_thread_pool_size"),
    ("thread pool core <= max", RESILIENCE, &["services.api.dependencies.shipping.bulkhead=ThreadPool(max_thread_pool_size: 4, core_thread_pool_size: 5)"], "services.api.dependencies.shipping.bulkhead.ThreadPool.core_thread_pool_size"),
    ("semaphore permits >= 1", RESILIENCE, &["services.api.dependencies.pricing.bulkhead=Semaphore(max_concurrent_calls: 0)"], "services.api.dependencies.pricing.bulkhead.Semaphore.max_concurrent_calls"),
    // outlier.rs: `OutlierDetector::new`
    ("outlier interval > 0", FLAGSHIP, &["services.db.outlier_detection=(interval: \"0s\")"], "services.db.outlier_detection.interval"),
    ("outlier base ejection > 0", FLAGSHIP, &["services.db.outlier_detection=(base_ejection_time: \"0s\")"], "services.db.outlier_detection.base_ejection_time"),
    ("outlier enforcing <= 100", FLAGSHIP, &["services.db.outlier_detection=(enforcing_success_rate: 101)"], "services.db.outlier_detection.enforcing_success_rate"),
    // probe.rs: `Probe::new` (probes and active health checks)
    ("probe period > 0", FLAGSHIP, &["services.db.probes.readiness=(period: \"0s\")"], "services.db.probes.readiness.period"),
    ("probe timeout > 0", FLAGSHIP, &["services.db.probes.readiness=(timeout: \"0s\")"], "services.db.probes.readiness.timeout"),
    ("probe success threshold >= 1", FLAGSHIP, &["services.db.probes.readiness=(success_threshold: 0)"], "services.db.probes.readiness.success_threshold"),
    ("probe failure threshold >= 1", FLAGSHIP, &["services.db.probes.readiness=(failure_threshold: 0)"], "services.db.probes.readiness.failure_threshold"),
    ("liveness success threshold = 1", FLAGSHIP, &["services.db.probes.liveness=(success_threshold: 2)"], "services.db.probes.liveness.success_threshold"),
    ("startup success threshold = 1", FLAGSHIP, &["services.db.probes.startup=(success_threshold: 2)"], "services.db.probes.startup.success_threshold"),
    ("health check interval > 0", FLAGSHIP, &["services.db.health_check=(interval: \"0s\")"], "services.db.health_check.interval"),
    ("health check threshold >= 1", FLAGSHIP, &["services.db.health_check=(unhealthy_threshold: 0)"], "services.db.health_check.unhealthy_threshold"),
    // canary.rs: `Canary::new`; analysis.rs: `AnalysisRun::new`
    ("canary weight <= 100", FLEET, &["deploys.2.strategy=Canary(steps: [SetWeight(101)])"], "deploys[2].strategy.Canary.steps[0]"),
    ("analysis interval > 0", FLEET, &["deploys.2.strategy=Canary(steps: [SetWeight(50)], analysis: (interval: \"0s\"))"], "deploys[2].strategy.Canary.analysis.interval"),
    // rollout.rs: `RollingUpdate`: percentages of replicas
    ("rolling surge <= 100%", FLEET, &["deploys.0.strategy=Rolling(max_surge: \"101%\")"], "deploys[0].strategy.Rolling.max_surge"),
];

#[test]
fn every_constructor_precondition_is_refused_by_validation() {
    for (what, base, sets, field) in PRECONDITIONS {
        let e = match parse_with(base, sets) {
            Ok(_) => panic!("{what}: {sets:?} validated"),
            Err(e) => e.to_string(),
        };
        assert!(e.starts_with("--set "), "{what}: not blamed on the override: {e}");
        assert!(e.contains(&format!(": {field}")), "{what}: the error does not name `{field}`: {e}");
    }
}

/// Values at the edge of what validation accepts run without panicking: the bounds above are
/// tight enough, and the arithmetic that is left to saturate does.
#[test]
fn values_at_the_bounds_run() {
    let resilience = [
        "duration=\"10s\"",
        "services.api.queue.codel=(target: \"99ms\", interval: \"100ms\")",
        "services.api.rate_limit=TokenBucket(rate: 1e-9, burst: 1)",
        "services.db.rate_limit=Discrete(max_tokens: 1, fill_interval: \"18446744073s\")",
        "services.api.dependencies.db.throttle=(window: \"60ns\")",
        "services.api.dependencies.db.breaker=Resilience4j(sliding_window_type: TimeBased, sliding_window_size: 86400)",
        "services.api.dependencies.db.retry=(max_attempts: 3, backoff: Grpc(initial_backoff: \"18446744073s\", \
         max_backoff: \"18446744073s\", multiplier: 1e300, jitter: CCore))",
        // Failures, so that the retries above wait.
        "services.db.endpoints.query.error_rate=0.5",
    ];
    let s = parse_with(RESILIENCE, &resilience).unwrap();
    assert!(s.run().n_events > 0);
    let flagship = [
        "duration=\"10s\"",
        "services.db.probes.readiness=(initial_delay: \"18446744073.5s\", period: \"18446744073s\")",
        "services.api.probes.readiness=(timeout: \"18446744073s\", period: \"1s\")",
        "services.api.probes.liveness=(initial_delay: \"18446744073.5s\")",
        "services.api.lifecycle.startup=Constant(\"1s\")",
    ];
    let s = parse_with(FLAGSHIP, &flagship).unwrap();
    assert!(s.run().n_events > 0);
    // Deploys that wait (almost) forever: their wake-ups saturate at the end of time.
    const FOREVER: &str = "\"18446744073s\"";
    let rolling = format!("deploys.0.strategy=Rolling(min_ready: {FOREVER}, progress_deadline: {FOREVER})");
    let canary = format!("deploys.2.strategy=Canary(steps: [SetWeight(20), Pause({FOREVER})])");
    let s = parse_with(FLEET, &["duration=\"12m\"", &rolling, &canary]).unwrap();
    assert!(s.run().n_events > 0);
    let blue_green = format!(
        "deploys.2.strategy=BlueGreen(auto_promotion: {FOREVER}, scale_down_delay: {FOREVER}, \
         abort_scale_down_delay: {FOREVER})"
    );
    let s = parse_with(FLEET, &["duration=\"12m\"", &blue_green]).unwrap();
    assert!(s.run().n_events > 0);
}
