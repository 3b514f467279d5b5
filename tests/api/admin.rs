//! The administrators' API beyond editing a user: creating users (with an invitation),
//! the list's filters and order, a user's sessions, factors and lockouts, reset links,
//! role holders and permissions, and the audit log's filters, CSV export and overview.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>, token: &str) -> Reply {
    app.request(method, path, body, Some(token)).await
}

/// A delegate holding `users.view` and `users.manage` only.
pub async fn delegate(app: &TestApp, root: &str, name: &str) -> (String, String) {
    let r = call(
        app,
        Method::POST,
        "/api/roles/",
        Some(json!({"name": "helpdesk", "permissions": ["users.view", "users.manage"]})),
        root,
    )
    .await;
    assert!(r.status == StatusCode::CREATED || r.status == StatusCode::BAD_REQUEST, "{}", r.body);
    let (id, _, _) = app.user_with_tokens(name).await;
    let r = call(
        app,
        Method::PUT,
        &format!("/api/users/{id}/roles/"),
        Some(json!({"roles": ["helpdesk"]})),
        root,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (access, _) = app.login(name).await;
    (id, access)
}

#[tokio::test]
async fn an_administrator_creates_a_user_with_a_password_and_roles_within_their_own() {
    let app = spawn().await;
    let (_, root) = superuser(&app, "root").await;
    call(
        &app,
        Method::POST,
        "/api/roles/",
        Some(json!({"name": "analyst", "permissions": ["reports.view"]})),
        &root,
    )
    .await;
    let body =
        json!({"username": "dora", "email": "dora@example.com", "password": PASSWORD, "roles": ["analyst"]});
    let r = call(&app, Method::POST, "/api/users/", Some(body), &root).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (&r.body["username"], &r.body["roles"], &r.body["has_2fa"]),
        (&json!("dora"), &json!(["analyst"]), &json!(false))
    );
    let (access, _) = app.login("dora").await;
    assert_eq!(app.get("/api/reports/", Some(&access)).await.status, StatusCode::OK);

    // The validators and the name rule answer as at registration; no password and no
    // invitation is refused.
    let r =
        call(&app, Method::POST, "/api/users/", Some(json!({"username": "dora", "password": "123"})), &root)
            .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["username"], json!(["A user with that username already exists."]));
    assert!(r.body["password"].as_array().is_some_and(|m| m.len() >= 2), "{}", r.body);
    let r = call(&app, Method::POST, "/api/users/", Some(json!({"username": "erin"})), &root).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"password": ["Give a password, or send an invitation to choose one."]})
        )
    );

    // A delegate cannot make anyone an analyst (it does not hold reports.view), and the
    // refusal leaves no user behind.
    let (_, helpdesk) = delegate(&app, &root, "harry").await;
    let body = json!({"username": "frank", "password": PASSWORD, "roles": ["analyst"]});
    let r = call(&app, Method::POST, "/api/users/", Some(body), &helpdesk).await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (StatusCode::FORBIDDEN, &json!("permission_denied")),
        "{}",
        r.body
    );
    let r = call(&app, Method::GET, "/api/users/?search=frank", None, &root).await;
    assert_eq!(r.body["count"], json!(0));
}

