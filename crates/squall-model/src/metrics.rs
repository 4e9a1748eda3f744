//! The metric catalogue: every figure a report, a comparison, a sweep or an invariant shows
//! of a run, each defined once with its name, unit, scope and how it is computed from a
//! [`RunOutput`].
//!
//! A metric is named within its scope: `success_rate` of the whole run (all client groups
//! together), of one client group, of a dependency's calls or of a flow are four entries that
//! share one formula. Consumers look a metric up by scope and name ([`metric`]) and measure
//! it on a [`Ctx`]; the names are the ones users already see (`summary.json` keys, CSV
//! headers, sweep `--metric` names), so reading through the catalogue changes no output.
//! `docs/metrics.md` is generated from [`CATALOGUE`] by [`reference`].
//!
//! **Goodput** has one definition: successes, that is `Ok` and `Degraded` answers (a fallback
//! is a usable answer), per simulated second ([`OutcomeCounts::successes`]). `Ok` answers
//! alone per second are the separate metric `ok_per_s`. A service's `goodput_per_s` is the
//! same idea seen from the server: requests it served for a caller that still waited.
//!
//! Every measure returns `None` when it is undefined (a zero denominator, an empty
//! histogram), never NaN or infinity.

use std::cell::OnceCell;

use squall_kernel::time::{NS_PER_MS, NS_PER_S};

use crate::analysis::{recovery_with, steady_state, Recovery, RecoveryParams, RecoveryStatus, SteadyState};
use crate::latency::Latencies;
use crate::outcome::{Outcome, OutcomeCounts};
use crate::output::{
    ClientOutput, DependencyOutput, FlowOutput, PolicyOutput, RunOutput, ServiceOutput, VersionOutput,
    HIST_SIGFIG,
};

/// What a metric is measured on.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The whole run: every client group together, and run-wide analyses (recovery after
    /// faults, the steady window).
    Run,
    /// One client group, or several together (as an invariant names them).
    Client,
    /// One service, summed over its instances.
    Service,
    /// One caller's calls to one dependency (`caller->callee`).
    Dependency,
    /// The flows of one client group.
    Flow,
    /// One version of a service: the answers its instances gave.
    Version,
    /// One fault window and how goodput recovered after it.
    Fault,
}

impl Scope {
    /// Every scope, in the order of the reference.
    pub const ALL: [Scope; 7] = [
        Scope::Run,
        Scope::Client,
        Scope::Service,
        Scope::Dependency,
        Scope::Flow,
        Scope::Version,
        Scope::Fault,
    ];

    /// The scope's name, as the reference writes it.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Run => "run",
            Scope::Client => "client",
            Scope::Service => "service",
            Scope::Dependency => "dependency",
            Scope::Flow => "flow",
            Scope::Version => "version",
            Scope::Fault => "fault",
        }
    }
}

/// The unit of a metric's value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A count (an integer).
    Count,
    /// A share, usually in [0, 1].
    Ratio,
    /// Events per simulated second.
    PerSecond,
    /// Milliseconds.
    Milliseconds,
    /// Seconds (simulated).
    Seconds,
    /// A mean number of things present at once (a time average).
    Mean,
    /// 1 or 0.
    Flag,
}

impl Unit {
    /// The unit's name, as the reference writes it.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Ratio => "ratio",
            Unit::PerSecond => "1/s",
            Unit::Milliseconds => "ms",
            Unit::Seconds => "s",
            Unit::Mean => "mean",
            Unit::Flag => "0 or 1",
        }
    }
}

/// How a metric is computed: a plain function of its scope's context.
#[derive(Copy, Clone)]
pub enum Measure {
    /// Of a group of client groups (the `Run` and `Client` scopes).
    Clients(fn(&Clients<'_>) -> Option<f64>),
    /// Of a service, given the run's elapsed nanoseconds.
    Service(fn(&ServiceOutput, u64) -> Option<f64>),
    /// Of a dependency.
    Dependency(fn(&DependencyOutput) -> Option<f64>),
    /// Of a client group's flows.
    Flow(fn(&FlowOutput) -> Option<f64>),
    /// Of a service version.
    Version(fn(&VersionOutput) -> Option<f64>),
    /// Of a fault window's recovery.
    Fault(fn(&Recovery) -> Option<f64>),
}

/// One metric of the catalogue.
#[derive(Copy, Clone)]
pub struct Metric {
    /// Its name within its scope, as outputs print it.
    pub name: &'static str,
    /// The unit of its value.
    pub unit: Unit,
    /// What it is measured on.
    pub scope: Scope,
    /// What it means, in a sentence or two.
    pub doc: &'static str,
    /// How it is computed.
    pub measure: Measure,
}

impl std::fmt::Debug for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Metric({}.{})", self.scope.name(), self.name)
    }
}

