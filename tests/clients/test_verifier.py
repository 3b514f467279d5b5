"""Unit tests of authenticon_verify's Verifier against a stand-in for Authenticon (a local
HTTP server serving a JWKS and a signed feed of its own keys): the JWKS's freshness and
stale limit, the leeway kept on feed entries, redirects refused, the page limit of a round,
the limits on answers' sizes, and the shared Verifiers dropped in a forked child.
Run: python -m unittest discover -s tests/clients"""
import http.server
import json
import logging
import os
import secrets
import select
import signal
import threading
import time
import unittest
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519

import authenticon_verify
from authenticon_verify import FeedError, InvalidToken, Verifier, _verifier
from authenticon_verify._feed import RevocationState

QUIET = logging.NullHandler()


def setUpModule():
    # The poller's and the key set's warnings are expected here: kept off the output.
    logging.getLogger("authenticon_verify").addHandler(QUIET)


def tearDownModule():
    logging.getLogger("authenticon_verify").removeHandler(QUIET)


def public_jwk(private_key, kid):
    data = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private_key.public_key()))
    return {**data, "kid": kid, "alg": "EdDSA", "use": "sig"}


class Fake:
    """Authenticon as far as a verifier sees it. Its JWKS lists `published`; its feed
    answers are signed with `signing_kid`'s key. A test changes what is served by setting
    attributes, or replaces a route: `routes[path] = handler(query, headers) -> (status,
    headers, body)`."""

    def __init__(self):
        self.private = {kid: ed25519.Ed25519PrivateKey.generate() for kid in ("k1", "k2")}
        self.published = ["k1"]
        self.signing_kid = "k1"
        self.jwks_status = 200
        self.jwks_delay = 0.0
        self.more = False
        self.sessions = []
        self.users = []
        self.padding = 0  # bytes of padding in each feed answer's payload
        self.requests = []  # (path, query)
        self.routes = {}
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                fake.requests.append((parts.path, parts.query))
                route = fake.routes.get(parts.path) or {
                    "/.well-known/jwks.json": fake.jwks,
                    "/.well-known/revocations": fake.feed,
                }.get(parts.path)
                status, headers, body = route(parse_qs(parts.query), self.headers) if route else (404, {}, b"")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass  # the client stopped reading

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def fetches(self, path="/.well-known/jwks.json"):
        return sum(1 for p, _ in self.requests if p == path)

    # ---- what it serves ------------------------------------------------------------------

    def jwks_document(self):
        return json.dumps({"keys": [public_jwk(self.private[kid], kid) for kid in self.published]}).encode()

    def jwks(self, query, headers):
        time.sleep(self.jwks_delay)
        if self.jwks_status != 200:
            return self.jwks_status, {}, b"{}"
        return 200, {"Content-Type": "application/json"}, self.jwks_document()

    def answer(self, since, **overrides):
        payload = {"since": since, "cursor": since + 1 if self.more else max(since, 1), "more": self.more,
                   "sessions": self.sessions, "users": self.users, "iat": int(time.time())}
        if self.padding:
            payload["padding"] = "x" * self.padding
        payload.update(overrides)
        return jwt.encode(payload, self.private[self.signing_kid], algorithm="EdDSA",
                          headers={"kid": self.signing_kid, "typ": "revocations+jwt"}).encode()

    def feed(self, query, headers):
        since = int(query.get("since", ["0"])[0])
        return 200, {"Content-Type": "application/jwt"}, self.answer(since)

    def token(self, kid="k1", sid=None, exp_in=300, user_id="u1", iat_in=-1):
        now = int(time.time())
        claims = {"token_type": "access", "user_id": user_id, "sub": user_id, "sid": sid or secrets.token_hex(8),
                  "jti": secrets.token_hex(8), "iat": now + iat_in, "exp": now + exp_in}
        return jwt.encode(claims, self.private[kid], algorithm="EdDSA", headers={"kid": kid})


class WithFake(unittest.TestCase):
    def setUp(self):
        self.fake = Fake()
        self.addCleanup(self.fake.close)

    def verifier(self, **options):
        # The thread polls once at the start, then (unless told) not again during a test:
        # the tests poll themselves, so that they know when.
        options = {"poll_interval": 60, "timeout": 2, **options}
        verifier = Verifier(self.fake.url, **options)
        self.addCleanup(verifier.close)
        return verifier


# ---- 1. the JWKS's freshness -----------------------------------------------------------------

