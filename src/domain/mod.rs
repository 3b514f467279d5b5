//! The vocabulary every layer shares, with no I/O and no import from the rest of the
//! crate: times and the clock, who is calling, secrets that never print, DRF-shaped field
//! errors, faults, and the rules for names.

mod clock;
mod fault;
mod fields;
mod names;
mod secret;

pub use clock::{rfc3339, Clock, ShiftedClock, SystemClock, Timestamp};
pub use fault::{error_chain, Fault};
pub use fields::{FieldErrors, BLANK, NOT_A_STRING, NULL, NULL_CHARACTERS, REQUIRED};
pub use names::{
    email_is_valid, normalize_username, username_errors, username_key, valid_permission, valid_role_name,
    EMAIL_INVALID, MAX_EMAIL_CHARS, MAX_USERNAME_CHARS, USERNAME_INVALID,
};
pub use secret::Secret;

/// Who is calling from where: kept with sessions and audit events, and the key of the
/// per-address throttles.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}
