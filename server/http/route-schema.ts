import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import { errorBodySchema } from '../../shared/protocol/http-schemas.ts';

/**
 * Route options for a route whose handler checks its own input, each problem with its own error
 * code (docs/protocol.md, section 13): its schema describes the wire format for the OpenAPI
 * document (server/openapi) and is not a validator, because a schema's generic 400
 * INVALID_REQUEST would replace those codes. Routes whose schema is the check (sign-in, new
 * users) leave this out.
 */
export const CHECKED_BY_HANDLER: { validatorCompiler: FastifySchemaCompiler<unknown> } = {
  validatorCompiler: () => () => true,
};

/** The token a route needs (an access token, or a development token while DEV_TOKENS is on). */
export const BEARER: FastifySchema['security'] = [{ bearer: [] }];

type Properties = Record<string, Record<string, unknown>>;

/** Path parameters: always present, always strings. */
export function pathParams(properties: Properties): Record<string, unknown> {
  return { type: 'object', required: Object.keys(properties), properties };
}

/** Query parameters: optional unless listed in `required`, strings on the wire. */
export function queryParams(properties: Properties, required: string[] = []): Record<string, unknown> {
  return { type: 'object', ...(required.length ? { required } : {}), properties };
}

/** The error answers a route can give, each with the one error body and what it means. */
export function errorResponses(statuses: Record<number, string>): Record<number, unknown> {
  return Object.fromEntries(Object.entries(statuses).map(([status, description]) => [status, { ...errorBodySchema, description }]));
}

/** Errors every route with a token can answer. */
export const AUTH_ERRORS = {
  401: 'No token, or one that is invalid, expired or revoked (UNAUTHENTICATED, BAD_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED)',
  403: 'The role may not do this (FORBIDDEN)',
} as const;

/** A JSON object whose fields the route's section of docs/protocol.md describes. */
export function objectOf(description: string, properties: Properties = {}, required: string[] = []): Record<string, unknown> {
  return { type: 'object', description, additionalProperties: true, properties, ...(required.length ? { required } : {}) };
}
