/**
 * Development tokens (`dev:<tenant>:<role>:<device>`, anyone may claim any identity in any agency)
 * are off unless asked for (issue 17, finding 8): they were on by default. `npm start` on a fresh
 * machine still runs the demo in one command, signing in with passwords.
 */
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildServer } from '../../../server/app.ts';
import { DEMO_USERS } from '../../../server/auth/demo.ts';
import { devToken } from '../../../server/auth/identity.ts';
import { readConfig, SERVER_DEFAULTS } from '../../../server/config.ts';
import { schemaVersionOf } from '../../../shared/schemas/index.ts';
import { startServerProcess } from '../../helpers/server-process.ts';
import { freePort, makeDataDir } from '../../helpers/server.ts';

const SECRET = 'k'.repeat(40);
/** A production configuration names the audit key too (docs/audit.md). */
const AUDIT_KEY = 'a'.repeat(40);

describe('the setting', () => {
  it('is off by default, on with NODE_ENV=development or DEV_TOKENS=true', () => {
    expect(SERVER_DEFAULTS.devTokens).toBe(false);
    expect(readConfig({}).devTokens).toBe(false);
    expect(readConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, AUDIT_KEY }).devTokens).toBe(false);
    expect(readConfig({ NODE_ENV: 'test' }).devTokens).toBe(false);
    expect(readConfig({ NODE_ENV: 'development' }).devTokens).toBe(true);
    expect(readConfig({ NODE_ENV: 'development', DEV_TOKENS: 'false' }).devTokens).toBe(false);
    expect(readConfig({ DEV_TOKENS: 'true' }).devTokens).toBe(true);
  });

  it('the demo agency comes with a fresh machine (no JWT_SECRET) or SEED_DEMO=true, never with a production configuration', () => {
    expect(readConfig({}).seedDemo).toBe(true);
    expect(readConfig({ JWT_SECRET: SECRET, AUDIT_KEY }).seedDemo).toBe(false);
    expect(readConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, AUDIT_KEY }).seedDemo).toBe(false);
    expect(readConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, SEED_DEMO: 'true' }).seedDemo).toBe(true);
    expect(() => readConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET is required/);
  });
});

describe('a server built with the defaults', () => {
  it('refuses a development token, whoever it claims to be', async () => {
    const dataDir = makeDataDir('devtokens');
    const app = await buildServer({ dataDir, logLevel: 'silent', clientDir: false });
    try {
      const r = await app.inject({
        method: 'GET', url: `/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}`,
        headers: { authorization: `Bearer ${devToken({ tenantId: 'any-agency', role: 'admin', deviceId: 'anything' })}` },
      });
      expect(r.statusCode).toBe(401);
      expect(r.json()).toMatchObject({ error: { code: 'BAD_TOKEN', message: 'Development tokens are turned off on this server; sign in to get a token.' } });
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('npm start on a fresh machine (nothing configured)', () => {
  it('serves the demo agency, whose users sign in with their passwords, and refuses development tokens', async () => {
    const dataDir = makeDataDir('fresh-start');
    // The test helper opts into development tokens; a fresh machine has none of that.
    // Start-up writes the demo data, whose finished report runs the NEMSIS check: allow a loaded machine its time.
    const server = await startServerProcess({ port: await freePort(), dataDir, env: { DEV_TOKENS: '', NODE_ENV: '', JWT_SECRET: '', SEED_DEMO: '' }, startTimeoutMs: 150_000 });
    try {
      const crew = DEMO_USERS.find((u) => u.role === 'crew')!;
      const signIn = await fetch(`${server.url}/api/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tenantId: 'demo', username: crew.username, password: crew.password, deviceId: 'fresh-tablet' }),
      });
      expect(signIn.status).toBe(200);
      const { accessToken } = (await signIn.json()) as { accessToken: string };
      const pull = `${server.url}/api/sync/epcrs/pull?schemaVersion=${schemaVersionOf('epcrs')}`;
      expect((await fetch(pull, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);
      const dev = await fetch(pull, { headers: { authorization: `Bearer ${devToken({ tenantId: 'demo', role: 'crew', deviceId: 'x', subject: 'M1' })}` } });
      expect(dev.status).toBe(401);
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
