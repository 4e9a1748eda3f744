//! Client groups: targets, arrivals, rate schedules and multi-step flows.

use super::*;

use squall_kernel::SimTime;
use squall_model::{
    ArrivalProcess, ClientConfig, Criticality, EndpointId, FlowCondition, FlowConfig, FlowStep, Load,
    RateSchedule, ServiceConfig, ServiceId,
};

use crate::build::{id_of, index, path, problem, u32_of, under, Pending};
use crate::error::{unknown_name, unknown_name_in};
use crate::locate::Seg;

/// The reference section "Clients".
pub(crate) const CLIENTS_DOC: Section = (
    "Clients",
    "`clients` maps names to client groups. File order gives the client ids.",
    &[
        f("clients", "map of name to client group, at least one", REQ, "The sources of load."),
        f("clients.*.target", "struct, or `None`", "required unless `flow` is given", "The endpoint the group calls: one request per arrival (or per user's turn). Not allowed with `flow`."),
        f("clients.*.target.service", "service name", REQ, "Service called."),
        f("clients.*.target.endpoint", "endpoint name", REQ, "Endpoint called, of that service."),
        f("clients.*.flow", "list of flow steps, at least one, or `None`", "`None`", "A multi-step user flow instead of a `target`: each arrival (or each user's turn) runs the steps in order, each a request, each after its `delay`. The flow fails when a step fails for good (after the group's policy has retried it) and completes when its last step succeeds or is skipped. Not allowed with `target`."),
        f("clients.*.flow[*].name", "name, unique in the flow", REQ, "Name of the step, used in outputs and in later steps' `when`."),
        f("clients.*.flow[*].target", "struct", REQ, "The endpoint the step calls."),
        f("clients.*.flow[*].target.service", "service name", REQ, "Service called."),
        f("clients.*.flow[*].target.endpoint", "endpoint name", REQ, "Endpoint called, of that service."),
        f("clients.*.flow[*].delay", "distribution", "`Constant(\"0s\")`", "Time between the end of the previous step (or the start of the flow) and this request. See `dist`."),
        f("clients.*.flow[*].when", "`Always`, `Flag(...)`, `NotFlag(...)`, `ServedBy(...)` or `NotServedBy(...)`", "`Always`", "The step runs only if this holds; otherwise it is skipped (and carries no flags)."),
        f("clients.*.flow[*].when.Flag", "struct variant", "", "An earlier step's answer carried a flag: `Flag(step: \"signup\", flag: \"needs_confirmation\")`."),
        f("clients.*.flow[*].when.Flag.step", "step name", REQ, "An earlier step of the flow."),
        f("clients.*.flow[*].when.Flag.flag", "flag name", REQ, "A flag that the earlier step's endpoint sets in some version of its service (see `services.*.endpoints.*.flags`); otherwise the condition could never hold."),
        f("clients.*.flow[*].when.NotFlag", "struct variant", "", "An earlier step's answer did not carry a flag (a skipped step carries none): `NotFlag(step: \"signup\", flag: \"needs_confirmation\")`."),
        f("clients.*.flow[*].when.NotFlag.step", "step name", REQ, "An earlier step of the flow."),
        f("clients.*.flow[*].when.NotFlag.flag", "flag name", REQ, "A flag that the earlier step's endpoint sets in some version of its service; otherwise the condition would always hold."),
        f("clients.*.flow[*].when.ServedBy", "struct variant", "", "An earlier step was answered by a given version of its service: `ServedBy(step: \"signup\", version: \"v2\")`."),
        f("clients.*.flow[*].when.ServedBy.step", "step name", REQ, "An earlier step of the flow."),
        f("clients.*.flow[*].when.ServedBy.version", "version name", REQ, "A version of the service the earlier step calls."),
        f("clients.*.flow[*].when.NotServedBy", "struct variant", "", "An earlier step was not answered by that version (a skipped step, or one no instance answered, was answered by none): `NotServedBy(step: \"signup\", version: \"v2\")`."),
        f("clients.*.flow[*].when.NotServedBy.step", "step name", REQ, "An earlier step of the flow."),
        f("clients.*.flow[*].when.NotServedBy.version", "version name", REQ, "A version of the service the earlier step calls."),
        f("clients.*.arrivals", "one of `Poisson(...)`, `Constant(...)`, `Closed(...)`", REQ, "How requests are generated."),
        f("clients.*.arrivals.Poisson", "struct variant", "", "Open loop, exponential gaps between requests (a non-homogeneous Poisson process when a schedule varies the rate)."),
        f("clients.*.arrivals.Poisson.rate", "number, > 0 and <= 1e9", REQ, "Requests per second at the start of the run."),
        f("clients.*.arrivals.Constant", "struct variant", "", "Open loop, gaps of exactly 1/rate."),
        f("clients.*.arrivals.Constant.rate", "number, > 0 and <= 1e9", REQ, "Requests per second at the start of the run."),
        f("clients.*.arrivals.Closed", "struct variant", "", "Closed loop: each user sends a request, waits for its end, thinks, and sends the next."),
        f("clients.*.arrivals.Closed.users", "integer, 1 to 10000000", REQ, "Number of users."),
        f("clients.*.arrivals.Closed.think", "distribution", REQ, "Think time between a response and the user's next request. See `dist`."),
        f("clients.*.schedule", "list of `Step(...)` or `Ramp(...)`", "`[]`", "Changes to the rate of open-loop arrivals over time, in time order and not overlapping. Not allowed with `Closed`. Times past `duration` are allowed and never reached."),
        f("clients.*.schedule[*].Step", "struct variant", "", "The rate jumps to a new value."),
        f("clients.*.schedule[*].Step.at", "duration", REQ, "When the rate changes."),
        f("clients.*.schedule[*].Step.rate", "number, >= 0", REQ, "Requests per second from then on; 0 pauses arrivals."),
        f("clients.*.schedule[*].Ramp", "struct variant", "", "The rate changes linearly from its current value to a new one."),
        f("clients.*.schedule[*].Ramp.start", "duration", REQ, "When the ramp starts."),
        f("clients.*.schedule[*].Ramp.end", "duration, > start", REQ, "When the ramp reaches `rate`."),
        f("clients.*.schedule[*].Ramp.rate", "number, >= 0", REQ, "Requests per second at the end of the ramp, and from then on."),
        f("clients.*.timeout", "duration > 0, or `None`", "`None`", "Overall deadline of each request, over every attempt and back-off: the client gives up after this long; `None` waits forever."),
        f("clients.*.per_try_timeout", "duration > 0 and < `timeout`, or `None`", "`None`", "Each attempt gives up after this long, so that a retry can follow; the last attempt gets only what is left of `timeout`."),
        f("clients.*.propagate_deadline", "not allowed", "`None`", "Refused: a client group has no caller whose deadline it could pass on. Give it a `timeout`, and `propagate_deadline` to the `dependencies` of the services it calls."),
        f("clients.*.retry", "struct, or `None`", "`None`", "Retries of failed requests. Not with `hedge`. See `retry`."),
        f("clients.*.budget", "`Finagle(...)`, `Envoy(...)`, `MaxRetries(...)`, `GrpcThrottle(...)`, `AwsQuota(...)`, or `None`", "`None`", "What limits the group's retries and hedges, across requests: one budget for the group. Needs `retry` or `hedge`. See `budget`."),
        f("clients.*.breaker", "`Resilience4j(...)`, `Consecutive(...)`, or `None`", "`None`", "A circuit breaker in front of the group's attempts. A group has one breaker, so its `shared` changes nothing. See `breaker`."),
        f("clients.*.throttle", "struct, or `None`", "`None`", "Adaptive throttling of the group's attempts. See `throttle`."),
        f("clients.*.hedge", "struct, or `None`", "`None`", "Parallel attempts (gRPC hedging). Not with `retry`. See `hedge`."),
        f("clients.*.fallback", "`Static`, `Cache(...)`, or `None`", "`None`", "What a failed request falls back to, answered `Degraded` instead of failing. See `fallback`."),
        f("clients.*.criticality", "one of `CriticalPlus`, `Critical`, `SheddablePlus`, `Sheddable`", "`Critical`", "How important the group's requests are; the calls they cause inherit it. Load shedding refuses the least critical first."),
    ],
);

