/**
 * Issue 16: the hospital's outcome an admin enters on a locked report (PUT EPCRS.outcome) reaches
 * what leaves the agency. The stored NEMSIS export (the download, the state's batch file and the
 * submission read it) is made again with eOutcome and still passes the XSD and the national
 * Schematron; an outcome whose export would fail is refused with 422 naming the problem, nothing
 * is written and the stored export stays as it was. The report stays locked either way.
 * Real Fastify, hook runner, XSD and Schematron, on SQLite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { unitIdFor } from '../../../server/hooks/ids.ts';
import { nemsisArtifactKey } from '../../../server/hooks/workflows/index.ts';
import { sharedSchematronValidator } from '../../../server/nemsis/schematron.ts';
import { validateEmsDataSet } from '../../../server/nemsis/validate.ts';
import { ADMIN, EPCRS, ErrorCode, pathOf, STATE_REPORTING, type Role } from '../../../shared/protocol/index.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { completeEpcr, FAST_HOOKS, pushBody, rawPush, stored, systemWrite, xsdDir } from '../hooks/support.ts';
import { PgSchemas, SKIP_POSTGRES } from '../store/fixtures.ts';

const TENANT = 'agency-outcome';
const token = (role: Role) => devToken({ tenantId: TENANT, role, deviceId: `${role}-1`, ...(role === 'crew' ? { subject: 'M7' } : {}) });

const OUTCOME = {
  edDisposition: '09', hospitalDisposition: '01', edDiagnoses: ['S01.00XA'],
  edProcedures: [{ id: 'p1', code: '0HQ0XZZ', performedAt: '2026-11-22T16:20:00-05:00' }],
};

/** The values of the eOutcome elements in an export, e.g. { 'eOutcome.01': ['09'] }. */
function eOutcome(xml: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of xml.matchAll(/<(eOutcome\.\d{2})>([^<]*)<\/\1>/g)) (out[m[1]!] ??= []).push(m[2]!);
  return out;
}

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(storeKind === 'postgres' && SKIP_POSTGRES)(`the hospital outcome of a locked report reaches its stored export (${storeKind})`, () => {
    const schemas = new PgSchemas();
    let server: TestServer;

    async function call(method: string, path: string, role: Role, body?: unknown) {
      const response = await fetch(server.url + path, {
        method, headers: { authorization: `Bearer ${token(role)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      let json: any;
      try { json = JSON.parse(text); } catch { json = text; }
      return { status: response.status, body: json, text };
    }

    beforeAll(async () => {
      await sharedSchematronValidator({ nemsisDir: xsdDir }).ready();
      const options = { nemsisXsdDir: xsdDir, hookRunner: FAST_HOOKS };
      server = storeKind === 'postgres' ? await startTestServer({ ...options, store: (await schemas.openStore()).store }) : await startTestServer(options);
      expect((await call('PUT', pathOf(ADMIN.putAgency), 'admin', demoAgencySettings())).status).toBe(200);
      await systemWrite(server, 'units', TENANT, { id: unitIdFor(TENANT, 'M7'), tenantId: TENANT, callSign: 'M7', status: 'available' } as never);
    }, 600_000);
    afterAll(async () => {
      await server?.close();
      await schemas.dropAll();
    });

    async function lockedReport(): Promise<{ report: Epcr; xml: string }> {
      const report = completeEpcr(TENANT, 'M7');
      await rawPush(server, token('crew'), 'epcrs', pushBody(report));
      const locked = await eventually('the report locked', async () => {
        const doc = await stored(server, 'epcrs', TENANT, report.id);
        if (doc?.status === 'draft' && (doc.finalizeErrors?.length ?? 0) > 0) throw new Error(`refused: ${JSON.stringify(doc.finalizeErrors)}`);
        return doc?.lockedAt ? doc as Epcr : undefined;
      }, 60_000);
      const artifact = await eventually('its export', () => server.app.store.getArtifact(nemsisArtifactKey(report.id), TENANT), 60_000);
      return { report: locked, xml: artifact.content };
    }

    it('set on a locked report, the outcome is in the stored export, the download and the state batch, which pass the XSD and the national Schematron; the report stays locked', async () => {
      const { report, xml: before } = await lockedReport();
      expect(eOutcome(before)['eOutcome.01']).toBeUndefined();
      const answer = await call('PUT', pathOf(EPCRS.outcome, { id: report.id }), 'admin', OUTCOME);
      expect(answer.status, answer.text).toBe(200);

      const exported = await eventually('the export made again with the outcome', async () => {
        const artifact = await server.app.store.getArtifact(nemsisArtifactKey(report.id), TENANT);
        return artifact && artifact.content.includes('<eOutcome.01>09</eOutcome.01>') ? artifact.content : undefined;
      }, 60_000);
      expect(eOutcome(exported)).toMatchObject({
        'eOutcome.01': ['09'], 'eOutcome.02': ['01'], 'eOutcome.09': ['0HQ0XZZ'], 'eOutcome.10': ['S01.00XA'], 'eOutcome.19': [OUTCOME.edProcedures[0]!.performedAt],
      });
      const download = await call('GET', pathOf(EPCRS.nemsisXml, { id: report.id }), 'admin');
      expect(download.status).toBe(200);
      expect(eOutcome(download.text)['eOutcome.01']).toEqual(['09']);

      const from = encodeURIComponent(new Date(Date.parse(report.lockedAt!) - 60_000).toISOString());
      const to = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
      const batch = await call('GET', `${pathOf(STATE_REPORTING.emsBatch)}?from=${from}&to=${to}`, 'admin');
      expect(batch.status).toBe(200);
      const inBatch = new RegExp(`<PatientCareReport UUID="${report.id}">[\\s\\S]*?</PatientCareReport>`).exec(batch.text)?.[0] ?? '';
      expect(eOutcome(inBatch)).toMatchObject({ 'eOutcome.01': ['09'], 'eOutcome.10': ['S01.00XA'] });
      for (const xml of [exported, batch.text]) {
        const check = await validateEmsDataSet(xml, { nemsisDir: xsdDir });
        expect({ xsd: check.xsdErrors, schematron: check.schematronErrors.map((e) => `${e.rule}: ${e.message}`) }).toEqual({ xsd: [], schematron: [] });
      }
      const after = await stored(server, 'epcrs', TENANT, report.id);
      expect(after?.lockedAt).toBe(report.lockedAt);
      expect(after?.status).toBe('finalized');
      expect(after?.outcome).toEqual(OUTCOME);
    }, 180_000);

    it('an outcome whose export would fail the XSD is refused with 422 naming the element; nothing is written and the stored export is unchanged', async () => {
      const { report, xml } = await lockedReport();
      const answer = await call('PUT', pathOf(EPCRS.outcome, { id: report.id }), 'admin', { ...OUTCOME, edDisposition: '99' });
      expect(answer.status, answer.text).toBe(422);
      expect(answer.body.error.code).toBe(ErrorCode.EXPORT_NOT_VALID);
      expect(answer.body.error.message).toContain('eOutcome.01');
      expect(answer.body.error.message).toContain('"99"');
      expect(answer.body.error.details.some((d: { message: string }) => d.message.includes('eOutcome.01'))).toBe(true);
      const after = await stored(server, 'epcrs', TENANT, report.id);
      expect(after?.outcome).toBeUndefined();
      expect(after?.rev).toBe(report.rev);
      expect(after?.lockedAt).toBe(report.lockedAt);
      expect((await server.app.store.getArtifact(nemsisArtifactKey(report.id), TENANT))?.content).toBe(xml);
    }, 180_000);

    it('a locked report whose export fails for a reason that is not the outcome (rules or settings changed since the lock) still takes a valid outcome, and is told which problems it already had; only problems the outcome brings refuse it', async () => {
      const { report } = await lockedReport();
      // As if the national rules changed after the lock: the stored report now exports a priority the XSD refuses.
      const { _deleted: _d, rev: _r, ...rest } = (await stored(server, 'epcrs', TENANT, report.id))!;
      await systemWrite(server, 'epcrs', TENANT, { ...rest, dispatch: { ...rest.dispatch, priority: 'P2' } } as never);

      const accepted = await call('PUT', pathOf(EPCRS.outcome, { id: report.id }), 'admin', OUTCOME);
      expect(accepted.status, accepted.text).toBe(200);
      expect(accepted.body.exportProblems.some((p: { message: string }) => p.message.includes('eDispatch.05'))).toBe(true);
      expect((await stored(server, 'epcrs', TENANT, report.id))?.outcome).toEqual(OUTCOME);

      const refused = await call('PUT', pathOf(EPCRS.outcome, { id: report.id }), 'admin', { ...OUTCOME, edDisposition: '99' });
      expect(refused.status, refused.text).toBe(422);
      expect(refused.body.error.code).toBe(ErrorCode.EXPORT_NOT_VALID);
      expect(refused.body.error.message).toContain('eOutcome.01');
      expect(refused.body.error.message).toMatch(/other.* the export has without it do not refuse it/);
      expect(refused.body.error.details.map((d: { message: string }) => d.message).join(' ')).not.toContain('eDispatch.05');
      expect((await stored(server, 'epcrs', TENANT, report.id))?.outcome).toEqual(OUTCOME);
    }, 180_000);

    it('an addendum that locks while the outcome is checked is in the check: the outcome is checked again with it', async () => {
      const { report } = await lockedReport();
      const addendum = {
        id: randomUUID(), tenantId: TENANT, unitId: report.unitId, status: 'draft', addendumOf: report.id,
        addendumReason: 'Priority corrected', dispatch: { priority: 'P2' },
      };
      await systemWrite(server, 'epcrs', TENANT, addendum as never);
      // The addendum locks just as the outcome's export check begins (the check reads the agency's identity first).
      const store = server.app.store;
      const original = store.getAgencySettings.bind(store);
      let armed = true;
      store.getAgencySettings = async (tenantId: string) => {
        if (armed && tenantId === TENANT) {
          armed = false;
          await systemWrite(server, 'epcrs', TENANT, { ...addendum, status: 'finalized', lockedAt: new Date().toISOString(), finalizeErrors: [] } as never);
        }
        return original(tenantId);
      };
      try {
        const answer = await call('PUT', pathOf(EPCRS.outcome, { id: report.id }), 'admin', OUTCOME);
        expect(answer.status, answer.text).toBe(200);
        expect(armed).toBe(false);
        // Checked with the addendum: its priority is a problem of the export, not of the outcome, and is said.
        expect(answer.body.exportProblems?.some((p: { message: string }) => p.message.includes('eDispatch.05'))).toBe(true);
      } finally {
        store.getAgencySettings = original;
      }
    }, 180_000);
  });
}
