/**
 * Who may read and write what: the ONE place access rules are declared. Pure data, no I/O, so
 * the server enforces it (pull, push, live stream) and an app can read it to know what it may
 * show or offer. `shared/access/policy.ts` evaluates these declarations.
 *
 * Everything here is within one tenant: documents of another tenant are never visible or
 * writable, whatever the role (the server scopes every query by the caller's tenant first).
 * A collection or role that is not listed has no access: deny by default.
 */
import type { Role } from '../protocol/index.ts';
import type { CollectionName } from '../schemas/index.ts';
import { CREW_INCIDENT_STATUSES, progressBefore } from '../schemas/incidents.ts';

/** Attributes of the caller's identity a rule can compare a document field with. */
export type IdentityAttribute = 'unitId' | 'technicianId' | 'userId' | 'deviceId';

export type Operand = { readonly literal: string | number | boolean } | { readonly identity: IdentityAttribute };

/**
 * One test on a top-level document field. An identity operand the caller does not have (a crew
 * token without a unit, say) never matches: a missing attribute grants nothing.
 */
export type Condition =
  | { readonly field: string; readonly equals: Operand }
  | { readonly field: string; readonly present: true };

export type Scope =
  /** Every document of the caller's tenant. */
  | { readonly kind: 'tenant' }
  /** Documents matching any of the alternatives; each alternative is a list of conditions that must all hold. */
  | { readonly kind: 'where'; readonly anyOf: readonly (readonly Condition[])[]; readonly label: string }
  /**
   * Documents whose id is the `key` field of a document of another collection that matches
   * `where` (and is not deleted): e.g. the tickets behind a technician's jobs.
   */
  | { readonly kind: 'via'; readonly collection: CollectionName; readonly where: readonly Condition[]; readonly key: string; readonly label: string };

export interface ReadRule {
  readonly scope: Scope;
  /** Minimum necessary: only these top-level fields are sent (always including `_deleted`). */
  readonly project?: readonly string[];
}

export interface WriteRule {
  /** Which documents may be written, checked on the current and the new state. `via` scopes cannot be written. */
  readonly scope: Scope;
  readonly create: boolean;
  /** Whether `_deleted` may change (delete or undelete). */
  readonly delete: boolean;
  /** Top-level fields an update may change: a list, or `any` (except `immutable` and server-owned fields). */
  readonly update: readonly string[] | 'any' | 'none';
  /** Fields that never change once the document exists, for this role (`id` and `tenantId` never change for anyone). */
  readonly immutable?: readonly string[];
  /**
   * Which values a field may move between, for this role: a change of a listed field (on create,
   * from "absent") must match one of its steps, or the write is refused. Fields not listed change
   * freely within `update`. This is how a lifecycle is declared: e.g. a crew moves its call
   * forward but never closes it, and only clears its unit's current call, never sets one.
   */
  readonly transitions?: Readonly<Record<string, readonly Transition[]>>;
  /**
   * Which stored documents this role may change at all, checked on the current state only (unlike
   * `scope`, which the new state must also be in): the office corrects and assigns the jobs the
   * server left unassigned, and assigning one is what takes it out of this scope.
   */
  readonly changeOnly?: Extract<Scope, { kind: 'where' }>;
  /**
   * Fields this role may change only in a write whose new state matches the conditions (literal
   * ones): the office names a job's technician only in the write that assigns it, so no job
   * waits "unassigned" in a technician's list.
   */
  readonly changeWith?: Readonly<Record<string, { readonly where: readonly Condition[]; readonly label: string }>>;
}

/** A field value a transition names; `null` stands for "absent". */
export type FieldValue = string | number | boolean | null;

export interface Transition {
  /** Values the field may hold before (`any`: whatever it holds). */
  readonly from: readonly FieldValue[] | 'any';
  /** Values it may take (`null`: removed). */
  readonly to: readonly FieldValue[];
}

export interface LockRule {
  /** Once the stored document has this field, no device may change it. */
  readonly field: string;
  /** Roles whose refused change is saved as a new draft document pointing at the locked one. */
  readonly addendumRoles: readonly Role[];
  /** The field of the new document that points at the locked one. */
  readonly addendumField: string;
}