/// What a metric is measured on; its kind must match the metric's scope.
#[derive(Clone, Copy)]
pub enum Ctx<'a> {
    /// Client groups together (scopes `Run` and `Client`).
    Clients(&'a Clients<'a>),
    /// A service of a run that ran `elapsed_ns`.
    Service(&'a ServiceOutput, u64),
    /// A dependency.
    Dependency(&'a DependencyOutput),
    /// A client group's flows.
    Flow(&'a FlowOutput),
    /// A service version.
    Version(&'a VersionOutput),
    /// A fault window's recovery.
    Fault(&'a Recovery),
}

impl Metric {
    /// The metric's value on `ctx`; `None` when undefined.
    ///
    /// # Panics
    /// If `ctx` is not of the metric's scope (a bug of the caller).
    pub fn of(&self, ctx: Ctx<'_>) -> Option<f64> {
        let v = match (self.measure, ctx) {
            (Measure::Clients(f), Ctx::Clients(c)) => f(c),
            (Measure::Service(f), Ctx::Service(s, elapsed_ns)) => f(s, elapsed_ns),
            (Measure::Dependency(f), Ctx::Dependency(d)) => f(d),
            (Measure::Flow(f), Ctx::Flow(fl)) => f(fl),
            (Measure::Version(f), Ctx::Version(v)) => f(v),
            (Measure::Fault(f), Ctx::Fault(r)) => f(r),
            _ => panic!("metric {}.{} measured on another scope", self.scope.name(), self.name),
        };
        v.filter(|x| x.is_finite())
    }
}

/// The metric `name` of `scope`.
///
/// # Panics
/// If the catalogue has no such metric: names are fixed in code, so this is a bug.
pub fn metric(scope: Scope, name: &str) -> &'static Metric {
    find(scope, name).unwrap_or_else(|| panic!("no metric {}.{name} in the catalogue", scope.name()))
}

/// The metric `name` of `scope`, if the catalogue has it.
pub fn find(scope: Scope, name: &str) -> Option<&'static Metric> {
    CATALOGUE.iter().find(|m| m.scope == scope && m.name == name)
}

/// The metrics of `scope`, in catalogue order.
pub fn of_scope(scope: Scope) -> impl Iterator<Item = &'static Metric> {
    CATALOGUE.iter().filter(move |m| m.scope == scope)
}

/// `num / den`, or `None` when that is not a finite number (a zero denominator).
pub fn ratio(num: f64, den: f64) -> Option<f64> {
    if den == 0.0 {
        return None;
    }
    let r = num / den;
    r.is_finite().then_some(r)
}

/// `n` events over `elapsed_ns`, per second.
pub fn per_s(n: u64, elapsed_ns: u64) -> Option<f64> {
    ratio(n as f64 * NS_PER_S as f64, elapsed_ns as f64)
}

/// The quantile `q` of `h`, in ms; `None` if `h` is empty.
pub fn quantile_ms(h: &Latencies, q: f64) -> Option<f64> {
    (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / NS_PER_MS as f64)
}

/// The mean of `h` (from its buckets), in ms; `None` if `h` is empty.
pub fn mean_ms(h: &Latencies) -> Option<f64> {
    (!h.is_empty()).then(|| h.mean() / NS_PER_MS as f64).filter(|m| m.is_finite())
}

/// The largest value of `h`, in ms; `None` if `h` is empty.
pub fn max_ms(h: &Latencies) -> Option<f64> {
    (!h.is_empty()).then(|| h.max() as f64 / NS_PER_MS as f64)
}

/// Nanoseconds (a sum of worker time) as seconds.
pub fn ns_to_s(ns: u128) -> f64 {
    ns as f64 / NS_PER_S as f64
}

/// Client groups measured together: the whole run's, one group's, or those an invariant
/// names. Figures that need the whole run (recovery, the steady window) are read from `run`.
pub struct Clients<'a> {
    /// The run.
    pub run: &'a RunOutput,
    members: Vec<&'a ClientOutput>,
    outcomes: OutcomeCounts,
    merged_ok: OnceCell<Latencies>,
    merged_all: OnceCell<Latencies>,
    steady: OnceCell<SteadyState>,
    recoveries: OnceCell<Recoveries>,
}

impl<'a> Clients<'a> {
    /// Every client group of `run`.
    pub fn all(run: &'a RunOutput) -> Clients<'a> {
        Clients::new(run, run.clients.iter().collect())
    }

    /// The client group `c` of `run`.
    pub fn one(run: &'a RunOutput, c: &'a ClientOutput) -> Clients<'a> {
        Clients::new(run, vec![c])
    }

    /// The client groups of `run` whose names are in `names`, in run order.
    pub fn named(run: &'a RunOutput, names: &[String]) -> Clients<'a> {
        Clients::new(run, run.clients.iter().filter(|c| names.contains(&c.name)).collect())
    }

    fn new(run: &'a RunOutput, members: Vec<&'a ClientOutput>) -> Clients<'a> {
        let mut outcomes = OutcomeCounts::default();
        for c in &members {
            outcomes.merge(&c.outcomes);
        }
        Clients {
            run,
            members,
            outcomes,
            merged_ok: OnceCell::new(),
            merged_all: OnceCell::new(),
            steady: OnceCell::new(),
            recoveries: OnceCell::new(),
        }
    }

    /// The groups measured.
    pub fn members(&self) -> &[&'a ClientOutput] {
        &self.members
    }

    /// Their outcomes together.
    pub fn outcomes(&self) -> &OutcomeCounts {
        &self.outcomes
    }

    /// Latency of their successful requests together.
    pub fn latency_ok(&self) -> &Latencies {
        match self.members.as_slice() {
            [one] => &one.latency_ok,
            many => self.merged_ok.get_or_init(|| merge(many.iter().map(|c| &c.latency_ok))),
        }
    }

