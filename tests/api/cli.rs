//! The `authenticon` binary itself: commands, configuration errors, serving, shutdown.

use std::process::{Command, Output};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run authenticon")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_db() -> (TestDb, String) {
    let db = TestDb::new();
    let url = db.url.clone();
    (db, url)
}

#[test]
fn help_lists_every_command() {
    let out = run(authenticon("sqlite::memory:").arg("--help"));
    assert!(out.status.success());
    let help = text(&out.stdout);
    for cmd in ["serve", "migrate", "createsuperuser", "flushexpiredtokens", "roles", "users"] {
        assert!(help.contains(cmd), "{cmd} missing from:\n{help}");
        let out = run(authenticon("sqlite::memory:").args([cmd, "--help"]));
        assert!(out.status.success(), "{cmd} --help");
        assert!(text(&out.stdout).contains("Usage: authenticon"), "{cmd}");
    }
}

#[test]
fn a_bad_setting_stops_with_one_line_naming_it() {
    let (_dir, db) = temp_db();
    let cases = [
        ("AUTHENTICON_ACCESS_TOKEN_LIFETIME", "soon"),
        ("AUTHENTICON_BIND", "localhost"),
        ("AUTHENTICON_JWT_ALGORITHM", "none"),
        ("AUTHENTICON_DATABASE_URL", "mysql://db"),
        ("AUTHENTICON_SECRET_KEY", "short"),
    ];
    for (var, value) in cases {
        let out = run(authenticon(&db).env(var, value).arg("migrate"));
        assert_eq!(out.status.code(), Some(1), "{var}");
        let err = text(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{var}: {err}");
        assert!(err.starts_with(&format!("error: {var}: expected ")), "{err}");
    }
    let out = run(authenticon(&db).args(["migrate", "--config", "/nonexistent/authenticon.toml"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("config file /nonexistent/authenticon.toml"));
}

#[test]
fn the_config_file_is_read_and_the_environment_wins() {
    let (dir, db) = temp_db();
    let file = dir.dir().join("authenticon.toml");
    std::fs::write(&file, "access_token_lifetime = \"never\"\n").unwrap();
    let out = run(authenticon(&db).args(["migrate", "--config"]).arg(&file));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("AUTHENTICON_ACCESS_TOKEN_LIFETIME"));
    let out = run(authenticon(&db)
        .env("AUTHENTICON_ACCESS_TOKEN_LIFETIME", "10m")
        .args(["migrate", "--config"])
        .arg(&file));
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn migrate_is_idempotent() {
    let (_dir, db) = temp_db();
    for _ in 0..2 {
        let out = run(authenticon(&db).arg("migrate"));
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Migrations applied"));
    }
}

#[tokio::test]
async fn createsuperuser_makes_an_admin_who_can_log_in() {
    let (_dir, db) = temp_db();
    let create = |password: Option<&str>, username: &str| {
        let mut cmd = authenticon(&db);
        cmd.args(["createsuperuser", "--username", username, "--email", "root@example.com", "--no-input"]);
        if let Some(p) = password {
            cmd.env("AUTHENTICON_SUPERUSER_PASSWORD", p);
        }
        run(&mut cmd)
    };
    let out = create(Some(PASSWORD), "root");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "Superuser root created successfully.");

    let out = create(Some(PASSWORD), "ROOT");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr).trim(), "error: username: A user with that username already exists.");
    let out = create(Some("password"), "other");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr).trim(), "error: password: This password is too common.");
    let out = create(None, "other");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("AUTHENTICON_SUPERUSER_PASSWORD"));
    let out = run(authenticon(&db)
        .args(["createsuperuser", "--no-input"])
        .env("AUTHENTICON_SUPERUSER_PASSWORD", PASSWORD));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--username"));

    let app = spawn_with(|c| c.database_url = db.clone()).await;
    let (access, _) = app.login("root").await;
    let me = app.get("/api/me/", Some(&access)).await.body;
    assert_eq!(me["is_superuser"], true);
    assert_eq!(me["email"], "root@example.com");
    assert_eq!(
        me["permissions"],
        json!(["audit.view", "roles.manage", "roles.view", "users.manage", "users.view"])
    );
}

