import { checkIdempotencyKey, postOnce } from './http-post.ts';
import { IntegrationCallError, type ResilientCaller } from './resilient-call.ts';
import { X12_CONTENT_TYPE, type ClaimSubmission, type ClaimsGateway } from './types.ts';
import { ADMIN, patternOf } from '../../shared/protocol/index.ts';

export const CLAIMS_TARGET = 'claims';

/**
 * Claim submission to the clearinghouse at CLAIMS_ENDPOINT: the 837P file (application/edi-x12). A 2xx answer is an
 * acceptance unless its JSON body says `"accepted": false`; the reference is the body's
 * `reference` (or `id`), else the Location header. Without an endpoint every submission fails
 * with a message saying so: the claim stays in the outbox (and ends as a dead letter an admin can
 * retry once the endpoint is set) instead of being reported as accepted.
 */
export class HttpClaimsGateway implements ClaimsGateway {
  constructor(private readonly endpoint: string | undefined, private readonly caller: ResilientCaller) {
    if (endpoint) caller.declare(CLAIMS_TARGET);
  }

  async submit(submission: ClaimSubmission): Promise<{ accepted: boolean; reference?: string }> {
    const endpoint = this.endpoint;
    if (!endpoint) {
      throw new IntegrationCallError(CLAIMS_TARGET, 'permanent',
        `claims submission is not configured: set CLAIMS_ENDPOINT to the clearinghouse URL and restart the server. Claim ${submission.claimId} was not sent; once the endpoint is set, an admin can retry it from ${patternOf(ADMIN.deadLetters)}.`);
    }
    checkIdempotencyKey(CLAIMS_TARGET, submission.idempotencyKey);
    const x12 = submission.contentType === X12_CONTENT_TYPE && typeof submission.body === 'string';
    const body = x12 ? (submission.body as string) : JSON.stringify(submission.body);
    if (body === undefined) throw new IntegrationCallError(CLAIMS_TARGET, 'permanent', `claim ${submission.claimId} has no body to send.`);
    const result = await this.caller.call(CLAIMS_TARGET, (signal) => postOnce(CLAIMS_TARGET, endpoint, body, {
      'content-type': x12 ? X12_CONTENT_TYPE : 'application/json',
      accept: 'application/json',
      'idempotency-key': submission.idempotencyKey,
    }, signal));
    const answer = parseObject(result.text);
    const reference = stringField(answer, 'reference') ?? stringField(answer, 'id') ?? result.headers.get('location') ?? undefined;
    const accepted = answer?.['accepted'] !== false;
    return reference === undefined ? { accepted } : { accepted, reference };
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function stringField(object: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = object?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
