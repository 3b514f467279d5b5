//! Multi-factor authentication: TOTP, passkeys and single-use recovery codes. A login
//! with the right password, for a user with a confirmed factor, gets an `mfa_token`
//! instead of tokens (see `auth::login`); the second step trades it and a code or a
//! passkey's signature for the pair. Codes are good once (the last accepted time step is
//! kept), and wrong codes lock the factor, longer as they add up.

pub mod passkeys;
mod recovery_codes;
mod totp;

use std::sync::Arc;

use tracing::{info, warn};

use self::passkeys::{PasskeyInfo, Passkeys};
use self::recovery_codes::{new_recovery_codes, recovery_hash};
use crate::crypto::{new_token, parse_token};
use crate::domain::{ClientInfo, Clock, Fault, FieldErrors, Secret};
use crate::store::{AuditEvent, AuditMeta, MailPurpose, NewMailToken, Store, StoreError, TotpLock, UserRow};
use crate::throttle::{SecondFactorRefused, Throttle};

/// Wrong codes one `mfa_token` may take before the login must start again.
pub const CODES_PER_LOGIN: u32 = 5;
/// How long the second step may wait after the password step.
const CHALLENGE_SECS: i64 = 300;

pub const CODE_INVALID: &str = "Invalid code.";
pub const LOGIN_EXPIRED: &str = "This login has expired or was already completed. Sign in again.";
const ALREADY_ON: &str = "An authenticator app is already on.";
const MFA_OFF: &str = "Two-factor authentication is off.";

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    /// A wrong code, an expired ceremony or `mfa_token`, a bad name: field errors.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// A request that cannot be honoured as the account stands (`400 {"detail": ...}`);
    /// always one of this module's fixed messages.
    #[error("{0}")]
    Refused(&'static str),
    #[error("throttled for {0} s")]
    Throttled(u64),
    #[error("user not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] Fault),
}

fn invalid(field: &str, message: &str) -> MfaError {
    MfaError::Invalid(FieldErrors::one(field, message))
}

/// What an authenticator app needs: the secret, as text and as an `otpauth://` URL (the
/// web app shows it as a QR code).
pub struct Enrolment {
    pub secret: String,
    pub otpauth_url: String,
}

/// How a login passed its first step, kept with its `mfa_token`: the session's `amr`
/// names both steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstStep {
    Password,
    /// An external identity provider.
    External,
}

impl FirstStep {
    fn as_str(self) -> &'static str {
        match self {
            Self::Password => "",
            Self::External => "ext",
        }
    }

    /// Strict: a value this code never wrote proves nothing (no `pwd` claimed for it).
    fn parse(stored: &str) -> Option<Self> {
        match stored {
            "" => Some(Self::Password),
            "ext" => Some(Self::External),
            _ => None,
        }
    }
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
    store: Arc<Store>,
    throttle: Arc<Throttle>,
    clock: Arc<dyn Clock>,
    lock: TotpLock,
    pub passkeys: Arc<Passkeys>,
    /// Seals TOTP secrets at rest.
    sealing: Secret,
    issuer: String,
}

impl Mfa {
    pub fn new(
        store: Arc<Store>,
        throttle: Arc<Throttle>,
        clock: Arc<dyn Clock>,
        passkeys: Arc<Passkeys>,
        sealing: Secret,
        issuer: &str,
    ) -> Self {
        Self {
            store,
            throttle,
            clock,
            lock: TotpLock::default(),
            passkeys,
            sealing,
            issuer: issuer.to_string(),
        }
    }

    /// Whether the user has a confirmed TOTP factor.
    async fn totp_on(&self, user_id: &str) -> Result<bool, MfaError> {
        Ok(self.store.totp_factor(user_id).await?.is_some_and(|f| f.confirmed_at.is_some()))
    }

    pub async fn status(&self, user_id: &str) -> Result<Status, MfaError> {
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
    ) -> Result<(PasskeyInfo, Vec<String>), MfaError> {
        let (codes, hashes) = if self.status(user_id).await?.enabled() {
            (Vec::new(), Vec::new())
        } else {
            new_recovery_codes()
        };
        let info = self.passkeys.finish_registration(user_id, ceremony, answer, &hashes, client).await?;
        Ok((info, codes))
    }

    /// Starts enrolment: a new secret, unconfirmed until the first code.
    pub async fn start_enrolment(&self, user: &UserRow) -> Result<Enrolment, MfaError> {
        if self.totp_on(&user.id).await? {
            return Err(MfaError::Refused(ALREADY_ON));
        }
        let (secret, sealed) = totp::new_secret(&self.sealing)?;
        self.store.start_totp(&user.id, &sealed, self.clock.now()).await?;
        let otpauth_url = totp::otpauth_url(&secret, &self.issuer, &user.username)?;
        Ok(Enrolment { secret, otpauth_url })
    }

