//! `authenticon import-django`: users and groups from a dumpdata export keep their
//! passwords (each Django hasher) and move to Argon2id at their first login.

use std::process::Command;

use argon2::PasswordHasher;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Digest;

use crate::support::*;

fn pbkdf2(password: &str) -> String {
    let mut derived = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), b"seasalt", 1_000, &mut derived);
    format!("pbkdf2_sha256$1000$seasalt${}", base64::engine::general_purpose::STANDARD.encode(derived))
}

fn django_argon2(password: &str) -> String {
    let phc = argon2::Argon2::default().hash_password(password.as_bytes()).unwrap().to_string();
    format!("argon2{phc}")
}

fn user(pk: u32, username: &str, password: String, extra: Value) -> Value {
    let mut fields = json!({
        "password": password,
        "last_login": "2026-10-01T12:00:00.123Z",
        "is_superuser": false,
        "username": username,
        "first_name": "",
        "last_name": "",
        "email": format!("{username}@example.com"),
        "is_staff": false,
        "is_active": true,
        "date_joined": "2025-01-02T03:04:05.678Z",
        "groups": [],
        "user_permissions": []
    });
    for (k, v) in extra.as_object().unwrap() {
        fields[k] = v.clone();
    }
    json!({"model": "auth.user", "pk": pk, "fields": fields})
}

/// A dumpdata-shaped export (`--indent 2`), and the line each record starts on.
fn export() -> String {
    let bcrypt_plain = format!("bcrypt${}", bcrypt::hash(PASSWORD, 4).unwrap());
    let sha = hex::encode(sha2::Sha256::digest(PASSWORD.as_bytes()));
    let bcrypt_sha = format!("bcrypt_sha256${}", bcrypt::hash(sha, 4).unwrap());
    let records = json!([
        {"model": "auth.group", "pk": 1, "fields": {"name": "Support Team", "permissions": []}},
        {"model": "auth.group", "pk": 2, "fields": {"name": "editors", "permissions": []}},
        user(1, "alice", pbkdf2(PASSWORD), json!({"groups": [1, 2]})),
        user(2, "bob", bcrypt_plain, json!({})),
        user(3, "carol", bcrypt_sha, json!({"last_login": null})),
        user(4, "dave", django_argon2(PASSWORD), json!({"is_superuser": true})),
        user(5, "eve", pbkdf2(PASSWORD), json!({"is_active": false})),
        user(6, "bad name!", pbkdf2(PASSWORD), json!({})),
        user(7, "mallory", "md5$salt$5f4dcc3b5aa765d61d8327deb882cf99".into(), json!({})),
        {"model": "contenttypes.contenttype", "pk": 1, "fields": {"app_label": "auth", "model": "user"}}
    ]);
    serde_json::to_string_pretty(&records).unwrap()
}

fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).unwrap();
    // The record starts at the `{` before its first field.
    let start = text[..at].rfind("\n  {").unwrap();
    text[..start + 1].matches('\n').count() + 1
}

fn import(db: &str, path: &std::path::Path) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authenticon"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AUTHENTICON_DATABASE_URL", db);
    cmd.env("AUTHENTICON_SECRET_KEY", SECRET).args(["import-django"]).arg(path).output().unwrap()
}

