//! Passkeys (WebAuthn, through `webauthn-rs`): registered from a signed-in session, used
//! as the second step of a password login or to log in without a password.
//!
//! Every ceremony's server state (the challenge the browser must sign) is kept in the
//! store, so any instance can finish what another started, and is taken when finished:
//! an answer works once. The relying party is the host of `AUTHENTICON_PUBLIC_URL`
//! (a loopback address counts as `localhost`, which browsers treat as secure).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing::{info, warn};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};

use super::MfaError;
use crate::domain::{ClientInfo, Clock, Fault, FieldErrors, Timestamp};
use crate::store::{AuditEvent, AuditMeta, CeremonyRow, PasskeyRow, Store, UserRow};
use crate::throttle::Throttle;

/// How long the browser has to answer a ceremony.
const CEREMONY_SECS: i64 = 300;
pub const MAX_NAME_CHARS: usize = 64;

const EXPIRED: &str = "This passkey request has expired or was already answered. Start again.";
const NOT_VERIFIED: &str = "The passkey could not be verified.";
const REGISTERED_ALREADY: &str = "This passkey is registered already.";
/// Why is logged at start-up; the client learns only that passkeys are off.
const PASSKEYS_OFF: &str = "Passkeys are not available here: the service's public address names no domain.";
const NO_PASSKEY: &str = "No passkey is registered for this account.";

const REGISTER: &str = "register";
const LOGIN: &str = "login";
const SECOND_STEP: &str = "mfa";

/// A passkey as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PasskeyInfo {
    pub id: String,
    pub name: String,
    /// Unix seconds.
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl From<&PasskeyRow> for PasskeyInfo {
    fn from(row: &PasskeyRow) -> Self {
        Self {
            id: row.id.clone(),
            name: row.name.clone(),
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        }
    }
}

/// What a registration keeps between its two requests.
#[derive(Serialize, Deserialize)]
struct Registering {
    name: String,
    state: PasskeyRegistration,
}

pub struct Passkeys {
    store: Arc<Store>,
    throttle: Arc<Throttle>,
    clock: Arc<dyn Clock>,
    /// `Err` says why passkeys are off (the public URL names no domain).
    webauthn: Result<Webauthn, PasskeysOff>,
}

fn invalid(field: &str, message: &str) -> MfaError {
    MfaError::Invalid(FieldErrors::one(field, message))
}

/// Why passkeys are off here (for the operator, at start-up).
#[derive(Debug)]
struct PasskeysOff(String);

/// The relying party for a public URL: its host, a loopback address read as
/// `localhost` (on any port, so the front-end's dev server works too).
fn relying_party(public_url: &str, name: &str) -> Result<Webauthn, PasskeysOff> {
    let off = |why: String| PasskeysOff(why);
    let mut url = Url::parse(public_url).map_err(|e| off(format!("AUTHENTICON_PUBLIC_URL: {e}")))?;
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        url.set_host(Some("localhost")).map_err(|e| off(e.to_string()))?;
    }
    let Some(rp_id) = url.domain().map(str::to_string) else {
        return Err(off(format!(
            "passkeys need a domain name, and AUTHENTICON_PUBLIC_URL is {public_url}; set it to the address users open"
        )));
    };
    WebauthnBuilder::new(&rp_id, &url)
        .map_err(|e| off(e.to_string()))?
        .rp_name(name)
        .allow_any_port(loopback)
        .build()
        .map_err(|e| off(e.to_string()))
}

/// webauthn-rs wants a UUID as the user handle; ours are UUIDs, and anything else is
/// mapped to one stably.
fn user_handle(user_id: &str) -> Uuid {
    Uuid::parse_str(user_id).unwrap_or_else(|_| {
        let digest = Sha256::digest(user_id.as_bytes());
        Uuid::from_slice(&digest[..16]).unwrap_or_default()
    })
}

fn to_json<T: Serialize>(value: &T) -> Result<String, MfaError> {
    serde_json::to_string(value).map_err(|e| MfaError::Internal(Fault::new("writing a passkey state", e)))
}

fn from_json<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, MfaError> {
    serde_json::from_str(text)
        .map_err(|e| MfaError::Internal(Fault::new("reading a stored passkey state", e)))
}

