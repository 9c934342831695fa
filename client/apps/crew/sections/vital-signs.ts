/** Vital signs over time: the order the table shows them in, and the GCS total. Pure. */
import { epochOf } from '../../../ui/time.ts';
import type { Vital } from './kit.ts';

/** GCS total (eVitals.23) from eye, verbal and motor; undefined until all three are there. */
export function gcsTotal(v: Vital): number | undefined {
  return v.gcsEye !== undefined && v.gcsVerbal !== undefined && v.gcsMotor !== undefined ? v.gcsEye + v.gcsVerbal + v.gcsMotor : undefined;
}

/** The sets with their number in the order they were taken (Set 1 first), listed latest first. */
export function latestFirst(vitals: readonly Vital[]): { vital: Vital; number: number }[] {
  const numbered = vitals.map((vital, i) => ({ vital, number: i + 1 }));
  return numbered.sort((a, b) => (epochOf(b.vital.takenAt) ?? 0) - (epochOf(a.vital.takenAt) ?? 0) || b.number - a.number);
}
