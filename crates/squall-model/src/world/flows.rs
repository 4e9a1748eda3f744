//! User flows: a client group's arrival (or user) runs a flow of steps, each a request of the
//! group sent after a delay, skipped when its condition on earlier answers does not hold. A
//! flow fails at the first step that fails for good and completes after its last step. Runs
//! live in a slab reused through a free list; each records the version that answered each of
//! its steps, so flows can be counted by the versions they met.

use super::*;
use crate::config::{FlowCondition, FlowConfig};
use crate::output::{FlowBucket, FlowOutput, FlowPath, FlowStepOutput};
use std::collections::BTreeMap;

/// A step's entry in a run's versions: skipped.
const SKIPPED: u32 = u32::MAX - 1;

/// What a client group's flow reports, and what it needs to run.
pub(super) struct FlowStats {
    cfg: FlowConfig,
    out: FlowOutput,
    /// Ended runs by the versions of their steps: (completed, failed).
    paths: BTreeMap<Vec<u32>, (u64, u64)>,
    /// Per step, the names of its service's versions.
    version_names: Vec<Vec<String>>,
    delay_rng: StreamRng,
}

impl FlowStats {
    pub fn new(
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

    pub fn into_output(self) -> FlowOutput {
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
pub(super) struct FlowRun {
    gen: u32,
    live: bool,
    client: ClientId,
    step: u32,
    /// Per step: the version that answered, `NONE`, or `SKIPPED`; and the answer's flags.
    versions: Vec<u32>,
    flags: Vec<u64>,
}

/// The flow runs in progress.
#[derive(Default)]
pub(super) struct FlowRuns {
    slots: IdVec<FlowId, FlowRun>,
    free: Vec<FlowId>,
    pub n_live: u64,
}

impl FlowRuns {
    fn alloc(&mut self, client: ClientId, n_steps: usize) -> FlowId {
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
    pub fn key(&self, k: FlowId) -> u64 {
        u64::from(k.raw()) << 32 | u64::from(self.slots[k].gen)
    }

    fn release(&mut self, k: FlowId) {
        self.slots[k].live = false;
        self.free.push(k);
        self.n_live -= 1;
    }
}

impl World {
    fn flow_stats(&mut self, c: ClientId) -> &mut FlowStats {
        self.clients[c].flow.as_mut().expect("a flow client has flow stats")
    }

    /// A client group's arrival starts a flow run.
    pub(super) fn start_flow(&mut self, sched: &mut Scheduler<Event>, client: ClientId) {
        let b = self.bucket(sched.now());
        let stats = self.flow_stats(client);
        stats.out.started += 1;
        stats.out.series[b].started += 1;
        let n = stats.cfg.steps.len();
        let flow = self.flows.alloc(client, n);
        self.advance_flow(sched, flow);
    }

    /// Moves run `flow` to its next step that runs: skipped steps are passed, the next
    /// request is scheduled after its delay; past the last step the flow completes.
    fn advance_flow(&mut self, sched: &mut Scheduler<Event>, flow: FlowId) {
        loop {
            let run = &self.flows.slots[flow];
            let (client, step) = (run.client, run.step as usize);
            let stats = self.clients[client].flow.as_mut().expect("flow stats");
            if step >= stats.cfg.steps.len() {
                return self.end_flow(sched, flow, true);
            }
            let holds = match stats.cfg.steps[step].when {
                FlowCondition::Always => true,
                FlowCondition::Flag { step: s, flag, set } => {
                    let flags = self.flows.slots[flow].flags[s as usize];
                    (flags >> flag & 1 == 1) == set
                }
                FlowCondition::ServedBy { step: s, version, is } => {
                    (self.flows.slots[flow].versions[s as usize] == version) == is
                }
            };
            if !holds {
                stats.out.steps[step].skipped += 1;
                let run = &mut self.flows.slots[flow];
                run.versions[step] = SKIPPED;
                run.step += 1;
                continue;
            }
            let d = round_ns(stats.cfg.steps[step].delay.sample(&mut stats.delay_rng));
            let gen = self.flows.slots[flow].gen;
            if d == 0 {
                return self.on_flow_step(sched, flow, gen);
            }
            sched.after(SimDuration(d), Event::FlowStep { flow, gen });
            return;
        }
    }

    /// A step's delay is over: its request goes out.
    pub(super) fn on_flow_step(&mut self, sched: &mut Scheduler<Event>, flow: FlowId, gen: u32) {
        let run = &self.flows.slots[flow];
        if !run.live || run.gen != gen {
            return;
        }
        let (client, step) = (run.client, run.step as usize);
        let stats = self.flow_stats(client);
        stats.out.steps[step].run += 1;
        let s = &stats.cfg.steps[step];
        let target = (s.service, s.endpoint);
        self.send_client_request(sched, client, Some(flow), target);
    }

    /// A step's request ended: the flow goes on, or fails.
    pub(super) fn flow_step_answered(&mut self, sched: &mut Scheduler<Event>, flow: FlowId, a: ClientAnswer) {
        let run = &mut self.flows.slots[flow];
        debug_assert!(run.live, "an answer for a flow that ended");
        let step = run.step as usize;
        run.versions[step] = a.version;
        run.flags[step] = a.flags;
        let client = run.client;
        self.flow_stats(client).out.steps[step].outcomes.add(a.outcome);
        if a.outcome.is_success() {
            self.flows.slots[flow].step += 1;
            self.advance_flow(sched, flow);
        } else {
            self.end_flow(sched, flow, false);
        }
    }

    /// Run `flow` ends, completed or failed; a closed-loop user thinks before the next.
    fn end_flow(&mut self, sched: &mut Scheduler<Event>, flow: FlowId, completed: bool) {
        let b = self.bucket(sched.now());
        let run = &self.flows.slots[flow];
        let client = run.client;
        let versions = run.versions.clone();
        let stats = self.flow_stats(client);
        let path = stats.paths.entry(versions).or_default();
        if completed {
            path.0 += 1;
            stats.out.completed += 1;
            stats.out.series[b].completed += 1;
        } else {
            path.1 += 1;
            stats.out.failed += 1;
            stats.out.series[b].failed += 1;
        }
        self.flows.release(flow);
        self.user_thinks(sched, client);
    }

    /// Flows started = completed + failed + in progress, over every flow client.
    pub(super) fn check_flows(&self) {
        let (mut started, mut ended) = (0, 0);
        for c in &self.clients {
            if let Some(f) = &c.flow {
                started += f.out.started;
                ended += f.out.completed + f.out.failed;
            }
        }
        assert_eq!(started, ended + self.flows.n_live, "flows leaked or duplicated");
    }
}
