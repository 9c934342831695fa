import { getValidator } from 'rxdb/plugins/validate-ajv';
import type { RxJsonSchema } from 'rxdb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson, conflictHandlerFor, conflictHandlerForUnknown, isSameRevision, merge, mergeFunctions, threeWayMerge,
  type ConflictEntry, type Doc,
} from '../../shared/merge/index.ts';
import { mergedRevision } from '../../shared/revision.ts';
import { COLLECTION_NAMES, collectionSchemas, type CollectionName } from '../../shared/schemas/index.ts';
import { toWireSchema, type JsonSchemaObject } from '../../shared/schemas/wire-schema.ts';

const EPCR_ID = '3f1c2a4e-8b7d-4c3a-9e2f-1a2b3c4d5e6f';
const TENANT = 'agency-a';

/** The state both crew devices last synced: a started report with one set of vitals. */
function baseEpcr(): Doc {
  return {
    id: EPCR_ID,
    tenantId: TENANT,
    rev: '3-srv.a1',
    status: 'draft',
    unitId: 'M1',
    patient: { firstName: 'Ann', lastName: 'Lee', age: 67 },
    times: { unitNotified: '2024-05-01T10:00:00-05:00' },
    vitals: [{ id: 'v1', takenAt: '2024-05-01T10:12:00-05:00', heartRate: 88, spo2: 95 }],
    medications: [],
    narrative: { text: 'Found seated.' },
    _deleted: false,
  };
}

/** A device's edit of `doc`: a deep copy with a new revision, changed by `change`. */
function edit(doc: Doc, rev: string, change: (d: any) => void): Doc {
  const next = structuredClone(doc);
  change(next);
  next.rev = rev;
  return next;
}

function conflictsOf(doc: Doc): ConflictEntry[] {
  return (doc.conflicts ?? []) as ConflictEntry[];
}

const validators = new Map<CollectionName, (doc: Doc) => unknown[]>();
function schemaErrors(collection: CollectionName, doc: Doc): unknown[] {
  let validate = validators.get(collection);
  if (!validate) {
    const wire = toWireSchema(collectionSchemas[collection] as unknown as JsonSchemaObject);
    validate = getValidator(wire as unknown as RxJsonSchema<any>) as (doc: Doc) => unknown[];
    validators.set(collection, validate);
  }
  return validate(doc);
}

