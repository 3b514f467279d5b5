//! A STAND-IN for GitHub (which cannot be reached from the tests): a small server that
//! speaks the shapes GitHub documents for OAuth apps — `GET /login/oauth/authorize`,
//! `POST /login/oauth/access_token` (form in, JSON out with `Accept: application/json`,
//! errors as `200 {"error"}`, PKCE S256 checked), `GET /user` and `GET /user/emails` —
//! and signs in whoever the test says is at the keyboard.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "gh-client-id";
pub const CLIENT_SECRET: &str = "gh-client-secret";

#[derive(Clone)]
pub struct GitHubUser {
    pub id: u64,
    pub login: String,
    /// (address, primary, verified)
    pub emails: Vec<(String, bool, bool)>,
}

#[derive(Default)]
struct Inner {
    users: HashMap<String, GitHubUser>,
    at_keyboard: Option<String>,
    /// code → (login, code_challenge, redirect_uri)
    codes: HashMap<String, (String, String, String)>,
    tokens: HashMap<String, String>,
}

#[derive(Clone, Default)]
pub struct GitHubStandIn {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

impl GitHubStandIn {
    pub async fn start() -> Self {
        let mut stand_in = GitHubStandIn::default();
        let router = Router::new()
            .route("/login/oauth/authorize", get(authorize))
            .route("/login/oauth/access_token", post(access_token))
            .route("/user", get(user))
            .route("/user/emails", get(emails))
            .with_state(stand_in.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        stand_in.url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        stand_in
    }

    pub fn add_user(&self, id: u64, login: &str, email: &str, verified: bool) {
        let user = GitHubUser { id, login: login.into(), emails: vec![(email.into(), true, verified)] };
        self.inner.lock().unwrap().users.insert(login.into(), user);
    }

    /// Who the next authorization signs in.
    pub fn sign_in_as(&self, login: &str) {
        self.inner.lock().unwrap().at_keyboard = Some(login.into());
    }
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

async fn authorize(State(s): State<GitHubStandIn>, Query(q): Query<AuthorizeQuery>) -> Response {
    let mut inner = s.inner.lock().unwrap();
    let Some(login) = inner.at_keyboard.clone() else { return StatusCode::UNAUTHORIZED.into_response() };
    if q.client_id != CLIENT_ID || q.code_challenge_method.as_deref() != Some("S256") {
        return (StatusCode::BAD_REQUEST, "bad client or no PKCE").into_response();
    }
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    let challenge = q.code_challenge.unwrap_or_default();
    inner.codes.insert(code.clone(), (login, challenge, q.redirect_uri.clone()));
    Redirect::to(&format!("{}?code={code}&state={}", q.redirect_uri, q.state)).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    client_id: Option<String>,
    client_secret: Option<String>,
    code: String,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

async fn access_token(State(s): State<GitHubStandIn>, body: String) -> Json<serde_json::Value> {
    let Ok(f) = serde_urlencoded::from_str::<TokenForm>(&body) else {
        return Json(json!({"error": "bad_verification_code"}));
    };
    let mut inner = s.inner.lock().unwrap();
    if f.client_id.as_deref() != Some(CLIENT_ID) || f.client_secret.as_deref() != Some(CLIENT_SECRET) {
        return Json(json!({"error": "incorrect_client_credentials"}));
    }
    let Some((login, challenge, redirect_uri)) = inner.codes.remove(&f.code) else {
        return Json(json!({"error": "bad_verification_code"}));
    };
    let verifier = f.code_verifier.unwrap_or_default();
    let computed =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if computed != challenge || f.redirect_uri.as_deref() != Some(redirect_uri.as_str()) {
        return Json(json!({"error": "bad_verification_code"}));
    }
    let token = format!("gho_{}", uuid::Uuid::new_v4().simple());
    inner.tokens.insert(token.clone(), login);
    Json(json!({"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}))
}

fn user_of(s: &GitHubStandIn, headers: &HeaderMap) -> Option<GitHubUser> {
    let token = headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ")?.to_string();
    let inner = s.inner.lock().unwrap();
    let login = inner.tokens.get(&token)?;
    inner.users.get(login).cloned()
}

async fn user(State(s): State<GitHubStandIn>, headers: HeaderMap) -> Response {
    match user_of(&s, &headers) {
        // A broken or hostile server's answer: two MiB of profile.
        Some(u) if u.login == "huge" => {
            Json(json!({"login": u.login, "id": u.id, "bio": "x".repeat(2 << 20)})).into_response()
        }
        Some(u) => Json(json!({"login": u.login, "id": u.id, "name": null, "email": null})).into_response(),
        None => (StatusCode::UNAUTHORIZED, Json(json!({"message": "Bad credentials"}))).into_response(),
    }
}

async fn emails(State(s): State<GitHubStandIn>, headers: HeaderMap) -> Response {
    match user_of(&s, &headers) {
        Some(u) => Json(
            u.emails
                .iter()
                .map(|(email, primary, verified)| {
                    json!({"email": email, "primary": primary, "verified": verified, "visibility": "private"})
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        None => (StatusCode::UNAUTHORIZED, Json(json!({"message": "Bad credentials"}))).into_response(),
    }
}
