/**
 * The state submission of each locked report: queued as hook outbox entries (kind
 * `epcr-state-submission`, server/hooks/workflows/epcr-state-submission.ts) and recorded per
 * report as the artifact `state-submission:<epcrId>`.
 *
 * Each version of a report's export is submitted once: the outbox key names the report and the
 * hash of its export, so asking again for the same period queues nothing new for a report already
 * queued or submitted (an outbox key never runs twice), while an amended report (a locked addendum
 * re-exports it under the same PCR UUID) is a new version and is submitted again, as the update
 * NEMSIS receivers expect.
 */
import type { Store } from '../store/types.ts';
import { contentHash, type LockedReport } from './reports.ts';

export const STATE_SUBMISSION_KIND = 'epcr-state-submission';

export type SubmissionState = 'queued' | 'pending' | 'accepted' | 'rejected';

export interface SubmissionRecord {
  epcrId: string;
  /** Which version of the export this record is about (reports.ts contentHash). */
  contentHash: string;
  status: SubmissionState;
  /** The state's answer: its statusCode, the WSDL's words for it, its request handle and messages. */
  statusCode?: number;
  meaning?: string;
  requestHandle?: string;
  messages?: string[];
  queuedAt: string;
  submittedAt?: string;
  updatedAt: string;
}

export function submissionKey(epcrId: string): string {
  return `state-submission:${epcrId}`;
}

export async function readSubmission(store: Store, tenantId: string, epcrId: string): Promise<SubmissionRecord | undefined> {
  const artifact = await store.getArtifact(submissionKey(epcrId), tenantId);
  return artifact ? JSON.parse(artifact.content) as SubmissionRecord : undefined;
}

export async function writeSubmission(store: Store, tenantId: string, record: SubmissionRecord): Promise<void> {
  await store.putArtifact(submissionKey(record.epcrId), tenantId, 'application/json', JSON.stringify(record));
}

export interface QueueResult {
  /** Reports queued for submission now. */
  queued: number;
  /** Reports whose current export was queued or submitted before (not queued again). */
  alreadySubmitted: number;
  /** Reports the state refused in this version: sending the same file again cannot help; amend the report. */
  rejected: number;
  /** Locked reports whose export is not made yet (not queued; ask again later). */
  notExported: string[];
  reports: { epcrId: string; status: SubmissionState | 'not-exported' }[];
}

export async function queueSubmissions(store: Store, tenantId: string, reports: readonly LockedReport[]): Promise<QueueResult> {
  const result: QueueResult = { queued: 0, alreadySubmitted: 0, rejected: 0, notExported: [], reports: [] };
  const now = new Date().toISOString();
  const entries = [];
  const queued: SubmissionRecord[] = [];
  for (const report of reports) {
    if (report.xml === undefined) {
      result.notExported.push(report.id);
      result.reports.push({ epcrId: report.id, status: 'not-exported' });
      continue;
    }
    const hash = contentHash(report.xml);
    const record = await readSubmission(store, tenantId, report.id);
    if (record?.contentHash === hash) {
      if (record.status === 'rejected') result.rejected++;
      else result.alreadySubmitted++;
      result.reports.push({ epcrId: report.id, status: record.status });
      continue;
    }
    entries.push({
      key: `${STATE_SUBMISSION_KIND}:${tenantId}:${report.id}:${hash}`,
      kind: STATE_SUBMISSION_KIND,
      tenantId,
      payload: { collection: 'epcrs', id: report.id, seq: 0, data: { contentHash: hash } },
      causationId: `state-submission/${report.id}`,
    });
    queued.push({ epcrId: report.id, contentHash: hash, status: 'queued', queuedAt: now, updatedAt: now });
    result.queued++;
    result.reports.push({ epcrId: report.id, status: 'queued' });
  }
  // All entries in one transaction; a repeated key (queued before) is ignored by the store.
  await store.enqueueOutbox(entries);
  // What the admin sees until the hook answers (it overwrites these); the hook does not read them.
  for (const record of queued) {
    const current = await readSubmission(store, tenantId, record.epcrId);
    if (current?.contentHash !== record.contentHash) await writeSubmission(store, tenantId, record);
  }
  return result;
}

export async function submissionStatuses(store: Store, tenantId: string, reports: readonly LockedReport[]) {
  return Promise.all(reports.map(async (report) => {
    const record = await readSubmission(store, tenantId, report.id);
    const current = report.xml === undefined ? undefined : contentHash(report.xml);
    const base = { epcrId: report.id, lockedAt: report.lockedAt };
    if (!record) return { ...base, status: report.xml === undefined ? 'not-exported' : 'not-submitted' };
    const { epcrId: _id, contentHash: hash, ...rest } = record;
    // An export changed by an addendum since: that version has not been submitted yet.
    return { ...base, ...rest, ...(current !== undefined && hash !== current ? { amendedSinceSubmission: true } : {}) };
  }));
}
