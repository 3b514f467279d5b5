//! Scopes: the OpenID Connect ones the provider knows, and any an application defines
//! for its own API (they then only travel in access tokens).

pub const OPENID: &str = "openid";
pub const PROFILE: &str = "profile";
pub const EMAIL: &str = "email";
pub const OFFLINE_ACCESS: &str = "offline_access";
pub const ROLES: &str = "roles";
pub const PERMISSIONS: &str = "permissions";

/// The scopes the provider gives meaning to, for discovery and the consent screen.
pub const KNOWN: [&str; 6] = [OPENID, PROFILE, EMAIL, OFFLINE_ACCESS, ROLES, PERMISSIONS];

const MAX_SCOPE: usize = 100;
const MAX_SCOPES: usize = 50;

/// Whether `scope` is a well-formed scope token (RFC 6749 §3.3 `scope-token`, kept to the
/// characters a role permission may have, so it is safe in any log or page).
pub fn well_formed(scope: &str) -> bool {
    !scope.is_empty()
        && scope.len() <= MAX_SCOPE
        && scope.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.:-/".contains(&b))
}

/// A space-separated scope parameter as a set, in the order given; `None` when a token
/// is malformed or there are too many.
pub fn parse(text: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in text.split(' ').filter(|s| !s.is_empty()) {
        if !well_formed(s) {
            return None;
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    (out.len() <= MAX_SCOPES).then_some(out)
}

pub fn has(scopes: &[String], scope: &str) -> bool {
    scopes.iter().any(|s| s == scope)
}

/// What the consent screen says a scope lets the application do.
pub fn describe(scope: &str) -> String {
    match scope {
        OPENID => "Know who you are (your account's id)".into(),
        PROFILE => "See your username".into(),
        EMAIL => "See your email address and whether it is verified".into(),
        OFFLINE_ACCESS => "Stay signed in: act for you while you are away, until you disconnect it".into(),
        ROLES => "See your roles".into(),
        PERMISSIONS => "See your permissions".into(),
        other => format!("Use its API with the scope \u{201c}{other}\u{201d}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_parameters_are_sets_of_well_formed_tokens() {
        assert_eq!(parse("openid  email openid").unwrap(), ["openid", "email"]);
        assert_eq!(parse("").unwrap(), Vec::<String>::new());
        assert!(parse("openid \"x\"").is_none());
        assert!(parse("Openid").is_none());
        let many: Vec<String> = (0..51).map(|i| format!("s{i}")).collect();
        assert!(parse(&many.join(" ")).is_none());
        assert_eq!(parse(&many[..50].join(" ")).unwrap().len(), 50);
    }
}