    /// Latency of all their ended requests together.
    pub fn latency_all(&self) -> &Latencies {
        match self.members.as_slice() {
            [one] => &one.latency_all,
            many => self.merged_all.get_or_init(|| merge(many.iter().map(|c| &c.latency_all))),
        }
    }

    fn elapsed_ns(&self) -> u64 {
        self.run.end.as_nanos()
    }

    fn issued(&self) -> u64 {
        self.members.iter().map(|c| c.issued).sum()
    }

    fn policies(&self) -> impl Iterator<Item = &PolicyOutput> {
        self.members.iter().map(|c| &c.policy)
    }

    fn steady(&self) -> &SteadyState {
        self.steady.get_or_init(|| steady_state(self.run))
    }

    fn recoveries(&self) -> &Recoveries {
        self.recoveries.get_or_init(|| recoveries(self.run, RecoveryParams::default().fraction))
    }
}

fn merge<'b>(mut hs: impl Iterator<Item = &'b Latencies>) -> Latencies {
    let Some(first) = hs.next() else { return Latencies::new(HIST_SIGFIG) };
    let mut merged = first.clone();
    for h in hs {
        merged.add(h);
    }
    merged
}

/// How goodput came back after the fault windows that opened before the run's end.
#[derive(Clone, Debug, PartialEq)]
pub struct Recoveries {
    /// Windows with a baseline to judge by.
    pub judged: usize,
    /// The first window after which goodput never came back.
    pub never: Option<String>,
    /// The slowest recovery, s, over the windows after which it came back.
    pub slowest_s: Option<f64>,
}

/// [`Recoveries`] of `out` with `fraction` of the baseline counting as recovered.
pub fn recoveries(out: &RunOutput, fraction: f64) -> Recoveries {
    let params = RecoveryParams { fraction, ..RecoveryParams::default() };
    let mut r = Recoveries { judged: 0, never: None, slowest_s: None };
    for (rec, f) in recovery_with(out, &params).iter().zip(&out.faults) {
        if f.start >= out.end {
            continue;
        }
        match rec.status() {
            RecoveryStatus::NoBaseline => continue,
            RecoveryStatus::Never => {
                r.never.get_or_insert_with(|| rec.fault.clone());
            }
            RecoveryStatus::Recovered(d) => {
                r.slowest_s = Some(r.slowest_s.unwrap_or(0.0).max(d.as_secs_f64()));
            }
        }
        r.judged += 1;
    }
    r
}

// The measures. Each formula is written once; scopes that share it share the function.

/// Successes (`Ok` and `Degraded`) over all outcomes; `None` when there are none.
pub fn success_rate(o: &OutcomeCounts) -> Option<f64> {
    ratio(o.successes() as f64, o.total() as f64)
}

/// Failures (neither `Ok` nor `Degraded`) over all outcomes; `None` when there are none.
pub fn error_rate(o: &OutcomeCounts) -> Option<f64> {
    ratio((o.total() - o.successes()) as f64, o.total() as f64)
}

/// `Degraded` answers over all outcomes; `None` when there are none.
pub fn degraded_rate(o: &OutcomeCounts) -> Option<f64> {
    ratio(o.get(Outcome::Degraded) as f64, o.total() as f64)
}

fn breaker_opens(p: &PolicyOutput) -> u64 {
    p.breaker.as_ref().map_or(0, |b| b.opens)
}

fn count(n: u64) -> Option<f64> {
    Some(n as f64)
}

