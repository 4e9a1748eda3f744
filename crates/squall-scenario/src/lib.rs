//! Scenario files: a RON file in, a checked [`squall_model::ModelConfig`] out. Nothing runs
//! here, and the only IO is reading the file in [`load`].
//!
//! - `spec`: the `*Spec` types that mirror the file format, with the checks on single
//!   fields (durations, rates, counts, names, distributions) run while deserializing.
//! - `read`: RON into a spec, every error with ron's position and serde's field path.
//! - `overrides`: [`Override`] (`--set PATH=VALUE`), applied to a spec as a JSON tree.
//! - `build`: checks across entities (references, call cycles, ...), all collected, and the
//!   build of the model config with names resolved to ids.
//! - `locate`: best-effort source positions for those cross-entity problems.
//! - `fields`: the documentation of every field, behind [`reference`], [`explain`] and
//!   [`suggest_fields`].
//! - `error`: [`ScenarioError`] and the did-you-mean helper.
//!
//! Design choice: the file format has its own types, separate from the model's, so the
//! format can be friendly (names, units in strings, defaults) and the model plain (ids,
//! nanoseconds). Each check runs where it can say the most precise "where": single fields
//! during deserialization, so ron knows the position; references once every name is known.
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

pub use error::{Origin, Problem, ScenarioError};
pub use fields::{explain, reference, suggest_fields};
pub use overrides::Override;

/// Largest scenario file accepted: 10 MiB.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// FNV-1a offset basis, the seed of [`Scenario::source_hash`].
const SOURCE_HASH_SEED: u64 = squall_kernel::rng::FNV_OFFSET;

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
    /// The world to build, with overrides applied.
    pub config: squall_model::ModelConfig,
}

/// Reads and parses a scenario file, then applies `overrides`.
///
/// # Errors
/// [`ScenarioError::Read`] if the file cannot be read, [`ScenarioError::TooLarge`] over
/// [`MAX_FILE_BYTES`] and [`ScenarioError::NotText`] for non-UTF-8 or NUL bytes (all before
/// parsing), then whatever [`parse`] returns.
pub fn load(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
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
    let source = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let prefix = std::str::from_utf8(&e.as_bytes()[..valid]).expect("valid up to this byte");
            let (line, col) = locate::line_col(prefix, prefix.len());
            return Err(ScenarioError::NotText {
                origin: Origin::Source { file, line, col },
                reason: format!("it is not valid UTF-8 (at byte {valid}); a scenario is a RON text file"),
            });
        }
    };
    parse(&source, &file, overrides)
}

/// Parses scenario source text, then applies `overrides`; `file` is the name used in error
/// messages.
///
/// # Errors
/// [`ScenarioError::NotText`] for NUL bytes, [`ScenarioError::Syntax`] and
/// [`ScenarioError::Field`] located by ron, [`ScenarioError::Field`] from an override, and
/// [`ScenarioError::Invalid`] with every problem across entities.
pub fn parse(source: &str, file: &str, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    read::check_text(source, file)?;
    let spec = read::read_spec(source, file)?;
    let spec = overrides::apply_overrides(spec, overrides)?;
    let ctx = build::Context { source, file, overrides };
    let config = build::build(&spec, &ctx)?;
    Ok(Scenario {
        name: spec.name.0,
        description: spec.description,
        file: file.to_string(),
        source_hash: squall_kernel::rng::fnv1a64(source.as_bytes(), SOURCE_HASH_SEED),
        config,
    })
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
            "a": (replicas: 1, workers: 1, queue: (capacity: 1, shared: true), balancer: Random,
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
                    ]), calls: [(service: "b", endpoint: "y", timeout: "1s")]),
                }),
            "b": (endpoints: { "y": (work: Constant("1ms")) }),
        },
        clients: {
            "p": (target: (service: "a", endpoint: "x"), arrivals: Poisson(rate: 1),
                schedule: [Step(at: "1s", rate: 2), Ramp(start: "2s", end: "3s", rate: 0)], timeout: "1s"),
            "c": (target: (service: "a", endpoint: "x"), arrivals: Constant(rate: 1)),
            "u": (target: (service: "a", endpoint: "x"), arrivals: Closed(users: 1, think: Constant("1s"))),
        },
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
                    let p = if fields::DIST_FIELDS.contains(&p.as_str()) { "dist".to_string() } else { p };
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
        assert_eq!(s.config.services.len(), 2);
        assert_eq!(s.config.clients.len(), 3);
    }
}
