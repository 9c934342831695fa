/**
 * epcr-nemsis-export: a locked report is exported as a NEMSIS 3.5.1 EMSDataSet, validated against
 * the XSDs when they are configured, and stored as the artifact `nemsis:<epcrId>` (re-made on a
 * re-run: same key, same content). An export that does not validate is never stored: the entry
 * fails with the validator's messages and ends as a dead letter an admin can read.
 */
import type { Epcr } from '../../../shared/schemas/index.ts';
import { buildEmsDataSetXml, type NemsisAgency } from '../../nemsis/emsdataset.ts';
import { validateEmsDataSet } from '../../nemsis/validate.ts';
import type { Workflow } from '../types.ts';
import { becameLocked, read } from './support.ts';

export interface NemsisExportDeps {
  agency: NemsisAgency;
  /** Directory with EMSDataSet_v3.xsd and its includes; without it the export is not validated. */
  xsdDir?: string;
}

export function nemsisArtifactKey(epcrId: string): string {
  return `nemsis:${epcrId}`;
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
      const epcr = await read(ctx, 'epcrs', payload.id);
      if (!epcr?.lockedAt) return;
      const xml = buildEmsDataSetXml(epcr as Epcr, deps.agency);
      if (deps.xsdDir) {
        const result = await validateEmsDataSet(xml, { xsdDir: deps.xsdDir });
        if (!result.valid) {
          throw new Error(`NEMSIS export of ePCR ${epcr.id} does not validate against the XSD: ${result.errors.slice(0, 20).join('; ')}`);
        }
      }
      await ctx.store.putArtifact(nemsisArtifactKey(epcr.id), ctx.tenantId, 'application/xml', xml);
    },
  };
}
