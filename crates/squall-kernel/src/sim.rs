//! The scheduler a model schedules into, and the run loop that drives a model.
//!
//! A model is a plain struct with one `on_event` method over its own closed event enum; the
//! loop pops the earliest event and hands it over by value. Nothing is boxed and nothing is
//! allocated per event: events are moved into and out of the queue's preallocated storage.

use crate::queue::{Entry, EventQueue, DEFAULT_SLOT_SHIFT, NO_TIMER};
use crate::time::{SimDuration, SimTime};

/// A simulated system: reacts to its own events by changing state and scheduling more.
pub trait Model {
    /// The model's events: a closed enum of plain data.
    type Event;
    /// Handles one event at time `now` (equal to `sched.now()`).
    fn on_event(&mut self, now: SimTime, event: Self::Event, sched: &mut Scheduler<Self::Event>);
}

/// A handle to a cancellable event. Cancelling is O(1): the entry stays in the queue and is
/// skipped when it comes up ("lazy cancellation"), so no search of the queue ever happens.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TimerId {
    index: u32,
    gen: u32,
}

/// Where a model's events wait, and the current time.
pub struct Scheduler<E> {
    now: SimTime,
    seq: u64,
    queue: EventQueue<E>,
    /// Generation per timer index; a pending timer's entry carries the generation it was
    /// created with, and any mismatch at pop time means it was cancelled.
    timer_gens: Vec<u32>,
    free_timers: Vec<u32>,
    n_timers_live: usize,
    /// Plain (not cancellable) events in the queue; with the live timers, what is not dead.
    n_plain: usize,
    halt: Option<String>,
    /// Events handled plus work the model charged ([`Scheduler::charge`]), against
    /// `max_work`, the run's event limit.
    n_work: u64,
    max_work: u64,
}

/// Cancelled timers may wait in the queue until their time comes; once they number more than
/// this and more than the live entries, the queue is swept, so memory follows what is pending
/// rather than how many timers were ever cancelled. Each sweep costs O(entries) and follows at
/// least as many cancellations, so a cancel stays O(1) amortised.
const SWEEP_MIN_DEAD: usize = 1 << 16;

impl<E> Scheduler<E> {
    /// An empty scheduler at time zero, with slots of `2^slot_shift` ns in its timer ring.
    pub fn new(slot_shift: u32) -> Self {
        Scheduler {
            now: SimTime::ZERO,
            seq: 0,
            queue: EventQueue::new(slot_shift),
            timer_gens: Vec::new(),
            free_timers: Vec::new(),
            n_timers_live: 0,
            n_plain: 0,
            halt: None,
            n_work: 0,
            max_work: u64::MAX,
        }
    }

    /// Counts `n` units of work that are not events (an arrival candidate that thinning
    /// rejected, say) toward the run's event limit, so work a model does between events is
    /// bounded too. Returns whether the limit still leaves room; once it does not, the run
    /// stops before its next event with [`Pause::EventLimit`].
    #[inline]
    pub fn charge(&mut self, n: u64) -> bool {
        self.n_work = self.n_work.saturating_add(n);
        self.n_work < self.max_work
    }

    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `time`.
    ///
    /// # Panics
    /// If `time` is before now: an event in the past would silently reorder history.
    #[inline]
    pub fn at(&mut self, time: SimTime, event: E) {
        self.n_plain += 1;
        self.push(time, NO_TIMER, 0, event);
    }

    /// Schedules `event` after `delay`. Delays that would pass `SimTime::MAX` saturate there.
    #[inline]
    pub fn after(&mut self, delay: SimDuration, event: E) {
        self.n_plain += 1;
        self.push(self.now.saturating_add(delay), NO_TIMER, 0, event);
    }

