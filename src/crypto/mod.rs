//! Cryptography the services use, each piece a well-kept crate behind a small interface:
//! password hashing and Django's validators, sealing secrets at rest, opaque single-use
//! tokens, and the service secret itself.

mod opaque;
pub mod passwords;
mod seal;
pub mod secret_key;

pub use opaque::{new_token, parse_token, OpaqueToken};
pub use seal::{open, seal, SealError};

/// `bytes` random bytes, base64url without padding: handles, codes, client ids and
/// secrets, the states of external sign-ins.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256, hex: how high-entropy tokens are looked up without being stored.
pub fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Equality that takes the same time wherever the strings differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()))
}

/// Makes ring the process's TLS crypto provider (pure Rust and assembly, no C toolchain
/// beyond what the SQLite build needs). Every HTTPS client in the process (calls to
/// external identity providers) needs one; installing twice is harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
