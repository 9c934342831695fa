/**
 * Issue 20: what the dispatch board computes about its calls (client/apps/dispatch/call-board.ts):
 * order by priority then age, timers and the acknowledgement from the server-recorded history,
 * the unacknowledged-call alert at the threshold (times given, no clock read), the clock offset
 * from one round trip, and the recommended unit.
 */
import { describe, expect, it } from 'vitest';
import {
  acknowledgementAlert, callTimes, capabilityMatches, elapsed, priorityRank, recommendUnits, sortIncidents,
} from '../../client/apps/dispatch/call-board.ts';
import { offsetSample } from '../../client/apps/dispatch/server-clock.ts';
import { codeOf } from '../../shared/nemsis/codes.ts';
import type { Incident } from '../../shared/schemas/index.ts';

const T0 = Date.parse('2026-12-07T10:00:00+00:00');
const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace('Z', '+00:00').replace(/\.\d+/, '');
const CRITICAL = codeOf('eDispatch.05', 'Critical');
const EMERGENT = codeOf('eDispatch.05', 'Emergent');
const LOWER = codeOf('eDispatch.05', 'Lower Acuity');
const ALS = codeOf('eResponse.07', 'Ground Transport (ALS Equipped)');
const BLS = codeOf('eResponse.07', 'Ground Transport (BLS Equipped)');
const CCT = codeOf('eResponse.07', 'Ground Transport (Critical Care Equipped)');
const ALS_NON_TRANSPORT = codeOf('eResponse.07', 'Non-Transport-Medical Treatment (ALS Equipped)');
const HELICOPTER = codeOf('eResponse.07', 'Air Transport-Helicopter');

function call(number: string, over: Partial<Incident> = {}): Incident {
  return { id: `id-${number}`, tenantId: 't', rev: '1-a', incidentNumber: number, status: 'dispatched', ...over } as Incident;
}
const received = (s: number) => ({ id: `r${s}`, at: at(s), kind: 'received' as const });

