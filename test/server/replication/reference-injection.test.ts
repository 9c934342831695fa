/**
 * Issue 17, finding 2: crew of M1 created and finalized an addendum of M2's locked report, and
 * M2's NEMSIS export then carried M1's patient name and narrative and M2's billing went from 3.2
 * to 99 loaded miles. The rule that decides who may change a report now decides who may amend it
 * (shared/access/rules.ts, `references`), on a real server with the real hooks, in two agencies.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { billingRecordId, nemsisArtifactKey } from '../../../server/hooks/workflows/index.ts';
import { schemaVersionOf, type BillingRecord, type Epcr } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import type { TestServer } from '../../helpers/server.ts';
import { completeEpcr, fakeIntegrations, pushBody, rawPush, settled, startHookServer, stored } from '../hooks/support.ts';

const AGENCIES = ['agency-ref-a', 'agency-ref-b'] as const;
let server: TestServer;
const crewToken = (tenantId: string, unit: string) => devToken({ tenantId, role: 'crew', deviceId: `tablet-${unit}-${tenantId}`, subject: unit });

/** A push as a device sends it; the status and the documented error body, whatever they are. */
async function push(token: string, doc: Record<string, unknown>): Promise<{ status: number; body: { code?: string; message?: string } }> {
  const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${schemaVersionOf('epcrs')}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: pushBody(doc),
  });
  const json = await response.json() as { error?: { code?: string; message?: string } };
  return { status: response.status, body: json.error ?? {} };
}

beforeAll(async () => {
  server = await startHookServer({ integrations: fakeIntegrations() });
}, 60_000);
afterAll(async () => { await server?.close(); });

describe('crew of M1 cannot amend M2\'s locked report', () => {
  for (const tenantId of AGENCIES) {
    it(`${tenantId}: the injected addendum is refused, and M2's export and billing are unchanged`, async () => {
      const report = completeEpcr(tenantId, 'M2');
      await rawPush(server, crewToken(tenantId, 'M2'), 'epcrs', pushBody(report));
      const exported = async () => (await server.app.store.getArtifact(nemsisArtifactKey(report.id), tenantId))?.content ?? '';
      // Generous waits: the export is checked against the XSD, slow on a loaded machine (timing is never what is tested).
      await eventually('M2\'s report locked and exported', async () => (await stored(server, 'epcrs', tenantId, report.id))?.lockedAt && (await exported()).includes("O'Connor"), 120_000);
      const billingId = billingRecordId(tenantId, report.id);
      await eventually('M2\'s billing record', async () => (await stored(server, 'billing_records', tenantId, billingId))?.loadedMiles === 3.2, 120_000);
      await settled(server, 120_000);
      const exportBefore = await exported();

      const injected: Omit<Epcr, 'rev'> & { _deleted: false } = {
        id: randomUUID(), tenantId, unitId: 'M1', status: 'finalized', addendumOf: report.id,
        addendumReason: 'correction', patient: { firstName: 'Injected', lastName: 'Mallory' },
        narrative: { text: 'written by another unit' }, disposition: { loadedMiles: 99 }, _deleted: false,
      };
      const refused = await push(crewToken(tenantId, 'M1'), injected);
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('ACCESS_DENIED');
      expect(refused.body.message).toContain('addendumOf must name a report you may change');
      expect(await stored(server, 'epcrs', tenantId, injected.id)).toBeUndefined();
      await settled(server, 120_000);

      const exportAfter = await exported();
      expect(exportAfter).toBe(exportBefore);
      expect(exportAfter).not.toContain('Mallory');
      expect(exportAfter).not.toContain('written by another unit');
      const billing = await stored(server, 'billing_records', tenantId, billingId) as BillingRecord;
      expect(billing.loadedMiles).toBe(3.2);

      // The refusal does not tell M1 whether the report exists: naming an id that exists nowhere,
      // or another agency's report, gets the same answer.
      const other = AGENCIES.find((t) => t !== tenantId)!;
      const foreignReport = completeEpcr(other, 'M2', { status: 'draft' });
      await rawPush(server, crewToken(other, 'M2'), 'epcrs', pushBody(foreignReport));
      const shape = (answer: { status: number; body: { code?: string; message?: string } }, id: string) =>
        ({ status: answer.status, code: answer.body.code, message: answer.body.message?.replaceAll(id, '<id>') });
      const missingId = randomUUID();
      const missing = await push(crewToken(tenantId, 'M1'), { ...injected, id: randomUUID(), addendumOf: missingId });
      const foreign = await push(crewToken(tenantId, 'M1'), { ...injected, id: randomUUID(), addendumOf: foreignReport.id });
      expect(shape(missing, missingId)).toEqual(shape(refused, report.id));
      expect(shape(foreign, foreignReport.id)).toEqual(shape(refused, report.id));
    }, 400_000);
  }

  it('M2\'s own crew still amends its report, and the export carries the amendment', async () => {
    const tenantId = AGENCIES[0];
    const report = completeEpcr(tenantId, 'M2');
    await rawPush(server, crewToken(tenantId, 'M2'), 'epcrs', pushBody(report));
    const exported = async () => (await server.app.store.getArtifact(nemsisArtifactKey(report.id), tenantId))?.content ?? '';
    await eventually('the report locked and exported', async () => (await exported()).includes("O'Connor"), 120_000);
    const addendum = { id: randomUUID(), tenantId, unitId: 'M2', status: 'finalized', addendumOf: report.id, addendumReason: 'late vital', narrative: { text: 'amended by M2 itself' }, _deleted: false };
    await rawPush(server, crewToken(tenantId, 'M2'), 'epcrs', pushBody(addendum));
    await eventually('the amended export', async () => (await exported()).includes('amended by M2 itself'), 120_000);
  }, 300_000);
});
