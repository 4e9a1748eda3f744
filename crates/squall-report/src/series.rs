//! The time buckets a report shows, and per-bucket numbers, shared by the CSV and the plots.
//!
//! Bucket `i` covers `[i*w, (i+1)*w)`. A report shows the buckets that start before the run's
//! end; the last one may be partial, so its integrals and rates are divided by the span it
//! actually covers. A later bucket is shown too if it holds any count (an event at exactly
//! the end time lands in a bucket that covers no time): counts are never dropped. Such a
//! bucket has a zero span, so its means and rates are undefined (`None`).

use crate::stats::{ns_to_ms, ratio};
use squall_kernel::time::NS_PER_S;
use squall_model::{
    ClientBucket, ClientOutput, Outcome, PolicyBucket, PolicyOutput, RunOutput, ServiceBucket, ServiceOutput,
};

/// One reported bucket.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    /// Index into every entity's `series`.
    pub(crate) index: usize,
    /// Bucket start, ns.
    pub(crate) start_ns: u64,
    /// Part of the bucket before the run's end, ns (the full width except maybe the last).
    pub(crate) covered_ns: u64,
}

impl Span {
    /// Bucket start in seconds.
    pub(crate) fn start_s(&self) -> f64 {
        self.start_ns as f64 / NS_PER_S as f64
    }

    /// `count` per second of covered time; `None` for a bucket that covers no time.
    pub(crate) fn rate_per_s(&self, count: u64) -> Option<f64> {
        ratio(count as f64 * NS_PER_S as f64, self.covered_ns as f64)
    }

    /// Time average of an integral over the covered span.
    pub(crate) fn mean(&self, integral: u128) -> Option<f64> {
        ratio(integral as f64, self.covered_ns as f64)
    }
}

/// The buckets to report, in time order. Empty when the bucket width is zero.
pub(crate) fn spans(out: &RunOutput) -> Vec<Span> {
    let width_ns = out.bucket_width.as_nanos();
    if width_ns == 0 {
        return Vec::new();
    }
    let end_ns = out.end.as_nanos();
    let stored = out
        .clients
        .iter()
        .map(|c| c.series.len())
        .chain(out.services.iter().map(|s| s.series.len()))
        .max()
        .unwrap_or(0);
    let before_end = usize::try_from(end_ns.div_ceil(width_ns)).unwrap_or(usize::MAX);
    let last_counted = out
        .clients
        .iter()
        .filter_map(|c| c.series.iter().rposition(client_bucket_has_counts))
        .chain(out.services.iter().filter_map(|s| s.series.iter().rposition(service_bucket_has_counts)))
        .max();
    let n = before_end.min(stored).max(last_counted.map_or(0, |i| i + 1));
    (0..n)
        .map(|index| {
            let start_ns = (index as u64).saturating_mul(width_ns);
            let stop_ns = start_ns.saturating_add(width_ns).min(end_ns);
            Span { index, start_ns, covered_ns: stop_ns.saturating_sub(start_ns) }
        })
        .collect()
}

fn client_bucket_has_counts(b: &ClientBucket) -> bool {
    b.issued > 0 || b.outcomes.total() > 0
}

fn service_bucket_has_counts(b: &ServiceBucket) -> bool {
    b.arrivals > 0
        || b.completed > 0
        || b.rejected > 0
        || b.dropped > 0
        || b.useful > 0
        || b.useful_work_ns > 0
        || b.wasted_work_ns > 0
        || b.queue_max > 0
}

/// One client group in one reported bucket; a bucket missing from its series reads as empty.
pub(crate) struct ClientPoint<'a> {
    bucket: Option<&'a ClientBucket>,
}

