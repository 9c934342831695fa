import { AUTH_ERRORS, BEARER, errorResponses, objectOf, queryParams } from '../http/route-schema.ts';

/** The state reporting routes (docs/protocol.md, section 24). */

const period = queryParams({
  from: { type: 'string', description: 'Start of the period (ISO 8601 date-time with offset, or a date), inclusive: reports locked at or after it.' },
  to: { type: 'string', description: 'End of the period, exclusive.' },
}, ['from', 'to']);

export const demDataSetSchema = {
  summary: 'The agency\'s NEMSIS DEMDataSet (agency, contacts, configuration, vehicles, personnel, facilities), validated',
  tags: ['state-reporting'],
  security: BEARER,
  response: {
    200: { description: 'The DEMDataSet XML', content: { 'application/xml': { schema: { type: 'string' } } } },
    ...errorResponses({ ...AUTH_ERRORS, 409: 'The agency has no settings (AGENCY_NOT_CONFIGURED), or the file made from them does not validate (NOT_VALID)' }),
  },
};

export const emsBatchSchema = {
  summary: 'The agency\'s reports locked in a period as one EMSDataSet file (audited as a read of each)',
  tags: ['state-reporting'],
  security: BEARER,
  querystring: period,
  response: {
    200: { description: 'The EMSDataSet XML; `x-fieldsync-report-count` and `x-fieldsync-not-exported` say what it holds', content: { 'application/xml': { schema: { type: 'string' } } } },
    ...errorResponses({ ...AUTH_ERRORS, 400: 'A bad period (BAD_PERIOD)', 409: 'The combined file does not validate (NOT_VALID)', 413: 'Too many reports in the period (TOO_MANY_REPORTS)' }),
  },
};

export const submitSchema = {
  summary: 'Submit the agency\'s reports locked in a period to the state\'s NEMSIS web service (each report once)',
  tags: ['state-reporting'],
  security: BEARER,
  body: objectOf('`{ from, to }`: the period, as for the batch file', { from: { type: 'string' }, to: { type: 'string' } }, ['from', 'to']),
  response: {
    202: objectOf('`{ queued, alreadySubmitted, notExported, reports }`: what was queued'),
    ...errorResponses({ ...AUTH_ERRORS, 400: 'A bad period (BAD_PERIOD)', 409: 'No state submission endpoint in the agency settings (AGENCY_NOT_CONFIGURED)', 413: 'Too many reports in the period (TOO_MANY_REPORTS)' }),
  },
};

export const submissionsSchema = {
  summary: 'The state submission status of the agency\'s reports locked in a period',
  tags: ['state-reporting'],
  security: BEARER,
  querystring: period,
  response: {
    200: objectOf('`{ reports: [{ epcrId, lockedAt, status, … }] }`'),
    ...errorResponses({ ...AUTH_ERRORS, 400: 'A bad period (BAD_PERIOD)', 413: 'Too many reports in the period (TOO_MANY_REPORTS)' }),
  },
};
