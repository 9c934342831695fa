import type { FastifyInstance, FastifyRequest } from 'fastify';
import { nounOf, sealedOnDevice, type ReferenceContext, type WriteVerdict } from '../../shared/access/policy.ts';
import type { CollectionAccess } from '../../shared/access/rules.ts';
import {
  ErrorCode, NoticeCode, RefusalCode, REJECTIONS_HEADER, REJECTIONS_TOTAL_HEADER, SYNC, type RejectionNotice,
} from '../../shared/protocol/index.ts';
import { SCHEMA_VERSION_PARAM, type Identity } from '../../shared/protocol/index.ts';
import { isRevision, mergedRevision } from '../../shared/revision.ts';
import { isSameRevision } from '../../shared/merge/index.ts';
import { HttpError } from '../http/errors.ts';
import { revOf } from '../store/audit-chain.ts';
import type { Actor, StoredDocument, Store, WireDocument, WriteDecision, WriteRequest } from '../store/types.ts';
import { actorOf } from '../auth/actor.ts';
import type { AccessControl } from './access.ts';
import { checkSchemaVersion, describeSchemaErrors, migratePushRows, resolveCollection, type CollectionRegistry, type CollectionSpec } from './collections.ts';
import { mergeOnServer, revisionOutcome } from './conflicts.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { pushSchema } from './route-schemas.ts';
import { rejectionRecord } from './rejection-record.ts';
import { declaredRejection, firstOpinion, type PolicyWrite, type WritePolicy, type WriteRejection } from './write-policy.ts';

export const MAX_PUSH_ROWS = 10000;
const HEADER_BUDGET = 6000;

interface ValidRow {
  id: string;
  assumed: WireDocument | undefined;
  incoming: WireDocument;
  /** `JSON.stringify(incoming)`, when the push decoder made it already. */
  incomingJson?: string;
}

/** A refused row with no server state the caller may see: the whole request is refused (403). */
interface Refusal { id: string; rejection: WriteRejection; doc: WireDocument; alreadyKept: boolean }

class RefusedRequest extends Error {
  constructor(readonly refusals: Refusal[]) {
    super('push refused by access rules');
  }
}

/** What the server remembers of a device's earlier pushes of these rows (see `alreadyApplied`, `earlierRefusals`). */
interface PushHistory {
  /** Per document, the revisions of this device's earlier refused writes. */
  earlier: Map<string, Set<string>>;
  /** Documents whose pushed revision the server already wrote (a replay after a lost answer). */
  applied: ReadonlySet<string>;
}

/** Thrown by a decision that needs the push history before it was read: rolls the attempt back. */
class HistoryNeeded extends Error {
  constructor() {
    super('push history needed; the batch is decided again with it');
  }
}

/** Per row of a push body, its newDocumentState's JSON text if it was already validated (push-decoder.ts). */
export type DecodedStates = (request: FastifyRequest, rows: readonly unknown[]) => Promise<(string | undefined)[] | undefined>;

export interface PushRouteOptions {
  access: AccessControl;
  /** Domain rules, asked in order for every row the access declaration decided (write-policy.ts). */
  policies: readonly WritePolicy[];
  decoded?: DecodedStates | undefined;
}

/**
 * `SYNC.push` (`POST …/:collection/push`): RxDB's push contract with the access rules of
 * shared/access/rules.ts. The whole batch is validated first and written in one transaction, so
 * a request is all written or not at all; the answer lists the server state of the conflicting
 * documents only.
 *
 * A row the rules refuse is kept, not lost: its content goes to quarantine (who, when, device,
 * why) and the current server state comes back as a conflict, with the reason in the
 * `x-fieldsync-rejections` header and at `SYNC.rejections`. Domain rules plug in as
 * write policies (write-policy.ts): they may refuse a row or write other documents instead of
 * it in the same transaction (a crew's change to a finalized report becomes a draft addendum).
 * When there is no server state the caller may see (a new document it may not create, another
 * unit's document), the request is refused with 403 and the refused rows are quarantined.
 */
