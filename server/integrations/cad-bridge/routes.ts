import type { FastifyInstance } from 'fastify';
import { ErrorCode, patternOf, SOCKET_BRIDGE, type SocketBridgeSend, type Role } from '../../../shared/protocol/index.ts';
import { HttpError } from '../../http/errors.ts';
import { actorOf } from '../../auth/actor.ts';
import type { Store } from '../../store/types.ts';
import type { CadBridges } from './bridge.ts';
import type { CadInboundEvent } from './events.ts';
import { CadEventError, CadInbound } from './inbound.ts';
import { CHECKED_BY_HANDLER } from '../../http/route-schema.ts';
import { bridgeHealthSchema, bridgeReconnectSchema, bridgeSendSchema } from './route-schemas.ts';

/** REST path → the CAD event whose data it writes; the change then reaches CAD through the queue. */
const SEND_ROUTES: Record<SocketBridgeSend, CadInboundEvent> = {
  assignment: 'assignment:received',
  'unit-location': 'unit:location:updated',
  'unit-status': 'unit:status:updated',
  'incident-status': 'incident:status:updated',
  'incident-timestamp': 'incident:timestamp:updated',
  'transport-completed': 'transport:completed',
};

function requireRole(role: Role, allowed: Role[]): void {
  if (!allowed.includes(role)) throw new HttpError(403, ErrorCode.FORBIDDEN, `This needs one of the roles ${allowed.join(', ')}; you are ${role}.`);
}

/** `SOCKET_BRIDGE` (docs/protocol.md §18): health, reconnect, and the dispatcher's REST to send data CAD must hear of. */
export async function cadBridgeRoutes(app: FastifyInstance, options: { bridges: CadBridges; store: Store; timeZoneOf: (tenantId: string) => string | undefined }): Promise<void> {
  app.get(SOCKET_BRIDGE.health.route, { schema: bridgeHealthSchema }, async (request) => {
    requireRole(request.identity.role, ['dispatcher', 'admin']);
    // The caller's agency's CAD only: another agency's CAD (its address, its errors) is none of its business.
    const bridge = options.bridges.of(request.identity.tenantId);
    if (!bridge) {
      return { connected: false, state: 'off', cad_url: null, connection_attempts: 0, event_handlers_registered: 0, last_event_at: null, queued_outbound: 0, last_error: 'No CAD is configured for your agency (CAD_BACKEND_URL with CAD_TENANT_ID, or CAD_BACKENDS); the bridge is off' };
    }
    return bridge.health();
  });

  app.post(SOCKET_BRIDGE.reconnect.route, { schema: bridgeReconnectSchema }, async (request, reply) => {
    requireRole(request.identity.role, ['admin']);
    const bridge = options.bridges.of(request.identity.tenantId);
    if (!bridge) throw new HttpError(409, ErrorCode.BRIDGE_OFF, 'Your agency has no CAD bridge (CAD_BACKEND_URL or CAD_BACKENDS names none for it); there is nothing to reconnect.');
    bridge.reconnect();
    return reply.status(202).send({ reconnecting: true });
  });

  for (const [path, event] of Object.entries(SEND_ROUTES) as [SocketBridgeSend, CadInboundEvent][]) {
    const send = SOCKET_BRIDGE.send(path);
    app.post<{ Body: Record<string, unknown> }>(send.route, { schema: bridgeSendSchema(event), ...CHECKED_BY_HANDLER }, async (request, reply) => {
      requireRole(request.identity.role, ['dispatcher', 'admin']);
      if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) {
        throw new HttpError(400, ErrorCode.BAD_BODY, `POST ${patternOf(send)} takes a JSON object.`);
      }
      const identity = request.identity;
      const writer = new CadInbound(options.store, identity.tenantId, {
        kind: 'device', tenantId: identity.tenantId, userId: identity.userId, deviceId: identity.deviceId, role: identity.role,
      }, app.collectionRegistry, options.timeZoneOf(identity.tenantId));
      try {
        await writer.apply(event, request.body);
      } catch (error) {
        if (error instanceof CadEventError) throw new HttpError(400, ErrorCode.BAD_CAD_EVENT, error.message);
        throw error;
      }
      options.bridges.of(identity.tenantId)?.kick();
      return reply.status(202).send({ accepted: true });
    });
  }
}
