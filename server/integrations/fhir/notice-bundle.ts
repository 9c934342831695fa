/**
 * The hospital notice as a FHIR R4 message Bundle (docs/hooks.md, "Hospital notices").
 *
 * Why a `message` Bundle: a pre-arrival notice is an event pushed to a receiver that did not ask
 * for it, and FHIR messaging is the R4 paradigm for exactly that: the MessageHeader names the
 * event (pre-arrival alert or completed PCR), who sends it and for which destination, and points
 * at its focus (the Encounter and the Composition), so an ED system can route it without opening
 * the clinical content. A `collection` carries no event or sender; a `transaction` would ask the
 * receiver to write our resources into its own server as they are, which no ED lets an ambulance
 * service do; a `document` Bundle is for a signed, attested record, which the pre-arrival alert
 * is not.
 *
 * What an emergency department needs, all in the one Bundle: the Patient; the Encounter with the
 * ambulance (a Location of physical type vehicle, with the unit's callback number as telecom) and
 * the destination (planned, with the ETA as its period start, or arrived); every vital set as
 * vital-signs Observations; MedicationAdministration (RxNorm, dose and route); Procedure (SNOMED
 * CT); Condition for the primary and secondary impressions (ICD-10-CM); AllergyIntolerance; and a
 * Composition (LOINC 67796-3, the NEMSIS PCR document type) whose sections hold the crew's
 * narrative (eNarrative.01) as text and list the entries, so a person reading the notice reads
 * the crew's own words and a system finds every resource from one place. The narrative is not
 * put in Encounter.text: that is the resource's generated summary, not authored clinical content.
 *
 * Every code is the one the ePCR holds (RxNorm, SNOMED CT, ICD-10-CM as NEMSIS's lists give them,
 * NEMSIS code-list values under `urn:nemsis:<element>`), with the list's label as display; words
 * a person typed beside a code are the CodeableConcept's text, never a code.
 */
import type {
  AllergyIntolerance, Bundle, BundleEntry, CodeableConcept, Media, Coding, Composition, CompositionSection, Condition, ContactPoint,
  Encounter, EncounterLocation, Location, MedicationAdministration, MedicationAdministrationDosage, MessageHeader, Observation, ObservationComponent,
  Organization, Patient, Procedure, Quantity, Reference, Resource,
} from '@medplum/fhirtypes';
import { codeLabel, codeList, codeOf, pertinentNegativesOf } from '../../../shared/nemsis/codes.ts';
import { vocabularyEntry, vocabularyLabel, type VocabularyName } from '../../../shared/nemsis/vocabularies.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { deterministicId } from '../../hooks/ids.ts';
import {
  BLOOD_PRESSURE, DOCUMENT, DOSE_UNITS, GCS, nemsisSystem, PROCEDURE_OUTCOME, SYSTEM, VITAL_QUANTITIES, type LoincQuantity,
} from './terminology.ts';

type Vital = NonNullable<Epcr['vitals']>[number];
type Medication = NonNullable<Epcr['medications']>[number];
type ProcedureItem = NonNullable<Epcr['procedures']>[number];

/**
 * `pcr`: the full report after it is locked. `pre-arrival`: the alert sent while the patient is on
 * the way (ems-domain §6), so the emergency department can prepare: the encounter is in progress,
 * the observations preliminary, the destination planned with the ETA. Both describe the same
 * patient and encounter (same resource ids), so a receiver updates what the alert created.
 */
export type HospitalNoticeKind = 'pcr' | 'pre-arrival';

export interface NoticeSender {
  /** The agency's name (dAgency.03) and state-assigned number (dAgency.02), when its admin has set them. */
  name?: string;
  agencyNumber?: string;
  /** The number the ED calls to reach the crew (agency setting `callbackPhone`). */
  callbackPhone?: string;
}

export interface NoticeEta {
  /** When the unit is expected at the destination (an offset date-time). */
  at: string;
  /** How it was found, in words, for the person reading the notice. */
  basis: string;
}

export interface NoticeOptions {
  /** When the notice was built, in the agency's offset. */
  timestamp: string;
  kind?: HospitalNoticeKind;
  sender?: NoticeSender;
  /** Pre-arrival only: the estimated arrival. */
  eta?: NoticeEta;
  /** Images the notice carries (the ECG strip the crew photographed, issue 18), as FHIR Media with the bytes inline. */
  images?: readonly NoticeImage[];
}

export interface NoticeImage {
  sha256: string;
  contentType: string;
  /** The image, base64 (FHIR Attachment.data). */
  data: string;
  size: number;
  capturedAt: string;
  annotation?: string;
}

/** The event codes of the MessageHeader (no HL7 code system names EMS notices: our own URN). */
export const NOTICE_EVENT_SYSTEM = 'urn:fieldsync:fhir:message-event';

