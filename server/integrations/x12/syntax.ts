/**
 * X12 syntax as this project writes it: `*` between elements, `:` between the parts of a
 * composite, `^` as the repetition separator (ISA11), `~` after each segment. A value can never
 * hold a separator (the receiver would split it), so text is cleaned here, in one place, before
 * it becomes an element: separators are replaced by spaces, characters outside the X12 extended
 * character set are dropped and runs of spaces collapse. Text is upper-cased, which payers expect
 * of names and addresses.
 */
export const ELEMENT = '*';
export const COMPONENT = ':';
export const REPETITION = '^';
export const SEGMENT = '~';

/** One segment: its id and its elements in order (an empty string is an element left empty). */
export type Segment = readonly [id: string, ...elements: string[]];

/** Text safe to put in one element, at most `max` characters. */
export function x12Text(value: string | undefined, max: number): string {
  if (value === undefined) return '';
  return value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents off: "Méndez" is sent as MENDEZ
    .replace(/[*:^~\r\n\t]/g, ' ')
    .replace(/[^A-Za-z0-9 !"&'()+,\-./;?=%@[\]_{}\\|<>#$]/g, '')
    .replace(/ +/g, ' ')
    .trim()
    .toUpperCase()
    .slice(0, max)
    .trim();
}

/** Digits only (phone numbers, ZIP codes, tax ids). */
export function digits(value: string | undefined): string {
  return (value ?? '').replace(/[^0-9]/g, '');
}

/** An amount of money as X12 writes it: dollars, no trailing zeros (850, 120.4, 0.05). */
export function money(cents: number): string {
  if (!Number.isInteger(cents) || cents < 0) throw new Error(`an X12 amount must be a whole number of cents, not ${cents}`);
  return (cents / 100).toFixed(2).replace(/\.?0+$/, '') || '0';
}

/** A decimal quantity without trailing zeros (12.3, 1). */
export function x12Decimal(value: number): string {
  return String(Number(value.toFixed(4)));
}

/** A segment written out; empty elements at its end are left off, as X12 requires. */
export function render(segment: Segment): string {
  const parts = [...segment];
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.join(ELEMENT) + SEGMENT;
}

/** Right-pads (ISA elements have fixed widths). */
export function fixed(value: string, width: number): string {
  return value.slice(0, width).padEnd(width, ' ');
}
