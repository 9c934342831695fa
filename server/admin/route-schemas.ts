import { AUTH_ERRORS, BEARER, errorResponses, objectOf, pathParams, queryParams } from '../http/route-schema.ts';

/** The dead-letter and quarantine routes under `ADMIN_BASE_PATH` (docs/protocol.md, section 19). */

const limit = queryParams({ limit: { type: 'string', pattern: '^[0-9]{1,7}$', description: 'Entries per answer, 1 to 1000 (default 100).' } });

export const deadLettersSchema = {
  summary: 'Hook effects that used up their retries',
  tags: ['admin'],
  security: BEARER,
  querystring: limit,
  response: {
    200: objectOf('The agency\'s dead letters, oldest first.', { deadLetters: { type: 'array', items: objectOf('A dead letter') } }, ['deadLetters']),
    ...errorResponses({ ...AUTH_ERRORS, 400: 'A bad limit (BAD_LIMIT)' }),
  },
};

export const retryDeadLetterSchema = {
  summary: 'Queue a dead letter again',
  tags: ['admin'],
  security: BEARER,
  params: pathParams({ id: { type: 'string', pattern: '^[1-9][0-9]{0,14}$', description: 'The dead letter id.' } }),
  response: {
    202: objectOf('Queued again', { id: { type: 'integer' }, status: { type: 'string' }, message: { type: 'string' } }, ['id', 'status']),
    ...errorResponses({ ...AUTH_ERRORS, 400: 'Not a dead letter id (BAD_ID)', 404: 'No such dead letter in the agency (DEAD_LETTER_NOT_FOUND)' }),
  },
};

export const quarantineSchema = {
  summary: 'Refused writes as devices sent them (audited as a read)',
  tags: ['admin'],
  security: BEARER,
  querystring: limit,
  response: {
    200: objectOf('The agency\'s quarantine, newest first.', { quarantine: { type: 'array', items: objectOf('A quarantined row') } }, ['quarantine']),
    ...errorResponses({ ...AUTH_ERRORS, 400: 'A bad limit (BAD_LIMIT)' }),
  },
};
