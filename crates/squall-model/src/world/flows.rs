//! User flows: a client group's arrival (or user) runs a flow of steps, each a request of the
//! group sent after a delay, skipped when its condition on earlier answers does not hold. A
//! flow fails at the first step that fails for good and completes after its last step. Runs
//! live in a slab reused through a free list; each records the version that answered each of
//! its steps, so flows can be counted by the versions they met.
//!
//! `Flows` owns the runs and each flow group's figures behind a small interface: `start` a
//! run, `advance` it to its next step that runs (it says when that step is due, or that the
//! run is over), `step_due` when its delay is over (it says which request to send),
//! `answered` with the step's answer, and `end`. It sends nothing and schedules nothing: the
//! orchestrator (`World::start_flow` and the handlers below) does what each answer says.

use super::*;
use crate::config::{FlowCondition, FlowConfig};
use crate::output::{FlowBucket, FlowOutput, FlowPath, FlowStepOutput};
use std::collections::BTreeMap;

/// A step's entry in a run's versions: skipped.
const SKIPPED: u32 = u32::MAX - 1;

/// What a client group's flow reports, and what it needs to run.
struct FlowStats {
    cfg: FlowConfig,
    out: FlowOutput,
    /// Ended runs by the versions of their steps: (completed, failed).
    paths: BTreeMap<Vec<u32>, (u64, u64)>,
    /// Per step, the names of its service's versions.
    version_names: Vec<Vec<String>>,
    delay_rng: StreamRng,
}

impl FlowStats {
    fn new(
        client: &str,
        cfg: &FlowConfig,
        services: &[crate::config::ServiceConfig],
        n_buckets: usize,
        seed: u64,
    ) -> FlowStats {
        assert!(!cfg.steps.is_empty(), "a flow has steps");
        FlowStats {
            out: FlowOutput {
                steps: cfg
                    .steps
                    .iter()
                    .map(|s| FlowStepOutput { name: s.name.clone(), ..FlowStepOutput::default() })
                    .collect(),
                series: vec![FlowBucket::default(); n_buckets],
                ..FlowOutput::default()
            },
            paths: BTreeMap::new(),
            version_names: cfg
                .steps
                .iter()
                .map(|s| {
                    let sc = &services[s.service.index()];
                    (0..sc.n_versions()).map(|v| sc.version_name(v).to_string()).collect()
                })
                .collect(),
            delay_rng: stream(seed, &format!("clients/{client}/flow")),
            cfg: cfg.clone(),
        }
    }

    fn into_output(self) -> FlowOutput {
        let names = &self.version_names;
        let paths = self
            .paths
            .into_iter()
            .map(|(versions, (completed, failed))| FlowPath {
                versions: versions
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| match v {
                        NONE => "-".to_string(),
                        SKIPPED => "skipped".to_string(),
                        v => names[k][v as usize].clone(),
                    })
                    .collect(),
                completed,
                failed,
            })
            .collect();
        FlowOutput { paths, ..self.out }
    }
}

/// One flow in progress.
struct FlowRun {
    gen: u32,
    live: bool,
    client: ClientId,
    step: u32,
    /// Per step: the version that answered, `NONE`, or `SKIPPED`; and the answer's flags.
    versions: Vec<u32>,
    flags: Vec<u64>,
}

/// Where a run goes after `Flows::advance`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Advance {
    /// Its next step's request is due after `delay_ns` (at once when zero): call
    /// `step_due(flow, gen)` then.
    Due { gen: u32, delay_ns: u64 },
    /// It passed its last step: end it, completed.
    Completed,
}

/// The flow subsystem: every flow client group's figures and the runs in progress.
///
/// **Invariant:** per group, runs started = completed + failed + in progress (`check`); a
/// run's step only moves forward, and a freed run's slot answers to no stale `gen`.
pub(super) struct Flows {
    /// Per client group, its flow, if it runs one.
    stats: IdVec<ClientId, Option<FlowStats>>,
    slots: IdVec<FlowId, FlowRun>,
    free: Vec<FlowId>,
    n_live: u64,
}

