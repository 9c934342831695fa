import { checkIdempotencyKey, postOnce } from './http-post.ts';
import { IntegrationCallError, type ResilientCaller } from './resilient-call.ts';
import type { HospitalGateway, HospitalNotice } from './types.ts';

export function hospitalTarget(destinationCode: string): string {
  return `hospital:${destinationCode}`;
}

/**
 * Pre-arrival notices to receiving hospitals: the notice body is POSTed as FHIR JSON to the
 * destination's configured endpoint. Each destination is its own target with its own breaker.
 * The idempotency key is the same on every attempt and every later retry of the outbox entry,
 * so a hospital that stored a notice but whose answer was lost can drop the repeat.
 */
export class HttpHospitalGateway implements HospitalGateway {
  private readonly endpoints: ReadonlyMap<string, string>;

  constructor(endpoints: Record<string, string>, private readonly caller: ResilientCaller) {
    this.endpoints = new Map(Object.entries(endpoints));
    for (const code of this.endpoints.keys()) caller.declare(hospitalTarget(code));
  }

  hasEndpoint(destinationCode: string): boolean {
    return this.endpoints.has(destinationCode);
  }

  async notify(notice: HospitalNotice): Promise<void> {
    const target = hospitalTarget(notice.destinationCode);
    const url = this.endpoints.get(notice.destinationCode);
    if (!url) {
      throw new IntegrationCallError(target, 'permanent',
        `No endpoint is configured for hospital destination "${notice.destinationCode}": add it to HOSPITAL_ENDPOINTS, or check hasEndpoint() before notifying.`);
    }
    checkIdempotencyKey(target, notice.idempotencyKey);
    const body = JSON.stringify(notice.body);
    if (body === undefined) throw new IntegrationCallError(target, 'permanent', `${target}: the notice for report ${notice.epcrId} has no body to send.`);
    await this.caller.call(target, (signal) => postOnce(target, url, body, {
      'content-type': 'application/fhir+json',
      accept: 'application/fhir+json, application/json;q=0.9, */*;q=0.1',
      'idempotency-key': notice.idempotencyKey,
    }, signal));
  }
}
