/**
 * An upload holding every byte whose finish has not ended (docs/protocol.md §25). @tus/server
 * unlocks an upload as soon as its last bytes are written, before the finish (hash, type, access
 * re-check, commit, audit) decides; its HEAD would answer "offset = length", which tus-js-client
 * takes for success. So the routes never hand such an upload to @tus/server: while its finish
 * runs, HEAD and PATCH are 423 UPLOAD_BEING_STORED with Retry-After; when none runs (a crash cut
 * it short), the HEAD runs the finish, once, and answers by its result.
 *
 * The finish is held at its access re-check by a gate on the real store's document read (the
 * re-check's one read of the document), or just before it claims the upload; the crash is the
 * bytes written through the real datastore without the finish. A HEAD that read the upload before
 * the last bytes were written and is answered by @tus/server after is made by answering the
 * route's read of the upload late (the read itself made at once). Real Fastify, SQLite and
 * PostgreSQL; nothing mocked.
 */
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { TUS_VERSION } from '../../../shared/protocol/index.ts';
import { rev, seed } from '../../helpers/access.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES } from '../store/fixtures.ts';
import { gateAnswers, gateCalls, gateReadsOf, jpegBytes, newReportUpload, patchUpload, sha256 } from './support.ts';

const A = 'agency-a';
const EXPIRY_MS = 3_600_000;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const CREW = bearer(devToken({ tenantId: A, role: 'crew', deviceId: 'tab-unf', subject: 'M1' }));

