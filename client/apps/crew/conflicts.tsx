/**
 * "Conflicts to resolve": every field of the report where two devices wrote different values
 * (shared/merge keeps the losing one in `conflicts`). Shown as a panel at the top of the ePCR
 * form, readable without hovering (tablets have no hover): both values, who wrote each and when,
 * and buttons to keep one or to combine them. The choice is an ordinary edit of the field plus
 * `resolvedAt`/`resolvedBy` on the entry, so it syncs like any edit and the conflict is closed on
 * every device. Finalizing is refused while any is open (shared/domain/epcr-validation.ts), and
 * each affected field says so in its hint.
 *
 * For field-level markers, `conflictsAt(epcr, path)` and `<ConflictMarker>` can be placed at any
 * field; the panel entry for a path has the id `conflict-<path>`.
 */
import { useState } from 'preact/hooks';
import {
  conflictPathSegments, isFreeTextSchema, openConflicts, openConflictsAt, type ConflictEntry,
} from '../../../shared/merge/index.ts';
import { epcrSchema } from '../../../shared/schemas/epcrs.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import type { Op, Path } from '../../worker/api.ts';
import { ActionError, useAction } from '../../ui/action.tsx';
import { write } from '../../ui/db.ts';
import { pathName, recordField } from '../../ui/record-field.ts';
import type { Session } from '../../session/identity.ts';
import { offsetDateTime } from '../../ui/time.ts';
import { type Candidate, candidatesOf } from './conflict-candidates.ts';

type PathLike = string | Path;

/** Open conflicts at a field (`'patient.lastName'` or `['vitals', { id }, 'systolic']`) or inside it. */
export function conflictsAt(epcr: Epcr, path: PathLike): ConflictEntry[] {
  return openConflictsAt(epcr, pathName(path));
}

/**
 * A marker for one field: jumps to its entry in the panel. (The field's hint already says, in the
 * finalize check's words, that two values were written; the marker is the way to them.)
 */
export function ConflictMarker({ epcr, path }: { epcr: Epcr; path: PathLike }) {
  const open = conflictsAt(epcr, path);
  if (open.length === 0) return null;
  return (
    <button type="button" class="conflict-marker" data-testid="conflict-marker" style="margin-top:6px"
      onClick={() => document.getElementById(`conflict-${open[0]!.path}`)?.scrollIntoView({ block: 'center' })}>
      Show both values
    </button>
  );
}

const SECTION_LABELS: Record<string, string> = {
  response: 'Call', dispatch: 'Dispatch', times: 'Times', scene: 'Scene', patient: 'Patient', situation: 'Situation',
  history: 'History', vitals: 'Vital signs', medications: 'Medication', procedures: 'Procedure', narrative: 'Narrative',
  disposition: 'Disposition', payment: 'Billing', record: 'Record', _deleted: 'The whole report',
};

const FIELD_LABELS: Record<string, string> = {
  psapCall: 'Call received (PSAP)', dispatchNotified: 'Dispatch notified', unitNotified: 'Unit notified', dispatchAcknowledged: 'Dispatch acknowledged',
  unitEnRoute: 'En route', unitOnScene: 'On scene', atPatient: 'At patient', transferOfEmsCare: 'Transfer of EMS care', unitLeftScene: 'Left scene',
  atDestination: 'At destination', transferOfCare: 'Transfer of care', backInService: 'Back in service', unitCanceled: 'Cancelled',
  systolic: 'Systolic BP', diastolic: 'Diastolic BP', heartRate: 'Heart rate', respiratoryRate: 'Respiratory rate', spo2: 'SpO₂', etco2: 'EtCO₂',
  glucose: 'Glucose', gcsEye: 'GCS eye', gcsVerbal: 'GCS verbal', gcsMotor: 'GCS motor', avpu: 'AVPU', pain: 'Pain', temperatureC: 'Temperature',
  takenAt: 'Taken at', givenAt: 'Given at', performedAt: 'Performed at', lastName: 'Last name', firstName: 'First name', dateOfBirth: 'Date of birth',
  chiefComplaint: 'Chief complaint', primaryImpression: 'Primary impression', allergies: 'Allergies', medicalHistory: 'Medical history',
  currentMedications: 'Current medications', destinationName: 'Destination', incidentNumber: 'Incident number', callSign: 'Call sign',
  vehicleNumber: 'Vehicle number', loadedMiles: 'Loaded miles', memberId: 'Member id', insuranceCompany: 'Insurance',
};

