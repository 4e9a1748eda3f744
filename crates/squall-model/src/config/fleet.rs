//! Fleet configuration: how instances start, warm up, stop and restart, the probes an
//! orchestrator runs on them, the versions a service ships, and the deploys that move it
//! from one version to another.

use super::{EndpointConfig, EndpointId, ServiceId};
use squall_kernel::{Dist, SimDuration, SimTime};
pub use squall_policy::{IntOrPercent, OutlierConfig, ProbeConfig};

/// How a service's instances start, warm up, stop and restart (Kubernetes pod semantics).
#[derive(Clone, Debug)]
pub struct Lifecycle {
    /// Time from the creation of an instance (or a restart of its process) until the process
    /// accepts work. Defaults to zero.
    pub startup: Dist,
    /// After the process starts, work is slower for this long: it takes `warmup_factor`
    /// times as long at first, falling linearly to normal. Caches local to the instance start
    /// empty after every start. Defaults to zero (no warm-up).
    pub warmup: SimDuration,
    /// Work multiplier at the start of warm-up (1 is none).
    pub warmup_factor: f64,
    /// `preStop` hook: after termination begins the process keeps serving, new requests
    /// included, for this long before it is told to stop (SIGTERM). Defaults to zero.
    pub pre_stop: SimDuration,
    /// `terminationGracePeriodSeconds` (30 s): from the start of termination, time allowed
    /// for the pre-stop hook and the drain of work in progress; whatever remains then is
    /// killed (`ConnectionReset`).
    pub grace_period: SimDuration,
    /// Back-off between restarts of a crashing process (kubelet's CrashLoopBackOff).
    pub restart: RestartBackoff,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            startup: Dist::Constant(0.0),
            warmup: SimDuration::ZERO,
            warmup_factor: 1.0,
            pre_stop: SimDuration::ZERO,
            grace_period: SimDuration::from_secs(30),
            restart: RestartBackoff::default(),
        }
    }
}

/// kubelet's restart back-off: the delay before restart `n` is `initial · 2^(n-1)` capped at
/// `max`; a process that ran for `reset_after` without crashing starts over at `initial`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RestartBackoff {
    /// First delay (10 s).
    pub initial: SimDuration,
    /// Cap (300 s).
    pub max: SimDuration,
    /// Running this long resets the back-off (600 s).
    pub reset_after: SimDuration,
}

impl Default for RestartBackoff {
    fn default() -> Self {
        RestartBackoff {
            initial: SimDuration::from_secs(10),
            max: SimDuration::from_secs(300),
            reset_after: SimDuration::from_secs(600),
        }
    }
}

impl RestartBackoff {
    /// The delay before the `n`-th restart in a row (`n >= 1`).
    pub fn delay(&self, n: u32) -> SimDuration {
        let shift = n.saturating_sub(1).min(62);
        let d = self.initial.as_nanos().saturating_mul(1u64 << shift);
        SimDuration(d.min(self.max.as_nanos()))
    }
}

/// The probes the orchestrator runs on each instance of a service, and how the service's
/// balancer judges the health of its endpoints.
#[derive(Clone, Debug, Default)]
pub struct Probes {
    /// Failure restarts the process.
    pub liveness: Option<ProbeSpec>,
    /// Failure takes the instance out of load balancing until it passes again. Without a
    /// readiness probe an instance is ready as soon as its process accepts work.
    pub readiness: Option<ProbeSpec>,
    /// Holds the other probes back until it passes; failure restarts the process.
    pub startup: Option<ProbeSpec>,
}

