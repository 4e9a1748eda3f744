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
            timeout: None,
            criticality: Criticality::default(),
        }],
        faults: Vec::new(),
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
                    timeout: client_timeout_ms.map(SimDuration::from_millis),
                    criticality: Criticality::default(),
                }],
                faults: Vec::new(),
            }
        })
}

/// A digest of everything a report would show, to compare runs.
fn digest(out: &RunOutput) -> String {
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
}

#[test]
fn a_timeout_answers_the_client_and_the_late_work_counts_as_wasted() {
    // Work takes 100 ms, the client waits 10 ms: every request times out, and all the work
    // done for them is wasted.
    let mut cfg = single(5.0, 100.0, 1, 1, 1000, false);
    cfg.services[0].endpoints[0].steps = vec![Step::Work(Dist::constant(100e6).unwrap())];
    cfg.clients[0].timeout = Some(SimDuration::from_millis(10));
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
