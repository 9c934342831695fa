/**
 * The sweep of uploads holding every byte (docs/protocol.md §25): an upload whose last bytes were
 * written but whose finish never ended (a crash) and whose uploader never asks again (a
 * signed-out tablet, a device that started a new upload after a 500) is finished by the sweep, as
 * its uploader, under the same claim as the uploader's HEAD: stored, audited and remembered once;
 * refused and deleted when the finish refuses it; deleted after the upload expiry when it cannot be
 * finished at all. The sweep never pulls the bytes from under a running finish.
 *
 * The crash is the bytes written through the real datastore without the finish; a running finish
 * is held at its access re-check (the store's read of the document). Real Fastify, SQLite and
 * PostgreSQL (two server processes on one database for "once on any number of processes"); only
 * the clock is faked, for the expiry.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Upload } from '@tus/utils';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { PostgresStore } from '../../../server/store/postgres.ts';
import { TUS_VERSION } from '../../../shared/protocol/index.ts';
import { make, rev, seed } from '../../helpers/access.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES, TEST_DATABASE_URL } from '../store/fixtures.ts';
import { createUpload, failCalls, gateReadsOf, jpegBytes, metadataHeader, sha256 } from './support.ts';

const A = 'agency-a';
const EXPIRY_MS = 3_600_000;
const CREW = { authorization: `Bearer ${devToken({ tenantId: A, role: 'crew', deviceId: 'tab-swp', subject: 'M1' })}` };

const head = (url: string) => fetch(url, { method: 'HEAD', headers: { 'tus-resumable': TUS_VERSION, ...CREW } });
/** Crews of their own, so revoking one touches no other test. */
const REVOKED_DEVICE_CREW = { authorization: `Bearer ${devToken({ tenantId: A, role: 'crew', deviceId: 'tab-rvk', subject: 'M1' })}` };
const DISABLED_USER_CREW = { authorization: `Bearer ${devToken({ tenantId: A, role: 'crew', deviceId: 'tab-usr', subject: 'M1' })}` };

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(storeKind === 'postgres' && SKIP_POSTGRES)(`the sweep finishes uploads holding every byte that nobody finishes (${storeKind})`, () => {
    const schemas = new PgSchemas();
    let server: TestServer;
    let schema = '';

    beforeAll(async () => {
      const options = { attachmentUploadExpiryMs: EXPIRY_MS };
      if (storeKind === 'postgres') {
        const opened = await schemas.openStore();
        schema = opened.schema;
        server = await startTestServer({ ...options, store: opened.store });
      } else {
        server = await startTestServer(options);
      }
    }, 120_000);
    afterEach(() => { vi.useRealTimers(); });
    afterAll(async () => {
      await server.close();
      await schemas.dropAll();
    });

    /** An upload whose every byte was written and whose finish never ran (the server stopped in between). */
    async function crashedUpload(bytes: Buffer, crew: Record<string, string> = CREW) {
      const doc = make.epcrs(A, { unitId: 'M1' });
      await seed(server.app.store, 'epcrs', [doc]);
      const created = await createUpload(server.url, bytes.length, { sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId: String(doc.id) }, crew);
      expect(created.status).toBe(201);
      const url = new URL(created.headers.get('location')!, server.url).href;
      const id = url.split('/').pop()!;
      await server.app.attachments.uploads.write(Readable.from([bytes]), id, 0);
      return { doc, url, id };
    }

    /**
     * An upload holding every byte as a server before this version stored it: the uploader's agency
     * and user written by the server, and whatever else the client sent in Upload-Metadata kept.
     */
    async function olderUpload(bytes: Buffer, docId: string, clientWrote: Record<string, string> = {}) {
      const id = randomUUID().replaceAll('-', '');
      const metadata = {
        sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId, ...clientWrote, fieldsyncTenant: A, fieldsyncUser: 'crew@tab-swp',
      };
      await server.app.attachments.uploads.create(new Upload({ id, size: bytes.length, offset: 0, metadata, creation_date: new Date().toISOString() }));
      await server.app.attachments.uploads.write(Readable.from([bytes]), id, 0);
      return id;
    }

    const pastExpiry = () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + EXPIRY_MS + 1_000);
    };

    const writes = async (docId: string) => (await server.app.store.queryAudit({ tenantId: A, documentId: docId, limit: 50 }))
      .filter((entry) => entry.action === 'attachment_write');
    const linked = (docId: string, bytes: Buffer) => server.app.attachments.isLinked({ tenantId: A, collection: 'epcrs', docId, sha256: sha256(bytes) });
    const waiting = async (id: string) => (await server.app.attachments.completeUploads()).some((upload) => upload.id === id);

    it('nobody asks again: the sweep stores it as its uploader (linked, audited once with the uploader as actor), remembers it and deletes its bytes; the uploader\'s late HEAD is 200; a second sweep does nothing more', async () => {
      const bytes = jpegBytes(30_000);
      const { doc, url, id } = await crashedUpload(bytes);
      expect(await linked(String(doc.id), bytes)).toBe(false);

      const swept = await server.app.sweepAttachmentUploads();
      expect(swept?.stored).toBeGreaterThanOrEqual(1);
      expect(await linked(String(doc.id), bytes)).toBe(true);
      const audited = await writes(String(doc.id));
      expect(audited).toHaveLength(1);
      expect(audited[0]!.actor).toMatchObject({ userId: 'crew@tab-swp', deviceId: 'tab-swp', role: 'crew' });
      expect(await waiting(id)).toBe(false);

      const late = await head(url);
      expect(late.status).toBe(200);
      expect(late.headers.get('upload-offset')).toBe(String(bytes.length));
      expect(late.headers.get('upload-length')).toBe(String(bytes.length));

      await server.app.sweepAttachmentUploads();
      expect(await writes(String(doc.id))).toHaveLength(1);
    });

    it('a sweep while the uploader\'s HEAD runs the finish, past the upload expiry: the sweep leaves it (claimed) and keeps its bytes; the finish runs once and the HEAD is 200', async () => {
      const bytes = jpegBytes(20_000);
      const { doc, url, id } = await crashedUpload(bytes);
      const gate = gateReadsOf(server.app.store, String(doc.id));
      const asked = head(url);
      await gate.reached;
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + EXPIRY_MS + 1_000);
      await server.app.sweepAttachmentUploads();
      expect(gate.held()).toBe(1);
      expect(await waiting(id)).toBe(true);
      gate.open();
      const answer = await asked;
      expect(answer.status).toBe(200);
      expect(answer.headers.get('upload-offset')).toBe(String(bytes.length));
      expect(await linked(String(doc.id), bytes)).toBe(true);
      expect(await writes(String(doc.id))).toHaveLength(1);
    });

    it('the sweep\'s finish refuses (the report moved to another unit): deleted, nothing stored; the uploader\'s late HEAD is 404 (a new upload meets the refusal with its reason)', async () => {
      const bytes = jpegBytes(10_000);
      const { doc, url, id } = await crashedUpload(bytes);
      await seed(server.app.store, 'epcrs', [{ ...doc, unitId: 'M9', rev: rev(2) }]);
      const swept = await server.app.sweepAttachmentUploads();
      expect(swept?.refused).toBeGreaterThanOrEqual(1);
      expect(await waiting(id)).toBe(false);
      expect(await linked(String(doc.id), bytes)).toBe(false);
      expect(await writes(String(doc.id))).toHaveLength(0);
      expect((await head(url)).status).toBe(404);
    });

    it('one that cannot be finished (made before the uploader\'s whole identity was kept with it): kept until the upload expiry, then deleted by the sweep', async () => {
      const bytes = jpegBytes(10_000);
      const { doc, id } = await crashedUpload(bytes);
      // The same upload as an older server made it: its owner's agency and user, no role or device.
      const made = await server.app.attachments.uploads.getUpload(id);
      const older = randomUUID().replaceAll('-', '');
      const metadata = Object.fromEntries(Object.entries(made.metadata ?? {}).filter(([key]) => !['fieldsyncRole', 'fieldsyncDevice', 'fieldsyncUnit'].includes(key)));
      expect(metadata['fieldsyncUser']).toBe('crew@tab-swp');
      await server.app.attachments.uploads.create(new Upload({ id: older, size: bytes.length, offset: 0, metadata, creation_date: new Date().toISOString() }));
      await server.app.attachments.uploads.write(Readable.from([bytes]), older, 0);
      await server.app.attachments.discardUpload(id);

      await server.app.sweepAttachmentUploads();
      expect(await waiting(older)).toBe(true);
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + EXPIRY_MS + 1_000);
      const swept = await server.app.sweepAttachmentUploads();
      expect(swept?.expired).toBeGreaterThanOrEqual(1);
      expect(await waiting(older)).toBe(false);
      expect(await linked(String(doc.id), bytes)).toBe(false);
    });

    it('an older server\'s upload whose client wrote fieldsyncRole/Device/Unit itself (M1\'s crew naming unit M9): never finished as that forged identity, so not linked to M9\'s report; deleted at the expiry', async () => {
      const bytes = jpegBytes(10_000);
      const theirs = make.epcrs(A, { unitId: 'M9' });
      await seed(server.app.store, 'epcrs', [theirs]);
      const id = await olderUpload(bytes, String(theirs.id), { fieldsyncRole: 'crew', fieldsyncDevice: 'tab-swp', fieldsyncUnit: 'M9' });

      const swept = await server.app.sweepAttachmentUploads();
      expect(swept?.stored).toBe(0);
      expect(await linked(String(theirs.id), bytes)).toBe(false);
      expect(await writes(String(theirs.id))).toHaveLength(0);
      expect(await waiting(id)).toBe(true);
      pastExpiry();
      await server.app.sweepAttachmentUploads();
      expect(await waiting(id)).toBe(false);
      expect(await linked(String(theirs.id), bytes)).toBe(false);
    });

    it('a client that sends keys of the server\'s own (fieldsync…) in Upload-Metadata: none is kept; the upload carries the server\'s values only', async () => {
      const bytes = jpegBytes(4_000);
      const doc = make.epcrs(A, { unitId: 'M1' });
      await seed(server.app.store, 'epcrs', [doc]);
      const created = await fetch(`${server.url}/api/attachments/uploads`, {
        method: 'POST',
        headers: {
          'tus-resumable': TUS_VERSION, 'upload-length': String(bytes.length), ...CREW,
          'upload-metadata': metadataHeader({
            sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId: String(doc.id),
            fieldsyncUnit: 'M9', fieldsyncRole: 'admin', fieldsyncOwnerSeal: 'made-up', fieldsyncAnythingElse: 'x', filename: 'photo.jpg',
          }),
        },
      });
      expect(created.status).toBe(201);
      const id = created.headers.get('location')!.split('/').pop()!;
      const metadata = (await server.app.attachments.uploads.getUpload(id)).metadata ?? {};
      expect(metadata['fieldsyncUnit']).toBe('M1');
      expect(metadata['fieldsyncRole']).toBe('crew');
      expect(metadata['fieldsyncOwnerSeal']).not.toBe('made-up');
      expect(metadata['fieldsyncAnythingElse']).toBeUndefined();
      expect(metadata['filename']).toBe('photo.jpg');
      // Nor does its HEAD tell the device the server's own keys (the uploader it sealed).
      const asked = await head(new URL(created.headers.get('location')!, server.url).href);
      expect(asked.status).toBe(200);
      const told = asked.headers.get('upload-metadata') ?? '';
      expect(told).toContain('filename ');
      expect(told.toLowerCase()).not.toContain('fieldsync');
      await server.app.attachments.discardUpload(id);
    });

    it('an older server\'s upload carrying a seal that is not its own (another upload\'s real one) beside a forged unit: never finished as that identity', async () => {
      const bytes = jpegBytes(10_000);
      const theirs = make.epcrs(A, { unitId: 'M9' });
      await seed(server.app.store, 'epcrs', [theirs]);
      // A real seal, made by this server for another upload of the same crew.
      const { id: sealedId } = await crashedUpload(jpegBytes(5_000));
      const sealed = (await server.app.attachments.uploads.getUpload(sealedId)).metadata ?? {};
      expect(sealed['fieldsyncOwnerSeal']).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const id = await olderUpload(bytes, String(theirs.id), {
        fieldsyncRole: 'crew', fieldsyncDevice: 'tab-swp', fieldsyncUnit: 'M9', fieldsyncOwnerSeal: sealed['fieldsyncOwnerSeal']!,
      });
      const swept = await server.app.sweepAttachmentUploads();
      expect(await linked(String(theirs.id), bytes)).toBe(false);
      expect(await writes(String(theirs.id))).toHaveLength(0);
      expect(await waiting(id)).toBe(true);
      expect(swept?.left).toBeGreaterThanOrEqual(1);
    });

    it('its uploader\'s device was revoked since: the sweep does not finish it (nothing linked or audited); deleted at the expiry', async () => {
      const bytes = jpegBytes(10_000);
      const { doc, id } = await crashedUpload(bytes, REVOKED_DEVICE_CREW);
      await server.app.identities.setDeviceRevoked(A, 'tab-rvk', true, undefined, Date.now());
      await server.app.sweepAttachmentUploads();
      expect(await linked(String(doc.id), bytes)).toBe(false);
      expect(await writes(String(doc.id))).toHaveLength(0);
      expect(await waiting(id)).toBe(true);
      pastExpiry();
      await server.app.sweepAttachmentUploads();
      expect(await waiting(id)).toBe(false);
      expect(await linked(String(doc.id), bytes)).toBe(false);
    });

    it('its uploader\'s account was disabled since: the sweep does not finish it (nothing linked or audited)', async () => {
      const bytes = jpegBytes(10_000);
      const { doc, id } = await crashedUpload(bytes, DISABLED_USER_CREW);
      await server.app.identities.createUser({
        id: 'crew@tab-usr', tenantId: A, username: 'crew-tab-usr', passwordHash: 'not-a-hash', role: 'crew', unitId: 'M1',
        technicianId: undefined, displayName: undefined, createdAt: Date.now(),
      });
      await server.app.identities.setUserRevoked(A, 'crew@tab-usr', true, undefined, Date.now());
      await server.app.sweepAttachmentUploads();
      expect(await linked(String(doc.id), bytes)).toBe(false);
      expect(await writes(String(doc.id))).toHaveLength(0);
      expect(await waiting(id)).toBe(true);
    });

    it('past the expiry, its finish fails at a sweep (the database away for a moment): kept, and the next sweep stores it (linked, audited once)', async () => {
      const bytes = jpegBytes(10_000);
      const { doc, id } = await crashedUpload(bytes);
      pastExpiry();
      const blip = failCalls(server.app.store, 'getDocuments', ([, , ids]) => (ids as string[]).includes(String(doc.id)));
      const first = await server.app.sweepAttachmentUploads();
      blip.stop();
      expect(blip.failed()).toBeGreaterThanOrEqual(1);
      expect(first?.failures.some((failure) => failure.uploadId === id)).toBe(true);
      expect(await waiting(id)).toBe(true);

      const second = await server.app.sweepAttachmentUploads();
      expect(second?.stored).toBeGreaterThanOrEqual(1);
      expect(await linked(String(doc.id), bytes)).toBe(true);
      expect(await writes(String(doc.id))).toHaveLength(1);
      expect(await waiting(id)).toBe(false);
    });

    it('past the expiry, its finish fails in two sweeps: deleted by the second, nothing stored', async () => {
      const bytes = jpegBytes(10_000);
      const { doc, id } = await crashedUpload(bytes);
      pastExpiry();
      const blip = failCalls(server.app.store, 'getDocuments', ([, , ids]) => (ids as string[]).includes(String(doc.id)));
      try {
        await server.app.sweepAttachmentUploads();
        expect(await waiting(id)).toBe(true);
        await server.app.sweepAttachmentUploads();
        expect(await waiting(id)).toBe(false);
      } finally {
        blip.stop();
      }
      expect(await linked(String(doc.id), bytes)).toBe(false);
    });

    it('one expired upload whose delete keeps failing does not stop the sweep: the other expired ones are deleted, every sweep', async () => {
      const doc = make.epcrs(A, { unitId: 'M1' });
      await seed(server.app.store, 'epcrs', [doc]);
      const stuck = await olderUpload(jpegBytes(5_000), String(doc.id));
      const other = await olderUpload(jpegBytes(6_000), String(doc.id));
      pastExpiry();
      const failing = failCalls(server.app.attachments, 'discardUpload', ([uploadId]) => uploadId === stuck);
      try {
        const swept = await server.app.sweepAttachmentUploads();
        expect(swept).toBeDefined();
        expect(swept?.failures.some((failure) => failure.uploadId === stuck)).toBe(true);
        expect(await waiting(other)).toBe(false);
        expect(await waiting(stuck)).toBe(true);
      } finally {
        failing.stop();
      }
      await server.app.sweepAttachmentUploads();
      expect(await waiting(stuck)).toBe(false);
    });

    // SQLite: one process owns DATA_DIR, so there is no second process to sweep with (the claim there is in memory).
    it.skipIf(storeKind !== 'postgres')('two server processes sweeping at once: the upload is finished once', async () => {
      const other = await startTestServer({
        attachmentUploadExpiryMs: EXPIRY_MS,
        store: await PostgresStore.open({ connectionString: TEST_DATABASE_URL, schema, pool: { max: 4 } }),
      });
      try {
        const bytes = jpegBytes(20_000);
        const { doc, url } = await crashedUpload(bytes);
        // This process's sweep holds the claim (its finish waits at the access re-check) while the other sweeps.
        const gate = gateReadsOf(server.app.store, String(doc.id));
        const first = server.app.sweepAttachmentUploads();
        await gate.reached;
        const second = await other.app.sweepAttachmentUploads();
        expect(second?.stored).toBe(0);
        // Busy, not "left": the other process checked the seal with the same key and met the claim.
        expect(second?.left).toBe(0);
        gate.open();
        expect((await first)?.stored).toBeGreaterThanOrEqual(1);
        expect(await writes(String(doc.id))).toHaveLength(1);
        expect((await head(url)).status).toBe(200);
      } finally {
        await other.close();
      }
    });
  });
}
