import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ADMIN, ErrorCode, patternOf, STATE_REPORTING, type Role } from '../../shared/protocol/index.ts';
import { offsetDateTime } from '../../shared/domain/time.ts';
import type { Unit } from '../../shared/schemas/index.ts';
import { readAgencySettings } from '../agencies/directory.ts';
import { actorOf } from '../auth/actor.ts';
import type { Authenticator } from '../auth/identity.ts';
import { requireIdentity } from '../auth/require-identity.ts';
import { HttpError } from '../http/errors.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { buildDemDataSetXml } from '../nemsis/demdataset.ts';
import { validateDemDataSet } from '../nemsis/validate-dem.ts';
import { validateEmsDataSetXsd } from '../nemsis/validate.ts';
import { allDocuments, combineEmsDataSets, lockedReports, MAX_REPORTS_PER_PERIOD, type Period } from './reports.ts';
import { demDataSetSchema, emsBatchSchema, submissionsSchema, submitSchema } from './route-schemas.ts';
import { queueSubmissions, submissionStatuses } from './submissions.ts';

export interface StateReportingRoutesOptions {
  auth: Authenticator;
}

const REPORT_ROLES: readonly Role[] = ['admin', 'biller'];
const NOT_EXPORTED_HEADER_IDS = 50;

/**
 * Under `STATE_REPORTING_BASE_PATH`: the files an agency sends its state and their submission.
 * The DEMDataSet is the admin's (it lists the agency's people); batches and submissions are the
 * admin's and the biller's. Always the caller's own agency.
 */
export async function stateReportingRoutes(app: FastifyInstance, options: StateReportingRoutesOptions): Promise<void> {
  await app.register(requireIdentity, { auth: options.auth });
  const allow = (request: FastifyRequest, roles: readonly Role[]) => {
    if (!roles.includes(request.identity.role)) {
      throw new HttpError(403, ErrorCode.FORBIDDEN, `This needs the role ${roles.join(' or ')}; you are signed in as ${request.identity.role}.`);
    }
  };
  const nemsisDir = app.config.nemsisXsdDir;

  app.get(STATE_REPORTING.demDataSet.route, { schema: demDataSetSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    allow(request, ['admin']);
    const tenantId = request.identity.tenantId;
    const settings = await readAgencySettings(app.store, tenantId);
    if (!settings) throw notConfigured('a DEMDataSet is made from them');
    const people = (await app.identities.listUsers(tenantId)).filter((u) => u.disabledAt === undefined)
      .map((u) => ({ id: u.id, username: u.username, role: u.role, ...(u.displayName ? { displayName: u.displayName } : {}) }));
    const vehicles = (await allDocuments<Unit>(app.store, 'units', tenantId)).map((u) => ({ id: u.id, callSign: u.callSign }))
      .sort((a, b) => a.callSign.localeCompare(b.callSign));
    const xml = buildDemDataSetXml({ tenantId, settings, people, vehicles, timeStamp: offsetDateTime(new Date()) });
    if (nemsisDir) {
      const check = await validateDemDataSet(xml, { nemsisDir, schematronCacheDir: app.config.schematronCacheDir });
      if (!check.valid) {
        const problems = [...check.xsdErrors, ...check.schematronErrors.map((f) => `${f.message} (national rule ${f.rule})`)];
        throw new HttpError(409, ErrorCode.NOT_VALID, `The DEMDataSet made from your agency's settings does not pass the NEMSIS ${check.xsdErrors.length > 0 ? 'XSD' : 'national Schematron'}: ${problems.slice(0, 10).join('; ')}. Correct the settings (PUT ${patternOf(ADMIN.putAgency)}) and try again.`,
          problems.slice(0, 50).map((message) => ({ message })));
      }
      if (check.schematronWarnings.length > 0) reply.header('x-fieldsync-warnings', String(check.schematronWarnings.length));
    }
    return reply.type('application/xml; charset=utf-8').header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="dem-${settings.agencyNumber.replace(/[^A-Za-z0-9._-]/g, '_')}.xml"`)
      .send(xml);
  });

  app.get<{ Querystring: { from?: string; to?: string } }>(STATE_REPORTING.emsBatch.route, { schema: emsBatchSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    allow(request, REPORT_ROLES);
    const identity = request.identity;
    const period = parsePeriod(request.query.from, request.query.to);
    const reports = tooMany(await lockedReports(app.store, identity.tenantId, period));
    const exported = reports.filter((r) => r.xml !== undefined);
    const missing = reports.filter((r) => r.xml === undefined).map((r) => r.id);
    if (exported.length === 0) {
      reply.header('x-fieldsync-report-count', '0');
      if (missing.length > 0) reply.header('x-fieldsync-not-exported', missing.slice(0, NOT_EXPORTED_HEADER_IDS).join(','));
      return reply.status(204).send();
    }
    const xml = combineEmsDataSets(exported.map((r) => r.xml!));
    if (nemsisDir) {
      // Each export passed at lock; the combined file is checked again, as the state will.
      const check = await validateEmsDataSetXsd(xml, { xsdDir: nemsisDir });
      if (!check.valid) throw new HttpError(409, ErrorCode.NOT_VALID, `The combined EMSDataSet does not pass the NEMSIS XSD: ${check.errors.slice(0, 10).join('; ')}. This is a server bug: tell your administrator.`);
    }
    // The file holds these reports whole: a read of each, audited.
    await app.store.appendAudit([{
      tenantId: identity.tenantId, action: 'read', actor: actorOf(identity), collection: 'epcrs',
      documents: exported.map((r) => ({ id: r.id })), details: { artifact: 'nemsis-batch', from: period.from.toISOString(), to: period.to.toISOString(), requestId: request.id },
    }]);
    reply.header('x-fieldsync-report-count', String(exported.length));
    if (missing.length > 0) reply.header('x-fieldsync-not-exported', missing.slice(0, NOT_EXPORTED_HEADER_IDS).join(','));
    return reply.type('application/xml; charset=utf-8').header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="ems-${period.from.toISOString().slice(0, 10)}-${period.to.toISOString().slice(0, 10)}.xml"`)
      .send(xml);
  });

  app.post<{ Body: { from?: string; to?: string } }>(STATE_REPORTING.submit.route, { schema: submitSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    allow(request, REPORT_ROLES);
    const identity = request.identity;
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as { from?: unknown; to?: unknown };
    const period = parsePeriod(typeof body.from === 'string' ? body.from : undefined, typeof body.to === 'string' ? body.to : undefined);
    const settings = await readAgencySettings(app.store, identity.tenantId);
    if (!settings?.stateSubmission) throw notConfigured('the state submission endpoint (stateSubmission: endpoint, username, organization, password) is one of them', 409);
    const reports = tooMany(await lockedReports(app.store, identity.tenantId, period));
    const result = await queueSubmissions(app.store, identity.tenantId, reports);
    await app.store.appendAudit([{
      tenantId: identity.tenantId, action: 'state_submission_request', actor: actorOf(identity),
      details: { from: period.from.toISOString(), to: period.to.toISOString(), queued: result.queued, requestId: request.id },
    }]);
    app.hookRunner.wake();
    return reply.status(202).send(result);
  });

  app.get<{ Querystring: { from?: string; to?: string } }>(STATE_REPORTING.submissions.route, { schema: submissionsSchema, ...CHECKED_BY_HANDLER }, async (request) => {
    allow(request, REPORT_ROLES);
    const period = parsePeriod(request.query.from, request.query.to);
    const reports = tooMany(await lockedReports(app.store, request.identity.tenantId, period));
    return { reports: await submissionStatuses(app.store, request.identity.tenantId, reports) };
  });
}

