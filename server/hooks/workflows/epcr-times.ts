/**
 * Copying CAD status stamps (the incident timeline) into an ePCR's `times`. Only keys the report
 * does not have are filled, so anything the crew entered is never overwritten; a locked report
 * is not touched at all. Each stamp is also copied to `derived.times`, so that a time the crew
 * typed on a tablet while the stamp was being made wins the merge (shared/merge/three-way.ts).
 */
import type { Incident, WireDoc } from '../../../shared/schemas/index.ts';
import type { EffectContext } from '../types.ts';
import { writeDoc } from './support.ts';

export type Timeline = NonNullable<Incident['timeline']>;

/** Timeline keys are ePCR `times` keys by construction (both are NEMSIS eTimes). */
export const TIMELINE_KEYS = [
  'psapCall', 'dispatchNotified', 'unitNotified', 'dispatchAcknowledged', 'unitEnRoute', 'unitOnScene', 'atPatient',
  'unitLeftScene', 'atDestination', 'transferOfCare', 'backInService', 'unitCanceled', 'unitBackAtHome', 'unitArrivedStaging',
] as const satisfies readonly (keyof Timeline)[];

export function timesMissingFrom(times: WireDoc<'epcrs'>['times'], timeline: Timeline | undefined): Partial<Timeline> {
  const missing: Partial<Timeline> = {};
  for (const key of TIMELINE_KEYS) {
    const value = timeline?.[key];
    if (value !== undefined && times?.[key] === undefined) missing[key] = value;
  }
  return missing;
}

export async function fillEpcrTimes(ctx: EffectContext, epcrId: string, timeline: Timeline | undefined): Promise<void> {
  await writeDoc(ctx, 'epcrs', epcrId, (current) => {
    if (!current || current._deleted || current.lockedAt) return undefined;
    const missing = timesMissingFrom(current.times, timeline);
    if (Object.keys(missing).length === 0) return undefined;
    // The copy in `derived` marks these as stamped, not typed: a time the crew typed meanwhile wins the merge (shared/merge).
    return { ...current, times: { ...current.times, ...missing }, derived: { ...current.derived, times: { ...current.derived?.times, ...missing } } };
  });
}
