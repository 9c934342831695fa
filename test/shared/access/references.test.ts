/**
 * Who may refer to what (issue 17, finding 2: crew of M1 amended M2's locked report because
 * `addendumOf` was only checked on update). Generated from the access declaration and the
 * schemas: every reference field of every collection, against every role, created and changed.
 * A new reference field in a schema without a rule in shared/access/rules.ts fails here.
 */
import { describe, expect, it } from 'vitest';
import { checkWrite, type Doc, type ReferenceContext, type ReferenceLookup, type WriteVerdict } from '../../../shared/access/policy.ts';
import { ACCESS_RULES, type Reference, type Scope } from '../../../shared/access/rules.ts';
import { ROLES, type Identity, type Role } from '../../../shared/protocol/index.ts';
import { collectionSchemas, COLLECTION_NAMES, type CollectionName } from '../../../shared/schemas/index.ts';
import { refId } from '../../../shared/schemas/common.ts';
import { make } from '../../helpers/access.ts';

const TENANT = 'agency-a';
const IDENTITIES: Record<Role, Identity> = {
  crew: { tenantId: TENANT, role: 'crew', userId: 'u-crew', deviceId: 'tab-1', unitId: 'M1' },
  technician: { tenantId: TENANT, role: 'technician', userId: 'u-tech', deviceId: 'phone-1', technicianId: 'T1' },
  dispatcher: { tenantId: TENANT, role: 'dispatcher', userId: 'u-disp', deviceId: 'console-1' },
  biller: { tenantId: TENANT, role: 'biller', userId: 'u-bill', deviceId: 'office-1' },
  office: { tenantId: TENANT, role: 'office', userId: 'u-office', deviceId: 'office-2' },
  admin: { tenantId: TENANT, role: 'admin', userId: 'u-admin', deviceId: 'console-2' },
};

/** Top-level schema fields that name something: declared as `refId`, or named `…Id` / `…Of`. */
function referenceFieldsOf(collection: CollectionName): string[] {
  const properties = collectionSchemas[collection].properties as Record<string, unknown>;
  return Object.entries(properties)
    .filter(([name, schema]) => name !== 'id' && name !== 'tenantId' && (schema === refId || /(Id|Of)$/.test(name)))
    .map(([name]) => name)
    .sort();
}

const identityValue = (identity: Identity, attribute: string) => (identity as unknown as Record<string, string | undefined>)[attribute];

/** `doc` changed so it is inside `scope` for `identity` (the first alternative made true); undefined if it cannot be. */
function inside(scope: Scope, identity: Identity, doc: Doc): Doc | undefined {
  if (scope.kind === 'tenant') return doc;
  if (scope.kind === 'via') return undefined;
  const out = { ...doc };
  for (const condition of scope.anyOf[0]!) {
    if ('present' in condition) out[condition.field] ??= '2026-11-22T14:02:10-05:00';
    else if ('literal' in condition.equals) out[condition.field] = condition.equals.literal;
    else {
      const value = identityValue(identity, condition.equals.identity);
      if (value === undefined) return undefined;
      out[condition.field] = value;
    }
  }
  return out;
}

/** `doc` changed so it is outside `scope` for `identity` (every alternative made false); undefined for the whole agency. */
function outside(scope: Scope, identity: Identity, doc: Doc): Doc | undefined {
  if (scope.kind !== 'where') return undefined;
  const out = { ...doc };
  for (const alternative of scope.anyOf) {
    const condition = alternative[0]!;
    if ('present' in condition) delete out[condition.field];
    else out[condition.field] = 'literal' in condition.equals ? `not-${String(condition.equals.literal)}` : `not-${identityValue(identity, condition.equals.identity) ?? 'x'}`;
  }
  return out;
}

/** What the server found for each lookup: one document, "none there" (null) or not looked up (undefined). */
function context(found: Doc | null | undefined): ReferenceContext {
  return { rules: ACCESS_RULES, target: (_lookup: ReferenceLookup) => found };
}

/** A document of `collection` this identity may write without the reference, if its role may write one at all. */
function writable(collection: CollectionName, identity: Identity): Doc {
  const rule = ACCESS_RULES[collection].write[identity.role];
  const base = make[collection](TENANT) as Doc;
  for (const [field, ref] of Object.entries(ACCESS_RULES[collection].references)) if (ref.must === 'update' || ref.must === 'read') delete base[field];
  return (rule && inside(rule.scope, identity, base)) ?? base;
}

const isRefusal = (verdict: WriteVerdict) => verdict.kind === 'refuse';

