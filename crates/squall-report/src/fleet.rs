//! Fleets, versions, flows and deploys, derived once for the table, the JSON, the CSVs and
//! the plots.
//!
//! A run without them reports nothing of them: a service's fleet is shown only when it has
//! more than one version or any lifecycle activity ([`fleet_shown`]), a client group's flow
//! only when it runs one, and deploys only when there are any. So a scenario without fleet
//! features writes the same files as before they existed.

use crate::series::Span;
use crate::stats::ratio;
use squall_kernel::time::NS_PER_S;
use squall_model::metrics::{metric, Ctx, Scope};
use squall_model::{
    DeployOutput, DeployResult, FleetOutput, FlowBucket, FlowOutput, Outcome, OutcomeCounts, RunOutput,
    ServiceOutput, VersionBucket, VersionOutput,
};

/// Whether a service's fleet is worth reporting: more than one version, or instances created,
/// crashed, restarted, refusing work or ejected, or version skew.
pub(crate) fn fleet_shown(f: &FleetOutput) -> bool {
    f.versions.len() > 1
        || f.created + f.crashes + f.restarts + f.refused_not_accepting + f.skew_ns > 0
        || f.ejections_detected + f.panic_picks + f.health_check_failures > 0
        || !f.skew_windows.is_empty()
}

/// The services whose fleet is reported, in run order.
pub(crate) fn fleet_services(out: &RunOutput) -> Vec<&ServiceOutput> {
    out.services.iter().filter(|s| fleet_shown(&s.fleet)).collect()
}

/// The client groups that run a flow, in run order, with their flow.
pub(crate) fn flow_clients(out: &RunOutput) -> Vec<(&str, &FlowOutput)> {
    out.clients.iter().filter_map(|c| c.flow.as_ref().map(|f| (c.name.as_str(), f))).collect()
}

/// One version's derived numbers.
pub(crate) struct VersionStats<'a> {
    pub(crate) out: &'a VersionOutput,
    /// Answers given (any outcome).
    pub(crate) answered: u64,
    /// Failures over answers.
    pub(crate) error_rate: Option<f64>,
    /// Instances ready in the last bucket of its series.
    pub(crate) ready_at_end: u32,
}

impl<'a> VersionStats<'a> {
    fn of(out: &'a VersionOutput) -> VersionStats<'a> {
        let get = |name: &str| metric(Scope::Version, name).of(Ctx::Version(out));
        VersionStats {
            out,
            answered: get("answers").expect("a count is always defined") as u64,
            error_rate: get("error_rate"),
            ready_at_end: out.series.last().map_or(0, |b| b.ready),
        }
    }

    /// Answers that were failures.
    pub(crate) fn errors(&self) -> u64 {
        let errors = metric(Scope::Version, "errors").of(Ctx::Version(self.out));
        errors.expect("a count is always defined") as u64
    }
}

/// One service's fleet, derived.
pub(crate) struct FleetStats<'a> {
    pub(crate) service: &'a str,
    pub(crate) out: &'a FleetOutput,
    pub(crate) versions: Vec<VersionStats<'a>>,
    /// Seconds with two versions or more in the endpoints.
    pub(crate) skew_s: f64,
    /// Mean workers accepting work over the run.
    pub(crate) capacity_mean: Option<f64>,
}

impl<'a> FleetStats<'a> {
    pub(crate) fn of(s: &'a ServiceOutput, elapsed_ns: u64) -> FleetStats<'a> {
        let f = &s.fleet;
        FleetStats {
            service: &s.name,
            out: f,
            versions: f.versions.iter().map(VersionStats::of).collect(),
            skew_s: f.skew_ns as f64 / NS_PER_S as f64,
            capacity_mean: ratio(f.capacity_integral as f64, elapsed_ns as f64),
        }
    }

    /// The skew windows in seconds.
    pub(crate) fn skew_windows_s(&self) -> Vec<[f64; 2]> {
        self.out.skew_windows.iter().map(|(a, b)| [a.as_secs_f64(), b.as_secs_f64()]).collect()
    }
}

/// The fleets of the services that report one, in run order.
pub(crate) fn fleet_stats(out: &RunOutput) -> Vec<FleetStats<'_>> {
    let elapsed_ns = out.end.as_nanos();
    out.services.iter().filter(|s| fleet_shown(&s.fleet)).map(|s| FleetStats::of(s, elapsed_ns)).collect()
}

/// A client group's flow, derived.
pub(crate) struct FlowStats<'a> {
    pub(crate) client: &'a str,
    pub(crate) out: &'a FlowOutput,
    /// Flows started and not ended.
    pub(crate) in_flight: u64,
    /// Completed over ended flows.
    pub(crate) success_rate: Option<f64>,
}

impl<'a> FlowStats<'a> {
    pub(crate) fn of(client: &'a str, out: &'a FlowOutput) -> FlowStats<'a> {
        let get = |name: &str| metric(Scope::Flow, name).of(Ctx::Flow(out));
        FlowStats {
            client,
            out,
            in_flight: get("flow_in_flight").expect("a count is always defined") as u64,
            success_rate: get("success_rate"),
        }
    }
}

