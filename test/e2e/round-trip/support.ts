/**
 * The round-trip suite's walker: it finds every input a screen renders from the declaration the
 * input carries (client/ui/record-field.ts: data-collection, data-doc, data-path, data-kind and
 * the constraints), derives a value the form accepts and one it must refuse from that
 * declaration and the collection's JSON schema, types or picks it through the real UI, and reads
 * the document back from the server as an admin pull. An input (input, select, textarea) without
 * a declaration is counted as found and not covered, so a new field without a round trip fails.
 */
import { expect } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { collectionSchemas, type CollectionName } from '../../../shared/schemas/index.ts';
import { epcrFinalizedWorkflow } from '../../../server/hooks/workflows/epcr-finalized.ts';
import { epcrNemsisExportWorkflow } from '../../../server/hooks/workflows/epcr-nemsis-export.ts';
import { KeyedLock } from '../../../server/hooks/workflows/support.ts';
import { incidentCreatedWorkflow } from '../../../server/hooks/workflows/incident-created.ts';
import { incidentTimelineWorkflow } from '../../../server/hooks/workflows/incident-timeline.ts';
import { unitStatusWorkflow } from '../../../server/hooks/workflows/unit-status.ts';
import { unitStatusEventWorkflow } from '../../../server/hooks/workflows/unit-status-event.ts';
import path from 'node:path';
import { nextRevision } from '../../../shared/revision.ts';
import { makeDataDir, startTestServer, type TestServer } from '../../helpers/server.ts';
import { ADMIN_TOKEN, TENANT } from '../support/server.ts';
import { waitBudgetMs } from '../../helpers/wait-budget.ts';

export const NEMSIS_XSD_DIR = process.env['NEMSIS_DIR'] ?? path.resolve(import.meta.dirname, '../../../../shared/nemsis');
export const ROUND_TRIP_ZONE = 'America/New_York';

// ---- the server -----------------------------------------------------------------------------------

/** Every document version a device sent, as it arrived (to prove a refused value never did). */
export interface DeviceWrite { collection: string; id: string; doc: Record<string, unknown> }

export interface RoundTripServer {
  url: string;
  server: TestServer;
  deviceWrites: DeviceWrite[];
  dispose(): Promise<void>;
}

/**
 * A real server with the workflows the walk reaches (finalize and lock, the NEMSIS export
 * validated against the XSDs, the incident and unit workflows), recording device writes.
 */
export async function startRoundTripServer(port: number): Promise<RoundTripServer> {
  const locks = new KeyedLock();
  const server = await startTestServer({
    port, dataDir: makeDataDir('fieldsync-round-trip'),
    workflows: [
      incidentCreatedWorkflow(), incidentTimelineWorkflow(), unitStatusWorkflow(), unitStatusEventWorkflow(), epcrFinalizedWorkflow(),
      epcrNemsisExportWorkflow({ agencyOf: async () => ({ stateId: 'RT', agencyNumber: 'RT-001', stateCode: '42' }), xsdDir: NEMSIS_XSD_DIR, locks }),
    ],
    hookRunner: { baseDelayMs: 50, maxDelayMs: 500, pollMs: 100 },
  });
  const deviceWrites: DeviceWrite[] = [];
  const store = server.app.store;
  const writeBatch = store.writeBatch.bind(store);
  store.writeBatch = async (batch) => {
    if (batch.actor.kind === 'device') {
      for (const request of batch.requests) deviceWrites.push({ collection: batch.collection, id: request.id, doc: request.incoming as Record<string, unknown> });
    }
    return writeBatch(batch);
  };
  return { url: server.url, server, deviceWrites, dispose: () => server.close({ keepData: false }) };
}