describe('every reference field has a rule', () => {
  for (const collection of COLLECTION_NAMES) {
    it(`${collection}: ${referenceFieldsOf(collection).join(', ') || 'no reference fields'}`, () => {
      const declared = ACCESS_RULES[collection].references;
      expect(Object.keys(declared).sort()).toEqual(referenceFieldsOf(collection));
      for (const ref of Object.values(declared) as Reference[]) {
        // A reference left to the agency says why, for the reviewer and docs/data-model.md.
        if (ref.must === 'agency') expect(ref.why.length).toBeGreaterThan(40);
        if (ref.must !== 'update' && ref.must !== 'read') continue;
        // A key the named collection really has.
        expect(Object.keys(collectionSchemas[ref.to].properties)).toContain(ref.key ?? 'id');
      }
    });
  }

  it('a lock rule\'s addendum field may only name a document the writer may change', () => {
    for (const collection of COLLECTION_NAMES) {
      const lock = ACCESS_RULES[collection].lock;
      if (lock) expect(ACCESS_RULES[collection].references[lock.addendumField]).toEqual({ must: 'update', to: collection });
    }
  });

  it('a field that names the writer itself is bound to the writer by every role\'s write scope', () => {
    for (const collection of COLLECTION_NAMES) {
      for (const [field, ref] of Object.entries(ACCESS_RULES[collection].references)) {
        if (ref.must !== 'self') continue;
        for (const [role, rule] of Object.entries(ACCESS_RULES[collection].write)) {
          const maySet = rule!.create || rule!.update === 'any' || (Array.isArray(rule!.update) && rule!.update.includes(field));
          if (!maySet || (!rule!.create && (rule!.immutable ?? []).includes(field))) continue;
          expect(rule!.scope.kind, `${role} × ${collection}.${field}`).toBe('where');
          if (rule!.scope.kind !== 'where') continue;
          for (const alternative of rule!.scope.anyOf) {
            expect(alternative.some((c) => c.field === field && 'equals' in c && 'identity' in c.equals), `${role} × ${collection}.${field}`).toBe(true);
          }
        }
      }
    }
  });
});

describe('every role, every reference field: only what the role may change (update) or see (read) can be named', () => {
  for (const collection of COLLECTION_NAMES) {
    for (const [field, ref] of Object.entries(ACCESS_RULES[collection].references)) {
      if (ref.must !== 'update' && ref.must !== 'read') continue;
      for (const role of ROLES) {
        it(`${role} × ${collection}.${field} (${ref.must} ${ref.to})`, () => {
          const identity = IDENTITIES[role];
          const access = ACCESS_RULES[collection];
          const targetAccess = ACCESS_RULES[ref.to];
          const overTarget = ref.must === 'update' ? targetAccess.write[role] : targetAccess.read[role];
          const key = ref.key ?? 'id';
          const targetBase = make[ref.to](TENANT) as Doc;
          const reachable = overTarget ? inside(overTarget.scope, identity, targetBase) : undefined;
          const unreachable = overTarget ? outside(overTarget.scope, identity, targetBase) : targetBase;
          const valueOf = (target: Doc) => String(target[key]);

          // Created with the reference, and an existing document changed to carry it.
          const base = writable(collection, identity);
          const cases: { what: string; master: Doc | undefined; with: (value: string) => Doc }[] = [
            { what: 'create', master: undefined, with: (value) => ({ ...base, [field]: value }) },
            { what: 'update', master: base, with: (value) => ({ ...base, rev: '2-x', [field]: value }) },
          ];
          for (const c of cases) {
            const without = checkWrite(collection, access, identity, c.master, c.what === 'create' ? base : { ...base, rev: '2-x', notes: 'changed' }, context(null));
            const verdictFor = (target: Doc | null | undefined, value: string) => checkWrite(collection, access, identity, c.master, c.with(value), context(target));
            const label = `${role} ${c.what}s ${collection} with ${field}`;
            if (isRefusal(without) && c.what === 'create') {
              // The role may not make this document at all: naming anything changes nothing.
              if (reachable) expect(isRefusal(verdictFor(reachable, valueOf(reachable))), label).toBe(true);
              continue;
            }
            const settable = !isRefusal(checkWrite(collection, access, identity, c.master, c.with('probe'), { rules: ACCESS_RULES, target: () => reachable ?? null }))
              || !isRefusal(checkWrite(collection, access, identity, c.master, c.with('probe'), context(null)));
            if (!settable) {
              // The role may not set this field (not in its update list, immutable): refused whatever it names.
              if (reachable && c.master?.[field] !== valueOf(reachable)) expect(isRefusal(verdictFor(reachable, valueOf(reachable))), label).toBe(true);
              continue;
            }
            if (!overTarget) {
              expect(verdictFor(targetBase, valueOf(targetBase)), `${label}: it has no rule over ${ref.to}`).toMatchObject({ kind: 'refuse', code: 'OUT_OF_SCOPE' });
              continue;
            }
            if (reachable) expect(verdictFor(reachable, valueOf(reachable)), `${label} naming one it may ${ref.must}`).toEqual({ kind: 'allow' });
            if (unreachable) {
              expect(verdictFor(unreachable, valueOf(unreachable)), `${label} naming one it may not ${ref.must}`).toMatchObject({ kind: 'refuse', code: 'OUT_OF_SCOPE' });
            } else {
              expect(overTarget.scope.kind, `${label}: only a whole-agency rule has nothing out of reach`).toBe('tenant');
            }
            // An id that names nothing in the agency: an amendment must amend something; a read
            // reference to nothing opens nothing. Either way the same answer as for any id elsewhere.
            const missing = verdictFor(null, 'no-such-id');
            if (ref.must === 'update') expect(missing, `${label} naming nothing`).toMatchObject({ kind: 'refuse', code: 'OUT_OF_SCOPE' });
            else expect(missing, `${label} naming nothing`).toEqual({ kind: 'allow' });
            // A check the server could not make (nothing looked up) allows nothing it needed.
            if (ref.must === 'update' || overTarget.scope.kind !== 'tenant') {
              expect(isRefusal(verdictFor(undefined, valueOf(reachable ?? targetBase))), `${label}, not looked up`).toBe(true);
            }
          }
        });
      }
    }
  }

  it('the refusal reads the same for a report out of reach and for one that exists nowhere', () => {
    const crew = IDENTITIES.crew;
    const other = make.epcrs(TENANT, { unitId: 'M2', lockedAt: '2026-11-22T14:02:10-05:00' });
    const addendum = (addendumOf: string) => make.epcrs(TENANT, { id: 'same-id', unitId: 'M1', incidentId: undefined, addendumOf });
    const words = (verdict: WriteVerdict, id: string) => JSON.stringify(verdict).replaceAll(id, '<id>');
    const outOfReach = checkWrite('epcrs', ACCESS_RULES.epcrs, crew, undefined, addendum(other.id), context(other));
    const nowhere = checkWrite('epcrs', ACCESS_RULES.epcrs, crew, undefined, addendum('4f6c2d0e-1111-4aaa-8bbb-000000000000'), context(null));
    expect(outOfReach).toMatchObject({ kind: 'refuse', code: 'OUT_OF_SCOPE' });
    expect(words(nowhere, '4f6c2d0e-1111-4aaa-8bbb-000000000000')).toBe(words(outOfReach, other.id));
  });
});

