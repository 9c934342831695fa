/**
 * What every section of the ePCR form gets from the form: the report, whether it can be edited,
 * and the field helpers that name each field by its path (data-testid = the server's path name),
 * attach its finalize hint and the server's problem, and record that the field is on screen.
 */
import type { JSX } from 'preact';
import { epcrSchema } from '../../../../shared/schemas/epcrs.ts';
import type { Epcr, Incident } from '../../../../shared/schemas/index.ts';
import type { Path } from '../../../worker/api.ts';
import type { Action, RefusalWords } from '../../../ui/action.tsx';
import type { Session } from '../../../session/identity.ts';
import type { TimeRange } from '../../../ui/time-range.ts';

export type Vital = NonNullable<Epcr['vitals']>[number];
export type Medication = NonNullable<Epcr['medications']>[number];
export type Procedure = NonNullable<Epcr['procedures']>[number];
export type CrewMember = NonNullable<Epcr['crew']>[number];

/** The props every autosaving field of the form gets (label, where it saves, its messages). */
export interface FieldProps {
  label: string;
  collection: 'epcrs';
  docId: string;
  path: Path;
  disabled: boolean;
  testId: string;
  serverError: string | undefined;
  hint?: string;
  /** The conflict marker when two devices wrote different values at this field (client/apps/crew/conflicts.tsx). */
  note?: JSX.Element;
  /** For a time field: the earliest time it takes (measured from the call); the other fields ignore it. */
  range: TimeRange;
}

export interface FormKit {
  epcr: Epcr;
  id: string;
  /** Locked, or waiting for the server's check: nothing can be typed. */
  disabled: boolean;
  session: Session;
  incident: Incident | undefined;
  /** Finalize hints (what is missing) and server problems by path name, in plain words. */
  localHints: ReadonlyMap<string, string>;
  serverErrors: ReadonlyMap<string, string>;
  /** Every problem the finalize check finds in the report as it is (several may share a path); none once locked. */
  missing: readonly { path: string; message: string }[];
  field(path: Path, label: string): FieldProps;
  text(path: Path, label: string, value: string | undefined, extra?: Record<string, unknown>): JSX.Element;
  /** A coded field: its options are the codes of the NEMSIS element its path exports to (codes.ts PICK_LISTS). */
  select(path: Path, label: string, value: string | undefined): JSX.Element;
  /** A field holding a list of codes (several may apply): the codes of its element (codes.ts PICK_LISTS, the path with `[]`). */
  codes(path: Path, label: string, value: readonly string[] | undefined): JSX.Element;
  /** Puts the cursor in the first field of a list item once it is on screen (after adding one). */
  focusItem(itemId: string): void;
  /**
   * Runs the form's buttons that write (add, copy, remove, fill): a refused write is said next to
   * its button (`<ActionError action={action} at="…" />`, `at` naming the button), never dropped.
   */
  action: Action;
}

/**
 * What "Add …" says when the list already holds as many items as a report may (the schema's
 * limit, which the local database enforces): the generic "correct the value" would not help.
 */
export function addRefusal(epcr: Epcr, list: 'vitals' | 'medications' | 'procedures' | 'crew', what: string): RefusalWords {
  const most = epcrSchema.properties[list].maxItems;
  return (epcr[list]?.length ?? 0) >= most ? { invalid: `Not added: a report holds at most ${most} ${what}. Remove one that is not needed, then add again.` } : {};
}
