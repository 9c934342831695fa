/**
 * An agency's settings: who it is to its state (the NEMSIS identity every export of its reports
 * carries: dAgency.01 state ID, dAgency.02 agency number, dAgency.04 state), what its DEMDataSet
 * says about it (service area, type and level of service, configuration, facilities it transports
 * to), and where its reports are submitted (the state's NEMSIS V3 web service).
 *
 * Kept per agency in the store (`Store.getAgencySettings`), set by the agency's admin
 * (`PUT ADMIN.putAgency`), checked here in one place: every code must be a code of its NEMSIS
 * element in the generated lists (shared/nemsis), every free value fits its XSD type, so an
 * export never carries a value its receiver refuses because of a setting.
 */
import { isCodeOf } from '../../shared/nemsis/codes.ts';
import { unknownFavourites, VOCABULARY_NAMES, type VocabularyFavourites, type VocabularyName } from '../../shared/nemsis/vocabularies.ts';
import { endpointAllowed } from '../integrations/state-submission/client.ts';
import { ansiStateCode } from '../../shared/nemsis/export/ansi-state-codes.ts';
import { parseAttachmentSettings, type AgencyAttachmentSettings } from './attachment-settings.ts';
import { parseBillingSettings, type AgencyBillingSettings } from './billing-settings.ts';
import { parseFieldServiceSettings, publicOrderIntake, type FieldServiceSettings, type PublicOrderIntakeSettings } from './field-service-settings.ts';
import { parseDispatchSettings, type AgencyDispatchSettings } from './dispatch-settings.ts';
import { parseMapSettings, publicMapSettings, type AgencyMapSettings } from './map-settings.ts';

export interface AgencyFacility {
  /** dFacility.01: the type of facility (a code of dFacility.01, e.g. Hospital). */
  type: string;
  /** dFacility.02 Facility Name. */
  name: string;
  /** dFacility.03 Facility Location Code: the code crews record as the destination (eDisposition.02). */
  code?: string;
  street?: string;
  /** dFacility.08: city as its GNIS code. */
  cityGnis?: string;
  /** dFacility.09: ANSI state code. */
  state?: string;
  zip?: string;
  /** dFacility.11: 5-digit ANSI county code. */
  county?: string;
  lat?: number;
  lng?: number;
  phone?: string;
}

export interface AgencyContact {
  /** dContact.01 Agency Contact Type (a code). */
  type: string;
  lastName: string;
  firstName: string;
  phone?: string;
  email?: string;
}

export interface StateSubmissionSettings {
  /** The state's NEMSIS V3 web service (SOAP, NEMSIS_V3_core.wsdl), e.g. https://state.example.gov/nemsis/ws. */
  endpoint: string;
  /** PrivilegeGroup of every request: username, password and organization the state gave the agency. */
  username: string;
  organization: string;
  /** Write-only: stored, never returned by GET (the answer says `passwordSet`). */
  password?: string;
  /**
   * Submit each report when it locks (and again when an addendum amends it), in the transaction
   * of the lock; false (default): only what an admin or biller submits for a period.
   */
  automatic: boolean;
}

