/**
 * The demo agency's billing settings (claims as 837P): a billing provider NPI with a valid check
 * digit (the CMS check-digit example, not a real provider), the land-ambulance taxonomy, a
 * clearinghouse in test mode, three payers and a fee schedule. Illustrative amounts, not any
 * payer's allowed charges.
 */
import type { AgencyBillingSettings } from '../agencies/billing-settings.ts';
import { CITY, CITY_GNIS } from './places.ts';

export function demoBillingSettings(): AgencyBillingSettings {
  return {
    npi: '1234567893',
    taxonomy: '3416L0300X', // Ambulance, Land Transport
    taxId: '061234567',
    address: { street: '19 New Street', city: CITY.city, state: CITY.state, zip: '068103904' },
    submitter: { id: 'DANBURYEMS', name: 'Danbury EMS', contactName: 'Billing Office', phone: '2037961559' },
    receiver: { id: 'CLEARINGHOUSE', name: 'Demo Clearinghouse' },
    payers: [
      { name: 'Medicare', payerId: '13202', filingIndicator: 'MB' },
      { name: 'Medicaid', payerId: 'CTMCD', filingIndicator: 'MC' },
      { name: 'Amica', payerId: '60054', filingIndicator: 'CI' },
    ],
    feeSchedule: {
      A0426: 60000, A0427: 85000, A0428: 45000, A0429: 70000, A0433: 120000, A0434: 140000, A0432: 50000,
      A0425: 1500, // per loaded mile
    },
    cityNames: { [CITY_GNIS]: CITY.city },
    usage: 'T',
  };
}
