//! The fuzzing campaign over scenario files, shared by the short run in the tests
//! (`fuzz.rs`) and the long one on demand (`cargo run --release -p squall-scenario --example
//! fuzz -- --iterations N`).
//!
//! Each case is a shipped scenario with one to three mutations (a number, a duration, an
//! enum variant, a field name, a line dropped, duplicated or swapped, a fragment spliced in)
//! and sometimes `--set` overrides. It is validated and, when valid, run twice with tight
//! limits. A case is a finding if anything panics, if a refusal does not say where (every
//! line of the error starts with `fuzz.ron:LINE:COL` or the `--set` it blames), or if the two
//! runs differ. Everything is a function of the campaign's seed.

use squall_scenario::{parse, Override};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// File name the cases are parsed under.
pub const FILE: &str = "fuzz.ron";

/// Events, requests in flight and model memory a fuzzed run may use: enough to exercise
/// every part of a scenario, little enough that a case takes milliseconds.
const MAX_EVENTS: u64 = 200_000;
const MAX_IN_FLIGHT: u32 = 50_000;
const MAX_MEMORY_BYTES: u64 = 256 << 20;

/// Above these sizes a valid case is not run: the model allocates per instance, per client
/// group and per time-series bucket when it is built, before any limit is checked, so a
/// mutated `replicas: 4294967295` would exhaust the machine (a known gap: no cap on the
/// memory a model takes to build).
const INSTANCES_RUN_MAX: u64 = 2_000;
const USERS_RUN_MAX: u64 = 200_000;
const BUCKET_CELLS_RUN_MAX: u64 = 2_000_000;

/// SplitMix64: small, fast, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A scenario to start from, with the names overrides can aim at.
pub struct Seed {
    pub source: String,
    services: Vec<String>,
    clients: Vec<String>,
}

impl Seed {
    /// A shipped scenario; `None` if it does not build as it is.
    pub fn new(source: &str) -> Option<Seed> {
        let s = parse(source, FILE, &[]).ok()?;
        Some(Seed {
            source: source.to_string(),
            services: s.config.services.iter().map(|x| x.name.clone()).collect(),
            clients: s.config.clients.iter().map(|x| x.name.clone()).collect(),
        })
    }
}

/// One input: a scenario text and its overrides.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub source: String,
    pub sets: Vec<Override>,
}

impl Case {
    /// The case as a corpus file: the overrides as leading `// set: PATH=VALUE` lines.
    pub fn to_file(&self) -> String {
        let mut out = String::new();
        for o in &self.sets {
            out.push_str(&format!("// set: {}={}\n", o.path, o.value));
        }
        out.push_str(&self.source);
        out
    }

    /// Reads what [`Case::to_file`] wrote; `// found: ...` and `// note: ...` lines among the
    /// overrides are skipped, and any other comment is the scenario's own.
    pub fn from_file(text: &str) -> Case {
        let mut sets = Vec::new();
        let mut rest = text;
        while ["// set: ", "// found: ", "// note: "].iter().any(|p| rest.starts_with(p)) {
            let (line, tail) = rest.split_once('\n').unwrap_or((rest, ""));
            if let Some((path, value)) = line.strip_prefix("// set: ").and_then(|l| l.split_once('=')) {
                sets.push(Override { path: path.to_string(), value: value.to_string() });
            }
            rest = tail;
        }
        Case { source: rest.to_string(), sets }
    }
}

