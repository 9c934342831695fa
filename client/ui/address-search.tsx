/**
 * Address lookup for a typed address: suggestions from the agency's geocoder (through the server,
 * `MAPS.geocode`) under the input as the person types; picking one gives its point and the parts
 * of the address it knows. The typed text is never replaced: what the person typed is what the
 * record keeps. Offline or with no geocoder there are simply no suggestions, and coordinates or a
 * map click still work.
 */
import { useEffect, useState } from 'preact/hooks';
import { MAPS, type GeocodeBody, type GeocodeHit, type ReverseBody } from '../../shared/protocol/index.ts';
import { mapApi, mapConfig, loadMapConfig } from './map-config.ts';
import { online } from './runtime.ts';

/** Suggestions for `text` (at least 3 characters, 350 ms after the last keystroke). */
export function useAddressSuggestions(text: string, near?: { lat: number; lng: number }): { hits: GeocodeHit[]; problem?: string | undefined } {
  useEffect(() => void loadMapConfig(), []);
  const enabled = mapConfig.value?.geocoder === true && online.value;
  const [state, setState] = useState<{ hits: GeocodeHit[]; problem?: string | undefined }>({ hits: [] });
  useEffect(() => {
    const q = text.trim();
    if (!enabled || q.length < 3) return setState({ hits: [] });
    let stopped = false;
    const timer = setTimeout(() => {
      mapApi.json<GeocodeBody>(MAPS.geocode, { query: { q, ...(near ? { lat: near.lat, lng: near.lng } : {}) } })
        .then((body) => { if (!stopped) setState({ hits: body.results }); }, (error: Error) => { if (!stopped) setState({ hits: [], problem: `Address search is not available: ${error.message}` }); });
    }, 350);
    return () => { stopped = true; clearTimeout(timer); };
  }, [text.trim(), enabled]);
  return state;
}

/** The address at a point, or null; undefined when it cannot be asked (offline, no geocoder). */
export async function addressAt(point: { lat: number; lng: number }): Promise<GeocodeHit | null | undefined> {
  await loadMapConfig();
  if (mapConfig.value?.geocoder !== true || !navigator.onLine) return undefined;
  try {
    return (await mapApi.json<ReverseBody>(MAPS.reverse, { query: { lat: point.lat, lng: point.lng } })).result;
  } catch {
    return undefined;
  }
}

/** The list of suggestions under an input; `onPick` gets the one chosen. */
export function AddressSuggestions(props: { hits: GeocodeHit[]; problem?: string | undefined; onPick: (hit: GeocodeHit) => void; id: string }) {
  if (props.problem) return <div class="hint" id={props.id}>{props.problem}</div>;
  if (props.hits.length === 0) return null;
  return (
    <ul class="address-suggestions" id={props.id} data-testid="address-suggestions" aria-label="Addresses found">
      {props.hits.map((hit) => (
        <li key={`${hit.lat},${hit.lng},${hit.label}`}>
          <button type="button" data-testid="address-suggestion" onClick={() => props.onPick(hit)}>{hit.label}</button>
        </li>
      ))}
    </ul>
  );
}
