//! A full valid scenario builds the expected `ModelConfig`: ids follow file order, times are
//! nanoseconds, schedules become rate points, and the bucket width follows its rule.

use crate::{edit, parse_with, FLAGSHIP};
use squall_kernel::time::{NS_PER_MS, NS_PER_S};
use squall_kernel::{Dist, SimDuration, SimTime};
use squall_model::{ArrivalProcess, BalancerKind, EndpointId, Load, QueueConfig, ServiceId, Step};

#[test]
fn the_flagship_builds_the_expected_model_config() {
    let s = parse_with(FLAGSHIP, &[]).unwrap();
    assert_eq!(s.name, "flagship");
    assert_eq!(s.description, "three tiers");
    assert_eq!(s.file, "f.ron");
    assert_eq!(s.source_hash, squall_kernel::rng::fnv1a64(FLAGSHIP.as_bytes(), 0xcbf29ce484222325));
    let c = &s.config;
    assert_eq!(c.seed, 7);
    assert_eq!(c.duration, SimDuration::from_secs(600));
    assert_eq!(c.bucket_width, SimDuration::from_secs(1));
    assert_eq!((c.limits.max_events, c.limits.max_in_flight), (2_000_000_000, 1_000_000));

    let names: Vec<&str> = c.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["api", "db"]);
    let api = &c.services[0];
    assert_eq!((api.replicas, api.workers), (4, 32));
    assert_eq!(api.queue, QueueConfig::fifo(256, false));
    assert_eq!(api.balancer, BalancerKind::LeastOutstanding);
    let endpoints: Vec<&str> = api.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(endpoints, ["feed", "health"]);
    let feed = &api.endpoints[0];
    let Step::Work(Dist::LogNormal { mu, sigma }) = feed.steps[0] else { panic!("{:?}", feed.steps) };
    assert!((mu - 8e6f64.ln()).abs() < 1e-12, "mu {mu}");
    assert!((sigma - (40e6f64.ln() - 8e6f64.ln()) / squall_kernel::dist::Z_99).abs() < 1e-12);
    assert_eq!(feed.calls().count(), 1);
    assert_eq!(
        (feed.calls().next().unwrap().service, feed.calls().next().unwrap().endpoint),
        (ServiceId(1), EndpointId(0))
    );
    assert_eq!(feed.calls().next().unwrap().timeout, Some(SimDuration::from_millis(100)));
    assert!(matches!(api.endpoints[1].steps[0], Step::Work(Dist::Constant(v)) if v == NS_PER_MS as f64));

    let db = &c.services[1];
    assert_eq!((db.replicas, db.workers), (2, 16));
    assert_eq!(db.queue, QueueConfig::fifo(1000, false), "the default queue");
    assert_eq!(db.balancer, BalancerKind::RoundRobin, "the default balancer");
    assert!(
        matches!(db.endpoints[0].steps[0], Step::Work(Dist::Exponential { mean }) if mean == 5.0 * NS_PER_MS as f64)
    );

    let users = &c.clients[0];
    assert_eq!((users.name.as_str(), users.service, users.endpoint), ("users", ServiceId(0), EndpointId(0)));
    assert_eq!(users.policy.timeout, Some(SimDuration::from_secs(1)));
    let Load::Open { process, rate } = &users.load else { panic!("{:?}", users.load) };
    assert_eq!(*process, ArrivalProcess::Poisson);
    let t = |s: u64| SimTime(s * NS_PER_S);
    assert_eq!(
        rate.points,
        [(t(0), 3000.0), (t(120), 3000.0), (t(120), 9000.0), (t(180), 9000.0), (t(240), 3000.0)]
    );

    let probes = &c.clients[1];
    assert_eq!((probes.service, probes.endpoint, probes.policy.timeout), (ServiceId(0), EndpointId(1), None));
    let Load::Closed { users, think } = &probes.load else { panic!("{:?}", probes.load) };
    assert_eq!(*users, 3);
    assert!(matches!(think, Dist::Constant(v) if *v == NS_PER_S as f64));
}

#[test]
fn long_runs_get_wider_buckets_rounded_up_to_a_millisecond() {
    let width = |duration: &str, timeseries: &str| {
        let src = edit(&[
            ("duration: \"10m\"", duration),
            ("timeseries: (bucket: \"1s\", max_buckets: 3600)", timeseries),
        ]);
        parse_with(&src, &[]).unwrap().config.bucket_width
    };
    assert_eq!(width("duration: \"10h\"", "timeseries: ()"), SimDuration::from_secs(10));
    assert_eq!(width("duration: \"10s\"", "timeseries: (max_buckets: 3)"), SimDuration::from_millis(3334));
    assert_eq!(width("duration: \"1s\"", "timeseries: (bucket: \"1us\")"), SimDuration::from_millis(1));
    assert_eq!(width("duration: \"1m\"", "timeseries: (bucket: \"2.5s\")"), SimDuration::from_millis(2500));
}

