//! A sliding window of counts over simulated time, as a ring of equal time slices.
//!
//! Slice `k` covers `[k·width, (k+1)·width)` of simulated time. The window at `now` is the
//! slice holding `now` and the `n − 1` slices before it, so a count made at `t` is part of the
//! window until the first instant of slice `floor(t/width) + n`: it lives more than
//! `(n − 1)·width` and at most `n·width`. Slices are emptied lazily when `now` moves past
//! them, and the window's total is kept as a running sum, so each call costs O(1) amortised
//! (at most `n` slices are cleared however far time jumps). The ring is allocated once.
//!
//! Used by the Finagle retry budget (10 slices of `ttl/10`), adaptive throttling (60 slices)
//! and Resilience4j's time-based window (one-second buckets).

use squall_kernel::{SimDuration, SimTime};

/// What a slice holds: counts that add and subtract.
pub(crate) trait Tally: Copy + Default {
    /// `self += other`.
    fn add(&mut self, other: &Self);
    /// `self -= other`; `other` was added earlier, so nothing underflows.
    fn sub(&mut self, other: &Self);
}

/// A ring of `n` slices of `width` nanoseconds, aligned to multiples of `width`.
#[derive(Clone, Debug)]
pub(crate) struct SliceRing<T> {
    slices: Box<[T]>,
    width_ns: u64,
    /// Index (since time zero) of the newest slice; the ring holds slices
    /// `current − n + 1 ..= current`.
    current: u64,
    /// Sum of every slice in the ring.
    total: T,
}

impl<T: Tally> SliceRing<T> {
    /// An empty window of `n` slices of `width`.
    ///
    /// # Panics
    /// If `n` or `width` is zero.
    pub(crate) fn new(n: usize, width: SimDuration) -> Self {
        assert!(n >= 1, "a sliding window needs at least one slice");
        assert!(width > SimDuration::ZERO, "a window slice must be longer than zero, got {width:?}");
        SliceRing {
            slices: vec![T::default(); n].into_boxed_slice(),
            width_ns: width.as_nanos(),
            current: 0,
            total: T::default(),
        }
    }

    /// Moves the window to `now`, emptying the slices that fell out of it.
    ///
    /// # Panics
    /// If `now` lies in a slice before the newest one seen (time went backwards).
    pub(crate) fn roll(&mut self, now: SimTime) {
        let k = now.as_nanos() / self.width_ns;
        assert!(k >= self.current, "time went backwards: slice {k} after slice {}", self.current);
        let n = self.slices.len() as u64;
        // Past `n` steps every slice has been emptied once; more would only repeat that.
        let steps = (k - self.current).min(n);
        for j in 1..=steps {
            let idx = ((self.current + j) % n) as usize;
            let old = self.slices[idx];
            self.total.sub(&old);
            self.slices[idx] = T::default();
        }
        self.current = k;
    }

    /// Adds `delta` to the slice holding `now` (after rolling to it).
    pub(crate) fn add(&mut self, now: SimTime, delta: T) {
        self.roll(now);
        let idx = (self.current % self.slices.len() as u64) as usize;
        self.slices[idx].add(&delta);
        self.total.add(&delta);
    }

    /// The sum over the window as of the latest roll; call [`roll`](Self::roll) first.
    pub(crate) fn total(&self) -> T {
        self.total
    }

    /// The sum over the window at `now`.
    pub(crate) fn total_at(&mut self, now: SimTime) -> T {
        self.roll(now);
        self.total
    }

    /// Empties every slice (the window keeps its position in time).
    pub(crate) fn clear(&mut self) {
        self.slices.fill(T::default());
        self.total = T::default();
    }
}

impl Tally for i64 {
    fn add(&mut self, other: &Self) {
        *self = self.saturating_add(*other);
    }
    fn sub(&mut self, other: &Self) {
        *self = self.saturating_sub(*other);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_leave_the_window_after_n_slices() {
        let mut w: SliceRing<i64> = SliceRing::new(3, SimDuration::from_secs(1));
        w.add(SimTime(500_000_000), 1); // Slice 0.
        w.add(SimTime(1_000_000_000), 10); // Slice 1.
        assert_eq!(w.total_at(SimTime(2_999_999_999)), 11, "slices 0..=2 are in the window");
        assert_eq!(w.total_at(SimTime(3_000_000_000)), 10, "slice 0 left at the start of slice 3");
        assert_eq!(w.total_at(SimTime(4_000_000_000)), 0);
        w.add(SimTime(4_000_000_000), 5);
        assert_eq!(w.total_at(SimTime(1_000_000_000_000)), 0, "a long jump empties everything");
        w.add(SimTime(1_000_000_000_000), 2);
        w.clear();
        assert_eq!(w.total(), 0);
    }
}
