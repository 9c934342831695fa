import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../../../server/store/postgres.ts';
import { SqliteStore } from '../../../server/store/sqlite.ts';
import type { Store } from '../../../server/store/types.ts';
import { makeDataDir } from '../../helpers/server.ts';

/** A fresh, empty store for one test, with the few back doors the contract needs. */
export interface StoreFixture {
  store: Store;
  /** Another store on the same data (another process, in effect); absent when the store is single-process by design. */
  peer?: () => Promise<Store>;
  /** Rewrites the stored text of one audit entry behind the store's back. */
  tamperAudit(id: number, entry: string): Promise<void>;
  /** Closes the store (and any peers) and removes the data. */
  dispose(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreFixture>;

export const sqliteFactory: StoreFactory = async () => {
  const dataDir = makeDataDir('store-contract');
  const store = new SqliteStore({ dataDir, synchronous: 'NORMAL' });
  return {
    store,
    async tamperAudit(id, entry) {
      const db = new Database(path.join(dataDir, 'fieldsync.sqlite'));
      try {
        db.prepare('UPDATE audit SET entry = ? WHERE id = ?').run(entry, id);
      } finally {
        db.close();
      }
    },
    async dispose() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
/** `SKIP_POSTGRES_TESTS=1` skips the PostgreSQL runs (they are reported as skipped, not passed). */
export const SKIP_POSTGRES = process.env['SKIP_POSTGRES_TESTS'] === '1';

/**
 * Schemas for one test file: each has a random name (`fs_<file tag>_<n>`) so test files running
 * in parallel never share tables; `dropAll` removes them when the file is done.
 */
export class PgSchemas {
  private readonly admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  private readonly created: string[] = [];
  private readonly tag = randomBytes(5).toString('hex');

  async create(): Promise<string> {
    const schema = `fs_${this.tag}_${this.created.length}`;
    await this.admin.query(`CREATE SCHEMA ${schema}`);
    this.created.push(schema);
    return schema;
  }

  async query(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
    return this.admin.query(text, values);
  }

  async dropAll(): Promise<void> {
    for (const schema of this.created.splice(0)) await this.admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await this.admin.end();
  }

  /** A store on a fresh schema. */
  async openStore(options: { max?: number } = {}): Promise<{ store: PostgresStore; schema: string }> {
    const schema = await this.create();
    const store = await PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema, pool: { max: options.max ?? 4 } });
    return { store, schema };
  }

  factory(): StoreFactory {
    return async () => {
      const { store, schema } = await this.openStore();
      const peers: Store[] = [];
      return {
        store,
        peer: async () => {
          const peer = await PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema, pool: { max: 4 } });
          peers.push(peer);
          return peer;
        },
        tamperAudit: async (id, entry) => {
          await this.admin.query(`UPDATE ${schema}.audit SET entry = $1 WHERE id = $2`, [entry, id]);
        },
        dispose: async () => {
          await Promise.all([store, ...peers].map((s) => s.close()));
          await this.admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        },
      };
    };
  }
}
