/**
 * Issue 16, item 4: each agency's NEMSIS identity is its own setting, set by its admin through
 * the API (validated, audited, admin only), and every export of its reports carries it: two
 * agencies on one server export with their own agency numbers; an agency without settings cannot
 * lock a report, and its crew is told why. Real Fastify, real SQLite, the product's workflows with
 * the real XSD and national Schematron.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { nemsisArtifactKey } from '../../../server/hooks/workflows/index.ts';
import { sharedSchematronValidator } from '../../../server/nemsis/schematron.ts';
import { ADMIN, EPCRS, pathOf, patternOf, STATE_REPORTING, type Role } from '../../../shared/protocol/index.ts';
import { validateEmsDataSetXsd } from '../../../server/nemsis/validate.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { completeEpcr, FAST_HOOKS, pushBody, rawPush, stored, xsdDir } from '../hooks/support.ts';

const A = 'agency-danbury';
const B = 'agency-brewster';
const NONE = 'agency-unset';
const token = (role: Role, tenantId: string) => devToken({ tenantId, role, deviceId: `${role}-1`, ...(role === 'crew' ? { subject: 'M7' } : {}) });

let server: TestServer;
beforeAll(async () => {
  await sharedSchematronValidator({ nemsisDir: xsdDir }).ready();
  server = await startTestServer({ nemsisXsdDir: xsdDir, hookRunner: FAST_HOOKS });
}, 600_000);
afterAll(async () => { await server?.close(); });

async function call(method: string, path: string, role: Role, tenantId: string, body?: unknown) {
  const response = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token(role, tenantId)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: response.status, body: json };
}

const brewster = () => ({
  ...demoAgencySettings(), name: 'Brewster Volunteer Ambulance', stateId: 'NY-B17', agencyNumber: 'B-0042', state: 'NY',
  serviceAreaCounties: ['36079'], serviceAreaZips: ['10509'],
});

describe('agency settings: the admin API', () => {
  it('only an admin reads or changes them; before the first save the agency is told how to set them', async () => {
    expect((await call('GET', pathOf(ADMIN.agency), 'crew', A)).status).toBe(403);
    const put = await call('PUT', pathOf(ADMIN.putAgency), 'biller', A, demoAgencySettings());
    expect(put.status).toBe(403);
    expect(put.body.error.code).toBe('FORBIDDEN');
    const none = await call('GET', pathOf(ADMIN.agency), 'admin', A);
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('AGENCY_NOT_CONFIGURED');
    expect(none.body.error.message).toContain(`PUT ${patternOf(ADMIN.putAgency)}`);
  });

  it('refuses invalid settings naming every problem, and changes nothing', async () => {
    const bad = await call('PUT', pathOf(ADMIN.putAgency), 'admin', A, {
      ...demoAgencySettings(), state: 'ZZ', agencyNumber: 'X'.repeat(16), primaryService: 'Ambulance', colour: 'red', callbackPhone: '123-555-0142',
      stateSubmission: { endpoint: 'ftp://state.example.gov', username: 'u', organization: 'o' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_AGENCY_SETTINGS');
    const messages = (bad.body.error.details as { message: string }[]).map((d) => d.message);
    expect(messages).toEqual(expect.arrayContaining([
      'colour is not an agency setting (known: name, stateId, agencyNumber, state, serviceAreaCounties, serviceAreaZips, primaryService, levelOfService, organizationStatus, organizationType, taxStatus, npi, callbackPhone, procedures, medications, protocols, emd, contacts, facilities, stateSubmission, billing, dispatch, map, orderIntake, jobChecklists, favourites)',
      'agencyNumber must be text of 1 to 15 characters',
      'state "ZZ" is neither a two-digit ANSI state code nor a USPS abbreviation',
      'primaryService "Ambulance" is not a NEMSIS code of dAgency.09',
      'callbackPhone must look like 203-555-0142 (the number a hospital calls to reach a unit)',
      "stateSubmission.endpoint must be the http(s) URL of the state's NEMSIS web service",
    ]));
    expect((await call('GET', pathOf(ADMIN.agency), 'admin', A)).status).toBe(404);
  });

  it('saves them, answers them back without the submission password, keeps the password when it is not sent again, and audits each change', async () => {
    const saved = await call('PUT', pathOf(ADMIN.putAgency), 'admin', A, {
      ...demoAgencySettings(), state: 'CT',
      stateSubmission: { endpoint: 'https://nemsis.ct.example.gov/ws', username: 'danbury', organization: 'C034', password: 's3cret-pass' },
    });
    expect(saved.status).toBe(200);
    // The USPS abbreviation is kept as the ANSI code the exports carry.
    expect(saved.body.settings.state).toBe('09');
    expect(saved.body.settings.stateSubmission).toEqual({ endpoint: 'https://nemsis.ct.example.gov/ws', username: 'danbury', organization: 'C034', automatic: false, passwordSet: true });
    expect(JSON.stringify(saved.body)).not.toContain('s3cret-pass');

    const again = await call('PUT', pathOf(ADMIN.putAgency), 'admin', A, {
      ...demoAgencySettings(), stateSubmission: { endpoint: 'https://nemsis.ct.example.gov/ws2', username: 'danbury', organization: 'C034' },
    });
    expect(again.body.settings.stateSubmission.passwordSet).toBe(true);
    const read = await call('GET', pathOf(ADMIN.agency), 'admin', A);
    expect(read.status).toBe(200);
    expect(read.body.settings).toMatchObject({ stateId: 'C034', agencyNumber: '351-C034P2', state: '09', callbackPhone: '203-555-0119', stateSubmission: { endpoint: 'https://nemsis.ct.example.gov/ws2', passwordSet: true } });
    expect(Date.parse(read.body.updatedAt)).toBeGreaterThan(0);

    const audit = await call('GET', `${pathOf(ADMIN.audit)}?limit=50`, 'admin', A);
    const changes = (audit.body.entries as { action: string; details: Record<string, unknown> }[]).filter((e) => e.action === 'agency_settings_update');
    expect(changes).toHaveLength(2);
    expect(changes[0]!.details).toMatchObject({ changed: ['stateSubmission'], agencyNumber: '351-C034P2' });
    expect(JSON.stringify(changes)).not.toContain('s3cret-pass');
    // Another agency's admin sees none of it.
    expect((await call('GET', pathOf(ADMIN.agency), 'admin', B)).status).toBe(404);
  });
});

describe('every export carries its own agency\'s identity', () => {
  async function finalize(tenantId: string, extra: Partial<Epcr> = {}): Promise<Epcr> {
    const report = completeEpcr(tenantId, 'M7', extra);
    await rawPush(server, token('crew', tenantId), 'epcrs', pushBody(report));
    return eventually(`the finalize decision of ${tenantId}`, async () => {
      const doc = await stored(server, 'epcrs', tenantId, report.id);
      return doc && (doc.lockedAt || (doc.status === 'draft' && (doc.finalizeErrors?.length ?? 0) > 0)) ? doc as Epcr : undefined;
    }, 60_000);
  }

  async function exported(tenantId: string, id: string): Promise<string> {
    await eventually('the NEMSIS export', () => server.app.store.getArtifact(nemsisArtifactKey(id), tenantId), 60_000);
    const response = await fetch(server.url + pathOf(EPCRS.nemsisXml, { id }), { headers: { authorization: `Bearer ${token('biller', tenantId)}` } });
    expect(response.status).toBe(200);
    return response.text();
  }

  it('a second agency on the same server exports with its own state ID, agency number and state', async () => {
    expect((await call('PUT', pathOf(ADMIN.putAgency), 'admin', B, brewster())).status).toBe(200);
    // The Brewster crew's report leaves eResponse.01 to the agency (the form's field left empty).
    const base = completeEpcr(B, 'M7');
    const a = await finalize(A);
    const b = await finalize(B, { response: { ...base.response, agencyNumber: undefined } as Epcr['response'] });
    expect(a.lockedAt).toBeDefined();
    expect(b.lockedAt).toBeDefined();
    const xmlA = await exported(A, a.id);
    const xmlB = await exported(B, b.id);
    expect(xmlA).toContain('<dAgency.01>C034</dAgency.01>');
    expect(xmlA).toContain('<dAgency.02>351-C034P2</dAgency.02>');
    expect(xmlA).toContain('<dAgency.04>09</dAgency.04>');
    expect(xmlB).toContain('<dAgency.01>NY-B17</dAgency.01>');
    expect(xmlB).toContain('<dAgency.02>B-0042</dAgency.02>');
    expect(xmlB).toContain('<dAgency.04>36</dAgency.04>');
    expect(xmlB).toContain('<eResponse.01>B-0042</eResponse.01>');
    expect(xmlB).not.toContain('351-C034P2');
  }, 120_000);

  it('a changed agency number applies to the next lock; a batch file of the period keeps each report under the identity it was exported with', async () => {
    const before = await finalize(A);
    await exported(A, before.id);
    expect((await call('PUT', pathOf(ADMIN.putAgency), 'admin', A, { ...demoAgencySettings(), agencyNumber: '351-C034P9' })).status).toBe(200);
    const after = await finalize(A);
    expect(await exported(A, after.id)).toContain('<dAgency.02>351-C034P9</dAgency.02>');
    const from = encodeURIComponent(new Date(Date.parse(before.lockedAt!) - 1000).toISOString());
    const to = encodeURIComponent(new Date(Date.parse(after.lockedAt!) + 1000).toISOString());
    const response = await fetch(`${server.url}${pathOf(STATE_REPORTING.emsBatch)}?from=${from}&to=${to}`, { headers: { authorization: `Bearer ${token('biller', A)}` } });
    expect(response.status).toBe(200);
    const xml = await response.text();
    const headers = xml.split('<Header>').slice(1);
    expect(headers).toHaveLength(2);
    const withReport = (id: string) => headers.find((h) => h.includes(`<PatientCareReport UUID="${id}">`))!;
    expect(withReport(before.id)).toContain('<dAgency.02>351-C034P2</dAgency.02>');
    expect(withReport(after.id)).toContain('<dAgency.02>351-C034P9</dAgency.02>');
    expect((await validateEmsDataSetXsd(xml, { xsdDir })).errors).toEqual([]);
  }, 120_000);

  it('an agency whose admin has not set its identity cannot lock a report: the crew is told why, and it stays a draft', async () => {
    const refused = await finalize(NONE);
    expect(refused.lockedAt).toBeUndefined();
    expect(refused.finalizeErrors).toEqual([{
      path: 'nemsis.dAgency.02',
      message: `Your agency's NEMSIS identity (state ID, agency number, state) is not set, so no export the state accepts can be made: ask your administrator to set it (PUT ${patternOf(ADMIN.putAgency)}). The report stays open; finalize again afterwards (dAgency.02)`,
    }]);
  }, 120_000);
});

describe('a server that limits where agencies may submit (STATE_ENDPOINT_HOSTS)', () => {
  it('refuses an endpoint on another host, and takes the state\'s own', async () => {
    const limited = await startTestServer({ stateEndpointHosts: ['nemsis.ct.example.gov'] });
    try {
      const send = (endpoint: string) => fetch(limited.url + pathOf(ADMIN.putAgency), {
        method: 'PUT', headers: { authorization: `Bearer ${token('admin', A)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...demoAgencySettings(), stateSubmission: { endpoint, username: 'danbury', organization: 'C034', password: 'pw-123' } }),
      }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
      const internal = await send('http://169.254.169.254/latest/meta-data');
      expect(internal.status).toBe(400);
      expect(internal.body.error.details).toEqual([{ message: 'stateSubmission.endpoint: this server may call only the state web services at nemsis.ct.example.gov (server setting STATE_ENDPOINT_HOSTS)' }]);
      expect((await send('https://nemsis.ct.example.gov/ws')).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
