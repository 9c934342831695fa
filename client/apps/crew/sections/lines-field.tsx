/** A list of short texts edited one per line (allergies, history, home medications): a list in the report, limits from its schema. */
import { epcrSchema } from '../../../../shared/schemas/epcrs.ts';
import { ListField } from '../../../ui/components.tsx';
import type { FieldProps } from './kit.ts';

type HistoryList = 'allergies' | 'medicalHistory' | 'currentMedications' | 'allergiesText' | 'medicalHistoryText' | 'currentMedicationsText';

export function LinesField(props: FieldProps & Omit<Parameters<typeof ListField>[0], keyof FieldProps | 'value'> & { value: string[] | undefined }) {
  const list = epcrSchema.properties.history.properties[props.path[1] as HistoryList];
  return <ListField {...props} maxItems={list.maxItems} maxItemLength={list.items.maxLength} />;
}
