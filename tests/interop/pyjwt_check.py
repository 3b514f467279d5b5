"""Interop: Authenticon's tokens verify with PyJWT reading the JWKS, and tokens PyJWT
forges with another key (claiming Authenticon's kid) are refused, by PyJWT and by the
server. Usage: pyjwt_check.py BASE_URL ACCESS_TOKEN ALGORITHM"""
import json
import sys
import urllib.error
import urllib.request

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

base, token, alg = sys.argv[1:4]
jwks = jwt.PyJWKClient(f"{base}/.well-known/jwks.json")
claims = jwt.decode(token, jwks.get_signing_key_from_jwt(token).key, algorithms=[alg])
assert claims["token_type"] == "access", claims

kid = jwt.get_unverified_header(token)["kid"]
other = {
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
}[alg]()
forged = jwt.encode(claims, other, algorithm=alg, headers={"kid": kid})
try:
    jwt.decode(forged, jwks.get_signing_key_from_jwt(forged).key, algorithms=[alg])
    sys.exit("pyjwt accepted a forged token")
except jwt.InvalidSignatureError:
    pass

request = urllib.request.Request(
    f"{base}/api/token/verify/", data=json.dumps({"token": forged}).encode(),
    headers={"Content-Type": "application/json"}, method="POST")
try:
    urllib.request.urlopen(request)
    sys.exit("the server accepted a token PyJWT forged")
except urllib.error.HTTPError as e:
    assert e.code == 401, e.code
print(f"pyjwt {jwt.__version__}: {alg} token verified from the JWKS; forged token refused")
