/**
 * Transport keys: one random AES-256-GCM key per tenant, user and device, issued at sign-in.
 * The device seals the copies of patient data that wait in its service worker's outbound queue
 * with it (shared/crypto/envelope.ts), and the server opens them when they arrive
 * (server/replication/envelopes.ts), so the service worker never holds anything readable and
 * never needs the user's password.
 *
 * The same user signing in again on the same device gets the same key back, so what waits in
 * its queue still opens. Revoking the device or the user revokes its keys for good; a disabled
 * user or a revoked device also makes them unusable at once, whatever the key's own state.
 * Logging out does not: changes queued before a sign-out must still arrive after the next sign-in.
 */
import { randomBytes } from 'node:crypto';
import { importTransportKey, TRANSPORT_KEY_BYTES } from '../../shared/crypto/envelope.ts';
import { toBase64url } from '../../shared/crypto/base64url.ts';
import type { IdentityStore, TransportKeyRecord, TransportKeyStatus } from './identity-store.ts';

/** What the login answer carries: `key` is the raw key, base64url. */
export interface IssuedTransportKey {
  kid: string;
  key: string;
}

export type TransportKeyLookup =
  | { kind: 'unknown' }
  /** `revoked`: why it can no longer be used (it still opens what was sealed with it, for quarantine). */
  | { kind: 'known'; record: TransportKeyStatus; key: CryptoKey; revoked?: string };

const CACHE_LIMIT = 1000;

export class TransportKeys {
  /** Imported keys by kid: importing costs more than decrypting a report. Validity is re-read on every lookup. */
  private readonly imported = new Map<string, Promise<CryptoKey>>();

  constructor(private readonly identities: IdentityStore) {}

  /** A new key for this user on this device, for `openSession` to store unless the user already has one there. */
  candidate(tenantId: string, userId: string, deviceId: string, now: number): Omit<TransportKeyRecord, 'revokedAt' | 'revokeReason'> {
    return { kid: `tk_${randomBytes(16).toString('base64url')}`, tenantId, userId, deviceId, key: new Uint8Array(randomBytes(TRANSPORT_KEY_BYTES)), createdAt: now };
  }

  /** The key of this user on this device: the one it already has, or a new one (tests, and tools that seal for a user). */
  async issue(tenantId: string, userId: string, deviceId: string, now: number): Promise<IssuedTransportKey> {
    return TransportKeys.issued(await this.identities.ensureTransportKey(this.candidate(tenantId, userId, deviceId, now)));
  }

  /** What the login answer carries for the key `openSession` returned. */
  static issued(record: Pick<TransportKeyRecord, 'kid' | 'key'>): IssuedTransportKey {
    return { kid: record.kid, key: toBase64url(record.key) };
  }

  async lookup(kid: string): Promise<TransportKeyLookup> {
    const record = await this.identities.transportKeyStatus(kid);
    if (!record) return { kind: 'unknown' };
    let key = this.imported.get(kid);
    if (!key) {
      if (this.imported.size >= CACHE_LIMIT) this.imported.delete(this.imported.keys().next().value!);
      key = importTransportKey(new Uint8Array(record.key));
      this.imported.set(kid, key);
    }
    const revoked = record.revokedAt !== undefined ? `it was revoked (${record.revokeReason ?? 'by your administrator'})`
      : record.deviceRevokedAt !== undefined ? `device ${record.deviceId} was revoked by your administrator`
        : record.userDisabledAt !== undefined ? 'the account it belongs to was disabled by your administrator'
          : undefined;
    return { kind: 'known', record, key: await key, ...(revoked ? { revoked } : {}) };
  }
}
