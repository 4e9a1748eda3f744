//! The documentation of every field, in one table used by [`reference`], [`explain`] and
//! [`suggest_fields`]. A test walks a fully populated scenario and checks that the table
//! and the schema name the same fields.
//!
//! Paths: `*` stands for any name (`services.*.replicas`), `[*]` for any list entry, and
//! enum variants are path segments (`clients.*.arrivals.Poisson.rate`). Every distribution
//! field (`work`, `think`, a mixture's `dist`) has the same shape, documented once under
//! `dist`.

use crate::error::did_you_mean;

/// One documented field.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldDoc {
    pub path: &'static str,
    pub ty: &'static str,
    /// "required" for a field without a default.
    pub default: &'static str,
    pub doc: &'static str,
}

const fn f(path: &'static str, ty: &'static str, default: &'static str, doc: &'static str) -> FieldDoc {
    FieldDoc { path, ty, default, doc }
}

/// The fields whose keys are entity names.
#[cfg(test)]
pub(crate) const MAP_FIELDS: &[&str] = &["services", "services.*.endpoints", "clients"];

/// The fields that hold a distribution, documented under `dist`.
#[cfg(test)]
pub(crate) const DIST_FIELDS: &[&str] =
    &["services.*.endpoints.*.work", "clients.*.arrivals.Closed.think", "dist.Mixture[*].dist"];

const REQ: &str = "required";

