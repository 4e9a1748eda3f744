//! Protection policies as small, pure state machines: server-side admission and shedding, and
//! per-dependency limits, each following one real system's rules and defaults.
//!
//! - `gate`: [`Semaphore`] (Resilience4j semaphore bulkhead; also a resizable connection pool)
//!   and [`ThreadPool`] (Resilience4j thread-pool bulkhead = Java `ThreadPoolExecutor`), both
//!   answering [`Admit`] and holding waiting items in FIFO order.
//! - `rate`: [`RateLimiter`]: a continuous token bucket as GCRA ([`Gcra`]) or Envoy's local rate
//!   limit with discrete fills ([`DiscreteBucket`]); a refusal carries the retry-after.
//! - `codel`: [`Codel`], folly's CoDel variant: drop at dequeue after an interval whose minimum
//!   queueing delay stayed above target.
//! - `limit`: Netflix concurrency-limits: [`AimdLimit`] and [`Gradient2Limit`] behind
//!   [`ConcurrencyLimit`], and the [`Limiter`] that admits while `inflight < limit`.
//! - `shed`: [`Shedder`], SRE-book criticality classes ([`Criticality`]) with per-class
//!   thresholds on one overload metric.
//! - `cache`: [`Warmth`], a cache's hit ratio ramping up after a restart or flush.
//! - `backoff`: [`Backoff`], waits between retries: AWS jitter variants, gRPC (per language),
//!   Envoy, constant.
//! - `budget`: [`RetryBudget`]: Finagle, Envoy (budget and `max_retries`), gRPC retry
//!   throttling, AWS retry quota.
//! - `breaker`: [`Breaker`]: Resilience4j (count/time windows, slow calls) and consecutive
//!   failures.
//! - `throttle`: [`AdaptiveThrottle`], the SRE book's client-side adaptive throttling.
//! - `probe`: [`Probe`], a kubelet probe worker (liveness, readiness, startup): ticks aligned
//!   to the worker's start, threshold runs of results, initial verdicts per [`ProbeKind`].
//! - `rollout`: [`RollingUpdate`], a Kubernetes Deployment rolling update: surge/unavailable
//!   fenceposts ([`resolve`]) and one controller sync ([`RollingUpdate::step`]).
//! - `canary`: [`Canary`], an Argo Rollouts canary step machine (`setWeight`, `pause`,
//!   inline `analysis`, promote, abort) and the pod counts a weight becomes, without
//!   ([`basic_canary_counts`]) or with ([`routed_canary_counts`]) a traffic router.
//! - `analysis`: [`AnalysisRun`], one Argo analysis metric: per-measurement verdicts and the
//!   failure, inconclusive and consecutive-error limits.
//! - `bluegreen`: [`BlueGreen`], an Argo Rollouts blue-green rollout: preview, auto-promotion,
//!   the active switch and the delayed scale-down of the old set.
//! - `outlier`: [`OutlierDetector`], Envoy's passive outlier detection (consecutive 5xx and
//!   gateway failures, success rate, failure percentage) with sweep-aligned un-ejection.
//! - `hashing`: consistent hashing as Envoy builds it: [`RingHash`] (Ketama) and [`Maglev`],
//!   keyed by [`xxh64`] and answering a [`HostIndex`].
//! - `slow_start`: [`SlowStart`], Envoy's weight ramp for hosts that just became healthy.
//! - `window` (private): a ring of time slices with lazy expiry, the sliding window behind
//!   Finagle's budget, Resilience4j's time-based window and adaptive throttling.
//!
//! Design choice: nothing here knows about requests, events, timers or the engine. Each type
//! takes the current [`SimTime`](squall_kernel::SimTime) as an argument, evaluates time-based
//! rules (keep-alive, refills, intervals) lazily from it, and returns a decision. Items waiting
//! in a gate are the engine's own `T` (usually an id); the engine owns their timers and tells a
//! gate when one gives up. This keeps every policy testable alone, with worked examples from
//! the systems' sources, and free of allocation per operation beyond a growing `VecDeque`
//! (sliding windows are rings allocated once, in `new`).
#![warn(missing_docs)]

pub mod analysis;
pub mod backoff;
pub mod bluegreen;
pub mod breaker;
pub mod budget;
pub mod cache;
pub mod canary;
pub mod codel;
pub mod gate;
pub mod hashing;
pub mod limit;
pub mod outlier;
pub mod probe;
pub mod rate;
pub mod rollout;
pub mod shed;
pub mod slow_start;
pub mod throttle;
mod window;

pub use analysis::{AnalysisCounts, AnalysisPhase, AnalysisRun};
pub use backoff::{Backoff, BackoffState, GrpcJitter, Jitter};
pub use bluegreen::{BlueGreen, BlueGreenConfig, BlueGreenEvent, BlueGreenPhase};
pub use breaker::{
    Breaker, BreakerConfig, BreakerPermit, BreakerState, ConsecutiveConfig, Resilience4jConfig, SlidingWindow,
};
pub use budget::{AttemptResult, RetryBudget, RetryBudgetConfig};
pub use cache::Warmth;
pub use canary::{
    basic_canary_counts, routed_canary_counts, Canary, CanaryCounts, CanaryEvent, CanaryStatus, CanaryStep,
};
pub use codel::Codel;
pub use gate::{Admit, Semaphore, ThreadPool, WhenFull};
pub use hashing::{xxh64, HostIndex, Maglev, RingHash};
pub use limit::{
    AimdConfig, AimdLimit, ConcurrencyLimit, Gradient2Config, Gradient2Limit, Limiter, Outcome, Permit,
    QueueSize,
};
pub use outlier::{EjectionKind, HostResult, OutlierConfig, OutlierDetector, OutlierStats};
pub use probe::{Probe, ProbeConfig, ProbeKind, ProbeVerdict};
pub use rate::{DiscreteBucket, Gcra, RateLimiter};
pub use rollout::{resolve, IntOrPercent, ReplicaSetCounts, RollingUpdate, RolloutState, ScaleDecision};
pub use shed::{Criticality, ShedThresholds, Shedder};
pub use slow_start::SlowStart;
pub use throttle::{AdaptiveThrottle, AdaptiveThrottleConfig};
