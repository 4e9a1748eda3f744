//! [`Latencies`]: a distribution of latencies that answers exactly as an HDR histogram would,
//! at a fraction of its memory while it holds few values.
//!
//! An HDR histogram at 3 significant figures keeps 1,024 counters per power of two that its
//! largest value spans: about 130 KiB for latencies up to 20 ms, however few values it holds.
//! A run keeps several per client group and per service, and one per time bucket, so a
//! scenario with a thousand services spent most of its memory, and most of its time (clearing
//! and scanning counters at every bucket), on histograms that each held a handful of values.
//!
//! `Latencies` keeps the exact values while there are at most [`FEW_MAX`] of them, and moves
//! them into a real `hdrhistogram::Histogram` beyond that. Every answer (quantiles, maximum,
//! mean, count) is computed as the histogram computes it, from the same equivalence classes
//! and, for the mean, with the same floating-point operations in the same order, so reports
//! are byte-identical whichever form a distribution is in. The property tests at the bottom
//! check this against `hdrhistogram` itself.

use hdrhistogram::Histogram;
use std::sync::LazyLock;

/// Values kept exactly before a distribution becomes a histogram: 8 KiB of values, against
/// 16 KiB and more for the smallest histogram at 3 significant figures that holds
/// millisecond latencies.
pub const FEW_MAX: usize = 1024;

/// Empty histograms of each precision, only to map values to their equivalence classes
/// (which depend on the precision alone, not on the range a histogram has grown to).
static SCALES: LazyLock<Vec<Histogram<u64>>> =
    LazyLock::new(|| (0..=5).map(|s| Histogram::new(s).expect("sigfig is in 0..=5")).collect());

/// A latency distribution (nanoseconds) with HDR histogram semantics: see the module docs.
#[derive(Clone, Debug)]
pub struct Latencies {
    sigfig: u8,
    /// The values, in the order recorded, while the histogram is not in use.
    few: Vec<u64>,
    /// Once there, holds every value for good (see [`Latencies::clear`]).
    many: Option<Box<Histogram<u64>>>,
}

impl Latencies {
    /// An empty distribution at `sigfig` significant figures (0 to 5).
    ///
    /// # Panics
    /// If `sigfig` is above 5.
    pub fn new(sigfig: u8) -> Latencies {
        assert!(sigfig <= 5, "sigfig {sigfig} is above 5");
        Latencies { sigfig, few: Vec::new(), many: None }
    }

