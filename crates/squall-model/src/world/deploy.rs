//! Deploy controllers: a Kubernetes rolling update (`squall_policy::RollingUpdate`, one
//! controller sync at a time, re-run whenever the fleet changes) and an Argo Rollouts canary
//! (`squall_policy::Canary` steps; replica counts from `basic_canary_counts`, or exact
//! weights at the balancer with traffic routing; background analysis of the canary's answers
//! that aborts and rolls back). A canary's promotion and its rollback both finish as a
//! rolling update, to the new version or back to the stable one.

use super::*;
use crate::config::{AnalysisConfig, CanaryStepConfig, DeployStrategy, DeployTrigger, RollingParams};
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

/// One deploy's controller state.
pub(super) struct DeployState {
    pub result: DeployResult,
    pub events: Vec<DeployEvent>,
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
    pub fn new(_cfg: &crate::config::DeployConfig) -> DeployState {
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
}

/// The rolling-update parameters a deploy finishes with.
fn rolling_params(strategy: &DeployStrategy) -> RollingParams {
    match strategy {
        DeployStrategy::Rolling(p) => *p,
        DeployStrategy::Canary(_) | DeployStrategy::BlueGreen(_) => RollingParams::default(),
    }
}

impl World {
    fn note(&mut self, d: DeployId, now: SimTime, what: String) {
        self.deploys[d].events.push(DeployEvent { at: now, what });
    }

    /// A deploy starts: later deploys of the same service supersede it.
    pub(super) fn on_deploy_start(&mut self, sched: &mut Scheduler<Event>, deploy: DeployId) {
        let now = sched.now();
        let d = deploy;
        if self.deploys[d].result != DeployResult::NotStarted {
            return;
        }
        let cfg = &self.cfg.deploys[d.idx()];
        let service = cfg.service;
        let target = cfg.version;
        for k in self.deploys.ids() {
            if k != d && self.deploys[k].active && self.cfg.deploys[k.idx()].service == service {
                self.deploys[k].active = false;
                let name = self.cfg.deploys[d.idx()].name.clone();
                self.note(k, now, format!("superseded by {name}"));
            }
        }
        let stable = self.services[service]
            .members
            .iter()
            .map(|&i| &self.instances[i])
            .find(|i| !i.terminating)
            .map_or(0, |i| i.version);
        let st = &mut self.deploys[d];
        st.result = DeployResult::InProgress;
        st.active = true;
        st.target = target;
        st.stable = stable;
        st.last_progress = now;
        self.note(d, now, "start".to_string());
        if let DeployStrategy::Canary(c) = &self.cfg.deploys[d.idx()].strategy {
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
            self.deploys[d].canary = Some(canary);
            if let Some(a) = &c.analysis {
                sched.after(a.interval, Event::DeployTick { deploy, what: Tick::Analysis });
                self.services[service].versions[target as usize].window.reset();
            }
            return self.step_canary(sched, d);
        }
        if let DeployStrategy::BlueGreen(b) = &self.cfg.deploys[d.idx()].strategy {
            let config = BlueGreenConfig {
                auto_promotion_enabled: true,
                auto_promotion_seconds: b.auto_promotion,
                scale_down_delay_seconds: b.scale_down_delay,
                abort_scale_down_delay_seconds: b.abort_scale_down_delay,
            };
            self.deploys[d].bluegreen = Some(BlueGreen::new(config, now));
            // The active service stays on the stable version; the new one is a preview.
            self.set_route(d, stable, 100);
        }
        self.sync(sched, d);
    }

    pub(super) fn on_deploy_tick(&mut self, sched: &mut Scheduler<Event>, deploy: DeployId, what: Tick) {
        let d = deploy;
        if !self.deploys[d].active {
            return;
        }
        match what {
            Tick::Sync => self.sync(sched, d),
            Tick::Step if self.deploys[d].bluegreen.is_some() => {
                let now = sched.now();
                let ev = self.deploys[d].bluegreen.as_mut().expect("a blue-green").advance(now);
                self.on_bluegreen(sched, d, ev);
            }
            Tick::Step => self.step_canary(sched, d),
            Tick::Analysis => self.analyse(sched, d),
        }
    }

    /// Running deploys of `service` look at its fleet again.
    pub(super) fn fleet_changed(&mut self, sched: &mut Scheduler<Event>, service: ServiceId) {
        for d in self.deploys.ids() {
            if self.deploys[d].active && self.cfg.deploys[d.idx()].service == service {
                self.sync(sched, d);
            }
        }
    }

