/**
 * Attachments (issue 18): signatures and photos uploaded resumably (tus 1.0 by @tus/server),
 * stored once by SHA-256 with a link row per document, read back scoped like their document,
 * audited for clinical collections. Decorates `app.attachments` (the storage), which the
 * workflows read: the finalize waits for the bytes a report lists, the NEMSIS export, the claim
 * and the hospital notice read them.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ATTACHMENTS_BASE_PATH } from '../../shared/protocol/index.ts';
import type { ServerConfig } from '../config.ts';
import { actorOf } from '../auth/actor.ts';
import { PostgresStore } from '../store/postgres.ts';
import { checkMayUpload, storedDocument } from './access.ts';
import { attachmentRoutes } from './routes.ts';
import type { AttachmentStorage } from './storage.ts';
import { PostgresAttachmentStorage } from './storage-postgres.ts';
import { SqliteAttachmentStorage } from './storage-sqlite.ts';
import { createAttachmentTus, type CompleteSweep } from './tus-server.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Uploads, objects and links of attachments (server/attachments/storage.ts). */
    attachments: AttachmentStorage;
    /**
     * One sweep of the uploads, as the timer runs it: incomplete ones expired are deleted; those
     * holding every byte that nobody finishes are finished (or deleted once expired, when they
     * cannot be). Resolves when it is done (tests call it instead of waiting for the timer).
     */
    sweepAttachmentUploads(): Promise<CompleteSweep | undefined>;
  }
}

export interface AttachmentsPluginOptions {
  config: Pick<ServerConfig, 'dataDir' | 'devTokens' | 'attachmentMaxBytes' | 'attachmentUploadExpiryMs' | 'attachmentFinishWaitMs'>;
}

/**
 * The outbox kinds of the workflows that wait for bytes, asked again when they arrive: the
 * finalize of a report (server/hooks/workflows/epcr-finalized.ts) and the job a customer
 * signature completes (job-signed.ts). Their keys here end in `:bytes:<sha256>`, apart from the
 * keys their triggers make, so an entry that ran before the bytes does not swallow this one.
 */
export const FINALIZE_WORKFLOW = 'epcr-finalized';
export const JOB_SIGNED_WORKFLOW = 'job-signed';