#[tokio::test]
async fn flushexpiredtokens_deletes_only_expired_records() {
    let app = spawn_with(|c| c.refresh_token_lifetime = Duration::from_secs(60)).await;
    // The command runs on the system's clock: alice signed in an hour ago (her token
    // expired 59 minutes ago), bob just now.
    app.clock.advance(-3600);
    app.user_with_tokens("alice").await;
    app.clock.advance(3600);
    app.user_with_tokens("bob").await;
    let out = run(authenticon(&app.database_url).arg("flushexpiredtokens"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "Deleted 1 expired refresh token(s).");
    let out = run(authenticon(&app.database_url).arg("flushexpiredtokens"));
    assert_eq!(text(&out.stdout).trim(), "Deleted 0 expired refresh token(s).");
}

#[tokio::test]
async fn serve_generates_a_private_secret_and_shuts_down_cleanly_without_leaking_secrets() {
    let (dir, db) = temp_db();
    if on_postgres() {
        let out = run(authenticon(&db).env_remove("AUTHENTICON_SECRET_KEY").arg("serve"));
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains("AUTHENTICON_SECRET_KEY: required"), "{}", text(&out.stderr));
    }
    let mail_dir = dir.dir().join("mail");
    let server = serve(&db, &[("AUTHENTICON_MAIL_DIR", mail_dir.to_str().unwrap())]);
    let client = crate::support::new_client();
    let post =
        |path: &str, body: serde_json::Value| client.post(format!("{}{path}", server.url)).json(&body).send();
    let r =
        post("/register/", json!({"username": "alice", "password": PASSWORD, "email": "alice@example.com"}))
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // The verification mail goes to a file; its link must not reach the log.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let link = loop {
        let found = std::fs::read_dir(&mail_dir).ok().and_then(|d| {
            d.filter_map(Result::ok)
                .find(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .and_then(|e| std::fs::read_to_string(e.path()).ok())
        });
        if let Some(text) = found {
            let unfolded = text.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
            let token = unfolded.split("token=").nth(1).unwrap_or_default();
            break token
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-' || *c == '_')
                .collect::<String>();
        }
        assert!(std::time::Instant::now() < deadline, "no mail file in {}", mail_dir.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // The real link (it verifies), so the log check below looks for the right thing.
    let r = post("/api/email/verify/", json!({"token": link})).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{link}");
    let pair: serde_json::Value = post("/api/token/", json!({"username": "alice", "password": PASSWORD}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = str_of(&pair["access"]);
    let refresh = str_of(&pair["refresh"]);
    let r =
        client.get(format!("{}/protected-resource/", server.url)).bearer_auth(&access).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    post("/api/token/refresh/", json!({"refresh": refresh})).await.unwrap();
    post("/api/token/refresh/", json!({"refresh": refresh})).await.unwrap(); // reuse: logged as a warning
                                                                             // The reuse ended that session's access token; another login's survives the restart.
    let second: serde_json::Value = post("/api/token/", json!({"username": "alice", "password": PASSWORD}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second_access = str_of(&second["access"]);

    let secret_file = dir.dir().join("test.db.secret");
    let secret =
        if on_postgres() { SECRET.to_string() } else { std::fs::read_to_string(&secret_file).unwrap() };
    assert!(secret.trim().len() >= 32);
    #[cfg(unix)]
    if !on_postgres() {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&secret_file).unwrap().permissions().mode() & 0o777, 0o600);
        // The database (password hashes, sealed keys) and SQLite's files beside it too.
        for name in ["test.db", "test.db-wal", "test.db-shm"] {
            let mode = std::fs::metadata(dir.dir().join(name)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }

    let (status, log) = server.terminate();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("shut down cleanly"), "{log}");
    let generated = if on_postgres() { 0 } else { 1 };
    assert_eq!(log.matches("generated a signing secret").count(), generated, "{log}");
    assert!(log.contains("refresh token reuse detected"), "{log}");
    assert!(log.contains("mails are only written to files"), "{log}");
    for secret_value in [PASSWORD, &access, &refresh, secret.trim(), "$argon2id$", &link] {
        assert!(!log.contains(secret_value), "log leaks {secret_value:.12}…:\n{log}");
    }
    // A second start reuses the secret quietly, and old tokens still verify.
    let server = serve(&db, &[]);
    let r = client
        .post(format!("{}/api/token/verify/", server.url))
        .json(&json!({"token": second_access}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, log) = server.terminate();
    assert!(!log.contains("generated a signing secret"), "{log}");
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let (_dir, db) = temp_db();
    let server = serve(&db, &[("AUTHENTICON_HASH_CONCURRENCY", "1")]);
    let client = crate::support::new_client();
    // Sixteen registrations queue on one hashing thread (~15 ms each), so most are still
    // in flight when SIGTERM lands; the pause only lets their connections open.
    let requests: Vec<_> = (0..16)
        .map(|i| {
            let req = client
                .post(format!("{}/register/", server.url))
                .json(&json!({"username": format!("user{i}"), "password": PASSWORD}))
                .send();
            tokio::spawn(req)
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, log) = tokio::task::spawn_blocking(move || server.terminate()).await.unwrap();
    assert!(status.success(), "{log}");
    for r in requests {
        let r = r.await.unwrap().expect("request finished");
        assert_eq!(r.status(), StatusCode::CREATED);
    }
}

#[test]
fn names_and_key_ids_that_start_with_a_hyphen_are_values_not_flags() {
    // Key ids are base64url thumbprints, and usernames and role names may contain `-`:
    // about one key in 64 starts with it, and `keys activate <kid>` failed on it.
    let (_db, url) = temp_db();
    assert!(run(authenticon(&url).arg("migrate")).status.success());
    let ok = |args: &[&str]| {
        let out = run(authenticon(&url).args(args).env("AUTHENTICON_SUPERUSER_PASSWORD", PASSWORD));
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    };
    ok(&["createsuperuser", "--username", "-root", "--no-input"]);
    assert_eq!(
        ok(&["roles", "create", "-odd", "--permission", "-x.y"]),
        "Role -odd created with permissions: -x.y."
    );
    assert_eq!(ok(&["roles", "grant", "-odd", "-a.b"]), "Role -odd now holds: -a.b, -x.y.");
    assert_eq!(ok(&["users", "assign-role", "-root", "-odd"]), "-root now has roles: -odd.");
    let out = run(authenticon(&url).args(["keys", "activate", "-Eabc"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr).trim(), "error: no published key -Eabc");
}

#[tokio::test]
async fn an_operator_manages_roles_from_the_command_line() {
    let app = spawn().await;
    let db = app.database_url.clone();
    let (bob, access, _) = app.user_with_tokens("bob").await;
    let ok = |args: &[&str]| {
        let out = run(authenticon(&db).args(args));
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let fails = |args: &[&str]| {
        let out = run(authenticon(&db).args(args));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        text(&out.stderr).trim().to_string()
    };

    let out =
        ok(&["roles", "create", "analyst", "--description", "Reads reports", "--permission", "reports.view"]);
    assert_eq!(out.trim(), "Role analyst created with permissions: reports.view.");
    let listed = ok(&["roles", "list"]);
    assert!(listed.contains("analyst\treports.view\tReads reports"), "{listed}");
    assert!(
        listed.contains("admin\taudit.view,roles.manage,roles.view,users.manage,users.view\t"),
        "{listed}"
    );

    assert_eq!(app.get("/api/reports/", Some(&access)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(ok(&["users", "assign-role", "bob", "analyst"]).trim(), "bob now has roles: analyst.");
    assert_eq!(app.get("/api/reports/", Some(&access)).await.status, StatusCode::OK);
    assert_eq!(ok(&["roles", "revoke", "analyst", "reports.view"]).trim(), "Role analyst now holds: .");
    assert_eq!(app.get("/api/reports/", Some(&access)).await.status, StatusCode::FORBIDDEN);
    ok(&["roles", "grant", "analyst", "reports.view", "reports.export"]);
    assert_eq!(app.get("/api/reports/", Some(&access)).await.status, StatusCode::OK);

    let users = ok(&["users", "list", "--search", "BO"]);
    assert_eq!(users.trim(), format!("{bob}\tbob\t\tactive\tanalyst"));
    ok(&["users", "deactivate", &bob]);
    // Another process made the change: the server's short user cache (1 s) lets it
    // through within that time; its guarded routes saw it at once.
    assert_eq!(app.get("/api/reports/", Some(&access)).await.body["code"], "user_inactive");
    let inactive = eventually(Duration::from_secs(3), || async {
        app.get("/protected-resource/", Some(&access)).await.body["code"] == "user_inactive"
    })
    .await;
    assert!(inactive);
    ok(&["users", "activate", "bob"]);
    app.login("bob").await;
    assert_eq!(ok(&["users", "remove-role", "bob", "analyst"]).trim(), "bob now has roles: .");

    assert_eq!(
        fails(&["roles", "create", "Bad Name"]),
        "error: name: Enter a valid role name: 1 to 64 characters of lower-case letters, digits, \"_\", \".\" and \"-\"."
    );
    assert_eq!(fails(&["users", "assign-role", "nobody", "analyst"]), "error: no such user");
    assert_eq!(
        fails(&["users", "assign-role", "bob", "ghost"]),
        "error: roles: Object with name=ghost does not exist."
    );
    assert_eq!(fails(&["roles", "delete", "admin"]), "error: The built-in role \"admin\" cannot be deleted.");
    assert_eq!(fails(&["roles", "grant", "ghost", "x.y"]), "error: no such role");
    assert_eq!(ok(&["roles", "delete", "analyst"]).trim(), "Role analyst deleted.");

    // Every change is in the audit log, marked as coming from the command line.
    let query = authenticon::auth::audit::AuditQuery {
        user: Some("bob".into()),
        event: Some("roles_assigned".into()),
        ..Default::default()
    };
    let page = app.state.audit.list(&query, 0, 100).await.unwrap();
    assert_eq!(page.count, 2);
    assert!(page.rows.iter().all(|r| r.user_agent == "authenticon-cli" && r.actor_id.is_none()));
}

#[tokio::test]
async fn operators_rotate_keys_from_the_command_line() {
    let (_db, url) = temp_db();
    let keys = |args: &[&str]| {
        let mut cmd = authenticon(&url);
        cmd.env("AUTHENTICON_JWT_ALGORITHM", "EdDSA")
            .env("AUTHENTICON_SECRET_KEY", SECRET)
            .arg("keys")
            .args(args);
        run(&mut cmd)
    };
    let out = keys(&["generate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let kid = text(&out.stdout).split_whitespace().nth(1).unwrap().to_string();
    assert!(text(&out.stdout).contains("generated and published"));
    let listed = text(&keys(&["list"]).stdout);
    assert!(listed.contains(&format!("{kid}\tEdDSA\tpublished")), "{listed}");

    let out = keys(&["activate", &kid]);
    assert!(out.status.success(), "activate: {}{}", text(&out.stdout), text(&out.stderr));
    let listed = text(&keys(&["list"]).stdout);
    assert!(listed.contains(&format!("{kid}\tEdDSA\tactive")), "{listed}");
    let out = keys(&["retire", &kid]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("is the signing key"), "{}", text(&out.stderr));
    let out = keys(&["activate", "no-such-kid"]);
    assert_eq!(out.status.code(), Some(1));
    let out = keys(&["generate", "--algorithm", "HS256"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("expected RS256, ES256 or EdDSA"));

    // A server on this database signs with the activated key and publishes it.
    let server = serve(&url, &[("AUTHENTICON_JWT_ALGORITHM", "EdDSA"), ("AUTHENTICON_SECRET_KEY", SECRET)]);
    let body: serde_json::Value =
        reqwest::get(format!("{}/.well-known/jwks.json", server.url)).await.unwrap().json().await.unwrap();
    let (status, log) = server.terminate();
    assert_eq!(body["keys"][0]["kid"], json!(kid), "{body}\n{log}");
    assert!(status.success(), "{log}");
}

/// Registers alice with an address, which queues her verification mail.
async fn register_alice_with_email(server: &Server) {
    let r = crate::support::new_client()
        .post(format!("{}/register/", server.url))
        .json(&json!({"username": "alice", "password": PASSWORD, "email": "alice@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_graceful_shutdown_waits_for_mails_still_being_sent() {
    let (_db, url) = temp_db();
    // The mail server takes two seconds to accept a sender: without the wait, the
    // process would be gone before the mail is handed over.
    let sink = SmtpSink::start_slow(2);
    let server = serve(&url, &[("AUTHENTICON_SMTP_URL", &sink.url())]);
    register_alice_with_email(&server).await;
    tokio::time::sleep(Duration::from_millis(200)).await; // the send has started
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("waiting for mails still being sent"), "{log}");
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "the verification mail was delivered before exit: {log}");
    assert_eq!(mails[0]["to"], json!(["alice@example.com"]));
}

#[tokio::test]
async fn mails_queued_before_a_restart_are_sent_after_it() {
    let (_db, url) = temp_db();
    // The first process meets no mail server and stops with the mail still queued.
    let port = unused_port();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let server = serve(&url, &[("AUTHENTICON_SMTP_URL", &smtp)]);
    register_alice_with_email(&server).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("mail not sent; will try again"), "{log}");

    // The next one, with the mail server back, sends it.
    let sink = SmtpSink::start_on(port);
    let server = serve(&url, &[("AUTHENTICON_SMTP_URL", &smtp)]);
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0]["to"], json!(["alice@example.com"]));
    assert_eq!(mails[0]["subject"], "Confirm your email address");
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert_eq!(sink.mails().len(), 1, "sent once");
}

#[tokio::test]
async fn metrics_are_served_on_their_own_address_when_configured() {
    let (_db, url) = temp_db();
    let server = serve(&url, &[("AUTHENTICON_METRICS_BIND", "127.0.0.1:0")]);
    let logged = eventually(Duration::from_secs(10), || async {
        server.log.lock().unwrap().iter().any(|l| l.contains("metrics on their own address"))
    })
    .await;
    assert!(logged);
    let log = server.log.lock().unwrap().join("\n");
    let addr = log
        .split("metrics on their own address")
        .nth(1)
        .and_then(|rest| rest.split("addr=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no metrics address in:\n{log}"));
    let r = reqwest::get(format!("http://{addr}/metrics")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("authenticon_"));
    let r = reqwest::get(format!("{}/metrics", server.url)).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (status, _) = server.terminate();
    assert!(status.success());
}

/// A server logging JSON lines, and an access token of alice's from it (not used yet).
async fn logging_json_with_alice_signed_in(url: &str, level: &str) -> (Server, reqwest::Client, String) {
    let server = serve(url, &[("AUTHENTICON_LOG_FORMAT", "json"), ("AUTHENTICON_LOG", level)]);
    let client = crate::support::new_client();
    let body = json!({"username": "alice", "password": PASSWORD});
    client.post(format!("{}/register/", server.url)).json(&body).send().await.unwrap();
    let pair: serde_json::Value = client
        .post(format!("{}/api/token/", server.url))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (server, client, str_of(&pair["access"]))
}

#[tokio::test]
async fn json_logs_give_one_line_per_request_with_its_user() {
    let (_db, url) = temp_db();
    let (server, client, access) = logging_json_with_alice_signed_in(&url, "info").await;
    let user_id = str_of(&parts(&access).1["user_id"]);
    let r = client
        .get(format!("{}/protected-resource/", server.url))
        .bearer_auth(&access)
        .header("x-request-id", "trace-json-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A GET that is not one of the hot reads (this one would sign someone in) runs in a
    // span: what it logs on its way carries the request id.
    let r = client
        .get(format!("{}/oauth/external/nowhere/callback?state=x&code=y", server.url))
        .header("x-request-id", "trace-json-2")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection() || r.status().is_client_error(), "{}", r.status());
    let (_, log) = server.terminate();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    let line = lines
        .iter()
        .find(|l| l["message"] == "request" && l["request_id"] == "trace-json-1")
        .unwrap_or_else(|| panic!("no request line in:\n{log}"));
    assert_eq!(line["route"], "/protected-resource/");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["user_id"], json!(user_id));
    // Every request line has the same shape, reads and changes alike.
    let login = lines
        .iter()
        .find(|l| l["message"] == "request" && l["route"] == "/api/token/")
        .unwrap_or_else(|| panic!("no login line in:\n{log}"));
    assert_eq!((&login["method"], &login["status"]), (&json!("POST"), &json!(200)));
    let failed = lines
        .iter()
        .find(|l| l["message"] == "external sign-in failed")
        .unwrap_or_else(|| panic!("no sign-in failure in:\n{log}"));
    assert_eq!(failed["span"]["request_id"], "trace-json-2", "{failed}");
    // The hot read ran without one: its request line is all it logged.
    assert!(lines.iter().all(|l| l["span"]["request_id"] != "trace-json-1"), "{log}");
    assert!(
        login["request_id"].as_str().is_some_and(|id| id.len() == 36) && login.get("span").is_none(),
        "{login}"
    );
    assert_eq!(line["status"], 200);
    assert!(line["duration_ms"].as_f64().is_some());
    assert!(!log.contains(&access) && !log.contains(PASSWORD));
}

#[tokio::test]
async fn a_hot_reads_fault_is_logged_with_its_request_id() {
    // Also where the log filter leaves out every request span (and line): all but the
    // line that says where the server listens.
    for level in ["info", "warn,authenticon::cli=info"] {
        let (_db, url) = temp_db();
        let (server, client, access) = logging_json_with_alice_signed_in(&url, level).await;
        // The tables a first use of the token (and a sign-in) reads, taken away from under
        // the server.
        for table in ["sessions", "users"] {
            execute_on(&url, &format!("ALTER TABLE {table} RENAME TO {table}_gone")).await;
        }
        let r = client
            .get(format!("{}/api/me/", server.url))
            .bearer_auth(&access)
            .header("x-request-id", "trace-fault-1")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_server_error(), "{}", r.status());
        // A route that runs in a span (when the filter keeps it).
        let r = client
            .post(format!("{}/api/token/", server.url))
            .json(&json!({"username": "alice", "password": PASSWORD}))
            .header("x-request-id", "trace-fault-2")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_server_error(), "{}", r.status());
        let (_, log) = server.terminate();
        let lines: Vec<serde_json::Value> =
            log.lines().filter(|l| l.starts_with('{')).filter_map(|l| serde_json::from_str(l).ok()).collect();
        let faults: Vec<_> = lines
            .iter()
            .filter(|l| l["message"] == "internal error" || l["message"] == "dependency unavailable")
            .collect();
        // One line each, never lost; the hot read's names its request as a field of its
        // own (no span carries the id there).
        assert_eq!(faults.len(), 2, "{level}: {log}");
        assert_eq!(
            (&faults[0]["request_id"], &faults[0]["level"]),
            (&json!("trace-fault-1"), &json!("ERROR")),
            "{level}"
        );
        // The other's is logged where it happens, in its span (none under the filter).
        let spanned = if level == "info" { json!("trace-fault-2") } else { serde_json::Value::Null };
        assert_eq!(faults[1]["span"]["request_id"], spanned, "{level}: {log}");
        assert!(faults[1].get("request_id").is_none(), "{level}: {log}");
    }
}

#[test]
fn check_reports_what_it_finds_and_fails_on_problems() {
    let (_db, url) = temp_db();
    assert!(run(authenticon(&url).arg("migrate")).status.success());
    let out = run(authenticon(&url).arg("check"));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("ok    database: reachable"), "{stdout}");
    assert!(stdout.contains("ok    schema: migrated"), "{stdout}");
    assert!(
        stdout.contains("ok    public URL: http://127.0.0.1:8000 (links in mails, passkeys)"),
        "{stdout}"
    );
    assert!(stdout.contains("ok    mail: by .eml files in "), "{stdout}");
    assert!(stdout.contains("WARN  mail: no AUTHENTICON_SMTP_URL, so mails"), "{stdout}");
    assert!(stdout.contains("; 0 waiting in the outbox"), "{stdout}");
    assert!(stdout.trim_end().ends_with("System check identified no issues."), "{stdout}");

    // Behind a proxy, the bind address is not what users open: a warning, not a failure.
    let out = run(authenticon(&url).env("AUTHENTICON_TRUSTED_PROXIES", "10.0.0.0/8").arg("check"));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(
            "WARN  public URL: AUTHENTICON_PUBLIC_URL is not set, but AUTHENTICON_TRUSTED_PROXIES is"
        ),
        "{stdout}"
    );
    let out = run(authenticon(&url)
        .env("AUTHENTICON_TRUSTED_PROXIES", "10.0.0.0/8")
        .env("AUTHENTICON_PUBLIC_URL", "https://auth.example.com")
        .arg("check"));
    assert!(
        text(&out.stdout).contains("ok    public URL: https://auth.example.com"),
        "{}",
        text(&out.stdout)
    );

    let out = run(authenticon(&url).env("AUTHENTICON_REDIS_URL", "redis://127.0.0.1:1").arg("check"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("ERROR redis:"), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("system check identified 1 issue(s)"));

    let dead = "postgres://postgres@127.0.0.1:1/nowhere";
    let out = run(authenticon(dead)
        .env("AUTHENTICON_SECRET_KEY", SECRET)
        .env("AUTHENTICON_DB_ACQUIRE_TIMEOUT", "1s")
        .arg("check"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("ERROR database:"), "{}", text(&out.stdout));
}

#[tokio::test]
async fn healthcheck_asks_readyz_at_the_bind_address_and_fails_without_an_answer() {
    let (_dir, db) = temp_db();
    // A wildcard bind, as in the container image: the check asks loopback.
    let bind = format!("0.0.0.0:{}", unused_port());
    let server = serve(&db, &[("AUTHENTICON_BIND", &bind)]);
    let check = |extra: &[(&str, &str)], args: &[&str]| {
        let mut cmd = authenticon("sqlite::memory:");
        cmd.env("AUTHENTICON_BIND", &bind).arg("healthcheck").args(args);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        run(&mut cmd)
    };
    let port = bind.rsplit(':').next().unwrap().to_string();
    let out = check(&[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), format!("http://127.0.0.1:{port}/readyz: ready"));
    // A proxy named by the environment does not answer for the server.
    let proxy = format!("http://127.0.0.1:{}", unused_port());
    let out = check(&[("HTTP_PROXY", &proxy), ("http_proxy", &proxy), ("ALL_PROXY", &proxy)], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Anything but a 200 is a failure, with the status in the one line.
    let me = format!("http://127.0.0.1:{port}/api/me/");
    let out = check(&[], &["--url", &me]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.starts_with(&format!("error: {me}: not ready: 401 Unauthorized")), "{err}");

    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    let out = check(&[], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("http://127.0.0.1:{port}/readyz: no answer")),
        "{}",
        text(&out.stderr)
    );
}

/// A loopback server that answers every connection with `reply` (or, given `None`,
/// nothing) and then keeps it open without another byte; its URL.
fn canned_server(reply: Option<&'static str>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/readyz", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut stream in listener.incoming().map_while(Result::ok) {
            if let Some(reply) = reply {
                use std::io::{Read, Write};
                let _ = stream.read(&mut [0u8; 4096]);
                let _ = stream.write_all(reply.as_bytes());
            }
            held.push(stream); // never closed
        }
    });
    url
}

#[test]
fn healthcheck_follows_no_redirect_and_gives_up_on_a_silent_server() {
    let check = |url: &str| run(authenticon("sqlite::memory:").args(["healthcheck", "--url", url]));
    // A redirect to a ready server is not readiness: the answer is the 302.
    let redirect = "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/readyz\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let url = canned_server(Some(redirect));
    let out = check(&url);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(&format!("error: {url}: not ready: 302 Found")),
        "{}",
        text(&out.stderr)
    );
    // A long body with line breaks is shown as one short line, from its first bytes: the
    // rest never comes, so a check reading the whole body would wait out its time limit.
    let noisy = Box::leak(
        format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100000\r\n\r\nline one\nline two\n{}",
            "x".repeat(282)
        )
        .into_boxed_str(),
    );
    let started = std::time::Instant::now();
    let out = check(&canned_server(Some(noisy)));
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    let err = text(&out.stderr);
    assert_eq!((out.status.code(), err.trim_end().lines().count()), (Some(1), 1), "{err}");
    assert!(
        err.contains("not ready: 503 Service Unavailable line one line two xxx") && err.len() < 400,
        "{err}"
    );
    // A server that accepts and never answers: a failure within the time limit, not a hang.
    let started = std::time::Instant::now();
    let out = check(&canned_server(None));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no answer"), "{}", text(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    // the image gives it 6 s
}
