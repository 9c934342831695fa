import type { FromSchema } from 'json-schema-to-ts';
import { billingRecordSchema } from './billing-records.ts';
import { claimSchema } from './claims.ts';
import { epcrSchema } from './epcrs.ts';
import { gpsPointSchema } from './gps-points.ts';
import { incidentSchema } from './incidents.ts';
import { jobSchema } from './jobs.ts';
import { orderSchema } from './orders.ts';
import { ticketSchema } from './tickets.ts';
import { unitStatusEventSchema } from './unit-status-events.ts';
import { unitSchema } from './units.ts';

/** The one registry of collections: RxDB, the server's validators and the types all start here. */
export const collectionSchemas = {
  incidents: incidentSchema,
  epcrs: epcrSchema,
  gps_points: gpsPointSchema,
  units: unitSchema,
  billing_records: billingRecordSchema,
  claims: claimSchema,
  orders: orderSchema,
  tickets: ticketSchema,
  jobs: jobSchema,
  unit_status_events: unitStatusEventSchema,
} as const;

export type CollectionName = keyof typeof collectionSchemas;
export const COLLECTION_NAMES = Object.keys(collectionSchemas) as CollectionName[];

export function isCollectionName(name: string): name is CollectionName {
  return Object.prototype.hasOwnProperty.call(collectionSchemas, name);
}

type Deletable = { _deleted: boolean };
export type Incident = FromSchema<typeof incidentSchema>;
export type Epcr = FromSchema<typeof epcrSchema>;
export type GpsPoint = FromSchema<typeof gpsPointSchema>;
export type Unit = FromSchema<typeof unitSchema>;
export type BillingRecord = FromSchema<typeof billingRecordSchema>;
export type Claim = FromSchema<typeof claimSchema>;
export type Order = FromSchema<typeof orderSchema>;
export type Ticket = FromSchema<typeof ticketSchema>;
export type Job = FromSchema<typeof jobSchema>;
export type UnitStatusEvent = FromSchema<typeof unitStatusEventSchema>;

export interface CollectionDocTypes {
  incidents: Incident;
  epcrs: Epcr;
  gps_points: GpsPoint;
  units: Unit;
  billing_records: BillingRecord;
  claims: Claim;
  orders: Order;
  tickets: Ticket;
  jobs: Job;
  unit_status_events: UnitStatusEvent;
}
/** A document as it travels on the wire: the collection's type plus the tombstone flag. */
export type WireDoc<C extends CollectionName> = CollectionDocTypes[C] & Deletable;

export { billingRecordSchema, claimSchema, epcrSchema, gpsPointSchema, incidentSchema, jobSchema, orderSchema, ticketSchema, unitSchema, unitStatusEventSchema };
