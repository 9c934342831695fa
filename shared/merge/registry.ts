import {
  billingRecordSchema, claimSchema, incidentSchema, jobSchema, orderSchema, ticketSchema, unitSchema,
  type CollectionName,
} from '../schemas/index.ts';
import { ATTACHMENT_UNION, mergeEpcr } from './epcr.ts';
import { mergeImmutable } from './immutable.ts';
import type { Doc } from './json.ts';
import { createThreeWayMerge, type MergeFunction, type MergeInput } from './three-way.ts';

export const mergeFunctions: Record<CollectionName, MergeFunction> = {
  incidents: createThreeWayMerge({ schema: incidentSchema }),
  epcrs: mergeEpcr,
  gps_points: mergeImmutable,
  units: createThreeWayMerge({ schema: unitSchema }),
  billing_records: createThreeWayMerge({ schema: billingRecordSchema }),
  claims: createThreeWayMerge({ schema: claimSchema }),
  orders: createThreeWayMerge({ schema: orderSchema }),
  tickets: createThreeWayMerge({ schema: ticketSchema }),
  jobs: createThreeWayMerge({ schema: jobSchema, unionLists: ATTACHMENT_UNION }),
  unit_status_events: mergeImmutable,
};

export function merge(collection: CollectionName, input: MergeInput): Doc {
  return mergeFunctions[collection](input);
}
