/**
 * Photo uploads through the service worker (issue 18), for `npm run bench` (part `attachments`):
 *
 * - throughput of a photo kept on a crew tablet and uploaded by the service worker (tus, 2 MiB
 *   PATCHes, the report's push first), from "kept on the device" to "stored on the server", in MB/s;
 * - the same bytes' size sent by a plain `fetch` from the page to the same server in the same run
 *   (one tus creation and one PATCH of the whole file: the transport's ceiling, with the server's
 *   own checks and storing), as the baseline;
 * - the resume overhead: an upload cut at the socket at half and resumed, bytes sent twice.
 *
 * Real Chromium, real service worker, real server on 127.0.0.1 behind a cable. Bounded: each
 * measure has a deadline; what was reached is reported and the rest says it did not finish.
 */
import { loadavg } from 'node:os';
import path from 'node:path';
import { ATTACHMENTS, pathOf } from '../shared/protocol/index.ts';
import { makeJpeg, sha256Of } from '../test/e2e/support/attachments.ts';
import { startCrewDevice, type CrewDevice } from '../test/e2e/support/outbox.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from '../test/e2e/support/server.ts';
import type { BenchFigure } from './lib/stats.ts';

export interface AttachmentBenchOptions {
  quick?: boolean;
  log?: (message: string) => void;
}

const SERVER_PORT = e2ePort(2230);
const CABLE_PORT = e2ePort(2231);
const DEADLINE_MS = 120_000;