/**
 * What a writer must be allowed to do with the document a reference field names, checked on
 * create and whenever the field changes (an absent or null value names nothing):
 * - `update`: the named document must exist in the writer's agency and be one the writer's own
 *   write rule for that collection lets it update (lock aside: an addendum amends a locked
 *   report). The rule that decides who may change a report decides who may amend it.
 * - `read`: a named document of the writer's agency must be one the writer may read. An id that
 *   names nothing yet is allowed (a call the device has not synced): it gives access to nothing.
 * - `agency`: any id of the writer's agency; said with `why` where the workflow that follows
 *   the reference checks the rest itself, and refusing would set aside work done in the field.
 * - `self`: the field names the writer itself (its unit, its technician id); every role's write
 *   scope binds it to the caller's identity (test/shared/access/references.test.ts checks).
 * - `external`: an id in another system (the CAD's record number), not a document here.
 * Ids are never resolved across agencies: whatever the answer, it says nothing about them.
 */
export type Reference =
  | { readonly must: 'update' | 'read'; readonly to: CollectionName; /** The field of `to` the value names; `id` unless said. */ readonly key?: string }
  | { readonly must: 'agency'; readonly to: CollectionName; readonly why: string }
  | { readonly must: 'self'; /** What it names, for people. */ readonly names: string }
  /**
   * `known`: the value must be the `key` of a document of `to` in the writer's agency matching
   * `where` (literal conditions), whatever the writer may read of it: e.g. a technician, known
   * to the server by the `sourceId` of their phone's position fixes (as the workflows that assign
   * jobs know them), which the office may not read. An id known nowhere is refused.
   */
  | { readonly must: 'known'; readonly to: CollectionName; readonly key: string; readonly where: readonly Condition[]; /** What it names, for people. */ readonly names: string }
  | { readonly must: 'external'; readonly system: string };

export interface CollectionAccess {
  /** Protected health information: every read of it is written to the audit log. */
  readonly phi: boolean;
  /**
   * Whether copies waiting on a device outside its encrypted database (the service worker's
   * outbound queue) are sealed (shared/crypto/envelope.ts). Defaults to `phi`; also set for
   * documents that are not clinical records but can identify a patient.
   */
  readonly sealedOnDevice?: boolean;
  /** Set by the server only (hooks); no device may set or change them. */
  readonly serverOwned?: readonly string[];
  readonly lock?: LockRule;
  /**
   * Every top-level field that names another document (or an id elsewhere), and what a writer
   * must be allowed to do with what it names. A schema field that looks like a reference
   * (`…Id`, `…Of`) without an entry here fails test/shared/access/references.test.ts.
   */
  readonly references: Readonly<Record<string, Reference>>;
  readonly read: Partial<Record<Role, ReadRule>>;
  readonly write: Partial<Record<Role, WriteRule>>;
}

/** Never change once a document exists. */
export const ALWAYS_IMMUTABLE = ['id', 'tenantId'] as const;
/**
 * Bookkeeping any writer changes with every write: the client-owned revision, the merge's
 * conflict history (a merged document adds entries to it) and who made the last edit on a device
 * (`lastEdit`, stamped on every write: a write that changes nothing else changes nothing).
 */
export const BOOKKEEPING_FIELDS = ['rev', 'conflicts', 'lastEdit'] as const;

const TENANT: Scope = { kind: 'tenant' };
const unitIs = (field: string) => ({ field, equals: { identity: 'unitId' } }) as const;