/// Envoy's load-balancer health settings for a service's balancer, which is one view shared
/// by all its callers. The defaults change nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct BalancerHealth {
    /// Passive outlier detection (`outlier_detection`): every answer an instance gives
    /// counts for it, and the balancer skips ejected endpoints. `None` (the default) turns
    /// it off. Not applied to services with a shared queue, which have no balancer.
    pub outlier_detection: Option<OutlierConfig>,
    /// `healthy_panic_threshold`, percent (50): when fewer than this share of the endpoints
    /// are healthy (not ejected), the balancer ignores health and uses all of them. 0 turns
    /// panic mode off (with every endpoint ejected, requests then find `NoEndpoint`).
    pub healthy_panic_threshold: u32,
    /// `slow_start_config.slow_start_window` (`None`, the default, is off): an endpoint's
    /// weight ramps up over this window from when it joins the endpoints (aggression 1.0,
    /// minimum weight 10 %). The fleet present at the start does not ramp. Applies to
    /// `RoundRobin`, `Random` and `LeastOutstanding` balancers only.
    pub slow_start: Option<SimDuration>,
    /// Envoy active health checking (`health_check`): the balancer checks each endpoint
    /// every `interval` and skips those failing. `None` (the default) turns it off.
    pub health_check: Option<HealthCheckConfig>,
}

impl Default for BalancerHealth {
    fn default() -> Self {
        BalancerHealth {
            outlier_detection: None,
            healthy_panic_threshold: 50,
            slow_start: None,
            health_check: None,
        }
    }
}

/// Envoy active health checking (names of `health_check.proto`). A host that joins the
/// endpoints is unhealthy until its first check passes (Envoy marks new hosts as failing
/// active health checks); from then on `unhealthy_threshold` failures in a row make it
/// unhealthy and `healthy_threshold` successes in a row healthy again. A check that takes
/// longer than `timeout` fails.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthCheckConfig {
    /// What a check depends on, as for probes.
    pub check: ProbeCheck,
    /// `interval` between checks of a host.
    pub interval: SimDuration,
    /// `timeout` of one check.
    pub timeout: SimDuration,
    /// `unhealthy_threshold`: failures in a row that make a healthy host unhealthy.
    pub unhealthy_threshold: u32,
    /// `healthy_threshold`: successes in a row that make an unhealthy host healthy again.
    pub healthy_threshold: u32,
}

/// One probe: what it checks, and Kubernetes timing and thresholds.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeSpec {
    /// What an answer depends on.
    pub check: ProbeCheck,
    /// `initialDelaySeconds`, `periodSeconds`, `timeoutSeconds`, thresholds.
    pub config: ProbeConfig,
}

/// What a probe checks.
#[derive(Clone, Debug, PartialEq)]
pub enum ProbeCheck {
    /// The process answers (it is up and not stopped).
    Process,
    /// The process answers and a call to a dependency's endpoint succeeds within the probe's
    /// timeout (the call goes out with no client policy).
    Dependency {
        /// Service called.
        service: ServiceId,
        /// Endpoint called.
        endpoint: EndpointId,
    },
    /// The process answers and its queue holds fewer than this many requests.
    QueueBelow(u32),
}

/// One version of a service: what each endpoint does in it.
#[derive(Clone, Debug)]
pub struct VersionConfig {
    /// Stable name, such as `v2`.
    pub name: String,
    /// Indexed by [`EndpointId`]: the endpoint as this version serves it, or `None` if this
    /// version does not have it (requests for it fail with `Unsupported`).
    pub endpoints: Vec<Option<EndpointConfig>>,
}

/// A change of a service's version, rolled out over time.
#[derive(Clone, Debug)]
pub struct DeployConfig {
    /// Label in outputs and plots.
    pub name: String,
    /// Service deployed.
    pub service: ServiceId,
    /// Index of the version deployed in the service's versions.
    pub version: u32,
    /// When it starts.
    pub trigger: DeployTrigger,
    /// How it proceeds.
    pub strategy: DeployStrategy,
}

/// When a deploy starts.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DeployTrigger {
    /// At a time.
    At(SimTime),
    /// When another deploy (an index into the deploys) completes, after a delay. A deploy
    /// that never completes (aborted, or still running at the end) never triggers it.
    After {
        /// The deploy waited for.
        deploy: u32,
        /// Time between its completion and this start.
        delay: SimDuration,
    },
}

