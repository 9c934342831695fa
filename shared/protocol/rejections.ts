/**
 * How a device learns why the server refused one of its writes. The conflict document a push
 * returns is the server's state verbatim (RxDB's contract; it is never annotated), so the
 * reason travels beside it:
 *
 * 1. Push response header `x-fieldsync-rejections`: a JSON array of `RejectionNotice`, ASCII
 *    only (non-ASCII escaped as \uXXXX), at most ~6 KB; `x-fieldsync-rejections-total` says how
 *    many there were when the header had to be cut short. Present only when something was refused.
 * 2. `SYNC.rejections` (`GET …/rejections?since=<id>&limit=<n>`): the durable list of this device's refused
 *    writes (the quarantine entries it caused), oldest first, for a device that lost the
 *    response or wants to show them later. `since` is the `id` of the last entry it has seen.
 *
 * A 403 push answer (`ACCESS_DENIED`, a refused new document: there is no server state to return)
 * carries the same reasons in `error.details[].message`.
 */
import type { ErrorCode, NoticeCode, RefusalCode } from './errors.ts';

/**
 * What a notice's or entry's `code` holds: an access refusal, a notice code, or for sealed rows
 * an envelope error (`KEY_REVOKED`, …). Typed `string` on the wire types, so that a device reads
 * a code a newer server adds without failing.
 */
export type RejectionCode = RefusalCode | NoticeCode | ErrorCode;

export interface RejectionNotice {
  /** The document the refused row was about. */
  id: string;
  /** e.g. FINALIZED, FIELD_NOT_WRITABLE, OUT_OF_SCOPE, NO_WRITE_ACCESS, ALREADY_REFUSED. */
  code: string;
  /** Plain words for the user, e.g. "report finalized at 14:02; your change was saved as a draft addendum". */
  reason: string;
  /** FINALIZED: the draft addendum that now holds the change. */
  addendumId?: string;
}

export interface RejectionEntry {
  /** Quarantine entry id: pass the last one seen as `since`. */
  id: number;
  collection: string;
  documentId: string;
  /** The revision the device sent. */
  rev?: string;
  code: string;
  reason: string;
  addendumId?: string;
  /** ISO 8601. */
  at: string;
}

export interface RejectionsResponse {
  rejections: RejectionEntry[];
  /** The `since` to use next time. */
  since: number;
}
