//! Deploy controllers: a Kubernetes rolling update (`squall_policy::RollingUpdate`, one
//! controller sync at a time, re-run whenever the fleet changes) and an Argo Rollouts canary
//! (`squall_policy::Canary` steps; replica counts from `basic_canary_counts`, or exact
//! weights at the balancer with traffic routing; background analysis of the canary's answers
//! that aborts and rolls back). A canary's promotion and its rollback both finish as a
//! rolling update, to the new version or back to the stable one.
//!
//! `Deploys` owns every controller's state and decides; it never touches the fleet. The
//! orchestrator (`impl World` below) shows it the fleet as a `RolloutState` and applies what
//! it answers: a `Plan` for one sync pass (scale a version, complete, a blue-green event), or
//! a list of `Effect`s (route traffic, wake the controller later, reset an analysis window,
//! start a deploy that waited for this one), in order.

use super::*;
use crate::config::{
    AnalysisConfig, CanaryStepConfig, DeployConfig, DeployStrategy, DeployTrigger, RollingParams,
};
use crate::output::{DeployEvent, DeployOutput, DeployResult};
use fleet::Phase;
use squall_policy::{
    basic_canary_counts, resolve, BlueGreen, BlueGreenConfig, BlueGreenEvent, BlueGreenPhase, Canary,
    CanaryEvent, CanaryStep, IntOrPercent, RollingUpdate, RolloutState, ScaleDecision,
};

/// Why a deploy's controller wakes up.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Tick {
    /// Look at the fleet again (a pod became available, the progress deadline passed).
    Sync,
    /// A canary pause is over, or a blue-green deadline (promotion, scale-down) is due.
    Step,
    /// A canary analysis measurement is due.
    Analysis,
}

/// What the engine must do for a deploy, in order.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Effect {
    /// Route the service's requests: `Some((version, weight))` sends `weight` % to
    /// `version`'s instances and the rest to the others; `None` routes by endpoints.
    Route { service: ServiceId, routed: Option<(u32, u32)> },
    /// Wake the controller (`Event::DeployTick`) at `at`.
    WakeAt { deploy: DeployId, at: SimTime, what: Tick },
    /// Wake the controller after `after`.
    WakeAfter { deploy: DeployId, after: SimDuration, what: Tick },
    /// Empty the analysis window of a version of the service.
    ResetWindow { service: ServiceId, version: u32 },
    /// Start a deploy that waited for this one.
    Start { deploy: DeployId, after: SimDuration },
}

/// How a deploy began.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Started {
    /// A canary: apply the effects, then run its steps (`step_canary`).
    Canary(Vec<Effect>),
    /// A blue-green or a rolling update: apply the effects, then sync.
    Sync(Vec<Effect>),
}

/// What one sync pass does.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Plan {
    /// Nothing to change: the pass is over.
    Settled,
    /// Scale the target version (`new`) or the others from `from` to `to` pods.
    Scale { new: bool, from: u32, to: u32 },
    /// The rollout is complete: `complete` it.
    Complete,
    /// The blue-green controller moved: act on its event (`on_bluegreen`).
    BlueGreen(BlueGreenEvent),
}

/// What an analysis measurement decided.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Go on.
    Pass,
    /// Too many failed measurements: abort.
    Abort,
}

/// The new version's answers since the last measurement.
#[derive(Copy, Clone, Debug)]
pub(super) struct Measured {
    pub answers: u64,
    pub errors: u64,
    pub p99_ns: Option<u64>,
}

/// Which controller runs a sync pass.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Mode {
    Rolling,
    Canary,
    BlueGreen,
}

/// One deploy's controller state.
struct DeployState {
    result: DeployResult,
    events: Vec<DeployEvent>,
    /// Acting on the fleet (started, not done, not superseded by a later deploy).
    active: bool,
    /// The version rolled out: the deploy's, or the stable one after an abort.
    target: u32,
    /// The version that ran before.
    stable: u32,
    canary: Option<Canary>,
    bluegreen: Option<BlueGreen>,
    /// It was aborted and went back to the stable version.
    rolled_back: bool,
    /// The canary's steps are done (promoted) or it was aborted: a rolling update to
    /// `target` finishes the job.
    finishing: bool,
    analysis_failures: u32,
    last_progress: SimTime,
    progress: (u32, u32, u32),
    stalled: bool,
    syncing: bool,
    /// The latest sync already scheduled for a pod's availability.
    wake: SimTime,
    min_available: u32,
    max_pods: u32,
}

impl DeployState {
    fn new() -> DeployState {
        DeployState {
            result: DeployResult::NotStarted,
            events: Vec::new(),
            active: false,
            target: 0,
            stable: 0,
            canary: None,
            bluegreen: None,
            rolled_back: false,
            finishing: false,
            analysis_failures: 0,
            last_progress: SimTime::ZERO,
            progress: (0, 0, 0),
            stalled: false,
            syncing: false,
            wake: SimTime::ZERO,
            min_available: u32::MAX,
            max_pods: 0,
        }
    }

