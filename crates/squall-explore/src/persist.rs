//! A check's results as a file, so shards run on different machines can be merged: every
//! number that is not an integer is written as its shortest exact decimal text, so reading
//! it back gives the same bits, and a merged check prints exactly what an unsharded one does.

use serde::{Deserialize, Serialize};

use crate::check::{CaseResult, CheckResult, FailedCase, Setting, Shard, Shrunk};
use crate::invariant::{Unit, Verdict};
use crate::sweep::RunRow;

/// What a check ran, beyond its results: enough to report it and to tell shards of one check
/// from shards of another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckMeta {
    /// Scenario name.
    pub scenario: String,
    /// Scenario file, as given.
    pub file: String,
    /// Hash of the scenario file's content.
    pub scenario_hash: u64,
    /// The variant checked.
    pub variant: String,
    /// `--set` overrides, as `path=value`.
    pub set: Vec<String>,
    /// Explored parameters, as `path=range`.
    pub axes: Vec<String>,
    /// Invariant labels, the always-on ones included.
    pub invariants: Vec<String>,
    /// Which invariants are "sometimes" assertions.
    pub sometimes: Vec<bool>,
    /// Cases in the whole check.
    pub cases: usize,
    /// The scenario's seed, which seeds the case generator.
    pub seed: u64,
    /// Most runs spent shrinking each failure.
    pub max_shrinks: u32,
}

impl CheckMeta {
    /// The one-line command that runs `setting` exactly as the check did.
    pub fn command(&self, setting: &Setting) -> String {
        run_command(&self.file, &self.variant, &self.set, setting)
    }
}

/// The one-line command that runs `setting` of `variant` of `file` with the `--set`
/// overrides `set` (as `path=value`).
pub fn run_command(file: &str, variant: &str, set: &[String], setting: &Setting) -> String {
    let mut s = format!("squall run {}", crate::check::shell_word(file));
    if variant != "baseline" {
        s.push_str(&format!(" --variant {}", crate::check::shell_word(variant)));
    }
    for set in set {
        s.push_str(&format!(" --set {}", crate::check::shell_word(set)));
    }
    s.push(' ');
    s.push_str(&setting.args());
    s
}

#[derive(Serialize, Deserialize)]
struct File {
    kind: String,
    meta: CheckMeta,
    shard: (u32, u32),
    cases: Vec<Row>,
    regressions: Vec<Row>,
    shrunk: Vec<ShrunkRow>,
    /// Cases whose run failed; absent when none did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    failed: Vec<FailedRow>,
}

#[derive(Serialize, Deserialize)]
struct FailedRow {
    case: usize,
    replay: bool,
    seed: u64,
    values: Vec<(String, String)>,
    message: String,
}

#[derive(Serialize, Deserialize)]
struct Row {
    case: usize,
    seed: u64,
    values: Vec<(String, String)>,
    verdicts: Vec<VerdictRow>,
}

#[derive(Serialize, Deserialize)]
struct VerdictRow {
    passed: bool,
    measured: Option<String>,
    unit: String,
    note: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct ShrunkRow {
    invariant: usize,
    case: usize,
    runs: u32,
    row: Row,
}

fn unit_name(u: Unit) -> &'static str {
    match u {
        Unit::Ratio => "ratio",
        Unit::Seconds => "seconds",
        Unit::Count => "count",
    }
}

fn verdict_row(v: &Verdict) -> VerdictRow {
    VerdictRow {
        passed: v.passed,
        measured: v.measured.map(|m| format!("{m:?}")),
        unit: unit_name(v.unit).to_string(),
        note: v.note.clone(),
    }
}

fn verdict(r: VerdictRow) -> Result<Verdict, String> {
    let unit = match r.unit.as_str() {
        "ratio" => Unit::Ratio,
        "seconds" => Unit::Seconds,
        "count" => Unit::Count,
        other => return Err(format!("unknown unit `{other}`")),
    };
    let measured = match r.measured {
        Some(t) => Some(t.parse::<f64>().map_err(|_| format!("`{t}` is not a number"))?),
        None => None,
    };
    Ok(Verdict { passed: r.passed, measured, unit, note: r.note })
}

