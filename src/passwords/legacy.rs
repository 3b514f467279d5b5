//! Password hashes imported from Django, verified as Django does so users log in with
//! the passwords they had; the first successful login re-hashes with Argon2id.
//!
//! Formats (django/contrib/auth/hashers.py):
//! - `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`
//! - `argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>` (a PHC string after `argon2`)
//! - `bcrypt_sha256$<bcrypt hash of the password's SHA-256 hex digest>`
//! - `bcrypt$<bcrypt hash>`
//! - `!…`: an unusable password; nothing matches it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The Django hashers whose hashes can be imported.
pub const SUPPORTED: [&str; 4] = ["pbkdf2_sha256", "argon2", "bcrypt_sha256", "bcrypt"];

/// Whether `stored` is a Django hash this module can check (or an unusable password).
pub fn is_django_hash(stored: &str) -> bool {
    stored.starts_with('!') || stored.split_once('$').is_some_and(|(alg, _)| SUPPORTED.contains(&alg))
}

/// Django's argon2 hashes are PHC strings behind an `argon2` prefix.
pub fn django_argon2_to_phc(stored: &str) -> Option<String> {
    stored.strip_prefix("argon2").filter(|rest| rest.starts_with("$argon2")).map(str::to_string)
}

/// Checks `password` against a Django hash that is not Argon2 (those go to the Argon2
/// verifier as PHC strings). Unknown or malformed hashes never match.
pub fn verify(password: &str, stored: &str) -> bool {
    let Some((algorithm, rest)) = stored.split_once('$') else { return false };
    match algorithm {
        "pbkdf2_sha256" => {
            let mut parts = rest.splitn(3, '$');
            let (Some(iterations), Some(salt), Some(expected)) = (parts.next(), parts.next(), parts.next())
            else {
                return false;
            };
            let Ok(iterations) = iterations.parse::<u32>() else { return false };
            // Refuse absurd work factors a hostile import file could plant.
            if iterations == 0 || iterations > 10_000_000 {
                return false;
            }
            let Ok(expected) = STANDARD.decode(expected) else { return false };
            let mut derived = vec![0u8; expected.len().clamp(1, 64)];
            pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut derived);
            derived.ct_eq(&expected).into()
        }
        "bcrypt_sha256" => {
            let digest = hex::encode(Sha256::digest(password.as_bytes()));
            bcrypt::verify(digest, rest).unwrap_or(false)
        }
        "bcrypt" => bcrypt::verify(password, rest).unwrap_or(false),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_pbkdf2_hashes_verify() {
        // django.contrib.auth.hashers.make_password("correct horse", "seasalt", "pbkdf2_sha256")
        // with 1,000 iterations, computed the same way: base64(PBKDF2-HMAC-SHA256).
        let mut derived = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(b"correct horse", b"seasalt", 1_000, &mut derived);
        let stored = format!("pbkdf2_sha256$1000$seasalt${}", STANDARD.encode(derived));
        assert!(verify("correct horse", &stored));
        assert!(!verify("wrong horse", &stored));
        assert!(!verify("correct horse", "pbkdf2_sha256$0$seasalt$AAAA"));
        assert!(!verify("correct horse", "pbkdf2_sha256$1000$seasalt"));
    }

    #[test]
    fn bcrypt_and_bcrypt_sha256_verify() {
        let plain = bcrypt::hash("correct horse", 4).unwrap_or_default();
        assert!(verify("correct horse", &format!("bcrypt${plain}")));
        assert!(!verify("wrong", &format!("bcrypt${plain}")));
        let digest = hex::encode(Sha256::digest(b"correct horse"));
        let sha = bcrypt::hash(digest, 4).unwrap_or_default();
        assert!(verify("correct horse", &format!("bcrypt_sha256${sha}")));
    }

    #[test]
    fn formats_are_recognised() {
        assert!(is_django_hash("pbkdf2_sha256$870000$salt$hash"));
        assert!(is_django_hash("!unusable"));
        assert!(!is_django_hash("md5$salt$hash"));
        assert_eq!(
            django_argon2_to_phc("argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA").as_deref(),
            Some("$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA")
        );
        assert!(!verify("x", "!unusable"));
    }
}
