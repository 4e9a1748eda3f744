//! Client resilience policies (timeouts, deadlines, retries, budgets, breakers, throttling,
//! hedging, fallbacks) on client groups and dependencies, and services' deadline and clock
//! settings: each builds the expected model config with its defaults, each bad value gets its
//! whole message with `file:line:col`, and overrides and variants reach every field.

use crate::{edit, edit_of, parse_with};
use squall_kernel::SimDuration;
use squall_model::{
    AdaptiveThrottleConfig, Backoff, BreakerConfig, BreakerPolicy, CallPolicy, ClockSkew, ConsecutiveConfig,
    DeadlinePropagation, FallbackConfig, GrpcJitter, HedgePolicy, Jitter, Outcome, Resilience4jConfig,
    RetryBudgetConfig, RetryPolicy, SlidingWindow,
};

/// A client group calling `app`, which calls `db` under a dependency policy.
const BASE: &str = r#"Scenario(
    name: "policies",
    seed: 1,
    duration: "1m",
    services: {
        "app": (
            replicas: 3,
            endpoints: { "get": (work: Constant("1ms"), calls: [(service: "db", endpoint: "query")]) },
            dependencies: { "db": (timeout: "1s") },
        ),
        "db": (endpoints: { "query": (work: Constant("1ms")) }),
    },
    clients: {
        "users": (target: (service: "app", endpoint: "get"), arrivals: Poisson(rate: 10), timeout: "2s"),
    },
)
"#;

/// Where the client's fields end and the dependency's fields end, to add more.
const CLIENT_END: &str = "timeout: \"2s\")";
const DEPENDENCY_END: &str = "(timeout: \"1s\")";

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

fn secs(n: u64) -> SimDuration {
    SimDuration::from_secs(n)
}

/// The base with `fields` added to the client group, on a line of their own (line 15).
fn with_client(fields: &str) -> String {
    edit_of(BASE, &[(CLIENT_END, &format!("timeout: \"2s\",\n            {fields})"))])
}

/// The base with `fields` added to the dependency, on a line of their own (line 10).
fn with_dependency(fields: &str) -> String {
    edit_of(BASE, &[(DEPENDENCY_END, &format!("(timeout: \"1s\",\n                {fields})"))])
}

#[track_caller]
fn check(src: &str, expected: &str) {
    match parse_with(src, &[]) {
        Ok(_) => panic!("parsed, but expected: {expected}"),
        Err(e) => assert_eq!(e.to_string(), expected),
    }
}

/// The client group's policy with `fields` added.
#[track_caller]
fn client(fields: &str) -> CallPolicy {
    let s = parse_with(&with_client(fields), &[]).unwrap_or_else(|e| panic!("{e}"));
    s.config.clients[0].policy.clone()
}

/// The dependency's policy with `fields` added.
#[track_caller]
fn dependency(fields: &str) -> CallPolicy {
    let s = parse_with(&with_dependency(fields), &[]).unwrap_or_else(|e| panic!("{e}"));
    s.config.services[0].dependencies[0].policy.clone()
}

#[track_caller]
fn client_error(fields: &str, expected: &str) {
    check(&with_client(fields), expected);
}

#[track_caller]
fn dependency_error(fields: &str, expected: &str) {
    check(&with_dependency(fields), expected);
}

#[track_caller]
fn retry_of(p: CallPolicy) -> RetryPolicy {
    p.retry.expect("a retry policy")
}

#[test]
fn without_policy_fields_only_the_timeouts_are_set() {
    let s = parse_with(BASE, &[]).unwrap();
    assert_eq!(s.config.clients[0].policy, CallPolicy { timeout: Some(secs(2)), ..CallPolicy::default() });
    let dep = &s.config.services[0].dependencies[0];
    assert_eq!(dep.policy, CallPolicy { timeout: Some(secs(1)), ..CallPolicy::default() });
    assert!(!s.config.services[0].honor_deadlines);
    assert_eq!(s.config.services[0].clock_skew, ClockSkew::None);
}

#[test]
fn an_empty_retry_takes_resilience4j_defaults_and_the_model_retry_on() {
    assert_eq!(
        retry_of(client("retry: ()")),
        RetryPolicy {
            max_attempts: 3,
            retry_on: RetryPolicy::DEFAULT_RETRY_ON.to_vec(),
            backoff: Backoff::Constant { delay: ms(500) },
            honor_retry_after: true,
        }
    );
}

