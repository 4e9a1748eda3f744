//! Rate limiting that answers a refusal with the time until a token is available (the
//! `Retry-After` a 429 response may carry, RFC 6585 §4).
//!
//! Two token buckets, both starting full:
//! - [`Gcra`], the continuous token bucket in its GCRA form (rate `r`, burst `b`): emission
//!   interval `T = 1/r` rounded to whole nanoseconds, tolerance `tau = T·(b − 1)`, state `TAT`
//!   (theoretical arrival time, initially 0). A request at `t` conforms iff `t ≥ TAT − tau`;
//!   then `TAT = max(t, TAT) + T`. Otherwise it is refused with retry-after `TAT − tau − t`
//!   and the state is unchanged. This decides exactly like a bucket of `b` tokens refilled
//!   continuously at one token per `T` (see the test against a naive bucket).
//! - [`DiscreteBucket`], Envoy's local rate limit (`envoy.type.v3.TokenBucket`: `max_tokens`,
//!   also the initial fill; `tokens_per_fill`, default 1; `fill_interval`, which Envoy requires to
//!   be at least 50 ms). Envoy adds `tokens_per_fill`, capped at `max_tokens`, on a timer that
//!   fires every `fill_interval` after the limiter is created; here fills happen at
//!   `start + k·fill_interval` for k ≥ 1, and a fill due at the same instant as a request is
//!   applied first. A request takes one token if any is left; otherwise the retry-after is the
//!   time until the next fill.
//!
//! Both are evaluated lazily from the `now` of each call: no timers.

use squall_kernel::time::{round_ns, NS_PER_S};
use squall_kernel::{SimDuration, SimTime};

/// A rate limiter: [`Gcra`] (continuous refill) or [`DiscreteBucket`] (Envoy's discrete fills).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateLimiter {
    /// Continuous token bucket.
    Gcra(Gcra),
    /// Envoy local rate limit token bucket.
    Discrete(DiscreteBucket),
}

impl RateLimiter {
    /// A continuous token bucket of `burst` tokens refilled at `rate_per_sec`; see [`Gcra::new`].
    pub fn gcra(rate_per_sec: f64, burst: u32) -> Self {
        RateLimiter::Gcra(Gcra::new(rate_per_sec, burst))
    }

    /// Envoy's bucket, with fills aligned to t = 0; see [`DiscreteBucket::new`].
    pub fn discrete(max_tokens: u32, tokens_per_fill: u32, fill_interval: SimDuration) -> Self {
        RateLimiter::Discrete(DiscreteBucket::new(max_tokens, tokens_per_fill, fill_interval))
    }

    /// `Ok(())` and one token consumed, or `Err(retry_after)`: the time from `now` until a
    /// token is available (always positive).
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's (see the variants).
    pub fn try_acquire(&mut self, now: SimTime) -> Result<(), SimDuration> {
        match self {
            RateLimiter::Gcra(g) => g.try_acquire(now),
            RateLimiter::Discrete(d) => d.try_acquire(now),
        }
    }
}

/// Continuous token bucket as GCRA: one timestamp of state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gcra {
    /// `T`: nanoseconds per token.
    emission: SimDuration,
    /// `tau = T·(burst − 1)`: how far ahead of `now` the schedule may run.
    tolerance: SimDuration,
    /// Theoretical arrival time of the next request if the flow were exactly at the rate.
    tat: SimTime,
    /// Latest `now` seen, to assert time order.
    now: SimTime,
}

impl Gcra {
    /// `burst` tokens (the bucket starts full), refilled at `rate_per_sec` tokens per second.
    ///
    /// `T` is rounded to the nearest nanosecond, so the effective rate is `1e9 / T`, which
    /// differs from `rate_per_sec` by at most half a nanosecond per token.
    ///
    /// # Panics
    /// If the rate is not positive and finite, is above 1e9 per second (`T` would be 0), or
    /// `burst` is 0.
    pub fn new(rate_per_sec: f64, burst: u32) -> Self {
        assert!(rate_per_sec.is_finite(), "rate must be finite, got {rate_per_sec}");
        assert!(rate_per_sec > 0.0, "rate must be positive, got {rate_per_sec}");
        assert!(burst >= 1, "burst must be at least 1 token");
        let emission_ns = round_ns(NS_PER_S as f64 / rate_per_sec);
        assert!(emission_ns >= 1, "rate {rate_per_sec}/s is finer than one token per nanosecond");
        let tolerance_ns = emission_ns.checked_mul(u64::from(burst - 1)).expect("burst·T overflows u64 ns");
        Gcra {
            emission: SimDuration(emission_ns),
            tolerance: SimDuration(tolerance_ns),
            tat: SimTime::ZERO,
            now: SimTime::ZERO,
        }
    }

