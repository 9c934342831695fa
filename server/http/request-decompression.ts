import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { HttpError } from './errors.ts';
import { ErrorCode } from '../../shared/protocol/index.ts';

/**
 * Accepts `Content-Encoding: gzip` request bodies: on one bar of signal a device compresses large
 * push batches. The body limit applies to the decompressed bytes, so a small bomb cannot expand
 * past it.
 */
export const requestDecompression = fp(async (app: FastifyInstance, options: { maxDecompressedBytes: number }) => {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = request.headers['content-encoding']?.toLowerCase().trim();
    if (!encoding || encoding === 'identity') return payload;
    if (encoding !== 'gzip') {
      throw new HttpError(415, ErrorCode.UNSUPPORTED_CONTENT_ENCODING, `Content-Encoding "${encoding}" is not supported; send gzip or no encoding.`);
    }
    let encodedBytes = 0;
    let decodedBytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        encodedBytes += chunk.length;
        callback(null, chunk);
      },
    });
    const gunzip = createGunzip();
    const limiter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        decodedBytes += chunk.length;
        if (decodedBytes > options.maxDecompressedBytes) {
          callback(new HttpError(413, ErrorCode.BODY_TOO_LARGE, 'The decompressed request body is larger than the server accepts; send smaller batches.'));
          return;
        }
        callback(null, chunk);
      },
    });
    gunzip.on('error', () => limiter.destroy(new HttpError(400, ErrorCode.BAD_GZIP, 'The request body is not valid gzip data.')));
    const decoded = payload.pipe(counter).pipe(gunzip).pipe(limiter);
    // Fastify compares Content-Length with what was received on the wire, not after decoding.
    Object.defineProperty(decoded, 'receivedEncodedLength', { get: () => encodedBytes });
    return decoded;
  });
});