    /// Runs the canary's steps as far as they go now.
    fn step_canary(&mut self, sched: &mut Scheduler<Event>, d: DeployId) {
        let now = sched.now();
        let deploy = d;
        loop {
            let canary = self.deploys[d].canary.as_mut().expect("a canary deploy");
            match canary.advance(now) {
                CanaryEvent::WeightSet(w) => {
                    self.note(d, now, format!("weight {w}%"));
                    self.route(d, w);
                }
                CanaryEvent::Paused { until: Some(until) } => {
                    let secs = until.since(now).as_secs_f64();
                    self.note(d, now, format!("pause {secs}s"));
                    sched.at(
                        SimTime(until.as_nanos().saturating_add(1)),
                        Event::DeployTick { deploy, what: Tick::Step },
                    );
                    break;
                }
                CanaryEvent::Paused { until: None } => {
                    self.note(d, now, "pause".to_string());
                    break;
                }
                CanaryEvent::Resumed => {}
                CanaryEvent::Completed => {
                    self.note(d, now, "promote".to_string());
                    self.deploys[d].finishing = true;
                    self.route(d, 100);
                    break;
                }
                CanaryEvent::AnalysisStarted
                | CanaryEvent::PausedInconclusive
                | CanaryEvent::Aborted
                | CanaryEvent::NoChange => break,
            }
        }
        self.sync(sched, d);
    }

    /// Sets the canary's share of traffic at the balancer, with traffic routing.
    fn route(&mut self, d: DeployId, weight: u32) {
        let DeployStrategy::Canary(c) = &self.cfg.deploys[d.idx()].strategy else { return };
        if c.traffic_routing {
            self.set_route(d, self.deploys[d].target, weight);
        }
    }

    /// Sends `weight` % of the service's requests to `version` (the rest to the others).
    fn set_route(&mut self, d: DeployId, version: u32, weight: u32) {
        let s = self.cfg.deploys[d.idx()].service;
        self.services[s].routed = Some((version, weight));
        self.refresh_split(s);
    }

    /// Acts on what the blue-green machine did.
    fn on_bluegreen(&mut self, sched: &mut Scheduler<Event>, d: DeployId, ev: BlueGreenEvent) {
        let now = sched.now();
        let deploy = d;
        let (target, stable) = (self.deploys[d].target, self.deploys[d].stable);
        let at = |t: SimTime, strictly: bool| SimTime(t.as_nanos().saturating_add(u64::from(strictly)));
        match ev {
            BlueGreenEvent::Paused { until } => {
                self.note(d, now, "preview ready".to_string());
                if let Some(u) = until {
                    sched.at(at(u, true), Event::DeployTick { deploy, what: Tick::Step });
                }
            }
            BlueGreenEvent::Switched { scale_down_at } => {
                self.note(d, now, "switch".to_string());
                self.set_route(d, target, 100);
                sched.at(at(scale_down_at, false), Event::DeployTick { deploy, what: Tick::Step });
                let analysis = match &self.cfg.deploys[d.idx()].strategy {
                    DeployStrategy::BlueGreen(b) => b.analysis.as_ref().map(|a| a.interval),
                    _ => None,
                };
                if let Some(interval) = analysis {
                    let s = self.cfg.deploys[d.idx()].service;
                    self.services[s].versions[target as usize].window.reset();
                    sched.after(interval, Event::DeployTick { deploy, what: Tick::Analysis });
                }
            }
            BlueGreenEvent::OldScaledDown => {
                self.note(d, now, "scale down old".to_string());
                self.deploys[d].finishing = true;
            }
            BlueGreenEvent::Aborted { scale_down_at } => {
                self.set_route(d, stable, 100);
                self.deploys[d].rolled_back = true;
                sched.at(at(scale_down_at, false), Event::DeployTick { deploy, what: Tick::Step });
            }
            BlueGreenEvent::NewScaledDown => {
                self.note(d, now, "scale down new".to_string());
                self.deploys[d].target = stable;
                self.deploys[d].finishing = true;
            }
            BlueGreenEvent::NoChange => return,
        }
        self.sync(sched, d);
    }

