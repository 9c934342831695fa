/**
 * Starting a report for a call: prefilled from the CAD incident like the server's stub, with the
 * same id, so the two are one report.
 */
import type { Incident } from '../../../shared/schemas/index.ts';
import { write } from '../../ui/db.ts';
import { deviceIds } from '../../ui/ids.ts';
import type { Session } from '../../session/identity.ts';
import { prefillFromCall } from './report-content.ts';

export async function startReport(session: Session, incident: Incident): Promise<string> {
  const unitId = session.user.unitId ?? 'unknown';
  const id = await deviceIds.stubEpcrIdFor(session.user.tenantId, incident.id, unitId);
  await write.upsert('epcrs', { id, tenantId: session.user.tenantId, status: 'draft', unitId, incidentId: incident.id, ...prefillFromCall(incident, unitId) });
  return id;
}
