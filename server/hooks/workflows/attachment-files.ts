/**
 * The stored bytes of a report's attachments that leave the server with it: its signatures and
 * the photos the crew marked for the export (NEMSIS eOther), and its ECG strip (the hospital
 * notice). Only bytes linked to the report (uploaded for it by someone who could write it).
 */
import type { AttachmentStorage } from '../../attachments/storage.ts';
import type { ExportFiles } from '../../../shared/nemsis/export/emsdataset.ts';
import { listedAttachments, type AttachmentRef } from '../../../shared/schemas/attachments.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';

/** What the workflows read of the attachment storage. */
export type AttachmentFiles = Pick<AttachmentStorage, 'missingLinks' | 'getObject' | 'isLinked'>;

export async function filesOf(files: AttachmentFiles, report: Epcr, which: (a: AttachmentRef) => boolean): Promise<Map<string, { contentType: string; bytes: Buffer }>> {
  const out = new Map<string, { contentType: string; bytes: Buffer }>();
  for (const a of listedAttachments(report as Record<string, unknown>).filter(which)) {
    if (!await files.isLinked({ tenantId: report.tenantId, collection: 'epcrs', docId: report.id, sha256: a.sha256 })) continue;
    const object = await files.getObject(a.sha256);
    if (object) out.set(a.sha256, { contentType: object.contentType, bytes: object.bytes });
  }
  return out;
}

/** The files the NEMSIS export carries: every signature, and photos marked `export`. */
export function exportFiles(files: AttachmentFiles, report: Epcr): Promise<ExportFiles> {
  return filesOf(files, report, (a) => a.kind === 'signature' || (a.kind === 'photo' && a.export === true));
}
