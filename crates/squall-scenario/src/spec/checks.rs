//! What a check asserts and explores: `invariants: [...]` and `explore: {"path": (from,
//! to)}`. Like the rest of `spec`, these mirror the RON one to one, check single fields
//! while deserializing, and serialize to the same shape for overrides. Building them checks
//! names against the scenario's entities, numbers against their ranges, and gives each
//! invariant a label that reads as the file writes it.

use indexmap::IndexMap;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use squall_explore::{Axis, Evidence, Invariant, Rule, Scope, Site};
use squall_kernel::SimDuration;
use squall_model::{DeployConfig, FaultConfig};

use super::{default_value, PosDur, ScenarioSpec, TargetSpec};
use crate::build::{index, key, problem, under, Pending};
use crate::error::unknown_name;
use crate::fields::{f, Section, REQ};
use crate::locate::Seg;

/// Most explored parameters.
pub(crate) const N_AXES_MAX: usize = 32;

/// The reference section "Invariants (`invariants`)".
pub(crate) const INVARIANTS_DOC: Section = (
    "Invariants (`invariants`)",
    "`invariants` lists what must hold in every run, for `squall check` (which also always checks conservation of requests and that the run reaches its `duration`). Each run gets a verdict per invariant with the value it measured. An invariant that measures nothing (no request ended, no successful request) fails: it was never exercised.\n\n\
     ```ron\n\
     invariants: [\n\
     \x20   SuccessRate(client: \"users\", at_least: 0.99),\n\
     \x20   Latency(client: \"users\", quantile: 0.99, at_most: \"500ms\"),\n\
     \x20   Recovers(to: 0.9, within: \"60s\"),\n\
     \x20   Sometimes(FaultFired(fault: \"db down\")),\n\
     ],\n\
     ```",
    &[
        f("invariants", "list of invariants", "`[]`", "Checked on every run by `squall check`; a `Sometimes(...)` assertion is checked over all the runs instead: it holds if at least one run shows the evidence."),
        f("invariants[*].SuccessRate", "struct variant", "", "Successes (`Ok` and `Degraded`) over ended requests are at least `at_least`, for exactly one of: a client group, an endpoint (the client groups that target it, together), a client group's flows (completed over completed and failed), or a service's calls to a dependency."),
        f("invariants[*].SuccessRate.client", "client group name", "`None`", "The client group."),
        f("invariants[*].SuccessRate.endpoint", "`(service: ..., endpoint: ...)`", "`None`", "The endpoint: every client group that targets it."),
        f("invariants[*].SuccessRate.endpoint.service", "service name", REQ, "Service of the endpoint."),
        f("invariants[*].SuccessRate.endpoint.endpoint", "endpoint name", REQ, "The endpoint."),
        f("invariants[*].SuccessRate.flow", "client group name", "`None`", "The client group whose flows count."),
        f("invariants[*].SuccessRate.caller", "service name", "`None`", "The calling service (with `callee`)."),
        f("invariants[*].SuccessRate.callee", "service name", "`None`", "The called service (with `caller`)."),
        f("invariants[*].SuccessRate.at_least", "number, 0 to 1", REQ, "Lowest acceptable success rate."),
        f("invariants[*].Latency", "struct variant", "", "The `quantile` of the latency of the client group's successful requests is at most `at_most`."),
        f("invariants[*].Latency.client", "client group name", REQ, "The client group."),
        f("invariants[*].Latency.quantile", "number, > 0 and <= 1", LATENCY_QUANTILE_DEFAULT, "Which quantile."),
        f("invariants[*].Latency.at_most", "duration, > 0", REQ, "Highest acceptable latency."),
        f("invariants[*].Recovers", "struct variant", "", "The metastability check: after every fault window that ran, goodput (all client groups' successes per second) is back to `to` of its level in the minute before the fault within `within` of the fault's end (and stays there for 5 buckets). Measures the slowest recovery."),
        f("invariants[*].Recovers.to", "number, > 0 and <= 1", RECOVERS_TO_DEFAULT, "Share of the pre-fault goodput that counts as recovered."),
        f("invariants[*].Recovers.within", "duration, > 0", REQ, "Longest acceptable time to recover after a fault ends."),
        f("invariants[*].NoFailedFlows", "struct variant", "", "No flow of the client group fails."),
        f("invariants[*].NoFailedFlows.client", "client group name, with a `flow`", REQ, "The client group."),
        f("invariants[*].ErrorBudget", "struct variant", "", "Failures of the client group stay within the error budget of an availability `objective`: at most `(1 - objective)` of ended requests. Measures the share of the budget used (100 % is exhausted)."),
        f("invariants[*].ErrorBudget.client", "client group name", REQ, "The client group."),
        f("invariants[*].ErrorBudget.objective", "number, > 0 and < 1", REQ, "The availability objective, as `0.999`."),
        f("invariants[*].MaxVersions", "struct variant", "", "At most `at_most` versions of the service answer requests within the same time bucket (version skew)."),
        f("invariants[*].MaxVersions.service", "service name", REQ, "The service."),
        f("invariants[*].MaxVersions.at_most", "integer, >= 1", REQ, "Most versions serving at once."),
        f("invariants[*].Sometimes", "one of `FaultFired(...)`, `BreakerOpened(...)`, `Retried(...)`, `RolledBack(...)`, `Refused(...)`", "", "Holds when at least one run of the check shows the evidence, so a check cannot pass by never exercising what it claims to test. Measures how often it showed in each run."),
        f("invariants[*].Sometimes.FaultFired", "struct variant", "", "The fault acted on something: instances hit when it opened (`Slow`, `Down`, `Crash`), caches emptied (`FlushCache`), failures injected (`Fail`). A window that opens after the run's end never fires."),
        f("invariants[*].Sometimes.FaultFired.fault", "fault name", REQ, "The fault, by its `name` (or its default name, as `\"slow db\"`)."),
        f("invariants[*].Sometimes.BreakerOpened", "struct variant", "", "A breaker of the call site opened: a client group (`client`), or a service's calls to a dependency (`caller` and `callee`)."),
        f("invariants[*].Sometimes.BreakerOpened.client", "client group name", "`None`", "The client group."),
        f("invariants[*].Sometimes.BreakerOpened.caller", "service name", "`None`", "The calling service."),
        f("invariants[*].Sometimes.BreakerOpened.callee", "service name", "`None`", "The called service."),
        f("invariants[*].Sometimes.Retried", "struct variant", "", "The call site retried or hedged at least once; named as for `BreakerOpened`."),
        f("invariants[*].Sometimes.Retried.client", "client group name", "`None`", "The client group."),
        f("invariants[*].Sometimes.Retried.caller", "service name", "`None`", "The calling service."),
        f("invariants[*].Sometimes.Retried.callee", "service name", "`None`", "The called service."),
        f("invariants[*].Sometimes.RolledBack", "struct variant", "", "The deploy was aborted and rolled back."),
        f("invariants[*].Sometimes.RolledBack.deploy", "deploy name", REQ, "The deploy."),
        f("invariants[*].Sometimes.Refused", "struct variant", "", "The service refused requests (queue full, rate limited, shed, down)."),
        f("invariants[*].Sometimes.Refused.service", "service name", REQ, "The service."),
    ],
);

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

