import type { CadInboundEvent } from './events.ts';
import { AUTH_ERRORS, BEARER, errorResponses, objectOf } from '../../http/route-schema.ts';

/** `SOCKET_BRIDGE_BASE_PATH` (docs/protocol.md, section 18). */

export const bridgeHealthSchema = {
  summary: 'The CAD bridge\'s connection state',
  tags: ['cad-bridge'],
  security: BEARER,
  response: {
    200: objectOf('Bridge state (state `off` when CAD_BACKEND_URL is not set)', {
      connected: { type: 'boolean' },
      state: { type: 'string', enum: ['connected', 'connecting', 'degraded', 'stopped', 'off'] },
      cad_url: { type: 'string', nullable: true },
      connection_attempts: { type: 'integer' },
      event_handlers_registered: { type: 'integer' },
      last_event_at: { type: 'string', nullable: true },
      queued_outbound: { type: 'integer' },
      last_error: { type: 'string', nullable: true },
    }, ['connected', 'state']),
    ...errorResponses(AUTH_ERRORS),
  },
};

export const bridgeReconnectSchema = {
  summary: 'Reconnect to CAD now',
  tags: ['cad-bridge'],
  security: BEARER,
  response: {
    202: objectOf('Reconnecting', { reconnecting: { type: 'boolean' } }, ['reconnecting']),
    ...errorResponses({ ...AUTH_ERRORS, 409: 'The bridge is off (BRIDGE_OFF)' }),
  },
};

/** A dispatcher's write of what CAD must hear of: the body of the matching inbound CAD event. */
export function bridgeSendSchema(event: CadInboundEvent) {
  return {
    summary: `Write data as CAD's \`${event}\` event would, as the caller`,
    tags: ['cad-bridge'],
    security: BEARER,
    body: objectOf(`The body of the \`${event}\` event (section 18).`),
    response: {
      202: objectOf('Written (and queued for CAD when the bridge is on)', { accepted: { type: 'boolean' } }, ['accepted']),
      ...errorResponses({ ...AUTH_ERRORS, 400: 'Not a JSON object, or an event the bridge cannot apply (BAD_BODY, BAD_CAD_EVENT)' }),
    },
  };
}