#[tokio::test]
async fn an_invited_user_chooses_a_password_by_the_mailed_link() {
    let (app, sink) = with_mail(|_| {}).await;
    let (_, root) = superuser(&app, "root").await;
    let body = json!({"username": "gail", "email": "gail@example.com", "send_invitation": true});
    let r = call(&app, Method::POST, "/api/users/", Some(body), &root).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // No password works yet.
    let r = app.post("/api/token/", json!({"username": "gail", "password": ""})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0]["to"], json!(["gail@example.com"]));
    assert!(str_of(&mails[0]["subject"]).contains("choose your password"), "{}", mails[0]);
    let token = token_in(&mails[0], "reset-password");
    // The link reads as valid before the form is shown, and is not spent by asking.
    for _ in 0..2 {
        let r = app.post("/api/password-reset/check/", json!({"token": token})).await;
        assert_eq!((r.status, r.body), (StatusCode::OK, json!({"detail": "This link is valid."})));
    }
    let r = app.post("/api/password-reset/confirm/", json!({"token": token, "new_password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (access, _) = app.login("gail").await;
    // Following the link proved the address.
    assert_eq!(app.get("/api/me/", Some(&access)).await.body["email_verified"], json!(true));
    let r = app.post("/api/password-reset/check/", json!({"token": token})).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"token": ["This link is invalid or has expired."]}))
    );
    // An invitation the clock outran is dead too (seven days by default).
    let body = json!({"username": "hank", "email": "hank@example.com", "send_invitation": true});
    assert_eq!(call(&app, Method::POST, "/api/users/", Some(body), &root).await.status, StatusCode::CREATED);
    let mails = sink.wait_for(3).await;
    let to_hank = mails.iter().find(|m| m["to"] == json!(["hank@example.com"])).expect("hank's invitation");
    let token = token_in(to_hank, "reset-password");
    app.clock.advance(7 * 86_400 + 1);
    let r = app.post("/api/password-reset/check/", json!({"token": token})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_user_list_filters_and_orders_as_asked() {
    let app = spawn().await;
    let (root_id, root) = superuser(&app, "root").await;
    for name in ["carol", "alice", "bob"] {
        app.register(name).await;
    }
    app.login("bob").await;
    let names = |r: &Reply| -> Vec<String> {
        r.body["results"].as_array().unwrap().iter().map(|u| str_of(&u["username"])).collect()
    };
    let list = |q: &'static str| call(&app, Method::GET, q, None, &root);
    assert_eq!(names(&list("/api/users/").await), ["alice", "bob", "carol", "root"]);
    assert_eq!(names(&list("/api/users/?ordering=-username").await), ["root", "carol", "bob", "alice"]);
    // Never signed in: last, whichever way.
    let by_login = names(&list("/api/users/?ordering=-last_login").await);
    assert_eq!(&by_login[2..], ["alice", "carol"]);
    assert_eq!(names(&list("/api/users/?is_superuser=true").await), ["root"]);
    assert_eq!(names(&list("/api/users/?is_superuser=false&search=o").await), ["bob", "carol"]);
    assert_eq!(names(&list("/api/users/?role=admin").await), Vec::<String>::new());
    call(
        &app,
        Method::PUT,
        &format!("/api/users/{root_id}/roles/"),
        Some(json!({"roles": ["admin"]})),
        &root,
    )
    .await;
    assert_eq!(names(&list("/api/users/?role=admin").await), ["root"]);
    assert_eq!(names(&list("/api/users/?has_2fa=true").await), Vec::<String>::new());
    assert_eq!(list("/api/users/?email_verified=false").await.body["count"], json!(4));
    let r = list("/api/users/?is_active=maybe&ordering=height").await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"is_active": ["Must be a valid boolean."],
                   "ordering": ["Select a valid choice. height is not one of the available choices."]})
        )
    );
}

#[tokio::test]
async fn an_administrator_ends_a_users_sessions_within_their_bounds() {
    let app = spawn().await;
    let (root_id, root) = superuser(&app, "root").await;
    let (alice_id, alice_access, _) = app.user_with_tokens("alice").await;
    app.login("alice").await;
    let path = format!("/api/users/{alice_id}/sessions/");
    let sessions = call(&app, Method::GET, &path, None, &root).await.body;
    let sessions = sessions.as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s["current"] == json!(false)));
    // One ended: its access token stops at once.
    let first = sessions.iter().find(|s| {
        let (_, claims) = parts(&alice_access);
        s["id"] == claims["sid"]
    });
    let sid = str_of(&first.unwrap()["id"]);
    let r = call(&app, Method::DELETE, &format!("{path}{sid}/"), None, &root).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/me/", Some(&alice_access)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        call(&app, Method::DELETE, &format!("{path}{sid}/"), None, &root).await.status,
        StatusCode::NOT_FOUND
    );
    // A delegate cannot end a superuser's sessions; the refusal is audited.
    let (_, helpdesk) = delegate(&app, &root, "harry").await;
    let r = call(&app, Method::POST, &format!("/api/users/{root_id}/sessions/revoke-all/"), None, &helpdesk)
        .await;
    assert_eq!((r.status, &r.body["code"]), (StatusCode::FORBIDDEN, &json!("permission_denied")));
    let denied = call(&app, Method::GET, "/api/audit/?event=permission_denied", None, &root).await;
    assert_eq!(denied.body["results"][0]["detail"]["action"], json!("session_revoke"));
    // All of alice's, by the delegate.
    let r = call(&app, Method::POST, &format!("{path}revoke-all/"), None, &helpdesk).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(call(&app, Method::GET, &path, None, &root).await.body, json!([]));
}

