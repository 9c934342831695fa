import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../http/errors.ts';
import { clientAddressKey, createFailureLimiter, createLimiter, type RateCounter } from './hardening.ts';
import { requestToken } from './identity.ts';
import type { AuthService } from './service.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { loginResponses, logoutSchema, meSchema, refreshResponses } from './route-schemas.ts';
import { AUTH, ErrorCode } from '../../shared/protocol/index.ts';

export interface AuthRoutesOptions {
  service: AuthService;
  rateLimit: {
    windowMs: number; loginPerDevice: number; loginPerAccount: number; loginPerAddress: number; loginGlobal: number;
    /** Where the sign-in limits count when several processes share them (PostgreSQL); absent: this process's memory. */
    counter?: RateCounter | undefined;
  };
}

/**
 * Password checks one client address may have running at once; the rest of its burst waits its
 * turn. scrypt runs on libuv's thread pool (4 threads): without this, 24 bad sign-ins sent at once
 * from one client queued ahead of a real user's and made it 12 times slower.
 */
export const PASSWORD_CHECKS_IN_FLIGHT_PER_ADDRESS = 2;

/** At most `limit` holders per key; the others wait in arrival order. Per process, like the work it meters. */
class PerKeySemaphore {
  private readonly held = new Map<string, { running: number; waiting: (() => void)[] }>();

  constructor(private readonly limit: number) {}

  async acquire(key: string): Promise<() => void> {
    let slot = this.held.get(key);
    if (!slot) this.held.set(key, slot = { running: 0, waiting: [] });
    if (slot.running >= this.limit) await new Promise<void>((resolve) => slot!.waiting.push(resolve));
    else slot.running += 1;
    return () => {
      const next = slot!.waiting.shift();
      // The slot passes straight to the next waiter; the last one out forgets the key.
      if (next) next();
      else if (--slot!.running === 0) this.held.delete(key);
    };
  }
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
  // Every sign-in limit that names an account or a device also names the client address: what a
  // guesser elsewhere does to a known username or device id uses up only their own budget, never
  // the real user's (who has the password and signs in at the first try).
  const address = (request: FastifyRequest) => clientAddressKey(request.ip);
  const perAddress = createLimiter(app, {
    max: options.rateLimit.loginPerAddress, windowMs, counter: options.rateLimit.counter, what: 'sign-in attempts from your network address',
    key: (request) => `auth-address|${address(request)}`,
  });
  const perDevice = createLimiter(app, {
    max: options.rateLimit.loginPerDevice, windowMs, counter: options.rateLimit.counter, what: 'sign-in attempts from this device',
    key: (request) => {
      const body = request.body as Partial<LoginBody & RefreshBody> | undefined;
      return `auth-device|${address(request)}|${String(body?.tenantId ?? '')}|${String(body?.deviceId ?? '')}`;
    },
  });
  const perAccount = createFailureLimiter(app, {
    max: options.rateLimit.loginPerAccount, windowMs, counter: options.rateLimit.counter, what: 'failed sign-ins for this account from your network address',
    key: (request) => {
      const body = request.body as Partial<LoginBody> | undefined;
      return `auth-account|${address(request)}|${String(body?.tenantId ?? '')}|${String(body?.username ?? '').toLowerCase()}`;
    },
  });
  // The server's scrypt budget, over every address. A device the user signed in on before is let
  // through when it is spent, so a spray from many addresses slows newcomers, not the crews.
  const global = createLimiter(app, {
    max: options.rateLimit.loginGlobal, windowMs, counter: options.rateLimit.counter, what: 'sign-in attempts on this server just now (a device you signed in on before is let through)',
    key: () => 'auth-global',
  });
  const passwordChecks = new PerKeySemaphore(PASSWORD_CHECKS_IN_FLIGHT_PER_ADDRESS);

  app.post<{ Body: LoginBody }>(AUTH.login.route, {
    schema: { summary: 'Sign in on a device', tags: ['auth'], body: loginSchema, response: loginResponses },
    preHandler: async (request, reply) => {
      await perAddress(request, reply);
      await perDevice(request, reply);
      await perAccount.check(request, reply);
      const { tenantId, username, deviceId } = request.body;
      if (!await service.isKnownDevice(tenantId, username, deviceId)) await global(request, reply);
    },
  }, async (request, reply) => {
    const release = await passwordChecks.acquire(address(request));
    try {
      const pair = await service.login(request.body, { requestId: String(request.id) });
      reply.header('cache-control', 'no-store');
      return pair;
    } catch (error) {
      if (error instanceof HttpError && error.code === ErrorCode.BAD_CREDENTIALS) await perAccount.recordFailure(request);
      throw error;
    } finally {
      release();
    }
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