    /// One blue-green sync: the preview set up to full size, and its promotion once it is
    /// available. Returns whether it changed the fleet.
    fn sync_bluegreen(&mut self, sched: &mut Scheduler<Event>, d: DeployId) -> bool {
        let now = sched.now();
        let replicas = self.cfg.services[self.cfg.deploys[d.idx()].service.index()].replicas;
        let state = self.rollout_state(sched, d, SimDuration::ZERO);
        self.record_progress(now, d, &state);
        let bg = self.deploys[d].bluegreen.as_ref().expect("a blue-green");
        if !bg.new_running() || matches!(bg.phase(), BlueGreenPhase::Aborted { .. }) {
            return false;
        }
        if state.new.replicas < replicas {
            self.scale_version(sched, d, true, state.new.replicas, replicas);
            return true;
        }
        if state.new.available == replicas && bg.phase() == BlueGreenPhase::PreviewScaling {
            let ev = self.deploys[d].bluegreen.as_mut().expect("a blue-green").on_preview_available(now);
            self.on_bluegreen(sched, d, ev);
        }
        false
    }

    /// An analysis measurement: the new version's answers since the last one (a canary's,
    /// or a blue-green's after the switch).
    fn analyse(&mut self, sched: &mut Scheduler<Event>, d: DeployId) {
        let now = sched.now();
        let a: AnalysisConfig = match &self.cfg.deploys[d.idx()].strategy {
            DeployStrategy::Canary(c) => c.analysis.clone(),
            DeployStrategy::BlueGreen(b) => b.analysis.clone(),
            DeployStrategy::Rolling(_) => None,
        }
        .expect("an analysis is configured");
        let switched = self.deploys[d]
            .bluegreen
            .as_ref()
            .is_none_or(|b| matches!(b.phase(), BlueGreenPhase::Switched { .. }));
        if self.deploys[d].finishing || !switched {
            return;
        }
        let s = self.cfg.deploys[d.idx()].service;
        let target = self.deploys[d].target as usize;
        let w = &mut self.services[s].versions[target].window;
        let (answers, errors) = (w.answers, w.errors);
        let p99 = (!w.latency.is_empty()).then(|| w.latency.value_at_quantile(0.99));
        w.reset();
        sched.after(a.interval, Event::DeployTick { deploy: d, what: Tick::Analysis });
        if answers < u64::from(a.min_samples.max(1)) {
            return;
        }
        let rate = errors as f64 / answers as f64;
        let mut failed = Vec::new();
        if let Some(max) = a.max_error_rate {
            if rate > max {
                failed.push(format!("error rate {:.1}%", rate * 100.0));
            }
        }
        if let (Some(max), Some(p99)) = (a.max_p99, p99) {
            if p99 > max.as_nanos() {
                failed.push(format!("p99 {:.0}ms", p99 as f64 / 1e6));
            }
        }
        if failed.is_empty() {
            return;
        }
        self.deploys[d].analysis_failures += 1;
        if self.deploys[d].analysis_failures <= a.failure_limit {
            self.note(d, now, format!("analysis failed: {}", failed.join(", ")));
            return;
        }
        self.note(d, now, format!("abort: {}", failed.join(", ")));
        self.abort(sched, d);
    }

    /// Aborts: all traffic back to stable; a canary rolls back to it, a blue-green scales
    /// the new version down after its delay.
    fn abort(&mut self, sched: &mut Scheduler<Event>, d: DeployId) {
        let now = sched.now();
        if let Some(b) = self.deploys[d].bluegreen.as_mut() {
            let ev = b.abort(now);
            return self.on_bluegreen(sched, d, ev);
        }
        if let Some(c) = self.deploys[d].canary.as_mut() {
            c.abort(now);
        }
        self.deploys[d].rolled_back = true;
        self.route(d, 0);
        let st = &mut self.deploys[d];
        st.target = st.stable;
        st.finishing = true;
        st.last_progress = now;
        self.sync(sched, d);
    }

    /// One controller pass over the deploy's service, repeated until nothing changes.
    fn sync(&mut self, sched: &mut Scheduler<Event>, d: DeployId) {
        if self.deploys[d].syncing || !self.deploys[d].active {
            return;
        }
        self.deploys[d].syncing = true;
        let replicas = self.cfg.services[self.cfg.deploys[d.idx()].service.index()].replicas;
        // Each pass adds or removes pods; a few per replica are enough to settle.
        for _ in 0..4 * replicas + 8 {
            let st = &self.deploys[d];
            let changed = if st.finishing {
                self.sync_rolling(sched, d)
            } else if st.canary.is_some() {
                self.sync_canary(sched, d)
            } else if st.bluegreen.is_some() {
                self.sync_bluegreen(sched, d)
            } else {
                self.sync_rolling(sched, d)
            };
            if !changed {
                break;
            }
        }
        self.deploys[d].syncing = false;
        self.check_progress(sched, d);
    }

