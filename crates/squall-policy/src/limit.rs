//! Adaptive concurrency limits from Netflix's concurrency-limits library
//! (`concurrency-limits-core`, `limit/AIMDLimit.java`, `limit/Gradient2Limit.java`,
//! `limiter/AbstractLimiter.java`, `limiter/SimpleLimiter.java`).
//!
//! [`Limiter`] is `SimpleLimiter`: a request is rejected when `inflight ≥ limit`. On acquire the
//! in-flight count is incremented and that incremented value is captured for the request
//! (`AbstractLimiter.createListener`); on completion the count is decremented first, then the
//! limit algorithm gets `(rtt, captured inflight, didDrop)`. `onIgnore` decrements without a
//! sample. The optional `WindowedLimit` batching decorator is not modelled: every completion
//! is one sample.
//!
//! [`AimdLimit`] (defaults `initialLimit` 20, `minLimit` 20, `maxLimit` 200, `backoffRatio`
//! 0.9 in [0.5, 1), `timeout` 5 s), on an integer limit:
//! `if didDrop || rtt > timeout { limit = (int)(limit·backoffRatio) } else if inflight·2 ≥ limit
//! { limit += 1 }`, then clamp to `[minLimit, maxLimit]`. With the defaults it never drops
//! below 20.
//!
//! [`Gradient2Limit`] (defaults `initialLimit` 20, `minLimit` 20, `maxConcurrency` 200,
//! `smoothing` 0.2, `queueSize` 4, `longWindow` 600, `rttTolerance` 1.5) keeps a float
//! estimate; per sample, in this order:
//! 1. `queueSize = f((int)estimate)`;
//! 2. `longRtt` = exponential average with factor `2/(longWindow+1)`, a plain mean over the
//!    first 10 samples; the value just computed is used below, then if `longRtt/rtt > 2` the
//!    stored average is multiplied by 0.95 (recovery after a long overload);
//! 3. if `inflight < estimate/2`, stop (app-limited: no change);
//! 4. `gradient = max(0.5, min(1.0, rttTolerance·longRtt/rtt))`;
//!    `new = estimate·gradient + queueSize`; `new = estimate·(1−smoothing) + new·smoothing`;
//!    clamp to `[minLimit, maxConcurrency]`.
//!
//! `didDrop` is ignored by Gradient2. The limit exposed is `(int)estimate`. A zero RTT is
//! taken as 1 ns where it divides (Java would divide by zero and poison the estimate with NaN).

use squall_kernel::SimDuration;

/// AIMD parameters; `Default` gives Netflix's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AimdConfig {
    /// Limit before any sample.
    pub initial_limit: u32,
    /// Floor of the limit.
    pub min_limit: u32,
    /// Ceiling of the limit.
    pub max_limit: u32,
    /// Multiplier applied on a drop or timeout, in [0.5, 1).
    pub backoff_ratio: f64,
    /// An RTT above this counts as a drop.
    pub timeout: SimDuration,
}

impl Default for AimdConfig {
    fn default() -> Self {
        AimdConfig {
            initial_limit: 20,
            min_limit: 20,
            max_limit: 200,
            backoff_ratio: 0.9,
            timeout: SimDuration::from_secs(5),
        }
    }
}

/// Netflix `AIMDLimit`: additive increase while the limit is in use, multiplicative decrease
/// on a drop or an RTT above the timeout.
#[derive(Debug, Clone, PartialEq)]
pub struct AimdLimit {
    config: AimdConfig,
    limit: u32,
}

impl AimdLimit {
    /// An AIMD limit starting at `config.initial_limit` (not clamped until the first sample,
    /// as in Java).
    ///
    /// # Panics
    /// If `backoff_ratio` is outside [0.5, 1), `min_limit > max_limit`, or `timeout` is zero.
    pub fn new(config: AimdConfig) -> Self {
        let ratio = config.backoff_ratio;
        assert!((0.5..1.0).contains(&ratio), "backoff ratio {ratio} outside [0.5, 1)");
        assert!(config.min_limit <= config.max_limit, "min limit above max limit: {config:?}");
        assert!(config.timeout > SimDuration::ZERO, "AIMD timeout must be positive");
        AimdLimit { config, limit: config.initial_limit }
    }

