//! Faults: what goes wrong, where and when.

use super::*;

/// `(name: "db-slow", service: "db", at: "2m", for: "20s", share: 1.0, what: Slow(factor: 5.0))`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Fault",
    expecting = "a fault, as in (service: \"db\", at: \"2m\", for: \"20s\", what: Slow(factor: 5.0))",
    deny_unknown_fields
)]
pub(crate) struct FaultSpec {
    #[serde(default)]
    pub name: Option<Label>,
    pub service: String,
    pub at: Dur,
    #[serde(rename = "for")]
    pub lasting: PosDur,
    #[serde(default = "whole_share")]
    pub share: Share,
    pub what: FaultKindSpec,
}

fn whole_share() -> Share {
    Share(1.0)
}

/// What goes wrong during a fault.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "FaultKind",
    expecting = "one of Slow(factor: ...), Down, Fail(fraction: ..., outcome: ...), FlushCache, Crash",
    deny_unknown_fields
)]
pub(crate) enum FaultKindSpec {
    Slow {
        factor: SlowFactor,
    },
    Down,
    Fail {
        fraction: Fraction,
        #[serde(default)]
        outcome: FailOutcome,
    },
    FlushCache,
    Crash,
}

impl FaultKindSpec {
    /// The kind as it appears in a fault's default name.
    pub fn label(&self) -> &'static str {
        match self {
            FaultKindSpec::Slow { .. } => "slow",
            FaultKindSpec::Down => "down",
            FaultKindSpec::Fail { .. } => "fail",
            FaultKindSpec::FlushCache => "flush_cache",
            FaultKindSpec::Crash => "crash",
        }
    }
}

/// The outcome a `Fail` fault answers with: any but `Ok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OutcomeName", into = "OutcomeName")]
pub(crate) struct FailOutcome(pub OutcomeName);

impl Default for FailOutcome {
    fn default() -> Self {
        FailOutcome(OutcomeName::ServerError)
    }
}

impl TryFrom<OutcomeName> for FailOutcome {
    type Error = &'static str;
    fn try_from(o: OutcomeName) -> Result<Self, &'static str> {
        if o == OutcomeName::Ok {
            return Err(
                "`Ok` is not a failure; a `Fail` fault answers with a failing outcome, such as ServerError",
            );
        }
        Ok(FailOutcome(o))
    }
}

impl From<FailOutcome> for OutcomeName {
    fn from(o: FailOutcome) -> Self {
        o.0
    }
}
