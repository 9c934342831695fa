/**
 * Child order of every NEMSIS 3.5.1 element the EMS export builds, transcribed from the XSDs in
 * shared/nemsis (3.5.1.250403CP1: EMSDataSet_v3.xsd and the e*_v3.xsd section files).
 *
 * Every XSD content model here is an xs:sequence, so a receiver rejects children written out of
 * order. The builder sorts by these tables instead of trusting the order the mapping code happens
 * to list values in, and uses the presence flags to decide what happens to an absent value:
 *
 *   'name M'  Mandatory: must carry a value; NEMSIS allows no NOT value, so export fails without one.
 *   'name R'  always present: written xsi:nil="true" with the Not Recorded Not Value when it has no
 *             value; for a group, written with its own required children filled the same way.
 *             Includes the two national "Required" elements the XSD leaves at minOccurs 0
 *             (ePatient.13, ePatient.25), because national usage, not minOccurs, decides that.
 *   'name'    optional: omitted when it has no value (NEMSIS forbids nil on optional elements).
 *   '*'       may repeat.
 *
 * A name that is itself a key of the table is a group/section; anything else is a value element.
 * Sections the export never writes (eLabs, eExam, eAirway, eDevice, custom data)
 * appear only as optional children of PatientCareReport, so writing one means adding its table.
 */