    fn note(&mut self, now: SimTime, what: String) {
        self.events.push(DeployEvent { at: now, what });
    }
}

/// The rolling-update parameters a deploy finishes with.
fn rolling_params(strategy: &DeployStrategy) -> RollingParams {
    match strategy {
        DeployStrategy::Rolling(p) => *p,
        DeployStrategy::Canary(_) | DeployStrategy::BlueGreen(_) => RollingParams::default(),
    }
}

/// `t`, or one nanosecond after it (a deadline is due strictly after its instant).
fn just_after(t: SimTime, strictly: bool) -> SimTime {
    SimTime(t.as_nanos().saturating_add(u64::from(strictly)))
}

/// The deploy subsystem: every deploy's configuration and controller.
///
/// **Invariant:** at most one deploy per service is active (a start supersedes the others);
/// a deploy's result moves only from not started to in progress to completed or rolled back;
/// a sync never runs inside another sync of the same deploy.
pub(super) struct Deploys {
    cfg: IdVec<DeployId, DeployConfig>,
    /// The desired size of each deploy's service.
    replicas: IdVec<DeployId, u32>,
    st: IdVec<DeployId, DeployState>,
}

impl Deploys {
    pub(super) fn new(deploys: &[DeployConfig], services: &[crate::config::ServiceConfig]) -> Deploys {
        Deploys {
            cfg: deploys.iter().cloned().collect(),
            replicas: deploys.iter().map(|d| services[d.service.index()].replicas).collect(),
            st: deploys.iter().map(|_| DeployState::new()).collect(),
        }
    }

    /// The deploys, in configuration order.
    pub(super) fn ids(&self) -> impl Iterator<Item = DeployId> {
        self.cfg.ids()
    }

    /// The service a deploy acts on.
    pub(super) fn service(&self, d: DeployId) -> ServiceId {
        self.cfg[d].service
    }

    /// Whether deploy `d` is acting on `service` now.
    pub(super) fn acts_on(&self, d: DeployId, service: ServiceId) -> bool {
        self.st[d].active && self.cfg[d].service == service
    }

    /// The version rolled out, and the one that ran before.
    pub(super) fn versions(&self, d: DeployId) -> (u32, u32) {
        (self.st[d].target, self.st[d].stable)
    }

    /// The analysis of a deploy, if it has one.
    fn analysis(&self, d: DeployId) -> Option<&AnalysisConfig> {
        match &self.cfg[d].strategy {
            DeployStrategy::Canary(c) => c.analysis.as_ref(),
            DeployStrategy::BlueGreen(b) => b.analysis.as_ref(),
            DeployStrategy::Rolling(_) => None,
        }
    }

    /// Deploy `d` starts over a fleet running `stable`: later deploys of the same service
    /// supersede it. `None` if it started already.
    pub(super) fn start(&mut self, d: DeployId, now: SimTime, stable: u32) -> Option<Started> {
        if self.st[d].result != DeployResult::NotStarted {
            return None;
        }
        let (service, target) = (self.cfg[d].service, self.cfg[d].version);
        for k in self.cfg.ids() {
            if k != d && self.acts_on(k, service) {
                self.st[k].active = false;
                let name = self.cfg[d].name.clone();
                self.st[k].note(now, format!("superseded by {name}"));
            }
        }
        let st = &mut self.st[d];
        st.result = DeployResult::InProgress;
        st.active = true;
        st.target = target;
        st.stable = stable;
        st.last_progress = now;
        st.note(now, "start".to_string());
        let mut effects = Vec::new();
        match &self.cfg[d].strategy {
            DeployStrategy::Canary(c) => {
                let steps = c
                    .steps
                    .iter()
                    .map(|s| match *s {
                        CanaryStepConfig::SetWeight(w) => CanaryStep::SetWeight(w),
                        CanaryStepConfig::Pause(duration) => CanaryStep::Pause { duration },
                    })
                    .collect();
                let mut canary = Canary::new(steps);
                canary.start(now);
                st.canary = Some(canary);
                if let Some(a) = &c.analysis {
                    effects.push(Effect::WakeAfter { deploy: d, after: a.interval, what: Tick::Analysis });
                    effects.push(Effect::ResetWindow { service, version: target });
                }
                Some(Started::Canary(effects))
            }
            DeployStrategy::BlueGreen(b) => {
                let config = BlueGreenConfig {
                    auto_promotion_enabled: true,
                    auto_promotion_seconds: b.auto_promotion,
                    scale_down_delay_seconds: b.scale_down_delay,
                    abort_scale_down_delay_seconds: b.abort_scale_down_delay,
                };
                st.bluegreen = Some(BlueGreen::new(config, now));
                // The active service stays on the stable version; the new one is a preview.
                effects.push(Effect::Route { service, routed: Some((stable, 100)) });
                Some(Started::Sync(effects))
            }
            DeployStrategy::Rolling(_) => Some(Started::Sync(effects)),
        }
    }

