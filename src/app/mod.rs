//! The composition root: the services built once (`state`), the background jobs a
//! serving instance runs (`jobs`), logging and metrics (`telemetry`).

pub mod jobs;
pub mod memory;
mod state;
pub mod telemetry;

pub use state::{AppState, Services, StartError};
