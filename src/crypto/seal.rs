//! Sealing secrets at rest (private keys, TOTP secrets, queued mails): ChaCha20-Poly1305
//! under a key derived (HKDF-SHA256) from the service secret. Base64 of nonce ‖ ciphertext.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::Sha256;

use crate::domain::Secret;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("encryption failed")]
    Encrypt,
    #[error("a sealed value cannot be opened with this secret (was AUTHENTICON_SECRET_KEY changed?)")]
    Open,
}

fn cipher(secret: &Secret) -> ChaCha20Poly1305 {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"authenticon"), secret.expose().as_bytes());
    let mut key = [0u8; 32];
    // 32 bytes is always a valid HKDF-SHA256 output length.
    let _ = hk.expand(b"signing-key-encryption v1", &mut key);
    ChaCha20Poly1305::new(&Key::from(key))
}

/// Encrypts `private_pem` (any secret text) for storage.
pub fn seal(private_pem: &Secret, secret: &Secret) -> Result<String, SealError> {
    let mut nonce = [0u8; 12];
    rand::fill(&mut nonce);
    let sealed = cipher(secret)
        .encrypt(&Nonce::from(nonce), private_pem.expose().as_bytes())
        .map_err(|_| SealError::Encrypt)?;
    Ok(STANDARD.encode([nonce.as_slice(), &sealed].concat()))
}

/// The text `seal` sealed, if it was sealed under this secret.
pub fn open(sealed: &str, secret: &Secret) -> Result<Secret, SealError> {
    let bytes = STANDARD.decode(sealed).map_err(|_| SealError::Open)?;
    if bytes.len() < 12 {
        return Err(SealError::Open);
    }
    let (nonce, body) = bytes.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().map_err(|_| SealError::Open)?;
    let plain = cipher(secret).decrypt(&Nonce::from(nonce), body).map_err(|_| SealError::Open)?;
    String::from_utf8(plain).map(Secret::new).map_err(|_| SealError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_under_their_secret() {
        let secret = Secret::new("s".repeat(40));
        let sealed = seal(&Secret::new("-----BEGIN PRIVATE KEY-----"), &secret).unwrap_or_default();
        assert!(!sealed.contains("PRIVATE"), "{sealed}");
        assert_eq!(
            open(&sealed, &secret).map(|s| s.expose().to_string()),
            Ok("-----BEGIN PRIVATE KEY-----".to_string())
        );
        assert_eq!(open(&sealed, &Secret::new("t".repeat(40))).err(), Some(SealError::Open));
        assert_eq!(open("not base64!", &secret).err(), Some(SealError::Open));
    }
}
