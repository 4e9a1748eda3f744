//! squall as a library in a user's own property tests: a scenario from RON text, changed by
//! overrides and in code, run, and its summary and invariants inspected. This file is the
//! example the README points to; copy it into your own `tests/`.

use proptest::prelude::*;
use squall_model::Outcome;
use squall_scenario::{Override, Scenario};

/// The system under test: an API in front of a database, with retries.
const SCENARIO: &str = r#"Scenario(
    name: "api", seed: 1, duration: "30s",
    services: {
        "api": (workers: 16, endpoints: { "get": (work: Exponential(mean: "2ms"),
            calls: [(service: "db", endpoint: "q")]) },
            dependencies: { "db": (timeout: "200ms", retry: (max_attempts: 2, backoff: Constant(delay: "20ms"))) }),
        "db": (workers: 4, queue: (capacity: 200), endpoints: { "q": (work: Exponential(mean: "5ms")) }),
    },
    clients: { "users": (target: (service: "api", endpoint: "get"), arrivals: Poisson(rate: 200), timeout: "1s") },
    invariants: [ SuccessRate(client: "users", at_least: 0.99), Latency(client: "users", quantile: 0.99, at_most: "250ms") ],
)"#;

/// The scenario with the database's workers and the load set by overrides, as `--set` would.
fn scenario(db_workers: u32, rate: f64) -> Scenario {
    let set: Vec<Override> =
        [format!("services.db.workers={db_workers}"), format!("clients.users.arrivals.rate={rate}")]
            .iter()
            .map(|s| s.parse().expect("PATH=VALUE"))
            .collect();
    squall_scenario::parse(SCENARIO, "api.ron", &set).expect("the scenario builds")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Whatever the seed, with the database below 60 % busy every invariant of the file holds,
    /// and every request is accounted for.
    #[test]
    fn below_sixty_percent_load_every_invariant_holds(seed in any::<u64>(), db_workers in 2u32..6, load in 0.1f64..0.6) {
        // Each db worker serves 200 requests per second (5 ms each).
        let mut s = scenario(db_workers, load * 200.0 * f64::from(db_workers));
        s.config.seed = seed; // a built scenario is plain data: change it in code
        let out = s.run();
        for (invariant, verdict) in s.judge(&out) {
            prop_assert!(verdict.passed, "{}: measured {}", invariant.label, verdict.shown());
        }
        let users = &out.clients[0];
        prop_assert_eq!(users.issued, users.outcomes.total() + out.conservation.in_flight);
        prop_assert!(users.outcomes.get(Outcome::Ok) > 0);
    }
}

#[test]
fn an_overloaded_database_fails_the_success_rate_and_the_summary_says_why() {
    // 2 workers of 5 ms serve 400/s; 600/s is half again too many.
    let s = scenario(2, 600.0);
    let out = s.run();
    let verdicts = s.judge(&out);
    let (inv, v) = verdicts.iter().find(|(i, _)| i.label.starts_with("SuccessRate")).expect("declared");
    assert!(!v.passed, "{}: {}", inv.label, v.shown());
    assert!(v.measured.expect("requests ended") < 0.9);
    let table = squall_report::summary_table(&squall_report::ReportMeta::default(), &out);
    assert!(table.contains("users"), "{table}");
}