export interface AgencySettings extends FieldServiceSettings {
  /** dAgency.03 EMS Agency Name. */
  name: string;
  /** dAgency.01 EMS Agency Unique State ID (1–50 characters). */
  stateId: string;
  /** dAgency.02 EMS Agency Number, the state-assigned provider number (1–15 characters); also eResponse.01. */
  agencyNumber: string;
  /** dAgency.04 EMS Agency State: the two-digit ANSI code (a USPS abbreviation is converted when saved). */
  state: string;
  /** dAgency.06 service area counties (5-digit ANSI codes of the agency's state). */
  serviceAreaCounties: string[];
  /** dAgency.08 service area ZIP codes. */
  serviceAreaZips: string[];
  /** dAgency.09 Primary Type of Service (a code). */
  primaryService: string;
  /** dAgency.11 Level of Service (a code; also the configuration's personnel level). */
  levelOfService: string;
  /** dAgency.12 Organization Status (a code). */
  organizationStatus: string;
  /** dAgency.13 Organizational Type (a code). */
  organizationType: string;
  /** dAgency.14 Organizational Tax Status (a code). */
  taxStatus: string;
  /** dAgency.25 National Provider Identifier (10 digits), when the agency has one. */
  npi?: string;
  /**
   * The number a receiving hospital calls back to reach the agency's units (a dispatch or unit
   * line), sent in every hospital notice (server/integrations/fhir). Not a NEMSIS element.
   */
  callbackPhone?: string;
  /** dConfiguration.07: procedures the agency's crews may perform (SNOMED CT codes). */
  procedures: string[];
  /** dConfiguration.09: medications the agency's crews may give (RxNorm codes). */
  medications: string[];
  /** dConfiguration.10: protocols the agency uses (codes). */
  protocols: string[];
  /** dConfiguration.13: Emergency Medical Dispatch provided to the service area (a code). */
  emd: string;
  contacts: AgencyContact[];
  facilities: AgencyFacility[];
  stateSubmission?: StateSubmissionSettings;
  /** Claims: billing provider NPI/taxonomy/tax id, submitter and clearinghouse, payers, fee schedule (billing-settings.ts). */
  billing?: AgencyBillingSettings;
  /** Per NEMSIS vocabulary, the codes the agency's crews pick most: offered first in the searchable pick-lists (issue 16). */
  favourites?: VocabularyFavourites;
  /** Dispatch console: the unacknowledged-call alert threshold (dispatch-settings.ts). */
  dispatch?: AgencyDispatchSettings;
  /** Map tiles, offline area, geocoder and router (map-settings.ts); unset: the server's. */
  map?: AgencyMapSettings;
  /** The size the devices resize and compress photos to (attachment-settings.ts); unset: the defaults. */
  attachments?: AgencyAttachmentSettings;
}

/** The settings as GET answers them: everything but the submission password, with whether one is set. */
export type PublicAgencySettings = Omit<AgencySettings, 'stateSubmission' | 'orderIntake' | 'map'> & {
  stateSubmission?: Omit<StateSubmissionSettings, 'password'> & { passwordSet: boolean };
  /** The order system's signing secret is never returned: only whether one is set. */
  orderIntake?: PublicOrderIntakeSettings;
  map?: ReturnType<typeof publicMapSettings>;
};

export class InvalidAgencySettings extends Error {
  constructor(readonly problems: string[]) {
    super(`The agency settings are invalid: ${problems.join('; ')}.`);
    this.name = 'InvalidAgencySettings';
  }
}