/** "Vital signs, set 2: Heart rate" for `vitals[v2].heartRate`, in the words of the form. */
export function conflictLabel(epcr: Epcr, path: string): string {
  const segments = conflictPathSegments(path);
  const parts: string[] = [];
  let list: unknown[] | undefined;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (typeof segment !== 'string') {
      const n = (list ?? []).findIndex((item) => (item as { id?: unknown }).id === segment.id);
      parts[parts.length - 1] += n >= 0 ? `, set ${n + 1}` : ' (removed item)';
      continue;
    }
    if (i === 0) {
      parts.push(SECTION_LABELS[segment] ?? humanize(segment));
      const value = (epcr as Record<string, unknown>)[segment];
      list = Array.isArray(value) ? value : undefined;
    } else if (!(segment === 'text' && segments[0] === 'narrative')) {
      parts.push(FIELD_LABELS[segment] ?? humanize(segment));
    }
  }
  return parts.length > 1 ? `${parts[0]}: ${parts.slice(1).join(' › ')}` : parts[0] ?? path;
}

function humanize(key: string): string {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** A time as the crew reads it: `15:27:11 on 2024-05-01`. */
export function whenText(at: string | undefined): string | undefined {
  const m = at ? TIME.exec(at) : null;
  return m ? `${m[2]} on ${m[1]}` : at;
}

function valueText(value: unknown): string {
  if (value === undefined || value === null || value === '') return '(empty)';
  if (typeof value === 'string') return whenText(value) ?? value;
  if (Array.isArray(value)) return value.map(valueText).join(', ');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).filter(([k]) => k !== 'id').map(([k, v]) => `${FIELD_LABELS[k] ?? humanize(k)}: ${valueText(v)}`).join('; ');
  }
  return String(value);
}