#[test]
fn every_retry_field_is_read() {
    assert_eq!(
        retry_of(dependency(
            "retry: (max_attempts: 100, backoff: Immediate, retry_on: [RateLimited, Throttled], honor_retry_after: false)"
        )),
        RetryPolicy {
            max_attempts: 100,
            retry_on: vec![Outcome::RateLimited, Outcome::Throttled],
            backoff: Backoff::Immediate,
            honor_retry_after: false,
        }
    );
}

#[test]
fn each_backoff_builds_with_its_defaults() {
    let backoff = |b: &str| retry_of(client(&format!("retry: (backoff: {b})"))).backoff;
    assert_eq!(backoff("Constant()"), Backoff::Constant { delay: ms(500) });
    assert_eq!(backoff("Constant(delay: \"0s\")"), Backoff::Constant { delay: SimDuration::ZERO });
    assert_eq!(
        backoff("Exponential(base: \"100ms\", cap: \"20s\")"),
        Backoff::Exponential { base: ms(100), cap: secs(20), jitter: Jitter::Full }
    );
    for (text, jitter) in [
        ("None", Jitter::None),
        ("Full", Jitter::Full),
        ("Equal", Jitter::Equal),
        ("Decorrelated", Jitter::Decorrelated),
    ] {
        assert_eq!(
            backoff(&format!("Exponential(base: \"1s\", cap: \"1s\", jitter: {text})")),
            Backoff::Exponential { base: secs(1), cap: secs(1), jitter },
            "{text}"
        );
    }
    assert_eq!(
        backoff("Grpc(initial_backoff: \"100ms\", max_backoff: \"1s\", multiplier: 2)"),
        Backoff::Grpc {
            initial_backoff: ms(100),
            max_backoff: secs(1),
            multiplier: 2.0,
            jitter: GrpcJitter::Full
        }
    );
    assert_eq!(
        backoff("Grpc(initial_backoff: \"1s\", max_backoff: \"100ms\", multiplier: 0.5, jitter: CCore)"),
        Backoff::Grpc {
            initial_backoff: secs(1),
            max_backoff: ms(100),
            multiplier: 0.5,
            jitter: GrpcJitter::CCore
        },
        "gRPC does not require max_backoff >= initial_backoff"
    );
    assert_eq!(backoff("Envoy()"), Backoff::Envoy { base_interval: ms(25), max_interval: ms(250) });
    assert_eq!(
        backoff("Envoy(base_interval: \"100ms\")"),
        Backoff::Envoy { base_interval: ms(100), max_interval: secs(1) },
        "max_interval defaults to ten times the base"
    );
    assert_eq!(
        backoff("Envoy(base_interval: \"100ms\", max_interval: \"100ms\")"),
        Backoff::Envoy { base_interval: ms(100), max_interval: ms(100) }
    );
}

#[test]
fn each_budget_builds_with_its_defaults() {
    let budget = |b: &str| client(&format!("retry: (), budget: {b}")).budget.expect("a budget");
    assert_eq!(
        budget("Finagle()"),
        RetryBudgetConfig::Finagle { ttl: secs(10), min_retries_per_sec: 10, percent_can_retry: 0.2 }
    );
    assert_eq!(
        budget("Finagle(ttl: \"60s\", min_retries_per_sec: 0, percent_can_retry: 1000)"),
        RetryBudgetConfig::Finagle { ttl: secs(60), min_retries_per_sec: 0, percent_can_retry: 1000.0 }
    );
    assert_eq!(
        budget("Envoy()"),
        RetryBudgetConfig::Envoy { budget_percent: 20.0, min_retry_concurrency: 3 }
    );
    assert_eq!(budget("MaxRetries()"), RetryBudgetConfig::MaxRetries { max_retries: 3 });
    assert_eq!(
        budget("GrpcThrottle(max_tokens: 10, token_ratio: 0.1)"),
        RetryBudgetConfig::GrpcThrottle { max_tokens: 10, token_ratio: 0.1 }
    );
    assert_eq!(
        budget("AwsQuota()"),
        RetryBudgetConfig::AwsQuota {
            initial_capacity: 500,
            retry_cost: 5,
            timeout_retry_cost: 10,
            no_retry_increment: 1
        }
    );
}

#[test]
fn a_budget_may_limit_hedges() {
    let p = dependency("hedge: (max_attempts: 2), budget: MaxRetries(max_retries: 1)");
    assert_eq!(p.budget, Some(RetryBudgetConfig::MaxRetries { max_retries: 1 }));
}

#[test]
fn each_breaker_builds_with_the_libraries_defaults() {
    assert_eq!(
        client("breaker: Resilience4j()").breaker,
        Some(BreakerPolicy {
            config: BreakerConfig::Resilience4j(Resilience4jConfig::default()),
            shared: false
        })
    );
    assert_eq!(
        dependency("breaker: Consecutive()").breaker,
        Some(BreakerPolicy {
            config: BreakerConfig::Consecutive(ConsecutiveConfig::default()),
            shared: false
        })
    );
}

