/**
 * NEMSIS 3.5.1 DEMDataSet of one agency: who it is (dAgency, from its settings), whom to call
 * (dContact), what its crews may do (dConfiguration: levels, procedures, medications, protocols,
 * the call signs of its units), its vehicles (dVehicle: the units collection), its people
 * (dPersonnel: its users) and where it takes patients (dFacility: the facilities of its settings).
 *
 * Written here in schema order element by element: the EMS export's order tables (element-order.ts)
 * cover the EMSDataSet only, and the DEM sections are few and flat enough that a test validating
 * every export against DEMDataSet_v3.xsd and the national DEM Schematron keeps the order honest.
 * Groups carry UUIDs derived from the agency and what they describe (the one id recipe), so the
 * same agency exports the same UUIDs every time, as the national rule nemSch_d005 needs them unique.
 */
import packageJson from '../../package.json' with { type: 'json' };
import { codeOf, NOT_RECORDED } from '../../shared/nemsis/codes.ts';
import type { AgencySettings } from '../agencies/settings.ts';
import { deterministicId } from '../hooks/ids.ts';
import { NEMSIS_NAMESPACE, XSI_NAMESPACE } from '../../shared/nemsis/export/nemsis-tree.ts';
import { serializeXml, type XmlElement } from '../../shared/nemsis/export/xml-writer.ts';

/** A person of the agency (a user account): dPersonnel. */
export interface DemPerson {
  id: string;
  username: string;
  role: string;
  displayName?: string;
}

/** A vehicle of the agency (a unit document): dVehicle. */
export interface DemVehicle {
  id: string;
  callSign: string;
}

export interface DemDataSetInput {
  tenantId: string;
  settings: AgencySettings;
  people: readonly DemPerson[];
  vehicles: readonly DemVehicle[];
  /** DemographicReport/@timeStamp: when the report was made, with the server's offset. */
  timeStamp: string;
}

const AMBULANCE = codeOf('dVehicle.04', 'Ambulance');
/** dPersonnel.34 Primary EMS Job Role of each account role. */
const OTHER_JOB_ROLE = codeOf('dPersonnel.34', 'Other');
const JOB_ROLE: Readonly<Record<string, string>> = {
  crew: codeOf('dPersonnel.34', 'Patient Care Provider'),
  admin: codeOf('dPersonnel.34', 'Administrator/Manager'),
};

const el = (name: string, text: string, attributes?: Record<string, string | undefined>): XmlElement => (attributes ? { name, attributes, text } : { name, text });
const nil = (name: string): XmlElement => ({ name, attributes: { 'xsi:nil': 'true', NV: NOT_RECORDED } });
const grp = (name: string, children: (XmlElement | undefined | XmlElement[])[], attributes?: Record<string, string>): XmlElement => {
  const list = children.flat().filter((c): c is XmlElement => c !== undefined);
  return attributes ? { name, attributes, children: list } : { name, children: list };
};
/** A value, or the element as Not Recorded when the agency has none (nillable elements only). */
const orNil = (name: string, value: string | undefined) => (value === undefined || value === '' ? nil(name) : el(name, value));
const all = (name: string, values: readonly string[]) => (values.length > 0 ? values.map((v) => el(name, v)) : [nil(name)]);