    /// The rollout's counts for the deploy's target version, scheduling a sync for when a
    /// ready pod becomes available.
    fn rollout_state(
        &mut self,
        sched: &mut Scheduler<Event>,
        d: DeployId,
        min_ready: SimDuration,
    ) -> RolloutState {
        let now = sched.now();
        let (service, target) = (self.cfg.deploys[d.idx()].service, self.deploys[d].target);
        let mut state = RolloutState::default();
        let mut wake = SimTime::MAX;
        for &m in &self.services[service].members {
            let i = &self.instances[m];
            if i.terminating {
                continue;
            }
            let set = if i.version == target { &mut state.new } else { &mut state.old };
            set.replicas += 1;
            if i.is_ready && i.phase == Phase::Running {
                let available_at = i.ready_since.saturating_add(min_ready);
                if min_ready == SimDuration::ZERO || available_at < now {
                    set.available += 1;
                } else {
                    wake = wake.min(SimTime(available_at.as_nanos().saturating_add(1)));
                }
            }
        }
        let st = &mut self.deploys[d];
        st.min_available = st.min_available.min(state.total_available());
        st.max_pods = st.max_pods.max(state.total_replicas());
        if wake != SimTime::MAX && wake != self.deploys[d].wake {
            self.deploys[d].wake = wake;
            sched.at(wake, Event::DeployTick { deploy: d, what: Tick::Sync });
        }
        state
    }

    /// One rolling-update sync toward the target version. Returns whether it changed the fleet.
    fn sync_rolling(&mut self, sched: &mut Scheduler<Event>, d: DeployId) -> bool {
        let now = sched.now();
        let p = rolling_params(&self.cfg.deploys[d.idx()].strategy);
        let service = self.cfg.deploys[d.idx()].service;
        let replicas = self.cfg.services[service.index()].replicas;
        let ru = RollingUpdate {
            replicas,
            max_surge: p.max_surge,
            max_unavailable: p.max_unavailable,
            min_ready_seconds: p.min_ready,
            progress_deadline_seconds: p.progress_deadline,
        };
        let state = self.rollout_state(sched, d, p.min_ready);
        self.record_progress(now, d, &state);
        match ru.step(&state) {
            ScaleDecision::ScaleNew { replicas: r } => {
                self.scale_version(sched, d, true, state.new.replicas, r);
                true
            }
            ScaleDecision::ScaleOld { n_unhealthy, n_healthy, .. } => {
                self.scale_version(
                    sched,
                    d,
                    false,
                    state.old.replicas,
                    state.old.replicas - n_unhealthy - n_healthy,
                );
                true
            }
            ScaleDecision::NoChange => {
                if state.is_complete(replicas) {
                    self.complete(sched, d);
                }
                false
            }
        }
    }

    /// One canary sync: pods to the counts the current weight asks for, keeping the
    /// fleet's availability within `maxUnavailable` (25 %).
    fn sync_canary(&mut self, sched: &mut Scheduler<Event>, d: DeployId) -> bool {
        let now = sched.now();
        let service = self.cfg.deploys[d.idx()].service;
        let replicas = self.cfg.services[service.index()].replicas;
        let DeployStrategy::Canary(c) = &self.cfg.deploys[d.idx()].strategy else { unreachable!("a canary") };
        let routed = c.traffic_routing;
        let weight = self.deploys[d].canary.as_ref().map_or(0, |c| c.weight());
        let (surge, unavailable) = resolve(IntOrPercent::Percent(25), IntOrPercent::Percent(25), replicas);
        let (want_canary, want_stable) = if routed {
            ((u64::from(replicas) * u64::from(weight)).div_ceil(100) as u32, replicas)
        } else {
            let counts = basic_canary_counts(replicas, weight, surge);
            (counts.canary, counts.stable)
        };
        let state = self.rollout_state(sched, d, SimDuration::ZERO);
        self.record_progress(now, d, &state);
        if state.new.replicas != want_canary {
            self.scale_version(sched, d, true, state.new.replicas, want_canary);
            return true;
        }
        if state.old.replicas < want_stable {
            self.scale_version(sched, d, false, state.old.replicas, want_stable);
            return true;
        }
        if state.old.replicas > want_stable {
            let min_available = i64::from(replicas) - i64::from(unavailable.min(replicas));
            let spare = i64::from(state.total_available()) - min_available;
            let n = (state.old.replicas - want_stable).min(spare.max(0) as u32);
            if n > 0 {
                self.scale_version(sched, d, false, state.old.replicas, state.old.replicas - n);
                return true;
            }
        }
        false
    }

