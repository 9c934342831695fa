import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import type { RxDatabase, RxStorage } from 'rxdb';
import { fieldsyncDexieStorage } from '../../client/sync/dexie-storage.ts';
import { createFieldsyncDatabase } from '../../client/sync/database.ts';
import type { QueueProtection } from '../../client/sync/queue-seal.ts';
import { startSync, type SyncEngine } from '../../client/sync/sync-engine.ts';
import { DocumentWriter } from '../../client/sync/writes.ts';
import type { CollectionName } from '../../shared/schemas/index.ts';
import type { OutboxDb } from '../../client/queue/index.ts';
import { waitBudgetMs } from './wait-budget.ts';

export interface TestDevice {
  db: RxDatabase;
  /** The running sync engine; replaced by goOnline(). */
  sync: SyncEngine;
  /** Stops replicating (the device keeps working locally, as in a dead zone). */
  goOffline(): Promise<void>;
  /** Starts replicating again from the stored checkpoints. */
  goOnline(): void;
  writer: DocumentWriter;
  deviceId: string;
  close(): Promise<void>;
}

let counter = 0;

/** A real RxDB client on Dexie over fake-indexeddb, replicating with the real sync library. */
export async function createDevice(options: {
  serverUrl: string;
  token: string;
  collections: readonly CollectionName[];
  deviceId?: string;
  live?: boolean;
  retryTimeMs?: number;
  pushBatchSize?: number;
  fetch?: typeof fetch;
  /** How often the device asks which documents left its slice (0: only when the test asks). */
  scopeCheckIntervalMs?: number;
  /** Push into a service-worker outbound queue (delivered by the test) instead of over HTTP. */
  outbox?: OutboxDb;
  /** How the queue keeps patient data; default: in clear (what a developer session does). */
  protection?: QueueProtection;
  /** The signed-in user the queue records beside each row. */
  userId?: string;
  /** The database key: the schemas' encrypted fields are sealed on the device. */
  password?: string;
  /** Documents per request of a new device's first-sync import (default: the server's largest page). */
  importPageSize?: number;
  /** Import a new device's slice before RxDB's replication starts (default true, as in the apps: sync-engine.ts). */
  firstSyncImport?: boolean;
  /** The database name (default: a new one): a device reopened on the same fake IndexedDB. */
  dbName?: string;
  /** What the storage over fake IndexedDB becomes (a test that makes one write fail or hang). */
  wrapStorage?: (storage: RxStorage<any, any>) => RxStorage<any, any>;
  /** Documents per page of RxDB's own pull (default: sync-engine.ts's). */
  pullBatchSize?: number;
  /** Told how many documents arrived from the server (a first sync's progress: sync-engine.ts). */
  onReceived?: (collection: CollectionName, count: number) => void;
}): Promise<TestDevice> {
  const deviceId = options.deviceId ?? `dev${++counter}x${process.pid}`;
  const db = await createFieldsyncDatabase({
    name: options.dbName ?? `fs-${deviceId}-${Date.now()}`.toLowerCase(),
    collections: options.collections,
    storage: (options.wrapStorage ?? ((storage) => storage))(fieldsyncDexieStorage({ indexedDB, IDBKeyRange })) as never,
    multiInstance: false,
    ...(options.password ? { password: options.password } : {}),
  });
  const start = () => startSync(db, {
    serverUrl: options.serverUrl,
    getToken: () => options.token,
    collections: options.collections,
    replicationId: deviceId,
    deviceId,
    retryTimeMs: options.retryTimeMs ?? 200,
    ...(options.live === undefined ? {} : { live: options.live }),
    ...(options.pushBatchSize ? { pushBatchSize: options.pushBatchSize } : {}),
    ...(options.pullBatchSize ? { pullBatchSize: options.pullBatchSize } : {}),
    ...(options.onReceived ? { onReceived: options.onReceived } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.importPageSize ? { importPageSize: options.importPageSize } : {}),
    ...(options.firstSyncImport === undefined ? {} : { firstSyncImport: options.firstSyncImport }),
    ...(options.scopeCheckIntervalMs !== undefined ? { scopeCheckIntervalMs: options.scopeCheckIntervalMs } : {}),
    ...(options.outbox ? {
      outbox: { db: options.outbox, protection: options.protection ?? { kind: 'clear' }, ...(options.userId ? { userId: options.userId } : {}) },
    } : {}),
  });
  let online = true;
  const device: TestDevice = {
    db,
    sync: start(),
    writer: new DocumentWriter(db, deviceId),
    deviceId,
    async goOffline() {
      if (!online) return;
      online = false;
      await device.sync.stop();
    },
    goOnline() {
      if (online) return;
      online = true;
      device.sync = start();
    },
    async close() {
      if (online) await device.sync.stop();
      await db.close();
    },
  };
  return device;
}

/**
 * Polls until `check` holds; fails with `what` after the timeout. Used for eventual arrival.
 * Without a timeout it waits until shortly before the test's own limit (wait-budget.ts).
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = waitBudgetMs()): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
