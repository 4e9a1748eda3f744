//! Back-off between retry attempts: the AWS architecture-blog formulas, gRPC's (per
//! language), Envoy's doubling ceiling, and a fixed interval.
//!
//! Every function takes its random draw as a uniform `u` in `[0, 1)` from the caller, so the
//! policy needs no random number generator of its own and tests can pass exact values. A draw
//! `U(0, x)` is `floor(u·x)` nanoseconds (Envoy: whole milliseconds). `retry` below is
//! [`BackoffState::retries`], counted from 0 for the first retry.
//!
//! - [`Backoff::Exponential`] (Marc Brooker, "Exponential Backoff and Jitter", AWS
//!   Architecture Blog, 2015): `t = min(cap, base·2^retry)`; no jitter waits `t`, full jitter
//!   `U(0, t)`, equal jitter `t/2 + U(0, t/2)`, and decorrelated jitter
//!   `min(cap, U(base, 3·prev))` with `prev`, the previous wait, starting at `base` (if
//!   `3·prev < base` the wait is `min(cap, base)`).
//! - [`Backoff::Grpc`]: the current ceiling `cur` starts at `initialBackoff`; grpc-java
//!   (`RetriableStream`) and grpc-go wait `U(0, cur)`, gRPC C-core (`BackOff`, jitter 0.2)
//!   waits `cur·U(0.8, 1.2)`; then `cur = min(cur·multiplier, maxBackoff)`. The first ceiling
//!   is capped at `maxBackoff` too, as in gRFC A6 and grpc-go (grpc-java and C-core would use
//!   an `initialBackoff` above `maxBackoff` once; gRPC configs rarely have one).
//! - [`Backoff::Envoy`] (`JitteredExponentialBackOffStrategy`, integer milliseconds): state
//!   `next = base`; per retry `ceiling = next; next = next < max/2 ? 2·next : max; wait =
//!   random() % ceiling`. Intervals are truncated to whole ms and a base below 1 ms becomes
//!   1 ms, as Envoy's router does.
//! - [`Backoff::Constant`] and [`Backoff::Immediate`] ignore the draw.
//!
//! Arithmetic saturates: `2^retry` is never computed past 2^63, products saturate at
//! `u64::MAX` nanoseconds, so a huge retry count or a `SimDuration::MAX` parameter cannot
//! panic or wrap. [`Backoff::bounds`] gives the range of the next wait, which
//! [`Backoff::next_delay`] asserts it respects.

use squall_kernel::time::{round_ns, NS_PER_MS};
use squall_kernel::SimDuration;

/// How a jittered exponential back-off spreads its waits (AWS "Exponential Backoff and
/// Jitter", 2015). `t = min(cap, base · 2^retry)` with `retry` counted from 0.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Jitter {
    /// Wait exactly `t`: retries of many callers stay in lockstep.
    None,
    /// `U(0, t)`.
    Full,
    /// `t/2 + U(0, t/2)`.
    Equal,
    /// `min(cap, U(base, 3 · previous))`, the previous wait starting at `base`.
    Decorrelated,
}

/// How gRPC implementations jitter (gRFC A6 and its implementations differ).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum GrpcJitter {
    /// grpc-go and grpc-java: `U(0, current)`.
    Full,
    /// gRPC C-core (C++, Python, Ruby, PHP): `current · U(0.8, 1.2)`, which may exceed
    /// `max_backoff` by 20 %.
    CCore,
}

