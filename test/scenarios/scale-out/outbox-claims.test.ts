/**
 * Hook effects across three real server processes on one PostgreSQL: each outbox entry is claimed
 * by one process (FOR UPDATE SKIP LOCKED, a lease and a token), so 50 finalized reports give
 * exactly 50 hospital notices and 50 claim submissions at HTTP stand-ins; and when a process is
 * killed with SIGKILL in the middle, its claims expire and another process does the work: every
 * effect happens, and a repeat is only an entry that was in flight on the killed process, carrying
 * the same idempotency key. (Before claims, every process ran every entry it read: the issue
 * measured 110 notices and 119 claims for 50 reports.)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { ADMIN, pathOf, SYNC_BASE_PATH } from '../../../shared/protocol/index.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import type { ServerProcess } from '../../helpers/server-process.ts';
import { completeEpcr, NOTIFIED_HOSPITAL, pushBody } from '../../server/hooks/support.ts';
import { ProcessCluster, SKIP_POSTGRES } from './support.ts';

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

const standIns = new StandIns();
const cluster = new ProcessCluster();
let processes: ServerProcess[] = [];

beforeAll(async () => {
  await standIns.start();
  processes = await cluster.start(3, {
    HOSPITAL_ENDPOINTS: JSON.stringify({ [NOTIFIED_HOSPITAL]: `${standIns.url}/hospital` }),
    CLAIMS_ENDPOINT: `${standIns.url}/claims`,
    AUTO_CLAIM_AFTER_FINALIZE: 'true',
    OUTBOX_CLAIM_LEASE_MS: String(LEASE_MS),
  });
  // A report locks only once its agency's NEMSIS identity is set (the admin does it once).
  const admin = devToken({ tenantId: TENANT, role: 'admin', deviceId: 'admin-console' });
  const saved = await fetch(`${processes[0]!.url}${pathOf(ADMIN.putAgency)}`, {
    method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(demoAgencySettings()),
  });
  if (saved.status !== 200) throw new Error(`could not set the agency's NEMSIS identity: ${saved.status} ${await saved.text()}`);
}, 150_000);
afterAll(async () => {
  await cluster.stop();
  await standIns.stop();
});

/** Finalized reports pushed round-robin through `through`, as crews' tablets would. */
async function finalizeReports(through: ServerProcess[], label: string, count: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, async (_, i) => {
    const unit = `${label}${i % 5}`;
    const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: `tablet-${unit}`, subject: unit });
    const server = through[i % through.length]!;
    const response = await fetch(`${server.url}${SYNC_BASE_PATH}/epcrs/push?schemaVersion=${schemaVersionOf('epcrs')}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: pushBody(completeEpcr(TENANT, unit)),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(await response.json()).toEqual([]);
  }));
}

async function outboxLeft(): Promise<{ pending: number; dead: number }> {
  const [row] = await cluster.query<{ pending: string; dead: string }>(
    `SELECT count(*) FILTER (WHERE done = 0) AS pending, count(*) FILTER (WHERE done = 2) AS dead FROM ${cluster.schema}.outbox WHERE queue = 'hooks'`);
  return { pending: Number(row!.pending), dead: Number(row!.dead) };
}

describe.skipIf(SKIP_POSTGRES)('three server processes on one PostgreSQL: outbox claims', () => {
  it('50 finalizes spread over the processes: exactly 50 hospital notices and 50 claim submissions', async () => {
    await finalizeReports(processes, 'P', REPORTS);
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
    await finalizeReports(processes, 'K', KILL_REPORTS);
    // Kill it while effects are under way (some done, most not).
    await eventually('effects under way', () => standIns.total('hospital') + standIns.total('claims') >= 6, 120_000);
    await victim.kill();
    const doneAtKill = standIns.total('hospital') + standIns.total('claims');
    await eventually('every report notified and claimed by the survivors', () => standIns.requests.hospital.size >= KILL_REPORTS && standIns.requests.claims.size >= KILL_REPORTS, 240_000);
    await eventually('the outbox drained', async () => (await outboxLeft()).pending === 0, 60_000);
    await new Promise((r) => setTimeout(r, 1500));

    const repeats = (kind: 'hospital' | 'claims'): number => standIns.total(kind) - standIns.requests[kind].size;
    console.log(`[scale-out outbox] SIGKILL of 1 of 3 processes after ${doneAtKill} effects: ${standIns.total('hospital')} hospital notices (${standIns.requests.hospital.size} keys), `
      + `${standIns.total('claims')} claim submissions (${standIns.requests.claims.size} keys); repeats: ${repeats('hospital')} notices, ${repeats('claims')} claims`);
    expect(standIns.requests.hospital.size).toBe(KILL_REPORTS);
    expect(standIns.requests.claims.size).toBe(KILL_REPORTS);
    // A repeat is an entry the killed process had claimed and was running (at most one claim round
    // of its runner: 8 entries), and it carries the key of the first attempt.
    expect(repeats('hospital') + repeats('claims')).toBeLessThanOrEqual(8);
    expect(await outboxLeft()).toEqual({ pending: 0, dead: 0 });
  }, 300_000);
});
