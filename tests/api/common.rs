//! Test harness: the real application served on 127.0.0.1:0, and an HTTP client.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authenticon::secret::Secret;
use authenticon::{AppState, Config};
use base64::Engine;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const SECRET: &str = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
pub const PASSWORD: &str = "a long passphrase";

pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub database_url: String,
    _db: TestDb,
}

/// Which store the suite runs on: `TEST_BACKEND=sqlite` (default) or `postgres`.
pub fn on_postgres() -> bool {
    std::env::var("TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The PostgreSQL server the suite uses; each test gets a fresh schema in it.
pub fn postgres_base_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, empty database for one test: a temp SQLite file, or a new PostgreSQL schema
/// (dropped again when the test ends), so tests never see each other's data.
pub struct TestDb {
    pub url: String,
    _dir: tempfile::TempDir,
    schema: Option<String>,
}

impl TestDb {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        if !on_postgres() {
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            return TestDb { url, _dir: dir, schema: None };
        }
        let schema = format!("authenticon_t_{}", uuid::Uuid::new_v4().simple());
        run_sql_blocking(&format!("CREATE SCHEMA {schema}"));
        let url = format!("{}?options=-c%20search_path%3D{schema}", postgres_base_url());
        TestDb { url, _dir: dir, schema: Some(schema) }
    }

    /// A private temp folder (beside the SQLite file, when there is one).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }
}

impl Drop for TestDb {
    /// Ends any connection still holding locks in the schema first: a background task
    /// (a mail being recorded) cut off when the test's runtime stopped leaves its
    /// connection idle in a transaction, and the drop would wait on it forever.
    fn drop(&mut self) {
        if let Some(schema) = &self.schema {
            run_sql_blocking(&format!(
                "SELECT pg_terminate_backend(l.pid) FROM pg_locks l \
                 JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = '{schema}' AND l.pid <> pg_backend_pid()"
            ));
            run_sql_blocking(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// Runs one statement on the test server from a thread of its own (callable anywhere,
/// also from `Drop` inside an async test).
fn run_sql_blocking(sql: &str) {
    use sqlx::Connection;
    let sql = sql.to_string();
    let url = postgres_base_url();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is not reachable at {url}: {e}. The suite runs on PostgreSQL when \
                     TEST_BACKEND=postgres; start the server or point TEST_DATABASE_URL at one."
                )
            });
            sqlx::query(&sql).execute(&mut conn).await.expect("test schema statement");
            let _ = conn.close().await;
        })
    })
    .join()
    .expect("schema thread");
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
    let database_url = config.database_url.clone();
    let (state, _) = AppState::build(config).await.expect("state");
    state.store.migrate().await.expect("migrate");
    state.tokens.load_keys().await.expect("signing keys");
    state.recovery.mailer().start_outbox();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = authenticon::app(state.clone());
    let limits = state.config.connection_limits();
    tokio::spawn(async move {
        authenticon::http::server::serve_forever(listener, app, limits).await.expect("serve");
    });
    let client = reqwest::Client::builder()
        .user_agent("authenticon-tests")
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    TestApp { url: format!("http://{addr}"), client, state, database_url, _db: db }
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

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).expect("base64")
}

/// The header and claims of a compact JWS, unverified.
pub fn parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let header = serde_json::from_slice(&unb64(it.next().expect("header"))).expect("header json");
    let claims = serde_json::from_slice(&unb64(it.next().expect("claims"))).expect("claims json");
    (header, claims)
}

/// Signs arbitrary header and claims JSON with HMAC-SHA256 under `secret`.
pub fn sign_hs256(header: &Value, claims: &Value, secret: &str) -> String {
    let h = serde_json::to_vec(header).expect("json");
    let c = serde_json::to_vec(claims).expect("json");
    sign_raw(&h, &c, secret)
}

/// Signs raw header and payload bytes (they may be invalid JSON) with HS256.
pub fn sign_raw(header: &[u8], payload: &[u8], secret: &str) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let sig = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, jsonwebtoken::Algorithm::HS256)
        .expect("sign");
    format!("{signing_input}.{sig}")
}

pub fn token_not_valid() -> Value {
    json!({"detail": "Token is invalid or expired", "code": "token_not_valid"})
}

pub fn access_not_valid() -> Value {
    json!({
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid or expired"}],
    })
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

/// Waits until `token` has expired. Polls verify, which spends nothing, so the polling
/// cannot itself trigger reuse detection.
pub async fn wait_for_expiry(app: &TestApp, token: &str) {
    let expired = eventually(Duration::from_secs(5), || async {
        app.post("/api/token/verify/", json!({"token": token})).await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(expired, "token did not expire in time");
}

/// The real binary, with a clean environment and the given database.
pub fn authenticon(db_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authenticon"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AUTHENTICON_DATABASE_URL", db_url)
        .stdin(Stdio::null());
    if on_postgres() {
        // Required there: no file beside the database to keep a generated one in.
        cmd.env("AUTHENTICON_SECRET_KEY", SECRET);
    }
    cmd
}

/// A running `authenticon serve` with its log collected.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub log: Arc<Mutex<Vec<String>>>,
}

pub fn serve(db: &str, extra_env: &[(&str, &str)]) -> Server {
    let mut cmd = authenticon(db);
    cmd.env("AUTHENTICON_BIND", "127.0.0.1:0").arg("serve").stdout(Stdio::null()).stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn serve");
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                // Address characters only: in JSON logs the address is followed by a quote.
                let addr: String =
                    rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':').collect();
                let _ = tx.send(addr);
            }
            sink.lock().unwrap().push(line);
        }
    });
    let Ok(addr) = rx.recv_timeout(Duration::from_secs(30)) else {
        let _ = child.kill();
        let status = child.wait();
        std::thread::sleep(Duration::from_millis(100)); // let the reader drain the pipe
        panic!("server did not report its address ({status:?}):\n{}", log.lock().unwrap().join("\n"));
    };
    Server { child, url: format!("http://{addr}"), log }
}

impl Server {
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        // Let the reader thread drain the pipe.
        std::thread::sleep(Duration::from_millis(100));
        let log = self.log.lock().unwrap().join("\n");
        (status, log)
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
    let r = authenticon::accounts::Registration {
        username: username.into(),
        email: String::new(),
        password: Secret::new(PASSWORD),
        is_superuser: true,
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
