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

/// An HTTP client for the tests (the TLS provider installed first: the service's HTTPS
/// client brings reqwest without a built-in one).
pub fn client_builder() -> reqwest::ClientBuilder {
    authenticon::crypto::install_tls_provider();
    reqwest::Client::builder()
}

pub fn new_client() -> reqwest::Client {
    client_builder().build().expect("client")
}
