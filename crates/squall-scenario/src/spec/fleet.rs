//! The fleet: instance lifecycle and restarts, probes, and deploys (rolling, canary with
//! its steps and analysis, blue-green).

use super::*;

use std::collections::BTreeSet;

use squall_kernel::SimTime;
use squall_model::{
    AnalysisConfig, BlueGreenParams, CanaryParams, CanaryStepConfig, DeployConfig, DeployStrategy,
    DeployTrigger, IntOrPercent, Lifecycle, ProbeCheck, ProbeConfig, Probes, RestartBackoff, RollingParams,
    ServiceConfig, ServiceId,
};

use crate::build::{duration_of, id_of, index, key, problem, u32_of, under, Pending};
use crate::error::{unknown_name, unknown_name_in};
use crate::locate::Seg;

/// The reference section "Lifecycle and probes".
pub(crate) const LIFECYCLE_DOC: Section = (
    "Lifecycle and probes",
    "How instances start, warm up, stop and restart, and the probes an orchestrator runs on them, with Kubernetes' semantics and defaults. The three probes share one shape, documented as `probe`.",
    &[
        f("services.*.lifecycle", "struct", "`(startup: Constant(\"0s\"), warmup: \"0s\", warmup_factor: 1.0, pre_stop: \"0s\", grace_period: \"30s\", restart: (...))`", "How the service's instances start, warm up, stop and restart."),
        f("services.*.lifecycle.startup", "distribution", "`Constant(\"0s\")`", "Time from the creation of an instance (or a restart of its process) until the process accepts work. See `dist`."),
        f("services.*.lifecycle.warmup", "duration", LIFECYCLE_WARMUP_DEFAULT, "After the process starts, work is slower for this long: it takes `warmup_factor` times as long at first, falling linearly to normal. Caches local to the instance start empty after every start."),
        f("services.*.lifecycle.warmup_factor", "number, 1 to 1000000", WARMUP_FACTOR_DEFAULT, "Work multiplier at the start of warm-up; 1 is none. Above 1 it needs a `warmup`."),
        f("services.*.lifecycle.pre_stop", "duration", LIFECYCLE_PRE_STOP_DEFAULT, "The `preStop` hook: after termination begins the process keeps serving, new requests included, for this long before it is told to stop (SIGTERM)."),
        f("services.*.lifecycle.grace_period", "duration", GRACE_PERIOD_DEFAULT, "`terminationGracePeriodSeconds`: from the start of termination, time allowed for `pre_stop` and the drain of the work in progress; whatever remains then is killed (`ConnectionReset`)."),
        f("services.*.lifecycle.restart", "struct", "`(initial: \"10s\", max: \"300s\", reset_after: \"600s\")`", "kubelet's crash-loop back-off: the delay before the n-th restart in a row is `initial * 2^(n-1)`, at most `max`."),
        f("services.*.lifecycle.restart.initial", "duration, > 0", RESTART_INITIAL_DEFAULT, "First delay."),
        f("services.*.lifecycle.restart.max", "duration, >= `initial`", RESTART_MAX_DEFAULT, "Largest delay."),
        f("services.*.lifecycle.restart.reset_after", "duration, > 0", RESET_AFTER_DEFAULT, "A process that ran this long without crashing starts over at `initial`."),
        f("services.*.probes", "struct", "`(liveness: None, readiness: None, startup: None)`", "Probes the orchestrator runs on each instance. See `probe`."),
        f("services.*.probes.liveness", "probe, or `None`", "`None`", "Failure restarts the process. Its `success_threshold` must be 1."),
        f("services.*.probes.readiness", "probe, or `None`", "`None`", "Failure takes the instance out of load balancing until it passes again. Without one, an instance is ready as soon as its process accepts work."),
        f("services.*.probes.startup", "probe, or `None`", "`None`", "Holds the other probes back until it passes; failure restarts the process. Its `success_threshold` must be 1."),
        f("probe.check", "`Process`, `Dependency(...)`, or `QueueBelow(...)`", "`Process`", "What an answer depends on. `Process`: the process answers (it is up and not stopped)."),
        f("probe.check.Dependency", "struct variant", "", "The process answers and a call to a dependency's endpoint succeeds within the probe's `timeout`, with no client policy: `Dependency(service: \"cache\", endpoint: \"get\")`."),
        f("probe.check.Dependency.service", "service name", REQ, "Service called."),
        f("probe.check.Dependency.endpoint", "endpoint name", REQ, "Endpoint called, of that service."),
        f("probe.check.QueueBelow", "integer, 1 to 4294967295", "", "The process answers and its queue holds fewer than this many requests: `QueueBelow(100)`."),
        f("probe.initial_delay", "duration", PROBE_INITIAL_DELAY_DEFAULT, "`initialDelaySeconds`: probes earlier than this after the process starts are skipped."),
        f("probe.period", "duration, > 0", PROBE_PERIOD_DEFAULT, "`periodSeconds`: time between probes."),
        f("probe.timeout", "duration, > 0", PROBE_TIMEOUT_DEFAULT, "`timeoutSeconds`: a probe that takes longer fails."),
        f("probe.success_threshold", "integer, 1 to 4294967295", PROBE_SUCCESS_THRESHOLD_DEFAULT, "`successThreshold`: successes in a row that make the probe pass. Must be 1 for liveness and startup probes, as Kubernetes requires."),
        f("probe.failure_threshold", "integer, 1 to 4294967295", PROBE_FAILURE_THRESHOLD_DEFAULT, "`failureThreshold`: failures in a row that make the probe fail."),
    ],
);

