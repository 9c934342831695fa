/// <reference lib="webworker" />
/**
 * The map's tile archive requests (`MAPS.archive`, by byte range): to the network first, so a
 * changed archive is seen at once; when the network is gone (or does not answer within a few
 * seconds) from the offline area the device saved (client/map-area/cache.ts). A range the area
 * does not hold fails as it would without the worker: the map shows no tile there.
 */
import { registerRoute } from 'workbox-routing';
import { answerFromArea } from '../client/map-area/cache.ts';
import { MAPS, pathOf } from '../shared/protocol/index.ts';

const NETWORK_WAIT_MS = 6000;

export function installMapArea(): void {
  const archivePath = pathOf(MAPS.archive);
  registerRoute(({ url, request }) => url.pathname === archivePath && request.method === 'GET', async ({ request }) => {
    try {
      return await fetch(request, { signal: AbortSignal.timeout(NETWORK_WAIT_MS) });
    } catch (error) {
      const saved = await answerFromArea(request.headers.get('range'));
      if (saved) return saved;
      throw error;
    }
  });
}
