import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ServerConfig } from '../../config.ts';
import { readAgencySettings, storeAgencyLookup } from '../../agencies/directory.ts';
import { mapSettingsFor } from '../../maps/settings.ts';
import { sharedSchematronValidator } from '../../nemsis/schematron.ts';
import type { Workflow } from '../types.ts';
import { defaultWorkflows } from './index.ts';

export interface WorkflowsPluginOptions {
  config: Pick<ServerConfig, 'autoClaimAfterFinalize' | 'outboxClaimLeaseMs' | 'nemsisXsdDir' | 'schematronCacheDir'>;
  /** Workflows to run on committed changes; defaults to the product's hook catalogue (docs/hooks.md). */
  workflows?: readonly Workflow[];
}

/** The hook catalogue (docs/hooks.md), registered with the hook spine once the gateways it calls exist. */
export const workflowsPlugin = fp(async (app: FastifyInstance, options: WorkflowsPluginOptions) => {
  const { config } = options;
  const catalogue = options.workflows ?? defaultWorkflows({
    integrations: app.integrations,
    autoClaimAfterFinalize: config.autoClaimAfterFinalize,
    leaseMs: config.outboxClaimLeaseMs,
    fieldServiceOf: (tenantId) => readAgencySettings(app.store, tenantId),
    geocoderOf: async (tenantId) => (await mapSettingsFor(app.store, app.config, tenantId)).geocoder,
    attachments: app.attachments,
    nemsis: {
      agencyOf: storeAgencyLookup(app.store),
      ...(config.nemsisXsdDir ? { xsdDir: config.nemsisXsdDir } : {}),
      schematronCacheDir: config.schematronCacheDir,
    },
  });
  // Compiles (once per rules version) and loads the national Schematron in the background, so the
  // first finalize does not wait for it; a failure here is only logged, the finalize says it again.
  if (config.nemsisXsdDir && !options.workflows) {
    sharedSchematronValidator({ nemsisDir: config.nemsisXsdDir, cacheDir: config.schematronCacheDir })
      .ready().catch((error: unknown) => app.log.error({ err: error }, 'the national Schematron could not be prepared; finalizing reports waits for it'));
  }
  for (const workflow of catalogue) app.workflows.register(workflow);
}, {
  name: 'fieldsync-workflows', fastify: '5.x',
  dependencies: ['fieldsync-store', 'fieldsync-hooks', 'fieldsync-integrations', 'fieldsync-attachments'],
  decorators: { fastify: ['store', 'workflows', 'integrations', 'attachments', 'config'] },
});