export function registerPushRoute(app: FastifyInstance, registry: CollectionRegistry, store: Store, options: PushRouteOptions): void {
  const { access, policies, decoded } = options;
  // Each collection's policies, picked once: a collection no policy judges asks none per row.
  const policiesOf = new Map<string, WritePolicy[]>();
  for (const policy of policies) {
    for (const collection of policy.collections) policiesOf.set(collection, [...(policiesOf.get(collection) ?? []), policy]);
  }
  app.post<{ Params: { collection: string }; Querystring: Record<string, string | undefined> }>(SYNC.push.route, { schema: pushSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    const spec = resolveCollection(registry, request.params.collection);
    // A service worker replaying a queue asks the server to merge conflicts instead of returning them.
    const mergeConflicts = request.query['conflicts'] === 'merge';
    // Only a queue replay may be older. Its answer holds no refused row's master (the rows are in
    // quarantine and the queue sets them aside by the rejections header): only the masters of rows
    // the server could not merge, which the queue must merge and send again, or they would be lost.
    const version = checkSchemaVersion(spec, request.query[SCHEMA_VERSION_PARAM], { olderFromQueue: mergeConflicts });
    const identity = request.identity;
    const rows = version < spec.version
      ? validateRows(spec, migratePushRows(spec, version, request.body))
      : validateRows(spec, request.body, Array.isArray(request.body) ? await decoded?.(request, request.body) : undefined);

    const foreign = rows.filter((r) => r.incoming['tenantId'] !== undefined && r.incoming['tenantId'] !== identity.tenantId);
    const actor: Actor = actorOf(identity);
    if (foreign.length > 0) {
      // Refused, but kept: an admin of the caller's agency can see what was attempted.
      await store.quarantine(spec.name, identity.tenantId, actor, foreign.map((r) => ({
        id: r.id, reason: rejectionRecord({ code: NoticeCode.REFUSED, reason: `tenantId "${String(r.incoming['tenantId'])}" is not the caller's agency "${identity.tenantId}"` }), doc: r.incoming,
      })));
      throw new HttpError(403, ErrorCode.TENANT_MISMATCH, `Documents may only be written to your own agency (${identity.tenantId}); nothing in this request was written.`,
        foreign.slice(0, 20).map((r) => ({ id: r.id, path: 'tenantId', message: `is "${String(r.incoming['tenantId'])}"` })));
    }
    if (rows.length === 0) return reply.type('application/json; charset=utf-8').send('[]');

    const related = await access.relationVisible(store, identity, spec.name, rows.map((r) => r.id));
    // What the rows' reference fields name (an addendum's report), read from the caller's agency
    // first: who may refer to a document is decided by the rules over that document.
    const references = await access.referenceContext(store, identity, spec.name, rows.map((r) => r.incoming));
    const auditIndex = access.auditsByDocument(spec.name);
    // The device's history (earlier refusals, writes already applied) only matters for rows that
    // conflict or are refused, which few pushes have: it is read only when a decision asks for it,
    // and the batch is then decided again from the start with it.
    let history: PushHistory | undefined;
    let batch: PushDecisions;
    let result;
    for (;;) {
      batch = new PushDecisions(spec, identity, access, policiesOf.get(spec.name) ?? [], history, related, references, mergeConflicts);
      const decisions = batch;
      const requests: WriteRequest[] = [];
      for (const row of rows) {
        requests.push(new RowRequest(row, decisions));
        // Documents a policy may write instead of this row, decided right after it.
        requests.push(...decisions.reservedRequests(row));
      }
      try {
        // The store records hook triggers in the same transaction as the documents: exactly once, by construction.
        result = await store.writeBatch({
          collection: spec.name, tenantId: identity.tenantId, actor, requests, auditIndex,
          // Aborts the transaction when any row was refused with nothing to send back.
          afterDecisions: () => decisions.finish(),
          onRedecide: () => decisions.forgetDecisions(),
        });
        break;
      } catch (error) {
        if (error instanceof HistoryNeeded && history === undefined) {
          history = {
            earlier: await earlierRefusals(store, identity, spec.name, rows),
            applied: await alreadyApplied(store, identity.tenantId, spec.name, rows),
          };
          continue;
        }
        if (!(error instanceof RefusedRequest)) throw error;
        const keep = error.refusals.filter((r) => !r.alreadyKept);
        if (keep.length > 0) await store.quarantine(spec.name, identity.tenantId, actor, keep.map((r) => ({ id: r.id, reason: rejectionRecord(r.rejection), doc: r.doc })));
        const first = error.refusals[0]!;
        // ACCESS_DENIED whatever the reason, another agency's id included (FOREIGN_DOCUMENT is no
        // longer sent: it told any caller that an id exists elsewhere).
        throw new HttpError(403, ErrorCode.ACCESS_DENIED, `${first.rejection.reason} Nothing in this request was written; the refused ${error.refusals.length > 1 ? 'documents were' : 'document was'} kept for your administrator.`,
          error.refusals.slice(0, 50).map((r) => ({ id: r.id, message: `${r.rejection.code}: ${r.rejection.reason}` })));
      }
    }

    // The server's state of every conflicting or refused row, in the form the caller may see; to an
    // older version's queue replay, of the unmerged rows only (see above).
    const plan = access.readPlan(identity, spec.name);
    const projected = plan.kind !== 'none' && plan.project !== undefined;
    const answer = new Map<string, string>();
    const olderReplay = version < spec.version;
    const refusedIds = new Set(batch.notices.map((n) => n.id));
    const masters = olderReplay
      ? result.conflicts.filter((m) => !refusedIds.has(m.id))
      : [...result.conflicts, ...result.rejected.map((r) => batch.refusedMasters.get(r.id)).filter((m): m is StoredDocument => m !== undefined)];
    // A device push credential reads nothing (server/auth/device-credential.ts): documents that
    // must be sealed on the device are named by id only; its queue holds such rows for the next run.
    const idsOnly = request.pushOnly && sealedOnDevice(spec.name);
    for (const master of idsOnly ? [] : masters) {
      const visible = access.visibleForm(identity, spec.name, JSON.parse(master.json) as WireDocument, plan, related);
      if (visible) answer.set(master.id, projected ? JSON.stringify(visible) : master.json);
    }
    if (idsOnly) for (const master of masters) answer.set(master.id, JSON.stringify({ id: master.id }));
    else await access.auditRead(store, identity, spec.name, [...answer.keys()], 'push-conflict', projected);
    if (batch.notices.length > 0) setRejectionHeaders(reply, batch.notices);
    return reply.type('application/json; charset=utf-8').send(`[${[...answer.values()].join(',')}]`);
  });
}

