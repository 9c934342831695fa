/**
 * Sign-in under abuse (issue 17, finding 5): a spray of 1,000 attempts from 100 device ids and
 * many accounts is refused with 429 + Retry-After, and neither locks out nor slows the real user,
 * who signs in at the first try from another address. Addresses are real: Linux routes all of
 * 127.0.0.0/8 to lo, so each client binds its sockets to its own 127.0.0.x (the server trusts no
 * proxy, so X-Forwarded-For would change nothing).
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_DEFAULTS, readConfig } from '../../../server/config.ts';
import { PASSWORD } from '../../helpers/access.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const A = 'agency-a';

interface Answer { status: number; retryAfter: string | null; body: { error?: { code: string; message: string }; accessToken?: string } }

/** One client machine: every connection it opens leaves from `address`. */
function clientAt(server: TestServer, address: string, maxSockets = 16) {
  const agent = new Agent({ keepAlive: true, localAddress: address, maxSockets });
  const post = (path: string, body: unknown, extraHeaders: Record<string, string> = {}) => new Promise<Answer>((resolve, reject) => {
    const payload = JSON.stringify(body);
    const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...extraHeaders };
    const req = request({ host: '127.0.0.1', port: server.port, path, method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const retry = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, retryAfter: typeof retry === 'string' ? retry : null, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'] });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
  return {
    login: (username: string, password: string, deviceId: string, headers?: Record<string, string>) => post('/api/auth/login', { tenantId: A, username, password, deviceId }, headers),
    close: () => agent.destroy(),
  };
}

/** `count` attempts, `wave` at a time (a sprayer that does not wait for each answer). */
async function spray(count: number, wave: number, attempt: (i: number) => Promise<Answer>): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let start = 0; start < count; start += wave) {
    answers.push(...await Promise.all(Array.from({ length: Math.min(wave, count - start) }, (_, k) => attempt(start + k))));
  }
  return answers;
}

function expectDocumented429(answer: Answer, windowSeconds: number): void {
  expect(answer.status).toBe(429);
  expect(answer.body.error?.code).toBe('RATE_LIMITED');
  expect(answer.body.error?.message).toMatch(/^Too many .+; try again in \d+ s\.$/);
  expect(answer.retryAfter).toMatch(/^\d+$/);
  expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(answer.retryAfter)).toBeLessThanOrEqual(windowSeconds);
}

