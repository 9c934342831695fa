/**
 * What the database worker hands the service worker's outbound queue: for collections whose
 * queued copies must be sealed (shared/access `sealedOnDevice`: ePCRs, incidents, billing),
 * `base` and `state` go in as envelopes under the device's transport key (shared/crypto/
 * envelope.ts). The service worker stores and sends them as they are; the server opens them.
 * Only this worker (and the server) can read them again, e.g. to replay a queued change onto a
 * pulled server state (queue-rebase.ts).
 */
import { sealedOnDevice } from '../../shared/access/policy.ts';
import { importTransportKey, kidOf, looksSealed, openEnvelope, sealDocument, type SealingKey } from '../../shared/crypto/envelope.ts';
import { openSealedBytes, sealBytes, type SealedBytesContext } from '../../shared/crypto/sealed-bytes.ts';
import type { JsonDoc, PushRowInput, QueueWriter } from '../queue/index.ts';

/** The transport key as the page hands it to the worker (memory only; stored wrapped, client/session/transport-key.ts). */
export interface RawTransportKey {
  kid: string;
  /** 32 bytes, base64url. */
  key: string;
}

export class QueueKey {
  private constructor(private readonly sealing: SealingKey) {}

  static async import(raw: RawTransportKey): Promise<QueueKey> {
    return new QueueKey({ kid: raw.kid, key: await importTransportKey(raw.key) });
  }

  get kid(): string {
    return this.sealing.kid;
  }

  async seal(collection: string, doc: JsonDoc): Promise<JsonDoc> {
    return await sealDocument(this.sealing, collection, doc) as unknown as JsonDoc;
  }

  /** An attachment's bytes sealed for the queue (shared/crypto/sealed-bytes.ts): only this key (and the server) opens them. */
  sealBytes(context: Omit<SealedBytesContext, 'kid'>, clear: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
    return sealBytes(this.sealing.key, { ...context, kid: this.sealing.kid }, clear);
  }

  /** Bytes sealed with this key; undefined when sealed with another (an earlier sign-in's). */
  async openBytes(context: SealedBytesContext, sealed: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer> | undefined> {
    if (context.kid !== this.sealing.kid) return undefined;
    return openSealedBytes(this.sealing.key, context, sealed);
  }

  /** A queued state as a document: as it is when in clear, opened when sealed with this key, undefined when sealed with another. */
  async open(collection: string, value: JsonDoc): Promise<JsonDoc | undefined> {
    if (!looksSealed(value)) return value;
    if (kidOf(value) !== this.sealing.kid) return undefined;
    return openEnvelope(this.sealing.key, collection, value);
  }
}

/** How the queued copies of collections that must be sealed are kept on this device. */
export type QueueProtection =
  | { kind: 'sealed'; key: QueueKey }
  /** Developer sessions and tests: there is no transport key, and (like their database) nothing is protected at rest. */
  | { kind: 'clear' }
  /** A signed-in user without a transport key on this device (signed in before keys existed): those collections skip the queue and are pushed directly, never queued in clear. */
  | { kind: 'direct' };

/** Whether `collection` may go through the queue at all under `protection`. */
export function queueable(collection: string, protection: QueueProtection): boolean {
  return protection.kind !== 'direct' || !sealedOnDevice(collection);
}

/** The rows as the queue keeps them: sealed where the collection needs it, with the revision beside them in clear. */
export async function protectRows(collection: string, rows: PushRowInput[], protection: QueueProtection): Promise<PushRowInput[]> {
  if (protection.kind !== 'sealed' || !sealedOnDevice(collection)) return rows;
  const { key } = protection;
  return Promise.all(rows.map(async (row) => {
    const rev = row.newDocumentState['rev'];
    return {
      ...(row.assumedMasterState ? { assumedMasterState: await key.seal(collection, row.assumedMasterState) } : {}),
      newDocumentState: await key.seal(collection, row.newDocumentState),
      ...(typeof rev === 'string' ? { rev } : {}),
    };
  }));
}

/** Who the queued rows are from, as the queue records it beside them. */
export function writerOf(userId: string | undefined, protection: QueueProtection, collection: string): QueueWriter | undefined {
  if (!userId) return undefined;
  return protection.kind === 'sealed' && sealedOnDevice(collection) ? { userId, kid: protection.key.kid } : { userId };
}
