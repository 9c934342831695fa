import type { Server as SocketServer, Socket } from 'socket.io';
import { LIVE_NAMESPACE, type Identity } from '../../shared/protocol/index.ts';
import type { Authenticator } from '../auth/identity.ts';
import { authenticateSockets, socketSessionOf, type SocketSession } from '../auth/socket.ts';
import { AccessControl } from '../replication/access.ts';
import type { Store } from '../store/types.ts';
import { LiveDeliveryAudit, type LiveDeliveryAuditOptions } from './live-audit.ts';
import { liveEventsOf, LiveSlice, type LiveEvent } from './live-events.ts';
import { SocketQueue, type SocketQueueLimits } from './socket-queue.ts';

export interface LiveFeedOptions extends SocketQueueLimits {
  /** A unit's position goes out at most this often; every point is still stored. */
  gpsIntervalMs: number;
  /** The access rules pull enforces (the server's own); each socket sees what its identity may pull. Defaults to shared/access/rules.ts. */
  access?: AccessControl;
  /** How often PHI deliveries are written to the audit log (gathered per socket meanwhile; see LiveDeliveryAudit). */
  auditFlushMs?: number;
  log?: LiveDeliveryAuditOptions['log'];
}

interface Client { socket: Socket; slice: LiveSlice; queue: SocketQueue; session: SocketSession }

/**
 * Dispatch's live feed on socket.io namespace `/live`: unit positions and statuses, incidents,
 * ePCR progress (status only), billing and claim state, jobs — each socket gets exactly the
 * documents its identity may pull (shared/access/rules.ts, through `LiveSlice`), through a
 * bounded per-socket queue.
 */
export function attachLiveFeed(io: SocketServer, store: Store, auth: Authenticator, options: LiveFeedOptions) {
  const access = options.access ?? new AccessControl({ undeclared: 'deny' });
  const nsp = io.of(LIVE_NAMESPACE);
  const clients = new Map<string, Set<Client>>(); // by tenant
  const audit = new LiveDeliveryAudit(store, access, { flushMs: options.auditFlushMs ?? 1000, ...(options.log ? { log: options.log } : {}) });
  authenticateSockets(nsp, auth);
  nsp.on('connection', (socket) => {
    const identity = socket.data.identity as Identity;
    const client: Client = { socket, slice: new LiveSlice(access, identity), queue: new SocketQueue(socket, options), session: socketSessionOf(socket) };
    const set = clients.get(identity.tenantId) ?? new Set<Client>();
    set.add(client);
    clients.set(identity.tenantId, set);
    socket.on('disconnect', () => set.delete(client));
    socket.emit('live:ready', { role: identity.role, gpsIntervalMs: options.gpsIntervalMs });
  });

  function deliver(event: LiveEvent): void {
    const now = Date.now();
    for (const client of clients.get(event.tenantId) ?? []) {
      // Logged out or revoked: the feed stops, as the sync stream does (expiry alone does not).
      if (!client.session.stillValid(now)) {
        client.socket.disconnect(true);
        continue;
      }
      const visible = client.slice.visibleEvent(event);
      if (visible) {
        client.queue.push(visible);
        audit.delivered(client.socket.id, client.slice.identity, visible, visible !== event);
      }
    }
  }

  const stopRevocations = auth.onRevoked?.((tenantId) => {
    for (const client of clients.get(tenantId) ?? []) if (client.session.ended()) client.socket.disconnect(true);
  }) ?? (() => {});

  // Leading-edge coalescing per subject: a point goes out at once unless one went out less than
  // gpsIntervalMs ago; then only the newest point goes out when the interval ends.
  const lastSent = new Map<string, number>();
  const pendingPositions = new Map<string, LiveEvent>();
  const timers = new Map<string, NodeJS.Timeout>();
  function deliverPosition(key: string, event: LiveEvent): void {
    const now = Date.now();
    const since = now - (lastSent.get(key) ?? 0);
    if (since >= options.gpsIntervalMs && !timers.has(key)) {
      lastSent.set(key, now);
      deliver(event);
      return;
    }
    pendingPositions.set(key, event);
    if (!timers.has(key)) {
      timers.set(key, setTimeout(() => {
        timers.delete(key);
        const latest = pendingPositions.get(key);
        pendingPositions.delete(key);
        if (latest) {
          lastSent.set(key, Date.now());
          deliver(latest);
        }
      }, Math.max(0, options.gpsIntervalMs - since)));
    }
  }

  // A display, not a record: dispatch sees a change as soon as it is committed, without waiting
  // for the disk (a power cut before the sync could undo it, but then the device, not yet
  // answered, sends it again). What the console must not miss also comes through replication.
  const unsubscribe = store.onCommit((commit) => {
    if (commit.documents.length === 0 || !clients.get(commit.tenantId)?.size) return;
    for (const event of liveEventsOf(commit)) {
      if (event.type === 'unit:position') deliverPosition(`${event.tenantId}|u|${event.unitId}`, event);
      else if (event.type === 'technician:position') deliverPosition(`${event.tenantId}|t|${event.technicianId}`, event);
      else deliver(event);
    }
  }, { early: true });

  return {
    /** Sends an event that is not a document change (e.g. a hook failure) to those allowed to see it. */
    publish: deliver,
    /** Stops the feed; resolves once its last deliveries are in the audit log. */
    close(): Promise<void> {
      unsubscribe();
      stopRevocations();
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      return audit.flush();
    },
  };
}