    fn scale(&self) -> &'static Histogram<u64> {
        &SCALES[usize::from(self.sigfig)]
    }

    /// Records one value.
    #[inline]
    pub fn record(&mut self, v: u64) {
        if let Some(h) = &mut self.many {
            record_into(h, v, 1);
        } else if self.few.len() < FEW_MAX {
            self.few.push(v);
        } else {
            self.spill();
            record_into(self.many.as_mut().expect("spill made a histogram"), v, 1);
        }
    }

    /// Records `v` `n` times.
    pub fn record_n(&mut self, v: u64, n: u64) {
        if self.many.is_none() && self.few.len() as u64 + n <= FEW_MAX as u64 {
            self.few.extend(std::iter::repeat_n(v, n as usize));
            return;
        }
        self.spill();
        record_into(self.many.as_mut().expect("spill made a histogram"), v, n);
    }

    /// Moves the values into the histogram (no-op when already there).
    fn spill(&mut self) {
        if self.many.is_some() {
            return;
        }
        let mut h = Box::new(Histogram::new(self.sigfig).expect("sigfig is in 0..=5"));
        for &v in &self.few {
            record_into(&mut h, v, 1);
        }
        self.many = Some(h);
        self.few = Vec::new();
    }

    /// Forgets every value. A distribution that had become a histogram stays one: a time
    /// bucket that filled it is likely followed by another, whose first values would otherwise
    /// be recorded twice (kept, then moved), and the histogram's memory is held either way.
    pub fn clear(&mut self) {
        self.few.clear();
        if let Some(h) = &mut self.many {
            h.reset();
        }
    }

    /// Values recorded.
    pub fn len(&self) -> u64 {
        self.many.as_ref().map_or(self.few.len() as u64, |h| h.len())
    }

    /// Nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at quantile `q` (in `[0, 1]`), as `Histogram::value_at_quantile` gives it:
    /// the highest value equivalent to the `ceil(q * len)`-th smallest (at least the first).
    /// Zero when empty.
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        if let Some(h) = &self.many {
            return h.value_at_quantile(q);
        }
        let mut sorted = self.few.clone();
        sorted.sort_unstable();
        self.at_quantile_of_sorted(&sorted, q)
    }

    fn at_quantile_of_sorted(&self, sorted: &[u64], q: f64) -> u64 {
        if sorted.is_empty() {
            return 0;
        }
        let q = q.min(1.0);
        let rank = ((q * sorted.len() as f64).ceil() as u64).max(1).min(sorted.len() as u64);
        let v = sorted[rank as usize - 1];
        if q == 0.0 {
            self.scale().lowest_equivalent(v)
        } else {
            self.scale().highest_equivalent(v)
        }
    }

    /// The values at several quantiles (each in `[0, 1]`, in increasing order), in one pass.
    pub fn values_at_quantiles<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        let mut out = [0; N];
        if let Some(h) = &self.many {
            for (o, v) in out.iter_mut().zip(h.value_at_quantiles(qs)) {
                *o = v;
            }
        } else {
            let mut sorted = self.few.clone();
            sorted.sort_unstable();
            for (o, q) in out.iter_mut().zip(qs) {
                *o = self.at_quantile_of_sorted(&sorted, q);
            }
        }
        out
    }

    /// The highest value equivalent to the largest recorded (zero when empty).
    pub fn max(&self) -> u64 {
        if let Some(h) = &self.many {
            return h.max();
        }
        self.few.iter().max().map_or(0, |&v| self.scale().highest_equivalent(v))
    }

    /// The mean over equivalence classes (each counted at its middle value), summed in
    /// increasing order of value exactly as `Histogram::mean` sums it. Zero when empty.
    pub fn mean(&self) -> f64 {
        if let Some(h) = &self.many {
            return h.mean();
        }
        if self.few.is_empty() {
            return 0.0;
        }
        let scale = self.scale();
        let mut sorted = self.few.clone();
        sorted.sort_unstable();
        let len = sorted.len() as f64;
        let mut total = 0.0_f64;
        let mut k = 0;
        while k < sorted.len() {
            let low = scale.lowest_equivalent(sorted[k]);
            let n = sorted[k..].iter().take_while(|&&v| scale.lowest_equivalent(v) == low).count();
            // Each class's share is divided by the count before it is added, as the
            // histogram does: dividing the sum once would round differently.
            total += scale.median_equivalent(sorted[k]) as f64 * n as f64 / len;
            k += n;
        }
        total
    }

    /// Adds every value of `other` (recorded at the same precision).
    ///
    /// # Panics
    /// If the precisions differ.
    pub fn add(&mut self, other: &Latencies) {
        assert_eq!(self.sigfig, other.sigfig, "distributions of different precisions");
        if let Some(o) = &other.many {
            self.spill();
            self.many
                .as_mut()
                .expect("spill made a histogram")
                .add(o.as_ref())
                .expect("an auto-resizing histogram takes any values");
        } else {
            for &v in &other.few {
                self.record(v);
            }
        }
    }

    /// The same values in an `hdrhistogram::Histogram`.
    pub fn to_histogram(&self) -> Histogram<u64> {
        if let Some(h) = &self.many {
            return h.as_ref().clone();
        }
        let mut h = Histogram::new(self.sigfig).expect("sigfig is in 0..=5");
        for &v in &self.few {
            record_into(&mut h, v, 1);
        }
        h
    }

    /// Bytes held on the heap, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.few.capacity() * 8
            + self
                .many
                .as_ref()
                .map_or(0, |h| h.distinct_values() * 8 + std::mem::size_of::<Histogram<u64>>())
    }
}

