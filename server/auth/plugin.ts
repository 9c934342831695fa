import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ServerConfig } from '../config.ts';
import { authAdminRoutes } from './admin-routes.ts';
import { DeviceCredentials } from './device-credential.ts';
import { deviceCredentialRoutes } from './device-credential-routes.ts';
import type { IdentityStore } from './identity-store.ts';
import { openIdentity } from './identity-store-factory.ts';
import { PostgresStore } from '../store/postgres.ts';
import type { Authenticator } from './identity.ts';
import { authRoutes } from './routes.ts';
import { AuthService } from './service.ts';
import { ADMIN_BASE_PATH, AUTH_BASE_PATH } from '../../shared/protocol/index.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Sign-in, tokens and revocation; also the default Authenticator. */
    auth: AuthService;
    /** Users, devices, sessions: DATA_DIR/identity.sqlite, or PostgreSQL beside the documents (identity-store-factory.ts). */
    identities: IdentityStore;
    /** What checks a bearer token on every route and socket: `auth`, or the one given to buildServer. */
    authenticator: Authenticator;
    /** Push-only, key-bound credentials of service workers (device-credential.ts). */
    deviceCredentials: DeviceCredentials;
  }
}

export interface AuthPluginOptions {
  config: Pick<ServerConfig,
    | 'dataDir' | 'devTokens' | 'jwtSecret' | 'transportKeySecret' | 'accessTokenTtlSeconds' | 'refreshTokenTtlSeconds'
    | 'rateLimitWindowMs' | 'loginRateLimit' | 'loginAccountRateLimit' | 'loginIpRateLimit' | 'loginGlobalRateLimit' | 'seedDemo' | 'publicOrigin'>;
  /** Replaces token checking (tests of foreign protocols, e.g. RxDB's conformance suite). */
  authenticator?: Authenticator;
  /** How often a PostgreSQL process re-reads the revocation list (tests). */
  revocationPollMs?: number;
}

/**
 * Authentication: signed tokens (and dev tokens while DEV_TOKENS is on), checked against the
 * session, user and device revocation state on every request. Serves sign-in under `AUTH_BASE_PATH`
 * and user, device and audit administration under `ADMIN_BASE_PATH`.
 */
export const authPlugin = fp(async (app: FastifyInstance, options: AuthPluginOptions) => {
  const { config } = options;
  const store = app.store;
  const postgres = store instanceof PostgresStore ? { pool: store.connections, schema: store.schema } : undefined;
  const { identities, jwtKey, rateCounter, generatedInDatabase } = await openIdentity({
    dataDir: config.dataDir, jwtSecret: config.jwtSecret, transportKeySecret: config.transportKeySecret, allowGenerated: config.devTokens || config.seedDemo,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds, ...(options.revocationPollMs !== undefined ? { revocationPollMs: options.revocationPollMs } : {}),
  }, postgres, (message) => app.log.warn(message));
  app.addHook('onClose', async () => identities.close());
  if (jwtKey.source === 'file') {
    app.log.info(`token signing key ${jwtKey.created ? 'created in' : 'read from'} ${jwtKey.file ?? 'memory'}; set JWT_SECRET in production`);
  }
  if (generatedInDatabase.length > 0) {
    app.log.info(`${generatedInDatabase.join(' and ')} unset: this trial server uses one kept in the database for every process; set them in production`);
  }
  const service = new AuthService({
    identities, secret: jwtKey.secret, devTokens: config.devTokens,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
    audit: (entries) => store.appendAudit(entries),
  });
  app.decorate('auth', service);
  app.decorate('identities', identities);
  app.decorate('authenticator', options.authenticator ?? service);

  await app.register(authRoutes, {
    prefix: AUTH_BASE_PATH, service,
    rateLimit: {
      windowMs: config.rateLimitWindowMs, loginPerDevice: config.loginRateLimit, loginPerAccount: config.loginAccountRateLimit,
      loginPerAddress: config.loginIpRateLimit, loginGlobal: config.loginGlobalRateLimit, counter: rateCounter,
    },
  });
  await app.register(authAdminRoutes, { prefix: ADMIN_BASE_PATH, service });
  const deviceCredentials = new DeviceCredentials({
    identities, ttlSeconds: config.refreshTokenTtlSeconds, audit: (entries) => store.appendAudit(entries),
    ...(config.publicOrigin ? { publicOrigin: config.publicOrigin } : {}),
  });
  app.decorate('deviceCredentials', deviceCredentials);
  await app.register(deviceCredentialRoutes, { prefix: AUTH_BASE_PATH, auth: app.authenticator, credentials: deviceCredentials });
}, { name: 'fieldsync-auth', fastify: '5.x', dependencies: ['fieldsync-http', 'fieldsync-store'], decorators: { fastify: ['store', 'createRateLimit'] } });