/// `lifecycle: (startup: Constant("20s"), warmup: "30s", warmup_factor: 3.0, ...)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Lifecycle",
    expecting = "a lifecycle, as in (startup: Constant(\"20s\"), warmup: \"30s\", warmup_factor: 3.0, pre_stop: \"5s\", grace_period: \"30s\")",
    deny_unknown_fields
)]
pub(crate) struct LifecycleSpec {
    #[serde(default = "default_startup")]
    pub startup: DistField,
    #[serde(default = "default_lifecycle_warmup")]
    pub warmup: Dur,
    #[serde(default = "no_slowdown")]
    pub warmup_factor: SlowFactor,
    #[serde(default = "default_lifecycle_pre_stop")]
    pub pre_stop: Dur,
    #[serde(default = "default_grace_period")]
    pub grace_period: Dur,
    #[serde(default)]
    pub restart: RestartSpec,
}

default_value!(LIFECYCLE_WARMUP_DEFAULT, fn default_lifecycle_warmup() -> Dur = dur "0s");
default_value!(LIFECYCLE_PRE_STOP_DEFAULT, fn default_lifecycle_pre_stop() -> Dur = dur "0s");

impl Default for LifecycleSpec {
    fn default() -> Self {
        LifecycleSpec {
            startup: default_startup(),
            warmup: default_lifecycle_warmup(),
            warmup_factor: no_slowdown(),
            pre_stop: default_lifecycle_pre_stop(),
            grace_period: default_grace_period(),
            restart: RestartSpec::default(),
        }
    }
}

default_value!(WARMUP_FACTOR_DEFAULT, fn no_slowdown() -> SlowFactor = SlowFactor(1.0));

default_value!(GRACE_PERIOD_DEFAULT, fn default_grace_period() -> Dur = dur "30s");

/// `restart: (initial: "10s", max: "300s", reset_after: "600s")`: kubelet's crash-loop back-off.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Restart",
    expecting = "a restart back-off, as in (initial: \"10s\", max: \"300s\", reset_after: \"600s\")",
    deny_unknown_fields
)]
pub(crate) struct RestartSpec {
    #[serde(default = "default_restart_initial")]
    pub initial: PosDur,
    #[serde(default = "default_restart_max")]
    pub max: PosDur,
    #[serde(default = "default_reset_after")]
    pub reset_after: PosDur,
}

default_value!(RESTART_INITIAL_DEFAULT, fn default_restart_initial() -> PosDur = PosDur(dur "10s"));

impl Default for RestartSpec {
    fn default() -> Self {
        RestartSpec {
            initial: default_restart_initial(),
            max: default_restart_max(),
            reset_after: default_reset_after(),
        }
    }
}

default_value!(RESTART_MAX_DEFAULT, fn default_restart_max() -> PosDur = PosDur(dur "300s"));

default_value!(RESET_AFTER_DEFAULT, fn default_reset_after() -> PosDur = PosDur(dur "600s"));

/// `probes: (liveness: (...), readiness: (...), startup: (...))`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(
    rename = "Probes",
    expecting = "probes, as in (liveness: (check: Process), readiness: (check: QueueBelow(100)))",
    deny_unknown_fields
)]
pub(crate) struct ProbesSpec {
    #[serde(default)]
    pub liveness: Option<ProbeSpec>,
    #[serde(default)]
    pub readiness: Option<ProbeSpec>,
    #[serde(default)]
    pub startup: Option<ProbeSpec>,
}

/// One probe: `(check: Process, initial_delay: "0s", period: "10s", timeout: "1s", ...)`.
/// Zero periods and timeouts are refused while reading; the thresholds a probe kind
/// requires are checked when building, where the kind is known.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Probe",
    expecting = "a probe, as in (check: Process, period: \"10s\", timeout: \"1s\", failure_threshold: 3)",
    deny_unknown_fields
)]
pub(crate) struct ProbeSpec {
    #[serde(default)]
    pub check: ProbeCheckSpec,
    #[serde(default = "default_probe_initial_delay")]
    pub initial_delay: Dur,
    #[serde(default = "default_probe_period")]
    pub period: PosDur,
    #[serde(default = "default_probe_timeout")]
    pub timeout: PosDur,
    #[serde(default = "default_probe_success_threshold")]
    pub success_threshold: Count<1, U32_MAX>,
    #[serde(default = "default_probe_failure_threshold")]
    pub failure_threshold: Count<1, U32_MAX>,
}

