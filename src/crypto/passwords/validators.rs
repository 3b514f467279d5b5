//! Django's four default password validators, with Django's wording:
//! UserAttributeSimilarityValidator, MinimumLengthValidator, CommonPasswordValidator,
//! NumericPasswordValidator (django/contrib/auth/password_validation.py), run in that
//! order, one message per failed rule.

use super::common::is_common;

const MIN_LENGTH: usize = 8;
const MAX_SIMILARITY: f64 = 0.7;

/// SECURITY: the hasher's input is capped so a megabyte "password" cannot be used to
/// burn CPU; the cap is far above any passphrase a person types.
pub const MAX_PASSWORD_CHARS: usize = 4096;

/// The user attributes a password must not resemble.
pub struct UserAttributes<'a> {
    pub username: &'a str,
    pub email: &'a str,
}

/// All messages for the rules `password` fails; empty when it passes.
pub fn validate_password(password: &str, user: &UserAttributes<'_>) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(attr) = too_similar(password, user) {
        errors.push(format!("The password is too similar to the {attr}."));
    }
    if password.chars().count() < MIN_LENGTH {
        errors.push(format!("This password is too short. It must contain at least {MIN_LENGTH} characters."));
    }
    if is_common(password) {
        errors.push("This password is too common.".into());
    }
    if !password.is_empty() && password.chars().all(char::is_numeric) {
        errors.push("This password is entirely numeric.".into());
    }
    errors
}

/// Django's UserAttributeSimilarityValidator: the verbose name of the first attribute
/// (`username`, `email address`) the password is too similar to.
fn too_similar(password: &str, user: &UserAttributes<'_>) -> Option<&'static str> {
    let password = password.to_lowercase();
    let attributes = [(user.username, "username"), (user.email, "email address")];
    for (value, verbose_name) in attributes {
        if value.is_empty() {
            continue;
        }
        let value = value.to_lowercase();
        // re.split(r"\W+", value) + [value]
        let mut parts: Vec<&str> = value.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
        parts.push(&value);
        for part in parts {
            if exceeds_maximum_length_ratio(&password, part) {
                continue;
            }
            if quick_ratio(&password, part) >= MAX_SIMILARITY {
                return Some(verbose_name);
            }
        }
    }
    None
}

/// Django skips values much shorter than the password: they cannot be "too similar".
fn exceeds_maximum_length_ratio(password: &str, value: &str) -> bool {
    let pwd_len = password.chars().count();
    let value_len = value.chars().count();
    let length_bound_similarity = MAX_SIMILARITY / 2.0 * pwd_len as f64;
    pwd_len >= 10 * value_len && (value_len as f64) < length_bound_similarity
}

/// Python's `difflib.SequenceMatcher(a, b).quick_ratio()`: 2·M/T, with M the size of the
/// multiset intersection of the two strings' characters.
fn quick_ratio(a: &str, b: &str) -> f64 {
    let total = a.chars().count() + b.chars().count();
    if total == 0 {
        return 1.0;
    }
    let mut avail = std::collections::HashMap::<char, usize>::new();
    for c in b.chars() {
        *avail.entry(c).or_default() += 1;
    }
    let mut matches = 0usize;
    for c in a.chars() {
        if let Some(n) = avail.get_mut(&c) {
            if *n > 0 {
                *n -= 1;
                matches += 1;
            }
        }
    }
    2.0 * matches as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(password: &str, username: &str, email: &str) -> Vec<String> {
        validate_password(password, &UserAttributes { username, email })
    }

    #[test]
    fn django_messages_one_per_failed_rule() {
        let cases: &[(&str, &str, &str, &[&str])] = &[
            ("a long passphrase", "alice", "", &[]),
            ("short", "alice", "", &["This password is too short. It must contain at least 8 characters."]),
            ("password", "alice", "", &["This password is too common."]),
            ("83749261554", "alice", "", &["This password is entirely numeric."]),
            (
                "123",
                "alice",
                "",
                &[
                    "This password is too short. It must contain at least 8 characters.",
                    "This password is too common.",
                    "This password is entirely numeric.",
                ],
            ),
            ("alice12345", "alice12345", "", &["The password is too similar to the username."]),
            ("Alice-Smith", "alice_smith", "", &["The password is too similar to the username."]),
            (
                "bobbybobby1",
                "zed",
                "bobbybobby@example.com",
                &["The password is too similar to the email address."],
            ),
            // A very short username cannot make a long password "similar".
            ("quite unrelated words", "q", "", &[]),
        ];
        for (pw, user, email, want) in cases {
            assert_eq!(check(pw, user, email), *want, "password {pw:?}");
        }
    }

    #[test]
    fn quick_ratio_matches_python() {
        // difflib.SequenceMatcher(a="abcd", b="bcde").quick_ratio() == 0.75
        assert!((quick_ratio("abcd", "bcde") - 0.75).abs() < 1e-9);
        assert!((quick_ratio("aab", "abb") - 2.0 * 2.0 / 6.0).abs() < 1e-9);
        assert_eq!(quick_ratio("", ""), 1.0);
    }
}
