/**
 * The offline map area on a device: the byte ranges of the agency's tile archive that draw its
 * area (`MAPS.offlinePlan`), kept in Cache Storage. The page saves them (with progress, resuming
 * where a broken download stopped); the service worker answers the map's range requests from them
 * when the network is gone (sw/map-area.ts). One module for both, so they agree on the layout:
 * an index entry (the plan, written last: a half-saved area is never taken for a saved one) and
 * one entry per range. Tiles are no patient data, so Cache Storage (unsealed) is the right place.
 */
import type { OfflinePlanBody } from '../../shared/protocol/index.ts';

export const MAP_AREA_CACHE = 'fieldsync-map-area-v1';
const INDEX_KEY = '/__fieldsync-map-area/index';
const chunkKey = (offset: number, length: number) => `/__fieldsync-map-area/range/${offset}-${length}`;

export interface SavedArea extends OfflinePlanBody {
  savedAt: string;
}

export async function savedArea(): Promise<SavedArea | undefined> {
  if (typeof caches === 'undefined') return undefined;
  const cache = await caches.open(MAP_AREA_CACHE);
  const index = await cache.match(INDEX_KEY);
  return index ? ((await index.json()) as SavedArea) : undefined;
}

export async function dropArea(): Promise<void> {
  if (typeof caches !== 'undefined') await caches.delete(MAP_AREA_CACHE);
}

/**
 * Downloads the plan's ranges (`fetchRange` sends the user's token) into the cache, reporting the
 * bytes done; ranges already saved for the same archive version are not downloaded again.
 */
export async function saveArea(plan: OfflinePlanBody, fetchRange: (offset: number, length: number) => Promise<ArrayBuffer>, onProgress: (doneBytes: number) => void): Promise<SavedArea> {
  const previous = await savedArea();
  if (previous && previous.etag !== plan.etag) await dropArea();
  const cache = await caches.open(MAP_AREA_CACHE);
  // A new plan is saved afresh: the index goes first, so the old one is not used with new ranges.
  await cache.delete(INDEX_KEY);
  let done = 0;
  onProgress(0);
  for (const [offset, length] of plan.ranges) {
    if (!(await cache.match(chunkKey(offset, length)))) {
      const data = await fetchRange(offset, length);
      if (data.byteLength !== Math.min(length, plan.archiveBytes - offset)) throw new Error(`the server sent ${data.byteLength} bytes for a range of ${length}; try again`);
      await cache.put(chunkKey(offset, length), new Response(data, { headers: { 'content-type': 'application/octet-stream' } }));
    }
    done += length;
    onProgress(done);
  }
  const saved: SavedArea = { ...plan, savedAt: new Date().toISOString() };
  await cache.put(INDEX_KEY, new Response(JSON.stringify(saved), { headers: { 'content-type': 'application/json' } }));
  return saved;
}

/** A 206 answer to a range request from the saved area, or undefined when the range is not saved. */
export async function answerFromArea(rangeHeader: string | null): Promise<Response | undefined> {
  const match = rangeHeader ? /^bytes=(\d+)-(\d+)$/.exec(rangeHeader.trim()) : null;
  if (!match || typeof caches === 'undefined') return undefined;
  const area = await savedArea();
  if (!area) return undefined;
  const start = Number(match[1]);
  const end = Math.min(Number(match[2]), area.archiveBytes - 1);
  const range = area.ranges.find(([offset, length]) => start >= offset && end < offset + length);
  if (!range) return undefined;
  const cache = await caches.open(MAP_AREA_CACHE);
  const chunk = await cache.match(chunkKey(range[0], range[1]));
  if (!chunk) return undefined;
  const bytes = (await chunk.arrayBuffer()).slice(start - range[0], end - range[0] + 1);
  return new Response(bytes, {
    status: 206,
    headers: {
      'content-range': `bytes ${start}-${end}/${area.archiveBytes}`, 'content-length': String(bytes.byteLength),
      'accept-ranges': 'bytes', etag: area.etag, 'content-type': 'application/vnd.pmtiles', 'x-fieldsync-from': 'offline-area',
    },
  });
}
