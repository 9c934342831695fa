/**
 * The race between making the ePCR stub and a CAD stamp arriving meanwhile: the stamp's own
 * timeline hook finds no stub yet, so the stub workflow must pick the stamp up itself. The store
 * is wrapped so the stamp commits exactly while the stub workflow is reading the incident.
 */
import { rmSync } from 'node:fs';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkflowRegistry } from '../../../server/hooks/registry.ts';
import { HookRunner } from '../../../server/hooks/runner.ts';
import { incidentCreatedWorkflow } from '../../../server/hooks/workflows/incident-created.ts';
import { stubEpcrId } from '../../../server/hooks/workflows/index.ts';
import { SqliteStore } from '../../../server/store/sqlite.ts';
import type { Actor, Store, WireDocument } from '../../../server/store/types.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import { makeDataDir } from '../../helpers/server.ts';

const TENANT = 'agency-race';
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('ePCR stub and a CAD stamp committed at the same time', () => {
  it('the stub ends with the stamp even though it read the incident before the stamp', async () => {
    const dataDir = makeDataDir('stub-race');
    dirs.push(dataDir);
    const registry = new WorkflowRegistry([incidentCreatedWorkflow()]);
    const store = new SqliteStore({ dataDir, outboxPlanner: registry });
    const actor: Actor = { kind: 'cad-bridge', tenantId: TENANT };
    const incident = {
      id: 'a8a3c1f4-4c0e-4f59-9d6e-2f1b7c3d9e01', tenantId: TENANT, incidentNumber: 'R-1', status: 'dispatched',
      assignedUnitId: 'M1', timeline: { psapCall: '2026-01-05T10:00:00-05:00' }, _deleted: false,
    };
    const write = (doc: Record<string, unknown>) => store.writeBatch({
      collection: 'incidents', tenantId: TENANT, actor,
      requests: [{ id: incident.id, incoming: doc as WireDocument, decide: () => ({ action: 'write', doc: doc as WireDocument }) }],
    });

    let stamped = false;
    const racing = new Proxy(store, {
      get(target, prop) {
        if (prop === 'getDocuments') {
          return async (collection: string, tenantId: string, ids: string[]) => {
            const rows = await target.getDocuments(collection, tenantId, ids);
            if (collection === 'incidents' && !stamped) {
              stamped = true; // the unit is notified right after the stub workflow read the incident
              await write({ ...incident, rev: '2-cad.b', timeline: { ...incident.timeline, unitNotified: '2026-01-05T10:01:00-05:00' } });
            }
            return rows;
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;

    await write({ ...incident, rev: '1-cad.a' });
    const runner = new HookRunner({ store: racing, registry, log: Fastify({ logger: { level: 'silent' } }).log, baseDelayMs: 10, pollMs: 20 });
    runner.start();
    try {
      const id = stubEpcrId(TENANT, incident.id, 'M1');
      const stub = await eventually('the stub with both times', async () => {
        const [row] = await store.getDocuments('epcrs', TENANT, [id]);
        const doc = row ? (JSON.parse(row.json) as Epcr) : undefined;
        return doc?.times?.unitNotified ? doc : undefined;
      });
      expect(stamped).toBe(true);
      expect(stub.times).toEqual({ psapCall: '2026-01-05T10:00:00-05:00', unitNotified: '2026-01-05T10:01:00-05:00' });
    } finally {
      await runner.stop();
      await store.close();
    }
  });
});
