/**
 * The service worker's push-only device credential, asked for by an unlocked page (issue #17;
 * server/auth/device-credential.ts, docs/protocol.md §3 "Device push credentials"). The page
 * makes an ECDSA P-256 key pair whose private half WebCrypto will never export, proves it holds
 * it (a DPoP proof) while presenting the user's access token, and hands the credential with the
 * key pair (structured-cloned, still non-extractable) to the queue. The service worker then
 * delivers sealed changes with it, also with the app closed or locked, and can read nothing.
 */
import { dpopProof, generateDpopKeyPair } from '../../shared/crypto/dpop-proof.ts';
import { ApiClient, AUTH, HEADERS, readApiError } from '../../shared/protocol/index.ts';
import type { QueueCredential } from '../queue/index.ts';
import type { Session } from './identity.ts';

/** A credential that expires within this is replaced at the next unlock online. */
export const RENEW_BEFORE_MS = 7 * 24 * 3600_000;

export class DeviceCredentialError extends Error {}

/** A new credential for `session` (its access token must be valid): needs the server. */
export async function issueDeviceCredential(session: Session, serverUrl = location.origin): Promise<QueueCredential> {
  if (session.kind !== 'password' || !session.accessToken) throw new DeviceCredentialError('Only an unlocked, signed-in session can ask for a device credential.');
  const api = new ApiClient({ serverUrl });
  const keys = await generateDpopKeyPair();
  const proof = await dpopProof({ keys, method: AUTH.deviceCredential.method, url: api.url(AUTH.deviceCredential) });
  const response = await api.send(AUTH.deviceCredential, { token: session.accessToken, headers: { [HEADERS.dpop]: proof } });
  if (!response.ok) throw new DeviceCredentialError((await readApiError(response)).message);
  const body = (await response.json()) as { credential: string; expiresAt: string };
  return { token: body.credential, keys, userId: session.user.userId, expiresAt: Date.parse(body.expiresAt) };
}

/** Whether the queue's credential still serves `session` (same user; not about to expire). */
export function credentialServes(credential: QueueCredential | undefined, session: Session, now = Date.now()): credential is QueueCredential {
  return !!credential && credential.userId === session.user.userId && credential.expiresAt - now > RENEW_BEFORE_MS;
}
