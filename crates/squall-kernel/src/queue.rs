//! The pending-event set: a shallow binary heap for the near future, a ring of time slots for
//! the next few seconds, and a second heap for the far future.
//!
//! Resilience models keep many timers pending (one timeout per request in flight, most of
//! them cancelled before they fire), while the events that actually happen next are few. A
//! single binary heap pays `log(pending)` on every push and pop for all of them. Here only the
//! events of the current slot sit in the `near` heap; the rest wait in slot vectors (O(1) push)
//! and are poured into the heap when their slot comes up, so the heap stays as deep as one
//! slot's worth of events however many timers wait behind it.
//!
//! **Invariant:** every event in `near` is earlier, in `(time, seq)` order, than every event in
//! `slots` and `far`; `slots` hold buckets `cur+1 .. cur+N-1`; `far` holds buckets `>= cur+N`
//! as of when they were pushed (they are moved into slots as `cur` advances).

use std::cmp::Ordering;
use std::collections::binary_heap::PeekMut;
use std::collections::BinaryHeap;

/// Number of slots in the ring. A power of two, so slot index is `bucket & SLOT_MASK`.
const N_SLOTS: usize = 4096;
const SLOT_MASK: u64 = N_SLOTS as u64 - 1;
const N_WORDS: usize = N_SLOTS / 64;

/// Default slot width: 2^24 ns, about 16.8 ms; the ring then spans about 69 s of simulated
/// time, which holds the timeouts of typical request-level models.
pub const DEFAULT_SLOT_SHIFT: u32 = 24;

/// A timer handle slot; `NO_TIMER` marks plain events.
pub(crate) const NO_TIMER: u32 = u32::MAX;

/// One pending event with its ordering key.
pub(crate) struct Entry<E> {
    pub(crate) time: u64,
    pub(crate) seq: u64,
    pub(crate) timer_index: u32,
    pub(crate) timer_gen: u32,
    pub(crate) event: E,
}

