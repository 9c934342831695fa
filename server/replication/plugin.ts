import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { SYNC_BASE_PATH } from '../../shared/protocol/index.ts';
import { collectionSchemas } from '../../shared/schemas/index.ts';
import type { JsonSchemaObject } from '../../shared/schemas/wire-schema.ts';
import { createLimiter } from '../auth/hardening.ts';
import { requireIdentity } from '../auth/require-identity.ts';
import type { ServerConfig } from '../config.ts';
import { AccessControl } from './access.ts';
import { buildCollectionRegistry, type CollectionRegistry } from './collections.ts';
import { replicationRoutes } from './index.ts';
import { PushDecoder } from './push-decoder.ts';
import { attachChangeStream } from './stream.ts';
import type { WritePolicy } from './write-policy.ts';

declare module 'fastify' {
  interface FastifyInstance {
    collectionRegistry: CollectionRegistry;
    /** The access rules of shared/access/rules.ts as the sync routes and the stream enforce them. */
    accessControl: AccessControl;
    /** Validates and serialises large push bodies on a worker thread; absent when PUSH_WORKER_MIN_BYTES is 0. */
    pushDecoder: PushDecoder | undefined;
  }
}

export interface SyncPluginOptions {
  config: Pick<ServerConfig, 'pushWorkerMinBytes' | 'syncRateLimit' | 'rateLimitWindowMs'>;
  /** Collections to serve; defaults to the product's collections in shared/schemas. */
  collections?: Record<string, JsonSchemaObject>;
  /** The domain's write policies, asked in order for every pushed row (write-policy.ts); buildServer passes the product's. */
  policies: readonly WritePolicy[];
}

/**
 * Replication: pull, push, rejections and out-of-scope under `SYNC_BASE_PATH` (authenticated, rate
 * limited per device), and the live change stream on socket.io `/sync`.
 */
export const syncPlugin = fp(async (app: FastifyInstance, options: SyncPluginOptions) => {
  const { config } = options;
  const { store, authenticator } = app;
  const registry = buildCollectionRegistry(options.collections ?? (collectionSchemas as unknown as Record<string, JsonSchemaObject>));
  // Collections given in code (tests, foreign protocols) have no access declaration: tenant-wide.
  const accessControl = new AccessControl({ undeclared: options.collections ? 'tenant' : 'deny' });
  const pushDecoder = config.pushWorkerMinBytes > 0 ? new PushDecoder(registry, { minBytes: config.pushWorkerMinBytes }) : undefined;
  if (pushDecoder) app.addHook('onClose', async () => pushDecoder.close());
  app.decorate('collectionRegistry', registry);
  app.decorate('accessControl', accessControl);
  app.decorate('pushDecoder', pushDecoder);

  await app.register(async (scope) => {
    // Push also takes the service worker's push-only device credential (DPoP); every other route refuses it.
    await scope.register(requireIdentity, { auth: authenticator, deviceCredentials: app.deviceCredentials });
    // After authentication, so the budget is per device (not per IP behind one NAT).
    const syncLimit = createLimiter(scope, {
      max: config.syncRateLimit, windowMs: config.rateLimitWindowMs, what: 'sync requests from this device',
      key: (request) => `sync|${request.identity.tenantId}|${request.identity.deviceId}`,
    });
    scope.addHook('onRequest', async (request, reply) => syncLimit(request, reply));
    await scope.register(replicationRoutes, {
      registry, store, policies: options.policies, access: accessControl, envelopes: app.auth.transportKeys, ...(pushDecoder ? { pushDecoder } : {}),
    });
  }, { prefix: SYNC_BASE_PATH });

  const detachStream = attachChangeStream(app.io, registry, store, authenticator, { access: accessControl, log: app.log.child({ component: 'stream' }) });
  app.addHook('onClose', async () => detachStream());
}, {
  name: 'fieldsync-sync', fastify: '5.x',
  dependencies: ['fieldsync-http', 'fieldsync-store', 'fieldsync-auth'],
  decorators: { fastify: ['io', 'store', 'auth', 'authenticator', 'deviceCredentials', 'createRateLimit'] },
});