const CREW_INCIDENTS: Scope = { kind: 'where', anyOf: [[unitIs('assignedUnitId')]], label: 'incidents assigned to your unit' };
const CREW_EPCRS: Scope = { kind: 'where', anyOf: [[unitIs('unitId')]], label: 'reports of your unit' };
const CREW_UNIT: Scope = { kind: 'where', anyOf: [[unitIs('callSign')]], label: 'your own unit' };
const CREW_GPS: Scope = {
  kind: 'where', anyOf: [[{ field: 'sourceType', equals: { literal: 'unit' } }, unitIs('sourceId')]], label: 'positions of your unit',
};
const TECH_GPS: Scope = {
  kind: 'where',
  anyOf: [[{ field: 'sourceType', equals: { literal: 'technician' } }, { field: 'sourceId', equals: { identity: 'technicianId' } }]],
  label: 'your own positions',
};
const TECH_JOBS: Scope = { kind: 'where', anyOf: [[{ field: 'assigneeId', equals: { identity: 'technicianId' } }]], label: 'jobs assigned to you' };
const UNASSIGNED_JOBS = { kind: 'where', anyOf: [[{ field: 'status', equals: { literal: 'unassigned' } }]], label: 'jobs the server left unassigned' } as const satisfies Scope;
/** What the office may make of an unassigned job: still unassigned (its address corrected), or assigned to someone. */
const OFFICE_JOBS: Scope = {
  kind: 'where',
  anyOf: [[{ field: 'status', equals: { literal: 'unassigned' } }], [{ field: 'status', equals: { literal: 'assigned' } }, { field: 'assigneeId', present: true }]],
  label: 'unassigned jobs, or jobs assigned to a technician',
};
/** How the server knows a technician: by the `sourceId` of their phone's position fixes (server/hooks/workflows/technicians.ts). */
const TECHNICIAN_FIXES: readonly Condition[] = [{ field: 'sourceType', equals: { literal: 'technician' } }];
const TECH_TICKETS: Scope = {
  kind: 'via', collection: 'jobs', where: [{ field: 'assigneeId', equals: { identity: 'technicianId' } }], key: 'ticketId',
  label: 'tickets of jobs assigned to you',
};
const CREW_STATUS_EVENTS: Scope = { kind: 'where', anyOf: [[unitIs('unitId')]], label: 'status events of your unit' };
const FINALIZED_EPCRS: Scope = { kind: 'where', anyOf: [[{ field: 'lockedAt', present: true }]], label: 'finalized reports' };

/**
 * Who receives the server's notices that are not documents (the live feed's `hook:failed`: a
 * workflow's failed attempt, which names documents and errors of any collection).
 */
export const NOTICE_READERS = {
  'hook:failed': ['admin'],
} as const satisfies Readonly<Record<string, readonly Role[]>>;

/**
 * Who may read the agency's list of technicians (`GET FIELD_SERVICE.technicians`: their ids and
 * when their phone last reported, never where): the roles that may name one in a job's
 * `assigneeId` (the office assigning a job by hand), and the admin.
 */
export const TECHNICIAN_LIST_READERS = ['office', 'admin'] as const satisfies readonly Role[];

/** What a dispatcher sees of an ePCR: where the crew is in the call, no clinical content. */
export const DISPATCH_EPCR_FIELDS = ['id', 'tenantId', 'rev', 'status', 'unitId', 'incidentId', 'times', 'lockedAt', '_deleted'] as const;

