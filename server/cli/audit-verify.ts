/**
 * `npm run audit:verify`: recomputes the audit log's hash chain in DATA_DIR/fieldsync.sqlite.
 * Exit code 0: every entry matches; 1: the chain is broken (an entry was changed, removed or
 * inserted), with the first bad entry named; 2: no store there, or a configuration error.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, readConfig } from '../config.ts';
import { SqliteStore } from '../store/sqlite.ts';

async function main(): Promise<number> {
  let dataDir: string;
  try {
    dataDir = readConfig().dataDir;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`audit:verify: configuration error: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const file = path.join(dataDir, 'fieldsync.sqlite');
  if (!existsSync(file)) {
    console.error(`audit:verify: there is no store at ${file} (set DATA_DIR)`);
    return 2;
  }
  const store = new SqliteStore({ dataDir });
  try {
    const result = await store.verifyAudit();
    if (result.ok) {
      console.log(`audit:verify: OK, ${result.checked} entries, the hash chain is intact (${file})`);
      return 0;
    }
    console.error(`audit:verify: BROKEN at entry ${result.firstBadId} (after ${result.checked - 1} good entries): the log was altered; ${file}`);
    return 1;
  } finally {
    await store.close();
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error('audit:verify: failed:', error instanceof Error ? error.message : error);
  process.exit(2);
});
