import { BEARER, errorResponses, objectOf } from '../http/route-schema.ts';

/**
 * `/health`, `/ready`, `/metrics` (docs/protocol.md, section 21): `/health` and `/ready`'s status
 * for anyone; `/metrics` and `/ready`'s details with METRICS_TOKEN.
 */

export const healthSchema = {
  summary: 'The process is alive',
  tags: ['ops'],
  response: { 200: objectOf('Alive', { status: { type: 'string', enum: ['ok'] } }, ['status']) },
};

const readiness = {
  status: { type: 'string', enum: ['ready', 'unavailable'] },
  store: { type: 'string', enum: ['sqlite', 'postgres'] },
  database: { type: 'string', enum: ['reachable', 'unreachable'] },
  breakers: { type: 'object', additionalProperties: { type: 'string', enum: ['closed', 'open', 'half-open'] } },
};

export const readySchema = {
  summary: 'The store answers, so sync can work',
  tags: ['ops'],
  response: {
    200: objectOf('Ready; with METRICS_TOKEN also the store, outbox, dead letters and breakers', {
      ...readiness,
      outbox: { type: 'object', properties: { depth: { type: 'integer' }, oldestAgeMs: { type: 'number' } } },
      deadLetters: { type: 'integer' },
    }, ['status', 'database']),
    503: objectOf('The store does not answer; with METRICS_TOKEN also why', { ...readiness, reason: { type: 'string' } }, ['status', 'database']),
  },
};

export const metricsSchema = {
  summary: 'Prometheus metrics',
  tags: ['ops'],
  security: BEARER,
  response: {
    200: { description: 'Prometheus text format (version 0.0.4)', content: { 'text/plain': { schema: { type: 'string' } } } },
    ...errorResponses({ 401: 'No METRICS_TOKEN, or another one (UNAUTHENTICATED)', 404: 'METRICS_TOKEN is not set: metrics are off (NOT_FOUND)' }),
  },
};
