import 'fake-indexeddb/auto';
import { rmSync } from 'node:fs';
import { devToken } from '../server/auth/identity.ts';
import { nextRevision } from '../shared/revision.ts';
import { enqueueRows, openOutboxDb, setSession } from '../client/queue/index.ts';
import { deliverOutbox } from '../sw/queue/index.ts';
import { startServerProcess } from '../test/helpers/server-process.ts';
import { freePort, makeDataDir } from '../test/helpers/server.ts';
import { epcrDoc, gpsDoc } from './lib/docs.ts';
import { figure, type BenchFigure } from './lib/stats.ts';
import { schemaVersionOf } from '../shared/schemas/index.ts';

const TENANT = 'bench';

/**
 * One shift offline (8 hours: a GPS point every 5 s, 20 ePCR edits), delivered by the outbound
 * queue's own code once the network returns, against the real server process. Runs the queue
 * logic in Node over fake-indexeddb: it measures delivery and bytes, not the browser's wake-up.
 */
export async function outboxBenchmarks(options: { quick: boolean }): Promise<BenchFigure[]> {
  const points = options.quick ? 1440 : 8 * 3600 / 5;
  const edits = 20;
  const dataDir = makeDataDir('bench-outbox');
  const port = await freePort();
  const server = await startServerProcess({ port, dataDir, env: { LOG_LEVEL: 'error' } });
  try {
    const figures: BenchFigure[] = [];
    for (const compress of [true, false]) {
      const db = await openOutboxDb(`bench-outbox-${compress}-${Date.now()}`);
      await setSession(db, { serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'crew', deviceId: `mdt-${compress}`, subject: 'M1' }) });
      for (let i = 0; i < points; i += 500) {
        await enqueueRows(db, 'gps_points', schemaVersionOf('gps_points'), Array.from({ length: Math.min(500, points - i) }, (_, j) => ({ newDocumentState: gpsDoc(TENANT, i + j) })));
      }
      // 20 edits of 4 reports: the queue keeps one row per report with the newest state.
      const reports = Array.from({ length: 4 }, (_, i) => epcrDoc(TENANT, i));
      for (let e = 0; e < edits; e++) {
        const report = reports[e % 4]!;
        const next = { ...report, rev: nextRevision(report['rev'] as string, `mdt.e${e}`), narrative: { text: `edit ${e} `.repeat(50) } };
        await enqueueRows(db, 'epcrs', schemaVersionOf('epcrs'), [{ newDocumentState: next }]);
        reports[e % 4] = next;
      }
      const fetchImpl: typeof fetch = compress ? fetch : (input, init) => fetch(input, init);
      const originalCompression = globalThis.CompressionStream;
      if (!compress) (globalThis as { CompressionStream?: unknown }).CompressionStream = undefined;
      const start = performance.now();
      const result = await deliverOutbox({ db, fetch: fetchImpl });
      const seconds = (performance.now() - start) / 1000;
      (globalThis as { CompressionStream?: unknown }).CompressionStream = originalCompression;
      if (result.stoppedBy) throw new Error(`delivery stopped: ${result.error}`);
      const label = compress ? 'gzip' : 'uncompressed';
      if (compress) {
        figures.push(figure(`one shift offline (${points} GPS points, ${edits} ePCR edits): restore → last change committed`, seconds * 1000, 'ms', null, `${result.requests} requests`));
      }
      figures.push(figure(`bytes on the wire per queued change, ${label}`, result.bytesSent / (points + 4), 'B', null, `${result.bytesSent} B in ${result.requests} requests`));
    }
    // Per kind, measured on single-kind batches of the same documents.
    for (const [label, make, count] of [['GPS point', (i: number) => gpsDoc(TENANT, i), 2000], ['ePCR edit', (i: number) => epcrDoc(TENANT, 10_000 + i), 100]] as const) {
      for (const compress of [true, false]) {
        const db = await openOutboxDb(`bench-kind-${label}-${compress}-${Date.now()}`);
        await setSession(db, { serverUrl: server.url, token: devToken({ tenantId: TENANT, role: 'crew', deviceId: 'mdt-k', subject: 'M1' }) });
        await enqueueRows(db, label === 'GPS point' ? 'gps_points' : 'epcrs', 0, Array.from({ length: count }, (_, i) => ({ newDocumentState: make(i) })));
        const originalCompression = globalThis.CompressionStream;
        if (!compress) (globalThis as { CompressionStream?: unknown }).CompressionStream = undefined;
        const result = await deliverOutbox({ db });
        (globalThis as { CompressionStream?: unknown }).CompressionStream = originalCompression;
        figures.push(figure(`bytes per ${label} (batch of ${count}), ${compress ? 'gzip' : 'uncompressed'}`, result.bytesSent / count, 'B', null));
      }
    }
    return figures;
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