/**
 * Rows whose revision the server already wrote (as sent, or merged into its master) and has since
 * changed: the answer to their first push was lost (or the sender gave up on it and sent it again),
 * and the server's merge or a hook or another device built a newer version on top.
 * Read only for a push with a conflicting row; only rows that would otherwise conflict are
 * looked up in the audit log.
 */
async function alreadyApplied(store: Store, tenantId: string, collection: string, rows: ValidRow[]): Promise<Set<string>> {
  const applied = new Set<string>();
  // Revisions only (no JSON parse of the masters): this runs on every push.
  const masterRevs = new Map((await store.getDocuments(collection, tenantId, rows.map((r) => r.id))).map((m) => [m.id, revOf(m.json)]));
  const suspects = rows.filter((row) => {
    const incomingRev = row.incoming['rev'];
    if (typeof incomingRev !== 'string' || !masterRevs.has(row.id)) return false;
    const masterRev = masterRevs.get(row.id);
    return masterRev !== undefined && masterRev !== incomingRev && row.assumed?.['rev'] !== masterRev;
  });
  for (const row of suspects.slice(0, 100)) {
    const entries = await store.queryAudit({ tenantId, documentId: row.id, limit: 200 });
    const incomingRev = row.incoming['rev'] as string;
    if (entries.some((e) => e.action === 'write' && e.collection === collection && e.documents?.some((d) => d.id === row.id && wroteRevision(d, incomingRev)))) {
      applied.add(row.id);
    }
  }
  return applied;
}

/**
 * Whether an audited write stored `incomingRev`: as it was, or merged into the master it found (a
 * queue replay the server merged, `conflicts=merge`: the stored revision is then
 * `mergedRevision(master, incoming)`). A copy of that replay sent again (the service worker gave up
 * waiting for the answer) must not be merged a second time, which would record its conflicts twice.
 */
function wroteRevision(written: { beforeRev?: string; afterRev?: string }, incomingRev: string): boolean {
  if (written.afterRev === incomingRev) return true;
  return isRevision(written.beforeRev) && isRevision(incomingRev) && written.afterRev === mergedRevision(written.beforeRev, incomingRev);
}

/** Per document, the revisions of this user's earlier refused writes on this device (from quarantine). */
async function earlierRefusals(store: Store, identity: Identity, collection: string, rows: ValidRow[]): Promise<Map<string, Set<string>>> {
  const ids = [...new Set(rows.map((r) => r.id))];
  const entries = await store.findQuarantine({ tenantId: identity.tenantId, collection, documentIds: ids, deviceId: identity.deviceId, userId: identity.userId, limit: 10 * ids.length + 100 });
  const revs = new Map<string, Set<string>>();
  for (const entry of entries) {
    let rev: unknown;
    try {
      rev = (JSON.parse(entry.json) as { rev?: unknown }).rev;
    } catch {
      continue;
    }
    if (typeof rev !== 'string') continue;
    const set = revs.get(entry.documentId) ?? new Set<string>();
    set.add(rev);
    revs.set(entry.documentId, set);
  }
  return revs;
}

