/**
 * The ePCR addendum write policy on its own: given a crew's change to a finalized report (as the
 * access declaration refuses it), it makes the draft addendum and names it in the rejection's
 * `addendumId`; it has no opinion on anything else. (The push path around it, with quarantine,
 * retries and a real RxDB device: test/server/access/rejections.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { checkWrite, type WriteVerdict } from '../../../../shared/access/policy.ts';
import { ACCESS_RULES } from '../../../../shared/access/rules.ts';
import type { Identity } from '../../../../shared/protocol/index.ts';
import { collectionSchemas } from '../../../../shared/schemas/index.ts';
import type { JsonSchemaObject } from '../../../../shared/schemas/wire-schema.ts';
import { addendumIdOf, epcrAddendumPolicy } from '../../../../server/hooks/policies/epcr-addendum.ts';
import { buildCollectionRegistry } from '../../../../server/replication/collections.ts';
import type { PolicyDecisionInput } from '../../../../server/replication/write-policy.ts';
import type { WireDocument } from '../../../../server/store/types.ts';
import { LOCKED_AT, make } from '../../../helpers/access.ts';

const A = 'agency-a';
const epcrs = buildCollectionRegistry(collectionSchemas as unknown as Record<string, JsonSchemaObject>).get('epcrs')!;
const crew: Identity = { tenantId: A, role: 'crew', userId: 'u-m1', deviceId: 'tab-1', unitId: 'M1' };
const admin: Identity = { tenantId: A, role: 'admin', userId: 'u-admin', deviceId: 'console' };

function input(identity: Identity, stored: WireDocument | undefined, incoming: WireDocument): PolicyDecisionInput {
  const verdict = checkWrite('epcrs', ACCESS_RULES.epcrs, identity, stored, incoming) as Exclude<WriteVerdict, { kind: 'unchanged' }>;
  return {
    collection: 'epcrs', identity, rules: ACCESS_RULES.epcrs, validate: (doc) => epcrs.validate(doc),
    id: String(incoming['id']), assumed: stored, incoming, stored, toWrite: incoming, verdict,
  };
}

describe('the ePCR addendum policy', () => {
  const locked = make.epcrs(A, { unitId: 'M1', status: 'finalized', lockedAt: LOCKED_AT, finalizeErrors: [] });
  const change = { ...locked, rev: '2-tab_1.aaaaaa', narrative: { text: 'aspirin 324 mg given at 14:20' } };

  it('turns a crew change to a finalized report into a draft addendum, named by a field of the rejection', () => {
    const write = input(crew, locked, change);
    expect(epcrAddendumPolicy.reserve!(write)).toEqual([addendumIdOf(write)]);
    const refusal = epcrAddendumPolicy.decide(write)!;
    expect(refusal.rejection).toEqual({ code: 'FINALIZED', reason: 'report finalized at 14:02; your change was saved as a draft addendum', addendumId: addendumIdOf(write) });
    expect(refusal.instead).toHaveLength(1);
    const [addendum] = refusal.instead!;
    expect(addendum).toMatchObject({
      id: addendumIdOf(write), tenantId: A, status: 'draft', unitId: 'M1', incidentId: locked['incidentId'], addendumOf: locked['id'],
      narrative: change.narrative, rev: '1-addendum.2.tab_1.aaaaaa', _deleted: false,
    });
    // Only what the crew changed; nothing the server owns.
    expect(addendum!['patient']).toBeUndefined();
    expect(addendum!['lockedAt']).toBeUndefined();
    expect(addendum!['finalizeErrors']).toBeUndefined();
    expect(addendum!['addendumReason']).toBe('Changes made on device tab-1 after the report was finalized at 14:02');
  });

  it('derives the same addendum from the same refused revision, and another from another', () => {
    const first = epcrAddendumPolicy.decide(input(crew, locked, change))!;
    expect(epcrAddendumPolicy.decide(input(crew, locked, change))).toEqual(first);
    const other = epcrAddendumPolicy.decide(input(crew, locked, { ...change, rev: '2-tab_1.bbbbbb' }))!;
    expect(other.rejection.addendumId).not.toBe(first.rejection.addendumId);
  });

  it('says so when the change cannot form a valid report, and writes nothing', () => {
    const invalid = { ...change, narrative: { text: 42 } } as unknown as WireDocument;
    const refusal = epcrAddendumPolicy.decide(input(crew, locked, invalid))!;
    expect(refusal.instead).toBeUndefined();
    expect(refusal.rejection.addendumId).toBeUndefined();
    expect(refusal.rejection).toMatchObject({ code: 'FINALIZED' });
    expect(refusal.rejection.reason).toContain('could not be made into an addendum');
  });

  it('has no opinion on a write the declaration allows, a role that may not amend, or another collection', () => {
    const draft = make.epcrs(A, { unitId: 'M1' });
    expect(epcrAddendumPolicy.decide(input(crew, draft, { ...draft, rev: '2-x', narrative: { text: 'ok' } }))).toBeUndefined();
    // An admin cannot write ePCRs at all: refused by the declaration, no addendum.
    expect(epcrAddendumPolicy.decide(input(admin, locked, change))).toBeUndefined();
    expect(epcrAddendumPolicy.reserve!(input(admin, locked, change))).toEqual([]);
    // A deletion of a locked report is refused without the addendum hint.
    expect(epcrAddendumPolicy.decide(input(crew, locked, { ...locked, rev: '2-x', _deleted: true }))).toBeUndefined();
    expect(epcrAddendumPolicy.reserve!({ ...input(crew, locked, change), collection: 'incidents' })).toEqual([]);
  });

  it('reserves nothing for a row without a stated master (a new document or a conflict)', () => {
    expect(epcrAddendumPolicy.reserve!({ ...input(crew, locked, change), assumed: undefined })).toEqual([]);
  });
});
