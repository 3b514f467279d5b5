// The signed-in user's own account: password and second factors.

import { queryOptions } from '@tanstack/react-query';
import QRCode from 'qrcode';
import { api } from '../../lib/api/transport';
import type { components } from '../../lib/api/schema';
import { setMfaEnrollmentRequired } from '../../lib/api/guards';
import { createPasskey } from '../../lib/passkeys';

export type MfaStatus = components['schemas']['MfaStatus'];
export type PasskeyInfo = components['schemas']['PasskeyInfo'];
export type TotpEnrolment = components['schemas']['TotpEnrolment'];

export const changePassword = (oldPassword: string, newPassword: string) =>
  api('/api/me/password/', { method: 'post', body: { old_password: oldPassword, new_password: newPassword } });

/** Every query of the factors: each change refreshes them all. */
export const mfaKey = ['mfa'] as const;

export const mfaStatusQuery = () => queryOptions({
  queryKey: [...mfaKey, 'status'],
  queryFn: async () => {
    const status = await api('/api/mfa/');
    // The banner asking for a second factor goes once there is one.
    if (status.totp || status.passkeys) setMfaEnrollmentRequired(false);
    return status;
  },
});

export const passkeysQuery = () => queryOptions({ queryKey: [...mfaKey, 'passkeys'], queryFn: () => api('/api/mfa/passkeys/') });

/** Starts TOTP enrolment; the secret comes with its QR code (a data URL). */
export async function startTotp(): Promise<TotpEnrolment & { qr: string }> {
  const enrolment = await api('/api/mfa/totp/', { method: 'post', body: {} });
  return { ...enrolment, qr: await QRCode.toDataURL(enrolment.otpauth_url, { margin: 1, width: 200 }) };
}

export const confirmTotp = (code: string) => api('/api/mfa/totp/confirm/', { method: 'post', body: { code } });

export const disableTotp = (code: string) => api('/api/mfa/totp/disable/', { method: 'post', body: { code } });

export const regenerateRecoveryCodes = (code: string) => api('/api/mfa/recovery-codes/', { method: 'post', body: { code } });

/** Registers a passkey: the server's options, the browser's prompt, the answer back. */
export async function addPasskey(name: string) {
  const options = await api('/api/mfa/passkeys/', { method: 'post', body: { name } });
  const credential = await createPasskey(options);
  return api('/api/mfa/passkeys/confirm/', { method: 'post', body: { ceremony: options.ceremony, credential } });
}

export const removePasskey = (id: string) =>
  api('/api/mfa/passkeys/{id}/', { method: 'delete', path: { id }, body: {} });