/** A pushed row as the store's write request (a class, not a closure per row: pushes carry thousands). */
class RowRequest implements WriteRequest {
  readonly id: string;
  readonly incoming: WireDocument;
  readonly incomingJson: string | undefined;
  constructor(private readonly row: ValidRow, private readonly decisions: PushDecisions) {
    this.id = row.id;
    this.incoming = row.incoming;
    this.incomingJson = row.incomingJson;
  }

  decide(master: StoredDocument | undefined): WriteDecision {
    return this.decisions.decide(this.row, master);
  }
}

/** The decisions of one push batch, made inside its write transaction. */
class PushDecisions {
  readonly notices: RejectionNotice[] = [];
  readonly refusedMasters = new Map<string, StoredDocument>();
  private readonly refusals: Refusal[] = [];
  /** Per row, the ids its policies reserved (`WritePolicy.reserve`). */
  private readonly reserved = new Map<ValidRow, Set<string>>();
  /** Documents policies write instead of refused rows, by id. */
  private readonly instead = new Map<string, WireDocument>();
  /** Each row as the policies see it, made once per row. */
  private readonly asWrites = new Map<ValidRow, PolicyWrite>();
  private readonly rules: CollectionAccess;
  /** The policies with an opinion on rows, and those that vet ids: a GPS batch asks only the latter. */
  private readonly deciders: readonly WritePolicy[];
  private readonly idVetoes: readonly WritePolicy[];
  private readonly validate: (doc: WireDocument) => boolean;

  constructor(
    private readonly spec: CollectionSpec,
    private readonly identity: Identity,
    private readonly access: AccessControl,
    private readonly policies: readonly WritePolicy[],
    /** Undefined until a decision needs it; such a decision throws `HistoryNeeded`. */
    private readonly pushHistory: PushHistory | undefined,
    /** Relation-scoped collections (a technician's tickets): which of the pushed ids the caller may see. */
    private readonly related: ReadonlySet<string> | undefined,
    /** The documents the rows' reference fields name (AccessControl.referenceContext). */
    private readonly references: ReferenceContext,
    private readonly mergeConflicts = false,
  ) {
    this.rules = access.of(spec.name);
    this.validate = (doc) => spec.validate(doc);
    this.deciders = policies.filter((p) => p.decide !== undefined);
    this.idVetoes = policies.filter((p) => p.vetoId !== undefined);
  }

  private history(): PushHistory {
    if (!this.pushHistory) throw new HistoryNeeded();
    return this.pushHistory;
  }

  /** Before the store decides the batch again (another writer changed a master first): what the decisions collected goes. */
  forgetDecisions(): void {
    this.notices.length = 0;
    this.refusedMasters.clear();
    this.refusals.length = 0;
    this.instead.clear();
  }

  private policyWrite(row: ValidRow): PolicyWrite {
    let write = this.asWrites.get(row);
    if (!write) {
      write = { collection: this.spec.name, identity: this.identity, rules: this.rules, validate: this.validate, id: row.id, assumed: row.assumed, incoming: row.incoming };
      this.asWrites.set(row, write);
    }
    return write;
  }