impl Flows {
    /// The flows of `clients` (none for groups without one).
    pub(super) fn new(
        clients: &[crate::config::ClientConfig],
        services: &[crate::config::ServiceConfig],
        n_buckets: usize,
        seed: u64,
    ) -> Flows {
        let stats = clients
            .iter()
            .map(|c| c.flow.as_ref().map(|f| FlowStats::new(&c.name, f, services, n_buckets, seed)))
            .collect();
        Flows { stats, slots: IdVec::new(), free: Vec::new(), n_live: 0 }
    }

    fn stats(&mut self, c: ClientId) -> &mut FlowStats {
        self.stats[c].as_mut().expect("a flow client has flow stats")
    }

    /// A run of `client`'s flow starts (counted in bucket `bucket`); `advance` it next.
    pub(super) fn start(&mut self, client: ClientId, bucket: usize) -> FlowId {
        let stats = self.stats(client);
        stats.out.started += 1;
        stats.out.series[bucket].started += 1;
        let n_steps = stats.cfg.steps.len();
        self.n_live += 1;
        let reset = |r: &mut FlowRun| {
            r.live = true;
            r.client = client;
            r.step = 0;
            r.versions.clear();
            r.versions.resize(n_steps, NONE);
            r.flags.clear();
            r.flags.resize(n_steps, 0);
        };
        match self.free.pop() {
            Some(k) => {
                let r = &mut self.slots[k];
                r.gen = r.gen.wrapping_add(1);
                reset(r);
                k
            }
            None => {
                let mut r =
                    FlowRun { gen: 0, live: true, client, step: 0, versions: Vec::new(), flags: Vec::new() };
                reset(&mut r);
                self.slots.push(r)
            }
        }
    }

    /// A key unique to run `k` among all runs of the run.
    pub(super) fn key(&self, k: FlowId) -> u64 {
        u64::from(k.raw()) << 32 | u64::from(self.slots[k].gen)
    }

    /// Moves run `flow` to its next step that runs, passing the steps whose condition on
    /// earlier answers does not hold, and draws that step's delay.
    pub(super) fn advance(&mut self, flow: FlowId) -> Advance {
        let run = &mut self.slots[flow];
        let stats = self.stats[run.client].as_mut().expect("flow stats");
        loop {
            let step = run.step as usize;
            if step >= stats.cfg.steps.len() {
                return Advance::Completed;
            }
            let holds = match stats.cfg.steps[step].when {
                FlowCondition::Always => true,
                FlowCondition::Flag { step: s, flag, set } => (run.flags[s as usize] >> flag & 1 == 1) == set,
                FlowCondition::ServedBy { step: s, version, is } => {
                    (run.versions[s as usize] == version) == is
                }
            };
            if !holds {
                stats.out.steps[step].skipped += 1;
                run.versions[step] = SKIPPED;
                run.step += 1;
                continue;
            }
            let delay_ns = round_ns(stats.cfg.steps[step].delay.sample(&mut stats.delay_rng));
            return Advance::Due { gen: run.gen, delay_ns };
        }
    }

    /// The delay of run `flow`'s step is over: the request it sends (its client group and
    /// target), or `None` if the run it was for has ended.
    pub(super) fn step_due(
        &mut self,
        flow: FlowId,
        gen: u32,
    ) -> Option<(ClientId, (ServiceId, crate::config::EndpointId))> {
        let run = &self.slots[flow];
        if !run.live || run.gen != gen {
            return None;
        }
        let (client, step) = (run.client, run.step as usize);
        let stats = self.stats(client);
        stats.out.steps[step].run += 1;
        let s = &stats.cfg.steps[step];
        Some((client, (s.service, s.endpoint)))
    }

