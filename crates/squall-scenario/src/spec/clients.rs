//! Client groups: targets, arrivals, rate schedules and multi-step flows.

use super::*;

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
