//! A deadline and the clock that reads it.
//!
//! A logical request's deadline is a true time. An attempt carries it to the server either
//! on its sender's wall clock (an absolute deadline, which a server with a skewed clock
//! misreads) or as a true time (a relative deadline, a duration turned back into a time on
//! arrival, which no clock moves): its [`Clock`]. Every reading goes through
//! [`Deadline::remaining_ns`], the one place a clock's skew is applied.

use squall_kernel::SimTime;

/// When an answer is due, in ns on some clock, or never.
///
/// Eight bytes, like the time it replaces: "none" is a value no deadline takes (`i64::MAX`),
/// kept inside the type. Request and logical-request slots hold one each.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(super) struct Deadline(i64);

/// Which clock reads a deadline an attempt carries.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Clock {
    /// A time on the sender's wall clock: each reader compares it with its own (skewed) one.
    Wall,
    /// A true time: no clock's skew applies.
    True,
}

impl Clock {
    /// The skew a reader whose clock runs `reader_skew_ns` ahead of true time reads with.
    #[inline]
    pub fn skew_ns(self, reader_skew_ns: i64) -> i64 {
        match self {
            Clock::Wall => reader_skew_ns,
            Clock::True => 0,
        }
    }
}

impl Deadline {
    /// No deadline.
    pub const NONE: Deadline = Deadline(i64::MAX);

    /// True time `at` as a clock `skew_ns` ahead of true time reads it (a time past 2^63 ns,
    /// 292 years, is no deadline).
    #[inline]
    pub fn on_clock(at: SimTime, skew_ns: i64) -> Deadline {
        Deadline(i64::try_from(at.as_nanos()).unwrap_or(i64::MAX).saturating_add(skew_ns))
    }

    /// True time `at`, read without skew.
    #[inline]
    pub fn at(at: SimTime) -> Deadline {
        Deadline::on_clock(at, 0)
    }

    /// Its time on its clock, if it has one (for a true-time deadline, the true time).
    #[inline]
    pub fn time(self) -> Option<SimTime> {
        (self != Deadline::NONE).then(|| SimTime(self.0.max(0) as u64))
    }

    /// What is left of it at true time `now`, read on a clock `skew_ns` ahead of true time
    /// (zero or negative once it has passed); `None` without a deadline.
    #[inline]
    pub fn remaining_ns(self, now: SimTime, skew_ns: i64) -> Option<i64> {
        (self != Deadline::NONE)
            .then(|| self.0.saturating_sub((now.as_nanos() as i64).saturating_add(skew_ns)))
    }

    /// Whether it has passed at true time `now` on a clock `skew_ns` ahead of true time.
    #[inline]
    pub fn passed(self, now: SimTime, skew_ns: i64) -> bool {
        self.remaining_ns(now, skew_ns).is_some_and(|left| left <= 0)
    }
}

impl std::fmt::Debug for Deadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.time() {
            None => f.write_str("Deadline::NONE"),
            Some(_) => write!(f, "Deadline({} ns)", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_deadline_never_passes() {
        assert_eq!(Deadline::NONE.remaining_ns(SimTime(u64::MAX / 2), 5), None);
        assert!(!Deadline::NONE.passed(SimTime(u64::MAX / 2), -5));
        assert_eq!(Deadline::NONE.time(), None);
        assert_eq!(std::mem::size_of::<Deadline>(), 8);
    }

    #[test]
    fn a_true_time_is_read_without_skew() {
        let d = Deadline::at(SimTime(1_000));
        assert_eq!(d.time(), Some(SimTime(1_000)));
        assert_eq!(d.remaining_ns(SimTime(400), Clock::True.skew_ns(550)), Some(600));
        assert!(!d.passed(SimTime(999), Clock::True.skew_ns(10_000)));
        assert!(d.passed(SimTime(1_000), Clock::True.skew_ns(-10_000)));
    }

    #[test]
    fn a_wall_clock_deadline_is_read_on_the_readers_clock() {
        // Sent by a clock 100 ns ahead: due at true time 1,000, which it reads as 1,100.
        let d = Deadline::on_clock(SimTime(1_000), 100);
        assert_eq!(d.time(), Some(SimTime(1_100)));
        // The sender's own clock reads it right; a reader 300 ns ahead sees it pass early.
        assert_eq!(d.remaining_ns(SimTime(400), Clock::Wall.skew_ns(100)), Some(600));
        assert_eq!(d.remaining_ns(SimTime(400), Clock::Wall.skew_ns(300)), Some(400));
        assert!(d.passed(SimTime(800), 300));
        assert!(!d.passed(SimTime(999), 100));
        assert!(d.passed(SimTime(1_000), 100));
    }

    #[test]
    fn a_clock_behind_true_time_can_give_a_deadline_before_zero() {
        let d = Deadline::on_clock(SimTime(10), -100);
        assert_eq!(d.remaining_ns(SimTime(0), -100), Some(10));
        assert!(d.passed(SimTime(10), -100));
    }
}
