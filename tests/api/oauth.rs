//! The identity provider over HTTP: clients, the code flow with PKCE through the pending
//! request the web app answers, tokens, userinfo, refresh rotation, revocation,
//! introspection, client credentials, logout, discovery; and RFC 9700's attacks.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::*;

const CALLBACK: &str = "https://app.example.com/callback";
const VERIFIER: &str = "a-very-long-code-verifier-of-at-least-forty-three-characters-0123";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn header_of(jwt: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').next().unwrap()).unwrap()).unwrap()
}

/// A browser that does not follow redirects, so each hop can be read.
fn browser() -> reqwest::Client {
    crate::support::client_builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The query parameters of a URL.
fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    let parsed = url::Url::parse(url).unwrap();
    parsed.query_pairs().into_owned().collect()
}

struct Registered {
    id: String,
    secret: Option<String>,
}

async fn register(app: &TestApp, admin: &str, body: Value) -> Registered {
    let r = app.request(Method::POST, "/api/clients/", Some(body), Some(admin)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    Registered {
        id: str_of(&r.body["client_id"]),
        secret: r.body["client_secret"].as_str().map(String::from),
    }
}

async fn web_client(app: &TestApp, admin: &str) -> Registered {
    register(
        app,
        admin,
        json!({"name": "Web app", "redirect_uris": [CALLBACK],
               "post_logout_redirect_uris": ["https://app.example.com/bye"],
               "scopes": ["openid", "profile", "email", "offline_access", "roles"]}),
    )
    .await
}

/// `GET /oauth/authorize` with these parameters (PKCE S256 of VERIFIER unless given).
async fn authorize(app: &TestApp, params: &[(&str, &str)]) -> reqwest::Response {
    let chal = challenge(VERIFIER);
    let given = |key: &str| params.iter().any(|(k, _)| *k == key);
    let mut all: Vec<(&str, &str)> = vec![("response_type", "code")];
    if !given("code_challenge_method") {
        all.push(("code_challenge_method", "S256"));
    }
    if !given("code_challenge") {
        all.push(("code_challenge", &chal));
    }
    all.extend(params.iter().copied().filter(|(_, v)| !v.is_empty()));
    let url = reqwest::Url::parse_with_params(&format!("{}/oauth/authorize", app.url), &all).unwrap();
    browser().get(url).send().await.unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

/// The code flow up to the code: authorize, then the web app's answer as `access`.
async fn code_for(app: &TestApp, client: &Registered, access: &str, scope: &str) -> String {
    let r = authorize(
        app,
        &[
            ("client_id", &client.id),
            ("redirect_uri", CALLBACK),
            ("scope", scope),
            ("state", "st-1"),
            ("nonce", "n-1"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let pending = location(&r);
    let handle =
        pending.strip_prefix("/authorize?request=").unwrap_or_else(|| panic!("{pending}")).to_string();
    let path = format!("/api/oauth/requests/{handle}/");
    let r = app.request(Method::POST, &path, Some(json!({"decision": "allow"})), Some(access)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let back = str_of(&r.body["redirect_to"]);
    assert!(back.starts_with(CALLBACK), "{back}");
    let q = query_of(&back);
    assert_eq!((q["state"].as_str(), q["iss"].as_str()), ("st-1", app.state.oauth.issuer()));
    q["code"].clone()
}

/// POSTs a form to `path` as `client` (HTTP Basic when it has a secret).
async fn post_form(
    app: &TestApp,
    path: &str,
    client: &Registered,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(format!("{}{path}", app.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap());
    if let Some(secret) = &client.secret {
        req = req.basic_auth(&client.id, Some(secret));
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn token(app: &TestApp, client: &Registered, form: &[(&str, &str)]) -> (StatusCode, Value) {
    post_form(app, "/oauth/token", client, form).await
}

async fn exchange(app: &TestApp, client: &Registered, code: &str) -> (StatusCode, Value) {
    token(
        app,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

async fn admin_of(app: &TestApp) -> String {
    superuser(app, "root").await.1
}

#[tokio::test]
async fn the_code_flow_gives_tokens_userinfo_and_rotating_refresh_tokens() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let client = web_client(&app, &root).await;
    assert!(client.secret.as_ref().is_some_and(|s| s.len() >= 43));
    let (_, alice, _) = app.user_with_tokens("alice").await;
    let code = code_for(&app, &client, &alice, "openid profile email offline_access").await;
    let (status, body) = exchange(&app, &client, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["token_type"], &body["scope"]),
        (&json!("Bearer"), &json!("openid profile email offline_access"))
    );
    let access = str_of(&body["access_token"]);
    assert_eq!(header_of(&access)["typ"], json!("at+jwt"));
    assert_eq!(header_of(&access)["alg"], json!("ES256"));
    let at = claims_of(&access);
    assert_eq!((&at["aud"], &at["client_id"]), (&json!(client.id), &json!(client.id)));
    let id = claims_of(&str_of(&body["id_token"]));
    assert_eq!(id["iss"], json!(app.state.oauth.issuer()));
    assert_eq!(
        (&id["aud"], &id["nonce"], &id["preferred_username"]),
        (&json!(client.id), &json!("n-1"), &json!("alice"))
    );
    assert_eq!((&id["amr"], &id["acr"]), (&json!(["pwd"]), &json!("password")));
    // Id tokens are RS256 (what relying parties assume), access tokens ES256 beside HMAC;
    // the keys that verify both are published.
    let id_token = str_of(&body["id_token"]);
    assert_eq!(
        (&header_of(&id_token)["alg"], &header_of(&id_token)["typ"]),
        (&json!("RS256"), &json!("JWT"))
    );
    let jwks = app.get("/.well-known/jwks.json", None).await.body;
    for jwt in [&access, &id_token] {
        let kid = &header_of(jwt)["kid"];
        assert!(jwks["keys"].as_array().unwrap().iter().any(|k| &k["kid"] == kid), "{kid} in {jwks}");
    }

    let r = app.get("/oauth/userinfo", Some(&access)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((&r.body["sub"], &r.body["preferred_username"]), (&at["sub"], &json!("alice")));
    assert!(r.body.get("roles").is_none(), "roles was not asked for");

    // Rotation: the new refresh token works, the spent one ends the grant (and its tokens).
    let first = str_of(&body["refresh_token"]);
    let (status, rotated) =
        token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &first)]).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let (status, replay) =
        token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &first)]).await;
    assert_eq!((status, &replay["error"]), (StatusCode::BAD_REQUEST, &json!("invalid_grant")));
    let second = str_of(&rotated["refresh_token"]);
    let (status, _) =
        token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &second)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the family is revoked");
    let r = app.get("/oauth/userinfo", Some(&str_of(&rotated["access_token"]))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").unwrap().contains("invalid_token"));
}

#[tokio::test]
async fn a_code_works_once_and_its_replay_ends_what_it_gave() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let client = web_client(&app, &root).await;
    let (_, alice, _) = app.user_with_tokens("alice").await;
    let code = code_for(&app, &client, &alice, "openid offline_access").await;
    let (status, body) = exchange(&app, &client, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, again) = exchange(&app, &client, &code).await;
    assert_eq!((status, &again["error"]), (StatusCode::BAD_REQUEST, &json!("invalid_grant")));
    // RFC 9700 §4.5: what the first exchange issued is revoked.
    assert_eq!(
        app.get("/oauth/userinfo", Some(&str_of(&body["access_token"]))).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refresh = str_of(&body["refresh_token"]);
    let (status, _) =
        token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pkce_is_required_and_checked() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let client = web_client(&app, &root).await;
    let base =
        [("client_id", client.id.as_str()), ("redirect_uri", CALLBACK), ("scope", "openid"), ("state", "s")];
    for (extra, why) in [
        (vec![("code_challenge", "")], "no challenge"),
        (vec![("code_challenge_method", "plain"), ("code_challenge", VERIFIER)], "plain"),
        (vec![("code_challenge_method", "")], "no method (plain by default)"),
    ] {
        let mut params = base.to_vec();
        params.extend(extra);
        let r = authorize(&app, &params).await;
        let q = query_of(&location(&r));
        assert_eq!((q["error"].as_str(), q["state"].as_str()), ("invalid_request", "s"), "{why}");
        assert_eq!(q["iss"], app.state.oauth.issuer());
    }
    // A wrong verifier spends the code for nothing.
    let (_, alice, _) = app.user_with_tokens("alice").await;
    let code = code_for(&app, &client, &alice, "openid").await;
    let wrong = "another-verifier-that-is-long-enough-to-be-well-formed-0000000000";
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", wrong),
    ];
    let (status, body) = token(&app, &client, &form).await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("invalid_grant")));
    let (status, _) = exchange(&app, &client, &code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the code is spent");
}

#[tokio::test]
async fn only_an_exactly_registered_redirect_uri_is_ever_followed() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let client = web_client(&app, &root).await;
    for uri in [
        "https://app.example.com/callback/",
        "https://APP.example.com/callback",
        "https://app.example.com/callback?x=1",
        "https://app.example.com@evil.example/callback",
        "https://app.example.com.evil.example/callback",
        "https://evil.example/callback",
    ] {
        let r =
            authorize(&app, &[("client_id", &client.id), ("redirect_uri", uri), ("scope", "openid")]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{uri}");
        assert!(location(&r).is_empty(), "{uri} was followed");
        assert!(r.text().await.unwrap().contains("must match exactly"), "{uri}");
    }
    // Registration refuses what could not be matched safely.
    let r = app
        .request(
            Method::POST,
            "/api/clients/",
            Some(json!({"name": "x", "redirect_uris": ["https://*.example.com/cb"]})),
            Some(&root),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // A code is bound to its redirect URI and its client.
    let (_, alice, _) = app.user_with_tokens("alice").await;
    let code = code_for(&app, &client, &alice, "openid").await;
    let other = web_client(&app, &root).await;
    let (status, body) = exchange(&app, &other, &code).await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("invalid_grant")));
}

#[tokio::test]
async fn a_client_authenticates_and_uses_only_what_it_was_given() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let web = web_client(&app, &root).await;
    let spa = register(
        &app,
        &root,
        json!({"name": "SPA", "public": true, "redirect_uris": ["http://127.0.0.1/cb"],
                                             "grant_types": ["authorization_code"]}),
    )
    .await;
    assert!(spa.secret.is_none());
    // A public client cannot have client_credentials.
    let r = app
        .request(
            Method::POST,
            "/api/clients/",
            Some(json!({"name": "x", "public": true, "grant_types": ["client_credentials"]})),
            Some(&root),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // Wrong secret: 401 with a Basic challenge, throttled like logins after a few.
    let wrong = Registered { id: web.id.clone(), secret: Some("wrong".into()) };
    let (status, body) = token(&app, &wrong, &[("grant_type", "client_credentials")]).await;
    assert_eq!((status, &body["error"]), (StatusCode::UNAUTHORIZED, &json!("invalid_client")));
    // A grant the client was not given.
    let (status, body) = token(&app, &web, &[("grant_type", "client_credentials")]).await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("unauthorized_client")));
    let (status, body) =
        token(&app, &spa, &[("grant_type", "client_credentials"), ("client_id", &spa.id)]).await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("unauthorized_client")));
    // A scope it was not given.
    let r = authorize(
        &app,
        &[("client_id", &spa.id), ("redirect_uri", "http://127.0.0.1:4567/cb"), ("scope", "openid roles")],
    )
    .await;
    assert_eq!(query_of(&location(&r))["error"], "invalid_scope");
}

