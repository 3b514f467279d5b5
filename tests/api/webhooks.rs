//! Webhooks: endpoints registered through the admin API; deliveries made from the audit
//! log, signed per Standard Webhooks, in order per endpoint, retried with a growing pause
//! (moved along by the test's clock), dead-lettered and replayable. The delivery worker is
//! driven here one round at a time (`run_once`), as `serve` does every second.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::support::*;

/// A receiver on loopback: records what it is sent, answers `status`.
#[derive(Clone)]
struct Receiver {
    url: String,
    status: Arc<AtomicU16>,
    /// How long it takes to answer, in milliseconds.
    delay: Arc<AtomicU64>,
    got: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>,
    /// When each request arrived.
    arrived: Arc<Mutex<Vec<Instant>>>,
}

impl Receiver {
    async fn start() -> Self {
        let status = Arc::new(AtomicU16::new(204));
        let delay = Arc::new(AtomicU64::new(0));
        let got = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Mutex::new(Vec::new()));
        let (s, d, g, a) = (Arc::clone(&status), Arc::clone(&delay), Arc::clone(&got), Arc::clone(&arrived));
        let handler = move |headers: axum::http::HeaderMap, body: String| {
            let (s, d, g, a) = (Arc::clone(&s), Arc::clone(&d), Arc::clone(&g), Arc::clone(&a));
            async move {
                a.lock().unwrap().push(Instant::now());
                g.lock().unwrap().push((headers, body));
                tokio::time::sleep(Duration::from_millis(d.load(Ordering::SeqCst))).await;
                axum::http::StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap()
            }
        };
        let router = axum::Router::new().route("/hook", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, status, delay, got, arrived }
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// The `type`s received so far, checking each signature with `secret`.
    fn types(&self, secret: &str) -> Vec<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(headers, body)| {
                assert_signed(headers, body, secret);
                str_of(&serde_json::from_str::<Value>(body).unwrap()["type"])
            })
            .collect()
    }

    fn bodies(&self) -> Vec<Value> {
        self.got.lock().unwrap().iter().map(|(_, b)| serde_json::from_str(b).unwrap()).collect()
    }
}

/// Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the
/// secret's bytes, checked independently of the service's code.
fn assert_signed(headers: &axum::http::HeaderMap, body: &str, secret: &str) {
    let h = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_string();
    let (id, timestamp, signature) = (h("webhook-id"), h("webhook-timestamp"), h("webhook-signature"));
    assert!(id.starts_with("msg_"), "{id}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(now.abs_diff(timestamp.parse().unwrap()) < 60, "the wall clock's time");
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    assert_eq!(signature, format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())));
    assert_eq!(h("content-type"), "application/json");
}

/// The service, allowed to deliver to receivers on loopback (refused by default).
async fn spawn_hooks() -> TestApp {
    spawn_with(|c| c.webhook_allowed_networks = vec!["127.0.0.1/32".parse().unwrap()]).await
}

