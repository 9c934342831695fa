/**
 * The ePCR form, by NEMSIS section, one section on screen at a time (the section navigation shows
 * what each still needs). There is no save button: every keystroke goes to the journal and then
 * to the local database (client/ui/autosave.ts). Finalizing asks the server to check and lock the
 * report; its problems come back as `finalizeErrors` and show next to their fields.
 *
 * The sections' fields live in client/apps/crew/sections/ (a file per section); every section
 * stays mounted while another is shown, so a value a field refused keeps its message. A report
 * opens with the section on screen drawn and the others drawn one at a time after it
 * (section-first-draw.tsx).
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { validateEpcrForFinalize } from '../../../shared/domain/epcr-validation.ts';
import type { Epcr, Incident } from '../../../shared/schemas/index.ts';
import type { Path } from '../../worker/api.ts';
import { ActionError, useAction } from '../../ui/action.tsx';
import { draftsShown, flushAll, invalidDrafts, journalEntry, journalOf, journalReplayed, onJournalChange } from '../../ui/autosave.ts';
import { Badge, CodesField, go, markReady, SelectField, TextField } from '../../ui/components.tsx';
import { countRender } from '../../ui/render-count.ts';
import { database, useDoc, write } from '../../ui/db.ts';
import { uuid } from '../../ui/ids.ts';
import type { Session } from '../../session/identity.ts';
import { clockOf } from '../../ui/time.ts';
import { pickListAt } from './codes.ts';
import { nothingTyped, prefillFromCall } from './report-content.ts';
import { backToList } from './return-to.ts';
import { openPlace, placeInRoute, revealField } from './sections/reveal.ts';
import { arrestSection } from './sections/arrest.tsx';
import { billingSection } from './sections/billing.tsx';
import { callSection } from './sections/call.tsx';
import { dispositionSection } from './sections/disposition.tsx';
import { historySection } from './sections/history.tsx';
import type { FieldProps, FormKit } from './sections/kit.ts';
import { timeRangeFor } from '../../ui/time-range.ts';
import { fieldMessage, filled, pathName, pathOf, plainWords, SECTIONS, sectionAnchorOf, valueAt, type SectionAnchor } from './sections/model.ts';
import { narrativeSection } from './sections/narrative.tsx';
import { signaturesSection } from './sections/signatures.tsx';
import { SectionNav, type SectionStatus } from './sections/nav.tsx';
import { patientSection } from './sections/patient.tsx';
import { situationSection } from './sections/situation.tsx';
import { timesSection } from './sections/times.tsx';
import { treatmentSection } from './sections/treatment.tsx';
import { vitalsSection } from './sections/vitals.tsx';
import { ConflictMarker, ConflictsPanel, conflictsAt } from './conflicts.tsx';
import { SectionCache } from './section-cache.tsx';
import { DrawnLater } from './section-first-draw.tsx';
import { CONFLICTS_KEY } from '../../../shared/merge/conflicts.ts';
import { FieldWarnings, FinalizeWarnings, useCheckWarnings, warningsByField } from './finalize-warnings.tsx';
import * as Comlink from 'comlink';
import type { FinalizeProblem } from '../../../shared/domain/epcr-validation.ts';
import type { DocView } from '../../worker/api.ts';
import { checkOnDevice, refreshRules } from './device-check/check.ts';

export { pathName, revealField };

const LEGENDS: Readonly<Record<SectionAnchor, string>> = {
  response: 'Call (response, dispatch and crew)', patient: 'Patient', situation: 'Situation and injury', arrest: 'Cardiac arrest', history: 'History', vitals: 'Vitals',
  treatment: 'Medications and procedures', narrative: 'Narrative', disposition: 'Disposition and destination', times: 'Times', billing: 'Billing',
  signatures: 'Signatures, refusal and photos',
};

/** A section's name as the section list shows it (sections/model.ts is the one source). */
const sectionLabel = (anchor: SectionAnchor): string => SECTIONS.find(([a]) => a === anchor)![1];

