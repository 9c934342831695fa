import { actorOf } from '../auth/actor.ts';
import type { AccessControl } from '../replication/access.ts';
import type { AuditEntryInput, Store } from '../store/types.ts';
import type { Identity } from '../../shared/protocol/index.ts';
import type { LiveEvent } from './live-events.ts';

/** One socket's PHI deliveries since the last flush. */
interface Pending {
  identity: Identity;
  /** Document ids by collection, and whether the socket got them cut to a projection. */
  byCollection: Map<string, { ids: Set<string>; projected: boolean }>;
}

export interface LiveDeliveryAuditOptions {
  /** Deliveries are gathered and written this often: one audit entry per socket and collection per flush. */
  flushMs: number;
  log?: { error(obj: object, msg: string): void };
}

/**
 * Audits what the live feed hands each socket from collections whose reads are audited
 * (shared/access/rules.ts `phi`: incidents' address and complaint, ePCR progress, billing and
 * claim state), the way pull and the sync stream audit theirs. Gathered per socket and written
 * once per flush in one append, not per event: a busy console costs one entry per collection
 * every `flushMs`. Positions (GPS) are not PHI and never recorded. What the queue had accepted
 * counts as delivered (a socket too slow for it is disconnected and re-syncs by pull, which is
 * audited again).
 */
export class LiveDeliveryAudit {
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly store: Store, private readonly access: AccessControl, private readonly options: LiveDeliveryAuditOptions) {}

  /** `event` (as this socket got it, `projected` if cut to its projection) was handed to socket `socketId`. */
  delivered(socketId: string, identity: Identity, event: LiveEvent, projected: boolean): void {
    if (!('source' in event) || !this.access.isPhi(event.source.collection)) return;
    let pending = this.pending.get(socketId);
    if (!pending) this.pending.set(socketId, pending = { identity, byCollection: new Map() });
    const collection = event.source.collection;
    let set = pending.byCollection.get(collection);
    if (!set) pending.byCollection.set(collection, set = { ids: new Set(), projected });
    set.ids.add(String(event.source.doc['id']));
    this.timer ??= setTimeout(() => { void this.flush(); }, this.options.flushMs);
  }

  /** Writes what was gathered (also at shutdown, before the store closes). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return this.writing;
    const entries: AuditEntryInput[] = [];
    for (const { identity, byCollection } of this.pending.values()) {
      for (const [collection, { ids, projected }] of byCollection) {
        entries.push({
          tenantId: identity.tenantId, action: 'read', actor: actorOf(identity), collection,
          documents: [...ids].map((id) => ({ id })), details: { via: 'live', ...(projected ? { projected: true } : {}) },
        });
      }
    }
    this.pending.clear();
    this.writing = this.writing.then(() => this.store.appendAudit(entries)).catch((error: unknown) => {
      this.options.log?.error({ err: error, entries: entries.length }, 'could not audit live feed deliveries');
    });
    return this.writing;
  }
}
