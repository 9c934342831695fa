/**
 * The state submission client: SubmitData and RetrieveStatus against the endpoint in the
 * agency's settings, each call under its own target's policy (`state:<host>`): per-attempt
 * timeout, retries with backoff and jitter, a circuit breaker (resilient-call.ts), like every other
 * integration. A SOAP Fault of the client's own making, an HTTP 4xx, refused credentials and
 * rejected files are not retried within the call; server errors and network failures are.
 */
import { NEMSIS_RELEASE } from '../../../shared/nemsis/codes.ts';
import { PermanentCallError, type ResilientCaller } from '../resilient-call.ts';
import {
  classifyStatus, parseAnswer, retrieveStatusEnvelope, SOAP_ACTIONS, submitDataEnvelope, type StatusOutcome, type WsAnswer, type WsCredentials,
} from './soap.ts';

export interface StateEndpoint extends WsCredentials {
  endpoint: string;
}

export interface StateAnswer {
  outcome: Exclude<StatusOutcome, 'retry' | 'credentials'>;
  statusCode: number;
  /** The WSDL's words for the status code. */
  meaning: string;
  requestHandle: string | undefined;
  /** What the state's reports said (validation messages), for people. */
  messages: string[];
}

export interface StateSubmissionGateway {
  /** SubmitData of one EMSDataSet; `additionalInfo` names what it is (the report id). */
  submitData(endpoint: StateEndpoint, emsDataSet: string, additionalInfo: string): Promise<StateAnswer>;
  retrieveStatus(endpoint: StateEndpoint, requestHandle: string, additionalInfo: string): Promise<StateAnswer>;
}

/** The breaker target of an endpoint: one per state server, so one state being down does not refuse another. */
export function stateTarget(endpoint: string): string {
  return `state:${new URL(endpoint).host}`;
}

/** Whether the server may call this endpoint (STATE_ENDPOINT_HOSTS; empty: any). */
export function endpointAllowed(endpoint: string, allowedHosts: readonly string[]): boolean {
  if (allowedHosts.length === 0) return true;
  const url = new URL(endpoint);
  return allowedHosts.includes(url.host.toLowerCase()) || allowedHosts.includes(url.hostname.toLowerCase());
}

export class HttpStateSubmissionGateway implements StateSubmissionGateway {
  constructor(private readonly caller: ResilientCaller, private readonly allowedHosts: readonly string[] = []) {}

  submitData(endpoint: StateEndpoint, emsDataSet: string, additionalInfo: string): Promise<StateAnswer> {
    return this.call(endpoint, 'SubmitData', submitDataEnvelope(endpoint, emsDataSet, NEMSIS_RELEASE, additionalInfo));
  }

  retrieveStatus(endpoint: StateEndpoint, requestHandle: string, additionalInfo: string): Promise<StateAnswer> {
    return this.call(endpoint, 'RetrieveStatus', retrieveStatusEnvelope(endpoint, requestHandle, additionalInfo));
  }

  private async call(endpoint: StateEndpoint, operation: keyof typeof SOAP_ACTIONS, body: string): Promise<StateAnswer> {
    const target = stateTarget(endpoint.endpoint);
    if (!endpointAllowed(endpoint.endpoint, this.allowedHosts)) {
      // Settings saved before the server's list changed: refused here too, never called.
      throw new PermanentCallError(`${target} is not among the state web service hosts this server may call (STATE_ENDPOINT_HOSTS: ${this.allowedHosts.join(', ')}). Correct the agency's stateSubmission.endpoint, or the server setting.`);
    }
    return this.caller.call(target, async (signal) => {
      const response = await fetch(endpoint.endpoint, {
        method: 'POST', body, signal, redirect: 'manual',
        headers: { 'content-type': 'text/xml; charset=utf-8', accept: 'text/xml', soapaction: `"${SOAP_ACTIONS[operation]}"` },
      });
      const text = await response.text();
      const where = `${target} (${operation})`;
      if (response.status >= 300 && response.status < 400) {
        throw new PermanentCallError(`${where} answered ${response.status}, a redirect to ${response.headers.get('location') ?? '?'}: set the final URL of the state's web service in the agency settings.`);
      }
      let answer: WsAnswer;
      try {
        answer = parseAnswer(text);
      } catch (error) {
        const problem = `${where} answered HTTP ${response.status} with no SOAP answer: ${(error as Error).message}`;
        if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) throw new PermanentCallError(`${problem}. Check the endpoint in the agency settings.`);
        throw new Error(problem);
      }
      if (answer.element === 'Fault') {
        const fault = `${where} answered a SOAP Fault ${answer.faultCode ?? ''}: ${answer.faultString ?? ''}`.trim();
        // SOAP 1.1: a Client fault is the request's own; a Server fault may pass.
        if (/client/i.test(answer.faultCode ?? '')) throw new PermanentCallError(`${fault}. The request was refused as malformed; it was not retried.`);
        throw new Error(fault);
      }
      if (answer.statusCode === undefined) throw new Error(`${where} answered ${answer.element} without a statusCode`);
      const { outcome, meaning } = classifyStatus(answer.statusCode);
      if (outcome === 'retry') throw new Error(`${where} answered statusCode ${answer.statusCode} (${meaning})`);
      if (outcome === 'credentials') {
        throw new PermanentCallError(`${where} refused the agency's credentials: statusCode ${answer.statusCode} (${meaning}). An admin corrects stateSubmission (username, password, organization) in the agency settings, then retries the dead letter.`);
      }
      return { outcome, statusCode: answer.statusCode, meaning, requestHandle: answer.requestHandle, messages: answer.messages };
    });
  }
}
