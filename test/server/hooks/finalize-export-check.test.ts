/**
 * Issue 16, item 2: a report locks only when its NEMSIS export passes the XSD and the national
 * Schematron (the Schematron's own bite: test/server/nemsis/schematron.test.ts and
 * epcr-export-check.test.ts; a Schematron error the form can produce is refused earlier by the
 * completeness check). Through a real Fastify server, the real workflow catalogue and a crew tablet (real
 * RxDB client): a report whose export would fail is refused at finalize with each problem at the
 * crew's field, in words, and stays editable; fixed, it locks; a good report locks at once with its
 * warnings kept beside the export.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { nemsisArtifactKey, nemsisCheckKey, stubEpcrId } from '../../../server/hooks/workflows/index.ts';
import { sharedSchematronValidator } from '../../../server/nemsis/schematron.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { createDevice, eventually, type TestDevice } from '../../helpers/device.ts';
import type { TestServer } from '../../helpers/server.ts';
import { overdoseEpcr } from '../nemsis/fixtures.ts';
import { fakeIntegrations, settled, startHookServer, stored, xsdDir } from './support.ts';

const TENANT = 'agency-check';
const unitId = 'MEDIC4';

let server: TestServer;
let dispatcher: TestDevice;
let crew: TestDevice;

beforeAll(async () => {
  // Compiled once per machine (cached by the rules' hash); loading it is then a fraction of a second.
  await sharedSchematronValidator({ nemsisDir: xsdDir }).ready();
  server = await startHookServer({ integrations: fakeIntegrations() });
  dispatcher = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'dispatcher', deviceId: 'console' }), collections: ['incidents', 'units'] });
  crew = await createDevice({ serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-m4', subject: unitId }), collections: ['epcrs'] });
}, 600_000);

afterAll(async () => {
  await Promise.all([dispatcher?.close(), crew?.close()]);
  await server?.close();
});

async function onTablet(id: string): Promise<Epcr | undefined> {
  const doc = await crew.db.collections['epcrs']!.findOne(id).exec();
  return doc ? (doc.toJSON() as Epcr) : undefined;
}

/** The overdose report's content (complete, valid) written by the crew into the stub of `id`, with `change` applied, then finalized. */
async function completeAndFinalize(id: string, change: (report: Epcr) => Epcr): Promise<void> {
  const { id: _id, tenantId: _t, rev: _rev, unitId: _u, incidentId: _i, status: _s, dispatch, ...content } = overdoseEpcr();
  await crew.writer.update('epcrs', id, (d) => change({ ...d, ...content, dispatch: { ...dispatch, ...d.dispatch }, status: 'finalized' } as Epcr));
}

async function outcome(id: string): Promise<Epcr> {
  return eventually('the finalize decision on the tablet', async () => {
    const doc = await onTablet(id);
    return doc && (doc.lockedAt || (doc.status === 'draft' && (doc.finalizeErrors?.length ?? 0) > 0)) ? doc : undefined;
  }, 60_000);
}

