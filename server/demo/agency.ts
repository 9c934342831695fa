/**
 * The demo agency's settings: its NEMSIS identity and DEMDataSet content (Danbury, Connecticut,
 * the city of the NEMSIS compliance samples, whose state ID and agency number it borrows), seeded
 * once: an admin's later change is never overwritten. Every code is looked up by its label in the
 * generated NEMSIS modules.
 */
import { codeOf } from '../../shared/nemsis/codes.ts';
import { vocabularyEntries, type VocabularyName } from '../../shared/nemsis/vocabularies.ts';
import { readAgencySettings, saveAgencySettings } from '../agencies/directory.ts';
import type { AgencySettings } from '../agencies/settings.ts';
import { CITY, CITY_GNIS, PLACES } from './places.ts';
import { demoBillingSettings } from './billing-settings.ts';
import { DEMO_MAP_AREA, DEMO_TILE_ARCHIVE, DEMO_TILE_ATTRIBUTION, DEMO_TILE_ZOOMS } from './tiles.ts';
import type { DemoSeedContext } from './write.ts';

function vocabularyCode(name: VocabularyName, label: string): string {
  const entry = vocabularyEntries(name).find((e) => e.label === label);
  if (!entry) throw new Error(`The NEMSIS ${name} list has no entry labelled "${label}"; the demo agency's settings name one it does not hold`);
  return entry.code;
}

export function demoAgencySettings(): AgencySettings {
  return {
    name: 'Danbury EMS (fieldsync demo)',
    stateId: 'C034',
    agencyNumber: '351-C034P2',
    state: '09',
    serviceAreaCounties: [CITY.county],
    serviceAreaZips: ['06810', '06811'],
    primaryService: codeOf('dAgency.09', '911 Response (Scene) with Transport Capability'),
    levelOfService: codeOf('dAgency.11', 'Paramedic'),
    organizationStatus: codeOf('dAgency.12', 'Non-Volunteer'),
    organizationType: codeOf('dAgency.13', 'Governmental, Non-Fire'),
    taxStatus: codeOf('dAgency.14', 'Other (e.g., Government)'),
    // Sent in every hospital notice: the number an ED calls to reach a unit (555-01xx: fictional).
    callbackPhone: '203-555-0119',
    procedures: [vocabularyCode('procedure', 'IV, insertion')],
    medications: [vocabularyCode('medication', 'Naloxone (Narcan)'), vocabularyCode('medication', 'Aspirin')],
    // What the demo crews pick most, first in the searchable pick-lists (issue 16).
    favourites: {
      medication: [vocabularyCode('medication', 'Naloxone (Narcan)'), vocabularyCode('medication', 'Aspirin')],
      procedure: [vocabularyCode('procedure', 'IV, insertion')],
    },
    protocols: [codeOf('dConfiguration.10', 'Airway'), codeOf('dConfiguration.10', 'Cardiac Arrest-Asystole')],
    emd: codeOf('dConfiguration.13', "Yes, 100% of the EMS Agency's Service Area"),
    contacts: [{ type: codeOf('dContact.01', 'EMS Agency Director/Chief/Lead Administrator/CEO'), lastName: 'Lehner', firstName: 'Cathrine', phone: '203-796-1559' }],
    facilities: [{
      type: codeOf('dFacility.01', 'Hospital'), name: 'Danbury Hospital', code: '070033',
      street: PLACES.hospital.street, cityGnis: CITY_GNIS, state: '09', zip: CITY.zip, county: CITY.county,
      lat: PLACES.hospital.lat, lng: PLACES.hospital.lng,
    }],
    billing: demoBillingSettings(),
  };
}

/** The demo map (server/demo/tiles.ts): its generated archive, and the whole of it as the area devices can save offline. */
export function demoMapSettings(): NonNullable<AgencySettings['map']> {
  return {
    tileArchive: DEMO_TILE_ARCHIVE, attribution: DEMO_TILE_ATTRIBUTION,
    offlineArea: { ...DEMO_MAP_AREA, minZoom: DEMO_TILE_ZOOMS[0], maxZoom: DEMO_TILE_ZOOMS[1] },
  };
}

/** Saves the demo settings unless the agency has settings already; returns whether it wrote. */
export async function seedAgencySettings(ctx: DemoSeedContext, options: { withTiles?: boolean } = {}): Promise<boolean> {
  if (await readAgencySettings(ctx.app.store, ctx.tenantId)) return false;
  await saveAgencySettings(ctx.app.store, ctx.tenantId, {
    ...demoAgencySettings(), orderIntake: { signingSecret: DEMO_ORDER_SIGNING_SECRET },
    ...(options.withTiles ? { map: demoMapSettings() } : {}),
  }, { kind: 'system', tenantId: ctx.tenantId, userId: 'demo-seed' });
  return true;
}

/**
 * The demo agency's order signing secret, published in the README like the demo passwords so the
 * quick start can send a signed order event: demo only, never for a real order system.
 */
export const DEMO_ORDER_SIGNING_SECRET = 'demo-order-signing-secret-not-for-real-use';