    /// A `Tick::Step` of an active deploy: the blue-green controller's event, or `None` for a
    /// canary (run its steps).
    pub(super) fn advance_bluegreen(&mut self, d: DeployId, now: SimTime) -> Option<BlueGreenEvent> {
        self.st[d].bluegreen.as_mut().map(|b| b.advance(now))
    }

    /// Whether deploy `d` is acting on the fleet.
    pub(super) fn is_active(&self, d: DeployId) -> bool {
        self.st[d].active
    }

    /// The canary's share of traffic at the balancer, with traffic routing.
    fn route(&self, d: DeployId, weight: u32, effects: &mut Vec<Effect>) {
        let DeployStrategy::Canary(c) = &self.cfg[d].strategy else { return };
        if c.traffic_routing {
            let routed = Some((self.st[d].target, weight));
            effects.push(Effect::Route { service: self.cfg[d].service, routed });
        }
    }

    /// Runs the canary's steps as far as they go now; sync afterwards.
    pub(super) fn step_canary(&mut self, d: DeployId, now: SimTime) -> Vec<Effect> {
        let mut effects = Vec::new();
        loop {
            let st = &mut self.st[d];
            let canary = st.canary.as_mut().expect("a canary deploy");
            match canary.advance(now) {
                CanaryEvent::WeightSet(w) => {
                    st.note(now, format!("weight {w}%"));
                    self.route(d, w, &mut effects);
                }
                CanaryEvent::Paused { until: Some(until) } => {
                    let secs = until.since(now).as_secs_f64();
                    st.note(now, format!("pause {secs}s"));
                    effects.push(Effect::WakeAt { deploy: d, at: just_after(until, true), what: Tick::Step });
                    break;
                }
                CanaryEvent::Paused { until: None } => {
                    st.note(now, "pause".to_string());
                    break;
                }
                CanaryEvent::Resumed => {}
                CanaryEvent::Completed => {
                    st.note(now, "promote".to_string());
                    st.finishing = true;
                    self.route(d, 100, &mut effects);
                    break;
                }
                CanaryEvent::AnalysisStarted
                | CanaryEvent::PausedInconclusive
                | CanaryEvent::Aborted
                | CanaryEvent::NoChange => break,
            }
        }
        effects
    }

    /// What the blue-green machine's event `ev` asks; `None` when it changed nothing (no
    /// sync follows).
    pub(super) fn on_bluegreen(
        &mut self,
        d: DeployId,
        ev: BlueGreenEvent,
        now: SimTime,
    ) -> Option<Vec<Effect>> {
        let service = self.cfg[d].service;
        let analysis = self.analysis(d).map(|a| a.interval);
        let st = &mut self.st[d];
        let (target, stable) = (st.target, st.stable);
        let step = |at| Effect::WakeAt { deploy: d, at, what: Tick::Step };
        let mut effects = Vec::new();
        match ev {
            BlueGreenEvent::Paused { until } => {
                st.note(now, "preview ready".to_string());
                if let Some(u) = until {
                    effects.push(step(just_after(u, true)));
                }
            }
            BlueGreenEvent::Switched { scale_down_at } => {
                st.note(now, "switch".to_string());
                effects.push(Effect::Route { service, routed: Some((target, 100)) });
                effects.push(step(just_after(scale_down_at, false)));
                if let Some(interval) = analysis {
                    effects.push(Effect::ResetWindow { service, version: target });
                    effects.push(Effect::WakeAfter { deploy: d, after: interval, what: Tick::Analysis });
                }
            }
            BlueGreenEvent::OldScaledDown => {
                st.note(now, "scale down old".to_string());
                st.finishing = true;
            }
            BlueGreenEvent::Aborted { scale_down_at } => {
                effects.push(Effect::Route { service, routed: Some((stable, 100)) });
                st.rolled_back = true;
                effects.push(step(just_after(scale_down_at, false)));
            }
            BlueGreenEvent::NewScaledDown => {
                st.note(now, "scale down new".to_string());
                st.target = stable;
                st.finishing = true;
            }
            BlueGreenEvent::NoChange => return None,
        }
        Some(effects)
    }

    /// An analysis measurement is due: the service and version whose window to measure, and
    /// when the next one is due; `None` if there is nothing to measure (finishing, or a
    /// blue-green that has not switched).
    pub(super) fn analysis_due(&self, d: DeployId) -> Option<(ServiceId, u32, SimDuration)> {
        let a = self.analysis(d).expect("an analysis is configured");
        let st = &self.st[d];
        let switched =
            st.bluegreen.as_ref().is_none_or(|b| matches!(b.phase(), BlueGreenPhase::Switched { .. }));
        if st.finishing || !switched {
            return None;
        }
        Some((self.cfg[d].service, st.target, a.interval))
    }