export const CHILD_ORDER = {
  EMSDataSet: [
    'Header R*',
  ],
  Header: [
    'DemographicGroup R', 'eCustomConfiguration', 'PatientCareReport R*',
  ],
  DemographicGroup: [
    'dAgency.01 M', 'dAgency.02 M', 'dAgency.04 M',
  ],
  PatientCareReport: [
    'eRecord R', 'eResponse R', 'eDispatch R', 'eCrew', 'eTimes R', 'ePatient R', 'ePayment R',
    'eScene R', 'eSituation R', 'eInjury R', 'eArrest R', 'eHistory R', 'eNarrative', 'eVitals R',
    'eLabs', 'eExam', 'eProtocols R', 'eMedications R', 'eProcedures R', 'eAirway', 'eDevice',
    'eDisposition R', 'eOutcome R', 'eCustomResults', 'eOther',
  ],
  eRecord: [
    'eRecord.01 M', 'eRecord.SoftwareApplicationGroup R',
  ],
  'eRecord.SoftwareApplicationGroup': [
    'eRecord.02 M', 'eRecord.03 M', 'eRecord.04 M',
  ],
  eResponse: [
    'eResponse.AgencyGroup R', 'eResponse.03 R', 'eResponse.04 R', 'eResponse.ServiceGroup R',
    'eResponse.07 M', 'eResponse.08 R*', 'eResponse.09 R*', 'eResponse.10 R*', 'eResponse.11 R*',
    'eResponse.12 R*', 'eResponse.13 M', 'eResponse.14 M', 'eResponse.16', 'eResponse.17',
    'eResponse.18', 'eResponse.19', 'eResponse.20', 'eResponse.21', 'eResponse.22', 'eResponse.23 M',
    'eResponse.24 R*',
  ],
  'eResponse.AgencyGroup': [
    'eResponse.01 M', 'eResponse.02',
  ],
  'eResponse.ServiceGroup': [
    'eResponse.05 M', 'eResponse.06',
  ],
  eCrew: [
    'eCrew.CrewGroup *',
  ],
  'eCrew.CrewGroup': [
    'eCrew.01', 'eCrew.02', 'eCrew.03 *',
  ],
  eDispatch: [
    'eDispatch.01 M', 'eDispatch.02 R', 'eDispatch.03', 'eDispatch.04', 'eDispatch.05', 'eDispatch.06',
  ],
  eTimes: [
    'eTimes.01 R', 'eTimes.02', 'eTimes.03 M', 'eTimes.04', 'eTimes.05 R', 'eTimes.06 R', 'eTimes.07 R',
    'eTimes.08', 'eTimes.09 R', 'eTimes.10', 'eTimes.11 R', 'eTimes.12 R', 'eTimes.13 M', 'eTimes.14',
    'eTimes.15', 'eTimes.16', 'eTimes.17',
  ],
  ePatient: [
    'ePatient.01', 'ePatient.PatientNameGroup', 'ePatient.05', 'ePatient.06', 'ePatient.07 R',
    'ePatient.08 R', 'ePatient.09 R', 'ePatient.10', 'ePatient.11', 'ePatient.12', 'ePatient.13 R',
    'ePatient.14 R*', 'ePatient.AgeGroup R', 'ePatient.17', 'ePatient.18 *', 'ePatient.19 *',
    'ePatient.20', 'ePatient.21', 'ePatient.22', 'ePatient.24 *', 'ePatient.25 R',
  ],
  'ePatient.PatientNameGroup': [
    'ePatient.02', 'ePatient.03', 'ePatient.04', 'ePatient.23',
  ],
  'ePatient.AgeGroup': [
    'ePatient.15 R', 'ePatient.16 R',
  ],
  ePayment: [
    'ePayment.01 R', 'ePayment.CertificateGroup', 'ePayment.08', 'ePayment.InsuranceGroup *',
    'ePayment.ClosestRelativeGroup', 'ePayment.EmployerGroup', 'ePayment.40', 'ePayment.41 *',
    'ePayment.42 *', 'ePayment.44 *', 'ePayment.45', 'ePayment.46', 'ePayment.47 *', 'ePayment.48',
    'ePayment.49', 'ePayment.50 R', 'ePayment.51 *', 'ePayment.52 *', 'ePayment.53', 'ePayment.54',
    'ePayment.SupplyItemGroup *', 'ePayment.57',
  ],
  'ePayment.CertificateGroup': [
    'ePayment.02', 'ePayment.03', 'ePayment.04 *', 'ePayment.05', 'ePayment.06', 'ePayment.07',
  ],
  'ePayment.InsuranceGroup': [
    'ePayment.09', 'ePayment.10', 'ePayment.11', 'ePayment.12', 'ePayment.13', 'ePayment.14',
    'ePayment.15', 'ePayment.16', 'ePayment.17', 'ePayment.18', 'ePayment.19', 'ePayment.20',
    'ePayment.21', 'ePayment.22', 'ePayment.58', 'ePayment.59 *', 'ePayment.60',
  ],
  'ePayment.ClosestRelativeGroup': [
    'ePayment.23', 'ePayment.24', 'ePayment.25', 'ePayment.26', 'ePayment.27', 'ePayment.28',
    'ePayment.29', 'ePayment.30', 'ePayment.31 *', 'ePayment.32',
  ],
  'ePayment.EmployerGroup': [
    'ePayment.33', 'ePayment.34', 'ePayment.35', 'ePayment.36', 'ePayment.37', 'ePayment.38',
    'ePayment.39',
  ],
  'ePayment.SupplyItemGroup': [
    'ePayment.55', 'ePayment.56',
  ],
  eScene: [
    'eScene.01 R', 'eScene.ResponderGroup *', 'eScene.05', 'eScene.06 R', 'eScene.07 R', 'eScene.08 R',
    'eScene.09 R', 'eScene.10', 'eScene.11', 'eScene.12', 'eScene.13', 'eScene.14', 'eScene.15',
    'eScene.16', 'eScene.17', 'eScene.18 R', 'eScene.19 R', 'eScene.20', 'eScene.21 R', 'eScene.22',
    'eScene.23',
  ],
  'eScene.ResponderGroup': [
    'eScene.02', 'eScene.03', 'eScene.04', 'eScene.24', 'eScene.25',
  ],
  eSituation: [
    'eSituation.01 R', 'eSituation.02 R', 'eSituation.PatientComplaintGroup *', 'eSituation.07 R',
    'eSituation.08 R', 'eSituation.09 R', 'eSituation.10 R*', 'eSituation.11 R', 'eSituation.12 R*',
    'eSituation.13 R', 'eSituation.WorkRelatedGroup', 'eSituation.17 *', 'eSituation.18 R',
    'eSituation.19', 'eSituation.20 R',
  ],
  'eSituation.PatientComplaintGroup': [
    'eSituation.03', 'eSituation.04', 'eSituation.05', 'eSituation.06',
  ],
  'eSituation.WorkRelatedGroup': [
    'eSituation.14', 'eSituation.15', 'eSituation.16',
  ],
  eInjury: [
    'eInjury.01 R*', 'eInjury.02 *', 'eInjury.03 R*', 'eInjury.04 R*', 'eInjury.05', 'eInjury.06',
    'eInjury.07 *', 'eInjury.08 *', 'eInjury.09', 'eInjury.10 *', 'eInjury.CollisionGroup',
  ],
  'eInjury.CollisionGroup': [
    'eInjury.11', 'eInjury.12', 'eInjury.13 *', 'eInjury.14', 'eInjury.15', 'eInjury.16', 'eInjury.17',
    'eInjury.18', 'eInjury.19', 'eInjury.20', 'eInjury.21', 'eInjury.22 *', 'eInjury.23', 'eInjury.24',
    'eInjury.25', 'eInjury.SeatGroup *',
  ],
  'eInjury.SeatGroup': [
    'eInjury.26', 'eInjury.27', 'eInjury.28', 'eInjury.29',
  ],
  eArrest: [
    'eArrest.01 R', 'eArrest.02 R', 'eArrest.03 R*', 'eArrest.04 R*', 'eArrest.07 R', 'eArrest.09 R*',
    'eArrest.10', 'eArrest.11 R', 'eArrest.12 R*', 'eArrest.13', 'eArrest.14 R', 'eArrest.15',
    'eArrest.16 R', 'eArrest.17 R*', 'eArrest.18 R', 'eArrest.19', 'eArrest.20 R', 'eArrest.21 R',
    'eArrest.22 R',
  ],
  eHistory: [
    'eHistory.01 R*', 'eHistory.PractitionerGroup *', 'eHistory.05 *', 'eHistory.06 *', 'eHistory.07 *',
    'eHistory.08 *', 'eHistory.09 *', 'eHistory.ImmunizationsGroup *', 'eHistory.CurrentMedsGroup *',
    'eHistory.16', 'eHistory.17 R*', 'eHistory.18', 'eHistory.19',
  ],
  'eHistory.PractitionerGroup': [
    'eHistory.02', 'eHistory.03', 'eHistory.04',
  ],
  'eHistory.ImmunizationsGroup': [
    'eHistory.10', 'eHistory.11',
  ],
  'eHistory.CurrentMedsGroup': [
    'eHistory.12', 'eHistory.13', 'eHistory.14', 'eHistory.15', 'eHistory.20',
  ],
  eNarrative: [
    'eNarrative.01',
  ],
  eVitals: [
    'eVitals.VitalGroup R*',
  ],
  'eVitals.VitalGroup': [
    'eVitals.01 R', 'eVitals.02 R', 'eVitals.CardiacRhythmGroup R', 'eVitals.BloodPressureGroup R',
    'eVitals.HeartRateGroup R', 'eVitals.12 R', 'eVitals.13', 'eVitals.14 R', 'eVitals.15',
    'eVitals.16 R', 'eVitals.17', 'eVitals.18 R', 'eVitals.GlasgowScoreGroup R',
    'eVitals.TemperatureGroup', 'eVitals.26 R', 'eVitals.PainScaleGroup R',
    'eVitals.StrokeScaleGroup R', 'eVitals.31 R', 'eVitals.32', 'eVitals.33',
  ],
  'eVitals.CardiacRhythmGroup': [
    'eVitals.03 R*', 'eVitals.04 R', 'eVitals.05 R*',
  ],
  'eVitals.BloodPressureGroup': [
    'eVitals.06 R', 'eVitals.07', 'eVitals.08', 'eVitals.09',
  ],
  'eVitals.HeartRateGroup': [
    'eVitals.10 R', 'eVitals.11',
  ],
  'eVitals.GlasgowScoreGroup': [
    'eVitals.19 R', 'eVitals.20 R', 'eVitals.21 R', 'eVitals.22 R*', 'eVitals.23',
  ],
  'eVitals.TemperatureGroup': [
    'eVitals.24', 'eVitals.25',
  ],
  'eVitals.PainScaleGroup': [
    'eVitals.27 R', 'eVitals.28',
  ],
  'eVitals.StrokeScaleGroup': [
    'eVitals.29 R', 'eVitals.30 R', 'eVitals.34',
  ],
  eProtocols: [
    'eProtocols.ProtocolGroup R*',
  ],
  'eProtocols.ProtocolGroup': [
    'eProtocols.01 R', 'eProtocols.02',
  ],
  // eOther_v3.xsd: what the export writes of it are the signatures and the files (issue 18).
  eOther: [
    'eOther.01', 'eOther.02 *', 'eOther.EMSCrewMemberGroup *', 'eOther.07 *', 'eOther.08', 'eOther.FileGroup *', 'eOther.SignatureGroup *',
  ],
  'eOther.EMSCrewMemberGroup': [
    'eOther.03 *', 'eOther.04', 'eOther.05', 'eOther.06 *',
  ],
  'eOther.FileGroup': [
    'eOther.09', 'eOther.10', 'eOther.11', 'eOther.22',
  ],
  'eOther.SignatureGroup': [
    'eOther.12', 'eOther.13 *', 'eOther.14', 'eOther.15', 'eOther.16', 'eOther.17', 'eOther.18', 'eOther.19', 'eOther.20', 'eOther.21',
  ],
  eMedications: [
    'eMedications.MedicationGroup R*',
  ],
  'eMedications.MedicationGroup': [
    'eMedications.01 R', 'eMedications.02 R', 'eMedications.03 R', 'eMedications.04 R',
    'eMedications.DosageGroup R', 'eMedications.07 R', 'eMedications.08 R*', 'eMedications.09',
    'eMedications.10 R', 'eMedications.11', 'eMedications.12', 'eMedications.13',
  ],
  'eMedications.DosageGroup': [
    'eMedications.05 R', 'eMedications.06 R',
  ],
  eProcedures: [
    'eProcedures.ProcedureGroup R*',
  ],
  'eProcedures.ProcedureGroup': [
    'eProcedures.01 R', 'eProcedures.02 R', 'eProcedures.03 R', 'eProcedures.04', 'eProcedures.05 R',
    'eProcedures.06 R', 'eProcedures.07 R*', 'eProcedures.08 R', 'eProcedures.09', 'eProcedures.10 R',
    'eProcedures.11', 'eProcedures.12', 'eProcedures.13', 'eProcedures.14 *', 'eProcedures.15',
  ],
  eDisposition: [
    'eDisposition.DestinationGroup R', 'eDisposition.11', 'eDisposition.IncidentDispositionGroup R',
    'eDisposition.13 *', 'eDisposition.14 *', 'eDisposition.15 *', 'eDisposition.16 R',
    'eDisposition.17 R', 'eDisposition.18 R*', 'eDisposition.19 R', 'eDisposition.20 R*',
    'eDisposition.21 R', 'eDisposition.22 R', 'eDisposition.23 R*',
    'eDisposition.HospitalTeamActivationGroup R*', 'eDisposition.26 *', 'eDisposition.32 R',
  ],
  'eDisposition.DestinationGroup': [
    'eDisposition.01', 'eDisposition.02', 'eDisposition.03', 'eDisposition.04', 'eDisposition.05 R',
    'eDisposition.06 R', 'eDisposition.07 R', 'eDisposition.08', 'eDisposition.09', 'eDisposition.10',
  ],
  'eDisposition.IncidentDispositionGroup': [
    'eDisposition.27 M', 'eDisposition.28 R', 'eDisposition.29 R', 'eDisposition.30 R',
    'eDisposition.31 *',
  ],
  'eDisposition.HospitalTeamActivationGroup': [
    'eDisposition.24 R', 'eDisposition.25 R',
  ],
  eOutcome: [
    'eOutcome.01 R', 'eOutcome.02 R', 'eOutcome.ExternalDataGroup *',
    'eOutcome.EmergencyDepartmentProceduresGroup R*', 'eOutcome.10 R*', 'eOutcome.11 R',
    'eOutcome.HospitalProceduresGroup R*', 'eOutcome.13 R*', 'eOutcome.16 R', 'eOutcome.18 R',
    'eOutcome.21',
  ],
  'eOutcome.ExternalDataGroup': [
    'eOutcome.03', 'eOutcome.04', 'eOutcome.05',
  ],
  'eOutcome.EmergencyDepartmentProceduresGroup': [
    'eOutcome.09 R', 'eOutcome.19 R',
  ],
  'eOutcome.HospitalProceduresGroup': [
    'eOutcome.12 R', 'eOutcome.20 R',
  ],
} as const satisfies Record<string, readonly string[]>;

export type Presence = 'mandatory' | 'required' | 'optional';

export interface ChildSpec {
  readonly name: string;
  readonly presence: Presence;
  readonly repeatable: boolean;
}

const PRESENCE_FLAGS: Record<string, Presence> = { M: 'mandatory', R: 'required', '': 'optional' };

function parseChildSpec(entry: string, parent: string): ChildSpec {
  const [name = '', rawFlags = ''] = entry.split(' ');
  const repeatable = rawFlags.endsWith('*');
  const presence = PRESENCE_FLAGS[repeatable ? rawFlags.slice(0, -1) : rawFlags];
  if (!name || !presence) throw new Error(`element-order.ts: bad entry '${entry}' under ${parent}; expected '<element> [M|R][*]'`);
  return { name, presence, repeatable };
}

const SPECS: ReadonlyMap<string, readonly ChildSpec[]> = new Map(
  Object.entries(CHILD_ORDER).map(([parent, entries]) => [parent, entries.map((entry) => parseChildSpec(entry, parent))]),
);

/** The children of a group/section in schema order, or undefined for a value element. */
export function childSpecs(parent: string): readonly ChildSpec[] | undefined {
  return SPECS.get(parent);
}

export function isGroup(name: string): boolean {
  return SPECS.has(name);
}
