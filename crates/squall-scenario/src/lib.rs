//! Scenario files: a RON file in, a checked [`squall_model::ModelConfig`] out, one per
//! variant ([`parse_variants`]). Nothing runs here, and the only IO is reading the file in
//! [`load`] and [`load_variants`].
//!
//! - `spec`: the `*Spec` types that mirror the file format, one module per domain
//!   (services, policies, fleet, clients, faults, checks, with leaf values and
//!   distributions), with the checks on single fields (durations, rates, counts, ratios,
//!   names, distributions, variant entries) run while deserializing, and each domain's
//!   checks across fields and its part of the model config.
//! - `read`: RON into a spec, every error with ron's position and serde's field path.
//! - `overrides`: [`Override`] (`--set PATH=VALUE`, and a variant's entries), applied to a
//!   spec as a JSON tree, each blamed on where it came from.
//! - `build`: the build of the model config, calling each domain of `spec` in turn; their
//!   checks across entities and between fields (references, call cycles, unused dependency
//!   policies, limits in order, ...) are all collected before any is reported.
//! - `locate`: best-effort source positions for those cross-entity problems.
//! - `fields`: the documentation of every field, behind [`reference`], [`explain`] and
//!   [`suggest_fields`].
//! - `error`: [`ScenarioError`] and the did-you-mean helper.
//!
//! Design choice: the file format has its own types, separate from the model's, so the
//! format can be friendly (names, units in strings, defaults) and the model plain (ids,
//! nanoseconds). Each check runs where it can say the most precise "where": single fields
//! during deserialization, so ron knows the position; references once every name is known.
//! A variant is the file plus overrides, built like any other: the baseline is built first,
//! so whatever fails in a variant's build is the variant's doing and is blamed on it.
#![warn(missing_docs)]

mod build;
mod error;
mod fields;
mod locate;
mod overrides;
mod read;
mod spec;

use std::io::Read as _;
use std::path::Path;

use indexmap::IndexMap;

use crate::locate::Seg;
use crate::overrides::Change;
use crate::spec::ScenarioSpec;

pub use error::{Origin, Problem, ScenarioError, VariantOrigin};
pub use fields::{explain, reference, suggest_fields};
pub use overrides::Override;

/// Largest scenario file accepted: 10 MiB.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// FNV-1a offset basis, the seed of [`Scenario::source_hash`].
const SOURCE_HASH_SEED: u64 = squall_kernel::rng::FNV_OFFSET;

/// Name of the unmodified scenario among its variants; no variant may take it.
pub const BASELINE: &str = "baseline";

/// Most variants a file may define: each is a whole build, so this bounds the work a file
/// can ask for.
pub const N_VARIANTS_MAX: usize = 1000;

/// A checked scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The scenario's `name`.
    pub name: String,
    /// The scenario's `description`, empty if none.
    pub description: String,
    /// The file name used in messages.
    pub file: String,
    /// `squall_kernel::rng::fnv1a64` of the source bytes (before overrides), seeded with
    /// the FNV offset basis `0xcbf29ce484222325`.
    pub source_hash: u64,
    /// Hash of the effective configuration: the file after the variant's entries and the
    /// `--set` overrides, every default filled in, written out as compact JSON (durations as
    /// written), without `seed` (recorded apart) and `variants` (the other variants). The
    /// same FNV-1a as [`Scenario::source_hash`]. Two runs with the same `config_hash` and seed
    /// give the same numbers, whatever file, variant or overrides led there.
    pub config_hash: u64,
    /// The world to build, with overrides applied.
    pub config: squall_model::ModelConfig,
    /// What a check asserts about every run (the always-on invariants not included).
    pub invariants: Vec<squall_explore::Invariant>,
    /// The parameters a check explores, in file order.
    pub explore: Vec<squall_explore::Axis>,
    /// The overrides applied, as `path=value`, in the order they applied: a variant's
    /// entries first, then the `--set` overrides.
    pub overrides: Vec<String>,
    /// Names of the variants the file defines, in file order, not counting [`BASELINE`].
    pub variant_names: Vec<String>,
}

impl Scenario {
    /// Runs the scenario once, with its seed: the same as `squall run` without the files.
    pub fn run(&self) -> squall_model::RunOutput {
        squall_model::run(&self.config)
    }

