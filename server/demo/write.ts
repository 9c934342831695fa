/**
 * How the demo seed writes: straight to the store as a server actor, the way the CAD bridge's
 * inbound events and the hook runner write; the store plans each document's outbox entries, which
 * commit with it, so the workflows run exactly as for real data. A document that exists already is left alone, so
 * seeding twice writes nothing the second time.
 */
import type { FastifyInstance } from 'fastify';
import { nextRevision } from '../../shared/revision.ts';
import type { CollectionName, WireDoc } from '../../shared/schemas/index.ts';
import { schemaProblems, compact } from '../hooks/workflows/support.ts';
import type { Actor, WireDocument } from '../store/types.ts';

export type SeedDoc<C extends CollectionName> = Omit<WireDoc<C>, 'rev' | 'tenantId' | '_deleted'>;

export interface DemoSeedContext {
  app: Pick<FastifyInstance, 'store'>;
  tenantId: string;
  /** The clock the demo's times are made from (the server's local offset is written in each). */
  now: Date;
}

/** Creates the document unless one with its id exists; returns whether it wrote. */
export async function createIfMissing<C extends CollectionName>(ctx: DemoSeedContext, collection: C, doc: SeedDoc<C>): Promise<boolean> {
  return write(ctx, collection, doc.id, (current) => (current ? undefined : doc));
}

/**
 * Changes a document the seed made, as the next step of its story (a unit taking its call), only
 * while `build` says the step is still due: returning undefined writes nothing.
 */
export async function updateIf<C extends CollectionName>(
  ctx: DemoSeedContext, collection: C, id: string, build: (current: WireDoc<C>) => SeedDoc<C> | undefined,
): Promise<boolean> {
  return write(ctx, collection, id, (current) => (current && !current._deleted ? build(current) : undefined));
}

// Not hooks/workflows/support.ts writeDoc: that needs a claimed outbox entry's EffectContext and writes as actor `hook` (which e.g. becameLocked trusts); the seed is a `system` actor outside any hook.
async function write<C extends CollectionName>(
  ctx: DemoSeedContext, collection: C, id: string, build: (current: WireDoc<C> | undefined) => SeedDoc<C> | undefined,
): Promise<boolean> {
  const { store } = ctx.app;
  const actor: Actor = { kind: 'system', tenantId: ctx.tenantId, userId: 'demo-seed' };
  const result = await store.writeBatch({
    collection, tenantId: ctx.tenantId, actor,
    requests: [{
      id, incoming: { id, _deleted: false },
      decide: (master) => {
        if (master && master.tenantId !== ctx.tenantId) throw new Error(`demo seed: ${collection} ${id} belongs to another tenant`);
        const current = master ? (JSON.parse(master.json) as WireDoc<C>) : undefined;
        const next = build(current);
        if (!next) return { action: 'noop' };
        const { rev: _rev, ...rest } = next as SeedDoc<C> & { rev?: string };
        const full = compact({ ...rest, id, tenantId: ctx.tenantId, _deleted: false }) as Record<string, unknown>;
        const problems = schemaProblems(collection, full);
        if (problems) throw new Error(`demo seed: ${collection} ${id} would not be valid (${problems})`);
        return { action: 'write', doc: { ...full, rev: nextRevision(current?.rev, `demo.${Math.random().toString(36).slice(2, 8)}`) } as unknown as WireDocument };
      },
    }],
  });
  return result.written.length > 0;
}
