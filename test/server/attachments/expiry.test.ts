/**
 * An incomplete upload expires (ATTACHMENT_UPLOAD_EXPIRY_MS): after it, the upload answers 410
 * UPLOAD_EXPIRED and its bytes are gone; nothing of it was ever stored as an object. The wait is
 * past a deadline the server sets (a lower bound), not a race.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { TUS_VERSION } from '../../../shared/protocol/index.ts';
import { make, seed } from '../../helpers/access.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES } from '../store/fixtures.ts';
import { createUpload, jpegBytes, patchUpload, sha256 } from './support.ts';

const A = 'agency-a';
const crew = { authorization: `Bearer ${devToken({ tenantId: A, role: 'crew', deviceId: 'tab-exp', subject: 'M1' })}` };

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(storeKind === 'postgres' && SKIP_POSTGRES)(`incomplete uploads expire (${storeKind})`, () => {
    const schemas = new PgSchemas();
    let server: TestServer;
    beforeAll(async () => {
      const options = { attachmentUploadExpiryMs: 1_000 };
      server = storeKind === 'postgres' ? await startTestServer({ ...options, store: (await schemas.openStore()).store }) : await startTestServer(options);
    }, 120_000);
    afterAll(async () => {
      await server.close();
      await schemas.dropAll();
    });

    it('half an upload, then nothing: gone after the expiry (410, or 404 once swept), its bytes deleted, no object', async () => {
      const doc = make.epcrs(A, { unitId: 'M1' });
      await seed(server.app.store, 'epcrs', [doc]);
      const bytes = jpegBytes(100_000);
      const created = await createUpload(server.url, bytes.length, { sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId: String(doc.id) }, crew);
      const url = new URL(created.headers.get('location')!, server.url).href;
      expect(created.headers.get('upload-expires')).toBeTruthy();
      expect((await patchUpload(url, 0, bytes.subarray(0, 50_000), crew)).status).toBe(204);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const head = await fetch(url, { method: 'HEAD', headers: { 'tus-resumable': TUS_VERSION, ...crew } });
      // 410 when asked before the sweep deleted it, 404 after (the sweep runs every tenth of the expiry, at least every second).
      expect([410, 404]).toContain(head.status);
      const resumed = await patchUpload(url, 50_000, bytes.subarray(50_000), crew);
      expect(resumed.status).toBe(404);
      expect(await server.app.attachments.objectCount()).toBe(0);
      if (storeKind === 'sqlite') expect(readdirSync(path.join(server.dataDir, 'attachments', 'uploads'))).toEqual([]);
    });
  });
}
