/**
 * Answers never reveal that an id exists in another agency (issue 17, finding 4c). Document ids
 * are unique across agencies, so a row whose id another agency holds cannot be written; the
 * refusal must read exactly like the one the same row gets when its id names nothing (if that is
 * refused too), or like the one for a document of the caller's own agency it may not see. And
 * the out-of-scope check must not confirm ids to a role that may read none of a collection.
 * Every role × every collection, two agencies, real server, real sign-in.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_RULES } from '../../../shared/access/rules.ts';
import type { Role } from '../../../shared/protocol/index.ts';
import { schemaVersionOf, type CollectionName } from '../../../shared/schemas/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { COLLECTIONS, make, NAMES, push, ROLE_LIST, seed, seedWorld, signInAll, VISIBLE, type World } from '../../helpers/access.ts';

const A = 'agency-fa';
const B = 'agency-fb';
const ATTRIBUTES: Record<string, string> = { unitId: 'M1', technicianId: 'T1' };

let server: TestServer;
let worldA: World;
let worldB: World;
let tokens: Record<Role, string>;

beforeAll(async () => {
  server = await startTestServer();
  worldA = await seedWorld(server.app.store, A);
  worldB = await seedWorld(server.app.store, B);
  tokens = await signInAll(server, A);
}, 120_000);
afterAll(async () => { await server?.close(); });

/** A new document of `collection` inside the role's write scope, when it has one. */
function candidate(role: Role, collection: CollectionName): Record<string, unknown> {
  const doc: Record<string, unknown> = make[collection](A);
  const scope = ACCESS_RULES[collection].write[role]?.scope;
  if (scope?.kind === 'where') {
    for (const c of scope.anyOf[0]!) {
      if ('equals' in c) doc[c.field] = 'literal' in c.equals ? c.equals.literal : ATTRIBUTES[c.equals.identity];
    }
  }
  return doc;
}

/** What a person or a client would compare: status, code and words, with the row's id masked. */
async function answer(role: Role, collection: CollectionName, doc: Record<string, unknown>) {
  const id = String(doc['id']);
  const r = await push(server, tokens[role], collection, [{ newDocumentState: { ...doc, id } }]);
  const { requestId: _requestId, ...body } = (r.body ?? {}) as Record<string, unknown>;
  const text = JSON.stringify(body).replaceAll(id, '<id>');
  return { status: r.status, body: text };
}

describe('a row whose id another agency holds is answered like one the caller may not see', () => {
  for (const role of ROLE_LIST) {
    for (const collection of COLLECTIONS) {
      it(`${role} × ${collection}`, async () => {
        const foreignDoc = worldB.docs[NAMES[collection][0]!]!;
        const foreign = await answer(role, collection, { ...candidate(role, collection), id: foreignDoc.id });
        expect(foreign.status).toBe(403);
        expect(foreign.body).not.toMatch(/another agency|FOREIGN_DOCUMENT|agency-fb/);

        const fresh = await answer(role, collection, { ...candidate(role, collection), id: randomUUID() });
        if (fresh.status !== 200) {
          // The same row with an id that names nothing is refused too: the very same answer.
          expect(foreign).toEqual(fresh);
          return;
        }
        const hiddenName = NAMES[collection].find((n) => !(VISIBLE[role][collection] ?? []).includes(n));
        if (hiddenName) {
          const hidden = await answer(role, collection, { ...candidate(role, collection), id: worldA.docs[hiddenName]!.id });
          expect(foreign).toEqual(hidden);
        } else {
          expect(JSON.parse(foreign.body.replaceAll('<id>', 'X'))).toMatchObject({
            error: { code: 'ACCESS_DENIED', message: expect.stringMatching(/^There is no .+ X that you may change\./) },
          });
        }
      });
    }
  }
});

describe('the out-of-scope check confirms no id to a role that may read none of a collection', () => {
  for (const role of ROLE_LIST) {
    for (const collection of COLLECTIONS) {
      if (VISIBLE[role][collection]) continue;
      it(`${role} × ${collection}: every id named back, whether it exists or not`, async () => {
        const ids = [String(worldA.docs[NAMES[collection][0]!]!.id), randomUUID(), String(worldB.docs[NAMES[collection][0]!]!.id)];
        const r = await fetch(`${server.url}/api/sync/${collection}/out-of-scope?schemaVersion=${schemaVersionOf(collection)}`, {
          method: 'POST', headers: { authorization: `Bearer ${tokens[role]}`, 'content-type': 'application/json' }, body: JSON.stringify({ ids }),
        });
        expect(r.status).toBe(200);
        expect(((await r.json()) as { outOfScope: string[] }).outOfScope.sort()).toEqual([...ids].sort());
      });
    }
  }

  it('crew is not told which of another unit\'s report ids exist; a report it held and that left its unit is named', async () => {
    const ask = async (ids: string[]) => {
      const r = await fetch(`${server.url}/api/sync/epcrs/out-of-scope?schemaVersion=${schemaVersionOf('epcrs')}`, {
        method: 'POST', headers: { authorization: `Bearer ${tokens.crew}`, 'content-type': 'application/json' }, body: JSON.stringify({ ids }),
      });
      return ((await r.json()) as { outOfScope: string[] }).outOfScope;
    };
    // M2's reports exist in the agency, but crew of M1 never held them: nothing named, not even
    // after it tried to write one (a refused write is kept, and audited, for any id at all).
    expect((await push(server, tokens.crew, 'epcrs', [{ newDocumentState: { ...make.epcrs(A, { unitId: 'M1' }), id: worldA.docs['epcrM2']!.id } }])).status).toBe(403);
    expect(await ask([String(worldA.docs['epcrM2']!.id), String(worldA.docs['epcrM2Locked']!.id), randomUUID()])).toEqual([]);
    // A report M1 pulled, then moved to another unit (by the server): named, so the tablet drops it.
    const held = worldA.docs['epcrM1']!;
    const pulled = await fetch(`${server.url}/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}&limit=100`, { headers: { authorization: `Bearer ${tokens.crew}` } });
    expect(JSON.stringify(await pulled.json())).toContain(String(held.id));
    const { collection: _c, ...doc } = held;
    await seed(server.app.store, 'epcrs', [{ ...doc, unitId: 'M3', rev: '2-moved' }]);
    expect(await ask([String(held.id), String(worldA.docs['epcrM2']!.id)])).toEqual([String(held.id)]);
  });

  it('a role that reads the collection is told nothing of another agency\'s ids', async () => {
    const ids = [String(worldB.docs['epcrM2']!.id), randomUUID()];
    const r = await fetch(`${server.url}/api/sync/epcrs/out-of-scope?schemaVersion=${schemaVersionOf('epcrs')}`, {
      method: 'POST', headers: { authorization: `Bearer ${tokens.crew}`, 'content-type': 'application/json' }, body: JSON.stringify({ ids }),
    });
    expect(await r.json()).toEqual({ outOfScope: [] });
  });
});
