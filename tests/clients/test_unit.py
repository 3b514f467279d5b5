"""Unit tests of authenticon_verify's pure logic: checking feed answers, merging them,
forgetting entries past `until`. Run: python -m unittest discover -s tests/clients"""
import json
import logging
import socket
import time
import unittest

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from authenticon_verify import InvalidToken, Verifier
from authenticon_verify._feed import FeedError, RevocationState, check_payload, decode_answer, key_from_jwk

NOW = 1_767_225_600


def page(since=0, cursor=1, more=False, sessions=(), users=(), **extra):
    return {"iat": NOW, "since": since, "cursor": cursor, "more": more,
            "sessions": list(sessions), "users": list(users), **extra}


def public_jwk(private_key, kid, alg):
    data = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(private_key.public_key()))
    return key_from_jwk({**data, "kid": kid, "alg": alg, "use": "sig"})


QUIET = logging.NullHandler()


def setUpModule():
    # The poller's warnings are expected here (nothing listens): kept off the output.
    logging.getLogger("authenticon_verify").addHandler(QUIET)


def tearDownModule():
    logging.getLogger("authenticon_verify").removeHandler(QUIET)


class CheckPayload(unittest.TestCase):
    def test_an_answer_for_another_cursor_is_refused(self):
        check_payload(page(since=5, cursor=7), 5)
        with self.assertRaisesRegex(FeedError, "since"):
            check_payload(page(since=0, cursor=7), 5)

    def test_since_must_be_an_integer_not_a_boolean_or_string(self):
        with self.assertRaises(FeedError):
            check_payload(page(since="0"), 0)
        with self.assertRaises(FeedError):
            check_payload(page(since=False), 0)

    def test_issuer_is_checked_only_when_configured(self):
        check_payload(page(iss="https://a.example"), 0)
        check_payload(page(iss="https://a.example"), 0, issuer="https://a.example")
        with self.assertRaisesRegex(FeedError, "iss"):
            check_payload(page(iss="https://b.example"), 0, issuer="https://a.example")
        with self.assertRaisesRegex(FeedError, "iss"):
            check_payload(page(), 0, issuer="https://a.example")

    def test_malformed_entries_are_refused(self):
        for bad in (
            page(sessions=[{"sid": 1, "until": NOW}]),
            page(sessions=[{"sid": "s", "until": "later"}]),
            page(users=[{"user_id": "u", "until": NOW}]),
            page(sessions={"sid": "s"}),
            page(cursor=-1),
            page(more="yes"),
            [],
        ):
            with self.subTest(bad=bad), self.assertRaises(FeedError):
                check_payload(bad, 0)


class Merge(unittest.TestCase):
    def test_sessions_and_users_revoke(self):
        state = RevocationState()
        state.merge(page(cursor=3, sessions=[{"sid": "s1", "until": NOW + 300}],
                         users=[{"user_id": "u1", "not_before": NOW - 10, "until": NOW + 300}]), NOW)
        self.assertEqual(state.cursor, 3)
        self.assertIsNotNone(state.revocation_of({"sid": "s1", "user_id": "u9", "iat": NOW}))
        self.assertIsNone(state.revocation_of({"sid": "s2", "user_id": "u9", "iat": NOW}))
        # Issued before not_before: revoked; at or after it: a later login, valid.
        self.assertIsNotNone(state.revocation_of({"sid": "s2", "user_id": "u1", "iat": NOW - 11}))
        self.assertIsNone(state.revocation_of({"sid": "s2", "user_id": "u1", "iat": NOW - 10}))
        # No iat cannot prove it came after.
        self.assertIsNotNone(state.revocation_of({"sid": "s2", "user_id": "u1"}))

    def test_merging_again_is_idempotent_and_keeps_the_latest_not_before(self):
        state = RevocationState()
        first = page(cursor=3, sessions=[{"sid": "s1", "until": NOW + 300}],
                     users=[{"user_id": "u1", "not_before": NOW, "until": NOW + 300}])
        state.merge(first, NOW)
        state.merge(first, NOW)
        self.assertEqual(state.counts(), (1, 1))
        state.merge(page(since=3, cursor=4,
                         users=[{"user_id": "u1", "not_before": NOW - 50, "until": NOW + 250}]), NOW)
        # An older entry re-sent does not move not_before back.
        self.assertIsNotNone(state.revocation_of({"sid": "x", "user_id": "u1", "iat": NOW - 1}))
        self.assertEqual(state.cursor, 4)

    def test_entries_past_until_are_forgotten(self):
        state = RevocationState()
        state.merge(page(sessions=[{"sid": "short", "until": NOW + 5}, {"sid": "long", "until": NOW + 60}],
                         users=[{"user_id": "u1", "not_before": NOW, "until": NOW + 5}]), NOW)
        self.assertEqual(state.counts(), (2, 1))
        state.prune(NOW + 5)
        self.assertEqual(state.counts(), (2, 1), "kept up to and including until")
        state.prune(NOW + 6)
        self.assertEqual(state.counts(), (1, 0))
        self.assertIsNone(state.revocation_of({"sid": "short", "user_id": "u1", "iat": 0}))
        self.assertIsNotNone(state.revocation_of({"sid": "long", "user_id": "u1", "iat": 0}))

    def test_an_entry_already_past_until_is_not_kept(self):
        state = RevocationState()
        state.merge(page(sessions=[{"sid": "old", "until": NOW - 1}]), NOW)
        self.assertEqual(state.counts(), (0, 0))