describe('finalize checks the NEMSIS export (XSD + national Schematron) before the report locks', () => {
  const incidentId = randomUUID();
  const epcrId = stubEpcrId(TENANT, incidentId, unitId);

  it('a typed value the export cannot carry (a vehicle number longer than eResponse.13 allows) and a priority "P2" are refused, each at its field, and the report stays a draft', async () => {
    await dispatcher.writer.insert('incidents', {
      id: incidentId, tenantId: TENANT, incidentNumber: '2026-000416', complaint: 'unresponsive', priority: 'P2', status: 'dispatched',
      assignedUnitId: unitId, timeline: { psapCall: '2024-10-07T20:20:00-04:00' },
    });
    const stub = await eventually('the stub on the tablet', () => onTablet(epcrId));
    // Today's stub copies only a code of eDispatch.05; reports stubbed before that still hold "P2".
    expect(stub.dispatch?.priority).toBeUndefined();

    // Both pass the completeness check (epcr-validation.ts); only the export's XSD refuses them.
    await completeAndFinalize(epcrId, (r) => ({
      ...r, dispatch: { ...r.dispatch, priority: 'P2' },
      response: { ...r.response, vehicleNumber: 'Medic 4 spare (ours is in the shop)' },
    }));
    const refused = await outcome(epcrId);
    expect(refused.lockedAt).toBeUndefined();
    expect(refused.status).toBe('draft');
    expect(refused.finalizeErrors).toEqual([
      { path: 'dispatch.priority', message: expect.stringMatching(/^Dispatch priority.*: "P2" is not a NEMSIS code for this field: choose one from the list \(eDispatch\.05\)$/) },
      { path: 'response.vehicleNumber', message: 'Vehicle number: too long for NEMSIS: at most 25 characters, this has 35 (eResponse.13)' },
    ]);
    // Nothing was exported, and the check is kept for the office.
    expect(await server.app.store.getArtifact(nemsisArtifactKey(epcrId), TENANT)).toBeUndefined();
    const check = JSON.parse((await server.app.store.getArtifact(nemsisCheckKey(epcrId), TENANT))!.content) as { valid: boolean; errors: { path: string }[] };
    expect(check.valid).toBe(false);
    expect(check.errors.map((e) => e.path).sort()).toEqual(['dispatch.priority', 'response.vehicleNumber']);
  }, 120_000);

  it('the crew fixes both fields on the same report and finalizes again: it locks and exports', async () => {
    // Still editable: the crew's changes are accepted like any draft edit.
    await crew.writer.update('epcrs', epcrId, (d) => ({
      ...d, status: 'finalized',
      dispatch: { ...d.dispatch, priority: '2305003' },
      response: { ...d.response, vehicleNumber: 'M4-SPARE' },
    }));
    const locked = await outcome(epcrId);
    expect(locked.lockedAt).toBeDefined();
    expect(locked.finalizeErrors).toEqual([]);
    await settled(server);
    const exported = await server.app.store.getArtifact(nemsisArtifactKey(epcrId), TENANT);
    expect(exported?.content).toContain('<eDispatch.05>2305003</eDispatch.05>');
    expect(exported?.content).toContain('<eResponse.13>M4-SPARE</eResponse.13>');
  }, 120_000);

  it('a good report locks at first finalize; its warnings are kept beside the export and on the report, and did not refuse it', async () => {
    const goodIncident = randomUUID();
    const goodId = stubEpcrId(TENANT, goodIncident, unitId);
    await dispatcher.writer.insert('incidents', {
      id: goodIncident, tenantId: TENANT, incidentNumber: '2026-000417', complaint: 'overdose', priority: '2305001', status: 'dispatched',
      assignedUnitId: unitId, timeline: { psapCall: '2024-10-07T20:20:00-04:00' },
    });
    await eventually('the stub on the tablet', () => onTablet(goodId));
    await completeAndFinalize(goodId, (r) => r);
    const locked = await outcome(goodId);
    expect(locked.lockedAt).toBeDefined();
    expect(locked.finalizeErrors).toEqual([]);
    const check = JSON.parse((await server.app.store.getArtifact(nemsisCheckKey(goodId), TENANT))!.content) as { valid: boolean; errors: unknown[]; warnings: { rule: string; path: string; message: string }[]; schematronMs: number };
    expect(check.valid).toBe(true);
    expect(check.errors).toEqual([]);
    // The overdose report does not record who gave each medication (eMedications.10): a national warning.
    expect(check.warnings.map((w) => w.rule)).toContain('nemSch_e150');
    expect(check.warnings.every((w) => w.message.length > 0 && w.path.length > 0)).toBe(true);
    expect((await stored(server, 'epcrs', TENANT, goodId))?.lockedAt).toBe(locked.lockedAt);
    // The same warnings travel on the report to the tablet (shown at their fields, offline too).
    expect(locked.finalizeWarnings).toEqual(check.warnings);

    // The crew (and the office) read the check, warnings included; another unit's crew learns nothing.
    const read = (subject: string) => fetch(`${server.url}/api/epcrs/${goodId}/nemsis-check`, {
      headers: { authorization: `Bearer ${devToken({ tenantId: TENANT, role: 'crew', deviceId: `tablet-${subject}`, subject })}` },
    });
    const answer = await read(unitId);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual(check);
    expect((await read('MEDIC9')).status).toBe(404);
  }, 120_000);
});