with_call_policy! {
    /// One client group.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    #[serde(
        rename = "Client",
        expecting = "a client group, as in (target: (service: \"api\", endpoint: \"feed\"), arrivals: Poisson(rate: 100))",
        deny_unknown_fields
    )]
    pub(crate) struct ClientSpec {
        #[serde(default)]
        pub target: Option<TargetSpec>,
        #[serde(default)]
        pub flow: Option<Vec<FlowStepSpec>>,
        pub arrivals: ArrivalsSpec,
        #[serde(default)]
        pub schedule: ScheduleSpec,
        #[serde(default)]
        pub criticality: CriticalitySpec,
    }
}

/// `(service: "api", endpoint: "feed")`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Target",
    expecting = "a target, as in (service: \"api\", endpoint: \"feed\")",
    deny_unknown_fields
)]
pub(crate) struct TargetSpec {
    pub service: String,
    pub endpoint: String,
}

/// One step of a client's flow:
/// `(name: "confirm", target: (...), delay: Exponential(mean: "5s"), when: Flag(step: "signup", flag: "x"))`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "FlowStep",
    expecting = "a flow step, as in (name: \"signup\", target: (service: \"web\", endpoint: \"signup\"))",
    deny_unknown_fields
)]
pub(crate) struct FlowStepSpec {
    pub name: String,
    pub target: TargetSpec,
    #[serde(default = "default_startup")]
    pub delay: DistField,
    #[serde(default)]
    pub when: WhenSpec,
}

