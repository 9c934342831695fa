/**
 * Where the form is in the address: `#/epcr/<id>/<section>[/<vital set id>]`. A reload, Settings
 * and the Back button of the browser return to the same section (and vital set), and anything
 * that points at a field (a finalize blocker, a conflict) can open its section and focus it.
 */
import { go, route } from '../../../ui/components.tsx';
import type { Path } from '../../../worker/api.ts';
import { isSection, pathName, sectionAnchorOf, type SectionAnchor } from './model.ts';

export interface FormPlace { section: SectionAnchor | 'all'; vitalSet: string | undefined }

export function placeInRoute(): FormPlace {
  const [, , part, vitalSet] = route.value.split('/');
  return { section: part === 'all' ? 'all' : isSection(part) ? part : 'response', vitalSet: vitalSet || undefined };
}

export function openPlace(docId: string, section: SectionAnchor | 'all', vitalSet?: string): void {
  go(`epcr/${docId}/${section}${vitalSet ? `/${vitalSet}` : ''}`);
}

/** Opens the section (and vital set) holding `path` and puts the cursor in its field. */
export function revealField(docId: string, path: Path): void {
  const section = sectionAnchorOf(pathName(path));
  const now = placeInRoute();
  const item = path[1];
  const vitalSet = path[0] === 'vitals' && typeof item === 'object' ? item.id : undefined;
  if (section && (now.section !== 'all' || vitalSet)) openPlace(docId, now.section === 'all' ? 'all' : section, vitalSet ?? now.vitalSet);
  // After the section is on screen (the next frame at the latest).
  const focus = (tries: number) => requestAnimationFrame(() => {
    const field = document.querySelector<HTMLElement>(`[data-testid="${CSS.escape(pathName(path))}"]`);
    if (field && field.offsetParent !== null) {
      field.focus();
      field.scrollIntoView({ block: 'center' });
    } else if (tries > 0) focus(tries - 1);
  });
  focus(10);
}
