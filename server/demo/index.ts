/**
 * The demo agency's data, so every app has something to show after `npm start`: units, calls,
 * M1's active call and its ePCR stub, a finished report with its billing record and claim, a
 * technician job, GPS tracks. Everything is written through the store as a server actor with the
 * workflows' outbox, so the hooks make what they make for real data (stubs, lock, billing,
 * ticket, job). Ids are derived from names, and existing documents are left alone: running it
 * again writes nothing.
 *
 * The hook runner must be running (the app is ready): the claim waits for the billing record.
 */
import type { FastifyInstance } from 'fastify';
import { DEMO_TENANT } from '../auth/demo.ts';
import { seedAgencySettings } from './agency.ts';
import { seedClaim } from './claims.ts';
import { seedFinishedEpcr } from './epcrs.ts';
import { seedGps } from './gps.ts';
import { seedIncidents } from './incidents.ts';
import { seedOrders } from './orders.ts';
import { ensureDemoTiles } from './tiles.ts';
import { assignM1, seedUnits } from './units.ts';
import type { DemoSeedContext } from './write.ts';

export interface DemoDataResult {
  /** False when the hooks did not bill the finished report in time, so its claim was not written. */
  claimed: boolean;
}

export async function seedDemoData(
  app: Pick<FastifyInstance, 'store' | 'workflows'>,
  options: { tenantId?: string; now?: Date; claimTimeoutMs?: number; /** DATA_DIR: where the demo map's tiles are written (server/demo/tiles.ts); without it the map stays the grid. */ dataDir?: string } = {},
): Promise<DemoDataResult> {
  const ctx: DemoSeedContext = { app, tenantId: options.tenantId ?? DEMO_TENANT, now: options.now ?? new Date() };
  // The units before the calls (the stubs copy the unit's call sign); the finished report before
  // its call (incident-created then finds it and makes no second one); M1 takes its call once the
  // call exists; T1's fix before the order that needs a technician.
  // The agency's NEMSIS identity first: the finished report's export carries it.
  // The map's tiles before the settings that name them.
  if (options.dataDir) ensureDemoTiles(options.dataDir);
  await seedAgencySettings(ctx, { withTiles: options.dataDir !== undefined });
  await seedUnits(ctx);
  await seedFinishedEpcr(ctx);
  await seedIncidents(ctx);
  await assignM1(ctx);
  await seedGps(ctx);
  await seedOrders(ctx);
  const claimed = await seedClaim(ctx, { timeoutMs: options.claimTimeoutMs ?? 20_000 });
  return { claimed };
}
