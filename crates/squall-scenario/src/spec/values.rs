//! Leaf values, checked while reading so ron can say where a bad one is: durations
//! (`Dur`, `PosDur`, `SignedDur`), rates (`Rate`, `ScheduleRate`), whole numbers in a range
//! (`Count`, read with every other whole-number type through the one [`NumberVisitor`]),
//! bounded numbers (`Fraction`, `Share`, `Percent`, ...), names (`NamedMap`, `Label`,
//! `NonEmpty`) and outcomes (`OutcomeName`); and the small constructors defaults use.

use super::*;

/// Longest entity name, in bytes.
pub(crate) const NAME_BYTES_MAX: usize = 128;
/// Highest arrival rate: one request per nanosecond.
pub(crate) const RATE_PER_SEC_MAX: f64 = 1e9;

/// The largest `u32`, as a bound of [`Count`].
pub(crate) const U32_MAX: u64 = u32::MAX as u64;

/// A duration known to be valid, for defaults.
pub(super) fn dur(ns: u64, text: &str) -> Dur {
    Dur { ns, text: text.to_string() }
}

pub(super) fn zero() -> Dur {
    dur(0, "0s")
}

impl Default for Fraction {
    fn default() -> Self {
        Fraction(0.0)
    }
}

/// Every outcome, by its variant name. `Ok` is here so that writing it gets a message
/// saying why it is refused rather than a bare "unknown variant".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Outcome", expecting = "an outcome, as in ServerError")]
pub(crate) enum OutcomeName {
    Ok,
    Degraded,
    Timeout,
    DeadlineExceeded,
    RateLimited,
    Shed,
    QueueFull,
    BulkheadFull,
    CircuitOpen,
    Throttled,
    ServerError,
    Unsupported,
    NoEndpoint,
    ConnectionReset,
    Cancelled,
}

impl OutcomeName {
    /// Every name, in the model's order.
    pub const ALL: [OutcomeName; Outcome::COUNT] = [
        OutcomeName::Ok,
        OutcomeName::Degraded,
        OutcomeName::Timeout,
        OutcomeName::DeadlineExceeded,
        OutcomeName::RateLimited,
        OutcomeName::Shed,
        OutcomeName::QueueFull,
        OutcomeName::BulkheadFull,
        OutcomeName::CircuitOpen,
        OutcomeName::Throttled,
        OutcomeName::ServerError,
        OutcomeName::Unsupported,
        OutcomeName::NoEndpoint,
        OutcomeName::ConnectionReset,
        OutcomeName::Cancelled,
    ];

    pub fn outcome(self) -> Outcome {
        match self {
            OutcomeName::Ok => Outcome::Ok,
            OutcomeName::Degraded => Outcome::Degraded,
            OutcomeName::Timeout => Outcome::Timeout,
            OutcomeName::DeadlineExceeded => Outcome::DeadlineExceeded,
            OutcomeName::RateLimited => Outcome::RateLimited,
            OutcomeName::Shed => Outcome::Shed,
            OutcomeName::QueueFull => Outcome::QueueFull,
            OutcomeName::BulkheadFull => Outcome::BulkheadFull,
            OutcomeName::CircuitOpen => Outcome::CircuitOpen,
            OutcomeName::Throttled => Outcome::Throttled,
            OutcomeName::ServerError => Outcome::ServerError,
            OutcomeName::Unsupported => Outcome::Unsupported,
            OutcomeName::NoEndpoint => Outcome::NoEndpoint,
            OutcomeName::ConnectionReset => Outcome::ConnectionReset,
            OutcomeName::Cancelled => Outcome::Cancelled,
        }
    }

    /// The name of `outcome`.
    pub fn of(outcome: Outcome) -> OutcomeName {
        *OutcomeName::ALL.iter().find(|n| n.outcome() == outcome).expect("every outcome has a name")
    }
}

impl<const MAX: u64> Default for Count<0, MAX> {
    fn default() -> Self {
        Count(0)
    }
}