/// A back-off rule: the wait before each retry.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Backoff {
    /// Retry at once (the naive client).
    Immediate,
    /// The same wait every time (Resilience4j's `waitDuration`, 500 ms by default).
    Constant {
        /// The wait.
        delay: SimDuration,
    },
    /// AWS's exponential back-off with a jitter variant.
    Exponential {
        /// First ceiling.
        base: SimDuration,
        /// Largest ceiling.
        cap: SimDuration,
        /// How the wait is drawn below the ceiling.
        jitter: Jitter,
    },
    /// gRPC retry policy back-off: `current` starts at `initial_backoff` and is multiplied by
    /// `multiplier` after each retry, capped at `max_backoff`.
    Grpc {
        /// `initialBackoff`.
        initial_backoff: SimDuration,
        /// `maxBackoff`.
        max_backoff: SimDuration,
        /// `backoffMultiplier`.
        multiplier: f64,
        /// Per-language jitter.
        jitter: GrpcJitter,
    },
    /// Envoy's `JitteredExponentialBackOffStrategy`: retry n waits `U[0, min(base · 2^(n−1),
    /// max))` in whole milliseconds.
    Envoy {
        /// `retry_back_off.base_interval` (25 ms).
        base_interval: SimDuration,
        /// `retry_back_off.max_interval` (10 × base).
        max_interval: SimDuration,
    },
}

/// Per-request back-off state: how many retries were waited for, and the previous wait (or
/// gRPC's current ceiling). Small and `Copy`, kept inside each logical request.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct BackoffState {
    /// Retries already waited for.
    pub retries: u32,
    /// Previous wait (decorrelated), or the current ceiling (gRPC, Envoy); zero before the
    /// first retry.
    pub prev: SimDuration,
}

impl Backoff {
    /// The wait before the next retry, given a uniform draw `u` in `[0, 1)`. Advances `state`:
    /// `retries` goes up by one (saturating) and `prev` becomes the previous wait
    /// (decorrelated) or the next ceiling (gRPC, Envoy).
    ///
    /// # Panics
    /// If `u` is not in `[0, 1)`.
    pub fn next_delay(&self, state: &mut BackoffState, u: f64) -> SimDuration {
        assert!((0.0..1.0).contains(&u), "u must be a uniform draw in [0, 1), got {u}");
        let (lo, hi) = self.bounds(state);
        let (lo, hi) = (lo.as_nanos(), hi.as_nanos());
        let delay_ns = match *self {
            Backoff::Immediate => 0,
            Backoff::Constant { delay } => delay.as_nanos(),
            Backoff::Exponential { base, cap, jitter } => {
                let t = exp_ceiling(base, cap, state.retries);
                match jitter {
                    Jitter::None => t,
                    Jitter::Full => frac(t, u),
                    Jitter::Equal => {
                        let half = t / 2;
                        half + frac(t - half, u)
                    }
                    Jitter::Decorrelated => {
                        let (base, cap) = (base.as_nanos(), cap.as_nanos());
                        let upper = decorrelated_upper(base, state);
                        let wait = base.saturating_add(frac(upper - base, u)).min(cap);
                        state.prev = SimDuration(wait);
                        wait
                    }
                }
            }
            Backoff::Grpc { initial_backoff, max_backoff, multiplier, jitter } => {
                let cur = grpc_ceiling(initial_backoff, max_backoff, state);
                let wait = match jitter {
                    GrpcJitter::Full => frac(cur, u),
                    // Clamped: `0.8 + 0.4·u` can round to just above 1.2 in f64.
                    GrpcJitter::CCore => round_ns(cur as f64 * (0.8 + 0.4 * u)).clamp(lo, hi),
                };
                let next = round_ns(cur as f64 * multiplier).min(max_backoff.as_nanos());
                state.prev = SimDuration(next);
                wait
            }
            Backoff::Envoy { base_interval, max_interval } => {
                let (base_ms, max_ms) = envoy_interval_ms(base_interval, max_interval);
                let ceiling_ms = envoy_ceiling_ms(base_ms, max_ms, state);
                let next_ms = if ceiling_ms < max_ms / 2 { 2 * ceiling_ms } else { max_ms };
                state.prev = SimDuration(next_ms * NS_PER_MS);
                // `random() % ceiling`: whole milliseconds in [0, ceiling).
                frac(ceiling_ms, u).min(ceiling_ms - 1) * NS_PER_MS
            }
        };
        assert!(delay_ns >= lo, "back-off {delay_ns} ns below its bound {lo} ns ({self:?})");
        assert!(delay_ns <= hi, "back-off {delay_ns} ns above its bound {hi} ns ({self:?})");
        state.retries = state.retries.saturating_add(1);
        SimDuration(delay_ns)
    }

