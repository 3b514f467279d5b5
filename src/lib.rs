//! Authenticon: a JWT authentication service with the HTTP contract of
//! Django REST Framework + djangorestframework-simplejwt.
//!
//! Layers, top to bottom; each imports only from layers below it (checked by
//! `architecture::the_import_graph_points_down`):
//!
//! ```text
//! cli          the command line: parse, dispatch, serve
//! http         routes, extractors, bodies, errors → responses
//! app          the composition root: services built once, background jobs
//! oauth        the identity provider: clients, authorize, tokens for other applications
//! auth         the services: login flow, accounts, factors, roles, recovery, audit
//! tokens       JWTs, signing keys, sessions; access-token checks
//! notify       the mail outbox and what is mailed
//! throttle     attempt counters, in process or in Redis
//! store        SQLite and PostgreSQL behind one `Store`
//! crypto       password hashing, sealing, opaque tokens, the service secret
//! config       settings, declared once
//! domain       the shared vocabulary: clock, names, field errors, secrets
//! ```

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod notify;
pub mod oauth;
pub mod store;
pub mod throttle;
pub mod tokens;

#[cfg(test)]
mod architecture;

pub use app::AppState;
pub use config::Config;
pub use http::app;
