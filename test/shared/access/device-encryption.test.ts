/**
 * Every collection the access declaration seals on devices (shared/access `sealedOnDevice`: its
 * queued copies are sealed, shared/crypto/envelope.ts) also stores its patient data encrypted in
 * the device's database (the schema's `encrypted`, client/sync/database.ts): issue #17 found the
 * incident's address, complaint and notes and the ePCR's dispatch complaint in clear in IndexedDB.
 * What stays in clear is what the apps select and sort by, ids and bookkeeping: listed here, so a
 * field added to such a collection fails this test until someone decides where it belongs.
 */
import { describe, expect, it } from 'vitest';
import { sealedOnDevice } from '../../../shared/access/policy.ts';
import { collectionSchemas } from '../../../shared/schemas/index.ts';

const CLEAR_ON_DEVICE: Record<string, string[]> = {
  epcrs: ['addendumOf', 'derived', 'finalizeErrors', 'id', 'importedAt', 'incidentId', 'lastEdit', 'lockedAt', 'record', 'response', 'rev', 'status', 'tenantId', 'times', 'unitId'],
  incidents: ['assignedUnitId', 'cadRecordId', 'closedAt', 'closedBy', 'id', 'incidentNumber', 'priority', 'requiredCapability', 'rev', 'status', 'tenantId', 'timeline', 'transportCompleted', 'type'],
  billing_records: ['destinationType', 'epcrId', 'hcpcsBase', 'hcpcsMileage', 'id', 'incidentId', 'loadedMiles', 'modifier', 'originType', 'rev', 'serviceLevel', 'status', 'tenantId'],
  claims: ['billingRecordId', 'correctionOf', 'epcrId', 'frequencyCode', 'holdReason', 'id', 'rev', 'status', 'submittedAt', 'tenantId'],
};

const schemas = collectionSchemas as unknown as Record<string, { properties: Record<string, unknown>; encrypted?: readonly string[] }>;
const sealed = Object.keys(schemas).filter((name) => sealedOnDevice(name));

describe('patient data encrypted on the device', () => {
  it('every collection sealed on the device stores all but its query and bookkeeping fields encrypted', () => {
    expect(sealed.sort()).toEqual(Object.keys(CLEAR_ON_DEVICE).sort());
    const clear = Object.fromEntries(sealed.map((name) => {
      const schema = schemas[name]!;
      return [name, Object.keys(schema.properties).filter((field) => !(schema.encrypted ?? []).includes(field)).sort()];
    }));
    expect(clear).toEqual(CLEAR_ON_DEVICE);
  });

  it('the fields issue #17 found in clear are among them: the incident\'s address, complaint, notes and location, the ePCR\'s dispatch complaint', () => {
    expect(schemas['incidents']!.encrypted).toEqual(expect.arrayContaining(['address', 'complaint', 'notes', 'location', 'conflicts']));
    expect(schemas['epcrs']!.encrypted).toEqual(expect.arrayContaining(['dispatch', 'patient', 'narrative', 'conflicts']));
  });

  it('no field a device selects or sorts by is encrypted (RxDB cannot query an encrypted field)', () => {
    const queried: Record<string, string[]> = {
      incidents: ['status', 'assignedUnitId', 'incidentNumber'], epcrs: ['unitId', 'incidentId', 'status', 'lockedAt', 'addendumOf'], claims: ['billingRecordId'],
    };
    for (const [name, fields] of Object.entries(queried)) for (const field of fields) expect(schemas[name]!.encrypted ?? [], `${name}.${field}`).not.toContain(field);
  });
});
