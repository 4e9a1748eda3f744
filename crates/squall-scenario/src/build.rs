//! Checks across entities and the build of a [`ModelConfig`]: names resolve to ids, calls do
//! not form cycles, and every problem is collected before any is reported.

use std::collections::BTreeSet;

use squall_kernel::time::NS_PER_MS;
use squall_kernel::{SimDuration, SimTime};
use squall_model::{
    ArrivalProcess, BalancerKind, CallConfig, ClientConfig, Criticality, EndpointConfig, EndpointId, Limits,
    Load, ModelConfig, QueueConfig, RateSchedule, ServiceConfig, ServiceId, Step,
};

use crate::error::{unknown_name, unknown_name_in, Origin, Problem, ScenarioError};
use crate::locate::{line_col, locate, path_string, Seg};
use crate::overrides::{related_override, Override};
use crate::spec::{ArrivalsSpec, BalancerSpec, ScenarioSpec, ServiceSpec, StepSpec};

/// A problem before it is given an origin: the paths it concerns (the first is shown) and
/// the quoted name to point at in the source, if any.
struct Pending {
    paths: Vec<Vec<Seg>>,
    anchor: Option<String>,
    message: String,
}

fn key(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

fn path(segs: &[&str]) -> Vec<Seg> {
    segs.iter().map(|s| key(s)).collect()
}

/// Where the problems come from, to give each one an origin.
pub(crate) struct Context<'a> {
    pub source: &'a str,
    pub file: &'a str,
    pub overrides: &'a [Override],
}

impl Context<'_> {
    fn origin(&self, p: &Pending) -> Origin {
        if let Some(o) = p.paths.iter().find_map(|path| related_override(self.overrides, path)) {
            return Origin::Override { set: o.to_string() };
        }
        match locate(self.source, &p.paths[0], p.anchor.as_deref()) {
            Some(at) => {
                let (line, col) = line_col(self.source, at);
                Origin::Source { file: self.file.to_string(), line, col }
            }
            None => Origin::File { file: self.file.to_string() },
        }
    }
}

/// Checks `spec` as a whole and builds the model configuration.
///
/// # Errors
/// [`ScenarioError::Invalid`] with every problem found.
pub(crate) fn build(spec: &ScenarioSpec, ctx: &Context<'_>) -> Result<ModelConfig, ScenarioError> {
    let mut pending = Vec::new();
    let services = build_services(spec, &mut pending);
    check_cycles(&services, &mut pending);
    let clients = build_clients(spec, &mut pending);
    if !pending.is_empty() {
        let problems = pending
            .iter()
            .map(|p| Problem {
                origin: ctx.origin(p),
                path: path_string(&p.paths[0]),
                message: p.message.clone(),
            })
            .collect();
        return Err(ScenarioError::Invalid { problems });
    }
    assert_eq!(services.len(), spec.services.0.len(), "service ids follow file order");
    assert_eq!(clients.len(), spec.clients.0.len(), "client ids follow file order");
    let duration = SimDuration::from_nanos(spec.duration.0.ns);
    assert!(duration.as_nanos() > 0, "a zero duration passed the field check");
    let bucket_width = bucket_width(duration, spec.timeseries.bucket.0.ns, spec.timeseries.max_buckets.0);
    let max_in_flight =
        u32::try_from(spec.limits.max_in_flight.0).expect("max_in_flight is bounded by u32::MAX when read");
    Ok(ModelConfig {
        faults: Vec::new(),
        seed: spec.seed.0,
        duration,
        bucket_width,
        limits: Limits { max_events: spec.limits.max_events.0, max_in_flight },
        services,
        clients,
    })
}

/// The effective bucket width: at least `bucket_ns`, wide enough that `duration` needs at
/// most `max_buckets` buckets, rounded up to a whole millisecond.
pub(crate) fn bucket_width(duration: SimDuration, bucket_ns: u64, max_buckets: u64) -> SimDuration {
    assert!(max_buckets > 0, "max_buckets is at least 1 when read");
    let needed_ns = duration.as_nanos().div_ceil(max_buckets);
    let width_ns = bucket_ns.max(needed_ns).max(1);
    let width_ms = width_ns.div_ceil(NS_PER_MS);
    SimDuration::from_nanos(width_ms.saturating_mul(NS_PER_MS))
}

fn u32_of(n: u64, what: &str) -> u32 {
    u32::try_from(n).unwrap_or_else(|_| panic!("{what} {n} passed a u32 bound check"))
}

fn id_of(index: usize) -> u32 {
    // A 10 MiB file cannot hold 2^32 entities.
    u32::try_from(index).expect("fewer than 2^32 entities in a 10 MiB file")
}

