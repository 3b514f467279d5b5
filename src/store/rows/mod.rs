//! The rows the store reads and writes, and the outcomes of its multi-step changes, by
//! area (as `sql/`).

mod audit;
mod external;
mod keys;
mod mail;
mod mfa;
mod oauth;
mod personal_tokens;
mod revocations;
mod roles;
mod sessions;
mod users;
mod webhooks;

pub use audit::*;
pub use external::*;
pub use keys::*;
pub use mail::*;
pub use mfa::*;
pub use oauth::*;
pub use personal_tokens::*;
pub use revocations::*;
pub use roles::*;
pub use sessions::*;
pub use users::*;
pub use webhooks::*;
