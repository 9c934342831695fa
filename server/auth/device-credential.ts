/**
 * Device push credentials (issue #17): what a device's service worker delivers the outbound
 * queue with while no page is open, or the app is locked, without holding anything that reads.
 *
 * - Issued to a signed-in, unlocked page (`AUTH.deviceCredential`, with its access token and a
 *   DPoP proof made with a new non-extractable ECDSA P-256 key); bound to that key's thumbprint
 *   (RFC 9449 `cnf.jkt`) and to the login session: logout, session, user or device revocation
 *   end it at the next call. It expires with the refresh token's lifetime from issue; the page
 *   asks for a new one at sign-in, and when the queue's is refused or expires within 7 days.
 * - Accepted only on `SYNC.push`, as `Authorization: DPoP <credential>` with a fresh proof
 *   signed by the bound key (`jti` never seen before, `htm`/`htu` this call, `ath` this
 *   credential). Every other route and both socket namespaces refuse it
 *   (require-identity.ts: 403 `PUSH_ONLY_CREDENTIAL`; the sockets take only access tokens), and
 *   the push answer it gets names conflicting documents of PHI collections by id only
 *   (server/replication/push.ts), so it reads nothing.
 * - It cannot obtain an access token (refresh takes only refresh tokens, which the device keeps
 *   sealed under the user's unlock: client/session/sealed-session.ts).
 *
 * Its form, `dc_<id>.<secret>`, is not a JWT, so the access-token verifier refuses it wherever
 * one is expected.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { dpopCredential, ErrorCode, HEADERS, type Identity } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';
import { actorOf } from './actor.ts';
import { verifyDpopProof } from './dpop.ts';
import type { IdentityStore } from './identity-store.ts';
import type { AuditEntryInput } from '../store/types.ts';

export interface IssuedDeviceCredential {
  credential: string;
  tokenType: 'DPoP';
  /** Seconds. */
  expiresIn: number;
  expiresAt: string;
  /** RFC 7638 thumbprint of the key it is bound to. */
  jkt: string;
}

export interface DeviceCredentialOptions {
  identities: IdentityStore;
  ttlSeconds: number;
  audit?: (entries: AuditEntryInput[]) => Promise<void>;
  now?: () => number;
  /**
   * The origin devices call (PUBLIC_ORIGIN): behind a proxy that ends TLS the server sees
   * `http://internal-host`, while the device's proof names `https://public-host` (`htu`). Unset:
   * the request's own origin (with TRUST_PROXY, Fastify takes it from X-Forwarded-Proto/-Host).
   */
  publicOrigin?: string;
}

const FORM = /^dc_([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const badCredential = (why: string) => new HttpError(401, ErrorCode.BAD_DEVICE_CREDENTIAL, `The device credential was refused: ${why}. Open the app and unlock it once online to get a new one; changes waiting on the device are kept.`);

/** The URL a request was made at, as a proof's `htu` must name it. */
export function requestUrl(request: FastifyRequest, publicOrigin?: string): string {
  return `${publicOrigin ?? `${request.protocol}://${request.host}`}${request.url}`;
}

export class DeviceCredentials {
  private readonly now: () => number;

  constructor(private readonly options: DeviceCredentialOptions) {
    this.now = options.now ?? Date.now;
  }

  private remember = (jkt: string, jti: string, expiresAt: number) => this.options.identities.deviceCredentials.rememberProof(jkt, jti, expiresAt, this.now());

  /** A new credential for the caller's session, bound to the key that signed the request's proof. */
  async issue(request: FastifyRequest): Promise<IssuedDeviceCredential> {
    const identity = request.identity;
    const sessionId = request.authSession?.sessionId;
    if (!sessionId || identity.userId === undefined) {
      throw new HttpError(403, ErrorCode.FORBIDDEN, 'Device credentials are issued to signed-in sessions only (not to development tokens); sign in with a password.');
    }
    const now = this.now();
    const proof = await verifyDpopProof(request.headers[HEADERS.dpop] as string | undefined, {
      method: request.method, url: requestUrl(request, this.options.publicOrigin), nowMs: now, remember: this.remember,
    });
    const id = randomBytes(16).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = now + this.options.ttlSeconds * 1000;
    await this.options.identities.deviceCredentials.issue({
      id, tenantId: identity.tenantId, userId: identity.userId, deviceId: identity.deviceId, sessionId, secretHash: sha256(secret), jkt: proof.jkt, createdAt: now, expiresAt,
    });
    await this.options.audit?.([{ tenantId: identity.tenantId, action: 'device_credential_issued', actor: actorOf(identity), details: { credentialId: id, sessionId, jkt: proof.jkt } }]);
    return { credential: `dc_${id}.${secret}`, tokenType: 'DPoP', expiresIn: this.options.ttlSeconds, expiresAt: new Date(expiresAt).toISOString(), jkt: proof.jkt };
  }

  /** The identity a push made with a device credential acts as; 401 naming the problem otherwise. */
  async authenticate(request: FastifyRequest): Promise<Identity> {
    const credential = dpopCredential(request.headers.authorization) ?? '';
    const parsed = FORM.exec(credential);
    if (!parsed) throw badCredential('it is not of the form dc_<id>.<secret>');
    const { identities } = this.options;
    const record = await identities.deviceCredentials.get(parsed[1]!);
    if (!record || !timingSafeEqual(Buffer.from(sha256(parsed[2]!), 'hex'), Buffer.from(record.secretHash, 'hex'))) throw badCredential('this server never issued it');
    const now = this.now();
    if (record.expiresAt <= now) throw badCredential('it expired');
    const status = await identities.sessionStatus(record.sessionId);
    if (!status || status.revokedAt !== undefined) throw new HttpError(401, ErrorCode.TOKEN_REVOKED, 'The session this device credential belongs to was ended (signed out or revoked); sign in again.');
    if (status.deviceRevokedAt !== undefined) throw new HttpError(401, ErrorCode.TOKEN_REVOKED, 'This device was revoked by your administrator.');
    if (status.userDisabledAt !== undefined) throw new HttpError(401, ErrorCode.TOKEN_REVOKED, 'This account was disabled by your administrator.');
    const proof = await verifyDpopProof(request.headers[HEADERS.dpop] as string | undefined, {
      method: request.method, url: requestUrl(request, this.options.publicOrigin), credential, nowMs: now, remember: this.remember,
    });
    if (proof.jkt !== record.jkt) throw new HttpError(401, ErrorCode.BAD_DPOP_PROOF, 'The DPoP proof was refused: it is signed by another key than the one this credential is bound to.');
    const user = await identities.getUser(record.tenantId, record.userId);
    if (!user) throw badCredential('its user no longer exists');
    const identity: Identity = { tenantId: record.tenantId, role: user.role, deviceId: record.deviceId, userId: user.id };
    if (user.role === 'crew' && user.unitId) identity.unitId = user.unitId;
    if (user.role === 'technician' && user.technicianId) identity.technicianId = user.technicianId;
    return identity;
  }
}
