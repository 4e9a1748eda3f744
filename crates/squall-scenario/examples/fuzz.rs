//! The long fuzzing campaign over scenario files, on demand:
//!
//! ```sh
//! cargo run --release -p squall-scenario --example fuzz -- --iterations 100000 [--seed 18] [--from 0]
//! ```
//!
//! Mutates the shipped scenarios (see `tests/scenario/fuzz_campaign.rs`), validates each
//! case and runs the valid ones twice with tight limits. Each finding (a panic, a refusal
//! that names no place, two runs that differ) is minimised and written to
//! `tests/corpus/found-<seed>-<case>.ron`; the exit code is 1 if there was any.

#[path = "../tests/scenario/fuzz_campaign.rs"]
#[allow(dead_code)]
mod fuzz_campaign;

use fuzz_campaign::{campaign, corpus_dir, minimise, shipped, Tally};

#[expect(clippy::disallowed_methods, reason = "a campaign's wall time is reported, never simulated")]
fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} takes a whole number, got `{v}`")))
            .unwrap_or(default)
    };
    let (iterations, seed, from) = (arg("--iterations", 10_000), arg("--seed", 18), arg("--from", 0));
    let seeds = shipped();
    // Panics are findings, reported below; the default hook would print each one too.
    std::panic::set_hook(Box::new(|_| {}));
    let start = std::time::Instant::now();
    let mut tally = Tally::default();
    let step = 1_000;
    let mut i = from;
    while i < from + iterations {
        let to = (i + step).min(from + iterations);
        campaign(&seeds, seed, i, to, &mut tally);
        i = to;
        eprintln!(
            "{} cases, {:.0} s: {} refused, {} completed, {} stopped at a limit, {} too large to build, {} findings",
            tally.cases,
            start.elapsed().as_secs_f64(),
            tally.refused,
            tally.completed,
            tally.stopped,
            tally.too_large,
            tally.findings.len()
        );
    }
    let dir = corpus_dir();
    for (i, case, finding) in &tally.findings {
        let small = minimise(case, finding, 2_000);
        let path = dir.join(format!("found-{seed}-{i}.ron"));
        let text = format!("// found: {}\n{}", finding.kind().replace('\n', " "), small.to_file());
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        println!("case {i}: {}\n  minimised to {}", finding.kind(), path.display());
    }
    println!(
        "{} cases from {} shipped scenarios (seed {seed}, cases {from}..{}) in {:.0} s: {} refused, {} completed, \
         {} stopped at a limit, {} too large to build, {} findings",
        tally.cases,
        seeds.len(),
        from + iterations,
        start.elapsed().as_secs_f64(),
        tally.refused,
        tally.completed,
        tally.stopped,
        tally.too_large,
        tally.findings.len()
    );
    if tally.findings.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
