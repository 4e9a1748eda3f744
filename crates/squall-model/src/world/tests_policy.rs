//! Tests of client policies in the engine: retries against the geometric arithmetic,
//! per-try timeouts, budgets, breakers, fallbacks, hedging, deadlines, Retry-After, and a
//! property test of conservation with random policies.
use super::tests::{constant_ms, digest, leaf, ms, world};
use super::*;
use crate::config::*;
use proptest::prelude::*;
use squall_kernel::Dist;

fn secs(x: u64) -> SimTime {
    SimTime(x * 1_000_000_000)
}

/// A fault on every instance of service 0 failing `fraction` of requests from `start` to `end`.
fn failing(fraction: f64, start: u64, end: u64) -> FaultConfig {
    FaultConfig {
        name: "fail".into(),
        service: ServiceId(0),
        share: 1.0,
        start: secs(start),
        end: secs(end),
        kind: FaultKind::Fail { fraction, outcome: Outcome::ServerError },
    }
}

fn retry(max_attempts: u32, backoff: Backoff) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        retry_on: RetryPolicy::DEFAULT_RETRY_ON.to_vec(),
        backoff,
        honor_retry_after: true,
    }
}

#[test]
fn retries_succeed_with_one_minus_p_to_the_n_and_cost_the_geometric_sum() {
    // Each attempt fails independently with p = 0.3; n = 3 attempts. Success 1 − p³ = 0.973
    // and attempts per request (1 − p³)/(1 − p) = 1.39. With 200k requests the standard
    // errors are 3.6e-4 and 1.4e-3; the tolerances are about five of them.
    let (p, n) = (0.3f64, 3);
    let mut cfg = world(vec![leaf("s", 4, 100, 100, constant_ms(1.0))], 2000.0, 100);
    cfg.faults = vec![failing(p, 0, 200)];
    cfg.clients[0].policy.retry = Some(retry(n, Backoff::Immediate));
    let out = run(&cfg);
    let c = &out.clients[0];
    let issued = c.outcomes.total() as f64;
    let success = c.outcomes.get(Outcome::Ok) as f64 / issued;
    let expected = 1.0 - p.powi(n as i32);
    assert!((success - expected).abs() < 0.002, "success {success}, expected {expected}");
    let per_request = c.policy.attempts as f64 / issued;
    let expected_attempts = expected / (1.0 - p);
    assert!((per_request - expected_attempts).abs() < 0.008, "attempts {per_request} vs {expected_attempts}");
    assert_eq!(c.policy.attempts, c.policy.attempt_outcomes.total());
    assert_eq!(c.policy.retries, c.policy.attempts - c.issued);
    // Every failure the client saw is one that ran out of attempts.
    assert_eq!(c.outcomes.get(Outcome::ServerError), c.outcomes.total() - c.outcomes.get(Outcome::Ok));
}

/// Work that takes 10 ms, except a share `p` of attempts that take `slow_ms`.
fn tail(p: f64, slow_ms: f64) -> Dist {
    Dist::mixture(vec![(1.0 - p, constant_ms(10.0)), (p, constant_ms(slow_ms))]).unwrap()
}

#[test]
fn a_per_try_timeout_retries_slow_attempts_within_the_deadline() {
    // One attempt in ten takes a second. A 50 ms per-try timeout with 2 attempts fails only
    // when both are slow: success 1 − 0.1² = 0.99 (standard error 9e-4 over 12k requests).
    let mut cfg = world(vec![leaf("s", 2, 1000, 100, tail(0.1, 1000.0))], 200.0, 60);
    cfg.clients[0].policy.timeout = Some(ms(500));
    cfg.clients[0].policy.per_try_timeout = Some(ms(50));
    cfg.clients[0].policy.retry = Some(retry(2, Backoff::Immediate));
    let out = run(&cfg);
    let c = &out.clients[0];
    let ok = c.outcomes.get(Outcome::Ok) as f64 / c.outcomes.total() as f64;
    assert!((ok - 0.99).abs() < 0.004, "ok {ok}");
    let timeouts = c.policy.attempt_outcomes.get(Outcome::Timeout) as f64 / c.policy.attempts as f64;
    assert!((timeouts - 0.1).abs() < 0.01, "timed-out attempts {timeouts}");
    assert!(c.latency_ok.max() < 70_000_000, "max {}", c.latency_ok.max());
    // Without the per-try timeout a slow attempt uses the whole deadline: 90 %.
    cfg.clients[0].policy.per_try_timeout = None;
    let out = run(&cfg);
    let c = &out.clients[0];
    let ok = c.outcomes.get(Outcome::Ok) as f64 / c.outcomes.total() as f64;
    assert!((ok - 0.9).abs() < 0.01, "ok {ok}");
    assert_eq!(c.policy.retries, 0, "the deadline leaves no time to retry");
}

