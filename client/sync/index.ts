export { createFieldsyncDatabase, isWrongDatabaseKey, RXDB_COLLECTION_LIMIT, WrongDatabaseKeyError, type FieldsyncDatabaseOptions } from './database.ts';
export { startSync, type SyncEngine, type SyncOptions, type SyncStatus } from './sync-engine.ts';
export { DocumentWriter } from './writes.ts';
export { SyncTransport } from './transport.ts';
export { countPendingDocuments } from './pending.ts';
export { replicateCollection, type CollectionReplicationOptions } from './replication.ts';
