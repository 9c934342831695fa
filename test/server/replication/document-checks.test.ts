import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { isRealOffsetDateTime } from '../../../server/replication/document-checks.ts';
import { epcrSchema } from '../../../shared/schemas/index.ts';
import { newEpcr } from '../../helpers/factories.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES } from '../store/fixtures.ts';

const TENANT = 'agency-a';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-checks', subject: 'M1' });
const V = epcrSchema.version;

interface Answer { status: number; body: { error?: { code: string; message: string; details?: { path?: string; message: string }[] } } }

async function push(server: TestServer, docs: object[]): Promise<Answer> {
  const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${V}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(docs.map((doc) => ({ newDocumentState: doc }))),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const epcr = (extra: Record<string, unknown> = {}) => ({ ...newEpcr(TENANT, 'M1'), rev: '1-a', _deleted: false, ...extra });

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(storeKind === 'postgres' && SKIP_POSTGRES)(`documents both stores can hold, with real times (${storeKind})`, () => {
    const schemas = new PgSchemas();
    let server: TestServer;
    beforeAll(async () => {
      server = storeKind === 'postgres' ? await startTestServer({ store: (await schemas.openStore()).store }) : await startTestServer();
    });
    afterAll(async () => {
      await server?.close();
      await schemas.dropAll();
    });

    it('an impossible time is refused with 400 naming the field; real ones, with or without seconds, are accepted', async () => {
      for (const time of ['9999-99-99T99:99:99+99:99', '2026-02-30T10:00:00+01:00', '2026-11-22T24:00+01:00', '2026-11-22T10:60:00-05:00', '2026-11-22T10:00:00+15:00']) {
        const answer = await push(server, [epcr({ times: { unitNotified: time } })]);
        expect(answer.status, time).toBe(400);
        expect(answer.body.error?.code).toBe('INVALID_DOCUMENT');
        expect(answer.body.error?.details?.[0]?.path, time).toBe('newDocumentState.times.unitNotified');
        expect(answer.body.error?.details?.[0]?.message).toMatch(/not a real date and time/);
      }
      const good = [epcr({ times: { unitNotified: '2024-02-29T23:59:59.5-05:00' } }), epcr({ times: { unitNotified: '2026-11-22T10:00+14:00' } })];
      expect((await push(server, good)).status).toBe(200);
    });

    it('text holding U+0000 or an unpaired surrogate is refused with 400 naming the field; nothing is written', async () => {
      const before = await server.app.store.countDocuments('epcrs', TENANT);
      const nul = await push(server, [epcr(), epcr({ narrative: { text: 'pt found\u0000 supine' } })]);
      expect(nul.status).toBe(400);
      expect(nul.body.error?.code).toBe('INVALID_DOCUMENT');
      expect(nul.body.error?.details?.[0]).toMatchObject({ path: 'newDocumentState.narrative.text' });
      expect(nul.body.error?.details?.[0]?.message).toMatch(/U\+0000/);
      const lone = await push(server, [epcr({ patient: { firstName: 'Ana\ud800' } })]);
      expect(lone.status).toBe(400);
      expect(lone.body.error?.details?.[0]).toMatchObject({ path: 'newDocumentState.patient.firstName' });
      expect(lone.body.error?.details?.[0]?.message).toMatch(/unpaired UTF-16 surrogate/);
      expect(await server.app.store.countDocuments('epcrs', TENANT)).toBe(before);
      // A real character outside the BMP (a surrogate pair) is text like any other.
      expect((await push(server, [epcr({ patient: { firstName: 'Ana 🚑' } })])).status).toBe(200);
    });

    it('a document stored before this check, holding U+0000, does not break the filtered pull of its agency', async () => {
      const old = epcr({ narrative: { text: 'written by an older server\u0000' } });
      // Another unit's, with an unpaired surrogate: still filtered out of M1's pull.
      const otherUnit = { ...newEpcr(TENANT, 'M2'), rev: '1-a', _deleted: false, patient: { firstName: 'Bo\udc00' } };
      const written = await server.app.store.writeBatch({
        collection: 'epcrs', tenantId: TENANT, actor: { kind: 'system', tenantId: TENANT }, planOutbox: false,
        requests: [old, otherUnit].map((doc) => ({ id: doc.id, incoming: doc, decide: () => ({ action: 'write' as const, doc }) })),
      });
      expect(written.rejected).toHaveLength(0);
      // The crew's pull is filtered to its unit: on PostgreSQL it reads each document as jsonb.
      const response = await fetch(`${server.url}/api/sync/epcrs/pull?schemaVersion=${V}&limit=1000`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      const page = (await response.json()) as { documents: { id: string; narrative?: { text?: string } }[] };
      const found = page.documents.find((d) => d.id === old.id);
      expect(found?.narrative?.text).toBe('written by an older server\u0000');
      expect(page.documents.map((d) => d.id)).not.toContain(otherUnit.id);
    });
  });
}

describe('real date-times', () => {
  it('follows the calendar', () => {
    expect(isRealOffsetDateTime('2023-02-29T00:00+00:00')).toBe(false);
    expect(isRealOffsetDateTime('2000-02-29T00:00+00:00')).toBe(true);
    expect(isRealOffsetDateTime('1900-02-29T00:00+00:00')).toBe(false);
    expect(isRealOffsetDateTime('2026-04-31T00:00+00:00')).toBe(false);
    expect(isRealOffsetDateTime('2026-12-31T23:59:59.999999-14:00')).toBe(true);
    expect(isRealOffsetDateTime('0000-01-01T00:00+00:00')).toBe(false);
    expect(isRealOffsetDateTime('2026-01-01T00:00:00Z')).toBe(false);
  });
});