fn build_services(spec: &ScenarioSpec, pending: &mut Vec<Pending>) -> Vec<ServiceConfig> {
    if spec.services.0.is_empty() {
        pending.push(Pending {
            paths: vec![path(&["services"])],
            anchor: None,
            message: "at least one service is needed".to_string(),
        });
    }
    let mut services = Vec::with_capacity(spec.services.0.len());
    for (name, s) in &spec.services.0 {
        if s.endpoints.0.is_empty() {
            pending.push(Pending {
                paths: vec![path(&["services", name, "endpoints"])],
                anchor: None,
                message: "a service needs at least one endpoint".to_string(),
            });
        }
        let mut endpoints = Vec::with_capacity(s.endpoints.0.len());
        for (ep_name, ep) in &s.endpoints.0 {
            let mut calls = Vec::with_capacity(ep.calls.len());
            for (i, call) in ep.calls.iter().enumerate() {
                let mut at = path(&["services", name, "endpoints", ep_name, "calls"]);
                at.push(Seg::Index(i));
                if let Some((service, endpoint)) = resolve(spec, &call.service, &call.endpoint, &at, pending)
                {
                    calls.push(CallConfig {
                        service,
                        endpoint,
                        timeout: call.timeout.as_ref().map(|t| SimDuration::from_nanos(t.0.ns)),
                        cache: None,
                    });
                }
            }
            let mut steps = vec![Step::Work(ep.work.dist.clone())];
            steps.extend(calls.into_iter().map(|c| Step::Calls { calls: vec![c], need: 1 }));
            endpoints.push(EndpointConfig { name: ep_name.clone(), steps, blocking: true, cache: None });
        }
        services.push(service_config(name, s, endpoints));
    }
    services
}

fn service_config(name: &str, s: &ServiceSpec, endpoints: Vec<EndpointConfig>) -> ServiceConfig {
    ServiceConfig::new(
        name,
        u32_of(s.replicas.0, "replicas"),
        u32_of(s.workers.0, "workers"),
        QueueConfig::fifo(u32_of(s.queue.capacity.0, "capacity"), s.queue.shared),
        match s.balancer {
            BalancerSpec::RoundRobin => BalancerKind::RoundRobin,
            BalancerSpec::Random => BalancerKind::Random,
            BalancerSpec::LeastOutstanding => BalancerKind::LeastOutstanding,
            BalancerSpec::PowerOfTwoChoices => BalancerKind::PowerOfTwoChoices,
        },
        endpoints,
    )
}

/// Resolves a `(service, endpoint)` reference made at `at`, or records why it does not.
fn resolve(
    spec: &ScenarioSpec,
    service: &str,
    endpoint: &str,
    at: &[Seg],
    pending: &mut Vec<Pending>,
) -> Option<(ServiceId, EndpointId)> {
    let Some((s_index, _, s)) = spec.services.0.get_full(service) else {
        let names: Vec<&str> = spec.services.0.keys().map(String::as_str).collect();
        let mut p = at.to_vec();
        p.push(key("service"));
        pending.push(Pending {
            paths: vec![p],
            anchor: Some(service.to_string()),
            message: unknown_name("service", service, &names),
        });
        return None;
    };
    let Some(e_index) = s.endpoints.0.get_index_of(endpoint) else {
        let names: Vec<&str> = s.endpoints.0.keys().map(String::as_str).collect();
        let mut p = at.to_vec();
        p.push(key("endpoint"));
        pending.push(Pending {
            paths: vec![p],
            anchor: Some(endpoint.to_string()),
            message: unknown_name_in("endpoint", endpoint, &format!(" of service `{service}`"), &names),
        });
        return None;
    };
    Some((ServiceId(id_of(s_index)), EndpointId(id_of(e_index))))
}

/// Finds call cycles with an iterative depth-first search (a recursive one could overflow the
/// stack on a long chain) and reports each cycle once, from the endpoint that comes first in
/// the file.
fn check_cycles(services: &[ServiceConfig], pending: &mut Vec<Pending>) {
    // Node = (service, endpoint); index nodes densely in file order.
    let mut first_node = Vec::with_capacity(services.len());
    let mut n_nodes = 0usize;
    for s in services {
        first_node.push(n_nodes);
        n_nodes += s.endpoints.len();
    }
    let node_of = |s: ServiceId, e: EndpointId| first_node[s.0 as usize] + e.0 as usize;
    let mut names = Vec::with_capacity(n_nodes);
    let mut edges: Vec<Vec<usize>> = Vec::with_capacity(n_nodes);
    for s in services {
        for e in &s.endpoints {
            names.push((s.name.clone(), e.name.clone()));
            edges.push(e.calls().map(|c| node_of(c.service, c.endpoint)).collect());
        }
    }
    assert_eq!(names.len(), n_nodes, "every endpoint is a node");

    #[derive(Clone, Copy, PartialEq)]
    enum Color {
        White,
        Grey,
        Black,
    }
    let mut color = vec![Color::White; n_nodes];
    let mut seen_cycles: BTreeSet<Vec<usize>> = BTreeSet::new();
    for root in 0..n_nodes {
        if color[root] != Color::White {
            continue;
        }
        // (node, next edge to follow); the stack is the current call path.
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        color[root] = Color::Grey;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let Some(&callee) = edges[node].get(*next) else {
                color[node] = Color::Black;
                stack.pop();
                continue;
            };
            *next += 1;
            match color[callee] {
                Color::White => {
                    color[callee] = Color::Grey;
                    stack.push((callee, 0));
                }
                Color::Grey => {
                    let start =
                        stack.iter().position(|&(n, _)| n == callee).expect("a grey node is on the stack");
                    let cycle: Vec<usize> = stack[start..].iter().map(|&(n, _)| n).collect();
                    // Rotate so the cycle starts at its first node in file order.
                    let min_at = cycle.iter().enumerate().min_by_key(|&(_, n)| n).map_or(0, |(i, _)| i);
                    let mut canonical = cycle[min_at..].to_vec();
                    canonical.extend_from_slice(&cycle[..min_at]);
                    if seen_cycles.insert(canonical.clone()) {
                        pending.push(cycle_problem(&canonical, &names));
                    }
                }
                Color::Black => {}
            }
        }
    }
}

