/** How a report's state is said in the crew's lists (calls, history). */
import { callDay } from '../../../shared/epcr/call-day.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { clockOf } from '../../ui/time.ts';

export type ReportState = 'open' | 'finalized' | 'locked';

export function reportState(epcr: Epcr): ReportState {
  return epcr.lockedAt ? 'locked' : epcr.status === 'finalized' ? 'finalized' : 'open';
}

export function epcrStatusText(epcr: Epcr): string {
  if (epcr.lockedAt) return `Locked ${clockOf(epcr.lockedAt)}`;
  if (epcr.status === 'finalized') return 'Finalized, waiting for the server to check it';
  if (epcr.finalizeErrors?.length) return `Returned: ${epcr.finalizeErrors.length} thing${epcr.finalizeErrors.length === 1 ? '' : 's'} to fix`;
  return 'Draft';
}

export function patientName(epcr: Epcr): string | undefined {
  return [epcr.patient?.lastName, epcr.patient?.firstName].filter(Boolean).join(', ') || undefined;
}

/**
 * The report's date as the crew recorded it (`YYYY-MM-DD`, in the report's own offset): the
 * call's day (shared/epcr/call-day.ts), else the lock's.
 */
export function reportDate(epcr: Epcr): string | undefined {
  return callDay(epcr) ?? (epcr.lockedAt && /^\d{4}-\d{2}-\d{2}/.test(epcr.lockedAt) ? epcr.lockedAt.slice(0, 10) : undefined);
}
