import { describe, expect, it } from 'vitest';
import { ACCESS_RULES } from '../../../shared/access/rules.ts';
import { bindScope, changedFields, checkWrite, inBoundScope, project } from '../../../shared/access/policy.ts';
import type { Identity } from '../../../shared/protocol/index.ts';
import { COLLECTION_NAMES } from '../../../shared/schemas/index.ts';
import { LOCKED_AT, make } from './fixtures.ts';

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
