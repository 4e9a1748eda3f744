//! What a run produces: counters, histograms and per-bucket series, plain data for reports.
//!
//! Everything here is bounded by the number of entities and buckets, never by the number of
//! requests: latencies go into HDR histograms, and the bucket count is fixed before the run.

use crate::outcome::OutcomeCounts;
use hdrhistogram::Histogram;
use squall_kernel::{SimDuration, SimTime};

/// Significant digits of whole-run latency histograms (0.1 % relative error).
pub const HIST_SIGFIG: u8 = 3;
/// Significant digits of per-bucket latency histograms (1 % relative error, 10x smaller).
pub const BUCKET_HIST_SIGFIG: u8 = 2;

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
    /// The end-of-run conservation check, for the record.
    pub conservation: Conservation,
}

/// Why a run stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// It reached its configured duration.
    Completed,
    /// Nothing was left to happen before the duration.
    Idle,
    /// It handled `limit` events; raise `limits.max_events` to go further.
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
    pub latency_ok: Histogram<u64>,
    /// Latency of every ended request (time to the outcome), ns.
    pub latency_all: Histogram<u64>,
    /// Per time bucket.
    pub series: Vec<ClientBucket>,
}

/// One client group in one time bucket (by the time a request ended, or was issued).
#[derive(Clone, Debug)]
pub struct ClientBucket {
    /// Requests issued in the bucket.
    pub issued: u64,
    /// Requests that ended in the bucket, by outcome.
    pub outcomes: OutcomeCounts,
    /// Latency of the successful requests that ended in the bucket, ns.
    pub latency_ok: Histogram<u64>,
}

/// One service's results, summed over its instances.
#[derive(Clone, Debug)]
pub struct ServiceOutput {
    /// Service name.
    pub name: String,
    /// Instances.
    pub instances: u32,
    /// Workers over all instances.
    pub workers: u32,
    /// Requests that reached the service.
    pub arrivals: u64,
    /// Requests whose work was finished (whether or not anyone still waited).
    pub completed: u64,
    /// Requests refused because the queue was full.
    pub rejected: u64,
    /// Requests that had to wait for a worker.
    pub waited: u64,
    /// Time from arrival to getting a worker, for requests that got one, ns.
    pub wait: Histogram<u64>,
    /// Sum of those waits, ns (exact, for means).
    pub wait_ns_sum: u128,
    /// Time from arrival to leaving the service, for requests served, ns.
    pub sojourn: Histogram<u64>,
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
    /// Work finished for callers that had already given up, ns of worker time.
    pub wasted_work_ns: u128,
    /// Per time bucket.
    pub series: Vec<ServiceBucket>,
}

/// One service in one time bucket.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceBucket {
    /// Requests that reached the service.
    pub arrivals: u64,
    /// Requests whose work finished.
    pub completed: u64,
    /// Requests refused because the queue was full.
    pub rejected: u64,
    /// Integral of busy workers over the bucket, worker-ns.
    pub busy_integral: u128,
    /// Integral of queue length over the bucket, request-ns.
    pub queue_integral: u128,
    /// Longest queue within the bucket.
    pub queue_max: u64,
}

impl RunOutput {
    /// Simulated seconds actually run.
    pub fn elapsed_secs(&self) -> f64 {
        self.end.as_secs_f64()
    }
}
