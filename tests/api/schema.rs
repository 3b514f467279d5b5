//! The OpenAPI document and the router come from one declaration per route; these check
//! it from outside: every documented operation is served, at its path and at its
//! trailing-slash twin, and answers as an API (never the web app's page, never 404/405).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn every_documented_operation_is_served_with_and_without_its_slash() {
    let app = spawn().await;
    let document = app.get("/api/schema/", None).await.body;
    let paths = document["paths"].as_object().expect("paths");
    assert!(paths.len() >= 48, "only {} paths documented", paths.len());
    let mut checked = 0;
    for (path, item) in paths {
        let concrete = path.replace("{id}", "no-such-id").replace("{name}", "no-such-role");
        let twin = match concrete.strip_suffix('/') {
            Some(trimmed) => trimmed.to_string(),
            None => format!("{concrete}/"),
        };
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            for url in [&concrete, &twin] {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let mut req = app.client.request(method.clone(), format!("{}{url}", app.url));
                if method != Method::GET {
                    req = req.json(&json!({}));
                }
                let r = req.send().await.unwrap();
                let status = r.status();
                let html = r
                    .headers()
                    .get("content-type")
                    .is_some_and(|t| t.to_str().unwrap().starts_with("text/html"));
                // The browser's endpoints answer pages and redirects by design.
                let browser = path.starts_with("/oauth/authorize")
                    || path.starts_with("/oauth/logout")
                    || path.starts_with("/oauth/external/");
                // An unknown pending request is the handler's 404, in its own words.
                let body = r.text().await.unwrap_or_default();
                let handler_404 = status == StatusCode::NOT_FOUND
                    && (body.contains("sign-in request has expired")
                        || body.contains("no such sign-in provider")
                        || body.contains("No published key signs the revocation feed"));
                assert!(
                    (status != StatusCode::NOT_FOUND || handler_404)
                        && status != StatusCode::METHOD_NOT_ALLOWED
                        && (!html || browser),
                    "{method} {url} (documented as {path}) answered {status}, html: {html}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 130, "{checked} operations checked");
}
