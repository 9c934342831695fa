import { AUTH_ERRORS, BEARER, errorResponses, objectOf, pathParams } from '../http/route-schema.ts';

/** `EPCRS.nemsisImport` (docs/protocol.md, section 20). */
export const nemsisImportSchema = {
  summary: 'Import a NEMSIS 3.5.1 EMSDataSet file as reports (checked against the XSD first; all or nothing; idempotent by PatientCareReport UUID)',
  tags: ['exports'],
  security: BEARER,
  body: { type: 'string', description: 'The EMSDataSet XML (Content-Type: application/xml or text/xml)' },
  response: {
    201: objectOf('Reports written: { imported: [{ id, pcrNumber, unitId, dropped }], alreadyImported: [id] }', {}, ['imported', 'alreadyImported']),
    200: objectOf('Every report of the file was imported before: nothing written', {}, ['imported', 'alreadyImported']),
    ...errorResponses({
      ...AUTH_ERRORS,
      409: 'A report of the file has the id of a report that was not imported (IMPORT_CONFLICT); nothing written',
      413: 'More reports than one request takes (NEMSIS_FILE_INVALID)',
      422: 'The file fails the EMSDataSet XSD, or a report cannot be held as an ePCR (NEMSIS_FILE_INVALID, details: the XSD messages); nothing written',
      503: 'The server has no NEMSIS XSDs (NEMSIS_FILE_INVALID)',
    }),
  },
};

/** `EPCRS.outcome` (docs/protocol.md, section 20). */
export const outcomeSchema = {
  summary: 'Set the hospital outcome (eOutcome) of a report, locked or not (admin)',
  tags: ['exports'],
  security: BEARER,
  params: pathParams({ id: { type: 'string', description: 'The report id (a lower-case UUID v4).' } }),
  body: objectOf('The outcome: { edDisposition, hospitalDisposition, edProcedures: [{ id, code, performedAt }], edDiagnoses, hospitalAdmittedAt, hospitalProcedures, hospitalDiagnoses, hospitalDischargedAt, edAdmittedAt }; {} removes it'),
  response: {
    200: objectOf('Written: { id, rev, exportProblems? } (rev absent when nothing changed; exportProblems: what the locked report\'s export fails on without this outcome too)', {}, ['id']),
    ...errorResponses({ ...AUTH_ERRORS, 400: 'Not a report id (BAD_ID), or an outcome that does not fit (BAD_BODY)', 404: 'No such report in the agency (EPCR_NOT_FOUND)', 409: 'The report kept changing while the outcome was checked (EPCR_BUSY); send it again', 422: 'On a locked report: this outcome brings problems to its NEMSIS export (XSD or national Schematron; EXPORT_NOT_VALID, each problem in details); nothing written' }),
  },
};
