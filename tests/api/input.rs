//! Hostile and malformed input: always a 4xx with a JSON body, never a 5xx.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

const POST_ENDPOINTS: [&str; 5] =
    ["/register/", "/api/token/", "/api/token/refresh/", "/api/token/verify/", "/api/token/blacklist/"];

#[tokio::test]
async fn malformed_json_is_a_parse_error() {
    let app = spawn().await;
    for path in POST_ENDPOINTS {
        let r = app.post_raw(path, Some("application/json"), b"{\"username\": ".to_vec()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        let detail = str_of(&r.body["detail"]);
        assert!(detail.starts_with("JSON parse error - "), "{path}: {detail}");
        assert_eq!(r.body.as_object().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn other_content_types_are_unsupported() {
    let app = spawn().await;
    let r = app.post_raw("/api/token/", Some("text/plain"), b"username=alice".to_vec()).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.body, json!({"detail": "Unsupported media type \"text/plain\" in request."}));
    let r = app
        .post_raw("/register/", Some("application/x-www-form-urlencoded"), b"username=alice".to_vec())
        .await;
    assert_eq!(
        r.body,
        json!({"detail": "Unsupported media type \"application/x-www-form-urlencoded\" in request."})
    );
    let r = app.post_raw("/register/", None, b"{}".to_vec()).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, json!({"detail": "Unsupported media type \"\" in request."}))
    );
    // JSON with a charset parameter is JSON.
    let r = app.post_raw("/api/token/", Some("application/json; charset=utf-8"), b"{}".to_vec()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["username"], json!(["This field is required."]));
}

#[tokio::test]
async fn an_empty_body_reports_missing_fields() {
    let app = spawn().await;
    let r = app.post_raw("/api/token/", None, Vec::new()).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"username": ["This field is required."], "password": ["This field is required."]})
        )
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = spawn().await;
    let big = format!("{{\"username\": \"{}\"}}", "a".repeat(70 * 1024));
    let r = app.post_raw("/register/", Some("application/json"), big.into_bytes()).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::PAYLOAD_TOO_LARGE, json!({"detail": "Request body is too large."}))
    );
    // Just under the limit is read, and the field's own limit answers.
    let fits = format!("{{\"username\": \"{}\", \"password\": \"x\"}}", "a".repeat(60 * 1024));
    let r = app.post_raw("/register/", Some("application/json"), fits.into_bytes()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["username"], json!(["Ensure this field has no more than 150 characters."]));
}

#[tokio::test]
async fn the_body_limit_is_configurable() {
    let app = spawn_with(|c| c.max_body_bytes = 2048).await;
    let body = json!({"username": "a".repeat(3000), "password": "x"}).to_string();
    let r = app.post_raw("/register/", Some("application/json"), body.into_bytes()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn deep_nesting_huge_numbers_and_bad_bytes_are_client_errors() {
    let app = spawn().await;
    let deep = format!("{{\"username\": {}{}}}", "[".repeat(5000), "]".repeat(5000));
    let bodies: Vec<Vec<u8>> = vec![
        deep.into_bytes(),
        b"{\"username\": 1e999, \"password\": 1}".to_vec(),
        b"{\"username\": \"\xff\xfe\", \"password\": \"x\"}".to_vec(),
        b"\xef\xbb\xbf{}".to_vec(),
        b"[]".to_vec(),
        b"\"just a string\"".to_vec(),
        b"null".to_vec(),
        b"{\"a\": 1} trailing".to_vec(),
    ];
    for path in POST_ENDPOINTS {
        for body in &bodies {
            let r = app.post_raw(path, Some("application/json"), body.clone()).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path} {}", String::from_utf8_lossy(body));
            assert!(r.body.is_object());
        }
    }
    let r = app.post_raw("/register/", Some("application/json"), b"[1, 2]".to_vec()).await;
    assert_eq!(r.body, json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}));
}

#[tokio::test]
async fn wrong_json_types_get_field_errors() {
    let app = spawn().await;
    let r = app.post("/register/", json!({"username": ["alice"], "password": {"x": 1}})).await;
    assert_eq!(r.body, json!({"username": ["Not a valid string."], "password": ["Not a valid string."]}));
    let r = app.post("/register/", json!({"username": null, "password": true})).await;
    assert_eq!(
        r.body,
        json!({"username": ["This field may not be null."], "password": ["Not a valid string."]})
    );
    let r = app.post("/register/", json!({"username": "nul\u{0}byte", "password": PASSWORD})).await;
    assert_eq!(r.body, json!({"username": ["Null characters are not allowed."]}));
    // DRF's CharField takes a number as its text.
    let r = app.post("/register/", json!({"username": 12345, "password": PASSWORD})).await;
    assert_eq!((r.status, &r.body["username"]), (StatusCode::CREATED, &json!("12345")));
    let r = app.post("/api/token/refresh/", json!({"refresh": 42})).await;
    assert_eq!((r.status, r.body), (StatusCode::UNAUTHORIZED, token_not_valid()));
}