async fn endpoint(app: &TestApp, admin: &str, url: &str, events: Value) -> (String, String) {
    let body = json!({"url": url, "events": events, "description": "billing"});
    let r = app.request(Method::POST, "/api/webhooks/", Some(body), Some(admin)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (str_of(&r.body["id"]), str_of(&r.body["secret"]))
}

async fn deliveries(app: &TestApp, admin: &str, id: &str, status: &str) -> Value {
    let r = app.get(&format!("/api/webhooks/{id}/deliveries/?status={status}"), Some(admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

#[tokio::test]
async fn administrators_register_endpoints_and_see_the_secret_once() {
    let app = spawn_hooks().await;
    let (_, admin) = superuser(&app, "root").await;
    let events = json!(["session.revoked", "user.created", "session.revoked"]);
    let body = json!({"url": "https://hooks.example.com/in", "events": events});
    let r = app.request(Method::POST, "/api/webhooks/", Some(body), Some(&admin)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = str_of(&r.body["id"]);
    let secret = str_of(&r.body["secret"]);
    assert!(secret.starts_with("whsec_") && STANDARD.decode(&secret[6..]).unwrap().len() == 32);
    assert_eq!(
        r.body,
        json!({"id": id, "url": "https://hooks.example.com/in", "description": "",
               "events": ["session.revoked", "user.created"], "format": "standard", "enabled": true,
               "created": r.body["created"], "updated": r.body["updated"], "secret": secret})
    );
    let listed = app.get("/api/webhooks/", Some(&admin)).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert!(listed.body[0].get("secret").is_none(), "shown once only");
    assert!(!app.get(&format!("/api/webhooks/{id}/"), Some(&admin)).await.body.to_string().contains(&secret));
    // Nor kept readable anywhere an administrator can look.
    assert!(!app.get("/api/audit/", Some(&admin)).await.body.to_string().contains(&secret[6..]));

    let patch = json!({"enabled": false, "events": ["password.changed"]});
    let r = app.request(Method::PATCH, &format!("/api/webhooks/{id}/"), Some(patch), Some(&admin)).await;
    assert_eq!(
        (r.status, r.body["enabled"].clone(), r.body["events"].clone()),
        (StatusCode::OK, json!(false), json!(["password.changed"]))
    );
    assert!(r.body.get("secret").is_none());
    let r =
        app.request(Method::POST, &format!("/api/webhooks/{id}/rotate-secret/"), None, Some(&admin)).await;
    let rotated = str_of(&r.body["secret"]);
    assert!(rotated.starts_with("whsec_") && rotated != secret);

    let types = app.get("/api/webhooks/event-types/", Some(&admin)).await.body;
    assert!(types.as_array().unwrap().iter().any(|t| t["name"] == json!("session.reuse_detected")));

    for (body, field, message) in [
        (json!({"events": ["user.created"]}), "url", "This field is required."),
        (
            json!({"url": "ftp://x.example/", "events": ["user.created"]}),
            "url",
            "Enter an http or https URL.",
        ),
        (json!({"url": "not a url", "events": ["user.created"]}), "url", "Enter a valid URL."),
        (
            json!({"url": "https://u:p@x.example/", "events": ["user.created"]}),
            "url",
            "Credentials do not belong in the URL: deliveries are signed.",
        ),
        (json!({"url": "https://x.example/"}), "events", "This field is required."),
        (json!({"url": "https://x.example/", "events": []}), "events", "Choose at least one event type."),
        (
            json!({"url": "https://x.example/", "events": ["user.stolen"]}),
            "events",
            "“user.stolen” is not an event type.",
        ),
    ] {
        let r = app.request(Method::POST, "/api/webhooks/", Some(body.clone()), Some(&admin)).await;
        assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, json!({field: [message]})), "{body}");
    }

    let r = app.request(Method::DELETE, &format!("/api/webhooks/{id}/"), None, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get(&format!("/api/webhooks/{id}/"), Some(&admin)).await;
    assert_eq!((r.status, r.body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})));
    let events: Vec<String> = app.get("/api/audit/?event=webhook_created", Some(&admin)).await.body
        ["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| str_of(&e["event"]))
        .collect();
    assert_eq!(events, ["webhook_created"]);
}

#[tokio::test]
async fn only_holders_of_webhooks_manage_may_register_endpoints() {
    let app = spawn_hooks().await;
    let (_, root) = superuser(&app, "root").await;
    let (bob, plain, _) = app.user_with_tokens("bob").await;
    assert_eq!(app.get("/api/webhooks/", Some(&plain)).await.status, StatusCode::FORBIDDEN);
    let body = json!({"url": "https://x.example/", "events": ["user.created"]});
    let r = app.request(Method::POST, "/api/webhooks/", Some(body.clone()), Some(&plain)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An endpoint hears of every user's activity: `webhooks.manage` alone is not enough
    // without the right to read that activity here (`audit.view`).
    for (role, permissions) in
        [("hooks", json!(["webhooks.manage"])), ("hooks-audit", json!(["webhooks.manage", "audit.view"]))]
    {
        let r = app
            .request(
                Method::POST,
                "/api/roles/",
                Some(json!({"name": role, "permissions": permissions})),
                Some(&root),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let assign = |role: &str| json!({"roles": [role]});
    let r = app
        .request(Method::PUT, &format!("/api/users/{bob}/roles/"), Some(assign("hooks")), Some(&root))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.get("/api/webhooks/", Some(&plain)).await.status, StatusCode::FORBIDDEN);
    let r = app
        .request(Method::PUT, &format!("/api/users/{bob}/roles/"), Some(assign("hooks-audit")), Some(&root))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.get("/api/webhooks/", Some(&plain)).await.status, StatusCode::OK);
    let r = app.request(Method::POST, "/api/webhooks/", Some(body), Some(&plain)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(app.get("/api/webhooks/", None).await.status, StatusCode::UNAUTHORIZED);
    let perms = app.get("/api/permissions/", Some(&root)).await.body;
    assert!(perms.to_string().contains("webhooks.manage"), "offered to roles: {perms}");
}

#[tokio::test]
async fn deliveries_are_signed_in_order_and_hold_no_secret() {
    let app = spawn_hooks().await;
    let (_, admin) = superuser(&app, "root").await;
    let hook = Receiver::start().await;
    let (id, secret) =
        endpoint(&app, &admin, &hook.url, json!(["user.created", "session.created", "session.revoked"]))
            .await;
    let (alice, access, refresh) = app.user_with_tokens("alice").await;
    assert_eq!(app.post("/api/token/blacklist/", json!({"refresh": refresh})).await.status, StatusCode::OK);
    app.post("/api/token/", json!({"username": "alice", "password": "wrong"})).await;
    app.state.webhooks.run_once().await;
    assert_eq!(hook.types(&secret), ["user.created", "session.created", "session.revoked"]);
    let bodies = hook.bodies();
    assert_eq!(bodies[0]["data"]["user_id"], json!(alice));
    assert_eq!(bodies[0]["data"]["username"], json!("alice"));
    assert_eq!(bodies[2]["data"]["detail"]["session_id"], parts(&access).1["sid"]);
    for (_, raw) in hook.got.lock().unwrap().iter() {
        assert!(!raw.contains(&refresh) && !raw.contains(&access) && !raw.contains(PASSWORD), "{raw}");
    }
    // Each once: the next round has nothing to send.
    app.state.webhooks.run_once().await;
    assert_eq!(hook.got.lock().unwrap().len(), 3);
    let log = deliveries(&app, &admin, &id, "delivered").await;
    assert_eq!(log["count"], json!(3));
    assert_eq!(log["results"][0]["event"], json!("session.revoked"), "newest first");
    assert_eq!(log["results"][0]["attempts"], json!(1));
    assert_eq!(log["results"][0]["last_status"], json!(204));
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_everything_later_in_order() {
    let app = spawn_hooks().await;
    let (_, admin) = superuser(&app, "root").await;
    let hook = Receiver::start().await;
    let (id, secret) = endpoint(&app, &admin, &hook.url, json!(["user.created"])).await;
    hook.answer(503);
    for name in ["u1", "u2", "u3"] {
        app.register(name).await;
    }
    app.state.webhooks.run_once().await;
    // The first waits for its retry, and the others wait for it.
    assert_eq!(hook.got.lock().unwrap().len(), 1);
    let pending = deliveries(&app, &admin, &id, "pending").await;
    assert_eq!(pending["count"], json!(3));
    let first = &pending["results"][2];
    assert_eq!((first["attempts"].clone(), first["last_status"].clone()), (json!(1), json!(503)));
    assert_eq!(first["last_error"], json!("answered 503 Service Unavailable"));
    app.state.webhooks.run_once().await;
    assert_eq!(hook.got.lock().unwrap().len(), 1, "not before its pause");
    app.clock.advance(5);
    app.state.webhooks.run_once().await;
    assert_eq!(hook.got.lock().unwrap().len(), 2, "again after 5 s");
    hook.answer(200);
    app.clock.advance(29);
    app.state.webhooks.run_once().await;
    assert_eq!(hook.got.lock().unwrap().len(), 2, "the second pause is 30 s");
    app.clock.advance(1);
    app.state.webhooks.run_once().await;
    let usernames: Vec<Value> = hook.bodies().iter().map(|b| b["data"]["username"].clone()).collect();
    assert_eq!(usernames, [json!("u1"), json!("u1"), json!("u1"), json!("u2"), json!("u3")]);
    assert_eq!(hook.types(&secret).len(), 5);
    // The same message every time: receivers drop repeats by `webhook-id`.
    let ids: Vec<String> =
        hook.got.lock().unwrap().iter().map(|(h, _)| h["webhook-id"].to_str().unwrap().to_string()).collect();
    assert!(ids[0] == ids[1] && ids[1] == ids[2] && ids[2] != ids[3]);
    assert_eq!(deliveries(&app, &admin, &id, "delivered").await["count"], json!(3));
}

#[tokio::test]
async fn a_receiver_refusing_for_good_leaves_dead_letters_to_replay() {
    let app = spawn_hooks().await;
    let (_, admin) = superuser(&app, "root").await;
    let hook = Receiver::start().await;
    let (id, secret) = endpoint(&app, &admin, &hook.url, json!(["user.created"])).await;
    hook.answer(400);
    app.register("u1").await;
    app.register("u2").await;
    app.state.webhooks.run_once().await;
    // A 4xx is final: dead at once, and the next one goes on.
    assert_eq!(hook.got.lock().unwrap().len(), 2);
    let dead = deliveries(&app, &admin, &id, "dead").await;
    assert_eq!(dead["count"], json!(2));
    assert_eq!(dead["results"][0]["next_attempt"], Value::Null);
    let r = app.get(&format!("/api/webhooks/{id}/deliveries/?status=lost"), Some(&admin)).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"status": ["One of pending, delivered, dead."]}))
    );

    hook.answer(200);
    let one = str_of(&dead["results"][1]["id"]);
    let path = format!("/api/webhooks/{id}/deliveries/{one}/replay/");
    let r = app.request(Method::POST, &path, None, Some(&admin)).await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!({"replayed": 1})));
    let r = app.request(Method::POST, &path, None, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no longer dead");
    app.state.webhooks.run_once().await;
    assert_eq!(hook.bodies().last().unwrap()["data"]["username"], json!("u1"));
    let r = app.request(Method::POST, &format!("/api/webhooks/{id}/replay/"), None, Some(&admin)).await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!({"replayed": 1})));
    app.state.webhooks.run_once().await;
    assert_eq!(hook.bodies().last().unwrap()["data"]["username"], json!("u2"));
    assert_eq!(hook.types(&secret).len(), 4);
    assert_eq!(deliveries(&app, &admin, &id, "dead").await["count"], json!(0));
}

