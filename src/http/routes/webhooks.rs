//! Webhook endpoints (`webhooks.manage`): register, change, remove, rotate the secret,
//! read the delivery log, replay dead deliveries; and the event types to choose from.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::domain::rfc3339;
use crate::http::body::{Body, FieldReader, ReadBody, Spaces};
use crate::http::errors::ApiError;
use crate::http::extract::{Client, Require, WebhooksManage};
use crate::http::models::{BadRequestBody, CodedDetail, Detail};
use crate::http::openapi::ApiRouter;
use crate::http::pagination::{PageRequest, Paginated, QueryParams};
use crate::notify::webhooks::{EndpointSpec, WithSecret, EVENT_TYPES};
use crate::store::{AuditMeta, WebhookDeliveryRow, WebhookEndpointRow};

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(webhook_event_types))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(list_webhook_deliveries))
        .routes(routes!(replay_webhook_delivery))
        .routes(routes!(replay_dead_webhook_deliveries))
}

#[derive(Serialize, ToSchema)]
pub struct WebhookResponse {
    pub id: String,
    pub url: String,
    pub description: String,
    #[schema(example = json!(["session.revoked", "user.deactivated"]))]
    pub events: Vec<String>,
    /// `standard`: JSON signed per Standard Webhooks; `set`: Security Event Tokens (RFC
    /// 8417; CAEP `session-revoked` and `credential-change`, RISC `account-disabled`)
    /// pushed per RFC 8935, signed with the published key.
    pub format: String,
    /// A disabled endpoint is sent nothing; what happens meanwhile waits in its log and
    /// goes out, in order, once it is enabled again.
    pub enabled: bool,
    pub created: String,
    pub updated: String,
    /// `whsec_…`: only when a `standard` endpoint was just made or its secret rotated.
    /// Receivers verify each delivery's `webhook-signature` with it (Standard Webhooks);
    /// Security Event Tokens are verified against the JWKS instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookResponse {
    fn new(e: WebhookEndpointRow, secret: Option<String>) -> Self {
        Self {
            events: e.event_types().map(str::to_string).collect(),
            format: e.format,
            id: e.id,
            url: e.url,
            description: e.description,
            enabled: e.enabled,
            created: rfc3339(e.created_at),
            updated: rfc3339(e.updated_at),
            secret,
        }
    }
}

impl From<WithSecret> for WebhookResponse {
    fn from(w: WithSecret) -> Self {
        WebhookResponse::new(w.endpoint, w.secret)
    }
}

/// An endpoint as an administrator describes it; on `PATCH` every field is optional.
#[derive(ToSchema)]
pub struct WebhookRequest {
    /// `http` or `https`; redirects are not followed.
    url: Option<String>,
    description: Option<String>,
    /// Event types (see `/api/webhooks/event-types/`), at least one.
    events: Option<Vec<String>>,
    enabled: Option<bool>,
    /// `standard` (default) or `set`: fixed at creation. A `set` endpoint takes
    /// `session.revoked`, `session.reuse_detected`, `password.changed`, `factors.changed`
    /// and `user.deactivated`, and needs an asymmetric signing algorithm.
    format: Option<String>,
}

impl ReadBody for WebhookRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self {
            url: f.optional("url", Spaces::Trim, 2000),
            description: f.optional("description", Spaces::Trim, 200),
            events: f.optional_list("events", 50, 100),
            enabled: f.optional_bool("enabled"),
            format: f.optional("format", Spaces::Trim, 20),
        }
    }
}

