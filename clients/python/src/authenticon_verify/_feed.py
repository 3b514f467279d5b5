"""The revocation feed's answers and what a verifier keeps of them (no I/O here).

See the server's docs/revocation-feed.md for the format.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, NamedTuple

import jwt

# Asymmetric only: an HMAC key would have to be shared with every verifier, and accepting
# HS* against a published public key is the classic algorithm-confusion forgery.
ALGORITHMS = ("RS256", "ES256", "EdDSA")
FEED_TYPE = "revocations+jwt"


class FeedError(Exception):
    """An answer of the feed that must not be believed (or could not be had)."""


class Key(NamedTuple):
    """A verification key of the JWKS and the one algorithm it verifies."""

    algorithm: str
    key: Any


def key_from_jwk(data: Mapping[str, Any]) -> Key | None:
    """The key of one JWKS entry, or None when it is not an asymmetric signing key."""
    algorithm = data.get("alg")
    if algorithm is None:
        # What the key type implies, as RFC 7518 pairs them.
        algorithm = {("RSA", None): "RS256", ("EC", "P-256"): "ES256", ("OKP", "Ed25519"): "EdDSA"}.get(
            (data.get("kty"), data.get("crv"))
        )
    if algorithm not in ALGORITHMS or data.get("use", "sig") != "sig":
        return None
    try:
        return Key(algorithm, jwt.PyJWK(dict(data), algorithm).key)
    except (jwt.PyJWTError, ValueError, TypeError):
        return None  # a key the parameters do not describe; the others still serve


def _is_int(value: Any) -> bool:
    # bool is an int subclass in Python; a JSON `true` is not a timestamp.
    return isinstance(value, int) and not isinstance(value, bool)


def decode_answer(
    body: bytes | str,
    requested_since: int,
    key_for: Callable[[str | None], Key | None],
    issuer: str | None = None,
) -> dict[str, Any]:
    """Verifies one `200` answer of the feed and returns its payload, checked for shape.

    `key_for(kid)` gives the JWKS key of that id, or None. Raises FeedError.
    """
    try:
        header = jwt.get_unverified_header(body)
    except jwt.PyJWTError as e:
        raise FeedError(f"not a JWS: {e}") from None
    # `typ` keeps any other JWT signed by the same key (an access token, say) from being
    # replayed as a feed answer.
    if header.get("typ") != FEED_TYPE:
        raise FeedError(f"typ is {header.get('typ')!r}, not {FEED_TYPE!r}")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise FeedError(f"algorithm {alg!r} is not allowed")
    kid = header.get("kid")
    key = key_for(kid if isinstance(kid, str) else None)
    if key is None:
        raise FeedError(f"no key {kid!r} in the JWKS")
    # The key decides the algorithm, not the header: the header is the attacker's to write.
    if key.algorithm != alg:
        raise FeedError(f"key {kid!r} is not a {alg} key")
    try:
        raw = jwt.PyJWS().decode(body, key.key, algorithms=[alg])
        payload = json.loads(raw)
    except (jwt.PyJWTError, ValueError) as e:
        raise FeedError(f"bad signature or payload: {e}") from None
    check_payload(payload, requested_since, issuer)
    return payload


def check_payload(payload: Any, requested_since: int, issuer: str | None = None) -> None:
    """The payload's shape, its `iss` when one is expected, and that it answers our cursor."""
    if not isinstance(payload, dict):
        raise FeedError("the payload is not an object")
    if issuer is not None and payload.get("iss") != issuer:
        raise FeedError(f"iss is {payload.get('iss')!r}, not {issuer!r}")
    # An answer for another cursor (a replayed or cached one) could hide what was revoked
    # in between.
    if not _is_int(payload.get("since")) or payload["since"] != requested_since:
        raise FeedError(f"answer for since={payload.get('since')!r}, asked since={requested_since}")
    if not _is_int(payload.get("cursor")) or payload["cursor"] < 0:
        raise FeedError("cursor is not a non-negative integer")
    if not isinstance(payload.get("more", False), bool):
        raise FeedError("more is not a boolean")
    sessions, users = payload.get("sessions", []), payload.get("users", [])
    if not isinstance(sessions, list) or not isinstance(users, list):
        raise FeedError("sessions and users must be lists")
    for entry in sessions:
        if not (isinstance(entry, dict) and isinstance(entry.get("sid"), str) and _is_int(entry.get("until"))):
            raise FeedError(f"bad sessions entry: {entry!r}")
    for entry in users:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("user_id"), str)
            and _is_int(entry.get("not_before"))
            and _is_int(entry.get("until"))
        ):
            raise FeedError(f"bad users entry: {entry!r}")


class RevocationState:
    """What the feed has said so far. Thread-safe: the poller writes, requests read.

    `leeway`: the seconds tokens are accepted past their `exp` (the verifier's leeway).
    Entries are kept that long past their `until`, since their tokens still pass until then.
    """

    def __init__(self, leeway: float | timedelta = 0.0) -> None:
        self._lock = threading.Lock()
        # A timedelta as PyJWT (and simplejwt's LEEWAY) take it, too.
        self.leeway = max(0.0, leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway))
        self.cursor = 0
        # sid -> until
        self._sessions: dict[str, int] = {}
        # user_id -> (not_before, until)
        self._users: dict[str, tuple[int, int]] = {}

    def merge(self, payload: Mapping[str, Any], now: float) -> None:
        """Adds a checked payload's entries and moves the cursor. Idempotent: the service
        re-sends entries for a while, and a repeated one changes nothing."""
        with self._lock:
            for entry in payload.get("sessions", ()):
                sid, until = entry["sid"], entry["until"]
                self._sessions[sid] = max(until, self._sessions.get(sid, until))
            for entry in payload.get("users", ()):
                user, not_before, until = entry["user_id"], entry["not_before"], entry["until"]
                old_not_before, old_until = self._users.get(user, (not_before, until))
                # The later `not_before` revokes more: a user deactivated twice keeps the second.
                self._users[user] = (max(not_before, old_not_before), max(until, old_until))
            self.cursor = payload["cursor"]
            self._prune(now)

    def prune(self, now: float) -> None:
        with self._lock:
            self._prune(now)

    def _prune(self, now: float) -> None:
        # Past `until` no token the entry concerns can still be valid (it has expired), so
        # the entry no longer decides anything; with a leeway, not before `until + leeway`,
        # as a token is accepted until `exp + leeway`.
        horizon = now - self.leeway
        self._sessions = {sid: until for sid, until in self._sessions.items() if until >= horizon}
        self._users = {u: e for u, e in self._users.items() if e[1] >= horizon}

    def revocation_of(self, claims: Mapping[str, Any]) -> str | None:
        """Why these (signature-checked) claims are revoked, or None."""
        with self._lock:
            sid = claims.get("sid")
            if isinstance(sid, str) and sid in self._sessions:
                return "the session was revoked"
            user = claims.get("user_id")
            entry = self._users.get(str(user)) if user is not None else None
            if entry is not None:
                iat = claims.get("iat")
                # Without `iat` the token cannot show it came after `not_before`.
                if not isinstance(iat, (int, float)) or isinstance(iat, bool) or iat < entry[0]:
                    return "the user's tokens were revoked"
        return None

    def counts(self) -> tuple[int, int]:
        """(revoked sessions, users with a not-before) currently remembered."""
        with self._lock:
            return len(self._sessions), len(self._users)