/// What went wrong with a case.
#[derive(Clone, Debug, PartialEq)]
pub enum Finding {
    /// Validation or the run panicked.
    Panic { stage: &'static str, message: String },
    /// A refusal with a line that names no place.
    Unlocated { message: String },
    /// Two runs of the same config gave different outputs.
    Nondeterministic,
}

impl Finding {
    /// The kind, for minimising: a smaller input must fail the same way.
    pub fn kind(&self) -> String {
        match self {
            Finding::Panic { stage, message } => {
                format!("panic in {stage}: {}", message.lines().next().unwrap_or(""))
            }
            Finding::Unlocated { .. } => "unlocated refusal".to_string(),
            Finding::Nondeterministic => "nondeterministic".to_string(),
        }
    }
}

/// How a case went when nothing was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Refused,
    /// Valid, but too large to build within the fuzzer's memory (see `INSTANCES_RUN_MAX`).
    TooLarge,
    Completed,
    StoppedAtLimit,
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// Whether a line of an error says where: `fuzz.ron:LINE:COL` or the `--set` it blames.
fn located(line: &str) -> bool {
    if line.starts_with("--set ") || line.starts_with("  ") {
        return true;
    }
    let Some(rest) = line.strip_prefix(FILE).and_then(|r| r.strip_prefix(':')) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let num = |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    num(parts.next()) && num(parts.next())
}

/// How a case is validated: `parse`, or in the harness' own test, a version with a planted
/// panic.
pub type Validate = dyn Fn(&Case) -> Result<squall_scenario::Scenario, squall_scenario::ScenarioError>;

/// Validates `case` and, when valid and not too large, runs it twice.
pub fn judge(case: &Case) -> Result<Verdict, Finding> {
    judge_with(case, &|c: &Case| parse(&c.source, FILE, &c.sets))
}

/// [`judge`] with `validate` in place of `parse`.
pub fn judge_with(case: &Case, validate: &Validate) -> Result<Verdict, Finding> {
    let parsed = catch_unwind(AssertUnwindSafe(|| validate(case)))
        .map_err(|p| Finding::Panic { stage: "validate", message: panic_message(p) })?;
    let mut scenario = match parsed {
        Ok(s) => s,
        Err(e) => {
            let message = e.to_string();
            return match message.lines().find(|l| !located(l)) {
                Some(_) => Err(Finding::Unlocated { message }),
                None => Ok(Verdict::Refused),
            };
        }
    };
    let c = &mut scenario.config;
    c.limits.max_events = c.limits.max_events.min(MAX_EVENTS);
    c.limits.max_in_flight = c.limits.max_in_flight.min(MAX_IN_FLIGHT);
    c.limits.max_memory_bytes = c.limits.max_memory_bytes.min(MAX_MEMORY_BYTES);
    let instances: u64 = c.services.iter().map(|s| u64::from(s.replicas)).sum();
    let users: u64 = c
        .clients
        .iter()
        .map(|cl| match cl.load {
            squall_model::Load::Closed { users, .. } => u64::from(users),
            squall_model::Load::Open { .. } => 0,
        })
        .sum();
    let buckets = c.duration.as_nanos().div_ceil(c.bucket_width.as_nanos().max(1));
    let cells = buckets.saturating_mul((c.services.len() + c.clients.len() + 1) as u64);
    if instances > INSTANCES_RUN_MAX || users > USERS_RUN_MAX || cells > BUCKET_CELLS_RUN_MAX {
        return Ok(Verdict::TooLarge);
    }
    let run = || {
        catch_unwind(AssertUnwindSafe(|| scenario.run()))
            .map_err(|p| Finding::Panic { stage: "run", message: panic_message(p) })
    };
    let first = run()?;
    let second = run()?;
    if format!("{first:?}") != format!("{second:?}") {
        return Err(Finding::Nondeterministic);
    }
    Ok(match first.stop {
        squall_model::StopReason::Completed => Verdict::Completed,
        _ => Verdict::StoppedAtLimit,
    })
}

/// Numbers at the edges of what fields take.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "7",
    "0.5",
    "0.999",
    "1.0",
    "-0.0",
    "1e-300",
    "1e300",
    "1e9",
    "1e10",
    "1e7",
    "100000",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "NaN",
    "inf",
];

/// Durations at the edges, and a few that are not durations.
const DURATIONS: &[&str] = &[
    "\"0s\"",
    "\"0\"",
    "\"1ns\"",
    "\"59ns\"",
    "\"1us\"",
    "\"1ms\"",
    "\"1s\"",
    "\"1h\"",
    "\"584y\"",
    "\"5000000h\"",
    "\"10 sec\"",
    "\"-1s\"",
    "\"1e3s\"",
    "\"0.5ns\"",
    "\"\"",
    "0",
    "1",
];

/// Enum variants and keywords of the schema.
const WORDS: &[&str] = &[
    "None",
    "Some",
    "true",
    "false",
    "Poisson",
    "Constant",
    "Closed",
    "Step",
    "Ramp",
    "Fifo",
    "Lifo",
    "AdaptiveLifo",
    "RoundRobin",
    "Random",
    "LeastOutstanding",
    "PowerOfTwo",
    "RingHash",
    "Maglev",
    "Exponential",
    "Deterministic",
    "LogNormal",
    "Uniform",
    "Mixture",
    "Slow",
    "Down",
    "Fail",
    "Crash",
    "FlushCache",
    "Semaphore",
    "ThreadPool",
    "TokenBucket",
    "Discrete",
    "Aimd",
    "Gradient2",
    "QueueLength",
    "QueueDelay",
    "Fixed",
    "Mser5",
    "Ok",
    "ServerError",
    "Timeout",
    "Sheddable",
    "Critical",
];

