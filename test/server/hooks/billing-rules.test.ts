import { describe, expect, it } from 'vitest';
import {
  billingFieldsFromEpcr, billingStatusFor, destinationTypeFor, originTypeFor, roundLoadedMiles, SERVICE_LEVELS,
} from '../../../server/hooks/workflows/billing.ts';
import { ambulanceClaimFieldsFromEpcr } from '../../../server/hooks/workflows/billing-ambulance.ts';
import { claimLines } from '../../../server/hooks/workflows/claims.ts';
import { offsetDateTime } from '../../../server/hooks/workflows/support.ts';
import { distanceM } from '../../../shared/domain/distance.ts';
import { chooseTechnician } from '../../../server/hooks/workflows/technicians.ts';
import { overdoseEpcr } from '../nemsis/fixtures.ts';

describe('billing record from an ePCR', () => {
  it('maps every CMS service level (ePayment.50) to its HCPCS base and mileage codes', () => {
    const table = Object.fromEntries(Object.entries(SERVICE_LEVELS).map(([code, l]) => [code, `${l.name} ${l.hcpcsBase} ${l.hcpcsMileage ?? '-'}`]));
    expect(table).toEqual({
      '2650001': 'ALS1 A0426 A0425',
      '2650003': 'ALS1-EMERGENCY A0427 A0425',
      '2650005': 'ALS2 A0433 A0425',
      '2650007': 'BLS A0428 A0425',
      '2650009': 'BLS-EMERGENCY A0429 A0425',
      '2650011': 'FW A0430 A0435',
      '2650013': 'PI A0432 -',
      '2650015': 'SCT A0434 A0425',
      '2650017': 'RW A0431 A0436',
    });
  });

  it('rounds loaded miles up to a tenth below 100 miles and to a whole mile from 100 on', () => {
    const cases: [number, number][] = [
      [1.43, 1.5], [1.4, 1.4], [0.9, 0.9], [0.04, 0.1], [0, 0], [2.01, 2.1], [7.21, 7.3], [99.91, 100], [99.95, 100],
      [100, 100], [100.01, 101], [100.2, 101], [250.99, 251],
    ];
    for (const [miles, billed] of cases) expect([miles, roundLoadedMiles(miles)]).toEqual([miles, billed]);
    expect(roundLoadedMiles(-1)).toBeUndefined();
    expect(roundLoadedMiles(undefined)).toBeUndefined();
  });

  it('derives the origin from the scene location type and the destination from the destination type', () => {
    expect(originTypeFor('Y92.009')).toBe('R'); // private home
    expect(originTypeFor('Y92.129')).toBe('N'); // nursing home
    expect(originTypeFor('Y92.239')).toBe('H'); // hospital
    expect(originTypeFor('Y92.481')).toBe('S'); // parking lot: the scene
    expect(originTypeFor(undefined)).toBe('S');
    // A transfer out of a hospital starts at a hospital even without a place of occurrence (before: every trip a scene pickup).
    expect(originTypeFor(undefined, '2205005')).toBe('H'); // Hospital-to-Hospital Transfer
    expect(originTypeFor('Y92.009', '2205005')).toBe('R'); // a recorded place wins
    expect(destinationTypeFor('4221003')).toBe('H');
    expect(destinationTypeFor('4221041')).toBe('N');
    expect(destinationTypeFor('4221001')).toBe('R');
    expect(destinationTypeFor('4221009')).toBeUndefined(); // morgue: no letter
  });

  it('builds the whole record of a 911 transport and calls it ready only once the report is locked', () => {
    const epcr = overdoseEpcr();
    epcr.disposition!.loadedMiles = 7.21;
    const fields = billingFieldsFromEpcr(epcr);
    expect(fields).toEqual({
      serviceLevel: 'ALS1-EMERGENCY', hcpcsBase: 'A0427', hcpcsMileage: 'A0425', loadedMiles: 7.3,
      originType: 'S', destinationType: 'H', modifier: 'SH', pickupZip: '06810',
      dropoffAddress: epcr.disposition!.destinationAddress, payer: 'Medicare', icd10: ['T40.2X1A', 'F11.20'],
      // What the 837P needs beyond the codes: the scene as the pick-up location; stretcher (04), GCS 6 unconscious (05),
      // emergent response (06); taken to the nearest facility (A). No collision, so no accident indicator.
      pickupAddress: epcr.scene!.address, conditionCodes: ['04', '05', '06'], transportReason: 'A',
    });
    expect(billingStatusFor(epcr, fields)).toBe('draft');
    expect(billingStatusFor({ ...epcr, lockedAt: '2024-10-07T22:00:00-04:00' }, fields)).toBe('ready');
    expect(billingStatusFor({ ...epcr, lockedAt: '2024-10-07T22:00:00-04:00' }, { ...fields, modifier: undefined })).toBe('draft');
  });
});

