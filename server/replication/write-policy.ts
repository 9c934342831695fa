import type { WriteVerdict } from '../../shared/access/policy.ts';
import type { RejectionNotice } from '../../shared/protocol/index.ts';
import type { CollectionAccess } from '../../shared/access/rules.ts';
import type { Identity } from '../../shared/protocol/index.ts';
import type { WireDocument } from '../store/types.ts';

/**
 * The write-policy seam: how domain rules plug into the generic push (as RxServer's
 * `changeValidator` and RxDB's replication handlers do), so replication itself knows no EMS.
 *
 * Push decides each row in order: schema, tenant, visibility, RxDB's revision rule (and the
 * server merge of a queue replay), then the access declaration (shared/access/rules.ts). A row
 * that gets that far, and is not a write that changes nothing, is then put to the server's
 * policies, in the order they were registered; the first one with an opinion decides. A policy
 * may refuse the row (allowed or not by the declaration) with a structured rejection, and may
 * turn it into other writes: documents of the same collection, written in the same transaction
 * instead of it (a crew's change to a finalized report becomes a draft addendum:
 * server/hooks/policies/epcr-addendum.ts). Without an opinion, the declaration's verdict stands.
 *
 * Policies are pure functions of what they are given: they run inside the write transaction,
 * possibly twice for one push (a batch is decided again when it needs the device's history).
 */
export interface WritePolicy {
  /** For errors and logs. */
  readonly name: string;
  /**
   * The collections whose rows this policy judges; push asks it about no other. Declared, not
   * tested inside `decide`, so a push of a collection no policy judges (a GPS batch) asks none.
   */
  readonly collections: readonly string[];
  /**
   * Ids of the documents this policy may write instead of the row (`PolicyRefusal.instead`),
   * asked before the batch's transaction: they are decided in it, right after the row, so no
   * other writer can race them. An instead-document whose id was not reserved is a bug (500).
   */
  reserve?(write: PolicyWrite): readonly string[];
  /**
   * Whether a row's id may be written at all by this caller, asked first, before anything about
   * the stored document is looked at (so the answer can depend on the id alone, never on whether
   * or where it exists); `undefined` to let the row go on.
   */
  vetoId?(row: { readonly collection: string; readonly identity: Identity; readonly id: string }): WriteRejection | undefined;
  /** The policy's opinion of one row; `undefined` for none. A policy without it only vets ids. */
  decide?(write: PolicyDecisionInput): PolicyRefusal | undefined;
}

/** A pushed row, as every policy sees it. */
export interface PolicyWrite {
  readonly collection: string;
  readonly identity: Identity;
  /** The collection's access declaration (shared/access/rules.ts): its lock rule, server-owned fields. */
  readonly rules: CollectionAccess;
  /** The collection's schema check: an instead-document must be a valid document like any other. */
  readonly validate: (doc: WireDocument) => boolean;
  readonly id: string;
  /** The state the device says it changed (RxDB's `assumedMasterState`); undefined for a new document. */
  readonly assumed: WireDocument | undefined;
  /** The state the device sent. */
  readonly incoming: WireDocument;
}

export interface PolicyDecisionInput extends PolicyWrite {
  /** The stored document; undefined when the row creates one. */
  readonly stored: WireDocument | undefined;
  /**
   * The state that would be written: `incoming`, or the server's merge of it for a queue replay
   * (`?conflicts=merge`).
   */
  readonly toWrite: WireDocument;
  /** What the access declaration decided for `toWrite` (never `unchanged`: such a row is a no-op). */
  readonly verdict: Exclude<WriteVerdict, { kind: 'unchanged' }>;
}

/**
 * Why a write was refused, as the device receives it (push header `x-fieldsync-rejections`, the
 * `SYNC.rejections` list, a 403's details) and as quarantine keeps it: a code, plain
 * words, and the structured extras of the wire's `RejectionNotice` (e.g. `addendumId`). Never
 * folded into the words: a device reads each field, and nothing parses them back out of text.
 */
export type WriteRejection = Omit<RejectionNotice, 'id'>;

export interface PolicyRefusal {
  readonly rejection: WriteRejection;
  /**
   * Documents of the row's collection written instead of it, in the same transaction, each with
   * an id from `reserve`. One already stored is not written again (a retried push), so they must
   * be deterministic in the row. Written only when the row is refused with state to send back (a
   * stored document the caller may see); a refused new document refuses the whole request.
   */
  readonly instead?: readonly WireDocument[];
}

/** The first opinion of `policies` on a row, if any. */
export function firstOpinion(policies: readonly WritePolicy[], input: PolicyDecisionInput): PolicyRefusal | undefined {
  for (const policy of policies) {
    const refusal = policy.decide?.(input);
    if (refusal) return refusal;
  }
  return undefined;
}

/** The rejection the declaration's own refusal makes, when no policy had an opinion. */
export function declaredRejection(verdict: Extract<WriteVerdict, { kind: 'refuse' }>): WriteRejection {
  return { code: verdict.code, reason: verdict.reason };
}