function currentValue(epcr: Epcr, path: string): unknown {
  let node: unknown = epcr;
  for (const segment of conflictPathSegments(path)) {
    if (typeof segment === 'string') node = node !== null && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>)[segment] : undefined;
    else node = Array.isArray(node) ? node.find((item) => (item as { id?: unknown }).id === segment.id) : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** The schema of a field, to know whether it is free text (combined in a text box). */
function fieldSchema(path: string): unknown {
  let node: unknown = epcrSchema;
  for (const segment of conflictPathSegments(path)) {
    const schema = node as { properties?: Record<string, unknown>; items?: unknown };
    node = typeof segment === 'string' ? schema.properties?.[segment] : schema.items;
    if (node === undefined) return undefined;
  }
  return node;
}

/** The ops that put `value` into the field and close its entries: one ordinary, synced edit. */
export function resolutionOps(epcr: Epcr, entries: readonly ConflictEntry[], value: unknown, by: string, at = offsetDateTime()): Op[] {
  const ops: Op[] = [];
  const path = entries[0]?.path;
  if (path === undefined) return ops;
  if (path !== '_deleted' && JSON.stringify(currentValue(epcr, path)) !== JSON.stringify(value)) {
    const segments = conflictPathSegments(path) as Path;
    ops.push(value === undefined ? { op: 'unset', path: segments } : { op: 'set', path: segments, value });
  }
  const legacy = entries.filter((e) => e.id === undefined);
  for (const entry of entries) {
    if (entry.id === undefined) continue;
    ops.push({ op: 'set', path: ['conflicts', { id: entry.id }, 'resolvedAt'], value: at });
    ops.push({ op: 'set', path: ['conflicts', { id: entry.id }, 'resolvedBy'], value: by.slice(0, 200) });
  }
  if (legacy.length > 0) {
    // Entries from before entries had ids: the list is rewritten with these resolved.
    const matches = (c: ConflictEntry) => legacy.some((e) => c.path === e.path && c.keptRev === e.keptRev && c.lostRev === e.lostRev);
    ops.push({ op: 'set', path: ['conflicts'], value: (epcr.conflicts ?? []).map((c) => (matches(c) ? { ...c, resolvedAt: at, resolvedBy: by.slice(0, 200) } : c)) });
  }
  return ops;
}

function Version(props: { n: number; candidate: Candidate; long: boolean; disabled: boolean; onKeep: () => void }) {
  const when = whenText(props.candidate.at);
  return (
    <div class="conflict-version card" data-testid="conflict-version">
      <div class="meta">Version {String.fromCharCode(65 + props.n)}</div>
      <div class="meta" data-testid="conflict-who">
        Written by <strong>{props.candidate.by ?? 'an unknown device'}</strong>{when ? ` at ${when}` : ''}
      </div>
      {props.long
        ? <pre class="conflict-text" style="white-space:pre-wrap;font:inherit;margin:8px 0" data-testid="conflict-value">{valueText(props.candidate.value)}</pre>
        : <p style="font-size:1.2em;margin:8px 0" data-testid="conflict-value">{valueText(props.candidate.value)}</p>}
      {!props.disabled && <button class="primary big" data-testid="conflict-keep" onClick={props.onKeep}>Keep this one</button>}
    </div>
  );
}

/** One field with two (or more) values: keyed by its path, so an editor stays open while entries sync in. */
function ConflictItem({ epcr, path, entries, session, disabled }: { epcr: Epcr; path: string; entries: ConflictEntry[]; session: Session; disabled: boolean }) {
  const [combining, setCombining] = useState<string>();
  const [problem, setProblem] = useState<string>();
  // Keeping or combining is a normal edit: a refusal is said in this conflict's card.
  const action = useAction();
  const candidates = candidatesOf(entries);
  const values = candidates.map((c) => c.value);
  const now = currentValue(epcr, path);
  const bothKept = entries.some((e) => e.bothKept);
  const schema = fieldSchema(path) as { type?: string; maxLength?: number } | undefined;
  const long = isFreeTextSchema(schema) || values.some((v) => typeof v === 'string' && v.length > 80);
  const textual = schema?.type === 'string' && path !== '_deleted' && !values.some((v) => typeof v === 'string' && TIME.test(v));
  const numeric = schema?.type === 'integer' || schema?.type === 'number';
  const by = session.user.displayName ?? session.user.userId;
  const resolve = async (value: unknown) => {
    setProblem(undefined);
    await action.run(() => write.mutate('epcrs', epcr.id, resolutionOps(epcr, entries, value, by)));
  };
  // The combined value is what "Keep this" writes into the field in conflict (the round-trip suite reads this).
  const declared = recordField({ collection: 'epcrs', docId: epcr.id, path }, numeric ? 'number' : 'text',
    { maxLength: schema?.maxLength, integer: schema?.type === 'integer' });
  const saveCombined = () => {
    const text = combining ?? '';
    if (numeric) {
      const n = Number(text.trim());
      if (text.trim() === '' || !Number.isFinite(n) || (schema?.type === 'integer' && !Number.isInteger(n))) {
        setProblem(schema?.type === 'integer' ? 'Enter a whole number.' : 'Enter a number.');
        return;
      }
      void resolve(n);
      return;
    }
    if (schema?.maxLength !== undefined && text.length > schema.maxLength) {
      setProblem(`Too long: at most ${schema.maxLength} characters (now ${text.length}).`);
      return;
    }
    void resolve(text === '' ? undefined : text);
  };
  const nowDiffers = !bothKept && path !== '_deleted' && !values.some((v) => JSON.stringify(v) === JSON.stringify(now));
  return (
    <li class="card conflict" id={`conflict-${path}`} data-testid="conflict" data-path={path} style="margin-bottom:8px">
      <h4 style="margin:0 0 4px">{conflictLabel(epcr, path)}</h4>
      {path === '_deleted'
        ? <p>The report was deleted on one device while it was being edited on another; it was kept. Confirm to close this.</p>
        : bothKept
          ? <p class="meta">Both texts are kept in the field, each between markers, until you choose one or combine them.</p>
          : <p class="meta">Different devices wrote different values. The report holds the one the server received first; the others are kept here.</p>}
      {path === '_deleted'
        ? !disabled && <button class="primary big" data-testid="conflict-keep" onClick={() => void resolve(false)}>Keep the report</button>
        : (
          <div style="display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,320px),1fr));gap:12px">
            {candidates.map((candidate, n) => <Version key={n} n={n} candidate={candidate} long={long} disabled={disabled} onKeep={() => void resolve(candidate.value)} />)}
          </div>
        )}
      {nowDiffers && (
        <p class="meta" data-testid="conflict-now">Changed since to: {valueText(now)} {!disabled && <button onClick={() => void resolve(now)}>Keep what is in the report now</button>}</p>
      )}
      {!disabled && (textual || numeric) && combining === undefined && (
        <button class="big" data-testid="conflict-combine" onClick={() => setCombining(
          bothKept && typeof now === 'string' ? now
            : values.every((v) => typeof v === 'string') ? values.join('\n') : String(now ?? values.find((v) => v !== undefined) ?? ''),
        )}>{numeric ? 'Enter another value' : 'Combine them (edit)'}</button>
      )}
      {combining !== undefined && (
        <div class="field">
          <label for={`combine-${path}`}>{numeric ? 'The value to keep' : 'The combined text to keep'}</label>
          {numeric
            ? <input id={`combine-${path}`} inputMode="decimal" value={combining} data-testid="conflict-combined" {...declared}
              onInput={(e) => setCombining((e.target as HTMLInputElement).value)} />
            : <textarea id={`combine-${path}`} rows={long ? 8 : 2} value={combining} data-testid="conflict-combined" {...declared}
              onInput={(e) => setCombining((e.target as HTMLTextAreaElement).value)} />}
          <div class="row">
            <button class="primary big" data-testid="conflict-save-combined" onClick={saveCombined}>Keep this</button>
            <button onClick={() => setCombining(undefined)}>Cancel</button>
          </div>
        </div>
      )}
      {problem && <p class="hint bad" role="alert">{problem}</p>}
      <ActionError action={action} />
    </li>
  );
}

/** The panel at the top of the report; nothing when every conflict is resolved. */
export function ConflictsPanel({ epcr, session, disabled }: { epcr: Epcr; session: Session; disabled: boolean }) {
  const byPath = new Map<string, ConflictEntry[]>();
  for (const entry of openConflicts(epcr)) byPath.set(entry.path, [...(byPath.get(entry.path) ?? []), entry]);
  if (byPath.size === 0) return null;
  return (
    <section class="conflicts-panel finalize-errors" role="region" aria-labelledby="conflicts-title" data-testid="conflicts-panel">
      <h3 id="conflicts-title" style="margin:4px 0">Conflicts to resolve ({byPath.size})</h3>
      <p class="meta">
        This report was edited on more than one device and {byPath.size === 1 ? 'one field has' : `${byPath.size} fields have`} more than one value.
        Nothing was thrown away: choose one, or combine them. The report cannot be finalized until each is resolved.
      </p>
      <ul class="list">
        {[...byPath].map(([path, entries]) => <ConflictItem key={path} epcr={epcr} path={path} entries={entries} session={session} disabled={disabled} />)}
      </ul>
    </section>
  );
}
