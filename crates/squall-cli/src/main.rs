//! The `squall` command: glue between files, the scenario loader, the engine and the reports.
//!
//! Nothing here simulates or formats results; it reads arguments, shows progress on a
//! terminal, runs the variants of `compare` on a thread pool (each run stays single-threaded),
//! and turns errors into one clear paragraph and a non-zero exit code.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use squall_kernel::SimTime;
use squall_model::{ModelConfig, Run, RunOutput, StopReason};
use squall_report::{CompareMeta, Emphasis, ReportMeta};
use squall_scenario::{Override, Scenario};
use std::io::IsTerminal as _;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// `print!` that never panics: once stdout is closed (`squall run FILE | head -3`), what
/// follows is dropped quietly, and the command still finishes its work (its report is
/// written first anyway) and exits with its own code.
macro_rules! say {
    ($($arg:tt)*) => { $crate::say_fmt(format_args!($($arg)*)) };
}

/// `println!` that never panics; see [`say!`].
macro_rules! sayln {
    () => { $crate::say_fmt(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::say_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}

mod explore;

/// Set once writing to stdout failed (a closed pipe), or by `--quiet`: nothing more is
/// printed on stdout.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Set by `--quiet`: no progress bars either (errors and warnings still go to stderr).
static QUIET: AtomicBool = AtomicBool::new(false);

/// Where progress bars draw: stderr (indicatif draws only on a terminal), or nowhere with
/// `--quiet`.
fn progress_target() -> ProgressDrawTarget {
    if QUIET.load(Ordering::Relaxed) {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}

fn say_fmt(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if out.write_fmt(args).and_then(|()| out.flush()).is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

#[derive(Parser)]
#[command(
    name = "squall",
    version,
    about = "Deterministic simulation of distributed-system incidents",
    after_help = "Exit codes: 0 done, 1 an invariant failed (check) or another error, 2 bad input \
                  (an invalid scenario file or override) or usage, 3 a run stopped at a limit, 4 a run of \
                  compare, check or sweep failed (named on stderr; the others are reported)."
)]
struct Cli {
    /// Print nothing on stdout and draw no progress; errors and warnings still go to stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario, print its summary and write its report.
    #[command(
        after_help = "Example:\n  squall run scenarios/flagship.ron --seed 7 --set duration=2m -o /tmp/flagship"
    )]
    Run {
        /// Scenario file (RON).
        file: PathBuf,
        /// Master seed, overriding the scenario's `seed`.
        #[arg(short, long)]
        seed: Option<u64>,
        /// Report directory [default: reports/<file stem>].
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// Override a field, e.g. `--set services.api.replicas=8` (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<Override>,
        /// Print the summary only; write no files.
        #[arg(long)]
        no_report: bool,
        /// Run a variant the file defines instead of the scenario as written.
        #[arg(long)]
        variant: Option<String>,
    },
    /// Run variants of a scenario in parallel, print them side by side and write a comparison.
    #[command(
        after_help = "Example:\n  squall compare scenarios/bulkhead.ron --variants baseline,bulkhead --seeds 5 -j 2"
    )]
    Compare {
        /// Scenario file (RON).
        file: PathBuf,
        /// Variants to run, comma-separated [default: all of them, the baseline first].
        #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
        variants: Option<Vec<String>>,
        /// Report directory [default: reports/<file stem>-compare].
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// Master seed of every variant, overriding the scenario's `seed`.
        #[arg(short, long)]
        seed: Option<u64>,
        /// Override a field in every variant, e.g. `--set duration=1m` (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<Override>,
        /// Variants run at once [default: the number of cores]. The results do not depend on
        /// it.
        #[arg(short, long)]
        jobs: Option<NonZeroUsize>,
        /// Seeds per variant: each variant runs with the scenario's seed (or --seed), then
        /// seed+1, ..., the same seeds for every variant, and the comparison adds each
        /// variant's mean and 95 % confidence interval over them (`seeds.csv`). The report of
        /// each variant is its first seed's.
        #[arg(long, default_value = "1", value_name = "K")]
        seeds: NonZeroU32,
        /// Print the comparison only; write no files.
        #[arg(long)]
        no_report: bool,
    },
    /// Run a scenario over many seeds and the parameter ranges it declares (`explore`),
    /// judge every run against its `invariants`, shrink each failure to the smallest failing
    /// case and print the command that reproduces it. Exits with 1 when an invariant fails,
    /// 2 when the scenario is invalid.
    #[command(
        after_help = "Example:\n  squall check scenarios/retry-storm.ron --cases 200 -j 2 -o /tmp/retry-check"
    )]
    Check(explore::CheckArgs),
    /// Run a scenario over a grid (or random points) of parameter values, each variant and
    /// several seeds, and write runs.csv, points.csv (means with 95 % intervals) and charts.
    #[command(
        after_help = "Example:\n  squall sweep scenarios/retry-storm.ron --param clients.users.arrivals.rate=100..900:9 --seeds 3"
    )]
    Sweep(explore::SweepArgs),
    /// Combine the shard files of a check or a sweep run with `--shard` into one report.
    #[command(
        after_help = "Example:\n  squall check s.ron --shard 0/2 -o out && squall check s.ron --shard 1/2 -o out\n  \
                            squall merge out"
    )]
    Merge {
        /// Shard files, or directories holding them (shard-I-of-N.json).
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Report directory [default: as the check's, reports/<file stem>-check].
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// Do not save failing cases to the scenario's regression file.
        #[arg(long)]
        no_regressions: bool,
    },
    /// Check a scenario without running it.
    #[command(
        after_help = "Example:\n  squall validate scenarios/flagship.ron --set services.api.replicas=8"
    )]
    Validate {
        /// Scenario file (RON).
        file: PathBuf,
        /// Override a field before checking (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<Override>,
    },
    /// Explain a scenario field (e.g. `queue.capacity`), or print the whole reference.
    #[command(after_help = "Example:\n  squall explain queue.capacity")]
    Explain {
        /// Field path; omit for the full scenario reference.
        field: Option<String>,
    },
    /// Time a scenario run: events/s, requests/s and peak memory.
    #[command(after_help = "Example:\n  squall bench scenarios/three-tier.ron --set duration=1h --repeat 5")]
    Bench {
        /// Scenario file (RON).
        file: PathBuf,
        /// Override a field (repeatable), e.g. `--set duration=1h`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<Override>,
        /// Runs to time; the fastest is reported.
        #[arg(long, default_value_t = 3)]
        repeat: u32,
    },
}

