//! The file format: `*Spec` types that mirror the RON schema, one to one, split by domain.
//! This root holds the `Scenario` itself, its time-series and limit settings, and its
//! variants; the rest live in one file per domain, each re-exported here:
//!
//! - `values`: leaf values (durations, rates, counts, bounded numbers, names, outcomes),
//!   with one number visitor for every whole-number type;
//! - `dist`: distributions;
//! - `services`: services, endpoints, calls, caches, versions, queues, balancers;
//! - `policies`: call policies, bulkheads, connection pools, admission control;
//! - `fleet`: lifecycle, probes and deploys;
//! - `clients`: client groups, arrivals, schedules and flows;
//! - `faults`: faults;
//! - `checks`: invariants and explored ranges.
//!
//! Checks on a single field run here, while deserializing, so ron reports their position:
//! durations (`Dur`, and `SignedDur` for clock offsets), rates (`Rate`), bounded counts
//! (`Count`, `HedgeAttempts`), bounded numbers (`Fraction`, `Share`, ...), entity names and
//! duplicate keys (`NamedMap`), schedules (`ScheduleSpec`), distributions (`DistField`),
//! outcomes (`FailOutcome` for faults, `FailureList` for retries and hedges), flags
//! (`FlagList`), Kubernetes' int-or-percent (`IntOrPercentSpec`), canary steps
//! (`CanaryStepSpec`) and variants (`VariantsSpec`: names, paths that may be overridden,
//! values that parse). Checks between
//! two fields wait for `build`. The types also serialize, to the same shape, so overrides can
//! edit them as JSON and read them back.
//!
//! A client group and a dependency share their call-policy fields through
//! `with_call_policy!`, so the two accept the same policy and are built by one function.

mod checks;
mod clients;
mod dist;
mod faults;
mod fleet;
mod policies;
mod services;
mod values;

pub(crate) use checks::*;
pub(crate) use clients::*;
pub(crate) use dist::*;
pub(crate) use faults::*;
pub(crate) use fleet::*;
pub(crate) use policies::*;
pub(crate) use services::*;
pub(crate) use values::*;

use indexmap::IndexMap;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use squall_kernel::time::{unit_ns, DurationError, DURATION_UNITS, NS_PER_MS, NS_PER_S};
use squall_kernel::{Dist, SimDuration};
use squall_model::Outcome;
use std::fmt;
use std::marker::PhantomData;

use crate::error::did_you_mean;
use crate::fields::{f, Section, REQ};

