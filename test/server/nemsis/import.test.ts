/**
 * Issue 16, item 6: NEMSIS's own PASS samples posted to the import as an agency's admin would
 * (real Fastify, SQLite, xmllint), then exported again from the reports they became: each
 * re-export passes the XSD and the national Schematron, and every national element that has a
 * value in the sample has the same values in the re-export (counted per sample and printed).
 * A file that fails the XSD is refused with the XSD's messages and nothing is written; the same
 * file twice writes once; a UUID of a report written here refuses the whole file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { nationalElements } from '../../../server/nemsis/coverage.ts';
import { buildEmsDataSetXml } from '../../../shared/nemsis/export/emsdataset.ts';
import { sharedSchematronValidator } from '../../../server/nemsis/schematron.ts';
import { validateEmsDataSet } from '../../../server/nemsis/validate.ts';
import { EPCRS, ErrorCode, pathOf, type Role } from '../../../shared/protocol/index.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { completeEpcr, FAST_HOOKS, pushBody, rawPush, stored, xsdDir } from '../hooks/support.ts';

const TENANT = 'agency-import';
const SAMPLES = ['2025-EMS-1-Overdose_v351.xml', '2025-EMS-3-MVC_v351.xml', '2025-EMS-5-CPMIH_v351.xml'] as const;
const token = (role: Role) => devToken({ tenantId: TENANT, role, deviceId: `${role}-1`, ...(role === 'crew' ? { subject: 'M3' } : {}) });
const sample = (name: string) => readFileSync(path.join(xsdDir, 'samples', name), 'utf8');

let server: TestServer;

beforeAll(async () => {
  await sharedSchematronValidator({ nemsisDir: xsdDir }).ready();
  server = await startTestServer({ nemsisXsdDir: xsdDir, hookRunner: FAST_HOOKS });
}, 600_000);
afterAll(async () => {
  await server?.close();
});

async function post(xml: string, role: Role = 'admin') {
  const response = await fetch(server.url + pathOf(EPCRS.nemsisImport), {
    method: 'POST', headers: { authorization: `Bearer ${token(role)}`, 'content-type': 'application/xml' }, body: xml,
  });
  return { status: response.status, body: await response.json() as any };
}

/** Per element, the values it has in the document (nil ones left out), in document order. */
function valuesByElement(xml: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of xml.matchAll(/<(e[A-Z][A-Za-z]+\.[0-9]{2})(?:\s[^>]*[^/])?>([^<]*)<\/\1>/g)) {
    const value = m[2]!.trim();
    if (value) out.set(m[1]!, [...(out.get(m[1]!) ?? []), value]);
  }
  return out;
}

const agencyOf = (xml: string) => ({
  stateId: /<dAgency.01>([^<]+)</.exec(xml)![1]!, agencyNumber: /<dAgency.02>([^<]+)</.exec(xml)![1]!, stateCode: /<dAgency.04>([^<]+)</.exec(xml)![1]!,
});

const PCR_UUID = (xml: string) => /<PatientCareReport UUID="([^"]+)"/.exec(xml)![1]!;
const countEpcrs = () => server.app.store.countDocuments('epcrs', TENANT);

