//! The time buckets a report shows, and per-bucket numbers, shared by the CSV and the plots.
//!
//! Bucket `i` covers `[i*w, (i+1)*w)`. A report shows the buckets that start before the run's
//! end; the last one may be partial, so its integrals and rates are divided by the span it
//! actually covers. A later bucket is shown too if it holds any count (an event at exactly
//! the end time lands in a bucket that covers no time): counts are never dropped. Such a
//! bucket has a zero span, so its means and rates are undefined (`None`).

use crate::stats::{ns_to_ms, ratio};
use squall_kernel::time::NS_PER_S;
use squall_model::{ClientBucket, ClientOutput, Outcome, RunOutput, ServiceBucket, ServiceOutput};

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
    fn a_zero_bucket_width_shows_no_buckets() {
        let mut out = sample_output();
        out.bucket_width = SimDuration::ZERO;
        assert!(spans(&out).is_empty());
    }
}
