"""Unit tests of authenticon_verify.drf's header handling and TokenUser (no Authenticon:
the configured URL answers nothing, so every token is refused, failing closed)."""
import logging
import os
import socket
import unittest

import django
from django.conf import settings


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if not settings.configured:
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
        AUTHENTICON_VERIFY={"URL": f"http://127.0.0.1:{closed_port()}", "TIMEOUT": 0.2, "POLL_INTERVAL": 0.1},
    )
    django.setup()

from rest_framework.exceptions import AuthenticationFailed  # noqa: E402
from rest_framework.test import APIRequestFactory  # noqa: E402

from authenticon_verify import drf  # noqa: E402
from authenticon_verify.drf import JWTStatelessUserAuthentication, TokenUser  # noqa: E402
from test_verifier import in_child  # noqa: E402


QUIET = logging.NullHandler()


def setUpModule():
    # Its poller's warnings (nothing listens) are expected: kept off the output.
    logging.getLogger("authenticon_verify").addHandler(QUIET)


def tearDownModule():
    # The shared Verifier's poller has nothing more to find.
    from authenticon_verify import drf

    if drf._verifier is not None:
        drf._verifier.close()
    logging.getLogger("authenticon_verify").removeHandler(QUIET)


class Authenticate(unittest.TestCase):
    def setUp(self):
        self.auth = JWTStatelessUserAuthentication()
        self.factory = APIRequestFactory()

    def authenticate(self, header=None):
        extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
        return self.auth.authenticate(self.factory.get("/", **extra))

    def test_no_header_or_another_scheme_is_not_ours(self):
        self.assertIsNone(self.authenticate())
        self.assertIsNone(self.authenticate("Basic YWxpY2U6cGFzc3dvcmQ="))
        self.assertIsNone(self.authenticate(""))

    def test_a_bearer_header_in_three_parts(self):
        with self.assertRaises(AuthenticationFailed) as caught:
            self.authenticate("Bearer a b")
        self.assertEqual(caught.exception.get_codes(), "bad_authorization_header")

    def test_a_refused_token_gets_simplejwts_answer(self):
        with self.assertRaises(AuthenticationFailed) as caught:
            self.authenticate("Bearer a.b.c")
        self.assertEqual(caught.exception.status_code, 401)
        self.assertEqual(caught.exception.detail, {
            "detail": "Given token not valid for any token type",
            "code": "token_not_valid",
            "messages": [{"token_class": "AccessToken", "token_type": "access",
                          "message": "Token is invalid or expired"}],
        })

    def test_the_challenge(self):
        self.assertEqual(self.auth.authenticate_header(None), 'Bearer realm="api"')


class TokenUserTest(unittest.TestCase):
    def test_like_simplejwts(self):
        user = TokenUser({"user_id": "u1", "username": "alice", "roles": ["editor"], "sid": "s1"})
        self.assertEqual((user.id, user.pk, user.username, user.roles), ("u1", "u1", "alice", ["editor"]))
        self.assertTrue(user.is_authenticated)
        self.assertFalse(user.is_anonymous or user.is_staff or user.is_superuser)
        self.assertEqual(user.sid, "s1")
        self.assertIsNone(user.missing_claim)
        self.assertEqual(str(user), "TokenUser u1")
        self.assertEqual(user, TokenUser({"user_id": "u1"}))
        self.assertFalse(user.has_perm("anything"))
        with self.assertRaises(NotImplementedError):
            user.save()

    def test_claims_cannot_make_a_superuser(self):
        user = TokenUser({"user_id": "u1", "is_staff": True, "is_superuser": True})
        self.assertFalse(user.is_staff or user.is_superuser)


@unittest.skipUnless(hasattr(os, "fork"), "no fork()")
class Fork(unittest.TestCase):
    def test_a_forked_worker_makes_its_own_verifier(self):
        # gunicorn --preload: the parent made the Verifier (at a first request, say).
        inherited = drf.get_verifier()

        def child():
            dropped = drf._verifier is None
            own = drf.get_verifier()
            return {"dropped": dropped, "own": own is not inherited, "polling": own._thread.is_alive()}

        # Another thread of the parent holds the lock at the fork: the child must not wait
        # for it forever.
        with drf._lock:
            result = in_child(self, child)
        self.assertEqual(result, {"dropped": True, "own": True, "polling": True})
        self.assertIs(drf.get_verifier(), inherited, "the parent keeps its own")


if __name__ == "__main__":
    unittest.main()
