//! Authenticon as the OpenID provider of another Authenticon: the generic OpenID Connect
//! path (discovery, PKCE, nonce, id token, userinfo, RFC 9207 `iss`) against a real
//! provider, on both stores. The downstream service names the upstream in its settings;
//! the upstream's user approves the sign-in request as its web app would.

use std::collections::BTreeMap;

use authenticon::config::{ExternalProvider, Protocol, Signup};
use authenticon::domain::Secret;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::external::{access_of, browser, callback, location, page_of, set_cookie};
use crate::support::*;

struct Pair {
    upstream: TestApp,
    downstream: TestApp,
    /// ann's access token at the upstream.
    ann: String,
    /// Superusers' access tokens at each.
    up_root: String,
    down_root: String,
}

/// An upstream with a verified user ann and a client for the downstream; the downstream
/// with the upstream as provider `up` (sign-up on).
async fn pair() -> Pair {
    pair_with(|_| {}).await
}

async fn pair_with(adjust: impl FnOnce(&mut ExternalProvider) + Send + 'static) -> Pair {
    let (up_port, down_port) = (unused_port(), unused_port());
    let up_url = format!("http://127.0.0.1:{up_port}");
    let down_url = format!("http://127.0.0.1:{down_port}");
    let public = up_url.clone();
    let (upstream, sink) = with_mail(move |c| {
        c.bind = format!("127.0.0.1:{up_port}").parse().unwrap();
        c.public_url = Some(public);
    })
    .await;
    register_verified(&upstream, &sink, "ann", "ann@up.example").await;
    let (_, root) = superuser(&upstream, "root").await;
    let body = json!({"name": "Downstream", "scopes": ["openid", "profile", "email", "roles"],
                      "redirect_uris": [format!("{down_url}/oauth/external/up/callback")]});
    let r = upstream.request(Method::POST, "/api/clients/", Some(body), Some(&root)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (client_id, secret) = (str_of(&r.body["client_id"]), str_of(&r.body["client_secret"]));
    let mut provider = ExternalProvider {
        name: "up".into(),
        display_name: "Upstream".into(),
        protocol: Protocol::OpenIdConnect { issuer: up_url },
        client_id,
        client_secret: Secret::new(secret),
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        signup: Signup::On,
        domain_claim: None,
        roles_claim: None,
        roles: BTreeMap::new(),
    };
    adjust(&mut provider);
    let downstream = spawn_with(move |c| {
        c.bind = format!("127.0.0.1:{down_port}").parse().unwrap();
        c.public_url = Some(down_url);
        c.external_providers = vec![provider];
    })
    .await;
    let (ann, _) = upstream.login("ann").await;
    let (_, down_root) = superuser(&downstream, "root").await;
    Pair { upstream, downstream, ann, up_root: root, down_root }
}

/// Start at the downstream, approve at the upstream as ann: the callback path (with
/// `rewrite` applied to the authorization URL and then to the callback URL) and the trip's cookie.
async fn approved(p: &Pair, rewrite: impl Fn(&str, String) -> String) -> (String, String) {
    let b = browser();
    let r = b.get(format!("{}/oauth/external/up/start", p.downstream.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let binding = set_cookie(&r, "authenticon_external").unwrap();
    let to = rewrite("authorize", location(&r));
    assert!(to.starts_with(&format!("{}/oauth/authorize?", p.upstream.url)), "{to}");
    let r = b.get(&to).send().await.unwrap();
    let pending = location(&r);
    let handle = pending.strip_prefix("/authorize?request=").unwrap_or_else(|| panic!("{pending}"));
    let path = format!("/api/oauth/requests/{handle}/");
    let r = p.upstream.request(Method::POST, &path, Some(json!({"decision": "allow"})), Some(&p.ann)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let back = rewrite("callback", str_of(&r.body["redirect_to"]));
    let query = back.split_once('?').unwrap().1.to_string();
    (format!("/oauth/external/up/callback?{query}"), binding)
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != name)
        .chain([(name.into(), value.into())])
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

#[tokio::test]
async fn another_authenticon_signs_its_users_in_here() {
    let p = pair().await;
    let (path, binding) = approved(&p, |_, url| url).await;
    assert!(path.contains("iss="), "the upstream names itself (RFC 9207): {path}");
    let r = callback(&p.downstream, &path, Some(&binding)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    assert_eq!(location(&r), "/");
    let session = access_of(&p.downstream, &set_cookie(&r, "authenticon_refresh").unwrap()).await;
    assert_eq!(session["user"]["username"], "ann");
    assert_eq!(session["user"]["email"], "ann@up.example");
    let ids = p.downstream.get("/api/me/identities/", Some(&str_of(&session["access"]))).await;
    assert_eq!(ids.body[0]["provider"], "up");
    assert_eq!(ids.body[0]["email"], "ann@up.example");
    let up_id: Value = p.upstream.get("/api/me/", Some(&p.ann)).await.body;
    let identity =
        p.downstream.state.store.external_identities_of(&str_of(&session["user"]["id"])).await.unwrap();
    assert_eq!(identity[0].subject, str_of(&up_id["id"]), "the subject is the upstream's user id");
    assert_eq!(identity[0].issuer, p.upstream.url);
}

#[tokio::test]
async fn a_changed_nonce_or_issuer_signs_no_one_in() {
    let p = pair().await;
    let refused = |(status, page): (StatusCode, String)| {
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("<h1>Sign-in could not be verified</h1>"), "{page}");
    };
    // The authorization request's nonce swapped on the way: the id token carries the
    // other one.
    let (path, binding) =
        approved(&p, |hop, url| if hop == "authorize" { with_param(&url, "nonce", "attacker") } else { url })
            .await;
    refused(page_of(callback(&p.downstream, &path, Some(&binding)).await).await);
    // The answer claims to come from another issuer (mix-up).
    let (path, binding) =
        approved(
            &p,
            |hop, url| {
                if hop == "callback" {
                    with_param(&url, "iss", "https://evil.example")
                } else {
                    url
                }
            },
        )
        .await;
    refused(page_of(callback(&p.downstream, &path, Some(&binding)).await).await);
    // A code the upstream never issued.
    let (path, binding) =
        approved(&p, |hop, url| if hop == "callback" { with_param(&url, "code", "forged") } else { url })
            .await;
    refused(page_of(callback(&p.downstream, &path, Some(&binding)).await).await);
    let users = p.downstream.state.store.count_users_with_verified_email("ann@up.example").await.unwrap();
    assert_eq!(users, 0, "nothing was made");
}

/// Signs ann in downstream; her roles there.
async fn roles_after_sign_in(p: &Pair) -> Value {
    let (path, binding) = approved(p, |_, url| url).await;
    let r = callback(&p.downstream, &path, Some(&binding)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    access_of(&p.downstream, &set_cookie(&r, "authenticon_refresh").unwrap()).await["user"]["roles"].clone()
}

async fn role(app: &TestApp, token: &str, name: &str) {
    let body = json!({"name": name, "permissions": ["users.view"]});
    let r = app.request(Method::POST, "/api/roles/", Some(body), Some(token)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn a_claim_gives_only_the_roles_its_mapping_names() {
    let p = pair_with(|provider| {
        provider.scopes.push("roles".into());
        provider.roles_claim = Some("roles".into());
        provider.roles = BTreeMap::from([("staff".to_string(), vec!["support".to_string()])]);
    })
    .await;
    role(&p.upstream, &p.up_root, "staff").await;
    role(&p.upstream, &p.up_root, "admins-elsewhere").await;
    role(&p.downstream, &p.down_root, "support").await;
    role(&p.downstream, &p.down_root, "bystander").await;
    let ann_up = str_of(&p.upstream.get("/api/me/", Some(&p.ann)).await.body["id"]);
    let set_up_roles = |roles: Value| {
        let path = format!("/api/users/{ann_up}/roles/");
        let (up, root) = (&p.upstream, p.up_root.clone());
        async move {
            let r = up.request(Method::PUT, &path, Some(json!({"roles": roles})), Some(&root)).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    };
    // An upstream role the mapping does not name gives nothing here.
    set_up_roles(json!(["staff", "admins-elsewhere"])).await;
    assert_eq!(roles_after_sign_in(&p).await, json!(["support"]));

    // A role given here by hand is not the mapping's to take.
    let ann_down = p.downstream.state.store.user_by_username_key("ann").await.unwrap().unwrap().id;
    let path = format!("/api/users/{ann_down}/roles/");
    let body = json!({"roles": ["support", "bystander"]});
    let r = p.downstream.request(Method::PUT, &path, Some(body), Some(&p.down_root)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    set_up_roles(json!([])).await;
    assert_eq!(roles_after_sign_in(&p).await, json!(["bystander"]), "the mapped role went with the claim");

    // Unlinked, the provider's roles go too (a usable password keeps the account reachable).
    set_up_roles(json!(["staff"])).await;
    assert_eq!(roles_after_sign_in(&p).await, json!(["bystander", "support"]));
    let audit = authenticon::store::AuditMeta::default();
    p.downstream
        .state
        .store
        .set_password(&ann_down, "pbkdf2_sha256$1$salt$hash", None, 0, &audit)
        .await
        .unwrap();
    let (path, binding) = approved(&p, |_, url| url).await;
    let r = callback(&p.downstream, &path, Some(&binding)).await;
    let access =
        str_of(&access_of(&p.downstream, &set_cookie(&r, "authenticon_refresh").unwrap()).await["access"]);
    let ids = p.downstream.get("/api/me/identities/", Some(&access)).await;
    let path = format!("/api/me/identities/{}/", str_of(&ids.body[0]["id"]));
    let r = p.downstream.request(Method::DELETE, &path, None, Some(&access)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let roles = p.downstream.state.store.user_by_id(&ann_down).await.unwrap().unwrap().roles;
    assert_eq!(roles, ["bystander"]);
}

#[tokio::test]
async fn a_domain_list_with_a_domain_claim_needs_the_claim_too() {
    // As Google's preset: an address in the domain is not enough without `hd`.
    let p = pair_with(|provider| {
        provider.signup = Signup::Domains(vec!["up.example".into()]);
        provider.domain_claim = Some("hd".into());
    })
    .await;
    let (path, binding) = approved(&p, |_, url| url).await;
    let (status, page) = page_of(callback(&p.downstream, &path, Some(&binding)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("<h1>No account</h1>"), "{page}");
}