/** Where a field sits in the report, e.g. "Vitals, set 2": its section in the section list, and the item in a list. */
function placeOf(epcr: Epcr, path: Path): string {
  const [root, item] = path;
  if (root === 'addendumReason') return 'Addendum';
  const anchor = sectionAnchorOf(pathName(path));
  if (!anchor) return 'Report';
  const section = sectionLabel(anchor);
  const nth = (list: readonly { id: string }[] | undefined) => (typeof item === 'object' ? (list ?? []).findIndex((x) => x.id === item.id) + 1 : 0);
  const numbered = (what: string, n: number) => (n > 0 ? `${section}, ${what} ${n}` : `${section}, a removed ${what}`);
  if (root === 'vitals') return numbered('set', nth(epcr.vitals));
  if (root === 'medications') return numbered('medication', nth(epcr.medications));
  if (root === 'procedures') return numbered('procedure', nth(epcr.procedures));
  return section;
}

/**
 * Finalizing: refused on the device while a field holds a draft that could not be saved (each
 * named, with its section and the reason); otherwise waits for the journal read back at the last
 * open, writes everything typed, then asks the server to check and lock the report. So the
 * report the server locks is the one on the screen.
 */
/** How long reading the stored report may take before the device gives up its own check (the server still checks). */
const STORED_REPORT_WAIT_MS = 10_000;

/**
 * The report as the device's database holds it now (after the last writes), not as last rendered;
 * `undefined` when the database does not answer in time (the app locked, the worker gone): the
 * finalize then goes on without the device's check rather than waiting for ever.
 */
function storedReport(id: string): Promise<Epcr | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (epcr: Epcr | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(epcr);
    };
    const timer = setTimeout(() => settle(undefined), STORED_REPORT_WAIT_MS);
    void database().api.watchQuery('epcrs', { selector: { id }, limit: 1 }, Comlink.proxy((views: DocView[]) => {
      settle(views[0]?.doc as Epcr | undefined);
    })).then((unsubscribe) => {
      if (settled) void unsubscribe();
      else {
        const stop = setInterval(() => { if (settled) { clearInterval(stop); void unsubscribe(); } }, 50);
      }
    }, () => settle(undefined));
  });
}

/**
 * Scrolls a section just shown to its start, under the tabs (they stay at the top of the screen:
 * the section's scroll margin is their height, styles.css), when its start is behind them or
 * below the screen. Not `scrollIntoView({ block: 'nearest' })`: a section taller than the screen
 * was left with its heading behind the tabs, and it ran before the section was shown.
 */
function showSectionStart(anchor: SectionAnchor | 'all'): void {
  const section = document.querySelector(anchor === 'all' ? '#sec-response' : `#sec-${anchor}`);
  if (!section) return;
  const tabsEnd = document.querySelector('[data-testid="section-nav"]')?.getBoundingClientRect().bottom ?? 0;
  const top = section.getBoundingClientRect().top;
  if (top < tabsEnd || top > window.innerHeight) section.scrollIntoView({ block: 'start' });
}

/** A problem the device's own check found, with the value it was found on (it goes when the value changes). */
export interface DeviceProblem extends FinalizeProblem { value: string }

