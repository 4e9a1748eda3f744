//! The deterministic discrete-event kernel: time, the event queue, the run loop, random
//! streams and distributions. It knows nothing of what is being simulated.
//!
//! - `time`: [`SimTime`] and [`SimDuration`], integer nanoseconds, and parsing `"250ms"`.
//! - `queue`: pending events ordered by `(time, seq)`: a shallow heap for the current time
//!   slot, a ring of slots for the next minute, a heap for the far future.
//! - `sim`: the [`Model`] trait, the [`Scheduler`] models schedule into (with O(1) lazy timer
//!   cancellation), and the [`Simulation`] run loop with its end time and event limit.
//! - `rng`: one ChaCha8 stream per stable name, derived from the master seed.
//! - `dist`: the distributions a scenario can name.
//!
//! Design choice: the loop is generic over the model's event type, so events are plain
//! enums moved by value through preallocated storage: no boxing, no dynamic dispatch and no
//! allocation per event. Determinism follows from three rules kept here: time is an integer,
//! ties break by insertion sequence, and randomness comes only from named streams.
#![warn(missing_docs)]

pub mod dist;
mod queue;
pub mod rng;
mod sim;
pub mod time;

pub use dist::{Dist, DistError};
pub use queue::DEFAULT_SLOT_SHIFT;
pub use rng::{stream, StreamRng};
pub use sim::{Model, Pause, Scheduler, Simulation, TimerId};
pub use time::{SimDuration, SimTime};
