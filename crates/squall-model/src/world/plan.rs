//! The run-time form of a [`ModelConfig`]'s endpoints: steps and calls in flat tables with
//! every reference resolved to an index, so the engine follows indices instead of searching
//! or cloning configuration on the hot path.

use super::ids::{CallId, IdVec};
use crate::config::{CacheConfig, EndpointId, FallbackConfig, ModelConfig, ServiceConfig, ServiceId, Step};
use squall_kernel::{Dist, SimDuration};

/// No index: a call without a dependency policy or cache, an endpoint without a cache.
pub(super) const NONE: u32 = u32::MAX;

/// One step of an endpoint.
#[derive(Debug)]
pub(super) enum PlanStep {
    /// Worker time.
    Work(Dist),
    /// Calls `first..first + n` of [`Plan::calls`], sent at once; `need` must succeed.
    Calls { first: CallId, n: u32, need: u32 },
}

/// One endpoint of one service.
#[derive(Debug)]
pub(super) struct EndpointPlan {
    /// Its steps: `first_step..first_step + n_steps` of [`Plan::steps`].
    pub first_step: u32,
    pub n_steps: u32,
    /// Holds its worker while waiting on calls.
    pub blocking: bool,
    /// Index into [`Plan::endpoint_caches`], or [`NONE`]. The cache is in front of the
    /// service: every version's plan of an endpoint names the same one.
    pub cache: u32,
    /// The version has this endpoint (else requests for it are `Unsupported`).
    pub present: bool,
    /// Share of requests that fail with `ServerError` after their steps.
    pub error_rate: f64,
    /// Flags a successful answer carries.
    pub flags: u64,
}

/// One call site.
#[derive(Debug)]
pub(super) struct PlanCall {
    pub service: ServiceId,
    pub endpoint: EndpointId,
    /// The call's own timeout, else its dependency's.
    pub timeout: Option<SimDuration>,
    /// Index into the caller service's `dependencies`, or [`NONE`].
    pub dependency: u32,
    /// Index into [`Plan::edges`]: the (caller, callee) pair its results are summed under.
    pub edge: u32,
    /// Index of the call's cache among its caller service's cached calls, or [`NONE`].
    pub cache: u32,
    /// The call made instead when this one fails and its policy fails over.
    pub failover: Option<CallId>,
}

/// Calls from one service to another, the unit of dependency results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Edge {
    pub caller: ServiceId,
    pub callee: ServiceId,
}

/// The flattened endpoints of every service.
#[derive(Debug)]
pub(super) struct Plan {
    /// Endpoint plans; service `s`'s endpoint `e` in version `v` is at
    /// `endpoint_base[s] + v * n_endpoints[s] + e`.
    pub endpoints: Vec<EndpointPlan>,
    pub endpoint_base: IdVec<ServiceId, u32>,
    pub n_endpoints: IdVec<ServiceId, u32>,
    pub steps: Vec<PlanStep>,
    pub calls: IdVec<CallId, PlanCall>,
    /// Caller-callee pairs with at least one call site, sorted.
    pub edges: Vec<Edge>,
    /// Endpoint caches: the service and configuration of each.
    pub endpoint_caches: Vec<(ServiceId, CacheConfig)>,
    /// Per service, the configurations of its cached call sites (each instance keeps one
    /// cache per entry).
    pub call_caches: Vec<Vec<CacheConfig>>,
}