default_value!(PROBE_INITIAL_DELAY_DEFAULT, fn default_probe_initial_delay() -> Dur = dur "0s");
default_value!(PROBE_PERIOD_DEFAULT, fn default_probe_period() -> PosDur = PosDur(dur "10s"));
default_value!(PROBE_TIMEOUT_DEFAULT, fn default_probe_timeout() -> PosDur = PosDur(dur "1s"));
default_value!(PROBE_SUCCESS_THRESHOLD_DEFAULT, fn default_probe_success_threshold() -> Count<1, U32_MAX> = Count(1));
default_value!(PROBE_FAILURE_THRESHOLD_DEFAULT, fn default_probe_failure_threshold() -> Count<1, U32_MAX> = Count(3));

/// What a probe checks.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(
    rename = "ProbeCheck",
    expecting = "a probe check: Process, Dependency(service: ..., endpoint: ...) or QueueBelow(...)",
    deny_unknown_fields
)]
pub(crate) enum ProbeCheckSpec {
    #[default]
    Process,
    Dependency {
        service: String,
        endpoint: String,
    },
    QueueBelow(Count<1, U32_MAX>),
}

/// The reference section "Deploys".
pub(crate) const DEPLOYS_DOC: Section = (
    "Deploys",
    "`deploys` lists changes of a service's version, each rolled out over time, in the order declared.\n\n\
     ```ron\n\
     deploys: [\n\
     \x20   (name: \"v2\", service: \"web\", version: \"v2\", at: \"10m\", strategy: Rolling(max_surge: 1, max_unavailable: 0)),\n\
     \x20   (name: \"v3\", service: \"web\", version: \"v3\", after: \"v2\", delay: \"1m\", strategy: Canary(steps: [SetWeight(20), Pause(\"10m\"), SetWeight(100)])),\n\
     ],\n\
     ```",
    &[
        f("deploys", "list of deploys", "`[]`", "Deploys during the run."),
        f("deploys[*].name", "string, not empty", REQ, "Label in outputs and plots, and the name `after` refers to. Deploys must have distinct names."),
        f("deploys[*].service", "service name", REQ, "Service deployed."),
        f("deploys[*].version", "version name", REQ, "Version deployed, one of the service's `versions` (`v1` for a service without them)."),
        f("deploys[*].at", "duration, or `None`", "required unless `after` is given", "When the deploy starts. Not with `after`."),
        f("deploys[*].after", "deploy name, or `None`", "`None`", "Start when this other deploy completes (plus `delay`) instead of at a time; one that never completes (aborted, or still running at the end) never starts this one. No deploy may wait for itself, directly or through others. Not with `at`."),
        f("deploys[*].delay", "duration, or `None`", "`None` (`\"0s\"`)", "With `after`: time between the other deploy's completion and this start."),
        f("deploys[*].strategy", "`Rolling(...)`, `Canary(...)` or `BlueGreen(...)`", "`Rolling()`", "How the deploy replaces instances."),
        f("deploys[*].strategy.Rolling", "struct variant", "", "A Kubernetes Deployment's `RollingUpdate`: `Rolling(max_surge: 1, max_unavailable: 0, min_ready: \"10s\")`."),
        f("deploys[*].strategy.Rolling.max_surge", "integer, or percentage string `\"0%\"` to `\"100%\"`", "`\"25%\"`", "`maxSurge`: instances above `replicas` during the rollout, a percentage rounded up."),
        f("deploys[*].strategy.Rolling.max_unavailable", "integer, or percentage string `\"0%\"` to `\"100%\"`", "`\"25%\"`", "`maxUnavailable`: instances below `replicas` during the rollout, a percentage rounded down. Not 0 when `max_surge` is 0, as Kubernetes requires."),
        f("deploys[*].strategy.Rolling.min_ready", "duration", ROLLING_MIN_READY_DEFAULT, "`minReadySeconds`: time a new instance must stay ready before it counts as available."),
        f("deploys[*].strategy.Rolling.progress_deadline", "duration, > 0", PROGRESS_DEADLINE_DEFAULT, "`progressDeadlineSeconds`: a rollout that makes no progress for this long is reported as stalled (Kubernetes does not roll back by itself)."),
        f("deploys[*].strategy.Canary", "struct variant", "", "An Argo Rollouts canary: `Canary(steps: [SetWeight(20), Pause(\"10m\"), SetWeight(100)], traffic_routing: true, analysis: (...))`."),
        f("deploys[*].strategy.Canary.steps", "list of `SetWeight(...)` or `Pause(...)`", "`[]`", "The steps, in order; after the last one the canary is promoted."),
        f("deploys[*].strategy.Canary.steps[*].SetWeight", "integer, 0 to 100", "", "`setWeight`: percent of the traffic (or of the replicas) on the new version."),
        f("deploys[*].strategy.Canary.steps[*].Pause", "duration, or nothing", "", "`pause`: `Pause(\"10m\")` waits that long; `Pause()` waits until the end of the run."),
        f("deploys[*].strategy.Canary.traffic_routing", "bool", "`false`", "`trafficRouting`: the balancer sends the canary exactly its weight of the requests, instead of the weight following from replica counts."),
        f("deploys[*].strategy.Canary.analysis", "struct, or `None`", "`None`", "Background analysis over the whole canary: every `interval`, a measurement of the answers the canary's instances gave since the last one; when more than `failure_limit` measurements fail, the rollout aborts and goes back to the stable version. It must check `max_error_rate`, `max_p99` or both."),
        f("deploys[*].strategy.Canary.analysis.interval", "duration, > 0", ANALYSIS_INTERVAL_DEFAULT, "Time between measurements (`interval`)."),
        f("deploys[*].strategy.Canary.analysis.failure_limit", "integer, 0 to 4294967295", "`0`", "Failed measurements allowed before the analysis fails (`failureLimit`)."),
        f("deploys[*].strategy.Canary.analysis.max_error_rate", "number 0 to 1, or `None`", "`None`", "Highest share of errors among the answers a measurement may show."),
        f("deploys[*].strategy.Canary.analysis.max_p99", "duration > 0, or `None`", "`None`", "Highest p99 latency of successful answers a measurement may show."),
        f("deploys[*].strategy.Canary.analysis.min_samples", "integer, 1 to 4294967295", ANALYSIS_MIN_SAMPLES_DEFAULT, "Fewest answers a measurement needs; fewer make it inconclusive (counted neither way)."),
        f("deploys[*].strategy.BlueGreen", "struct variant", "", "An Argo Rollouts blue-green: a full set of the new version comes up as a preview that receives no traffic; once it is available, all traffic switches to it; the old version stays up for `scale_down_delay`, and a failed analysis meanwhile switches back: `BlueGreen(scale_down_delay: \"5m\", analysis: (...))`."),
        f("deploys[*].strategy.BlueGreen.auto_promotion", "duration", BLUE_GREEN_AUTO_PROMOTION_DEFAULT, "`autoPromotionSeconds`: wait this long after the preview is available before the switch (0: at once)."),
        f("deploys[*].strategy.BlueGreen.scale_down_delay", "duration", BLUE_GREEN_SCALE_DOWN_DELAY_DEFAULT, "`scaleDownDelaySeconds`: the old version stays up this long after the switch."),
        f("deploys[*].strategy.BlueGreen.abort_scale_down_delay", "duration", BLUE_GREEN_ABORT_SCALE_DOWN_DELAY_DEFAULT, "`abortScaleDownDelaySeconds`: after an abort, the new version is scaled down this long later."),
        f("deploys[*].strategy.BlueGreen.analysis", "struct, or `None`", "`None`", "Post-promotion analysis of the new version's answers, from the switch until the old version is scaled down; written as the canary's `analysis`, whose fields it shares. A failure switches all traffic back."),
        f("deploys[*].strategy.BlueGreen.analysis.interval", "duration, > 0", ANALYSIS_INTERVAL_DEFAULT, "As in the canary's analysis."),
        f("deploys[*].strategy.BlueGreen.analysis.failure_limit", "integer, 0 to 4294967295", "`0`", "As in the canary's analysis."),
        f("deploys[*].strategy.BlueGreen.analysis.max_error_rate", "number 0 to 1, or `None`", "`None`", "As in the canary's analysis."),
        f("deploys[*].strategy.BlueGreen.analysis.max_p99", "duration > 0, or `None`", "`None`", "As in the canary's analysis."),
        f("deploys[*].strategy.BlueGreen.analysis.min_samples", "integer, 1 to 4294967295", ANALYSIS_MIN_SAMPLES_DEFAULT, "As in the canary's analysis."),
    ],
);