#[test]
fn a_budget_stops_retries_during_an_outage() {
    // Every attempt fails for 10 s. Unbudgeted, each request makes 3 attempts; under gRPC
    // throttling (10 tokens, 0.1 per success) retries stop after the bucket falls to half:
    // 5 failures from full, each retried failure costing a token.
    let mut cfg = world(vec![leaf("s", 2, 100, 100, constant_ms(1.0))], 500.0, 30);
    cfg.faults = vec![failing(1.0, 10, 20)];
    cfg.clients[0].policy.retry = Some(retry(3, Backoff::Immediate));
    let unbudgeted = run(&cfg);
    let c = &unbudgeted.clients[0];
    assert!(c.policy.retries > 9_000, "retries {}", c.policy.retries);
    assert_eq!(c.policy.retries_denied, 0);
    cfg.clients[0].policy.budget = Some(RetryBudgetConfig::GrpcThrottle { max_tokens: 10, token_ratio: 0.1 });
    let out = run(&cfg);
    let c = &out.clients[0];
    assert!(c.policy.retries < 10, "retries {}", c.policy.retries);
    assert!(c.policy.retries_denied > 4_000, "denied {}", c.policy.retries_denied);
    // After the outage the bucket refills and requests succeed again.
    assert_eq!(c.series[25].outcomes.get(Outcome::Ok), c.series[25].outcomes.total());
    // Finagle: within any 10 s, retries ≤ 10/s · 10 s + 20 % of requests.
    cfg.clients[0].policy.budget = Some(RetryBudgetConfig::Finagle {
        ttl: SimDuration::from_secs(10),
        min_retries_per_sec: 10,
        percent_can_retry: 0.2,
    });
    let out = run(&cfg);
    let c = &out.clients[0];
    let window: u64 = c.series[10..20].iter().map(|b| b.issued).sum();
    let retries: u64 = c.policy.series[10..20].iter().map(|b| b.retries).sum();
    assert!(retries as f64 <= 100.0 + 0.2 * window as f64 + 1.0, "{retries} retries for {window} requests");
    assert!(retries as f64 > 0.15 * window as f64, "{retries} retries for {window} requests");
}

#[test]
fn a_breaker_opens_short_circuits_and_closes_after_the_outage() {
    let mut cfg = world(vec![leaf("s", 2, 100, 100, constant_ms(1.0))], 200.0, 40);
    cfg.faults = vec![failing(1.0, 10, 20)];
    cfg.clients[0].policy.breaker = Some(BreakerPolicy {
        config: BreakerConfig::Consecutive(ConsecutiveConfig {
            failure_threshold: 5,
            break_duration: SimDuration::from_secs(1),
        }),
        shared: true,
    });
    let out = run(&cfg);
    let c = &out.clients[0];
    let b = c.policy.breaker.as_ref().expect("breaker figures");
    assert_eq!(b.breakers, 1);
    // Open for a second, one failed trial, open again: about ten opens in the outage.
    assert!((9..=11).contains(&b.opens), "opens {}", b.opens);
    let open_s = b.state_ns[BreakerState::Open.index()] as f64 / 1e9;
    assert!((9.0..=10.5).contains(&open_s), "open {open_s} s");
    assert_eq!(b.state_ns.iter().sum::<u128>(), 40_000_000_000, "state time covers the run");
    assert!(c.policy.short_circuited > 1500, "short-circuited {}", c.policy.short_circuited);
    assert_eq!(c.outcomes.get(Outcome::CircuitOpen), c.policy.short_circuited);
    // The series shows it open during the outage, closed after.
    assert!(c.policy.series[15].breaker_open_ns > 800_000_000);
    assert_eq!(c.policy.series[30].breaker_open_ns, 0);
    assert_eq!(c.series[30].outcomes.get(Outcome::Ok), c.series[30].outcomes.total());
    // The service saw only the trial calls while the breaker was open.
    let during: u64 = out.services[0].series[12..19].iter().map(|b| b.arrivals).sum();
    assert!(during < 20, "{during} arrivals while open");
}

