//! Sign-in with an external provider, GitHub's preset against a stand-in that speaks
//! GitHub's documented shapes (support/github.rs): accounts made just in time, links only
//! with a proof of the account, callbacks bound to their browser and spent once, a
//! provider that is down, and the second factor after an external sign-in. The OpenID
//! Connect path runs against a real provider in the browser suite (web/e2e/external.mjs).

use std::collections::BTreeMap;

use authenticon::config::{ExternalProvider, Protocol, Signup};
use authenticon::domain::Secret;
use authenticon::store::{AuditFilter, AuditMeta, ExternalIdentityRow};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::mfa::{code, enrolled};
use crate::support::github::{GitHubStandIn, CLIENT_ID, CLIENT_SECRET};
use crate::support::*;

fn github(url: &str, signup: Signup) -> ExternalProvider {
    ExternalProvider {
        name: "github".into(),
        display_name: "GitHub".into(),
        protocol: Protocol::GitHub { web_url: url.into(), api_url: url.into() },
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(CLIENT_SECRET),
        scopes: vec!["read:user".into(), "user:email".into()],
        signup,
        domain_claim: None,
        roles_claim: None,
        roles: BTreeMap::new(),
    }
}

async fn with_github(signup: Signup) -> (TestApp, GitHubStandIn) {
    let gh = GitHubStandIn::start().await;
    let url = gh.url.clone();
    let app = spawn_with(move |c| c.external_providers = vec![github(&url, signup)]).await;
    (app, gh)
}

/// A browser: no redirects followed, so each hop is seen.
pub(crate) fn browser() -> reqwest::Client {
    crate::support::client_builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A cookie's value in a response's `Set-Cookie` headers (`Some("")` when it is cleared).
pub(crate) fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let (pair, _) = v.split_once(';').unwrap_or((v, ""));
        pair.strip_prefix(&format!("{name}=")).map(str::to_string)
    })
}

pub(crate) fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

