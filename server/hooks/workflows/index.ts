/**
 * The product's workflow catalogue (docs/hooks.md describes each: trigger, effect, idempotency key).
 * `defaultWorkflows` wires the workflows to the outside systems and to the state they share
 * (a per-process lock so two workflows never submit one claim at once, the technician directory).
 */
import type { Integrations } from '../../integrations/types.ts';
import { exportFiles, type AttachmentFiles } from './attachment-files.ts';
import { checkEpcrExport } from '../epcr-export-check.ts';
import type { AgencyLookup } from '../../agencies/directory.ts';
import { ADMIN, patternOf } from '../../../shared/protocol/index.ts';
import type { Workflow } from '../types.ts';
import { epcrAddendumWorkflow } from './epcr-addendum.ts';
import { epcrBillingWorkflow } from './epcr-billing.ts';
import { epcrCadNoticeWorkflow } from './epcr-cad-notice.ts';
import { epcrClaimWorkflow } from './epcr-claim.ts';
import { claimReleasedWorkflow } from './claim-released.ts';
import type { BillingSettingsLookup } from './claims.ts';
import { epcrFinalizedWorkflow, type EpcrFinalizedDeps } from './epcr-finalized.ts';
import { epcrHospitalNoticeWorkflow } from './epcr-hospital-notice.ts';
import { epcrHospitalPrealertWorkflow } from './epcr-hospital-prealert.ts';
import { epcrAmendedExportWorkflow, epcrNemsisExportWorkflow, epcrOutcomeExportWorkflow } from './epcr-nemsis-export.ts';
import { epcrStateSubmissionWorkflow } from './epcr-state-submission.ts';
import { incidentCancelledWorkflow } from './incident-cancelled.ts';
import { incidentCreatedWorkflow } from './incident-created.ts';
import { incidentHistoryWorkflow, unitHistoryWorkflow, unitStatusHistoryWorkflow } from './incident-history.ts';
import { incidentTimelineWorkflow } from './incident-timeline.ts';
import { jobAddressCorrectedWorkflow } from './job-address-corrected.ts';
import { jobAssignedByHandWorkflow } from './job-assigned-by-hand.ts';
import { jobProgressWorkflow } from './job-progress.ts';
import { jobSignedWorkflow } from './job-signed.ts';
import { orderCompletedWorkflow } from './order-completed.ts';
import { orderProgressWorkflow } from './order-progress.ts';
import { KeyedLock } from './support.ts';
import { TechnicianDirectory } from './technicians.ts';
import { ticketCreatedWorkflow, type FieldServiceLookup, type GeocoderLookup } from './ticket-created.ts';
import { transportCompletedWorkflow } from './transport-completed.ts';
import { unitStatusEventWorkflow } from './unit-status-event.ts';
import { unitStatusWorkflow } from './unit-status.ts';

export interface DefaultWorkflowDeps {
  integrations: Integrations;
  /** Create and submit the claim as soon as a transport report is locked. */
  autoClaimAfterFinalize: boolean;
  /** The agency's billing settings for claims; absent: each agency's settings in the store (`billing`). */
  billingSettingsOf?: BillingSettingsLookup;
  /** The agency's field-service settings (job checklists); absent: the built-in checklists. */
  fieldServiceOf?: FieldServiceLookup;
  /** The agency's geocoder (map settings); with `integrations.geocoder`, orders without coordinates are placed by address. */
  geocoderOf?: GeocoderLookup;
  /** How long a per-report lock's lease lasts across processes (OUTBOX_CLAIM_LEASE_MS). */
  leaseMs?: number;
  /** Stored attachments (server/attachments): the finalize waits for listed bytes; the export, the claim and the hospital notice read them. */
  attachments?: AttachmentFiles;
  nemsis: {
    /**
     * The agency's NEMSIS identity (dAgency.01 state ID, .02 agency number, .04 state), from its
     * settings (server/agencies); undefined while its admin has not set them.
     */
    agencyOf: AgencyLookup;
    /**
     * The NEMSIS directory (NEMSIS_DIR): EMSDataSet_v3.xsd with its includes and schematron/.
     * When present a report locks only when its export passes the XSD and the national
     * Schematron; when absent, exports are not validated.
     */
    xsdDir?: string;
    /** Where the compiled national Schematron is cached (SCHEMATRON_CACHE_DIR). */
    schematronCacheDir?: string;
  };
}

