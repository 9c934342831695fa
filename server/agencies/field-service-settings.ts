/**
 * An agency's field-service settings (in its agency settings, set by its admin with
 * `PUT ADMIN.putAgency`):
 * - `orderIntake.signingSecret`: the key its order system signs `order.completed` events with
 *   (server/order-intake). Write-only: stored, never returned (GET says `signingSecretSet`); a
 *   PUT without it keeps the stored one, `null` removes it (the intake then refuses every event).
 * - `jobChecklists`: the checklist of each job type (`installation`, `repair`, `inspection`), a
 *   list of item labels. A new job gets its type's list (server/hooks/workflows/ticket-created.ts);
 *   a type the agency did not list gets the built-in one (DEFAULT_JOB_CHECKLISTS).
 */
import type { Job } from '../../shared/schemas/index.ts';

export type JobKind = NonNullable<Job['kind']>;
export const JOB_KINDS: readonly JobKind[] = ['installation', 'repair', 'inspection'];

export interface OrderIntakeSettings {
  /** At least 32 characters; HMAC-SHA256 key of the signed order events. */
  signingSecret?: string;
}

export interface FieldServiceSettings {
  orderIntake?: OrderIntakeSettings;
  jobChecklists?: Partial<Record<JobKind, string[]>>;
}

/** What GET answers instead of the secret. */
export interface PublicOrderIntakeSettings {
  signingSecretSet: boolean;
}

/** Used for a job type the agency has not listed: what any site visit of that type checks. */
export const DEFAULT_JOB_CHECKLISTS: Readonly<Record<JobKind, readonly string[]>> = {
  installation: ['Site survey with the customer', 'Equipment serials match the order', 'Equipment mounted and powered', 'Service tested with the customer', 'Site left clean'],
  repair: ['Fault reproduced', 'Faulty part replaced or repaired', 'Service tested with the customer'],
  inspection: ['Equipment visually inspected', 'Readings recorded in the notes', 'Customer informed of findings'],
};

export const SIGNING_SECRET_MIN = 32;
const SIGNING_SECRET_MAX = 256;
const CHECKLIST_MAX_ITEMS = 50;
const CHECKLIST_LABEL_MAX = 200;

/**
 * Checks the field-service part of a PUT body; `previous` keeps a secret not sent again. Problems
 * are added to `problems` (the caller refuses the whole PUT).
 */
export function parseFieldServiceSettings(input: Record<string, unknown>, previous: FieldServiceSettings | undefined, problems: string[]): FieldServiceSettings {
  const out: FieldServiceSettings = {};
  const intake = input['orderIntake'];
  if (intake === undefined) {
    if (previous?.orderIntake) out.orderIntake = previous.orderIntake;
  } else if (intake !== null) {
    if (typeof intake !== 'object' || Array.isArray(intake)) problems.push('orderIntake must be an object: { "signingSecret": "…" }');
    else {
      const given = (intake as Record<string, unknown>)['signingSecret'];
      const known = Object.keys(intake).filter((k) => k !== 'signingSecret' && k !== 'signingSecretSet');
      if (known.length > 0) problems.push(`orderIntake.${known[0]} is not a setting (known: signingSecret)`);
      if (given === undefined) {
        if (previous?.orderIntake?.signingSecret) out.orderIntake = { signingSecret: previous.orderIntake.signingSecret };
      } else if (given === null) {
        out.orderIntake = {};
      } else if (typeof given !== 'string' || given.length < SIGNING_SECRET_MIN || given.length > SIGNING_SECRET_MAX || /\s/.test(given)) {
        problems.push(`orderIntake.signingSecret must be ${SIGNING_SECRET_MIN} to ${SIGNING_SECRET_MAX} characters without spaces (e.g. 32 random bytes in hex: openssl rand -hex 32)`);
      } else out.orderIntake = { signingSecret: given };
    }
  }
  const lists = input['jobChecklists'];
  if (lists !== undefined && lists !== null) {
    if (typeof lists !== 'object' || Array.isArray(lists)) problems.push('jobChecklists must be an object of job type → list of item labels');
    else {
      const checklists: Partial<Record<JobKind, string[]>> = {};
      for (const [kind, items] of Object.entries(lists as Record<string, unknown>)) {
        if (!(JOB_KINDS as readonly string[]).includes(kind)) {
          problems.push(`jobChecklists.${kind} is not a job type (known: ${JOB_KINDS.join(', ')})`);
          continue;
        }
        if (!Array.isArray(items) || items.length > CHECKLIST_MAX_ITEMS
          || items.some((item) => typeof item !== 'string' || item.trim() === '' || item.trim().length > CHECKLIST_LABEL_MAX)) {
          problems.push(`jobChecklists.${kind} must be a list of at most ${CHECKLIST_MAX_ITEMS} item labels of 1 to ${CHECKLIST_LABEL_MAX} characters`);
          continue;
        }
        checklists[kind as JobKind] = (items as string[]).map((item) => item.trim());
      }
      out.jobChecklists = checklists;
    }
  }
  return out;
}

export function publicOrderIntake(intake: OrderIntakeSettings | undefined): PublicOrderIntakeSettings | undefined {
  return intake ? { signingSecretSet: typeof intake.signingSecret === 'string' } : undefined;
}

/** The checklist item labels of a job type for this agency. */
export function checklistLabels(settings: FieldServiceSettings | undefined, kind: JobKind): readonly string[] {
  return settings?.jobChecklists?.[kind] ?? DEFAULT_JOB_CHECKLISTS[kind];
}