describe('a `known` reference names only what the server knows in the agency (jobs.assigneeId: a technician)', () => {
  for (const collection of COLLECTION_NAMES) {
    for (const [field, ref] of Object.entries(ACCESS_RULES[collection].references)) {
      if (ref.must !== 'known') continue;
      for (const role of ROLES) {
        const rule = ACCESS_RULES[collection].write[role];
        const maySet = rule && (rule.create || rule.update === 'any' || (Array.isArray(rule.update) && rule.update.includes(field)));
        if (!maySet) continue;
        it(`${role} × ${collection}.${field} (known ${ref.to}.${ref.key})`, () => {
          const identity = IDENTITIES[role];
          const access = ACCESS_RULES[collection];
          // The document as the role finds it (inside its scope and change-only scope), then with the field set.
          let master = make[collection](TENANT) as Doc;
          delete master[field];
          for (const scope of [rule!.scope, ...(rule!.changeOnly ? [rule!.changeOnly] : [])]) master = inside(scope, identity, master) ?? master;
          const moved = (value: string) => {
            const next: Doc = { ...master, rev: '2-x', [field]: value };
            // Into the role's write scope with the field set (e.g. an assigned job names its technician).
            if (rule!.scope.kind === 'where') {
              const alternative = rule!.scope.anyOf.find((alt) => alt.some((c) => c.field === field));
              for (const c of alternative ?? []) if ('equals' in c && 'literal' in c.equals) next[c.field] = c.equals.literal;
            }
            return next;
          };
          const known = { ...(make[ref.to](TENANT) as Doc), [ref.key]: 'T-known' };
          for (const c of ref.where) if ('equals' in c && 'literal' in c.equals) known[c.field] = c.equals.literal;
          const verdict = (target: Doc | null | undefined, value: string) => checkWrite(collection, access, identity, master, moved(value), context(target));
          expect(verdict(known, 'T-known'), 'naming one the server knows').toEqual({ kind: 'allow' });
          expect(verdict(null, 'T-nobody'), 'naming one known nowhere').toMatchObject({ kind: 'refuse', code: 'OUT_OF_SCOPE' });
          expect(verdict(undefined, 'T-known'), 'not looked up').toMatchObject({ kind: 'refuse', code: 'OUT_OF_SCOPE' });
          expect(verdict({ ...known, _deleted: true }, 'T-known'), 'naming a deleted one').toMatchObject({ kind: 'refuse', code: 'OUT_OF_SCOPE' });
          for (const c of ref.where) {
            if (!('equals' in c) || !('literal' in c.equals)) continue;
            expect(verdict({ ...known, [c.field]: `not-${String(c.equals.literal)}` }, 'T-known'), `naming one whose ${c.field} is not ${String(c.equals.literal)}`).toMatchObject({ kind: 'refuse', code: 'OUT_OF_SCOPE' });
          }
        });
      }
    }
  }
});
