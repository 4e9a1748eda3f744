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
//! them into counters beyond that ([`Counts`]: the counters of an `hdrhistogram::Histogram`,
//! laid out as it lays them out, with the range of counters in use kept so that clearing,
//! merging and finding quantiles touch only that range). Every answer (quantiles, maximum,
//! mean, count) is computed as the histogram computes it, from the same equivalence classes
//! and, for the mean, with the same floating-point operations in the same order, so reports
//! are byte-identical whichever form a distribution is in. The property tests at the bottom
//! check this against `hdrhistogram` itself.
//!
//! Recording is on the hot path (a few values per request): in `Counts` it is an index
//! computation and an increment, inlined, where `Histogram::record_n` is a call that also
//! checks its range and keeps a minimum and maximum.

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
    many: Option<Box<Counts>>,
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
        match &mut self.many {
            Some(h) => h.record_n(v, 1),
            None if self.few.len() < FEW_MAX => self.few.push(v),
            None => self.spill_and_record(v),
        }
    }

    /// `record` of the value that fills the exact values: out of line, once per distribution.
    #[cold]
    fn spill_and_record(&mut self, v: u64) {
        self.spill();
        self.many.as_mut().expect("spill made a histogram").record_n(v, 1);
    }

    /// Records `v` `n` times.
    pub fn record_n(&mut self, v: u64, n: u64) {
        if self.many.is_none() && self.few.len() as u64 + n <= FEW_MAX as u64 {
            self.few.extend(std::iter::repeat_n(v, n as usize));
            return;
        }
        self.spill();
        self.many.as_mut().expect("spill made a histogram").record_n(v, n);
    }

    /// Moves the values into the histogram (no-op when already there).
    fn spill(&mut self) {
        if self.many.is_some() {
            return;
        }
        let mut h = Box::new(Counts::new(self.sigfig));
        for &v in &self.few {
            h.record_n(v, 1);
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
            h.clear();
        }
    }

    /// Values recorded.
    pub fn len(&self) -> u64 {
        self.many.as_ref().map_or(self.few.len() as u64, |h| h.total)
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
            return h.values_at_quantiles([q])[0];
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
        if let Some(h) = &self.many {
            return h.values_at_quantiles(qs);
        }
        let mut out = [0; N];
        let mut sorted = self.few.clone();
        sorted.sort_unstable();
        for (o, q) in out.iter_mut().zip(qs) {
            *o = self.at_quantile_of_sorted(&sorted, q);
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
            return h.to_histogram().mean();
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
            self.many.as_mut().expect("spill made a histogram").add(o);
        } else {
            for &v in &other.few {
                self.record(v);
            }
        }
    }

    /// The same values in an `hdrhistogram::Histogram`.
    pub fn to_histogram(&self) -> Histogram<u64> {
        if let Some(h) = &self.many {
            return h.to_histogram();
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
            + self.many.as_ref().map_or(0, |h| h.counts.capacity() * 8 + std::mem::size_of::<Counts>())
    }
}

/// The counters of an `hdrhistogram::Histogram<u64>` with a lowest discernible value of 1 at
/// `sigfig` significant figures: counter `i` holds the values of the `i`-th equivalence class,
/// exactly as the histogram indexes them, so that every answer can be given as the histogram
/// gives it. The counters grow, as an auto-resizing histogram's do, to the largest value
/// recorded. `lo..=hi` bounds the counters in use (empty when `total` is zero).
#[derive(Clone, Debug)]
struct Counts {
    counts: Vec<u64>,
    total: u64,
    lo: usize,
    hi: usize,
    /// The histogram's layout: `sub_bucket_count / 2` counters per bucket past the first.
    sub_bucket_half_count_magnitude: u8,
    sub_bucket_half_count: u32,
    sub_bucket_mask: u64,
    leading_zero_count_base: u8,
    sigfig: u8,
}

impl Counts {
    fn new(sigfig: u8) -> Counts {
        // As `Histogram::new_with_bounds(1, _, sigfig)` sets them up (unit magnitude 0).
        let largest = 2 * 10_u32.pow(u32::from(sigfig));
        let sub_bucket_count_magnitude = f64::from(largest).log2().ceil() as u8;
        let sub_bucket_count = 1_u32 << sub_bucket_count_magnitude;
        Counts {
            counts: Vec::new(),
            total: 0,
            lo: usize::MAX,
            hi: 0,
            sub_bucket_half_count_magnitude: sub_bucket_count_magnitude - 1,
            sub_bucket_half_count: sub_bucket_count / 2,
            sub_bucket_mask: u64::from(sub_bucket_count) - 1,
            leading_zero_count_base: 64 - sub_bucket_count_magnitude,
            sigfig,
        }
    }

