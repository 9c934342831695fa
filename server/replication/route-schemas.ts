import { pullResponseSchema, pushBodySchema, pushResponseSchema, rejectionsResponseSchema } from '../../shared/protocol/http-schemas.ts';
import { AUTH_ERRORS, BEARER, errorResponses, objectOf, pathParams, queryParams } from '../http/route-schema.ts';

/** The sync routes' wire formats (docs/protocol.md, sections 4-10), as the OpenAPI document publishes them. */

const collectionParam = pathParams({ collection: { type: 'string', description: 'A collection name, e.g. `epcrs` (section 4).' } });
const schemaVersion = { type: 'string', pattern: '^[0-9]{1,6}$', description: 'The schema version the client was built with (section 4).' };
const schemaErrors = {
  400: 'A bad parameter or body (MISSING_SCHEMA_VERSION, BAD_SCHEMA_VERSION, SCHEMA_TOO_NEW, BAD_LIMIT, BAD_CHECKPOINT, INVALID_DOCUMENT, …)',
  404: 'No such collection (UNKNOWN_COLLECTION)',
  426: 'The app is older than the server\'s schema: update it (SCHEMA_OUTDATED)',
  429: 'Too many sync requests from this device (RATE_LIMITED; Retry-After)',
} as const;

export const pullSchema = {
  summary: 'The caller\'s documents changed after a checkpoint',
  tags: ['sync'],
  security: BEARER,
  params: collectionParam,
  querystring: queryParams({
    schemaVersion,
    checkpoint: { type: 'string', description: 'JSON `{"seq":n}` from the previous answer; absent: from the start.' },
    limit: { type: 'string', pattern: '^[0-9]{1,7}$', description: 'Documents per answer, 1 to 5000 (default 100).' },
  }, ['schemaVersion']),
  response: { 200: pullResponseSchema, ...errorResponses({ ...AUTH_ERRORS, ...schemaErrors }) },
};

export const pushSchema = {
  summary: 'Write a batch of changes, all or nothing',
  tags: ['sync'],
  security: BEARER,
  params: collectionParam,
  querystring: queryParams({
    schemaVersion,
    conflicts: { type: 'string', enum: ['merge'], description: '`merge`: the server merges a conflicting row instead of returning it (a service worker replaying its queue).' },
  }, ['schemaVersion']),
  body: pushBodySchema,
  response: {
    200: { ...pushResponseSchema, description: 'The server state of conflicting or refused rows; refused rows are also named in the x-fieldsync-rejections header (section 10).' },
    ...errorResponses({ ...AUTH_ERRORS, ...schemaErrors, 403: 'A row of another agency, or a new document the rules refuse (FOREIGN_DOCUMENT, ACCESS_DENIED)', 413: 'The body is larger than the server accepts (BODY_TOO_LARGE)' }),
  },
};

export const outOfScopeSchema = {
  summary: 'Which of the documents a device holds it may no longer read',
  tags: ['sync'],
  security: BEARER,
  params: collectionParam,
  querystring: queryParams({ schemaVersion }, ['schemaVersion']),
  body: objectOf('The ids of documents the device holds (at most 1000).', { ids: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 } } }, ['ids']),
  response: {
    200: { type: 'object', required: ['outOfScope'], properties: { outOfScope: { type: 'array', items: { type: 'string' } } } },
    ...errorResponses({ ...AUTH_ERRORS, ...schemaErrors }),
  },
};

export const rejectionsSchema = {
  summary: 'The writes of the calling device that the server refused',
  tags: ['sync'],
  security: BEARER,
  querystring: queryParams({
    since: { type: 'string', pattern: '^[0-9]+$', description: 'The `since` of the previous answer (default 0).' },
    limit: { type: 'string', pattern: '^[0-9]+$', description: 'Entries per answer, up to 500 (default 100).' },
  }),
  response: { 200: rejectionsResponseSchema, ...errorResponses({ ...AUTH_ERRORS, 400: 'A bad since or limit' }) },
};
