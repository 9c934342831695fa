import { NOT_APPLICABLE, NOT_RECORDED } from '../codes.ts';
import { childSpecs, isGroup } from './element-order.ts';
import type { XmlElement } from './xml-writer.ts';

export const NEMSIS_NAMESPACE = 'http://www.nemsis.org';
export const XSI_NAMESPACE = 'http://www.w3.org/2001/XMLSchema-instance';

/** NV "Not Recorded": the NOT value software fills in for blanks at export time. */
export const NV_NOT_RECORDED = NOT_RECORDED;

type Attributes = Readonly<Record<string, string | undefined>>;

/** What mapping code hands to a group: absent values are simply undefined. */
export type Child = XmlElement | undefined | readonly (XmlElement | undefined)[];

/** A value element, or undefined when there is no value (the enclosing group decides nil vs omit). */
export function leaf(name: string, value: string | undefined, attributes?: Attributes): XmlElement | undefined {
  if (value === undefined) return undefined;
  return attributes ? { name, attributes, text: value } : { name, text: value };
}

/** One value element per list entry (e.g. ePatient.14 race); an empty list yields none. */
export function leaves(name: string, values: readonly (string | undefined)[] | undefined): XmlElement[] {
  return (values ?? []).flatMap((value) => leaf(name, value) ?? []);
}

export function notRecorded(name: string): XmlElement {
  return { name, attributes: { 'xsi:nil': 'true', NV: NV_NOT_RECORDED } };
}

/**
 * NV "Not Applicable": what the crew's own answer makes of an element (no arrest → the arrest's
 * details; no injury → cause and triage criteria; no transport → how and where to). Unlike Not
 * Recorded it says the question was answered (NEMSIS NOT Values guide).
 */
export function notApplicable(name: string): XmlElement {
  return { name, attributes: { 'xsi:nil': 'true', NV: NOT_APPLICABLE } };
}

/**
 * A value with the crew's pertinent negative (PN attribute): with a value, the PN qualifies it (a
 * medication not given because of an allergy); without one, the element is nil with the PN (no
 * known drug allergy, trauma criteria none reported). No PN: the value as a plain leaf.
 */
export function withPertinentNegative(name: string, value: string | undefined, pn: string | undefined): XmlElement | undefined {
  if (!pn) return leaf(name, value);
  return value === undefined ? { name, attributes: { 'xsi:nil': 'true', PN: pn } } : { name, attributes: { PN: pn }, text: value };
}

/** The elements given, or one Not Applicable element in their place when there are none and `applies` is false. */
export function orNotApplicable(name: string, values: XmlElement | undefined | readonly XmlElement[], applies: boolean): XmlElement | readonly XmlElement[] | undefined {
  const given = values === undefined ? [] : Array.isArray(values) ? values as readonly XmlElement[] : [values as XmlElement];
  if (given.length > 0 || applies) return values;
  return notApplicable(name);
}

function flatten(children: readonly Child[]): XmlElement[] {
  return children.flat().filter((child): child is XmlElement => child !== undefined);
}

/**
 * A group or section: children are put in schema order, every required child that has no value
 * is written as Not Recorded (required groups are built with their own required children), and
 * optional children with no value are left out.
 */
export function group(name: string, children: readonly Child[], attributes?: Attributes): XmlElement {
  const specs = childSpecs(name);
  if (!specs) throw new Error(`No schema order for ${name} in element-order.ts; add its children (from the XSD) before building it`);
  const given = flatten(children);
  for (const child of given) {
    if (!specs.some((spec) => spec.name === child.name)) {
      throw new Error(`${child.name} is not a child of ${name} in NEMSIS 3.5.1; check the mapping in server/nemsis`);
    }
  }
  const ordered: XmlElement[] = [];
  for (const spec of specs) {
    const matches = given.filter((child) => child.name === spec.name);
    if (matches.length > 1 && !spec.repeatable) {
      throw new Error(`${spec.name} may occur only once in ${name}, but the mapping produced ${matches.length}; write a single value`);
    }
    if (matches.length > 0) {
      ordered.push(...matches);
    } else if (spec.presence === 'required') {
      ordered.push(isGroup(spec.name) ? group(spec.name, []) : notRecorded(spec.name));
    } else if (spec.presence === 'mandatory') {
      throw new Error(
        `${spec.name} in ${name} is Mandatory in NEMSIS and has no value; pass it through MandatoryValues in emsdataset.ts so a missing value is reported`,
      );
    }
  }
  return attributes ? { name, attributes, children: ordered } : { name, children: ordered };
}

/** Like group(), but nothing at all when none of the children has a value (for optional groups). */
export function optionalGroup(name: string, children: readonly Child[]): XmlElement | undefined {
  return flatten(children).length > 0 ? group(name, children) : undefined;
}