impl<'a> ClientPoint<'a> {
    pub(crate) fn at(c: &'a ClientOutput, span: &Span) -> ClientPoint<'a> {
        ClientPoint { bucket: c.series.get(span.index) }
    }

    pub(crate) fn issued(&self) -> u64 {
        self.bucket.map_or(0, |b| b.issued)
    }

    pub(crate) fn count(&self, o: Outcome) -> u64 {
        self.bucket.map_or(0, |b| b.outcomes.get(o))
    }

    /// Requests answered in the bucket with a usable answer (ok or degraded): goodput's count.
    pub(crate) fn successes(&self) -> u64 {
        self.bucket.map_or(0, |b| b.outcomes.successes())
    }

    /// Requests that ended in the bucket without a usable answer (neither ok nor degraded).
    pub(crate) fn failed(&self) -> u64 {
        self.bucket.map_or(0, |b| b.outcomes.total() - b.outcomes.successes())
    }

    /// Quantile `q` of successful latencies ending in the bucket, ms; `None` without any.
    pub(crate) fn latency_ok_ms(&self, q: f64) -> Option<f64> {
        self.bucket.and_then(|b| b.latency_ok.at(q)).map(ns_to_ms)
    }
}

/// One service in one reported bucket; a bucket missing from its series reads as empty.
pub(crate) struct ServicePoint {
    bucket: ServiceBucket,
    workers: u32,
    span: Span,
}

impl ServicePoint {
    pub(crate) fn at(s: &ServiceOutput, span: &Span) -> ServicePoint {
        ServicePoint {
            bucket: s.series.get(span.index).cloned().unwrap_or_default(),
            workers: s.workers,
            span: *span,
        }
    }

    pub(crate) fn bucket(&self) -> &ServiceBucket {
        &self.bucket
    }

    /// Mean busy workers over the covered span.
    pub(crate) fn busy_mean(&self) -> Option<f64> {
        self.span.mean(self.bucket.busy_integral)
    }

    /// Busy workers over workers, averaged over the covered span.
    pub(crate) fn utilisation(&self) -> Option<f64> {
        self.busy_mean().and_then(|b| ratio(b, f64::from(self.workers)))
    }

    /// Mean queue length over the covered span.
    pub(crate) fn queue_mean(&self) -> Option<f64> {
        self.span.mean(self.bucket.queue_integral)
    }
}

/// What kind of call site a policy belongs to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum SiteKind {
    Client,
    Dependency,
}

/// A call site whose client policy kept a time series: a client group, or a caller's
/// dependency. Sites without a series (no policy beyond a timeout) are not listed.
pub(crate) struct PolicySite<'a> {
    pub(crate) kind: SiteKind,
    /// The client group's name, or `caller->callee`.
    pub(crate) name: String,
    pub(crate) policy: &'a PolicyOutput,
    /// Logical requests per bucket, when known: a client's issued requests, or a
    /// dependency's calls (whose series may be empty).
    logical: Logical<'a>,
}

enum Logical<'a> {
    Issued(&'a [ClientBucket]),
    Calls(&'a [u64]),
}

/// The call sites with a policy series: client groups first, then dependencies, each in the
/// run's order.
pub(crate) fn policy_sites(out: &RunOutput) -> Vec<PolicySite<'_>> {
    let clients = out.clients.iter().map(|c| PolicySite {
        kind: SiteKind::Client,
        name: c.name.clone(),
        policy: &c.policy,
        logical: Logical::Issued(&c.series),
    });
    let dependencies = out.dependencies.iter().map(|d| PolicySite {
        kind: SiteKind::Dependency,
        name: format!("{}->{}", d.caller, d.callee),
        policy: &d.policy,
        logical: Logical::Calls(&d.calls_series),
    });
    clients.chain(dependencies).filter(|s| !s.policy.series.is_empty()).collect()
}

impl PolicySite<'_> {
    /// The prefix of the site's columns in `timeseries.csv`: `client.<name>` or
    /// `dependency.<caller>-><callee>`.
    pub(crate) fn column_prefix(&self) -> String {
        match self.kind {
            SiteKind::Client => format!("client.{}", self.name),
            SiteKind::Dependency => format!("dependency.{}", self.name),
        }
    }

    /// Whether the site has breakers.
    pub(crate) fn has_breaker(&self) -> bool {
        self.policy.breaker.is_some()
    }
}

/// One call site's policy in one reported bucket; a bucket missing from its series reads as
/// empty.
pub(crate) struct PolicyPoint {
    bucket: PolicyBucket,
    logical: Option<u64>,
    span: Span,
}

impl PolicyPoint {
    pub(crate) fn at(site: &PolicySite<'_>, span: &Span) -> PolicyPoint {
        let logical = match site.logical {
            Logical::Issued(series) => Some(series.get(span.index).map_or(0, |b| b.issued)),
            Logical::Calls([]) => None,
            Logical::Calls(series) => Some(series.get(span.index).copied().unwrap_or(0)),
        };
        PolicyPoint {
            bucket: site.policy.series.get(span.index).cloned().unwrap_or_default(),
            logical,
            span: *span,
        }
    }

