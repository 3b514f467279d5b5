//! The common-password list (see COMMON-PASSWORDS-NOTICE.md for origin and licences).

use std::collections::HashSet;
use std::sync::LazyLock;

static LIST: &str = include_str!("common-passwords.txt");

static SET: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| LIST.lines().map(str::trim).filter(|l| !l.is_empty()).collect());

/// Django's rule: the lower-cased, stripped password is on the list.
pub fn is_common(password: &str) -> bool {
    SET.contains(password.trim().to_lowercase().as_str())
}

/// Entries on the list (for the test that guards its size).
#[cfg(test)]
pub fn len() -> usize {
    SET.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_large_and_case_insensitive() {
        assert!(len() >= 20_000, "{}", len());
        assert!(is_common("password"));
        assert!(is_common("PassWord"));
        assert!(is_common(" qwerty "));
        assert!(!is_common("a long passphrase"));
    }
}
