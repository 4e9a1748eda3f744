//! The description of a world to build: plain data, names already resolved to ids.
//!
//! The scenario layer produces a [`ModelConfig`] from a file; tests and benchmarks can build
//! one directly. Nothing here is deserialized: the file format has its own types.

use squall_kernel::{Dist, SimDuration, SimTime};

/// Index of a service in [`ModelConfig::services`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId(pub u32);

/// Index of an endpoint in its service's [`ServiceConfig::endpoints`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EndpointId(pub u32);

/// Index of a client group in [`ModelConfig::clients`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub u32);

/// Everything needed to build and run a world.
#[derive(Clone, Debug)]
pub struct ModelConfig {
    /// Master seed; every random stream derives from it and a stable name.
    pub seed: u64,
    /// Simulated time to run for. Requests still in flight at the end are reported as such.
    pub duration: SimDuration,
    /// Width of one time-series bucket.
    pub bucket_width: SimDuration,
    /// Bounds that stop a runaway run with an explanation.
    pub limits: Limits,
    /// Services, indexed by [`ServiceId`].
    pub services: Vec<ServiceConfig>,
    /// Client groups, indexed by [`ClientId`].
    pub clients: Vec<ClientConfig>,
}

/// Bounds on a run, so a scenario that explodes stops with a reason instead of running out
/// of memory or time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Events handled in all.
    pub max_events: u64,
    /// Requests alive at once (waiting, in service, or awaiting a downstream call).
    pub max_in_flight: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_events: 2_000_000_000, max_in_flight: 1_000_000 }
    }
}

/// One service: identical replicas behind a load balancer.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// Stable name, used in outputs and random stream keys.
    pub name: String,
    /// Instances at the start of the run.
    pub replicas: u32,
    /// Requests one instance serves at once.
    pub workers: u32,
    /// Where requests wait for a worker.
    pub queue: QueueConfig,
    /// How callers pick an instance.
    pub balancer: BalancerKind,
    /// Endpoints, indexed by [`EndpointId`].
    pub endpoints: Vec<EndpointConfig>,
}

/// Where requests wait when every worker is busy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// Requests that may wait at once: per instance, or for the whole service if `shared`.
    /// Zero means no waiting: a request that finds no idle worker is refused (`QueueFull`).
    pub capacity: u32,
    /// One FIFO queue for the whole service, served by every instance's workers (the
    /// M/M/c model of Erlang C), instead of one queue per instance behind the balancer.
    pub shared: bool,
}

/// Load-balancing algorithm of a service's callers.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BalancerKind {
    /// Each instance in turn.
    RoundRobin,
    /// An instance chosen uniformly at random.
    Random,
    /// The instance with the fewest requests assigned (ties: lowest index after the last pick).
    LeastOutstanding,
    /// Two distinct instances at random; the one with fewer requests assigned.
    PowerOfTwoChoices,
}

/// One endpoint of a service.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// Stable name.
    pub name: String,
    /// Worker time, in nanoseconds, before the downstream calls.
    pub work: Dist,
    /// Downstream calls made in sequence after `work`, holding the worker while they wait.
    pub calls: Vec<CallConfig>,
}

/// A downstream call an endpoint makes.
#[derive(Copy, Clone, Debug)]
pub struct CallConfig {
    /// Callee service.
    pub service: ServiceId,
    /// Callee endpoint.
    pub endpoint: EndpointId,
    /// The caller gives up after this long; `None` waits forever.
    pub timeout: Option<SimDuration>,
}

/// A group of clients sending requests to one endpoint.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Stable name.
    pub name: String,
    /// Service called.
    pub service: ServiceId,
    /// Endpoint called.
    pub endpoint: EndpointId,
    /// How requests are generated.
    pub load: Load,
    /// A client gives up on a request after this long; `None` waits forever.
    pub timeout: Option<SimDuration>,
}

/// How a client group generates requests.
#[derive(Clone, Debug)]
pub enum Load {
    /// Open loop: arrivals follow a rate schedule, whatever the system does.
    Open {
        /// Poisson or evenly spaced.
        process: ArrivalProcess,
        /// Requests per second over time.
        rate: RateSchedule,
    },
    /// Closed loop: `users` users, each sending one request, waiting for its end, thinking,
    /// and sending the next.
    Closed {
        /// Number of users.
        users: u32,
        /// Think time between a response and the next request, in nanoseconds.
        think: Dist,
    },
}

/// Inter-arrival process of an open-loop client.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ArrivalProcess {
    /// Exponential gaps (a non-homogeneous Poisson process when the rate varies).
    Poisson,
    /// Gaps of exactly 1/rate.
    Constant,
}

/// A piecewise-linear rate in requests per second.
///
/// `points` are sorted by time; the rate is linear between consecutive points, so a step is
/// two points at the same instant. Before the first point the rate is the first point's;
/// after the last, the last point's.
#[derive(Clone, Debug, PartialEq)]
pub struct RateSchedule {
    /// `(time, requests per second)`.
    pub points: Vec<(SimTime, f64)>,
}

impl RateSchedule {
    /// A constant rate.
    pub fn constant(per_sec: f64) -> Self {
        RateSchedule { points: vec![(SimTime::ZERO, per_sec)] }
    }

    /// Rate at `t`.
    pub fn rate_at(&self, t: SimTime) -> f64 {
        let i = self.points.partition_point(|(at, _)| *at <= t);
        if i == 0 {
            return self.points[0].1;
        }
        if i == self.points.len() {
            return self.points[i - 1].1;
        }
        let (t0, r0) = self.points[i - 1];
        let (t1, r1) = self.points[i];
        let span = (t1.0 - t0.0) as f64;
        r0 + (r1 - r0) * ((t.0 - t0.0) as f64 / span)
    }

    /// The highest rate anywhere in the schedule.
    pub fn max_rate(&self) -> f64 {
        self.points.iter().map(|p| p.1).fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_schedule_interpolates_ramps_and_steps() {
        let s = |x: u64| SimTime(x);
        let r = RateSchedule { points: vec![(s(10), 100.0), (s(20), 200.0), (s(20), 50.0)] };
        assert_eq!(r.rate_at(s(0)), 100.0);
        assert_eq!(r.rate_at(s(15)), 150.0);
        assert_eq!(r.rate_at(s(20)), 50.0);
        assert_eq!(r.rate_at(s(99)), 50.0);
        assert_eq!(r.max_rate(), 200.0);
    }
}