describe('ePCR merge: two crew members documenting one patient', () => {
  it('keeps both members\' work when they edit different sections', () => {
    const base = baseEpcr();
    const master = edit(base, '4-tabA.k1', (d) => {
      d.patient.lastName = 'Leigh';
      d.times.unitOnScene = '2024-05-01T10:09:00-05:00';
    });
    const incoming = edit(base, '4-tabB.q7', (d) => {
      d.narrative.text = 'Found seated, alert, c/o chest pain.';
      d.patient.dateOfBirth = '1957-02-03';
    });

    const merged = merge('epcrs', { base, master, incoming });

    expect(merged.patient).toEqual({ firstName: 'Ann', lastName: 'Leigh', age: 67, dateOfBirth: '1957-02-03' });
    expect(merged.times).toEqual({ unitNotified: '2024-05-01T10:00:00-05:00', unitOnScene: '2024-05-01T10:09:00-05:00' });
    expect(merged.narrative).toEqual({ text: 'Found seated, alert, c/o chest pain.' });
    expect(merged.conflicts ?? []).toEqual([]);
    expect(merged.rev).toBe(mergedRevision('4-tabA.k1', '4-tabB.q7'));
    expect(merged._deleted).toBe(false);
    expect(schemaErrors('epcrs', merged)).toEqual([]);
  });

  it('keeps every set of vitals when both add some: master\'s first, then the device\'s', () => {
    const base = baseEpcr();
    const master = edit(base, '4-tabA.k1', (d) => {
      d.vitals.push({ id: 'v2', takenAt: '2024-05-01T10:20:00-05:00', heartRate: 92 });
    });
    const incoming = edit(base, '4-tabB.q7', (d) => {
      d.vitals.push({ id: 'v3', takenAt: '2024-05-01T10:21:00-05:00', systolic: 150, diastolic: 90 });
      d.vitals.push({ id: 'v4', takenAt: '2024-05-01T10:30:00-05:00', spo2: 97 });
      d.medications.push({ id: 'm1', givenAt: '2024-05-01T10:22:00-05:00', medication: 'Aspirin', dose: 324 });
    });

    const merged = merge('epcrs', { base, master, incoming });

    expect((merged.vitals as { id: string }[]).map((v) => v.id)).toEqual(['v1', 'v2', 'v3', 'v4']);
    expect(merged.vitals).toContainEqual({ id: 'v3', takenAt: '2024-05-01T10:21:00-05:00', systolic: 150, diastolic: 90 });
    expect(merged.medications).toEqual(incoming.medications);
    expect(merged.conflicts ?? []).toEqual([]);
    expect(schemaErrors('epcrs', merged)).toEqual([]);
  });

  it('merges edits of one vitals set field by field', () => {
    const base = baseEpcr();
    const master = edit(base, '4-tabA.k1', (d) => { d.vitals[0].heartRate = 90; });
    const incoming = edit(base, '4-tabB.q7', (d) => { d.vitals[0].spo2 = 93; });

    const merged = merge('epcrs', { base, master, incoming });

    expect(merged.vitals).toEqual([{ id: 'v1', takenAt: '2024-05-01T10:12:00-05:00', heartRate: 90, spo2: 93 }]);
    expect(merged.conflicts ?? []).toEqual([]);
  });

  it('lets master win a field both changed and keeps the device\'s value in conflicts', () => {
    const base = baseEpcr();
    const master = edit(base, '4-tabA.k1', (d) => { d.patient.lastName = 'Leigh'; });
    const incoming = edit(base, '4-tabB.q7', (d) => {
      d.patient.lastName = 'Lee-Smith';
      d.vitals[0].heartRate = 120;
    });
    const masterHr = edit(master, '5-tabA.k2', (d) => { d.vitals[0].heartRate = 110; });

    const merged = merge('epcrs', { base, master: masterHr, incoming });

    expect((merged.patient as Doc).lastName).toBe('Leigh');
    expect((merged.vitals as Doc[])[0]!.heartRate).toBe(110);
    expect(conflictsOf(merged)).toMatchObject([
      { path: 'patient.lastName', keptRev: '5-tabA.k2', lostRev: '4-tabB.q7', keptValueJson: '"Leigh"', lostValueJson: '"Lee-Smith"' },
      { path: 'vitals[v1].heartRate', keptRev: '5-tabA.k2', lostRev: '4-tabB.q7', keptValueJson: '110', lostValueJson: '120' },
    ]);
    expect(schemaErrors('epcrs', merged)).toEqual([]);
  });

  it('records no conflict when both made the same change', () => {
    const base = baseEpcr();
    const master = edit(base, '4-tabA.k1', (d) => { d.patient.age = 68; });
    const incoming = edit(base, '4-tabB.q7', (d) => { d.patient.age = 68; });

    const merged = merge('epcrs', { base, master, incoming });

    expect((merged.patient as Doc).age).toBe(68);
    expect(merged.conflicts ?? []).toEqual([]);
  });

  it('removes a field one side cleared and the other left alone; keeps an edit over a removal', () => {
    const base = baseEpcr();
    const master = edit(base, '4-tabA.k1', (d) => { delete d.patient.age; });
    const incoming = edit(base, '4-tabB.q7', (d) => { d.narrative.text = 'Edited.'; });
    expect(merge('epcrs', { base, master, incoming }).patient).toEqual({ firstName: 'Ann', lastName: 'Lee' });

    const clearsMed = edit(base, '4-tabA.k1', (d) => { d.vitals = []; });
    const editsVital = edit(base, '4-tabB.q7', (d) => { d.vitals[0].heartRate = 100; });
    const merged = merge('epcrs', { base, master: clearsMed, incoming: editsVital });
    expect(merged.vitals).toEqual([{ id: 'v1', takenAt: '2024-05-01T10:12:00-05:00', heartRate: 100, spo2: 95 }]);
    expect(conflictsOf(merged)).toMatchObject([
      {
        path: 'vitals[v1]', keptRev: '4-tabB.q7', lostRev: '4-tabA.k1',
        keptValueJson: '{"heartRate":100,"id":"v1","spo2":95,"takenAt":"2024-05-01T10:12:00-05:00"}',
      },
    ]);
  });

  it('drops a vitals set one side deleted and the other left unchanged', () => {
    const base = edit(baseEpcr(), '3-srv.a1', (d) => {
      d.vitals.push({ id: 'v2', takenAt: '2024-05-01T10:20:00-05:00', heartRate: 92 });
    });
    const master = edit(base, '4-tabA.k1', (d) => { d.vitals = d.vitals.filter((v: Doc) => v.id !== 'v1'); });
    const incoming = edit(base, '4-tabB.q7', (d) => { d.vitals[1].heartRate = 94; });

    const merged = merge('epcrs', { base, master, incoming });

    expect(merged.vitals).toEqual([{ id: 'v2', takenAt: '2024-05-01T10:20:00-05:00', heartRate: 94 }]);
  });

  it('takes id, tenantId and the server-owned lock fields from master', () => {
    const base = baseEpcr();
    const master = edit(base, '4-srv.f1', (d) => { d.lockedAt = '2024-05-01T11:00:00-05:00'; });
    const incoming = edit(base, '4-tabB.q7', (d) => {
      d.tenantId = 'agency-b';
      d.lockedAt = '2024-05-01T12:00:00-05:00';
      d.finalizeErrors = [{ path: 'x', message: 'y' }];
    });

    const merged = merge('epcrs', { base, master, incoming });

    expect(merged.tenantId).toBe(TENANT);
    expect(merged.lockedAt).toBe('2024-05-01T11:00:00-05:00');
    expect(merged).not.toHaveProperty('finalizeErrors');
  });

  it('merges both first-time entries of a section when there is no base', () => {
    const created = baseEpcr();
    const master = edit(created, '1-tabA.k1', (d) => { d.patient = { firstName: 'Ann' }; });
    const incoming = edit(created, '1-tabB.q7', (d) => { d.patient = { firstName: 'Anne', sex: '9906001' }; });

    const merged = merge('epcrs', { master, incoming });

    expect(merged.patient).toEqual({ firstName: 'Ann', sex: '9906001' });
    expect(conflictsOf(merged).map((c) => c.path)).toEqual(['patient.firstName']);
  });
});

