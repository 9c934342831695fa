import { describeOnFailure } from '../../helpers/diagnostics.ts';
import type { HookFailure } from '../../../server/hooks/runner.ts';
import { nextRevision } from '../../../shared/revision.ts';
import type { CollectionName } from '../../../shared/schemas/index.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { ensureClientBuilt } from '../../../server/apps/static.ts';
import type { Workflow } from '../../../server/hooks/types.ts';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { epcrFinalizedWorkflow } from '../../../server/hooks/workflows/epcr-finalized.ts';
import { finalizeChecks } from '../../../server/hooks/workflows/index.ts';
import { epcrNemsisExportWorkflow } from '../../../server/hooks/workflows/epcr-nemsis-export.ts';
import { incidentCreatedWorkflow } from '../../../server/hooks/workflows/incident-created.ts';
import { incidentTimelineWorkflow } from '../../../server/hooks/workflows/incident-timeline.ts';
import { orderCompletedWorkflow } from '../../../server/hooks/workflows/order-completed.ts';
import { KeyedLock } from '../../../server/hooks/workflows/support.ts';
import type { AttachmentFiles } from '../../../server/hooks/workflows/attachment-files.ts';
import { TechnicianDirectory } from '../../../server/hooks/workflows/technicians.ts';
import { ticketCreatedWorkflow } from '../../../server/hooks/workflows/ticket-created.ts';
import { unitStatusEventWorkflow } from '../../../server/hooks/workflows/unit-status-event.ts';
import { unitStatusWorkflow } from '../../../server/hooks/workflows/unit-status.ts';
import { makeDataDir, startTestServer, type TestServer } from '../../helpers/server.ts';

export const TENANT = 'agency-e2e';
export const ADMIN_TOKEN = `dev:${TENANT}:admin:e2e-seeder`;

/** The NEMSIS files beside the checkout (NEMSIS_DIR), for journeys that check exports. */
export const NEMSIS_DIR = process.env['NEMSIS_DIR'] ?? path.resolve(fileURLToPath(new URL('../../../', import.meta.url)), '../shared/nemsis');
const E2E_AGENCY = { stateId: 'E2E', agencyNumber: 'E2E-001', stateCode: '42' };

/**
 * The workflows the apps' journeys touch (ePCR stubs, timeline, finalize, order → ticket → job).
 * `nemsisCheck`: finalize checks the report's NEMSIS export (XSD + national Schematron) and a
 * locked report is exported, as the product does when NEMSIS_DIR is set.
 */
export function e2eWorkflows(options: { nemsisCheck?: boolean; attachments?: AttachmentFiles } = {}): Workflow[] {
  const locks = new KeyedLock();
  // Every journey's agency exports with the same identity (a seam: the server's own lookup reads the agency's settings).
  const nemsis = { agencyOf: async () => E2E_AGENCY, xsdDir: NEMSIS_DIR };
  // As the product wires them: the lock waits for a report's attachments, the export carries them.
  const files = options.attachments ? { attachments: options.attachments } : {};
  return [
    incidentCreatedWorkflow(), incidentTimelineWorkflow(), unitStatusWorkflow(), unitStatusEventWorkflow(),
    epcrFinalizedWorkflow(options.nemsisCheck ? finalizeChecks(nemsis, options.attachments) : {}),
    ...(options.nemsisCheck ? [epcrNemsisExportWorkflow({ ...nemsis, locks, ...files })] : []),
    orderCompletedWorkflow(), ticketCreatedWorkflow({ technicians: new TechnicianDirectory(), locks }),
  ];
}

/** The apps are built once (if stale) before a browser suite: parallel files wait on one build. */
export async function ensureApps(): Promise<void> {
  await ensureClientBuilt({ log: () => {} });
}

export interface PushRecord { collection: string; id: string; rev: string; at: number }
/** A document version the store committed, with its sequence number and who wrote it. */
export interface CommitRecord { collection: string; id: string; rev: string; seq: number; actor: string; at?: number }

/**
 * A real server on a fixed port (the browser's origin must survive restarts) with a data
 * directory that outlives `stop()`, so `start()` again is a server restart on the same data.
 * Every document write that reaches the store is recorded (to count pushes per revision).
 */
/** What `E2eServer.seedAssignedCall` needs of a call. */
export interface AssignedCall {
  incidentId: string;
  callSign: string;
  incidentNumber: string;
  complaint: string;
  priority: string;
  address: Record<string, string>;
  location?: { lat: number; lng: number };
  timeline?: Record<string, string>;
  unitStatus?: string;
  incidentStatus?: string;
}

export class E2eServer {
  server: TestServer | undefined;
  readonly dataDir = makeDataDir('fieldsync-e2e');
  readonly writes: PushRecord[] = [];
  /** Every committed document version (devices, hooks and seeding), in commit order. */
  readonly committed: CommitRecord[] = [];
  /** Push requests that reached the server, per collection. */
  readonly pushRequests = new Map<string, number>();
  pullRequests = 0;

