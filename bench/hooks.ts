import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { devToken } from '../server/auth/identity.ts';
import { billingRecordId, nemsisArtifactKey } from '../server/hooks/workflows/index.ts';
import { completeEpcr } from '../test/server/hooks/support.ts';
import { makeDataDir, startTestServer } from '../test/helpers/server.ts';
import { gpsDoc } from './lib/docs.ts';
import { figure, percentile, type BenchFigure } from './lib/stats.ts';
import { schemaVersionOf } from '../shared/schemas/index.ts';

const TENANT = 'bench';

/**
 * Issue 3's figures: how long after a finalizing push all of its effects are committed (lock,
 * billing record, NEMSIS export validated against the XSDs) while 50 devices stream GPS, and how
 * fast the hook runner drains a burst of work. The server runs in this process with durable
 * SQLite and the product's hook catalogue; the GPS devices are HTTP clients in the same process.
 */
export async function hookBenchmarks(options: { quick: boolean }): Promise<BenchFigure[]> {
  const dataDir = makeDataDir('bench-hooks');
  const server = await startTestServer({
    dataDir, sqliteSynchronous: 'FULL', logLevel: 'silent',
    nemsisXsdDir: process.env['NEMSIS_DIR'] ?? path.resolve(import.meta.dirname, '../../shared/nemsis'),
  });
  const crew = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tab-bench', subject: 'M1' });
  const push = async (collection: string, rows: unknown[], token: string) => {
    const r = await fetch(`${server.url}/api/sync/${collection}/push?schemaVersion=${schemaVersionOf(collection)}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(rows),
    });
    if (!r.ok) throw new Error(`push ${collection} failed: ${r.status} ${await r.text()}`);
  };
  // 50 MDTs, one point per second each.
  let streaming = true;
  let gpsSent = 0;
  const streams = Array.from({ length: 50 }, (_, unit) => (async () => {
    const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: `mdt-${unit}`, subject: `U${unit}` });
    while (streaming) {
      await push('gps_points', [{ newDocumentState: { ...gpsDoc(TENANT, gpsSent++), sourceId: `U${unit}` } }], token);
      await new Promise((r) => setTimeout(r, 1000));
    }
  })());

  const commits = new Map<string, number>();
  const unsubscribe = server.app.store.onCommit((event) => {
    for (const doc of event.documents) commits.set(`${event.collection}/${doc.id}`, performance.now());
  });
  try {
    const samples: number[] = [];
    const reports = options.quick ? 10 : 30;
    // The bench never dies on a slow machine (issue #21): a report whose effects do not arrive
    // within the budget ends the series, and the figures say how far it got.
    let stalled: string | undefined;
    for (let i = 0; i < reports && !stalled; i++) {
      const report = completeEpcr(TENANT, 'M1');
      const billing = billingRecordId(TENANT, report.id);
      const start = performance.now();
      await push('epcrs', [{ newDocumentState: { ...report, rev: `1-bench.${i}` } }], crew);
      const done = await waitFor(async () => {
        const locked = commits.has(`billing_records/${billing}`) && (await server.app.store.getArtifact(nemsisArtifactKey(report.id), TENANT)) !== undefined;
        return locked ? performance.now() : undefined;
      });
      if (done === undefined) {
        stalled = `report ${i + 1} of ${reports}: its effects were not all committed within ${HOOK_WAIT_MS / 1000} s (load average ${loadavg()[0]!.toFixed(1)})`;
        break;
      }
      samples.push(done - start);
      await new Promise((r) => setTimeout(r, 100));
    }
    const reached = `${samples.length} of ${reports} reports measured${stalled ? `; NOT FINISHED: ${stalled}` : ''}`;
    const figures = samples.length > 0
      ? [
        figure('finalize → lock, billing record and validated NEMSIS export committed, p50', percentile(samples, 50), 'ms', null, `${reached}, 50 devices streaming GPS`),
        figure('finalize → all effects committed, p99', percentile(samples, 99), 'ms', null, reached),
      ]
      : [figure('finalize → all effects committed: NOT FINISHED', NaN, 'ms', null, reached)];

    // A burst: many finalized reports at once; effects per second until the outbox is empty.
    const burst = options.quick ? 40 : 150;
    const runsBefore = sum(server.app.hookRunner.stats.runs);
    const start = performance.now();
    for (let i = 0; i < burst; i += 25) {
      await push('epcrs', Array.from({ length: Math.min(25, burst - i) }, (_, k) => ({ newDocumentState: { ...completeEpcr(TENANT, 'M1', { id: randomUUID() }), rev: `1-burst.${i + k}` } })), crew);
    }
    const drained = await waitFor(async () => ((await server.app.store.outboxStats(Date.now())).depth === 0 ? true : undefined), 300_000);
    const seconds = (performance.now() - start) / 1000;
    const effects = sum(server.app.hookRunner.stats.runs) - runsBefore;
    figures.push(figure(`outbox drain rate (${burst} finalized reports at once)`, effects / seconds, 'effects/s', null,
      `${effects} effects in ${seconds.toFixed(1)} s, NEMSIS XSD validation included${drained ? '' : `; NOT FINISHED: the outbox still held ${(await server.app.store.outboxStats(Date.now())).depth} entries after 300 s (rate so far)`}`));
    return figures;
  } finally {
    streaming = false;
    await Promise.all(streams);
    unsubscribe();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function sum(map: Map<string, number>): number {
  let total = 0;
  for (const value of map.values()) total += value;
  return total;
}

/** How long one report's effects may take before the series stops (reported, not thrown). */
const HOOK_WAIT_MS = 60_000;

/** The value, or undefined when `timeoutMs` passed first. */
async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = HOOK_WAIT_MS): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 2));
  }
}
