/**
 * The unacknowledged-call alert's sound: a short two-tone beep made with Web Audio (no sound file
 * to fetch or cache). Browsers start an AudioContext suspended until the page had a user gesture;
 * the console resumes it on the dispatcher's first click or key, and until then the alert is
 * shown (colour, flash) and the board says the sound is waiting for a click.
 */
import { signal } from '@preact/signals';

let context: AudioContext | undefined;
/** How many beeps this page played (shown on the alert banner, so a person or a test can tell it sounded). */
export const beepsPlayed = signal(0);
export const soundReady = signal(false);

function audio(): AudioContext | undefined {
  if (context) return context;
  const Ctor = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!Ctor) return undefined;
  context = new Ctor();
  soundReady.value = context.state === 'running';
  context.onstatechange = () => { soundReady.value = context?.state === 'running'; };
  return context;
}

/** Lets the sound play once the dispatcher has interacted with the page. */
export function unlockSoundOnGesture(): () => void {
  const unlock = () => void audio()?.resume().then(() => { soundReady.value = audio()?.state === 'running'; }, () => {});
  window.addEventListener('pointerdown', unlock);
  window.addEventListener('keydown', unlock);
  audio();
  return () => { window.removeEventListener('pointerdown', unlock); window.removeEventListener('keydown', unlock); };
}

/** One alert beep (two short tones); false when the page may not play sound yet. */
export function beep(): boolean {
  const ctx = audio();
  if (!ctx || ctx.state !== 'running') return false;
  const start = ctx.currentTime;
  for (const [offset, frequency] of [[0, 880], [0.22, 660]] as const) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'square';
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.2, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.18);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start + offset);
    osc.stop(start + offset + 0.2);
  }
  beepsPlayed.value += 1;
  return true;
}
