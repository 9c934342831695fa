/**
 * A stolen tablet (issue #17, finding 1), in real Chromium with the real service worker: a crew
 * member signs in with a password, syncs a report, changes it once more without coverage, and the
 * app locks itself when left alone. The browser is closed; the thief opens the same profile
 * again WITHOUT the password and takes everything the origin stores (localStorage, every
 * IndexedDB record, the Cache Storage) plus every file of the profile directory (the HTTP disk
 * cache, session-restore files, LevelDB). Every token-like string found is then replayed from
 * Node against the server: as a bearer token on pull and export, as a refresh token, as a device
 * credential. Nothing of it reads patient data or gets a token that does; the profile's files hold
 * neither the patient's name nor the typed narrative. And the outbox still delivers: with no page
 * of the app open, a Background Sync makes the service worker push the change that waited, with
 * its push-only device credential.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, EPCRS, pathOf, SYNC } from '../../shared/protocol/index.ts';
import { schemaVersionOf, type Epcr } from '../../shared/schemas/index.ts';
import {
  closeDevice, goOffline, goOnline, launchDevice, newProfileDir, signInWithPassword, waitFor, waitForServiceWorker, watchConsole,
} from './support/browser.ts';
import { createCable, type Cable } from './support/cable.ts';
import { queueLine, serviceWorkerControl } from './support/outbox.ts';
import { makeJpeg, readStored, sha256Of } from './support/attachments.ts';
import { ADMIN_TOKEN, E2eServer, e2ePort, ensureApps, offsetNow, TENANT } from './support/server.ts';
import { tearDownDevice } from './support/teardown.ts';

const SERVER_PORT = e2ePort(1441);
const CABLE_PORT = e2ePort(1442);
const USERNAME = 'medic-stolen';
const PASSWORD = 'Lantern-Orchard-Velvet-4';
const DEVICE = 'tablet-stolen-1';
const PATIENT_LAST = 'Wojciechowska';
const NARRATIVE = 'Thief test: found prone, GCS 14, bleeding controlled.';
const INCIDENT_STREET = '8823 Marrowbone Lane';

/** Everything the origin stores that script can reach, as text (CryptoKey objects serialise to {}). */
interface Loot {
  localStorage: Record<string, string>;
  /** `database/store` → JSON of every record. */
  indexedDb: Record<string, string>;
  /** Cache Storage: `cache url` → body text. */
  caches: Record<string, string>;
  /** Every Blob held in IndexedDB (an attachment's bytes), as hex: `database/store#n` → bytes. */
  blobs: Record<string, string>;
}

function takeEverything(page: Page): Promise<Loot> {
  return page.evaluate(async () => {
    const loot: Loot = { localStorage: {}, indexedDb: {}, caches: {}, blobs: {} };
    /** Blobs inside a record (JSON shows them as {}): their bytes, as a thief reads them. */
    const blobsIn = async (value: unknown, out: Blob[]): Promise<Blob[]> => {
      if (value instanceof Blob) out.push(value);
      else if (value && typeof value === 'object') for (const inner of Object.values(value)) await blobsIn(inner, out);
      return out;
    };
    const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i)!;
      loot.localStorage[key] = localStorage.getItem(key) ?? '';
    }
    for (const { name } of await indexedDB.databases()) {
      if (!name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      for (const store of Array.from(db.objectStoreNames)) {
        const [keys, values] = await new Promise<[IDBValidKey[], unknown[]]>((resolve, reject) => {
          const tx = db.transaction(store, 'readonly');
          const k = tx.objectStore(store).getAllKeys();
          const v = tx.objectStore(store).getAll();
          tx.oncomplete = () => resolve([k.result, v.result]);
          tx.onerror = () => reject(tx.error);
        });
        loot.indexedDb[`${name}/${store}`] = JSON.stringify(keys.map((key, i) => [key, values[i]]));
        const blobs = await blobsIn(values, []);
        for (const [n, blob] of blobs.entries()) loot.blobs[`${name}/${store}#${n}`] = hex(new Uint8Array(await blob.arrayBuffer()));
      }
      db.close();
    }
    for (const cacheName of await caches.keys()) {
      const cache = await caches.open(cacheName);
      for (const request of await cache.keys()) {
        const response = await cache.match(request);
        loot.caches[`${cacheName} ${request.url}`] = response ? await response.text() : '';
      }
    }
    return loot;
  });
}

