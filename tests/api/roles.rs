//! Roles, permission guards, user administration and the audit log.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

const FORBIDDEN: &str = "You do not have permission to perform this action.";

async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>, token: &str) -> Reply {
    app.request(method, path, body, Some(token)).await
}

#[tokio::test]
async fn every_admin_route_answers_401_then_403_then_success() {
    let app = spawn().await;
    let (admin_id, admin) = superuser(&app, "root").await;
    let (_, plain, _) = app.user_with_tokens("bob").await;
    let routes: Vec<(Method, String, Option<Value>, StatusCode)> = vec![
        (Method::GET, "/api/roles/".into(), None, StatusCode::OK),
        (Method::POST, "/api/roles/".into(), Some(json!({"name": "editor"})), StatusCode::CREATED),
        (Method::GET, "/api/roles/editor/".into(), None, StatusCode::OK),
        (Method::PATCH, "/api/roles/editor/".into(), Some(json!({"description": "Edits"})), StatusCode::OK),
        (Method::DELETE, "/api/roles/editor/".into(), None, StatusCode::NO_CONTENT),
        (Method::GET, "/api/users/".into(), None, StatusCode::OK),
        (Method::GET, format!("/api/users/{admin_id}/"), None, StatusCode::OK),
        (
            Method::PATCH,
            format!("/api/users/{admin_id}/"),
            // Their own address: with the password, as for `PATCH /api/me/`.
            Some(json!({"email": "root@example.com", "password": PASSWORD})),
            StatusCode::OK,
        ),
        (
            Method::PUT,
            format!("/api/users/{admin_id}/roles/"),
            Some(json!({"roles": ["admin"]})),
            StatusCode::OK,
        ),
        (Method::GET, "/api/audit/".into(), None, StatusCode::OK),
        (Method::GET, "/api/reports/".into(), None, StatusCode::OK),
    ];
    for (method, path, body, ok) in routes {
        let r = app.request(method.clone(), &path, body.clone(), None).await;
        assert_eq!(
            (r.status, &r.body),
            (StatusCode::UNAUTHORIZED, &json!({"detail": "Authentication credentials were not provided."})),
            "{method} {path}"
        );
        let r = call(&app, method.clone(), &path, body.clone(), &plain).await;
        assert_eq!(
            (r.status, &r.body),
            (StatusCode::FORBIDDEN, &json!({"detail": FORBIDDEN})),
            "{method} {path}"
        );
        let r = call(&app, method.clone(), &path, body.clone(), &admin).await;
        assert_eq!(r.status, ok, "{method} {path}: {}", r.body);
    }
}