#[test]
fn every_breaker_field_is_read() {
    let p = dependency(
        "breaker: Resilience4j(failure_rate_threshold: 25.5, slow_call_rate_threshold: 80, \
         slow_call_duration_threshold: \"2s\", sliding_window_type: TimeBased, sliding_window_size: 30, \
         minimum_number_of_calls: 7, permitted_number_of_calls_in_half_open_state: 3, \
         wait_duration_in_open_state: \"15s\", automatic_transition_from_open_to_half_open_enabled: true, \
         shared: true)",
    );
    assert_eq!(
        p.breaker,
        Some(BreakerPolicy {
            config: BreakerConfig::Resilience4j(Resilience4jConfig {
                failure_rate_threshold: 25.5,
                slow_call_rate_threshold: 80.0,
                slow_call_duration_threshold: secs(2),
                sliding_window_type: SlidingWindow::TimeBased,
                sliding_window_size: 30,
                minimum_number_of_calls: 7,
                permitted_number_of_calls_in_half_open_state: 3,
                wait_duration_in_open_state: secs(15),
                automatic_transition_from_open_to_half_open_enabled: true,
            }),
            shared: true,
        })
    );
    let p = client("breaker: Consecutive(failure_threshold: 2, break_duration: \"1s\", shared: true)");
    assert_eq!(
        p.breaker,
        Some(BreakerPolicy {
            config: BreakerConfig::Consecutive(ConsecutiveConfig {
                failure_threshold: 2,
                break_duration: secs(1)
            }),
            shared: true,
        }),
        "a client group accepts `shared`, which changes nothing for it"
    );
}

#[test]
fn throttle_hedge_fallback_and_deadlines_build_with_their_defaults() {
    assert_eq!(client("throttle: ()").throttle, Some(AdaptiveThrottleConfig::default()));
    assert_eq!(
        dependency("throttle: (window: \"30s\", k: 1.1)").throttle,
        Some(AdaptiveThrottleConfig { window: secs(30), k: 1.1 })
    );
    assert_eq!(
        client("hedge: (max_attempts: 5)").hedge,
        Some(HedgePolicy { max_attempts: 5, hedging_delay: SimDuration::ZERO, non_fatal: vec![] })
    );
    assert_eq!(
        dependency("hedge: (max_attempts: 2, hedging_delay: \"20ms\", non_fatal: [ServerError, Shed])").hedge,
        Some(HedgePolicy {
            max_attempts: 2,
            hedging_delay: ms(20),
            non_fatal: vec![Outcome::ServerError, Outcome::Shed]
        })
    );
    assert_eq!(client("fallback: Static").fallback, Some(FallbackConfig::Static));
    assert_eq!(
        dependency("fallback: Cache(hit_ratio: 0.9)").fallback,
        Some(FallbackConfig::Cache { hit_ratio: 0.9 })
    );
    assert_eq!(dependency("propagate_deadline: ()").propagate_deadline, Some(DeadlinePropagation::default()));
    assert_eq!(
        dependency("propagate_deadline: (factor: 1)").propagate_deadline,
        Some(DeadlinePropagation { factor: 1.0, format: squall_model::DeadlineFormat::Absolute })
    );
    assert_eq!(
        dependency("propagate_deadline: (format: Relative)").propagate_deadline,
        Some(DeadlinePropagation { factor: 0.9, format: squall_model::DeadlineFormat::Relative })
    );
    dependency_error(
        "propagate_deadline: (format: Relativ)",
        "f.ron:10:46: services.app.dependencies.db.propagate_deadline.format: unknown variant `Relativ`, did you mean `Relative`?",
    );
    let p = client("per_try_timeout: \"500ms\"");
    assert_eq!((p.timeout, p.per_try_timeout), (Some(secs(2)), Some(ms(500))));
}

#[test]
fn a_client_and_a_dependency_build_the_same_policy_from_the_same_text() {
    let fields = "per_try_timeout: \"300ms\", \
        retry: (max_attempts: 4, backoff: Exponential(base: \"10ms\", cap: \"1s\", jitter: Equal), retry_on: [Timeout]), \
        budget: Finagle(percent_can_retry: 0.1), breaker: Consecutive(failure_threshold: 3), \
        throttle: (k: 3), fallback: Cache(hit_ratio: 0.25)";
    let (from_client, from_dependency) = (client(fields), dependency(fields));
    assert_eq!(from_client.timeout, Some(secs(2)));
    assert_eq!(from_dependency.timeout, Some(secs(1)));
    assert_eq!(
        CallPolicy { timeout: None, ..from_client },
        CallPolicy { timeout: None, ..from_dependency.clone() }
    );
    assert_eq!(from_dependency.retry.unwrap().retry_on, [Outcome::Timeout]);
}

