/** Call: response and dispatch (eResponse, eDispatch), mostly prefilled from the CAD call. */
import type { JSX } from 'preact';
import type { Path } from '../../../worker/api.ts';
import { ActionError } from '../../../ui/action.tsx';
import { write } from '../../../ui/db.ts';
import { itemId } from '../../../ui/ids.ts';
import { addRefusal, type CrewMember, type FormKit } from './kit.ts';

/** eCrew: each member of the unit's crew, their level and their roles on this call. */
function crewMembers(kit: FormKit): JSX.Element {
  const { epcr, id, disabled, text, select, codes, focusItem, action } = kit;
  const add = async () => {
    const cid = itemId('c');
    await write.mutate('epcrs', id, [{ op: 'append', path: ['crew'], value: { id: cid } }]);
    focusItem(cid);
  };
  return (
    <>
      <h3 style="margin:12px 0 4px">Crew</h3>
      {(epcr.crew ?? []).length === 0 && <p class="empty">No crew members named yet.</p>}
      {(epcr.crew ?? []).map((member: CrewMember, n: number) => {
        const p = (key: string): Path => ['crew', { id: member.id }, key];
        return (
          <div class="card" style="margin-bottom:8px" key={member.id} data-item={member.id} data-testid="crew-member">
            <div class="row" style="justify-content:space-between"><h3>Crew member {n + 1}</h3>
              {!disabled && <button onClick={() => void action.run(() => write.mutate('epcrs', id, [{ op: 'removeItem', path: ['crew'], itemId: member.id }]), {}, `remove-${member.id}`)}>Remove</button>}</div>
            <ActionError action={action} at={`remove-${member.id}`} />
            <div class="grid">
              {text(p('memberId'), 'Crew member id', member.memberId, { maxLength: 50 })}
              {select(p('level'), 'Level', member.level)}
              {codes(p('roles'), 'Roles on this call', member.roles)}
            </div>
          </div>
        );
      })}
      {!disabled && <p><button onClick={() => void action.run(add, addRefusal(epcr, 'crew', 'crew members'), 'add-crew')}>Add crew member</button></p>}
      <ActionError action={action} at="add-crew" />
    </>
  );
}

export function callSection(kit: FormKit): JSX.Element {
  const { epcr, id, disabled, session, text, select, codes, action } = kit;
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
        {select(['dispatch', 'emdPerformed'], 'EMD performed', epcr.dispatch?.emdPerformed)}
        {text(['response', 'responseNumber'], 'Response number', epcr.response?.responseNumber)}
        {text(['record', 'pcrNumber'], 'PCR number (if the agency numbers its reports)', epcr.record?.pcrNumber, { maxLength: 50 })}
        {text(['response', 'agencyNumber'], 'Agency number (if not this agency\'s)', epcr.response?.agencyNumber, { maxLength: 15 })}
        {codes(['response', 'responseModeDescriptors'], 'Response mode descriptors', epcr.response?.responseModeDescriptors)}
        {codes(['response', 'dispatchDelays'], 'Dispatch delays', epcr.response?.dispatchDelays)}
        {codes(['response', 'responseDelays'], 'Response delays', epcr.response?.responseDelays)}
        {codes(['response', 'sceneDelays'], 'Scene delays', epcr.response?.sceneDelays)}
        {codes(['response', 'transportDelays'], 'Transport delays', epcr.response?.transportDelays)}
        {codes(['response', 'turnAroundDelays'], 'Turn-around delays', epcr.response?.turnAroundDelays)}
      </div>
      {crewMembers(kit)}
    </>
  );
}
