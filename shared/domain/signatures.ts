/**
 * What an ePCR's signatures say, for the rules that depend on them (form and server alike): the
 * refusal rule at finalize (epcr-validation.ts), the patient signature status a claim carries
 * and whether the claim is held (server/hooks/workflows/billing.ts). Pure: reads the document's
 * attachment references only, never the bytes.
 */
import { codeOf } from '../nemsis/codes.ts';
import { listedAttachments, type AttachmentRef } from '../schemas/attachments.ts';

export const SIGNER_PATIENT = codeOf('eOther.12', 'Patient');
export const SIGNER_REPRESENTATIVE = codeOf('eOther.12', 'Patient Representative');
export const SIGNER_WITNESS = codeOf('eOther.12', 'Witness');
export const SIGNER_CREW = codeOf('eOther.12', 'EMS Crew Member (Other)');
export const SIGNER_PRIMARY_PROVIDER = codeOf('eOther.12', 'EMS Primary Care Provider (for this event)');
export const SIGNED = codeOf('eOther.15', 'Signed');
export const SIGNED_NOT_PATIENT = codeOf('eOther.15', 'Signed-Not Patient');

/** eDisposition.28 / .30 values that make the report a refusal (the patient refused care or transport). */
export const REFUSAL_EVALUATION_CARE: ReadonlySet<string> = new Set([
  codeOf('eDisposition.28', 'Patient Evaluated and Refused Care'),
  codeOf('eDisposition.28', 'Patient Refused Evaluation/Care'),
]);
export const REFUSED_TRANSPORT = codeOf('eDisposition.30', 'Patient Refused Transport');

interface Signable {
  attachments?: readonly unknown[] | undefined;
  disposition?: { patientEvaluationCare?: string | undefined; transportDisposition?: string | undefined } | undefined;
}

function signatures(epcr: Signable): AttachmentRef[] {
  return listedAttachments(epcr as Record<string, unknown>).filter((a) => a.kind === 'signature');
}

/** A drawn signature by someone of `signerType` (by the NEMSIS type, or the purpose the crew chose). */
function signedBy(epcr: Signable, signerType: string, purpose: string): AttachmentRef | undefined {
  return signatures(epcr).find((a) => (a.signature?.signerType === signerType || a.purpose === purpose)
    && (a.signature?.status === undefined || a.signature.status === SIGNED || a.signature.status === SIGNED_NOT_PATIENT));
}

/** A crew member's signed statement of why the patient (or a representative) could not sign. */
export function crewAttestation(epcr: Signable): AttachmentRef | undefined {
  return signatures(epcr).find((a) => a.purpose === 'crew-attestation' && a.attestation !== undefined && a.attestation.text.trim() !== '');
}

export function isRefusal(epcr: Signable): boolean {
  const disposition = epcr.disposition ?? {};
  return REFUSAL_EVALUATION_CARE.has(disposition.patientEvaluationCare ?? '') || disposition.transportDisposition === REFUSED_TRANSPORT;
}

export function patientSignature(epcr: Signable): AttachmentRef | undefined {
  return signedBy(epcr, SIGNER_PATIENT, 'patient');
}

export function representativeSignature(epcr: Signable): AttachmentRef | undefined {
  return signedBy(epcr, SIGNER_REPRESENTATIVE, 'representative');
}

export function witnessSignature(epcr: Signable): AttachmentRef | undefined {
  return signedBy(epcr, SIGNER_WITNESS, 'witness');
}

/**
 * Who authorised billing, as an 837P claim says it (CLM08–CLM10): the patient signed, a
 * representative signed, the crew attested why neither could (the provider signs on the
 * patient's behalf), or nobody: then the claim is held.
 */
export type PatientSignatureStatus = 'signed' | 'representative' | 'provider' | 'none';

export function patientSignatureStatus(epcr: Signable): PatientSignatureStatus {
  if (patientSignature(epcr)) return 'signed';
  if (representativeSignature(epcr)) return 'representative';
  if (crewAttestation(epcr)) return 'provider';
  return 'none';
}