    /// Schedules a cancellable `event` at `time`.
    ///
    /// # Panics
    /// If `time` is before now, or more than `u32::MAX - 1` timers are live at once.
    pub fn timer_at(&mut self, time: SimTime, event: E) -> TimerId {
        let index = match self.free_timers.pop() {
            Some(i) => i,
            None => {
                let i = u32::try_from(self.timer_gens.len()).expect("fewer than 2^32 live timers");
                assert!(i != NO_TIMER, "too many live timers");
                self.timer_gens.push(0);
                i
            }
        };
        let gen = self.timer_gens[index as usize];
        self.n_timers_live += 1;
        self.push(time, index, gen, event);
        TimerId { index, gen }
    }

    /// Schedules a cancellable `event` after `delay`.
    pub fn timer_after(&mut self, delay: SimDuration, event: E) -> TimerId {
        self.timer_at(self.now.saturating_add(delay), event)
    }

    /// Cancels a timer. Returns false if it already fired or was already cancelled.
    pub fn cancel(&mut self, timer: TimerId) -> bool {
        let gen = &mut self.timer_gens[timer.index as usize];
        if *gen != timer.gen {
            return false;
        }
        *gen = gen.wrapping_add(1);
        self.free_timers.push(timer.index);
        self.n_timers_live -= 1;
        let dead = self.queue.len() - self.n_timers_live - self.n_plain;
        if dead > SWEEP_MIN_DEAD && dead > self.n_timers_live + self.n_plain {
            self.sweep();
        }
        true
    }

    /// Drops every cancelled timer from the queue (see [`SWEEP_MIN_DEAD`]).
    #[cold]
    fn sweep(&mut self) {
        let gens = &self.timer_gens;
        self.queue.compact(&|e: &Entry<E>| {
            e.timer_index == NO_TIMER || gens[e.timer_index as usize] == e.timer_gen
        });
    }

    /// Asks the run loop to stop after the current event, with a reason for the user.
    pub fn halt(&mut self, reason: String) {
        if self.halt.is_none() {
            self.halt = Some(reason);
        }
    }

    /// Entries in the queue, including cancelled timers not yet skipped.
    pub fn n_pending(&self) -> usize {
        self.queue.len()
    }

    /// Timers scheduled and neither fired nor cancelled.
    pub fn n_timers_live(&self) -> usize {
        self.n_timers_live
    }

    #[inline]
    fn push(&mut self, time: SimTime, timer_index: u32, timer_gen: u32, event: E) {
        assert!(time >= self.now, "event scheduled in the past: {time:?} < now {:?}", self.now);
        let seq = self.seq;
        self.seq += 1;
        self.queue.push(Entry { time: time.0, seq, timer_index, timer_gen, event });
    }

    /// Pops the next live event at or before `until`, skipping cancelled timers.
    #[inline]
    fn pop_until(&mut self, until: SimTime) -> Option<E> {
        loop {
            let gens = &self.timer_gens;
            let live =
                |e: &Entry<E>| e.timer_index == NO_TIMER || gens[e.timer_index as usize] == e.timer_gen;
            let entry = self.queue.pop_until(until.0, &live)?;
            if entry.timer_index == NO_TIMER {
                self.n_plain -= 1;
            } else {
                let gen = &mut self.timer_gens[entry.timer_index as usize];
                if *gen != entry.timer_gen {
                    continue; // Cancelled: its index is already free.
                }
                *gen = gen.wrapping_add(1);
                self.free_timers.push(entry.timer_index);
                self.n_timers_live -= 1;
            }
            assert!(entry.time >= self.now.0, "queue popped {} before now {:?}", entry.time, self.now);
            self.now = SimTime(entry.time);
            return Some(entry.event);
        }
    }
}

/// Why a call to [`Simulation::run_until`] returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pause {
    /// Every event at or before the requested time was handled; time now equals it.
    Reached,
    /// No event is pending at all.
    Idle,
    /// The event limit was hit; the events so far were handled.
    EventLimit,
    /// The model asked to stop, with its reason.
    Halted(String),
}

/// A model, its scheduler and the run's counters.
pub struct Simulation<M: Model> {
    /// The simulated system, owned by the simulation during the run.
    pub model: M,
    sched: Scheduler<M::Event>,
    n_events: u64,
}

