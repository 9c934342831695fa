/**
 * Hook effects across three real server processes on one PostgreSQL behind a round-robin balancer:
 * each outbox entry is claimed by one process (FOR UPDATE SKIP LOCKED, a lease and a token), so 50
 * finalized reports pushed by signed-in crews give exactly 50 hospital notices and 50 claim
 * submissions at HTTP stand-ins; and when a process is killed with SIGKILL in the middle (pushes
 * still arriving, effects under way), nothing a push acknowledged is lost, its claims expire and
 * another process does the work: every effect happens, and the repeats are at most the entries the
 * killed process held claims on at its death, each carrying the same idempotency key. (Before claims, every process ran every entry it read: the issue
 * measured 110 notices and 119 claims for 50 reports.)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { ADMIN, pathOf, SYNC } from '../../../shared/protocol/index.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import type { RoundRobinProxy } from '../../helpers/round-robin-proxy.ts';
import type { ServerProcess } from '../../helpers/server-process.ts';
import { completeEpcr, NOTIFIED_HOSPITAL, pushBody } from '../../server/hooks/support.ts';
import { ProcessCluster, signIn, SKIP_POSTGRES, type SignedIn } from './support.ts';

const TENANT = 'agency-claims';
const REPORTS = 50;
/** Reports of the SIGKILL run (fewer: every one waits for its export check). */
const KILL_REPORTS = 30;
/**
 * Short, so the killed process's claims are taken over within the test; long enough that an
 * effect still running keeps its claim on a loaded machine (with 6 s, finalize checks of 3
 * processes at load 30 outlived their leases and 2 of 50 notices went out twice, same key).
 */
const LEASE_MS = 20_000;

/** The hospital and the clearinghouse: count every request by its idempotency key. */
class StandIns {
  readonly requests = { hospital: new Map<string, number>(), claims: new Map<string, number>() };
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const kind = request.url?.startsWith('/claims') ? 'claims' : 'hospital';
        const key = String(request.headers['idempotency-key'] ?? '');
        this.requests[kind].set(key, (this.requests[kind].get(key) ?? 0) + 1);
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: true, reference: `ref-${key}` }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  total(kind: 'hospital' | 'claims'): number {
    return [...this.requests[kind].values()].reduce((sum, n) => sum + n, 0);
  }

  reset(): void {
    this.requests.hospital.clear();
    this.requests.claims.clear();
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const PASSWORD = 'lantern quartz meadow 4711 scale';
const standIns = new StandIns();
const cluster = new ProcessCluster();
let processes: ServerProcess[] = [];
let proxy: RoundRobinProxy;
/** Crews by unit, signed in through the balancer. */
const crews = new Map<string, SignedIn>();

beforeAll(async () => {
  await standIns.start();
  processes = await cluster.start(3, {
    HOSPITAL_ENDPOINTS: JSON.stringify({ [NOTIFIED_HOSPITAL]: `${standIns.url}/hospital` }),
    CLAIMS_ENDPOINT: `${standIns.url}/claims`,
    AUTO_CLAIM_AFTER_FINALIZE: 'true',
    OUTBOX_CLAIM_LEASE_MS: String(LEASE_MS),
  });
  proxy = await cluster.startProxy();
  const units = ['P0', 'P1', 'P2', 'P3', 'P4', 'K0', 'K1', 'K2', 'K3', 'K4'];
  await cluster.createUsers([
    { tenantId: TENANT, username: 'admin', password: PASSWORD, role: 'admin' },
    ...units.map((unit) => ({ tenantId: TENANT, username: `crew-${unit}`, password: PASSWORD, role: 'crew' as const, unitId: unit })),
  ]);
  for (const unit of units) crews.set(unit, await signIn(proxy.url, TENANT, `crew-${unit}`, PASSWORD, `tablet-${unit}`));
  // A report locks only once its agency's NEMSIS identity is set (the admin does it once); its
  // claims go out without a patient signature (the reports here carry none; the default holds them).
  const demo = demoAgencySettings();
  const settings = { ...demo, billing: { ...demo.billing, unsignedClaims: 'send' } };
  const admin = await signIn(proxy.url, TENANT, 'admin', PASSWORD, 'admin-console');
  const saved = await fetch(`${proxy.url}${pathOf(ADMIN.putAgency)}`, {
    method: 'PUT', headers: { authorization: `Bearer ${admin.accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify(settings),
  });
  if (saved.status !== 200) throw new Error(`could not set the agency's NEMSIS identity: ${saved.status} ${await saved.text()}`);
}, 600_000);
afterAll(async () => {
  await cluster.stop();
  await standIns.stop();
});

const pushUrl = () => `${proxy.url}${pathOf(SYNC.push, { collection: 'epcrs' })}?schemaVersion=${schemaVersionOf('epcrs')}`;

/**
 * One finalized report pushed through the balancer as a crew's tablet would: a push that gets no
 * answer (its process died under it: 502, or the connection dropped) is sent again, as the
 * device's queue does, until one is acknowledged. Answers the report's id once acknowledged.
 */
async function finalizeReport(unit: string): Promise<string> {
  const report = completeEpcr(TENANT, unit);
  const body = pushBody(report, `1-${unit}`);
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(pushUrl(), {
      method: 'POST', headers: { authorization: `Bearer ${crews.get(unit)!.accessToken}`, 'content-type': 'application/json' }, body,
    }).catch(() => undefined);
    if (response?.status === 200) {
      // A repeat of a push whose first answer was lost may find its own write already there (a
      // conflict answering that very report); anything else would be a refusal.
      const conflicts = (await response.json()) as { id: string }[];
      expect(conflicts.every((c) => c.id === report.id)).toBe(true);
      return report.id;
    }
    if (response && response.status !== 502) throw new Error(`push answered ${response.status}: ${await response.text()}`);
    if (attempt > 20) throw new Error('push not acknowledged after 20 attempts');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Finalized reports, `concurrency` at a time, through the balancer. */
async function finalizeReports(label: string, count: number, concurrency = count): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      ids.push(await finalizeReport(`${label}${i % 5}`));
    }
  }));
  return ids;
}

