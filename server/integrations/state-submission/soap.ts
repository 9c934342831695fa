/**
 * The NEMSIS V3 state submission web service (../shared/nemsis/wsdl/NEMSIS_V3_core.wsdl):
 * document/literal SOAP 1.1, operations SubmitData and RetrieveStatus, namespace
 * http://ws.nemsis.org/ with qualified elements. The request envelopes are written here and the
 * answers read with SaxonJS's XPath (already the project's XML engine).
 *
 * Why not the npm `soap` client: it would read the WSDL at run time and build the envelope from
 * it, but the payload is an `xs:any` (the EMSDataSet itself), which it passes through as raw XML
 * anyway; and it brings its own HTTP stack with its own timeouts and retries, which would bypass the
 * per-attempt abort, backoff and breaker every other integration gets from resilient-call.ts. Two
 * fixed operations are a few lines; test/server/integrations/state-submission validates the
 * envelopes this module writes against the WSDL's own schema with xmllint, so a wrong shape fails a test.
 */
import { createRequire } from 'node:module';
import { NEMSIS_WS_CODE_RANGES, NEMSIS_WS_CODE_TYPES } from '../../../shared/nemsis/submission-codes.generated.ts';
import { escapeText } from '../../../shared/nemsis/export/xml-writer.ts';

export const WS_NAMESPACE = 'http://ws.nemsis.org/';
export const SOAP_ENVELOPE_NAMESPACE = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP_ACTIONS = { SubmitData: 'http://ws.nemsis.org/SubmitData', RetrieveStatus: 'http://ws.nemsis.org/RetrieveStatus' } as const;
/** requestDataSchema of an EMSDataSet (NemsisDataSchema "NEMSIS EMS Schema"). */
export const EMS_DATA_SCHEMA = NEMSIS_WS_CODE_TYPES.NemsisDataSchema.find(([, label]) => label === 'NEMSIS EMS Schema')![0];

export interface WsCredentials {
  username: string;
  password: string;
  organization: string;
}

const XML_DECLARATION = /^\s*<\?xml[^>]*\?>\s*/;

function envelope(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NAMESPACE}" xmlns:ws="${WS_NAMESPACE}">\n<soapenv:Header/>\n<soapenv:Body>\n${body}\n</soapenv:Body>\n</soapenv:Envelope>\n`;
}

function privilege(credentials: WsCredentials): string {
  return `<ws:username>${escapeText(credentials.username)}</ws:username><ws:password>${escapeText(credentials.password)}</ws:password><ws:organization>${escapeText(credentials.organization)}</ws:organization>`;
}

/** SubmitDataRequest with the EMSDataSet document as the payload element (its XML declaration removed: it is embedded). */
export function submitDataEnvelope(credentials: WsCredentials, emsDataSet: string, schemaVersion: string, additionalInfo: string): string {
  return envelope(`<ws:SubmitDataRequest>${privilege(credentials)}<ws:requestType>SubmitData</ws:requestType>` +
    `<ws:submitPayload><ws:payloadOfXmlElement>${emsDataSet.replace(XML_DECLARATION, '')}</ws:payloadOfXmlElement></ws:submitPayload>` +
    `<ws:requestDataSchema>${EMS_DATA_SCHEMA}</ws:requestDataSchema><ws:schemaVersion>${escapeText(schemaVersion)}</ws:schemaVersion>` +
    `<ws:additionalInfo>${escapeText(additionalInfo)}</ws:additionalInfo></ws:SubmitDataRequest>`);
}

export function retrieveStatusEnvelope(credentials: WsCredentials, requestHandle: string, additionalInfo: string): string {
  return envelope(`<ws:RetrieveStatusRequest>${privilege(credentials)}<ws:requestType>RetrieveStatus</ws:requestType>` +
    `<ws:requestHandle>${escapeText(requestHandle)}</ws:requestHandle><ws:originalRequestType>SubmitData</ws:originalRequestType>` +
    `<ws:additionalInfo>${escapeText(additionalInfo)}</ws:additionalInfo></ws:RetrieveStatusRequest>`);
}

export interface WsAnswer {
  /** The response element's local name (SubmitDataResponse, RetrieveStatusResponse), or Fault. */
  element: string;
  statusCode: number | undefined;
  requestHandle: string | undefined;
  /** A SOAP Fault's faultcode and faultstring. */
  faultCode?: string;
  faultString?: string;
  /** Messages of the answer's reports (server error, XML validation errors, Schematron), for people. */
  messages: string[];
}

interface SaxonXPath { XPath: { evaluate(expression: string, context: unknown, options?: Record<string, unknown>): unknown } }
const saxon = createRequire(import.meta.url)('saxon-js') as SaxonXPath;

