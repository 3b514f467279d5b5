//! Multi-factor authentication: TOTP (RFC 6238, through `totp-rs`), passkeys (see
//! `passkeys`) and single-use recovery codes. A login with the right password, for a
//! user with a confirmed factor, gets an `mfa_token` instead of tokens; the second step
//! trades it and a code or a passkey's signature for the pair. Codes are good once (the
//! last accepted time step is kept), and five wrong codes in a row lock the factor for a
//! minute.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret as TotpSecret, Totp};
use tracing::{info, warn};

use crate::accounts::AccountError;
use crate::fields::FieldErrors;
use crate::passkeys::{PasskeyInfo, Passkeys};
use crate::recovery::{new_token, parse_token};
use crate::secret::Secret;
use crate::store::{AuditEvent, AuditMeta, ClientInfo, MailPurpose, NewMailToken, Store, TotpLock, UserRow};
use crate::throttle::{SecondFactorRefused, Throttle};
use crate::tokens::{keys, now};

const STEP_SECS: u64 = 30;
/// Wrong codes one `mfa_token` may take before the login must start again.
pub const CODES_PER_LOGIN: u32 = 5;
/// How long the second step may wait after the password step.
const CHALLENGE_SECS: i64 = 300;
const RECOVERY_CODES: usize = 10;

pub const CODE_INVALID: &str = "Invalid code.";
pub const LOGIN_EXPIRED: &str = "This login has expired or was already completed. Sign in again.";

/// What an authenticator app needs: the secret, as text and as an `otpauth://` URL (the
/// web app shows it as a QR code).
pub struct Enrolment {
    pub secret: String,
    pub otpauth_url: String,
}

/// What the second step presents.
pub enum Proof {
    /// A TOTP or recovery code.
    Code(String),
    /// A passkey's answer to the challenge of `/api/token/mfa/passkey/`.
    Passkey(serde_json::Value),
}

/// A user's factors.
pub struct Status {
    pub totp: bool,
    pub passkeys: usize,
    pub recovery_codes_left: i64,
}

impl Status {
    pub fn enabled(&self) -> bool {
        self.totp || self.passkeys > 0
    }

    /// The ways the second step can be passed, for the `mfa_required` answer.
    pub fn methods(&self) -> Vec<&'static str> {
        let mut methods = Vec::new();
        if self.totp {
            methods.push("totp");
        }
        if self.passkeys > 0 {
            methods.push("passkey");
        }
        if self.recovery_codes_left > 0 {
            methods.push("recovery_code");
        }
        methods
    }
}

pub struct Mfa {
    store: Arc<dyn Store>,
    throttle: Arc<Throttle>,
    lock: TotpLock,
    pub passkeys: Arc<Passkeys>,
    /// Seals TOTP secrets at rest.
    sealing: Secret,
    issuer: String,
}

fn invalid(field: &str, message: &str) -> AccountError {
    AccountError::Invalid(FieldErrors::one(field, message))
}

impl Mfa {
    pub fn new(
        store: Arc<dyn Store>,
        throttle: Arc<Throttle>,
        passkeys: Arc<Passkeys>,
        sealing: Secret,
        issuer: &str,
    ) -> Self {
        Self { store, throttle, lock: TotpLock::default(), passkeys, sealing, issuer: issuer.to_string() }
    }

    /// Whether the user has a confirmed TOTP factor.
    async fn totp_on(&self, user_id: &str) -> Result<bool, AccountError> {
        Ok(self.store.totp_factor(user_id).await?.is_some_and(|f| f.confirmed_at.is_some()))
    }

    pub async fn status(&self, user_id: &str) -> Result<Status, AccountError> {
        Ok(Status {
            totp: self.totp_on(user_id).await?,
            passkeys: self.store.passkeys(user_id).await?.len(),
            recovery_codes_left: self.store.recovery_codes_left(user_id).await?,
        })
    }

