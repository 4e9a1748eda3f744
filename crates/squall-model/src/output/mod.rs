//! What a run produces: counters, histograms and per-bucket series, plain data for reports.
//!
//! Everything here is bounded by the number of entities and buckets, never by the number of
//! requests: latencies go into HDR histograms, and the bucket count is fixed before the run.

mod fleet;

pub use fleet::*;

use crate::config::Warmup;
use crate::latency::Latencies;
use crate::outcome::OutcomeCounts;
use squall_kernel::{SimDuration, SimTime};

/// Significant digits of whole-run latency histograms (0.1 % relative error).
pub const HIST_SIGFIG: u8 = 3;

/// The result of one run.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// Master seed the run used.
    pub seed: u64,
    /// Configured duration.
    pub duration: SimDuration,
    /// Simulated time when the run stopped.
    pub end: SimTime,
    /// Why it stopped.
    pub stop: StopReason,
    /// Events handled.
    pub n_events: u64,
    /// Width of each time-series bucket; bucket `i` covers `[i*w, (i+1)*w)`.
    pub bucket_width: SimDuration,
    /// Per client group, in configuration order.
    pub clients: Vec<ClientOutput>,
    /// Per service, in configuration order.
    pub services: Vec<ServiceOutput>,
    /// Per caller service and dependency with calls, ordered by caller then callee.
    pub dependencies: Vec<DependencyOutput>,
    /// Fault windows, in configuration order.
    pub faults: Vec<FaultWindow>,
    /// Deploys, in configuration order.
    pub deploys: Vec<DeployOutput>,
    /// The end-of-run conservation check, for the record.
    pub conservation: Conservation,
    /// The configured warm-up removal, for reports of steady-state figures; `None`: the
    /// scenario configures none and reports show whole-run figures only.
    pub warmup: Option<Warmup>,
}

/// Why a run stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// It reached its configured duration.
    Completed,
    /// It handled `limit` events (arrival candidates that thinning rejected count as
    /// events); raise `limits.max_events` to go further.
    EventLimit {
        /// The limit that was hit.
        limit: u64,
    },
    /// The model stopped it, with the explanation.
    Halted {
        /// What went wrong and which limit to raise.
        reason: String,
    },
}

/// Logical requests of client groups: issued = ended + in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conservation {
    /// Requests client groups issued.
    pub issued: u64,
    /// Requests that ended with an outcome.
    pub ended: u64,
    /// Requests still waiting for an answer when the run stopped, counted by scanning live
    /// requests (not by a counter), so the check compares two independent tallies.
    pub in_flight: u64,
}

/// One client group's results.
#[derive(Clone, Debug)]
pub struct ClientOutput {
    /// Group name.
    pub name: String,
    /// Requests issued.
    pub issued: u64,
    /// How they ended.
    pub outcomes: OutcomeCounts,
    /// Latency of successful requests, ns.
    pub latency_ok: Latencies,
    /// Latency of every ended request (time to the outcome), ns.
    pub latency_all: Latencies,
    /// Per time bucket.
    pub series: Vec<ClientBucket>,
    /// What the group's client policy did: attempts, retries, breaker, throttling.
    pub policy: PolicyOutput,
    /// Requests by the service version that gave their final answer (empty unless a
    /// service the group calls has more than one version).
    pub served_by: Vec<ServedBy>,
    /// The group's flows, if it runs one.
    pub flow: Option<FlowOutput>,
}

/// What a client policy did at one call site (a client group, or a caller's dependency),
/// summed over the caller's instances. `issued`/`calls` and `outcomes` of the owner count
/// logical requests; this counts their attempts.
#[derive(Clone, Debug, Default)]
pub struct PolicyOutput {
    /// Attempts sent (first tries, retries and hedges) — what the callee sees.
    pub attempts: u64,
    /// Attempts after the first that were retries.
    pub retries: u64,
    /// Attempts after the first that were hedges.
    pub hedges: u64,
    /// Retries (or hedges) the budget refused; the failure was returned instead.
    pub retries_denied: u64,
    /// Attempts refused by the caller's adaptive throttling.
    pub throttled: u64,
    /// Attempts refused by an open (or full half-open) breaker.
    pub short_circuited: u64,
    /// Failed calls served by the fallback (counted `Degraded` in the outcomes), or failed
    /// over to another service (whose answer is counted on its own dependency).
    pub fallbacks: u64,
    /// How attempts ended, including those refused before leaving the caller.
    pub attempt_outcomes: OutcomeCounts,
    /// Breaker figures, when the policy has a breaker.
    pub breaker: Option<BreakerOutput>,
    /// Per time bucket (empty when the policy does nothing but time out).
    pub series: Vec<PolicyBucket>,
}

