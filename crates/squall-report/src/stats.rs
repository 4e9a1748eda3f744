//! Whole-run numbers derived from a [`RunOutput`], computed once for the table and the JSON.
//!
//! Every figure is read from the metric catalogue ([`squall_model::metrics`]) by its scope
//! and name, so the reports compute nothing the catalogue does not define.
//!
//! Every quantity that can be undefined is an `Option`: `None` when its denominator is zero
//! (no elapsed time, no ended requests, no workers) or its histogram is empty. No NaN or
//! infinity is ever produced here.

use squall_kernel::time::NS_PER_MS;
use squall_model::analysis::{recovery, steady_state, MserWarning, Recovery, SteadyState};
use squall_model::metrics::{metric, Clients, Ctx, Scope};
use squall_model::{
    BreakerOutput, ClientOutput, DependencyOutput, Outcome, PolicyOutput, RunOutput, ServiceOutput,
    StopReason, Warmup,
};

pub(crate) use squall_model::metrics::{ns_to_s, ratio};

/// The catalogue's metric `name` of `scope` on `ctx`.
pub(crate) fn measure(scope: Scope, name: &str, ctx: Ctx<'_>) -> Option<f64> {
    metric(scope, name).of(ctx)
}

/// A count of the catalogue (defined for every run) as an integer.
fn count(scope: Scope, name: &str, ctx: Ctx<'_>) -> u64 {
    let n = measure(scope, name, ctx).unwrap_or_else(|| panic!("the count {name} is always defined"));
    n as u64
}

/// Nanoseconds as milliseconds.
pub(crate) fn ns_to_ms(ns: u64) -> f64 {
    ns as f64 / NS_PER_MS as f64
}

/// Summary of a latency histogram recorded in ns, in ms. All `None` when it is empty.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Latency {
    /// Mean (from the histogram's buckets, so within its precision).
    pub(crate) mean_ms: Option<f64>,
    /// Median.
    pub(crate) p50_ms: Option<f64>,
    /// 90th percentile.
    pub(crate) p90_ms: Option<f64>,
    /// 99th percentile.
    pub(crate) p99_ms: Option<f64>,
    /// 99.9th percentile.
    pub(crate) p999_ms: Option<f64>,
    /// Largest value.
    pub(crate) max_ms: Option<f64>,
}

impl Latency {
    /// The catalogue's `<prefix>mean_ms`, `<prefix>p50_ms`, ... `<prefix>max_ms` of `scope` on
    /// `ctx`.
    fn of(scope: Scope, prefix: &str, ctx: Ctx<'_>) -> Latency {
        let get = |name: &str| measure(scope, &format!("{prefix}{name}"), ctx);
        Latency {
            mean_ms: get("mean_ms"),
            p50_ms: get("p50_ms"),
            p90_ms: get("p90_ms"),
            p99_ms: get("p99_ms"),
            p999_ms: get("p999_ms"),
            max_ms: get("max_ms"),
        }
    }
}

/// One client group's derived numbers.
pub(crate) struct ClientStats<'a> {
    pub(crate) out: &'a ClientOutput,
    /// Requests that ended with any outcome.
    pub(crate) ended: u64,
    /// Successes (ok or degraded) over ended requests.
    pub(crate) success_rate: Option<f64>,
    /// Failures (neither ok nor degraded) over ended requests: `1 - success_rate`.
    pub(crate) error_rate: Option<f64>,
    /// Fallback answers over ended requests: the part of `success_rate` that was not ok.
    pub(crate) degraded_rate: Option<f64>,
    /// Successful requests only.
    pub(crate) latency_ok: Latency,
    /// Every ended request.
    pub(crate) latency_all: Latency,
    /// Successes (`Ok` and `Degraded`) per simulated second: the one definition of goodput
    /// (see `OutcomeCounts::successes`).
    pub(crate) goodput_per_s: Option<f64>,
    /// `Ok` answers alone per simulated second (goodput less the fallbacks served).
    pub(crate) ok_per_s: Option<f64>,
    /// What the group's client policy did; its logical requests are the issued ones.
    pub(crate) policy: PolicyStats<'a>,
}

impl<'a> ClientStats<'a> {
    pub(crate) fn of(run: &'a RunOutput, out: &'a ClientOutput) -> ClientStats<'a> {
        let group = Clients::one(run, out);
        let ctx = Ctx::Clients(&group);
        let get = |name: &str| measure(Scope::Client, name, ctx);
        ClientStats {
            out,
            ended: count(Scope::Client, "ended", ctx),
            success_rate: get("success_rate"),
            error_rate: get("error_rate"),
            degraded_rate: get("degraded_rate"),
            policy: PolicyStats::of(&out.policy, get("amplification")),
            goodput_per_s: get("goodput_per_s"),
            ok_per_s: get("ok_per_s"),
            latency_ok: Latency::of(Scope::Client, "", ctx),
            latency_all: Latency::of(Scope::Client, "all_", ctx),
        }
    }

    /// Share of ended requests that ended with `o`.
    pub(crate) fn share(&self, o: Outcome) -> Option<f64> {
        ratio(self.out.outcomes.get(o) as f64, self.ended as f64)
    }
}