/// `(name: "v2", service: "web", version: "v2", at: "10m", strategy: Rolling(...))`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Deploy",
    expecting = "a deploy, as in (name: \"v2\", service: \"web\", version: \"v2\", at: \"10m\", strategy: Rolling())",
    deny_unknown_fields
)]
pub(crate) struct DeploySpec {
    pub name: Label,
    pub service: String,
    pub version: String,
    #[serde(default)]
    pub at: Option<Dur>,
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub delay: Option<Dur>,
    #[serde(default)]
    pub strategy: StrategySpec,
}

/// How a deploy replaces instances.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Strategy",
    expecting = "a deploy strategy: Rolling(max_surge: ..., max_unavailable: ...), Canary(steps: [...]) or BlueGreen(...)",
    deny_unknown_fields
)]
pub(crate) enum StrategySpec {
    Rolling {
        #[serde(default = "quarter")]
        max_surge: IntOrPercentSpec,
        #[serde(default = "quarter")]
        max_unavailable: IntOrPercentSpec,
        #[serde(default = "default_rolling_min_ready")]
        min_ready: Dur,
        #[serde(default = "default_progress_deadline")]
        progress_deadline: PosDur,
    },
    Canary {
        #[serde(default)]
        steps: Vec<CanaryStepSpec>,
        #[serde(default)]
        traffic_routing: bool,
        #[serde(default)]
        analysis: Option<AnalysisSpec>,
    },
    BlueGreen {
        #[serde(default = "default_blue_green_auto_promotion")]
        auto_promotion: Dur,
        #[serde(default = "default_blue_green_scale_down_delay")]
        scale_down_delay: Dur,
        #[serde(default = "default_blue_green_abort_scale_down_delay")]
        abort_scale_down_delay: Dur,
        #[serde(default)]
        analysis: Option<AnalysisSpec>,
    },
}