#[tokio::test]
async fn an_endpoint_hears_only_what_it_chose_from_its_registration_on() {
    let app = spawn_hooks().await;
    let (_, admin) = superuser(&app, "root").await;
    app.register("before").await;
    let hook = Receiver::start().await;
    let (id, secret) = endpoint(&app, &admin, &hook.url, json!(["user.created", "user.deactivated"])).await;
    let (carol, _, _) = app.user_with_tokens("carol").await;
    let patch = json!({"is_active": false});
    let r =
        app.request(Method::PATCH, &format!("/api/users/{carol}/"), Some(patch.clone()), Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Carol's login was not chosen; "before" registered before the endpoint existed.
    app.state.webhooks.run_once().await;
    assert_eq!(hook.types(&secret), ["user.created", "user.deactivated"]);
    assert_eq!(hook.bodies()[0]["data"]["username"], json!("carol"));
    assert_eq!(
        hook.bodies()[1]["data"]["actor_id"],
        json!(app.state.store.user_by_username_key("root").await.unwrap().unwrap().id)
    );
    // Disabled: nothing is sent; what happened meanwhile goes out once it is enabled.
    let toggle = |on: bool| json!({"enabled": on});
    let path = format!("/api/webhooks/{id}/");
    app.request(Method::PATCH, &path, Some(toggle(false)), Some(&admin)).await;
    app.register("dave").await;
    app.state.webhooks.run_once().await;
    assert_eq!(hook.got.lock().unwrap().len(), 2);
    app.request(Method::PATCH, &path, Some(toggle(true)), Some(&admin)).await;
    app.register("erin").await;
    app.state.webhooks.run_once().await;
    let names: Vec<Value> = hook.bodies().iter().map(|b| b["data"]["username"].clone()).collect();
    assert_eq!(names, [json!("carol"), json!("carol"), json!("dave"), json!("erin")], "in order, none lost");
}

/// On PostgreSQL an audit entry's id is taken when it is written, not at commit: an entry
/// committing after a later one must still be delivered, and first.
#[tokio::test]
async fn an_audit_entry_committing_late_is_delivered_in_its_turn() {
    if !on_postgres() {
        return;
    }
    let app = spawn_hooks().await;
    let (_, admin) = superuser(&app, "root").await;
    let hook = Receiver::start().await;
    let (_, secret) = endpoint(&app, &admin, &hook.url, json!(["user.created"])).await;
    let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    let mut held = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO audit_log (time, event, username, ip, user_agent, detail) \
                 VALUES ($1, 'register', 'slow', '', '', '{}')",
    )
    .bind(app.state.clock.now())
    .execute(&mut *held)
    .await
    .unwrap();
    app.register("fast").await;
    app.state.webhooks.run_once().await;
    assert_eq!(hook.got.lock().unwrap().len(), 0, "the later entry waits for the one before it");
    held.commit().await.unwrap();
    app.state.webhooks.run_once().await;
    let usernames: Vec<Value> = hook.bodies().iter().map(|b| b["data"]["username"].clone()).collect();
    assert_eq!(usernames, [json!("slow"), json!("fast")]);
    assert_eq!(hook.types(&secret).len(), 2);
}

