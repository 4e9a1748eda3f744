//! Workflows: multi-step user flows a client group runs.

use super::{EndpointId, ServiceId};
use squall_kernel::Dist;

/// A user flow: steps in order, each a request, each after a delay. The flow fails when a
/// step fails for good (after the group's policy has retried it) and completes when its last
/// step succeeds or is skipped.
#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// The steps, in order; at least one.
    pub steps: Vec<FlowStep>,
}

/// One step of a flow.
#[derive(Clone, Debug)]
pub struct FlowStep {
    /// Stable name, used in outputs.
    pub name: String,
    /// Service called.
    pub service: ServiceId,
    /// Endpoint called.
    pub endpoint: EndpointId,
    /// Time between the end of the previous step (or the flow's start) and this request.
    pub delay: Dist,
    /// The step runs only if this holds; otherwise it is skipped.
    pub when: FlowCondition,
}

/// A condition on what earlier steps returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowCondition {
    /// Always.
    Always,
    /// An earlier step's answer carried a flag (`set: true`) or did not (`set: false`).
    /// A skipped step carries no flags.
    Flag {
        /// Index of the earlier step.
        step: u32,
        /// Index of the flag in [`super::ModelConfig::flags`].
        flag: u32,
        /// Whether the flag must be set.
        set: bool,
    },
    /// An earlier step was answered by a given version of its service (`is: true`) or not
    /// (`is: false`; a skipped step, or one no instance answered, was served by none).
    ServedBy {
        /// Index of the earlier step.
        step: u32,
        /// Index of the version in the step's service's versions.
        version: u32,
        /// Whether that version must have answered.
        is: bool,
    },
}