describe('convergence', () => {
  const base = baseEpcr();
  const master = edit(base, '4-tabA.k1', (d) => {
    d.patient.lastName = 'Leigh';
    d.patient.age = 68;
    d.narrative.text = 'A';
    d.vitals.push({ id: 'v2', takenAt: '2024-05-01T10:20:00-05:00', heartRate: 92 });
  });
  const incoming = edit(base, '4-tabB.q7', (d) => {
    d.patient.lastName = 'Lee-Smith';
    d.patient.age = 69;
    d.narrative.text = 'B';
    d.vitals.push({ id: 'v3', takenAt: '2024-05-01T10:21:00-05:00', heartRate: 93 });
  });

  it('gives the identical document, revision included, every time the same inputs are merged', () => {
    const first = merge('epcrs', { base, master, incoming });
    const second = merge('epcrs', { base: structuredClone(base), master: structuredClone(master), incoming: structuredClone(incoming) });
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(first.rev).toBe(mergedRevision('4-tabA.k1', '4-tabB.q7'));
  });

  it('does not depend on the key order a store kept the documents in', () => {
    const reversed = (doc: Doc): Doc => JSON.parse(JSON.stringify(doc, (_k, v) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v));
    const a = merge('epcrs', { base, master, incoming });
    const b = merge('epcrs', { base: reversed(base), master: reversed(master), incoming: reversed(incoming) });
    expect(b).toEqual(a);
    expect(conflictsOf(a)).toHaveLength(3);
    expect(b.conflicts).toStrictEqual(a.conflicts);
  });

  it('gives a device conflict handler the same document the server-side merge gives', async () => {
    const handler = conflictHandlerFor('epcrs');
    const local = { _meta: { lwt: 1 }, _rev: '9-zzz', _attachments: {} };
    const resolved = await handler.resolve({
      assumedMasterState: { ...base, ...local } as any,
      realMasterState: { ...master, ...local } as any,
      newDocumentState: { ...incoming, ...local } as any,
    }, 'test');
    expect(resolved).toEqual(merge('epcrs', { base, master, incoming }));
    expect(resolved).not.toHaveProperty('_meta');
    expect(resolved).not.toHaveProperty('_rev');
  });
});

