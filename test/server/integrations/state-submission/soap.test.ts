/**
 * The envelopes the submission client writes are what the state's service takes: each request
 * element validates against the WSDL's own schema (xmllint), a validation that bites; the answers
 * the stand-in writes (the WSDL's response elements) validate too and are read back; every status
 * code of the WSDL has an outcome.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyStatus, parseAnswer, retrieveStatusEnvelope, submitDataEnvelope } from '../../../../server/integrations/state-submission/soap.ts';
import { NEMSIS_WS_CODE_TYPES } from '../../../../shared/nemsis/submission-codes.generated.ts';
import { xsdDir } from '../../hooks/support.ts';
import { checkAgainstWsdl, wsdlSchemaFile } from './state-server.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'soap-test-'));
const schema = wsdlSchemaFile(xsdDir, dir);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const requestElement = (envelope: string) => /<ws:(SubmitDataRequest|RetrieveStatusRequest)>[\s\S]*<\/ws:\1>/.exec(envelope)![0].replace(/^<ws:(\w+)>/, '<ws:$1 xmlns:ws="http://ws.nemsis.org/">');
const credentials = { username: 'danbury <ems>', password: 'p&ss', organization: 'C034' };
const sample = readFileSync(path.join(xsdDir, 'samples', '2025-EMS-1-Overdose_v351.xml'), 'utf8');

describe('SOAP envelopes of the NEMSIS V3 web service', () => {
  it('SubmitDataRequest carries the EMSDataSet as its payload and validates against the WSDL schema', () => {
    const envelope = submitDataEnvelope(credentials, sample, '3.5.1.250403CP1', 'report 42');
    expect(checkAgainstWsdl(schema, requestElement(envelope))).toBe('');
    expect(envelope).toContain('<ws:username>danbury &lt;ems&gt;</ws:username><ws:password>p&amp;ss</ws:password>');
    expect(envelope).toContain('<ws:requestDataSchema>61</ws:requestDataSchema>');
    // The document is embedded whole, without its XML declaration.
    expect(envelope).toMatch(/<ws:payloadOfXmlElement><!--[\s\S]*<EMSDataSet xmlns="http:\/\/www.nemsis.org"/);
    expect(envelope.match(/<\?xml/g)).toHaveLength(1);
  });

  it('RetrieveStatusRequest validates; a request missing an element does not (the check bites)', () => {
    const element = requestElement(retrieveStatusEnvelope(credentials, 'handle-7', 'report 42'));
    expect(checkAgainstWsdl(schema, element)).toBe('');
    expect(checkAgainstWsdl(schema, element.replace('<ws:requestType>RetrieveStatus</ws:requestType>', ''))).toContain('This element is not expected');
  });
});

describe('answers', () => {
  const submitResponse = '<ns2:SubmitDataResponse xmlns:ns2="http://ws.nemsis.org/"><ns2:requestType>SubmitData</ns2:requestType><ns2:requestHandle>h-1</ns2:requestHandle><ns2:statusCode>-12</ns2:statusCode><ns2:reports><ns2:xmlValidationErrorReport><ns2:totalErrorCount>1</ns2:totalErrorCount><ns2:xmlError><ns2:desc>eTimes.03 is missing</ns2:desc><ns2:xmlGeneralErrorList><ns2:errorMessage>line 40</ns2:errorMessage></ns2:xmlGeneralErrorList></ns2:xmlError></ns2:xmlValidationErrorReport></ns2:reports></ns2:SubmitDataResponse>';

  it('a SubmitDataResponse of the WSDL\'s shape is read: status, handle, the state\'s messages', () => {
    expect(checkAgainstWsdl(schema, submitResponse)).toBe('');
    const answer = parseAnswer(`<?xml version="1.0"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>${submitResponse}</S:Body></S:Envelope>`);
    expect(answer).toEqual({ element: 'SubmitDataResponse', statusCode: -12, requestHandle: 'h-1', messages: ['eTimes.03 is missing', 'line 40'] });
  });

  it('a SOAP Fault is read as one; text that is not XML is an error', () => {
    const fault = parseAnswer('<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><S:Fault><faultcode>S:Server</faultcode><faultstring>database down</faultstring></S:Fault></S:Body></S:Envelope>');
    expect(fault).toMatchObject({ element: 'Fault', faultCode: 'S:Server', faultString: 'database down' });
    expect(() => parseAnswer('<html>Bad gateway')).toThrow('the answer is not XML');
  });

  it('every status code of the WSDL has an outcome, with the WSDL\'s words', () => {
    expect(classifyStatus(1)).toEqual({ outcome: 'accepted', meaning: 'Successful import of a file' });
    expect(classifyStatus(-11)).toEqual({ outcome: 'accepted', meaning: 'Failed import of a file, because the same file is already on the server' });
    expect(classifyStatus(10).outcome).toBe('pending');
    expect(classifyStatus(0).outcome).toBe('pending');
    expect(classifyStatus(-12)).toEqual({ outcome: 'rejected', meaning: 'Failed import of a file, because of failing XML validation' });
    expect(classifyStatus(-21).outcome).toBe('retry');
    expect(classifyStatus(-1)).toEqual({ outcome: 'credentials', meaning: 'Invalid username and/or password' });
    expect(classifyStatus(-43).outcome).toBe('handle-lost');
    expect(classifyStatus(-150)).toEqual({ outcome: 'rejected', meaning: 'State or vendor specific error' });
    expect(classifyStatus(150).outcome).toBe('accepted');
    const submitCodes = [...NEMSIS_WS_CODE_TYPES.SubmitDataProcessCodes, ...NEMSIS_WS_CODE_TYPES.ServerErrorCodes, ...NEMSIS_WS_CODE_TYPES.PrivilegeErrorCodes, ...NEMSIS_WS_CODE_TYPES.ParameterErrorCodes, ...NEMSIS_WS_CODE_TYPES.RetrieveErrorCode];
    for (const [code, words] of submitCodes) expect(classifyStatus(Number(code)).meaning).toBe(words);
  });
});