function notConfigured(why: string, status = 409): HttpError {
  return new HttpError(status, ErrorCode.AGENCY_NOT_CONFIGURED, `Your agency's settings are not complete: ${why}. An admin sets them with PUT ${patternOf(ADMIN.putAgency)}.`);
}

function tooMany<T>(reports: T[]): T[] {
  if (reports.length > MAX_REPORTS_PER_PERIOD) {
    throw new HttpError(413, ErrorCode.TOO_MANY_REPORTS, `${reports.length} reports were locked in this period; one request takes at most ${MAX_REPORTS_PER_PERIOD}. Ask for a shorter period.`);
  }
  return reports;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** `from`/`to`: ISO 8601 date-times with an offset, or dates (midnight UTC); from before to. */
export function parsePeriod(from: string | undefined, to: string | undefined): Period {
  const parse = (name: string, value: string | undefined): Date => {
    if (value === undefined || value.trim() === '') throw new HttpError(400, ErrorCode.BAD_PERIOD, `${name} is required: an ISO 8601 date-time with offset (2026-12-01T00:00:00-05:00) or a date (2026-12-01).`);
    const trimmed = value.trim();
    const ms = DATE_ONLY.test(trimmed) ? Date.parse(`${trimmed}T00:00:00Z`) : DATE_TIME.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
    if (Number.isNaN(ms)) throw new HttpError(400, ErrorCode.BAD_PERIOD, `${name} "${trimmed.slice(0, 40)}" is not an ISO 8601 date-time with offset (2026-12-01T00:00:00-05:00) or a date (2026-12-01).`);
    return new Date(ms);
  };
  const period = { from: parse('from', from), to: parse('to', to) };
  if (period.from.getTime() >= period.to.getTime()) throw new HttpError(400, ErrorCode.BAD_PERIOD, `from (${period.from.toISOString()}) must be before to (${period.to.toISOString()}).`);
  return period;
}