/// A run that stopped before its duration: the report is still written, the exit code says so.
const EXIT_STOPPED_EARLY: u8 = 3;

/// A run of `compare`, `check` or `sweep` failed (an engine panic, or a value the scenario
/// refused): it is named with the command that reproduces it, the others are reported.
const EXIT_RUN_FAILED: u8 = 4;

/// Bad input: an invalid scenario file or override (clap uses the same code for bad usage).
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.quiet {
        QUIET.store(true, Ordering::Relaxed);
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", shorten_lines(&error_text(&e)));
            ExitCode::from(error_code(&e))
        }
    }
}

/// An error as one paragraph: a scenario error shows each located problem with its line of
/// the file and a caret (the file is read again for that; if it cannot be, the message is
/// shown alone).
fn error_text(e: &anyhow::Error) -> String {
    if let Some(se) = e.downcast_ref::<squall_scenario::ScenarioError>() {
        let source = se.located_file().and_then(|f| std::fs::read_to_string(f).ok());
        if let Some(source) = source {
            // Positions count from after a byte-order mark, as the loader reads the file.
            return se.render(source.strip_prefix('\u{feff}').unwrap_or(&source));
        }
    }
    format!("{e:#}")
}

/// The exit code of an error: [`EXIT_BAD_INPUT`] when a scenario error is behind it, 1 for
/// anything else (a report that cannot be written, a bad shard file).
fn error_code(e: &anyhow::Error) -> u8 {
    if e.chain().any(|cause| cause.is::<squall_scenario::ScenarioError>()) {
        EXIT_BAD_INPUT
    } else {
        1
    }
}

