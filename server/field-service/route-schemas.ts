import { AUTH_ERRORS, BEARER, errorResponses, objectOf } from '../http/route-schema.ts';

/** `FIELD_SERVICE.technicians` (docs/protocol.md §32). */
export const techniciansSchema = {
  summary: 'The agency\'s technicians the server knows (by their phones\' position fixes), to assign a job by hand',
  tags: ['field-service'],
  security: BEARER,
  response: {
    200: objectOf('`{ technicians: [{ id, lastFixAt, openJobs }] }`', {
      technicians: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'lastFixAt', 'openJobs'],
          properties: {
            id: { type: 'string', description: 'The technician id (a job\'s assigneeId)' },
            lastFixAt: { type: 'string', description: 'When their phone last reported its position (its offset date-time); never where' },
            openJobs: { type: 'integer', description: 'Jobs assigned to them and not completed' },
          },
        },
      },
    }, ['technicians']),
    ...errorResponses({ ...AUTH_ERRORS }),
  },
};
