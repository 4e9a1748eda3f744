//! The parts of `summary.json` about fleets, versions, flows and deploys, each written only
//! when the run has them (see [`crate::fleet`]).

use super::{Num, Outcomes};
use crate::fleet::{fleet_shown, DeployStats, FleetStats, FlowStats, VersionStats};
use serde::Serialize;
use squall_model::{ClientOutput, DeployEvent, FlowPath, FlowStepOutput, RunOutput, ServedBy, ServiceOutput};

/// A service's `fleet`.
#[derive(Serialize)]
pub(super) struct Fleet<'a> {
    versions: Vec<Version<'a>>,
    created: u64,
    crashes: u64,
    probe_kills: u64,
    restarts: u64,
    refused_not_accepting: u64,
    ejections: u64,
    ejections_detected: u64,
    ejections_overflow: u64,
    health_check_failures: u64,
    panic_picks: u64,
    skew_s: Num,
    skew_windows: Vec<[Num; 2]>,
    capacity_mean: Num,
}

#[derive(Serialize)]
struct Version<'a> {
    name: &'a str,
    answered: u64,
    errors: u64,
    error_rate: Num,
    ready_at_end: u32,
    answers: Outcomes<'a>,
}

impl<'a> From<&VersionStats<'a>> for Version<'a> {
    fn from(v: &VersionStats<'a>) -> Self {
        Version {
            name: &v.out.name,
            answered: v.answered,
            errors: v.errors(),
            error_rate: Num(v.error_rate),
            ready_at_end: v.ready_at_end,
            answers: Outcomes(&v.out.answers),
        }
    }
}

/// The service's fleet, when it is reported.
pub(super) fn fleet<'a>(s: &'a ServiceOutput, elapsed_ns: u64) -> Option<Fleet<'a>> {
    fleet_shown(&s.fleet).then(|| {
        let f = FleetStats::of(s, elapsed_ns);
        Fleet {
            versions: f.versions.iter().map(Version::from).collect(),
            created: f.out.created,
            crashes: f.out.crashes,
            probe_kills: f.out.probe_kills,
            restarts: f.out.restarts,
            refused_not_accepting: f.out.refused_not_accepting,
            ejections: f.out.ejections,
            ejections_detected: f.out.ejections_detected,
            ejections_overflow: f.out.ejections_overflow,
            health_check_failures: f.out.health_check_failures,
            panic_picks: f.out.panic_picks,
            skew_s: Num::of(f.skew_s),
            skew_windows: f.skew_windows_s().into_iter().map(|[a, b]| [Num::of(a), Num::of(b)]).collect(),
            capacity_mean: Num(f.capacity_mean),
        }
    })
}

/// One entry of a client's `served_by`.
#[derive(Serialize)]
pub(super) struct Served<'a> {
    service: &'a str,
    version: &'a str,
    outcomes: Outcomes<'a>,
}

impl<'a> From<&'a ServedBy> for Served<'a> {
    fn from(s: &'a ServedBy) -> Self {
        Served { service: &s.service, version: &s.version, outcomes: Outcomes(&s.outcomes) }
    }
}

/// A client's `served_by`, empty when no service it calls has versions.
pub(super) fn served_by(c: &ClientOutput) -> Vec<Served<'_>> {
    c.served_by.iter().map(Served::from).collect()
}

/// A client's `flow`.
#[derive(Serialize)]
pub(super) struct Flow<'a> {
    started: u64,
    completed: u64,
    failed: u64,
    in_flight: u64,
    success_rate: Num,
    steps: Vec<Step<'a>>,
    paths: Vec<Path<'a>>,
}

#[derive(Serialize)]
struct Step<'a> {
    name: &'a str,
    run: u64,
    skipped: u64,
    outcomes: Outcomes<'a>,
}

#[derive(Serialize)]
struct Path<'a> {
    versions: &'a [String],
    completed: u64,
    failed: u64,
}

impl<'a> From<&'a FlowStepOutput> for Step<'a> {
    fn from(s: &'a FlowStepOutput) -> Self {
        Step { name: &s.name, run: s.run, skipped: s.skipped, outcomes: Outcomes(&s.outcomes) }
    }
}

impl<'a> From<&'a FlowPath> for Path<'a> {
    fn from(p: &'a FlowPath) -> Self {
        Path { versions: &p.versions, completed: p.completed, failed: p.failed }
    }
}

/// A client's flow, if it runs one.
pub(super) fn flow(c: &ClientOutput) -> Option<Flow<'_>> {
    let f = FlowStats::of(&c.name, c.flow.as_ref()?);
    Some(Flow {
        started: f.out.started,
        completed: f.out.completed,
        failed: f.out.failed,
        in_flight: f.in_flight,
        success_rate: Num(f.success_rate),
        steps: f.out.steps.iter().map(Step::from).collect(),
        paths: f.out.paths.iter().map(Path::from).collect(),
    })
}

/// One of `deploys`.
#[derive(Serialize)]
pub(super) struct Deploy<'a> {
    name: &'a str,
    service: &'a str,
    version: &'a str,
    strategy: &'a str,
    result: &'static str,
    started_s: Num,
    ended_s: Num,
    duration_s: Num,
    min_available: u32,
    max_pods: u32,
    events: Vec<Event<'a>>,
}

#[derive(Serialize)]
struct Event<'a> {
    at_s: Num,
    what: &'a str,
}

impl<'a> From<&'a DeployEvent> for Event<'a> {
    fn from(e: &'a DeployEvent) -> Self {
        Event { at_s: Num::of(e.at.as_secs_f64()), what: &e.what }
    }
}

/// The run's deploys, in order.
pub(super) fn deploys(out: &RunOutput) -> Vec<Deploy<'_>> {
    out.deploys
        .iter()
        .map(|d| {
            let st = DeployStats::of(d);
            Deploy {
                name: &d.name,
                service: &d.service,
                version: &d.version,
                strategy: &d.strategy,
                result: d.result.name(),
                started_s: Num(st.started_s),
                ended_s: Num(st.ended_s),
                duration_s: Num(st.duration_s()),
                min_available: d.min_available,
                max_pods: d.max_pods,
                events: d.events.iter().map(Event::from).collect(),
            }
        })
        .collect()
}
