/**
 * The generic three-way merge of two JSON documents that both descend from a common base.
 *
 * Master is the server's state, incoming a device's. When both changed a value differently,
 * master wins because the server's commit order is the only order every party agrees on
 * (device clocks are never trusted); the losing value goes to the `conflicts` history so
 * nothing a person typed is lost. Two exceptions, both so that what a person typed stays:
 * - free text (long strings such as the narrative) merges line by line, and where both sides
 *   changed the same lines the field keeps both versions, marked (free-text.ts);
 * - a value a workflow derived (recorded in the document's `derived` copy) never beats a value a
 *   person typed: the typed one is kept, whichever side it came from.
 */
import { isRevision, mergedRevision } from '../revision.ts';
import {
  CONFLICTS_KEY, DEFAULT_MAX_CONFLICTS, conflictEntry, conflictPathSegments, mergeConflictHistories,
  type Authorship, type ConflictEntry, type ConflictExtras,
} from './conflicts.ts';
import { isFreeTextSchema, mergeFreeText } from './free-text.ts';
import { LOCAL_META_KEYS, deepEqual, definedKeys, isPlainObject, type Doc } from './json.ts';
import { isDeleted, isSameRevision } from './same-revision.ts';

export interface MergeInput {
  /** The state both sides started from (RxDB's assumedMasterState); absent means "none". */
  base?: Doc;
  master: Doc;
  incoming: Doc;
}

export type MergeFunction = (input: MergeInput) => Doc;

/** The parts of a JSON schema the merge reads: child schemas and the limits it must keep. */
export interface SchemaNode {
  properties?: Readonly<Record<string, unknown>>;
  additionalProperties?: unknown;
  items?: unknown;
  maxItems?: number;
  maxProperties?: number;
}

export interface ThreeWayMergeOptions {
  /** The collection's schema; without it no size limit is enforced. */
  schema?: SchemaNode;
  /** Top-level keys always taken from master, besides `id` and `tenantId`. */
  masterOwned?: readonly string[];
  /**
   * Whether losing values are written to `conflicts`. Defaults to whether the schema declares
   * that property: adding it to a document whose schema lacks it would make the doc invalid.
   */
  recordConflicts?: boolean;
  /**
   * Top-level lists that merge as a union of items keyed by the named field (not `id`): an item
   * either side holds is kept, whatever the other side did, and items on both sides merge field
   * by field. For lists of evidence (attachments by SHA-256, shared/schemas/attachments.ts), whose
   * removal is an explicit flag on the item, never a missing item.
   */
  unionLists?: Readonly<Record<string, string>>;
}

/** Who made a document's latest edit (`lastEditProperty`): bookkeeping, never merged field by field. */
export const LAST_EDIT_KEY = 'lastEdit';
/** The copy of workflow-derived values (see epcrSchema.derived): written by the server only. */
export const DERIVED_KEY = 'derived';
/** Set by a merge rule, so the entry is history only, never an open conflict. */
export const TYPED_OVER_DERIVED = 'rule: the value a person typed is kept over an automatic stamp';

const REV_KEY = 'rev';
const DELETED_KEY = '_deleted';
const ALWAYS_MASTER_OWNED: readonly string[] = ['id', 'tenantId'];

export function createThreeWayMerge(options: ThreeWayMergeOptions = {}): MergeFunction {
  return (input) => threeWayMerge(input, options);
}

