/**
 * The reference to an attachment (a signature or a photo) inside the document it belongs to: an
 * ePCR or a field job. The bytes travel separately (tus upload, docs/protocol.md "Attachments")
 * and are stored once by their SHA-256; what replicates with the document is this metadata, so
 * another device learns of the attachment with the report and fetches the bytes on demand.
 *
 * A building block of the epcrs and jobs schemas (like common.ts), not a collection.
 *
 * Merge: the list merges as a union keyed by `sha256` (shared/merge/three-way.ts, `unionLists`):
 * an attachment one side added is never lost to the other side's edit. Removal is explicit
 * (`removed: true`), so it is a change like any other and cannot happen after the lock.
 *
 * The signature fields are the NEMSIS 3.5.1 eOther.SignatureGroup (eOther_v3.xsd): eOther.12 type
 * of person signing, eOther.13 signature reason (0..n), eOther.14 type of patient representative,
 * eOther.15 signature status, eOther.19 date/time (`capturedAt`), eOther.20/.21 last/first name.
 * Codes are those the XSD enumerates (shared/nemsis/codes.ts); the server checks them at finalize.
 */
import { dateTimeProperty, shortText } from './common.ts';

/** Lower-case hex SHA-256 of the exact bytes uploaded. */
export const SHA256_PATTERN = '^[0-9a-f]{64}$';
export const sha256Property = { type: 'string', minLength: 64, maxLength: 64, pattern: SHA256_PATTERN } as const;

/** The image types accepted; the server checks the bytes' magic numbers against the declared type. */
export const ATTACHMENT_CONTENT_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
export type AttachmentContentType = (typeof ATTACHMENT_CONTENT_TYPES)[number];
const contentTypeProperty = { type: 'string', enum: ATTACHMENT_CONTENT_TYPES } as const;

export const ATTACHMENT_KINDS = ['signature', 'photo'] as const;

/** What a photo on an ePCR shows. `ecg` is the strip the hospital notice can carry. */
export const EPCR_PHOTO_PURPOSES = ['face-sheet', 'insurance-front', 'insurance-back', 'ecg', 'scene', 'wound', 'other'] as const;
/**
 * Whose signature an ePCR signature is, in the crew's words (the NEMSIS type, eOther.12, is in
 * `signature.signerType`). `crew-attestation`: a crew member signs why the patient (or a
 * representative) could not (`attestation`); billing and the refusal rule accept it in place of
 * the patient's signature.
 */
export const EPCR_SIGNATURE_PURPOSES = ['patient', 'representative', 'witness', 'crew', 'receiving-facility', 'crew-attestation'] as const;
export const JOB_PHOTO_PURPOSES = ['before', 'after', 'other'] as const;
/** The customer's signature that completes a job (server/hooks, field service). */
export const JOB_SIGNATURE_PURPOSES = ['customer-signature'] as const;

/** A small JPEG the device makes of a photo, uploaded like the photo; other devices show it first. */
const thumbnailProperty = {
  type: 'object',
  additionalProperties: false,
  required: ['sha256', 'contentType', 'size'],
  properties: {
    sha256: sha256Property,
    contentType: contentTypeProperty,
    size: { type: 'integer', minimum: 1, maximum: 2147483647 },
  },
} as const;

const code = { type: 'string', maxLength: 20 } as const;

/** eOther.SignatureGroup, less the graphic (the attachment's bytes) and its date (`capturedAt`). */
const nemsisSignatureProperty = {
  type: 'object',
  additionalProperties: false,
  required: ['signerType', 'status'],
  properties: {
    signerType: code, // eOther.12 Type of Person Signing
    reasons: { type: 'array', maxItems: 12, items: code }, // eOther.13 Signature Reason (0..n)
    representativeType: code, // eOther.14 Type Of Patient Representative
    status: code, // eOther.15 Signature Status
    lastName: shortText, // eOther.20
    firstName: shortText, // eOther.21
  },
} as const;