#[tokio::test]
async fn a_service_account_gets_tokens_of_its_own_permissions() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let svc = register(
        &app,
        &root,
        json!({"name": "Billing", "grant_types": ["client_credentials"],
                                             "scopes": ["billing:read"], "permissions": ["reports.view"]}),
    )
    .await;
    let (status, body) = token(&app, &svc, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let at = claims_of(&str_of(&body["access_token"]));
    assert_eq!(
        (&at["sub"], &at["scope"], &at["permissions"]),
        (&json!(svc.id), &json!("billing:read"), &json!(["reports.view"]))
    );
    // Introspection by the client itself.
    let (_, info) =
        post_form(&app, "/oauth/introspect", &svc, &[("token", &str_of(&body["access_token"]))]).await;
    assert_eq!((&info["active"], &info["client_id"]), (&json!(true), &json!(svc.id)));
    // A delegate cannot give a client a permission it does not hold.
    let (id, _, _) = app.user_with_tokens("carol").await;
    let role = json!({"name": "integrations", "permissions": ["clients.manage"]});
    app.request(Method::POST, "/api/roles/", Some(role), Some(&root)).await;
    app.request(
        Method::PUT,
        &format!("/api/users/{id}/roles/"),
        Some(json!({"roles": ["integrations"]})),
        Some(&root),
    )
    .await;
    let (carol, _) = app.login("carol").await;
    // The permissions to pick from are hers to read.
    assert_eq!(app.get("/api/permissions/", Some(&carol)).await.status, StatusCode::OK);
    let body =
        json!({"name": "Mine", "grant_types": ["client_credentials"], "permissions": ["users.manage"]});
    let r = app.request(Method::POST, "/api/clients/", Some(body), Some(&carol)).await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (StatusCode::FORBIDDEN, &json!("permission_denied")),
        "{}",
        r.body
    );
    // SECURITY: nor let an application skip the consent screen: only a superuser decides
    // that, on a new client or an existing one.
    let body = json!({"name": "Mine", "redirect_uris": [CALLBACK], "pre_consented": true});
    let r = app.request(Method::POST, "/api/clients/", Some(body), Some(&carol)).await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (StatusCode::FORBIDDEN, &json!("permission_denied")),
        "{}",
        r.body
    );
    let web = web_client(&app, &root).await;
    let path = format!("/api/clients/{}/", web.id);
    let r = app.request(Method::PATCH, &path, Some(json!({"pre_consented": true})), Some(&carol)).await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (StatusCode::FORBIDDEN, &json!("permission_denied")),
        "{}",
        r.body
    );
    let r = app.request(Method::PATCH, &path, Some(json!({"pre_consented": true})), Some(&root)).await;
    assert_eq!((r.status, &r.body["pre_consented"]), (StatusCode::OK, &json!(true)), "{}", r.body);
    // Nor point a consent-free client elsewhere, widen it, or take its secret: each would
    // deliver every user's sign-in to the delegate without a question asked.
    for change in
        [json!({"redirect_uris": ["https://carol.example/cb"]}), json!({"scopes": ["openid", "permissions"]})]
    {
        let r = app.request(Method::PATCH, &path, Some(change), Some(&carol)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    let rotate = format!("/api/clients/{}/rotate-secret/", web.id);
    assert_eq!(app.request(Method::POST, &rotate, None, Some(&carol)).await.status, StatusCode::FORBIDDEN);
    let r = app.request(Method::PATCH, &path, Some(json!({"name": "Web app 2"})), Some(&carol)).await;
    assert_eq!(r.status, StatusCode::OK, "a rename is still hers to make: {}", r.body);
    // Deleting the client ends its tokens.
    let r = app.request(Method::DELETE, &format!("/api/clients/{}/", svc.id), None, Some(&root)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn revocation_and_disconnecting_end_the_grant_and_its_access_tokens() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let client = web_client(&app, &root).await;
    let (_, alice, _) = app.user_with_tokens("alice").await;
    let code = code_for(&app, &client, &alice, "openid offline_access").await;
    let (_, body) = exchange(&app, &client, &code).await;
    let access = str_of(&body["access_token"]);
    let (status, _) =
        post_form(&app, "/oauth/revoke", &client, &[("token", &str_of(&body["refresh_token"]))]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.get("/oauth/userinfo", Some(&access)).await.status, StatusCode::UNAUTHORIZED);

    // Connected applications: listed, and disconnecting ends a new grant too.
    let code = code_for(&app, &client, &alice, "openid offline_access").await;
    let (_, body) = exchange(&app, &client, &code).await;
    let apps = app.get("/api/me/applications/", Some(&alice)).await.body;
    assert_eq!((&apps[0]["client_id"], &apps[0]["active_grants"]), (&json!(client.id), &json!(1)));
    let r = app
        .request(Method::DELETE, &format!("/api/me/applications/{}/", client.id), None, Some(&alice))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/oauth/userinfo", Some(&str_of(&body["access_token"]))).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The consent is gone: the next request asks again.
    let r = authorize(
        &app,
        &[("client_id", &client.id), ("redirect_uri", CALLBACK), ("scope", "openid"), ("prompt", "none")],
    )
    .await;
    let handle = location(&r).trim_start_matches("/authorize?request=").to_string();
    let path = format!("/api/oauth/requests/{handle}/");
    let r = app.request(Method::POST, &path, Some(json!({"decision": "silent"})), Some(&alice)).await;
    assert_eq!(query_of(&str_of(&r.body["redirect_to"]))["error"], "consent_required");
}

#[tokio::test]
async fn a_silent_request_answers_without_asking_and_logout_ends_the_session() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let client = web_client(&app, &root).await;
    let (_, alice, _) = app.user_with_tokens("alice").await;
    // No one signed in: login_required, at the redirect URI.
    let r = authorize(
        &app,
        &[
            ("client_id", &client.id),
            ("redirect_uri", CALLBACK),
            ("scope", "openid"),
            ("prompt", "none"),
            ("state", "z"),
        ],
    )
    .await;
    let handle = location(&r).trim_start_matches("/authorize?request=").to_string();
    let view = app.get(&format!("/api/oauth/requests/{handle}/"), None).await.body;
    assert_eq!(
        (&view["login_required"], &view["client_name"], &view["redirect_host"]),
        (&json!(true), &json!("Web app"), &json!("app.example.com"))
    );
    let r = app.post(&format!("/api/oauth/requests/{handle}/"), json!({"decision": "silent"})).await;
    let q = query_of(&str_of(&r.body["redirect_to"]));
    assert_eq!((q["error"].as_str(), q["state"].as_str()), ("login_required", "z"));
    // Answered once only.
    let r = app.post(&format!("/api/oauth/requests/{handle}/"), json!({"decision": "silent"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // After a consent, a silent request gets its code.
    code_for(&app, &client, &alice, "openid").await;
    let r = authorize(
        &app,
        &[("client_id", &client.id), ("redirect_uri", CALLBACK), ("scope", "openid"), ("prompt", "none")],
    )
    .await;
    let handle = location(&r).trim_start_matches("/authorize?request=").to_string();
    let r = app
        .request(
            Method::POST,
            &format!("/api/oauth/requests/{handle}/"),
            Some(json!({"decision": "silent"})),
            Some(&alice),
        )
        .await;
    let code = query_of(&str_of(&r.body["redirect_to"]))["code"].clone();
    let (_, body) = exchange(&app, &client, &code).await;
    let id_token = str_of(&body["id_token"]);
    // RP-initiated logout ends alice's browser session and goes back where registered.
    let url = reqwest::Url::parse_with_params(
        &format!("{}/oauth/logout", app.url),
        &[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", "https://app.example.com/bye"),
            ("state", "s2"),
        ],
    )
    .unwrap();
    let r = browser().get(url).send().await.unwrap();
    assert_eq!(location(&r), "https://app.example.com/bye?state=s2");
    assert_eq!(app.get("/api/me/", Some(&alice)).await.status, StatusCode::UNAUTHORIZED);
    // Not to an unregistered one; and nowhere without the hint.
    let url = reqwest::Url::parse_with_params(
        &format!("{}/oauth/logout", app.url),
        &[("id_token_hint", id_token.as_str()), ("post_logout_redirect_uri", "https://evil.example/")],
    )
    .unwrap();
    assert_eq!(browser().get(url).send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    let url = reqwest::Url::parse_with_params(
        &format!("{}/oauth/logout", app.url),
        &[("post_logout_redirect_uri", "https://app.example.com/bye")],
    )
    .unwrap();
    assert_eq!(browser().get(url).send().await.unwrap().status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn discovery_describes_the_provider_truthfully() {
    let app = spawn().await;
    let doc = app.get("/.well-known/openid-configuration", None).await.body;
    let base = app.state.config.public_url();
    assert_eq!(doc["issuer"], json!(app.state.oauth.issuer()));
    assert_eq!(doc["authorization_endpoint"], json!(format!("{base}/oauth/authorize")));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], json!(true));
    assert_eq!(app.get("/.well-known/oauth-authorization-server", None).await.body, doc);
    // Id tokens are RS256 whatever else signs (OpenID Connect Discovery §3).
    assert_eq!(doc["id_token_signing_alg_values_supported"], json!(["RS256"]));
    // HMAC-signed service, no client yet: nothing published.
    assert_eq!(app.get("/.well-known/jwks.json", None).await.body, json!({"keys": []}));
}

/// `GET /oauth/logout` with this hint, back to the registered page.
async fn logout_with(app: &TestApp, id_token: &str) -> String {
    let url = reqwest::Url::parse_with_params(
        &format!("{}/oauth/logout", app.url),
        &[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", "https://app.example.com/bye"),
            ("state", "s"),
        ],
    )
    .unwrap();
    let r = browser().get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    location(&r)
}

#[tokio::test]
async fn logout_with_a_refreshed_id_token_ends_the_session_it_names_and_claims_nothing_after() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let client = web_client(&app, &root).await;
    let (_, alice, _) = app.user_with_tokens("alice").await;
    let code = code_for(&app, &client, &alice, "openid offline_access").await;
    let (_, body) = exchange(&app, &client, &code).await;
    let first_sid = claims_of(&str_of(&body["id_token"]))["sid"].clone();
    assert!(first_sid.is_string(), "the id token names the browser session");
    let refresh = str_of(&body["refresh_token"]);
    let (status, refreshed) =
        token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    // The refreshed id token names the same browser session, not the grant.
    let id_token = str_of(&refreshed["id_token"]);
    assert_eq!(claims_of(&id_token)["sid"], first_sid);
    assert_eq!(logout_with(&app, &id_token).await, "https://app.example.com/bye?state=s");
    assert_eq!(app.get("/api/me/", Some(&alice)).await.status, StatusCode::UNAUTHORIZED);
    // SECURITY: that session has ended; the same hint again (replayed, or the user signed
    // in since) does not tell the application anyone signed out: the web app asks.
    assert_eq!(logout_with(&app, &id_token).await, "/logout");
}

#[tokio::test]
async fn wrong_client_secrets_slow_their_address_but_never_lock_out_the_client() {
    let app = spawn_with(|c| c.throttle.login_per_address = 3).await;
    let root = admin_of(&app).await;
    let service = register(
        &app,
        &root,
        json!({"name": "Reports", "grant_types": ["client_credentials"], "scopes": ["reports.read"]}),
    )
    .await;
    let wrong = Registered { id: service.id.clone(), secret: Some("guess".into()) };
    for _ in 0..3 {
        let (status, body) = token(&app, &wrong, &[("grant_type", "client_credentials")]).await;
        assert_eq!((status, &body["error"]), (StatusCode::UNAUTHORIZED, &json!("invalid_client")));
    }
    let (status, _) = token(&app, &wrong, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the guessing address is slowed");
    // SECURITY: a client id is public; failures counted per client would let anyone lock
    // the service out. Its right secret is answered, even from that address.
    let (status, body) = token(&app, &service, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_code_dies_with_the_session_that_approved_it_and_with_a_redirect_change() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let client = web_client(&app, &root).await;
    let (_, alice, _) = app.user_with_tokens("alice").await;
    // Signed out before the application redeemed the code: the code is worthless.
    let code = code_for(&app, &client, &alice, "openid").await;
    let sid = str_of(&claims_of(&alice)["sid"]);
    let r = app.request(Method::DELETE, &format!("/api/me/sessions/{sid}/"), None, Some(&alice)).await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    let (status, body) = exchange(&app, &client, &code).await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("invalid_grant")));

    // New destinations void the consents and the codes given for the old ones.
    let (alice, _) = app.login("alice").await;
    let code = code_for(&app, &client, &alice, "openid").await;
    let path = format!("/api/clients/{}/", client.id);
    let uris = json!({"redirect_uris": [CALLBACK, "https://app.example.com/other"]});
    let r = app.request(Method::PATCH, &path, Some(uris), Some(&root)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (status, body) = exchange(&app, &client, &code).await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("invalid_grant")));
    let r = authorize(
        &app,
        &[("client_id", &client.id), ("redirect_uri", CALLBACK), ("scope", "openid"), ("prompt", "none")],
    )
    .await;
    let handle = location(&r).trim_start_matches("/authorize?request=").to_string();
    let r = app
        .request(
            Method::POST,
            &format!("/api/oauth/requests/{handle}/"),
            Some(json!({"decision": "silent"})),
            Some(&alice),
        )
        .await;
    let q = query_of(&str_of(&r.body["redirect_to"]));
    assert_eq!(q["error"], "consent_required", "the consent went with the old redirect URIs");
}

#[tokio::test]
async fn a_client_refresh_token_is_not_one_of_the_services_own() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let client = web_client(&app, &root).await;
    let (_, alice, _) = app.user_with_tokens("alice").await;
    let code = code_for(&app, &client, &alice, "openid offline_access").await;
    let (_, body) = exchange(&app, &client, &code).await;
    let refresh = str_of(&body["refresh_token"]);
    // Live at the token endpoint for its client, but refused by the service's own API.
    let r = app.post("/api/token/verify/", json!({"token": refresh})).await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("token_not_valid")),
        "{}",
        r.body
    );
    let r = app.post("/api/token/refresh/", json!({"refresh": refresh})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

#[tokio::test]
async fn sign_in_requests_are_counted_per_address() {
    let app = spawn_with(|c| c.throttle.authorizations_per_address = 2).await;
    let root = admin_of(&app).await;
    let client = web_client(&app, &root).await;
    let params =
        [("client_id", client.id.as_str()), ("redirect_uri", CALLBACK), ("scope", "openid"), ("state", "t")];
    let ask = || authorize(&app, &params);
    for _ in 0..2 {
        assert!(location(&ask().await).starts_with("/authorize?request="));
    }
    // Each would be a stored row: past the limit the client hears it is busy (RFC 6749 §4.1.2.1).
    let q = query_of(&location(&ask().await));
    assert_eq!((q["error"].as_str(), q["state"].as_str()), ("temporarily_unavailable", "t"));
}

#[tokio::test]
async fn max_age_asks_for_a_sign_in_once_not_again_on_the_consent_screen() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let client = web_client(&app, &root).await;
    let (_, old, _) = app.user_with_tokens("alice").await;
    app.clock.advance(5);
    let params = [
        ("client_id", client.id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("max_age", "0"),
    ];
    let r = authorize(&app, &params).await;
    let path = format!("/api/oauth/requests/{}/", location(&r).trim_start_matches("/authorize?request="));
    // A session from before the request is too old for max_age=0 (OIDC Core §3.1.2.1).
    let view = app.request(Method::GET, &path, None, Some(&old)).await;
    assert_eq!(view.body["login_required"], json!(true), "{}", view.body);
    let r = app.request(Method::POST, &path, Some(json!({"decision": "allow"})), Some(&old)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    // Signed in for it, the user may take their time over the consent screen.
    let (fresh, _) = app.login("alice").await;
    app.clock.advance(30);
    let view = app.request(Method::GET, &path, None, Some(&fresh)).await;
    assert_eq!(view.body["login_required"], json!(false), "{}", view.body);
    let r = app.request(Method::POST, &path, Some(json!({"decision": "allow"})), Some(&fresh)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(query_of(&str_of(&r.body["redirect_to"])).contains_key("code"), "{}", r.body);
}

#[tokio::test]
async fn what_is_taken_from_a_client_leaves_its_grants_and_codes() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let client = web_client(&app, &root).await;
    let (_, alice, _) = app.user_with_tokens("alice").await;
    let code = code_for(&app, &client, &alice, "openid email offline_access").await;
    let (_, body) = exchange(&app, &client, &code).await;
    let pending = code_for(&app, &client, &alice, "openid email offline_access").await;
    let path = format!("/api/clients/{}/", client.id);
    let scopes = json!({"scopes": ["openid", "offline_access"]});
    assert_eq!(app.request(Method::PATCH, &path, Some(scopes), Some(&root)).await.status, StatusCode::OK);
    // Neither the grant's next refresh nor a code approved before the change has email.
    let refresh = str_of(&body["refresh_token"]);
    let (status, refreshed) =
        token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!((status, &refreshed["scope"]), (StatusCode::OK, &json!("openid offline_access")));
    let (status, exchanged) = exchange(&app, &client, &pending).await;
    assert_eq!((status, &exchanged["scope"]), (StatusCode::OK, &json!("openid offline_access")));
    assert!(claims_of(&str_of(&exchanged["id_token"])).get("email").is_none());
    // Without offline_access no refresh token of the client lives on.
    let scopes = json!({"scopes": ["openid"]});
    assert_eq!(app.request(Method::PATCH, &path, Some(scopes), Some(&root)).await.status, StatusCode::OK);
    let refresh = str_of(&refreshed["refresh_token"]);
    let (status, body) =
        token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("invalid_grant")));
}

#[tokio::test]
async fn disconnecting_voids_a_code_not_yet_redeemed() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let client = web_client(&app, &root).await;
    let path = format!("/api/clients/{}/", client.id);
    let first_party = json!({"pre_consented": true});
    assert_eq!(
        app.request(Method::PATCH, &path, Some(first_party), Some(&root)).await.status,
        StatusCode::OK
    );
    let (_, alice, _) = app.user_with_tokens("alice").await;
    let code = code_for(&app, &client, &alice, "openid").await;
    // No consent row and no grant yet: only the code to void.
    let r = app
        .request(Method::DELETE, &format!("/api/me/applications/{}/", client.id), None, Some(&alice))
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    let (status, body) = exchange(&app, &client, &code).await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("invalid_grant")));
}

#[tokio::test]
async fn a_client_cannot_use_another_clients_refresh_token() {
    let app = spawn().await;
    let root = admin_of(&app).await;
    let (mine, other) = (web_client(&app, &root).await, web_client(&app, &root).await);
    let (_, alice, _) = app.user_with_tokens("alice").await;
    let code = code_for(&app, &mine, &alice, "openid offline_access").await;
    let (_, body) = exchange(&app, &mine, &code).await;
    let refresh = str_of(&body["refresh_token"]);
    let (status, answer) =
        token(&app, &other, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!((status, &answer["error"]), (StatusCode::BAD_REQUEST, &json!("invalid_grant")));
    // Nor end it (RFC 7009 §2.1: the token must have been issued to the caller).
    let (status, _) = post_form(&app, "/oauth/revoke", &other, &[("token", &refresh)]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, rotated) =
        token(&app, &mine, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
}