async function outboxLeft(): Promise<{ pending: number; dead: number }> {
  const [row] = await cluster.query<{ pending: string; dead: string }>(
    `SELECT count(*) FILTER (WHERE done = 0) AS pending, count(*) FILTER (WHERE done = 2) AS dead FROM ${cluster.schema}.outbox WHERE queue = 'hooks'`);
  return { pending: Number(row!.pending), dead: Number(row!.dead) };
}

describe.skipIf(SKIP_POSTGRES)('three server processes on one PostgreSQL: outbox claims', () => {
  it('50 finalizes spread over the processes: exactly 50 hospital notices and 50 claim submissions', async () => {
    await finalizeReports('P', REPORTS);
    // Each finalize is checked against the NEMSIS XSD and Schematron first: slow on a loaded machine.
    await eventually('every report notified and claimed', () => standIns.requests.hospital.size >= REPORTS && standIns.requests.claims.size >= REPORTS, 240_000);
    await eventually('the outbox drained', async () => (await outboxLeft()).pending === 0, 30_000);
    // Anything repeated late would arrive now.
    await new Promise((r) => setTimeout(r, 1500));
    console.log(`[scale-out outbox] ${REPORTS} finalizes over 3 processes: ${standIns.total('hospital')} hospital notices (${standIns.requests.hospital.size} keys), `
      + `${standIns.total('claims')} claim submissions (${standIns.requests.claims.size} keys)`);
    expect(standIns.requests.hospital.size).toBe(REPORTS);
    expect(standIns.requests.claims.size).toBe(REPORTS);
    expect(standIns.total('hospital')).toBe(REPORTS);
    expect(standIns.total('claims')).toBe(REPORTS);
    expect(await outboxLeft()).toEqual({ pending: 0, dead: 0 });
  }, 300_000);

  it('a process killed with SIGKILL in the middle: its claims expire and another does the work; repeats only for entries in flight, with the same key', async () => {
    standIns.reset();
    const victim = processes[2]!;
    // Pushes keep arriving while the process dies: half before, half during and after.
    const first = finalizeReports('K', KILL_REPORTS / 2, 3);
    await first;
    const second = finalizeReports('K', KILL_REPORTS / 2, 3);
    // Kill it while effects are under way (some done, most not).
    await eventually('effects under way', () => standIns.total('hospital') + standIns.total('claims') >= 6, 120_000);
    await victim.kill();
    const doneAtKill = standIns.total('hospital') + standIns.total('claims');
    // What the killed process held claims on when it died: nothing else may be repeated.
    const inFlight = await cluster.query<{ key: string }>(
      `SELECT key FROM ${cluster.schema}.outbox WHERE done = 0 AND claim_token LIKE $1`, [`%/${victim.child.pid}/%`]);
    const acknowledged = [...await first, ...await second];
    await eventually('every report notified and claimed by the survivors', () => standIns.requests.hospital.size >= KILL_REPORTS && standIns.requests.claims.size >= KILL_REPORTS, 240_000);
    await eventually('the outbox drained', async () => (await outboxLeft()).pending === 0, 60_000);
    await new Promise((r) => setTimeout(r, 1500));

    const repeats = (kind: 'hospital' | 'claims'): number => standIns.total(kind) - standIns.requests[kind].size;
    console.log(`[scale-out outbox] SIGKILL of 1 of 3 processes after ${doneAtKill} effects, holding ${inFlight.length} claims: ${standIns.total('hospital')} hospital notices (${standIns.requests.hospital.size} keys), `
      + `${standIns.total('claims')} claim submissions (${standIns.requests.claims.size} keys); repeats: ${repeats('hospital')} notices, ${repeats('claims')} claims`);
    // Nothing acknowledged lost: every acknowledged report is stored and had its effects, once per key.
    expect(acknowledged).toHaveLength(KILL_REPORTS);
    const stored = await cluster.query<{ id: string }>(`SELECT id FROM ${cluster.schema}.documents WHERE collection = 'epcrs' AND id = ANY($1)`, [acknowledged]);
    expect(stored.map((r) => r.id).sort()).toEqual([...acknowledged].sort());
    expect([...standIns.requests.hospital.keys()].sort()).toEqual(acknowledged.map((id) => `hospital-notice:${id}`).sort());
    expect(standIns.requests.claims.size).toBe(KILL_REPORTS);
    // A repeat is an entry the killed process had claimed when it died, carrying the first attempt's key
    // (a repeat under another key would have made more keys than reports, above).
    expect(repeats('hospital') + repeats('claims')).toBeLessThanOrEqual(inFlight.length);
    expect(await outboxLeft()).toEqual({ pending: 0, dead: 0 });
  }, 300_000);
});