describe('NEMSIS import (POST EPCRS.nemsisImport)', () => {
  const national = () => new Set(nationalElements(xsdDir).map((e) => e.id));

  for (const name of SAMPLES) {
    it(`${name}: imports as one report and re-exports passing the XSD and the national Schematron, every national value kept`, async () => {
      const original = sample(name);
      const answer = await post(original);
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      expect(answer.body.imported).toHaveLength(1);
      const id = answer.body.imported[0].id as string;
      expect(id).toBe(PCR_UUID(original));
      const doc = await stored(server, 'epcrs', TENANT, id) as Epcr;
      expect(doc.status).toBe('draft');
      expect(doc.importedAt).toBeDefined();

      const reexport = buildEmsDataSetXml(doc, agencyOf(original));
      const check = await validateEmsDataSet(reexport, { nemsisDir: xsdDir });
      expect(check.xsdErrors, 'the re-export passes the XSD').toEqual([]);
      expect(check.schematronErrors, 'and the national Schematron').toEqual([]);

      const nationalIds = national();
      const before = valuesByElement(original);
      const after = valuesByElement(reexport);
      const valued = (m: Map<string, string[]>) => [...m.keys()].filter((e) => nationalIds.has(e));
      const lost = valued(before).flatMap((element) => {
        const want = [...before.get(element)!].sort();
        const have = [...after.get(element) ?? []].sort();
        return JSON.stringify(want) === JSON.stringify(have) ? [] : [`${element}: ${JSON.stringify(want)} -> ${JSON.stringify(have)}`];
      });
      console.info(`[import round trip] ${name}: national elements with a value: original ${valued(before).length}, re-export ${valued(after).length} (${valued(before).filter((e) => after.has(e)).length} of the original's kept with the same values: ${valued(before).length - lost.length}); all elements with a value: original ${before.size}, re-export ${after.size}; XSD ok, Schematron errors ${check.schematronErrors.length}, warnings ${check.schematronWarnings.length}; not held (non-national): ${answer.body.imported[0].dropped.length}`);
      expect(lost, 'every national element keeps its values').toEqual([]);
      expect(valued(after).filter((e) => !before.has(e)), 'and the re-export invents none').toEqual([]);
    }, 120_000);
  }

  it('the same file again writes nothing (idempotent by the PatientCareReport UUID)', async () => {
    const original = sample(SAMPLES[0]);
    await post(original);
    const count = await countEpcrs();
    const again = await post(original);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ imported: [], alreadyImported: [PCR_UUID(original)] });
    expect(await countEpcrs()).toBe(count);
  }, 60_000);

  it('a file that fails the XSD (the official fail sample) is refused with the XSD\'s messages; nothing is written', async () => {
    const count = await countEpcrs();
    const answer = await post(sample('2025-EMS-FailXsd_v351.xml'));
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe(ErrorCode.NEMSIS_FILE_INVALID);
    expect(answer.body.error.message).toMatch(/XSD/);
    expect(answer.body.error.details.map((d: { message: string }) => d.message).join('\n')).toMatch(/eSituation/);
    expect(await countEpcrs()).toBe(count);
    const garbage = await post('<EMSDataSet xmlns="http://www.nemsis.org"><Header>');
    expect(garbage.status).toBe(422);
  }, 60_000);

  it('an admin enters the hospital outcome of a report (PUT EPCRS.outcome); the export carries it; a crew cannot, nor can an outcome that does not fit', async () => {
    const original = sample(SAMPLES[2]);
    await post(original);
    const id = PCR_UUID(original);
    const url = server.url + pathOf(EPCRS.outcome, { id });
    const put = (body: unknown, role: Role = 'admin') => fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${token(role)}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const outcome = {
      edDisposition: '09', hospitalDisposition: '01', edDiagnoses: ['S01.00XA'], edAdmittedAt: '2025-01-02T10:05:00-05:00',
      edProcedures: [{ id: 'e1', code: '0HQ0XZZ', performedAt: '2025-01-02T10:20:00-05:00' }],
    };
    expect((await put(outcome, 'crew')).status).toBe(403);
    expect((await put({ edDiagnoses: 'not a list' })).status).toBe(400);
    const answer = await put(outcome);
    expect(answer.status, await answer.clone().text()).toBe(200);
    const doc = await stored(server, 'epcrs', TENANT, id) as Epcr;
    expect(doc.outcome).toEqual(outcome);
    const xml = buildEmsDataSetXml(doc, agencyOf(original));
    for (const [element, value] of [['eOutcome.01', '09'], ['eOutcome.02', '01'], ['eOutcome.10', 'S01.00XA'], ['eOutcome.09', '0HQ0XZZ'], ['eOutcome.19', '2025-01-02T10:20:00-05:00'], ['eOutcome.18', '2025-01-02T10:05:00-05:00']]) {
      expect(valuesByElement(xml).get(element!), element).toEqual([value]);
    }
    const check = await validateEmsDataSet(xml, { nemsisDir: xsdDir });
    expect([...check.xsdErrors, ...check.schematronErrors.map((e) => e.message)]).toEqual([]);
  }, 60_000);

  it('only an admin imports', async () => {
    const answer = await post(sample(SAMPLES[2]), 'crew');
    expect(answer.status).toBe(403);
  });

  it('a UUID naming a report written here refuses the whole file: the crew\'s report is untouched, no other report of the file is written', async () => {
    const report = completeEpcr(TENANT, 'M3', { status: 'draft' });
    await rawPush(server, token('crew'), 'epcrs', pushBody(report));
    const before = await stored(server, 'epcrs', TENANT, report.id);
    expect(before).toBeDefined();
    // A file of two reports: a new one, and one under the crew's report's id.
    const fresh = sample(SAMPLES[1]).replace(/UUID="[^"]+"/, 'UUID="0b0b0b0b-1111-4222-8333-444444444444"');
    const clashing = sample(SAMPLES[1]).replace(/UUID="[^"]+"/, `UUID="${report.id}"`);
    const pcr = (xml: string) => /<PatientCareReport[\s\S]*<\/PatientCareReport>/.exec(xml)![0];
    const file = fresh.replace(pcr(fresh), `${pcr(fresh)}\n${pcr(clashing)}`);
    const count = await countEpcrs();
    const answer = await post(file);
    expect(answer.status, JSON.stringify(answer.body)).toBe(409);
    expect(answer.body.error.code).toBe(ErrorCode.IMPORT_CONFLICT);
    expect(answer.body.error.message).toContain(report.id);
    expect(await countEpcrs()).toBe(count);
    expect(await stored(server, 'epcrs', TENANT, report.id)).toEqual(before);
  }, 60_000);
});
