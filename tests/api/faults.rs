//! Database faults, on a throwaway PostgreSQL cluster of the test's own (never the
//! machine's): stopped and restarted mid-run.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// A PostgreSQL cluster in a temp dir, on a free loopback port.
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

fn postgres_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    found.retain(|p| p.join("initdb").exists());
    found.sort();
    found.pop().expect("PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Runs a PostgreSQL tool; as root it runs as `postgres`, which initdb insists on.
fn pg_tool(bin: &Path, tool: &str, args: &[&str]) {
    let program = bin.join(tool);
    let out = if is_root() {
        Command::new("runuser").args(["-u", "postgres", "--"]).arg(&program).args(args).output()
    } else {
        Command::new(&program).args(args).output()
    }
    .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

impl Cluster {
    fn start() -> Self {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let ok =
                Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().unwrap();
            assert!(ok.success());
        }
        let data = dir.path().join("data");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        pg_tool(
            &bin,
            "initdb",
            &["-D", data.to_str().unwrap(), "-U", "postgres", "-A", "trust", "--no-sync"],
        );
        let cluster = Cluster { bin, data, port, _dir: dir };
        cluster.pg_ctl_start();
        cluster
    }

    /// Over the cluster's own Unix socket: a TCP port released while the cluster is
    /// down can be taken by another test's server, and the restart would then fail.
    fn url(&self) -> String {
        format!("postgres://postgres@localhost/postgres?host={}&port={}", self.data.display(), self.port)
    }

    fn pg_ctl_start(&self) {
        let options =
            format!("-p {} -k {} -c listen_addresses='' -c fsync=off", self.port, self.data.display());
        let log = self.data.join("server.log");
        pg_tool(
            &self.bin,
            "pg_ctl",
            &["-D", self.data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-o", &options, "-w", "start"],
        );
    }

    /// Stops like a crash: no shutdown checkpoint.
    fn kill(&self) {
        pg_tool(&self.bin, "pg_ctl", &["-D", self.data.to_str().unwrap(), "-m", "immediate", "-w", "stop"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
            c
        } else {
            Command::new(&pg_ctl)
        };
        // Already stopped is fine: this only makes sure nothing outlives the test.
        let _ = cmd.args(["-D", self.data.to_str().unwrap_or_default(), "-m", "immediate", "stop"]).output();
    }
}

#[tokio::test]
async fn a_database_outage_gives_503_keeps_tokens_verifying_and_loses_no_rotation() {
    if !on_postgres() {
        // Runs in the PostgreSQL pass of `make test` (it needs a server to kill).
        return;
    }
    let cluster = tokio::task::spawn_blocking(Cluster::start).await.unwrap();
    let url = cluster.url();
    let app = spawn_with(|c| {
        c.database_url = url.clone();
        c.db_acquire_timeout = Duration::from_secs(1);
        c.jwt_algorithm = authenticon::config::JwtAlgorithm::EdDSA;
    })
    .await;
    let (_, access, first) = app.user_with_tokens("alice").await;
    let feed = format!("{}/.well-known/revocations", app.url);
    let etag = app.client.get(&feed).send().await.unwrap().headers()["etag"].to_str().unwrap().to_string();
    // One rotation before the crash: it was accepted, so it must survive it.
    let r = app.post("/api/token/refresh/", json!({"refresh": first})).await;
    assert_eq!(r.status, StatusCode::OK);
    let second = str_of(&r.body["refresh"]);

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.kill();
        cluster
    })
    .await
    .unwrap();

    let unavailable = json!({"detail": "Service temporarily unavailable, try again later."});
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
    let r = app.get("/readyz", None).await;
    assert_eq!((r.status, r.body["detail"].is_string()), (StatusCode::SERVICE_UNAVAILABLE, true));
    // The container's health check says so too: exit 1, one line naming the answer.
    let readyz = format!("{}/readyz", app.url);
    let out = tokio::task::spawn_blocking(move || {
        authenticon("sqlite::memory:").args(["healthcheck", "--url", &readyz]).output().unwrap()
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not ready: 503 Service Unavailable") && err.contains("Database unavailable."),
        "{err}"
    );
    for (path, body) in [
        ("/api/token/", json!({"username": "alice", "password": PASSWORD})),
        ("/register/", json!({"username": "bob", "password": PASSWORD})),
        ("/api/token/refresh/", json!({"refresh": second})),
        ("/api/token/blacklist/", json!({"refresh": second})),
    ] {
        let r = app.post(path, body).await;
        assert_eq!((r.status, &r.body), (StatusCode::SERVICE_UNAVAILABLE, &unavailable), "{path}");
    }
    // Access tokens verify without the database, and promptly.
    for _ in 0..5 {
        let started = Instant::now();
        let r = app.get("/protected-resource/", Some(&access)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["user"]["username"], "alice");
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    }
    let r = app.post("/api/token/verify/", json!({"token": access})).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.get("/api/me/", Some(&access)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    // The revocation feed says "nothing new" only on knowledge at most two seconds old:
    // then `503`, so that verifiers' fail-closed clocks run while revocations could be
    // committed elsewhere unseen.
    let poll =
        || async { app.client.get(&feed).header("if-none-match", &etag).send().await.unwrap().status() };
    let started = Instant::now();
    let mut answers = Vec::new();
    while started.elapsed() < Duration::from_secs(6) {
        let status = poll().await;
        answers.push((started.elapsed(), status));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        assert_eq!(status, StatusCode::NOT_MODIFIED);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (after, last) = *answers.last().unwrap();
    assert_eq!(last, StatusCode::SERVICE_UNAVAILABLE, "a stale 304 for ever: {answers:?}");
    assert!(after < Duration::from_secs(4), "{answers:?}");

    // Dropping the cluster at the end of the test stops it.
    let _cluster = tokio::task::spawn_blocking(move || {
        cluster.pg_ctl_start();
        cluster
    })
    .await
    .unwrap();
    let ready = eventually(Duration::from_secs(30), || async {
        app.get("/readyz", None).await.status == StatusCode::OK
    })
    .await;
    assert!(ready, "the service did not recover by itself");

    // The refresh refused during the outage did not spend the token…
    let r = app.post("/api/token/refresh/", json!({"refresh": second})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // …and the rotation accepted before the crash is still on record: `first` is spent.
    let r = app.post("/api/token/refresh/", json!({"refresh": first})).await;
    assert_eq!((r.status, r.body), (StatusCode::UNAUTHORIZED, token_not_valid()));
    let r: Value = app.post("/api/token/", json!({"username": "alice", "password": PASSWORD})).await.body;
    assert!(r["access"].is_string());
}
