import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import { io, type Socket } from 'socket.io-client';
import type { OutboxEntry, Store } from '../../store/types.ts';
import type { CadGateway, CadNotice } from '../types.ts';
import { CAD_INBOUND_EVENTS, type CadInboundEvent } from './events.ts';
import type { CadInbound } from './inbound.ts';

export interface CadBridgeOptions {
  url: string;
  /** CAD_BACKEND_AUTH_TOKEN; CAD is sent an empty token when none is configured. */
  authToken: string | undefined;
  tenantId: string;
  store: Store;
  inbound: CadInbound;
  log: FastifyBaseLogger;
  /** First reconnection delay; grows exponentially with jitter up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long CAD has to acknowledge an outbound event before it is sent again. */
  ackTimeoutMs?: number;
  /**
   * How long this process stays the agency's sender after its last check (ms): of several
   * processes on one database only the holder of the lease `cad-bridge:<tenant>` sends, and it
   * re-checks (renews) the lease before each event. Another process takes over this long after
   * the leader died.
   */
  leaderLeaseMs?: number;
  /** CAD_GPS_COALESCE_MS: how long a unit's positions wait to be coalesced (0: each is sent). */
  gpsCoalesceMs?: number;
}

export interface CadBridgeHealth {
  connected: boolean;
  state: 'connected' | 'connecting' | 'degraded' | 'stopped';
  cad_url: string;
  connection_attempts: number;
  event_handlers_registered: number;
  last_event_at: string | null;
  queued_outbound: number;
  last_error: string | null;
  metrics: Record<string, unknown> | null;
}

/**
 * The wait before reconnection attempt `attempt` (1-based): exponential from `baseMs`, capped at
 * `maxMs`, with jitter in the upper half so a fleet of bridges does not retry in step.
 */
export function reconnectDelayMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
  return delay / 2 + random() * (delay / 2);
}

/** An explicit "no" from CAD, as opposed to no answer at all. */
class CadRefusal extends Error {}

/** Explicit refusals of one event before it is set aside as a dead letter. */
const MAX_REFUSALS = 10;

/** See `CadBridgeOptions.leaderLeaseMs`. */
const DEFAULT_LEADER_LEASE_MS = 15_000;

/** Outbound entries read per round: enough that positions held for coalescing do not hide the statuses queued behind them. */
const DRAIN_PAGE = 500;

/** After this many failed attempts in a row the bridge reports itself degraded (it keeps trying). */
const DEGRADED_AFTER_ATTEMPTS = 10;

/**
 * The bridge to the field's CAD backend over socket.io, both ways. Inbound events become data;
 * outbound events wait in the store's CAD queue and are delivered one at a time, in order, each
 * until CAD acknowledges it (the event id lets CAD drop a duplicate after a lost ack).
 */
export class CadBridge implements CadGateway {
  private socket: Socket | undefined;
  private attempts = 0;
  private lastEventAt: Date | null = null;
  private lastError: string | null = null;
  private metrics: Record<string, unknown> | null = null;
  private draining = false;
  private drainAgain = false;
  /**
   * This bridge's name in the leader lease: host and process id first, so an operator (or a test)
   * reading the `leases` row knows which process is the agency's sender.
   */
  private readonly holder = `${hostname()}/${process.pid}/${randomUUID()}`;
  private leaderRetry: NodeJS.Timeout | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** A drain scheduled for when the oldest held position's window ends. */
  private coalesceTimer: NodeJS.Timeout | undefined;
  /** Positions completed unsent because a newer one of their unit went instead (metrics, tests). */
  coalescedPositions = 0;

  constructor(private readonly options: CadBridgeOptions) {}

