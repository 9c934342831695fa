/**
 * "Map offline": the MDT's and phone's card to save the agency's offline map area. It shows the
 * area and what saving it costs before anything is downloaded, a progress bar while it saves,
 * and whether the saved copy is current (a changed archive makes it stale, and it is offered again).
 */
import { useEffect, useState } from 'preact/hooks';
import { MAPS, type OfflinePlanBody } from '../../shared/protocol/index.ts';
import { getAccessToken } from '../session/session.ts';
import { savedArea, saveArea, type SavedArea } from '../map-area/cache.ts';
import { mapApi, mapConfig } from './map-config.ts';
import { formatBytes, online } from './runtime.ts';

async function fetchRange(offset: number, length: number): Promise<ArrayBuffer> {
  const token = await getAccessToken();
  const response = await fetch(mapApi.url(MAPS.archive), { headers: { authorization: `Bearer ${token}`, range: `bytes=${offset}-${offset + length - 1}` }, cache: 'no-store' });
  if (response.status !== 206 && response.status !== 200) throw new Error(`the server answered ${response.status}`);
  return response.arrayBuffer();
}

export function OfflineArea() {
  const config = mapConfig.value;
  const area = config?.offlineArea;
  const etag = config?.tiles?.kind === 'archive' ? config.tiles.etag : undefined;
  const [saved, setSaved] = useState<SavedArea | undefined | null>(null);
  const [plan, setPlan] = useState<OfflinePlanBody>();
  const [progress, setProgress] = useState<number>();
  const [problem, setProblem] = useState<string>();
  useEffect(() => { void savedArea().then(setSaved, () => setSaved(undefined)); }, []);
  useEffect(() => {
    if (!area || !etag || !online.value) return;
    mapApi.json<OfflinePlanBody>(MAPS.offlinePlan).then(setPlan, (error: Error) => setProblem(`The size of the area is not known: ${error.message}`));
  }, [etag, online.value]);
  if (!area || !etag) return null;
  const current = saved && saved.etag === etag;
  const save = async () => {
    if (!plan) return;
    setProblem(undefined);
    try {
      setSaved(await saveArea(plan, fetchRange, setProgress));
    } catch (error) {
      setProblem(`Not saved: ${(error as Error).message}. What was downloaded is kept; press Save again to go on.`);
    } finally {
      setProgress(undefined);
    }
  };
  return (
    <section class="card map-area" aria-labelledby="map-area-title" data-testid="map-area" data-saved={current ? 'current' : saved ? 'stale' : 'none'} style="margin-top:12px">
      <h3 id="map-area-title" style="margin-top:0">Map offline</h3>
      <p class="meta">The agency's area ({area.south.toFixed(3)}, {area.west.toFixed(3)} to {area.north.toFixed(3)}, {area.east.toFixed(3)}; zoom {area.minZoom}–{area.maxZoom}) can be kept on this device, so the map works with no signal.</p>
      {saved === null ? null : current
        ? <p data-testid="map-area-status">Saved {new Date(saved.savedAt).toLocaleString()}: {formatBytes(saved.bytes)}, {saved.tiles} tiles.</p>
        : <p data-testid="map-area-status">{saved ? 'The saved area is out of date (the agency\'s map changed).' : 'Not saved on this device.'}</p>}
      {progress !== undefined && plan && (
        <p><label for="map-area-progress">Saving {formatBytes(progress)} of {formatBytes(plan.bytes)}</label>
          <progress id="map-area-progress" data-testid="map-area-progress" max={plan.bytes} value={progress} /></p>
      )}
      {!current && progress === undefined && (
        plan
          ? <button class="primary" data-testid="map-area-save" onClick={() => void save()}>Save map area ({formatBytes(plan.bytes)}, {plan.tiles} tiles)</button>
          : <p class="meta">{online.value ? 'Working out the size…' : 'Connect to save the area.'}</p>
      )}
      {problem && <p class="hint bad" role="alert">{problem}</p>}
    </section>
  );
}
