import { AUTH_ERRORS, BEARER, errorResponses, objectOf, pathParams } from '../http/route-schema.ts';

// Also a device credential with DPoP (docs/protocol.md §3), as push; the OpenAPI document names the bearer scheme only, as for push.
const UPLOAD_AUTH = BEARER;
const uploadId = pathParams({ uploadId: { type: 'string', description: 'The upload id from the Location of the creation.' } });

/** `ATTACHMENTS.uploadOptions` (docs/protocol.md, section 25). */
export const uploadOptionsSchema = {
  // tus discovery, not an operation of the API (docs/protocol.md lists it beside the others); OpenAPI has no place for it.
  hide: true,
  summary: 'tus discovery: protocol version, extensions, size limit',
  tags: ['attachments'],
  response: { 204: { description: 'Tus-Version, Tus-Extension, Tus-Max-Size', type: 'null' } },
};

/** `ATTACHMENTS.createUpload`. */
export const createUploadSchema = {
  summary: 'tus creation of an attachment upload (Upload-Length, Upload-Metadata: sha256, contentType, collection, docId)',
  tags: ['attachments'],
  security: UPLOAD_AUTH,
  response: {
    201: { description: 'Created: Location is the upload URL', type: 'null' },
    ...errorResponses({
      ...AUTH_ERRORS, 400: 'Metadata missing or malformed (BAD_UPLOAD_METADATA)', 403: 'May not write the document (ACCESS_DENIED, PUSH_ONLY_CREDENTIAL)',
      412: 'Tus-Resumable is not 1.0.0 (TUS_VERSION_UNSUPPORTED)', 413: 'Over ATTACHMENT_MAX_BYTES (ATTACHMENT_TOO_LARGE)', 415: 'Type not accepted (ATTACHMENT_TYPE_REFUSED)',
    }),
  },
};

/** `ATTACHMENTS.uploadOffset`. */
export const uploadOffsetSchema = {
  summary: 'tus: the offset the server has of an upload',
  tags: ['attachments'],
  security: UPLOAD_AUTH,
  params: uploadId,
  response: {
    200: { description: 'Upload-Offset, Upload-Length; equal for an upload of yours that finished (stored) within the upload expiry', type: 'null' },
    ...errorResponses({
      ...AUTH_ERRORS, 404: 'No such upload of yours (UPLOAD_NOT_FOUND)', 410: 'Expired (UPLOAD_EXPIRED)', 412: 'TUS_VERSION_UNSUPPORTED',
      423: 'Every byte arrived and the server is storing it (UPLOAD_BEING_STORED; Retry-After): ask again',
      400: 'Every byte arrived, its finish (run by this HEAD) refused them: not the declared SHA-256 (ATTACHMENT_HASH_MISMATCH)',
      403: 'Every byte arrived, its finish (run by this HEAD) refused them: may no longer write the document (ACCESS_DENIED)',
      415: 'Every byte arrived, its finish (run by this HEAD) refused them: not the declared type (ATTACHMENT_TYPE_REFUSED)',
    }),
  },
};

/** `ATTACHMENTS.appendUpload`. */
export const appendUploadSchema = {
  summary: 'tus: the next bytes of an upload, from Upload-Offset; the last ones are checked (SHA-256, type, size) and stored once',
  tags: ['attachments'],
  security: UPLOAD_AUTH,
  params: uploadId,
  response: {
    204: { description: 'Upload-Offset: the new offset', type: 'null' },
    ...errorResponses({
      ...AUTH_ERRORS, 400: 'The bytes are not the declared SHA-256 (ATTACHMENT_HASH_MISMATCH)', 403: 'May no longer write the document (ACCESS_DENIED)',
      404: 'No such upload of yours (UPLOAD_NOT_FOUND)', 409: 'Upload-Offset is not the server\'s, or the upload is complete (UPLOAD_OFFSET_MISMATCH; Upload-Offset: the server\'s)', 410: 'Expired (UPLOAD_EXPIRED)',
      412: 'TUS_VERSION_UNSUPPORTED', 413: 'ATTACHMENT_TOO_LARGE', 415: 'Not application/offset+octet-stream (UNSUPPORTED_MEDIA_TYPE), or the bytes are not the declared type (ATTACHMENT_TYPE_REFUSED)',
      423: 'Every byte arrived and the server is storing it (UPLOAD_BEING_STORED; Retry-After): HEAD in a second, send nothing more',
    }),
  },
};

/** `ATTACHMENTS.read`. */
export const readAttachmentSchema = {
  summary: 'The bytes of an attachment (or thumbnail) the document lists, scoped like the document',
  tags: ['attachments'],
  security: BEARER,
  params: pathParams({
    collection: { type: 'string', description: 'epcrs or jobs' },
    docId: { type: 'string', description: 'The document id' },
    sha256: { type: 'string', description: 'The attachment\'s (or its thumbnail\'s) SHA-256, lower-case hex' },
  }),
  response: {
    200: { description: 'The image (Cache-Control: no-store; an ePCR attachment read is audited)', content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } },
    ...errorResponses({ ...AUTH_ERRORS, 403: 'A device credential (PUSH_ONLY_CREDENTIAL)', 404: 'Not one you may read, not listed, or not stored (ATTACHMENT_NOT_FOUND)' }),
  },
};