/// One service's derived numbers.
pub(crate) struct ServiceStats<'a> {
    pub(crate) out: &'a ServiceOutput,
    /// Completed requests per simulated second.
    pub(crate) throughput_per_s: Option<f64>,
    /// Useful requests (served for a caller that still waited) per simulated second.
    pub(crate) goodput_per_s: Option<f64>,
    /// Busy worker time over worker time available: `busy_integral / (workers * elapsed)`.
    pub(crate) utilisation: Option<f64>,
    /// Time-average queue length: `queue_integral / elapsed`.
    pub(crate) queue_mean: Option<f64>,
    /// Mean wait for a worker over requests that got one, exact (from the ns sum).
    pub(crate) wait_mean_ms: Option<f64>,
    /// Waits: median, 99th percentile and maximum.
    pub(crate) wait_p50_ms: Option<f64>,
    pub(crate) wait_p99_ms: Option<f64>,
    pub(crate) wait_max_ms: Option<f64>,
    /// Share of arrivals that had to wait for a worker.
    pub(crate) prob_wait: Option<f64>,
    /// Mean time in the service over requests served, exact (from the ns sum).
    pub(crate) sojourn_mean_ms: Option<f64>,
    pub(crate) sojourn_p50_ms: Option<f64>,
    pub(crate) sojourn_p99_ms: Option<f64>,
    /// Time-average number of requests in the service: `in_system_integral / elapsed`.
    pub(crate) in_system_mean: Option<f64>,
    /// Worker seconds spent on requests whose answer someone still waited for.
    pub(crate) useful_work_s: f64,
    /// Share of busy worker time that was useful: `useful_work / busy_integral`.
    pub(crate) useful_share: Option<f64>,
    /// Worker seconds spent on requests whose caller had already given up.
    pub(crate) wasted_work_s: f64,
    /// Share of busy worker time that was wasted: `wasted_work / busy_integral`.
    pub(crate) wasted_share: Option<f64>,
}

impl<'a> ServiceStats<'a> {
    pub(crate) fn of(out: &'a ServiceOutput, elapsed_ns: u64) -> ServiceStats<'a> {
        let get = |name: &str| measure(Scope::Service, name, Ctx::Service(out, elapsed_ns));
        let always = |name: &str| get(name).unwrap_or_else(|| panic!("{name} is always defined"));
        ServiceStats {
            out,
            throughput_per_s: get("throughput_per_s"),
            goodput_per_s: get("goodput_per_s"),
            utilisation: get("utilisation"),
            queue_mean: get("queue_mean"),
            wait_mean_ms: get("wait_mean_ms"),
            wait_p50_ms: get("wait_p50_ms"),
            wait_p99_ms: get("wait_p99_ms"),
            wait_max_ms: get("wait_max_ms"),
            prob_wait: get("prob_wait"),
            sojourn_mean_ms: get("sojourn_mean_ms"),
            sojourn_p50_ms: get("sojourn_p50_ms"),
            sojourn_p99_ms: get("sojourn_p99_ms"),
            in_system_mean: get("in_system_mean"),
            useful_work_s: always("useful_work_s"),
            useful_share: get("useful_share"),
            wasted_work_s: always("wasted_work_s"),
            wasted_share: get("wasted_share"),
        }
    }
}

/// Calls from one service to another, derived.
pub(crate) struct DependencyStats<'a> {
    pub(crate) out: &'a DependencyOutput,
    /// Calls that ended with any outcome.
    pub(crate) ended: u64,
    /// Successes (ok or degraded) over ended calls.
    pub(crate) success_rate: Option<f64>,
    /// Failures (neither ok nor degraded) over ended calls.
    pub(crate) error_rate: Option<f64>,
    /// Fallback answers over ended calls.
    pub(crate) degraded_rate: Option<f64>,
    /// Successful calls only.
    pub(crate) latency_ok: Latency,
    /// What the caller's policy for the dependency did; its logical requests are the calls.
    pub(crate) policy: PolicyStats<'a>,
}