const MAX_LIST = 500;
const NPI = /^[0-9]{10}$/;
const ZIP = /^[0-9]{5}(-[0-9]{4})?$/;
const COUNTY = /^[0-9]{5}$/;
const GNIS = /^[0-9]{1,10}$/;
const SNOMED = /^[0-9]{6,18}$/;
const RXNORM = /^[0-9]{2,7}$/;
const PHONE = /^[2-9][0-9]{2}-[2-9][0-9]{2}-[0-9]{4}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Checks a PUT body; the settings to store, or InvalidAgencySettings naming every problem. `previous` keeps a submission password not sent again. */
export function parseAgencySettings(body: unknown, previous?: AgencySettings, options: { allowedHosts?: readonly string[] } = {}): AgencySettings {
  const problems: string[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidAgencySettings(['the body must be a JSON object']);
  const input = body as Record<string, unknown>;
  const known = new Set(['name', 'stateId', 'agencyNumber', 'state', 'serviceAreaCounties', 'serviceAreaZips', 'primaryService', 'levelOfService',
    'organizationStatus', 'organizationType', 'taxStatus', 'npi', 'callbackPhone', 'procedures', 'medications', 'protocols', 'emd', 'contacts', 'facilities', 'stateSubmission', 'billing', 'dispatch', 'map',
    'orderIntake', 'jobChecklists', 'favourites', 'attachments']);
  for (const key of Object.keys(input)) if (!known.has(key)) problems.push(`${key} is not an agency setting (known: ${[...known].join(', ')})`);

  const str = (key: string, min: number, max: number, where = input, label = key): string | undefined => {
    const value = where[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim().length < min || value.trim().length > max) {
      problems.push(`${label} must be text of ${min} to ${max} characters`);
      return undefined;
    }
    return value.trim();
  };
  const required = (key: string, min: number, max: number): string => {
    const value = str(key, min, max);
    if (value === undefined && input[key] === undefined) problems.push(`${key} is required`);
    return value ?? '';
  };
  const code = (key: string, element: string, where = input, label = key, optional = false): string => {
    const value = where[key];
    if (value === undefined) {
      if (!optional) problems.push(`${label} is required (a NEMSIS code of ${element})`);
      return '';
    }
    if (typeof value !== 'string' || !isCodeOf(element, value)) {
      problems.push(`${label} "${String(value).slice(0, 40)}" is not a NEMSIS code of ${element}`);
      return '';
    }
    return value;
  };
  const list = (key: string, pattern: RegExp, what: string, element?: string): string[] => {
    const value = input[key];
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.length > MAX_LIST) {
      problems.push(`${key} must be a list of at most ${MAX_LIST} ${what}`);
      return [];
    }
    const out: string[] = [];
    for (const item of value) {
      if (typeof item !== 'string' || !pattern.test(item) || (element !== undefined && !isCodeOf(element, item))) {
        problems.push(`${key}: "${String(item).slice(0, 40)}" is not ${what}`);
      } else if (!out.includes(item)) out.push(item);
    }
    return out;
  };

  const name = required('name', 2, 100);
  const stateId = required('stateId', 1, 50);
  const agencyNumber = required('agencyNumber', 1, 15);
  const stateGiven = required('state', 2, 2);
  const state = stateGiven ? ansiStateCode(stateGiven) : undefined;
  if (stateGiven && !state) problems.push(`state "${stateGiven}" is neither a two-digit ANSI state code nor a USPS abbreviation`);
  const serviceAreaCounties = list('serviceAreaCounties', COUNTY, '5-digit ANSI county codes');
  for (const county of serviceAreaCounties) if (state && !county.startsWith(state)) problems.push(`serviceAreaCounties: ${county} is not a county of state ${state} (its first two digits must be the state code)`);
  const npi = str('npi', 10, 10);
  if (npi !== undefined && !NPI.test(npi)) problems.push('npi must be the 10-digit National Provider Identifier');
  const callbackPhone = str('callbackPhone', 12, 12);
  if (callbackPhone !== undefined && !PHONE.test(callbackPhone)) problems.push('callbackPhone must look like 203-555-0142 (the number a hospital calls to reach a unit)');

  const contacts: AgencyContact[] = [];
  if (input['contacts'] !== undefined) {
    if (!Array.isArray(input['contacts']) || input['contacts'].length > 50) problems.push('contacts must be a list of at most 50 contacts');
    else input['contacts'].forEach((raw: unknown, i: number) => {
      const c = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
      const where = `contacts[${i}]`;
      const contact: AgencyContact = {
        type: code('type', 'dContact.01', c, `${where}.type`),
        lastName: str('lastName', 1, 60, c, `${where}.lastName`) ?? (problems.push(`${where}.lastName is required`), ''),
        firstName: str('firstName', 1, 50, c, `${where}.firstName`) ?? (problems.push(`${where}.firstName is required`), ''),
      };
      const phone = str('phone', 12, 12, c, `${where}.phone`);
      if (phone !== undefined) (PHONE.test(phone) ? contact.phone = phone : problems.push(`${where}.phone must look like 203-555-0142`));
      const email = str('email', 3, 100, c, `${where}.email`);
      if (email !== undefined) (EMAIL.test(email) ? contact.email = email : problems.push(`${where}.email is not an e-mail address`));
      contacts.push(contact);
    });
  }

  const facilities: AgencyFacility[] = [];
  if (input['facilities'] !== undefined) {
    if (!Array.isArray(input['facilities']) || input['facilities'].length > MAX_LIST) problems.push(`facilities must be a list of at most ${MAX_LIST} facilities`);
    else input['facilities'].forEach((raw: unknown, i: number) => {
      const f = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
      const where = `facilities[${i}]`;
      const facility: AgencyFacility = {
        type: code('type', 'dFacility.01', f, `${where}.type`),
        name: str('name', 2, 100, f, `${where}.name`) ?? (problems.push(`${where}.name is required`), ''),
      };
      const optional = (key: keyof AgencyFacility, min: number, max: number, pattern?: RegExp, what?: string) => {
        const value = str(key, min, max, f, `${where}.${key}`);
        if (value === undefined) return;
        if (pattern && !pattern.test(value)) problems.push(`${where}.${key} is not ${what}`);
        else (facility as unknown as Record<string, unknown>)[key] = value;
      };
      optional('code', 2, 50);
      optional('street', 2, 255);
      optional('cityGnis', 1, 10, GNIS, 'a GNIS city code');
      optional('zip', 5, 10, ZIP, 'a ZIP code');
      optional('county', 5, 5, COUNTY, 'a 5-digit ANSI county code');
      optional('phone', 12, 12, PHONE, 'a phone number like 203-555-0142');
      const fState = str('state', 2, 2, f, `${where}.state`);
      if (fState !== undefined) {
        const ansi = ansiStateCode(fState);
        if (ansi) facility.state = ansi;
        else problems.push(`${where}.state "${fState}" is not a state`);
      }
      for (const key of ['lat', 'lng'] as const) {
        const value = f[key];
        if (value === undefined) continue;
        const limit = key === 'lat' ? 90 : 180;
        if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > limit) problems.push(`${where}.${key} must be a number between -${limit} and ${limit}`);
        else facility[key] = value;
      }
      facilities.push(facility);
    });
  }

  let stateSubmission: StateSubmissionSettings | undefined;
  const submission = input['stateSubmission'];
  if (submission !== undefined && submission !== null) {
    const s = (typeof submission === 'object' && !Array.isArray(submission) ? submission : {}) as Record<string, unknown>;
    const endpoint = str('endpoint', 8, 2000, s, 'stateSubmission.endpoint');
    let url: URL | undefined;
    try { url = endpoint ? new URL(endpoint) : undefined; } catch { url = undefined; }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) problems.push('stateSubmission.endpoint must be the http(s) URL of the state\'s NEMSIS web service');
    else if (!endpointAllowed(url.toString(), options.allowedHosts ?? [])) {
      problems.push(`stateSubmission.endpoint: this server may call only the state web services at ${(options.allowedHosts ?? []).join(', ')} (server setting STATE_ENDPOINT_HOSTS)`);
      url = undefined;
    }
    const username = str('username', 1, 100, s, 'stateSubmission.username');
    const organization = str('organization', 1, 100, s, 'stateSubmission.organization');
    if (username === undefined) problems.push('stateSubmission.username is required (the PrivilegeGroup username the state gave the agency)');
    if (organization === undefined) problems.push('stateSubmission.organization is required (the PrivilegeGroup organization)');
    const password = str('password', 1, 250, s, 'stateSubmission.password') ?? previous?.stateSubmission?.password;
    const automatic = s['automatic'] ?? false;
    if (typeof automatic !== 'boolean') problems.push('stateSubmission.automatic must be true or false');
    if (url && username && organization) {
      stateSubmission = { endpoint: url.toString(), username, organization, ...(password !== undefined ? { password } : {}), automatic: automatic === true };
    }
  }

  const billing = parseBillingSettings(input['billing'], problems);
  const fieldService = parseFieldServiceSettings(input, previous, problems);
  const dispatch = parseDispatchSettings(input['dispatch'], problems);
  const map = parseMapSettings(input['map'], problems, previous?.map);
  const favourites = parseFavourites(input['favourites'], problems);
  const attachments = parseAttachmentSettings(input['attachments'], problems);

  const settings: AgencySettings = {
    name, stateId, agencyNumber, state: state ?? '',
    serviceAreaCounties,
    serviceAreaZips: list('serviceAreaZips', ZIP, 'ZIP codes'),
    primaryService: code('primaryService', 'dAgency.09'),
    levelOfService: code('levelOfService', 'dAgency.11'),
    organizationStatus: code('organizationStatus', 'dAgency.12'),
    organizationType: code('organizationType', 'dAgency.13'),
    taxStatus: code('taxStatus', 'dAgency.14'),
    ...(npi !== undefined && NPI.test(npi) ? { npi } : {}),
    ...(callbackPhone !== undefined && PHONE.test(callbackPhone) ? { callbackPhone } : {}),
    procedures: list('procedures', SNOMED, 'SNOMED CT procedure codes'),
    medications: list('medications', RXNORM, 'RxNorm medication codes'),
    protocols: list('protocols', /^[0-9]{7}$/, 'NEMSIS protocol codes (dConfiguration.10)', 'dConfiguration.10'),
    emd: code('emd', 'dConfiguration.13'),
    contacts,
    facilities,
    ...(stateSubmission ? { stateSubmission } : {}),
    ...(billing ? { billing } : {}),
    ...fieldService,
    ...(dispatch ? { dispatch } : {}),
    ...(map ? { map } : {}),
    ...(favourites ? { favourites } : {}),
    ...(attachments ? { attachments } : {}),
  };
  if (problems.length > 0) throw new InvalidAgencySettings(problems.slice(0, 50));
  return settings;
}

