/**
 * Documents that left this device's slice. Pulls only carry what the caller may read, so an
 * incident reassigned to another unit (or a job given to another technician) would otherwise
 * stay on the old device for good. The device asks the server which of the documents it holds
 * it may no longer read and removes them locally by feeding a deletion into the replication's
 * downstream, as if the server had sent it: RxDB writes it as the server's state, so the removal
 * is never pushed back, and the document returns with the next change that brings it back into
 * scope.
 *
 * A document with a change not yet confirmed by the server (or still waiting in the service
 * worker's queue, whoever's change it is: the queue is the device's) is left alone: its change
 * goes out, and if the server refuses it the refusal is kept and shown like any other.
 */
import { getAssumedMasterState } from 'rxdb';
import type { RxCollection } from 'rxdb';
import type { RxReplicationState } from 'rxdb/plugins/replication';
import { Subject } from 'rxjs';
import type { Checkpoint } from '../../shared/protocol/index.ts';
import { nextRevision } from '../../shared/revision.ts';
import { queuedRows, type OutboxDb } from '../queue/index.ts';
import type { PullStreamItem } from './change-stream.ts';
import type { SyncTransport } from './transport.ts';

const IDS_PER_REQUEST = 1000;

export class ScopeCheck {
  /** Deletions to hand to the replication's downstream, merged into its pull stream. */
  readonly removals$ = new Subject<PullStreamItem>();
  /** The newest server checkpoint this collection's downstream has seen. */
  private checkpoint: Checkpoint | undefined;

  constructor(private readonly options: {
    collection: RxCollection<any>;
    name: string;
    schemaVersion: number;
    transport: SyncTransport;
    /** Read at each check: the push path may change while replication runs. */
    readonly outbox?: OutboxDb | undefined;
  }) {}

  /** Called with every pulled page and streamed change, so a removal never moves the checkpoint back. */
  saw(checkpoint: Checkpoint | undefined): void {
    if (checkpoint && (!this.checkpoint || checkpoint.seq > this.checkpoint.seq)) this.checkpoint = checkpoint;
  }

  /** Removes what the device may no longer read; returns how many documents were removed. */
  async run(replication: RxReplicationState<any, any>): Promise<number> {
    const state = replication.internalReplicationState;
    if (!state || !this.checkpoint) return 0;
    const docs = await this.options.collection.find().exec();
    if (docs.length === 0) return 0;
    const assumed = await getAssumedMasterState(state, docs.map((d) => d.primary as string));
    const settled = docs.filter((d) => assumed[d.primary as string]?.docData?.['rev'] === d.get('rev'));
    const queued = this.options.outbox ? await queuedRows(this.options.outbox, this.options.name, settled.map((d) => d.primary as string)) : new Map();
    const candidates = settled.filter((d) => !queued.has(d.primary as string));
    let removed = 0;
    for (let i = 0; i < candidates.length; i += IDS_PER_REQUEST) {
      const chunk = candidates.slice(i, i + IDS_PER_REQUEST);
      const gone = new Set(await this.options.transport.outOfScope(this.options.name, this.options.schemaVersion, chunk.map((d) => d.primary as string)));
      if (gone.size === 0) continue;
      const documents = chunk.filter((d) => gone.has(d.primary as string)).map((d) => {
        const doc = d.toJSON() as Record<string, unknown>;
        // A revision of its own: the replication skips a server state equal to what it holds.
        return { ...doc, rev: nextRevision(String(doc['rev']), `scope.${Math.random().toString(36).slice(2, 8)}`), _deleted: true };
      });
      this.removals$.next({ documents: documents as never, checkpoint: this.checkpoint });
      removed += documents.length;
    }
    return removed;
  }
}
