/** Disposition and destination (eDisposition). */
import type { JSX } from 'preact';
import { NumberField, TimeField } from '../../../ui/components.tsx';
import type { FormKit } from './kit.ts';
import { COUNTY_FIELD, STATE_FIELD } from './patient.tsx';

export function dispositionSection({ epcr, field, text, select, codes }: FormKit): JSX.Element {
  const d = epcr.disposition;
  return (
    <div class="grid">
      {select(['disposition', 'unitDisposition'], 'Unit disposition', epcr.disposition?.unitDisposition)}
      {select(['disposition', 'transportDisposition'], 'Transport', epcr.disposition?.transportDisposition)}
      {text(['disposition', 'destinationName'], 'Destination', epcr.disposition?.destinationName)}
      {text(['disposition', 'destinationCode'], 'Destination code', epcr.disposition?.destinationCode)}
      {select(['disposition', 'destinationType'], 'Destination type', epcr.disposition?.destinationType)}
      {select(['disposition', 'preArrivalAlert'], 'Pre-arrival alert', epcr.disposition?.preArrivalAlert)}
      <TimeField {...field(['disposition', 'preArrivalAlertAt'], 'Pre-arrival alert time')} value={d?.preArrivalAlertAt} />
      {select(['disposition', 'patientEvaluationCare'], 'Patient evaluation and care', d?.patientEvaluationCare)}
      {select(['disposition', 'crewDisposition'], 'Crew disposition', d?.crewDisposition)}
      {select(['disposition', 'levelOfCare'], 'Level of care provided (per protocol)', d?.levelOfCare)}
      {select(['disposition', 'releaseAcuity'], 'Acuity when released', d?.releaseAcuity)}
      {select(['disposition', 'transportMethod'], 'Transport method', d?.transportMethod)}
      {select(['disposition', 'transportMode'], 'Transport mode from scene', d?.transportMode)}
      {codes(['disposition', 'transportModeDescriptors'], 'Transport mode descriptors', d?.transportModeDescriptors)}
      {codes(['disposition', 'destinationReasons'], 'Reason for choosing the destination', d?.destinationReasons)}
      {select(['disposition', 'inpatientDestination'], 'In-patient destination', d?.inpatientDestination)}
      {codes(['disposition', 'hospitalCapabilities'], 'Hospital capability', d?.hospitalCapabilities)}
      {text(['disposition', 'destinationAddress', 'state'], 'Destination state', d?.destinationAddress?.state, { ...STATE_FIELD })}
      {text(['disposition', 'destinationAddress', 'county'], 'Destination county code', d?.destinationAddress?.county, { ...COUNTY_FIELD })}
      {text(['disposition', 'destinationAddress', 'zip'], 'Destination ZIP', d?.destinationAddress?.zip, { pattern: /^[0-9]{5}(-[0-9]{4})?$/, patternHint: '5 digits (or ZIP+4).', maxLength: 10, inputMode: 'numeric' })}
      <NumberField {...field(['disposition', 'loadedMiles'], 'Loaded miles')} value={epcr.disposition?.loadedMiles} min={0} max={10000} unit="mi" />
    </div>
  );
}
