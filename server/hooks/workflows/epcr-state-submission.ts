/**
 * epcr-state-submission: sends one locked report's NEMSIS export to the state's web service
 * (SubmitData), and follows a submission the state is still processing (RetrieveStatus) until it
 * is accepted or rejected. Its entries come two ways: queued by the state reporting route for a
 * period (server/state-reporting/submissions.ts, key: report + export hash, `data.contentHash`),
 * and planned with every lock of a report or of an addendum to it (key: the locked document and
 * its lockedAt), which submit only when the agency's settings say `stateSubmission.automatic`.
 *
 * Idempotent: the answer is recorded per report and export version (`state-submission:<epcrId>`);
 * a version already accepted is not sent again, and one whose answer was lost in a crash is sent
 * again and answered -11 (the same file is already on the server), which counts as accepted.
 * Rejected files are recorded with the state's messages and end the entry (sending the same file
 * again cannot change the answer); credentials the state refuses fail the entry, which ends as a
 * dead letter an admin retries after correcting the settings.
 */
import { readAgencySettings } from '../../agencies/directory.ts';
import type { Integrations } from '../../integrations/types.ts';
import type { StateAnswer } from '../../integrations/state-submission/client.ts';
import { contentHash } from '../../state-reporting/reports.ts';
import { readSubmission, STATE_SUBMISSION_KIND, writeSubmission, type SubmissionRecord } from '../../state-reporting/submissions.ts';
import type { Workflow } from '../types.ts';
import { addendaKey, nemsisArtifactKey } from './epcr-nemsis-export.ts';
import { becameLocked, read } from './support.ts';

export function epcrStateSubmissionWorkflow(deps: { integrations: Integrations }): Workflow {
  return {
    name: STATE_SUBMISSION_KIND,
    description: 'Submits a locked report\'s NEMSIS export to the state (SubmitData), follows it with RetrieveStatus until accepted or rejected, and records the answer as state-submission:<epcrId>.',
    trigger: {
      collection: 'epcrs',
      // Planned with the lock itself, so a lock and its submission commit together; whether it
      // submits is the agency's setting, read when it runs.
      when: (change) => becameLocked(change, { addendum: false }) || becameLocked(change, { addendum: true }),
      key: (change) => `${change.id}@${String(change.after['lockedAt'])}`,
    },
    async run(ctx, payload) {
      const settings = await readAgencySettings(ctx.store, ctx.tenantId);
      const requested = typeof payload.data?.['contentHash'] === 'string';
      if (!requested && !settings?.stateSubmission?.automatic) return;
      let epcrId = payload.id;
      if (!requested) {
        const locked = await read(ctx, 'epcrs', payload.id);
        if (!locked?.lockedAt) return;
        if (locked.addendumOf) {
          // An addendum amends its report: what is submitted is the report's export once it holds this addendum.
          epcrId = locked.addendumOf;
          // The export writes the list of its addenda first, then the document: a document older than the list is not the amended one yet.
          const listed = await ctx.store.getArtifact(addendaKey(epcrId), ctx.tenantId);
          const current = await ctx.store.getArtifact(nemsisArtifactKey(epcrId), ctx.tenantId);
          if (!listed || !(JSON.parse(listed.content) as string[]).includes(payload.id) || !current || current.createdAt < listed.createdAt) {
            throw new Error(`Report ${epcrId} is submitted again once its export holds addendum ${payload.id}; it is not made yet.`);
          }
        }
      }
      const submission = settings?.stateSubmission;
      if (!submission?.password) {
        throw new Error(`Report ${epcrId} was not submitted: the agency settings have no complete state submission endpoint (stateSubmission with endpoint, username, organization and password). An admin sets it, then retries this dead letter.`);
      }
      const gateway = deps.integrations.stateSubmission;
      if (!gateway) throw new Error('This server was built without a state submission client; report not submitted.');
      const exported = await ctx.store.getArtifact(nemsisArtifactKey(epcrId), ctx.tenantId);
      if (!exported) throw new Error(`Report ${epcrId} has no NEMSIS export yet; it is submitted once the export is made.`);
      const hash = contentHash(exported.content);
      const endpoint = { endpoint: submission.endpoint, username: submission.username, password: submission.password, organization: submission.organization };
      const now = ctx.now().toISOString();
      const previous = await readSubmission(ctx.store, ctx.tenantId, epcrId);
      const sameVersion = previous?.contentHash === hash ? previous : undefined;
      if (sameVersion?.status === 'accepted' || sameVersion?.status === 'rejected') return;

      let answer: StateAnswer | undefined;
      if (sameVersion?.status === 'pending' && sameVersion.requestHandle) {
        answer = await gateway.retrieveStatus(endpoint, sameVersion.requestHandle, epcrId);
        // The state forgot the handle: submit the file again (a duplicate is answered -11, accepted).
        if (answer.outcome === 'handle-lost') answer = undefined;
      }
      answer ??= await gateway.submitData(endpoint, exported.content, epcrId);
      if (answer.outcome === 'handle-lost') throw new Error(`The state answered SubmitData of report ${epcrId} with ${answer.statusCode} (${answer.meaning}); tried again later.`);

      const record: SubmissionRecord = {
        epcrId, contentHash: hash, status: answer.outcome,
        statusCode: answer.statusCode, meaning: answer.meaning,
        ...(answer.requestHandle ? { requestHandle: answer.requestHandle } : sameVersion?.requestHandle ? { requestHandle: sameVersion.requestHandle } : {}),
        ...(answer.messages.length > 0 ? { messages: answer.messages } : {}),
        queuedAt: previous?.queuedAt ?? now, submittedAt: sameVersion?.submittedAt ?? now, updatedAt: now,
      };
      await writeSubmission(ctx.store, ctx.tenantId, record);
      ctx.log.info({ epcrId, status: record.status, statusCode: record.statusCode }, 'state submission answered');
      if (record.status === 'pending') {
        // Asked again with RetrieveStatus on the runner's next attempt (its backoff paces the state).
        throw new Error(`The state is still processing report ${epcrId} (statusCode ${answer.statusCode}: ${answer.meaning}); its status is asked again later.`);
      }
    },
  };
}
