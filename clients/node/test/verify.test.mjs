// verify() against a real Authenticon: claims, logout and deactivation seen through the
// revocation feed, and tokens of other kinds refused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { base64url, decodeProtectedHeader, SignJWT, UnsecuredJWT } from 'jose';
import { createVerifier, InvalidTokenError } from '../index.js';
import { call, login, logout, refusal, register, sleep, startAuthenticon, within } from './support.mjs';

const admin = { username: 'admin', password: 'an administrator passphrase' };

describe('verify', () => {
  let server;
  let verifier;

  before(async () => {
    server = await startAuthenticon({ superuser: admin });
    verifier = createVerifier({ url: server.url, pollIntervalMs: 500 });
  });

  after(async () => {
    verifier?.close();
    await server?.stop();
  });

  test('an access token verifies to its claims', async () => {
    const user = await register(server.url, 'alice');
    const { access } = await login(server.url, 'alice');
    const claims = await verifier.verify(access);
    assert.equal(claims.token_type, 'access');
    assert.equal(claims.user_id, user.id);
    assert.equal(claims.sub, user.id);
    assert.equal(claims.username, 'alice');
    assert.equal(typeof claims.sid, 'string');
  });

  test('a refresh token is refused', async () => {
    await register(server.url, 'rita');
    const { refresh } = await login(server.url, 'rita');
    const err = await refusal(verifier.verify(refresh));
    assert.ok(err instanceof InvalidTokenError);
    assert.equal(err.reason, 'token_type');
  });

  test('a logged-out session is refused within 3 s; another session of the user is not', async () => {
    await register(server.url, 'bob');
    const first = await login(server.url, 'bob');
    const second = await login(server.url, 'bob');
    await verifier.verify(first.access);
    await verifier.verify(second.access);

    await logout(server.url, first.refresh);
    const took = await within(3000, async () => (await refusal(verifier.verify(first.access))) !== null, 'logout');
    const err = await refusal(verifier.verify(first.access));
    assert.ok(err instanceof InvalidTokenError);
    assert.equal(err.reason, 'session_revoked');
    assert.ok(took < 3000);

    // A few more polls later, the other session still stands.
    await sleep(1200);
    const claims = await verifier.verify(second.access);
    assert.equal(claims.username, 'bob');
  });

  test('the tokens of a deactivated user are refused within 3 s', async () => {
    const user = await register(server.url, 'carol');
    const { access } = await login(server.url, 'carol');
    await verifier.verify(access);

    const { access: adminAccess } = await login(server.url, admin.username, admin.password);
    const answer = await call(server.url, 'PATCH', `/api/users/${user.id}/`, { is_active: false }, adminAccess);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    await within(3000, async () => (await refusal(verifier.verify(access))) !== null, 'deactivation');
    const err = await refusal(verifier.verify(access));
    assert.ok(['session_revoked', 'user_revoked'].includes(err.reason), err.reason);
  });

  test('an HS256 token (even keyed with the public key, under its kid) is refused', async () => {
    await register(server.url, 'mallory');
    const { access } = await login(server.url, 'mallory');
    const claims = await verifier.verify(access);
    const { kid } = decodeProtectedHeader(access);
    const { keys } = await (await fetch(`${server.url}/.well-known/jwks.json`)).json();
    const publicKey = base64url.decode(keys.find((k) => k.kid === kid).x);
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid }).sign(publicKey);
    const err = await refusal(verifier.verify(forged));
    assert.ok(err instanceof InvalidTokenError);
    assert.equal(err.reason, 'algorithm');

    const unsigned = new UnsecuredJWT(claims).encode();
    assert.equal((await refusal(verifier.verify(unsigned)))?.reason, 'algorithm');
    assert.equal((await refusal(verifier.verify('not a token')))?.reason, 'malformed');
  });
});
