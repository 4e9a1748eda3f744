//! A check's results: the verdict table for the terminal, `check.json`, `cases.csv` (one row
//! per case with every invariant's measured value) and `regressions.csv`.
//!
//! Each is a pure function of the check's meta and results, which is what makes a merged
//! sharded check print the same bytes as an unsharded one.

use squall_explore::{CaseResult, CheckMeta, CheckResult, InvariantSummary, Verdict};

use crate::format::{csv_field, round_fixed};

/// Measured values of invariant `j` over `cases`: the smallest and the largest.
fn measured_range(cases: &[CaseResult], j: usize) -> Option<(f64, f64)> {
    let mut it = cases.iter().filter_map(|c| c.verdicts[j].measured);
    let first = it.next()?;
    Some(it.fold((first, first), |(lo, hi), m| (lo.min(m), hi.max(m))))
}

/// A measured value as the verdict of `unit` shows it.
fn shown(like: &Verdict, m: f64) -> String {
    Verdict { measured: Some(m), ..like.clone() }.shown()
}

fn summaries(meta: &CheckMeta, result: &CheckResult) -> Vec<InvariantSummary> {
    result.summary(&meta.sometimes)
}

/// Whether the check passed: every invariant holds.
pub fn check_passed(meta: &CheckMeta, result: &CheckResult) -> bool {
    summaries(meta, result).iter().all(|s| s.holds)
}

/// The verdict table for the terminal: per invariant its pass rate with a 95 % interval (or,
/// for a "sometimes" assertion, how many runs showed it), the range of values measured, and
/// for a failure the smallest failing case and the command that reproduces it.
pub fn check_table(meta: &CheckMeta, result: &CheckResult) -> String {
    let mut s = format!("check `{}` ({}", meta.scenario, meta.file);
    if meta.variant != "baseline" {
        s.push_str(&format!(", variant {}", meta.variant));
    }
    s.push_str(&format!("): {} cases", result.cases.len()));
    if meta.axes.is_empty() {
        s.push_str(" over seeds\n");
    } else {
        s.push_str(&format!(" over seeds and {}\n", meta.axes.join(", ")));
    }
    if !result.regressions.is_empty() {
        let failed = result.regressions.iter().filter(|c| c.verdicts.iter().any(|v| !v.passed)).count();
        s.push_str(&format!(
            "replayed {} saved failures first: {failed} still fail\n",
            result.regressions.len()
        ));
    }
    let sums = summaries(meta, result);
    let width = meta.invariants.iter().map(|l| l.chars().count()).max().unwrap_or(0).min(60);
    for (j, (label, sum)) in meta.invariants.iter().zip(&sums).enumerate() {
        let verdict = if sum.holds { "ok  " } else { "FAIL" };
        let n = result.cases.len();
        let rate = if sum.sometimes {
            format!("seen in {} of {n} runs", sum.passed)
        } else {
            match &sum.rate {
                Some(e) => format!(
                    "{}/{n} passed, {:.1}% [{:.1}, {:.1}]",
                    sum.passed,
                    e.mean * 100.0,
                    e.low.unwrap_or(0.0) * 100.0,
                    e.high.unwrap_or(1.0) * 100.0
                ),
                None => "no cases".to_string(),
            }
        };
        let like = result.cases.first().map(|c| &c.verdicts[j]);
        let range = match (measured_range(&result.cases, j), like) {
            (Some((lo, hi)), Some(v)) if lo == hi => format!("  measured {}", shown(v, lo)),
            (Some((lo, hi)), Some(v)) => format!("  measured {} to {}", shown(v, lo), shown(v, hi)),
            _ => String::new(),
        };
        s.push_str(&format!("{verdict} {label:<width$}  {rate}{range}\n"));
        let failing_replays = result.regressions.iter().filter(|c| !c.verdicts[j].passed);
        for c in failing_replays {
            s.push_str(&format!(
                "       saved failure still fails ({}): {}\n",
                c.verdicts[j].shown(),
                meta.command(&c.setting)
            ));
        }
        if let Some(shrunk) = result.shrunk.iter().find(|x| x.invariant == j) {
            s.push_str(&format!(
                "       smallest failure (case {}, {} shrinking runs): measured {}\n       reproduce: {}\n",
                shrunk.case,
                shrunk.runs,
                shrunk.verdict.shown(),
                meta.command(&shrunk.setting)
            ));
        } else if let Some(case) = sum.first_failure.filter(|_| !sum.sometimes) {
            let c = result.cases.iter().find(|c| c.case == case).expect("the first failure was run");
            s.push_str(&format!("       first failure: case {case}: {}\n", meta.command(&c.setting)));
        }
    }
    let failed = sums.iter().filter(|x| !x.holds).count();
    if failed == 0 {
        s.push_str(&format!("result: passed ({} invariants)\n", sums.len()));
    } else {
        s.push_str(&format!("result: FAILED ({failed} of {} invariants)\n", sums.len()));
    }
    s
}

