import type { FastifyInstance, onResponseHookHandler, onSendHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SYNC_BASE_PATH } from '../../shared/protocol/index.ts';
import type { BreakerState } from '../integrations/resilient-call.ts';
import type { PushDecoder } from '../replication/push-decoder.ts';
import type { OpsAccess } from './ops-token.ts';
import { metricsSchema } from './route-schemas.ts';

export interface MetricsOptions {
  /** Who may scrape (METRICS_TOKEN). */
  access: OpsAccess;
  /** Breaker state per outbound target; absent when no integrations are wired. */
  breakerStates?: () => Record<string, BreakerState>;
  /**
   * The push route's worker thread (server/replication/push-decoder.ts), when it is on; read at
   * scrape time, since the sync capability that owns it is registered after these hooks.
   */
  pushDecoder?: () => Pick<PushDecoder, 'rowsDecoded' | 'state'> | undefined;
}

const SYNC_ROUTES = new Map<string, 'push' | 'pull'>([
  [`${SYNC_BASE_PATH}/:collection/push`, 'push'],
  [`${SYNC_BASE_PATH}/:collection/pull`, 'pull'],
]);
const PUSH_ROUTE = `${SYNC_BASE_PATH}/:collection/push`;
const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half-open'];

/** A route's own hooks of one kind as a list (a route may give none, one, or several). */
function hooksOf<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}

/**
 * `GET /metrics` in Prometheus text format, from a registry of this app's own (the global one
 * would mix the metrics of several servers in one process, as in tests). Request metrics are
 * observed by hooks; queue, breaker and socket figures are read when scraped.
 *
 * Labels are bounded on purpose: collection labels only take names of served collections (a
 * push to `SYNC.push` with any collection name must not create a new series), and there is no tenant
 * or document label. Only for the METRICS_TOKEN: counts and names, but of what every agency does.
 *
 * Must be registered before the sync routes: it adds its hooks to them as they are registered.
 */
