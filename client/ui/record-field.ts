/**
 * The declaration every input that edits a record carries in the DOM: which collection, which
 * document, which field (path) it writes, and the constraints its form checks. The round-trip
 * suite (test/e2e/round-trip) finds every input of every screen by these attributes, types a
 * value derived from them and reads it back from the server, so a field that renders without a
 * declaration, or declares a path it does not write, fails that suite.
 *
 * Attributes (all strings, as the DOM holds them):
 * - data-collection, data-doc (absent while the form creates the document), data-path
 *   (`vitals[v1].systolic`: the server's dotted path, list items by id);
 * - data-kind: text | lines | number | time | select | action;
 * - data-min, data-max, data-integer, data-maxlength, data-pattern, data-required: what the
 *   form refuses (data-pattern is a JavaScript regular expression source);
 * - data-value: for an action (a button), the value it writes (absent for a time stamp);
 * - data-multiple: a select of several options, whose field holds the list of those picked.
 */
import type { Path } from '../worker/api.ts';

/** `vitals[v1].systolic` for `['vitals', {id:'v1'}, 'systolic']`, as the server names paths. */
export function pathName(path: Path | string): string {
  if (typeof path === 'string') return path;
  return path.map((s, i) => (typeof s === 'string' ? (i === 0 ? s : `.${s}`) : `[${s.id}]`)).join('');
}

export type FieldKind = 'text' | 'lines' | 'number' | 'time' | 'select' | 'action';

export interface FieldConstraints {
  min?: number | undefined;
  max?: number | undefined;
  integer?: boolean | undefined;
  maxLength?: number | undefined;
  pattern?: RegExp | undefined;
  required?: boolean | undefined;
  /** For an action: the value the button writes. */
  value?: string | undefined;
  /** A select of several options (the field holds a list). */
  multiple?: boolean | undefined;
}

export function recordField(
  target: { collection: string; docId?: string | undefined; path: Path | string },
  kind: FieldKind,
  constraints: FieldConstraints = {},
): Record<string, string | undefined> {
  const attrs: Record<string, string | undefined> = {
    'data-collection': target.collection,
    'data-doc': target.docId,
    'data-path': pathName(target.path),
    'data-kind': kind,
  };
  // What a person types into a record is patient data: Chromium must not keep it in the
  // session-restore files (it saves form state of every control whose autocomplete is on), where a
  // copied browser profile gives it away without the unlock (issue #17).
  if (kind !== 'action') attrs['autocomplete'] = 'off';
  if (constraints.min !== undefined) attrs['data-min'] = String(constraints.min);
  if (constraints.max !== undefined) attrs['data-max'] = String(constraints.max);
  if (constraints.integer) attrs['data-integer'] = 'true';
  if (constraints.maxLength !== undefined) attrs['data-maxlength'] = String(constraints.maxLength);
  if (constraints.pattern) attrs['data-pattern'] = constraints.pattern.source;
  if (constraints.required) attrs['data-required'] = 'true';
  if (constraints.value !== undefined) attrs['data-value'] = constraints.value;
  if (constraints.multiple) attrs['data-multiple'] = 'true';
  return attrs;
}

/**
 * For an input that edits no record (a search box, a filter, a sign-in field): the round-trip
 * suite leaves it out and prints the reason. Every other input must declare its record field.
 */
export function notARecordField(reason: string): Record<string, string> {
  // A search may be a patient's name: kept out of Chromium's session-restore files too.
  return { 'data-not-a-record-field': reason, autocomplete: 'off' };
}