const head = (url: string) => fetch(url, { method: 'HEAD', headers: { 'tus-resumable': TUS_VERSION, ...CREW } });

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(storeKind === 'postgres' && SKIP_POSTGRES)(`an upload with every byte and no finish yet (${storeKind})`, () => {
    const schemas = new PgSchemas();
    let server: TestServer;

    beforeAll(async () => {
      const options = { attachmentUploadExpiryMs: EXPIRY_MS };
      server = storeKind === 'postgres' ? await startTestServer({ ...options, store: (await schemas.openStore()).store }) : await startTestServer(options);
    }, 120_000);
    afterEach(() => { vi.useRealTimers(); });
    afterAll(async () => {
      await server.close();
      await schemas.dropAll();
    });

    const newUpload = (bytes: Buffer) => newReportUpload(server, A, bytes, CREW);

    /**
     * A HEAD whose read of `name` on `target` (for upload `id`) is made now and answered only when
     * `staleRead.open()` is called: what the test does meanwhile happens between its reads.
     */
    async function headReadingEarly<T extends object>(url: string, target: T, name: keyof T, id: string) {
      const staleRead = gateAnswers(target, name, ([uploadId]) => uploadId === id);
      const asked = head(url);
      await staleRead.reached;
      staleRead.unhook();
      return { asked, staleRead };
    }

    const writes = async (docId: string) => (await server.app.store.queryAudit({ tenantId: A, documentId: docId, limit: 50 }))
      .filter((entry) => entry.action === 'attachment_write');

    it('after the bytes are stored and before the upload is remembered as finished, HEAD is 423, never 404 (a device would send every byte again); then 200', async () => {
      const bytes = jpegBytes(30_000);
      const { doc, url } = await newUpload(bytes);
      // Held after commit, the audit entry and the hooks: only the finished row is missing.
      const gate = gateCalls(server.app.attachments, 'rememberFinished', () => true);
      const last = patchUpload(url, 0, bytes, CREW);
      await gate.reached;
      expect(await server.app.attachments.isLinked({ tenantId: A, collection: 'epcrs', docId: String(doc.id), sha256: sha256(bytes) })).toBe(true);
      const meanwhile = await head(url);
      expect(meanwhile.status).toBe(423);
      gate.open();
      expect((await last).status).toBe(204);
      const after = await head(url);
      expect(after.status).toBe(200);
      expect(after.headers.get('upload-offset')).toBe(String(bytes.length));
      expect(await writes(String(doc.id))).toHaveLength(1);
    });

    it('while the last PATCH\'s finish runs, HEAD and PATCH are 423 (Retry-After: 1), not "complete"; the finish then refuses: the PATCH gets the refusal, the next HEAD 404, never 200', async () => {
      const bytes = jpegBytes(40_000);
      const { doc, url } = await newUpload(bytes);
      const gate = gateReadsOf(server.app.store, String(doc.id));
      const last = patchUpload(url, 0, bytes, CREW);
      await gate.reached;

      const meanwhile = await head(url);
      expect(meanwhile.status).toBe(423);
      expect(meanwhile.headers.get('retry-after')).toBe('1');
      const patch = await patchUpload(url, bytes.length, Buffer.alloc(0), CREW);
      expect(patch.status).toBe(423);
      expect(((await patch.json()) as { error: { code: string } }).error.code).toBe('UPLOAD_BEING_STORED');

      // Meanwhile the report moved to another unit: this crew may no longer attach to it.
      gate.unhook();
      await seed(server.app.store, 'epcrs', [{ ...doc, unitId: 'M9', rev: rev(2) }]);
      gate.open();
      const refused = await last;
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('ACCESS_DENIED');
      expect((await head(url)).status).toBe(404);
      expect(await server.app.attachments.isLinked({ tenantId: A, collection: 'epcrs', docId: String(doc.id), sha256: sha256(bytes) })).toBe(false);
    });

    it('a HEAD that read the upload before the last PATCH wrote its final bytes, answered by @tus/server after them and before the finish claimed the upload: not "complete"; it runs the finish itself and answers its refusal, then 404', async () => {
      const bytes = jpegBytes(30_000);
      const { doc, url, id } = await newUpload(bytes);
      // The HEAD's own read of the upload is made now (offset 0) and answered late.
      const { asked, staleRead } = await headReadingEarly(url, server.app.attachments.uploads, 'getUpload', id);
      // The last PATCH writes every byte, unlocks the upload, and stops just before its finish claims it.
      const claim = gateCalls(server.app.attachments, 'underFinishClaim', ([uploadId]) => uploadId === id);
      const last = patchUpload(url, 0, bytes, CREW);
      await claim.reached;
      claim.unhook();
      // Meanwhile the report moved to another unit: this crew may no longer attach to it.
      await seed(server.app.store, 'epcrs', [{ ...doc, unitId: 'M9', rev: rev(2) }]);

      staleRead.open();
      const answer = await asked;
      expect(answer.headers.get('upload-offset')).toBeNull();
      expect(answer.status).toBe(403);
      claim.open();
      // The PATCH's finish finds the upload refused and deleted by the HEAD's.
      expect((await last).status).toBe(404);
      expect((await head(url)).status).toBe(404);
      expect(await server.app.attachments.isLinked({ tenantId: A, collection: 'epcrs', docId: String(doc.id), sha256: sha256(bytes) })).toBe(false);
      expect(await writes(String(doc.id))).toHaveLength(0);
    });

    it('a HEAD that read the upload before the last PATCH and is answered by @tus/server after that PATCH stored, remembered and deleted it: 200 "complete", not 404 (the device would send the whole file again); audited once', async () => {
      const bytes = jpegBytes(30_000);
      const { doc, url, id } = await newUpload(bytes);
      // The HEAD's own read of the upload is made now (offset 0, nothing remembered) and answered late.
      const { asked, staleRead } = await headReadingEarly(url, server.app.attachments.uploads, 'getUpload', id);
      // Meanwhile the last PATCH writes every byte and its finish stores, remembers and deletes the upload.
      expect((await patchUpload(url, 0, bytes, CREW)).status).toBe(204);

      staleRead.open();
      const answer = await asked;
      expect(answer.status).toBe(200);
      expect(answer.headers.get('upload-offset')).toBe(String(bytes.length));
      expect(answer.headers.get('upload-length')).toBe(String(bytes.length));
      expect(await writes(String(doc.id))).toHaveLength(1);
    });

    it('a HEAD that found no finished row just before the last PATCH remembered the upload, and looks for the upload after that PATCH deleted it: 200 "complete", not 404', async () => {
      const bytes = jpegBytes(30_000);
      const { doc, url, id } = await newUpload(bytes);
      // The HEAD's read of the finished row is made now (none yet) and answered late.
      const { asked, staleRead } = await headReadingEarly(url, server.app.attachments, 'finishedUpload', id);
      expect((await patchUpload(url, 0, bytes, CREW)).status).toBe(204);

      staleRead.open();
      const answer = await asked;
      expect(answer.status).toBe(200);
      expect(answer.headers.get('upload-offset')).toBe(String(bytes.length));
      expect(await writes(String(doc.id))).toHaveLength(1);
    });

    it('the same HEAD while the last PATCH\'s finish holds the claim: 423 (Retry-After: 1), not "complete"; once stored, 200', async () => {
      const bytes = jpegBytes(30_000);
      const { doc, url, id } = await newUpload(bytes);
      const { asked, staleRead } = await headReadingEarly(url, server.app.attachments.uploads, 'getUpload', id);
      const finish = gateReadsOf(server.app.store, String(doc.id));
      const last = patchUpload(url, 0, bytes, CREW);
      await finish.reached;

      staleRead.open();
      const answer = await asked;
      expect(answer.status).toBe(423);
      expect(answer.headers.get('retry-after')).toBe('1');
      finish.open();
      expect((await last).status).toBe(204);
      const after = await head(url);
      expect(after.status).toBe(200);
      expect(after.headers.get('upload-offset')).toBe(String(bytes.length));
      expect(await writes(String(doc.id))).toHaveLength(1);
    });

    it('every byte written but the finish never ran (a crash): the HEAD runs it, 200 Upload-Offset = Upload-Length; linked, audited once, remembered', async () => {
      const bytes = jpegBytes(30_000);
      const { doc, url, id } = await newUpload(bytes);
      await server.app.attachments.uploads.write(Readable.from([bytes]), id, 0);

      const answer = await head(url);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('upload-offset')).toBe(String(bytes.length));
      expect(answer.headers.get('upload-length')).toBe(String(bytes.length));
      expect(await server.app.attachments.isLinked({ tenantId: A, collection: 'epcrs', docId: String(doc.id), sha256: sha256(bytes) })).toBe(true);
      expect(await writes(String(doc.id))).toHaveLength(1);

      // Asked again: answered from the finished row, not finished twice.
      expect((await head(url)).status).toBe(200);
      expect(await writes(String(doc.id))).toHaveLength(1);
      expect((await server.app.attachments.finishedUpload(id, Date.now()))?.size).toBe(bytes.length);
    });

    it('the crash\'s finish refuses (the report moved to another unit): the HEAD gets the refusal\'s status, then 404', async () => {
      const bytes = jpegBytes(10_000);
      const { doc, url, id } = await newUpload(bytes);
      await server.app.attachments.uploads.write(Readable.from([bytes]), id, 0);
      await seed(server.app.store, 'epcrs', [{ ...doc, unitId: 'M9', rev: rev(2) }]);
      expect((await head(url)).status).toBe(403);
      expect((await head(url)).status).toBe(404);
      expect(await writes(String(doc.id))).toHaveLength(0);
    });

    it('left unfinished past the upload expiry: still finished by the HEAD (only incomplete uploads expire), not deleted as 410', async () => {
      const bytes = jpegBytes(10_000);
      const { doc, url, id } = await newUpload(bytes);
      await server.app.attachments.uploads.write(Readable.from([bytes]), id, 0);
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + EXPIRY_MS + 1_000);
      expect((await head(url)).status).toBe(200);
      expect(await server.app.attachments.isLinked({ tenantId: A, collection: 'epcrs', docId: String(doc.id), sha256: sha256(bytes) })).toBe(true);
    });

    it('two HEADs at once on an upload left unfinished: the finish runs once (the other is 423), then both are told complete', async () => {
      const bytes = jpegBytes(20_000);
      const { doc, url, id } = await newUpload(bytes);
      await server.app.attachments.uploads.write(Readable.from([bytes]), id, 0);
      const gate = gateReadsOf(server.app.store, String(doc.id));
      const first = head(url);
      await gate.reached;
      const second = await head(url);
      expect(second.status).toBe(423);
      gate.open();
      expect((await first).status).toBe(200);
      expect(gate.held()).toBe(1);
      expect((await head(url)).status).toBe(200);
      expect(await writes(String(doc.id))).toHaveLength(1);
    });
  });
}
