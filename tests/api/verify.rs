//! Other services verify Authenticon's tokens with the `authenticon-verify` crate: the
//! example service in `examples/protected-service`, started here.

use std::time::Duration;

use authenticon::config::JwtAlgorithm;
use authenticon::tokens::keys;
use authenticon_verify::Verifier;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// The example service, on a random port, trusting `app`'s JWKS.
async fn example_service(app: &TestApp) -> String {
    let verifier =
        Verifier::new(format!("{}/.well-known/jwks.json", app.url)).refetch_interval(Duration::ZERO);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, protected_service::app(verifier)).await });
    url
}

async fn orders(service: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = crate::support::new_client().get(format!("{service}/orders"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_example_service_accepts_real_tokens_and_refuses_forged_ones() {
    for alg in [JwtAlgorithm::ES256, JwtAlgorithm::EdDSA] {
        let app = spawn_with(|c| c.jwt_algorithm = alg).await;
        let service = example_service(&app).await;
        let (_, access, refresh) = app.user_with_tokens("alice").await;
        let (status, body) = orders(&service, Some(&access)).await;
        assert_eq!((status, &body["user"]), (StatusCode::OK, &json!("alice")), "{alg:?}");

        let (header, claims) = parts(&access);
        let other = keys::generate(alg).unwrap();
        let mut h = jsonwebtoken::Header::new(alg.as_jsonwebtoken());
        h.kid = header["kid"].as_str().map(str::to_string);
        let forged =
            jsonwebtoken::encode(&h, &claims, &keys::encoding_key(alg, &other.private_pem).unwrap()).unwrap();
        let jwk = app.get("/.well-known/jwks.json", None).await.body["keys"][0].to_string();
        let confused = sign_hs256(&json!({"alg": "HS256", "kid": header["kid"]}), &claims, &jwk);
        for (what, token) in
            [("forged", forged.as_str()), ("hs256 with the public key", &confused), ("refresh", &refresh)]
        {
            let (status, body) = orders(&service, Some(token)).await;
            assert_eq!(
                (status, body),
                (StatusCode::UNAUTHORIZED, json!({"detail": "Token is invalid or expired"})),
                "{alg:?} {what}"
            );
        }
        let (status, _) = orders(&service, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn the_verifier_follows_a_key_rotation() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::ES256).await;
    let service = example_service(&app).await;
    let (_, first, _) = app.user_with_tokens("alice").await;
    assert_eq!(orders(&service, Some(&first)).await.0, StatusCode::OK);
    let b = app.state.tokens.generate_key(JwtAlgorithm::ES256).await.unwrap();
    app.state.tokens.activate_key(&b.kid).await.unwrap();
    app.state.tokens.load_keys().await.unwrap();
    let (second, _) = app.login("alice").await;
    assert_eq!(parts(&second).0["kid"], json!(b.kid));
    // An unknown kid makes the verifier fetch the JWKS again; both tokens pass.
    assert_eq!(orders(&service, Some(&second)).await.0, StatusCode::OK);
    assert_eq!(orders(&service, Some(&first)).await.0, StatusCode::OK);
}

/// A JWKS endpoint that can go down: it relays the real one until told to answer 503.
async fn switchable_jwks(app: &TestApp) -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let down = std::sync::Arc::new(AtomicBool::new(false));
    let (flag, upstream) = (std::sync::Arc::clone(&down), format!("{}/.well-known/jwks.json", app.url));
    let route = axum::routing::get(move || {
        let (flag, upstream) = (std::sync::Arc::clone(&flag), upstream.clone());
        async move {
            if flag.load(Ordering::SeqCst) {
                return (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new());
            }
            let body = reqwest::get(&upstream).await.unwrap().text().await.unwrap();
            (axum::http::StatusCode::OK, body)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/jwks.json", route)).await });
    (url, down)
}

#[tokio::test]
async fn the_verifier_keeps_the_last_good_keys_while_the_jwks_is_down() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::ES256).await;
    let (jwks_url, down) = switchable_jwks(&app).await;
    let verifier = Verifier::new(jwks_url.clone()).refetch_interval(Duration::ZERO).max_age(Duration::ZERO);
    let (_, access, _) = app.user_with_tokens("alice").await;
    assert_eq!(
        verifier.verify(&access).await.unwrap().user_id,
        parts(&access).1["user_id"].as_str().unwrap()
    );
    down.store(true, std::sync::atomic::Ordering::SeqCst);
    // Every call now finds the keys stale and the endpoint down: the last good keys serve.
    for _ in 0..3 {
        assert!(verifier.verify(&access).await.is_ok());
    }
    // A key it never saw cannot be checked while the endpoint is down.
    let b = app.state.tokens.generate_key(JwtAlgorithm::ES256).await.unwrap();
    app.state.tokens.activate_key(&b.kid).await.unwrap();
    app.state.tokens.load_keys().await.unwrap();
    let (newer, _) = app.login("alice").await;
    assert!(matches!(verifier.verify(&newer).await, Err(authenticon_verify::VerifyError::Jwks(_))));
    // Back up: the new key is fetched.
    down.store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(verifier.verify(&newer).await.is_ok());
    // Stale keys serve only so long: past the limit, a down JWKS means no verification.
    let strict = Verifier::new(jwks_url)
        .refetch_interval(Duration::ZERO)
        .max_age(Duration::ZERO)
        .stale_limit(Duration::from_millis(200));
    assert!(strict.verify(&newer).await.is_ok());
    down.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(strict.verify(&newer).await.is_ok(), "within the limit");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(matches!(strict.verify(&newer).await, Err(authenticon_verify::VerifyError::Jwks(_))));
}

/// A verifier on `app`'s JWKS honouring the feed behind `feed` (the service itself, or a
/// stand-in for the network in between), polling every 100 ms.
fn feed_verifier(app: &TestApp, feed: &str, fail_closed_after: Duration) -> Verifier {
    Verifier::new(format!("{}/.well-known/jwks.json", app.url))
        .revocation_feed(format!("{feed}/.well-known/revocations"))
        .poll_interval(Duration::from_millis(100))
        .fail_closed_after(fail_closed_after)
}

fn revoked(r: Result<authenticon_verify::Claims, authenticon_verify::VerifyError>) -> bool {
    matches!(r, Err(authenticon_verify::VerifyError::Revoked))
}

#[tokio::test]
async fn the_verifier_refuses_revoked_sessions_within_a_poll() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::EdDSA).await;
    let verifier = feed_verifier(&app, &app.url, Duration::from_secs(300));
    let (_, access, refresh) = app.user_with_tokens("alice").await;
    let (other, _) = app.login("alice").await;
    let (bob, bob_access, _) = app.user_with_tokens("bob").await;
    for token in [&access, &other, &bob_access] {
        assert!(verifier.verify(token).await.is_ok());
    }
    assert_eq!(app.post("/api/token/blacklist/", json!({"refresh": refresh})).await.status, StatusCode::OK);
    let started = std::time::Instant::now();
    assert!(eventually(Duration::from_secs(3), || async { revoked(verifier.verify(&access).await) }).await);
    println!("logout refused by the verifier after {:?}", started.elapsed());
    assert!(verifier.verify(&other).await.is_ok(), "the user's other session stands");

    // Deactivation: every earlier token of the user, through its "not before".
    app.clock.advance(1);
    let changes = authenticon::store::UserChanges { email: None, is_active: Some(false) };
    let meta = authenticon::store::AuditMeta::default();
    app.state.store.update_user(&bob, &changes, app.state.clock.now(), &meta).await.unwrap();
    assert!(
        eventually(Duration::from_secs(3), || async { revoked(verifier.verify(&bob_access).await) }).await
    );
    assert!(verifier.verify(&other).await.is_ok());
}

/// Between the verifier and the service: passes the feed through, answers 503 while
/// `down`, or serves `forged` instead.
#[derive(Clone, Default)]
struct Network {
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    forged: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

async fn network(app: &TestApp) -> (String, Network) {
    use axum::extract::{RawQuery, State};
    use axum::http::StatusCode as Code;
    let net = Network::default();
    let upstream = app.url.clone();
    let handler = move |State(net): State<Network>, RawQuery(query): RawQuery| {
        let upstream = upstream.clone();
        async move {
            if net.down.load(std::sync::atomic::Ordering::SeqCst) {
                return (Code::SERVICE_UNAVAILABLE, String::new());
            }
            if let Some(forged) = net.forged.lock().unwrap().clone() {
                return (Code::OK, forged);
            }
            let url = format!("{upstream}/.well-known/revocations?{}", query.unwrap_or_default());
            let body = crate::support::new_client().get(url).send().await.unwrap().text().await.unwrap();
            (Code::OK, body)
        }
    };
    let router = axum::Router::new()
        .route("/.well-known/revocations", axum::routing::get(handler))
        .with_state(net.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, net)
}

#[tokio::test]
async fn the_verifier_keeps_the_last_good_state_then_fails_closed() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::EdDSA).await;
    let (url, net) = network(&app).await;
    let verifier = feed_verifier(&app, &url, Duration::from_secs(2));
    let (_, access, _) = app.user_with_tokens("alice").await;
    assert!(verifier.verify(&access).await.is_ok());
    net.down.store(true, std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(verifier.verify(&access).await.is_ok(), "within the limit the last good state serves");
    assert!(
        eventually(Duration::from_secs(4), || async {
            matches!(verifier.verify(&access).await, Err(authenticon_verify::VerifyError::Feed(_)))
        })
        .await,
        "past the limit every token is refused"
    );
    net.down.store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(eventually(Duration::from_secs(3), || async { verifier.verify(&access).await.is_ok() }).await);
}

#[tokio::test]
async fn a_feed_signed_by_another_key_is_not_believed() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::EdDSA).await;
    let (url, net) = network(&app).await;
    let (_, access, refresh) = app.user_with_tokens("alice").await;
    // A forger's answer, claiming Authenticon's kid: nothing revoked, and a cursor far
    // ahead, so that real revocations would be skipped if it were believed.
    let kid = parts(&access).0["kid"].clone();
    let other = keys::generate(JwtAlgorithm::EdDSA).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = kid.as_str().map(str::to_string);
    header.typ = Some("revocations+jwt".into());
    let claims = json!({"since": 0, "cursor": 1_000_000_000u64, "more": false, "sessions": [], "users": []});
    let key = keys::encoding_key(JwtAlgorithm::EdDSA, &other.private_pem).unwrap();
    *net.forged.lock().unwrap() = Some(jsonwebtoken::encode(&header, &claims, &key).unwrap());
    let verifier = feed_verifier(&app, &url, Duration::from_secs(300));
    assert!(
        matches!(verifier.verify(&access).await, Err(authenticon_verify::VerifyError::Feed(_))),
        "no believable answer yet: fail closed"
    );
    // The network stops lying; the logout meanwhile reaches the verifier.
    assert_eq!(app.post("/api/token/blacklist/", json!({"refresh": refresh})).await.status, StatusCode::OK);
    *net.forged.lock().unwrap() = None;
    assert!(eventually(Duration::from_secs(3), || async { revoked(verifier.verify(&access).await) }).await);
}
