/**
 * The report as amended: an addendum holds the corrected values (the crew re-enters a field to
 * correct it), so its values replace the original's, field by field; sections it does not
 * mention stay as they were. List items with an `id` (vitals, medications, procedures) are
 * matched by id, so an addendum can correct one vital set or add a late one without repeating
 * the rest. The addendum's own bookkeeping (id, status, lock, reason) never reaches the record.
 */
import { isPlainObject } from '../../../shared/merge/json.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';

const NOT_CONTENT: ReadonlySet<string> = new Set([
  'id', 'tenantId', 'rev', '_deleted', 'status', 'unitId', 'incidentId', 'addendumOf', 'addendumReason', 'lockedAt', 'finalizeErrors', 'finalizeWarnings', 'conflicts',
]);

export function amendedReport(original: Epcr, addenda: readonly Epcr[]): Epcr {
  const ordered = [...addenda].sort((a, b) => Date.parse(a.lockedAt!) - Date.parse(b.lockedAt!) || a.id.localeCompare(b.id));
  let report: Record<string, unknown> = { ...original };
  for (const addendum of ordered) {
    for (const [key, value] of Object.entries(addendum)) {
      if (NOT_CONTENT.has(key) || value === undefined) continue;
      report = { ...report, [key]: overlay(report[key], value) };
    }
  }
  return report as Epcr;
}

function overlay(base: unknown, over: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) out[key] = overlay(base[key], value);
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over) && [...base, ...over].every((item) => isPlainObject(item) && typeof item['id'] === 'string')) {
    const byId = new Map(base.map((item) => [(item as { id: string }).id, item]));
    for (const item of over as { id: string }[]) byId.set(item.id, overlay(byId.get(item.id), item));
    return [...byId.values()];
  }
  return over;
}