fn c_issued(c: &Clients<'_>) -> Option<f64> {
    count(c.issued())
}
fn c_ended(c: &Clients<'_>) -> Option<f64> {
    count(c.outcomes.total())
}
fn c_success_rate(c: &Clients<'_>) -> Option<f64> {
    success_rate(&c.outcomes)
}
fn c_error_rate(c: &Clients<'_>) -> Option<f64> {
    error_rate(&c.outcomes)
}
fn c_degraded_rate(c: &Clients<'_>) -> Option<f64> {
    degraded_rate(&c.outcomes)
}
fn c_goodput(c: &Clients<'_>) -> Option<f64> {
    per_s(c.outcomes.successes(), c.elapsed_ns())
}
fn c_ok_per_s(c: &Clients<'_>) -> Option<f64> {
    per_s(c.outcomes.get(Outcome::Ok), c.elapsed_ns())
}
fn c_mean_ms(c: &Clients<'_>) -> Option<f64> {
    mean_ms(c.latency_ok())
}
fn c_p50_ms(c: &Clients<'_>) -> Option<f64> {
    quantile_ms(c.latency_ok(), 0.5)
}
fn c_p90_ms(c: &Clients<'_>) -> Option<f64> {
    quantile_ms(c.latency_ok(), 0.9)
}
fn c_p99_ms(c: &Clients<'_>) -> Option<f64> {
    quantile_ms(c.latency_ok(), 0.99)
}
fn c_p999_ms(c: &Clients<'_>) -> Option<f64> {
    quantile_ms(c.latency_ok(), 0.999)
}
fn c_max_ms(c: &Clients<'_>) -> Option<f64> {
    max_ms(c.latency_ok())
}
fn c_all_mean_ms(c: &Clients<'_>) -> Option<f64> {
    mean_ms(c.latency_all())
}
fn c_all_p50_ms(c: &Clients<'_>) -> Option<f64> {
    quantile_ms(c.latency_all(), 0.5)
}
fn c_all_p90_ms(c: &Clients<'_>) -> Option<f64> {
    quantile_ms(c.latency_all(), 0.9)
}
fn c_all_p99_ms(c: &Clients<'_>) -> Option<f64> {
    quantile_ms(c.latency_all(), 0.99)
}
fn c_all_p999_ms(c: &Clients<'_>) -> Option<f64> {
    quantile_ms(c.latency_all(), 0.999)
}
fn c_all_max_ms(c: &Clients<'_>) -> Option<f64> {
    max_ms(c.latency_all())
}
fn c_amplification(c: &Clients<'_>) -> Option<f64> {
    ratio(c.policies().map(|p| p.attempts).sum::<u64>() as f64, c.issued() as f64)
}
fn c_retries_denied(c: &Clients<'_>) -> Option<f64> {
    count(c.policies().map(|p| p.retries_denied).sum())
}
fn c_breaker_opens(c: &Clients<'_>) -> Option<f64> {
    count(c.policies().map(breaker_opens).sum())
}
fn c_degraded(c: &Clients<'_>) -> Option<f64> {
    count(c.outcomes.get(Outcome::Degraded))
}
fn r_retries_denied(c: &Clients<'_>) -> Option<f64> {
    let deps: u64 = c.run.dependencies.iter().map(|d| d.policy.retries_denied).sum();
    count(c.policies().map(|p| p.retries_denied).sum::<u64>() + deps)
}
fn r_breaker_opens(c: &Clients<'_>) -> Option<f64> {
    let deps: u64 = c.run.dependencies.iter().map(|d| breaker_opens(&d.policy)).sum();
    count(c.policies().map(breaker_opens).sum::<u64>() + deps)
}
fn r_recovered(c: &Clients<'_>) -> Option<f64> {
    let r = c.recoveries();
    (r.judged > 0).then(|| if r.never.is_some() { 0.0 } else { 1.0 })
}
fn r_recovery_s(c: &Clients<'_>) -> Option<f64> {
    let r = c.recoveries();
    r.slowest_s.filter(|_| r.never.is_none())
}
fn r_steady_goodput(c: &Clients<'_>) -> Option<f64> {
    c.steady().all.goodput_per_s
}
fn r_steady_success_rate(c: &Clients<'_>) -> Option<f64> {
    c.steady().all.success_rate
}
fn r_steady_latency_ms(c: &Clients<'_>) -> Option<f64> {
    c.steady().all.latency_ok_mean_ns.map(|ns| ns / NS_PER_MS as f64)
}

fn s_arrivals(s: &ServiceOutput, _: u64) -> Option<f64> {
    count(s.arrivals)
}
fn s_completed(s: &ServiceOutput, _: u64) -> Option<f64> {
    count(s.completed)
}
fn s_useful(s: &ServiceOutput, _: u64) -> Option<f64> {
    count(s.useful)
}
fn s_rejected(s: &ServiceOutput, _: u64) -> Option<f64> {
    count(s.rejected)
}
fn s_dropped(s: &ServiceOutput, _: u64) -> Option<f64> {
    count(s.dropped)
}
fn s_throughput(s: &ServiceOutput, elapsed_ns: u64) -> Option<f64> {
    per_s(s.completed, elapsed_ns)
}
fn s_goodput(s: &ServiceOutput, elapsed_ns: u64) -> Option<f64> {
    per_s(s.useful, elapsed_ns)
}
fn s_utilisation(s: &ServiceOutput, elapsed_ns: u64) -> Option<f64> {
    ratio(s.busy_integral as f64, f64::from(s.workers) * elapsed_ns as f64)
}
fn s_queue_mean(s: &ServiceOutput, elapsed_ns: u64) -> Option<f64> {
    ratio(s.queue_integral as f64, elapsed_ns as f64)
}
fn s_queue_max(s: &ServiceOutput, _: u64) -> Option<f64> {
    count(s.queue_max)
}
fn exact_mean_ms(sum_ns: u128, h: &Latencies) -> Option<f64> {
    ratio(sum_ns as f64, h.len() as f64).map(|ns| ns / NS_PER_MS as f64)
}
fn s_wait_mean_ms(s: &ServiceOutput, _: u64) -> Option<f64> {
    exact_mean_ms(s.wait_ns_sum, &s.wait)
}
fn s_wait_p50_ms(s: &ServiceOutput, _: u64) -> Option<f64> {
    quantile_ms(&s.wait, 0.5)
}
fn s_wait_p99_ms(s: &ServiceOutput, _: u64) -> Option<f64> {
    quantile_ms(&s.wait, 0.99)
}
fn s_wait_max_ms(s: &ServiceOutput, _: u64) -> Option<f64> {
    max_ms(&s.wait)
}
fn s_prob_wait(s: &ServiceOutput, _: u64) -> Option<f64> {
    ratio(s.waited as f64, s.arrivals as f64)
}
fn s_sojourn_mean_ms(s: &ServiceOutput, _: u64) -> Option<f64> {
    exact_mean_ms(s.sojourn_ns_sum, &s.sojourn)
}
fn s_sojourn_p50_ms(s: &ServiceOutput, _: u64) -> Option<f64> {
    quantile_ms(&s.sojourn, 0.5)
}
fn s_sojourn_p99_ms(s: &ServiceOutput, _: u64) -> Option<f64> {
    quantile_ms(&s.sojourn, 0.99)
}
fn s_in_system_mean(s: &ServiceOutput, elapsed_ns: u64) -> Option<f64> {
    ratio(s.in_system_integral as f64, elapsed_ns as f64)
}
fn s_useful_work_s(s: &ServiceOutput, _: u64) -> Option<f64> {
    Some(ns_to_s(s.useful_work_ns))
}
fn s_useful_share(s: &ServiceOutput, _: u64) -> Option<f64> {
    ratio(s.useful_work_ns as f64, s.busy_integral as f64)
}
fn s_wasted_work_s(s: &ServiceOutput, _: u64) -> Option<f64> {
    Some(ns_to_s(s.wasted_work_ns))
}
fn s_wasted_share(s: &ServiceOutput, _: u64) -> Option<f64> {
    ratio(s.wasted_work_ns as f64, s.busy_integral as f64)
}

