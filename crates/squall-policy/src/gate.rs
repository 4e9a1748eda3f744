//! Admission with waiting: a counting semaphore and a thread pool, both holding the engine's
//! waiting items `T` in FIFO order.
//!
//! [`Semaphore`] follows Resilience4j's `SemaphoreBulkhead` (`BulkheadConfig`:
//! `maxConcurrentCalls` 25, `maxWaitDuration` 0, fair call handling on by default, i.e. a fair
//! `java.util.concurrent.Semaphore`). The same type models a connection pool whose size can
//! change ([`Semaphore::grow`], [`Semaphore::shrink`]). Rules:
//! - `acquire`: a free permit is taken at once; otherwise the caller waits at the back of a
//!   FIFO if waiting is allowed ([`WhenFull::Wait`], `maxWaitDuration > 0`), else it is
//!   rejected (`BulkheadFullException`).
//! - `release`: the permit passes straight to the oldest live waiter, so a newcomer can never
//!   overtake a waiter (fairness). Waiters whose wait timed out are skipped, as a fair Java
//!   semaphore unlinks cancelled nodes.
//! - The wait timeout itself is the engine's timer: when it fires the engine marks the item dead
//!   and calls `abandon`.
//!
//! [`ThreadPool`] follows Resilience4j's `ThreadPoolBulkhead`, which is a plain
//! `java.util.concurrent.ThreadPoolExecutor` (`ThreadPoolBulkheadConfig`: `queueCapacity` 100,
//! `keepAliveDuration` 20 ms, `maxThreadPoolSize` = processors, `coreThreadPoolSize` =
//! processors - 1, at least 1; an `ArrayBlockingQueue`, or a `SynchronousQueue` when the
//! capacity is 0). `ThreadPoolExecutor.execute` rules, in this order:
//! 1. fewer than `core` threads: start a new thread for the task, even if others are idle;
//! 2. offer the task to the queue: an idle thread, if any, takes it at once (the one idle the
//!    longest, as waiters on the queue's condition are woken in FIFO order); else it waits if
//!    the queue has room;
//! 3. the queue is full and fewer than `max` threads: start a new thread for it;
//! 4. otherwise reject, synchronously.
//!
//! So the pool grows past `core` only when the queue is full. A thread that finishes takes the
//! next queued task. An idle thread waits with the keep-alive timeout only if it started waiting
//! while the pool had more than `core` threads; when that timeout expires it exits if the pool
//! still has more than `core` threads, otherwise it goes back to waiting without a timeout
//! (`ThreadPoolExecutor.getTask`). Expiry is evaluated lazily from the `now` passed to each call.
//! A task whose caller gave up stays in the queue and keeps its slot until a thread dequeues and
//! skips it, as a cancelled `Future` does.

use std::collections::VecDeque;

use squall_kernel::{SimDuration, SimTime};

/// What happened to an item offered to a [`Semaphore`] or a [`ThreadPool`].
///
/// The item comes back unless the gate kept it, so the engine never loses ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "the item is handed back unless it was queued"]
pub enum Admit<T> {
    /// A permit or thread was free: the item runs now.
    Now(T),
    /// The item waits in the gate's FIFO; it comes out of `release`, `grow` or `complete`.
    Queued,
    /// No permit and no room: the item is refused at once.
    Rejected(T),
}

/// What a [`Semaphore`] does with a caller when every permit is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Refuse at once (Resilience4j `maxWaitDuration = 0`, the default).
    Reject,
    /// Wait in FIFO order; the engine bounds the wait with its own timer.
    Wait,
}

/// Resilience4j `maxConcurrentCalls` default.
pub const BULKHEAD_DEFAULT_PERMITS: u32 = 25;

/// Waiting queues shorter than this are never compacted: scanning them costs more than it saves.
const COMPACT_MIN_ABANDONED: u32 = 64;

