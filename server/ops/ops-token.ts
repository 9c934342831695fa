import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ErrorCode } from '../../shared/protocol/index.ts';
import { requestToken } from '../auth/identity.ts';
import { HttpError } from '../http/errors.ts';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * The bearer token of monitoring (METRICS_TOKEN): `/metrics` needs it, and `/ready` shows its
 * details (outbox lag, dead letters, breakers named by hospital, the store's error) only to it.
 * Unset, `/metrics` is off: what the server does, and for whom, is not for anyone who can reach it.
 */
export class OpsAccess {
  private readonly expected: Buffer | undefined;

  constructor(token: string | undefined) {
    this.expected = token === undefined ? undefined : digest(token);
  }

  /** Whether the request carries the token (compared in constant time, as digests). */
  granted(request: FastifyRequest): boolean {
    const given = requestToken(request);
    return this.expected !== undefined && given !== undefined && timingSafeEqual(digest(given), this.expected);
  }

  /** For `/metrics`: 404 while no token is configured, 401 without the right one. */
  require(request: FastifyRequest): void {
    if (this.expected === undefined) {
      throw new HttpError(404, ErrorCode.NOT_FOUND, 'Metrics are off on this server: set METRICS_TOKEN and scrape with Authorization: Bearer <that token>.');
    }
    if (!this.granted(request)) throw new HttpError(401, ErrorCode.UNAUTHENTICATED, 'Send Authorization: Bearer <METRICS_TOKEN> to read the metrics.');
  }
}
