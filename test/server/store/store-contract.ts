import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  Actor, AuditEntryInput, CommitEvent, OutboxEntryInput, Store, StoredDocument, WireDocument, WriteBatch, WriteDecision, WrittenChange,
} from '../../../server/store/types.ts';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { OutboxPlanner } from '../../../server/store/types.ts';
import type { StoreFactory, StoreFixture, StoreLocation } from './fixtures.ts';

const TENANT = 'agency-a';
const OTHER = 'agency-b';
const DEVICE: Actor = { kind: 'device', tenantId: TENANT, userId: 'u-medic', deviceId: 'tablet-1', role: 'crew' };
const HOOK: Actor = { kind: 'hook', tenantId: TENANT, userId: 'system' };
const GENESIS = '0'.repeat(64);

export function doc(id: string, fields: Record<string, unknown> = {}, tenantId = TENANT): WireDocument {
  return { id, tenantId, rev: `1-${id}`, ...fields, _deleted: false };
}

/** A batch that writes every document as given. */
export function writeAll(collection: string, docs: WireDocument[], options: Partial<WriteBatch> = {}): WriteBatch {
  return {
    collection,
    tenantId: (docs[0]?.['tenantId'] as string | undefined) ?? TENANT,
    actor: DEVICE,
    requests: docs.map((d) => ({ id: d['id'] as string, incoming: d, decide: () => ({ action: 'write', doc: d }) })),
    ...options,
  };
}

function request(id: string, incoming: WireDocument, decide: (master: StoredDocument | undefined) => WriteDecision) {
  return { id, incoming, decide };
}

/** The chain's formula with the key a store opened without one uses (AuditKey.PUBLIC_TEST_KEY): an HMAC, not a plain hash. */
function auditHash(prev: string, at: number, tenantId: string, entry: string): string {
  return createHmac('sha256', 'fieldsync public test audit key: proves nothing, never for a server').update(`${prev}\n${at}\n${tenantId}\n${entry}`).digest('hex');
}

async function pullAll(store: Store, collection: string, tenantId: string, limit = 1000): Promise<StoredDocument[]> {
  const all: StoredDocument[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await store.pull({ collection, tenantId, afterSeq, limit });
    all.push(...page.documents);
    if (page.documents.length < limit) return all;
    afterSeq = page.lastSeq;
  }
}

const CRASH_WRITER = path.resolve(import.meta.dirname, 'crash-writer.ts');
/** The writer is killed once this many documents were acknowledged (with many more in flight). */
export const CRASH_AFTER_ACKS = 300;

/**
 * Runs test/server/store/crash-writer.ts on the fixture's data (the fixture's own store is closed
 * first: a SQLite file has one writing process) and kills it with SIGKILL once it acknowledged
 * enough writes. Returns the ids it reported as acknowledged before it died. `location` may add
 * settings the writer opens the store with (a SQLite commit window).
 */
