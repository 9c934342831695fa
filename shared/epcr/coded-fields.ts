/**
 * The ePCR's coded fields: for each (by path name; `[]` for any list item) the NEMSIS element it
 * is exported to, so that the form's pick-lists, the finalize check and the tests take the codes
 * of one element from one place (shared/nemsis, generated from the release).
 *
 * - CODED_FIELDS: the element's XSD enumerates the codes; the form offers exactly those.
 * - VOCABULARY_FIELDS: the XSD only constrains the form (ICD-10-CM, RxNorm, SNOMED CT); the form
 *   offers NEMSIS's Defined/Suggested list to search, takes any code of the element's form, and
 *   keeps a person's words beside the code in `text` (never in place of it).
 */
import { codeLabel, elementName, pertinentNegativesOf } from '../nemsis/codes.ts';
import { vocabularyLabel, vocabularyPattern, type VocabularyName } from '../nemsis/vocabularies.ts';
import type { Epcr } from '../schemas/index.ts';

export const CODED_FIELDS = {
  'response.serviceType': 'eResponse.05',
  'response.unitCapability': 'eResponse.07',
  'response.responseMode': 'eResponse.23',
  'dispatch.reason': 'eDispatch.01',
  'dispatch.emdPerformed': 'eDispatch.02',
  'dispatch.priority': 'eDispatch.05',
  'patient.ageUnits': 'ePatient.16',
  'patient.sex': 'ePatient.25',
  'patient.race[]': 'ePatient.14',
  'situation.possibleInjury': 'eSituation.02',
  'situation.acuity': 'eSituation.13',
  'vitals[].avpu': 'eVitals.26',
  'medications[].route': 'eMedications.04',
  'medications[].doseUnit': 'eMedications.06',
  'medications[].response': 'eMedications.07',
  'medications[].complication': 'eMedications.08',
  'procedures[].successful': 'eProcedures.06',
  'procedures[].response': 'eProcedures.08',
  'disposition.destinationType': 'eDisposition.21',
  'disposition.preArrivalAlert': 'eDisposition.24',
  'disposition.unitDisposition': 'eDisposition.27',
  'disposition.patientEvaluationCare': 'eDisposition.28',
  'disposition.crewDisposition': 'eDisposition.29',
  'disposition.transportDisposition': 'eDisposition.30',
  'payment.primaryMethod': 'ePayment.01',
  'payment.serviceLevel': 'ePayment.50',
  // Issue 16, coverage: the national elements the report holds since schema version 4. A path
  // ending in `[]` holds a list of codes (the element repeats).
  'response.dispatchDelays[]': 'eResponse.08',
  'response.responseDelays[]': 'eResponse.09',
  'response.sceneDelays[]': 'eResponse.10',
  'response.transportDelays[]': 'eResponse.11',
  'response.turnAroundDelays[]': 'eResponse.12',
  'response.responseModeDescriptors[]': 'eResponse.24',
  'crew[].level': 'eCrew.02',
  'crew[].roles[]': 'eCrew.03',
  'scene.firstOnScene': 'eScene.01',
  'scene.massCasualty': 'eScene.07',
  'scene.mciTriage': 'eScene.08',
  'situation.complaintLocation': 'eSituation.07',
  'situation.complaintOrganSystem': 'eSituation.08',
  'situation.transferReason': 'eSituation.20',
  'injury.highRiskCriteria[]': 'eInjury.03',
  'injury.moderateRiskCriteria[]': 'eInjury.04',
  'arrest.cardiacArrest': 'eArrest.01',
  'arrest.etiology': 'eArrest.02',
  'arrest.resuscitationAttempted[]': 'eArrest.03',
  'arrest.witnessedBy[]': 'eArrest.04',
  'arrest.aedPriorToEms': 'eArrest.07',
  'arrest.cprTypes[]': 'eArrest.09',
  'arrest.firstRhythm': 'eArrest.11',
  'arrest.rosc[]': 'eArrest.12',
  'arrest.discontinuedReason': 'eArrest.16',
  'arrest.rhythmAtDestination[]': 'eArrest.17',
  'arrest.endOfEvent': 'eArrest.18',
  'arrest.cprFirstBy': 'eArrest.20',
  'arrest.aedFirstBy': 'eArrest.21',
  'arrest.defibrillatedFirstBy': 'eArrest.22',
  'history.barriersToCare[]': 'eHistory.01',
  'history.alcoholDrugUse[]': 'eHistory.17',
  'vitals[].priorToUnit': 'eVitals.02',
  'vitals[].cardiacRhythm[]': 'eVitals.03',
  'vitals[].ecgType': 'eVitals.04',
  'vitals[].ecgInterpretation[]': 'eVitals.05',
  'vitals[].gcsQualifiers[]': 'eVitals.22',
  'vitals[].strokeScaleResult': 'eVitals.29',
  'vitals[].strokeScaleType': 'eVitals.30',
  'vitals[].reperfusionChecklist': 'eVitals.31',
  'protocols.used[]': 'eProtocols.01',
  'medications[].priorToUnit': 'eMedications.02',
  'medications[].performerRole': 'eMedications.10',
  'procedures[].priorToUnit': 'eProcedures.02',
  'procedures[].complications[]': 'eProcedures.07',
  'procedures[].performerRole': 'eProcedures.10',
  'disposition.transportMethod': 'eDisposition.16',
  'disposition.transportMode': 'eDisposition.17',
  'disposition.transportModeDescriptors[]': 'eDisposition.18',
  'disposition.releaseAcuity': 'eDisposition.19',
  'disposition.destinationReasons[]': 'eDisposition.20',
  'disposition.inpatientDestination': 'eDisposition.22',
  'disposition.hospitalCapabilities[]': 'eDisposition.23',
  'disposition.levelOfCare': 'eDisposition.32',
  // Schema version 5: the last national elements (ePatient.13 is deprecated in 3.5.1 but still national; eOutcome comes from the hospital).
  'patient.gender': 'ePatient.13',
  'outcome.edDisposition': 'eOutcome.01',
  'outcome.hospitalDisposition': 'eOutcome.02',
} as const;

