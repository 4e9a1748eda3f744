//! Versions, lifecycles, probes, deploys, flags and user flows: the fleet file builds the
//! expected model config, each class of bad input gets its located message, and overrides
//! reach the new fields.

use crate::{check_error_of, edit_of, parse_with, FLEET};
use squall_kernel::{Dist, SimDuration, SimTime};
use squall_model::{
    CanaryStepConfig, DeployStrategy, DeployTrigger, EndpointId, FaultKind, FlowCondition, IntOrPercent,
    ProbeCheck, RestartBackoff, ServiceId,
};

fn secs(n: u64) -> SimDuration {
    SimDuration::from_secs(n)
}

fn same(d: &Dist, want: Dist) -> bool {
    format!("{d:?}") == format!("{want:?}")
}

#[test]
fn the_fleet_file_builds_versions_lifecycle_probes_deploys_and_flows() {
    let c = parse_with(FLEET, &[]).unwrap().config;
    assert_eq!(c.flags, ["needs_confirmation", "fast"]);

    let web = &c.services[0];
    // The registry: the service's endpoints, then what versions add.
    let names: Vec<&str> = web.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["signup", "login", "legacy", "confirm"]);
    assert!(same(&web.endpoints[3].steps_work(), Dist::Exponential { mean: 3e6 }), "first definer's confirm");
    assert_eq!(web.n_versions(), 3);
    let versions: Vec<&str> = (0..3).map(|v| web.version_name(v)).collect();
    assert_eq!(versions, ["v1", "v2", "v3"]);
    // v1: the endpoints as declared.
    assert!(web.version_endpoint(0, 2).is_some() && web.version_endpoint(0, 3).is_none());
    assert_eq!(web.version_endpoint(0, 0).unwrap().flags, 0b01);
    // v2: signup replaced, confirm added, legacy removed.
    let signup2 = web.version_endpoint(1, 0).unwrap();
    assert_eq!((signup2.flags, signup2.error_rate), (0b11, 0.02));
    assert!(web.version_endpoint(1, 2).is_none());
    assert!(same(&web.version_endpoint(1, 3).unwrap().steps_work(), Dist::Exponential { mean: 3e6 }));
    // v3: not cumulative: legacy is back, signup is the service's own, confirm its own.
    assert!(web.version_endpoint(2, 2).is_some());
    assert_eq!(web.version_endpoint(2, 0).unwrap().error_rate, 0.0);
    assert!(same(&web.version_endpoint(2, 3).unwrap().steps_work(), Dist::Exponential { mean: 6e6 }));

    assert!(same(&web.lifecycle.startup, Dist::Constant(20e9)));
    assert_eq!((web.lifecycle.warmup, web.lifecycle.warmup_factor), (secs(30), 3.0));
    assert_eq!((web.lifecycle.pre_stop, web.lifecycle.grace_period), (secs(5), secs(30)));
    assert_eq!(web.lifecycle.restart, RestartBackoff::default());
    let liveness = web.probes.liveness.as_ref().unwrap();
    assert_eq!(liveness.check, ProbeCheck::Dependency { service: ServiceId(1), endpoint: EndpointId(0) });
    assert_eq!((liveness.config.period_seconds, liveness.config.failure_threshold), (secs(10), 3));
    assert_eq!(web.probes.readiness.as_ref().unwrap().check, ProbeCheck::Process);
    let startup = web.probes.startup.as_ref().unwrap();
    assert_eq!(startup.check, ProbeCheck::QueueBelow(100));
    assert_eq!((startup.config.period_seconds, startup.config.failure_threshold), (secs(2), 30));
    assert_eq!(startup.config.timeout_seconds, secs(1));
    assert_eq!(web.propagation_delay, secs(5));

    let cache = &c.services[1];
    assert!(cache.versions.is_empty() && cache.probes.liveness.is_none());
    assert_eq!(cache.lifecycle.grace_period, secs(30));
    assert_eq!(c.faults[0].kind, FaultKind::Crash);

    let users = &c.clients[0];
    assert_eq!((users.service, users.endpoint), (ServiceId(0), EndpointId(0)), "the first step's target");
    let flow = users.flow.as_ref().unwrap();
    let steps: Vec<(&str, u32)> = flow.steps.iter().map(|s| (s.name.as_str(), s.endpoint.0)).collect();
    assert_eq!(steps, [("signup", 0), ("confirm", 3), ("login", 1)]);
    assert!(same(&flow.steps[0].delay, Dist::Constant(0.0)));
    assert!(same(&flow.steps[1].delay, Dist::Uniform { low: 20e9, high: 600e9 }));
    assert_eq!(flow.steps[0].when, FlowCondition::Always);
    assert_eq!(flow.steps[1].when, FlowCondition::Flag { step: 0, flag: 0, set: true });
    assert_eq!(flow.steps[2].when, FlowCondition::Flag { step: 0, flag: 0, set: false });
    assert!(c.clients[1].flow.is_none());

    assert_eq!(c.deploys.len(), 3);
    let (v2, contract, canary) = (&c.deploys[0], &c.deploys[1], &c.deploys[2]);
    assert_eq!((v2.name.as_str(), v2.service, v2.version), ("v2", ServiceId(0), 1));
    assert_eq!(v2.trigger, DeployTrigger::At(SimTime(600 * 1_000_000_000)));
    let DeployStrategy::Rolling(r) = &v2.strategy else { panic!("{:?}", v2.strategy) };
    assert_eq!((r.max_surge, r.max_unavailable), (IntOrPercent::Int(1), IntOrPercent::Int(0)));
    assert_eq!((r.min_ready, r.progress_deadline), (secs(10), secs(600)));
    assert_eq!(contract.version, 2);
    assert_eq!(contract.trigger, DeployTrigger::After { deploy: 0, delay: secs(60) });
    let DeployStrategy::Rolling(r) = &contract.strategy else { panic!("{:?}", contract.strategy) };
    assert_eq!((r.max_surge, r.max_unavailable), (IntOrPercent::Percent(25), IntOrPercent::Percent(25)));
    assert_eq!((canary.service, canary.version), (ServiceId(2), 1));
    let DeployStrategy::Canary(k) = &canary.strategy else { panic!("{:?}", canary.strategy) };
    assert_eq!(
        k.steps,
        [
            CanaryStepConfig::SetWeight(20),
            CanaryStepConfig::Pause(Some(secs(600))),
            CanaryStepConfig::SetWeight(50),
            CanaryStepConfig::Pause(None),
            CanaryStepConfig::SetWeight(100),
        ]
    );
    assert!(k.traffic_routing);
    let a = k.analysis.as_ref().unwrap();
    assert_eq!((a.interval, a.failure_limit, a.min_samples), (secs(60), 1, 20));
    assert_eq!((a.max_error_rate, a.max_p99), (Some(0.01), Some(SimDuration::from_millis(200))));
}

