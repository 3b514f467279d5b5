//! DRF's `PageNumberPagination`: `?page=N` (and `?page_size=`), answered as
//! `{"count", "next", "previous", "results"}` with absolute `next`/`previous` links.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Uri};
use serde::Serialize;
use utoipa::ToSchema;

use super::errors::ApiError;

pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 100;

/// The query string as name → value (the last value wins, as in Django's `QueryDict.get`).
pub struct QueryParams(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
            .map_err(|_| ApiError::BadRequest("Malformed query string."))?;
        Ok(QueryParams(pairs.into_iter().collect()))
    }
}

impl QueryParams {
    /// A non-empty parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// Which page the client asked for.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub page: i64,
    pub size: i64,
}

impl PageRequest {
    /// `page` must be a positive number (else `404 Invalid page.`, as DRF); a bad
    /// `page_size` falls back to the default, as DRF does.
    pub fn from_params(params: &QueryParams) -> Result<Self, ApiError> {
        let page = match params.get("page") {
            None => 1,
            Some(p) => p.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(invalid_page)?,
        };
        let size = params
            .get("page_size")
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|n| *n >= 1)
            .map_or(DEFAULT_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE));
        Ok(Self { page, size })
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.size)
    }
}

fn invalid_page() -> ApiError {
    ApiError::NotFoundDetail("Invalid page.".into())
}

/// One page of results, in DRF's shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    pub count: i64,
    /// Absolute URL of the next page, or null.
    pub next: Option<String>,
    /// Absolute URL of the previous page, or null.
    pub previous: Option<String>,
    pub results: Vec<T>,
}

impl<T> Paginated<T> {
    /// Fails with `404 Invalid page.` past the last page (page 1 always exists).
    pub fn new(
        req: PageRequest,
        count: i64,
        results: Vec<T>,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Result<Self, ApiError> {
        if req.page > 1 && req.offset() >= count {
            return Err(invalid_page());
        }
        let has_next = req.offset() + (results.len() as i64) < count;
        Ok(Self {
            count,
            next: has_next.then(|| page_link(uri, headers, Some(req.page + 1))),
            previous: (req.page > 1).then(|| page_link(uri, headers, (req.page > 2).then_some(req.page - 1))),
            results,
        })
    }
}

/// This request's URL with `page` set (or removed, for the first page, as DRF does).
fn page_link(uri: &Uri, headers: &HeaderMap, page: Option<i64>) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    pairs.retain(|(k, _)| k != "page");
    if let Some(p) = page {
        pairs.push(("page".into(), p.to_string()));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let sep = if query.is_empty() { "" } else { "?" };
    format!("http://{host}{}{sep}{query}", uri.path())
}
