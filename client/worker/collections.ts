import { ACCESS_RULES } from '../../shared/access/rules.ts';
import type { Role } from '../../shared/protocol/index.ts';
import { COLLECTION_NAMES, type CollectionName } from '../../shared/schemas/index.ts';

/**
 * The collections a role may pull (shared/access/rules.ts). Every app of one user opens the same
 * set, because the tabs share one database and only the elected tab replicates: a collection
 * only one app opened would never sync while another app's tab leads.
 */
export function collectionsForRole(role: Role): CollectionName[] {
  return COLLECTION_NAMES.filter((name) => ACCESS_RULES[name].read[role] !== undefined && !(HISTORY.has(name) && OFFICE_ROLES.has(role)));
}

/**
 * Office roles may read every position fix of the agency, but a console would pull the whole
 * history: it takes positions from the live feed and each unit's `lastPosition` instead.
 */
const OFFICE_ROLES: ReadonlySet<Role> = new Set(['dispatcher', 'admin', 'biller', 'office']);
/** Append-only histories an office console takes from the live feed and the documents' latest state instead. */
const HISTORY: ReadonlySet<CollectionName> = new Set(['gps_points', 'unit_status_events']);

/** Collections shown with per-document badges; position fixes are only counted. */
export function badgeCollections(collections: readonly CollectionName[]): CollectionName[] {
  return collections.filter((name) => name !== 'gps_points' && name !== 'unit_status_events');
}