/// Longest line of an error message shown whole; longer lines (a name megabytes long,
/// echoed back) keep their start and end.
const ERROR_LINE_CHARS_MAX: usize = 600;

/// `text` with every line over [`ERROR_LINE_CHARS_MAX`] characters cut in the middle.
fn shorten_lines(text: &str) -> String {
    let keep = ERROR_LINE_CHARS_MAX / 2;
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| {
            let n = line.chars().count();
            if n <= ERROR_LINE_CHARS_MAX {
                return line.to_string();
            }
            let head: String = line.chars().take(keep).collect();
            let tail: String = line.chars().skip(n - keep).collect();
            format!("{head} [... {} characters cut ...] {tail}", n - 2 * keep)
        })
        .collect();
    lines.join("\n")
}

fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::Run { file, seed, out, set, no_report, variant } => {
            let mut scenario = match &variant {
                None => load(&file, &set)?,
                Some(v) => {
                    let mut all = squall_scenario::load_variants(&file, &set, Some(std::slice::from_ref(v)))?;
                    all.remove(0).scenario
                }
            };
            if let Some(seed) = seed {
                scenario.config.seed = seed;
            }
            let bar = progress_bar(progress_target(), &scenario.name);
            let output = run_chunked(&scenario.config, |per_mille| bar.set_position(per_mille));
            bar.finish_and_clear();
            let meta = meta(&scenario, variant.as_deref());
            // The report first: whatever happens to stdout, it is on disk.
            let report = if no_report {
                None
            } else {
                let dir = out.unwrap_or_else(|| report_dir(&file, ""));
                let written = squall_report::write_report(&dir, &meta, &output)
                    .with_context(|| format!("writing the report to {}", dir.display()))?;
                Some((dir, written.len()))
            };
            say!("{}", squall_report::summary_table(&meta, &output));
            if let Some((dir, n)) = report {
                sayln!("report: {} ({n} files)", dir.display());
            }
            Ok(stop_code(&output))
        }
        Command::Compare { file, variants, out, seed, set, jobs, seeds, no_report } => {
            let out = (!no_report).then(|| out.unwrap_or_else(|| report_dir(&file, "-compare")));
            compare(&file, variants.as_deref(), out, seed, &set, jobs, seeds)
        }
        Command::Check(args) => explore::check(args),
        Command::Sweep(args) => explore::sweep(args),
        Command::Merge { shards, out, no_regressions } => explore::merge(&shards, out, no_regressions),
        Command::Validate { file, set } => {
            let scenario = load(&file, &set)?;
            let c = &scenario.config;
            sayln!(
                "{}: ok: scenario `{}`, {} services, {} client groups, duration {}, seed {}",
                file.display(),
                scenario.name,
                c.services.len(),
                c.clients.len(),
                c.duration,
                c.seed
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { field: None } => {
            say!("{}", squall_scenario::reference());
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { field: Some(field) } => match squall_scenario::explain(&field) {
            Some(text) => {
                sayln!("{text}");
                Ok(ExitCode::SUCCESS)
            }
            None => {
                let near = squall_scenario::suggest_fields(&field);
                let hint = if near.is_empty() {
                    "; run `squall explain` for the full reference".to_string()
                } else {
                    format!(
                        "; did you mean {}?",
                        near.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
                    )
                };
                anyhow::bail!("unknown field `{field}`{hint}")
            }
        },
        Command::Bench { file, set, repeat } => bench(&file, &set, repeat.max(1)),
    }
}

fn load(file: &Path, set: &[Override]) -> Result<Scenario> {
    // Scenario errors already start with file:line:col, so they need no more context.
    Ok(squall_scenario::load(file, set)?)
}

/// What a report records of the run of `s`: `variant` is `None` for the file as written.
fn meta(s: &Scenario, variant: Option<&str>) -> ReportMeta {
    ReportMeta {
        scenario: s.name.clone(),
        file: file_name(&s.file),
        seed: s.config.seed,
        scenario_hash: s.source_hash,
        config_hash: s.config_hash,
        variant: variant.map(str::to_string),
        overrides: s.overrides.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// The last component of a path as typed, so reports do not depend on the directory the
/// command ran in or on how the path was spelled.
fn file_name(path: &str) -> String {
    Path::new(path).file_name().map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

/// The default report directory of a command on `file`: `reports/<file stem><suffix>`.
fn report_dir(file: &Path, suffix: &str) -> PathBuf {
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    Path::new("reports").join(format!("{stem}{suffix}"))
}

fn stop_code(output: &RunOutput) -> ExitCode {
    match stop_warning(output) {
        None => ExitCode::SUCCESS,
        Some(warning) => {
            eprintln!("warning: {warning}");
            ExitCode::from(EXIT_STOPPED_EARLY)
        }
    }
}

/// Why a run stopped before its duration, as a sentence for the user; `None` if it did not.
fn stop_warning(output: &RunOutput) -> Option<String> {
    match &output.stop {
        StopReason::Completed => None,
        StopReason::EventLimit { limit } => Some(format!(
            "the run stopped at {} after {limit} events (limits.max_events; arrival candidates \
             that thinning rejected count too); the report covers the time up to there. Raise `limits.max_events` (or pass --set limits.max_events=N) if the \
             scenario really needs more",
            output.end
        )),
        StopReason::Halted { reason } => Some(format!("the run stopped at {}: {reason}", output.end)),
    }
}

/// A progress bar on `target` for a run of `name`, counting per mille of simulated time.
/// indicatif draws nothing when the target is not a terminal.
fn progress_bar(target: ProgressDrawTarget, name: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(1000), target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} simulating {msg} [{bar:30}] {percent}% ({elapsed})")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_message(name.to_string());
    bar
}

/// Runs `config` in chunks of simulated time, reporting progress after each in per mille of
/// the duration; the chunking does not change the result.
fn run_chunked(config: &ModelConfig, mut progress: impl FnMut(u64)) -> RunOutput {
    let duration_ns = config.duration.as_nanos();
    let mut run = Run::new(config);
    let chunk = (duration_ns / 1000).max(1);
    let mut until = 0u64;
    loop {
        until = until.saturating_add(chunk);
        if run.advance(SimTime(until)).is_some() {
            break;
        }
        progress(until.saturating_mul(1000) / duration_ns.max(1));
    }
    run.finish()
}

/// One variant, ready to run.
struct LoadedVariant {
    /// Its name, also the name of its report directory.
    name: String,
    /// What makes it from the scenario file, as `path=value`, for the report.
    overrides: Vec<String>,
    scenario: Scenario,
}

/// The variants of `file` with `set` applied to each, the baseline first, only those named
/// in `select` if it is given (an unknown name is an error naming the ones there are).
fn load_variants(file: &Path, set: &[Override], select: Option<&[String]>) -> Result<Vec<LoadedVariant>> {
    Ok(squall_scenario::load_variants(file, set, select)?
        .into_iter()
        .map(|v| LoadedVariant {
            name: v.name,
            overrides: v.scenario.overrides.clone(),
            scenario: v.scenario,
        })
        .collect())
}

/// Runs and prints a comparison, and writes it into `out` unless that is `None`.
fn compare(
    file: &Path,
    select: Option<&[String]>,
    out: Option<PathBuf>,
    seed: Option<u64>,
    set: &[Override],
    jobs: Option<NonZeroUsize>,
    seeds: NonZeroU32,
) -> Result<ExitCode> {
    let mut variants = load_variants(file, set, select)?;
    anyhow::ensure!(!variants.is_empty(), "no variant to run");
    if let Some(seed) = seed {
        for v in &mut variants {
            v.scenario.config.seed = seed;
        }
    }
    let jobs = jobs.or_else(|| std::thread::available_parallelism().ok()).map_or(1, NonZeroUsize::get);
    let k = seeds.get() as usize;
    let mut outputs = run_seeds(&variants, k, jobs)?.into_iter();

    // A variant with a run that failed (a panic) is left out of the comparison and named,
    // with the command that reproduces it; the others are compared and written.
    let mut failures: Vec<String> = Vec::new();
    let mut kept: Vec<(LoadedVariant, Vec<RunOutput>)> = Vec::new();
    for v in variants {
        let mut outs = Vec::new();
        let mut failed = false;
        for (j, r) in outputs.by_ref().take(k).enumerate() {
            match r {
                Ok(o) => outs.push(o),
                Err(message) => {
                    failed = true;
                    let seed = v.scenario.config.seed.wrapping_add(j as u64);
                    failures.push(format!(
                        "variant `{}` seed {seed} failed: {message}\n  reproduce it with: {}",
                        v.name,
                        reproduction(file, &v.name, seed, set)
                    ));
                }
            }
        }
        if !failed {
            kept.push((v, outs));
        }
    }
    if kept.is_empty() {
        anyhow::bail!("every variant failed:\n{}", failures.join("\n"));
    }
    let (variants, per_variant_outs): (Vec<LoadedVariant>, Vec<Vec<RunOutput>>) = kept.into_iter().unzip();
    let meta = CompareMeta {
        scenario: meta(&variants[0].scenario, None),
        overrides: variants.iter().map(|v| v.overrides.clone()).collect(),
        config_hashes: variants.iter().map(|v| v.scenario.config_hash).collect(),
        set: set.iter().map(ToString::to_string).collect(),
    };
    let per_variant: Vec<(String, Vec<RunOutput>)> =
        variants.iter().map(|v| v.name.clone()).zip(per_variant_outs).collect();
    let over = (k > 1).then(|| squall_report::OverSeeds::of(&per_variant));
    // Every run that stopped early is named, not only those of the first seed.
    let warnings: Vec<String> = per_variant
        .iter()
        .flat_map(|(name, outs)| {
            outs.iter().filter_map(move |o| {
                let which = if k == 1 { format!("`{name}`") } else { format!("`{name}` seed {}", o.seed) };
                stop_warning(o).map(|w| format!("variant {which}: {w}"))
            })
        })
        .collect();
    let runs: Vec<(String, RunOutput)> = per_variant
        .into_iter()
        .map(|(name, outs)| (name, outs.into_iter().next().expect("every variant ran at least one seed")))
        .collect();
    let emphasis = if std::io::stdout().is_terminal() { Emphasis::Ansi } else { Emphasis::Plain };
    let written = match out {
        Some(dir) => {
            let written = squall_report::write_comparison(&dir, &meta, &runs, over.as_ref())
                .with_context(|| format!("writing the comparison to {}", dir.display()))?;
            Some((dir, written.len()))
        }
        None => None,
    };
    say!("{}", squall_report::comparison_table(&meta, &runs, emphasis));
    if let Some(over) = &over {
        say!("{}", squall_report::seeds_table(over));
    }
    if let Some((dir, n)) = written {
        sayln!("report: {} ({n} files)", dir.display());
    }

    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    for failure in &failures {
        eprintln!("error: {}", shorten_lines(failure));
    }
    Ok(if !failures.is_empty() {
        ExitCode::from(EXIT_RUN_FAILED)
    } else if warnings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_STOPPED_EARLY)
    })
}

/// The command that makes one run of a comparison alone: `squall run FILE [--variant V]
/// --seed S [--set ...]`.
fn reproduction(file: &Path, variant: &str, seed: u64, set: &[Override]) -> String {
    let mut s = format!("squall run {}", squall_explore::check::shell_word(&file.display().to_string()));
    if variant != squall_scenario::BASELINE {
        s.push_str(&format!(" --variant {}", squall_explore::check::shell_word(variant)));
    }
    s.push_str(&format!(" --seed {seed}"));
    for o in set {
        s.push_str(&format!(" --set {}", squall_explore::check::shell_word(&o.to_string())));
    }
    s
}

/// Runs every variant with `k` seeds (its own seed, then seed+1, ...) on a pool of `jobs`
/// threads and returns the outputs variant by variant, each variant's in seed order.
fn run_seeds(variants: &[LoadedVariant], k: usize, jobs: usize) -> Result<Vec<Result<RunOutput, String>>> {
    let runs: Vec<(String, ModelConfig)> = variants
        .iter()
        .flat_map(|v| {
            (0..k as u64).map(move |j| {
                let mut config = v.scenario.config.clone();
                config.seed = config.seed.wrapping_add(j);
                let label = if k == 1 { v.name.clone() } else { format!("{} seed {}", v.name, config.seed) };
                (label, config)
            })
        })
        .collect();
    run_configs(&runs, jobs)
}

/// Runs every variant on a pool of `jobs` threads, one run per thread at a time, and returns
/// the outputs in variant order.
#[cfg(test)]
fn run_variants(variants: &[LoadedVariant], jobs: usize) -> Result<Vec<Result<RunOutput, String>>> {
    run_seeds(variants, 1, jobs)
}

/// Runs each `(label, config)` on a pool of `jobs` threads, one run per thread at a time, and
/// returns the outputs in the order of `runs`; a run that panics gives its message instead,
/// and the others go on.
///
/// rayon's work-stealing pool hands the next run to whichever thread is free, and its
/// indexed `collect` puts each result at its run's position. Each run is single-threaded
/// and depends only on its own config, so the outputs, and every file made from them, are
/// the same for any `jobs`.
fn run_configs(runs: &[(String, ModelConfig)], jobs: usize) -> Result<Vec<Result<RunOutput, String>>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.clamp(1, runs.len().max(1)))
        .thread_name(|i| format!("squall-run-{i}"))
        .build()
        .context("starting the threads that run the variants")?;
    let bars = MultiProgress::with_draw_target(progress_target());
    let width = runs.iter().map(|(label, _)| label.chars().count()).max().unwrap_or(0);
    let runs: Vec<(&ModelConfig, ProgressBar)> = runs
        .iter()
        .map(|(label, config)| {
            (config, bars.add(progress_bar(ProgressDrawTarget::hidden(), &format!("{label:<width$}"))))
        })
        .collect();
    let outputs = pool.install(|| {
        runs.par_iter()
            .map(|(config, bar)| {
                let output = squall_explore::guarded(|| {
                    Ok(run_chunked(config, |per_mille| bar.set_position(per_mille)))
                });
                bar.finish();
                output
            })
            .collect()
    });
    // Progress display only: failing to clear it must not fail the comparison.
    let _ = bars.clear();
    Ok(outputs)
}

