/**
 * USPS abbreviation -> ANSI (FIPS 5-2) state code. NEMSIS state elements (dAgency.04, ePatient.08,
 * eScene.18, eDisposition.05) take the two-digit ANSI code, while addresses in the ePCR hold
 * whatever the crew or CAD typed, usually the postal abbreviation.
 */
const POSTAL_TO_ANSI: Readonly<Record<string, string>> = {
  AL: '01', AK: '02', AZ: '04', AR: '05', CA: '06', CO: '08', CT: '09', DE: '10', DC: '11', FL: '12',
  GA: '13', HI: '15', ID: '16', IL: '17', IN: '18', IA: '19', KS: '20', KY: '21', LA: '22', ME: '23',
  MD: '24', MA: '25', MI: '26', MN: '27', MS: '28', MO: '29', MT: '30', NE: '31', NV: '32', NH: '33',
  NJ: '34', NM: '35', NY: '36', NC: '37', ND: '38', OH: '39', OK: '40', OR: '41', PA: '42', RI: '44',
  SC: '45', SD: '46', TN: '47', TX: '48', UT: '49', VT: '50', VA: '51', WA: '53', WV: '54', WI: '55',
  WY: '56', AS: '60', FM: '64', GU: '66', MH: '68', MP: '69', PW: '70', PR: '72', UM: '74', VI: '78',
};

/** The ANSI code for a two-digit code or a postal abbreviation; undefined when it is neither. */
export function ansiStateCode(value: string): string | undefined {
  const trimmed = value.trim();
  if (/^[0-9]{2}$/.test(trimmed)) return trimmed;
  return POSTAL_TO_ANSI[trimmed.toUpperCase()];
}

/** The USPS abbreviation for a postal abbreviation or a two-digit ANSI code (X12 N402 wants the abbreviation); undefined when it is neither. */
export function postalStateCode(value: string): string | undefined {
  const trimmed = value.trim().toUpperCase();
  if (POSTAL_TO_ANSI[trimmed]) return trimmed;
  return Object.entries(POSTAL_TO_ANSI).find(([, ansi]) => ansi === trimmed)?.[0];
}
