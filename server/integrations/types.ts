import type { AddressGeocoder } from './geocoding.ts';
import type { StateSubmissionGateway } from './state-submission/client.ts';

/**
 * The outbound systems hooks talk to. Every call goes through a resilient client (timeouts,
 * retries with backoff and jitter, a circuit breaker per target); a call that still fails
 * throws, and the hook runner retries the outbox entry later or keeps it as a dead letter.
 * Each call carries an idempotency key so a receiver can drop a duplicate delivery.
 */

export interface HospitalNotice {
  idempotencyKey: string;
  tenantId: string;
  epcrId: string;
  /** The destination's configured endpoint; absent means the destination takes no notices. */
  destinationCode: string;
  /** A FHIR R4 message Bundle (server/integrations/fhir/notice-bundle.ts; docs/hooks.md, "Hospital notices"). */
  body: unknown;
}

/** The media type claims are sent with: an ASC X12 837P interchange (RFC 1767). */
export const X12_CONTENT_TYPE = 'application/edi-x12';

export interface ClaimSubmission {
  idempotencyKey: string;
  tenantId: string;
  claimId: string;
  /** X12_CONTENT_TYPE with the 837P file as `body`; JSON (any other body) otherwise. */
  contentType?: typeof X12_CONTENT_TYPE;
  body: unknown;
}

export interface CadNotice {
  idempotencyKey: string;
  tenantId: string;
  /** socket.io event name, e.g. `epcr:finalized`, `unit:status`. */
  event: string;
  payload: Record<string, unknown>;
}

export interface HospitalGateway {
  /** Resolves when the hospital acknowledged; throws when it did not (after the client's own retries). */
  notify(notice: HospitalNotice): Promise<void>;
  /** Whether a destination has a configured endpoint. */
  hasEndpoint(destinationCode: string): boolean;
}

export interface ClaimsGateway {
  submit(submission: ClaimSubmission): Promise<{ accepted: boolean; reference?: string }>;
}

export interface CadGateway {
  /** Queues the notice durably for the CAD bridge; resolves once queued, not once delivered. */
  send(notice: CadNotice): Promise<void>;
}

export interface Integrations {
  hospital: HospitalGateway;
  claims: ClaimsGateway;
  cad: CadGateway;
  /** The state's NEMSIS web service (each agency's endpoint is in its settings); absent in tests of other workflows. */
  stateSubmission?: StateSubmissionGateway;
  /** The agencies' geocoders (each agency's is in its map settings); absent in tests of other workflows. */
  geocoder?: AddressGeocoder;
}
