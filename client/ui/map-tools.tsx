/**
 * The map of the vehicle and phone apps with what a crew or technician needs around it: an
 * address search (the found place is shown on the map), the address at their own position, and
 * the card that keeps the agency's map area offline (offline-area.tsx).
 */
import { useEffect, useState } from 'preact/hooks';
import type { GeocodeHit } from '../../shared/protocol/index.ts';
import { AddressSuggestions, addressAt, useAddressSuggestions } from './address-search.tsx';
import { OfflineMap, type LatLng, type MapProps } from './map.tsx';
import { mapConfig } from './map-config.ts';
import { OfflineArea } from './offline-area.tsx';
import { notARecordField } from './record-field.ts';

export function MapTools(props: MapProps & { here?: LatLng | undefined }) {
  const [text, setText] = useState('');
  const [found, setFound] = useState<GeocodeHit>();
  const [near, setNear] = useState<string>();
  const suggestions = useAddressSuggestions(found ? '' : text, props.here);
  const hereKey = props.here ? `${props.here.lat.toFixed(3)},${props.here.lng.toFixed(3)}` : '';
  useEffect(() => {
    if (!props.here) return;
    let stopped = false;
    void addressAt(props.here).then((hit) => { if (!stopped) setNear(hit?.label); });
    return () => { stopped = true; };
  }, [hereKey, mapConfig.value?.geocoder]);
  const markers = found ? [...props.markers, { id: 'found', lat: found.lat, lng: found.lng, label: found.label, kind: 'dest' as const }] : props.markers;
  return (
    <>
      {near && <p class="meta" data-testid="near-address">Near {near}</p>}
      <OfflineMap {...props} markers={markers} />
      {mapConfig.value?.geocoder && (
        <div class="field" style="margin-top:8px">
          <label for="map-find">Find an address</label>
          <input id="map-find" data-testid="map-find" value={text} autoComplete="off" {...notARecordField('looks an address up to show it on the map; nothing is saved')} onInput={(e) => { setText(e.currentTarget.value); setFound(undefined); }} />
          <AddressSuggestions id="map-find-suggestions" hits={suggestions.hits} problem={suggestions.problem} onPick={setFound} />
          {found && <div class="hint" data-testid="map-found">Shown on the map: {found.label}</div>}
        </div>
      )}
      <OfflineArea />
    </>
  );
}