describe('a spray of 1,000 sign-ins (production limits)', () => {
  let server: TestServer;
  // The production budgets, set here on purpose: the test helper widens them for the rest of the
  // suite. The window is ten minutes instead of one, so that a loaded machine, which may take more
  // than a minute over the spray, does not start a new window in the middle of it.
  const limits = {
    rateLimitWindowMs: 10 * AUTH_DEFAULTS.rateLimitWindowMs, loginRateLimit: AUTH_DEFAULTS.loginRateLimit,
    loginAccountRateLimit: AUTH_DEFAULTS.loginAccountRateLimit, loginIpRateLimit: AUTH_DEFAULTS.loginIpRateLimit,
    loginGlobalRateLimit: AUTH_DEFAULTS.loginGlobalRateLimit,
  };
  beforeAll(async () => {
    server = await startTestServer(limits);
    await server.app.auth.createUser(A, { username: 'medic', password: PASSWORD, role: 'crew', unitId: 'M1' });
  }, 60_000);
  afterAll(async () => { await server.close(); });

  it('is refused with 429 and Retry-After, while the real user signs in at the first try from elsewhere', async () => {
    const sprayer = clientAt(server, '127.0.0.2');
    const user = clientAt(server, '127.0.0.3');
    try {
      // 100 device ids; 200 account names, one in ten attempts at the real account.
      const answers = await spray(1000, 25, (i) => sprayer.login(i % 10 === 0 ? 'medic' : `user-${i % 200}`, `guess-${i}`, `spray-device-${i % 100}`));
      const statuses = answers.map((a) => a.status);
      const refused = answers.filter((a) => a.status === 429);
      // Only the address's budget reached a password check; the rest cost nothing.
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(limits.loginIpRateLimit);
      expect(refused.length).toBeGreaterThanOrEqual(1000 - limits.loginIpRateLimit);
      expect(new Set(statuses)).toEqual(new Set([401, 429]));
      for (const answer of refused) expectDocumented429(answer, limits.rateLimitWindowMs / 1000);

      const real = await user.login('medic', PASSWORD, 'medic-tablet');
      expect(real.status).toBe(200);
      expect(real.body.accessToken).toBeTypeOf('string');
      // The sprayer is still refused, also with the real password (its address spent its budget).
      expect((await sprayer.login('medic', PASSWORD, 'spray-device-0')).status).toBe(429);
    } finally {
      sprayer.close();
      user.close();
    }
  }, 300_000);

  it('a guesser aimed at one account locks only their own address out of it, not the real user', async () => {
    const guesser = clientAt(server, '127.0.0.4');
    const user = clientAt(server, '127.0.0.5');
    try {
      await server.app.auth.createUser(A, { username: 'target', password: PASSWORD, role: 'crew', unitId: 'M1' });
      const answers = await spray(limits.loginAccountRateLimit + 3, 1, (i) => guesser.login('target', `guess-${i}`, `guess-device-${i}`));
      expect(answers.slice(0, limits.loginAccountRateLimit).map((a) => a.status)).toEqual(Array(limits.loginAccountRateLimit).fill(401));
      for (const answer of answers.slice(limits.loginAccountRateLimit)) {
        expectDocumented429(answer, limits.rateLimitWindowMs / 1000);
        expect(answer.body.error?.message).toContain('for this account from your network address');
      }
      // The account is not locked: its owner, elsewhere, gets in at once, on a device the guesser named too.
      expect((await user.login('target', PASSWORD, 'guess-device-0')).status).toBe(200);
      // The guesser's address stays locked out of it even with the right password, until the window ends.
      expect((await guesser.login('target', PASSWORD, 'guess-device-0')).status).toBe(429);
    } finally {
      guesser.close();
      user.close();
    }
  }, 120_000);

  it('a guesser naming a known device id uses up only their own budget for it: the tablet still signs in', async () => {
    const guesser = clientAt(server, '127.0.0.6');
    const crew = clientAt(server, '127.0.0.7');
    try {
      const answers = await spray(limits.loginRateLimit + 2, 8, (i) => guesser.login(`someone-${i}`, `guess-${i}`, 'medic-tablet'));
      expect(answers.filter((a) => a.status === 429).length).toBe(2);
      for (const answer of answers.filter((a) => a.status === 429)) expect(answer.body.error?.message).toContain('from this device');
      expect((await crew.login('medic', PASSWORD, 'medic-tablet')).status).toBe(200);
    } finally {
      guesser.close();
      crew.close();
    }
  }, 300_000);
});

describe('the server-wide sign-in budget', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ loginGlobalRateLimit: 12, loginIpRateLimit: AUTH_DEFAULTS.loginIpRateLimit, rateLimitWindowMs: 600_000 });
    await server.app.auth.createUser(A, { username: 'medic', password: PASSWORD, role: 'crew', unitId: 'M1' });
  }, 60_000);
  afterAll(async () => { await server.close(); });

  it('refuses newcomers once a spray from many addresses spent it, and lets a user in on a device they signed in on before', async () => {
    const user = clientAt(server, '127.0.1.1');
    const sprayers = Array.from({ length: 8 }, (_, i) => clientAt(server, `127.0.2.${i + 1}`));
    try {
      expect((await user.login('medic', PASSWORD, 'medic-tablet')).status).toBe(200);
      const answers = await spray(24, 8, (i) => sprayers[i % 8]!.login(`user-${i}`, `guess-${i}`, `spray-${i}`));
      const refused = answers.filter((a) => a.status === 429);
      // 12 checks were left after the user's; the rest of the spray is refused, each address below its own limit.
      expect(refused.length).toBe(24 - 11);
      for (const answer of refused) {
        expectDocumented429(answer, 600);
        expect(answer.body.error?.message).toContain('on this server');
      }
      // A new device waits like everyone else; the tablet the user signed in on before does not.
      expect((await user.login('medic', PASSWORD, 'borrowed-phone')).status).toBe(429);
      expect((await user.login('medic', PASSWORD, 'medic-tablet')).status).toBe(200);
    } finally {
      user.close();
      for (const s of sprayers) s.close();
    }
  }, 120_000);
});

