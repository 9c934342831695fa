/**
 * An id squat is impossible (issue 17, finding 4b): server-made ids were plain hashes of agency
 * and incident number, so agency B's dispatcher could create an incident under the id agency A's
 * CAD incident would get, and A's incident then failed to be written ("belongs to another
 * tenant"); the same for units. Derived ids now carry their agency, and push refuses one made for
 * another agency, whatever exists. Real server, real sign-in, the real CAD inbound writer.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentIdFor, stubEpcrId, unitIdFor } from '../../../../server/hooks/ids.ts';
import { CadInbound } from '../../../../server/integrations/cad-bridge/inbound.ts';
import type { Role } from '../../../../shared/protocol/index.ts';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';
import { make, push, signInAll, stored } from '../../../helpers/access.ts';

const A = 'agency-victim';
const B = 'agency-squatter';
let server: TestServer;
let tokensA: Record<Role, string>;
let tokensB: Record<Role, string>;

beforeAll(async () => {
  server = await startTestServer();
  tokensA = await signInAll(server, A);
  tokensB = await signInAll(server, B);
}, 60_000);
afterAll(async () => { await server?.close(); });

describe('another agency cannot claim an agency\'s derived ids', () => {
  it('B\'s dispatcher pre-creating A\'s next CAD incident is refused, and A\'s incident then arrives', async () => {
    const squatted = incidentIdFor(A, '2026-000124');
    const r = await push(server, tokensB.dispatcher, 'incidents', [{ newDocumentState: make.incidents(B, { id: squatted, incidentNumber: '2026-000124' }) }]);
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('ACCESS_DENIED');
    expect(r.body.error.message).toContain('was made for another agency\'s incident');
    expect(await stored(server.app.store, 'incidents', B, squatted)).toBeUndefined();

    await new CadInbound(server.app.store, A, undefined, server.app.collectionRegistry).apply('incident:new', { incidentNumber: '2026-000124', complaint: 'Fall', assignedUnitId: 'M1' });
    expect(await stored(server.app.store, 'incidents', A, squatted)).toMatchObject({ incidentNumber: '2026-000124', assignedUnitId: 'M1' });
  });

  it('B\'s crew registering a unit under A\'s unit id, or a report under A\'s stub id, is refused', async () => {
    const unit = await push(server, tokensB.crew, 'units', [{ newDocumentState: make.units(B, { id: unitIdFor(A, 'M1'), callSign: 'M1' }) }]);
    expect(unit.status).toBe(403);
    const stub = await push(server, tokensB.crew, 'epcrs', [{ newDocumentState: make.epcrs(B, { id: stubEpcrId(A, incidentIdFor(A, '2026-000125'), 'M1'), unitId: 'M1' }) }]);
    expect(stub.status).toBe(403);
    await new CadInbound(server.app.store, A, undefined, server.app.collectionRegistry).apply('unit:status:updated', { unitId: 'M1', status: 'available' });
    expect(await stored(server.app.store, 'units', A, unitIdFor(A, 'M1'))).toMatchObject({ callSign: 'M1', status: 'available' });
  });

  it('the answer is the same whether A\'s document exists or not', async () => {
    const existing = incidentIdFor(A, '2026-000124');
    const absent = incidentIdFor(A, '2026-999999');
    const words = async (id: string) => {
      const r = await push(server, tokensB.dispatcher, 'incidents', [{ newDocumentState: make.incidents(B, { id }) }]);
      return { status: r.status, code: r.body.error.code, message: String(r.body.error.message).replaceAll(id, '<id>') };
    };
    expect(await words(existing)).toEqual(await words(absent));
  });

  it('an agency still writes its own derived ids, and random ids as before', async () => {
    const own = await push(server, tokensA.crew, 'units', [{ newDocumentState: make.units(A, { id: unitIdFor(A, 'M7'), callSign: 'M1' }) }]);
    expect(own.status).toBe(200);
    const random = await push(server, tokensB.dispatcher, 'incidents', [{ newDocumentState: make.incidents(B, { id: randomUUID() }) }]);
    expect(random.status).toBe(200);
  });
});
