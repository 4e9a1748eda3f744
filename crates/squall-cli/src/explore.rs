//! `check` and `merge`: glue between the scenario template, the explorer and the reports,
//! with a progress bar and the regression file.

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use squall_explore::{always, CheckMeta, CheckPlan, CheckResult, Setting, Shard};
use squall_scenario::{Override, Template, BASELINE};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `squall check` was asked to do.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Scenario file (RON).
    pub file: PathBuf,
    /// Cases to run (all shards together).
    #[arg(long, default_value_t = 100)]
    pub cases: usize,
    /// Runs at once [default: the number of cores]. The results do not depend on it.
    #[arg(short, long)]
    pub jobs: Option<NonZeroUsize>,
    /// Report directory [default: reports/<file stem>-check].
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Print the verdicts only; write no report (failing cases are still saved to the
    /// regression file unless --no-regressions).
    #[arg(long, conflicts_with = "shard")]
    pub no_report: bool,
    /// The variant to check [default: baseline].
    #[arg(long)]
    pub variant: Option<String>,
    /// Override a field in every case (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<Override>,
    /// Seed of the case generator, overriding the scenario's `seed`.
    #[arg(short, long)]
    pub seed: Option<u64>,
    /// Run only the cases I, I+N, I+2N, ... (0 <= I < N) and write a shard file for
    /// `squall merge`.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<squall_explore::Shard>,
    /// Failing cases to replay first, and where new ones are saved
    /// [default: <scenario dir>/<stem>.regressions].
    #[arg(long, value_name = "FILE")]
    pub regressions: Option<PathBuf>,
    /// Neither replay nor save failing cases.
    #[arg(long)]
    pub no_regressions: bool,
    /// Most runs spent shrinking each failing invariant.
    #[arg(long, default_value_t = 64)]
    pub max_shrinks: u32,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    Shard::parse(text)
}

/// Exit code of a check that found an invariant failing.
const EXIT_CHECK_FAILED: u8 = 1;

pub fn jobs_or_cores(jobs: Option<NonZeroUsize>) -> usize {
    jobs.or_else(|| std::thread::available_parallelism().ok()).map_or(1, NonZeroUsize::get)
}

/// A bar of `total` runs with the rate and the time left; drawn only on a terminal.
pub fn runs_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), crate::progress_target());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} runs ({per_sec}, {eta} left)")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// The regression file of a scenario: `<dir>/<stem>.regressions`.
fn default_regressions(file: &Path) -> PathBuf {
    let stem =
        file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "scenario".into());
    file.with_file_name(format!("{stem}.regressions"))
}

/// The settings saved in a regression file (none if it does not exist).
fn read_regressions(path: &Path) -> Result<Vec<Setting>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading the regression file {}", path.display())),
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let s =
            Setting::parse_line(line).map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), i + 1))?;
        out.push(s);
    }
    Ok(out)
}

/// Appends the shrunk failures not saved yet to the regression file.
fn save_regressions(path: &Path, meta: &CheckMeta, result: &CheckResult) -> Result<usize> {
    let saved: Vec<Setting> = read_regressions(path)?;
    let mut text = String::new();
    let mut added: Vec<&Setting> = Vec::new();
    for s in &result.shrunk {
        if saved.contains(&s.setting) || added.contains(&&s.setting) {
            continue;
        }
        added.push(&s.setting);
        text.push_str(&format!(
            "{} # {}: {}\n",
            s.setting.line(),
            meta.invariants[s.invariant],
            s.verdict.shown()
        ));
    }
    if added.is_empty() {
        return Ok(0);
    }
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening the regression file {}", path.display()))?;
    if saved.is_empty() && f.metadata().map(|m| m.len() == 0).unwrap_or(true) {
        f.write_all(
            b"# Failing cases found by `squall check`, replayed before new cases on every check.\n\
              # One per line: seed=N path=value ...; delete a line once it passes for good.\n",
        )?;
    }
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing the regression file {}", path.display()))?;
    Ok(added.len())
}

