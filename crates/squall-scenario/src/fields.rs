//! The documentation of every field, behind [`reference`], [`explain`] and
//! [`suggest_fields`]. Each domain of `spec` documents its fields in sections (`*_DOC`)
//! next to their types, and a default written as a constant (`default_value!`) is the one
//! serde applies; this module keeps the order of the sections and the lookups over them.
//! Tests walk a fully populated scenario and check that the table and the schema name the
//! same fields, and that documented defaults are the ones the parser applies.
//!
//! Paths: `*` stands for any name (`services.*.replicas`), `[*]` for any list entry, and
//! enum variants are path segments (`clients.*.arrivals.Poisson.rate`). Every distribution
//! field (`work`, `think`, a `Work` step, a cache's `hit_latency`, a mixture's `dist`) has
//! the same shape, documented once under `dist`; every cache (an endpoint's or a call's)
//! likewise under `cache`, and each part of a call policy (a client group's or a dependency's
//! `retry`, `budget`, `breaker`, `throttle`, `hedge`, `fallback`) under its own name.

use crate::error::did_you_mean;
use crate::spec;

/// One documented field.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldDoc {
    pub path: &'static str,
    pub ty: &'static str,
    /// "required" for a field without a default.
    pub default: &'static str,
    pub doc: &'static str,
}

pub(crate) const fn f(
    path: &'static str,
    ty: &'static str,
    default: &'static str,
    doc: &'static str,
) -> FieldDoc {
    FieldDoc { path, ty, default, doc }
}

/// The fields whose keys are names (of entities, callees or variants) or override paths.
#[cfg(test)]
pub(crate) const MAP_FIELDS: &[&str] = &[
    "services",
    "services.*.endpoints",
    "services.*.dependencies",
    "services.*.versions",
    "services.*.versions.*.endpoints",
    "clients",
    "variants",
    "variants.*",
    "explore",
];

/// The fields whose value has a shape documented once, with the path it is documented under.
#[cfg(test)]
pub(crate) const SHAPE_FIELDS: &[(&str, &str)] = &[
    ("services.*.endpoints.*.work", "dist"),
    ("services.*.endpoints.*.steps[*].Work", "dist"),
    ("clients.*.arrivals.Closed.think", "dist"),
    ("dist.Mixture[*].dist", "dist"),
    ("cache.hit_latency", "dist"),
    ("services.*.endpoints.*.cache", "cache"),
    ("services.*.endpoints.*.calls[*].cache", "cache"),
    ("services.*.endpoints.*.steps[*].Call.cache", "cache"),
    ("services.*.endpoints.*.steps[*].Parallel.calls[*].cache", "cache"),
    ("clients.*.retry", "retry"),
    ("clients.*.budget", "budget"),
    ("clients.*.breaker", "breaker"),
    ("clients.*.throttle", "throttle"),
    ("clients.*.hedge", "hedge"),
    ("clients.*.fallback", "fallback"),
    ("services.*.dependencies.*.retry", "retry"),
    ("services.*.dependencies.*.budget", "budget"),
    ("services.*.dependencies.*.breaker", "breaker"),
    ("services.*.dependencies.*.throttle", "throttle"),
    ("services.*.dependencies.*.hedge", "hedge"),
    ("services.*.dependencies.*.fallback", "fallback"),
    ("services.*.versions.*.endpoints.*", "services.*.endpoints.*"),
    ("services.*.lifecycle.startup", "dist"),
    ("services.*.health_check.check", "probe.check"),
    ("services.*.probes.liveness", "probe"),
    ("services.*.probes.readiness", "probe"),
    ("services.*.probes.startup", "probe"),
    ("clients.*.flow[*].delay", "dist"),
];

/// Path segments whose fields are documented under a shared shape: a segment inside one of
/// these restarts the path at the shape (`...feed.work.LogNormal.p99` is `dist.LogNormal.p99`).
const SHAPE_SEGMENTS: &[(&str, &str)] = &[
    ("work", "dist"),
    ("Work", "dist"),
    ("think", "dist"),
    ("dist", "dist"),
    ("hit_latency", "dist"),
    ("cache", "cache"),
    ("retry", "retry"),
    ("budget", "budget"),
    ("breaker", "breaker"),
    ("throttle", "throttle"),
    ("hedge", "hedge"),
    ("fallback", "fallback"),
];