default_value!(LATENCY_QUANTILE_DEFAULT, fn p99() -> f64 = 0.99);
default_value!(RECOVERS_TO_DEFAULT, fn ninety_percent() -> f64 = 0.9);

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

/// The reference section "Exploration (`explore`)".
pub(crate) const EXPLORE_DOC: Section = (
    "Exploration (`explore`)",
    "`explore` declares the parameters `squall check` varies, each a range over a path written as for `--set`. Every case of a check draws a seed and a value of each parameter; a failure is shrunk toward the first bound of each range, so write the simpler end first (the shorter trigger, the lower load, the fewer replicas).\n\n\
     ```ron\n\
     explore: {\n\
     \x20   \"faults.0.for\": (\"5s\", \"60s\"),\n\
     \x20   \"clients.users.arrivals.rate\": (200.0, 600.0),\n\
     \x20   \"services.api.replicas\": (2, 10),\n\
     },\n\
     ```",
    &[
        f("explore", "map of override path to `(from, to)`, at most 32", "`{}`", "Integers range over every whole number between the bounds; decimals (either bound written with a point) over a grid of a thousandth of the range; durations in steps of the largest unit dividing both bounds (`\"5s\"` to `\"60s\"` in seconds, `\"500ms\"` to `\"2s\"` in milliseconds). The scenario must build at both bounds. Values are applied as `--set` overrides, so the one-line reproduction of a failure is exact."),
    ],
);

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