    /// Every invariant a check judges (conservation and completion first, then the file's)
    /// with its verdict on `out`.
    pub fn judge(
        &self,
        out: &squall_model::RunOutput,
    ) -> Vec<(squall_explore::Invariant, squall_explore::Verdict)> {
        let mut all = squall_explore::always();
        all.extend(self.invariants.iter().cloned());
        let verdicts = squall_explore::evaluate(&all, out);
        all.into_iter().zip(verdicts).collect()
    }
}

/// One variant of a scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Variant {
    /// The variant's name; [`BASELINE`] for the scenario without changes.
    pub name: String,
    /// The scenario with the variant's overrides applied, then the `--set` overrides.
    pub scenario: Scenario,
}

/// Reads a scenario file, checking its size and encoding; [`parse`] checks the rest.
fn read_source(path: &Path) -> Result<String, ScenarioError> {
    let file = path.display().to_string();
    let read_err = |e: std::io::Error| ScenarioError::Read { file: file.clone(), reason: e.to_string() };
    let too_large =
        |n_bytes: u64| ScenarioError::TooLarge { file: file.clone(), n_bytes, n_bytes_max: MAX_FILE_BYTES };
    let handle = std::fs::File::open(path).map_err(read_err)?;
    let meta = handle.metadata().map_err(read_err)?;
    if meta.is_dir() {
        return Err(ScenarioError::Read { file, reason: "it is a directory".to_string() });
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(meta.len()));
    }
    // The size can change after the check, and special files report none: read at most one
    // byte more than the limit to notice.
    let mut bytes = Vec::new();
    handle.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(read_err)?;
    let n_bytes = u64::try_from(bytes.len()).expect("at most MAX_FILE_BYTES + 1 bytes were read");
    if n_bytes > MAX_FILE_BYTES {
        return Err(too_large(n_bytes));
    }
    match String::from_utf8(bytes) {
        // A byte-order mark, as some editors write, is not part of the text.
        Ok(s) => Ok(match s.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => s,
        }),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let prefix = std::str::from_utf8(&e.as_bytes()[..valid]).expect("valid up to this byte");
            let (line, col) = locate::line_col(prefix, prefix.len());
            Err(ScenarioError::NotText {
                origin: Origin::Source { file, line, col },
                reason: format!("it is not valid UTF-8 (at byte {valid}); a scenario is a RON text file"),
            })
        }
    }
}

/// Reads and parses a scenario file, then applies `overrides`.
///
/// # Errors
/// [`ScenarioError::Read`] if the file cannot be read, [`ScenarioError::TooLarge`] over
/// [`MAX_FILE_BYTES`] and [`ScenarioError::NotText`] for non-UTF-8 or NUL bytes (all before
/// parsing), then whatever [`parse`] returns.
pub fn load(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let source = read_source(path)?;
    parse(&source, &path.display().to_string(), overrides)
}

/// Reads a scenario file and builds its variants; see [`parse_variants`].
///
/// # Errors
/// As [`load`], then whatever [`parse_variants`] returns.
pub fn load_variants(
    path: &Path,
    overrides: &[Override],
    select: Option<&[String]>,
) -> Result<Vec<Variant>, ScenarioError> {
    let source = read_source(path)?;
    parse_variants(&source, &path.display().to_string(), overrides, select)
}

/// Parses scenario source text, then applies `overrides`; `file` is the name used in error
/// messages. Every variant the file defines is built too, so a file with a broken variant
/// is refused; the scenario returned is the baseline.
///
/// # Errors
/// [`ScenarioError::NotText`] for NUL bytes, [`ScenarioError::Syntax`] and
/// [`ScenarioError::Field`] located by ron, [`ScenarioError::Field`] from an override, and
/// [`ScenarioError::Invalid`] with every problem across entities.
pub fn parse(source: &str, file: &str, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let mut all = parse_variants(source, file, overrides, Some(&[BASELINE.to_string()]))?;
    assert_eq!(all.len(), 1, "exactly the baseline was selected");
    Ok(all.remove(0).scenario)
}