/// Common spellings of the units, mapped to the one the parser accepts.
const UNIT_ALIASES: &[(&str, &str)] = &[
    ("nsec", "ns"),
    ("nanos", "ns"),
    ("nanoseconds", "ns"),
    ("usec", "us"),
    ("micros", "us"),
    ("microseconds", "us"),
    ("msec", "ms"),
    ("millis", "ms"),
    ("milliseconds", "ms"),
    ("sec", "s"),
    ("secs", "s"),
    ("second", "s"),
    ("seconds", "s"),
    ("mins", "m"),
    ("minute", "m"),
    ("minutes", "m"),
    ("hr", "h"),
    ("hrs", "h"),
    ("hour", "h"),
    ("hours", "h"),
];

fn suggest_unit(unit: &str) -> Option<&'static str> {
    let lower = unit.to_lowercase();
    if let Some((_, to)) = UNIT_ALIASES.iter().find(|(from, _)| *from == lower) {
        return Some(to);
    }
    if let Some(u) = DURATION_UNITS.iter().find(|u| **u == lower) {
        return Some(u);
    }
    did_you_mean(unit, DURATION_UNITS.iter().copied())
}

pub(super) fn unknown_unit(unit: &str) -> String {
    match suggest_unit(unit) {
        Some(s) => format!("unknown unit `{unit}`, did you mean `{s}`?"),
        None => format!("unknown unit `{unit}`; use one of ns, us, ms, s, m, h"),
    }
}

/// A duration as written: `"250ms"`, `"1.5s"`, `"10m"`. Zero is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dur {
    pub ns: u64,
    /// The text as written, kept for messages and for writing the spec back out.
    pub text: String,
}

pub(crate) fn parse_duration(text: &str) -> Result<Dur, String> {
    match SimDuration::parse(text) {
        Ok(d) => Ok(Dur { ns: d.as_nanos(), text: text.to_string() }),
        Err(DurationError::UnknownUnit(u)) => {
            Err(format!("invalid duration \"{text}\": {}", unknown_unit(&u)))
        }
        Err(e) => Err(format!("invalid duration \"{text}\": {e}")),
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurVisitor)
    }
}

pub(super) struct DurVisitor;

impl Visitor<'_> for DurVisitor {
    type Value = Dur;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration string such as \"250ms\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
        parse_duration(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
        if v == 0 {
            return Ok(Dur { ns: 0, text: "0".to_string() });
        }
        Err(E::custom(format!(
            "a duration is a string with a unit, as in \"{v}ms\" or \"{v}s\", not a bare number"
        )))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom("durations cannot be negative")),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
        if v < 0.0 {
            return Err(E::custom("durations cannot be negative"));
        }
        if v == 0.0 {
            return Ok(Dur { ns: 0, text: "0".to_string() });
        }
        Err(E::custom(format!(
            "a duration is a string with a unit, as in \"{v}ms\" or \"{v}s\", not a bare number"
        )))
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// A duration either way, as a clock offset: `"+1500ms"`, `"-200ms"`, `"0s"` (no sign is
/// ahead, as `+`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SignedDur {
    pub ns: i64,
    /// The text as written, kept for messages and for writing the spec back out.
    pub text: String,
}

pub(crate) fn parse_signed_duration(text: &str) -> Result<SignedDur, String> {
    let invalid = |why: String| format!("invalid offset \"{text}\": {why}");
    let trimmed = text.trim();
    let (negative, magnitude) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    if magnitude.starts_with(['+', '-']) {
        return Err(invalid("give at most one sign, as in \"+1500ms\" or \"-200ms\"".to_string()));
    }
    let ns = match SimDuration::parse(magnitude) {
        Ok(d) => d.as_nanos(),
        Err(DurationError::UnknownUnit(u)) => return Err(invalid(unknown_unit(&u))),
        Err(e) => return Err(invalid(e.to_string())),
    };
    // Both signs reach the same magnitude, so -ns cannot overflow.
    let Ok(ns) = i64::try_from(ns) else {
        return Err(invalid("an offset must be at most about 292 years either way".to_string()));
    };
    Ok(SignedDur { ns: if negative { -ns } else { ns }, text: text.to_string() })
}

impl<'de> Deserialize<'de> for SignedDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SignedDurVisitor)
    }
}

struct SignedDurVisitor;