@mock.patch.object(_verifier, "JWKS_REFETCH_SECONDS", 0.1)
class JwksFreshness(WithFake):
    def test_a_key_withdrawn_from_the_jwks_stops_verifying_tokens_and_feed_answers(self):
        verifier = self.verifier(jwks_max_age=0.3)
        old = self.fake.token("k1")
        verifier.verify(old)
        # k1 was compromised: Authenticon publishes k2 only. Whoever holds k1 goes on
        # signing tokens and feed answers with it.
        self.fake.published = ["k2"]
        time.sleep(0.5)
        with self.assertRaisesRegex(InvalidToken, "no matching key"):
            verifier.verify(self.fake.token("k1"))
        with self.assertRaisesRegex(FeedError, "no key 'k1'"):
            verifier.poll()
        # The feed and tokens signed with the published key serve again.
        self.fake.signing_kid = "k2"
        verifier.poll()
        self.assertEqual(verifier.verify(self.fake.token("k2"))["user_id"], "u1")
        with self.assertRaisesRegex(InvalidToken, "no matching key"):
            verifier.verify(old)

    def test_while_the_jwks_cannot_be_fetched_the_last_keys_serve_up_to_the_stale_limit(self):
        verifier = self.verifier(jwks_max_age=0.5, jwks_stale_limit=1.0)
        token = self.fake.token("k1")
        verifier.verify(token)
        started = time.monotonic()  # the keys were fetched before this
        self.fake.jwks_status = 503
        fetches = self.fake.fetches()
        time.sleep(0.8)
        # Stale, and the JWKS unreachable: the last good keys still serve.
        self.assertEqual(verifier.verify(token)["user_id"], "u1")
        verifier.poll()
        self.assertGreater(self.fake.fetches(), fetches, "the JWKS was asked for again")
        time.sleep(max(0.0, started + 1.8 - time.monotonic()))
        # Past max age + stale limit: nothing verifies, tokens nor feed answers.
        with self.assertRaisesRegex(InvalidToken, "not been fetched for too long"):
            verifier.verify(token)
        with self.assertRaisesRegex(FeedError, "no key"):
            verifier.poll()
        # The JWKS back: so are the keys.
        self.fake.jwks_status = 200
        time.sleep(0.15)
        self.assertEqual(verifier.verify(token)["user_id"], "u1")

    def test_a_jwks_answer_that_is_no_key_set_is_a_failed_fetch(self):
        verifier = self.verifier(jwks_max_age=0.2)
        token = self.fake.token("k1")
        verifier.verify(token)
        self.fake.routes["/.well-known/jwks.json"] = lambda q, h: (200, {}, b'{"not": "a key set"}')
        time.sleep(0.3)
        # The last good keys serve (within the stale limit); the odd answer drops nothing.
        self.assertEqual(verifier.verify(token)["user_id"], "u1")
        self.assertEqual(self.fake.fetches(), 2)

    def test_fetches_are_rate_limited_and_one_at_a_time(self):
        verifier = self.verifier(jwks_max_age=0.2)
        token = self.fake.token("k1")
        verifier.verify(token)
        self.assertEqual(self.fake.fetches(), 1)
        time.sleep(0.3)
        # Stale now; the JWKS answers slowly. Many requests at once: one fetch, and the
        # stale key serves them meanwhile.
        self.fake.jwks_delay = 0.5
        results = []

        def check():
            try:
                verifier.verify(token)
                results.append("ok")
            except InvalidToken as e:
                results.append(str(e))

        threads = [threading.Thread(target=check) for _ in range(8)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)
        self.assertEqual(results, ["ok"] * 8)
        self.assertEqual(self.fake.fetches(), 2, "one fetch for all of them")
        self.assertLess(time.monotonic() - started, 1.5)
        # Unknown kids in a flood: within the refetch interval, no fetch at all.
        self.fake.jwks_delay = 0.0
        with mock.patch.object(_verifier, "JWKS_REFETCH_SECONDS", 30.0):
            for _ in range(20):
                with self.assertRaises(InvalidToken):
                    verifier.verify(jwt.encode({"exp": int(time.time()) + 60}, self.fake.private["k2"],
                                               algorithm="EdDSA", headers={"kid": secrets.token_hex(4)}))
        self.assertEqual(self.fake.fetches(), 2)


# ---- 2. the leeway ---------------------------------------------------------------------------

