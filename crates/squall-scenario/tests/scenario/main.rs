//! Scenario files end to end, through the public API only: valid files build the expected
//! model config, each class of bad input gets its message and `file:line:col`, overrides
//! and variants apply and are blamed, the committed reference stays in sync, and no input
//! panics.
//!
//! One test binary for all of it: one link, and the helpers below are shared.

mod checks; // `invariants` and `explore`: builds, overrides and errors.
mod docs; // The committed reference equals `reference()`; `explain` and suggestions.
mod errors; // One test per class of bad input: the whole rendered message.
mod fleet; // Versions, lifecycles, probes, deploys and flows: builds, errors, overrides.
mod fuzz; // The fuzzing campaign, briefly: the corpus, a fixed-seed campaign, the harness itself.
mod fuzz_campaign; // The campaign: mutations of the shipped scenarios, judged; shared with `examples/fuzz.rs`.
mod never_panics; // proptest: arbitrary text, mutations of a valid file, odd overrides.
mod overrides; // `--set`: scalars, enums, durations, list indices, blame, unknown paths.
mod policies; // The resilience settings (steps, caches, dependencies, admission, faults): builds and errors.
mod preconditions; // Every number a policy constructor checks is refused by validation, with its field.
mod resilience; // Client policies (retries, budgets, breakers, hedging, ...) and clock skew: builds, errors, overrides.
mod valid; // A full valid scenario builds the expected `ModelConfig`.
mod variants; // Variants: order, selection, blame, precedence of `--set`, fixed fields.

use squall_scenario::{parse, Override, Scenario, ScenarioError};

/// The valid scenario the tests start from (the example of the schema).
pub const FLAGSHIP: &str = include_str!("flagship.ron");

/// A valid scenario with every resilience setting and a few variants.
pub const RESILIENCE: &str = include_str!("resilience.ron");

/// A valid scenario with versions, lifecycles, probes, deploys and a user flow.
pub const FLEET: &str = include_str!("fleet.ron");

/// The flagship with each `(from, to)` replaced once; each `from` must be present.
pub fn edit(edits: &[(&str, &str)]) -> String {
    edit_of(FLAGSHIP, edits)
}

/// `base` with each `(from, to)` replaced once; each `from` must be present.
pub fn edit_of(base: &str, edits: &[(&str, &str)]) -> String {
    let mut src = base.to_string();
    for (from, to) in edits {
        assert!(src.contains(from), "the scenario has no `{from}`");
        src = src.replacen(from, to, 1);
    }
    src
}

/// Parses `src` as `f.ron` with overrides written as on the command line.
pub fn parse_with(src: &str, sets: &[&str]) -> Result<Scenario, ScenarioError> {
    let overrides: Vec<Override> = sets.iter().map(|s| s.parse().unwrap()).collect();
    parse(src, "f.ron", &overrides)
}

/// Parses the flagship with `edits` and checks the whole rendered error.
#[track_caller]
pub fn check_error(edits: &[(&str, &str)], expected: &str) {
    match parse_with(&edit(edits), &[]) {
        Ok(_) => panic!("parsed, but expected: {expected}"),
        Err(e) => assert_eq!(e.to_string(), expected),
    }
}

/// Parses `base` with `edits` and checks the whole rendered error.
#[track_caller]
pub fn check_error_of(base: &str, edits: &[(&str, &str)], expected: &str) {
    match parse_with(&edit_of(base, edits), &[]) {
        Ok(_) => panic!("parsed, but expected: {expected}"),
        Err(e) => assert_eq!(e.to_string(), expected),
    }
}

/// Parses the flagship with overrides and checks the whole rendered error.
#[track_caller]
pub fn check_override_error(sets: &[&str], expected: &str) {
    match parse_with(FLAGSHIP, sets) {
        Ok(_) => panic!("parsed, but expected: {expected}"),
        Err(e) => assert_eq!(e.to_string(), expected),
    }
}