describe('dispatch board', () => {
  it('lists the most urgent first, then the longest waiting (server time), whatever the numbers say', () => {
    const list = sortIncidents([
      call('A-1', { priority: LOWER, history: [received(0)] }),
      call('A-2', { priority: EMERGENT, history: [received(60)] }),
      call('A-3', { priority: EMERGENT, history: [received(30)] }),
      call('A-4', { priority: CRITICAL, history: [received(120)] }),
      call('A-5', { priority: 'P2', history: [received(10)] }),
      call('A-6', { history: [received(-999)] }),
    ]);
    expect(list.map((c) => c.incidentNumber)).toEqual(['A-4', 'A-5', 'A-3', 'A-2', 'A-1', 'A-6']);
    expect(priorityRank('P1')).toBe(1);
    expect(priorityRank('something else')).toBeGreaterThan(priorityRank(LOWER));
  });

  it('times and the acknowledgement come from the history of the unit\'s latest assignment', () => {
    const incident = call('B-1', {
      assignedUnitId: 'M2',
      history: [
        received(0),
        { id: 'a1', at: at(10), kind: 'assigned', unitId: 'M1' },
        { id: 'k1', at: at(20), kind: 'acknowledged', unitId: 'M1', via: 'acknowledge' },
        { id: 'a2', at: at(100), kind: 'assigned', unitId: 'M2' },
        { id: 's1', at: at(150), kind: 'unit-status', unitId: 'M2', status: 'en_route', deviceAt: '2020-01-01T00:00:00+00:00' },
        { id: 'k2', at: at(150), kind: 'acknowledged', unitId: 'M2', via: 'en_route' },
        { id: 's2', at: at(400), kind: 'unit-status', unitId: 'M2', status: 'on_scene' },
      ],
    });
    const times = callTimes(incident);
    expect(times).toMatchObject({ received: T0, dispatched: T0 + 100_000, onScene: T0 + 400_000 });
    expect(times.acknowledged).toMatchObject({ at: T0 + 150_000, via: 'en_route' });
    expect(elapsed(times.received, T0 + 3_725_000)).toBe('1:02:05');
    expect(elapsed(times.onScene, T0 + 465_000)).toBe('1:05');
  });

  it('alerts exactly from the threshold after the assignment until the unit acknowledges, never for an ended call', () => {
    const assigned = call('C-1', { assignedUnitId: 'M1', history: [received(0), { id: 'a', at: at(5), kind: 'assigned', unitId: 'M1' }] });
    expect(acknowledgementAlert(assigned, T0 + 64_999, 60)).toEqual({ alerting: false, alertAt: T0 + 65_000 });
    expect(acknowledgementAlert(assigned, T0 + 65_000, 60).alerting).toBe(true);
    const acknowledged = { ...assigned, history: [...assigned.history!, { id: 'k', at: at(70), kind: 'acknowledged' as const, unitId: 'M1', via: 'acknowledge' }] };
    expect(acknowledgementAlert(acknowledged, T0 + 600_000, 60).alerting).toBe(false);
    // Another unit's acknowledgement is not this unit's.
    const other = { ...assigned, history: [...assigned.history!, { id: 'k', at: at(70), kind: 'acknowledged' as const, unitId: 'M9', via: 'acknowledge' }] };
    expect(acknowledgementAlert(other, T0 + 600_000, 60).alerting).toBe(true);
    expect(acknowledgementAlert({ ...assigned, status: 'closed' }, T0 + 600_000, 60).alerting).toBe(false);
    expect(acknowledgementAlert(call('C-2', { history: [received(0)] }), T0 + 600_000, 60).alerting).toBe(false);
  });

  it('measures the console clock\'s offset from the midpoint of the round trip', () => {
    // Console 5 s behind the server; 200 ms round trip.
    expect(offsetSample(1_000_000, 1_005_100, 1_000_200)).toEqual({ offsetMs: 5000, roundTripMs: 200 });
  });

  it('recommends the nearest free unit that has the capability the call needs', () => {
    const scene = { lat: 41.3948, lng: -73.454 };
    const units = [
      { callSign: 'M1', status: 'available', capability: BLS, lat: 41.395, lng: -73.454 }, // nearest, BLS
      { callSign: 'M2', status: 'available', capability: ALS, lat: 41.42, lng: -73.45 },
      { callSign: 'M3', status: 'available', capability: CCT, lat: 41.5, lng: -73.45 },
      { callSign: 'M4', status: 'en_route', capability: ALS, lat: 41.3948, lng: -73.454 }, // busy
      { callSign: 'M5', status: 'available', capability: ALS, lat: 41.3948, lng: -73.454, currentIncidentId: 'other' }, // on another call
      { callSign: 'M6', status: 'at_home', capability: ALS }, // position unknown
    ];
    const als = recommendUnits({ id: 'x', location: scene, requiredCapability: ALS }, units);
    expect(als.map((r) => r.callSign)).toEqual(['M2', 'M3', 'M6']);
    expect(als[0]!.distanceM).toBeGreaterThan(2500);
    expect(als[0]!.distanceM).toBeLessThan(3100);
    expect(als[2]!.distanceM).toBeUndefined();
    expect(recommendUnits({ id: 'x', location: scene }, units)[0]!.callSign).toBe('M1');
    expect(capabilityMatches(ALS, BLS)).toBe(true);
    expect(capabilityMatches(BLS, ALS)).toBe(false);
    expect(capabilityMatches(ALS_NON_TRANSPORT, ALS)).toBe(false);
    expect(capabilityMatches(ALS, ALS_NON_TRANSPORT)).toBe(true);
    expect(capabilityMatches(CCT, HELICOPTER)).toBe(false);
    expect(capabilityMatches(undefined, ALS)).toBe(false);
  });
});
