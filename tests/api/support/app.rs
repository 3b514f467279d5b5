//! The application under test: served in this process on a random port, with an HTTP
//! client, its state (for the few checks no endpoint answers), and its clock, which a
//! test moves forward instead of sleeping.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use authenticon::domain::{Secret, ShiftedClock};
use authenticon::{AppState, Config};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{TestDb, PASSWORD, SECRET};

pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub database_url: String,
    /// The service's clock: `clock.advance(secs)` moves its time (tokens, links, windows).
    pub clock: Arc<ShiftedClock>,
    _db: TestDb,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A configuration for tests: the given database, a fixed secret, a small pool.
pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: database_url.to_string(),
        secret_key: Some(Secret::new(SECRET)),
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        db_pool_size: 5,
        ..Config::default()
    }
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    // Mail goes to files in the test's own folder unless a test sets up SMTP.
    config.mail_dir = Some(db.dir().join("mail"));
    adjust(&mut config);
    // Port 0 unless the test named one (an address it had to know before the start).
    let bind = config.bind;
    let database_url = config.database_url.clone();
    let clock = Arc::new(ShiftedClock::new());
    let (state, _) = AppState::build_with_clock(config, clock.clone()).await.expect("state");
    state.store.migrate().await.expect("migrate");
    state.tokens.load_keys().await.expect("signing keys");
    state.notices.mailer().start_outbox();
    let listener = tokio::net::TcpListener::bind(bind).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = authenticon::app(state.clone());
    let limits = authenticon::http::server::ConnectionLimits::from(&*state.config);
    tokio::spawn(async move {
        authenticon::http::server::serve_forever(listener, app, limits).await.expect("serve");
    });
    let client = crate::support::client_builder()
        .user_agent("authenticon-tests")
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    TestApp { url: format!("http://{addr}"), client, state, database_url, clock, _db: db }
}

impl TestApp {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        bearer: Option<&str>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{}", self.url, path));
        if let Some(body) = body {
            req = req.json(&body);
        }
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        reply(req.send().await.expect("send")).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(body), None).await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Reply {
        self.request(Method::GET, path, None, bearer).await
    }

    /// POSTs raw bytes with the given content type.
    pub async fn post_raw(&self, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
        let mut req = self.client.post(format!("{}{}", self.url, path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        reply(req.send().await.expect("send")).await
    }

    pub async fn register(&self, username: &str) -> Value {
        let r = self.post("/register/", json!({"username": username, "password": PASSWORD})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }

    /// Logs in; returns (access, refresh).
    pub async fn login(&self, username: &str) -> (String, String) {
        self.login_with(username, PASSWORD).await
    }

    pub async fn login_with(&self, username: &str, password: &str) -> (String, String) {
        let r = self.post("/api/token/", json!({"username": username, "password": password})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        (str_of(&r.body["access"]), str_of(&r.body["refresh"]))
    }

    pub async fn user_with_tokens(&self, username: &str) -> (String, String, String) {
        let user = self.register(username).await;
        let (access, refresh) = self.login(username).await;
        (str_of(&user["id"]), access, refresh)
    }
}

async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("body is not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    Reply { status, headers, body }
}

pub fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).to_string()
}

/// Polls `check` until it returns true or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Deactivates a user directly through the store (the admin API has its own tests).
pub async fn deactivate(app: &TestApp, user_id: &str) {
    let changes = authenticon::store::UserChanges { email: None, is_active: Some(false) };
    let meta = authenticon::store::AuditMeta::default();
    app.state.store.update_user(user_id, &changes, 0, &meta).await.unwrap().expect("user exists");
}

/// A superuser created the way `createsuperuser` does; returns (id, access).
pub async fn superuser(app: &TestApp, username: &str) -> (String, String) {
    let r = authenticon::auth::accounts::Registration {
        username: username.into(),
        email: String::new(),
        password: Some(Secret::new(PASSWORD)),
        is_superuser: true,
        roles: Default::default(),
    };
    let user = app.state.accounts.create_user(r, &authenticon::store::AuditMeta::default()).await.unwrap();
    let (access, _) = app.login(username).await;
    (user.user.id, access)
}

/// The test client's address (loopback) as a trusted proxy, so `X-Forwarded-For` counts.
pub fn localhost_trusted(c: &mut Config) {
    c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

/// `alice` logs in with `password` from the client address `xff` names.
pub async fn login_from(app: &TestApp, xff: &str, password: &str) -> StatusCode {
    app.client
        .post(format!("{}/api/token/", app.url))
        .header("x-forwarded-for", xff)
        .json(&json!({"username": "alice", "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}
