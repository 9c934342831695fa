import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { requireIdentity } from '../../auth/require-identity.ts';
import type { ServerConfig } from '../../config.ts';
import type { CadGateway } from '../types.ts';
import { CadBridge, DisabledCadGateway } from './bridge.ts';
import { CadInbound } from './inbound.ts';
import { CAD_WATCHED_COLLECTIONS, cadOutboundFor } from './outbound-mapper.ts';
import { cadBridgeRoutes } from './routes.ts';
import { SOCKET_BRIDGE_BASE_PATH } from '../../../shared/protocol/index.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Present when CAD_BACKEND_URL is set. */
    cadBridge: CadBridge | undefined;
    /** The gateway hooks use to notify CAD (the bridge, or a no-op when it is off). */
    cadGateway: CadGateway;
  }
}

export interface CadBridgePluginOptions {
  config: Pick<ServerConfig, 'cadBackendUrl' | 'cadBackendAuthToken' | 'cadTenantId' | 'cadTimeZone'>;
  /** CAD bridge tuning (tests shorten the reconnection delays). */
  cadBridge?: { baseDelayMs?: number; maxDelayMs?: number; ackTimeoutMs?: number };
}

/**
 * The external CAD over socket.io, both ways (when CAD_BACKEND_URL is set): inbound events are
 * written as CAD's changes; committed changes CAD must hear of are mapped into its outbound queue.
 * Also `SOCKET_BRIDGE_BASE_PATH` (health, reconnect, a dispatcher's REST writes), on or off.
 */
export const cadBridgePlugin = fp(async (app: FastifyInstance, options: CadBridgePluginOptions) => {
  const { config } = options;
  const { store, workflows, collectionRegistry: registry } = app;
  let cadBridge: CadBridge | undefined;
  if (config.cadBackendUrl) {
    const cadTenant = config.cadTenantId;
    const bridge = new CadBridge({
      url: config.cadBackendUrl, authToken: config.cadBackendAuthToken, tenantId: cadTenant, store,
      inbound: new CadInbound(store, cadTenant, undefined, registry, config.cadTimeZone), log: app.log.child({ component: 'cad-bridge' }), ...options.cadBridge,
    });
    // CAD speaks for one agency: only that agency's changes are sent to it.
    for (const collection of CAD_WATCHED_COLLECTIONS) {
      workflows.addMapper(collection, (change) => (change.tenantId === cadTenant ? cadOutboundFor(change) : []));
    }
    const detachCad = store.onCommit(() => bridge.kick());
    app.addHook('onReady', async () => bridge.start());
    app.addHook('onClose', async () => {
      detachCad();
      bridge.stop();
    });
    cadBridge = bridge;
  }
  app.decorate('cadBridge', cadBridge);
  const cadGateway: CadGateway = cadBridge ?? new DisabledCadGateway();
  app.decorate('cadGateway', cadGateway);
  await app.register(async (scope) => {
    await scope.register(requireIdentity, { auth: app.authenticator });
    await scope.register(cadBridgeRoutes, { bridge: cadBridge, store, cadTenantId: config.cadTenantId, cadTimeZone: config.cadTimeZone });
  }, { prefix: SOCKET_BRIDGE_BASE_PATH });
}, {
  name: 'fieldsync-cad-bridge', fastify: '5.x',
  dependencies: ['fieldsync-store', 'fieldsync-auth', 'fieldsync-hooks', 'fieldsync-sync'],
  decorators: { fastify: ['store', 'authenticator', 'workflows', 'collectionRegistry'] },
});
