/** Header names of the HTTP API (docs/protocol.md §2, §8, §10). Lower case, as Node hands them over. */
export const HEADERS = {
  authorization: 'authorization',
  contentType: 'content-type',
  contentEncoding: 'content-encoding',
  requestId: 'x-request-id',
  retryAfter: 'retry-after',
  /** Push answers: JSON array of `RejectionNotice`, present only when something was refused. */
  rejections: 'x-fieldsync-rejections',
  /** How many notices there were when `x-fieldsync-rejections` had to be cut short. */
  rejectionsTotal: 'x-fieldsync-rejections-total',
  /** A DPoP proof (RFC 9449): sent with `Authorization: DPoP <device credential>` (docs/protocol.md §3). */
  dpop: 'dpop',
  cacheControl: 'cache-control',
  /** Signed integration events (docs/protocol.md §28): Unix seconds when the sender signed. */
  signatureTimestamp: 'x-fieldsync-timestamp',
  /** Signed integration events: `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` under the agency's key. */
  signature: 'x-fieldsync-signature',
} as const;

export const REJECTIONS_HEADER = HEADERS.rejections;
export const REJECTIONS_TOTAL_HEADER = HEADERS.rejectionsTotal;
export const JSON_CONTENT_TYPE = 'application/json';

/** `Authorization: Bearer <token>`: the one way a token travels over HTTP. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** The token of an `Authorization` header, if it is a bearer token. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match ? match[1] : undefined;
}

/** `Authorization: DPoP <credential>`: how a device's push-only credential travels (RFC 9449), always with a `DPoP` proof header. */
export function dpopAuthorization(credential: string): string {
  return `DPoP ${credential}`;
}

/** The credential of an `Authorization` header, if it uses the DPoP scheme. */
export function dpopCredential(header: string | null | undefined): string | undefined {
  const match = /^DPoP\s+(\S+)$/i.exec(header ?? '');
  return match ? match[1] : undefined;
}