#[tokio::test]
async fn a_django_user_base_moves_over_and_logs_in_unchanged() {
    let app = spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let text = export();
    let path = dir.path().join("dump.json");
    std::fs::write(&path, &text).unwrap();

    let out = import(&app.database_url, &path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!(
            "Imported from {}: 5 user(s) created, 0 updated, 3 skipped; 2 role(s) created from groups.",
            path.display()
        )
    );
    let p = path.display();
    assert!(
        stderr.contains(&format!("{p}:{}: skipped: username \"bad name!\"", line_of(&text, "\"bad name!\""))),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{p}:{}: skipped: user \"mallory\": password hasher \"md5\"",
            line_of(&text, "\"mallory\"")
        )),
        "{stderr}"
    );
    assert!(stderr.contains("contenttypes.contenttype"), "{stderr}");

    // Each hasher's users log in with their old password, and move to Argon2id.
    for name in ["alice", "bob", "carol", "dave"] {
        let before = app.state.store.user_by_username_key(name).await.unwrap().unwrap();
        assert!(!before.password_hash.starts_with("$argon2id$v=19$m=19456"), "{name}");
        app.login(name).await;
        let after = app.state.store.user_by_username_key(name).await.unwrap().unwrap();
        assert!(
            after.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{name}: {}",
            after.password_hash
        );
        app.login(name).await;
    }
    let r = app.post("/api/token/", json!({"username": "bob", "password": "wrong password"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.post("/api/token/", json!({"username": "eve", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "inactive stays inactive");

    // Groups became roles; flags and dates came along.
    let (access, _) = app.login("alice").await;
    let me = app.get("/api/me/", Some(&access)).await.body;
    assert_eq!(me["roles"], json!(["editors", "support-team"]));
    assert_eq!(me["date_joined"], "2025-01-02T03:04:05Z");
    let (dave, _) = app.login("dave").await;
    assert_eq!(app.get("/api/me/", Some(&dave)).await.body["is_superuser"], true);
    let carol = app.state.store.user_by_username_key("carol").await.unwrap().unwrap();
    assert!(carol.last_login.is_some(), "set by the login above");

    // Again: nothing is created twice, and a password changed here is not reverted.
    let out = import(&app.database_url, &path);
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("0 user(s) created, 5 updated, 3 skipped; 0 role(s) created"));
    let (_, refresh) = app.login("alice").await;

    // A record deactivated in Django since: importing it again ends the account's
    // sessions here, as a deactivation here does.
    let mut records: Value = serde_json::from_str(&text).unwrap();
    for record in records.as_array_mut().unwrap() {
        if record["fields"]["username"] == "alice" {
            record["fields"]["is_active"] = json!(false);
        }
    }
    std::fs::write(&path, serde_json::to_string_pretty(&records).unwrap()).unwrap();
    let alice = app.state.store.user_by_username_key("alice").await.unwrap().unwrap().id;
    let now = app.state.clock.now();
    assert!(!app.state.store.list_sessions(&alice, now).await.unwrap().is_empty());
    assert!(import(&app.database_url, &path).status.success());
    assert_eq!(app.state.store.list_sessions(&alice, now).await.unwrap().len(), 0, "her sessions ended");
    let r = app.post("/api/token/refresh/", json!({"refresh": refresh})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

#[tokio::test]
async fn a_corrupt_file_stops_before_any_write() {
    let app = spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    let mut text = export();
    text.truncate(text.len() / 2);
    std::fs::write(&path, text).unwrap();
    let out = import(&app.database_url, &path);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: {}: not a Django dumpdata file: line ", path.display())),
        "{stderr}"
    );
    assert!(app.state.store.user_by_username_key("alice").await.unwrap().is_none());
    assert_eq!(app.state.store.list_roles().await.unwrap().len(), 1);
}

#[tokio::test]
async fn users_that_are_one_here_hostile_costs_and_an_admin_group_are_refused() {
    let app = spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let records = json!([
        {"model": "auth.group", "pk": 1, "fields": {"name": "Admin", "permissions": []}},
        user(1, "alice", pbkdf2(PASSWORD), json!({"groups": [1]})),
        user(2, "Alice", pbkdf2("another long passphrase"), json!({})),
        user(3, "ＡＬＩＣＥ", pbkdf2("a third long passphrase"), json!({})),
        user(4, "slow", "bcrypt$$2b$31$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234".into(), json!({})),
        user(5, "huge", "argon2$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(), json!({})),
        user(6, "frank", pbkdf2(PASSWORD), json!({"groups": [1]})),
    ]);
    let text = serde_json::to_string_pretty(&records).unwrap();
    let path = dir.path().join("dump.json");
    std::fs::write(&path, &text).unwrap();
    let out = import(&app.database_url, &path);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("1 user(s) created, 0 updated, 5 skipped; 0 role(s) created"), "{stdout}");
    // Neither of the three colliding names got in: one would have taken the others over.
    assert!(stderr.contains(r#""alice", "Alice", "ＡＬＩＣＥ" are one user here"#), "{stderr}");
    assert!(app.state.store.user_by_username_key("alice").await.unwrap().is_none());
    assert!(stderr.contains("bcrypt cost 31 over 16"), "{stderr}");
    assert!(stderr.contains("argon2 m=4194304,t=2,p=1 over"), "{stderr}");
    assert!(stderr.contains(r#"group "Admin" would become the built-in "admin" role"#), "{stderr}");
    // frank came in, without the admin role.
    let (access, _) = app.login("frank").await;
    assert_eq!(app.get("/api/me/", Some(&access)).await.body["roles"], json!([]));
    // Asked for by the flag, the group maps.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authenticon"));
    let out = cmd
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AUTHENTICON_DATABASE_URL", &app.database_url)
        .env("AUTHENTICON_SECRET_KEY", SECRET)
        .args(["import-django", "--admin-group"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let frank = app.state.accounts.find_user("frank").await.unwrap();
    assert_eq!(frank.roles, vec!["admin".to_string()]);
}

#[tokio::test]
async fn unusable_and_legacy_hashes_answer_no_sooner_than_a_wrong_password() {
    // Throttles off: the timing needs more tries than they allow.
    let app = spawn_with(|c| {
        c.throttle.login_per_user_and_address = 0;
        c.throttle.login_per_user = 0;
        c.throttle.login_per_address = 0;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cheap = {
        let mut derived = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(PASSWORD.as_bytes(), b"seasalt", 1, &mut derived);
        format!("pbkdf2_sha256$1$seasalt${}", base64::engine::general_purpose::STANDARD.encode(derived))
    };
    let records = json!([
        user(1, "unusable", "!abcdefghijklmnopqrstuvwxyz0123456789ABCD".into(), json!({})),
        user(2, "cheap", cheap, json!({})),
    ]);
    let path = dir.path().join("dump.json");
    std::fs::write(&path, serde_json::to_string_pretty(&records).unwrap()).unwrap();
    assert!(import(&app.database_url, &path).status.success());
    app.register("normal").await;
    // Interleaved, so the machine's noise falls on all three alike; medians.
    let names = ["normal", "unusable", "cheap"];
    let mut runs: Vec<Vec<std::time::Duration>> = vec![Vec::new(); names.len()];
    for _ in 0..9 {
        for (i, name) in names.iter().enumerate() {
            let started = std::time::Instant::now();
            let r = app.post("/api/token/", json!({"username": name, "password": "not the password"})).await;
            runs[i].push(started.elapsed());
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
    }
    let median = |mut v: Vec<std::time::Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut medians = runs.into_iter().map(median);
    let normal = medians.next().unwrap();
    for (name, t) in ["unusable", "cheap"].into_iter().zip(medians) {
        // At least the dummy Argon2 check (without it these answer in well under a tenth
        // of the time): no faster "no" tells these accounts apart.
        assert!(t * 10 >= normal * 4, "{name}: median {t:?} against {normal:?}");
    }
}

#[tokio::test]
async fn a_name_registered_here_first_is_not_given_the_django_account() {
    let app = spawn().await;
    // Someone registers the name before the import runs.
    let r =
        app.post("/register/", json!({"username": "ADMIN", "password": "the squatter's passphrase"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let dir = tempfile::tempdir().unwrap();
    let records = json!([user(1, "admin", pbkdf2(PASSWORD), json!({"is_superuser": true}))]);
    let path = dir.path().join("dump.json");
    std::fs::write(&path, serde_json::to_string_pretty(&records).unwrap()).unwrap();
    let out = import(&app.database_url, &path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 user(s) created, 0 updated, 1 skipped"),
        "{stderr}"
    );
    assert!(stderr.contains("is an account here that no import of this record made"), "{stderr}");
    let (access, _) = app.login_with("ADMIN", "the squatter's passphrase").await;
    assert_eq!(app.get("/api/me/", Some(&access)).await.body["is_superuser"], false);
    // The import's own accounts are still updated by a second run of the same file.
    let other = json!([user(2, "grace", pbkdf2(PASSWORD), json!({}))]);
    std::fs::write(&path, serde_json::to_string_pretty(&other).unwrap()).unwrap();
    assert!(String::from_utf8_lossy(&import(&app.database_url, &path).stdout).contains("1 user(s) created"));
    assert!(String::from_utf8_lossy(&import(&app.database_url, &path).stdout)
        .contains("0 user(s) created, 1 updated"));
}
