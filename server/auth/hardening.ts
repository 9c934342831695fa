import cors from '@fastify/cors';
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { ServerOptions } from 'socket.io';
import { ErrorCode, REJECTIONS_HEADER, REJECTIONS_TOTAL_HEADER } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';

export interface HardeningOptions {
  /** Browser origins allowed to call the API (CORS_ORIGINS); empty: same-origin pages and non-browser clients only. */
  corsOrigins: readonly string[];
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
  const securityHeaders = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  app.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error instanceof Error ? error : undefined));
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
  await app.register(rateLimit, { global: false });
}

/** socket.io's own CORS and origin check, the same origins as HTTP. */
export function socketIoOriginOptions(corsOrigins: readonly string[]): Pick<ServerOptions, 'cors' | 'allowRequest'> {
  const allowed = new Set(corsOrigins);
  return {
    cors: { origin: [...allowed], methods: ['GET', 'POST'], credentials: false },
    allowRequest: (request: IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void) => {
      const origin = request.headers.origin;
      // Non-browser clients send no Origin; a page of the server itself sends its own.
      if (origin === undefined || allowed.has(origin) || sameOrigin(origin, request.headers.host)) return callback(null, true);
      callback('origin not allowed', false);
    },
  };
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

export interface LimiterOptions {
  /** Requests allowed per window and key. */
  max: number;
  windowMs: number;
  /** What is being limited, in the 429 message ("sign-in attempts from this device"). */
  what: string;
  key: (request: FastifyRequest) => string;
}

/** A rate limit check to call from a hook; throws 429 with Retry-After when the key is over its budget. */
export function createLimiter(app: FastifyInstance, options: LimiterOptions): (request: FastifyRequest, reply: { header(name: string, value: string): unknown }) => Promise<void> {
  const check = app.createRateLimit({ max: options.max, timeWindow: options.windowMs, keyGenerator: options.key });
  return async (request, reply) => {
    const result = await check(request);
    if (result.isAllowed || !result.isExceeded) return;
    const seconds = Math.max(1, Math.ceil(result.ttlInSeconds));
    reply.header('retry-after', String(seconds));
    throw new HttpError(429, ErrorCode.RATE_LIMITED, `Too many ${options.what}; try again in ${seconds} s.`);
  };
}
