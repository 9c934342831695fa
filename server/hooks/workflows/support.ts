/**
 * Helpers shared by the workflows: typed reads of wire documents, the deterministic ids that tie
 * one effect to one document, schema-checked writes, times with an explicit offset and a small
 * keyed lock (in-process, and a store lease across processes). Nothing here talks to an outside system.
 */
import { collectionSchemas, type CollectionName, type WireDoc } from '../../../shared/schemas/index.ts';
import { deepEqual } from '../../../shared/merge/json.ts';
import type { JsonSchemaObject } from '../../../shared/schemas/wire-schema.ts';
import { buildCollectionRegistry, describeSchemaErrors, type CollectionRegistry } from '../../replication/collections.ts';
import { randomUUID } from 'node:crypto';
import type { Store, WireDocument } from '../../store/types.ts';
import type { Change, EffectContext } from '../types.ts';

/** A document as a workflow writes it: the runner adds `rev`, `id` and `tenantId`. */
export type Draft<C extends CollectionName> = Omit<WireDoc<C>, 'rev'> & { rev?: string };

export function typed<C extends CollectionName>(_collection: C, doc: WireDocument | undefined): WireDoc<C> | undefined {
  return doc as unknown as WireDoc<C> | undefined;
}

/** The live (not deleted) state of a document, or undefined. */
export function alive<C extends CollectionName>(collection: C, doc: WireDocument | undefined): WireDoc<C> | undefined {
  return doc && doc._deleted !== true ? typed(collection, doc) : undefined;
}

export async function read<C extends CollectionName>(ctx: EffectContext, collection: C, id: string): Promise<WireDoc<C> | undefined> {
  return alive(collection, await ctx.getDocument(collection, id));
}

/** The derived ids hooks write (one recipe with the device: shared/domain/ids.ts). */
export { billingRecordId, claimId, correctionClaimId, jobIdFor, stubEpcrId, ticketIdFor } from '../ids.ts';

let registry: CollectionRegistry | undefined;

/**
 * Why a document is not valid for its collection, or undefined when it is. Devices validate
 * every document they receive, so a hook must never write one they would refuse.
 */
export function schemaProblems(collection: CollectionName, doc: Record<string, unknown>): string | undefined {
  registry ??= buildCollectionRegistry(collectionSchemas as unknown as Record<string, JsonSchemaObject>);
  const spec = registry.get(collection);
  if (!spec) return `unknown collection ${collection}`;
  const candidate = { ...doc, rev: typeof doc['rev'] === 'string' ? doc['rev'] : '1-hook' };
  if (spec.validate(candidate)) return undefined;
  return describeSchemaErrors(spec.validate.errors).map((p) => `${p.path}: ${p.message}`).join('; ');
}

/** JSON has no `undefined`; dropping such keys keeps comparisons and validation honest. */
export function compact<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function sameContent(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const strip = ({ rev: _rev, ...rest }: Record<string, unknown>) => rest;
  return deepEqual(strip(compact(a)), strip(compact(b)));
}

/**
 * `ctx.write` with two guarantees: a build that changes nothing writes nothing (so a re-run is a
 * no-op), and a document that would fail its schema is refused with the reason (the entry is
 * retried and ends as a dead letter an admin can read) instead of reaching devices that reject it.
 */
export async function writeDoc<C extends CollectionName>(
  ctx: EffectContext,
  collection: C,
  id: string,
  build: (current: WireDoc<C> | undefined) => Draft<C> | undefined,
): Promise<WireDoc<C> | undefined> {
  const written = await ctx.write(collection, {
    id,
    build(current) {
      const next = build(typed(collection, current));
      if (!next) return undefined;
      const doc = compact({ ...next, id, tenantId: ctx.tenantId, _deleted: next._deleted ?? false }) as Record<string, unknown>;
      if (current && sameContent(current, doc)) return undefined;
      const problems = schemaProblems(collection, doc);
      if (problems) throw new Error(`refusing to write ${collection} ${id}: it would not be valid (${problems})`);
      return doc as WireDocument;
    },
  });
  return typed(collection, written);
}

/** Whether `test` holds for the new version and did not for the one it replaced. */
export function became(change: Change, test: (doc: WireDocument) => boolean): boolean {
  if (change.after._deleted) return false;
  return test(change.after) && !(change.before && !change.before._deleted && test(change.before));
}

/**
 * An original report (not an addendum) that the server just locked. Only the finalize hook
 * writes `lockedAt`: a device sending one of its own starts nothing downstream.
 */
export function becameLocked(change: Change, options: { addendum: boolean }): boolean {
  if (change.collection !== 'epcrs' || change.actor.kind !== 'hook') return false;
  if ((change.after['addendumOf'] !== undefined) !== options.addendum) return false;
  return became(change, (doc) => typeof doc['lockedAt'] === 'string');
}

export function nonBlankText(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** Offset date-times are written as the device writes them (shared/domain/time.ts). */
export { offsetDateTime, offsetMinutesOf } from '../../../shared/domain/time.ts';

/** The store's lease primitive (a KeyedLock's shared part). */
export type LeaseStore = Pick<Store, 'acquireLease' | 'releaseLease'>;

/**
 * Serialises async work per key (two hooks deciding on the same thing, e.g. one claim's
 * submission): inside this process by a promise chain, and across processes by a lease in the
 * store when one is given (the hook's `ctx.store`). The lease is a row with an expiry, not a
 * database lock: nothing is held open while the work calls out, and a process that dies holding
 * it frees it after `KEYED_LEASE_MS`.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly leaseMs = KEYED_LEASE_MS) {}

  async run<T>(key: string, work: () => Promise<T>, store?: LeaseStore): Promise<T> {
    const guarded = store ? () => withLease(store, key, this.leaseMs, work) : work;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(guarded, guarded);
    const tail = result.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** How long a keyed lease lasts by default if its holder never releases it (a process killed mid-work). */
export const KEYED_LEASE_MS = 120_000;

async function withLease<T>(store: LeaseStore, key: string, leaseMs: number, work: () => Promise<T>): Promise<T> {
  const lease = `lock:${key}`;
  const holder = randomUUID();
  const giveUpAt = Date.now() + leaseMs * 2;
  for (let wait = 20; !(await store.acquireLease(lease, holder, leaseMs)); wait = Math.min(500, wait * 2)) {
    if (Date.now() > giveUpAt) throw new Error(`another process has held ${key} for over ${leaseMs * 2} ms; the hook is retried later`);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  try {
    return await work();
  } finally {
    await store.releaseLease(lease, holder).catch(() => undefined);
  }
}