    pub(crate) fn bucket(&self) -> &PolicyBucket {
        &self.bucket
    }

    /// Logical requests (or calls) made in the bucket; `None` when the site does not say.
    pub(crate) fn logical(&self) -> Option<u64> {
        self.logical
    }

    /// Attempts sent per logical request made in the bucket; `None` without any.
    pub(crate) fn amplification(&self) -> Option<f64> {
        self.logical.and_then(|n| ratio(self.bucket.attempts as f64, n as f64))
    }

    /// Mean number of open breakers over the covered span.
    pub(crate) fn breakers_open(&self) -> Option<f64> {
        self.span.mean(self.bucket.breaker_open_ns)
    }

    /// Mean number of half-open breakers over the covered span.
    pub(crate) fn breakers_half_open(&self) -> Option<f64> {
        self.span.mean(self.bucket.breaker_half_open_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{sample_output, zero_output};
    use squall_kernel::{SimDuration, SimTime};

    #[test]
    fn a_run_of_sixty_seconds_shows_sixty_full_buckets() {
        let spans = spans(&sample_output());
        assert_eq!(spans.len(), 60);
        assert!(spans.iter().all(|s| s.covered_ns == NS_PER_S));
        assert_eq!(spans[59].start_ns, 59 * NS_PER_S);
    }

    #[test]
    fn a_run_that_stops_mid_bucket_shows_the_partial_bucket_with_its_covered_span() {
        let mut out = sample_output();
        out.end = SimTime(12 * NS_PER_S + NS_PER_S / 4);
        // A run that stops early has nothing in the buckets after its end.
        for c in &mut out.clients {
            c.series.truncate(13);
        }
        for s in &mut out.services {
            s.series.truncate(13);
        }
        let spans = spans(&out);
        assert_eq!(spans.len(), 13);
        assert_eq!(spans[12].covered_ns, NS_PER_S / 4);
        assert_eq!(spans[12].rate_per_s(5), Some(20.0));
    }

    #[test]
    fn counts_in_a_bucket_after_the_end_are_still_shown() {
        let mut out = zero_output();
        out.bucket_width = SimDuration::from_secs(1);
        out.services[0].series = vec![ServiceBucket { arrivals: 3, ..ServiceBucket::default() }];
        let spans = spans(&out);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].covered_ns, 0);
        assert_eq!(ServicePoint::at(&out.services[0], &spans[0]).queue_mean(), None);
    }

    #[test]
    fn policy_points_divide_attempts_by_logical_requests_and_breaker_time_by_the_span() {
        let out = crate::sample::policy_output();
        let sites = policy_sites(&out);
        let names: Vec<&str> = sites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["web", "api->db"], "batch has no policy series");
        assert_eq!(sites[1].column_prefix(), "dependency.api->db");
        assert!(sites[0].has_breaker() && !sites[1].has_breaker());
        let spans = spans(&out);
        // Second 25: web issued 17 and sent 20 attempts; its breaker was open half the second.
        let web = PolicyPoint::at(&sites[0], &spans[25]);
        assert_eq!(web.bucket().attempts, 20);
        assert_eq!(web.amplification(), Some(20.0 / 17.0));
        assert_eq!(web.breakers_open(), Some(0.5));
        assert_eq!(web.breakers_half_open(), Some(0.0));
        // api made 26 calls to db and 28 attempts.
        let db = PolicyPoint::at(&sites[1], &spans[25]);
        assert_eq!((db.logical(), db.bucket().attempts), (Some(26), 28));
        // Without a calls series, amplification over time is unknown.
        let mut no_calls = out.clone();
        no_calls.dependencies[0].calls_series.clear();
        let sites = policy_sites(&no_calls);
        assert_eq!(PolicyPoint::at(&sites[1], &spans[25]).amplification(), None);
    }

    #[test]
    fn a_zero_bucket_width_shows_no_buckets() {
        let mut out = sample_output();
        out.bucket_width = SimDuration::ZERO;
        assert!(spans(&out).is_empty());
    }
}
