//! The services: every decision about accounts, logins, factors, roles and recovery is
//! made here, and nowhere else. They know no HTTP (handlers translate) and no SQL (the
//! store does); each has one error type.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod external;
pub mod import_django;
pub mod login;
pub mod mfa;
pub mod personal_tokens;
pub mod presence;
pub mod rbac;
pub mod recovery;