    /// The counter of `v`'s equivalence class (`Histogram::index_for`).
    #[inline]
    fn index_for(&self, v: u64) -> usize {
        let bucket = self.leading_zero_count_base - (v | self.sub_bucket_mask).leading_zeros() as u8;
        let sub_bucket = (v >> bucket) as usize;
        ((usize::from(bucket) + 1) << self.sub_bucket_half_count_magnitude) + sub_bucket
            - self.sub_bucket_half_count as usize
    }

    /// The lowest value of counter `index`'s class (`Histogram::value_for`).
    fn value_for(&self, index: usize) -> u64 {
        let half = self.sub_bucket_half_count as usize;
        let bucket = (index >> self.sub_bucket_half_count_magnitude) as isize - 1;
        let sub_bucket = (index & (half - 1)) + half;
        if bucket < 0 {
            (sub_bucket - half) as u64
        } else {
            (sub_bucket as u64) << bucket
        }
    }

    #[inline]
    fn record_n(&mut self, v: u64, n: u64) {
        let i = self.index_for(v);
        if i >= self.counts.len() {
            self.grow(i);
        }
        self.counts[i] = self.counts[i].saturating_add(n);
        self.total = self.total.saturating_add(n);
        self.lo = self.lo.min(i);
        self.hi = self.hi.max(i);
    }

    /// Makes room for counter `i`, to the end of its bucket.
    #[cold]
    fn grow(&mut self, i: usize) {
        let m = self.sub_bucket_half_count_magnitude;
        self.counts.resize(((i >> m) + 1) << m, 0);
    }

    fn clear(&mut self) {
        if self.lo <= self.hi {
            self.counts[self.lo..=self.hi].fill(0);
        }
        (self.total, self.lo, self.hi) = (0, usize::MAX, 0);
    }

    fn add(&mut self, other: &Counts) {
        if other.lo > other.hi {
            return;
        }
        if other.hi >= self.counts.len() {
            self.grow(other.hi);
        }
        for (c, o) in self.counts[other.lo..=other.hi].iter_mut().zip(&other.counts[other.lo..=other.hi]) {
            *c = c.saturating_add(*o);
        }
        self.total = self.total.saturating_add(other.total);
        self.lo = self.lo.min(other.lo);
        self.hi = self.hi.max(other.hi);
    }

    fn scale(&self) -> &'static Histogram<u64> {
        &SCALES[usize::from(self.sigfig)]
    }

    /// `Histogram::max`: the highest value equivalent to the largest recorded.
    fn max(&self) -> u64 {
        if self.total == 0 {
            return 0;
        }
        self.scale().highest_equivalent(self.value_for(self.hi))
    }

    /// `Histogram::value_at_quantiles`, scanning only the counters in use (those below are
    /// zero, so the scan's running total is the same from `lo` on).
    fn values_at_quantiles<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        let mut out = [0; N];
        if self.total == 0 {
            return out;
        }
        let mut seen = 0u64;
        let mut i = self.lo;
        let mut at = self.lo;
        let mut previous: Option<f64> = None;
        for (o, q) in out.iter_mut().zip(qs) {
            if previous.is_some_and(|p| p > q) {
                break;
            }
            // At most `total` (the histogram's own scan would run off its counters past it).
            let target = ((q.clamp(0., 1.) * self.total as f64).ceil() as u64).clamp(1, self.total);
            while seen < target {
                at = i;
                seen += self.counts[i];
                i += 1;
            }
            let v = self.value_for(at);
            *o =
                if q == 0.0 { self.scale().lowest_equivalent(v) } else { self.scale().highest_equivalent(v) };
            previous = Some(q);
        }
        out
    }

    /// The same values in an `hdrhistogram::Histogram`: each class's count recorded at its
    /// lowest value, which gives the histogram the same counters, total and extremes.
    fn to_histogram(&self) -> Histogram<u64> {
        let mut h = Histogram::new(self.sigfig).expect("sigfig is in 0..=5");
        if self.total > 0 {
            for i in self.lo..=self.hi {
                if self.counts[i] > 0 {
                    record_into(&mut h, self.value_for(i), self.counts[i]);
                }
            }
        }
        h
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
        fn latencies_answer_as_an_hdr_histogram_does(vs in values(), sigfig in 0u8..=3) {
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100))]

        #[test]
        fn a_cleared_distribution_answers_for_what_came_after(a in values(), b in values()) {
            let mut l = Latencies::new(3);
            for &v in &a {
                l.record(v);
            }
            l.clear();
            let mut h = Histogram::<u64>::new(3).unwrap();
            for &v in &b {
                l.record(v);
                record_into(&mut h, v, 1);
            }
            assert_same(&l, &h);
        }
    }

    #[test]
    fn an_empty_distribution_answers_zero() {
        let l = Latencies::new(3);
        assert_eq!((l.len(), l.max(), l.value_at_quantile(0.99)), (0, 0, 0));
        assert_eq!(l.mean(), 0.0);
    }
}
