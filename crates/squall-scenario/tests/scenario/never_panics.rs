//! proptest: `parse` and `parse_variants` return (Ok or Err) and never panic, on arbitrary
//! text, on mutations of valid scenarios (the flagship, and one with every resilience
//! setting and variants), with arbitrary overrides and arbitrary variant selections.

use crate::{FLAGSHIP, RESILIENCE};
use proptest::prelude::*;
use squall_scenario::{parse, parse_variants, Override};

/// Fragments that reach deep into the parser when spliced into a valid file.
const SNIPPETS: &[&str] = &[
    "\"",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "-1",
    "0",
    "1e999",
    "NaN",
    "inf",
    "-0.0",
    "18446744073709551616",
    "\"0s\"",
    "\"10 sec\"",
    "\"\"",
    "None",
    "Some(",
    "Mixture([(weight: 1, dist: ",
    "Constant(\"1ms\")",
    "Closed(users: 0, think: Constant(\"0\"))",
    "Step(at: \"1h\", rate: -1)",
    "\"api\"",
    "\"db\"",
    "/*",
    "//",
    "\u{0}",
    "µ",
    "r#\"",
    "#![enable(unwrap_newtypes)]",
    "Work(",
    "Call(service: \"db\", endpoint: \"query\")",
    "Parallel(calls: [], need: 0)",
    "need: 99",
    "steps: []",
    "cache: (hit_ratio: 2)",
    "cold_start: true",
    "Semaphore()",
    "ThreadPool(max_thread_pool_size: 1, core_thread_pool_size: 4294967295)",
    "pool: (maximum_pool_size: 1, minimum_idle: 2)",
    "TokenBucket(rate: 0)",
    "Discrete(max_tokens: 1, fill_interval: \"0\")",
    "Aimd(backoff_ratio: 0.49)",
    "Gradient2(min_limit: 300)",
    "QueueLength(classes: (critical_plus: 1, critical: 2, sheddable_plus: 3, sheddable: 4))",
    "QueueDelay()",
    "discipline: AdaptiveLifo",
    "criticality: Sheddable",
    "Slow(factor: 1e308)",
    "Fail(fraction: NaN, outcome: Ok)",
    "FlushCache",
    "Down",
    "for: \"584y\"",
    "at: \"5000000h\"",
    "\"baseline\"",
    "\"seed\"",
    "\"services.api.replicas\": \"0\"",
    "\"services.api.dependencies.x.pool\": \"()\"",
    "\"variants\"",
];

fn mutate(src: &str, ops: &[(usize, usize, usize)]) -> String {
    let mut s: Vec<char> = src.chars().collect();
    for &(at, len, snippet) in ops {
        let at = at % (s.len() + 1);
        let end = (at + len % 8).min(s.len());
        let insert: Vec<char> = SNIPPETS[snippet % SNIPPETS.len()].chars().collect();
        s.splice(at..end, insert);
    }
    s.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_arbitrary_text(src in any::<String>()) {
        let _ = parse(&src, "f.ron", &[]);
    }

    #[test]
    fn parse_never_panics_on_ron_like_text(src in "[A-Za-z\"(){}\\[\\]:,0-9. _-]{0,200}") {
        let _ = parse(&src, "f.ron", &[]);
        let _ = parse(&format!("Scenario({src})"), "f.ron", &[]);
    }

    #[test]
    fn parse_never_panics_on_mutations_of_a_valid_scenario(
        ops in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<usize>()), 1..6)
    ) {
        let src = mutate(FLAGSHIP, &ops);
        if let Err(e) = parse(&src, "f.ron", &[]) {
            let text = e.to_string();
            prop_assert!(text.starts_with("f.ron"), "{}", text);
        }
    }

    #[test]
    fn parse_never_panics_on_mutations_of_a_scenario_with_variants(
        ops in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<usize>()), 1..6)
    ) {
        let src = mutate(RESILIENCE, &ops);
        if let Err(e) = parse_variants(&src, "f.ron", &[], None) {
            let text = e.to_string();
            prop_assert!(text.starts_with("f.ron"), "{}", text);
        }
    }

    #[test]
    fn parse_never_panics_with_arbitrary_overrides(
        path in "(services|clients|duration|seed|api|users|endpoints|feed|calls|0|1|rate|arrivals|Poisson|\\.|\\[|\\]){0,8}",
        value in any::<String>(),
    ) {
        let o = Override { path, value };
        let _ = parse(FLAGSHIP, "f.ron", &[o]);
    }

    #[test]
    fn parse_never_panics_with_overrides_of_the_resilience_settings(
        path in "(services|api|db|dependencies|shipping|x|bulkhead|pool|ThreadPool|steps|Parallel|calls|need|cache|rate_limit|shedding|classes|faults|what|variants|0|2|\\.){1,8}",
        value in "[A-Za-z\"(){}\\[\\]:,0-9. _-]{0,60}",
    ) {
        let o = Override { path, value };
        let _ = parse_variants(RESILIENCE, "f.ron", &[o], None);
    }

    #[test]
    fn parse_variants_never_panics_on_arbitrary_selections(
        select in proptest::collection::vec("(baseline|more-db|no-shedding|small-bulkhead|x|)", 0..4),
    ) {
        let _ = parse_variants(RESILIENCE, "f.ron", &[], Some(&select));
    }

    #[test]
    fn parse_never_panics_with_ron_like_override_values(
        path in prop::sample::select(vec!["duration", "services.api", "clients.users.arrivals", "services.api.endpoints.feed.work", "clients.users.schedule"]),
        value in "[A-Za-z\"(){}\\[\\]:,0-9. _-]{0,60}",
    ) {
        let o = Override { path: path.to_string(), value };
        let _ = parse(FLAGSHIP, "f.ron", &[o]);
    }
}
