"""Authlib (an OAuth 2.0 and OpenID Connect client library) against the real `authenticon
serve`: discovery, the code flow with PKCE through the web app's login page in Chromium,
the id token (verified by PyJWT against the JWKS), userinfo, refresh rotation, revocation,
introspection, a public client, client_credentials and RP-initiated logout.

Run by `make test-oidc` through interop/oidc/run.sh, which starts the server, registers
the clients and a user, and names them in OIDC_* variables. The steps run in order, as one
application's life: the browser signs in once and stays signed in until the logout. Each
step runs even when one before it failed; the exit status is non-zero if any failed."""
import json
import os
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import authlib
import jwt
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.discovery import OpenIDProviderMetadata, get_well_known_url
from playwright.sync_api import TimeoutError as BrowserTimeout
from playwright.sync_api import sync_playwright

# The test server speaks plain http, on loopback.
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

ISSUER = os.environ["OIDC_ISSUER"]
CALLBACK = os.environ["OIDC_CALLBACK"]
USERNAME = os.environ["OIDC_USERNAME"]
PASSWORD = os.environ["OIDC_PASSWORD"]
WEB, SPA, SERVICE = (json.loads(os.environ[name]) for name in ("OIDC_WEB", "OIDC_SPA", "OIDC_SERVICE"))
SCOPE = "openid profile email offline_access"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


class Callback(BaseHTTPRequestHandler):
    """The application's own web server: keeps the last URL the browser came back with."""

    last = None

    def do_GET(self):
        Callback.last = CALLBACK + self.path
        body = b'<!doctype html><link rel="icon" href="data:,"><title>Back at the application</title>'
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


META = requests.get(get_well_known_url(ISSUER, external=True), timeout=10).json()
JWKS = jwt.PyJWKClient(META["jwks_uri"])


def discovery(_page):
    """discovery: the issuer is the URL fetched; Authlib accepts the metadata (OpenID Connect
    Discovery 1.0 §3)"""
    assert META["issuer"] == ISSUER, f"the issuer is the URL fetched: {META['issuer']} != {ISSUER}"
    assert "S256" in META["code_challenge_methods_supported"], "PKCE S256 is advertised"
    OpenIDProviderMetadata(META).validate()


def verified(token, audience, typ):
    """A JWT of the provider's, verified with PyJWT against the JWKS: its claims. An id
    token's algorithm is one discovery names; an access token's (RFC 9068 §4) the one of
    the published key its header names."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == typ, f"the token's header should have typ {typ}: {header}"
    key = JWKS.get_signing_key_from_jwt(token)
    algorithms = META["id_token_signing_alg_values_supported"] if typ == "JWT" else [key.algorithm_name]
    return jwt.decode(token, key.key, algorithms=algorithms, audience=audience, issuer=ISSUER,
                      options={"require": ["iss", "sub", "aud", "exp", "iat"]})


def session(client, **options):
    """An Authlib client for a registered client (HTTP Basic with a secret, none without)."""
    return OAuth2Session(client["client_id"], client.get("client_secret"), scope=SCOPE,
                         redirect_uri=f"{CALLBACK}/callback", code_challenge_method="S256", **options)


def browse(page, url, sign_in=False, allow=False):
    """Opens `url` in the browser, signing in and allowing the application on the way when
    asked, and waits until the browser is back at the application: the URL it came back with."""
    Callback.last = None
    page.goto(url)
    if sign_in:
        page.get_by_label("Username").fill(USERNAME)
        assert urlsplit(page.url).path == "/login", f"the provider asks the user to sign in, not at {page.url}"
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
    if allow:
        page.get_by_role("button", name="Allow").click()
    try:
        page.wait_for_url(f"{CALLBACK}/**")
    except BrowserTimeout as e:
        raise AssertionError(f"the browser stopped at {page.url} ({page.title()!r})") from e
    return Callback.last


def code_flow(page, client, sign_in=False, allow=False):
    """The code flow with PKCE, state and nonce through the browser: the token response
    (Authlib checks the state) and the id token's claims (nonce checked here)."""
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = client.create_authorization_url(META["authorization_endpoint"], code_verifier=verifier,
                                                 nonce=nonce)
    back = browse(page, url, sign_in, allow)
    assert parse_qs(urlsplit(back).query)["iss"] == [ISSUER], f"RFC 9207: the answer names the issuer: {back}"
    token = client.fetch_token(META["token_endpoint"], authorization_response=back, state=state,
                               code_verifier=verifier)
    claims = verified(token["id_token"], client.client_id, "JWT")
    assert claims["nonce"] == nonce, "the id token carries the request's nonce"
    return token, claims


def refused(client, refresh_token, why):
    """A refresh the provider refuses with invalid_grant."""
    try:
        client.refresh_token(META["token_endpoint"], refresh_token=refresh_token)
    except OAuthError as e:
        assert e.error == "invalid_grant", f"{why}: {e.error} ({e.description})"
        return
    raise AssertionError(f"{why} was accepted")


