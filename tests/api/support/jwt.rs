//! Tokens taken apart and forged, for the attack tests.

use base64::Engine;
use serde_json::{json, Value};

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).expect("base64")
}

/// The header and claims of a compact JWS, unverified.
pub fn parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let header = serde_json::from_slice(&unb64(it.next().expect("header"))).expect("header json");
    let claims = serde_json::from_slice(&unb64(it.next().expect("claims"))).expect("claims json");
    (header, claims)
}

/// Signs arbitrary header and claims JSON with HMAC-SHA256 under `secret`.
pub fn sign_hs256(header: &Value, claims: &Value, secret: &str) -> String {
    let h = serde_json::to_vec(header).expect("json");
    let c = serde_json::to_vec(claims).expect("json");
    sign_raw(&h, &c, secret)
}

/// Signs raw header and payload bytes (they may be invalid JSON) with HS256.
pub fn sign_raw(header: &[u8], payload: &[u8], secret: &str) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let sig = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, jsonwebtoken::Algorithm::HS256)
        .expect("sign");
    format!("{signing_input}.{sig}")
}

pub fn token_not_valid() -> Value {
    json!({"detail": "Token is invalid or expired", "code": "token_not_valid"})
}

pub fn access_not_valid() -> Value {
    json!({
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid or expired"}],
    })
}