impl<'a> DependencyStats<'a> {
    pub(crate) fn of(out: &'a DependencyOutput) -> DependencyStats<'a> {
        let ctx = Ctx::Dependency(out);
        let get = |name: &str| measure(Scope::Dependency, name, ctx);
        DependencyStats {
            out,
            ended: count(Scope::Dependency, "ended", ctx),
            success_rate: get("success_rate"),
            error_rate: get("error_rate"),
            degraded_rate: get("degraded_rate"),
            latency_ok: Latency::of(Scope::Dependency, "", ctx),
            policy: PolicyStats::of(&out.policy, get("amplification")),
        }
    }

    /// Share of ended calls that ended with `o`.
    pub(crate) fn share(&self, o: Outcome) -> Option<f64> {
        ratio(self.out.outcomes.get(o) as f64, self.ended as f64)
    }

    /// `caller->callee`, the dependency's name in tables.
    pub(crate) fn name(&self) -> String {
        format!("{}->{}", self.out.caller, self.out.callee)
    }
}

/// What a call site's client policy did, derived: a client group's, or a caller's for one
/// dependency.
pub(crate) struct PolicyStats<'a> {
    pub(crate) out: &'a PolicyOutput,
    /// Attempts per logical request (`None` without logical requests).
    pub(crate) amplification: Option<f64>,
    /// Breaker time by state, when the site has a breaker.
    pub(crate) breaker: Option<BreakerStats>,
}

/// A call site's breakers, derived: breaker-seconds in each state (summed over the site's
/// breakers) and the share of that time spent open.
pub(crate) struct BreakerStats {
    pub(crate) breakers: u32,
    pub(crate) opens: u64,
    pub(crate) seconds_closed: f64,
    pub(crate) seconds_open: f64,
    pub(crate) seconds_half_open: f64,
    /// Open breaker-time over all breaker-time; `None` when no time was recorded.
    pub(crate) open_share: Option<f64>,
}

impl BreakerStats {
    fn of(b: &BreakerOutput) -> BreakerStats {
        let [closed, open, half_open] = b.state_ns;
        BreakerStats {
            breakers: b.breakers,
            opens: b.opens,
            seconds_closed: ns_to_s(closed),
            seconds_open: ns_to_s(open),
            seconds_half_open: ns_to_s(half_open),
            open_share: ratio(open as f64, (closed + open + half_open) as f64),
        }
    }
}

impl<'a> PolicyStats<'a> {
    /// `out`'s figures, with the site's `amplification` from the catalogue.
    pub(crate) fn of(out: &'a PolicyOutput, amplification: Option<f64>) -> PolicyStats<'a> {
        PolicyStats { out, amplification, breaker: out.breaker.as_ref().map(BreakerStats::of) }
    }

    /// Whether the site has a policy beyond a timeout: a series, a breaker, or anything a
    /// policy does (retries, hedges, denials, throttling, short circuits, fallbacks).
    pub(crate) fn active(&self) -> bool {
        let p = self.out;
        !p.series.is_empty()
            || p.breaker.is_some()
            || p.retries + p.hedges + p.retries_denied + p.throttled + p.short_circuited + p.fallbacks > 0
    }
}

/// The policy figures of a whole run, for comparing variants.
pub(crate) struct PolicyTotals {
    /// Attempts of all client groups over their logical requests.
    pub(crate) amplification: Option<f64>,
    /// Retries and hedges refused by budgets, at every site.
    pub(crate) retries_denied: u64,
    /// Times a breaker opened, at every site.
    pub(crate) breaker_opens: u64,
    /// Requests of client groups answered by a fallback.
    pub(crate) degraded: u64,
}

/// Derived numbers of a whole run.
pub(crate) struct RunStats<'a> {
    /// The run.
    pub(crate) out: &'a RunOutput,
    pub(crate) clients: Vec<ClientStats<'a>>,
    pub(crate) services: Vec<ServiceStats<'a>>,
    pub(crate) dependencies: Vec<DependencyStats<'a>>,
    /// How goodput recovered after each fault window, in the windows' order.
    pub(crate) recovery: Vec<Recovery>,
    /// Figures over the steady window, only when the run configures a warm-up.
    pub(crate) steady: Option<SteadyState>,
}

impl<'a> RunStats<'a> {
    pub(crate) fn of(out: &'a RunOutput) -> RunStats<'a> {
        let elapsed_ns = out.end.as_nanos();
        RunStats {
            out,
            clients: out.clients.iter().map(|c| ClientStats::of(out, c)).collect(),
            services: out.services.iter().map(|s| ServiceStats::of(s, elapsed_ns)).collect(),
            dependencies: out.dependencies.iter().map(DependencyStats::of).collect(),
            recovery: recovery(out),
            steady: out.warmup.is_some().then(|| steady_state(out)),
        }
    }

    /// Every call site's policy: client groups first, then dependencies, each in run order.
    pub(crate) fn policies(&self) -> impl Iterator<Item = &PolicyStats<'a>> {
        self.clients.iter().map(|c| &c.policy).chain(self.dependencies.iter().map(|d| &d.policy))
    }