#[test]
fn services_read_honor_deadlines_and_clock_skew() {
    let s = parse_with(
        &edit_of(
            BASE,
            &[
                ("replicas: 3,", "replicas: 3, honor_deadlines: true, clock_skew: Offsets([\"0s\", \"+1500ms\", \"-200ms\", \"2s\", 0]),"),
                ("\"db\": (endpoints", "\"db\": (clock_skew: Uniform(max: \"1s\"), endpoints"),
            ],
        ),
        &[],
    )
    .unwrap();
    let (app, db) = (&s.config.services[0], &s.config.services[1]);
    assert!(app.honor_deadlines);
    assert_eq!(app.clock_skew, ClockSkew::Offsets(vec![0, 1_500_000_000, -200_000_000, 2_000_000_000, 0]));
    assert!(!db.honor_deadlines);
    assert_eq!(db.clock_skew, ClockSkew::Uniform { max: secs(1) });
}

// Errors: values out of range name the field, the range and the position.

#[test]
fn a_per_try_timeout_not_below_the_timeout_is_refused() {
    client_error(
        "per_try_timeout: \"2s\"",
        "f.ron:15:13: clients.users.per_try_timeout: per_try_timeout (\"2s\") must be less than timeout (\"2s\"): the overall timeout would always end the call first, so the per-try timeout would never fire",
    );
    dependency_error(
        "per_try_timeout: \"5s\"",
        "f.ron:10:17: services.app.dependencies.db.per_try_timeout: per_try_timeout (\"5s\") must be less than timeout (\"1s\"): the overall timeout would always end the call first, so the per-try timeout would never fire",
    );
    client_error(
        "per_try_timeout: \"0s\"",
        "f.ron:15:30: clients.users.per_try_timeout: must be greater than zero, got \"0s\"",
    );
}

#[test]
fn retry_on_refuses_answers_and_cancellations_and_says_why() {
    client_error("retry: (retry_on: [Timeout, Ok])", "f.ron:15:41: clients.users.retry.retry_on[1]: `Ok` is a success; only failures are retried or hedged on");
    client_error("retry: (retry_on: [Degraded])", "f.ron:15:32: clients.users.retry.retry_on[0]: `Degraded` is an answer (a fallback's), not a failure; retrying it would throw a response away");
    dependency_error("retry: (retry_on: [Cancelled])", "f.ron:10:36: services.app.dependencies.db.retry.retry_on[0]: `Cancelled` is how the caller's own abandoned attempts end (a hedge that lost); nobody waits to retry them");
    dependency_error("hedge: (max_attempts: 2, non_fatal: [Ok])", "f.ron:10:54: services.app.dependencies.db.hedge.non_fatal[0]: `Ok` is a success; only failures are retried or hedged on");
}

#[test]
fn retry_on_must_list_each_failure_once_and_at_least_one() {
    client_error(
        "retry: (retry_on: [Timeout, Shed, Timeout])",
        "f.ron:15:21: clients.users.retry.retry_on: `Timeout` is listed twice",
    );
    client_error("retry: (retry_on: [])", "f.ron:15:21: clients.users.retry.retry_on: retry_on is empty, so nothing would be retried; list the failures to retry, or remove `retry`");
    client_error(
        "retry: (retry_on: [Timout])",
        "f.ron:15:32: clients.users.retry.retry_on[0]: unknown variant `Timout`, did you mean `Timeout`?",
    );
}

#[test]
fn retry_attempts_out_of_range_are_refused() {
    client_error(
        "retry: (max_attempts: 0)",
        "f.ron:15:35: clients.users.retry.max_attempts: must be at least 1, got 0",
    );
    dependency_error(
        "retry: (max_attempts: 101)",
        "f.ron:10:39: services.app.dependencies.db.retry.max_attempts: must be at most 100, got 101",
    );
}

