//! Cryptography the services use, each piece a well-kept crate behind a small interface:
//! password hashing and Django's validators, sealing secrets at rest, opaque single-use
//! tokens, and the service secret itself.

mod opaque;
pub mod passwords;
mod seal;
pub mod secret_key;

pub use opaque::{new_token, parse_token, OpaqueToken};
pub use seal::{open, seal, SealError};

/// Makes ring the process's TLS crypto provider (pure Rust and assembly, no C toolchain
/// beyond what the SQLite build needs). Every HTTPS client in the process (calls to
/// external identity providers) needs one; installing twice is harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
