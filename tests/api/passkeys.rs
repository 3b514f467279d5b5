//! Passkeys over the API, answered by a software authenticator written here from the
//! WebAuthn spec (P-256, "none" attestation) the way a browser and an authenticator
//! would answer; and the setting that requires a second factor for chosen roles.

use authenticon::auth::accounts::Registration;
use authenticon::domain::Secret;
use authenticon::store::{AuditFilter, AuditMeta};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::*;

/// The web app's origin as the browser reports it (any port of localhost is the
/// relying party `localhost` here).
const ORIGIN: &str = "http://localhost:5173";
const EXPIRED: &str = "This passkey request has expired or was already answered. Start again.";
const NOT_VERIFIED: &str = "The passkey could not be verified.";

fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Minimal CBOR: the few shapes an attestation object needs.
fn cbor_head(major: u8, len: usize, out: &mut Vec<u8>) {
    match len {
        0..=23 => out.push(major << 5 | len as u8),
        24..=255 => out.extend([major << 5 | 24, len as u8]),
        _ => {
            out.push(major << 5 | 25);
            out.extend((len as u16).to_be_bytes());
        }
    }
}

fn cbor_bytes(b: &[u8], out: &mut Vec<u8>) {
    cbor_head(2, b.len(), out);
    out.extend(b);
}

fn cbor_text(s: &str, out: &mut Vec<u8>) {
    cbor_head(3, s.len(), out);
    out.extend(s.as_bytes());
}

/// A CBOR integer key or value in -24..24.
fn cbor_small(n: i8, out: &mut Vec<u8>) {
    if n >= 0 {
        out.push(n as u8)
    } else {
        out.push(0x20 | (-1 - n) as u8)
    }
}

/// A software authenticator holding one P-256 credential.
struct SoftKey {
    key: SigningKey,
    id: Vec<u8>,
    user_handle: Vec<u8>,
    counter: u32,
    origin: String,
}

impl SoftKey {
    fn new() -> Self {
        Self {
            key: SigningKey::random(&mut rand_core_06::OsRng),
            id: rand::random::<[u8; 16]>().to_vec(),
            user_handle: Vec::new(),
            counter: 0,
            origin: ORIGIN.into(),
        }
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        let challenge = &options["publicKey"]["challenge"];
        assert!(challenge.is_string(), "{options}");
        json!({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false})
            .to_string()
            .into_bytes()
    }

    /// rpIdHash, flags (user present and verified, plus `extra`), counter.
    fn auth_data(&self, extra_flags: u8) -> Vec<u8> {
        let mut d = Sha256::digest(b"localhost").to_vec();
        d.push(0x01 | 0x04 | extra_flags);
        d.extend(self.counter.to_be_bytes());
        d
    }

    /// `navigator.credentials.create()`: the answer as `PublicKeyCredential.toJSON()`.
    fn create(&mut self, options: &Value) -> Value {
        self.user_handle = unb64(options["publicKey"]["user"]["id"].as_str().unwrap());
        let client_data = self.client_data("webauthn.create", options);
        let mut auth_data = self.auth_data(0x40); // attested credential data follows
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend((self.id.len() as u16).to_be_bytes());
        auth_data.extend(&self.id);
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut cose = vec![0xa5]; // {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}
        for (k, v) in [(1, 2), (3, -7), (-1, 1)] {
            cbor_small(k, &mut cose);
            cbor_small(v, &mut cose);
        }
        cbor_small(-2, &mut cose);
        cbor_bytes(point.x().unwrap(), &mut cose);
        cbor_small(-3, &mut cose);
        cbor_bytes(point.y().unwrap(), &mut cose);
        auth_data.extend(cose);
        let mut attestation = vec![0xa3];
        cbor_text("fmt", &mut attestation);
        cbor_text("none", &mut attestation);
        cbor_text("attStmt", &mut attestation);
        attestation.push(0xa0);
        cbor_text("authData", &mut attestation);
        cbor_bytes(&auth_data, &mut attestation);
        json!({
            "id": b64u(&self.id), "rawId": b64u(&self.id), "type": "public-key",
            "response": {"attestationObject": b64u(&attestation), "clientDataJSON": b64u(&client_data)},
            "extensions": {},
        })
    }

