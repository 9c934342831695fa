import type { FastifyBaseLogger } from 'fastify';
import type { Server as SocketServer, Socket } from 'socket.io';
import {
  ErrorCode, STREAM_EVENTS, STREAM_NAMESPACE, type Identity, type StreamChange, type StreamSubscribeAck, type StreamSubscribeRequest,
} from '../../shared/protocol/index.ts';
import { ACCESS_RULES } from '../../shared/access/rules.ts';
import type { Authenticator } from '../auth/identity.ts';
import { authenticateSockets, socketSessionOf } from '../auth/socket.ts';
import { HttpError } from '../http/errors.ts';
import type { Store } from '../store/types.ts';
import { AccessControl, filterOf } from './access.ts';
import { checkpointOf } from './checkpoint.ts';
import { checkSchemaVersion, resolveCollection, type CollectionRegistry } from './collections.ts';

function roomOf(tenantId: string, collection: string): string {
  return `sync|${tenantId}|${collection}`;
}

/** Relation-scoped changes sent per commit event. */
const VIA_PAGE = 500;

interface SocketState {
  identity: Identity;
  /** Serialises this socket's relation-scoped deliveries, so they keep commit order. */
  chain: Promise<void>;
}

export interface ChangeStreamOptions {
  access?: AccessControl;
  log?: FastifyBaseLogger;
}

/**
 * The live change stream that drives RxDB's `pull.stream$`. Each committed batch goes, in commit
 * order, to the sockets of its tenant that subscribed to its collection, filtered and projected
 * per socket by the same access rules as pull (shared/access/rules.ts). Clients emit RESYNC to
 * themselves after every (re)subscription, which covers anything sent while they were away.
 *
 * The handshake authenticates with the same tokens as HTTP. A connection then lives while its
 * session does: a logout or revocation disconnects it at once, and every delivery re-checks the
 * session at least every few seconds. (An access token that merely expires does not end an open
 * connection: the socket.io client would not reconnect after a server-side disconnect.)
 */
