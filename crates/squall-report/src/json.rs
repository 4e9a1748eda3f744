//! `summary.json`: the whole-run numbers for machines.
//!
//! The file is built from serde structs owned by this module, not from model types, so the
//! format changes only when this file does; `squall.format` is bumped when it changes
//! incompatibly. Keys come in declaration order, outcomes in `Outcome::ALL` order, and every
//! float is rounded to [`DECIMALS`](crate::format::DECIMALS) places, so the same run gives
//! the same bytes on every machine.
//!
//! The header says what produced the run, and nothing about where or when: `squall`
//! (`format` and the `version` that wrote the file), `scenario` (its name), `file` (the
//! scenario file's name without its folders), `seed`, `scenario_hash` (of the file's bytes),
//! `config_hash` (of the effective configuration: the file after the variant's entries and
//! the `--set` overrides, without the seed; the same for the same model however it was
//! reached), `variant` (`baseline` for the file as written) and `overrides` (`path=value`: the
//! variant's entries, then `--set`). After the header come the run's numbers: `clients` (outcomes, success rate, error rate, degraded rate, `goodput_per_s`
//! (successes, ok or degraded, per second: the one definition of goodput), `ok_per_s` (ok
//! answers alone, only when fallbacks were served), latencies, policy),
//! `services` (counts, refusals by outcome with zeros, dropped, throughput against goodput,
//! utilisation, queues, waits, useful and wasted worker seconds and their shares of busy
//! time), `dependencies` (calls from one service to another: outcomes and rates as for
//! clients, cache hits, waits, latency of successful calls, policy), `faults` (each window:
//! name, service, what, `start_s`, `end_s`), `recovery` (per fault window, in the same order:
//! `fault`, `status` — `recovered`, `never` or `no_baseline` —, `baseline_per_s`,
//! `recovered_at_s`, `time_to_recover_s`; see [`squall_model::analysis`]), `policy_totals`
//! (`amplification` of all client groups' attempts over their requests, `retries_denied` and
//! `breaker_opens` at every call site, `degraded` requests of client groups) and
//! `conservation`. `dependencies`, `faults` and `recovery` are empty arrays when the run had
//! none, so a reader needs no special case.
//!
//! When the scenario configures a `warmup`, `steady_state` follows `recovery`: `warmup`
//! (`fixed` or `mser5`), `warmup_end_s` (start of the steady window), `buckets_deleted`,
//! `window_s`, then per client group (`clients`, with `name`) and for all of them (`all`):
//! `ended`, `successes`, `throughput_per_s`, `goodput_per_s` (successes, ok or degraded, per
//! second), `success_rate` and `latency_ok_mean_ms` (exact mean latency of successes), all
//! over the steady window (see [`squall_model::analysis::steady_state`]), then, only when
//! MSER-5 may have failed, `warnings`: sentences saying it cut exactly at its half-run limit,
//! or found no warm-up in a run whose goodput has a spike or a dip. Without a warm-up the key
//! is absent, so older summaries keep their bytes.
//!
//! Fleets, flows and deploys appear only in runs that have them, so older summaries keep
//! their bytes: a service's `fleet` (when it has more than one version, or instances created,
//! crashed, restarted or refusing work, or version skew: `versions` — `name`, `answered`,
//! `errors`, `error_rate`, `ready_at_end` (instances ready in the last bucket) and `answers`
//! by outcome —, `created`, `crashes`, `restarts`, `refused_not_accepting`, `skew_s`,
//! `skew_windows` as `[start_s, end_s]` pairs, and `capacity_mean`, the mean workers whose
//! process accepted work); a client's `served_by` (`service`, `version`, `outcomes` of the
//! requests each version answered last) and `flow` (`started`, `completed`, `failed`,
//! `in_flight`, `success_rate` of ended flows, `steps` with `name`, `run`, `skipped` and
//! `outcomes`, and `paths`: the `versions` that served each step, with `completed` and
//! `failed`); and `deploys` after `faults` (`name`, `service`, `version`, `strategy`,
//! `result` — `not_started`, `in_progress`, `completed` or `rolled_back` —, `started_s` and
//! `ended_s` from its first and last events, `null` while it has not ended, `duration_s`, and
//! the `events` with `at_s` and `what`).
//!
//! Outcomes count logical requests (one per user intent): `success_rate` is ok plus degraded
//! (a fallback's answer) over ended requests, `degraded_rate` the degraded part of it, and
//! `error_rate` the rest, `1 - success_rate`. A call site's `policy` counts attempts:
//! `attempts` (first tries, retries and hedges), `retries`, `hedges`, `amplification`
//! (attempts per logical request), `retries_denied`, `throttled`, `short_circuited`,
//! `fallbacks`, `attempt_outcomes` (like `outcomes`) and `breaker` (`breakers`, `opens`,
//! breaker-seconds `seconds_closed`, `seconds_open`, `seconds_half_open`; `null` without a
//! breaker). A site without a policy still has the object, so a reader needs no special case.
//!
//! **`null` means undefined**: a mean, percentile or maximum of an empty histogram, a rate or
//! time average over zero elapsed time, a utilisation with zero workers, a success rate with
//! no ended requests, an amplification without requests, a recovery without a baseline. A count is never `null`, and no value is ever NaN or infinite.

