import { describe, expect, it } from 'vitest';
import { ACCESS_RULES } from '../../../shared/access/rules.ts';
import { bindScope, changedFields, checkWrite, inBoundScope, project } from '../../../shared/access/policy.ts';
import type { Identity } from '../../../shared/protocol/index.ts';
import { COLLECTION_NAMES } from '../../../shared/schemas/index.ts';
import { LOCKED_AT, make } from '../../helpers/access.ts';

const crew: Identity = { tenantId: 'a', role: 'crew', deviceId: 'd', userId: 'u', unitId: 'M1' };
const crewWithoutUnit: Identity = { tenantId: 'a', role: 'crew', deviceId: 'd', userId: 'u' };
const tech: Identity = { tenantId: 'a', role: 'technician', deviceId: 'd', userId: 'u', technicianId: 'T1' };
const dispatcher: Identity = { tenantId: 'a', role: 'dispatcher', deviceId: 'd', userId: 'u' };
const admin: Identity = { tenantId: 'a', role: 'admin', deviceId: 'd', userId: 'u' };

describe('access rules', () => {
  it('declare every collection of the product, and only plain top-level field names', () => {
    expect(Object.keys(ACCESS_RULES).sort()).toEqual([...COLLECTION_NAMES].sort());
    for (const access of Object.values(ACCESS_RULES)) {
      for (const rule of [...Object.values(access.read), ...Object.values(access.write)]) {
        const scope = rule!.scope;
        const fields = scope.kind === 'where' ? scope.anyOf.flat().map((c) => c.field) : scope.kind === 'via' ? [...scope.where.map((c) => c.field), scope.key] : [];
        for (const f of fields) expect(f).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      }
    }
  });

  it('admins read everything of their agency and write nothing', () => {
    for (const name of COLLECTION_NAMES) {
      expect(ACCESS_RULES[name].read.admin?.scope.kind).toBe('tenant');
      expect(ACCESS_RULES[name].write.admin).toBeUndefined();
    }
  });

  it('a missing identity attribute grants nothing', () => {
    expect(bindScope(ACCESS_RULES.epcrs.read.crew!.scope, crewWithoutUnit)).toEqual({ kind: 'nothing' });
    expect(inBoundScope(bindScope(ACCESS_RULES.epcrs.read.crew!.scope, crewWithoutUnit), { unitId: undefined })).toBe(false);
    const verdict = checkWrite('epcrs', ACCESS_RULES.epcrs, crewWithoutUnit, undefined, make.epcrs('a'));
    expect(verdict).toMatchObject({ kind: 'refuse', code: 'OUT_OF_SCOPE' });
  });

  it('GPS of a crew is its unit\'s, by source type too', () => {
    const scope = bindScope(ACCESS_RULES.gps_points.read.crew!.scope, crew);
    expect(inBoundScope(scope, { sourceType: 'unit', sourceId: 'M1' })).toBe(true);
    expect(inBoundScope(scope, { sourceType: 'technician', sourceId: 'M1' })).toBe(false);
    expect(inBoundScope(scope, { sourceType: 'unit', sourceId: 'M2' })).toBe(false);
  });

  it('projection keeps the listed fields and _deleted only', () => {
    const doc = make.epcrs('a', { lockedAt: LOCKED_AT });
    const seen = project(doc, ACCESS_RULES.epcrs.read.dispatcher!.project!);
    expect(Object.keys(seen).sort()).toEqual(['_deleted', 'id', 'incidentId', 'lockedAt', 'rev', 'status', 'tenantId', 'times', 'unitId']);
  });

  it('changed fields ignore bookkeeping (rev, conflicts) and compare deeply', () => {
    const a = { id: '1', rev: '1-a', narrative: { text: 'x' }, conflicts: [] };
    expect(changedFields(a, { ...a, rev: '2-b', conflicts: [{ path: 'p', keptRev: '1', lostRev: '2' }] })).toEqual([]);
    expect(changedFields(a, { ...a, narrative: { text: 'y' } })).toEqual(['narrative']);
  });
});