export const metricsPlugin = fp(async (app: FastifyInstance, options: MetricsOptions) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const syncDuration = new Histogram({
    name: 'fieldsync_sync_request_duration_seconds',
    help: 'Time to answer a sync pull or push, by operation, collection and status class.',
    labelNames: ['operation', 'collection', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const pushedRows = new Counter({
    name: 'fieldsync_sync_pushed_rows_total',
    help: 'Rows received in successful push requests (written, conflicting or already present).',
    labelNames: ['collection'] as const,
    registers,
  });
  const conflicts = new Counter({
    name: 'fieldsync_sync_conflicts_total',
    help: 'Documents returned as conflicts by push requests.',
    labelNames: ['collection'] as const,
    registers,
  });
  const committed = new Counter({
    name: 'fieldsync_documents_committed_total',
    help: 'Document versions committed to the store (device pushes and hook writes).',
    labelNames: ['collection'] as const,
    registers,
  });
  const workerRows = new Counter({
    name: 'fieldsync_push_worker_rows_total',
    help: 'Pushed rows validated and serialised on the push worker thread instead of the event loop.',
    labelNames: ['collection'] as const,
    registers,
  });
  const workerState = new Gauge({
    name: 'fieldsync_push_worker_state',
    help: 'The push worker thread: 1 for its current state (idle until the first large body of large documents, starting, ready, failed).',
    labelNames: ['state'] as const,
    registers,
  });
  const storeUp = new Gauge({ name: 'fieldsync_store_up', help: '1 if the store answered at the last scrape, else 0.', registers });
  const outboxDepth = new Gauge({ name: 'fieldsync_outbox_depth', help: 'Pending hook outbox entries.', registers });
  const outboxAge = new Gauge({ name: 'fieldsync_outbox_oldest_age_seconds', help: 'Age of the oldest pending hook outbox entry (0 when empty).', registers });
  const deadLetters = new Gauge({ name: 'fieldsync_outbox_dead_letters', help: 'Outbox entries that used up their retries and wait for an admin.', registers });
  // PostgreSQL only: an open write transaction (any database of the server) holds back what every
  // process may read and stream (the horizon); a high age means changes are waiting for it.
  const oldestWriter = new Gauge({ name: 'fieldsync_store_oldest_writer_age_seconds', help: 'PostgreSQL: age of the oldest open transaction that has an xid (it holds back every reader and the change feed).', registers });
  const openWriters = new Gauge({ name: 'fieldsync_store_open_writers', help: 'PostgreSQL: open transactions that have an xid.', registers });
  const hookRuns = new Counter({ name: 'fieldsync_hook_runs_total', help: 'Successful hook effect runs, by workflow.', labelNames: ['workflow'] as const, registers });
  const hookFailures = new Counter({ name: 'fieldsync_hook_failures_total', help: 'Failed hook effect runs (each attempt), by workflow.', labelNames: ['workflow'] as const, registers });
  const breakerState = new Gauge({
    name: 'fieldsync_integration_breaker_state',
    help: 'Circuit breaker state per outbound target: 1 for the current state, 0 for the others.',
    labelNames: ['target', 'state'] as const,
    registers,
  });
  const liveSockets = new Gauge({ name: 'fieldsync_live_sockets', help: 'Connected socket.io clients (live change stream).', registers });

  const known = (collection: unknown): collection is string => typeof collection === 'string' && app.collectionRegistry.has(collection);

  // Hooks of the two sync routes only, added as each is registered (onRoute): no other request
  // runs them, and they need not ask which route a request took (Fastify's request.routeOptions
  // builds a new object of a dozen fields on every read, twice per GPS point before). Callback
  // hooks, not async ones: an async hook costs a promise per request.
  const countConflicts: onSendHookHandler = (request, reply, payload, done) => {
    // The push answer is the array of conflicting documents; "[]" (the usual case) costs a string
    // comparison, anything else one parse of what is normally a short list.
    if (reply.statusCode !== 200 || typeof payload !== 'string' || payload === '[]') return done(null, payload);
    const collection = (request.params as { collection?: unknown }).collection;
    if (!known(collection)) return done(null, payload);
    try {
      const parsed: unknown = JSON.parse(payload);
      if (Array.isArray(parsed) && parsed.length > 0) conflicts.inc({ collection }, parsed.length);
    } catch {
      // Not ours to judge; the response goes out as it is.
    }
    done(null, payload);
  };
  const observe = (operation: 'push' | 'pull'): onResponseHookHandler => (request, reply, done) => {
    const collection = (request.params as { collection?: unknown }).collection;
    if (known(collection)) {
      syncDuration.observe({ operation, collection, status_class: `${Math.floor(reply.statusCode / 100)}xx` }, reply.elapsedTime / 1000);
      if (operation === 'push' && reply.statusCode === 200 && Array.isArray(request.body)) pushedRows.inc({ collection }, request.body.length);
    }
    done();
  };
  app.addHook('onRoute', (route) => {
    const operation = SYNC_ROUTES.get(route.url);
    if (!operation) return;
    route.onResponse = [...hooksOf(route.onResponse), observe(operation)];
    if (route.url === PUSH_ROUTE) route.onSend = [...hooksOf(route.onSend), countConflicts];
  });

  const detachCommits = app.store.onCommit((event) => {
    if (known(event.collection)) committed.inc({ collection: event.collection }, event.documents.length);
  });
  app.addHook('onClose', async () => detachCommits());

  /** Figures owned by others, copied in at scrape time. */
  async function refresh(): Promise<void> {
    try {
      const stats = await app.store.outboxStats(Date.now());
      outboxDepth.set(stats.depth);
      outboxAge.set(stats.oldestAgeMs / 1000);
      deadLetters.set(stats.deadLetters);
      const writers = await app.store.writerStats?.();
      if (writers) {
        oldestWriter.set(writers.oldestWriterAgeMs / 1000);
        openWriters.set(writers.openWriters);
      }
      storeUp.set(1);
    } catch {
      storeUp.set(0);
    }
    // The runner keeps cumulative counts; mirroring them into counters keeps Prometheus' rate() right.
    const { runs, failures } = app.hookRunner.stats;
    const workflows = new Set([...app.workflows.list().map((w) => w.name), ...runs.keys(), ...failures.keys()]);
    hookRuns.reset();
    hookFailures.reset();
    for (const workflow of workflows) {
      hookRuns.inc({ workflow }, runs.get(workflow) ?? 0);
      hookFailures.inc({ workflow }, failures.get(workflow) ?? 0);
    }
    const decoder = options.pushDecoder?.();
    workerRows.reset();
    workerState.reset();
    if (decoder) {
      for (const [collection, rows] of decoder.rowsDecoded) workerRows.inc({ collection }, rows);
      for (const state of ['idle', 'starting', 'ready', 'failed'] as const) workerState.set({ state }, decoder.state === state ? 1 : 0);
    }
    breakerState.reset();
    for (const [target, state] of Object.entries(options.breakerStates?.() ?? {})) {
      for (const candidate of BREAKER_STATES) breakerState.set({ target, state: candidate }, candidate === state ? 1 : 0);
    }
    liveSockets.set(app.io.engine.clientsCount);
  }

  app.get('/metrics', { schema: metricsSchema }, async (request, reply) => {
    options.access.require(request);
    await refresh();
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}, { name: 'fieldsync-metrics' });
