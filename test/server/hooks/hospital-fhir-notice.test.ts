/**
 * The hospital notices as the receiving ED gets them: the real workflow catalogue, the real HTTP
 * hospital gateway (retries, Idempotency-Key) and a real HTTP hospital stand-in on 127.0.0.1. An
 * overdose report pushed as a crew tablet would: leaving the scene sends the pre-arrival alert,
 * locking sends the full PCR; both are FHIR R4 message Bundles (application/fhir+json) that
 * validate and carry the first vitals (RR 4, SpO2 78%), the naloxone, the impression, the
 * allergy, the narrative, the ETA from the unit's GPS fix and the agency's callback number.
 */
import type { Bundle, Composition, Encounter, Location, MedicationAdministration, Observation } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveAgencySettings } from '../../../server/agencies/directory.ts';
import { devToken } from '../../../server/auth/identity.ts';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { buildIntegrations, integrationsConfigFrom } from '../../../server/integrations/index.ts';
import { offsetDateTime } from '../../../shared/domain/time.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { eventually } from '../../helpers/device.ts';
import type { TestServer } from '../../helpers/server.ts';
import { startHospital, type HospitalServer } from '../integrations/hospital-server.ts';
import { validateNoticeBundle } from '../integrations/fhir/validate.ts';
import { completeEpcr, NOTIFIED_HOSPITAL, pushBody, rawPush, settled, startHookServer, stored, systemWrite } from './support.ts';

const TENANT = 'agency-fhir';
const UNIT = 'MEDIC9';
const at = (hhmmss: string) => `2024-10-07T${hhmmss}-04:00`;
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-m9', subject: UNIT });

let server: TestServer;
let hospital: HospitalServer;

beforeAll(async () => {
  // The hospital refuses the first attempt of each notice: retries must keep one key and one Bundle.
  const seen = new Set<string>();
  hospital = await startHospital((_n, request) => {
    const key = String(request.headers['idempotency-key']);
    if (seen.has(key)) return 200;
    seen.add(key);
    return 503;
  });
  const integrations = buildIntegrations(
    integrationsConfigFrom({ hospitalEndpoints: { [NOTIFIED_HOSPITAL]: hospital.url }, integrationBackoffMs: 5, integrationBackoffMaxMs: 20 }),
    { async send() { /* CAD notices are not under test */ } },
  );
  server = await startHookServer({ integrations, autoClaimAfterFinalize: false });
  await saveAgencySettings(server.app.store, TENANT, demoAgencySettings(), { kind: 'system', tenantId: TENANT, userId: 'test' });
  const danburyHospital = demoAgencySettings().facilities.find((f) => f.code === NOTIFIED_HOSPITAL)!;
  // The MDT's last fix: about 2.4 km south of the hospital, a moment ago.
  await systemWrite(server, 'units', TENANT, {
    id: 'unit-doc-medic9', tenantId: TENANT, callSign: UNIT, status: 'transporting',
    lastPosition: { lat: danburyHospital.lat! - 0.0216, lng: danburyHospital.lng! }, lastPositionAt: offsetDateTime(new Date(), -240), _deleted: false,
  });
});

afterAll(async () => {
  await server?.close();
  await hospital?.close();
});

const bundleOf = (body: string) => JSON.parse(body) as Bundle;
const ofType = <T>(bundle: Bundle, type: string) => (bundle.entry ?? []).map((e) => e.resource!).filter((r) => r.resourceType === type) as T[];

