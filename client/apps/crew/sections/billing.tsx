/** Billing: service level, insurance and the scene (pickup) the claim needs (ePayment, eScene). */
import type { JSX } from 'preact';
import { NumberField, SuggestionList } from '../../../ui/components.tsx';
import { vocabularyPick } from '../codes.ts';
import type { FormKit } from './kit.ts';
import { COUNTY_FIELD, STATE_FIELD } from './patient.tsx';

/** NEMSIS's incident location types (ICD-10-CM Y92) to search; the code is stored, its label shown. */
const { list: LOCATION_LIST, ...LOCATION } = vocabularyPick('scene.locationType');

export function billingSection({ epcr, field, text, select }: FormKit): JSX.Element {
  const scene = epcr.scene;
  return (
    <div class="grid">
      {select(['payment', 'serviceLevel'], 'Service level', epcr.payment?.serviceLevel)}
      {select(['payment', 'primaryMethod'], 'Primary method of payment', epcr.payment?.primaryMethod)}
      {text(['payment', 'insuranceCompany'], 'Insurance', epcr.payment?.insuranceCompany)}
      {text(['payment', 'memberId'], 'Member id', epcr.payment?.memberId)}
      {text(['scene', 'address', 'zip'], 'Pickup (scene) ZIP', epcr.scene?.address?.zip, { pattern: /^[0-9]{5}(-[0-9]{4})?$/, patternHint: '5 digits (or ZIP+4).', maxLength: 10, inputMode: 'numeric' })}
      {text(['scene', 'address', 'state'], 'Scene state', scene?.address?.state, { ...STATE_FIELD })}
      {text(['scene', 'address', 'county'], 'Scene county code', scene?.address?.county, { ...COUNTY_FIELD })}
      <SuggestionList {...LOCATION_LIST} />
      {text(['scene', 'locationType'], 'Scene location type (ICD-10-CM code)', scene?.locationType, { maxLength: 20, ...LOCATION })}
      <NumberField {...field(['scene', 'numberOfPatients'], 'Patients at the scene')} value={scene?.numberOfPatients} integer min={0} max={1000} />
      {select(['scene', 'firstOnScene'], 'First EMS unit on scene', scene?.firstOnScene)}
      {select(['scene', 'massCasualty'], 'Mass casualty incident', scene?.massCasualty)}
      {select(['scene', 'mciTriage'], 'MCI triage classification', scene?.mciTriage)}
    </div>
  );
}