/** Writes documents straight into the store as the system (as CAD or a back office would), with their workflows. */
export async function seed(rt: RoundTripServer, collection: CollectionName, docs: Record<string, unknown>[]): Promise<void> {
  const app = rt.server.app;
  const actor = { kind: 'system' as const, tenantId: TENANT, userId: 'round-trip-seed' };
  const full = docs.map((doc): Record<string, unknown> & { _deleted: boolean } => ({ tenantId: TENANT, rev: nextRevision(undefined, 'seed.rt'), _deleted: false, ...doc }));
  await app.store.writeBatch({
    collection, tenantId: TENANT, actor,
    requests: full.map((doc) => ({ id: String(doc['id']), incoming: doc, decide: (master) => (master ? { action: 'noop' as const } : { action: 'write' as const, doc }) })),
  });
}

/** The documents of a collection as an admin device pulls them (the sync pull route). */
export async function adminPull(url: string, collection: CollectionName): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let checkpoint: unknown;
  for (;;) {
    const query = new URLSearchParams({ schemaVersion: String(collectionSchemas[collection].version), limit: '1000' });
    if (checkpoint) query.set('checkpoint', JSON.stringify(checkpoint));
    const response = await fetch(`${url}/api/sync/${collection}/pull?${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    if (!response.ok) throw new Error(`admin pull of ${collection}: ${response.status} ${await response.text()}`);
    const body = await response.json() as { documents: Record<string, unknown>[]; checkpoint: unknown };
    out.push(...body.documents);
    if (body.documents.length < 1000) return out;
    checkpoint = body.checkpoint;
  }
}

export async function adminDoc(url: string, collection: CollectionName, id: string): Promise<Record<string, unknown> | undefined> {
  return (await adminPull(url, collection)).find((d) => d['id'] === id);
}

export { ADMIN_TOKEN, TENANT };

// ---- paths ------------------------------------------------------------------------------------------

type Segment = string | { id: string };

/** `vitals[v1].systolic` → ['vitals', {id:'v1'}, 'systolic'] (the inverse of client/ui/record-field.ts pathName). */
export function parsePath(name: string): Segment[] {
  const out: Segment[] = [];
  for (const m of name.matchAll(/([^.[\]]+)|\[([^\]]+)\]/g)) out.push(m[1] !== undefined ? m[1] : { id: m[2]! });
  return out;
}

export function valueAt(doc: unknown, name: string): unknown {
  let node: unknown = doc;
  for (const segment of parsePath(name)) {
    if (node === undefined || node === null) return undefined;
    if (typeof segment === 'string') node = (node as Record<string, unknown>)[segment];
    else node = Array.isArray(node) ? node.find((item) => (item as { id?: unknown })?.id === segment.id) : undefined;
  }
  return node;
}

export interface SchemaNode {
  type?: string;
  maxLength?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  enum?: readonly string[];
  items?: SchemaNode;
  maxItems?: number;
  properties?: Record<string, SchemaNode>;
}

/** The JSON schema of the field at `name` (list items by id resolve to the items' schema). */
export function schemaAt(collection: CollectionName, name: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = collectionSchemas[collection] as unknown as SchemaNode;
  for (const segment of parsePath(name)) {
    if (!node) return undefined;
    node = typeof segment === 'string' ? node.properties?.[segment] : node.items;
  }
  return node;
}

// ---- finding inputs -----------------------------------------------------------------------------------

export type Kind = 'text' | 'lines' | 'number' | 'time' | 'select' | 'action';

export interface FoundInput {
  /** Declared: collection, document (absent while the form creates it), path. */
  collection?: CollectionName;
  doc?: string;
  path?: string;
  kind?: Kind;
  tag: string;
  type: string;
  label: string;
  min?: number;
  max?: number;
  integer: boolean;
  maxLength?: number;
  nativeMaxLength?: number;
  pattern?: string;
  required: boolean;
  /** For an action: the value it writes. */
  value?: string;
  options: string[];
  /** A select that takes several options (a list of codes): the document holds the list. */
  multiple?: boolean;
  current: string;
  disabled: boolean;
  multiline: boolean;
  /** The inputmode attribute (tel, numeric, decimal...). */
  inputMode: string;
  /** A CSS selector that finds this input again (by its declaration, or its id). */
  selector: string;
  /** Declared as editing no record (a search box, a filter), with the reason. */
  excluded?: string;
  /** Rendered visibly (not in a hidden section of the form): only then can a person type into it. */
  visible?: boolean;
}

/**
 * Every input, select and textarea under `scope` (and every button declaring a record field), with
 * its declaration. Inputs of the app shell (settings, lock screen) are outside `scope`.
 */
export async function findInputs(scope: Locator): Promise<FoundInput[]> {
  return scope.evaluate((root) => {
    const out: unknown[] = [];
    const elements = root.querySelectorAll<HTMLElement>('input, select, textarea, button[data-path]');
    const q = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    for (const el of elements) {
      if (el instanceof HTMLInputElement && ['hidden', 'submit', 'button'].includes(el.type)) continue;
      const d = el.dataset;
      const labelFor = el.id ? root.ownerDocument.querySelector(`label[for="${CSS.escape(el.id)}"]`) : null;
      const label = (labelFor?.textContent ?? el.getAttribute('aria-label') ?? el.textContent ?? '').replace(/\s+/g, ' ').trim();
      const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
      const selector = d['path'] !== undefined
        ? `${el.tagName.toLowerCase()}[data-collection="${q(d['collection'] ?? '')}"][data-path="${q(d['path'])}"]${d['doc'] ? `[data-doc="${q(d['doc'])}"]` : ''}${d['value'] !== undefined ? `[data-value="${q(d['value'])}"]` : ''}`
        : el.id ? `#${CSS.escape(el.id)}` : '';
      const maxLengthAttr = (el as HTMLInputElement).maxLength;
      out.push({
        collection: d['collection'], doc: d['doc'], path: d['path'], kind: d['kind'],
        tag: el.tagName.toLowerCase(), type: (el as HTMLInputElement).type ?? '', label,
        min: num(d['min']), max: num(d['max']), integer: d['integer'] === 'true', maxLength: num(d['maxlength']),
        nativeMaxLength: typeof maxLengthAttr === 'number' && maxLengthAttr >= 0 ? maxLengthAttr : undefined,
        pattern: d['pattern'], required: d['required'] === 'true' || (el as HTMLInputElement).required === true, value: d['value'],
        options: el instanceof HTMLSelectElement ? [...el.options].map((o) => o.value) : [],
        multiple: el instanceof HTMLSelectElement && el.multiple,
        current: (el as HTMLInputElement).value ?? '', disabled: (el as HTMLInputElement).disabled === true,
        multiline: el instanceof HTMLTextAreaElement, inputMode: el.getAttribute('inputmode') ?? '', selector, excluded: d['notARecordField'],
        visible: typeof el.checkVisibility === 'function' ? el.checkVisibility() : el.getClientRects().length > 0,
      });
    }
    return out;
  }) as Promise<FoundInput[]>;
}

