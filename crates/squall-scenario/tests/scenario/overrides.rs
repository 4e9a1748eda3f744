//! `--set PATH=VALUE` overrides: scalars, enums, durations and list entries apply; unknown
//! paths and refused values are errors that start with the override that caused them.

use crate::{check_override_error, parse_with, FLAGSHIP};
use squall_kernel::time::NS_PER_S;
use squall_kernel::{SimDuration, SimTime};
use squall_model::{ArrivalProcess, Load};

#[test]
fn a_scalar_override_replaces_the_value() {
    let s = parse_with(FLAGSHIP, &["services.api.replicas=8", "services.db.queue.shared=true"]).unwrap();
    assert_eq!(s.config.services[0].replicas, 8);
    assert!(s.config.services[1].queue.shared);
}

#[test]
fn an_enum_override_replaces_the_variant() {
    let s =
        parse_with(FLAGSHIP, &["clients.users.arrivals=Constant(rate: 500)", "services.db.balancer=Random"])
            .unwrap();
    let Load::Open { process, rate } = &s.config.clients[0].load else { panic!() };
    assert_eq!(*process, ArrivalProcess::Constant);
    assert_eq!(rate.points[0], (SimTime::ZERO, 500.0));
    assert_eq!(s.config.services[1].balancer, squall_model::BalancerKind::Random);
}

#[test]
fn a_field_inside_a_variant_can_be_set_without_naming_the_variant() {
    for set in ["clients.users.arrivals.rate=500", "clients.users.arrivals.Poisson.rate=500"] {
        let s = parse_with(FLAGSHIP, &[set]).unwrap();
        let Load::Open { process, rate } = &s.config.clients[0].load else { panic!() };
        assert_eq!((*process, rate.points[0].1), (ArrivalProcess::Poisson, 500.0), "{set}");
    }
}

#[test]
fn a_duration_override_may_be_quoted_or_bare() {
    for set in ["duration=\"2m\"", "duration=2m"] {
        let s = parse_with(FLAGSHIP, &[set]).unwrap();
        assert_eq!(s.config.duration, SimDuration::from_secs(120), "{set}");
    }
}

#[test]
fn list_entries_are_reached_by_index() {
    for set in [
        "services.api.endpoints.feed.calls.0.timeout=None",
        "services.api.endpoints.feed.calls[0].timeout=None",
    ] {
        let s = parse_with(FLAGSHIP, &[set]).unwrap();
        assert_eq!(s.config.services[0].endpoints[0].calls().next().unwrap().timeout, None, "{set}");
    }
    let s = parse_with(FLAGSHIP, &["clients.users.schedule.1.end=\"5m\""]).unwrap();
    let Load::Open { rate, .. } = &s.config.clients[0].load else { panic!() };
    assert_eq!(rate.points[4].0, SimTime(300 * NS_PER_S));
}

#[test]
fn overrides_that_are_only_valid_together_apply_together() {
    let s = parse_with(FLAGSHIP, &["clients.users.target.service=db", "clients.users.target.endpoint=query"])
        .unwrap();
    assert_eq!(s.config.clients[0].service, squall_model::ServiceId(1));
}

#[test]
fn overrides_keep_the_file_order_of_entities() {
    let s = parse_with(FLAGSHIP, &["services.db.replicas=3"]).unwrap();
    let services: Vec<&str> = s.config.services.iter().map(|s| s.name.as_str()).collect();
    let clients: Vec<&str> = s.config.clients.iter().map(|c| c.name.as_str()).collect();
    let endpoints: Vec<&str> = s.config.services[0].endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        (services, clients, endpoints),
        (vec!["api", "db"], vec!["users", "probes"], vec!["feed", "health"])
    );
}

#[test]
fn an_unknown_field_in_a_path_suggests_the_near_miss() {
    check_override_error(
        &["services.api.replicaz=3"],
        "--set services.api.replicaz=3: services.api: unknown field `replicaz`, did you mean `replicas`?",
    );
}

#[test]
fn an_unknown_service_in_a_path_suggests_the_near_miss() {
    check_override_error(
        &["services.apj.replicas=3"],
        "--set services.apj.replicas=3: services: unknown service `apj`, did you mean `api`?",
    );
}

#[test]
fn an_index_past_the_end_of_a_list_is_refused() {
    check_override_error(
        &["services.api.endpoints.feed.calls.3.timeout=None"],
        "--set services.api.endpoints.feed.calls.3.timeout=None: services.api.endpoints.feed.calls: index 3 is out of range: the list has 1 entries",
    );
}

#[test]
fn a_refused_value_is_blamed_on_its_override() {
    check_override_error(
        &["services.api.replicas=8", "duration=10 sec"],
        "--set duration=10 sec: duration: invalid duration \"10 sec\": unknown unit `sec`, did you mean `s`?",
    );
    check_override_error(
        &["services.api.workers=0"],
        "--set services.api.workers=0: services.api.workers: must be at least 1, got 0",
    );
}

#[test]
fn an_unknown_variant_in_a_value_suggests_the_near_miss() {
    check_override_error(
        &["clients.users.arrivals=Poison(rate: 5)"],
        "--set clients.users.arrivals=Poison(rate: 5): clients.users.arrivals: unknown variant `Poison`, did you mean `Poisson`?",
    );
}

#[test]
fn a_broken_reference_made_by_an_override_is_blamed_on_it() {
    check_override_error(
        &["clients.users.target.service=dbb"],
        "--set clients.users.target.service=dbb: clients.users.target.service: unknown service `dbb`, did you mean `db`?",
    );
}

#[test]
fn a_value_that_is_not_ron_is_refused() {
    check_override_error(
        &["clients.users.arrivals=Poisson(rate: 5"],
        "--set clients.users.arrivals=Poisson(rate: 5: clients.users.arrivals: the value `Poisson(rate: 5` is not valid RON: expected `,` or `)`",
    );
}

#[test]
fn a_malformed_override_is_refused_when_parsed() {
    let e = "services.api.replicas".parse::<squall_scenario::Override>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "--set services.api.replicas: expected PATH=VALUE, as in `services.api.replicas=8`"
    );
}

#[test]
fn a_value_of_the_wrong_shape_says_what_the_field_takes() {
    check_override_error(
        &["clients.users=5"],
        "--set clients.users=5: clients.users: invalid type: integer `5`, expected a client group, as in (target: (service: \"api\", endpoint: \"feed\"), arrivals: Poisson(rate: 100))",
    );
}

// Issue 18: serde reads a struct from a sequence too (its fields in order), so `[]` used to
// turn health checks on with every default; a sequence where a struct goes is refused.
#[test]
fn a_sequence_where_a_struct_goes_is_refused() {
    let msg = "expects a struct, as in `(field: value, ...)`, not a sequence `[...]`";
    check_override_error(
        &["services.api.health_check=[]"],
        &format!("--set services.api.health_check=[]: services.api.health_check: {msg}"),
    );
    check_override_error(
        &["services.api.queue=[5]"],
        &format!("--set services.api.queue=[5]: services.api.queue: {msg}"),
    );
    // Sequences where sequences go are still read.
    parse_with(FLAGSHIP, &["clients.users.schedule=[]"]).unwrap();
}