fn row(c: &CaseResult) -> Row {
    Row {
        case: c.case,
        seed: c.setting.seed,
        values: c.setting.values.clone(),
        verdicts: c.verdicts.iter().map(verdict_row).collect(),
    }
}

fn case(r: Row) -> Result<CaseResult, String> {
    Ok(CaseResult {
        case: r.case,
        setting: Setting { seed: r.seed, values: r.values },
        verdicts: r.verdicts.into_iter().map(verdict).collect::<Result<_, _>>()?,
    })
}

/// The shard a file says it holds, checked.
fn shard_of((index, count): (u32, u32)) -> Result<Shard, String> {
    if count == 0 || index >= count {
        return Err(format!("the shard {index}/{count} is not valid"));
    }
    Ok(Shard { index, count })
}

/// A check's (or one shard's) results as JSON text.
pub fn check_to_json(meta: &CheckMeta, shard: Shard, result: &CheckResult) -> String {
    let file = File {
        kind: "check".to_string(),
        meta: meta.clone(),
        shard: (shard.index, shard.count),
        cases: result.cases.iter().map(row).collect(),
        regressions: result.regressions.iter().map(row).collect(),
        shrunk: result
            .shrunk
            .iter()
            .map(|s| ShrunkRow {
                invariant: s.invariant,
                case: s.case,
                runs: s.runs,
                row: Row {
                    case: s.case,
                    seed: s.setting.seed,
                    values: s.setting.values.clone(),
                    verdicts: vec![verdict_row(&s.verdict)],
                },
            })
            .collect(),
        failed: result
            .failed
            .iter()
            .map(|f| FailedRow {
                case: f.case,
                replay: f.replay,
                seed: f.setting.seed,
                values: f.setting.values.clone(),
                message: f.message.clone(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&file).expect("plain data serializes");
    text.push('\n');
    text
}

/// Reads what [`check_to_json`] wrote.
///
/// # Errors
/// A message if the text is not such a file.
pub fn check_from_json(text: &str) -> Result<(CheckMeta, Shard, CheckResult), String> {
    let file: File = serde_json::from_str(text).map_err(|e| format!("not a check shard file: {e}"))?;
    if file.kind != "check" {
        return Err(format!("a shard of a {}, not of a check", file.kind));
    }
    let shard = shard_of(file.shard)?;
    let n = file.meta.invariants.len();
    if file.meta.sometimes.len() != n {
        return Err("the invariants and their kinds do not match".to_string());
    }
    if let Some(r) = file.cases.iter().chain(&file.regressions).find(|r| r.verdicts.len() != n) {
        return Err(format!("case {} has {} verdicts for {n} invariants", r.case, r.verdicts.len()));
    }
    if let Some(s) = file.shrunk.iter().find(|s| s.invariant >= n || s.row.verdicts.len() != 1) {
        return Err(format!("the shrunk case of invariant {} is not valid", s.invariant));
    }
    let cases = file.cases.into_iter().map(case).collect::<Result<_, _>>()?;
    let regressions = file.regressions.into_iter().map(case).collect::<Result<_, _>>()?;
    let mut shrunk = Vec::new();
    for s in file.shrunk {
        let mut c = case(s.row)?;
        let verdict = c.verdicts.pop().ok_or("a shrunk case has no verdict")?;
        shrunk.push(Shrunk {
            invariant: s.invariant,
            case: s.case,
            setting: c.setting,
            verdict,
            runs: s.runs,
        });
    }
    let failed = file
        .failed
        .into_iter()
        .map(|f| FailedCase {
            case: f.case,
            replay: f.replay,
            setting: Setting { seed: f.seed, values: f.values },
            message: f.message,
        })
        .collect();
    Ok((file.meta, shard, CheckResult { cases, regressions, shrunk, failed }))
}

/// What a sweep ran, beyond its rows: enough to report it and to match shards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepMeta {
    /// Scenario name.
    pub scenario: String,
    /// Scenario file, as given.
    pub file: String,
    /// Hash of the scenario file's content.
    pub scenario_hash: u64,
    /// `--set` overrides, as `path=value`.
    pub set: Vec<String>,
    /// Swept paths.
    pub params: Vec<String>,
    /// Per point, each parameter's value as override text.
    pub points: Vec<Vec<String>>,
    /// Per point, each parameter's value as a number (exact decimal text), for plots.
    pub xs: Vec<Vec<String>>,
    /// Variants run at every point.
    pub variants: Vec<String>,
    /// Seeds per point and variant.
    pub seeds: u64,
    /// The first seed.
    pub seed: u64,
    /// Metric names, in the rows' order.
    pub metrics: Vec<String>,
    /// Metrics to plot.
    pub plot: Vec<String>,
}

impl SweepMeta {
    /// The numbers of point `p`.
    pub fn x(&self, p: usize) -> Vec<f64> {
        self.xs[p].iter().map(|t| t.parse().unwrap_or(f64::NAN)).collect()
    }
}

#[derive(Serialize, Deserialize)]
struct SweepFile {
    kind: String,
    meta: SweepMeta,
    shard: (u32, u32),
    runs: usize,
    rows: Vec<SweepRow>,
}

#[derive(Serialize, Deserialize)]
struct SweepRow {
    run: usize,
    point: usize,
    variant: usize,
    seed: u64,
    metrics: Vec<Option<String>>,
}

/// A sweep's (or one shard's) rows as JSON text; `runs` is the sweep's total.
pub fn sweep_to_json(meta: &SweepMeta, shard: Shard, runs: usize, rows: &[RunRow]) -> String {
    let file = SweepFile {
        kind: "sweep".to_string(),
        meta: meta.clone(),
        shard: (shard.index, shard.count),
        runs,
        rows: rows
            .iter()
            .map(|r| SweepRow {
                run: r.run,
                point: r.point,
                variant: r.variant,
                seed: r.seed,
                metrics: r.metrics.iter().map(|m| m.map(|x| format!("{x:?}"))).collect(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&file).expect("plain data serializes");
    text.push('\n');
    text
}

/// Reads what [`sweep_to_json`] wrote: meta, shard, total runs, rows.
///
/// # Errors
/// A message if the text is not such a file.
pub fn sweep_from_json(text: &str) -> Result<(SweepMeta, Shard, usize, Vec<RunRow>), String> {
    let file: SweepFile = serde_json::from_str(text).map_err(|e| format!("not a sweep shard file: {e}"))?;
    if file.kind != "sweep" {
        return Err(format!("a shard of a {}, not of a sweep", file.kind));
    }
    let shard = shard_of(file.shard)?;
    let m = &file.meta;
    if m.xs.len() != m.points.len() || m.points.iter().chain(&m.xs).any(|p| p.len() != m.params.len()) {
        return Err("the points do not match the parameters".to_string());
    }
    let mut rows = Vec::with_capacity(file.rows.len());
    for r in file.rows {
        if r.point >= m.points.len() || r.variant >= m.variants.len() || r.metrics.len() != m.metrics.len() {
            return Err(format!("run {} does not match the sweep's points, variants or metrics", r.run));
        }
        let metrics = r
            .metrics
            .into_iter()
            .map(|m| m.map(|t| t.parse::<f64>().map_err(|_| format!("`{t}` is not a number"))).transpose())
            .collect::<Result<_, _>>()?;
        rows.push(RunRow { run: r.run, point: r.point, variant: r.variant, seed: r.seed, metrics });
    }
    Ok((file.meta, shard, file.runs, rows))
}

/// The kind of a shard file: `"check"` or `"sweep"`.
///
/// # Errors
/// A message if it is neither.
pub fn shard_kind(text: &str) -> Result<String, String> {
    #[derive(Deserialize)]
    struct Kind {
        kind: String,
    }
    let k: Kind = serde_json::from_str(text).map_err(|e| format!("not a shard file: {e}"))?;
    Ok(k.kind)
}
