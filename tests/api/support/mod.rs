//! The harness every area file uses: the real application served on 127.0.0.1:0
//! (`app`), a fresh database per test (`db`), forged JWTs (`jwt`), the real binary as a
//! process (`process`), a real SMTP server (`smtp`), and `/metrics` read back (`metrics`).
//! Area files hold tests only, and `use crate::support::*`.

mod app;
mod db;
pub mod github;
mod jwt;
mod metrics;
mod process;
mod smtp;

pub use app::*;
pub use db::*;
pub use jwt::*;
pub use metrics::*;
pub use process::*;
pub use smtp::*;

pub const SECRET: &str = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
pub const PASSWORD: &str = "a long passphrase";