/// The reference section "Scenario".
pub(crate) const SCENARIO_DOC: Section = (
    "Scenario",
    "The file holds one `Scenario(...)`. Field order does not matter; unknown fields are errors.",
    &[
        f("name", "string, not empty", REQ, "Name of the scenario, shown in reports."),
        f("description", "string", "`\"\"`", "Free text shown in reports."),
        f("seed", "integer, 0 to 2^64-1", REQ, "Master seed. Every random stream derives from it and a stable name, so the same seed gives the same run. The CLI's `--seed` overrides it."),
        f("duration", "duration, > 0", REQ, "Simulated time to run for. Requests still in flight at the end are reported as such."),
        f("timeseries", "struct", "`(bucket: \"1s\", max_buckets: 3600)`", "Time-series resolution."),
        f("timeseries.bucket", "duration, > 0", BUCKET_DEFAULT, "Width of one time-series bucket. The width used is `max(bucket, ceil(duration / max_buckets))`, rounded up to a whole millisecond, so memory stays bounded however long the run."),
        f("timeseries.max_buckets", "integer, 1 to 10000000", MAX_BUCKETS_DEFAULT, "Most buckets a run keeps; longer runs get wider buckets."),
        f("limits", "struct", "`(max_events: 2000000000, max_in_flight: 1000000, max_memory: \"4GiB\")`", "Bounds that stop a runaway run with an explanation instead of exhausting memory or time."),
        f("limits.max_events", "integer, >= 1", "`2000000000`", "Events handled in all before the run stops. Arrival candidates that thinning rejects (a Poisson schedule is drawn at the peak rate of its current piece, and each draw above the rate at that instant is dropped) count as events, so a schedule far below its peak stops here too."),
        f("limits.max_in_flight", "integer, 1 to 4294967295", "`1000000`", "Requests alive at once (waiting, in service, or awaiting a downstream call) before the run stops."),
        f("limits.max_memory", "size: a string with a unit (`B`, `KB`, `MB`, `GB`, `TB`, `KiB`, `MiB`, `GiB`, `TiB`), or a whole number of bytes, >= 1", MAX_MEMORY_DEFAULT, "Memory the model's own state (request tables, queues and pending events) may hold before the run stops, measured every 65,536 events (and once before the first); the time series, latency distributions and reports come on top. Raise it on a machine with more memory."),
        f("warmup", "`Fixed(...)`, `Mser5`, or `None`", "`None`", "How reports remove the initial transient before steady-state figures (throughput, goodput, success rate and mean latency of successes per client group and for all, from the first bucket of the steady window on, in the summary and in `compare`). `None`: the whole run counts and no steady-state section is written. `Mser5`: MSER-5 (White 1997; Franklin and White): the all-clients goodput per bucket in batches of 5 buckets, truncated where the marginal standard error `sum_{i>d} (x_i - mean_d)^2 / (n-d)^2` is smallest, over `d` in the first half of the batches. The run itself is the same either way."),
        f("warmup.Fixed", "duration", "", "A fixed transient: `Fixed(\"30s\")`. The steady window starts with the first bucket that starts at or after it."),
    ],
);

/// The whole file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Scenario",
    expecting = "a scenario, as in Scenario(name: \"x\", seed: 1, duration: \"1m\", services: {...}, clients: {...})",
    deny_unknown_fields
)]
pub(crate) struct ScenarioSpec {
    pub name: NonEmpty,
    #[serde(default)]
    pub description: String,
    pub seed: Count<0, { u64::MAX }>,
    pub duration: PosDur,
    #[serde(default)]
    pub timeseries: TimeseriesSpec,
    #[serde(default)]
    pub limits: LimitsSpec,
    pub services: NamedMap<ServiceSpec>,
    pub clients: NamedMap<ClientSpec>,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub deploys: Vec<DeploySpec>,
    #[serde(default)]
    pub invariants: Vec<InvariantSpec>,
    #[serde(default)]
    pub explore: ExploreSpec,
    #[serde(default)]
    pub variants: VariantsSpec,
    #[serde(default)]
    pub warmup: Option<WarmupSpec>,
}

/// `warmup: Fixed("30s")` or `warmup: Mser5`: how reports remove the initial transient.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename = "Warmup", expecting = "a warm-up: Fixed(\"30s\") or Mser5", deny_unknown_fields)]
pub(crate) enum WarmupSpec {
    Fixed(Dur),
    Mser5,
}

impl WarmupSpec {
    /// The model's warm-up rule.
    pub(crate) fn to_model(&self) -> squall_model::Warmup {
        match self {
            WarmupSpec::Fixed(d) => squall_model::Warmup::Fixed(SimDuration::from_nanos(d.ns)),
            WarmupSpec::Mser5 => squall_model::Warmup::Mser5,
        }
    }
}

/// `timeseries: (bucket: "1s", max_buckets: 3600)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Timeseries",
    expecting = "time-series settings, as in (bucket: \"1s\", max_buckets: 3600)",
    deny_unknown_fields
)]
pub(crate) struct TimeseriesSpec {
    #[serde(default = "default_bucket")]
    pub bucket: PosDur,
    #[serde(default = "default_max_buckets")]
    pub max_buckets: Count<1, 10_000_000>,
}

