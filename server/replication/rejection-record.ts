import type { WriteRejection } from './write-policy.ts';
import { NoticeCode } from '../../shared/protocol/index.ts';

/**
 * How a refused write's rejection is kept in quarantine. The store keeps a quarantine entry's
 * reason as opaque text; replication writes the whole structured rejection into it as JSON (code,
 * plain words, and extras such as `addendumId`) and reads it back field by field, so nothing is
 * ever parsed out of the words.
 *
 * Entries written before this record existed hold `"<CODE>: <words>"`, with
 * `" (addendum <id>)"` after the words when a draft addendum was saved, or plain words (a foreign
 * tenant); `readRejection` still reads them, so a device's older refusals keep their code and
 * addendum.
 */
export function rejectionRecord(rejection: WriteRejection): string {
  return JSON.stringify(rejection);
}

/** The rejection kept in a quarantine entry's reason; `REFUSED` when the entry names no code. */
export function readRejection(kept: string): WriteRejection {
  if (kept.startsWith('{')) {
    try {
      const parsed = JSON.parse(kept) as Partial<WriteRejection> | null;
      if (parsed && typeof parsed.code === 'string' && typeof parsed.reason === 'string') {
        return { code: parsed.code, reason: parsed.reason, ...(typeof parsed.addendumId === 'string' ? { addendumId: parsed.addendumId } : {}) };
      }
    } catch {
      // Not a record: plain words that happen to start with a brace.
    }
  }
  return olderEntry(kept);
}

/** Entries of servers before the structured record (see above). */
function olderEntry(kept: string): WriteRejection {
  const coded = /^([A-Z_]+): ([\s\S]*)$/.exec(kept);
  const words = coded?.[2] ?? kept;
  const addendum = / \(addendum ([0-9a-f-]{36})\)$/.exec(words);
  return {
    code: coded?.[1] ?? NoticeCode.REFUSED,
    reason: addendum ? words.slice(0, addendum.index) : words,
    ...(addendum ? { addendumId: addendum[1]! } : {}),
  };
}

/** The words an administrator reads for a kept rejection: `"<CODE>: <words>"`, as quarantine has always shown them. */
export function rejectionText(rejection: WriteRejection): string {
  return rejection.code === NoticeCode.REFUSED ? rejection.reason : `${rejection.code}: ${rejection.reason}`;
}
