/**
 * The demo agency's map tiles, generated at first start (no network, no tile download): a small
 * PMTiles archive of Danbury in DATA_DIR/tiles/demo.pmtiles, so the dispatch map, the MDT and the
 * technician app draw a tile map, and the offline-area download has something to save, from the
 * quick start on. The tiles are drawn, not surveyed: a paper-coloured ground with a grid every
 * 0.01° (about 1 km) and finer lines every 0.002° from zoom 14, the way a map's graticule looks.
 * They carry no streets; the attribution says so. A real agency puts its own archive there
 * (docs/data-model.md, "Map files and the device's offline area").
 */
import { existsSync, renameSync } from 'node:fs';
import { tileArchivePath } from '../maps/archive.ts';
import { png, pointOfTile, writeAreaArchive, type Box, type Rgb } from '../maps/pmtiles-writer.ts';

export const DEMO_TILE_ARCHIVE = 'demo.pmtiles';
/** Every demo place (server/demo/places.ts) with a margin. */
export const DEMO_MAP_AREA: Box = { west: -73.52, south: 41.37, east: -73.41, north: 41.43 };
export const DEMO_TILE_ZOOMS: [number, number] = [10, 15];
export const DEMO_TILE_ATTRIBUTION = 'Generated demo tiles: a grid, no streets (fieldsync demo)';

const GROUND: Rgb = [242, 239, 233];
const MINOR: Rgb = [222, 218, 210];
const MAJOR: Rgb = [190, 184, 172];

/** Whether a pixel at `value` (degrees), `perPixel` degrees wide, lies on a line every `step` degrees. */
function onLine(value: number, perPixel: number, step: number): boolean {
  const offset = Math.abs(value / step - Math.round(value / step)) * step;
  return offset < perPixel * 0.75;
}

/** One 256-pixel tile of the demo map. */
export function demoTile(z: number, x: number, y: number): Buffer {
  const size = 256;
  const top = pointOfTile(z, x, y, 0, 0);
  const bottom = pointOfTile(z, x, y, 0, 1);
  const lngPerPixel = 360 / 2 ** z / size;
  const latPerPixel = (top.lat - bottom.lat) / size;
  // Lines only where they are at least 6 pixels apart, so low zooms are not a solid mesh.
  const major = 0.01 / lngPerPixel >= 6;
  const minor = 0.002 / lngPerPixel >= 6;
  // A column's longitude and a row's latitude do not depend on the other axis (Web Mercator).
  const kind = (value: number, perPixel: number) => (major && onLine(value, perPixel, 0.01) ? 2 : minor && onLine(value, perPixel, 0.002) ? 1 : 0);
  const columns = Array.from({ length: size }, (_, px) => kind(pointOfTile(z, x, y, (px + 0.5) / size, 0).lng, lngPerPixel));
  const rows = Array.from({ length: size }, (_, py) => kind(pointOfTile(z, x, y, 0, (py + 0.5) / size).lat, latPerPixel));
  return png(size, (px, py) => [GROUND, MINOR, MAJOR][Math.max(columns[px]!, rows[py]!)]!);
}

/**
 * Writes the demo archive unless a file of that name is there (an earlier start, or the admin's
 * own map under the demo's name). Returns what it wrote, or undefined when it wrote nothing.
 */
export function ensureDemoTiles(dataDir: string): { file: string; bytes: number; tiles: number } | undefined {
  const file = tileArchivePath(dataDir, DEMO_TILE_ARCHIVE);
  if (existsSync(file)) return undefined;
  const tmp = `${file}.${process.pid}.tmp`;
  const written = writeAreaArchive(tmp, DEMO_MAP_AREA, DEMO_TILE_ZOOMS, demoTile, { name: 'fieldsync demo map', attribution: DEMO_TILE_ATTRIBUTION });
  // Whole or not at all: a server stopped mid-write leaves a .tmp file, never a torn archive.
  renameSync(tmp, file);
  return { file, ...written };
}