default_value!(ROLLING_MIN_READY_DEFAULT, fn default_rolling_min_ready() -> Dur = dur "0s");
default_value!(BLUE_GREEN_AUTO_PROMOTION_DEFAULT, fn default_blue_green_auto_promotion() -> Dur = dur "0s");
default_value!(BLUE_GREEN_SCALE_DOWN_DELAY_DEFAULT, fn default_blue_green_scale_down_delay() -> Dur = dur "30s");
default_value!(BLUE_GREEN_ABORT_SCALE_DOWN_DELAY_DEFAULT, fn default_blue_green_abort_scale_down_delay() -> Dur = dur "30s");

impl Default for StrategySpec {
    fn default() -> Self {
        StrategySpec::Rolling {
            max_surge: quarter(),
            max_unavailable: quarter(),
            min_ready: default_rolling_min_ready(),
            progress_deadline: default_progress_deadline(),
        }
    }
}

fn quarter() -> IntOrPercentSpec {
    IntOrPercentSpec::Percent(25)
}

default_value!(PROGRESS_DEADLINE_DEFAULT, fn default_progress_deadline() -> PosDur = PosDur(dur "600s"));

/// One canary step: `SetWeight(20)`, `Pause("10m")`, or `Pause()` (until the end of the run).
///
/// `Pause()` is not a newtype with nothing inside as far as ron is concerned, so `Pause` is
/// read as a tuple of at most one duration from the file, and as a newtype (a duration, or
/// null, `{}` or `[]` for none) from the JSON tree overrides edit: see [`reading_tree`].
#[derive(Clone, Debug, Serialize)]
#[serde(rename = "CanaryStep")]
pub(crate) enum CanaryStepSpec {
    SetWeight(Count<0, 100>),
    Pause(Option<Dur>),
}

thread_local! {
    /// Whether the spec being read is the JSON tree of overrides rather than the file.
    static READING_TREE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` (which reads a spec back from the JSON tree) with [`CanaryStepSpec`] reading
/// `Pause` in the tree's form.
pub(crate) fn reading_tree<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            READING_TREE.with(|r| r.set(self.0));
        }
    }
    let _reset = Reset(READING_TREE.with(|r| r.replace(true)));
    f()
}

const CANARY_STEPS: &[&str] = &["SetWeight", "Pause"];

impl<'de> Deserialize<'de> for CanaryStepSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_enum("CanaryStep", CANARY_STEPS, CanaryStepVisitor)
    }
}

struct CanaryStepVisitor;

#[derive(Deserialize)]
#[serde(rename = "CanaryStep")]
enum CanaryStepTag {
    SetWeight,
    Pause,
}

impl<'de> Visitor<'de> for CanaryStepVisitor {
    type Value = CanaryStepSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a canary step: SetWeight(<percent>), Pause(\"<duration>\") or Pause()")
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        use de::VariantAccess as _;
        let (tag, variant) = data.variant::<CanaryStepTag>()?;
        match tag {
            CanaryStepTag::SetWeight => variant.newtype_variant().map(CanaryStepSpec::SetWeight),
            CanaryStepTag::Pause if READING_TREE.with(std::cell::Cell::get) => {
                variant.newtype_variant::<PauseArg>().map(|p| CanaryStepSpec::Pause(p.0))
            }
            CanaryStepTag::Pause => {
                variant.tuple_variant(1, PauseArgVisitor).map(|p| CanaryStepSpec::Pause(p.0))
            }
        }
    }
}

/// What `Pause` holds: a duration, or none (until the end of the run).
struct PauseArg(Option<Dur>);

impl<'de> Deserialize<'de> for PauseArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PauseArgVisitor)
    }
}

struct PauseArgVisitor;

impl<'de> Visitor<'de> for PauseArgVisitor {
    type Value = PauseArg;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration, as in Pause(\"10m\"), or nothing, as in Pause() (until the end of the run)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<PauseArg, E> {
        DurVisitor.visit_str(v).map(|d| PauseArg(Some(d)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<PauseArg, E> {
        DurVisitor.visit_u64(v).map(|d| PauseArg(Some(d)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<PauseArg, E> {
        DurVisitor.visit_i64(v).map(|d| PauseArg(Some(d)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<PauseArg, E> {
        DurVisitor.visit_f64(v).map(|d| PauseArg(Some(d)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<PauseArg, E> {
        Ok(PauseArg(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<PauseArg, E> {
        Ok(PauseArg(None))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<PauseArg, A::Error> {
        let first = seq.next_element::<Dur>()?;
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("a pause takes at most one duration, as in Pause(\"10m\")"));
        }
        Ok(PauseArg(first))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PauseArg, A::Error> {
        // `Pause()` in an override reads as a struct with every field at its default.
        if map.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("a pause takes a duration, as in Pause(\"10m\"), or nothing"));
        }
        Ok(PauseArg(None))
    }
}

/// `analysis: (interval: "1m", failure_limit: 0, max_error_rate: 0.01, max_p99: "200ms", min_samples: 20)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Analysis",
    expecting = "a canary analysis, as in (interval: \"1m\", max_error_rate: 0.01, max_p99: \"200ms\")",
    deny_unknown_fields
)]
pub(crate) struct AnalysisSpec {
    #[serde(default = "default_analysis_interval")]
    pub interval: PosDur,
    #[serde(default)]
    pub failure_limit: Count<0, U32_MAX>,
    #[serde(default)]
    pub max_error_rate: Option<Fraction>,
    #[serde(default)]
    pub max_p99: Option<PosDur>,
    #[serde(default = "default_analysis_min_samples")]
    pub min_samples: Count<1, U32_MAX>,
}

