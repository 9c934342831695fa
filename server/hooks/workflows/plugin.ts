import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ServerConfig } from '../../config.ts';
import type { Workflow } from '../types.ts';
import { defaultWorkflows } from './index.ts';

export interface WorkflowsPluginOptions {
  config: Pick<ServerConfig, 'autoClaimAfterFinalize' | 'nemsisStateId' | 'nemsisAgencyNumber' | 'nemsisStateCode' | 'nemsisXsdDir'>;
  /** Workflows to run on committed changes; defaults to the product's hook catalogue (docs/hooks.md). */
  workflows?: readonly Workflow[];
}

/** The hook catalogue (docs/hooks.md), registered with the hook spine once the gateways it calls exist. */
export const workflowsPlugin = fp(async (app: FastifyInstance, options: WorkflowsPluginOptions) => {
  const { config } = options;
  const catalogue = options.workflows ?? defaultWorkflows({
    integrations: app.integrations,
    autoClaimAfterFinalize: config.autoClaimAfterFinalize,
    nemsis: {
      agency: { stateId: config.nemsisStateId, agencyNumber: config.nemsisAgencyNumber, stateCode: config.nemsisStateCode },
      ...(config.nemsisXsdDir ? { xsdDir: config.nemsisXsdDir } : {}),
    },
  });
  for (const workflow of catalogue) app.workflows.register(workflow);
}, {
  name: 'fieldsync-workflows', fastify: '5.x',
  dependencies: ['fieldsync-hooks', 'fieldsync-integrations'],
  decorators: { fastify: ['workflows', 'integrations'] },
});
