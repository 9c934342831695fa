/**
 * The write-policy seam of push (server/replication/write-policy.ts), on a real server with
 * policies of the test's own: a policy refuses what the declaration allows, with a structured
 * rejection the device reads field by field (header, rejections list, 403 details); it can write
 * reserved documents instead of a refused row, once however often the row is retried; the
 * first policy with an opinion decides; a policy breaking the seam's contract writes nothing.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import type { WritePolicy } from '../../../server/replication/write-policy.ts';
import type { WireDocument } from '../../../server/store/types.ts';
import { eventually } from '../../helpers/device.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { make, push, rejectionsOf, rev, seed, stored } from '../../helpers/access.ts';

const A = 'agency-a';
const dispatcher = devToken({ tenantId: A, role: 'dispatcher', deviceId: 'console-1' });

/** A v4-shaped id derived from a name (what a policy's reserved ids must be: deterministic in the row). */
function derivedId(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const notesOf = (doc: WireDocument) => String(doc['notes'] ?? '');

const noShouting: WritePolicy = {
  name: 'no-shouting',
  collections: ['incidents'],
  decide: (write) => (write.collection === 'incidents' && notesOf(write.incoming).includes('SHOUT')
    ? { rejection: { code: 'NO_SHOUTING', reason: 'notes may not shout; write them again calmly' } }
    : undefined),
};

/** Keeps a refused change as a copy beside the original (as the ePCR addendum does). */
const keepAsCopy: WritePolicy = {
  name: 'keep-as-copy',
  collections: ['incidents'],
  reserve: (write) => (write.collection === 'incidents' && write.assumed ? [derivedId(`copy|${write.id}|${String(write.incoming['rev'])}`)] : []),
  decide(write) {
    if (write.collection !== 'incidents' || !write.stored || !notesOf(write.incoming).includes('COPY')) return undefined;
    const id = derivedId(`copy|${write.id}|${String(write.incoming['rev'])}`);
    const copy = { ...write.incoming, id, rev: '1-copy', incidentNumber: `${String(write.stored['incidentNumber'])}-copy` };
    return { rejection: { code: 'KEPT_AS_COPY', reason: 'the original stays as it is; your change is a copy', addendumId: id }, instead: [copy] };
  },
};

/** Breaks the contract: writes a document it did not reserve. */
const rogue: WritePolicy = {
  name: 'rogue',
  collections: ['incidents'],
  decide: (write) => (notesOf(write.incoming).includes('ROGUE')
    ? { rejection: { code: 'ROGUE', reason: 'rogue' }, instead: [{ ...write.incoming, id: derivedId(`rogue|${write.id}`) }] }
    : undefined),
};

/** Never reached for what `noShouting` already refused: the first opinion decides. */
const second: WritePolicy = {
  name: 'second',
  collections: ['incidents'],
  decide: (write) => (notesOf(write.incoming).includes('SHOUT') ? { rejection: { code: 'SECOND', reason: 'second' } } : undefined),
};

let server: TestServer;
beforeAll(async () => { server = await startTestServer({ writePolicies: [noShouting, keepAsCopy, rogue, second] }); });
afterAll(async () => { await server.close(); });

async function deviceRejections(token: string) {
  const r = await fetch(`${server.url}/api/sync/rejections`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return ((await r.json()) as { rejections: { documentId: string; code: string; reason: string; addendumId?: string; rev?: string }[] }).rejections;
}

async function kept(id: string) {
  return server.app.store.findQuarantine({ tenantId: A, collection: 'incidents', documentIds: [id], limit: 10 });
}

describe('write policies', () => {
  it('leave what they have no opinion on to the access declaration', async () => {
    const incident = make.incidents(A, { notes: 'calm' });
    const r = await push(server, dispatcher, 'incidents', [{ newDocumentState: incident }]);
    expect(r.status).toBe(200);
    expect(r.body).toEqual([]);
    expect(r.headers.get('x-fieldsync-rejections')).toBeNull();
    expect(await stored(server.app.store, 'incidents', A, incident.id)).toEqual(incident);
  });

  it('refuse a change the declaration allows: the master comes back, the structured reason beside it, the change is kept', async () => {
    const incident = make.incidents(A, { notes: 'calm' });
    await seed(server.app.store, 'incidents', [incident]);
    const shouting = { ...incident, rev: rev(2), notes: 'SHOUT' };
    const r = await push(server, dispatcher, 'incidents', [{ assumedMasterState: incident, newDocumentState: shouting }]);
    expect(r.status).toBe(200);
    expect(r.body).toEqual([incident]);
    // The first policy with an opinion decides (`second` would say SECOND).
    expect(rejectionsOf(r.headers)).toEqual([{ id: incident.id, code: 'NO_SHOUTING', reason: 'notes may not shout; write them again calmly' }]);
    expect(await stored(server.app.store, 'incidents', A, incident.id)).toEqual(incident);
    const entries = await kept(incident.id);
    expect(entries).toHaveLength(1);
    expect(JSON.parse(entries[0]!.json)).toEqual(shouting);
    expect((await deviceRejections(dispatcher)).find((x) => x.documentId === incident.id))
      .toMatchObject({ code: 'NO_SHOUTING', reason: 'notes may not shout; write them again calmly', rev: shouting.rev });
  });

  it('refuse a new document: the whole request is refused (403) with the policy\'s code in the details, and kept', async () => {
    const calm = make.incidents(A, { notes: 'calm' });
    const shouting = make.incidents(A, { notes: 'SHOUT' });
    const r = await push(server, dispatcher, 'incidents', [{ newDocumentState: calm }, { newDocumentState: shouting }]);
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('ACCESS_DENIED');
    expect(r.body.error.details).toEqual([{ id: shouting.id, message: 'NO_SHOUTING: notes may not shout; write them again calmly' }]);
    expect(await stored(server.app.store, 'incidents', A, calm.id)).toBeUndefined();
    expect(await kept(shouting.id)).toHaveLength(1);
    expect((await deviceRejections(dispatcher)).find((x) => x.documentId === shouting.id)).toMatchObject({ code: 'NO_SHOUTING' });
  });

  it('write reserved documents instead of a refused row, once however often it is retried, named by a field of the rejection', async () => {
    const incident = make.incidents(A, { notes: 'calm' });
    await seed(server.app.store, 'incidents', [incident]);
    const change = { ...incident, rev: rev(2), notes: 'COPY please' };
    const row = { assumedMasterState: incident, newDocumentState: change };
    const first = await push(server, dispatcher, 'incidents', [row]);
    expect(first.body).toEqual([incident]);
    const [notice] = rejectionsOf(first.headers);
    expect(notice).toMatchObject({ id: incident.id, code: 'KEPT_AS_COPY', reason: 'the original stays as it is; your change is a copy' });
    // The copy is a new call: the server records it in its history (incident-history), a new version after '1-copy'.
    await eventually('the hook outbox to drain', async () => (await server.app.store.outboxStats(Date.now())).depth === 0, 30_000);
    const copy = await stored(server.app.store, 'incidents', A, notice!.addendumId!);
    expect(copy).toMatchObject({ notes: 'COPY please', incidentNumber: `${incident.incidentNumber}-copy` });
    expect((copy as { history?: { kind: string }[] }).history?.map((e) => e.kind)).toEqual(['received']);
    expect(await stored(server.app.store, 'incidents', A, incident.id)).toEqual(incident);

    // The answer was lost: the same push again gets the same answer; no second entry, no second copy.
    const again = await push(server, dispatcher, 'incidents', [row]);
    expect(again.body).toEqual([incident]);
    expect(rejectionsOf(again.headers)).toEqual([notice]);
    expect(await kept(incident.id)).toHaveLength(1);
    expect(await stored(server.app.store, 'incidents', A, notice!.addendumId!)).toEqual(copy);
    expect((await deviceRejections(dispatcher)).find((x) => x.documentId === incident.id))
      .toMatchObject({ code: 'KEPT_AS_COPY', addendumId: notice!.addendumId, rev: change.rev });
  });

  it('may not write a document they did not reserve: the push fails and nothing of it is written', async () => {
    const incident = make.incidents(A, { notes: 'calm' });
    await seed(server.app.store, 'incidents', [incident]);
    const other = make.incidents(A, { notes: 'calm too' });
    const r = await push(server, dispatcher, 'incidents', [
      { newDocumentState: other },
      { assumedMasterState: incident, newDocumentState: { ...incident, rev: rev(2), notes: 'ROGUE' } },
    ]);
    expect(r.status).toBe(500);
    expect(JSON.stringify(r.body)).not.toContain('reserv'); // no internals reach the device
    expect(await stored(server.app.store, 'incidents', A, other.id)).toBeUndefined();
    expect(await stored(server.app.store, 'incidents', A, incident.id)).toEqual(incident);
    expect(await kept(incident.id)).toHaveLength(0);
  });
});

describe('the rejections list', () => {
  it('still reads the entries older servers kept as "<CODE>: <words> (addendum <id>)"', async () => {
    const device = devToken({ tenantId: A, role: 'crew', deviceId: 'tab-old', subject: 'M1' });
    const addendumId = '312a1a3d-2884-49d4-b681-dedd653f767b';
    // The user the dev token names (`<role>@<device>`): the list is that user's on that device.
    const actor = { kind: 'device' as const, tenantId: A, userId: 'crew@tab-old', deviceId: 'tab-old', role: 'crew' };
    const doc = make.epcrs(A, { rev: '4-tablet_7.n4rr8x' });
    await server.app.store.quarantine('epcrs', A, actor, [
      { id: doc.id, reason: `FINALIZED: report finalized at 17:37; your change was saved as a draft addendum (addendum ${addendumId})`, doc },
      { id: doc.id, reason: 'tenantId "agency-b" is not the caller\'s agency "agency-a"', doc },
    ]);
    expect((await deviceRejections(device)).map(({ code, reason, addendumId: id }) => ({ code, reason, addendumId: id }))).toEqual([
      { code: 'FINALIZED', reason: 'report finalized at 17:37; your change was saved as a draft addendum', addendumId },
      { code: 'REFUSED', reason: 'tenantId "agency-b" is not the caller\'s agency "agency-a"', addendumId: undefined },
    ]);
  });
});
