/**
 * The ePCR form draws a section again only when something it shows changed. Every save of a
 * keystroke (autosave), every sync badge and every returned report gives the form a new copy of
 * the report; drawing all twelve sections (hundreds of fields, their checks) for each one cost a
 * crew typing during a first sync tens of milliseconds per key on a tablet (issue 21 item 3).
 *
 * What a section shows is found by watching it: the section reads the report through a proxy that
 * notes which top-level parts it (and the components it draws) read, and the next time the form
 * renders, the section is drawn again only if one of those parts changed, or the rest of what it
 * is given (the hints and problems of its fields, locked or not, the call's time, the form's
 * buttons' state: `given`). The proxy always reads the newest report, so a button's handler in a
 * section that was not drawn again still acts on the report as it is now.
 */
import { Component, type JSX } from 'preact';
import type { Epcr } from '../../../shared/schemas/index.ts';
import type { Path } from '../../worker/api.ts';
import { countRender } from '../../ui/render-count.ts';

interface Cached {
  /** What the section showed when it was last drawn (the parts it read, and what it was given). */
  shows: string;
  vnode: JSX.Element;
  /** The report's top-level parts the section and its components read (all of it: `all`). */
  reads: Set<string>;
  all: boolean;
  /** The fields it drew (their path names and paths), for the form's own bookkeeping. */
  names: Set<string>;
  paths: Path[];
}

/** One section's drawing: skipped (its DOM and its fields' state untouched) while `shows` stays the same. */
class SectionBody extends Component<{ anchor: string; shows: string; vnode: JSX.Element }> {
  override shouldComponentUpdate(next: { anchor: string; shows: string }): boolean {
    return next.shows !== this.props.shows || next.anchor !== this.props.anchor;
  }

  override render(): JSX.Element {
    countRender('epcr-section', () => this.props.anchor);
    return this.props.vnode;
  }
}

export class SectionCache {
  private readonly sections = new Map<string, Cached>();
  private latest: Epcr;
  /** The section being drawn now: `field` notes its fields here. */
  private drawing: Cached | undefined;

  constructor(epcr: Epcr) {
    this.latest = epcr;
  }

  /** The report the sections read (the newest; set at each render of the form). */
  set report(epcr: Epcr) {
    this.latest = epcr;
  }

  /**
   * The section `anchor`, drawn by `draw` (given the report to read) when what it shows changed.
   * `given`: everything else the section shows, as JSON-able values.
   */
  section(anchor: string, given: unknown, draw: (epcr: Epcr) => JSX.Element): JSX.Element {
    const cached = this.sections.get(anchor);
    const shows = cached ? this.showsOf(cached, given) : '';
    if (cached && cached.shows === shows) return <SectionBody key={anchor} anchor={anchor} shows={shows} vnode={cached.vnode} />;
    const next: Cached = { shows: '', vnode: <></>, reads: new Set(), all: false, names: new Set(), paths: [] };
    this.drawing = next;
    try {
      next.vnode = draw(this.watched(next));
    } finally {
      this.drawing = undefined;
    }
    next.shows = this.showsOf(next, given);
    this.sections.set(anchor, next);
    return <SectionBody key={anchor} anchor={anchor} shows={next.shows} vnode={next.vnode} />;
  }

  /** The form's field helper notes each field of the section being drawn. */
  noteField(name: string, path: Path): void {
    this.drawing?.names.add(name);
    this.drawing?.paths.push(path);
  }

  /** Every field the sections drew (their path names), drawn now or earlier. */
  fieldNames(): Set<string> {
    return new Set([...this.sections.values()].flatMap((s) => [...s.names]));
  }

  fieldPaths(): Path[] {
    return [...this.sections.values()].flatMap((s) => s.paths);
  }

  private showsOf(cached: Cached, given: unknown): string {
    const doc = this.latest as unknown as Record<string, unknown>;
    const keys = cached.all ? Object.keys(doc) : [...cached.reads];
    return JSON.stringify([keys.sort().map((key) => [key, doc[key] ?? null]), given]);
  }

  /** The report as a section reads it: every read noted (also by the components it draws, later). */
  private watched(cached: Cached): Epcr {
    const now = () => this.latest as unknown as Record<string | symbol, unknown>;
    return new Proxy({}, {
      get: (_target, key) => {
        if (typeof key === 'string') cached.reads.add(key);
        return now()[key];
      },
      has: (_target, key) => {
        if (typeof key === 'string') cached.reads.add(key);
        return key in now();
      },
      ownKeys: () => {
        cached.all = true;
        return Reflect.ownKeys(now());
      },
      getOwnPropertyDescriptor: (_target, key) => {
        cached.all = true;
        const descriptor = Reflect.getOwnPropertyDescriptor(now(), key);
        return descriptor ? { ...descriptor, configurable: true } : undefined;
      },
    }) as Epcr;
  }
}
