/**
 * epcr-nemsis-export: a locked report is exported as a NEMSIS 3.5.1 EMSDataSet, validated against
 * the XSDs when they are configured, and stored as the artifact `nemsis:<epcrId>` (re-made on a
 * re-run: same key, same content). An export that does not validate is never stored: the entry
 * fails with the validator's messages and ends as a dead letter an admin can read.
 *
 * A locked addendum re-exports the report it amends under the same PCR UUID (NEMSIS receivers
 * treat a resubmission of a UUID as an update, ems-domain §6): the original with every locked
 * addendum's values laid over it, in lock order. Both triggers build the same document from the
 * stored state, so whichever export runs last, including a retried dead letter of the original's
 * first export, writes the amended record rather than an outdated one.
 *
 * The hospital's outcome entered by an admin on a locked report (PUT …/outcome, checked there
 * against the XSD and the national Schematron) re-makes the export the same way, from the stored
 * state: the stored export, the state batch and the submission then carry eOutcome.
 */
import type { Epcr } from '../../../shared/schemas/index.ts';
import type { AgencyLookup } from '../../agencies/directory.ts';
import { buildEmsDataSetXml } from '../../../shared/nemsis/export/emsdataset.ts';
import { ADMIN, patternOf } from '../../../shared/protocol/index.ts';
import { validateEmsDataSetXsd } from '../../nemsis/validate.ts';
import type { Change, EffectContext, Workflow } from '../types.ts';
import { amendedReport } from './amended-report.ts';
import { exportFiles, type AttachmentFiles } from './attachment-files.ts';
import { becameLocked, read, type KeyedLock } from './support.ts';

export interface NemsisExportDeps {
  /** The agency's NEMSIS identity, from its settings (server/agencies). */
  agencyOf: AgencyLookup;
  /** Directory with EMSDataSet_v3.xsd and its includes; without it the export is not validated. */
  xsdDir?: string;
  /** Serialises the exports of one report, so two addenda locked at once both end up in it. */
  locks: KeyedLock;
  /** Stored attachments: the export carries the report's signatures and chosen photos (eOther). */
  attachments?: AttachmentFiles;
}

export function nemsisArtifactKey(epcrId: string): string {
  return `nemsis:${epcrId}`;
}

/** The ids of a report's locked addenda, kept beside its export (artifacts are the hooks' own key-value store). */
export function addendaKey(epcrId: string): string {
  return `nemsis-addenda:${epcrId}`;
}

/** The locked addenda of report `epcrId` among `ids` (default: those listed beside its export). */
export async function lockedAddenda(ctx: Pick<EffectContext, 'store' | 'tenantId'>, epcrId: string, ids?: Iterable<string>): Promise<Epcr[]> {
  if (!ids) {
    const listed = await ctx.store.getArtifact(addendaKey(epcrId), ctx.tenantId);
    ids = listed ? JSON.parse(listed.content) as string[] : [];
  }
  return (await ctx.store.getDocuments('epcrs', ctx.tenantId, [...ids]))
    .map((row) => JSON.parse(row.json) as Epcr)
    .filter((doc) => doc.lockedAt && doc.addendumOf === epcrId && !(doc as { _deleted?: boolean })._deleted);
}

async function exportReport(ctx: EffectContext, deps: NemsisExportDeps, epcrId: string, addendumId?: string): Promise<void> {
  await deps.locks.run(`nemsis:${ctx.tenantId}:${epcrId}`, async () => {
    const original = await read(ctx, 'epcrs', epcrId);
    if (!original?.lockedAt) return;
    const listed = await ctx.store.getArtifact(addendaKey(epcrId), ctx.tenantId);
    const ids = new Set<string>(listed ? JSON.parse(listed.content) as string[] : []);
    if (addendumId && !ids.has(addendumId)) {
      ids.add(addendumId);
      await ctx.store.putArtifact(addendaKey(epcrId), ctx.tenantId, 'application/json', JSON.stringify([...ids].sort()));
    }
    const addenda = await lockedAddenda(ctx, epcrId, ids);
    const report = amendedReport(original as Epcr, addenda);
    const agency = await deps.agencyOf(ctx.tenantId);
    if (!agency) {
      throw new Error(`NEMSIS export of ePCR ${epcrId} waits for the agency's NEMSIS identity: an admin sets it with PUT ${patternOf(ADMIN.putAgency)}, then retries this dead letter.`);
    }
    const xml = buildEmsDataSetXml(report, agency, deps.attachments ? await exportFiles(deps.attachments, report) : undefined);
    if (deps.xsdDir) {
      const result = await validateEmsDataSetXsd(xml, { xsdDir: deps.xsdDir });
      if (!result.valid) {
        const what = addenda.length > 0 ? `with ${addenda.length} addend${addenda.length === 1 ? 'um' : 'a'} applied ` : '';
        throw new Error(`NEMSIS export of ePCR ${epcrId} ${what}does not validate against the XSD: ${result.errors.slice(0, 20).join('; ')}`);
      }
    }
    await ctx.store.putArtifact(nemsisArtifactKey(epcrId), ctx.tenantId, 'application/xml', xml);
  }, ctx.store);
}

export function epcrNemsisExportWorkflow(deps: NemsisExportDeps): Workflow {
  return {
    name: 'epcr-nemsis-export',
    description: 'Builds the NEMSIS EMSDataSet XML of a locked report, validates it against the XSDs and stores it as artifact nemsis:<epcrId>.',
    trigger: {
      collection: 'epcrs',
      when: (change) => becameLocked(change, { addendum: false }),
      // Per lock: a report unlocked and locked again is exported again (same UUID: an update).
      key: (change) => `${change.id}@${String(change.after['lockedAt'])}`,
    },
    async run(ctx, payload) {
      await exportReport(ctx, deps, payload.id);
    },
  };
}

export function epcrAmendedExportWorkflow(deps: NemsisExportDeps): Workflow {
  return {
    name: 'epcr-amended-export',
    description: 'Re-exports the report a locked addendum amends (same PCR UUID, the addenda\'s values laid over it), validated like the first export.',
    trigger: {
      collection: 'epcrs',
      when: (change) => becameLocked(change, { addendum: true }),
      key: (change) => change.id,
    },
    async run(ctx, payload) {
      const addendum = await read(ctx, 'epcrs', payload.id);
      if (!addendum?.lockedAt || !addendum.addendumOf) return;
      await exportReport(ctx, deps, addendum.addendumOf, addendum.id);
    },
  };
}

/** The outcome of a locked report changed (an admin's PUT …/outcome): its NEMSIS export is made again. */
export function outcomeChanged(change: Change): boolean {
  const { before, after } = change;
  if (change.collection !== 'epcrs' || !before || before._deleted || after._deleted) return false;
  if (after['addendumOf'] !== undefined || typeof after['lockedAt'] !== 'string' || typeof before['lockedAt'] !== 'string') return false;
  return JSON.stringify(before['outcome'] ?? null) !== JSON.stringify(after['outcome'] ?? null);
}

export function epcrOutcomeExportWorkflow(deps: NemsisExportDeps): Workflow {
  return {
    name: 'epcr-outcome-export',
    description: 'Re-makes the stored NEMSIS export of a locked report when an admin sets its hospital outcome (eOutcome), validated like the first export.',
    trigger: {
      collection: 'epcrs',
      when: outcomeChanged,
      // Per outcome version: the export is made from the stored state, so a later run writes the latest.
      key: (change) => `${change.id}@${String(change.after['rev'])}`,
    },
    async run(ctx, payload) {
      await exportReport(ctx, deps, payload.id);
    },
  };
}
