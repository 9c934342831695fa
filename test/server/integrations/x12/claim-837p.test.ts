/**
 * The 837P writer and its structure check (issue 16, item 7): a claim made from plain data
 * passes the implementation-guide check, and the check bites on the mistakes a payer's front end
 * rejects (so the workflow's "validate before sending" is not a check that cannot fail).
 */
import { describe, expect, it } from 'vitest';
import { build837p, type Claim837Input } from '../../../../server/integrations/x12/claim-837p.ts';
import { isValidNpi } from '../../../../server/integrations/x12/npi.ts';
import { parseX12 } from '../../../../server/integrations/x12/parse.ts';
import { validate837p } from '../../../../server/integrations/x12/validate-837p.ts';

function input(overrides: Partial<Claim837Input['claim']> = {}): Claim837Input {
  return {
    control: { interchange: '000000123', transactionSet: '0001', createdAt: { date: '2026-12-06', time: '1830' }, usage: 'T' },
    submitter: { id: 'DANBURYEMS', name: 'Danbury EMS', contactName: 'Billing Office', phone: '203-796-1559' },
    receiver: { id: 'CLEARHOUSE', name: 'Clearinghouse' },
    billingProvider: { name: 'Danbury EMS', npi: '1234567893', taxonomy: '3416L0300X', taxId: '06-1234567', address: { street: '1 Main St', city: 'Danbury', state: 'CT', zip: '06810' } },
    subscriber: { lastName: "O'Connor", firstName: 'Séan', memberId: '1EG4TE5MK73', dateOfBirth: '1970-03-01', sex: 'M', address: { street: '5 Elm*St~', city: 'Danbury', state: 'CT', zip: '06810' } },
    payer: { name: 'Medicare Part B', id: '13202', filingIndicator: 'MB' },
    claim: {
      patientControlNumber: 'ABCDEF0123456789ABCD', frequencyCode: '1', placeOfService: '41', serviceDate: '2026-12-06', patientSignature: 'signed',
      ambulance: { weightLbs: 180, transportReason: 'A', miles: 3.2 }, certification: { met: true, conditionCodes: ['06', '04'] }, pcsOnFile: false,
      diagnoses: ['T40.2X1A', 'R06.00'],
      pickup: { street: '10 White St', city: 'Danbury', state: 'CT', zip: '06810' },
      dropoff: { name: 'Danbury Hospital', street: '24 Hospital Ave', city: 'Danbury', state: 'CT', zip: '06810' },
      ...overrides,
    },
    lines: [{ hcpcs: 'A0427', modifiers: ['SH'], chargeCents: 85000, units: 1 }, { hcpcs: 'A0425', modifiers: ['SH'], chargeCents: 4800, units: 3.2 }],
  };
}

const segmentsOf = (file: string) => parseX12(file).segments.map((s) => [s.id, ...s.elements].join('*'));

describe('837P writer', () => {
  it('writes a claim that passes the implementation-guide structure check, with counts and control numbers that match', () => {
    const file = build837p(input());
    expect(validate837p(file)).toEqual([]);
    const segments = segmentsOf(file);
    expect(segments.at(-3)).toBe(`SE*${segments.length - 4}*0001`);
    expect(segments.at(-1)).toBe('IEA*1*000000123');
    expect(segments).toContain('CLM*ABCDEF0123456789ABCD*898***41:B:1*Y*A*Y*Y');
    expect(segments).toContain('SV1*HC:A0425:SH*48*UN*3.2***1:2');
    // Separators inside a value would split it: the street's * and ~ became spaces, the accent was dropped.
    expect(segments).toContain('N3*5 ELM ST');
    expect(segments).toContain("NM1*IL*1*O'CONNOR*SEAN****MI*1EG4TE5MK73");
  });

  it('the check finds a wrong NPI check digit, segment count, loop order, modifier and a missing accident date', () => {
    const good = build837p(input({ accident: { cause: 'AA', date: '2026-12-06', state: 'CT' } }));
    expect(validate837p(good)).toEqual([]);
    expect(validate837p(good.replace('XX*1234567893', 'XX*1234567894')).join('\n')).toMatch(/not an NPI with a valid check digit/);
    expect(validate837p(good.replace(/\nSE\*\d+\*/, '\nSE*12*')).join('\n')).toMatch(/SE01 says 12 segments/);
    expect(validate837p(good.replace('IEA*1*000000123', 'IEA*1*000000124')).join('\n')).toMatch(/IEA02 000000124 does not match ISA13/);
    // The payer loop moved before the subscriber's name.
    const swapped = good.replace(/(NM1\*IL[^~]*~\n)((?:N3|N4|DMG)[^~]*~\n(?:N3|N4|DMG)[^~]*~\n(?:N3|N4|DMG)[^~]*~\n)(NM1\*PR[^~]*~\n)/, '$3$1$2');
    expect(swapped).not.toBe(good);
    expect(validate837p(swapped).join('\n')).toMatch(/2010BA subscriber is required|not allowed where it stands/);
    expect(validate837p(good.replace('HC:A0427:SH', 'HC:A0427:ZH')).join('\n')).toMatch(/"ZH" is not an ambulance origin\/destination modifier/);
    expect(validate837p(good.replace('HC:A0427:SH', 'HC:A427:SH')).join('\n')).toMatch(/must be HC and a HCPCS code/);
    expect(validate837p(good.replace(/DTP\*439\*D8\*\d+~\n/, '')).join('\n')).toMatch(/needs the accident date \(DTP\*439\)/);
    expect(validate837p(good.replace('CLM*ABCDEF0123456789ABCD*898', 'CLM*ABCDEF0123456789ABCD*899')).join('\n')).toMatch(/not the sum of the line charges/);
    expect(validate837p(good.replace(/CR1\*[^~]*~\n/, '')).join('\n')).toMatch(/needs CR1/);
    expect(validate837p(good.replace(/DMG\*[^~]*~\n/, '')).join('\n')).toMatch(/2010BA: DMG is required when the patient is the subscriber/);
  });

  it('checks NPIs the CMS way (Luhn over 80840 + the first nine digits)', () => {
    expect(isValidNpi('1234567893')).toBe(true); // the CMS check-digit example
    expect(isValidNpi('1234567890')).toBe(false);
    expect(isValidNpi('123456789')).toBe(false);
  });
});