#[tokio::test]
async fn an_administrator_sees_and_lifts_a_login_lockout() {
    let app = spawn_with(|c| {
        localhost_trusted(c);
        c.throttle.login_per_user = 3;
    })
    .await;
    let (_, root) = superuser(&app, "root").await;
    let (alice_id, _, _) = app.user_with_tokens("alice").await;
    for i in 0..3 {
        assert_eq!(login_from(&app, &format!("203.0.113.{i}"), "wrong").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login_from(&app, "203.0.113.9", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    let security = format!("/api/users/{alice_id}/security/");
    let r = call(&app, Method::GET, &security, None, &root).await;
    assert_eq!(
        r.body,
        json!({"totp": false, "passkeys": [], "recovery_codes_left": 0, "totp_locked_until": null,
               "login_failures": 3, "login_locked": true})
    );
    let r = call(&app, Method::DELETE, &format!("/api/users/{alice_id}/lockouts/"), None, &root).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(login_from(&app, "203.0.113.9", PASSWORD).await, StatusCode::OK);
    let r = call(&app, Method::GET, &security, None, &root).await;
    assert_eq!((&r.body["login_failures"], &r.body["login_locked"]), (&json!(0), &json!(false)));
    let r =
        call(&app, Method::GET, &format!("/api/audit/?user={alice_id}&event=lockout_cleared"), None, &root)
            .await;
    assert_eq!(r.body["count"], json!(1));
}

#[tokio::test]
async fn a_reset_link_goes_only_to_a_verified_address() {
    let (app, sink) = with_mail(|_| {}).await;
    let (_, root) = superuser(&app, "root").await;
    let ivy = register_verified(&app, &sink, "ivy", "ivy@example.com").await;
    let path = format!("/api/users/{}/password-reset/", str_of(&ivy["id"]));
    let r = call(&app, Method::POST, &path, None, &root).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let mails = sink.wait_for(2).await;
    assert_eq!(mails[1]["to"], json!(["ivy@example.com"]));
    token_in(&mails[1], "reset-password");
    let jack = app.register("jack").await;
    let r =
        call(&app, Method::POST, &format!("/api/users/{}/password-reset/", str_of(&jack["id"])), None, &root)
            .await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "This user has no verified email address to send a link to."})
        )
    );
}

#[tokio::test]
async fn roles_show_their_holders_and_the_permissions_to_pick_from() {
    let app = spawn().await;
    let (root_id, root) = superuser(&app, "root").await;
    call(
        &app,
        Method::POST,
        "/api/roles/",
        Some(json!({"name": "analyst", "permissions": ["reports.view"]})),
        &root,
    )
    .await;
    call(
        &app,
        Method::PUT,
        &format!("/api/users/{root_id}/roles/"),
        Some(json!({"roles": ["analyst"]})),
        &root,
    )
    .await;
    // Asked for, each role says how many hold it; by default the shape is API.md's.
    let r = call(&app, Method::GET, "/api/roles/analyst/?holders=true", None, &root).await;
    assert_eq!(r.body["holders"], json!(1));
    let r = call(&app, Method::GET, "/api/roles/?holders=true", None, &root).await;
    let holders: Vec<(Value, Value)> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|role| (role["name"].clone(), role["holders"].clone()))
        .collect();
    assert_eq!(holders, [(json!("admin"), json!(0)), (json!("analyst"), json!(1))]);
    let r = call(&app, Method::GET, "/api/roles/analyst/", None, &root).await;
    assert!(r.body.get("holders").is_none(), "{}", r.body);
    let r = call(&app, Method::GET, "/api/permissions/", None, &root).await;
    assert_eq!(
        r.body,
        json!({"builtin": ["audit.view", "clients.manage", "roles.manage", "roles.view", "users.manage", "users.view", "webhooks.manage"],
               "in_use": ["audit.view", "reports.view", "roles.manage", "roles.view", "users.manage", "users.view"]})
    );
}