    /// Judges a measurement of the new version's answers against the analysis's limits.
    pub(super) fn judge(&mut self, d: DeployId, now: SimTime, m: Measured) -> Verdict {
        let a = self.analysis(d).expect("an analysis is configured").clone();
        if m.answers < u64::from(a.min_samples.max(1)) {
            return Verdict::Pass;
        }
        let rate = m.errors as f64 / m.answers as f64;
        let mut failed = Vec::new();
        if let Some(max) = a.max_error_rate {
            if rate > max {
                failed.push(format!("error rate {:.1}%", rate * 100.0));
            }
        }
        if let (Some(max), Some(p99)) = (a.max_p99, m.p99_ns) {
            if p99 > max.as_nanos() {
                failed.push(format!("p99 {:.0}ms", p99 as f64 / 1e6));
            }
        }
        if failed.is_empty() {
            return Verdict::Pass;
        }
        let st = &mut self.st[d];
        st.analysis_failures += 1;
        if st.analysis_failures <= a.failure_limit {
            st.note(now, format!("analysis failed: {}", failed.join(", ")));
            return Verdict::Pass;
        }
        st.note(now, format!("abort: {}", failed.join(", ")));
        Verdict::Abort
    }

    /// Aborts: all traffic back to stable. A blue-green's event follows
    /// (`Err`: act on it); a canary rolls back to stable (`Ok`: apply, then sync).
    pub(super) fn abort(&mut self, d: DeployId, now: SimTime) -> Result<Vec<Effect>, BlueGreenEvent> {
        if let Some(b) = self.st[d].bluegreen.as_mut() {
            return Err(b.abort(now));
        }
        if let Some(c) = self.st[d].canary.as_mut() {
            c.abort(now);
        }
        self.st[d].rolled_back = true;
        let mut effects = Vec::new();
        self.route(d, 0, &mut effects);
        let st = &mut self.st[d];
        st.target = st.stable;
        st.finishing = true;
        st.last_progress = now;
        Ok(effects)
    }

    /// A sync of `d` begins: how many passes it may make at most, or `None` if it is not
    /// active or already syncing.
    pub(super) fn begin_sync(&mut self, d: DeployId) -> Option<u32> {
        let st = &mut self.st[d];
        if st.syncing || !st.active {
            return None;
        }
        st.syncing = true;
        // Each pass adds or removes pods; a few per replica are enough to settle.
        Some(4 * self.replicas[d] + 8)
    }

    /// The sync of `d` is over: the next check of its progress deadline, if one is due.
    pub(super) fn end_sync(&mut self, d: DeployId, now: SimTime) -> Option<SimTime> {
        self.st[d].syncing = false;
        let st = &self.st[d];
        if !st.active || st.stalled {
            return None;
        }
        let deadline = rolling_params(&self.cfg[d].strategy).progress_deadline;
        let paused = st.canary.as_ref().is_some_and(|c| {
            !st.finishing && matches!(c.status(), squall_policy::CanaryStatus::Paused { .. })
        });
        let at = st.last_progress.saturating_add(deadline);
        if paused {
            return None;
        }
        if now > at {
            // Kubernetes reports a rollout that made no progress in time, keeps trying and
            // does not roll back.
            let st = &mut self.st[d];
            st.stalled = true;
            st.note(now, "stalled: progress deadline exceeded".to_string());
            None
        } else {
            let check = just_after(at, true);
            (st.wake != check).then_some(check)
        }
    }

    fn mode(&self, d: DeployId) -> Mode {
        let st = &self.st[d];
        if st.finishing {
            Mode::Rolling
        } else if st.canary.is_some() {
            Mode::Canary
        } else if st.bluegreen.is_some() {
            Mode::BlueGreen
        } else {
            Mode::Rolling
        }
    }

    /// How long a pod must have been ready to count as available in the next pass.
    pub(super) fn min_ready(&self, d: DeployId) -> SimDuration {
        match self.mode(d) {
            Mode::Rolling => rolling_params(&self.cfg[d].strategy).min_ready,
            Mode::Canary | Mode::BlueGreen => SimDuration::ZERO,
        }
    }

    /// The fleet as the pass sees it (`wake`: when the next ready pod becomes available).
    /// Notes progress for the deadline, and returns when to sync again, unless a sync is
    /// due then already.
    pub(super) fn observe(
        &mut self,
        d: DeployId,
        now: SimTime,
        state: &RolloutState,
        wake: SimTime,
    ) -> Option<SimTime> {
        let st = &mut self.st[d];
        st.min_available = st.min_available.min(state.total_available());
        st.max_pods = st.max_pods.max(state.total_replicas());
        let sync = (wake != SimTime::MAX && wake != st.wake).then(|| {
            st.wake = wake;
            wake
        });
        // Progress: a ReplicaSet scaled, or more pods available.
        let p = (state.new.replicas, state.old.replicas, state.total_available());
        if p != st.progress {
            st.progress = p;
            st.last_progress = now;
        }
        sync
    }

