/**
 * Issue 16, items 4 and 5, as an agency's admin and biller meet them over HTTP: the agency's
 * DEMDataSet (its settings, users and units), the locked reports of a period as one EMSDataSet
 * file, and their submission to the state's NEMSIS V3 web service: a stand-in state server (real
 * HTTP) that checks every envelope against the WSDL's schema and answers the WSDL's shapes,
 * including a server fault retried, a file still processing followed with RetrieveStatus, a
 * rejected file, refused credentials ending as a dead letter the admin retries, and no report
 * submitted twice. Real Fastify, SQLite, hook runner, XSD and national Schematron.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { unitIdFor } from '../../../server/hooks/ids.ts';
import { nemsisArtifactKey } from '../../../server/hooks/workflows/index.ts';
import { sharedSchematronValidator } from '../../../server/nemsis/schematron.ts';
import { validateDemDataSet } from '../../../server/nemsis/validate-dem.ts';
import { validateEmsDataSet } from '../../../server/nemsis/validate.ts';
import { ADMIN, pathOf, STATE_REPORTING, type Role } from '../../../shared/protocol/index.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { completeEpcr, FAST_HOOKS, pushBody, rawPush, settled, stored, systemWrite, xsdDir } from '../hooks/support.ts';
import { startStateServer, type StateServer } from '../integrations/state-submission/state-server.ts';

const TENANT = 'agency-reporting';
const UNSET = 'agency-unset-reporting';
const token = (role: Role, tenantId = TENANT) => devToken({ tenantId, role, deviceId: `${role}-1`, ...(role === 'crew' ? { subject: 'M7' } : {}) });

let server: TestServer;
let state: StateServer;
const PASSWORD = 'state-pw-1';

beforeAll(async () => {
  await Promise.all([
    sharedSchematronValidator({ nemsisDir: xsdDir }).ready(),
    sharedSchematronValidator({ nemsisDir: xsdDir, dataSet: 'DEMDataSet' }).ready(),
  ]);
  state = await startStateServer(xsdDir);
  server = await startTestServer({
    nemsisXsdDir: xsdDir, hookRunner: FAST_HOOKS,
    integrationRetries: 2, integrationBackoffMs: 10, integrationBackoffMaxMs: 50, integrationTimeoutMs: 3000,
  });
  await put('PUT', pathOf(ADMIN.putAgency), 'admin', { ...demoAgencySettings(), stateSubmission: { endpoint: state.url, username: 'danbury', organization: 'C034', password: PASSWORD } });
  await systemWrite(server, 'units', TENANT, { id: unitIdFor(TENANT, 'M7'), tenantId: TENANT, callSign: 'M7', status: 'available' } as never);
  await put('POST', pathOf(ADMIN.createUser), 'admin', { username: 'crew-m7', password: 'long-enough-pw', role: 'crew', unitId: 'M7', displayName: 'Medic 7 crew' });
}, 600_000);
afterAll(async () => {
  await server?.close();
  await state?.close();
});

async function put(method: string, path: string, role: Role, body?: unknown, tenantId = TENANT) {
  const response = await fetch(server.url + path, {
    method, headers: { authorization: `Bearer ${token(role, tenantId)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = text; }
  if (method !== 'GET' && response.status >= 300 && path !== pathOf(STATE_REPORTING.submit)) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return { status: response.status, headers: response.headers, body: json, text };
}

const get = (path: string, role: Role, tenantId = TENANT) => put('GET', path, role, undefined, tenantId);

/** A complete report of the agency, finalized by its crew and locked with its export made. */
async function lockedReport(): Promise<Epcr> {
  const report = completeEpcr(TENANT, 'M7');
  await rawPush(server, token('crew'), 'epcrs', pushBody(report));
  const locked = await eventually('the report locked', async () => {
    const doc = await stored(server, 'epcrs', TENANT, report.id);
    if (doc?.status === 'draft' && (doc.finalizeErrors?.length ?? 0) > 0) throw new Error(`refused: ${JSON.stringify(doc.finalizeErrors)}`);
    return doc?.lockedAt ? doc as Epcr : undefined;
  }, 60_000);
  await eventually('its export', () => server.app.store.getArtifact(nemsisArtifactKey(report.id), TENANT), 60_000);
  return locked;
}

const started = new Date(Date.now() - 60_000).toISOString();
const period = () => `from=${encodeURIComponent(started)}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`;

