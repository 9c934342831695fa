/**
 * Where the demo happens: Danbury, Connecticut (the city of the NEMSIS compliance samples), with
 * the station, the calls, the hospital and a customer site a few kilometres apart.
 */
export interface Place {
  street: string;
  lat: number;
  lng: number;
}

export const CITY = { city: 'Danbury', state: 'CT', zip: '06810', county: '09001' } as const;
/** NEMSIS wants the city as its GNIS code in the report (the CAD keeps the name). */
export const CITY_GNIS = '213415';

export const PLACES = {
  station1: { street: '19 New Street', lat: 41.3938, lng: -73.4532 },
  station2: { street: '8 Tamarack Avenue', lat: 41.4121, lng: -73.4385 },
  closedCall: { street: '57 Main Street', lat: 41.3979, lng: -73.4539 },
  activeCall: { street: '112 Osborne Street', lat: 41.4002, lng: -73.4688 },
  newCall: { street: '3 Lake Avenue Extension', lat: 41.3866, lng: -73.4817 },
  hospital: { street: '24 Hospital Avenue', lat: 41.4044, lng: -73.4466 },
  m3Post: { street: '200 White Street', lat: 41.4006, lng: -73.4412 },
  customer: { street: '44 Lake Avenue', lat: 41.3905, lng: -73.4741 },
  technicianDepot: { street: '10 Great Pasture Road', lat: 41.3846, lng: -73.4623 },
  customer2: { street: '5 Mill Plain Road', lat: 41.3998, lng: -73.4953 },
  customer3: { street: '90 Newtown Road', lat: 41.4093, lng: -73.4318 },
} as const satisfies Record<string, Place>;

export const addressOf = (place: Place) => ({ street: place.street, ...CITY });
export const locationOf = (place: Place) => ({ lat: place.lat, lng: place.lng });
