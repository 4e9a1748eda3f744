//! The fleet: instance lifecycle and restarts, probes, and deploys (rolling, canary with
//! its steps and analysis, blue-green).

use super::*;

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
    #[serde(default = "zero")]
    pub warmup: Dur,
    #[serde(default = "no_slowdown")]
    pub warmup_factor: SlowFactor,
    #[serde(default = "zero")]
    pub pre_stop: Dur,
    #[serde(default = "default_grace_period")]
    pub grace_period: Dur,
    #[serde(default)]
    pub restart: RestartSpec,
}

impl Default for LifecycleSpec {
    fn default() -> Self {
        LifecycleSpec {
            startup: default_startup(),
            warmup: zero(),
            warmup_factor: no_slowdown(),
            pre_stop: zero(),
            grace_period: default_grace_period(),
            restart: RestartSpec::default(),
        }
    }
}

fn no_slowdown() -> SlowFactor {
    SlowFactor(1.0)
}

fn default_grace_period() -> Dur {
    dur(30 * NS_PER_S, "30s")
}

/// `restart: (initial: "10s", max: "300s", reset_after: "600s")`: kubelet's crash-loop back-off.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    rename = "Restart",
    expecting = "a restart back-off, as in (initial: \"10s\", max: \"300s\", reset_after: \"600s\")",
    deny_unknown_fields
)]
pub(crate) struct RestartSpec {
    #[serde(default = "ten_seconds")]
    pub initial: PosDur,
    #[serde(default = "default_restart_max")]
    pub max: PosDur,
    #[serde(default = "default_reset_after")]
    pub reset_after: PosDur,
}

impl Default for RestartSpec {
    fn default() -> Self {
        RestartSpec { initial: ten_seconds(), max: default_restart_max(), reset_after: default_reset_after() }
    }
}

fn default_restart_max() -> PosDur {
    PosDur(dur(300 * NS_PER_S, "300s"))
}

fn default_reset_after() -> PosDur {
    PosDur(dur(600 * NS_PER_S, "600s"))
}

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
    #[serde(default = "zero")]
    pub initial_delay: Dur,
    #[serde(default = "ten_seconds")]
    pub period: PosDur,
    #[serde(default = "one_second")]
    pub timeout: PosDur,
    #[serde(default = "one")]
    pub success_threshold: Count<1, U32_MAX>,
    #[serde(default = "three")]
    pub failure_threshold: Count<1, U32_MAX>,
}

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
        #[serde(default = "zero")]
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
        #[serde(default = "zero")]
        auto_promotion: Dur,
        #[serde(default = "thirty_seconds")]
        scale_down_delay: Dur,
        #[serde(default = "thirty_seconds")]
        abort_scale_down_delay: Dur,
        #[serde(default)]
        analysis: Option<AnalysisSpec>,
    },
}

impl Default for StrategySpec {
    fn default() -> Self {
        StrategySpec::Rolling {
            max_surge: quarter(),
            max_unavailable: quarter(),
            min_ready: zero(),
            progress_deadline: default_progress_deadline(),
        }
    }
}

fn quarter() -> IntOrPercentSpec {
    IntOrPercentSpec::Percent(25)
}

fn default_progress_deadline() -> PosDur {
    PosDur(dur(600 * NS_PER_S, "600s"))
}

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
    #[serde(default = "one_minute")]
    pub interval: PosDur,
    #[serde(default)]
    pub failure_limit: Count<0, U32_MAX>,
    #[serde(default)]
    pub max_error_rate: Option<Fraction>,
    #[serde(default)]
    pub max_p99: Option<PosDur>,
    #[serde(default = "one")]
    pub min_samples: Count<1, U32_MAX>,
}

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
