/**
 * A deliberately small XML serializer. Callers describe elements as data; every text node and
 * attribute value passes through the escapers here, so no caller ever splices user text into
 * markup.
 */
export interface XmlElement {
  readonly name: string;
  /** Attributes whose value is undefined are left out, so callers can pass optional ones inline. */
  readonly attributes?: Readonly<Record<string, string | undefined>>;
  readonly text?: string;
  readonly children?: readonly XmlElement[];
}

// Element and attribute names come from code (NEMSIS element names), never from users; the check
// catches a programming slip before it produces a malformed document.
const XML_NAME = /^[A-Za-z_][A-Za-z0-9._-]*(:[A-Za-z_][A-Za-z0-9._-]*)?$/;

// XML 1.0 cannot carry these code points at all, not even as character references, so they are
// dropped (stray control characters pasted into a narrative would otherwise make the whole
// document unparseable for the receiver).
const NOT_XML_10_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function escapeText(value: string): string {
  return value
    .replace(NOT_XML_10_CHAR, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    // A literal CR would be folded into LF by the receiver's parser.
    .replace(/\r/g, '&#13;');
}

export function escapeAttribute(value: string): string {
  return escapeText(value)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    // Attribute-value normalization would turn literal tabs and newlines into spaces.
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;');
}

function assertName(name: string): void {
  if (!XML_NAME.test(name)) {
    throw new Error(`Invalid XML name ${JSON.stringify(name)}; element and attribute names must be plain NCNames (optionally prefixed)`);
  }
}

function openTag(element: XmlElement): string {
  assertName(element.name);
  let tag = `<${element.name}`;
  for (const [name, value] of Object.entries(element.attributes ?? {})) {
    if (value === undefined) continue;
    assertName(name);
    tag += ` ${name}="${escapeAttribute(value)}"`;
  }
  return tag;
}

function writeElement(element: XmlElement, depth: number, indent: string, out: string[]): void {
  const pad = indent.repeat(depth);
  const tag = openTag(element);
  const children = element.children ?? [];
  if (children.length > 0 && element.text !== undefined) {
    throw new Error(`XML element ${element.name} has both text and children; this writer emits one or the other, never mixed content`);
  }
  if (children.length > 0) {
    out.push(`${pad}${tag}>`);
    for (const child of children) writeElement(child, depth + 1, indent, out);
    out.push(`${pad}</${element.name}>`);
  } else if (element.text !== undefined && element.text !== '') {
    out.push(`${pad}${tag}>${escapeText(element.text)}</${element.name}>`);
  } else {
    out.push(`${pad}${tag}/>`);
  }
}

/** Serializes a document: XML declaration, then one element per line, indented by `indent`. */
export function serializeXml(root: XmlElement, options: { indent?: string } = {}): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  writeElement(root, 0, options.indent ?? '  ', out);
  return `${out.join('\n')}\n`;
}
