/**
 * A stand-in for a state's NEMSIS V3 web service: a real HTTP server on 127.0.0.1 that checks
 * every request as the WSDL describes it (SOAP 1.1 envelope, SOAPAction header, the request
 * element valid against the WSDL's own schema with xmllint, the agency's credentials) and
 * answers with the WSDL's response shapes. What it answers is scripted per test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface StateRequest {
  operation: 'SubmitData' | 'RetrieveStatus';
  soapAction: string | undefined;
  username: string;
  password: string;
  organization: string;
  /** SubmitData: the embedded EMSDataSet; RetrieveStatus: the handle asked about. */
  payload: string;
  requestHandle: string;
  /** What xmllint said of the request element against the WSDL's schema ('' when valid). */
  schemaErrors: string;
  body: string;
}

/** An answer: a status code (the stand-in writes the WSDL's response element), a SOAP fault, or raw text with an HTTP status. */
export type StateAnswer = { statusCode: number; requestHandle?: string; xmlErrors?: string[] } | { fault: 'Client' | 'Server'; message: string } | { http: number; body: string }
  /** Takes the request and never answers (an answer lost on the way back). */
  | { hang: true };

export interface StateServer {
  url: string;
  requests: StateRequest[];
  answer(decide: (request: StateRequest, n: number) => StateAnswer): void;
  close(): Promise<void>;
}

/** The `<xsd:schema>` of the WSDL as a schema file xmllint can use. */
export function wsdlSchemaFile(nemsisDir: string, dir: string): string {
  const wsdl = readFileSync(path.join(nemsisDir, 'wsdl', 'NEMSIS_V3_core.wsdl'), 'utf8');
  const schema = /<xsd:schema[\s\S]*<\/xsd:schema>/.exec(wsdl)?.[0];
  if (!schema) throw new Error('the WSDL has no xsd:schema');
  const file = path.join(dir, 'nemsis-ws.xsd');
  writeFileSync(file, `<?xml version="1.0" encoding="UTF-8"?>\n${schema.replace('<xsd:schema', '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"')}`);
  return file;
}

/** xmllint's complaints about a request element (with its namespace declared on it) against the WSDL schema; '' when valid. */
export function checkAgainstWsdl(schemaFile: string, element: string): string {
  const result = spawnSync('xmllint', ['--noout', '--schema', schemaFile, '-'], { input: element, encoding: 'utf8' });
  return result.status === 0 ? '' : result.stderr.trim();
}

const value = (body: string, name: string) => new RegExp(`<ws:${name}>([\\s\\S]*?)</ws:${name}>`).exec(body)?.[1] ?? '';

export async function startStateServer(nemsisDir: string): Promise<StateServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'state-ws-'));
  const schemaFile = wsdlSchemaFile(nemsisDir, dir);
  let decide: (request: StateRequest, n: number) => StateAnswer = () => ({ statusCode: 1 });
  const requests: StateRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const element = /<ws:(SubmitDataRequest|RetrieveStatusRequest)>[\s\S]*<\/ws:\1>/.exec(body);
      const envelopeOk = /^<\?xml[^>]*\?>\s*<soapenv:Envelope xmlns:soapenv="http:\/\/schemas\.xmlsoap\.org\/soap\/envelope\/" xmlns:ws="http:\/\/ws\.nemsis\.org\/">/.test(body) && /<soapenv:Body>/.test(body);
      if (!element || !envelopeOk || req.headers['content-type'] !== 'text/xml; charset=utf-8') {
        res.writeHead(500, { 'content-type': 'text/xml; charset=utf-8' });
        res.end(fault('Client', 'not a SOAP 1.1 envelope with a NEMSIS request'));
        return;
      }
      const operation = element[1] === 'SubmitDataRequest' ? 'SubmitData' : 'RetrieveStatus';
      const standalone = element[0].replace(/^<ws:(\w+)>/, '<ws:$1 xmlns:ws="http://ws.nemsis.org/">');
      const request: StateRequest = {
        operation, soapAction: req.headers['soapaction'] as string | undefined,
        username: value(body, 'username'), password: value(body, 'password'), organization: value(body, 'organization'),
        payload: operation === 'SubmitData' ? value(body, 'payloadOfXmlElement') : value(body, 'requestHandle'),
        requestHandle: value(body, 'requestHandle'),
        schemaErrors: checkAgainstWsdl(schemaFile, standalone),
        body,
      };
      requests.push(request);
      const answer = decide(request, requests.length);
      if ('hang' in answer) return;
      if ('http' in answer) {
        res.writeHead(answer.http, { 'content-type': 'text/plain' });
        res.end(answer.body);
        return;
      }
      res.writeHead('fault' in answer ? 500 : 200, { 'content-type': 'text/xml; charset=utf-8' });
      res.end('fault' in answer ? fault(answer.fault, answer.message) : response(operation, answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the state stand-in did not bind a TCP port');
  return {
    url: `http://127.0.0.1:${address.port}/nemsis/ws`,
    requests,
    answer(next) { decide = next; },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function fault(code: 'Client' | 'Server', message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><S:Fault><faultcode>S:${code}</faultcode><faultstring>${message}</faultstring></S:Fault></S:Body></S:Envelope>`;
}

/** The WSDL's SubmitDataResponse / RetrieveStatusResponse, as a JAX-WS server writes them. */
function response(operation: 'SubmitData' | 'RetrieveStatus', answer: { statusCode: number; requestHandle?: string; xmlErrors?: string[] }): string {
  const report = answer.xmlErrors
    ? `<reports><xmlValidationErrorReport><totalErrorCount>${answer.xmlErrors.length}</totalErrorCount>${answer.xmlErrors.map((e) => `<xmlError><desc>${e}</desc><xmlGeneralErrorList><errorMessage>${e}</errorMessage></xmlGeneralErrorList></xmlError>`).join('')}</xmlValidationErrorReport></reports>`
    : '';
  const inner = operation === 'SubmitData'
    ? `<ns2:SubmitDataResponse xmlns:ns2="http://ws.nemsis.org/"><ns2:requestType>SubmitData</ns2:requestType><ns2:requestHandle>${answer.requestHandle ?? ''}</ns2:requestHandle><ns2:statusCode>${answer.statusCode}</ns2:statusCode>${report.replace(/<(\/?)(\w)/g, '<$1ns2:$2')}</ns2:SubmitDataResponse>`
    : `<ns2:RetrieveStatusResponse xmlns:ns2="http://ws.nemsis.org/"><ns2:requestType>RetrieveStatus</ns2:requestType><ns2:statusCode>${answer.statusCode}</ns2:statusCode><ns2:requestHandle>${answer.requestHandle ?? ''}</ns2:requestHandle></ns2:RetrieveStatusResponse>`;
  return `<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>${inner}</S:Body></S:Envelope>`;
}
