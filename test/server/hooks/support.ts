/**
 * Shared by the hook tests: a server running the real workflow catalogue with fast retries, a
 * minimal recording stand-in for the outside systems (named fake: the real gateways are tested
 * where they are built), raw HTTP pushes, and a report complete enough to lock and bill.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildServerOptions } from '../../../server/app.ts';
import { nextRevision } from '../../../shared/revision.ts';
import { defaultWorkflows } from '../../../server/hooks/workflows/index.ts';
import type { AttachmentFiles } from '../../../server/hooks/workflows/attachment-files.ts';
import type { CadNotice, ClaimSubmission, HospitalNotice, Integrations } from '../../../server/integrations/types.ts';
import type { Actor, WireDocument } from '../../../server/store/types.ts';
import type { CollectionName, Epcr, WireDoc } from '../../../shared/schemas/index.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import { waitBudgetMs } from '../../helpers/wait-budget.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { agency, overdoseEpcr } from '../nemsis/fixtures.ts';
import { demoBillingSettings } from '../../../server/demo/billing-settings.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** The NEMSIS XSDs are shared reference data outside the repository. */
export const xsdDir = process.env.NEMSIS_DIR ?? path.resolve(repoRoot, '../shared/nemsis');
export { agency };

/** Destination code of the hospital that takes notices in these tests (the overdose report's destination). */
export const NOTIFIED_HOSPITAL = '070033';

export interface FakeIntegrations extends Integrations {
  hospitalNotices: HospitalNotice[];
  claimSubmissions: ClaimSubmission[];
  cadNotices: CadNotice[];
}

/**
 * FAKE outside systems that only record what they were sent. `failures` lets a test make a
 * gateway throw (after recording, like a receiver that got the request but whose answer was lost).
 */
export function fakeIntegrations(options: {
  hospitalEndpoints?: string[];
  failures?: Partial<Record<'hospital' | 'claims' | 'cad', number>>;
} = {}): FakeIntegrations {
  const endpoints = new Set(options.hospitalEndpoints ?? [NOTIFIED_HOSPITAL]);
  const remaining = { hospital: 0, claims: 0, cad: 0, ...options.failures };
  const maybeFail = (kind: 'hospital' | 'claims' | 'cad') => {
    if (remaining[kind] > 0) {
      remaining[kind]--;
      throw new Error(`fake ${kind} gateway: connection reset`);
    }
  };
  const fake: FakeIntegrations = {
    hospitalNotices: [],
    claimSubmissions: [],
    cadNotices: [],
    hospital: {
      hasEndpoint: (code) => endpoints.has(code),
      async notify(notice) {
        fake.hospitalNotices.push(notice);
        maybeFail('hospital');
      },
    },
    claims: {
      async submit(submission) {
        fake.claimSubmissions.push(submission);
        maybeFail('claims');
        return { accepted: true, reference: `CH-${fake.claimSubmissions.length}` };
      },
    },
    cad: {
      async send(notice) {
        fake.cadNotices.push(notice);
        maybeFail('cad');
      },
    },
  };
  return fake;
}

export const FAST_HOOKS = { baseDelayMs: 20, maxDelayMs: 200, pollMs: 50 } as const;

export async function startHookServer(options: {
  integrations: Integrations;
  autoClaimAfterFinalize?: boolean;
  validateExports?: boolean;
  /** What happens to a claim without a billing signature (agency billing setting `unsignedClaims`); `send` here unless a test checks the hold. */
  unsignedClaims?: 'hold' | 'send';
} & Omit<BuildServerOptions, 'workflows' | 'integrations'> & { port?: number }): Promise<TestServer> {
  const { integrations, autoClaimAfterFinalize = true, validateExports = true, hookRunner, unsignedClaims = 'send', ...rest } = options;
  // The catalogue is made before the server whose attachment storage it reads: it asks the server's once started.
  let started: TestServer | undefined;
  const storage = () => {
    if (!started) throw new Error('the hook server is not started yet');
    return started.app.attachments;
  };
  const attachments: AttachmentFiles = {
    missingLinks: (...args) => storage().missingLinks(...args),
    getObject: (sha256) => storage().getObject(sha256),
    isLinked: (link) => storage().isLinked(link),
  };
  started = await startTestServer({
    ...rest,
    workflows: defaultWorkflows({
      integrations,
      autoClaimAfterFinalize,
      attachments,
      // Claims bill under the demo agency's billing settings (the product reads each agency's: test/server/agencies).
      billingSettingsOf: async () => ({ agencyName: 'Danbury EMS', billing: { ...demoBillingSettings(), unsignedClaims } }),
      // Every test agency exports with the fixtures' identity (the product reads each agency's settings: test/server/agencies).
      nemsis: { agencyOf: async () => agency, ...(validateExports ? { xsdDir } : {}) },
    }),
    hookRunner: { ...FAST_HOOKS, ...hookRunner },
  });
  return started;
}

