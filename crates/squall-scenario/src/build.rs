//! Checks across entities and the build of a [`ModelConfig`]: names resolve to ids, calls do
//! not form cycles, settings that depend on each other agree, and every problem is collected
//! before any is reported.
//!
//! This is the orchestrator: each domain of `spec` builds its own part next to its types
//! (`spec::services`, `spec::policies`, `spec::fleet`, `spec::clients`, `spec::faults`,
//! `spec::checks`), with the helpers here to name paths and record problems.
//!
//! Checks that compare two fields of one struct (`min_limit <= initial_limit`, core and
//! maximum thread-pool sizes, `steps` against `work`) run while building rather than while
//! reading: ron could only point past the struct's end, and an override may need to change
//! both fields before the pair makes sense again.

use squall_kernel::time::NS_PER_MS;
use squall_kernel::SimDuration;
use squall_model::{Limits, ModelConfig};

use crate::error::{Origin, Problem, ScenarioError};
use crate::locate::{line_col, locate, path_string, Seg};
use crate::overrides::{related_change, Change};
use crate::spec::{
    build_clients, build_deploys, build_faults, build_services, check_cycles, collect_flags, Dur,
    ScenarioSpec, WarmupSpec,
};

/// A problem before it is given an origin: the paths it concerns (the first is shown) and
/// the quoted name to point at in the source, if any.
pub(crate) struct Pending {
    pub paths: Vec<Vec<Seg>>,
    pub anchor: Option<String>,
    pub message: String,
}

pub(crate) fn key(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

pub(crate) fn path(segs: &[&str]) -> Vec<Seg> {
    segs.iter().map(|s| key(s)).collect()
}

/// `base` followed by the fields `more`.
pub(crate) fn under(base: &[Seg], more: &[&str]) -> Vec<Seg> {
    let mut p = base.to_vec();
    p.extend(more.iter().map(|s| key(s)));
    p
}

/// `base[i]`.
pub(crate) fn index(base: &[Seg], i: usize) -> Vec<Seg> {
    let mut p = base.to_vec();
    p.push(Seg::Index(i));
    p
}

/// Records a problem at one path.
pub(crate) fn problem(pending: &mut Vec<Pending>, at: Vec<Seg>, message: String) {
    pending.push(Pending { paths: vec![at], anchor: None, message });
}

/// Where the problems come from, to give each one an origin.
pub(crate) struct Context<'a> {
    pub source: &'a str,
    pub file: &'a str,
    /// The overrides applied, in order, each with whom to blame.
    pub changes: &'a [Change],
    /// Who to blame for a problem no override explains: the variant being built, if any.
    /// (The baseline built cleanly first, so the variant caused it.)
    pub fallback: Option<Origin>,
}

impl Context<'_> {
    fn origin(&self, p: &Pending) -> Origin {
        if let Some(c) = p.paths.iter().find_map(|path| related_change(self.changes, path)) {
            return c.origin.clone();
        }
        if let Some(o) = &self.fallback {
            return o.clone();
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
pub(crate) fn build(spec: &ScenarioSpec, ctx: &Context<'_>) -> Result<Built, ScenarioError> {
    let mut pending = Vec::new();
    let flags = collect_flags(spec, &mut pending);
    let services = build_services(spec, &flags, &mut pending);
    check_cycles(spec, &services, &mut pending);
    let clients = build_clients(spec, &services, &flags, &mut pending);
    let faults = build_faults(spec, &mut pending);
    let deploys = build_deploys(spec, &services, &mut pending);
    let invariants = crate::spec::build_invariants(spec, &faults, &deploys, &mut pending);
    let explore = crate::spec::build_explore(spec);
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
    assert_eq!(faults.len(), spec.faults.len(), "faults follow file order");
    assert_eq!(deploys.len(), spec.deploys.len(), "deploys follow file order");
    let duration = SimDuration::from_nanos(spec.duration.0.ns);
    assert!(duration.as_nanos() > 0, "a zero duration passed the field check");
    let bucket_width = bucket_width(duration, spec.timeseries.bucket.0.ns, spec.timeseries.max_buckets.0);
    let max_in_flight =
        u32::try_from(spec.limits.max_in_flight.0).expect("max_in_flight is bounded by u32::MAX when read");
    let config = ModelConfig {
        seed: spec.seed.0,
        duration,
        bucket_width,
        limits: Limits {
            max_events: spec.limits.max_events.0,
            max_in_flight,
            max_memory_bytes: spec.limits.max_memory.0,
        },
        services,
        clients,
        faults,
        deploys,
        flags,
        warmup: spec.warmup.as_ref().map(WarmupSpec::to_model),
    };
    Ok(Built { config, invariants, explore })
}

/// What a scenario file builds into: the model, and what checks assert and explore.
pub(crate) struct Built {
    pub config: ModelConfig,
    pub invariants: Vec<squall_explore::Invariant>,
    pub explore: Vec<squall_explore::Axis>,
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

pub(crate) fn u32_of(n: u64, what: &str) -> u32 {
    u32::try_from(n).unwrap_or_else(|_| panic!("{what} {n} passed a u32 bound check"))
}

pub(crate) fn id_of(index: usize) -> u32 {
    // A 10 MiB file cannot hold 2^32 entities.
    u32::try_from(index).expect("fewer than 2^32 entities in a 10 MiB file")
}

pub(crate) fn duration_of(d: &Dur) -> SimDuration {
    SimDuration::from_nanos(d.ns)
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
