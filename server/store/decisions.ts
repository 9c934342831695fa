import { documentJson } from './document-json.ts';
import type { StoredDocument, WireDocument, WriteBatch, WriteResult } from './types.ts';

/** One document a batch writes: its last version in the batch, and what it replaced. */
export interface DecidedWrite {
  stored: StoredDocument;
  /** `stored` as an object (what the writer's decision wrote); never to be changed. */
  doc: WireDocument;
  /** The master before the batch's first write of this id (undefined: the document is new). */
  before: StoredDocument | undefined;
}

/** A request refused by a rule: its content goes to quarantine with the reason. */
export interface QuarantinedRequest {
  id: string;
  reason: string;
  /** The request's `incoming` document as sent. */
  json: string;
}

export interface DecidedBatch {
  result: WriteResult;
  /** Index for index with `result.written`: one per id, at its last version, in seq order. */
  writes: DecidedWrite[];
  quarantined: QuarantinedRequest[];
}

/**
 * Asks every request of a batch for its decision, against the current masters, in request order,
 * and numbers the writes with `nextSeq` as they are decided. Several rows for one id see each
 * other's writes, as sequential requests would; the id is then written once, at its last version
 * (its earlier seqs stay unused: gaps are allowed, order is what counts).
 *
 * Pure: it writes nothing. The engine calls it inside its write transaction, after reading the
 * masters, so no decision can race with another writer.
 */
export function decideBatch(
  batch: WriteBatch, masters: ReadonlyMap<string, StoredDocument>, nextSeq: () => number, now: number,
): DecidedBatch {
  const result: WriteResult = { written: [], conflicts: [], rejected: [], noops: 0 };
  let writes: DecidedWrite[] = [];
  const quarantined: QuarantinedRequest[] = [];
  const pending = new Map<string, DecidedWrite>();
  for (const request of batch.requests) {
    const earlier = pending.get(request.id);
    const master = earlier ? earlier.stored : masters.get(request.id);
    const decision = request.decide(master);
    switch (decision.action) {
      case 'write': {
        const stored: StoredDocument = {
          collection: batch.collection, id: request.id, tenantId: batch.tenantId, seq: nextSeq(),
          json: documentJson(request, decision.doc), committedAt: now,
        };
        const write: DecidedWrite = { stored, doc: decision.doc, before: earlier ? earlier.before : master };
        pending.set(request.id, write);
        writes.push(write);
        result.written.push(stored);
        break;
      }
      case 'conflict':
        if (master) result.conflicts.push(master);
        break;
      case 'noop':
        result.noops++;
        break;
      case 'reject':
        quarantined.push({ id: request.id, reason: decision.reason, json: JSON.stringify(request.incoming) });
        result.rejected.push({ id: request.id, reason: decision.reason });
        break;
    }
  }
  // Without repeated ids (nearly every batch) the lists already are one per id, in seq order.
  if (pending.size !== writes.length) {
    writes = [...pending.values()].sort((a, b) => a.stored.seq - b.stored.seq);
    result.written = writes.map((w) => w.stored);
  }
  return { result, writes, quarantined };
}