pub fn check(a: CheckArgs) -> Result<ExitCode> {
    if a.cases == 0 {
        bail!("--cases must be at least 1");
    }
    let template = Template::load(&a.file)?;
    let variant = a.variant.clone().unwrap_or_else(|| BASELINE.to_string());
    let base = template.instantiate(&variant, &a.set)?;
    // Every variant, and the explored bounds, must build before anything runs.
    squall_scenario::load_variants(&a.file, &a.set, Some(std::slice::from_ref(&variant)))?;
    let seed = a.seed.unwrap_or(base.config.seed);
    let mut invariants = always();
    invariants.extend(base.invariants.iter().cloned());
    let shard = a.shard.unwrap_or(Shard::ALL);
    let regressions_path = a.regressions.clone().unwrap_or_else(|| default_regressions(&a.file));
    let regressions = if a.no_regressions { Vec::new() } else { read_regressions(&regressions_path)? };
    let meta = CheckMeta {
        scenario: base.name.clone(),
        file: a.file.display().to_string(),
        scenario_hash: base.source_hash,
        variant: variant.clone(),
        set: a.set.iter().map(ToString::to_string).collect(),
        axes: base.explore.iter().map(|x| format!("{}={}", x.path, x.describe())).collect(),
        invariants: invariants.iter().map(|i| i.label.clone()).collect(),
        sometimes: invariants.iter().map(squall_explore::check::is_sometimes).collect(),
        cases: a.cases,
        seed,
        max_shrinks: a.max_shrinks,
    };
    let plan = CheckPlan {
        axes: &base.explore,
        invariants: &invariants,
        cases: a.cases,
        seed,
        shard,
        regressions: &regressions,
        max_shrinks: a.max_shrinks,
        jobs: jobs_or_cores(a.jobs),
    };
    let run = |s: &Setting| -> Result<squall_model::RunOutput, String> {
        if !s.values.is_empty() {
            return run_setting(&template, &variant, &a.set, s);
        }
        let mut config = base.config.clone();
        config.seed = s.seed;
        Ok(squall_model::run(&config))
    };
    let in_shard = (0..a.cases).filter(|i| shard.has(*i)).count();
    let replays = if shard.index == 0 { regressions.len() } else { 0 };
    let bar = runs_bar((in_shard + replays) as u64, &format!("checking {}", base.name));
    let tick = || bar.inc(1);
    let result = squall_explore::check(&plan, &run, &tick).map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();

    let dir = a.out.unwrap_or_else(|| crate::report_dir(&a.file, "-check"));
    if shard.count > 1 {
        let path = write_shard(&dir, shard, &squall_explore::check_to_json(&meta, shard, &result))?;
        let failed = result.cases.iter().filter(|c| c.verdicts.iter().any(|v| !v.passed)).count();
        sayln!(
            "shard {}/{}: {} cases, {failed} with a failing invariant; merge the shards with `squall merge {}`",
            shard.index,
            shard.count,
            result.cases.len(),
            dir.display()
        );
        sayln!("shard: {}", path.display());
        return Ok(report_failed_cases(&meta, &result).unwrap_or(ExitCode::SUCCESS));
    }
    let dir = (!a.no_report).then_some(dir.as_path());
    finish_check(dir, &meta, &result, (!a.no_regressions).then_some(regressions_path.as_path()))
}

/// Names each case whose run failed, with the command that reproduces it, on stderr; the
/// exit code of a check with such cases, `None` without.
fn report_failed_cases(meta: &CheckMeta, result: &CheckResult) -> Option<ExitCode> {
    for f in &result.failed {
        let what = if f.replay { "regression" } else { "case" };
        eprintln!(
            "error: {}",
            crate::shorten_lines(&format!(
                "{what} {} failed: {}\n  reproduce it with: {}",
                f.case,
                f.message,
                meta.command(&f.setting)
            ))
        );
    }
    (!result.failed.is_empty()).then(|| ExitCode::from(crate::EXIT_RUN_FAILED))
}

/// Prints a whole check and writes it into `dir` (unless `None`), saves new failures, and
/// gives its exit code.
fn finish_check(
    dir: Option<&Path>,
    meta: &CheckMeta,
    result: &CheckResult,
    regressions: Option<&Path>,
) -> Result<ExitCode> {
    let written = match dir {
        Some(dir) => Some(
            squall_report::write_check(dir, meta, result)
                .with_context(|| format!("writing the check to {}", dir.display()))?
                .len(),
        ),
        None => None,
    };
    say!("{}", squall_report::check_table(meta, result));
    if let (Some(dir), Some(n)) = (dir, written) {
        sayln!("report: {} ({n} files)", dir.display());
    }
    if let Some(path) = regressions {
        let added = save_regressions(path, meta, result)?;
        if added > 0 {
            sayln!("saved {added} failing cases to {}; they run first next time", path.display());
        }
    }
    if let Some(code) = report_failed_cases(meta, result) {
        return Ok(code);
    }
    Ok(if squall_report::check_passed(meta, result) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CHECK_FAILED)
    })
}

