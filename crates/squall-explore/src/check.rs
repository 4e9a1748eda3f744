//! `check`: runs a scenario over many cases (a seed and a value of every explored parameter),
//! judges each run against the invariants, and shrinks the first failure of each invariant to
//! the smallest case that still fails.
//!
//! Cases come from a proptest strategy (a seed that does not shrink, and one step per
//! parameter on its ladder, see [`crate::space`]) drawn by a `TestRunner` seeded from the
//! scenario's seed, one after another, so case `i` is the same whatever `--cases`, `--jobs`
//! or `--shard` is. Runs are independent and go to a thread pool; results are put back in
//! case order. Shrinking walks proptest's value tree of the failing case (binary search of
//! each parameter toward its first bound, the seed kept) exactly as proptest's own runner
//! does: simplify while the run still fails the invariant, complicate when it passes.

use std::collections::BTreeMap;

use proptest::prelude::any;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use squall_model::RunOutput;

use crate::invariant::{evaluate, Invariant, Rule, Verdict};
use crate::space::Axis;
use crate::stats::{wilson, Estimate};

/// A run to make: the master seed and the override values of the explored parameters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Setting {
    /// Master seed.
    pub seed: u64,
    /// `(path, value)` overrides, in the order of the axes.
    pub values: Vec<(String, String)>,
}

impl Setting {
    /// The command-line arguments that make the same run: `--seed 7 --set faults.0.for=12s`.
    pub fn args(&self) -> String {
        let mut s = format!("--seed {}", self.seed);
        for (path, value) in &self.values {
            s.push_str(&format!(" --set {}", shell_word(&format!("{path}={value}"))));
        }
        s
    }

    /// The setting as a regression-file line: `seed=7 faults.0.for=12s`.
    pub fn line(&self) -> String {
        let mut s = format!("seed={}", self.seed);
        for (path, value) in &self.values {
            s.push_str(&format!(" {path}={value}"));
        }
        s
    }

    /// Reads a regression-file line (see [`Setting::line`]).
    ///
    /// # Errors
    /// A message if a word is not `PATH=VALUE` or the seed is missing or not a number.
    pub fn parse_line(line: &str) -> Result<Setting, String> {
        let mut seed = None;
        let mut values = Vec::new();
        for word in line.split_whitespace() {
            let Some((path, value)) = word.split_once('=') else {
                return Err(format!("`{word}` is not PATH=VALUE"));
            };
            if path == "seed" {
                seed = Some(value.parse().map_err(|_| format!("the seed `{value}` is not a number"))?);
            } else {
                values.push((path.to_string(), value.to_string()));
            }
        }
        let seed = seed.ok_or_else(|| "the line has no `seed=N`".to_string())?;
        Ok(Setting { seed, values })
    }
}

/// `w`, quoted for a POSIX shell if it needs to be.
pub fn shell_word(w: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-=/:+,@%".contains(c);
    if w.chars().all(plain) {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// How to make one run: builds the scenario with the setting's seed and overrides and runs it.
/// An error (the scenario refused a value), or a panic, fails that case alone.
pub type RunFn<'a> = dyn Fn(&Setting) -> Result<RunOutput, String> + Sync + 'a;

/// Runs `f`, turning a panic into an error carrying the panic's message, so that one run
/// that breaks an engine assertion fails alone instead of taking every other run of a
/// comparison, check or sweep down with it. The run's state is dropped with the panic; only
/// its inputs, which it does not change, are shared.
///
/// # Errors
/// `f`'s own error, or `"panicked: <message>"`.
pub fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_string());
            Err(format!("panicked: {msg}"))
        }
    }
}

/// A deterministic share of the cases: those whose index is `index` modulo `count`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// From 0 to `count - 1`.
    pub index: u32,
    /// Shards in all, at least 1.
    pub count: u32,
}

impl Shard {
    /// The whole set of cases.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Reads `i/n` (`0/4` to `3/4`).
    ///
    /// # Errors
    /// A message for anything else, or `i >= n`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("`{text}` is not a shard; write I/N with 0 <= I < N, as in 0/4");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) =
            (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether case `i` is in this shard.
    pub fn has(&self, i: usize) -> bool {
        i % self.count as usize == self.index as usize
    }
}

/// What a check does.
pub struct CheckPlan<'a> {
    /// Explored parameters.
    pub axes: &'a [Axis],
    /// Invariants, the always-on ones included.
    pub invariants: &'a [Invariant],
    /// Cases in the whole check (all shards).
    pub cases: usize,
    /// Seeds the case generator.
    pub seed: u64,
    /// Which cases to run.
    pub shard: Shard,
    /// Settings to replay before the cases (a regression file); run by shard 0 only.
    pub regressions: &'a [Setting],
    /// Most runs spent shrinking each failing invariant.
    pub max_shrinks: u32,
    /// Threads running cases.
    pub jobs: usize,
}