    /// A server's pushback was honoured: the exponential state starts over (gRPC).
    pub fn reset(&self, state: &mut BackoffState) {
        *state = BackoffState::default();
    }

    /// The smallest and largest wait `next_delay` can return for the retry after `retries`
    /// earlier ones (for decorrelated jitter, given the previous wait `prev`). Both bounds are
    /// inclusive.
    pub fn bounds(&self, state: &BackoffState) -> (SimDuration, SimDuration) {
        let (lo, hi) = match *self {
            Backoff::Immediate => (0, 0),
            Backoff::Constant { delay } => (delay.as_nanos(), delay.as_nanos()),
            Backoff::Exponential { base, cap, jitter } => {
                let t = exp_ceiling(base, cap, state.retries);
                match jitter {
                    Jitter::None => (t, t),
                    Jitter::Full => (0, t),
                    Jitter::Equal => (t / 2, t),
                    Jitter::Decorrelated => {
                        let (base, cap) = (base.as_nanos(), cap.as_nanos());
                        (base.min(cap), decorrelated_upper(base, state).min(cap))
                    }
                }
            }
            Backoff::Grpc { initial_backoff, max_backoff, jitter, .. } => {
                let cur = grpc_ceiling(initial_backoff, max_backoff, state);
                match jitter {
                    GrpcJitter::Full => (0, cur),
                    GrpcJitter::CCore => (round_ns(cur as f64 * 0.8), round_ns(cur as f64 * 1.2)),
                }
            }
            Backoff::Envoy { base_interval, max_interval } => {
                let (base_ms, max_ms) = envoy_interval_ms(base_interval, max_interval);
                (0, (envoy_ceiling_ms(base_ms, max_ms, state) - 1) * NS_PER_MS)
            }
        };
        (SimDuration(lo), SimDuration(hi))
    }
}

/// `floor(u·t)` for `u` in `[0, 1)`, never above `t` (`t as f64` may round up).
fn frac(t: u64, u: f64) -> u64 {
    // `as` truncates toward zero, which is floor for the non-negative product.
    ((u * t as f64) as u64).min(t)
}

/// AWS's ceiling `min(cap, base·2^retry)`, saturating.
fn exp_ceiling(base: SimDuration, cap: SimDuration, retry: u32) -> u64 {
    let base = base.as_nanos();
    let scaled = if base == 0 {
        0
    } else if retry >= u64::BITS {
        // 2^retry alone overflows: any positive base is past any cap.
        u64::MAX
    } else {
        base.saturating_mul(1u64 << retry)
    };
    scaled.min(cap.as_nanos())
}

/// Decorrelated jitter's upper end `3·prev` (prev starting at `base`), at least `base`.
fn decorrelated_upper(base: u64, state: &BackoffState) -> u64 {
    let prev = if state.retries == 0 { base } else { state.prev.as_nanos() };
    prev.saturating_mul(3).max(base)
}

/// gRPC's current ceiling: `initial_backoff` first, then what the previous retry left, never
/// above `max_backoff` (gRFC A6 and grpc-go cap the first one too).
fn grpc_ceiling(initial: SimDuration, max: SimDuration, state: &BackoffState) -> u64 {
    let cur = if state.retries == 0 { initial } else { state.prev };
    cur.as_nanos().min(max.as_nanos())
}

/// Envoy's intervals in whole milliseconds: protobuf durations are truncated to ms, a base
/// below 1 ms becomes 1 ms (router `RetryPolicyImpl`), and the maximum is at least the base
/// (Envoy rejects a smaller one at config load).
fn envoy_interval_ms(base: SimDuration, max: SimDuration) -> (u64, u64) {
    let base_ms = (base.as_nanos() / NS_PER_MS).max(1);
    (base_ms, (max.as_nanos() / NS_PER_MS).max(base_ms))
}