describe('a burst of bad sign-ins from one client', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ rateLimitWindowMs: 600_000 });
    await server.app.auth.createUser(A, { username: 'medic', password: PASSWORD, role: 'crew', unitId: 'M1' });
  }, 60_000);
  afterAll(async () => { await server.close(); });

  it('does not queue ahead of a real user\'s sign-in from elsewhere (order of answers, not time)', async () => {
    const burst = clientAt(server, '127.0.3.1', 24);
    const user = clientAt(server, '127.0.3.2');
    try {
      const order: string[] = [];
      // 24 wrong passwords sent at once, each from its own device, all within every limit.
      const sprayed = Array.from({ length: 24 }, (_, i) => burst.login(`user-${i}`, `guess-${i}`, `burst-${i}`).then((a) => { order.push('burst'); return a; }));
      // Let the whole burst reach the server before the user's request does.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const real = await user.login('medic', PASSWORD, 'medic-tablet').then((a) => { order.push('user'); return a; });
      expect(real.status).toBe(200);
      expect((await Promise.all(sprayed)).map((a) => a.status)).toEqual(Array(24).fill(401));
      // Each password check costs the same scrypt: before, all 24 ran ahead of the user's (24 answers
      // came first); one address now has two checks running at once, the rest of its burst waiting.
      expect(order.indexOf('user')).toBeLessThan(12);
    } finally {
      burst.close();
      user.close();
    }
  }, 300_000);
});

describe('the client address behind a proxy (TRUST_PROXY)', () => {
  const tryFrom = async (server: TestServer) => {
    const proxy = clientAt(server, '127.0.5.1');
    try {
      // Five clients as the proxy names them, three attempts allowed per address.
      return (await spray(5, 1, (i) => proxy.login(`user-${i}`, `guess-${i}`, `dev-${i}`, { 'x-forwarded-for': `198.51.100.${i + 1}` }))).map((a) => a.status);
    } finally {
      proxy.close();
    }
  };

  it('is believed only from a proxy the server trusts: made-up X-Forwarded-For buys no fresh budget', async () => {
    const direct = await startTestServer({ loginIpRateLimit: 3, rateLimitWindowMs: 600_000 });
    const proxied = await startTestServer({ loginIpRateLimit: 3, rateLimitWindowMs: 600_000, trustProxy: ['127.0.5.1'] });
    try {
      expect(await tryFrom(direct)).toEqual([401, 401, 401, 429, 429]);
      expect(await tryFrom(proxied)).toEqual([401, 401, 401, 401, 401]);
    } finally {
      await direct.close();
      await proxied.close();
    }
  }, 120_000);

  it('TRUST_PROXY takes a hop count or addresses, never "anyone"', () => {
    expect(readConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' }).trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8']);
    expect(readConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(readConfig({}).trustProxy).toBe(false);
    expect(() => readConfig({ TRUST_PROXY: 'true' })).toThrow(/anyone/);
    expect(() => readConfig({ TRUST_PROXY: 'proxy.example' })).toThrow(/not an address or CIDR/);
    expect(() => readConfig({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(/not an address or CIDR/);
  });
});
