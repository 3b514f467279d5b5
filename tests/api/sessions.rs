//! Browser sessions (HttpOnly refresh cookie) and the sessions page endpoints.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

struct CookieReply {
    status: StatusCode,
    body: Value,
    set_cookie: Option<String>,
}

impl CookieReply {
    /// The cookie's value, from `Set-Cookie`.
    fn cookie_value(&self) -> String {
        let sc = self.set_cookie.as_deref().expect("Set-Cookie");
        let first = sc.split(';').next().unwrap();
        first.strip_prefix("authenticon_refresh=").expect("cookie name").to_string()
    }
}

async fn session_call(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    xhr: bool,
    body: Option<Value>,
) -> CookieReply {
    let mut req = app.client.post(format!("{}{path}", app.url));
    if let Some(c) = cookie {
        req = req.header("cookie", format!("other=1; authenticon_refresh={c}"));
    }
    if xhr {
        req = req.header("x-requested-with", "XMLHttpRequest");
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let set_cookie = r.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_string());
    let text = r.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
    CookieReply { status, body, set_cookie }
}

async fn browser_login(app: &TestApp, username: &str) -> CookieReply {
    session_call(
        app,
        "/api/session/login/",
        None,
        false,
        Some(json!({"username": username, "password": PASSWORD})),
    )
    .await
}

#[tokio::test]
async fn session_login_keeps_the_refresh_token_in_an_httponly_cookie() {
    let app = spawn().await;
    app.register("alice").await;
    let r = browser_login(&app, "alice").await;
    assert_eq!(r.status, StatusCode::OK);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access", "user"]);
    assert_eq!(r.body["user"]["username"], "alice");
    let sc = r.set_cookie.clone().unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/api/session/", "Max-Age=86400"] {
        assert!(sc.contains(part), "{sc}");
    }
    assert!(!sc.contains("Secure"), "plain-HTTP localhost: {sc}");
    let refresh = r.cookie_value();
    assert_eq!(parts(&refresh).1["token_type"], "refresh");
    assert!(!r.body.to_string().contains(&refresh));
    // The access token works like any other.
    let access = str_of(&r.body["access"]);
    assert_eq!(app.get("/protected-resource/", Some(&access)).await.status, StatusCode::OK);

    let r = session_call(
        &app,
        "/api/session/login/",
        None,
        false,
        Some(json!({"username": "alice", "password": "nope"})),
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::UNAUTHORIZED, json!({"detail": "No active account found with the given credentials"}))
    );
    assert!(r.set_cookie.is_none());
}

#[tokio::test]
async fn the_cookie_is_secure_off_localhost() {
    let app = spawn_with(|c| c.public_url = Some("https://auth.example.com".into())).await;
    app.register("alice").await;
    let r = app
        .client
        .post(format!("{}/api/session/login/", app.url))
        .header("host", "auth.example.com")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let sc = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(sc.ends_with("; Secure"), "{sc}");
}

