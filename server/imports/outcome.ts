/**
 * `EPCRS.outcome` (`PUT /api/epcrs/:id/outcome`): the hospital's outcome of a patient (eOutcome:
 * ED and hospital disposition, diagnoses, procedures and their times), entered by an admin once
 * the hospital reports it, usually after the report is locked. Devices never write it (admins
 * write nothing through sync), and the lock does not hold it back: it is not the crew's record but
 * what became of the patient. Replaces the whole outcome; written through the store as the admin
 * (audited, replicated to who may read the report); checked against the ePCR schema first.
 */
import type { FastifyInstance } from 'fastify';
import { EPCRS, ErrorCode, type Role } from '../../shared/protocol/index.ts';
import { nextRevision } from '../../shared/revision.ts';
import { actorOf } from '../auth/actor.ts';
import type { Authenticator } from '../auth/identity.ts';
import { requireIdentity } from '../auth/require-identity.ts';
import { HttpError } from '../http/errors.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { compact, schemaProblems } from '../hooks/workflows/support.ts';
import { amendedReport } from '../hooks/workflows/amended-report.ts';
import { lockedAddenda } from '../hooks/workflows/epcr-nemsis-export.ts';
import { finalizeChecks } from '../hooks/workflows/index.ts';
import { storeAgencyLookup } from '../agencies/directory.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import type { WireDocument } from '../store/types.ts';
import { outcomeSchema } from './route-schemas.ts';

const OUTCOME_ROLES: readonly Role[] = ['admin'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** How often an outcome is checked again when the report changed during its export check (e.g. an addendum locked). */
const CHECK_ROUNDS = 3;

export async function outcomeRoutes(app: FastifyInstance, options: { auth: Authenticator }): Promise<void> {
  await app.register(requireIdentity, { auth: options.auth });

  app.put<{ Params: { id: string }; Body: unknown }>(EPCRS.outcome.route, { schema: outcomeSchema, ...CHECKED_BY_HANDLER }, async (request, reply) => {
    const identity = request.identity;
    if (!OUTCOME_ROLES.includes(identity.role)) {
      throw new HttpError(403, ErrorCode.FORBIDDEN, `A hospital outcome is entered by ${OUTCOME_ROLES.join(', ')}; you are signed in as ${identity.role}.`);
    }
    const { id } = request.params;
    if (!UUID.test(id)) throw new HttpError(400, ErrorCode.BAD_ID, `A report id is a lower-case UUID version 4, got "${id.slice(0, 80)}".`);
    const outcome = request.body;
    if (!outcome || typeof outcome !== 'object' || Array.isArray(outcome)) {
      throw new HttpError(400, ErrorCode.BAD_BODY, 'Send the outcome as a JSON object, e.g. {"edDisposition":"…","edDiagnoses":["S01.00XA"]} (docs/data-model.md, outcome).');
    }
    const tenantId = identity.tenantId;
    // The same check as at the lock (XSD and national Schematron), when this server has the NEMSIS files.
    const { exportCheck } = finalizeChecks({
      agencyOf: storeAgencyLookup(app.store),
      ...(app.config.nemsisXsdDir ? { xsdDir: app.config.nemsisXsdDir } : {}),
      schematronCacheDir: app.config.schematronCacheDir,
    }, app.attachments);
    for (let round = 0; round < CHECK_ROUNDS; round++) {
      const [row] = await app.store.getDocuments('epcrs', tenantId, [id]);
      const current = row && row.tenantId === tenantId ? JSON.parse(row.json) as Record<string, unknown> : undefined;
      if (!current || current['_deleted'] === true) throw new HttpError(404, ErrorCode.EPCR_NOT_FOUND, `There is no report ${id} in your agency.`);
      const next: Record<string, unknown> = compact({ ...current, outcome });
      if (Object.keys(outcome).length === 0) delete next['outcome'];
      const problems = schemaProblems('epcrs', next);
      if (problems) throw new HttpError(400, ErrorCode.BAD_BODY, `The outcome does not fit the report: ${problems}. Codes are NEMSIS's (eOutcome.01/.02), diagnoses ICD-10-CM, procedures ICD-10-PCS, times with an offset.`);
      // Locked: what the state receives changes with it, so it is checked like the lock's export.
      if (exportCheck && typeof current['lockedAt'] === 'string' && current['addendumOf'] === undefined) {
        const exported = amendedReport(next as unknown as Epcr, await lockedAddenda({ store: app.store, tenantId }, id));
        const check = await exportCheck(exported);
        if (check.errors.length > 0) {
          throw new HttpError(422, ErrorCode.EXPORT_NOT_VALID,
            `With this outcome the report's NEMSIS export would not pass the ${check.xml === undefined ? 'export' : 'XSD and national Schematron'} (${check.errors.length} problem${check.errors.length === 1 ? '' : 's'}), so nothing was written and the stored export is unchanged: ${check.errors.slice(0, 5).map((e) => e.message).join('; ')}. Correct the outcome and send it again.`,
            check.errors.slice(0, 50).map((e) => ({ path: e.path, message: e.message })));
        }
      }
      let changed = false;
      const result = await app.store.writeBatch({
        collection: 'epcrs', tenantId, actor: actorOf(identity),
        onRedecide: () => { changed = false; },
        requests: [{
          id, incoming: { id, _deleted: false },
          decide: (master) => {
            // Written only over the version that was checked; otherwise checked again.
            if (!master || master.seq !== row!.seq) { changed = true; return { action: 'noop' }; }
            return { action: 'write', doc: { ...next, rev: nextRevision(String(current['rev']), 'outcome') } as unknown as WireDocument };
          },
        }],
      });
      if (changed) continue;
      const written = result.written[0];
      return reply.send({ id, rev: written ? JSON.parse(written.json)['rev'] : undefined });
    }
    throw new HttpError(409, ErrorCode.EPCR_BUSY, `Report ${id} kept changing while the outcome was checked; send the outcome again.`);
  });
}