impl From<WebhookRequest> for EndpointSpec {
    fn from(r: WebhookRequest) -> Self {
        EndpointSpec {
            url: r.url,
            format: r.format,
            description: r.description,
            events: r.events,
            enabled: r.enabled,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventType {
    #[schema(example = "session.revoked")]
    pub name: &'static str,
    pub description: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryResponse {
    /// The `webhook-id` header, the same on every attempt.
    pub id: String,
    pub event: String,
    /// What was (or will be) sent, as JSON.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    pub attempts: i64,
    pub created: String,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt: Option<String>,
    pub last_attempt: Option<String>,
    /// The receiver's last HTTP status; null when it could not be reached.
    pub last_status: Option<i64>,
    pub last_error: String,
    pub delivered: Option<String>,
}

impl From<WebhookDeliveryRow> for DeliveryResponse {
    fn from(d: WebhookDeliveryRow) -> Self {
        Self {
            next_attempt: (d.status == "pending").then(|| rfc3339(d.next_attempt_at)),
            payload: serde_json::from_str(&d.payload).unwrap_or_default(),
            id: d.id,
            event: d.event,
            status: d.status,
            attempts: d.attempts,
            created: rfc3339(d.created_at),
            last_attempt: d.last_attempt_at.map(rfc3339),
            last_status: d.last_status,
            last_error: d.last_error,
            delivered: d.delivered_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Replayed {
    pub replayed: u64,
}

fn audit_of(guard: &Require<WebhooksManage>, client: crate::domain::ClientInfo) -> AuditMeta {
    AuditMeta::actor(guard.id(), client)
}

/// The registered endpoints. Needs `webhooks.manage`.
#[utoipa::path(get, path = "/api/webhooks/", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Vec<WebhookResponse>), (status = 401, body = CodedDetail), (status = 403, body = Detail)))]
pub async fn list_webhooks(
    _: Require<WebhooksManage>,
    State(app): State<AppState>,
) -> Result<Json<Vec<WebhookResponse>>, ApiError> {
    let endpoints = app.webhooks.list().await?;
    Ok(Json(endpoints.into_iter().map(|e| WebhookResponse::new(e, None)).collect()))
}

/// Register an endpoint: it hears of the chosen events from now on. The `secret` is in
/// this answer only.
#[utoipa::path(post, path = "/api/webhooks/", tag = "webhooks", request_body = WebhookRequest, security(("bearer" = [])),
    responses((status = 201, body = WebhookResponse), (status = 400, body = BadRequestBody),
              (status = 401, body = CodedDetail), (status = 403, body = Detail)))]
pub async fn create_webhook(
    guard: Require<WebhooksManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Body(body): Body<WebhookRequest>,
) -> Result<(StatusCode, Json<WebhookResponse>), ApiError> {
    let made = app.webhooks.create(body.into(), &audit_of(&guard, client)).await?;
    Ok((StatusCode::CREATED, Json(made.into())))
}

/// The event types an endpoint may ask for.
#[utoipa::path(get, path = "/api/webhooks/event-types/", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Vec<EventType>), (status = 401, body = CodedDetail), (status = 403, body = Detail)))]
pub async fn webhook_event_types(_: Require<WebhooksManage>) -> Json<Vec<EventType>> {
    Json(EVENT_TYPES.iter().map(|(name, description)| EventType { name, description }).collect())
}

#[utoipa::path(get, path = "/api/webhooks/{id}/", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookResponse), (status = 403, body = Detail), (status = 404, body = Detail)))]
pub async fn get_webhook(
    _: Require<WebhooksManage>,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WebhookResponse>, ApiError> {
    Ok(Json(WebhookResponse::new(app.webhooks.get(&id).await?, None)))
}

/// Change an endpoint; fields left out keep their value.
#[utoipa::path(patch, path = "/api/webhooks/{id}/", tag = "webhooks", request_body = WebhookRequest, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookResponse), (status = 400, body = BadRequestBody),
              (status = 403, body = Detail), (status = 404, body = Detail)))]
pub async fn update_webhook(
    guard: Require<WebhooksManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    Body(body): Body<WebhookRequest>,
) -> Result<Json<WebhookResponse>, ApiError> {
    let updated = app.webhooks.update(&id, body.into(), false, &audit_of(&guard, client)).await?;
    Ok(Json(updated.into()))
}

/// Remove an endpoint and its delivery log.
#[utoipa::path(delete, path = "/api/webhooks/{id}/", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Detail), (status = 404, body = Detail)))]
pub async fn delete_webhook(
    guard: Require<WebhooksManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.webhooks.delete(&id, &audit_of(&guard, client)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret, in this answer only; the old one stops signing at once.
#[utoipa::path(post, path = "/api/webhooks/{id}/rotate-secret/", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookResponse), (status = 403, body = Detail), (status = 404, body = Detail)))]
pub async fn rotate_webhook_secret(
    guard: Require<WebhooksManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<WebhookResponse>, ApiError> {
    let rotated = app.webhooks.update(&id, EndpointSpec::default(), true, &audit_of(&guard, client)).await?;
    Ok(Json(rotated.into()))
}

/// The endpoint's deliveries, newest first (`status`: pending, delivered or dead).
#[utoipa::path(get, path = "/api/webhooks/{id}/deliveries/", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path),
        ("status" = Option<String>, Query, description = "pending, delivered or dead"),
        ("page" = Option<i64>, Query, description = "1-based page number"),
        ("page_size" = Option<i64>, Query, description = "Results a page (default 20, at most 100)")),
    responses((status = 200, body = Paginated<DeliveryResponse>), (status = 400, body = BadRequestBody),
              (status = 403, body = Detail), (status = 404, body = Detail)))]
pub async fn list_webhook_deliveries(
    _: Require<WebhooksManage>,
    State(app): State<AppState>,
    Path(id): Path<String>,
    params: QueryParams,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Paginated<DeliveryResponse>>, ApiError> {
    let page = PageRequest::from_params(&params)?;
    let found = app.webhooks.deliveries(&id, params.get("status"), page.offset(), page.size).await?;
    let results = found.rows.into_iter().map(DeliveryResponse::from).collect();
    Ok(Json(Paginated::new(page, found.count, results, &uri, &headers)?))
}

/// Send a dead delivery again, in its turn.
#[utoipa::path(post, path = "/api/webhooks/{id}/deliveries/{delivery_id}/replay/", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 200, body = Replayed), (status = 403, body = Detail),
              (status = 404, description = "No such endpoint, or no dead delivery by that id", body = Detail)))]
pub async fn replay_webhook_delivery(
    guard: Require<WebhooksManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<Json<Replayed>, ApiError> {
    let replayed = app.webhooks.replay(&id, Some(&delivery), &audit_of(&guard, client)).await?;
    Ok(Json(Replayed { replayed }))
}

/// Send every dead delivery of the endpoint again, in their order.
#[utoipa::path(post, path = "/api/webhooks/{id}/replay/", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Replayed), (status = 403, body = Detail), (status = 404, body = Detail)))]
pub async fn replay_dead_webhook_deliveries(
    guard: Require<WebhooksManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<Replayed>, ApiError> {
    let replayed = app.webhooks.replay(&id, None, &audit_of(&guard, client)).await?;
    Ok(Json(Replayed { replayed }))
}