fn d_calls(d: &DependencyOutput) -> Option<f64> {
    count(d.calls)
}
fn d_ended(d: &DependencyOutput) -> Option<f64> {
    count(d.outcomes.total())
}
fn d_success_rate(d: &DependencyOutput) -> Option<f64> {
    success_rate(&d.outcomes)
}
fn d_error_rate(d: &DependencyOutput) -> Option<f64> {
    error_rate(&d.outcomes)
}
fn d_degraded_rate(d: &DependencyOutput) -> Option<f64> {
    degraded_rate(&d.outcomes)
}
fn d_mean_ms(d: &DependencyOutput) -> Option<f64> {
    mean_ms(&d.latency_ok)
}
fn d_p50_ms(d: &DependencyOutput) -> Option<f64> {
    quantile_ms(&d.latency_ok, 0.5)
}
fn d_p90_ms(d: &DependencyOutput) -> Option<f64> {
    quantile_ms(&d.latency_ok, 0.9)
}
fn d_p99_ms(d: &DependencyOutput) -> Option<f64> {
    quantile_ms(&d.latency_ok, 0.99)
}
fn d_p999_ms(d: &DependencyOutput) -> Option<f64> {
    quantile_ms(&d.latency_ok, 0.999)
}
fn d_max_ms(d: &DependencyOutput) -> Option<f64> {
    max_ms(&d.latency_ok)
}
fn d_amplification(d: &DependencyOutput) -> Option<f64> {
    ratio(d.policy.attempts as f64, d.calls as f64)
}
fn d_retries_denied(d: &DependencyOutput) -> Option<f64> {
    count(d.policy.retries_denied)
}
fn d_breaker_opens(d: &DependencyOutput) -> Option<f64> {
    count(breaker_opens(&d.policy))
}
fn d_degraded(d: &DependencyOutput) -> Option<f64> {
    count(d.outcomes.get(Outcome::Degraded))
}

fn f_started(f: &FlowOutput) -> Option<f64> {
    count(f.started)
}
fn f_completed(f: &FlowOutput) -> Option<f64> {
    count(f.completed)
}
fn f_failed(f: &FlowOutput) -> Option<f64> {
    count(f.failed)
}
fn f_in_flight(f: &FlowOutput) -> Option<f64> {
    count(f.started.saturating_sub(f.completed + f.failed))
}
fn f_success_rate(f: &FlowOutput) -> Option<f64> {
    ratio(f.completed as f64, (f.completed + f.failed) as f64)
}

fn v_answers(v: &VersionOutput) -> Option<f64> {
    count(v.answers.total())
}
fn v_errors(v: &VersionOutput) -> Option<f64> {
    count(v.answers.total() - v.answers.successes())
}
fn v_error_rate(v: &VersionOutput) -> Option<f64> {
    error_rate(&v.answers)
}
fn v_success_rate(v: &VersionOutput) -> Option<f64> {
    error_rate(&v.answers).map(|e| 1.0 - e)
}

fn x_baseline(r: &Recovery) -> Option<f64> {
    r.baseline_per_s
}
fn x_recovered_at(r: &Recovery) -> Option<f64> {
    r.recovered_at.map(|t| t.as_secs_f64())
}
fn x_time_to_recover(r: &Recovery) -> Option<f64> {
    r.time_to_recover.map(|d| d.as_secs_f64())
}

const fn m(name: &'static str, unit: Unit, scope: Scope, doc: &'static str, measure: Measure) -> Metric {
    Metric { name, unit, scope, doc, measure }
}

use Measure::{Clients as C, Dependency as D, Fault as X, Flow as F, Service as S, Version as V};
use Scope::{
    Client as CLIENT, Dependency as DEP, Fault as FAULT, Flow as FLOW, Run as RUN, Service as SERVICE,
    Version as VERSION,
};