/// The shard files among `paths`: files as given, directories scanned for `shard-*.json`.
fn shard_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    name.starts_with("shard-") && name.ends_with(".json")
                })
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    if files.is_empty() {
        bail!(
            "no shard files (shard-I-of-N.json) found in {}",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(files)
}

pub fn merge(paths: &[PathBuf], out: Option<PathBuf>, no_regressions: bool) -> Result<ExitCode> {
    let files = shard_files(paths)?;
    let first =
        std::fs::read_to_string(&files[0]).with_context(|| format!("reading {}", files[0].display()))?;
    let kind =
        squall_explore::shard_kind(&first).map_err(|e| anyhow::anyhow!("{}: {e}", files[0].display()))?;
    if kind == "sweep" {
        return merge_sweep(&files, out);
    }
    let mut meta: Option<CheckMeta> = None;
    let mut seen: Vec<Option<PathBuf>> = Vec::new();
    let mut parts = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let (m, shard, result) =
            squall_explore::check_from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        match &meta {
            None => {
                seen = vec![None; shard.count as usize];
                meta = Some(m);
            }
            Some(first) if *first != m => {
                bail!(
                    "{} is a shard of another check (a different scenario, variant, settings or case count)",
                    f.display()
                )
            }
            Some(_) => {}
        }
        check_shard(&mut seen, shard, f)?;
        parts.push(result);
    }
    missing_shards(&seen)?;
    let meta = meta.expect("at least one shard was read");
    let result = CheckResult::merge(parts);
    let mut held: Vec<usize> = result.cases.iter().map(|c| c.case).collect();
    held.extend(result.failed.iter().filter(|f| !f.replay).map(|f| f.case));
    held.sort_unstable();
    if held.len() != meta.cases || held.iter().enumerate().any(|(i, c)| *c != i) {
        bail!("the shards hold {} distinct cases, not the check's {} cases", held.len(), meta.cases);
    }
    let file = PathBuf::from(&meta.file);
    let dir = out.unwrap_or_else(|| crate::report_dir(&file, "-check"));
    let regressions = default_regressions(&file);
    let save = !no_regressions && file.exists();
    finish_check(Some(&dir), &meta, &result, save.then_some(regressions.as_path()))
}

/// Builds `variant` with `set` and the setting's values, and runs it with the setting's seed.
fn run_setting(
    template: &Template,
    variant: &str,
    set: &[Override],
    s: &Setting,
) -> Result<squall_model::RunOutput, String> {
    let mut set = set.to_vec();
    set.extend(s.values.iter().map(|(path, value)| Override { path: path.clone(), value: value.clone() }));
    let mut config = template.instantiate(variant, &set).map_err(|e| e.to_string())?.config;
    config.seed = s.seed;
    Ok(squall_model::run(&config))
}