/// A counting semaphore with an optional FIFO of waiters: Resilience4j's semaphore bulkhead, or
/// a connection pool whose size can change.
///
/// **Liveness contract.** Methods taking `live` call it on queued items; it must return false
/// exactly for items that were passed to [`Semaphore::abandon`] (the engine marks an item dead
/// before abandoning it). The semaphore counts abandoned items and asserts that the number it
/// skips matches, so a broken contract panics rather than skewing `waiting`.
#[derive(Debug, Clone)]
pub struct Semaphore<T> {
    permits: u32,
    in_use: u32,
    when_full: WhenFull,
    /// Waiters in arrival order, abandoned ones included until they are skipped.
    queue: VecDeque<T>,
    /// How many items in `queue` were abandoned.
    n_abandoned: u32,
}

impl<T> Semaphore<T> {
    /// A semaphore with `permits` permits, none in use.
    pub fn new(permits: u32, when_full: WhenFull) -> Self {
        Semaphore { permits, in_use: 0, when_full, queue: VecDeque::new(), n_abandoned: 0 }
    }

    /// Takes a permit for `item` if one is free ([`Admit::Now`]); else queues it at the back
    /// ([`Admit::Queued`]) or refuses it ([`Admit::Rejected`]), depending on [`WhenFull`].
    pub fn acquire(&mut self, item: T) -> Admit<T> {
        if self.in_use < self.permits {
            // Permits pass straight to waiters, so a free permit means nobody live is waiting.
            assert_eq!(self.waiting(), 0, "a permit was free while callers waited");
            self.in_use += 1;
            return Admit::Now(item);
        }
        match self.when_full {
            WhenFull::Reject => Admit::Rejected(item),
            WhenFull::Wait => {
                self.queue.push_back(item);
                Admit::Queued
            }
        }
    }

    /// A permit holder is done. If a live waiter exists (and the pool has not shrunk below the
    /// permits in use), the permit passes to the oldest one, which is returned and now holds
    /// it; otherwise the permit becomes free.
    ///
    /// # Panics
    /// If no permit is in use, or if `live` breaks the liveness contract.
    pub fn release(&mut self, live: impl FnMut(&T) -> bool) -> Option<T> {
        assert!(self.in_use > 0, "release without a held permit (permits {})", self.permits);
        self.in_use -= 1;
        self.hand_over(live)
    }

    /// A waiting item gave up (its wait timed out or its caller left). It stays in the queue
    /// until skipped, but no longer counts as waiting. The engine must already have made `live`
    /// return false for it. When abandoned items outnumber live ones the queue is compacted
    /// (amortised O(1)), so a pool whose permits are never released cannot grow without bound.
    ///
    /// # Panics
    /// If nothing is waiting, or if compaction finds `live` breaking the liveness contract.
    pub fn abandon(&mut self, mut live: impl FnMut(&T) -> bool) {
        assert!(self.waiting() > 0, "abandon with no live waiter (queued {})", self.queue.len());
        self.n_abandoned += 1;
        if self.n_abandoned >= COMPACT_MIN_ABANDONED && 2 * self.n_abandoned as usize > self.queue.len() {
            let before = self.queue.len();
            self.queue.retain(|item| live(item));
            let removed = before - self.queue.len();
            assert_eq!(removed, self.n_abandoned as usize, "live() disagrees with the abandon count");
            self.n_abandoned = 0;
        }
    }

    /// Adds one permit (a connection pool opened a connection). If a live waiter exists it
    /// takes the new permit and is returned. Call once per added permit.
    ///
    /// # Panics
    /// If `live` breaks the liveness contract.
    pub fn grow(&mut self, live: impl FnMut(&T) -> bool) -> Option<T> {
        self.permits = self.permits.checked_add(1).expect("permit count overflowed u32");
        self.hand_over(live)
    }

    /// Removes one permit (a connection closed). If every permit was in use, the pool is
    /// briefly over-subscribed: the next `release` frees the permit instead of handing it on.
    ///
    /// # Panics
    /// If there is no permit left to remove.
    pub fn shrink(&mut self) {
        assert!(self.permits > 0, "shrink of a semaphore with no permits");
        self.permits -= 1;
    }