export type CodedField = keyof typeof CODED_FIELDS;

/**
 * Pertinent negatives (NEMSIS PN attribute, 8801xxx): a field beside a value field holding what
 * the crew found instead of (or about) the value: a medication not given because of an allergy,
 * "No Known Drug Allergy", trauma criteria "None Reported". Each offers the PN codes its element
 * declares in the XSD (pertinentNegativesOf), and the export writes it as that element's PN.
 */
export const PERTINENT_NEGATIVE_FIELDS = {
  'medications[].pertinentNegative': 'eMedications.03',
  'procedures[].pertinentNegative': 'eProcedures.03',
  'history.allergiesPertinentNegative': 'eHistory.06',
  'history.alcoholDrugUsePertinentNegative': 'eHistory.17',
  'injury.highRiskPertinentNegative': 'eInjury.03',
  'injury.moderateRiskPertinentNegative': 'eInjury.04',
} as const;

export type PertinentNegativeField = keyof typeof PERTINENT_NEGATIVE_FIELDS;

export interface VocabularyField {
  element: string;
  /** The NEMSIS lists offered to search, first the main one. */
  vocabularies: readonly VocabularyName[];
  /** The form a code of the element takes. */
  pattern: RegExp;
  /** What the code is, for messages ("an RxNorm code"). */
  codeWords: string;
  /** The sibling field holding a person's own words beside the code, if the record has one. */
  text?: string;
}

const vocabulary = (element: string, vocabularies: readonly VocabularyName[], codeWords: string, text?: string, pattern = vocabularyPattern(vocabularies[0]!)): VocabularyField => (
  { element, vocabularies, pattern, codeWords, ...(text ? { text } : {}) }
);

export const VOCABULARY_FIELDS = {
  'scene.locationType': vocabulary('eScene.09', ['incidentLocationType'], 'an ICD-10-CM Y92 place code'),
  'situation.primarySymptom': vocabulary('eSituation.09', ['symptom'], 'an ICD-10-CM code'),
  'situation.primaryImpression': vocabulary('eSituation.11', ['impression'], 'an ICD-10-CM code'),
  'situation.secondaryImpressions': vocabulary('eSituation.12', ['impression'], 'an ICD-10-CM code'),
  'situation.otherSymptoms': vocabulary('eSituation.10', ['symptom'], 'an ICD-10-CM code'),
  'injury.causes': vocabulary('eInjury.01', ['causeOfInjury'], 'an ICD-10-CM external cause code'),
  'medications[].medication': vocabulary('eMedications.03', ['medication'], 'an RxNorm code', 'medicationText'),
  'procedures[].procedure': vocabulary('eProcedures.03', ['procedure'], 'a SNOMED CT code', 'procedureText'),
  // eHistory.06 takes RxNorm codes and ICD-10 Z88.x; SNOMED CT codes (environmental and food) go to eHistory.07 (shared/nemsis/export/emsdataset.ts).
  'history.allergies': vocabulary('eHistory.06', ['medicationAllergy', 'environmentalFoodAllergy', 'medication'], 'an allergy code (ICD-10 Z88.x, RxNorm or SNOMED CT)', 'allergiesText', /^(?:Z88\.[0-9]|[0-9]{2,18})$/),
  'history.medicalHistory': vocabulary('eHistory.08', ['medicalSurgicalHistory'], 'an ICD-10-CM code', 'medicalHistoryText'),
  'history.currentMedications': vocabulary('eHistory.12', ['medication'], 'an RxNorm code', 'currentMedicationsText'),
} as const satisfies Record<string, VocabularyField>;

export type VocabularyFieldPath = keyof typeof VOCABULARY_FIELDS;