/// `(title, introduction, fields)`.
pub(crate) const SECTIONS: &[(&str, &str, &[FieldDoc])] = &[
    (
        "Scenario",
        "The file holds one `Scenario(...)`. Field order does not matter; unknown fields are errors.",
        &[
            f("name", "string, not empty", REQ, "Name of the scenario, shown in reports."),
            f("description", "string", "`\"\"`", "Free text shown in reports."),
            f("seed", "integer, 0 to 2^64-1", REQ, "Master seed. Every random stream derives from it and a stable name, so the same seed gives the same run. The CLI's `--seed` overrides it."),
            f("duration", "duration, > 0", REQ, "Simulated time to run for. Requests still in flight at the end are reported as such."),
            f("timeseries", "struct", "`(bucket: \"1s\", max_buckets: 3600)`", "Time-series resolution."),
            f("timeseries.bucket", "duration, > 0", "`\"1s\"`", "Width of one time-series bucket. The width used is `max(bucket, ceil(duration / max_buckets))`, rounded up to a whole millisecond, so memory stays bounded however long the run."),
            f("timeseries.max_buckets", "integer, 1 to 10000000", "`3600`", "Most buckets a run keeps; longer runs get wider buckets."),
            f("limits", "struct", "`(max_events: 2000000000, max_in_flight: 1000000)`", "Bounds that stop a runaway run with an explanation instead of exhausting memory or time."),
            f("limits.max_events", "integer, >= 1", "`2000000000`", "Events handled in all before the run stops."),
            f("limits.max_in_flight", "integer, 1 to 4294967295", "`1000000`", "Requests alive at once (waiting, in service, or awaiting a downstream call) before the run stops."),
        ],
    ),
    (
        "Services",
        "`services` maps names to services. File order gives the service ids; names must be unique, non-empty, and contain no `/` or `.`.",
        &[
            f("services", "map of name to service, at least one", REQ, "The services of the system."),
            f("services.*.replicas", "integer, 1 to 100000", "`1`", "Instances of the service at the start of the run."),
            f("services.*.workers", "integer, 1 to 1000000", "`1`", "Requests one instance serves at once."),
            f("services.*.queue", "struct", "`(capacity: 1000, shared: false)`", "Where requests wait when every worker is busy."),
            f("services.*.queue.capacity", "integer, 0 to 4294967295", "`1000`", "Requests that may wait at once, per instance (or for the whole service if `shared`). 0 means no waiting: a request that finds no idle worker is refused (`QueueFull`)."),
            f("services.*.queue.shared", "bool", "`false`", "One FIFO queue for the whole service, served by every instance's workers (the M/M/c model of Erlang C), instead of one queue per instance behind the balancer."),
            f("services.*.balancer", "one of `RoundRobin`, `Random`, `LeastOutstanding`, `PowerOfTwoChoices`", "`RoundRobin`", "How callers pick an instance: each in turn; uniformly at random; the one with the fewest requests assigned; or the less loaded of two picked at random."),
            f("services.*.endpoints", "map of name to endpoint, at least one", REQ, "The endpoints of the service. File order gives the endpoint ids."),
            f("services.*.endpoints.*.work", "distribution", REQ, "Worker time per request, before the downstream calls. See `dist`."),
            f("services.*.endpoints.*.calls", "list of calls", "`[]`", "Downstream calls made in order after `work`, holding the worker while they wait. Calls must not form a cycle."),
            f("services.*.endpoints.*.calls[*].service", "service name", REQ, "Callee service."),
            f("services.*.endpoints.*.calls[*].endpoint", "endpoint name", REQ, "Callee endpoint, of the callee service."),
            f("services.*.endpoints.*.calls[*].timeout", "duration > 0, or `None`", "`None`", "The caller gives up on the call after this long; `None` waits forever."),
        ],
    ),
    (
        "Clients",
        "`clients` maps names to client groups. File order gives the client ids.",
        &[
            f("clients", "map of name to client group, at least one", REQ, "The sources of load."),
            f("clients.*.target", "struct", REQ, "The endpoint the group calls."),
            f("clients.*.target.service", "service name", REQ, "Service called."),
            f("clients.*.target.endpoint", "endpoint name", REQ, "Endpoint called, of that service."),
            f("clients.*.arrivals", "one of `Poisson(...)`, `Constant(...)`, `Closed(...)`", REQ, "How requests are generated."),
            f("clients.*.arrivals.Poisson", "struct variant", "", "Open loop, exponential gaps between requests (a non-homogeneous Poisson process when a schedule varies the rate)."),
            f("clients.*.arrivals.Poisson.rate", "number, > 0 and <= 1e9", REQ, "Requests per second at the start of the run."),
            f("clients.*.arrivals.Constant", "struct variant", "", "Open loop, gaps of exactly 1/rate."),
            f("clients.*.arrivals.Constant.rate", "number, > 0 and <= 1e9", REQ, "Requests per second at the start of the run."),
            f("clients.*.arrivals.Closed", "struct variant", "", "Closed loop: each user sends a request, waits for its end, thinks, and sends the next."),
            f("clients.*.arrivals.Closed.users", "integer, 1 to 10000000", REQ, "Number of users."),
            f("clients.*.arrivals.Closed.think", "distribution", REQ, "Think time between a response and the user's next request. See `dist`."),
            f("clients.*.schedule", "list of `Step(...)` or `Ramp(...)`", "`[]`", "Changes to the rate of open-loop arrivals over time, in time order and not overlapping. Not allowed with `Closed`. Times past `duration` are allowed and never reached."),
            f("clients.*.schedule[*].Step", "struct variant", "", "The rate jumps to a new value."),
            f("clients.*.schedule[*].Step.at", "duration", REQ, "When the rate changes."),
            f("clients.*.schedule[*].Step.rate", "number, >= 0", REQ, "Requests per second from then on; 0 pauses arrivals."),
            f("clients.*.schedule[*].Ramp", "struct variant", "", "The rate changes linearly from its current value to a new one."),
            f("clients.*.schedule[*].Ramp.start", "duration", REQ, "When the ramp starts."),
            f("clients.*.schedule[*].Ramp.end", "duration, > start", REQ, "When the ramp reaches `rate`."),
            f("clients.*.schedule[*].Ramp.rate", "number, >= 0", REQ, "Requests per second at the end of the ramp, and from then on."),
            f("clients.*.timeout", "duration > 0, or `None`", "`None`", "A client gives up on a request after this long; `None` waits forever."),
        ],
    ),
    (
        "Distributions (`dist`)",
        "Fields of type distribution (`work`, `think`, and a mixture's `dist`) take one of these. \
         All times are duration strings; samples are whole nanoseconds and never negative.",
        &[
            f("dist.Constant", "duration", "", "Always this value: `Constant(\"5ms\")`."),
            f("dist.Uniform", "struct variant", "", "Uniform between two values: `Uniform(low: \"1ms\", high: \"5ms\")`."),
            f("dist.Uniform.low", "duration", REQ, "Lower bound."),
            f("dist.Uniform.high", "duration, >= low", REQ, "Upper bound."),
            f("dist.Exponential", "struct variant", "", "Exponential: `Exponential(mean: \"5ms\")`."),
            f("dist.Exponential.mean", "duration, > 0", REQ, "Mean."),
            f("dist.Normal", "struct variant", "", "Normal, truncated at zero (negative draws are redrawn): `Normal(mean: \"10ms\", std_dev: \"2ms\")`."),
            f("dist.Normal.mean", "duration, > 0", REQ, "Mean of the untruncated normal."),
            f("dist.Normal.std_dev", "duration", REQ, "Standard deviation of the untruncated normal."),
            f("dist.LogNormal", "struct variant", "", "Log-normal, given either as `LogNormal(median: \"8ms\", p99: \"40ms\")` or as `LogNormal(mu: 1.5, sigma: 0.5, unit: \"ms\")`; exactly one of the two forms."),
            f("dist.LogNormal.median", "duration, > 0", "", "Median (first form, with `p99`)."),
            f("dist.LogNormal.p99", "duration, > median", "", "99th percentile (first form, with `median`)."),
            f("dist.LogNormal.mu", "number", "", "Mean of the natural logarithm of the value measured in `unit` (second form)."),
            f("dist.LogNormal.sigma", "number, >= 0", "", "Standard deviation of that logarithm (second form)."),
            f("dist.LogNormal.unit", "one of `ns`, `us`, `ms`, `s`, `m`, `h`", "", "Unit in which `mu` and `sigma` describe the value (second form)."),
            f("dist.Pareto", "struct variant", "", "Bounded Pareto: `Pareto(scale: \"1ms\", shape: 1.5, max: \"1s\")`."),
            f("dist.Pareto.scale", "duration, > 0", REQ, "Smallest value."),
            f("dist.Pareto.shape", "number, > 0", REQ, "Tail index; smaller means a heavier tail."),
            f("dist.Pareto.max", "duration, > scale", REQ, "Largest value."),
            f("dist.Gamma", "struct variant", "", "Gamma: `Gamma(shape: 2.0, scale: \"5ms\")`, mean `shape * scale`."),
            f("dist.Gamma.shape", "number, > 0", REQ, "Shape k."),
            f("dist.Gamma.scale", "duration, > 0", REQ, "Scale theta."),
            f("dist.Erlang", "struct variant", "", "Erlang, the sum of k exponentials: `Erlang(k: 3, mean: \"6ms\")`."),
            f("dist.Erlang.k", "integer, 1 to 10000", REQ, "Number of exponential phases."),
            f("dist.Erlang.mean", "duration, > 0", REQ, "Mean of the sum."),
            f("dist.Mixture", "list of `(weight, dist)`", "", "Picks a component with probability proportional to its weight, then samples it: `Mixture([(weight: 0.9, dist: Exponential(mean: \"5ms\")), (weight: 0.1, dist: Constant(\"100ms\"))])`. Mixtures nest at most 8 deep."),
            f("dist.Mixture[*].weight", "number, >= 0", REQ, "Relative weight; weights need not sum to 1 but must not all be 0."),
            f("dist.Mixture[*].dist", "distribution", REQ, "The component."),
            f("dist.Empirical", "list of durations, at least one", "", "One of the values, each equally likely: `Empirical([\"1ms\", \"2ms\", \"5ms\"])`."),
            f("dist.Quantiles", "list of `(quantile, duration)`", "", "Piecewise-linear inverse CDF: `Quantiles([(0.0, \"1ms\"), (0.5, \"3ms\"), (1.0, \"50ms\")])`. Quantiles increase from 0 to 1; values do not decrease."),
        ],
    ),
];