    /// Gives a permit to the oldest live waiter if a permit is free.
    fn hand_over(&mut self, mut live: impl FnMut(&T) -> bool) -> Option<T> {
        if self.in_use >= self.permits {
            return None;
        }
        while let Some(item) = self.queue.pop_front() {
            if live(&item) {
                self.in_use += 1;
                return Some(item);
            }
            assert!(self.n_abandoned > 0, "live() rejected a waiter that was never abandoned");
            self.n_abandoned -= 1;
        }
        assert_eq!(self.n_abandoned, 0, "abandoned waiters outnumber queued items");
        None
    }

    /// Current number of permits.
    pub fn permits(&self) -> u32 {
        self.permits
    }

    /// Permits held. Exceeds `permits` only after a `shrink` while the pool was full.
    pub fn in_use(&self) -> u32 {
        self.in_use
    }

    /// Live waiters: queued and not abandoned.
    pub fn waiting(&self) -> u32 {
        let queued = u32::try_from(self.queue.len()).expect("more than u32::MAX waiters");
        queued - self.n_abandoned
    }
}

/// Resilience4j `ThreadPoolBulkheadConfig` default `queueCapacity`.
pub const THREAD_POOL_DEFAULT_QUEUE: u32 = 100;
/// Resilience4j `ThreadPoolBulkheadConfig` default `keepAliveDuration`.
pub const THREAD_POOL_DEFAULT_KEEP_ALIVE: SimDuration = SimDuration::from_millis(20);

/// An idle thread, waiting on the task queue since `since`; `seq` orders all waits ever begun,
/// so the longest waiter across both idle lists is the smallest `seq`.
#[derive(Debug, Clone, Copy)]
struct IdleThread {
    since: SimTime,
    seq: u64,
}

/// Java `ThreadPoolExecutor` as used by Resilience4j's thread-pool bulkhead: `core` and `max`
/// threads, a bounded FIFO task queue, and keep-alive for threads beyond `core`.
///
/// The same liveness contract as [`Semaphore`] applies to `live`: false exactly for abandoned
/// items. Abandoned items keep their queue slot until a thread skips them.
#[derive(Debug, Clone)]
pub struct ThreadPool<T> {
    core: u32,
    max: u32,
    capacity: u32,
    keep_alive: SimDuration,
    /// Threads alive, busy or idle.
    threads: u32,
    /// Threads running a task.
    busy: u32,
    queue: VecDeque<T>,
    n_abandoned: u32,
    /// Idle threads waiting with the keep-alive timeout, oldest first.
    idle_timed: VecDeque<IdleThread>,
    /// Idle threads waiting without a timeout (they began waiting with at most `core` threads).
    idle_untimed: VecDeque<IdleThread>,
    next_seq: u64,
    /// The latest `now` seen; expiry has been applied up to it.
    now: SimTime,
}

impl<T> ThreadPool<T> {
    /// A pool with no threads yet (Java starts core threads lazily, on demand).
    ///
    /// # Panics
    /// If `core` is 0 or greater than `max` (Resilience4j rejects both).
    pub fn new(core: u32, max: u32, queue_capacity: u32, keep_alive: SimDuration) -> Self {
        assert!(core >= 1, "a thread pool needs at least one core thread");
        assert!(core <= max, "core threads {core} exceed max threads {max}");
        ThreadPool {
            core,
            max,
            capacity: queue_capacity,
            keep_alive,
            threads: 0,
            busy: 0,
            queue: VecDeque::new(),
            n_abandoned: 0,
            idle_timed: VecDeque::new(),
            idle_untimed: VecDeque::new(),
            next_seq: 0,
            now: SimTime::ZERO,
        }
    }

    /// Resilience4j's defaults for a machine with `processors` CPUs: `max` = processors,
    /// `core` = processors - 1 (at least 1), queue 100, keep-alive 20 ms.
    ///
    /// # Panics
    /// If `processors` is 0.
    pub fn resilience4j_default(processors: u32) -> Self {
        assert!(processors >= 1, "a machine has at least one processor");
        let core = if processors > 1 { processors - 1 } else { 1 };
        Self::new(core, processors, THREAD_POOL_DEFAULT_QUEUE, THREAD_POOL_DEFAULT_KEEP_ALIVE)
    }

