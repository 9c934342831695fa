/**
 * Every error code the server answers with, in one place: an HTTP error body's `error.code`
 * (`ErrorBody`), a stream acknowledgement's `error.code`, and the `<CODE>` of a refused socket
 * handshake. docs/protocol.md §13 lists the same codes for people; a test keeps the two equal.
 * Program against these, never against the message.
 */
export const ErrorCode = {
  // Request shape
  MALFORMED_JSON: 'MALFORMED_JSON',
  EMPTY_BODY: 'EMPTY_BODY',
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  UNSUPPORTED_CONTENT_ENCODING: 'UNSUPPORTED_CONTENT_ENCODING',
  BAD_CONTENT_LENGTH: 'BAD_CONTENT_LENGTH',
  BAD_GZIP: 'BAD_GZIP',
  BODY_TOO_DEEP: 'BODY_TOO_DEEP',
  BAD_URL: 'BAD_URL',
  URL_TOO_LONG: 'URL_TOO_LONG',
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  INVALID_REQUEST: 'INVALID_REQUEST',
  BAD_REQUEST: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL: 'INTERNAL',
  // Authentication and roles
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  BAD_TOKEN: 'BAD_TOKEN',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  TOKEN_REVOKED: 'TOKEN_REVOKED',
  BAD_CREDENTIALS: 'BAD_CREDENTIALS',
  BAD_REFRESH_TOKEN: 'BAD_REFRESH_TOKEN',
  REFRESH_TOKEN_REUSED: 'REFRESH_TOKEN_REUSED',
  REFRESH_TOKEN_EXPIRED: 'REFRESH_TOKEN_EXPIRED',
  ACCOUNT_DISABLED: 'ACCOUNT_DISABLED',
  DEVICE_REVOKED: 'DEVICE_REVOKED',
  FORBIDDEN: 'FORBIDDEN',
  // Device push credentials (DPoP, RFC 9449)
  BAD_DPOP_PROOF: 'BAD_DPOP_PROOF',
  BAD_DEVICE_CREDENTIAL: 'BAD_DEVICE_CREDENTIAL',
  PUSH_ONLY_CREDENTIAL: 'PUSH_ONLY_CREDENTIAL',
  // Sync: collections and schema versions
  UNKNOWN_COLLECTION: 'UNKNOWN_COLLECTION',
  MISSING_SCHEMA_VERSION: 'MISSING_SCHEMA_VERSION',
  BAD_SCHEMA_VERSION: 'BAD_SCHEMA_VERSION',
  SCHEMA_TOO_NEW: 'SCHEMA_TOO_NEW',
  SCHEMA_OUTDATED: 'SCHEMA_OUTDATED',
  FORBIDDEN_COLLECTION: 'FORBIDDEN_COLLECTION',
  // Sync: pull, push, scope checks, rejections, stream
  BAD_CHECKPOINT: 'BAD_CHECKPOINT',
  BAD_LIMIT: 'BAD_LIMIT',
  BAD_QUERY: 'BAD_QUERY',
  BAD_PUSH_BODY: 'BAD_PUSH_BODY',
  TOO_MANY_ROWS: 'TOO_MANY_ROWS',
  INVALID_DOCUMENT: 'INVALID_DOCUMENT',
  TENANT_MISMATCH: 'TENANT_MISMATCH',
  FOREIGN_DOCUMENT: 'FOREIGN_DOCUMENT',
  ACCESS_DENIED: 'ACCESS_DENIED',
  BAD_SCOPE_CHECK: 'BAD_SCOPE_CHECK',
  BAD_SUBSCRIBE: 'BAD_SUBSCRIBE',
  // Sealed rows
  BAD_ENVELOPE: 'BAD_ENVELOPE',
  KEY_UNKNOWN: 'KEY_UNKNOWN',
  KEY_OTHER_AGENCY: 'KEY_OTHER_AGENCY',
  KEY_REVOKED: 'KEY_REVOKED',
  WRITER_MISMATCH: 'WRITER_MISMATCH',
  // Administration
  BAD_ID: 'BAD_ID',
  INVALID_USER: 'INVALID_USER',
  SELF_REVOKE: 'SELF_REVOKE',
  USERNAME_TAKEN: 'USERNAME_TAKEN',
  USER_NOT_FOUND: 'USER_NOT_FOUND',
  DEAD_LETTER_NOT_FOUND: 'DEAD_LETTER_NOT_FOUND',
  INVALID_AGENCY_SETTINGS: 'INVALID_AGENCY_SETTINGS',
  // State reporting
  AGENCY_NOT_CONFIGURED: 'AGENCY_NOT_CONFIGURED',
  BAD_PERIOD: 'BAD_PERIOD',
  TOO_MANY_REPORTS: 'TOO_MANY_REPORTS',
  NOT_VALID: 'NOT_VALID',
  // NEMSIS export
  EPCR_NOT_FOUND: 'EPCR_NOT_FOUND',
  NOT_EXPORTED: 'NOT_EXPORTED',
  NOT_CHECKED: 'NOT_CHECKED',
  // NEMSIS import
  NEMSIS_FILE_INVALID: 'NEMSIS_FILE_INVALID',
  IMPORT_CONFLICT: 'IMPORT_CONFLICT',
  // Attachments (tus uploads and reads)
  TUS_VERSION_UNSUPPORTED: 'TUS_VERSION_UNSUPPORTED',
  BAD_UPLOAD_METADATA: 'BAD_UPLOAD_METADATA',
  UPLOAD_NOT_FOUND: 'UPLOAD_NOT_FOUND',
  UPLOAD_OFFSET_MISMATCH: 'UPLOAD_OFFSET_MISMATCH',
  UPLOAD_EXPIRED: 'UPLOAD_EXPIRED',
  ATTACHMENT_TOO_LARGE: 'ATTACHMENT_TOO_LARGE',
  ATTACHMENT_TYPE_REFUSED: 'ATTACHMENT_TYPE_REFUSED',
  ATTACHMENT_HASH_MISMATCH: 'ATTACHMENT_HASH_MISMATCH',
  ATTACHMENT_NOT_FOUND: 'ATTACHMENT_NOT_FOUND',
  // CAD bridge
  BAD_BODY: 'BAD_BODY',
  BAD_CAD_EVENT: 'BAD_CAD_EVENT',
  BRIDGE_OFF: 'BRIDGE_OFF',
  // Signed integration events (order intake)
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  STALE_SIGNATURE: 'STALE_SIGNATURE',
  INTAKE_NOT_CONFIGURED: 'INTAKE_NOT_CONFIGURED',
  BAD_ORDER_EVENT: 'BAD_ORDER_EVENT',
  ORDER_CONFLICT: 'ORDER_CONFLICT',
  // Maps
  MAP_NOT_CONFIGURED: 'MAP_NOT_CONFIGURED',
  RANGE_NOT_SATISFIABLE: 'RANGE_NOT_SATISFIABLE',
  UPSTREAM_FAILED: 'UPSTREAM_FAILED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
export const ERROR_CODES: readonly ErrorCode[] = Object.values(ErrorCode);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/**
 * Why an access rule refused one write (shared/access/policy.ts decides; docs/protocol.md §9
 * lists them): the `code` of a rejection notice, of a durable rejection entry, and the
 * `<CODE>` in an `ACCESS_DENIED` detail's message.
 */
export const RefusalCode = {
  NO_WRITE_ACCESS: 'NO_WRITE_ACCESS',
  NO_CREATE: 'NO_CREATE',
  OUT_OF_SCOPE: 'OUT_OF_SCOPE',
  FINALIZED: 'FINALIZED',
  SERVER_OWNED_FIELD: 'SERVER_OWNED_FIELD',
  IMMUTABLE_FIELD: 'IMMUTABLE_FIELD',
  NO_DELETE: 'NO_DELETE',
  FIELD_NOT_WRITABLE: 'FIELD_NOT_WRITABLE',
  TRANSITION_NOT_ALLOWED: 'TRANSITION_NOT_ALLOWED',
} as const;
export type RefusalCode = (typeof RefusalCode)[keyof typeof RefusalCode];
export const REFUSAL_CODES: readonly RefusalCode[] = Object.values(RefusalCode);

/** Codes only a rejection notice or entry carries (docs/protocol.md §10). */
export const NoticeCode = {
  /** A resend of a write the server refused before: nothing new, not stored again. */
  ALREADY_REFUSED: 'ALREADY_REFUSED',
  /** A durable entry whose reason names no code (quarantined before codes were recorded). */
  REFUSED: 'REFUSED',
} as const;
export type NoticeCode = (typeof NoticeCode)[keyof typeof NoticeCode];
