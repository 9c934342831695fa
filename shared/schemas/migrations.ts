/**
 * Schema versions and their migrations. A device keeps its database across app updates, and
 * RxDB refuses to open a collection whose stored schema differs from the app's at the same
 * version (DB6): every change to a collection's schema (as RxDB normalises it) bumps its
 * `version` and adds the strategy that turns a document of the previous version into one of the
 * new version, next to the schema (one source per collection; index.ts registers them).
 * test/shared/schema-versions.test.ts fails when a schema changed without this.
 *
 * The same strategies run in two places: RxDB's migration plugin on the device (client/sync/
 * database.ts), when an updated app opens a database an earlier build wrote, and the server's
 * push route, for changes an earlier build queued in the service worker's outbox (they travel
 * with the schema version they were queued at, and only the server can open sealed ones).
 *
 * A strategy is a pure function of the document (no collection, no I/O): it must keep every
 * value the person recorded, so it never returns null (which RxDB would take as "delete"), and
 * it keeps `rev`, so a migrated change is still the same change to the server.
 *
 * Every strategy so far only adds optional fields. One that renames or reshapes a field must also
 * look after queued rows coalesced after the update: `enqueueRows` (client/queue/enqueue.ts) gives
 * such a row the new version but keeps its older `base`.
 */
export type JsonDocument = Record<string, unknown>;
export type MigrationStrategy = (doc: JsonDocument) => JsonDocument;
/** Keyed by the version a strategy migrates TO (RxDB's convention): `{ 1: fromV0toV1, 2: fromV1toV2 }`. */
export type MigrationStrategies = Readonly<Record<number, MigrationStrategy>>;

/**
 * For a version that only added optional fields (or loosened a rule): a document of the previous
 * version is already valid as it is.
 */
export const addedOptionalFields: MigrationStrategy = (doc) => doc;

/**
 * For a version that only changed which fields a device stores encrypted (`encrypted`): the
 * document is the same; RxDB's migration reads it with the previous version's list and stores it
 * with the new one (issue #17: every PHI field encrypted on the device).
 */
export const encryptedMoreOnDevice: MigrationStrategy = (doc) => doc;

/** `doc`, written at `fromVersion`, as a document of the newest version (`strategies` must cover every step). */
export function migrateDocument(collection: string, strategies: MigrationStrategies, fromVersion: number, toVersion: number, doc: JsonDocument): JsonDocument {
  let current = doc;
  for (let version = fromVersion + 1; version <= toVersion; version++) {
    const strategy = strategies[version];
    if (!strategy) throw new Error(`${collection} has no migration strategy to version ${version}: add it next to the schema.`);
    current = strategy(current);
  }
  return current;
}