class Leeway(WithFake):
    def test_entries_are_kept_until_until_plus_leeway(self):
        now = 1_767_225_600
        state = RevocationState(leeway=30)
        state.merge({"since": 0, "cursor": 1, "sessions": [{"sid": "s1", "until": now}],
                     "users": [{"user_id": "u1", "not_before": now - 60, "until": now}]}, now + 20)
        self.assertEqual(state.counts(), (1, 1), "kept past until, within the leeway")
        state.prune(now + 30)
        self.assertEqual(state.counts(), (1, 1))
        state.prune(now + 31)
        self.assertEqual(state.counts(), (0, 0))

    def test_a_revoked_token_accepted_by_the_leeway_is_still_refused(self):
        now = int(time.time())
        # Revoked, and the entries' `until` passed 10 s ago; the tokens expired 5 s ago,
        # which a leeway of 60 s still accepts.
        self.fake.sessions = [{"sid": "revoked", "until": now - 10}]
        self.fake.users = [{"user_id": "gone", "not_before": now - 15, "until": now - 10}]
        verifier = self.verifier(leeway=60)
        self.assertEqual(verifier.verify(self.fake.token(sid="live", exp_in=-5))["sid"], "live")
        with self.assertRaisesRegex(InvalidToken, "session was revoked"):
            verifier.verify(self.fake.token(sid="revoked", exp_in=-5))
        with self.assertRaisesRegex(InvalidToken, "user's tokens were revoked"):
            verifier.verify(self.fake.token(user_id="gone", exp_in=-5, iat_in=-20))
        self.assertEqual(verifier.verify(self.fake.token(user_id="gone", exp_in=-5, iat_in=-14))["user_id"], "gone")


# ---- 3. redirects ----------------------------------------------------------------------------

def redirect_to(location):
    return lambda query, headers: (302, {"Location": location}, b"")


class Redirects(WithFake):
    def test_a_redirected_feed_is_a_failed_poll(self):
        # The target is a good answer: still not followed.
        self.fake.routes["/elsewhere"] = self.fake.feed
        self.fake.routes["/.well-known/revocations"] = redirect_to(f"{self.fake.url}/elsewhere?since=0")
        verifier = self.verifier(timeout=0.5)
        with self.assertRaisesRegex(InvalidToken, "not been read"):
            verifier.verify(self.fake.token())
        with self.assertRaisesRegex(ValueError, "redirect"):
            verifier.poll()
        self.assertEqual(self.fake.fetches("/elsewhere"), 0)

    def test_a_redirect_to_a_304_does_not_reset_the_fail_closed_clock(self):
        verifier = self.verifier(fail_closed_after=0.6)
        token = self.fake.token()
        verifier.verify(token)
        self.fake.routes["/not-modified"] = lambda q, h: (304, {}, b"")
        self.fake.routes["/.well-known/revocations"] = redirect_to(f"{self.fake.url}/not-modified")
        time.sleep(0.3)
        with self.assertRaisesRegex(ValueError, "redirect"):
            verifier.poll()
        self.assertGreaterEqual(verifier.last_success_age(), 0.3)
        time.sleep(0.4)
        with self.assertRaises(ValueError):
            verifier.poll()
        with self.assertRaisesRegex(InvalidToken, "too long"):
            verifier.verify(token)
        self.assertEqual(self.fake.fetches("/not-modified"), 0)

    def test_a_redirected_jwks_is_a_failed_fetch(self):
        self.fake.routes["/keys"] = self.fake.jwks
        self.fake.routes["/.well-known/jwks.json"] = redirect_to(f"{self.fake.url}/keys")
        with self.assertLogs("authenticon_verify", "WARNING") as logged:
            verifier = self.verifier(timeout=0.5)
            with self.assertRaises(InvalidToken):
                verifier.verify(self.fake.token())
        self.assertEqual(self.fake.fetches("/keys"), 0)
        self.assertTrue(any("redirect" in line for line in logged.output), logged.output)


# ---- 4. the page limit -----------------------------------------------------------------------

class PageLimit(WithFake):
    @mock.patch.object(_verifier, "MAX_PAGES_PER_ROUND", 3)
    def test_still_more_after_the_page_limit_is_a_failed_poll(self):
        verifier = self.verifier(fail_closed_after=0.5)
        token = self.fake.token()
        verifier.verify(token)
        cursor = verifier._state.cursor
        # A feed that always has more (a backlog, or a server gone wrong).
        self.fake.more = True
        before = self.fake.fetches("/.well-known/revocations")
        time.sleep(0.3)
        with self.assertRaisesRegex(FeedError, "more after 3 pages"):
            verifier.poll()
        self.assertEqual(self.fake.fetches("/.well-known/revocations") - before, 3)
        self.assertEqual(verifier._state.cursor, cursor + 3, "what was read stands")
        self.assertGreaterEqual(verifier.last_success_age(), 0.3, "not a success")
        time.sleep(0.3)
        with self.assertRaisesRegex(InvalidToken, "too long"):
            verifier.verify(token)
        # The rest arrives: the next round goes on from the cursor and succeeds.
        self.fake.more = False
        verifier.poll()
        self.assertEqual(verifier.verify(token)["user_id"], "u1")

    @mock.patch.object(_verifier, "MAX_PAGES_PER_ROUND", 3)
    def test_a_first_round_cut_by_the_limit_leaves_the_verifier_not_ready(self):
        self.fake.more = True
        verifier = self.verifier(timeout=0.5)
        with self.assertRaisesRegex(InvalidToken, "not been read"):
            verifier.verify(self.fake.token())
        self.assertIsNone(verifier.last_success_age())


