import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { buildIntegrations, type BuiltIntegrations, type IntegrationsConfig } from './index.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Hospital, claims and CAD gateways for workflows, with their breaker states. */
    integrations: BuiltIntegrations;
  }
}

export interface IntegrationsPluginOptions {
  config: IntegrationsConfig;
  /** Outbound gateways to use instead of the HTTP ones built from the config (tests of workflows). */
  integrations?: BuiltIntegrations;
}

/** The outbound gateways the workflows call (hospitals, clearinghouse, CAD), each behind retries and a breaker. */
export const integrationsPlugin = fp(async (app: FastifyInstance, options: IntegrationsPluginOptions) => {
  app.decorate('integrations', options.integrations ?? buildIntegrations(options.config, app.cadGateway, app.log.child({ component: 'integrations' })));
}, {
  name: 'fieldsync-integrations', fastify: '5.x',
  dependencies: ['fieldsync-cad-bridge'],
  decorators: { fastify: ['cadGateway'] },
});
