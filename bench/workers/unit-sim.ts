import { randomUUID } from 'node:crypto';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { devToken } from '../../server/auth/identity.ts';
import { formatTs, parseTs, sleep, sleepUntil, wallNow } from '../lib/clock.ts';
import { schemaVersionOf } from '../../shared/schemas/index.ts';

/**
 * Issue #6's simulated units, without a client database: each unit does what the device's
 * replication does on the wire. GPS points are queued locally once a second and pushed in
 * batches (everything queued, up to 200 rows, one request in flight per collection, retry after
 * 1 s), and the unit's status document is pushed with its assumed master state.
 */
const port = parentPort!;
const { context } = workerData as { context: { serverUrl: string; tenant: string; nice?: number } };
// The simulated units would have their own hardware: keep them from starving the server (Linux:
// this thread only), from the start of the run on.
const STATUSES = ['dispatched', 'en_route', 'on_scene', 'transporting', 'at_destination', 'available'] as const;
const MAX_ROWS = 200;

interface Unit {
  unitId: string;
  token: string;
  phaseMs: number;
  statusPhaseMs: number;
  master: Record<string, unknown> | undefined;
  gpsQueue: { doc: Record<string, unknown>; at: number }[];
  gpsBusy: boolean;
  statusPending: { doc: Record<string, unknown>; at: number } | undefined;
  statusBusy: boolean;
  statusCount: number;
}

let units: Unit[] = [];
/** Wall time the measured window opens: points created and requests sent before it are warm-up (counted, not timed). */
let measureFrom = 0;
const stats = {
  slips: [] as number[], gpsCreated: 0, gpsMeasured: 0, gpsAcked: 0, ackMs: [] as number[], rttMs: [] as number[], pushErrors: 0, conflicts: 0, statusesAcked: [] as { key: string; at: number }[],
  /** When the push request that delivered each point was sent, by unit|recordedAt (the last send, if retried). */
  sentAt: new Map<string, number>(),
};

