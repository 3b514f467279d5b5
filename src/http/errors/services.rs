//! How the errors of the services that sign people in from elsewhere, hand out API keys
//! and tell other systems what happened (external providers, personal access tokens,
//! webhooks) become `ApiError`s.

use axum::http::StatusCode;

use super::ApiError;
use crate::auth::external::ExternalError;
use crate::auth::personal_tokens::PersonalTokenError;
use crate::notify::webhooks::WebhookError;

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::Fields(errors) => ApiError::Fields(errors),
            WebhookError::NotFound => ApiError::NotFound,
            WebhookError::Store(e) => e.into(),
            other @ WebhookError::Seal(_) => ApiError::internal(anyhow::anyhow!(other)),
        }
    }
}

impl From<PersonalTokenError> for ApiError {
    fn from(e: PersonalTokenError) -> Self {
        match e {
            PersonalTokenError::Invalid(errors) => ApiError::Fields(errors),
            PersonalTokenError::TooMany => ApiError::Coded {
                status: StatusCode::BAD_REQUEST,
                code: "too_many_tokens",
                message: "This account has as many personal access tokens as it may: revoke one first.",
            },
            PersonalTokenError::NotFound => ApiError::NotFound,
            PersonalTokenError::Store(e) => e.into(),
        }
    }
}

impl From<ExternalError> for ApiError {
    fn from(e: ExternalError) -> Self {
        let coded = |status, code, message| ApiError::Coded { status, code, message };
        match e {
            ExternalError::UnknownProvider | ExternalError::NotFound => ApiError::NotFound,
            // A provider whose discovery fails its checks is as unusable as one that is down.
            ExternalError::Unavailable(why) | ExternalError::Refused(why) => {
                tracing::warn!(reason = %why, "external identity provider unavailable");
                ApiError::ProviderUnavailable
            }
            ExternalError::LastWay => coded(
                StatusCode::BAD_REQUEST,
                "last_sign_in_method",
                "This is the account's only way to sign in: set a password or add a passkey first.",
            ),
            ExternalError::IdentityTaken => coded(
                StatusCode::CONFLICT,
                "identity_taken",
                "This identity is already linked to another account.",
            ),
            ExternalError::Throttled(secs) => ApiError::Throttled(secs),
            ExternalError::Store(e) => e.into(),
            // The callback's refusals are answered as pages, not through the API.
            other => ApiError::internal(anyhow::anyhow!(other)),
        }
    }
}