/// When a flow step runs.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(
    rename = "When",
    expecting = "Always, Flag(step: ..., flag: ...) or NotFlag(step: ..., flag: ...)",
    deny_unknown_fields
)]
pub(crate) enum WhenSpec {
    #[default]
    Always,
    Flag {
        step: String,
        flag: String,
    },
    NotFlag {
        step: String,
        flag: String,
    },
    ServedBy {
        step: String,
        version: String,
    },
    NotServedBy {
        step: String,
        version: String,
    },
}

/// How a client group generates requests.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Arrivals",
    expecting = "Poisson(rate: ...), Constant(rate: ...) or Closed(users: ..., think: ...)",
    deny_unknown_fields
)]
pub(crate) enum ArrivalsSpec {
    Poisson { rate: Rate },
    Constant { rate: Rate },
    Closed { users: Count<1, 10_000_000>, think: DistField },
}

/// One entry of a rate schedule.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "ScheduleEntry",
    expecting = "Step(at: ..., rate: ...) or Ramp(start: ..., end: ..., rate: ...)",
    deny_unknown_fields
)]
pub(crate) enum ScheduleEntrySpec {
    Step { at: Dur, rate: ScheduleRate },
    Ramp { start: Dur, end: Dur, rate: ScheduleRate },
}

impl ScheduleEntrySpec {
    fn start(&self) -> &Dur {
        match self {
            ScheduleEntrySpec::Step { at, .. } => at,
            ScheduleEntrySpec::Ramp { start, .. } => start,
        }
    }

    fn end(&self) -> &Dur {
        match self {
            ScheduleEntrySpec::Step { at, .. } => at,
            ScheduleEntrySpec::Ramp { end, .. } => end,
        }
    }

    fn describe(&self) -> String {
        match self {
            ScheduleEntrySpec::Step { at, .. } => format!("Step at {}", at.text),
            ScheduleEntrySpec::Ramp { start, end, .. } => format!("Ramp from {} to {}", start.text, end.text),
        }
    }
}

/// A rate schedule, checked to be in time order without overlaps.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<ScheduleEntrySpec>", into = "Vec<ScheduleEntrySpec>")]
pub(crate) struct ScheduleSpec(pub Vec<ScheduleEntrySpec>);