/// One run and how it fared.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseResult {
    /// Case index (for a regression, its line's position in the file).
    pub case: usize,
    /// What ran.
    pub setting: Setting,
    /// One per invariant, in order.
    pub verdicts: Vec<Verdict>,
}

/// The smallest failing case found for one invariant.
#[derive(Clone, Debug, PartialEq)]
pub struct Shrunk {
    /// Index of the invariant.
    pub invariant: usize,
    /// The case the shrinking started from (the invariant's first failure).
    pub case: usize,
    /// The smallest failing setting.
    pub setting: Setting,
    /// Its verdict on the invariant.
    pub verdict: Verdict,
    /// Runs the shrinking took.
    pub runs: u32,
}

/// A case whose run failed (a value the scenario refused, or a panic): it has no verdicts,
/// and the check does not pass.
#[derive(Clone, Debug, PartialEq)]
pub struct FailedCase {
    /// Case index (for a regression, its line's position in the file).
    pub case: usize,
    /// Whether it is a replayed regression rather than a drawn case.
    pub replay: bool,
    /// What ran.
    pub setting: Setting,
    /// Why it failed.
    pub message: String,
}

/// A check's results, for the whole check or one shard.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckResult {
    /// The cases run, by index (those that failed to run are in `failed` instead).
    pub cases: Vec<CaseResult>,
    /// The regression settings replayed, in file order.
    pub regressions: Vec<CaseResult>,
    /// Per failing per-run invariant, the shrunk failure, by invariant index.
    pub shrunk: Vec<Shrunk>,
    /// The cases and regressions whose run failed, regressions first, then by index.
    pub failed: Vec<FailedCase>,
}

/// One invariant over all the cases.
#[derive(Clone, Debug, PartialEq)]
pub struct InvariantSummary {
    /// Cases where it held.
    pub passed: u64,
    /// Cases where it did not.
    pub failed: u64,
    /// The pass rate with its 95 % Wilson interval (`None` without cases).
    pub rate: Option<Estimate>,
    /// Whether it is a "sometimes" assertion: it holds if any case shows the evidence.
    pub sometimes: bool,
    /// Whether the check passes on it: every case (and replayed regression) for a per-run
    /// invariant, at least one case for a "sometimes" one.
    pub holds: bool,
    /// The first failing case, if any.
    pub first_failure: Option<usize>,
}

/// Whether an invariant is a "sometimes" assertion.
pub fn is_sometimes(inv: &Invariant) -> bool {
    matches!(inv.rule, Rule::Sometimes(_))
}

impl CheckResult {
    /// Each invariant (flagged `sometimes` by the caller, as the plan's order) over the cases.
    pub fn summary(&self, sometimes: &[bool]) -> Vec<InvariantSummary> {
        sometimes
            .iter()
            .enumerate()
            .map(|(j, &sometimes)| {
                let passed = self.cases.iter().filter(|c| c.verdicts[j].passed).count() as u64;
                let failed = self.cases.len() as u64 - passed;
                let regressions_pass = self.regressions.iter().all(|c| c.verdicts[j].passed);
                let holds = if sometimes { passed > 0 } else { failed == 0 && regressions_pass };
                InvariantSummary {
                    passed,
                    failed,
                    rate: wilson(passed, self.cases.len() as u64),
                    sometimes,
                    holds,
                    first_failure: self.cases.iter().find(|c| !c.verdicts[j].passed).map(|c| c.case),
                }
            })
            .collect()
    }

    /// Puts shards back together: cases by index, the regressions of the shard that ran
    /// them, and per invariant the shrink that started from the earliest case, which is the
    /// one an unsharded check makes.
    pub fn merge(parts: Vec<CheckResult>) -> CheckResult {
        let mut cases = Vec::new();
        let mut regressions = Vec::new();
        let mut failed = Vec::new();
        let mut shrunk: BTreeMap<usize, Shrunk> = BTreeMap::new();
        for part in parts {
            cases.extend(part.cases);
            failed.extend(part.failed);
            if regressions.is_empty() {
                regressions = part.regressions;
            }
            for s in part.shrunk {
                match shrunk.get(&s.invariant) {
                    Some(have) if have.case <= s.case => {}
                    _ => {
                        shrunk.insert(s.invariant, s);
                    }
                }
            }
        }
        cases.sort_by_key(|c| c.case);
        failed.sort_by_key(|f: &FailedCase| (!f.replay, f.case));
        CheckResult { cases, regressions, shrunk: shrunk.into_values().collect(), failed }
    }
}

