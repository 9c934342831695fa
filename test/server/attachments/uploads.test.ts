/**
 * Attachment uploads (tus 1.0 by @tus/server) and reads on a real server, SQLite and PostgreSQL:
 * an upload by tus-js-client arrives byte-identical; one cut at the socket halfway resumes where
 * it stopped (the bytes the client sent are counted: nothing is sent again from byte zero); the
 * same photo uploaded for two reports is one object; a tampered, oversized or mistyped upload is
 * refused and nothing is stored; the service worker's push-only credential uploads with a DPoP
 * proof per request and reads nothing; reads are scoped like the report (role and unit matrix);
 * writes and reads of an ePCR attachment are audited.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { dpopProof, generateDpopKeyPair } from '../../../shared/crypto/dpop-proof.ts';
import { ATTACHMENTS, AUTH, pathOf, TUS_VERSION, type Role } from '../../../shared/protocol/index.ts';
import { LOCKED_AT, make, PASSWORD, seed } from '../../helpers/access.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES } from '../store/fixtures.ts';
import { CountingProxy, createUpload, jpegBytes, patchUpload, PNG_1X1, sha256, tusUpload } from './support.ts';

const A = 'agency-a';
const B = 'agency-b';
const MAX = 4 * 1024 * 1024;

const token = (role: Role, subject?: string, tenantId = A) => devToken({ tenantId, role, deviceId: `dev-${role}-${subject ?? 'x'}`, ...(subject ? { subject } : {}) });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const CREW_M1 = token('crew', 'M1');
const CREW_M2 = token('crew', 'M2');

function photoRef(bytes: Buffer, extra: Record<string, unknown> = {}) {
  return { sha256: sha256(bytes), kind: 'photo', purpose: 'ecg', contentType: 'image/jpeg', size: bytes.length, capturedAt: '2026-11-22T14:05:00-05:00', ...extra };
}

async function errorCode(r: Response): Promise<string> {
  return ((await r.json()) as { error: { code: string } }).error.code;
}

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(storeKind === 'postgres' && SKIP_POSTGRES)(`attachments (${storeKind})`, () => {
    const schemas = new PgSchemas();
    let server: TestServer;
    const endpoint = () => server.url + pathOf(ATTACHMENTS.createUpload);
    const readUrl = (collection: string, docId: string, sha: string) => server.url + pathOf(ATTACHMENTS.read, { collection, docId, sha256: sha });

    beforeAll(async () => {
      const options = { attachmentMaxBytes: MAX };
      server = storeKind === 'postgres' ? await startTestServer({ ...options, store: (await schemas.openStore()).store }) : await startTestServer(options);
    }, 120_000);
    afterAll(async () => {
      await server.close();
      await schemas.dropAll();
    });

    async function report(extra: Record<string, unknown> = {}, tenantId = A) {
      const doc = make.epcrs(tenantId, { unitId: 'M1', ...extra });
      await seed(server.app.store, 'epcrs', [doc]);
      return doc;
    }

    it('tus-js-client uploads a photo; the report that lists it reads it back byte-identical, no-store', async () => {
      const bytes = jpegBytes(300_000);
      const doc = await report({ attachments: [photoRef(bytes)] });
      const url = await tusUpload(endpoint(), bytes, { sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId: String(doc.id) }, bearer(CREW_M1));
      expect(url).toContain(pathOf(ATTACHMENTS.createUpload));
      const r = await fetch(readUrl('epcrs', String(doc.id), sha256(bytes)), { headers: bearer(CREW_M1) });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/jpeg');
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(sha256(Buffer.from(await r.arrayBuffer()))).toBe(sha256(bytes));
    });

    it('an upload cut at the socket halfway resumes where it stopped: the bytes are sent once, not again from zero', async () => {
      const bytes = jpegBytes(2 * 1024 * 1024);
      const doc = await report({ attachments: [photoRef(bytes)] });
      const proxy = new CountingProxy(server.port);
      const base = await proxy.start();
      try {
        proxy.cutOnceAfter(1024 * 1024);
        await tusUpload(base + pathOf(ATTACHMENTS.createUpload), bytes, { sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId: String(doc.id) }, bearer(CREW_M1), [0, 100, 300, 1000, 2000]);
        expect(proxy.cuts).toBe(1);
        // Every request's headers come to a few KB; a re-send from byte zero would add at least the
        // half that had arrived before the cut (≥ 768 KiB even after the store's last chunk is lost).
        const overhead = proxy.sentToServer - bytes.length;
        console.log(`[attachments ${storeKind}] 2 MiB upload cut at 1 MiB: client sent ${proxy.sentToServer} bytes (${overhead} more than the file)`);
        expect(overhead).toBeGreaterThan(0);
        expect(overhead).toBeLessThan(300 * 1024);
      } finally {
        await proxy.close();
      }
      const r = await fetch(readUrl('epcrs', String(doc.id), sha256(bytes)), { headers: bearer(CREW_M1) });
      expect(sha256(Buffer.from(await r.arrayBuffer()))).toBe(sha256(bytes));
    });

    it('the same photo attached to two reports (two devices) is one object', async () => {
      const bytes = jpegBytes(50_000);
      const before = await server.app.attachments.objectCount();
      const one = await report({ attachments: [photoRef(bytes)] });
      const two = await report({ attachments: [photoRef(bytes)] });
      for (const doc of [one, two]) {
        await tusUpload(endpoint(), bytes, { sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId: String(doc.id) }, bearer(CREW_M1));
      }
      // And a re-send after a crash: accepted, still one object.
      await tusUpload(endpoint(), bytes, { sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId: String(one.id) }, bearer(CREW_M1));
      expect(await server.app.attachments.objectCount()).toBe(before + 1);
      for (const doc of [one, two]) expect((await fetch(readUrl('epcrs', String(doc.id), sha256(bytes)), { headers: bearer(CREW_M1) })).status).toBe(200);
    });

    it('tampered bytes (hash mismatch), bytes of another type, an oversized or unknown type are refused; nothing is stored', async () => {
      const before = await server.app.attachments.objectCount();
      const doc = await report();
      const meta = (extra: Record<string, string> = {}) => ({ sha256: sha256(PNG_1X1), contentType: 'image/png', collection: 'epcrs', docId: String(doc.id), ...extra });

      // Tampered: the bytes are not the ones whose hash was declared.
      const tampered = Buffer.from(PNG_1X1);
      tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;
      const created = await createUpload(server.url, tampered.length, meta(), bearer(CREW_M1));
      expect(created.status).toBe(201);
      const uploadUrl = new URL(created.headers.get('location')!, server.url).href;
      const patched = await patchUpload(uploadUrl, 0, tampered, bearer(CREW_M1));
      expect(patched.status).toBe(400);
      expect(await errorCode(patched)).toBe('ATTACHMENT_HASH_MISMATCH');
      const head = await fetch(uploadUrl, { method: 'HEAD', headers: { 'tus-resumable': TUS_VERSION, ...bearer(CREW_M1) } });
      expect(head.status).toBe(404);

      // Declared PNG, bytes JPEG.
      const jpeg = jpegBytes(2000);
      const wrong = await createUpload(server.url, jpeg.length, meta({ sha256: sha256(jpeg) }), bearer(CREW_M1));
      const wrongPatch = await patchUpload(new URL(wrong.headers.get('location')!, server.url).href, 0, jpeg, bearer(CREW_M1));
      expect(wrongPatch.status).toBe(415);
      expect(await errorCode(wrongPatch)).toBe('ATTACHMENT_TYPE_REFUSED');

      const oversized = await createUpload(server.url, MAX + 1, meta(), bearer(CREW_M1));
      expect(oversized.status).toBe(413);
      expect(await errorCode(oversized)).toBe('ATTACHMENT_TOO_LARGE');
      const pdf = await createUpload(server.url, 100, meta({ contentType: 'application/pdf' }), bearer(CREW_M1));
      expect(pdf.status).toBe(415);
      const noVersion = await fetch(endpoint(), { method: 'POST', headers: { 'upload-length': '10', ...bearer(CREW_M1) } });
      expect(noVersion.status).toBe(412);
      expect(await errorCode(noVersion)).toBe('TUS_VERSION_UNSUPPORTED');
      const noMeta = await createUpload(server.url, 10, { ...meta(), sha256: 'abc' }, bearer(CREW_M1));
      expect(await errorCode(noMeta)).toBe('BAD_UPLOAD_METADATA');

      expect(await server.app.attachments.objectCount()).toBe(before);
      expect(await server.app.attachments.missingLinks(A, 'epcrs', String(doc.id), [sha256(PNG_1X1), sha256(jpeg)])).toHaveLength(2);
    });

    it('only a writer of the report may upload for it: another unit, a technician, a dispatcher get 403; another user cannot resume your upload', async () => {
      const doc = await report();
      const meta = { sha256: sha256(PNG_1X1), contentType: 'image/png', collection: 'epcrs', docId: String(doc.id) };
      // (Crew of another agency naming this id names a report of its own agency that does not exist
      // yet: allowed, linked to that agency only, and no read of this agency's report can reach it.)
      for (const t of [CREW_M2, token('technician', 'T1'), token('dispatcher'), token('biller')]) {
        const r = await createUpload(server.url, PNG_1X1.length, meta, bearer(t));
        expect(r.status).toBe(403);
        expect(await errorCode(r)).toBe('ACCESS_DENIED');
      }
      const mine = await createUpload(server.url, PNG_1X1.length, meta, bearer(CREW_M1));
      const url = new URL(mine.headers.get('location')!, server.url).href;
      // Same unit, another user (another tablet): not theirs to resume.
      const theirs = await patchUpload(url, 0, PNG_1X1, bearer(devToken({ tenantId: A, role: 'crew', deviceId: 'other-tablet', subject: 'M1' })));
      expect(theirs.status).toBe(404);
      expect(await errorCode(theirs)).toBe('UPLOAD_NOT_FOUND');
      const offsetWrong = await patchUpload(url, 5, PNG_1X1, bearer(CREW_M1));
      expect(offsetWrong.status).toBe(409);
      expect(await errorCode(offsetWrong)).toBe('UPLOAD_OFFSET_MISMATCH');
    });

    it('reads are scoped exactly like the report: role × unit × agency; removed or unlisted shas are not found; the device credential reads nothing', async () => {
      const bytes = jpegBytes(10_000);
      const thumb = PNG_1X1;
      const draft = await report({ attachments: [photoRef(bytes, { thumbnail: { sha256: sha256(thumb), contentType: 'image/png', size: thumb.length } })] });
      const locked = await report({ status: 'finalized', lockedAt: LOCKED_AT, attachments: [photoRef(bytes)] });
      const removed = await report({ attachments: [photoRef(bytes, { removed: true })] });
      for (const doc of [draft, locked, removed]) {
        await tusUpload(endpoint(), bytes, { sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId: String(doc.id) }, bearer(CREW_M1));
      }
      await tusUpload(endpoint(), thumb, { sha256: sha256(thumb), contentType: 'image/png', collection: 'epcrs', docId: String(draft.id) }, bearer(CREW_M1));
      const status = async (t: string, doc: { id: unknown }, sha = sha256(bytes)) => (await fetch(readUrl('epcrs', String(doc.id), sha), { headers: bearer(t) })).status;
      const matrix: [string, string, number, number][] = [
        // who, token, draft report, locked report
        ['crew M1 (its unit)', CREW_M1, 200, 200],
        ['crew M2 (another unit)', CREW_M2, 404, 404],
        ['dispatcher (no clinical images)', token('dispatcher'), 404, 404],
        ['technician', token('technician', 'T1'), 404, 404],
        ['biller (locked reports only)', token('biller'), 404, 200],
        ['admin', token('admin'), 200, 200],
        ['admin of another agency', token('admin', undefined, B), 404, 404],
      ];
      for (const [who, t, onDraft, onLocked] of matrix) {
        expect([who, await status(t, draft), await status(t, locked)]).toEqual([who, onDraft, onLocked]);
      }
      expect(await status(CREW_M1, draft, sha256(thumb))).toBe(200);
      expect(await status(CREW_M1, removed)).toBe(404);
      expect(await status(CREW_M1, locked, sha256(thumb))).toBe(404);
      const unlisted = await fetch(readUrl('epcrs', String(draft.id), sha256(jpegBytes(10))), { headers: bearer(CREW_M1) });
      expect(await errorCode(unlisted)).toBe('ATTACHMENT_NOT_FOUND');
    });

    it('the service worker\'s device credential uploads with a DPoP proof per request, and cannot read', async () => {
      await server.app.auth.createUser(A, { username: `medic-${storeKind}`, password: PASSWORD, role: 'crew', unitId: 'M1' }).catch(() => undefined);
      const login = await fetch(server.url + pathOf(AUTH.login), {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: A, username: `medic-${storeKind}`, password: PASSWORD, deviceId: 'tab-sw' }),
      });
      const { accessToken } = (await login.json()) as { accessToken: string };
      const keys = await generateDpopKeyPair();
      const credentialUrl = server.url + pathOf(AUTH.deviceCredential);
      const issued = await fetch(credentialUrl, { method: 'POST', headers: { authorization: `Bearer ${accessToken}`, dpop: await dpopProof({ keys, method: 'POST', url: credentialUrl }) } });
      const { credential } = (await issued.json()) as { credential: string };
      const auth = async (method: string, url: string) => ({ authorization: `DPoP ${credential}`, dpop: await dpopProof({ keys, method, url, credential }) });

      const bytes = jpegBytes(20_000);
      const doc = await report({ attachments: [photoRef(bytes)] });
      const meta = { sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId: String(doc.id) };
      const created = await createUpload(server.url, bytes.length, meta, await auth('POST', endpoint()));
      expect(created.status).toBe(201);
      const url = new URL(created.headers.get('location')!, server.url).href;
      // A proof made for the creation is refused on the PATCH (htm/htu name the request).
      const reused = await patchUpload(url, 0, bytes, { authorization: `DPoP ${credential}`, dpop: await dpopProof({ keys, method: 'POST', url: endpoint(), credential }) });
      expect(await errorCode(reused)).toBe('BAD_DPOP_PROOF');
      const head = await fetch(url, { method: 'HEAD', headers: { 'tus-resumable': TUS_VERSION, ...await auth('HEAD', url) } });
      expect(head.headers.get('upload-offset')).toBe('0');
      const patched = await patchUpload(url, 0, bytes, await auth('PATCH', url));
      expect(patched.status).toBe(204);
      const read = await fetch(readUrl('epcrs', String(doc.id), sha256(bytes)), { headers: await auth('GET', readUrl('epcrs', String(doc.id), sha256(bytes))) });
      expect(read.status).toBe(403);
      expect(await errorCode(read)).toBe('PUSH_ONLY_CREDENTIAL');
      expect((await fetch(readUrl('epcrs', String(doc.id), sha256(bytes)), { headers: bearer(accessToken) })).status).toBe(200);
    });

    it('every upload and read of an ePCR attachment is in the audit chain; a job photo is not clinical', async () => {
      const bytes = jpegBytes(5_000);
      const doc = await report({ attachments: [photoRef(bytes)] });
      await tusUpload(endpoint(), bytes, { sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId: String(doc.id) }, bearer(CREW_M1));
      await fetch(readUrl('epcrs', String(doc.id), sha256(bytes)), { headers: bearer(token('admin')) });
      const entries = await server.app.store.queryAudit({ tenantId: A, documentId: String(doc.id), limit: 50 });
      const actions = entries.map((e) => [e.action, e.actor.role, (e.details as { sha256?: string } | undefined)?.sha256]);
      expect(actions).toEqual(expect.arrayContaining([['attachment_write', 'crew', sha256(bytes)], ['attachment_read', 'admin', sha256(bytes)]]));

      const job = make.jobs(A, { assigneeId: 'T1', attachments: [{ ...photoRef(bytes), purpose: 'before' }] });
      await seed(server.app.store, 'jobs', [job]);
      await tusUpload(endpoint(), bytes, { sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'jobs', docId: String(job.id) }, bearer(token('technician', 'T1')));
      expect((await fetch(readUrl('jobs', String(job.id), sha256(bytes)), { headers: bearer(token('technician', 'T1')) })).status).toBe(200);
      expect((await fetch(readUrl('jobs', String(job.id), sha256(bytes)), { headers: bearer(token('technician', 'T2')) })).status).toBe(404);
      const jobEntries = await server.app.store.queryAudit({ tenantId: A, documentId: String(job.id), limit: 50 });
      expect(jobEntries.filter((e) => e.action.startsWith('attachment_'))).toEqual([]);
    });

    it('the bytes may arrive before the report: a crew may upload for a report the server does not have yet', async () => {
      const bytes = jpegBytes(4_000);
      const id = randomUUID();
      await tusUpload(endpoint(), bytes, { sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId: id }, bearer(CREW_M1));
      expect(await server.app.attachments.missingLinks(A, 'epcrs', id, [sha256(bytes)])).toEqual([]);
      // Not readable until the report that lists it exists.
      expect((await fetch(readUrl('epcrs', id, sha256(bytes)), { headers: bearer(CREW_M1) })).status).toBe(404);
      await seed(server.app.store, 'epcrs', [{ ...make.epcrs(A, { unitId: 'M1', attachments: [photoRef(bytes)] }), id }]);
      expect((await fetch(readUrl('epcrs', id, sha256(bytes)), { headers: bearer(CREW_M1) })).status).toBe(200);
    });
  });
}
