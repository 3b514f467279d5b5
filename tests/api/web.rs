//! The embedded web app: content types, caching, SPA fallback, security headers.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

async fn get_raw(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(format!("{}{path}", app.url)).send().await.unwrap()
}

#[tokio::test]
async fn the_app_is_served_at_the_root_and_for_client_routes() {
    let app = spawn().await;
    for path in ["/", "/login", "/sessions", "/users?page=2"] {
        let r = get_raw(&app, path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["content-type"], "text/html", "{path}");
        assert_eq!(r.headers()["cache-control"], "no-cache", "{path}");
        assert!(r.text().await.unwrap().contains("<title>Authenticon</title>"), "{path}");
    }
}

#[tokio::test]
async fn hashed_assets_are_cached_for_a_year() {
    let app = spawn().await;
    let index = get_raw(&app, "/").await.text().await.unwrap();
    let Some(start) = index.find("/assets/") else {
        // Only the placeholder page is embedded: `make test` builds the app first.
        panic!("the web app is not built; run `make web` (make test does)");
    };
    let src: String = index[start..].chars().take_while(|c| *c != '"').collect();
    let r = get_raw(&app, &src).await;
    assert_eq!(r.status(), StatusCode::OK, "{src}");
    assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct == "text/javascript" || ct == "application/javascript" || ct == "text/css", "{ct}");
}

#[tokio::test]
async fn api_paths_and_missing_files_keep_json_404s() {
    let app = spawn().await;
    for path in ["/api/nothing/", "/api", "/api/users/x/y/z/", "/missing.png", "/assets/nope.js"] {
        let r = app.get(path, None).await;
        assert_eq!((r.status, &r.body), (StatusCode::NOT_FOUND, &json!({"detail": "Not found."})), "{path}");
    }
    let r = app.post("/somewhere", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn().await;
    for path in ["/", "/api/schema/", "/api/nothing"] {
        let r = get_raw(&app, path).await;
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["x-frame-options"], "DENY");
    }
}