use crate::format::round_fixed;
use crate::stats::{
    stop_detail, stop_kind, warmup_kind, BreakerStats, ClientStats, DependencyStats, Latency, PolicyStats,
    PolicyTotals, RunStats, ServiceStats,
};
use crate::ReportMeta;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use squall_model::analysis::{Recovery, RecoveryStatus, SteadyFigures, SteadyState};
use squall_model::metrics::{Ctx, Scope};
use squall_model::{FaultWindow, Outcome, OutcomeCounts, RunOutput};

mod fleet;

/// Version of this file's layout (and of `comparison.json`, which reuses it). Keys added since
/// version 1 (work accounting, `dependencies`, `faults`, rates, `policy`, `recovery`,
/// `policy_totals`) are additions, not a new version.
pub(crate) const FORMAT: u32 = 1;

/// A float rounded to fixed decimals, or `null` when undefined.
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) struct Num(pub(crate) Option<f64>);

impl Num {
    pub(crate) fn of(v: f64) -> Num {
        Num(Some(v))
    }
}

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            // `is_finite` is checked again here so that no code path can write NaN.
            Some(v) if v.is_finite() => s.serialize_f64(round_fixed(v)),
            _ => s.serialize_none(),
        }
    }
}

/// Every outcome by name, in `Outcome::ALL` order, zeros included.
struct Outcomes<'a>(&'a OutcomeCounts);

impl Serialize for Outcomes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(Outcome::COUNT))?;
        for o in Outcome::ALL {
            m.serialize_entry(o.name(), &self.0.get(o))?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    squall: Format<'a>,
    scenario: &'a str,
    file: &'a str,
    seed: u64,
    scenario_hash: String,
    config_hash: String,
    variant: &'a str,
    overrides: &'a [String],
    #[serde(flatten)]
    numbers: RunNumbers<'a>,
}

/// `{"format": N, "version": "x.y.z"}`, the first key of every JSON file this crate writes.
#[derive(Serialize)]
pub(crate) struct Format<'a> {
    pub(crate) format: u32,
    /// The squall version that wrote the file.
    pub(crate) version: &'a str,
}

/// Every number of one run, after the file's header: the part `comparison.json` repeats per
/// variant.
#[derive(Serialize)]
pub(crate) struct RunNumbers<'a> {
    duration_s: Num,
    end_s: Num,
    stop: Stop,
    events: u64,
    bucket_s: Num,
    clients: Vec<Client<'a>>,
    services: Vec<Service<'a>>,
    dependencies: Vec<Dependency<'a>>,
    faults: Vec<Fault<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    deploys: Vec<fleet::Deploy<'a>>,
    recovery: Vec<RecoveryJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    steady_state: Option<SteadyJson>,
    policy_totals: Totals,
    conservation: Conservation,
}

impl<'a> RunNumbers<'a> {
    pub(crate) fn of(out: &'a RunOutput, stats: &RunStats<'a>) -> RunNumbers<'a> {
        RunNumbers {
            duration_s: Num::of(out.duration.as_secs_f64()),
            end_s: Num::of(out.end.as_secs_f64()),
            stop: Stop { kind: stop_kind(&out.stop), detail: stop_detail(out) },
            events: out.n_events,
            bucket_s: Num::of(out.bucket_width.as_secs_f64()),
            clients: stats.clients.iter().map(Client::from).collect(),
            services: stats
                .services
                .iter()
                .map(|v| Service { fleet: fleet::fleet(v.out, out.end.as_nanos()), ..Service::from(v) })
                .collect(),
            dependencies: stats.dependencies.iter().map(Dependency::from).collect(),
            faults: out.faults.iter().map(Fault::from).collect(),
            deploys: fleet::deploys(out),
            recovery: stats.recovery.iter().map(RecoveryJson::from).collect(),
            steady_state: stats.steady.as_ref().map(SteadyJson::from),
            policy_totals: Totals::from(&stats.policy_totals()),
            conservation: Conservation {
                issued: out.conservation.issued,
                ended: out.conservation.ended,
                in_flight: out.conservation.in_flight,
            },
        }
    }
}

#[derive(Serialize)]
struct Stop {
    kind: &'static str,
    /// `null` for a completed run.
    detail: Option<String>,
}

#[derive(Serialize)]
struct Client<'a> {
    name: &'a str,
    issued: u64,
    ended: u64,
    success_rate: Num,
    error_rate: Num,
    degraded_rate: Num,
    goodput_per_s: Num,
    /// Present only when the group was served fallbacks (otherwise it equals goodput), so
    /// summaries of runs without fallbacks keep their bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    ok_per_s: Option<Num>,
    outcomes: Outcomes<'a>,
    latency_ok_ms: LatencyMs,
    latency_all_ms: LatencyMs,
    policy: Policy<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    served_by: Vec<fleet::Served<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flow: Option<fleet::Flow<'a>>,
}

#[derive(Serialize)]
struct Policy<'a> {
    attempts: u64,
    retries: u64,
    hedges: u64,
    amplification: Num,
    retries_denied: u64,
    throttled: u64,
    short_circuited: u64,
    fallbacks: u64,
    attempt_outcomes: Outcomes<'a>,
    breaker: Option<Breaker>,
}

