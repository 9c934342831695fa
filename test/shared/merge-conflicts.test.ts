/**
 * What the crew sees of a conflict (issue 14, defects 5 and 13): who wrote each value and when,
 * free text never lost, a resolution that sticks on every device, and a typed time that an
 * automatic stamp never replaces.
 */
import { getValidator } from 'rxdb/plugins/validate-ajv';
import type { RxJsonSchema } from 'rxdb';
import { describe, expect, it } from 'vitest';
import {
  BOTH_VERSIONS_END, BOTH_VERSIONS_START, TYPED_OVER_DERIVED, conflictHandlerFor, conflictPathSegments, merge,
  openConflicts, openConflictsAt, type ConflictEntry, type Doc,
} from '../../shared/merge/index.ts';
import { collectionSchemas } from '../../shared/schemas/index.ts';
import { toWireSchema, type JsonSchemaObject } from '../../shared/schemas/wire-schema.ts';

const validate = getValidator(toWireSchema(collectionSchemas.epcrs as unknown as JsonSchemaObject) as unknown as RxJsonSchema<any>) as (doc: Doc) => unknown[];

const MEDIC = { by: 'crew-medic', device: 'tab-a', at: '2024-05-01T15:27:11-05:00' };
const EMT = { by: 'crew-emt', device: 'tab-b', at: '2024-05-01T15:29:40-05:00' };

function baseEpcr(): Doc {
  return {
    id: '3f1c2a4e-8b7d-4c3a-9e2f-1a2b3c4d5e6f',
    tenantId: 'agency-a',
    rev: '3-srv.a1',
    status: 'draft',
    unitId: 'M1',
    patient: { firstName: 'Ann', lastName: 'Lee' },
    vitals: [{ id: 'v1', takenAt: '2024-05-01T15:12:00-05:00', heartRate: 88 }],
    narrative: { text: 'Found seated in the kitchen.' },
    lastEdit: { by: 'crew-medic', device: 'tab-a', at: '2024-05-01T15:10:00-05:00' },
    _deleted: false,
  };
}

function edit(doc: Doc, rev: string, stamp: object | undefined, change: (d: any) => void): Doc {
  const next = structuredClone(doc);
  change(next);
  next.rev = rev;
  if (stamp) next.lastEdit = stamp;
  return next;
}

const conflictsOf = (doc: Doc) => (doc.conflicts ?? []) as ConflictEntry[];

describe('who wrote each value, and when', () => {
  it('names the writer and the time of both the kept and the lost value', () => {
    const base = baseEpcr();
    const master = edit(base, '4-tabA.k1', MEDIC, (d) => { d.vitals[0].heartRate = 110; });
    const incoming = edit(base, '4-tabB.q7', EMT, (d) => { d.vitals[0].heartRate = 120; });

    const merged = merge('epcrs', { base, master, incoming });

    expect((merged.vitals as Doc[])[0]!.heartRate).toBe(110);
    expect(conflictsOf(merged)).toEqual([expect.objectContaining({
      path: 'vitals[v1].heartRate', keptValueJson: '110', lostValueJson: '120',
      keptBy: 'crew-medic', keptAt: MEDIC.at, lostBy: 'crew-emt', lostAt: EMT.at,
    })]);
    expect(openConflictsAt(merged, 'vitals[v1].heartRate')).toHaveLength(1);
    expect(openConflictsAt(merged, 'vitals[v1]')).toHaveLength(1);
    expect(openConflictsAt(merged, 'vitals[v2]')).toHaveLength(0);
    // The last edit itself is bookkeeping: never a conflict of its own.
    expect(conflictsOf(merged).some((c) => c.path.startsWith('lastEdit'))).toBe(false);
    expect(validate(merged)).toEqual([]);
  });

  it('falls back to the device named in the revision when a side has no last edit', () => {
    const base = baseEpcr();
    delete base.lastEdit;
    const master = edit(base, '4-tabA.k1', undefined, (d) => { d.patient.lastName = 'Leigh'; });
    const incoming = edit(base, '4-tabB.q7', undefined, (d) => { d.patient.lastName = 'Lea'; });
    const [entry] = conflictsOf(merge('epcrs', { base, master, incoming }));
    expect(entry).toMatchObject({ keptBy: 'device tabA', lostBy: 'device tabB' });
  });
});

describe('the last edit stamp', () => {
  it('adds nothing to a master that already holds the incoming change (a queued row the server applied)', () => {
    const base = baseEpcr();
    const queued = edit(base, '4-tabA.k1', MEDIC, (d) => { d.patient.lastName = 'Leigh'; });
    const server = edit(queued, '5-tabB.q7', EMT, (d) => { d.vitals[0].heartRate = 96; });
    const merged = merge('epcrs', { base, master: server, incoming: queued });
    const { rev: _r1, ...content } = merged;
    const { rev: _r2, ...serverContent } = server;
    expect(content).toEqual(serverContent);
  });
});

