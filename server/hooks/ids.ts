import { createHash } from 'node:crypto';
import { derivedIds, ID_RECIPES, idSource, uuidFromDigest } from '../../shared/domain/ids.ts';

/** The shared id recipe (shared/domain/ids.ts) over Node's SHA-256: synchronous, for hooks and the CAD bridge. */
export function deterministicId(...parts: string[]): string {
  return uuidFromDigest(createHash('sha256').update(idSource(parts)).digest());
}

/** The ids devices derive too (a unit, a CAD incident, the stub ePCR), from the shared recipes. */
const shared = derivedIds((parts) => deterministicId(...parts));
export const unitIdFor = shared.unitIdFor;
export const incidentIdFor = shared.incidentIdFor;
export const stubEpcrId = shared.stubEpcrIdFor;
export const billingRecordId = (tenantId: string, epcrId: string) => deterministicId(...ID_RECIPES.billingRecord(tenantId, epcrId));
export const claimId = (tenantId: string, billingId: string) => deterministicId(...ID_RECIPES.claim(tenantId, billingId));
export const correctionClaimId = (tenantId: string, addendumId: string) => deterministicId(...ID_RECIPES.correctionClaim(tenantId, addendumId));
export const ticketIdFor = (tenantId: string, orderId: string) => deterministicId(...ID_RECIPES.ticket(tenantId, orderId));
export const jobIdFor = (tenantId: string, ticketId: string) => deterministicId(...ID_RECIPES.job(tenantId, ticketId));