impl<E> Entry<E> {
    /// `(time, seq)` as one number: time in the high 64 bits, seq in the low.
    #[inline]
    fn key(&self) -> u128 {
        u128::from(self.time) << 64 | u128::from(self.seq)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    // Reversed, so that std's max-heap pops the earliest event. Ties break by `seq`:
    // `BinaryHeap` alone would pop equal-time events in heap-layout order. The pair is
    // compared as one 128-bit key (time in the high half), which orders exactly as time then
    // seq and compiles to a compare without a branch per field; every sift step compares.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// Pending events ordered by `(time, seq)`.
pub(crate) struct EventQueue<E> {
    near: BinaryHeap<Entry<E>>,
    slots: Vec<Vec<Entry<E>>>,
    occupied: [u64; N_WORDS],
    far: BinaryHeap<Entry<E>>,
    /// The bucket whose events are in `near`.
    cur: u64,
    shift: u32,
    len: usize,
}

impl<E> EventQueue<E> {
    pub(crate) fn new(shift: u32) -> Self {
        assert!(shift < 48, "slot shift {shift} makes slots wider than three days");
        EventQueue {
            near: BinaryHeap::new(),
            slots: (0..N_SLOTS).map(|_| Vec::new()).collect(),
            occupied: [0; N_WORDS],
            far: BinaryHeap::new(),
            cur: 0,
            shift,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn push(&mut self, entry: Entry<E>) {
        let bucket = entry.time >> self.shift;
        self.len += 1;
        if bucket <= self.cur {
            self.near.push(entry);
        } else if bucket - self.cur < N_SLOTS as u64 {
            let slot = (bucket & SLOT_MASK) as usize;
            self.slots[slot].push(entry);
            self.occupied[slot / 64] |= 1 << (slot % 64);
        } else {
            self.far.push(entry);
        }
    }

    /// Removes the earliest event if it is due at or before `until`, pouring the next slot
    /// into the heap if needed. Entries for which `live` is false (cancelled timers) are
    /// dropped while a slot is poured, so they never reach the heap. One call looks at the
    /// top once, where a peek then a pop looked twice: the run loop does this per event.
    #[inline]
    pub(crate) fn pop_until(&mut self, until: u64, live: &impl Fn(&Entry<E>) -> bool) -> Option<Entry<E>> {
        if self.near.is_empty() && !self.advance(live) {
            return None;
        }
        let top = self.near.peek_mut().expect("advance left the near heap non-empty");
        if top.time > until {
            return None;
        }
        self.len -= 1;
        Some(PeekMut::pop(top))
    }

    /// Removes the earliest event (see [`EventQueue::pop_until`] for `live`); the run loop
    /// uses `pop_until`, the tests this.
    #[cfg(test)]
    pub(crate) fn pop(&mut self, live: &impl Fn(&Entry<E>) -> bool) -> Option<Entry<E>> {
        if self.near.is_empty() && !self.advance(live) {
            return None;
        }
        let entry = self.near.pop().expect("advance left the near heap non-empty");
        self.len -= 1;
        Some(entry)
    }

    /// Moves the next bucket with live events into `near`, dropping dead ones on the way.
    /// Returns false if nothing is pending.
    fn advance(&mut self, live: &impl Fn(&Entry<E>) -> bool) -> bool {
        debug_assert!(self.near.is_empty());
        // Bounded: each pass empties one slot or moves `cur` past the far heap's minimum.
        loop {
            if self.len == 0 {
                return false;
            }
            let next_slot = self.next_occupied_bucket();
            let next_far = self.far.peek().map(|e| e.time >> self.shift);
            let next = match (next_slot, next_far) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => unreachable!("len is {} but no slot or far event", self.len),
            };
            assert!(next > self.cur, "queue went backwards: bucket {next} after {}", self.cur);
            self.cur = next;
            let slot = (self.cur & SLOT_MASK) as usize;
            if self.occupied[slot / 64] & (1 << (slot % 64)) != 0 {
                self.occupied[slot / 64] &= !(1 << (slot % 64));
                // `near` is empty: swap the slot's buffer in rather than copying its events,
                // and hand the old (empty) buffer, capacity kept, to the slot. Cancelled
                // timers, most of them in timeout-heavy models, are dropped first.
                let mut events = std::mem::take(&mut self.slots[slot]);
                let before = events.len();
                events.retain(|e| live(e));
                self.len -= before - events.len();
                let spare = std::mem::replace(&mut self.near, BinaryHeap::from(events)).into_vec();
                self.slots[slot] = spare;
            }
            // Far events that now fall within the ring move into it (or straight into near).
            while let Some(top) = self.far.peek() {
                let bucket = top.time >> self.shift;
                if bucket - self.cur >= N_SLOTS as u64 {
                    break;
                }
                let entry = self.far.pop().expect("peeked");
                if bucket == self.cur {
                    self.near.push(entry);
                } else {
                    let slot = (bucket & SLOT_MASK) as usize;
                    self.slots[slot].push(entry);
                    self.occupied[slot / 64] |= 1 << (slot % 64);
                }
            }
            if !self.near.is_empty() {
                return true;
            }
        }
    }

    /// Drops every entry for which `live` is false, wherever it waits, and returns how many
    /// went. The order of the rest is untouched (it is by key, not by position). Slot buffers
    /// that held mostly dead entries give their memory back, so a burst of cancelled timers
    /// leaves no lasting footprint.
    pub(crate) fn compact(&mut self, live: &impl Fn(&Entry<E>) -> bool) -> usize {
        let before = self.len;
        self.near.retain(|e| live(e));
        self.far.retain(|e| live(e));
        for heap in [&mut self.near, &mut self.far] {
            if heap.capacity() > 4 * heap.len() + 64 {
                heap.shrink_to(2 * heap.len());
            }
        }
        let mut kept = self.near.len() + self.far.len();
        for (slot, events) in self.slots.iter_mut().enumerate() {
            if events.capacity() == 0 {
                continue;
            }
            events.retain(|e| live(e));
            if events.is_empty() {
                self.occupied[slot / 64] &= !(1 << (slot % 64));
            }
            if events.capacity() > 4 * events.len() + 64 {
                events.shrink_to(2 * events.len());
            }
            kept += events.len();
        }
        self.len = kept;
        before - kept
    }

    /// The first bucket in `cur+1 .. cur+N` whose slot holds events.
    fn next_occupied_bucket(&self) -> Option<u64> {
        let limit = N_SLOTS - 1;
        let mut scanned = 0usize;
        let mut slot = ((self.cur + 1) & SLOT_MASK) as usize;
        while scanned < limit {
            let bit = slot % 64;
            let word = self.occupied[slot / 64] >> bit;
            if word != 0 {
                let dist = scanned + word.trailing_zeros() as usize;
                return (dist < limit).then(|| self.cur + 1 + dist as u64);
            }
            let step = 64 - bit;
            scanned += step;
            slot = (slot + step) & SLOT_MASK as usize;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(time: u64, seq: u64) -> Entry<u64> {
        Entry { time, seq, timer_index: NO_TIMER, timer_gen: 0, event: seq }
    }

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::new(4);
        for seq in 0..100 {
            q.push(entry(1000, seq));
        }
        let order: Vec<u64> = std::iter::from_fn(|| q.pop(&|_| true).map(|e| e.seq)).collect();
        assert_eq!(order, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn far_events_come_back_in_order() {
        let mut q = EventQueue::new(2);
        q.push(entry(u64::MAX - 1, 0));
        q.push(entry(1 << 40, 1));
        q.push(entry(5, 2));
        q.push(entry(N_SLOTS as u64 * 4 + 3, 3));
        let order: Vec<u64> = std::iter::from_fn(|| q.pop(&|_| true).map(|e| e.time)).collect();
        assert_eq!(order, vec![5, N_SLOTS as u64 * 4 + 3, 1 << 40, u64::MAX - 1]);
        assert_eq!(q.len(), 0);
    }

    proptest! {
        /// Interleaved pushes (never earlier than the last pop, as the scheduler guarantees)
        /// and pops come out exactly as from a reference sorted model.
        #[test]
        fn pops_match_a_reference_ordering(
            shift in 0u32..12,
            ops in prop::collection::vec((0u64..3, 0u64..200_000, any::<bool>()), 1..400),
        ) {
            let mut q = EventQueue::new(shift);
            let mut reference = std::collections::BTreeSet::new();
            let mut now = 0u64;
            let mut seq = 0u64;
            for (kind, delta, far) in ops {
                if kind == 0 && !reference.is_empty() {
                    let got = q.pop(&|_| true).expect("reference has events");
                    let want = *reference.iter().next().unwrap();
                    reference.remove(&want);
                    prop_assert_eq!((got.time, got.seq), want);
                    now = got.time;
                } else {
                    let t = now + if far { delta * 1000 } else { delta % 50 };
                    q.push(entry(t, seq));
                    reference.insert((t, seq));
                    seq += 1;
                }
                prop_assert_eq!(q.len(), reference.len());
            }
            while let Some(want) = reference.iter().next().copied() {
                reference.remove(&want);
                let got = q.pop(&|_| true).expect("reference has events");
                prop_assert_eq!((got.time, got.seq), want);
            }
            prop_assert!(q.pop(&|_| true).is_none());
        }

        /// A sweep drops exactly the dead entries, from the heaps, the ring and the far heap
        /// alike, and the live ones still come out in reference order.
        #[test]
        fn compaction_keeps_live_entries_in_order(
            shift in 0u32..10,
            pops in 0usize..50,
            times in prop::collection::vec((0u64..5_000_000, any::<bool>()), 1..300),
        ) {
            let mut q = EventQueue::new(shift);
            let mut reference = std::collections::BTreeSet::new();
            for (seq, &(t, dead)) in times.iter().enumerate() {
                let mut e = entry(t, seq as u64);
                e.timer_gen = u32::from(dead);
                q.push(e);
                if !dead {
                    reference.insert((t, seq as u64));
                }
            }
            let is_live = |e: &Entry<u64>| e.timer_gen == 0;
            for _ in 0..pops {
                match q.pop(&is_live) {
                    Some(e) if e.timer_gen == 0 => {
                        let want = *reference.iter().next().unwrap();
                        reference.remove(&want);
                        prop_assert_eq!((e.time, e.seq), want);
                    }
                    Some(_) => {}
                    None => break,
                }
            }
            q.compact(&is_live);
            prop_assert_eq!(q.len(), reference.len());
            let rest: Vec<(u64, u64)> = std::iter::from_fn(|| q.pop(&is_live).map(|e| (e.time, e.seq))).collect();
            prop_assert_eq!(rest, reference.into_iter().collect::<Vec<_>>());
        }

        /// Dead entries (cancelled timers) may be dropped while slots are poured but never
        /// reorder the rest: live entries come out exactly in reference order.
        #[test]
        fn dropping_dead_entries_keeps_live_ones_in_order(
            shift in 0u32..10,
            times in prop::collection::vec((0u64..100_000, any::<bool>()), 1..300),
        ) {
            let mut q = EventQueue::new(shift);
            let mut live_ref = Vec::new();
            for (seq, &(t, dead)) in times.iter().enumerate() {
                let mut e = entry(t, seq as u64);
                e.timer_gen = u32::from(dead);
                q.push(e);
                if !dead {
                    live_ref.push((t, seq as u64));
                }
            }
            live_ref.sort();
            let is_live = |e: &Entry<u64>| e.timer_gen == 0;
            let mut popped = Vec::new();
            while let Some(e) = q.pop(&is_live) {
                popped.push((e.time, e.seq, e.timer_gen));
            }
            prop_assert!(popped.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
            let live: Vec<(u64, u64)> = popped.iter().filter(|p| p.2 == 0).map(|p| (p.0, p.1)).collect();
            prop_assert_eq!(live, live_ref);
            prop_assert_eq!(q.len(), 0);
        }
    }
}