impl SignedDurVisitor {
    fn bare<E: de::Error>(v: impl fmt::Display) -> E {
        E::custom(format!(
            "an offset is a string with a sign and a unit, as in \"+{v}ms\" or \"-{v}ms\", not a bare number"
        ))
    }
}

impl Visitor<'_> for SignedDurVisitor {
    type Value = SignedDur;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a signed duration string such as \"+1500ms\" or \"-200ms\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SignedDur, E> {
        parse_signed_duration(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<SignedDur, E> {
        if v == 0 {
            return Ok(SignedDur { ns: 0, text: "0".to_string() });
        }
        Err(Self::bare(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<SignedDur, E> {
        if v == 0 {
            return self.visit_u64(0);
        }
        Err(Self::bare(v.unsigned_abs()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<SignedDur, E> {
        if v == 0.0 {
            return self.visit_u64(0);
        }
        Err(Self::bare(v.abs()))
    }
}

impl Serialize for SignedDur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// A duration greater than zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PosDur(pub Dur);

impl<'de> Deserialize<'de> for PosDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let dur = Dur::deserialize(d)?;
        if dur.ns == 0 {
            return Err(de::Error::custom(format!("must be greater than zero, got \"{}\"", dur.text)));
        }
        Ok(PosDur(dur))
    }
}

impl Serialize for PosDur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// Requests per second of an arrival process: finite and greater than zero.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub(crate) struct Rate(pub f64);

/// `v` for a message: as Rust writes it for everyday magnitudes, in e-notation from 1e15 up
/// and below 1e-6, so that a rate of 1e300 reads `1e300`, not 301 digits.
pub(crate) fn shown(v: f64) -> String {
    let a = v.abs();
    if a.is_finite() && a != 0.0 && !(1e-6..1e15).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Rates above one request per nanosecond cannot be represented in integer time.
fn check_rate_cap(v: f64) -> Result<(), String> {
    if v > RATE_PER_SEC_MAX {
        return Err(format!(
            "a rate must be at most 1e9 per second (one request per nanosecond), got {}",
            shown(v)
        ));
    }
    Ok(())
}

impl TryFrom<f64> for Rate {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if !(v.is_finite() && v > 0.0) {
            return Err(format!(
                "a rate must be a finite number of requests per second greater than 0, got {}",
                shown(v)
            ));
        }
        check_rate_cap(v)?;
        Ok(Rate(v))
    }
}

impl From<Rate> for f64 {
    fn from(r: Rate) -> f64 {
        r.0
    }
}

/// Requests per second in a schedule: finite and at least zero (zero pauses arrivals).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub(crate) struct ScheduleRate(pub f64);

impl TryFrom<f64> for ScheduleRate {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if !(v.is_finite() && v >= 0.0) {
            return Err(format!(
                "a scheduled rate must be a finite number of requests per second, 0 or more, got {}",
                shown(v)
            ));
        }
        check_rate_cap(v)?;
        Ok(ScheduleRate(v))
    }
}

impl From<ScheduleRate> for f64 {
    fn from(r: ScheduleRate) -> f64 {
        r.0
    }
}

/// Defines a number type checked while reading, so ron can say where a bad one is.
macro_rules! checked_number {
    ($(#[$doc:meta])* $name:ident, $what:literal, $ok:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(try_from = "f64", into = "f64")]
        pub(crate) struct $name(pub f64);

        impl TryFrom<f64> for $name {
            type Error = String;
            fn try_from(v: f64) -> Result<Self, String> {
                let ok: fn(f64) -> bool = $ok;
                if !ok(v) {
                    return Err(format!(concat!("must be ", $what, ", got {}"), $crate::spec::shown(v)));
                }
                Ok($name(v))
            }
        }

        impl From<$name> for f64 {
            fn from(x: $name) -> f64 {
                x.0
            }
        }
    };
}

checked_number!(
    /// A probability or ratio in `[0, 1]`: a cache's hit ratio, a fault's failing fraction.
    Fraction,
    "from 0 to 1",
    |v| (0.0..=1.0).contains(&v)
);
checked_number!(
    /// A share of instances in `(0, 1]`.
    Share,
    "greater than 0 and at most 1",
    |v| v > 0.0 && v <= 1.0
);
checked_number!(
    /// AIMD's backoff ratio, in `[0.5, 1)` as Netflix's `AIMDLimit` requires.
    BackoffRatio,
    "at least 0.5 and less than 1",
    |v| (0.5..1.0).contains(&v)
);
checked_number!(
    /// Gradient2's smoothing, in `(0, 1]`.
    Smoothing,
    "greater than 0 and at most 1",
    |v| v > 0.0 && v <= 1.0
);
checked_number!(
    /// Gradient2's RTT tolerance, at least 1 as Netflix's `Gradient2Limit` requires.
    Tolerance,
    "a finite number, at least 1",
    |v| v.is_finite() && v >= 1.0
);
checked_number!(
    /// A slowdown factor (a `Slow` fault's, or warm-up's): at least 1 (neither speeds work
    /// up), at most a million so that slowed work still fits in integer nanoseconds.
    SlowFactor,
    "from 1 to 1000000",
    |v| (1.0..=1e6).contains(&v)
);
checked_number!(
    /// A finite number greater than 0: gRPC's back-off multiplier and token ratio, the
    /// throttling constant K.
    PosNumber,
    "a finite number greater than 0",
    |v| v.is_finite() && v > 0.0
);
checked_number!(
    /// A percentage in `[0, 100]`: Envoy's `budget_percent`.
    Percent,
    "from 0 to 100",
    |v| (0.0..=100.0).contains(&v)
);
checked_number!(
    /// Finagle's `percentCanRetry`, in `[0, 1000]` as `RetryBudget` requires.
    PercentCanRetry,
    "from 0 to 1000",
    |v| (0.0..=1000.0).contains(&v)
);
checked_number!(
    /// A Resilience4j rate threshold, a percentage in `(0, 100]`.
    Threshold,
    "greater than 0 and at most 100",
    |v| v > 0.0 && v <= 100.0
);

/// A label shown in outputs: not empty, at most [`NAME_BYTES_MAX`] bytes, no control
/// characters. Unlike entity names it may contain `.` and `/`: it names nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct Label(pub String);

impl TryFrom<String> for Label {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Err("must not be empty".to_string());
        }
        if s.len() > NAME_BYTES_MAX {
            return Err(format!("the name \"{s}\" is longer than {NAME_BYTES_MAX} bytes"));
        }
        if s.chars().any(char::is_control) {
            return Err(format!("the name {s:?} contains a control character"));
        }
        Ok(Label(s))
    }
}

impl From<Label> for String {
    fn from(l: Label) -> Self {
        l.0
    }
}

/// A whole number in `MIN..=MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Count<const MIN: u64, const MAX: u64>(pub u64);

impl<const MIN: u64, const MAX: u64> WholeNumber for Count<MIN, MAX> {
    const MIN: u64 = MIN;
    const MAX: u64 = MAX;

    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        in_range(v, MIN, MAX).map(Count)
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Count<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        NumberVisitor::read(d)
    }
}

/// A size in bytes, at least 1: a whole number of bytes, or a string with a unit, as in
/// `"512MiB"` or `"4GiB"` (`B`, `KB`, `MB`, `GB`, `TB` count in thousands; `KiB`, `MiB`,
/// `GiB`, `TiB` in 1024s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bytes(pub u64);

/// Reads a size such as `"4GiB"` or `"1.5 GB"`.
pub(crate) fn parse_bytes(text: &str) -> Result<Bytes, String> {
    const UNITS: [(&str, f64); 9] = [
        ("KiB", 1024.0),
        ("MiB", 1048576.0),
        ("GiB", 1073741824.0),
        ("TiB", 1099511627776.0),
        ("KB", 1e3),
        ("MB", 1e6),
        ("GB", 1e9),
        ("TB", 1e12),
        ("B", 1.0),
    ];
    let t = text.trim();
    let bad = |why: &str| {
        format!("invalid size \"{text}\": {why}; write a number and a unit, as in \"512MiB\" or \"4GiB\"")
    };
    let Some((number, scale)) = UNITS.iter().find_map(|(u, k)| t.strip_suffix(u).map(|n| (n.trim(), *k)))
    else {
        return Err(bad("no unit (B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)"));
    };
    let n: f64 = number.parse().map_err(|_| bad("the number does not read"))?;
    let bytes = (n * scale).round();
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(bad("a size must be at least 1 byte"));
    }
    if bytes >= u64::MAX as f64 {
        return Err(bad("more bytes than 64 bits can count"));
    }
    Ok(Bytes(bytes as u64))
}

