/**
 * Upgrading keeps the old log verifiable: a chain written with plain SHA-256 (before the keyed
 * chain) verifies up to the switch point, the server chains on with the key from there, and the
 * old prefix cannot be rewritten afterwards either (the first keyed entry's MAC covers its head).
 * Also the audit settings: checked in config.ts, the key never beside the log, and the
 * development key made once outside DATA_DIR.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAuditKey } from '../../../server/audit/key.ts';
import { verifyAuditLog } from '../../../server/audit/verify.ts';
import { readConfig } from '../../../server/config.ts';
import { AuditKey } from '../../../server/store/audit-chain.ts';
import { SqliteStore } from '../../../server/store/sqlite.ts';
import { make, seed } from '../../helpers/access.ts';
import { makeDataDir, startTestServer } from '../../helpers/server.ts';

const KEY = 'aud-migration-key-0123456789-abcdefghijklmnopqrstuv';
const A = 'agency-a';
const plain = (prev: string, at: number, tenant: string, entry: string) => createHash('sha256').update(`${prev}\n${at}\n${tenant}\n${entry}`).digest('hex');

/** A data directory as the previous version left it: three entries chained with plain SHA-256. */
function legacyLog(): string {
  const dataDir = makeDataDir('aud-legacy');
  new SqliteStore({ dataDir }).close();
  const db = new Database(path.join(dataDir, 'fieldsync.sqlite'));
  let prev = '0'.repeat(64);
  for (let i = 0; i < 3; i++) {
    const entry = JSON.stringify({ tenantId: A, action: 'read', actor: { kind: 'device', tenantId: A, userId: `u${i}` }, collection: 'epcrs', documents: [{ id: `e${i}` }] });
    const hash = plain(prev, 1_700_000_000_000 + i, A, entry);
    const { lastInsertRowid } = db.prepare('INSERT INTO audit (at, tenant_id, entry, prev_hash, hash) VALUES (?, ?, ?, ?, ?)').run(1_700_000_000_000 + i, A, entry, prev, hash);
    db.prepare('INSERT INTO audit_documents (audit_id, document_id) VALUES (?, ?)').run(lastInsertRowid, `e${i}`);
    prev = hash;
  }
  db.close();
  return dataDir;
}