describe('FHIR hospital notices through the hooks to an HTTP hospital', () => {
  it('pre-arrival alert on leaving the scene, full PCR on lock: each a valid R4 Bundle with every vital set, meds, impression, allergy, narrative, ETA and callback', async () => {
    const report = completeEpcr(TENANT, UNIT);
    const id = report.id;
    const onScene = { ...report, status: 'draft', times: { ...report.times, unitLeftScene: undefined, atDestination: undefined, transferOfCare: undefined, backInService: undefined } };
    await rawPush(server, token, 'epcrs', pushBody(JSON.parse(JSON.stringify(onScene)) as Record<string, unknown>));
    await settled(server);
    expect(hospital.requests, 'nothing while on scene').toEqual([]);

    const current = (await stored(server, 'epcrs', TENANT, id))!;
    await rawPush(server, token, 'epcrs', pushBody({ ...current, times: { ...current.times, unitLeftScene: at('20:35:22') } }, undefined, current as unknown as Record<string, unknown>));
    await eventually('the pre-arrival alert taken', () => hospital.accepted().length === 1, 20_000);

    const [refused, alert] = hospital.requests;
    expect(refused!.answer).toBe(503);
    expect(alert!.headers['content-type']).toBe('application/fhir+json');
    expect(alert!.headers['idempotency-key']).toBe(`hospital-prealert:${id}`);
    expect(refused!.headers['idempotency-key']).toBe(alert!.headers['idempotency-key']);
    expect(refused!.body).toBe(alert!.body);
    const prealert = bundleOf(alert!.body);
    expect(validateNoticeBundle(prealert)).toEqual([]);
    expect(prealert.type).toBe('message');

    // The first vital set is there: RR 4 and SpO2 78% at 20:27.
    const observations = ofType<Observation>(prealert, 'Observation');
    const first = observations.filter((o) => o.effectiveDateTime === at('20:27:00'));
    expect(first.find((o) => o.code.coding?.[0]?.code === '9279-1')?.valueQuantity?.value).toBe(4);
    expect(first.find((o) => o.code.coding?.[0]?.code === '59408-5')?.valueQuantity?.value).toBe(78);
    expect(new Set(observations.map((o) => o.effectiveDateTime)).size).toBe(3);
    // Naloxone 4 mg intranasal.
    const naloxone = ofType<MedicationAdministration>(prealert, 'MedicationAdministration').find((m) => m.medicationCodeableConcept?.coding?.[0]?.code === '7242')!;
    expect([naloxone.dosage?.dose?.value, naloxone.dosage?.dose?.code, naloxone.dosage?.route?.text]).toEqual([4, 'mg', 'Intranasal']);
    // ETA: planned arrival at the destination, a few minutes from now; the unit's callback number.
    const encounter = ofType<Encounter>(prealert, 'Encounter')[0]!;
    const planned = encounter.location!.find((l) => l.status === 'planned')!;
    const etaMs = Date.parse(planned.period!.start!);
    expect(etaMs - Date.now()).toBeGreaterThan(0);
    expect(etaMs - Date.now()).toBeLessThan(15 * 60_000);
    const unit = ofType<Location>(prealert, 'Location').find((l) => l.name === 'DF A1')!;
    expect(unit.telecom?.[0]?.value).toBe(demoAgencySettings().callbackPhone);
    const composition = ofType<Composition>(prealert, 'Composition')[0]!;
    expect(composition.section!.find((s) => s.title === 'Narrative')!.text!.div).toContain('Naloxone 4 mg IN');
    expect(composition.section!.find((s) => s.title === 'Pre-arrival')!.text!.div).toMatch(/ETA .*estimated: about \d+ min/);
    expect(composition.section!.find((s) => s.title === 'Impression')!.entry).toHaveLength(2);
    expect(composition.section!.find((s) => s.title === 'Allergies')!.entry).toHaveLength(1);

    // Arrived and finalized: the full PCR notice, under its own key.
    const moving = (await stored(server, 'epcrs', TENANT, id))!;
    await rawPush(server, token, 'epcrs', pushBody({ ...moving, status: 'finalized', times: { ...moving.times, atDestination: at('20:54:03'), transferOfCare: at('20:58:00'), backInService: at('21:15:33') } }, undefined, moving as unknown as Record<string, unknown>));
    await eventually('the PCR notice taken', () => hospital.accepted().length === 2, 30_000);
    await settled(server);
    const pcrRequest = hospital.accepted()[1]!;
    expect(pcrRequest.headers['idempotency-key']).toBe(`hospital-notice:${id}`);
    expect(pcrRequest.headers['content-type']).toBe('application/fhir+json');
    const pcr = bundleOf(pcrRequest.body);
    expect(validateNoticeBundle(pcr)).toEqual([]);
    const finished = ofType<Encounter>(pcr, 'Encounter')[0]!;
    expect(finished.status).toBe('finished');
    expect(finished.location!.find((l) => l.location.display === 'Danbury Hospital')).toMatchObject({ status: 'active', period: { start: at('20:54:03') } });
    expect(ofType<Observation>(pcr, 'Observation').filter((o) => o.effectiveDateTime === at('20:27:00') && o.code.coding?.[0]?.code === '9279-1')[0]?.valueQuantity?.value).toBe(4);
    expect(hospital.accepted()).toHaveLength(2);
    expect(((await stored(server, 'epcrs', TENANT, id)) as Epcr | undefined)?.lockedAt).toBeTruthy();
  }, 120_000);
});