#[test]
fn a_fallback_turns_failures_into_degraded_answers() {
    let mut cfg = world(vec![leaf("s", 1, 100, 100, constant_ms(1.0))], 100.0, 20);
    cfg.faults = vec![failing(1.0, 0, 100)];
    cfg.clients[0].policy.fallback = Some(FallbackConfig::Static);
    let out = run(&cfg);
    let c = &out.clients[0];
    assert_eq!(c.outcomes.get(Outcome::Degraded), c.outcomes.total());
    assert_eq!(c.policy.fallbacks, c.outcomes.total());
    assert_eq!(c.policy.attempt_outcomes.get(Outcome::ServerError), c.policy.attempts);
    // A stale cache covers only its share.
    cfg.clients[0].policy.fallback = Some(FallbackConfig::Cache { hit_ratio: 0.6 });
    let out = run(&cfg);
    let c = &out.clients[0];
    let degraded = c.outcomes.get(Outcome::Degraded) as f64 / c.outcomes.total() as f64;
    assert!((degraded - 0.6).abs() < 0.03, "degraded {degraded}");
}

#[test]
fn hedging_cuts_the_tail_and_cancels_the_losers() {
    // One attempt in ten takes 200 ms. Hedges after 20 ms, up to 3 attempts: a request is
    // slow only if all three are (0.1 %), so the 99th percentile falls to about 30 ms.
    let mut cfg = world(vec![leaf("s", 2, 1000, 100, tail(0.1, 200.0))], 200.0, 60);
    let plain = run(&cfg);
    assert!(plain.clients[0].latency_ok.value_at_quantile(0.95) > 190_000_000);
    cfg.clients[0].policy.hedge =
        Some(HedgePolicy { max_attempts: 3, hedging_delay: ms(20), non_fatal: Vec::new() });
    let out = run(&cfg);
    let c = &out.clients[0];
    let p99 = c.latency_ok.value_at_quantile(0.99);
    assert!(p99 < 35_000_000, "p99 {p99}");
    // The second attempt goes out for the slow tenth, the third for 1 % of requests.
    let hedges = c.policy.hedges as f64 / c.issued as f64;
    assert!((hedges - 0.11).abs() < 0.01, "hedges per request {hedges}");
    // Every request has one winner; the other attempts out are cancelled.
    assert_eq!(c.policy.attempt_outcomes.get(Outcome::Cancelled), c.policy.hedges);
    // The losers' work still ran: it is wasted.
    assert!(out.services[0].wasted_work_ns > 0);
}

/// Client → a → b, where a calls b with a propagated deadline.
fn chain() -> ModelConfig {
    let mut a = leaf("a", 1, 100, 100, constant_ms(10.0));
    a.endpoints[0].steps.push(Step::Calls { calls: vec![super::tests::call(1)], need: 1 });
    a.dependencies.push(DependencyConfig {
        service: ServiceId(1),
        policy: CallPolicy {
            timeout: Some(ms(1000)),
            propagate_deadline: Some(DeadlinePropagation::default()),
            ..CallPolicy::default()
        },
        bulkhead: None,
        pool: None,
    });
    let b = leaf("b", 1, 100, 100, constant_ms(20.0));
    let mut cfg = world(vec![a, b], 50.0, 20);
    cfg.clients[0].policy.timeout = Some(ms(100));
    cfg
}