describe('free text edited on two devices', () => {
  it('keeps both narratives in the field, each marked with who wrote it and when, and records an open conflict', () => {
    const base = baseEpcr();
    const master = edit(base, '4-tabA.k1', MEDIC, (d) => { d.narrative.text = 'Found seated in the kitchen. Complains of crushing chest pain.'; });
    const incoming = edit(base, '4-tabB.q7', EMT, (d) => { d.narrative.text = 'Found seated in the kitchen, pale and diaphoretic. 324 mg aspirin given.'; });

    for (const merged of [merge('epcrs', { base, master, incoming }), merge('epcrs', { base, master: incoming, incoming: master })]) {
      const text = (merged.narrative as Doc).text as string;
      expect(text).toContain('Complains of crushing chest pain.');
      expect(text).toContain('324 mg aspirin given.');
      expect(text).toContain(BOTH_VERSIONS_START);
      expect(text).toContain(BOTH_VERSIONS_END);
      expect(text).toContain('written by crew-medic at 2024-05-01 15:27:11');
      expect(text).toContain('written by crew-emt at 2024-05-01 15:29:40');
      const [entry] = openConflicts(merged);
      expect(entry).toMatchObject({ path: 'narrative.text', bothKept: true });
      expect(JSON.parse(entry!.keptValueJson!)).not.toBe(JSON.parse(entry!.lostValueJson!));
      expect(validate(merged)).toEqual([]);
    }
  });

  it('merges edits of different lines with nothing to resolve', () => {
    const base = edit(baseEpcr(), '3-srv.a1', undefined, (d) => { d.narrative.text = 'Line one.\nLine two.\nLine three.'; });
    const master = edit(base, '4-tabA.k1', MEDIC, (d) => { d.narrative.text = 'Line one, edited.\nLine two.\nLine three.'; });
    const incoming = edit(base, '4-tabB.q7', EMT, (d) => { d.narrative.text = 'Line one.\nLine two.\nLine three.\nLine four.'; });
    const merged = merge('epcrs', { base, master, incoming });
    expect((merged.narrative as Doc).text).toBe('Line one, edited.\nLine two.\nLine three.\nLine four.');
    expect(conflictsOf(merged)).toEqual([]);
  });

  it('keeps a narrative one side cleared and the other rewrote', () => {
    const base = baseEpcr();
    const master = edit(base, '4-tabA.k1', MEDIC, (d) => { delete d.narrative; });
    const incoming = edit(base, '4-tabB.q7', EMT, (d) => { d.narrative.text = 'Patient refused transport after assessment.'; });
    const merged = merge('epcrs', { base, master, incoming });
    expect((merged.narrative as Doc).text).toContain('Patient refused transport after assessment.');
    expect(openConflicts(merged)).toHaveLength(1);
  });
});

describe('resolving a conflict', () => {
  /** Two tablets hold one open conflict; tablet A resolves it (a normal edit) while B edits something else. */
  function scenario() {
    const base = baseEpcr();
    const master = edit(base, '4-tabA.k1', MEDIC, (d) => { d.patient.lastName = 'Leigh'; });
    const incoming = edit(base, '4-tabB.q7', EMT, (d) => { d.patient.lastName = 'Lea'; });
    const conflicted = merge('epcrs', { base, master, incoming });
    const [open] = openConflicts(conflicted);
    const resolvedOnA = edit(conflicted, '6-tabA.k2', { ...MEDIC, at: '2024-05-01T15:40:00-05:00' }, (d) => {
      d.patient.lastName = 'Lea';
      const entry = d.conflicts.find((c: ConflictEntry) => c.id === open!.id);
      entry.resolvedAt = '2024-05-01T15:40:00-05:00';
      entry.resolvedBy = 'crew-medic';
    });
    const editedOnB = edit(conflicted, '6-tabB.q8', EMT, (d) => { d.vitals[0].heartRate = 96; });
    return { conflicted, resolvedOnA, editedOnB };
  }

  it('has one entry per lost value, with an id every device derives alike', () => {
    const { conflicted } = scenario();
    expect(conflictsOf(conflicted)).toHaveLength(1);
    expect(conflictsOf(conflicted)[0]!.id).toMatch(/^c[0-9a-z]+$/);
    expect(conflictPathSegments('vitals[v1].heartRate')).toEqual(['vitals', { id: 'v1' }, 'heartRate']);
  });

  it('stays resolved on every device, whichever side reaches the server first', () => {
    const { conflicted, resolvedOnA, editedOnB } = scenario();
    expect(openConflicts(conflicted)).toHaveLength(1);
    for (const merged of [
      merge('epcrs', { base: conflicted, master: resolvedOnA, incoming: editedOnB }),
      merge('epcrs', { base: conflicted, master: editedOnB, incoming: resolvedOnA }),
    ]) {
      expect(openConflicts(merged)).toEqual([]);
      expect(conflictsOf(merged)).toHaveLength(1);
      expect(conflictsOf(merged)[0]).toMatchObject({ resolvedBy: 'crew-medic' });
      expect((merged.patient as Doc).lastName).toBe('Lea');
      expect((merged.vitals as Doc[])[0]!.heartRate).toBe(96);
      expect(validate(merged)).toEqual([]);
    }
  });

  it('does not reopen a decided conflict that another merge recorded with other revisions', () => {
    const { resolvedOnA } = scenario();
    const [resolved] = conflictsOf(resolvedOnA).filter((c) => c.resolvedAt);
    // The same two values, recorded by a later merge of newer states (other revisions, sides swapped).
    const late: ConflictEntry = { ...resolved!, id: 'clate', keptRev: '7-tabB.q9', lostRev: '6-tabA.k3', keptValueJson: resolved!.lostValueJson!, lostValueJson: resolved!.keptValueJson! };
    delete late.resolvedAt;
    delete late.resolvedBy;
    expect(openConflicts({ ...resolvedOnA, conflicts: [...conflictsOf(resolvedOnA), late] })).toEqual([]);
    // Another value at that field is a new decision.
    expect(openConflicts({ ...resolvedOnA, conflicts: [...conflictsOf(resolvedOnA), { ...late, lostValueJson: '"Lee"' }] })).toHaveLength(1);
  });

  it('gives a device conflict handler the same resolved document the server gives', async () => {
    const { conflicted, resolvedOnA, editedOnB } = scenario();
    const server = merge('epcrs', { base: conflicted, master: resolvedOnA, incoming: editedOnB });
    const device = await conflictHandlerFor('epcrs').resolve({ assumedMasterState: conflicted as never, realMasterState: resolvedOnA as never, newDocumentState: editedOnB as never }, 'test');
    expect(device).toEqual(server);
  });
});

