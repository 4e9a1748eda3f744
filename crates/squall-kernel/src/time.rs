//! Simulated time: integer nanoseconds, never floats.
//!
//! `SimTime` is an instant since the start of a run; `SimDuration` is a span. Both wrap a `u64`
//! of nanoseconds, which covers about 584 years, far beyond any run. Arithmetic that could
//! overflow saturates at `SimTime::MAX` (used as "never") or asserts, so an absurd value in a
//! scenario cannot wrap around into the past.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Nanoseconds per microsecond, millisecond, second, minute and hour.
pub const NS_PER_US: u64 = 1_000;
/// Nanoseconds per millisecond.
pub const NS_PER_MS: u64 = 1_000_000;
/// Nanoseconds per second.
pub const NS_PER_S: u64 = 1_000_000_000;
/// Nanoseconds per minute.
pub const NS_PER_MIN: u64 = 60 * NS_PER_S;
/// Nanoseconds per hour.
pub const NS_PER_H: u64 = 60 * NS_PER_MIN;

/// An instant of simulated time, in nanoseconds since the start of the run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// "Never": later than any event a run can schedule.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since the start of the run.
    #[inline]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the start of the run, for display and statistics only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }

    /// Time elapsed since `earlier`.
    ///
    /// # Panics
    /// If `earlier` is after `self`: a negative span means events were processed out of order.
    // Inlined because the model calls it several times per event from another crate: a call
    // cost more than the subtraction and its check.
    #[inline]
    pub fn since(self, earlier: SimTime) -> SimDuration {
        assert!(earlier <= self, "time went backwards: {earlier:?} is after {self:?}");
        SimDuration(self.0 - earlier.0)
    }

    /// `self + d`, saturating at `SimTime::MAX`.
    #[inline]
    pub const fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The longest span; adding it to any instant saturates to `SimTime::MAX`.
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A span of `ns` nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    /// A span of `us` microseconds.
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us * NS_PER_US)
    }
    /// A span of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * NS_PER_MS)
    }
    /// A span of `s` seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * NS_PER_S)
    }
    /// The span closest to `s` seconds; negative and NaN inputs give zero.
    pub fn from_secs_f64(s: f64) -> Self {
        SimDuration(round_ns(s * NS_PER_S as f64))
    }
    /// Length in nanoseconds.
    #[inline]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Length in seconds, for display and statistics only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }

    /// Parses a duration written with a unit: `"250us"`, `"1.5s"`, `"10m"`, `"2h"`, `"0"`.
    ///
    /// Units: `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`. A bare `0` is allowed; any other
    /// number needs a unit, because a unitless `100` is as likely meant in ms as in s.
    ///
    /// # Errors
    /// [`DurationError`] says what was wrong, for the caller to wrap with a location.
    pub fn parse(text: &str) -> Result<SimDuration, DurationError> {
        let s = text.trim();
        if s.is_empty() {
            return Err(DurationError::Empty);
        }
        let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let unit = unit.trim();
        let num_clean: String = num.chars().filter(|&c| c != '_').collect();
        if num_clean.is_empty() {
            if s.starts_with('-') {
                return Err(DurationError::Negative);
            }
            return Err(DurationError::NoNumber);
        }
        let value: f64 = num_clean.parse().map_err(|_| DurationError::BadNumber(num.to_string()))?;
        let scale = match unit_ns(unit) {
            Some(scale) => scale,
            None if unit.is_empty() && value == 0.0 => 1,
            None if unit.is_empty() => return Err(DurationError::MissingUnit),
            None => return Err(DurationError::UnknownUnit(unit.to_string())),
        };
        let ns = value * scale as f64;
        if !ns.is_finite() || ns >= u64::MAX as f64 {
            return Err(DurationError::TooLarge);
        }
        Ok(SimDuration(round_ns(ns)))
    }
}

/// Nanoseconds in one `unit` (`ns`, `us` or `µs`, `ms`, `s`, `m` or `min`, `h`).
pub fn unit_ns(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" => NS_PER_US,
        "ms" => NS_PER_MS,
        "s" => NS_PER_S,
        "m" | "min" => NS_PER_MIN,
        "h" => NS_PER_H,
        _ => return None,
    })
}

/// The units [`SimDuration::parse`] accepts, for did-you-mean suggestions.
pub const DURATION_UNITS: &[&str] = &["ns", "us", "ms", "s", "m", "h"];

