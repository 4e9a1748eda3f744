//! proptest: `parse` returns (Ok or Err) and never panics, on arbitrary text, on mutations
//! of a valid scenario, and with arbitrary overrides.

use crate::FLAGSHIP;
use proptest::prelude::*;
use squall_scenario::{parse, Override};

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
    fn parse_never_panics_with_arbitrary_overrides(
        path in "(services|clients|duration|seed|api|users|endpoints|feed|calls|0|1|rate|arrivals|Poisson|\\.|\\[|\\]){0,8}",
        value in any::<String>(),
    ) {
        let o = Override { path, value };
        let _ = parse(FLAGSHIP, "f.ron", &[o]);
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
