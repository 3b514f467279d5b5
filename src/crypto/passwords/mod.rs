//! Password hashing (Argon2id, bounded) and Django's four password validators.

mod common;
mod hasher;
pub mod legacy;
mod validators;

pub use hasher::{HashError, Hasher};
pub use validators::{validate_password, UserAttributes, MAX_PASSWORD_CHARS};
