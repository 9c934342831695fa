import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildServer } from '../../server/app.ts';
import { SERVER_DEFAULTS, readConfig, resolveServerConfig, type ServerConfig } from '../../server/config.ts';
import { makeDataDir } from '../helpers/server.ts';

const SERVER_DIR = path.resolve(import.meta.dirname, '../../server');

/**
 * readConfig also looks for the NEMSIS XSDs beside the checkout when NEMSIS_DIR is not set; a
 * server built in code validates exports only when told where they are. That discovery is the
 * one difference between "nothing in the environment" and "no options".
 */
function fromEmptyEnvironment(env: NodeJS.ProcessEnv = {}): ServerConfig {
  return { ...readConfig(env), nemsisXsdDir: undefined };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const file = path.join(dir, entry);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return file.endsWith('.ts') ? [file] : [];
  });
}

describe('configuration defaults live in one place (server/config.ts SERVER_DEFAULTS)', () => {
  it('no options and an empty environment give the same settings, field by field', () => {
    const resolved = resolveServerConfig({});
    const read = fromEmptyEnvironment();
    expect(Object.keys(resolved).sort()).toEqual(Object.keys(read).sort());
    for (const key of Object.keys(read) as (keyof ServerConfig)[]) {
      expect({ [key]: resolved[key] }).toEqual({ [key]: read[key] });
    }
  });

  it('buildServer runs with exactly those settings when given only a data directory', async () => {
    const dataDir = makeDataDir('config');
    const app = await buildServer({ dataDir, logLevel: 'silent', clientDir: false });
    try {
      expect(app.config).toEqual(fromEmptyEnvironment({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }));
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('an option given as undefined is not given: the default applies', () => {
    expect(resolveServerConfig({ bodyLimitBytes: undefined, devTokens: undefined }))
      .toMatchObject({ bodyLimitBytes: SERVER_DEFAULTS.bodyLimitBytes, devTokens: SERVER_DEFAULTS.devTokens });
  });

  it('no server module restates a setting\'s default (`x.<setting> ?? <value>` outside config.ts)', () => {
    const settings = Object.keys(SERVER_DEFAULTS).join('|');
    // A fallback for a setting is allowed only when it is read from the defaults object itself.
    const restated = new RegExp(`\\.(${settings})\\s*\\?\\?\\s*(?!SERVER_DEFAULTS\\.|INTEGRATION_DEFAULTS\\.|AUTH_DEFAULTS\\.)([^\\s,;)]+)`, 'g');
    const offenders: string[] = [];
    for (const file of sourceFiles(SERVER_DIR)) {
      if (path.basename(file) === 'config.ts' && path.dirname(file) === SERVER_DIR) continue;
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, index) => {
        for (const match of line.matchAll(restated)) offenders.push(`${path.relative(SERVER_DIR, file)}:${index + 1}: ${match[0]}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});

describe('connection limits are checked together at start-up', () => {
  it('a header timeout longer than the request timeout stops start-up with a message naming both', () => {
    expect(() => readConfig({ HEADERS_TIMEOUT_MS: '70000' })).toThrow(/HEADERS_TIMEOUT_MS \(70000\) must not be longer than REQUEST_TIMEOUT_MS \(60000\)/);
    expect(() => resolveServerConfig({ requestTimeoutMs: 1000, headersTimeoutMs: 2000 })).toThrow(/HEADERS_TIMEOUT_MS/);
    expect(readConfig({ REQUEST_TIMEOUT_MS: '120000', HEADERS_TIMEOUT_MS: '70000' })).toMatchObject({ requestTimeoutMs: 120_000, headersTimeoutMs: 70_000 });
    expect(() => readConfig({ MAX_CONNECTIONS: '0' })).toThrow(/MAX_CONNECTIONS must be between 1/);
  });
});

describe('secrets every process on PostgreSQL shares', () => {
  const production = { NODE_ENV: 'production', STORE: 'postgres', DATABASE_URL: 'postgres://127.0.0.1/test', JWT_SECRET: 'j'.repeat(40), AUDIT_KEY: 'a'.repeat(40) };

  it('a production server on PostgreSQL without TRANSPORT_KEY_SECRET does not start, and says what to set', () => {
    expect(() => readConfig(production)).toThrow(/TRANSPORT_KEY_SECRET is required with STORE=postgres/);
    expect(() => readConfig({ ...production, TRANSPORT_KEY_SECRET: 'short' })).toThrow(/TRANSPORT_KEY_SECRET must be at least 32 characters/);
    expect(readConfig({ ...production, TRANSPORT_KEY_SECRET: 't'.repeat(40) }).transportKeySecret).toBe('t'.repeat(40));
    // SQLite keeps transport keys in DATA_DIR: no such secret is needed there.
    expect(() => readConfig({ ...production, STORE: 'sqlite' })).not.toThrow();
  });
});
