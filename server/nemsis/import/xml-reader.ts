/**
 * Reading a NEMSIS document that already passed the XSD: the children of an element by name, the
 * value of a leaf (none when it is nil: a NOT value or a bare pertinent negative), its PN. The
 * XSD has vouched for order, cardinality and lexical form, so nothing here re-checks them.
 */
import type { Element } from '@xmldom/xmldom';

export const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

export class NemsisNode {
  constructor(readonly element: Element) {}

  /** The direct children named `name` (a group or a repeated leaf), in document order. */
  all(name: string): NemsisNode[] {
    const out: NemsisNode[] = [];
    for (let child = this.element.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === 1 && (child as Element).localName === name) out.push(new NemsisNode(child as Element));
    }
    return out;
  }

  /** The first direct child named `name`. */
  child(name: string): NemsisNode | undefined {
    return this.all(name)[0];
  }

  /** The leaf's value, or undefined when it is nil or blank. */
  get value(): string | undefined {
    if (this.element.getAttributeNS(XSI, 'nil') === 'true') return undefined;
    const text = this.element.textContent?.trim();
    return text ? text : undefined;
  }

  attribute(name: string): string | undefined {
    const value = this.element.getAttribute(name);
    return value ? value : undefined;
  }

  /** The value of the first child named `name`. */
  one(name: string): string | undefined {
    return this.child(name)?.value;
  }

  /** The values of every child named `name` (nil ones left out). */
  many(name: string): string[] {
    return this.all(name).flatMap((node) => node.value ?? []);
  }

  /** The PN attribute of the first child named `name`. */
  pn(name: string): string | undefined {
    return this.child(name)?.attribute('PN');
  }
}