/// Every metric, by scope, in the order of the reference.
pub static CATALOGUE: &[Metric] = &[
    // The whole run.
    m("success_rate", Unit::Ratio, RUN, "Successes (`Ok` and `Degraded`) over ended requests of every client group.", C(c_success_rate)),
    m("goodput_per_s", Unit::PerSecond, RUN, "Goodput: successes (`Ok` and `Degraded`) of every client group per simulated second.", C(c_goodput)),
    m("p50_ms", Unit::Milliseconds, RUN, "Median latency of the successful requests of every client group.", C(c_p50_ms)),
    m("p99_ms", Unit::Milliseconds, RUN, "99th percentile latency of the successful requests of every client group.", C(c_p99_ms)),
    m("amplification", Unit::Ratio, RUN, "Attempts (first tries, retries, hedges) of every client group over their requests.", C(c_amplification)),
    m("retries_denied", Unit::Count, RUN, "Retries and hedges refused by a budget, at every call site (dependencies included).", C(r_retries_denied)),
    m("breaker_opens", Unit::Count, RUN, "Times a breaker opened, at every call site (dependencies included).", C(r_breaker_opens)),
    m("degraded", Unit::Count, RUN, "Requests of client groups answered by a fallback.", C(c_degraded)),
    m("recovered", Unit::Flag, RUN, "1 if goodput came back after every fault window that had a baseline, 0 if it never did after one; undefined without such a window.", C(r_recovered)),
    m("recovery_s", Unit::Seconds, RUN, "The slowest recovery of goodput after a fault window; undefined if it never came back after one.", C(r_recovery_s)),
    m("steady_goodput_per_s", Unit::PerSecond, RUN, "Goodput over the steady window after the warm-up (the whole run without one).", C(r_steady_goodput)),
    m("steady_success_rate", Unit::Ratio, RUN, "Success rate over the steady window.", C(r_steady_success_rate)),
    m("steady_latency_ms", Unit::Milliseconds, RUN, "Exact mean latency of the successes that ended in the steady window.", C(r_steady_latency_ms)),
    // One client group (or several together).
    m("issued", Unit::Count, CLIENT, "Requests issued.", C(c_issued)),
    m("ended", Unit::Count, CLIENT, "Requests that ended with any outcome.", C(c_ended)),
    m("success_rate", Unit::Ratio, CLIENT, "Successes (`Ok` and `Degraded`) over ended requests.", C(c_success_rate)),
    m("error_rate", Unit::Ratio, CLIENT, "Failures (neither `Ok` nor `Degraded`) over ended requests: `1 - success_rate`.", C(c_error_rate)),
    m("degraded_rate", Unit::Ratio, CLIENT, "Fallback answers over ended requests: the part of `success_rate` that was not `Ok`.", C(c_degraded_rate)),
    m("goodput_per_s", Unit::PerSecond, CLIENT, "Goodput: successes (`Ok` and `Degraded`) per simulated second.", C(c_goodput)),
    m("ok_per_s", Unit::PerSecond, CLIENT, "`Ok` answers alone per simulated second (goodput less the fallbacks served).", C(c_ok_per_s)),
    m("mean_ms", Unit::Milliseconds, CLIENT, "Mean latency of successful requests (from the histogram, within its precision).", C(c_mean_ms)),
    m("p50_ms", Unit::Milliseconds, CLIENT, "Median latency of successful requests.", C(c_p50_ms)),
    m("p90_ms", Unit::Milliseconds, CLIENT, "90th percentile latency of successful requests.", C(c_p90_ms)),
    m("p99_ms", Unit::Milliseconds, CLIENT, "99th percentile latency of successful requests.", C(c_p99_ms)),
    m("p999_ms", Unit::Milliseconds, CLIENT, "99.9th percentile latency of successful requests.", C(c_p999_ms)),
    m("max_ms", Unit::Milliseconds, CLIENT, "Largest latency of a successful request.", C(c_max_ms)),
    m("all_mean_ms", Unit::Milliseconds, CLIENT, "Mean time to the outcome of every ended request.", C(c_all_mean_ms)),
    m("all_p50_ms", Unit::Milliseconds, CLIENT, "Median time to the outcome of every ended request.", C(c_all_p50_ms)),
    m("all_p90_ms", Unit::Milliseconds, CLIENT, "90th percentile time to the outcome of every ended request.", C(c_all_p90_ms)),
    m("all_p99_ms", Unit::Milliseconds, CLIENT, "99th percentile time to the outcome of every ended request.", C(c_all_p99_ms)),
    m("all_p999_ms", Unit::Milliseconds, CLIENT, "99.9th percentile time to the outcome of every ended request.", C(c_all_p999_ms)),
    m("all_max_ms", Unit::Milliseconds, CLIENT, "Longest time to the outcome of an ended request.", C(c_all_max_ms)),
    m("amplification", Unit::Ratio, CLIENT, "Attempts (first tries, retries, hedges) over requests issued.", C(c_amplification)),
    m("retries_denied", Unit::Count, CLIENT, "Retries and hedges the group's budget refused.", C(c_retries_denied)),
    m("breaker_opens", Unit::Count, CLIENT, "Times the group's breakers opened.", C(c_breaker_opens)),
    m("degraded", Unit::Count, CLIENT, "Requests answered by a fallback.", C(c_degraded)),
    // One service.
    m("arrivals", Unit::Count, SERVICE, "Requests that reached the service.", S(s_arrivals)),
    m("completed", Unit::Count, SERVICE, "Requests whose work was finished, whether or not anyone still waited.", S(s_completed)),
    m("useful", Unit::Count, SERVICE, "Requests served for a caller that still waited.", S(s_useful)),
    m("rejected", Unit::Count, SERVICE, "Requests refused before any work.", S(s_rejected)),
    m("dropped", Unit::Count, SERVICE, "Waiting requests dropped unserved (their caller had given up, or by CoDel).", S(s_dropped)),
    m("throughput_per_s", Unit::PerSecond, SERVICE, "Completed requests per simulated second.", S(s_throughput)),
    m("goodput_per_s", Unit::PerSecond, SERVICE, "The service's goodput: useful requests (served for a caller that still waited) per simulated second.", S(s_goodput)),
    m("utilisation", Unit::Ratio, SERVICE, "Busy worker time over worker time available.", S(s_utilisation)),
    m("queue_mean", Unit::Mean, SERVICE, "Time-average queue length.", S(s_queue_mean)),
    m("queue_max", Unit::Count, SERVICE, "Longest queue seen (summed over instances at that moment).", S(s_queue_max)),
    m("wait_mean_ms", Unit::Milliseconds, SERVICE, "Exact mean wait for a worker, over requests that got one.", S(s_wait_mean_ms)),
    m("wait_p50_ms", Unit::Milliseconds, SERVICE, "Median wait for a worker.", S(s_wait_p50_ms)),
    m("wait_p99_ms", Unit::Milliseconds, SERVICE, "99th percentile wait for a worker.", S(s_wait_p99_ms)),
    m("wait_max_ms", Unit::Milliseconds, SERVICE, "Longest wait for a worker.", S(s_wait_max_ms)),
    m("prob_wait", Unit::Ratio, SERVICE, "Share of arrivals that had to wait for a worker.", S(s_prob_wait)),
    m("sojourn_mean_ms", Unit::Milliseconds, SERVICE, "Exact mean time in the service, over requests served.", S(s_sojourn_mean_ms)),
    m("sojourn_p50_ms", Unit::Milliseconds, SERVICE, "Median time in the service.", S(s_sojourn_p50_ms)),
    m("sojourn_p99_ms", Unit::Milliseconds, SERVICE, "99th percentile time in the service.", S(s_sojourn_p99_ms)),
    m("in_system_mean", Unit::Mean, SERVICE, "Time-average number of requests in the service (waiting or in service).", S(s_in_system_mean)),
    m("useful_work_s", Unit::Seconds, SERVICE, "Worker seconds spent on requests whose answer someone still waited for.", S(s_useful_work_s)),
    m("useful_share", Unit::Ratio, SERVICE, "Share of busy worker time that was useful.", S(s_useful_share)),
    m("wasted_work_s", Unit::Seconds, SERVICE, "Worker seconds spent on requests nobody waited for any more.", S(s_wasted_work_s)),
    m("wasted_share", Unit::Ratio, SERVICE, "Share of busy worker time that was wasted.", S(s_wasted_share)),
    // One dependency.
    m("issued", Unit::Count, DEP, "Calls made (including those answered by a cache or refused by a bulkhead or pool).", D(d_calls)),
    m("ended", Unit::Count, DEP, "Calls that ended with any outcome.", D(d_ended)),
    m("success_rate", Unit::Ratio, DEP, "Successes (`Ok` and `Degraded`) over ended calls.", D(d_success_rate)),
    m("error_rate", Unit::Ratio, DEP, "Failures over ended calls.", D(d_error_rate)),
    m("degraded_rate", Unit::Ratio, DEP, "Fallback answers over ended calls.", D(d_degraded_rate)),
    m("mean_ms", Unit::Milliseconds, DEP, "Mean latency of successful calls (from the histogram).", D(d_mean_ms)),
    m("p50_ms", Unit::Milliseconds, DEP, "Median latency of successful calls.", D(d_p50_ms)),
    m("p90_ms", Unit::Milliseconds, DEP, "90th percentile latency of successful calls.", D(d_p90_ms)),
    m("p99_ms", Unit::Milliseconds, DEP, "99th percentile latency of successful calls.", D(d_p99_ms)),
    m("p999_ms", Unit::Milliseconds, DEP, "99.9th percentile latency of successful calls.", D(d_p999_ms)),
    m("max_ms", Unit::Milliseconds, DEP, "Largest latency of a successful call.", D(d_max_ms)),
    m("amplification", Unit::Ratio, DEP, "Attempts over calls.", D(d_amplification)),
    m("retries_denied", Unit::Count, DEP, "Retries and hedges the caller's budget refused.", D(d_retries_denied)),
    m("breaker_opens", Unit::Count, DEP, "Times the caller's breakers for the dependency opened.", D(d_breaker_opens)),
    m("degraded", Unit::Count, DEP, "Calls answered by a fallback.", D(d_degraded)),
    // A client group's flows.
    m("flow_started", Unit::Count, FLOW, "Flows started.", F(f_started)),
    m("flow_completed", Unit::Count, FLOW, "Flows whose every step succeeded or was skipped.", F(f_completed)),
    m("flow_failed", Unit::Count, FLOW, "Flows a step failed for good.", F(f_failed)),
    m("flow_in_flight", Unit::Count, FLOW, "Flows neither completed nor failed at the end.", F(f_in_flight)),
    m("success_rate", Unit::Ratio, FLOW, "Completed flows over ended (completed and failed) flows.", F(f_success_rate)),
    // A service version.
    m("answers", Unit::Count, VERSION, "Requests its instances served or refused (`answered` in `summary.json`).", V(v_answers)),
    m("errors", Unit::Count, VERSION, "Answers that were failures (neither `Ok` nor `Degraded`).", V(v_errors)),
    m("error_rate", Unit::Ratio, VERSION, "Failures over answers: the blast radius of a bad version.", V(v_error_rate)),
    m("success_rate", Unit::Ratio, VERSION, "`1 - error_rate`.", V(v_success_rate)),
    // A fault window.
    m("baseline_per_s", Unit::PerSecond, FAULT, "Mean goodput of the whole buckets in the minute before the fault started.", X(x_baseline)),
    m("recovered_at_s", Unit::Seconds, FAULT, "Start of the bucket from which goodput stayed at 90 % of the baseline for five buckets.", X(x_recovered_at)),
    m("time_to_recover_s", Unit::Seconds, FAULT, "`recovered_at_s` minus the fault's end.", X(x_time_to_recover)),
];