    /// Feeds one completed request: its RTT, the in-flight count captured when it started,
    /// and whether it was dropped.
    pub fn on_sample(&mut self, rtt: SimDuration, inflight: u32, did_drop: bool) {
        let c = &self.config;
        let mut limit = self.limit;
        if did_drop || rtt > c.timeout {
            // Java's `(int)` truncates toward zero; the product is never negative.
            limit = (f64::from(limit) * c.backoff_ratio) as u32;
        } else if u64::from(inflight) * 2 >= u64::from(limit) {
            limit = limit.saturating_add(1);
        }
        self.limit = limit.clamp(c.min_limit, c.max_limit);
    }

    /// The current limit.
    pub fn limit(&self) -> u32 {
        self.limit
    }
}

/// Gradient2's `queueSize`: how far the limit may grow beyond the gradient's estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueSize {
    /// A constant (Netflix default: 4).
    Fixed(u32),
    /// Netflix `SquareRootFunction.create(baseline)`: `max(baseline, max(1, floor(sqrt(limit))))`.
    SqrtAtLeast(u32),
}

impl QueueSize {
    fn at(self, limit: u32) -> u32 {
        match self {
            QueueSize::Fixed(n) => n,
            QueueSize::SqrtAtLeast(baseline) => baseline.max(limit.isqrt().max(1)),
        }
    }
}

/// Gradient2 parameters; `Default` gives Netflix's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gradient2Config {
    /// Estimate before any sample.
    pub initial_limit: u32,
    /// Floor of the estimate.
    pub min_limit: u32,
    /// Ceiling of the estimate.
    pub max_concurrency: u32,
    /// Weight of the new estimate, in (0, 1].
    pub smoothing: f64,
    /// Growth allowance added to the gradient estimate.
    pub queue_size: QueueSize,
    /// Samples in the long RTT average's window (factor `2/(n+1)`).
    pub long_window: u32,
    /// How much RTT growth over the long average is tolerated before shrinking, at least 1.
    pub rtt_tolerance: f64,
}

impl Default for Gradient2Config {
    fn default() -> Self {
        Gradient2Config {
            initial_limit: 20,
            min_limit: 20,
            max_concurrency: 200,
            smoothing: 0.2,
            queue_size: QueueSize::Fixed(4),
            long_window: 600,
            rtt_tolerance: 1.5,
        }
    }
}

/// Samples averaged plainly before the exponential average takes over (Netflix hard-codes 10).
const LONG_RTT_WARMUP: u32 = 10;

/// Netflix `ExpAvgMeasurement(window, 10)`, in nanoseconds.
#[derive(Debug, Clone, PartialEq)]
struct ExpAvg {
    value: f64,
    sum: f64,
    count: u32,
    factor: f64,
}

impl ExpAvg {
    fn new(window: u32) -> Self {
        ExpAvg { value: 0.0, sum: 0.0, count: 0, factor: 2.0 / (f64::from(window) + 1.0) }
    }

    fn add(&mut self, sample: f64) -> f64 {
        if self.count < LONG_RTT_WARMUP {
            self.count += 1;
            self.sum += sample;
            self.value = self.sum / f64::from(self.count);
        } else {
            self.value = self.value * (1.0 - self.factor) + sample * self.factor;
        }
        self.value
    }
}

/// Netflix `Gradient2Limit`: shrinks the limit when the latest RTT rises above the long-term
/// average RTT, grows it by `queueSize` otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradient2Limit {
    config: Gradient2Config,
    estimate: f64,
    long_rtt: ExpAvg,
}

impl Gradient2Limit {
    /// A Gradient2 limit starting at `config.initial_limit`.
    ///
    /// # Panics
    /// If `min_limit > max_concurrency`, `smoothing` is outside (0, 1], `long_window` is 0, or
    /// `rtt_tolerance` is below 1.
    pub fn new(config: Gradient2Config) -> Self {
        assert!(config.min_limit <= config.max_concurrency, "min limit above max: {config:?}");
        assert!(config.smoothing > 0.0 && config.smoothing <= 1.0, "smoothing outside (0, 1]: {config:?}");
        assert!(config.long_window >= 1, "long window must hold at least one sample");
        assert!(config.rtt_tolerance >= 1.0, "rtt tolerance below 1: {config:?}");
        Gradient2Limit {
            config,
            estimate: f64::from(config.initial_limit),
            long_rtt: ExpAvg::new(config.long_window),
        }
    }

