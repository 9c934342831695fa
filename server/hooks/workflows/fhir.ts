/**
 * The hospital notice as a FHIR R4-shaped Bundle (ems-domain §2: "Encounter + LOINC-coded
 * Observations"): the patient, the EMS encounter and the latest set of vital signs.
 */
import { codeList, codeOf } from '../../../shared/nemsis/codes.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { deterministicId } from '../ids.ts';

type Vital = NonNullable<Epcr['vitals']>[number];

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
/** ePatient.25 → FHIR administrative gender. */
/** ePatient.25 (by its XSD labels) → FHIR administrative gender. */
const GENDER: Readonly<Record<string, string>> = Object.fromEntries(
  ([['Female', 'female'], ['Male', 'male'], ['Unknown', 'unknown']] as const).map(([label, gender]) => [codeOf('ePatient.25', label), gender]),
);

interface Measure { key: keyof Vital; loinc: string; display: string; unit: string; ucum: string; category?: string }

const MEASURES: readonly Measure[] = [
  { key: 'heartRate', loinc: '8867-4', display: 'Heart rate', unit: '/min', ucum: '/min' },
  { key: 'respiratoryRate', loinc: '9279-1', display: 'Respiratory rate', unit: '/min', ucum: '/min' },
  { key: 'spo2', loinc: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry', unit: '%', ucum: '%' },
  { key: 'etco2', loinc: '19889-5', display: 'Carbon dioxide [Partial pressure] in Exhaled gas --at end expiration', unit: 'mmHg', ucum: 'mm[Hg]' },
  { key: 'glucose', loinc: '2339-0', display: 'Glucose [Mass/volume] in Blood', unit: 'mg/dL', ucum: 'mg/dL', category: 'laboratory' },
  { key: 'temperatureC', loinc: '8310-5', display: 'Body temperature', unit: 'Cel', ucum: 'Cel' },
  { key: 'pain', loinc: '72514-3', display: 'Pain severity - 0-10 verbal numeric rating [Score] - Reported', unit: '{score}', ucum: '{score}' },
];

/** The most recent vital-signs set (by the time it was taken), or undefined. */
export function latestVitals(vitals: readonly Vital[] | undefined): Vital | undefined {
  let latest: Vital | undefined;
  for (const vital of vitals ?? []) {
    if (!latest || Date.parse(vital.takenAt) >= Date.parse(latest.takenAt)) latest = vital;
  }
  return latest;
}

function quantity(value: number, measure: Pick<Measure, 'unit' | 'ucum'>) {
  return { value, unit: measure.unit, system: UCUM, code: measure.ucum };
}

/**
 * `pcr`: the full report after it is locked. `pre-arrival`: the alert sent while the patient is
 * on the way (ems-domain §6: "pre-arrival while transporting; full PCR after finalize"), so the
 * emergency department can prepare; the encounter is still in progress and the observations
 * preliminary. Both describe the same patient and encounter (same resource ids).
 */
export type HospitalNoticeKind = 'pcr' | 'pre-arrival';

/** eDisposition.24 pre-arrival alert codes ("No" is no alert) → the team to ready: the XSD label after "Yes-". */
const PRE_ARRIVAL_ALERT: Readonly<Record<string, string>> = Object.fromEntries(
  codeList('eDisposition.24').filter(([, label]) => label.startsWith('Yes-')).map(([code, label]) => [code, label.slice('Yes-'.length)]),
);

export function hospitalNoticeBundle(epcr: Epcr, timestamp: string, kind: HospitalNoticeKind = 'pcr'): Record<string, unknown> {
  const preArrival = kind === 'pre-arrival';
  const ref = (what: string) => `urn:uuid:${deterministicId(`fhir-${what}`, epcr.tenantId, epcr.id)}`;
  const patientRef = ref('patient');
  const encounterRef = ref('encounter');
  const patient = epcr.patient ?? {};
  const disposition = epcr.disposition ?? {};
  const times = epcr.times ?? {};

  const entries: { fullUrl: string; resource: Record<string, unknown> }[] = [];
  entries.push({
    fullUrl: patientRef,
    resource: {
      resourceType: 'Patient',
      ...(patient.lastName || patient.firstName
        ? { name: [{ ...(patient.lastName ? { family: patient.lastName } : {}), ...(patient.firstName ? { given: [patient.firstName] } : {}) }] }
        : {}),
      ...(patient.dateOfBirth ? { birthDate: patient.dateOfBirth } : {}),
      ...(patient.sex && GENDER[patient.sex] ? { gender: GENDER[patient.sex] } : {}),
    },
  });
  const start = times.unitNotified ?? times.atPatient;
  const end = preArrival ? undefined : times.transferOfCare ?? times.atDestination;
  const alert = disposition.preArrivalAlert ? PRE_ARRIVAL_ALERT[disposition.preArrivalAlert] : undefined;
  entries.push({
    fullUrl: encounterRef,
    resource: {
      resourceType: 'Encounter',
      status: preArrival ? 'in-progress' : 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER', display: 'emergency' },
      identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${epcr.id}` }],
      subject: { reference: patientRef },
      ...(start || end ? { period: { ...(start ? { start } : {}), ...(end ? { end } : {}) } } : {}),
      ...(epcr.situation?.chiefComplaint ? { reasonCode: [{ text: epcr.situation.chiefComplaint }] } : {}),
      ...(alert ? { priority: { coding: [{ system: 'urn:nemsis:eDisposition.24', code: disposition.preArrivalAlert }], text: `Pre-arrival alert: ${alert}` } } : {}),
      ...(disposition.destinationCode || disposition.destinationName
        ? {
          hospitalization: {
            destination: {
              ...(disposition.destinationCode ? { identifier: { value: disposition.destinationCode } } : {}),
              ...(disposition.destinationName ? { display: disposition.destinationName } : {}),
            },
          },
        }
        : {}),
    },
  });

  const vital = latestVitals(epcr.vitals);
  if (vital) {
    const observation = (code: string, display: string, category: string, body: Record<string, unknown>) => ({
      fullUrl: `urn:uuid:${deterministicId('fhir-observation', epcr.tenantId, epcr.id, vital.id, code)}`,
      resource: {
        resourceType: 'Observation',
        status: preArrival ? 'preliminary' : 'final',
        category: [{ coding: [{ system: CATEGORY, code: category }] }],
        code: { coding: [{ system: LOINC, code, display }] },
        subject: { reference: patientRef },
        encounter: { reference: encounterRef },
        effectiveDateTime: vital.takenAt,
        ...body,
      },
    });
    if (vital.systolic !== undefined || vital.diastolic !== undefined) {
      const mmHg = { unit: 'mmHg', ucum: 'mm[Hg]' };
      entries.push(observation('85354-9', 'Blood pressure panel with all children optional', 'vital-signs', {
        component: [
          ...(vital.systolic !== undefined ? [{ code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] }, valueQuantity: quantity(vital.systolic, mmHg) }] : []),
          ...(vital.diastolic !== undefined ? [{ code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }] }, valueQuantity: quantity(vital.diastolic, mmHg) }] : []),
        ],
      }));
    }
    for (const measure of MEASURES) {
      const value = vital[measure.key];
      if (typeof value !== 'number') continue;
      entries.push(observation(measure.loinc, measure.display, measure.category ?? 'vital-signs', { valueQuantity: quantity(value, measure) }));
    }
    if (vital.gcsEye !== undefined && vital.gcsVerbal !== undefined && vital.gcsMotor !== undefined) {
      entries.push(observation('9269-2', 'Glasgow coma score total', 'vital-signs', {
        valueQuantity: quantity(vital.gcsEye + vital.gcsVerbal + vital.gcsMotor, { unit: '{score}', ucum: '{score}' }),
      }));
    }
  }

  return {
    resourceType: 'Bundle',
    id: deterministicId(preArrival ? 'fhir-bundle-pre-arrival' : 'fhir-bundle', epcr.tenantId, epcr.id),
    meta: { tag: [{ system: 'urn:fieldsync:notice', code: preArrival ? 'pre-arrival' : 'pcr-notice' }] },
    type: 'collection',
    timestamp,
    entry: entries,
  };
}