// Building.

/// The invariants of `spec`, in file order; problems go to `pending`.
pub(crate) fn build_invariants(
    spec: &ScenarioSpec,
    faults: &[FaultConfig],
    deploys: &[DeployConfig],
    pending: &mut Vec<Pending>,
) -> Vec<Invariant> {
    let mut out = Vec::new();
    for (i, inv) in spec.invariants.iter().enumerate() {
        let at = index(&[key("invariants")], i);
        let mut names = Names { spec, at: &at, pending: &mut *pending };
        if let Some(rule) = rule(inv, faults, deploys, &mut names) {
            out.push(Invariant { label: label(inv), rule });
        }
    }
    out
}

/// The explored parameters of `spec`, in file order (their ranges were checked on reading).
pub(crate) fn build_explore(spec: &ScenarioSpec) -> Vec<Axis> {
    spec.explore
        .0
        .iter()
        .map(|(path, (from, to))| Axis::range(path, &from.text, &to.text).expect("checked when read"))
        .collect()
}

/// Looks names up for one invariant, recording a problem at its path for each unknown one.
struct Names<'a> {
    spec: &'a ScenarioSpec,
    at: &'a [Seg],
    pending: &'a mut Vec<Pending>,
}

impl Names<'_> {
    fn fail(&mut self, field: &[&str], message: String) -> Option<()> {
        let at = if field.is_empty() { self.at.to_vec() } else { under(self.at, field) };
        problem(self.pending, at, message);
        None
    }

    fn client(&mut self, field: &[&str], name: &str) -> Option<String> {
        if self.spec.clients.0.contains_key(name) {
            return Some(name.to_string());
        }
        let known: Vec<&str> = self.spec.clients.0.keys().map(String::as_str).collect();
        self.fail(field, unknown_name("client group", name, &known))?;
        None
    }

    fn service(&mut self, field: &[&str], name: &str) -> Option<String> {
        if self.spec.services.0.contains_key(name) {
            return Some(name.to_string());
        }
        let known: Vec<&str> = self.spec.services.0.keys().map(String::as_str).collect();
        self.fail(field, unknown_name("service", name, &known))?;
        None
    }

    /// A number in a range, `what` saying which.
    fn number(&mut self, field: &str, x: f64, ok: bool, what: &str) -> Option<f64> {
        if ok && x.is_finite() {
            return Some(x);
        }
        self.fail(&[field], format!("{} is out of range: {what}", crate::spec::shown(x)))?;
        None
    }

    /// A client group, or a caller and its callee: the site a policy assertion is about.
    fn site(
        &mut self,
        client: &Option<String>,
        caller: &Option<String>,
        callee: &Option<String>,
    ) -> Option<Site> {
        match (client, caller, callee) {
            (Some(c), None, None) => Some(Site::Client(self.client(&["client"], c)?)),
            (None, Some(a), Some(b)) => {
                let caller = self.service(&["caller"], a)?;
                let callee = self.service(&["callee"], b)?;
                Some(Site::Dependency { caller, callee })
            }
            _ => {
                self.fail(&[], "name either a `client`, or a `caller` and its `callee`".to_string())?;
                None
            }
        }
    }
}