function FinalizeButton({ id, epcr, missing, reveal, onDeviceCheck }: { id: string; epcr: Epcr; missing: number; reveal(path: Path): void; onDeviceCheck(problems: DeviceProblem[]): void }) {
  // Re-rendered when the drafts it names change (or whether edits are still being saved), not on
  // every keystroke (draftsShown).
  const [, setShown] = useState(() => draftsShown('epcrs', id, true));
  const drafts = invalidDrafts('epcrs', id);
  const [state, setState] = useState<'idle' | 'saving' | 'checking' | 'refused'>('idle');
  /** Why the device did not check the report itself (the server still does). */
  const [unchecked, setUnchecked] = useState<string>();
  const action = useAction();
  useEffect(() => {
    setShown(draftsShown('epcrs', id, true));
    return onJournalChange(() => setShown(draftsShown('epcrs', id, true)), { collection: 'epcrs', id });
  }, [id]);
  const finalize = async () => {
    setState('saving');
    let next: 'idle' | 'refused' = 'idle';
    // A refusal (the report gone from the device, storage full, ...) is said under the button.
    await action.run(async () => {
      await journalReplayed();
      // Twice at most: what was typed while the first writes ran goes in too.
      for (let round = 0; round < 2 && journalOf('epcrs', id).length > 0; round++) await flushAll();
      if (journalOf('epcrs', id).length > 0) {
        next = 'refused';
        return;
      }
      // The national rules on this device first: a report they refuse is not sent (issue 16 item 2).
      // The check takes a while (up to a second, more the first time): what the crew types
      // meanwhile is written, and the report checked again, so what is finalized is what was checked.
      setState('checking');
      let check: Awaited<ReturnType<typeof checkOnDevice>> = { ran: false, reason: 'the report is not on this device' };
      for (let round = 0; ; round++) {
        const report = await storedReport(id);
        check = report ? await checkOnDevice(report) : { ran: false, reason: 'the report could not be read on this device' };
        if (check.ran && check.errors.length > 0 && report) {
          onDeviceCheck(check.errors.map((e) => ({ ...e, value: JSON.stringify(valueAt(report, e.path) ?? null) })));
          return;
        }
        for (let flush = 0; flush < 2 && journalOf('epcrs', id).length > 0; flush++) await flushAll();
        if (journalOf('epcrs', id).length > 0) {
          next = 'refused';
          return;
        }
        const now = check.ran ? await storedReport(id) : undefined;
        if (!report || !now || now.rev === report.rev) break;
        if (round >= 2) throw new Error('The report kept changing while this device checked it; finalize again when the typing is done.');
      }
      onDeviceCheck([]);
      setUnchecked(check.ran ? undefined : check.reason);
      await write.mutate('epcrs', id, [{ op: 'set', path: ['status'], value: 'finalized' }]);
    });
    setState(next);
  };
  const pending = state === 'refused' && drafts.length === 0 && journalOf('epcrs', id).length > 0;
  return (
    <>
      <button class="primary" data-testid="finalize" disabled={state === 'saving' || state === 'checking'} onClick={() => void finalize()}>
        {state === 'saving' ? 'Saving before finalizing…' : state === 'checking' ? 'Checking the report on this device…' : `Finalize report${missing ? ` (${missing} still missing)` : ''}`}
      </button>
      {unchecked && <p class="meta" style="flex-basis:100%" data-testid="device-check-skipped">Not checked on this device ({unchecked}); the server checks it.</p>}
      {action.error && <div style="flex-basis:100%"><ActionError action={action} testId="finalize-failed" /></div>}
      {(drafts.length > 0 || pending) && (
        <div class="hint bad" style="flex-basis:100%" role={state === 'refused' ? 'alert' : undefined} data-testid="finalize-blocked" data-refused={state === 'refused' ? 'true' : undefined}>
          {pending ? <strong>Not finalized: some edits are still being saved. Try again in a moment.</strong> : (
            <>
              <strong>
                {state === 'refused' ? 'Not finalized: ' : ''}{drafts.length} field{drafts.length === 1 ? ' holds a value that is' : 's hold values that are'} not saved.
                Fix or discard {drafts.length === 1 ? 'it' : 'them'} before finalizing:
              </strong>
              <ul style="margin:4px 0">
                {drafts.map((d) => (
                  <li key={`${JSON.stringify(d.path)}`} data-testid="finalize-blocker">
                    <a href={`#/epcr/${id}`} onClick={(e) => { e.preventDefault(); reveal(d.path); }}>{d.label ?? pathName(d.path)} ({placeOf(epcr, d.path)})</a>: {d.problem ?? 'not saved'}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </>
  );
}

/** The lines fields (they save through their own component, not the form's field helper). */
const LINES_PATHS: readonly Path[] = [['history', 'allergies'], ['history', 'medicalHistory'], ['history', 'currentMedications']];

export function EpcrForm({ id, session }: { id: string; session: Session }) {
  const view = useDoc<Epcr>('epcrs', id);
  const incidentView = useDoc<Incident>('incidents', view?.doc.incidentId);
  const originalView = useDoc<Epcr>('epcrs', view?.doc.addendumOf);
  // The national warnings of the last finalize check, kept on the report (offline too).
  const checkWarnings = useCheckWarnings(id, view?.doc);
  const [focusItem, setFocusItem] = useState<string>();
  /** A field to bring into view and focus once its section is on screen (a finalize blocker was picked). */
  const [focusPath, setFocusPath] = useState<Path>();
  const [openVital, setOpenVital] = useState<string>();
  const [discarding, setDiscarding] = useState(false);
  /** What the national rules found on this device at the last Finalize (nothing was sent). */
  const [deviceProblems, setDeviceProblems] = useState<{ id: string; problems: DeviceProblem[] }>({ id, problems: [] });
  // The rules the device checks with, fetched (or revalidated) while online, kept for offline.
  useEffect(() => { void refreshRules(); }, [id]);
  // The form's buttons that write (here and in the sections): a refusal is said at its button.
  const action = useAction();
  // Refused drafts count in the section badges, and a draft keeps an empty report from being
  // discarded: follow the journal, but only what the form shows of it (draftsShown; whether any
  // draft exists only while the report could be discarded). A keystroke re-renders its field
  // alone: re-rendering the whole form (every section, its checks) on each key made typing lag by
  // hundreds of milliseconds.
  const emptyReport = useRef(false);
  // Each section is drawn again only when what it shows changed (section-cache.tsx).
  const cacheRef = useRef<{ id: string; cache: SectionCache } | undefined>(undefined);
  // The sections drawn so far: the one on screen first, the others one at a time after it
  // (section-first-draw.tsx). `recheck`: this render decided something without the sections not
  // drawn yet (which returned problems have a field, whether anything was typed): it is decided
  // again once every section is drawn.
  const drawnRef = useRef<{ id: string; anchors: Set<SectionAnchor>; recheck: boolean } | undefined>(undefined);
  const [, redraw] = useState(0);
  const shownNow = () => draftsShown('epcrs', id, emptyReport.current);
  const [, setShown] = useState(shownNow);
  useEffect(() => {
    setShown(shownNow());
    return onJournalChange(() => setShown(shownNow()), { collection: 'epcrs', id });
  }, [id]);
  useEffect(() => {
    if (!focusItem) return;
    const input = document.querySelector<HTMLInputElement>(`[data-item="${focusItem}"] input:not([type=datetime-local])`);
    if (input) {
      input.focus();
      setFocusItem(undefined);
    }
  });
  useEffect(() => {
    if (!focusPath) return;
    const input = document.querySelector<HTMLElement>(`[data-testid="${CSS.escape(pathName(focusPath))}"]`);
    // Focused once its section (and, for a list item, its set) is shown: a hidden field takes no focus.
    if (!input) setFocusPath(undefined); // not on the report any more (a removed set)
    else if (!input.closest('[hidden]')) {
      input.scrollIntoView({ block: 'center' });
      input.focus();
      setFocusPath(undefined);
    }
  });
  // Where the route says the report is open (its section, its vital set).
  const place = placeInRoute();
  const current = place.section;
  // A section opened from the tabs further down the page starts at its top, once it is shown.
  const scrollOnOpen = useRef<SectionAnchor | 'all' | undefined>(undefined);
  useEffect(() => {
    if (scrollOnOpen.current === undefined || scrollOnOpen.current !== current) return;
    scrollOnOpen.current = undefined;
    showSectionStart(current);
  });
  if (view === undefined) return <p>Loading…</p>;
  if (view === null) return <div class="card"><p>This report is not on this device.</p><button onClick={() => go('')}>Back to calls</button></div>;
  markReady();
  const epcr = view.doc;
  if (cacheRef.current?.id !== id) cacheRef.current = { id, cache: new SectionCache(epcr) };
  const cache = cacheRef.current.cache;
  cache.report = epcr;
  if (drawnRef.current?.id !== id) drawnRef.current = { id, anchors: new Set(), recheck: false };
  const drawnSections = drawnRef.current;
  // What the form shows: the report, its sync badge, the drafts it names (a test counts renders of each).
  countRender('epcr-form', () => [epcr, view.badge, shownNow()]);
  const incident = incidentView?.doc;
  const locked = epcr.lockedAt !== undefined;
  const checking = epcr.status === 'finalized' && !locked;
  const disabled = locked || checking;
  const openSection = (anchor: SectionAnchor | 'all') => {
    openPlace(id, anchor);
    // Shown already: its start now; else once it is shown (the effect above).
    if (anchor === current) showSectionStart(anchor);
    else scrollOnOpen.current = anchor;
  };
  /** Shows a field wherever it is: opens its section (and its vital set), then focuses it. */
  const reveal = (path: Path) => {
    const anchor = sectionAnchorOf(pathName(path));
    const [root, item] = path;
    if (root === 'vitals' && typeof item === 'object') setOpenVital(item.id);
    if (anchor && current !== 'all' && current !== anchor) go(`epcr/${id}/${anchor}`);
    setFocusPath(path);
  };

  // Each field's problem once, in plain words: the server's (red) or else what finalize still needs.
  // A value the server asked for that the crew has filled in since (and the same check no longer
  // misses) is no longer shown or counted, so the section turns complete before finalizing again.
  // Any other returned problem (a wrong code, times out of order, a check only the server makes)
  // stays until the server checks the report again.
  const missing = locked ? [] : validateEpcrForFinalize(epcr as never);
  const stillMissing = new Set(missing.map((m) => m.path));
  const filledSince = (e: { path: string; message: string }) =>
    !locked && / (is|are) required\b/.test(e.message) && !stillMissing.has(e.path) && filled(valueAt(epcr, e.path));
  const returned = (epcr.finalizeErrors ?? []).filter((e) => !filledSince(e));
  const serverErrors = new Map<string, string>();
  for (const e of returned) serverErrors.set(e.path, [serverErrors.get(e.path), fieldMessage(e.message)].filter(Boolean).join(' '));
  // The device's own check: each problem until its field's value changes, at the field like the server's.
  const deviceFound = disabled || deviceProblems.id !== id ? [] : deviceProblems.problems.filter((e) => JSON.stringify(valueAt(epcr, e.path) ?? null) === e.value);
  for (const e of deviceFound) serverErrors.set(e.path, [serverErrors.get(e.path), `Checked on this device: ${fieldMessage(e.message)}`].filter(Boolean).join(' '));
  const localHints = new Map<string, string>();
  for (const m of missing) if (!localHints.has(m.path) && !serverErrors.has(m.path)) localHints.set(m.path, fieldMessage(m.message));

  const status = new Map<SectionAnchor, SectionStatus>(SECTIONS.map(([anchor]) => [anchor, { missing: 0, returned: 0, notSaved: 0 }]));
  const count = (path: string, key: keyof SectionStatus) => {
    const anchor = sectionAnchorOf(path);
    if (anchor) status.get(anchor)![key] += 1;
  };
  for (const path of new Set(missing.map((m) => m.path))) if (!serverErrors.has(path)) count(path, 'missing');
  if (!locked) for (const path of serverErrors.keys()) count(path, 'returned');
  // Every draft of this report that is not saved (a refused value, a value the database refused,
  // a lines field), from the journal, the same list Finalize names.
  if (!disabled) for (const draft of invalidDrafts('epcrs', id)) count(pathName(draft.path), 'notSaved');

  const rendered = new Set<string>(['vitals']);
  // Each national warning at its field (not while the server checks the report again).
  const warnedAt = warningsByField(checking ? undefined : checkWarnings);
  // Something typed that the database does not hold yet (a refused value, an edit on its way).
  let typedNotStored = LINES_PATHS.some((path) => journalEntry('epcrs', id, path) !== undefined);
  // What a time field's earliest accepted time is measured from (client/ui/time-range.ts).
  const callTime = incident?.timeline?.psapCall ?? incident?.timeline?.unitNotified ?? epcr.times?.psapCall ?? epcr.times?.unitNotified;
  /** Under a field: the conflict marker if two devices wrote it differently, then its national warnings. */
  const notes = (path: Path, name: string): { note: JSX.Element } | undefined => {
    const conflict = conflictsAt(epcr, path).length > 0;
    const warned = warnedAt.get(name);
    if (!conflict && !warned) return undefined;
    return { note: <>{conflict && <ConflictMarker epcr={epcr} path={path} />}{warned && <FieldWarnings warnings={warned} />}</> };
  };
  const field = (path: Path, label: string): FieldProps => {
    const name = pathName(path);
    rendered.add(name);
    cache.noteField(name, path);
    const hint = localHints.get(name);
    const draft = journalEntry('epcrs', id, path);
    if (draft) typedNotStored = true;
    return {
      label, collection: 'epcrs' as const, docId: id, path, disabled, testId: name, range: timeRangeFor(name, callTime),
      serverError: serverErrors.get(name),
      ...(hint ? { hint } : {}),
      ...(notes(path, name) ?? {}),
    };
  };
  const kit: FormKit = {
    epcr, id, disabled, session, incident, localHints, serverErrors, missing, field,
    text: (path, label, value, extra = {}) => <TextField {...field(path, label)} value={value} maxLength={200} {...extra} />,
    select: (path, label, value) => <SelectField {...field(path, label)} value={value} options={pickListAt(path)} />,
    codes: (path, label, value) => <CodesField {...field(path, label)} value={value} options={pickListAt(path, true)} />,
    focusItem: setFocusItem,
    action,
  };

  const reopen = () => write.mutate('epcrs', id, [{ op: 'set', path: ['status'], value: 'draft' }]);
  const addendum = async () => {
    const newId = uuid();
    await write.insert('epcrs', {
      id: newId, tenantId: epcr.tenantId, status: 'draft', unitId: epcr.unitId, addendumOf: epcr.id,
      ...(epcr.incidentId ? { incidentId: epcr.incidentId } : {}),
      ...(epcr.response ? { response: epcr.response } : {}),
    });
    go(`epcr/${newId}`);
  };

  const bodies: Record<SectionAnchor, (kit: FormKit) => JSX.Element> = {
    response: callSection, patient: patientSection, situation: situationSection, arrest: arrestSection,
    history: historySection, vitals: (k) => vitalsSection(k, { open: place.vitalSet, setOpen: (set) => openPlace(id, placeInRoute().section === 'all' ? 'all' : 'vitals', set) }),
    treatment: treatmentSection, narrative: narrativeSection, disposition: dispositionSection,
    times: timesSection, billing: billingSection, signatures: signaturesSection,
  };
  // What a section shows besides the parts of the report it reads: whether it can be edited, the
  // call (times are measured from it), the conflicts, the drafts not saved, the state of its
  // buttons, and the finalize hints and the server's problems of its fields; for the vitals, the
  // set that is open. Not which section is on screen (no section draws from it; the vitals read
  // it when a set is opened): showing another section drew all twelve again (every field, a long
  // task on the tap of a section's button).
  const drafts = draftsShown('epcrs', id);
  const inSection = (anchor: SectionAnchor, names: Iterable<[string, string]>) => [...names].filter(([name]) => (sectionAnchorOf(name) ?? anchor) === anchor);
  const given = (anchor: SectionAnchor) => [
    disabled, anchor === 'vitals' ? place.vitalSet ?? null : null, callTime ?? null, incident ?? null, drafts,
    (epcr as Record<string, unknown>)[CONFLICTS_KEY] ?? null, action.busy, action.error ?? null, action.where ?? null,
    inSection(anchor, localHints), inSection(anchor, serverErrors), inSection(anchor, missing.map((m) => [m.path, m.message])),
    // The national warnings shown at its fields (they arrive after the section was drawn).
    inSection(anchor, [...warnedAt].map(([name, warnings]) => [name, JSON.stringify(warnings)] as [string, string])),
  ];
  const sections = (
    <>
      {epcr.addendumOf && (
        <fieldset data-testid="addendum-section">
          <legend>Addendum</legend>
          {kit.text(['addendumReason'], 'Reason for the addendum', epcr.addendumReason)}
        </fieldset>
      )}
      {SECTIONS.map(([anchor]) => {
        const draw = () => cache.section(anchor, given(anchor), (watched) => bodies[anchor]({ ...kit, epcr: watched }));
        const drawNow = current === 'all' || current === anchor || drawnSections.anchors.has(anchor);
        if (drawNow) drawnSections.anchors.add(anchor);
        const drawnOnItsTurn = () => {
          drawnSections.anchors.add(anchor);
          if (drawnSections.anchors.size === SECTIONS.length && drawnSections.recheck) {
            drawnSections.recheck = false;
            setTimeout(() => redraw((n) => n + 1), 0);
          }
        };
        return (
          <fieldset key={anchor} id={`sec-${anchor}`} hidden={current !== 'all' && current !== anchor} data-testid="section" data-section={anchor}>
            <legend>{LEGENDS[anchor]}</legend>
            <DrawnLater key={id} content={drawNow ? draw() : undefined} draw={draw} drawn={drawnOnItsTurn} />
          </fieldset>
        );
      })}
    </>
  );
  // A section not drawn yet: a returned problem of its part of the report waits for it (it shows
  // at its field, or in the list once the section is drawn); anything this report holds in the
  // journal may be a field of it, typed before a reload.
  const notDrawnYet = (path: string) => {
    const anchor = sectionAnchorOf(path);
    return anchor !== undefined && !drawnSections.anchors.has(anchor);
  };
  const allDrawn = drawnSections.anchors.size === SECTIONS.length;
  // The fields on the form: those drawn now and those of sections that did not need drawing again.
  for (const name of cache.fieldNames()) rendered.add(name);
  if (!typedNotStored) typedNotStored = cache.fieldPaths().some((path) => journalEntry('epcrs', id, path) !== undefined);
  if (!typedNotStored && !allDrawn) typedNotStored = journalOf('epcrs', id).length > 0;
  const unplaced = returned.filter((e) => !rendered.has(e.path) && !notDrawnYet(e.path));
  const placedReturned = returned.filter((e) => rendered.has(e.path) && e.path !== 'vitals');
  const returnedCount = epcr.finalizeErrors?.length ?? 0;
  const deviceUnplaced = deviceFound.filter((e) => !rendered.has(e.path) && !notDrawnYet(e.path));
  if (!allDrawn && (returned.length > 0 || deviceFound.length > 0 || (checkWarnings?.length ?? 0) > 0 || typedNotStored)) drawnSections.recheck = true;

  // An accidental report (nothing typed in it, not even a value waiting in the journal) can go,
  // here and on the server: the removal syncs like any edit (a `_deleted` revision).
  const prefilled = epcr.addendumOf ? (originalView?.doc.response ? { response: originalView.doc.response } : {})
    : incident ? prefillFromCall(incident, epcr.unitId) : undefined;
  emptyReport.current = !disabled && nothingTyped(epcr, prefilled);
  const discardable = emptyReport.current && !typedNotStored;
  const discard = async () => {
    await database().api.remove('epcrs', id);
    go(backToList().path);
  };
  const who = session.user.displayName ?? session.user.userId;
  const back = backToList();

  return (
    <article aria-labelledby="epcr-title" data-testid="epcr-form" data-id={id} data-section={current}>
      <h2 id="epcr-title" style="margin:0">
        {epcr.addendumOf ? 'Addendum' : 'Patient care report'}{epcr.response?.incidentNumber ? ` — call ${epcr.response.incidentNumber}` : ''}
      </h2>
      {/* Right under the title, above everything that changes while typing (the report's sync
          badge, the notices that come and go): no tab moves under a crew's finger (nav.tsx). */}
      <SectionNav current={current} status={status} badges={!locked && !checking} open={openSection} />
      <div class="row"><Badge badge={view.badge} /></div>
      <p class="meta" data-testid="epcr-status">
        {locked ? `Locked by the server at ${clockOf(epcr.lockedAt)}; it can no longer change. Corrections go in an addendum.`
          : checking ? 'Finalized: waiting for the server to check and lock it (it is checked as soon as this device is online).'
            : epcr.finalizeErrors?.length ? 'Returned by the server: fix the problems marked below, then finalize again. Every change is saved on this device as you type.'
              : 'Draft — every change is saved on this device as you type.'}
      </p>
      <div class="row" style="margin-bottom:12px">
        <button onClick={() => go(back.path)}>{back.label}</button>
        {!locked && !checking && <FinalizeButton id={id} epcr={epcr} missing={missing.length} reveal={reveal} onDeviceCheck={(problems) => setDeviceProblems({ id, problems })} />}
        {checking && <button onClick={() => void action.run(reopen, {}, 'reopen')}>Back to draft</button>}
        {locked && <button class="primary" data-testid="addendum" onClick={() => void action.run(addendum, {}, 'addendum')}>Write an addendum</button>}
        {discardable && !discarding && <button data-testid="discard-report" onClick={() => setDiscarding(true)}>Discard this empty report</button>}
      </div>
      <ActionError action={action} at="reopen" />
      <ActionError action={action} at="addendum" />
      {discardable && discarding && (
        <div class="banner warn" role="alert" data-testid="discard-confirm">
          <p><strong>Discard this report?</strong> Nothing has been typed in it. It is removed from this tablet and from the server.</p>
          <button class="primary" data-testid="discard-yes" onClick={() => void action.run(discard, {}, 'discard')}>Yes, discard it</button>
          <button onClick={() => setDiscarding(false)}>Keep it</button>
          <ActionError action={action} at="discard" />
        </div>
      )}

      <ConflictsPanel epcr={epcr} session={session} disabled={disabled} />

      {returnedCount > 0 && !locked && (
        <section class="finalize-errors" role="alert" data-testid="finalize-errors" data-open={returned.length}>
          <h3 style="margin:4px 0">{returned.length === 0
            ? `The server returned this report; all ${returnedCount} problem${returnedCount === 1 ? ' is' : 's are'} fixed: finalize again`
            : `The server returned this report: fix ${returned.length === returnedCount ? '' : `the ${returned.length} left of `}${returnedCount} thing${returnedCount === 1 ? '' : 's'}, then finalize again`}</h3>
          {returned.length > 0 && <p class="meta">Each problem is shown at its field; the sections marked "returned" hold them.</p>}
          {placedReturned[0] && (
            <button data-testid="show-first-problem" onClick={() => revealField(id, pathOf(placedReturned[0]!.path))}>Show the first one</button>
          )}
          {unplaced.length > 0 && (
            <ul>{unplaced.map((e) => {
              const words = plainWords(e.message);
              return <li key={e.path + e.message}>{words.text}{words.element && <small class="meta"> NEMSIS {words.element}</small>}</li>;
            })}</ul>
          )}
        </section>
      )}

      {deviceFound.length > 0 && (
        <section class="finalize-errors" role="alert" data-testid="device-check-errors" data-open={deviceFound.length}>
          <h3 style="margin:4px 0">{`Not finalized: the national rules, checked on this device, found ${deviceFound.length} thing${deviceFound.length === 1 ? '' : 's'} to fix. Nothing was sent.`}</h3>
          <p class="meta">Each problem is shown at its field; fix them, then finalize again.</p>
          <button data-testid="show-first-device-problem" onClick={() => revealField(id, pathOf(deviceFound[0]!.path))}>Show the first one</button>
          {deviceUnplaced.length > 0 && (
            <ul>{deviceUnplaced.map((e) => {
              const words = plainWords(e.message);
              return <li key={e.path + e.message}>{words.text}{words.element && <small class="meta"> NEMSIS {words.element}</small>}</li>;
            })}</ul>
          )}
        </section>
      )}

      {!checking && <FinalizeWarnings id={id} warnings={checkWarnings} notDrawnYet={notDrawnYet} />}

      {sections}
      <p class="meta" data-testid="signed-in-as">Signed in as {who} on {session.user.deviceId}.</p>
    </article>
  );
}