#[tokio::test]
async fn the_builtin_admin_role_exists_once_and_cannot_be_deleted_or_stripped() {
    let app = spawn().await;
    let (_, admin) = superuser(&app, "root").await;
    let builtin = json!(["audit.view", "roles.manage", "roles.view", "users.manage", "users.view"]);
    let r = call(&app, Method::GET, "/api/roles/", None, &admin).await;
    assert_eq!(
        r.body,
        json!([{"name": "admin", "description": "Full administrative access", "permissions": builtin}])
    );

    let r = call(&app, Method::DELETE, "/api/roles/admin/", None, &admin).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"detail": "The built-in role \"admin\" cannot be deleted."}))
    );
    let r =
        call(&app, Method::PATCH, "/api/roles/admin/", Some(json!({"permissions": ["users.view"]})), &admin)
            .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"permissions": ["The built-in role \"admin\" must keep its built-in permissions: users.manage, roles.view, roles.manage, audit.view."]})
    );
    // Adding to it is fine.
    let mut more = builtin.as_array().unwrap().clone();
    more.push(json!("reports.view"));
    let r = call(&app, Method::PATCH, "/api/roles/admin/", Some(json!({"permissions": more})), &admin).await;
    assert_eq!(r.status, StatusCode::OK);

    // A second migrate changes nothing.
    app.state.store.migrate().await.unwrap();
    let r = call(&app, Method::GET, "/api/roles/", None, &admin).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(r.body[0]["permissions"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn roles_are_created_read_changed_and_deleted() {
    let app = spawn().await;
    let (_, admin) = superuser(&app, "root").await;
    let body = json!({"name": "editor", "description": "Edits articles", "permissions": ["reports.view", "articles.edit", "articles.edit"]});
    let r = call(&app, Method::POST, "/api/roles/", Some(body.clone()), &admin).await;
    let editor = json!({"name": "editor", "description": "Edits articles", "permissions": ["articles.edit", "reports.view"]});
    assert_eq!((r.status, &r.body), (StatusCode::CREATED, &editor));
    let r = call(&app, Method::POST, "/api/roles/", Some(body), &admin).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"name": ["role with this name already exists."]}))
    );
    let r = call(
        &app,
        Method::POST,
        "/api/roles/",
        Some(json!({"name": "Bad Name", "permissions": ["ok.perm", "Not OK"]})),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({
            "name": ["Enter a valid role name: 1 to 64 characters of lower-case letters, digits, \"_\", \".\" and \"-\"."],
            "permissions": ["\"Not OK\" is not a valid permission: 1 to 100 characters of lower-case letters, digits, \"_\", \".\", \":\" and \"-\"."],
        })
    );
    let r =
        call(&app, Method::POST, "/api/roles/", Some(json!({"permissions": "reports.view"})), &admin).await;
    assert_eq!(
        r.body,
        json!({"name": ["This field is required."], "permissions": ["Expected a list of items but got type \"str\"."]})
    );
    let r = call(&app, Method::GET, "/api/roles/editor", None, &admin).await;
    assert_eq!(r.body, editor);
    let r = call(
        &app,
        Method::PATCH,
        "/api/roles/editor/",
        Some(json!({"permissions": ["articles.publish"]})),
        &admin,
    )
    .await;
    assert_eq!(
        r.body,
        json!({"name": "editor", "description": "Edits articles", "permissions": ["articles.publish"]})
    );
    let r = call(&app, Method::DELETE, "/api/roles/editor/", None, &admin).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    for method in [Method::GET, Method::DELETE, Method::PATCH] {
        let r = call(&app, method.clone(), "/api/roles/editor/", Some(json!({})), &admin).await;
        assert_eq!(
            (r.status, &r.body),
            (StatusCode::NOT_FOUND, &json!({"detail": "Not found."})),
            "{method}"
        );
    }
}

#[tokio::test]
async fn a_permission_granted_or_revoked_through_a_role_takes_effect_at_once() {
    let app = spawn().await;
    let (_, admin) = superuser(&app, "root").await;
    let (bob, bob_access, bob_refresh) = app.user_with_tokens("bob").await;
    assert_eq!(app.get("/api/reports/", Some(&bob_access)).await.status, StatusCode::FORBIDDEN);

    call(
        &app,
        Method::POST,
        "/api/roles/",
        Some(json!({"name": "analyst", "permissions": ["reports.view"]})),
        &admin,
    )
    .await;
    let r = call(
        &app,
        Method::PUT,
        &format!("/api/users/{bob}/roles/"),
        Some(json!({"roles": ["analyst"]})),
        &admin,
    )
    .await;
    assert_eq!(
        (r.status, &r.body["roles"], &r.body["permissions"]),
        (StatusCode::OK, &json!(["analyst"]), &json!(["reports.view"]))
    );
    // The same access token, issued before the grant: the guard reads the store.
    let r = app.get("/api/reports/", Some(&bob_access)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["reports"].as_array().unwrap().len(), 2);
    // The token itself learns the role at its next rotation.
    assert_eq!(parts(&bob_access).1["roles"], json!([]));
    let r = app.post("/api/token/refresh/", json!({"refresh": bob_refresh})).await;
    assert_eq!(parts(&str_of(&r.body["access"])).1["roles"], json!(["analyst"]));

    call(&app, Method::PATCH, "/api/roles/analyst/", Some(json!({"permissions": []})), &admin).await;
    assert_eq!(app.get("/api/reports/", Some(&bob_access)).await.status, StatusCode::FORBIDDEN);
    call(&app, Method::PATCH, "/api/roles/analyst/", Some(json!({"permissions": ["reports.view"]})), &admin)
        .await;
    assert_eq!(app.get("/api/reports/", Some(&bob_access)).await.status, StatusCode::OK);
    call(&app, Method::PUT, &format!("/api/users/{bob}/roles/"), Some(json!({"roles": []})), &admin).await;
    assert_eq!(app.get("/api/reports/", Some(&bob_access)).await.status, StatusCode::FORBIDDEN);
    // Deleting a role takes its permissions from its holders too.
    call(&app, Method::PUT, &format!("/api/users/{bob}/roles/"), Some(json!({"roles": ["analyst"]})), &admin)
        .await;
    call(&app, Method::DELETE, "/api/roles/analyst/", None, &admin).await;
    assert_eq!(app.get("/api/reports/", Some(&bob_access)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_admin_role_grants_administration_without_superuser() {
    let app = spawn().await;
    let (_, root) = superuser(&app, "root").await;
    let (carol, carol_access, _) = app.user_with_tokens("carol").await;
    call(&app, Method::PUT, &format!("/api/users/{carol}/roles/"), Some(json!({"roles": ["admin"]})), &root)
        .await;
    let r = call(&app, Method::GET, "/api/users/", None, &carol_access).await;
    assert_eq!(r.status, StatusCode::OK);
    // … but not permissions the role lacks.
    assert_eq!(app.get("/api/reports/", Some(&carol_access)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn role_assignment_errors() {
    let app = spawn().await;
    let (admin_id, admin) = superuser(&app, "root").await;
    let path = format!("/api/users/{admin_id}/roles/");
    let r = call(&app, Method::PUT, &path, Some(json!({"roles": ["admin", "ghost"]})), &admin).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"roles": ["Object with name=ghost does not exist."]}))
    );
    let r = call(&app, Method::PUT, &path, Some(json!({})), &admin).await;
    assert_eq!(r.body, json!({"roles": ["This field is required."]}));
    let r =
        call(&app, Method::PUT, "/api/users/no-such-user/roles/", Some(json!({"roles": []})), &admin).await;
    assert_eq!((r.status, r.body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})));
    let r = call(&app, Method::GET, "/api/users/no-such-user/", None, &admin).await;
    assert_eq!((r.status, r.body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})));
}

