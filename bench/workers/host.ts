import { randomUUID } from 'node:crypto';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { BenchDevice, CreateClient, FetchLike } from '../clients/types.ts';
import { formatTs, parseTs, sleep, sleepUntil, wallNow } from '../lib/clock.ts';

/**
 * The worker side of every benchmark: loads one system's client library (workerData.clientModule)
 * and does all timing around it, the same way for every system.
 */
const port = parentPort!;
const { clientModule, context } = workerData as { clientModule: string; context: { serverUrl: string; tenant: string; schemas: Record<string, Record<string, unknown>>; nice?: number } };
// Simulated devices would each have their own hardware; here dozens of device threads share two
// cores with the server under test. On Linux setPriority lowers the priority of this thread only;
// it is done when the run starts, so that loading and opening the devices is not starved.
let niced = false;
function niceForRun(): void {
  if (context.nice && !niced) setPriority(context.nice);
  niced = true;
}

// Push acknowledgements: write time of every document a device wrote and the server has not yet acknowledged.
const writtenAt = new Map<string, number>();
/** Wall time the measured window opens: points written and requests sent before it are warm-up (not in the distributions). */
let measureFrom = 0;
let ackMs: number[] = [];
/** Round trip of each push request alone (request sent → response), ms. */
let rttMs: number[] = [];

/** Document ids in a push body: our protocol and RxServer send rows, CouchDB `_bulk_docs` sends { docs }. */
function pushedIds(body: string): string[] {
  if (!body.includes('"newDocumentState"') && !body.includes('"docs"')) return [];
  try {
    const parsed = JSON.parse(body) as unknown;
    if (Array.isArray(parsed)) return parsed.map((row) => (row as { newDocumentState?: { id?: string } })?.newDocumentState?.id).filter((id): id is string => typeof id === 'string');
    const docs = (parsed as { docs?: unknown })?.docs;
    if (Array.isArray(docs)) return docs.map((doc) => (doc as { _id?: string })?._id).filter((id): id is string => typeof id === 'string');
  } catch {
    // not JSON: not a push
  }
  return [];
}

function instrument(inner: FetchLike): FetchLike {
  return async (url, init) => {
    const ids = init?.method?.toUpperCase() === 'POST' && typeof init.body === 'string' ? pushedIds(init.body) : [];
    const sent = wallNow();
    const response = await inner(url, init);
    if (ids.length > 0 && response.ok) {
      const now = wallNow();
      if (sent >= measureFrom) rttMs.push(now - sent);
      for (const id of ids) {
        const at = writtenAt.get(id);
        if (at === undefined) continue;
        if (at >= measureFrom) ackMs.push(now - at);
        writtenAt.delete(id);
      }
    }
    return response;
  };
}

function gpsPoint(deviceId: string, unitId: string, n: number, at: number): Record<string, unknown> {
  return {
    id: randomUUID(), tenantId: context.tenant, rev: `1-${deviceId}.${n}`, sourceType: 'unit', sourceId: unitId,
    lat: 40 + (n % 1000) * 1e-4, lng: -75 - (n % 1000) * 1e-4, accuracyM: 5, speedMps: 12.5, heading: 90,
    recordedAt: formatTs(at), _deleted: false,
  };
}

let devices: { device: BenchDevice; deviceId: string; unitId: string; phaseMs: number }[] = [];
let dispatcher: { close(): Promise<void> } | undefined;
const seen = new Set<string>();
let latencies: number[] = [];
let duplicates = 0;

