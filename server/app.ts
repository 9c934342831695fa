import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { Server as SocketServer } from 'socket.io';
import { collectionSchemas } from '../shared/schemas/index.ts';
import type { JsonSchemaObject } from '../shared/schemas/wire-schema.ts';
import type { Authenticator } from './auth/identity.ts';
import { requireIdentity } from './auth/plugin.ts';
import { authAdminRoutes } from './auth/admin-routes.ts';
import { createLimiter, installHardening, socketIoOriginOptions } from './auth/hardening.ts';
import { IdentityStore } from './auth/identity-store.ts';
import { authRoutes } from './auth/routes.ts';
import { resolveJwtSecret } from './auth/secret.ts';
import { AuthService } from './auth/service.ts';
import { AUTH_DEFAULTS, type ServerConfig } from './config.ts';
import { AccessControl } from './replication/access.ts';
import { registerHealthRoutes } from './http/health.ts';
import { WorkflowRegistry } from './hooks/registry.ts';
import { defaultWorkflows } from './hooks/workflows/index.ts';
import { HookRunner, type HookRunnerOptions } from './hooks/runner.ts';
import type { Workflow } from './hooks/types.ts';
import { installErrorHandling } from './http/errors.ts';
import { requestDecompression } from './http/request-decompression.ts';
import { buildCollectionRegistry, type CollectionRegistry } from './replication/collections.ts';
import { replicationRoutes } from './replication/index.ts';
import { DEFAULT_PUSH_WORKER_MIN_BYTES, PushDecoder } from './replication/push-decoder.ts';
import { attachChangeStream } from './replication/stream.ts';
import { CadBridge, DisabledCadGateway } from './integrations/cad-bridge/bridge.ts';
import { CadInbound } from './integrations/cad-bridge/inbound.ts';
import { CAD_WATCHED_COLLECTIONS, cadOutboundFor } from './integrations/cad-bridge/outbound-mapper.ts';
import { cadBridgeRoutes } from './integrations/cad-bridge/routes.ts';
import type { CadGateway } from './integrations/types.ts';
import { attachLiveFeed } from './realtime/live-feed.ts';
import { adminRoutes } from './admin/dead-letters.ts';
import { exportRoutes } from './exports/nemsis.ts';
import { metricsPlugin } from './http/metrics.ts';
import { buildIntegrations, integrationsConfigFrom, type BuiltIntegrations } from './integrations/index.ts';
import { registerClientApps } from './http/static.ts';
import { openStore } from './store/store-factory.ts';
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
  /** CAD bridge tuning (tests shorten the reconnection delays). */
  cadBridge?: { baseDelayMs?: number; maxDelayMs?: number; ackTimeoutMs?: number };
  /** Outbound gateways to use instead of the HTTP ones built from the config (tests of workflows). */
  integrations?: BuiltIntegrations;
  /** Hook runner tuning (tests shorten the retry delays). */
  hookRunner?: Partial<Pick<HookRunnerOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'pollMs'>>;
  /** The built apps to serve at `/`, `/crew/`, … (default dist/client when it exists); false serves none. */
  clientDir?: string | false;
}

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
    io: SocketServer;
    collectionRegistry: CollectionRegistry;
    workflows: WorkflowRegistry;
    hookRunner: HookRunner;
    /** Present when CAD_BACKEND_URL is set. */
    cadBridge: CadBridge | undefined;
    /** The gateway hooks use to notify CAD (the bridge, or a no-op when it is off). */
    cadGateway: CadGateway;
    /** Hospital, claims and CAD gateways for workflows, with their breaker states. */
    integrations: BuiltIntegrations;
    /** Sign-in, tokens and revocation; also the default Authenticator. */
    auth: AuthService;
    /** Users, devices, sessions: DATA_DIR/identity.sqlite. */
    identities: IdentityStore;
    /** The access rules of shared/access/rules.ts as the sync routes and the stream enforce them. */
    accessControl: AccessControl;
  }
}

