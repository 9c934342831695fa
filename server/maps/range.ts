/**
 * Serving a file by HTTP byte range (RFC 9110 §14): what a PMTiles reader asks for. One range
 * per request (`bytes=a-b`, `bytes=a-`, `bytes=-n`): the reader never asks for more, and a
 * multipart answer is a cost with no user. A strong ETag names the file's version, so a reader
 * that cached the header notices a replaced archive (and `If-Range` gets the whole new file).
 */
import { createReadStream } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';
import type { ArchiveFile } from './archive.ts';

/** `[start, endInclusive]` of a Range header for a file of `size` bytes; undefined: serve it whole; null: unsatisfiable. */
export function parseRange(header: string | undefined, size: number): [number, number] | undefined | null {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return null;
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(size - 1, Number(match[2]));
  if (start >= size || end < start) return null;
  return [start, end];
}

export async function sendRange(request: FastifyRequest, reply: FastifyReply, archive: ArchiveFile): Promise<FastifyReply> {
  reply.header('accept-ranges', 'bytes');
  reply.header('etag', archive.etag);
  // Tiles are no patient data: the browser may keep them, but asks again whether they changed.
  reply.header('cache-control', 'private, no-cache');
  reply.header('content-type', 'application/vnd.pmtiles');
  const ifNoneMatch = request.headers['if-none-match'];
  const ifRange = request.headers['if-range'];
  const rangeHeader = typeof request.headers.range === 'string' && (ifRange === undefined || ifRange === archive.etag) ? request.headers.range : undefined;
  if (rangeHeader === undefined && ifNoneMatch !== undefined && ifNoneMatch.split(',').map((t) => t.trim()).includes(archive.etag)) {
    return reply.code(304).send();
  }
  const range = parseRange(rangeHeader, archive.size);
  if (range === null) {
    reply.header('content-range', `bytes */${archive.size}`);
    throw new HttpError(416, ErrorCode.RANGE_NOT_SATISFIABLE, `The range "${rangeHeader}" is not within the archive's ${archive.size} bytes (one range, bytes=start-end); ask for bytes=0-${Math.min(archive.size, 16384) - 1} to start with the header.`);
  }
  if (range === undefined) {
    reply.header('content-length', archive.size);
    return reply.code(200).send(request.method === 'HEAD' ? undefined : createReadStream(archive.file));
  }
  const [start, end] = range;
  reply.header('content-range', `bytes ${start}-${end}/${archive.size}`);
  reply.header('content-length', end - start + 1);
  return reply.code(206).send(request.method === 'HEAD' ? undefined : createReadStream(archive.file, { start, end }));
}