describe('write verdicts', () => {
  const draft = make.epcrs('a', { unitId: 'M1' });
  const locked = make.epcrs('a', { unitId: 'M1', lockedAt: LOCKED_AT, status: 'finalized' });

  it('a locked report accepts no change; a crew\'s change becomes an addendum; bookkeeping alone changes nothing', () => {
    expect(checkWrite('epcrs', ACCESS_RULES.epcrs, crew, locked, { ...locked, narrative: { text: 'late' } }))
      .toEqual({ kind: 'refuse', code: 'FINALIZED', reason: 'report finalized at 14:02; your change was saved as a draft addendum', addendum: { field: 'addendumOf', lockedAt: LOCKED_AT } });
    expect(checkWrite('epcrs', ACCESS_RULES.epcrs, crew, locked, { ...locked, rev: '9-x', conflicts: [] })).toEqual({ kind: 'unchanged' });
    // A device stamps who edited on every write; a write that changes only that changes nothing.
    expect(checkWrite('epcrs', ACCESS_RULES.epcrs, crew, locked, { ...locked, rev: '9-x', lastEdit: { by: 'u', at: '2026-11-22T15:00:00-05:00' } })).toEqual({ kind: 'unchanged' });
    expect(checkWrite('epcrs', ACCESS_RULES.epcrs, crew, locked, { ...locked, _deleted: true })).toMatchObject({ kind: 'refuse', code: 'FINALIZED' });
    expect(checkWrite('epcrs', ACCESS_RULES.epcrs, crew, locked, { ...locked, _deleted: true })).not.toHaveProperty('addendum');
  });

  it('crews keep their hands off unitId, tenantId and server-owned fields', () => {
    expect(checkWrite('epcrs', ACCESS_RULES.epcrs, crew, draft, { ...draft, unitId: 'M2' })).toMatchObject({ code: 'IMMUTABLE_FIELD' });
    expect(checkWrite('epcrs', ACCESS_RULES.epcrs, crew, draft, { ...draft, tenantId: 'b' })).toMatchObject({ code: 'IMMUTABLE_FIELD' });
    expect(checkWrite('epcrs', ACCESS_RULES.epcrs, crew, draft, { ...draft, lockedAt: LOCKED_AT })).toMatchObject({ code: 'SERVER_OWNED_FIELD' });
    expect(checkWrite('epcrs', ACCESS_RULES.epcrs, crew, draft, { ...draft, finalizeErrors: [] })).toMatchObject({ code: 'SERVER_OWNED_FIELD' });
    expect(checkWrite('epcrs', ACCESS_RULES.epcrs, crew, draft, { ...draft, narrative: { text: 'ok' }, status: 'finalized' })).toEqual({ kind: 'allow' });
    expect(checkWrite('epcrs', ACCESS_RULES.epcrs, crew, draft, { ...draft, _deleted: true })).toEqual({ kind: 'allow' });
  });

  it('dispatchers cannot write reports; admins cannot write anything', () => {
    expect(checkWrite('epcrs', ACCESS_RULES.epcrs, dispatcher, draft, { ...draft, status: 'finalized' })).toMatchObject({ code: 'NO_WRITE_ACCESS' });
    expect(checkWrite('epcrs', ACCESS_RULES.epcrs, dispatcher, undefined, draft)).toMatchObject({ code: 'NO_WRITE_ACCESS' });
    expect(checkWrite('incidents', ACCESS_RULES.incidents, admin, undefined, make.incidents('a'))).toMatchObject({ code: 'NO_WRITE_ACCESS' });
    expect(checkWrite('incidents', ACCESS_RULES.incidents, dispatcher, undefined, make.incidents('a'))).toEqual({ kind: 'allow' });
  });

  it('technicians change status, statusAt and notes of their own jobs only', () => {
    const job = make.jobs('a', { assigneeId: 'T1' });
    expect(checkWrite('jobs', ACCESS_RULES.jobs, tech, job, { ...job, status: 'completed', statusAt: LOCKED_AT, notes: 'done' })).toEqual({ kind: 'allow' });
    expect(checkWrite('jobs', ACCESS_RULES.jobs, tech, job, { ...job, assigneeId: 'T2' })).toMatchObject({ code: 'FIELD_NOT_WRITABLE' });
    expect(checkWrite('jobs', ACCESS_RULES.jobs, tech, make.jobs('a', { assigneeId: 'T2' }), { ...job, status: 'completed' })).toMatchObject({ code: 'OUT_OF_SCOPE' });
    expect(checkWrite('jobs', ACCESS_RULES.jobs, tech, undefined, job)).toMatchObject({ code: 'NO_CREATE' });
    expect(checkWrite('tickets', ACCESS_RULES.tickets, tech, make.tickets('a'), make.tickets('a'))).toMatchObject({ code: 'NO_WRITE_ACCESS' });
  });

  it('position fixes are append-only', () => {
    const fix = make.gps_points('a', { sourceType: 'unit', sourceId: 'M1' });
    expect(checkWrite('gps_points', ACCESS_RULES.gps_points, crew, undefined, fix)).toEqual({ kind: 'allow' });
    expect(checkWrite('gps_points', ACCESS_RULES.gps_points, crew, fix, { ...fix, lat: 1 })).toMatchObject({ code: 'FIELD_NOT_WRITABLE' });
    expect(checkWrite('gps_points', ACCESS_RULES.gps_points, crew, fix, { ...fix, _deleted: true })).toMatchObject({ code: 'NO_DELETE' });
    expect(checkWrite('gps_points', ACCESS_RULES.gps_points, crew, undefined, { ...fix, sourceId: 'M2' })).toMatchObject({ code: 'OUT_OF_SCOPE' });
  });
});