describe('deletion', () => {
  it('keeps a document one side deleted while the other edited it, and notes the delete', () => {
    const base = baseEpcr();
    const edited = edit(base, '4-tabA.k1', (d) => { d.narrative.text = 'Patient refused transport.'; });
    const deleted = edit(base, '4-tabB.q7', (d) => { d._deleted = true; });

    const masterEdited = merge('epcrs', { base, master: edited, incoming: deleted });
    expect(masterEdited._deleted).toBe(false);
    expect(masterEdited.narrative).toEqual({ text: 'Patient refused transport.' });
    expect(conflictsOf(masterEdited)).toMatchObject([
      { path: '_deleted', keptRev: '4-tabA.k1', lostRev: '4-tabB.q7', keptValueJson: 'false', lostValueJson: 'true' },
    ]);

    const incomingEdited = merge('epcrs', { base, master: deleted, incoming: edited });
    expect(incomingEdited._deleted).toBe(false);
    expect(incomingEdited.narrative).toEqual({ text: 'Patient refused transport.' });
    expect(conflictsOf(incomingEdited)).toMatchObject([
      { path: '_deleted', keptRev: '4-tabA.k1', lostRev: '4-tabB.q7', keptValueJson: 'false', lostValueJson: 'true' },
    ]);
    expect(schemaErrors('epcrs', incomingEdited)).toEqual([]);
  });

  it('keeps the edit even when the server stores tombstones without their content', () => {
    const base = baseEpcr();
    const tombstone: Doc = { id: EPCR_ID, tenantId: TENANT, rev: '4-srv.d1', _deleted: true };
    const edited = edit(base, '4-tabA.k1', (d) => { d.patient.age = 70; });

    const merged = merge('epcrs', { base, master: tombstone, incoming: edited });

    expect(merged._deleted).toBe(false);
    expect(merged.patient).toEqual({ firstName: 'Ann', lastName: 'Lee', age: 70 });
    expect(schemaErrors('epcrs', merged)).toEqual([]);
  });

  it('deletes when the other side changed nothing', () => {
    const base = baseEpcr();
    const deleted = edit(base, '4-tabB.q7', (d) => { d._deleted = true; });
    const touched = edit(base, '4-tabA.k1', () => {});

    expect(merge('epcrs', { base, master: touched, incoming: deleted })._deleted).toBe(true);
    expect(merge('epcrs', { base, master: deleted, incoming: touched })._deleted).toBe(true);
  });

  it('treats two different states with one revision as different when only one is deleted', () => {
    const doc = baseEpcr();
    expect(isSameRevision(doc, { ...doc, _deleted: true })).toBe(false);
    expect(isSameRevision({ ...doc, _deleted: undefined }, { ...doc, _deleted: false })).toBe(true);
  });
});

describe('conflict history', () => {
  const entry = (n: number): ConflictEntry => ({ path: `narrative.text`, keptRev: `${n}-a`, lostRev: `${n}-b`, lostValueJson: `"v${n}"` });

  it('keeps the entries of both sides and adds the new ones', () => {
    const base = edit(baseEpcr(), '3-srv.a1', (d) => { d.conflicts = [entry(1)]; });
    const master = edit(base, '4-tabA.k1', (d) => { d.conflicts.push(entry(2)); d.patient.age = 1; });
    const incoming = edit(base, '4-tabB.q7', (d) => { d.conflicts.push(entry(3)); d.patient.age = 2; });

    const merged = merge('epcrs', { base, master, incoming });

    expect(conflictsOf(merged)).toMatchObject([
      entry(1), entry(2), entry(3),
      { path: 'patient.age', keptRev: '4-tabA.k1', lostRev: '4-tabB.q7', keptValueJson: '1', lostValueJson: '2' },
    ]);
  });

  it('drops the oldest entries past the schema\'s 500', () => {
    const base = edit(baseEpcr(), '3-srv.a1', (d) => { d.conflicts = Array.from({ length: 499 }, (_, i) => entry(i)); });
    const master = edit(base, '4-tabA.k1', (d) => { d.conflicts.push(entry(1000)); d.patient.age = 1; });
    const incoming = edit(base, '4-tabB.q7', (d) => { d.conflicts.push(entry(2000)); d.patient.age = 2; });

    const merged = merge('epcrs', { base, master, incoming });
    const conflicts = conflictsOf(merged);

    expect(conflicts).toHaveLength(500);
    expect(conflicts[0]).toEqual(entry(2));
    expect(conflicts.slice(-3).map((c) => c.keptRev)).toEqual(['1000-a', '2000-a', '4-tabA.k1']);
    expect(schemaErrors('epcrs', merged)).toEqual([]);
  });

  it('truncates a lost value too long for the history', () => {
    const base = baseEpcr();
    const master = edit(base, '4-tabA.k1', (d) => { d.narrative.text = 'short'; });
    const incoming = edit(base, '4-tabB.q7', (d) => { d.narrative.text = 'x'.repeat(20000); });

    const merged = merge('epcrs', { base, master, incoming });
    const [lost] = conflictsOf(merged);

    expect(lost?.lostValueJson).toHaveLength(20000);
    expect(lost?.lostValueJson?.startsWith('"xxx')).toBe(true);
    expect(schemaErrors('epcrs', merged)).toEqual([]);
  });
});