/// Fragments spliced in as they are.
const SNIPPETS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "//",
    "/*",
    "\u{0}",
    "µ",
    "\u{feff}",
    "None",
    "Some(",
    "[]",
    "()",
    "{}",
    "health_check: []",
    "queue: []",
    "codel: (target: \"200ms\")",
    "rate_limit: TokenBucket(rate: 1e-300)",
    "window: \"1ns\"",
    "schedule: [Step(at: \"1h\", rate: 1e9)]",
    "sliding_window_size: 4294967295",
    "replicas: 0",
    "need: 99",
    "steps: []",
    "timeout: \"1ns\"",
];

/// Positions of number tokens: digit runs not inside an identifier.
fn numbers(src: &str) -> Vec<(usize, usize)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let prev_word = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if b[i].is_ascii_digit() && !prev_word {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'e' || b[i] == b'_') {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// Positions of quoted strings that look like durations (`"250ms"`).
fn durations(src: &str) -> Vec<(usize, usize)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                i += 1;
            }
            if i < b.len() && b[i] == b'"' {
                let inner = &src[start + 1..i];
                if inner.starts_with(|c: char| c.is_ascii_digit())
                    && inner.ends_with(|c: char| c.is_ascii_alphabetic())
                {
                    out.push((start, i + 1));
                }
            }
        }
        i += 1;
    }
    out
}

