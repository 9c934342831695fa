import type { FastifyInstance } from 'fastify';
import type { BreakerState } from '../integrations/resilient-call.ts';
import type { Store } from '../store/types.ts';
import { healthSchema, readySchema } from './route-schemas.ts';

export interface HealthOptions {
  /** Breaker state per outbound target; absent when no integrations are wired. */
  breakerStates?: () => Record<string, BreakerState>;
}

/**
 * `/health` says the process is alive; `/ready` says whether it can serve. Only an unreachable
 * store makes it 503: an open breaker or a growing outbox is reported but keeps the instance in
 * rotation, because taking it out would not bring a hospital back and would stop sync as well.
 */
export function registerHealthRoutes(app: FastifyInstance, store: Store, options: HealthOptions = {}): void {
  const breakers = () => options.breakerStates?.() ?? {};
  app.get('/health', { schema: healthSchema }, async () => ({ status: 'ok' }));
  app.get('/ready', { schema: readySchema }, async (_request, reply) => {
    try {
      await store.ping();
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
