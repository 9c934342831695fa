/**
 * Shared by the sealed-queue tests: a real sign-in (which hands out the device's transport key),
 * the protection a user's database worker seals with, and the server's stored copy of a report.
 */
import { expect } from 'vitest';
import { QueueKey, type QueueProtection, type RawTransportKey } from '../../client/sync/queue-seal.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import type { TestServer } from '../helpers/server.ts';

export const PASSWORD = 'correct horse battery staple';

export interface SignedIn { accessToken: string; refreshToken: string; userId: string; deviceId: string; transportKey: RawTransportKey }

export async function signIn(server: TestServer, tenantId: string, username: string, deviceId: string): Promise<SignedIn> {
  const response = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId, username, password: PASSWORD, deviceId }),
  });
  expect(response.status).toBe(200);
  const body = await response.json() as { accessToken: string; refreshToken: string; user: { userId: string }; transportKey: RawTransportKey };
  return { accessToken: body.accessToken, refreshToken: body.refreshToken, userId: body.user.userId, deviceId, transportKey: body.transportKey };
}

export const sealedWith = async (who: SignedIn | RawTransportKey): Promise<QueueProtection> =>
  ({ kind: 'sealed', key: await QueueKey.import('transportKey' in who ? who.transportKey : who) });

export async function serverEpcr(server: TestServer, tenantId: string, id: string): Promise<Epcr | undefined> {
  const [row] = await server.app.store.getDocuments('epcrs', tenantId, [id]);
  return row ? JSON.parse(row.json) as Epcr : undefined;
}