/// Every documented field, in reference order.
pub(crate) fn all() -> impl Iterator<Item = &'static FieldDoc> {
    SECTIONS.iter().flat_map(|(_, _, fields)| fields.iter())
}

/// Text before the tables of the reference.
const PREAMBLE: &str = "\
# Scenario file reference

<!-- Generated by `squall_scenario::reference()`; do not edit by hand.
     `UPDATE_GOLDEN=1 cargo test -p squall-scenario` rewrites it. -->

A scenario is a [RON](https://github.com/ron-rs/ron) file. A minimal one:

```ron
Scenario(
    name: \"minimal\",
    seed: 7,
    duration: \"1m\",
    services: {
        \"api\": (workers: 8, endpoints: { \"get\": (work: Exponential(mean: \"5ms\")) }),
    },
    clients: {
        \"users\": (target: (service: \"api\", endpoint: \"get\"), arrivals: Poisson(rate: 1000)),
    },
)
```

**Durations** are strings with a unit: `ns`, `us`, `ms`, `s`, `m` (or `min`), `h`, as in
`\"250us\"`, `\"1.5s\"`, `\"10m\"`. A bare `0` is allowed; any other number needs a unit.

**Optional values** are written bare (`timeout: \"1s\"`) or as `None`.

**Paths** below name fields as `squall explain` and `--set` take them: `*` stands for any
name, `[*]` for any list entry, and enum variants are segments
(`clients.*.arrivals.Poisson.rate`). Overrides use the names and indices themselves:
`--set services.api.replicas=8`, `--set clients.users.arrivals=Poisson(rate: 500)`,
`--set services.api.endpoints.feed.calls.0.timeout=\"50ms\"`. The variant may be left out
when it does not change: `--set clients.users.arrivals.rate=500`.
";

fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Markdown reference of every field: its type, default and meaning.
pub fn reference() -> String {
    let mut out = String::from(PREAMBLE);
    for (title, intro, fields) in SECTIONS {
        out.push_str(&format!(
            "\n## {title}\n\n{intro}\n\n| Field | Type | Default | Meaning |\n|---|---|---|---|\n"
        ));
        for d in *fields {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                d.path,
                escape_cell(d.ty),
                escape_cell(d.default),
                escape_cell(d.doc)
            ));
        }
    }
    out
}

