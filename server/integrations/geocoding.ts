/**
 * Address → position for the hooks (an order that arrives without coordinates), through the
 * agency's geocoder (server/maps/geocoder.ts, the same one the dispatch form searches). Unlike a
 * person's search (one try, they are waiting), a hook can wait: each call is retried with backoff
 * under a per-geocoder circuit breaker (ResilientCaller), so a geocoder that is down makes calls
 * fail fast instead of holding hook runner slots.
 */
import type { GeocodeHit } from '../../shared/protocol/index.ts';
import { geocode, GeocoderFailed, type GeocoderTarget } from '../maps/geocoder.ts';
import { PermanentCallError, type ResilientCaller } from './resilient-call.ts';

export interface AddressGeocoder {
  /**
   * The best match for `address`, or null when the geocoder answered and knows no such place.
   * Throws IntegrationCallError when it could not be asked (down, timing out, refusing the request).
   */
  locate(target: GeocoderTarget, address: string): Promise<GeocodeHit | null>;
}

export class ResilientAddressGeocoder implements AddressGeocoder {
  constructor(private readonly caller: ResilientCaller) {}

  async locate(target: GeocoderTarget, address: string): Promise<GeocodeHit | null> {
    // One breaker per geocoder host: one agency's broken geocoder does not stop another's.
    const name = `geocoder:${new URL(target.url).host}`;
    const hits = await this.caller.call(name, async (signal) => {
      try {
        return await geocode(target, address, signal);
      } catch (error) {
        // A 4xx (bad key, bad request) will be the same on a retry; the geocoder itself is up.
        if (error instanceof GeocoderFailed && error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 429) {
          throw new PermanentCallError(error.message);
        }
        throw error;
      }
    });
    return hits[0] ?? null;
  }
}
