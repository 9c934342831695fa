import Database from 'better-sqlite3';
import path from 'node:path';

/**
 * The physical limit the server is measured against: the same documents inserted into a plain
 * better-sqlite3 table (WAL, same synchronous setting) in batched transactions, no HTTP, no
 * validation, no sequence index.
 */
export function rawInsertRate(dir: string, docs: Record<string, unknown>[], batch: number, synchronous: 'FULL' | 'NORMAL'): number {
  const db = new Database(path.join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('DROP TABLE IF EXISTS docs; CREATE TABLE docs (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO docs (id, body) VALUES (?, ?)');
  const tx = db.transaction((rows: Record<string, unknown>[]) => {
    for (const row of rows) insert.run(row['id'] as string, JSON.stringify(row));
  });
  const start = performance.now();
  for (let i = 0; i < docs.length; i += batch) tx(docs.slice(i, i + batch));
  const seconds = (performance.now() - start) / 1000;
  db.close();
  return docs.length / seconds;
}

/** Raw read of the newest `limit` rows after a position, the way the pull query does it. */
export function rawRecentReadMs(file: string, collection: string, tenantId: string, afterSeq: number, limit: number, repeats: number): number[] {
  const db = new Database(file, { readonly: true });
  const stmt = db.prepare('SELECT body FROM documents WHERE collection = ? AND tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?');
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    const rows = stmt.all(collection, tenantId, afterSeq, limit) as { body: string }[];
    JSON.stringify(rows.map((r) => r.body));
    times.push(performance.now() - start);
  }
  db.close();
  return times;
}