fn cycle_problem(cycle: &[usize], names: &[(String, String)]) -> Pending {
    let mut chain: Vec<String> = cycle.iter().map(|&n| format!("{}.{}", names[n].0, names[n].1)).collect();
    chain.push(chain[0].clone());
    let paths =
        cycle.iter().map(|&n| path(&["services", &names[n].0, "endpoints", &names[n].1, "calls"])).collect();
    Pending { paths, anchor: None, message: format!("call cycle {}", chain.join(" -> ")) }
}

fn build_clients(spec: &ScenarioSpec, pending: &mut Vec<Pending>) -> Vec<ClientConfig> {
    if spec.clients.0.is_empty() {
        pending.push(Pending {
            paths: vec![path(&["clients"])],
            anchor: None,
            message: "at least one client group is needed".to_string(),
        });
    }
    let mut clients = Vec::with_capacity(spec.clients.0.len());
    for (name, c) in &spec.clients.0 {
        let at = path(&["clients", name, "target"]);
        let target = resolve(spec, &c.target.service, &c.target.endpoint, &at, pending);
        let load = match &c.arrivals {
            ArrivalsSpec::Poisson { rate } => open(ArrivalProcess::Poisson, rate.0, &c.schedule.0),
            ArrivalsSpec::Constant { rate } => open(ArrivalProcess::Constant, rate.0, &c.schedule.0),
            ArrivalsSpec::Closed { users, think } => {
                if !c.schedule.0.is_empty() {
                    pending.push(Pending {
                        paths: vec![
                            path(&["clients", name, "schedule"]),
                            path(&["clients", name, "arrivals"]),
                        ],
                        anchor: None,
                        message: "a schedule changes the rate of open-loop arrivals (Poisson or Constant); \
                                  Closed arrivals have no rate to change"
                            .to_string(),
                    });
                }
                Load::Closed { users: u32_of(users.0, "users"), think: think.dist.clone() }
            }
        };
        // An unresolved client is left out; the problem recorded for it fails the build.
        if let Some((service, endpoint)) = target {
            clients.push(ClientConfig {
                name: name.clone(),
                service,
                endpoint,
                load,
                timeout: c.timeout.as_ref().map(|t| SimDuration::from_nanos(t.0.ns)),
                criticality: Criticality::default(),
            });
        }
    }
    clients
}

/// The rate schedule: `(0, rate)`, then for each entry the current rate at its start and the
/// new rate at its end (the same instant for a step).
fn open(process: ArrivalProcess, rate: f64, schedule: &[StepSpec]) -> Load {
    let mut points = vec![(SimTime::ZERO, rate)];
    let mut current = rate;
    for step in schedule {
        let (start, end, next) = match step {
            StepSpec::Step { at, rate } => (at.ns, at.ns, rate.0),
            StepSpec::Ramp { start, end, rate } => (start.ns, end.ns, rate.0),
        };
        points.push((SimTime(start), current));
        points.push((SimTime(end), next));
        current = next;
    }
    debug_assert!(points.windows(2).all(|w| w[0].0 <= w[1].0), "schedule points sorted: {points:?}");
    Load::Open { process, rate: RateSchedule { points } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use squall_kernel::time::NS_PER_S;

    #[test]
    fn bucket_width_grows_to_bound_the_bucket_count_and_rounds_up_to_a_millisecond() {
        let s = |x: u64| SimDuration::from_secs(x);
        assert_eq!(bucket_width(s(600), NS_PER_S, 3600), s(1));
        assert_eq!(bucket_width(s(36_000), NS_PER_S, 3600), s(10));
        assert_eq!(bucket_width(s(7200), NS_PER_S / 2, 3600), s(2));
        assert_eq!(bucket_width(s(1), 1, 3600), SimDuration::from_millis(1));
        assert_eq!(bucket_width(s(10), NS_PER_S, 3), SimDuration::from_nanos(3_334 * NS_PER_MS));
        assert_eq!(bucket_width(SimDuration::MAX, 1, 1).as_nanos(), u64::MAX);
    }
}
