//! Invariants: what must hold in every run of a scenario, each judged on a [`RunOutput`]
//! with the value it measured, so a failure says by how much and a pass says with how much
//! margin.
//!
//! Names (clients, services, faults, deploys) were checked when the scenario was built; an
//! invariant about an entity the output lacks measures nothing and fails, saying so. An
//! undefined measure (a success rate with no request ended, a percentile with no success)
//! fails too: an invariant that was never exercised has not been shown to hold.

use squall_kernel::SimDuration;
use squall_model::metrics::{metric, recoveries, Clients, Ctx, Scope as MetricScope};
use squall_model::{RunOutput, StopReason};

/// One invariant and the words that name it in reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Invariant {
    /// How the scenario file writes it, e.g. `SuccessRate(client: "users", at_least: 0.99)`.
    pub label: String,
    /// What it asserts.
    pub rule: Rule,
}

/// What an invariant asserts about a run.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// Successes (`Ok` and `Degraded`) over ended requests of `of` are at least `at_least`.
    SuccessRate {
        /// Whose requests.
        of: Scope,
        /// Lowest acceptable share, in [0, 1].
        at_least: f64,
    },
    /// The `quantile` of the latency of successful requests of `clients` (together) is at
    /// most `at_most`.
    Latency {
        /// Client groups, by name.
        clients: Vec<String>,
        /// In (0, 1].
        quantile: f64,
        /// Highest acceptable latency.
        at_most: SimDuration,
    },
    /// After every fault window that ran, goodput (all clients' successes per second) is back
    /// to `fraction` of its level before the fault within `within` of the fault's end: the
    /// metastability check.
    Recovers {
        /// Share of the pre-fault goodput that counts as recovered.
        fraction: f64,
        /// Longest acceptable time to recover.
        within: SimDuration,
    },
    /// No flow of the client group fails.
    NoFailedFlows {
        /// The client group running the flow.
        client: String,
    },
    /// Failures of `clients` stay within the error budget of an availability `objective`:
    /// at most `(1 - objective)` of ended requests. Measures the share of the budget used.
    ErrorBudget {
        /// Client groups, by name.
        clients: Vec<String>,
        /// The availability objective, in (0, 1), e.g. 0.999.
        objective: f64,
    },
    /// At most `at_most` versions of `service` answer requests within the same time bucket.
    MaxVersions {
        /// Service name.
        service: String,
        /// Most versions serving at once.
        at_most: u32,
    },
    /// The run shows the evidence at least once, so a check cannot pass by never exercising
    /// what it claims to test.
    Sometimes(Evidence),
    /// Every request a client issued either ended or was still in flight at the end; always
    /// checked.
    Conservation,
    /// The run reached its duration instead of stopping at a limit; always checked.
    Completes,
}

/// Whose requests a success rate counts.
#[derive(Clone, Debug, PartialEq)]
pub enum Scope {
    /// These client groups together (one, or those that target an endpoint).
    Clients(Vec<String>),
    /// The flows of a client group: completed over completed and failed.
    Flow(String),
    /// A service's calls to a dependency.
    Dependency {
        /// The calling service.
        caller: String,
        /// The called service.
        callee: String,
    },
}

/// Something a "sometimes" assertion wants to see happen.
#[derive(Clone, Debug, PartialEq)]
pub enum Evidence {
    /// The fault window (by its index among the scenario's faults) acted on something.
    FaultFired {
        /// Index in the scenario's `faults`.
        fault: usize,
    },
    /// A breaker of the call site opened.
    BreakerOpened(Site),
    /// The call site retried or hedged.
    Retried(Site),
    /// The deploy (by its index among the scenario's deploys) was aborted and rolled back.
    RolledBack {
        /// Index in the scenario's `deploys`.
        deploy: usize,
    },
    /// The service refused requests (queue full, rate limited, shed, down).
    Refused {
        /// Service name.
        service: String,
    },
}

/// A call site with a client policy.
#[derive(Clone, Debug, PartialEq)]
pub enum Site {
    /// A client group.
    Client(String),
    /// A service's calls to a dependency.
    Dependency {
        /// The calling service.
        caller: String,
        /// The called service.
        callee: String,
    },
}

