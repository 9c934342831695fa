/**
 * PHI at rest: the ePCR's PHI sections are encrypted in IndexedDB (AES-256-GCM with WebCrypto,
 * client/sync/field-encryption.ts, over Dexie, here on fake-indexeddb), including the copies RxDB's replication keeps; the fields the
 * apps query by stay readable; the database opens only with its key.
 */
import { randomUUID } from 'node:crypto';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import type { RxDatabase, RxStorage } from 'rxdb';
import { createRxDatabase } from 'rxdb';
import { wrappedKeyEncryptionCryptoJsStorage } from 'rxdb/plugins/encryption-crypto-js';
import { replicateRxCollection } from 'rxdb/plugins/replication';
import { fieldsyncDexieStorage } from '../../client/sync/dexie-storage.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { createFieldsyncDatabase, isWrongDatabaseKey, WrongDatabaseKeyError } from '../../client/sync/database.ts';
import { SEALED_PREFIX } from '../../client/sync/field-encryption.ts';
import { epcrSchema } from '../../shared/schemas/index.ts';
import { toWireSchema } from '../../shared/schemas/wire-schema.ts';

const storage = () => fieldsyncDexieStorage({ indexedDB, IDBKeyRange });
const KEY = 'a3'.repeat(32);
const OTHER_KEY = '5c'.repeat(32);

const PATIENT_LAST = 'Quintavalle';
const PATIENT_FIRST = 'Philomena';
const NARRATIVE = 'Found on the kitchen floor, confused, smells of acetone';
const MEDICATION = 'Ondansetron-XR-test';
const STREET = '4417 Larchwood Ave';
const WARNED = 'Warned-dose-quote-test';

function report(id = randomUUID()) {
  return {
    id, tenantId: 'agency-enc', rev: '1-dev.a', status: 'draft' as const, unitId: 'M7', incidentId: 'inc-991',
    patient: { firstName: PATIENT_FIRST, lastName: PATIENT_LAST, dateOfBirth: '1951-03-04', age: 75, phone: '215-555-0199' },
    situation: { chiefComplaint: 'altered mental status' },
    // Issue 16's clinical sections: the arrest, the injury, the protocols worked by and who was on the crew.
    arrest: { cardiacArrest: '3001001' },
    injury: { causes: ['W19.XXXA'] },
    protocols: { used: ['9914087'] },
    crew: [{ id: 'c1', memberId: 'P-40211' }],
    history: { allergies: ['penicillin'], medicalHistory: ['type 1 diabetes'] },
    vitals: [{ id: 'v1', takenAt: '2026-11-20T10:00:00-05:00', systolic: 182, glucose: 612 }],
    medications: [{ id: 'm1', givenAt: '2026-11-20T10:05:00-05:00', medication: MEDICATION }],
    narrative: { text: NARRATIVE },
    scene: { address: { street: STREET, city: 'Philadelphia', zip: '19143' } },
    payment: { insuranceCompany: 'Keystone First', memberId: 'KF-0042-77' },
    // The national warnings of the last finalize check quote the report's values (issue 16).
    finalizeWarnings: [{ path: 'medications.m1.medication', message: `Medication: ${WARNED} was given after the unit was back in service (national rule nemSch_e140)`, rule: 'nemSch_e140' }],
    conflicts: [{ path: 'patient.lastName', keptRev: '2-dev.b', lostRev: '2-dev.c', lostValueJson: JSON.stringify(PATIENT_LAST + 'x') }],
  };
}

