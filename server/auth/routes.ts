import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../http/errors.ts';
import { createLimiter } from './hardening.ts';
import { requestToken } from './identity.ts';
import type { AuthService } from './service.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { loginResponses, logoutSchema, meSchema, refreshResponses } from './route-schemas.ts';
import { AUTH, ErrorCode } from '../../shared/protocol/index.ts';

export interface AuthRoutesOptions {
  service: AuthService;
  rateLimit: { windowMs: number; loginPerDevice: number; loginPerAccount: number };
}

const ID_TEXT = '^[A-Za-z0-9_.@-]{1,64}$';

const loginSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['tenantId', 'username', 'password', 'deviceId'],
  properties: {
    tenantId: { type: 'string', pattern: ID_TEXT },
    username: { type: 'string', minLength: 1, maxLength: 64 },
    password: { type: 'string', minLength: 1, maxLength: 200 },
    deviceId: { type: 'string', pattern: ID_TEXT },
  },
} as const;

const refreshSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['refreshToken', 'deviceId'],
  properties: {
    refreshToken: { type: 'string', minLength: 1, maxLength: 200 },
    deviceId: { type: 'string', pattern: ID_TEXT },
  },
} as const;

interface LoginBody { tenantId: string; username: string; password: string; deviceId: string }
interface RefreshBody { refreshToken: string; deviceId: string }

/**
 * Mounted under `AUTH_BASE_PATH`:
 * - `POST /login` {tenantId, username, password, deviceId} → access token (JWT) + refresh token bound to the device;
 * - `POST /refresh` {refreshToken, deviceId} → a new pair; the old refresh token stops working,
 *   and presenting it again ends every session of the device;
 * - `POST /logout` with the access token (or {refreshToken}) → the session ends at once;
 * - `GET /me` → who the token says you are.
 */
export async function authRoutes(app: FastifyInstance, options: AuthRoutesOptions): Promise<void> {
  const { service } = options;
  const { windowMs } = options.rateLimit;
  const perDevice = createLimiter(app, {
    max: options.rateLimit.loginPerDevice, windowMs, what: 'sign-in attempts from this device',
    key: (request) => {
      const body = request.body as Partial<LoginBody & RefreshBody> | undefined;
      return `auth-device|${String(body?.tenantId ?? '')}|${String(body?.deviceId ?? request.ip)}`;
    },
  });
  const perAccount = createLimiter(app, {
    max: options.rateLimit.loginPerAccount, windowMs, what: 'sign-in attempts for this account',
    key: (request) => {
      const body = request.body as Partial<LoginBody> | undefined;
      return `auth-account|${String(body?.tenantId ?? '')}|${String(body?.username ?? '').toLowerCase()}`;
    },
  });

  app.post<{ Body: LoginBody }>(AUTH.login.route, {
    schema: { summary: 'Sign in on a device', tags: ['auth'], body: loginSchema, response: loginResponses },
    preHandler: async (request, reply) => {
      await perDevice(request, reply);
      await perAccount(request, reply);
    },
  }, async (request, reply) => {
    const pair = await service.login(request.body, { requestId: String(request.id) });
    reply.header('cache-control', 'no-store');
    return pair;
  });

  app.post<{ Body: RefreshBody }>(AUTH.refresh.route, {
    schema: { summary: 'A new token pair for a refresh token (rotated: the old one stops working)', tags: ['auth'], body: refreshSchema, response: refreshResponses },
    preHandler: async (request, reply) => perDevice(request, reply),
  }, async (request, reply) => {
    const pair = await service.refresh(request.body);
    reply.header('cache-control', 'no-store');
    return pair;
  });

  app.post<{ Body: { refreshToken?: unknown } | undefined }>(AUTH.logout.route, { schema: logoutSchema, ...CHECKED_BY_HANDLER }, async (request) => {
    const token = requestToken(request);
    if (token) {
      const session = service.authenticateSession(token);
      if (!session.sessionId) return { loggedOut: false, message: 'Development tokens have no session to end.' };
      return { loggedOut: await service.logout(session.sessionId, session.identity) };
    }
    const refreshToken = (request.body as { refreshToken?: unknown } | undefined)?.refreshToken;
    if (typeof refreshToken !== 'string') throw new HttpError(401, ErrorCode.UNAUTHENTICATED, 'Send the access token (Authorization: Bearer …) or {"refreshToken": …}.');
    return { loggedOut: await service.logoutWithRefreshToken(refreshToken) };
  });

  app.get(AUTH.me.route, { schema: meSchema }, async (request: FastifyRequest) => {
    const session = service.authenticateSession(requestToken(request));
    return { identity: session.identity, ...(session.expiresAt ? { expiresAt: new Date(session.expiresAt).toISOString() } : {}) };
  });
}