    /// The request of run `flow`'s current step ended with `a`. Returns whether the run goes
    /// on (`advance` it) or failed (`end` it).
    pub(super) fn answered(&mut self, flow: FlowId, a: &ClientAnswer) -> bool {
        let run = &mut self.slots[flow];
        debug_assert!(run.live, "an answer for a flow that ended");
        let step = run.step as usize;
        run.versions[step] = a.version;
        run.flags[step] = a.flags;
        let client = run.client;
        self.stats(client).out.steps[step].outcomes.add(a.outcome);
        let ok = a.outcome.is_success();
        if ok {
            self.slots[flow].step += 1;
        }
        ok
    }

    /// Run `flow` ends (counted in bucket `bucket`), completed or failed, and its slot is
    /// freed. Returns its client group.
    pub(super) fn end(&mut self, flow: FlowId, completed: bool, bucket: usize) -> ClientId {
        let run = &mut self.slots[flow];
        assert!(run.live, "a flow run ends once");
        let client = run.client;
        let stats = self.stats[client].as_mut().expect("flow stats");
        let path = stats.paths.entry(run.versions.clone()).or_default();
        if completed {
            path.0 += 1;
            stats.out.completed += 1;
            stats.out.series[bucket].completed += 1;
        } else {
            path.1 += 1;
            stats.out.failed += 1;
            stats.out.series[bucket].failed += 1;
        }
        run.live = false;
        self.free.push(flow);
        self.n_live -= 1;
        client
    }

    /// Checks that runs started = completed + failed + in progress, over every flow group.
    ///
    /// # Panics
    /// If runs were lost or duplicated.
    pub(super) fn check(&self) {
        let (mut started, mut ended) = (0, 0);
        for f in self.stats.iter().flatten() {
            started += f.out.started;
            ended += f.out.completed + f.out.failed;
        }
        let live = self.slots.iter().filter(|r| r.live).count() as u64;
        assert_eq!(live, self.n_live, "flow runs in progress miscounted");
        assert_eq!(started, ended + self.n_live, "flows leaked or duplicated");
    }

    /// Each client group's flow figures (`None` for groups without a flow), in order.
    pub(super) fn into_outputs(self) -> Vec<Option<FlowOutput>> {
        self.stats.into_iter().map(|s| s.map(FlowStats::into_output)).collect()
    }
}

impl World {
    /// A client group's arrival starts a flow run.
    pub(super) fn start_flow(&mut self, sched: &mut Scheduler<Event>, client: ClientId) {
        let b = self.bucket(sched.now());
        let flow = self.flows.start(client, b);
        self.advance_flow(sched, flow);
    }

    /// Moves run `flow` to its next step that runs: its request is scheduled after its
    /// delay (or sent at once); past the last step the flow completes.
    fn advance_flow(&mut self, sched: &mut Scheduler<Event>, flow: FlowId) {
        match self.flows.advance(flow) {
            Advance::Completed => self.end_flow(sched, flow, true),
            Advance::Due { gen, delay_ns: 0 } => self.on_flow_step(sched, flow, gen),
            Advance::Due { gen, delay_ns } => {
                sched.after(SimDuration(delay_ns), Event::FlowStep { flow, gen })
            }
        }
    }

    /// A step's delay is over: its request goes out.
    pub(super) fn on_flow_step(&mut self, sched: &mut Scheduler<Event>, flow: FlowId, gen: u32) {
        if let Some((client, target)) = self.flows.step_due(flow, gen) {
            self.send_client_request(sched, client, Some(flow), target);
        }
    }

    /// A step's request ended: the flow goes on, or fails.
    pub(super) fn flow_step_answered(&mut self, sched: &mut Scheduler<Event>, flow: FlowId, a: ClientAnswer) {
        if self.flows.answered(flow, &a) {
            self.advance_flow(sched, flow);
        } else {
            self.end_flow(sched, flow, false);
        }
    }