/// Records `v` `n` times, letting the histogram grow to hold it. (`saturating_record` would
/// clamp to the histogram's current range, which starts tiny, instead of growing it.)
#[inline]
fn record_into(h: &mut Histogram<u64>, v: u64, n: u64) {
    if h.record_n(v, n).is_err() {
        // Only values beyond what any resize can hold (near u64::MAX) end up here.
        h.saturating_record_n(v, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const QS: [f64; 7] = [0.0, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0];

    /// Asserts that `l` answers every question as `h` does, bit for bit.
    fn assert_same(l: &Latencies, h: &Histogram<u64>) {
        assert_eq!(l.len(), h.len(), "len");
        assert_eq!(l.is_empty(), h.is_empty(), "is_empty");
        if h.is_empty() {
            return;
        }
        for q in QS {
            assert_eq!(l.value_at_quantile(q), h.value_at_quantile(q), "quantile {q}");
        }
        let qs = [0.5, 0.9, 0.99, 0.999];
        assert_eq!(l.values_at_quantiles(qs), qs.map(|q| h.value_at_quantile(q)), "one pass");
        assert_eq!(l.max(), h.max(), "max");
        assert_eq!(l.mean().to_bits(), h.mean().to_bits(), "mean {} vs {}", l.mean(), h.mean());
        let back = l.to_histogram();
        assert_eq!(back.len(), h.len());
        assert_eq!(back.mean().to_bits(), h.mean().to_bits());
    }

    fn values() -> impl Strategy<Value = Vec<u64>> {
        // Latency-like values over many orders of magnitude, with repeats, and sizes on
        // both sides of `FEW_MAX`.
        let v = prop_oneof![0u64..3_000, 1_000u64..50_000_000, 1u64..u64::MAX / 4];
        prop::collection::vec(v, 0..(FEW_MAX + 300))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn latencies_answer_as_an_hdr_histogram_does(vs in values(), sigfig in 2u8..=3) {
            let mut l = Latencies::new(sigfig);
            let mut h = Histogram::<u64>::new(sigfig).unwrap();
            for &v in &vs {
                l.record(v);
                record_into(&mut h, v, 1);
            }
            assert_same(&l, &h);
        }

        #[test]
        fn merged_latencies_answer_as_merged_histograms(a in values(), b in values()) {
            let (mut la, mut lb) = (Latencies::new(3), Latencies::new(3));
            let mut h = Histogram::<u64>::new(3).unwrap();
            for &v in &a {
                la.record(v);
                record_into(&mut h, v, 1);
            }
            for &v in &b {
                lb.record_n(v, 2);
                record_into(&mut h, v, 2);
            }
            la.add(&lb);
            assert_same(&la, &h);
        }
    }

    #[test]
    fn a_cleared_distribution_is_empty_and_records_again() {
        let mut l = Latencies::new(3);
        for v in 0..(FEW_MAX as u64 + 10) {
            l.record(v * 1_000);
        }
        assert!(l.many.is_some(), "more than FEW_MAX values fill the histogram");
        l.clear();
        assert!(l.is_empty());
        assert!(l.many.is_some(), "a cleared histogram stays one");
        assert_eq!(l.value_at_quantile(0.5), 0);
        l.record(5_000_000);
        let mut h = Histogram::<u64>::new(3).unwrap();
        h.record(5_000_000).unwrap();
        assert_same(&l, &h);
    }

    #[test]
    fn an_empty_distribution_answers_zero() {
        let l = Latencies::new(3);
        assert_eq!((l.len(), l.max(), l.value_at_quantile(0.99)), (0, 0, 0));
        assert_eq!(l.mean(), 0.0);
    }
}
