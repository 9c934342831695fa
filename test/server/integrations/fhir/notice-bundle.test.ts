/**
 * The hospital notice as an emergency department receives it: a FHIR R4 message Bundle that
 * validates against HL7's R4 JSON Schema and the base R4 StructureDefinitions and vital-signs
 * profiles (validate.ts), whose references all resolve inside it, and which carries what the ED
 * acts on: every vital set (an overdose's first RR 4 and SpO2 78% included), the naloxone with
 * its dose and route, the impression, allergies, the crew's narrative, the ETA and the callback.
 */
import type { AllergyIntolerance, Bundle, Composition, Condition, Encounter, Location, MedicationAdministration, MessageHeader, Observation, Organization, Procedure, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { estimateEta } from '../../../../server/integrations/fhir/eta.ts';
import { hospitalNoticeBundle, type NoticeOptions } from '../../../../server/integrations/fhir/notice-bundle.ts';
import type { Epcr } from '../../../../shared/schemas/index.ts';
import { overdoseEpcr } from '../../nemsis/fixtures.ts';
import { unresolvedReferences, validateNoticeBundle } from './validate.ts';

const SENDER = { name: 'Danbury Fire Department', agencyNumber: '351-C034P2', callbackPhone: '203-555-0199' };
const PCR: NoticeOptions = { timestamp: '2024-10-07T22:00:00-04:00', sender: SENDER };
const PRE_ARRIVAL: NoticeOptions = {
  timestamp: '2024-10-07T20:36:00-04:00', kind: 'pre-arrival', sender: SENDER,
  eta: { at: '2024-10-07T20:52:00-04:00', basis: 'estimated: about 16 min from the unit\'s GPS position' },
};

/** An out-of-hospital cardiac arrest with ROSC: CPR, defibrillation, epinephrine IV and amiodarone IO, a BP set without diastolic, GCS 3. */
function cardiacArrestEpcr(): Epcr {
  const base = overdoseEpcr();
  const at = (hhmm: string) => `2024-11-02T${hhmm}:00-04:00`;
  return {
    ...base,
    id: '5c1f8a51-7c0e-4d6f-9d3a-2b7c1e0f4a11',
    patient: { firstName: 'Lee', lastName: 'Marsh', dateOfBirth: '1958-06-14', sex: '9919001' },
    situation: { chiefComplaint: 'Cardiac arrest', primaryImpression: 'I46.9', secondaryImpressions: ['I21.9'] },
    history: { allergies: [], allergiesText: ['shellfish (per wife)'] },
    arrest: { cardiacArrest: '3001003', arrestAt: at('06:05'), witnessedBy: ['3004007'], firstRhythm: '3011011', rosc: ['3012005'], endOfEvent: '3018007' },
    times: { unitNotified: at('06:02'), atPatient: at('06:09'), unitLeftScene: at('06:41'), atDestination: at('06:55'), transferOfCare: at('07:01') },
    vitals: [
      { id: 'ca-v1', takenAt: at('06:10'), heartRate: 0, respiratoryRate: 0, gcsEye: 1, gcsVerbal: 1, gcsMotor: 1, cardiacRhythm: ['9901067'] }, // VF
      { id: 'ca-v2', takenAt: at('06:31'), systolic: 84, heartRate: 112, spo2: 91, etco2: 38, glucose: 182, gcsEye: 1, gcsVerbal: 1, gcsMotor: 1 },
      { id: 'ca-v3', takenAt: at('06:45'), systolic: 102, diastolic: 64, heartRate: 104, spo2: 95, temperatureC: 35.9, gcsEye: 1, gcsMotor: 2 },
    ],
    medications: [
      { id: 'ca-m1', givenAt: at('06:14'), medication: '317361', route: '9927023', dose: 1, doseUnit: '3706021' }, // epinephrine 0.1 mg/ml IV
      { id: 'ca-m2', givenAt: at('06:22'), medication: '703', route: '9927021', dose: 300, doseUnit: '3706021' }, // amiodarone IO
      { id: 'ca-m3', givenAt: at('06:35'), medication: '317361', route: '9927023', dose: 10, doseUnit: '3706037' }, // epinephrine drip 10 mcg/min: a rate
      { id: 'ca-m4', givenAt: at('06:36'), medication: '703', pertinentNegative: '8801001' }, // a second amiodarone NOT given: Contraindication Noted
    ],
    procedures: [
      { id: 'ca-p1', performedAt: at('06:09'), procedure: '89666000', successful: '9923003' }, // CPR, manual
      { id: 'ca-p2', performedAt: at('06:12'), procedure: '426220008', attempts: 2, successful: '9923003' }, // Defibrillation, manual
      { id: 'ca-p3', performedAt: at('06:18'), procedure: '232674004', attempts: 2, successful: '9923001' }, // Intubation, NOS: failed
      { id: 'ca-p4', performedAt: at('06:08'), procedure: '89666000', priorToUnit: '9923003' }, // bystander CPR before the unit
    ],
    narrative: { text: 'Witnessed arrest, bystander CPR.\nVF, shocked x2, ROSC at 06:29 after epi and amiodarone.' },
  };
}

function resources(bundle: Bundle): Resource[] {
  return (bundle.entry ?? []).map((e) => e.resource!);
}
function ofType<T extends Resource>(bundle: Bundle, type: T['resourceType']): T[] {
  return resources(bundle).filter((r): r is T => r.resourceType === type);
}
function loincValue(observations: Observation[], code: string, at: string): number | undefined {
  return observations.find((o) => o.effectiveDateTime === at && o.code.coding?.some((c) => c.code === code))?.valueQuantity?.value;
}

describe('hospital notice: FHIR R4 validity', () => {
  // Loading the R4 definitions takes a few seconds on a busy machine: one generous timeout.
  it.each([
    ['overdose, full PCR', () => hospitalNoticeBundle(overdoseEpcr(), PCR)],
    ['overdose, pre-arrival', () => hospitalNoticeBundle(overdoseEpcr(), PRE_ARRIVAL)],
    ['cardiac arrest, full PCR', () => hospitalNoticeBundle(cardiacArrestEpcr(), PCR)],
    ['cardiac arrest, pre-arrival without ETA or callback configured', () => hospitalNoticeBundle(cardiacArrestEpcr(), { timestamp: '2024-11-02T06:42:00-04:00', kind: 'pre-arrival' })],
    ['a bare report (no patient, vitals or destination yet)', () => hospitalNoticeBundle({ id: 'e0e0e0e0-0000-4000-8000-000000000001', tenantId: 't', rev: '1-a', status: 'draft', unitId: 'u' }, PCR)],
  ])('%s: valid R4 (schema, base profiles, vital-signs profiles) with every reference resolved', (_name, build) => {
    const bundle = build();
    expect(validateNoticeBundle(bundle)).toEqual([]);
    expect(bundle.type).toBe('message');
    expect(resources(bundle)[0]!.resourceType).toBe('MessageHeader');
  }, 120_000);

  it('the validator bites: a dangling reference, a missing required element, a wrong primitive and a BP panel without its diastolic slice are each reported', () => {
    const bundle = hospitalNoticeBundle(overdoseEpcr(), PCR);
    const broken = structuredClone(bundle);
    const observations = ofType<Observation>(broken, 'Observation');
    observations[0]!.subject = { reference: 'urn:uuid:00000000-0000-4000-8000-00000000dead' };
    delete (observations[1] as Partial<Observation>).status;
    (observations[2]!.effectiveDateTime as unknown) = '7 Oct 2024 8:27 pm';
    const bp = observations.find((o) => o.code.coding?.some((c) => c.code === '85354-9'))!;
    bp.component = bp.component!.filter((c) => !c.code.coding?.some((coding) => coding.code === '8462-4'));
    const problems = validateNoticeBundle(broken);
    expect(problems.some((p) => p.includes('unresolved reference') && p.includes('00000000dead'))).toBe(true);
    expect(problems.some((p) => /status/.test(p))).toBe(true);
    expect(problems.some((p) => p.startsWith('JSON schema: entry[') && /effectiveDateTime/.test(p))).toBe(true);
    expect(problems.some((p) => /Invalid dateTime format at Observation.effective/.test(p))).toBe(true);
    expect(problems.some((p) => /DiastolicBP/.test(p))).toBe(true);
    expect(validateNoticeBundle(bundle)).toEqual([]);
  }, 120_000);

  it('ids are stable: the same report gives the same resource ids in both notices, so the PCR updates what the alert created', () => {
    const alert = hospitalNoticeBundle(overdoseEpcr(), PRE_ARRIVAL);
    const pcr = hospitalNoticeBundle(overdoseEpcr(), PCR);
    const urls = (b: Bundle, type: string) => (b.entry ?? []).filter((e) => e.resource?.resourceType === type).map((e) => e.fullUrl);
    for (const type of ['Patient', 'Encounter', 'Observation', 'MedicationAdministration', 'Condition']) expect(urls(pcr, type)).toEqual(urls(alert, type));
    expect(unresolvedReferences(pcr)).toEqual([]);
    expect(hospitalNoticeBundle(overdoseEpcr(), PCR)).toEqual(pcr);
  });
});

describe('hospital notice: what the emergency department reads', () => {
  const bundle = hospitalNoticeBundle(overdoseEpcr(), PRE_ARRIVAL);
  const observations = ofType<Observation>(bundle, 'Observation');

  it('every vital set, the first one included: RR 4 and SpO2 78% at 20:27, then 14/96% and 16/98%', () => {
    const times = [...new Set(observations.map((o) => o.effectiveDateTime))];
    expect(times).toEqual(['2024-10-07T20:27:00-04:00', '2024-10-07T20:33:00-04:00', '2024-10-07T20:41:00-04:00']);
    expect(times.map((t) => [loincValue(observations, '9279-1', t!), loincValue(observations, '59408-5', t!)])).toEqual([[4, 78], [14, 96], [16, 98]]);
    const spo2 = observations.find((o) => o.code.coding?.some((c) => c.code === '59408-5'))!;
    expect(spo2.code.coding!.map((c) => c.code)).toEqual(['59408-5', '2708-6']);
    expect(spo2.valueQuantity).toEqual({ value: 78, unit: '%', system: 'http://unitsofmeasure.org', code: '%' });
    expect(loincValue(observations, '8867-4', '2024-10-07T20:27:00-04:00')).toBe(44);
    expect(loincValue(observations, '2339-0', '2024-10-07T20:27:00-04:00')).toBe(96);
    expect(loincValue(observations, '9269-2', '2024-10-07T20:27:00-04:00')).toBe(6); // GCS E1 V1 M4
    const bp = observations.find((o) => o.effectiveDateTime === '2024-10-07T20:27:00-04:00' && o.code.coding?.[0]?.code === '85354-9')!;
    expect(bp.component!.map((c) => [c.code.coding![0]!.code, c.valueQuantity?.value, c.valueQuantity?.code])).toEqual([['8480-6', 98, 'mm[Hg]'], ['8462-4', 60, 'mm[Hg]']]);
    expect(observations.every((o) => o.status === 'preliminary')).toBe(true);
  });

  it('naloxone 4 mg intranasal as a MedicationAdministration with its RxNorm code, dose in UCUM and route', () => {
    const naloxone = ofType<MedicationAdministration>(bundle, 'MedicationAdministration').find((m) => m.medicationCodeableConcept?.coding?.[0]?.code === '7242')!;
    expect(naloxone.medicationCodeableConcept!.coding![0]).toEqual({ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7242', display: 'Naloxone (Narcan)' });
    expect(naloxone.effectiveDateTime).toBe('2024-10-07T20:28:30-04:00');
    expect(naloxone.dosage!.dose).toEqual({ value: 4, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' });
    expect(naloxone.dosage!.route!.text).toBe('Intranasal');
    expect(naloxone.dosage!.route!.coding![0]).toMatchObject({ system: 'urn:nemsis:eMedications.04', code: '9927017' });
    expect(naloxone.note?.map((n) => n.text)).toContain('Response to medication: Improved');
  });

  it('the impressions as ICD-10-CM Conditions (primary first), the allergy, the IV procedure', () => {
    const conditions = ofType<Condition>(bundle, 'Condition');
    expect(conditions.map((c) => [c.code!.coding![0]!.system, c.code!.coding![0]!.code])).toEqual([
      ['http://hl7.org/fhir/sid/icd-10-cm', 'T40.2X1A'], ['http://hl7.org/fhir/sid/icd-10-cm', 'F11.20'],
    ]);
    const encounter = ofType<Encounter>(bundle, 'Encounter')[0]!;
    expect(encounter.diagnosis!.map((d) => [d.rank, d.use?.text])).toEqual([[1, 'EMS primary impression'], [2, 'EMS secondary impression']]);
    const allergy = ofType<AllergyIntolerance>(bundle, 'AllergyIntolerance');
    expect(allergy.map((a) => [a.code!.coding![0]!.system, a.code!.coding![0]!.code, a.category])).toEqual([['http://www.nlm.nih.gov/research/umls/rxnorm', '7980', ['medication']]]);
    const procedure = ofType<Procedure>(bundle, 'Procedure')[0]!;
    expect(procedure.code!.coding![0]).toMatchObject({ system: 'http://snomed.info/sct', code: '392230005' });
    expect(procedure.outcome?.text).toBe('Successful');
  });

  it('the narrative, the ETA and the callback number, where an ED system and a person look for them', () => {
    const composition = ofType<Composition>(bundle, 'Composition')[0]!;
    const narrative = composition.section!.find((s) => s.title === 'Narrative')!;
    expect(narrative.text!.div).toContain('Pt found unresponsive in car, RR 4 &amp; pinpoint pupils. Naloxone 4 mg IN; RR &gt; 12 within 2 min.');
    const summary = composition.section!.find((s) => s.title === 'Pre-arrival')!.text!.div;
    expect(summary).toContain('ETA 2024-10-07T20:52:00-04:00');
    expect(summary).toContain('Unit callback: 203-555-0199');
    // Every clinical resource is listed in a section of the composition.
    const listed = new Set(composition.section!.flatMap((s) => (s.entry ?? []).map((e) => e.reference)));
    const clinical = (bundle.entry ?? []).filter((e) => ['Observation', 'MedicationAdministration', 'Procedure', 'Condition', 'AllergyIntolerance'].includes(e.resource!.resourceType));
    expect(clinical.filter((e) => !listed.has(e.fullUrl))).toEqual([]);

    const encounter = ofType<Encounter>(bundle, 'Encounter')[0]!;
    const destination = encounter.location!.find((l) => l.status === 'planned')!;
    expect(destination.period).toEqual({ start: '2024-10-07T20:52:00-04:00' });
    expect(destination.location.display).toBe('Danbury Hospital');
    const unit = ofType<Location>(bundle, 'Location').find((l) => l.physicalType?.coding?.[0]?.code === 've')!;
    expect(unit.name).toBe('DF A1');
    expect(unit.telecom).toEqual([{ system: 'phone', value: '203-555-0199', use: 'work' }]);
    expect(ofType<Organization>(bundle, 'Organization')[0]!.telecom?.[0]?.value).toBe('203-555-0199');
    const header = ofType<MessageHeader>(bundle, 'MessageHeader')[0]!;
    expect(header.eventCoding?.code).toBe('ems-pre-arrival');
    expect(header.focus!.map((f) => f.reference)).toEqual([encounter && bundle.entry!.find((e) => e.resource === encounter)!.fullUrl, bundle.entry!.find((e) => e.resource === composition)!.fullUrl]);
  });

  it('cardiac arrest: an infusion rate is a rate, a failed intubation says so, a missing diastolic is said absent, a partial GCS has no total', () => {
    const arrest = hospitalNoticeBundle(cardiacArrestEpcr(), PCR);
    const meds = ofType<MedicationAdministration>(arrest, 'MedicationAdministration');
    expect(meds.map((m) => [m.status, m.medicationCodeableConcept!.coding![0]!.code, m.dosage?.dose?.value, m.dosage?.rateQuantity?.code, m.dosage?.route?.text])).toEqual([
      ['completed', '317361', 1, undefined, 'Intravenous (IV)'], ['completed', '703', 300, undefined, 'Intraosseous (IO)'], ['completed', '317361', undefined, 'ug/min', 'Intravenous (IV)'],
      ['not-done', '703', undefined, undefined, undefined],
    ]);
    // A medication recorded as not given (NEMSIS pertinent negative) never reads as given.
    expect(meds[3]!.statusReason![0]!.text).toBe('Contraindication Noted');
    const procedures = ofType<Procedure>(arrest, 'Procedure');
    expect(procedures.map((p) => p.outcome?.text)).toEqual(['Successful', 'Successful', 'Unsuccessful', undefined]);
    expect(procedures[3]!.note!.map((n) => n.text)).toContain('Done before this unit\'s care (eProcedures.02)');
    const composition = ofType<Composition>(arrest, 'Composition')[0]!;
    expect(composition.section!.find((s) => s.title === 'Medications administered')!.text!.div).toContain('Amiodarone (Cordarone) NOT given: Contraindication Noted');
    expect(composition.section!.find((s) => s.title === 'Vital signs')!.text!.div).toContain('2024-11-02T06:10:00-04:00: HR 0, RR 0, GCS 3 (E1 V1 M1), rhythm Ventricular Fibrillation');
    expect(composition.section!.find((s) => s.title === 'Cardiac arrest')!.text!.div).toContain('First monitored rhythm: Ventricular Fibrillation.</p><p>ROSC: Yes, Prior to Arrival at the ED.');
    const obs = ofType<Observation>(arrest, 'Observation');
    const bp = obs.find((o) => o.effectiveDateTime === '2024-11-02T06:31:00-04:00' && o.code.coding?.[0]?.code === '85354-9')!;
    expect(bp.component![1]).toMatchObject({ dataAbsentReason: { coding: [{ code: 'not-performed' }] } });
    const partialGcs = obs.find((o) => o.effectiveDateTime === '2024-11-02T06:45:00-04:00' && o.code.coding?.[0]?.code === '9269-2')!;
    expect(partialGcs.valueQuantity).toBeUndefined();
    expect(partialGcs.component!.map((c) => c.code.coding![0]!.code)).toEqual(['9267-6', '9268-4']);
    expect(loincValue(obs, '8867-4', '2024-11-02T06:10:00-04:00')).toBe(0);
    expect(ofType<AllergyIntolerance>(arrest, 'AllergyIntolerance').map((a) => a.code)).toEqual([{ text: 'shellfish (per wife)' }]);
    expect(ofType<Encounter>(arrest, 'Encounter')[0]!.status).toBe('finished');
    expect(ofType<Composition>(arrest, 'Composition')[0]!.section!.find((s) => s.title === 'Narrative')!.text!.div)
      .toBe('<div xmlns="http://www.w3.org/1999/xhtml"><p>Witnessed arrest, bystander CPR.</p><p>VF, shocked x2, ROSC at 06:29 after epi and amiodarone.</p></div>');
  });
});

describe('hospital notice: no known drug allergy', () => {
  it('the pertinent negative becomes SNOMED CT 409137002; an allergy history nobody could take says so and claims nothing', () => {
    const nkda = hospitalNoticeBundle({ ...overdoseEpcr(), history: { allergies: [], allergiesPertinentNegative: '8801013' } }, PCR);
    expect(validateNoticeBundle(nkda)).toEqual([]);
    expect(ofType<AllergyIntolerance>(nkda, 'AllergyIntolerance').map((a) => a.code!.coding![0])).toEqual([{ system: 'http://snomed.info/sct', code: '409137002', display: 'No known drug allergy' }]);
    const unknown = hospitalNoticeBundle({ ...overdoseEpcr(), history: { allergiesPertinentNegative: '8801021' } }, PCR);
    expect(ofType<AllergyIntolerance>(unknown, 'AllergyIntolerance')).toEqual([]);
    expect(ofType<Composition>(unknown, 'Composition')[0]!.section!.find((s) => s.title === 'Allergies')!.text!.div).toContain('Allergies not obtained: Unresponsive.');
  }, 120_000);
});

describe('ETA estimate', () => {
  const hospital = { lat: 41.4045, lng: -73.4483 }; // Danbury Hospital
  const unit = { lat: 41.3948, lng: -73.4540 }; // 1.2 km south-west
  const now = new Date('2024-10-08T00:36:00Z');

  it('from a fresh GPS fix: straight line × 1.4 at 50 km/h, written in the report\'s offset', () => {
    const eta = estimateEta({ now, offsetMinutes: -240, unitPosition: unit, unitPositionAt: '2024-10-07T20:35:30-04:00', destination: hospital });
    expect(eta?.at).toBe('2024-10-07T20:38:00-04:00'); // 1.18 km × 1.4 = 1.65 km → 2 min
    expect(eta?.basis).toMatch(/about 2 min/);
  });

  it('no ETA from a stale fix, without a fix, or without the facility\'s coordinates', () => {
    expect(estimateEta({ now, offsetMinutes: -240, unitPosition: unit, unitPositionAt: '2024-10-07T20:20:00-04:00', destination: hospital })).toBeUndefined();
    expect(estimateEta({ now, offsetMinutes: -240, unitPosition: undefined, unitPositionAt: undefined, destination: hospital })).toBeUndefined();
    expect(estimateEta({ now, offsetMinutes: -240, unitPosition: unit, unitPositionAt: '2024-10-07T20:35:30-04:00', destination: undefined })).toBeUndefined();
  });
});
