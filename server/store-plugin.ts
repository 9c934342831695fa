import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ServerConfig } from './config.ts';
import { openStore } from './store/store-factory.ts';
import type { AuditKey } from './store/audit-chain.ts';
import type { OutboxPlanner, Store } from './store/types.ts';

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
  }
}

export interface StorePluginOptions {
  config: Pick<ServerConfig, 'storeKind' | 'dataDir' | 'sqliteSynchronous' | 'commitWindowMs' | 'commitWindowGroup' | 'databaseUrl' | 'databaseSchema'>;
  /** Plans each write's hook entries in the write's transaction (the hook spine's workflow registry). */
  planner: OutboxPlanner;
  /** A store to use instead of the configured one; it is given the planner, and closed on close all the same. */
  store?: Store;
  /**
   * The audit chain's key (server/audit/key.ts; buildServer always gives it). Absent: the public
   * test key (a store for a test of other plugins). A store handed in was opened with its own.
   */
  auditKey?: AuditKey;
}

/**
 * The one store of this process (SQLite in DATA_DIR, or PostgreSQL) as `app.store`, closed after
 * everything that writes to it. Beside server/store rather than in it: the store knows no HTTP.
 */
export const storePlugin = fp(async (app: FastifyInstance, options: StorePluginOptions) => {
  // Every write plans its hook triggers with the planner: the store is opened with it, or a store
  // handed in is given it.
  const store = options.store ?? await openStore(options.config, options.planner, options.auditKey);
  if (options.store) options.store.useOutboxPlanner(options.planner);
  app.decorate('store', store);
  // onClose hooks run in reverse order of registration: every capability registered after this
  // one has stopped writing by the time the store closes.
  app.addHook('onClose', async () => store.close());
}, { name: 'fieldsync-store', fastify: '5.x' });
