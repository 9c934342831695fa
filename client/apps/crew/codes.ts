/**
 * The ePCR form's pick-lists: for each coded field (by its path; `[]` for any list item), the
 * NEMSIS element it is exported to. Its options are that element's codes with the labels of the
 * XSD (shared/nemsis/codes.ts, generated from the release): no code or label is typed here.
 * test/client/app-pick-lists.test.ts checks each field's codes reach the element named.
 */
import { codeList, codeOf, type CodeOption } from '../../../shared/nemsis/codes.ts';
import { pathName } from '../../ui/record-field.ts';
import type { Path } from '../../worker/api.ts';

export const PICK_LISTS = {
  'response.serviceType': 'eResponse.05',
  'response.unitCapability': 'eResponse.07',
  'response.responseMode': 'eResponse.23',
  'dispatch.reason': 'eDispatch.01',
  'dispatch.priority': 'eDispatch.05',
  'patient.ageUnits': 'ePatient.16',
  'patient.sex': 'ePatient.25',
  'situation.acuity': 'eSituation.13',
  'situation.possibleInjury': 'eSituation.02',
  'vitals[].avpu': 'eVitals.26',
  'medications[].route': 'eMedications.04',
  'medications[].doseUnit': 'eMedications.06',
  'medications[].response': 'eMedications.07',
  'procedures[].successful': 'eProcedures.06',
  'procedures[].response': 'eProcedures.08',
  'disposition.unitDisposition': 'eDisposition.27',
  'disposition.transportDisposition': 'eDisposition.30',
  'disposition.destinationType': 'eDisposition.21',
  'disposition.preArrivalAlert': 'eDisposition.24',
  'payment.serviceLevel': 'ePayment.50',
} as const;

export type PickListPath = keyof typeof PICK_LISTS;

/** `medications[m1].route` → `medications[].route`. */
export function pickListPath(pathName: string): string {
  return pathName.replace(/\[[^\]]*\]/g, '[]');
}

export function isPickListPath(path: string): path is PickListPath {
  return Object.hasOwn(PICK_LISTS, path);
}

/** The options of a coded field: its element's codes and XSD labels, in the XSD's order. */
export function pickList(path: PickListPath): readonly CodeOption[] {
  return codeList(PICK_LISTS[path]);
}

/** The options of the coded field at a path; a field without a declared list is a mistake in the form. */
export function pickListAt(path: Path): readonly CodeOption[] {
  const general = pickListPath(pathName(path));
  if (!isPickListPath(general)) throw new Error(`${pathName(path)} has no pick-list: declare the NEMSIS element it exports to in PICK_LISTS (client/apps/crew/codes.ts)`);
  return pickList(general);
}

/** A code of a field's list by its XSD label (what the form itself writes, e.g. the age units). */
export function pickCode(path: PickListPath, label: string): string {
  return codeOf(PICK_LISTS[path], label);
}

/** eProcedures.05 is NumberOfProcedureAttempts (eProcedures_v3.xsd): an integer from 1 to 10. */
export const PROCEDURE_ATTEMPTS = { min: 1, max: 10 } as const;