/// `v` for JSON: rounded like every float in the reports, `null` when undefined.
fn num(v: Option<f64>) -> serde_json::Value {
    v.filter(|x| x.is_finite()).map_or(serde_json::Value::Null, |x| serde_json::json!(round_fixed(x)))
}

/// `check.json`: the meta, then per invariant its counts, pass rate and interval, the range
/// measured, and the shrunk failure with its command.
pub fn check_json(meta: &CheckMeta, result: &CheckResult) -> String {
    use serde_json::json;
    let sums = summaries(meta, result);
    let invariants: Vec<serde_json::Value> = meta
        .invariants
        .iter()
        .zip(&sums)
        .enumerate()
        .map(|(j, (label, sum))| {
            let range = measured_range(&result.cases, j);
            let shrunk = result.shrunk.iter().find(|x| x.invariant == j).map(|x| {
                json!({
                    "case": x.case,
                    "runs": x.runs,
                    "seed": x.setting.seed,
                    "values": x.setting.values.iter().map(|(p, v)| json!([p, v])).collect::<Vec<_>>(),
                    "measured": num(x.verdict.measured),
                    "shown": x.verdict.shown(),
                    "command": meta.command(&x.setting),
                })
            });
            json!({
                "invariant": label,
                "kind": if sum.sometimes { "sometimes" } else { "always" },
                "holds": sum.holds,
                "passed": sum.passed,
                "failed": sum.failed,
                "pass_rate": num(sum.rate.map(|e| e.mean)),
                "ci95_low": num(sum.rate.and_then(|e| e.low)),
                "ci95_high": num(sum.rate.and_then(|e| e.high)),
                "measured_min": num(range.map(|r| r.0)),
                "measured_max": num(range.map(|r| r.1)),
                "first_failure": sum.first_failure,
                "regressions_failed": result.regressions.iter().filter(|c| !c.verdicts[j].passed).count(),
                "shrunk": shrunk,
            })
        })
        .collect();
    let doc = json!({
        "scenario": meta.scenario,
        "file": meta.file,
        "scenario_hash": format!("{:016x}", meta.scenario_hash),
        "variant": meta.variant,
        "set": meta.set,
        "seed": meta.seed,
        "cases": meta.cases,
        "explored": meta.axes,
        "regressions": result.regressions.len(),
        "passed": sums.iter().all(|s| s.holds),
        "invariants": invariants,
    });
    let mut text = serde_json::to_string_pretty(&doc).expect("plain data serializes");
    text.push('\n');
    text
}

/// One row per case: case, seed, each parameter's value, then each invariant's verdict
/// (`pass`/`fail`) and measured value (empty when undefined).
fn rows_csv(meta: &CheckMeta, cases: &[CaseResult]) -> String {
    let paths: Vec<&str> =
        meta.axes.iter().map(|a| a.split_once('=').map_or(a.as_str(), |(p, _)| p)).collect();
    let mut header = vec!["case".to_string(), "seed".to_string()];
    header.extend(paths.iter().map(|p| csv_field(p)));
    for j in 0..meta.invariants.len() {
        header.push(format!("inv{}_pass", j + 1));
        header.push(format!("inv{}_measured", j + 1));
    }
    let mut s = header.join(",");
    s.push('\n');
    for c in cases {
        let mut row = vec![c.case.to_string(), c.setting.seed.to_string()];
        row.extend(c.setting.values.iter().map(|(_, v)| csv_field(v)));
        for v in &c.verdicts {
            row.push(if v.passed { "pass" } else { "fail" }.to_string());
            row.push(v.measured.map_or(String::new(), |m| format!("{}", round_fixed(m))));
        }
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

/// `cases.csv`: every case of the check (see the module docs); the invariants are numbered
/// in `check.json`'s order.
pub fn check_cases_csv(meta: &CheckMeta, result: &CheckResult) -> String {
    rows_csv(meta, &result.cases)
}

/// `regressions.csv`: the saved failures replayed, in the same columns (their `case` is the
/// line's position in the regression file).
pub fn check_regressions_csv(meta: &CheckMeta, result: &CheckResult) -> String {
    rows_csv(meta, &result.regressions)
}
