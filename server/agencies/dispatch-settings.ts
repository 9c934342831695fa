/**
 * An agency's dispatch settings (`dispatch` in its settings, set by its admin with
 * `PUT ADMIN.putAgency`): how long a dispatched call may go unacknowledged by its unit before the
 * dispatch console alerts. Consoles read the value in force, with the server's time, from
 * `GET DISPATCH.settings` (server/dispatch).
 */
export const DISPATCH_ACK_ALERT_MIN_SECONDS = 5;
export const DISPATCH_ACK_ALERT_MAX_SECONDS = 3600;

export interface AgencyDispatchSettings {
  /** Seconds from a call's assignment (server time) to the alert, while its unit has not acknowledged it. */
  unacknowledgedAlertSeconds: number;
}

/** Checks `dispatch` of a PUT body; its problems go to `problems` (nothing is stored when there are any). */
export function parseDispatchSettings(value: unknown, problems: string[]): AgencyDispatchSettings | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push('dispatch must be an object, e.g. {"unacknowledgedAlertSeconds": 90}');
    return undefined;
  }
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) if (key !== 'unacknowledgedAlertSeconds') problems.push(`dispatch.${key} is not a dispatch setting (known: unacknowledgedAlertSeconds)`);
  const seconds = input['unacknowledgedAlertSeconds'];
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < DISPATCH_ACK_ALERT_MIN_SECONDS || seconds > DISPATCH_ACK_ALERT_MAX_SECONDS) {
    problems.push(`dispatch.unacknowledgedAlertSeconds must be a whole number of seconds from ${DISPATCH_ACK_ALERT_MIN_SECONDS} to ${DISPATCH_ACK_ALERT_MAX_SECONDS}`);
    return undefined;
  }
  return { unacknowledgedAlertSeconds: seconds };
}
