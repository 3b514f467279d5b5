//! The SQL of every store method, one file per area, each written once for both
//! backends (see `store::db`).

mod audit;
mod external;
mod keys;
mod mail;
mod mfa;
mod oauth;
mod passkeys;
mod personal_tokens;
mod revocations;
mod roles;
mod sessions;
mod users;
mod webhooks;

/// Escapes `%`, `_` and the escape character itself for a `LIKE … ESCAPE '\'` pattern.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
