/**
 * A writer process for the store contract's crash test: opens the store named by STORE_LOCATION
 * and keeps many write batches in flight until it is killed, printing `ack <id>,<id>` on stdout
 * for each batch once its promise resolved (that is, once the store acknowledged it).
 */
import { writeSync } from 'node:fs';
import { openStoreAt, type StoreLocation } from './fixtures.ts';

const location = JSON.parse(process.env['STORE_LOCATION'] ?? 'null') as StoreLocation | null;
if (!location) throw new Error('crash-writer: set STORE_LOCATION to a StoreLocation (JSON)');
const store = await openStoreAt(location);
const TENANT = 'agency-a';
const WRITERS = 8;
let n = 0;

async function writer(w: number): Promise<never> {
  for (;;) {
    const ids = Array.from({ length: 1 + (n % 3) }, () => `w${w}-${n++}`);
    await store.writeBatch({
      collection: 'gps_points', tenantId: TENANT, actor: { kind: 'device', tenantId: TENANT, deviceId: `crash-${w}` },
      requests: ids.map((id) => {
        const doc = { id, tenantId: TENANT, rev: `1-${id}`, lat: w, lng: n, _deleted: false };
        return { id, incoming: doc, decide: () => ({ action: 'write' as const, doc }) };
      }),
    });
    // Synchronous: the line is in the pipe before anything else happens in this process.
    writeSync(1, `ack ${ids.join(',')}\n`);
  }
}

await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
