"""Django REST framework authentication with Authenticon's tokens, a drop-in for
simplejwt's `JWTStatelessUserAuthentication`:

    REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [
        "authenticon_verify.drf.JWTStatelessUserAuthentication"]}
    AUTHENTICON_VERIFY = {"URL": "https://auth.example.com"}

Other keys of AUTHENTICON_VERIFY: ISSUER, AUDIENCE, POLL_INTERVAL (2 s),
FAIL_CLOSED_AFTER (300 s), TIMEOUT (5 s), LEEWAY (0 s), JWKS_MAX_AGE (300 s),
JWKS_STALE_LIMIT (3600 s).
"""
from __future__ import annotations

import logging
import os
import threading
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from rest_framework import HTTP_HEADER_ENCODING, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from ._verifier import InvalidToken, Verifier

log = logging.getLogger("authenticon_verify")

# simplejwt's words, so that clients written against it see no difference.
TOKEN_NOT_VALID = "Token is invalid or expired"
NOT_VALID_FOR_ANY_TYPE = "Given token not valid for any token type"

_OPTIONS = {
    "ISSUER": "issuer",
    "AUDIENCE": "audience",
    "POLL_INTERVAL": "poll_interval",
    "FAIL_CLOSED_AFTER": "fail_closed_after",
    "TIMEOUT": "timeout",
    "LEEWAY": "leeway",
    "JWKS_MAX_AGE": "jwks_max_age",
    "JWKS_STALE_LIMIT": "jwks_stale_limit",
}

_verifier: Verifier | None = None
_verifier_pid: int | None = None
_lock = threading.Lock()


def get_verifier() -> Verifier:
    """The process's one Verifier, made from settings.AUTHENTICON_VERIFY at first use."""
    global _verifier, _verifier_pid
    with _lock:
        # The pid too: a server forking in C (uwsgi without py-call-osafterfork) runs no
        # at-fork hooks.
        if _verifier is None or _verifier_pid != os.getpid():
            config = getattr(settings, "AUTHENTICON_VERIFY", None) or {}
            if not config.get("URL"):
                raise ImproperlyConfigured('AUTHENTICON_VERIFY = {"URL": ...} is required')
            options = {name: config[key] for key, name in _OPTIONS.items() if config.get(key) is not None}
            _verifier, _verifier_pid = Verifier(config["URL"], **options), os.getpid()
        return _verifier


def _forget_verifier_in_child() -> None:
    # A forked worker (gunicorn with --preload, uwsgi) inherits the parent's Verifier but
    # not its polling thread: that copy would verify on a state frozen at the fork. The
    # child makes its own at its first request; a new lock too, since another thread of
    # the parent may have held this one at the fork.
    global _verifier, _verifier_pid, _lock
    _lock = threading.Lock()
    _verifier, _verifier_pid = None, None


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_verifier_in_child)


def _forget_verifier(*, setting: str, **kwargs: Any) -> None:
    # Tests that override the setting get a Verifier of the new one.
    global _verifier
    if setting == "AUTHENTICON_VERIFY":
        with _lock:
            if _verifier is not None:
                _verifier.close()
            _verifier = None


setting_changed.connect(_forget_verifier)


class TokenNotValid(AuthenticationFailed):
    """simplejwt's InvalidToken: 401 with its body."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = NOT_VALID_FOR_ANY_TYPE
    default_code = "token_not_valid"


class TokenUser:
    """The user a token stands for, from its claims alone (no database), like simplejwt's."""

    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False
    is_authenticated = True

    def __init__(self, token: dict[str, Any]) -> None:
        self.token = token

    def __str__(self) -> str:
        return f"TokenUser {self.id}"

    @cached_property
    def id(self) -> Any:
        return self.token["user_id"]

    @cached_property
    def pk(self) -> Any:
        return self.id

    @cached_property
    def username(self) -> str:
        return self.token.get("username", "")

    @cached_property
    def roles(self) -> list[str]:
        return list(self.token.get("roles") or [])

    def get_username(self) -> str:
        return self.username

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenUser) and self.id == other.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def groups(self) -> Any:
        from django.contrib.auth.models import Group
        from django.db.models.manager import EmptyManager

        return EmptyManager(Group)

    @property
    def user_permissions(self) -> Any:
        from django.contrib.auth.models import Permission
        from django.db.models.manager import EmptyManager

        return EmptyManager(Permission)

    def get_group_permissions(self, obj: Any = None) -> set[str]:
        return set()

    def get_all_permissions(self, obj: Any = None) -> set[str]:
        return set()

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perm_list: Any, obj: Any = None) -> bool:
        return False

    def has_module_perms(self, module: str) -> bool:
        return False

    def save(self) -> None:
        raise NotImplementedError("Token users have no DB representation")

    def delete(self) -> None:
        raise NotImplementedError("Token users have no DB representation")

    def set_password(self, raw_password: str) -> None:
        raise NotImplementedError("Token users have no DB representation")

    def check_password(self, raw_password: str) -> bool:
        raise NotImplementedError("Token users have no DB representation")

    def __getattr__(self, attr: str) -> Any:
        # Like simplejwt: other claims read as attributes (None when absent).
        if attr.startswith("__") or attr == "token":
            raise AttributeError(attr)
        return self.token.get(attr)


class JWTStatelessUserAuthentication(BaseAuthentication):
    """`Authorization: Bearer <access token>`, verified offline; `request.user` is a
    TokenUser and `request.auth` the token's claims."""

    www_authenticate_realm = "api"

    def authenticate(self, request: Any) -> tuple[TokenUser, dict[str, Any]] | None:
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return None
        if isinstance(header, str):
            header = header.encode(HTTP_HEADER_ENCODING)
        parts = header.split()
        # Another scheme is another authentication class's business.
        if not parts or parts[0] != b"Bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(
                "Authorization header must contain two space-delimited values",
                code="bad_authorization_header",
            )
        try:
            claims = get_verifier().verify(parts[1].decode("ascii"))
        except (InvalidToken, UnicodeDecodeError) as e:
            # The reason goes to the log only; the client gets simplejwt's words.
            log.info("authenticon_verify: token refused: %s", e)
            raise TokenNotValid(
                {
                    "detail": NOT_VALID_FOR_ANY_TYPE,
                    "code": "token_not_valid",
                    "messages": [
                        {"token_class": "AccessToken", "token_type": "access", "message": TOKEN_NOT_VALID}
                    ],
                }
            ) from None
        return TokenUser(claims), claims

    def authenticate_header(self, request: Any) -> str:
        return f'Bearer realm="{self.www_authenticate_realm}"'
