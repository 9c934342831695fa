/**
 * New passwords: at least 12 characters (ASVS L2) and not a commonly used one (the list shipped by
 * @zxcvbn-ts/language-common). Users whose password was set before the policy still sign in.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../../server/auth/demo.ts';
import { hashPassword } from '../../../server/auth/passwords.ts';
import { passwordProblems } from '../../../server/auth/password-policy.ts';
import { login, PASSWORD } from '../../helpers/access.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const A = 'agency-a';

let server: TestServer;
let admin: string;
beforeAll(async () => {
  server = await startTestServer();
  await server.app.auth.createUser(A, { username: 'boss', password: PASSWORD, role: 'admin' });
  admin = (await login(server, A, 'boss', PASSWORD, 'admin-pc')).accessToken;
}, 60_000);
afterAll(async () => { await server.close(); });

const createUser = async (username: string, password: string) => {
  const r = await fetch(`${server.url}/api/admin/users`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ username, password, role: 'dispatcher' }),
  });
  return { status: r.status, body: (await r.json()) as { error?: { code: string; message: string } } };
};

describe('a new password', () => {
  it('of 11 characters is refused with 400 INVALID_USER naming the minimum; 12 are enough', async () => {
    const short = await createUser('short-pw', 'eleven-char');
    expect(short.status).toBe(400);
    expect(short.body.error?.code).toBe('INVALID_USER');
    expect(short.body.error?.message).toContain('password must be 12 to 200 characters (got 11)');
    expect((await createUser('twelve-pw', 'twelve-chars')).status).toBe(201);
  });

  it('that is one of the commonly used passwords is refused, whatever its case', async () => {
    for (const common of ['qwerty123456', 'Password1234', '1qaz2wsx3edc']) {
      const refused = await createUser(`common-${common.length}-${common[0]}`, common);
      expect(refused.status).toBe(400);
      expect(refused.body.error?.message).toContain('one of the most commonly used passwords');
    }
  });

  it('that is the username is refused', async () => {
    const same = await createUser('dispatcher-west', 'Dispatcher-West');
    expect(same.status).toBe(400);
    expect(same.body.error?.message).toContain('must not be the username');
  });

  it('counts characters as a person does (12 accented letters are 12, not bytes or UTF-16 units)', async () => {
    expect(await passwordProblems('éàüöñçéàüöñ')).toEqual([expect.stringContaining('(got 11)')]);
    expect(await passwordProblems('éàüöñçéàüöñç')).toEqual([]);
  });
});

describe('passwords set before the policy', () => {
  it('still sign in: the policy applies when a password is set, not at sign-in', async () => {
    // A user made before the policy, with a 10-character password (the old minimum).
    await server.app.identities.createUser({
      id: randomUUID(), tenantId: A, username: 'veteran', passwordHash: await hashPassword('ten-chars!'), role: 'crew', unitId: 'M1',
      technicianId: undefined, displayName: undefined, createdAt: Date.now(),
    });
    expect((await login(server, A, 'veteran', 'ten-chars!', 'veteran-tab')).accessToken).toBeTypeOf('string');
  });
});

describe('the demo agency', () => {
  it('has passwords the policy accepts', async () => {
    for (const user of DEMO_USERS) expect({ user: user.username, problems: await passwordProblems(user.password, user.username) }).toEqual({ user: user.username, problems: [] });
  });
});
