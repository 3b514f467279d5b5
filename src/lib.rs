//! Authenticon: a JWT authentication service with the HTTP contract of
//! Django REST Framework + djangorestframework-simplejwt.

pub mod accounts;
pub mod audit;
pub mod cli;
pub mod config;
pub mod fields;
pub mod http;
pub mod import;
pub mod mail;
pub mod memory;
pub mod mfa;
pub mod passkeys;
pub mod passwords;
pub mod presence;
pub mod rbac;
pub mod recovery;
pub mod secret;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod tokens;

pub use config::Config;
pub use http::app;
pub use state::AppState;