    /// Registers a passkey from a finished ceremony. The user's first factor brings ten
    /// recovery codes, returned once (empty when the user had a factor already).
    pub async fn add_passkey(
        &self,
        user_id: &str,
        ceremony: &str,
        answer: serde_json::Value,
        client: &ClientInfo,
    ) -> Result<(PasskeyInfo, Vec<String>), AccountError> {
        let (codes, hashes) = if self.status(user_id).await?.enabled() {
            (Vec::new(), Vec::new())
        } else {
            new_recovery_codes()
        };
        let info = self.passkeys.finish_registration(user_id, ceremony, answer, &hashes, client).await?;
        Ok((info, codes))
    }

    /// Starts enrolment: a new secret, unconfirmed until the first code.
    pub async fn start_enrolment(&self, user: &UserRow) -> Result<Enrolment, AccountError> {
        if self.totp_on(&user.id).await? {
            return Err(AccountError::Refused("An authenticator app is already on.".into()));
        }
        let bytes: [u8; 20] = rand::random();
        let secret = TotpSecret::new(Box::new(bytes)).to_base32();
        let sealed = keys::seal(&Secret::new(secret.clone()), &self.sealing)
            .map_err(|e| AccountError::Internal(format!("cannot seal the TOTP secret: {e}")))?;
        self.store.start_totp(&user.id, &sealed, now()).await?;
        let otpauth_url = self.totp(&secret, &user.username)?.to_url().unwrap_or_default();
        Ok(Enrolment { secret, otpauth_url })
    }

