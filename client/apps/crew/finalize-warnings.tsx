/**
 * The national Schematron's WARNINGS of the report's last check at finalize (issue 16 item 2:
 * "warnings are shown and allowed"). They never hold a report back, so they are not written on
 * the report (no schema change, nothing to merge): the form reads the server's own check
 * (`GET EPCRS.nemsisCheck`, the one place the server keeps it, audited as a read of the report)
 * while online, once per check (the report's rev and lock), and lists each at its section with
 * the field to look at. Offline, the list is not shown (the warnings do not change what can be done).
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiClient, EPCRS } from '../../../shared/protocol/index.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { getAccessToken } from '../../session/session.ts';
import { revealField } from './sections/reveal.ts';
import { pathOf, plainWords, SECTIONS, sectionAnchorOf } from './sections/model.ts';

interface CheckWarning { path: string; message: string; rule?: string }
interface NemsisCheckBody { rev?: string; warnings?: CheckWarning[] }

const api = new ApiClient({ token: getAccessToken });

/** The warnings of the server's last check of report `id` (undefined: none read: never checked, offline, not allowed). */
function useCheckWarnings(id: string, epcr: Epcr): CheckWarning[] | undefined {
  const [warnings, setWarnings] = useState<CheckWarning[]>();
  // A new check is made at each finalize: it shows as a lock or a return (finalizeErrors).
  const checkedAs = `${epcr.lockedAt ?? ''}|${epcr.status}|${epcr.finalizeErrors?.length ?? -1}`;
  const checked = epcr.lockedAt !== undefined || epcr.finalizeErrors !== undefined;
  useEffect(() => {
    if (!checked || !navigator.onLine) return;
    let current = true;
    void (async () => {
      try {
        const response = await api.send(EPCRS.nemsisCheck, { params: { id } });
        if (!response.ok) return; // 404 NOT_CHECKED (a server without the NEMSIS files), or not readable here
        const body = await response.json() as NemsisCheckBody;
        if (current) setWarnings(Array.isArray(body.warnings) ? body.warnings : []);
      } catch {
        // Offline: nothing to show.
      }
    })();
    return () => { current = false; };
  }, [id, checkedAs]);
  return warnings;
}

const SECTION_NAMES = new Map(SECTIONS.map(([anchor, name]) => [anchor as string, name as string]));

export function FinalizeWarnings(props: { id: string; epcr: Epcr }) {
  const warnings = useCheckWarnings(props.id, props.epcr);
  if (!warnings?.length) return null;
  return (
    <section class="banner info" data-testid="finalize-warnings" data-count={warnings.length}>
      <h3 style="margin:4px 0">{`${warnings.length} national warning${warnings.length === 1 ? '' : 's'}: worth checking, not required`}</h3>
      <p class="meta">The national rules flag these as unusual. They do not stop the report from locking; an addendum can add what is missing.</p>
      <ul>{warnings.map((w) => {
        const words = plainWords(w.message);
        const anchor = sectionAnchorOf(w.path);
        return (
          <li key={w.path + w.message} data-testid="finalize-warning" data-path={w.path}>
            {anchor && <strong>{SECTION_NAMES.get(anchor) ?? anchor}: </strong>}
            {words.text}{words.element && <small class="meta"> NEMSIS {words.element}</small>}
            {anchor && <> <button class="link" onClick={() => revealField(props.id, pathOf(w.path))}>Show</button></>}
          </li>
        );
      })}</ul>
    </section>
  );
}
