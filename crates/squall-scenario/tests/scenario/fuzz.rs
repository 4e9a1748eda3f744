//! The fuzzing campaign (`fuzz_campaign.rs`), briefly: every input of the corpus replays
//! without a finding, a few hundred mutated shipped scenarios (a fixed seed) give none, and
//! the harness finds what it is meant to find.

use crate::fuzz_campaign::{
    campaign, case, corpus_dir, judge, judge_with, minimise, minimise_with, shipped, Case, Finding, Tally,
    Verdict, FILE,
};
use squall_scenario::Override;

// Issue 18: the standing campaign, short: no panic, every refusal located, runs repeatable.
#[test]
fn a_short_campaign_finds_nothing() {
    let seeds = shipped();
    assert!(seeds.len() >= 10, "the shipped scenarios build: {}", seeds.len());
    let mut tally = Tally::default();
    campaign(&seeds, 18, 0, 150, &mut tally);
    let found: Vec<String> =
        tally.findings.iter().map(|(i, c, f)| format!("case {i}: {f:?}\n{}", c.to_file())).collect();
    assert!(found.is_empty(), "{}", found.join("\n\n"));
    assert!(tally.refused > 10 && tally.completed + tally.stopped > 10, "both kinds of case are met");
}

#[test]
fn the_campaign_is_a_function_of_its_seed() {
    let seeds = shipped();
    assert_eq!(case(&seeds, 7, 3), case(&seeds, 7, 3));
    assert_ne!(case(&seeds, 7, 3), case(&seeds, 8, 3));
}

#[test]
fn every_corpus_input_replays_without_a_finding() {
    let mut files: Vec<_> =
        std::fs::read_dir(corpus_dir()).unwrap().filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus holds inputs");
    for f in files.iter().filter(|f| f.extension().is_some_and(|x| x == "ron")) {
        let c = Case::from_file(&std::fs::read_to_string(f).unwrap());
        assert!(judge(&c).is_ok(), "{}: {:?}", f.display(), judge(&c));
    }
}

// Issue 18: the harness itself: a panic planted in validation (where the text holds a
// marker) is caught, reported and minimised to the marker's line.
#[test]
fn the_harness_finds_and_minimises_a_planted_panic() {
    let planted = |c: &Case| {
        if c.source.contains("PLANTED") {
            panic!("planted");
        }
        squall_scenario::parse(&c.source, FILE, &c.sets)
    };
    let src = &shipped()[0].source;
    let (head, tail) = src.split_at(src.len() / 2);
    let cut = head.rfind('\n').unwrap() + 1;
    let with =
        Case { source: format!("{}// PLANTED\n{}{tail}", &head[..cut], &head[cut..]), sets: Vec::new() };
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let found = judge_with(&with, &planted);
    let small = found.as_ref().err().map(|f| minimise_with(&with, f, 500, &planted));
    std::panic::set_hook(hook);
    let f = found.unwrap_err();
    assert_eq!(f, Finding::Panic { stage: "validate", message: "planted".into() });
    assert_eq!(small.unwrap().source.trim(), "// PLANTED");
    assert_eq!(
        judge_with(&Case { source: src.clone(), sets: Vec::new() }, &planted),
        judge(&Case { source: src.clone(), sets: Vec::new() })
    );
    // A refusal blamed on an override names the `--set`, which counts as located.
    let set =
        Case { source: src.clone(), sets: vec![Override { path: "duration".into(), value: "0s".into() }] };
    assert_eq!(judge(&set), Ok(Verdict::Refused));
    assert_eq!(Case::from_file(&set.to_file()), set);
}

/// The long campaign from the test binary too, on demand (it returns at once otherwise):
/// `FUZZ_ITERATIONS=100000 cargo test -p squall-scenario --test scenario long_campaign --
/// --nocapture`; `FUZZ_SEED` picks another campaign.
#[test]
fn a_long_campaign_on_demand() {
    let Some(n) = std::env::var("FUZZ_ITERATIONS").ok().and_then(|v| v.parse::<u64>().ok()) else {
        return;
    };
    let seed = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(18);
    let seeds = shipped();
    let mut tally = Tally::default();
    let mut from = 0;
    while from < n {
        let to = (from + 1000).min(n);
        campaign(&seeds, seed, from, to, &mut tally);
        from = to;
        eprintln!(
            "{} cases: {} refused, {} completed, {} stopped at a limit, {} too large to build, {} findings",
            tally.cases,
            tally.refused,
            tally.completed,
            tally.stopped,
            tally.too_large,
            tally.findings.len()
        );
    }
    for (i, c, f) in &tally.findings {
        eprintln!("case {i}: {}\n{}\n", f.kind(), minimise(c, f, 2_000).to_file());
    }
    assert!(tally.findings.is_empty(), "{} findings", tally.findings.len());
}
