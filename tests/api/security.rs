//! Transport and deployment defences: proxies, CORS, HSTS, timeouts, size limits, and
//! tokens outliving a password change.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn forwarded_for_is_ignored_unless_the_proxy_is_trusted() {
    // Untrusted: every failure counts against the real peer, whatever the header says.
    let app = spawn().await;
    app.register("alice").await;
    for i in 0..5 {
        assert_eq!(
            login_from(&app, &format!("203.0.113.{i}"), "wrong password").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login_from(&app, "198.51.100.77", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    let r = app
        .client
        .post(format!("{}/api/token/", app.url))
        .json(&json!({"username": "bob", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client() {
    let app = spawn_with(localhost_trusted).await;
    app.register("alice").await;
    for _ in 0..5 {
        assert_eq!(login_from(&app, "203.0.113.9", "wrong password").await, StatusCode::UNAUTHORIZED);
    }
    // That address is throttled for alice; another one is not.
    assert_eq!(login_from(&app, "203.0.113.9", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login_from(&app, "203.0.113.10", PASSWORD).await, StatusCode::OK);
    // The session and the audit log record the client, not the proxy.
    let r = app
        .client
        .post(format!("{}/api/token/", app.url))
        .header("x-forwarded-for", "1.2.3.4, 198.51.100.20")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let access = str_of(&r.json::<serde_json::Value>().await.unwrap()["access"]);
    let sessions = app.get("/api/me/sessions/", Some(&access)).await.body;
    let ips: Vec<&str> = sessions.as_array().unwrap().iter().map(|s| s["ip"].as_str().unwrap()).collect();
    assert!(ips.contains(&"198.51.100.20"), "{ips:?}");
    assert!(!ips.contains(&"1.2.3.4"), "a spoofed left-most entry was believed: {ips:?}");
}

#[tokio::test]
async fn cors_is_off_by_default_and_an_allow_list_when_configured() {
    let preflight = |app: &TestApp, origin: &'static str| {
        app.client
            .request(Method::OPTIONS, format!("{}/api/token/", app.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let app = spawn().await;
    let r = preflight(&app, "https://evil.example").await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = app
        .client
        .get(format!("{}/healthz", app.url))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());

    let app = spawn_with(|c| c.cors_allowed_origins = vec!["https://app.example".into()]).await;
    let r = preflight(&app, "https://app.example").await.unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "https://app.example");
    assert_eq!(r.headers()["access-control-allow-credentials"], "true");
    let r = preflight(&app, "https://evil.example").await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn hsts_only_when_a_trusted_proxy_says_https() {
    let get = |app: &TestApp| {
        app.client.get(format!("{}/healthz", app.url)).header("x-forwarded-proto", "https").send()
    };
    let untrusted = spawn().await;
    assert!(get(&untrusted).await.unwrap().headers().get("strict-transport-security").is_none());
    let trusted = spawn_with(localhost_trusted).await;
    let r = get(&trusted).await.unwrap();
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains");
    let r = trusted.client.get(format!("{}/healthz", trusted.url)).send().await.unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
    // The session cookie is Secure there, even on a localhost Host.
    trusted.register("alice").await;
    let r = trusted
        .client
        .post(format!("{}/api/session/login/", trusted.url))
        .header("x-forwarded-proto", "https")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["set-cookie"].to_str().unwrap().ends_with("; Secure"));
}

fn raw_exchange(url: &str, request: &[u8], wait: Duration) -> String {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    stream.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_slow_body_times_out_with_408() {
    let app = spawn_with(|c| c.request_timeout = Duration::from_secs(1)).await;
    let url = app.url.clone();
    let reply = tokio::task::spawn_blocking(move || {
        raw_exchange(
            &url,
            b"POST /api/token/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user",
            Duration::from_secs(10),
        )
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("{\"detail\":\"Request timed out.\"}"), "{reply}");
}

#[tokio::test]
async fn a_slowloris_head_is_cut_off() {
    let app = spawn_with(|c| c.header_read_timeout = Duration::from_secs(1)).await;
    let url = app.url.clone();
    let started = std::time::Instant::now();
    let reply = tokio::task::spawn_blocking(move || {
        raw_exchange(&url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a", Duration::from_secs(15))
    })
    .await
    .unwrap();
    // The server hung up well before the client's own 15 s patience ran out.
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
    assert!(!reply.contains("200 OK"), "{reply}");
}

#[tokio::test]
async fn oversized_heads_and_megabyte_tokens_are_refused() {
    let app = spawn().await;
    let token = "a".repeat(1024 * 1024);
    let r = app
        .client
        .get(format!("{}/protected-resource/", app.url))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await;
    // hyper refuses the head (431) or closes the connection; either way no handler ran.
    if let Ok(r) = r {
        assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }
    let r = app.post("/api/token/verify/", json!({"token": token})).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Within the limits, a long token is simply invalid.
    let r = app.post("/api/token/verify/", json!({"token": "a".repeat(50_000)})).await;
    assert_eq!((r.status, r.body), (StatusCode::UNAUTHORIZED, token_not_valid()));
}

#[tokio::test]
async fn access_tokens_issued_before_a_password_change_stop_working() {
    let app = spawn().await;
    app.register("alice").await;
    let (old_access, _) = app.login("alice").await;
    let (current_access, current_refresh) = app.login("alice").await;
    // Timestamps are whole seconds: let one pass so the change is strictly later.
    let iat = parts(&current_access).1["iat"].as_i64().unwrap();
    assert!(
        eventually(Duration::from_secs(3), || async {
            time::OffsetDateTime::now_utc().unix_timestamp() > iat
        })
        .await
    );
    let r = app
        .request(
            Method::POST,
            "/api/me/password/",
            Some(json!({"old_password": PASSWORD, "new_password": "another long passphrase"})),
            Some(&current_access),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    for token in [&old_access, &current_access] {
        let r = app.get("/protected-resource/", Some(token)).await;
        assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &access_not_valid()));
    }
    // The session that changed the password refreshes into a fresh, working token.
    let r = app.post("/api/token/refresh/", json!({"refresh": current_refresh})).await;
    let fresh = str_of(&r.body["access"]);
    assert_eq!(app.get("/protected-resource/", Some(&fresh)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unicode_confusables_cannot_clone_an_account() {
    let app = spawn().await;
    app.register("admin").await;
    // Fullwidth, mathematical and ligature forms fold onto existing names under NFKC.
    for name in ["ａｄｍｉｎ", "𝐚𝐝𝐦𝐢𝐧", "ADMIN", "Ａdmin"] {
        let r = app.post("/register/", json!({"username": name, "password": PASSWORD})).await;
        assert_eq!(r.body, json!({"username": ["A user with that username already exists."]}), "{name}");
    }
    app.register("ﬁle").await;
    let r = app.post("/register/", json!({"username": "file", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