    /// Feeds one completed request. `did_drop` is accepted for symmetry and ignored, as in Java.
    pub fn on_sample(&mut self, rtt: SimDuration, inflight: u32, _did_drop: bool) {
        let c = &self.config;
        let queue_size = f64::from(c.queue_size.at(self.limit()));
        let long_rtt = self.long_rtt.add(rtt.as_nanos() as f64);
        let short_rtt = rtt.as_nanos().max(1) as f64;
        if long_rtt / short_rtt > 2.0 {
            self.long_rtt.value *= 0.95;
        }
        if f64::from(inflight) < self.estimate / 2.0 {
            return;
        }
        // Never NaN: `short_rtt` is at least 1 and `long_rtt` is a finite mean of RTTs.
        let gradient = (c.rtt_tolerance * long_rtt / short_rtt).clamp(0.5, 1.0);
        let grown = self.estimate * gradient + queue_size;
        let smoothed = self.estimate * (1.0 - c.smoothing) + grown * c.smoothing;
        self.estimate = smoothed.min(f64::from(c.max_concurrency)).max(f64::from(c.min_limit));
    }

    /// `(int)` of the estimate.
    pub fn limit(&self) -> u32 {
        // Truncation, as Java's `(int)`; the estimate is finite and non-negative.
        self.estimate as u32
    }

    /// The float estimate.
    pub fn estimate(&self) -> f64 {
        self.estimate
    }

    /// The long-term RTT average, in nanoseconds.
    pub fn long_rtt_ns(&self) -> f64 {
        self.long_rtt.value
    }
}

/// A concurrency limit algorithm (the engine's closed set; no trait objects).
#[derive(Debug, Clone, PartialEq)]
pub enum ConcurrencyLimit {
    /// Loss-based additive increase, multiplicative decrease.
    Aimd(AimdLimit),
    /// Latency-gradient based.
    Gradient2(Gradient2Limit),
}

impl ConcurrencyLimit {
    /// Feeds one completed request: RTT, in-flight count captured at its start, dropped or not.
    pub fn on_sample(&mut self, rtt: SimDuration, inflight: u32, did_drop: bool) {
        match self {
            ConcurrencyLimit::Aimd(l) => l.on_sample(rtt, inflight, did_drop),
            ConcurrencyLimit::Gradient2(l) => l.on_sample(rtt, inflight, did_drop),
        }
    }

    /// The current integer limit.
    pub fn limit(&self) -> u32 {
        match self {
            ConcurrencyLimit::Aimd(l) => l.limit(),
            ConcurrencyLimit::Gradient2(l) => l.limit(),
        }
    }
}

/// Proof of an admitted request, carrying the in-flight count captured at admission (itself
/// included). Hand it back to [`Limiter::release`] exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a permit must be released, or the limiter leaks in-flight slots"]
pub struct Permit {
    inflight: u32,
}

impl Permit {
    /// The in-flight count when the request was admitted, itself included.
    pub fn inflight(self) -> u32 {
        self.inflight
    }
}

/// How an admitted request ended, as Netflix's `Limiter.Listener` callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `onSuccess`: a sample with `didDrop = false`.
    Success,
    /// `onDropped` (dropped or timed out): a sample with `didDrop = true`.
    Dropped,
    /// `onIgnore`: no sample, only the in-flight slot is freed.
    Ignored,
}

/// Netflix `SimpleLimiter`: admits while `inflight < limit`.
#[derive(Debug, Clone, PartialEq)]
pub struct Limiter {
    limit: ConcurrencyLimit,
    inflight: u32,
}

impl Limiter {
    /// A limiter with nothing in flight.
    pub fn new(limit: ConcurrencyLimit) -> Self {
        Limiter { limit, inflight: 0 }
    }

    /// Admits a request unless `inflight ≥ limit`.
    pub fn try_acquire(&mut self) -> Option<Permit> {
        if self.inflight >= self.limit.limit() {
            return None;
        }
        self.inflight += 1;
        Some(Permit { inflight: self.inflight })
    }

    /// An admitted request ended after `rtt`. Frees its slot, then feeds the sample.
    ///
    /// # Panics
    /// If nothing is in flight (a permit released twice).
    pub fn release(&mut self, permit: Permit, rtt: SimDuration, outcome: Outcome) {
        assert!(self.inflight > 0, "release with nothing in flight: {permit:?}");
        self.inflight -= 1;
        match outcome {
            Outcome::Success => self.limit.on_sample(rtt, permit.inflight, false),
            Outcome::Dropped => self.limit.on_sample(rtt, permit.inflight, true),
            Outcome::Ignored => {}
        }
    }