    /// Offers `item` at `now`, following `ThreadPoolExecutor.execute` (see the module doc).
    ///
    /// # Panics
    /// If `now` is earlier than a previous call's.
    pub fn submit(&mut self, now: SimTime, item: T) -> Admit<T> {
        self.expire(now);
        if self.threads < self.core {
            self.start_thread();
            return Admit::Now(item);
        }
        if self.take_idle().is_some() {
            // Idle threads drain the queue before idling, so an idle thread means it is empty.
            assert!(self.queue.is_empty(), "a thread idled with {} tasks queued", self.queue.len());
            self.busy += 1;
            return Admit::Now(item);
        }
        if self.queue_len() < self.capacity {
            self.queue.push_back(item);
            return Admit::Queued;
        }
        if self.threads < self.max {
            self.start_thread();
            return Admit::Now(item);
        }
        Admit::Rejected(item)
    }

    /// A busy thread finished its task at `now`. It takes the oldest live queued item, which is
    /// returned and now runs, or else becomes idle.
    ///
    /// # Panics
    /// If no thread is busy, if `now` goes backwards, or if `live` breaks the liveness contract.
    pub fn complete(&mut self, now: SimTime, mut live: impl FnMut(&T) -> bool) -> Option<T> {
        self.expire(now);
        assert!(self.busy > 0, "complete with no busy thread ({} threads)", self.threads);
        while let Some(item) = self.queue.pop_front() {
            if live(&item) {
                return Some(item);
            }
            assert!(self.n_abandoned > 0, "live() rejected a task that was never abandoned");
            self.n_abandoned -= 1;
        }
        assert_eq!(self.n_abandoned, 0, "abandoned tasks outnumber queued items");
        self.busy -= 1;
        let idle = IdleThread { since: now, seq: self.bump_seq() };
        if self.threads > self.core {
            self.idle_timed.push_back(idle);
        } else {
            self.idle_untimed.push_back(idle);
        }
        // With a zero keep-alive the thread exits at once, as `poll(0)` returns immediately.
        self.expire(now);
        None
    }

    /// A queued item gave up. It keeps its queue slot until a thread dequeues and skips it.
    ///
    /// # Panics
    /// If no live item is queued.
    pub fn abandon(&mut self) {
        assert!(self.queued() > 0, "abandon with no live queued task (slots {})", self.queue.len());
        self.n_abandoned += 1;
    }

    /// Applies keep-alive expiry up to `now`: idle threads waiting with a timeout that has run
    /// out exit while the pool has more than `core` threads; the rest go back to waiting
    /// without a timeout. `submit` and `complete` call this themselves; call it before reading
    /// `threads` at a time of your own.
    ///
    /// # Panics
    /// If `now` is earlier than a previous call's.
    pub fn expire(&mut self, now: SimTime) {
        assert!(now >= self.now, "time went backwards: {now:?} after {:?}", self.now);
        self.now = now;
        while let Some(front) = self.idle_timed.front().copied() {
            let deadline = front.since.saturating_add(self.keep_alive);
            if deadline > now {
                break;
            }
            self.idle_timed.pop_front();
            if self.threads > self.core {
                self.threads -= 1;
            } else {
                // `getTask` loops: not above core any more, so it waits again, untimed, at the
                // back of the queue's wait list.
                let seq = self.bump_seq();
                self.idle_untimed.push_back(IdleThread { since: deadline, seq });
            }
        }
        debug_assert_eq!(self.idle(), self.threads - self.busy, "idle lists disagree with counts");
    }

    fn start_thread(&mut self) {
        assert!(self.threads < self.max, "thread count {} would exceed max {}", self.threads, self.max);
        self.threads += 1;
        self.busy += 1;
    }

    /// Removes and returns the thread idle the longest, if any.
    fn take_idle(&mut self) -> Option<IdleThread> {
        let timed = self.idle_timed.front().map(|t| t.seq);
        let untimed = self.idle_untimed.front().map(|t| t.seq);
        match (timed, untimed) {
            (Some(a), Some(b)) if a < b => self.idle_timed.pop_front(),
            (Some(_), Some(_)) | (None, Some(_)) => self.idle_untimed.pop_front(),
            (Some(_), None) => self.idle_timed.pop_front(),
            (None, None) => None,
        }
    }

