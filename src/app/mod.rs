//! The composition root: the services built once (`state`), the background jobs a
//! serving instance runs (`jobs`), deleting what expired (`cleanup`), logging and metrics (`telemetry`).

pub mod cleanup;
pub mod jobs;
pub mod memory;
mod state;
pub mod telemetry;

pub use state::{AppState, Services, StartError};