/** ePatient.25 (by its XSD labels) → FHIR administrative gender. */
const GENDER: Readonly<Record<string, Patient['gender']>> = Object.fromEntries(
  ([['Female', 'female'], ['Male', 'male'], ['Unknown', 'unknown']] as const).map(([label, gender]) => [codeOf('ePatient.25', label), gender]),
);

/** eDisposition.24 pre-arrival alert codes ("No" is no alert) → the team to ready: the XSD label after "Yes-". */
const PRE_ARRIVAL_ALERT: Readonly<Record<string, string>> = Object.fromEntries(
  codeList('eDisposition.24').filter(([, label]) => label.startsWith('Yes-')).map(([code, label]) => [code, label.slice('Yes-'.length)]),
);

/** eHistory.06 takes RxNorm codes or Z88.x (as the NEMSIS export splits them); other allergy codes are SNOMED CT (eHistory.07). */
const ICD10_ALLERGY = /^Z88\.[0-9]$/;
const RXNORM_SHAPE = /^[a-zA-Z0-9]{2,7}$/;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.map(text).filter((v): v is string => v !== undefined) : [];
}

function nemsisConcept(element: string, code: string | undefined): CodeableConcept | undefined {
  if (!code) return undefined;
  const display = codeLabel(element, code);
  return { coding: [{ system: nemsisSystem(element), code, ...(display ? { display } : {}) }], ...(display ? { text: display } : {}) };
}

function vocabularyConcept(system: string, vocabulary: VocabularyName, code: string | undefined, words: string | undefined): CodeableConcept | undefined {
  if (!code && !words) return undefined;
  const display = code ? vocabularyLabel(vocabulary, code) : undefined;
  return {
    ...(code ? { coding: [{ system, code, ...(display ? { display } : {}) }] } : {}),
    ...(words ?? display ? { text: words ?? display } : {}),
  };
}

/** eMedications.02 / eProcedures.02 "Yes": given or done before this unit's care. */
const PRIOR_TO_UNIT_YES = codeOf('eMedications.02', 'Yes');

/** A pertinent negative (NEMSIS PN attribute: why a medication was not given, a procedure not done) as a status reason, or undefined. */
function pertinentNegative(element: string, code: unknown): CodeableConcept | undefined {
  if (typeof code !== 'string' || code === '') return undefined;
  const label = pertinentNegativesOf(element).find(([c]) => c === code)?.[1];
  return { coding: [{ system: 'urn:nemsis:PN', code, ...(label ? { display: label } : {}) }], text: label ?? code };
}