#[expect(clippy::disallowed_methods, reason = "benchmark timing is wall-clock by nature")]
fn bench(file: &Path, set: &[Override], repeat: u32) -> Result<ExitCode> {
    let scenario = load(file, set)?;
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..repeat {
        let start = std::time::Instant::now();
        let mut run = Run::new(&scenario.config);
        while run.advance(SimTime::MAX).is_none() {}
        let footprint = run.footprint_max_bytes();
        let out = run.finish();
        best = best.min(start.elapsed().as_secs_f64());
        last = Some((out, footprint));
    }
    let (out, footprint) = last.expect("repeat >= 1");
    let requests: u64 = out.clients.iter().map(|c| c.issued).sum();
    let attempts: u64 = out.services.iter().map(|s| s.arrivals).sum();
    sayln!("scenario           {}", scenario.name);
    sayln!("simulated          {:.1} s", out.end.as_secs_f64());
    sayln!("wall (best of {repeat})    {best:.3} s");
    sayln!("model              {} services, {} client groups", out.services.len(), out.clients.len());
    sayln!("events             {} ({:.2} M/s)", out.n_events, out.n_events as f64 / best / 1e6);
    sayln!("wall per event     {:.0} ns", best * 1e9 / out.n_events.max(1) as f64);
    sayln!("client requests    {requests} ({:.2} M/s)", requests as f64 / best / 1e6);
    sayln!("service requests   {attempts} ({:.2} M/s)", attempts as f64 / best / 1e6);
    sayln!(
        "state footprint    {:.1} MiB (request table, queues, pending events)",
        footprint as f64 / 1048576.0
    );
    if let Some(kib) = peak_rss_kib() {
        sayln!("peak RSS           {:.1} MiB", kib as f64 / 1024.0);
    }
    Ok(stop_code(&out))
}

