import type { FastifyError, FastifyInstance } from 'fastify';
import { ErrorCode, isErrorCode, type ErrorBody } from '../../shared/protocol/index.ts';

type Detail = NonNullable<ErrorBody['error']['details']>[number];

/** An error whose message is safe and useful to show the caller. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    /** One of the protocol's codes (shared/protocol/errors.ts): a new code is added there, and to docs/protocol.md §13. */
    readonly code: ErrorCode,
    message: string,
    readonly details?: Detail[],
  ) {
    super(message);
  }
}

/** Fastify's own errors, translated into messages that say what to do. */
const FASTIFY_ERRORS: Record<string, { status: number; code: ErrorCode; message: (e: FastifyError) => string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: ErrorCode.MALFORMED_JSON, message: (e) => `The request body is not valid JSON: ${e.message}` },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: ErrorCode.EMPTY_BODY, message: () => 'The request body is empty; send a JSON body.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: ErrorCode.BODY_TOO_LARGE, message: () => 'The request body is larger than the server accepts; send smaller batches.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: ErrorCode.UNSUPPORTED_MEDIA_TYPE, message: () => 'Send the body as application/json.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: ErrorCode.BAD_CONTENT_LENGTH, message: () => 'Content-Length does not match the body.' },
};

/**
 * One error shape for every route: `{ error: { code, message, details? }, requestId }`.
 * Unexpected errors are logged with their stack and answered with a generic 500: no stack
 * trace or internal path ever reaches a client.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const body = (code: string, message: string, details?: Detail[]): ErrorBody => ({
      error: { code, message, ...(details ? { details } : {}) },
      requestId: String(request.id),
    });
    if (error instanceof HttpError) {
      return reply.status(error.statusCode).send(body(error.code, error.message, error.details));
    }
    const known = error.code ? FASTIFY_ERRORS[error.code] : undefined;
    if (known) return reply.status(known.status).send(body(known.code, known.message(error)));
    if (error.validation) {
      const details = error.validation.map((v) => ({ path: v.instancePath || v.params?.['missingProperty']?.toString() || '', message: v.message ?? 'invalid' }));
      return reply.status(400).send(body(ErrorCode.INVALID_REQUEST, `The request is invalid: ${error.message}`, details));
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      // Always one of the protocol's codes: a framework's or plugin's own (FST_ERR_…) is not one a client can know.
      const code = isErrorCode(error.code) ? error.code
        : error.statusCode === 404 ? ErrorCode.NOT_FOUND : error.statusCode === 429 ? ErrorCode.RATE_LIMITED : ErrorCode.BAD_REQUEST;
      return reply.status(error.statusCode).send(body(code, error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(body(ErrorCode.INTERNAL, 'The server failed to handle this request. It was logged; retry later or report the request id.'));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({
      error: { code: ErrorCode.NOT_FOUND, message: `No route for ${request.method} ${request.url.split('?')[0]}` },
      requestId: String(request.id),
    } satisfies ErrorBody);
  });
}