def user_grant(page):
    """code flow with PKCE through the login page; id token, userinfo, introspection, refresh
    rotation: the access token is checked, and the spent refresh token refused"""
    web = session(WEB)
    token, claims = code_flow(page, web, sign_in=True, allow=True)
    assert (claims["preferred_username"], claims["email"]) == (USERNAME, "alice@example.com"), claims
    userinfo = web.get(META["userinfo_endpoint"]).json()
    assert (userinfo["sub"], userinfo["preferred_username"]) == (claims["sub"], USERNAME), userinfo
    access = verified(token["access_token"], WEB["client_id"], "at+jwt")
    assert (access["sub"], access["scope"]) == (claims["sub"], SCOPE), access

    answer = web.introspect_token(META["introspection_endpoint"], token=token["access_token"]).json()
    assert answer["active"] and answer["client_id"] == WEB["client_id"] and answer["username"] == USERNAME, answer

    refreshed = web.refresh_token(META["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"], "refresh rotates the refresh token"
    assert verified(refreshed["id_token"], WEB["client_id"], "JWT")["sub"] == claims["sub"]
    refused(web, token["refresh_token"], "the spent refresh token")
    # RFC 9700 §4.14.2: a spent token coming back ends the grant, its successor too.
    refused(web, refreshed["refresh_token"], "the grant ended by the reuse")


def revocation(page):
    """revocation (RFC 7009) ends the grant: its refresh token is refused"""
    web = session(WEB)
    token, _ = code_flow(page, web)
    response = web.revoke_token(META["revocation_endpoint"], token=token["refresh_token"],
                                token_type_hint="refresh_token")
    assert response.status_code == 200, f"RFC 7009 §2.2: {response.status_code} {response.text}"
    refused(web, token["refresh_token"], "the revoked refresh token")
    answer = web.introspect_token(META["introspection_endpoint"], token=token["access_token"]).json()
    assert answer == {"active": False}, f"the revoked grant's access token is inactive: {answer}"


def public_client(page):
    """a public client: PKCE alone, no client authentication"""
    spa = session(SPA)
    token, claims = code_flow(page, spa, allow=True)
    assert claims["aud"] == SPA["client_id"], claims
    refreshed = spa.refresh_token(META["token_endpoint"], refresh_token=token["refresh_token"])
    assert spa.revoke_token(META["revocation_endpoint"], token=refreshed["refresh_token"]).status_code == 200
    refused(spa, refreshed["refresh_token"], "the revoked refresh token")


def client_credentials(_page):
    """client_credentials: a service signs in as itself"""
    service = OAuth2Session(SERVICE["client_id"], SERVICE["client_secret"], scope="reports.read",
                            token_endpoint_auth_method="client_secret_post")
    token = service.fetch_token(META["token_endpoint"], grant_type="client_credentials")
    assert token["scope"] == "reports.read", token
    answer = service.introspect_token(META["introspection_endpoint"], token=token["access_token"]).json()
    expected = (True, SERVICE["client_id"], ["reports.view"])
    assert (answer["active"], answer["sub"], answer["permissions"]) == expected, answer


def logout(page):
    """RP-initiated logout: back at the application with its state, signed out of the provider"""
    web = session(WEB)
    token, _ = code_flow(page, web)
    # The id token an application holds last: after a refresh, the refreshed one.
    id_token = web.refresh_token(META["token_endpoint"], refresh_token=token["refresh_token"])["id_token"]
    state = generate_token(20)
    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": f"{CALLBACK}/signed-out",
                       "state": state})
    back = browse(page, f"{META['end_session_endpoint']}?{query}")
    assert back == f"{CALLBACK}/signed-out?state={state}", f"back at the application with its state: {back}"
    page.goto(ISSUER, wait_until="networkidle")
    assert urlsplit(page.url).path == "/login", \
        f"the user's web session outlived the logout: the web app shows {page.url} ({page.title()!r})"


def main():
    """Runs every step, even after one fails, and says which failed."""
    server = ThreadingHTTPServer(("127.0.0.1", urlsplit(CALLBACK).port), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    failed = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-gpu", "--no-first-run"])
        page = browser.new_page()
        page.set_default_timeout(10_000)
        for step in (discovery, user_grant, revocation, public_client, client_credentials, logout):
            try:
                step(page)
                print(f"ok: {' '.join(step.__doc__.split())}")
            except Exception:  # reported, and the next step runs
                failed.append(step.__name__)
                print(f"FAILED: {' '.join(step.__doc__.split())}")
                traceback.print_exc()
        browser.close()
    server.shutdown()
    print(f"Authlib {authlib.__version__}: {', '.join(failed) + ' failed' if failed else 'every check passed'}")
    sys.exit(1 if failed else 0)


main()
