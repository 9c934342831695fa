/**
 * On PostgreSQL each running finish holds a pool connection for its claim (an advisory lock), so a
 * process runs at most half its pool's connections of finishes at once. A finish that cannot get
 * its claim within ATTACHMENT_FINISH_WAIT_MS is answered 423 UPLOAD_BEING_STORED with Retry-After
 * (the device asks again with HEAD, which finishes it), never left waiting without a bound
 * (docs/protocol.md §25). SQLite's claim is in memory and never waits: PostgreSQL only.
 *
 * The finishes are held at their access re-check (the store's read of the document). Pass or fail
 * is the answer's status, never a duration: the held finishes are let go after the third request
 * answered or ten seconds passed, whichever is first, so a third request that waited for a slot
 * (the defect) is answered 204 and fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { TUS_VERSION } from '../../../shared/protocol/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES } from '../store/fixtures.ts';
import { gateReadsOf, jpegBytes, newReportUpload, patchUpload, sha256 } from './support.ts';

const A = 'agency-a';
const CREW = { authorization: `Bearer ${devToken({ tenantId: A, role: 'crew', deviceId: 'tab-wait', subject: 'M1' })}` };
/** Pool of 4: two finishes at once per process. */
const POOL_MAX = 4;

describe.skipIf(SKIP_POSTGRES)('a finish that cannot get its claim in time (postgres)', () => {
  const schemas = new PgSchemas();
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ attachmentFinishWaitMs: 200, store: (await schemas.openStore({ max: POOL_MAX })).store });
  }, 120_000);
  afterAll(async () => {
    await server.close();
    await schemas.dropAll();
  });

  const newUpload = (bytes: Buffer) => newReportUpload(server, A, bytes, CREW);

  it('every finish slot taken: the next upload\'s last PATCH is 423 UPLOAD_BEING_STORED with Retry-After: 1, not held until a slot frees; its HEAD then finishes it (200), and the held finishes end as before (204)', async () => {
    const held = [];
    for (let i = 0; i < POOL_MAX / 2; i++) {
      const bytes = jpegBytes(10_000 + i);
      const { doc, url } = await newUpload(bytes);
      const gate = gateReadsOf(server.app.store, String(doc.id));
      const last = patchUpload(url, 0, bytes, CREW);
      await gate.reached;
      held.push({ gate, last });
    }

    const bytes = jpegBytes(12_000);
    const { doc, url } = await newUpload(bytes);
    const third = patchUpload(url, 0, bytes, CREW);
    await Promise.race([third, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    for (const { gate } of held.reverse()) gate.open();

    const answer = await third;
    expect(answer.status).toBe(423);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('UPLOAD_BEING_STORED');
    for (const { last } of held) expect((await last).status).toBe(204);

    const asked = await fetch(url, { method: 'HEAD', headers: { 'tus-resumable': TUS_VERSION, ...CREW } });
    expect(asked.status).toBe(200);
    expect(asked.headers.get('upload-offset')).toBe(String(bytes.length));
    expect(await server.app.attachments.isLinked({ tenantId: A, collection: 'epcrs', docId: String(doc.id), sha256: sha256(bytes) })).toBe(true);
  });
});
