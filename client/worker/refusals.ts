/**
 * What the database worker learns from the answers to its own sync requests: a 401 goes to the
 * session; refused documents get their reason, from the access-control rejection channel (header
 * `x-fieldsync-rejections` on push answers, 403 details; shared/protocol/rejections.ts) or from a
 * refused push body (INVALID_DOCUMENT, …).
 */
import { ErrorCode, REJECTIONS_HEADER, type RejectionNotice } from '../../shared/protocol/index.ts';
import type { ErrorBody, PushRow } from '../../shared/protocol/index.ts';
import type { JsonDoc, Rejection } from './api.ts';

/** Document refusals a retry cannot fix (docs/protocol.md §11) and access-control refusals. */
const REFUSAL_CODES = new Set([ErrorCode.INVALID_DOCUMENT, ErrorCode.TENANT_MISMATCH, ErrorCode.FOREIGN_DOCUMENT, ErrorCode.FORBIDDEN, ErrorCode.ACCESS_DENIED, 'DOCUMENT_LOCKED']);

export interface RefusalListener {
  /** A document the server refused, with its reason (announced to the other tabs). */
  refused(rejection: Rejection): void;
  /** The server refused the token (401); `token`: the one the request carried. */
  authFailed(message: string, token: string | undefined): void;
}

/** `fetch`, watched: every sync request of the worker goes through here. */
export async function inspectedFetch(input: RequestInfo | URL, init: RequestInit | undefined, listener: RefusalListener): Promise<Response> {
  const response = await fetch(input, init);
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const push = /\/api\/sync\/([a-z_]+)\/push/.exec(url);
  const rowsOf = (): PushRow<JsonDoc>[] => {
    try {
      return typeof init?.body === 'string' ? (JSON.parse(init.body) as PushRow<JsonDoc>[]) : [];
    } catch {
      return [];
    }
  };
  const notices = response.headers.get(REJECTIONS_HEADER);
  if (push && notices) {
    try {
      const rows = rowsOf();
      for (const notice of JSON.parse(notices) as RejectionNotice[]) {
        const row = rows.find((r) => r.newDocumentState['id'] === notice.id);
        listener.refused({
          collection: push[1]!, id: notice.id, code: notice.code, reason: notice.reason, at: Date.now(),
          ...(row ? { rev: String(row.newDocumentState['rev']) } : {}),
        });
      }
    } catch {
      // a malformed header is ignored; the durable list has the same reasons
    }
  }
  if (response.ok) return response;
  let body: ErrorBody | undefined;
  try {
    body = (await response.clone().json()) as ErrorBody;
  } catch {
    body = undefined;
  }
  if (response.status === 401) {
    // The token the request carried: a 401 for a token the page has since replaced is old news.
    const auth = new Headers(init?.headers).get('authorization') ?? '';
    listener.authFailed(body?.error.message ?? 'Your sign-in has expired.', auth.replace(/^Bearer\s+/i, '') || undefined);
  }
  if (push && body && REFUSAL_CODES.has(body.error.code)) {
    const collection = push[1]!;
    const rows = rowsOf();
    const named = new Set((body.error.details ?? []).map((d) => d.id ?? (d.index !== undefined ? rows[d.index]?.newDocumentState['id'] : undefined)).filter(Boolean) as string[]);
    const refused = named.size > 0 ? rows.filter((r) => named.has(String(r.newDocumentState['id']))) : rows;
    for (const row of refused) {
      const id = String(row.newDocumentState['id']);
      const detail = body.error.details?.find((d) => d.id === id);
      listener.refused({
        collection, id, code: body.error.code, at: Date.now(), rev: String(row.newDocumentState['rev']),
        reason: detail ? detail.message : body.error.message,
      });
    }
  }
  return response;
}
