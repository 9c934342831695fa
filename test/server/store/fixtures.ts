import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../../../server/store/postgres.ts';
import type { CommitWindow } from '../../../server/store/group-commit.ts';
import { SqliteStore } from '../../../server/store/sqlite.ts';
import type { OutboxPlanner } from '../../../server/store/types.ts';
import type { Store } from '../../../server/store/types.ts';
import { makeDataDir } from '../../helpers/server.ts';

/** Where a store keeps its data, so that another process can open the same store. */
export type StoreLocation =
  | { kind: 'sqlite'; dataDir: string; commitWindow?: CommitWindow }
  | { kind: 'postgres'; connectionString: string; schema: string };

/** A fresh, empty store for one test, with the few back doors the contract needs. */
export interface StoreFixture {
  /** The store under test (replaced by `reopen`). */
  store: Store;
  location: StoreLocation;
  /** Closes the store and opens a new one on the same data, as a restarted server would. */
  reopen(): Promise<Store>;
  /** Which of these documents another connection to the data sees as committed. */
  committedIds(collection: string, ids: string[]): Promise<string[]>;
  /** While true, every commit of the store fails (stores with a seam for it; see `runStoreContract`'s options). */
  failCommits?(fail: boolean): void;
  /** Another store on the same data (another process, in effect); absent when the store is single-process by design. */
  peer?: () => Promise<Store>;
  /** Rewrites the stored text of one audit entry behind the store's back. */
  tamperAudit(id: number, entry: string): Promise<void>;
  /** Closes the store (and any peers) and removes the data. */
  dispose(): Promise<void>;
}

/** Opens a fixture whose stores (the first, reopened ones, peers) plan their outbox with `outboxPlanner`. */
export type StoreFactory = (outboxPlanner?: OutboxPlanner) => Promise<StoreFixture>;

/** Opens the store a location names (a child process of a crash test does the same). */
export async function openStoreAt(location: StoreLocation): Promise<Store> {
  if (location.kind === 'sqlite') return new SqliteStore({ dataDir: location.dataDir, ...(location.commitWindow ? { commitWindow: location.commitWindow } : {}) });
  return PostgresStore.open({ connectionString: location.connectionString, schema: location.schema, pool: { max: 4 } });
}

/** The product's setting (synchronous FULL): writes are answered only after the WAL is synced. */
export const sqliteFactory: StoreFactory = async (outboxPlanner) => {
  const dataDir = makeDataDir('store-contract');
  let failing = false;
  const open = () => new SqliteStore({ dataDir, beforeCommit: () => { if (failing) throw new Error('injected commit failure'); }, ...(outboxPlanner ? { outboxPlanner } : {}) });
  const fixture: StoreFixture = {
    store: open(),
    location: { kind: 'sqlite', dataDir },
    async reopen() {
      await fixture.store.close();
      fixture.store = open();
      return fixture.store;
    },
    async committedIds(collection, ids) {
      const db = new Database(path.join(dataDir, 'fieldsync.sqlite'), { readonly: true });
      try {
        return (db.prepare('SELECT id FROM documents WHERE collection = ? AND id IN (SELECT value FROM json_each(?))').all(collection, JSON.stringify(ids)) as { id: string }[]).map((r) => r.id);
      } finally {
        db.close();
      }
    },
    failCommits(fail) {
      failing = fail;
    },
    async tamperAudit(id, entry) {
      const db = new Database(path.join(dataDir, 'fieldsync.sqlite'));
      try {
        db.prepare('UPDATE audit SET entry = ? WHERE id = ?').run(entry, id);
      } finally {
        db.close();
      }
    },
    async dispose() {
      await fixture.store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return fixture;
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
  async openStore(options: { max?: number; beforeCommit?: () => void; outboxPlanner?: OutboxPlanner | undefined } = {}): Promise<{ store: PostgresStore; schema: string }> {
    const schema = await this.create();
    const store = await PostgresStore.open({
      connectionString: TEST_DATABASE_URL, schema, pool: { max: options.max ?? 4 },
      ...(options.beforeCommit ? { beforeCommit: options.beforeCommit } : {}), ...(options.outboxPlanner ? { outboxPlanner: options.outboxPlanner } : {}),
    });
    return { store, schema };
  }

  factory(): StoreFactory {
    return async (outboxPlanner) => {
      let failing = false;
      const beforeCommit = () => { if (failing) throw new Error('injected commit failure'); };
      const planned = outboxPlanner ? { outboxPlanner } : {};
      const { store, schema } = await this.openStore({ beforeCommit, outboxPlanner });
      const peers: Store[] = [];
      const fixture: StoreFixture = {
        store,
        failCommits: (fail) => { failing = fail; },
        location: { kind: 'postgres', connectionString: TEST_DATABASE_URL, schema },
        reopen: async () => {
          await fixture.store.close();
          fixture.store = await PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema, pool: { max: 4 }, beforeCommit, ...planned });
          return fixture.store;
        },
        committedIds: async (collection, ids) => {
          const result = await this.admin.query(`SELECT id FROM ${schema}.documents WHERE collection = $1 AND id = ANY($2::text[])`, [collection, ids]);
          return result.rows.map((r: { id: string }) => r.id);
        },
        peer: async () => {
          const peer = await PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema, pool: { max: 4 }, ...planned });
          peers.push(peer);
          return peer;
        },
        tamperAudit: async (id, entry) => {
          await this.admin.query(`UPDATE ${schema}.audit SET entry = $1 WHERE id = $2`, [entry, id]);
        },
        dispose: async () => {
          await Promise.all([fixture.store, ...peers].map((s) => s.close()));
          await this.admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        },
      };
      return fixture;
    };
  }
}

/**
 * A plain better-sqlite3 file as the store's group commit expects it (WAL, synchronous NORMAL, no
 * automatic checkpoints) with one table `t (id, v)`, in a fresh directory the caller removes.
 */
export function walTestDatabase(label: string): { db: Database.Database; file: string; dir: string } {
  const dir = makeDataDir(label);
  const file = path.join(dir, 'x.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  return { db, file, dir };
}