describe('schema limits', () => {
  it('keeps vitals within maxItems and puts the ones that did not fit in conflicts', () => {
    const vital = (id: string) => ({ id, takenAt: '2024-05-01T10:12:00-05:00', heartRate: 80 });
    const base = edit(baseEpcr(), '3-srv.a1', (d) => { d.vitals = Array.from({ length: 498 }, (_, i) => vital(`b${i}`)); });
    const master = edit(base, '4-tabA.k1', (d) => { d.vitals.push(vital('m1'), vital('m2')); });
    const incoming = edit(base, '4-tabB.q7', (d) => { d.vitals.push(vital('i1'), vital('i2')); });

    const merged = merge('epcrs', { base, master, incoming });

    expect(merged.vitals).toHaveLength(500);
    expect((merged.vitals as Doc[]).slice(-2).map((v) => v.id)).toEqual(['m1', 'm2']);
    expect(conflictsOf(merged).map((c) => [c.path, JSON.parse(c.lostValueJson ?? 'null')])).toEqual([
      ['vitals[i1]', vital('i1')],
      ['vitals[i2]', vital('i2')],
    ]);
    expect(schemaErrors('epcrs', merged)).toEqual([]);
  });

  it('keeps deployment settings within maxProperties, master\'s first', () => {
    const settings = (prefix: string, n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 'v']));
    const base: Doc = { id: EPCR_ID, tenantId: TENANT, rev: '1-a', orderNumber: 'O-1', status: 'open', deployment: settings('b', 48), _deleted: false };
    const master = edit(base, '2-a', (d) => { Object.assign(d.deployment, settings('m', 2)); });
    const incoming = edit(base, '2-b', (d) => { Object.assign(d.deployment, settings('i', 2)); });

    const merged = merge('orders', { base, master, incoming });

    expect(Object.keys(merged.deployment as Doc)).toHaveLength(50);
    expect(merged.deployment).toMatchObject(settings('m', 2));
    expect(conflictsOf(merged).map((c) => c.path).sort()).toEqual(['deployment.i0', 'deployment.i1']);
    expect(schemaErrors('orders', merged)).toEqual([]);
  });
});

describe('gps_points', () => {
  it('are immutable: the merge returns the server\'s fix', () => {
    const master: Doc = {
      id: EPCR_ID, tenantId: TENANT, rev: '1-a', sourceType: 'unit', sourceId: 'M1',
      lat: 40, lng: -75, recordedAt: '2024-05-01T10:00:00-05:00', _deleted: false,
    };
    const incoming = edit(master, '2-b', (d) => { d.lat = 41; });
    expect(merge('gps_points', { base: master, master, incoming })).toBe(master);
    expect(mergeFunctions.gps_points({ master, incoming })).toBe(master);
  });
});

describe('every collection', () => {
  it('has a merge function, and a same-revision push returns master untouched', () => {
    for (const name of COLLECTION_NAMES) {
      const master: Doc = { id: EPCR_ID, tenantId: TENANT, rev: '5-x', _deleted: false };
      expect(merge(name, { master, incoming: { ...master } }), name).toBe(master);
    }
  });
});

describe('isSameRevision', () => {
  it('compares revisions when documents have them', () => {
    expect(isSameRevision({ rev: '2-a', x: 1 }, { rev: '2-a', x: 1 })).toBe(true);
    expect(isSameRevision({ rev: '2-a' }, { rev: '2-b' })).toBe(false);
  });

  it('falls back to content for documents without a revision, ignoring RxDB\'s local fields', () => {
    const human = { passportId: 'p1', firstName: 'Bob', lastName: 'Kelso', age: 60, _deleted: false };
    expect(isSameRevision(
      { ...human, _meta: { lwt: 1 }, _rev: '1-aaa', _attachments: {} },
      { lastName: 'Kelso', age: 60, firstName: 'Bob', passportId: 'p1', _deleted: false, _meta: { lwt: 2 }, _rev: '2-bbb' },
    )).toBe(true);
    expect(isSameRevision(human, { ...human, age: 61 })).toBe(false);
    expect(isSameRevision(human, { ...human, _deleted: true })).toBe(false);
  });
});

