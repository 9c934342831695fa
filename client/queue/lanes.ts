/**
 * Priority lanes: after hours offline, what matters to patients and dispatch goes first; the GPS
 * backlog follows in large batches. A finalized report is never stuck behind 5,000 points.
 *
 * A row's lane is written into it when it is queued and the queue is read in lane order (the
 * `by-lane` index, database.ts), so the lanes belong to the queue; how many rows of a lane one
 * request carries is the delivery's business (sw/queue/batching.ts).
 */
export const LANES = {
  /** Patient care reports, unit statuses, incidents. */
  urgent: 0,
  /** Jobs, tickets, orders, billing. */
  normal: 1,
  /** Positions: many, small, and only useful in bulk. */
  bulk: 2,
} as const;
export type Lane = (typeof LANES)[keyof typeof LANES];

/** Every lane, most urgent first: the order delivery reads them in. */
export const LANE_ORDER: readonly Lane[] = [LANES.urgent, LANES.normal, LANES.bulk];

/**
 * Attachments (signatures, photos: uploads.ts) are a lane of their own, kept in their own store
 * and uploaded one by one (tus): after the reports and statuses their documents belong to, and
 * before the GPS backlog. `waiting` in the queue's summary counts them under this name.
 */
export const ATTACHMENT_LANE = 'attachments';
/** The order the service worker delivers in: the rows' lanes, with the attachments before positions. */
export const DELIVERY_ORDER: readonly (Lane | typeof ATTACHMENT_LANE)[] = [LANES.urgent, LANES.normal, ATTACHMENT_LANE, LANES.bulk];

const LANE_OF: Record<string, Lane> = {
  epcrs: LANES.urgent,
  units: LANES.urgent,
  // Each status press is a time on the call: with the reports, before jobs and positions.
  unit_status_events: LANES.urgent,
  incidents: LANES.urgent,
  jobs: LANES.normal,
  tickets: LANES.normal,
  orders: LANES.normal,
  billing_records: LANES.normal,
  claims: LANES.normal,
  gps_points: LANES.bulk,
};

export function laneOf(collection: string): Lane {
  return LANE_OF[collection] ?? LANES.normal;
}
