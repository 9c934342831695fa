import type { FastifyInstance } from 'fastify';
import type { WorkflowRegistry } from '../hooks/registry.ts';
import type { Store } from '../store/types.ts';
import { AccessControl } from './access.ts';
import type { CollectionRegistry } from './collections.ts';
import { registerPullRoute } from './pull.ts';
import { registerPushRoute } from './push.ts';
import { registerRejectionsRoute } from './rejections.ts';
import { registerScopeRoute } from './scope.ts';

export interface ReplicationRoutesOptions {
  registry: CollectionRegistry;
  store: Store;
  workflows: WorkflowRegistry;
  /** The access rules to enforce; defaults to shared/access/rules.ts with undeclared collections denied. */
  access?: AccessControl;
}

/** Mounted under /api/sync; authentication runs before every route of this plugin. */
export async function replicationRoutes(app: FastifyInstance, options: ReplicationRoutesOptions): Promise<void> {
  const access = options.access ?? new AccessControl({ undeclared: 'deny' });
  registerRejectionsRoute(app, options.store);
  registerPullRoute(app, options.registry, options.store, access);
  registerScopeRoute(app, options.registry, options.store, access);
  registerPushRoute(app, options.registry, options.store, options.workflows, access);
}