    /// One sync pass over the fleet `state` (after `observe`).
    pub(super) fn plan(&mut self, d: DeployId, state: &RolloutState, now: SimTime) -> Plan {
        let replicas = self.replicas[d];
        match self.mode(d) {
            Mode::Rolling => {
                let p = rolling_params(&self.cfg[d].strategy);
                let ru = RollingUpdate {
                    replicas,
                    max_surge: p.max_surge,
                    max_unavailable: p.max_unavailable,
                    min_ready_seconds: p.min_ready,
                    progress_deadline_seconds: p.progress_deadline,
                };
                match ru.step(state) {
                    ScaleDecision::ScaleNew { replicas: r } => {
                        Plan::Scale { new: true, from: state.new.replicas, to: r }
                    }
                    ScaleDecision::ScaleOld { n_unhealthy, n_healthy, .. } => Plan::Scale {
                        new: false,
                        from: state.old.replicas,
                        to: state.old.replicas - n_unhealthy - n_healthy,
                    },
                    ScaleDecision::NoChange if state.is_complete(replicas) => Plan::Complete,
                    ScaleDecision::NoChange => Plan::Settled,
                }
            }
            Mode::Canary => {
                // Pods to the counts the current weight asks for, keeping the fleet's
                // availability within `maxUnavailable` (25 %).
                let DeployStrategy::Canary(c) = &self.cfg[d].strategy else { unreachable!("a canary") };
                let weight = self.st[d].canary.as_ref().map_or(0, |c| c.weight());
                let (surge, unavailable) =
                    resolve(IntOrPercent::Percent(25), IntOrPercent::Percent(25), replicas);
                let (want_canary, want_stable) = if c.traffic_routing {
                    ((u64::from(replicas) * u64::from(weight)).div_ceil(100) as u32, replicas)
                } else {
                    let counts = basic_canary_counts(replicas, weight, surge);
                    (counts.canary, counts.stable)
                };
                if state.new.replicas != want_canary {
                    return Plan::Scale { new: true, from: state.new.replicas, to: want_canary };
                }
                if state.old.replicas < want_stable {
                    return Plan::Scale { new: false, from: state.old.replicas, to: want_stable };
                }
                if state.old.replicas > want_stable {
                    let min_available = i64::from(replicas) - i64::from(unavailable.min(replicas));
                    let spare = i64::from(state.total_available()) - min_available;
                    let n = (state.old.replicas - want_stable).min(spare.max(0) as u32);
                    if n > 0 {
                        return Plan::Scale {
                            new: false,
                            from: state.old.replicas,
                            to: state.old.replicas - n,
                        };
                    }
                }
                Plan::Settled
            }
            Mode::BlueGreen => {
                // The preview set up to full size, and its promotion once it is available.
                let bg = self.st[d].bluegreen.as_mut().expect("a blue-green");
                if !bg.new_running() || matches!(bg.phase(), BlueGreenPhase::Aborted { .. }) {
                    return Plan::Settled;
                }
                if state.new.replicas < replicas {
                    return Plan::Scale { new: true, from: state.new.replicas, to: replicas };
                }
                if state.new.available == replicas && bg.phase() == BlueGreenPhase::PreviewScaling {
                    return Plan::BlueGreen(bg.on_preview_available(now));
                }
                Plan::Settled
            }
        }
    }

    /// The deploy is done: completed, or rolled back after an abort. Routing goes back to
    /// the endpoints, and deploys waiting for it start.
    pub(super) fn complete(&mut self, d: DeployId, now: SimTime) -> Vec<Effect> {
        let st = &mut self.st[d];
        st.active = false;
        let rolled_back = st.rolled_back;
        st.result = if rolled_back { DeployResult::RolledBack } else { DeployResult::Completed };
        st.note(now, if rolled_back { "rolled back" } else { "complete" }.to_string());
        let mut effects = vec![Effect::Route { service: self.cfg[d].service, routed: None }];
        for (k, c) in self.cfg.iter_enumerated() {
            if let DeployTrigger::After { deploy, delay } = c.trigger {
                if deploy as usize == d.idx() {
                    effects.push(Effect::Start { deploy: k, after: delay });
                }
            }
        }
        effects
    }

    /// What each deploy did.
    pub(super) fn outputs(&mut self, services: &[crate::config::ServiceConfig]) -> Vec<DeployOutput> {
        self.cfg
            .iter()
            .zip(&mut self.st)
            .map(|(c, st)| DeployOutput {
                name: c.name.clone(),
                service: services[c.service.index()].name.clone(),
                version: services[c.service.index()].version_name(c.version as usize).to_string(),
                strategy: match c.strategy {
                    DeployStrategy::Rolling(_) => "rolling",
                    DeployStrategy::Canary(_) => "canary",
                    DeployStrategy::BlueGreen(_) => "blue-green",
                }
                .to_string(),
                result: st.result.clone(),
                min_available: if st.min_available == u32::MAX { 0 } else { st.min_available },
                max_pods: st.max_pods,
                events: std::mem::take(&mut st.events),
            })
            .collect()
    }
}

