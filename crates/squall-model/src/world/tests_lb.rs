//! Tests of the balancer's view of health in the engine: outlier detection with its
//! max-ejection-percent rule and un-ejection, the panic threshold, and slow start after a
//! deploy.
use super::tests::{constant_ms, leaf, world};
use super::*;
use crate::config::*;
use squall_kernel::Dist;
use squall_policy::HostIndex;

fn secs(x: u64) -> SimTime {
    SimTime(x * 1_000_000_000)
}

fn dur(x: u64) -> SimDuration {
    SimDuration::from_secs(x)
}

/// Five round-robin instances at 200/s for `secs`; a fault fails every request of the first
/// `share` of them from 10 s to `fault_end` s.
fn failing(share: f64, fault_end: u64, secs: u64, outlier: Option<OutlierConfig>) -> ModelConfig {
    let mut s = leaf("s", 5, 8, 100, constant_ms(2.0));
    s.lb.outlier_detection = outlier;
    let mut cfg = world(vec![s], 200.0, secs);
    cfg.faults.push(FaultConfig {
        name: "fail".into(),
        service: ServiceId(0),
        share,
        start: self::secs(10),
        end: self::secs(fault_end),
        kind: FaultKind::Fail { fraction: 1.0, outcome: Outcome::ServerError },
    });
    cfg
}

fn detection(max_ejection_percent: u32) -> OutlierConfig {
    OutlierConfig { consecutive_5xx: 5, max_ejection_percent, ..Default::default() }
}

/// Runs `cfg` to `t` and hands the world to `check`.
fn at(r: &mut Run, t: u64, check: impl FnOnce(&World)) {
    assert!(r.advance(secs(t)).is_none(), "the run ended before {t} s");
    check(&r.sim.model);
}

/// Instance ids of the indexes `k`.
fn ids(k: &[usize]) -> Vec<InstanceId> {
    k.iter().map(|&k| InstanceId::new(k)).collect()
}

fn ejected(w: &World, inst: usize) -> bool {
    let d = w.services[ServiceId(0)].health.outlier.as_ref().expect("outlier detection on");
    d.is_ejected(HostIndex(w.instances[InstanceId::new(inst)].ordinal))
}

#[test]
fn outlier_detection_ejects_a_failing_instance_and_lets_it_back_after_the_ejection_time() {
    let plain = run(&failing(0.2, 60, 150, None));
    let errors_plain = plain.clients[0].outcomes.get(Outcome::ServerError);
    // One instance in five fails for 50 s at 200/s: about 2,000 errors.
    assert!(errors_plain > 1_800, "{errors_plain}");
    assert_eq!(plain.services[0].fleet.ejections, 0);

    let cfg = failing(0.2, 60, 150, Some(detection(20)));
    let mut r = Run::new(&cfg);
    at(&mut r, 11, |w| {
        assert!(ejected(w, 0), "the fifth error in a row ejects it");
        assert_eq!(w.services[ServiceId(0)].health.eligible, ids(&[1, 2, 3, 4]));
    });
    // Ejected at about 10.1 s for 30 s: back at the 50 s sweep, still failing, so ejected
    // again after five errors, now for 60 s: back at the 120 s sweep.
    at(&mut r, 45, |w| assert!(ejected(w, 0)));
    at(&mut r, 55, |w| {
        let d = w.services[ServiceId(0)].health.outlier.as_ref().unwrap();
        assert!(ejected(w, 0));
        assert_eq!(d.num_ejections(HostIndex(0)), 2);
        assert_eq!(d.ejection_time(HostIndex(0)), dur(60));
    });
    at(&mut r, 119, |w| assert!(ejected(w, 0), "the fault ended at 60 s, the ejection lasts"));
    at(&mut r, 121, |w| {
        assert!(!ejected(w, 0));
        assert_eq!(w.services[ServiceId(0)].health.eligible, ids(&[0, 1, 2, 3, 4]));
    });
    while r.advance(SimTime::MAX).is_none() {}
    let out = r.finish();
    let c = &out.clients[0];
    let errors = c.outcomes.get(Outcome::ServerError);
    assert!(errors <= 12, "{errors} errors: five per detection, two detections");
    assert!(errors * 100 < errors_plain, "{errors} vs {errors_plain}");
    assert_eq!(out.services[0].fleet.ejections, 2);
    // Back in the rotation after 120 s, and healthy: everything succeeds.
    let late: u64 = c.series[121..150].iter().map(|b| b.outcomes.get(Outcome::Ok)).sum();
    let late_all: u64 = c.series[121..150].iter().map(|b| b.outcomes.total()).sum();
    assert_eq!(late, late_all);
    assert!(late > 5_000);
}

