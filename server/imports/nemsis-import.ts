/**
 * `EPCRS.nemsisImport` (`POST /api/epcrs/nemsis-import`): a NEMSIS 3.5.1 EMSDataSet file (a mutual-
 * aid agency's reports, a state feed) brought in as ePCRs of the caller's agency.
 *
 * - The file must pass the EMSDataSet XSD; otherwise 422 NEMSIS_FILE_INVALID with the XSD's own
 *   messages and nothing is written.
 * - Every PatientCareReport becomes one ePCR under its UUID (a UUID that is not a lower-case v4 is
 *   turned into one by the id recipe, from the agency and the UUID), written in one batch through
 *   the store as a system actor: audited, replicated to whoever may read it, hooks planned as for
 *   any write. All or nothing: one report the ePCR schema refuses, or a UUID that names a report
 *   written here, refuses the file.
 * - Idempotent: a report imported before is left as it is (`alreadyImported`), so the same file
 *   posted twice writes nothing the second time.
 * - Imported reports are drafts with `importedAt`: they are another agency's record, so no lock,
 *   no billing, no claim, no hospital notice is made from them; an admin can read and export them.
 */
import { createHash } from 'node:crypto';
import { DOMParser, type Element } from '@xmldom/xmldom';
import type { FastifyInstance } from 'fastify';
import { EPCRS, ErrorCode, type Role } from '../../shared/protocol/index.ts';
import { nextRevision } from '../../shared/revision.ts';
import { offsetDateTime } from '../../shared/domain/time.ts';
import { actorOf } from '../auth/actor.ts';
import type { Authenticator } from '../auth/identity.ts';
import { requireIdentity } from '../auth/require-identity.ts';
import { HttpError } from '../http/errors.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { deterministicId } from '../hooks/ids.ts';
import { compact, schemaProblems } from '../hooks/workflows/support.ts';
import { epcrFromPatientCareReport, type ImportedReport } from '../nemsis/import/epcr-from-pcr.ts';
import { NemsisNode } from '../nemsis/import/xml-reader.ts';
import { validateEmsDataSetXsd } from '../nemsis/validate.ts';
import type { WireDocument } from '../store/types.ts';
import { nemsisImportSchema } from './route-schemas.ts';

export interface NemsisImportRoutesOptions {
  auth: Authenticator;
}

/** Importing writes other agencies' patient records into this one: the admin's decision. */
const IMPORT_ROLES: readonly Role[] = ['admin'];
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const XML_TYPES = ['application/xml', 'text/xml'];
/** Reports per file: a file is checked and written in one request (a state feed is split into several). */
export const MAX_IMPORTED_REPORTS = 500;
const MAX_XSD_MESSAGES = 50;

export interface ImportResult {
  imported: { id: string; pcrNumber?: string; unitId: string; dropped: string[] }[];
  alreadyImported: string[];
}

/** The ePCR id of a PatientCareReport UUID: itself when it is a lower-case UUID v4 (as NEMSIS's own samples are), else derived. */
export function importedEpcrId(tenantId: string, uuid: string): string {
  return UUID_V4.test(uuid) ? uuid : deterministicId('nemsis-import', tenantId, uuid);
}