impl Default for TimeseriesSpec {
    fn default() -> Self {
        TimeseriesSpec { bucket: default_bucket(), max_buckets: default_max_buckets() }
    }
}

default_value!(BUCKET_DEFAULT, fn default_bucket() -> PosDur = PosDur(dur "1s"));

default_value!(MAX_BUCKETS_DEFAULT, fn default_max_buckets() -> Count<1, 10_000_000> = Count(3600));

/// `limits: (max_events: ..., max_in_flight: ..., max_memory: ...)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Limits",
    expecting = "limits, as in (max_events: 1000000000, max_in_flight: 100000, max_memory: \"4GiB\")",
    deny_unknown_fields
)]
pub(crate) struct LimitsSpec {
    #[serde(default = "default_max_events")]
    pub max_events: Count<1, { u64::MAX }>,
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: Count<1, { u32::MAX as u64 }>,
    #[serde(default = "default_max_memory")]
    pub max_memory: Bytes,
}

impl Default for LimitsSpec {
    fn default() -> Self {
        LimitsSpec {
            max_events: default_max_events(),
            max_in_flight: default_max_in_flight(),
            max_memory: default_max_memory(),
        }
    }
}

/// The documented default of `limits.max_memory`, the model's [`squall_model::Limits`]
/// default.
const MAX_MEMORY_DEFAULT: &str = "`\"4GiB\"`";

fn default_max_memory() -> Bytes {
    let b = parse_bytes("4GiB").expect("the default size parses");
    debug_assert_eq!(b.0, squall_model::Limits::default().max_memory_bytes);
    b
}

fn default_max_events() -> Count<1, { u64::MAX }> {
    Count(squall_model::Limits::default().max_events)
}

fn default_max_in_flight() -> Count<1, { u32::MAX as u64 }> {
    Count(u64::from(squall_model::Limits::default().max_in_flight))
}

/// The reference section "Variants".
pub(crate) const VARIANTS_DOC: Section = (
    "Variants",
    "`variants` names sets of overrides: variations of the scenario to run and compare with the scenario as written, which is called `baseline`.\n\n\
     ```ron\n\
     variants: {\n\
     \x20   \"small-bulkhead\": { \"services.api.dependencies.db.bulkhead\": \"Semaphore(max_concurrent_calls: 10)\" },\n\
     \x20   \"more-replicas\": { \"services.api.replicas\": \"8\", \"services.db.replicas\": \"4\" },\n\
     },\n\
     ```",
    &[
        f("variants", "map of name to (map of override path to value), at most 1000 variants", "`{}`", "Each variant applies its overrides, in order, to the file; then the command line's `--set` overrides apply, and win. Paths and values are written as for `--set`, each value as a string. Names must be unique and not empty, contain no `/`, and not be `baseline`. A variant may not change `seed`, `duration` or `timeseries`, so its runs compare with the baseline's. A dependency policy may be added by its path (`services.api.dependencies.db.timeout`); anything else must already exist. Every variant is built whenever the file is loaded, so a broken one is an error even when it is not run."),
    ],
);

/// Top-level fields a variant may not change: runs are compared over the same time axis
/// and the same random streams. `variants` itself is not an override target either.
const FIXED_FIELDS: &[(&str, &str)] = &[
    ("seed", "variants share the seed, so that their runs differ only by what the variant changes"),
    ("duration", "variants are compared over the same time axis"),
    ("timeseries", "variants are compared over the same time axis"),
    ("variants", "a variant cannot define variants"),
];

/// Why `name` cannot name a variant, if it cannot.
pub(crate) fn check_variant_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("variant names must not be empty".to_string());
    }
    if name.len() > NAME_BYTES_MAX {
        return Err(format!("the variant name \"{name}\" is longer than {NAME_BYTES_MAX} bytes"));
    }
    // A variant's name becomes a directory of its report.
    if name.contains('/') || name.contains('\\') {
        return Err(format!("the variant name \"{name}\" contains a path separator"));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("the variant name {name:?} contains a control character"));
    }
    if name.trim() != name {
        return Err(format!("the variant name \"{name}\" starts or ends with a space"));
    }
    if name.eq_ignore_ascii_case(crate::BASELINE) {
        return Err(format!(
            "`{name}` is reserved for the scenario without changes; give the variant another name"
        ));
    }
    Ok(())
}

