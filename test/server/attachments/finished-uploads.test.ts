/**
 * The server remembers a finished upload for the upload expiry (docs/protocol.md §25), so a device
 * whose last PATCH answer was lost (a cut, or the request given up when coverage returned) learns
 * with its HEAD that everything arrived, instead of meeting a 404 and sending the whole file again.
 * Only the uploader is told (another user, of this agency or another, gets the same 404 as for no
 * upload at all); a refused upload is not remembered; after the expiry it is forgotten. Real
 * Fastify, SQLite and PostgreSQL, the real tus-js-client; only the clock is faked, for the expiry.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tus from 'tus-js-client';
import { devToken } from '../../../server/auth/identity.ts';
import { ATTACHMENTS, pathOf, TUS_VERSION } from '../../../shared/protocol/index.ts';
import { make, seed } from '../../helpers/access.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES } from '../store/fixtures.ts';
import { CountingProxy, createUpload, jpegBytes, patchUpload, PNG_1X1, sha256, tusUpload } from './support.ts';

const A = 'agency-a';
const EXPIRY_MS = 3_600_000;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const CREW = bearer(devToken({ tenantId: A, role: 'crew', deviceId: 'tab-fin', subject: 'M1' }));
// Same unit, another tablet: another user of the same agency.
const SAME_AGENCY = bearer(devToken({ tenantId: A, role: 'crew', deviceId: 'tab-other', subject: 'M1' }));
const OTHER_AGENCY = bearer(devToken({ tenantId: 'agency-b', role: 'crew', deviceId: 'tab-fin', subject: 'M1' }));

const head = (url: string, auth: Record<string, string>) => fetch(url, { method: 'HEAD', headers: { 'tus-resumable': TUS_VERSION, ...auth } });

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(storeKind === 'postgres' && SKIP_POSTGRES)(`a finished upload answers its uploader's HEAD (${storeKind})`, () => {
    const schemas = new PgSchemas();
    let server: TestServer;
    const endpoint = () => server.url + pathOf(ATTACHMENTS.createUpload);

    beforeAll(async () => {
      const options = { attachmentUploadExpiryMs: EXPIRY_MS };
      server = storeKind === 'postgres' ? await startTestServer({ ...options, store: (await schemas.openStore()).store }) : await startTestServer(options);
    }, 120_000);
    afterAll(async () => {
      await server.close();
      await schemas.dropAll();
    });
    afterEach(() => { vi.useRealTimers(); });

    async function finishedUpload(bytes: Buffer) {
      const doc = make.epcrs(A, { unitId: 'M1' });
      await seed(server.app.store, 'epcrs', [doc]);
      const url = await tusUpload(endpoint(), bytes, { sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId: String(doc.id) }, CREW);
      return new URL(url, server.url).href;
    }

    it('HEAD by the uploader: 200, Upload-Offset = Upload-Length = its size, no-store; tus-js-client resuming it finishes without sending the bytes', async () => {
      const bytes = jpegBytes(300_000);
      const url = await finishedUpload(bytes);
      const answer = await head(url, CREW);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('tus-resumable')).toBe(TUS_VERSION);
      expect(answer.headers.get('upload-offset')).toBe(String(bytes.length));
      expect(answer.headers.get('upload-length')).toBe(String(bytes.length));
      expect(answer.headers.get('cache-control')).toBe('no-store');

      // The device's retry: tus-js-client given the upload URL asks where it stands and is done.
      const proxy = new CountingProxy(server.port);
      const base = await proxy.start();
      try {
        const viaProxy = url.replace(server.url, base);
        await new Promise<void>((resolve, reject) => {
          const upload = new tus.Upload(bytes, {
            endpoint: base + pathOf(ATTACHMENTS.createUpload), uploadUrl: viaProxy, uploadSize: bytes.length, headers: CREW,
            retryDelays: [], storeFingerprintForResuming: false, onSuccess: () => resolve(), onError: reject,
          });
          upload.start();
        });
        // One HEAD's headers, not 300 KB of body.
        expect(proxy.sentToServer).toBeLessThan(4_096);
      } finally {
        await proxy.close();
      }
      expect(await server.app.attachments.objectCount()).toBeGreaterThan(0);
    });

    it('a PATCH to it by the uploader is 409 UPLOAD_OFFSET_MISMATCH naming the size (Upload-Offset), not a new upload', async () => {
      const bytes = jpegBytes(20_000);
      const url = await finishedUpload(bytes);
      const again = await patchUpload(url, 0, bytes, CREW);
      expect(again.status).toBe(409);
      expect(again.headers.get('upload-offset')).toBe(String(bytes.length));
      expect(((await again.json()) as { error: { code: string } }).error.code).toBe('UPLOAD_OFFSET_MISMATCH');
    });

    it('another user of the same agency, or of another agency, gets the same 404 as for no upload', async () => {
      const bytes = jpegBytes(10_000);
      const url = await finishedUpload(bytes);
      for (const who of [SAME_AGENCY, OTHER_AGENCY]) {
        const answer = await head(url, who);
        expect(answer.status).toBe(404);
        expect(answer.headers.get('upload-offset')).toBeNull();
        const patch = await patchUpload(url, 0, bytes, who);
        expect(patch.status).toBe(404);
        expect(((await patch.json()) as { error: { code: string } }).error.code).toBe('UPLOAD_NOT_FOUND');
      }
    });

    it('forgotten after the upload expiry: 404', async () => {
      const url = await finishedUpload(jpegBytes(10_000));
      expect((await head(url, CREW)).status).toBe(200);
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + EXPIRY_MS + 1_000);
      expect((await head(url, CREW)).status).toBe(404);
    });

    it('a refused upload is not remembered: its HEAD is 404 and the refusal stays the answer', async () => {
      const doc = make.epcrs(A, { unitId: 'M1' });
      await seed(server.app.store, 'epcrs', [doc]);
      const tampered = Buffer.from(PNG_1X1);
      tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;
      const created = await createUpload(server.url, tampered.length, { sha256: sha256(PNG_1X1), contentType: 'image/png', collection: 'epcrs', docId: String(doc.id) }, CREW);
      const url = new URL(created.headers.get('location')!, server.url).href;
      expect((await patchUpload(url, 0, tampered, CREW)).status).toBe(400);
      expect((await head(url, CREW)).status).toBe(404);
    });
  });
}