    /// Takes a token at `now`, or says how long until one is available.
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's.
    pub fn try_acquire(&mut self, now: SimTime) -> Result<(), SimDuration> {
        assert!(now >= self.now, "time went backwards: {now:?} after {:?}", self.now);
        self.now = now;
        let conforms_from = SimTime(self.tat.0.saturating_sub(self.tolerance.0));
        if now < conforms_from {
            return Err(conforms_from.since(now));
        }
        // Saturates: a bucket slower than the run is long never refills, rather than panicking.
        self.tat = self.tat.max(now).saturating_add(self.emission);
        Ok(())
    }

    /// `T`, the time per token.
    pub fn emission_interval(&self) -> SimDuration {
        self.emission
    }

    /// `tau = T·(burst − 1)`.
    pub fn tolerance(&self) -> SimDuration {
        self.tolerance
    }

    /// Theoretical arrival time.
    pub fn tat(&self) -> SimTime {
        self.tat
    }
}

/// Envoy's local rate limit token bucket: discrete fills every `fill_interval`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscreteBucket {
    max_tokens: u32,
    tokens_per_fill: u32,
    fill_interval: SimDuration,
    /// Creation time; fills happen at `start + k·fill_interval`, k ≥ 1.
    start: SimTime,
    tokens: u32,
    /// Fills applied so far (the `k` of the latest applied fill).
    fills_done: u64,
    now: SimTime,
}

impl DiscreteBucket {
    /// A full bucket created at t = 0.
    ///
    /// # Panics
    /// If `max_tokens`, `tokens_per_fill` or `fill_interval` is zero (Envoy's proto rejects
    /// them too). Envoy's own minimum `fill_interval` of 50 ms is left to scenario validation.
    pub fn new(max_tokens: u32, tokens_per_fill: u32, fill_interval: SimDuration) -> Self {
        Self::starting_at(SimTime::ZERO, max_tokens, tokens_per_fill, fill_interval)
    }

    /// A full bucket created at `start`: its fill timer fires at `start + k·fill_interval`.
    ///
    /// # Panics
    /// As [`DiscreteBucket::new`].
    pub fn starting_at(
        start: SimTime,
        max_tokens: u32,
        tokens_per_fill: u32,
        fill_interval: SimDuration,
    ) -> Self {
        assert!(max_tokens >= 1, "max_tokens must be at least 1");
        assert!(tokens_per_fill >= 1, "tokens_per_fill must be at least 1");
        assert!(fill_interval > SimDuration::ZERO, "fill_interval must be positive");
        DiscreteBucket {
            max_tokens,
            tokens_per_fill,
            fill_interval,
            start,
            tokens: max_tokens,
            fills_done: 0,
            now: start,
        }
    }

    /// Applies every fill due at or before `now`.
    fn refill(&mut self, now: SimTime) {
        assert!(now >= self.now, "time went backwards: {now:?} after {:?}", self.now);
        self.now = now;
        let fills_due = now.since(self.start).as_nanos() / self.fill_interval.as_nanos();
        if fills_due > self.fills_done {
            let added = (fills_due - self.fills_done).saturating_mul(u64::from(self.tokens_per_fill));
            let tokens = u64::from(self.tokens).saturating_add(added).min(u64::from(self.max_tokens));
            self.tokens = u32::try_from(tokens).expect("capped at max_tokens, a u32");
            self.fills_done = fills_due;
        }
    }

