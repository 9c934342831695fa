import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ServerConfig } from '../config.ts';
import { attachLiveFeed } from './live-feed.ts';

export interface LivePluginOptions {
  config: Pick<ServerConfig, 'liveGpsIntervalMs'>;
}

/**
 * Dispatch's live feed (socket.io `/live`): committed changes as role-sliced events, plus the
 * hook runner's failures so dispatch sees a workflow that stopped. Each socket's slice is derived
 * from the access rules the sync capability enforces.
 */
export const livePlugin = fp(async (app: FastifyInstance, options: LivePluginOptions) => {
  const liveFeed = attachLiveFeed(app.io, app.store, app.authenticator, {
    access: app.accessControl,
    gpsIntervalMs: options.config.liveGpsIntervalMs, highWaterPackets: 256, maxQueuedEvents: 10_000, log: app.log,
  });
  app.hookRunner.onFailure((failure) => liveFeed.publish({ type: 'hook:failed', tenantId: failure.tenantId, payload: { ...failure } }));
  app.addHook('onClose', async () => liveFeed.close());
}, {
  name: 'fieldsync-live', fastify: '5.x',
  dependencies: ['fieldsync-http', 'fieldsync-store', 'fieldsync-auth', 'fieldsync-hooks', 'fieldsync-sync'],
  decorators: { fastify: ['io', 'store', 'authenticator', 'hookRunner', 'accessControl'] },
});
