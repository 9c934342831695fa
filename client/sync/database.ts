import { addRxPlugin, createRxDatabase, META_INSTANCE_SCHEMA_TITLE, type RxCollectionCreator, type RxDatabase, type RxStorage } from 'rxdb';
import { RxDBMigrationSchemaPlugin } from 'rxdb/plugins/migration-schema';
import { conflictHandlerFor } from '../../shared/merge/index.ts';
import { WrongDatabaseKeyError } from './database-key.ts';
import { fieldsyncDexieStorage } from './dexie-storage.ts';
import { withIndexedChangesSince } from './changes-since.ts';
import { wrappedFieldEncryptionStorage } from './field-encryption.ts';
import { loadValidators, wrappedValidatePrecompiledStorage } from './validators/precompiled.ts';
import { collectionMigrationStrategies, collectionSchemas, type CollectionName } from '../../shared/schemas/index.ts';

/**
 * A database an earlier build wrote holds its collections at their earlier schema versions; RxDB
 * brings them to the current ones when the collection is added (shared/schemas/migrations.ts).
 * It copies every document, with its write time, into the new version's storage and migrates the
 * replication's meta (checkpoints and the server state each document was last known to have), so
 * changes not yet pushed are still pushed afterwards. Encrypted fields are read with the same key.
 */
addRxPlugin(RxDBMigrationSchemaPlugin);

/** Open-source RxDB allows at most this many open collections per JavaScript realm. */
export const RXDB_COLLECTION_LIMIT = 13;

/** RxDB's encryption plugin refuses shorter passwords (EN2). */
export const MIN_DATABASE_KEY_LENGTH = 8;

export interface FieldsyncDatabaseOptions {
  /** One database per device and user, e.g. `fieldsync-<tenant>-<user>`. */
  name: string;
  /** Only the collections this app needs: every open collection counts against the realm limit. */
  collections: readonly CollectionName[];
  /** Defaults to Dexie (IndexedDB). Tests pass Dexie over fake-indexeddb. */
  storage?: RxStorage<unknown, unknown>;
  /** Several tabs of one app share the database; only the elected leader replicates. */
  multiInstance?: boolean;
  /**
   * The database key (client/session/keys.ts: a random key, unwrapped with the user's password). With
   * it, the fields a schema lists in `encrypted` (the ePCR's PHI) are stored AES-256-GCM encrypted
   * (field-encryption.ts, WebCrypto), and so is every copy RxDB keeps of them (replication meta).
   * A database created with a key opens only with that key. Without one, the schemas' `encrypted`
   * lists are left out and everything is stored in clear: only for tests and tools that never
   * hold patient data (the apps' database worker always passes one: `OpenOptions.password`).
   */
  password?: string;
}

export { isWrongDatabaseKey, WrongDatabaseKeyError } from './database-key.ts';

/** The storage every fieldsync database uses: validation outside, encryption (with a key) inside, changes found by index. */
export function fieldsyncStorage(base: RxStorage<unknown, unknown>, encrypted: boolean): RxStorage<unknown, unknown> {
  // Encryption replaces each encrypted field's schema with `{type: 'string'}` for the storage
  // below it: a validator inside it would only see ciphertext. Outside, it checks the clear
  // document against the full schema (RxDB dev-mode also wants the validator at the top).
  // Innermost, so the wrappers above it find and keep its getChangedDocumentsSince.
  const indexed = withIndexedChangesSince(base);
  const inner = encrypted ? wrappedFieldEncryptionStorage({ storage: indexed }) : indexed;
  // Validating on the device refuses a bad document when it is written, not hours later at sync.
  // With the validators generated at build time (validators/): open them with loadValidators first.
  const validated = wrappedValidatePrecompiledStorage({ storage: inner });
  return {
    ...validated,
    // RxDB's replication keeps a copy of each synced document (its assumed server state) in a
    // meta collection: copies of documents validated when written, or sent by the server, which
    // validates them with the same schemas. Validating them again was ~8 % of a device's CPU
    // while pushing (Node, 10,000 points).
    //
    // Nor are they announced to the database's other tabs: only the syncing tab's replication reads
    // its meta, from the storage (the other tabs learn what the server holds from its 'masters'
    // announcements, badges.ts), and a tab that takes over the replication opens the meta afresh.
    // Every pulled document's copy crossed the BroadcastChannel for no one to hear (a new tablet's
    // first sync: 22,000 copies, about half of the worker's change-event traffic).
    createStorageInstance: (params) => (params.schema.title === META_INSTANCE_SCHEMA_TITLE
      ? inner.createStorageInstance({ ...params, multiInstance: false })
      : validated.createStorageInstance(params)),
  };
}

/** A schema stored in clear (no key): RxDB storages refuse `encrypted` fields without the encryption wrapper (UT6). */
function withoutEncryption(schema: RxCollectionCreator['schema']): RxCollectionCreator['schema'] {
  if (!schema.encrypted?.length) return schema;
  const { encrypted: _encrypted, ...rest } = schema;
  return rest;
}

export async function createFieldsyncDatabase(options: FieldsyncDatabaseOptions): Promise<RxDatabase> {
  if (options.collections.length > RXDB_COLLECTION_LIMIT) {
    throw new Error(`An app may open at most ${RXDB_COLLECTION_LIMIT} collections; ${options.name} asked for ${options.collections.length}.`);
  }
  const { password } = options;
  if (password !== undefined && password.length < MIN_DATABASE_KEY_LENGTH) {
    throw new Error(`A database key needs at least ${MIN_DATABASE_KEY_LENGTH} characters.`);
  }
  // Before RxDB's first write (its storage token): the validators built in, not compiled here.
  await loadValidators(options.collections);
  const storage = fieldsyncStorage(options.storage ?? fieldsyncDexieStorage(), password !== undefined);
  const db = await createRxDatabase({
    name: options.name, storage, multiInstance: options.multiInstance ?? true, closeDuplicates: false,
    ...(password !== undefined ? { password } : {}),
  });
  const creators: Record<string, RxCollectionCreator> = {};
  for (const name of options.collections) {
    const schema = collectionSchemas[name] as unknown as RxCollectionCreator['schema'];
    creators[name] = {
      schema: password === undefined ? withoutEncryption(schema) : schema,
      conflictHandler: conflictHandlerFor(name) as RxCollectionCreator['conflictHandler'],
      migrationStrategies: collectionMigrationStrategies[name] as RxCollectionCreator['migrationStrategies'],
    };
  }
  try {
    // RxDB compares a given key with the hash it stored beside the data (DB1 when they differ),
    // but does not notice a missing one: an encrypted database must not open without its key.
    const stored = await db.storageTokenDocument;
    if (password === undefined && stored.data.passwordHash) {
      throw new WrongDatabaseKeyError('The data on this device is encrypted; it opens only with its key.');
    }
    // Migrates what an earlier build stored before resolving (RxDB's autoMigrate); with several
    // tabs, one migrates and the others wait for it.
    await db.addCollections(creators);
  } catch (error) {
    // Free the name, so the same realm can try again (e.g. with the right key).
    await db.close().catch(() => false);
    // Another key is refused before a single document is decrypted.
    if ((error as { code?: string }).code === 'DB1') throw new WrongDatabaseKeyError();
    throw error;
  }
  return db;
}