    /// Takes a token at `now`, or says how long until the next fill.
    ///
    /// # Panics
    /// If `now` is earlier than the previous call's or than the bucket's start.
    pub fn try_acquire(&mut self, now: SimTime) -> Result<(), SimDuration> {
        self.refill(now);
        if self.tokens > 0 {
            self.tokens -= 1;
            return Ok(());
        }
        // Saturates: a fill beyond the end of simulated time never comes.
        let next_fill_ns = (self.fills_done + 1).saturating_mul(self.fill_interval.as_nanos());
        Err(self.start.saturating_add(SimDuration(next_fill_ns)).since(now))
    }

    /// Tokens left as of the latest call.
    pub fn tokens(&self) -> u32 {
        self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn gcra_allows_a_burst_then_one_token_per_interval() {
        // 10/s, burst 3: T = 100 ms, tau = 200 ms.
        let mut g = Gcra::new(10.0, 3);
        assert_eq!(g.emission_interval(), SimDuration::from_millis(100));
        assert_eq!(g.tolerance(), SimDuration::from_millis(200));
        for _ in 0..3 {
            assert_eq!(g.try_acquire(SimTime(0)), Ok(()));
        }
        assert_eq!(g.tat(), SimTime(300 * MS));
        assert_eq!(g.try_acquire(SimTime(0)), Err(SimDuration::from_millis(100)));
        assert_eq!(g.try_acquire(SimTime(40 * MS)), Err(SimDuration::from_millis(60)));
        assert_eq!(g.try_acquire(SimTime(100 * MS)), Ok(()));
        assert_eq!(g.try_acquire(SimTime(100 * MS)), Err(SimDuration::from_millis(100)));
        // After a long pause the bucket is full again, not fuller.
        let late = SimTime(10_000 * MS);
        for _ in 0..3 {
            assert_eq!(g.try_acquire(late), Ok(()));
        }
        assert!(g.try_acquire(late).is_err());
    }

    #[test]
    fn gcra_rounds_the_emission_interval_to_whole_nanoseconds() {
        assert_eq!(Gcra::new(3.0, 1).emission_interval(), SimDuration(333_333_333));
        assert_eq!(Gcra::new(1.5, 1).emission_interval(), SimDuration(666_666_667));
    }

    #[test]
    fn envoy_bucket_starts_full_and_fills_at_interval_boundaries() {
        // max 2, 1 token per 100 ms.
        let mut d = DiscreteBucket::new(2, 1, SimDuration::from_millis(100));
        assert_eq!(d.try_acquire(SimTime(10 * MS)), Ok(()));
        assert_eq!(d.try_acquire(SimTime(20 * MS)), Ok(()));
        assert_eq!(d.try_acquire(SimTime(30 * MS)), Err(SimDuration::from_millis(70)));
        assert_eq!(d.try_acquire(SimTime(100 * MS)), Ok(()), "the fill at 100 ms comes first");
        assert_eq!(d.try_acquire(SimTime(150 * MS)), Err(SimDuration::from_millis(50)));
        // Five fills later the bucket holds max_tokens, not five.
        assert_eq!(d.try_acquire(SimTime(650 * MS)), Ok(()));
        assert_eq!(d.tokens(), 1);
    }

    #[test]
    fn envoy_bucket_phase_follows_its_creation_time() {
        let mut d = DiscreteBucket::starting_at(SimTime(30 * MS), 1, 5, SimDuration::from_millis(100));
        assert_eq!(d.try_acquire(SimTime(30 * MS)), Ok(()));
        assert_eq!(d.try_acquire(SimTime(100 * MS)), Err(SimDuration::from_millis(30)));
        assert_eq!(d.try_acquire(SimTime(130 * MS)), Ok(()), "capped at one token");
        assert!(d.try_acquire(SimTime(130 * MS)).is_err());
    }

    #[test]
    fn rate_limiter_dispatches_to_both_kinds() {
        let mut g = RateLimiter::gcra(1.0, 1);
        assert_eq!(g.try_acquire(SimTime(0)), Ok(()));
        assert_eq!(g.try_acquire(SimTime(0)), Err(SimDuration::from_secs(1)));
        let mut d = RateLimiter::discrete(1, 1, SimDuration::from_secs(1));
        assert_eq!(d.try_acquire(SimTime(0)), Ok(()));
        assert_eq!(d.try_acquire(SimTime(0)), Err(SimDuration::from_secs(1)));
    }

    /// The textbook bucket, in integers: credit is counted in nanoseconds of refill, one token
    /// costs `T` of credit and the bucket holds `burst·T`. Exact, so any disagreement is GCRA's.
    struct NaiveBucket {
        credit: u128,
        capacity: u128,
        cost: u128,
        last: u64,
    }

    impl NaiveBucket {
        fn try_acquire(&mut self, now: u64) -> Result<(), u64> {
            self.credit = (self.credit + u128::from(now - self.last)).min(self.capacity);
            self.last = now;
            if self.credit >= self.cost {
                self.credit -= self.cost;
                Ok(())
            } else {
                Err(u64::try_from(self.cost - self.credit).unwrap())
            }
        }
    }

    fn request_times() -> impl Strategy<Value = (f64, u32, Vec<u64>)> {
        (0.1f64..10_000.0, 1u32..50).prop_flat_map(|(rate, burst)| {
            let t_ns = (1e9 / rate) as u64;
            // Gaps from 0 to 3 emission intervals: dense enough to hit the limit often.
            let gaps = proptest::collection::vec(0u64..3_000, 1..400);
            (
                Just(rate),
                Just(burst),
                gaps.prop_map(move |g| {
                    let mut now = 0u64;
                    g.into_iter()
                        .map(|milli_t| {
                            now += t_ns / 1000 * milli_t;
                            now
                        })
                        .collect()
                }),
            )
        })
    }

    proptest! {
        #[test]
        fn gcra_matches_a_naive_token_bucket((rate, burst, times) in request_times()) {
            let mut g = Gcra::new(rate, burst);
            let cost = u128::from(g.emission_interval().as_nanos());
            let capacity = cost * u128::from(burst);
            let mut naive = NaiveBucket { credit: capacity, capacity, cost, last: 0 };
            for &t in &times {
                let got = g.try_acquire(SimTime(t)).map_err(|d| d.as_nanos());
                prop_assert_eq!(got, naive.try_acquire(t), "at t = {} ns", t);
            }
        }

        /// Grants in [0, W] are at most `floor(W/T) + burst`: grant k needs
        /// `t_k ≥ TAT_{k−1} − tau ≥ (k−1)·T − (burst−1)·T`. Against the nominal rate: `T` is
        /// rounded, so `W/T ≤ r·W·(1 + δ)` with `δ ≈ r/(2e9)`; with `r ≤ 1e4/s` and
        /// `W ≤ ~12 s` the excess `r·W·δ` stays below 1, hence the `+ 1`.
        #[test]
        fn gcra_never_grants_more_than_rate_times_window_plus_burst((rate, burst, times) in request_times()) {
            let mut g = Gcra::new(rate, burst);
            let mut granted = 0u64;
            for &t in &times {
                if g.try_acquire(SimTime(t)).is_ok() {
                    granted += 1;
                }
            }
            let w_ns = *times.last().unwrap();
            let t_ns = g.emission_interval().as_nanos();
            prop_assert!(granted <= w_ns / t_ns + u64::from(burst), "exact bound");
            let nominal = rate * (w_ns as f64 / 1e9) + f64::from(burst) + 1.0;
            prop_assert!((granted as f64) <= nominal, "granted {} > {}", granted, nominal);
        }

        #[test]
        fn envoy_bucket_never_grants_more_than_its_fills(
            max_tokens in 1u32..20,
            per_fill in 1u32..5,
            interval_ms in 1u64..200,
            gaps in proptest::collection::vec(0u64..50 * MS, 1..300),
        ) {
            let interval = SimDuration::from_millis(interval_ms);
            let mut d = DiscreteBucket::new(max_tokens, per_fill, interval);
            let mut now = 0u64;
            let mut granted = 0u64;
            for gap in gaps {
                now += gap;
                match d.try_acquire(SimTime(now)) {
                    Ok(()) => granted += 1,
                    Err(wait) => {
                        prop_assert!(wait > SimDuration::ZERO && wait <= interval);
                        prop_assert_eq!((now + wait.as_nanos()) % interval.as_nanos(), 0, "retry at a fill");
                    }
                }
                let fills = now / interval.as_nanos();
                prop_assert!(granted <= u64::from(max_tokens) + fills * u64::from(per_fill));
            }
        }
    }
}
