//! `invariants` and `explore`: what they build to, and a located message for each mistake.

use crate::{edit, parse_with};
use squall_explore::{Evidence, Rule, Scope, Values};

const TAIL: &str = "    },\n)";

/// The flagship with `extra` fields added at the end.
fn with(extra: &str) -> String {
    let src = edit(&[]);
    let at = src.rfind(TAIL).expect("the flagship ends with its clients");
    format!("{}    }},\n{extra}\n)", &src[..at])
}

fn error(extra: &str) -> String {
    match parse_with(&with(extra), &[]) {
        Ok(_) => panic!("parsed, but an error was expected for {extra}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn invariants_and_explored_ranges_build_in_file_order() {
    let s = parse_with(
        &with(
            r#"    invariants: [
        SuccessRate(endpoint: (service: "api", endpoint: "feed"), at_least: 0.99),
        Latency(client: "users", at_most: "300ms"),
        Sometimes(Refused(service: "db")),
    ],
    explore: { "clients.users.arrivals.rate": (1000, 4000), "services.api.replicas": (2, 8), "duration": ("1m", "3m") },"#,
        ),
        &[],
    )
    .unwrap();
    assert_eq!(s.invariants.len(), 3);
    assert_eq!(
        s.invariants[0].label,
        r#"SuccessRate(endpoint: (service: "api", endpoint: "feed"), at_least: 0.99)"#
    );
    assert_eq!(
        s.invariants[0].rule,
        Rule::SuccessRate { of: Scope::Clients(vec!["users".to_string()]), at_least: 0.99 }
    );
    assert!(matches!(&s.invariants[1].rule, Rule::Latency { quantile, .. } if *quantile == 0.99));
    assert_eq!(s.invariants[2].rule, Rule::Sometimes(Evidence::Refused { service: "db".to_string() }));
    let paths: Vec<&str> = s.explore.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(paths, ["clients.users.arrivals.rate", "services.api.replicas", "duration"]);
    assert_eq!(s.explore[1].values, Values::Int { from: 2, to: 8 });
    assert_eq!((s.explore[2].steps(), s.explore[2].value(1)), (2, "2m".to_string()));
}

#[test]
fn an_override_can_change_an_invariant() {
    let src = with(r#"    invariants: [ SuccessRate(client: "users", at_least: 0.99) ],"#);
    let s = parse_with(&src, &["invariants.0.at_least=0.5"]).unwrap();
    assert_eq!(
        s.invariants[0].rule,
        Rule::SuccessRate { of: Scope::Clients(vec!["users".into()]), at_least: 0.5 }
    );
}

#[test]
fn unknown_names_are_located_with_a_near_miss() {
    let e = error(r#"    invariants: [ SuccessRate(client: "user", at_least: 0.99) ],"#);
    assert!(e.starts_with("f.ron:"), "{e}");
    assert!(e.contains("invariants[0].client: unknown client group `user`, did you mean `users`?"), "{e}");
    let e = error(r#"    invariants: [ Sometimes(FaultFired(fault: "db-slow")) ],"#);
    assert!(e.contains("unknown fault `db-slow`"), "{e}");
    let e = error(r#"    invariants: [ Sometimes(BreakerOpened(caller: "api", callee: "dbb")) ],"#);
    assert!(e.contains("invariants[0].callee: unknown service `dbb`, did you mean `db`?"), "{e}");
}

#[test]
fn numbers_out_of_range_and_ambiguous_scopes_are_refused() {
    let e = error(r#"    invariants: [ SuccessRate(client: "users", at_least: 1.5) ],"#);
    assert!(e.contains("invariants[0].at_least: 1.5 is out of range: a share from 0 to 1"), "{e}");
    let e = error(r#"    invariants: [ SuccessRate(client: "users", flow: "users", at_least: 0.5) ],"#);
    assert!(e.contains("name exactly one of"), "{e}");
    let e = error(r#"    invariants: [ ErrorBudget(client: "users", objective: 1.0) ],"#);
    assert!(e.contains("objective: 1 is out of range"), "{e}");
    let e = error(r#"    invariants: [ NoFailedFlows(client: "users") ],"#);
    assert!(e.contains("the client group `users` runs no flow"), "{e}");
    let e = error(r#"    invariants: [ Latncy(client: "users", at_most: "1s") ],"#);
    assert!(e.contains("Latncy") && e.contains("Latency"), "{e}");
}

#[test]
fn explored_ranges_must_be_ranges_the_scenario_can_take() {
    let e = error(r#"    explore: { "services.api.replicas": (2, 2) },"#);
    assert!(e.contains("holds a single value"), "{e}");
    let e = error(r#"    explore: { "faults.0.for": ("5s", "1 fortnight") },"#);
    assert!(e.contains("neither a number nor a duration"), "{e}");
    let e = error(r#"    explore: { "services.api.replicaz": (2, 8) },"#);
    assert!(e.starts_with("f.ron:"), "{e}");
    assert!(e.contains("explore.\"services.api.replicaz\": the scenario cannot take the bound 2"), "{e}");
    assert!(e.contains("did you mean `replicas`?"), "{e}");
    let e = error(r#"    explore: { "services.api.replicas": (0, 8) },"#);
    assert!(e.contains("cannot take the bound 0"), "{e}");
    let e = error(r#"    explore: { "variants.x": (0, 8) },"#);
    assert!(e.contains("cannot be explored"), "{e}");
}