/** Every file under `dir` (the browser profile as copied from the disk). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** Files of the profile holding `needle` as UTF-8 or UTF-16 (how Chromium writes some strings), or as these very bytes. */
async function profileFilesWith(dir: string, needle: string | Buffer): Promise<string[]> {
  const hits: string[] = [];
  const forms = typeof needle === 'string' ? [Buffer.from(needle, 'utf8'), Buffer.from(needle, 'utf16le')] : [needle];
  for (const file of await filesUnder(dir)) {
    const bytes = await readFile(file).catch(() => Buffer.alloc(0));
    if (forms.some((form) => bytes.includes(form))) hits.push(path.relative(dir, file));
  }
  return hits;
}

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/g;
const REFRESH = /(?<![A-Za-z0-9_.-])[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;
const CREDENTIAL = /dc_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/g;

describe('a stolen, idle-locked crew tablet (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { cablePorts: [CABLE_PORT] });
  let cable: Cable;
  let profile: string;
  let ctx: BrowserContext | undefined;
  const errors: string[] = [];
  const incidentId = randomUUID();

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    cable = await createCable(CABLE_PORT, SERVER_PORT);
    profile = await newProfileDir();
    await server.server!.app.auth.createUser(TENANT, { username: USERNAME, password: PASSWORD, role: 'crew', unitId: 'M44', displayName: 'Medic Stolen' });
    await server.seedAssignedCall({
      incidentId, callSign: 'M44', incidentNumber: '2026-004401', complaint: 'unresponsive person', priority: 'P1',
      address: { street: INCIDENT_STREET, city: 'Philadelphia', zip: '19143' }, location: { lat: 39.95, lng: -75.21 }, timeline: { unitNotified: offsetNow(new Date(Date.now() - 300_000)) },
    });
  }, 180_000);

  afterAll(async () => {
    await tearDownDevice({ ctx, cable, server, profile, errors });
  });

  it('gives the thief nothing that reads patient data, and the queued change is still delivered with no page open', async () => {
    // ---- the crew's day: sign in, sync a report, change it without coverage, walk away ----
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
    let page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'crew', errors);
    await signInWithPassword(page, cable.origin, '/crew/', { tenant: TENANT, username: USERNAME, password: PASSWORD, device: DEVICE });
    await waitForServiceWorker(page);
    const report = page.locator(`[data-testid="call"][data-id="${incidentId}"] [data-testid="epcr-link"]`);
    await report.first().waitFor({ timeout: 20_000 });
    const epcrId = (await report.first().getAttribute('data-id'))!;
    await report.first().click();
    await page.getByTestId('epcr-form').waitFor();
    await page.getByTestId('section-patient').click();
    await page.getByLabel('Last name').fill(PATIENT_LAST);
    await expect.poll(async () => (await server.docs<Epcr>('epcrs', [epcrId]))[0]?.patient?.lastName, { timeout: 20_000 }).toBe(PATIENT_LAST);

    await goOffline(ctx, cable);
    await page.getByTestId('section-narrative').click();
    await page.getByLabel('Narrative').fill(NARRATIVE);
    await expect.poll(() => queueLine(page), { timeout: 15_000 }).toContain('1 patient care report');
    // The patient's insurance card, photographed without coverage and kept byte for byte (full
    // quality), so its very bytes can be looked for; and the patient's signature.
    await page.getByTestId('section-signatures').click();
    const card = await makeJpeg(page, 1400, 900);
    const photo = page.getByTestId('photo-capture');
    await photo.getByTestId('photo-purpose').selectOption('insurance-front');
    await photo.getByTestId('photo-original').check();
    await photo.getByTestId('photo-file').setInputFiles({ name: 'card.jpg', mimeType: 'image/jpeg', buffer: card });
    await photo.getByTestId('photo-add').click();
    await photo.getByTestId('photo-saved').waitFor({ timeout: 30_000 });
    await expect.poll(() => queueLine(page), { timeout: 15_000 }).toContain('1 attachment');
    // 48 bytes from the middle of the photo: found anywhere only if the photo is kept in clear.
    const photoBytes = card.subarray(card.length >> 1, (card.length >> 1) + 48);
    // Left alone: the app locks itself (?idle shortens the 15 minutes).
    await page.goto(`${cable.origin}/crew/?idle=3000#/epcr/${epcrId}`);
    const unlock = page.locator('[data-testid="unlock"]');
    await unlock.waitFor();
    await unlock.getByLabel('Password').fill(PASSWORD);
    await unlock.getByRole('button', { name: 'Unlock' }).click();
    await page.getByTestId('epcr-form').waitFor();
    await page.locator('[data-testid="unlock"][data-reason="idle"]').waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => document.body.innerText)).not.toContain(PATIENT_LAST);
    await closeDevice(ctx);
    ctx = undefined;

    // ---- the thief: the same profile, no password, no network ----
    ctx = await launchDevice(profile, { timezoneId: 'America/New_York' });
    page = ctx.pages()[0] ?? await ctx.newPage();
    watchConsole(page, 'thief', errors);
    await page.goto(`${cable.origin}/crew/`);
    await page.locator('[data-testid="unlock"]').waitFor();
    const loot = await takeEverything(page);
    const lootText = JSON.stringify(loot);
    expect(Object.keys(loot.localStorage), 'the scan reached localStorage').toContain('fieldsync.session');
    expect(Object.keys(loot.indexedDb).length, 'the scan reached IndexedDB').toBeGreaterThan(3);
    /** Where in the loot `needle` is readable (localStorage keys, `database/store`, cache entries). */
    const holding = (needle: string) => [loot.localStorage, loot.indexedDb, loot.caches].flatMap((part) => Object.keys(part).filter((key) => part[key]!.includes(needle)));
    expect({ name: holding(PATIENT_LAST), narrative: holding(NARRATIVE), address: holding(INCIDENT_STREET) }).toEqual({ name: [], narrative: [], address: [] });
    // The photo waits in the outbound queue (the scan reached its bytes), sealed: not readable there.
    expect(Object.keys(loot.blobs).filter((key) => key.startsWith('fieldsync-outbox/uploads')).length, 'the scan reached the waiting photo').toBeGreaterThan(0);
    expect(Object.keys(loot.blobs).filter((key) => loot.blobs[key]!.includes(photoBytes.toString('hex')))).toEqual([]);
    await page.close();

    // ---- the outbox delivers with no app page open: a Background Sync wakes the service worker ----
    await goOnline(ctx, cable);
    const control = await serviceWorkerControl(ctx, cable.origin);
    try {
      expect(ctx.pages().filter((p) => p.url().startsWith(cable.origin))).toHaveLength(0);
      await control.fireSync();
      await waitFor(async () => (await server.docs<Epcr>('epcrs', [epcrId]))[0]?.narrative?.text === NARRATIVE, 'the queued narrative delivered with no page open', 60_000);
      // And the photo, uploaded sealed (the service worker holds no key) and opened by the server: byte-identical.
      await waitFor(async () => (await readStored(server.server!.url, ADMIN_TOKEN, 'epcrs', epcrId, sha256Of(card))).status === 200 || undefined, 'the sealed photo uploaded with no page open', 60_000);
      expect(sha256Of((await readStored(server.server!.url, ADMIN_TOKEN, 'epcrs', epcrId, sha256Of(card))).bytes)).toBe(sha256Of(card));
      expect(ctx.pages().filter((p) => p.url().startsWith(cable.origin))).toHaveLength(0);
    } finally {
      await control.close();
    }
    await closeDevice(ctx);
    ctx = undefined;

    // ---- the profile as files: no patient name, no narrative, no incident address anywhere ----
    const onDisk = {
      name: await profileFilesWith(profile, PATIENT_LAST),
      narrative: await profileFilesWith(profile, NARRATIVE.slice(0, 30)),
      address: await profileFilesWith(profile, INCIDENT_STREET),
      photo: await profileFilesWith(profile, photoBytes),
    };
    expect(onDisk).toEqual({ name: [], narrative: [], address: [], photo: [] });
    let profileText = lootText;
    for (const file of await filesUnder(profile)) profileText += (await readFile(file).catch(() => Buffer.alloc(0))).toString('latin1');

    // ---- every token-like string found, replayed from another machine ----
    const found = {
      bearer: [...new Set(profileText.match(JWT) ?? [])],
      refresh: [...new Set(profileText.match(REFRESH) ?? [])].filter((t) => !t.startsWith('dc_')),
      credential: [...new Set(profileText.match(CREDENTIAL) ?? [])],
    };
    expect(found.credential.length, 'the service worker\'s device credential is on the device (it pushes)').toBeGreaterThan(0);
    const readers: string[] = [];
    const pull = `${server.server!.url}${pathOf(SYNC.pull, { collection: 'epcrs' })}?schemaVersion=${schemaVersionOf('epcrs')}`;
    const exportUrl = server.server!.url + pathOf(EPCRS.nemsisXml, { id: epcrId });
    for (const token of found.bearer) {
      for (const url of [pull, exportUrl]) {
        const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        if (r.ok) readers.push(`bearer ${token.slice(0, 12)}… read ${url}`);
      }
    }
    for (const token of [...found.refresh, ...found.credential]) {
      const r = await fetch(server.server!.url + pathOf(AUTH.refresh), {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: token, deviceId: DEVICE }),
      });
      if (r.ok) readers.push(`refresh ${token.slice(0, 12)}… got a new token`);
    }
    for (const credential of found.credential) {
      for (const url of [pull, exportUrl]) {
        const r = await fetch(url, { headers: { authorization: `DPoP ${credential}` } });
        if (r.ok) readers.push(`credential ${credential.slice(0, 12)}… read ${url}`);
      }
    }
    expect(readers).toEqual([]);
    console.log(`[stolen-profile] replayed ${found.bearer.length} bearer-like, ${found.refresh.length} refresh-like and ${found.credential.length} device-credential strings: none read anything`);
  }, 240_000);
});