#[tokio::test]
async fn an_operator_manages_endpoints_from_the_command_line() {
    let app = spawn_hooks().await;
    let (_, admin) = superuser(&app, "root").await;
    let hook = Receiver::start().await;
    let db = app.database_url.clone();
    // The same secret key as the service: it seals the endpoints' secrets.
    let run = |args: &[&str]| {
        let mut cmd = authenticon(&db);
        cmd.env("AUTHENTICON_SECRET_KEY", SECRET).env("AUTHENTICON_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1");
        cmd.args(args).output().unwrap()
    };
    let ok = |args: &[&str]| {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let added: Value =
        serde_json::from_str(&ok(&["webhooks", "add", &hook.url, "--event", "user.created"])).unwrap();
    let (id, secret) = (str_of(&added["id"]), str_of(&added["secret"]));
    assert!(secret.starts_with("whsec_"));
    assert_eq!(ok(&["webhooks", "list"]).trim(), format!("{id}\tenabled\t{}\tuser.created", hook.url));
    assert!(ok(&["webhooks", "event-types"]).contains("session.revoked\t"));
    let out = run(&["webhooks", "add", "ftp://x.example/", "--event", "user.created"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("url: Enter an http or https URL."));

    hook.answer(410);
    app.register("u1").await;
    app.state.webhooks.run_once().await;
    let dead = ok(&["webhooks", "deliveries", &id, "--status", "dead"]);
    assert!(dead.contains("\tuser.created\tdead\tattempts=1\tlast=410\tanswered 410 Gone"), "{dead}");
    hook.answer(204);
    assert_eq!(ok(&["webhooks", "replay", &id]).trim(), "1 replayed.");
    app.state.webhooks.run_once().await;
    assert_eq!(hook.types(&secret), ["user.created", "user.created"]);
    assert_eq!(
        ok(&["webhooks", "enable", &id, "--enabled", "false"]).trim(),
        format!("Webhook {id} disabled.")
    );
    let rotated: Value = serde_json::from_str(&ok(&["webhooks", "rotate-secret", &id])).unwrap();
    assert_ne!(rotated["secret"], json!(secret));
    assert_eq!(ok(&["webhooks", "remove", &id]).trim(), format!("Webhook {id} removed."));
    assert_eq!(app.get("/api/webhooks/", Some(&admin)).await.body, json!([]));
}

#[tokio::test]
async fn deliveries_never_reach_internal_addresses_unless_allowed() {
    let app = spawn().await;
    let (_, admin) = superuser(&app, "root").await;
    let hook = Receiver::start().await;
    for (url, ip) in [
        (hook.url.clone(), "127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/".to_string(), "169.254.169.254"),
        ("http://[::ffff:10.0.0.1]/".to_string(), "::ffff:10.0.0.1"),
    ] {
        let body = json!({"url": url, "events": ["user.created"]});
        let r = app.request(Method::POST, "/api/webhooks/", Some(body), Some(&admin)).await;
        let message = format!(
            "Deliveries to {ip} are refused: it is an internal address (AUTHENTICON_WEBHOOK_ALLOWED_NETWORKS)."
        );
        assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, json!({"url": [message]})), "{url}");
    }
    // A name is checked as it is resolved for the connection: `localhost` gets nothing.
    let by_name = hook.url.replace("127.0.0.1", "localhost");
    let (id, _) = endpoint(&app, &admin, &by_name, json!(["user.created"])).await;
    app.register("u1").await;
    app.state.webhooks.run_once().await;
    assert!(hook.got.lock().unwrap().is_empty(), "nothing reached the internal receiver");
    let dead = deliveries(&app, &admin, &id, "dead").await;
    assert_eq!(dead["count"], json!(1), "refused for good: {dead}");
    let error = str_of(&dead["results"][0]["last_error"]);
    assert!(error.contains("localhost resolves only to addresses deliveries may not reach"), "{error}");
    assert!(!error.contains(&by_name), "no URL in the log: {error}");
}