    /// Every call site's policy with the site's name: a client group's name, or
    /// `caller->callee` for a dependency.
    pub(crate) fn policy_sites(&self) -> impl Iterator<Item = (String, &PolicyStats<'a>)> {
        self.clients.iter().map(|c| (c.out.name.clone(), &c.policy)).chain(
            self.dependencies.iter().map(|d| (format!("{}->{}", d.out.caller, d.out.callee), &d.policy)),
        )
    }

    /// Whether any call site has a policy beyond a timeout.
    pub(crate) fn any_policy(&self) -> bool {
        self.policies().any(PolicyStats::active)
    }

    pub(crate) fn policy_totals(&self) -> PolicyTotals {
        let all = Clients::all(self.out);
        let ctx = Ctx::Clients(&all);
        PolicyTotals {
            amplification: measure(Scope::Run, "amplification", ctx),
            retries_denied: count(Scope::Run, "retries_denied", ctx),
            breaker_opens: count(Scope::Run, "breaker_opens", ctx),
            degraded: count(Scope::Run, "degraded", ctx),
        }
    }
}

/// Stable snake_case name of a warm-up rule, as in `summary.json`.
pub(crate) fn warmup_kind(w: Option<Warmup>) -> &'static str {
    match w {
        None => "none",
        Some(Warmup::Fixed(_)) => "fixed",
        Some(Warmup::Mser5) => "mser5",
    }
}

/// A sentence on why an MSER-5 cut may not be trusted, as the table and `summary.json` give it.
pub(crate) fn mser_warning(w: &MserWarning) -> String {
    match *w {
        MserWarning::AtLimit { at } => format!(
            "MSER-5 cut at its limit, half the run ({}): the warm-up may last longer, or the run never \
             settles; run longer, or set warmup: Fixed(...)",
            crate::format::seconds(at.as_secs_f64())
        ),
        MserWarning::NotSteady { at, goodput_per_s, median_per_s } => format!(
            "MSER-5 found no warm-up (steady from 0 s), but goodput is not steady: {goodput_per_s:.2}/s \
             over the batch from {} against a median of {median_per_s:.2}/s; the steady-state figures \
             average over the change",
            crate::format::seconds(at.as_secs_f64())
        ),
    }
}

/// Mean and 95 % confidence interval of `values` (Student's t with `n - 1` degrees of
/// freedom); `None` for no values, and an interval only from two values on.
pub(crate) fn mean_ci95(values: &[f64]) -> Option<(f64, Option<(f64, f64)>)> {
    squall_explore::mean_ci(values.iter().copied()).map(|e| (e.mean, e.low.zip(e.high)))
}

/// Stable snake_case name of a stop reason, as in `summary.json`.
pub(crate) fn stop_kind(stop: &StopReason) -> &'static str {
    match stop {
        StopReason::Completed => "completed",
        StopReason::EventLimit { .. } => "event_limit",
        StopReason::Halted { .. } => "halted",
    }
}

/// Why the run stopped, in words; `None` for a run that completed.
pub(crate) fn stop_detail(out: &RunOutput) -> Option<String> {
    let at = format!("{:.3} s of {:.3} s", out.end.as_secs_f64(), out.duration.as_secs_f64());
    match &out.stop {
        StopReason::Completed => None,
        StopReason::EventLimit { limit } => {
            Some(format!("event limit of {limit} reached at {at}; raise limits.max_events to go further"))
        }
        StopReason::Halted { reason } => Some(format!("halted at {at}: {reason}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_over_zero_are_undefined_not_nan() {
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(0.0, 0.0), None);
        assert_eq!(ratio(1.0, 4.0), Some(0.25));
    }

    #[test]
    fn a_confidence_interval_holds_the_mean_and_needs_two_values() {
        assert_eq!(mean_ci95(&[]), None);
        assert_eq!(mean_ci95(&[3.0]), Some((3.0, None)));
        // Mean 2, sample sd 1, n 3: half-width t(0.975, 2) / sqrt(3) = 2.484.
        let (mean, ci) = mean_ci95(&[1.0, 2.0, 3.0]).unwrap();
        let (low, high) = ci.unwrap();
        assert_eq!(mean, 2.0);
        assert!((high - mean - 4.302653 / 3f64.sqrt()).abs() < 1e-5, "{low} {high}");
        assert!((mean - low - (high - mean)).abs() < 1e-12);
        assert_eq!(mean_ci95(&[5.0, 5.0]), Some((5.0, Some((5.0, 5.0)))));
    }
}
