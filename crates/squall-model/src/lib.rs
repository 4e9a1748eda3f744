//! The simulated world: client groups, services with instances, workers and queues, load
//! balancers, and the metrics a run collects.
//!
//! - `config`: [`ModelConfig`], the plain-data description of a world (names resolved to ids).
//! - `outcome`: [`Outcome`], how a request ends, and [`OutcomeCounts`].
//! - `world`: the engine: one event enum, one handler per event, subsystems that own their
//!   state (clients, services, requests, metrics).
//! - `output`: [`RunOutput`], what a run hands to reports.
//! - `analysis`: figures derived from a whole `RunOutput`, such as how fast goodput
//!   recovered after each fault ([`analysis::recovery`]).
//! - `metrics`: the metric catalogue, every reported figure defined once (name, unit, scope,
//!   how it is computed), which the reports, sweeps and invariants read.
//!
//! Design choice: the model does no IO and knows no file format. It takes a `ModelConfig` and
//! returns a `RunOutput`; the scenario layer and the reports sit on either side of it.
#![warn(missing_docs)]

pub mod analysis;
pub mod config;
pub mod latency;
pub mod metrics;
pub mod outcome;
pub mod output;
mod world;

pub use config::*;
pub use latency::Latencies;
pub use outcome::{Outcome, OutcomeCounts};
pub use output::*;
pub use world::{run, Run, MEMORY_CHECK_EVERY};
