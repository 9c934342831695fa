import { zonedDateTime } from '../../../shared/domain/time.ts';

/** Event names of the field's CAD backend (socket.io), as the bridge speaks them. */
export const CAD_INBOUND_EVENTS = [
  'incident:new', 'incident:status:updated', 'incident:timestamp:updated', 'unit:location:updated',
  'unit:status:updated', 'assignment:received', 'transport:completed', 'metrics:updated',
] as const;
export type CadInboundEvent = (typeof CAD_INBOUND_EVENTS)[number];

export const CAD_OUTBOUND_EVENTS = [
  'assignment:sent', 'unit:location', 'unit:status', 'incident:status', 'incident:timestamp',
  'transport:completed', 'metrics:updated', 'epcr:finalized',
] as const;
export type CadOutboundEvent = (typeof CAD_OUTBOUND_EVENTS)[number];

/**
 * CAD speaks in UTC (`Z`); our documents need an explicit offset, and NEMSIS wants the agency's
 * local time (eTimes are read as the wall clock of the call): the same instant is written on the
 * wall clock of `timeZone` (CAD_TIME_ZONE, the agency's IANA zone; this machine's zone when
 * unset). A time CAD sent with an offset is kept as sent.
 */
export function toOffsetTime(value: unknown, timeZone?: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  if (/[+-][0-9]{2}:[0-9]{2}$/.test(value)) return value;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return undefined;
  return zonedDateTime(date, timeZone);
}

/** CAD status names (EN_ROUTE, OnScene, ...) to the unit statuses of the units schema. */
export function toUnitStatus(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const normalized = value.trim().toLowerCase().replace(/[\s-]+/g, '_').replace(/([a-z])([A-Z])/g, '$1_$2');
  const aliases: Record<string, string> = {
    enroute: 'en_route', onscene: 'on_scene', atdestination: 'at_destination', athome: 'at_home', outofservice: 'out_of_service',
    in_service: 'available', available_in_quarters: 'available', transport: 'transporting', assigned: 'dispatched',
  };
  return aliases[normalized.replaceAll('_', '')] ?? aliases[normalized] ?? normalized;
}

/** Which incident timeline key (NEMSIS eTimes) a CAD timestamp or unit status sets. */
export const TIMELINE_KEY_BY_STATUS: Record<string, string> = {
  dispatched: 'unitNotified', acknowledged: 'dispatchAcknowledged', en_route: 'unitEnRoute', on_scene: 'unitOnScene',
  transporting: 'unitLeftScene', at_destination: 'atDestination', available: 'backInService', cancelled: 'unitCanceled',
  staged: 'unitArrivedStaging', at_home: 'unitBackAtHome',
};