#[test]
fn max_ejection_percent_counts_the_current_hosts_and_always_ejects_one() {
    // Two failing instances of five. At 10 %, even one ejection is 20 % > 10 %: none,
    // unless always_eject_one_host lets exactly one go.
    let cfg = failing(0.4, 40, 40, Some(detection(10)));
    let out = run(&cfg);
    let f = &out.services[0].fleet;
    assert_eq!(f.ejections, 0);
    assert!(f.ejections_overflow > 100, "every fifth error in a row overflows: {}", f.ejections_overflow);
    assert_eq!(f.ejections_detected, f.ejections_overflow);

    let mut cfg = failing(0.4, 40, 40, Some(OutlierConfig { always_eject_one_host: true, ..detection(10) }));
    let mut r = Run::new(&cfg);
    at(&mut r, 20, |w| {
        assert_eq!(w.services[ServiceId(0)].health.outlier.as_ref().unwrap().n_ejected(), 1);
        assert!(ejected(w, 0) != ejected(w, 1), "exactly one of the two");
    });
    // At 40 %, both go: 100·2 ≤ 40·5.
    cfg.services[0].lb.outlier_detection = Some(detection(40));
    let mut r = Run::new(&cfg);
    at(&mut r, 20, |w| {
        assert!(ejected(w, 0) && ejected(w, 1));
        assert_eq!(w.services[ServiceId(0)].health.eligible, ids(&[2, 3, 4]));
        assert!(!w.services[ServiceId(0)].health.panic, "3 of 5 healthy: 60 % ≥ 50 %");
    });
}

#[test]
fn below_the_panic_threshold_the_balancer_uses_every_endpoint() {
    // Three failing instances of five, all ejectable: 2 of 5 healthy is 40 % < 50 %.
    let cfg = failing(0.6, 40, 40, Some(detection(100)));
    let mut r = Run::new(&cfg);
    at(&mut r, 20, |w| {
        assert_eq!(w.services[ServiceId(0)].health.outlier.as_ref().unwrap().n_ejected(), 3);
        assert!(w.services[ServiceId(0)].health.panic);
        assert_eq!(w.services[ServiceId(0)].health.eligible, ids(&[0, 1, 2, 3, 4]));
    });
    while r.advance(SimTime::MAX).is_none() {}
    let out = r.finish();
    let c = &out.clients[0];
    // In panic the three failing instances get their share again.
    let (bad, all) = c.series[15..35]
        .iter()
        .fold((0, 0), |(b, a), x| (b + x.outcomes.get(Outcome::ServerError), a + x.outcomes.total()));
    let share = bad as f64 / all as f64;
    assert!((share - 0.6).abs() < 0.05, "error share in panic {share}");
    assert!(out.services[0].fleet.panic_picks > 3_000);

    // Panic mode off (threshold 0): only the two healthy instances serve.
    let mut cfg = cfg;
    cfg.services[0].lb.healthy_panic_threshold = 0;
    let out = run(&cfg);
    let c = &out.clients[0];
    let bad: u64 = c.series[15..35].iter().map(|x| x.outcomes.get(Outcome::ServerError)).sum();
    assert_eq!(bad, 0);
    assert!(c.outcomes.get(Outcome::ServerError) <= 20, "{}", c.outcomes.get(Outcome::ServerError));
    assert_eq!(out.services[0].fleet.panic_picks, 0);
}

/// Four instances of v1; at 20 s a canary by replicas brings one v2 instance (1 s to start)
/// and pauses for good.
fn canary(kind: BalancerKind, slow_start: Option<SimDuration>) -> ModelConfig {
    let mut s = leaf("s", 4, 8, 100, constant_ms(2.0));
    s.balancer = kind;
    let ep = s.endpoints[0].clone();
    s.versions = vec![
        VersionConfig { name: "v1".into(), endpoints: vec![Some(ep.clone())] },
        VersionConfig { name: "v2".into(), endpoints: vec![Some(ep)] },
    ];
    s.lifecycle.startup = Dist::constant(1e9).unwrap();
    s.lb.slow_start = slow_start;
    let mut cfg = world(vec![s], 400.0, 120);
    cfg.deploys = vec![DeployConfig {
        name: "canary".into(),
        service: ServiceId(0),
        version: 1,
        trigger: DeployTrigger::At(secs(20)),
        strategy: DeployStrategy::Canary(CanaryParams {
            steps: vec![CanaryStepConfig::SetWeight(20), CanaryStepConfig::Pause(None)],
            traffic_routing: false,
            analysis: None,
        }),
    }];
    cfg
}

