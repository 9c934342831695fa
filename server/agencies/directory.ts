/**
 * Where the server finds an agency's settings: the store (one row per agency, the store's own
 * table, so they are as durable as the reports on SQLite and PostgreSQL alike). Read on every
 * use, never cached: an admin's change applies to the next export, on every server process.
 */
import { ErrorCode } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';
import type { Actor, Store } from '../store/types.ts';
import type { NemsisAgency } from '../../shared/nemsis/export/emsdataset.ts';
import { parseAgencySettings, type AgencySettings } from './settings.ts';

/** The NEMSIS identity of an agency's exports, or undefined while its admin has not set it. */
export type AgencyLookup = (tenantId: string) => Promise<NemsisAgency | undefined>;

export async function readAgencySettings(store: Store, tenantId: string): Promise<(AgencySettings & { updatedAt: number }) | undefined> {
  const row = await store.getAgencySettings(tenantId);
  if (!row) return undefined;
  return { ...(JSON.parse(row.json) as AgencySettings), updatedAt: row.updatedAt };
}

/**
 * Checks and stores an agency's settings, audited in the same transaction (`agency_settings_update`,
 * without the password). `body` may be made from the settings as stored (a part replaced, the rest
 * kept): the write happens only over the settings it was made from, and is made again from the
 * newer ones when another save came in between (the admin's and a biller's, on any process), so
 * neither undoes the other's change unseen.
 */
export async function saveAgencySettings(
  store: Store, tenantId: string, body: unknown | ((previous: (AgencySettings & { updatedAt: number }) | undefined) => unknown), actor: Actor,
  options: { requestId?: string; allowedHosts?: readonly string[] } = {},
): Promise<AgencySettings> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await store.getAgencySettings(tenantId);
    const previous = row ? { ...(JSON.parse(row.json) as AgencySettings), updatedAt: row.updatedAt } : undefined;
    const settings = parseAgencySettings(typeof body === 'function' ? (body as (p: typeof previous) => unknown)(previous) : body, previous, { ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}) });
    const changed = Object.keys(settings).filter((key) => JSON.stringify((settings as unknown as Record<string, unknown>)[key]) !== JSON.stringify((previous as unknown as Record<string, unknown> | undefined)?.[key]));
    const written = await store.putAgencySettings(tenantId, JSON.stringify(settings), {
      tenantId, action: 'agency_settings_update', actor,
      details: {
        // Who changed what the state will see; the values are the agency's public identity, the password is never logged.
        changed, stateId: settings.stateId, agencyNumber: settings.agencyNumber, state: settings.state,
        ...(options.requestId ? { requestId: options.requestId } : {}),
      },
    }, row?.json ?? null);
    if (written) return settings;
  }
  throw new HttpError(409, ErrorCode.SETTINGS_BUSY, 'The agency\'s settings kept changing while this save was applied; nothing was written. Send it again.');
}

export function nemsisAgencyOf(settings: AgencySettings): NemsisAgency {
  return { stateId: settings.stateId, agencyNumber: settings.agencyNumber, stateCode: settings.state };
}

/** The lookup the workflows use: the agency's saved identity. */
export function storeAgencyLookup(store: Store): AgencyLookup {
  return async (tenantId) => {
    const settings = await readAgencySettings(store, tenantId);
    return settings ? nemsisAgencyOf(settings) : undefined;
  };
}