pub(crate) const REQ: &str = "required";

/// A section of the reference: `(title, introduction, fields)`.
pub(crate) type Section = (&'static str, &'static str, &'static [FieldDoc]);

/// The sections of the reference, in order; each domain of `spec` documents its fields
/// next to their types.
pub(crate) const SECTIONS: &[Section] = &[
    spec::SCENARIO_DOC,
    spec::SERVICES_DOC,
    spec::ENDPOINTS_DOC,
    spec::VERSIONS_DOC,
    spec::LIFECYCLE_DOC,
    spec::DEPENDENCIES_DOC,
    spec::ADMISSION_DOC,
    spec::CLIENTS_DOC,
    spec::FAULTS_DOC,
    spec::DEPLOYS_DOC,
    spec::INVARIANTS_DOC,
    spec::EXPLORE_DOC,
    spec::VARIANTS_DOC,
    spec::RETRY_DOC,
    spec::BUDGET_DOC,
    spec::BREAKER_DOC,
    spec::THROTTLE_HEDGE_FALLBACK_DOC,
    spec::CACHE_DOC,
    spec::DIST_DOC,
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
when it does not change: `--set clients.users.arrivals.rate=500`. A field that is `None`
is set as a whole (`--set services.api.rate_limit=\"TokenBucket(rate: 100)\"`). The entries
of `variants` use the same paths and values.
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
    // A version's endpoints have the fields of the service's: `services.api.versions.v2.
    // endpoints.get.flags` is `services.api.endpoints.get.flags`.
    if let Some(i) = segs.iter().position(|s| s == "versions") {
        if segs.len() > i + 3 && segs[i + 2] == "endpoints" {
            segs.drain(i..i + 2);
        }
    }
    // Inside a probe, fields are those of `probe`.
    if let Some(i) = segs.iter().position(|s| s == "probes") {
        if segs.len() > i + 2 {
            let mut rebased = vec!["probe".to_string()];
            rebased.extend(segs.drain(i + 2..));
            segs = rebased;
        }
    }
    // Inside a distribution or a cache, fields are those of `dist` or `cache`: restart at the
    // last such segment that has fields after it.
    let inner = segs.len().saturating_sub(1);
    let shape = segs[..inner]
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, s)| SHAPE_SEGMENTS.iter().find(|(seg, _)| seg == s).map(|(_, base)| (i, *base)));
    if let Some((i, base)) = shape {
        let mut rebased = vec![base.to_string()];
        rebased.extend(segs.drain(i + 1..));
        segs = rebased;
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
    fn explain_finds_probe_and_version_endpoint_fields_by_shape() {
        let text = explain("services.api.probes.startup.period").unwrap();
        assert!(text.starts_with("probe.period\n"), "{text}");
        let text = explain("services.api.versions.v2.endpoints.get.flags").unwrap();
        assert!(text.starts_with("services.*.endpoints.*.flags\n"), "{text}");
        assert!(explain("services.api.versions").unwrap().starts_with("services.*.versions\n"));
    }

    #[test]
    fn a_shared_field_name_explains_every_field_with_it() {
        let text = explain("rate").unwrap();
        assert_eq!(text.matches("rate\n  type:").count(), 5, "{text}");
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

    /// A scenario in which every optional struct that has defaults for all its fields is
    /// present, so that an override can reach the fields beneath it.
    const DEFAULTS_BASE: &str = r#"Scenario(
        name: "defaults", seed: 1, duration: "2s",
        timeseries: (), limits: (),
        services: {
            "s": (
                queue: (codel: ()), lifecycle: (restart: ()), outlier_detection: (),
                health_check: (), slow_start: None,
                endpoints: {"e": (work: Constant("1ms"), calls: [(service: "d", endpoint: "q")])},
                dependencies: {"d": (retry: (), propagate_deadline: ())},
            ),
            "d": (endpoints: {"q": (work: Constant("1ms"))}),
        },
        clients: {
            "c": (target: (service: "s", endpoint: "e"), arrivals: Poisson(rate: 10), retry: ()),
            "c2": (
                target: (service: "d", endpoint: "q"), arrivals: Poisson(rate: 10),
                retry: (), budget: Finagle(), breaker: Resilience4j(), throttle: (),
            ),
            "c3": (
                target: (service: "d", endpoint: "q"), arrivals: Poisson(rate: 10),
                retry: (), budget: AwsQuota(), breaker: Consecutive(),
            ),
            "c4": (target: (service: "d", endpoint: "q"), arrivals: Poisson(rate: 10), retry: (), budget: Envoy()),
            "c5": (target: (service: "d", endpoint: "q"), arrivals: Poisson(rate: 10), retry: (), budget: MaxRetries()),
        },
        invariants: [SuccessRate(client: "c", at_least: 0.5)],
    )"#;

    /// Documented fields that `DEFAULTS_BASE` sets to something other than their default, to
    /// reach the fields beneath them: their own defaults are not checked here.
    const SET_IN_BASE: &[&str] = &[
        "services.*.queue",
        "services.*.queue.codel",
        "services.*.outlier_detection",
        "services.*.health_check",
        "services.*.dependencies",
        "services.*.dependencies.*.propagate_deadline",
        "services.*.dependencies.*.retry",
        "clients.*.retry",
        "clients.*.budget",
        "clients.*.breaker",
        "clients.*.throttle",
        "invariants",
        "invariants[*].SuccessRate.client",
    ];

    /// A scenario with the other enum variants and the optional parts `DEFAULTS_BASE` leaves
    /// out (probes, versions, steps, flows, faults, deploys, invariants, hedging), so that
    /// the fields beneath them can be reached.
    const VARIANTS_BASE: &str = r#"Scenario(
        name: "defaults-b", seed: 1, duration: "2s",
        services: {
            "s": (
                replicas: 2,
                versions: {"v1": (), "v2": ()},
                probes: (liveness: (), readiness: (), startup: ()),
                rate_limit: TokenBucket(rate: 100),
                concurrency_limit: Aimd(),
                shedding: QueueLength(at: 10),
                endpoints: {"e": (
                    steps: [
                        Work(Constant("1ms")),
                        Call(service: "d", endpoint: "q"),
                        Parallel(calls: [(service: "d", endpoint: "q")]),
                    ],
                    cache: (hit_ratio: 0.5),
                )},
                dependencies: {"d": (bulkhead: Semaphore(), pool: (), hedge: (max_attempts: 2))},
            ),
            "d": (endpoints: {"q": (work: Constant("1ms"))}),
        },
        clients: {
            "c": (
                flow: [(name: "a", target: (service: "s", endpoint: "e")), (name: "b", target: (service: "d", endpoint: "q"))],
                arrivals: Poisson(rate: 10), retry: (backoff: Envoy()),
            ),
            "c2": (target: (service: "d", endpoint: "q"), arrivals: Poisson(rate: 10), breaker: Consecutive()),
        },
        faults: [(service: "s", at: "1s", for: "1s", what: Fail(fraction: 0.5))],
        deploys: [(name: "v2", service: "s", version: "v2", at: "1s")],
        invariants: [
            Latency(client: "c", at_most: "1s"),
            Recovers(within: "1s"),
            SuccessRate(caller: "s", callee: "d", at_least: 0.5),
            Sometimes(Retried(client: "c")),
            Sometimes(BreakerOpened(client: "c2")),
        ],
    )"#;

    /// Documented fields that `VARIANTS_BASE` sets to something other than their default.
    const SET_IN_VARIANTS_BASE: &[&str] = &[
        "services.*.replicas",
        "services.*.probes",
        "services.*.probes.liveness",
        "services.*.probes.readiness",
        "services.*.probes.startup",
        "services.*.rate_limit",
        "services.*.concurrency_limit",
        "services.*.shedding",
        "services.*.endpoints.*.steps",
        "services.*.endpoints.*.cache",
        "services.*.dependencies",
        "services.*.dependencies.*.bulkhead",
        "services.*.dependencies.*.pool",
        "services.*.dependencies.*.hedge",
        "clients.*.flow",
        "clients.*.breaker",
        "retry.backoff",
        "faults",
        "deploys",
        "invariants",
        "invariants[*].SuccessRate.caller",
        "invariants[*].SuccessRate.callee",
        "invariants[*].Sometimes.Retried.client",
        "invariants[*].Sometimes.BreakerOpened.client",
    ];

    /// Yet other variants: Gradient2, a discrete rate limit, shedding by delay, a thread-pool
    /// bulkhead, exponential back-off and a canary with analysis.
    const OTHER_VARIANTS_BASE: &str = r#"Scenario(
        name: "defaults-c", seed: 1, duration: "2s",
        services: {
            "s": (
                replicas: 2,
                versions: {"v1": (), "v2": ()},
                rate_limit: Discrete(max_tokens: 10, fill_interval: "1s"),
                concurrency_limit: Gradient2(),
                shedding: QueueDelay(at: "10ms"),
                endpoints: {"e": (work: Constant("1ms"), calls: [(service: "d", endpoint: "q")])},
                dependencies: {"d": (bulkhead: ThreadPool(max_thread_pool_size: 4))},
            ),
            "d": (endpoints: {"q": (work: Constant("1ms"))}),
        },
        clients: {
            "c": (
                target: (service: "s", endpoint: "e"), arrivals: Poisson(rate: 10),
                retry: (backoff: Exponential(base: "10ms", cap: "1s")),
            ),
        },
        deploys: [(name: "v2", service: "s", version: "v2", at: "1s", strategy: Canary(analysis: (max_error_rate: 0.5)))],
    )"#;

    /// Documented fields that `OTHER_VARIANTS_BASE` sets to something other than their default.
    const SET_IN_OTHER_VARIANTS_BASE: &[&str] = &[
        "services.*.replicas",
        "services.*.rate_limit",
        "services.*.concurrency_limit",
        "services.*.shedding",
        "services.*.dependencies",
        "services.*.dependencies.*.bulkhead",
        "clients.*.retry",
        "retry.backoff",
        "deploys",
        "deploys[*].strategy",
        "deploys[*].strategy.Canary.analysis",
    ];

    /// gRPC back-off and a blue-green deploy with analysis.
    const LAST_VARIANTS_BASE: &str = r#"Scenario(
        name: "defaults-d", seed: 1, duration: "2s",
        services: {
            "s": (
                replicas: 2,
                versions: {"v1": (), "v2": ()},
                endpoints: {"e": (work: Constant("1ms"))},
            ),
        },
        clients: {
            "c": (
                target: (service: "s", endpoint: "e"), arrivals: Poisson(rate: 10),
                retry: (backoff: Grpc(initial_backoff: "10ms", max_backoff: "1s", multiplier: 2.0)),
            ),
        },
        deploys: [(name: "v2", service: "s", version: "v2", at: "1s", strategy: BlueGreen(analysis: (max_error_rate: 0.5)))],
    )"#;

    /// Documented fields that `LAST_VARIANTS_BASE` sets to something other than their default.
    const SET_IN_LAST_VARIANTS_BASE: &[&str] = &[
        "services.*.replicas",
        "clients.*.retry",
        "retry.backoff",
        "deploys",
        "deploys[*].strategy",
        "deploys[*].strategy.BlueGreen.analysis",
    ];

    /// Where a field documented once by its shape is tried: `retry.max_attempts` as
    /// `clients.c.retry.max_attempts`.
    const SHAPE_AT: &[(&str, &[&str])] = &[
        ("retry.", &["clients.c.retry."]),
        (
            "budget.",
            &["clients.c2.budget.", "clients.c3.budget.", "clients.c4.budget.", "clients.c5.budget."],
        ),
        ("breaker.", &["clients.c2.breaker.", "clients.c3.breaker."]),
        ("throttle.", &["clients.c2.throttle."]),
        ("probe.", &["services.s.probes.liveness."]),
        ("cache.", &["services.s.endpoints.e.cache."]),
        ("hedge.", &["services.s.dependencies.d.hedge."]),
    ];

    /// The documented default of a field, when it is one RON value in backticks.
    fn documented_value(default: &str) -> Option<&str> {
        let v = default.strip_prefix('`')?.strip_suffix('`')?;
        (!v.contains('`')).then_some(v)
    }

    /// What a scenario builds into, as text to compare.
    fn built(text: &str, sets: &[crate::Override]) -> Option<String> {
        let s = crate::parse(text, "defaults.ron", sets).ok()?;
        Some(format!("{:?} {:?} {:?} {:?}", s.config, s.invariants, s.explore, s.description))
    }

    /// The override paths a documented path is tried at: names replaced by the bases'
    /// (`services.*` by `services.s`), list entries by the first three indices, and a
    /// shape's fields at each place the bases hold one.
    fn tries(doc_path: &str) -> Vec<String> {
        let mut path = doc_path.replace("services.*.endpoints.*", "services.s.endpoints.e");
        path = path.replace("services.*.dependencies.*", "services.s.dependencies.d");
        path = path.replace("services.*.versions.*", "services.s.versions.v2");
        path = path.replace("services.*", "services.s");
        // `c2` first: in `VARIANTS_BASE` it is the client group without a retry policy (the
        // base's `clients.c.retry` is set), and it sets nothing else but its breaker.
        let mut out = vec![path.replace("clients.*", "clients.c2"), path.replace("clients.*", "clients.c")];
        out.dedup();
        for (shape, places) in SHAPE_AT {
            if let Some(rest) = path.strip_prefix(shape) {
                out = places.iter().map(|at| format!("{at}{rest}")).collect();
            }
        }
        while out.iter().any(|p| p.contains("[*]")) {
            out = out
                .iter()
                .flat_map(|p| (0..3).map(move |i| p.replacen("[*]", &format!(".{i}"), 1)))
                .collect();
        }
        out.retain(|p| !p.contains('*'));
        out
    }

    #[test]
    fn documented_defaults_are_the_defaults_the_parser_applies() {
        let bases: [(&str, &[&str]); 4] = [
            (DEFAULTS_BASE, SET_IN_BASE),
            (VARIANTS_BASE, SET_IN_VARIANTS_BASE),
            (OTHER_VARIANTS_BASE, SET_IN_OTHER_VARIANTS_BASE),
            (LAST_VARIANTS_BASE, SET_IN_LAST_VARIANTS_BASE),
        ];
        let unchanged: Vec<String> =
            bases.iter().map(|(text, _)| built(text, &[]).expect("every base builds")).collect();
        let (mut checked, mut wrong, mut unreached) = (Vec::new(), Vec::new(), Vec::new());
        for doc in all() {
            let Some(value) = documented_value(doc.default) else { continue };
            // The first base and place where the default can be written on its own: a field
            // beneath an absent optional part, or of another enum variant than the base's,
            // cannot.
            let found =
                bases.iter().zip(&unchanged).filter(|((_, set), _)| !set.contains(&doc.path)).find_map(
                    |((text, _), base)| {
                        tries(doc.path).iter().find_map(|p| {
                            let set: crate::Override = format!("{p}={value}").parse().ok()?;
                            built(text, &[set]).map(|with| (with, base))
                        })
                    },
                );
            let Some((with, base)) = found else {
                unreached.push(doc.path);
                continue;
            };
            checked.push(doc.path);
            if &with != base {
                wrong.push(format!("{} documents `{value}`", doc.path));
            }
        }
        assert!(wrong.is_empty(), "documented defaults that are not the parser's:\n{}", wrong.join("\n"));
        // 208 of the 220 single-value defaults; 121 were reachable from the first base alone.
        assert!(
            checked.len() >= 208,
            "only {} documented defaults could be checked; not reached: {unreached:?}",
            checked.len()
        );
        eprintln!("checked {} documented defaults; not reached: {unreached:?}", checked.len());
    }
}
