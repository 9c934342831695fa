import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { WorkflowRegistry } from './registry.ts';
import { HookRunner, type HookRunnerOptions } from './runner.ts';

declare module 'fastify' {
  interface FastifyInstance {
    workflows: WorkflowRegistry;
    hookRunner: HookRunner;
  }
}

export interface HooksPluginOptions {
  /**
   * The workflow registry, made by buildServer because the store is opened with it too (it plans
   * each write's hook entries); the capabilities registered after this one fill it.
   */
  workflows: WorkflowRegistry;
  /** Hook runner tuning (tests shorten the retry delays). */
  hookRunner?: Partial<Pick<HookRunnerOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'pollMs' | 'claimLeaseMs'>>;
}

/**
 * The hook spine: the workflow registry (filled by the capabilities registered after this one:
 * the CAD bridge's mappers, then the workflow catalogue) and the runner that claims outbox
 * entries and runs their effects, from ready until close.
 */
export const hooksPlugin = fp(async (app: FastifyInstance, options: HooksPluginOptions) => {
  const { store } = app;
  const { workflows } = options;
  const hookRunner = new HookRunner({ store, registry: workflows, log: app.log.child({ component: 'hooks' }), ...options.hookRunner });
  app.decorate('workflows', workflows);
  app.decorate('hookRunner', hookRunner);
  // Only commits that can have added hook entries wake the runner: an empty document list means
  // entries were enqueued directly; a GPS batch with no workflow watching it needs no outbox read.
  const detachRunner = store.onCommit((event) => {
    if (event.documents.length === 0 || workflows.watches(event.collection)) hookRunner.wake();
  });
  app.addHook('onReady', async () => hookRunner.start());
  app.addHook('onClose', async () => {
    detachRunner();
    await hookRunner.stop();
  });
}, { name: 'fieldsync-hooks', fastify: '5.x', dependencies: ['fieldsync-store'], decorators: { fastify: ['store'] } });
