import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN, ApiClient, ApiError, AUTH, EPCRS, ErrorCode, matchPath, pathOf, SOCKET_BRIDGE, SOCKET_BRIDGE_SENDS, SYNC, type Endpoint, type MeResponse,
} from '../../../shared/protocol/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const ALL: Endpoint[] = [
  ...Object.values(SYNC), ...Object.values(AUTH), ...Object.values(ADMIN), ...Object.values(EPCRS),
  SOCKET_BRIDGE.health, SOCKET_BRIDGE.reconnect, ...SOCKET_BRIDGE_SENDS.map((s) => SOCKET_BRIDGE.send(s)),
];

describe('the protocol\'s paths: one list for the server\'s routes and the device\'s URLs', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer({ devTokens: true }); });
  afterAll(async () => { await server.close(); });

  it('names only routes the server has mounted, at the same method and pattern', () => {
    const missing = ALL.filter((e) => !server.app.hasRoute({ method: e.method, url: e.base + e.route }));
    expect(missing.map((e) => `${e.method} ${e.base}${e.route}`)).toEqual([]);
  });

  it('builds a call\'s path with its parameters encoded, and reads them back from a URL', () => {
    expect(pathOf(SYNC.push, { collection: 'gps_points' })).toBe('/api/sync/gps_points/push');
    expect(pathOf(ADMIN.retryDeadLetter, { id: 'a/b' })).toBe('/api/admin/dead-letters/a%2Fb/retry');
    expect(matchPath(SYNC.push, 'http://127.0.0.1:8080/api/sync/epcrs/push?schemaVersion=3&conflicts=merge')).toEqual({ collection: 'epcrs' });
    expect(matchPath(SYNC.push, '/api/sync/epcrs/pull?schemaVersion=3')).toBeUndefined();
    expect(matchPath(EPCRS.nemsisXml, '/api/epcrs/abc/nemsis.xml')).toEqual({ id: 'abc' });
    expect(matchPath(EPCRS.nemsisXml, '/api/epcrs/abc/nemsisAxml')).toBeUndefined();
  });

  it('carries the token and answers JSON through the one client; a refusal is an ApiError with the server\'s code', async () => {
    const api = new ApiClient({ serverUrl: server.url + '/', token: () => 'dev:t1:crew:tab-1:M1' });
    const me = await api.json<MeResponse>(AUTH.me);
    expect(me.identity).toMatchObject({ tenantId: 't1', role: 'crew', deviceId: 'tab-1' });

    const refused = await api.json(SYNC.pull, { params: { collection: 'epcrs' } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 400, code: ErrorCode.MISSING_SCHEMA_VERSION });

    const anonymous = await api.send(AUTH.me, { token: false });
    expect(anonymous.status).toBe(401);
  });
});
