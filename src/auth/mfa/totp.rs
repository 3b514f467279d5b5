//! TOTP (RFC 6238, through `totp-rs`): 6 digits, 30-second steps, SHA-1, one step of
//! clock skew either way; the secret sealed at rest.

use totp_rs::{Algorithm, Builder, Secret as TotpSecret, Totp};

use super::MfaError;
use crate::crypto::{open, seal};
use crate::domain::{Fault, Secret, Timestamp};

const STEP_SECS: u64 = 30;

/// A new secret in base32 (what an authenticator app is given), and it sealed.
pub fn new_secret(sealing: &Secret) -> Result<(String, String), MfaError> {
    let bytes: [u8; 20] = rand::random();
    let secret = TotpSecret::new(Box::new(bytes)).to_base32();
    let sealed = seal(&Secret::new(secret.clone()), sealing)
        .map_err(|e| MfaError::Internal(Fault::new("sealing a TOTP secret", e)))?;
    Ok((secret, sealed))
}

/// The `otpauth://` URL of a secret, for a QR code.
pub fn otpauth_url(base32: &str, issuer: &str, username: &str) -> Result<String, MfaError> {
    Ok(totp(base32, issuer, username)?.to_url().unwrap_or_default())
}

/// The time step `code` belongs to (now, or one step either side), if any.
pub fn matching_step(
    sealed: &str,
    sealing: &Secret,
    issuer: &str,
    username: &str,
    code: &str,
    now: Timestamp,
) -> Result<Option<i64>, MfaError> {
    let secret = open(sealed, sealing)
        .map_err(|e| MfaError::Internal(Fault::new("opening a sealed TOTP secret", e)))?;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(secret.expose(), issuer, username)?;
    Ok(totp.check(&code, u64::try_from(now).unwrap_or_default()).map(|counter| counter as i64))
}

fn totp(base32: &str, issuer: &str, username: &str) -> Result<Totp, MfaError> {
    let secret = TotpSecret::try_from_base32(base32)
        .map_err(|e| MfaError::Internal(Fault::new("reading a TOTP secret", format!("{e:?}"))))?;
    // The otpauth label may not hold a colon.
    let account = username.replace(':', "_");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .with_secret(secret)
        .with_issuer(Some(issuer))
        .with_account_name(account)
        .build()
        .map_err(|e| MfaError::Internal(Fault::new("building a TOTP", format!("{e:?}"))))
}
