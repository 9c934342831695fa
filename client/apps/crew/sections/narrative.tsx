/** Narrative: the crew's free text (eNarrative.01). */
import type { JSX } from 'preact';
import { TextField } from '../../../ui/components.tsx';
import type { FormKit } from './kit.ts';

export function narrativeSection({ epcr, field }: FormKit): JSX.Element {
  return <TextField {...field(['narrative', 'text'], 'Narrative')} value={epcr.narrative?.text} multiline maxLength={20000} />;
}
