//! Opaque single-use tokens `<id>.<verifier>` (mailed links, the `mfa_token` between login
//! steps): the id finds the record, and only the SHA-256 of the verifier is stored, so a
//! copy of the database redeems nothing.

use base64::Engine;
use sha2::{Digest, Sha256};

/// A token as presented (or just made): its id, and the SHA-256 (hex) of its secret part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueToken {
    pub id: String,
    pub verifier_hash: String,
}

/// A fresh token: what goes in the link, and what is stored.
pub fn new_token() -> (String, OpaqueToken) {
    let id: [u8; 16] = rand::random();
    let verifier: [u8; 32] = rand::random();
    let id = hex::encode(id);
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(verifier);
    let token = format!("{id}.{verifier}");
    (token, OpaqueToken { id, verifier_hash: hash_verifier(&verifier) })
}

fn hash_verifier(verifier: &str) -> String {
    hex::encode(Sha256::digest(verifier.as_bytes()))
}

/// `<32 hex>.<verifier>`; anything else is refused before the store is asked.
pub fn parse_token(token: &str) -> Option<OpaqueToken> {
    let (id, verifier) = token.trim().split_once('.')?;
    let ok = id.len() == 32
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && (1..=64).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| OpaqueToken { id: id.to_ascii_lowercase(), verifier_hash: hash_verifier(verifier) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_malformed_ones_are_refused() {
        let (token, stored) = new_token();
        let parsed = parse_token(&token).unwrap_or_else(|| panic!("{token}"));
        assert_eq!(parsed.id, stored.id);
        assert_eq!(parsed.verifier_hash, stored.verifier_hash);
        let (other, _) = new_token();
        assert_ne!(token, other);
        for bad in [
            "",
            ".",
            "abc.def",
            &format!("{}.", stored.id),
            &format!("{}.a b", stored.id),
            "x".repeat(200).as_str(),
        ] {
            assert!(parse_token(bad).is_none(), "{bad:?}");
        }
    }
}