#[tokio::test]
async fn session_refresh_rotates_the_cookie_and_guards_against_csrf() {
    let app = spawn().await;
    app.register("alice").await;
    let first = browser_login(&app, "alice").await.cookie_value();

    let r = session_call(&app, "/api/session/refresh/", Some(&first), false, None).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::FORBIDDEN, json!({"detail": "You do not have permission to perform this action."}))
    );
    let r = session_call(&app, "/api/session/refresh/", None, true, None).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::UNAUTHORIZED, json!({"detail": "Authentication credentials were not provided."}))
    );

    let r = session_call(&app, "/api/session/refresh/", Some(&first), true, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["user"]["username"], "alice");
    let second = r.cookie_value();
    assert_ne!(second, first);
    assert_eq!(parts(&second).1["sid"], parts(&first).1["sid"]);

    // The spent cookie again is reuse: refused, cleared, and the family is gone.
    let r = session_call(&app, "/api/session/refresh/", Some(&first), true, None).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()));
    assert!(r.set_cookie.unwrap().contains("Max-Age=0"));
    let r = session_call(&app, "/api/session/refresh/", Some(&second), true, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn session_logout_revokes_and_clears_the_cookie() {
    let app = spawn().await;
    app.register("alice").await;
    let cookie = browser_login(&app, "alice").await.cookie_value();
    let r = session_call(&app, "/api/session/logout/", Some(&cookie), false, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let sc = r.set_cookie.unwrap();
    assert!(sc.starts_with("authenticon_refresh=;") && sc.contains("Max-Age=0"), "{sc}");
    let r = session_call(&app, "/api/session/refresh/", Some(&cookie), true, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Logging out twice, or with no cookie, is still a logout.
    assert_eq!(
        session_call(&app, "/api/session/logout/", Some(&cookie), false, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        session_call(&app, "/api/session/logout/", None, false, None).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn the_sessions_page_lists_revokes_one_and_logs_out_everywhere() {
    let app = spawn().await;
    app.register("alice").await;
    let (a_access, a_refresh) = app.login("alice").await;
    let r = app
        .client
        .post(format!("{}/api/token/", app.url))
        .header("user-agent", "Phone Browser/2.0")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let b: Value = r.json().await.unwrap();
    let b_refresh = str_of(&b["refresh"]);
    let b_sid = str_of(&parts(&b_refresh).1["sid"]);
    let a_sid = str_of(&parts(&a_refresh).1["sid"]);

    let r = app.get("/api/me/sessions/", Some(&a_access)).await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let mine = list.iter().find(|s| s["id"] == json!(a_sid)).unwrap();
    let other = list.iter().find(|s| s["id"] == json!(b_sid)).unwrap();
    assert_eq!((mine["current"].clone(), other["current"].clone()), (json!(true), json!(false)));
    assert_eq!(other["user_agent"], "Phone Browser/2.0");
    assert_eq!(mine["user_agent"], "authenticon-tests");
    assert_eq!(other["ip"], "127.0.0.1");
    let mut keys: Vec<&String> = mine.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["created", "current", "id", "ip", "last_used", "user_agent"]);

    let r = app.request(Method::DELETE, &format!("/api/me/sessions/{b_sid}/"), None, Some(&a_access)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.post("/api/token/refresh/", json!({"refresh": b_refresh})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/me/sessions/", Some(&a_access)).await.body.as_array().unwrap().len(), 1);
    for missing in [b_sid.as_str(), "no-such-session"] {
        let r =
            app.request(Method::DELETE, &format!("/api/me/sessions/{missing}/"), None, Some(&a_access)).await;
        assert_eq!((r.status, r.body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})));
    }
    // Nobody revokes someone else's session.
    let (_, bob_access, bob_refresh) = app.user_with_tokens("bob").await;
    let r = app.request(Method::DELETE, &format!("/api/me/sessions/{a_sid}/"), None, Some(&bob_access)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = app.request(Method::POST, "/api/me/sessions/revoke-all/", None, Some(&a_access)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.post("/api/token/refresh/", json!({"refresh": a_refresh})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Its access token ended with it (API.md "Trust rules").
    assert_eq!(app.get("/api/me/sessions/", Some(&a_access)).await.status, StatusCode::UNAUTHORIZED);
    // Bob's session is untouched.
    assert_eq!(app.post("/api/token/refresh/", json!({"refresh": bob_refresh})).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/me/sessions/", None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_sign_in_over_a_live_cookie_ends_the_session_it_replaces() {
    let app = spawn().await;
    app.register("alice").await;
    app.register("bob").await;
    let alice = browser_login(&app, "alice").await;
    let alice_access = str_of(&alice.body["access"]);
    let body = json!({"username": "bob", "password": PASSWORD});
    let bob = session_call(&app, "/api/session/login/", Some(&alice.cookie_value()), false, Some(body)).await;
    assert_eq!(bob.status, StatusCode::OK, "{}", bob.body);
    // SECURITY: alice's session, whose cookie the browser just lost, does not live on
    // unseen: neither its refresh token nor its access tokens work any more.
    let r = session_call(&app, "/api/session/refresh/", Some(&alice.cookie_value()), true, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(app.get("/api/me/", Some(&alice_access)).await.status, StatusCode::UNAUTHORIZED);
    let r = session_call(&app, "/api/session/refresh/", Some(&bob.cookie_value()), true, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}