/** Reads an answer; throws when it is not XML or holds no SOAP body. */
export function parseAnswer(text: string): WsAnswer {
  let doc: unknown;
  try {
    doc = saxon.XPath.evaluate('parse-xml($xml)', null, { params: { xml: text } });
  } catch (error) {
    throw new Error(`the answer is not XML (${(error as Error).message.slice(0, 120)})`);
  }
  const str = (expression: string) => String(saxon.XPath.evaluate(`string(${expression})`, doc));
  const element = str("local-name((/*:Envelope/*:Body/*)[1])");
  if (element === '') throw new Error('the answer is not a SOAP envelope with a body');
  const code = str('(/*:Envelope/*:Body/*/*:statusCode)[1]');
  const handle = str('(/*:Envelope/*:Body/*/*:requestHandle)[1]');
  const messages = (saxon.XPath.evaluate(
    "/*:Envelope/*:Body/*//(*:serverErrorMessage | *:xmlError/*:desc | *:errorMessage)/normalize-space(.)", doc, { resultForm: 'array' }) as string[])
    .filter((m) => m !== '').slice(0, 20);
  return {
    element,
    statusCode: /^-?[0-9]+$/.test(code.trim()) ? Number(code.trim()) : undefined,
    requestHandle: handle.trim() || undefined,
    ...(element === 'Fault' ? { faultCode: str('(/*:Envelope/*:Body/*:Fault/faultcode)[1]').trim(), faultString: str('(/*:Envelope/*:Body/*:Fault/faultstring)[1]').trim() } : {}),
    messages,
  };
}

export type StatusOutcome =
  /** Imported (with or without warnings or reported errors), or already on the state's server. */
  | 'accepted'
  /** Taken, processing not finished: ask again with RetrieveStatus. */
  | 'pending'
  /** The state refused this file; sending the same file again cannot change that. */
  | 'rejected'
  /** The state's server failed: try again later. */
  | 'retry'
  /** The credentials or the organization are refused: an admin must fix the settings. */
  | 'credentials'
  /** RetrieveStatus: the state no longer knows the request handle; submit again. */
  | 'handle-lost';

type CodeType = keyof typeof NEMSIS_WS_CODE_TYPES;
const entries = (type: CodeType) => NEMSIS_WS_CODE_TYPES[type] as readonly (readonly [string, string])[];
const label = (type: CodeType, code: number) => entries(type).find(([c]) => Number(c) === code)?.[1];
const is = (type: CodeType, code: number) => label(type, code) !== undefined;
/** A code of the WSDL by its documentation, so no status code is typed here by hand; fails at load if the release has no such code. */
function codeWithLabel(type: CodeType, words: string): number {
  const hit = entries(type).find(([, l]) => l === words);
  if (!hit) throw new Error(`The NEMSIS web service description has no ${type} code documented "${words}"`);
  return Number(hit[0]);
}
/** "Failed import of a file, because the same file is already on the server": an earlier submission whose answer was lost. */
const ALREADY_ON_SERVER = codeWithLabel('SubmitDataProcessCodes', 'Failed import of a file, because the same file is already on the server');
const PROCESSING = codeWithLabel('SubmitDataProcessCodes', 'File has passed validation, processing is not yet complete');
/** Imported, wholly or partly: "Successful import of a file…", "Partially successful import…". */
const IMPORTED = new Set(entries('SubmitDataProcessCodes').filter(([, l]) => /^(Partially )?successful import/i.test(l)).map(([c]) => Number(c)));

/** What a status code of the WSDL means, and what to do about it. */
export function classifyStatus(code: number): { outcome: StatusOutcome; meaning: string } {
  const meaning = label('SubmitDataProcessCodes', code) ?? label('ResultPendingCode', code) ?? label('PrivilegeErrorCodes', code)
    ?? label('ParameterErrorCodes', code) ?? label('ServerErrorCodes', code) ?? label('RetrieveErrorCode', code)
    ?? (code < NEMSIS_WS_CODE_RANGES.CustomErrorCodes.maxExclusive ? 'State or vendor specific error'
      : code > NEMSIS_WS_CODE_RANGES.CustomSuccessCodes.minExclusive ? 'State or vendor specific success' : 'Not a status code of the NEMSIS web service');
  if (code === ALREADY_ON_SERVER || IMPORTED.has(code) || code > NEMSIS_WS_CODE_RANGES.CustomSuccessCodes.minExclusive) return { outcome: 'accepted', meaning };
  if (is('ResultPendingCode', code) || code === PROCESSING) return { outcome: 'pending', meaning };
  if (is('ServerErrorCodes', code)) return { outcome: 'retry', meaning };
  if (is('PrivilegeErrorCodes', code)) return { outcome: 'credentials', meaning };
  if (is('RetrieveErrorCode', code)) return { outcome: 'handle-lost', meaning };
  return { outcome: 'rejected', meaning };
}