async function push(unit: Unit, collection: string, rows: unknown[]): Promise<unknown[]> {
  const response = await fetch(`${context.serverUrl}/api/sync/${collection}/push?schemaVersion=${schemaVersionOf(collection)}`, {
    method: 'POST', headers: { authorization: `Bearer ${unit.token}`, 'content-type': 'application/json' }, body: JSON.stringify(rows),
  });
  if (!response.ok) throw new Error(`push ${collection} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  return (await response.json()) as unknown[];
}

function kickGps(unit: Unit): void {
  if (unit.gpsBusy || unit.gpsQueue.length === 0) return;
  unit.gpsBusy = true;
  const batch = unit.gpsQueue.splice(0, MAX_ROWS);
  const sent = wallNow();
  for (const p of batch) stats.sentAt.set(`${unit.unitId}|${p.doc['recordedAt'] as string}`, sent);
  push(unit, 'gps_points', batch.map((p) => ({ newDocumentState: p.doc }))).then(() => {
    const now = wallNow();
    if (sent >= measureFrom) stats.rttMs.push(now - sent);
    for (const p of batch) if (p.at >= measureFrom) stats.ackMs.push(now - p.at);
    stats.gpsAcked += batch.length;
    unit.gpsBusy = false;
    kickGps(unit);
  }, async () => {
    stats.pushErrors++;
    unit.gpsQueue.unshift(...batch);
    await sleep(1000);
    unit.gpsBusy = false;
    kickGps(unit);
  });
}

function kickStatus(unit: Unit): void {
  if (unit.statusBusy || !unit.statusPending) return;
  unit.statusBusy = true;
  const pending = unit.statusPending;
  unit.statusPending = undefined;
  push(unit, 'units', [{ assumedMasterState: unit.master, newDocumentState: pending.doc }]).then((conflicts) => {
    if (conflicts.length > 0) {
      stats.conflicts++;
      unit.master = conflicts[0] as Record<string, unknown>;
    } else {
      unit.master = pending.doc;
      stats.statusesAcked.push({ key: `${unit.unitId}|${pending.doc['statusAt'] as string}`, at: pending.at });
    }
    unit.statusBusy = false;
    kickStatus(unit);
  }, async () => {
    stats.pushErrors++;
    unit.statusPending ??= pending;
    await sleep(1000);
    unit.statusBusy = false;
    kickStatus(unit);
  });
}

function unitDoc(unit: Unit, status: string, at: number): Record<string, unknown> {
  const n = unit.statusCount++;
  const base = unit.master ?? { id: randomUUID(), tenantId: context.tenant, callSign: unit.unitId, _deleted: false };
  return { ...base, rev: `${n + 1}-mdt_${unit.unitId}.s${n}`, status, statusAt: formatTs(at) };
}

const handlers: Record<string, (args: any) => Promise<unknown>> = {
  /** Each unit registers its unit document (not timed). */
  async open(args: { units: { unitId: string; phaseMs: number; statusPhaseMs: number }[]; register: boolean }) {
    units = args.units.map((u) => ({
      ...u, token: devToken({ tenantId: context.tenant, role: 'crew', deviceId: `mdt-${u.unitId}`, subject: u.unitId }),
      master: undefined, gpsQueue: [], gpsBusy: false, statusPending: undefined, statusBusy: false, statusCount: 0,
    }));
    for (let i = 0; args.register && i < units.length; i += 25) {
      await Promise.all(units.slice(i, i + 25).map(async (unit) => {
        const doc = unitDoc(unit, 'available', wallNow());
        const conflicts = await push(unit, 'units', [{ newDocumentState: doc }]);
        if (conflicts.length > 0) throw new Error(`unit ${unit.unitId} already exists`);
        unit.master = doc;
      }));
    }
  },
  async run(args: { startAt: number; seconds: number; statusEverySeconds: number; drainUntil: number; measureFrom?: number }) {
    if (context.nice) setPriority(context.nice);
    measureFrom = args.measureFrom ?? 0;
    await Promise.all(units.map(async (unit) => {
      const timeline: { at: number; kind: 'gps' | 'status'; k: number }[] = [];
      for (let k = 0; k < args.seconds; k++) timeline.push({ at: args.startAt + unit.phaseMs + k * 1000, kind: 'gps', k });
      for (let k = 0; args.statusEverySeconds > 0 && (k + 1) * args.statusEverySeconds <= args.seconds; k++) {
        timeline.push({ at: args.startAt + unit.statusPhaseMs + k * args.statusEverySeconds * 1000, kind: 'status', k });
      }
      timeline.sort((a, b) => a.at - b.at);
      for (const step of timeline) {
        await sleepUntil(step.at);
        // Rounded as recordedAt carries it, so the dispatcher's warm-up test agrees with this one.
        const at = parseTs(formatTs(wallNow()));
        if (at >= measureFrom) stats.slips.push(at - step.at);
        if (step.kind === 'gps') {
          stats.gpsCreated++;
          if (at >= measureFrom) stats.gpsMeasured++;
          unit.gpsQueue.push({
            at,
            doc: {
              id: randomUUID(), tenantId: context.tenant, rev: `1-mdt_${unit.unitId}.g${step.k}`, sourceType: 'unit', sourceId: unit.unitId,
              lat: 40 + step.k * 1e-4, lng: -75 - step.k * 1e-4, accuracyM: 5, speedMps: 12.5, heading: 90, recordedAt: formatTs(at), _deleted: false,
            },
          });
          kickGps(unit);
        } else {
          unit.statusPending = { doc: unitDoc(unit, STATUSES[step.k % STATUSES.length]!, at), at };
          kickStatus(unit);
        }
      }
    }));
    while (wallNow() < args.drainUntil && units.some((u) => u.gpsBusy || u.gpsQueue.length > 0 || u.statusBusy || u.statusPending)) await sleep(20);
    const unsent = units.reduce((n, u) => n + u.gpsQueue.length + (u.gpsBusy ? 1 : 0), 0);
    return { ...stats, sentAt: [...stats.sentAt.entries()], unsent };
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
