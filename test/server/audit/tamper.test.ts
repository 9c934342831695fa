/**
 * The audit log cannot be shortened or rewritten unseen (issue 17, finding 3): six tamperings of
 * a real server's log, each made behind the server's back through another connection to its
 * database (or to its checkpoint file), each named by `npm run audit:verify` (the CLI, run as an
 * operator would, with the server's settings), on SQLite and on PostgreSQL. Before the keyed
 * chain and its checkpoints, audit:verify said OK after all but the edit without recomputation.
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { openStore } from '../../../server/store/store-factory.ts';
import { AuditKey } from '../../../server/store/audit-chain.ts';
import { make, pullAll, seed } from '../../helpers/access.ts';
import { startTestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES, TEST_DATABASE_URL } from '../store/fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const A = 'agency-a';
/** The operator's key (AUDIT_KEY): what an attacker with the database does not have. */
const KEY = 'aud-test-key-0123456789-abcdefghijklmnopqrstuvwxyz';
/** The development default anyone can read in the source: the first key an attacker would try. */
const GUESSED_KEY = 'fieldsync public test audit key: proves nothing, never for a server';
const schemas = new PgSchemas();
afterAll(async () => { await schemas.dropAll(); });

interface Row { id: number; at: number; tenant_id: string; entry: string; prev_hash: string; hash: string }

/** Raw access to one store's audit tables, as an attacker with the database would have it. */
interface Db {
  rows(): Promise<Row[]>;
  exec(sql: string, values?: unknown[]): Promise<void>;
  close(): Promise<void>;
}

interface Log {
  kind: 'sqlite' | 'postgres';
  dataDir: string;
  env: NodeJS.ProcessEnv;
  checkpointFile: string;
  reportId: string;
  db(): Promise<Db>;
  /** Entries found for the report by "who touched this report" (the store's query an admin's /api/admin/audit uses). */
  whoTouched(): Promise<number>;
  dispose(): void;
}

/**
 * A server's log as it is after a working day's sliver: a report written, then pulled by its
 * crew 8 times (9 entries name it), checkpoints written at start, on demand and at shutdown.
 */
async function makeLog(kind: 'sqlite' | 'postgres'): Promise<Log> {
  const schema = kind === 'postgres' ? await schemas.create() : '';
  const storeOptions = kind === 'postgres' ? { storeKind: 'postgres' as const, databaseUrl: TEST_DATABASE_URL, databaseSchema: schema } : {};
  const server = await startTestServer({ auditKey: KEY, clientDir: false, ...storeOptions });
  const report = make.epcrs(A, { unitId: 'M1' });
  await seed(server.app.store, 'epcrs', [report]);
  const crew = devToken({ tenantId: A, role: 'crew', deviceId: 'tab-m1', subject: 'M1' });
  for (let i = 0; i < 8; i++) {
    await pullAll(server, crew, 'epcrs', 100);
    if (i === 3) await server.app.auditCheckpoints?.checkpoint();
  }
  await server.app.auditCheckpoints?.checkpoint();
  const dataDir = server.dataDir;
  await server.close({ keepData: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env, DATA_DIR: dataDir, AUDIT_KEY: KEY, AUDIT_KEY_FILE: '',
    ...(kind === 'postgres' ? { STORE: 'postgres', DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema } : { STORE: 'sqlite' }),
  };
  const log: Log = {
    kind, dataDir, env, checkpointFile: path.join(dataDir, 'audit-checkpoints.jsonl'), reportId: report.id,
    async db() {
      if (kind === 'sqlite') {
        const sqlite = new Database(path.join(dataDir, 'fieldsync.sqlite'));
        return {
          rows: async () => sqlite.prepare('SELECT * FROM audit ORDER BY id').all() as Row[],
          exec: async (sql, values = []) => { sqlite.prepare(sql.replaceAll(/\$\d+/g, '?')).run(...values); },
          close: async () => { sqlite.close(); },
        };
      }
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`SET search_path TO ${schema}`);
      return {
        rows: async () => (await client.query<Row>('SELECT * FROM audit ORDER BY id')).rows.map((r) => ({ ...r, id: Number(r.id), at: Number(r.at) })),
        exec: async (sql, values = []) => { await client.query(sql, values); },
        close: async () => { await client.end(); },
      };
    },
    async whoTouched() {
      const store = await openStore({ ...storeOptions, dataDir }, undefined, new AuditKey(KEY));
      try {
        return (await store.queryAudit({ tenantId: A, documentId: report.id, limit: 100 })).length;
      } finally {
        await store.close();
      }
    },
    dispose() { rmSync(dataDir, { recursive: true, force: true }); },
  };
  return log;
}