default_value!(ANALYSIS_INTERVAL_DEFAULT, fn default_analysis_interval() -> PosDur = PosDur(dur "60s"));
default_value!(ANALYSIS_MIN_SAMPLES_DEFAULT, fn default_analysis_min_samples() -> Count<1, U32_MAX> = Count(1));

/// Kubernetes `IntOrString` for `maxSurge` and `maxUnavailable`: a count (`1`) or a
/// percentage of the replicas (`"25%"`, at most 100 %).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntOrPercentSpec {
    Int(u32),
    Percent(u32),
}

impl IntOrPercentSpec {
    pub fn is_zero(self) -> bool {
        matches!(self, IntOrPercentSpec::Int(0) | IntOrPercentSpec::Percent(0))
    }
}

impl WholeNumber for IntOrPercentSpec {
    const MIN: u64 = 0;
    const MAX: u64 = U32_MAX;

    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        let n = in_range(v, Self::MIN, Self::MAX)?;
        Ok(IntOrPercentSpec::Int(u32::try_from(n).expect("bounded by u32")))
    }

    fn expecting(f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number of instances, as in 1, or a percentage of the replicas, as in \"25%\"")
    }

    fn from_text<E: de::Error>(v: &str, _: &dyn de::Expected) -> Result<Self, E> {
        let bad = || {
            E::custom(format!(
                "expected a whole number of instances, as in 1, or a percentage from \"0%\" to \"100%\", got \"{v}\""
            ))
        };
        let digits = v.trim().strip_suffix('%').ok_or_else(bad)?.trim();
        let p: u32 = digits.parse().map_err(|_| bad())?;
        if p > 100 {
            return Err(bad());
        }
        Ok(IntOrPercentSpec::Percent(p))
    }
}

impl<'de> Deserialize<'de> for IntOrPercentSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        NumberVisitor::read(d)
    }
}

impl Serialize for IntOrPercentSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrPercentSpec::Int(n) => s.serialize_u32(*n),
            IntOrPercentSpec::Percent(p) => s.serialize_str(&format!("{p}%")),
        }
    }
}

// Building: checks across fields and entities, and the conversion to the model's
// configuration.

pub(crate) fn lifecycle(l: &LifecycleSpec, at: &[Seg], pending: &mut Vec<Pending>) -> Lifecycle {
    if l.warmup_factor.0 > 1.0 && l.warmup.ns == 0 {
        problem(
            pending,
            under(at, &["warmup_factor"]),
            format!(
                "warmup_factor ({}) has no effect with a warmup of \"{}\": work would be at normal speed at once; \
                 give a warmup",
                l.warmup_factor.0, l.warmup.text
            ),
        );
    }
    let r = &l.restart;
    if r.max.0.ns < r.initial.0.ns {
        problem(
            pending,
            under(at, &["restart", "max"]),
            format!(
                "max (\"{}\") must not be below initial (\"{}\"): every delay is at most max",
                r.max.0.text, r.initial.0.text
            ),
        );
    }
    Lifecycle {
        startup: l.startup.dist.clone(),
        warmup: duration_of(&l.warmup),
        warmup_factor: l.warmup_factor.0,
        pre_stop: duration_of(&l.pre_stop),
        grace_period: duration_of(&l.grace_period),
        restart: RestartBackoff {
            initial: duration_of(&r.initial.0),
            max: duration_of(&r.max.0),
            reset_after: duration_of(&r.reset_after.0),
        },
    }
}

pub(crate) fn probes(spec: &ScenarioSpec, p: &ProbesSpec, at: &[Seg], pending: &mut Vec<Pending>) -> Probes {
    let mut one = |kind: &str, probe_spec: &Option<ProbeSpec>| {
        probe_spec.as_ref().and_then(|ps| probe(spec, kind, ps, &under(at, &[kind]), pending))
    };
    Probes {
        liveness: one("liveness", &p.liveness),
        readiness: one("readiness", &p.readiness),
        startup: one("startup", &p.startup),
    }
}

/// One probe; `None` when its dependency does not resolve.
pub(crate) fn probe(
    spec: &ScenarioSpec,
    kind: &str,
    p: &ProbeSpec,
    at: &[Seg],
    pending: &mut Vec<Pending>,
) -> Option<squall_model::ProbeSpec> {
    if kind != "readiness" && p.success_threshold.0 != 1 {
        problem(
            pending,
            under(at, &["success_threshold"]),
            format!(
                "must be 1 for a {kind} probe, as Kubernetes requires, got {}: only a readiness probe may \
                 wait for several successes",
                p.success_threshold.0
            ),
        );
    }
    let check = probe_check(spec, &p.check, at, pending)?;
    Some(squall_model::ProbeSpec {
        check,
        config: ProbeConfig {
            initial_delay_seconds: duration_of(&p.initial_delay),
            period_seconds: duration_of(&p.period.0),
            timeout_seconds: duration_of(&p.timeout.0),
            success_threshold: u32_of(p.success_threshold.0, "success_threshold"),
            failure_threshold: u32_of(p.failure_threshold.0, "failure_threshold"),
        },
    })
}