export async function nemsisImportRoutes(app: FastifyInstance, options: NemsisImportRoutesOptions): Promise<void> {
  await app.register(requireIdentity, { auth: options.auth });
  app.addContentTypeParser(XML_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.post<{ Body: string }>(EPCRS.nemsisImport.route, { schema: nemsisImportSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    const identity = request.identity;
    if (!IMPORT_ROLES.includes(identity.role)) {
      throw new HttpError(403, ErrorCode.FORBIDDEN, `NEMSIS files can be imported by ${IMPORT_ROLES.join(', ')}; you are signed in as ${identity.role}.`);
    }
    const nemsisDir = app.config.nemsisXsdDir;
    if (!nemsisDir) {
      throw new HttpError(503, ErrorCode.NEMSIS_FILE_INVALID, 'This server has no NEMSIS XSDs (NEMSIS_DIR), so it cannot check a file before importing it; ask your administrator to set NEMSIS_DIR.');
    }
    const xml = typeof request.body === 'string' ? request.body : '';
    if (xml.trim() === '') throw new HttpError(422, ErrorCode.NEMSIS_FILE_INVALID, 'The body is empty: send the EMSDataSet file as the body, with Content-Type: application/xml.');
    if (/<DEMDataSet[\s>]/.test(xml.slice(0, 4096))) {
      throw new HttpError(422, ErrorCode.NEMSIS_FILE_INVALID, 'This is a DEMDataSet (agency demographics), not an EMSDataSet: only patient care reports can be imported here.');
    }
    const xsd = await validateEmsDataSetXsd(xml, { xsdDir: nemsisDir });
    if (!xsd.valid) {
      throw new HttpError(422, ErrorCode.NEMSIS_FILE_INVALID,
        `The file does not pass the NEMSIS 3.5.1 EMSDataSet XSD (${xsd.errors.length} problem${xsd.errors.length === 1 ? '' : 's'}), so nothing was imported: ${xsd.errors.slice(0, 5).join('; ')}. Correct the file (or ask its sender to) and post it again.`,
        xsd.errors.slice(0, MAX_XSD_MESSAGES).map((message) => ({ message })));
    }
    const tenantId = identity.tenantId;
    const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement as Element;
    const reports = new NemsisNode(root).all('Header').flatMap((header) => header.all('PatientCareReport'));
    if (reports.length > MAX_IMPORTED_REPORTS) {
      throw new HttpError(413, ErrorCode.NEMSIS_FILE_INVALID, `The file holds ${reports.length} reports; at most ${MAX_IMPORTED_REPORTS} are imported per request. Split it into several EMSDataSet files.`);
    }
    const importedAt = offsetDateTime(new Date());
    const mapped: (ImportedReport & { uuid: string })[] = reports.map((pcr) => {
      const uuid = pcr.attribute('UUID') ?? '';
      const response = pcr.child('eResponse');
      // The unit the report is of: its call sign (eResponse.14, mandatory), as the agency's own reports are keyed.
      const unitId = response?.one('eResponse.14') ?? response?.one('eResponse.13') ?? 'imported';
      return { ...epcrFromPatientCareReport(pcr, { id: importedEpcrId(tenantId, uuid), unitId }), uuid };
    });
    const problems = mapped.flatMap((report, index) => {
      const doc = compact({ ...report.doc, tenantId, status: 'draft', importedAt, _deleted: false });
      const why = schemaProblems('epcrs', doc);
      return why ? [{ index, id: String(report.doc['id']), message: `report ${index + 1} (UUID ${report.uuid}, PCR ${report.pcrNumber ?? '?'}) does not fit the ePCR: ${why}` }] : [];
    });
    if (problems.length > 0) {
      throw new HttpError(422, ErrorCode.NEMSIS_FILE_INVALID, `${problems.length} report${problems.length === 1 ? '' : 's'} of the file cannot be held as ePCRs, so nothing was imported: ${problems.slice(0, 3).map((p) => p.message).join('; ')}.`, problems.slice(0, MAX_XSD_MESSAGES));
    }
    const ids = mapped.map((report) => String(report.doc['id']));
    const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
    if (duplicate) throw new HttpError(422, ErrorCode.NEMSIS_FILE_INVALID, `Two reports of the file have the same UUID (${duplicate}); each PatientCareReport needs its own.`);

    const fileSha = createHash('sha256').update(xml).digest('hex').slice(0, 16);
    const already: string[] = [];
    const conflicts: string[] = [];
    const result = await app.store.writeBatch({
      collection: 'epcrs', tenantId, actor: actorOf(identity),
      requests: mapped.map((report) => {
        const id = String(report.doc['id']);
        return {
          id, incoming: { id, _deleted: false },
          decide: (master) => {
            if (master) {
              const current = JSON.parse(master.json) as Record<string, unknown>;
              // The same report imported before: left as it is (an admin may have added the outcome since).
              if (master.tenantId === tenantId && current['importedAt'] !== undefined) { already.push(id); return { action: 'noop' as const }; }
              conflicts.push(id);
              return { action: 'noop' as const };
            }
            const doc = compact({ ...report.doc, tenantId, status: 'draft', importedAt, _deleted: false });
            return { action: 'write' as const, doc: { ...doc, rev: nextRevision(undefined, `import.${fileSha}`) } as unknown as WireDocument };
          },
        };
      }),
      afterDecisions: () => {
        // A UUID that names a report written here (or in another agency): nothing of the file is written.
        if (conflicts.length > 0) {
          throw new HttpError(409, ErrorCode.IMPORT_CONFLICT, `The file's report${conflicts.length === 1 ? '' : 's'} ${conflicts.slice(0, 5).join(', ')} ha${conflicts.length === 1 ? 's the id' : 've the ids'} of a report that was not imported; nothing was imported. A report written here is never overwritten by an import: remove it from the file, or give it its own UUID.`);
        }
      },
    });
    const written = new Set(result.written.map((doc) => doc.id));
    const body: ImportResult = {
      imported: mapped.filter((r) => written.has(String(r.doc['id']))).map((r) => ({
        id: String(r.doc['id']), ...(r.pcrNumber ? { pcrNumber: r.pcrNumber } : {}), unitId: String(r.doc['unitId']), dropped: r.dropped,
      })),
      alreadyImported: already,
    };
    request.log.info({ imported: body.imported.length, alreadyImported: already.length }, 'NEMSIS file imported');
    return reply.status(body.imported.length > 0 ? 201 : 200).send(body);
  });
}
