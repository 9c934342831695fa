import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorCode } from '../../shared/protocol/index.ts';
import { HttpError } from './errors.ts';

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Follows the nesting of JSON text chunk by chunk, without parsing it. Bytes are enough: in UTF-8
 * no byte of a multi-byte character is ASCII, so a bracket or quote byte is always that character.
 * Brackets inside strings do not count.
 */
export class JsonDepthScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The deepest nesting seen so far. */
  deepest = 0;

  constructor(private readonly maxDepth: number) {}

  /** False as soon as the text nests deeper than the limit. */
  feed(bytes: Uint8Array): boolean {
    let { depth, inString, escaped } = this;
    const max = this.maxDepth;
    const n = bytes.length;
    // Most bytes are inside strings: jump through them with indexOf (native) rather than byte by
    // byte, which cost as much as JSON.parse itself on a 6 MB push. The next quote and backslash
    // are remembered, so each is searched for once per occurrence.
    let nextQuote = -2;
    let nextBackslash = -2;
    let i = 0;
    while (i < n) {
      if (inString) {
        if (escaped) {
          escaped = false;
          i++;
          continue;
        }
        if (nextQuote !== -1 && nextQuote < i) nextQuote = bytes.indexOf(QUOTE, i);
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = bytes.indexOf(BACKSLASH, i);
        if (nextBackslash !== -1 && (nextQuote === -1 || nextBackslash < nextQuote)) {
          escaped = true;
          i = nextBackslash + 1;
        } else if (nextQuote !== -1) {
          inString = false;
          i = nextQuote + 1;
        } else {
          break;
        }
        continue;
      }
      const byte = bytes[i]!;
      if (byte === QUOTE) {
        inString = true;
      } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
        if (++depth > max) {
          this.deepest = depth;
          return false;
        }
        if (depth > this.deepest) this.deepest = depth;
      } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
        depth--;
      }
      i++;
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return true;
  }
}

export function tooDeep(maxDepth: number): HttpError {
  return new HttpError(400, ErrorCode.BODY_TOO_DEEP,
    `The JSON body nests objects and arrays more than ${maxDepth} levels deep; no fieldsync document comes close. Nothing in this request was written.`);
}

/** The server's JSON body handling, for a scope that registers a JSON parser of its own (the push route's). */
export interface JsonBody {
  /** The refusal of a body nested deeper than the limit; undefined when it is within it. */
  depthError(raw: string | Buffer): HttpError | undefined;
  /** Fastify's own parse of the text (same limits and errors, prototype poisoning refused), without the nesting check. */
  parseChecked: (request: FastifyRequest, text: string, done: (error: Error | null, body?: unknown) => void) => void;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** See `JsonBody`: a scope's own JSON parser builds on it, so no body skips the nesting limit. */
    jsonBody: JsonBody;
  }
}

/**
 * Refuses JSON bodies nested deeper than `maxDepth`, before they are parsed. A sealed row nested
 * 5,000 levels deep (a 30 KB body) got a 500: parsing it works, but every recursive walk after
 * it (JSON.stringify of the row kept in quarantine) overflowed the stack. Checked in the body
 * parser, on the whole body (at most the body limit, decompressed): it was a Transform stream in
 * a preParsing hook, whose stream set-up cost more per small request than the scan itself
 * (issue #21: server work per GPS point). Registered after request decompression, so it reads
 * the decompressed text.
 */
export const jsonDepthLimit = fp(async (app: FastifyInstance, options: { maxDepth: number }) => {
  const { maxDepth } = options;
  const parseChecked = app.getDefaultJsonParser('error', 'error');
  const depthError = (raw: string | Buffer): HttpError | undefined =>
    (new JsonDepthScanner(maxDepth).feed(typeof raw === 'string' ? Buffer.from(raw) : raw) ? undefined : tooDeep(maxDepth));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, raw, done) => {
    const error = depthError(raw);
    if (error) done(error);
    else parseChecked(request, typeof raw === 'string' ? raw : raw.toString('utf8'), done);
  });
  app.decorate('jsonBody', { depthError, parseChecked } satisfies JsonBody);
}, { name: 'fieldsync-json-depth' });

/** Whether a parsed value nests deeper than `maxDepth` (iterative: it cannot overflow the stack itself). */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (depth + 1 > maxDepth) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