impl TryFrom<Vec<ScheduleEntrySpec>> for ScheduleSpec {
    type Error = String;
    fn try_from(steps: Vec<ScheduleEntrySpec>) -> Result<Self, String> {
        for (i, step) in steps.iter().enumerate() {
            if let ScheduleEntrySpec::Ramp { start, end, .. } = step {
                if end.ns <= start.ns {
                    return Err(format!(
                        "schedule[{i}]: a ramp must end after it starts, but it goes from {} to {}",
                        start.text, end.text
                    ));
                }
            }
            if i > 0 {
                let prev = &steps[i - 1];
                if step.start().ns < prev.end().ns {
                    return Err(format!(
                        "schedule[{i}] ({}) starts before schedule[{}] ({}) ends; entries must be in time order and not overlap",
                        step.describe(),
                        i - 1,
                        prev.describe()
                    ));
                }
            }
        }
        Ok(ScheduleSpec(steps))
    }
}

impl From<ScheduleSpec> for Vec<ScheduleEntrySpec> {
    fn from(s: ScheduleSpec) -> Self {
        s.0
    }
}

// Building: checks across fields and entities, and the conversion to the model's
// configuration.

pub(crate) fn build_clients(
    spec: &ScenarioSpec,
    services: &[ServiceConfig],
    flags: &[String],
    pending: &mut Vec<Pending>,
) -> Vec<ClientConfig> {
    if spec.clients.0.is_empty() {
        problem(pending, path(&["clients"]), "at least one client group is needed".to_string());
    }
    let mut clients = Vec::with_capacity(spec.clients.0.len());
    for (name, c) in &spec.clients.0 {
        let at = path(&["clients", name]);
        let (target, flow) = match (&c.target, &c.flow) {
            (Some(t), None) => {
                (resolve(spec, &t.service, &t.endpoint, &under(&at, &["target"]), pending), None)
            }
            (None, Some(steps)) => {
                let flow = build_flow(spec, services, steps, &under(&at, &["flow"]), flags, pending);
                let first = flow.as_ref().map(|f| (f.steps[0].service, f.steps[0].endpoint));
                (first, flow)
            }
            (Some(_), Some(_)) => {
                pending.push(Pending {
                    paths: vec![under(&at, &["flow"]), under(&at, &["target"])],
                    anchor: None,
                    message: "give either `target` (one request per arrival) or `flow` (a multi-step user \
                              flow), not both"
                        .to_string(),
                });
                (None, None)
            }
            (None, None) => {
                problem(
                    pending,
                    at.clone(),
                    "missing `target`: a client group needs a `target`, or a `flow` of steps".to_string(),
                );
                (None, None)
            }
        };
        let load = match &c.arrivals {
            ArrivalsSpec::Poisson { rate } => open(ArrivalProcess::Poisson, rate.0, &c.schedule.0),
            ArrivalsSpec::Constant { rate } => open(ArrivalProcess::Constant, rate.0, &c.schedule.0),
            ArrivalsSpec::Closed { users, think } => {
                if !c.schedule.0.is_empty() {
                    pending.push(Pending {
                        paths: vec![
                            path(&["clients", name, "schedule"]),
                            path(&["clients", name, "arrivals"]),
                        ],
                        anchor: None,
                        message: "a schedule changes the rate of open-loop arrivals (Poisson or Constant); \
                                  Closed arrivals have no rate to change"
                            .to_string(),
                    });
                }
                Load::Closed { users: u32_of(users.0, "users"), think: think.dist.clone() }
            }
        };
        if c.propagate_deadline.is_some() {
            problem(
                pending,
                path(&["clients", name, "propagate_deadline"]),
                "a client group has no caller, so it has no deadline to pass on; give it a `timeout`, \
                 and `propagate_deadline` to the `dependencies` of the services it calls"
                    .to_string(),
            );
        }
        if let Some(FallbackSpec::Failover { .. }) = &c.fallback {
            problem(
                pending,
                path(&["clients", name, "fallback"]),
                "a client group has one target and no caller to fail over for it; give `Failover` to \
                 the `dependencies` of the service that calls the provider"
                    .to_string(),
            );
        }
        let policy = call_policy(c.policy(), &path(&["clients", name]), pending);
        // An unresolved client is left out; the problem recorded for it fails the build.
        if let Some((service, endpoint)) = target {
            clients.push(ClientConfig {
                name: name.clone(),
                service,
                endpoint,
                load,
                policy,
                criticality: match c.criticality {
                    CriticalitySpec::CriticalPlus => Criticality::CriticalPlus,
                    CriticalitySpec::Critical => Criticality::Critical,
                    CriticalitySpec::SheddablePlus => Criticality::SheddablePlus,
                    CriticalitySpec::Sheddable => Criticality::Sheddable,
                },
                flow,
            });
        }
    }
    clients
}

