//! The engine (being written).
use crate::config::ModelConfig;
use crate::output::{RunOutput, StopReason};
use squall_kernel::SimTime;

/// A run in progress: build it, advance it in chunks (for progress display), finish it.
pub struct Run {
    _p: (),
}

impl Run {
    /// Builds the world described by `config`, with its first events scheduled.
    pub fn new(_config: &ModelConfig) -> Run {
        todo!()
    }
    /// Runs until `until` (capped at the configured duration). Returns why the run is over,
    /// or `None` if there is more to run.
    pub fn advance(&mut self, _until: SimTime) -> Option<StopReason> {
        todo!()
    }
    /// Current simulated time.
    pub fn now(&self) -> SimTime {
        todo!()
    }
    /// Ends the run and collects its output, checking conservation.
    pub fn finish(self) -> RunOutput {
        todo!()
    }
}

/// Builds and runs `config` to the end.
pub fn run(config: &ModelConfig) -> RunOutput {
    let mut r = Run::new(config);
    while r.advance(SimTime::MAX).is_none() {}
    r.finish()
}