describe('the DEMDataSet', () => {
  it('an admin downloads the agency\'s DEMDataSet: its settings, its users, its units; it passes the XSD and the national DEM Schematron', async () => {
    const answer = await get(pathOf(STATE_REPORTING.demDataSet), 'admin');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/xml; charset=utf-8');
    const xml = answer.text;
    for (const value of ['<dAgency.02>351-C034P2</dAgency.02>', '<dConfiguration.16>M7</dConfiguration.16>', '<dVehicle.01>M7</dVehicle.01>',
      '<dPersonnel.21>crew-m7</dPersonnel.21>', '<dFacility.02>Danbury Hospital</dFacility.02>']) expect(xml).toContain(value);
    const check = await validateDemDataSet(xml, { nemsisDir: xsdDir });
    expect({ xsd: check.xsdErrors, schematron: check.schematronErrors }).toEqual({ xsd: [], schematron: [] });
  }, 120_000);

  it('is the admin\'s only, and needs the agency\'s settings', async () => {
    expect((await get(pathOf(STATE_REPORTING.demDataSet), 'biller')).status).toBe(403);
    const none = await get(pathOf(STATE_REPORTING.demDataSet), 'admin', UNSET);
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe('AGENCY_NOT_CONFIGURED');
  });
});

describe('the locked reports of a period as one EMSDataSet file', () => {
  let first: Epcr;
  let second: Epcr;
  beforeAll(async () => {
    first = await lockedReport();
    second = await lockedReport();
  }, 180_000);

  it('a biller downloads them as one file that passes the XSD and the national Schematron; the download is audited', async () => {
    const answer = await get(`${pathOf(STATE_REPORTING.emsBatch)}?${period()}`, 'biller');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-fieldsync-report-count')).toBe('2');
    expect(answer.text.match(/<Header>/g)).toHaveLength(1);
    expect(answer.text).toContain(`<PatientCareReport UUID="${first.id}">`);
    expect(answer.text).toContain(`<PatientCareReport UUID="${second.id}">`);
    const check = await validateEmsDataSet(answer.text, { nemsisDir: xsdDir });
    expect({ xsd: check.xsdErrors, schematron: check.schematronErrors }).toEqual({ xsd: [], schematron: [] });
    const audit = await get(`${pathOf(ADMIN.audit)}?documentId=${first.id}`, 'admin');
    expect((audit.body.entries as { action: string; details?: { artifact?: string } }[]).some((e) => e.action === 'read' && e.details?.artifact === 'nemsis-batch')).toBe(true);
  }, 120_000);

  it('a period with no locked report is an empty answer; a bad period or a crew member is refused', async () => {
    const empty = await get(`${pathOf(STATE_REPORTING.emsBatch)}?from=2020-01-01&to=2020-02-01`, 'admin');
    expect(empty.status).toBe(204);
    expect(empty.headers.get('x-fieldsync-report-count')).toBe('0');
    const bad = await get(`${pathOf(STATE_REPORTING.emsBatch)}?from=yesterday&to=2020-02-01`, 'admin');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'BAD_PERIOD', message: 'from "yesterday" is not an ISO 8601 date-time with offset (2026-12-01T00:00:00-05:00) or a date (2026-12-01).' });
    const backwards = await get(`${pathOf(STATE_REPORTING.emsBatch)}?from=2020-02-01&to=2020-01-01`, 'admin');
    expect(backwards.body.error.code).toBe('BAD_PERIOD');
    expect((await get(`${pathOf(STATE_REPORTING.emsBatch)}?${period()}`, 'crew')).status).toBe(403);
  });

  describe('submitted to the state\'s web service', () => {
    const statuses = async () => (await get(`${pathOf(STATE_REPORTING.submissions)}?${period()}`, 'biller')).body.reports as { epcrId: string; status: string; statusCode?: number; meaning?: string; messages?: string[] }[];
    const statusOf = async (id: string) => (await statuses()).find((r) => r.epcrId === id);

    it('each report is sent once in a WSDL-valid envelope; a server fault is retried and a file still processing is followed with RetrieveStatus until accepted', async () => {
      let faulted = false;
      state.answer((request) => {
        if (request.operation === 'RetrieveStatus') return { statusCode: 1, requestHandle: request.requestHandle };
        // The first report's first submission meets the fault (whichever of the two is sent first):
        // the second report's is then sent exactly once.
        if (!faulted && request.payload.includes(`UUID="${first.id}"`)) {
          faulted = true;
          return { fault: 'Server', message: 'database connection lost' };
        }
        return request.payload.includes(`UUID="${first.id}"`) ? { statusCode: 10, requestHandle: `H-${first.id}` } : { statusCode: 3, requestHandle: `H-${second.id}` };
      });
      const submit = await put('POST', pathOf(STATE_REPORTING.submit), 'biller', { from: started, to: new Date(Date.now() + 60_000).toISOString() });
      expect(submit.status).toBe(202);
      expect(submit.body).toMatchObject({ queued: 2, alreadySubmitted: 0, rejected: 0, notExported: [] });

      await eventually('both accepted', async () => (await statuses()).every((r) => r.status === 'accepted') || undefined, 60_000);
      expect(await statusOf(first.id)).toMatchObject({ status: 'accepted', statusCode: 1, meaning: 'Successful import of a file' });
      expect(await statusOf(second.id)).toMatchObject({ status: 'accepted', statusCode: 3, meaning: 'Successful import of a file, with [WARNING] level Schematron rule violation reported' });

      const submits = state.requests.filter((r) => r.operation === 'SubmitData');
      const retrieves = state.requests.filter((r) => r.operation === 'RetrieveStatus');
      // One fault retried in the call, then one SubmitData per report; the processing file asked after.
      expect(submits).toHaveLength(3);
      expect(retrieves.length).toBeGreaterThanOrEqual(1);
      expect(retrieves.every((r) => r.requestHandle === `H-${first.id}`)).toBe(true);
      for (const request of state.requests) {
        expect(request.schemaErrors).toBe('');
        expect(request).toMatchObject({ username: 'danbury', organization: 'C034', password: PASSWORD });
        expect(request.soapAction).toBe(`"http://ws.nemsis.org/${request.operation}"`);
      }
      // Each SubmitData carries the report's own export, as it was locked.
      const exported = await server.app.store.getArtifact(nemsisArtifactKey(second.id), TENANT);
      const sentSecond = submits.filter((r) => r.payload.includes(`UUID="${second.id}"`));
      expect(sentSecond).toHaveLength(1);
      expect(sentSecond[0]!.payload.trim()).toBe(exported!.content.replace(/^<\?xml[^>]*\?>\s*/, '').trim());
    }, 120_000);

    it('asking again for the same period sends nothing again', async () => {
      const before = state.requests.length;
      const again = await put('POST', pathOf(STATE_REPORTING.submit), 'admin', { from: started, to: new Date(Date.now() + 60_000).toISOString() });
      expect(again.body).toMatchObject({ queued: 0, alreadySubmitted: 2 });
      await settled(server);
      expect(state.requests.length).toBe(before);
    }, 60_000);

    it('a file the state rejects is recorded with the state\'s messages and not sent again', async () => {
      const third = await lockedReport();
      state.answer(() => ({ statusCode: -12, requestHandle: 'H-3', xmlErrors: ['eTimes.03 is required by the state'] }));
      const submit = await put('POST', pathOf(STATE_REPORTING.submit), 'admin', { from: started, to: new Date(Date.now() + 60_000).toISOString() });
      expect(submit.body).toMatchObject({ queued: 1, alreadySubmitted: 2 });
      const rejected = await eventually('the rejection', async () => { const s = await statusOf(third.id); return s?.status === 'rejected' ? s : undefined; }, 60_000);
      expect(rejected).toMatchObject({ statusCode: -12, meaning: 'Failed import of a file, because of failing XML validation', messages: ['eTimes.03 is required by the state', 'eTimes.03 is required by the state'] });
      const before = state.requests.length;
      const again = await put('POST', pathOf(STATE_REPORTING.submit), 'admin', { from: started, to: new Date(Date.now() + 60_000).toISOString() });
      expect(again.body).toMatchObject({ queued: 0, rejected: 1 });
      await settled(server);
      expect(state.requests.length).toBe(before);
    }, 120_000);

    it('a file whose answer was lost is sent again and counted as accepted when the state says it has it already (-11)', async () => {
      const fifth = await lockedReport();
      const seen = new Set<string>();
      state.answer((request) => {
        if (seen.has(request.payload)) return { statusCode: -11, requestHandle: 'H-5' };
        seen.add(request.payload);
        // The state took the file, but its answer never arrives: the client's attempt times out.
        return { hang: true };
      });
      const before = state.requests.length;
      await put('POST', pathOf(STATE_REPORTING.submit), 'admin', { from: started, to: new Date(Date.now() + 60_000).toISOString() });
      const accepted = await eventually('accepted after the lost answer', async () => { const s = await statusOf(fifth.id); return s?.status === 'accepted' ? s : undefined; }, 60_000);
      expect(accepted).toMatchObject({ statusCode: -11, meaning: 'Failed import of a file, because the same file is already on the server' });
      const sent = state.requests.slice(before).filter((r) => r.payload.includes(`UUID="${fifth.id}"`));
      expect(sent).toHaveLength(2);
      expect(sent[1]!.payload).toBe(sent[0]!.payload);
    }, 120_000);

    it('credentials the state refuses end as a dead letter saying so; corrected, the admin retries it and the report is accepted', async () => {
      const fourth = await lockedReport();
      state.answer((request) => (request.password === PASSWORD ? { statusCode: 1, requestHandle: 'H-4' } : { statusCode: -1 }));
      await put('PUT', pathOf(ADMIN.putAgency), 'admin', { ...demoAgencySettings(), stateSubmission: { endpoint: state.url, username: 'danbury', organization: 'C034', password: 'an-old-password' } });
      await put('POST', pathOf(STATE_REPORTING.submit), 'admin', { from: started, to: new Date(Date.now() + 60_000).toISOString() });
      const dead = await eventually('the dead letter', async () => {
        const letters = (await get(pathOf(ADMIN.deadLetters), 'admin')).body.deadLetters as { id: number; kind: string; lastError: string }[];
        return letters.find((l) => l.kind === 'epcr-state-submission');
      }, 60_000);
      expect(dead.lastError).toContain('refused the agency\'s credentials: statusCode -1 (Invalid username and/or password)');
      expect((await statusOf(fourth.id))?.status).toBe('queued');

      // The password is not sent again on a PUT that leaves it out, so the admin sends the right one.
      await put('PUT', pathOf(ADMIN.putAgency), 'admin', { ...demoAgencySettings(), stateSubmission: { endpoint: state.url, username: 'danbury', organization: 'C034', password: PASSWORD } });
      expect((await put('POST', pathOf(ADMIN.retryDeadLetter, { id: dead.id }), 'admin')).status).toBe(202);
      await eventually('accepted after the retry', async () => (await statusOf(fourth.id))?.status === 'accepted' || undefined, 60_000);
    }, 120_000);

    it('with automatic submission on, a report is submitted as it locks, and again (the amended file) when an addendum to it locks', async () => {
      state.answer(() => ({ statusCode: 1, requestHandle: 'H-auto' }));
      await put('PUT', pathOf(ADMIN.putAgency), 'admin', { ...demoAgencySettings(), stateSubmission: { endpoint: state.url, username: 'danbury', organization: 'C034', password: PASSWORD, automatic: true } });
      const before = state.requests.length;
      const report = await lockedReport();
      await eventually('submitted on lock', async () => (await statusOf(report.id))?.status === 'accepted' || undefined, 60_000);
      const amendment = { id: randomUUID(), tenantId: TENANT, unitId: 'M7', incidentId: report.incidentId, status: 'finalized', addendumOf: report.id,
        addendumReason: 'Late entry: second naloxone dose', narrative: { text: 'Amended by addendum: patient re-sedated, second dose given.' }, _deleted: false };
      await rawPush(server, token('crew'), 'epcrs', pushBody(amendment));
      const sent = await eventually('the amended file sent', async () => {
        const mine = state.requests.slice(before).filter((r) => r.operation === 'SubmitData' && r.payload.includes(`UUID="${report.id}"`));
        return mine.length === 2 ? mine : undefined;
      }, 60_000);
      expect(sent[0]!.payload).not.toContain('Amended by addendum');
      expect(sent[1]!.payload).toContain('Amended by addendum: patient re-sedated, second dose given.');
      expect(sent[1]!.payload).toContain(`<PatientCareReport UUID="${report.id}">`);
      await settled(server);
      expect((await statusOf(report.id))?.status).toBe('accepted');
      await put('PUT', pathOf(ADMIN.putAgency), 'admin', { ...demoAgencySettings(), stateSubmission: { endpoint: state.url, username: 'danbury', organization: 'C034', automatic: false } });
    }, 120_000);

    it('without a submission endpoint in the settings nothing is queued, and the agency is told', async () => {
      await put('PUT', pathOf(ADMIN.putAgency), 'admin', demoAgencySettings(), UNSET);
      const answer = await put('POST', pathOf(STATE_REPORTING.submit), 'admin', { from: started, to: new Date().toISOString() }, UNSET);
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toBe('AGENCY_NOT_CONFIGURED');
      expect(answer.body.error.message).toContain('state submission endpoint');
    });
  });
});
