// WebAuthn in the browser. The server sends options in WebAuthn's JSON form (binary
// fields as base64url) and wants answers in the same form; the browser's API takes and
// returns ArrayBuffers. These helpers translate both ways.

import type { components } from './api/schema';

type Json = Record<string, unknown>;

/** A credential as the server reads it: the schema's `credential` (a free-form object). */
export type PasskeyCredential = components['schemas']['PasskeyAnswer']['credential'];

/** Options for the browser: `{publicKey}` in WebAuthn's JSON form. */
export interface PasskeyRequest {
  publicKey: Json;
}

/**
 * The options of an answer the schema leaves untyped (`/api/me/reauthenticate/passkey/`,
 * `/api/token/mfa/passkey/` declare a bare object), checked instead of cast.
 */
export function passkeyRequestOf(answer: unknown): PasskeyRequest {
  const publicKey = (answer as { publicKey?: unknown } | null)?.publicKey;
  if (!publicKey || typeof publicKey !== 'object') throw new Error('The server sent no passkey options.');
  return { publicKey: publicKey as Json };
}

export function passkeysSupported(): boolean {
  return typeof window !== 'undefined' && typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
}

export function fromBase64Url(text: string): ArrayBuffer {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return bytes.buffer;
}

export function toBase64Url(buffer: ArrayBuffer | ArrayBufferView): string {
  const bytes = buffer instanceof ArrayBuffer
    ? new Uint8Array(buffer)
    : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function withIds(list: unknown): PublicKeyCredentialDescriptor[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.map((d: Json) => ({ ...d, id: fromBase64Url(d.id as string) }) as PublicKeyCredentialDescriptor);
}

/** `publicKey` creation options from the server, ready for `navigator.credentials.create()`. */
export function creationOptions(publicKey: Json): PublicKeyCredentialCreationOptions {
  const user = publicKey.user as Json;
  return {
    ...(publicKey as unknown as PublicKeyCredentialCreationOptions),
    challenge: fromBase64Url(publicKey.challenge as string),
    user: { ...(user as unknown as PublicKeyCredentialUserEntity), id: fromBase64Url(user.id as string) },
    excludeCredentials: withIds(publicKey.excludeCredentials),
  };
}

/** `publicKey` request options from the server, ready for `navigator.credentials.get()`. */
export function requestOptions(publicKey: Json): PublicKeyCredentialRequestOptions {
  return {
    ...(publicKey as unknown as PublicKeyCredentialRequestOptions),
    challenge: fromBase64Url(publicKey.challenge as string),
    allowCredentials: withIds(publicKey.allowCredentials),
  };
}

/** A credential as the server reads it (what `PublicKeyCredential.toJSON()` gives). */
export function credentialJson(credential: PublicKeyCredential): PasskeyCredential {
  const r = credential.response as AuthenticatorAttestationResponse & AuthenticatorAssertionResponse;
  const response: Json = { clientDataJSON: toBase64Url(r.clientDataJSON) };
  if ('attestationObject' in r && r.attestationObject) {
    response.attestationObject = toBase64Url(r.attestationObject);
    if (typeof r.getTransports === 'function') response.transports = r.getTransports();
  } else {
    response.authenticatorData = toBase64Url(r.authenticatorData);
    response.signature = toBase64Url(r.signature);
    if (r.userHandle) response.userHandle = toBase64Url(r.userHandle);
  }
  const json: Json = {
    id: credential.id,
    rawId: toBase64Url(credential.rawId),
    type: credential.type,
    response,
    extensions: credential.getClientExtensionResults?.() ?? {},
  };
  // The schema declares `credential` as a bare object, which openapi-typescript types as
  // `Record<string, never>`: the one place this JSON meets that type.
  return json as PasskeyCredential;
}

/** Asks the browser to make a passkey for `{publicKey}` options; the answer to send back. */
export async function createPasskey(options: PasskeyRequest): Promise<PasskeyCredential> {
  const credential = await navigator.credentials.create({ publicKey: creationOptions(options.publicKey) });
  if (!credential) throw new Error('No passkey was created.');
  return credentialJson(credential as PublicKeyCredential);
}

/** Asks the browser to sign `{publicKey}` options with a passkey; the answer to send back. */
export async function signWithPasskey(options: PasskeyRequest): Promise<PasskeyCredential> {
  const credential = await navigator.credentials.get({ publicKey: requestOptions(options.publicKey) });
  if (!credential) throw new Error('No passkey was used.');
  return credentialJson(credential as PublicKeyCredential);
}

/** What to tell the user when the browser's passkey prompt failed or was dismissed. */
export function passkeyError(err: unknown): string | null {
  if (err instanceof DOMException) {
    if (err.name === 'NotAllowedError' || err.name === 'AbortError') return 'The passkey prompt was closed. Try again.';
    if (err.name === 'InvalidStateError') return 'This device already holds a passkey for your account.';
    return `The browser refused: ${err.message}`;
  }
  return null;
}