#[tokio::test]
async fn an_audit_page_over_a_time_range_holds_its_entries_newest_first_whatever_came_after() {
    let app = spawn().await;
    let (_, root) = superuser(&app, "root").await;
    app.user_with_tokens("alice").await;
    // Three logins a month ago, then three now.
    app.clock.advance(-30 * 86_400);
    for _ in 0..3 {
        app.login("alice").await;
    }
    app.clock.advance(30 * 86_400);
    for _ in 0..3 {
        app.login("alice").await;
    }
    let ids = |body: &Value| -> Vec<i64> {
        body["results"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect()
    };
    let logins = call(&app, Method::GET, "/api/audit/?event=login&page_size=100", None, &root).await.body;
    let all = ids(&logins);
    assert!(all.len() >= 6 && all.windows(2).all(|w| w[0] > w[1]), "{logins}");
    let last_month: Vec<i64> = logins["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["time"].as_str().unwrap() < time::OffsetDateTime::now_utc().date().to_string().as_str())
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(last_month.len(), 3, "{logins}");
    // Paged two at a time, by event and range, and by range alone: the month-old
    // logins, newest first, none skipped and none twice.
    let until = (time::OffsetDateTime::now_utc() - time::Duration::days(20)).date();
    for filter in [format!("event=login&until={until}"), format!("until={until}&user=alice")] {
        let first = call(&app, Method::GET, &format!("/api/audit/?{filter}&page_size=2"), None, &root).await;
        let second =
            call(&app, Method::GET, &format!("/api/audit/?{filter}&page_size=2&page=2"), None, &root).await;
        assert_eq!(
            (first.status, &first.body["count"]),
            (StatusCode::OK, &json!(3)),
            "{filter}: {}",
            first.body
        );
        assert_eq!([ids(&first.body), ids(&second.body)].concat(), last_month, "{filter}");
    }
    let r = call(
        &app,
        Method::GET,
        &format!("/api/audit/?event=login&until={}", until - time::Duration::days(30)),
        None,
        &root,
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::OK, json!({"count": 0, "next": null, "previous": null, "results": []}))
    );
}

#[tokio::test]
async fn the_audit_log_filters_by_actor_and_time_and_exports_csv() {
    let app = spawn().await;
    let (root_id, root) = superuser(&app, "root").await;
    let (alice_id, _, _) = app.user_with_tokens("-alice").await;
    let r = call(
        &app,
        Method::PATCH,
        &format!("/api/users/{alice_id}/"),
        Some(json!({"is_active": false})),
        &root,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // By actor: only the deactivation was root's doing; the entry names root.
    let r = call(&app, Method::GET, "/api/audit/?actor=root", None, &root).await;
    assert_eq!(r.body["count"], json!(1), "{}", r.body);
    let entry = &r.body["results"][0];
    assert_eq!(
        (&entry["event"], &entry["actor_id"], &entry["actor_username"]),
        (&json!("user_updated"), &json!(root_id), &json!("root"))
    );
    // By time: tomorrow holds nothing yet; today, everything.
    let today = time::OffsetDateTime::now_utc().date();
    let tomorrow = today.next_day().unwrap();
    let r = call(&app, Method::GET, &format!("/api/audit/?since={tomorrow}"), None, &root).await;
    assert_eq!(r.body["count"], json!(0));
    let all = call(&app, Method::GET, "/api/audit/", None, &root).await.body["count"].clone();
    let r = call(&app, Method::GET, &format!("/api/audit/?since={today}&until={today}"), None, &root).await;
    assert_eq!(r.body["count"], all);
    let r = call(&app, Method::GET, "/api/audit/?since=yesterday", None, &root).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"since": ["Enter a date (YYYY-MM-DD) or a date and time (RFC 3339)."]})
        )
    );
    let events = call(&app, Method::GET, "/api/audit/events/", None, &root).await.body;
    assert!(
        events.as_array().unwrap().len() >= 29
            && events.as_array().unwrap().contains(&json!("lockout_cleared"))
    );

    // The export: every entry (more than two of the export's pages of 500), a header,
    // formulas defused.
    for _ in 0..3 {
        app.login("root").await;
    }
    let now = authenticon::domain::Clock::now(app.clock.as_ref());
    let meta = authenticon::store::AuditMeta::default();
    for _ in 0..1_100 {
        let event = authenticon::store::AuditEvent::LoginFailed;
        app.state.store.record_audit(event, None, &json!({}), now, &meta).await.unwrap();
    }
    let resp =
        app.client.get(format!("{}/api/audit/export/", app.url)).bearer_auth(&root).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,time,event,user_id,username,actor_id,actor_username,ip,user_agent,detail");
    let count = call(&app, Method::GET, "/api/audit/", None, &root).await.body["count"].as_u64().unwrap();
    assert_eq!(lines.len() as u64, count + 1);
    // Newest first, each once, across the pages.
    let ids: Vec<i64> = lines[1..].iter().map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    assert!(csv.contains(",'-alice,"), "{csv}");
    assert!(!csv.contains(",-alice,"));
    let r = call(&app, Method::GET, "/api/audit/export/?event=nope", None, &root).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = call(&app, Method::GET, "/api/audit/export/?since=yesterday", None, &root).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Nor one without `audit.view`.
    let (_, bob, _) = app.user_with_tokens("bob").await;
    let r = call(&app, Method::GET, "/api/audit/export/", None, &bob).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The export is itself in the log (the refused one is not): by root, with no filters,
    // and in the export, as its newest entry.
    let r = call(&app, Method::GET, "/api/audit/?event=audit_exported", None, &root).await;
    assert_eq!(r.body["count"], json!(1), "{}", r.body);
    let entry = &r.body["results"][0];
    assert_eq!(
        (&entry["actor_id"], &entry["user_id"], &entry["detail"]),
        (&json!(root_id), &Value::Null, &json!({"filters": {}}))
    );
    assert!(lines[1].starts_with(&format!("{},", entry["id"])), "{}", lines[1]);
    // A filter longer than any username is recorded cut to one's length.
    let resp = app
        .client
        .get(format!("{}/api/audit/export/", app.url))
        .query(&[("user", "x".repeat(300))])
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let r = call(&app, Method::GET, "/api/audit/?event=audit_exported", None, &root).await;
    assert_eq!(r.body["count"], json!(2));
    assert_eq!(r.body["results"][0]["detail"], json!({"filters": {"user": "x".repeat(150)}}));
}

