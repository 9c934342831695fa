/**
 * epcr-addendum (compensation): a locked addendum that changes what was billed (service level,
 * loaded miles, destination) corrects the billing record and, when the original claim was already
 * submitted, sends a replacement claim (frequency 7, correctionOf the original). A claim not yet
 * submitted is simply corrected in place.
 */
import { deepEqual } from '../../../shared/merge/json.ts';
import type { WireDoc } from '../../../shared/schemas/index.ts';
import type { Workflow } from '../types.ts';
import { destinationTypeFor, roundLoadedMiles, SERVICE_LEVELS, type BillingFields } from './billing.ts';
import { claimLines, submitClaimIfDraft, type ClaimDeps } from './claims.ts';
import { becameLocked, billingRecordId, claimId, compact, correctionClaimId, read, writeDoc, type Draft } from './support.ts';

/** The billing fields the addendum changes, on top of the billing record as it is now (earlier addenda included). */
export function amendedBillingFields(billing: WireDoc<'billing_records'>, addendum: WireDoc<'epcrs'>): Partial<BillingFields> {
  const amended: Partial<BillingFields> = {};
  const level = addendum.payment?.serviceLevel ? SERVICE_LEVELS[addendum.payment.serviceLevel] : undefined;
  if (level) {
    amended.serviceLevel = level.name;
    amended.hcpcsBase = level.hcpcsBase;
    amended.hcpcsMileage = level.hcpcsMileage;
  }
  const miles = roundLoadedMiles(addendum.disposition?.loadedMiles);
  if (miles !== undefined) amended.loadedMiles = miles;
  if (addendum.disposition?.destinationType !== undefined) {
    const destination = destinationTypeFor(addendum.disposition.destinationType);
    amended.destinationType = destination;
    amended.modifier = destination && billing.originType ? `${billing.originType}${destination}` : undefined;
  }
  if (addendum.disposition?.destinationAddress !== undefined) amended.dropoffAddress = addendum.disposition.destinationAddress;
  return amended;
}

export function changedBillingFields(billing: WireDoc<'billing_records'>, amended: Partial<BillingFields>): string[] {
  return (Object.keys(amended) as (keyof BillingFields)[]).filter((key) => !deepEqual(compact({ v: amended[key] }).v, billing[key]));
}

const SUBMITTED: ReadonlySet<string> = new Set(['submitted', 'accepted']);

export function epcrAddendumWorkflow(deps: ClaimDeps): Workflow {
  return {
    name: 'epcr-addendum',
    description: 'Compensation: a locked addendum changing service level, loaded miles or destination updates the billing record and sends a replacement claim (frequency 7) when the original claim was submitted.',
    trigger: {
      collection: 'epcrs',
      when: (change) => becameLocked(change, { addendum: true }),
      key: (change) => change.id,
    },
    async run(ctx, payload) {
      const addendum = await read(ctx, 'epcrs', payload.id);
      if (!addendum?.lockedAt || !addendum.addendumOf) return;
      const billingId = billingRecordId(ctx.tenantId, addendum.addendumOf);
      const billing = await read(ctx, 'billing_records', billingId);
      if (!billing || billing.status === 'void') {
        ctx.log.info({ addendumId: addendum.id, epcrId: addendum.addendumOf }, 'amended report has no billing record to correct');
        return;
      }
      const amended = amendedBillingFields(billing, addendum);
      const changed = changedBillingFields(billing, amended);
      const originalClaimId = claimId(ctx.tenantId, billingId);
      const correctionId = correctionClaimId(ctx.tenantId, addendum.id);
      const originalClaim = await read(ctx, 'claims', originalClaimId);
      const correction = await read(ctx, 'claims', correctionId);
      if (changed.length === 0 && !correction) return;

      if (changed.length > 0) {
        const corrected = compact({ ...billing, ...amended }) as WireDoc<'billing_records'>;
        if (originalClaim && SUBMITTED.has(originalClaim.status)) {
          // The replacement claim is written before the billing record changes, so a re-run after a
          // crash still sees the change and finds (not duplicates) the claim.
          await writeDoc(ctx, 'claims', correctionId, (current) => {
            if (current) return undefined;
            const claim: Draft<'claims'> = {
              id: correctionId, tenantId: ctx.tenantId, billingRecordId: billingId, epcrId: addendum.addendumOf!,
              status: 'draft', frequencyCode: '7', correctionOf: originalClaimId, lines: claimLines(corrected), _deleted: false,
            };
            return claim;
          });
        } else if (originalClaim?.status === 'draft') {
          await deps.locks.run(`claim:${ctx.tenantId}:${originalClaimId}`, () => writeDoc(ctx, 'claims', originalClaimId, (current) =>
            (current && current.status === 'draft' ? { ...current, lines: claimLines(corrected) } : undefined)), ctx.store);
        }
        ctx.log.info({ addendumId: addendum.id, billingRecordId: billingId, changed }, 'addendum corrects the billing record');
        await writeDoc(ctx, 'billing_records', billingId, (current) => {
          if (!current || current.status === 'void') return undefined;
          return compact({ ...current, ...amended });
        });
      }
      await submitClaimIfDraft(ctx, deps, correctionId);
    },
  };
}
