import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { JsonSchemaObject } from '../shared/schemas/wire-schema.ts';
import { adminPlugin } from './admin/plugin.ts';
import { agenciesPlugin } from './agencies/plugin.ts';
import { dispatchPlugin } from './dispatch/plugin.ts';
import { fieldServicePlugin } from './field-service/plugin.ts';
import { appsPlugin } from './apps/plugin.ts';
import { attachmentsPlugin } from './attachments/plugin.ts';
import { loadAuditKey } from './audit/key.ts';
import { auditPlugin } from './audit/plugin.ts';
import type { Authenticator } from './auth/identity.ts';
import { authPlugin } from './auth/plugin.ts';
import { resolveServerConfig, type ServerConfig } from './config.ts';
import { importsPlugin } from './imports/plugin.ts';
import { exportsPlugin } from './exports/plugin.ts';
import { hooksPlugin, type HooksPluginOptions } from './hooks/plugin.ts';
import { DOMAIN_WRITE_POLICIES } from './hooks/policies/index.ts';
import { WorkflowRegistry } from './hooks/registry.ts';
import type { Workflow } from './hooks/types.ts';
import { workflowsPlugin } from './hooks/workflows/plugin.ts';
import { clientErrorHandler, frameworkErrorHandler } from './http/client-errors.ts';
import { httpPlugin, type HttpPluginOptions } from './http/plugin.ts';
import { cadBridgePlugin, type CadBridgePluginOptions } from './integrations/cad-bridge/plugin.ts';
import type { BuiltIntegrations } from './integrations/index.ts';
import { integrationsPlugin } from './integrations/plugin.ts';
import { openapiPlugin } from './openapi/plugin.ts';
import { opsPlugin } from './ops/plugin.ts';
import { orderIntakePlugin } from './order-intake/plugin.ts';
import { mapsPlugin } from './maps/plugin.ts';
import { livePlugin } from './realtime/plugin.ts';
import { syncPlugin } from './replication/plugin.ts';
import type { WritePolicy } from './replication/write-policy.ts';
import { stateReportingPlugin } from './state-reporting/plugin.ts';
import { storePlugin } from './store-plugin.ts';
import type { Store } from './store/types.ts';
import { ADMIN_BASE_PATH, AUTH_BASE_PATH, EPCRS_BASE_PATH, SOCKET_BRIDGE_BASE_PATH, SYNC_BASE_PATH } from '../shared/protocol/index.ts';

export interface BuildServerOptions extends Partial<ServerConfig> {
  /** A store to use instead of the configured one (STORE: SQLite in `dataDir`, or PostgreSQL); the server closes it on close. */
  store?: Store;
  /** Collections to serve; defaults to the product's collections in shared/schemas. */
  collections?: Record<string, JsonSchemaObject>;
  /** Replaces token checking (tests of foreign protocols, e.g. RxDB's conformance suite). */
  authenticator?: Authenticator;
  /** Workflows to run on committed changes; defaults to the product's hook catalogue (docs/hooks.md). */
  workflows?: readonly Workflow[];
  /** Write policies push asks for every row (server/replication/write-policy.ts); defaults to the product's (server/hooks/policies/). */
  writePolicies?: readonly WritePolicy[];
  /** CAD bridge tuning (tests shorten the reconnection delays). */
  cadBridge?: CadBridgePluginOptions['cadBridge'];
  /** Outbound gateways to use instead of the HTTP ones built from the config (tests of workflows). */
  integrations?: BuiltIntegrations;
  /** Hook runner tuning (tests shorten the retry delays). */
  hookRunner?: HooksPluginOptions['hookRunner'];
  /** The built apps to serve at `/`, `/crew/`, … (default dist/client when it exists); false serves none. */
  clientDir?: string | false;
  /**
   * Where the rate limits count (default: this process's memory). Processes sharing a database
   * behind one balancer should share a store too (@fastify/rate-limit's RedisStore or a class of
   * its store interface), or each counts an address's attempts on its own.
   */
  rateLimitStore?: HttpPluginOptions['rateLimitStore'];
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The settings this server runs with: the options given over config.ts's SERVER_DEFAULTS. */
    config: Readonly<ServerConfig>;
  }
}

