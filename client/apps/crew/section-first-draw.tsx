/**
 * A report's form draws the section on screen first, and the other sections one at a time after
 * it, each when the main thread is idle, instead of all twelve in one go. Drawing all twelve
 * (hundreds of fields) when a report opened was the longest task on a crew tablet's main thread
 * during a first sync (110 ms of CPU in Chromium's trace of bench:browser's typing run, 330-600 ms
 * of wall time on a loaded machine): the crew tapped "New report" and the page froze while the
 * unit's reports arrived. A section drawn once stays drawn (hidden while another is shown), so a
 * value a field refused keeps its message; a section shown before its turn is drawn at once.
 */
import { Component, type JSX } from 'preact';

/** Sections waiting for their first draw, drawn one per idle moment in the order they asked. */
const waiting: (() => void)[] = [];
let scheduled = false;

/**
 * At most this long (ms) before the next waiting section is drawn although the page never goes
 * idle (a busy sync): the form is complete within a few seconds, one short task at a time.
 */
const IDLE_TIMEOUT_MS = 200;

function drawNextSoon(): void {
  if (scheduled || waiting.length === 0) return;
  scheduled = true;
  const run = () => {
    scheduled = false;
    waiting.shift()?.();
    drawNextSoon();
  };
  if (typeof requestIdleCallback === 'function') requestIdleCallback(run, { timeout: IDLE_TIMEOUT_MS });
  else setTimeout(run, 0);
}

interface Props {
  /**
   * The section as the form drew it in this render (it is on screen, or was drawn before): the
   * form draws it itself, so the fields it notes while drawing count in this render.
   */
  content: JSX.Element | undefined;
  /** Draws the section when its turn comes before the form draws it (the form's section cache). */
  draw: () => JSX.Element;
  /** Told when the section was drawn on its turn: from the next render on the form draws it. */
  drawn: () => void;
}

/** One section's content: nothing until the form draws it or its turn came. */
export class DrawnLater extends Component<Props> {
  private once = false;
  private unmounted = false;
  private readonly wake = () => {
    if (this.unmounted || this.once) return;
    this.once = true;
    this.forceUpdate();
  };

  override componentDidMount(): void {
    if (!this.once) {
      waiting.push(this.wake);
      drawNextSoon();
    }
  }

  override componentWillUnmount(): void {
    this.unmounted = true;
    const at = waiting.indexOf(this.wake);
    if (at >= 0) waiting.splice(at, 1);
  }

  override render(): JSX.Element | null {
    if (this.props.content !== undefined) {
      this.once = true;
      return this.props.content;
    }
    if (!this.once) return null;
    this.props.drawn();
    return this.props.draw();
  }
}