#[test]
fn backoffs_out_of_order_or_incomplete_are_refused() {
    client_error("retry: (backoff: Exponential(base: \"1s\", cap: \"100ms\"))", "f.ron:15:54: clients.users.retry.backoff.Exponential.cap: cap (\"100ms\") must not be below base (\"1s\"): every wait is at most cap");
    client_error(
        "retry: (backoff: Exponential(base: \"0s\", cap: \"1s\"))",
        "f.ron:15:48: clients.users.retry.backoff.Exponential.base: must be greater than zero, got \"0s\"",
    );
    client_error(
        "retry: (backoff: Exponential(base: \"1s\"))",
        "f.ron:15:51: clients.users.retry.backoff.Exponential: missing required field `cap`",
    );
    dependency_error(
        "retry: (backoff: Grpc(initial_backoff: \"1s\", max_backoff: \"2s\"))",
        "f.ron:10:78: services.app.dependencies.db.retry.backoff.Grpc: missing required field `multiplier`",
    );
    dependency_error("retry: (backoff: Grpc(initial_backoff: \"1s\", max_backoff: \"2s\", multiplier: 0))", "f.ron:10:93: services.app.dependencies.db.retry.backoff.Grpc.multiplier: must be a finite number greater than 0, got 0");
    dependency_error("retry: (backoff: Envoy(base_interval: \"1s\", max_interval: \"500ms\"))", "f.ron:10:61: services.app.dependencies.db.retry.backoff.Envoy.max_interval: max_interval (\"500ms\") must not be below base_interval (\"1s\"), as Envoy requires");
    client_error("retry: (backoff: Exponential(base: \"1s\", cap: \"2s\", jitter: Ful))", "f.ron:15:73: clients.users.retry.backoff.Exponential.jitter: unknown variant `Ful`, did you mean `Full`?");
    client_error(
        "retry: (backoff: Exponental(base: \"1s\", cap: \"2s\"))",
        "f.ron:15:30: clients.users.retry.backoff: unknown variant `Exponental`, did you mean `Exponential`?",
    );
    client_error("retry: (backoff: Constant(\"1s\"))", "f.ron:15:39: clients.users.retry.backoff.Constant: expected `delay: ...`: a constant back-off is written `Constant(delay: \"500ms\")`");
}

#[test]
fn budgets_out_of_range_are_refused() {
    client_error("retry: (), budget: Finagle(ttl: \"90s\")", "f.ron:15:45: clients.users.budget.Finagle.ttl: must be from \"1s\" to \"60s\", as Finagle's RetryBudget requires, got \"90s\"");
    client_error("retry: (), budget: Finagle(ttl: \"500ms\")", "f.ron:15:45: clients.users.budget.Finagle.ttl: must be from \"1s\" to \"60s\", as Finagle's RetryBudget requires, got \"500ms\"");
    client_error(
        "retry: (), budget: Finagle(percent_can_retry: 1001)",
        "f.ron:15:59: clients.users.budget.Finagle.percent_can_retry: must be from 0 to 1000, got 1001",
    );
    dependency_error("retry: (), budget: Envoy(budget_percent: 120)", "f.ron:10:58: services.app.dependencies.db.budget.Envoy.budget_percent: must be from 0 to 100, got 120");
    dependency_error("retry: (), budget: GrpcThrottle(max_tokens: 1001, token_ratio: 0.1)", "f.ron:10:61: services.app.dependencies.db.budget.GrpcThrottle.max_tokens: must be at most 1000, got 1001");
    dependency_error("retry: (), budget: GrpcThrottle(max_tokens: 10, token_ratio: 0)", "f.ron:10:78: services.app.dependencies.db.budget.GrpcThrottle.token_ratio: must be a finite number greater than 0, got 0");
    dependency_error(
        "retry: (), budget: GrpcThrottle(max_tokens: 10)",
        "f.ron:10:63: services.app.dependencies.db.budget.GrpcThrottle: missing required field `token_ratio`",
    );
    dependency_error("retry: (), budget: AwsQuota(initial_capacity: 0)", "f.ron:10:63: services.app.dependencies.db.budget.AwsQuota.initial_capacity: must be at least 1, got 0");
}

#[test]
fn a_budget_with_nothing_to_limit_is_refused() {
    client_error("budget: MaxRetries()", "f.ron:15:13: clients.users.budget: a budget limits retries and hedges, but there is no `retry` or `hedge`, so it would have no effect");
    dependency_error("budget: Finagle()", "f.ron:10:17: services.app.dependencies.db.budget: a budget limits retries and hedges, but there is no `retry` or `hedge`, so it would have no effect");
}

#[test]
fn retry_and_hedge_together_are_refused() {
    client_error("retry: (), hedge: (max_attempts: 2)", "f.ron:15:24: clients.users.hedge: give either `retry` or `hedge`, not both: as in gRPC, a call has a retry policy or a hedging policy (hedges already resend after the failures listed in `non_fatal`)");
}