    /// Run `flow` ends, completed or failed; a closed-loop user thinks before the next.
    fn end_flow(&mut self, sched: &mut Scheduler<Event>, flow: FlowId, completed: bool) {
        let b = self.bucket(sched.now());
        let client = self.flows.end(flow, completed, b);
        self.user_thinks(sched, client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EndpointId, FlowStep};
    use squall_kernel::Dist;

    /// Flows over the one-service world of the engine's tests: step 0 always, step 1 only
    /// if step 0's answer set flag 0, step 2 always after 5 ms.
    fn flows() -> Flows {
        let mut cfg = super::super::tests::single(1.0, 1.0, 1, 1, 1, false);
        let step = |name: &str, delay_ns: f64, when| FlowStep {
            name: name.into(),
            service: ServiceId(0),
            endpoint: EndpointId(0),
            delay: Dist::constant(delay_ns).unwrap(),
            when,
        };
        cfg.clients[0].flow = Some(FlowConfig {
            steps: vec![
                step("a", 0.0, FlowCondition::Always),
                step("b", 0.0, FlowCondition::Flag { step: 0, flag: 0, set: true }),
                step("c", 5e6, FlowCondition::Always),
            ],
        });
        Flows::new(&cfg.clients, &cfg.services, 1, 1)
    }

    fn answer(outcome: Outcome, flags: u64) -> ClientAnswer {
        ClientAnswer { issued: SimTime::ZERO, outcome, service: ServiceId(0), version: 0, flags }
    }

    const C: ClientId = ClientId(0);

    #[test]
    fn a_step_whose_condition_fails_is_skipped_and_the_run_completes_after_the_last() {
        let mut f = flows();
        let run = f.start(C, 0);
        assert_eq!(f.advance(run), Advance::Due { gen: 0, delay_ns: 0 });
        assert_eq!(f.step_due(run, 0), Some((C, (ServiceId(0), EndpointId(0)))));
        // No flag 0: step "b" is passed, "c" is due after its delay.
        assert!(f.answered(run, &answer(Outcome::Ok, 0b10)));
        assert_eq!(f.advance(run), Advance::Due { gen: 0, delay_ns: 5_000_000 });
        assert!(f.step_due(run, 0).is_some());
        assert!(f.answered(run, &answer(Outcome::Ok, 0)));
        assert_eq!(f.advance(run), Advance::Completed);
        assert_eq!(f.end(run, true, 0), C);
        f.check();
        let out = f.into_outputs().remove(0).expect("a flow");
        assert_eq!((out.started, out.completed, out.failed), (1, 1, 0));
        assert_eq!(out.steps[1].skipped, 1);
        assert_eq!(out.steps[1].run, 0);
        assert_eq!(out.paths.len(), 1);
        assert_eq!(out.paths[0].versions.len(), 3);
        assert_eq!(out.paths[0].versions[1], "skipped");
        assert_eq!(out.paths[0].versions[0], out.paths[0].versions[2]);
    }

    #[test]
    fn a_failed_step_fails_the_run_and_a_reused_slot_ignores_the_old_runs_timer() {
        let mut f = flows();
        let first = f.start(C, 0);
        assert_eq!(f.advance(first), Advance::Due { gen: 0, delay_ns: 0 });
        assert!(!f.answered(first, &answer(Outcome::ServerError, 0)));
        f.end(first, false, 0);
        let second = f.start(C, 0);
        assert_eq!(second, first, "the slot is reused");
        assert_ne!(f.key(second), 0, "a new generation gives a new key");
        assert_eq!(f.step_due(first, 0), None, "the first run's timer finds a newer run");
        assert!(f.step_due(second, 1).is_some());
        f.check();
        let out = f.into_outputs().remove(0).expect("a flow");
        assert_eq!((out.started, out.completed, out.failed), (2, 0, 1));
        assert_eq!(out.steps[0].run, 1);
    }

    #[test]
    fn groups_without_a_flow_have_no_figures() {
        let cfg = super::super::tests::single(1.0, 1.0, 1, 1, 1, false);
        let f = Flows::new(&cfg.clients, &cfg.services, 1, 1);
        f.check();
        assert!(f.into_outputs()[0].is_none());
    }
}
