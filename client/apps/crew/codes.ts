/** NEMSIS 3.5 code lists offered by the ePCR form (value, label). */
type Options = readonly (readonly [string, string])[];

export const SEX: Options = [['9919001', 'Female'], ['9919003', 'Male'], ['9919005', 'Unknown']];
export const AGE_UNITS: Options = [['2516009', 'Years'], ['2516007', 'Months'], ['2516001', 'Days'], ['2516003', 'Hours'], ['2516005', 'Minutes']];
export const SERVICE_TYPE: Options = [
  ['2205001', '911 response (scene)'], ['2205003', 'Intercept'], ['2205005', 'Interfacility transport'],
  ['2205007', 'Medical transport'], ['2205009', 'Mutual aid'], ['2205011', 'Public assistance'], ['2205013', 'Standby'],
];
export const UNIT_CAPABILITY: Options = [['2207015', 'ALS ground'], ['2207017', 'BLS ground'], ['2207019', 'Critical care ground'], ['2207011', 'Air (rotor)']];
export const RESPONSE_MODE: Options = [['2223001', 'Emergent'], ['2223003', 'Emergent, downgraded'], ['2223005', 'Non-emergent'], ['2223007', 'Non-emergent, upgraded']];
export const DISPATCH_REASON: Options = [
  ['2301001', 'Abdominal pain'], ['2301003', 'Allergic reaction'], ['2301009', 'Back pain'], ['2301011', 'Breathing problem'],
  ['2301013', 'Burns'], ['2301015', 'Cardiac arrest'], ['2301019', 'Chest pain'], ['2301021', 'Choking'],
  ['2301023', 'Convulsions / seizure'], ['2301025', 'Diabetic problem'], ['2301031', 'Falls'], ['2301035', 'Heart problems'],
  ['2301043', 'Overdose / poisoning'], ['2301047', 'Psychiatric problem'], ['2301051', 'Sick person'], ['2301055', 'Stroke / CVA'],
  ['2301057', 'Traffic accident'], ['2301061', 'Trauma'], ['2301063', 'Unconscious / fainting'], ['2301067', 'Unknown problem'],
];
export const ACUITY: Options = [['2813001', 'Critical (red)'], ['2813003', 'Emergent (yellow)'], ['2813005', 'Lower acuity (green)'], ['2813007', 'Dead without resuscitation']];
/** YesNoUnkValues (commonTypes_v3.xsd), e.g. eSituation.02 Possible injury. */
export const YES_NO: Options = [['9922005', 'Yes'], ['9922001', 'No'], ['9922003', 'Unknown']];
/**
 * eProcedures.06 Procedure Successful is of type YesNoValues (commonTypes_v3.xsd): 9923003 Yes,
 * 9923001 No, no "Unknown" (not the 9922xxx YesNoUnkValues). Typed from the XSD until the code
 * lists are generated from it.
 */
export const PROCEDURE_SUCCESSFUL: Options = [['9923003', 'Yes'], ['9923001', 'No']];
/** eProcedures.05 is NumberOfProcedureAttempts (eProcedures_v3.xsd): an integer from 1 to 10. */
export const PROCEDURE_ATTEMPTS = { min: 1, max: 10 } as const;
export const UNIT_DISPOSITION: Options = [
  ['4227001', 'Patient contact made'], ['4227003', 'Cancelled on scene'], ['4227005', 'Cancelled before arrival'],
  ['4227007', 'No patient contact'], ['4227009', 'No patient found'], ['4227011', 'Non-patient incident'],
];
export const TRANSPORT_DISPOSITION: Options = [
  ['4230001', 'Transported by this unit'], ['4230003', 'Transported by this unit with another crew member'],
  ['4230005', 'Transported by another unit'], ['4230007', 'Another unit, with a member of this crew'],
  ['4230009', 'Patient refused transport'], ['4230011', 'Non-patient transport'], ['4230013', 'No transport'],
];
export const DESTINATION_TYPE: Options = [
  ['4221003', 'Hospital emergency department'], ['4221005', 'Hospital non-emergency department'], ['4221001', 'Home'],
  ['4221007', 'Freestanding emergency department'], ['4221011', 'Nursing home / assisted living'], ['4221013', 'Other'],
];
export const SERVICE_LEVEL: Options = [
  ['2650007', 'BLS'], ['2650009', 'BLS emergency'], ['2650001', 'ALS1'], ['2650003', 'ALS1 emergency'], ['2650005', 'ALS2'],
  ['2650015', 'Specialty care transport'], ['2650013', 'Paramedic intercept'],
];
export const PRE_ARRIVAL_ALERT: Options = [
  ['4224001', 'No alert'], ['4224013', 'STEMI'], ['4224015', 'Stroke'], ['4224005', 'Cardiac arrest'], ['4224017', 'Trauma'], ['4224019', 'Sepsis'],
];
export const MED_ROUTE: Options = [['9927023', 'Intravenous (IV)'], ['9927015', 'Intramuscular (IM)'], ['9927039', 'Oral'], ['9927025', 'Intraosseous (IO)'], ['9927037', 'Nebulized'], ['9927045', 'Sublingual'], ['9927029', 'Intranasal']];
export const MED_DOSE_UNIT: Options = [['3706021', 'mg'], ['3706015', 'mcg'], ['3706013', 'L/min'], ['3706011', 'ml'], ['3706009', 'g']];
export const RESPONSE_TO_TREATMENT: Options = [['9916001', 'Improved'], ['9916003', 'Unchanged'], ['9916005', 'Worse']];
export const AVPU: Options = [['3326001', 'Alert'], ['3326003', 'Verbal'], ['3326005', 'Painful'], ['3326007', 'Unresponsive']];
