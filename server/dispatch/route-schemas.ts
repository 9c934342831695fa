import { AUTH_ERRORS, BEARER, errorResponses, objectOf } from '../http/route-schema.ts';

/** `DISPATCH.settings` (docs/protocol.md §26). */
export const dispatchSettingsSchema = {
  summary: 'The server\'s time (for the console\'s clock offset) and the agency\'s dispatch settings in force',
  tags: ['dispatch'],
  security: BEARER,
  response: {
    200: objectOf('`{ serverTime, unacknowledgedAlertSeconds, source }`', {
      serverTime: { type: 'number', description: 'Server clock, epoch milliseconds, taken as the answer is made' },
      unacknowledgedAlertSeconds: { type: 'integer' },
      source: { type: 'string', enum: ['agency', 'server-default'] },
    }, ['serverTime', 'unacknowledgedAlertSeconds', 'source']),
    ...errorResponses({ ...AUTH_ERRORS }),
  },
};