/// The value tree of one case: the seed, then a step per axis.
type CaseTree = <(proptest::strategy::NoShrink<proptest::num::u64::Any>, Vec<std::ops::RangeInclusive<u64>>) as Strategy>::Tree;

/// The trees of cases `0..n`, drawn in order from a generator seeded with `seed`.
fn case_trees(axes: &[Axis], seed: u64, n: usize) -> Vec<CaseTree> {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(b"squall-c");
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &key);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = (any::<u64>().no_shrink(), axes.iter().map(|a| 0..=a.steps()).collect::<Vec<_>>());
    (0..n).map(|_| strategy.new_tree(&mut runner).expect("ranges always give a value")).collect()
}

/// The setting a case's steps stand for.
fn setting(axes: &[Axis], (seed, steps): &(u64, Vec<u64>)) -> Setting {
    let values = axes.iter().zip(steps).map(|(a, k)| (a.path.clone(), a.value(*k))).collect();
    Setting { seed: *seed, values }
}

/// A setting whose run failed, and why.
type Failure = (Setting, String);

/// Runs the check: the regressions (shard 0), this shard's cases, then a shrink per failing
/// per-run invariant. `progress` is called after every case run. A case whose run fails
/// (an error or a panic) is put in [`CheckResult::failed`] and the others go on; a shrink
/// that meets such a run stops there with the smallest failure found so far.
///
/// # Errors
/// Only if the thread pool cannot start.
pub fn check(
    plan: &CheckPlan<'_>,
    run: &RunFn<'_>,
    progress: &(dyn Fn() + Sync),
) -> Result<CheckResult, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.jobs.clamp(1, (plan.cases + plan.regressions.len()).max(1)))
        .thread_name(|i| format!("squall-check-{i}"))
        .build()
        .map_err(|e| format!("starting the threads that run the cases: {e}"))?;
    let trees = case_trees(plan.axes, plan.seed, plan.cases);
    let run = &|s: &Setting| guarded(|| run(s));
    let judge = |case: usize, setting: Setting| -> Result<CaseResult, Failure> {
        let out = run(&setting);
        progress();
        match out {
            Ok(out) => Ok(CaseResult { case, setting, verdicts: evaluate(plan.invariants, &out) }),
            Err(e) => Err((setting, e)),
        }
    };
    let mut todo: Vec<(bool, usize, Setting)> = Vec::new();
    if plan.shard.index == 0 {
        todo.extend(plan.regressions.iter().enumerate().map(|(i, s)| (true, i, s.clone())));
    }
    for (i, tree) in trees.iter().enumerate().filter(|(i, _)| plan.shard.has(*i)) {
        todo.push((false, i, setting(plan.axes, &tree.current())));
    }
    let done: Vec<(bool, usize, Result<CaseResult, Failure>)> = pool.install(|| {
        use rayon::prelude::*;
        todo.into_par_iter().map(|(replay, i, s)| (replay, i, judge(i, s))).collect()
    });
    let mut result =
        CheckResult { cases: Vec::new(), regressions: Vec::new(), shrunk: Vec::new(), failed: Vec::new() };
    for (replay, case, r) in done {
        match r {
            Ok(r) if replay => result.regressions.push(r),
            Ok(r) => result.cases.push(r),
            Err((setting, message)) => result.failed.push(FailedCase { case, replay, setting, message }),
        }
    }
    let sometimes: Vec<bool> = plan.invariants.iter().map(is_sometimes).collect();
    let summary = result.summary(&sometimes);
    let failing: Vec<(usize, usize)> = summary
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.sometimes)
        .filter_map(|(j, s)| s.first_failure.map(|case| (j, case)))
        .collect();
    let shrunk: Vec<Shrunk> = pool.install(|| {
        use rayon::prelude::*;
        failing
            .into_par_iter()
            .map(|(j, case)| {
                let first = result.cases.iter().find(|c| c.case == case).expect("a failing case was run");
                shrink(plan, run, j, case, first)
            })
            .collect()
    });
    result.shrunk = shrunk;
    Ok(result)
}

