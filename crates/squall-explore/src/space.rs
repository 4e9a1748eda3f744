//! The space a check or sweep explores: parameters given as ranges over scenario paths, and
//! the values they take.
//!
//! Every parameter is a ladder of steps `0..=steps` from its first bound (step 0) to its
//! second, so one integer per parameter names a value and shrinking moves toward the first
//! bound. Values are handed to the scenario as override text (`12s`, `830.5`, `4`), which is
//! also what the one-line reproduction prints, so a reproduction applies exactly the value
//! the check ran.

use squall_kernel::SimDuration;

/// Steps a decimal range is divided into: values land on a grid of a thousandth of its width.
pub const FLOAT_STEPS: u64 = 1000;

/// One explored parameter: a scenario path and the values it ranges over.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The override path, as in `--set`: `clients.users.arrivals.rate`, `faults.0.for`.
    pub path: String,
    /// The values.
    pub values: Values,
}

/// The values of an [`Axis`].
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Whole numbers from `from` to `to` (either way round), one step each.
    Int {
        /// Step 0.
        from: i64,
        /// The last step.
        to: i64,
    },
    /// Decimals from `from` to `to` in [`FLOAT_STEPS`] steps.
    Float {
        /// Step 0.
        from: f64,
        /// The last step.
        to: f64,
    },
    /// Durations from `from` to `to`, in steps of the largest unit that divides both.
    Duration {
        /// Step 0, ns.
        from_ns: u64,
        /// The last step, ns.
        to_ns: u64,
    },
    /// The values listed, in order (a sweep's `a,b,c`).
    List(Vec<String>),
}

/// Units a duration axis can step in, largest first.
const UNITS: [(u64, &str); 6] = [
    (3_600_000_000_000, "h"),
    (60_000_000_000, "m"),
    (1_000_000_000, "s"),
    (1_000_000, "ms"),
    (1_000, "us"),
    (1, "ns"),
];

impl Axis {
    /// A range from `from` to `to`, both written as in a scenario file: integers (`2`, `10`),
    /// decimals (`0.5`, `1.2`; one decimal makes both decimals) or durations (`"5s"`, `"1m"`).
    ///
    /// # Errors
    /// A message if a bound is none of those, the two are of different kinds, or they are equal.
    pub fn range(path: &str, from: &str, to: &str) -> Result<Axis, String> {
        let (a, b) = (unquote(from), unquote(to));
        let values = if let (Ok(x), Ok(y)) = (a.parse::<i64>(), b.parse::<i64>()) {
            Values::Int { from: x, to: y }
        } else if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
            if !x.is_finite() || !y.is_finite() {
                return Err(format!("the range {a}..{b} has a bound that is not a finite number"));
            }
            Values::Float { from: x, to: y }
        } else {
            let dur = |t: &str| {
                SimDuration::parse(t).map_err(|e| {
                    format!("`{t}` is neither a number nor a duration with a unit (\"5s\"): {e}")
                })
            };
            Values::Duration { from_ns: dur(a)?.as_nanos(), to_ns: dur(b)?.as_nanos() }
        };
        let axis = Axis { path: path.to_string(), values };
        if axis.steps() == 0 {
            return Err(format!("the range {a}..{b} holds a single value; give two different bounds"));
        }
        Ok(axis)
    }

    /// A parameter from the command line: `LOW..HIGH` (a range) or `A,B,C` (a list).
    ///
    /// # Errors
    /// A message naming the expected forms, or the range's problem.
    pub fn parse(path: &str, text: &str) -> Result<Axis, String> {
        if let Some((a, b)) = text.split_once("..") {
            return Axis::range(path, a.trim(), b.trim_start_matches('=').trim());
        }
        let items: Vec<String> = text.split(',').map(|s| unquote(s.trim()).to_string()).collect();
        if items.iter().any(String::is_empty) {
            return Err(format!("`{text}` has an empty value; write LOW..HIGH or A,B,C"));
        }
        Ok(Axis { path: path.to_string(), values: Values::List(items) })
    }

    /// The last step: values are `value(0) ..= value(steps())`.
    pub fn steps(&self) -> u64 {
        match &self.values {
            Values::Int { from, to } => from.abs_diff(*to),
            Values::Float { from, to } => u64::from(from != to) * FLOAT_STEPS,
            Values::Duration { from_ns, to_ns } => {
                from_ns.abs_diff(*to_ns) / duration_unit(*from_ns, *to_ns).0
            }
            Values::List(items) => items.len().saturating_sub(1) as u64,
        }
    }

    /// The value at step `k` (clamped to the last step), as override text.
    pub fn value(&self, k: u64) -> String {
        let k = k.min(self.steps());
        match &self.values {
            Values::Int { from, to } => {
                let k = i64::try_from(k).unwrap_or(i64::MAX);
                if to >= from { from.saturating_add(k) } else { from.saturating_sub(k) }.to_string()
            }
            Values::Float { from, to } => {
                let step = (to - from) / FLOAT_STEPS as f64;
                let decimals = decimals_for(step.abs());
                let v = from + step * k as f64;
                trim_decimal(format!("{v:.decimals$}"))
            }
            Values::Duration { from_ns, to_ns } => {
                let (unit, name) = duration_unit(*from_ns, *to_ns);
                let n = if to_ns >= from_ns { from_ns / unit + k } else { from_ns / unit - k };
                format!("{n}{name}")
            }
            Values::List(items) => items[k as usize].clone(),
        }
    }

    /// The value at step `k` as a number for plots and tables: durations in seconds; a list
    /// item that is not a number gives its position.
    pub fn number(&self, k: u64) -> f64 {
        let text = self.value(k);
        match &self.values {
            Values::Duration { .. } => SimDuration::parse(&text).map_or(f64::NAN, |d| d.as_secs_f64()),
            Values::List(_) => text
                .parse::<f64>()
                .ok()
                .or_else(|| SimDuration::parse(&text).ok().map(|d| d.as_secs_f64()))
                .unwrap_or(k as f64),
            _ => text.parse().unwrap_or(f64::NAN),
        }
    }

    /// `points` steps spread evenly from the first bound to the second (both included), or
    /// every step if there are fewer; a list gives each of its items.
    pub fn grid(&self, points: u64) -> Vec<u64> {
        let steps = self.steps();
        if matches!(self.values, Values::List(_)) || points > steps {
            return (0..=steps).collect();
        }
        let last = points.max(2) - 1;
        let mut ks: Vec<u64> = (0..=last)
            .map(|i| ((i as u128 * steps as u128 + last as u128 / 2) / last as u128) as u64)
            .collect();
        ks.dedup();
        ks
    }

    /// How the range reads: `5s..60s`, `2..10`, `a,b,c`.
    pub fn describe(&self) -> String {
        match &self.values {
            Values::List(items) => items.join(","),
            _ => format!("{}..{}", self.value(0), self.value(self.steps())),
        }
    }
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"')
}

