/**
 * The section navigation: one entry per section with its completion badge (what finalize still
 * needs there, and what the server returned there), so the crew sees where work is left without
 * scrolling a long page. Entries are buttons with `data-testid="section-<anchor>"`.
 *
 * No entry moves while a report is open (a crew taps in a moving vehicle): the entries sit in a
 * grid of equal cells (styles.css), and the navigation comes right under the report's title,
 * above everything that changes while typing (the report's sync badge, the list of values not
 * saved, the server's problems, the finalize warnings). The app's status bar above the form still
 * moves the whole form when it gains or loses a line (docs/protocol.md, current limitations).
 *
 * The navigation stays at the top of the screen while the crew scrolls (sticky): its height is
 * kept in `--section-nav-height`, so that a section or field scrolled into view lands under it,
 * not behind it (styles.css, scroll-margin-top).
 */
import { useLayoutEffect, useRef } from 'preact/hooks';
import { SECTIONS, type SectionAnchor } from './model.ts';

export interface SectionStatus { missing: number; returned: number; notSaved: number }

/** The most urgent first: a badge cut short on a narrow tab still shows a value not saved. */
function badgeText(s: SectionStatus): string {
  const parts = [
    s.notSaved ? `${s.notSaved} not saved` : '',
    s.returned ? `${s.returned} returned` : '',
    s.missing ? `${s.missing} missing` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'Complete';
}

export function SectionNav(props: {
  current: SectionAnchor | 'all';
  status: ReadonlyMap<SectionAnchor, SectionStatus>;
  /** Locked or addendum-only reports show no completion badges. */
  badges: boolean;
  open(anchor: SectionAnchor | 'all'): void;
}) {
  const nav = useRef<HTMLElement>(null);
  useLayoutEffect(() => {
    const element = nav.current;
    if (!element || typeof ResizeObserver === 'undefined') return;
    const keep = () => document.documentElement.style.setProperty('--section-nav-height', `${element.offsetHeight}px`);
    keep();
    const observer = new ResizeObserver(keep);
    observer.observe(element);
    return () => {
      observer.disconnect();
      document.documentElement.style.removeProperty('--section-nav-height');
    };
  }, []);
  return (
    <nav ref={nav} class="section-nav" aria-label="Report sections" data-testid="section-nav">
      {SECTIONS.map(([anchor, label]) => {
        const s = props.status.get(anchor) ?? { missing: 0, returned: 0, notSaved: 0 };
        const todo = s.missing + s.returned + s.notSaved;
        const text = todo ? badgeText(s) : '✓ Complete';
        return (
          <button key={anchor} type="button" data-testid={`section-${anchor}`} aria-current={props.current === anchor ? 'step' : undefined}
            onClick={() => props.open(anchor)} class={todo ? 'todo' : 'done'}>
            <span>{label}</span>
            {props.badges && (
              <span class={`section-badge ${s.returned || s.notSaved ? 'bad' : todo ? 'todo' : 'done'}`} data-testid="section-badge" title={text}
                data-missing={s.missing} data-returned={s.returned} data-not-saved={s.notSaved}>
                {text}
              </span>
            )}
          </button>
        );
      })}
      <button type="button" data-testid="section-all" aria-current={props.current === 'all' ? 'step' : undefined} onClick={() => props.open('all')}>
        All sections
      </button>
    </nav>
  );
}
