import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { derivedIdAgencyTag } from '../../../shared/domain/ids.ts';
import { deviceIds as device } from '../../../client/ui/ids.ts';
import * as server from '../../../server/hooks/ids.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('derived ids: the device and the server name the same thing with the same id', () => {
  it('a unit, a CAD incident and the stub ePCR get one id on the tablet and on the server (else they are duplicated)', async () => {
    const cases: [string, string, string][] = [
      [await device.unitIdFor('agency-a', 'M1'), server.unitIdFor('agency-a', 'M1'), 'unit'],
      [await device.incidentIdFor('agency-a', '2026-000123'), server.incidentIdFor('agency-a', '2026-000123'), 'incident'],
      [await device.stubEpcrIdFor('agency-a', 'inc-1', 'M1'), server.stubEpcrId('agency-a', 'inc-1', 'M1'), 'stub ePCR'],
      // Non-ASCII parts hash as UTF-8 on both sides.
      [await device.unitIdFor('agence-é', 'Médic 7'), server.unitIdFor('agence-é', 'Médic 7'), 'unit, non-ASCII'],
    ];
    for (const [onDevice, onServer, what] of cases) {
      expect(onDevice, what).toBe(onServer);
      expect(onDevice, what).toMatch(UUID_V4);
    }
  });

  it('is fixed: a change here renames every derived document', () => {
    // Fixed when ids began to carry their agency (issue 17, derived ids could be squatted by
    // another agency); before that the same parts gave '7964f9d1-3db8-4ce0-812e-baf9c6567520'.
    expect(server.deterministicId('unit', 'demo', 'M1')).toBe('2892edf5-1d5c-4c1d-812e-baf9c6567520');
  });

  it('carries the agency it was made for, on the device and on the server; random ids carry none', async () => {
    const onDevice = await device.incidentIdFor('agency-a', '2026-000124');
    expect(derivedIdAgencyTag(onDevice)).toBe(server.agencyTagOf('agency-a'));
    expect(derivedIdAgencyTag(server.stubEpcrId('agency-a', 'inc-1', 'M1'))).toBe(server.agencyTagOf('agency-a'));
    expect(derivedIdAgencyTag(server.incidentIdFor('agency-b', '2026-000124'))).toBe(server.agencyTagOf('agency-b'));
    expect(server.agencyTagOf('agency-a')).not.toBe(server.agencyTagOf('agency-b'));
    // The same incident number in two agencies: two ids, each its agency's.
    expect(server.incidentIdFor('agency-a', '2026-000124')).not.toBe(server.incidentIdFor('agency-b', '2026-000124'));
    // A random UUID looks derived once in 2^32: none of 100,000.
    let marked = 0;
    for (let i = 0; i < 100_000; i++) if (derivedIdAgencyTag(randomUUID()) !== undefined) marked++;
    expect(marked).toBe(0);
  });

  it('different parts give different ids, and the parts do not run together', () => {
    expect(server.unitIdFor('a', 'bc')).not.toBe(server.unitIdFor('ab', 'c'));
    expect(server.billingRecordId('a', 'e1')).not.toBe(server.claimId('a', 'e1'));
  });
});
