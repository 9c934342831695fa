/**
 * A strict reader of one X12 interchange: the separators come from the ISA segment itself
 * (element separator at position 3, repetition ISA11, component ISA16, segment terminator after
 * ISA16), as a receiver reads them. Line breaks between segments are ignored.
 */
export interface ParsedSegment {
  id: string;
  /** Elements 1..n (index 0 is element 01). */
  elements: string[];
  /** 1-based position in the interchange. */
  position: number;
}

export interface ParsedInterchange {
  separators: { element: string; component: string; repetition: string; segment: string };
  segments: ParsedSegment[];
}

export class X12SyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'X12SyntaxError';
  }
}

export function parseX12(raw: string): ParsedInterchange {
  const textIn = raw.replace(/^\uFEFF/, '');
  if (!textIn.startsWith('ISA') || textIn.length < 106) throw new X12SyntaxError('an X12 interchange starts with a 106-character ISA segment');
  const element = textIn[3]!;
  const isaFields = textIn.slice(0, 106).split(element);
  if (isaFields.length !== 17) throw new X12SyntaxError(`the ISA segment has ${isaFields.length - 1} elements, not 16 (fixed widths broken?)`);
  const component = textIn[104]!;
  const segment = textIn[105]!;
  const repetition = isaFields[11]!;
  const segments: ParsedSegment[] = [];
  for (const piece of textIn.split(segment)) {
    const trimmed = piece.replace(/^[\r\n]+|[\r\n]+$/g, '');
    if (trimmed === '') continue;
    const [id, ...elements] = trimmed.split(element);
    if (!id || !/^[A-Z][A-Z0-9]{1,2}$/.test(id)) throw new X12SyntaxError(`segment ${segments.length + 1} has no valid segment id ("${trimmed.slice(0, 20)}")`);
    segments.push({ id, elements, position: segments.length + 1 });
  }
  return { separators: { element, component, repetition, segment }, segments };
}