export function defaultWorkflows(deps: DefaultWorkflowDeps): Workflow[] {
  const locks = new KeyedLock(deps.leaseMs);
  const claims = { integrations: deps.integrations, locks, ...(deps.billingSettingsOf ? { billingSettingsOf: deps.billingSettingsOf } : {}) };
  const files = deps.attachments ? { attachments: deps.attachments } : {};
  const nemsis = { agencyOf: deps.nemsis.agencyOf, ...(deps.nemsis.xsdDir ? { xsdDir: deps.nemsis.xsdDir } : {}), locks, ...files };
  // One directory and one geocoder for every workflow that places and assigns jobs.
  const placing = {
    technicians: new TechnicianDirectory(), locks,
    ...(deps.integrations.geocoder && deps.geocoderOf ? { geocoder: deps.integrations.geocoder, geocoderOf: deps.geocoderOf } : {}),
  };
  return [
    incidentCreatedWorkflow(),
    incidentTimelineWorkflow(),
    unitStatusWorkflow(),
    unitStatusEventWorkflow(),
    incidentHistoryWorkflow(),
    unitHistoryWorkflow(),
    unitStatusHistoryWorkflow(),
    transportCompletedWorkflow({ ...claims, autoClaimAfterFinalize: deps.autoClaimAfterFinalize }),
    incidentCancelledWorkflow(),
    epcrFinalizedWorkflow(finalizeChecks(deps.nemsis, deps.attachments)),
    epcrBillingWorkflow(),
    epcrClaimWorkflow({ ...claims, autoClaimAfterFinalize: deps.autoClaimAfterFinalize }),
    claimReleasedWorkflow(claims),
    epcrNemsisExportWorkflow(nemsis),
    epcrAmendedExportWorkflow(nemsis),
    epcrOutcomeExportWorkflow(nemsis),
    epcrStateSubmissionWorkflow({ integrations: deps.integrations }),
    epcrHospitalPrealertWorkflow({ integrations: deps.integrations }),
    epcrHospitalNoticeWorkflow({ integrations: deps.integrations, ...files }),
    epcrCadNoticeWorkflow({ integrations: deps.integrations }),
    epcrAddendumWorkflow(claims),
    orderCompletedWorkflow(),
    ticketCreatedWorkflow({ ...placing, ...(deps.fieldServiceOf ? { fieldServiceOf: deps.fieldServiceOf } : {}) }),
    jobAddressCorrectedWorkflow(placing),
    jobAssignedByHandWorkflow(),
    jobProgressWorkflow(),
    orderProgressWorkflow(),
    jobSignedWorkflow(files),
  ];
}

/** The finalize workflow's export check, when the NEMSIS files are configured. */
export function finalizeChecks(nemsis: DefaultWorkflowDeps['nemsis'], attachments?: AttachmentFiles): EpcrFinalizedDeps {
  const { xsdDir, schematronCacheDir, agencyOf } = nemsis;
  const waits: EpcrFinalizedDeps = attachments ? { missingAttachments: (tenantId, epcrId, shas) => attachments.missingLinks(tenantId, 'epcrs', epcrId, shas) } : {};
  if (!xsdDir) return waits;
  return {
    ...waits,
    exportCheck: async (report) => {
      const agency = await agencyOf(report.tenantId);
      // No identity, no export a state could accept: the report stays open until the admin sets it.
      if (!agency) return { errors: [AGENCY_NOT_CONFIGURED], warnings: [], xml: undefined, schematronMs: 0 };
      const files = attachments ? await exportFiles(attachments, report) : undefined;
      return checkEpcrExport(report, { agency, nemsisDir: xsdDir, ...(schematronCacheDir ? { schematronCacheDir } : {}), ...(files ? { files } : {}) });
    },
  };
}

const AGENCY_NOT_CONFIGURED = {
  path: 'nemsis.dAgency.02',
  message: `Your agency's NEMSIS identity (state ID, agency number, state) is not set, so no export the state accepts can be made: ask your administrator to set it (PUT ${patternOf(ADMIN.putAgency)}). The report stays open; finalize again afterwards (dAgency.02)`,
};

export { nemsisArtifactKey } from './epcr-nemsis-export.ts';
export { nemsisCheckKey } from './epcr-finalized.ts';
export { billingRecordId, claimId, correctionClaimId, jobIdFor, stubEpcrId, ticketIdFor } from './support.ts';
