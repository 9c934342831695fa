import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../../server/app.ts';
import { isErrorCode } from '../../../shared/protocol/index.ts';
import { makeDataDir } from '../../helpers/server.ts';
import type { FastifyInstance } from 'fastify';

let app: FastifyInstance;
let url: string;
const dataDir = makeDataDir('errors');
beforeAll(async () => {
  app = await buildServer({ dataDir, logLevel: 'silent', clientDir: false });
  // A plugin's own 4xx error, as @fastify plugins and Fastify itself raise them.
  app.get('/test/plugin-error/:status', async (request) => {
    const status = Number((request.params as { status: string }).status);
    throw Object.assign(new Error('a plugin refused this'), { statusCode: status, code: 'FST_ERR_SOME_PLUGIN' });
  });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the error body never carries a code the protocol does not list', () => {
  it('a 4xx raised with a framework code answers with one of the protocol codes', async () => {
    for (const [status, code] of [[400, 'BAD_REQUEST'], [404, 'NOT_FOUND'], [429, 'RATE_LIMITED'], [409, 'BAD_REQUEST']] as const) {
      const response = await fetch(`${url}/test/plugin-error/${status}`);
      expect(response.status).toBe(status);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(isErrorCode(body.error.code)).toBe(true);
      expect(body.error.code).toBe(code);
      expect(body.error.message).toBe('a plugin refused this');
    }
  });
});
