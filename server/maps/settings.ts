/**
 * The map settings in force for an agency: its own (agency settings `map`) over the server's
 * (config.ts), read on every request like the rest of the agency's settings, so an admin's change
 * applies at once on every server process.
 */
import type { ServerConfig } from '../config.ts';
import { readAgencySettings } from '../agencies/directory.ts';
import type { AgencyMapSettings } from '../agencies/map-settings.ts';
import type { Store } from '../store/types.ts';
import type { GeocoderTarget } from './geocoder.ts';

export interface EffectiveMapSettings {
  tileArchive?: string;
  styleUrl?: string;
  attribution?: string;
  offlineArea?: AgencyMapSettings['offlineArea'];
  geocoder?: GeocoderTarget;
  routerUrl?: string;
}

export async function mapSettingsFor(store: Store, config: Readonly<ServerConfig>, tenantId: string): Promise<EffectiveMapSettings> {
  const own = (await readAgencySettings(store, tenantId))?.map ?? {};
  // An agency that names a style of its own does not also get the server's archive, and the reverse.
  const ownTiles = own.tileArchive !== undefined || own.styleUrl !== undefined;
  const tileArchive = ownTiles ? own.tileArchive : config.mapTileArchive;
  const styleUrl = ownTiles ? own.styleUrl : config.mapStyleUrl;
  const geocoder = own.geocoder ?? (config.geocoderUrl ? { url: config.geocoderUrl, kind: config.geocoderKind, apiKey: config.geocoderApiKey } : undefined);
  // The agency's router, else the server's (a setting of the agency over one of the server, not a default).
  const routerUrl = own.routerUrl !== undefined ? own.routerUrl : config.routerUrl;
  return {
    ...(tileArchive ? { tileArchive } : {}), ...(styleUrl ? { styleUrl } : {}),
    ...(own.attribution ? { attribution: own.attribution } : {}),
    ...(own.offlineArea ? { offlineArea: own.offlineArea } : {}),
    ...(geocoder ? { geocoder } : {}), ...(routerUrl ? { routerUrl } : {}),
  };
}