/** Found inputs without a declaration: each fails the suite, named by its label. */
export function undeclared(inputs: FoundInput[]): FoundInput[] {
  return inputs.filter((i) => !i.excluded && (!i.path || !i.collection || !i.kind));
}

/**
 * Every screen of an app's navigation (the shell's nav entries): the inputs each renders that
 * declare neither a record field nor that they edit none. Screens the walk does not type into
 * (a console's system page, a worklist's filters) are covered by this census.
 */
export async function census(page: Page): Promise<{ screens: string[]; undeclared: string[]; excluded: string[] }> {
  const entries = page.locator('nav.app-nav button');
  const labels = await entries.allTextContents();
  const out = { screens: [] as string[], undeclared: [] as string[], excluded: [] as string[] };
  for (const [i, label] of labels.entries()) {
    await entries.nth(i).click();
    await expect.poll(() => entries.nth(i).getAttribute('aria-current')).toBe('page');
    // Until the screen's data is read it shows "Loading…" and no inputs.
    await expect.poll(() => page.locator('main').innerText()).not.toMatch(/^\s*Loading…\s*$/);
    out.screens.push(label.trim());
    for (const input of await findInputs(page.locator('main'))) {
      if (input.excluded) out.excluded.push(`${label.trim()}: "${input.label}" (${input.excluded})`);
      else if (!input.path) out.undeclared.push(`${label.trim()}: ${input.tag} "${input.label}"`);
    }
  }
  return out;
}

