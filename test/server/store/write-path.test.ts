// The engine-neutral write path on its own, over a recording WriteTransaction: what it decides and
// in which order it asks an engine to write. The contract suite runs the same path on both engines.
import { describe, expect, it } from 'vitest';
import { decideBatch } from '../../../server/store/decisions.ts';
import { applyWriteBatch, type WriteTransaction } from '../../../server/store/write-path.ts';
import type { Actor, OutboxPlanner, StoredDocument, WireDocument, WriteBatch, WriteDecision } from '../../../server/store/types.ts';

const TENANT = 'agency-a';
const DEVICE: Actor = { kind: 'device', tenantId: TENANT, deviceId: 'tablet-1' };
const NOW = 1_700_000_000_000;

const doc = (id: string, rev: string, fields: Record<string, unknown> = {}): WireDocument => ({ id, tenantId: TENANT, rev, ...fields, _deleted: false });
const stored = (id: string, seq: number, body: WireDocument): StoredDocument => ({ collection: 'epcrs', id, tenantId: TENANT, seq, json: JSON.stringify(body), committedAt: 1 });

function batch(requests: [string, WireDocument, (master: StoredDocument | undefined) => WriteDecision][], extra: Partial<WriteBatch> = {}): WriteBatch {
  return { collection: 'epcrs', tenantId: TENANT, actor: DEVICE, requests: requests.map(([id, incoming, decide]) => ({ id, incoming, decide })), ...extra };
}

/** A WriteTransaction that records each primitive call, numbering seqs from 10. */
function recorder(): WriteTransaction & { calls: [string, unknown][] } {
  let seq = 10;
  const calls: [string, unknown][] = [];
  return {
    calls, now: NOW,
    nextSeq: () => ++seq,
    putDocuments: (_c, _t, writes) => calls.push(['documents', writes.map((w) => [w.stored.id, w.stored.seq, w.before?.seq])]),
    putQuarantine: (_c, _t, _a, items) => calls.push(['quarantine', items]),
    appendAudit: (entries, index) => calls.push(['audit', { entries, index }]),
    insertOutbox: (entries) => calls.push(['outbox', entries.map((e) => e.key)]),
  };
}

describe('decideBatch', () => {
  it('decides in request order; a repeated id sees its earlier write and is written once, at its last version, with the first before', () => {
    const master = stored('x', 3, doc('x', '1-a'));
    const v1 = doc('x', '2-b');
    const v2 = doc('x', '3-c');
    const seen: (number | undefined)[] = [];
    let seq = 10;
    const { result, writes, quarantined } = decideBatch(batch([
      ['x', v1, (m) => { seen.push(m?.seq); return { action: 'write', doc: v1 }; }],
      ['y', doc('y', '1-y'), () => ({ action: 'reject', reason: 'no' })],
      ['x', v2, (m) => { seen.push(m?.seq); return { action: 'write', doc: v2 }; }],
      ['z', doc('z', '1-z'), () => ({ action: 'conflict' })],
      ['x', v2, () => ({ action: 'noop' })],
    ]), new Map([['x', master]]), () => ++seq, NOW);
    expect(seen).toEqual([3, 11]);
    expect(writes.map((w) => [w.stored.id, w.stored.seq, w.before, w.doc])).toEqual([['x', 12, master, v2]]);
    expect(result.written).toEqual([{ collection: 'epcrs', id: 'x', tenantId: TENANT, seq: 12, json: JSON.stringify(v2), committedAt: NOW }]);
    expect(result.conflicts).toEqual([]); // no master for z: nothing to report back
    expect(result.noops).toBe(1);
    expect(result.rejected).toEqual([{ id: 'y', reason: 'no' }]);
    expect(quarantined).toEqual([{ id: 'y', reason: 'no', json: JSON.stringify(doc('y', '1-y')) }]);
  });

  it('stores the JSON a writer already made when its decision writes what was sent', () => {
    const sent = doc('a', '1-a');
    const { result } = decideBatch({
      collection: 'epcrs', tenantId: TENANT, actor: DEVICE,
      requests: [{ id: 'a', incoming: sent, incomingJson: '{"kept":"verbatim"}', decide: () => ({ action: 'write', doc: sent }) }],
    }, new Map(), () => 1, NOW);
    expect(result.written[0]!.json).toBe('{"kept":"verbatim"}');
  });
});

describe('applyWriteBatch', () => {
  const planner = (keys: string[]): OutboxPlanner & { asked: number } => {
    const p = { asked: 0, outboxFor: () => { p.asked++; return keys.map((key) => ({ key, kind: 'k', tenantId: TENANT, payload: {}, causationId: 'c' })); } };
    return p;
  };

  it('writes documents, quarantine, one audit entry and the planned outbox entries, in that order', () => {
    const tx = recorder();
    const plan = planner(['hook:a']);
    const applied = applyWriteBatch(batch([
      ['a', doc('a', '1-a'), () => ({ action: 'write', doc: doc('a', '1-a') })],
      ['b', doc('b', '1-b'), () => ({ action: 'reject', reason: 'refused' })],
    ], { actor: { kind: 'hook', tenantId: TENANT }, causationId: 'incidents/i@1', auditIndex: false }), new Map(), tx, plan);
    expect(tx.calls.map(([name]) => name)).toEqual(['documents', 'quarantine', 'audit', 'outbox']);
    expect(tx.calls[0]![1]).toEqual([['a', 11, undefined]]);
    expect(tx.calls[2]![1]).toEqual({
      index: false,
      entries: [{
        tenantId: TENANT, action: 'write', actor: { kind: 'hook', tenantId: TENANT }, collection: 'epcrs', documents: [{ id: 'a', afterRev: '1-a' }],
        causationId: 'incidents/i@1', details: { auto_created: true, rejected: [{ id: 'b', reason: 'refused' }] },
      }],
    });
    expect(tx.calls[3]![1]).toEqual(['hook:a']);
    expect(applied.objects).toEqual([doc('a', '1-a')]);
  });

  it('a batch refused by afterDecisions writes nothing and plans nothing', () => {
    const tx = recorder();
    const plan = planner(['never']);
    expect(() => applyWriteBatch(batch([['a', doc('a', '1-a'), () => ({ action: 'write', doc: doc('a', '1-a') })]], {
      afterDecisions: () => { throw new Error('refused as a whole'); },
    }), new Map(), tx, plan)).toThrow('refused as a whole');
    expect(tx.calls).toEqual([]);
    expect(plan.asked).toBe(0);
  });

  it('nothing written: no planning and no audit; planOutbox false: written and audited, not planned', () => {
    const noop = recorder();
    const plan = planner(['never']);
    applyWriteBatch(batch([['a', doc('a', '1-a'), () => ({ action: 'noop' })]]), new Map(), noop, plan);
    expect(noop.calls).toEqual([]);
    const unplanned = recorder();
    applyWriteBatch(batch([['a', doc('a', '1-a'), () => ({ action: 'write', doc: doc('a', '1-a') })]], { planOutbox: false }), new Map(), unplanned, plan);
    expect(unplanned.calls.map(([name]) => name)).toEqual(['documents', 'audit']);
    expect(plan.asked).toBe(0);
  });
});