/// The new version's share of answers over buckets `from..to` (seconds after it joined the
/// endpoints), divided by its share of the endpoints.
fn relative_share(out: &RunOutput, from: usize, to: usize) -> f64 {
    let v = &out.services[0].fleet.versions;
    let joined = v[1].series.iter().position(|b| b.ready > 0).expect("v2 joined") + 1;
    let (mut got, mut fair) = (0.0, 0.0);
    for k in joined + from..joined + to {
        let (a1, a2) = (v[0].series[k].answers as f64, v[1].series[k].answers as f64);
        let (r1, r2) = (f64::from(v[0].series[k].ready), f64::from(v[1].series[k].ready));
        got += a2;
        fair += (a1 + a2) * r2 / (r1 + r2);
    }
    got / fair
}

#[test]
fn slow_start_ramps_a_new_instances_share_over_the_window() {
    for kind in [BalancerKind::RoundRobin, BalancerKind::Random, BalancerKind::LeastOutstanding] {
        let plain = run(&canary(kind, None));
        let early = relative_share(&plain, 0, 10);
        assert!((early - 1.0).abs() < 0.15, "{kind:?} without slow start: {early}");

        let out = run(&canary(kind, Some(dur(30))));
        // Weight 10 % to 33 % over the first 10 s of a 30 s window.
        let early = relative_share(&out, 0, 10);
        assert!(early < 0.4, "{kind:?} first 10 s: {early}");
        let middle = relative_share(&out, 15, 25);
        assert!(middle > early, "{kind:?} ramps: {early} then {middle}");
        let late = relative_share(&out, 35, 60);
        assert!((late - 1.0).abs() < 0.1, "{kind:?} after the window: {late}");
        assert_eq!(out.clients[0].outcomes.get(Outcome::Ok), out.clients[0].outcomes.total());
    }
}

#[test]
fn without_these_features_the_balancer_state_stays_empty() {
    let out = run(&failing(0.2, 60, 30, None));
    let f = &out.services[0].fleet;
    assert_eq!((f.ejections, f.ejections_detected, f.ejections_overflow, f.panic_picks), (0, 0, 0, 0));
    let mut r = Run::new(&failing(0.2, 60, 30, None));
    at(&mut r, 20, |w| {
        assert!(w.services[ServiceId(0)].health.outlier.is_none());
        assert!(w.services[ServiceId(0)].health.eligible.is_empty());
    });
}

#[test]
fn hosts_follow_the_endpoints_through_a_rolling_update() {
    // Every instance is replaced, with a propagation delay so stopped instances still get
    // requests (ConnectionReset, a gateway failure) and get ejected; hosts join and leave
    // the detector as the endpoints change.
    let mut s = leaf("s", 5, 8, 100, constant_ms(2.0));
    let ep = s.endpoints[0].clone();
    s.versions = vec![
        VersionConfig { name: "v1".into(), endpoints: vec![Some(ep.clone())] },
        VersionConfig { name: "v2".into(), endpoints: vec![Some(ep)] },
    ];
    s.lifecycle.startup = Dist::constant(1e9).unwrap();
    s.propagation_delay = dur(3);
    s.lb = BalancerHealth {
        outlier_detection: Some(OutlierConfig {
            enforcing_consecutive_gateway_failure: 100,
            ..detection(100)
        }),
        healthy_panic_threshold: 50,
        slow_start: Some(dur(10)),
        health_check: None,
    };
    let mut cfg = world(vec![s], 300.0, 90);
    cfg.deploys = vec![DeployConfig {
        name: "to-v2".into(),
        service: ServiceId(0),
        version: 1,
        trigger: DeployTrigger::At(secs(20)),
        strategy: DeployStrategy::Rolling(RollingParams {
            max_surge: IntOrPercent::Int(1),
            max_unavailable: IntOrPercent::Int(0),
            ..RollingParams::default()
        }),
    }];
    let plain = {
        let mut cfg = cfg.clone();
        cfg.services[0].lb = BalancerHealth::default();
        run(&cfg)
    };
    let resets_plain = plain.clients[0].outcomes.get(Outcome::ConnectionReset);
    assert!(resets_plain > 100, "{resets_plain}");
    let mut r = Run::new(&cfg);
    at(&mut r, 80, |w| {
        let d = w.services[ServiceId(0)].health.outlier.as_ref().unwrap();
        assert_eq!(d.n_hosts(), 5, "the five v2 instances");
        assert_eq!(d.n_ejected(), 0, "the old instances left with their ejections");
        assert_eq!(w.services[ServiceId(0)].health.eligible, w.services[ServiceId(0)].endpoints);
    });
    while r.advance(SimTime::MAX).is_none() {}
    let out = r.finish();
    assert!(out.services[0].fleet.ejections >= 5, "{}", out.services[0].fleet.ejections);
    let resets = out.clients[0].outcomes.get(Outcome::ConnectionReset);
    // New instances join the endpoints 3 s late while stopped ones linger as long: at times
    // most endpoints are ejected, and panic mode spreads requests over all of them again.
    assert!(out.services[0].fleet.panic_picks > 0);
    assert!(resets < resets_plain, "{resets} vs {resets_plain}");
    cfg.services[0].lb.healthy_panic_threshold = 0;
    let out = run(&cfg);
    let c = &out.clients[0];
    let failed = c.outcomes.total() - c.outcomes.get(Outcome::Ok);
    // Without panic mode each stopped instance fails five requests in a row, then none.
    assert!(failed <= 5 * 5 + 5, "{failed} failed ({:?}), {resets_plain} without detection", c.outcomes);
}