export function attachChangeStream(io: SocketServer, registry: CollectionRegistry, store: Store, auth: Authenticator, options: ChangeStreamOptions = {}): () => void {
  const access = options.access ?? new AccessControl({ undeclared: 'deny' });
  const nsp = io.of(STREAM_NAMESPACE);
  authenticateSockets(nsp, auth);
  nsp.on('connection', (socket: Socket) => {
    socket.data.state = { identity: socketSessionOf(socket).identity, chain: Promise.resolve() } satisfies SocketState;
    socket.on(STREAM_EVENTS.subscribe, (request: StreamSubscribeRequest, ack?: (answer: StreamSubscribeAck) => void) => {
      const answer = subscribe(socket, request);
      if (typeof ack === 'function') ack(answer);
    });
  });

  function subscribe(socket: Socket, request: StreamSubscribeRequest): StreamSubscribeAck {
    const identity = socket.data.identity as Identity;
    try {
      if (typeof request !== 'object' || request === null || typeof request.collections !== 'object' || request.collections === null) {
        throw new HttpError(400, ErrorCode.BAD_SUBSCRIBE, 'subscribe takes { collections: { <name>: <schemaVersion> } }');
      }
      const names = Object.keys(request.collections);
      for (const name of names) checkSchemaVersion(resolveCollection(registry, name), String(request.collections[name]));
      const allowed = names.filter((name) => access.readPlan(identity, name).kind !== 'none');
      const refused = names.filter((name) => !allowed.includes(name));
      for (const name of allowed) void socket.join(roomOf(identity.tenantId, name));
      const error = refused.length > 0
        ? { code: ErrorCode.FORBIDDEN_COLLECTION, message: `Your role (${identity.role}) has no access to ${refused.join(', ')}; not subscribed to ${refused.length > 1 ? 'them' : 'it'}.` }
        : undefined;
      if (allowed.length === 0 && refused.length > 0) return { ok: false, subscribed: [], error: error! };
      return { ok: true, subscribed: allowed, ...(error ? { error } : {}) };
    } catch (error) {
      if (error instanceof HttpError) return { ok: false, subscribed: [], error: { code: error.code, message: error.message } };
      throw error;
    }
  }

  /** Whether the socket may still receive data; a socket whose session ended is disconnected. */
  function live(socket: Socket, now: number): boolean {
    if (!socket.data.state) return false;
    if (socketSessionOf(socket).stillValid(now)) return true;
    socket.disconnect(true);
    return false;
  }

  const stopRevocations = auth.onRevoked?.((tenantId) => {
    for (const socket of nsp.sockets.values()) {
      const session = socket.data.session ? socketSessionOf(socket) : undefined;
      if (session && session.identity.tenantId === tenantId && session.ended()) socket.disconnect(true);
    }
  }) ?? (() => {});

  /** Collections whose visibility a commit to `collection` can change through a relation (jobs → tickets). */
  const viaTargets = new Map<string, Set<string>>();
  for (const [target, rules] of Object.entries(ACCESS_RULES)) {
    for (const rule of Object.values(rules.read)) {
      if (rule?.scope.kind !== 'via') continue;
      for (const source of [rule.scope.collection, target]) {
        const set = viaTargets.get(source) ?? new Set<string>();
        set.add(target);
        viaTargets.set(source, set);
      }
    }
  }

  function audit(identity: Identity, collection: string, ids: string[], projected: boolean): void {
    access.auditRead(store, identity, collection, ids, 'stream', projected).catch((error: unknown) => {
      options.log?.error({ err: error, collection }, 'could not audit a stream read');
    });
  }

  const unsubscribe = store.onCommit((event) => {
    const first = event.documents[0];
    const last = event.documents[event.documents.length - 1];
    if (!first || !last) return;
    const now = Date.now();
    const room = nsp.adapter.rooms.get(roomOf(event.tenantId, event.collection));
    if (room?.size) {
      // Parsed once per commit (unless the store gave the objects), and only when someone listens.
      const documents: Record<string, unknown>[] = event.objects ? [...event.objects] : event.documents.map((d) => JSON.parse(d.json) as Record<string, unknown>);
      const groups = new Map<string, { identity: Identity; sockets: Socket[] }>();
      for (const id of room) {
        const socket = nsp.sockets.get(id);
        if (!socket || !live(socket, now)) continue;
        const identity = socket.data.identity as Identity;
        const key = `${identity.role}|${identity.unitId ?? ''}|${identity.technicianId ?? ''}`;
        const group = groups.get(key) ?? { identity, sockets: [] };
        group.sockets.push(socket);
        groups.set(key, group);
      }
      for (const { identity, sockets } of groups.values()) {
        const plan = access.readPlan(identity, event.collection);
        if (plan.kind === 'none' || (plan.kind === 'filter' && plan.scope.kind === 'via')) continue;
        const visible = plan.kind === 'all' && !plan.project
          ? documents
          : documents.map((doc) => access.visibleForm(identity, event.collection, doc, plan)).filter((doc): doc is Record<string, unknown> => doc !== undefined);
        if (visible.length === 0) continue;
        const projected = plan.project !== undefined;
        if (access.isPhi(event.collection)) {
          const ids = visible.map((d) => String(d['id']));
          for (const socket of sockets) audit(socket.data.identity as Identity, event.collection, ids, projected);
        }
        const change: StreamChange = { collection: event.collection, documents: visible, checkpoint: checkpointOf(last.seq) };
        nsp.to(sockets.map((s) => s.id)).emit(STREAM_EVENTS.change, change);
      }
    }

    // Relation scopes (a technician's tickets): re-run the scoped pull from just before this commit.
    for (const target of viaTargets.get(event.collection) ?? []) {
      const targetRoom = nsp.adapter.rooms.get(roomOf(event.tenantId, target));
      if (!targetRoom?.size) continue;
      for (const id of targetRoom) {
        const socket = nsp.sockets.get(id);
        if (!socket || !live(socket, now)) continue;
        const state = socket.data.state as SocketState;
        const plan = access.readPlan(state.identity, target);
        if (plan.kind !== 'filter' || plan.scope.kind !== 'via') continue;
        const filter = filterOf(plan.scope);
        state.chain = state.chain.then(async () => {
          const page = await store.pullScoped({ collection: target, tenantId: event.tenantId, afterSeq: first.seq - 1, limit: VIA_PAGE, filter });
          const lastDoc = page.documents[page.documents.length - 1];
          if (!lastDoc || !socket.connected) return;
          const documents = page.documents.map((d) => JSON.parse(d.json) as Record<string, unknown>);
          if (access.isPhi(target)) audit(state.identity, target, page.documents.map((d) => d.id), false);
          socket.emit(STREAM_EVENTS.change, { collection: target, documents, checkpoint: checkpointOf(lastDoc.seq) } satisfies StreamChange);
        }).catch((error: unknown) => {
          options.log?.error({ err: error, collection: target }, 'relation-scoped stream delivery failed');
        });
      }
    }
  });

  return () => {
    unsubscribe();
    stopRevocations();
  };
}
