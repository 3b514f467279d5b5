//! Which audit events become which webhook events, and what a delivery says. The audit
//! log never holds a secret or a token (its entries are written to be shown), so neither
//! does a payload.

use serde_json::{json, Value};

use crate::domain::rfc3339;
use crate::store::AuditRow;

/// Every event type an endpoint may ask for, with what it reports.
pub const EVENT_TYPES: [(&str, &str); 16] = [
    ("user.created", "An account was registered, created by an administrator or imported."),
    ("user.updated", "An administrator changed an account (email, active)."),
    ("user.deactivated", "An account was deactivated: its sessions ended."),
    ("session.created", "Someone signed in: a new session."),
    (
        "session.revoked",
        "A session ended: logout, log out everywhere, ended by its owner or an administrator.",
    ),
    ("session.reuse_detected", "A spent refresh token was presented again: its session was revoked."),
    ("password.changed", "A password was changed or reset."),
    (
        "factors.changed",
        "Two-factor authentication was enabled, disabled or reset, or recovery codes renewed.",
    ),
    ("roles.assigned", "A user's roles changed."),
    ("client.created", "An application was registered."),
    ("client.updated", "An application was changed, or its secret rotated."),
    ("client.deleted", "An application was removed."),
    ("personal_token.created", "A personal access token was created."),
    ("personal_token.revoked", "Personal access tokens were revoked."),
    ("identity.linked", "An external sign-in (Google, GitHub…) was linked to an account."),
    ("identity.unlinked", "An external sign-in was unlinked."),
];

pub fn is_event_type(name: &str) -> bool {
    EVENT_TYPES.iter().any(|(t, _)| *t == name)
}

/// The webhook event an audit entry is, if any.
pub fn event_type(entry: &AuditRow, detail: &Value) -> Option<&'static str> {
    Some(match entry.event.as_str() {
        "register" => "user.created",
        "user_updated" if detail["is_active"] == json!(false) => "user.deactivated",
        "user_updated" => "user.updated",
        "login" => "session.created",
        "logout" | "session_revoked" => "session.revoked",
        "refresh_reuse_detected" => "session.reuse_detected",
        "password_changed" | "password_reset" => "password.changed",
        "mfa_enabled" | "mfa_disabled" | "mfa_reset" | "recovery_codes_regenerated" => "factors.changed",
        "roles_assigned" => "roles.assigned",
        "client_created" => "client.created",
        "client_updated" | "client_secret_rotated" => "client.updated",
        "client_deleted" => "client.deleted",
        "personal_token_created" => "personal_token.created",
        "personal_token_revoked" => "personal_token.revoked",
        "identity_linked" => "identity.linked",
        "identity_unlinked" => "identity.unlinked",
        _ => return None,
    })
}

/// The body of a delivery, in the Standard Webhooks shape (`type`, `timestamp`, `data`).
pub fn payload(entry: &AuditRow, event_type: &str, detail: Value) -> String {
    json!({
        "type": event_type,
        "timestamp": rfc3339(entry.time),
        "data": {
            "audit_id": entry.id,
            "event": entry.event,
            "user_id": entry.user_id,
            "username": entry.username,
            "actor_id": entry.actor_id,
            "ip": entry.ip,
            "user_agent": entry.user_agent,
            "detail": detail,
        },
    })
    .to_string()
}

/// The webhook events an endpoint receiving Security Event Tokens may ask for: those
/// Shared Signals (CAEP, RISC) has an event for.
pub const SECURITY_EVENT_TYPES: [&str; 5] =
    ["session.revoked", "session.reuse_detected", "password.changed", "factors.changed", "user.deactivated"];

const CAEP_SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
const CAEP_CREDENTIAL_CHANGE: &str = "https://schemas.openid.net/secevent/caep/event-type/credential-change";
const RISC_ACCOUNT_DISABLED: &str = "https://schemas.openid.net/secevent/risc/event-type/account-disabled";

/// The claims of a Security Event Token (RFC 8417) for an audit entry, as Shared Signals
/// (SSF 1.0) describes them, without `iat` and `jti` (set when it is sent); `None` when
/// the entry has no such event.
pub fn security_event(entry: &AuditRow, event_type: &str, detail: &Value, issuer: &str) -> Option<Value> {
    let user = json!({ "format": "iss_sub", "iss": issuer, "sub": entry.user_id.as_ref()? });
    // An administrator acting on someone else's account; otherwise its owner.
    let initiating = match (&entry.actor_id, &entry.user_id) {
        (Some(actor), Some(user)) if actor != user => "admin",
        _ => "user",
    };
    let at = entry.time;
    let (uri, subject, event) = match event_type {
        "session.revoked" | "session.reuse_detected" => {
            let subject = match detail["session_id"].as_str() {
                Some(sid) => {
                    json!({ "format": "complex", "user": user, "session": { "format": "opaque", "id": sid } })
                }
                None => user,
            };
            let event = match event_type {
                "session.reuse_detected" => json!({
                    "event_timestamp": at, "initiating_entity": "policy",
                    "reason_admin": { "en": "A spent refresh token was presented again." },
                }),
                _ => json!({ "event_timestamp": at, "initiating_entity": initiating }),
            };
            (CAEP_SESSION_REVOKED, subject, event)
        }
        "password.changed" => (
            CAEP_CREDENTIAL_CHANGE,
            user,
            json!({ "credential_type": "password", "change_type": "update", "event_timestamp": at,
                    "initiating_entity": initiating }),
        ),
        "factors.changed" => {
            let change_type = match entry.event.as_str() {
                "mfa_enabled" => "create",
                "mfa_disabled" | "mfa_reset" => "delete",
                _ => return None,
            };
            let credential_type = if detail["factor"] == json!("passkey") { "fido2-platform" } else { "app" };
            (
                CAEP_CREDENTIAL_CHANGE,
                user,
                json!({ "credential_type": credential_type, "change_type": change_type, "event_timestamp": at,
                        "initiating_entity": initiating }),
            )
        }
        "user.deactivated" => (RISC_ACCOUNT_DISABLED, user, json!({})),
        _ => return None,
    };
    Some(json!({ "iss": issuer, "txn": entry.id.to_string(), "sub_id": subject, "events": { uri: event } }))
}
