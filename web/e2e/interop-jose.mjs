// Interop: Authenticon's tokens verify with `jose` reading the JWKS, and tokens jose
// forges with another key (claiming Authenticon's kid) are refused, by jose and by the
// server. Usage: node e2e/interop-jose.mjs BASE_URL ACCESS_TOKEN ALGORITHM
import assert from 'node:assert/strict';
import { createRemoteJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose';

const [base, token, alg] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
const { payload } = await jwtVerify(token, jwks, { algorithms: [alg] });
assert.equal(payload.token_type, 'access');

const { kid } = decodeProtectedHeader(token);
const { privateKey } = await generateKeyPair(alg, { extractable: false });
const forged = await new SignJWT(payload).setProtectedHeader({ alg, kid }).sign(privateKey);
await assert.rejects(jwtVerify(forged, jwks, { algorithms: [alg] }), /signature verification failed/);

const res = await fetch(`${base}/api/token/verify/`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ token: forged }),
});
assert.equal(res.status, 401);
console.log(`jose: ${alg} token verified from the JWKS; forged token refused`);
