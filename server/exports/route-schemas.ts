import { AUTH_ERRORS, BEARER, errorResponses, objectOf, pathParams } from '../http/route-schema.ts';

/** `EPCRS.nemsisXml` (docs/protocol.md, section 20). */
export const nemsisExportSchema = {
  summary: 'The NEMSIS 3.5.1 export made when the report was finalized',
  tags: ['exports'],
  security: BEARER,
  params: pathParams({ id: { type: 'string', description: 'The report id (a lower-case UUID v4).' } }),
  response: {
    200: { description: 'The EMSDataSet XML (audited as a read of the report)', content: { 'application/xml': { schema: { type: 'string' } } } },
    ...errorResponses({ ...AUTH_ERRORS, 400: 'Not a report id (BAD_ID)', 404: 'No report you may read, or not exported yet (EPCR_NOT_FOUND, NOT_EXPORTED)' }),
  },
};

/** `EPCRS.nemsisCheck` (docs/protocol.md, section 20). */
export const nemsisCheckSchema = {
  summary: 'The check of the report\'s NEMSIS export at finalize (XSD and national Schematron), warnings included',
  tags: ['exports'],
  security: BEARER,
  params: pathParams({ id: { type: 'string', description: 'The report id (a lower-case UUID v4).' } }),
  response: {
    200: objectOf('The last check (audited as a read of the report)', {
      rev: { type: 'string' }, checkedAt: { type: 'string' }, valid: { type: 'boolean' },
      errors: { type: 'array', items: objectOf('A problem that refused the finalize, at a field: { path, message }') },
      warnings: { type: 'array', items: objectOf('A national warning: { path, message, rule }') },
      schematronMs: { type: 'integer' },
    }, ['valid', 'errors', 'warnings']),
    ...errorResponses({ ...AUTH_ERRORS, 400: 'Not a report id (BAD_ID)', 404: 'No report you may read, or never checked (EPCR_NOT_FOUND, NOT_CHECKED)' }),
  },
};


/** `EPCRS.nemsisRules` (docs/protocol.md, section 31). */
export const nemsisRulesSchema = {
  summary: 'The national EMSDataSet Schematron compiled for SaxonJS (SEF JSON), for the crew app to check a report before sending it',
  tags: ['exports'],
  security: BEARER,
  response: {
    200: { description: 'The compiled rules (the same the server runs at finalize); ETag is the hash of the rules and the compiler', content: { 'application/json': { schema: { type: 'object' } } } },
    304: { description: 'The device already holds these rules (If-None-Match)', type: 'null' },
    ...errorResponses({ ...AUTH_ERRORS, 404: 'This server has no NEMSIS files (NEMSIS_DIR), so there are no rules to send (NOT_CHECKED)' }),
  },
};