function xhtml(paragraphs: readonly string[]): string {
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<div xmlns="http://www.w3.org/1999/xhtml">${paragraphs.map((p) => `<p>${escape(p)}</p>`).join('')}</div>`;
}

function loinc(code: string, display: string): Coding {
  return { system: SYSTEM.loinc, code, display };
}

function ucum(value: number, unit: string): Quantity {
  return { value, unit, system: SYSTEM.ucum, code: unit };
}

export function hospitalNoticeBundle(epcr: Epcr, options: NoticeOptions): Bundle {
  const kind = options.kind ?? 'pcr';
  const preArrival = kind === 'pre-arrival';
  const id = (...what: string[]) => deterministicId(`fhir-${what[0]}`, epcr.tenantId, epcr.id, ...what.slice(1));
  const urn = (...what: string[]) => `urn:uuid:${id(...what)}`;
  const entries: BundleEntry[] = [];
  const add = <R extends Resource>(fullUrl: string, resource: R): Reference<R> => {
    entries.push({ fullUrl, resource });
    return { reference: fullUrl } as Reference<R>;
  };

  const patient = epcr.patient ?? {};
  const situation = epcr.situation ?? {};
  const history = epcr.history ?? {};
  const disposition = epcr.disposition ?? {};
  const times = epcr.times ?? {};
  const response = epcr.response ?? {};
  const sender = options.sender ?? {};
  const callback = text(sender.callbackPhone);
  const callbackTelecom: ContactPoint[] = callback ? [{ system: 'phone', value: callback, use: 'work' }] : [];

  // --- who sends, who is on the way, where to ------------------------------------------------
  const agencyRef = add(urn('organization'), {
    resourceType: 'Organization',
    active: true,
    ...(sender.agencyNumber ? { identifier: [{ system: nemsisSystem('dAgency.02'), value: sender.agencyNumber }] } : {}),
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }], text: 'EMS agency' }],
    name: text(sender.name) ?? 'EMS agency',
    ...(callbackTelecom.length ? { telecom: callbackTelecom } : {}),
  } satisfies Organization);

  // The ambulance as a Location of physical type "vehicle" (the R4 example Location/amb does the
  // same): the unit's callback number is its telecom, which is where an ED looks for how to reach
  // a location, without an extension a receiver would have to know.
  const unitName = text(response.callSign) ?? text(response.vehicleNumber) ?? text(epcr.unitId) ?? 'EMS unit';
  const unitRef = add(urn('unit-location'), {
    resourceType: 'Location',
    status: 'active',
    mode: 'instance',
    name: unitName,
    ...(text(response.vehicleNumber) ? { identifier: [{ system: nemsisSystem('eResponse.13'), value: text(response.vehicleNumber)! }] } : {}),
    type: [{ coding: [{ system: SYSTEM.roleCode, code: 'AMB', display: 'Ambulance' }] }],
    physicalType: { coding: [{ system: SYSTEM.locationPhysicalType, code: 've', display: 'Vehicle' }] },
    ...(callbackTelecom.length ? { telecom: callbackTelecom } : {}),
    managingOrganization: agencyRef,
  } satisfies Location);

  const destinationCode = text(disposition.destinationCode);
  const destinationName = text(disposition.destinationName);
  const destinationRef = destinationCode || destinationName
    ? add(urn('destination-location'), {
      resourceType: 'Location',
      status: 'active',
      mode: 'instance',
      ...(destinationName ? { name: destinationName } : {}),
      ...(destinationCode ? { identifier: [{ system: nemsisSystem('eDisposition.02'), value: destinationCode }] } : {}),
      ...(disposition.destinationType ? { type: [nemsisConcept('eDisposition.21', disposition.destinationType)!] } : {}),
    } satisfies Location)
    : undefined;

  // --- the patient and the encounter ---------------------------------------------------------
  const patientRef = add(urn('patient'), {
    resourceType: 'Patient',
    ...(text(patient.lastName) || text(patient.firstName)
      ? { name: [{ ...(text(patient.lastName) ? { family: text(patient.lastName)! } : {}), ...(text(patient.firstName) ? { given: [text(patient.firstName)!] } : {}) }] }
      : {}),
    ...(patient.dateOfBirth ? { birthDate: patient.dateOfBirth } : {}),
    ...(patient.sex && GENDER[patient.sex] ? { gender: GENDER[patient.sex] } : {}),
    ...(text(patient.phone) ? { telecom: [{ system: 'phone', value: text(patient.phone)! }] } : {}),
  } satisfies Patient);

  const encounterUrl = urn('encounter');
  const encounterRef = { reference: encounterUrl } as Reference<Encounter>;

  const impressions: { code: string; primary: boolean }[] = [
    ...(text(situation.primaryImpression) ? [{ code: text(situation.primaryImpression)!, primary: true }] : []),
    ...list(situation.secondaryImpressions).filter((c) => c !== text(situation.primaryImpression)).map((code) => ({ code, primary: false })),
  ];
  const conditionRefs: { ref: Reference<Condition>; primary: boolean }[] = impressions.map(({ code, primary }, i) => ({
    primary,
    ref: add(urn('condition', code), {
      resourceType: 'Condition',
      clinicalStatus: { coding: [{ system: SYSTEM.conditionClinical, code: 'active' }] },
      // A field impression is the crew's working diagnosis, not a confirmed one.
      verificationStatus: { coding: [{ system: SYSTEM.conditionVerification, code: 'provisional' }] },
      category: [{ coding: [{ system: SYSTEM.conditionCategory, code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }] }],
      code: vocabularyConcept(SYSTEM.icd10cm, 'impression', code, undefined)!,
      subject: patientRef,
      encounter: encounterRef,
      note: [{ text: primary ? 'EMS primary impression (eSituation.11)' : `EMS secondary impression (eSituation.12) #${i}` }],
      ...(situation.onset ? { onsetDateTime: situation.onset } : {}),
    } satisfies Condition),
  }));

  const start = text(times.unitNotified) ?? text(times.atPatient);
  const end = preArrival ? undefined : text(times.transferOfCare) ?? text(times.atDestination);
  const alert = disposition.preArrivalAlert ? PRE_ARRIVAL_ALERT[disposition.preArrivalAlert] : undefined;
  const arrived = text(times.atDestination);
  const locations: EncounterLocation[] = [{
    location: { ...unitRef, display: unitName },
    status: preArrival ? 'active' : 'completed',
    ...(text(times.atPatient) || arrived ? { period: { ...(text(times.atPatient) ? { start: text(times.atPatient)! } : {}), ...(!preArrival && arrived ? { end: arrived } : {}) } } : {}),
  }];
  if (destinationRef) {
    // The ETA: a destination the patient is planned to reach, from the expected time (R4
    // Encounter.location.status "planned"; period is when the patient is there).
    const eta = preArrival ? options.eta : undefined;
    locations.push({
      location: { ...destinationRef, ...(destinationName ? { display: destinationName } : {}) },
      status: preArrival ? 'planned' : 'active',
      ...(eta ? { period: { start: eta.at } } : !preArrival && arrived ? { period: { start: arrived } } : {}),
    });
  }
  add(encounterUrl, {
    resourceType: 'Encounter',
    status: preArrival ? 'in-progress' : 'finished',
    class: { system: SYSTEM.actCode, code: 'EMER', display: 'emergency' },
    identifier: [
      { system: SYSTEM.urn, value: `urn:uuid:${epcr.id}` },
      ...(text(epcr.record?.pcrNumber) ? [{ system: nemsisSystem('eRecord.01'), value: text(epcr.record?.pcrNumber)! }] : []),
    ],
    ...(alert ? { priority: { coding: [{ system: nemsisSystem('eDisposition.24'), code: disposition.preArrivalAlert! }], text: `Pre-arrival alert: ${alert}` } } : {}),
    subject: patientRef,
    ...(start || end ? { period: { ...(start ? { start } : {}), ...(end ? { end } : {}) } } : {}),
    ...(text(situation.chiefComplaint) ? { reasonCode: [{ text: text(situation.chiefComplaint)! }] } : {}),
    // `use` as text only: no diagnosis-role code means "the crew's field impression" (AD would claim an admission diagnosis).
    ...(conditionRefs.length
      ? { diagnosis: conditionRefs.map(({ ref, primary }, i) => ({ condition: ref, use: { text: primary ? 'EMS primary impression' : 'EMS secondary impression' }, rank: i + 1 })) }
      : {}),
    ...(destinationRef ? { hospitalization: { destination: { ...destinationRef, ...(destinationName ? { display: destinationName } : {}) } } } : {}),
    location: locations,
    serviceProvider: agencyRef,
  } satisfies Encounter);

  // --- every vital set -----------------------------------------------------------------------
  const vitalRefs: Reference[] = [];
  // A vital set without a time (an imported report may have one) comes last.
  const timeOf = (at: string | undefined) => (at === undefined || Number.isNaN(Date.parse(at)) ? Number.MAX_SAFE_INTEGER : Date.parse(at));
  const vitals = [...(Array.isArray(epcr.vitals) ? epcr.vitals : [])].sort((a, b) => timeOf(a.takenAt) - timeOf(b.takenAt));
  for (const vital of vitals) {
    const observation = (code: string, category: LoincQuantity['category'], body: Partial<Observation> & Pick<Observation, 'code'>) => {
      vitalRefs.push(add(urn('observation', vital.id, code), {
        resourceType: 'Observation',
        status: preArrival ? 'preliminary' : 'final',
        category: [{ coding: [{ system: SYSTEM.observationCategory, code: category }] }],
        subject: patientRef,
        encounter: encounterRef,
        ...(vital.takenAt ? { effectiveDateTime: vital.takenAt } : {}),
        performer: [agencyRef],
        ...(vital.priorToUnit === codeOf('eVitals.02', 'Yes') ? { note: [{ text: 'Taken before this unit\'s care (eVitals.02)' }] } : {}),
        ...body,
      } satisfies Observation));
    };
    if (typeof vital.systolic === 'number' || typeof vital.diastolic === 'number') {
      // The R4 bp profile requires both components; one not taken is said so (dataAbsentReason).
      const component = (which: 'systolic' | 'diastolic'): ObservationComponent => {
        const value = vital[which];
        return {
          code: { coding: [loinc(BLOOD_PRESSURE[which].loinc, BLOOD_PRESSURE[which].display)] },
          ...(typeof value === 'number'
            ? { valueQuantity: ucum(value, BLOOD_PRESSURE.ucum) }
            : { dataAbsentReason: { coding: [{ system: SYSTEM.dataAbsentReason, code: 'not-performed' }] } }),
        };
      };
      observation(BLOOD_PRESSURE.panel.loinc, 'vital-signs', {
        code: { coding: [loinc(BLOOD_PRESSURE.panel.loinc, BLOOD_PRESSURE.panel.display)], text: 'Blood pressure' },
        component: [component('systolic'), component('diastolic')],
      });
    }
    for (const [key, measure] of Object.entries(VITAL_QUANTITIES) as [keyof typeof VITAL_QUANTITIES, LoincQuantity][]) {
      const value = vital[key];
      if (typeof value !== 'number') continue;
      observation(measure.loinc, measure.category, {
        code: { coding: [loinc(measure.loinc, measure.display), ...(measure.alsoCoded ?? []).map((c) => loinc(c.code, c.display))], text: measure.display },
        valueQuantity: ucum(value, measure.ucum),
      });
    }
    const parts = { eye: vital.gcsEye, verbal: vital.gcsVerbal, motor: vital.gcsMotor };
    if (Object.values(parts).some((v) => typeof v === 'number')) {
      const complete = Object.values(parts).every((v) => typeof v === 'number');
      observation(GCS.total.loinc, 'survey', {
        code: { coding: [loinc(GCS.total.loinc, GCS.total.display)], text: 'GCS' },
        // A total only from all three parts; otherwise the parts alone, and the total said absent.
        ...(complete
          ? { valueQuantity: ucum(vital.gcsEye! + vital.gcsVerbal! + vital.gcsMotor!, GCS.ucum) }
          : { dataAbsentReason: { coding: [{ system: SYSTEM.dataAbsentReason, code: 'not-performed' }], text: 'Not every part of the GCS was assessed' } }),
        component: (['eye', 'verbal', 'motor'] as const).filter((p) => typeof parts[p] === 'number').map((p) => ({
          code: { coding: [loinc(GCS[p].loinc, GCS[p].display)] },
          valueQuantity: ucum(parts[p]!, GCS.ucum),
        })),
      });
    }
    if (text(vital.avpu)) {
      observation('avpu', 'survey', {
        // AVPU has no LOINC code in the vital-signs set; the NEMSIS code says it (eVitals.26).
        code: { ...nemsisConcept('eVitals.26', vital.avpu)!, text: `Level of responsiveness (AVPU): ${codeLabel('eVitals.26', vital.avpu!) ?? vital.avpu}` },
        valueCodeableConcept: nemsisConcept('eVitals.26', vital.avpu)!,
      });
    }
  }

  // --- medications given ---------------------------------------------------------------------
  const medicationRefs = (Array.isArray(epcr.medications) ? epcr.medications : []).map((m: Medication) => {
    const words = text(m.medicationText);
    const code = text(m.medication);
    const isRxNorm = code !== undefined && vocabularyEntry('medication', code)?.codeType !== 'SNOMED-CT';
    const route = nemsisConcept('eMedications.04', text(m.route));
    const unit = m.doseUnit ? DOSE_UNITS[m.doseUnit] : undefined;
    const unitLabel = m.doseUnit ? codeLabel('eMedications.06', m.doseUnit) : undefined;
    const amount: Quantity | undefined = typeof m.dose === 'number'
      ? { value: m.dose, ...(unit ? { unit: unit.ucum, system: SYSTEM.ucum, code: unit.ucum } : unitLabel ? { unit: unitLabel } : {}) }
      : undefined;
    // R4 mad-1: a dosage states a dose or a rate; a route alone goes into the dosage's text.
    const dosage: MedicationAdministrationDosage | undefined = amount
      ? { ...(route ? { route } : {}), ...(unit?.rate ? { rateQuantity: amount } : { dose: amount }), text: `${m.dose} ${unitLabel ?? ''}${route?.text ? ` ${route.text}` : ''}`.replace(/\s+/g, ' ').trim() }
      : undefined;
    // The patient's response (eMedications.07) has no element of its own in R4: a note says it.
    const responseLabel = text(m.response) ? codeLabel('eMedications.07', m.response!) ?? m.response : undefined;
    const notGiven = pertinentNegative('eMedications.03', m.pertinentNegative);
    const notes = [
      ...(!amount && route && !notGiven ? [`Route: ${route.text ?? text(m.route)}; dose not recorded`] : []),
      ...(responseLabel ? [`Response to medication: ${responseLabel}`] : []),
      ...(m.priorToUnit === PRIOR_TO_UNIT_YES ? ['Given before this unit\'s care (eMedications.02)'] : []),
    ];
    return add(urn('medication', m.id), {
      resourceType: 'MedicationAdministration',
      // A medication recorded with a pertinent negative was NOT given: the ED must not read it as given.
      status: notGiven ? 'not-done' : 'completed',
      ...(notGiven ? { statusReason: [notGiven] } : {}),
      medicationCodeableConcept: vocabularyConcept(isRxNorm ? SYSTEM.rxnorm : SYSTEM.snomed, 'medication', code, words) ?? { text: 'Medication not recorded' },
      subject: patientRef,
      context: encounterRef,
      // effective[x] is required; a medication without a time (imported, not given) says the time is unknown.
      ...(m.givenAt ? { effectiveDateTime: m.givenAt } : { effectivePeriod: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] } }),
      // No performer: R4 allows only a person or device here; who gave it is the agency's (Composition.author).
      ...(dosage && !notGiven ? { dosage } : {}),
      ...(notes.length ? { note: notes.map((note) => ({ text: note })) } : {}),
    } satisfies MedicationAdministration);
  });

  // --- procedures ----------------------------------------------------------------------------
  const procedureRefs = (Array.isArray(epcr.procedures) ? epcr.procedures : []).map((p: ProcedureItem) => {
    const notDone = pertinentNegative('eProcedures.03', p.pertinentNegative);
    const outcome = p.successful && !notDone ? PROCEDURE_OUTCOME[p.successful] : undefined;
    const notes = [
      ...(typeof p.attempts === 'number' ? [`Attempts: ${p.attempts}`] : []),
      ...(p.priorToUnit === PRIOR_TO_UNIT_YES ? ['Done before this unit\'s care (eProcedures.02)'] : []),
    ];
    return add(urn('procedure', p.id), {
      resourceType: 'Procedure',
      // A procedure recorded with a pertinent negative was NOT done.
      status: notDone ? 'not-done' : 'completed',
      ...(notDone ? { statusReason: notDone } : {}),
      code: vocabularyConcept(SYSTEM.snomed, 'procedure', text(p.procedure), text(p.procedureText)) ?? { text: 'Procedure not recorded' },
      subject: patientRef,
      encounter: encounterRef,
      ...(p.performedAt ? { performedDateTime: p.performedAt } : {}),
      performer: [{ actor: agencyRef }],
      ...(outcome ? { outcome: { coding: [{ system: SYSTEM.snomed, ...outcome }], text: outcome.display } } : {}),
      ...(notes.length ? { note: notes.map((note) => ({ text: note })) } : {}),
    } satisfies Procedure);
  });

  // --- allergies -----------------------------------------------------------------------------
  const allergyCodes = list(history.allergies);
  // "No Known Drug Allergy" (eHistory.06 pertinent negative) is what an ED wants to know as much
  // as an allergy: SNOMED CT 409137002, a code of R4's AllergyIntolerance code value set. The other
  // negatives (refused, unable to complete, unresponsive) mean nobody knows: said in the section text.
  const allergyNegative = allergyCodes.length === 0 ? pertinentNegative('eHistory.06', history.allergiesPertinentNegative) : undefined;
  const noKnownDrugAllergy = allergyNegative?.coding?.[0]?.display === 'No Known Drug Allergy';
  const allergyRefs = [
    ...(noKnownDrugAllergy ? [add(urn('allergy', 'nkda'), {
      resourceType: 'AllergyIntolerance',
      clinicalStatus: { coding: [{ system: SYSTEM.allergyClinical, code: 'active' }] },
      verificationStatus: { coding: [{ system: SYSTEM.allergyVerification, code: 'unconfirmed' }] },
      category: ['medication' as const],
      code: { coding: [{ system: SYSTEM.snomed, code: '409137002', display: 'No known drug allergy' }, ...allergyNegative!.coding!], text: 'No known drug allergy' },
      patient: patientRef,
      encounter: encounterRef,
    } satisfies AllergyIntolerance)] : []),
    ...allergyCodes.map((code) => {
      const [system, vocabulary]: [string, VocabularyName] = ICD10_ALLERGY.test(code)
        ? [SYSTEM.icd10cm, 'medicationAllergy']
        : RXNORM_SHAPE.test(code) ? [SYSTEM.rxnorm, 'medicationAllergy'] : [SYSTEM.snomed, 'environmentalFoodAllergy'];
      const display = vocabularyLabel(vocabulary, code) ?? (system === SYSTEM.rxnorm ? vocabularyLabel('medication', code) : undefined);
      return add(urn('allergy', code), {
        resourceType: 'AllergyIntolerance',
        clinicalStatus: { coding: [{ system: SYSTEM.allergyClinical, code: 'active' }] },
        // As the patient or family reported it to the crew.
        verificationStatus: { coding: [{ system: SYSTEM.allergyVerification, code: 'unconfirmed' }] },
        ...(system !== SYSTEM.snomed ? { category: ['medication' as const] } : {}),
        code: { coding: [{ system, code, ...(display ? { display } : {}) }], ...(display ? { text: display } : {}) },
        patient: patientRef,
        encounter: encounterRef,
      } satisfies AllergyIntolerance);
    }),
    ...list(history.allergiesText).map((words, i) => add(urn('allergy-text', String(i)), {
      resourceType: 'AllergyIntolerance',
      clinicalStatus: { coding: [{ system: SYSTEM.allergyClinical, code: 'active' }] },
      verificationStatus: { coding: [{ system: SYSTEM.allergyVerification, code: 'unconfirmed' }] },
      code: { text: words },
      patient: patientRef,
      encounter: encounterRef,
    } satisfies AllergyIntolerance)),
  ];

  // --- images: the ECG strip as Media (R4), bytes inline, hashed as FHIR wants (base64 SHA-1 is R4's; the SHA-256 is the identifier) ---
  const imageRefs: Reference[] = (options.images ?? []).map((image) => add(urn('media', image.sha256), {
    resourceType: 'Media',
    status: 'completed',
    identifier: [{ system: 'urn:fieldsync:attachment:sha256', value: image.sha256 }],
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/media-type', code: 'image', display: 'Image' }] },
    modality: { coding: [loinc('11524-6', 'EKG study')], text: 'ECG strip' },
    subject: patientRef,
    encounter: encounterRef,
    createdDateTime: image.capturedAt,
    ...(image.annotation ? { note: [{ text: image.annotation }] } : {}),
    content: { contentType: image.contentType, data: image.data, size: image.size, title: `ECG ${image.capturedAt}`, creation: image.capturedAt },
  } satisfies Media));

  // --- the composition: narrative, ETA, callback, and an index of the rest -------------------
  const narrative = text(epcr.narrative?.text);
  const summary: string[] = [
    `${preArrival ? 'Pre-arrival notice' : 'Patient care report'} from ${unitName}${sender.name ? ` (${sender.name})` : ''}.`,
    ...(preArrival && options.eta ? [`ETA ${options.eta.at} (${options.eta.basis}).`] : preArrival ? ['ETA not known: call the unit.'] : []),
    ...(!preArrival && arrived ? [`Arrived ${arrived}.`] : []),
    callback ? `Unit callback: ${callback}.` : 'No callback number is configured for this agency.',
    ...(alert ? [`Pre-arrival alert: ${alert}.`] : []),
    ...(text(situation.chiefComplaint) ? [`Chief complaint: ${text(situation.chiefComplaint)}.`] : []),
  ];
  const section = (title: string, code: { loinc: string; display: string } | undefined, refs: Reference[], lines: string[]): CompositionSection => ({
    title,
    ...(code ? { code: { coding: [loinc(code.loinc, code.display)] } } : {}),
    text: { status: 'generated', div: xhtml(lines.length ? lines : ['None recorded.']) },
    ...(refs.length ? { entry: refs } : { emptyReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'nilknown', display: 'Nil Known' }] } }),
  });
  const compositionRef = add(urn('composition', kind), {
    resourceType: 'Composition',
    status: preArrival ? 'preliminary' : 'final',
    type: { coding: [loinc(DOCUMENT.type.loinc, DOCUMENT.type.display)] },
    subject: patientRef,
    encounter: encounterRef,
    date: options.timestamp,
    author: [agencyRef],
    title: preArrival ? `EMS pre-arrival notice: ${unitName}` : `EMS patient care report: ${unitName}`,
    section: [
      { title: 'Pre-arrival', text: { status: 'generated', div: xhtml(summary) } },
      { title: 'Narrative', text: { status: 'additional', div: xhtml(narrative ? narrative.split(/\r?\n/).filter((l) => l.trim() !== '') : ['No narrative written yet.']) } },
      section('Impression', DOCUMENT.problems, conditionRefs.map((c) => c.ref), impressions.map(({ code, primary }) => `${primary ? 'Primary' : 'Secondary'}: ${code} ${vocabularyLabel('impression', code) ?? ''}`.trim())),
      ...arrestSection(epcr),
      section('Vital signs', DOCUMENT.vitalSigns, vitalRefs, vitals.map(describeVitals)),
      ...(imageRefs.length ? [section('ECG', { loinc: '11524-6', display: 'EKG study' }, imageRefs, (options.images ?? []).map((i) => `ECG strip captured ${i.capturedAt}${i.annotation ? `: ${i.annotation}` : ''}.`))] : []),
      section('Medications administered', DOCUMENT.medicationsAdministered, medicationRefs, (Array.isArray(epcr.medications) ? epcr.medications : []).map(describeMedication)),
      section('Procedures', DOCUMENT.procedures, procedureRefs, (Array.isArray(epcr.procedures) ? epcr.procedures : []).map((p) => `${p.performedAt}: ${text(p.procedureText) ?? vocabularyLabel('procedure', p.procedure) ?? p.procedure}${p.successful ? ` (successful: ${codeLabel('eProcedures.06', p.successful) ?? p.successful})` : ''}`)),
      section('Allergies', DOCUMENT.allergies, allergyRefs, [
        ...(allergyNegative ? [noKnownDrugAllergy ? 'No known drug allergy.' : `Allergies not obtained: ${allergyNegative.text}.`] : []),
        ...allergyCodes.map((c) => vocabularyLabel('medicationAllergy', c) ?? vocabularyLabel('environmentalFoodAllergy', c) ?? vocabularyLabel('medication', c) ?? c), ...list(history.allergiesText)]),
    ],
  } satisfies Composition);

  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    eventCoding: { system: NOTICE_EVENT_SYSTEM, code: preArrival ? 'ems-pre-arrival' : 'ems-patient-care-report', display: preArrival ? 'EMS pre-arrival notice' : 'EMS patient care report' },
    destination: [{
      endpoint: `urn:fieldsync:hospital:${destinationCode ?? 'unknown'}`,
      ...(destinationName ? { name: destinationName } : {}),
    }],
    sender: agencyRef,
    source: {
      endpoint: `urn:fieldsync:agency:${epcr.tenantId}`,
      ...(sender.name ? { name: sender.name } : {}),
      software: 'fieldsync',
      ...(callback ? { contact: { system: 'phone', value: callback } } : {}),
    },
    focus: [encounterRef, compositionRef],
  };
  // A message Bundle starts with its MessageHeader (R4 bdl-9 / messaging rules).
  entries.unshift({ fullUrl: urn('message-header', kind), resource: header });

  return {
    resourceType: 'Bundle',
    id: id(preArrival ? 'bundle-pre-arrival' : 'bundle'),
    meta: { tag: [{ system: 'urn:fieldsync:notice', code: preArrival ? 'pre-arrival' : 'pcr-notice' }] },
    identifier: { system: SYSTEM.urn, value: `urn:uuid:${id(preArrival ? 'bundle-pre-arrival' : 'bundle')}` },
    type: 'message',
    timestamp: options.timestamp,
    entry: entries,
  };
}

