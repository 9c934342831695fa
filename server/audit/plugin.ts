import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { auditCheckpointFileOf, type ServerConfig } from '../config.ts';
import type { AuditKey } from '../store/audit-chain.ts';
import { AuditCheckpointer } from './checkpointer.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Writes signed checkpoints of the audit chain outside the database (server/audit/checkpointer.ts). */
    auditCheckpoints: AuditCheckpointer;
  }
}

export interface AuditPluginOptions {
  config: Pick<ServerConfig, 'auditCheckpointFile' | 'auditCheckpointUrl' | 'auditCheckpointIntervalMs' | 'dataDir'>;
  /** The key the store chains with (loaded once by the app factory, before the store opens). */
  key: AuditKey;
}

/**
 * The audit log's checkpoints: one when the server is ready, then every
 * AUDIT_CHECKPOINT_INTERVAL_MS if the log grew, and a last one at shutdown, after every
 * capability that writes to the log has stopped (registered right after the store: closed just
 * before it).
 */
export const auditPlugin = fp(async (app: FastifyInstance, options: AuditPluginOptions) => {
  const checkpointer = new AuditCheckpointer({
    store: app.store, key: options.key, file: auditCheckpointFileOf(options.config), sinkUrl: options.config.auditCheckpointUrl, log: app.log,
  });
  app.decorate('auditCheckpoints', checkpointer);
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    await checkpointer.checkpoint();
    timer = setInterval(() => { void checkpointer.checkpoint(); }, options.config.auditCheckpointIntervalMs);
    timer.unref();
  });
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await checkpointer.checkpoint();
  });
}, { name: 'fieldsync-audit', fastify: '5.x', dependencies: ['fieldsync-store'], decorators: { fastify: ['store'] } });