/** A push over plain HTTP, exactly as a device would send it (used to replay a body verbatim). */
export async function rawPush(server: TestServer, token: string, collection: CollectionName, body: string): Promise<{ status: number; conflicts: WireDocument[] }> {
  const response = await fetch(`${server.url}/api/sync/${collection}/push?schemaVersion=${schemaVersionOf(collection)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  });
  const json = (await response.json()) as WireDocument[];
  if (response.status !== 200) throw new Error(`push failed with ${response.status}: ${JSON.stringify(json)}`);
  return { status: response.status, conflicts: json };
}

export async function stored<C extends CollectionName>(server: TestServer, collection: C, tenantId: string, id: string): Promise<WireDoc<C> | undefined> {
  const [row] = await server.app.store.getDocuments(collection, tenantId, [id]);
  return row ? (JSON.parse(row.json) as WireDoc<C>) : undefined;
}

/** Every document of a collection in a tenant (latest versions). */
export async function all<C extends CollectionName>(server: TestServer, collection: C, tenantId: string): Promise<WireDoc<C>[]> {
  const docs: WireDoc<C>[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await server.app.store.pull({ collection, tenantId, afterSeq, limit: 500 });
    docs.push(...page.documents.map((d) => JSON.parse(d.json) as WireDoc<C>));
    if (page.documents.length < 500) return docs;
    afterSeq = page.lastSeq;
  }
}

/** Waits until the outbox has nothing pending (every triggered effect ran or became a dead letter); by default as long as the test may run. */
export async function settled(server: TestServer, timeoutMs = waitBudgetMs()): Promise<void> {
  await eventually('the hook outbox to drain', async () => (await server.app.store.outboxStats(Date.now())).depth === 0, timeoutMs);
}

/**
 * A report complete enough to lock, export and bill: the overdose call of the NEMSIS fixtures
 * (ALS1 emergency, 3.2 loaded miles, scene → hospital ED, destination 070033), for a new id.
 */
export function completeEpcr(tenantId: string, unitId: string, extra: Partial<Epcr> = {}): Omit<Epcr, 'rev'> & { _deleted: false } {
  const { rev: _rev, incidentId: _incident, ...report } = overdoseEpcr();
  return { ...report, id: randomUUID(), tenantId, unitId, status: 'finalized', ...extra, _deleted: false };
}

export function pushBody(doc: Record<string, unknown>, rev = `1-test.${Math.random().toString(36).slice(2, 8)}`, assumed?: Record<string, unknown>): string {
  return JSON.stringify([{ ...(assumed ? { assumedMasterState: assumed } : {}), newDocumentState: { ...doc, rev } }]);
}

/**
 * A write by a server-side integration (e.g. the sales system delivering orders), the way the CAD
 * bridge writes inbound data: straight to the store, which plans the workflows' outbox in the
 * same transaction. Devices may not write such collections.
 */
export async function systemWrite<C extends CollectionName>(server: TestServer, collection: C, tenantId: string, doc: Omit<WireDoc<C>, 'rev'>): Promise<void> {
  const actor: Actor = { kind: 'system', tenantId, userId: 'sales-integration' };
  const result = await server.app.store.writeBatch({
    collection, tenantId, actor,
    requests: [{
      id: doc.id, incoming: { ...doc, _deleted: false } as WireDocument,
      decide: (master) => {
        const current = master ? (JSON.parse(master.json) as Record<string, unknown>) : undefined;
        return { action: 'write', doc: { ...doc, _deleted: false, rev: nextRevision(current?.['rev'] as string | undefined, `sys.${Math.random().toString(36).slice(2, 8)}`) } as WireDocument };
      },
    }],
  });
  if (result.written.length !== 1) throw new Error(`system write of ${collection} ${doc.id} wrote nothing`);
}
