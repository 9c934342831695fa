/**
 * An agency's billing settings (claims as 837P): the demo settings are accepted as saved, and the
 * mistakes that would make every claim bounce are refused when the admin saves them, each named.
 */
import { describe, expect, it } from 'vitest';
import { parseBillingSettings } from '../../../server/agencies/billing-settings.ts';
import { parseAgencySettings, InvalidAgencySettings } from '../../../server/agencies/settings.ts';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { demoBillingSettings } from '../../../server/demo/billing-settings.ts';

describe('agency billing settings', () => {
  it('keeps what the admin set, and converts an ANSI state code to its USPS abbreviation', () => {
    const problems: string[] = [];
    const parsed = parseBillingSettings({ ...demoBillingSettings(), address: { ...demoBillingSettings().address, state: '09' } }, problems);
    expect(problems).toEqual([]);
    expect(parsed).toEqual(demoBillingSettings());
    expect(parseAgencySettings(demoAgencySettings()).billing).toEqual(demoBillingSettings());
  });

  it('refuses an NPI with a wrong check digit, a fee that is not whole cents, an unknown code and an unknown filing indicator', () => {
    const body = {
      ...demoAgencySettings(),
      billing: {
        ...demoBillingSettings(), npi: '1234567890', feeSchedule: { A0427: 850.5, 'A42': 100 },
        payers: [{ name: 'Medicare', payerId: '13202', filingIndicator: 'XX' }],
      },
    };
    let error: unknown;
    try { parseAgencySettings(body); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(InvalidAgencySettings);
    const problems = (error as InvalidAgencySettings).problems.join('\n');
    expect(problems).toMatch(/billing\.npi 1234567890 is not a National Provider Identifier: its check digit is wrong/);
    expect(problems).toMatch(/billing\.feeSchedule\.A0427 must be a whole number of cents/);
    expect(problems).toMatch(/billing\.feeSchedule: "A42" is not a HCPCS code/);
    expect(problems).toMatch(/filingIndicator "XX" is not an X12 claim filing indicator code/);
  });
});
