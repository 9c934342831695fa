/**
 * epcr-finalized: the crew asks to finalize (status → finalized); the server validates and either
 * locks the report (lockedAt, finalizeErrors: []) or sends it back to draft with the field-level
 * problems. Either way it is a new version that flows back to the crew's devices.
 *
 * Validation is the completeness check (epcr-validation.ts) and, when the NEMSIS files are
 * configured, the export check (epcr-export-check.ts): the report's NEMSIS export must pass the
 * XSD and the national Schematron before it locks; its errors come back as finalizeErrors at the
 * crew's fields, its warnings are kept beside the export (artifact `nemsis-check:<id>`) and on the
 * report (`finalizeWarnings`, at the crew's fields like the errors) and do not refuse. The export check is asynchronous (xmllint, the Schematron worker): it runs on the
 * report as stored, and the lock is written only if the report is still that version; an edit in
 * between is checked again.
 *
 * A report lists its attachments (signatures, photos) by SHA-256; their bytes travel separately
 * and may arrive after the finalize. The lock waits for them: while any listed object is not
 * stored for the report, the finalize neither locks nor refuses, and is asked again when the
 * missing bytes arrive (server/attachments/plugin.ts enqueues this workflow then). Nothing is
 * dropped and nothing locks with an attachment missing.
 */
import type { Epcr } from '../../../shared/schemas/index.ts';
import { requiredObjects } from '../../../shared/schemas/attachments.ts';
import type { ExportCheck } from '../epcr-export-check.ts';
import { validateEpcrForFinalize } from '../../../shared/domain/epcr-validation.ts';
import type { Workflow } from '../types.ts';
import { fieldValueMark } from '../../../shared/epcr/field-value.ts';
import { amendedReport } from './amended-report.ts';
import { lockedAddenda } from './epcr-nemsis-export.ts';
import { offsetDateTime, offsetMinutesOf, read, nonBlankText, writeDoc } from './support.ts';

export interface EpcrFinalizedDeps {
  /** Builds and validates the NEMSIS export of a report; absent: no export check (no NEMSIS_DIR). */
  exportCheck?: (report: Epcr) => Promise<ExportCheck>;
  /** Of the SHA-256s a report lists, those whose bytes the server does not have for it yet; absent: not checked (no attachment storage). */
  missingAttachments?: (tenantId: string, epcrId: string, shas: readonly string[]) => Promise<string[]>;
}

/** Key of the export check's result kept for a report: errors, warnings, when, how long. */
export function nemsisCheckKey(epcrId: string): string {
  return `nemsis-check:${epcrId}`;
}

/** How often a report edited during its export check is checked again before the entry is retried later. */
const EXPORT_CHECK_ROUNDS = 3;

export function epcrFinalizedWorkflow(deps: EpcrFinalizedDeps = {}): Workflow {
  return {
    name: 'epcr-finalized',
    description: 'Validates an ePCR the crew finalized (completeness, then its NEMSIS export against the XSD and the national Schematron): locks it when it passes, or returns it to draft with finalizeErrors.',
    trigger: {
      collection: 'epcrs',
      when: (change) => {
        const { after, before } = change;
        if (after._deleted || after['status'] !== 'finalized' || after['lockedAt'] !== undefined) return false;
        return !before || before._deleted || before['status'] !== 'finalized' || before['lockedAt'] !== undefined;
      },
      // Per finalize request: a report refused, fixed and finalized again is validated again.
      key: (change) => `${change.id}@${String(change.after['rev'])}`,
    },
    async run(ctx, payload) {
      for (let round = 0; round < EXPORT_CHECK_ROUNDS; round++) {
        const stored = await read(ctx, 'epcrs', payload.id);
        if (!stored || stored.status !== 'finalized' || stored.lockedAt) return;
        const listed = requiredObjects(stored);
        const missing = deps.missingAttachments && listed.length > 0 ? await deps.missingAttachments(ctx.tenantId, stored.id, listed) : [];
        if (missing.length > 0) {
          // Not locked, not refused: the crew's finalize stands and is checked again when the bytes arrive.
          ctx.log.info({ epcrId: stored.id, missing: missing.length }, 'finalize waits for attachment bytes the report lists');
          return;
        }
        const addendumOf = nonBlankText(stored.addendumOf);
        const original = addendumOf ? await read(ctx, 'epcrs', addendumOf) : undefined;
        const now = ctx.now();
        // The export as it would be sent: an addendum's is the report it amends with it laid over.
        // Checked even when the report is incomplete, so the crew hears of every problem at once.
        const exported = !deps.exportCheck ? undefined
          : !addendumOf ? stored as Epcr
            : original ? amendedReport(original as Epcr, [...await lockedAddenda(ctx, addendumOf), { ...(stored as Epcr), lockedAt: now.toISOString() }]) : undefined;
        const checked = deps.exportCheck && exported ? await deps.exportCheck(exported) : undefined;
        // Each warning with the mark of the value it was found on (in the version checked): once
        // the crew changes that value (the report back to draft), the form no longer shows it.
        const check = checked && { ...checked, warnings: checked.warnings.map((w) => ({ ...w, foundOn: fieldValueMark(stored, w.path) })) };
        if (check) {
          ctx.log.info({ epcrId: stored.id, errors: check.errors.length, warnings: check.warnings.length, schematronMs: check.schematronMs }, 'NEMSIS export checked before locking');
          await ctx.store.putArtifact(nemsisCheckKey(stored.id), ctx.tenantId, 'application/json', JSON.stringify({
            rev: stored.rev, checkedAt: now.toISOString(), valid: check.errors.length === 0, errors: check.errors, warnings: check.warnings, schematronMs: check.schematronMs,
          }));
        }
        let changed = false;
        await writeDoc(ctx, 'epcrs', payload.id, (current) => {
          // Decided on the state inside the write: a report edited since the request is judged as it is now.
          if (!current || current._deleted || current.status !== 'finalized' || current.lockedAt) return undefined;
          const problems = validateEpcrForFinalize(current as Epcr, { original: original as Epcr | undefined, now: now.getTime() });
          const fresh = check !== undefined && current.rev === stored.rev;
          if (problems.length === 0 && deps.exportCheck && !fresh) {
            // Edited while its export was checked: that check is of another version; check again.
            changed = true;
            return undefined;
          }
          // The export's problems after the completeness check's, once per field (a missing
          // mandatory value is said by both); a stale check is left out of a refusal.
          const named = new Set(problems.map((p) => p.path));
          if (fresh) problems.push(...check.errors.filter((e) => !named.has(e.path)));
          // The national warnings travel on the report, so the crew sees them at their fields, offline too.
          const warnings = fresh ? {
            finalizeWarnings: check.warnings.slice(0, 200).map((w) => ({ path: w.path.slice(0, 200), message: w.message, rule: w.rule.slice(0, 60), foundOn: w.foundOn })),
          } : {};
          if (problems.length > 0) {
            ctx.log.info({ epcrId: current.id, problems: problems.length }, 'finalize refused; report returned to draft');
            return { ...current, status: 'draft' as const, finalizeErrors: problems.slice(0, 200), ...warnings };
          }
          // The agency's local offset as the crew recorded it, so the lock reads like the report's own times.
          const offset = offsetMinutesOf(current.times?.unitNotified ?? current.times?.backInService ?? original?.times?.unitNotified);
          return { ...current, lockedAt: offsetDateTime(now, offset), finalizeErrors: [], ...warnings };
        });
        if (!changed) return;
      }
      throw new Error(`ePCR ${payload.id} kept changing while its NEMSIS export was checked; the finalize is checked again on the next attempt`);
    },
  };
}