#[test]
fn hedges_out_of_range_are_refused_with_grpc_cap() {
    client_error("hedge: (max_attempts: 6)", "f.ron:15:35: clients.users.hedge.max_attempts: must be at most 5, got 6: gRPC caps a hedging policy's maxAttempts at 5");
    dependency_error("hedge: (max_attempts: 1)", "f.ron:10:39: services.app.dependencies.db.hedge.max_attempts: must be at least 2, got 1: the first attempt counts, so fewer would never hedge");
    dependency_error(
        "hedge: ()",
        "f.ron:10:25: services.app.dependencies.db.hedge: missing required field `max_attempts`",
    );
}

#[test]
fn breaker_thresholds_out_of_range_are_refused() {
    client_error("breaker: Resilience4j(failure_rate_threshold: 0)", "f.ron:15:59: clients.users.breaker.Resilience4j.failure_rate_threshold: must be greater than 0 and at most 100, got 0");
    dependency_error("breaker: Resilience4j(slow_call_rate_threshold: 150)", "f.ron:10:65: services.app.dependencies.db.breaker.Resilience4j.slow_call_rate_threshold: must be greater than 0 and at most 100, got 150");
    dependency_error("breaker: Consecutive(failure_threshold: 0)", "f.ron:10:57: services.app.dependencies.db.breaker.Consecutive.failure_threshold: must be at least 1, got 0");
    dependency_error("breaker: Resilience4j(sliding_window_type: CountBase)", "f.ron:10:60: services.app.dependencies.db.breaker.Resilience4j.sliding_window_type: unknown variant `CountBase`, did you mean `CountBased`?");
    dependency_error("breaker: Resilience4j(wait_duration_in_open_state: \"0s\")", "f.ron:10:68: services.app.dependencies.db.breaker.Resilience4j.wait_duration_in_open_state: must be greater than zero, got \"0s\"");
}

#[test]
fn throttle_fallback_and_deadline_values_out_of_range_are_refused() {
    client_error(
        "throttle: (k: 0)",
        "f.ron:15:27: clients.users.throttle.k: must be a finite number greater than 0, got 0",
    );
    dependency_error(
        "fallback: Cache(hit_ratio: 1.5)",
        "f.ron:10:44: services.app.dependencies.db.fallback.Cache.hit_ratio: must be from 0 to 1, got 1.5",
    );
    dependency_error("propagate_deadline: (factor: 0)", "f.ron:10:46: services.app.dependencies.db.propagate_deadline.factor: must be greater than 0 and at most 1, got 0");
    dependency_error("propagate_deadline: (factor: 1.5)", "f.ron:10:46: services.app.dependencies.db.propagate_deadline.factor: must be greater than 0 and at most 1, got 1.5");
}

#[test]
fn a_client_group_cannot_propagate_a_deadline() {
    client_error("propagate_deadline: ()", "f.ron:15:13: clients.users.propagate_deadline: a client group has no caller, so it has no deadline to pass on; give it a `timeout`, and `propagate_deadline` to the `dependencies` of the services it calls");
}

#[test]
fn misspelt_policy_fields_and_variants_suggest_the_near_miss() {
    client_error("retyr: ()", "f.ron:15:13: clients.users: unknown field `retyr`, did you mean `retry`?");
    dependency_error("retry: (max_attempt: 3)", "f.ron:10:25: services.app.dependencies.db.retry: unknown field `max_attempt`, did you mean `max_attempts`?");
    dependency_error("breaker: Resilence4j()", "f.ron:10:26: services.app.dependencies.db.breaker: unknown variant `Resilence4j`, did you mean `Resilience4j`?");
    client_error("budget: Finagle(percent_can_retyr: 0.1), retry: ()", "f.ron:15:29: clients.users.budget.Finagle: unknown field `percent_can_retyr`, did you mean `percent_can_retry`?");
}

#[test]
fn bad_clock_offsets_are_refused_with_the_reason() {
    let check = |skew: &str, expected: &str| {
        check(&edit_of(BASE, &[("replicas: 3,", &format!("replicas: 3, clock_skew: {skew},"))]), expected);
    };
    check(
        "Offsets([\"+1s\", \"++1s\"])",
        "f.ron:7:54: services.app.clock_skew.Offsets[1]: invalid offset \"++1s\": give at most one sign, as in \"+1500ms\" or \"-200ms\"",
    );
    check(
        "Offsets([\"-1 parsec\"])",
        "f.ron:7:47: services.app.clock_skew.Offsets[0]: invalid offset \"-1 parsec\": unknown unit `parsec`; use one of ns, us, ms, s, m, h",
    );
    check(
        "Offsets([\"-1sec\"])",
        "f.ron:7:47: services.app.clock_skew.Offsets[0]: invalid offset \"-1sec\": unknown unit `sec`, did you mean `s`?",
    );
    check(
        "Offsets([5])",
        "f.ron:7:47: services.app.clock_skew.Offsets[0]: an offset is a string with a sign and a unit, as in \"+5ms\" or \"-5ms\", not a bare number",
    );
    check(
        "Offsets([\"-\"])",
        "f.ron:7:47: services.app.clock_skew.Offsets[0]: invalid offset \"-\": empty duration; write a number and a unit such as \"250ms\"",
    );
    check(
        "Offsets([])",
        "f.ron:7:38: services.app.clock_skew.Offsets: `Offsets` needs at least one offset: instance i is off by offsets[i % len]",
    );
    check(
        "Uniform(max: \"0s\")",
        "f.ron:7:51: services.app.clock_skew.Uniform.max: must be greater than zero, got \"0s\"",
    );
    check(
        "Offsets([\"-3000000h\"])",
        "f.ron:7:47: services.app.clock_skew.Offsets[0]: invalid offset \"-3000000h\": an offset must be at most about 292 years either way",
    );
}

