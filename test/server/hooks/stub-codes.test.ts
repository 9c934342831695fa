/**
 * A CAD incident's own text is never copied into the ePCR where NEMSIS wants a code: a dispatch
 * console's "P2" in eDispatch.05 failed the XSD after the report had locked (issue 16). The
 * server's stub and the tablet's prefill copy a priority or a unit capability only when it is a
 * code of its element; the incident keeps its text.
 */
import { describe, expect, it } from 'vitest';
import { prefillFromCall } from '../../../client/apps/crew/report-content.ts';
import { stubFromIncident } from '../../../server/hooks/workflows/incident-created.ts';
import { codeOf } from '../../../shared/nemsis/codes.ts';
import type { Incident, WireDoc } from '../../../shared/schemas/index.ts';

const incident = (priority: string) => ({
  id: 'inc-1', tenantId: 't', rev: '1-a', incidentNumber: 'D1', status: 'dispatched', complaint: 'fall', priority, _deleted: false,
}) as unknown as WireDoc<'incidents'>;
const unit = (capability: string) => ({ id: 'u1', tenantId: 't', rev: '1-a', callSign: 'M1', capability, status: 'available', _deleted: false }) as unknown as WireDoc<'units'>;

describe('ePCR stub and prefill: codes only where NEMSIS wants codes', () => {
  it('a CAD priority text ("P2") and a capability text ("ALS") are left out; the complaint is kept', () => {
    const stub = stubFromIncident('t', incident('P2'), 'u1', unit('ALS'));
    expect(stub.dispatch).toEqual({ complaint: 'fall' });
    expect(stub.response?.unitCapability).toBeUndefined();
    expect(prefillFromCall(incident('P2') as unknown as Incident, 'M1').dispatch).toEqual({ complaint: 'fall' });
  });

  it('an eDispatch.05 code and an eResponse.07 code are copied as they are', () => {
    const emergent = codeOf('eDispatch.05', 'Emergent');
    const als = codeOf('eResponse.07', 'Ground Transport (ALS Equipped)');
    const stub = stubFromIncident('t', incident(emergent), 'u1', unit(als));
    expect(stub.dispatch?.priority).toBe(emergent);
    expect(stub.response?.unitCapability).toBe(als);
    expect(prefillFromCall(incident(emergent) as unknown as Incident, 'M1').dispatch?.priority).toBe(emergent);
  });
});
