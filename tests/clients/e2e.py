"""End to end: services that verify Authenticon's tokens offline (a DRF service with
authenticon_verify, the Node example with the Node package) against the real binary.

They accept a fresh token, never call Authenticon per request (its /metrics counts the
calls), refuse a token within seconds of its logout (and of "log out everywhere" and of
the user's deactivation), keep working on their last good state while Authenticon is
down and refuse everything past the fail-closed limit; a feed an attacker signs with
another key is refused.

Run from the repository's root: .venv/bin/python tests/clients/e2e.py
AUTHENTICON_BIN names the binary (target/debug/authenticon); E2E_SKIP_NODE=1 leaves the
Node service out. Prints PASS/FAIL per check; exits 1 on any failure.
"""
import http.server
import json
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from authenticon_verify import InvalidToken, Verifier  # noqa: E402

POLL_SECONDS = 1.0  # the services' poll interval in this test
REVOKE_LIMIT = 5.0  # a revoked token is refused within this many seconds
FAIL_CLOSED = 3.0  # the services' fail-closed limit in this test
PASSWORD = "a long passphrase for the e2e"
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
TOKEN_NOT_VALID = {
    "detail": "Given token not valid for any token type",
    "code": "token_not_valid",
    "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid or expired"}],
}

failures = []
# Relative to where the script was started (make runs it from the repository's root).
BIN = Path(os.environ.get("AUTHENTICON_BIN", "target/debug/authenticon")).resolve()


def check(name, ok, detail=""):
    print(f"{'PASS' if ok else 'FAIL'}: {name}{f' ({detail})' if detail else ''}", flush=True)
    if not ok:
        failures.append(name)
    return ok


# ---- HTTP --------------------------------------------------------------------------------

class Reply:
    def __init__(self, status, body, headers):
        self.status, self.raw, self.headers = status, body, headers

    @property
    def json(self):
        try:
            return json.loads(self.raw)
        except ValueError:
            return None

    def __repr__(self):
        return f"{self.status} {self.raw[:300]!r}"


def call(method, url, body=None, token=None, headers=None, timeout=10):
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return Reply(r.status, r.read(), r.headers)
    except urllib.error.HTTPError as e:
        with e:
            return Reply(e.code, e.read(), e.headers)


def claims_of(token):
    """The claims, unverified: only to learn ids (the services do the verifying)."""
    return jwt.decode(token, options={"verify_signature": False})


# ---- processes ---------------------------------------------------------------------------

class Process:
    """A child process whose output goes to a log file, and the URL it says it listens on."""

    def __init__(self, name, args, env, log_dir, cwd=ROOT):
        self.name = name
        self.log_path = Path(log_dir) / f"{name}.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def url(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", self.log_path.read_text(errors="replace"))
            if found:
                return found.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{self.name} did not start (exit {self.proc.poll()}):\n{tail}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def clean_env(**extra):
    # Settings from the caller's shell must not change what is tested.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHENTICON_")}
    env.update(extra)
    return env


# ---- the attacker ------------------------------------------------------------------------

class Attacker:
    """An HTTP server in front of Authenticon: it relays the real JWKS and, per path
    prefix, answers the feed itself. /pass/ relays the real feed (the control), /forge/
    re-signs the real answer, emptied, with a key of its own under Authenticon's kid,
    /token/ serves an access token (signed by Authenticon's real key) as the feed, and
    /switch/ relays until `switched` is set, then forges."""

    def __init__(self, upstream, replayed_token):
        self.upstream = upstream
        self.replayed_token = replayed_token
        self.key = ed25519.Ed25519PrivateKey.generate()
        self.switched = threading.Event()
        self.forged = 0
        attacker = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                try:
                    self.route()
                except Exception:  # noqa: BLE001 - Authenticon gone or answering oddly: a bad gateway
                    self.answer(502, b"{}", "application/json")

            def route(self):
                mode, _, rest = self.path.lstrip("/").partition("/")
                rest = "/" + rest
                if rest.startswith("/.well-known/jwks.json"):
                    return self.relay(rest)
                if not rest.startswith("/.well-known/revocations"):
                    return self.answer(404, b"{}", "application/json")
                if mode == "switch":
                    mode = "forge" if attacker.switched.is_set() else "pass"
                if mode == "pass":
                    return self.relay(rest)
                if mode == "token":
                    return self.answer(200, attacker.replayed_token.encode(), "application/jwt")
                # Forge: the real answer for this cursor, every revocation taken out.
                real = call("GET", attacker.upstream + rest)
                payload = claims_of(real.raw.decode())
                payload.update(sessions=[], users=[])
                kid = jwt.get_unverified_header(real.raw.decode())["kid"]
                forged = jwt.encode(payload, attacker.key, algorithm="EdDSA",
                                    headers={"kid": kid, "typ": "revocations+jwt"})
                attacker.forged += 1
                self.answer(200, forged.encode(), "application/jwt")

            def relay(self, path):
                forwarded = {k: v for k, v in self.headers.items() if k.lower() == "if-none-match"}
                reply = call("GET", attacker.upstream + path, headers=forwarded)
                self.answer(reply.status, reply.raw, reply.headers.get("Content-Type"), reply.headers.get("ETag"))

            def answer(self, status, body, content_type, etag=None):
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---- the test ----------------------------------------------------------------------------