  /** The one agency this CAD speaks for. */
  get tenantId(): string {
    return this.options.tenantId;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  private connect(): void {
    const socket = io(this.options.url, {
      auth: { token: this.options.authToken ?? '' },
      transports: ['websocket'],
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: this.options.baseDelayMs ?? 500,
      reconnectionDelayMax: this.options.maxDelayMs ?? 30_000,
      randomizationFactor: 0.5,
      timeout: 10_000,
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.attempts = 0;
      this.lastError = null;
      this.options.log.info({ url: this.options.url }, 'CAD bridge connected');
      this.kick();
    });
    socket.on('connect_error', (error) => {
      this.lastError = error.message;
      // socket.io retries network failures itself; a refusal by CAD's middleware it does not.
      // While socket.io retries by itself, `reconnect_attempt` counts the attempts.
      if (!socket.active) this.retryLater(socket);
      this.options.log.warn({ attempts: this.attempts, err: error.message }, 'CAD bridge could not connect');
    });
    // While reconnecting, failures are reported by the manager, not the socket.
    socket.io.on('reconnect_attempt', () => {
      this.attempts++;
    });
    socket.io.on('reconnect_error', (error) => {
      this.lastError = error.message;
    });
    socket.on('disconnect', (reason) => {
      this.lastError = `disconnected: ${reason}`;
      // A server that closed the connection itself (e.g. CAD shutting down) is not retried by
      // socket.io; the bridge never gives up, so it retries on its own schedule.
      if (reason === 'io server disconnect') this.retryLater(socket);
      this.options.log.warn({ reason }, 'CAD bridge disconnected');
    });
    for (const event of CAD_INBOUND_EVENTS) {
      socket.on(event, (payload: unknown, ack?: (answer: unknown) => void) => {
        void this.receive(event, payload, ack);
      });
    }
  }

  /** Exponential backoff with jitter, capped; keeps going at the cap for as long as it takes. */
  private retryLater(socket: Socket): void {
    if (this.stopped) return;
    this.attempts++;
    const delay = reconnectDelayMs(this.attempts, this.options.baseDelayMs ?? 500, this.options.maxDelayMs ?? 30_000);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped && !socket.connected) socket.connect();
    }, delay);
  }

  private async receive(event: CadInboundEvent, payload: unknown, ack?: (answer: unknown) => void): Promise<void> {
    this.lastEventAt = new Date();
    try {
      const data = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
      if (event === 'metrics:updated') this.metrics = data;
      await this.options.inbound.apply(event, data);
      ack?.({ ok: true });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.options.log.warn({ event, err: message }, 'CAD event not applied');
      ack?.({ ok: false, error: message });
    }
  }

  /** Sends what waits in the CAD queue, if connected; called after commits and on connect. */
  kick(): void {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    void this.drain().finally(() => {
      this.draining = false;
      if (this.drainAgain) {
        this.drainAgain = false;
        this.kick();
      }
    });
  }

  private async drain(): Promise<void> {
    const socket = this.socket;
    while (socket?.connected && !this.stopped) {
      // This agency's events only: the CAD queue holds every agency's, and a CAD speaks for one.
      const pending = await this.options.store.dueOutbox(Number.MAX_SAFE_INTEGER, DRAIN_PAGE, 'cad', this.options.tenantId);
      const { due, superseded, heldUntil } = this.coalesce(pending, Date.now());
      if (superseded.length > 0) {
        if (!(await this.leading())) return;
        // Older positions of a unit whose newer one is sent: done without being sent.
        for (const entry of superseded) await this.options.store.completeOutbox(entry.id);
        this.coalescedPositions += superseded.length;
      }
      if (heldUntil !== undefined) this.wakeAt(heldUntil);
      if (due.length === 0) return;
      for (const entry of due) {
        // Only the agency's leader sends, and it checks it still is before every event, so two
        // processes never interleave one agency's events.
        if (!(await this.leading())) return;
        try {
          // Every event names its agency, so a CAD can check it is its own.
          const answer = await socket.timeout(this.options.ackTimeoutMs ?? 5000).emitWithAck(entry.kind, { eventId: entry.key, ...(entry.payload as object), tenantId: entry.tenantId });
          if (answer && typeof answer === 'object' && (answer as { ok?: unknown }).ok === false) {
            throw new CadRefusal(`CAD refused ${entry.kind}: ${String((answer as { error?: unknown }).error ?? 'no reason given')}`);
          }
          await this.options.store.completeOutbox(entry.id);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (error instanceof CadRefusal && entry.attempts + 1 >= MAX_REFUSALS) {
            // CAD keeps saying no to this one event: set it aside for an admin rather than let it
            // hold back every event behind it.
            await this.options.store.deadLetterOutbox(entry.id, message);
            this.options.log.error({ event: entry.kind, eventId: entry.key, err: message }, 'CAD refused an event repeatedly; kept as a dead letter');
            continue;
          }
          // Strict order: stop here and resend this same entry after a pause or a reconnect.
          await this.options.store.retryOutboxLater(entry.id, entry.nextAttemptAt, message);
          this.lastError = message;
          if (!this.stopped) setTimeout(() => this.kick(), 1000).unref();
          return;
        }
      }
    }
  }

  /**
   * GPS positions coalesced per unit: a unit's positions wait until the oldest of them has waited
   * `gpsCoalesceMs`; then only the newest is sent and the older ones are `superseded`. Positions
   * still waiting are left out of `due` (statuses and incident events behind them are not held
   * back: they are never coalesced, and keep their order among themselves). `heldUntil`: when the
   * first waiting window ends.
   */
  private coalesce(pending: OutboxEntry[], now: number): { due: OutboxEntry[]; superseded: OutboxEntry[]; heldUntil: number | undefined } {
    const windowMs = this.options.gpsCoalesceMs ?? 0;
    if (windowMs <= 0) return { due: pending, superseded: [], heldUntil: undefined };
    const byUnit = new Map<string, OutboxEntry[]>();
    for (const entry of pending) {
      if (entry.kind !== 'unit:location') continue;
      const unit = String((entry.payload as { unitId?: unknown }).unitId);
      byUnit.set(unit, [...(byUnit.get(unit) ?? []), entry]);
    }
    const skip = new Set<number>();
    const superseded: OutboxEntry[] = [];
    let heldUntil: number | undefined;
    for (const positions of byUnit.values()) {
      const windowEnds = positions[0]!.createdAt + windowMs;
      if (windowEnds > now) {
        for (const p of positions) skip.add(p.id);
        heldUntil = Math.min(heldUntil ?? windowEnds, windowEnds);
        continue;
      }
      // The newest (last in commit order) goes; the rest are done unsent.
      for (const p of positions.slice(0, -1)) {
        skip.add(p.id);
        superseded.push(p);
      }
    }
    return { due: pending.filter((e) => !skip.has(e.id)), superseded, heldUntil };
  }

  private wakeAt(at: number): void {
    if (this.coalesceTimer || this.stopped) return;
    this.coalesceTimer = setTimeout(() => {
      this.coalesceTimer = undefined;
      this.kick();
    }, Math.max(10, at - Date.now()));
    this.coalesceTimer.unref();
  }

  /** Whether this process is (still) the agency's sender; a process that is not looks again after a while. */
  private async leading(): Promise<boolean> {
    const leaseMs = this.options.leaderLeaseMs ?? DEFAULT_LEADER_LEASE_MS;
    if (await this.options.store.acquireLease(`cad-bridge:${this.options.tenantId}`, this.holder, leaseMs)) return true;
    if (!this.leaderRetry && !this.stopped) {
      this.leaderRetry = setTimeout(() => {
        this.leaderRetry = undefined;
        this.kick();
      }, Math.max(500, leaseMs / 3));
      this.leaderRetry.unref();
    }
    return false;
  }

  async send(notice: CadNotice): Promise<void> {
    if (notice.tenantId !== this.options.tenantId) {
      // A CAD speaks for one agency; another agency's notice is never queued for it (issue 17:
      // another agency's epcr:finalized reached the demo agency's CAD). CadBridges routes them.
      throw new Error(`the CAD bridge of agency ${this.options.tenantId} was given a notice of agency ${notice.tenantId}; nothing was queued`);
    }
    await this.options.store.enqueueOutbox([{
      queue: 'cad', key: notice.idempotencyKey.startsWith('cad:') ? notice.idempotencyKey : `cad:${notice.idempotencyKey}`, kind: notice.event, tenantId: notice.tenantId,
      payload: notice.payload, causationId: notice.idempotencyKey,
    }]);
    this.kick();
  }

  reconnect(): void {
    this.socket?.disconnect();
    this.attempts = 0;
    this.socket?.connect();
  }

  async health(): Promise<CadBridgeHealth> {
    const stats = await this.options.store.outboxStats(Date.now(), 'cad', this.options.tenantId);
    const connected = this.socket?.connected ?? false;
    return {
      connected,
      state: this.stopped ? 'stopped' : connected ? 'connected' : this.attempts >= DEGRADED_AFTER_ATTEMPTS ? 'degraded' : 'connecting',
      cad_url: this.options.url,
      connection_attempts: this.attempts,
      event_handlers_registered: this.socket ? CAD_INBOUND_EVENTS.filter((e) => this.socket!.listeners(e).length > 0).length : 0,
      last_event_at: this.lastEventAt?.toISOString() ?? null,
      queued_outbound: stats.depth,
      last_error: this.lastError,
      metrics: this.metrics,
    };
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.leaderRetry);
    clearTimeout(this.coalesceTimer);
    this.socket?.close();
    // A process shutting down hands the agency over at once (a killed one, when its lease ends).
    this.options.store.releaseLease(`cad-bridge:${this.options.tenantId}`, this.holder).catch(() => undefined);
  }
}

/**
 * The CAD gateway of every agency: each notice goes to the bridge of its own agency, and a
 * notice of an agency without a CAD goes nowhere (there is nobody to notify). With no CAD
 * configured at all, every notice goes nowhere.
 */
export class CadBridges implements CadGateway {
  private readonly byTenant: ReadonlyMap<string, CadBridge>;

  constructor(bridges: readonly CadBridge[]) {
    this.byTenant = new Map(bridges.map((b) => [b.tenantId, b]));
  }

  /** The bridge of an agency's CAD, if it has one. */
  of(tenantId: string): CadBridge | undefined {
    return this.byTenant.get(tenantId);
  }

  get all(): CadBridge[] {
    return [...this.byTenant.values()];
  }

  async send(notice: CadNotice): Promise<void> {
    await this.byTenant.get(notice.tenantId)?.send(notice);
  }
}
