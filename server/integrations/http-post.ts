import { IntegrationCallError, PermanentCallError } from './resilient-call.ts';

export interface PostResult {
  status: number;
  headers: Headers;
  text: string;
}

/** How much of a refusing target's answer is kept in an error (it ends up in lastError of the outbox). */
const SNIPPET_CHARS = 200;

/** A header value fetch would refuse; checked first so a bad key is a clear permanent error, not a retried TypeError. */
const HEADER_VALUE = /^[\x21-\x7e]{1,256}$/;

export function checkIdempotencyKey(target: string, key: string): void {
  if (!HEADER_VALUE.test(key)) {
    throw new IntegrationCallError(target, 'permanent', `${target}: the idempotency key must be 1–256 visible ASCII characters; this one cannot be sent as a header. The caller has a bug.`);
  }
}

/**
 * One POST attempt. 2xx resolves. A refusal that repeating cannot fix (3xx, 4xx other than 408
 * and 429) throws PermanentCallError; everything else (5xx, 408, 429, network errors) throws a
 * plain Error, which the target's policy retries.
 */
export async function postOnce(target: string, url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<PostResult> {
  // Redirects are not followed: fetch would turn the POST into a GET and the notice would be lost
  // silently. A moved endpoint is a configuration problem and is reported as one.
  const response = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'manual' });
  const text = await response.text();
  const result = { status: response.status, headers: response.headers, text };
  if (response.status >= 200 && response.status < 300) return result;
  const answered = `${target} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${snippet(text)}`;
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location');
    throw new PermanentCallError(`${answered}: a redirect${location ? ` to ${location}` : ''}. Configure the final URL of the endpoint, then retry the dead letter.`);
  }
  if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
    throw new PermanentCallError(`${answered}. This is a permanent refusal, so it was not retried: fix the request or the endpoint configuration, then retry the dead letter.`);
  }
  throw new Error(answered);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '';
  return `: ${flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat}`;
}
