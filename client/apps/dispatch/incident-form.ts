/**
 * The incident form's fields (the new-incident form and the board's edit of a call): the path
 * each writes and what each refuses, in words, at the field.
 */
export const NEW_INCIDENT_PATHS = {
  incidentNumber: 'incidentNumber', complaint: 'complaint', priority: 'priority', street: 'address.street', city: 'address.city',
  zip: 'address.zip', lat: 'location.lat', lng: 'location.lng', capability: 'requiredCapability', unit: 'assignedUnitId',
} as const;

/** The longest text each typed field of the form takes (the incidents schema: incidentNumber 50, shortText 200). */
export const NEW_INCIDENT_MAX: Partial<Record<keyof typeof NEW_INCIDENT_PATHS, number>> = { incidentNumber: 50, complaint: 200, street: 200, city: 200 };
export const ZIP = /^[0-9]{5}(-[0-9]{4})?$/;

export type NewIncidentForm = Record<keyof typeof NEW_INCIDENT_PATHS, string>;

/**
 * What is wrong with each field of the form, in words, by field (shown at that field). Over-long
 * text is refused, never cut: what is created is what the dispatcher typed.
 */
export function newIncidentProblems(form: NewIncidentForm): Partial<Record<keyof NewIncidentForm, string>> {
  const out: Partial<Record<keyof NewIncidentForm, string>> = {};
  if (!form.incidentNumber.trim()) out.incidentNumber = 'Give the incident number.';
  for (const [key, max] of Object.entries(NEW_INCIDENT_MAX) as [keyof NewIncidentForm, number][]) {
    const length = form[key].trim().length;
    if (length > max) out[key] = `At most ${max} characters; this has ${length}. Shorten it (nothing was cut).`;
  }
  if (form.zip.trim() && !ZIP.test(form.zip.trim())) out.zip = 'A ZIP code is 5 digits, or ZIP+4 (19104-1234).';
  const coordinate = (key: 'lat' | 'lng', name: string, limit: number) => {
    const raw = form[key].trim();
    if (raw === '') return undefined;
    const value = Number(raw);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(raw) || !Number.isFinite(value)) out[key] = `${name} is a number of decimal degrees (digits, a point, maybe a minus), e.g. ${key === 'lat' ? '39.9526' : '-75.1652'}.`;
    else if (Math.abs(value) > limit) out[key] = `${name} is between -${limit} and ${limit} degrees; ${raw} is outside.`;
    return value;
  };
  const lat = coordinate('lat', 'Latitude', 90);
  const lng = coordinate('lng', 'Longitude', 180);
  if (lat === undefined && lng !== undefined && !out.lng) out.lat = 'Give the latitude too (or clear the longitude).';
  if (lng === undefined && lat !== undefined && !out.lat) out.lng = 'Give the longitude too (or clear the latitude).';
  return out;
}

