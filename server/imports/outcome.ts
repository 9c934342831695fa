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
import { finalizeChecks } from '../hooks/workflows/index.ts';
import { storeAgencyLookup } from '../agencies/directory.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import type { Store, WireDocument } from '../store/types.ts';
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
      // Every addendum of the report, drafts too: one that locks while the export is checked
      // changes what the export holds, so the write below happens only if none of them changed.
      const addenda = current['addendumOf'] === undefined ? await addendaOf(app.store, tenantId, id) : [];
      // Problems the export has with this outcome that it also has without it: written anyway, and said.
      let exportProblems: ProblemOut[] = [];
      // Locked: what the state receives changes with it, so it is checked like the lock's export.
      if (exportCheck && typeof current['lockedAt'] === 'string' && current['addendumOf'] === undefined) {
        const locked = addenda.map((a) => a.doc).filter((doc) => doc.lockedAt && doc._deleted !== true) as Epcr[];
        const check = await exportCheck(amendedReport(next as unknown as Epcr, locked));
        if (check.errors.length > 0) {
          // The export may fail for reasons that are not the outcome's (national rules updated,
          // the agency's settings changed since the lock): only what this outcome adds refuses it.
          const without = await exportCheck(amendedReport(current as unknown as Epcr, locked));
          const before = new Set(without.errors.map(problemKey));
          const added = check.errors.filter((e) => isOutcomeProblem(e) || !before.has(problemKey(e)));
          if (added.length > 0) {
            const already = check.errors.length - added.length;
            throw new HttpError(422, ErrorCode.EXPORT_NOT_VALID,
              `With this outcome the report's NEMSIS export would not pass the ${check.xml === undefined ? 'export' : 'XSD and national Schematron'} (${added.length} problem${added.length === 1 ? '' : 's'} this outcome brings${already > 0 ? `; ${already} other${already === 1 ? '' : 's'} the export has without it do not refuse it` : ''}), so nothing was written and the stored export is unchanged: ${added.slice(0, 5).map((e) => e.message).join('; ')}. Correct the outcome and send it again.`,
              added.slice(0, 50).map((e) => ({ path: e.path, message: e.message })));
          }
          exportProblems = check.errors.slice(0, 50).map((e) => ({ path: e.path, message: e.message }));
        }
      }
      let changed = false;
      const result = await app.store.writeBatch({
        collection: 'epcrs', tenantId, actor: actorOf(identity),
        onRedecide: () => { changed = false; },
        requests: [
          // Decided first, in the same transaction: an addendum written since it was read (locked, unlocked, deleted) means another check.
          ...addenda.map((a) => ({
            id: a.id, incoming: { id: a.id, _deleted: false } as WireDocument,
            decide: (master: { seq: number } | undefined) => {
              if (!master || master.seq !== a.seq) changed = true;
              return { action: 'noop' as const };
            },
          })),
          {
            id, incoming: { id, _deleted: false },
            decide: (master) => {
              // Written only over the version that was checked, with the addenda that were checked; otherwise checked again.
              if (changed || !master || master.seq !== row!.seq) { changed = true; return { action: 'noop' }; }
              return { action: 'write', doc: { ...next, rev: nextRevision(String(current['rev']), 'outcome') } as unknown as WireDocument };
            },
          },
        ],
      });
      if (changed) continue;
      const written = result.written[0];
      return reply.send({ id, rev: written ? JSON.parse(written.json)['rev'] : undefined, ...(exportProblems.length > 0 ? { exportProblems } : {}) });
    }
    throw new HttpError(409, ErrorCode.EPCR_BUSY, `Report ${id} kept changing while the outcome was checked; send the outcome again.`);
  });
}

interface ProblemOut { path: string; message: string }

/** One problem as it is compared with the export without the new outcome. */
function problemKey(problem: ProblemOut): string {
  return `${problem.path}\n${problem.message}`;
}

/** A problem at the outcome itself (its fields, or an eOutcome element): always this outcome's. */
function isOutcomeProblem(problem: ProblemOut): boolean {
  return /^outcome\b/.test(problem.path) || /\beOutcome\.\d{2}\b/.test(problem.path) || /\beOutcome\.\d{2}\b/.test(problem.message);
}

/** The addenda of a report (locked or not) with the version each was read at. Reads the agency's reports: fine for an outcome an admin enters now and then. */
async function addendaOf(store: Store, tenantId: string, epcrId: string): Promise<{ id: string; seq: number; doc: Partial<Epcr> & { _deleted?: boolean } }[]> {
  const out: { id: string; seq: number; doc: Partial<Epcr> & { _deleted?: boolean } }[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await store.pull({ collection: 'epcrs', tenantId, afterSeq, limit: ADDENDA_PAGE });
    for (const row of page.documents) {
      if (!row.json.includes(epcrId)) continue;
      const doc = JSON.parse(row.json) as Partial<Epcr> & { _deleted?: boolean };
      if (doc.addendumOf === epcrId) out.push({ id: row.id, seq: row.seq, doc });
    }
    if (page.documents.length < ADDENDA_PAGE) return out;
    afterSeq = page.lastSeq;
  }
}

const ADDENDA_PAGE = 500;