describe('the incident lifecycle in the access declaration (issue 14, defect 9)', () => {
  const incident = (extra: Record<string, unknown> = {}) => make.incidents('a', { assignedUnitId: 'M1', ...extra });

  it('a crew moves its own call forward as far as transport completed, never back, never closed or cancelled', () => {
    const verdict = (before: Record<string, unknown>, after: Record<string, unknown>) => checkWrite('incidents', ACCESS_RULES.incidents, crew, before, after).kind;
    const dispatched = incident({ status: 'dispatched' });
    expect(verdict(dispatched, { ...dispatched, status: 'active' })).toBe('allow');
    expect(verdict(dispatched, { ...dispatched, status: 'transporting', transportCompleted: true })).toBe('allow');
    const active = incident({ status: 'active' });
    expect(verdict(active, { ...active, status: 'transporting' })).toBe('allow');
    expect(verdict(active, { ...active, status: 'dispatched' })).toBe('refuse');
    for (const ending of ['closed', 'cancelled']) expect(verdict(active, { ...active, status: ending })).toBe('refuse');
    const done = incident({ status: 'transporting', transportCompleted: true });
    expect(verdict(done, { ...done, transportCompleted: false })).toBe('refuse');
    // A call dispatch closed stays closed for the crew; its notes and times are still the crew's.
    const closed = incident({ status: 'closed' });
    expect(verdict(closed, { ...closed, status: 'transporting' })).toBe('refuse');
    expect(verdict(closed, { ...closed, notes: 'patient handed over at 15:20' })).toBe('allow');
    const refusal = checkWrite('incidents', ACCESS_RULES.incidents, crew, active, { ...active, status: 'closed' });
    expect(refusal).toMatchObject({ kind: 'refuse', code: 'TRANSITION_NOT_ALLOWED' });
    expect(refusal.kind === 'refuse' && refusal.reason).toContain('may only become "transporting"');
  });

  it('dispatch closes and cancels a call with a reason', () => {
    const active = incident({ status: 'active' });
    for (const status of ['closed', 'cancelled']) {
      expect(checkWrite('incidents', ACCESS_RULES.incidents, dispatcher, active, { ...active, status, closeReason: 'Call completed', closedAt: LOCKED_AT }).kind).toBe('allow');
    }
  });

  it('going available clears the unit\'s current call; a crew never sets one', () => {
    const unit: Record<string, unknown> = make.units('a', { callSign: 'M1', status: 'at_destination', currentIncidentId: 'i-1' });
    const { currentIncidentId: _dropped, ...cleared } = unit;
    expect(checkWrite('units', ACCESS_RULES.units, crew, unit, { ...cleared, status: 'available' }).kind).toBe('allow');
    expect(checkWrite('units', ACCESS_RULES.units, crew, unit, { ...unit, currentIncidentId: 'i-2' })).toMatchObject({ kind: 'refuse', code: 'TRANSITION_NOT_ALLOWED' });
    const free = make.units('a', { callSign: 'M1', status: 'available' });
    expect(checkWrite('units', ACCESS_RULES.units, crew, free, { ...free, currentIncidentId: 'i-3' }).kind).toBe('refuse');
    expect(checkWrite('units', ACCESS_RULES.units, crew, undefined, { ...free, currentIncidentId: 'i-3' }).kind).toBe('refuse');
    expect(checkWrite('units', ACCESS_RULES.units, dispatcher, free, { ...free, currentIncidentId: 'i-3' }).kind).toBe('allow');
  });

  it('status events are insert-only: a crew adds its own unit\'s, never changes or removes one', () => {
    const event = make.unit_status_events('a', { unitId: 'M1' });
    expect(checkWrite('unit_status_events', ACCESS_RULES.unit_status_events, crew, undefined, event).kind).toBe('allow');
    expect(checkWrite('unit_status_events', ACCESS_RULES.unit_status_events, crew, undefined, { ...event, unitId: 'M2' }).kind).toBe('refuse');
    expect(checkWrite('unit_status_events', ACCESS_RULES.unit_status_events, crew, event, { ...event, recordedAt: LOCKED_AT })).toMatchObject({ kind: 'refuse', code: 'FIELD_NOT_WRITABLE' });
    expect(checkWrite('unit_status_events', ACCESS_RULES.unit_status_events, crew, event, { ...event, _deleted: true })).toMatchObject({ kind: 'refuse', code: 'NO_DELETE' });
  });
});