export const attachmentsPlugin = fp(async (app: FastifyInstance, options: AttachmentsPluginOptions) => {
  const { config } = options;
  const store = app.store;
  const storage: AttachmentStorage = store instanceof PostgresStore
    ? await PostgresAttachmentStorage.open(store.connections, store.schema, config.attachmentUploadExpiryMs, config.attachmentFinishWaitMs)
    : new SqliteAttachmentStorage(config.dataDir, config.attachmentUploadExpiryMs);
  app.decorate('attachments', storage);

  const tus = createAttachmentTus({
    storage,
    maxBytes: config.attachmentMaxBytes,
    checkMayUpload: (identity, collection, docId, sha256) => checkMayUpload(app.accessControl, store, identity, collection, docId, sha256),
    // Read when an upload completes: the auth plugin's keys (the same that open queued envelopes).
    transportKeys: { lookup: (kid) => app.auth.transportKeys.lookup(kid) },
    ownerSealKey: app.auth.derivedKey('attachment upload owner'),
    // The sweep acts for an uploader who is not there: only while the sign-in checks would still
    // let that account on that device in (logging out is no reason not to: a signed-out tablet's
    // upload is what the sweep is for).
    async uploaderActive(identity) {
      const [user, device] = await Promise.all([
        app.identities.getUser(identity.tenantId, identity.userId), app.identities.getDevice(identity.tenantId, identity.deviceId),
      ]);
      if (device?.revokedAt !== undefined) return false;
      if (user) return user.disabledAt === undefined;
      // No account of that id: a device token's (`npm run token`, revoked with its device, checked
      // above), or a development token's, which exists only while they are accepted.
      return identity.userId.startsWith('cli:') || config.devTokens;
    },
    async onStored(stored) {
      if (app.accessControl.isPhi(stored.collection)) {
        await store.appendAudit([{
          tenantId: stored.tenantId, action: 'attachment_write', actor: actorOf(stored.identity), collection: stored.collection,
          documents: [{ id: stored.docId }], details: { sha256: stored.sha256, bytes: stored.size, contentType: stored.contentType, newObject: stored.created },
        }]);
      }
      if (stored.collection === 'jobs') {
        await store.enqueueOutbox([{
          key: `${JOB_SIGNED_WORKFLOW}:${stored.tenantId}:${stored.docId}:bytes:${stored.sha256}`,
          kind: JOB_SIGNED_WORKFLOW, tenantId: stored.tenantId,
          payload: { collection: 'jobs', id: stored.docId, seq: 0 },
          causationId: `attachments/${stored.docId}/${stored.sha256}`,
        }]);
        return;
      }
      // A report finalized before these bytes arrived waits for them (docs/hooks.md): ask its finalize again now.
      if (stored.collection !== 'epcrs') return;
      const doc = await storedDocument(store, stored.tenantId, 'epcrs', stored.docId);
      if (!doc || doc['_deleted'] === true || doc['status'] !== 'finalized' || doc['lockedAt'] !== undefined) return;
      await store.enqueueOutbox([{
        key: `${FINALIZE_WORKFLOW}:${stored.tenantId}:${stored.docId}@${String(doc['rev'])}:bytes:${stored.sha256}`,
        kind: FINALIZE_WORKFLOW, tenantId: stored.tenantId,
        payload: { collection: 'epcrs', id: stored.docId, seq: 0 },
        causationId: `attachments/${stored.docId}/${stored.sha256}`,
      }]);
    },
  });

  await app.register(attachmentRoutes, {
    prefix: ATTACHMENTS_BASE_PATH, auth: app.authenticator, deviceCredentials: app.deviceCredentials, storage, tus, maxBytes: config.attachmentMaxBytes,
  });

  // Swept as often as a tenth of an upload's lifetime (at most hourly): incomplete uploads expire;
  // complete ones are finished even when their uploader never asks again (a signed-out tablet, a
  // device that gave up after a 500 and started a new upload), so their bytes neither stay for
  // good nor go unstored.
  let sweeping: Promise<CompleteSweep | undefined> | undefined;
  const sweepUploads = async (): Promise<CompleteSweep | undefined> => {
    await storage.uploads.deleteExpired().catch((error: unknown) => app.log.warn({ err: error }, 'attachments: could not delete expired uploads; will try again'));
    try {
      const swept = await tus.sweepComplete(Date.now(), config.attachmentUploadExpiryMs);
      for (const failure of swept.failures) {
        app.log.warn({ err: failure.error, uploadId: failure.uploadId }, failure.stage === 'finish'
          ? 'attachments: could not finish an upload holding every byte; the next sweep tries again (once expired, it is deleted after its second failed sweep)'
          : 'attachments: could not delete an expired upload holding every byte; the next sweep tries again');
      }
      if (swept.stored + swept.refused + swept.expired > 0) app.log.info({ ...swept, failures: swept.failures.length }, 'attachments: swept uploads holding every byte');
      return swept;
    } catch (error) {
      app.log.warn({ err: error }, 'attachments: could not sweep the uploads holding every byte; will try again');
      return undefined;
    }
  };
  // One sweep at a time in a process: a second call waits for the running one's result.
  app.decorate('sweepAttachmentUploads', () => {
    sweeping ??= sweepUploads().finally(() => { sweeping = undefined; });
    return sweeping;
  });
  const sweep = setInterval(() => {
    void app.sweepAttachmentUploads();
  }, Math.max(1_000, Math.min(3_600_000, Math.floor(config.attachmentUploadExpiryMs / 10))));
  sweep.unref();
  app.addHook('onClose', async () => {
    clearInterval(sweep);
    await sweeping;
    await storage.close();
  });
}, {
  name: 'fieldsync-attachments', fastify: '5.x',
  dependencies: ['fieldsync-store', 'fieldsync-auth', 'fieldsync-sync'],
  decorators: { fastify: ['store', 'auth', 'identities', 'authenticator', 'deviceCredentials', 'accessControl'] },
});