#[test]
fn omitted_optional_fields_take_their_defaults() {
    let src = r#"Scenario(name: "min", seed: 1, duration: "1s",
        services: {"s": (endpoints: {"e": (work: Constant("1ms"))})},
        clients: {"c": (target: (service: "s", endpoint: "e"), arrivals: Constant(rate: 10))})"#;
    let s = parse_with(src, &[]).unwrap();
    assert_eq!(s.description, "");
    let svc = &s.config.services[0];
    assert_eq!((svc.replicas, svc.workers, svc.queue.capacity, svc.queue.shared), (1, 1, 1000, false));
    assert_eq!(s.config.limits, squall_model::Limits::default());
    assert_eq!(s.config.bucket_width, SimDuration::from_secs(1));
    assert_eq!(s.config.clients[0].policy.timeout, None);
}

#[test]
fn every_distribution_converts_to_nanoseconds() {
    let work = |dist: &str| {
        let src = edit(&[("work: Exponential(mean: \"5ms\")", &format!("work: {dist}"))]);
        let s = parse_with(&src, &[]).unwrap_or_else(|e| panic!("{dist}: {e}"));
        let Step::Work(d) = &s.config.services[1].endpoints[0].steps[0] else { panic!("no work step") };
        d.clone()
    };
    let ms = NS_PER_MS as f64;
    assert!(
        matches!(work("Uniform(low: \"1ms\", high: \"5ms\")"), Dist::Uniform { low, high } if low == ms && high == 5.0 * ms)
    );
    assert!(
        matches!(work("Normal(mean: \"10ms\", std_dev: \"2ms\")"), Dist::Normal { mean, std_dev } if mean == 10.0 * ms && std_dev == 2.0 * ms)
    );
    let Dist::LogNormal { mu, sigma } = work("LogNormal(mu: 1.5, sigma: 0.5, unit: \"ms\")") else {
        panic!()
    };
    assert!((mu - (1.5 + ms.ln())).abs() < 1e-12 && sigma == 0.5);
    assert!(
        matches!(work("Pareto(scale: \"1ms\", shape: 1.5, max: \"1s\")"), Dist::BoundedPareto { scale, shape, max } if scale == ms && shape == 1.5 && max == 1000.0 * ms)
    );
    assert!(
        matches!(work("Gamma(shape: 2.0, scale: \"5ms\")"), Dist::Gamma { shape, scale, .. } if shape == 2.0 && scale == 5.0 * ms)
    );
    assert!(
        matches!(work("Erlang(k: 3, mean: \"6ms\")"), Dist::Gamma { shape, scale, .. } if shape == 3.0 && scale == 2.0 * ms)
    );
    assert!(
        matches!(work("Empirical([\"1ms\", \"2ms\", \"5ms\"])"), Dist::Choice { values } if values == [ms, 2.0 * ms, 5.0 * ms])
    );
    let Dist::Quantiles { points } =
        work("Quantiles([(0.0, \"1ms\"), (0.5, \"3ms\"), (0.99, \"20ms\"), (1.0, \"50ms\")])")
    else {
        panic!()
    };
    assert_eq!(points, [(0.0, ms), (0.5, 3.0 * ms), (0.99, 20.0 * ms), (1.0, 50.0 * ms)]);
    let Dist::Mixture { parts } = work("Mixture([(weight: 0.9, dist: Exponential(mean: \"5ms\")), (weight: 0.1, dist: Constant(\"100ms\"))])") else { panic!() };
    assert_eq!(parts.len(), 2);
    assert!((parts[0].0 - 0.9).abs() < 1e-12 && parts[1].0 == 1.0);
}

#[test]
fn mixtures_nest_up_to_eight_deep() {
    let nest = |depth: usize| {
        let mut d = "Constant(\"1ms\")".to_string();
        for _ in 0..depth {
            d = format!("Mixture([(weight: 1, dist: {d})])");
        }
        d
    };
    let src = edit(&[("work: Exponential(mean: \"5ms\")", &format!("work: {}", nest(8)))]);
    assert!(parse_with(&src, &[]).is_ok());
    let src = edit(&[("work: Exponential(mean: \"5ms\")", &format!("work: {}", nest(9)))]);
    let e = parse_with(&src, &[]).unwrap_err().to_string();
    assert_eq!(
        e,
        "f.ron:27:27: services.db.endpoints.query.work: mixtures are nested 9 deep; the limit is 8"
    );
}

#[test]
fn optional_values_may_be_written_as_none_or_some() {
    let src =
        edit(&[("timeout: \"1s\"", "timeout: None"), ("timeout: \"100ms\"", "timeout: Some(\"50ms\")")]);
    let s = parse_with(&src, &[]).unwrap();
    assert_eq!(s.config.clients[0].policy.timeout, None);
    assert_eq!(
        s.config.services[0].endpoints[0].calls().next().unwrap().timeout,
        Some(SimDuration::from_millis(50))
    );
}