#[tokio::test]
async fn over_long_passwords_are_refused_before_hashing() {
    let app = spawn().await;
    let r = app.post("/register/", json!({"username": "alice", "password": "x".repeat(4097)})).await;
    assert_eq!(r.body, json!({"password": ["Ensure this field has no more than 4096 characters."]}));
    let r = app.post("/api/token/", json!({"username": "alice", "password": "x".repeat(4097)})).await;
    assert_eq!(r.body, json!({"password": ["Ensure this field has no more than 4096 characters."]}));
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_never_grant_anything() {
    let app = spawn().await;
    let r = app
        .post(
            "/register/",
            json!({"username": "mallory", "password": PASSWORD, "is_superuser": true, "is_active": false, "roles": ["admin"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!((r.body["is_superuser"].clone(), r.body["is_active"].clone()), (json!(false), json!(true)));
    assert_eq!(r.body["roles"], json!([]));
}

#[tokio::test]
async fn sql_looking_strings_are_just_strings() {
    let app = spawn().await;
    for name in ["' OR '1'='1", "alice'; DROP TABLE users; --"] {
        let r = app.post("/api/token/", json!({"username": name, "password": "' OR '1'='1"})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}");
    }
    app.register("alice").await;
    app.login("alice").await;
}

#[tokio::test]
async fn paths_work_with_and_without_the_trailing_slash() {
    let app = spawn().await;
    let r = app.post("/register", json!({"username": "alice", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app.post("/api/token", json!({"username": "alice", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::OK);
    let access = str_of(&r.body["access"]);
    let refresh = str_of(&r.body["refresh"]);
    assert_eq!(app.post("/api/token/verify", json!({"token": access})).await.status, StatusCode::OK);
    assert_eq!(app.get("/protected-resource", Some(&access)).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/me", Some(&access)).await.status, StatusCode::OK);
    let r = app.post("/api/token/refresh", json!({"refresh": refresh})).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.post("/api/token/blacklist", json!({"refresh": r.body["refresh"]})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.get("/healthz/", None).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/schema", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_drf_shapes() {
    let app = spawn().await;
    let r = app.get("/api/nothing-here/", None).await;
    assert_eq!((r.status, r.body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})));
    let r = app.get("/api/token/", None).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::METHOD_NOT_ALLOWED, json!({"detail": "Method \"GET\" not allowed."}))
    );
    let r = app.request(Method::DELETE, "/register/", None, None).await;
    assert_eq!(r.body, json!({"detail": "Method \"DELETE\" not allowed."}));
    let r = app.request(Method::PUT, "/protected-resource/", None, None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn().await;
    let r = app.get("/healthz", None).await;
    let generated = r.header("x-request-id").unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
    let r = app.get("/api/nothing", None).await;
    assert!(r.header("x-request-id").is_some());

    let sent = |id: &str| {
        app.client.get(format!("{}/healthz", app.url)).header("x-request-id", id.to_string()).send()
    };
    let r = sent("trace-abc.123:4_5").await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-abc.123:4_5");
    for insane in ["has space", "<script>", &"a".repeat(200)] {
        let r = sent(insane).await.unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap();
        assert_ne!(id, insane);
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
}

#[tokio::test]
async fn a_barrage_of_odd_requests_never_gets_a_5xx() {
    let app = spawn().await;
    let (_, access, _) = app.user_with_tokens("alice").await;
    let values = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1.5e300),
        json!(""),
        json!("x".repeat(10_000)),
        json!([]),
        json!({}),
        json!("\u{202e}\u{0}\u{feff}"),
    ];
    let fields = ["username", "password", "email", "refresh", "token", "old_password", "new_password"];
    for path in POST_ENDPOINTS.iter().chain(["/api/me/password/"].iter()) {
        for field in fields {
            for v in &values {
                let r = app.request(Method::POST, path, Some(json!({ field: v })), Some(&access)).await;
                assert!(r.status.is_client_error(), "{path} {field}={v}: {}", r.status);
            }
        }
    }
    for v in &values {
        let r = app.request(Method::PATCH, "/api/me/", Some(json!({ "email": v })), Some(&access)).await;
        assert!(r.status.as_u16() < 500, "email={v}: {}", r.status);
    }
}