#[test]
fn a_propagated_deadline_bounds_the_call_and_clock_skew_expires_it() {
    // The client allows 100 ms; a spends 10 ms, then gives b 0.9 × 90 ms. All is in time.
    let mut cfg = chain();
    cfg.services[1].honor_deadlines = true;
    let out = run(&cfg);
    assert!(ok_share_of(&out) > 0.999);
    // b's clock runs 200 ms ahead: every call arrives already expired by its clock.
    cfg.services[1].clock_skew = ClockSkew::Offsets(vec![200_000_000]);
    let out = run(&cfg);
    let b = &out.services[1];
    assert_eq!(b.refusals.get(Outcome::DeadlineExceeded), b.arrivals);
    assert_eq!(out.dependencies[0].outcomes.get(Outcome::DeadlineExceeded), b.arrivals);
    assert_eq!(ok_share_of(&out), 0.0);
    // Sent as a duration (gRPC's grpc-timeout), the deadline does not care about clocks.
    cfg.services[0].dependencies[0].policy.propagate_deadline =
        Some(DeadlinePropagation { format: DeadlineFormat::Relative, ..DeadlinePropagation::default() });
    let out = run(&cfg);
    assert_eq!(out.services[1].refusals.get(Outcome::DeadlineExceeded), 0);
    assert!(ok_share_of(&out) > 0.999);
    cfg.services[0].dependencies[0].policy.propagate_deadline = Some(DeadlinePropagation::default());
    // a's clock runs ahead instead: it sees nothing left and does not even call.
    cfg.services[1].clock_skew = ClockSkew::None;
    cfg.services[0].clock_skew = ClockSkew::Offsets(vec![200_000_000]);
    let out = run(&cfg);
    assert_eq!(out.services[1].arrivals, 0);
    assert_eq!(out.dependencies[0].outcomes.get(Outcome::DeadlineExceeded), out.dependencies[0].calls);
}

#[test]
fn without_propagation_the_callee_works_for_a_caller_that_gave_up() {
    // b can serve 20 calls a second and gets 50: its queue fills. With a's own 1 s timeout b
    // serves calls that waited seconds, for nobody. With the deadline propagated and
    // honoured, b drops the expired calls instead; FIFO still serves calls about to expire
    // (their 50 ms of work outlasts what is left), while LIFO serves the newest, in time.
    let mut cfg = chain();
    cfg.services[1].endpoints[0] = EndpointConfig::work("e", constant_ms(50.0));
    cfg.services[1].workers = 1;
    cfg.services[0].dependencies[0].policy.propagate_deadline = None;
    let independent = run(&cfg);
    cfg.services[1].honor_deadlines = true;
    cfg.services[0].dependencies[0].policy.propagate_deadline = Some(DeadlinePropagation::default());
    let propagated = run(&cfg);
    cfg.services[1].queue.discipline = Discipline::Lifo;
    let lifo = run(&cfg);
    let useful = |o: &RunOutput| o.services[1].useful as f64 / o.services[1].completed as f64;
    assert!(useful(&independent) < 0.05, "independent {}", useful(&independent));
    assert_eq!(independent.services[1].dropped, 0);
    let b = &propagated.services[1];
    assert!(b.dropped as f64 > 0.5 * b.arrivals as f64, "dropped {} of {}", b.dropped, b.arrivals);
    assert!(useful(&lifo) > 0.7 && useful(&lifo) > 3.0 * useful(&propagated), "lifo {}", useful(&lifo));
    assert!(
        ok_share_of(&lifo) > 0.25 && ok_share_of(&independent) < 0.05,
        "lifo answers {}",
        ok_share_of(&lifo)
    );
}

fn ok_share_of(out: &RunOutput) -> f64 {
    let c = &out.clients[0];
    c.outcomes.get(Outcome::Ok) as f64 / c.outcomes.total() as f64
}