export const ACCESS_RULES: Readonly<Record<CollectionName, CollectionAccess>> = {
  incidents: {
    // The address, the complaint and the crew's notes identify a patient: every read is audited
    // like a report's (pull, stream and the live feed write one entry per batch, so dispatch
    // listing every call all day costs an entry per page or per second, not per call).
    phi: true,
    sealedOnDevice: true,
    // The call's history is what the server recorded, with its clock (incident-history workflow).
    serverOwned: ['history'],
    references: {
      assignedUnitId: { must: 'read', to: 'units', key: 'callSign' },
      cadRecordId: { must: 'external', system: 'the CAD backend\'s own record id' },
    },
    read: { crew: { scope: CREW_INCIDENTS }, dispatcher: { scope: TENANT }, admin: { scope: TENANT } },
    write: {
      dispatcher: { scope: TENANT, create: true, delete: true, update: 'any' },
      // The crew stamps its progress on its own call; it cannot reassign the call or make one up.
      // It moves the call forward as far as transport completed; closing or cancelling a call is
      // dispatch's (docs/data-model.md, "Incident lifecycle").
      crew: {
        scope: CREW_INCIDENTS, create: false, delete: false, update: ['status', 'timeline', 'transportCompleted', 'notes'],
        transitions: {
          // new/dispatched → active or transporting; active → transporting (shared/schemas/incidents.ts).
          status: CREW_INCIDENT_STATUSES.map((to) => ({ from: progressBefore(to), to: [to] })),
          transportCompleted: [{ from: [null, false], to: [true] }],
        },
      },
    },
  },
  epcrs: {
    phi: true,
    serverOwned: ['lockedAt', 'finalizeErrors', 'finalizeWarnings', 'derived', 'importedAt'],
    lock: { field: 'lockedAt', addendumRoles: ['crew'], addendumField: 'addendumOf' },
    references: {
      unitId: { must: 'self', names: 'the writer\'s unit (call sign)' },
      incidentId: {
        must: 'agency', to: 'incidents',
        why: 'a call has several units (first response, transport) but one assignedUnitId, and a crew may start its report before a reassignment reaches it; the report is its own unit\'s, and no workflow changes the call through this field',
      },
      // Whoever may not change a report may not amend it either (issue 17: crew of M1 wrote an
      // addendum of M2's locked report and changed M2's export and billing).
      addendumOf: { must: 'update', to: 'epcrs' },
    },
    read: {
      crew: { scope: CREW_EPCRS },
      dispatcher: { scope: TENANT, project: DISPATCH_EPCR_FIELDS },
      biller: { scope: FINALIZED_EPCRS },
      admin: { scope: TENANT },
    },
    write: {
      crew: { scope: CREW_EPCRS, create: true, delete: true, update: 'any', immutable: ['unitId', 'addendumOf'] },
    },
  },
  gps_points: {
    phi: false,
    references: { sourceId: { must: 'self', names: 'the writer\'s unit or technician id' } },
    read: { crew: { scope: CREW_GPS }, technician: { scope: TECH_GPS }, dispatcher: { scope: TENANT }, admin: { scope: TENANT } },
    // Position history is append-only evidence: fixes are added, never moved or removed.
    write: {
      crew: { scope: CREW_GPS, create: true, delete: false, update: 'none' },
      technician: { scope: TECH_GPS, create: true, delete: false, update: 'none' },
    },
  },
  units: {
    phi: false,
    references: { currentIncidentId: { must: 'read', to: 'incidents' } },
    read: { crew: { scope: CREW_UNIT }, dispatcher: { scope: TENANT }, admin: { scope: TENANT } },
    write: {
      dispatcher: { scope: TENANT, create: true, delete: true, update: 'any' },
      // An MDT may register its own unit and report its status and position; dispatch assigns it.
      // Going available after a call clears the unit's current call: the crew may drop it, never set one.
      crew: {
        scope: CREW_UNIT, create: true, delete: false,
        update: ['status', 'statusAt', 'currentIncidentId', 'assignmentAcknowledgedAt', 'lastPosition', 'lastPositionAt', 'crewNames', 'readNoteIds'],
        transitions: { currentIncidentId: [{ from: 'any', to: [null] }] },
      },
    },
  },
  unit_status_events: {
    phi: false,
    // Each status the MDT recorded is evidence of the call's times: added, never changed or removed.
    references: {
      unitId: { must: 'self', names: 'the writer\'s unit (call sign)' },
      incidentId: {
        must: 'agency', to: 'incidents',
        why: 'a status pressed before a reassignment reached the MDT is still evidence of the unit\'s times; the workflow that stamps the call ignores events of any unit but the assigned one (server/hooks/workflows/unit-status-event.ts)',
      },
    },
    read: { crew: { scope: CREW_STATUS_EVENTS }, dispatcher: { scope: TENANT }, admin: { scope: TENANT } },
    // Dispatch and CAD set a unit's status on the unit document (server/hooks/workflows/unit-status.ts).
    write: { crew: { scope: CREW_STATUS_EVENTS, create: true, delete: false, update: 'none' } },
  },
  billing_records: {
    phi: true,
    references: { epcrId: { must: 'read', to: 'epcrs' }, incidentId: { must: 'read', to: 'incidents' } },
    read: { biller: { scope: TENANT }, admin: { scope: TENANT } },
    // Billing history is voided (status), not deleted.
    write: { biller: { scope: TENANT, create: true, delete: false, update: 'any' } },
  },
  claims: {
    phi: true,
    references: {
      billingRecordId: { must: 'read', to: 'billing_records' },
      epcrId: { must: 'read', to: 'epcrs' },
      correctionOf: { must: 'update', to: 'claims' },
    },
    read: { biller: { scope: TENANT }, admin: { scope: TENANT } },
    write: { biller: { scope: TENANT, create: true, delete: false, update: 'any' } },
  },
  orders: {
    phi: false,
    // The digest of the order system's signed event (server/order-intake): only the intake sets it.
    serverOwned: ['intakeDigest'],
    references: {},
    read: { office: { scope: TENANT }, admin: { scope: TENANT } },
    write: {
      // The office enters orders by hand and completes them (completing starts ticket → job); it
      // never closes one (the server does when the ticket closes) nor passes one off as the order system's.
      office: {
        scope: TENANT, create: true, delete: false, update: 'any', immutable: ['orderNumber', 'source'],
        transitions: {
          status: [{ from: [null], to: ['open', 'completed'] }, { from: ['open'], to: ['completed', 'cancelled'] }],
          source: [{ from: [null], to: ['office'] }],
        },
      },
    },
  },
  tickets: {
    phi: false,
    references: { orderId: { must: 'read', to: 'orders' } },
    read: { technician: { scope: TECH_TICKETS }, office: { scope: TENANT }, admin: { scope: TENANT } },
    write: {},
  },
  jobs: {
    phi: false,
    references: {
      ticketId: { must: 'read', to: 'tickets' },
      orderId: { must: 'read', to: 'orders' },
      // Whoever assigns a job names a technician the server knows (the office, by hand); a
      // technician never changes it (not in their update list), so it stays theirs.
      assigneeId: { must: 'known', to: 'gps_points', key: 'sourceId', where: TECHNICIAN_FIXES, names: 'a technician of your agency (known by their phone\'s position fixes)' },
    },
    // Where the job was placed and why it waits are the server's (ticket-created, job-address-corrected, job-assigned-by-hand).
    serverOwned: ['location', 'geocodedAs', 'unassignedReason'],
    read: { technician: { scope: TECH_JOBS }, office: { scope: TENANT }, admin: { scope: TENANT } },
    // The technician works the job: status, notes, the checklist's results, parts used, time on
    // site, photos and the customer's signature, and a reason when reopening a completed job; what
    // the job is and whose stays the server's.
    write: {
      technician: {
        scope: TECH_JOBS, create: false, delete: false,
        update: ['status', 'statusAt', 'notes', 'attachments', 'checklist', 'parts', 'visits', 'reopenReason', 'reopenedAt'],
      },
      // A job the server could not assign (its address not found, the geocoder down, no technician
      // known): the office assigns it by hand, or corrects its address and the server places it
      // again (job-address-corrected). An assigned job is the technician's; the office leaves it.
      office: {
        scope: OFFICE_JOBS, changeOnly: UNASSIGNED_JOBS, create: false, delete: false,
        update: ['assigneeId', 'status', 'statusAt', 'serviceAddress'],
        transitions: { status: [{ from: ['unassigned'], to: ['assigned'] }] },
        changeWith: { assigneeId: { where: [{ field: 'status', equals: { literal: 'assigned' } }], label: 'in the change that assigns the job (status assigned)' } },
      },
    },
  },
};

/**
 * Who may edit which part of the agency's settings besides its admin (who edits all of them
 * through the admin API): the billing settings the 837P claims are made from (NPI, taxonomy,
 * submitter and clearinghouse, payers, fee schedule) are also the biller's. The server refuses
 * other roles (`AGENCY.billingSettings`); the billing screen is offered to these roles only.
 */
export const SETTINGS_EDITORS = {
  billing: ['admin', 'biller'],
} as const satisfies Record<string, readonly Role[]>;

export function mayEditSettings(role: Role, part: keyof typeof SETTINGS_EDITORS): boolean {
  return (SETTINGS_EDITORS[part] as readonly Role[]).includes(role);
}
