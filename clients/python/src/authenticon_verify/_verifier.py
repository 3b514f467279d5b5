"""Offline verification of Authenticon's access tokens, with the revocation feed polled in
the background so that no request waits on Authenticon."""
from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from email.message import Message
from typing import Any

import jwt

from ._feed import ALGORITHMS, FeedError, Key, RevocationState, decode_answer, key_from_jwk

log = logging.getLogger("authenticon_verify")

USER_AGENT = "authenticon-verify/0.1"
# The JWKS is fetched again at most once per this many seconds, whatever arrives: for a
# `kid` it does not list (key rotation, rare, or forgeries, at any rate) and for keys past
# their max age alike. Read when used.
JWKS_REFETCH_SECONDS = 10.0
# The largest answers read. A JWKS holds a few keys; a feed page of 1,000 entries is well
# under 1 MiB. A larger answer is refused, not cut short.
MAX_JWKS_BODY = 1024 * 1024
MAX_FEED_BODY = 4 * 1024 * 1024
# `more` pages asked for in one round at most; the next round goes on from the cursor.
# Read when used.
MAX_PAGES_PER_ROUND = 100


class InvalidToken(Exception):
    """The token must not be accepted. The message says why (for logs, not for clients)."""


class ResponseRefused(ValueError):
    """An answer that is not read: a redirect, or a body over the limit."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # SECURITY: the JWKS and the feed come from Authenticon itself. A redirect could lead
    # off TLS (https to http) or to an answer of someone else's (a `304` there would pass
    # for "nothing revoked"); it is reported as the 3xx it is, and refused below.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _http_get(url: str, headers: dict[str, str], timeout: float, limit: int) -> tuple[int, bytes, Message]:
    """Status, body (of a 2xx answer; at most `limit` bytes) and headers. Raises
    ResponseRefused on a redirect or a larger body, OSError etc. when there is no answer."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
    try:
        with _opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length", "")
            if length.strip().isdigit() and int(length) > limit:
                raise ResponseRefused(f"{url} answered {int(length)} bytes, more than the limit of {limit}")
            body = response.read(limit + 1)
            if len(body) > limit:
                raise ResponseRefused(f"{url} answered more than the limit of {limit} bytes")
            return response.status, body, response.headers
    except urllib.error.HTTPError as e:
        # urllib reports every non-2xx answer, 304 included, as an exception. Its body is
        # not needed.
        with e:
            if 300 <= e.code < 400 and e.code != 304:
                location = e.headers.get("Location")
                raise ResponseRefused(f"{url} answered {e.code}, a redirect to {location!r}: not followed") from None
            return e.code, b"", e.headers