    /// Confirms enrolment with a first code; returns the recovery codes, shown once.
    pub async fn confirm(
        &self,
        user: &UserRow,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Vec<String>, AccountError> {
        let factor = match self.store.totp_factor(&user.id).await? {
            Some(f) if f.confirmed_at.is_none() => f,
            Some(_) => return Err(AccountError::Refused("An authenticator app is already on.".into())),
            None => return Err(AccountError::Refused("Start the enrolment first.".into())),
        };
        let step = self
            .matching_step(&factor.secret, &user.username, code)?
            .ok_or_else(|| invalid("code", CODE_INVALID))?;
        // A passkey brought recovery codes already: those stay valid.
        let (codes, hashes) = if self.store.passkeys(&user.id).await?.is_empty() {
            new_recovery_codes()
        } else {
            (Vec::new(), Vec::new())
        };
        let audit = AuditMeta::actor(&user.id, client.clone());
        self.store.confirm_totp(&user.id, step, &hashes, now(), &audit).await?;
        info!(user_id = %user.id, "two-factor authentication turned on");
        Ok(codes)
    }

    /// The `mfa_token` for a login that passed its password step.
    pub async fn challenge(&self, user_id: &str) -> Result<String, AccountError> {
        let (token, stored) = new_token();
        let now = now();
        let record = NewMailToken {
            id: stored.id,
            verifier_hash: stored.verifier_hash,
            purpose: MailPurpose::MfaLogin,
            user_id: user_id.to_string(),
            email: String::new(),
            now,
            expires_at: now + CHALLENGE_SECS,
        };
        self.store.insert_mail_token(&record, None, &AuditMeta::default()).await?;
        Ok(token)
    }

    /// The passkey challenge for the second step of the login `mfa_token` stands for.
    pub async fn passkey_challenge(&self, mfa_token: &str) -> Result<serde_json::Value, AccountError> {
        let expired = || invalid("mfa_token", LOGIN_EXPIRED);
        let token = parse_token(mfa_token).ok_or_else(expired)?;
        let row = self.store.mail_token(&token, MailPurpose::MfaLogin, now()).await?.ok_or_else(expired)?;
        self.passkeys.start_second_step(&row.user_id, &token.id).await
    }

    /// The second step: the user the `mfa_token` was for, once the proof checks out.
    pub async fn complete(
        &self,
        mfa_token: &str,
        proof: Proof,
        client: &ClientInfo,
    ) -> Result<String, AccountError> {
        let expired = || invalid("mfa_token", LOGIN_EXPIRED);
        let token = parse_token(mfa_token).ok_or_else(expired)?;
        let row = self.store.mail_token(&token, MailPurpose::MfaLogin, now()).await?.ok_or_else(expired)?;
        // SECURITY: counted before the proof is checked, per address (codes tried across
        // many accounts) and per login (five wrong codes and the password step must be
        // passed again).
        let attempt =
            match self.throttle.begin_second_factor(&client.ip, Some((&token.id, CODES_PER_LOGIN))).await {
                Ok(attempt) => attempt,
                Err(SecondFactorRefused::Address(wait)) => return Err(AccountError::Throttled(wait)),
                Err(SecondFactorRefused::Login) => {
                    self.store.spend_token(&token, MailPurpose::MfaLogin, now()).await?;
                    return Err(expired());
                }
            };
        match proof {
            Proof::Code(code) => self.check_code(&row.user_id, &code, client).await?,
            Proof::Passkey(answer) => {
                self.passkeys.finish_second_step(&row.user_id, &token.id, answer, client).await?
            }
        }
        self.throttle.second_factor_succeeded(attempt).await;
        // Spent only after a right proof, so a typo does not end the login; spent before
        // tokens are issued, so one challenge makes one session.
        self.store.spend_token(&token, MailPurpose::MfaLogin, now()).await?.ok_or_else(expired)
    }

    /// A new set of recovery codes; the old set stops working. Needs a current code.
    pub async fn regenerate_codes(
        &self,
        user_id: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Vec<String>, AccountError> {
        if !self.status(user_id).await?.enabled() {
            return Err(AccountError::Refused("Two-factor authentication is off.".into()));
        }
        self.counted(client, self.check_code(user_id, code, client)).await?;
        let (codes, hashes) = new_recovery_codes();
        self.store
            .replace_recovery_codes(user_id, &hashes, now(), &AuditMeta::actor(user_id, client.clone()))
            .await?;
        Ok(codes)
    }

    /// Turns the authenticator app off (the recovery codes go too unless a passkey
    /// remains); needs a current code (or a recovery code).
    pub async fn disable(&self, user_id: &str, code: &str, client: &ClientInfo) -> Result<(), AccountError> {
        if !self.totp_on(user_id).await? {
            return Err(AccountError::Refused("The authenticator app is off.".into()));
        }
        self.counted(client, self.check_code(user_id, code, client)).await?;
        let audit = AuditMeta::actor(user_id, client.clone());
        self.store.remove_mfa(user_id, true, AuditEvent::MfaDisabled, now(), &audit).await?;
        Ok(())
    }

    /// An administrator removes every factor of a user (who lost their device).
    pub async fn reset(&self, user_id: &str, audit: &AuditMeta) -> Result<bool, AccountError> {
        Ok(self.store.remove_mfa(user_id, false, AuditEvent::MfaReset, now(), audit).await?)
    }

    /// A TOTP code (once per time step) or an unused recovery code. SECURITY: every code
    /// is counted as a failure *before* it is checked (a right one clears the count), so
    /// parallel guesses get no more tries than the lock allows; the lock grows with the
    /// failures (`TotpLock`). A user with passkeys only has no such counter, and a
    /// recovery code's 50 random bits are out of reach of guessing anyway.
    pub async fn check_code(
        &self,
        user_id: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let factor = self.store.totp_factor(user_id).await?.filter(|f| f.confirmed_at.is_some());
        if factor.is_none() && self.store.passkeys(user_id).await?.is_empty() {
            return Err(AccountError::Refused("Two-factor authentication is off.".into()));
        }
        let now = now();
        let audit = AuditMeta::client(client.clone());
        let failures = match &factor {
            Some(_) => match self.store.totp_attempt(user_id, now, &self.lock).await? {
                Some(failures) => Some(failures),
                None => {
                    // Locked. A recovery code (50 random bits, out of reach of guessing)
                    // still gets the owner in, so a thief filling the lock locks nobody out.
                    if self.store.use_recovery_code(user_id, &recovery_hash(code), now).await? {
                        self.store.clear_totp_failures(user_id).await?;
                        let detail = serde_json::json!({ "method": "recovery_code" });
                        self.note(AuditEvent::MfaUsed, user_id, detail, &audit).await;
                        return Ok(());
                    }
                    let until = self.store.totp_factor(user_id).await?.map_or(now + 1, |f| f.locked_until);
                    return Err(AccountError::Throttled((until - now).max(1) as u64));
                }
            },
            None => None,
        };
        let user = self.store.user_by_id(user_id).await?.ok_or(AccountError::NotFound)?.user;
        let step = match &factor {
            Some(f) => self.matching_step(&f.secret, &user.username, code)?,
            None => None,
        };
        let method = match step {
            Some(step) if self.store.accept_totp_step(user_id, step).await? => Some("totp"),
            Some(_) => None, // a replayed code
            None => {
                let hash = recovery_hash(code);
                self.store.use_recovery_code(user_id, &hash, now).await?.then_some("recovery_code")
            }
        };
        if let Some(method) = method {
            if method == "recovery_code" && factor.is_some() {
                self.store.clear_totp_failures(user_id).await?;
            }
            self.note(AuditEvent::MfaUsed, user_id, serde_json::json!({ "method": method }), &audit).await;
            return Ok(());
        }
        let Some(failures) = failures else {
            self.note(
                AuditEvent::MfaFailed,
                user_id,
                serde_json::json!({ "method": "recovery_code" }),
                &audit,
            )
            .await;
            return Err(invalid("code", CODE_INVALID));
        };
        self.note(AuditEvent::MfaFailed, user_id, serde_json::json!({ "failures": failures }), &audit).await;
        if failures % self.lock.every == 0 {
            warn!(%user_id, failures, "second factor locked after repeated wrong codes");
            let until = self.store.totp_factor(user_id).await?.map_or(now + 1, |f| f.locked_until);
            return Err(AccountError::Throttled((until - now).max(1) as u64));
        }
        Err(invalid("code", CODE_INVALID))
    }

    /// Runs a second-factor check counted per client address first (as second login
    /// steps are): a token thief cannot try codes, or fill an account's lock, faster from
    /// one address than the login form allows.
    pub async fn counted(
        &self,
        client: &ClientInfo,
        check: impl std::future::Future<Output = Result<(), AccountError>>,
    ) -> Result<(), AccountError> {
        let attempt = match self.throttle.begin_second_factor(&client.ip, None).await {
            Ok(attempt) => attempt,
            Err(SecondFactorRefused::Address(wait)) => return Err(AccountError::Throttled(wait)),
            Err(SecondFactorRefused::Login) => return Err(AccountError::Throttled(1)),
        };
        check.await?;
        self.throttle.second_factor_succeeded(attempt).await;
        Ok(())
    }

    /// Records a use or a failure; losing the record to a store fault must not fail the
    /// login.
    async fn note(&self, event: AuditEvent, user_id: &str, detail: serde_json::Value, audit: &AuditMeta) {
        if let Err(e) = self.store.record_audit(event, Some(user_id), &detail, now(), audit).await {
            warn!(error = %e, event = event.as_str(), "could not write audit event");
        }
    }

    /// The time step `code` belongs to (now, or one step either side), if any.
    fn matching_step(&self, sealed: &str, username: &str, code: &str) -> Result<Option<i64>, AccountError> {
        let secret = keys::open(sealed, &self.sealing)
            .map_err(|e| AccountError::Internal(format!("sealed TOTP secret: {e}")))?;
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let totp = self.totp(secret.expose(), username)?;
        Ok(totp.check(&code, now() as u64).map(|counter| counter as i64))
    }

    fn totp(&self, base32: &str, username: &str) -> Result<Totp, AccountError> {
        let secret = TotpSecret::try_from_base32(base32)
            .map_err(|e| AccountError::Internal(format!("TOTP secret: {e:?}")))?;
        // The otpauth label may not hold a colon.
        let account = username.replace(':', "_");
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(STEP_SECS)
            .with_secret(secret)
            .with_issuer(Some(self.issuer.as_str()))
            .with_account_name(account)
            .build()
            .map_err(|e| AccountError::Internal(format!("TOTP: {e:?}")))
    }
}

/// Ten codes like `k3m9x-q2w7t` (50 random bits each) and their hashes.
fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String =
                (0..10).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect();
    let hashes = codes.iter().map(|c| recovery_hash(c)).collect();
    (codes, hashes)
}

/// Codes match however they are typed: case, spaces and the dash do not count.
fn recovery_hash(code: &str) -> String {
    let normal: String =
        code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    hex::encode(Sha256::digest(normal.as_bytes()))
}