/**
 * The cardiac arrest (eArrest), as text: what an ED readies for (ROSC or ongoing CPR, the first
 * rhythm, when). Only when the crew recorded an arrest; NEMSIS codes with their labels.
 */
function arrestSection(epcr: Epcr): CompositionSection[] {
  const arrest = epcr.arrest;
  const label = (element: string, code: unknown) => (typeof code === 'string' && code !== '' ? codeLabel(element, code) ?? code : undefined);
  const labels = (element: string, codes: unknown) => list(codes).map((c) => label(element, c)!).join(', ');
  const yes = label('eArrest.01', arrest?.cardiacArrest);
  if (!arrest || !yes || yes === 'No') return [];
  const lines = [
    `Cardiac arrest: ${yes}${arrest.arrestAt ? ` at ${arrest.arrestAt}` : ''}.`,
    ...(label('eArrest.02', arrest.etiology) ? [`Etiology: ${label('eArrest.02', arrest.etiology)}.`] : []),
    ...(labels('eArrest.04', arrest.witnessedBy) ? [`Witnessed by: ${labels('eArrest.04', arrest.witnessedBy)}.`] : []),
    ...(label('eArrest.11', arrest.firstRhythm) ? [`First monitored rhythm: ${label('eArrest.11', arrest.firstRhythm)}.`] : []),
    ...(labels('eArrest.12', arrest.rosc) ? [`ROSC: ${labels('eArrest.12', arrest.rosc)}.`] : []),
    ...(label('eArrest.18', arrest.endOfEvent) ? [`End of EMS event: ${label('eArrest.18', arrest.endOfEvent)}.`] : []),
  ];
  return [{ title: 'Cardiac arrest', text: { status: 'generated', div: xhtml(lines) } }];
}

