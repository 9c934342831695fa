/**
 * Dispatch's end of a call's lifecycle (docs/data-model.md, "Incident lifecycle"): close a call
 * that is done, or cancel one, always with a reason. The write is an ordinary incident edit that
 * syncs; the access declaration (shared/access/rules.ts) lets only dispatch make it. A closed or
 * cancelled call leaves the board's open incidents; the unit's MDT shows why until the crew goes
 * available. Cancelling stamps eTimes.14 (unit canceled) for the assigned unit.
 */
import { useState } from 'preact/hooks';
import { ACCESS_RULES } from '../../../shared/access/rules.ts';
import type { Incident } from '../../../shared/schemas/index.ts';
import { write } from '../../ui/db.ts';
import { recordField } from '../../ui/record-field.ts';
import type { Session } from '../../session/identity.ts';
import { offsetDateTime } from '../../ui/time.ts';

type Ending = 'closed' | 'cancelled';

export const END_REASONS: Record<Ending, readonly string[]> = {
  closed: ['Call completed', 'Patient transported', 'Treated, not transported', 'Patient refused care', 'No patient found', 'Other'],
  cancelled: ['Cancelled by caller', 'Duplicate call', 'Cancelled prior to arrival', 'Handled by another unit or agency', 'Entered in error', 'Other'],
};

/** Whether the access declaration lets this role close and cancel calls (dispatchers do; a crew or a biller does not). */
export function mayEndIncidents(role: Session['user']['role']): boolean {
  const rule = ACCESS_RULES.incidents.write[role];
  if (!rule || rule.update === 'none' || (Array.isArray(rule.update) && !rule.update.includes('status'))) return false;
  const steps = rule.transitions?.['status'];
  return !steps || steps.some((step) => step.to.includes('closed') && step.to.includes('cancelled'));
}

const TITLE: Record<Ending, string> = { closed: 'Close call', cancelled: 'Cancel call' };
const MAX_REASON = 200;

/** The reason as stored: the chosen reason, then the dispatcher's words (required with "Other"). */
export function reasonText(choice: string, details: string): string | undefined {
  const extra = details.trim();
  if (!choice) return undefined;
  if (choice === 'Other') return extra || undefined;
  return extra ? `${choice}: ${extra}` : choice;
}

/** How many characters the details may have beside `choice` (the stored reason is at most MAX_REASON). */
export function detailsLimit(choice: string): number {
  return choice && choice !== 'Other' ? MAX_REASON - choice.length - 2 : MAX_REASON;
}

export function IncidentActions({ incident, session }: { incident: Incident; session: Session }) {
  const [ending, setEnding] = useState<Ending>();
  const [choice, setChoice] = useState('');
  const [details, setDetails] = useState('');
  // Where the problem is: at the reason, at the details, or the write itself (below the form).
  const [problem, setProblemText] = useState<{ at: 'reason' | 'details' | 'form'; text: string }>();
  const setProblem = (text: string | undefined, at: 'reason' | 'details' | 'form' = 'form') => setProblemText(text === undefined ? undefined : { at, text });
  const [busy, setBusy] = useState(false);
  const open = (next: Ending) => {
    setEnding(next);
    setChoice('');
    setDetails('');
    setProblem(undefined);
  };

  if (!mayEndIncidents(session.user.role)) return <span class="meta">—</span>;
  if (!ending) {
    return (
      <div class="row" data-testid="incident-actions">
        {incident.transportCompleted && <span class="tag" data-testid="incident-transport-completed">Transport completed</span>}
        <button data-testid="close-incident" onClick={() => open('closed')}>Close…</button>
        <button class="danger" data-testid="cancel-incident" onClick={() => open('cancelled')}>Cancel call…</button>
      </div>
    );
  }

  const submit = async (event: Event) => {
    event.preventDefault();
    const reason = reasonText(choice, details);
    const limit = detailsLimit(choice);
    // Refused, never cut: the reason stored is the one the dispatcher typed.
    if (details.trim().length > limit) {
      setProblem(`At most ${limit} characters with this reason; this has ${details.trim().length}. Shorten it (nothing was cut).`, 'details');
      return;
    }
    if (!reason) {
      if (choice === 'Other') setProblem('Say in a few words why (Details).', 'details');
      else setProblem('Choose a reason.', 'reason');
      return;
    }
    setBusy(true);
    setProblem(undefined);
    const at = offsetDateTime();
    try {
      await write.mutate('incidents', incident.id, [
        { op: 'set', path: ['status'], value: ending },
        { op: 'set', path: ['closeReason'], value: reason },
        { op: 'set', path: ['closedAt'], value: at },
        { op: 'set', path: ['closedBy'], value: (session.user.displayName ?? session.user.userId).slice(0, MAX_REASON) },
        // eTimes.14: the assigned unit was cancelled, unless it was already back in service.
        ...(ending === 'cancelled' && incident.assignedUnitId && !incident.timeline?.backInService && !incident.timeline?.unitCanceled
          ? [{ op: 'set' as const, path: ['timeline', 'unitCanceled'], value: at }] : []),
      ]);
      setEnding(undefined);
    } catch (error) {
      setProblem(`The call was not ${ending === 'closed' ? 'closed' : 'cancelled'}: ${(error as Error)?.message ?? String(error)}. Try again.`);
    } finally {
      setBusy(false);
    }
  };

  const id = `end-${incident.id}`;
  const shown = (at: 'reason' | 'details' | 'form') => problem?.at === at && (
    <p class="hint bad" role="alert" id={`${id}-problem`} data-testid="end-incident-problem">{problem.text}</p>
  );
  return (
    <form class="card" onSubmit={(e) => void submit(e)} data-testid="end-incident-form" data-ending={ending} aria-label={`${TITLE[ending]} ${incident.incidentNumber}`}>
      <div class="field"><label for={`${id}-reason`}>Reason</label>
        <select id={`${id}-reason`} value={choice} required onChange={(e) => setChoice(e.currentTarget.value)}
          {...recordField({ collection: 'incidents', docId: incident.id, path: 'closeReason' }, 'select')}>
          <option value="">— choose —</option>
          {END_REASONS[ending].map((r) => <option key={r} value={r}>{r}</option>)}
        </select>{shown('reason')}</div>
      <div class="field"><label for={`${id}-details`}>Details{choice === 'Other' ? '' : ' (optional)'}</label>
        {/* Its words follow the chosen reason in closeReason ("Duplicate call: <details>"); no maxlength attribute (a silent cut), the form refuses too long a text instead. */}
        <input id={`${id}-details`} value={details} onInput={(e) => setDetails(e.currentTarget.value)}
          aria-invalid={problem?.at === 'details' ? true : undefined} aria-describedby={problem?.at === 'details' ? `${id}-problem` : undefined}
          {...recordField({ collection: 'incidents', docId: incident.id, path: 'closeReason' }, 'text', { maxLength: detailsLimit(choice) })} />
        {shown('details')}</div>
      {shown('form')}
      <div class="row">
        <button class={ending === 'cancelled' ? 'danger' : 'primary'} type="submit" disabled={busy} data-testid="confirm-end-incident">{TITLE[ending]}</button>
        <button type="button" onClick={() => setEnding(undefined)}>Keep it open</button>
      </div>
    </form>
  );
}
