/**
 * The national Schematron's WARNINGS of the report's last check at finalize (issue 16 item 2:
 * "warnings are shown and allowed"). They never hold a report back. The server writes them on the
 * report (`finalizeWarnings`, server-owned, beside finalizeErrors), so they arrive with it by sync
 * and stay in the device's database, encrypted like the clinical sections (they quote its
 * values): shown offline too, after a reload. Each is shown at its field, under the input, in
 * words, like a returned problem; the panel sums them up and lists those with no field on screen.
 * Each is shown while its field holds the value it was found on (the server notes a mark of it,
 * `foundOn`): a report back in draft whose warned value the crew changed no longer shows it.
 *
 * A report checked before the server wrote them on the report has none on it: for that one the
 * form reads the server's kept check (`GET EPCRS.nemsisCheck`, audited as a read) while online.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiClient, EPCRS } from '../../../shared/protocol/index.ts';
import { fieldValueMark } from '../../../shared/epcr/field-value.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { getAccessToken } from '../../session/session.ts';
import { revealField } from './sections/reveal.ts';
import { fieldMessage, pathOf, plainWords, SECTIONS, sectionAnchorOf } from './sections/model.ts';

export interface CheckWarning {
  path: string;
  message: string;
  rule?: string;
  /** The mark of the field's value the warning was found on (shared/epcr/field-value.ts); absent on warnings of an older server. */
  foundOn?: string;
}
interface NemsisCheckBody { rev?: string; warnings?: CheckWarning[] }

const api = new ApiClient({ token: getAccessToken });

/** The warnings of the report's last check (undefined: none known: never checked, or an older check not readable now). */
export function useCheckWarnings(id: string, epcr: Epcr | undefined): CheckWarning[] | undefined {
  const kept = epcr?.finalizeWarnings;
  const [fetched, setFetched] = useState<CheckWarning[]>();
  // A new check is made at each finalize: it shows as a lock or a return (finalizeErrors).
  const checkedAs = `${epcr?.lockedAt ?? ''}|${epcr?.status}|${epcr?.finalizeErrors?.length ?? -1}`;
  const checked = epcr !== undefined && (epcr.lockedAt !== undefined || epcr.finalizeErrors !== undefined);
  const ask = checked && kept === undefined;
  useEffect(() => {
    if (!ask || !navigator.onLine) return;
    let current = true;
    void (async () => {
      try {
        const response = await api.send(EPCRS.nemsisCheck, { params: { id } });
        if (!response.ok) return; // 404 NOT_CHECKED (a server without the NEMSIS files), or not readable here
        const body = await response.json() as NemsisCheckBody;
        if (current) setFetched(Array.isArray(body.warnings) ? body.warnings : []);
      } catch {
        // Offline: nothing more to show.
      }
    })();
    return () => { current = false; };
  }, [id, checkedAs, ask]);
  const known = kept ?? (ask ? fetched : undefined);
  // A warning is about the value it was found on: once the crew changes that value (the report
  // back to draft), it is no longer shown, at its field or in the panel, until the next check.
  return known && epcr ? known.filter((w) => w.foundOn === undefined || fieldValueMark(epcr, w.path) === w.foundOn) : known;
}

/** Warnings by path name, in words, for the fields (several at one field are said one after the other). */
export function warningsByField(warnings: readonly CheckWarning[] | undefined): Map<string, CheckWarning[]> {
  const out = new Map<string, CheckWarning[]>();
  for (const w of warnings ?? []) out.set(w.path, [...out.get(w.path) ?? [], w]);
  return out;
}

/** A warning under its field: worth checking, not required. */
export function FieldWarnings(props: { warnings: readonly CheckWarning[] }) {
  return (
    <>{props.warnings.map((w) => (
      <div key={w.message} class="hint warn" data-testid="finalize-warning" data-path={w.path} data-rule={w.rule}>
        <strong>National warning: </strong>{fieldMessage(w.message)}
      </div>
    ))}</>
  );
}

const SECTION_NAMES = new Map(SECTIONS.map(([anchor, name]) => [anchor as string, name as string]));

/** The paths whose warning is shown under a field (the fields render after the panel, some in their own components). */
function usePlacedPaths(warnings: readonly CheckWarning[] | undefined): ReadonlySet<string> {
  const [placed, setPlaced] = useState('');
  useEffect(() => {
    const here = new Set(Array.from(document.querySelectorAll('.field [data-testid="finalize-warning"]'), (node) => node.getAttribute('data-path')));
    const next = [...new Set((warnings ?? []).map((w) => w.path).filter((p) => here.has(p)))].join('\n');
    if (next !== placed) setPlaced(next);
  });
  return new Set(placed ? placed.split('\n') : []);
}

/** The summary: how many warnings, that they do not hold the report back, and those with no field on screen. */
export function FinalizeWarnings(props: { id: string; warnings: readonly CheckWarning[] | undefined; notDrawnYet?: (path: string) => boolean }) {
  const warnings = props.warnings;
  const placed = usePlacedPaths(warnings);
  if (!warnings?.length) return null;
  // A warning of a section the form has not drawn yet (section-first-draw.tsx) is shown at its
  // field once it is drawn, not listed here meanwhile.
  const unplaced = warnings.filter((w) => !placed.has(w.path) && !props.notDrawnYet?.(w.path));
  const first = warnings.find((w) => placed.has(w.path));
  return (
    <section class="banner info" data-testid="finalize-warnings" data-count={warnings.length} data-at-fields={warnings.length - unplaced.length}>
      <h3 style="margin:4px 0">{`${warnings.length} national warning${warnings.length === 1 ? '' : 's'}: worth checking, not required`}</h3>
      <p class="meta">The national rules flag these as unusual. They do not stop the report from locking; an addendum can add what is missing. Each is shown at its field.</p>
      {first && <button data-testid="show-first-warning" onClick={() => revealField(props.id, pathOf(first.path))}>Show the first one</button>}
      {unplaced.length > 0 && <ul>{unplaced.map((w) => {
        const words = plainWords(w.message);
        const anchor = sectionAnchorOf(w.path);
        return (
          <li key={w.path + w.message} data-testid="finalize-warning" data-path={w.path} data-rule={w.rule}>
            {anchor && <strong>{SECTION_NAMES.get(anchor) ?? anchor}: </strong>}
            {words.text}{words.element && <small class="meta"> NEMSIS {words.element}</small>}
            {anchor && <> <button class="link" onClick={() => revealField(props.id, pathOf(w.path))}>Show</button></>}
          </li>
        );
      })}</ul>}
    </section>
  );
}