/// A client's flow; `at` is `clients.NAME.flow`. `None` when a step does not resolve.
pub(crate) fn build_flow(
    spec: &ScenarioSpec,
    services: &[ServiceConfig],
    steps: &[FlowStepSpec],
    at: &[Seg],
    flags: &[String],
    pending: &mut Vec<Pending>,
) -> Option<FlowConfig> {
    if steps.is_empty() {
        problem(pending, at.to_vec(), "a flow needs at least one step".to_string());
        return None;
    }
    let mut out = Vec::with_capacity(steps.len());
    // Each step's target, once resolved, to check that the flags conditions name can be set.
    let mut targets: Vec<Option<(ServiceId, EndpointId)>> = Vec::with_capacity(steps.len());
    for (i, st) in steps.iter().enumerate() {
        let s_at = index(at, i);
        if let Err(e) = crate::spec::check_name(&st.name) {
            problem(pending, under(&s_at, &["name"]), e);
        } else if let Some(j) = steps[..i].iter().position(|o| o.name == st.name) {
            problem(
                pending,
                under(&s_at, &["name"]),
                format!("the step name `{}` is also used by flow[{j}]; give each step its own name", st.name),
            );
        }
        let target =
            resolve(spec, &st.target.service, &st.target.endpoint, &under(&s_at, &["target"]), pending);
        let when = match &st.when {
            WhenSpec::Always => Some(FlowCondition::Always),
            WhenSpec::ServedBy { step, version } | WhenSpec::NotServedBy { step, version } => {
                let (variant, is) = match &st.when {
                    WhenSpec::ServedBy { .. } => ("ServedBy", true),
                    _ => ("NotServedBy", false),
                };
                let w_at = under(&s_at, &["when", variant]);
                let step_index = earlier_step(steps, i, step, &w_at, pending);
                let version_index = step_index.and_then(|j| targets[j]).and_then(|(service, _)| {
                    let s = &services[service.0 as usize];
                    let names: Vec<&str> = (0..s.n_versions()).map(|v| s.version_name(v)).collect();
                    let found = names.iter().position(|n| n == version);
                    if found.is_none() {
                        pending.push(Pending {
                            paths: vec![under(&w_at, &["version"])],
                            anchor: Some(version.clone()),
                            message: unknown_name_in(
                                "version",
                                version,
                                &format!(" of service `{}`", s.name),
                                &names,
                            ),
                        });
                    }
                    found
                });
                match (step_index, version_index) {
                    (Some(step), Some(version)) => {
                        Some(FlowCondition::ServedBy { step: id_of(step), version: id_of(version), is })
                    }
                    _ => None,
                }
            }
            WhenSpec::Flag { step, flag } | WhenSpec::NotFlag { step, flag } => {
                let (variant, set) = match &st.when {
                    WhenSpec::Flag { .. } => ("Flag", true),
                    _ => ("NotFlag", false),
                };
                let w_at = under(&s_at, &["when", variant]);
                let step_index = earlier_step(steps, i, step, &w_at, pending);
                let flag_index = flags.iter().position(|f| f == flag);
                if flag_index.is_none() {
                    let known: Vec<&str> = flags.iter().map(String::as_str).collect();
                    let message = if known.is_empty() {
                        format!(
                            "unknown flag `{flag}`: no endpoint sets any flag (see an endpoint's `flags`)"
                        )
                    } else {
                        unknown_name("flag", flag, &known)
                    };
                    pending.push(Pending {
                        paths: vec![under(&w_at, &["flag"])],
                        anchor: Some(flag.clone()),
                        message,
                    });
                }
                if let (Some(j), Some(f)) = (step_index, flag_index) {
                    if let Some((service, endpoint)) = targets[j] {
                        let s = &services[service.0 as usize];
                        let e = endpoint.0 as usize;
                        let sets = (0..s.n_versions())
                            .filter_map(|v| s.version_endpoint(v, e))
                            .any(|ep| ep.flags & (1u64 << f) != 0);
                        if !sets {
                            let (target, what) =
                                (&steps[j].target, if set { "never hold" } else { "always hold" });
                            pending.push(Pending {
                                paths: vec![under(&w_at, &["flag"])],
                                anchor: Some(flag.clone()),
                                message: format!(
                                    "no version of `{}.{}`, which step `{step}` calls, sets `{flag}`, so this \
                                     condition would {what}",
                                    target.service, target.endpoint
                                ),
                            });
                        }
                    }
                }
                match (step_index, flag_index) {
                    (Some(step), Some(flag)) => {
                        Some(FlowCondition::Flag { step: id_of(step), flag: id_of(flag), set })
                    }
                    _ => None,
                }
            }
        };
        targets.push(target);
        if let (Some((service, endpoint)), Some(when)) = (target, when) {
            out.push(FlowStep {
                name: st.name.clone(),
                service,
                endpoint,
                delay: st.delay.dist.clone(),
                when,
            });
        }
    }
    (out.len() == steps.len()).then_some(FlowConfig { steps: out })
}