#[test]
fn active_health_checks_take_a_failing_endpoint_out_and_bring_it_back() {
    // One of five instances turns 50 times slower (100 ms a request, half what it is sent):
    // its queue grows, its health check (queue below 20) fails, the balancer skips it after two failures in a row and takes it back after
    // three passes once its queue drains.
    let mut cfg = world(vec![leaf("s", 5, 4, 1000, Dist::constant(2e6).unwrap())], 400.0, 120);
    cfg.faults.push(FaultConfig {
        name: "slow".into(),
        service: ServiceId(0),
        share: 0.2,
        start: SimTime(30 * 1_000_000_000),
        end: SimTime(60 * 1_000_000_000),
        kind: FaultKind::Slow { factor: 50.0 },
    });
    let base = run(&cfg);
    cfg.services[0].lb.health_check = Some(HealthCheckConfig {
        check: ProbeCheck::QueueBelow(20),
        interval: dur(1),
        timeout: dur(1),
        unhealthy_threshold: 2,
        healthy_threshold: 3,
    });
    let out = run(&cfg);
    let f = &out.services[0].fleet;
    assert!(f.health_check_failures >= 1, "{} failures", f.health_check_failures);
    // Without checks the slow instance keeps its fifth of the traffic, whose queue grows for
    // the whole fault; with them its share goes to the others within seconds.
    let p99 = |o: &RunOutput| o.clients[0].latency_ok.value_at_quantile(0.99);
    assert!(p99(&out) * 3 < p99(&base), "p99 with checks {} vs {}", p99(&out), p99(&base));
    // Before and after the fault every instance serves.
    let c = &out.clients[0];
    assert_eq!(c.outcomes.get(Outcome::Ok), c.outcomes.total());
}

#[test]
fn least_outstanding_picks_follow_every_change_of_the_pools() {
    // Every list a least-outstanding balancer picks from changes here: endpoints join (a
    // canary with traffic routing, so both routed sides are indexed), outlier detection ejects
    // the failing instance, and health checks take the downed ones out and back. In tests every
    // pick of the index is checked against the scan (`balance`), so a pool change that left
    // an index fresh would fail this run.
    let mut cfg = canary(BalancerKind::LeastOutstanding, None);
    if let DeployStrategy::Canary(c) = &mut cfg.deploys[0].strategy {
        c.traffic_routing = true;
    }
    let s = &mut cfg.services[0];
    s.propagation_delay = SimDuration::from_millis(500);
    s.lb.outlier_detection = Some(detection(50));
    s.lb.health_check = Some(HealthCheckConfig {
        check: ProbeCheck::Process,
        interval: dur(1),
        timeout: dur(1),
        unhealthy_threshold: 2,
        healthy_threshold: 3,
    });
    let window = |share, start, end, kind| FaultConfig {
        name: format!("f{start}"),
        service: ServiceId(0),
        share,
        start: secs(start),
        end: secs(end),
        kind,
    };
    cfg.faults.push(window(0.25, 5, 15, FaultKind::Fail { fraction: 1.0, outcome: Outcome::ServerError }));
    cfg.faults.push(window(0.5, 40, 60, FaultKind::Down));
    let out = run(&cfg);
    let f = &out.services[0].fleet;
    assert!(f.ejections >= 1, "{} ejections", f.ejections);
    assert!(f.health_check_failures >= 1, "{} health-check failures", f.health_check_failures);
    let (v1, v2) = (f.versions[0].answers.total(), f.versions[1].answers.total());
    assert!(v1 > 0, "v1 answered {v1}");
    assert!(v2 > 0, "the routed side answered {v2}");
}

#[test]
fn a_hash_table_is_built_once_for_a_fleet_that_joins_together() {
    // 200 instances join at the start, one after another: one table, built at the first
    // pick, where a build per join made start-up quadratic.
    for kind in [BalancerKind::RingHash, BalancerKind::Maglev] {
        let mut cfg = world(vec![leaf("s", 200, 1, 10, constant_ms(1.0))], 1000.0, 5);
        cfg.services[0].balancer = kind;
        let mut r = Run::new(&cfg);
        at(&mut r, 2, |w| {
            assert_eq!(w.services[ServiceId(0)].hash_builds, 1, "{kind:?}");
            assert!(!w.services[ServiceId(0)].hash_stale);
            assert_eq!(w.services[ServiceId(0)].endpoints.len(), 200);
        });
    }
}