/// The browser's answer, as `PublicKeyCredential.toJSON()` gives it.
fn credential<T: for<'de> Deserialize<'de>>(value: Value) -> Result<T, MfaError> {
    serde_json::from_value(value).map_err(|_| invalid("credential", "Not a passkey answer."))
}

fn ceremony_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

impl Passkeys {
    pub fn new(
        store: Arc<Store>,
        throttle: Arc<Throttle>,
        clock: Arc<dyn Clock>,
        public_url: &str,
        rp_name: &str,
    ) -> Self {
        let webauthn = relying_party(public_url, rp_name);
        if let Err(PasskeysOff(why)) = &webauthn {
            warn!(%why, "passkeys are off");
        }
        Self { store, throttle, clock, webauthn }
    }

    fn webauthn(&self) -> Result<&Webauthn, MfaError> {
        self.webauthn.as_ref().map_err(|_| MfaError::Refused(PASSKEYS_OFF))
    }

    pub async fn list(&self, user_id: &str) -> Result<Vec<PasskeyInfo>, MfaError> {
        Ok(self.store.passkeys(user_id).await?.iter().map(PasskeyInfo::from).collect())
    }

    /// Starts registering a passkey: the options for `navigator.credentials.create()`,
    /// with the ceremony id to send back with the answer.
    pub async fn start_registration(&self, user: &UserRow, name: &str) -> Result<Value, MfaError> {
        let webauthn = self.webauthn()?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(invalid("name", "Give the passkey a name of at most 64 characters."));
        }
        let existing = self.keys_of(&user.id).await?;
        let exclude = existing.iter().map(|(_, k)| k.cred_id().clone()).collect();
        let (options, state) = webauthn
            .start_passkey_registration(user_handle(&user.id), &user.username, &user.username, Some(exclude))
            .map_err(|e| MfaError::Internal(Fault::new("starting a passkey registration", e)))?;
        let mut options = serde_json::to_value(options)
            .map_err(|e| MfaError::Internal(Fault::new("writing passkey options", e)))?;
        // Ask for a discoverable credential where the authenticator can make one, so the
        // passkey also works for a login without a username.
        if let Some(selection) =
            options.pointer_mut("/publicKey/authenticatorSelection").and_then(Value::as_object_mut)
        {
            selection.insert("residentKey".into(), "preferred".into());
        }
        let id = ceremony_id();
        let state = to_json(&Registering { name: name.to_string(), state })?;
        self.put(&id, REGISTER, &user.id, state).await?;
        Ok(with_ceremony(options, &id))
    }

    /// Finishes a registration with the browser's answer. `recovery_codes` are stored
    /// with it (the first factor of a user brings the recovery codes).
    pub async fn finish_registration(
        &self,
        user_id: &str,
        ceremony: &str,
        answer: Value,
        recovery_codes: &[String],
        client: &ClientInfo,
    ) -> Result<PasskeyInfo, MfaError> {
        let webauthn = self.webauthn()?;
        let answer: RegisterPublicKeyCredential = credential(answer)?;
        let row = self.take(ceremony, REGISTER).await?;
        if row.user_id != user_id {
            return Err(invalid("ceremony", EXPIRED));
        }
        let registering: Registering = from_json(&row.state)?;
        // Checked here because webauthn-rs reports an excluded credential as an altered
        // algorithm.
        if self.store.passkey_by_credential(&URL_SAFE_NO_PAD.encode(&answer.raw_id)).await?.is_some() {
            return Err(invalid("credential", REGISTERED_ALREADY));
        }
        let passkey = webauthn.finish_passkey_registration(&answer, &registering.state).map_err(|e| {
            info!(error = %e, "passkey registration refused");
            invalid("credential", NOT_VERIFIED)
        })?;
        let row = PasskeyRow {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user_id.to_string(),
            credential_id: URL_SAFE_NO_PAD.encode(passkey.cred_id()),
            name: registering.name,
            passkey: to_json(&passkey)?,
            created_at: self.clock.now(),
            last_used_at: None,
        };
        let audit = AuditMeta::actor(user_id, client.clone());
        if !self.store.insert_passkey(&row, recovery_codes, &audit).await? {
            return Err(invalid("credential", REGISTERED_ALREADY));
        }
        info!(%user_id, "passkey registered");
        Ok(PasskeyInfo::from(&row))
    }

    pub async fn remove(&self, user_id: &str, id: &str, client: &ClientInfo) -> Result<bool, MfaError> {
        let audit = AuditMeta::actor(user_id, client.clone());
        Ok(self.store.delete_passkey(user_id, id, self.clock.now(), &audit).await?)
    }

    /// The options for a login without a password: any passkey of this site will do,
    /// and the answer says whose it is.
    pub async fn start_login(&self, client: &ClientInfo) -> Result<Value, MfaError> {
        if let Some(wait) = self.throttle.passkey_login(&client.ip).await {
            metrics::counter!("authenticon_throttled_total", "scope" => "passkey_login").increment(1);
            return Err(MfaError::Throttled(wait));
        }
        let (options, state) = self
            .webauthn()?
            .start_discoverable_authentication()
            .map_err(|e| MfaError::Internal(Fault::new("starting a passkey login", e)))?;
        let id = ceremony_id();
        self.put(&id, LOGIN, "", to_json(&state)?).await?;
        // Without `mediation`: the web app asks on a button press, not in autofill.
        let options = serde_json::json!({ "publicKey": options.public_key });
        Ok(with_ceremony(options, &id))
    }

    /// Finishes a login without a password: the user whose passkey signed.
    pub async fn finish_login(
        &self,
        ceremony: &str,
        answer: Value,
        client: &ClientInfo,
    ) -> Result<String, MfaError> {
        let webauthn = self.webauthn()?;
        let answer: PublicKeyCredential = credential(answer)?;
        let row = self.take(ceremony, LOGIN).await?;
        let state: DiscoverableAuthentication = from_json(&row.state)?;
        let credential_id = URL_SAFE_NO_PAD.encode(answer.get_credential_id());
        let Some(stored) = self.store.passkey_by_credential(&credential_id).await? else {
            return Err(invalid("credential", "This passkey is not registered here."));
        };
        let mut key: Passkey = from_json(&stored.passkey)?;
        let result =
            match webauthn.finish_discoverable_authentication_v2(&answer, state, DiscoverableKey::from(&key))
            {
                Ok(result) => result,
                Err(e) => return Err(self.refused(&stored.user_id, e, client).await),
            };
        self.used(&stored, &mut key, &result, true, client).await?;
        Ok(stored.user_id)
    }

    /// The options for the second step of a password login, bound to `ceremony` (the
    /// `mfa_token`'s id): only this user's passkeys are offered.
    pub async fn start_second_step(&self, user_id: &str, ceremony: &str) -> Result<Value, MfaError> {
        let keys = self.keys_of(user_id).await?;
        if keys.is_empty() {
            return Err(MfaError::Refused(NO_PASSKEY));
        }
        let keys: Vec<Passkey> = keys.into_iter().map(|(_, k)| k).collect();
        let (options, state) = self
            .webauthn()?
            .start_passkey_authentication(&keys)
            .map_err(|e| MfaError::Internal(Fault::new("starting a passkey login", e)))?;
        self.put(ceremony, SECOND_STEP, user_id, to_json(&state)?).await?;
        Ok(serde_json::json!({ "publicKey": options.public_key }))
    }

    /// Checks the second step's answer against the challenge of `ceremony`.
    pub async fn finish_second_step(
        &self,
        user_id: &str,
        ceremony: &str,
        answer: Value,
        client: &ClientInfo,
    ) -> Result<(), MfaError> {
        let webauthn = self.webauthn()?;
        let answer: PublicKeyCredential = credential(answer)?;
        let row = self.take(ceremony, SECOND_STEP).await?;
        if row.user_id != user_id {
            return Err(invalid("credential", EXPIRED));
        }
        let state: PasskeyAuthentication = from_json(&row.state)?;
        let result = match webauthn.finish_passkey_authentication(&answer, &state) {
            Ok(result) => result,
            Err(e) => return Err(self.refused(user_id, e, client).await),
        };
        let credential_id = URL_SAFE_NO_PAD.encode(result.cred_id());
        let keys = self.store.passkeys(user_id).await?;
        let Some(stored) = keys.into_iter().find(|k| k.credential_id == credential_id) else {
            return Err(invalid("credential", NOT_VERIFIED));
        };
        let mut key: Passkey = from_json(&stored.passkey)?;
        self.used(&stored, &mut key, &result, false, client).await
    }

    async fn keys_of(&self, user_id: &str) -> Result<Vec<(PasskeyRow, Passkey)>, MfaError> {
        let rows = self.store.passkeys(user_id).await?;
        rows.into_iter()
            .map(|row| {
                let key = from_json(&row.passkey)?;
                Ok((row, key))
            })
            .collect()
    }

    async fn put(&self, id: &str, kind: &str, user_id: &str, state: String) -> Result<(), MfaError> {
        let now = self.clock.now();
        let row = CeremonyRow {
            id: id.to_string(),
            kind: kind.to_string(),
            user_id: user_id.to_string(),
            state,
            expires_at: now + CEREMONY_SECS,
        };
        Ok(self.store.put_ceremony(&row, now).await?)
    }

    async fn take(&self, id: &str, kind: &str) -> Result<CeremonyRow, MfaError> {
        self.store
            .take_ceremony(id, kind, self.clock.now())
            .await?
            .ok_or_else(|| invalid("ceremony", EXPIRED))
    }

    /// A signature that did not verify: logged and audited, answered with one message.
    async fn refused(&self, user_id: &str, error: WebauthnError, client: &ClientInfo) -> MfaError {
        info!(%user_id, %error, "passkey assertion refused");
        let detail = serde_json::json!({ "method": "passkey" });
        let audit = AuditMeta::client(client.clone());
        // Losing the record to a store fault must not change the answer.
        if let Err(e) = self
            .store
            .record_audit(AuditEvent::MfaFailed, Some(user_id), &detail, self.clock.now(), &audit)
            .await
        {
            warn!(error = %e, "could not write audit event");
        }
        invalid("credential", NOT_VERIFIED)
    }

    /// Records a good use: the new signature counter, and an audit row.
    async fn used(
        &self,
        stored: &PasskeyRow,
        key: &mut Passkey,
        result: &webauthn_rs::prelude::AuthenticationResult,
        passwordless: bool,
        client: &ClientInfo,
    ) -> Result<(), MfaError> {
        let passkey = if key.update_credential(result).unwrap_or(false) {
            to_json(key)?
        } else {
            stored.passkey.clone()
        };
        self.store.touch_passkey(&stored.id, &passkey, self.clock.now()).await?;
        self.note_use(stored, passwordless, client).await;
        Ok(())
    }

    async fn note_use(&self, key: &PasskeyRow, passwordless: bool, client: &ClientInfo) {
        let detail =
            serde_json::json!({ "method": "passkey", "name": key.name, "passwordless": passwordless });
        let audit = AuditMeta::client(client.clone());
        if let Err(e) = self
            .store
            .record_audit(AuditEvent::MfaUsed, Some(&key.user_id), &detail, self.clock.now(), &audit)
            .await
        {
            warn!(error = %e, "could not write audit event");
        }
    }
}

/// The options with the ceremony id the answer must name.
fn with_ceremony(mut options: Value, id: &str) -> Value {
    if let Some(map) = options.as_object_mut() {
        map.insert("ceremony".into(), id.into());
    }
    options
}

#[cfg(test)]
mod tests {
    use super::relying_party;

    #[test]
    fn the_relying_party_is_the_public_hosts_domain() {
        for ok in [
            "http://127.0.0.1:8000",
            "http://[::1]:8000",
            "http://localhost:5173",
            "https://auth.example.com",
        ] {
            assert!(relying_party(ok, "Authenticon").is_ok(), "{ok}");
        }
        // Browsers allow WebAuthn on names only: a public IP address turns passkeys off.
        let why = relying_party("http://203.0.113.7:8000", "Authenticon")
            .err()
            .map(|off| off.0)
            .unwrap_or_default();
        assert!(why.contains("passkeys need a domain name"), "{why}");
    }
}
