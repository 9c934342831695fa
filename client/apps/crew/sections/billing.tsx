/** Billing: service level, insurance and the pickup ZIP the claim needs (ePayment, eScene.19). */
import type { JSX } from 'preact';
import type { FormKit } from './kit.ts';

export function billingSection({ epcr, text, select }: FormKit): JSX.Element {
  return (
    <div class="grid">
      {select(['payment', 'serviceLevel'], 'Service level', epcr.payment?.serviceLevel)}
      {text(['payment', 'insuranceCompany'], 'Insurance', epcr.payment?.insuranceCompany)}
      {text(['payment', 'memberId'], 'Member id', epcr.payment?.memberId)}
      {text(['scene', 'address', 'zip'], 'Pickup (scene) ZIP', epcr.scene?.address?.zip, { pattern: /^[0-9]{5}(-[0-9]{4})?$/, patternHint: '5 digits (or ZIP+4).', maxLength: 10, inputMode: 'numeric' })}
    </div>
  );
}
