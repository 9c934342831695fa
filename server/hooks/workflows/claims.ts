/**
 * Claims from billing records: an original (frequency 1) or a replacement (frequency 7) claim is
 * written as a document first, then submitted as an X12 837P file (claim-file.ts) through the claims gateway with an idempotency key
 * derived from the claim id, then marked submitted/accepted. A crash between the submission and
 * the status write re-submits with the same key, which the receiver drops as a duplicate.
 */
import type { Claim, WireDoc } from '../../../shared/schemas/index.ts';
import type { Integrations } from '../../integrations/types.ts';
import type { EffectContext } from '../types.ts';
import { readAgencySettings } from '../../agencies/directory.ts';
import type { AgencyBillingSettings } from '../../agencies/billing-settings.ts';
import { X12_CONTENT_TYPE } from '../../integrations/types.ts';
import { ClaimNotBillable, claimFile } from './claim-file.ts';
import { claimId as originalClaimId, offsetDateTime, offsetMinutesOf, read, writeDoc, type Draft, type KeyedLock } from './support.ts';

export type ClaimLine = NonNullable<Claim['lines']>[number];

/** Base line plus, when the service level bills mileage and there were loaded miles, one mileage line in loaded miles. */
export function claimLines(billing: WireDoc<'billing_records'>): ClaimLine[] {
  const modifier = billing.modifier ? { modifier: billing.modifier } : {};
  const lines: ClaimLine[] = [];
  if (billing.hcpcsBase) lines.push({ code: billing.hcpcsBase, ...modifier, units: 1 });
  if (billing.hcpcsMileage && billing.loadedMiles !== undefined && billing.loadedMiles > 0) lines.push({ code: billing.hcpcsMileage, ...modifier, units: billing.loadedMiles });
  return lines;
}

export interface ClaimDeps {
  integrations: Integrations;
  locks: KeyedLock;
  /** Where the agency's billing settings come from; absent: its agency settings in the store. */
  billingSettingsOf?: BillingSettingsLookup;
}

/** The agency's billing settings and name, from its agency settings in the store unless a test passes its own. */
export type BillingSettingsLookup = (ctx: EffectContext) => Promise<{ agencyName: string; billing: AgencyBillingSettings | undefined } | undefined>;

const storeBillingSettings: BillingSettingsLookup = async (ctx) => {
  const settings = await readAgencySettings(ctx.store, ctx.tenantId);
  return settings ? { agencyName: settings.name, billing: settings.billing } : undefined;
};

/** The 837P file the clearinghouse receives, with the charged lines it bills (claim-file.ts). */
async function submissionFile(ctx: EffectContext, deps: ClaimDeps, claim: WireDoc<'claims'>): Promise<{ file: string; lines: ClaimLine[] }> {
  const billing = await read(ctx, 'billing_records', claim.billingRecordId);
  const epcr = await read(ctx, 'epcrs', claim.epcrId);
  if (!billing || !epcr) throw new ClaimNotBillable(claim.id, [`its ${billing ? 'report' : 'billing record'} no longer exists`]);
  const original = claim.correctionOf ? await read(ctx, 'claims', claim.correctionOf) : undefined;
  const agency = await (deps.billingSettingsOf ?? storeBillingSettings)(ctx);
  const createdAt = offsetDateTime(ctx.now(), offsetMinutesOf(epcr.lockedAt ?? epcr.times?.unitNotified));
  const made = claimFile({ claim, billing, epcr, ...(original ? { original } : {}), agencyName: agency?.agencyName ?? '', settings: agency?.billing, createdAt });
  const lines = made.lines.map((line): ClaimLine => ({ code: line.hcpcs, ...(line.modifiers[0] ? { modifier: line.modifiers[0] } : {}), units: line.units, chargeCents: line.chargeCents }));
  return { file: made.file, lines };
}

/**
 * Why an original claim must be held instead of sent, if it must: a payer pays an ambulance claim
 * only with the patient's (or a representative's) signature authorising billing, or the crew's
 * attestation of why none could be had (CLM08–CLM10). Without any, the claim is made `held`.
 */
export function holdReasonOf(billing: WireDoc<'billing_records'>, settings: AgencyBillingSettings | undefined): string | undefined {
  const signature = billing.patientSignature ?? 'none';
  return signature === 'none' && settings?.unsignedClaims !== 'send'
    ? 'No patient or representative signature and no crew attestation on the report: record one (or the paper authorisation) and release the claim'
    : undefined;
}

/** Submits a claim still in `draft` and records the answer; a claim past draft is left alone. */
export async function submitClaimIfDraft(ctx: EffectContext, deps: ClaimDeps, id: string): Promise<WireDoc<'claims'> | undefined> {
  return deps.locks.run(`claim:${ctx.tenantId}:${id}`, async () => {
    const claim = await read(ctx, 'claims', id);
    if (!claim || claim.status !== 'draft') return claim;
    const made = await submissionFile(ctx, deps, claim);
    const answer = await deps.integrations.claims.submit({
      idempotencyKey: `claim:${claim.id}`,
      tenantId: ctx.tenantId,
      claimId: claim.id,
      contentType: X12_CONTENT_TYPE,
      body: made.file,
    });
    const epcr = await read(ctx, 'epcrs', claim.epcrId);
    const submittedAt = offsetDateTime(ctx.now(), offsetMinutesOf(epcr?.lockedAt ?? epcr?.times?.unitNotified));
    return writeDoc(ctx, 'claims', id, (current) => {
      if (!current || current.status !== 'draft') return undefined;
      return {
        ...current,
        status: answer.accepted ? 'accepted' : 'submitted',
        submittedAt,
        // The charges as billed (the fee schedule's at the time of sending), for the biller's worklist.
        lines: made.lines,
        ...(answer.reference ? { payerResponse: `reference ${answer.reference}`.slice(0, 200) } : {}),
      };
    });
  }, ctx.store);
}

/**
 * The original claim of a `ready` billing record: created if missing, submitted if not yet
 * submitted, and the billing record moved to `claimed`. Safe to call any number of times.
 */
export async function ensureOriginalClaim(ctx: EffectContext, deps: ClaimDeps, billingId: string): Promise<WireDoc<'claims'> | undefined> {
  const billing = await read(ctx, 'billing_records', billingId);
  if (!billing) return undefined;
  const id = originalClaimId(ctx.tenantId, billingId);
  const existing = await read(ctx, 'claims', id);
  if (!existing && billing.status !== 'ready') {
    ctx.log.info({ billingRecordId: billingId, status: billing.status }, 'billing record is not ready; no claim made');
    return undefined;
  }
  const hold = holdReasonOf(billing, (await (deps.billingSettingsOf ?? storeBillingSettings)(ctx))?.billing);
  await writeDoc(ctx, 'claims', id, (current) => {
    if (current) return undefined;
    const claim: Draft<'claims'> = {
      id, tenantId: ctx.tenantId, billingRecordId: billingId, epcrId: billing.epcrId,
      status: hold ? 'held' : 'draft', ...(hold ? { holdReason: hold } : {}), frequencyCode: '1', lines: claimLines(billing), _deleted: false,
    };
    return claim;
  });
  if (hold) ctx.log.info({ billingRecordId: billingId, claimId: id }, 'claim held: no patient or representative signature and no crew attestation');
  const claim = await submitClaimIfDraft(ctx, deps, id);
  if (claim && (claim.status === 'submitted' || claim.status === 'accepted')) {
    await writeDoc(ctx, 'billing_records', billingId, (current) => (current && current.status === 'ready' ? { ...current, status: 'claimed' as const } : undefined));
  }
  return claim;
}
