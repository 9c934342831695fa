/**
 * The `Upload-Metadata` of an attachment upload (tus: comma-separated `key base64value` pairs),
 * checked before anything is created: what the bytes are (sha256, contentType) and which
 * document they belong to (collection, docId).
 */
import { ErrorCode } from '../../shared/protocol/index.ts';
import { ATTACHMENT_CONTENT_TYPES, isAttachmentCollection, SHA256_PATTERN, type AttachmentCollection, type AttachmentContentType } from '../../shared/schemas/attachments.ts';
import { UUID_V4_PATTERN } from '../../shared/schemas/common.ts';
import { HttpError } from '../http/errors.ts';

export interface AttachmentUploadMetadata {
  sha256: string;
  contentType: AttachmentContentType;
  collection: AttachmentCollection;
  docId: string;
}

const SHA256 = new RegExp(SHA256_PATTERN);
const DOC_ID = new RegExp(UUID_V4_PATTERN);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const bad = (why: string) => new HttpError(400, ErrorCode.BAD_UPLOAD_METADATA, `${why}. Send Upload-Metadata: sha256 <base64>,contentType <base64>,collection <base64>,docId <base64> (docs/protocol.md §25).`);

/** The pairs of a tus `Upload-Metadata` header, decoded; throws BAD_UPLOAD_METADATA when malformed. */
export function decodeUploadMetadata(header: string | undefined): Record<string, string> {
  if (header === undefined || header.trim() === '') throw bad('Upload-Metadata is missing');
  const pairs: Record<string, string> = {};
  for (const part of header.split(',')) {
    const [key, value, ...rest] = part.trim().split(' ');
    if (!key || rest.length > 0 || (value !== undefined && !BASE64.test(value))) throw bad(`Upload-Metadata has a malformed pair "${part.trim().slice(0, 80)}"`);
    if (Object.prototype.hasOwnProperty.call(pairs, key)) throw bad(`Upload-Metadata names ${key} twice`);
    pairs[key] = value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8');
  }
  return pairs;
}

export function attachmentMetadataOf(pairs: Record<string, string>): AttachmentUploadMetadata {
  const { sha256, contentType, collection, docId } = pairs;
  if (sha256 === undefined || contentType === undefined || collection === undefined || docId === undefined) {
    throw bad(`Upload-Metadata lacks ${['sha256', 'contentType', 'collection', 'docId'].filter((k) => pairs[k] === undefined).join(', ')}`);
  }
  if (!SHA256.test(sha256)) throw bad('sha256 must be the lower-case hex SHA-256 of the bytes (64 characters)');
  if (!isAttachmentCollection(collection)) throw bad(`collection must be epcrs or jobs, got "${collection.slice(0, 40)}"`);
  if (!DOC_ID.test(docId)) throw bad('docId must be the document\'s id (a lower-case UUID version 4)');
  if (!(ATTACHMENT_CONTENT_TYPES as readonly string[]).includes(contentType)) {
    throw new HttpError(415, ErrorCode.ATTACHMENT_TYPE_REFUSED, `contentType "${contentType.slice(0, 60)}" is not accepted; attachments are ${ATTACHMENT_CONTENT_TYPES.join(', ')}.`);
  }
  return { sha256, contentType: contentType as AttachmentContentType, collection, docId };
}