/// Positions of identifiers; `fields` keeps those followed by `:`, the others those that
/// start with a capital or are a keyword.
fn words(src: &str, fields: bool) -> Vec<(usize, usize)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_string = false;
    while i < b.len() {
        if b[i] == b'"' {
            in_string = !in_string;
            i += 1;
            continue;
        }
        if !in_string
            && (b[i].is_ascii_alphabetic() || b[i] == b'_')
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let is_field = src[i..].trim_start().starts_with(':');
            let w = &src[start..i];
            let keyword = w.starts_with(|c: char| c.is_ascii_uppercase()) || w == "true" || w == "false";
            if (fields && is_field) || (!fields && !is_field && keyword) {
                out.push((start, i));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// `src` with one mutation.
fn mutate(rng: &mut Rng, src: &str) -> String {
    fn splice(src: &str, (a, b): (usize, usize), with: &str) -> String {
        format!("{}{}{}", &src[..a], with, &src[b..])
    }
    match rng.below(8) {
        0 | 1 => {
            let spots = numbers(src);
            if spots.is_empty() {
                return src.to_string();
            }
            let at = *rng.pick(&spots);
            let with = match rng.below(3) {
                0 => format!("{}0", &src[at.0..at.1]),
                1 => format!("{}000000", &src[at.0..at.1]),
                _ => rng.pick(NUMBERS).to_string(),
            };
            splice(src, at, &with)
        }
        2 => {
            let spots = durations(src);
            if spots.is_empty() {
                return src.to_string();
            }
            let at = *rng.pick(&spots);
            splice(src, at, rng.pick::<&str>(DURATIONS))
        }
        3 => {
            let spots = words(src, false);
            if spots.is_empty() {
                return src.to_string();
            }
            let at = *rng.pick(&spots);
            splice(src, at, rng.pick::<&str>(WORDS))
        }
        4 => {
            let spots = words(src, true);
            if spots.is_empty() {
                return src.to_string();
            }
            let at = *rng.pick(&spots);
            let other = *rng.pick(&spots);
            let with = if rng.below(4) == 0 {
                // A typo: the name without one letter.
                let w = &src[at.0..at.1];
                let k = rng.below(w.len());
                format!("{}{}", &w[..k], &w[k + 1..])
            } else {
                src[other.0..other.1].to_string()
            };
            splice(src, at, &with)
        }
        5 => {
            let lines: Vec<&str> = src.lines().collect();
            let mut lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let k = rng.below(lines.len().max(1));
            match rng.below(3) {
                0 => {
                    lines.remove(k.min(lines.len() - 1));
                }
                1 => {
                    let l = lines[k.min(lines.len() - 1)].clone();
                    lines.insert(k, l);
                }
                _ if k + 1 < lines.len() => lines.swap(k, k + 1),
                _ => {}
            }
            lines.join("\n") + "\n"
        }
        _ => {
            let mut at = rng.below(src.len() + 1);
            while !src.is_char_boundary(at) {
                at -= 1;
            }
            splice(src, (at, at), rng.pick::<&str>(SNIPPETS))
        }
    }
}

/// `--set` overrides aimed at the seed's own services and clients.
fn overrides(rng: &mut Rng, seed: &Seed) -> Vec<Override> {
    let n = rng.below(3);
    let mut out = Vec::new();
    for _ in 0..n {
        let s = seed.services.get(rng.below(seed.services.len().max(1))).cloned().unwrap_or_default();
        let c = seed.clients.get(rng.below(seed.clients.len().max(1))).cloned().unwrap_or_default();
        let num = rng.pick(NUMBERS).to_string();
        let dur = rng.pick(DURATIONS).trim_matches('"').to_string();
        let (path, value) = match rng.below(14) {
            0 => ("duration".to_string(), dur),
            1 => ("seed".to_string(), num),
            2 => (format!("services.{s}.replicas"), num),
            3 => (format!("services.{s}.workers"), num),
            4 => (format!("services.{s}.queue.capacity"), num),
            5 => (format!("services.{s}.health_check"), "[]".to_string()),
            6 => (format!("services.{s}.queue"), "[]".to_string()),
            7 => (format!("clients.{c}.arrivals"), format!("Poisson(rate: {num})")),
            8 => (format!("clients.{c}.timeout"), dur),
            9 => {
                (format!("clients.{c}.arrivals"), format!("Closed(users: {num}, think: Constant(\"{dur}\"))"))
            }
            10 => (format!("clients.{c}.schedule"), format!("[Step(at: \"1h\", rate: {num})]")),
            11 => ("limits.max_events".to_string(), num),
            12 => ("timeseries.max_buckets".to_string(), num),
            _ => (format!("services.{s}.endpoints"), "{}".to_string()),
        };
        out.push(Override { path, value });
    }
    out
}

/// Case `i` of a campaign: a function of the seed scenarios, the campaign's seed and `i`.
pub fn case(seeds: &[Seed], campaign_seed: u64, i: u64) -> Case {
    let mut rng = Rng::new(campaign_seed ^ i.wrapping_mul(0xA24B_AED4_963E_E407));
    let seed = &seeds[rng.below(seeds.len())];
    let mut source = seed.source.clone();
    for _ in 0..1 + rng.below(3) {
        source = mutate(&mut rng, &source);
    }
    let sets = if rng.below(2) == 0 { overrides(&mut rng, seed) } else { Vec::new() };
    Case { source, sets }
}

/// A smaller case that fails the same way: lines dropped one at a time, then overrides,
/// while the finding's kind stays the same (at most `budget` tries).
pub fn minimise(case: &Case, finding: &Finding, budget: u32) -> Case {
    minimise_with(case, finding, budget, &|c: &Case| parse(&c.source, FILE, &c.sets))
}

/// [`minimise`] with `validate` in place of `parse`.
pub fn minimise_with(case: &Case, finding: &Finding, mut budget: u32, validate: &Validate) -> Case {
    let kind = finding.kind();
    let same = |c: &Case| matches!(judge_with(c, validate), Err(f) if f.kind() == kind);
    let mut best = case.clone();
    let mut k = 0;
    while budget > 0 {
        let lines: Vec<&str> = best.source.lines().collect();
        if k >= lines.len() {
            break;
        }
        budget -= 1;
        let mut fewer: Vec<&str> = lines.clone();
        fewer.remove(k);
        let c = Case { source: fewer.join("\n") + "\n", sets: best.sets.clone() };
        if same(&c) {
            best = c;
        } else {
            k += 1;
        }
    }
    for j in (0..best.sets.len()).rev() {
        let mut c = best.clone();
        c.sets.remove(j);
        if same(&c) {
            best = c;
        }
    }
    best
}

/// What a campaign did.
#[derive(Default)]
pub struct Tally {
    pub cases: u64,
    pub refused: u64,
    pub too_large: u64,
    pub completed: u64,
    pub stopped: u64,
    pub findings: Vec<(u64, Case, Finding)>,
}

/// Runs cases `from..to` of the campaign with `campaign_seed`.
pub fn campaign(seeds: &[Seed], campaign_seed: u64, from: u64, to: u64, tally: &mut Tally) {
    for i in from..to {
        let c = case(seeds, campaign_seed, i);
        tally.cases += 1;
        match judge(&c) {
            Ok(Verdict::Refused) => tally.refused += 1,
            Ok(Verdict::TooLarge) => tally.too_large += 1,
            Ok(Verdict::Completed) => tally.completed += 1,
            Ok(Verdict::StoppedAtLimit) => tally.stopped += 1,
            Err(f) => tally.findings.push((i, c, f)),
        }
    }
}

/// The shipped scenarios, from the repository's `scenarios/` folder.
pub fn shipped() -> Vec<Seed> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .expect("the scenarios folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            Seed::new(&text)
        })
        .collect()
}

/// The corpus of interesting inputs kept with the tests.
pub fn corpus_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}