/// Breaker state over the run, summed over the breakers of a call site.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BreakerOutput {
    /// Breakers: one shared, or one per caller instance.
    pub breakers: u32,
    /// Times a breaker opened.
    pub opens: u64,
    /// Breaker-time in each state, ns, indexed by `BreakerState::index` (closed, open,
    /// half-open).
    pub state_ns: [u128; 3],
}

/// A call site's policy in one time bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyBucket {
    /// Attempts sent (by send time).
    pub attempts: u64,
    /// Retries sent.
    pub retries: u64,
    /// Hedges sent.
    pub hedges: u64,
    /// Retries refused by the budget.
    pub retries_denied: u64,
    /// Attempts refused by adaptive throttling.
    pub throttled: u64,
    /// Attempts refused by the breaker.
    pub short_circuited: u64,
    /// Failed calls served by the fallback (or failed over).
    pub fallbacks: u64,
    /// Breaker-time open within the bucket, ns (divide by the width for "breakers open").
    pub breaker_open_ns: u128,
    /// Breaker-time half-open within the bucket, ns.
    pub breaker_half_open_ns: u128,
}

/// One client group in one time bucket (by the time a request ended, or was issued).
#[derive(Clone, Debug, Default)]
pub struct ClientBucket {
    /// Requests issued in the bucket.
    pub issued: u64,
    /// Requests that ended in the bucket, by outcome.
    pub outcomes: OutcomeCounts,
    /// Latency of the successful requests that ended in the bucket.
    pub latency_ok: LatencySummary,
}

/// Quantiles of a latency distribution, ns. Buckets keep these few numbers instead of a
/// histogram each, computed when the bucket closes, so a long run's series stays small.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencySummary {
    /// Values recorded.
    pub count: u64,
    /// Exact sum of the values recorded, ns (not from the histogram's buckets), for means
    /// over several buckets; 0 when it was not tracked.
    pub sum_ns: u128,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest value.
    pub max_ns: u64,
}

impl LatencySummary {
    /// The quantiles of `h` (all zero when it is empty).
    pub fn of(h: &Latencies) -> LatencySummary {
        if h.is_empty() {
            return LatencySummary::default();
        }
        let [p50_ns, p90_ns, p99_ns, p999_ns] = h.values_at_quantiles([0.5, 0.9, 0.99, 0.999]);
        LatencySummary { count: h.len(), sum_ns: 0, p50_ns, p90_ns, p99_ns, p999_ns, max_ns: h.max() }
    }

    /// [`LatencySummary::of`] `h`, with the exact sum of its values.
    pub fn with_sum(h: &Latencies, sum_ns: u128) -> LatencySummary {
        LatencySummary { sum_ns, ..LatencySummary::of(h) }
    }

    /// Quantile `q`, for `q` in {0.5, 0.9, 0.99, 0.999, 1.0}; `None` when nothing was
    /// recorded or `q` is not kept.
    pub fn at(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        [
            (0.5, self.p50_ns),
            (0.9, self.p90_ns),
            (0.99, self.p99_ns),
            (0.999, self.p999_ns),
            (1.0, self.max_ns),
        ]
        .iter()
        .find(|(k, _)| *k == q)
        .map(|(_, v)| *v)
    }
}