    /// The current limit.
    pub fn limit(&self) -> u32 {
        self.limit.limit()
    }

    /// Requests admitted and not yet released.
    pub fn inflight(&self) -> u32 {
        self.inflight
    }

    /// The limit algorithm.
    pub fn algorithm(&self) -> &ConcurrencyLimit {
        &self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

    fn aimd_at(limit: u32) -> AimdLimit {
        AimdLimit::new(AimdConfig { initial_limit: limit, ..AimdConfig::default() })
    }

    #[test]
    fn aimd_drop_at_30_gives_27() {
        let mut l = aimd_at(30);
        l.on_sample(ms(10), 30, true);
        assert_eq!(l.limit(), 27);
    }

    #[test]
    fn aimd_rtt_above_timeout_counts_as_a_drop() {
        let mut l = aimd_at(100);
        l.on_sample(SimDuration::from_secs(5), 100, false);
        assert_eq!(l.limit(), 101, "exactly the timeout is not a drop");
        l.on_sample(SimDuration(5_000_000_001), 100, false);
        assert_eq!(l.limit(), 90);
    }

    #[test]
    fn aimd_never_drops_below_min_limit_20() {
        let mut l = AimdLimit::new(AimdConfig::default());
        l.on_sample(ms(1), 20, true);
        assert_eq!(l.limit(), 20);
        let mut l = aimd_at(21);
        l.on_sample(ms(1), 20, true);
        assert_eq!(l.limit(), 20, "int(21·0.9) = 18, clamped");
    }

    #[test]
    fn aimd_grows_only_while_half_the_limit_is_in_flight() {
        let mut l = AimdLimit::new(AimdConfig::default());
        l.on_sample(ms(1), 9, false);
        assert_eq!(l.limit(), 20);
        l.on_sample(ms(1), 10, false);
        assert_eq!(l.limit(), 21);
        let mut l = aimd_at(200);
        l.on_sample(ms(1), 200, false);
        assert_eq!(l.limit(), 200, "capped at maxLimit");
    }

    #[test]
    fn gradient2_grows_by_a_fifth_of_queue_size_at_steady_rtt() {
        let mut l = Gradient2Limit::new(Gradient2Config::default());
        l.on_sample(ms(10), 20, false);
        // gradient 1 (clamped from 1.5); new = 20 + 4; smoothed 20·0.8 + 24·0.2 = 20.8.
        assert!((l.estimate() - 20.8).abs() < 1e-9, "{}", l.estimate());
        assert_eq!(l.limit(), 20);
        l.on_sample(ms(10), 20, false);
        assert!((l.estimate() - 21.6).abs() < 1e-9, "{}", l.estimate());
        assert_eq!(l.limit(), 21);
    }

    #[test]
    fn gradient2_shrinks_when_rtt_jumps_and_respects_min_limit() {
        let config = Gradient2Config { initial_limit: 100, ..Gradient2Config::default() };
        let mut l = Gradient2Limit::new(config);
        for _ in 0..10 {
            l.on_sample(ms(10), 100, false);
        }
        let before = l.estimate();
        // long ≈ 10.1 ms, short 40 ms: 1.5·long/short ≈ 0.38, clamped to 0.5.
        // new = 0.8·L + 0.2·(0.5·L + 4) = 0.9·L + 0.8.
        l.on_sample(ms(40), 100, false);
        assert!((l.estimate() - (0.9 * before + 0.8)).abs() < 1e-9);
        for _ in 0..200 {
            l.on_sample(ms(400), 100, false);
        }
        assert_eq!(l.limit(), 20);
    }

    #[test]
    fn gradient2_does_not_change_when_app_limited() {
        let mut l = Gradient2Limit::new(Gradient2Config::default());
        l.on_sample(ms(10), 9, false);
        assert_eq!(l.estimate(), 20.0);
        assert_eq!(l.long_rtt_ns(), 10_000_000.0, "the RTT average still learns");
    }

    #[test]
    fn gradient2_long_rtt_warms_up_then_averages_exponentially() {
        let mut l = Gradient2Limit::new(Gradient2Config::default());
        for i in 1..=10 {
            l.on_sample(ms(i), 0, false);
        }
        assert!((l.long_rtt_ns() - 5_500_000.0).abs() < 1e-6, "plain mean of 1..=10 ms");
        l.on_sample(ms(10), 0, false);
        let expected = 5_500_000.0 * (1.0 - 2.0 / 601.0) + 10_000_000.0 * (2.0 / 601.0);
        assert!((l.long_rtt_ns() - expected).abs() < 1e-6);
    }

    #[test]
    fn gradient2_long_rtt_decays_when_far_above_the_latest_rtt() {
        let mut l = Gradient2Limit::new(Gradient2Config::default());
        l.on_sample(ms(30), 0, false);
        l.on_sample(ms(3), 0, false);
        // Mean 16.5 ms > 2·3 ms: decays by 5 %.
        assert!((l.long_rtt_ns() - 16_500_000.0 * 0.95).abs() < 1e-6);
    }

    #[test]
    fn gradient2_sqrt_queue_size() {
        assert_eq!(QueueSize::SqrtAtLeast(4).at(100), 10);
        assert_eq!(QueueSize::SqrtAtLeast(4).at(9), 4);
        assert_eq!(QueueSize::SqrtAtLeast(0).at(0), 1);
    }

    #[test]
    fn limiter_rejects_at_the_limit_and_samples_the_inflight_count_at_admission() {
        let aimd = AimdLimit::new(AimdConfig { initial_limit: 2, min_limit: 1, ..AimdConfig::default() });
        let mut lim = Limiter::new(ConcurrencyLimit::Aimd(aimd));
        let first = lim.try_acquire().expect("below the limit");
        let second = lim.try_acquire().expect("below the limit");
        assert_eq!((first.inflight(), second.inflight()), (1, 2));
        assert_eq!(lim.try_acquire(), None);
        // first saw inflight 1: 1·2 ≥ 2, so the limit grows to 3.
        lim.release(first, ms(5), Outcome::Success);
        assert_eq!((lim.limit(), lim.inflight()), (3, 1));
        lim.release(second, ms(5), Outcome::Ignored);
        assert_eq!((lim.limit(), lim.inflight()), (3, 0));
        let third = lim.try_acquire().unwrap();
        lim.release(third, ms(5), Outcome::Dropped);
        assert_eq!(lim.limit(), 2, "int(3·0.9) = 2");
    }

    proptest! {
        #[test]
        fn aimd_limit_stays_within_bounds(
            min in 1u32..50,
            span in 0u32..200,
            start in 0u32..=250,
            ratio in 0.5f64..0.99,
            samples in proptest::collection::vec((0u64..10_000, 0u32..400, any::<bool>()), 1..300),
        ) {
            let max = min + span;
            let initial = start.clamp(min, max);
            let mut l = AimdLimit::new(AimdConfig {
                initial_limit: initial,
                min_limit: min,
                max_limit: max,
                backoff_ratio: ratio,
                timeout: SimDuration::from_secs(5),
            });
            for (rtt_ms, inflight, drop) in samples {
                l.on_sample(ms(rtt_ms), inflight, drop);
                prop_assert!(l.limit() >= min && l.limit() <= max, "limit {} outside [{}, {}]", l.limit(), min, max);
            }
        }

        #[test]
        fn gradient2_limit_stays_within_bounds(
            min in 1u32..50,
            span in 0u32..200,
            start in 0u32..=250,
            sqrt in any::<bool>(),
            samples in proptest::collection::vec((0u64..5_000_000_000, 0u32..400, any::<bool>()), 1..300),
        ) {
            let max = min + span;
            let config = Gradient2Config {
                initial_limit: start.clamp(min, max),
                min_limit: min,
                max_concurrency: max,
                queue_size: if sqrt { QueueSize::SqrtAtLeast(4) } else { QueueSize::Fixed(4) },
                ..Gradient2Config::default()
            };
            let mut l = Gradient2Limit::new(config);
            for (rtt_ns, inflight, drop) in samples {
                l.on_sample(SimDuration(rtt_ns), inflight, drop);
                prop_assert!(l.estimate().is_finite());
                prop_assert!(l.limit() >= min && l.limit() <= max, "limit {} outside [{}, {}]", l.limit(), min, max);
            }
        }
    }
}
