/**
 * Evaluates the declarations of `rules.ts`: which documents an identity may read (as a
 * predicate, or as a filter a store can run in SQL), how they are projected, and whether a
 * write is allowed. Pure: no I/O, no clock, no Node APIs.
 */
import { RefusalCode, type Identity } from '../protocol/index.ts';
import { deepEqual } from '../merge/json.ts';
import {
  ACCESS_RULES, ALWAYS_IMMUTABLE, BOOKKEEPING_FIELDS,
  type CollectionAccess, type Condition, type FieldValue, type IdentityAttribute, type Operand, type ReadRule, type Reference, type Scope, type Transition, type WriteRule,
} from './rules.ts';

export type Doc = Record<string, unknown>;

/** A condition with the caller's attributes filled in. */
export type BoundCondition =
  | { readonly field: string; readonly equals: string | number | boolean }
  | { readonly field: string; readonly present: true };

/** A scope with the caller's attributes filled in; what a store needs to filter in its own query language. */
export type BoundScope =
  | { readonly kind: 'tenant' }
  | { readonly kind: 'nothing' }
  | { readonly kind: 'where'; readonly anyOf: readonly (readonly BoundCondition[])[] }
  | { readonly kind: 'via'; readonly collection: string; readonly where: readonly BoundCondition[]; readonly key: string };


export type WriteVerdict =
  | { readonly kind: 'allow' }
  /** The stored document is locked and the write changes nothing but bookkeeping: nothing to do. */
  | { readonly kind: 'unchanged' }
  | {
    readonly kind: 'refuse';
    /** The codes live with the wire (shared/protocol/errors.ts): devices read them in rejection notices. */
    readonly code: RefusalCode;
    /** Plain words a device can show its user. */
    readonly reason: string;
    /** FINALIZED only: the change should be kept as a new draft pointing at the locked document. */
    readonly addendum?: { readonly field: string; readonly lockedAt: string };
  };

/** The rules of one collection; `undefined` when the collection is not declared. */
export function accessOf(collection: string, rules: Readonly<Record<string, CollectionAccess>> = ACCESS_RULES): CollectionAccess | undefined {
  return Object.prototype.hasOwnProperty.call(rules, collection) ? rules[collection] : undefined;
}

/**
 * Whether a device must seal the copies of this collection's documents that wait outside its
 * encrypted database (the outbound queue). A collection nobody declared is sealed: when in
 * doubt, patient data.
 */
export function sealedOnDevice(collection: string, rules: Readonly<Record<string, CollectionAccess>> = ACCESS_RULES): boolean {
  const access = accessOf(collection, rules);
  return access === undefined ? true : (access.sealedOnDevice ?? access.phi);
}

/**
 * Whether any role may change or delete this collection's existing documents. When none may (GPS
 * points: append-only evidence), a device never pushes a change built on a stored document, and
 * need not keep the server state it was built on (client/sync/first-sync-import.ts). A collection
 * nobody declared counts as changeable: when in doubt, keep it.
 */
export function documentsChangeable(collection: string, rules: Readonly<Record<string, CollectionAccess>> = ACCESS_RULES): boolean {
  const access = accessOf(collection, rules);
  if (access === undefined) return true;
  return Object.values(access.write).some((rule) => rule !== undefined && (rule.update !== 'none' || rule.delete));
}

export function readRuleOf(access: CollectionAccess, identity: Identity): ReadRule | undefined {
  return access.read[identity.role];
}

export function writeRuleOf(access: CollectionAccess, identity: Identity): WriteRule | undefined {
  return access.write[identity.role];
}