    fn bump_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Threads alive (as of the latest call's `now`).
    pub fn threads(&self) -> u32 {
        self.threads
    }

    /// Threads running a task.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Threads alive but waiting for a task.
    pub fn idle(&self) -> u32 {
        u32::try_from(self.idle_timed.len() + self.idle_untimed.len()).expect("idle count fits u32")
    }

    /// Live queued items (abandoned ones excluded).
    pub fn queued(&self) -> u32 {
        self.queue_len() - self.n_abandoned
    }

    /// Occupied queue slots, abandoned items included: what the capacity check counts.
    pub fn queue_len(&self) -> u32 {
        u32::try_from(self.queue.len()).expect("queue length bounded by a u32 capacity")
    }

    /// Core thread count.
    pub fn core(&self) -> u32 {
        self.core
    }

    /// Maximum thread count.
    pub fn max(&self) -> u32 {
        self.max
    }

    /// Queue capacity.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: u64 = 1_000_000;

    fn t(ms: u64) -> SimTime {
        SimTime(ms * MS)
    }

    fn alive(_: &u32) -> bool {
        true
    }

    #[test]
    fn semaphore_rejects_when_full_and_not_waiting() {
        let mut s = Semaphore::new(2, WhenFull::Reject);
        assert_eq!(s.acquire(1), Admit::Now(1));
        assert_eq!(s.acquire(2), Admit::Now(2));
        assert_eq!(s.acquire(3), Admit::Rejected(3));
        assert_eq!(s.release(alive), None);
        assert_eq!(s.in_use(), 1);
        assert_eq!(s.acquire(4), Admit::Now(4));
    }

    #[test]
    fn semaphore_hands_the_permit_to_the_oldest_live_waiter() {
        let mut s = Semaphore::new(1, WhenFull::Wait);
        assert_eq!(s.acquire(1), Admit::Now(1));
        assert_eq!(s.acquire(2), Admit::Queued);
        assert_eq!(s.acquire(3), Admit::Queued);
        assert_eq!(s.acquire(4), Admit::Queued);
        assert_eq!(s.waiting(), 3);
        // Waiter 2 times out.
        let dead = [2u32];
        s.abandon(|x| !dead.contains(x));
        assert_eq!(s.waiting(), 2);
        assert_eq!(s.release(|x| !dead.contains(x)), Some(3));
        assert_eq!(s.in_use(), 1, "the permit passed on; it was not freed");
        assert_eq!(s.release(|x| !dead.contains(x)), Some(4));
        assert_eq!(s.release(|x| !dead.contains(x)), None);
        assert_eq!((s.in_use(), s.waiting()), (0, 0));
    }

    #[test]
    fn connection_pool_growth_serves_waiters_one_permit_at_a_time() {
        let mut s = Semaphore::new(0, WhenFull::Wait);
        assert_eq!(s.acquire(7), Admit::Queued);
        assert_eq!(s.acquire(8), Admit::Queued);
        assert_eq!(s.grow(alive), Some(7));
        assert_eq!(s.grow(alive), Some(8));
        assert_eq!(s.grow(alive), None);
        assert_eq!((s.permits(), s.in_use()), (3, 2));
        // A connection closes while two are busy; one permit stays free.
        s.shrink();
        assert_eq!(s.acquire(9), Admit::Queued);
        s.shrink();
        assert_eq!((s.permits(), s.in_use()), (1, 2));
        assert_eq!(s.release(alive), None, "over-subscribed: the permit is retired, not handed on");
        assert_eq!(s.release(alive), Some(9));
    }

    #[test]
    fn abandoned_waiters_are_compacted_when_they_dominate() {
        let mut s = Semaphore::new(1, WhenFull::Wait);
        assert_eq!(s.acquire(0), Admit::Now(0));
        for i in 1..=200u32 {
            assert_eq!(s.acquire(i), Admit::Queued);
        }
        // Everyone except 200 gives up, in order.
        for i in 1..200u32 {
            s.abandon(|x| *x > i);
        }
        assert!(s.queue.len() < 150, "compaction ran: {} slots", s.queue.len());
        assert_eq!(s.waiting(), 1);
        assert_eq!(s.release(|x| *x == 200), Some(200));
    }

    #[test]
    fn pool_starts_core_threads_then_queues_then_grows_then_rejects() {
        // core 1, max 2, queue 2.
        let mut p = ThreadPool::new(1, 2, 2, SimDuration::from_millis(20));
        assert_eq!(p.submit(t(0), 1), Admit::Now(1));
        assert_eq!(p.submit(t(0), 2), Admit::Queued);
        assert_eq!(p.submit(t(0), 3), Admit::Queued);
        assert_eq!(p.threads(), 1, "no growth past core while the queue has room");
        assert_eq!(p.submit(t(0), 4), Admit::Now(4));
        assert_eq!(p.threads(), 2);
        assert_eq!(p.submit(t(0), 5), Admit::Rejected(5));
        assert_eq!(p.complete(t(1), alive), Some(2), "FIFO: the oldest queued task runs next");
        assert_eq!(p.complete(t(1), alive), Some(3));
        assert_eq!(p.complete(t(1), alive), None);
        assert_eq!((p.busy(), p.idle()), (1, 1));
    }

    #[test]
    fn pool_starts_a_new_core_thread_even_when_one_is_idle() {
        let mut p = ThreadPool::new(2, 2, 10, SimDuration::ZERO);
        assert_eq!(p.submit(t(0), 1), Admit::Now(1));
        assert_eq!(p.complete(t(1), alive), None);
        assert_eq!((p.threads(), p.idle()), (1, 1));
        assert_eq!(p.submit(t(2), 2), Admit::Now(2));
        assert_eq!((p.threads(), p.busy(), p.idle()), (2, 1, 1));
        // At core, an idle thread takes the task instead of it queueing.
        assert_eq!(p.submit(t(3), 3), Admit::Now(3));
        assert_eq!((p.threads(), p.busy(), p.queued()), (2, 2, 0));
    }

    #[test]
    fn threads_beyond_core_die_after_keep_alive() {
        let mut p = ThreadPool::new(1, 3, 1, SimDuration::from_millis(20));
        assert_eq!(p.submit(t(0), 1), Admit::Now(1));
        assert_eq!(p.submit(t(0), 2), Admit::Queued);
        assert_eq!(p.submit(t(0), 3), Admit::Now(3));
        assert_eq!(p.threads(), 2);
        // The extra thread finishes at 5 ms and waits with the 20 ms timeout (2 > core).
        assert_eq!(p.complete(t(5), alive), Some(2));
        assert_eq!(p.complete(t(5), alive), None);
        p.expire(t(24));
        assert_eq!(p.threads(), 2);
        p.expire(t(25));
        assert_eq!((p.threads(), p.busy(), p.idle()), (1, 1, 0));
        // The last thread finishes at core size: it waits forever.
        assert_eq!(p.complete(t(30), alive), None);
        p.expire(t(10_000));
        assert_eq!((p.threads(), p.idle()), (1, 1));
    }

    #[test]
    fn a_timed_out_thread_at_core_size_waits_again_without_timeout() {
        // core 1, max 2, queue 1: threads A and B; both go idle while 2 > core (timed).
        let mut p = ThreadPool::new(1, 2, 1, SimDuration::from_millis(10));
        assert_eq!(p.submit(t(0), 1), Admit::Now(1));
        assert_eq!(p.submit(t(0), 2), Admit::Queued);
        assert_eq!(p.submit(t(0), 3), Admit::Now(3));
        assert_eq!(p.complete(t(1), alive), Some(2));
        assert_eq!(p.complete(t(2), alive), None);
        assert_eq!(p.complete(t(3), alive), None);
        assert_eq!(p.idle(), 2);
        // At 12 ms the first times out and exits; at 13 ms the second times out at core size
        // and stays, now untimed.
        p.expire(t(13));
        assert_eq!((p.threads(), p.idle()), (1, 1));
        p.expire(t(1_000));
        assert_eq!(p.threads(), 1);
    }

    #[test]
    fn the_longest_idle_thread_takes_new_work() {
        // core 1, max 2; thread A idles untimed at 0, thread B idles timed later.
        let mut p = ThreadPool::new(1, 2, 1, SimDuration::from_millis(10));
        assert_eq!(p.submit(t(0), 1), Admit::Now(1));
        assert_eq!(p.submit(t(0), 2), Admit::Queued);
        assert_eq!(p.submit(t(0), 3), Admit::Now(3));
        assert_eq!(p.complete(t(1), alive), Some(2));
        // A finishes 2 at 2 ms with 2 threads: timed. B finishes 3 at 4 ms: timed too.
        assert_eq!(p.complete(t(2), alive), None);
        assert_eq!(p.complete(t(4), alive), None);
        // New work at 5 ms goes to A (idle since 2 ms); B keeps ageing and dies at 14 ms.
        assert_eq!(p.submit(t(5), 4), Admit::Now(4));
        p.expire(t(14));
        assert_eq!((p.threads(), p.busy(), p.idle()), (1, 1, 0));
    }

    #[test]
    fn zero_capacity_hands_off_to_idle_threads_or_grows() {
        // Resilience4j uses a SynchronousQueue for capacity 0.
        let mut p = ThreadPool::new(1, 2, 0, SimDuration::from_millis(20));
        assert_eq!(p.submit(t(0), 1), Admit::Now(1));
        assert_eq!(p.submit(t(0), 2), Admit::Now(2));
        assert_eq!(p.submit(t(0), 3), Admit::Rejected(3));
        assert_eq!(p.complete(t(1), alive), None);
        assert_eq!(p.submit(t(1), 4), Admit::Now(4));
    }

    #[test]
    fn abandoned_tasks_hold_their_slot_until_skipped() {
        let mut p = ThreadPool::new(1, 1, 2, SimDuration::ZERO);
        assert_eq!(p.submit(t(0), 1), Admit::Now(1));
        assert_eq!(p.submit(t(0), 2), Admit::Queued);
        assert_eq!(p.submit(t(0), 3), Admit::Queued);
        p.abandon();
        assert_eq!((p.queued(), p.queue_len()), (1, 2));
        assert_eq!(p.submit(t(0), 4), Admit::Rejected(4), "the abandoned task still fills a slot");
        assert_eq!(p.complete(t(1), |x| *x != 2), Some(3));
        assert_eq!(p.queue_len(), 0);
    }

    #[test]
    fn resilience4j_defaults() {
        let p: ThreadPool<u32> = ThreadPool::resilience4j_default(4);
        assert_eq!((p.core(), p.max(), p.capacity()), (3, 4, 100));
        let p: ThreadPool<u32> = ThreadPool::resilience4j_default(1);
        assert_eq!((p.core(), p.max()), (1, 1));
    }

    #[derive(Debug, Clone)]
    enum SemOp {
        Acquire,
        Release,
        Abandon(usize),
        Grow,
    }

    fn sem_op() -> impl Strategy<Value = SemOp> {
        prop_oneof![
            3 => Just(SemOp::Acquire),
            3 => Just(SemOp::Release),
            1 => any::<usize>().prop_map(SemOp::Abandon),
            1 => Just(SemOp::Grow),
        ]
    }

    proptest! {
        #[test]
        fn semaphore_never_over_grants_and_serves_waiters_in_fifo_order(
            permits in 0u32..5,
            ops in proptest::collection::vec(sem_op(), 1..200),
        ) {
            let mut s = Semaphore::new(permits, WhenFull::Wait);
            let mut dead: Vec<bool> = Vec::new();
            // Reference model: live waiters in arrival order.
            let mut waiters: VecDeque<u32> = VecDeque::new();
            let mut held = 0u32;
            for op in ops {
                match op {
                    SemOp::Acquire => {
                        let id = dead.len() as u32;
                        dead.push(false);
                        match s.acquire(id) {
                            Admit::Now(x) => { prop_assert_eq!(x, id); held += 1; }
                            Admit::Queued => waiters.push_back(id),
                            Admit::Rejected(_) => prop_assert!(false, "WhenFull::Wait never rejects"),
                        }
                    }
                    SemOp::Release if held > 0 => {
                        held -= 1;
                        let got = s.release(|x| !dead[*x as usize]);
                        if let Some(x) = got {
                            prop_assert_eq!(Some(x), waiters.pop_front(), "not the oldest live waiter");
                            held += 1;
                        } else {
                            prop_assert!(waiters.is_empty());
                        }
                    }
                    SemOp::Release => {}
                    SemOp::Abandon(i) if !waiters.is_empty() => {
                        let id = waiters.remove(i % waiters.len()).unwrap();
                        dead[id as usize] = true;
                        s.abandon(|x| !dead[*x as usize]);
                    }
                    SemOp::Abandon(_) => {}
                    SemOp::Grow => {
                        if let Some(x) = s.grow(|x| !dead[*x as usize]) {
                            prop_assert_eq!(Some(x), waiters.pop_front());
                            held += 1;
                        }
                    }
                }
                prop_assert!(s.in_use() <= s.permits(), "in use {} > permits {}", s.in_use(), s.permits());
                prop_assert_eq!(s.in_use(), held);
                prop_assert_eq!(s.waiting() as usize, waiters.len());
                prop_assert!(s.waiting() == 0 || s.in_use() == s.permits(), "a permit idles while callers wait");
            }
        }
    }

    #[derive(Debug, Clone)]
    enum PoolOp {
        Submit(u64),
        Complete(u64),
        Abandon(usize),
    }

    fn pool_op() -> impl Strategy<Value = PoolOp> {
        prop_oneof![
            4 => (0u64..5_000_000).prop_map(PoolOp::Submit),
            3 => (0u64..5_000_000).prop_map(PoolOp::Complete),
            1 => any::<usize>().prop_map(PoolOp::Abandon),
        ]
    }

    proptest! {
        #[test]
        fn pool_respects_its_bounds_and_grows_past_core_only_when_the_queue_is_full(
            core in 1u32..4,
            extra in 0u32..4,
            capacity in 0u32..5,
            keep_alive_ns in 0u64..10_000_000,
            ops in proptest::collection::vec(pool_op(), 1..300),
        ) {
            let max = core + extra;
            let mut p = ThreadPool::new(core, max, capacity, SimDuration(keep_alive_ns));
            let mut now = SimTime::ZERO;
            let mut dead: Vec<bool> = Vec::new();
            let mut queued: VecDeque<u32> = VecDeque::new();
            for op in ops {
                match op {
                    PoolOp::Submit(dt) => {
                        now += SimDuration(dt);
                        p.expire(now);
                        let (threads_before, len_before, idle_before) = (p.threads(), p.queue_len(), p.idle());
                        let id = dead.len() as u32;
                        dead.push(false);
                        match p.submit(now, id) {
                            Admit::Now(_) => {
                                if p.threads() > threads_before && threads_before >= core {
                                    prop_assert_eq!(len_before, capacity, "grew past core with queue room");
                                    prop_assert_eq!(idle_before, 0, "grew past core with an idle thread");
                                }
                            }
                            Admit::Queued => {
                                prop_assert_eq!(idle_before, 0, "queued while a thread idled");
                                queued.push_back(id);
                            }
                            Admit::Rejected(_) => {
                                prop_assert_eq!(threads_before, max);
                                prop_assert_eq!(len_before, capacity);
                            }
                        }
                    }
                    PoolOp::Complete(dt) if p.busy() > 0 => {
                        now += SimDuration(dt);
                        let got = p.complete(now, |x| !dead[*x as usize]);
                        prop_assert_eq!(got, queued.pop_front(), "tasks must run in FIFO order");
                    }
                    PoolOp::Complete(_) => {}
                    PoolOp::Abandon(i) if !queued.is_empty() => {
                        let id = queued.remove(i % queued.len()).unwrap();
                        dead[id as usize] = true;
                        p.abandon();
                    }
                    PoolOp::Abandon(_) => {}
                }
                prop_assert!(p.threads() <= max);
                prop_assert!(p.queue_len() <= capacity);
                prop_assert!(p.busy() <= p.threads());
                prop_assert_eq!(p.idle(), p.threads() - p.busy());
                prop_assert_eq!(p.queued() as usize, queued.len());
                prop_assert!(p.idle() == 0 || p.queue_len() == 0, "idle threads beside a queued task");
            }
        }
    }
}
