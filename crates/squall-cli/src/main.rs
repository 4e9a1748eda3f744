//! The `squall` command: glue between files, the scenario loader, the engine and the reports.
//!
//! Nothing here simulates or formats results; it reads arguments, shows progress on a
//! terminal, and turns errors into one clear paragraph and a non-zero exit code.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use squall_kernel::SimTime;
use squall_model::{Run, RunOutput, StopReason};
use squall_report::ReportMeta;
use squall_scenario::{Override, Scenario};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "squall", version, about = "Deterministic simulation of distributed-system incidents")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario, print its summary and write its report.
    Run {
        /// Scenario file (RON).
        file: PathBuf,
        /// Master seed, overriding the scenario's `seed`.
        #[arg(long)]
        seed: Option<u64>,
        /// Report directory [default: reports/<file stem>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a field, e.g. `--set services.api.replicas=8` (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<Override>,
        /// Print the summary only; write no files.
        #[arg(long)]
        no_report: bool,
    },
    /// Check a scenario without running it.
    Validate {
        /// Scenario file (RON).
        file: PathBuf,
        /// Override a field before checking (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<Override>,
    },
    /// Explain a scenario field (e.g. `queue.capacity`), or print the whole reference.
    Explain {
        /// Field path; omit for the full scenario reference.
        field: Option<String>,
    },
    /// Time a scenario run: events/s, requests/s and peak memory.
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::Run { file, seed, out, set, no_report } => {
            let mut scenario = load(&file, &set)?;
            if let Some(seed) = seed {
                scenario.config.seed = seed;
            }
            let output = run_with_progress(&scenario);
            let meta = meta(&scenario);
            print!("{}", squall_report::summary_table(&meta, &output));
            if !no_report {
                let dir = out.unwrap_or_else(|| default_report_dir(&file));
                let written = squall_report::write_report(&dir, &meta, &output)
                    .with_context(|| format!("writing the report to {}", dir.display()))?;
                println!("report: {} ({} files)", dir.display(), written.len());
            }
            Ok(stop_code(&output))
        }
        Command::Validate { file, set } => {
            let scenario = load(&file, &set)?;
            let c = &scenario.config;
            println!(
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
            print!("{}", squall_scenario::reference());
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { field: Some(field) } => match squall_scenario::explain(&field) {
            Some(text) => {
                println!("{text}");
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

fn meta(s: &Scenario) -> ReportMeta {
    ReportMeta {
        scenario: s.name.clone(),
        file: s.file.clone(),
        seed: s.config.seed,
        scenario_hash: s.source_hash,
    }
}

fn default_report_dir(file: &Path) -> PathBuf {
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    Path::new("reports").join(stem)
}

fn stop_code(output: &RunOutput) -> ExitCode {
    match &output.stop {
        StopReason::Completed => ExitCode::SUCCESS,
        StopReason::EventLimit { limit } => {
            eprintln!(
                "warning: the run stopped at {} after {limit} events (limits.max_events); the report \
                 covers the time up to there. Raise `limits.max_events` (or pass --set \
                 limits.max_events=N) if the scenario really needs more",
                output.end
            );
            ExitCode::from(EXIT_STOPPED_EARLY)
        }
        StopReason::Halted { reason } => {
            eprintln!("warning: the run stopped at {}: {reason}", output.end);
            ExitCode::from(EXIT_STOPPED_EARLY)
        }
    }
}

/// Runs in chunks of simulated time so a terminal can show progress; the chunking does not
/// change the result.
fn run_with_progress(scenario: &Scenario) -> RunOutput {
    let duration_ns = scenario.config.duration.as_nanos();
    let bar = ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} simulating {msg} [{bar:30}] {percent}% ({elapsed})")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_message(scenario.name.clone());
    let mut run = Run::new(&scenario.config);
    let chunk = (duration_ns / 1000).max(1);
    let mut until = 0u64;
    loop {
        until = until.saturating_add(chunk);
        if run.advance(SimTime(until)).is_some() {
            break;
        }
        bar.set_position(until.saturating_mul(1000) / duration_ns.max(1));
    }
    bar.finish_and_clear();
    run.finish()
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
    println!("scenario           {}", scenario.name);
    println!("simulated          {:.1} s", out.end.as_secs_f64());
    println!("wall (best of {repeat})    {best:.3} s");
    println!("events             {} ({:.2} M/s)", out.n_events, out.n_events as f64 / best / 1e6);
    println!("client requests    {requests} ({:.2} M/s)", requests as f64 / best / 1e6);
    println!("service requests   {attempts} ({:.2} M/s)", attempts as f64 / best / 1e6);
    println!(
        "state footprint    {:.1} MiB (request table, queues, pending events)",
        footprint as f64 / 1048576.0
    );
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS           {:.1} MiB", kib as f64 / 1024.0);
    }
    Ok(stop_code(&out))
}

/// Peak resident memory of this process, from /proc (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
