/**
 * `npm run audit:verify`: verifies the audit log of the configured store (STORE: SQLite in
 * DATA_DIR, or PostgreSQL at DATABASE_URL) with the configured key (AUDIT_KEY, AUDIT_KEY_FILE or
 * the development key) against the signed checkpoints in AUDIT_CHECKPOINT_FILE: the keyed hash
 * chain, the per-document index, and that the log was not cut short, emptied or recomputed.
 * Exit code 0: all of it holds; 1: it does not, each problem named; 2: no store there, no key,
 * or a configuration error. Safe while the server runs (it reads one snapshot, writes nothing).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadAuditKey } from '../audit/key.ts';
import { verifyAuditLog } from '../audit/verify.ts';
import { auditCheckpointFileOf, ConfigError, readConfig, type ServerConfig } from '../config.ts';
import { openStore } from '../store/store-factory.ts';

async function main(): Promise<number> {
  let config: ServerConfig;
  try {
    config = readConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`audit:verify: configuration error: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const where = config.storeKind === 'postgres' ? `PostgreSQL schema ${config.databaseSchema}` : path.join(config.dataDir, 'fieldsync.sqlite');
  if (config.storeKind === 'sqlite' && !existsSync(where)) {
    console.error(`audit:verify: there is no store at ${where} (set DATA_DIR)`);
    return 2;
  }
  let key;
  try {
    // Never makes a key: a verifier without the server's key has nothing to check with.
    key = loadAuditKey(config, { create: false }).key;
  } catch (error) {
    console.error(`audit:verify: no audit key: ${error instanceof Error ? error.message : String(error)}. Set AUDIT_KEY or AUDIT_KEY_FILE as the server has it.`);
    return 2;
  }
  const checkpointFile = auditCheckpointFileOf(config);
  const store = await openStore(config, undefined, key);
  try {
    const result = await verifyAuditLog(store, key, checkpointFile);
    if (result.ok) {
      console.log(`audit:verify: OK, ${result.summary}; the keyed chain, its index and every checkpoint hold (${where}, ${checkpointFile})`);
      return 0;
    }
    console.error(`audit:verify: BROKEN${result.chain.firstBadId !== undefined ? ` at entry ${result.chain.firstBadId}` : ''}: the audit log was altered (${where}, ${checkpointFile})`);
    for (const problem of result.problems) console.error(`  - ${problem}`);
    console.error(`  (${result.summary})`);
    return 1;
  } finally {
    await store.close();
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error('audit:verify: failed:', error instanceof Error ? error.message : error);
  process.exit(2);
});