impl World {
    /// A deploy starts: later deploys of the same service supersede it.
    pub(super) fn on_deploy_start(&mut self, sched: &mut Scheduler<Event>, deploy: DeployId) {
        let d = deploy;
        let service = self.deploys.service(d);
        let stable = self.services[service]
            .members
            .iter()
            .find(|&&i| !self.lifecycle.is_terminating(i))
            .map_or(0, |&i| self.instances[i].version);
        match self.deploys.start(d, sched.now(), stable) {
            None => {}
            Some(Started::Canary(effects)) => {
                self.apply_deploy_effects(sched, effects);
                self.step_canary(sched, d);
            }
            Some(Started::Sync(effects)) => {
                self.apply_deploy_effects(sched, effects);
                self.sync(sched, d);
            }
        }
    }

    pub(super) fn on_deploy_tick(&mut self, sched: &mut Scheduler<Event>, deploy: DeployId, what: Tick) {
        let d = deploy;
        if !self.deploys.is_active(d) {
            return;
        }
        match what {
            Tick::Sync => self.sync(sched, d),
            Tick::Step => match self.deploys.advance_bluegreen(d, sched.now()) {
                Some(ev) => self.on_bluegreen(sched, d, ev),
                None => self.step_canary(sched, d),
            },
            Tick::Analysis => self.analyse(sched, d),
        }
    }

    /// Running deploys of `service` look at its fleet again.
    pub(super) fn fleet_changed(&mut self, sched: &mut Scheduler<Event>, service: ServiceId) {
        for d in self.deploys.ids() {
            if self.deploys.acts_on(d, service) {
                self.sync(sched, d);
            }
        }
    }