/**
 * A crew member's statement of why the patient (or representative) did not sign: `status` is the
 * eOther.15 "Not Signed - …" code the export writes in the patient's signature group, `text` the
 * crew's own words. Only on a `crew-attestation` signature.
 */
const attestationProperty = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'text'],
  properties: {
    status: code,
    text: { type: 'string', minLength: 1, maxLength: 2000 },
  },
} as const;

const commonItemProperties = {
  sha256: sha256Property,
  kind: { type: 'string', enum: ATTACHMENT_KINDS },
  contentType: contentTypeProperty,
  /** Bytes of the upload; checked against the bytes received and the server's limit. */
  size: { type: 'integer', minimum: 1, maximum: 2147483647 },
  capturedAt: dateTimeProperty,
  annotation: { type: 'string', maxLength: 1000 },
  thumbnail: thumbnailProperty,
  /** Explicitly removed by a person (kept in the list so a merge never brings it back or loses it). */
  removed: { type: 'boolean' },
} as const;

const ITEM_REQUIRED = ['sha256', 'kind', 'purpose', 'contentType', 'size', 'capturedAt'] as const;

export const epcrAttachmentsProperty = {
  type: 'array',
  maxItems: 100,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ITEM_REQUIRED,
    properties: {
      ...commonItemProperties,
      purpose: { type: 'string', enum: [...EPCR_PHOTO_PURPOSES, ...EPCR_SIGNATURE_PURPOSES] },
      signature: nemsisSignatureProperty,
      attestation: attestationProperty,
      /** Put the image in the NEMSIS export (eOther.FileGroup); signatures always go in their group. */
      export: { type: 'boolean' },
    },
  },
} as const;

export const jobAttachmentsProperty = {
  type: 'array',
  maxItems: 100,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ITEM_REQUIRED,
    properties: {
      ...commonItemProperties,
      purpose: { type: 'string', enum: [...JOB_PHOTO_PURPOSES, ...JOB_SIGNATURE_PURPOSES] },
      /** Who signed (the customer's name as they gave it). */
      signature: {
        type: 'object',
        additionalProperties: false,
        properties: { lastName: shortText, firstName: shortText },
      },
    },
  },
} as const;

/** The collections whose documents hold attachments, with the list's field. */
export const ATTACHMENT_COLLECTIONS = ['epcrs', 'jobs'] as const;
export type AttachmentCollection = (typeof ATTACHMENT_COLLECTIONS)[number];
export const ATTACHMENTS_FIELD = 'attachments';
/** The key the list merges and is addressed by. */
export const ATTACHMENT_KEY = 'sha256';

export function isAttachmentCollection(name: string): name is AttachmentCollection {
  return (ATTACHMENT_COLLECTIONS as readonly string[]).includes(name);
}

/** The shape both lists share, as code outside the schemas reads it. */
export interface AttachmentRef {
  sha256: string;
  kind: (typeof ATTACHMENT_KINDS)[number];
  purpose: string;
  contentType: AttachmentContentType;
  size: number;
  capturedAt: string;
  annotation?: string;
  thumbnail?: { sha256: string; contentType: AttachmentContentType; size: number };
  removed?: boolean;
  export?: boolean;
  signature?: { signerType?: string; reasons?: string[]; representativeType?: string; status?: string; lastName?: string; firstName?: string };
  attestation?: { status: string; text: string };
}

/** The attachments a document lists and has not removed. */
export function listedAttachments(doc: Record<string, unknown> | undefined): AttachmentRef[] {
  const list = doc?.[ATTACHMENTS_FIELD];
  if (!Array.isArray(list)) return [];
  return (list as AttachmentRef[]).filter((a) => a && typeof a.sha256 === 'string' && a.removed !== true);
}

/** Every SHA-256 a document's attachments need on the server: each attachment's and its thumbnail's. */
export function requiredObjects(doc: Record<string, unknown> | undefined): string[] {
  const shas = new Set<string>();
  for (const a of listedAttachments(doc)) {
    shas.add(a.sha256);
    if (a.thumbnail?.sha256) shas.add(a.thumbnail.sha256);
  }
  return [...shas];
}