/// Why a duration string did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// The string was empty.
    Empty,
    /// The string did not start with a number.
    NoNumber,
    /// The number part did not parse.
    BadNumber(String),
    /// The duration was negative.
    Negative,
    /// A non-zero number had no unit.
    MissingUnit,
    /// The unit is not one of [`DURATION_UNITS`].
    UnknownUnit(String),
    /// The duration does not fit in 64-bit nanoseconds.
    TooLarge,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Empty => write!(f, "empty duration; write a number and a unit such as \"250ms\""),
            DurationError::NoNumber => write!(f, "a duration starts with a number, as in \"250ms\""),
            DurationError::BadNumber(n) => write!(f, "`{n}` is not a number"),
            DurationError::Negative => write!(f, "durations cannot be negative"),
            DurationError::MissingUnit => {
                write!(f, "missing unit; write one of ns, us, ms, s, m, h, as in \"250ms\"")
            }
            DurationError::UnknownUnit(u) => {
                write!(f, "unknown unit `{u}`; use one of ns, us, ms, s, m, h")
            }
            DurationError::TooLarge => write!(f, "duration too large (the limit is about 584 years)"),
        }
    }
}

impl std::error::Error for DurationError {}

/// Rounds a float number of nanoseconds to the nearest whole nanosecond. This is where floats
/// from distributions end: negative and NaN values become zero, huge ones saturate.
#[inline]
pub fn round_ns(ns: f64) -> u64 {
    if ns.is_nan() || ns <= 0.0 {
        0
    } else if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        // Same as `round()` for positive values, without the libm call on the hot path.
        (ns + 0.5) as u64
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.checked_add(d.0).expect("simulated time overflowed u64 nanoseconds"))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.since(earlier)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(o.0))
    }
}

impl fmt::Display for SimDuration {
    /// Prints with the largest unit that keeps the value readable: `250us`, `1.5s`, `10m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        let (div, unit) = if ns == 0 {
            (1, "s")
        } else if ns % NS_PER_H == 0 {
            (NS_PER_H, "h")
        } else if ns % NS_PER_MIN == 0 {
            (NS_PER_MIN, "m")
        } else if ns >= NS_PER_S {
            (NS_PER_S, "s")
        } else if ns >= NS_PER_MS {
            (NS_PER_MS, "ms")
        } else if ns >= NS_PER_US {
            (NS_PER_US, "us")
        } else {
            (1, "ns")
        };
        if ns % div == 0 {
            write!(f, "{}{unit}", ns / div)
        } else {
            let v = ns as f64 / div as f64;
            // Trim trailing zeros so 1.500s prints as 1.5s.
            let s = format!("{v:.3}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            write!(f, "{s}{unit}")
        }
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", SimDuration(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(SimDuration::parse("250us"), Ok(SimDuration(250_000)));
        assert_eq!(SimDuration::parse("1.5s"), Ok(SimDuration(1_500_000_000)));
        assert_eq!(SimDuration::parse("10m"), Ok(SimDuration(600 * NS_PER_S)));
        assert_eq!(SimDuration::parse("2h"), Ok(SimDuration(2 * NS_PER_H)));
        assert_eq!(SimDuration::parse("7ns"), Ok(SimDuration(7)));
        assert_eq!(SimDuration::parse(" 20 ms "), Ok(SimDuration(20 * NS_PER_MS)));
        assert_eq!(SimDuration::parse("0"), Ok(SimDuration(0)));
        assert_eq!(SimDuration::parse("1_000ms"), Ok(SimDuration(NS_PER_S)));
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        assert_eq!(SimDuration::parse("10 sec"), Err(DurationError::UnknownUnit("sec".into())));
        assert_eq!(SimDuration::parse("100"), Err(DurationError::MissingUnit));
        assert_eq!(SimDuration::parse("-5s"), Err(DurationError::Negative));
        assert_eq!(SimDuration::parse(""), Err(DurationError::Empty));
        assert_eq!(SimDuration::parse("ms"), Err(DurationError::NoNumber));
        assert_eq!(SimDuration::parse("1.2.3s"), Err(DurationError::BadNumber("1.2.3".into())));
        assert_eq!(SimDuration::parse("1e30h"), Err(DurationError::UnknownUnit("e30h".into())));
        assert_eq!(SimDuration::parse("99999999999999h"), Err(DurationError::TooLarge));
    }

    #[test]
    fn durations_display_in_readable_units() {
        assert_eq!(SimDuration(250_000).to_string(), "250us");
        assert_eq!(SimDuration(1_500_000_000).to_string(), "1.5s");
        assert_eq!(SimDuration(600 * NS_PER_S).to_string(), "10m");
        assert_eq!(SimDuration(0).to_string(), "0s");
    }

    #[test]
    fn rounding_clamps_floats_into_range() {
        assert_eq!(round_ns(-3.0), 0);
        assert_eq!(round_ns(f64::NAN), 0);
        assert_eq!(round_ns(2.5), 3);
        assert_eq!(round_ns(1e30), u64::MAX);
    }

    #[test]
    #[should_panic(expected = "time went backwards")]
    fn since_refuses_negative_spans() {
        let _ = SimTime(5).since(SimTime(6));
    }
}