#[derive(Serialize)]
struct Breaker {
    breakers: u32,
    opens: u64,
    seconds_closed: Num,
    seconds_open: Num,
    seconds_half_open: Num,
}

impl<'a> From<&PolicyStats<'a>> for Policy<'a> {
    fn from(p: &PolicyStats<'a>) -> Self {
        let o = p.out;
        Policy {
            attempts: o.attempts,
            retries: o.retries,
            hedges: o.hedges,
            amplification: Num(p.amplification),
            retries_denied: o.retries_denied,
            throttled: o.throttled,
            short_circuited: o.short_circuited,
            fallbacks: o.fallbacks,
            attempt_outcomes: Outcomes(&o.attempt_outcomes),
            breaker: p.breaker.as_ref().map(Breaker::from),
        }
    }
}

impl From<&BreakerStats> for Breaker {
    fn from(b: &BreakerStats) -> Self {
        Breaker {
            breakers: b.breakers,
            opens: b.opens,
            seconds_closed: Num::of(b.seconds_closed),
            seconds_open: Num::of(b.seconds_open),
            seconds_half_open: Num::of(b.seconds_half_open),
        }
    }
}

#[derive(Serialize)]
struct RecoveryJson {
    fault: String,
    status: &'static str,
    baseline_per_s: Num,
    recovered_at_s: Num,
    time_to_recover_s: Num,
}

/// Stable snake_case name of a recovery's status, as in `summary.json`.
pub(crate) fn recovery_status(r: &Recovery) -> &'static str {
    match r.status() {
        RecoveryStatus::Recovered(_) => "recovered",
        RecoveryStatus::Never => "never",
        RecoveryStatus::NoBaseline => "no_baseline",
    }
}

impl From<&Recovery> for RecoveryJson {
    fn from(r: &Recovery) -> Self {
        let fault = |name: &str| crate::stats::measure(Scope::Fault, name, Ctx::Fault(r));
        RecoveryJson {
            fault: r.fault.clone(),
            status: recovery_status(r),
            baseline_per_s: Num(fault("baseline_per_s")),
            recovered_at_s: Num(fault("recovered_at_s")),
            time_to_recover_s: Num(fault("time_to_recover_s")),
        }
    }
}

#[derive(Serialize)]
struct SteadyJson {
    warmup: &'static str,
    warmup_end_s: Num,
    buckets_deleted: usize,
    window_s: Num,
    clients: Vec<SteadyClient>,
    all: SteadyNumbers,
    /// Absent when empty, so summaries with a warm-up that raised none keep their bytes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct SteadyClient {
    name: String,
    #[serde(flatten)]
    numbers: SteadyNumbers,
}

#[derive(Serialize)]
struct SteadyNumbers {
    ended: u64,
    successes: u64,
    throughput_per_s: Num,
    goodput_per_s: Num,
    success_rate: Num,
    latency_ok_mean_ms: Num,
}

impl From<&SteadyFigures> for SteadyNumbers {
    fn from(f: &SteadyFigures) -> Self {
        SteadyNumbers {
            ended: f.ended,
            successes: f.successes,
            throughput_per_s: Num(f.throughput_per_s),
            goodput_per_s: Num(f.goodput_per_s),
            success_rate: Num(f.success_rate),
            latency_ok_mean_ms: Num(f.latency_ok_mean_ns.map(|ns| ns / 1e6)),
        }
    }
}

impl From<&SteadyState> for SteadyJson {
    fn from(st: &SteadyState) -> Self {
        SteadyJson {
            warmup: warmup_kind(st.warmup),
            warmup_end_s: Num::of(st.start.as_secs_f64()),
            buckets_deleted: st.buckets_deleted,
            window_s: Num::of(st.window.as_secs_f64()),
            clients: st
                .clients
                .iter()
                .map(|(name, f)| SteadyClient { name: name.clone(), numbers: SteadyNumbers::from(f) })
                .collect(),
            all: SteadyNumbers::from(&st.all),
            warnings: st.warnings.iter().map(crate::stats::mser_warning).collect(),
        }
    }
}

#[derive(Serialize)]
struct Totals {
    amplification: Num,
    retries_denied: u64,
    breaker_opens: u64,
    degraded: u64,
}

impl From<&PolicyTotals> for Totals {
    fn from(t: &PolicyTotals) -> Self {
        Totals {
            amplification: Num(t.amplification),
            retries_denied: t.retries_denied,
            breaker_opens: t.breaker_opens,
            degraded: t.degraded,
        }
    }
}

#[derive(Serialize)]
struct LatencyMs {
    mean: Num,
    p50: Num,
    p90: Num,
    p99: Num,
    p999: Num,
    max: Num,
}

impl From<&Latency> for LatencyMs {
    fn from(l: &Latency) -> Self {
        LatencyMs {
            mean: Num(l.mean_ms),
            p50: Num(l.p50_ms),
            p90: Num(l.p90_ms),
            p99: Num(l.p99_ms),
            p999: Num(l.p999_ms),
            max: Num(l.max_ms),
        }
    }
}

