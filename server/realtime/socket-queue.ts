import type { Socket } from 'socket.io';
import { coalesceKey, isDroppable, type LiveEvent } from './live-events.ts';
import { corkEachFlush, holdWritesThisTurn } from './turn-writes.ts';

export interface SocketQueueLimits {
  /** Engine.io packets waiting to be written before we stop writing and start queueing. */
  highWaterPackets: number;
  /** Reliable events queued for one slow socket before it is disconnected (it re-syncs on reconnect). */
  maxQueuedEvents: number;
}

/**
 * A bounded queue per socket: a slow dispatch client never makes the server buffer without
 * bound. Positions drop to the latest per subject; statuses and incidents are never dropped
 * (a socket too slow even for those is disconnected and catches up through replication).
 */
export class SocketQueue {
  private readonly latest = new Map<string, LiveEvent>();
  private readonly reliable: LiveEvent[] = [];
  dropped = 0;

  constructor(private readonly socket: Socket, private readonly limits: SocketQueueLimits) {
    socket.conn.on('drain', () => this.flush());
    corkEachFlush(socket);
  }

  push(event: LiveEvent): void {
    if (this.reliable.length === 0 && this.latest.size === 0 && !this.congested()) {
      this.emit(event);
      return;
    }
    if (isDroppable(event)) {
      const key = coalesceKey(event);
      if (this.latest.has(key)) this.dropped++;
      this.latest.set(key, event);
    } else {
      this.reliable.push(event);
      if (this.reliable.length > this.limits.maxQueuedEvents) {
        this.socket.emit('live:overflow', { reason: 'this client fell too far behind; reconnecting re-syncs it' });
        this.socket.disconnect(true);
        return;
      }
    }
    this.flush();
  }

  private congested(): boolean {
    // engine.io keeps unsent packets in writeBuffer; it is not typed as public, but it is the
    // only measure of how far behind this client's connection is.
    const buffered = (this.socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;
    return buffered >= this.limits.highWaterPackets;
  }

  private flush(): void {
    while (!this.congested() && this.reliable.length > 0) this.emit(this.reliable.shift()!);
    if (this.congested()) return;
    for (const [key, event] of this.latest) {
      if (this.congested()) return;
      this.latest.delete(key);
      this.emit(event);
    }
  }

  private emit(event: LiveEvent): void {
    // The events of one commit group (and of anything else this turn) leave in one TCP write.
    holdWritesThisTurn(this.socket);
    this.socket.emit(event.type, event.payload);
  }
}