/// What a probe or a health check checks; `None` when its dependency does not resolve.
pub(crate) fn probe_check(
    spec: &ScenarioSpec,
    c: &ProbeCheckSpec,
    at: &[Seg],
    pending: &mut Vec<Pending>,
) -> Option<ProbeCheck> {
    Some(match c {
        ProbeCheckSpec::Process => ProbeCheck::Process,
        ProbeCheckSpec::Dependency { service, endpoint } => {
            let (service, endpoint) =
                resolve(spec, service, endpoint, &under(at, &["check", "Dependency"]), pending)?;
            ProbeCheck::Dependency { service, endpoint }
        }
        ProbeCheckSpec::QueueBelow(n) => ProbeCheck::QueueBelow(u32_of(n.0, "QueueBelow")),
    })
}

pub(crate) fn int_or_percent(v: IntOrPercentSpec) -> IntOrPercent {
    match v {
        IntOrPercentSpec::Int(n) => IntOrPercent::Int(n),
        IntOrPercentSpec::Percent(p) => IntOrPercent::Percent(p),
    }
}

pub(crate) fn build_deploys(
    spec: &ScenarioSpec,
    services: &[ServiceConfig],
    pending: &mut Vec<Pending>,
) -> Vec<DeployConfig> {
    let names: Vec<&str> = spec.deploys.iter().map(|d| d.name.0.as_str()).collect();
    let mut out = Vec::with_capacity(spec.deploys.len());
    // Index of the deploy each one waits for, to find cycles once every name is known.
    let mut waits_for: Vec<Option<usize>> = vec![None; spec.deploys.len()];
    for (i, d) in spec.deploys.iter().enumerate() {
        let at = index(&[key("deploys")], i);
        if let Some(first) = names[..i].iter().position(|n| *n == d.name.0) {
            problem(
                pending,
                under(&at, &["name"]),
                format!(
                    "the name `{}` is also used by deploys[{first}]; give each deploy its own `name`",
                    d.name.0
                ),
            );
        }
        let service = match spec.services.0.get_index_of(&d.service) {
            Some(s_index) => Some(s_index),
            None => {
                let known: Vec<&str> = spec.services.0.keys().map(String::as_str).collect();
                pending.push(Pending {
                    paths: vec![under(&at, &["service"])],
                    anchor: Some(d.service.clone()),
                    message: unknown_name("service", &d.service, &known),
                });
                None
            }
        };
        let version = service.and_then(|s_index| {
            let s = &services[s_index];
            let known: Vec<&str> = (0..s.n_versions()).map(|v| s.version_name(v)).collect();
            let found = known.iter().position(|v| *v == d.version);
            if found.is_none() {
                let owner = format!(" of service `{}`", d.service);
                let mut message = unknown_name_in("version", &d.version, &owner, &known);
                if s.versions.is_empty() {
                    message.push_str(" (a service without `versions` has one, `v1`)");
                }
                pending.push(Pending {
                    paths: vec![under(&at, &["version"])],
                    anchor: Some(d.version.clone()),
                    message,
                });
            }
            found
        });
        let trigger = match (&d.at, &d.after) {
            (Some(t), None) => {
                if d.delay.is_some() {
                    pending.push(Pending {
                        paths: vec![under(&at, &["delay"]), under(&at, &["at"])],
                        anchor: None,
                        message:
                            "`delay` counts from the end of the deploy named in `after`; with `at`, give the \
                                  start time itself"
                                .to_string(),
                    });
                }
                Some(DeployTrigger::At(SimTime(t.ns)))
            }
            (None, Some(after)) => match names.iter().position(|n| n == after) {
                Some(j) if j == i => {
                    pending.push(Pending {
                        paths: vec![under(&at, &["after"])],
                        anchor: Some(after.clone()),
                        message: format!("a deploy cannot wait for itself: `{after}` is this deploy"),
                    });
                    None
                }
                Some(j) => {
                    waits_for[i] = Some(j);
                    let delay = d.delay.as_ref().map_or(SimDuration::ZERO, duration_of);
                    Some(DeployTrigger::After { deploy: id_of(j), delay })
                }
                None => {
                    pending.push(Pending {
                        paths: vec![under(&at, &["after"])],
                        anchor: Some(after.clone()),
                        message: unknown_name("deploy", after, &names),
                    });
                    None
                }
            },
            (Some(_), Some(_)) => {
                pending.push(Pending {
                    paths: vec![under(&at, &["after"]), under(&at, &["at"])],
                    anchor: None,
                    message: "give either `at` (a time) or `after` (the deploy this one follows), not both"
                        .to_string(),
                });
                None
            }
            (None, None) => {
                problem(
                    pending,
                    at.clone(),
                    "missing `at`: give the time the deploy starts, or `after` with the deploy it follows"
                        .to_string(),
                );
                None
            }
        };
        let strategy = deploy_strategy(&d.strategy, &under(&at, &["strategy"]), pending);
        if let (Some(s_index), Some(version), Some(trigger), Some(strategy)) =
            (service, version, trigger, strategy)
        {
            out.push(DeployConfig {
                name: d.name.0.clone(),
                service: ServiceId(id_of(s_index)),
                version: id_of(version),
                trigger,
                strategy,
            });
        }
    }
    deploy_cycles(spec, &waits_for, pending);
    out
}

