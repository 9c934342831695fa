import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ADMIN, EPCRS, ErrorCode, patternOf, type Role } from '../../shared/protocol/index.ts';
import { actorOf } from '../auth/actor.ts';
import type { Authenticator } from '../auth/identity.ts';
import { requireIdentity } from '../auth/require-identity.ts';
import { HttpError } from '../http/errors.ts';
import { nemsisCheckKey } from '../hooks/workflows/epcr-finalized.ts';
import { nemsisArtifactKey } from '../hooks/workflows/epcr-nemsis-export.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { nemsisCheckSchema, nemsisExportSchema, nemsisRulesSchema } from './route-schemas.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { compiledSchematron } from '../nemsis/schematron-compile.ts';

export interface ExportRoutesOptions {
  auth: Authenticator;
  /** The NEMSIS directory (NEMSIS_DIR); absent: no rules to hand to devices. */
  nemsisDir?: string | undefined;
  /** Where the compiled Schematron is cached (SCHEMATRON_CACHE_DIR). */
  schematronCacheDir?: string;
}

/** Roles that may download exports at all; within them, the ePCR read rules decide which reports. */
const EXPORT_ROLES: readonly Role[] = ['admin', 'biller', 'crew'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;


/**
 * `EPCRS.nemsisXml` (`GET …/:id/nemsis.xml`) returns the NEMSIS export the server made
 * when the report was finalized, for the caller's agency only. A report of another agency is
 * answered exactly like one that does not exist.
 */
export async function exportRoutes(app: FastifyInstance, options: ExportRoutesOptions): Promise<void> {
  await app.register(requireIdentity, { auth: options.auth });
  app.addHook('onRequest', async (request) => {
    if (!EXPORT_ROLES.includes(request.identity.role)) {
      throw new HttpError(403, ErrorCode.FORBIDDEN, `NEMSIS exports can be downloaded by ${EXPORT_ROLES.join(', ')}; you are signed in as ${request.identity.role}.`);
    }
  });

  /** The report `id` if the caller may read all of it (same access rules as pull, e.g. a crew only its own unit's); others learn nothing. */
  const readableReport = async (identity: FastifyRequest['identity'], id: string) => {
    if (!UUID.test(id)) throw new HttpError(400, ErrorCode.BAD_ID, `A report id is a lower-case UUID version 4, got "${id.slice(0, 80)}".`);
    const [report] = await app.store.getDocuments('epcrs', identity.tenantId, [id]);
    const visible = report ? app.accessControl.visibleForm(identity, 'epcrs', JSON.parse(report.json) as Record<string, unknown>) : undefined;
    const plan = app.accessControl.readPlan(identity, 'epcrs');
    if (!report || !visible || (plan.kind !== 'none' && plan.project !== undefined)) {
      throw new HttpError(404, ErrorCode.EPCR_NOT_FOUND, `There is no report ${id} that you may read in your agency.`);
    }
    return report;
  };

  app.get<{ Params: { id: string } }>(EPCRS.nemsisXml.route, { schema: nemsisExportSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    const { id } = request.params;
    const identity = request.identity;
    // The export is the whole report: only those who may read the report itself may download it.
    const report = await readableReport(identity, id);
    const artifact = await app.store.getArtifact(nemsisArtifactKey(id), identity.tenantId);
    if (!artifact) {
      const status = (JSON.parse(report.json) as { status?: unknown }).status;
      throw new HttpError(404, ErrorCode.NOT_EXPORTED, status === 'finalized'
        ? `Report ${id} is finalized but its NEMSIS export is not ready yet: it is made once the report is locked. Try again in a moment; if it stays missing the export failed (e.g. XSD validation) and an admin can see why under ${patternOf(ADMIN.deadLetters)}.`
        : `Report ${id} has not been exported: the NEMSIS export is made when the report is finalized, and it is still "${String(status)}".`);
    }
    // A NEMSIS file is the whole patient record: every download is kept in the audit log.
    await app.store.appendAudit([{
      tenantId: identity.tenantId, action: 'read', actor: actorOf(request.identity), collection: 'epcrs',
      documents: [{ id }], details: { artifact: 'nemsis', requestId: request.id },
    }]);
    return reply
      .type('application/xml; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-disposition', `inline; filename="epcr-${id}.nemsis.xml"`)
      .header('last-modified', new Date(artifact.createdAt).toUTCString())
      .send(artifact.content);
  });

  /**
   * `GET /:id/nemsis-check`: the last check of the report's NEMSIS export at finalize (XSD and
   * national Schematron): `{ rev, checkedAt, valid, errors, warnings, schematronMs }`, the
   * warnings with their rule ids. Its messages quote values of the report: read like the export.
   */
  app.get<{ Params: { id: string } }>(EPCRS.nemsisCheck.route, { schema: nemsisCheckSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    const { id } = request.params;
    const identity = request.identity;
    await readableReport(identity, id);
    const check = await app.store.getArtifact(nemsisCheckKey(id), identity.tenantId);
    if (!check) {
      throw new HttpError(404, ErrorCode.NOT_CHECKED, `Report ${id} has no NEMSIS export check: it is made when the report is finalized on a server with the NEMSIS files (NEMSIS_DIR).`);
    }
    await app.store.appendAudit([{
      tenantId: identity.tenantId, action: 'read', actor: actorOf(request.identity), collection: 'epcrs',
      documents: [{ id }], details: { artifact: 'nemsis-check', requestId: request.id },
    }]);
    return reply.type('application/json; charset=utf-8').header('cache-control', 'no-store').send(check.content);
  });

  /**
   * `GET /nemsis-rules.sef.json`: the national Schematron exactly as the server runs it at
   * finalize, compiled for SaxonJS, so the crew app can check a report before sending it, offline
   * too (it keeps the last copy). Public rules, no patient data: any role that may export may
   * fetch them. The ETag is the compiled file's name (the hash of the rules and of the compiler).
   */
  app.get(EPCRS.nemsisRules.route, { schema: nemsisRulesSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    if (!options.nemsisDir) {
      throw new HttpError(404, ErrorCode.NOT_CHECKED, 'This server has no NEMSIS files (NEMSIS_DIR), so it checks no export and has no national rules to send; the device finalizes without a check of its own.');
    }
    const sefPath = await compiledSchematron({ nemsisDir: options.nemsisDir }, options.schematronCacheDir);
    const etag = `"${path.basename(sefPath, '.sef.json')}"`;
    reply.header('etag', etag).header('cache-control', 'no-cache');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('application/json; charset=utf-8').send(await readFile(sefPath));
  });
}