  decide(row: ValidRow, master: StoredDocument | undefined): WriteDecision {
    const { identity, spec } = this;
    // A policy may refuse an id as such (one made for another agency), before anything about the
    // stored document is looked at: the answer then depends on the id alone, never on what exists.
    for (const policy of this.idVetoes) {
      const vetoed = policy.vetoId!({ collection: spec.name, identity, id: row.id });
      if (vetoed) return this.refuseWithoutState(row, vetoed);
    }
    if (master && master.tenantId !== identity.tenantId) {
      // Another agency's id (ids are unique across agencies). The answer must not tell that it
      // exists there: it is what the same row would get if the id named nothing (when that is
      // refused too), or else what a document of the caller's agency it may not see gets.
      const asNew = this.access.checkWrite(identity, spec.name, undefined, row.incoming, this.references);
      return this.refuseWithoutState(row, asNew.kind === 'refuse' ? declaredRejection(asNew) : this.noneYouMayChange(row));
    }
    const masterDoc = master ? JSON.parse(master.json) as WireDocument : undefined;
    if (master && masterDoc && !this.access.visibleForm(identity, spec.name, masterDoc, undefined, this.related)) {
      // Not the caller's to see: no state can be sent back, and it must not learn more than "no".
      return this.refuseWithoutState(row, this.noneYouMayChange(row));
    }
    const outcome = revisionOutcome(masterDoc, row.assumed, row.incoming);
    // This exact revision was written before and has since been built on (e.g. the finalize hook
    // locked the report): the replay is already applied, not a conflict to resolve again.
    // A live RxDB client still gets the current state back, so it learns of the lock at once; a
    // queue replay (merge mode) is simply done.
    if (outcome === 'conflict' && typeof row.incoming['rev'] === 'string' && this.history().applied.has(row.id)) return { action: this.mergeConflicts ? 'noop' : 'conflict' };
    let toWrite = row.incoming;
    if (outcome === 'conflict' && this.mergeConflicts && masterDoc) {
      const merged = mergeOnServer(spec.name, masterDoc, row.assumed, row.incoming, (doc) => spec.validate(doc));
      if (!merged) return { action: 'conflict' };
      // Immutable documents (GPS points) merge to the master itself: nothing to write.
      if (isSameRevision(merged, masterDoc)) return { action: 'noop' };
      toWrite = merged;
    } else if (outcome !== 'write') {
      return { action: outcome };
    }

    const verdict: WriteVerdict = this.access.checkWrite(identity, spec.name, masterDoc, toWrite, this.references);
    if (verdict.kind === 'unchanged') return { action: 'noop' };
    // The domain's policies have their say on what the declaration decided (write-policy.ts).
    const opinion = this.deciders.length === 0 ? undefined : firstOpinion(this.deciders, { ...this.policyWrite(row), stored: masterDoc, toWrite, verdict });
    if (!opinion && verdict.kind === 'allow') return { action: 'write', doc: toWrite };
    const rejection = opinion?.rejection ?? declaredRejection(verdict as Extract<WriteVerdict, { kind: 'refuse' }>);
    if (!master || !masterDoc) return this.refuseWithoutState(row, rejection);

    const rev = row.incoming['rev'];
    const earlierRevs = this.history().earlier.get(row.id);
    if (typeof rev === 'string' && earlierRevs?.has(rev)) {
      // The same refused write again (its answer was lost): the same answer, not a second quarantine entry.
      this.keepInstead(row, opinion?.instead);
      this.notices.push({ id: row.id, ...rejection });
      return { action: 'conflict' };
    }
    if (typeof rev === 'string' && earlierRevs && isRevision(masterDoc['rev']) && [...earlierRevs].some((r) => isRevision(r) && mergedRevision(masterDoc['rev'] as string, r) === rev)) {
      // The device merged the state we sent back with its refused change and pushed that again
      // (RxDB's conflict handler keeps the device's side). Answering with another conflict would
      // loop forever; the change is already in quarantine, so this copy is acknowledged and dropped.
      this.notices.push({ id: row.id, code: NoticeCode.ALREADY_REFUSED, reason: `This change was refused before (${rejection.reason}); it was not saved again.` });
      return { action: 'noop' };
    }
    this.keepInstead(row, opinion?.instead);
    this.notices.push({ id: row.id, ...rejection });
    this.refusedMasters.set(row.id, master);
    return { action: 'reject', reason: rejectionRecord(rejection) };
  }

  /** The one answer for a document the caller may not see, whether it is of its agency or another's. */
  private noneYouMayChange(row: ValidRow): WriteRejection {
    return { code: RefusalCode.OUT_OF_SCOPE, reason: `There is no ${nounOf(this.spec.name)} ${row.id} that you may change.` };
  }

  private refuseWithoutState(row: ValidRow, rejection: WriteRejection): WriteDecision {
    const rev = row.incoming['rev'];
    const alreadyKept = typeof rev === 'string' && (this.history().earlier.get(row.id)?.has(rev) ?? false);
    this.refusals.push({ id: row.id, rejection, doc: row.incoming, alreadyKept });
    return { action: 'noop' };
  }

  finish(): void {
    if (this.refusals.length > 0) throw new RefusedRequest(this.refusals);
  }

  /** A policy's documents written instead of a refused row: only ids it reserved for that row. */
  private keepInstead(row: ValidRow, docs: readonly WireDocument[] | undefined): void {
    for (const doc of docs ?? []) {
      const id = String(doc[this.spec.primaryKey]);
      if (!this.reserved.get(row)?.has(id)) {
        throw new Error(`a write policy wrote ${this.spec.name} ${id} instead of ${row.id} without reserving its id (WritePolicy.reserve); nothing was written`);
      }
      this.instead.set(id, doc);
    }
  }

