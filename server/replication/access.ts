import { actorOf } from '../auth/actor.ts';
import { ACCESS_RULES, type CollectionAccess, type ReadRule, type WriteRule } from '../../shared/access/rules.ts';
import {
  accessOf, bindScope, checkWrite, inBoundScope, project, readRuleOf, referenceKey, referenceLookups,
  type BoundScope, type Doc, type ReferenceContext, type ReferenceLookup, type WriteVerdict,
} from '../../shared/access/policy.ts';
import { ROLES, type Identity } from '../../shared/protocol/index.ts';
import type { DocumentFilter, Store } from '../store/types.ts';

/** How one identity reads one collection. */
export type ReadPlan =
  | { readonly kind: 'none' }
  /** The whole tenant: the store's plain pull, stored JSON sent as stored unless projected. */
  | { readonly kind: 'all'; readonly project?: readonly string[] }
  | { readonly kind: 'filter'; readonly scope: Exclude<BoundScope, { kind: 'tenant' }>; readonly project?: readonly string[] };

/** A `known` reference's lookup page: its first live document ends it, so a page seldom holds more than one. */
const KNOWN_PAGE = 20;
const TENANT_SCOPE = { kind: 'tenant' } as const;
/** Collections served without declared rules (only servers built with their own collections, e.g. RxDB's conformance suite). */
const OPEN_ACCESS: CollectionAccess = {
  phi: false,
  references: {},
  read: Object.fromEntries(ROLES.map((role) => [role, { scope: TENANT_SCOPE } satisfies ReadRule])),
  write: Object.fromEntries(ROLES.map((role) => [role, { scope: TENANT_SCOPE, create: true, delete: true, update: 'any' } satisfies WriteRule])),
};
const NO_ACCESS: CollectionAccess = { phi: false, references: {}, read: {}, write: {} };

export interface AccessControlOptions {
  rules?: Readonly<Record<string, CollectionAccess>>;
  /**
   * What a collection without declared rules gets: `deny` (the product) or `tenant` (every role
   * reads and writes its tenant's documents: servers built with foreign collections for tests).
   */
  undeclared: 'deny' | 'tenant';
}

/** The server's side of `shared/access`: plans for pull and stream, write verdicts, read auditing. */
export class AccessControl {
  private readonly rules: Readonly<Record<string, CollectionAccess>>;

  constructor(private readonly options: AccessControlOptions) {
    this.rules = options.rules ?? ACCESS_RULES;
  }

  of(collection: string): CollectionAccess {
    return accessOf(collection, this.rules) ?? (this.options.undeclared === 'tenant' ? OPEN_ACCESS : NO_ACCESS);
  }

  isPhi(collection: string): boolean {
    return this.of(collection).phi;
  }

  /**
   * Whether device writes to a collection index their audit entry by each document (WriteBatch.auditIndex).
   * Not for non-PHI collections no role may change or delete once written (GPS points): their
   * documents have one write in their whole history, found by the store's scan fallback, and an
   * index row per point would be most of the audit's cost on the busiest collection.
   */
  auditsByDocument(collection: string): boolean {
    const access = this.of(collection);
    return access.phi || Object.values(access.write).some((rule) => rule !== undefined && (rule.update !== 'none' || rule.delete));
  }

  readPlan(identity: Identity, collection: string): ReadPlan {
    const rule = readRuleOf(this.of(collection), identity);
    if (!rule) return { kind: 'none' };
    const scope = bindScope(rule.scope, identity);
    if (scope.kind === 'tenant') return { kind: 'all', ...(rule.project ? { project: rule.project } : {}) };
    return { kind: 'filter', scope, ...(rule.project ? { project: rule.project } : {}) };
  }

  /**
   * The form of a document this identity may receive, or undefined when it may not see it.
   * Relation scopes (`via`) cannot be decided from the document alone and count as not visible
   * here; pulls and the stream answer them with a store query instead.
   */
  visibleForm(identity: Identity, collection: string, doc: Doc, plan = this.readPlan(identity, collection), relationVisible?: ReadonlySet<string>): Doc | undefined {
    if (plan.kind === 'none' || !this.mayRead(identity, collection, doc, plan, relationVisible)) return undefined;
    return plan.project ? project(doc, plan.project) : doc;
  }

  /**
   * Whether this identity may read the document (what `visibleForm` decides, without making the
   * projected copy): for a live feed deciding per event and socket.
   */
  mayRead(identity: Identity, collection: string, doc: Doc, plan = this.readPlan(identity, collection), relationVisible?: ReadonlySet<string>): boolean {
    if (plan.kind === 'none') return false;
    if (plan.kind === 'all') return true;
    return plan.scope.kind === 'via' ? relationVisible?.has(String(doc['id'])) ?? false : inBoundScope(plan.scope, doc) === true;
  }