#[derive(Serialize)]
struct Service<'a> {
    name: &'a str,
    instances: u32,
    workers: u32,
    arrivals: u64,
    completed: u64,
    useful: u64,
    rejected: u64,
    refusals: Outcomes<'a>,
    dropped: u64,
    throughput_per_s: Num,
    goodput_per_s: Num,
    utilisation: Num,
    queue_mean: Num,
    queue_max: u64,
    wait_ms: WaitMs,
    prob_wait: Num,
    sojourn_ms: SojournMs,
    in_system_mean: Num,
    useful_work_s: Num,
    useful_share: Num,
    wasted_work_s: Num,
    wasted_share: Num,
    #[serde(skip_serializing_if = "Option::is_none")]
    fleet: Option<fleet::Fleet<'a>>,
}

#[derive(Serialize)]
struct Dependency<'a> {
    caller: &'a str,
    callee: &'a str,
    calls: u64,
    ended: u64,
    success_rate: Num,
    error_rate: Num,
    degraded_rate: Num,
    outcomes: Outcomes<'a>,
    cache_hits: u64,
    waited: u64,
    latency_ok_ms: LatencyMs,
    policy: Policy<'a>,
}

#[derive(Serialize)]
struct Fault<'a> {
    name: &'a str,
    service: &'a str,
    what: &'a str,
    start_s: Num,
    end_s: Num,
}

#[derive(Serialize)]
struct WaitMs {
    mean: Num,
    p50: Num,
    p99: Num,
    max: Num,
}

#[derive(Serialize)]
struct SojournMs {
    mean: Num,
    p50: Num,
    p99: Num,
}

#[derive(Serialize)]
struct Conservation {
    issued: u64,
    ended: u64,
    in_flight: u64,
}

impl<'a> From<&ClientStats<'a>> for Client<'a> {
    fn from(c: &ClientStats<'a>) -> Self {
        Client {
            name: &c.out.name,
            issued: c.out.issued,
            ended: c.ended,
            success_rate: Num(c.success_rate),
            error_rate: Num(c.error_rate),
            degraded_rate: Num(c.degraded_rate),
            goodput_per_s: Num(c.goodput_per_s),
            ok_per_s: (c.out.outcomes.get(Outcome::Degraded) > 0).then_some(Num(c.ok_per_s)),
            outcomes: Outcomes(&c.out.outcomes),
            latency_ok_ms: (&c.latency_ok).into(),
            latency_all_ms: (&c.latency_all).into(),
            policy: (&c.policy).into(),
            served_by: fleet::served_by(c.out),
            flow: fleet::flow(c.out),
        }
    }
}

impl<'a> From<&ServiceStats<'a>> for Service<'a> {
    fn from(v: &ServiceStats<'a>) -> Self {
        let o = v.out;
        Service {
            name: &o.name,
            instances: o.instances,
            workers: o.workers,
            arrivals: o.arrivals,
            completed: o.completed,
            useful: o.useful,
            rejected: o.rejected,
            refusals: Outcomes(&o.refusals),
            dropped: o.dropped,
            throughput_per_s: Num(v.throughput_per_s),
            goodput_per_s: Num(v.goodput_per_s),
            utilisation: Num(v.utilisation),
            queue_mean: Num(v.queue_mean),
            queue_max: o.queue_max,
            wait_ms: WaitMs {
                mean: Num(v.wait_mean_ms),
                p50: Num(v.wait_p50_ms),
                p99: Num(v.wait_p99_ms),
                max: Num(v.wait_max_ms),
            },
            prob_wait: Num(v.prob_wait),
            sojourn_ms: SojournMs {
                mean: Num(v.sojourn_mean_ms),
                p50: Num(v.sojourn_p50_ms),
                p99: Num(v.sojourn_p99_ms),
            },
            in_system_mean: Num(v.in_system_mean),
            useful_work_s: Num::of(v.useful_work_s),
            useful_share: Num(v.useful_share),
            wasted_work_s: Num::of(v.wasted_work_s),
            wasted_share: Num(v.wasted_share),
            fleet: None,
        }
    }
}

impl<'a> From<&DependencyStats<'a>> for Dependency<'a> {
    fn from(d: &DependencyStats<'a>) -> Self {
        Dependency {
            caller: &d.out.caller,
            callee: &d.out.callee,
            calls: d.out.calls,
            ended: d.ended,
            success_rate: Num(d.success_rate),
            error_rate: Num(d.error_rate),
            degraded_rate: Num(d.degraded_rate),
            outcomes: Outcomes(&d.out.outcomes),
            cache_hits: d.out.cache_hits,
            waited: d.out.waited,
            latency_ok_ms: (&d.latency_ok).into(),
            policy: (&d.policy).into(),
        }
    }
}

impl<'a> From<&'a FaultWindow> for Fault<'a> {
    fn from(f: &'a FaultWindow) -> Self {
        Fault {
            name: &f.name,
            service: &f.service,
            what: &f.what,
            start_s: Num::of(f.start.as_secs_f64()),
            end_s: Num::of(f.end.as_secs_f64()),
        }
    }
}

