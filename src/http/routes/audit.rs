//! The audit log, `/api/audit/`, and the example guarded route `/api/reports/`.

use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::domain::rfc3339;
use crate::http::errors::ApiError;
use crate::http::extract::{AuditView, ReportsView, Require};
use crate::http::models::{BadRequestBody, CodedDetail, Detail};
use crate::http::openapi::ApiRouter;
use crate::http::pagination::{PageRequest, Paginated, QueryParams};
use crate::store::AuditRow;

pub fn routes() -> ApiRouter {
    ApiRouter::new().routes(routes!(list_audit)).routes(routes!(reports))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339.
    pub time: String,
    #[schema(example = "login")]
    pub event: String,
    /// The user the event is about.
    pub user_id: Option<String>,
    pub username: Option<String>,
    /// Who acted, when someone signed in did (an administrator, or the user themself).
    pub actor_id: Option<String>,
    pub ip: String,
    pub user_agent: String,
    /// Event-specific facts (session id, roles before and after, …); never a secret.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub detail: serde_json::Value,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        Self {
            id: r.id,
            time: rfc3339(r.time),
            event: r.event,
            user_id: r.user_id,
            username: r.username,
            actor_id: r.actor_id,
            ip: r.ip,
            user_agent: r.user_agent,
            detail: serde_json::from_str(&r.detail).unwrap_or_else(|_| serde_json::json!({})),
        }
    }
}

/// The audit log, newest first, 20 a page. Needs `audit.view`.
#[utoipa::path(get, path = "/api/audit/", tag = "audit", security(("bearer" = [])),
    params(
        ("user" = Option<String>, Query, description = "A user id or username"),
        ("event" = Option<String>, Query, description = "An event name, e.g. `login`, `refresh_reuse_detected`"),
        ("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query),
    ),
    responses(
        (status = 200, body = Paginated<AuditEntry>),
        (status = 400, description = "Unknown event name", body = BadRequestBody),
        (status = 401, body = CodedDetail), (status = 403, body = Detail), (status = 404, description = "`Invalid page.`", body = Detail),
    ))]
pub async fn list_audit(
    _: Require<AuditView>,
    State(app): State<AppState>,
    params: QueryParams,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Paginated<AuditEntry>>, ApiError> {
    let page = PageRequest::from_params(&params)?;
    let found = app.audit.list(params.get("user"), params.get("event"), page.offset(), page.size).await?;
    let results = found.rows.into_iter().map(AuditEntry::from).collect();
    Ok(Json(Paginated::new(page, found.count, results, &uri, &headers)?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Report {
    pub id: &'static str,
    pub title: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportsResponse {
    pub reports: Vec<Report>,
}

/// The example guarded route: needs `reports.view`. Its whole protection is the
/// `Require<ReportsView>` argument.
#[utoipa::path(get, path = "/api/reports/", tag = "roles", security(("bearer" = [])),
    responses((status = 200, body = ReportsResponse), (status = 401, body = CodedDetail), (status = 403, body = Detail)))]
pub async fn reports(_: Require<ReportsView>) -> Json<ReportsResponse> {
    Json(ReportsResponse {
        reports: vec![
            Report { id: "signups-weekly", title: "Weekly sign-ups" },
            Report { id: "logins-daily", title: "Daily logins" },
        ],
    })
}
