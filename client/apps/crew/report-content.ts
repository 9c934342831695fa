/**
 * What a report starts with (for a call: prefilled from the CAD incident like the server's stub),
 * and whether a report still holds only that (nothing typed), so an accidental report can be
 * discarded without losing anything. Pure: no database.
 */
import { isCodeOf } from '../../../shared/nemsis/codes.ts';
import type { Epcr, Incident } from '../../../shared/schemas/index.ts';

const compact = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ''));

/** What a report for `incident` starts with (response, dispatch, scene, times), as the tablet and the server fill it. */
export function prefillFromCall(incident: Incident, unitId: string): Partial<Epcr> {
  // Only an eDispatch.05 code is the report's priority; a CAD's own text ("P1") stays on the incident.
  const priority = incident.priority && isCodeOf('eDispatch.05', incident.priority) ? incident.priority : undefined;
  const dispatch = compact({ complaint: incident.complaint, priority, cadRecordId: incident.cadRecordId });
  const scene = compact({ address: incident.address, location: incident.location });
  const times = compact({ ...(incident.timeline ?? {}) });
  return {
    response: compact({ incidentNumber: incident.incidentNumber, callSign: unitId, vehicleNumber: unitId }),
    ...(Object.keys(dispatch).length ? { dispatch } : {}),
    ...(Object.keys(scene).length ? { scene } : {}),
    ...(Object.keys(times).length ? { times } : {}),
  } as Partial<Epcr>;
}

/**
 * Fields that say what the report is and where it belongs, never typed into the form: also who
 * wrote last (`lastEdit`, stamped on every write, client/sync/writes.ts) and the workflows' copy
 * of what they stamped (`derived`).
 */
const BOOKKEEPING = new Set(['id', 'tenantId', 'rev', 'status', 'unitId', 'incidentId', 'addendumOf', 'conflicts', 'finalizeErrors', 'lastEdit', 'derived', '_deleted', '_meta', '_rev', '_attachments']);

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** No value at all: absent, empty text, an empty list, or an object of such. */
function blank(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.values(value).every(blank);
  return false;
}

/** Every value of `part` is the same in `given` (a prefilled section the crew may have left alone). */
function within(part: unknown, given: unknown): boolean {
  if (part && typeof part === 'object' && !Array.isArray(part)) {
    if (!given || typeof given !== 'object') return false;
    return Object.entries(part).every(([k, v]) => blank(v) || within(v, (given as Record<string, unknown>)[k]));
  }
  return canonical(part) === canonical(given);
}

/**
 * Whether nothing in the report was typed by a person: a draft, never finalized, whose every
 * value is one the app or the server prefilled (from its call, or, for an addendum, the amended
 * report's call details). A report with anything else is never offered for discarding.
 */
export function nothingTyped(epcr: Epcr, prefilled: Partial<Epcr> | undefined): boolean {
  if (epcr.status !== 'draft' || epcr.lockedAt !== undefined || (epcr.finalizeErrors?.length ?? 0) > 0) return false;
  return Object.entries(epcr).every(([key, value]) => {
    if (BOOKKEEPING.has(key) || value === undefined) return true;
    if (blank(value)) return true;
    return prefilled !== undefined && key in prefilled && within(value, (prefilled as Record<string, unknown>)[key]);
  });
}
