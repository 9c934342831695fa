/**
 * Issue 16, item 4: an agency's DEMDataSet passes DEMDataSet_v3.xsd and the national DEM
 * Schematron with no error; the validator bites (the official sample passes, a service area
 * county outside the agency's state is the national error nemSch_d006, a service area without
 * counties fails the XSD).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { buildDemDataSetXml, type DemDataSetInput } from '../../../server/nemsis/demdataset.ts';
import { sharedSchematronValidator } from '../../../server/nemsis/schematron.ts';
import { validateDemDataSet } from '../../../server/nemsis/validate-dem.ts';
import { xsdDir } from '../hooks/support.ts';

const input = (): DemDataSetInput => ({
  tenantId: 'demo',
  settings: demoAgencySettings(),
  timeStamp: '2026-12-06T17:00:00-05:00',
  people: [
    { id: 'u-1', username: 'crew-m1', role: 'crew', displayName: 'Medic 1 crew' },
    { id: 'u-2', username: 'admin', role: 'admin' },
  ],
  vehicles: [{ id: 'v-1', callSign: 'M1' }, { id: 'v-2', callSign: 'M2' }],
});

beforeAll(async () => {
  // Compiled once per rules version (about a minute the first time on this machine), then cached.
  await sharedSchematronValidator({ nemsisDir: xsdDir, dataSet: 'DEMDataSet' }).ready();
}, 600_000);

describe('DEMDataSet export', () => {
  it('the demo agency\'s DEMDataSet passes the XSD and the national DEM Schematron, with no error and no warning', async () => {
    const xml = buildDemDataSetXml(input());
    const check = await validateDemDataSet(xml, { nemsisDir: xsdDir });
    expect(check.xsdErrors).toEqual([]);
    expect(check.schematronErrors).toEqual([]);
    expect(check.schematronWarnings.map((w) => w.rule)).toEqual([]);
    expect(check.valid).toBe(true);
    // What the agency said about itself, its vehicles, its people and its destinations.
    for (const value of ['<dAgency.02>351-C034P2</dAgency.02>', '<dAgency.06>09001</dAgency.06>', '<dConfiguration.09>7242</dConfiguration.09>',
      '<dConfiguration.16>M1</dConfiguration.16>', '<dVehicle.03>M2</dVehicle.03>', '<dPersonnel.21>crew-m1</dPersonnel.21>',
      '<dPersonnel.34>1534015</dPersonnel.34>', '<dPersonnel.34>1534001</dPersonnel.34>',
      '<dFacility.02>Danbury Hospital</dFacility.02>', '<dFacility.03>070033</dFacility.03>', '<dContact.02>Lehner</dContact.02>']) expect(xml).toContain(value);
  }, 120_000);

  it('is the same document every time (its group UUIDs are derived, and unique)', () => {
    const xml = buildDemDataSetXml(input());
    expect(buildDemDataSetXml(input())).toBe(xml);
    const uuids = [...xml.matchAll(/UUID="([^"]+)"/g)].map((m) => m[1]);
    expect(uuids.length).toBeGreaterThan(8);
    expect(new Set(uuids).size).toBe(uuids.length);
  });

  it('the validator bites: the official DEM sample passes, a county of another state is nemSch_d006, no county fails the XSD', async () => {
    const sample = readFileSync(path.join(xsdDir, 'samples', '2025-DEM-1_v351.xml'), 'utf8');
    const official = await validateDemDataSet(sample, { nemsisDir: xsdDir });
    expect(official.xsdErrors).toEqual([]);
    expect(official.schematronErrors).toEqual([]);

    const wrongCounty = await validateDemDataSet(buildDemDataSetXml({ ...input(), settings: { ...demoAgencySettings(), serviceAreaCounties: ['36079'] } }), { nemsisDir: xsdDir });
    expect(wrongCounty.valid).toBe(false);
    expect(wrongCounty.schematronErrors.map((e) => e.rule)).toEqual(['nemSch_d006']);

    const noCounty = await validateDemDataSet(buildDemDataSetXml({ ...input(), settings: { ...demoAgencySettings(), serviceAreaCounties: [] } }), { nemsisDir: xsdDir });
    expect(noCounty.valid).toBe(false);
    expect(noCounty.xsdErrors.join('\n')).toContain('dAgency.06');
  }, 120_000);
});