export function report(app: string, found: number, covered: number, extra = ''): void {
  console.log(`round-trip: ${app}: ${found} inputs found, ${covered} covered${extra ? ` (${extra})` : ''}`);
}

// ---- values --------------------------------------------------------------------------------------------

/**
 * A code for each field searched from a NEMSIS list (ICD-10-CM, RxNorm, SNOMED CT), chosen so the
 * NEMSIS export passes the XSD and the national Schematron; the third part says what the field takes.
 */
export const UNDECLARED_FORMATS: readonly (readonly [RegExp, string | string[], string])[] = [
  [/^situation\.primaryImpression$/, 'I21.9', 'eSituation.11 is an ICD-10-CM code; the field takes any text'],
  [/^history\.allergies$/, ['Z88.0', '7980'], 'eHistory.06 takes RxNorm or Z88.x codes (others go to eHistory.07, SNOMED); the field takes any text'],
  [/^history\.medicalHistory$/, ['I10', 'E11.9'], 'eHistory.08 is an ICD-10-CM code list; the field takes any text'],
  [/^history\.currentMedications$/, ['197361', '311989'], 'eHistory.12 is an RxNorm code; the field takes any text'],
  [/^medications\[[^\]]+\]\.medication$/, '1191', 'eMedications.03 is an RxNorm code; the field takes any text'],
  [/^procedures\[[^\]]+\]\.procedure$/, '268400002', 'eProcedures.03 is a SNOMED CT code; the field takes any text'],
  [/^situation\.primarySymptom$/, 'R07.9', 'eSituation.09 is an ICD-10-CM code'],
  [/^situation\.secondaryImpressions$/, ['I10', 'R07.9'], 'eSituation.12 is an ICD-10-CM code list'],
  [/^situation\.otherSymptoms$/, ['R51.9', 'R11.0'], 'eSituation.10 is an ICD-10-CM code list'],
  [/^injury\.causes$/, ['V43.52XA', 'W19.XXXA'], 'eInjury.01 is an ICD-10-CM external cause code list'],
  [/^scene\.locationType$/, 'Y92.009', 'eScene.09 is an ICD-10-CM Y92 place code'],
];

export interface Planned {
  input: FoundInput;
  /** What is typed (one string) or picked (an option value). */
  typed: string;
  /** What the document must hold at the path afterwards. */
  expected: unknown;
  kind: Kind;
}

/** The kind of value the document holds at the path: the schema decides (a multiline list is "lines"). */
export function kindOf(input: FoundInput): Kind {
  const schema = input.collection && input.path ? schemaAt(input.collection, input.path) : undefined;
  if (input.kind === 'text' && schema?.type === 'array') return 'lines';
  if (input.kind) return input.kind;
  if (input.tag === 'select') return 'select';
  if (input.type === 'datetime-local') return 'time';
  return 'text';
}

function fit(text: string, max: number | undefined): string {
  return max !== undefined && text.length > max ? text.slice(0, max) : text;
}

/** The offset a time field shows in its label, "(UTC-05:00)". */
export function offsetInLabel(label: string): string | undefined {
  return /\(UTC([+-]\d{2}:\d{2})\)/.exec(label)?.[1];
}

/**
 * A value the form accepts, distinct per input (`n`): numbers inside min/max, text within the
 * length and pattern, two lines for a list, a fixed minute per time field in page order (times
 * never run backwards), an option that differs from the current one.
 */