impl Plan {
    pub fn new(cfg: &ModelConfig) -> Plan {
        let mut edges: Vec<Edge> = cfg
            .services
            .iter()
            .enumerate()
            .flat_map(|(s, sc)| {
                sc.all_endpoints()
                    .flat_map(|e| e.calls())
                    .map(|c| c.service)
                    .chain(sc.dependencies.iter().filter_map(|d| failover_of(sc, d.service).map(|f| f.0)))
                    .map(move |callee| Edge { caller: ServiceId(s as u32), callee })
            })
            .collect();
        edges.sort();
        edges.dedup();
        let mut plan = Plan {
            endpoints: Vec::new(),
            endpoint_base: IdVec::new(),
            n_endpoints: IdVec::new(),
            steps: Vec::new(),
            calls: IdVec::new(),
            edges,
            endpoint_caches: Vec::new(),
            call_caches: vec![Vec::new(); cfg.services.len()],
        };
        for (s, sc) in cfg.services.iter().enumerate() {
            let caller = ServiceId(s as u32);
            plan.endpoint_base.push(plan.endpoints.len() as u32);
            plan.n_endpoints.push(sc.endpoints.len() as u32);
            let caches: Vec<u32> = sc
                .endpoints
                .iter()
                .map(|ep| match &ep.cache {
                    Some(cc) => {
                        plan.endpoint_caches.push((caller, cc.clone()));
                        (plan.endpoint_caches.len() - 1) as u32
                    }
                    None => NONE,
                })
                .collect();
            let table = (0..sc.n_versions()).flat_map(|v| (0..sc.endpoints.len()).map(move |e| (v, e)));
            for (v, e) in table {
                let Some(ep) = sc.version_endpoint(v, e) else {
                    plan.endpoints.push(EndpointPlan {
                        first_step: 0,
                        n_steps: 0,
                        blocking: true,
                        cache: caches[e],
                        present: false,
                        error_rate: 0.0,
                        flags: 0,
                    });
                    continue;
                };
                let first_step = plan.steps.len() as u32;
                for step in &ep.steps {
                    let step = match step {
                        Step::Work(d) => PlanStep::Work(d.clone()),
                        Step::Calls { calls, need } => {
                            let first = plan.calls.next_id();
                            let mut failovers = Vec::new();
                            for c in calls {
                                let dependency = sc
                                    .dependencies
                                    .iter()
                                    .position(|d| d.service == c.service)
                                    .map_or(NONE, |i| i as u32);
                                let dep_timeout =
                                    sc.dependencies.get(dependency as usize).and_then(|d| d.policy.timeout);
                                let edge = plan
                                    .edges
                                    .binary_search(&Edge { caller, callee: c.service })
                                    .expect("every call's edge was collected")
                                    as u32;
                                let cache = match &c.cache {
                                    Some(cc) => {
                                        plan.call_caches[s].push(cc.clone());
                                        (plan.call_caches[s].len() - 1) as u32
                                    }
                                    None => NONE,
                                };
                                if let Some(f) = failover_of(sc, c.service) {
                                    failovers.push((plan.calls.next_id(), f));
                                }
                                plan.calls.push(PlanCall {
                                    service: c.service,
                                    endpoint: c.endpoint,
                                    timeout: c.timeout.or(dep_timeout),
                                    dependency,
                                    edge,
                                    cache,
                                    failover: None,
                                });
                            }
                            // Failover calls go after the step's own, which stay contiguous.
                            for (k, (service, endpoint)) in failovers {
                                let dependency = sc
                                    .dependencies
                                    .iter()
                                    .position(|d| d.service == service)
                                    .map_or(NONE, |i| i as u32);
                                let edge = plan
                                    .edges
                                    .binary_search(&Edge { caller, callee: service })
                                    .expect("failover edges were collected")
                                    as u32;
                                plan.calls[k].failover = Some(plan.calls.next_id());
                                plan.calls.push(PlanCall {
                                    service,
                                    endpoint,
                                    timeout: sc
                                        .dependencies
                                        .get(dependency as usize)
                                        .and_then(|d| d.policy.timeout),
                                    dependency,
                                    edge,
                                    cache: NONE,
                                    failover: None,
                                });
                            }
                            let n = calls.len() as u32;
                            assert!(
                                (1..=n).contains(need),
                                "service {} endpoint {}: need {need} of {n} calls",
                                sc.name,
                                ep.name
                            );
                            PlanStep::Calls { first, n, need: *need }
                        }
                    };
                    plan.steps.push(step);
                }
                plan.endpoints.push(EndpointPlan {
                    first_step,
                    n_steps: plan.steps.len() as u32 - first_step,
                    blocking: ep.blocking,
                    cache: caches[e],
                    present: true,
                    error_rate: ep.error_rate,
                    flags: ep.flags,
                });
            }
        }
        plan
    }

    /// Endpoint `e` of service `s` as version `v` serves it.
    #[inline]
    pub fn endpoint(&self, s: ServiceId, v: u32, e: EndpointId) -> &EndpointPlan {
        &self.endpoints[(self.endpoint_base[s] + v * self.n_endpoints[s] + e.0) as usize]
    }
}

/// The service and endpoint a caller fails over to when its calls to `callee` fail.
fn failover_of(caller: &ServiceConfig, callee: ServiceId) -> Option<(ServiceId, EndpointId)> {
    caller.dependencies.iter().find(|d| d.service == callee).and_then(|d| match d.policy.fallback {
        Some(FallbackConfig::Failover { service, endpoint }) => Some((service, endpoint)),
        _ => None,
    })
}