/// The unit of a measured value, for display.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A share in [0, 1], shown as a percentage.
    Ratio,
    /// Seconds.
    Seconds,
    /// A count.
    Count,
}

/// How one run fared against one invariant.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Whether it held.
    pub passed: bool,
    /// What was measured; `None` when the measure is undefined (nothing to measure).
    pub measured: Option<f64>,
    /// The measured value's unit.
    pub unit: Unit,
    /// Why an undefined measure failed, or a note on the value.
    pub note: Option<String>,
}

impl Verdict {
    fn check(measured: Option<f64>, unit: Unit, ok: impl Fn(f64) -> bool, undefined: &str) -> Verdict {
        match measured {
            Some(m) => Verdict { passed: ok(m), measured: Some(m), unit, note: None },
            None => Verdict { passed: false, measured: None, unit, note: Some(undefined.to_string()) },
        }
    }

    /// The measured value in words: `98.71%`, `0.412s`, `3`, or the note.
    pub fn shown(&self) -> String {
        match (self.measured, self.unit) {
            (Some(m), Unit::Ratio) => format!("{}%", round_sig(m * 100.0, 4)),
            (Some(m), Unit::Seconds) if m.abs() < 1.0 => format!("{}ms", round_sig(m * 1e3, 4)),
            (Some(m), Unit::Seconds) => format!("{}s", round_sig(m, 4)),
            (Some(m), Unit::Count) => format!("{m}"),
            (None, _) => self.note.clone().unwrap_or_else(|| "-".to_string()),
        }
    }
}

/// `x` rounded to `digits` significant digits, as short as it prints.
pub(crate) fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// Judges `out` against every invariant, in order.
pub fn evaluate(invariants: &[Invariant], out: &RunOutput) -> Vec<Verdict> {
    invariants.iter().map(|inv| judge(&inv.rule, out)).collect()
}

/// The invariants every check has whatever the scenario declares: conservation of requests
/// and a run that reaches its duration.
pub fn always() -> Vec<Invariant> {
    vec![
        Invariant { label: "Conservation".to_string(), rule: Rule::Conservation },
        Invariant { label: "Completes".to_string(), rule: Rule::Completes },
    ]
}

fn judge(rule: &Rule, out: &RunOutput) -> Verdict {
    match rule {
        Rule::SuccessRate { of, at_least } => {
            let (rate, what) = success_rate(of, out);
            Verdict::check(rate, Unit::Ratio, |r| r >= *at_least, &format!("no {what} ended"))
        }
        Rule::Latency { clients, quantile, at_most } => {
            let group = Clients::named(out, clients);
            let h = group.latency_ok();
            let value = (!h.is_empty())
                .then(|| SimDuration::from_nanos(h.value_at_quantile(*quantile)).as_secs_f64());
            let limit = at_most.as_secs_f64();
            Verdict::check(value, Unit::Seconds, |v| v <= limit, "no successful request")
        }
        Rule::Recovers { fraction, within } => recovers(out, *fraction, *within),
        Rule::NoFailedFlows { client } => {
            let failed = out.clients.iter().find(|c| &c.name == client).and_then(|c| c.flow.as_ref());
            let failed = failed.map(|f| f.failed as f64);
            Verdict::check(failed, Unit::Count, |f| f == 0.0, "the client runs no flow")
        }
        Rule::ErrorBudget { clients, objective } => {
            let group = Clients::named(out, clients);
            let (ok, total) = (group.outcomes().successes(), group.outcomes().total());
            let allowed = (1.0 - objective) * total as f64;
            let used = (total > 0 && allowed > 0.0).then(|| (total - ok) as f64 / allowed);
            Verdict::check(used, Unit::Ratio, |u| u <= 1.0, "no request ended")
        }
        Rule::MaxVersions { service, at_most } => {
            let s = out.services.iter().find(|s| &s.name == service);
            let most = s.map(|s| {
                let versions = &s.fleet.versions;
                let n_buckets = versions.iter().map(|v| v.series.len()).max().unwrap_or(0);
                let serving = |i: usize| {
                    versions.iter().filter(|v| v.series.get(i).is_some_and(|b| b.answers > 0)).count()
                };
                // A fleet of one version reports no series.
                (0..n_buckets).map(serving).max().unwrap_or(usize::from(s.arrivals > 0)) as f64
            });
            Verdict::check(most, Unit::Count, |m| m <= f64::from(*at_most), "no such service")
        }
        Rule::Sometimes(evidence) => {
            let seen = evidence_count(evidence, out);
            Verdict::check(seen, Unit::Count, |n| n > 0.0, "no such entity in the output")
        }
        Rule::Conservation => {
            let c = &out.conservation;
            let lost = c.issued as f64 - (c.ended + c.in_flight) as f64;
            let mut v = Verdict::check(Some(lost), Unit::Count, |l| l == 0.0, "");
            v.note = Some(format!("issued {} = ended {} + in flight {}", c.issued, c.ended, c.in_flight));
            v
        }
        Rule::Completes => {
            let done = out.stop == StopReason::Completed;
            let mut v = Verdict::check(Some(out.end.as_secs_f64()), Unit::Seconds, |_| done, "");
            if let StopReason::EventLimit { limit } = out.stop {
                v.note = Some(format!("stopped at the event limit {limit}"));
            } else if let StopReason::Halted { reason } = &out.stop {
                v.note = Some(reason.clone());
            }
            v
        }
    }
}