function verify(log: Log): { status: number | null; out: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/cli/audit-verify.ts')], { cwd: ROOT, env: log.env, encoding: 'utf8' });
  if (process.env["AUD_SHOW"]) console.log(`${run.stdout}${run.stderr}`);
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

/** Rewrites entries from `from` on as an attacker would: same links, hashes made with `hash`. */
async function recompute(db: Db, from: number, hash: (prev: string, row: Row) => string): Promise<void> {
  const rows = await db.rows();
  let prev = rows.filter((r) => r.id < from).at(-1)?.hash ?? '0'.repeat(64);
  for (const row of rows.filter((r) => r.id >= from)) {
    const next = hash(prev, row);
    await db.exec('UPDATE audit SET prev_hash = $1, hash = $2 WHERE id = $3', [prev, next, row.id]);
    prev = next;
  }
}

const plain = (prev: string, r: Row) => createHash('sha256').update(`${prev}\n${r.at}\n${r.tenant_id}\n${r.entry}`).digest('hex');
const guessed = (prev: string, r: Row) => createHmac('sha256', GUESSED_KEY).update(`${prev}\n${r.at}\n${r.tenant_id}\n${r.entry}`).digest('hex');

/** The first read of the report by the crew's tablet: the entry an attacker wants to change. */
async function aRead(db: Db): Promise<Row> {
  const row = (await db.rows()).find((r) => r.entry.includes('"action":"read"') && r.entry.includes('tab-m1'));
  if (!row) throw new Error('no read entry in the log');
  return row;
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(kind === 'postgres' && SKIP_POSTGRES)(`audit:verify on ${kind} names each tampering`, () => {
    it('an untouched log verifies: 9 entries name the report, every checkpoint holds', async () => {
      const log = await makeLog(kind);
      try {
        expect(await log.whoTouched()).toBe(9);
        const result = verify(log);
        expect(result.status, result.out).toBe(0);
        expect(result.out).toMatch(/OK, \d+ entries, [3-9] checkpoints/);
      } finally {
        log.dispose();
      }
    });

    it('1. the last entries deleted', async () => {
      const log = await makeLog(kind);
      try {
        const db = await log.db();
        const rows = await db.rows();
        // The last read, the shutdown checkpoint's own entry and two more: within what checkpoints covered.
        await db.exec('DELETE FROM audit WHERE id >= $1', [rows[rows.length - 4]!.id]);
        await db.exec('DELETE FROM audit_documents WHERE audit_id >= $1', [rows[rows.length - 4]!.id]);
        await db.close();
        const result = verify(log);
        expect(result.status, result.out).toBe(1);
        expect(result.out).toMatch(/the log ends at entry \d+ after \d+ entries, but checkpoint \d+ .* recorded \d+ entries up to entry \d+: entries were removed from the end/);
      } finally {
        log.dispose();
      }
    });

    it('2. an entry edited and the plain SHA-256 chain recomputed after it', async () => {
      const log = await makeLog(kind);
      try {
        const db = await log.db();
        const victim = await aRead(db);
        await db.exec('UPDATE audit SET entry = $1 WHERE id = $2', [victim.entry.replace('tab-m1', 'nobody'), victim.id]);
        await recompute(db, victim.id, plain);
        await db.close();
        const result = verify(log);
        expect(result.status, result.out).toBe(1);
        expect(result.out).toContain(`BROKEN at entry ${victim.id}`);
        expect(result.out).toMatch(new RegExp(`entry ${victim.id} matches neither the keyed hash|entry ${victim.id} does not match its keyed hash`));
        expect(result.out).toMatch(/the log was rewritten up to there/);
      } finally {
        log.dispose();
      }
    });

    it('3. an entry edited and the chain recomputed with a guessed key', async () => {
      const log = await makeLog(kind);
      try {
        const db = await log.db();
        const victim = await aRead(db);
        await db.exec('UPDATE audit SET entry = $1 WHERE id = $2', [victim.entry.replace('tab-m1', 'nobody'), victim.id]);
        await recompute(db, victim.id, guessed);
        await db.close();
        const result = verify(log);
        expect(result.status, result.out).toBe(1);
        expect(result.out).toContain(`BROKEN at entry ${victim.id}`);
        expect(result.out).toMatch(/recomputed without the audit key|not the key the log was written with/);
      } finally {
        log.dispose();
      }
    });

    it('4. the audit table emptied', async () => {
      const log = await makeLog(kind);
      try {
        const db = await log.db();
        await db.exec('DELETE FROM audit');
        await db.exec('DELETE FROM audit_documents');
        await db.close();
        expect(await log.whoTouched()).toBe(0);
        const result = verify(log);
        expect(result.status, result.out).toBe(1);
        expect(result.out).toMatch(/the log is empty, but checkpoint \d+ .* recorded \d+ entries .*: the audit table was emptied/);
      } finally {
        log.dispose();
      }
    });

    it('5. the report\'s per-document index rows deleted ("who touched this report" answers 0 instead of 9)', async () => {
      const log = await makeLog(kind);
      try {
        const db = await log.db();
        await db.exec('DELETE FROM audit_documents WHERE document_id = $1', [log.reportId]);
        await db.close();
        expect(await log.whoTouched()).toBe(0);
        const result = verify(log);
        expect(result.status, result.out).toBe(1);
        expect(result.out).toContain(`names document ${log.reportId} but the per-document index has no row for it: index rows were deleted`);
        // Every one of the 9 entries is named (one line each, up to the report's cap).
        expect(result.out.split(log.reportId).length - 1).toBe(9);
      } finally {
        log.dispose();
      }
    });

    it('6. the last lines of the checkpoint file deleted (the log says they were written)', async () => {
      const log = await makeLog(kind);
      try {
        const lines = readFileSync(log.checkpointFile, 'utf8').trimEnd().split('\n');
        expect(lines.length).toBeGreaterThanOrEqual(3);
        writeFileSync(log.checkpointFile, `${lines.slice(0, -2).join('\n')}\n`);
        const result = verify(log);
        expect(result.status, result.out).toBe(1);
        expect(result.out).toMatch(new RegExp(`the log records checkpoint ${lines.length} of this file as written \\(entry \\d+\\), but the file ends at checkpoint ${lines.length - 2}: its last 2 lines were removed`));
        // And a file removed altogether.
        rmSync(log.checkpointFile);
        const gone = verify(log);
        expect(gone.status, gone.out).toBe(1);
        expect(gone.out).toMatch(/there is no checkpoint in .*, but the log records \d+ checkpoints written .*: the checkpoint file was removed/);
      } finally {
        log.dispose();
      }
    });
  });
}