/// The work of an endpoint written in the shorthand.
trait StepsWork {
    fn steps_work(&self) -> Dist;
}

impl StepsWork for squall_model::EndpointConfig {
    fn steps_work(&self) -> Dist {
        match &self.steps[0] {
            squall_model::Step::Work(d) => d.clone(),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_deploy_of_an_unknown_version_lists_the_versions() {
    check_error_of(
        FLEET,
        &[("version: \"v3\"", "version: \"v4\"")],
        "f.ron:65:53: deploys[1].version: unknown version `v4` of service `web`; expected one of `v1`, `v2`, `v3`",
    );
    check_error_of(
        FLEET,
        &[("version: \"v3\"", "version: \"v\"")],
        "f.ron:65:53: deploys[1].version: unknown version `v` of service `web`, did you mean `v1`?",
    );
    check_error_of(
        FLEET,
        &[("service: \"pay\", version: \"v2\"", "service: \"cache\", version: \"v2\"")],
        "f.ron:66:53: deploys[2].version: unknown version `v2` of service `cache`; expected `v1` (a service without `versions` has one, `v1`)",
    );
}

#[test]
fn an_unknown_after_suggests_the_near_miss() {
    check_error_of(
        FLEET,
        &[("after: \"v2\"", "after: \"v22\"")],
        "f.ron:65:66: deploys[1].after: unknown deploy `v22`, did you mean `v2`?",
    );
}

#[test]
fn a_cycle_of_after_is_reported_once() {
    check_error_of(
        FLEET,
        &[("version: \"v2\", at: \"10m\"", "version: \"v2\", after: \"contract\"")],
        "f.ron:64:53: deploys[0].after: `after` forms a cycle: v2 -> contract -> v2; none of these deploys would ever start",
    );
    check_error_of(
        FLEET,
        &[("after: \"v2\"", "after: \"contract\"")],
        "f.ron:65:66: deploys[1].after: a deploy cannot wait for itself: `contract` is this deploy",
    );
}

#[test]
fn a_deploy_needs_exactly_one_of_at_and_after() {
    check_error_of(
        FLEET,
        &[("version: \"v2\", at: \"10m\"", "version: \"v2\", at: \"10m\", after: \"canary\"")],
        "f.ron:64:64: deploys[0].after: give either `at` (a time) or `after` (the deploy this one follows), not both",
    );
    check_error_of(
        FLEET,
        &[("version: \"v2\", at: \"10m\"", "version: \"v2\"")],
        "f.ron:64:9: deploys[0]: missing `at`: give the time the deploy starts, or `after` with the deploy it follows",
    );
}

#[test]
fn a_client_needs_exactly_one_of_target_and_flow() {
    check_error_of(
        FLEET,
        &[("arrivals: Poisson(rate: 2),", "arrivals: Poisson(rate: 2), target: (service: \"web\", endpoint: \"login\"),")],
        "f.ron:52:13: clients.users.flow: give either `target` (one request per arrival) or `flow` (a multi-step user flow), not both",
    );
    check_error_of(
        FLEET,
        &[("(target: (service: \"pay\", endpoint: \"charge\"), arrivals", "(arrivals")],
        "f.ron:58:9: clients.payers: missing `target`: a client group needs a `target`, or a `flow` of steps",
    );
}

#[test]
fn a_condition_names_an_earlier_step_and_a_known_flag() {
    check_error_of(
        FLEET,
        &[("Flag(step: \"signup\"", "Flag(step: \"login\"")],
        "f.ron:54:140: clients.users.flow[1].when.Flag.step: a condition may only name an earlier step, but `login` is flow[2], after this one",
    );
    check_error_of(
        FLEET,
        &[("Flag(step: \"signup\"", "Flag(step: \"sigup\"")],
        "f.ron:54:140: clients.users.flow[1].when.Flag.step: unknown step `sigup`, did you mean `signup`?",
    );
    check_error_of(
        FLEET,
        &[("NotFlag(step: \"signup\", flag: \"needs_confirmation\"", "NotFlag(step: \"signup\", flag: \"needs_confirmaton\"")],
        "f.ron:55:146: clients.users.flow[2].when.NotFlag.flag: unknown flag `needs_confirmaton`, did you mean `needs_confirmation`?",
    );
    check_error_of(
        FLEET,
        &[("(name: \"login\", target", "(name: \"signup\", target")],
        "f.ron:55:18: clients.users.flow[2].name: the step name `signup` is also used by flow[0]; give each step its own name",
    );
}

#[test]
fn a_condition_on_a_flag_the_step_never_sets_is_refused() {
    check_error_of(
        FLEET,
        &[("NotFlag(step: \"signup\", flag: \"needs_confirmation\")", "NotFlag(step: \"confirm\", flag: \"fast\")")],
        "f.ron:55:147: clients.users.flow[2].when.NotFlag.flag: no version of `web.confirm`, which step `confirm` calls, sets `fast`, so this condition would always hold",
    );
}

#[test]
fn a_version_cannot_remove_a_missing_endpoint() {
    check_error_of(
        FLEET,
        &[("remove: [\"legacy\"]", "remove: [\"legasy\"]")],
        "f.ron:22:30: services.web.versions.v2.remove[0]: unknown endpoint `legasy` in the `endpoints` of service `web`, did you mean `legacy`?",
    );
}

#[test]
fn a_service_with_versions_lists_at_least_one() {
    let src = edit_of(
        FLEET,
        &[
            ("versions: { \"v1\": (), \"v2\": (endpoints: { \"charge\": (work: Exponential(mean: \"10ms\"), error_rate: 0.05) }) },", "versions: {},"),
            ("service: \"pay\", version: \"v2\"", "service: \"pay\", version: \"v1\""),
        ],
    );
    let e = parse_with(&src, &[]).unwrap_err().to_string();
    assert_eq!(e, "f.ron:46:13: services.pay.versions: a service with `versions` needs at least one; leave `versions` out for one version, `v1`, serving `endpoints`");
}

#[test]
fn calls_of_a_version_are_checked_like_the_services_own() {
    check_error_of(
        FLEET,
        &[("\"v3\": (endpoints: { \"confirm\": (work: Exponential(mean: \"6ms\")) }),", "\"v3\": (endpoints: { \"confirm\": (work: Exponential(mean: \"6ms\"), calls: [(service: \"cahce\", endpoint: \"get\")]) }),")],
        "f.ron:24:99: services.web.versions.v3.endpoints.confirm.calls[0].service: unknown service `cahce`, did you mean `cache`?",
    );
    // A cycle through two versions, of two services: they may run side by side.
    check_error_of(
        FLEET,
        &[
            ("\"cache\": (replicas: 2, workers: 4, endpoints: { \"get\": (work: Constant(\"1ms\")) }),", "\"cache\": (replicas: 2, workers: 4, endpoints: { \"get\": (work: Constant(\"1ms\")) }, versions: { \"a\": (endpoints: { \"get\": (work: Constant(\"1ms\"), calls: [(service: \"web\", endpoint: \"confirm\")]) }) }),"),
            ("\"v3\": (endpoints: { \"confirm\": (work: Exponential(mean: \"6ms\")) }),", "\"v3\": (endpoints: { \"confirm\": (work: Exponential(mean: \"6ms\"), calls: [(service: \"cache\", endpoint: \"get\")]) }),"),
        ],
        "f.ron:24:81: services.web.versions.v3.endpoints.confirm.calls: call cycle web.confirm -> cache.get -> web.confirm",
    );
}

#[test]
fn probes_are_checked_as_kubernetes_does() {
    check_error_of(
        FLEET,
        &[("success_threshold: 1, failure_threshold: 3", "success_threshold: 2, failure_threshold: 3")],
        "f.ron:35:133: services.web.probes.liveness.success_threshold: must be 1 for a liveness probe, as Kubernetes requires, got 2: only a readiness probe may wait for several successes",
    );
    check_error_of(
        FLEET,
        &[("period: \"2s\"", "period: \"0s\"")],
        "f.ron:37:59: services.web.probes.startup.period: must be greater than zero, got \"0s\"",
    );
    check_error_of(
        FLEET,
        &[("failure_threshold: 30", "failure_threshold: 0")],
        "f.ron:37:84: services.web.probes.startup.failure_threshold: must be at least 1, got 0",
    );
}

#[test]
fn rolling_and_canary_parameters_are_checked() {
    check_error_of(
        FLEET,
        &[("max_surge: 1, max_unavailable: 0", "max_surge: 0, max_unavailable: \"0%\"")],
        "f.ron:64:96: deploys[0].strategy.Rolling.max_unavailable: max_surge and max_unavailable cannot both be 0, as Kubernetes requires: the rollout could neither add an instance nor take one down",
    );
    check_error_of(
        FLEET,
        &[("max_surge: 1,", "max_surge: \"125%\",")],
        "f.ron:64:93: deploys[0].strategy.Rolling.max_surge: expected a whole number of instances, as in 1, or a percentage from \"0%\" to \"100%\", got \"125%\"",
    );
    check_error_of(
        FLEET,
        &[("SetWeight(50)", "SetWeight(101)")],
        "f.ron:66:131: deploys[2].strategy.Canary.steps[2]: must be at most 100, got 101",
    );
    check_error_of(
        FLEET,
        &[("Pause()", "Pause(\"1m\", \"2m\")")],
        "f.ron:66:151: deploys[2].strategy.Canary.steps[3]: a pause takes at most one duration, as in Pause(\"10m\")",
    );
    check_error_of(
        FLEET,
        &[("max_p99: \"200ms\", ", ""), ("max_error_rate: 0.01, ", "")],
        "f.ron:67:13: deploys[2].strategy.Canary.analysis: the analysis checks nothing, so it would never fail; give `max_error_rate`, `max_p99`, or both",
    );
}

#[test]
fn a_flag_listed_twice_and_a_bad_startup_point_at_their_field() {
    check_error_of(
        FLEET,
        &[("flags: [\"needs_confirmation\"]", "flags: [\"needs_confirmation\", \"needs_confirmation\"]")],
        "f.ron:11:60: services.web.endpoints.signup.flags: the flag `needs_confirmation` is listed twice",
    );
    check_error_of(
        FLEET,
        &[("startup: Constant(\"20s\")", "startup: Exponential(mean: \"0s\")")],
        "f.ron:27:17: services.web.lifecycle.startup: mean must be greater than zero, got \"0s\"",
    );
}

#[test]
fn a_warmup_factor_needs_a_warmup() {
    check_error_of(
        FLEET,
        &[("warmup: \"30s\",", "warmup: \"0s\",")],
        "f.ron:29:17: services.web.lifecycle.warmup_factor: warmup_factor (3) has no effect with a warmup of \"0s\": work would be at normal speed at once; give a warmup",
    );
}

#[test]
fn at_most_64_flags_may_be_named() {
    let mut names = vec!["\"needs_confirmation\"".to_string()];
    names.extend((1..=64).map(|i| format!("\"f{i}\"")));
    let src =
        edit_of(FLEET, &[("flags: [\"needs_confirmation\"]", &format!("flags: [{}]", names.join(", ")))]);
    let e = parse_with(&src, &[]).unwrap_err().to_string();
    assert!(e.starts_with("f.ron:11:"), "{e}");
    assert!(
        e.ends_with(
            "services.web.endpoints.signup.flags: `f64` would be flag number 65: a scenario may name at most 64 flags, each a bit of an answer"
        ),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "reported once: {e}");
    // Flags count in first-appearance order: the service's endpoints, then its versions'.
    names.pop();
    let src =
        edit_of(FLEET, &[("flags: [\"needs_confirmation\"]", &format!("flags: [{}]", names.join(", ")))]);
    let e = parse_with(&src, &[]).unwrap_err().to_string();
    assert_eq!(
        e,
        "f.ron:20:98: services.web.versions.v2.endpoints.signup.flags: `fast` would be flag number 65: a scenario may name at most 64 flags, each a bit of an answer"
    );
}

#[test]
fn overrides_reach_probes_deploys_and_canary_steps() {
    let c = parse_with(
        FLEET,
        &[
            "services.web.probes.readiness=(check: QueueBelow(5), success_threshold: 2)",
            "services.cache.probes.liveness=(check: Process, period: \"3s\")",
            "deploys.2.strategy.Canary.steps.1=Pause()",
            "deploys.2.strategy.Canary.steps.3=Pause(\"1m\")",
            "services.web.versions.v2.remove=[]",
        ],
    )
    .unwrap()
    .config;
    let readiness = c.services[0].probes.readiness.as_ref().unwrap();
    assert_eq!((readiness.check.clone(), readiness.config.success_threshold), (ProbeCheck::QueueBelow(5), 2));
    assert_eq!(c.services[1].probes.liveness.as_ref().unwrap().config.period_seconds, secs(3));
    let DeployStrategy::Canary(k) = &c.deploys[2].strategy else { panic!() };
    assert_eq!(k.steps[1], CanaryStepConfig::Pause(None));
    assert_eq!(k.steps[3], CanaryStepConfig::Pause(Some(secs(60))));
    // Versions keep their order (the first runs at the start) through the override.
    let web = &c.services[0];
    assert_eq!((0..3).map(|v| web.version_name(v)).collect::<Vec<_>>(), ["v1", "v2", "v3"]);
    assert!(web.version_endpoint(1, 2).is_some(), "v2 no longer removes legacy");

    let c = parse_with(
        FLEET,
        &["deploys=[(name: \"only\", service: \"pay\", version: \"v2\", at: \"1m\", strategy: Canary(steps: [Pause(), Pause(\"1m\"), SetWeight(100)]))]"],
    )
    .unwrap()
    .config;
    assert_eq!(c.deploys.len(), 1);
    let DeployStrategy::Canary(k) = &c.deploys[0].strategy else { panic!() };
    assert_eq!(k.steps[..2], [CanaryStepConfig::Pause(None), CanaryStepConfig::Pause(Some(secs(60)))]);

    let e = parse_with(FLEET, &["services.web.probes.liveness.success_threshold=2"]).unwrap_err().to_string();
    assert!(
        e.starts_with("--set services.web.probes.liveness.success_threshold=2: services.web.probes.liveness.success_threshold: must be 1"),
        "{e}"
    );
    let e = parse_with(FLEET, &["services.web.versions.v9.remove=[]"]).unwrap_err().to_string();
    assert!(e.ends_with("unknown version `v9`; expected one of `v1`, `v2`, `v3`"), "{e}");
}

#[test]
fn a_condition_on_the_version_that_served_a_step_names_one_of_its_versions() {
    let text = FLEET.replace(
        "NotFlag(step: \"signup\", flag: \"needs_confirmation\")",
        "NotServedBy(step: \"signup\", version: \"v2\")",
    );
    let c = squall_scenario::parse(&text, "f.ron", &[]).unwrap_or_else(|e| panic!("{e}")).config;
    let flow = c.clients[0].flow.as_ref().unwrap();
    assert_eq!(flow.steps[2].when, FlowCondition::ServedBy { step: 0, version: 1, is: false });
    check_error_of(
        FLEET,
        &[("NotFlag(step: \"signup\", flag: \"needs_confirmation\")", "ServedBy(step: \"signup\", version: \"v22\")")],
        "f.ron:55:150: clients.users.flow[2].when.ServedBy.version: unknown version `v22` of service `web`, did you mean `v2`?",
    );
}
