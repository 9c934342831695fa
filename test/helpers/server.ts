import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, type BuildServerOptions } from '../../server/app.ts';

export interface TestServer {
  app: FastifyInstance;
  url: string;
  port: number;
  dataDir: string;
  /** Closes the server; `keepData` leaves the data directory for a restart on the same data. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

export function makeDataDir(label = 'fieldsync'): string {
  return mkdtempSync(path.join(tmpdir(), `${label}-`));
}

/**
 * What test servers run with unless a test says otherwise, opted into here rather than by the
 * server's defaults (which are production's): development tokens, which most tests identify
 * with, and per-address and global sign-in limits wide enough for a suite that signs in hundreds
 * of times from 127.0.0.1 (test/server/auth/sign-in-limits.test.ts sets them to production sizes);
 * and a monitoring token, sent by OPS_HEADERS.
 */
export const TEST_SERVER_SETTINGS = { devTokens: true, loginIpRateLimit: 100_000, loginGlobalRateLimit: 100_000, metricsToken: 'test-metrics-token-0123456789abcdef' } as const satisfies BuildServerOptions;

/** The headers that read `/metrics` and `/ready`'s details from a test server (METRICS_TOKEN). */
export const OPS_HEADERS = { authorization: `Bearer ${TEST_SERVER_SETTINGS.metricsToken}` } as const;

/** A real Fastify server on 127.0.0.1 with a real SQLite store in a temporary directory. */
export async function startTestServer(options: BuildServerOptions & { port?: number } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? makeDataDir();
  const app = await buildServer({ logLevel: 'silent', sqliteSynchronous: 'NORMAL', ...TEST_SERVER_SETTINGS, ...options, dataDir });
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('server did not bind a TCP port');
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    dataDir,
    async close(closeOptions = {}) {
      await app.close();
      if (!closeOptions.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on yet (for "the server is down" scenarios). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