describe('a typed value and an automatic stamp (defect 13)', () => {
  const typed = '2024-05-01T15:27:11-05:00';
  const stamped = '2024-05-01T15:28:22-05:00';

  it('keeps the back-in-service time the crew typed over the one the unit status stamped, on either side', () => {
    const base = baseEpcr();
    // The server's workflow filled the empty field (and its derived copy); the tablet typed it offline.
    const server = edit(base, '4-srv.w1', undefined, (d) => { d.times = { backInService: stamped }; d.derived = { times: { backInService: stamped } }; });
    const tablet = edit(base, '4-tabA.k1', MEDIC, (d) => { d.times = { backInService: typed }; });

    const merged = merge('epcrs', { base, master: server, incoming: tablet });
    expect((merged.times as Doc).backInService).toBe(typed);
    // The stamp stays in the history, resolved by the rule: nothing for the crew to decide.
    expect(conflictsOf(merged)).toEqual([expect.objectContaining({
      path: 'times.backInService', keptValueJson: JSON.stringify(typed), lostValueJson: JSON.stringify(stamped), resolvedBy: TYPED_OVER_DERIVED,
    })]);
    expect(openConflicts(merged)).toEqual([]);
    expect(merged.derived).toEqual({ times: { backInService: stamped } });
    expect(validate(merged)).toEqual([]);
  });

  it('still lets the server order two typed values', () => {
    const base = baseEpcr();
    const first = edit(base, '4-tabA.k1', MEDIC, (d) => { d.times = { backInService: stamped }; d.derived = { times: { backInService: '2024-05-01T15:00:00-05:00' } }; });
    const second = edit(base, '4-tabB.q7', EMT, (d) => { d.times = { backInService: typed }; });
    const merged = merge('epcrs', { base, master: first, incoming: second });
    expect((merged.times as Doc).backInService).toBe(stamped);
    expect(openConflicts(merged)).toHaveLength(1);
  });
});

describe('finalizing with conflicts open', () => {
  it('is refused, naming each field, until the crew resolved them', async () => {
    const { validateEpcrForFinalize } = await import('../../shared/domain/epcr-validation.ts');
    const base = baseEpcr();
    const master = edit(base, '4-tabA.k1', MEDIC, (d) => { d.narrative.text = 'Chest pain since noon.'; d.patient.lastName = 'Leigh'; });
    const incoming = edit(base, '4-tabB.q7', EMT, (d) => { d.narrative.text = 'Pain began at 11:30.'; d.patient.lastName = 'Lea'; });
    const merged = merge('epcrs', { base, master, incoming });
    const conflictPaths = (doc: Doc) => validateEpcrForFinalize(doc as never)
      .filter((p) => /two (devices|versions)/.test(p.message)).map((p) => p.path).sort();
    expect(conflictPaths(merged)).toEqual(['narrative.text', 'patient.lastName']);

    const resolved = structuredClone(merged);
    (resolved.narrative as Doc).text = 'Chest pain since noon; began at 11:30.';
    for (const c of resolved.conflicts as ConflictEntry[]) Object.assign(c, { resolvedAt: '2024-05-01T15:45:00-05:00', resolvedBy: 'crew-medic' });
    expect(conflictPaths(resolved)).toEqual([]);
  });
});
