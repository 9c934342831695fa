/** Disposition and destination (eDisposition). */
import type { JSX } from 'preact';
import { NumberField } from '../../../ui/components.tsx';
import type { FormKit } from './kit.ts';

export function dispositionSection({ epcr, field, text, select }: FormKit): JSX.Element {
  return (
    <div class="grid">
      {select(['disposition', 'unitDisposition'], 'Unit disposition', epcr.disposition?.unitDisposition)}
      {select(['disposition', 'transportDisposition'], 'Transport', epcr.disposition?.transportDisposition)}
      {text(['disposition', 'destinationName'], 'Destination', epcr.disposition?.destinationName)}
      {text(['disposition', 'destinationCode'], 'Destination code', epcr.disposition?.destinationCode)}
      {select(['disposition', 'destinationType'], 'Destination type', epcr.disposition?.destinationType)}
      {select(['disposition', 'preArrivalAlert'], 'Pre-arrival alert', epcr.disposition?.preArrivalAlert)}
      <NumberField {...field(['disposition', 'loadedMiles'], 'Loaded miles')} value={epcr.disposition?.loadedMiles} min={0} max={10000} unit="mi" />
    </div>
  );
}