impl<M: Model> Simulation<M> {
    /// A simulation of `model`, handling at most `max_events` events in all (work the model
    /// charges with [`Scheduler::charge`] counts as events).
    pub fn new(model: M, max_events: u64) -> Self {
        Self::with_slot_shift(model, max_events, DEFAULT_SLOT_SHIFT)
    }

    /// As [`Simulation::new`], with timer-ring slots of `2^slot_shift` ns.
    pub fn with_slot_shift(model: M, max_events: u64, slot_shift: u32) -> Self {
        let mut sched = Scheduler::new(slot_shift);
        sched.max_work = max_events;
        Simulation { model, sched, n_events: 0 }
    }

    /// The scheduler, to seed initial events before running.
    pub fn scheduler(&mut self) -> &mut Scheduler<M::Event> {
        &mut self.sched
    }

    /// The model and the scheduler at once, so a model can schedule its first events.
    pub fn parts(&mut self) -> (&mut M, &mut Scheduler<M::Event>) {
        (&mut self.model, &mut self.sched)
    }

    /// Ends the simulation and hands back the model.
    pub fn into_model(self) -> M {
        self.model
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.sched.now
    }

    /// Events handled so far (cancelled timers are not events).
    pub fn n_events(&self) -> u64 {
        self.n_events
    }