function operandValue(operand: Operand, identity: Identity): string | number | boolean | undefined {
  if ('literal' in operand) return operand.literal;
  const value = identity[operand.identity satisfies IdentityAttribute];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function bindConditions(conditions: readonly Condition[], identity: Identity): BoundCondition[] | undefined {
  const bound: BoundCondition[] = [];
  for (const c of conditions) {
    if ('present' in c) {
      bound.push({ field: c.field, present: true });
      continue;
    }
    const value = operandValue(c.equals, identity);
    // An attribute the caller lacks grants nothing: the whole alternative can never match.
    if (value === undefined) return undefined;
    bound.push({ field: c.field, equals: value });
  }
  return bound;
}

export function bindScope(scope: Scope, identity: Identity): BoundScope {
  switch (scope.kind) {
    case 'tenant':
      return { kind: 'tenant' };
    case 'where': {
      const anyOf = scope.anyOf.map((alt) => bindConditions(alt, identity)).filter((alt): alt is BoundCondition[] => alt !== undefined);
      return anyOf.length === 0 ? { kind: 'nothing' } : { kind: 'where', anyOf };
    }
    case 'via': {
      const where = bindConditions(scope.where, identity);
      return where === undefined ? { kind: 'nothing' } : { kind: 'via', collection: scope.collection, where, key: scope.key };
    }
  }
}

export function conditionHolds(condition: BoundCondition, doc: Doc): boolean {
  const value = doc[condition.field];
  if ('present' in condition) return value !== undefined && value !== null;
  return value === condition.equals;
}

/**
 * Whether a document is inside a bound scope. `undefined` for `via` scopes, which depend on
 * other documents: only a store query can answer them.
 */
export function inBoundScope(scope: BoundScope, doc: Doc): boolean | undefined {
  switch (scope.kind) {
    case 'tenant':
      return true;
    case 'nothing':
      return false;
    case 'where':
      // Loops, not some/every: this runs for every row of every push.
      for (const alt of scope.anyOf) {
        let holds = true;
        for (const c of alt) if (!conditionHolds(c, doc)) { holds = false; break; }
        if (holds) return true;
      }
      return false;
    case 'via':
      return undefined;
  }
}

/** Keeps only the listed top-level fields (and `_deleted`, which replication always needs). */
export function project(doc: Doc, fields: readonly string[]): Doc {
  const out: Doc = {};
  for (const field of fields) {
    if (doc[field] !== undefined) out[field] = doc[field];
  }
  out['_deleted'] = doc['_deleted'] === true;
  return out;
}

const NOUNS: Record<string, string> = {
  incidents: 'incident', epcrs: 'report', gps_points: 'position', units: 'unit', billing_records: 'billing record',
  claims: 'claim', orders: 'order', tickets: 'ticket', jobs: 'job', unit_status_events: 'status event',
};

export function nounOf(collection: string): string {
  return NOUNS[collection] ?? 'document';
}

function whoAmI(identity: Identity): string {
  if (identity.role === 'crew') return identity.unitId ? `crew of unit ${identity.unitId}` : 'crew without a unit';
  if (identity.role === 'technician') return identity.technicianId ? `technician ${identity.technicianId}` : 'technician without an id';
  return identity.role;
}

function scopeFields(scope: Scope): string[] {
  if (scope.kind === 'where') return [...new Set(scope.anyOf.flat().map((c) => c.field))];
  if (scope.kind === 'via') return ['id'];
  return [];
}

/** Top-level fields whose value differs, bookkeeping and `_deleted` aside. */
export function changedFields(before: Doc, after: Doc): string[] {
  const skip = new Set<string>([...BOOKKEEPING_FIELDS, '_deleted']);
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => !skip.has(k) && !deepEqual(before[k], after[k])).sort();
}

function isDeleted(doc: Doc): boolean {
  return doc['_deleted'] === true;
}

function refuse(code: RefusalCode, reason: string, addendum?: { field: string; lockedAt: string }): WriteVerdict {
  return { kind: 'refuse', code, reason, ...(addendum ? { addendum } : {}) };
}

/** "2026-11-22T14:02:10-05:00" → "14:02": the wall-clock time where the report was locked. */
export function wallClock(dateTime: unknown): string {
  const match = typeof dateTime === 'string' ? /T(\d{2}:\d{2})/.exec(dateTime) : null;
  return match?.[1] ?? String(dateTime);
}