/// Parses scenario source text and builds the baseline and every variant: each variant's
/// overrides apply to the file, then `overrides` (the command line's `--set`, which win).
/// Returns [`BASELINE`] first and then the variants in file order, or, with `select`, only
/// the variants named there, in that order ([`BASELINE`] may be named). Unselected
/// variants are still built, so that a broken one is never missed.
///
/// # Errors
/// As [`parse`]; [`ScenarioError::Selection`] for a selected name the file does not define
/// (with a did-you-mean) or one selected twice. A problem a variant causes names the
/// variant: `f.ron:40:13: variants.small."services.api.replicas": ...`. Problems in
/// several variants are reported together as [`ScenarioError::Invalid`].
pub fn parse_variants(
    source: &str,
    file: &str,
    overrides: &[Override],
    select: Option<&[String]>,
) -> Result<Vec<Variant>, ScenarioError> {
    let template = Template::parse(source, file)?;
    let names: Vec<String> = template.spec.variants.0.keys().cloned().collect();
    // A typo in a selection should not wait for every variant to build.
    let chosen = select_names(file, &names, select)?;
    let cli: Vec<Change> = overrides.iter().map(Change::cli).collect();
    // The baseline first: a problem in the file itself is reported once, as the file's.
    let baseline = template.build(&cli, None)?;
    template.check_explore(&cli)?;
    let mut built = vec![Variant { name: BASELINE.to_string(), scenario: baseline }];
    let mut errors = Vec::new();
    for name in &names {
        match template.build_variant(name, &cli) {
            Ok(s) => {
                let base = &built[0].scenario.config;
                // Reading refuses variant paths that touch these; a second look is cheap.
                assert_eq!(s.config.seed, base.seed, "variant {name} changed the seed");
                assert_eq!(s.config.duration, base.duration, "variant {name} changed the duration");
                assert_eq!(s.config.bucket_width, base.bucket_width, "variant {name} changed the buckets");
                built.push(Variant { name: name.clone(), scenario: s });
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.len() == 1 {
        return Err(errors.remove(0));
    }
    if !errors.is_empty() {
        return Err(ScenarioError::Invalid {
            problems: errors.into_iter().flat_map(|e| e.into_problems(file)).collect(),
        });
    }
    let mut by_name: IndexMap<String, Variant> = built.into_iter().map(|v| (v.name.clone(), v)).collect();
    Ok(chosen
        .iter()
        .map(|n| by_name.shift_remove(n).expect("selected names were checked against the file"))
        .collect())
}

/// A scenario file read once, to build many times: a variant with overrides per case of a
/// check or a sweep, without parsing the file again.
#[derive(Clone, Debug)]
pub struct Template {
    source: String,
    file: String,
    spec: ScenarioSpec,
    source_hash: u64,
}

impl Template {
    /// Reads scenario source text; `file` is the name used in messages. Nothing is built yet.
    ///
    /// # Errors
    /// [`ScenarioError::NotText`], [`ScenarioError::Syntax`] and [`ScenarioError::Field`]
    /// located by ron.
    pub fn parse(source: &str, file: &str) -> Result<Template, ScenarioError> {
        read::check_text(source, file)?;
        let spec = read::read_spec(source, file)?;
        let source_hash = squall_kernel::rng::fnv1a64(source.as_bytes(), SOURCE_HASH_SEED);
        Ok(Template { source: source.to_string(), file: file.to_string(), spec, source_hash })
    }

    /// Reads a scenario file; see [`Template::parse`].
    ///
    /// # Errors
    /// As [`load`] before parsing, then as [`Template::parse`].
    pub fn load(path: &Path) -> Result<Template, ScenarioError> {
        let source = read_source(path)?;
        Template::parse(&source, &path.display().to_string())
    }

    /// Names of the variants the file defines, in file order, not counting [`BASELINE`].
    pub fn variant_names(&self) -> Vec<String> {
        self.spec.variants.0.keys().cloned().collect()
    }

    /// Builds the variant `name` ([`BASELINE`] for the file as written) with `overrides`
    /// applied after the variant's own.
    ///
    /// # Errors
    /// [`ScenarioError::Selection`] for an unknown variant; otherwise as [`parse`].
    pub fn instantiate(&self, name: &str, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
        let cli: Vec<Change> = overrides.iter().map(Change::cli).collect();
        if name == BASELINE {
            return self.build(&cli, None);
        }
        select_names(&self.file, &self.variant_names(), Some(&[name.to_string()]))?;
        self.build_variant(name, &cli)
    }

    fn build(&self, changes: &[Change], fallback: Option<Origin>) -> Result<Scenario, ScenarioError> {
        let applied = overrides::apply_overrides(&self.spec, changes)?;
        let ctx = build::Context { source: &self.source, file: &self.file, changes, fallback };
        let built = build::build(&applied, &ctx)?;
        let config_hash = config_hash(&applied);
        Ok(Scenario {
            name: applied.name.0,
            description: applied.description,
            file: self.file.clone(),
            source_hash: self.source_hash,
            config_hash,
            config: built.config,
            invariants: built.invariants,
            explore: built.explore,
            overrides: changes.iter().map(|c| c.ov.to_string()).collect(),
            variant_names: self.variant_names(),
        })
    }

    /// Builds a variant: its entries, then `cli`; problems are blamed on the variant.
    fn build_variant(&self, name: &str, cli: &[Change]) -> Result<Scenario, ScenarioError> {
        let entries = &self.spec.variants.0[name];
        let place = |entry: Option<&str>| {
            Origin::Variant(Box::new(VariantOrigin {
                file: self.file.clone(),
                at: None,
                variant: name.to_string(),
                entry: entry.map(str::to_string),
            }))
        };
        let mut changes: Vec<Change> = entries
            .0
            .iter()
            .map(|(path, value)| Change {
                ov: Override { path: path.clone(), value: value.clone() },
                origin: place(Some(path)),
            })
            .collect();
        changes.extend(cli.iter().cloned());
        // Positions are found only for the errors reported: locating scans the whole source.
        let locate_variant = |origin: Origin| match origin {
            Origin::Variant(mut v) if v.at.is_none() => {
                let mut at = vec![Seg::Key("variants".to_string()), Seg::Key(v.variant.clone())];
                at.extend(v.entry.iter().map(|e| Seg::Key(e.clone())));
                v.at = locate::locate(&self.source, &at, None).map(|i| locate::line_col(&self.source, i));
                Origin::Variant(v)
            }
            other => other,
        };
        self.build(&changes, Some(place(None))).map_err(|e| e.map_origins(locate_variant))
    }

    /// Builds the scenario at both bounds of every explored parameter, so a range the
    /// scenario cannot take is an error when the file is loaded, not in the middle of a check.
    fn check_explore(&self, cli: &[Change]) -> Result<(), ScenarioError> {
        for (path, (from, to)) in &self.spec.explore.0 {
            for bound in [from, to] {
                let ov = Override { path: path.clone(), value: bound.text.clone() };
                let mut changes = cli.to_vec();
                changes.push(Change::cli(&ov));
                if let Err(e) = self.build(&changes, None) {
                    let segs = [Seg::Key("explore".to_string()), Seg::Key(path.clone())];
                    let origin = match locate::locate(&self.source, &segs, None) {
                        Some(i) => {
                            let (line, col) = locate::line_col(&self.source, i);
                            Origin::Source { file: self.file.clone(), line, col }
                        }
                        None => Origin::File { file: self.file.clone() },
                    };
                    let reason = e.to_string();
                    return Err(ScenarioError::Field {
                        origin,
                        path: locate::path_string(&segs),
                        message: format!("the scenario cannot take the bound {}: {reason}", bound.text),
                    });
                }
            }
        }
        Ok(())
    }
}

/// [`Scenario::config_hash`] of a spec with its overrides applied.
fn config_hash(applied: &ScenarioSpec) -> u64 {
    let mut spec = applied.clone();
    spec.seed = spec::Count(0);
    spec.variants = spec::VariantsSpec::default();
    // The spec was read from this same JSON shape when it had overrides; writing it cannot fail.
    let text = serde_json::to_string(&spec).expect("a built spec writes out as JSON");
    squall_kernel::rng::fnv1a64(text.as_bytes(), SOURCE_HASH_SEED)
}

/// The names `select` asks for, checked, or every name (baseline first) without one.
fn select_names(
    file: &str,
    names: &[String],
    select: Option<&[String]>,
) -> Result<Vec<String>, ScenarioError> {
    let mut known = vec![BASELINE];
    known.extend(names.iter().map(String::as_str));
    let Some(select) = select else {
        return Ok(known.iter().map(|n| n.to_string()).collect());
    };
    let mut chosen: Vec<String> = Vec::with_capacity(select.len());
    for name in select {
        if !known.contains(&name.as_str()) {
            let message = if names.is_empty() {
                format!("unknown variant `{name}`: the file defines no variants, only `{BASELINE}`")
            } else {
                error::unknown_name("variant", name, &known)
            };
            return Err(ScenarioError::Selection { file: file.to_string(), message });
        }
        if chosen.contains(name) {
            return Err(ScenarioError::Selection {
                file: file.to_string(),
                message: format!("the variant `{name}` is selected twice"),
            });
        }
        chosen.push(name.clone());
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeSet;

    /// Every field and variant the schema accepts, each at least once.
    const EVERYTHING: &str = r#"Scenario(
        name: "everything", description: "all fields", seed: 1, duration: "1m",
        timeseries: (bucket: "1s", max_buckets: 10), limits: (max_events: 10, max_in_flight: 10),
        services: {
            "a": (replicas: 1, workers: 1, balancer: Random,
                outlier_detection: (consecutive_5xx: 5, enforcing_consecutive_5xx: 100,
                    consecutive_gateway_failure: 5, enforcing_consecutive_gateway_failure: 0,
                    interval: "10s", base_ejection_time: "30s", max_ejection_time: "300s",
                    max_ejection_percent: 10, always_eject_one_host: false,
                    success_rate_minimum_hosts: 5, success_rate_request_volume: 100,
                    success_rate_stdev_factor: 1900, enforcing_success_rate: 100,
                    failure_percentage_threshold: 85, enforcing_failure_percentage: 0,
                    failure_percentage_minimum_hosts: 5, failure_percentage_request_volume: 50),
                healthy_panic_threshold: 50, slow_start: "10s",
                health_check: (check: QueueBelow(10), interval: "5s", timeout: "1s",
                    unhealthy_threshold: 3, healthy_threshold: 2),
                queue: (capacity: 1, shared: true, discipline: AdaptiveLifo,
                    codel: (target: "5ms", interval: "100ms"), drop_abandoned: true),
                endpoints: {
                    "x": (work: Mixture([
                        (weight: 1, dist: Constant("1ms")),
                        (weight: 1, dist: Uniform(low: "1ms", high: "2ms")),
                        (weight: 1, dist: Exponential(mean: "1ms")),
                        (weight: 1, dist: Normal(mean: "1ms", std_dev: "1ms")),
                        (weight: 1, dist: LogNormal(median: "1ms", p99: "2ms")),
                        (weight: 1, dist: LogNormal(mu: 0.0, sigma: 1.0, unit: "ms")),
                        (weight: 1, dist: Pareto(scale: "1ms", shape: 1.5, max: "1s")),
                        (weight: 1, dist: Gamma(shape: 2.0, scale: "1ms")),
                        (weight: 1, dist: Erlang(k: 2, mean: "1ms")),
                        (weight: 1, dist: Empirical(["1ms"])),
                        (weight: 1, dist: Quantiles([(0.0, "1ms"), (1.0, "2ms")])),
                    ]), calls: [(service: "b", endpoint: "y", timeout: "1s",
                        cache: (hit_ratio: 0.5, hit_latency: Constant("1ms"), warmup: "1s", cold_start: true))],
                    blocking: false,
                    cache: (hit_ratio: 0.9)),
                    "z": (steps: [
                        Work(Constant("1ms")),
                        Call(service: "b", endpoint: "y", timeout: "1s", cache: (hit_ratio: 0.1)),
                        Parallel(calls: [(service: "b", endpoint: "y", timeout: "1s", cache: (hit_ratio: 0.1)),
                            (service: "c", endpoint: "w")], need: 1),
                    ]),
                },
                dependencies: {
                    "b": (timeout: "1s", bulkhead: Semaphore(max_concurrent_calls: 5, max_wait_duration: "1ms"),
                        pool: (maximum_pool_size: 5, minimum_idle: 1, connection_timeout: "1s"),
                        per_try_timeout: "100ms", propagate_deadline: (factor: 0.9, format: Relative),
                        retry: (backoff: Envoy(base_interval: "25ms", max_interval: "250ms")),
                        budget: AwsQuota(initial_capacity: 500, retry_cost: 5, timeout_retry_cost: 10,
                            no_retry_increment: 1)),
                    "c": (bulkhead: ThreadPool(max_thread_pool_size: 4, core_thread_pool_size: 2,
                        queue_capacity: 10, keep_alive_duration: "20ms"),
                        retry: (backoff: Constant(delay: "1ms")), budget: MaxRetries(max_retries: 3),
                        fallback: Failover(service: "b", endpoint: "y")),
                },
                rate_limit: TokenBucket(rate: 10, burst: 2, per_instance: false),
                concurrency_limit: Aimd(initial_limit: 20, min_limit: 10, max_limit: 100, backoff_ratio: 0.8, timeout: "1s"),
                shedding: QueueLength(at: None, retry_after: "2s",
                    classes: (critical_plus: 4, critical: 3, sheddable_plus: 2, sheddable: 1)),
                max_connections: 10, honor_deadlines: true, clock_skew: Offsets(["0s", "+1ms", "-1ms"])),
            "b": (endpoints: { "y": (work: Constant("1ms"), cache: (hit_ratio: 0.5), error_rate: 0.1, flags: ["f1"]) },
                versions: { "v1": (), "v2": (endpoints: { "y2": (work: Constant("1ms")) }, remove: ["y"]) },
                lifecycle: (startup: Constant("1s"), warmup: "1s", warmup_factor: 2.0, pre_stop: "1s",
                    grace_period: "10s", restart: (initial: "1s", max: "10s", reset_after: "1m")),
                probes: (
                    liveness: (check: Dependency(service: "c", endpoint: "w"), initial_delay: "1s", period: "5s",
                        timeout: "1s", success_threshold: 1, failure_threshold: 3),
                    readiness: (check: QueueBelow(10), success_threshold: 2),
                    startup: (check: Process),
                ),
                propagation_delay: "1s",
                rate_limit: Discrete(max_tokens: 10, tokens_per_fill: 2, fill_interval: "50ms", per_instance: true),
                concurrency_limit: Gradient2(initial_limit: 20, min_limit: 20, max_concurrency: 200,
                    smoothing: 0.2, queue_size: 4, long_window: 600, rtt_tolerance: 1.5),
                shedding: QueueDelay(at: "50ms", retry_after: "1s", classes: None),
                clock_skew: Uniform(max: "1s")),
            "c": (endpoints: { "w": (work: Constant("1ms")) },
                shedding: QueueDelay(classes: (critical_plus: "4ms", critical: "3ms", sheddable_plus: "2ms", sheddable: "1ms"))),
        },
        clients: {
            "p": (target: (service: "a", endpoint: "x"), arrivals: Poisson(rate: 1),
                schedule: [Step(at: "1s", rate: 2), Ramp(start: "2s", end: "3s", rate: 0)], timeout: "1s",
                criticality: SheddablePlus, per_try_timeout: "300ms", propagate_deadline: None,
                retry: (max_attempts: 3, backoff: Exponential(base: "10ms", cap: "1s", jitter: Decorrelated),
                    retry_on: [Timeout, Throttled], honor_retry_after: false),
                budget: Finagle(ttl: "10s", min_retries_per_sec: 10, percent_can_retry: 0.2),
                breaker: Resilience4j(failure_rate_threshold: 50, slow_call_rate_threshold: 100,
                    slow_call_duration_threshold: "1s", sliding_window_type: TimeBased, sliding_window_size: 10,
                    minimum_number_of_calls: 5, permitted_number_of_calls_in_half_open_state: 2,
                    wait_duration_in_open_state: "5s", automatic_transition_from_open_to_half_open_enabled: true,
                    shared: false),
                throttle: (window: "1m", k: 1.5), fallback: Cache(hit_ratio: 0.5)),
            "c": (target: (service: "a", endpoint: "x"), arrivals: Constant(rate: 1),
                retry: (backoff: Grpc(initial_backoff: "10ms", max_backoff: "1s", multiplier: 2.0, jitter: CCore)),
                budget: Envoy(budget_percent: 20, min_retry_concurrency: 3),
                breaker: Consecutive(failure_threshold: 5, break_duration: "5s", shared: false), fallback: Static),
            "f": (arrivals: Poisson(rate: 1), flow: [
                (name: "s1", target: (service: "b", endpoint: "y")),
                (name: "s2", target: (service: "b", endpoint: "y2"), delay: Constant("1s"), when: Flag(step: "s1", flag: "f1")),
                (name: "s3", target: (service: "b", endpoint: "y"), when: NotFlag(step: "s1", flag: "f1")),
                (name: "s4", target: (service: "b", endpoint: "y"), when: ServedBy(step: "s1", version: "v2")),
                (name: "s5", target: (service: "b", endpoint: "y"), when: NotServedBy(step: "s1", version: "v1")),
            ]),
            "u": (target: (service: "a", endpoint: "x"), arrivals: Closed(users: 1, think: Constant("1s")),
                hedge: (max_attempts: 3, hedging_delay: "10ms", non_fatal: [ServerError]),
                budget: GrpcThrottle(max_tokens: 10, token_ratio: 0.1)),
        },
        faults: [
            (name: "slow b", service: "b", at: "1s", for: "1s", share: 0.5, what: Slow(factor: 2.0)),
            (service: "b", at: "1s", for: "1s", what: Down),
            (service: "b", at: "1s", for: "1s", what: Fail(fraction: 0.5, outcome: Timeout)),
            (service: "b", at: "1s", for: "1s", what: FlushCache),
            (service: "b", at: "1s", for: "1s", what: Crash),
        ],
        deploys: [
            (name: "r", service: "b", version: "v2", at: "1s",
                strategy: Rolling(max_surge: 1, max_unavailable: "25%", min_ready: "1s", progress_deadline: "1m")),
            (name: "c", service: "b", version: "v1", after: "r", delay: "1s",
                strategy: Canary(steps: [SetWeight(20), Pause("1s"), Pause()], traffic_routing: true,
                    analysis: (interval: "1s", failure_limit: 1, max_error_rate: 0.1, max_p99: "1s", min_samples: 2))),
            (name: "bg", service: "b", version: "v2", after: "c",
                strategy: BlueGreen(auto_promotion: "1s", scale_down_delay: "1m", abort_scale_down_delay: "10s",
                    analysis: (interval: "1s", failure_limit: 1, max_error_rate: 0.1, max_p99: "1s", min_samples: 2))),
        ],
        invariants: [
            SuccessRate(client: "p", at_least: 0.9),
            SuccessRate(endpoint: (service: "a", endpoint: "x"), at_least: 0.9),
            SuccessRate(flow: "f", at_least: 0.9),
            SuccessRate(caller: "a", callee: "b", at_least: 0.9),
            Latency(client: "p", quantile: 0.99, at_most: "1s"),
            Recovers(to: 0.9, within: "1m"),
            NoFailedFlows(client: "f"),
            ErrorBudget(client: "p", objective: 0.999),
            MaxVersions(service: "b", at_most: 2),
            Sometimes(FaultFired(fault: "slow b")),
            Sometimes(BreakerOpened(client: "p")),
            Sometimes(BreakerOpened(caller: "a", callee: "b")),
            Sometimes(Retried(client: "p")),
            Sometimes(Retried(caller: "a", callee: "b")),
            Sometimes(RolledBack(deploy: "r")),
            Sometimes(Refused(service: "a")),
        ],
        explore: { "faults.0.for": ("1s", "5s"), "services.a.replicas": (1, 3), "clients.p.arrivals.rate": (1.0, 2.5) },
        variants: {
            "more": { "services.a.replicas": "2" },
        },
        warmup: Fixed("10s"),
    )"#;

    /// Field paths of a serialized spec, in the documentation's notation.
    fn walk(v: &Value, path: &str, out: &mut BTreeSet<String>) {
        let join = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
        match v {
            Value::Object(m) => {
                let is_map = fields::MAP_FIELDS.contains(&path);
                for (k, child) in m {
                    let p = join(if is_map { "*" } else { k });
                    if !is_map {
                        out.insert(p.clone());
                    }
                    let shape = fields::SHAPE_FIELDS.iter().find(|(field, _)| *field == p);
                    let p = shape.map_or(p, |(_, base)| base.to_string());
                    walk(child, &p, out);
                }
            }
            Value::Array(items) => {
                for item in items.iter().filter(|i| i.is_object()) {
                    walk(item, &format!("{path}[*]"), out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_field_the_schema_accepts_is_documented_and_nothing_else() {
        let spec = read::read_spec(EVERYTHING, "everything.ron").unwrap();
        let tree = serde_json::to_value(&spec).unwrap();
        let mut schema = BTreeSet::new();
        walk(&tree, "", &mut schema);
        let documented: BTreeSet<String> = fields::all().map(|d| d.path.to_string()).collect();
        let undocumented: Vec<_> = schema.difference(&documented).collect();
        let stale: Vec<_> = documented.difference(&schema).collect();
        assert!(undocumented.is_empty(), "fields without documentation: {undocumented:?}");
        assert!(stale.is_empty(), "documented fields the schema does not have: {stale:?}");
    }

    #[test]
    fn the_everything_scenario_builds() {
        let s = parse(EVERYTHING, "everything.ron", &[]).unwrap();
        assert_eq!(s.config.services.len(), 3);
        assert_eq!(s.config.clients.len(), 4);
        assert_eq!(s.config.faults.len(), 5);
        assert_eq!(s.config.deploys.len(), 3);
        assert!(matches!(s.config.deploys[2].strategy, squall_model::DeployStrategy::BlueGreen(_)));
        let lb = &s.config.services[0].lb;
        assert_eq!(lb.outlier_detection, Some(squall_model::OutlierConfig::default()));
        assert_eq!(lb.slow_start, Some(squall_kernel::SimDuration::from_secs(10)));
        assert_eq!(s.variant_names, ["more"]);
        assert_eq!(
            s.config.warmup,
            Some(squall_model::Warmup::Fixed(squall_kernel::SimDuration::from_secs(10)))
        );
    }

    #[test]
    fn warmup_is_none_by_default_and_takes_mser5_from_the_file_or_an_override() {
        const SMALL: &str = r#"Scenario(name: "w", seed: 1, duration: "1m",
            services: { "s": (endpoints: { "e": (work: Constant("1ms")) }) },
            clients: { "c": (target: (service: "s", endpoint: "e"), arrivals: Poisson(rate: 1)) }, WARMUP)"#;
        let parse_with = |warmup: &str, set: &[&str]| {
            let set: Vec<Override> = set.iter().map(|o| o.parse().unwrap()).collect();
            parse(&SMALL.replace("WARMUP", warmup), "w.ron", &set)
        };
        assert_eq!(parse_with("", &[]).unwrap().config.warmup, None);
        assert_eq!(
            parse_with("warmup: Mser5", &[]).unwrap().config.warmup,
            Some(squall_model::Warmup::Mser5)
        );
        assert_eq!(
            parse_with("", &["warmup=Mser5"]).unwrap().config.warmup,
            Some(squall_model::Warmup::Mser5)
        );
        assert_eq!(
            parse_with("warmup: Mser5", &["warmup=Fixed(\"2s\")"]).unwrap().config.warmup,
            Some(squall_model::Warmup::Fixed(squall_kernel::SimDuration::from_secs(2)))
        );
        let err = parse_with("warmup: Fixed(\"soon\")", &[]).unwrap_err().to_string();
        assert!(err.starts_with("w.ron:"), "{err}");
    }

    #[test]
    fn fail_outcomes_are_every_outcome_but_ok_with_the_model_names() {
        let ron_names: Vec<String> =
            spec::OutcomeName::ALL.iter().map(|o| serde_json::to_value(o).unwrap().to_string()).collect();
        for (o, name) in spec::OutcomeName::ALL.iter().zip(&ron_names) {
            // `ServerError` in the file is `server_error` in outputs.
            let snake: String = name
                .trim_matches('"')
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let sep = (i > 0 && c.is_ascii_uppercase()).then_some('_');
                    sep.into_iter().chain(std::iter::once(c.to_ascii_lowercase()))
                })
                .collect();
            assert_eq!(snake, o.outcome().name(), "{name}");
        }
        let model: Vec<_> = spec::OutcomeName::ALL.iter().map(|o| o.outcome()).collect();
        assert_eq!(model, squall_model::Outcome::ALL, "one name per outcome, in the model's order");
        assert!(spec::FailOutcome::try_from(spec::OutcomeName::Ok).is_err());
    }
}
