/**
 * The claim of the finished report, for the biller's worklist. Auto-claim and the clearinghouse
 * are off in a fresh development server, so no workflow makes one: once the hooks have locked the
 * report and made its `ready` billing record, the seed writes the original claim (frequency 1) as
 * a `draft` under the id the claim workflows use, so a later submission finds and sends this one.
 */
import type { WireDoc } from '../../shared/schemas/index.ts';
import { claimLines } from '../hooks/workflows/claims.ts';
import { billingRecordId, claimId } from '../hooks/workflows/support.ts';
import { finishedEpcrId } from './epcrs.ts';
import { createIfMissing, type DemoSeedContext } from './write.ts';

export interface ClaimSeedOptions {
  /** How long to wait for the hooks to lock and bill the report. */
  timeoutMs: number;
}

/** Writes the claim; false when the billing record did not become ready in time (nothing is written then). */
export async function seedClaim(ctx: DemoSeedContext, options: ClaimSeedOptions): Promise<boolean> {
  const epcrId = finishedEpcrId(ctx.tenantId);
  const billingId = billingRecordId(ctx.tenantId, epcrId);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const [row] = await ctx.app.store.getDocuments('billing_records', ctx.tenantId, [billingId]);
    const billing = row ? (JSON.parse(row.json) as WireDoc<'billing_records'>) : undefined;
    if (billing && !billing._deleted && billing.status !== 'draft') {
      await createIfMissing(ctx, 'claims', {
        id: claimId(ctx.tenantId, billingId), billingRecordId: billingId, epcrId,
        status: 'draft', frequencyCode: '1', lines: claimLines(billing),
      });
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
