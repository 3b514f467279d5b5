//! The claims of Authenticon's JWTs (API.md "Tokens"), simplejwt-compatible.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

/// Both token types share one claim set; `username` and `roles` are access-only.
/// Unknown claims are ignored; a claim given twice is refused by the JSON parser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub token_type: TokenType,
    pub exp: u64,
    pub iat: u64,
    pub jti: String,
    pub user_id: String,
    pub sub: String,
    pub sid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Never issued here; honoured when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

#[cfg(test)]
impl Claims {
    /// Claims of user `sub`, issued a minute before `exp`, for tests.
    pub fn example(token_type: TokenType, exp: u64, sub: &str) -> Self {
        Claims {
            token_type,
            exp,
            iat: exp.saturating_sub(60),
            jti: "j".into(),
            user_id: sub.into(),
            sub: sub.into(),
            sid: "s".into(),
            username: None,
            roles: None,
            iss: None,
            aud: None,
            nbf: None,
        }
    }
}