    /// Applies a deploy's effects, in order.
    fn apply_deploy_effects(&mut self, sched: &mut Scheduler<Event>, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::Route { service, routed } => {
                    self.services[service].routed = routed;
                    self.refresh_split(service);
                }
                Effect::WakeAt { deploy, at, what } => sched.at(at, Event::DeployTick { deploy, what }),
                Effect::WakeAfter { deploy, after, what } => {
                    sched.after(after, Event::DeployTick { deploy, what })
                }
                Effect::ResetWindow { service, version } => {
                    self.services[service].versions[version as usize].window.reset();
                }
                Effect::Start { deploy, after } => sched.after(after, Event::DeployStart { deploy }),
            }
        }
    }

    /// Runs the canary's steps as far as they go now.
    fn step_canary(&mut self, sched: &mut Scheduler<Event>, d: DeployId) {
        let effects = self.deploys.step_canary(d, sched.now());
        self.apply_deploy_effects(sched, effects);
        self.sync(sched, d);
    }

    /// Acts on what the blue-green machine did.
    fn on_bluegreen(&mut self, sched: &mut Scheduler<Event>, d: DeployId, ev: BlueGreenEvent) {
        if let Some(effects) = self.deploys.on_bluegreen(d, ev, sched.now()) {
            self.apply_deploy_effects(sched, effects);
            self.sync(sched, d);
        }
    }

    /// An analysis measurement: the new version's answers since the last one (a canary's,
    /// or a blue-green's after the switch).
    fn analyse(&mut self, sched: &mut Scheduler<Event>, d: DeployId) {
        let Some((service, version, interval)) = self.deploys.analysis_due(d) else { return };
        let w = &mut self.services[service].versions[version as usize].window;
        let (answers, errors) = (w.answers, w.errors);
        let p99_ns = (!w.latency.is_empty()).then(|| w.latency.value_at_quantile(0.99));
        w.reset();
        sched.after(interval, Event::DeployTick { deploy: d, what: Tick::Analysis });
        if self.deploys.judge(d, sched.now(), Measured { answers, errors, p99_ns }) == Verdict::Abort {
            match self.deploys.abort(d, sched.now()) {
                Err(ev) => self.on_bluegreen(sched, d, ev),
                Ok(effects) => {
                    self.apply_deploy_effects(sched, effects);
                    self.sync(sched, d);
                }
            }
        }
    }

    /// One controller pass over the deploy's service, repeated until nothing changes.
    fn sync(&mut self, sched: &mut Scheduler<Event>, d: DeployId) {
        let Some(passes) = self.deploys.begin_sync(d) else { return };
        for _ in 0..passes {
            let now = sched.now();
            let state = self.rollout_state(sched, d);
            let changed = match self.deploys.plan(d, &state, now) {
                Plan::Settled => false,
                Plan::Scale { new, from, to } => {
                    self.scale_version(sched, d, new, from, to);
                    true
                }
                Plan::Complete => {
                    let effects = self.deploys.complete(d, now);
                    self.apply_deploy_effects(sched, effects);
                    false
                }
                Plan::BlueGreen(ev) => {
                    self.on_bluegreen(sched, d, ev);
                    false
                }
            };
            if !changed {
                break;
            }
        }
        if let Some(at) = self.deploys.end_sync(d, sched.now()) {
            sched.at(at, Event::DeployTick { deploy: d, what: Tick::Sync });
        }
    }

    /// The rollout's counts for the deploy's target version, as the deploy sees them,
    /// scheduling a sync for when a ready pod becomes available.
    fn rollout_state(&mut self, sched: &mut Scheduler<Event>, d: DeployId) -> RolloutState {
        let now = sched.now();
        let min_ready = self.deploys.min_ready(d);
        let (service, (target, _)) = (self.deploys.service(d), self.deploys.versions(d));
        let mut state = RolloutState::default();
        let mut wake = SimTime::MAX;
        for &m in &self.services[service].members {
            let i = &self.instances[m];
            if self.lifecycle.is_terminating(m) {
                continue;
            }
            let set = if i.version == target { &mut state.new } else { &mut state.old };
            set.replicas += 1;
            if self.lifecycle.is_ready(m) && i.phase == Phase::Running {
                let available_at = self.lifecycle.ready_since(m).saturating_add(min_ready);
                if min_ready == SimDuration::ZERO || available_at < now {
                    set.available += 1;
                } else {
                    wake = wake.min(SimTime(available_at.as_nanos().saturating_add(1)));
                }
            }
        }
        if let Some(at) = self.deploys.observe(d, now, &state, wake) {
            sched.at(at, Event::DeployTick { deploy: d, what: Tick::Sync });
        }
        state
    }

    /// Scales the target version (`new`) or the others to `to` pods: new pods of the target
    /// (or stable) version, or deletions in the ReplicaSet controller's order: pods not up
    /// first, then not ready, then ready for the shortest time, newest first.
    fn scale_version(&mut self, sched: &mut Scheduler<Event>, d: DeployId, new: bool, from: u32, to: u32) {
        let service = self.deploys.service(d);
        let (target, stable) = self.deploys.versions(d);
        if to > from {
            let version = if new { target } else { stable };
            for _ in from..to {
                self.spawn_instance(Some(sched), service, version);
            }
            return;
        }
        let mut victims: Vec<InstanceId> = self.services[service]
            .members
            .iter()
            .copied()
            .filter(|&m| {
                let i = &self.instances[m];
                !self.lifecycle.is_terminating(m) && (i.version == target) == new
            })
            .collect();
        let (instances, life) = (&self.instances, &self.lifecycle);
        victims.sort_by_key(|&m| {
            let i = &instances[m];
            let up = matches!(i.phase, Phase::Running | Phase::Stopping);
            (up, up && life.is_ready(m), std::cmp::Reverse(life.ready_since(m)), std::cmp::Reverse(i.ordinal))
        });
        for &m in victims.iter().take((from - to) as usize) {
            self.terminate(sched, m);
        }
    }

    /// What each deploy did.
    pub(super) fn deploy_outputs(&mut self) -> Vec<DeployOutput> {
        self.deploys.outputs(&self.cfg.services)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CanaryParams, ServiceConfig};
    use squall_policy::ReplicaSetCounts;

    fn rolling(name: &str, trigger: DeployTrigger) -> DeployConfig {
        DeployConfig {
            name: name.into(),
            service: ServiceId(0),
            version: 1,
            trigger,
            strategy: DeployStrategy::Rolling(RollingParams {
                max_surge: IntOrPercent::Int(1),
                max_unavailable: IntOrPercent::Int(0),
                ..RollingParams::default()
            }),
        }
    }

    fn canary(analysis: Option<AnalysisConfig>) -> DeployConfig {
        DeployConfig {
            strategy: DeployStrategy::Canary(CanaryParams {
                steps: vec![
                    CanaryStepConfig::SetWeight(30),
                    CanaryStepConfig::Pause(Some(SimDuration::from_secs(60))),
                ],
                traffic_routing: true,
                analysis,
            }),
            ..rolling("canary", DeployTrigger::At(SimTime::ZERO))
        }
    }

    /// Services: one of four replicas.
    fn services() -> Vec<ServiceConfig> {
        let mut cfg = super::super::tests::single(1.0, 1.0, 4, 1, 1, false);
        cfg.services[0].replicas = 4;
        cfg.services
    }

    fn counts(new: (u32, u32), old: (u32, u32)) -> RolloutState {
        RolloutState {
            new: ReplicaSetCounts { replicas: new.0, available: new.1 },
            old: ReplicaSetCounts { replicas: old.0, available: old.1 },
        }
    }

    fn d(k: usize) -> DeployId {
        DeployId::new(k)
    }

    #[test]
    fn a_rolling_update_surges_one_pod_then_completes_and_starts_the_deploy_after_it() {
        let after = DeployTrigger::After { deploy: 0, delay: SimDuration::from_secs(5) };
        let mut ds =
            Deploys::new(&[rolling("a", DeployTrigger::At(SimTime::ZERO)), rolling("b", after)], &services());
        let now = SimTime::ZERO;
        assert_eq!(ds.start(d(0), now, 0), Some(Started::Sync(vec![])));
        assert_eq!(ds.start(d(0), now, 0), None, "a deploy starts once");
        assert_eq!(ds.begin_sync(d(0)), Some(4 * 4 + 8));
        assert_eq!(ds.begin_sync(d(0)), None, "no sync inside a sync");
        let fleet = counts((0, 0), (4, 4));
        assert_eq!(ds.observe(d(0), now, &fleet, SimTime::MAX), None);
        assert_eq!(ds.plan(d(0), &fleet, now), Plan::Scale { new: true, from: 0, to: 1 });
        let done = counts((4, 4), (0, 0));
        ds.observe(d(0), now, &done, SimTime::MAX);
        assert_eq!(ds.plan(d(0), &done, now), Plan::Complete);
        let effects = ds.complete(d(0), now);
        assert_eq!(
            effects,
            vec![
                Effect::Route { service: ServiceId(0), routed: None },
                Effect::Start { deploy: d(1), after: SimDuration::from_secs(5) },
            ]
        );
        assert!(!ds.is_active(d(0)));
        let out = ds.outputs(&services());
        assert_eq!(out[0].result, DeployResult::Completed);
        assert_eq!((out[0].min_available, out[0].max_pods), (4, 4));
    }

    #[test]
    fn a_later_deploy_supersedes_the_running_one() {
        let at = DeployTrigger::At(SimTime::ZERO);
        let mut ds = Deploys::new(&[rolling("a", at), rolling("b", at)], &services());
        ds.start(d(0), SimTime::ZERO, 0);
        assert!(ds.acts_on(d(0), ServiceId(0)));
        ds.start(d(1), SimTime(7), 0);
        assert!(!ds.acts_on(d(0), ServiceId(0)));
        assert!(ds.acts_on(d(1), ServiceId(0)));
        let out = ds.outputs(&services());
        assert_eq!(out[0].events.last().map(|e| e.what.as_str()), Some("superseded by b"));
    }

    #[test]
    fn a_routed_canary_sets_its_weight_at_the_balancer_and_pauses() {
        let mut ds = Deploys::new(&[canary(None)], &services());
        assert_eq!(ds.start(d(0), SimTime::ZERO, 0), Some(Started::Canary(vec![])));
        let effects = ds.step_canary(d(0), SimTime::ZERO);
        assert_eq!(
            effects,
            vec![
                Effect::Route { service: ServiceId(0), routed: Some((1, 30)) },
                Effect::WakeAt { deploy: d(0), at: SimTime(60_000_000_001), what: Tick::Step },
            ]
        );
        // With traffic routing the weight is exact at the balancer: ceil(4 x 30 %) = 2 canary
        // pods next to the four stable ones.
        let fleet = counts((0, 0), (4, 4));
        assert_eq!(ds.plan(d(0), &fleet, SimTime::ZERO), Plan::Scale { new: true, from: 0, to: 2 });
        assert_eq!(ds.plan(d(0), &counts((2, 2), (4, 4)), SimTime::ZERO), Plan::Settled);
        // A paused canary has no progress deadline.
        ds.begin_sync(d(0));
        assert_eq!(ds.end_sync(d(0), SimTime(1_000_000_000_000)), None);
    }

    #[test]
    fn failed_analyses_past_the_limit_abort_and_roll_back_to_stable() {
        let analysis = AnalysisConfig {
            interval: SimDuration::from_secs(10),
            failure_limit: 1,
            max_error_rate: Some(0.05),
            max_p99: None,
            min_samples: 10,
        };
        let mut ds = Deploys::new(&[canary(Some(analysis))], &services());
        let Some(Started::Canary(effects)) = ds.start(d(0), SimTime::ZERO, 0) else { panic!("a canary") };
        assert_eq!(effects[1], Effect::ResetWindow { service: ServiceId(0), version: 1 });
        ds.step_canary(d(0), SimTime::ZERO);
        assert_eq!(ds.analysis_due(d(0)), Some((ServiceId(0), 1, SimDuration::from_secs(10))));
        let bad = Measured { answers: 100, errors: 20, p99_ns: None };
        let few = Measured { answers: 5, errors: 5, p99_ns: None };
        assert_eq!(ds.judge(d(0), SimTime(1), few), Verdict::Pass, "too few answers to judge");
        assert_eq!(ds.judge(d(0), SimTime(2), bad), Verdict::Pass, "one failure is within the limit");
        assert_eq!(ds.judge(d(0), SimTime(3), bad), Verdict::Abort);
        let effects = ds.abort(d(0), SimTime(3)).expect("a canary rolls back");
        assert_eq!(effects, vec![Effect::Route { service: ServiceId(0), routed: Some((1, 0)) }]);
        assert_eq!(ds.versions(d(0)), (0, 0), "the stable version is the target now");
        assert_eq!(ds.analysis_due(d(0)), None, "a finishing deploy is not measured");
        let back = counts((4, 4), (0, 0));
        assert_eq!(ds.plan(d(0), &back, SimTime(3)), Plan::Complete);
        ds.complete(d(0), SimTime(3));
        assert_eq!(ds.outputs(&services())[0].result, DeployResult::RolledBack);
    }
}