/** `medications[m1].route` → `medications[].route`. */
export function generalPath(pathName: string): string {
  return pathName.replace(/\[[^\]]*\]/g, '[]');
}

/** The label of a vocabulary field's code from its lists, if a list holds it. */
export function vocabularyFieldLabel(field: VocabularyFieldPath, code: string): string | undefined {
  for (const name of VOCABULARY_FIELDS[field].vocabularies) {
    const label = vocabularyLabel(name, code);
    if (label) return label;
  }
  return undefined;
}

export interface CodeProblem {
  /** The field's path name (`medications[m1].medication`). */
  path: string;
  element: string;
  /** The values that are not codes of the element. */
  values: string[];
  /** `code`: not one of the element's enumerated codes; `form`: not in the form of the element's code system. */
  kind: 'code' | 'form';
  /** In words, naming the element by its NEMSIS name (callers with the form's own label may say it their way). */
  message: string;
}

/** What to say about values at a coded field, after the field's label. */
export function codeProblemWords(problem: Pick<CodeProblem, 'element' | 'values' | 'kind'>): string {
  const shown = problem.values.map((v) => `"${v}"`).join(', ');
  if (problem.kind === 'code') return `${shown} is not a NEMSIS code for this field: choose one from the list (${problem.element})`;
  const spec = Object.values(VOCABULARY_FIELDS as Record<string, VocabularyField>).find((f) => f.element === problem.element);
  const one = problem.values.length === 1;
  return `${shown} ${one ? 'is' : 'are'} not ${spec?.codeWords ?? 'a code'}: type a name and pick from the list, or type the code${spec?.text ? '; your own words go in the field beside it' : ''} (${problem.element})`;
}

/**
 * Values at coded fields that are not codes of their element: each one, by the path the form
 * names its field with. A report holding one cannot be exported as the state checks it.
 */
export function codedFieldProblems(epcr: Epcr): CodeProblem[] {
  const problems: CodeProblem[] = [];
  const doc = epcr as unknown as Record<string, unknown>;
  for (const [field, element] of Object.entries(CODED_FIELDS)) {
    for (const [path, value] of valuesAt(doc, field)) {
      if (typeof value === 'string' && value.trim() !== '' && codeLabel(element, value) === undefined) {
        const found = { element, values: [value], kind: 'code' as const };
        problems.push({ path, ...found, message: `${elementName(element)}: ${codeProblemWords(found)}` });
      }
    }
  }
  for (const [field, element] of Object.entries(PERTINENT_NEGATIVE_FIELDS)) {
    for (const [path, value] of valuesAt(doc, field)) {
      if (typeof value === 'string' && value.trim() !== '' && !pertinentNegativesOf(element).some(([pn]) => pn === value)) {
        const found = { element, values: [value], kind: 'code' as const };
        problems.push({ path, ...found, message: `${elementName(element)} (pertinent negative): ${codeProblemWords(found)}` });
      }
    }
  }
  for (const [field, spec] of Object.entries(VOCABULARY_FIELDS) as [VocabularyFieldPath, VocabularyField][]) {
    for (const [path, value] of valuesAt(doc, field)) {
      const values = Array.isArray(value) ? value : [value];
      const wrong = values.filter((v): v is string => typeof v === 'string' && v.trim() !== '' && !spec.pattern.test(v.trim()));
      if (wrong.length) {
        const found = { element: spec.element, values: wrong, kind: 'form' as const };
        problems.push({ path, ...found, message: `${elementName(spec.element)}: ${codeProblemWords(found)}` });
      }
    }
  }
  return problems;
}

/** The values at a general path (`medications[].route`: one per item, named `medications[id].route`). */
function valuesAt(doc: Record<string, unknown>, field: string): [string, unknown][] {
  const list = /^(\w+)\[\]\.(\w+)(\[\])?$/.exec(field);
  if (list) {
    const items = doc[list[1]!];
    if (!Array.isArray(items)) return [];
    return items.flatMap((item: Record<string, unknown>) => {
      const path = `${list[1]}[${String(item['id'])}].${list[2]}`;
      const value = item?.[list[2]!];
      // A list of codes in each item (procedures[].complications[]): each code on its own.
      if (list[3]) return Array.isArray(value) ? value.map((v) => [path, v] as [string, unknown]) : [];
      return [[path, value] as [string, unknown]];
    });
  }
  const arrayLeaf = /^(\w+)\.(\w+)\[\]$/.exec(field);
  if (arrayLeaf) {
    const value = (doc[arrayLeaf[1]!] as Record<string, unknown> | undefined)?.[arrayLeaf[2]!];
    return Array.isArray(value) ? value.map((v) => [`${arrayLeaf[1]}.${arrayLeaf[2]}`, v] as [string, unknown]) : [];
  }
  const [section, key] = field.split('.') as [string, string];
  const value = (doc[section] as Record<string, unknown> | undefined)?.[key];
  return value === undefined ? [] : [[field, value]];
}
