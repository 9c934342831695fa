import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { SOCKET_LIMIT_EVENT, STREAM_EVENTS, STREAM_NAMESPACE, type Role, type SocketLimitNotice, type StreamSubscribeAck } from '../../../shared/protocol/index.ts';
import { epcrSchema } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const TENANT = 'agency-a';
const LIMIT = 50;
let server: TestServer;
const sockets: Socket[] = [];

beforeAll(async () => { server = await startTestServer({ clientDir: false, socketMessageLimit: LIMIT, socketMessageWindowMs: 60_000 }); });
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await server.close();
});

function connect(namespace: string, deviceId: string, role: Role = 'crew'): Promise<Socket> {
  const socket = io(`${server.url}${namespace}`, {
    transports: ['websocket'], reconnection: false, auth: { token: devToken({ tenantId: TENANT, role, deviceId, subject: 'M1' }) },
  });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

const subscribeRequest = { collections: { epcrs: epcrSchema.version } };
function subscribe(socket: Socket): Promise<StreamSubscribeAck> {
  return socket.timeout(10_000).emitWithAck(STREAM_EVENTS.subscribe, subscribeRequest) as Promise<StreamSubscribeAck>;
}

describe('per-socket message limits on socket.io', () => {
  it('a socket flooding /sync with 20,000 messages is told it is over the limit and disconnected; another socket and /health are served', async () => {
    const flooder = await connect(STREAM_NAMESPACE, 'tablet-flood');
    const neighbour = await connect(STREAM_NAMESPACE, 'tablet-calm');
    const notices: SocketLimitNotice[] = [];
    flooder.on(SOCKET_LIMIT_EVENT, (notice: SocketLimitNotice) => notices.push(notice));
    let disconnectReason = '';
    flooder.on('disconnect', (reason) => { disconnectReason = reason; });

    for (let i = 0; i < 20_000; i++) flooder.emit(STREAM_EVENTS.subscribe, subscribeRequest);
    await eventually('the flooding socket is disconnected by the server', async () => disconnectReason !== '');
    expect(disconnectReason).toBe('io server disconnect');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ code: 'RATE_LIMITED', limit: LIMIT, windowMs: 60_000 });
    expect(notices[0]!.message).toMatch(/more than 50 messages/);

    // The neighbour on the same namespace is untouched and still answered.
    expect(neighbour.connected).toBe(true);
    expect((await subscribe(neighbour)).ok).toBe(true);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('the limit holds on the /live feed too, and a client within it never hears of it', async () => {
    const calm = await connect('/live', 'console-calm', 'dispatcher');
    const noisy = await connect('/live', 'console-noisy', 'dispatcher');
    const heard: string[] = [];
    calm.onAny((event: string) => heard.push(event));
    let noisyReason = '';
    noisy.on('disconnect', (reason) => { noisyReason = reason; });
    for (let i = 0; i < LIMIT; i++) calm.emit('anything', i);
    for (let i = 0; i < LIMIT * 3; i++) noisy.emit('anything', i);
    await eventually('the noisy socket is disconnected', async () => noisyReason !== '');
    expect(noisyReason).toBe('io server disconnect');
    expect(calm.connected).toBe(true);
    expect(heard).not.toContain(SOCKET_LIMIT_EVENT);
  });
});
