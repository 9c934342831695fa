import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Server as SocketServer } from 'socket.io';
import type { ServerConfig } from '../config.ts';
import { installHardening, socketIoOriginOptions, type HardeningOptions } from '../auth/hardening.ts';
import { installErrorHandling } from './errors.ts';
import { installNoStore } from './no-store.ts';
import { jsonDepthLimit } from './json-depth.ts';
import { requestDecompression } from './request-decompression.ts';
import { limitSocketMessages } from './socket-rate-limit.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** socket.io on the same HTTP server: the change stream (`/sync`) and dispatch's live feed (`/live`). */
    io: SocketServer;
  }
}

export interface HttpPluginOptions {
  config: Pick<ServerConfig, 'corsOrigins' | 'publicOrigin' | 'bodyLimitBytes' | 'jsonMaxDepth' | 'socketMessageLimit' | 'socketMessageWindowMs'>;
  /** Where the rate limits count (server/auth/hardening.ts); default: this process's memory. */
  rateLimitStore?: HardeningOptions['rateLimitStore'];
}

/**
 * What every request and socket meets before a capability sees it: the request id echoed back,
 * one error shape, security headers, CORS, the rate limiter, gzip request bodies, a nesting
 * limit on JSON bodies, and the
 * socket.io server the realtime capabilities attach their namespaces to.
 */
export const httpPlugin = fp(async (app: FastifyInstance, options: HttpPluginOptions) => {
  const { corsOrigins, publicOrigin, bodyLimitBytes, jsonMaxDepth } = options.config;
  // Callback hooks, not async ones, on every answer: no promise per request per hook.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  installErrorHandling(app);
  // Response schemas describe answers for the OpenAPI document; handlers build their answers
  // field by field, so a schema never filters or reshapes what is sent.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await installHardening(app, { corsOrigins, ...(options.rateLimitStore ? { rateLimitStore: options.rateLimitStore } : {}) });
  await app.register(requestDecompression, { maxDecompressedBytes: bodyLimitBytes });
  // After decompression: it reads the decompressed text.
  await app.register(jsonDepthLimit, { maxDepth: jsonMaxDepth });

  const io = new SocketServer(app.server, { serveClient: false, maxHttpBufferSize: 1e6, ...socketIoOriginOptions(corsOrigins, publicOrigin) });
  app.decorate('io', io);
  installNoStore(app, io);
  limitSocketMessages(io, { limit: options.config.socketMessageLimit, windowMs: options.config.socketMessageWindowMs, log: app.log.child({ component: 'socket-limit' }) });
  // Upgraded websocket connections are not the HTTP server's to close: end them before it
  // closes, or closing waits for them forever. The namespaces' owners detach on close.
  app.addHook('preClose', async () => {
    io.disconnectSockets(true);
    io.engine.close();
  });
}, { name: 'fieldsync-http', fastify: '5.x' });