class _KeySet:
    """The JWKS. Fetched keys count as fresh for `max_age` seconds; past it, or for a `kid`
    it does not list, the JWKS is fetched again (at most once per JWKS_REFETCH_SECONDS, one
    fetch at a time), and what it no longer lists stops verifying. While it cannot be
    fetched, the last good keys serve `stale_limit` seconds more, then none does."""

    def __init__(self, url: str, timeout: float, max_age: float, stale_limit: float) -> None:
        self._url = url
        self._timeout = timeout
        self._max_age = max_age
        self._stale_limit = stale_limit
        # The keys and the time.monotonic() of the fetch that brought them, replaced
        # together: never new keys with an old time or the reverse.
        self._cache: tuple[dict[str, Key], float | None] = ({}, None)
        # The last fetch tried, successful or not (the refetch interval counts from it).
        self._tried_at: float | None = None
        self._fetching = threading.Lock()
        self._failing = False

    def _lookup(self, kid: str) -> tuple[Key | None, bool, Key | None]:
        """(the key, whether it is fresh, the key if it may still verify)."""
        keys, fetched_at = self._cache
        key = keys.get(kid)
        age = None if fetched_at is None else time.monotonic() - fetched_at
        fresh = age is not None and age < self._max_age
        # SECURITY: stale keys serve only so long: a key withdrawn at Authenticon (after a
        # compromise) must stop verifying here too, even while its JWKS cannot be reached.
        usable = age is not None and age < self._max_age + self._stale_limit
        return key, fresh, key if usable else None

    def _may_fetch(self) -> bool:
        tried = self._tried_at
        return tried is None or time.monotonic() - tried >= JWKS_REFETCH_SECONDS

    def get(self, kid: str | None) -> Key | None:
        """The key of `kid` if it may verify now, else None."""
        if kid is None:
            return None
        key, fresh, usable = self._lookup(kid)
        if key is not None and fresh:
            return key
        if not self._may_fetch():
            return usable
        if not self._fetching.acquire(blocking=False):
            # Another thread fetches: stale keys serve meanwhile; an unknown kid waits for it.
            if usable is not None or not self._fetching.acquire(timeout=self._timeout):
                return usable
        try:
            # That other thread may have fetched while this one waited.
            key, fresh, usable = self._lookup(kid)
            if key is not None and fresh:
                return key
            if not self._may_fetch():
                return usable
            self._tried_at = time.monotonic()
            try:
                keys = self._fetch()
            # RecursionError: JSON nested too deep for the parser.
            except (OSError, ValueError, RecursionError, http.client.HTTPException) as e:
                if not self._failing:
                    log.warning(
                        "authenticon_verify: could not fetch %s (known keys serve up to %s s after their fetch): %s",
                        self._url, self._max_age + self._stale_limit, e,
                    )
                    self._failing = True
                return self._lookup(kid)[2]
            # Replaced, not merged: a key withdrawn from the JWKS stops verifying.
            self._cache = (keys, time.monotonic())
            if self._failing:
                log.warning("authenticon_verify: %s answers again", self._url)
                self._failing = False
            return keys.get(kid)
        finally:
            self._fetching.release()

    def why_not(self, kid: str | None) -> str:
        """Why `get(kid)` gave no key (for the message of a refusal)."""
        if kid is not None and self._lookup(kid)[0] is not None:
            return "the JWKS has not been fetched for too long (stale keys are not trusted)"
        return "no matching key in the JWKS"

    def _fetch(self) -> dict[str, Key]:
        status, body, _ = _http_get(self._url, {"Accept": "application/json"}, self._timeout, MAX_JWKS_BODY)
        if status != 200:
            raise ValueError(f"HTTP {status}")
        document = json.loads(body)
        listed = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(listed, list):
            # Not a key set at all: a failed fetch, which leaves the last good keys.
            raise ValueError("not a JWK Set")
        keys = {}
        for data in listed:
            key = key_from_jwk(data) if isinstance(data, dict) else None
            if key is not None and isinstance(data.get("kid"), str):
                keys[data["kid"]] = key
        return keys