async function main(): Promise<void> {
  const { createClient } = (await import(clientModule)) as { createClient: CreateClient };
  const client = await createClient(context);

  const handlers: Record<string, (args: any) => Promise<unknown>> = {
    async 'bulk:prepare'(args: { collection: string; docs: Record<string, unknown>[] }) {
      await client.bulkPrepare(args);
    },
    async 'bulk:push'(args: { collection: string; batchSize: number }) {
      const start = performance.now();
      await client.bulkPush(args);
      return (performance.now() - start) / 1000;
    },
    async 'bulk:pull'(args: { collection: string; batchSize: number; expected: number }) {
      const start = performance.now();
      const count = await client.bulkPull(args);
      return { seconds: (performance.now() - start) / 1000, count };
    },
    async 'fleet:open'(args: { collection: string; batchSize: number; devices: { deviceId: string; unitId: string; phaseMs: number }[] }) {
      for (const d of args.devices) {
        const device = await client.openDevice({ collection: args.collection, deviceId: d.deviceId, unitId: d.unitId, batchSize: args.batchSize, instrument });
        devices.push({ device, ...d });
      }
    },
    /** Every device writes one point per period from startAt (plus its phase); then waits for the acks. */
    async 'fleet:run'(args: { startAt: number; periods: number; periodMs: number; drainUntil: number; measureFrom?: number }) {
      niceForRun();
      measureFrom = args.measureFrom ?? 0;
      ackMs = [];
      rttMs = [];
      const slips: number[] = [];
      let written = 0;
      let measured = 0;
      let writeErrors = 0;
      await Promise.all(devices.map(async (d) => {
        for (let k = 0; k < args.periods; k++) {
          const target = args.startAt + d.phaseMs + k * args.periodMs;
          await sleepUntil(target);
          // Rounded as recordedAt will carry it, so the dispatcher's warm-up test agrees with this one to the microsecond.
          const at = parseTs(formatTs(wallNow()));
          if (at >= measureFrom) slips.push(at - target);
          const doc = gpsPoint(d.deviceId, d.unitId, k, at);
          writtenAt.set(doc['id'] as string, at);
          try {
            await d.device.write(doc);
            written++;
            if (at >= measureFrom) measured++;
          } catch {
            writeErrors++;
            writtenAt.delete(doc['id'] as string);
          }
        }
      }));
      while (writtenAt.size > 0 && wallNow() < args.drainUntil) await sleep(20);
      return { written, measured, writeErrors, unacked: writtenAt.size, ackMs, rttMs, slips };
    },
    async 'dispatch:open'(args: { batchSize: number }) {
      dispatcher = await client.openDispatcher({
        batchSize: args.batchSize,
        onPoint(sourceId, recordedAt) {
          const now = wallNow();
          const key = `${sourceId}|${recordedAt}`;
          if (seen.has(key)) {
            duplicates++;
            return;
          }
          seen.add(key);
          // recordedAt is the device's write time: the same test as the devices' (warm-up points are counted as seen, not timed).
          const at = parseTs(recordedAt);
          if (at >= measureFrom) latencies.push(now - at);
        },
      });
      return client.dispatcherVia;
    },
    /** The dispatcher's side of the fleet's warm-up: arrivals of points written before measureFrom are not timed. */
    async 'dispatch:measure'(args: { measureFrom: number }) {
      measureFrom = args.measureFrom;
    },
    /** Waits (bounded) until `expected` points arrived, then hands over the latencies. */
    async 'dispatch:collect'(args: { expected: number; deadline: number }) {
      while (seen.size < args.expected && wallNow() < args.deadline) await sleep(20);
      const result = { received: seen.size, duplicates, latencies };
      latencies = [];
      return result;
    },
    async notes() {
      return client.notes?.() ?? [];
    },
    async close() {
      await Promise.all(devices.map((d) => d.device.close().catch(() => {})));
      devices = [];
      await dispatcher?.close().catch(() => {});
      await client.close();
    },
  };

  port.on('message', (message: { id: number; method: string; args: unknown }) => {
    const handler = handlers[message.method];
    if (!handler) {
      port.postMessage({ id: message.id, error: `unknown method ${message.method}` });
      return;
    }
    handler(message.args).then(
      (result) => port.postMessage({ id: message.id, result }),
      (error: unknown) => port.postMessage({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
  port.postMessage({ ready: true });
}

main().catch((error: unknown) => {
  port.postMessage({ ready: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
});
