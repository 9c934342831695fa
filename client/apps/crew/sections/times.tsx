/** Times (eTimes): typed, stamped with "Now", or copied from the call's CAD timeline. */
import type { JSX } from 'preact';
import type { Epcr } from '../../../../shared/schemas/index.ts';
import { TimeField } from '../../../ui/components.tsx';
import { ActionError } from '../../../ui/action.tsx';
import { write } from '../../../ui/db.ts';
import { clockOf } from '../../../ui/time.ts';
import type { FormKit } from './kit.ts';

export const TIME_FIELDS: readonly (readonly [keyof NonNullable<Epcr['times']>, string])[] = [
  ['psapCall', 'Call received (PSAP)'], ['unitNotified', 'Unit notified'], ['unitEnRoute', 'En route'],
  ['unitOnScene', 'On scene'], ['atPatient', 'At patient'], ['unitLeftScene', 'Left scene'],
  ['atDestination', 'At destination'], ['transferOfCare', 'Transfer of care'], ['backInService', 'Back in service'],
  ['unitCanceled', 'Cancelled'], ['unitArrivedStaging', 'Arrived at staging'], ['unitBackAtHome', 'Back at home station'],
];

export function timesSection({ epcr, id, disabled, incident, field, action }: FormKit): JSX.Element {
  const timeline = incident?.timeline as Record<string, string> | undefined;
  const fillTimes = () => {
    const ops = TIME_FIELDS.flatMap(([key]) => {
      const cad = timeline?.[key];
      return cad && !epcr.times?.[key] ? [{ op: 'set' as const, path: ['times', key], value: cad }] : [];
    });
    if (ops.length > 0) void action.run(() => write.mutate('epcrs', id, ops), {}, 'fill-times');
  };
  const cadTimesMissing = TIME_FIELDS.filter(([key]) => timeline?.[key] && !epcr.times?.[key]).length;
  return (
    <>
      {cadTimesMissing > 0 && !disabled && (
        <p><button onClick={fillTimes}>Fill {cadTimesMissing} time{cadTimesMissing === 1 ? '' : 's'} from the call timeline</button></p>
      )}
      <ActionError action={action} at="fill-times" />
      <div class="grid">
        {TIME_FIELDS.map(([key, label]) => {
          const cad = timeline?.[key];
          const own = field(['times', key], label);
          // The finalize hint comes first; the CAD time is a hint only when nothing is missing here.
          return <TimeField key={key} {...own} value={epcr.times?.[key]}
            {...(cad && cad !== epcr.times?.[key] && !own.hint ? { hint: `Call timeline: ${clockOf(cad)}` } : {})} />;
        })}
      </div>
    </>
  );
}
