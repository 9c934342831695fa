import { INTEGRATION_DEFAULTS } from '../config.ts';
import { HttpClaimsGateway } from './claims.ts';
import { HttpHospitalGateway } from './hospital.ts';
import { ResilientAddressGeocoder } from './geocoding.ts';
import { HttpStateSubmissionGateway } from './state-submission/client.ts';
import { ResilientCaller, type BreakerState } from './resilient-call.ts';
import type { CadGateway, Integrations } from './types.ts';

export type IntegrationsConfig = typeof INTEGRATION_DEFAULTS;

export interface BuiltIntegrations extends Integrations {
  /** Breaker state of every outbound target (`hospital:<code>`, `claims`, `state:<host>`, `geocoder:<host>`), for /ready and /metrics. */
  breakerStates(): Record<string, BreakerState>;
}

/** Where breaker changes are reported; a Fastify logger fits. */
export interface IntegrationsLog {
  warn(object: Record<string, unknown>, message: string): void;
  info(object: Record<string, unknown>, message: string): void;
}

/** The integration settings of a (partial) server config, with the defaults for what it leaves out. */
export function integrationsConfigFrom(options: Partial<IntegrationsConfig>): IntegrationsConfig {
  const pick = <K extends keyof IntegrationsConfig>(key: K): IntegrationsConfig[K] => options[key] ?? INTEGRATION_DEFAULTS[key];
  return {
    hospitalEndpoints: pick('hospitalEndpoints'),
    claimsEndpoint: options.claimsEndpoint,
    stateEndpointHosts: pick('stateEndpointHosts'),
    integrationTimeoutMs: pick('integrationTimeoutMs'),
    integrationRetries: pick('integrationRetries'),
    integrationBackoffMs: pick('integrationBackoffMs'),
    integrationBackoffMaxMs: pick('integrationBackoffMaxMs'),
    breakerThreshold: pick('breakerThreshold'),
    breakerHalfOpenAfterMs: pick('breakerHalfOpenAfterMs'),
  };
}

/**
 * The outbound gateways hooks use. The CAD gateway is passed in: it queues into the store's CAD
 * outbox and makes no HTTP call of its own, so it has no breaker here.
 */
export function buildIntegrations(config: IntegrationsConfig, cad: CadGateway, log?: IntegrationsLog): BuiltIntegrations {
  const caller = new ResilientCaller({
    timeoutMs: config.integrationTimeoutMs,
    retries: config.integrationRetries,
    backoffMs: config.integrationBackoffMs,
    backoffMaxMs: config.integrationBackoffMaxMs,
    breakerThreshold: config.breakerThreshold,
    breakerHalfOpenAfterMs: config.breakerHalfOpenAfterMs,
  }, {
    onBreakerChange(target, state, lastError) {
      if (state === 'closed') log?.info({ target, breaker: state }, 'integration target recovered; breaker closed');
      else log?.warn({ target, breaker: state, lastError }, state === 'open'
        ? 'integration target keeps failing; breaker open, calls to it fail fast until a trial call succeeds'
        : 'integration target breaker half-open; trial call in flight');
    },
  });
  return {
    hospital: new HttpHospitalGateway(config.hospitalEndpoints, caller),
    claims: new HttpClaimsGateway(config.claimsEndpoint, caller),
    cad,
    stateSubmission: new HttpStateSubmissionGateway(caller, config.stateEndpointHosts),
    geocoder: new ResilientAddressGeocoder(caller),
    breakerStates: () => caller.breakerStates(),
  };
}

export { IntegrationCallError, PermanentCallError, ResilientCaller, type BreakerState, type ResilienceOptions } from './resilient-call.ts';
export { HttpClaimsGateway } from './claims.ts';
export { HttpHospitalGateway } from './hospital.ts';