/// Peak resident memory of this process, from /proc (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_error_lines_keep_their_start_and_end() {
        assert_eq!(shorten_lines("short\nlines"), "short\nlines");
        let name = "é".repeat(5_000_000);
        let msg = format!("s.ron:3:5: unknown service `{name}`, did you mean `db`?\nnext line");
        let cut = shorten_lines(&msg);
        assert!(cut.chars().count() < 2 * ERROR_LINE_CHARS_MAX, "{} characters", cut.chars().count());
        assert!(cut.starts_with("s.ron:3:5: unknown service `é"), "{cut}");
        assert!(cut.contains("characters cut"), "{cut}");
        assert!(cut.ends_with("`, did you mean `db`?\nnext line"), "{cut}");
    }

    const SMALL: &str = r#"Scenario(
        name: "small", seed: 1, duration: "3s",
        services: { "db": (workers: 2, endpoints: {"q": (work: Exponential(mean: "5ms"))}) },
        clients: { "u": (target: (service: "db", endpoint: "q"), arrivals: Poisson(rate: 300)) },
    )"#;

    /// Variants that differ in seed and load, so each run gives different numbers.
    fn variants() -> Vec<LoadedVariant> {
        (0..5u64)
            .map(|i| {
                let rate = format!("clients.u.arrivals=Poisson(rate: {})", 100 + 50 * i);
                let set: Vec<Override> = vec![rate.parse().unwrap()];
                let mut scenario = squall_scenario::parse(SMALL, "small.ron", &set).unwrap();
                scenario.config.seed = i;
                LoadedVariant { name: format!("v{i}"), overrides: vec![rate], scenario }
            })
            .collect()
    }

    fn summaries(outputs: &[Result<RunOutput, String>]) -> Vec<String> {
        outputs
            .iter()
            .map(|o| match o {
                Ok(o) => squall_report::summary_json(&ReportMeta::default(), o),
                Err(e) => format!("failed: {e}"),
            })
            .collect()
    }

    #[test]
    fn variants_give_the_same_outputs_in_variant_order_at_any_job_count() {
        let variants = variants();
        let serial = summaries(&run_variants(&variants, 1).unwrap());
        assert_eq!(serial.len(), 5);
        for (i, s) in serial.iter().enumerate() {
            let alone = summaries(&[Ok(run_chunked(&variants[i].scenario.config, |_| {}))]);
            assert_eq!(s, &alone[0], "variant {i} is in its own place");
        }
        assert!(serial.windows(2).all(|w| w[0] != w[1]), "the variants differ, so order is tested");
        for jobs in [2, 3, 8] {
            assert_eq!(summaries(&run_variants(&variants, jobs).unwrap()), serial, "--jobs {jobs}");
        }
    }

    // Issue 18: one run that panics must not take the others of a comparison down.
    #[test]
    fn a_run_that_panics_fails_alone_and_the_others_keep_their_outputs() {
        let mut variants = variants();
        let serial = summaries(&run_variants(&variants, 1).unwrap());
        // A zero bucket width breaks an engine assertion when the world is built.
        variants[2].scenario.config.bucket_width = squall_kernel::SimDuration(0);
        for jobs in [1, 3] {
            let outs = summaries(&run_variants(&variants, jobs).unwrap());
            assert!(outs[2].starts_with("failed: panicked: bucket width must be positive"), "{}", outs[2]);
            for i in [0, 1, 3, 4] {
                assert_eq!(outs[i], serial[i], "variant {i} at --jobs {jobs}");
            }
        }
    }

    // Issue 18: a sweep run that panics or is refused fails alone.
    #[test]
    fn a_sweep_run_that_panics_or_is_refused_fails_alone() {
        use squall_explore::sweep::{measure, run_setting, sweep};
        let variants = variants();
        let names: Vec<String> = variants.iter().map(|v| v.name.clone()).collect();
        let plan = squall_explore::SweepPlan {
            axes: &[],
            points: &[vec![]],
            variants: &names,
            seeds: 2,
            seed: 1,
            shard: squall_explore::Shard::ALL,
            jobs: 2,
        };
        let run = |v: usize, s: &squall_explore::Setting| -> Result<RunOutput, String> {
            match (v, s.seed) {
                (1, 2) => panic!("planted"),
                (3, 1) => Err("refused".to_string()),
                _ => {
                    let mut c = variants[v].scenario.config.clone();
                    c.seed = s.seed;
                    Ok(squall_model::run(&c))
                }
            }
        };
        let (rows, failed) = sweep(&plan, &run, &measure, &|| {}).unwrap();
        assert_eq!(rows.len(), 8);
        let f: Vec<(usize, String)> = failed.iter().map(|f| (f.run, f.message.clone())).collect();
        assert_eq!(f, vec![(3, "panicked: planted".to_string()), (6, "refused".to_string())]);
        assert_eq!(run_setting(&plan, 3).2, failed[0].setting);
    }

    // Issue 18: a check case whose run panics fails alone; shrinking the others still works.
    #[test]
    fn a_check_case_that_panics_fails_alone() {
        let variants = variants();
        let invariants = squall_explore::always();
        let plan = squall_explore::CheckPlan {
            axes: &[],
            invariants: &invariants,
            cases: 6,
            seed: 3,
            shard: squall_explore::Shard::ALL,
            regressions: &[],
            max_shrinks: 4,
            jobs: 2,
        };
        let first_seed = std::sync::OnceLock::new();
        let run = |s: &squall_explore::Setting| -> Result<RunOutput, String> {
            if *first_seed.get_or_init(|| s.seed) == s.seed {
                panic!("planted");
            }
            let mut c = variants[0].scenario.config.clone();
            c.seed = s.seed;
            Ok(squall_model::run(&c))
        };
        let result = squall_explore::check(&plan, &run, &|| {}).unwrap();
        assert_eq!(result.failed.len(), 1, "{:?}", result.failed);
        assert_eq!(result.failed[0].message, "panicked: planted");
        assert_eq!(result.cases.len(), 5);
        assert!(result.cases.iter().all(|c| c.case != result.failed[0].case));
    }

    /// Common random numbers on real runs: with the same seeds, the difference a change makes
    /// is known far more precisely, seed by seed, than the two variants' intervals suggest.
    #[test]
    fn over_seeds_the_paired_difference_is_narrower_than_the_variants_intervals() {
        let workers = |n: u32| {
            let set: Vec<Override> = vec![format!("services.db.workers={n}").parse().unwrap()];
            squall_scenario::parse(SMALL, "small.ron", &set).unwrap()
        };
        let seeds = |s: &Scenario| -> Vec<RunOutput> {
            (0..5u64)
                .map(|j| {
                    let mut config = s.config.clone();
                    config.seed = 100 + j;
                    squall_model::run(&config)
                })
                .collect()
        };
        let runs = vec![("two".to_string(), seeds(&workers(2))), ("three".to_string(), seeds(&workers(3)))];
        let over = squall_report::OverSeeds::of(&runs);
        let find = |v: usize| {
            over.variants[v]
                .1
                .iter()
                .find(|m| m.kind == "client" && m.metric == "goodput_per_s")
                .unwrap()
                .clone()
        };
        let (two, three) = (find(0), find(1));
        let width = |ci: Option<(f64, f64)>| ci.map(|(lo, hi)| hi - lo).unwrap();
        let diff = three.diff.expect("the second variant is compared with the first");
        assert_eq!(diff.n, 5);
        assert!(
            width(diff.ci) < 0.5 * width(two.ci).min(width(three.ci)),
            "paired {:?}, two {:?}, three {:?}",
            diff.ci,
            two.ci,
            three.ci
        );
    }
}