/// Why a variant cannot override `path`, if it cannot.
pub(crate) fn check_variant_path(path: &str) -> Result<(), String> {
    let segs = crate::overrides::split_path(path)?;
    if let Some((field, why)) = FIXED_FIELDS.iter().find(|(f, _)| segs[0] == *f) {
        return Err(format!("a variant cannot change `{field}`: {why}"));
    }
    Ok(())
}

/// `variants: {"name": {"override.path": "RON value", ...}, ...}`, in file order.
#[derive(Clone, Debug, Default)]
pub(crate) struct VariantsSpec(pub IndexMap<String, VariantSpec>);

/// One variant: override paths to values, in file order (the order they apply in).
#[derive(Clone, Debug, Default)]
pub(crate) struct VariantSpec(pub IndexMap<String, String>);

impl<'de> Deserialize<'de> for VariantsSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(VariantsVisitor)
    }
}

struct VariantsVisitor;

impl<'de> Visitor<'de> for VariantsVisitor {
    type Value = VariantsSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            "a map from variant names to overrides, as in {\"bigger\": {\"services.api.replicas\": \"8\"}}",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = IndexMap::new();
        while let Some(name) = access.next_key::<String>()? {
            check_variant_name(&name).map_err(de::Error::custom)?;
            if map.len() == crate::N_VARIANTS_MAX {
                return Err(de::Error::custom(format!(
                    "a file may define at most {} variants; each is a whole build",
                    crate::N_VARIANTS_MAX
                )));
            }
            if map.contains_key(&name) {
                return Err(de::Error::custom(format!("the variant `{name}` is defined twice")));
            }
            let value = access.next_value()?;
            map.insert(name, value);
        }
        Ok(VariantsSpec(map))
    }
}

impl<'de> Deserialize<'de> for VariantSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(VariantVisitor)
    }
}

struct VariantVisitor;

impl<'de> Visitor<'de> for VariantVisitor {
    type Value = VariantSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map from override paths to values written as strings, as in {\"services.api.replicas\": \"8\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = IndexMap::new();
        while let Some(path) = access.next_key::<String>()? {
            check_variant_path(&path).map_err(de::Error::custom)?;
            if map.contains_key(&path) {
                return Err(de::Error::custom(format!("`{path}` is set twice in this variant")));
            }
            let OverrideValue(value) = access.next_value()?;
            map.insert(path, value);
        }
        Ok(VariantSpec(map))
    }
}

/// A variant's value: RON text in a string, checked to parse as `--set` values do.
struct OverrideValue(String);

impl<'de> Deserialize<'de> for OverrideValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OverrideValueVisitor)
    }
}

struct OverrideValueVisitor;

impl OverrideValueVisitor {
    fn quote<E: de::Error>(shown: impl fmt::Display) -> E {
        E::custom(format!(
            "a variant's values are RON written as a string, as with --set: write \"{shown}\", not {shown}"
        ))
    }
}

impl Visitor<'_> for OverrideValueVisitor {
    type Value = OverrideValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a RON value written as a string, as in \"8\" or \"Semaphore(max_concurrent_calls: 10)\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<OverrideValue, E> {
        crate::overrides::parse_value(v).map_err(E::custom)?;
        Ok(OverrideValue(v.to_string()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<OverrideValue, E> {
        Err(Self::quote(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<OverrideValue, E> {
        Err(Self::quote(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<OverrideValue, E> {
        Err(Self::quote(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<OverrideValue, E> {
        Err(Self::quote(v))
    }
}

impl Serialize for VariantsSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Serialize for VariantSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}