  /** The requests for the documents policies may write instead of this row (see `WritePolicy.reserve`). */
  reservedRequests(row: ValidRow): WriteRequest[] {
    const ids = new Set<string>();
    for (const policy of this.policies) for (const id of policy.reserve?.(this.policyWrite(row)) ?? []) ids.add(id);
    if (ids.size === 0) return [];
    this.reserved.set(row, ids);
    return [...ids].map((id) => ({
      id,
      // Never quarantined (its decision is write or noop); a placeholder, not a device's row.
      incoming: { _deleted: false },
      decide: (master: StoredDocument | undefined): WriteDecision => {
        const doc = this.instead.get(id);
        // Not wanted (the row was written after all), or already made by an earlier copy of this push: never a second one.
        if (!doc || master) return { action: 'noop' };
        return { action: 'write', doc };
      },
    }));
  }
}

/** Escapes everything outside printable ASCII, so the JSON is a valid header value. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function setRejectionHeaders(reply: { header(name: string, value: string): unknown }, notices: RejectionNotice[]): void {
  const kept: RejectionNotice[] = [];
  let size = 2;
  for (const notice of notices) {
    const text = asciiJson(notice);
    if (size + text.length + 1 > HEADER_BUDGET) break;
    kept.push(notice);
    size += text.length + 1;
  }
  reply.header(REJECTIONS_HEADER, asciiJson(kept));
  if (kept.length < notices.length) reply.header(REJECTIONS_TOTAL_HEADER, String(notices.length));
}

function validateRows(spec: CollectionSpec, body: unknown, decodedStates?: (string | undefined)[]): ValidRow[] {
  if (!Array.isArray(body)) {
    throw new HttpError(400, ErrorCode.BAD_PUSH_BODY, 'The push body must be a JSON array of { assumedMasterState?, newDocumentState } rows.');
  }
  if (body.length > MAX_PUSH_ROWS) {
    throw new HttpError(413, ErrorCode.TOO_MANY_ROWS, `A push may carry at most ${MAX_PUSH_ROWS} rows; this one has ${body.length}. Send smaller batches.`);
  }
  const problems: { index: number; id?: string; path?: string; message: string }[] = [];
  const rows: ValidRow[] = [];
  body.forEach((row: unknown, index) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      problems.push({ index, message: 'row must be an object { assumedMasterState?, newDocumentState }' });
      return;
    }
    const { newDocumentState, assumedMasterState, ...rest } = row as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) problems.push({ index, path: extra[0], message: `unknown row field "${extra[0]}"` });
    if (typeof newDocumentState !== 'object' || newDocumentState === null || Array.isArray(newDocumentState)) {
      problems.push({ index, path: 'newDocumentState', message: 'newDocumentState must be a document object' });
      return;
    }
    const incoming = newDocumentState as WireDocument;
    const id = incoming[spec.primaryKey];
    const idText = typeof id === 'string' ? id : undefined;
    // A state the decoder validated is this very object: it passed the same schema there.
    const incomingJson = decodedStates?.[index];
    if (incomingJson === undefined && !spec.validate(incoming)) {
      for (const p of describeSchemaErrors(spec.validate.errors)) {
        problems.push({ index, ...(idText ? { id: idText } : {}), path: `newDocumentState.${p.path}`, message: p.message });
      }
      return;
    }
    let assumed: WireDocument | undefined;
    if (assumedMasterState !== undefined && assumedMasterState !== null) {
      if (typeof assumedMasterState !== 'object' || Array.isArray(assumedMasterState)
        || (assumedMasterState as Record<string, unknown>)[spec.primaryKey] !== id) {
        problems.push({ index, id: idText, path: 'assumedMasterState', message: `assumedMasterState must be a document with the same ${spec.primaryKey}` });
        return;
      }
      assumed = assumedMasterState as WireDocument;
    }
    rows.push(incomingJson === undefined ? { id: idText!, assumed, incoming } : { id: idText!, assumed, incoming, incomingJson });
  });
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new HttpError(400, ErrorCode.INVALID_DOCUMENT,
      `Row ${first.index}${first.id ? ` (${spec.name} ${first.id})` : ''} is invalid: ${first.path ? `${first.path}: ` : ''}${first.message}. Nothing in this request was written.`,
      problems.slice(0, 50).map((p) => ({ ...p, id: p.id ?? undefined })) as never);
  }
  return rows;
}