fn rule(
    inv: &InvariantSpec,
    faults: &[FaultConfig],
    deploys: &[DeployConfig],
    n: &mut Names<'_>,
) -> Option<Rule> {
    Some(match inv {
        InvariantSpec::SuccessRate { client, endpoint, flow, caller, callee, at_least } => {
            let at_least =
                n.number("at_least", *at_least, (0.0..=1.0).contains(at_least), "a share from 0 to 1")?;
            let given =
                [client.is_some(), endpoint.is_some(), flow.is_some(), caller.is_some() || callee.is_some()];
            if given.iter().filter(|g| **g).count() != 1 {
                n.fail(
                    &[],
                    "name exactly one of `client`, `endpoint`, `flow`, or `caller` and `callee`".into(),
                )?;
            }
            let of = if let Some(c) = client {
                Scope::Clients(vec![n.client(&["client"], c)?])
            } else if let Some(f) = flow {
                let c = n.client(&["flow"], f)?;
                if n.spec.clients.0[&c].flow.is_none() {
                    n.fail(&["flow"], format!("the client group `{c}` runs no flow"))?;
                }
                Scope::Flow(c)
            } else if let Some(t) = endpoint {
                let clients: Vec<String> = n
                    .spec
                    .clients
                    .0
                    .iter()
                    .filter(|(_, c)| {
                        c.target.as_ref().is_some_and(|g| g.service == t.service && g.endpoint == t.endpoint)
                    })
                    .map(|(name, _)| name.clone())
                    .collect();
                if clients.is_empty() {
                    let msg = format!("no client group targets `{}.{}`", t.service, t.endpoint);
                    n.fail(&["endpoint"], msg)?;
                }
                Scope::Clients(clients)
            } else {
                let (Some(a), Some(b)) = (caller, callee) else {
                    n.fail(&[], "a dependency needs both `caller` and `callee`".into())?;
                    return None;
                };
                Scope::Dependency { caller: n.service(&["caller"], a)?, callee: n.service(&["callee"], b)? }
            };
            Rule::SuccessRate { of, at_least }
        }
        InvariantSpec::Latency { client, quantile, at_most } => {
            let ok = *quantile > 0.0 && *quantile <= 1.0;
            let quantile = n.number("quantile", *quantile, ok, "a quantile above 0 and at most 1")?;
            let clients = vec![n.client(&["client"], client)?];
            Rule::Latency { clients, quantile, at_most: SimDuration::from_nanos(at_most.0.ns) }
        }
        InvariantSpec::Recovers { to, within } => {
            let fraction = n.number("to", *to, *to > 0.0 && *to <= 1.0, "a share above 0 and at most 1")?;
            Rule::Recovers { fraction, within: SimDuration::from_nanos(within.0.ns) }
        }
        InvariantSpec::NoFailedFlows { client } => {
            let c = n.client(&["client"], client)?;
            if n.spec.clients.0[&c].flow.is_none() {
                n.fail(&["client"], format!("the client group `{c}` runs no flow"))?;
            }
            Rule::NoFailedFlows { client: c }
        }
        InvariantSpec::ErrorBudget { client, objective } => {
            let ok = *objective > 0.0 && *objective < 1.0;
            let objective =
                n.number("objective", *objective, ok, "an availability above 0 and below 1, as 0.999")?;
            Rule::ErrorBudget { clients: vec![n.client(&["client"], client)?], objective }
        }
        InvariantSpec::MaxVersions { service, at_most } => {
            if *at_most == 0 {
                n.fail(
                    &["at_most"],
                    "0 versions can never hold while anything serves; use 1 or more".into(),
                )?;
            }
            Rule::MaxVersions { service: n.service(&["service"], service)?, at_most: *at_most }
        }
        InvariantSpec::Sometimes(e) => Rule::Sometimes(evidence(e, faults, deploys, n)?),
    })
}

