/**
 * The check before sending (issue 16 item 2: "the device can check the same before sending"): on
 * Finalize, the crew app builds the report's NEMSIS export with the server's own builder
 * (shared/nemsis/export) and runs the national Schematron on it in a Web Worker (rules.worker.ts),
 * online or not. Its [ERROR]s stop the finalize on the device, each said at the field that feeds
 * the element, in the same words as the server's (shared/nemsis/schematron-findings.ts); nothing
 * is sent. The server still checks at finalize: it is the authority (and runs the XSD, which the
 * device does not, docs/nemsis-codes.md).
 *
 * The rules are the server's (`EPCRS.nemsisRules`), kept in the device's Cache Storage: fetched
 * when a report is opened online (revalidated by ETag), read from the cache offline. A device that
 * never had them, or whose worker fails, finalizes as before and the server checks.
 */
import { ApiClient, EPCRS, pathOf } from '../../../../shared/protocol/index.ts';
import type { Epcr } from '../../../../shared/schemas/index.ts';
import type { FinalizeProblem } from '../../../../shared/domain/epcr-validation.ts';
import { buildEmsDataSetXml, NemsisExportError, type NemsisAgency } from '../../../../shared/nemsis/export/emsdataset.ts';
import { formFieldOf } from '../../../../shared/nemsis/form-fields.ts';
import { exportProblem, findingOf, schematronProblem, uniqueProblems } from '../../../../shared/nemsis/schematron-findings.ts';
import { getAccessToken } from '../../../session/session.ts';
import type { RulesReply, RulesRequest } from './rules.worker.ts';

export type DeviceCheck =
  | { ran: true; errors: FinalizeProblem[]; ms: number }
  | { ran: false; reason: string };

const CACHE_NAME = 'fieldsync-nemsis-rules';
const RULES_URL = pathOf(EPCRS.nemsisRules);
const FETCH_WAIT_MS = 15_000;
const CHECK_WAIT_MS = 60_000;
/**
 * The agency's NEMSIS identity is the server's (agency settings, admin only): the device's export
 * carries placeholders of the right form instead. The national rules check the report, not who
 * sends it; the server's check, with the real identity, decides.
 */
const DEVICE_AGENCY: NemsisAgency = { stateId: 'DEVICE-CHECK', agencyNumber: 'DEVICE-CHECK', stateCode: '00' };

const api = new ApiClient({ token: getAccessToken });

async function cachedRules(): Promise<Response | undefined> {
  if (!('caches' in globalThis)) return undefined;
  return (await caches.open(CACHE_NAME)).match(RULES_URL);
}

/**
 * Fetches the server's rules when they changed (ETag) and keeps them for offline. Quiet on
 * failure (offline, a server without NEMSIS files): the last copy, if any, stays.
 */
export async function refreshRules(): Promise<void> {
  if (!('caches' in globalThis) || !navigator.onLine) return;
  try {
    const held = await cachedRules();
    const etag = held?.headers.get('etag');
    const response = await api.send(EPCRS.nemsisRules, { headers: etag ? { 'if-none-match': etag } : {}, signal: AbortSignal.timeout(FETCH_WAIT_MS) });
    if (response.status === 200 && response.headers.get('etag')) await (await caches.open(CACHE_NAME)).put(RULES_URL, response);
  } catch {
    // Offline or slow: the last copy serves.
  }
}

let worker: Worker | undefined;
let nextId = 1;

function rulesWorker(): Worker {
  // Lazily: the bundle (SaxonJS and the worker) is fetched on the first check only.
  worker ??= new Worker(new URL('./rules.worker.ts', import.meta.url), { type: 'module', name: 'nemsis-rules' });
  return worker;
}

function ask(request: RulesRequest): Promise<RulesReply> {
  const target = rulesWorker();
  return new Promise<RulesReply>((resolve, reject) => {
    const timer = setTimeout(() => { done(); reject(new Error(`the national rules took more than ${CHECK_WAIT_MS / 1000} s on this device`)); }, CHECK_WAIT_MS);
    const onMessage = (event: MessageEvent<RulesReply>) => { if (event.data.id === request.id) { done(); resolve(event.data); } };
    const onError = (event: ErrorEvent) => { done(); worker = undefined; target.terminate(); reject(new Error(event.message || 'the rules worker failed to start')); };
    const done = () => { clearTimeout(timer); target.removeEventListener('message', onMessage); target.removeEventListener('error', onError); };
    target.addEventListener('message', onMessage);
    target.addEventListener('error', onError);
    target.postMessage(request);
  });
}

/** Runs the national rules on `report`'s NEMSIS export, on this device. Never throws. */
export async function checkOnDevice(report: Epcr): Promise<DeviceCheck> {
  // An addendum is checked as the report it amends with every addendum laid over it, which only the server holds.
  if (report.addendumOf) return { ran: false, reason: 'an addendum is checked by the server, with the report it amends' };
  const held = await cachedRules().catch(() => undefined);
  const etag = held?.headers.get('etag');
  if (!held || !etag) return { ran: false, reason: 'this device has not received the national rules yet (they come when a report is opened online)' };
  let xml: string;
  try {
    xml = buildEmsDataSetXml(report, DEVICE_AGENCY);
  } catch (error) {
    if (!(error instanceof NemsisExportError)) return { ran: false, reason: `the export could not be built here: ${(error as Error).message}` };
    // Mandatory elements without a value (the completeness check names most of them too).
    const errors = error.missing.map((entry) => {
      const element = /^(\S+)/.exec(entry)?.[1] ?? entry;
      const field = formFieldOf(report, element);
      return exportProblem(field?.path ?? `nemsis.${element}`, `${field?.label ?? element}: NEMSIS requires a value here and allows no "Not Recorded" (${element})`);
    });
    return { ran: true, errors: uniqueProblems(errors), ms: 0 };
  }
  try {
    const id = nextId++;
    let reply = await ask({ id, xml, etag });
    if ('needRules' in reply) reply = await ask({ id, xml, etag, rules: await held.text() });
    if ('error' in reply) return { ran: false, reason: `the national rules could not run here: ${reply.error}` };
    if ('needRules' in reply) return { ran: false, reason: 'the rules worker did not take the rules' };
    const errors = reply.findings.map(findingOf).filter((f) => f.severity === 'error').map((f) => schematronProblem(report, f));
    return { ran: true, errors: uniqueProblems(errors), ms: Math.round(reply.ms) };
  } catch (error) {
    return { ran: false, reason: (error as Error).message };
  }
}
