/**
 * Issue 16, item 3 (coverage), in real Chromium through the real crew form: a cardiac arrest with
 * ROSC and a collision with injuries are documented with the inputs the form gained for NEMSIS's
 * national elements (the arrest group, ECG and stroke scale, protocols, crew members and roles,
 * who gave each medication and did each procedure, transport method and mode, destination
 * reason, delays, cause of injury and trauma triage criteria, staging and at-home times...). Each
 * value picked or typed is read back from the server and from the NEMSIS export of the locked
 * report (non-negotiable 2), and each report locks only because its export passes the XSD and the
 * national Schematron with 0 errors (finalize runs both).
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nemsisArtifactKey, stubEpcrId } from '../../server/hooks/workflows/index.ts';
import { unitIdFor } from '../../server/hooks/ids.ts';
import { validateEmsDataSet } from '../../server/nemsis/validate.ts';
import { dateTime } from '../../shared/nemsis/export/values.ts';
import { codeOf, NOT_APPLICABLE, pertinentNegativesOf } from '../../shared/nemsis/codes.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { launchBrowser, screenshot, signInWithToken, textOf, watchConsole } from './support/browser.ts';
import { openCrewTablet, startNationalCheckServer } from './support/crew-tablet.ts';
import { lockableDraft } from './support/epcr.ts';
import { tearDownDevice } from './support/teardown.ts';
import { E2eServer, e2ePort, NEMSIS_DIR, offsetNow, TENANT } from './support/server.ts';
import { PNG_1X1, sha256, tusUpload } from '../server/attachments/support.ts';
import { ATTACHMENTS, pathOf } from '../../shared/protocol/index.ts';

const SERVER_PORT = e2ePort(1681);
const ZONE = 'America/New_York';

/** One input: the section it is in, its path name (its data-testid), what is entered, the element it is exported to and as what. */
interface Entry {
  section: string;
  path: string;
  kind: 'select' | 'codes' | 'text' | 'number' | 'lines' | 'time' | 'pn';
  /** A code (select), codes (codes), text, lines, or a wall-clock time `YYYY-MM-DDTHH:MM:SS` in ZONE. */
  value: string | string[];
  element: string;
  /** What the export holds (default: the value, or each value). */
  exported?: string[];
}

const c = codeOf;
const one = (section: string, path: string, element: string, label: string): Entry => ({ section, path, kind: 'select', value: c(element, label), element });
const many = (section: string, path: string, element: string, labels: string[]): Entry => ({ section, path, kind: 'codes', value: labels.map((l) => c(element, l)), element });
/** A pertinent negative of the element, by its XSD label. */
const negative = (section: string, path: string, element: string, label: string): Entry => (
  { section, path, kind: 'pn', value: pertinentNegativesOf(element).find(([, l]) => l === label)![0], element });
const typed = (section: string, path: string, element: string, value: string, exported?: string[]): Entry => ({ section, path, kind: 'text', value, element, ...(exported ? { exported } : {}) });