/// The success rate of a scope, by its catalogue definition, and what its requests are called.
fn success_rate(of: &Scope, out: &RunOutput) -> (Option<f64>, &'static str) {
    match of {
        Scope::Clients(names) => {
            let group = Clients::named(out, names);
            (metric(MetricScope::Client, "success_rate").of(Ctx::Clients(&group)), "request")
        }
        Scope::Flow(client) => {
            let flow = out.clients.iter().find(|c| &c.name == client).and_then(|c| c.flow.as_ref());
            (flow.and_then(|f| metric(MetricScope::Flow, "success_rate").of(Ctx::Flow(f))), "flow")
        }
        Scope::Dependency { caller, callee } => {
            let d = out.dependencies.iter().find(|d| &d.caller == caller && &d.callee == callee);
            (d.and_then(|d| metric(MetricScope::Dependency, "success_rate").of(Ctx::Dependency(d))), "call")
        }
    }
}

/// The worst time to recover over the fault windows that ran and had a baseline.
fn recovers(out: &RunOutput, fraction: f64, within: SimDuration) -> Verdict {
    let r = recoveries(out, fraction);
    if let Some(fault) = r.never {
        let note = format!("never recovered after `{fault}`");
        return Verdict { passed: false, measured: None, unit: Unit::Seconds, note: Some(note) };
    }
    let undefined = if r.judged == 0 { "no fault ran after a whole bucket of baseline" } else { "" };
    Verdict::check(r.slowest_s, Unit::Seconds, |w| w <= within.as_secs_f64(), undefined)
}

/// How often the evidence showed; `None` if the entity is not in the output.
fn evidence_count(evidence: &Evidence, out: &RunOutput) -> Option<f64> {
    let policy = |site: &Site| match site {
        Site::Client(name) => out.clients.iter().find(|c| &c.name == name).map(|c| &c.policy),
        Site::Dependency { caller, callee } => {
            out.dependencies.iter().find(|d| &d.caller == caller && &d.callee == callee).map(|d| &d.policy)
        }
    };
    let n = match evidence {
        Evidence::FaultFired { fault } => out.faults.get(*fault)?.fired,
        Evidence::BreakerOpened(site) => policy(site)?.breaker.as_ref().map_or(0, |b| b.opens),
        Evidence::Retried(site) => {
            let p = policy(site)?;
            p.retries + p.hedges
        }
        Evidence::RolledBack { deploy } => {
            u64::from(out.deploys.get(*deploy)?.result == squall_model::DeployResult::RolledBack)
        }
        Evidence::Refused { service } => out.services.iter().find(|s| &s.name == service)?.rejected,
    };
    Some(n as f64)
}
