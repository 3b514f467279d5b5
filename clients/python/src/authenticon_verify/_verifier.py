"""Offline verification of Authenticon's access tokens, with the revocation feed polled in
the background so that no request waits on Authenticon."""
from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from email.message import Message
from typing import Any

import jwt

from ._feed import ALGORITHMS, FeedError, Key, RevocationState, decode_answer, key_from_jwk

log = logging.getLogger("authenticon_verify")

USER_AGENT = "authenticon-verify/0.1"
# Unknown `kid`s come from key rotation (rare) or from forgeries (any rate): one JWKS
# fetch per this many seconds at most, whatever arrives.
JWKS_REFETCH_SECONDS = 10.0
MAX_BODY = 4 * 1024 * 1024
# `more` pages asked for in one round at most; the next round goes on from the cursor.
MAX_PAGES_PER_ROUND = 100


class InvalidToken(Exception):
    """The token must not be accepted. The message says why (for logs, not for clients)."""


def _http_get(url: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes, Message]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(MAX_BODY), response.headers
    except urllib.error.HTTPError as e:
        # urllib reports every non-2xx answer, 304 included, as an exception.
        with e:
            return e.code, e.read(MAX_BODY), e.headers


class _KeySet:
    """The JWKS, fetched on demand and again (rate-limited) when an unknown `kid` shows up."""

    def __init__(self, url: str, timeout: float) -> None:
        self._url = url
        self._timeout = timeout
        self._keys: dict[str, Key] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def get(self, kid: str | None) -> Key | None:
        if kid is None:
            return None
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:
            key = self._keys.get(kid)
            now = time.monotonic()
            if key is None and (self._fetched_at is None or now - self._fetched_at >= JWKS_REFETCH_SECONDS):
                self._fetched_at = now
                self._refresh()
                key = self._keys.get(kid)
        return key

    def _refresh(self) -> None:
        try:
            status, body, _ = _http_get(self._url, {"Accept": "application/json"}, self._timeout)
            if status != 200:
                raise ValueError(f"HTTP {status}")
            document = json.loads(body)
        except (OSError, ValueError, http.client.HTTPException) as e:
            log.warning("authenticon_verify: could not fetch %s: %s", self._url, e)
            return
        listed = document.get("keys") if isinstance(document, dict) else None
        keys = {}
        for data in listed if isinstance(listed, list) else []:
            key = key_from_jwk(data) if isinstance(data, dict) else None
            if key is not None and isinstance(data.get("kid"), str):
                keys[data["kid"]] = key
        # Replaced, not merged: a key withdrawn from the JWKS stops verifying.
        self._keys = keys


class Verifier:
    """Verifies access tokens against `{base_url}/.well-known/jwks.json` and the revocation
    feed at `{base_url}/.well-known/revocations`, polled every `poll_interval` seconds in a
    daemon thread.

    Tokens are refused (fail closed) until the feed has been read once, and again when no
    poll has succeeded for `fail_closed_after` seconds; in between, an unreachable
    Authenticon changes nothing: the last good state is used.
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
        leeway: float = 0.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.issuer = issuer
        self.audience = audience
        self.poll_interval = poll_interval
        self.fail_closed_after = fail_closed_after
        self.timeout = timeout
        self.leeway = leeway
        self._keys = _KeySet(f"{self.base_url}/.well-known/jwks.json", timeout)
        self._state = RevocationState()
        self._etag: str | None = None
        self._polling = threading.Lock()
        self._last_success: float | None = None
        self._ready = threading.Event()
        self._waited = False
        self._failing = False
        self._stop = threading.Event()
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
            key = self._keys.get(kid if isinstance(kid, str) else None)
            # The key's own algorithm, never just the header's claim about it.
            if key is None or key.algorithm != alg:
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
            for _ in range(MAX_PAGES_PER_ROUND):
                if not self._poll_page():
                    break
            self._last_success = time.monotonic()
        self._ready.set()

    def _poll_page(self) -> bool:
        since = self._state.cursor
        headers = {"Accept": "application/jwt"}
        if self._etag is not None:
            headers["If-None-Match"] = self._etag
        url = f"{self.base_url}/.well-known/revocations?since={since}"
        status, body, response_headers = _http_get(url, headers, self.timeout)
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


def verify(token: str | bytes, base_url: str, **options: Any) -> dict[str, Any]:
    """Verifies with one shared Verifier per `base_url` (`options` apply when it is made)."""
    key = base_url.rstrip("/")
    with _shared_lock:
        verifier = _shared.get(key)
        if verifier is None:
            verifier = _shared[key] = Verifier(key, **options)
    return verifier.verify(token)