/// Shrinks case `case` (whose result is `first`) while invariant `j` still fails; a run
/// that fails to run ends the walk with the smallest failure found before it.
fn shrink(plan: &CheckPlan<'_>, run: &RunFn<'_>, j: usize, case: usize, first: &CaseResult) -> Shrunk {
    // Regenerated rather than kept: trees are cheap to draw, and this keeps them off threads.
    let tree = case_trees(plan.axes, plan.seed, case + 1).pop().expect("case + 1 trees");
    let mut best = Shrunk {
        invariant: j,
        case,
        setting: first.setting.clone(),
        verdict: first.verdicts[j].clone(),
        runs: 0,
    };
    // Cases met again on the walk are not run again.
    let mut seen: BTreeMap<Vec<u64>, Verdict> = BTreeMap::new();
    let mut runs = 0;
    // An error here is a run that could not be made; the walk stops and keeps what it found.
    let _stopped = walk(tree, plan.max_shrinks, |current| {
        let verdict = match seen.get(&current.1) {
            Some(v) => v.clone(),
            None => {
                runs += 1;
                let out = run(&setting(plan.axes, current))?;
                let v = evaluate(std::slice::from_ref(&plan.invariants[j]), &out).remove(0);
                seen.insert(current.1.clone(), v.clone());
                v
            }
        };
        let failed = !verdict.passed;
        if failed {
            best.setting = setting(plan.axes, current);
            best.verdict = verdict;
        }
        Ok(failed)
    });
    best.runs = runs;
    best
}

/// proptest's shrinking walk over `tree`, as its `TestRunner` does it: simplify while the
/// current value still fails, complicate when it passes, until neither can move or
/// `max_steps` values were tried. `fails` judges a value.
fn walk<T: ValueTree>(
    mut tree: T,
    max_steps: u32,
    mut fails: impl FnMut(&T::Value) -> Result<bool, String>,
) -> Result<(), String> {
    if !tree.simplify() {
        return Ok(());
    }
    for _ in 0..max_steps {
        let more = if fails(&tree.current())? { tree.simplify() } else { tree.complicate() };
        if !more {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axes() -> Vec<Axis> {
        vec![Axis::range("faults.0.for", "1s", "30s").unwrap(), Axis::range("rate", "0.5", "1.5").unwrap()]
    }

    #[test]
    fn case_i_does_not_depend_on_how_many_cases_are_drawn() {
        let few: Vec<_> = case_trees(&axes(), 7, 3).iter().map(|t| t.current()).collect();
        let many: Vec<_> = case_trees(&axes(), 7, 50).iter().map(|t| t.current()).collect();
        assert_eq!(few[..], many[..3]);
        assert!(many.windows(2).all(|w| w[0] != w[1]), "cases differ");
        let other: Vec<_> = case_trees(&axes(), 8, 3).iter().map(|t| t.current()).collect();
        assert_ne!(few, other, "another seed, other cases");
        assert!(many.iter().all(|(_, ks)| ks[0] <= 29 && ks[1] <= 1000));
    }

    #[test]
    fn shrinking_walks_each_parameter_toward_its_first_bound_and_keeps_the_seed() {
        // A failure whenever the slowdown lasts 10 s or more: binary search finds exactly 10 s.
        let fails = |ks: &[u64]| ks[0] >= 9;
        let tree = (0..)
            .map(|seed| case_trees(&axes(), seed, 1).pop().unwrap())
            .find(|t| fails(&t.current().1) && t.current().1[0] > 20)
            .expect("some seed draws a long slowdown");
        let (seed, start) = tree.current();
        let mut best = start.clone();
        walk(tree, 1000, |(s, ks)| {
            assert_eq!(*s, seed, "the seed never shrinks");
            if fails(ks) {
                best = ks.clone();
            }
            Ok(fails(ks))
        })
        .unwrap();
        assert_eq!(best[0], 9, "{best:?}");
        assert_eq!(best[1], 0, "the other parameter goes to its first bound: {best:?}");
        assert_eq!(setting(&axes(), &(seed, best)).values[0].1, "10s");
    }

    #[test]
    fn settings_read_back_from_their_regression_line_and_shards_split_the_cases() {
        let s = Setting {
            seed: 42,
            values: vec![("faults.0.for".into(), "12s".into()), ("a.b".into(), "0.5".into())],
        };
        assert_eq!(Setting::parse_line(&s.line()).unwrap(), s);
        assert_eq!(s.args(), "--seed 42 --set faults.0.for=12s --set a.b=0.5");
        assert!(Setting::parse_line("faults.0.for=1s").unwrap_err().contains("seed"));
        assert!(Setting::parse_line("seed=x").is_err());
        let shards: Vec<Shard> = (0..3).map(|i| Shard::parse(&format!("{i}/3")).unwrap()).collect();
        for case in 0..30 {
            assert_eq!(shards.iter().filter(|s| s.has(case)).count(), 1, "case {case} is in one shard");
        }
        for bad in ["3/3", "1/0", "a/b", "2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("x=Poisson(rate: 5)"), "'x=Poisson(rate: 5)'");
    }
}