/// A Security Event Token's claims, after checking its signature against the JWKS and its
/// `typ`, as a Shared Signals receiver would.
async fn set_claims(app: &TestApp, set: &str) -> Value {
    use jsonwebtoken::{decode, decode_header, jwk::JwkSet, DecodingKey, Validation};
    let jwks: JwkSet = serde_json::from_value(app.get("/.well-known/jwks.json", None).await.body).unwrap();
    let header = decode_header(set).unwrap();
    assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
    let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("signed with a published key");
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    // (`aud` is the receiver's URL: checked by the test.)
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    decode::<Value>(set, &DecodingKey::from_jwk(jwk).unwrap(), &validation).expect("valid signature").claims
}

#[tokio::test]
async fn security_event_tokens_are_pushed_for_caep_receivers() {
    let app = spawn_with(|c| {
        c.jwt_algorithm = authenticon::config::JwtAlgorithm::EdDSA;
        c.webhook_allowed_networks = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let (_, admin) = superuser(&app, "root").await;
    let hook = Receiver::start().await;
    hook.answer(202);
    let body = json!({"url": hook.url, "format": "set",
                      "events": ["session.revoked", "password.changed", "user.deactivated"]});
    let r = app.request(Method::POST, "/api/webhooks/", Some(body), Some(&admin)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["format"], json!("set"));
    assert!(r.body.get("secret").is_none(), "verified with the JWKS: no secret to share");
    let body = json!({"url": hook.url, "format": "set", "events": ["user.created"]});
    let r = app.request(Method::POST, "/api/webhooks/", Some(body), Some(&admin)).await;
    assert_eq!(r.body, json!({"events": ["“user.created” has no Security Event Token."]}));

    let (alice, access, refresh) = app.user_with_tokens("alice").await;
    assert_eq!(app.post("/api/token/blacklist/", json!({"refresh": refresh})).await.status, StatusCode::OK);
    let (access2, _) = app.login("alice").await;
    let change = json!({"old_password": PASSWORD, "new_password": "another long passphrase"});
    let r = app.request(Method::POST, "/api/me/password/", Some(change), Some(&access2)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    app.state.webhooks.run_once().await;

    let got = hook.got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "the password change's own session is kept; nothing else was asked for");
    for (headers, _) in &got {
        assert_eq!(headers["content-type"], "application/secevent+jwt");
        assert!(headers.get("webhook-signature").is_none());
    }
    let issuer = app.state.config.issuer();
    let revoked = set_claims(&app, &got[0].1).await;
    assert!(revoked["jti"].as_str().unwrap().starts_with("msg_"));
    let origin = hook.url.trim_end_matches("/hook");
    assert_eq!(revoked["aud"], json!(origin), "one receiver's token is not another's");
    assert!(revoked["iat"].as_u64().unwrap() > 0);
    assert_eq!(revoked["iss"], json!(issuer));
    assert_eq!(
        revoked["sub_id"],
        json!({"format": "complex", "user": {"format": "iss_sub", "iss": issuer, "sub": alice},
               "session": {"format": "opaque", "id": parts(&access).1["sid"]}})
    );
    let event = &revoked["events"]["https://schemas.openid.net/secevent/caep/event-type/session-revoked"];
    assert_eq!(event["initiating_entity"], json!("user"), "{revoked}");
    let changed = set_claims(&app, &got[1].1).await;
    let event = &changed["events"]["https://schemas.openid.net/secevent/caep/event-type/credential-change"];
    assert_eq!(
        (event["credential_type"].clone(), event["change_type"].clone()),
        (json!("password"), json!("update"))
    );
    assert_eq!(changed["sub_id"], json!({"format": "iss_sub", "iss": issuer, "sub": alice}));

    // Without a published key there is nothing to sign them with.
    let hmac = spawn_hooks().await;
    let (_, root) = superuser(&hmac, "root").await;
    let body = json!({"url": hook.url, "format": "set", "events": ["session.revoked"]});
    let r = hmac.request(Method::POST, "/api/webhooks/", Some(body), Some(&root)).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"format": ["Security Event Tokens are signed with a published key: set AUTHENTICON_JWT_ALGORITHM to RS256, ES256 or EdDSA."]})
        )
    );
}

