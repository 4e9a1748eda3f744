//! Builds what a check asserts (`invariants`) and explores (`explore`) from the spec: names
//! checked against the scenario's entities, numbers against their ranges, and a label per
//! invariant that reads as the file writes it.

use squall_explore::{Axis, Evidence, Invariant, Rule, Scope, Site};
use squall_kernel::SimDuration;
use squall_model::{DeployConfig, FaultConfig};

use crate::build::{index, key, problem, under, Pending};
use crate::error::unknown_name;
use crate::locate::Seg;
use crate::spec::ScenarioSpec;
use crate::spec::{EvidenceSpec, InvariantSpec};

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
        self.fail(&[field], format!("{x} is out of range: {what}"))?;
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