/// Writes a shard file, `dir/shard-I-of-N.json`, and returns its path.
fn write_shard(dir: &Path, shard: Shard, text: &str) -> Result<PathBuf> {
    let path = dir.join(format!("shard-{}-of-{}.json", shard.index, shard.count));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// What `squall sweep` was asked to do.
#[derive(clap::Args)]
pub struct SweepArgs {
    /// Scenario file (RON).
    pub file: PathBuf,
    /// A parameter and its values: PATH=LOW..HIGH[:POINTS] or PATH=A,B,C (repeatable),
    /// e.g. `--param clients.users.arrivals.rate=100..900:9 --param faults.0.for=5s..60s`.
    #[arg(long = "param", value_name = "PATH=RANGE", required = true)]
    pub params: Vec<String>,
    /// Grid points of a range given without `:POINTS`.
    #[arg(long, default_value_t = 5)]
    pub points: u64,
    /// Draw this many points uniformly over the ranges instead of a grid.
    #[arg(long, value_name = "N")]
    pub random: Option<usize>,
    /// Seeds per point and variant (the scenario's seed, then the next ones).
    #[arg(long, default_value_t = 5)]
    pub seeds: u64,
    /// Variants to run at every point, comma-separated [default: all of them].
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub variants: Option<Vec<String>>,
    /// A metric to tabulate and plot (repeatable) [default: success_rate, goodput_per_s,
    /// p99_ms, and recovered when the scenario has faults].
    #[arg(long = "metric", value_name = "NAME")]
    pub metrics: Vec<String>,
    /// Override a field in every run (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<Override>,
    /// Runs at once [default: the number of cores]. The results do not depend on it.
    #[arg(short, long)]
    pub jobs: Option<NonZeroUsize>,
    /// Report directory [default: reports/<file stem>-sweep].
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Print the table only; write no files.
    #[arg(long, conflicts_with = "shard")]
    pub no_report: bool,
    /// Run only the runs I, I+N, ... (0 <= I < N) and write a shard file for `squall merge`.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<squall_explore::Shard>,
}

/// `PATH=LOW..HIGH[:POINTS]` or `PATH=A,B,C`: the axis and its grid points.
fn parse_param(text: &str, default_points: u64) -> Result<(squall_explore::Axis, u64)> {
    let Some((path, range)) = text.split_once('=') else {
        bail!("--param `{text}`: expected PATH=LOW..HIGH[:POINTS] or PATH=A,B,C, as in clients.users.arrivals.rate=100..900:9");
    };
    let (range, points) = match range.rsplit_once(':') {
        Some((r, n)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => {
            let n: u64 = n.parse().with_context(|| format!("--param `{text}`: the point count"))?;
            if n < 2 {
                bail!("--param `{text}`: a range needs at least 2 points");
            }
            (r, n)
        }
        _ => (range, default_points),
    };
    let axis = squall_explore::Axis::parse(path.trim(), range.trim())
        .map_err(|e| anyhow::anyhow!("--param `{text}`: {e}"))?;
    Ok((axis, points))
}

pub fn sweep(a: SweepArgs) -> Result<ExitCode> {
    use squall_explore::sweep::{measure, metric_names, n_runs, points};
    if a.params.is_empty() {
        bail!("give at least one --param PATH=LOW..HIGH[:POINTS], as in --param clients.users.arrivals.rate=100..900:9");
    }
    if a.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    if a.random == Some(0) {
        bail!("--random must be at least 1 (or leave it out for a grid)");
    }
    let template = Template::load(&a.file)?;
    let all = squall_scenario::load_variants(&a.file, &a.set, a.variants.as_deref())?;
    let variants: Vec<String> = all.iter().map(|v| v.name.clone()).collect();
    let base = &all[0].scenario;
    let parsed: Vec<(squall_explore::Axis, u64)> =
        a.params.iter().map(|p| parse_param(p, a.points)).collect::<Result<_>>()?;
    let (axes, grid): (Vec<_>, Vec<_>) = parsed.into_iter().unzip();
    // Both ends of every range must build, for every variant, before anything runs.
    for axis in &axes {
        for k in [0, axis.steps()] {
            for v in &variants {
                let mut set = a.set.clone();
                set.push(Override { path: axis.path.clone(), value: axis.value(k) });
                template.instantiate(v, &set).with_context(|| {
                    format!("--param {}: the value {} does not apply", axis.path, axis.value(k))
                })?;
            }
        }
    }
    let pts = points(&axes, &grid, a.random, base.config.seed);
    let clients: Vec<String> = base.config.clients.iter().map(|c| c.name.clone()).collect();
    let names = metric_names(&clients);
    let mut plot = if a.metrics.is_empty() {
        let mut d = vec!["success_rate".to_string(), "goodput_per_s".to_string(), "p99_ms".to_string()];
        if !base.config.faults.is_empty() {
            d.push("recovered".to_string());
        }
        d
    } else {
        a.metrics.clone()
    };
    plot.dedup();
    for m in &plot {
        if !names.contains(m) {
            bail!("unknown metric `{m}`; the metrics are {}", names.join(", "));
        }
    }
    let shard = a.shard.unwrap_or(Shard::ALL);
    let plan = squall_explore::SweepPlan {
        axes: &axes,
        points: &pts,
        variants: &variants,
        seeds: a.seeds,
        seed: base.config.seed,
        shard,
        jobs: jobs_or_cores(a.jobs),
    };
    let meta = squall_explore::SweepMeta {
        scenario: base.name.clone(),
        file: a.file.display().to_string(),
        scenario_hash: base.source_hash,
        set: a.set.iter().map(ToString::to_string).collect(),
        params: axes.iter().map(|x| x.path.clone()).collect(),
        points: pts.iter().map(|p| axes.iter().zip(p).map(|(x, k)| x.value(*k)).collect()).collect(),
        xs: pts
            .iter()
            .map(|p| axes.iter().zip(p).map(|(x, k)| format!("{:?}", x.number(*k))).collect())
            .collect(),
        variants: variants.clone(),
        seeds: a.seeds,
        seed: base.config.seed,
        metrics: names,
        plot,
    };
    let run = |v: usize, s: &Setting| run_setting(&template, &variants[v], &a.set, s);
    let total = n_runs(&plan);
    let mine = (0..total).filter(|i| shard.has(*i)).count();
    let bar = runs_bar(mine as u64, &format!("sweeping {}", base.name));
    let tick = || bar.inc(1);
    let (rows, failed) =
        squall_explore::sweep::sweep(&plan, &run, &measure, &tick).map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    // A failed run has no row; it is named with the command that reproduces it.
    let failed_code = (!failed.is_empty()).then(|| ExitCode::from(crate::EXIT_RUN_FAILED));
    let failures: Vec<String> = failed
        .iter()
        .map(|f| {
            format!(
                "run {} (point {}, variant `{}`, seed {}) failed: {}\n  reproduce it with: {}",
                f.run,
                f.point,
                variants[f.variant],
                f.setting.seed,
                f.message,
                squall_explore::run_command(&meta.file, &variants[f.variant], &meta.set, &f.setting)
            )
        })
        .collect();
    let say_failures = || {
        for f in &failures {
            eprintln!("error: {}", crate::shorten_lines(f));
        }
    };
    let dir = a.out.unwrap_or_else(|| crate::report_dir(&a.file, "-sweep"));
    if shard.count > 1 {
        let path = write_shard(&dir, shard, &squall_explore::sweep_to_json(&meta, shard, total, &rows))?;
        sayln!(
            "shard {}/{}: {} runs; merge the shards with `squall merge {}`",
            shard.index,
            shard.count,
            rows.len(),
            dir.display()
        );
        sayln!("shard: {}", path.display());
        say_failures();
        return Ok(failed_code.unwrap_or(ExitCode::SUCCESS));
    }
    if rows.is_empty() {
        say_failures();
        bail!("every run of the sweep failed");
    }
    let code = finish_sweep((!a.no_report).then_some(dir.as_path()), &meta, &rows)?;
    say_failures();
    Ok(failed_code.unwrap_or(code))
}

/// Prints a sweep and writes it into `dir` (unless `None`).
fn finish_sweep(
    dir: Option<&Path>,
    meta: &squall_explore::SweepMeta,
    rows: &[squall_explore::RunRow],
) -> Result<ExitCode> {
    let written = match dir {
        Some(dir) => Some(
            squall_report::write_sweep(dir, meta, rows)
                .with_context(|| format!("writing the sweep to {}", dir.display()))?
                .len(),
        ),
        None => None,
    };
    say!("{}", squall_report::sweep_table(meta, rows));
    if let (Some(dir), Some(n)) = (dir, written) {
        sayln!("report: {} ({n} files)", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Merges the shards of a sweep.
fn merge_sweep(files: &[PathBuf], out: Option<PathBuf>) -> Result<ExitCode> {
    let mut meta: Option<(squall_explore::SweepMeta, usize)> = None;
    let mut seen: Vec<Option<PathBuf>> = Vec::new();
    let mut rows = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let (m, shard, total, part) =
            squall_explore::sweep_from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        match &meta {
            None => {
                seen = vec![None; shard.count as usize];
                meta = Some((m, total));
            }
            Some(first) if first.0 != m || first.1 != total => {
                bail!(
                    "{} is a shard of another sweep (a different scenario, parameters or seeds)",
                    f.display()
                )
            }
            Some(_) => {}
        }
        check_shard(&mut seen, shard, f)?;
        rows.extend(part);
    }
    missing_shards(&seen)?;
    let (meta, total) = meta.expect("at least one shard was read");
    rows.sort_by_key(|r| r.run);
    if rows.len() != total || rows.iter().enumerate().any(|(i, r)| r.run != i) {
        bail!("the shards hold {} distinct runs, not the sweep's {total} runs", rows.len());
    }
    let dir = out.unwrap_or_else(|| crate::report_dir(Path::new(&meta.file), "-sweep"));
    finish_sweep(Some(&dir), &meta, &rows)
}

/// Records that `f` holds `shard`, refusing a shard of another count or one given twice.
fn check_shard(seen: &mut [Option<PathBuf>], shard: Shard, f: &Path) -> Result<()> {
    if seen.len() != shard.count as usize {
        bail!("{} is one of {} shards, the others of {}", f.display(), shard.count, seen.len());
    }
    if let Some(other) = &seen[shard.index as usize] {
        bail!(
            "shard {}/{} is given twice: {} and {}",
            shard.index,
            shard.count,
            other.display(),
            f.display()
        );
    }
    seen[shard.index as usize] = Some(f.to_path_buf());
    Ok(())
}

/// Refuses a merge with shards missing, naming them.
fn missing_shards(seen: &[Option<PathBuf>]) -> Result<()> {
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{i}/{}", seen.len()))
        .collect();
    if !missing.is_empty() {
        bail!("shards missing: {}", missing.join(", "));
    }
    Ok(())
}