#[test]
fn a_negative_duration_outside_an_offset_is_still_refused() {
    check(
        &edit_of(BASE, &[("timeout: \"2s\"", "timeout: \"-2s\"")]),
        "f.ron:14:100: clients.users.timeout: invalid duration \"-2s\": durations cannot be negative",
    );
}

// Overrides and variants.

#[test]
fn overrides_set_whole_policies_and_fields_inside_them() {
    let s = parse_with(
        BASE,
        &[
            "clients.users.retry=(max_attempts: 3, backoff: Immediate)",
            "services.app.dependencies.db.breaker=Consecutive(failure_threshold: 5)",
            "services.app.dependencies.db.retry=(backoff: Exponential(base: \"1ms\", cap: \"1s\"))",
            "services.app.dependencies.db.retry.backoff.jitter=None",
            "services.app.dependencies.db.retry.retry_on=[Timeout, ConnectionReset]",
            "services.app.dependencies.db.budget=GrpcThrottle(max_tokens: 10, token_ratio: 0.1)",
            "services.app.dependencies.db.propagate_deadline=()",
            "services.app.clock_skew=Offsets([\"+1s\", \"-1s\"])",
            "services.app.honor_deadlines=true",
            "clients.users.per_try_timeout=\"1s\"",
            "clients.users.fallback=Static",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let client = &s.config.clients[0].policy;
    assert_eq!(retry_of(client.clone()).backoff, Backoff::Immediate);
    assert_eq!(client.per_try_timeout, Some(secs(1)));
    assert_eq!(client.fallback, Some(FallbackConfig::Static));
    let app = &s.config.services[0];
    let dep = &app.dependencies[0].policy;
    assert_eq!(
        dep.breaker,
        Some(BreakerPolicy {
            config: BreakerConfig::Consecutive(ConsecutiveConfig {
                failure_threshold: 5,
                break_duration: secs(5)
            }),
            shared: false
        })
    );
    let retry = retry_of(dep.clone());
    assert_eq!(retry.backoff, Backoff::Exponential { base: ms(1), cap: secs(1), jitter: Jitter::None });
    assert_eq!(retry.retry_on, [Outcome::Timeout, Outcome::ConnectionReset]);
    assert_eq!(dep.budget, Some(RetryBudgetConfig::GrpcThrottle { max_tokens: 10, token_ratio: 0.1 }));
    assert_eq!(dep.propagate_deadline, Some(DeadlinePropagation::default()));
    assert!(app.honor_deadlines);
    assert_eq!(app.clock_skew, ClockSkew::Offsets(vec![1_000_000_000, -1_000_000_000]));
}

#[test]
fn a_policy_for_a_new_dependency_can_be_added_by_its_path() {
    let s = parse_with(&edit(&[]), &["services.api.dependencies.db.retry=()"]).unwrap();
    let dep = &s.config.services[0].dependencies[0];
    assert_eq!(dep.policy.retry.as_ref().map(|r| r.max_attempts), Some(3));
}

#[test]
fn variants_reach_every_policy_field() {
    let src = edit_of(
        BASE,
        &[(
            "    },\n)\n",
            "    },\n    variants: {\n        \"resilient\": {\n            \"clients.users.retry\": \"(max_attempts: 3, backoff: Immediate)\",\n            \"services.app.dependencies.db.breaker\": \"Consecutive(failure_threshold: 5)\",\n            \"services.app.clock_skew\": \"Uniform(max: \\\"2s\\\")\",\n        },\n    },\n)\n",
        )],
    );
    let all = squall_scenario::parse_variants(&src, "f.ron", &[], None).unwrap();
    let resilient = &all[1].scenario.config;
    assert_eq!(retry_of(resilient.clients[0].policy.clone()).max_attempts, 3);
    assert!(resilient.services[0].dependencies[0].policy.breaker.is_some());
    assert_eq!(resilient.services[0].clock_skew, ClockSkew::Uniform { max: secs(2) });
    assert!(all[0].scenario.config.clients[0].policy.retry.is_none(), "the baseline is unchanged");
}

#[test]
fn override_errors_name_the_override() {
    let check = |sets: &[&str], expected: &str| match parse_with(BASE, sets) {
        Ok(_) => panic!("parsed, but expected: {expected}"),
        Err(e) => assert_eq!(e.to_string(), expected),
    };
    check(
        &["clients.users.hedge=(max_attempts: 9)"],
        "--set clients.users.hedge=(max_attempts: 9): clients.users.hedge.max_attempts: must be at most 5, got 9: gRPC caps a hedging policy's maxAttempts at 5",
    );
    check(
        &["clients.users.per_try_timeout=\"5s\""],
        "--set clients.users.per_try_timeout=\"5s\": clients.users.per_try_timeout: per_try_timeout (\"5s\") must be less than timeout (\"2s\"): the overall timeout would always end the call first, so the per-try timeout would never fire",
    );
    check(
        &["clients.users.retry=()", "clients.users.hedge=(max_attempts: 2)"],
        "--set clients.users.hedge=(max_attempts: 2): clients.users.hedge: give either `retry` or `hedge`, not both: as in gRPC, a call has a retry policy or a hedging policy (hedges already resend after the failures listed in `non_fatal`)",
    );
    check(
        &["clients.users.retry.max_attempts=5"],
        "--set clients.users.retry.max_attempts=5: clients.users.retry: cannot set `max_attempts` inside `clients.users.retry`, which is not set (None); set `clients.users.retry` as a whole",
    );
    check(
        &["services.app.dependencies.db.retry=(retry_on: [Ok])"],
        "--set services.app.dependencies.db.retry=(retry_on: [Ok]): services.app.dependencies.db.retry.retry_on[0]: `Ok` is a success; only failures are retried or hedged on",
    );
    // Removing the retry leaves the budget with nothing to limit: the override is blamed.
    let e = parse_with(&with_client("retry: (), budget: MaxRetries()"), &["clients.users.retry=None"])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "--set clients.users.retry=None: clients.users.budget: a budget limits retries and hedges, but there is no `retry` or `hedge`, so it would have no effect"
    );
}

#[test]
fn a_dependency_fails_over_to_another_service() {
    // The base has `db` only; a second provider is added next to it.
    let src = edit_of(
        &with_dependency("fallback: Failover(service: \"replica\", endpoint: \"query\")"),
        &[("\"db\": (endpoints: { \"query\": (work: Constant(\"1ms\")) }),", "\"db\": (endpoints: { \"query\": (work: Constant(\"1ms\")) }),\n        \"replica\": (endpoints: { \"query\": (work: Constant(\"2ms\")) }),")],
    );
    let s = parse_with(&src, &[]).unwrap_or_else(|e| panic!("{e}"));
    let p = &s.config.services[0].dependencies[0].policy;
    assert_eq!(
        p.fallback,
        Some(FallbackConfig::Failover {
            service: squall_model::ServiceId(2),
            endpoint: squall_model::EndpointId(0)
        })
    );
    // A policy for the failover target counts as used: the failover calls it.
    let with_policy = edit_of(
        &src,
        &[("(timeout: \"1s\",", "(timeout: \"1s\",\n                per_try_timeout: \"100ms\",")],
    );
    let with_policy = edit_of(
        &with_policy,
        &[("dependencies: { \"db\"", "dependencies: { \"replica\": (timeout: \"3s\"), \"db\"")],
    );
    parse_with(&with_policy, &[]).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_failover_must_name_a_real_other_service_of_a_dependency() {
    dependency_error(
        "fallback: Failover(service: \"dbb\", endpoint: \"query\")",
        "f.ron:10:45: services.app.dependencies.db.fallback.Failover.service: unknown service `dbb`, did you mean `db`?",
    );
    dependency_error(
        "fallback: Failover(service: \"db\", endpoint: \"query\")",
        "f.ron:10:45: services.app.dependencies.db.fallback.Failover.service: a failover to `db` itself would only repeat the call; use `retry` for that",
    );
    client_error(
        "fallback: Failover(service: \"db\", endpoint: \"query\")",
        "f.ron:15:13: clients.users.fallback: a client group has one target and no caller to fail over for it; give `Failover` to the `dependencies` of the service that calls the provider",
    );
}