const MAX_FAVOURITES = 100;

/** `favourites`: per NEMSIS vocabulary (medication, procedure, impression...), the codes the agency's crews pick most; each must be a code of that list. */
function parseFavourites(raw: unknown, problems: string[]): VocabularyFavourites | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`favourites must be an object of lists by vocabulary (${VOCABULARY_NAMES.join(', ')})`);
    return undefined;
  }
  const out: Record<string, string[]> = {};
  for (const [name, codes] of Object.entries(raw)) {
    if (!(VOCABULARY_NAMES as readonly string[]).includes(name)) { problems.push(`favourites.${name} is not a NEMSIS vocabulary (known: ${VOCABULARY_NAMES.join(', ')})`); continue; }
    if (!Array.isArray(codes) || codes.length > MAX_FAVOURITES || codes.some((c) => typeof c !== 'string')) { problems.push(`favourites.${name} must be a list of at most ${MAX_FAVOURITES} codes`); continue; }
    const unknown = unknownFavourites(name as VocabularyName, codes as string[]);
    if (unknown.length > 0) { problems.push(`favourites.${name}: ${unknown.slice(0, 5).join(', ')} ${unknown.length === 1 ? 'is not a code' : 'are not codes'} of NEMSIS's ${name} list`); continue; }
    out[name] = [...new Set(codes as string[])];
  }
  return out;
}

export function publicSettings(settings: AgencySettings): PublicAgencySettings {
  const { stateSubmission, orderIntake, map, ...rest } = settings;
  const intake = publicOrderIntake(orderIntake);
  const shown: PublicAgencySettings = { ...rest, ...(intake ? { orderIntake: intake } : {}), ...(map ? { map: publicMapSettings(map) } : {}) };
  if (!stateSubmission) return shown;
  const { password, ...submission } = stateSubmission;
  return { ...shown, stateSubmission: { ...submission, passwordSet: password !== undefined } };
}
