/**
 * incident-created: a CAD incident assigned to a unit gets that unit's ePCR stub, prefilled from
 * the CAD (ems-domain §1.9) so the crew does not re-type it. The stub's id is derived from
 * (tenant, incident, unit): the crew's tablet adopts that UUID, and the stub is made once.
 */
import { isCodeOf } from '../../../shared/nemsis/codes.ts';
import type { Epcr, WireDoc } from '../../../shared/schemas/index.ts';
import type { EffectContext, Workflow } from '../types.ts';
import { fillEpcrTimes, timesMissingFrom } from './epcr-times.ts';
import { compact, read, stubEpcrId, nonBlankText, writeDoc, type Draft } from './support.ts';


export function stubFromIncident(
  tenantId: string,
  incident: WireDoc<'incidents'>,
  unitId: string,
  unit: WireDoc<'units'> | undefined,
): Draft<'epcrs'> {
  const response: Epcr['response'] = compact({
    incidentNumber: incident.incidentNumber,
    callSign: unit?.callSign,
    // A unit's capability and the call's priority are copied only when they are codes of their elements:
    // a CAD's own text ("P2", "ALS") in eDispatch.05 or eResponse.07 fails the XSD (issue 16).
    unitCapability: unit?.capability && isCodeOf('eResponse.07', unit.capability) ? unit.capability : undefined,
  });
  const priority = incident.priority && isCodeOf('eDispatch.05', incident.priority) ? incident.priority : undefined;
  const dispatch: Epcr['dispatch'] = compact({ complaint: incident.complaint, priority, cadRecordId: incident.cadRecordId });
  const scene: Epcr['scene'] = compact({ address: incident.address, location: incident.location });
  const times = timesMissingFrom(undefined, incident.timeline);
  return compact({
    id: stubEpcrId(tenantId, incident.id, unitId),
    tenantId,
    status: 'draft',
    unitId,
    incidentId: incident.id,
    response,
    ...(Object.keys(dispatch).length > 0 ? { dispatch } : {}),
    ...(Object.keys(scene).length > 0 ? { scene } : {}),
    ...(Object.keys(times).length > 0 ? { times, derived: { times } } : {}),
    _deleted: false,
  });
}

export function incidentCreatedWorkflow(): Workflow {
  return {
    name: 'incident-created',
    description: 'Creates the assigned unit\'s ePCR stub, prefilled from the CAD incident, when an incident gets (or changes) its assigned unit.',
    trigger: {
      collection: 'incidents',
      when: (change) => {
        const unitId = nonBlankText(change.after['assignedUnitId']);
        if (!unitId || change.after._deleted) return false;
        return change.before?.['assignedUnitId'] !== unitId;
      },
      key: (change) => `${change.id}:${String(change.after['assignedUnitId'])}`,
      data: (change) => ({ unitId: String(change.after['assignedUnitId']) }),
    },
    async run(ctx, payload) {
      const unitId = String(payload.data?.['unitId']);
      const incident = await read(ctx, 'incidents', payload.id);
      if (!incident) return;
      // Incidents name their unit by call sign (as CAD and crew tokens do), not by document id.
      const unit = await unitByCallSign(ctx, unitId);
      const stub = stubFromIncident(ctx.tenantId, incident, unitId, unit);
      // Never overwrite an ePCR that exists (the crew's, or a stub made before).
      await writeDoc(ctx, 'epcrs', stub.id, (current) => (current ? undefined : stub));
      // A timeline change committed while the stub was being made found no ePCR to fill; reading
      // the incident again after the stub exists closes that gap.
      const latest = await read(ctx, 'incidents', payload.id);
      await fillEpcrTimes(ctx, stub.id, latest?.timeline);
    },
  };
}

/** The newest live `units` document with this call sign, if the server has one. */
export async function unitByCallSign(ctx: EffectContext, callSign: string): Promise<WireDoc<'units'> | undefined> {
  let found: WireDoc<'units'> | undefined;
  let afterSeq = 0;
  for (;;) {
    const page = await ctx.store.pullScoped({
      collection: 'units', tenantId: ctx.tenantId, afterSeq, limit: 500,
      filter: { kind: 'where', anyOf: [[{ field: 'callSign', equals: callSign }]] },
    });
    for (const row of page.documents) {
      const doc = JSON.parse(row.json) as WireDoc<'units'>;
      if (!doc._deleted) found = doc;
    }
    if (page.documents.length < 500) return found;
    afterSeq = page.lastSeq;
  }
}