/// The largest unit dividing both bounds, and its name.
fn duration_unit(a: u64, b: u64) -> (u64, &'static str) {
    *UNITS.iter().find(|(u, _)| a % u == 0 && b % u == 0).expect("1 ns divides everything")
}

/// Decimals that show a step of `step` to three significant digits.
fn decimals_for(step: f64) -> usize {
    if step <= 0.0 || !step.is_finite() {
        return 0;
    }
    (2.0 - step.log10().floor()).clamp(0.0, 15.0) as usize
}

/// `830.500` as `830.5`, `12.000` as `12`.
fn trim_decimal(s: String) -> String {
    if !s.contains('.') {
        return s;
    }
    let t = s.trim_end_matches('0').trim_end_matches('.');
    if t == "-0" {
        "0".to_string()
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_ranges_step_by_one_either_way() {
        let up = Axis::range("r", "2", "10").unwrap();
        assert_eq!(
            (up.steps(), up.value(0), up.value(8), up.value(99)),
            (8, "2".into(), "10".into(), "10".into())
        );
        let down = Axis::range("r", "10", "2").unwrap();
        assert_eq!((down.value(0), down.value(3)), ("10".into(), "7".into()));
    }

    #[test]
    fn decimal_ranges_print_the_grid_they_step_on() {
        let a = Axis::range("rate", "0.5", "1.2").unwrap();
        assert_eq!(a.steps(), FLOAT_STEPS);
        assert_eq!(a.value(0), "0.5");
        assert_eq!(a.value(1), "0.5007");
        assert_eq!(a.value(FLOAT_STEPS), "1.2");
        let b = Axis::range("rate", "50", "200.0").unwrap();
        assert_eq!(b.value(500), "125");
        assert_eq!(b.value(1), "50.15");
        for k in 0..=FLOAT_STEPS {
            let v: f64 = b.value(k).parse().unwrap();
            assert!((v - (50.0 + 0.15 * k as f64)).abs() < 1e-9, "{k}");
        }
    }

    #[test]
    fn duration_ranges_step_in_the_largest_unit_dividing_both_bounds() {
        let a = Axis::range("faults.0.for", "\"5s\"", "\"60s\"").unwrap();
        assert_eq!((a.steps(), a.value(0), a.value(55)), (55, "5s".into(), "60s".into()));
        assert_eq!(a.number(10), 15.0);
        let b = Axis::range("d", "500ms", "2s").unwrap();
        assert_eq!((b.steps(), b.value(1)), (1500, "501ms".into()));
        let c = Axis::range("d", "1m", "2m").unwrap();
        assert_eq!((c.steps(), c.value(1)), (1, "2m".into()));
    }

    #[test]
    fn bad_ranges_are_refused_with_a_reason() {
        assert!(Axis::range("x", "3", "3").unwrap_err().contains("single value"));
        assert!(Axis::range("x", "3", "5 parsecs").unwrap_err().contains("neither a number"));
        assert!(Axis::range("x", "1", "inf").is_err());
        assert!(Axis::parse("x", "1,,2").unwrap_err().contains("empty"));
    }

    #[test]
    fn grids_spread_points_and_include_both_bounds() {
        let a = Axis::parse("r", "100..200").unwrap();
        assert_eq!(
            a.grid(5).iter().map(|k| a.value(*k)).collect::<Vec<_>>(),
            ["100", "125", "150", "175", "200"]
        );
        let b = Axis::parse("n", "1..3").unwrap();
        assert_eq!(b.grid(10), [0, 1, 2]);
        let l = Axis::parse("p", "a,b,c").unwrap();
        assert_eq!((l.grid(2), l.value(1), l.number(1)), (vec![0, 1, 2], "b".into(), 1.0));
        assert_eq!(Axis::parse("p", "1s,2s").unwrap().number(1), 2.0);
    }
}