describe('a plain SHA-256 chain from before the upgrade', () => {
  it('verifies up to the switch point; the server chains on with the key; the old prefix cannot be rewritten afterwards', async () => {
    const dataDir = legacyLog();
    try {
      const server = await startTestServer({ dataDir, auditKey: KEY, clientDir: false });
      await seed(server.app.store, 'epcrs', [make.epcrs(A)]);
      await server.close({ keepData: true });

      const key = new AuditKey(KEY);
      const checkpoints = path.join(dataDir, 'audit-checkpoints.jsonl');
      const store = new SqliteStore({ dataDir, chainKey: key });
      try {
        const result = await verifyAuditLog(store, key, checkpoints);
        expect(result.problems).toEqual([]);
        expect(result.chain.legacyEntries).toBe(3);
        expect(result.summary).toContain('the first 3 entries carry the plain SHA-256 hash');
      } finally {
        await store.close();
      }

      // Rewrite an old entry and recompute the plain prefix: the first keyed entry no longer links.
      const db = new Database(path.join(dataDir, 'fieldsync.sqlite'));
      const rows = db.prepare('SELECT * FROM audit WHERE id <= 3 ORDER BY id').all() as { id: number; at: number; tenant_id: string; entry: string }[];
      let prev = '0'.repeat(64);
      for (const row of rows) {
        const entry = row.id === 2 ? row.entry.replace('"u1"', '"someone-else"') : row.entry;
        const hash = plain(prev, row.at, row.tenant_id, entry);
        db.prepare('UPDATE audit SET entry = ?, prev_hash = ?, hash = ? WHERE id = ?').run(entry, prev, hash, row.id);
        prev = hash;
      }
      db.close();
      const again = new SqliteStore({ dataDir, chainKey: key });
      try {
        const result = await verifyAuditLog(again, key, checkpoints);
        expect(result.ok).toBe(false);
        expect(result.problems[0]).toMatch(/^entry 4 does not link to the entry before it/);
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a plain-hashed entry after keyed ones is refused (no switching back)', async () => {
    const dataDir = makeDataDir('aud-back');
    const key = new AuditKey(KEY);
    try {
      const store = new SqliteStore({ dataDir, chainKey: key });
      await store.appendAudit([{ tenantId: A, action: 'login', actor: { kind: 'system', tenantId: A } }]);
      await store.close();
      const db = new Database(path.join(dataDir, 'fieldsync.sqlite'));
      const last = db.prepare('SELECT hash FROM audit ORDER BY id DESC LIMIT 1').get() as { hash: string };
      const entry = JSON.stringify({ tenantId: A, action: 'login', actor: { kind: 'system', tenantId: A } });
      db.prepare('INSERT INTO audit (at, tenant_id, entry, prev_hash, hash) VALUES (?, ?, ?, ?, ?)').run(1, A, entry, last.hash, plain(last.hash, 1, A, entry));
      db.close();
      const reopened = new SqliteStore({ dataDir, chainKey: key });
      try {
        expect(await reopened.verifyAudit()).toMatchObject({ ok: false, firstBadId: 2, legacyEntries: 0 });
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('audit settings', () => {
  it('are checked at start-up with messages that say what to do', () => {
    const dataDir = makeDataDir('aud-config');
    try {
      expect(() => readConfig({ DATA_DIR: dataDir, NODE_ENV: 'production', JWT_SECRET: 's'.repeat(40) })).toThrow(/AUDIT_KEY or AUDIT_KEY_FILE is required .* only a demo or development server/);
      // The quick start (nothing configured: a demo server) runs without one.
      expect(readConfig({ DATA_DIR: dataDir })).toMatchObject({ auditKey: undefined, auditKeyFile: undefined, seedDemo: true });
      expect(() => readConfig({ DATA_DIR: dataDir, AUDIT_KEY: 'short' })).toThrow(/AUDIT_KEY must be at least 32 characters, got 5/);
      expect(() => readConfig({ DATA_DIR: dataDir, AUDIT_KEY: KEY, AUDIT_KEY_FILE: '/etc/fieldsync/audit.key' })).toThrow(/not both/);
      expect(() => readConfig({ DATA_DIR: dataDir, AUDIT_KEY_FILE: path.join(dataDir, 'audit.key') })).toThrow(/AUDIT_KEY_FILE must be outside DATA_DIR/);
      expect(() => readConfig({ DATA_DIR: dataDir, AUDIT_CHECKPOINT_URL: 'ftp://sink' })).toThrow(/AUDIT_CHECKPOINT_URL must be an http or https URL/);
      expect(() => readConfig({ DATA_DIR: dataDir, AUDIT_CHECKPOINT_INTERVAL_MS: '5' })).toThrow(/AUDIT_CHECKPOINT_INTERVAL_MS must be between 100/);
      expect(readConfig({ DATA_DIR: dataDir, NODE_ENV: 'production', JWT_SECRET: 's'.repeat(40), AUDIT_KEY: KEY, AUDIT_CHECKPOINT_FILE: '/var/log/fieldsync/audit.jsonl' }))
        .toMatchObject({ auditKey: KEY, auditCheckpointFile: '/var/log/fieldsync/audit.jsonl', auditCheckpointIntervalMs: 60_000 });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('the development key is made once, readable by its owner only, outside DATA_DIR; a verifier never makes one', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'aud-xdg-'));
    try {
      const env = { XDG_CONFIG_HOME: home };
      expect(() => loadAuditKey({ auditKey: undefined, auditKeyFile: undefined }, { create: false, env })).toThrow(/cannot read the audit key file/);
      const first = loadAuditKey({ auditKey: undefined, auditKeyFile: undefined }, { env });
      const second = loadAuditKey({ auditKey: undefined, auditKeyFile: undefined }, { env });
      expect(first).toMatchObject({ development: true, origin: path.join(home, 'fieldsync', 'audit-dev.key') });
      expect(second.key.id).toBe(first.key.id);
      expect(statSync(first.origin).mode & 0o777).toBe(0o600);
      expect(readFileSync(first.origin, 'utf8').trim().length).toBeGreaterThanOrEqual(32);
      expect(loadAuditKey({ auditKey: KEY, auditKeyFile: undefined }).key.id).toBe(new AuditKey(KEY).id);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