#[tokio::test]
async fn a_slow_receiver_holds_up_only_its_own_deliveries() {
    let app = spawn_hooks().await;
    let (_, admin) = superuser(&app, "root").await;
    let (slow, fast) = (Receiver::start().await, Receiver::start().await);
    slow.delay.store(1500, Ordering::SeqCst);
    endpoint(&app, &admin, &slow.url, json!(["session.created"])).await;
    endpoint(&app, &admin, &fast.url, json!(["user.created"])).await;
    app.user_with_tokens("alice").await;
    for name in ["u1", "u2", "u3"] {
        app.register(name).await;
    }
    let started = Instant::now();
    app.state.webhooks.run_once().await;
    let fast_done = *fast.arrived.lock().unwrap().last().unwrap() - started;
    assert_eq!(fast.got.lock().unwrap().len(), 4);
    assert_eq!(slow.got.lock().unwrap().len(), 1);
    assert!(
        fast_done < Duration::from_millis(1000),
        "the fast receiver waited for the slow one: {fast_done:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(1500), "the slow one was answered too");
}

#[tokio::test]
async fn the_delivery_log_keeps_a_week_of_deliveries_and_a_month_of_dead_ones() {
    let app = spawn_hooks().await;
    let (_, admin) = superuser(&app, "root").await;
    let hook = Receiver::start().await;
    let (id, _) =
        endpoint(&app, &admin, &format!("{}?token=receiver-secret", hook.url), json!(["user.created"])).await;
    let audit = app.get("/api/audit/?event=webhook_created", Some(&admin)).await.body.to_string();
    assert!(!audit.contains("receiver-secret") && !audit.contains("/hook"), "only the origin: {audit}");
    app.register("u1").await;
    app.state.webhooks.run_once().await;
    hook.answer(400);
    app.register("u2").await;
    app.state.webhooks.run_once().await;
    // (The administrator signs in again after each jump of the clock.)
    let count = |status: &'static str| {
        let (app, id) = (&app, &id);
        async move {
            let admin = app.login("root").await.0;
            deliveries(app, &admin, id, status).await["count"].clone()
        }
    };
    assert_eq!((count("delivered").await, count("dead").await), (json!(1), json!(1)));
    app.clock.advance(7 * 24 * 3600 + 1);
    assert_eq!(app.state.webhooks.prune().await.unwrap(), 1);
    assert_eq!((count("delivered").await, count("dead").await), (json!(0), json!(1)));
    app.clock.advance(23 * 24 * 3600);
    assert_eq!(app.state.webhooks.prune().await.unwrap(), 1);
    assert_eq!(count("dead").await, json!(0));
}