def metrics_calls(base):
    """Requests Authenticon has answered, by (method, route, status); /metrics left out."""
    reply = call("GET", f"{base}/metrics")
    assert reply.status == 200, reply
    counts = {}
    for line in reply.raw.decode().splitlines():
        found = re.match(r"^authenticon_http_requests_total\{([^}]*)\}\s+(\S+)$", line)
        if found:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', found.group(1)))
            if labels.get("route") != "/metrics":
                key = (labels.get("method"), labels.get("route"), labels.get("status"))
                counts[key] = counts.get(key, 0) + float(found.group(2))
    return counts


class Stack:
    """Authenticon, the DRF service and (unless skipped) the Node service."""

    def __init__(self, work):
        self.work = work
        self.procs = []
        self.services = {}

    def start_authenticon(self):
        bin_path = BIN
        env = clean_env(
            AUTHENTICON_DATABASE_URL=f"sqlite://{self.work}/db.sqlite",
            AUTHENTICON_SECRET_KEY=secrets.token_urlsafe(36),
            AUTHENTICON_BIND="127.0.0.1:0",
            AUTHENTICON_JWT_ALGORITHM="EdDSA",
            # Several registrations from one address in a few seconds.
            AUTHENTICON_THROTTLE_REGISTRATIONS_PER_ADDRESS="0",
        )
        self.root_password = secrets.token_urlsafe(18)
        subprocess.run([str(bin_path), "createsuperuser", "--username", "root", "--no-input"],
                       env={**env, "AUTHENTICON_SUPERUSER_PASSWORD": self.root_password},
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.authenticon = Process("authenticon", [str(bin_path), "serve"], env, self.work)
        self.procs.append(self.authenticon)
        self.url = self.authenticon.url()

    def start_services(self):
        env = clean_env(AUTHENTICON_URL=self.url, POLL_INTERVAL_MS=str(int(POLL_SECONDS * 1000)),
                        FAIL_CLOSED_AFTER_MS=str(int(FAIL_CLOSED * 1000)))
        drf = Process("drf", [sys.executable, str(HERE / "drf_service" / "serve.py")], env, self.work)
        self.procs.append(drf)
        self.services["DRF"] = drf.url() + "/hello/"
        if os.environ.get("E2E_SKIP_NODE") == "1":
            print("SKIP: the Node service (E2E_SKIP_NODE=1)")
            return
        script = ROOT / "clients" / "node" / "examples" / "service.mjs"
        if not check("the Node example service exists", script.exists(), str(script.relative_to(ROOT))):
            return
        node = Process("node", ["node", str(script)], env, self.work)
        self.procs.append(node)
        self.services["Node"] = node.url() + "/hello"

    def stop(self):
        for p in reversed(self.procs):
            p.stop()


def hello(url, token=None):
    return call("GET", url, token=token, timeout=10)


def accepted(name, reply, user_id, username):
    if name == "DRF":
        return reply.status == 200 and reply.json == {"user_id": user_id, "username": username}
    return reply.status == 200 and isinstance(reply.json, dict) and reply.json.get("user_id") == user_id


def refused(name, reply):
    if name == "DRF":
        return reply.status == 401 and reply.json == TOKEN_NOT_VALID
    # The Node example promises a 401 with JSON; its `detail` is simplejwt's too.
    return reply.status == 401 and isinstance(reply.json, dict) and reply.json.get("detail") == TOKEN_NOT_VALID["detail"]


def until_refused(stack, tokens, started):
    """For each service: seconds from `started` until it refuses every one of `tokens`
    (None if not within REVOKE_LIMIT + 1 s), and its last replies."""
    outcome = {name: (None, []) for name in stack.services}
    pending = set(stack.services)
    while pending and time.monotonic() - started < REVOKE_LIMIT + 1:
        for name in sorted(pending):
            replies = [hello(stack.services[name], t) for t in tokens]
            done = all(refused(name, r) for r in replies)
            outcome[name] = (time.monotonic() - started if done else None, replies)
            if done:
                pending.discard(name)
        time.sleep(0.05)
    return outcome


def expect_refusal_within_limit(stack, what, tokens, started):
    for name, (elapsed, replies) in until_refused(stack, tokens, started).items():
        ok = elapsed is not None and elapsed <= REVOKE_LIMIT
        check(f"{name} refuses the token(s) after {what} within {REVOKE_LIMIT:.0f} s", ok,
              f"{elapsed:.2f} s" if elapsed is not None else f"still {replies}")
        if ok:
            # And keeps refusing.
            again = [hello(stack.services[name], t) for t in tokens]
            check(f"{name} still refuses after {what}", all(refused(name, r) for r in again), repr(again[0]))


def register_and_login(base, username):
    reply = call("POST", f"{base}/register/", {"username": username, "password": PASSWORD})
    check(f"register {username}: 201 with the user", reply.status == 201 and reply.json["username"] == username,
          repr(reply) if reply.status != 201 else "")
    return login(base, username)


def login(base, username, password=PASSWORD):
    reply = call("POST", f"{base}/api/token/", {"username": username, "password": password})
    ok = reply.status == 200 and set(reply.json) >= {"access", "refresh"}
    check(f"log in {username}: 200 with access and refresh tokens", ok, "" if ok else repr(reply))
    return reply.json["access"], reply.json["refresh"]


def run_unit_tests():
    suite = unittest.defaultTestLoader.discover(str(HERE), pattern="test_*.py")
    result = unittest.TextTestRunner(stream=open(os.devnull, "w")).run(suite)
    problems = [f"{t}: {e.strip().splitlines()[-1]}" for t, e in result.failures + result.errors]
    check(f"unit tests ({result.testsRun} run)", result.wasSuccessful(), "; ".join(problems))


def check_feed_contract(base):
    """The feed as docs/revocation-feed.md describes it, before anything was revoked."""
    jwks = call("GET", f"{base}/.well-known/jwks.json")
    kids = {k["kid"] for k in jwks.json["keys"]}
    first = call("GET", f"{base}/.well-known/revocations?since=0")
    check("feed: 200 application/jwt, ETag, Cache-Control public, max-age=1",
          first.status == 200 and first.headers.get("Content-Type") == "application/jwt"
          and bool(first.headers.get("ETag")) and first.headers.get("Cache-Control") == "public, max-age=1",
          f"{first.status} {[(h, first.headers.get(h)) for h in ('Content-Type', 'ETag', 'Cache-Control')]}")
    header = jwt.get_unverified_header(first.raw)
    check("feed: header typ revocations+jwt, alg EdDSA, kid of the JWKS",
          header.get("typ") == "revocations+jwt" and header.get("alg") == "EdDSA" and header.get("kid") in kids,
          repr(header))
    payload = claims_of(first.raw.decode())
    check("feed: an empty feed's payload",
          {k: payload.get(k) for k in ("since", "more", "sessions", "users")}
          == {"since": 0, "more": False, "sessions": [], "users": []} and isinstance(payload.get("cursor"), int),
          repr(payload))
    again = call("GET", f"{base}/.well-known/revocations?since={payload['cursor']}",
                 headers={"If-None-Match": first.headers["ETag"]})
    check("feed: If-None-Match with the ETag: 304, empty", again.status == 304 and again.raw == b"", repr(again))
    for since in ("abc", "-1"):
        bad = call("GET", f"{base}/.well-known/revocations?since={since}")
        check(f"feed: since={since}: 400 with the field error",
              bad.status == 400 and bad.json == {"since": ["A valid integer is required."]}, repr(bad))


def main():
    os.chdir(ROOT)
    run_unit_tests()
    work = tempfile.mkdtemp(prefix="authenticon-clients-")
    stack = Stack(work)
    verifiers = []
    attacker = None
    try:
        stack.start_authenticon()
        base = stack.url
        print(f"== Authenticon at {base}")
        check_feed_contract(base)
        stack.start_services()
        print(f"== services: {stack.services}")

        # ---- fresh tokens are accepted ----------------------------------------------------
        alice, alice_refresh = register_and_login(base, "alice")
        bob, bob_refresh = register_and_login(base, "bob")
        ids = {name: claims_of(t)["user_id"] for name, t in (("alice", alice), ("bob", bob))}
        for name, url in stack.services.items():
            reply = hello(url, alice)
            check(f"{name}: alice's token: 200 with her user_id", accepted(name, reply, ids["alice"], "alice"),
                  repr(reply))
        drf = stack.services["DRF"]
        reply = hello(drf)
        check("DRF: no token: 401 'not provided', WWW-Authenticate Bearer realm=\"api\"",
              reply.status == 401 and reply.json == NOT_PROVIDED
              and reply.headers.get("WWW-Authenticate") == 'Bearer realm="api"', repr(reply))
        for name, url in stack.services.items():
            reply = hello(url, bob_refresh)
            check(f"{name}: a refresh token: 401 token_not_valid", refused(name, reply), repr(reply))
        tampered = alice[:-4] + ("AAAA" if not alice.endswith("AAAA") else "BBBB")  # another signature
        for name, url in stack.services.items():
            reply = hello(url, tampered)
            check(f"{name}: a tampered token: 401 token_not_valid", refused(name, reply), repr(reply))
        if "Node" in stack.services:
            reply = hello(stack.services["Node"])
            check("Node: no token: 401 JSON, 'not provided'",
                  reply.status == 401 and isinstance(reply.json, dict) and reply.json.get("detail") == NOT_PROVIDED["detail"],
                  repr(reply))

        # ---- no call to Authenticon per request ---------------------------------------------
        # Spread over a few poll intervals, so that the polls show and the bound means something.
        before, started = metrics_calls(base), time.monotonic()
        statuses = {name: [] for name in stack.services}
        for i in range(200):
            for name, url in stack.services.items():
                statuses[name].append(hello(url, bob).status)
            time.sleep(max(0.0, started + (i + 1) * 0.015 - time.monotonic()))
        for name, got in statuses.items():
            check(f"{name}: 200 requests with bob's token, all 200", got == [200] * 200, f"{got.count(200)} of 200")
        after, elapsed = metrics_calls(base), time.monotonic() - started
        delta = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        calls = sum(delta.values())
        polls = sum(n for (_, route, _), n in delta.items() if route == "/.well-known/revocations")
        # Each service polls once per interval (plus one round in flight at each end); a
        # JWKS fetch may come on top.
        allowed = len(stack.services) * (math.ceil(elapsed / POLL_SECONDS) + 2)
        by_route = {f"{m} {r} {s}": int(n) for (m, r, s), n in sorted(delta.items())}
        check(f"no call per request: {calls:.0f} calls to Authenticon during {200 * len(stack.services)} "
              f"requests in {elapsed:.1f} s", calls <= allowed, f"at most {allowed} polls explain; {by_route}")
        check("the services do poll the feed meanwhile", polls >= len(stack.services), f"{polls:.0f} polls")

        # ---- logout -------------------------------------------------------------------------
        reply = call("POST", f"{base}/api/token/blacklist/", {"refresh": alice_refresh})
        started = time.monotonic()
        check("alice logs out: 200 {}", reply.status == 200 and reply.json == {}, repr(reply))
        expect_refusal_within_limit(stack, "logout", [alice], started)
        for name, url in stack.services.items():
            reply = hello(url, bob)
            check(f"{name}: bob's token still works after alice's logout", accepted(name, reply, ids["bob"], "bob"),
                  repr(reply))

        # ---- log out everywhere -------------------------------------------------------------
        carol1, _ = register_and_login(base, "carol")
        carol2, _ = login(base, "carol")
        for name, url in stack.services.items():
            check(f"{name}: both of carol's sessions accepted",
                  all(hello(url, t).status == 200 for t in (carol1, carol2)))
        reply = call("POST", f"{base}/api/me/sessions/revoke-all/", token=carol1)
        started = time.monotonic()
        check("carol logs out everywhere: 204", reply.status == 204 and reply.raw == b"", repr(reply))
        expect_refusal_within_limit(stack, "'log out everywhere' (both sessions)", [carol1, carol2], started)

        # ---- deactivation -------------------------------------------------------------------
        dave, _ = register_and_login(base, "dave")
        dave_id = claims_of(dave)["user_id"]
        root, _ = login(base, "root", stack.root_password)
        for name, url in stack.services.items():
            check(f"{name}: dave's token accepted", accepted(name, hello(url, dave), dave_id, "dave"))
        reply = call("PATCH", f"{base}/api/users/{dave_id}/", {"is_active": False}, token=root)
        started = time.monotonic()
        check("root deactivates dave: 200 with is_active false",
              reply.status == 200 and reply.json.get("is_active") is False, repr(reply))
        expect_refusal_within_limit(stack, "deactivation", [dave], started)

        # The feed, read as a verifier would, lists all of it.
        page = claims_of(call("GET", f"{base}/.well-known/revocations?since=0").raw.decode())
        sids = {s["sid"] for s in page["sessions"]}
        wanted = {claims_of(t)["sid"] for t in (alice, carol1, carol2)}
        now = time.time()
        check("feed: the logout's and log-out-everywhere's sessions are listed", wanted <= sids, repr(page))
        check("feed: dave is listed in users with not_before <= now < until",
              any(u["user_id"] == dave_id and u["not_before"] <= now < u["until"] for u in page["users"]),
              repr(page["users"]))
        check("feed: every until is in the future", all(e["until"] > now for e in page["sessions"] + page["users"]))

        # ---- an attacker's feed -------------------------------------------------------------
        erin, erin_refresh = register_and_login(base, "erin")
        erin_id = claims_of(erin)["user_id"]
        attacker = Attacker(base, replayed_token=bob)

        control = Verifier(f"{attacker.url}/pass", poll_interval=0.5, timeout=5)
        verifiers.append(control)
        try:
            ok = control.verify(erin)["user_id"] == erin_id
        except InvalidToken as e:
            ok = f"refused: {e}"
        check("control: through the attacker's relay of the real feed, erin's token is accepted", ok is True,
              "" if ok is True else ok)
        try:
            control.verify(alice)
            check("control: and alice's revoked token refused", False, "accepted")
        except InvalidToken as e:
            check("control: and alice's revoked token refused", "revoked" in str(e), str(e))

        for mode, what in (("forge", "a feed signed by another key under Authenticon's kid"),
                           ("token", "an access token signed by Authenticon, served as the feed")):
            victim = Verifier(f"{attacker.url}/{mode}", poll_interval=0.5, timeout=3)
            verifiers.append(victim)
            try:
                victim.verify(erin)
                check(f"{what}: refused (no token accepted)", False, "erin's token was accepted")
            except InvalidToken as e:
                check(f"{what}: refused (no token accepted)", "not been read" in str(e), str(e))
            try:
                victim.verify(alice)
                check(f"{what}: alice's revoked token refused", False, "accepted")
            except InvalidToken:
                check(f"{what}: alice's revoked token refused", True)
        check("the attacker did serve forged feeds", attacker.forged > 0, f"{attacker.forged} forged answers")

        # A verifier whose feed turns forged learns nothing from it: it keeps its last good
        # state, then, past its fail-closed limit, refuses everything.
        switching = Verifier(f"{attacker.url}/switch", poll_interval=0.5, fail_closed_after=3.0, timeout=5)
        verifiers.append(switching)
        try:
            check("before the switch, erin's token is accepted", switching.verify(erin)["user_id"] == erin_id)
        except InvalidToken as e:
            check("before the switch, erin's token is accepted", False, str(e))
        attacker.switched.set()
        reply = call("POST", f"{base}/api/token/blacklist/", {"refresh": erin_refresh})
        check("erin logs out: 200", reply.status == 200, repr(reply))
        switched_at = time.monotonic()
        time.sleep(1.0)
        try:
            switching.verify(bob)
            check("behind a forged feed: last good state used within the limit (bob accepted)", True)
        except InvalidToken as e:
            check("behind a forged feed: last good state used within the limit (bob accepted)", False, str(e))
        # Past the limit, however late the last relayed poll ended.
        time.sleep(max(0.0, switched_at + 3.0 + 1.0 - time.monotonic()))
        try:
            switching.verify(bob)
            check("behind a forged feed: past the limit everything is refused", False, "bob accepted")
        except InvalidToken as e:
            check("behind a forged feed: past the limit everything is refused", "too long" in str(e), str(e))

        for v in verifiers:
            v.close()
        verifiers.clear()
        attacker.close()
        attacker = None

        # ---- Authenticon down ---------------------------------------------------------------
        steady = Verifier(base, poll_interval=0.5, fail_closed_after=FAIL_CLOSED, timeout=5)
        verifiers.append(steady)
        steady.verify(bob)
        time.sleep(1.5)  # every service has polled since the last revocation
        stack.authenticon.stop()
        down_at = time.monotonic()
        print(f"== Authenticon stopped; the services' fail-closed limit: {FAIL_CLOSED:.0f} s")
        for name, url in stack.services.items():
            check(f"{name}: Authenticon down: bob still accepted on the last good state",
                  accepted(name, hello(url, bob), ids["bob"], "bob"))
            check(f"{name}: Authenticon down: alice still refused", refused(name, hello(url, alice)))
        try:
            steady.verify(bob)
            check("Verifier: Authenticon down: bob still accepted", True)
        except InvalidToken as e:
            check("Verifier: Authenticon down: bob still accepted", False, str(e))
        # Accepted until the limit, refused past it. The last good poll was at most one
        # interval before the stop, so refusal comes between limit - interval and limit
        # after it; the moment is measured.
        refused_after = {}
        pending = set(stack.services)
        while pending and time.monotonic() - down_at < FAIL_CLOSED + POLL_SECONDS + 2:
            for name in sorted(pending):
                reply = hello(stack.services[name], bob)
                if reply.status != 200:
                    refused_after[name] = time.monotonic() - down_at
                    pending.discard(name)
                    check(f"{name}: past the fail-closed limit: 401", refused(name, reply), repr(reply))
            time.sleep(0.1)
        for name in stack.services:
            after = refused_after.get(name)
            check(f"{name}: refuses once the feed has been unreachable for {FAIL_CLOSED:.0f} s, not before",
                  after is not None and FAIL_CLOSED - POLL_SECONDS - 0.5 <= after <= FAIL_CLOSED + 1.0,
                  f"refused {after:.2f} s after the stop" if after is not None else "never refused")
        time.sleep(max(0.0, down_at + FAIL_CLOSED + 0.2 - time.monotonic()))
        try:
            steady.verify(bob)
            check("Verifier: past the fail-closed limit everything is refused", False, "bob accepted")
        except InvalidToken as e:
            check("Verifier: past the fail-closed limit everything is refused", "too long" in str(e), str(e))
        started = time.monotonic()
        late = Verifier(base, timeout=1.0)
        verifiers.append(late)
        try:
            late.verify(bob)
            check("a Verifier that never read the feed refuses (after waiting its timeout)", False, "accepted")
        except InvalidToken as e:
            waited = time.monotonic() - started
            check("a Verifier that never read the feed refuses (after waiting its timeout)",
                  "not been read" in str(e) and 0.9 <= waited <= 2.0, f"{e}; waited {waited:.2f} s")
    except Exception as e:  # noqa: BLE001 - reported as a failure, with the cause
        import traceback

        traceback.print_exc()
        check("the run went to its end", False, f"{type(e).__name__}: {e}")
    finally:
        for v in verifiers:
            v.close()
        if attacker:
            attacker.close()
        stack.stop()
        if failures:
            for p in stack.procs:
                tail = p.log_path.read_text(errors="replace")[-1500:] if p.log_path.exists() else ""
                print(f"---- {p.name} log (tail) ----\n{tail}")
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'FAIL' if failures else 'PASS'}: clients e2e, {len(failures)} failed check(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