export function threeWayMerge(input: MergeInput, options: ThreeWayMergeOptions = {}): Doc {
  const { master, incoming } = input;
  if (isSameRevision(master, incoming)) return master;

  const base: Doc = input.base ?? {};
  const recordConflicts = options.recordConflicts ?? declaresConflicts(options.schema);
  const masterOwned = [...ALWAYS_MASTER_OWNED, ...(options.masterOwned ?? [])];
  const stamped = declares(options.schema, LAST_EDIT_KEY);
  const derives = declares(options.schema, DERIVED_KEY);
  const bookkeeping = new Set([
    REV_KEY, DELETED_KEY, ...LOCAL_META_KEYS, ...(recordConflicts ? [CONFLICTS_KEY] : []),
    ...(stamped ? [LAST_EDIT_KEY] : []), ...(derives ? [DERIVED_KEY] : []),
  ]);
  const notMerged = new Set([...bookkeeping, ...masterOwned]);
  const recorder = new ConflictRecorder(sideOf(master, stamped, derives), sideOf(incoming, stamped, derives), recordConflicts, options.unionLists ?? {});

  const deletion = mergeDeleted(base, master, incoming, bookkeeping, recorder);
  // A deletion that lost to an edit has no content worth merging: the survivor's edit stands.
  const masterSide = deletion.deleterLost && isDeleted(master) ? base : master;
  const incomingSide = deletion.deleterLost && isDeleted(incoming) ? base : incoming;
  const body = mergeObject(
    '',
    without(base, notMerged),
    without(masterSide, notMerged),
    without(incomingSide, notMerged),
    options.schema,
    recorder,
  );

  const result: Doc = {};
  for (const key of masterOwned) {
    if (master[key] !== undefined) result[key] = master[key];
  }
  const rev = isRevision(master.rev) && isRevision(incoming.rev) ? mergedRevision(master.rev, incoming.rev) : master.rev;
  if (rev !== undefined) result[REV_KEY] = rev;
  Object.assign(result, body);
  // Master's, like the derived copy: a merge that adds nothing to master (a queued change the
  // server already has, client/sync/queue-rebase.ts) must give master's content back exactly.
  if (stamped && (master[LAST_EDIT_KEY] ?? incoming[LAST_EDIT_KEY]) !== undefined) result[LAST_EDIT_KEY] = master[LAST_EDIT_KEY] ?? incoming[LAST_EDIT_KEY];
  if (derives && (master[DERIVED_KEY] ?? incoming[DERIVED_KEY]) !== undefined) result[DERIVED_KEY] = master[DERIVED_KEY] ?? incoming[DERIVED_KEY];
  if (recordConflicts && (master[CONFLICTS_KEY] !== undefined || incoming[CONFLICTS_KEY] !== undefined || recorder.entries.length > 0)) {
    result[CONFLICTS_KEY] = mergeConflictHistories(
      master[CONFLICTS_KEY],
      incoming[CONFLICTS_KEY],
      recorder.entries,
      conflictsLimit(options.schema),
    );
  }
  result._deleted = deletion.deleted;
  return result;
}

/** What the merge knows of one side: its revision, who last edited it, and its derived copy. */
interface Side {
  rev: unknown;
  author: Authorship;
  derived: unknown;
}

function sideOf(doc: Doc, stamped: boolean, derives: boolean): Side {
  const stamp = stamped ? doc[LAST_EDIT_KEY] : undefined;
  const author: Authorship = {};
  if (isPlainObject(stamp)) {
    if (typeof stamp.by === 'string') author.by = stamp.by;
    if (typeof stamp.at === 'string') author.at = stamp.at;
  }
  return { rev: doc.rev, author, derived: derives ? doc[DERIVED_KEY] : undefined };
}

class ConflictRecorder {
  readonly entries: ConflictEntry[] = [];
  readonly master: Side;
  readonly incoming: Side;
  /** The merge's union lists (ThreeWayMergeOptions.unionLists), by path; carried here as the one context every step gets. */
  readonly unionLists: Readonly<Record<string, string>>;
  private readonly enabled: boolean;

  constructor(master: Side, incoming: Side, enabled: boolean, unionLists: Readonly<Record<string, string>>) {
    this.master = master;
    this.incoming = incoming;
    this.enabled = enabled;
    this.unionLists = unionLists;
  }

  incomingLost(path: string, kept: unknown, lost: unknown, extras: ConflictExtras = {}): void {
    if (this.enabled) this.entries.push(conflictEntry(path, this.master.rev, this.incoming.rev, kept, lost, this.authorOf(this.master, path, kept), this.authorOf(this.incoming, path, lost), extras));
  }

  masterLost(path: string, kept: unknown, lost: unknown, extras: ConflictExtras = {}): void {
    if (this.enabled) this.entries.push(conflictEntry(path, this.incoming.rev, this.master.rev, kept, lost, this.authorOf(this.incoming, path, kept), this.authorOf(this.master, path, lost), extras));
  }

  /** Whether `value` at `path` on that side is the copy a workflow filled in, not something typed. */
  isDerived(side: Side, path: string, value: unknown): boolean {
    return value !== undefined && side.derived !== undefined && deepEqual(valueAt(side.derived, path), value);
  }

  private authorOf(side: Side, path: string, value: unknown): Authorship {
    return this.isDerived(side, path, value) ? { by: 'automatic (unit status / call timeline)' } : side.author;
  }
}