/** TRUST_PROXY as a hop count: the nearest `hops` proxies are believed (Fastify's own reading of a number, which its types do not take). */
function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

/**
 * The app factory used by the CLI and by every test: the capabilities as plugins, in an order
 * their declared dependencies check (a plugin registered before one it needs fails at start-up).
 * Each owns its routes, decorations and lifecycle; on close they stop in reverse order.
 */
export async function buildServer(options: BuildServerOptions = {}): Promise<FastifyInstance> {
  const config = resolveServerConfig(options);
  const app = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
    forceCloseConnections: true,
    // request.ip, which the per-address sign-in limits key on: the proxy's client only from proxies named in TRUST_PROXY.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    // Slow clients (issue 17): Node's own limits, set from config.ts. Expired requests are swept
    // every quarter of the shorter timeout (Node's default sweep, 30 s, would add up to 30 s).
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionIdleTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(Math.min(config.headersTimeoutMs, config.requestTimeoutMs) / 4))),
    },
    clientErrorHandler: clientErrorHandler(config),
    frameworkErrors: frameworkErrorHandler,
  });
  // Connections beyond the cap are dropped as they arrive, websockets included.
  app.server.maxConnections = config.maxConnections;
  app.decorate('config', Object.freeze(config));
  // The workflow registry: the store plans each write's hook entries with it; the hook spine runs them.
  const workflows = new WorkflowRegistry();

  await app.register(httpPlugin, { config, ...(options.rateLimitStore ? { rateLimitStore: options.rateLimitStore } : {}) });
  // Before every route: it collects them as they are added.
  await app.register(openapiPlugin);
  // The audit chain's key, before the store that chains with it opens; never kept beside the log.
  const audit = loadAuditKey(config);
  if (audit.development) app.log.info({ keyFile: audit.origin }, 'audit: chaining with the development key made on this machine; a deployment sets AUDIT_KEY or AUDIT_KEY_FILE (docs/audit.md)');
  await app.register(storePlugin, { config, planner: workflows, auditKey: audit.key, ...(options.store ? { store: options.store } : {}) });
  // Right after the store: its shutdown checkpoint runs after every other writer has stopped.
  await app.register(auditPlugin, { config, key: audit.key });
  await app.register(authPlugin, { config, ...(options.authenticator ? { authenticator: options.authenticator } : {}) });
  await app.register(hooksPlugin, { workflows, hookRunner: { claimLeaseMs: config.outboxClaimLeaseMs, ...options.hookRunner } });
  // Before sync: the metrics' request hooks must apply to the sync routes.
  await app.register(opsPlugin);
  await app.register(syncPlugin, { config, policies: options.writePolicies ?? DOMAIN_WRITE_POLICIES, ...(options.collections ? { collections: options.collections } : {}) });
  await app.register(livePlugin, { config });
  // The bridge's outbound mappers go into the workflow registry before the catalogue.
  await app.register(cadBridgePlugin, { config, ...(options.cadBridge ? { cadBridge: options.cadBridge } : {}) });
  await app.register(integrationsPlugin, { config, ...(options.integrations ? { integrations: options.integrations } : {}) });
  // Before the workflows: the finalize waits for the bytes a report lists, the export carries them.
  await app.register(attachmentsPlugin, { config });
  await app.register(workflowsPlugin, { config, ...(options.workflows ? { workflows: options.workflows } : {}) });
  await app.register(adminPlugin);
  await app.register(agenciesPlugin, { config });
  await app.register(dispatchPlugin);
  await app.register(fieldServicePlugin);
  await app.register(stateReportingPlugin);
  await app.register(orderIntakePlugin);
  await app.register(exportsPlugin);
  await app.register(importsPlugin);
  await app.register(mapsPlugin);
  await app.register(appsPlugin, { ...(options.clientDir !== undefined ? { clientDir: options.clientDir } : {}) });
  return app;
}