/// A trip to the provider as far as its redirect back: (callback path and query, the
/// trip's cookie).
async fn to_provider_and_back(
    app: &TestApp,
    gh: &GitHubStandIn,
    login: &str,
    next: &str,
) -> (String, String) {
    let b = browser();
    let r = b.get(format!("{}/oauth/external/github/start?next={next}", app.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let binding = set_cookie(&r, "authenticon_external").unwrap();
    let to = location(&r);
    assert!(to.starts_with(&format!("{}/login/oauth/authorize?", gh.url)), "{to}");
    assert!(to.contains("code_challenge_method=S256") && to.contains("state="), "{to}");
    gh.sign_in_as(login);
    let r = b.get(&to).send().await.unwrap();
    let back = location(&r);
    let query = back.split_once('?').unwrap().1;
    (format!("/oauth/external/github/callback?{query}"), binding)
}

pub(crate) async fn callback(app: &TestApp, path: &str, binding: Option<&str>) -> reqwest::Response {
    let mut req = browser().get(format!("{}{path}", app.url));
    if let Some(b) = binding {
        req = req.header("cookie", format!("authenticon_external={b}"));
    }
    req.send().await.unwrap()
}

/// The whole trip: the callback's response.
async fn sign_in(app: &TestApp, gh: &GitHubStandIn, login: &str) -> reqwest::Response {
    let (path, binding) = to_provider_and_back(app, gh, login, "/sessions").await;
    callback(app, &path, Some(&binding)).await
}

/// The access token of the browser session a refresh cookie holds.
pub(crate) async fn access_of(app: &TestApp, refresh_cookie: &str) -> Value {
    let r = browser()
        .post(format!("{}/api/session/refresh/", app.url))
        .header("cookie", format!("authenticon_refresh={refresh_cookie}"))
        .header("x-requested-with", "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

pub(crate) async fn page_of(r: reqwest::Response) -> (StatusCode, String) {
    let status = r.status();
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    (status, r.text().await.unwrap())
}

async fn user_count(app: &TestApp) -> i64 {
    app.state.store.count_users_with_verified_email("octo@example.com").await.unwrap()
}

async fn events(app: &TestApp) -> Vec<String> {
    let page = app.state.store.list_audit(&AuditFilter::default(), 0, 200).await.unwrap();
    page.rows.into_iter().map(|r| r.event).collect()
}

#[tokio::test]
async fn the_login_page_learns_the_providers() {
    let (app, _gh) = with_github(Signup::Off).await;
    let r = app.get("/api/auth/providers/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        json!([{"name": "github", "display_name": "GitHub", "start_url": "/oauth/external/github/start"}])
    );
    let r = browser().get(format!("{}/oauth/external/nope/start", app.url)).send().await.unwrap();
    assert_eq!(page_of(r).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_first_sign_in_makes_an_account_and_a_cookie_session() {
    let (app, gh) = with_github(Signup::On).await;
    gh.add_user(583231, "octocat", "octo@example.com", true);
    let r = sign_in(&app, &gh, "octocat").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/sessions");
    assert_eq!(set_cookie(&r, "authenticon_external").as_deref(), Some(""), "the trip's cookie is spent");
    let session = access_of(&app, &set_cookie(&r, "authenticon_refresh").unwrap()).await;
    let (_, claims) = parts(&str_of(&session["access"]));
    let state = app.state.store.session_state(&str_of(&claims["sid"])).await.unwrap().unwrap();
    assert_eq!(state.amr, "ext");
    assert_eq!(session["user"]["username"], "octocat");
    assert_eq!(session["user"]["email"], "octo@example.com");
    let access = str_of(&session["access"]);
    let me = app.get("/api/me/", Some(&access)).await;
    assert_eq!(me.body["email_verified"], true, "{}", me.body);
    let ids = app.get("/api/me/identities/", Some(&access)).await;
    assert_eq!(ids.body.as_array().unwrap().len(), 1);
    assert_eq!(ids.body[0]["provider"], "github");
    assert_eq!(ids.body[0]["display_name"], "GitHub");
    assert_eq!(ids.body[0]["email"], "octo@example.com");

    // The next sign-in finds the same account.
    let r = sign_in(&app, &gh, "octocat").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let again = access_of(&app, &set_cookie(&r, "authenticon_refresh").unwrap()).await;
    assert_eq!(again["user"]["id"], session["user"]["id"]);
    assert_eq!(user_count(&app).await, 1);
    let events = events(&app).await;
    assert_eq!(events.iter().filter(|e| *e == "register").count(), 1, "{events:?}");
    assert_eq!(events.iter().filter(|e| *e == "identity_linked").count(), 1, "{events:?}");

    // The only way into that account stays.
    let id = str_of(&ids.body[0]["id"]);
    let r = app.request(Method::DELETE, &format!("/api/me/identities/{id}/"), None, Some(&access)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["code"], "last_sign_in_method");
}

#[tokio::test]
async fn an_existing_accounts_address_is_linked_only_after_its_owner_signs_in() {
    let gh = GitHubStandIn::start().await;
    let url = gh.url.clone();
    let (app, sink) = with_mail(move |c| c.external_providers = vec![github(&url, Signup::On)]).await;
    let ann = register_verified(&app, &sink, "ann", "Octo@Example.com").await;
    app.register("mallory").await;
    // Same address, never verified: no claim to the identity.
    register_with_email(&app, "squatter", "octo@example.com").await;
    gh.add_user(1, "octocat", "octo@example.com", true);

    let r = sign_in(&app, &gh, "octocat").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login?link=github&next=%2Fsessions");
    assert_eq!(set_cookie(&r, "authenticon_refresh"), None, "an address alone signs no one in");
    let offer = set_cookie(&r, "authenticon_link").unwrap();
    assert!(offer.len() >= 40);
    let (ann_access, _) = app.login("ann").await;
    assert_eq!(app.get("/api/me/identities/", Some(&ann_access)).await.body, json!([]));

    // Another account signing in with the offer gets nothing linked, and spends it.
    let login = |user: &'static str, offer: String| {
        browser()
            .post(format!("{}/api/session/login/", app.url))
            .header("cookie", format!("authenticon_link={offer}"))
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
    };
    let r = login("squatter", offer).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(set_cookie(&r, "authenticon_link").as_deref(), Some(""));
    let (squatter, _) = app.login("squatter").await;
    assert_eq!(app.get("/api/me/identities/", Some(&squatter)).await.body, json!([]));
    let r = sign_in(&app, &gh, "octocat").await;
    assert!(location(&r).starts_with("/login?link=github"), "not linked to the squatter");
    let r = login("mallory", set_cookie(&r, "authenticon_link").unwrap()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(set_cookie(&r, "authenticon_link").as_deref(), Some(""));
    let r = sign_in(&app, &gh, "octocat").await;
    assert!(location(&r).starts_with("/login?link=github"), "still not linked");

    // The owner's sign-in, in the browser that holds the offer, links it.
    let r = login("ann", set_cookie(&r, "authenticon_link").unwrap()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ids = app.get("/api/me/identities/", Some(&ann_access)).await;
    assert_eq!(ids.body[0]["provider"], "github", "{}", ids.body);
    let mail = sink.wait_for_mail("Octo@Example.com", "A sign-in method was linked to your account").await;
    assert!(
        str_of(&mail["body"]).contains("Your GitHub account can now sign in to the account \"ann\""),
        "{mail}"
    );
    let r = sign_in(&app, &gh, "octocat").await;
    assert_eq!(location(&r), "/sessions");
    let session = access_of(&app, &set_cookie(&r, "authenticon_refresh").unwrap()).await;
    assert_eq!(session["user"]["id"], ann["id"]);

    // Administrators see it; others may not look.
    let (_, root) = superuser(&app, "root").await;
    let r = app.get(&format!("/api/users/{}/identities/", str_of(&ann["id"])), Some(&root)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body[0]["email"], "octo@example.com");
    let (mallory, _) = app.login("mallory").await;
    let r = app.get(&format!("/api/users/{}/identities/", str_of(&ann["id"])), Some(&mallory)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // With a password beside it, the identity may go.
    let id = str_of(&ids.body[0]["id"]);
    let r = app.request(Method::DELETE, &format!("/api/me/identities/{id}/"), None, Some(&ann_access)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert!(events(&app).await.contains(&"identity_unlinked".to_string()));
    sink.wait_for_mail("Octo@Example.com", "A sign-in method was unlinked from your account").await;
}

#[tokio::test]
async fn unverified_addresses_and_closed_signups_make_nothing() {
    let (app, gh) = with_github(Signup::On).await;
    gh.add_user(7, "octocat", "octo@example.com", false);
    let (status, page) = page_of(sign_in(&app, &gh, "octocat").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("<h1>Email address not verified</h1>"), "{page}");
    assert_eq!(user_count(&app).await, 0);

    // An address typed into an account but never verified is no claim to it: no offer.
    let (app, gh) = with_github(Signup::Off).await;
    register_with_email(&app, "squatter", "octo@example.com").await;
    gh.add_user(7, "octocat", "octo@example.com", true);
    let (status, page) = page_of(sign_in(&app, &gh, "octocat").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("<h1>No account</h1>"), "{page}");

    let (app, gh) = with_github(Signup::Domains(vec!["corp.example".into()])).await;
    gh.add_user(8, "octocat", "octo@example.com", true);
    let (status, page) = page_of(sign_in(&app, &gh, "octocat").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("<h1>No account</h1>"), "{page}");
    assert_eq!(user_count(&app).await, 0);
    assert!(events(&app).await.contains(&"external_login_failed".to_string()));
    // An answer past the size limit is the provider's fault: 502, nothing made.
    gh.add_user(10, "huge", "huge@corp.example", true);
    let (status, _) = page_of(sign_in(&app, &gh, "huge").await).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(app.state.store.count_users_with_verified_email("huge@corp.example").await.unwrap(), 0);
    gh.add_user(9, "worker", "w@corp.example", true);
    assert_eq!(sign_in(&app, &gh, "worker").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_callback_counts_once_in_the_browser_that_started_it_and_only_for_ten_minutes() {
    let (app, gh) = with_github(Signup::On).await;
    gh.add_user(1, "octocat", "octo@example.com", true);
    let expired = |(status, page): (StatusCode, String)| {
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("<h1>This sign-in has expired</h1>"), "{page}");
    };

    // Another browser (no cookie, or another trip's) cannot use it: login CSRF.
    let (path, _) = to_provider_and_back(&app, &gh, "octocat", "/").await;
    expired(page_of(callback(&app, &path, None).await).await);
    let failed = |app: &TestApp| {
        let store = app.state.store.clone();
        async move {
            let page = store.list_audit(&AuditFilter::default(), 0, 200).await.unwrap();
            page.rows
                .into_iter()
                .filter(|r| r.event == "external_login_failed")
                .map(|r| r.detail)
                .collect::<Vec<_>>()
        }
    };
    let audited = failed(&app).await;
    assert_eq!(audited.len(), 1);
    assert!(audited[0].contains("wrong_browser"), "{audited:?}");
    let (path, _) = to_provider_and_back(&app, &gh, "octocat", "/").await;
    let (_, other) = to_provider_and_back(&app, &gh, "octocat", "/").await;
    expired(page_of(callback(&app, &path, Some(&other)).await).await);

    // A state that was never issued.
    let (path, binding) = to_provider_and_back(&app, &gh, "octocat", "/").await;
    let forged = path.replace("state=", "state=x");
    expired(page_of(callback(&app, &forged, Some(&binding)).await).await);
    assert_eq!(failed(&app).await.len(), 2, "junk writes nothing (the two above are the other browsers)");

    // Replayed.
    let (path, binding) = to_provider_and_back(&app, &gh, "octocat", "/").await;
    assert_eq!(callback(&app, &path, Some(&binding)).await.status(), StatusCode::SEE_OTHER);
    expired(page_of(callback(&app, &path, Some(&binding)).await).await);

    // Late.
    let (path, binding) = to_provider_and_back(&app, &gh, "octocat", "/").await;
    app.clock.advance(601);
    expired(page_of(callback(&app, &path, Some(&binding)).await).await);

    // The provider saying no.
    let (path, binding) = to_provider_and_back(&app, &gh, "octocat", "/").await;
    let state = path.split("state=").nth(1).unwrap();
    let denied = format!("/oauth/external/github/callback?error=access_denied&state={state}");
    let (status, page) = page_of(callback(&app, &denied, Some(&binding)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("<h1>Sign-in cancelled</h1>"), "{page}");

    // `next` never leaves the site.
    let b = browser();
    let r = b
        .get(format!("{}/oauth/external/github/start?next=https://evil.example/", app.url))
        .send()
        .await
        .unwrap();
    let binding = set_cookie(&r, "authenticon_external").unwrap();
    let r = b.get(location(&r)).send().await.unwrap();
    let query = location(&r).split_once('?').unwrap().1.to_string();
    let r = callback(&app, &format!("/oauth/external/github/callback?{query}"), Some(&binding)).await;
    assert_eq!(location(&r), "/");
}

#[tokio::test]
async fn a_provider_that_is_down_gets_a_page_and_leaves_nothing_behind() {
    let port = unused_port();
    let down = format!("http://127.0.0.1:{port}");
    let oidc = ExternalProvider {
        name: "corp".into(),
        display_name: "Corp SSO".into(),
        protocol: Protocol::OpenIdConnect { issuer: down.clone() },
        ..github(&down, Signup::On)
    };
    let gh = github(&down, Signup::On);
    let app = spawn_with(move |c| c.external_providers = vec![gh, oidc]).await;

    // OpenID Connect needs its discovery before the browser can go: 502 at once.
    let (status, page) =
        page_of(browser().get(format!("{}/oauth/external/corp/start", app.url)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(page.contains("<h1>Corp SSO is not answering</h1>"), "{page}");

    // GitHub's address is known without asking; its token endpoint is not there.
    let b = browser();
    let r = b.get(format!("{}/oauth/external/github/start", app.url)).send().await.unwrap();
    let binding = set_cookie(&r, "authenticon_external").unwrap();
    let to = location(&r);
    let state = to.split("state=").nth(1).unwrap().split('&').next().unwrap();
    let r =
        callback(&app, &format!("/oauth/external/github/callback?code=abc&state={state}"), Some(&binding))
            .await;
    let (status, page) = page_of(r).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(page.contains("nothing changed"), "{page}");
    assert_eq!(user_count(&app).await, 0);

    // A linking attempt over the API says so in JSON.
    let (access, _) = {
        app.register("ann").await;
        app.login("ann").await
    };
    let r = app
        .request(
            Method::POST,
            "/api/me/identities/",
            Some(json!({"provider": "corp", "password": PASSWORD})),
            Some(&access),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        r.body,
        json!({"detail": "The identity provider could not be reached. Try again later.", "code": "provider_unavailable"})
    );
}

#[tokio::test]
async fn an_account_with_a_second_factor_still_needs_it() {
    let (app, gh) = with_github(Signup::Off).await;
    gh.add_user(1, "octocat", "octo@example.com", true);
    let (_, secret, recovery) = enrolled(&app, "carol").await;
    let carol = app.state.store.user_by_username_key("carol").await.unwrap().unwrap();
    let identity = ExternalIdentityRow {
        id: "id-0".into(),
        user_id: carol.id.clone(),
        provider: "github".into(),
        issuer: "https://github.old.example".into(),
        subject: "1".into(),
        email: String::new(),
        created_at: 0,
        last_used_at: None,
    };
    app.state.store.link_external_identity(&identity, &AuditMeta::default()).await.unwrap();
    // User 1 of another GitHub (the settings moved to a new instance) is not carol.
    let (status, page) = page_of(sign_in(&app, &gh, "octocat").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("<h1>No account</h1>"), "{page}");

    let identity = ExternalIdentityRow { id: "id-1".into(), issuer: gh.url.clone(), ..identity };
    app.state.store.link_external_identity(&identity, &AuditMeta::default()).await.unwrap();

    let r = sign_in(&app, &gh, "octocat").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(set_cookie(&r, "authenticon_refresh"), None, "no session before the second factor");
    let to = location(&r);
    let fragment = to.strip_prefix("/login#").unwrap_or_else(|| panic!("{to}"));
    let params: BTreeMap<String, String> =
        url::form_urlencoded::parse(fragment.as_bytes()).into_owned().collect();
    assert_eq!(params["methods"], "totp,recovery_code");
    assert_eq!(params["next"], "/sessions");
    let r = browser()
        .post(format!("{}/api/session/mfa/", app.url))
        .json(&json!({"mfa_token": params["mfa_token"], "code": code(&secret, 1)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user"]["username"], "carol");
    // The session names both steps: the provider, then the code (never a password).
    let (_, claims) = parts(&str_of(&body["access"]));
    let session = app.state.store.session_state(&str_of(&claims["sid"])).await.unwrap().unwrap();
    assert_eq!(session.amr, "ext otp mfa");

    // The same account by its password and a code: its session says so.
    let r = browser()
        .post(format!("{}/api/session/login/", app.url))
        .json(&json!({"username": "carol", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let step: Value = r.json().await.unwrap();
    let r = browser()
        .post(format!("{}/api/session/mfa/", app.url))
        // The authenticator's step was spent above: a recovery code is a code too.
        .json(&json!({"mfa_token": step["mfa_token"], "code": recovery[0]}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    let (_, claims) = parts(&str_of(&body["access"]));
    let session = app.state.store.session_state(&str_of(&claims["sid"])).await.unwrap().unwrap();
    assert_eq!(session.amr, "pwd otp mfa");
}

#[tokio::test]
async fn linking_from_the_account_page_takes_a_fresh_proof() {
    let (app, gh) = with_github(Signup::Off).await;
    gh.add_user(1, "octocat", "octo@example.com", true);
    app.register("ann").await;
    app.register("bob").await;
    let (access, _) = app.login("ann").await;
    let r = app
        .request(Method::POST, "/api/me/identities/", Some(json!({"provider": "github"})), Some(&access))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["code"], "reauthentication_required");

    let link = |access: String| {
        let app = &app;
        let gh = &gh;
        async move {
            let r = browser()
                .post(format!("{}/api/me/identities/", app.url))
                .bearer_auth(access)
                .json(&json!({"provider": "github", "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let binding = set_cookie(&r, "authenticon_external").unwrap();
            let body: Value = r.json().await.unwrap();
            gh.sign_in_as("octocat");
            let r = browser().get(str_of(&body["redirect_to"])).send().await.unwrap();
            let query = location(&r).split_once('?').unwrap().1.to_string();
            callback(app, &format!("/oauth/external/github/callback?{query}"), Some(&binding)).await
        }
    };
    let r = link(access.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/linked-accounts?linked=github");
    let ids = app.get("/api/me/identities/", Some(&access)).await;
    assert_eq!(ids.body[0]["provider"], "github");

    // One GitHub account, one account here.
    let (bob, _) = app.login("bob").await;
    let (status, page) = page_of(link(bob).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("already linked to another account"), "{page}");
}