/// The index of the earlier step a condition of step `i` names, or a located problem.
pub(crate) fn earlier_step(
    steps: &[FlowStepSpec],
    i: usize,
    step: &str,
    w_at: &[Seg],
    pending: &mut Vec<Pending>,
) -> Option<usize> {
    let earlier: Vec<&str> = steps[..i].iter().map(|o| o.name.as_str()).collect();
    let found = earlier.iter().position(|n| *n == step);
    if found.is_none() {
        let message = match steps[i..].iter().position(|o| o.name == step) {
            Some(0) => format!("a step cannot depend on itself: `{step}` is this step"),
            Some(k) => {
                format!(
                    "a condition may only name an earlier step, but `{step}` is flow[{}], after this one",
                    i + k
                )
            }
            None if earlier.is_empty() => {
                format!("unknown step `{step}`: the first step has no earlier step to depend on")
            }
            None => unknown_name("step", step, &earlier),
        };
        pending.push(Pending {
            paths: vec![under(w_at, &["step"])],
            anchor: Some(step.to_string()),
            message,
        });
    }
    found
}

/// The rate schedule: `(0, rate)`, then for each entry the current rate at its start and the
/// new rate at its end (the same instant for a step).
pub(crate) fn open(process: ArrivalProcess, rate: f64, schedule: &[ScheduleEntrySpec]) -> Load {
    let mut points = vec![(SimTime::ZERO, rate)];
    let mut current = rate;
    for step in schedule {
        let (start, end, next) = match step {
            ScheduleEntrySpec::Step { at, rate } => (at.ns, at.ns, rate.0),
            ScheduleEntrySpec::Ramp { start, end, rate } => (start.ns, end.ns, rate.0),
        };
        points.push((SimTime(start), current));
        points.push((SimTime(end), next));
        current = next;
    }
    debug_assert!(points.windows(2).all(|w| w[0].0 <= w[1].0), "schedule points sorted: {points:?}");
    Load::Open { process, rate: RateSchedule { points } }
}
