import { changedFields, nounOf, wallClock } from '../../../shared/access/policy.ts';
import type { PolicyDecisionInput, PolicyRefusal, PolicyWrite, WritePolicy } from '../../replication/write-policy.ts';
import type { WireDocument } from '../../store/types.ts';
import { deterministicId } from '../ids.ts';

const EPCRS = 'epcrs';

/**
 * A crew's change to a finalized ePCR is not lost: the access declaration refuses it
 * (`FINALIZED`, shared/access/rules.ts's lock rule, whose `addendumRoles` may amend), and this
 * policy saves the change as a new draft report pointing at the locked one (an addendum), in the
 * same transaction as the refusal. The device is told both: the reason, and the addendum's id
 * as `addendumId` (a field of the rejection, never words to parse). The crew completes and
 * finalizes the addendum like any report; the hooks then re-export and correct the claim
 * (server/hooks/workflows/epcr-addendum.ts).
 *
 * The addendum's id and revision depend only on (agency, report, the device's refused revision),
 * so a retried push makes no second one and gets the same answer. If the change cannot form a
 * valid report, it stays in quarantine only and the reason says so.
 */
export const epcrAddendumPolicy = {
  name: 'epcr-addendum',
  collections: [EPCRS],
  reserve: (write) => (mayAmend(write) ? [addendumIdOf(write)] : []),
  decide(input: PolicyDecisionInput): PolicyRefusal | undefined {
    const { verdict, stored } = input;
    if (input.collection !== EPCRS || verdict.kind !== 'refuse' || !verdict.addendum || !stored) return undefined;
    const addendum = mayAmend(input) ? addendumOf(input, stored, verdict.addendum.field, verdict.addendum.lockedAt) : undefined;
    if (addendum) return { rejection: { code: verdict.code, reason: verdict.reason, addendumId: String(addendum['id']) }, instead: [addendum] };
    return {
      rejection: {
        code: verdict.code,
        reason: `${nounOf(input.collection)} finalized at ${wallClock(verdict.addendum.lockedAt)}; it cannot be changed, and your change could not be made into an addendum (it was kept for your administrator)`,
      },
    };
  },
} satisfies WritePolicy;

/**
 * Whether this row can become an addendum at all: a role the lock rule lets amend, a device
 * revision to derive the addendum from, and a stated master (a row without one is a new document
 * or a conflict, never a change to a locked report).
 */
function mayAmend(write: PolicyWrite): boolean {
  const lock = write.rules.lock;
  return write.collection === EPCRS && lock !== undefined && lock.addendumRoles.includes(write.identity.role)
    && typeof write.incoming['rev'] === 'string' && write.assumed !== undefined;
}

/** The id recipe of the addendum made from one refused revision of one report. */
export function addendumIdOf(write: PolicyWrite): string {
  return deterministicId('epcr-addendum', write.identity.tenantId, write.id, String(write.incoming['rev']));
}

/** The draft addendum: the sections the crew changed, pointing at the locked report; undefined if it would not be a valid report. */
function addendumOf(input: PolicyDecisionInput, locked: WireDocument, field: string, lockedAt: string): WireDocument | undefined {
  const { identity, incoming } = input;
  const skip = new Set(['id', 'tenantId', 'rev', '_deleted', 'status', 'conflicts', field, 'addendumReason', ...(input.rules.serverOwned ?? [])]);
  const changed = changedFields(locked, incoming).filter((f) => !skip.has(f));
  const doc: WireDocument = {
    id: addendumIdOf(input),
    tenantId: identity.tenantId,
    rev: `1-addendum.${String(incoming['rev']).replace(/-/g, '.')}`.slice(0, 64),
    status: 'draft',
    ...(locked['unitId'] !== undefined ? { unitId: locked['unitId'] } : {}),
    ...(locked['incidentId'] !== undefined ? { incidentId: locked['incidentId'] } : {}),
    [field]: input.id,
    addendumReason: `Changes made on device ${identity.deviceId} after the report was finalized at ${wallClock(lockedAt)}`.slice(0, 200),
    _deleted: false,
  };
  for (const key of changed) if (incoming[key] !== undefined) doc[key] = incoming[key];
  // It must be a valid document like any other; if it cannot be, the change stays in quarantine only.
  return input.validate(doc) ? doc : undefined;
}