/** Every record of every IndexedDB database whose name starts with `prefix`, as the disk holds it. */
async function rawRecords(prefix: string): Promise<{ database: string; store: string; json: string }[]> {
  const out: { database: string; store: string; json: string }[] = [];
  for (const { name } of await indexedDB.databases()) {
    if (!name?.startsWith(prefix)) continue;
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    for (const store of Array.from(db.objectStoreNames)) {
      const values = await new Promise<unknown[]>((resolve, reject) => {
        const request = db.transaction(store, 'readonly').objectStore(store).getAll();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      for (const value of values) out.push({ database: name, store, json: JSON.stringify(value) });
    }
    db.close();
  }
  return out;
}

/** Changes, as damage on the disk would, the stored record of document `id` in the epcrs store of database `name`. */
async function damageStored(name: string, id: string, change: (row: Record<string, unknown>) => void): Promise<void> {
  const database = `rxdb-dexie-${name}--${epcrSchema.version}--epcrs`;
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(database);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  let changed = 0;
  for (const store of Array.from(db.objectStoreNames)) {
    await new Promise<void>((resolve, reject) => {
      const transaction = db.transaction(store, 'readwrite');
      const request = transaction.objectStore(store).openCursor();
      request.onsuccess = () => {
        const cursor = request.result;
        if (!cursor) return;
        const row = cursor.value as Record<string, unknown>;
        if (row['id'] === id && 'unitId' in row) {
          change(row);
          cursor.update(row);
          changed++;
        }
        cursor.continue();
      };
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
    });
  }
  db.close();
  expect(changed).toBeGreaterThan(0);
}

const SECRETS = [WARNED, PATIENT_LAST, PATIENT_FIRST, NARRATIVE, MEDICATION, STREET, 'penicillin', 'type 1 diabetes', 'KF-0042-77', '215-555-0199', 'altered mental status'];

describe('ePCR PHI encrypted at rest (AES-256-GCM on Dexie)', () => {
  const open: RxDatabase[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.close().catch(() => false)));
  });

  it('lists only top-level PHI sections, none indexed or required, and the server never sees the list', () => {
    expect([...epcrSchema.encrypted]).toEqual(['patient', 'situation', 'injury', 'arrest', 'history', 'vitals', 'protocols', 'medications', 'procedures', 'narrative', 'disposition', 'payment', 'scene', 'dispatch', 'addendumReason', 'crew', 'conflicts', 'attachments', 'refusal', 'outcome', 'finalizeWarnings']);
    for (const field of epcrSchema.encrypted) {
      expect(field).not.toContain('.');
      expect(epcrSchema.properties).toHaveProperty(field);
      expect(epcrSchema.required as readonly string[]).not.toContain(field);
    }
    expect((epcrSchema as { indexes?: unknown }).indexes).toBeUndefined();
    expect(toWireSchema(epcrSchema as never)).not.toHaveProperty('encrypted');
  });

  it('stores the PHI fields as ciphertext while status, unitId and incidentId stay readable, and reads them back in clear', async () => {
    const name = `enc_${randomUUID().slice(0, 8)}`;
    const db = await createFieldsyncDatabase({ name, collections: ['epcrs'], storage: storage(), multiInstance: false, password: KEY });
    open.push(db);
    const doc = report();
    await db.collections['epcrs']!.insert(doc);
    const back = (await db.collections['epcrs']!.findOne(doc.id).exec())!.toJSON() as Record<string, unknown>;
    expect(back['patient']).toEqual(doc.patient);
    expect(back['vitals']).toEqual(doc.vitals);
    expect(back['narrative']).toEqual(doc.narrative);
    // The apps' queries on the fields left in clear still work.
    expect(await db.collections['epcrs']!.find({ selector: { unitId: 'M7', incidentId: { $in: ['inc-991'] }, lockedAt: { $exists: false } } }).exec()).toHaveLength(1);
    await db.close();

    const records = await rawRecords(`rxdb-dexie-${name}--`);
    const stored = records.filter((r) => r.database === `rxdb-dexie-${name}--${epcrSchema.version}--epcrs` && r.json.includes(doc.id));
    expect(stored.length).toBeGreaterThan(0);
    for (const record of records) {
      for (const secret of SECRETS) expect(record.json, `${record.database}/${record.store}`).not.toContain(secret);
    }
    // Not PHI, needed for queries and sync: in clear.
    const row = JSON.parse(stored.find((r) => r.json.includes('"unitId"'))!.json) as Record<string, unknown>;
    expect(row).toMatchObject({ id: doc.id, status: 'draft', unitId: 'M7', incidentId: 'inc-991', tenantId: 'agency-enc', rev: '1-dev.a' });
    // All PHI sections sealed together (AES-256-GCM, field-encryption.ts) in the first one's place; none of them in clear.
    expect(row['patient'] as string).toMatch(new RegExp(`^${SEALED_PREFIX}[A-Za-z0-9+/=]{200,}$`));
    for (const field of epcrSchema.encrypted.slice(1)) expect(row, field).not.toHaveProperty(field);
    // RxDB keeps a hash of the key (never the key) to refuse another one.
    expect(records.map((r) => r.json).join('\n')).not.toContain(KEY);
  });

  it('control: without a key (tests and tools only) the same raw read does find the patient name', async () => {
    const name = `plain_${randomUUID().slice(0, 8)}`;
    const db = await createFieldsyncDatabase({ name, collections: ['epcrs'], storage: storage(), multiInstance: false });
    await db.collections['epcrs']!.insert(report());
    await db.close();
    expect((await rawRecords(`rxdb-dexie-${name}--`)).some((r) => r.json.includes(PATIENT_LAST))).toBe(true);
  });

  it('keeps the replication\'s copy of the server state (assumed master) encrypted too, while the server gets clear data', async () => {
    const name = `encrep_${randomUUID().slice(0, 8)}`;
    const db = await createFieldsyncDatabase({ name, collections: ['epcrs'], storage: storage(), multiInstance: false, password: KEY });
    open.push(db);
    const doc = report();
    await db.collections['epcrs']!.insert(doc);
    const pushed: unknown[] = [];
    const replication = replicateRxCollection({
      collection: db.collections['epcrs']!, replicationIdentifier: 'enc-test', live: false, waitForLeadership: false, autoStart: true,
      push: { handler: async (rows) => { pushed.push(...rows); return []; } },
    });
    await replication.awaitInitialReplication();
    await replication.cancel();
    // The wire carries the report in clear (HTTPS protects it in transit; the server stores it).
    expect(JSON.stringify(pushed)).toContain(PATIENT_LAST);
    await db.close();

    const records = await rawRecords(`rxdb-dexie-${name}--`);
    const meta = records.filter((r) => r.database.includes('rx-replication-meta'));
    expect(meta.some((r) => r.json.includes(doc.id))).toBe(true);
    for (const record of records) {
      for (const secret of SECRETS) expect(record.json, `${record.database}/${record.store}`).not.toContain(secret);
    }
  });

  it('does not open with another key, nor without one, and still opens with the right key afterwards', async () => {
    const name = `enckey_${randomUUID().slice(0, 8)}`;
    const first = await createFieldsyncDatabase({ name, collections: ['epcrs'], storage: storage(), multiInstance: false, password: KEY });
    const doc = report();
    await first.collections['epcrs']!.insert(doc);
    await first.close();

    const wrong = await createFieldsyncDatabase({ name, collections: ['epcrs'], storage: storage(), multiInstance: false, password: OTHER_KEY }).then(
      () => 'opened', (error: unknown) => error);
    expect(wrong).toBeInstanceOf(WrongDatabaseKeyError);
    expect(isWrongDatabaseKey(wrong)).toBe(true);
    // As it arrives from the database worker (structured clone keeps name and message only).
    expect(isWrongDatabaseKey(Object.assign(new Error((wrong as Error).message), { name: (wrong as Error).name }))).toBe(true);

    const none = await createFieldsyncDatabase({ name, collections: ['epcrs'], storage: storage(), multiInstance: false }).then(() => 'opened', (error: unknown) => error);
    expect(isWrongDatabaseKey(none), String(none)).toBe(true);

    const again = await createFieldsyncDatabase({ name, collections: ['epcrs'], storage: storage(), multiInstance: false, password: KEY });
    open.push(again);
    expect((await again.collections['epcrs']!.findOne(doc.id).exec())?.toJSON()).toMatchObject({ patient: { lastName: PATIENT_LAST } });
  });

  it('reads the reports an earlier build stored with crypto-js (each field on its own) and seals them when they change', async () => {
    const name = `enclegacy_${randomUUID().slice(0, 8)}`;
    const earlier = await createRxDatabase({ name, storage: wrappedKeyEncryptionCryptoJsStorage({ storage: storage() }), password: KEY, multiInstance: false });
    await earlier.addCollections({ epcrs: { schema: epcrSchema as never } });
    const doc = report();
    await earlier.collections['epcrs']!.insert(doc);
    await earlier.close();
    expect((await rawRecords(`rxdb-dexie-${name}--`)).some((r) => r.json.includes('U2FsdGVkX1'))).toBe(true);

    const db = await createFieldsyncDatabase({ name, collections: ['epcrs'], storage: storage(), multiInstance: false, password: KEY });
    open.push(db);
    const stored = (await db.collections['epcrs']!.findOne(doc.id).exec())!;
    expect(stored.toJSON()).toMatchObject({ patient: doc.patient, vitals: doc.vitals, narrative: doc.narrative, conflicts: doc.conflicts });
    await stored.incrementalPatch({ narrative: { text: `${NARRATIVE}, improved en route` } });
    expect((await db.collections['epcrs']!.findOne(doc.id).exec())!.toJSON()).toMatchObject({ patient: doc.patient, narrative: { text: `${NARRATIVE}, improved en route` } });
    await db.close();
    const records = await rawRecords(`rxdb-dexie-${name}--`);
    const row = records.find((r) => r.database.endsWith('--epcrs') && r.json.includes(doc.id))!;
    expect(row.json).toContain(SEALED_PREFIX);
    for (const record of records) for (const secret of SECRETS) expect(record.json).not.toContain(secret);
  });

  it('refuses to read a report whose sealed PHI is missing or empty, instead of showing (and saving back) a report without its patient', async () => {
    const name = `encgone_${randomUUID().slice(0, 8)}`;
    const db = await createFieldsyncDatabase({ name, collections: ['epcrs'], storage: storage(), multiInstance: false, password: KEY });
    const missing = report();
    const empty = report();
    const intact = report();
    // A report with no PHI entered yet is sealed too, and reads back as it is.
    const blank = { id: randomUUID(), tenantId: 'agency-enc', rev: '1-dev.a', status: 'draft' as const, unitId: 'M7' };
    await db.collections['epcrs']!.bulkInsert([missing, empty, intact, blank]);
    await db.close();
    await damageStored(name, missing.id, (row) => { delete row['patient']; });
    await damageStored(name, empty.id, (row) => { row['patient'] = ''; });

    const again = await createFieldsyncDatabase({ name, collections: ['epcrs'], storage: storage(), multiInstance: false, password: KEY });
    open.push(again);
    const epcrs = again.collections['epcrs']!;
    await expect(epcrs.findOne(missing.id).exec()).rejects.toThrow(new RegExp(`epcrs document ${missing.id} .*lost its sealed fields.*sign in and sync again`));
    await expect(epcrs.findOne(empty.id).exec()).rejects.toThrow(new RegExp(`epcrs document ${empty.id} .*damaged sealed value`));
    expect((await epcrs.findOne(intact.id).exec())!.toJSON()).toMatchObject({ patient: intact.patient, narrative: intact.narrative });
    expect((await epcrs.findOne(blank.id).exec())!.toJSON()).toMatchObject(blank);
  });

  it('reads the legacy way only values crypto-js wrote: any other value in a PHI field is an error, not unauthenticated AES-CBC', async () => {
    const name = `encplain_${randomUUID().slice(0, 8)}`;
    const earlier = await createRxDatabase({ name, storage: wrappedKeyEncryptionCryptoJsStorage({ storage: storage() }), password: KEY, multiInstance: false });
    await earlier.addCollections({ epcrs: { schema: epcrSchema as never } });
    const doc = report();
    await earlier.collections['epcrs']!.insert(doc);
    await earlier.close();
    // A value that is not crypto-js output where an earlier build kept the narrative.
    await damageStored(name, doc.id, (row) => { row['narrative'] = JSON.stringify({ text: 'written in by something else' }); });

    const db = await createFieldsyncDatabase({ name, collections: ['epcrs'], storage: storage(), multiInstance: false, password: KEY });
    open.push(db);
    await expect(db.collections['epcrs']!.findOne(doc.id).exec()).rejects.toThrow(new RegExp(`epcrs document ${doc.id} .*damaged narrative`));
  });

  it('still validates PHI fields against the full schema (validation wraps encryption, not the other way round)', async () => {
    const name = `encval_${randomUUID().slice(0, 8)}`;
    const db = await createFieldsyncDatabase({ name, collections: ['epcrs'], storage: storage(), multiInstance: false, password: KEY });
    open.push(db);
    const bad = { ...report(), vitals: [{ id: 'v1', takenAt: '2026-11-20T10:00:00-05:00', systolic: 9000 }] };
    await expect(db.collections['epcrs']!.insert(bad)).rejects.toMatchObject({ code: 'VD2' });
  });

  it('refuses a key shorter than RxDB\'s minimum', async () => {
    await expect(createFieldsyncDatabase({ name: 'short_key', collections: ['epcrs'], storage: storage(), multiInstance: false, password: 'short' })).rejects.toThrow(/at least 8/);
  });
});
