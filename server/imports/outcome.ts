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
import type { WireDocument } from '../store/types.ts';
import { outcomeSchema } from './route-schemas.ts';

const OUTCOME_ROLES: readonly Role[] = ['admin'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

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
    let missing = false;
    let problems: string | undefined;
    const result = await app.store.writeBatch({
      collection: 'epcrs', tenantId, actor: actorOf(identity),
      requests: [{
        id, incoming: { id, _deleted: false },
        decide: (master) => {
          const current = master && master.tenantId === tenantId ? JSON.parse(master.json) as Record<string, unknown> : undefined;
          if (!current || current['_deleted'] === true) { missing = true; return { action: 'noop' }; }
          const next: Record<string, unknown> = compact({ ...current, outcome });
          if (Object.keys(outcome).length === 0) delete next['outcome'];
          problems = schemaProblems('epcrs', next);
          if (problems) return { action: 'noop' };
          return { action: 'write', doc: { ...next, rev: nextRevision(String(current['rev']), 'outcome') } as unknown as WireDocument };
        },
      }],
    });
    if (missing) throw new HttpError(404, ErrorCode.EPCR_NOT_FOUND, `There is no report ${id} in your agency.`);
    if (problems) throw new HttpError(400, ErrorCode.BAD_BODY, `The outcome does not fit the report: ${problems}. Codes are NEMSIS's (eOutcome.01/.02), diagnoses ICD-10-CM, procedures ICD-10-PCS, times with an offset.`);
    const written = result.written[0];
    return reply.send({ id, rev: written ? JSON.parse(written.json)['rev'] : undefined });
  });
}