/// Reports each cycle of `after` once, at its first deploy in file order. Each deploy waits
/// for at most one other, so following the chain from each deploy finds every cycle.
pub(crate) fn deploy_cycles(spec: &ScenarioSpec, waits_for: &[Option<usize>], pending: &mut Vec<Pending>) {
    let mut reported: BTreeSet<usize> = BTreeSet::new();
    for start in 0..waits_for.len() {
        let mut chain = vec![start];
        let mut cur = start;
        while let Some(next) = waits_for[cur] {
            if let Some(pos) = chain.iter().position(|&c| c == next) {
                let cycle = &chain[pos..];
                let first = *cycle.iter().min().expect("a cycle has members");
                if first == start && !reported.contains(&first) {
                    reported.extend(cycle.iter().copied());
                    let rotate = cycle.iter().position(|&c| c == first).expect("first is in the cycle");
                    let mut names: Vec<&str> = cycle[rotate..]
                        .iter()
                        .chain(&cycle[..rotate])
                        .map(|&c| spec.deploys[c].name.0.as_str())
                        .collect();
                    names.push(names[0]);
                    pending.push(Pending {
                        paths: vec![index(&[key("deploys")], first)
                            .into_iter()
                            .chain([key("after")])
                            .collect()],
                        anchor: None,
                        message: format!(
                            "`after` forms a cycle: {}; none of these deploys would ever start",
                            names.join(" -> ")
                        ),
                    });
                }
                break;
            }
            chain.push(next);
            cur = next;
        }
    }
}

pub(crate) fn deploy_strategy(
    s: &StrategySpec,
    at: &[Seg],
    pending: &mut Vec<Pending>,
) -> Option<DeployStrategy> {
    match s {
        StrategySpec::Rolling { max_surge, max_unavailable, min_ready, progress_deadline } => {
            if max_surge.is_zero() && max_unavailable.is_zero() {
                pending.push(Pending {
                    paths: vec![
                        under(at, &["Rolling", "max_unavailable"]),
                        under(at, &["Rolling", "max_surge"]),
                    ],
                    anchor: None,
                    message:
                        "max_surge and max_unavailable cannot both be 0, as Kubernetes requires: the rollout \
                              could neither add an instance nor take one down"
                            .to_string(),
                });
                return None;
            }
            Some(DeployStrategy::Rolling(RollingParams {
                max_surge: int_or_percent(*max_surge),
                max_unavailable: int_or_percent(*max_unavailable),
                min_ready: duration_of(min_ready),
                progress_deadline: duration_of(&progress_deadline.0),
            }))
        }
        StrategySpec::Canary { steps, traffic_routing, analysis } => {
            let analysis =
                analysis.as_ref().map(|a| analysis_config(a, &under(at, &["Canary", "analysis"]), pending));
            Some(DeployStrategy::Canary(CanaryParams {
                steps: steps
                    .iter()
                    .map(|st| match st {
                        CanaryStepSpec::SetWeight(w) => CanaryStepConfig::SetWeight(u32_of(w.0, "SetWeight")),
                        CanaryStepSpec::Pause(d) => CanaryStepConfig::Pause(d.as_ref().map(duration_of)),
                    })
                    .collect(),
                traffic_routing: *traffic_routing,
                analysis,
            }))
        }
        StrategySpec::BlueGreen { auto_promotion, scale_down_delay, abort_scale_down_delay, analysis } => {
            Some(DeployStrategy::BlueGreen(BlueGreenParams {
                auto_promotion: duration_of(auto_promotion),
                scale_down_delay: duration_of(scale_down_delay),
                abort_scale_down_delay: duration_of(abort_scale_down_delay),
                analysis: analysis
                    .as_ref()
                    .map(|a| analysis_config(a, &under(at, &["BlueGreen", "analysis"]), pending)),
            }))
        }
    }
}

/// An analysis of the new version's answers; one that checks nothing is refused.
pub(crate) fn analysis_config(a: &AnalysisSpec, at: &[Seg], pending: &mut Vec<Pending>) -> AnalysisConfig {
    if a.max_error_rate.is_none() && a.max_p99.is_none() {
        problem(
            pending,
            at.to_vec(),
            "the analysis checks nothing, so it would never fail; give `max_error_rate`, `max_p99`, or both"
                .to_string(),
        );
    }
    AnalysisConfig {
        interval: duration_of(&a.interval.0),
        failure_limit: u32_of(a.failure_limit.0, "failure_limit"),
        max_error_rate: a.max_error_rate.map(|r| r.0),
        max_p99: a.max_p99.as_ref().map(|d| duration_of(&d.0)),
        min_samples: u32_of(a.min_samples.0, "min_samples"),
    }
}
