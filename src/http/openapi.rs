//! Routes and their OpenAPI operations from one declaration: a handler's
//! `#[utoipa::path]` names its method and path, and `ApiRouter::routes(routes!(handler))`
//! serves it there (and at its trailing-slash twin) and documents it, so the router and
//! `/api/schema/` cannot disagree.

use std::sync::OnceLock;

use axum::routing::MethodRouter;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, OpenApi as Document};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::UtoipaMethodRouter;

use crate::app::AppState;

/// An axum router and the OpenAPI paths of the routes in it, built together.
#[derive(Default)]
pub struct ApiRouter {
    router: Router<AppState>,
    document: Document,
}

impl ApiRouter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves the handlers of one path (from `utoipa_axum::routes!`) and documents them.
    pub fn routes(mut self, (schemas, paths, method_router): UtoipaMethodRouter<AppState>) -> Self {
        for path in paths.paths.keys() {
            self.router = with_twin(self.router, path, method_router.clone());
        }
        for (path, item) in paths.paths {
            match self.document.paths.paths.get_mut(&path) {
                Some(existing) => existing.merge_operations(item),
                None => {
                    self.document.paths.paths.insert(path, item);
                }
            }
        }
        self.document.components.get_or_insert_with(Components::new).schemas.extend(schemas);
        self
    }

    pub fn merge(mut self, other: ApiRouter) -> Self {
        self.router = self.router.merge(other.router);
        self.document.merge(other.document);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Document) {
        (self.router, self.document)
    }
}

/// Registers `path` with and without its trailing slash: API.md serves both alike, and a
/// redirect would lose a POST body.
fn with_twin(router: Router<AppState>, path: &str, handler: MethodRouter<AppState>) -> Router<AppState> {
    let twin = match path.strip_suffix('/') {
        Some(trimmed) => trimmed.to_string(),
        None => format!("{path}/"),
    };
    router.route(path, handler.clone()).route(&twin, handler)
}

/// The document's header: what every route shares.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Authenticon",
        description = "JWT authentication service, compatible with djangorestframework-simplejwt clients. \
            Errors use DRF's shapes: `{\"detail\": ...}` (plus `code` on token errors) or `{\"field\": [messages]}`. \
            Every path is also served without its trailing slash. Unknown request fields are ignored, as DRF does. \
            Every 401 carries `WWW-Authenticate: Bearer realm=\"api\"`; every response carries `X-Request-Id`. \
            Stricter than simplejwt on purpose: an access token of a revoked session is refused (`token_not_valid`) \
            on every Bearer endpoint and by `/api/token/verify/`; sensitive changes (email, factors) need a fresh proof \
            of presence (`403 reauthentication_required` without one, see `/api/me/reauthenticate/`); administrators \
            grant only what they hold (`403 permission_denied`)."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Registration and simplejwt-compatible tokens"),
        (name = "me", description = "The caller's own resources"),
        (name = "session", description = "Browser sessions: the refresh token in an HttpOnly cookie"),
        (name = "recovery", description = "Password reset and email verification by mailed, single-use links"),
        (name = "mfa", description = "Second factors: TOTP, passkeys (WebAuthn) and recovery codes"),
        (name = "roles", description = "Roles and permissions; each route names the permission it needs"),
        (name = "users", description = "User administration"),
        (name = "audit", description = "The audit log"),
        (name = "external", description = "Sign-in with external identity providers (OpenID Connect, GitHub): browser redirects and the providers offered"),
        (name = "webhooks", description = "Webhook endpoints (`webhooks.manage`): deliveries signed per Standard Webhooks, retried, logged, replayable"),
        (name = "service", description = "Health, the API description, the JWKS and the revocation feed"),
    )
)]
struct Header;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
            ),
        );
    }
}

/// The OpenAPI 3.1 document: the header and every route's operation. Built once.
pub fn document() -> Document {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| {
            let mut document = Header::openapi();
            document.merge(super::routes::all().into_parts().1);
            document
        })
        .clone()
}