export function buildDemDataSetXml(input: DemDataSetInput): string {
  const { settings, tenantId } = input;
  const uuid = (...parts: string[]) => deterministicId('nemsis-dem', tenantId, ...parts);
  const report = grp('DemographicReport', [
    grp('dRecord', [grp('dRecord.SoftwareApplicationGroup', [el('dRecord.01', 'fieldsync'), el('dRecord.02', 'fieldsync'), el('dRecord.03', packageJson.version)])]),
    dAgency(settings, uuid),
    settings.contacts.length > 0 ? grp('dContact', settings.contacts.map((c, i) => grp('dContact.ContactInfoGroup', [
      el('dContact.01', c.type), el('dContact.02', c.lastName), el('dContact.03', c.firstName),
      c.phone ? el('dContact.10', c.phone) : undefined,
      c.email ? el('dContact.11', c.email) : undefined,
    ], { UUID: uuid('contact', String(i), c.lastName, c.firstName) }))) : undefined,
    dConfiguration(settings, input.vehicles, uuid),
    input.vehicles.length > 0 ? grp('dVehicle', input.vehicles.map((v) => grp('dVehicle.VehicleGroup', [
      // The unit's call sign is the number the agency knows the vehicle by (dVehicle.01) and its radio call sign (dVehicle.03).
      el('dVehicle.01', v.callSign), el('dVehicle.03', v.callSign), el('dVehicle.04', AMBULANCE),
    ], { UUID: uuid('vehicle', v.id) }))) : undefined,
    input.people.length > 0 ? grp('dPersonnel', input.people.map((p) => grp('dPersonnel.PersonnelGroup', [
      // Accounts hold no legal names, licences or employment status: names stay Not Recorded, the
      // rest is left out rather than guessed; the account's role says the job role.
      grp('dPersonnel.NameGroup', [nil('dPersonnel.01'), nil('dPersonnel.02')]),
      el('dPersonnel.21', p.username.slice(0, 50)),
      el('dPersonnel.34', JOB_ROLE[p.role] ?? OTHER_JOB_ROLE),
    ], { UUID: uuid('person', p.id) }))) : undefined,
    settings.facilities.length > 0 ? grp('dFacility', groupBy(settings.facilities, (f) => f.type).map(([type, facilities]) => grp('dFacilityGroup', [
      el('dFacility.01', type),
      facilities.map((f) => grp('dFacility.FacilityGroup', [
        el('dFacility.02', f.name),
        f.code ? el('dFacility.03', f.code) : undefined,
        f.street ? el('dFacility.07', f.street) : undefined,
        f.cityGnis ? el('dFacility.08', f.cityGnis) : undefined,
        f.state ? el('dFacility.09', f.state) : undefined,
        f.zip ? el('dFacility.10', f.zip) : undefined,
        f.county ? el('dFacility.11', f.county) : undefined,
        f.lat !== undefined && f.lng !== undefined ? el('dFacility.13', `${f.lat.toFixed(6)},${f.lng.toFixed(6)}`) : undefined,
        f.phone ? el('dFacility.15', f.phone) : undefined,
      ], { UUID: uuid('facility', f.type, f.name, f.code ?? '') })),
    ], { UUID: uuid('facility-type', type) }))) : undefined,
  ], { timeStamp: input.timeStamp });
  return serializeXml(grp('DEMDataSet', [report], { xmlns: NEMSIS_NAMESPACE, 'xmlns:xsi': XSI_NAMESPACE }));
}

function dAgency(s: AgencySettings, uuid: (...parts: string[]) => string): XmlElement {
  return grp('dAgency', [
    el('dAgency.01', s.stateId), el('dAgency.02', s.agencyNumber), el('dAgency.03', s.name), el('dAgency.04', s.state),
    grp('dAgency.AgencyServiceGroup', [
      el('dAgency.05', s.state),
      s.serviceAreaCounties.map((c) => el('dAgency.06', c)),
      nil('dAgency.07'),
      all('dAgency.08', s.serviceAreaZips),
    ], { UUID: uuid('service-area', s.state) }),
    el('dAgency.09', s.primaryService),
    el('dAgency.11', s.levelOfService), el('dAgency.12', s.organizationStatus), el('dAgency.13', s.organizationType), el('dAgency.14', s.taxStatus),
    orNil('dAgency.25', s.npi),
    nil('dAgency.26'),
  ]);
}

function dConfiguration(s: AgencySettings, vehicles: readonly DemVehicle[], uuid: (...parts: string[]) => string): XmlElement {
  return grp('dConfiguration', [grp('dConfiguration.ConfigurationGroup', [
    el('dConfiguration.01', s.state),
    grp('dConfiguration.ProcedureGroup', [el('dConfiguration.06', s.levelOfService), all('dConfiguration.07', s.procedures)], { UUID: uuid('procedures', s.levelOfService) }),
    grp('dConfiguration.MedicationGroup', [el('dConfiguration.08', s.levelOfService), all('dConfiguration.09', s.medications)], { UUID: uuid('medications', s.levelOfService) }),
    all('dConfiguration.10', s.protocols),
    el('dConfiguration.13', s.emd),
    all('dConfiguration.16', vehicles.map((v) => v.callSign)),
  ], { UUID: uuid('configuration', s.state) })]);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups];
}