/// One service's results, summed over its instances.
#[derive(Clone, Debug)]
pub struct ServiceOutput {
    /// Service name.
    pub name: String,
    /// Instances at the end of the run (not gone).
    pub instances: u32,
    /// Workers over those instances.
    pub workers: u32,
    /// Requests that reached the service.
    pub arrivals: u64,
    /// Requests whose work was finished (whether or not anyone still waited).
    pub completed: u64,
    /// Requests refused before any work (queue full, rate limited, shed, down, injected
    /// failure); `refusals` splits them by outcome.
    pub rejected: u64,
    /// Refused requests by outcome.
    pub refusals: OutcomeCounts,
    /// Waiting requests dropped unserved because their caller had given up, or by CoDel.
    pub dropped: u64,
    /// Requests served whose answer someone still waited for (goodput, as opposed to
    /// `completed`, the throughput).
    pub useful: u64,
    /// Worker time of those requests, ns.
    pub useful_work_ns: u128,
    /// Requests that had to wait for a worker.
    pub waited: u64,
    /// Time from arrival to getting a worker, for requests that got one, ns.
    pub wait: Latencies,
    /// Sum of those waits, ns (exact, for means).
    pub wait_ns_sum: u128,
    /// Time from arrival to leaving the service, for requests served, ns.
    pub sojourn: Latencies,
    /// Sum of sojourn times, ns (exact, for means).
    pub sojourn_ns_sum: u128,
    /// Integral of busy workers over time, worker-ns.
    pub busy_integral: u128,
    /// Integral of queue length over time, request-ns.
    pub queue_integral: u128,
    /// Integral of requests in the service (waiting or in service) over time, request-ns.
    pub in_system_integral: u128,
    /// Longest queue seen (summed over instances at that moment).
    pub queue_max: u64,
    /// Worker time spent on requests nobody waited for any more when they finished (their
    /// caller, or a caller further up, had given up or moved on), ns.
    pub wasted_work_ns: u128,
    /// Per time bucket.
    pub series: Vec<ServiceBucket>,
    /// Instances, versions, restarts and skew.
    pub fleet: FleetOutput,
}

/// One service in one time bucket.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceBucket {
    /// Requests that reached the service.
    pub arrivals: u64,
    /// Requests whose work finished.
    pub completed: u64,
    /// Requests refused before any work.
    pub rejected: u64,
    /// Waiting requests dropped unserved.
    pub dropped: u64,
    /// Requests served for a caller that still waited (goodput).
    pub useful: u64,
    /// Worker time of useful requests finished in the bucket, ns.
    pub useful_work_ns: u128,
    /// Worker time of wasted requests finished in the bucket, ns.
    pub wasted_work_ns: u128,
    /// Integral of busy workers over the bucket, worker-ns.
    pub busy_integral: u128,
    /// Integral of queue length over the bucket, request-ns.
    pub queue_integral: u128,
    /// Longest queue within the bucket.
    pub queue_max: u64,
}

/// Calls from one service to another, summed over the caller's instances.
#[derive(Clone, Debug)]
pub struct DependencyOutput {
    /// Calling service.
    pub caller: String,
    /// Called service.
    pub callee: String,
    /// Calls made (including those answered by a cache or refused by a bulkhead or pool).
    pub calls: u64,
    /// How they ended, as the caller saw them; abandoned calls (fan-out losers, calls of a
    /// caller that gave up) end as `Cancelled`.
    pub outcomes: OutcomeCounts,
    /// Calls answered by the call's cache.
    pub cache_hits: u64,
    /// Calls that waited for a bulkhead permit or a pooled connection.
    pub waited: u64,
    /// Latency of successful calls, ns.
    pub latency_ok: Latencies,
    /// What the caller's policy for this dependency did.
    pub policy: PolicyOutput,
    /// Logical calls made per time bucket (by issue time), for amplification over time.
    pub calls_series: Vec<u64>,
}

/// When a fault was active.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultWindow {
    /// Its label.
    pub name: String,
    /// Service it hit.
    pub service: String,
    /// What it did, in a few words (`slow x5`, `down`, `fail 30% ServerError`).
    pub what: String,
    /// Start.
    pub start: SimTime,
    /// End.
    pub end: SimTime,
    /// What the window did: instances it hit when it opened (`Slow`, `Down`, `Crash`), caches
    /// it emptied (`FlushCache`), failures it injected (`Fail`). Zero for a window that never
    /// opened (it starts after the run's end) or found nothing to act on, the evidence a
    /// "sometimes" assertion looks for.
    pub fired: u64,
}

impl RunOutput {
    /// Simulated seconds actually run.
    pub fn elapsed_secs(&self) -> f64 {
        self.end.as_secs_f64()
    }
}