#[tokio::test]
async fn deactivation_revokes_sessions_and_access_at_once() {
    let app = spawn().await;
    let (_, admin) = superuser(&app, "root").await;
    let (bob, access, refresh) = app.user_with_tokens("bob").await;
    let (_, other_refresh) = app.login("bob").await;
    let path = format!("/api/users/{bob}/");
    let r = call(&app, Method::PATCH, &path, Some(json!({"is_active": false})), &admin).await;
    assert_eq!((r.status, &r.body["is_active"]), (StatusCode::OK, &json!(false)));
    let r = app.get("/protected-resource/", Some(&access)).await;
    assert_eq!(r.body, json!({"detail": "User is inactive", "code": "user_inactive"}));
    for token in [&refresh, &other_refresh] {
        let r = app.post("/api/token/refresh/", json!({"refresh": token})).await;
        assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()));
    }
    let r = app.post("/api/token/", json!({"username": "bob", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = call(&app, Method::PATCH, &path, Some(json!({"is_active": true})), &admin).await;
    assert_eq!(r.body["is_active"], true);
    app.login("bob").await;
    let r =
        call(&app, Method::PATCH, &path, Some(json!({"is_active": "maybe", "email": "bad"})), &admin).await;
    assert_eq!(r.body, json!({"is_active": ["Must be a valid boolean."]}));
    let r = call(&app, Method::PATCH, &path, Some(json!({"email": "bad"})), &admin).await;
    assert_eq!(r.body, json!({"email": ["Enter a valid email address."]}));
}

#[tokio::test]
async fn nobody_deactivates_themself_or_the_last_superuser() {
    let app = spawn().await;
    let (root, root_access) = superuser(&app, "root").await;
    let r = call(
        &app,
        Method::PATCH,
        &format!("/api/users/{root}/"),
        Some(json!({"is_active": false})),
        &root_access,
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"is_active": ["You cannot deactivate your own account."]}))
    );
    // An administrator by role may not deactivate a superuser at all (bounded delegation)…
    let (carol, carol_access, _) = app.user_with_tokens("carol").await;
    call(
        &app,
        Method::PUT,
        &format!("/api/users/{carol}/roles/"),
        Some(json!({"roles": ["admin"]})),
        &root_access,
    )
    .await;
    let r = call(
        &app,
        Method::PATCH,
        &format!("/api/users/{root}/"),
        Some(json!({"is_active": false})),
        &carol_access,
    )
    .await;
    assert_eq!(
        r.body,
        json!({"detail": "Only a superuser can change a superuser.", "code": "permission_denied"})
    );
    // …and another superuser may not deactivate the last active one but themself…
    let (root2, root2_access) = superuser(&app, "root2").await;
    let r = call(
        &app,
        Method::PATCH,
        &format!("/api/users/{root}/"),
        Some(json!({"is_active": false})),
        &root2_access,
    )
    .await;
    assert_eq!((r.status, &r.body["is_active"]), (StatusCode::OK, &json!(false)));
    // …as the last one left cannot be deactivated by anyone (here: the command line's rule).
    let r = app
        .state
        .accounts
        .update_user(
            authenticon::auth::rbac::Actor::Operator,
            &root2,
            authenticon::store::UserChanges { email: None, is_active: Some(false) },
            &Default::default(),
        )
        .await;
    assert!(
        matches!(&r, Err(authenticon::auth::accounts::AccountError::Invalid(e)) if e.has("is_active")),
        "{r:?}"
    );
}

