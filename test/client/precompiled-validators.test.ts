/**
 * The validators generated when the apps are built (client/sync/validators/) are the ones every
 * database of a device uses: each collection's schema and RxDB's own store find one (none is
 * compiled when a database opens), with or without the database key, and they refuse what ajv
 * compiling the same schema at run time refuses, with the same errors.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { createRxSchema, defaultHashSha256, INTERNAL_STORE_SCHEMA } from 'rxdb';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { getValidator } from 'rxdb/plugins/validate-ajv';
import { describe, expect, it } from 'vitest';
import { createRxDatabase } from 'rxdb';
import { createFieldsyncDatabase, fieldsyncStorage } from '../../client/sync/database.ts';
import { hasGeneratedValidator, loadValidators } from '../../client/sync/validators/precompiled.ts';
import { COLLECTION_NAMES, collectionSchemas } from '../../shared/schemas/index.ts';
import { DocumentWriter } from '../../client/sync/writes.ts';

/** The schema as RxDB hands it to its storage, i.e. to the validation wrapper. */
const storageSchema = (schema: object) => createRxSchema(schema as never, defaultHashSha256).jsonSchema;

describe('validators generated at build time', () => {
  it('every collection and RxDB\'s own store have one, with the database key and without', async () => {
    await loadValidators(COLLECTION_NAMES);
    expect(hasGeneratedValidator(INTERNAL_STORE_SCHEMA)).toBe(true);
    for (const name of COLLECTION_NAMES) {
      const schema = collectionSchemas[name] as { encrypted?: readonly string[] };
      const { encrypted: _encrypted, ...clear } = schema;
      expect(hasGeneratedValidator(storageSchema(schema)), name).toBe(true);
      expect(hasGeneratedValidator(storageSchema(clear)), `${name} without a key`).toBe(true);
    }
  });

  it('a schema it was not generated from is not taken for one', async () => {
    await loadValidators(['incidents']);
    const changed = { ...collectionSchemas.incidents, version: collectionSchemas.incidents.version + 1 };
    expect(hasGeneratedValidator(storageSchema(changed))).toBe(false);
  });

  it('a schema without generated code is validated all the same (ajv loaded and compiling it)', async () => {
    const db = await createRxDatabase({ name: `n${randomUUID().slice(0, 8)}`, storage: fieldsyncStorage(getRxStorageMemory(), false), multiInstance: false, closeDuplicates: false });
    try {
      const schema = { version: 0, primaryKey: 'id', type: 'object', properties: { id: { type: 'string', maxLength: 40 }, n: { type: 'integer', maximum: 5 } }, required: ['id'] } as const;
      expect(hasGeneratedValidator(storageSchema(schema))).toBe(false);
      const { things } = await db.addCollections({ things: { schema } });
      await things!.insert({ id: 'a', n: 5 });
      await expect(things!.insert({ id: 'b', n: 6 })).rejects.toMatchObject({ code: 'VD2' });
      expect(await things!.findOne('b').exec()).toBeNull();
    } finally {
      await db.close();
    }
  });

  it('refuses what ajv compiling the schema at run time refuses, with the same errors', async () => {
    const db = await createFieldsyncDatabase({ name: `v${randomUUID().slice(0, 8)}`, collections: ['incidents'], storage: getRxStorageMemory(), multiInstance: false });
    try {
      const writer = new DocumentWriter(db, 'test-device');
      const compiled = getValidator(db.collections['incidents']!.schema.jsonSchema as never);
      // A string too long (counted in code points: 30 emoji are 60 UTF-16 units), a status not in its list.
      for (const bad of [{ priority: '🚑'.repeat(30) }, { status: 'nonsense' }]) {
        const doc = { id: randomUUID(), tenantId: 't1', incidentNumber: '2026-1', status: 'new', timeline: {}, ...bad };
        const refused = await writer.insert('incidents', doc as never).then(() => undefined, (error: { parameters?: { writeError?: { validationErrors?: unknown[]; writeRow?: { document: unknown } } } }) => error);
        expect(refused, JSON.stringify(bad)).toBeDefined();
        const stored = await db.collections['incidents']!.findOne(doc.id).exec();
        expect(stored).toBeNull();
        const writeError = refused?.parameters?.writeError;
        expect(writeError?.validationErrors?.length).toBeGreaterThan(0);
        expect(writeError?.validationErrors).toEqual(compiled(writeError?.writeRow?.document as never));
      }
      // Within the limit in code points (but not in UTF-16 units): stored.
      const ok = { id: randomUUID(), tenantId: 't1', incidentNumber: '2026-2', status: 'new', timeline: {}, priority: '🚑'.repeat(10) };
      await writer.insert('incidents', ok as never);
      expect((await db.collections['incidents']!.findOne(ok.id).exec())?.toJSON().priority).toBe(ok.priority);
    } finally {
      await db.close();
    }
  });

  it('a generated validator that does not load, or loads broken, fails the open naming it; not compiled quietly instead', async () => {
    const built = (await import('virtual:fieldsync-validators')).validators;
    const withIncidents = (incidents: () => Promise<never>) => async () => ({ ...built, incidents });
    await expect(loadValidators(['incidents'], withIncidents(() => Promise.reject(new TypeError('Failed to fetch dynamically imported module')))))
      .rejects.toThrow(/generated validator of incidents did not load .*Failed to fetch.*reload the app/);
    await expect(loadValidators(['incidents'], withIncidents(() => Promise.resolve({ key: 'k' } as never))))
      .rejects.toThrow(/generated validator of incidents is broken/);
    // The list itself failing is not taken for a process without Vite.
    await expect(loadValidators(['incidents'], () => Promise.reject(new SyntaxError('Unexpected token'))))
      .rejects.toThrow(/list of generated validators did not load .*Unexpected token/);
  });

  it('a process not built by Vite (the library run by tsx) compiles every schema at run time', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const script = "import { hasGeneratedValidator, loadValidators } from './client/sync/validators/precompiled.ts';"
      + "import { INTERNAL_STORE_SCHEMA } from 'rxdb';"
      + "await loadValidators(['incidents']); console.log(JSON.stringify({ generated: hasGeneratedValidator(INTERNAL_STORE_SCHEMA) }));";
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ generated: false });
  });
});
