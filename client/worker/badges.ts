/**
 * Per-document sync badges: what the server is known to hold of each document (from RxDB's
 * replication meta, computed by the syncing tab and announced to the others), the refusals heard
 * of, and the outbound queue's view (outbox-view.ts). A badge says "synced" only when the server
 * holds exactly this revision and nothing of it waits anywhere on the device.
 */
import { getAssumedMasterState, type RxCollection } from 'rxdb';
import type { RxReplicationState } from 'rxdb/plugins/replication';
import { BehaviorSubject, combineLatest, type Observable, type Subscription } from 'rxjs';
import { openConflicts } from '../../shared/merge/conflicts.ts';
import type { ChannelMessage, DocBadge, DocView, JsonDoc, Rejection } from './api.ts';
import type { OutboxWatch } from './outbox-view.ts';

type MastersMessage = Extract<ChannelMessage, { type: 'masters' }>;

export class Badges {
  /** Bumped whenever any badge may have changed: every watched query is shown again. */
  readonly version$ = new BehaviorSubject(0);
  /** Per badge collection: document id → the revision the server is known to hold (null: none). */
  private readonly masters = new Map<string, Map<string, string | null>>();
  private readonly mastersKnown = new Set<string>();
  private readonly rejections = new Map<string, Rejection>();
  /** Announcements from the syncing tab, applied in the order they came. */
  private mastersInbox: Promise<void> = Promise.resolve();

  /**
   * `tabId`: this tab, as its announcements name it; `post`: tells the other tabs of this
   * database; `changed`: the refusals changed (the status lists them).
   */
  constructor(
    private readonly outbox: OutboxWatch, private readonly tabId: string,
    private readonly post: (message: ChannelMessage) => void, private readonly changed: () => void,
  ) {}

  bump(): void {
    this.version$.next(this.version$.value + 1);
  }

  /** The refusals heard of, for the status. */
  rejectionList(): Rejection[] {
    return [...this.rejections.values()];
  }

  /** The server's known revision of every document of `name`, from RxDB's replication meta (the syncing tab). */
  async recompute(name: string, collection: RxCollection, replication: RxReplicationState<any, any>): Promise<void> {
    const state = replication.internalReplicationState;
    if (!state) return;
    // A push just handed to the queue makes RxDB assume the server has it: the queue's ids must be
    // known first, or the badge would say "synced" for a moment.
    await this.outbox.idle();
    const docs = await collection.find().exec();
    const ids = docs.map((d) => d.primary as string);
    const assumed = ids.length > 0 ? await getAssumedMasterState(state as never, ids) : {};
    const next = new Map<string, string | null>();
    for (const id of ids) {
      const master = assumed[id]?.docData as { rev?: string; _deleted?: boolean } | undefined;
      next.set(id, master && !master._deleted ? (master.rev ?? null) : null);
    }
    const previous = this.masters.get(name);
    const entries: [string, string | null][] = [];
    for (const [id, rev] of next) if (previous?.get(id) !== rev) entries.push([id, rev]);
    const firstTime = !this.mastersKnown.has(name);
    this.masters.set(name, next);
    this.mastersKnown.add(name);
    if (entries.length > 0 || firstTime) {
      this.bump();
      this.post({ type: 'masters', from: this.tabId, collection: name, full: firstTime, entries: firstTime ? [...next] : entries });
    }
  }

  /** Tells the other tabs every known revision of `name` (a tab opened, or this one was elected). */
  broadcast(name: string, full: boolean): void {
    const map = this.masters.get(name);
    if (!map || !this.mastersKnown.has(name)) return;
    this.post({ type: 'masters', from: this.tabId, collection: name, full, entries: [...map] });
  }

  /** A following tab hears of revisions from the syncing tab. */
  receive(message: MastersMessage): void {
    // The syncing tab queued the change before it announced the new revision: read the queue
    // first, so this tab's badge does not say "synced" for a document that still waits there.
    // (Chained, so announcements apply in the order they came.)
    this.mastersInbox = this.mastersInbox.then(() => this.outbox.refreshNow().catch(() => {})).then(() => {
      const map = message.full ? new Map<string, string | null>() : (this.masters.get(message.collection) ?? new Map<string, string | null>());
      for (const [id, rev] of message.entries) map.set(id, rev);
      this.masters.set(message.collection, map);
      if (message.full) this.mastersKnown.add(message.collection);
      this.bump();
    });
  }

  addRejection(rejection: Rejection, announce: boolean): void {
    const key = `${rejection.collection}|${rejection.id}`;
    const known = this.rejections.get(key);
    if (known && known.rev === rejection.rev && known.reason === rejection.reason) return;
    this.rejections.set(key, rejection);
    this.bump();
    this.changed();
    if (announce) this.post({ type: 'rejected', rejection });
  }

  clearRejection(collection: string, id: string): void {
    if (this.rejections.delete(`${collection}|${id}`)) {
      this.bump();
      this.changed();
    }
  }

  /**
   * "Saved on device" while the service worker's queue or RxDB still holds the document; "refused"
   * while the queue set this very revision aside; "synced" only when the server holds this revision.
   */
  badgeOf(collection: string, doc: JsonDoc): DocBadge {
    const rev = String(doc['rev'] ?? '');
    const id = String(doc['id']);
    if (this.outbox.ids.get(collection)?.has(id)) {
      const attachments = this.outbox.attachmentsByDoc.get(`${collection}|${id}`);
      return { state: 'pending', ...(attachments ? { attachmentsWaiting: attachments } : {}) };
    }
    const refused = this.outbox.rejectedByDoc.get(`${collection}|${id}`);
    if (refused && refused.rev === rev) return { state: 'rejected', reason: refused.reason, code: refused.code };
    const rejection = this.rejections.get(`${collection}|${String(doc['id'])}`);
    const known = this.mastersKnown.has(collection);
    const master = this.masters.get(collection)?.get(String(doc['id']));
    if (known && master === rev) {
      // Fields still waiting for a person's choice (resolved conflicts stay in the history).
      const conflicts = new Set(openConflicts(doc).map((c) => c.path)).size;
      // A merge in which no value lost (two people edited different fields) is not a conflict to them.
      if (conflicts > 0) return { state: 'conflict', conflicts };
      return { state: 'synced' };
    }
    if (rejection && (!rejection.rev || rejection.rev === rev)) return { state: 'rejected', reason: rejection.reason, code: rejection.code };
    if (!known) return { state: 'unknown' };
    return { state: 'pending' };
  }

  /** Documents with their badges, shown again whenever either changes. */
  watch(collection: string, docs$: Observable<{ toJSON(): unknown }[]>, callback: (views: DocView[]) => void): Subscription {
    let last: { docs: unknown; badges: string } | undefined;
    return combineLatest([docs$, this.version$]).subscribe(([docs]) => {
      const views = docs.map((d) => {
        const doc = d.toJSON() as JsonDoc;
        return { doc, badge: this.badgeOf(collection, doc) };
      });
      // A bump says some badge may have changed, of any document: during a first sync every pulled
      // batch bumps. Shown again only when these documents or their badges changed: re-sending
      // the same view made the page re-render an open form (hundreds of milliseconds on a busy
      // tablet) per batch while the crew typed.
      const badges = JSON.stringify(views.map((v) => v.badge));
      if (last && last.docs === docs && last.badges === badges) return;
      last = { docs, badges };
      void callback(views);
    });
  }
}
