//! The web app, embedded in the binary: hashed assets cached for a year, `index.html`
//! never cached, and `index.html` for client-side routes — never for `/api/…`, which
//! keeps its JSON 404.

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use super::errors::ApiError;

#[derive(Embed)]
#[folder = "web/dist/"]
struct Assets;

/// Every response: the app runs only its own scripts and styles, cannot be framed,
/// leaks no referrer, and no content type is sniffed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

fn file_response(path: &str, cache: &'static str) -> Option<Response> {
    let file = Assets::get(path)?;
    let mime = file.metadata.mimetype().to_string();
    let mut response = Response::new(Body::from(file.data.into_owned()));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Some(response)
}

/// The fallback for every path no API route claimed.
pub async fn web_app(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let is_api = path == "/api" || path.starts_with("/api/");
    if is_api || !(method == Method::GET || method == Method::HEAD) {
        return ApiError::NotFound.into_response();
    }
    let relative = path.trim_start_matches('/');
    if !relative.is_empty() && relative != "index.html" {
        // Vite names built assets by content hash: they never change under one name.
        let cache =
            if relative.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        if let Some(r) = file_response(relative, cache) {
            return r;
        }
        // A missing file (it has an extension) is a 404, not the app.
        if relative.rsplit('/').next().is_some_and(|last| last.contains('.')) {
            return ApiError::NotFound.into_response();
        }
    }
    file_response("index.html", "no-cache")
        .unwrap_or_else(|| (StatusCode::NOT_FOUND, "web app not built").into_response())
}