export function validValue(input: FoundInput, n: number, timeBase: Date): Planned {
  const kind = kindOf(input);
  const schema = input.collection && input.path ? schemaAt(input.collection, input.path) : undefined;
  const format = UNDECLARED_FORMATS.find(([re]) => re.test(input.path ?? ''));
  const maxLength = minDefined(input.maxLength, input.nativeMaxLength, schema?.maxLength ?? schema?.items?.maxLength);
  switch (kind) {
    case 'select': {
      const choices = input.options.filter((o) => o !== '');
      const pick = choices.find((o) => o !== input.current) ?? choices[0] ?? '';
      return { input, kind, typed: pick, expected: input.multiple ? [pick] : pick };
    }
    case 'number': {
      const min = input.min ?? schema?.minimum ?? 0;
      const max = input.max ?? schema?.maximum;
      const integer = input.integer;
      let value: number;
      if (max === undefined) value = integer ? min + 7 + n : Number((min + 7.5 + n).toFixed(1));
      else {
        const span = max - min;
        value = integer ? min + ((n * 7 + 3) % (span + 1)) : Number((min + ((n * 7 + 3) % Math.max(1, Math.floor(span))) + 0.5).toFixed(1));
        if (value > max) value = max;
      }
      return { input, kind, typed: String(value), expected: value };
    }
    case 'time': {
      const at = new Date(timeBase.getTime() + n * 60_000);
      const local = wallClock(at);
      return { input, kind, typed: local, expected: `${local}${offsetInLabel(input.label) ?? ''}` };
    }
    case 'lines': {
      const lines = Array.isArray(format?.[1]) ? format[1] : [`RT ${n} first line`, `RT ${n} second line`];
      return { input, kind, typed: lines.join('\n'), expected: lines };
    }
    case 'action':
      return { input, kind, typed: '', expected: input.value };
    default: {
      let typed: string;
      if (format && typeof format[1] === 'string') typed = format[1];
      else if (input.pattern || schema?.pattern) typed = patterned(input.pattern ?? schema!.pattern!, maxLength);
      else if (input.inputMode === 'tel') typed = fit('215-555-0142', maxLength);
      else typed = fit(input.multiline ? `Round trip ${n}: ${input.label}.\nSecond line of the text.` : `RT${n} ${input.label}`.replace(/[()]/g, ''), maxLength);
      return { input, kind, typed, expected: input.multiline ? typed : typed.trim() };
    }
  }
}