/** Bound scopes by identity (one per request) and unbound scope, so a batch binds each once. */
const boundScopes = new WeakMap<Identity, Map<Scope, BoundScope>>();

function boundScopeFor(scope: Scope, identity: Identity): BoundScope {
  let byScope = boundScopes.get(identity);
  if (!byScope) boundScopes.set(identity, byScope = new Map());
  let bound = byScope.get(scope);
  if (!bound) byScope.set(scope, bound = bindScope(scope, identity));
  return bound;
}

function outOfScopeVerdict(which: 'current' | 'new', rule: WriteRule, collection: string, noun: string, identity: Identity): WriteVerdict {
  return refuse(RefusalCode.OUT_OF_SCOPE, which === 'current'
    ? `This ${noun} is not one of ${rule.scope.kind === 'tenant' ? 'yours' : (rule.scope as { label: string }).label} (${whoAmI(identity)}); you cannot change it.`
    : `You may only write ${rule.scope.kind === 'tenant' ? `${collection} of your agency` : (rule.scope as { label: string }).label} (${whoAmI(identity)}); check ${scopeFields(rule.scope).join(', ') || 'the document'}.`);
}

/** A document a reference field names, to be looked up in the writer's agency (by `key`, usually `id`). */
export interface ReferenceLookup {
  readonly collection: string;
  readonly key: string;
  readonly value: string;
  /** `known` references: what the named document must also match (literal conditions). */
  readonly where?: readonly BoundCondition[];
}

/**
 * The documents reference fields name, as the server found them in the writer's agency: `null`
 * for "no such document there", `undefined` for "not looked up" (then the write is refused: a
 * check that could not be made allows nothing).
 */
export interface ReferenceContext {
  readonly rules: Readonly<Record<string, CollectionAccess>>;
  target(lookup: ReferenceLookup): Doc | null | undefined;
}

/** The key of a lookup in a map of found targets. */
export function referenceKey(lookup: ReferenceLookup): string {
  return `${lookup.collection}\u0000${lookup.key}\u0000${lookup.value}${lookup.where ? `\u0000${JSON.stringify(lookup.where)}` : ''}`;
}

type DocumentReference = Extract<Reference, { must: 'update' | 'read' }>;
type KnownReference = Extract<Reference, { must: 'known' }>;

/** A `known` reference's conditions, bound once per declaration (they are literals: no identity in them). */
const knownConditions = new WeakMap<KnownReference, readonly BoundCondition[]>();
function knownWhere(ref: KnownReference): readonly BoundCondition[] {
  let bound = knownConditions.get(ref);
  if (!bound) {
    bound = ref.where.map((c) => ('present' in c ? { field: c.field, present: true as const } : { field: c.field, equals: 'literal' in c.equals ? c.equals.literal : '\u0000never' }));
    knownConditions.set(ref, bound);
  }
  return bound;
}

/** The `known` reference fields of `doc` that hold a value. */
function knownReferences(access: CollectionAccess, doc: Doc): [string, KnownReference, string][] {
  const out: [string, KnownReference, string][] = [];
  for (const [field, ref] of Object.entries(access.references ?? {})) {
    if (ref.must !== 'known') continue;
    const value = doc[field];
    if (typeof value === 'string' && value !== '') out.push([field, ref, value]);
  }
  return out;
}

const knownLookup = (ref: KnownReference, value: string): ReferenceLookup => ({ collection: ref.to, key: ref.key, value, where: knownWhere(ref) });

/** Per declaration, its references that name a document (listed once: this runs for every pushed row). */
const documentReferences = new WeakMap<CollectionAccess, readonly (readonly [string, DocumentReference])[]>();

/** The reference fields of `doc` that name a document and hold a value. */
function namedReferences(access: CollectionAccess, doc: Doc): [string, DocumentReference, string][] {
  let refs = documentReferences.get(access);
  if (!refs) {
    refs = Object.entries(access.references ?? {}).filter((e): e is [string, DocumentReference] => e[1].must === 'update' || e[1].must === 'read');
    documentReferences.set(access, refs);
  }
  const out: [string, DocumentReference, string][] = [];
  for (const [field, ref] of refs) {
    const value = doc[field];
    if (typeof value === 'string' && value !== '') out.push([field, ref, value]);
  }
  return out;
}