/// Envoy's ceiling for this retry: `base` first, then the `next` the previous retry stored,
/// kept within `[base, max]` so that a state from elsewhere cannot make it zero.
fn envoy_ceiling_ms(base_ms: u64, max_ms: u64, state: &BackoffState) -> u64 {
    if state.retries == 0 {
        base_ms
    } else {
        (state.prev.as_nanos() / NS_PER_MS).clamp(base_ms, max_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

    /// The waits of `n` retries, all drawn with the same `u`.
    fn waits(b: Backoff, u: f64, n: usize) -> Vec<SimDuration> {
        let mut state = BackoffState::default();
        (0..n).map(|_| b.next_delay(&mut state, u)).collect()
    }

    fn exponential(jitter: Jitter) -> Backoff {
        Backoff::Exponential { base: ms(100), cap: ms(1000), jitter }
    }

    #[test]
    fn immediate_and_constant_ignore_the_draw() {
        assert_eq!(waits(Backoff::Immediate, 0.7, 3), vec![SimDuration::ZERO; 3]);
        assert_eq!(waits(Backoff::Constant { delay: ms(500) }, 0.7, 3), vec![ms(500); 3]);
    }

    #[test]
    fn aws_no_jitter_doubles_up_to_the_cap() {
        let expected = [100, 200, 400, 800, 1000, 1000].map(ms);
        assert_eq!(waits(exponential(Jitter::None), 0.3, 6), expected);
    }

    #[test]
    fn aws_full_and_equal_jitter_scale_the_ceiling() {
        assert_eq!(waits(exponential(Jitter::Full), 0.5, 5), [50, 100, 200, 400, 500].map(ms));
        assert_eq!(waits(exponential(Jitter::Full), 0.0, 2), [0, 0].map(ms));
        // Equal: t/2 + u·t/2.
        assert_eq!(waits(exponential(Jitter::Equal), 0.0, 5), [50, 100, 200, 400, 500].map(ms));
        assert_eq!(waits(exponential(Jitter::Equal), 0.5, 5), [75, 150, 300, 600, 750].map(ms));
    }

    #[test]
    fn aws_decorrelated_jitter_carries_the_previous_wait() {
        let b = Backoff::Exponential { base: ms(100), cap: ms(1000), jitter: Jitter::Decorrelated };
        let mut s = BackoffState::default();
        // prev = base: U(100, 300) at 0.5 = 200.
        assert_eq!(b.bounds(&s), (ms(100), ms(300)));
        assert_eq!(b.next_delay(&mut s, 0.5), ms(200));
        assert_eq!(s.prev, ms(200));
        // U(100, 600) at 0.5 = 350.
        assert_eq!(b.next_delay(&mut s, 0.5), ms(350));
        // U(100, 1050) at 0.5 = 575.
        assert_eq!(b.next_delay(&mut s, 0.5), ms(575));
        // U(100, 1725), capped at 1000.
        assert_eq!(b.bounds(&s), (ms(100), ms(1000)));
        assert_eq!(b.next_delay(&mut s, 0.9), ms(1000));
        // A low draw comes back down: decorrelated waits are not monotone.
        assert_eq!(b.next_delay(&mut s, 0.0), ms(100));
    }

    #[test]
    fn decorrelated_with_a_cap_below_base_waits_the_cap() {
        let b = Backoff::Exponential { base: ms(100), cap: ms(20), jitter: Jitter::Decorrelated };
        // prev = 20 after the first wait, 3·20 < base: the range collapses to base, then cap.
        assert_eq!(waits(b, 0.99, 3), [20, 20, 20].map(ms));
    }

    #[test]
    fn grpc_java_and_go_draw_full_jitter_below_a_growing_ceiling() {
        // initialBackoff 100 ms, maxBackoff 1 s, multiplier 2 (gRFC A6's example).
        let b = Backoff::Grpc {
            initial_backoff: ms(100),
            max_backoff: ms(1000),
            multiplier: 2.0,
            jitter: GrpcJitter::Full,
        };
        assert_eq!(waits(b, 0.5, 6), [50, 100, 200, 400, 500, 500].map(ms));
        let mut s = BackoffState::default();
        b.next_delay(&mut s, 0.5);
        assert_eq!(s.prev, ms(200), "the ceiling for the second retry");
        assert_eq!(b.bounds(&s), (ms(0), ms(200)));
    }

    #[test]
    fn grpc_c_core_stays_within_twenty_percent_and_can_exceed_the_max() {
        let b = Backoff::Grpc {
            initial_backoff: ms(100),
            max_backoff: ms(1000),
            multiplier: 2.0,
            jitter: GrpcJitter::CCore,
        };
        assert_eq!(waits(b, 0.0, 6), [80, 160, 320, 640, 800, 800].map(ms));
        assert_eq!(waits(b, 0.5, 6), [100, 200, 400, 800, 1000, 1000].map(ms));
        let high = waits(b, 0.999_999, 6);
        assert!(high[5] > ms(1000) && high[5] <= ms(1200), "{high:?}");
        let mut s = BackoffState { retries: 5, prev: ms(1000) };
        assert_eq!(b.bounds(&s), (ms(800), ms(1200)));
        // Pushback resets the exponential state.
        b.reset(&mut s);
        assert_eq!(b.bounds(&s), (ms(80), ms(120)));
    }

    #[test]
    fn grpc_multiplier_below_two_grows_slowly() {
        let b = Backoff::Grpc {
            initial_backoff: ms(1000),
            max_backoff: ms(120_000),
            multiplier: 1.6,
            jitter: GrpcJitter::CCore,
        };
        assert_eq!(waits(b, 0.5, 3), [1000, 1600, 2560].map(ms));
    }

    #[test]
    fn envoy_ceiling_doubles_below_half_the_max_then_jumps_to_it() {
        // Defaults: base 25 ms, max 250 ms. Retry n waits U[0, min(25·2^(n−1), 250)) ms.
        let b = Backoff::Envoy { base_interval: ms(25), max_interval: ms(250) };
        assert_eq!(waits(b, 0.999_999, 6), [24, 49, 99, 199, 249, 249].map(ms));
        assert_eq!(waits(b, 0.0, 3), [0, 0, 0].map(ms));
        // Whole milliseconds: 0.5 · 25 = 12.5 → 12.
        assert_eq!(waits(b, 0.5, 2), [12, 25].map(ms));
        let mut s = BackoffState::default();
        b.next_delay(&mut s, 0.1);
        assert_eq!(s.prev, ms(50), "the next ceiling");
    }

    #[test]
    fn envoy_base_below_one_millisecond_becomes_one() {
        let b = Backoff::Envoy { base_interval: SimDuration::from_micros(300), max_interval: ms(4) };
        let mut s = BackoffState::default();
        assert_eq!(b.bounds(&s), (ms(0), ms(0)), "U[0, 1) ms in whole ms is 0");
        assert_eq!(b.next_delay(&mut s, 0.9), ms(0));
        // Ceilings 1, 2, then 4 (2 is not below 4/2).
        assert_eq!(b.next_delay(&mut s, 0.9), ms(1));
        assert_eq!(b.next_delay(&mut s, 0.9), ms(3));
        assert_eq!(b.next_delay(&mut s, 0.9), ms(3));
    }

    #[test]
    fn huge_retry_counts_saturate_instead_of_overflowing() {
        let s = BackoffState { retries: u32::MAX, prev: SimDuration::MAX };
        let cases = [
            exponential(Jitter::None),
            exponential(Jitter::Decorrelated),
            Backoff::Exponential { base: SimDuration::MAX, cap: SimDuration::MAX, jitter: Jitter::Equal },
            Backoff::Grpc {
                initial_backoff: ms(1),
                max_backoff: SimDuration::MAX,
                multiplier: 1e300,
                jitter: GrpcJitter::CCore,
            },
            Backoff::Envoy { base_interval: SimDuration::MAX, max_interval: SimDuration::MAX },
        ];
        for b in cases {
            let mut s = s;
            let d = b.next_delay(&mut s, 0.999);
            assert_eq!(s.retries, u32::MAX, "saturated");
            let (lo, hi) = b.bounds(&BackoffState { retries: u32::MAX, prev: SimDuration::MAX });
            assert!(lo <= d && d <= hi, "{b:?}: {d:?} outside [{lo:?}, {hi:?}]");
        }
        assert_eq!(waits(exponential(Jitter::None), 0.0, 80)[79], ms(1000));
    }

    fn any_duration() -> impl Strategy<Value = SimDuration> {
        prop_oneof![
            (0u64..10_000_000_000).prop_map(SimDuration),
            Just(SimDuration::ZERO),
            Just(SimDuration::MAX),
            (0u64..u64::MAX).prop_map(SimDuration),
        ]
    }

    fn any_backoff() -> impl Strategy<Value = Backoff> {
        let jitter = prop_oneof![
            Just(Jitter::None),
            Just(Jitter::Full),
            Just(Jitter::Equal),
            Just(Jitter::Decorrelated)
        ];
        let grpc_jitter = prop_oneof![Just(GrpcJitter::Full), Just(GrpcJitter::CCore)];
        prop_oneof![
            Just(Backoff::Immediate),
            any_duration().prop_map(|delay| Backoff::Constant { delay }),
            (any_duration(), any_duration(), jitter).prop_map(|(base, cap, jitter)| Backoff::Exponential {
                base,
                cap,
                jitter
            }),
            (any_duration(), any_duration(), 0.01f64..10.0, grpc_jitter).prop_map(
                |(initial_backoff, max_backoff, multiplier, jitter)| Backoff::Grpc {
                    initial_backoff,
                    max_backoff,
                    multiplier,
                    jitter
                }
            ),
            (any_duration(), any_duration())
                .prop_map(|(a, b)| Backoff::Envoy { base_interval: a.min(b), max_interval: a.max(b) }),
        ]
    }

    proptest! {
        /// Every wait lies in the bounds computed just before it, and never above the
        /// configured cap (`max_backoff · 1.2` for C-core; Envoy's max, whose config is
        /// generated with `max ≥ base` as Envoy requires).
        #[test]
        fn backoff_stays_in_its_bounds(
            b in any_backoff(),
            start in prop_oneof![Just(0u32), any::<u32>()],
            draws in proptest::collection::vec(0.0f64..1.0, 1..60),
        ) {
            let mut s = BackoffState { retries: start, ..BackoffState::default() };
            for u in draws {
                let (lo, hi) = b.bounds(&s);
                prop_assert!(lo <= hi);
                let before = s;
                let d = b.next_delay(&mut s, u);
                prop_assert!(lo <= d && d <= hi, "{:?} outside [{:?}, {:?}] after {:?}", d, lo, hi, before);
                prop_assert_eq!(s.retries, before.retries.saturating_add(1));
                match b {
                    Backoff::Immediate => prop_assert_eq!(d, SimDuration::ZERO),
                    Backoff::Constant { delay } => prop_assert_eq!(d, delay),
                    Backoff::Exponential { cap, .. } => prop_assert!(d <= cap),
                    Backoff::Grpc { max_backoff, jitter: GrpcJitter::Full, .. } => prop_assert!(d <= max_backoff),
                    Backoff::Grpc { max_backoff, jitter: GrpcJitter::CCore, .. } => {
                        prop_assert!(d.as_nanos() as f64 <= max_backoff.as_nanos() as f64 * 1.2 + 1.0)
                    }
                    Backoff::Envoy { base_interval, max_interval } => {
                        prop_assert!(d < max_interval.max(SimDuration::from_millis(1)), "{:?}", d);
                        prop_assert!(d < max_interval || base_interval < SimDuration::from_millis(1));
                        prop_assert_eq!(d.as_nanos() % NS_PER_MS, 0, "whole milliseconds");
                    }
                }
            }
        }
    }
}
