import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { requireIdentity } from '../../auth/require-identity.ts';
import type { ServerConfig } from '../../config.ts';
import type { CadGateway } from '../types.ts';
import { CadBridge, CadBridges } from './bridge.ts';
import { CadInbound } from './inbound.ts';
import { CAD_WATCHED_COLLECTIONS, cadOutboundFor } from './outbound-mapper.ts';
import { cadBridgeRoutes } from './routes.ts';
import { SOCKET_BRIDGE_BASE_PATH } from '../../../shared/protocol/index.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The bridge of each agency that has a CAD (CAD_BACKEND_URL, CAD_BACKENDS); none when no CAD is configured. */
    cadBridges: CadBridges;
    /** The gateway hooks use to notify CAD (the bridge, or a no-op when it is off). */
    cadGateway: CadGateway;
  }
}

export interface CadBridgePluginOptions {
  config: Pick<ServerConfig, 'cadBackendUrl' | 'cadBackendAuthToken' | 'cadTenantId' | 'cadTimeZone' | 'cadBackends' | 'cadGpsCoalesceMs'>;
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
  const backends = [
    ...(config.cadBackendUrl ? [{ tenantId: config.cadTenantId, url: config.cadBackendUrl, authToken: config.cadBackendAuthToken, timeZone: config.cadTimeZone }] : []),
    ...config.cadBackends,
  ];
  const seen = new Set<string>();
  for (const backend of backends) {
    if (seen.has(backend.tenantId)) throw new Error(`agency ${backend.tenantId} has two CAD backends (CAD_BACKEND_URL with CAD_TENANT_ID, and CAD_BACKENDS); an agency has one CAD.`);
    seen.add(backend.tenantId);
  }
  // One bridge per agency with a CAD: a CAD speaks for one agency and hears of that agency only
  // (issue 17: another agency's epcr:finalized reached the demo agency's CAD).
  const bridges = backends.map((backend) => new CadBridge({
    url: backend.url, authToken: backend.authToken, tenantId: backend.tenantId, store, gpsCoalesceMs: config.cadGpsCoalesceMs,
    inbound: new CadInbound(store, backend.tenantId, undefined, registry, backend.timeZone), log: app.log.child({ component: 'cad-bridge', tenantId: backend.tenantId }), ...options.cadBridge,
  }));
  for (const bridge of bridges) {
    for (const collection of CAD_WATCHED_COLLECTIONS) {
      workflows.addMapper(collection, (change) => (change.tenantId === bridge.tenantId ? cadOutboundFor(change) : []));
    }
  }
  if (bridges.length > 0) {
    const detachCad = store.onCommit((event) => {
      // A commit of one agency wakes that agency's bridge (an empty tenant: a notice outside a write).
      for (const bridge of bridges) if (!event.tenantId || event.tenantId === bridge.tenantId) bridge.kick();
    });
    app.addHook('onReady', async () => { for (const bridge of bridges) bridge.start(); });
    app.addHook('onClose', async () => {
      detachCad();
      for (const bridge of bridges) bridge.stop();
    });
  }
  const cadBridges = new CadBridges(bridges);
  app.decorate('cadBridges', cadBridges);
  app.decorate('cadGateway', cadBridges as CadGateway);
  await app.register(async (scope) => {
    await scope.register(requireIdentity, { auth: app.authenticator });
    // CAD times a dispatcher sends are read in the agency's zone, as its CAD's are.
    const timeZones = new Map(backends.map((backend) => [backend.tenantId, backend.timeZone]));
    const timeZoneOf = (tenantId: string) => timeZones.get(tenantId) ?? (tenantId === config.cadTenantId ? config.cadTimeZone : undefined);
    await scope.register(cadBridgeRoutes, { bridges: cadBridges, store, timeZoneOf });
  }, { prefix: SOCKET_BRIDGE_BASE_PATH });
}, {
  name: 'fieldsync-cad-bridge', fastify: '5.x',
  dependencies: ['fieldsync-store', 'fieldsync-auth', 'fieldsync-hooks', 'fieldsync-sync'],
  decorators: { fastify: ['store', 'authenticator', 'workflows', 'collectionRegistry'] },
});
