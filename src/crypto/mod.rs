//! Cryptography the services use, each piece a well-kept crate behind a small interface:
//! password hashing and Django's validators, sealing secrets at rest, opaque single-use
//! tokens, and the service secret itself.

mod opaque;
pub mod passwords;
mod seal;
pub mod secret_key;

pub use opaque::{new_token, parse_token, OpaqueToken};
pub use seal::{open, seal, SealError};