/// `docs/metrics.md`: the catalogue as a reference, one table per scope.
pub fn reference() -> String {
    let mut s = String::from(
        "# Metrics\n\n\
         <!-- Generated by `squall_model::metrics::reference()`; do not edit by hand.\n     \
         `UPDATE_GOLDEN=1 cargo test -p squall-model` rewrites it. -->\n\n\
         Every figure squall reports is defined once, in `crates/squall-model/src/metrics.rs`:\n\
         the summary table, `summary.json`, `comparison.csv`, the sweep metrics (`--metric`) and\n\
         the invariants read it from there. A metric is named within its scope.\n\n\
         **Goodput** is successes per simulated second, and a success is an `Ok` or a `Degraded`\n\
         answer: a fallback is a usable answer. Recovery after faults, the steady window, sweeps\n\
         and invariants all use this one definition. `Ok` answers alone per second are a metric\n\
         of their own, `ok_per_s` (in `summary.json` only for a group served fallbacks). A\n\
         service's `goodput_per_s` is the server's view: requests served for a caller that still\n\
         waited.\n\n\
         An undefined value (a zero denominator, no latency recorded) is empty in CSV files,\n\
         `null` in JSON and `-` in tables.\n\n\
         Sweeps measure the `run` metrics `success_rate`, `goodput_per_s`, `p50_ms`, `p99_ms`,\n\
         `amplification`, `recovered`, `recovery_s`, `steady_goodput_per_s`,\n\
         `steady_success_rate` and `steady_latency_ms`, then `<client>.success_rate` and\n\
         `<client>.p99_ms` per client group.\n",
    );
    for scope in Scope::ALL {
        s.push_str(&format!("\n## {}\n\n| name | unit | meaning |\n|---|---|---|\n", scope.name()));
        for m in of_scope(scope) {
            s.push_str(&format!("| `{}` | {} | {} |\n", m.name, m.unit.name(), m.doc));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_reference_matches_the_catalogue() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/metrics.md");
        let want = reference();
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(path, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "{path} is out of date; run `UPDATE_GOLDEN=1 cargo test -p squall-model` and review the diff"
        );
    }

    #[test]
    fn names_are_unique_within_a_scope_and_every_scope_has_metrics() {
        for (i, a) in CATALOGUE.iter().enumerate() {
            assert!(
                CATALOGUE[..i].iter().all(|b| b.scope != a.scope || b.name != a.name),
                "{a:?} is defined twice"
            );
            assert!(!a.doc.is_empty() && a.doc.ends_with('.'), "{a:?} needs a sentence of doc");
        }
        for scope in Scope::ALL {
            assert!(of_scope(scope).next().is_some(), "{scope:?} has no metric");
        }
    }

    #[test]
    fn goodput_counts_ok_and_degraded_and_ok_per_s_only_ok() {
        let mut outcomes = OutcomeCounts::default();
        for _ in 0..6 {
            outcomes.add(Outcome::Ok);
        }
        for _ in 0..2 {
            outcomes.add(Outcome::Degraded);
        }
        outcomes.add(Outcome::Timeout);
        let client = ClientOutput {
            name: "web".to_string(),
            issued: 10,
            outcomes,
            latency_ok: Latencies::new(HIST_SIGFIG),
            latency_all: Latencies::new(HIST_SIGFIG),
            series: Vec::new(),
            policy: PolicyOutput::default(),
            served_by: Vec::new(),
            flow: None,
        };
        let run = RunOutput {
            seed: 1,
            duration: squall_kernel::SimDuration::from_secs(2),
            end: squall_kernel::SimTime(2 * NS_PER_S),
            stop: crate::output::StopReason::Completed,
            n_events: 0,
            bucket_width: squall_kernel::SimDuration::from_secs(1),
            clients: vec![client],
            services: Vec::new(),
            dependencies: Vec::new(),
            faults: Vec::new(),
            deploys: Vec::new(),
            conservation: crate::output::Conservation { issued: 10, ended: 9, in_flight: 1 },
            warmup: None,
        };
        let all = Clients::all(&run);
        let at = |scope, name| metric(scope, name).of(Ctx::Clients(&all));
        assert_eq!(at(Scope::Run, "goodput_per_s"), Some(4.0));
        assert_eq!(at(Scope::Client, "goodput_per_s"), Some(4.0));
        assert_eq!(at(Scope::Client, "ok_per_s"), Some(3.0));
        assert_eq!(at(Scope::Client, "success_rate"), Some(8.0 / 9.0));
        assert_eq!(at(Scope::Client, "p99_ms"), None, "no latency recorded");
        assert_eq!(at(Scope::Run, "recovered"), None, "no fault window");
    }
}
