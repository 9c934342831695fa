import { SERVER_DEFAULTS } from '../config.ts';
import { PostgresStore } from './postgres.ts';
import { SqliteStore } from './sqlite.ts';
import type { AuditKey } from './audit-chain.ts';
import type { OutboxPlanner } from './types.ts';
import type { Store } from './types.ts';

/** The store settings of the server config (STORE, DATA_DIR, SQLITE_SYNCHRONOUS, COMMIT_WINDOW_MS, DATABASE_URL, DATABASE_SCHEMA). */
export interface StoreSelection {
  storeKind?: 'sqlite' | 'postgres';
  dataDir?: string;
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  /** SQLite's commit window (COMMIT_WINDOW_MS, COMMIT_WINDOW_GROUP; group-commit.ts). */
  commitWindowMs?: number;
  commitWindowGroup?: number;
  databaseUrl?: string;
  databaseSchema?: string;
  /** PostgreSQL pool size. */
  databasePoolMax?: number;
}

/**
 * Opens the configured store: embedded SQLite in `dataDir` (the default), or PostgreSQL at
 * `databaseUrl`, whose schema and tables are created when missing. Every write plans its outbox
 * entries with `outboxPlanner` (the server's workflows) and chains its audit log with `auditKey`
 * (the server's; tools without one get AuditKey.PUBLIC_TEST_KEY).
 */
export async function openStore(selection: StoreSelection, outboxPlanner?: OutboxPlanner, auditKey?: AuditKey): Promise<Store> {
  const planned = { ...(outboxPlanner ? { outboxPlanner } : {}), ...(auditKey ? { chainKey: auditKey } : {}) };
  if (selection.storeKind === 'postgres') {
    if (!selection.databaseUrl) throw new Error('STORE=postgres needs DATABASE_URL (postgres://user:password@host:5432/database)');
    return PostgresStore.open({
      connectionString: selection.databaseUrl,
      schema: selection.databaseSchema ?? SERVER_DEFAULTS.databaseSchema,
      pool: { max: selection.databasePoolMax ?? 10, application_name: 'fieldsync' },
      ...planned,
    });
  }
  return new SqliteStore({
    dataDir: selection.dataDir ?? SERVER_DEFAULTS.dataDir, synchronous: selection.sqliteSynchronous ?? SERVER_DEFAULTS.sqliteSynchronous,
    commitWindow: { maxWaitMs: selection.commitWindowMs ?? SERVER_DEFAULTS.commitWindowMs, groupOf: selection.commitWindowGroup ?? SERVER_DEFAULTS.commitWindowGroup },
    ...planned,
  });
}