#[tokio::test]
async fn users_are_searched_and_paginated_like_drf() {
    let app = spawn().await;
    let (_, admin) = superuser(&app, "root").await;
    for i in 0..24 {
        app.register(&format!("user{i:02}")).await;
    }
    let base = format!("{}/api/users/", app.url);
    let r = call(&app, Method::GET, "/api/users/", None, &admin).await;
    assert_eq!((r.body["count"].clone(), r.body["results"].as_array().unwrap().len()), (json!(25), 20));
    assert_eq!(r.body["next"], json!(format!("{base}?page=2")));
    assert_eq!(r.body["previous"], Value::Null);
    assert_eq!(r.body["results"][0]["username"], "root");
    assert_eq!(r.body["results"][1]["username"], "user00");

    let r = call(&app, Method::GET, "/api/users/?page=2", None, &admin).await;
    assert_eq!((r.body["count"].clone(), r.body["results"].as_array().unwrap().len()), (json!(25), 5));
    assert_eq!((r.body["next"].clone(), r.body["previous"].clone()), (Value::Null, json!(base)));

    for bad in ["3", "0", "-1", "abc"] {
        let r = call(&app, Method::GET, &format!("/api/users/?page={bad}"), None, &admin).await;
        assert_eq!(
            (r.status, &r.body),
            (StatusCode::NOT_FOUND, &json!({"detail": "Invalid page."})),
            "page={bad}"
        );
    }
    let r = call(&app, Method::GET, "/api/users/?search=USER1&page_size=5", None, &admin).await;
    assert_eq!(r.body["count"], 10);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 5);
    assert_eq!(r.body["next"], json!(format!("{base}?search=USER1&page_size=5&page=2")));
    let r = call(&app, Method::GET, "/api/users/?search=USER1&page_size=5&page=2", None, &admin).await;
    assert_eq!(r.body["previous"], json!(format!("{base}?search=USER1&page_size=5")));
    // LIKE wildcards are matched literally.
    let r = call(&app, Method::GET, "/api/users/?search=%25", None, &admin).await;
    assert_eq!((r.body["count"].clone(), r.body["results"].clone()), (json!(0), json!([])));
}

