//! One file per URL prefix. Each declares its routes once: the handlers' `#[utoipa::path]`
//! give method and path to the router and the OpenAPI document alike.

pub mod audit;
pub mod auth;
pub mod clients;
pub mod external;
pub mod me;
pub mod mfa;
pub mod oauth;
pub mod personal_tokens;
pub mod recovery;
pub mod roles;
pub mod service;
pub mod session;
pub mod user_admin;
pub mod users;
pub mod webhooks;

use super::openapi::ApiRouter;

/// Every API route.
pub fn all() -> ApiRouter {
    ApiRouter::new()
        .merge(auth::routes())
        .merge(me::routes())
        .merge(session::routes())
        .merge(recovery::routes())
        .merge(mfa::routes())
        .merge(roles::routes())
        .merge(users::routes())
        .merge(user_admin::routes())
        .merge(audit::routes())
        .merge(clients::routes())
        .merge(oauth::routes())
        .merge(external::routes())
        .merge(personal_tokens::routes())
        .merge(webhooks::routes())
        .merge(service::routes())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    use utoipa::ToSchema;

    use super::*;
    use crate::domain::REQUIRED;
    use crate::http::body::{FieldReader, ReadBody};

    fn required_in(schema: &RefOr<Schema>) -> BTreeSet<String> {
        match schema {
            RefOr::T(Schema::Object(o)) => o.required.iter().cloned().collect(),
            RefOr::T(Schema::AllOf(all)) => all.items.iter().flat_map(required_in).collect(),
            _ => BTreeSet::new(),
        }
    }

    fn missing_from_empty<T: ReadBody>() -> BTreeSet<String> {
        let empty = serde_json::Map::new();
        let mut f = FieldReader::new(&empty);
        let _ = T::read(&mut f);
        f.errors.0.into_iter().filter(|(_, m)| m.iter().any(|m| m == REQUIRED)).map(|(k, _)| k).collect()
    }

    /// The fields the schema calls required are exactly the ones an empty body is told
    /// it misses, but for `either_or` fields (required unless another is given). The name
    /// of each body checked.
    fn agree<T: ToSchema + ReadBody>(either_or: &[&str]) -> String {
        let mut missing = missing_from_empty::<T>();
        missing.retain(|f| !either_or.contains(&f.as_str()));
        assert_eq!(required_in(&T::schema()), missing, "{}: schema and reader disagree", T::name());
        T::name().into_owned()
    }

    #[test]
    fn each_body_requires_what_its_schema_says() {
        let checked: BTreeSet<String> = [
            agree::<auth::RegisterRequest>(&[]),
            agree::<auth::TokenObtainRequest>(&[]),
            agree::<auth::RefreshRequest>(&[]),
            agree::<auth::VerifyRequest>(&[]),
            agree::<auth::MfaLoginRequest>(&["code"]),
            agree::<auth::MfaTokenRequest>(&[]),
            agree::<auth::PasskeyAnswer>(&[]),
            agree::<me::UpdateMeRequest>(&[]),
            agree::<me::ProofRequest>(&[]),
            agree::<me::ChangePasswordRequest>(&[]),
            agree::<mfa::CodeRequest>(&[]),
            agree::<mfa::PasskeyNameRequest>(&[]),
            agree::<recovery::PasswordResetRequest>(&[]),
            agree::<recovery::PasswordResetConfirmRequest>(&[]),
            agree::<recovery::VerifyEmailRequest>(&[]),
            agree::<roles::CreateRoleRequest>(&[]),
            agree::<roles::UpdateRoleRequest>(&[]),
            agree::<users::UpdateUserRequest>(&[]),
            agree::<users::SetRolesRequest>(&[]),
            agree::<users::CreateUserRequest>(&[]),
            agree::<clients::ClientRequest>(&[]),
            agree::<clients::AnswerRequest>(&[]),
            agree::<external::LinkRequest>(&[]),
            agree::<personal_tokens::CreateTokenRequest>(&[]),
            agree::<webhooks::WebhookRequest>(&[]),
        ]
        .into_iter()
        .collect();
        // Every body the document names is checked above: a new one must be added.
        let document = crate::http::openapi();
        for (path, item) in &document.paths.paths {
            let operations = [&item.get, &item.post, &item.put, &item.patch, &item.delete];
            for op in operations.into_iter().flatten() {
                let Some(RefOr::T(body)) = &op.request_body else { continue };
                for content in body.content.values() {
                    let RefOr::T(content) = content else { continue };
                    let Some(RefOr::Ref(r)) = &content.schema else { continue };
                    let name = r.ref_location.rsplit('/').next().unwrap_or_default();
                    assert!(checked.contains(name), "{path}: body {name} is not checked here");
                }
            }
        }
    }
}