/** The writer's rule over the collection a reference names: its write rule for `update`, its read rule for `read`. */
function ruleOverTarget(ref: DocumentReference, identity: Identity, rules: Readonly<Record<string, CollectionAccess>>): WriteRule | ReadRule | undefined {
  const target = accessOf(ref.to, rules);
  if (!target) return undefined;
  return ref.must === 'update' ? writeRuleOf(target, identity) : readRuleOf(target, identity);
}

/**
 * What the server must look up before it can decide a write of `doc` (the documents its
 * reference fields name), so push reads them before its transaction. None for references the
 * writer's rule decides without the document (no rule at all; a `read` over the whole agency).
 */
export function referenceLookups(access: CollectionAccess, identity: Identity, doc: Doc, rules: Readonly<Record<string, CollectionAccess>> = ACCESS_RULES): ReferenceLookup[] {
  const lookups: ReferenceLookup[] = [];
  for (const [, ref, value] of namedReferences(access, doc)) {
    const rule = ruleOverTarget(ref, identity, rules);
    if (!rule || (ref.must === 'read' && rule.scope.kind === 'tenant')) continue;
    lookups.push({ collection: ref.to, key: ref.key ?? 'id', value });
  }
  for (const [, ref, value] of knownReferences(access, doc)) lookups.push(knownLookup(ref, value));
  return lookups;
}

/**
 * Whether the writer may name what each changed reference field names (rules.ts, `Reference`).
 * The refusal reads the same whether the named document is out of the writer's reach or does not
 * exist at all, so it confirms no id.
 */
function referenceVerdict(access: CollectionAccess, identity: Identity, master: Doc | undefined, incoming: Doc, noun: string, context: ReferenceContext | undefined): WriteVerdict | undefined {
  const rules = context?.rules ?? ACCESS_RULES;
  for (const [field, ref, value] of namedReferences(access, incoming)) {
    if (master && deepEqual(master[field], incoming[field])) continue;
    if (referenceAllowed(ref, identity, value, rules, context)) continue;
    const what = nounOf(ref.to);
    return refuse(RefusalCode.OUT_OF_SCOPE, ref.must === 'update'
      ? `${field} must name a ${what} you may change (${whoAmI(identity)}); there is no ${what} ${value} that you may change, so this ${noun} cannot refer to it.`
      : `${field} must name a ${what} you may see (${whoAmI(identity)}); there is no ${what} ${value} that you may see, so this ${noun} cannot refer to it.`);
  }
  for (const [field, ref, value] of knownReferences(access, incoming)) {
    if (master && deepEqual(master[field], incoming[field])) continue;
    const lookup = knownLookup(ref, value);
    const target = context?.target(lookup);
    // Not looked up, or known nowhere in the agency: nothing vouches for it.
    if (target && !isDeleted(target) && lookup.where!.every((c) => conditionHolds(c, target))) continue;
    return refuse(RefusalCode.OUT_OF_SCOPE, `${field} must name ${ref.names}; ${JSON.stringify(value)} is not one the server knows, so this ${noun} cannot name it. Choose one from the list.`);
  }
  return undefined;
}

function referenceAllowed(ref: DocumentReference, identity: Identity, value: string, rules: Readonly<Record<string, CollectionAccess>>, context: ReferenceContext | undefined): boolean {
  const rule = ruleOverTarget(ref, identity, rules);
  if (!rule) return false;
  if (ref.must === 'read' && rule.scope.kind === 'tenant') return true;
  const target = context?.target({ collection: ref.to, key: ref.key ?? 'id', value });
  // Not looked up: nothing can be vouched for.
  if (target === undefined) return false;
  // An id naming nothing in the agency: an amendment must amend something; a read reference names nothing it could open.
  if (target === null) return ref.must === 'read';
  if (ref.must === 'update' && isDeleted(target)) return false;
  // Relation scopes (a technician's tickets) need a store query; a reference to them is not vouched for.
  if (rule.scope.kind === 'via') return false;
  return inBoundScope(boundScopeFor(rule.scope, identity), target) === true;
}

