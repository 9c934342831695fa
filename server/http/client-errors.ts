import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, type ErrorBody } from '../../shared/protocol/index.ts';

/**
 * Answers to requests that never became a request: Node's HTTP parser refused them (malformed
 * HTTP, headers too large, a bad Content-Length) or they did not arrive in time. Fastify's own
 * answers to these had another body (`{"error":"Bad Request","message":"Client Error",...}`);
 * here they carry the protocol's error body (docs/protocol.md §13), and the connection is closed.
 */
interface ClientProblem { status: number; code: ErrorCode; message: string }

/** Node's parser error codes (`HPE_*`, llhttp) and timeouts, as the protocol's errors. */
export function clientProblemOf(error: { code?: string; message?: string }, limits: { requestTimeoutMs: number; headersTimeoutMs: number }): ClientProblem {
  // llhttp reports Content-Length beside Transfer-Encoding as a Transfer-Encoding error.
  const code = error.code === 'HPE_INVALID_TRANSFER_ENCODING' && /Content-Length/i.test(error.message ?? '') ? 'HPE_UNEXPECTED_CONTENT_LENGTH' : error.code;
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408, code: ErrorCode.REQUEST_TIMEOUT,
        message: `The request did not arrive in full in time (headers within ${limits.headersTimeoutMs / 1000} s, everything within ${limits.requestTimeoutMs / 1000} s); the connection is closed. Retry, with smaller batches on a slow link.`,
      };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: ErrorCode.HEADERS_TOO_LARGE, message: 'The request line and headers are larger than the server accepts (16 KiB in all); shorten the URL or the headers.' };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { status: 400, code: ErrorCode.BAD_CONTENT_LENGTH, message: 'The Content-Length header is not a single whole number, or is sent with Transfer-Encoding; send one or the other, once.' };
    default:
      return { status: 400, code: ErrorCode.BAD_REQUEST, message: `The request is not valid HTTP/1.1 (${error.code ?? 'unreadable'}); the connection is closed.` };
  }
}

/** Fastify's `clientErrorHandler`: answers what can still be answered, then closes the connection. */
export function clientErrorHandler(limits: { requestTimeoutMs: number; headersTimeoutMs: number }) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    // The client went away: there is nobody to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const headersSent = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (socket.writable && !headersSent) {
      const problem = clientProblemOf(error, limits);
      const body = JSON.stringify({ error: { code: problem.code, message: problem.message }, requestId: randomUUID() } satisfies ErrorBody);
      socket.write(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n`
        + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy();
  };
}

/**
 * Fastify's `frameworkErrors`: errors its router raises before any route or error handler runs
 * (a path parameter longer than the router allows: 414; a URL that does not decode: 400).
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const body = (code: ErrorCode, message: string): ErrorBody => ({ error: { code, message }, requestId: String(request.id) });
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.status(414).send(body(ErrorCode.URL_TOO_LONG, 'A part of the URL path is longer than the server accepts (100 characters); ids and names are much shorter.'));
    return;
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    void reply.status(400).send(body(ErrorCode.BAD_URL, 'The URL path is not valid percent-encoding; encode each path part with encodeURIComponent.'));
    return;
  }
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  void reply.status(status).send(body(ErrorCode.BAD_REQUEST, 'The request could not be routed; check the method, URL and headers.'));
}
