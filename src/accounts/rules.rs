//! Django's rules for usernames and email addresses.

use unicode_normalization::UnicodeNormalization;

use super::AccountError;
use crate::fields::FieldErrors;
use crate::passwords::{validate_password, UserAttributes};
use crate::secret::Secret;
use crate::store::UserRow;

/// Django's wording for a malformed username.
pub const USERNAME_INVALID: &str =
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.";
pub const MAX_USERNAME_CHARS: usize = 150;

/// Django's `AbstractBaseUser.normalize_username`: Unicode NFKC.
pub fn normalize_username(raw: &str) -> String {
    raw.nfkc().collect()
}

/// The case-insensitive identity of a (normalized) username: `Alice` and `alice` collide.
pub fn username_key(normalized: &str) -> String {
    normalized.to_lowercase()
}

/// Django's `UnicodeUsernameValidator` (`^[\w.@+-]+\Z`) and `max_length=150`.
pub fn username_errors(username: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if !username.chars().all(|c| c.is_alphanumeric() || "@.+-_".contains(c)) {
        errors.push(USERNAME_INVALID.to_string());
    }
    if username.chars().count() > MAX_USERNAME_CHARS {
        errors.push(format!("Ensure this field has no more than {MAX_USERNAME_CHARS} characters."));
    }
    errors
}

/// A pragmatic form of Django's `EmailValidator`: one `@`, a dotted domain, no spaces.
pub fn email_is_valid(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !local.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// Django's validators on a replacement password, their messages under `new_password`.
pub fn check_new_password(password: &Secret, user: &UserRow) -> Result<(), AccountError> {
    let attrs = UserAttributes { username: &user.username, email: &user.email };
    let problems = validate_password(password.expose(), &attrs);
    if problems.is_empty() {
        return Ok(());
    }
    let mut errors = FieldErrors::default();
    errors.extend("new_password", problems);
    Err(AccountError::Invalid(errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_django() {
        assert!(username_errors("alice.b+c-d_e@x").is_empty());
        assert!(username_errors("Zoë").is_empty());
        assert_eq!(username_errors("has space"), vec![USERNAME_INVALID]);
        assert_eq!(username_errors("semi;colon"), vec![USERNAME_INVALID]);
        assert_eq!(username_errors(&"a".repeat(151)).len(), 1);
        assert!(username_errors(&"a".repeat(150)).is_empty());
    }

    #[test]
    fn nfkc_and_case_make_one_identity() {
        // Fullwidth letters and the "ﬁ" ligature fold under NFKC.
        assert_eq!(username_key(&normalize_username("ＡＬＩＣＥ")), "alice");
        assert_eq!(username_key(&normalize_username("ﬁona")), "fiona");
        assert_eq!(username_key(&normalize_username("Alice")), username_key("alice"));
    }

    #[test]
    fn emails() {
        for ok in ["a@example.com", "first.last+tag@sub.example.org"] {
            assert!(email_is_valid(ok), "{ok}");
        }
        for bad in ["", "a", "a@b", "@example.com", "a b@example.com", "a@-x.com", "a@x..com", "a@@x.com"] {
            assert!(!email_is_valid(bad), "{bad}");
        }
    }
}
