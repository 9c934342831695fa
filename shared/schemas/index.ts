import type { FromSchema } from 'json-schema-to-ts';
import { billingRecordMigrationStrategies, billingRecordSchema } from './billing-records.ts';
import { claimMigrationStrategies, claimSchema } from './claims.ts';
import { epcrMigrationStrategies, epcrSchema } from './epcrs.ts';
import { gpsPointMigrationStrategies, gpsPointSchema } from './gps-points.ts';
import { incidentMigrationStrategies, incidentSchema } from './incidents.ts';
import { jobMigrationStrategies, jobSchema } from './jobs.ts';
import { orderMigrationStrategies, orderSchema } from './orders.ts';
import { ticketMigrationStrategies, ticketSchema } from './tickets.ts';
import { unitStatusEventMigrationStrategies, unitStatusEventSchema } from './unit-status-events.ts';
import { unitMigrationStrategies, unitSchema } from './units.ts';
import { migrateDocument, type JsonDocument, type MigrationStrategies } from './migrations.ts';

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

/**
 * Per collection, the strategies that bring a document of an earlier schema version to the
 * current one (migrations.ts; each sits next to its schema). RxDB runs them when an updated app
 * opens an older database; the server runs them on changes an older build queued.
 */
export const collectionMigrationStrategies: Record<CollectionName, MigrationStrategies> = {
  incidents: incidentMigrationStrategies,
  epcrs: epcrMigrationStrategies,
  gps_points: gpsPointMigrationStrategies,
  units: unitMigrationStrategies,
  billing_records: billingRecordMigrationStrategies,
  claims: claimMigrationStrategies,
  orders: orderMigrationStrategies,
  tickets: ticketMigrationStrategies,
  jobs: jobMigrationStrategies,
  unit_status_events: unitStatusEventMigrationStrategies,
};

/** The schema version of `name` as a client built from this source sends it (`?schemaVersion=`); 0 for a name that is no collection. */
export function schemaVersionOf(name: string): number {
  return isCollectionName(name) ? collectionSchemas[name].version : 0;
}

/** A document written at schema version `fromVersion` of `name`, as a document of the current version. */
export function migrateToCurrentVersion(name: CollectionName, fromVersion: number, doc: JsonDocument): JsonDocument {
  return migrateDocument(name, collectionMigrationStrategies[name], fromVersion, collectionSchemas[name].version, doc);
}
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