fn evidence(
    e: &EvidenceSpec,
    faults: &[FaultConfig],
    deploys: &[DeployConfig],
    n: &mut Names<'_>,
) -> Option<Evidence> {
    Some(match e {
        EvidenceSpec::FaultFired { fault } => match faults.iter().position(|f| &f.name == fault) {
            Some(fault) => Evidence::FaultFired { fault },
            None => {
                let known: Vec<&str> = faults.iter().map(|f| f.name.as_str()).collect();
                n.fail(&["Sometimes", "FaultFired", "fault"], unknown_name("fault", fault, &known))?;
                return None;
            }
        },
        EvidenceSpec::BreakerOpened { client, caller, callee } => {
            Evidence::BreakerOpened(n.site(client, caller, callee)?)
        }
        EvidenceSpec::Retried { client, caller, callee } => {
            Evidence::Retried(n.site(client, caller, callee)?)
        }
        EvidenceSpec::RolledBack { deploy } => match deploys.iter().position(|d| &d.name == deploy) {
            Some(deploy) => Evidence::RolledBack { deploy },
            None => {
                let known: Vec<&str> = deploys.iter().map(|d| d.name.as_str()).collect();
                n.fail(&["Sometimes", "RolledBack", "deploy"], unknown_name("deploy", deploy, &known))?;
                return None;
            }
        },
        EvidenceSpec::Refused { service } => {
            Evidence::Refused { service: n.service(&["Sometimes", "Refused", "service"], service)? }
        }
    })
}

/// The invariant as the file writes it, with only the fields given.
fn label(inv: &InvariantSpec) -> String {
    let q = |s: &str| format!("{s:?}");
    let opt = |name: &str, v: &Option<String>| v.as_ref().map(|v| format!("{name}: {}", q(v)));
    let fields = |name: &str, parts: Vec<Option<String>>| {
        format!("{name}({})", parts.into_iter().flatten().collect::<Vec<_>>().join(", "))
    };
    match inv {
        InvariantSpec::SuccessRate { client, endpoint, flow, caller, callee, at_least } => fields(
            "SuccessRate",
            vec![
                opt("client", client),
                endpoint
                    .as_ref()
                    .map(|t| format!("endpoint: (service: {}, endpoint: {})", q(&t.service), q(&t.endpoint))),
                opt("flow", flow),
                opt("caller", caller),
                opt("callee", callee),
                Some(format!("at_least: {at_least}")),
            ],
        ),
        InvariantSpec::Latency { client, quantile, at_most } => fields(
            "Latency",
            vec![
                opt("client", &Some(client.clone())),
                Some(format!("quantile: {quantile}")),
                Some(format!("at_most: {}", q(&at_most.0.text))),
            ],
        ),
        InvariantSpec::Recovers { to, within } => fields(
            "Recovers",
            vec![Some(format!("to: {to}")), Some(format!("within: {}", q(&within.0.text)))],
        ),
        InvariantSpec::NoFailedFlows { client } => {
            fields("NoFailedFlows", vec![opt("client", &Some(client.clone()))])
        }
        InvariantSpec::ErrorBudget { client, objective } => fields(
            "ErrorBudget",
            vec![opt("client", &Some(client.clone())), Some(format!("objective: {objective}"))],
        ),
        InvariantSpec::MaxVersions { service, at_most } => fields(
            "MaxVersions",
            vec![opt("service", &Some(service.clone())), Some(format!("at_most: {at_most}"))],
        ),
        InvariantSpec::Sometimes(e) => {
            let inner = match e {
                EvidenceSpec::FaultFired { fault } => {
                    fields("FaultFired", vec![opt("fault", &Some(fault.clone()))])
                }
                EvidenceSpec::BreakerOpened { client, caller, callee } => fields(
                    "BreakerOpened",
                    vec![opt("client", client), opt("caller", caller), opt("callee", callee)],
                ),
                EvidenceSpec::Retried { client, caller, callee } => fields(
                    "Retried",
                    vec![opt("client", client), opt("caller", caller), opt("callee", callee)],
                ),
                EvidenceSpec::RolledBack { deploy } => {
                    fields("RolledBack", vec![opt("deploy", &Some(deploy.clone()))])
                }
                EvidenceSpec::Refused { service } => {
                    fields("Refused", vec![opt("service", &Some(service.clone()))])
                }
            };
            format!("Sometimes({inner})")
        }
    }
}