/**
 * Whether `identity` may turn `master` (absent for a new document) into `incoming`. The caller
 * has already checked the tenant, the schema and RxDB's revision rule. `references` holds the
 * documents the reference fields name (`referenceLookups`); without it, a reference whose check
 * needs the named document is refused.
 */
export function checkWrite(collection: string, access: CollectionAccess, identity: Identity, master: Doc | undefined, incoming: Doc, references?: ReferenceContext): WriteVerdict {
  const noun = nounOf(collection);
  const rule = writeRuleOf(access, identity);
  if (!rule || rule.scope.kind === 'via') {
    const reads = readRuleOf(access, identity) !== undefined;
    return refuse(RefusalCode.NO_WRITE_ACCESS, reads
      ? `Your role (${identity.role}) may read ${collection} but not change them; your change was not saved on the server.`
      : `Your role (${identity.role}) has no access to ${collection}; your change was not saved on the server.`);
  }
  // Bound once per identity and rule: a push checks every row of its batch with the same ones.
  const scope = boundScopeFor(rule.scope, identity);
  const serverOwned = access.serverOwned ?? [];

  if (!master) {
    if (!rule.create) return refuse(RefusalCode.NO_CREATE, `Your role (${identity.role}) cannot create ${collection}; ask dispatch or your administrator.`);
    const owned = serverOwned.length === 0 ? serverOwned : serverOwned.filter((f) => incoming[f] !== undefined);
    if (owned.length > 0) return refuse(RefusalCode.SERVER_OWNED_FIELD, `${owned.join(', ')} ${owned.length > 1 ? 'are' : 'is'} set by the server only; a device cannot set ${owned.length > 1 ? 'them' : 'it'}.`);
    if (inBoundScope(scope, incoming) !== true) return outOfScopeVerdict('new', rule, collection, noun, identity);
    return transitionVerdict(rule, undefined, incoming, Object.keys(incoming), noun, identity)
      ?? referenceVerdict(access, identity, undefined, incoming, noun, references) ?? { kind: 'allow' };
  }

  if (inBoundScope(scope, master) !== true) return outOfScopeVerdict('current', rule, collection, noun, identity);
  const changed = changedFields(master, incoming);
  const deletionChanged = isDeleted(master) !== isDeleted(incoming);
  if (rule.changeOnly && (changed.length > 0 || deletionChanged) && inBoundScope(boundScopeFor(rule.changeOnly, identity), master) !== true) {
    return refuse(RefusalCode.OUT_OF_SCOPE, `Your role (${identity.role}) may change only ${rule.changeOnly.label}; this ${noun} is not one of them${typeof master['status'] === 'string' ? ` (it is ${master['status']})` : ''}, so your change was not saved on the server.`);
  }

  const lock = access.lock;
  if (lock && master[lock.field] !== undefined && master[lock.field] !== null) {
    if (changed.length === 0 && !deletionChanged) return { kind: 'unchanged' };
    const when = wallClock(master[lock.field]);
    const canAddendum = lock.addendumRoles.includes(identity.role) && rule.create && !isDeleted(incoming);
    return canAddendum
      ? refuse(RefusalCode.FINALIZED, `${noun} finalized at ${when}; your change was saved as a draft addendum`, { field: lock.addendumField, lockedAt: String(master[lock.field]) })
      : refuse(RefusalCode.FINALIZED, `${noun} finalized at ${when}; it cannot be changed${isDeleted(incoming) ? ' or deleted' : ''} (write an addendum instead)`);
  }

  const owned = changed.filter((f) => serverOwned.includes(f));
  if (owned.length > 0) return refuse(RefusalCode.SERVER_OWNED_FIELD, `${owned.join(', ')} ${owned.length > 1 ? 'are' : 'is'} set by the server only; a device cannot change ${owned.length > 1 ? 'them' : 'it'}.`);
  const immutable = changed.filter((f) => (ALWAYS_IMMUTABLE as readonly string[]).includes(f) || (rule.immutable ?? []).includes(f));
  if (immutable.length > 0) return refuse(RefusalCode.IMMUTABLE_FIELD, `${immutable.join(', ')} of a ${noun} cannot be changed${(ALWAYS_IMMUTABLE as readonly string[]).includes(immutable[0]!) ? '' : ` by your role (${identity.role})`}.`);
  if (deletionChanged && !rule.delete) {
    return refuse(RefusalCode.NO_DELETE, `Your role (${identity.role}) cannot ${isDeleted(incoming) ? 'delete' : 'restore'} ${collection}.`);
  }
  if (rule.update !== 'any') {
    const allowed: readonly string[] = rule.update === 'none' ? [] : rule.update;
    const forbidden = changed.filter((f) => !allowed.includes(f));
    if (forbidden.length > 0) {
      return refuse(RefusalCode.FIELD_NOT_WRITABLE, allowed.length === 0
        ? `A ${noun} cannot be changed once it is recorded (changed: ${forbidden.join(', ')}).`
        : `Your role (${identity.role}) may change only ${allowed.join(', ')} of a ${noun}; this change also touched ${forbidden.join(', ')}.`);
    }
  }
  if (inBoundScope(scope, incoming) !== true) return outOfScopeVerdict('new', rule, collection, noun, identity);
  for (const field of changed) {
    const needs = rule.changeWith?.[field];
    if (!needs || needs.where.every((c) => 'equals' in c && 'literal' in c.equals && incoming[c.field] === c.equals.literal)) continue;
    return refuse(RefusalCode.TRANSITION_NOT_ALLOWED, `Your role (${identity.role}) may change ${field} of a ${noun} only ${needs.label}; your change was not saved on the server.`);
  }
  return transitionVerdict(rule, master, incoming, changed, noun, identity)
    ?? referenceVerdict(access, identity, master, incoming, noun, references) ?? { kind: 'allow' };
}

