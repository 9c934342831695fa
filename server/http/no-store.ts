import type { FastifyInstance } from 'fastify';
import type { Server as SocketServer } from 'socket.io';
import { API_PREFIX, HEADERS } from '../../shared/protocol/index.ts';

/**
 * `Cache-Control: no-store` on every answer of the API and of socket.io's HTTP transport (issue
 * #17): pulls, pushes' conflicts, exports, rejections and the stream's long-polling carry PHI,
 * and without it Chromium kept a pulled report in clear in its disk cache, where a copied
 * browser profile gives it away without the user's unlock. A route that sets its own
 * Cache-Control keeps it (none under /api/ does anything but no-store).
 */
export function installNoStore(app: FastifyInstance, io: SocketServer): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith(API_PREFIX) && !reply.hasHeader(HEADERS.cacheControl)) reply.header(HEADERS.cacheControl, 'no-store');
    done(null, payload);
  });
  io.engine.on('headers', (headers: Record<string, string>) => {
    headers[HEADERS.cacheControl] = 'no-store';
  });
}
