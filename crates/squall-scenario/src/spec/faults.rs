//! Faults: what goes wrong, where and when.

use super::*;

use std::collections::BTreeMap;

use squall_kernel::SimTime;
use squall_model::{FaultConfig, FaultKind, ServiceId};

use crate::build::{id_of, index, key, problem, under, Pending};
use crate::error::unknown_name;

/// The reference section "Faults".
pub(crate) const FAULTS_DOC: Section = (
    "Faults",
    "`faults` lists faults, each active over a window of time on some instances of one service. Their order names their random streams, so adding a fault at the end changes no other fault's draws.",
    &[
        f("faults", "list of faults", "`[]`", "Faults injected during the run."),
        f("faults[*].name", "string, not empty, or `None`", "`None` (`\"<kind> <service>\"`, as in `\"slow db\"`)", "Label in outputs and plots. Faults must have distinct names."),
        f("faults[*].service", "service name", REQ, "Service affected."),
        f("faults[*].at", "duration", REQ, "When the window opens."),
        f("faults[*].for", "duration, > 0", REQ, "How long the window stays open. It may extend past `duration`."),
        f("faults[*].share", "number, > 0 and <= 1", FAULT_SHARE_DEFAULT, "Share of the service's instances affected: the first `ceil(share * replicas)`, at least one."),
        f("faults[*].what", "one of `Slow(...)`, `Down`, `Fail(...)`, `FlushCache`, `Crash`", REQ, "What goes wrong. `Down`: the process is gone; requests it holds fail with `ConnectionReset` when the window opens, and new ones are refused (`NoEndpoint`) until it closes. `Crash`: the process crashes when the window opens (requests it holds fail with `ConnectionReset`), is restarted after the crash-loop back-off (`lifecycle.restart`), and crashes again as soon as it starts while the window is open. `FlushCache`: the caches in front of the service's endpoints are emptied when the window opens and warm up again after it closes (see `cache.warmup`); the service needs an endpoint with a `cache`."),
        f("faults[*].what.Slow", "struct variant", "", "Work started during the window takes `factor` times as long: `Slow(factor: 5.0)`."),
        f("faults[*].what.Slow.factor", "number, 1 to 1000000", REQ, "Work multiplier."),
        f("faults[*].what.Fail", "struct variant", "", "A share of the requests reaching the affected instances fail at once: `Fail(fraction: 0.3, outcome: ServerError)`."),
        f("faults[*].what.Fail.fraction", "number, 0 to 1", REQ, "Probability that a request fails."),
        f("faults[*].what.Fail.outcome", "one of `Degraded`, `Timeout`, `DeadlineExceeded`, `RateLimited`, `Shed`, `QueueFull`, `BulkheadFull`, `CircuitOpen`, `Throttled`, `ServerError`, `Unsupported`, `NoEndpoint`, `ConnectionReset`, `Cancelled`", "`ServerError`", "The outcome a failed request ends with (any outcome but `Ok`)."),
    ],
);

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

default_value!(FAULT_SHARE_DEFAULT, fn whole_share() -> Share = Share(1.0));

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

// Building: checks across fields and entities, and the conversion to the model's
// configuration.

pub(crate) fn build_faults(spec: &ScenarioSpec, pending: &mut Vec<Pending>) -> Vec<FaultConfig> {
    let mut faults = Vec::with_capacity(spec.faults.len());
    // Name -> index of the first fault with it.
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for (i, f) in spec.faults.iter().enumerate() {
        let at = index(&[key("faults")], i);
        let name = match &f.name {
            Some(n) => n.0.clone(),
            None => format!("{} {}", f.what.label(), f.service),
        };
        if let Some(first) = names.get(&name) {
            let at = if f.name.is_some() { under(&at, &["name"]) } else { at.clone() };
            problem(
                pending,
                at,
                format!("the name `{name}` is also used by faults[{first}]; give each fault its own `name`"),
            );
        } else {
            names.insert(name.clone(), i);
        }
        let Some((s_index, _, s)) = spec.services.0.get_full(&f.service) else {
            let known: Vec<&str> = spec.services.0.keys().map(String::as_str).collect();
            pending.push(Pending {
                paths: vec![under(&at, &["service"])],
                anchor: Some(f.service.clone()),
                message: unknown_name("service", &f.service, &known),
            });
            continue;
        };
        let kind = match &f.what {
            FaultKindSpec::Slow { factor } => FaultKind::Slow { factor: factor.0 },
            FaultKindSpec::Down => FaultKind::Down,
            FaultKindSpec::Fail { fraction, outcome } => {
                FaultKind::Fail { fraction: fraction.0, outcome: outcome.0.outcome() }
            }
            FaultKindSpec::Crash => FaultKind::Crash,
            FaultKindSpec::FlushCache => {
                if !all_endpoint_specs(s).any(|e| e.cache.is_some()) {
                    problem(
                        pending,
                        under(&at, &["what"]),
                        format!("FlushCache empties the caches in front of `{}`'s endpoints, but none has a `cache`", f.service),
                    );
                }
                FaultKind::FlushCache
            }
        };
        let start = f.at.ns;
        let Some(end) = start.checked_add(f.lasting.0.ns) else {
            problem(
                pending,
                under(&at, &["for"]),
                format!(
                    "the fault would end past the largest time that can be simulated (about 584 years): at \"{}\" for \"{}\"",
                    f.at.text, f.lasting.0.text
                ),
            );
            continue;
        };
        faults.push(FaultConfig {
            name,
            service: ServiceId(id_of(s_index)),
            share: f.share.0,
            start: SimTime(start),
            end: SimTime(end),
            kind,
        });
    }
    faults
}