/** A field's value as a transition names it: `null` for absent. */
function valueOf(doc: Doc | undefined, field: string): FieldValue | undefined {
  const value = doc?.[field];
  if (value === undefined || value === null) return null;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
}

const shown = (value: FieldValue | undefined) => (value === null ? 'nothing' : value === undefined ? 'that value' : JSON.stringify(value));

export function transitionAllowed(steps: readonly Transition[], from: FieldValue | undefined, to: FieldValue | undefined): boolean {
  if (to === undefined) return false;
  return steps.some((step) => (step.from === 'any' || (from !== undefined && step.from.includes(from))) && step.to.includes(to));
}

/** The refusal for the first changed field whose move the role's `transitions` do not allow; undefined when all are allowed. */
function transitionVerdict(rule: WriteRule, master: Doc | undefined, incoming: Doc, changed: readonly string[], noun: string, identity: Identity): WriteVerdict | undefined {
  const transitions = rule.transitions;
  if (!transitions) return undefined;
  for (const field of changed) {
    const steps = Object.prototype.hasOwnProperty.call(transitions, field) ? transitions[field] : undefined;
    if (!steps) continue;
    const from = valueOf(master, field);
    const to = valueOf(incoming, field);
    if (from === to || transitionAllowed(steps, from, to)) continue;
    const reachable = [...new Set(steps.filter((s) => s.from === 'any' || (from !== undefined && s.from.includes(from))).flatMap((s) => s.to))];
    return refuse(RefusalCode.TRANSITION_NOT_ALLOWED, `Your role (${identity.role}) cannot change ${field} of a ${noun} from ${shown(from)} to ${shown(to)}`
      + (reachable.length > 0 ? `; from ${shown(from)} it may only become ${reachable.map(shown).join(' or ')}.` : '; ask dispatch.'));
  }
  return undefined;
}
