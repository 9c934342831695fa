import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ServerConfig } from '../config.ts';
import { authAdminRoutes } from './admin-routes.ts';
import { DeviceCredentials } from './device-credential.ts';
import { deviceCredentialRoutes } from './device-credential-routes.ts';
import { IdentityStore } from './identity-store.ts';
import type { Authenticator } from './identity.ts';
import { authRoutes } from './routes.ts';
import { resolveJwtSecret } from './secret.ts';
import { AuthService } from './service.ts';
import { ADMIN_BASE_PATH, AUTH_BASE_PATH } from '../../shared/protocol/index.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Sign-in, tokens and revocation; also the default Authenticator. */
    auth: AuthService;
    /** Users, devices, sessions: DATA_DIR/identity.sqlite. */
    identities: IdentityStore;
    /** What checks a bearer token on every route and socket: `auth`, or the one given to buildServer. */
    authenticator: Authenticator;
    /** Push-only, key-bound credentials of service workers (device-credential.ts). */
    deviceCredentials: DeviceCredentials;
  }
}

export interface AuthPluginOptions {
  config: Pick<ServerConfig,
    | 'dataDir' | 'devTokens' | 'jwtSecret' | 'accessTokenTtlSeconds' | 'refreshTokenTtlSeconds'
    | 'rateLimitWindowMs' | 'loginRateLimit' | 'loginAccountRateLimit' | 'loginIpRateLimit' | 'loginGlobalRateLimit' | 'seedDemo' | 'publicOrigin'>;
  /** Replaces token checking (tests of foreign protocols, e.g. RxDB's conformance suite). */
  authenticator?: Authenticator;
}

/**
 * Authentication: signed tokens (and dev tokens while DEV_TOKENS is on), checked against the
 * session, user and device revocation state on every request. Serves sign-in under `AUTH_BASE_PATH`
 * and user, device and audit administration under `ADMIN_BASE_PATH`.
 */
export const authPlugin = fp(async (app: FastifyInstance, options: AuthPluginOptions) => {
  const { config } = options;
  const identities = new IdentityStore(config.dataDir);
  app.addHook('onClose', async () => identities.close());
  const jwtKey = resolveJwtSecret({ configured: config.jwtSecret, allowGenerated: config.devTokens || config.seedDemo, dataDir: config.dataDir });
  if (jwtKey.source === 'file') {
    app.log.info(`token signing key ${jwtKey.created ? 'created in' : 'read from'} ${jwtKey.file ?? 'memory'}; set JWT_SECRET in production`);
  }
  const store = app.store;
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
      loginPerAddress: config.loginIpRateLimit, loginGlobal: config.loginGlobalRateLimit,
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
