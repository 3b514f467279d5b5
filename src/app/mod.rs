//! The composition root: the services built once (`state`), the background jobs a
//! serving instance runs (`jobs`), deleting what expired (`cleanup`), logging and metrics (`telemetry`,
//! `log_writer`).

pub mod cleanup;
pub mod jobs;
mod log_format;
mod log_writer;
pub mod memory;
mod state;
pub mod telemetry;

pub use state::{AppState, Services, StartError};
