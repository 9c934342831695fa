/**
 * JSON Schemas of the HTTP API's shared shapes, as the server's routes declare them (and so as
 * the OpenAPI document at OPENAPI_PATH publishes them). The TypeScript types beside them in
 * ./index.ts describe the same bodies.
 */

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
