import { rmSync } from 'node:fs';
import { epcrDoc, gpsDoc } from './lib/docs.ts';
import { rawJsonRates } from './lib/raw-json.ts';
import { rawInsertRate } from './lib/raw-sqlite.ts';
import { TENANT, workDir } from './lib/systems.ts';
import type { RawBaselines } from './summary.ts';

/**
 * Workload D, in the same run as the figures it is compared with: the same documents inserted
 * into plain better-sqlite3 (WAL, synchronous=FULL, batched transactions of 500) and the same
 * batches JSON-encoded and decoded.
 */
export function rawBaselines(count: number): RawBaselines {
  const one = (make: (tenant: string, i: number) => Record<string, unknown>) => {
    const docs = Array.from({ length: count }, (_, i) => make(TENANT, i));
    const dir = workDir('raw');
    try {
      const insertDocsPerSec = Math.max(rawInsertRate(dir, docs, 500, 'FULL'), rawInsertRate(dir, docs.map((d) => ({ ...d, id: crypto.randomUUID() })), 500, 'FULL'));
      return { insertDocsPerSec, ...rawJsonRates(docs, 500) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return { small: one(gpsDoc), epcr: one(epcrDoc) };
}
