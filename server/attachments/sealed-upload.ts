/**
 * Sealed uploads: a device keeps an ePCR's attachment sealed with its transport key while it
 * waits (shared/crypto/sealed-bytes.ts) and its service worker uploads it as it is, with the app
 * closed and locked, holding no key. `Upload-Metadata` then names the key (`kid`) and the server
 * opens the bytes here, before the SHA-256, type and size checks, which are of the clear bytes.
 * The key is checked as a queued document's envelope is (server/replication/envelopes.ts): issued
 * by this server, to the caller's agency, not revoked, and to the caller, since an attachment
 * waiting in a shared device's queue is accepted only from the person who captured it.
 */
import { openSealedBytes, SealedBytesError } from '../../shared/crypto/sealed-bytes.ts';
import { ErrorCode, type Identity } from '../../shared/protocol/index.ts';
import type { TransportKeyLookup } from '../auth/transport-keys.ts';

export interface UploadKeyring {
  lookup(kid: string): Promise<TransportKeyLookup>;
}

export type OpenedUpload = { bytes: Uint8Array<ArrayBuffer> } | { status: number; code: ErrorCode; message: string };

export async function openSealedUpload(
  keys: UploadKeyring, identity: Identity, what: { kid: string; collection: string; docId: string; sha256: string }, sealed: Uint8Array,
): Promise<OpenedUpload> {
  const found = await keys.lookup(what.kid);
  if (found.kind === 'unknown') return { status: 403, code: ErrorCode.KEY_UNKNOWN, message: `The attachment is sealed with key ${what.kid}, which this server never issued, so nobody can read it.` };
  if (found.record.tenantId !== identity.tenantId) return { status: 403, code: ErrorCode.KEY_OTHER_AGENCY, message: `The attachment is sealed with a key of another agency, not of yours (${identity.tenantId}).` };
  if (found.revoked) return { status: 403, code: ErrorCode.KEY_REVOKED, message: `The attachment is sealed with key ${what.kid}, which can no longer be used: ${found.revoked}.` };
  if (found.record.userId !== identity.userId) {
    return { status: 403, code: ErrorCode.WRITER_MISMATCH, message: `The attachment was captured by user ${found.record.userId} on device ${found.record.deviceId}, and you are signed in as user ${identity.userId}; it is only accepted from the person who captured it.` };
  }
  try {
    return { bytes: await openSealedBytes(found.key, what, new Uint8Array(sealed)) };
  } catch (error) {
    if (!(error instanceof SealedBytesError)) throw error;
    return { status: 400, code: ErrorCode.BAD_ENVELOPE, message: error.message };
  }
}