const round = (n: number) => Math.round(n * 100) / 100;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function attachmentBenchmarks(options: AttachmentBenchOptions = {}): Promise<BenchFigure[]> {
  const log = options.log ?? ((m: string) => console.log(m));
  const size = options.quick ? 5_000_000 : 10_000_000;
  const runs = options.quick ? 2 : 3;
  const figures: BenchFigure[] = [];
  const errors: string[] = [];
  await ensureApps();
  const server = new E2eServer(SERVER_PORT, { cablePorts: [CABLE_PORT] });
  await server.start();
  let d: CrewDevice | undefined;
  try {
    d = await startCrewDevice(server, { cablePort: CABLE_PORT, unit: 'BA1', incidentNumber: '2026-009901', calls: 1, errors });
    const device = d;
    const epcrId = device.epcrId;
    const stored = (sha256: string) => server.server!.app.attachments.isLinked({ tenantId: TENANT, collection: 'epcrs', docId: epcrId, sha256 });
    const waitStored = async (sha256: string): Promise<boolean> => {
      const t0 = Date.now();
      while (Date.now() - t0 < DEADLINE_MS) {
        if (await stored(sha256)) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    };
    // A different photo each time (the server stores bytes it already has once: a repeat would measure less).
    let seed = 0;
    const photo = async () => {
      const bytes = await makeJpeg(device.page, 1600, 1200, size);
      bytes[bytes.length - 1] = ++seed & 0xff;
      bytes[bytes.length - 2] = (seed >> 8) & 0xff;
      return bytes;
    };
    const base64 = (bytes: Buffer) => bytes.toString('base64');

    // Through the service worker: kept on the device (the worker's attach), then uploaded by the SW.
    const viaSw: number[] = [];
    for (let i = 0; i < runs; i++) {
      const bytes = await photo();
      const sha256 = sha256Of(bytes);
      // From the moment the app hands the photo over (hashing and keeping it on the device included).
      const t0 = await device.page.evaluate(async ({ id, data }) => {
        const raw = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const api = (window as unknown as { fieldsync: { db: { api: { attach(c: string, id: string, a: unknown): Promise<unknown> } } } }).fieldsync.db.api;
        const started = Date.now();
        await api.attach('epcrs', id, { bytes: raw, contentType: 'image/jpeg', item: { kind: 'photo', purpose: 'other', capturedAt: new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00') } });
        return started;
      }, { id: epcrId, data: base64(bytes) });
      if (!await waitStored(sha256)) {
        log(`[bench attachments] upload through the service worker did not finish within ${DEADLINE_MS / 1000} s (run ${i + 1})`);
        break;
      }
      viaSw.push(Date.now() - t0);
    }

    // Baseline: the page itself, a plain fetch: tus creation, then the whole file in one PATCH.
    const plain: number[] = [];
    const token = `dev:${TENANT}:crew:tablet-ba1:BA1`;
    for (let i = 0; i < runs; i++) {
      const bytes = await photo();
      const sha256 = sha256Of(bytes);
      const ms = await device.page.evaluate(async ({ data, create, sha, id, auth }) => {
        const raw = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const t0 = performance.now();
        const made = await fetch(create, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${auth}`, 'tus-resumable': '1.0.0', 'upload-length': String(raw.length),
            'upload-metadata': `sha256 ${btoa(sha)},contentType ${btoa('image/jpeg')},collection ${btoa('epcrs')},docId ${btoa(id)}`,
          },
        });
        const location = made.headers.get('location')!;
        const sent = await fetch(location, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${auth}`, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
          body: raw,
        });
        if (sent.status !== 204) throw new Error(`plain upload answered ${sent.status}: ${await sent.text()}`);
        return performance.now() - t0;
      }, { data: base64(bytes), create: pathOf(ATTACHMENTS.createUpload), sha: sha256, id: epcrId, auth: token });
      plain.push(ms);
    }

    if (viaSw.length > 0 && plain.length > 0) {
      const swMbs = size / 1e6 / (median(viaSw) / 1000);
      const plainMbs = size / 1e6 / (median(plain) / 1000);
      figures.push({
        name: `attachments: ${size / 1e6} MB photo uploaded by the service worker (tus, 2 MiB PATCHes)`, value: round(swMbs), unit: 'MB/s',
        baseline: round(plainMbs), ratio: round(swMbs / plainMbs),
        note: `median of ${viaSw.length}: ${viaSw.map((ms) => `${ms} ms`).join(', ')}; baseline: a plain fetch from the page (one tus PATCH of the whole file) to the same server, median of ${plain.length}: ${plain.map((ms) => `${Math.round(ms)} ms`).join(', ')}`,
      });
    } else {
      figures.push({ name: 'attachments: photo upload through the service worker', value: NaN, unit: 'MB/s', baseline: null, ratio: null, note: 'did not finish' });
    }

    // Resume overhead: cut at the socket at half, the service worker resumes.
    {
      const bytes = await photo();
      const sha256 = sha256Of(bytes);
      const from = device.cable.seen.length;
      const cut = device.cable.cutAfter(/^\/api\/attachments\/uploads\//, size / 2);
      await device.page.evaluate(async ({ id, data }) => {
        const raw = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const api = (window as unknown as { fieldsync: { db: { api: { attach(c: string, id: string, a: unknown): Promise<unknown> } } } }).fieldsync.db.api;
        await api.attach('epcrs', id, { bytes: raw, contentType: 'image/jpeg', item: { kind: 'photo', purpose: 'other', capturedAt: new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00') } });
      }, { id: epcrId, data: base64(bytes) });
      const t0 = Date.now();
      await Promise.race([cut, new Promise((r) => setTimeout(r, DEADLINE_MS))]);
      await new Promise((r) => setTimeout(r, 500));
      await device.cable.restore();
      const done = await waitStored(sha256);
      const sent = device.cable.seen.slice(from).filter((r) => r.method === 'PATCH' && r.path.startsWith('/api/attachments/uploads/')).reduce((a, r) => a + r.bytes, 0);
      figures.push({
        name: `attachments: resume overhead after a cut at half (${size / 1e6} MB)`, value: done ? sent - size : NaN, unit: 'bytes sent twice',
        baseline: size, ratio: done ? round((sent - size) / size) : null,
        note: done ? `${sent} bytes through the cable for ${size}; stored ${Date.now() - t0} ms after the photo was kept (with a 0.5 s cut)` : 'did not finish',
      });
    }
  } finally {
    await d?.dispose().catch(() => {});
    await server.dispose();
  }
  log(`[bench attachments] load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  return figures;
}

// Run alone: `node --import tsx bench/attachments.ts [--quick]`
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  attachmentBenchmarks({ quick: process.argv.includes('--quick') }).then((figures) => {
    for (const f of figures) console.log(`${f.name.padEnd(80)} ${String(f.value).padStart(12)} ${f.unit}  baseline ${f.baseline} ratio ${f.ratio}${f.note ? `  (${f.note})` : ''}`);
    process.exit(0);
  }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
