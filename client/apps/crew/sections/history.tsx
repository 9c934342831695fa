/** History: allergies, medical history, home medications (lists, one per line) and last oral intake. */
import type { JSX } from 'preact';
import { TimeField } from '../../../ui/components.tsx';
// The lines field is defined with the form (client/apps/crew/epcr-form.tsx).
import { LinesField } from '../epcr-form.tsx';
import type { FormKit } from './kit.ts';

export function historySection({ epcr, id, disabled, field }: FormKit): JSX.Element {
  return (
    <div class="grid">
      <LinesField label="Allergies" docId={id} path={['history', 'allergies']} value={epcr.history?.allergies} disabled={disabled} />
      <LinesField label="Medical history" docId={id} path={['history', 'medicalHistory']} value={epcr.history?.medicalHistory} disabled={disabled} />
      <LinesField label="Current medications" docId={id} path={['history', 'currentMedications']} value={epcr.history?.currentMedications} disabled={disabled} />
      <TimeField {...field(['history', 'lastOralIntake'], 'Last oral intake')} value={epcr.history?.lastOralIntake} />
    </div>
  );
}