    /// Handles events in `(time, seq)` order until the next one is after `until`, then sets
    /// the clock to `until`. Call it repeatedly with growing `until` to run in chunks (for
    /// progress display); the result is the same as one call.
    pub fn run_until(&mut self, until: SimTime) -> Pause {
        if let Some(reason) = &self.sched.halt {
            return Pause::Halted(reason.clone());
        }
        loop {
            if self.sched.n_work >= self.sched.max_work {
                return Pause::EventLimit;
            }
            let Some(event) = self.sched.pop_until(until) else {
                if self.sched.queue.len() == 0 {
                    if until > self.sched.now && until != SimTime::MAX {
                        self.sched.now = until;
                    }
                    return Pause::Idle;
                }
                if until > self.sched.now {
                    self.sched.now = until;
                }
                return Pause::Reached;
            };
            self.n_events += 1;
            self.sched.n_work += 1;
            let now = self.sched.now;
            self.model.on_event(now, event, &mut self.sched);
            if let Some(reason) = &self.sched.halt {
                return Pause::Halted(reason.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what it sees; event `n` schedules `n - 1` more after 1 ns and a cancelled timer.
    struct Recorder {
        seen: Vec<(u64, u32)>,
    }

    impl Model for Recorder {
        type Event = u32;
        fn on_event(&mut self, now: SimTime, event: u32, sched: &mut Scheduler<u32>) {
            self.seen.push((now.0, event));
            if event > 0 {
                sched.after(SimDuration(1), event - 1);
                let t = sched.timer_after(SimDuration(1), 999);
                assert!(sched.cancel(t));
                assert!(!sched.cancel(t));
            }
        }
    }

    #[test]
    fn cancelled_timers_never_fire_and_their_slots_are_reused() {
        let mut sim = Simulation::new(Recorder { seen: vec![] }, 1000);
        sim.scheduler().at(SimTime(10), 3);
        assert_eq!(sim.run_until(SimTime::MAX), Pause::Idle);
        assert_eq!(sim.model.seen, vec![(10, 3), (11, 2), (12, 1), (13, 0)]);
        assert_eq!(sim.n_events(), 4);
        assert_eq!(sim.scheduler().timer_gens.len(), 1, "one timer index, reused");
        assert_eq!(sim.scheduler().n_timers_live(), 0);
    }

    #[test]
    fn a_live_timer_fires_once() {
        let mut sim = Simulation::new(Recorder { seen: vec![] }, 1000);
        let t = sim.scheduler().timer_at(SimTime(5), 0);
        assert_eq!(sim.run_until(SimTime(100)), Pause::Idle);
        assert_eq!(sim.model.seen, vec![(5, 0)]);
        assert!(!sim.scheduler().cancel(t), "a fired timer cannot be cancelled");
    }

    #[test]
    fn running_in_chunks_equals_running_at_once() {
        let mut a = Simulation::new(Recorder { seen: vec![] }, 1000);
        let mut b = Simulation::new(Recorder { seen: vec![] }, 1000);
        for sim in [&mut a, &mut b] {
            sim.scheduler().at(SimTime(0), 50);
            sim.scheduler().at(SimTime(20), 7);
        }
        a.run_until(SimTime::MAX);
        for t in (0..100).step_by(3) {
            let pause = b.run_until(SimTime(t));
            assert!(matches!(pause, Pause::Reached | Pause::Idle), "{pause:?}");
            assert_eq!(b.now(), SimTime(t));
        }
        b.run_until(SimTime::MAX);
        assert_eq!(a.model.seen, b.model.seen);
    }

    #[test]
    fn the_event_limit_stops_the_run() {
        let mut sim = Simulation::new(Recorder { seen: vec![] }, 3);
        sim.scheduler().at(SimTime(0), 10);
        assert_eq!(sim.run_until(SimTime::MAX), Pause::EventLimit);
        assert_eq!(sim.model.seen.len(), 3);
    }

    /// Each event arms a timeout a second away and cancels it at once (a request refused
    /// before its timeout could matter); every tenth timer stays live.
    struct Refuser {
        fired: Vec<u64>,
        peak_pending: usize,
    }

    impl Model for Refuser {
        type Event = u64;
        fn on_event(&mut self, now: SimTime, event: u64, sched: &mut Scheduler<u64>) {
            if event >= 1 << 40 {
                self.fired.push(event - (1 << 40));
                return;
            }
            let t = sched.timer_at(now + SimDuration(1_000_000_000), (1 << 40) + event);
            if event % 10 != 0 {
                assert!(sched.cancel(t));
            }
            if event + 1 < 1_000_000 {
                sched.after(SimDuration(100), event + 1);
            }
            self.peak_pending = self.peak_pending.max(sched.n_pending());
        }
    }

    #[test]
    fn cancelled_timers_do_not_pile_up_and_live_ones_still_fire_in_order() {
        let mut sim = Simulation::new(Refuser { fired: vec![], peak_pending: 0 }, u64::MAX);
        sim.scheduler().at(SimTime(0), 0);
        assert_eq!(sim.run_until(SimTime::MAX), Pause::Idle);
        // 1 M timers armed within 0.1 s, each pending for 1 s: without sweeps all would wait.
        let live = 100_000;
        assert!(
            sim.model.peak_pending <= 2 * (live + SWEEP_MIN_DEAD) + 2,
            "{} entries pending at the peak",
            sim.model.peak_pending
        );
        assert_eq!(sim.model.fired, (0..1_000_000).step_by(10).collect::<Vec<u64>>());
        assert_eq!(sim.scheduler().n_pending(), 0);
    }

    /// Each event charges 9 units of work beside itself.
    struct Charger;

    impl Model for Charger {
        type Event = ();
        fn on_event(&mut self, _now: SimTime, _event: (), sched: &mut Scheduler<()>) {
            sched.charge(9);
            sched.after(SimDuration(1), ());
        }
    }

    // Issue 18: work a model charges between events counts toward the event limit.
    #[test]
    fn charged_work_counts_toward_the_event_limit() {
        let mut sim = Simulation::new(Charger, 1000);
        sim.scheduler().at(SimTime::ZERO, ());
        assert!(matches!(sim.run_until(SimTime::MAX), Pause::EventLimit));
        assert_eq!(sim.n_events(), 100);
    }

    #[test]
    #[should_panic(expected = "event scheduled in the past")]
    fn scheduling_in_the_past_panics() {
        let mut sched: Scheduler<u8> = Scheduler::new(DEFAULT_SLOT_SHIFT);
        sched.now = SimTime(10);
        sched.at(SimTime(9), 0);
    }
}
