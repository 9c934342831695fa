import cors from '@fastify/cors';
import helmet from 'helmet';
import rateLimit, { type CreateRateLimitOptions, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import type { ServerOptions } from 'socket.io';
import { ErrorCode, REJECTIONS_HEADER, REJECTIONS_TOTAL_HEADER } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';

export interface HardeningOptions {
  /** Browser origins allowed to call the API (CORS_ORIGINS); empty: same-origin pages and non-browser clients only. */
  corsOrigins: readonly string[];
  /**
   * Where the rate limits count: each process's memory by default (@fastify/rate-limit's LRU
   * store). Several processes behind one balancer each count on their own, so an address gets
   * their sum; give them a shared store (@fastify/rate-limit's RedisStore, or any class with
   * `incr`, `read` and `child`) to count once.
   */
  rateLimitStore?: FastifyRateLimitStoreCtor;
}

/** Keys each in-memory limit holds before the least recently used is forgotten (the library's default is 5,000). */
const RATE_LIMIT_KEYS = 50_000;

/** Each limiter's own store is sized from its options (`cache`), which the library's types leave out. */
function sized(options: CreateRateLimitOptions): CreateRateLimitOptions {
  return Object.assign({ cache: RATE_LIMIT_KEYS }, options);
}

/**
 * Security headers (helmet), CORS restricted to configured origins, and the rate limiter the
 * auth and sync routes use. Errors never carry stack traces: server/http/errors.ts answers
 * anything unexpected with a generic 500 and logs the details.
 */
export async function installHardening(app: FastifyInstance, options: HardeningOptions): Promise<void> {
  // helmet's defaults: a CSP of 'self' (fit for the apps served from here: no inline scripts,
  // no third-party hosts), no framing by other sites, nosniff, HSTS, no referrer leaks,
  // same-origin resource policy. Without upgrade-insecure-requests: TLS ends at the proxy in
  // production, and on a plain-HTTP development server that directive breaks every asset load.
  // The middleware is built once: @fastify/helmet builds it again on every request (parsing the
  // CSP options each time), which was a tenth of the server's work per GPS point at 100 devices.
  // The headers are the same for every answer: helmet runs once here, and each request gets its
  // result, set on the raw response in one loop (helmet's dozen small middlewares per request
  // showed at 3 % of the server's main thread per GPS point at 100 devices).
  const securityHeaders = staticHeadersOf(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.addHook('onRequest', (_request, reply, done) => {
    const raw = reply.raw;
    for (let i = 0; i < securityHeaders.length; i++) raw.setHeader(securityHeaders[i]![0], securityHeaders[i]![1]);
    done();
  });
  const allowed = new Set(options.corsOrigins);
  await app.register(cors, {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type', 'content-encoding', 'x-request-id'],
    exposedHeaders: ['x-request-id', REJECTIONS_HEADER, REJECTIONS_TOTAL_HEADER, 'retry-after'],
    credentials: false,
    maxAge: 600,
  });
  await app.register(rateLimit, { global: false, ...(options.rateLimitStore ? { store: options.rateLimitStore } : {}) });
}

/**
 * The headers a middleware sets on a response that does not depend on the request (helmet's,
 * configured without nonces or per-request functions), captured once by running it on a
 * recording response. Throws if it asks to remove any header other than `X-Powered-By` (which
 * Node never sets) or does not call `next` synchronously: then it is not static.
 */
function staticHeadersOf(middleware: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void): [string, string | string[]][] {
  const headers: [string, string | string[]][] = [];
  let finished = false;
  const recorder = {
    setHeader(name: string, value: string | number | string[]) {
      headers.push([name, typeof value === 'number' ? String(value) : value]);
      return recorder;
    },
    removeHeader(name: string) {
      if (name.toLowerCase() !== 'x-powered-by') throw new Error(`security headers: the middleware removes ${name}; it cannot be applied as a fixed list`);
    },
  };
  middleware({ headers: {}, method: 'GET', url: '/' } as IncomingMessage, recorder as unknown as ServerResponse, (error) => {
    if (error) throw error instanceof Error ? error : new Error(String(error));
    finished = true;
  });
  if (!finished) throw new Error('security headers: the middleware did not finish at once; it cannot be applied as a fixed list');
  return headers;
}

/**
 * socket.io's own CORS and origin check, the same origins as HTTP. A browser's handshake must come
 * from a configured origin (CORS_ORIGINS) or the server's own: PUBLIC_ORIGIN when set, else the
 * address the connection arrived at. Never the Host header: the client writes it, so a page of
 * any site (DNS rebinding, a proxy that forwards Host) could make it match its own Origin.
 */
export function socketIoOriginOptions(corsOrigins: readonly string[], publicOrigin?: string): Pick<ServerOptions, 'cors' | 'allowRequest'> {
  const allowed = new Set(corsOrigins);
  if (publicOrigin !== undefined) allowed.add(publicOrigin);
  return {
    cors: { origin: [...allowed], methods: ['GET', 'POST'], credentials: false },
    allowRequest: (request: IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void) => {
      const origin = request.headers.origin;
      // Non-browser clients send no Origin (they are held to the token alone).
      if (origin === undefined || allowed.has(origin) || (publicOrigin === undefined && arrivedAt(request).includes(origin))) return callback(null, true);
      callback('origin not allowed', false);
    },
  };
}

/** The origins a page of this server has when reached directly: the local address and port the connection came in on. */
function arrivedAt(request: IncomingMessage): string[] {
  const { localAddress, localPort } = request.socket;
  if (localAddress === undefined || localPort === undefined) return [];
  const scheme = 'encrypted' in request.socket && request.socket.encrypted ? 'https' : 'http';
  const address = localAddress.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
  const host = isIPv6(address) ? `[${address}]` : address;
  const origins = [`${scheme}://${host}:${localPort}`];
  // A loopback server is also reached as localhost (the name resolves only to this machine).
  if (address === '127.0.0.1' || address === '::1') origins.push(`${scheme}://localhost:${localPort}`);
  return origins;
}

/**
 * The client address a limit keys on: request.ip (the TCP peer, or X-Forwarded-For's client when
 * TRUST_PROXY names the proxy), an IPv4-mapped address as IPv4, and IPv6 by its /64: one host
 * usually holds a whole /64, so counting single IPv6 addresses would give it 2^64 budgets.
 */
export function clientAddressKey(ip: string): string {
  const address = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('%')[0]!.split('::');
  const front = head === '' ? [] : head.split(':');
  const back = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = address.includes('::') ? [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back] : front;
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`;
}

export interface LimiterOptions {
  /** Requests allowed per window and key. */
  max: number;
  windowMs: number;
  /** What is being limited, in the 429 message ("sign-in attempts from this device"). */
  what: string;
  key: (request: FastifyRequest) => string;
  /**
   * Where this limit counts when not in each process's memory: a counter every process shares
   * (server/auth/rate-limit-postgres.ts, for the sign-in limits on PostgreSQL).
   */
  counter?: RateCounter | undefined;
}

/** A fixed-window counter several processes share: `incr` counts one and says how many are in the window; `read` only looks. */
export interface RateCounter {
  incr(key: string, windowMs: number): Promise<{ current: number; ttlMs: number }>;
  read(key: string, windowMs: number): Promise<{ current: number; ttlMs: number }>;
}

type ReplyHeaders = { header(name: string, value: string): unknown };

function tooMany(reply: ReplyHeaders, what: string, ttlInSeconds: number): HttpError {
  const seconds = Math.max(1, Math.ceil(ttlInSeconds));
  reply.header('retry-after', String(seconds));
  return new HttpError(429, ErrorCode.RATE_LIMITED, `Too many ${what}; try again in ${seconds} s.`);
}

/** A rate limit check to call from a hook; throws 429 with Retry-After when the key is over its budget. */
export function createLimiter(app: FastifyInstance, options: LimiterOptions): (request: FastifyRequest, reply: ReplyHeaders) => Promise<void> {
  const { counter } = options;
  if (counter) {
    return async (request, reply) => {
      const { current, ttlMs } = await counter.incr(options.key(request), options.windowMs);
      if (current > options.max) throw tooMany(reply, options.what, ttlMs / 1000);
    };
  }
  const check = app.createRateLimit(sized({ max: options.max, timeWindow: options.windowMs, keyGenerator: options.key }));
  return async (request, reply) => {
    const result = await check(request);
    if (result.isAllowed || !result.isExceeded) return;
    throw tooMany(reply, options.what, result.ttlInSeconds);
  };
}

/**
 * A limit on failures: `check` refuses once `max` failures were recorded for the key in the
 * window (without counting the request), `recordFailure` counts one. Successes cost nothing.
 */
export function createFailureLimiter(app: FastifyInstance, options: LimiterOptions): {
  check(request: FastifyRequest, reply: ReplyHeaders): Promise<void>;
  recordFailure(request: FastifyRequest): Promise<void>;
} {
  const { counter } = options;
  if (counter) {
    return {
      async check(request, reply) {
        const { current, ttlMs } = await counter.read(options.key(request), options.windowMs);
        if (current >= options.max) throw tooMany(reply, options.what, ttlMs / 1000);
      },
      async recordFailure(request) {
        await counter.incr(options.key(request), options.windowMs);
      },
    };
  }
  const limit = app.createRateLimit(sized({ max: options.max, timeWindow: options.windowMs, keyGenerator: options.key }));
  return {
    async check(request, reply) {
      const result = await limit(request, { increment: false });
      if (result.isAllowed || result.remaining > 0) return;
      throw tooMany(reply, options.what, result.ttlInSeconds);
    },
    async recordFailure(request) {
      await limit(request);
    },
  };
}
