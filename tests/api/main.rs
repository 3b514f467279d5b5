//! Black-box integration suite: the real server on a random port, spoken to over HTTP.
//! One binary (each file in tests/ would link separately, and links are slow).
#![allow(clippy::unwrap_used)]

mod support;

mod admin;
mod admin_links;
mod auth;
mod cleanup;
mod cli;
mod external;
mod faults;
mod import;
mod input;
mod keys;
mod me;
mod metrics;
mod mfa;
mod oauth;
mod passkeys;
mod personal_tokens;
mod recovery;
mod revocations;
mod roles;
mod scale;
mod schema;
mod security;
mod sessions;
mod throttle;
mod tokens;
mod trust;
mod upstream;
mod verify;
mod web;
mod webhooks;
