/**
 * epcr-finalized: the crew asks to finalize (status → finalized); the server validates and either
 * locks the report (lockedAt, finalizeErrors: []) or sends it back to draft with the field-level
 * problems. Either way it is a new version that flows back to the crew's devices.
 */
import type { Epcr } from '../../../shared/schemas/index.ts';
import { validateEpcrForFinalize } from '../../../shared/domain/epcr-validation.ts';
import type { Workflow } from '../types.ts';
import { offsetDateTime, offsetMinutesOf, read, text, writeDoc } from './support.ts';

export function epcrFinalizedWorkflow(): Workflow {
  return {
    name: 'epcr-finalized',
    description: 'Validates an ePCR the crew finalized: locks it when complete, or returns it to draft with finalizeErrors.',
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
      const stored = await read(ctx, 'epcrs', payload.id);
      if (!stored || stored.status !== 'finalized' || stored.lockedAt) return;
      const addendumOf = text(stored.addendumOf);
      const original = addendumOf ? await read(ctx, 'epcrs', addendumOf) : undefined;
      const now = ctx.now();
      await writeDoc(ctx, 'epcrs', payload.id, (current) => {
        // Decided on the state inside the write: a report edited since the request is judged as it is now.
        if (!current || current._deleted || current.status !== 'finalized' || current.lockedAt) return undefined;
        const problems = validateEpcrForFinalize(current as Epcr, { original: original as Epcr | undefined, now: now.getTime() });
        if (problems.length > 0) {
          ctx.log.info({ epcrId: current.id, problems: problems.length }, 'finalize refused; report returned to draft');
          return { ...current, status: 'draft' as const, finalizeErrors: problems.slice(0, 200) };
        }
        // The agency's local offset as the crew recorded it, so the lock reads like the report's own times.
        const offset = offsetMinutesOf(current.times?.unitNotified ?? current.times?.backInService ?? original?.times?.unitNotified);
        return { ...current, lockedAt: offsetDateTime(now, offset), finalizeErrors: [] };
      });
    },
  };
}