impl WholeNumber for Bytes {
    const MIN: u64 = 1;
    const MAX: u64 = u64::MAX;

    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        in_range(v, 1, u64::MAX).map(Bytes)
    }

    fn expecting(f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a size, as in \"512MiB\" or \"4GiB\", or a whole number of bytes")
    }

    fn from_text<E: de::Error>(v: &str, _: &dyn de::Expected) -> Result<Self, E> {
        parse_bytes(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        NumberVisitor::read(d)
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// `v`, if it is in `min..=max`.
pub(crate) fn in_range<E: de::Error>(v: u64, min: u64, max: u64) -> Result<u64, E> {
    if v < min {
        return Err(E::custom(format!("must be at least {min}, got {v}")));
    }
    if v > max {
        return Err(E::custom(format!("must be at most {max}, got {v}")));
    }
    Ok(v)
}

/// A value written as a whole number (or, for some, a string), read through
/// [`NumberVisitor`]: `Count`, a hedge's attempts, Kubernetes' int-or-percent.
pub(crate) trait WholeNumber: Sized {
    /// The smallest value, for messages about negative numbers and whole floats.
    const MIN: u64;
    /// The largest value, for messages about numbers beyond 64 bits and whole floats.
    const MAX: u64;

    /// Checks a number that fits in a `u64` and builds the value.
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E>;

    /// What the file should hold here.
    fn expecting(f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a whole number from {} to {}", Self::MIN, Self::MAX)
    }

    /// A string; refused unless the type reads one.
    fn from_text<E: de::Error>(v: &str, expected: &dyn de::Expected) -> Result<Self, E> {
        Err(E::invalid_type(de::Unexpected::Str(v), expected))
    }
}

/// The one visitor of whole numbers: it takes whichever integer or float ron or JSON hands
/// over, with the same messages for every [`WholeNumber`] type.
pub(crate) struct NumberVisitor<T>(PhantomData<T>);

impl<T: WholeNumber> NumberVisitor<T> {
    /// Reads a `T`.
    pub(crate) fn read<'de, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        d.deserialize_any(NumberVisitor(PhantomData))
    }
}

impl<T: WholeNumber> Visitor<'_> for NumberVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        T::expecting(f)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        T::from_text(v, &self)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::from_u64(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format!("must be at least {}, got {v}", T::MIN))),
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<T, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format!("must be at most {}, got {v}", T::MAX))),
        }
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<T, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) if v < 0 => Err(E::custom(format!("must be at least {}, got {v}", T::MIN))),
            Err(_) => Err(E::custom(format!("must be at most {}, got {v}", T::MAX))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        let (min, max) = (T::MIN, T::MAX);
        // ron reads integers too large for 64 bits as floats.
        if v.fract() == 0.0 && v > max as f64 {
            return Err(E::custom(format!("must be at most {max}, got {}", shown(v))));
        }
        if v.fract() == 0.0 && v < min as f64 {
            return Err(E::custom(format!("must be at least {min}, got {}", shown(v))));
        }
        Err(E::custom(format!("must be a whole number from {min} to {max}, got {}", shown(v))))
    }
}