# ---- 6. limits on what is read -----------------------------------------------------------------

class BodyLimits(WithFake):
    def test_a_jwks_over_1_mib_is_a_failed_fetch(self):
        document = {"keys": [public_jwk(self.fake.private["k1"], "k1")], "padding": "x" * (1 << 20)}
        self.fake.routes["/.well-known/jwks.json"] = lambda q, h: (200, {}, json.dumps(document).encode())
        with self.assertLogs("authenticon_verify", "WARNING") as logged:
            verifier = self.verifier(timeout=0.5)
            with self.assertRaises(InvalidToken):
                verifier.verify(self.fake.token())
        self.assertTrue(any("limit of 1048576" in line for line in logged.output), logged.output)

    def test_a_jwks_over_the_limit_without_content_length_is_refused_too(self):
        document = {"keys": [public_jwk(self.fake.private["k1"], "k1")], "padding": "x" * (1 << 20)}
        # "Content-Length" set to nothing usable: the body ends when the connection does.
        self.fake.routes["/.well-known/jwks.json"] = lambda q, h: (
            200, {"Content-Length": "", "Connection": "close"}, json.dumps(document).encode())
        with self.assertRaisesRegex(_verifier.ResponseRefused, "limit of 1048576"):
            _verifier._http_get(f"{self.fake.url}/.well-known/jwks.json", {}, 2, _verifier.MAX_JWKS_BODY)

    def test_a_feed_answer_over_4_mib_is_a_failed_poll(self):
        verifier = self.verifier()
        verifier.verify(self.fake.token())
        # Signed and valid, only too large.
        self.fake.padding = 4 * 1024 * 1024
        with self.assertRaisesRegex(_verifier.ResponseRefused, "limit of 4194304"):
            verifier.poll()
        # Up to the limit is read (the feed's limit, not the JWKS's).
        self.fake.padding = 2 * 1024 * 1024
        verifier.poll()


# ---- 5. fork ---------------------------------------------------------------------------------

def in_child(test, body, timeout=10.0):
    """Runs `body()` in a forked child; its result (JSON), or fails the test when the child
    does not answer within `timeout` (it is then killed)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer, and never return into the test runner
        code = 0
        try:
            os.close(read_end)
            result = body()
            os.write(write_end, json.dumps(result).encode())
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            os.write(write_end, json.dumps({"error": repr(e)}).encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], timeout)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            test.fail(f"the child did not answer within {timeout} s (a deadlock?)")
        data = b""
        while chunk := os.read(read_end, 65536):
            data += chunk
        return json.loads(data)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)


@unittest.skipUnless(hasattr(os, "fork"), "no fork()")
class Fork(WithFake):
    def tearDown(self):
        with _verifier._shared_lock:
            for verifier in _verifier._shared.values():
                verifier.close()
            _verifier._shared.clear()

    def test_the_shared_verifier_is_not_used_by_a_forked_child(self):
        token = self.fake.token()
        self.assertEqual(authenticon_verify.verify(token, base_url=self.fake.url, poll_interval=60)["sid"],
                         jwt.decode(token, options={"verify_signature": False})["sid"])
        inherited = _verifier._shared[self.fake.url]

        def child():
            left = len(_verifier._shared)
            authenticon_verify.verify(token, base_url=self.fake.url, poll_interval=60)
            own = _verifier._shared[self.fake.url]
            return {"left": left, "own": own is not inherited, "polling": own._thread.is_alive()}

        # Another thread of the parent holds the lock at the fork: the child must not wait
        # for it forever.
        with _verifier._shared_lock:
            result = in_child(self, child)
        self.assertEqual(result, {"left": 0, "own": True, "polling": True})
        self.assertIs(_verifier._shared[self.fake.url], inherited, "the parent keeps its own")


if __name__ == "__main__":
    unittest.main()