class KeyFromJwk(unittest.TestCase):
    def test_asymmetric_signing_keys_only(self):
        ed = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(ed25519.Ed25519PrivateKey.generate().public_key()))
        self.assertEqual(key_from_jwk(ed).algorithm, "EdDSA")
        self.assertIsNone(key_from_jwk({**ed, "use": "enc"}))
        self.assertIsNone(key_from_jwk({**ed, "alg": "HS256"}))
        self.assertIsNone(key_from_jwk({"kty": "oct", "k": "c2VjcmV0"}))
        self.assertIsNone(key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": "not a key"}))


class DecodeAnswer(unittest.TestCase):
    def setUp(self):
        self.private = ed25519.Ed25519PrivateKey.generate()
        self.keys = {"k1": public_jwk(self.private, "k1", "EdDSA")}

    def sign(self, payload, key=None, alg="EdDSA", kid="k1", typ="revocations+jwt"):
        return jwt.encode(payload, key or self.private, algorithm=alg, headers={"kid": kid, "typ": typ})

    def test_a_good_answer(self):
        payload = decode_answer(self.sign(page(cursor=9)), 0, self.keys.get)
        self.assertEqual(payload["cursor"], 9)

    def test_signed_by_another_key_under_the_same_kid(self):
        other = ed25519.Ed25519PrivateKey.generate()
        with self.assertRaisesRegex(FeedError, "signature"):
            decode_answer(self.sign(page(), key=other), 0, self.keys.get)

    def test_another_typ_is_refused(self):
        # An access token signed by the same key must not pass for a feed answer.
        for typ in ("JWT", None):
            with self.subTest(typ=typ), self.assertRaisesRegex(FeedError, "typ"):
                decode_answer(self.sign(page(), typ=typ), 0, self.keys.get)

    def test_hmac_is_refused(self):
        token = jwt.encode(page(), "a shared secret that is long enough", algorithm="HS256",
                           headers={"kid": "k1", "typ": "revocations+jwt"})
        with self.assertRaisesRegex(FeedError, "not allowed"):
            decode_answer(token, 0, self.keys.get)

    def test_the_key_decides_the_algorithm(self):
        ec_key = ec.generate_private_key(ec.SECP256R1())
        with self.assertRaisesRegex(FeedError, "not a ES256 key"):
            decode_answer(self.sign(page(), key=ec_key, alg="ES256"), 0, self.keys.get)

    def test_unknown_kid(self):
        with self.assertRaisesRegex(FeedError, "no key"):
            decode_answer(self.sign(page(), kid="k2"), 0, self.keys.get)

    def test_since_mismatch_after_a_good_signature(self):
        with self.assertRaisesRegex(FeedError, "since"):
            decode_answer(self.sign(page(since=0)), 4, self.keys.get)


class FailClosed(unittest.TestCase):
    def test_nothing_is_accepted_before_the_feed_was_read(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        # Nothing listens on that port now.
        with self.assertLogs("authenticon_verify", "WARNING") as logged:
            verifier = Verifier(f"http://127.0.0.1:{port}", poll_interval=0.2, timeout=0.5)
            try:
                started = time.monotonic()
                with self.assertRaisesRegex(InvalidToken, "not been read"):
                    verifier.verify("a.b.c")
                self.assertGreaterEqual(time.monotonic() - started, 0.45, "waited for the first poll")
                started = time.monotonic()
                with self.assertRaisesRegex(InvalidToken, "not been read"):
                    verifier.verify("a.b.c")
                self.assertLess(time.monotonic() - started, 0.2, "only the first call waits")
            finally:
                verifier.close()
        self.assertIn("Connection refused", logged.output[0])
        self.assertEqual(len(logged.output), 1, "one warning while it keeps failing")


if __name__ == "__main__":
    unittest.main()