    /// Confirms enrolment with a first code; returns the recovery codes, shown once.
    pub async fn confirm(
        &self,
        user: &UserRow,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Vec<String>, MfaError> {
        let factor = match self.store.totp_factor(&user.id).await? {
            Some(f) if f.confirmed_at.is_none() => f,
            Some(_) => return Err(MfaError::Refused(ALREADY_ON)),
            None => return Err(MfaError::Refused("Start the enrolment first.")),
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
        self.store.confirm_totp(&user.id, step, &hashes, self.clock.now(), &audit).await?;
        info!(user_id = %user.id, "two-factor authentication turned on");
        Ok(codes)
    }

    /// The `mfa_token` for a login that passed its first step (`first`).
    pub async fn challenge(&self, user_id: &str, first: FirstStep) -> Result<String, MfaError> {
        let (token, stored) = new_token();
        let now = self.clock.now();
        let record = NewMailToken {
            id: stored.id,
            verifier_hash: stored.verifier_hash,
            purpose: MailPurpose::MfaLogin,
            user_id: user_id.to_string(),
            // A login's token is mailed nowhere: its address column keeps the first step.
            email: first.as_str().to_string(),
            now,
            expires_at: now + CHALLENGE_SECS,
        };
        self.store.insert_mail_token(&record, None, &AuditMeta::default()).await?;
        Ok(token)
    }

    /// The passkey challenge for the second step of the login `mfa_token` stands for.
    pub async fn passkey_challenge(&self, mfa_token: &str) -> Result<serde_json::Value, MfaError> {
        let expired = || invalid("mfa_token", LOGIN_EXPIRED);
        let token = parse_token(mfa_token).ok_or_else(expired)?;
        let row = self
            .store
            .mail_token(&token, MailPurpose::MfaLogin, self.clock.now())
            .await?
            .ok_or_else(expired)?;
        self.passkeys.start_second_step(&row.user_id, &token.id).await
    }

    /// The second step: the user the `mfa_token` was for, once the proof checks out.
    pub async fn complete(
        &self,
        mfa_token: &str,
        proof: Proof,
        client: &ClientInfo,
    ) -> Result<(String, FirstStep), MfaError> {
        let expired = || invalid("mfa_token", LOGIN_EXPIRED);
        let token = parse_token(mfa_token).ok_or_else(expired)?;
        let row = self
            .store
            .mail_token(&token, MailPurpose::MfaLogin, self.clock.now())
            .await?
            .ok_or_else(expired)?;
        // SECURITY: counted before the proof is checked, per address (codes tried across
        // many accounts) and per login (five wrong codes and the password step must be
        // passed again).
        let attempt =
            match self.throttle.begin_second_factor(&client.ip, Some((&token.id, CODES_PER_LOGIN))).await {
                Ok(attempt) => attempt,
                Err(SecondFactorRefused::Address(wait)) => return Err(MfaError::Throttled(wait)),
                Err(SecondFactorRefused::Login) => {
                    self.store.spend_token(&token, MailPurpose::MfaLogin, self.clock.now()).await?;
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
        let user_id = self
            .store
            .spend_token(&token, MailPurpose::MfaLogin, self.clock.now())
            .await?
            .ok_or_else(expired)?;
        Ok((user_id, FirstStep::parse(&row.email).ok_or_else(expired)?))
    }

    /// A new set of recovery codes; the old set stops working. Needs a current code.
    pub async fn regenerate_codes(
        &self,
        user_id: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Vec<String>, MfaError> {
        if !self.status(user_id).await?.enabled() {
            return Err(MfaError::Refused(MFA_OFF));
        }
        self.counted(client, self.check_code(user_id, code, client)).await?;
        let (codes, hashes) = new_recovery_codes();
        let audit = AuditMeta::actor(user_id, client.clone());
        self.store.replace_recovery_codes(user_id, &hashes, self.clock.now(), &audit).await?;
        Ok(codes)
    }

    /// Turns the authenticator app off (the recovery codes go too unless a passkey
    /// remains); needs a current code (or a recovery code).
    pub async fn disable(&self, user_id: &str, code: &str, client: &ClientInfo) -> Result<(), MfaError> {
        if !self.totp_on(user_id).await? {
            return Err(MfaError::Refused("The authenticator app is off."));
        }
        self.counted(client, self.check_code(user_id, code, client)).await?;
        let audit = AuditMeta::actor(user_id, client.clone());
        self.store.remove_mfa(user_id, true, AuditEvent::MfaDisabled, self.clock.now(), &audit).await?;
        Ok(())
    }

    /// An administrator removes every factor of a user (who lost their device).
    pub async fn reset(&self, user_id: &str, audit: &AuditMeta) -> Result<bool, MfaError> {
        Ok(self.store.remove_mfa(user_id, false, AuditEvent::MfaReset, self.clock.now(), audit).await?)
    }

    /// A TOTP code (once per time step) or an unused recovery code. SECURITY: every code
    /// is counted as a failure *before* it is checked (a right one clears the count), so
    /// parallel guesses get no more tries than the lock allows; the lock grows with the
    /// failures (`TotpLock`). A user with passkeys only has no such counter, and a
    /// recovery code's 50 random bits are out of reach of guessing anyway.
    pub async fn check_code(&self, user_id: &str, code: &str, client: &ClientInfo) -> Result<(), MfaError> {
        let factor = self.store.totp_factor(user_id).await?.filter(|f| f.confirmed_at.is_some());
        if factor.is_none() && self.store.passkeys(user_id).await?.is_empty() {
            return Err(MfaError::Refused(MFA_OFF));
        }
        let now = self.clock.now();
        let audit = AuditMeta::client(client.clone());
        let failures = match &factor {
            Some(_) => match self.store.totp_attempt(user_id, now, &self.lock).await? {
                Some(failures) => Some(failures),
                // Locked. A recovery code (out of reach of guessing) still gets the owner
                // in, so a thief filling the lock locks nobody out.
                None => return self.while_locked(user_id, code, &audit).await,
            },
            None => None,
        };
        let user = self.store.user_by_id(user_id).await?.ok_or(MfaError::NotFound)?.user;
        let step = match &factor {
            Some(f) => self.matching_step(&f.secret, &user.username, code)?,
            None => None,
        };
        let method = match step {
            Some(step) if self.store.accept_totp_step(user_id, step).await? => Some("totp"),
            Some(_) => None, // a replayed code
            None => self
                .store
                .use_recovery_code(user_id, &recovery_hash(code), now)
                .await?
                .then_some("recovery_code"),
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
            return Err(self.locked_for(user_id).await?);
        }
        Err(invalid("code", CODE_INVALID))
    }

    /// A code presented while the factor is locked: only a recovery code passes.
    async fn while_locked(&self, user_id: &str, code: &str, audit: &AuditMeta) -> Result<(), MfaError> {
        if self.store.use_recovery_code(user_id, &recovery_hash(code), self.clock.now()).await? {
            self.store.clear_totp_failures(user_id).await?;
            self.note(AuditEvent::MfaUsed, user_id, serde_json::json!({ "method": "recovery_code" }), audit)
                .await;
            return Ok(());
        }
        Err(self.locked_for(user_id).await?)
    }

    /// The wait until the factor's lock ends, as the error to answer with.
    async fn locked_for(&self, user_id: &str) -> Result<MfaError, MfaError> {
        let now = self.clock.now();
        let until = self.store.totp_factor(user_id).await?.map_or(now + 1, |f| f.locked_until);
        Ok(MfaError::Throttled((until - now).max(1) as u64))
    }

    /// Runs a second-factor check counted per client address first (as second login
    /// steps are): a token thief cannot try codes, or fill an account's lock, faster from
    /// one address than the login form allows.
    pub async fn counted(
        &self,
        client: &ClientInfo,
        check: impl std::future::Future<Output = Result<(), MfaError>>,
    ) -> Result<(), MfaError> {
        let attempt = match self.throttle.begin_second_factor(&client.ip, None).await {
            Ok(attempt) => attempt,
            Err(SecondFactorRefused::Address(wait)) => return Err(MfaError::Throttled(wait)),
            Err(SecondFactorRefused::Login) => return Err(MfaError::Throttled(1)),
        };
        check.await?;
        self.throttle.second_factor_succeeded(attempt).await;
        Ok(())
    }

    /// Records a use or a failure; losing the record to a store fault must not fail the
    /// login.
    async fn note(&self, event: AuditEvent, user_id: &str, detail: serde_json::Value, audit: &AuditMeta) {
        if let Err(e) = self.store.record_audit(event, Some(user_id), &detail, self.clock.now(), audit).await
        {
            warn!(error = %e, event = event.as_str(), "could not write audit event");
        }
    }

    fn matching_step(&self, sealed: &str, username: &str, code: &str) -> Result<Option<i64>, MfaError> {
        totp::matching_step(sealed, &self.sealing, &self.issuer, username, code, self.clock.now())
    }
}