    /// Scales the target version (`new`) or the others to `to` pods: new pods of the target
    /// (or stable) version, or deletions in the ReplicaSet controller's order: pods not up
    /// first, then not ready, then ready for the shortest time, newest first.
    fn scale_version(&mut self, sched: &mut Scheduler<Event>, d: DeployId, new: bool, from: u32, to: u32) {
        let service = self.cfg.deploys[d.idx()].service;
        let target = self.deploys[d].target;
        if to > from {
            let version = if new { target } else { self.deploys[d].stable };
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
                !i.terminating && (i.version == target) == new
            })
            .collect();
        let instances = &self.instances;
        victims.sort_by_key(|&m| {
            let i = &instances[m];
            let up = matches!(i.phase, Phase::Running | Phase::Stopping);
            (up, up && i.is_ready, std::cmp::Reverse(i.ready_since), std::cmp::Reverse(i.ordinal))
        });
        for &m in victims.iter().take((from - to) as usize) {
            self.terminate(sched, m);
        }
    }

    /// Notes progress (a ReplicaSet scaled, more pods available) for the progress deadline.
    fn record_progress(&mut self, now: SimTime, d: DeployId, state: &RolloutState) {
        let p = (state.new.replicas, state.old.replicas, state.total_available());
        let st = &mut self.deploys[d];
        if p != st.progress {
            st.progress = p;
            st.last_progress = now;
        }
    }

    /// Reports a rollout that has made no progress within its deadline (Kubernetes keeps
    /// trying and does not roll back), and schedules the check.
    fn check_progress(&mut self, sched: &mut Scheduler<Event>, d: DeployId) {
        let now = sched.now();
        let st = &self.deploys[d];
        if !st.active || st.stalled {
            return;
        }
        let deadline = rolling_params(&self.cfg.deploys[d.idx()].strategy).progress_deadline;
        let paused = st.canary.as_ref().is_some_and(|c| {
            !st.finishing && matches!(c.status(), squall_policy::CanaryStatus::Paused { .. })
        });
        let at = st.last_progress.saturating_add(deadline);
        if paused {
            return;
        }
        if now > at {
            self.deploys[d].stalled = true;
            self.note(d, now, "stalled: progress deadline exceeded".to_string());
        } else if self.deploys[d].wake != SimTime(at.as_nanos().saturating_add(1)) {
            sched.at(
                SimTime(at.as_nanos().saturating_add(1)),
                Event::DeployTick { deploy: d, what: Tick::Sync },
            );
        }
    }

    /// The deploy is done: completed, or rolled back after an abort. Deploys waiting for it
    /// are scheduled.
    fn complete(&mut self, sched: &mut Scheduler<Event>, d: DeployId) {
        let now = sched.now();
        let st = &mut self.deploys[d];
        st.active = false;
        let rolled_back = st.rolled_back;
        st.result = if rolled_back { DeployResult::RolledBack } else { DeployResult::Completed };
        let s = self.cfg.deploys[d.idx()].service;
        self.services[s].routed = None;
        self.refresh_split(s);
        self.note(d, now, if rolled_back { "rolled back" } else { "complete" }.to_string());
        for (k, c) in self.cfg.deploys.iter().enumerate() {
            if let DeployTrigger::After { deploy, delay } = c.trigger {
                if deploy as usize == d.idx() {
                    sched.after(delay, Event::DeployStart { deploy: DeployId::new(k) });
                }
            }
        }
    }

    /// What each deploy did.
    pub(super) fn deploy_outputs(&mut self) -> Vec<DeployOutput> {
        self.cfg
            .deploys
            .iter()
            .zip(&mut self.deploys)
            .map(|(c, st)| DeployOutput {
                name: c.name.clone(),
                service: self.cfg.services[c.service.index()].name.clone(),
                version: self.cfg.services[c.service.index()].version_name(c.version as usize).to_string(),
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
