/** Call: response and dispatch (eResponse, eDispatch), mostly prefilled from the CAD call. */
import type { JSX } from 'preact';
import { ActionError } from '../../../ui/action.tsx';
import { write } from '../../../ui/db.ts';
import type { FormKit } from './kit.ts';

export function callSection({ epcr, id, disabled, session, text, select, action }: FormKit): JSX.Element {
  return (
    <>
      {!disabled && session.user.unitId && (!epcr.response?.callSign || !epcr.response?.vehicleNumber) && (
        <p><button onClick={() => void action.run(() => write.mutate('epcrs', id, [
          ...(!epcr.response?.callSign ? [{ op: 'set' as const, path: ['response', 'callSign'], value: session.user.unitId }] : []),
          ...(!epcr.response?.vehicleNumber ? [{ op: 'set' as const, path: ['response', 'vehicleNumber'], value: session.user.unitId }] : []),
        ]), {}, 'fill-unit')}>Fill call sign and vehicle: {session.user.unitId}</button></p>
      )}
      <ActionError action={action} at="fill-unit" />
      <div class="grid">
        {text(['response', 'incidentNumber'], 'Incident number', epcr.response?.incidentNumber)}
        {text(['response', 'callSign'], 'Call sign', epcr.response?.callSign)}
        {text(['response', 'vehicleNumber'], 'Vehicle number', epcr.response?.vehicleNumber)}
        {select(['response', 'serviceType'], 'Type of service', epcr.response?.serviceType)}
        {select(['response', 'unitCapability'], 'Unit capability', epcr.response?.unitCapability)}
        {select(['response', 'responseMode'], 'Response mode', epcr.response?.responseMode)}
        {select(['dispatch', 'reason'], 'Dispatch reason', epcr.dispatch?.reason)}
        {select(['dispatch', 'priority'], 'Dispatch priority', epcr.dispatch?.priority)}
        {text(['dispatch', 'complaint'], 'Complaint given by dispatch', epcr.dispatch?.complaint)}
      </div>
    </>
  );
}