  /** For relation scopes: which of `ids` the identity may read now (one store query). */
  async relationVisible(store: Store, identity: Identity, collection: string, ids: string[]): Promise<ReadonlySet<string> | undefined> {
    const plan = this.readPlan(identity, collection);
    if (plan.kind !== 'filter' || plan.scope.kind !== 'via') return undefined;
    const wanted = new Set(ids);
    const visible = new Set<string>();
    let afterSeq = 0;
    for (;;) {
      const page = await store.pullScoped({ collection, tenantId: identity.tenantId, afterSeq, limit: 5000, filter: filterOf(plan.scope) });
      for (const doc of page.documents) if (wanted.has(doc.id)) visible.add(doc.id);
      if (page.documents.length < 5000) return visible;
      afterSeq = page.lastSeq;
    }
  }

  checkWrite(identity: Identity, collection: string, master: Doc | undefined, incoming: Doc, references?: ReferenceContext): WriteVerdict {
    return checkWrite(collection, this.of(collection), identity, master, incoming, references ?? { rules: this.rules, target: () => undefined });
  }

  /**
   * The documents the reference fields of `docs` name (shared/access/rules.ts, `references`),
   * read from the caller's agency only, before a push's transaction: what `checkWrite` needs to
   * decide who may refer to what. The fields a reference check looks at (a report's unit) do not
   * change under a device's write, so reading them first decides the same as reading them inside.
   */
  async referenceContext(store: Store, identity: Identity, collection: string, docs: readonly Doc[]): Promise<ReferenceContext> {
    const access = this.of(collection);
    const wanted = new Map<string, ReferenceLookup>();
    for (const doc of docs) for (const lookup of referenceLookups(access, identity, doc, this.rules)) wanted.set(referenceKey(lookup), lookup);
    const found = new Map<string, Doc | null>();
    const byTarget = new Map<string, ReferenceLookup[]>();
    for (const lookup of wanted.values()) {
      const group = `${lookup.collection}\u0000${lookup.key}\u0000${JSON.stringify(lookup.where ?? [])}`;
      byTarget.set(group, [...(byTarget.get(group) ?? []), lookup]);
    }
    for (const lookups of byTarget.values()) {
      const { collection: target, key, where } = lookups[0]!;
      for (const lookup of lookups) found.set(referenceKey(lookup), null);
      if (key === 'id' && !where) {
        for (const stored of await store.getDocuments(target, identity.tenantId, lookups.map((l) => l.value))) {
          found.set(referenceKey({ collection: target, key, value: stored.id }), JSON.parse(stored.json) as Doc);
        }
        continue;
      }
      if (where) {
        // A `known` reference (a technician known by a fix of a technician): one live document is
        // enough, so each value is looked up on its own and its lookup stops at the first live
        // one. Batched, one unknown value kept the scan paging through every fix of the known
        // ones; now an unknown value costs one query that returns nothing, a known one a page.
        for (const lookup of lookups) {
          let afterSeq = 0;
          for (;;) {
            const page = await store.pullScoped({
              collection: target, tenantId: identity.tenantId, afterSeq, limit: KNOWN_PAGE,
              filter: { kind: 'where', anyOf: [[{ field: key, equals: lookup.value }, ...where]] },
            });
            const live = page.documents.map((stored) => JSON.parse(stored.json) as Doc).find((doc) => doc[key] === lookup.value && doc['_deleted'] !== true);
            if (live) found.set(referenceKey(lookup), live);
            if (live || page.documents.length < KNOWN_PAGE) break;
            afterSeq = page.lastSeq;
          }
        }
        continue;
      }
      // By another field (a unit by call sign): a filtered scan of the agency's documents.
      const values = new Set(lookups.map((l) => l.value));
      let afterSeq = 0;
      for (;;) {
        const page = await store.pullScoped({
          collection: target, tenantId: identity.tenantId, afterSeq, limit: 5000,
          // A `known` reference's conditions go in the query too: a technician is known by a fix of a technician, not of a unit.
          filter: { kind: 'where', anyOf: [...values].map((value) => [{ field: key, equals: value }]) },
        });
        for (const stored of page.documents) {
          const doc = JSON.parse(stored.json) as Doc;
          const value = doc[key];
          if (typeof value === 'string' && values.has(value) && doc['_deleted'] !== true) found.set(referenceKey({ collection: target, key, value }), doc);
        }
        if (page.documents.length < 5000) break;
        afterSeq = page.lastSeq;
      }
    }
    return { rules: this.rules, target: (lookup) => found.get(referenceKey(lookup)) };
  }

  /** PHI reads go to the audit log: which documents, to which user and device, how. */
  async auditRead(store: Store, identity: Identity, collection: string, ids: string[], via: 'pull' | 'stream' | 'push-conflict', projected: boolean): Promise<void> {
    if (ids.length === 0 || !this.isPhi(collection)) return;
    await store.appendAudit([{
      tenantId: identity.tenantId, action: 'read', actor: actorOf(identity), collection,
      documents: ids.map((id) => ({ id })), details: { via, ...(projected ? { projected: true } : {}) },
    }]);
  }
}

/** The store's filter for a bound scope (`nothing` is an empty disjunction). */
export function filterOf(scope: Exclude<BoundScope, { kind: 'tenant' }>): DocumentFilter {
  switch (scope.kind) {
    case 'nothing':
      return { kind: 'where', anyOf: [] };
    case 'where':
      return { kind: 'where', anyOf: scope.anyOf };
    case 'via':
      return { kind: 'via', collection: scope.collection, where: scope.where, key: scope.key };
  }
}