describe('collections outside the registry', () => {
  const base = { passportId: 'p1', firstName: 'Bob', lastName: 'Kelso', age: 60, _deleted: false };

  it('merge field by field and let master win without adding fields the schema lacks', async () => {
    const handler = conflictHandlerForUnknown();
    const resolved = await handler.resolve({
      assumedMasterState: base,
      realMasterState: { ...base, firstName: 'c2', age: 61 },
      newDocumentState: { ...base, firstName: 'c1', lastName: 'K.' },
    }, 'test');
    expect(resolved).toEqual({ passportId: 'p1', firstName: 'c2', lastName: 'K.', age: 61, _deleted: false });
  });

  it('use deep equality for isEqual', () => {
    const handler = conflictHandlerForUnknown();
    expect(handler.isEqual(base, { ...base }, 'test')).toBe(true);
    expect(handler.isEqual(base, { ...base, age: 1 }, 'test')).toBe(false);
  });

  it('record conflicts when asked to', () => {
    const merged = threeWayMerge(
      { base: { ...base, rev: '1-a' }, master: { ...base, rev: '2-a', age: 61 }, incoming: { ...base, rev: '2-b', age: 62 } },
      { recordConflicts: true },
    );
    expect(merged.conflicts).toMatchObject([{ path: 'age', keptRev: '2-a', lostRev: '2-b', keptValueJson: '61', lostValueJson: '62' }]);
  });
});

describe('nothing is lost (property)', () => {
  type Body = Record<string, unknown>;
  const leaf = fc.constantFrom<unknown>(1, 2, 'x', true);
  const section = fc.record({ x: leaf, y: leaf, z: leaf }, { requiredKeys: [] });
  const value = fc.oneof(leaf, section);
  const body = fc.record({ a: value, b: value, c: value }, { requiredKeys: [] });
  /** A side's state: each key kept from the base, replaced or removed. */
  const sideOf = (base: Body) => fc.record({
    a: fc.oneof(fc.constant(base.a), fc.option(value, { nil: undefined })),
    b: fc.oneof(fc.constant(base.b), fc.option(value, { nil: undefined })),
    c: fc.oneof(fc.constant(base.c), fc.option(value, { nil: undefined })),
  });
  const triple = body.chain((base) => fc.tuple(fc.constant(base), sideOf(base), sideOf(base)));

  const at = (doc: unknown, path: string): unknown => path.split('.').reduce<unknown>(
    (v, key) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Body)[key] : undefined), doc);
  const leafPaths = (...docs: Body[]): string[] => {
    const paths = new Set<string>();
    for (const doc of docs) {
      for (const [key, v] of Object.entries(doc)) {
        if (v === undefined) continue;
        paths.add(key);
        if (typeof v === 'object') for (const sub of Object.keys(v as Body)) paths.add(`${key}.${sub}`);
      }
    }
    return [...paths];
  };
  const isObject = (v: unknown): v is Body => v !== null && typeof v === 'object' && !Array.isArray(v);
  const sortedJson = (v: unknown): string => (isObject(v)
    ? `{${Object.keys(v).filter((k) => v[k] !== undefined).sort().map((k) => `${k}:${sortedJson(v[k])}`).join(',')}}`
    : String(JSON.stringify(v)));
  const same = (a: unknown, b: unknown) => sortedJson(a) === sortedJson(b);
  /** A side's section survives as a section; its fields are checked at their own paths. */
  const kept = (result: unknown, side: unknown) => (isObject(side) ? isObject(result) : same(result, side));

  it('keeps every change master made, and each change incoming made either in place or in conflicts', () => {
    fc.assert(fc.property(triple, ([base, master, incoming]) => {
      const merged = threeWayMerge(
        { base: { ...base, rev: '1-a' }, master: { ...master, rev: '2-a' }, incoming: { ...incoming, rev: '2-b' } },
        { recordConflicts: true },
      );
      const conflicts = conflictsOf(merged);
      for (const path of leafPaths(base, master, incoming)) {
        if (!same(at(master, path), at(base, path))) {
          expect(kept(at(merged, path), at(master, path)), `master change at ${path}`).toBe(true);
        }
        if (!same(at(incoming, path), at(base, path)) && !kept(at(merged, path), at(incoming, path))) {
          const recorded = conflicts.some((c) => (path === c.path || path.startsWith(`${c.path}.`))
            && c.lostValueJson === canonicalJson(at(incoming, c.path)));
          expect(recorded, `incoming change at ${path} in ${JSON.stringify(conflicts)}`).toBe(true);
        }
      }
    }), { numRuns: 500 });
  });
});
