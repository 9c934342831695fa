/** History: allergies, medical history, home medications (lists, one per line) and last oral intake. */
import type { JSX } from 'preact';
import { TimeField } from '../../../ui/components.tsx';
import { LinesField } from './lines-field.tsx';
import type { FormKit } from './kit.ts';

export function historySection({ epcr, field }: FormKit): JSX.Element {
  return (
    <div class="grid">
      <LinesField {...field(['history', 'allergies'], 'Allergies')} value={epcr.history?.allergies} />
      <LinesField {...field(['history', 'medicalHistory'], 'Medical history')} value={epcr.history?.medicalHistory} />
      <LinesField {...field(['history', 'currentMedications'], 'Current medications')} value={epcr.history?.currentMedications} />
      <TimeField {...field(['history', 'lastOralIntake'], 'Last oral intake')} value={epcr.history?.lastOralIntake} />
    </div>
  );
}
