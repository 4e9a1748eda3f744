//! How a request ends: the vocabulary every layer counts in.

/// How one request (or attempt) ended, from its caller's point of view.
///
/// The enum already holds the whole vocabulary of the design; outcomes that no mechanism
/// produces yet simply stay at zero.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Served successfully.
    Ok,
    /// A fallback was served instead of the real response.
    Degraded,
    /// The caller stopped waiting.
    Timeout,
    /// The request's deadline had passed.
    DeadlineExceeded,
    /// Refused by a rate limiter (429).
    RateLimited,
    /// Refused by load shedding (503).
    Shed,
    /// The instance's (or service's) queue was full.
    QueueFull,
    /// A bulkhead had no room.
    BulkheadFull,
    /// A circuit breaker refused the call.
    CircuitOpen,
    /// The caller's own adaptive throttling refused the call before sending it.
    Throttled,
    /// The server (or one of its dependencies) failed the request.
    ServerError,
    /// The serving version has no such endpoint.
    Unsupported,
    /// No instance could take the request.
    NoEndpoint,
    /// The instance died mid-call.
    ConnectionReset,
    /// Cancelled by the caller (a hedge that lost).
    Cancelled,
}

impl Outcome {
    /// Number of outcomes; the length of [`OutcomeCounts`].
    pub const COUNT: usize = 15;

    /// Every outcome, in a fixed order used by all outputs.
    pub const ALL: [Outcome; Outcome::COUNT] = [
        Outcome::Ok,
        Outcome::Degraded,
        Outcome::Timeout,
        Outcome::DeadlineExceeded,
        Outcome::RateLimited,
        Outcome::Shed,
        Outcome::QueueFull,
        Outcome::BulkheadFull,
        Outcome::CircuitOpen,
        Outcome::Throttled,
        Outcome::ServerError,
        Outcome::Unsupported,
        Outcome::NoEndpoint,
        Outcome::ConnectionReset,
        Outcome::Cancelled,
    ];

    /// Stable snake_case name for files and tables.
    pub const fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Degraded => "degraded",
            Outcome::Timeout => "timeout",
            Outcome::DeadlineExceeded => "deadline_exceeded",
            Outcome::RateLimited => "rate_limited",
            Outcome::Shed => "shed",
            Outcome::QueueFull => "queue_full",
            Outcome::BulkheadFull => "bulkhead_full",
            Outcome::CircuitOpen => "circuit_open",
            Outcome::Throttled => "throttled",
            Outcome::ServerError => "server_error",
            Outcome::Unsupported => "unsupported",
            Outcome::NoEndpoint => "no_endpoint",
            Outcome::ConnectionReset => "connection_reset",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// Whether the caller got a usable answer (Ok or a fallback).
    pub const fn is_success(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::Degraded)
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// A count per outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutcomeCounts(pub [u64; Outcome::COUNT]);

impl OutcomeCounts {
    /// Adds one to `o`.
    #[inline]
    pub fn add(&mut self, o: Outcome) {
        self.0[o.index()] += 1;
    }
    /// The count of `o`.
    pub fn get(&self, o: Outcome) -> u64 {
        self.0[o.index()]
    }
    /// All outcomes together.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
    /// Ok plus Degraded: a fallback is a usable answer. This is squall's one definition of
    /// goodput (successes per second), used by the summary, recovery, the steady state,
    /// sweeps and invariants alike; `Ok` alone is reported apart as `ok_per_s`.
    pub fn successes(&self) -> u64 {
        Outcome::ALL.iter().filter(|o| o.is_success()).map(|o| self.get(*o)).sum()
    }
    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &OutcomeCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_each_outcome_at_its_index() {
        for (i, o) in Outcome::ALL.iter().enumerate() {
            assert_eq!(o.index(), i, "{o:?}");
        }
        let mut names: Vec<_> = Outcome::ALL.iter().map(|o| o.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Outcome::COUNT);
    }
}
