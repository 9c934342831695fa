import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../server/auth/identity.ts';
import { buildCollectionRegistry } from '../../../server/replication/collections.ts';
import { PushDecoder } from '../../../server/replication/push-decoder.ts';
import { collectionSchemas, epcrSchema } from '../../../shared/schemas/index.ts';
import type { JsonSchemaObject } from '../../../shared/schemas/wire-schema.ts';
import { newEpcr } from '../../helpers/factories.ts';
import { OPS_HEADERS, startTestServer, type TestServer } from '../../helpers/server.ts';

const TENANT = 'agency-a';
const token = devToken({ tenantId: TENANT, role: 'crew', deviceId: 'tablet-1', subject: 'M1' });
const V = epcrSchema.version;

function valid(extra = {}) {
  return { ...newEpcr(TENANT, 'M1'), rev: '1-a', _deleted: false, ...extra };
}

describe('the push decoder (large bodies are validated and serialised on a worker thread)', () => {
  const registry = buildCollectionRegistry(collectionSchemas as unknown as Record<string, JsonSchemaObject>);
  let decoder: PushDecoder;
  beforeAll(async () => {
    decoder = new PushDecoder(registry, { minBytes: 1024 });
    await decoder.whenReady();
  });
  afterAll(async () => { await decoder.close(); });

  it('gives the JSON of every valid newDocumentState and null for an invalid one; small bodies stay on the event loop', async () => {
    const docs = Array.from({ length: 40 }, () => valid({ narrative: { text: 'Found supine, alert, complaining of chest pain. '.repeat(30) } }));
    const bad = valid({ patient: { age: 'forty' } });
    const rows = [...docs.map((d) => ({ newDocumentState: d })), { newDocumentState: bad }, { nothing: true }];
    const text = JSON.stringify(rows);
    // Only collections seen to carry large documents go to the worker.
    expect(decoder.decode('epcrs', text)).toBeUndefined();
    decoder.observe('epcrs', Buffer.byteLength(text), rows.length);
    const states = await decoder.decode('epcrs', text);
    expect(states).toHaveLength(rows.length);
    expect(states!.slice(0, 40)).toEqual(docs.map((d) => JSON.stringify(d)));
    expect(states![40]).toBeNull();
    expect(states![41]).toBeNull();
    // Bytes are moved to the worker, not copied, and give the same answer.
    const bytes = Buffer.from(JSON.stringify(rows), 'utf8');
    expect(await decoder.decode('epcrs', bytes)).toEqual(states);
    expect(bytes.byteLength).toBe(0);
    expect(decoder.decode('epcrs', '[]')).toBeUndefined();
    // GPS points (~200 B) are cheaper to finish on the event loop than to hand over.
    const points = JSON.stringify(Array.from({ length: 40 }, (_, i) => ({ newDocumentState: { id: `p${i}`, lat: 40, lng: -75 } })));
    decoder.observe('gps_points', Buffer.byteLength(points), 40);
    expect(decoder.decode('gps_points', points)).toBeUndefined();
    expect(await decoder.decode('epcrs', '{"not":"an array"}'.padEnd(2000))).toBeNull();
  });
});

describe('a large push through the decoder', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer(); });
  afterAll(async () => { await server.close(); });

  async function push(rows: unknown[]) {
    const response = await fetch(`${server.url}/api/sync/epcrs/push?schemaVersion=${V}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(rows),
    });
    return { status: response.status, body: await response.json() as { error?: { code: string; details?: { index?: number; id?: string; path?: string }[] } } };
  }

  it('still names an invalid row deep in a 300-row body, and writes none of it', async () => {
    const docs = Array.from({ length: 300 }, () => valid());
    docs[217] = valid({ patient: { age: 'forty' } });
    const r = await push(docs.map((d) => ({ newDocumentState: d })));
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('INVALID_DOCUMENT');
    expect(r.body.error?.details?.[0]).toMatchObject({ index: 217, id: docs[217]!.id, path: 'newDocumentState.patient.age' });
    expect(await server.app.store.countDocuments('epcrs', TENANT)).toBe(0);
  });

  async function metric(series: string): Promise<number | undefined> {
    const text = await (await fetch(`${server.url}/metrics`, { headers: OPS_HEADERS })).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  }

  it('stores every document of a 300-row body decoded on the worker exactly as sent', async () => {
    const report = (i: number) => valid({ narrative: { text: `Patient ${i}: "quoted", é ü — ✓ \\ backslash. `.repeat(30) } });
    // Large bodies whose documents average 1 KB or more start the worker (the small reports of the
    // test before brought the average down: two bodies of these bring it up); until it is ready,
    // bodies are decoded on the event loop.
    expect(await metric('fieldsync_push_worker_state{state="idle"}')).toBe(1);
    for (let round = 0; round < 2; round++) {
      expect((await push(Array.from({ length: 40 }, (_, i) => ({ newDocumentState: report(1000 * round + i) })))).status).toBe(200);
    }
    await expect.poll(() => metric('fieldsync_push_worker_state{state="ready"}')).toBe(1);
    const before = await metric('fieldsync_push_worker_rows_total{collection="epcrs"}') ?? 0;

    const docs = Array.from({ length: 300 }, (_, i) => report(i));
    const r = await push(docs.map((d) => ({ newDocumentState: d })));
    expect(r.status).toBe(200);
    expect(r.body).toEqual([]);
    expect(await metric('fieldsync_push_worker_rows_total{collection="epcrs"}')).toBe(before + 300);
    const stored = await server.app.store.getDocuments('epcrs', TENANT, docs.map((d) => d.id));
    expect(stored).toHaveLength(300);
    const byId = new Map(stored.map((s) => [s.id, JSON.parse(s.json) as unknown]));
    for (const doc of docs) expect(byId.get(doc.id)).toEqual(doc);
  });
});
