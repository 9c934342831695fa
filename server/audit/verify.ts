import type { AuditChainReport, AuditKey } from '../store/audit-chain.ts';
import type { Store } from '../store/types.ts';
import { readCheckpointFile, type Checkpoint } from './checkpoints.ts';

export interface AuditVerification {
  ok: boolean;
  /** What is wrong, in words, most telling first; empty when ok. */
  problems: string[];
  /** One line on what was checked (entries, checkpoints, the switch point). */
  summary: string;
  chain: AuditChainReport;
  latest: Checkpoint | undefined;
}

const MAX_PROBLEMS = 20;

/**
 * Verifies the audit log as a whole: the keyed chain and its per-document index (the store, from
 * one snapshot), then the log against every checkpoint in `checkpointFile`: each recorded entry
 * count and head must still be there (a log cut at the end, emptied, or recomputed from some
 * entry on shows here), and the file must hold every checkpoint the log says it was given (a
 * file cut at the end shows here). What happened after the last checkpoint is not covered:
 * the checkpoint cadence bounds that window (docs/audit.md).
 */
export async function verifyAuditLog(store: Store, key: AuditKey, checkpointFile: string): Promise<AuditVerification> {
  const file = readCheckpointFile(checkpointFile, key);
  const checkpoints = file.checkpoints;
  const chain = await store.verifyAudit({ watch: checkpoints.map((c) => c.lastId) });
  // The chain's own problems first: an entry that does not match says best what happened to it.
  const problems: string[] = [...chain.problems];
  const latest = checkpoints[checkpoints.length - 1];

  // The log against the checkpoints, newest first: the newest a log no longer matches says most.
  let mismatched = 0;
  for (const c of [...checkpoints].reverse()) {
    const problem = checkpointProblem(c, chain);
    if (!problem) continue;
    if (mismatched++ === 0) problems.push(problem);
  }
  if (mismatched > 1) problems.push(`${mismatched - 1} earlier checkpoint${mismatched === 2 ? ' does' : 's do'} not match the log either`);

  // The checkpoint file against the log's record of the checkpoints it was given.
  const ours = chain.markers.filter((m) => m.stream === file.stream);
  const newest = ours.reduce<(typeof ours)[number] | undefined>((a, m) => (!a || m.n > a.n ? m : a), undefined);
  if (!file.exists || checkpoints.length === 0) {
    problems.push(chain.markers.length > 0
      ? `there is no checkpoint in ${checkpointFile}, but the log records ${chain.markers.length} checkpoint${chain.markers.length === 1 ? '' : 's'} written (the last by entry ${chain.markers[chain.markers.length - 1]!.entryId}): the checkpoint file was removed, emptied or replaced`
      : `there is no checkpoint in ${checkpointFile}: the chain may verify, but nothing shows the log was not cut short or emptied. Point AUDIT_CHECKPOINT_FILE at the file the server writes (a server writes one at start-up and every AUDIT_CHECKPOINT_INTERVAL_MS)`);
  } else if (newest && latest && newest.n > latest.n) {
    problems.push(`the log records checkpoint ${newest.n} of this file as written (entry ${newest.entryId}), but the file ends at checkpoint ${latest.n}: its last ${newest.n - latest.n} line${newest.n - latest.n === 1 ? ' was' : 's were'} removed`);
  }

  problems.push(...file.problems);
  const legacy = chain.legacyEntries > 0 ? `; the first ${chain.legacyEntries} entries carry the plain SHA-256 hash of before the keyed chain (verified up to the switch point)` : '';
  const summary = `${chain.checked} entries, ${checkpoints.length} checkpoint${checkpoints.length === 1 ? '' : 's'}`
    + (latest ? ` (the last, ${latest.n}, at ${latest.at}: ${latest.count} entries up to entry ${latest.lastId})` : '') + legacy;
  return { ok: problems.length === 0, problems: problems.slice(0, MAX_PROBLEMS), summary, chain, latest };
}

function checkpointProblem(c: Checkpoint, chain: AuditChainReport): string | undefined {
  if (c.count === 0) return undefined;
  const recorded = `checkpoint ${c.n} (${c.at}) recorded ${c.count} entries up to entry ${c.lastId}`;
  const seen = chain.watched.get(c.lastId);
  if (!seen) {
    if (chain.head.count === 0) return `the log is empty, but ${recorded}: the audit table was emptied`;
    if (c.lastId > chain.head.lastId) return `the log ends at entry ${chain.head.lastId} after ${chain.head.count} entries, but ${recorded}: entries were removed from the end`;
    return `entry ${c.lastId} is missing, but ${recorded}: entries were removed`;
  }
  if (seen.hash !== c.head) return `entry ${c.lastId} no longer has the hash checkpoint ${c.n} (${c.at}) recorded for it: the log was rewritten up to there (an entry changed and the chain after it recomputed)`;
  if (seen.count !== c.count) return `the log has ${seen.count} entries up to entry ${c.lastId}, but ${recorded}: entries before it were ${seen.count < c.count ? 'removed' : 'inserted'}`;
  return undefined;
}
