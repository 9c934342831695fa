/**
 * Stand-ins for the outside services the map uses, as real HTTP servers on 127.0.0.1: a
 * Nominatim-compatible geocoder (`/search`, `/reverse`) and an OSRM-compatible router
 * (`/route/v1/driving/…`). Each records the requests it got.
 */
import http from 'node:http';

export interface StandIn {
  url: string;
  requests: URL[];
  close(): Promise<void>;
}

export interface StandInAddress { label: string; lat: number; lng: number; houseNumber: string; road: string; city: string; postcode: string; state?: string }

type Answer = { status?: number; body: unknown };
async function listen(handler: (url: URL) => Answer | Promise<Answer>, port = 0): Promise<StandIn> {
  const requests: URL[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url);
    void Promise.resolve(handler(url)).then(({ status = 200, body }) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`, requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const nominatim = (a: StandInAddress) => ({
  lat: String(a.lat), lon: String(a.lng), display_name: a.label,
  address: { house_number: a.houseNumber, road: a.road, city: a.city, postcode: a.postcode, ...(a.state ? { state: a.state } : {}) },
});

/**
 * Answers a search with every address whose label contains each word typed; a reverse lookup with
 * the nearest. `hold()` keeps searches unanswered until the function it returns is called (a slow
 * geocoder, so a test can change things while a hook waits on it).
 */
export async function nominatimStandIn(addresses: StandInAddress[], port = 0): Promise<StandIn & { hold(): () => void }> {
  let held: Promise<void> | undefined;
  const standIn = await listen(async (url) => {
    if (url.pathname === '/search') {
      await held;
      const words = (url.searchParams.get('q') ?? '').toLowerCase().split(/[\s,]+/).filter(Boolean);
      return { body: addresses.filter((a) => words.every((w) => a.label.toLowerCase().includes(w.replace(/^st$/, 'st')))).map(nominatim) };
    }
    if (url.pathname === '/reverse') {
      const lat = Number(url.searchParams.get('lat'));
      const lng = Number(url.searchParams.get('lon'));
      const nearest = [...addresses].sort((a, b) => Math.hypot(a.lat - lat, a.lng - lng) - Math.hypot(b.lat - lat, b.lng - lng))[0];
      return { body: nearest ? nominatim(nearest) : { error: 'Unable to geocode' } };
    }
    return { status: 404, body: { error: 'not found' } };
  }, port);
  return {
    ...standIn,
    hold() {
      let release!: () => void;
      held = new Promise<void>((resolve) => { release = resolve; });
      return () => { held = undefined; release(); };
    },
  };
}

/** A straight "route" with a midpoint kink, so the line has three points. */
export function osrmStandIn(port = 0): Promise<StandIn> {
  return listen((url) => {
    const match = /^\/route\/v1\/driving\/([-\d.]+),([-\d.]+);([-\d.]+),([-\d.]+)$/.exec(url.pathname);
    if (!match) return { status: 400, body: { code: 'InvalidUrl' } };
    const [a, b, c, d] = match.slice(1).map(Number) as [number, number, number, number];
    const line = [[a, b], [(a + c) / 2, b], [c, d]];
    return { body: { code: 'Ok', routes: [{ geometry: { type: 'LineString', coordinates: line }, distance: 1234.5, duration: 181 }] } };
  }, port);
}
