//! The rules for names: Django's for usernames and email addresses, ours for roles and
//! permissions.

use unicode_normalization::UnicodeNormalization;

pub const MAX_EMAIL_CHARS: usize = 254;
pub const EMAIL_INVALID: &str = "Enter a valid email address.";

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

/// `[a-z0-9_.-]{1,64}`
pub fn valid_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
}

/// `[a-z0-9_.:-]{1,100}`
pub fn valid_permission(p: &str) -> bool {
    (1..=100).contains(&p.len())
        && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.:-".contains(&b))
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

    #[test]
    fn role_names_and_permissions() {
        for ok in ["admin", "editor", "a", "team.eu-west_2", &"x".repeat(64)] {
            assert!(valid_role_name(ok), "{ok}");
        }
        for bad in ["", "Admin", "has space", "a:b", &"x".repeat(65), "é"] {
            assert!(!valid_role_name(bad), "{bad}");
        }
        for ok in ["reports.view", "articles:edit", "a-b_c.d", &"p".repeat(100)] {
            assert!(valid_permission(ok), "{ok}");
        }
        for bad in ["", "Reports.view", "x y", "a/b", &"p".repeat(101)] {
            assert!(!valid_permission(bad), "{bad}");
        }
    }
}