impl<const MIN: u64, const MAX: u64> Serialize for Count<MIN, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// A non-empty string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct NonEmpty(pub String);

impl TryFrom<String> for NonEmpty {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, &'static str> {
        if s.trim().is_empty() {
            return Err("must not be empty");
        }
        Ok(NonEmpty(s))
    }
}

impl From<NonEmpty> for String {
    fn from(s: NonEmpty) -> Self {
        s.0
    }
}

/// Why `name` cannot name an entity, if it cannot.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("names must not be empty".to_string());
    }
    if name.len() > NAME_BYTES_MAX {
        return Err(format!("the name \"{name}\" is longer than {NAME_BYTES_MAX} bytes"));
    }
    // Names are segments of random-stream keys (`services/api/instance/0/work`) and of
    // dotted field paths (`services.api.replicas`), so neither separator may appear.
    for (c, why) in [('/', "random-stream keys"), ('.', "field paths such as `services.NAME.replicas`")] {
        if name.contains(c) {
            return Err(format!("the name \"{name}\" contains `{c}`, which separates {why}"));
        }
    }
    if name.chars().any(char::is_control) {
        return Err(format!("the name {name:?} contains a control character"));
    }
    if name.trim() != name {
        return Err(format!("the name \"{name}\" starts or ends with a space"));
    }
    Ok(())
}

