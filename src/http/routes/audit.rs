//! The audit log (`/api/audit/`: pages, events, CSV export, the overview's counts), and
//! the example guarded route `/api/reports/`.

mod csv;

use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::audit::{Audit, AuditQuery, Period};
use crate::domain::{rfc3339, FieldErrors, Timestamp};
use crate::http::errors::ApiError;
use crate::http::extract::{AuditView, Client, ReportsView, Require};
use crate::http::models::{BadRequestBody, CodedDetail, Detail};
use crate::http::openapi::ApiRouter;
use crate::http::pagination::{PageRequest, Paginated, QueryParams};
use crate::store::{AuditMeta, AuditRow};

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(audit_events))
        .routes(routes!(export_audit))
        .routes(routes!(audit_summary))
        .routes(routes!(reports))
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
    /// The actor's username now (null when nobody signed in acted, or the account is gone).
    pub actor_username: Option<String>,
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
            actor_username: r.actor_username,
            ip: r.ip,
            user_agent: r.user_agent,
            detail: serde_json::from_str(&r.detail).unwrap_or_else(|_| serde_json::json!({})),
        }
    }
}

const TIME_EXPECTED: &str = "Enter a date (YYYY-MM-DD) or a date and time (RFC 3339).";

/// `2026-12-01T10:00:00Z`, or a whole day `2026-12-01` (its start; with `end_of_day`, the
/// start of the next, so `until=2026-12-01` takes in all of that day).
fn parse_time(v: &str, end_of_day: bool) -> Option<Timestamp> {
    if let Ok(t) = OffsetDateTime::parse(v, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let mut parts = v.splitn(3, '-').map(|p| p.parse::<i32>().ok());
    let (year, month, day) = (parts.next()??, parts.next()??, parts.next()??);
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    let day = date.midnight().assume_utc().unix_timestamp();
    Some(if end_of_day { day + 86_400 } else { day })
}

/// The log's filters, read from the query string.
fn audit_query(params: &QueryParams) -> Result<AuditQuery, ApiError> {
    let mut errors = FieldErrors::default();
    let mut time = |name: &str, end_of_day: bool| {
        let v = params.get(name)?;
        let t = parse_time(v, end_of_day);
        if t.is_none() {
            errors.add(name, TIME_EXPECTED);
        }
        t
    };
    let since = time("since", false);
    let until = time("until", true);
    errors.into_result().map_err(ApiError::Fields)?;
    Ok(AuditQuery {
        user: params.get("user").map(str::to_string),
        actor: params.get("actor").map(str::to_string),
        event: params.get("event").map(str::to_string),
        since,
        until,
    })
}

/// The audit log, newest first, 20 a page. Needs `audit.view`. `count` is exact; by
/// event alone (or unfiltered) it comes from counters the database keeps per event, and
/// for the whole days (UTC) of a time range from counters per day, so it costs the same
/// for a million matches as for ten.
#[utoipa::path(get, path = "/api/audit/", tag = "audit", security(("bearer" = [])),
    params(
        ("user" = Option<String>, Query, description = "The user the events are about: an id or username"),
        ("actor" = Option<String>, Query, description = "Who acted: an id or username"),
        ("event" = Option<String>, Query, description = "An event name (`/api/audit/events/` lists them)"),
        ("since" = Option<String>, Query, description = "From this time (RFC 3339) or day (YYYY-MM-DD) on"),
        ("until" = Option<String>, Query, description = "Before this time (RFC 3339), or up to the end of this day (YYYY-MM-DD)"),
        ("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query),
    ),
    responses(
        (status = 200, body = Paginated<AuditEntry>),
        (status = 400, description = "Unknown event name, or a time that does not read", body = BadRequestBody),
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
    let found = app.audit.list(&audit_query(&params)?, page.offset(), page.size).await?;
    let results = found.rows.into_iter().map(AuditEntry::from).collect();
    Ok(Json(Paginated::new(page, found.count, results, &uri, &headers)?))
}

/// Every event name the log records, for filters. Needs `audit.view`.
#[utoipa::path(get, path = "/api/audit/events/", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = Vec<String>), (status = 401, body = CodedDetail), (status = 403, body = Detail)))]
pub async fn audit_events(_: Require<AuditView>) -> Json<Vec<&'static str>> {
    Json(Audit::events())
}

/// The log as CSV, newest first, with the list's filters: streamed a page at a time, so
/// any size is fine; it holds the entries up to the newest one when it began (its own
/// `audit_exported` entry among them when the filters match it). Fields that a
/// spreadsheet would read as a formula are prefixed with `'` (OWASP's CSV injection
/// advice). Needs `audit.view`.
#[utoipa::path(get, path = "/api/audit/export/", tag = "audit", security(("bearer" = [])),
    params(
        ("user" = Option<String>, Query), ("actor" = Option<String>, Query), ("event" = Option<String>, Query),
        ("since" = Option<String>, Query), ("until" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "`text/csv`: `id,time,event,user_id,username,actor_id,actor_username,ip,user_agent,detail`", content_type = "text/csv"),
        (status = 400, body = BadRequestBody),
        (status = 401, body = CodedDetail), (status = 403, body = Detail),
    ))]
pub async fn export_audit(
    guard: Require<AuditView>,
    State(app): State<AppState>,
    Client(client): Client,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let audit = AuditMeta::actor(guard.id(), client);
    let filter = app.audit.start_export(&audit_query(&params)?, &audit).await?;
    let body = csv::stream(app, filter);
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
        (header::CACHE_CONTROL, "no-store"),
    ];
    Ok((headers, body).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditSummary {
    /// `24h` (by the hour) or `30d` (by the day).
    pub period: &'static str,
    pub bucket_seconds: i64,
    /// RFC 3339: the start of each bucket, oldest first.
    pub buckets: Vec<String>,
    /// Per event, one count per bucket.
    pub series: std::collections::BTreeMap<&'static str, Vec<i64>>,
    /// Per event, the period's total.
    pub totals: std::collections::BTreeMap<&'static str, i64>,
}

/// Sign-ins, failed sign-ins, throttled attempts, refresh-token reuse alarms and new
/// users, counted per hour over the last day (`period=24h`) or per day over the last 30
/// (`30d`). Needs `audit.view`.
#[utoipa::path(get, path = "/api/audit/summary/", tag = "audit", security(("bearer" = [])),
    params(("period" = Option<String>, Query, description = "`24h` (default) or `30d`")),
    responses(
        (status = 200, body = AuditSummary),
        (status = 400, body = BadRequestBody),
        (status = 401, body = CodedDetail), (status = 403, body = Detail),
    ))]
pub async fn audit_summary(
    _: Require<AuditView>,
    State(app): State<AppState>,
    params: QueryParams,
) -> Result<Json<AuditSummary>, ApiError> {
    let period = match params.get("period") {
        None => Period::Day,
        Some(p) => Period::parse(p).ok_or_else(|| {
            ApiError::Fields(FieldErrors::one(
                "period",
                format!("Select a valid choice. {p} is not one of the available choices."),
            ))
        })?,
    };
    let o = app.audit.overview(period).await?;
    let totals = o.series.iter().map(|(e, counts)| (e.as_str(), counts.iter().sum())).collect();
    Ok(Json(AuditSummary {
        period: o.period.name(),
        bucket_seconds: o.bucket_secs,
        buckets: o.buckets.into_iter().map(rfc3339).collect(),
        series: o.series.into_iter().map(|(e, counts)| (e.as_str(), counts)).collect(),
        totals,
    }))
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