function minDefined(...values: (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length ? Math.min(...defined) : undefined;
}

/** A value for the patterns the forms use (a ZIP, a date); a new pattern fails loudly here. */
function patterned(pattern: string, maxLength: number | undefined): string {
  const re = new RegExp(pattern);
  const candidates = ['19104', '1958-03-14', '19104-1234', '215-555-0142', 'RT-1', 'PA'];
  const hit = candidates.find((c) => re.test(c) && (maxLength === undefined || c.length <= maxLength));
  if (!hit) throw new Error(`no sample value matches the declared pattern /${pattern}/: add one to patterned() in test/e2e/round-trip/support.ts`);
  return hit;
}

/** `2026-12-01T08:15:00` in the browser zone of the walk (America/New_York). */
export function wallClock(at: Date): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: ROUND_TRIP_ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}`;
}

export interface Refusal { input: FoundInput; typed: string; why: string }

/**
 * One value the form must refuse, from the field's declared constraints and its schema: letters
 * or a number out of range in a number field, text past the length limit, text off the pattern,
 * a line longer than a list item may be, an empty required field, a time outside the range the
 * field declares. Undefined when nothing can be typed that the field must refuse (a select; a time
 * field that declares no range).
 */
export function refusedValue(input: FoundInput, n: number): Refusal | undefined {
  const kind = kindOf(input);
  const schema = input.collection && input.path ? schemaAt(input.collection, input.path) : undefined;
  if (kind === 'number') {
    const max = input.max ?? schema?.maximum;
    if (max !== undefined && n % 2 === 1) return { input, typed: String(max + 1), why: `above the maximum ${max}` };
    return { input, typed: `1${n}O`, why: 'a letter O for a zero' };
  }
  if (kind === 'text') {
    const pattern = input.pattern ?? schema?.pattern;
    if (pattern) return { input, typed: 'l9lO4', why: `does not match /${pattern}/` };
    const maxLength = minDefined(input.maxLength, schema?.maxLength);
    // The browser stops typing at a maxlength attribute: an empty required field is the refusal then.
    if (input.required && input.nativeMaxLength !== undefined) return { input, typed: '', why: 'empty, but required' };
    if (maxLength !== undefined) return { input, typed: 'x'.repeat(maxLength + 1), why: `${maxLength + 1} characters, over the limit of ${maxLength}` };
    if (input.required) return { input, typed: '', why: 'empty, but required' };
    return undefined;
  }
  if (kind === 'time') {
    // A date-time picker holds only real times; the range the field declares (epoch ms) is what it
    // refuses: two days past its latest (the future), else a day before its earliest.
    if (input.max !== undefined) return { input, typed: wallClock(new Date(Math.max(input.max, Date.now()) + 2 * 86_400_000)), why: 'two days in the future' };
    if (input.min !== undefined) return { input, typed: wallClock(new Date(input.min - 86_400_000)), why: 'a day before the earliest time the field takes' };
    return undefined;
  }
  if (kind === 'lines') {
    const itemMax = schema?.items?.maxLength;
    if (itemMax !== undefined) return { input, typed: `ok line\n${'y'.repeat(itemMax + 1)}`, why: `a line of ${itemMax + 1} characters, over the limit of ${itemMax} per entry` };
    return undefined;
  }
  return undefined;
}

// ---- acting ----------------------------------------------------------------------------------------------

export async function enter(page: Page, plan: { input: FoundInput; typed: string; kind: Kind }): Promise<void> {
  const el = page.locator(plan.input.selector).first();
  if (plan.kind === 'select') await el.selectOption(plan.typed);
  else if (plan.kind === 'action') await el.click();
  else await el.fill(plan.typed);
}

/** The problem the form shows at a field: an alert inside the field, one it points to, or the browser's own. */
export async function messageAt(page: Page, input: FoundInput): Promise<string> {
  return page.locator(input.selector).first().evaluate((el) => {
    const texts: string[] = [];
    const field = el.closest('.field') ?? el.parentElement;
    for (const m of field?.querySelectorAll('[role="alert"], .hint.bad') ?? []) texts.push(m.textContent ?? '');
    for (const id of (el.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean)) {
      const m = el.ownerDocument.getElementById(id);
      if (m && (m.getAttribute('role') === 'alert' || m.classList.contains('bad'))) texts.push(m.textContent ?? '');
    }
    const native = el as HTMLInputElement;
    if (typeof native.checkValidity === 'function' && !native.checkValidity()) texts.push(native.validationMessage);
    return [...new Set(texts.map((t) => t.trim()).filter(Boolean))].join(' | ');
  });
}

/** Compares the server's document with what was typed; returns one line per field that differs. */
export function mismatches(doc: Record<string, unknown> | undefined, plans: Planned[]): string[] {
  const out: string[] = [];
  for (const plan of plans) {
    const actual = valueAt(doc, plan.input.path!);
    if (!sameValue(actual, plan.expected, plan.kind)) {
      out.push(`${plan.input.path} ("${plan.input.label}"): typed ${JSON.stringify(plan.typed)}, expected ${JSON.stringify(plan.expected)}, server holds ${JSON.stringify(actual)}`);
    }
  }
  return out;
}

function sameValue(actual: unknown, expected: unknown, kind: Kind): boolean {
  if (kind === 'time' && typeof actual === 'string' && typeof expected === 'string') return actual === expected;
  return JSON.stringify(actual) === JSON.stringify(expected);
}

/** Polls until `check` returns no problems (by default until shortly before the test's own limit); fails with the last list of problems. */
export async function settle(what: string, check: () => Promise<string[]>, timeout = waitBudgetMs()): Promise<string[]> {
  let last: string[] = [];
  try {
    await expect.poll(async () => (last = await check()).length, { timeout, interval: 250 }).toBe(0);
  } catch {
    // fall through: the caller asserts on the list, which names every field that differs
  }
  if (last.length) console.log(`round-trip: ${what}:\n  ${last.join('\n  ')}`);
  return last;
}