/// The flows of the client groups that run one, in run order.
pub(crate) fn flow_stats(out: &RunOutput) -> Vec<FlowStats<'_>> {
    flow_clients(out).into_iter().map(|(c, f)| FlowStats::of(c, f)).collect()
}

/// The failures of `counts` by outcome, most frequent first (ties in `Outcome::ALL` order),
/// at most `n` of them.
pub(crate) fn top_failures(counts: &OutcomeCounts, n: usize) -> Vec<(Outcome, u64)> {
    let mut failures: Vec<(Outcome, u64)> = Outcome::ALL
        .into_iter()
        .filter(|o| !o.is_success())
        .map(|o| (o, counts.get(o)))
        .filter(|(_, c)| *c > 0)
        .collect();
    failures.sort_by_key(|f| std::cmp::Reverse(f.1));
    failures.truncate(n);
    failures
}

/// A deploy, derived: when it started and ended, from its events.
pub(crate) struct DeployStats<'a> {
    pub(crate) out: &'a DeployOutput,
    /// Its first event.
    pub(crate) started_s: Option<f64>,
    /// Its last event, once it completed or rolled back.
    pub(crate) ended_s: Option<f64>,
}

impl<'a> DeployStats<'a> {
    pub(crate) fn of(out: &'a DeployOutput) -> DeployStats<'a> {
        let ended = matches!(out.result, DeployResult::Completed | DeployResult::RolledBack);
        DeployStats {
            out,
            started_s: out.events.first().map(|e| e.at.as_secs_f64()),
            ended_s: out.events.last().filter(|_| ended).map(|e| e.at.as_secs_f64()),
        }
    }

    /// From the first event to the end (to the rollback, for a deploy rolled back).
    pub(crate) fn duration_s(&self) -> Option<f64> {
        self.started_s.zip(self.ended_s).map(|(a, b)| b - a)
    }

    /// `service->version`, the deploy's target in tables.
    pub(crate) fn target(&self) -> String {
        format!("{}->{}", self.out.service, self.out.version)
    }
}

/// Every deploy of the run, in order.
pub(crate) fn deploy_stats(out: &RunOutput) -> Vec<DeployStats<'_>> {
    out.deploys.iter().map(DeployStats::of).collect()
}

/// One version in one reported bucket; a bucket missing from its series reads as empty.
pub(crate) fn version_bucket(v: &VersionOutput, span: &Span) -> VersionBucket {
    v.series.get(span.index).cloned().unwrap_or_default()
}

/// One flow in one reported bucket; a bucket missing from its series reads as empty.
pub(crate) fn flow_bucket(f: &FlowOutput, span: &Span) -> FlowBucket {
    f.series.get(span.index).cloned().unwrap_or_default()
}

/// The share of a service's answers in the bucket that `v` gave; `None` without answers.
pub(crate) fn answer_share(fleet: &FleetOutput, v: &VersionOutput, span: &Span) -> Option<f64> {
    let all: u64 = fleet.versions.iter().map(|x| version_bucket(x, span).answers).sum();
    ratio(version_bucket(v, span).answers as f64, all as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{counts, fleet_output, sample_output};

    #[test]
    fn a_run_without_fleet_features_shows_none() {
        let out = sample_output();
        assert!(fleet_services(&out).is_empty());
        assert!(flow_clients(&out).is_empty());
        assert!(deploy_stats(&out).is_empty());
    }

    #[test]
    fn fleets_flows_and_deploys_are_derived() {
        let out = fleet_output();
        let fleets = fleet_stats(&out);
        assert_eq!(fleets.len(), 1);
        let api = &fleets[0];
        assert_eq!(api.service, "api");
        assert_eq!(api.versions[1].answered, 400);
        assert_eq!(api.versions[1].errors(), 40);
        assert_eq!(api.versions[1].error_rate, Some(0.1));
        assert_eq!(api.versions[0].ready_at_end, 2);
        assert_eq!(api.skew_s, 10.0);
        let flows = flow_stats(&out);
        assert_eq!((flows[0].client, flows[0].in_flight), ("web", 10));
        assert_eq!(flows[0].success_rate, Some(0.95));
        let deploys = deploy_stats(&out);
        assert_eq!((deploys[0].started_s, deploys[0].ended_s), (Some(30.0), Some(45.0)));
        assert_eq!(deploys[0].duration_s(), Some(15.0));
        assert_eq!(deploys[0].target(), "api->v2");
    }

    #[test]
    fn top_failures_come_most_frequent_first() {
        let c = counts(&[(Outcome::Ok, 9), (Outcome::Timeout, 1), (Outcome::ServerError, 5)]);
        assert_eq!(top_failures(&c, 1), [(Outcome::ServerError, 5)]);
        assert_eq!(top_failures(&c, 3), [(Outcome::ServerError, 5), (Outcome::Timeout, 1)]);
    }
}
