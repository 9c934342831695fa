/** Disposition and destination (eDisposition). */
import type { JSX } from 'preact';
import { NumberField } from '../../../ui/components.tsx';
import * as codes from '../codes.ts';
import type { FormKit } from './kit.ts';

export function dispositionSection({ epcr, field, text, select }: FormKit): JSX.Element {
  return (
    <div class="grid">
      {select(['disposition', 'unitDisposition'], 'Unit disposition', epcr.disposition?.unitDisposition, codes.UNIT_DISPOSITION)}
      {select(['disposition', 'transportDisposition'], 'Transport', epcr.disposition?.transportDisposition, codes.TRANSPORT_DISPOSITION)}
      {text(['disposition', 'destinationName'], 'Destination', epcr.disposition?.destinationName)}
      {text(['disposition', 'destinationCode'], 'Destination code', epcr.disposition?.destinationCode)}
      {select(['disposition', 'destinationType'], 'Destination type', epcr.disposition?.destinationType, codes.DESTINATION_TYPE)}
      {select(['disposition', 'preArrivalAlert'], 'Pre-arrival alert', epcr.disposition?.preArrivalAlert, codes.PRE_ARRIVAL_ALERT)}
      <NumberField {...field(['disposition', 'loadedMiles'], 'Loaded miles')} value={epcr.disposition?.loadedMiles} min={0} max={10000} unit="mi" />
    </div>
  );
}