/// Splits a path into segments, dropping list markers (`calls[0]`, `calls.0`, `calls[*]`
/// all become `calls`) and restarting at `dist` inside a distribution field.
fn normalize(path: &str) -> Vec<String> {
    let mut segs: Vec<String> = Vec::new();
    for raw in path.split('.') {
        let seg = match raw.find('[') {
            Some(i) => &raw[..i],
            None => raw,
        }
        .trim();
        if seg.is_empty() || seg.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        segs.push(seg.to_string());
    }
    // Inside `work`, `think` or a mixture's `dist`, fields are those of `dist`.
    if let Some(i) = segs.iter().rposition(|s| s == "work" || s == "think" || s == "dist") {
        if i + 1 < segs.len() {
            let mut rebased = vec!["dist".to_string()];
            rebased.extend(segs.drain(i + 1..));
            segs = rebased;
        }
    }
    segs
}

/// Whether `query` names `doc`: it matches the end of the doc path, where `*` in the doc
/// path matches any segment.
fn matches(query: &[String], doc: &[String]) -> bool {
    if query.is_empty() || query.len() > doc.len() {
        return false;
    }
    let tail = &doc[doc.len() - query.len()..];
    query.iter().zip(tail).all(|(q, d)| d == "*" || q == d)
}

/// The documented fields that `field` names.
pub(crate) fn lookup(field: &str) -> Vec<&'static FieldDoc> {
    let query = normalize(field);
    let exact: Vec<&FieldDoc> = all().filter(|d| normalize(d.path) == query).collect();
    if !exact.is_empty() {
        return exact;
    }
    all().filter(|d| matches(&query, &normalize(d.path))).collect()
}

/// One field's documentation for `squall explain FIELD`: a full path
/// (`services.*.queue.capacity`, or with real names, `services.api.queue.capacity`) or its
/// end (`queue.capacity`, `capacity`). A name shared by several fields explains them all.
/// `None` if no field matches; [`suggest_fields`] has near misses.
pub fn explain(field: &str) -> Option<String> {
    let found = lookup(field);
    if found.is_empty() {
        return None;
    }
    let parts: Vec<String> = found
        .iter()
        .map(|d| {
            let mut s = format!("{}\n  type:    {}\n", d.path, d.ty);
            if !d.default.is_empty() {
                s.push_str(&format!("  default: {}\n", d.default.trim_matches('`')));
            }
            s.push_str(&format!("  {}\n", d.doc));
            s
        })
        .collect();
    Some(parts.join("\n"))
}

/// Documented field paths close to `field`, best first (at most five).
pub fn suggest_fields(field: &str) -> Vec<String> {
    let query = normalize(field);
    let Some(last) = query.last() else { return Vec::new() };
    let mut scored: Vec<(f64, &'static str)> = Vec::new();
    for d in all() {
        let segs = normalize(d.path);
        let Some(doc_last) = segs.last() else { continue };
        if did_you_mean(last, [doc_last.as_str()]).is_some() {
            let score = strsim::jaro_winkler(&last.to_lowercase(), &doc_last.to_lowercase());
            scored.push((score, d.path));
        }
    }
    // Best score first; the table order breaks ties so the output is stable.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(5).map(|(_, p)| p.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_accepts_full_paths_real_names_and_suffixes() {
        for q in ["services.*.queue.capacity", "services.api.queue.capacity", "queue.capacity", "capacity"] {
            let text = explain(q).unwrap_or_else(|| panic!("{q}"));
            assert!(text.starts_with("services.*.queue.capacity\n"), "{q}: {text}");
            assert!(text.contains("default: 1000"), "{text}");
        }
    }

    #[test]
    fn explain_rebases_paths_inside_distributions() {
        let text = explain("services.api.endpoints.feed.work.LogNormal.p99").unwrap();
        assert!(text.starts_with("dist.LogNormal.p99\n"), "{text}");
        assert!(explain("calls[0].timeout").unwrap().starts_with("services.*.endpoints.*.calls[*].timeout"));
    }

    #[test]
    fn a_shared_field_name_explains_every_field_with_it() {
        let text = explain("rate").unwrap();
        assert_eq!(text.matches("rate\n  type:").count(), 4, "{text}");
    }

    #[test]
    fn unknown_fields_get_suggestions() {
        assert_eq!(explain("replicaz"), None);
        assert_eq!(suggest_fields("replicaz"), vec!["services.*.replicas"]);
        assert_eq!(suggest_fields("services.api.capacty")[0], "services.*.queue.capacity");
        assert!(suggest_fields("zzzzzz").is_empty());
    }

    #[test]
    fn every_documented_path_is_unique() {
        let mut paths: Vec<&str> = all().map(|d| d.path).collect();
        paths.sort_unstable();
        let n = paths.len();
        paths.dedup();
        assert_eq!(paths.len(), n);
    }
}
