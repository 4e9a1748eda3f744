//! The file format of what a check asserts and explores: `invariants: [...]` and
//! `explore: {"path": (from, to)}`. Like `spec`, these mirror the RON one to one, check
//! single fields while deserializing, and serialize to the same shape for overrides.

use indexmap::IndexMap;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use super::{PosDur, TargetSpec};

/// Most explored parameters.
pub(crate) const N_AXES_MAX: usize = 32;

/// One invariant.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Invariant",
    expecting = "an invariant, as in SuccessRate(client: \"users\", at_least: 0.99) or Sometimes(FaultFired(fault: \"db down\"))",
    deny_unknown_fields
)]
pub(crate) enum InvariantSpec {
    SuccessRate {
        #[serde(default)]
        client: Option<String>,
        #[serde(default)]
        endpoint: Option<TargetSpec>,
        #[serde(default)]
        flow: Option<String>,
        #[serde(default)]
        caller: Option<String>,
        #[serde(default)]
        callee: Option<String>,
        at_least: f64,
    },
    Latency {
        client: String,
        #[serde(default = "p99")]
        quantile: f64,
        at_most: PosDur,
    },
    Recovers {
        #[serde(default = "ninety_percent")]
        to: f64,
        within: PosDur,
    },
    NoFailedFlows {
        client: String,
    },
    ErrorBudget {
        client: String,
        objective: f64,
    },
    MaxVersions {
        service: String,
        at_most: u32,
    },
    Sometimes(EvidenceSpec),
}

fn p99() -> f64 {
    0.99
}

fn ninety_percent() -> f64 {
    0.9
}

/// What a "sometimes" assertion looks for.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Evidence",
    expecting = "one of FaultFired(fault: ...), BreakerOpened(client: ...), Retried(client: ...), RolledBack(deploy: ...), Refused(service: ...)",
    deny_unknown_fields
)]
pub(crate) enum EvidenceSpec {
    FaultFired {
        fault: String,
    },
    BreakerOpened {
        #[serde(default)]
        client: Option<String>,
        #[serde(default)]
        caller: Option<String>,
        #[serde(default)]
        callee: Option<String>,
    },
    Retried {
        #[serde(default)]
        client: Option<String>,
        #[serde(default)]
        caller: Option<String>,
        #[serde(default)]
        callee: Option<String>,
    },
    RolledBack {
        deploy: String,
    },
    Refused {
        service: String,
    },
}

/// `explore: {"faults.0.for": ("5s", "60s"), "services.api.replicas": (2, 10)}`: override
/// paths to ranges, in file order.
#[derive(Clone, Debug, Default)]
pub(crate) struct ExploreSpec(pub IndexMap<String, (Bound, Bound)>);

/// A range's bound as written: a number, or a string (a duration).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Bound {
    /// The text, without quotes.
    pub text: String,
    /// Whether it was a string.
    pub quoted: bool,
}

impl<'de> Deserialize<'de> for ExploreSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ExploreVisitor)
    }
}

struct ExploreVisitor;

impl<'de> Visitor<'de> for ExploreVisitor {
    type Value = ExploreSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map from override paths to ranges, as in {\"faults.0.for\": (\"5s\", \"60s\")}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = IndexMap::new();
        while let Some(path) = access.next_key::<String>()? {
            crate::overrides::split_path(&path).map_err(de::Error::custom)?;
            if path.starts_with("variants") || path.starts_with("explore") || path.starts_with("invariants") {
                return Err(de::Error::custom(format!(
                    "`{path}` cannot be explored; explore fields of the scenario such as `faults.0.for`"
                )));
            }
            if map.contains_key(&path) {
                return Err(de::Error::custom(format!("`{path}` is explored twice")));
            }
            if map.len() == N_AXES_MAX {
                return Err(de::Error::custom(format!("at most {N_AXES_MAX} parameters may be explored")));
            }
            let (from, to): (Bound, Bound) = access.next_value()?;
            squall_explore::Axis::range(&path, &from.text, &to.text).map_err(de::Error::custom)?;
            map.insert(path, (from, to));
        }
        Ok(ExploreSpec(map))
    }
}

impl Serialize for ExploreSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Bound {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BoundVisitor)
    }
}

struct BoundVisitor;

impl<'de> Visitor<'de> for BoundVisitor {
    type Value = Bound;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a range bound: a number, as in 0.5 or 10, or a duration, as in \"5s\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Bound, E> {
        Ok(Bound { text: v.to_string(), quoted: true })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bound, E> {
        Ok(Bound { text: v.to_string(), quoted: false })
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bound, E> {
        Ok(Bound { text: v.to_string(), quoted: false })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Bound, E> {
        // `1.0` stays a decimal: it makes the range one of decimals.
        let text = format!("{v:?}");
        Ok(Bound { text, quoted: false })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Bound, A::Error> {
        Err(de::Error::custom("a range bound is one value; write the range as (from, to)"))
    }
}

impl Serialize for Bound {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.quoted {
            return s.serialize_str(&self.text);
        }
        if let Ok(i) = self.text.parse::<i64>() {
            return s.serialize_i64(i);
        }
        s.serialize_f64(self.text.parse().map_err(serde::ser::Error::custom)?)
    }
}