function describeVitals(v: Vital): string {
  const parts = [
    typeof v.systolic === 'number' || typeof v.diastolic === 'number' ? `BP ${v.systolic ?? '-'}/${v.diastolic ?? '-'}` : undefined,
    typeof v.heartRate === 'number' ? `HR ${v.heartRate}` : undefined,
    typeof v.respiratoryRate === 'number' ? `RR ${v.respiratoryRate}` : undefined,
    typeof v.spo2 === 'number' ? `SpO2 ${v.spo2}%` : undefined,
    typeof v.etco2 === 'number' ? `EtCO2 ${v.etco2}` : undefined,
    typeof v.glucose === 'number' ? `glucose ${v.glucose} mg/dL` : undefined,
    typeof v.temperatureC === 'number' ? `temp ${v.temperatureC} °C` : undefined,
    [v.gcsEye, v.gcsVerbal, v.gcsMotor].every((n) => typeof n === 'number') ? `GCS ${v.gcsEye! + v.gcsVerbal! + v.gcsMotor!} (E${v.gcsEye} V${v.gcsVerbal} M${v.gcsMotor})` : undefined,
    typeof v.pain === 'number' ? `pain ${v.pain}/10` : undefined,
    // The rhythm and 12-lead reading (eVitals.03, .05) have no vital-signs LOINC quantity: the ED reads them here.
    list(v.cardiacRhythm).length ? `rhythm ${list(v.cardiacRhythm).map((c) => codeLabel('eVitals.03', c) ?? c).join(', ')}` : undefined,
    list(v.ecgInterpretation).length ? `ECG ${list(v.ecgInterpretation).map((c) => codeLabel('eVitals.05', c) ?? c).join(', ')}` : undefined,
  ].filter((p): p is string => p !== undefined);
  return `${v.takenAt ?? 'time not recorded'}: ${parts.join(', ') || 'no measurements'}`;
}

function describeMedication(m: Medication): string {
  const name = text(m.medicationText) ?? vocabularyLabel('medication', m.medication) ?? m.medication;
  const dose = typeof m.dose === 'number' ? ` ${m.dose} ${m.doseUnit ? codeLabel('eMedications.06', m.doseUnit) ?? '' : ''}` : '';
  const route = m.route ? ` ${codeLabel('eMedications.04', m.route) ?? m.route}` : '';
  const outcome = m.response ? ` (response: ${codeLabel('eMedications.07', m.response) ?? m.response})` : '';
  const notGiven = pertinentNegative('eMedications.03', m.pertinentNegative);
  if (notGiven) return `${m.givenAt}: ${name} NOT given: ${notGiven.text}`;
  return `${m.givenAt}: ${name}${dose}${route}${outcome}`.replace(/\s+/g, ' ');
}