class Verifier:
    """Verifies access tokens against `{base_url}/.well-known/jwks.json` and the revocation
    feed at `{base_url}/.well-known/revocations`, polled every `poll_interval` seconds in a
    daemon thread.

    Tokens are refused (fail closed) until the feed has been read once, and again when no
    poll has succeeded for `fail_closed_after` seconds; in between, an unreachable
    Authenticon changes nothing: the last good state is used.

    The JWKS's keys count as fresh for `jwks_max_age` seconds, then it is fetched again
    (keys it no longer lists stop verifying); while it cannot be fetched, the last good keys
    serve `jwks_stale_limit` seconds more, then tokens and feed answers are refused.

    Make it in the process that uses it: a copy inherited through fork() has no polling
    thread (`verify()` and the DRF class make their own in each process).
    """

    def __init__(
        self,
        base_url: str,
        *,
        issuer: str | None = None,
        audience: str | None = None,
        poll_interval: float = 2.0,
        fail_closed_after: float = 300.0,
        timeout: float = 5.0,
        leeway: float | timedelta = 0.0,
        jwks_max_age: float = 300.0,
        jwks_stale_limit: float = 3600.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.issuer = issuer
        self.audience = audience
        self.poll_interval = poll_interval
        self.fail_closed_after = fail_closed_after
        self.timeout = timeout
        self.leeway = leeway
        self._keys = _KeySet(f"{self.base_url}/.well-known/jwks.json", timeout, jwks_max_age, jwks_stale_limit)
        # Entries kept `leeway` past their `until`, as long as tokens are accepted past `exp`.
        self._state = RevocationState(leeway=leeway)
        self._etag: str | None = None
        self._polling = threading.Lock()
        self._last_success: float | None = None
        self._ready = threading.Event()
        self._waited = False
        self._failing = False
        self._stop = threading.Event()
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="authenticon-revocations", daemon=True)
        self._thread.start()

    # ---- verifying -------------------------------------------------------------------

    def verify(self, token: str | bytes) -> dict[str, Any]:
        """The token's claims, or InvalidToken."""
        self._require_current_state()
        claims = self._decode(token)
        if claims.get("token_type") != "access":
            raise InvalidToken("not an access token")
        # simplejwt's tokens have no `sub`; Authenticon's have both, and they must agree.
        if "sub" in claims and "user_id" in claims and str(claims["sub"]) != str(claims["user_id"]):
            raise InvalidToken("sub and user_id differ")
        reason = self._state.revocation_of(claims)
        if reason is not None:
            raise InvalidToken(reason)
        return claims

    def _decode(self, token: str | bytes) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            alg = header.get("alg")
            if alg not in ALGORITHMS:
                raise InvalidToken(f"algorithm {alg!r} is not allowed")
            kid = header.get("kid")
            kid = kid if isinstance(kid, str) else None
            key = self._keys.get(kid)
            if key is None:
                raise InvalidToken(self._keys.why_not(kid))
            # The key's own algorithm, never just the header's claim about it.
            if key.algorithm != alg:
                raise InvalidToken("no matching key in the JWKS")
            return jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={"require": ["exp"], "verify_aud": self.audience is not None},
            )
        except jwt.PyJWTError as e:
            raise InvalidToken(str(e)) from None

    def _require_current_state(self) -> None:
        if self._last_success is None and not self._waited:
            # The first request after start-up waits for the first poll rather than being
            # refused; later ones do not wait while Authenticon stays unreachable.
            self._ready.wait(self.timeout)
            self._waited = True
        last = self._last_success
        if last is None:
            raise InvalidToken("the revocation feed has not been read yet")
        if time.monotonic() - last > self.fail_closed_after:
            raise InvalidToken("the revocation feed has not been read for too long")

    def last_success_age(self) -> float | None:
        """Seconds since the feed was last read successfully, None if never (for health checks)."""
        last = self._last_success
        return None if last is None else time.monotonic() - last

    # ---- polling ---------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
                if self._failing:
                    log.warning("authenticon_verify: the revocation feed answers again")
                    self._failing = False
            # Whatever went wrong (network, HTTP, a refused answer), the last good state
            # stands; the fail-closed limit bounds how long it is trusted. The thread must
            # not die of it, so nothing is let through.
            except Exception as e:  # noqa: BLE001
                if not self._failing:
                    log.warning("authenticon_verify: polling %s failed: %s", self.base_url, e)
                    self._failing = True
            self._stop.wait(self.poll_interval)

    def poll(self) -> None:
        """One round: asks while `more` says so. The thread calls it; so may a caller that
        wants the newest state at once. Raises FeedError, OSError, ... on failure."""
        with self._polling:  # one round at a time: the cursor and ETag go together
            limit = MAX_PAGES_PER_ROUND
            for _ in range(limit):
                if not self._poll_page():
                    break
            else:
                # What the pages said stands (the cursor too: the next round goes on from
                # it), but more was still to come: the state is not current, so this round
                # does not count as a success and the fail-closed clock keeps running.
                raise FeedError(f"the revocation feed still had more after {limit} pages")
            self._last_success = time.monotonic()
        self._ready.set()

    def _poll_page(self) -> bool:
        since = self._state.cursor
        headers = {"Accept": "application/jwt"}
        if self._etag is not None:
            headers["If-None-Match"] = self._etag
        url = f"{self.base_url}/.well-known/revocations?since={since}"
        status, body, response_headers = _http_get(url, headers, self.timeout, MAX_FEED_BODY)
        now = time.time()
        if status == 304:
            # Nothing new, but time passed: entries past `until` can go.
            self._state.prune(now)
            return False
        if status != 200:
            raise FeedError(f"HTTP {status} from the revocation feed")
        payload = decode_answer(body, since, self._keys.get, self.issuer)
        self._state.merge(payload, now)
        more = bool(payload.get("more", False))
        # The ETag only stands for a complete answer: after a page with `more`, the next
        # page must be asked for in full.
        self._etag = None if more else response_headers.get("ETag")
        return more

    def close(self) -> None:
        """Stops the polling thread."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(self.timeout + 1)

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_shared: dict[str, Verifier] = {}
_shared_lock = threading.Lock()


def _forget_shared_in_child() -> None:
    # A forked child (a gunicorn worker with --preload, say) has copies of the parent's
    # Verifiers but not their polling threads: left alone, they would go on verifying on a
    # state frozen at the fork. Dropped, the child makes its own at its first call. The
    # lock is new too: another thread of the parent may have held it at the fork.
    global _shared_lock
    _shared_lock = threading.Lock()
    _shared.clear()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_shared_in_child)


def verify(token: str | bytes, base_url: str, **options: Any) -> dict[str, Any]:
    """Verifies with one shared Verifier per `base_url` (`options` apply when it is made),
    one per process."""
    key = base_url.rstrip("/")
    with _shared_lock:
        verifier = _shared.get(key)
        # The pid too: a server forking in C (uwsgi without py-call-osafterfork) runs no
        # at-fork hooks.
        if verifier is None or verifier._pid != os.getpid():
            verifier = _shared[key] = Verifier(key, **options)
    return verifier.verify(token)