/** The app factory used by the CLI and by every test. */
export async function buildServer(options: BuildServerOptions = {}): Promise<FastifyInstance> {
  const store = options.store ?? await openStore(options);
  const registry = buildCollectionRegistry(options.collections ?? (collectionSchemas as unknown as Record<string, JsonSchemaObject>));
  // Authentication: signed tokens (and dev tokens while DEV_TOKENS is on), checked against the
  // session, user and device revocation state on every request.
  const dataDir = options.dataDir ?? './data';
  const devTokens = options.devTokens ?? true;
  const identities = new IdentityStore(dataDir);
  const jwtKey = resolveJwtSecret({ configured: options.jwtSecret, devTokens, dataDir });
  const authService = new AuthService({
    identities, secret: jwtKey.secret, devTokens,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? AUTH_DEFAULTS.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? AUTH_DEFAULTS.refreshTokenTtlSeconds,
    audit: (entries) => store.appendAudit(entries),
  });
  const auth = options.authenticator ?? authService;
  const accessControl = new AccessControl({ undeclared: options.collections ? 'tenant' : 'deny' });
  const corsOrigins = options.corsOrigins ?? AUTH_DEFAULTS.corsOrigins;
  const rateWindowMs = options.rateLimitWindowMs ?? AUTH_DEFAULTS.rateLimitWindowMs;
  // Filled below, once the integrations the workflows call exist.
  const workflows = new WorkflowRegistry();

  const app = Fastify({
    logger: { level: options.logLevel ?? 'info' },
    bodyLimit: options.bodyLimitBytes ?? 8 * 1024 * 1024,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
    forceCloseConnections: true,
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  installErrorHandling(app);
  await installHardening(app, { corsOrigins });
  if (jwtKey.source === 'file') {
    app.log.info(`token signing key ${jwtKey.created ? 'created in' : 'read from'} ${jwtKey.file ?? 'memory'}; set JWT_SECRET in production`);
  }
  await app.register(requestDecompression, { maxDecompressedBytes: options.bodyLimitBytes ?? 8 * 1024 * 1024 });

  const io = new SocketServer(app.server, { serveClient: false, maxHttpBufferSize: 1e6, ...socketIoOriginOptions(corsOrigins) });
  app.decorate('store', store);
  app.decorate('io', io);
  app.decorate('collectionRegistry', registry);
  app.decorate('workflows', workflows);
  app.decorate('auth', authService);
  app.decorate('identities', identities);
  app.decorate('accessControl', accessControl);
  const hookRunner = new HookRunner({ store, registry: workflows, log: app.log.child({ component: 'hooks' }), ...options.hookRunner });
  app.decorate('hookRunner', hookRunner);

  // Registered before the sync routes: the metrics hooks must apply to them.
  const breakerStates = () => app.integrations.breakerStates();
  const pushWorkerMinBytes = options.pushWorkerMinBytes ?? DEFAULT_PUSH_WORKER_MIN_BYTES;
  const pushDecoder = pushWorkerMinBytes > 0 ? new PushDecoder(registry, { minBytes: pushWorkerMinBytes }) : undefined;
  if (pushDecoder) app.addHook('onClose', async () => pushDecoder.close());
  await app.register(metricsPlugin, { breakerStates, ...(pushDecoder ? { pushDecoder } : {}) });
  registerHealthRoutes(app, store, { breakerStates });
  await app.register(async (scope) => {
    await scope.register(requireIdentity, { auth });
    // After authentication, so the budget is per device (not per IP behind one NAT).
    const syncLimit = createLimiter(scope, {
      max: options.syncRateLimit ?? AUTH_DEFAULTS.syncRateLimit, windowMs: rateWindowMs, what: 'sync requests from this device',
      key: (request) => `sync|${request.identity.tenantId}|${request.identity.deviceId}`,
    });
    scope.addHook('onRequest', async (request, reply) => syncLimit(request, reply));
    await scope.register(replicationRoutes, { registry, store, workflows, access: accessControl, envelopes: authService.transportKeys, ...(pushDecoder ? { pushDecoder } : {}) });
  }, { prefix: SYNC_BASE_PATH });
  await app.register(authRoutes, {
    prefix: AUTH_BASE_PATH, service: authService,
    rateLimit: {
      windowMs: rateWindowMs,
      loginPerDevice: options.loginRateLimit ?? AUTH_DEFAULTS.loginRateLimit,
      loginPerAccount: options.loginAccountRateLimit ?? AUTH_DEFAULTS.loginAccountRateLimit,
    },
  });
  await app.register(authAdminRoutes, { prefix: ADMIN_BASE_PATH, service: authService });

  const detachStream = attachChangeStream(io, registry, store, auth, { access: accessControl, log: app.log.child({ component: 'stream' }) });
  const liveFeed = attachLiveFeed(io, store, auth, {
    access: accessControl,
    gpsIntervalMs: options.liveGpsIntervalMs ?? 250, highWaterPackets: 256, maxQueuedEvents: 10_000,
  });
  hookRunner.onFailure((failure) => liveFeed.publish({ type: 'hook:failed', tenantId: failure.tenantId, payload: { ...failure } }));

  let cadBridge: CadBridge | undefined;
  if (options.cadBackendUrl) {
    const cadTenant = options.cadTenantId ?? 'demo';
    cadBridge = new CadBridge({
      url: options.cadBackendUrl, authToken: options.cadBackendAuthToken ?? '', tenantId: cadTenant, store,
      inbound: new CadInbound(store, workflows, cadTenant, undefined, registry), log: app.log.child({ component: 'cad-bridge' }), ...options.cadBridge,
    });
    // CAD speaks for one agency: only that agency's changes are sent to it.
    for (const collection of CAD_WATCHED_COLLECTIONS) {
      workflows.addMapper(collection, (change) => (change.tenantId === cadTenant ? cadOutboundFor(change) : []));
    }
  }
  const cadGateway: CadGateway = cadBridge ?? new DisabledCadGateway();
  app.decorate('cadBridge', cadBridge);
  app.decorate('cadGateway', cadGateway);
  app.decorate('integrations', options.integrations ?? buildIntegrations(integrationsConfigFrom(options), cadGateway, app.log.child({ component: 'integrations' })));
  const catalogue = options.workflows ?? defaultWorkflows({
    integrations: app.integrations,
    autoClaimAfterFinalize: options.autoClaimAfterFinalize ?? false,
    nemsis: {
      agency: { stateId: options.nemsisStateId ?? 'DEMO', agencyNumber: options.nemsisAgencyNumber ?? 'DEMO-001', stateCode: options.nemsisStateCode ?? '42' },
      ...(options.nemsisXsdDir ? { xsdDir: options.nemsisXsdDir } : {}),
    },
  });
  for (const workflow of catalogue) workflows.register(workflow);
  await app.register(adminRoutes, { prefix: ADMIN_BASE_PATH, auth });
  await app.register(exportRoutes, { prefix: EPCRS_BASE_PATH, auth });
  const detachCad = cadBridge ? store.onCommit(() => cadBridge.kick()) : () => {};
  await app.register(async (scope) => {
    await scope.register(requireIdentity, { auth });
    await scope.register(cadBridgeRoutes, { bridge: cadBridge, store, workflows });
  }, { prefix: SOCKET_BRIDGE_BASE_PATH });
  if (options.clientDir !== false) await registerClientApps(app, options.clientDir ? { root: options.clientDir } : {});
  // Only commits that can have added hook entries wake the runner: an empty document list means
  // entries were enqueued directly; a GPS batch with no workflow watching it needs no outbox read.
  const detachRunner = store.onCommit((event) => {
    if (event.documents.length === 0 || workflows.watches(event.collection)) hookRunner.wake();
  });
  app.addHook('onReady', async () => {
    hookRunner.start();
    cadBridge?.start();
  });
  // Upgraded websocket connections are not the HTTP server's to close: end them first, or
  // closing the server waits for them forever.
  app.addHook('preClose', async () => {
    detachCad();
    cadBridge?.stop();
    liveFeed.close();
    detachRunner();
    await hookRunner.stop();
    detachStream();
    io.disconnectSockets(true);
    io.engine.close();
  });
  app.addHook('onClose', async () => {
    await store.close();
    identities.close();
  });
  return app;
}
