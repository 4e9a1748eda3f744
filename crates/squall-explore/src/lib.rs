//! Exploration: what must hold in a scenario's runs, over which space of seeds and
//! parameters, and what the answers add up to. Nothing here reads files or draws; a caller
//! hands in a function that builds and runs one setting, and gets plain results back.
//!
//! - `invariant`: [`Invariant`]s and [`evaluate`], a [`Verdict`] per invariant on one
//!   `RunOutput`, with the value measured.
//! - `space`: [`Axis`], a scenario path and the ladder of values it ranges over.
//! - `check`: [`check`] over cases drawn by proptest, shrinking each invariant's first
//!   failure; [`Shard`]s and [`CheckResult::merge`].
//! - `persist`: a check's results as a file, for shards and `merge`.
//! - `sweep`: [`sweep::sweep`] over grid or random points, variants and seeds, with
//!   [`sweep::measure`]'s metrics per run and means with intervals per point.
//! - `stats`: Wilson intervals for pass rates, Student-t intervals for means over seeds.
//!
//! Design choice: every case is a function of the plan alone (case `i` is drawn `i`-th from
//! a generator seeded by the scenario's seed), runs are independent, and results are put
//! back in case order, so the answer is the same at any thread count and any sharding.
#![warn(missing_docs)]

pub mod check;
pub mod invariant;
pub mod persist;
pub mod space;
pub mod stats;
pub mod sweep;

pub use check::{
    check, guarded, CaseResult, CheckPlan, CheckResult, FailedCase, InvariantSummary, RunFn, Setting, Shard,
    Shrunk,
};
pub use invariant::{always, evaluate, Evidence, Invariant, Rule, Scope, Site, Unit, Verdict};
pub use persist::{
    check_from_json, check_to_json, run_command, shard_kind, sweep_from_json, sweep_to_json, CheckMeta,
    SweepMeta,
};
pub use space::{Axis, Values};
pub use stats::{mean_ci, wilson, Estimate};
pub use sweep::{FailedRun, RunRow, SweepPlan};
