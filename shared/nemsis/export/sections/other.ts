/**
 * eOther: the report's signatures (eOther.SignatureGroup) and the photos the crew chose to send
 * (eOther.FileGroup), each with its bytes as base64 (eOther.18 Signature Graphic and eOther.11
 * File Attachment Image are xs:base64Binary). A crew attestation writes two groups: the patient's,
 * "Not Signed - <why>" with no graphic, and the crew member's signed one, so a receiver reads the
 * patient's signature status the NEMSIS way.
 *
 * Bytes come from the caller (`files`, by SHA-256): an attachment whose bytes are not given is
 * written without its graphic, which the lock never lets happen (the finalize waits for them).
 */
import { codeOf } from '../../codes.ts';
import { SIGNER_PATIENT } from '../../../domain/signatures.ts';
import { listedAttachments, type AttachmentRef } from '../../../schemas/attachments.ts';
import type { Epcr } from '../../../schemas/index.ts';
import { group, leaf, leaves, optionalGroup } from '../nemsis-tree.ts';
import { dateTime, text } from '../values.ts';
import type { XmlElement } from '../xml-writer.ts';

/** The bytes of a report's attachments the export may carry, by SHA-256. */
export type ExportFiles = ReadonlyMap<string, { contentType: string; bytes: Uint8Array }>;

/** eOther.09 document type per photo purpose (the XSD's labels). */
const DOCUMENT_TYPE: Readonly<Record<string, string>> = {
  ecg: codeOf('eOther.09', 'ECG/Lab Results'),
  'face-sheet': codeOf('eOther.09', 'Other Healthcare Record'),
  'insurance-front': codeOf('eOther.09', 'Billing Information'),
  'insurance-back': codeOf('eOther.09', 'Billing Information'),
  scene: codeOf('eOther.09', 'Other Picture/Graphic'),
  wound: codeOf('eOther.09', 'Other Picture/Graphic'),
  other: codeOf('eOther.09', 'Other'),
};

function extension(contentType: string): string {
  return contentType === 'image/png' ? 'png' : contentType === 'image/webp' ? 'webp' : 'jpeg';
}

function base64Of(files: ExportFiles | undefined, sha256: string): string | undefined {
  const file = files?.get(sha256);
  return file ? Buffer.from(file.bytes).toString('base64') : undefined;
}

function signatureGroup(a: AttachmentRef, files: ExportFiles | undefined): XmlElement {
  const graphic = base64Of(files, a.sha256);
  const signature = a.signature ?? {};
  return group('eOther.SignatureGroup', [
    leaf('eOther.12', text(signature.signerType)),
    leaves('eOther.13', signature.reasons),
    leaf('eOther.14', text(signature.representativeType)),
    leaf('eOther.15', text(signature.status)),
    graphic !== undefined ? leaf('eOther.16', `signature-${a.sha256.slice(0, 16)}.${extension(a.contentType)}`) : undefined,
    graphic !== undefined ? leaf('eOther.17', extension(a.contentType)) : undefined,
    leaf('eOther.18', graphic),
    leaf('eOther.19', dateTime(a.capturedAt)),
    leaf('eOther.20', text(signature.lastName)),
    leaf('eOther.21', text(signature.firstName)),
  ]);
}

/** The patient's own group of a crew attestation: the status the crew attested, no graphic. */
function attestedPatientGroup(a: AttachmentRef): XmlElement | undefined {
  if (!a.attestation) return undefined;
  return group('eOther.SignatureGroup', [
    leaf('eOther.12', SIGNER_PATIENT),
    leaves('eOther.13', a.signature?.reasons),
    leaf('eOther.15', text(a.attestation.status)),
    leaf('eOther.19', dateTime(a.capturedAt)),
  ]);
}

function fileGroup(a: AttachmentRef, files: ExportFiles | undefined): XmlElement | undefined {
  const image = base64Of(files, a.sha256);
  if (image === undefined) return undefined;
  return group('eOther.FileGroup', [
    leaf('eOther.09', DOCUMENT_TYPE[a.purpose] ?? DOCUMENT_TYPE['other']),
    leaf('eOther.10', extension(a.contentType)),
    leaf('eOther.11', image),
    leaf('eOther.22', `${a.purpose}-${a.sha256.slice(0, 16)}.${extension(a.contentType)}`),
  ]);
}

export function eOther(epcr: Epcr, files: ExportFiles | undefined): XmlElement | undefined {
  const attachments = listedAttachments(epcr as Record<string, unknown>);
  const signatures = attachments.filter((a) => a.kind === 'signature');
  const photos = attachments.filter((a) => a.kind === 'photo' && a.export === true);
  return optionalGroup('eOther', [
    ...photos.map((a) => fileGroup(a, files)),
    ...signatures.flatMap((a) => [attestedPatientGroup(a), signatureGroup(a, files)]),
  ]);
}