    /// `navigator.credentials.get()`, signed by `signer` (normally this key).
    fn sign_with(&mut self, options: &Value, signer: &SigningKey) -> Value {
        self.counter += 1;
        let client_data = self.client_data("webauthn.get", options);
        let auth_data = self.auth_data(0);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: DerSignature = signer.sign(&signed);
        json!({
            "id": b64u(&self.id), "rawId": b64u(&self.id), "type": "public-key",
            "response": {
                "authenticatorData": b64u(&auth_data), "clientDataJSON": b64u(&client_data),
                "signature": b64u(signature.as_bytes()), "userHandle": b64u(&self.user_handle),
            },
            "extensions": {},
        })
    }

    fn get(&mut self, options: &Value) -> Value {
        let key = self.key.clone();
        self.sign_with(options, &key)
    }
}

/// Registers a passkey named `name` for the holder of `access`; returns the answer body.
async fn register_passkey(app: &TestApp, access: &str, key: &mut SoftKey, name: &str) -> Value {
    let r = app
        .request(
            Method::POST,
            "/api/mfa/passkeys/",
            Some(json!({"name": name, "password": PASSWORD})),
            Some(access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let answer = json!({"ceremony": r.body["ceremony"], "credential": key.create(&r.body)});
    let r = app.request(Method::POST, "/api/mfa/passkeys/confirm/", Some(answer), Some(access)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

async fn events(app: &TestApp) -> Vec<(String, Value)> {
    let page = app.state.store.list_audit(&AuditFilter::default(), 0, 200).await.unwrap();
    page.rows.into_iter().map(|r| (r.event, serde_json::from_str(&r.detail).unwrap())).collect()
}

#[tokio::test]
async fn a_passkey_becomes_the_second_step_and_can_log_in_alone() {
    let app = spawn().await;
    app.register("alice").await;
    let (access, _) = app.login("alice").await;

    let r = app
        .request(
            Method::POST,
            "/api/mfa/passkeys/",
            Some(json!({"name": "Laptop", "password": PASSWORD})),
            Some(&access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let options = r.body;
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    assert_eq!(options["publicKey"]["user"]["name"], "alice");
    assert_eq!(options["publicKey"]["authenticatorSelection"]["residentKey"], "preferred");
    assert_eq!(options["publicKey"]["authenticatorSelection"]["userVerification"], "required");
    let mut key = SoftKey::new();
    let answer = json!({"ceremony": options["ceremony"], "credential": key.create(&options)});
    let r =
        app.request(Method::POST, "/api/mfa/passkeys/confirm/", Some(answer.clone()), Some(&access)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["passkey"]["name"], "Laptop");
    assert_eq!(
        r.body["recovery_codes"].as_array().unwrap().len(),
        10,
        "the first factor brings recovery codes"
    );
    let passkey_id = str_of(&r.body["passkey"]["id"]);
    let recovery_code = str_of(&r.body["recovery_codes"][0]);
    // A ceremony is answered once.
    let r = app.request(Method::POST, "/api/mfa/passkeys/confirm/", Some(answer), Some(&access)).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, json!({"ceremony": [EXPIRED]})));

    let r = app.get("/api/mfa/", Some(&access)).await;
    assert_eq!(r.body, json!({"totp": false, "passkeys": 1, "recovery_codes_left": 10}));
    let r = app.get("/api/mfa/passkeys/", Some(&access)).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(r.body[0]["id"], passkey_id.as_str());
    assert_eq!(r.body[0]["last_used_at"], Value::Null);

    // The password alone no longer logs in.
    let r = app.post("/api/token/", json!({"username": "alice", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["code"], "mfa_required");
    assert_eq!(r.body["methods"], json!(["passkey", "recovery_code"]));
    let mfa_token = str_of(&r.body["mfa_token"]);
    let r = app.post("/api/token/mfa/passkey/", json!({"mfa_token": mfa_token})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["publicKey"]["allowCredentials"][0]["id"], b64u(&key.id).as_str());
    let credential = key.get(&r.body);
    let r = app.post("/api/token/mfa/", json!({"mfa_token": mfa_token, "credential": credential})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.get("/protected-resource/", Some(&str_of(&r.body["access"]))).await;
    assert_eq!(r.status, StatusCode::OK);
    // The login is complete: its token and the signed answer are spent.
    let r = app.post("/api/token/mfa/", json!({"mfa_token": mfa_token, "credential": credential})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["mfa_token"].is_array(), "{}", r.body);

    // Without a password: any passkey of the site, and the answer says whose it is.
    let r = app.post("/api/passkeys/login/", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["publicKey"]
        .get("allowCredentials")
        .is_none_or(|a| a.as_array().is_some_and(|a| a.is_empty())));
    let answer = json!({"ceremony": r.body["ceremony"], "credential": key.get(&r.body)});
    let r = app.post("/api/token/passkey/", answer.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let me = app.get("/api/me/", Some(&str_of(&r.body["access"]))).await;
    assert_eq!(me.body["username"], "alice");
    let r = app.post("/api/token/passkey/", answer).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, json!({"ceremony": [EXPIRED]})));

    let r = app.get("/api/mfa/passkeys/", Some(&access)).await;
    assert!(r.body[0]["last_used_at"].is_i64(), "{}", r.body);
    let log = events(&app).await;
    let used: Vec<&Value> = log.iter().filter(|(e, _)| e == "mfa_used").map(|(_, d)| d).collect();
    assert_eq!(used.len(), 2, "{log:?}");
    assert!(
        used.iter().any(|d| d["passwordless"] == true) && used.iter().any(|d| d["passwordless"] == false)
    );
    assert!(log.iter().any(|(e, d)| e == "mfa_enabled" && d["factor"] == "passkey" && d["name"] == "Laptop"));

    // Removing a passkey takes a proof of presence: an access token alone cannot.
    let path = format!("/api/mfa/passkeys/{passkey_id}/");
    let r = app.request(Method::DELETE, &path, None, Some(&access)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.body["code"], json!("reauthentication_required"));
    let r =
        app.request(Method::DELETE, &path, Some(json!({"password": "not it at all"})), Some(&access)).await;
    let wrong = "Your password was entered incorrectly. Please enter it again.";
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, json!({"password": [wrong]})));
    assert_eq!(app.get("/api/mfa/passkeys/", Some(&access)).await.body.as_array().map(Vec::len), Some(1));

    // The password alone is less than this account's login asks: a code too (here a
    // recovery code), or the passkey.
    let r = app.request(Method::DELETE, &path, Some(json!({"password": PASSWORD})), Some(&access)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["code"][0], json!(authenticon::auth::presence::SECOND_FACTOR_NEEDED));
    // Removing the only passkey turns the second step off, and its recovery codes go.
    let body = json!({"password": PASSWORD, "code": recovery_code});
    let r = app.request(Method::DELETE, &path, Some(body), Some(&access)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = app.request(Method::DELETE, &path, Some(json!({"password": PASSWORD})), Some(&access)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get("/api/mfa/", Some(&access)).await;
    assert_eq!(r.body, json!({"totp": false, "passkeys": 0, "recovery_codes_left": 0}));
    app.login("alice").await;
    assert!(events(&app).await.iter().any(|(e, d)| e == "mfa_disabled" && d["factor"] == "passkey"));
}

#[tokio::test]
async fn forged_foreign_and_malformed_passkey_answers_are_refused() {
    let app = spawn().await;
    app.register("alice").await;
    let (access, _) = app.login("alice").await;
    let mut key = SoftKey::new();
    register_passkey(&app, &access, &mut key, "Phone").await;

    let start = || async { app.post("/api/passkeys/login/", json!({})).await.body };
    // Signed by another key under the registered credential id.
    let options = start().await;
    let other = SigningKey::random(&mut rand_core_06::OsRng);
    let answer = json!({"ceremony": options["ceremony"], "credential": key.sign_with(&options, &other)});
    let r = app.post("/api/token/passkey/", answer).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, json!({"credential": [NOT_VERIFIED]})));
    // Signed for another site (a phishing page relaying the challenge).
    let options = start().await;
    key.origin = "https://evil.example".into();
    let answer = json!({"ceremony": options["ceremony"], "credential": key.get(&options)});
    key.origin = ORIGIN.into();
    let r = app.post("/api/token/passkey/", answer).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, json!({"credential": [NOT_VERIFIED]})));
    // A credential this service never registered.
    let options = start().await;
    let mut stranger = SoftKey::new();
    let answer = json!({"ceremony": options["ceremony"], "credential": stranger.get(&options)});
    let r = app.post("/api/token/passkey/", answer).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"credential": ["This passkey is not registered here."]}))
    );
    // Shapes that are no answer at all.
    let options = start().await;
    for (body, expected) in [
        (json!({"ceremony": options["ceremony"]}), json!({"credential": ["This field is required."]})),
        (
            json!({"ceremony": options["ceremony"], "credential": "x"}),
            json!({"credential": ["Not a passkey answer."]}),
        ),
        (
            json!({"ceremony": options["ceremony"], "credential": {"id": 1}}),
            json!({"credential": ["Not a passkey answer."]}),
        ),
        (json!({"ceremony": "nope", "credential": key.get(&options)}), json!({"ceremony": [EXPIRED]})),
        (json!({"credential": {}}), json!({"ceremony": ["This field is required."]})),
    ] {
        let r = app.post("/api/token/passkey/", body.clone()).await;
        assert_eq!((r.status, &r.body), (StatusCode::BAD_REQUEST, &expected), "{body}");
    }
    // The same ceremony still works for the real key: a refused answer did not spend it
    // unless it reached verification.
    let answer = json!({"ceremony": options["ceremony"], "credential": key.get(&options)});
    let r = app.post("/api/token/passkey/", answer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let failed =
        events(&app).await.iter().filter(|(e, d)| e == "mfa_failed" && d["method"] == "passkey").count();
    assert_eq!(failed, 2, "forged and foreign signatures are audited");

    // With a factor, adding another takes a second-factor proof: here the passkey itself,
    // through the session's re-authentication. A phishing page's relay cannot give it.
    let r = app
        .request(
            Method::POST,
            "/api/mfa/passkeys/",
            Some(json!({"name": "Key", "password": PASSWORD})),
            Some(&access),
        )
        .await;
    assert_eq!(r.body["code"][0], json!(authenticon::auth::presence::SECOND_FACTOR_NEEDED), "{}", r.body);
    let reauth =
        |body: Value| app.request(Method::POST, "/api/me/reauthenticate/", Some(body), Some(&access));
    let options =
        app.request(Method::POST, "/api/me/reauthenticate/passkey/", None, Some(&access)).await.body;
    key.origin = "https://evil.example".into();
    let r = reauth(json!({"credential": key.get(&options)})).await;
    key.origin = ORIGIN.into();
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, json!({"credential": [NOT_VERIFIED]})));
    let options =
        app.request(Method::POST, "/api/me/reauthenticate/passkey/", None, Some(&access)).await.body;
    let r = reauth(json!({"credential": key.get(&options)})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A second passkey of the same user brings no new recovery codes; the same
    // authenticator cannot register twice.
    let mut second = SoftKey::new();
    let r = register_passkey(&app, &access, &mut second, "Key").await;
    assert_eq!(r["recovery_codes"], json!([]));
    let r = app
        .request(
            Method::POST,
            "/api/mfa/passkeys/",
            Some(json!({"name": "Again", "password": PASSWORD})),
            Some(&access),
        )
        .await;
    assert_eq!(r.body["publicKey"]["excludeCredentials"].as_array().unwrap().len(), 2);
    let answer = json!({"ceremony": r.body["ceremony"], "credential": key.create(&r.body)});
    let r = app.request(Method::POST, "/api/mfa/passkeys/confirm/", Some(answer), Some(&access)).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"credential": ["This passkey is registered already."]}))
    );
    for name in ["", &"x".repeat(65)] {
        let r = app
            .request(
                Method::POST,
                "/api/mfa/passkeys/",
                Some(json!({"name": name, "password": PASSWORD})),
                Some(&access),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body["name"].is_array(), "{}", r.body);
    }
    // Another user cannot finish alice's registration, nor remove her passkeys.
    app.register("mallory").await;
    let (mallory, _) = app.login("mallory").await;
    let r = app
        .request(
            Method::POST,
            "/api/mfa/passkeys/",
            Some(json!({"name": "Mine", "password": PASSWORD})),
            Some(&access),
        )
        .await;
    let answer = json!({"ceremony": r.body["ceremony"], "credential": SoftKey::new().create(&r.body)});
    let r = app.request(Method::POST, "/api/mfa/passkeys/confirm/", Some(answer), Some(&mallory)).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, json!({"ceremony": [EXPIRED]})));
    let alices = app.get("/api/mfa/passkeys/", Some(&access)).await.body;
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/mfa/passkeys/{}/", str_of(&alices[0]["id"])),
            Some(json!({"password": PASSWORD})),
            Some(&mallory),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn passwordless_logins_started_are_throttled_per_address() {
    let app = spawn_with(|c| c.throttle.passkey_logins_per_address = 2).await;
    for _ in 0..2 {
        assert_eq!(app.post("/api/passkeys/login/", json!({})).await.status, StatusCode::OK);
    }
    let r = app.post("/api/passkeys/login/", json!({})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    let wait: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
}

#[tokio::test]
async fn a_role_that_requires_mfa_lends_its_permissions_only_with_a_factor() {
    let app = spawn_with(|c| c.mfa_required_roles = vec!["admin".into()]).await;
    let user = app.register("bob").await;
    let bob = str_of(&user["id"]);
    app.state
        .roles
        .assign(authenticon::auth::rbac::Actor::Operator, &bob, &["admin".into()], &AuditMeta::default())
        .await
        .unwrap();
    let (access, _) = app.login("bob").await;

    let r = app.get("/api/users/", Some(&access)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body,
        json!({"detail": "Your role requires two-factor authentication. Turn it on to continue.",
               "code": "mfa_enrollment_required"})
    );
    // Signing in, plain protected routes and enrolment stay open.
    assert_eq!(app.get("/protected-resource/", Some(&access)).await.status, StatusCode::OK);
    let mut key = SoftKey::new();
    register_passkey(&app, &access, &mut key, "Laptop").await;
    let r = app.get("/api/users/", Some(&access)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // An administrator's reset removes the passkey too, and the role waits again.
    let root = Registration {
        username: "root".into(),
        email: String::new(),
        password: Some(Secret::new(PASSWORD)),
        is_superuser: true,
        roles: Default::default(),
    };
    app.state.accounts.create_user(root, &AuditMeta::default()).await.unwrap();
    let (root_access, _) = app.login("root").await;
    let r = app.request(Method::DELETE, &format!("/api/users/{bob}/mfa/"), None, Some(&root_access)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get("/api/mfa/", Some(&access)).await;
    assert_eq!(r.body, json!({"totp": false, "passkeys": 0, "recovery_codes_left": 0}));
    let r = app.get("/api/users/", Some(&access)).await;
    assert_eq!(r.body["code"], "mfa_enrollment_required");
    let reset = events(&app).await.into_iter().find(|(e, _)| e == "mfa_reset").expect("mfa_reset audited");
    assert_eq!(reset.1["passkeys"], 1);

    // A user without such a role is not asked.
    app.register("carol").await;
    let (carol_access, _) = app.login("carol").await;
    let r = app.get("/api/users/", Some(&carol_access)).await;
    assert_eq!(r.body["detail"], "You do not have permission to perform this action.");
    assert!(r.body.get("code").is_none());
}

#[tokio::test]
async fn a_passwordless_login_honours_the_verified_email_setting() {
    let first = spawn().await;
    let r = first
        .post("/register/", json!({"username": "alice", "password": PASSWORD, "email": "alice@example.com"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let (access, _) = first.login("alice").await;
    let mut key = SoftKey::new();
    register_passkey(&first, &access, &mut key, "Laptop").await;
    // The same database, with AUTHENTICON_REQUIRE_VERIFIED_EMAIL on.
    let shared = first.database_url.clone();
    let strict = spawn_with(|c| {
        c.database_url = shared;
        c.require_verified_email = true;
    })
    .await;
    let answer = passwordless_answer(&strict, &mut key).await;
    let r = strict.post("/api/token/passkey/", answer).await;
    assert_eq!((r.status, r.body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("email_not_verified")));
    // Without the setting, the same passkey signs in.
    let answer = passwordless_answer(&first, &mut key).await;
    assert_eq!(first.post("/api/token/passkey/", answer).await.status, StatusCode::OK);
}

/// An answer to a passwordless login's options, signed by `key`.
async fn passwordless_answer(app: &TestApp, key: &mut SoftKey) -> Value {
    let options = app.post("/api/passkeys/login/", json!({})).await.body;
    json!({"ceremony": options["ceremony"], "credential": key.get(&options)})
}