#[test]
fn retry_after_from_a_rate_limiter_is_honoured() {
    // A limiter of 50/s with no burst, 80 requests/s. Immediate retries of a 429 hit the
    // empty bucket again; waiting the Retry-After gets the next token.
    let mut s = leaf("s", 1, 100, 100, constant_ms(1.0));
    s.admission.rate_limit = Some(RateLimitConfig {
        bucket: TokenBucket::Continuous { rate: 50.0, burst: 1 },
        per_instance: false,
    });
    let mut cfg = world(vec![s], 30.0, 60);
    let mut p = retry(3, Backoff::Immediate);
    p.retry_on.push(Outcome::RateLimited);
    p.honor_retry_after = false;
    cfg.clients[0].policy.retry = Some(p.clone());
    let ignored = run(&cfg);
    p.honor_retry_after = true;
    cfg.clients[0].policy.retry = Some(p);
    let honoured = run(&cfg);
    let ok =
        |o: &RunOutput| o.clients[0].outcomes.get(Outcome::Ok) as f64 / o.clients[0].outcomes.total() as f64;
    assert!(ok(&ignored) < ok(&honoured) - 0.1, "ignored {} honoured {}", ok(&ignored), ok(&honoured));
}

#[test]
fn adaptive_throttling_rejects_locally_while_the_backend_fails() {
    let mut cfg = world(vec![leaf("s", 1, 100, 100, constant_ms(1.0))], 200.0, 60);
    cfg.faults = vec![failing(1.0, 10, 40)];
    cfg.clients[0].policy.throttle = Some(AdaptiveThrottleConfig::default());
    let out = run(&cfg);
    let c = &out.clients[0];
    assert!(c.policy.throttled > 0);
    assert_eq!(c.outcomes.get(Outcome::Throttled), c.policy.throttled);
    // Late in the outage, P = (requests − 2·accepts)/(requests + 1), with every attempt of
    // the last 38.5 s counted and only the first 10 s accepted: (7700 − 4000)/7701 = 0.48.
    let b = &c.series[38];
    let share = b.outcomes.get(Outcome::Throttled) as f64 / b.outcomes.total() as f64;
    assert!((share - 0.48).abs() < 0.05, "throttled share {share}");
    // Before the outage nothing is throttled.
    assert_eq!(c.series[5].outcomes.get(Outcome::Throttled), 0);
}

/// Policy knobs for a random world.
#[derive(Clone, Debug)]
struct PolicyKnobs {
    retry: Option<(u32, u8)>,
    per_try: Option<u64>,
    budget: Option<u8>,
    breaker: Option<(bool, bool)>,
    throttle: bool,
    hedge: Option<(u32, u64)>,
    fallback: Option<bool>,
    propagate: bool,
}

fn arb_policy() -> impl Strategy<Value = PolicyKnobs> {
    (
        prop::option::of((1u32..5, 0u8..5)),
        prop::option::of(1u64..40),
        prop::option::of(0u8..5),
        prop::option::of((any::<bool>(), any::<bool>())),
        any::<bool>(),
        prop::option::of((2u32..5, 0u64..20)),
        prop::option::of(any::<bool>()),
        any::<bool>(),
    )
        .prop_map(|(retry, per_try, budget, breaker, throttle, hedge, fallback, propagate)| {
            PolicyKnobs {
                hedge: if retry.is_some() { None } else { hedge },
                retry,
                per_try,
                budget,
                breaker,
                throttle,
                fallback,
                propagate,
            }
        })
}

