import { epcrSchema } from '../schemas/epcrs.ts';
import { ATTACHMENT_KEY, ATTACHMENTS_FIELD } from '../schemas/attachments.ts';
import { createThreeWayMerge, type MergeFunction } from './three-way.ts';

/** Attachments merge as a union by SHA-256 (shared/schemas/attachments.ts): a signature is never lost in a conflict. */
export const ATTACHMENT_UNION = { [ATTACHMENTS_FIELD]: ATTACHMENT_KEY } as const;

/**
 * Set only by the server's finalize hook. A device's copy is at best stale, so it never
 * overrides what the server decided, even when only the device "changed" it.
 */
export const EPCR_SERVER_OWNED_FIELDS = ['lockedAt', 'finalizeErrors', 'finalizeWarnings'] as const;

/**
 * Section by section (patient, times, narrative, ...) and vitals, medications and procedures
 * item by item, so two crew members documenting one patient both keep their work.
 */
export const mergeEpcr: MergeFunction = createThreeWayMerge({
  schema: epcrSchema,
  masterOwned: EPCR_SERVER_OWNED_FIELDS,
  unionLists: ATTACHMENT_UNION,
});