  /** `clientDir`: serve a private copy of the apps (to change the service worker a device gets). */
  /**
   * `workflows`: false runs none, 'product' the server's whole catalogue (billing, claims, ...),
   * default the journeys' set above (`nemsisCheck`: with the NEMSIS export check at finalize). `cad`: connect the CAD bridge to a CAD stand-in
   * (test/helpers/cad-peer.ts) for this agency. `auth`: token lifetimes for this server (e.g. a
   * sign-in that runs out within a test). `cablePorts`: the ports of the cables (test/e2e/support/cable.ts)
   * devices reach this server through: their origins are allowed like a reverse proxy's public origin
   * (CORS_ORIGINS), since the server never trusts the Host header to tell it.
   */
  constructor(readonly port: number, private readonly options: { workflows?: boolean | 'product'; nemsisCheck?: boolean; clientDir?: string; cad?: { url: string; token: string }; auth?: { accessTokenTtlSeconds?: number; refreshTokenTtlSeconds?: number }; cablePorts?: readonly number[] } = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The started server's attachment storage, for the workflows (made before the server is). */
  private readonly attachmentFiles: AttachmentFiles = {
    missingLinks: (...args) => this.server!.app.attachments.missingLinks(...args),
    getObject: (...args) => this.server!.app.attachments.getObject(...args),
    isLinked: (...args) => this.server!.app.attachments.isLinked(...args),
  };

  async start(): Promise<void> {
    const cad = this.options.cad ? { cadBackendUrl: this.options.cad.url, cadBackendAuthToken: this.options.cad.token, cadTenantId: TENANT, cadBridge: { baseDelayMs: 50, maxDelayMs: 400, ackTimeoutMs: 2000 } } : {};
    const cable = this.options.cablePorts ? { corsOrigins: this.options.cablePorts.map((port) => `http://127.0.0.1:${port}`) } : {};
    const server = await startTestServer({ port: this.port, dataDir: this.dataDir, ...cad, ...cable, ...this.options.auth, ...(this.options.clientDir ? { clientDir: this.options.clientDir } : {}), ...(this.options.nemsisCheck ? { nemsisXsdDir: NEMSIS_DIR } : {}), ...(this.options.workflows === 'product' ? {} : { workflows: this.options.workflows === false ? [] : e2eWorkflows({ nemsisCheck: this.options.nemsisCheck ?? false, attachments: this.attachmentFiles }) }), hookRunner: { baseDelayMs: 50, maxDelayMs: 500, pollMs: 100 } });
    this.server = server;
    this.startedAt = Date.now();
    server.app.hookRunner.onFailure((failure) => {
      this.hookFailures.push({ ...failure, at: Date.now() });
      if (this.hookFailures.length > 20) this.hookFailures.shift();
    });
    this.undescribe?.();
    this.undescribe = describeOnFailure(`server ${this.url}`, () => this.describe());
    server.app.server.on('request', (req) => {
      const push = /\/api\/sync\/([a-z_]+)\/push/.exec(req.url ?? '');
      if (push) this.pushRequests.set(push[1]!, (this.pushRequests.get(push[1]!) ?? 0) + 1);
      if (/\/api\/sync\/[a-z_]+\/pull/.test(req.url ?? '')) this.pullRequests++;
    });
    const store = server.app.store;
    const writeBatch = store.writeBatch.bind(store);
    store.writeBatch = async (batch) => {
      if (batch.actor.kind === 'device') {
        for (const request of batch.requests) {
          // Only rows a device sent (the push route adds bookkeeping requests without a revision).
          if (typeof request.incoming['rev'] === 'string') this.writes.push({ collection: batch.collection, id: request.id, rev: request.incoming['rev'], at: Date.now() });
        }
      }
      const result = await writeBatch(batch);
      for (const doc of result.written) {
        let rev = '';
        try {
          rev = String((JSON.parse(doc.json) as { rev?: unknown }).rev ?? '');
        } catch {
          // not JSON: leave the revision empty
        }
        this.committed.push({ collection: batch.collection, id: doc.id, rev, seq: doc.seq, actor: batch.actor.kind, at: Date.now() });
      }
      return result;
    };
  }

  /** Stops the server like a crash would, keeping its data for `start()`. */
  async stop(): Promise<void> {
    await this.server?.close({ keepData: true });
    this.server = undefined;
  }

  async dispose(): Promise<void> {
    this.undescribe?.();
    await this.server?.close({ keepData: false });
    this.server = undefined;
  }

  private startedAt = 0;
  private undescribe: (() => void) | undefined;
  private readonly hookFailures: (HookFailure & { at: number })[] = [];

  /** Where this server stood, for a failed test's report (test/helpers/diagnostics.ts). */
  async describe(): Promise<string> {
    const server = this.server;
    if (!server) return 'stopped';
    const since = (at: number | undefined) => at === undefined ? '?' : `+${((at - this.startedAt) / 1000).toFixed(1)} s`;
    const outbox = await server.app.store.outboxStats(Date.now());
    const runs = [...server.app.hookRunner.stats.runs].map(([kind, n]) => `${kind} ${n}`).join(', ');
    const failures = [...server.app.hookRunner.stats.failures].map(([kind, n]) => `${kind} ${n}`).join(', ');
    const lines = [
      `now ${since(Date.now())}; requests: ${[...this.pushRequests].map(([c, n]) => `push ${c} ${n}`).join(', ') || 'no push'}; pull ${this.pullRequests}`,
      `hook outbox: ${outbox.depth} pending (oldest ${Math.round(outbox.oldestAgeMs)} ms), ${outbox.deadLetters} dead letters; runs: ${runs || 'none'}; failures: ${failures || 'none'}`,
      ...this.hookFailures.map((f) => `  hook failed ${since(f.at)}: ${f.kind} (attempt ${f.attempts}${f.deadLetter ? ', dead letter' : ''}): ${f.error}`),
      `last commits (of ${this.committed.length}):`,
      ...this.committed.slice(-25).map((c) => `  ${since(c.at)} #${c.seq} ${c.actor} ${c.collection}/${c.id.slice(0, 13)} ${c.rev}`),
    ];
    return lines.join('\n');
  }

  async docs<T = Record<string, unknown>>(collection: CollectionName, ids?: string[]): Promise<T[]> {
    const store = this.server!.app.store;
    if (ids) return (await store.getDocuments(collection, TENANT, ids)).map((d) => JSON.parse(d.json) as T);
    const out: T[] = [];
    let afterSeq = 0;
    for (;;) {
      const page = await store.pull({ collection, tenantId: TENANT, afterSeq, limit: 1000 });
      out.push(...page.documents.map((d) => JSON.parse(d.json) as T));
      if (page.documents.length < 1000) return out;
      afterSeq = page.lastSeq;
    }
  }

  /**
   * Writes documents straight into the store as the system (as CAD or a back office would),
   * with the workflows they trigger. Access rules are for devices; seeding is not one.
   */
  async seed(collection: CollectionName, docs: Record<string, unknown>[]): Promise<void> {
    const app = this.server!.app;
    const actor = { kind: 'system' as const, tenantId: TENANT, userId: 'e2e-seed' };
    for (let i = 0; i < docs.length; i += 1000) {
      const full = docs.slice(i, i + 1000).map((doc): Record<string, unknown> & { _deleted: boolean } => ({ tenantId: TENANT, rev: nextRevision(undefined, `seed.${Math.random().toString(36).slice(2, 8)}`), _deleted: false, ...doc }));
      await app.store.writeBatch({
        collection, tenantId: TENANT, actor,
        requests: full.map((doc) => ({ id: String(doc['id']), incoming: doc, decide: (master) => (master ? { action: 'noop' as const } : { action: 'write' as const, doc }) })),
      });
    }
  }

  /**
   * A call already dispatched to a unit, as CAD would have left it: the unit (status `unitStatus`,
   * on the call) and its incident. The incident-created workflow makes the crew's ePCR stub.
   * Times default to a 911 call 10 minutes ago and the unit notified a minute later.
   */
  async seedAssignedCall(call: AssignedCall): Promise<void> {
    const ago = (ms: number) => offsetNow(new Date(Date.now() - ms));
    await this.seed('units', [{ id: randomUUID(), callSign: call.callSign, status: call.unitStatus ?? 'dispatched', statusAt: offsetNow(), currentIncidentId: call.incidentId }]);
    await this.seed('incidents', [{
      id: call.incidentId, incidentNumber: call.incidentNumber, status: call.incidentStatus ?? 'dispatched', complaint: call.complaint, priority: call.priority,
      assignedUnitId: call.callSign, address: call.address, ...(call.location ? { location: call.location } : {}),
      timeline: call.timeline ?? { psapCall: ago(600_000), unitNotified: ago(540_000) },
    }]);
  }

  /** Writes documents the way a device would (HTTP push), with `token`'s access rules. */
  async push(collection: CollectionName, docs: Record<string, unknown>[], token = ADMIN_TOKEN): Promise<void> {
    for (let i = 0; i < docs.length; i += 1000) {
      const rows = docs.slice(i, i + 1000).map((doc) => ({ newDocumentState: { tenantId: TENANT, rev: nextRevision(undefined, `seed.${Math.random().toString(36).slice(2, 8)}`), _deleted: false, ...doc } }));
      const response = await fetch(`${this.url}/api/sync/${collection}/push?schemaVersion=${schemaVersionOf(collection)}`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(rows),
      });
      if (!response.ok) throw new Error(`seeding ${collection} failed: ${response.status} ${await response.text()}`);
    }
  }
}

export function offsetNow(date = new Date()): string {
  const minutes = -date.getTimezoneOffset();
  const pad = (n: number) => String(Math.abs(Math.trunc(n))).padStart(2, '0');
  const local = new Date(date.getTime() + minutes * 60_000).toISOString().slice(0, 19);
  return `${local}${minutes < 0 ? '-' : '+'}${pad(minutes / 60)}:${pad(minutes % 60)}`;
}

/**
 * Fixed ports (a browser's origin must survive restarts): base + offset per test file. Set
 * FIELDSYNC_E2E_PORT_BASE to run a second copy of the suite on the same machine.
 */
export function e2ePort(offset: number): number {
  return Number(process.env['FIELDSYNC_E2E_PORT_BASE'] ?? 18400) + offset;
}
