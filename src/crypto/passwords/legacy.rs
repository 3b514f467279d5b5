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

/// Work factors past these are refused, at import and at login: a hostile export could
/// otherwise plant a hash that takes minutes or gigabytes to check (bcrypt cost 31,
/// argon2 m=4 GiB). Django's own defaults sit far below them.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
pub const MAX_BCRYPT_COST: u32 = 16;
pub const MAX_ARGON2_MEMORY_KIB: u32 = 262_144;
pub const MAX_ARGON2_ITERATIONS: u32 = 16;
pub const MAX_ARGON2_PARALLELISM: u32 = 16;

/// Why an imported hash's cost is refused, if it is.
pub fn cost_problem(stored: &str) -> Option<String> {
    let (algorithm, rest) = stored.split_once('$')?;
    match algorithm {
        "pbkdf2_sha256" => {
            let iterations = rest.split('$').next()?.parse::<u64>().ok()?;
            (iterations == 0 || iterations > u64::from(MAX_PBKDF2_ITERATIONS))
                .then(|| format!("pbkdf2 iterations {iterations} outside 1–{MAX_PBKDF2_ITERATIONS}"))
        }
        "bcrypt" | "bcrypt_sha256" => {
            // `$2b$12$...`: the cost is the second field.
            let cost = rest.split('$').nth(2)?.parse::<u32>().ok()?;
            (cost > MAX_BCRYPT_COST).then(|| format!("bcrypt cost {cost} over {MAX_BCRYPT_COST}"))
        }
        "argon2" => {
            // The parameters the argon2 crate itself would run with (any order, defaults
            // for what is missing): a hash it cannot read is refused, not guessed at.
            let phc = format!("${rest}");
            let Ok(hash) = argon2::PasswordHash::new(&phc) else {
                return Some("argon2 hash that does not parse".into());
            };
            let Ok(params) = argon2::Params::try_from(&hash) else {
                return Some("argon2 hash with unusable parameters".into());
            };
            let (m, t, p) = (params.m_cost(), params.t_cost(), params.p_cost());
            (m > MAX_ARGON2_MEMORY_KIB || t > MAX_ARGON2_ITERATIONS || p > MAX_ARGON2_PARALLELISM).then(|| {
                format!(
                    "argon2 m={m},t={t},p={p} over m={MAX_ARGON2_MEMORY_KIB},t={MAX_ARGON2_ITERATIONS},p={MAX_ARGON2_PARALLELISM}"
                )
            })
        }
        _ => None,
    }
}

/// Django's argon2 hashes are PHC strings behind an `argon2` prefix.
pub fn django_argon2_to_phc(stored: &str) -> Option<String> {
    stored.strip_prefix("argon2").filter(|rest| rest.starts_with("$argon2")).map(str::to_string)
}

/// Checks `password` against a Django hash that is not Argon2 (those go to the Argon2
/// verifier as PHC strings). Unknown or malformed hashes never match.
pub fn verify(password: &str, stored: &str) -> bool {
    if cost_problem(stored).is_some() {
        return false;
    }
    let Some((algorithm, rest)) = stored.split_once('$') else { return false };
    match algorithm {
        "pbkdf2_sha256" => {
            let mut parts = rest.splitn(3, '$');
            let (Some(iterations), Some(salt), Some(expected)) = (parts.next(), parts.next(), parts.next())
            else {
                return false;
            };
            let Ok(iterations) = iterations.parse::<u32>() else { return false };
            if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
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
    fn hostile_work_factors_are_refused_not_run() {
        assert!(cost_problem("bcrypt$$2b$31$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234").is_some());
        assert!(cost_problem("bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuu").is_none());
        assert!(cost_problem("argon2$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").is_some());
        // Another order, or a parameter left to its default, is read as the crate reads it.
        assert!(cost_problem("argon2$argon2id$v=19$t=2,m=4194304,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").is_some());
        assert!(cost_problem("argon2$argon2id$v=19$m=4194304,t=2$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").is_some());
        assert!(cost_problem("argon2$argon2id$v=19$m=65536,t=999$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").is_some());
        assert!(cost_problem("argon2$argon2id$garbage").is_some());
        assert!(cost_problem("argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").is_none());
        assert!(cost_problem("pbkdf2_sha256$4000000000$salt$hash").is_some());
        assert!(cost_problem("pbkdf2_sha256$870000$salt$hash").is_none());
        // Refused at login too, before any work.
        let started = std::time::Instant::now();
        assert!(!verify("x", "bcrypt$$2b$31$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn formats_are_recognised() {
        assert!(is_django_hash("pbkdf2_sha256$870000$salt$hash"));
        assert!(is_django_hash("!unusable"));
        assert!(!is_django_hash("md5$salt$hash"));
        assert_eq!(
            django_argon2_to_phc("argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").as_deref(),
            Some("$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        );
        assert!(!verify("x", "!unusable"));
    }
}