export async function runCrashWriter(fixture: StoreFixture, location: StoreLocation = fixture.location): Promise<string[]> {
  await fixture.store.close();
  const child = spawn(process.execPath, ['--import', 'tsx', CRASH_WRITER], {
    env: { ...process.env, STORE_LOCATION: JSON.stringify(location) }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const acked: string[] = [];
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the crash writer acknowledged only ${acked.length} writes in 60 s`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      // Only complete lines count: an id is acknowledged once its whole line arrived.
      for (const line of lines) if (line.startsWith('ack ')) acked.push(...line.slice(4).split(','));
      if (acked.length >= CRASH_AFTER_ACKS && child.exitCode === null) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (acked.length < CRASH_AFTER_ACKS) reject(new Error(`the crash writer exited (${code}) after ${acked.length} acknowledged writes`));
    });
  });
  await exited;
  return acked;
}

/**
 * The Store contract, run against every implementation: what replication, hooks, the audit
 * log and the admin screens rely on, including commit order under concurrent writers.
 */
export interface StoreCapabilities {
  /** The fixture can make commits fail (`failCommits`): the store groups writes into shared commits. */
  failCommits?: boolean;
  /**
   * Several processes share the store (PostgreSQL): seqs are positions made of the transaction id
   * (consecutive within a transaction, with gaps between transactions), and listeners hear every
   * store instance's commits from the shared log, a moment after the writer was answered.
   * Without it: one process, seqs gap-free, listeners hear a commit before its writer is answered.
   */
  sharedLog?: boolean;
}

/**
 * The planner the contract's stores are opened with: each test says what its writes plan (by
 * default nothing), as the hooks' workflows would, and sees what the store asked.
 */
class ScriptedPlanner implements OutboxPlanner {
  plan: (collection: string, actor: Actor, changes: WrittenChange[]) => OutboxEntryInput[] = () => [];
  readonly asked: { collection: string; actor: Actor; changes: WrittenChange[] }[] = [];

  outboxFor(collection: string, actor: Actor, changes: WrittenChange[]): OutboxEntryInput[] {
    this.asked.push({ collection, actor, changes });
    return this.plan(collection, actor, changes);
  }
}

export function runStoreContract(name: string, factory: StoreFactory, capabilities: StoreCapabilities = {}): void {
  describe(`Store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;
    let planner: ScriptedPlanner;
    beforeEach(async () => {
      planner = new ScriptedPlanner();
      fixture = await factory(planner);
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    describe('documents', () => {
      it('writes and reads back the exact JSON, in commit order, with the count per tenant', async () => {
        const odd = { id: 'odd', tenantId: TENANT, zeta: 1, alpha: { y: [3, 2, 1], x: null }, text: 'quote " backslash \\ é 😀 \u2028 <tag>', n: 1.5e-7, _deleted: false };
        const big = doc('big', { blob: 'x'.repeat(200_000) });
        const before = Date.now();
        const result = await store.writeBatch(writeAll('epcrs', [doc('a'), doc('b', { n: 2 }), odd as WireDocument, big]));
        const after = Date.now();
        expect(result.conflicts).toEqual([]);
        expect(result.rejected).toEqual([]);
        expect(result.noops).toBe(0);
        expect(result.written.map((w) => w.id)).toEqual(['a', 'b', 'odd', 'big']);
        const seqs = result.written.map((w) => w.seq);
        expect(seqs[0]).toBeGreaterThan(0);
        expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
        expect(new Set(seqs).size).toBe(4);
        for (const w of result.written) {
          expect(w).toMatchObject({ collection: 'epcrs', tenantId: TENANT });
          expect(w.committedAt).toBeGreaterThanOrEqual(before);
          expect(w.committedAt).toBeLessThanOrEqual(after);
        }
        expect(result.written[2]!.json).toBe(JSON.stringify(odd));

        const found = await store.getDocuments('epcrs', TENANT, ['odd', 'missing', 'a', 'big']);
        expect(found.map((f) => f.id)).toEqual(['odd', 'a', 'big']);
        expect(found[0]!.json).toBe(JSON.stringify(odd)); // byte for byte, key order kept
        expect(found[2]!.json).toBe(JSON.stringify(big));
        expect(found).toEqual([result.written[2], result.written[0], result.written[3]]);
        expect(await store.getDocuments('epcrs', TENANT, [])).toEqual([]);
        expect(await store.countDocuments('epcrs', TENANT)).toBe(4);
        expect(await store.countDocuments('gps_points', TENANT)).toBe(0);

        const pulled = await store.pull({ collection: 'epcrs', tenantId: TENANT, afterSeq: 0, limit: 10 });
        expect(pulled.documents).toEqual(result.written);
        expect(pulled.lastSeq).toBe(seqs[3]);
      });

      it('an update moves the document to a new seq; a tombstone is kept and counted', async () => {
        const [first] = (await store.writeBatch(writeAll('epcrs', [doc('a')]))).written;
        await store.writeBatch(writeAll('epcrs', [doc('b')]));
        const updated = (await store.writeBatch(writeAll('epcrs', [doc('a', { rev: '2-a', status: 'final' })]))).written[0]!;
        expect(updated.seq).toBeGreaterThan(first!.seq);
        const tomb = (await store.writeBatch(writeAll('epcrs', [{ ...doc('b', { rev: '2-b' }), _deleted: true }]))).written[0]!;
        expect(JSON.parse(tomb.json)).toMatchObject({ _deleted: true });
        expect(await store.countDocuments('epcrs', TENANT)).toBe(2);
        const pulled = await store.pull({ collection: 'epcrs', tenantId: TENANT, afterSeq: first!.seq, limit: 10 });
        expect(pulled.documents.map((d) => [d.id, d.seq])).toEqual([['a', updated.seq], ['b', tomb.seq]]);
        const [a] = await store.getDocuments('epcrs', TENANT, ['a']);
        expect(JSON.parse(a!.json)).toMatchObject({ rev: '2-a', status: 'final' });
      });

      it('decide() sees the current master; a conflict writes nothing and reports the master', async () => {
        const [master] = (await store.writeBatch(writeAll('epcrs', [doc('a', { v: 1 })]))).written;
        const seen: (StoredDocument | undefined)[] = [];
        const result = await store.writeBatch({
          collection: 'epcrs', tenantId: TENANT, actor: DEVICE,
          requests: [
            request('a', doc('a', { v: 2 }), (m) => { seen.push(m); return { action: 'conflict' }; }),
            request('new', doc('new'), (m) => { seen.push(m); return { action: 'conflict' }; }),
          ],
        });
        expect(seen).toEqual([master, undefined]);
        expect(result).toEqual({ written: [], conflicts: [master], rejected: [], noops: 0 });
        expect(await store.getDocuments('epcrs', TENANT, ['a', 'new'])).toEqual([master]);
        expect((await store.pull({ collection: 'epcrs', tenantId: TENANT, afterSeq: master!.seq, limit: 10 })).documents).toEqual([]);
        expect(await store.queryAudit({ tenantId: TENANT, limit: 10 })).toHaveLength(1); // only the first write
      });

      it('a noop writes nothing, is counted, and leaves no audit entry', async () => {
        await store.writeBatch(writeAll('epcrs', [doc('a')]));
        const events: CommitEvent[] = [];
        store.onCommit((e) => events.push(e));
        const result = await store.writeBatch({
          collection: 'epcrs', tenantId: TENANT, actor: DEVICE,
          requests: [request('a', doc('a'), () => ({ action: 'noop' })), request('b', doc('b'), () => ({ action: 'noop' }))],
        });
        expect(result).toEqual({ written: [], conflicts: [], rejected: [], noops: 2 });
        expect(events).toEqual([]);
        expect(await store.countDocuments('epcrs', TENANT)).toBe(1);
        expect(await store.queryAudit({ tenantId: TENANT, limit: 10 })).toHaveLength(1);
      });

      it('a rejected row goes to quarantine with who sent it and why; the rest of the batch is written and audited', async () => {
        const bad = doc('bad', { heartRate: -4 });
        const result = await store.writeBatch({
          collection: 'epcrs', tenantId: TENANT, actor: DEVICE,
          requests: [
            request('good', doc('good'), () => ({ action: 'write', doc: doc('good') })),
            request('bad', bad, () => ({ action: 'reject', reason: 'heartRate must be ≥ 0' })),
          ],
        });
        expect(result.written.map((w) => w.id)).toEqual(['good']);
        expect(result.rejected).toEqual([{ id: 'bad', reason: 'heartRate must be ≥ 0' }]);
        expect(await store.getDocuments('epcrs', TENANT, ['bad'])).toEqual([]);
        const [entry, ...more] = await store.listQuarantine(TENANT, 10);
        expect(more).toEqual([]);
        expect(entry).toMatchObject({ collection: 'epcrs', documentId: 'bad', tenantId: TENANT, actor: DEVICE, reason: 'heartRate must be ≥ 0', json: JSON.stringify(bad) });
        expect(entry!.id).toBeGreaterThan(0);
        const [audit] = await store.queryAudit({ tenantId: TENANT, limit: 10 });
        expect(audit).toMatchObject({ action: 'write', collection: 'epcrs', documents: [{ id: 'good', afterRev: '1-good' }], details: { rejected: result.rejected } });

        // Only rejections: still one audit entry, nothing written.
        const only = await store.writeBatch({ collection: 'epcrs', tenantId: TENANT, actor: DEVICE, requests: [request('bad', bad, () => ({ action: 'reject', reason: 'again' }))] });
        expect(only.written).toEqual([]);
        const audits = await store.queryAudit({ tenantId: TENANT, limit: 10 });
        expect(audits).toHaveLength(2);
        expect(audits[0]).toMatchObject({ documents: [], details: { rejected: [{ id: 'bad', reason: 'again' }] } });
        expect((await store.listQuarantine(TENANT, 10)).map((q) => q.reason)).toEqual(['again', 'heartRate must be ≥ 0']);
      });

      it('several rows for one id in a batch see each other; the id is written once, at its last version, with the first `before`', async () => {
        const v0 = (await store.writeBatch(writeAll('epcrs', [doc('x', { rev: '1-a', v: 0 })]))).written[0]!;
        const seenByX: (string | undefined)[] = [];
        let changes: WrittenChange[] = [];
        planner.plan = (_collection, _actor, c) => { changes = c; return []; };
        const v1 = doc('x', { rev: '2-b', v: 1 });
        const v2 = doc('x', { rev: '3-c', v: 2 });
        const y = doc('y');
        const result = await store.writeBatch({
          collection: 'epcrs', tenantId: TENANT, actor: DEVICE,
          requests: [
            request('x', v1, (m) => { seenByX.push(m?.json); return { action: 'write', doc: v1 }; }),
            request('y', y, () => ({ action: 'write', doc: y })),
            request('x', v2, (m) => { seenByX.push(m?.json); return { action: 'write', doc: v2 }; }),
          ],
        });
        expect(seenByX).toEqual([v0.json, JSON.stringify(v1)]);
        // x took seq s (then overwritten), y s+1, x s+2: seq gaps are allowed, order is what counts.
        expect(result.written.map((w) => w.id)).toEqual(['y', 'x']);
        expect(result.written[1]!.seq).toBe(result.written[0]!.seq + 1);
        if (!capabilities.sharedLog) expect(result.written[0]!.seq).toBe(v0.seq + 2);
        else expect(result.written[0]!.seq).toBeGreaterThan(v0.seq);
        expect(result.written[1]!.json).toBe(JSON.stringify(v2));
        expect(changes.map((c) => [c.before?.json, c.after.id])).toEqual([[undefined, 'y'], [v0.json, 'x']]);
        const [audit] = await store.queryAudit({ tenantId: TENANT, limit: 1 });
        expect(audit!.documents).toEqual([{ id: 'y', afterRev: '1-y' }, { id: 'x', beforeRev: '1-a', afterRev: '3-c' }]);
        const pulled = await store.pull({ collection: 'epcrs', tenantId: TENANT, afterSeq: v0.seq, limit: 10 });
        expect(pulled.documents).toEqual(result.written);
        expect(await store.countDocuments('epcrs', TENANT)).toBe(2);
      });

      it('afterDecisions sees every decision and can refuse the batch as a whole; nothing is written', async () => {
        await store.writeBatch(writeAll('epcrs', [doc('a')]));
        const seen: number[] = [];
        await expect(store.writeBatch({
          collection: 'epcrs', tenantId: TENANT, actor: DEVICE,
          requests: [request('b', doc('b'), () => ({ action: 'write', doc: doc('b') })), request('a', doc('a'), () => ({ action: 'noop' }))],
          afterDecisions: (result) => {
            seen.push(result.written.length, result.noops);
            throw new Error('one row is not allowed');
          },
        })).rejects.toThrow('one row is not allowed');
        expect(seen).toEqual([1, 1]);
        expect(await store.getDocuments('epcrs', TENANT, ['a', 'b'])).toMatchObject([{ id: 'a' }]);
        const ok = await store.writeBatch({
          collection: 'epcrs', tenantId: TENANT, actor: DEVICE,
          requests: [request('b', doc('b'), () => ({ action: 'write', doc: doc('b') }))],
          afterDecisions: () => undefined,
        });
        expect(ok.written.map((w) => w.id)).toEqual(['b']);
      });

      it('a failing decide() or outbox planner rolls the whole batch back and consumes nothing', async () => {
        const first = (await store.writeBatch(writeAll('epcrs', [doc('a')]))).written[0]!;
        await expect(store.writeBatch({
          collection: 'epcrs', tenantId: TENANT, actor: DEVICE,
          requests: [request('b', doc('b'), () => ({ action: 'write', doc: doc('b') })), request('c', doc('c'), () => { throw new Error('refused by rule'); })],
        })).rejects.toThrow('refused by rule');
        planner.plan = () => { throw new Error('outbox broke'); };
        await expect(store.writeBatch(writeAll('epcrs', [doc('d')]))).rejects.toThrow('outbox broke');
        planner.plan = () => [];
        expect(await store.getDocuments('epcrs', TENANT, ['b', 'c', 'd'])).toEqual([]);
        const next = (await store.writeBatch(writeAll('epcrs', [doc('e')]))).written[0]!;
        // A shared log numbers by transaction: a rolled-back one leaves a gap, and nothing else.
        if (capabilities.sharedLog) expect(next.seq).toBeGreaterThan(first.seq);
        else expect(next.seq).toBe(first.seq + 1);
        expect(await store.queryAudit({ tenantId: TENANT, limit: 10 })).toHaveLength(2);
        expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 2 });
      });

      it('tenants are isolated: pulls, reads and counts only see the caller\'s documents', async () => {
        await store.writeBatch(writeAll('epcrs', [doc('a1'), doc('a2')]));
        await store.writeBatch(writeAll('epcrs', [doc('b1', {}, OTHER)], { tenantId: OTHER, actor: { kind: 'device', tenantId: OTHER } }));
        expect((await pullAll(store, 'epcrs', TENANT)).map((d) => d.id)).toEqual(['a1', 'a2']);
        expect((await pullAll(store, 'epcrs', OTHER)).map((d) => d.id)).toEqual(['b1']);
        expect(await store.countDocuments('epcrs', TENANT)).toBe(2);
        expect(await store.countDocuments('epcrs', OTHER)).toBe(1);
        expect(await store.getDocuments('epcrs', TENANT, ['b1', 'a1'])).toMatchObject([{ id: 'a1' }]);
        expect(await store.getDocuments('epcrs', OTHER, ['a1'])).toEqual([]);
        // A write against an id held by another tenant shows decide() the foreign master, so the rule can refuse it.
        const seen: (StoredDocument | undefined)[] = [];
        await expect(store.writeBatch({
          collection: 'epcrs', tenantId: TENANT, actor: DEVICE,
          requests: [request('b1', doc('b1'), (m) => { seen.push(m); if (m && m.tenantId !== TENANT) throw new Error('foreign document'); return { action: 'write', doc: doc('b1') }; })],
        })).rejects.toThrow('foreign document');
        expect(seen[0]).toMatchObject({ id: 'b1', tenantId: OTHER });
        await store.putArtifact('nemsis/a1', TENANT, 'application/xml', '<a/>');
        expect(await store.getArtifact('nemsis/a1', OTHER)).toBeUndefined();
        await store.quarantine('epcrs', OTHER, { kind: 'device', tenantId: OTHER }, [{ id: 'q', reason: 'r', doc: {} }]);
        expect(await store.listQuarantine(TENANT, 10)).toEqual([]);
        expect(await store.queryAudit({ tenantId: OTHER, limit: 10 })).toHaveLength(2);
        expect(await store.queryAudit({ tenantId: TENANT, limit: 10 })).toHaveLength(1);
      });
    });

    describe('pull', () => {
      it('pages through inserts and updates in commit order with no skip and no duplicate', async () => {
        const ids = Array.from({ length: 120 }, (_, i) => `d${String(i).padStart(3, '0')}`);
        for (let i = 0; i < ids.length; i += 30) await store.writeBatch(writeAll('gps_points', ids.slice(i, i + 30).map((id) => doc(id))));
        // Update every seventh one: it moves to the end of the order.
        const updated = ids.filter((_, i) => i % 7 === 0);
        await store.writeBatch(writeAll('gps_points', updated.map((id) => doc(id, { rev: `2-${id}` }))));
        const moved = new Set(updated);
        const expected = [...ids.filter((id) => !moved.has(id)), ...updated];

        const got: StoredDocument[] = [];
        let afterSeq = 0;
        let pages = 0;
        for (;;) {
          const page = await store.pull({ collection: 'gps_points', tenantId: TENANT, afterSeq, limit: 17 });
          pages++;
          for (const d of page.documents) expect(d.seq).toBeGreaterThan(afterSeq);
          got.push(...page.documents);
          if (page.documents.length === 0) {
            expect(page.lastSeq).toBe(afterSeq);
            break;
          }
          expect(page.lastSeq).toBe(page.documents[page.documents.length - 1]!.seq);
          afterSeq = page.lastSeq;
        }
        expect(pages).toBe(Math.ceil(120 / 17) + 1); // the last one empty
        expect(got.map((d) => d.id)).toEqual(expected);
        expect(got.map((d) => d.seq)).toEqual([...got.map((d) => d.seq)].sort((a, b) => a - b));
        expect(JSON.parse(got[got.length - 1]!.json)).toMatchObject({ rev: `2-${updated[updated.length - 1]}` });
        // Past the end: empty, and the checkpoint stays.
        expect(await store.pull({ collection: 'gps_points', tenantId: TENANT, afterSeq: afterSeq + 1000, limit: 5 })).toEqual({ documents: [], lastSeq: afterSeq + 1000 });
      });

      it('pullScoped(where): only matching documents, in commit order; a short page covers everything examined', async () => {
        const written = (await store.writeBatch(writeAll('jobs', [
          doc('j1', { unitId: 'M1', urgent: false }),
          doc('j2', { unitId: 'M2', urgent: true }),
          doc('j3', { unitId: 'M3', urgent: false, note: null }),
          doc('j4', { unitId: 'M1', note: 'x' }),
          doc('j5', { unitId: 'M3', n: 5 }),
          doc('j6', { unitId: 'M9' }),
        ]))).written;
        const last = written[written.length - 1]!.seq;
        const filter = { kind: 'where' as const, anyOf: [[{ field: 'unitId', equals: 'M1' }], [{ field: 'urgent', equals: true }]] };
        const page = await store.pullScoped({ collection: 'jobs', tenantId: TENANT, afterSeq: 0, limit: 10, filter });
        expect(page.documents.map((d) => d.id)).toEqual(['j1', 'j2', 'j4']);
        expect(page.lastSeq).toBe(last); // j5 and j6 were examined too
        const full = await store.pullScoped({ collection: 'jobs', tenantId: TENANT, afterSeq: 0, limit: 2, filter });
        expect(full.documents.map((d) => d.id)).toEqual(['j1', 'j2']);
        expect(full.lastSeq).toBe(full.documents[1]!.seq);
        const rest = await store.pullScoped({ collection: 'jobs', tenantId: TENANT, afterSeq: full.lastSeq, limit: 2, filter });
        expect(rest.documents.map((d) => d.id)).toEqual(['j4']);
        expect(rest.lastSeq).toBe(last);

        const present = await store.pullScoped({ collection: 'jobs', tenantId: TENANT, afterSeq: 0, limit: 10, filter: { kind: 'where', anyOf: [[{ field: 'note', present: true }]] } });
        expect(present.documents.map((d) => d.id)).toEqual(['j4']); // null counts as absent
        const both = await store.pullScoped({ collection: 'jobs', tenantId: TENANT, afterSeq: 0, limit: 10, filter: { kind: 'where', anyOf: [[{ field: 'unitId', equals: 'M3' }, { field: 'n', equals: 5 }]] } });
        expect(both.documents.map((d) => d.id)).toEqual(['j5']);
        const none = await store.pullScoped({ collection: 'jobs', tenantId: TENANT, afterSeq: 0, limit: 10, filter: { kind: 'where', anyOf: [] } });
        expect(none).toEqual({ documents: [], lastSeq: last });
        expect(await store.pullScoped({ collection: 'jobs', tenantId: OTHER, afterSeq: 0, limit: 10, filter })).toEqual({ documents: [], lastSeq: 0 });
        await expect(store.pullScoped({ collection: 'jobs', tenantId: TENANT, afterSeq: 0, limit: 10, filter: { kind: 'where', anyOf: [[{ field: "x') OR 1=1 --", equals: 1 }]] } }))
          .rejects.toThrow('not a plain top-level field name');
      });

      it('pullScoped(via): documents referenced by matching live documents, positioned at the later of the two seqs', async () => {
        const tickets = (await store.writeBatch(writeAll('tickets', [doc('t1'), doc('t2'), doc('t3')]))).written;
        const jobs = (await store.writeBatch(writeAll('jobs', [
          doc('job1', { technicianId: 'tech-1', ticketId: 't1' }),
          doc('job2', { technicianId: 'tech-2', ticketId: 't2' }),
        ]))).written;
        const filter = { kind: 'via' as const, collection: 'jobs', where: [{ field: 'technicianId', equals: 'tech-1' }], key: 'ticketId' };
        const first = await store.pullScoped({ collection: 'tickets', tenantId: TENANT, afterSeq: 0, limit: 10, filter });
        expect(first.documents.map((d) => [d.id, d.seq])).toEqual([['t1', jobs[0]!.seq]]);
        expect(first.documents[0]!.json).toBe(tickets[0]!.json);
        expect(first.lastSeq).toBe(jobs[1]!.seq);
        // A new job makes t3 visible to a device already past t3's own seq.
        const job3 = (await store.writeBatch(writeAll('jobs', [doc('job3', { technicianId: 'tech-1', ticketId: 't3' })]))).written[0]!;
        const next = await store.pullScoped({ collection: 'tickets', tenantId: TENANT, afterSeq: first.lastSeq, limit: 10, filter });
        expect(next.documents.map((d) => [d.id, d.seq])).toEqual([['t3', job3.seq]]);
        // A deleted job no longer exposes its ticket.
        await store.writeBatch(writeAll('jobs', [{ ...doc('job1', { technicianId: 'tech-1', ticketId: 't1', rev: '2-x' }), _deleted: true }]));
        const all = await store.pullScoped({ collection: 'tickets', tenantId: TENANT, afterSeq: 0, limit: 10, filter });
        expect(all.documents.map((d) => d.id)).toEqual(['t3']);
      });
    });

    describe('commit notifications', () => {
      it('listeners hear each commit once, after it is readable, in commit order; unsubscribe stops them', async () => {
        const events: CommitEvent[] = [];
        const readable: boolean[] = [];
        const off = store.onCommit((e) => {
          events.push(e);
          if (e.documents.length > 0) {
            void store.getDocuments(e.collection, e.tenantId, [e.documents[0]!.id]).then((found) => readable.push(found.length === 1));
          }
        });
        const batches = Array.from({ length: 12 }, (_, i) => writeAll(i % 2 ? 'epcrs' : 'gps_points', [doc(`e${i}a`), doc(`e${i}b`)]));
        await Promise.all(batches.map((b) => store.writeBatch(b)));
        await store.enqueueOutbox([{ key: 'k-outbox-only', kind: 'notice', tenantId: TENANT, payload: {}, causationId: 'c' }]);
        // A shared log is heard a moment after the writers were answered; the outbox-only signal is local and at once.
        if (capabilities.sharedLog) await vi.waitFor(() => expect(events.filter((e) => e.documents.length > 0)).toHaveLength(12), { timeout: 10_000 });
        else expect(events).toHaveLength(13);
        events.sort((x, y) => (x.documents.length === 0 ? 1 : 0) - (y.documents.length === 0 ? 1 : 0));
        const seqs = events.flatMap((e) => e.documents.map((d) => d.seq));
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(events.flatMap((e) => e.documents.map((d) => d.id))).size).toBe(24);
        expect(events[12]).toEqual({ collection: '', tenantId: TENANT, documents: [] });
        await new Promise((r) => setTimeout(r, 50));
        expect(readable.every(Boolean)).toBe(true);
        off();
        await store.writeBatch(writeAll('epcrs', [doc('after-off')]));
        expect(events).toHaveLength(13);
      });
    });

    describe('outbox', () => {
      const entry = (key: string, extra: Partial<OutboxEntryInput> = {}): OutboxEntryInput => ({
        key, kind: 'hospital-notice', tenantId: TENANT, payload: { key, nested: { n: 1 } }, causationId: `epcrs/${key}@1`, ...extra,
      });

      it('entries of a write are committed with it, once per key, in order, per queue', async () => {
        const seenChanges: WrittenChange[][] = [];
        planner.plan = (_collection, _actor, changes) => {
          seenChanges.push(changes);
          return [
            ...changes.map((c) => entry(`notice:${c.after.id}`, { causationId: `epcrs/${c.after.id}@${c.after.seq}` })),
            entry('cad:1', { queue: 'cad', kind: 'cad-status' }),
            entry('notice:a'), // same key twice in one transaction: kept once
          ];
        };
        await store.writeBatch(writeAll('epcrs', [doc('a'), doc('b')]));
        expect(seenChanges[0]!.map((c) => [c.before, c.after.id])).toEqual([[undefined, 'a'], [undefined, 'b']]);
        const hooks = await store.dueOutbox(Date.now(), 10);
        expect(hooks.map((e) => e.key)).toEqual(['notice:a', 'notice:b']);
        expect(hooks[0]).toMatchObject({ kind: 'hospital-notice', tenantId: TENANT, payload: { key: 'notice:a', nested: { n: 1 } }, attempts: 0, status: 'pending' });
        expect(hooks[0]!.causationId).toMatch(/^epcrs\/a@\d+$/);
        expect(hooks[0]!.lastError).toBeUndefined();
        expect(hooks[0]!.id).toBeLessThan(hooks[1]!.id);
        expect(hooks[0]!.nextAttemptAt).toBe(hooks[0]!.createdAt);
        const cad = await store.dueOutbox(Date.now(), 10, 'cad');
        expect(cad.map((e) => e.key)).toEqual(['cad:1']);
        expect(cad[0]!.id).toBeGreaterThan(hooks[1]!.id);

        // The same keys again (a retried push, a replayed hook): ignored.
        planner.plan = () => [entry('notice:a'), entry('cad:1', { queue: 'cad' }), entry('notice:c')];
        await store.writeBatch(writeAll('epcrs', [doc('a', { rev: '2-a' })]));
        await store.enqueueOutbox([entry('notice:b'), entry('cad:2', { queue: 'cad' })]);
        expect((await store.dueOutbox(Date.now(), 10)).map((e) => e.key)).toEqual(['notice:a', 'notice:b', 'notice:c']);
        expect((await store.dueOutbox(Date.now(), 10, 'cad')).map((e) => e.key)).toEqual(['cad:1', 'cad:2']);
        expect((await store.dueOutbox(Date.now(), 2)).map((e) => e.key)).toEqual(['notice:a', 'notice:b']);
        // A CAD bridge drains its own agency's entries only (issue 17: another agency's notices reached a CAD).
        await store.enqueueOutbox([entry('cad:other', { queue: 'cad', tenantId: OTHER })]);
        expect((await store.dueOutbox(Date.now(), 10, 'cad', TENANT)).map((e) => e.key)).toEqual(['cad:1', 'cad:2']);
        expect((await store.dueOutbox(Date.now(), 10, 'cad', OTHER)).map((e) => e.key)).toEqual(['cad:other']);
        expect((await store.dueOutbox(Date.now(), 10, 'cad')).map((e) => e.key)).toEqual(['cad:1', 'cad:2', 'cad:other']);
        expect((await store.outboxStats(Date.now(), 'cad', OTHER)).depth).toBe(1);
        expect((await store.outboxStats(Date.now(), 'cad', TENANT)).depth).toBe(2);

        // No written document, no planning.
        const asked = planner.asked.length;
        planner.plan = () => [entry('never')];
        await store.writeBatch({ collection: 'epcrs', tenantId: TENANT, actor: DEVICE, requests: [request('a', doc('a'), () => ({ action: 'noop' }))] });
        expect(planner.asked).toHaveLength(asked);
        const stats = await store.outboxStats(Date.now() + 1000);
        expect(stats.depth).toBe(3);
        expect(stats.oldestAgeMs).toBeGreaterThanOrEqual(1000);
        expect(stats.deadLetters).toBe(0);
        expect((await store.outboxStats(Date.now(), 'cad')).depth).toBe(3);
      });

      it('every write plans its entries with the store\'s planner: a writer that passes nothing still gets them, in its transaction', async () => {
        planner.plan = (collection, actor, changes) => changes.map((c) => entry(`${collection}:${c.after.id}:${actor.kind}`, {
          kind: 'workflow', causationId: `${collection}/${c.after.id}@${c.after.seq}`, payload: { before: c.before?.id ?? null },
        }));
        // A writer the hooks were never told about: a bare batch, as any new server-side integration would write.
        const newWriter: Actor = { kind: 'system', tenantId: TENANT, userId: 'new-integration' };
        await store.writeBatch(writeAll('incidents', [doc('i1'), doc('i2')], { actor: newWriter }));
        await store.writeBatch(writeAll('epcrs', [doc('p1')], { actor: HOOK, causationId: 'incidents/i1@1' }));
        await store.writeBatch(writeAll('incidents', [doc('i1', { rev: '2-i1' })]));
        expect(planner.asked.map((a) => [a.collection, a.actor, a.changes.map((c) => [c.before?.id, c.after.id, c.afterDoc?.['rev']])])).toEqual([
          ['incidents', newWriter, [[undefined, 'i1', '1-i1'], [undefined, 'i2', '1-i2']]],
          ['epcrs', HOOK, [[undefined, 'p1', '1-p1']]],
          ['incidents', DEVICE, [['i1', 'i1', '2-i1']]],
        ]);
        const due = await store.dueOutbox(Date.now(), 10);
        expect(due.map((e) => [e.key, e.payload])).toEqual([
          ['incidents:i1:system', { before: null }], ['incidents:i2:system', { before: null }],
          ['epcrs:p1:hook', { before: null }], ['incidents:i1:device', { before: 'i1' }],
        ]);
        // The entries are the write's: a batch refused as a whole leaves none behind.
        await expect(store.writeBatch(writeAll('incidents', [doc('i3')], { actor: newWriter, afterDecisions: () => { throw new Error('refused'); } }))).rejects.toThrow('refused');
        planner.plan = () => { throw new Error('planner broke'); };
        await expect(store.writeBatch(writeAll('incidents', [doc('i4')], { actor: newWriter }))).rejects.toThrow('planner broke');
        expect(await store.getDocuments('incidents', TENANT, ['i3', 'i4'])).toEqual([]);
        expect(await store.dueOutbox(Date.now(), 10)).toHaveLength(4);
      });

      it('a store given its planner after opening plans with it from then on; a second, different planner is refused', async () => {
        const other = await factory();
        try {
          const late = other.store;
          await late.writeBatch(writeAll('incidents', [doc('before')]));
          const given = new ScriptedPlanner();
          given.plan = (collection, _actor, changes) => changes.map((c) => entry(`${collection}:${c.after.id}`));
          late.useOutboxPlanner(given);
          late.useOutboxPlanner(given); // the same one again changes nothing
          expect(() => late.useOutboxPlanner(new ScriptedPlanner())).toThrow(/another planner/);
          await late.writeBatch(writeAll('incidents', [doc('after')]));
          expect((await late.dueOutbox(Date.now(), 10)).map((e) => e.key)).toEqual(['incidents:after']);
          expect(given.asked.map((a) => a.changes.map((c) => c.after.id))).toEqual([['after']]);
        } finally {
          await other.dispose();
        }
      });

      it('complete, retry later, dead letter, and retry of a dead letter', async () => {
        await store.enqueueOutbox([entry('k1'), entry('k2'), entry('k3'), entry('k4', { tenantId: OTHER })]);
        const now = Date.now();
        const [e1, e2, e3, e4] = await store.dueOutbox(now, 10);
        await store.completeOutbox(e1!.id);
        await store.retryOutboxLater(e2!.id, now + 60_000, 'hospital 503');
        expect((await store.dueOutbox(now, 10)).map((e) => e.key)).toEqual(['k3', 'k4']);
        const later = await store.dueOutbox(now + 60_000, 10);
        expect(later.map((e) => e.key)).toEqual(['k2', 'k3', 'k4']);
        expect(later[0]).toMatchObject({ attempts: 1, nextAttemptAt: now + 60_000, lastError: 'hospital 503', status: 'pending' });

        await store.deadLetterOutbox(e3!.id, 'gave up');
        await store.deadLetterOutbox(e4!.id, 'gave up too');
        expect((await store.dueOutbox(now + 60_000, 10)).map((e) => e.key)).toEqual(['k2']);
        const dead = await store.listDeadLetters(undefined, 10);
        expect(dead.map((e) => e.key)).toEqual(['k4', 'k3']); // newest first
        expect(dead[1]).toMatchObject({ status: 'dead', attempts: 1, lastError: 'gave up' });
        expect((await store.listDeadLetters(TENANT, 10)).map((e) => e.key)).toEqual(['k3']);
        expect(await store.outboxStats(now)).toMatchObject({ depth: 1, deadLetters: 2 });

        expect(await store.retryDeadLetter(e3!.id, OTHER)).toBe(false); // not that tenant's
        expect(await store.retryDeadLetter(e1!.id, TENANT)).toBe(false); // done, not dead
        expect(await store.retryDeadLetter(e3!.id, TENANT)).toBe(true);
        expect(await store.retryDeadLetter(e3!.id, TENANT)).toBe(false); // no longer dead
        expect(await store.retryDeadLetter(e4!.id, undefined)).toBe(true); // an operator across tenants
        const due = await store.dueOutbox(Date.now() + 60_000, 10);
        expect(due.map((e) => e.key)).toEqual(['k2', 'k3', 'k4']);
        expect(due[1]).toMatchObject({ status: 'pending', attempts: 0 });
        expect(await store.listDeadLetters(undefined, 10)).toEqual([]);
        expect((await store.outboxStats(now)).deadLetters).toBe(0);
      });
    });

    describe('artifacts and quarantine', () => {
      it('an artifact is replaced under its key and read per tenant', async () => {
        expect(await store.getArtifact('nemsis/e1', TENANT)).toBeUndefined();
        await store.putArtifact('nemsis/e1', TENANT, 'application/xml', '<EMSDataSet>1</EMSDataSet>');
        const first = await store.getArtifact('nemsis/e1', TENANT);
        expect(first).toMatchObject({ contentType: 'application/xml', content: '<EMSDataSet>1</EMSDataSet>' });
        expect(first!.createdAt).toBeGreaterThan(0);
        await store.putArtifact('nemsis/e1', TENANT, 'application/xml; charset=utf-8', 'é'.repeat(10_000));
        expect(await store.getArtifact('nemsis/e1', TENANT)).toMatchObject({ contentType: 'application/xml; charset=utf-8', content: 'é'.repeat(10_000) });
      });

      it('agency settings are kept per agency with their audit entry, replaced whole, and survive a restart', async () => {
        expect(await store.getAgencySettings(TENANT)).toBeUndefined();
        const admin: Actor = { kind: 'device', tenantId: TENANT, userId: 'admin-1', role: 'admin' };
        await store.putAgencySettings(TENANT, '{"agencyNumber":"351-C034P2"}', { tenantId: TENANT, action: 'agency_settings_update', actor: admin, details: { changed: ['agencyNumber'] } });
        await store.putAgencySettings(OTHER, '{"agencyNumber":"OTHER-7"}', { tenantId: OTHER, action: 'agency_settings_update', actor: { ...admin, tenantId: OTHER } });
        await store.putAgencySettings(TENANT, '{"agencyNumber":"351-C034P3"}', { tenantId: TENANT, action: 'agency_settings_update', actor: admin });
        const reopened = await fixture.reopen();
        store = reopened;
        expect(JSON.parse((await reopened.getAgencySettings(TENANT))!.json)).toEqual({ agencyNumber: '351-C034P3' });
        expect(JSON.parse((await reopened.getAgencySettings(OTHER))!.json)).toEqual({ agencyNumber: 'OTHER-7' });
        expect((await reopened.getAgencySettings(TENANT))!.updatedAt).toBeGreaterThan(0);
        const audit = await reopened.queryAudit({ tenantId: TENANT, limit: 10 });
        expect(audit.map((entry) => entry.action)).toEqual(['agency_settings_update', 'agency_settings_update']);
        expect((await reopened.verifyAudit()).ok).toBe(true);
      });

      it('a save made from settings read earlier is written only over those settings (a biller and an admin saving at once lose neither change)', async () => {
        const admin: Actor = { kind: 'device', tenantId: TENANT, userId: 'admin-1', role: 'admin' };
        const audit = { tenantId: TENANT, action: 'agency_settings_update', actor: admin };
        expect(await store.putAgencySettings(TENANT, '{"v":1}', audit, '{"not":"stored"}')).toBe(false);
        expect(await store.getAgencySettings(TENANT)).toBeUndefined();
        expect(await store.putAgencySettings(TENANT, '{"v":1}', audit, null)).toBe(true);
        // Two read the same settings; the first to write wins, the second is told and writes nothing.
        expect(await store.putAgencySettings(TENANT, '{"v":2,"billing":"b"}', audit, '{"v":1}')).toBe(true);
        expect(await store.putAgencySettings(TENANT, '{"v":2,"state":"s"}', audit, '{"v":1}')).toBe(false);
        expect(JSON.parse((await store.getAgencySettings(TENANT))!.json)).toEqual({ v: 2, billing: 'b' });
        expect((await store.queryAudit({ tenantId: TENANT, limit: 10 })).filter((e) => e.action === 'agency_settings_update')).toHaveLength(2);
      });

      it('quarantine() keeps refused content with an audit entry; findQuarantine filters and pages', async () => {
        const tablet2: Actor = { ...DEVICE, deviceId: 'tablet-2' };
        await store.quarantine('epcrs', TENANT, DEVICE, [{ id: 'e1', reason: 'foreign tenant', doc: { id: 'e1', tenantId: OTHER } }, { id: 'e2', reason: 'r2', doc: { id: 'e2' } }]);
        await store.quarantine('gps_points', TENANT, tablet2, [{ id: 'g1', reason: 'r3', doc: { id: 'g1' } }]);
        const list = await store.listQuarantine(TENANT, 10);
        expect(list.map((q) => q.documentId)).toEqual(['g1', 'e2', 'e1']);
        expect(list[2]).toMatchObject({ collection: 'epcrs', actor: DEVICE, reason: 'foreign tenant', json: JSON.stringify({ id: 'e1', tenantId: OTHER }) });
        expect(await store.listQuarantine(TENANT, 1)).toHaveLength(1);
        const ids = (q: { documentId: string }[]) => q.map((x) => x.documentId);
        expect(ids(await store.findQuarantine({ tenantId: TENANT, limit: 10 }))).toEqual(['e1', 'e2', 'g1']);
        expect(ids(await store.findQuarantine({ tenantId: TENANT, deviceId: 'tablet-2', limit: 10 }))).toEqual(['g1']);
        // Keyed by the user as well: another user on the same device id sees none of these.
        expect(ids(await store.findQuarantine({ tenantId: TENANT, deviceId: 'tablet-2', userId: tablet2.userId!, limit: 10 }))).toEqual(['g1']);
        expect(ids(await store.findQuarantine({ tenantId: TENANT, deviceId: 'tablet-2', userId: 'someone-else', limit: 10 }))).toEqual([]);
        expect(ids(await store.findQuarantine({ tenantId: TENANT, collection: 'epcrs', limit: 10 }))).toEqual(['e1', 'e2']);
        expect(ids(await store.findQuarantine({ tenantId: TENANT, documentIds: ['e2', 'g1', 'zz'], limit: 10 }))).toEqual(['e2', 'g1']);
        expect(ids(await store.findQuarantine({ tenantId: TENANT, documentIds: [], limit: 10 }))).toEqual([]);
        const firstPage = await store.findQuarantine({ tenantId: TENANT, limit: 2 });
        expect(ids(await store.findQuarantine({ tenantId: TENANT, afterId: firstPage[1]!.id, limit: 2 }))).toEqual(['g1']);
        expect(await store.findQuarantine({ tenantId: OTHER, limit: 10 })).toEqual([]);
        const audits = await store.queryAudit({ tenantId: TENANT, limit: 10 });
        expect(audits[1]).toMatchObject({ action: 'quarantine', actor: DEVICE, collection: 'epcrs', documents: [{ id: 'e1' }, { id: 'e2' }], details: { reasons: ['foreign tenant', 'r2'] } });
        expect((await store.queryAudit({ tenantId: TENANT, documentId: 'g1', limit: 10 })).map((a) => a.collection)).toEqual(['gps_points']);
        // One entry naming a document twice is found once.
        await store.quarantine('epcrs', TENANT, DEVICE, [{ id: 'twice', reason: 'a', doc: {} }, { id: 'twice', reason: 'b', doc: {} }]);
        expect(await store.queryAudit({ tenantId: TENANT, documentId: 'twice', limit: 10 })).toHaveLength(1);
        expect(ids(await store.findQuarantine({ tenantId: TENANT, documentIds: ['twice'], limit: 10 }))).toEqual(['twice', 'twice']);
      });
    });

    describe('audit', () => {
      it('appends a hash chain from the genesis hash, with the same formula in every store', async () => {
        const t0 = Date.now();
        const inputs: AuditEntryInput[] = [
          { tenantId: TENANT, action: 'login', actor: DEVICE },
          { tenantId: TENANT, action: 'read', actor: { kind: 'device', tenantId: TENANT, userId: 'u-billing' }, collection: 'epcrs', documents: [{ id: 'e1' }, { id: 'e2' }], details: { reason: 'billing review' } },
        ];
        await store.appendAudit(inputs);
        await store.appendAudit([]);
        await store.writeBatch(writeAll('epcrs', [doc('e1', { rev: '1-r' })], { actor: HOOK, causationId: 'epcrs/e0@7' }));
        const entries = (await store.queryAudit({ tenantId: TENANT, limit: 10 })).reverse();
        expect(entries.map((e) => e.action)).toEqual(['login', 'read', 'write']);
        let prev = GENESIS;
        for (const e of entries) {
          expect(e.prevHash).toBe(prev);
          expect(e.at).toBeGreaterThanOrEqual(t0);
          const { id, at, prevHash, hash, ...input } = e;
          void id; void prevHash;
          expect(hash).toBe(auditHash(prev, at, e.tenantId, JSON.stringify(input)));
          prev = hash;
        }
        expect(entries[0]!.hash).toBe(auditHash(GENESIS, entries[0]!.at, TENANT, JSON.stringify(inputs[0])));
        expect(entries[1]!.at).toBe(entries[0]!.at); // one append, one clock reading
        expect(entries[2]).toMatchObject({
          action: 'write', actor: HOOK, collection: 'epcrs', documents: [{ id: 'e1', afterRev: '1-r' }], causationId: 'epcrs/e0@7', details: { auto_created: true },
        });
        expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 3 });
      });

      it('queries by tenant, document, user and time, newest first', async () => {
        const u1: Actor = { kind: 'device', tenantId: TENANT, userId: 'u1' };
        const u2: Actor = { kind: 'device', tenantId: TENANT, userId: 'u2' };
        await store.appendAudit([{ tenantId: TENANT, action: 'read', actor: u1, documents: [{ id: 'd1' }] }]);
        await new Promise((r) => setTimeout(r, 5));
        const mid = Date.now();
        await new Promise((r) => setTimeout(r, 5));
        await store.appendAudit([{ tenantId: TENANT, action: 'read', actor: u2, documents: [{ id: 'd1' }, { id: 'd2' }] }]);
        await store.appendAudit([{ tenantId: OTHER, action: 'read', actor: { kind: 'device', tenantId: OTHER, userId: 'u1' }, documents: [{ id: 'd1' }] }]);
        const actions = (q: Parameters<Store['queryAudit']>[0]) => store.queryAudit(q).then((es) => es.map((e) => `${e.actor.userId}:${e.documents?.map((d) => d.id).join('+')}`));
        expect(await actions({ tenantId: TENANT, limit: 10 })).toEqual(['u2:d1+d2', 'u1:d1']);
        expect(await actions({ tenantId: TENANT, limit: 1 })).toEqual(['u2:d1+d2']);
        expect(await actions({ tenantId: TENANT, documentId: 'd2', limit: 10 })).toEqual(['u2:d1+d2']);
        expect(await actions({ tenantId: TENANT, documentId: 'd1', limit: 10 })).toEqual(['u2:d1+d2', 'u1:d1']);
        expect(await actions({ tenantId: TENANT, userId: 'u1', limit: 10 })).toEqual(['u1:d1']);
        expect(await actions({ tenantId: TENANT, from: mid, limit: 10 })).toEqual(['u2:d1+d2']);
        expect(await actions({ tenantId: TENANT, to: mid, limit: 10 })).toEqual(['u1:d1']);
        expect(await actions({ tenantId: OTHER, documentId: 'd1', limit: 10 })).toEqual(['u1:d1']);
      });

      it('a write without per-document index rows (auditIndex false) is still found by document, and verifies', async () => {
        await store.writeBatch(writeAll('gps_points', [doc('g1'), doc('g2')], { auditIndex: false }));
        await store.writeBatch(writeAll('epcrs', [doc('e1')]));
        await store.writeBatch(writeAll('gps_points', [doc('g3')], { auditIndex: false }));
        await store.quarantine('gps_points', TENANT, DEVICE, [{ id: 'g2', reason: 'test', doc: doc('g2') }]);
        const byDoc = (documentId: string) => store.queryAudit({ tenantId: TENANT, documentId, limit: 10 }).then((es) => es.map((e) => `${e.action}:${e.collection}`));
        expect(await byDoc('g1')).toEqual(['write:gps_points']);
        // Newest first, across indexed (quarantine) and unindexed (write) entries.
        expect(await byDoc('g2')).toEqual(['quarantine:gps_points', 'write:gps_points']);
        expect(await byDoc('g3')).toEqual(['write:gps_points']);
        expect(await byDoc('e1')).toEqual(['write:epcrs']);
        // A prefix of another id is not that id.
        expect(await byDoc('g')).toEqual([]);
        expect(await store.queryAudit({ tenantId: OTHER, documentId: 'g1', limit: 10 })).toEqual([]);
        expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 4 });
      });

      it('verify finds the first entry that was changed behind the store\'s back', async () => {
        for (let i = 0; i < 5; i++) await store.appendAudit([{ tenantId: TENANT, action: 'read', actor: DEVICE, details: { i } }]);
        const entries = (await store.queryAudit({ tenantId: TENANT, limit: 10 })).reverse();
        expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 5 });
        const third = entries[2]!;
        await fixture.tamperAudit(third.id, JSON.stringify({ tenantId: TENANT, action: 'read', actor: DEVICE, details: { i: 99 } }));
        expect(await store.verifyAudit()).toMatchObject({ ok: false, checked: 5, firstBadId: third.id });
      });
    });

    describe('concurrency', () => {
      it('parallel write batches while a reader pulls with its checkpoint: every document reaches it exactly once; decisions never race', async () => {
        const writers = [store, ...(fixture.peer ? [await fixture.peer(), await fixture.peer()] : [])];
        const reader = fixture.peer ? await fixture.peer() : store;
        const BATCHES = 60;
        const PER_BATCH = 20;
        const eventSeqs = writers.map(() => [] as number[]);
        writers.forEach((w, i) => w.onCommit((e) => { if (e.collection === 'gps_points') eventSeqs[i]!.push(...e.documents.map((d) => d.seq)); }));

        const seen = new Map<string, number>();
        const pulledSeqs: number[] = [];
        let writing = true;
        let pulls = 0;
        const readerLoop = (async () => {
          let checkpoint = 0;
          for (;;) {
            const finalPass = !writing; // read before the pull: only a pull started after the last commit may end the loop
            const page = await reader.pull({ collection: 'gps_points', tenantId: TENANT, afterSeq: checkpoint, limit: 25 });
            pulls++;
            for (const d of page.documents) {
              seen.set(d.id, (seen.get(d.id) ?? 0) + 1);
              pulledSeqs.push(d.seq);
            }
            checkpoint = page.lastSeq;
            if (page.documents.length === 0) {
              if (finalPass) return;
              await new Promise((r) => setImmediate(r));
            }
          }
        })();

        const results = await Promise.all(Array.from({ length: BATCHES }, async (_, b) => {
          const writer = writers[b % writers.length]!;
          const points = Array.from({ length: PER_BATCH }, (_, j) => doc(`p${b}-${j}`, { lat: b, lng: j }));
          const [written] = await Promise.all([
            writer.writeBatch(writeAll('gps_points', points)),
            // A read-modify-write on one shared document: decide() must see the latest master.
            writer.writeBatch({
              collection: 'counters', tenantId: TENANT, actor: DEVICE,
              requests: [request('shared', doc('shared'), (master) => {
                const n = master ? (JSON.parse(master.json) as { n: number }).n + 1 : 1;
                return { action: 'write', doc: doc('shared', { n, rev: `${n}-c` }) };
              })],
            }),
          ]);
          return written;
        }));
        writing = false;
        await readerLoop;

        expect(seen.size).toBe(BATCHES * PER_BATCH);
        expect([...seen.values()].every((n) => n === 1)).toBe(true);
        expect(pulledSeqs).toEqual([...pulledSeqs].sort((a, b) => a - b));
        expect(pulls).toBeGreaterThan(1);
        const allSeqs = results.flatMap((r) => r.written.map((w) => w.seq));
        expect(new Set(allSeqs).size).toBe(BATCHES * PER_BATCH);
        for (const seqs of eventSeqs) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        if (capabilities.sharedLog) {
          // Every instance hears every instance's commits, each once.
          await vi.waitFor(() => { for (const seqs of eventSeqs) expect(seqs).toHaveLength(BATCHES * PER_BATCH); }, { timeout: 15_000 });
          for (const seqs of eventSeqs) expect(new Set(seqs).size).toBe(BATCHES * PER_BATCH);
        } else {
          expect(eventSeqs.flat().length).toBe(BATCHES * PER_BATCH);
        }
        const [shared] = await store.getDocuments('counters', TENANT, ['shared']);
        expect(JSON.parse(shared!.json)).toMatchObject({ n: BATCHES });
        expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: BATCHES * 2 });
      });

      it('concurrent audit appends and outbox inserts keep one chain and id order equal to commit order', async () => {
        planner.plan = (_collection, _actor, changes) => changes.map((c) => {
          const i = c.after.id.slice(1);
          return { key: `w${i}`, kind: 'n', tenantId: TENANT, payload: { i: Number(i) }, causationId: `c${i}`, queue: 'cad' as const };
        });
        const writers = [store, ...(fixture.peer ? [await fixture.peer(), await fixture.peer()] : [])];
        await Promise.all(Array.from({ length: 30 }, (_, i) => {
          const w = writers[i % writers.length]!;
          return i % 3 === 0
            ? w.appendAudit([{ tenantId: TENANT, action: 'read', actor: DEVICE, details: { i } }, { tenantId: TENANT, action: 'read', actor: DEVICE, details: { i, second: true } }])
            : i % 3 === 1
              ? w.enqueueOutbox([{ key: `k${i}`, kind: 'n', tenantId: TENANT, payload: { i }, causationId: `c${i}`, queue: 'cad' }])
              : w.writeBatch(writeAll('epcrs', [doc(`e${i}`)]));
        }));
        expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 10 * 2 + 10 });
        const cad = await store.dueOutbox(Date.now(), 100, 'cad');
        expect(cad).toHaveLength(20);
        const created = cad.map((e) => e.createdAt);
        expect(created).toEqual([...created].sort((a, b) => a - b)); // id order follows commit order
      });
    });

    describe('concurrent writers share commits (group commit)', () => {
      it('a request refused or failing inside a group is rolled back alone; the others commit, gap-free and in order', async () => {
        const events: CommitEvent[] = [];
        store.onCommit((e) => events.push(e));
        const refuse = new Error('refused by afterDecisions');
        const broken = new Error('decide() failed');
        // Each batch plans by its first document: a1 → k-a, b1 → k-b, d1 → a failing planner.
        planner.plan = (_collection, _actor, changes) => {
          const first = changes[0]!.after.id;
          if (first === 'd1') throw new Error('outbox failed');
          return first === 'a1' || first === 'b1' ? [{ key: `k-${first[0]}`, kind: 'n', tenantId: TENANT, payload: {}, causationId: first[0]! }] : [];
        };
        // Issued together, without awaiting in between: they land in the same group where the store groups.
        const outcomes = await Promise.allSettled([
          store.writeBatch(writeAll('gps_points', [doc('a1'), doc('a2')])),
          store.writeBatch(writeAll('gps_points', [doc('b1')], { afterDecisions: () => { throw refuse; } })),
          store.writeBatch({ collection: 'gps_points', tenantId: TENANT, actor: DEVICE, requests: [request('c1', doc('c1'), () => ({ action: 'write', doc: doc('c1') })), request('c2', doc('c2'), () => { throw broken; })] }),
          store.appendAudit([{ tenantId: TENANT, action: 'read', actor: DEVICE, documents: [{ id: 'a1' }] }]),
          store.writeBatch(writeAll('gps_points', [doc('d1')])),
          store.writeBatch(writeAll('gps_points', [doc('e1')])),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
        expect((outcomes[1] as PromiseRejectedResult).reason).toBe(refuse);
        expect((outcomes[2] as PromiseRejectedResult).reason).toBe(broken);
        const a = (outcomes[0] as PromiseFulfilledResult<Awaited<ReturnType<Store['writeBatch']>>>).value.written;
        const e = (outcomes[5] as PromiseFulfilledResult<Awaited<ReturnType<Store['writeBatch']>>>).value.written;
        // Rolled-back requests consume no seq: the survivors are numbered back to back (a shared
        // log: within their transaction; e1 may have had a transaction of its own).
        if (capabilities.sharedLog) {
          expect(a[1]!.seq).toBe(a[0]!.seq + 1);
          expect(e[0]!.seq).toBeGreaterThan(a[1]!.seq);
          await vi.waitFor(() => expect(events.flatMap((ev) => ev.documents)).toHaveLength(3), { timeout: 10_000 });
        } else {
          expect([...a, ...e].map((w) => w.seq)).toEqual([a[0]!.seq, a[0]!.seq + 1, a[0]!.seq + 2]);
        }
        const all = await pullAll(store, 'gps_points', TENANT);
        expect(all.map((d) => d.id)).toEqual(['a1', 'a2', 'e1']);
        expect(await fixture.committedIds('gps_points', ['a1', 'a2', 'b1', 'c1', 'c2', 'd1', 'e1'])).toEqual(expect.arrayContaining(['a1', 'a2', 'e1']));
        expect(await fixture.committedIds('gps_points', ['b1', 'c1', 'c2', 'd1'])).toEqual([]);
        // One event per commit (a shared log: per transaction, and a group is one transaction).
        if (capabilities.sharedLog) expect(events.flatMap((ev) => ev.documents.map((d) => d.id))).toEqual(['a1', 'a2', 'e1']);
        else expect(events.filter((ev) => ev.documents.length > 0).map((ev) => ev.documents.map((d) => d.id))).toEqual([['a1', 'a2'], ['e1']]);
        expect((await store.dueOutbox(Date.now(), 10)).map((o) => o.key)).toEqual(['k-a']);
        // Two write entries and the appended read: one chain, nothing of the failed requests.
        expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 3 });
        expect(await store.findQuarantine({ tenantId: TENANT, limit: 10 })).toEqual([]);
      });

      // A shared log's listeners hear commits from the log, after the answer: see the PostgreSQL change-feed tests.
      it.skipIf(capabilities.sharedLog)('no caller is answered before its write is committed: at that moment another connection sees it, and its listeners have heard it', async () => {
        const heard = new Set<string>();
        store.onCommit((ev) => { for (const d of ev.documents) heard.add(d.id); });
        const checks = await Promise.all(Array.from({ length: 12 }, async (_, i) => {
          const ids = [`n${i}-1`, `n${i}-2`];
          await store.writeBatch(writeAll('gps_points', ids.map((id) => doc(id))));
          // Read before this test yields to anything else: what the caller could rely on at its answer.
          const listened = ids.every((id) => heard.has(id));
          return { listened, seen: await fixture.committedIds('gps_points', ids) };
        }));
        for (const check of checks) {
          expect(check.listened).toBe(true);
          expect(check.seen).toHaveLength(2);
        }
      });

      // Runs for every store the project has (both fixtures can fail a commit); a new store without that seam skips it, and says so in the summary.
      it.skipIf(!capabilities.failCommits)('a commit that fails fails every request of its group; none is answered as written, none is heard, no seq is used', async () => {
        const first = (await store.writeBatch(writeAll('gps_points', [doc('before')]))).written[0]!;
        const events: CommitEvent[] = [];
        store.onCommit((e) => events.push(e));
        fixture.failCommits!(true);
        const outcomes = await Promise.allSettled([
          store.writeBatch(writeAll('gps_points', [doc('f1')])),
          store.writeBatch(writeAll('gps_points', [doc('f2'), doc('f3')])),
          store.appendAudit([{ tenantId: TENANT, action: 'read', actor: DEVICE }]),
          store.enqueueOutbox([{ key: 'k-f', kind: 'n', tenantId: TENANT, payload: {}, causationId: 'f' }]),
        ]);
        fixture.failCommits!(false);
        expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
        expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/nothing of it was written/);
        expect(events).toEqual([]);
        expect(await fixture.committedIds('gps_points', ['f1', 'f2', 'f3'])).toEqual([]);
        const next = (await store.writeBatch(writeAll('gps_points', [doc('after')]))).written[0]!;
        if (capabilities.sharedLog) {
          expect(next.seq).toBeGreaterThan(first.seq);
          await vi.waitFor(() => expect(events.flatMap((ev) => ev.documents.map((d) => d.id))).toEqual(['after']), { timeout: 10_000 });
        } else {
          expect(next.seq).toBe(first.seq + 1);
        }
        expect(await store.dueOutbox(Date.now(), 10)).toEqual([]);
        expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 2 });
      });

      it('a process killed while its writes are grouped and committing loses only writes it never acknowledged', async () => {
        const acked = await runCrashWriter(fixture);
        expect(acked.length).toBeGreaterThanOrEqual(CRASH_AFTER_ACKS);
        const reopened = await fixture.reopen();
        const all = await pullAll(reopened, 'gps_points', TENANT);
        const present = new Set(all.map((d) => d.id));
        expect(acked.filter((id) => !present.has(id))).toEqual([]);
        // What survived is a gap-free prefix of the commit order (a shared log: in order, with
        // gaps between transactions), with its audit chain intact.
        if (capabilities.sharedLog) expect(all.map((d) => d.seq)).toEqual(all.map((d) => d.seq).sort((x, y) => x - y));
        else expect(all.map((d) => d.seq)).toEqual(all.map((_, i) => i + 1));
        expect((await reopened.verifyAudit()).ok).toBe(true);
        const next = (await reopened.writeBatch(writeAll('gps_points', [doc('after-crash')]))).written[0]!;
        if (capabilities.sharedLog) expect(next.seq).toBeGreaterThan(all[all.length - 1]!.seq);
        else expect(next.seq).toBe(all.length + 1);
      });
    });

    it('throughput (reported, not asserted)', async () => {
      const BATCHES = 40;
      const PER_BATCH = 50;
      let started = performance.now();
      for (let b = 0; b < BATCHES; b++) {
        await store.writeBatch(writeAll('gps_points', Array.from({ length: PER_BATCH }, (_, j) => doc(`s${b}-${j}`, { lat: b, lng: j, recordedAt: new Date().toISOString() }))));
      }
      const sequential = (BATCHES * PER_BATCH) / ((performance.now() - started) / 1000);
      started = performance.now();
      for (let b = 0; b < BATCHES * 2; b++) {
        await store.writeBatch(writeAll('epcrs', [doc(`one${b}`, { narrative: 'x'.repeat(500) })]));
      }
      const singles = (BATCHES * 2) / ((performance.now() - started) / 1000);
      started = performance.now();
      await Promise.all(Array.from({ length: BATCHES }, (_, b) => store.writeBatch(writeAll('gps_points', Array.from({ length: PER_BATCH }, (_, j) => doc(`c${b}-${j}`, { lat: b, lng: j }))))));
      const parallel = (BATCHES * PER_BATCH) / ((performance.now() - started) / 1000);
      started = performance.now();
      const all = await pullAll(store, 'gps_points', TENANT, 500);
      const pullRate = all.length / ((performance.now() - started) / 1000);
      console.log(`[store throughput] ${name}: ${Math.round(sequential)} docs/s in sequential 50-doc batches, ${Math.round(singles)} single-doc batches/s, `
        + `${Math.round(parallel)} docs/s with ${BATCHES} batches in parallel, pull ${Math.round(pullRate)} docs/s (500/page)`);
      expect(all).toHaveLength(BATCHES * PER_BATCH * 2);
    });
  });
}
