import type { FastifyInstance } from 'fastify';
import type { BreakerState } from '../integrations/resilient-call.ts';
import type { Store } from '../store/types.ts';
import type { OpsAccess } from './ops-token.ts';
import { healthSchema, readySchema } from './route-schemas.ts';

export interface HealthOptions {
  /** Who sees `/ready`'s details (METRICS_TOKEN); everyone else only ready or not. */
  access: OpsAccess;
  /** Breaker state per outbound target; absent when no integrations are wired. */
  breakerStates?: () => Record<string, BreakerState>;
}

/**
 * `/health` says the process is alive; `/ready` says whether it can serve. Only an unreachable
 * store makes it 503: an open breaker or a growing outbox is reported but keeps the instance in
 * rotation, because taking it out would not bring a hospital back and would stop sync as well.
 * A load balancer needs only the status; the details (which hospitals, how far behind, the
 * store's own error text, which may name its host) are for monitoring's token.
 */
export function registerHealthRoutes(app: FastifyInstance, store: Store, options: HealthOptions): void {
  const breakers = () => options.breakerStates?.() ?? {};
  app.get('/health', { schema: healthSchema }, async () => ({ status: 'ok' }));
  app.get('/ready', { schema: readySchema }, async (request, reply) => {
    const detailed = options.access.granted(request);
    try {
      await store.ping();
      if (!detailed) return { status: 'ready', database: 'reachable' };
      const stats = await store.outboxStats(Date.now());
      return {
        status: 'ready',
        store: store.kind,
        database: 'reachable',
        outbox: { depth: stats.depth, oldestAgeMs: stats.oldestAgeMs },
        deadLetters: stats.deadLetters,
        breakers: breakers(),
      };
    } catch (error) {
      reply.status(503);
      if (!detailed) return { status: 'unavailable', database: 'unreachable' };
      return {
        status: 'unavailable',
        store: store.kind,
        database: 'unreachable',
        reason: error instanceof Error ? error.message : 'store unreachable',
        breakers: breakers(),
      };
    }
  });
}
