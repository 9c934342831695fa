import { createHash } from 'node:crypto';
import { agencyTagFromDigest, agencyTagSource, derivedIds, derivedUuid, ID_RECIPES, idSource } from '../../shared/domain/ids.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();

/**
 * The shared id recipe (shared/domain/ids.ts) over Node's SHA-256: synchronous, for hooks and the
 * CAD bridge. The agency comes second, after what kind of thing is named: the id carries its tag.
 */
export function deterministicId(kind: string, tenantId: string, ...rest: string[]): string {
  return derivedUuid(sha256(agencyTagSource(tenantId)), sha256(idSource([kind, tenantId, ...rest])));
}

const tags = new Map<string, string>();
/** The tag derived ids of this agency carry (cached: push asks it for every derived id it sees). */
export function agencyTagOf(tenantId: string): string {
  let tag = tags.get(tenantId);
  if (tag === undefined) {
    tag = agencyTagFromDigest(sha256(agencyTagSource(tenantId)));
    if (tags.size > 10_000) tags.clear();
    tags.set(tenantId, tag);
  }
  return tag;
}

/** The ids devices derive too (a unit, a CAD incident, the stub ePCR), from the shared recipes. */
const shared = derivedIds((parts) => deterministicId(parts[0]!, parts[1]!, ...parts.slice(2)));
const deterministic = (parts: readonly string[]) => deterministicId(parts[0]!, parts[1]!, ...parts.slice(2));
export const unitIdFor = shared.unitIdFor;
export const incidentIdFor = shared.incidentIdFor;
export const stubEpcrId = shared.stubEpcrIdFor;
export const orderIdFor = shared.orderIdFor;
export const billingRecordId = (tenantId: string, epcrId: string) => deterministic(ID_RECIPES.billingRecord(tenantId, epcrId));
export const claimId = (tenantId: string, billingId: string) => deterministic(ID_RECIPES.claim(tenantId, billingId));
export const correctionClaimId = (tenantId: string, addendumId: string) => deterministic(ID_RECIPES.correctionClaim(tenantId, addendumId));
export const ticketIdFor = (tenantId: string, orderId: string) => deterministic(ID_RECIPES.ticket(tenantId, orderId));
export const jobIdFor = (tenantId: string, ticketId: string) => deterministic(ID_RECIPES.job(tenantId, ticketId));