/** The value at a merge path (`times.backInService`, `vitals[v1].heartRate`) of a JSON value. */
function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const segment of conflictPathSegments(path)) {
    if (typeof segment === 'string') node = isPlainObject(node) ? node[segment] : undefined;
    else node = Array.isArray(node) ? node.find((item) => isPlainObject(item) && String(item.id) === segment.id) : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** Deleting loses to an edit on the other side: the edit is work someone did, the delete can be redone. */
function mergeDeleted(
  base: Doc,
  master: Doc,
  incoming: Doc,
  bookkeeping: ReadonlySet<string>,
  recorder: ConflictRecorder,
): { deleted: boolean; deleterLost: boolean } {
  const masterDeleted = isDeleted(master);
  if (masterDeleted === isDeleted(incoming)) return { deleted: masterDeleted, deleterLost: false };
  // The side that differs from the base is the one that acted; if it undeleted, it stays alive.
  if (isDeleted(base)) return { deleted: false, deleterLost: false };
  const survivor = masterDeleted ? incoming : master;
  if (deepEqual(without(base, bookkeeping), without(survivor, bookkeeping))) {
    return { deleted: true, deleterLost: false };
  }
  if (masterDeleted) recorder.masterLost(DELETED_KEY, false, true);
  else recorder.incomingLost(DELETED_KEY, false, true);
  return { deleted: false, deleterLost: true };
}

/** Returns undefined when the merged value is "absent". */
function mergeValue(
  path: string,
  base: unknown,
  master: unknown,
  incoming: unknown,
  schema: SchemaNode | undefined,
  recorder: ConflictRecorder,
): unknown {
  if (deepEqual(master, incoming)) return master;
  // Before the shortcuts below: a union list keeps an item even when one side merely dropped it.
  const unionKey = Object.prototype.hasOwnProperty.call(recorder.unionLists, path) ? recorder.unionLists[path] : undefined;
  if (unionKey !== undefined) {
    const union = keyedLists(base, master ?? [], incoming ?? [], unionKey);
    if (union !== undefined) return mergeKeyedLists(path, union, schema, recorder, true);
  }
  if (deepEqual(base, master)) return incoming;
  if (deepEqual(base, incoming)) return master;

  if (isPlainObject(master) && isPlainObject(incoming)) {
    return mergeObject(path, isPlainObject(base) ? base : {}, master, incoming, schema, recorder);
  }
  // A section holding free text (the narrative) one side removed while the other edited inside
  // it: decided field by field, so the text merges as free text and neither text is lost.
  if (isPlainObject(base) && holdsFreeText(schema)
    && (isPlainObject(master) || master === undefined) && (isPlainObject(incoming) || incoming === undefined)) {
    const merged = mergeObject(path, base, master ?? {}, incoming ?? {}, schema, recorder);
    if (Object.keys(merged).length > 0) return merged;
    if (isPlainObject(master)) return master;
    if (isPlainObject(incoming) && definedKeys(incoming).length === 0) recorder.incomingLost(path, master, incoming);
    return undefined;
  }
  const lists = keyedLists(base, master, incoming);
  if (lists !== undefined) return mergeKeyedLists(path, lists, schema, recorder);

  // A workflow only ever fills an empty field: a value typed on the device beats its stamp.
  if (recorder.isDerived(recorder.master, path, master) && !recorder.isDerived(recorder.incoming, path, incoming)) {
    recorder.masterLost(path, incoming, master, { resolvedBy: TYPED_OVER_DERIVED });
    return incoming;
  }
  if (isFreeTextSchema(schema) && (typeof master === 'string' || typeof incoming === 'string')
    && (master === undefined || typeof master === 'string') && (incoming === undefined || typeof incoming === 'string')) {
    const merged = mergeFreeText(typeof base === 'string' ? base : '', master ?? '', incoming ?? '', recorder.master.author, recorder.incoming.author);
    const maxLength = (schema as { maxLength: number }).maxLength;
    if (merged.text.length <= maxLength) {
      // Nothing is lost when no line was changed on both sides; otherwise both texts stay, marked.
      if (merged.bothKept) recorder.incomingLost(path, master, incoming, { bothKept: true });
      return merged.text === '' ? undefined : merged.text;
    }
  }

  recorder.incomingLost(path, master, incoming);
  return master;
}

function mergeObject(
  path: string,
  base: Record<string, unknown>,
  master: Record<string, unknown>,
  incoming: Record<string, unknown>,
  schema: SchemaNode | undefined,
  recorder: ConflictRecorder,
): Record<string, unknown> {
  // Sorted so that conflict entries come out in the same order whatever key order a store kept.
  const keys = [...new Set([...definedKeys(master), ...definedKeys(incoming), ...definedKeys(base)])].sort();
  const merged: Record<string, unknown> = {};
  for (const key of keys) {
    const value = mergeValue(joinPath(path, key), base[key], master[key], incoming[key], propertySchema(schema, key), recorder);
    if (value !== undefined) merged[key] = value;
  }

  const maxProperties = schema?.maxProperties;
  if (typeof maxProperties === 'number') {
    const mergedKeys = Object.keys(merged);
    let excess = mergedKeys.length - maxProperties;
    // Only keys incoming added can overflow (master's own keys fit), so those are dropped.
    for (let k = mergedKeys.length - 1; k >= 0 && excess > 0; k--) {
      const key = mergedKeys[k]!;
      if (master[key] !== undefined) continue;
      recorder.incomingLost(joinPath(path, key), undefined, merged[key]);
      delete merged[key];
      excess--;
    }
  }
  return merged;
}

type ItemId = string | number;
type Item = Record<string, unknown>;

interface KeyedLists {
  base: Map<ItemId, Item>;
  master: Map<ItemId, Item>;
  incoming: Map<ItemId, Item>;
}

/** Arrays of objects with unique ids merge item by item; any other array is one atomic value. */
function keyedLists(base: unknown, master: unknown, incoming: unknown, key = 'id'): KeyedLists | undefined {
  const baseItems = base === undefined ? new Map<ItemId, Item>() : itemsById(base, key);
  const masterItems = itemsById(master, key);
  const incomingItems = itemsById(incoming, key);
  if (baseItems === undefined || masterItems === undefined || incomingItems === undefined) return undefined;
  return { base: baseItems, master: masterItems, incoming: incomingItems };
}

function itemsById(list: unknown, key = 'id'): Map<ItemId, Item> | undefined {
  if (!Array.isArray(list)) return undefined;
  const items = new Map<ItemId, Item>();
  for (const item of list) {
    if (!isPlainObject(item)) return undefined;
    const id = item[key];
    if ((typeof id !== 'string' && typeof id !== 'number') || items.has(id)) return undefined;
    items.set(id, item);
  }
  return items;
}

function mergeKeyedLists(
  path: string,
  lists: KeyedLists,
  schema: SchemaNode | undefined,
  recorder: ConflictRecorder,
  union = false,
): Item[] {
  const ids = [...lists.master.keys(), ...[...lists.incoming.keys()].filter((id) => !lists.master.has(id))];
  const itemSchema = childSchema(schema?.items);
  const merged: Array<{ id: ItemId; item: Item }> = [];

  for (const id of ids) {
    const itemPath = `${path}[${String(id)}]`;
    const baseItem = lists.base.get(id);
    const masterItem = lists.master.get(id);
    const incomingItem = lists.incoming.get(id);
    if (masterItem !== undefined && incomingItem !== undefined) {
      merged.push({ id, item: mergeValue(itemPath, baseItem, masterItem, incomingItem, itemSchema, recorder) as Item });
      continue;
    }
    const survivor = masterItem ?? incomingItem!;
    if (baseItem === undefined || union) {
      // A union list keeps what one side no longer holds: its removal is a flag on the item.
      merged.push({ id, item: survivor });
    } else if (!deepEqual(baseItem, survivor)) {
      // Removed on one side while edited on the other: keep the edit, note the removal.
      merged.push({ id, item: survivor });
      if (masterItem !== undefined) recorder.incomingLost(itemPath, survivor, undefined);
      else recorder.masterLost(itemPath, survivor, undefined);
    }
  }

  const maxItems = schema?.maxItems;
  if (typeof maxItems === 'number' && merged.length > maxItems) {
    // The tail holds only items master does not have (master itself fits), so master still wins.
    for (const { id, item } of merged.splice(maxItems)) {
      recorder.incomingLost(`${path}[${String(id)}]`, undefined, item);
    }
  }
  return merged.map(({ item }) => item);
}

function propertySchema(schema: SchemaNode | undefined, key: string): SchemaNode | undefined {
  const properties = schema?.properties;
  if (properties !== undefined && Object.prototype.hasOwnProperty.call(properties, key)) {
    return childSchema(properties[key]);
  }
  return childSchema(schema?.additionalProperties);
}

function childSchema(node: unknown): SchemaNode | undefined {
  return isPlainObject(node) ? (node as SchemaNode) : undefined;
}

function holdsFreeText(schema: SchemaNode | undefined): boolean {
  return Object.values(schema?.properties ?? {}).some(isFreeTextSchema);
}

function declaresConflicts(schema: SchemaNode | undefined): boolean {
  return declares(schema, CONFLICTS_KEY);
}

function declares(schema: SchemaNode | undefined, key: string): boolean {
  const properties = schema?.properties;
  return properties !== undefined && Object.prototype.hasOwnProperty.call(properties, key);
}

function conflictsLimit(schema: SchemaNode | undefined): number {
  const limit = propertySchema(schema, CONFLICTS_KEY)?.maxItems;
  return typeof limit === 'number' ? limit : DEFAULT_MAX_CONFLICTS;
}

function without(doc: Doc, keys: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(doc)) {
    if (!keys.has(key)) out[key] = doc[key];
  }
  return out;
}

function joinPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}
