/**
 * JSON Schemas of the HTTP API's shared shapes, as the server's routes declare them (and so as
 * the OpenAPI document at OPENAPI_PATH publishes them). The TypeScript types beside them in
 * ./index.ts describe the same bodies.
 */
import { ROLES } from './index.ts';

/** Where a server publishes its HTTP API as OpenAPI 3 (no token needed). */
export const OPENAPI_PATH = '/api/openapi.json';

/** Every error answer: `{ error: { code, message, details? }, requestId }` (ErrorBody). */
export const errorBodySchema = {
  type: 'object',
  required: ['error', 'requestId'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'What went wrong, for programs (docs/protocol.md, section 13).' },
        message: { type: 'string', description: 'What went wrong and what to do, for people.' },
        details: {
          type: 'array',
          description: 'Per document or field problems, when the error is about the request\'s content.',
          items: {
            type: 'object',
            required: ['message'],
            properties: { index: { type: 'integer' }, id: { type: 'string' }, path: { type: 'string' }, message: { type: 'string' } },
          },
        },
      },
    },
    requestId: { type: 'string', description: 'The request id (x-request-id), to quote when reporting a problem.' },
  },
} as const;

/** A document on the wire: the fields its collection's schema (shared/schemas) declares, plus `rev`. */
export const documentSchema = {
  type: 'object',
  description: 'A document of the collection, as its schema in shared/schemas declares it (docs/protocol.md, section 5).',
  required: ['id', 'rev'],
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    rev: { type: 'string', description: 'The device-made revision (section 6).' },
    _deleted: { type: 'boolean', description: 'A tombstone.' },
  },
} as const;

/** Checkpoint: the server's commit sequence of the last change a client has. */
export const checkpointSchema = {
  type: 'object',
  required: ['seq'],
  properties: { seq: { type: 'integer', minimum: 0 } },
} as const;

/** PullResponse. */
export const pullResponseSchema = {
  type: 'object',
  required: ['documents', 'checkpoint'],
  properties: { documents: { type: 'array', items: documentSchema }, checkpoint: checkpointSchema },
} as const;

/** A push body: PushRow[]. */
export const pushBodySchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['newDocumentState'],
    properties: {
      assumedMasterState: { ...documentSchema, description: 'The server state the device based its change on; absent for a new document.' },
      newDocumentState: { ...documentSchema, description: 'The state to write; or a sealed row `{ id, sealed }` (section 8).' },
    },
  },
} as const;

/** PushResponse: the server state of the conflicting (or refused) rows only. */
export const pushResponseSchema = { type: 'array', items: documentSchema } as const;

/** RejectionsResponse (shared/protocol/rejections.ts). */
export const rejectionsResponseSchema = {
  type: 'object',
  required: ['rejections', 'since'],
  properties: {
    rejections: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'collection', 'documentId', 'code', 'reason', 'at'],
        properties: {
          id: { type: 'integer' },
          collection: { type: 'string' },
          documentId: { type: 'string' },
          code: { type: 'string' },
          reason: { type: 'string' },
          rev: { type: 'string' },
          addendumId: { type: 'string' },
          at: { type: 'string', format: 'date-time' },
        },
      },
    },
    since: { type: 'integer', description: 'The `since` to use next time.' },
  },
} as const;

/** Identity: who a token says the caller is. */
export const identitySchema = {
  type: 'object',
  required: ['tenantId', 'role', 'deviceId', 'userId'],
  properties: {
    tenantId: { type: 'string' },
    role: { type: 'string', enum: ROLES },
    deviceId: { type: 'string' },
    userId: { type: 'string' },
    unitId: { type: 'string', description: 'Crews: the unit whose documents they see.' },
    technicianId: { type: 'string', description: 'Technicians: the assignee id of their jobs.' },
  },
} as const;
