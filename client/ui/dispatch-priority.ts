/**
 * A call's priority as the apps show and offer it. The dispatch console records eDispatch.05
 * Dispatch Priority codes (labels from the XSD); an incident from an external CAD may carry its
 * own text ("P1", "1"), which is shown as it came and never copied into the ePCR as a code.
 */
import { codeLabel, codeList, codeOf, type CodeOption } from '../../shared/nemsis/codes.ts';

export const DISPATCH_PRIORITY_ELEMENT = 'eDispatch.05';

export function dispatchPriorityOptions(): readonly CodeOption[] {
  return codeList(DISPATCH_PRIORITY_ELEMENT);
}

/** What a new incident starts with: Emergent, the common case for a 911 call. */
export const DEFAULT_DISPATCH_PRIORITY = codeOf(DISPATCH_PRIORITY_ELEMENT, 'Emergent');

/** The label of a priority code, or the CAD's own text as it came. */
export function priorityText(priority: string): string {
  return codeLabel(DISPATCH_PRIORITY_ELEMENT, priority) ?? priority;
}

/** The tag's class: p1 (the most urgent, shown red) to p4 by the code's place in the list, else the CAD's text. */
export function priorityClass(priority: string): string {
  const at = dispatchPriorityOptions().findIndex(([code]) => code === priority);
  return at >= 0 ? `p${at + 1}` : priority.toLowerCase();
}