#[tokio::test]
async fn an_export_over_a_time_range_reads_between_its_oldest_and_newest_match() {
    use authenticon::domain::Clock;
    use authenticon::store::{AuditFilter, ExportCursor};
    let app = spawn().await;
    superuser(&app, "root").await;
    // Sign-ins the day before the range, five in it, and the day after.
    let day = 86_400;
    for _ in 0..3 {
        app.login("root").await;
    }
    app.clock.advance(day);
    let since = app.clock.now();
    for i in 0..5 {
        app.login("root").await;
        // Other events between the matches: they are not contiguous in id order.
        if i < 4 {
            let r = app.post("/api/token/", json!({"username": "root", "password": "wrong"})).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        app.clock.advance(60);
    }
    let until = app.clock.now();
    app.clock.advance(day);
    for _ in 0..3 {
        app.login("root").await;
    }
    let filter = AuditFilter {
        event: Some("login".into()),
        since: Some(since),
        until: Some(until),
        ..Default::default()
    };
    let listed = app.state.store.list_audit(&filter, 0, 100).await.unwrap();
    let expected: Vec<i64> = listed.rows.iter().map(|r| r.id).collect();
    assert_eq!((listed.count, expected.len()), (5, 5));
    let oldest = *expected.last().unwrap();
    // Two at a time: the cursor keeps the oldest match as its floor, and ends.
    let (mut cursor, mut got, mut cursors) = (ExportCursor::Start, Vec::new(), Vec::new());
    while cursor != ExportCursor::Done {
        let (rows, next) = app.state.store.audit_after(&filter, cursor, 2).await.unwrap();
        got.extend(rows.iter().map(|r| r.id));
        cursors.push(next);
        cursor = next;
    }
    assert_eq!(got, expected);
    assert_eq!(
        cursors,
        [
            ExportCursor::Between(oldest, expected[1] - 1),
            ExportCursor::Between(oldest, expected[3] - 1),
            ExportCursor::Done
        ]
    );
    // A full page that reaches the oldest match ends the export without another read.
    let (rows, next) = app.state.store.audit_after(&filter, ExportCursor::Start, 5).await.unwrap();
    assert_eq!((rows.len(), next), (5, ExportCursor::Done));
    // Nothing in the range: done at once.
    let empty = AuditFilter { since: Some(until + 10 * day), ..filter.clone() };
    let r = app.state.store.audit_after(&empty, ExportCursor::Start, 2).await.unwrap();
    assert_eq!((r.0.len(), r.1), (0, ExportCursor::Done));

    // The same through the API.
    let (root, _) = app.login("root").await;
    let at = |t: i64| {
        let t = time::OffsetDateTime::from_unix_timestamp(t).unwrap();
        t.format(&time::format_description::well_known::Rfc3339).unwrap()
    };
    let resp = app
        .client
        .get(format!("{}/api/audit/export/", app.url))
        .query(&[("event", "login"), ("since", &at(since)), ("until", &at(until))])
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let csv = resp.text().await.unwrap();
    let ids: Vec<i64> = csv.lines().skip(1).map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    assert_eq!(ids, expected);
    // Recorded with the filters as given.
    let r = app.request(Method::GET, "/api/audit/?event=audit_exported", None, Some(&root)).await;
    assert_eq!(
        r.body["results"][0]["detail"],
        json!({"filters": {"event": "login", "since": at(since), "until": at(until)}})
    );
}

#[tokio::test]
async fn counts_over_whole_days_come_from_the_day_counters_and_match_every_entry() {
    use authenticon::store::{AuditEvent, AuditMeta};
    let app = spawn().await;
    let store = &app.state.store;
    let day = 86_400;
    let d = |n: i64| 20_000 * day + n * day;
    // Six days of two events, at times that fall on and beside midnight; then entries
    // stamped earlier than ones written before them (a clock that went back), so the
    // ids of a day are not in time order.
    let mut times: Vec<i64> = (0..90).map(|k| d(0) + k * 5_813).collect();
    times.extend([d(2), d(2) - 1, d(3), d(3) - 1, d(1) + 7, d(4) + 9, d(0) - 1]);
    // And on 1970's first day (SQL's `time / 86400` makes the day before it day 0 too).
    times.extend([5, day - 1]);
    for (i, t) in times.iter().enumerate() {
        let event = if i % 3 == 0 { AuditEvent::PasswordChanged } else { AuditEvent::LoginFailed };
        store.record_audit(event, None, &json!({}), *t, &AuditMeta::default()).await.unwrap();
    }
    let ranges = [
        (Some(d(0)), Some(d(6))),
        (Some(d(1) + 100), Some(d(4) + 5)),
        (Some(d(2) - 1), Some(d(3) + 1)),
        (Some(d(2)), Some(d(3))),
        (Some(d(3) + 1), None),
        (None, Some(d(2) + 3)),
        (Some(d(5)), Some(d(9))),
        (Some(d(-3)), Some(d(-1))),
        (Some(-5), Some(d(0) + 5)),
        (Some(0), Some(d(1))),
        (None, Some(day + 1)),
        // Within a day, and across one midnight without a whole day: counted one by one.
        (Some(d(1) + 10), Some(d(1) + 5_000)),
        (Some(d(1) + 10), Some(d(2) + 10)),
    ];
    audit_pages_match_the_entries(store, &ranges).await;
    // Deleted entries leave their days' ids as they were: looser bounds, the same pages.
    // (The oldest go: the day before, the first day, and part of the second.)
    let gone = store.delete_audit_before(d(1) + 3_000, 1_000).await.unwrap();
    assert_eq!(gone.rows, times.iter().filter(|t| **t < d(1) + 3_000).count() as u64);
    audit_pages_match_the_entries(store, &ranges).await;
    // Folded (PostgreSQL's counters are rows per statement until then), the same.
    store.fold_audit_counts().await.unwrap();
    audit_pages_match_the_entries(store, &ranges).await;
    // One row per event and day that has entries; the emptied days' are gone.
    let rows = "SELECT COUNT(*) FROM audit_day_counts";
    let days = "SELECT COUNT(*) FROM (SELECT DISTINCT event, time / 86400 FROM audit_log) d";
    assert_eq!(number_on(&app.database_url, rows).await, number_on(&app.database_url, days).await);
    let empty = number_on(&app.database_url, "SELECT COUNT(*) FROM audit_day_counts WHERE n <= 0").await;
    assert_eq!(empty, 0);
}

/// For each event (and none) and each range: the page's `count` and entries, its last
/// page, and an export seven at a time are those the whole log, filtered here, holds.
async fn audit_pages_match_the_entries(
    store: &authenticon::store::Store,
    ranges: &[(Option<i64>, Option<i64>)],
) {
    use authenticon::store::{AuditFilter, AuditRow, ExportCursor};
    let ids = |rows: &[AuditRow]| rows.iter().map(|r| r.id).collect::<Vec<i64>>();
    let all = store.list_audit(&AuditFilter::default(), 0, 100_000).await.unwrap();
    assert_eq!(all.count as usize, all.rows.len());
    let mut counted = 0;
    for event in [None, Some("password_changed"), Some("login_failed")] {
        for &(since, until) in ranges {
            let filter = AuditFilter { event: event.map(Into::into), since, until, ..Default::default() };
            let expected: Vec<i64> = all
                .rows
                .iter()
                .filter(|r| event.is_none_or(|e| r.event == e))
                .filter(|r| since.is_none_or(|s| r.time >= s) && until.is_none_or(|u| r.time < u))
                .map(|r| r.id)
                .collect();
            counted += expected.len();
            let page = store.list_audit(&filter, 0, 1_000).await.unwrap();
            assert_eq!(
                (page.count, ids(&page.rows)),
                (expected.len() as i64, expected.clone()),
                "{filter:?}"
            );
            // The last page, short: its walk ends at the oldest match, wherever that is.
            let tail = expected.len().saturating_sub(3);
            let page = store.list_audit(&filter, tail as i64, 10).await.unwrap();
            assert_eq!(ids(&page.rows), expected[tail..], "{filter:?}");
            let (mut cursor, mut exported) = (ExportCursor::Start, Vec::new());
            while cursor != ExportCursor::Done {
                let (rows, next) = store.audit_after(&filter, cursor, 7).await.unwrap();
                exported.extend(ids(&rows));
                cursor = next;
            }
            assert_eq!(exported, expected, "{filter:?}");
        }
    }
    assert!(counted > 0);
}

#[tokio::test]
async fn the_overview_counts_events_per_hour_and_per_day() {
    let app = spawn_with(|c| {
        localhost_trusted(c);
        c.access_token_lifetime = std::time::Duration::from_secs(2 * 86_400);
    })
    .await;
    let (_, root) = superuser(&app, "root").await;
    app.register("alice").await;
    assert_eq!(login_from(&app, "203.0.113.1", "wrong").await, StatusCode::UNAUTHORIZED);
    assert_eq!(login_from(&app, "203.0.113.1", PASSWORD).await, StatusCode::OK);
    let r = call(&app, Method::GET, "/api/audit/summary/", None, &root).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((&r.body["period"], &r.body["bucket_seconds"]), (&json!("24h"), &json!(3600)));
    assert_eq!(r.body["buckets"].as_array().unwrap().len(), 24);
    // root's login and alice's, one failure, two registrations: all in the last hour.
    assert_eq!(
        r.body["totals"],
        json!({"login": 2, "login_failed": 1, "refresh_reuse_detected": 0, "register": 2, "throttled": 0})
    );
    assert_eq!(r.body["series"]["login"].as_array().unwrap().last(), Some(&json!(2)));
    // A day later the hour has moved out of the last hour, but not out of the month.
    app.clock.advance(86_400);
    let day = call(&app, Method::GET, "/api/audit/summary/", None, &root).await.body;
    assert_eq!(day["totals"]["login"], json!(0));
    let month = call(&app, Method::GET, "/api/audit/summary/?period=30d", None, &root).await.body;
    assert_eq!((&month["bucket_seconds"], &month["totals"]["login"]), (&json!(86_400), &json!(2)));
    let r = call(&app, Method::GET, "/api/audit/summary/?period=1y", None, &root).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn search_finds_any_part_of_a_username_or_email_and_follows_changes() {
    use authenticon::domain::Clock;
    let app = spawn().await;
    let (_, root) = superuser(&app, "root").await;
    let mut ids = std::collections::HashMap::new();
    for (name, email) in [("margaret", "peggy@example.com"), ("marge", "m@example.org"), ("r_e_x", "")] {
        let r = app.post("/register/", json!({"username": name, "password": PASSWORD, "email": email})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        ids.insert(name, str_of(&r.body["id"]));
    }
    let search = |q: &str| {
        let path = format!("/api/users/?search={q}");
        let (app, root) = (&app, &root);
        async move {
            let r = call(app, Method::GET, &path, None, root).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
            let names: Vec<String> =
                r.body["results"].as_array().unwrap().iter().map(|u| str_of(&u["username"])).collect();
            assert_eq!(r.body["count"], json!(names.len()));
            names
        }
    };
    // Inside a name, inside an address, in both; short and long; nothing special.
    assert_eq!(search("garet").await, ["margaret"]);
    assert_eq!(search("PEGGY").await, ["margaret"]);
    assert_eq!(search("arg").await, ["margaret", "marge"]);
    assert_eq!(search("example.org").await, ["marge"]);
    assert_eq!(search("ar").await, ["margaret", "marge"]);
    assert_eq!(search("_e_").await, ["r_e_x"]);
    assert_eq!(search("a%22b").await, Vec::<String>::new());
    assert_eq!(search("%22%22%22").await, Vec::<String>::new());
    // A changed address is found by its new text only; a deleted user not at all.
    let path = format!("/api/users/{}/", ids["margaret"]);
    let r = call(&app, Method::PATCH, &path, Some(json!({"email": "maggie@example.net"})), &root).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(search("peggy").await, Vec::<String>::new());
    assert_eq!(search("maggie").await, ["margaret"]);
    assert!(app.state.store.delete_user(&ids["marge"], app.clock.now()).await.unwrap());
    assert_eq!(search("arg").await, ["margaret"]);
    assert_eq!(search("example.org").await, Vec::<String>::new());
}

#[tokio::test]
async fn a_search_holding_trigrams_most_users_hold_still_finds_exactly_its_matches() {
    let app = spawn().await;
    let (_, root) = superuser(&app, "root").await;
    // `mem`, `emb`, `mbe`, `ber` and `er1` are held by most users, `r17` by five in 45:
    // the trigram index is searched by `r17` alone (PostgreSQL), which `r17x` also holds,
    // and `xq9_member17` by `xq9` then `r17`, which `xq9r17` also holds.
    for i in 1..=40 {
        app.register(&format!("member{i}")).await;
    }
    for name in ["r17x", "xmember17y", "xq9_member17", "xq9r17"] {
        app.register(name).await;
    }
    let names = |path: &'static str| {
        let (app, root) = (&app, &root);
        async move {
            let r = call(app, Method::GET, path, None, root).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
            let names: Vec<String> =
                r.body["results"].as_array().unwrap().iter().map(|u| str_of(&u["username"])).collect();
            assert_eq!(r.body["count"], json!(names.len()));
            names
        }
    };
    assert_eq!(names("/api/users/?search=member17").await, ["member17", "xmember17y", "xq9_member17"]);
    assert_eq!(names("/api/users/?search=xq9_member17").await, ["xq9_member17"]);
    assert_eq!(names("/api/users/?search=XQ9_Member17").await, ["xq9_member17"]);
    assert_eq!(names("/api/users/?search=ber17x").await, Vec::<String>::new());
    assert_eq!(names("/api/users/?search=q9%25member17").await, Vec::<String>::new());
    assert_eq!(
        names("/api/users/?search=r17").await,
        ["member17", "r17x", "xmember17y", "xq9_member17", "xq9r17"]
    );
    assert_eq!(names("/api/users/?search=member4").await, ["member4", "member40"]);
}