fn policy_of(k: &PolicyKnobs, timeout: Option<SimDuration>) -> CallPolicy {
    let backoff = |b: u8| match b {
        0 => Backoff::Immediate,
        1 => Backoff::Constant { delay: ms(3) },
        2 => Backoff::Exponential { base: ms(1), cap: ms(20), jitter: Jitter::Decorrelated },
        3 => Backoff::Grpc {
            initial_backoff: ms(1),
            max_backoff: ms(10),
            multiplier: 2.0,
            jitter: GrpcJitter::CCore,
        },
        _ => Backoff::Envoy { base_interval: ms(2), max_interval: ms(20) },
    };
    CallPolicy {
        timeout,
        per_try_timeout: k.per_try.map(ms).filter(|p| timeout.is_none_or(|t| *p < t)),
        propagate_deadline: k.propagate.then(DeadlinePropagation::default),
        retry: k.retry.map(|(n, b)| RetryPolicy {
            max_attempts: n,
            retry_on: RetryPolicy::DEFAULT_RETRY_ON.to_vec(),
            backoff: backoff(b),
            honor_retry_after: b % 2 == 0,
        }),
        budget: k.budget.filter(|_| k.retry.is_some() || k.hedge.is_some()).map(|b| match b {
            0 => RetryBudgetConfig::Finagle {
                ttl: SimDuration::from_secs(1),
                min_retries_per_sec: 2,
                percent_can_retry: 0.2,
            },
            1 => RetryBudgetConfig::Envoy { budget_percent: 20.0, min_retry_concurrency: 1 },
            2 => RetryBudgetConfig::MaxRetries { max_retries: 2 },
            3 => RetryBudgetConfig::GrpcThrottle { max_tokens: 4, token_ratio: 0.5 },
            _ => RetryBudgetConfig::AwsQuota {
                initial_capacity: 50,
                retry_cost: 5,
                timeout_retry_cost: 10,
                no_retry_increment: 1,
            },
        }),
        breaker: k.breaker.map(|(r4j, shared)| BreakerPolicy {
            config: if r4j {
                BreakerConfig::Resilience4j(Resilience4jConfig {
                    sliding_window_size: 10,
                    minimum_number_of_calls: 5,
                    permitted_number_of_calls_in_half_open_state: 2,
                    wait_duration_in_open_state: ms(50),
                    slow_call_duration_threshold: ms(20),
                    automatic_transition_from_open_to_half_open_enabled: shared,
                    ..Resilience4jConfig::default()
                })
            } else {
                BreakerConfig::Consecutive(ConsecutiveConfig { failure_threshold: 3, break_duration: ms(40) })
            },
            shared,
        }),
        throttle: k.throttle.then(|| AdaptiveThrottleConfig { window: SimDuration::from_secs(2), k: 1.5 }),
        hedge: k.hedge.map(|(n, d)| HedgePolicy {
            max_attempts: n,
            hedging_delay: ms(d),
            non_fatal: vec![Outcome::ServerError, Outcome::Shed],
        }),
        fallback: k.fallback.map(|stat| {
            if stat {
                FallbackConfig::Static
            } else {
                FallbackConfig::Cache { hit_ratio: 0.5 }
            }
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// With any mix of policies on the client and on every dependency, every logical request
    /// ends exactly once, attempts add up, breakers account all their time, and a run
    /// repeats exactly.
    #[test]
    fn random_policies_conserve_requests_and_repeat_exactly(
        cfg in super::tests::arb_graph(),
        knobs in prop::collection::vec(arb_policy(), 4),
    ) {
        let mut cfg = cfg;
        cfg.clients[0].policy = policy_of(&knobs[0], cfg.clients[0].policy.timeout);
        cfg.clients[0].policy.propagate_deadline = None;
        for (s, k) in cfg.services.iter_mut().zip(&knobs[1..]) {
            s.honor_deadlines = k.propagate;
            s.clock_skew = if k.throttle { ClockSkew::Uniform { max: ms(5) } } else { ClockSkew::None };
            for d in &mut s.dependencies {
                d.policy = policy_of(k, d.policy.timeout);
            }
        }
        let out = run(&cfg);
        let c = &out.conservation;
        prop_assert_eq!(c.issued, c.ended + c.in_flight);
        let total_ns = u128::from(out.end.as_nanos());
        for p in out.clients.iter().map(|c| (&c.policy, c.issued)).chain(out.dependencies.iter().map(|d| (&d.policy, d.calls))) {
            let (p, logical) = p;
            // Every attempt ends once (some may be out at the end); each logical request
            // sends at most one first attempt.
            prop_assert!(p.attempts >= p.attempt_outcomes.total());
            prop_assert!(p.attempts - p.retries - p.hedges <= logical);
            if let Some(b) = &p.breaker {
                prop_assert_eq!(b.state_ns.iter().sum::<u128>(), total_ns * u128::from(b.breakers));
            }
        }
        prop_assert_eq!(digest(&out), digest(&run(&cfg)));
    }
}
