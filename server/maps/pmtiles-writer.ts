/**
 * A tiny PMTiles v3 writer (the `pmtiles` package only reads): raster tiles in one root
 * directory, uncompressed, clustered by tile id, as the spec lays them out (header 127 bytes,
 * root directory, metadata, tile data), and a PNG encoder. The demo agency's generated map
 * (server/demo/tiles.ts) is written with it, and so are the tests' archives (solid colours, so a
 * test can tell by a pixel's colour that the map drew the archive's tiles). A root directory
 * holds a few thousand tiles well; this is for small areas, not a city's real map.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { zxyToTileId } from 'pmtiles';

function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

export type Rgb = [number, number, number];

/** A 256×256 PNG of one colour. */
export function solidPng(rgb: Rgb, size = 256): Buffer {
  return png(size, () => rgb);
}

/** A size×size truecolour PNG, each pixel's colour from `pixel(x, y)`. */
export function png(size: number, pixel: (x: number, y: number) => Rgb): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const raw = Buffer.alloc((1 + size * 3) * size);
  for (let y = 0; y < size; y++) {
    const at = y * (1 + size * 3);
    for (let x = 0; x < size; x++) raw.set(pixel(x, y), at + 1 + x * 3);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function varint(n: number, out: number[]): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

export interface TileSpec { z: number; x: number; y: number; data: Buffer }

/** Web-mercator tile numbers of a point (clamped to the zoom's tiles). */
export function tileOf(lat: number, lng: number, z: number): { x: number; y: number } {
  const n = 2 ** z;
  const r = (lat * Math.PI) / 180;
  const clamp = (v: number) => Math.min(n - 1, Math.max(0, v));
  return { x: clamp(Math.floor(((lng + 180) / 360) * n)), y: clamp(Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)) };
}

/** The longitude and latitude of a point of tile (z, x, y), `fx`/`fy` in 0..1 across the tile. */
export function pointOfTile(z: number, x: number, y: number, fx: number, fy: number): { lat: number; lng: number } {
  const n = 2 ** z;
  const lng = ((x + fx) / n) * 360 - 180;
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - (2 * (y + fy)) / n))) * 180) / Math.PI;
  return { lat, lng };
}

export function writePmtiles(file: string, tiles: TileSpec[], options: { bounds: [number, number, number, number]; center: [number, number, number]; metadata?: Record<string, unknown> }): { bytes: number } {
  const entries = tiles.map((t) => ({ id: zxyToTileId(t.z, t.x, t.y), data: t.data, z: t.z })).sort((a, b) => a.id - b.id);
  let offset = 0;
  const placed = entries.map((e) => {
    const at = { id: e.id, offset, length: e.data.length };
    offset += e.data.length;
    return at;
  });
  const dir: number[] = [];
  varint(placed.length, dir);
  let last = 0;
  for (const e of placed) { varint(e.id - last, dir); last = e.id; }
  for (const _ of placed) varint(1, dir); // run length
  for (const e of placed) varint(e.length, dir);
  placed.forEach((e, i) => {
    const prev = placed[i - 1];
    varint(prev && e.offset === prev.offset + prev.length ? 0 : e.offset + 1, dir);
  });
  const root = Buffer.from(dir);
  const metadata = Buffer.from(JSON.stringify(options.metadata ?? {}));
  const data = Buffer.concat(entries.map((e) => e.data));
  const header = Buffer.alloc(127);
  header.write('PMTiles', 0, 'ascii');
  header[7] = 3;
  const rootOffset = 127;
  const metadataOffset = rootOffset + root.length;
  const dataOffset = metadataOffset + metadata.length;
  const u64 = (at: number, v: number) => header.writeBigUInt64LE(BigInt(v), at);
  u64(8, rootOffset); u64(16, root.length);
  u64(24, metadataOffset); u64(32, metadata.length);
  u64(40, dataOffset); u64(48, 0); // no leaf directories
  u64(56, dataOffset); u64(64, data.length);
  u64(72, entries.length); u64(80, entries.length); u64(88, entries.length);
  header[96] = 1; // clustered
  header[97] = 1; // internal compression: none
  header[98] = 1; // tile compression: none
  header[99] = 2; // png
  header[100] = Math.min(...entries.map((e) => e.z));
  header[101] = Math.max(...entries.map((e) => e.z));
  const e7 = (v: number) => Math.round(v * 1e7);
  const [w, s, e, n] = options.bounds;
  header.writeInt32LE(e7(w), 102); header.writeInt32LE(e7(s), 106); header.writeInt32LE(e7(e), 110); header.writeInt32LE(e7(n), 114);
  header[118] = options.center[2];
  header.writeInt32LE(e7(options.center[1]), 119); header.writeInt32LE(e7(options.center[0]), 123);
  mkdirSync(path.dirname(file), { recursive: true });
  const all = Buffer.concat([header, root, metadata, data]);
  writeFileSync(file, all);
  return { bytes: all.length };
}

/** An archive of solid tiles covering a box around (lat, lng) at zooms minZ..maxZ, one colour. */
export function writeTestArchive(file: string, around: { lat: number; lng: number }, zooms: [number, number], rgb: [number, number, number], radius = 2): { bytes: number; tiles: number } {
  const tile = solidPng(rgb);
  const tiles: TileSpec[] = [];
  for (let z = zooms[0]; z <= zooms[1]; z++) {
    const c = tileOf(around.lat, around.lng, z);
    const r = Math.min(radius, 2 ** z);
    for (let x = Math.max(0, c.x - r); x <= Math.min(2 ** z - 1, c.x + r); x++) {
      for (let y = Math.max(0, c.y - r); y <= Math.min(2 ** z - 1, c.y + r); y++) tiles.push({ z, x, y, data: tile });
    }
  }
  const d = 0.5;
  const { bytes } = writePmtiles(file, tiles, {
    bounds: [around.lng - d, around.lat - d, around.lng + d, around.lat + d], center: [around.lat, around.lng, zooms[0] + 1],
    metadata: { name: 'test tiles', attribution: 'test tiles' },
  });
  return { bytes, tiles: tiles.length };
}

export interface Box { west: number; south: number; east: number; north: number }

/**
 * An archive of raster tiles covering `box` at zooms minZ..maxZ, each drawn by `draw(z, x, y)`.
 * Returns its size and tile count.
 */
export function writeAreaArchive(file: string, box: Box, zooms: [number, number], draw: (z: number, x: number, y: number) => Buffer, metadata: Record<string, unknown>): { bytes: number; tiles: number } {
  const tiles: TileSpec[] = [];
  for (let z = zooms[0]; z <= zooms[1]; z++) {
    const nw = tileOf(box.north, box.west, z);
    const se = tileOf(box.south, box.east, z);
    for (let x = nw.x; x <= se.x; x++) for (let y = nw.y; y <= se.y; y++) tiles.push({ z, x, y, data: draw(z, x, y) });
  }
  const { bytes } = writePmtiles(file, tiles, {
    bounds: [box.west, box.south, box.east, box.north],
    center: [(box.south + box.north) / 2, (box.west + box.east) / 2, Math.min(zooms[1], zooms[0] + 3)],
    metadata,
  });
  return { bytes, tiles: tiles.length };
}
