"""Verify Authenticon's access tokens offline (JWKS), honouring its signed revocation feed.

    from authenticon_verify import Verifier, InvalidToken
    verifier = Verifier("https://auth.example.com")
    claims = verifier.verify(token)  # or InvalidToken
"""
from ._feed import FeedError
from ._verifier import InvalidToken, Verifier, verify

__all__ = ["FeedError", "InvalidToken", "Verifier", "verify"]
__version__ = "0.1.0"
