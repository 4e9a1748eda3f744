//! Criticality-based load shedding, after the Google SRE book (ch. 21, "Handling Overload"):
//! requests carry one of `CRITICAL_PLUS`, `CRITICAL` (the default), `SHEDDABLE_PLUS`,
//! `SHEDDABLE`, and under overload the least critical are rejected first.
//!
//! The book gives no numbers, so the thresholds are ours: one overload metric (queue length,
//! queue delay in ns, in-flight count: the shedder does not care) and one threshold per class.
//! By default `Critical` sheds at `at`, `SheddablePlus` at 75 % of it, `Sheddable` at 50 % and
//! `CriticalPlus` at 125 %, each rounded up to an integer (so comparing the integer metric with
//! it is the same as comparing with the exact fraction). A request is shed iff
//! `metric ≥ threshold(class)`. Thresholds never decrease with criticality, so whenever a class
//! is admitted every more critical class is admitted too.

/// How much a request matters, most critical first. Propagates to downstream calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Criticality {
    /// Shed last: user-visible and must not fail.
    CriticalPlus,
    /// The default for user-facing traffic.
    #[default]
    Critical,
    /// Tolerates some unavailability.
    SheddablePlus,
    /// Batch or best-effort traffic: shed first.
    Sheddable,
}

impl Criticality {
    /// All classes, most critical first.
    pub const ALL: [Criticality; 4] = [
        Criticality::CriticalPlus,
        Criticality::Critical,
        Criticality::SheddablePlus,
        Criticality::Sheddable,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Per-class shedding thresholds on the overload metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShedThresholds {
    /// Threshold for [`Criticality::CriticalPlus`].
    pub critical_plus: u64,
    /// Threshold for [`Criticality::Critical`].
    pub critical: u64,
    /// Threshold for [`Criticality::SheddablePlus`].
    pub sheddable_plus: u64,
    /// Threshold for [`Criticality::Sheddable`].
    pub sheddable: u64,
}

impl ShedThresholds {
    /// Whether more critical classes never shed before less critical ones, as
    /// [`Shedder::with_thresholds`] requires. Scenario validation should call this first.
    pub fn is_monotone(&self) -> bool {
        self.critical_plus >= self.critical
            && self.critical >= self.sheddable_plus
            && self.sheddable_plus >= self.sheddable
    }
}

/// Decides, per request class, whether an overload metric is too high to admit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shedder {
    /// Thresholds indexed by `Criticality as usize`.
    thresholds: [u64; 4],
}

/// `ceil(at · num / 100)`, saturating at `u64::MAX`.
fn percent_ceil(at: u64, percent: u64) -> u64 {
    let scaled = (u128::from(at) * u128::from(percent)).div_ceil(100);
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

impl Shedder {
    /// The default ladder around `at`, the `Critical` threshold: 125 %, 100 %, 75 %, 50 %.
    ///
    /// # Panics
    /// If `at` is 0 (every class would always be shed).
    pub fn new(at: u64) -> Self {
        assert!(at >= 1, "a shedding threshold of 0 sheds everything");
        Self::with_thresholds(ShedThresholds {
            critical_plus: percent_ceil(at, 125),
            critical: at,
            sheddable_plus: percent_ceil(at, 75),
            sheddable: percent_ceil(at, 50),
        })
    }

    /// Explicit per-class thresholds.
    ///
    /// # Panics
    /// If they are not monotone ([`ShedThresholds::is_monotone`]).
    pub fn with_thresholds(t: ShedThresholds) -> Self {
        assert!(t.is_monotone(), "shedding thresholds must not increase as criticality drops: {t:?}");
        Shedder { thresholds: [t.critical_plus, t.critical, t.sheddable_plus, t.sheddable] }
    }

    /// The threshold at and above which `class` is shed.
    pub fn threshold(&self, class: Criticality) -> u64 {
        self.thresholds[class.index()]
    }

    /// Whether a request of `class` is shed at this metric value.
    pub fn should_shed(&self, metric: u64, class: Criticality) -> bool {
        metric >= self.threshold(class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn default_ladder_sheds_the_least_critical_first() {
        let s = Shedder::new(100);
        let shed_at = |m| Criticality::ALL.map(|c| s.should_shed(m, c));
        assert_eq!(shed_at(49), [false, false, false, false]);
        assert_eq!(shed_at(50), [false, false, false, true]);
        assert_eq!(shed_at(75), [false, false, true, true]);
        assert_eq!(shed_at(100), [false, true, true, true]);
        assert_eq!(shed_at(125), [true, true, true, true]);
    }

    #[test]
    fn fractional_thresholds_round_up() {
        let s = Shedder::new(1);
        assert_eq!(Criticality::ALL.map(|c| s.threshold(c)), [2, 1, 1, 1]);
        assert!(!s.should_shed(0, Criticality::Sheddable), "an empty queue sheds nothing");
        let s = Shedder::new(10);
        assert_eq!(Criticality::ALL.map(|c| s.threshold(c)), [13, 10, 8, 5]);
    }

    #[test]
    fn default_criticality_is_critical() {
        assert_eq!(Criticality::default(), Criticality::Critical);
    }

    #[test]
    fn thresholds_that_shed_critical_before_sheddable_are_not_monotone() {
        let t = ShedThresholds { critical_plus: 10, critical: 10, sheddable_plus: 20, sheddable: 5 };
        assert!(!t.is_monotone());
        assert!(
            ShedThresholds { critical_plus: 3, critical: 3, sheddable_plus: 3, sheddable: 0 }.is_monotone()
        );
    }

    proptest! {
        #[test]
        fn admitting_a_class_admits_every_more_critical_class(
            at in 1u64..u64::MAX,
            metric in any::<u64>(),
            explicit in proptest::option::of(proptest::array::uniform4(any::<u64>())),
        ) {
            let s = match explicit {
                Some(mut t) => {
                    t.sort_unstable_by(|a, b| b.cmp(a));
                    Shedder::with_thresholds(ShedThresholds {
                        critical_plus: t[0],
                        critical: t[1],
                        sheddable_plus: t[2],
                        sheddable: t[3],
                    })
                }
                None => Shedder::new(at),
            };
            for (i, &less) in Criticality::ALL.iter().enumerate() {
                for &more in &Criticality::ALL[..i] {
                    if !s.should_shed(metric, less) {
                        prop_assert!(!s.should_shed(metric, more), "{:?} admitted but {:?} shed", less, more);
                    }
                }
            }
        }
    }
}
