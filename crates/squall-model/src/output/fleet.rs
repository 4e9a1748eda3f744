//! What a run reports of fleets, versions, deploys and flows.

use crate::outcome::OutcomeCounts;
use squall_kernel::SimTime;

/// A service's instances over the run: versions, restarts, and version skew.
#[derive(Clone, Debug, Default)]
pub struct FleetOutput {
    /// Per version, in configuration order.
    pub versions: Vec<VersionOutput>,
    /// Instances created after the start (by deploys).
    pub created: u64,
    /// Processes that crashed (faults) or were killed by a failing liveness or startup probe.
    pub crashes: u64,
    /// Of those, processes killed by a failing liveness or startup probe.
    pub probe_kills: u64,
    /// Processes restarted after a crash or a kill.
    pub restarts: u64,
    /// Requests refused because the instance's process was not accepting work (starting,
    /// stopped or gone) while the balancer still sent it requests.
    pub refused_not_accepting: u64,
    /// Time during which the balancers' endpoints held instances of two versions or more, ns.
    pub skew_ns: u64,
    /// Those periods, in order.
    pub skew_windows: Vec<(SimTime, SimTime)>,
    /// Integral of workers whose process accepted work, worker-ns (for utilisation when the
    /// fleet changes).
    pub capacity_integral: u128,
    /// Outlier detection: ejections enforced, in all.
    pub ejections: u64,
    /// Outlier detection: hosts detected as outliers, ejected or not.
    pub ejections_detected: u64,
    /// Outlier detection: detections refused by `max_ejection_percent`.
    pub ejections_overflow: u64,
    /// Active health checking: times an endpoint turned unhealthy.
    pub health_check_failures: u64,
    /// Requests the balancer placed in panic mode (too few healthy endpoints: it used all).
    pub panic_picks: u64,
}

/// One version of a service.
#[derive(Clone, Debug, Default)]
pub struct VersionOutput {
    /// Version name.
    pub name: String,
    /// How requests that instances of this version served or refused ended, at the service.
    pub answers: OutcomeCounts,
    /// Per time bucket.
    pub series: Vec<VersionBucket>,
}

/// One version in one time bucket. Instance counts are as at the end of the bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionBucket {
    /// Instances whose process is starting (or waiting to restart).
    pub starting: u32,
    /// Instances in the balancers' endpoints whose process accepts work.
    pub ready: u32,
    /// Instances up but not in the endpoints (not ready yet, or failing readiness).
    pub not_ready: u32,
    /// Instances terminating.
    pub terminating: u32,
    /// Answers given by instances of this version in the bucket.
    pub answers: u64,
    /// Those that were failures.
    pub errors: u64,
}

/// Logical requests of a client group by the version that gave their final answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedBy {
    /// Service that answered.
    pub service: String,
    /// Its version.
    pub version: String,
    /// How those requests ended.
    pub outcomes: OutcomeCounts,
}

/// A client group's flows.
#[derive(Clone, Debug, Default)]
pub struct FlowOutput {
    /// Flows started.
    pub started: u64,
    /// Flows whose every step succeeded or was skipped.
    pub completed: u64,
    /// Flows a step failed for good.
    pub failed: u64,
    /// Per step, in order.
    pub steps: Vec<FlowStepOutput>,
    /// Ended flows by the version that served each step, sorted.
    pub paths: Vec<FlowPath>,
    /// Per time bucket (by start time for `started`, by end time for the others).
    pub series: Vec<FlowBucket>,
}

/// One step of a flow.
#[derive(Clone, Debug, Default)]
pub struct FlowStepOutput {
    /// Step name.
    pub name: String,
    /// Times the step's request was sent.
    pub run: u64,
    /// Times its condition did not hold.
    pub skipped: u64,
    /// How its requests ended.
    pub outcomes: OutcomeCounts,
}

/// Flows that ended with the same versions serving their steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowPath {
    /// Per step: the version that answered, `skipped`, or `-` (no instance answered, or the
    /// flow ended before the step).
    pub versions: Vec<String>,
    /// Of those, flows completed.
    pub completed: u64,
    /// Flows failed.
    pub failed: u64,
}

/// A flow in one time bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowBucket {
    /// Flows started.
    pub started: u64,
    /// Flows completed.
    pub completed: u64,
    /// Flows failed.
    pub failed: u64,
}

/// One deploy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployOutput {
    /// Its label.
    pub name: String,
    /// Service deployed.
    pub service: String,
    /// Version deployed.
    pub version: String,
    /// `rolling` or `canary`.
    pub strategy: String,
    /// How it ended.
    pub result: DeployResult,
    /// Fewest available pods (ready, for `min_ready`) the controller saw while it acted.
    pub min_available: u32,
    /// Most pods (not terminating) the controller saw while it acted.
    pub max_pods: u32,
    /// What happened, in order: start, steps, pauses, abort, rollback, end.
    pub events: Vec<DeployEvent>,
}

/// How a deploy ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeployResult {
    /// It never started.
    NotStarted,
    /// Still going when the run stopped.
    InProgress,
    /// Every instance runs the new version.
    Completed,
    /// Aborted and rolled back to the previous version.
    RolledBack,
}

impl DeployResult {
    /// A stable lower-case name.
    pub fn name(&self) -> &'static str {
        match self {
            DeployResult::NotStarted => "not_started",
            DeployResult::InProgress => "in_progress",
            DeployResult::Completed => "completed",
            DeployResult::RolledBack => "rolled_back",
        }
    }
}

/// A moment of a deploy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployEvent {
    /// When.
    pub at: SimTime,
    /// What, in a few words (`start`, `weight 20%`, `pause`, `abort: error rate 5.1%`,
    /// `complete`, `stalled`).
    pub what: String,
}