/** `2026-12-06T08:15:00` for an instant, on the wall clock of ZONE (the browser's). */
function wallClock(at: Date): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}`;
}

const minutesAgo = (n: number) => new Date(Math.floor(Date.now() / 60_000) * 60_000 - n * 60_000);

/** A report the server can lock once the crew has typed the rest: transported by this unit, with the times and billing a transport needs. */
function seededReport(unitId: string, extra: Record<string, unknown>): Record<string, unknown> & { id: string } {
  const at = (n: number) => offsetNow(minutesAgo(n));
  return lockableDraft(unitId, {
    times: { psapCall: at(70), unitNotified: at(69), unitEnRoute: at(68), unitOnScene: at(60), atPatient: at(59), unitLeftScene: at(40), atDestination: at(30), transferOfCare: at(25), backInService: at(10) },
    vitals: [{ id: 'v1', takenAt: at(58), systolic: 96, heartRate: 118, respiratoryRate: 12, spo2: 94 }],
    medications: [{ id: 'm1', givenAt: at(55), medication: '3992', route: c('eMedications.04', 'Intraosseous (IO)'), dose: 1, doseUnit: c('eMedications.06', 'Milligrams (mg)'), response: c('eMedications.07', 'Unchanged') }],
    procedures: [{ id: 'p1', performedAt: at(57), procedure: '426220008', attempts: 1, successful: c('eProcedures.06', 'Yes'), response: c('eProcedures.08', 'Improved') }],
    crew: [{ id: 'c1' }],
    disposition: {
      unitDisposition: c('eDisposition.27', 'Patient Contact Made'), transportDisposition: c('eDisposition.30', 'Transport by This EMS Unit (This Crew Only)'),
      destinationName: 'Danbury Hospital', destinationType: c('eDisposition.21', 'Hospital-Emergency Department'), loadedMiles: 4.1,
    },
    payment: { serviceLevel: c('ePayment.50', 'ALS, Level 2') },
    scene: { address: { zip: '06810' } },
    ...extra,
  });
}

/** Every element's values in an EMSDataSet. */
function exportValues(xml: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of xml.matchAll(/<([de][A-Za-z]+\.[0-9]+)(?:\s[^>]*)?>([^<]*)<\/\1>/g)) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  return out;
}

function valueAt(doc: unknown, name: string): unknown {
  let at: unknown = doc;
  for (const [, key, id] of name.matchAll(/([A-Za-z0-9_]+)|\[([^\]]+)\]/g)) {
    if (at === undefined || at === null || typeof at !== 'object') return undefined;
    at = id !== undefined ? (at as { id?: string }[]).find((item) => item?.id === id) : (at as Record<string, unknown>)[key!];
  }
  return at;
}

describe('national elements typed through the crew form reach the server and the NEMSIS export (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { nemsisCheck: true });
  let profile: string;
  let ctx: BrowserContext | undefined;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await startNationalCheckServer(server);
    ({ profile, ctx, page } = await openCrewTablet(server.url, 'tablet-nat:M1', errors, { context: { timezoneId: ZONE, viewport: { width: 1280, height: 900 } } }));
  }, 600_000);

  afterAll(async () => {
    await tearDownDevice({ ctx, server, profile, errors });
  });

  const stored = async (id: string) => (await server.docs<Epcr>('epcrs', [id]))[0];

  /** Enters every entry through the form, section by section; waits until the server holds each; finalizes; returns the export of the locked report. */
  async function documentAndLock(report: { id: string }, entries: Entry[], seed = true): Promise<{ doc: Epcr; xml: string }> {
    // A report the server made (a CAD stub) is not seeded: the crew opens what the server holds.
    if (seed) await server.seed('epcrs', [report]);
    await page.goto(`${server.url}/crew/#/epcr/${report.id}`);
    await page.locator(`[data-testid="epcr-form"][data-id="${report.id}"]`).waitFor({ timeout: 20_000 });
    const expected = new Map<string, unknown>();
    for (const entry of entries) {
      await page.getByTestId(`section-${entry.section}`).first().click();
      const input = page.getByTestId(entry.path);
      if (entry.kind === 'select' || entry.kind === 'pn') await input.selectOption(entry.value as string);
      else if (entry.kind === 'codes') await input.selectOption(entry.value as string[]);
      else if (entry.kind === 'lines') await input.fill((entry.value as string[]).join('\n'));
      else await input.fill(entry.value as string);
      expected.set(entry.path, entry.kind === 'text' ? (entry.value as string).trim() : entry.kind === 'number' ? Number(entry.value) : entry.value);
    }
    // The server holds what was entered (a time: the wall clock typed, with the tablet's offset).
    const differences = async () => {
      const doc = await stored(report.id);
      return entries.flatMap((entry) => {
        const held = valueAt(doc, entry.path);
        if (entry.kind === 'time') return typeof held === 'string' && held.startsWith(entry.value as string) && /[+-]\d{2}:\d{2}$/.test(held) ? [] : [`${entry.path}: typed ${String(entry.value)}, server holds ${JSON.stringify(held)}`];
        return JSON.stringify(held) === JSON.stringify(expected.get(entry.path)) ? [] : [`${entry.path}: entered ${JSON.stringify(expected.get(entry.path))}, server holds ${JSON.stringify(held)}`];
      });
    };
    await expect.poll(differences, { timeout: 30_000 }).toEqual([]);

    await page.getByTestId('finalize').click();
    await expect.poll(() => textOf(page.getByTestId('epcr-status')), { timeout: 90_000 }).toMatch(/Locked by the server|Returned by the server/);
    const doc = (await stored(report.id))!;
    expect(doc.finalizeErrors, 'finalize ran the XSD and the national Schematron: no problem').toEqual([]);
    expect(doc.lockedAt).toBeDefined();
    let xml = '';
    await expect.poll(async () => (xml = (await server.server!.app.store.getArtifact(nemsisArtifactKey(report.id), TENANT))?.content ?? ''), { timeout: 30_000 }).not.toBe('');
    return { doc, xml };
  }

  /** The export as a state's receiver checks it: XSD and national Schematron; the figures are printed for the issue's closing note. */
  async function receiverCheck(kind: string, xml: string): Promise<void> {
    const check = await validateEmsDataSet(xml, { nemsisDir: NEMSIS_DIR });
    console.info(`[app-made report] ${kind}: XSD ${check.xsdErrors.length === 0 ? 'valid' : `INVALID (${check.xsdErrors.length})`}, national Schematron errors ${check.schematronErrors.length}, warnings ${check.schematronWarnings.length}${check.schematronWarnings.length ? ` (${[...new Set(check.schematronWarnings.map((w) => w.rule))].join(', ')})` : ''}`);
    expect(check.xsdErrors, `${kind}: the export passes the XSD`).toEqual([]);
    expect(check.schematronErrors, `${kind}: 0 national Schematron errors`).toEqual([]);
  }

  /** Each entry's value at its element in the export (times as the export writes the stored time). */
  function exportProblems(doc: Epcr, xml: string, entries: Entry[]): string[] {
    const values = exportValues(xml);
    return entries.flatMap((entry) => {
      const held = valueAt(doc, entry.path);
      // A pertinent negative is the element's PN attribute.
      if (entry.kind === 'pn') return new RegExp(`<${entry.element.replace('.', '\\.')} [^>]*PN="${String(entry.value)}"`).test(xml) ? [] : [`${entry.path} -> ${entry.element}: no PN="${String(entry.value)}" in the export`];
      const wanted = entry.exported ?? (entry.kind === 'time' ? [dateTime(held as string)!] : Array.isArray(entry.value) ? entry.value : [entry.value.trim()]);
      const present = values.get(entry.element) ?? [];
      const missing = wanted.filter((w) => !present.includes(w));
      return missing.length ? [`${entry.path} -> ${entry.element}: expected ${JSON.stringify(missing)}, export has ${JSON.stringify(present)}`] : [];
    });
  }

  it('a cardiac arrest with ROSC: every arrest element, ECG, protocols, crew, performers and transport typed in the form; the report locks and the export carries each', async () => {
    const report = seededReport('M1', { dispatch: { reason: c('eDispatch.01', 'Cardiac Arrest/Death') }, situation: { chiefComplaint: 'collapsed at breakfast', possibleInjury: c('eSituation.02', 'No') } });
    const arrestAt = wallClock(minutesAgo(72));
    const alertAt = wallClock(minutesAgo(42));
    const staging = wallClock(minutesAgo(62));
    const home = wallClock(minutesAgo(5));
    const entries: Entry[] = [
      one('arrest', 'arrest.cardiacArrest', 'eArrest.01', 'Yes, Prior to Any EMS Arrival (includes Transport EMS & Medical First Responders)'),
      one('arrest', 'arrest.etiology', 'eArrest.02', 'Cardiac (Presumed)'),
      many('arrest', 'arrest.resuscitationAttempted', 'eArrest.03', ['Attempted Defibrillation', 'Initiated Chest Compressions']),
      many('arrest', 'arrest.witnessedBy', 'eArrest.04', ['Witnessed by Family Member']),
      one('arrest', 'arrest.aedPriorToEms', 'eArrest.07', 'No'),
      many('arrest', 'arrest.cprTypes', 'eArrest.09', ['Compressions-Manual', 'Ventilation-Bag Valve Mask']),
      one('arrest', 'arrest.firstRhythm', 'eArrest.11', 'Ventricular Fibrillation'),
      many('arrest', 'arrest.rosc', 'eArrest.12', ['Yes, Prior to Arrival at the ED']),
      { section: 'arrest', path: 'arrest.arrestAt', kind: 'time', value: arrestAt, element: 'eArrest.14' },
      one('arrest', 'arrest.cprFirstBy', 'eArrest.20', 'Family Member'),
      one('arrest', 'arrest.aedFirstBy', 'eArrest.21', 'EMS Responder (transport EMS)'),
      one('arrest', 'arrest.defibrillatedFirstBy', 'eArrest.22', 'EMS Responder (transport EMS)'),
      one('arrest', 'arrest.discontinuedReason', 'eArrest.16', 'Return of Spontaneous Circulation (pulse or BP noted)'),
      many('arrest', 'arrest.rhythmAtDestination', 'eArrest.17', ['Sinus Tachycardia']),
      one('arrest', 'arrest.endOfEvent', 'eArrest.18', 'ROSC in the Field'),
      // Call: EMD, numbers, delays, descriptors, the crew.
      one('response', 'dispatch.emdPerformed', 'eDispatch.02', 'Yes, With Pre-Arrival Instructions'),
      typed('response', 'response.responseNumber', 'eResponse.04', 'R-2026-0042'),
      typed('response', 'record.pcrNumber', 'eRecord.01', 'PCR-2026-0042'),
      many('response', 'response.responseModeDescriptors', 'eResponse.24', ['Lights and Sirens']),
      many('response', 'response.dispatchDelays', 'eResponse.08', ['None/No Delay']),
      many('response', 'response.responseDelays', 'eResponse.09', ['Traffic', 'Weather']),
      many('response', 'response.sceneDelays', 'eResponse.10', ['Extrication']),
      many('response', 'response.transportDelays', 'eResponse.11', ['None/No Delay']),
      many('response', 'response.turnAroundDelays', 'eResponse.12', ['Clean-up']),
      typed('response', 'crew[c1].memberId', 'eCrew.01', 'P-40211'),
      one('response', 'crew[c1].level', 'eCrew.02', 'Paramedic'),
      many('response', 'crew[c1].roles', 'eCrew.03', ['Primary Patient Caregiver-At Scene', 'Primary Patient Caregiver-Transport']),
      // Patient: home state and county (as codes in the export), race.
      typed('patient', 'patient.address.state', 'ePatient.08', 'CT', ['09']),
      typed('patient', 'patient.address.county', 'ePatient.07', '09001'),
      many('patient', 'patient.race', 'ePatient.14', ['White']),
      // Situation.
      typed('situation', 'situation.primarySymptom', 'eSituation.09', 'R09.2'),
      { section: 'situation', path: 'situation.secondaryImpressions', kind: 'lines', value: ['I49.01'], element: 'eSituation.12' },
      { section: 'situation', path: 'situation.otherSymptoms', kind: 'lines', value: ['R06.81'], element: 'eSituation.10' },
      one('situation', 'situation.complaintLocation', 'eSituation.07', 'Chest'),
      one('situation', 'situation.complaintOrganSystem', 'eSituation.08', 'Cardiovascular'),
      // History.
      many('history', 'history.barriersToCare', 'eHistory.01', ['Unconscious']),
      many('history', 'history.alcoholDrugUse', 'eHistory.17', ['Patient Admits to Alcohol Use']),
      // ECG, GCS qualifier, stroke scale on the vital set.
      many('vitals', 'vitals[v1].cardiacRhythm', 'eVitals.03', ['Ventricular Fibrillation']),
      one('vitals', 'vitals[v1].ecgType', 'eVitals.04', '2 Lead ECG (pads or paddles)'),
      many('vitals', 'vitals[v1].ecgInterpretation', 'eVitals.05', ['Manual Interpretation']),
      many('vitals', 'vitals[v1].gcsQualifiers', 'eVitals.22', ['Patient Chemically Sedated']),
      one('vitals', 'vitals[v1].strokeScaleType', 'eVitals.30', 'Cincinnati Prehospital Stroke Scale (CPSS)'),
      one('vitals', 'vitals[v1].strokeScaleResult', 'eVitals.29', 'Non-Conclusive'),
      one('vitals', 'vitals[v1].reperfusionChecklist', 'eVitals.31', 'Definite Contraindications to Thrombolytic Use'),
      one('vitals', 'vitals[v1].priorToUnit', 'eVitals.02', 'No'),
      // Protocols, who gave and did what.
      many('treatment', 'protocols.used', 'eProtocols.01', ['Cardiac Arrest-Ventricular Fibrillation/ Pulseless Ventricular Tachycardia', 'Cardiac Arrest-Post Resuscitation Care']),
      one('treatment', 'medications[m1].complication', 'eMedications.08', 'None'),
      one('treatment', 'medications[m1].performerRole', 'eMedications.10', 'Paramedic'),
      one('treatment', 'medications[m1].priorToUnit', 'eMedications.02', 'No'),
      many('treatment', 'procedures[p1].complications', 'eProcedures.07', ['None']),
      one('treatment', 'procedures[p1].performerRole', 'eProcedures.10', 'Paramedic'),
      one('treatment', 'procedures[p1].priorToUnit', 'eProcedures.02', 'No'),
      // Disposition: how and where to, and why there.
      one('disposition', 'disposition.preArrivalAlert', 'eDisposition.24', 'Yes-Cardiac Arrest'),
      { section: 'disposition', path: 'disposition.preArrivalAlertAt', kind: 'time', value: alertAt, element: 'eDisposition.25' },
      one('disposition', 'disposition.patientEvaluationCare', 'eDisposition.28', 'Patient Evaluated and Care Provided'),
      one('disposition', 'disposition.crewDisposition', 'eDisposition.29', 'Initiated and Continued Primary Care'),
      one('disposition', 'disposition.levelOfCare', 'eDisposition.32', 'ALS - Paramedic'),
      one('disposition', 'disposition.releaseAcuity', 'eDisposition.19', 'Critical (Red)'),
      one('disposition', 'disposition.transportMethod', 'eDisposition.16', 'Ground-Ambulance'),
      one('disposition', 'disposition.transportMode', 'eDisposition.17', 'Emergent (Immediate Response)'),
      many('disposition', 'disposition.transportModeDescriptors', 'eDisposition.18', ['Lights and Sirens']),
      many('disposition', 'disposition.destinationReasons', 'eDisposition.20', ['Protocol', 'Regional Specialty Center']),
      one('disposition', 'disposition.inpatientDestination', 'eDisposition.22', 'Hospital-Cath Lab'),
      many('disposition', 'disposition.hospitalCapabilities', 'eDisposition.23', ['Cardiac-STEMI/PCI Capable (24/7)']),
      typed('disposition', 'disposition.destinationAddress.state', 'eDisposition.05', 'CT', ['09']),
      typed('disposition', 'disposition.destinationAddress.county', 'eDisposition.06', '09001'),
      typed('disposition', 'disposition.destinationAddress.zip', 'eDisposition.07', '06810'),
      // Times: staging and back at home (CAD statuses).
      { section: 'times', path: 'times.unitArrivedStaging', kind: 'time', value: staging, element: 'eTimes.17' },
      { section: 'times', path: 'times.unitBackAtHome', kind: 'time', value: home, element: 'eTimes.15' },
      // Billing and scene.
      one('billing', 'payment.primaryMethod', 'ePayment.01', 'Medicare'),
      typed('billing', 'scene.address.state', 'eScene.18', 'CT', ['09']),
      typed('billing', 'scene.address.county', 'eScene.21', '09001'),
      typed('billing', 'scene.locationType', 'eScene.09', 'Y92.009'),
      { section: 'billing', path: 'scene.numberOfPatients', kind: 'number', value: '1', element: 'eScene.06', exported: [c('eScene.06', 'Single')] },
      one('billing', 'scene.firstOnScene', 'eScene.01', 'Yes'),
      one('billing', 'scene.massCasualty', 'eScene.07', 'No'),
    ];
    const { doc, xml } = await documentAndLock(report, entries);
    await page.getByTestId('section-arrest').click();
    await screenshot(page, 'epcr-cardiac-arrest-locked');
    expect(exportProblems(doc, xml, entries), 'every value entered is at its element in the export').toEqual([]);
    await receiverCheck('cardiac arrest with ROSC', xml);
    // Age from the date of birth, shown and stored (the seeded report states an age: the export keeps it).
    expect(exportValues(xml).get('ePatient.15')).toEqual(['67']);
  }, 300_000);

  it('a collision with injuries: cause of injury and trauma triage criteria typed in the form, MCI triage, pertinent negatives; with no arrest, the arrest group is Not Applicable', async () => {
    const report = seededReport('M1', { dispatch: { reason: c('eDispatch.01', 'Traffic/Transportation Incident') }, situation: { chiefComplaint: 'head bleeding, neck pain', possibleInjury: c('eSituation.02', 'Yes') } });
    const entries: Entry[] = [
      { section: 'situation', path: 'injury.causes', kind: 'lines', value: ['V43.52XA', 'Y28.9'], element: 'eInjury.01' },
      many('situation', 'injury.highRiskCriteria', 'eInjury.03', ['Skull deformity, suspected skull fracture']),
      many('situation', 'injury.moderateRiskCriteria', 'eInjury.04', ['Auto Crash: Partial or complete ejection', 'Anticoagulant use']),
      one('arrest', 'arrest.cardiacArrest', 'eArrest.01', 'No'),
      one('billing', 'scene.massCasualty', 'eScene.07', 'Yes'),
      one('billing', 'scene.mciTriage', 'eScene.08', 'Yellow - Delayed'),
      // Pertinent negatives: what the crew found instead of a value.
      negative('history', 'history.allergiesPertinentNegative', 'eHistory.06', 'No Known Drug Allergy'),
      negative('history', 'history.alcoholDrugUsePertinentNegative', 'eHistory.17', 'None Reported'),
      negative('treatment', 'procedures[p1].pertinentNegative', 'eProcedures.03', 'Contraindication Noted'),
    ];
    const { doc, xml } = await documentAndLock(report, entries);
    expect(exportProblems(doc, xml, entries)).toEqual([]);
    await receiverCheck('collision with injuries', xml);
    // The crew's "No": the arrest's details are Not Applicable, not Not Recorded.
    await page.getByTestId('section-arrest').click();
    expect(await textOf(page.getByTestId('arrest-not-applicable'))).toContain('Not Applicable');
    for (const element of ['eArrest.02', 'eArrest.03', 'eArrest.11', 'eArrest.14', 'eArrest.18']) {
      expect(xml, element).toContain(`<${element} xsi:nil="true" NV="${NOT_APPLICABLE}"/>`);
    }
  }, 300_000);
  it('an overdose with naloxone: opioid impression, the first vitals (RR 4, SpO2 78%), naloxone given intranasally and the response typed in the form; the report locks', async () => {
    const at = (n: number) => offsetNow(minutesAgo(n));
    const report = seededReport('M1', {
      dispatch: { reason: c('eDispatch.01', 'Overdose/Poisoning/Ingestion') },
      situation: { chiefComplaint: 'unresponsive, pinpoint pupils', possibleInjury: c('eSituation.02', 'No') },
      arrest: { cardiacArrest: c('eArrest.01', 'No') },
      medications: [{ id: 'm1', givenAt: at(55), medication: '' }],
    });
    const entries: Entry[] = [
      typed('situation', 'situation.primaryImpression', 'eSituation.11', 'T40.6'),
      typed('situation', 'situation.primarySymptom', 'eSituation.09', 'F11'),
      { section: 'vitals', path: 'vitals[v1].respiratoryRate', kind: 'number', value: '4', element: 'eVitals.14', exported: ['4'] },
      { section: 'vitals', path: 'vitals[v1].spo2', kind: 'number', value: '78', element: 'eVitals.12', exported: ['78'] },
      typed('treatment', 'medications[m1].medication', 'eMedications.03', '7242'),
      one('treatment', 'medications[m1].route', 'eMedications.04', 'Intranasal'),
      { section: 'treatment', path: 'medications[m1].dose', kind: 'number', value: '4', element: 'eMedications.05', exported: ['4'] },
      one('treatment', 'medications[m1].doseUnit', 'eMedications.06', 'Milligrams (mg)'),
      one('treatment', 'medications[m1].response', 'eMedications.07', 'Improved'),
      one('treatment', 'medications[m1].performerRole', 'eMedications.10', 'Paramedic'),
      many('history', 'history.alcoholDrugUse', 'eHistory.17', ['Patient Admits to Drug Use']),
    ];
    const { doc, xml } = await documentAndLock(report, entries);
    expect(exportProblems(doc, xml, entries)).toEqual([]);
    await receiverCheck('overdose with naloxone', xml);
  }, 300_000);

  it('a refusal: evaluated, refused care and transport, back in service; no destination is asked and the transport elements are Not Applicable', async () => {
    const report = lockableDraft('M1', {
      dispatch: { reason: c('eDispatch.01', 'Falls') },
      situation: { chiefComplaint: 'slipped on ice, no complaints', possibleInjury: c('eSituation.02', 'No') },
      arrest: { cardiacArrest: c('eArrest.01', 'No') },
      disposition: { unitDisposition: c('eDisposition.27', 'Patient Contact Made') },
      // Issue 18's refusal rule: the statement and a crew member's signed attestation, seeded as the
      // device writes them (attachments-refusal.test.ts draws them on the pad), with the signature's
      // bytes uploaded below: the lock waits for every file a report lists.
      refusal: { statement: 'Risks of refusing transport explained, including worsening injury and death; patient understands.' },
      attachments: [{
        sha256: sha256(PNG_1X1), kind: 'signature', purpose: 'crew-attestation', contentType: 'image/png', size: PNG_1X1.length, capturedAt: offsetNow(minutesAgo(21)),
        signature: { signerType: '4512003', status: '4515031' }, attestation: { status: '4515013', text: 'Patient declined to sign; refusal witnessed by the crew.' },
      }],
    });
    const left = wallClock(minutesAgo(20));
    const entries: Entry[] = [
      one('disposition', 'disposition.patientEvaluationCare', 'eDisposition.28', 'Patient Evaluated and Refused Care'),
      one('disposition', 'disposition.crewDisposition', 'eDisposition.29', 'Back in Service, Care/Support Services Refused'),
      one('disposition', 'disposition.transportDisposition', 'eDisposition.30', 'Patient Refused Transport'),
      one('disposition', 'disposition.levelOfCare', 'eDisposition.32', 'ALS - Paramedic'),
      { section: 'times', path: 'times.unitLeftScene', kind: 'time', value: left, element: 'eTimes.09' },
      typed('narrative', 'narrative.text', 'eNarrative.01', 'Alert and oriented x4, no injury found; refused transport after the risks were explained.'),
    ];
    await tusUpload(server.url + pathOf(ATTACHMENTS.createUpload), PNG_1X1, { sha256: sha256(PNG_1X1), contentType: 'image/png', collection: 'epcrs', docId: String(report.id) },
      { authorization: `Bearer dev:${TENANT}:crew:tablet-nat:M1` });
    const { doc, xml } = await documentAndLock(report, entries);
    expect(exportProblems(doc, xml, entries)).toEqual([]);
    await receiverCheck('refusal', xml);
    for (const element of ['eDisposition.16', 'eDisposition.17', 'eDisposition.21']) expect(xml, element).toContain(`<${element} xsi:nil="true" NV="${NOT_APPLICABLE}"/>`);
  }, 300_000);

  it('an interfacility transfer: the service requested, the reason for the transfer, from a hospital, why that destination; the report locks', async () => {
    const report = seededReport('M1', {
      dispatch: { reason: c('eDispatch.01', 'Transfer/Interfacility/Palliative Care') },
      situation: { chiefComplaint: 'STEMI for PCI', possibleInjury: c('eSituation.02', 'No') },
      arrest: { cardiacArrest: c('eArrest.01', 'No') },
    });
    const entries: Entry[] = [
      one('response', 'response.serviceType', 'eResponse.05', 'Hospital-to-Hospital Transfer'),
      one('situation', 'situation.transferReason', 'eSituation.20', 'Cardiac Specialty'),
      typed('situation', 'situation.primaryImpression', 'eSituation.11', 'I21.3'),
      typed('billing', 'scene.locationType', 'eScene.09', 'Y92.23'),
      many('disposition', 'disposition.destinationReasons', 'eDisposition.20', ['Regional Specialty Center']),
      one('disposition', 'disposition.transportMode', 'eDisposition.17', 'Emergent (Immediate Response)'),
      one('disposition', 'disposition.levelOfCare', 'eDisposition.32', 'ALS - Paramedic'),
    ];
    const { doc, xml } = await documentAndLock(report, entries);
    expect(exportProblems(doc, xml, entries)).toEqual([]);
    await receiverCheck('interfacility transfer', xml);
  }, 300_000);
  it('a call started in the dispatch console: the dispatcher creates the incident and assigns M1, the server makes the stub, the crew fills it in the form; the report locks', async () => {
    await server.seed('units', [{ id: unitIdFor(TENANT, 'M1'), callSign: 'M1', status: 'available', statusAt: offsetNow() }]);
    const browser = await launchBrowser();
    try {
      const console_ = await (await browser.newContext({ timezoneId: ZONE, viewport: { width: 1280, height: 900 } })).newPage();
      watchConsole(console_, 'dispatch', errors);
      await signInWithToken(console_, server.url, `dev:${TENANT}:dispatcher:console-nat`, '/dispatch/');
      await console_.getByTestId('unit-table').waitFor({ timeout: 30_000 });
      await console_.getByTestId('new-incident').click();
      const form = console_.getByTestId('new-incident-form');
      await form.waitFor();
      await expect.poll(() => form.locator('#ni-unit option[value="M1"]').count(), { timeout: 30_000 }).toBe(1);
      const incidentNumber = `2026-${Math.floor(Math.random() * 900_000 + 100_000)}`;
      await form.getByLabel('Incident number').fill(incidentNumber);
      await form.locator('#ni-priority').selectOption({ index: 1 });
      await form.getByLabel('Complaint').fill('short of breath');
      await form.getByLabel('Street').fill('24 Hospital Ave');
      await form.getByLabel('ZIP').fill('06810');
      await form.locator('#ni-unit').selectOption('M1');
      await form.getByRole('button', { name: 'Create incident' }).click();
      const incident = async () => (await server.docs<{ id: string; incidentNumber: string; assignedUnitId?: string }>('incidents')).find((d) => d.incidentNumber === incidentNumber);
      await expect.poll(async () => (await incident())?.assignedUnitId, { timeout: 30_000 }).toBe('M1');
      const stubId = stubEpcrId(TENANT, (await incident())!.id, 'M1');
      await expect.poll(async () => (await stored(stubId))?.response?.incidentNumber, { timeout: 30_000 }).toBe(incidentNumber);

      // The crew opens the stub and adds a vital set (its id is the tablet's).
      await page.goto(`${server.url}/crew/#/epcr/${stubId}`);
      await page.locator(`[data-testid="epcr-form"][data-id="${stubId}"]`).waitFor({ timeout: 30_000 });
      await page.getByTestId('section-vitals').first().click();
      await page.getByTestId('add-vitals').click();
      await expect.poll(async () => (await stored(stubId))?.vitals?.length ?? 0, { timeout: 30_000 }).toBe(1);
      const vitalId = (await stored(stubId))!.vitals![0]!.id;
      const time = (section: string, path: string, element: string, minutes: number): Entry => ({ section, path, kind: 'time', value: wallClock(minutesAgo(minutes)), element });
      const entries: Entry[] = [
        one('response', 'response.serviceType', 'eResponse.05', 'Emergency Response (Primary Response Area)'),
        one('response', 'response.unitCapability', 'eResponse.07', 'Ground Transport (ALS Equipped)'),
        typed('response', 'response.vehicleNumber', 'eResponse.13', 'V-101'),
        one('response', 'response.responseMode', 'eResponse.23', 'Emergent (Immediate Response)'),
        one('response', 'dispatch.reason', 'eDispatch.01', 'Breathing Problem'),
        // The console stamped the PSAP call when it created the incident (a moment ago); the crew
        // records the call as it happened, earlier, so its times are in order and in the past.
        time('times', 'times.psapCall', 'eTimes.01', 45),
        time('times', 'times.unitNotified', 'eTimes.03', 40),
        time('times', 'times.unitOnScene', 'eTimes.06', 30),
        time('times', 'times.unitLeftScene', 'eTimes.09', 15),
        time('times', 'times.backInService', 'eTimes.13', 10),
        typed('patient', 'patient.lastName', 'ePatient.02', 'Okafor'),
        typed('patient', 'patient.firstName', 'ePatient.03', 'Ada'),
        { section: 'patient', path: 'patient.age', kind: 'number', value: '54', element: 'ePatient.15', exported: ['54'] },
        one('patient', 'patient.ageUnits', 'ePatient.16', 'Years'),
        one('patient', 'patient.sex', 'ePatient.25', 'Female'),
        one('patient', 'patient.gender', 'ePatient.13', 'Female (DEPRECATED)'),
        typed('situation', 'situation.chiefComplaint', 'eSituation.04', 'short of breath after climbing stairs'),
        one('situation', 'situation.possibleInjury', 'eSituation.02', 'No'),
        typed('situation', 'situation.primaryImpression', 'eSituation.11', 'R06.02'),
        one('arrest', 'arrest.cardiacArrest', 'eArrest.01', 'No'),
        { section: 'vitals', path: `vitals[${vitalId}].heartRate`, kind: 'number', value: '96', element: 'eVitals.10', exported: ['96'] },
        { section: 'vitals', path: `vitals[${vitalId}].spo2`, kind: 'number', value: '95', element: 'eVitals.12', exported: ['95'] },
        one('disposition', 'disposition.unitDisposition', 'eDisposition.27', 'Patient Contact Made'),
        one('disposition', 'disposition.patientEvaluationCare', 'eDisposition.28', 'Patient Evaluated, No Care Required'),
        one('disposition', 'disposition.crewDisposition', 'eDisposition.29', 'Back in Service, No Care/Support Services Required'),
        one('disposition', 'disposition.transportDisposition', 'eDisposition.30', 'No Transport'),
        one('disposition', 'disposition.levelOfCare', 'eDisposition.32', 'ALS - Paramedic'),
      ];
      const { doc, xml } = await documentAndLock({ id: stubId }, entries, false);
      expect(doc.incidentId, 'the report is the stub of the console\'s incident').toBe((await incident())!.id);
      expect(exportProblems(doc, xml, entries)).toEqual([]);
      // What the console entered travels with the report: the incident number, the scene ZIP.
      expect(exportValues(xml).get('eResponse.03')).toEqual([incidentNumber]);
      expect(exportValues(xml).get('eScene.19')).toEqual(['06810']);
      await receiverCheck('started from a dispatch-console incident', xml);
    } finally {
      await browser.close();
    }
  }, 400_000);
});