/// Entities by name, in file order (the order gives their ids). Duplicate and invalid names
/// are refused while reading, where ron can still say where they are.
#[derive(Clone, Debug)]
pub(crate) struct NamedMap<T>(pub IndexMap<String, T>);

impl<T> Default for NamedMap<T> {
    fn default() -> Self {
        NamedMap(IndexMap::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NamedMap<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(NamedMapVisitor(PhantomData))
    }
}

struct NamedMapVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for NamedMapVisitor<T> {
    type Value = NamedMap<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map from names to entries, as in {\"api\": (...)}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = IndexMap::new();
        while let Some(name) = access.next_key::<String>()? {
            check_name(&name).map_err(de::Error::custom)?;
            if map.contains_key(&name) {
                return Err(de::Error::custom(format!("`{name}` is defined twice")));
            }
            let value = access.next_value()?;
            map.insert(name, value);
        }
        Ok(NamedMap(map))
    }
}

impl<T: Serialize> Serialize for NamedMap<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// Declares a default once, from one literal: the function serde calls (`fn $f`) and the
/// text the reference shows for it (`$doc`, a RON value in backticks), so the two cannot
/// disagree. `dur "30s"` is a duration, shown quoted; a bare literal is its own value.
macro_rules! default_value {
    ($doc:ident, fn $f:ident() -> $ty:ty = dur $text:literal) => {
        #[doc = concat!("The documented default of `", stringify!($f), "`.")]
        pub(crate) const $doc: &str = concat!("`\"", $text, "\"`");
        fn $f() -> $ty {
            parse_duration($text).expect("a default duration parses")
        }
    };
    ($doc:ident, fn $f:ident() -> $ty:ty = $wrap:ident(dur $text:literal)) => {
        #[doc = concat!("The documented default of `", stringify!($f), "`.")]
        pub(crate) const $doc: &str = concat!("`\"", $text, "\"`");
        fn $f() -> $ty {
            $wrap(parse_duration($text).expect("a default duration parses"))
        }
    };
    ($doc:ident, fn $f:ident() -> $ty:ty = $wrap:ident($value:literal)) => {
        #[doc = concat!("The documented default of `", stringify!($f), "`.")]
        pub(crate) const $doc: &str = concat!("`", stringify!($value), "`");
        fn $f() -> $ty {
            $wrap($value)
        }
    };
    ($doc:ident, fn $f:ident() -> $ty:ty = $value:literal) => {
        #[doc = concat!("The documented default of `", stringify!($f), "`.")]
        pub(crate) const $doc: &str = concat!("`", stringify!($value), "`");
        fn $f() -> $ty {
            $value
        }
    };
}

pub(crate) use default_value;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_suggest_the_accepted_spelling() {
        assert_eq!(suggest_unit("sec"), Some("s"));
        assert_eq!(suggest_unit("MS"), Some("ms"));
        assert_eq!(suggest_unit("hours"), Some("h"));
        assert_eq!(suggest_unit("parsec"), None);
    }

    #[test]
    fn names_that_would_break_stream_keys_or_paths_are_refused() {
        assert!(check_name("api").is_ok());
        assert!(check_name("api-v2_blue").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a/b").unwrap_err().contains("random-stream keys"));
        assert!(check_name("a.b").unwrap_err().contains("field paths"));
        assert!(check_name(" api").is_err());
        assert!(check_name("a\u{0}b").is_err());
    }
}