/// The run's summary as pretty-printed JSON with a trailing newline (see the module docs for
/// the layout and what `null` means).
pub fn summary_json(meta: &ReportMeta, out: &RunOutput) -> String {
    let stats = RunStats::of(out);
    let summary = Summary {
        squall: Format { format: FORMAT, version: &meta.version },
        scenario: &meta.scenario,
        file: &meta.file,
        seed: meta.seed,
        scenario_hash: format!("{:016x}", meta.scenario_hash),
        config_hash: format!("{:016x}", meta.config_hash),
        variant: meta.variant_name(),
        overrides: &meta.overrides,
        numbers: RunNumbers::of(out, &stats),
    };
    to_json(&summary)
}

/// `value` as pretty-printed JSON with a trailing newline.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value)
        .expect("plain structs with string keys and finite numbers always serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{meta, policy_output, sample_output, zero_output};
    use serde_json::Value;

    fn parse(out: &RunOutput) -> Value {
        serde_json::from_str(&summary_json(&meta(), out)).unwrap()
    }

    fn close(v: &Value, expected: f64, rel: f64) -> bool {
        v.as_f64().is_some_and(|x| (x - expected).abs() <= rel * expected.abs())
    }

    #[test]
    fn the_summary_parses_back_with_the_run_header() {
        let j = parse(&sample_output());
        assert_eq!(j["squall"]["format"], 1);
        assert_eq!(j["scenario"], "retry-storm");
        assert_eq!(j["file"], "scenarios/retry_storm.ron");
        assert_eq!(j["seed"], 42);
        assert_eq!(j["scenario_hash"], "00000000deadbeef");
        assert_eq!(j["config_hash"], "00000000c0ffee00");
        assert_eq!(j["variant"], "baseline");
        assert_eq!(j["overrides"], serde_json::json!([]));
        assert_eq!(j["squall"]["version"], "0.0.0");
        assert_eq!(j["duration_s"], 60.0);
        assert_eq!(j["end_s"], 60.0);
        assert_eq!(j["stop"]["kind"], "completed");
        assert_eq!(j["stop"]["detail"], Value::Null);
        assert_eq!(j["events"], 123_456);
        assert_eq!(j["bucket_s"], 1.0);
        assert_eq!(j["conservation"]["issued"], 1_510);
        assert_eq!(j["conservation"]["ended"], 1_500);
        assert_eq!(j["conservation"]["in_flight"], 10);
    }

    #[test]
    fn the_header_records_the_variant_and_its_overrides() {
        let meta = ReportMeta {
            variant: Some("db-x2".to_string()),
            overrides: vec!["services.db.replicas=2".to_string()],
            ..meta()
        };
        let j: Value = serde_json::from_str(&summary_json(&meta, &sample_output())).unwrap();
        assert_eq!(j["variant"], "db-x2");
        assert_eq!(j["overrides"], serde_json::json!(["services.db.replicas=2"]));
    }

    #[test]
    fn clients_have_every_outcome_key_in_order_and_their_latencies() {
        let text = summary_json(&meta(), &sample_output());
        let j: Value = serde_json::from_str(&text).unwrap();
        let web = &j["clients"][0];
        assert_eq!(web["name"], "web");
        assert_eq!(web["issued"], 1_010);
        assert_eq!(web["ended"], 1_000);
        assert_eq!(web["success_rate"], 0.95);
        let outcomes = web["outcomes"].as_object().unwrap();
        assert_eq!(outcomes.len(), Outcome::COUNT);
        for o in Outcome::ALL {
            assert!(outcomes.contains_key(o.name()), "missing {}", o.name());
        }
        assert_eq!(outcomes["ok"], 950);
        assert_eq!(outcomes["timeout"], 30);
        assert_eq!(outcomes["queue_full"], 20);
        assert_eq!(outcomes["shed"], 0);
        // The text keeps Outcome::ALL order (the parsed map does not).
        let first_client = &text[..text.find("\"latency_ok_ms\"").unwrap()];
        let positions: Vec<usize> =
            Outcome::ALL.iter().map(|o| first_client.find(&format!("\"{}\":", o.name())).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        // HDR percentiles are within 0.1 % of the recorded values.
        let l = &web["latency_ok_ms"];
        assert!(close(&l["p50"], 10.0, 1e-3), "{l}");
        assert!(close(&l["p90"], 20.0, 1e-3), "{l}");
        assert!(close(&l["p99"], 100.0, 1e-3), "{l}");
        assert!(close(&l["p999"], 1_000.0, 1e-3), "{l}");
        assert!(close(&l["max"], 1_000.0, 1e-3), "{l}");
        assert!(close(&web["latency_all_ms"]["max"], 1_000.0, 1e-3), "{web}");
        assert_eq!(j["clients"][1]["success_rate"], 1.0);
    }

    #[test]
    fn services_have_utilisation_queue_wait_and_waste() {
        let j = parse(&sample_output());
        let api = &j["services"][0];
        assert_eq!(api["name"], "api");
        assert_eq!(api["instances"], 2);
        assert_eq!(api["workers"], 8);
        assert_eq!(api["arrivals"], 1_510);
        assert_eq!(api["completed"], 1_490);
        assert_eq!(api["rejected"], 20);
        assert_eq!(api["utilisation"], 0.5625);
        assert_eq!(api["queue_mean"], 3.466667);
        assert_eq!(api["queue_max"], 12);
        assert_eq!(api["throughput_per_s"], 24.833333);
        assert_eq!(api["wait_ms"]["mean"], 1.006711);
        assert_eq!(api["prob_wait"], 0.198675);
        assert_eq!(api["sojourn_ms"]["mean"], 15.0);
        assert_eq!(api["in_system_mean"], 7.966667);
        assert_eq!(api["wasted_work_s"], 2.7);
        assert!(close(&api["wait_ms"]["max"], 5.0, 1e-3), "{api}");
        assert_eq!(j["services"][1]["utilisation"], 0.25);
    }

    #[test]
    fn services_account_for_goodput_refusals_and_useful_against_wasted_work() {
        let j = parse(&sample_output());
        let api = &j["services"][0];
        assert_eq!(api["useful"], 1_460);
        assert_eq!(api["dropped"], 0);
        assert_eq!(api["goodput_per_s"], 24.333333);
        assert_eq!(api["useful_work_s"], 267.3);
        assert_eq!(api["useful_share"], 0.99);
        assert_eq!(api["wasted_share"], 0.01);
        let refusals = api["refusals"].as_object().unwrap();
        assert_eq!(refusals.len(), Outcome::COUNT, "every outcome, zeros included");
        assert_eq!(refusals["queue_full"], 20);
        assert_eq!(refusals["shed"], 0);
        assert_eq!(j["clients"][0]["goodput_per_s"], 15.833333);
    }

    #[test]
    fn dependencies_and_fault_windows_are_listed() {
        let j = parse(&sample_output());
        let deps = j["dependencies"].as_array().unwrap();
        assert_eq!(deps.len(), 1);
        let d = &deps[0];
        assert_eq!(d["caller"], "api");
        assert_eq!(d["callee"], "db");
        assert_eq!(d["calls"], 1_490);
        assert_eq!(d["ended"], 1_490);
        assert_eq!(d["success_rate"], 0.993289);
        assert_eq!(d["outcomes"]["timeout"], 10);
        assert_eq!(d["outcomes"].as_object().unwrap().len(), Outcome::COUNT);
        assert_eq!(d["cache_hits"], 0);
        assert_eq!(d["waited"], 12);
        assert!(close(&d["latency_ok_ms"]["p99"], 2.0, 1e-3), "{d}");
        let faults = j["faults"].as_array().unwrap();
        assert_eq!(
            faults[0],
            serde_json::json!({"name": "db-slow", "service": "db", "what": "slow x5", "start_s": 20.0, "end_s": 40.0})
        );
    }

    #[test]
    fn the_top_level_keys_keep_their_order() {
        let text = summary_json(&meta(), &sample_output());
        let keys = [
            "squall",
            "scenario",
            "file",
            "seed",
            "scenario_hash",
            "duration_s",
            "end_s",
            "stop",
            "events",
            "bucket_s",
            "clients",
            "services",
            "dependencies",
            "faults",
            "recovery",
            "policy_totals",
            "conservation",
        ];
        let positions: Vec<usize> = keys
            .iter()
            .map(|k| text.find(&format!("\n  \"{k}\":")).unwrap_or_else(|| panic!("{k}")))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    }

    #[test]
    fn undefined_numbers_are_null_and_counts_are_zero() {
        let text = summary_json(&meta(), &zero_output());
        assert!(!text.contains("NaN"), "{text}");
        assert!(!text.contains("inf"), "{text}");
        assert!(text.ends_with("}\n"));
        let j: Value = serde_json::from_str(&text).unwrap();
        let c = &j["clients"][0];
        assert_eq!(c["success_rate"], Value::Null);
        assert_eq!(c["latency_ok_ms"]["p50"], Value::Null);
        assert_eq!(c["outcomes"]["ok"], 0);
        let s = &j["services"][0];
        assert_eq!(s["utilisation"], Value::Null);
        assert_eq!(s["throughput_per_s"], Value::Null);
        assert_eq!(s["wait_ms"]["mean"], Value::Null);
        assert_eq!(s["wasted_work_s"], 0.0);
        assert_eq!(s["wasted_share"], Value::Null);
        assert_eq!(c["goodput_per_s"], Value::Null);
        assert_eq!(j["dependencies"], serde_json::json!([]));
        assert_eq!(j["faults"], serde_json::json!([]));
        assert_eq!(j["recovery"], serde_json::json!([]));
        assert_eq!(c["error_rate"], Value::Null);
        assert_eq!(c["policy"]["amplification"], Value::Null);
        assert_eq!(c["policy"]["attempts"], 0);
        assert_eq!(c["policy"]["breaker"], Value::Null);
        assert_eq!(j["policy_totals"]["amplification"], Value::Null);
        assert_eq!(j["stop"]["kind"], "completed");
    }

    #[test]
    fn clients_show_degraded_apart_from_ok_and_an_error_rate_without_it() {
        let j = parse(&policy_output());
        let web = &j["clients"][0];
        // 950 ok, 10 degraded, 20 timeouts and 20 queue full of 1,000 ended.
        assert_eq!(web["outcomes"]["ok"], 950);
        assert_eq!(web["outcomes"]["degraded"], 10);
        assert_eq!(web["success_rate"], 0.96);
        assert_eq!(web["degraded_rate"], 0.01);
        assert_eq!(web["error_rate"], 0.04);
        // Goodput counts successes, fallbacks included: 960 in 60 s; ok alone 950, written
        // apart because the group was served fallbacks.
        assert_eq!(web["goodput_per_s"], 16.0);
        assert_eq!(web["ok_per_s"], 15.833333);
        let sample = parse(&sample_output());
        assert!(sample["clients"][0].get("ok_per_s").is_none(), "no fallbacks, no ok_per_s");
        // Of api's 1,490 calls to db, 8 were served by the fallback and 2 timed out.
        let d = &j["dependencies"][0];
        assert_eq!(d["success_rate"], 0.998658);
        assert_eq!(d["degraded_rate"], 0.005369);
        assert_eq!(d["error_rate"], 0.001342);
        let sample = parse(&sample_output());
        assert_eq!(sample["clients"][0]["error_rate"], 0.05);
        assert_eq!(sample["clients"][0]["degraded_rate"], 0.0);
    }

    #[test]
    fn call_sites_have_a_policy_object_with_attempts_amplification_and_breaker() {
        let text = summary_json(&meta(), &policy_output());
        let j: Value = serde_json::from_str(&text).unwrap();
        let web = &j["clients"][0]["policy"];
        assert_eq!(
            *web,
            serde_json::json!({
                "attempts": 1_070,
                "retries": 60,
                "hedges": 0,
                // 1,070 attempts for 1,010 requests.
                "amplification": 1.059406,
                "retries_denied": 0,
                "throttled": 0,
                "short_circuited": 14,
                "fallbacks": 10,
                "attempt_outcomes": web["attempt_outcomes"].clone(),
                "breaker": {
                    "breakers": 1,
                    "opens": 2,
                    "seconds_closed": 51.5,
                    "seconds_open": 7.0,
                    "seconds_half_open": 1.5
                }
            })
        );
        assert_eq!(web["attempt_outcomes"].as_object().unwrap().len(), Outcome::COUNT);
        assert_eq!(web["attempt_outcomes"]["circuit_open"], 14);
        let db = &j["dependencies"][0]["policy"];
        assert_eq!(db["attempts"], 1_530);
        assert_eq!(db["amplification"], 1.026846);
        assert_eq!(db["retries_denied"], 20);
        assert_eq!(db["throttled"], 3);
        assert_eq!(db["fallbacks"], 8);
        assert_eq!(db["attempt_outcomes"]["throttled"], 3);
        assert_eq!(db["breaker"], Value::Null);
        // A group without a policy: one attempt per request.
        let batch = &j["clients"][1]["policy"];
        assert_eq!(batch["amplification"], 1.0);
        assert_eq!(batch["retries"], 0);
        // The keys keep their declared order.
        let web_text = &text[text.find("\"policy\": {").unwrap()..];
        let keys =
            ["\"attempts\"", "\"amplification\"", "\"fallbacks\"", "\"attempt_outcomes\"", "\"breaker\""];
        let positions: Vec<usize> = keys.iter().map(|k| web_text.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    }

    #[test]
    fn recovery_is_listed_per_fault_with_its_status() {
        let j = parse(&policy_output());
        assert_eq!(
            j["recovery"],
            serde_json::json!([
                {"fault": "cold-start", "status": "no_baseline", "baseline_per_s": null,
                 "recovered_at_s": null, "time_to_recover_s": null},
                {"fault": "db-slow", "status": "recovered", "baseline_per_s": 26.0,
                 "recovered_at_s": 45.0, "time_to_recover_s": 5.0},
                {"fault": "api-leak", "status": "never", "baseline_per_s": 21.2,
                 "recovered_at_s": null, "time_to_recover_s": null}
            ])
        );
        // In the sample the incident costs web no successes: back at once.
        let sample = parse(&sample_output());
        assert_eq!(sample["recovery"][0]["time_to_recover_s"], 0.0);
        assert_eq!(sample["recovery"][0]["status"], "recovered");
    }

    #[test]
    fn policy_totals_sum_the_sites() {
        let j = parse(&policy_output());
        // (1,070 + 500) attempts for 1,510 requests; 20 denied retries; 2 opens; 10 degraded.
        assert_eq!(
            j["policy_totals"],
            serde_json::json!({"amplification": 1.039735, "retries_denied": 20, "breaker_opens": 2, "degraded": 10})
        );
    }

    #[test]
    fn fleets_flows_and_deploys_are_written_with_their_numbers() {
        use crate::sample::fleet_output;
        let j = parse(&fleet_output());
        let fleet = &j["services"][0]["fleet"];
        assert_eq!(fleet["versions"][1]["name"], "v2");
        assert_eq!(fleet["versions"][1]["answered"], 400);
        assert_eq!(fleet["versions"][1]["errors"], 40);
        assert_eq!(fleet["versions"][1]["error_rate"], 0.1);
        assert_eq!(fleet["versions"][1]["answers"]["server_error"], 40);
        assert_eq!(fleet["versions"][0]["ready_at_end"], 2);
        assert_eq!(fleet["created"], 1);
        assert_eq!(fleet["crashes"], 1);
        assert_eq!(fleet["restarts"], 1);
        assert_eq!(fleet["refused_not_accepting"], 3);
        assert_eq!(fleet["skew_s"], 10.0);
        assert_eq!(fleet["skew_windows"], serde_json::json!([[35.0, 45.0]]));
        assert_eq!(fleet["capacity_mean"], 8.666667);
        assert!(j["services"][1].get("fleet").is_none(), "db has one version and no activity");
        let web = &j["clients"][0];
        assert_eq!(
            web["served_by"][1],
            serde_json::json!({"service": "api", "version": "v2", "outcomes": web["served_by"][1]["outcomes"].clone()})
        );
        assert_eq!(web["served_by"][1]["outcomes"]["ok"], 250);
        let flow = &web["flow"];
        assert_eq!(flow["started"], 210);
        assert_eq!(flow["completed"], 190);
        assert_eq!(flow["failed"], 10);
        assert_eq!(flow["in_flight"], 10);
        assert_eq!(flow["success_rate"], 0.95);
        assert_eq!(flow["steps"][1]["name"], "pay");
        assert_eq!(flow["steps"][1]["skipped"], 10);
        assert_eq!(flow["steps"][1]["outcomes"]["server_error"], 5);
        assert_eq!(
            flow["paths"][1],
            serde_json::json!({"versions": ["v1", "v2"], "completed": 40, "failed": 3})
        );
        assert!(j["clients"][1].get("flow").is_none() && j["clients"][1].get("served_by").is_none());
        let d = &j["deploys"][0];
        assert_eq!(d["name"], "api-v2");
        assert_eq!(d["service"], "api");
        assert_eq!(d["version"], "v2");
        assert_eq!(d["strategy"], "canary");
        assert_eq!(d["result"], "rolled_back");
        assert_eq!(d["started_s"], 30.0);
        assert_eq!(d["ended_s"], 45.0);
        assert_eq!(d["duration_s"], 15.0);
        assert_eq!(d["events"][2], serde_json::json!({"at_s": 40.0, "what": "abort: error rate 10.0%"}));
    }

    #[test]
    fn a_run_without_fleet_features_has_none_of_their_keys() {
        for out in [sample_output(), policy_output(), zero_output()] {
            let text = summary_json(&meta(), &out);
            for key in ["\"fleet\"", "\"served_by\"", "\"flow\"", "\"deploys\""] {
                assert!(!text.contains(key), "{key} in {text}");
            }
        }
    }

    /// The sample's goodput dips for 20 s in the middle of a 60 s run: MSER-5 cannot find a
    /// steady state, and says so in the summary and the table.
    #[test]
    fn an_mser5_cut_that_cannot_be_trusted_is_warned_about() {
        let mut out = sample_output();
        out.warmup = Some(squall_model::Warmup::Mser5);
        let j: Value = serde_json::from_str(&summary_json(&meta(), &out)).unwrap();
        let warnings = j["steady_state"]["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let w = warnings[0].as_str().unwrap();
        assert!(w.starts_with("MSER-5 "), "{w}");
        let table = crate::summary_table(&meta(), &out);
        assert!(table.contains(&format!("warning: {w}")), "{table}");
    }

    #[test]
    fn a_configured_warmup_adds_the_steady_state_after_recovery() {
        let mut out = sample_output();
        out.warmup = Some(squall_model::Warmup::Fixed(squall_kernel::SimDuration::from_secs(45)));
        let text = summary_json(&meta(), &out);
        assert!(text.find("\n  \"recovery\":").unwrap() < text.find("\n  \"steady_state\":").unwrap());
        let j: Value = serde_json::from_str(&text).unwrap();
        let st = &j["steady_state"];
        assert_eq!(st["warmup"], "fixed");
        assert_eq!(st["warmup_end_s"], 45.0);
        assert_eq!(st["buckets_deleted"], 45);
        assert_eq!(st["window_s"], 15.0);
        // web, buckets 45 to 59: 5 x (16 ok + 1 timeout) then 10 x 15 ok.
        let web = &st["clients"][0];
        assert_eq!(web["name"], "web");
        assert_eq!(web["ended"], 235);
        assert_eq!(web["successes"], 230);
        assert_eq!(web["throughput_per_s"], 15.666667);
        assert_eq!(web["goodput_per_s"], 15.333333);
        assert_eq!(web["success_rate"], 0.978723);
        // 5 x 28 x 10 ms + 10 x 27 x 10 ms over 230 successes.
        assert_eq!(web["latency_ok_mean_ms"], 17.826087);
        assert_eq!(st["all"]["ended"], 285);
        assert_eq!(st["all"]["successes"], 280);
        assert!(st["all"].get("name").is_none());
        let mser: Value = {
            out.warmup = Some(squall_model::Warmup::Mser5);
            serde_json::from_str(&summary_json(&meta(), &out)).unwrap()
        };
        assert_eq!(mser["steady_state"]["warmup"], "mser5");
        assert!(st.get("warnings").is_none(), "a fixed warm-up raises none, and adds no key");
        for out in [sample_output(), policy_output(), zero_output()] {
            assert!(!summary_json(&meta(), &out).contains("steady_state"), "no warm-up, no key");
        }
    }
}