#[tokio::test]
async fn the_audit_log_tells_a_whole_story_and_keeps_no_secret() {
    let app = spawn().await;
    let (root, admin) = superuser(&app, "root").await;
    let alice = str_of(&app.register("alice").await["id"]);
    app.post("/api/token/", json!({"username": "alice", "password": "wrong password"})).await;
    let (_, first) = app.login("alice").await;
    call(&app, Method::POST, "/api/roles/", Some(json!({"name": "editor"})), &admin).await;
    call(
        &app,
        Method::PUT,
        &format!("/api/users/{alice}/roles/"),
        Some(json!({"roles": ["editor"]})),
        &admin,
    )
    .await;
    let second = str_of(&app.post("/api/token/refresh/", json!({"refresh": first})).await.body["refresh"]);
    app.post("/api/token/refresh/", json!({"refresh": first})).await; // reuse
    call(&app, Method::PATCH, &format!("/api/users/{alice}/"), Some(json!({"is_active": false})), &admin)
        .await;

    let r = call(&app, Method::GET, "/api/audit/?user=alice", None, &admin).await;
    assert_eq!(r.status, StatusCode::OK);
    let events: Vec<&str> =
        r.body["results"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        events,
        [
            "user_updated",
            "refresh_reuse_detected",
            "refresh",
            "roles_assigned",
            "login",
            "login_failed",
            "register"
        ]
    );
    let entries = r.body["results"].as_array().unwrap();
    for e in entries {
        assert_eq!(e["user_id"], json!(alice));
        assert_eq!(e["username"], "alice");
        assert_eq!(e["ip"], "127.0.0.1");
        assert_eq!(e["user_agent"], "authenticon-tests", "{e}");
        assert!(e["time"].as_str().unwrap().ends_with('Z'));
        assert!(e["id"].is_i64());
    }
    let by_event = |name: &str| entries.iter().find(|e| e["event"] == name).unwrap().clone();
    assert_eq!(by_event("roles_assigned")["actor_id"], json!(root));
    assert_eq!(by_event("roles_assigned")["detail"], json!({"before": [], "after": ["editor"]}));
    assert_eq!(by_event("user_updated")["detail"], json!({"is_active": false, "sessions_revoked": 0}));
    assert_eq!(by_event("login")["actor_id"], Value::Null);
    assert_eq!(by_event("login_failed")["detail"], json!({"reason": "bad_credentials"}));
    let sid = parts(&first).1["sid"].clone();
    assert_eq!(by_event("refresh_reuse_detected")["detail"]["session_id"], sid);

    // The same story by id; filters combine.
    let by_id = call(&app, Method::GET, &format!("/api/audit/?user={alice}"), None, &admin).await;
    assert_eq!(by_id.body["count"], r.body["count"]);
    let alice_count = by_id.body["count"].clone();
    // SECURITY: a username chosen to be alice's id does not stand in for her history
    // (nor hide it), as the subject or as the actor.
    let r = app.post("/register/", json!({"username": alice.as_str(), "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let decoy = str_of(&r.body["id"]);
    let by_id = call(&app, Method::GET, &format!("/api/audit/?user={alice}"), None, &admin).await;
    assert_eq!(by_id.body["count"], alice_count);
    let subjects: Vec<&str> =
        by_id.body["results"].as_array().unwrap().iter().map(|e| e["user_id"].as_str().unwrap()).collect();
    assert!(subjects.iter().all(|s| *s == alice) && !subjects.is_empty(), "{subjects:?}");
    let decoy_entries = call(&app, Method::GET, &format!("/api/audit/?user={decoy}"), None, &admin).await;
    assert_eq!(decoy_entries.body["count"], 1, "{:?}", decoy_entries.body);
    let logins = call(&app, Method::GET, "/api/audit/?event=login", None, &admin).await;
    let names: Vec<&str> =
        logins.body["results"].as_array().unwrap().iter().map(|e| e["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["alice", "root"]);
    let r2 = call(&app, Method::GET, "/api/audit/?event=login&user=root", None, &admin).await;
    assert_eq!(r2.body["count"], 1);
    let r2 = call(&app, Method::GET, "/api/audit/?event=bogus", None, &admin).await;
    assert_eq!(
        (r2.status, r2.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"event": ["Select a valid choice. bogus is not one of the available choices."]})
        )
    );
    let roles = call(&app, Method::GET, "/api/audit/?event=role_created", None, &admin).await;
    assert_eq!(roles.body["results"][0]["detail"], json!({"role": "editor", "permissions": []}));

    let everything =
        call(&app, Method::GET, "/api/audit/?page_size=100", None, &admin).await.body.to_string();
    for secret in [PASSWORD, "wrong password", &first, &second, "argon2", SECRET] {
        assert!(!everything.contains(secret), "audit log holds {secret:.12}…");
    }
}

#[tokio::test]
async fn throttled_logins_are_audited() {
    let app = spawn_with(|c| c.throttle.login_per_user_and_address = 1).await;
    let (_, admin) = superuser(&app, "root").await;
    app.register("alice").await;
    app.post("/api/token/", json!({"username": "alice", "password": "wrong password"})).await;
    let r = app.post("/api/token/", json!({"username": "alice", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let r = call(&app, Method::GET, "/api/audit/?event=throttled", None, &admin).await;
    assert_eq!(r.body["count"], 1);
    assert_eq!(r.body["results"][0]["username"], "alice");
    assert_eq!(r.body["results"][0]["detail"]["scope"], "login");
}