/// How a deploy replaces instances.
#[derive(Clone, Debug, PartialEq)]
pub enum DeployStrategy {
    /// A Kubernetes Deployment's `RollingUpdate`.
    Rolling(RollingParams),
    /// An Argo Rollouts canary: steps of weights and pauses, with optional analysis.
    Canary(CanaryParams),
    /// An Argo Rollouts blue-green: a full preview set, then a switch of all traffic.
    BlueGreen(BlueGreenParams),
}

/// Argo Rollouts blue-green parameters (names and defaults of the API).
#[derive(Clone, Debug, PartialEq)]
pub struct BlueGreenParams {
    /// `autoPromotionSeconds`: once the preview is fully available, wait this long before
    /// the switch (zero: switch at once).
    pub auto_promotion: SimDuration,
    /// `scaleDownDelaySeconds` (30 s): the old version stays up this long after the switch,
    /// and a failed analysis can switch back to it meanwhile.
    pub scale_down_delay: SimDuration,
    /// `abortScaleDownDelaySeconds` (30 s): after an abort, the new version is scaled down
    /// this long later.
    pub abort_scale_down_delay: SimDuration,
    /// Post-promotion analysis of the new version's answers, from the switch until the old
    /// version is scaled down; failure switches back.
    pub analysis: Option<AnalysisConfig>,
}

impl Default for BlueGreenParams {
    fn default() -> Self {
        BlueGreenParams {
            auto_promotion: SimDuration::ZERO,
            scale_down_delay: SimDuration::from_secs(30),
            abort_scale_down_delay: SimDuration::from_secs(30),
            analysis: None,
        }
    }
}

/// `RollingUpdate` parameters (Kubernetes names and defaults).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RollingParams {
    /// `maxSurge` (25 %, rounded up).
    pub max_surge: IntOrPercent,
    /// `maxUnavailable` (25 %, rounded down).
    pub max_unavailable: IntOrPercent,
    /// `minReadySeconds` (0).
    pub min_ready: SimDuration,
    /// `progressDeadlineSeconds` (600 s): a rollout that makes no progress for this long is
    /// reported as stalled (Kubernetes does not roll back by itself).
    pub progress_deadline: SimDuration,
}

impl Default for RollingParams {
    fn default() -> Self {
        RollingParams {
            max_surge: IntOrPercent::Percent(25),
            max_unavailable: IntOrPercent::Percent(25),
            min_ready: SimDuration::ZERO,
            progress_deadline: SimDuration::from_secs(600),
        }
    }
}

/// An Argo Rollouts canary.
#[derive(Clone, Debug, PartialEq)]
pub struct CanaryParams {
    /// The steps, in order.
    pub steps: Vec<CanaryStepConfig>,
    /// `trafficRouting`: weights are enforced by the balancer (the canary gets exactly its
    /// weight of requests) instead of by replica counts.
    pub traffic_routing: bool,
    /// Background analysis over the whole canary: on failure the rollout aborts and goes
    /// back to the stable version.
    pub analysis: Option<AnalysisConfig>,
}

/// One canary step.
#[derive(Clone, Debug, PartialEq)]
pub enum CanaryStepConfig {
    /// `setWeight`: percent of traffic (or replicas) on the canary.
    SetWeight(u32),
    /// `pause`: for a duration, or (`None`) until the end of the run.
    Pause(Option<SimDuration>),
}

/// Analysis of the canary's answers: every `interval`, a measurement over the answers its
/// instances gave since the last one.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalysisConfig {
    /// Time between measurements (`interval`).
    pub interval: SimDuration,
    /// Measurements that may fail before the analysis fails (`failureLimit`, 0).
    pub failure_limit: u32,
    /// Highest error share a measurement may show (errors / answers), if checked.
    pub max_error_rate: Option<f64>,
    /// Highest p99 latency of successful answers a measurement may show, if checked.
    pub max_p99: Option<SimDuration>,
    /// Fewest answers a measurement needs; fewer make it inconclusive (counted neither way).
    pub min_samples: u32,
}