describe('claim lines', () => {
  const billing = { id: 'b', tenantId: 't', rev: '1-a', epcrId: 'e', status: 'ready', hcpcsBase: 'A0429', hcpcsMileage: 'A0425', modifier: 'RH', loadedMiles: 4.2, _deleted: false } as const;
  it('are the base code and the loaded miles, both with the origin/destination modifier', () => {
    expect(claimLines(billing)).toEqual([{ code: 'A0429', modifier: 'RH', units: 1 }, { code: 'A0425', modifier: 'RH', units: 4.2 }]);
  });
  it('have no mileage line without loaded miles or for paramedic intercept', () => {
    expect(claimLines({ ...billing, loadedMiles: 0 })).toEqual([{ code: 'A0429', modifier: 'RH', units: 1 }]);
    expect(claimLines({ ...billing, hcpcsBase: 'A0432', hcpcsMileage: undefined })).toEqual([{ code: 'A0432', modifier: 'RH', units: 1 }]);
  });
});

describe('times the server writes', () => {
  it('always carry an explicit offset, never Z', () => {
    const at = new Date('2026-03-01T15:04:05.678Z');
    expect(offsetDateTime(at, -300)).toBe('2026-03-01T10:04:05-05:00');
    expect(offsetDateTime(at, 0)).toBe('2026-03-01T15:04:05+00:00');
    expect(offsetDateTime(at, 330)).toBe('2026-03-01T20:34:05+05:30');
    expect(offsetDateTime(at)).toMatch(/[+-][0-9]{2}:[0-9]{2}$/);
  });
});

describe('technician choice', () => {
  const site = { lat: 41.39, lng: -73.45 };
  it('is the nearest technician by last known position', () => {
    expect(distanceM({ lat: 0, lng: 0 }, { lat: 0, lng: 1 })).toBeCloseTo(111_195, -2);
    expect(chooseTechnician([
      { id: 'far', position: { lat: 41.6, lng: -73.1 }, openJobs: 0 },
      { id: 'near', position: { lat: 41.395, lng: -73.45 }, openJobs: 3 },
    ], site)).toBe('near');
  });

  it('among technicians about as near, the least loaded one', () => {
    expect(chooseTechnician([
      { id: 'busy', position: { lat: 41.3901, lng: -73.45 }, openJobs: 2 },
      { id: 'free', position: { lat: 41.3905, lng: -73.45 }, openJobs: 0 },
    ], site)).toBe('free');
  });

  it('nobody known: nobody chosen; no site position: the least loaded', () => {
    expect(chooseTechnician([], site)).toBeUndefined();
    expect(chooseTechnician([
      { id: 'a', position: { lat: 1, lng: 1 }, openJobs: 1 },
      { id: 'b', position: { lat: 50, lng: 50 }, openJobs: 0 },
    ], undefined)).toBe('b');
  });
});

describe('837P fields a report gives', () => {
  it('marks a motor-vehicle collision as an auto accident with the call\'s date and the scene\'s state, from the dispatch reason or a V-code impression', () => {
    const crash = overdoseEpcr();
    crash.dispatch = { ...crash.dispatch, reason: '2301069' }; // Traffic/Transportation Incident
    expect(ambulanceClaimFieldsFromEpcr(crash, 'BLS-EMERGENCY')).toMatchObject({ accidentCause: 'AA', accidentDate: '2024-10-07', accidentState: 'CT' });
    const coded = overdoseEpcr();
    coded.situation = { ...coded.situation, secondaryImpressions: ['V43.52XA'] };
    expect(ambulanceClaimFieldsFromEpcr(coded, 'ALS1-EMERGENCY')).toMatchObject({ accidentCause: 'AA' });
    expect(ambulanceClaimFieldsFromEpcr(overdoseEpcr(), 'ALS1-EMERGENCY').accidentCause).toBeUndefined();
  });
});
