/**
 * An agency's tile archive: a PMTiles v3 file in DATA_DIR/tiles/, read on the server with the
 * `pmtiles` library (the same reader the apps use, so the byte ranges planned for an offline area
 * are the ones the apps' map asks for), and served by byte range (range.ts).
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { PMTiles, TileType, type RangeResponse, type Source } from 'pmtiles';
import type { MapArea, MapTiles, OfflinePlanBody } from '../../shared/protocol/index.ts';
import { tileRangeAt, tilesInArea, MAX_OFFLINE_TILES } from '../agencies/map-settings.ts';

/** Where archives live: a folder of DATA_DIR, so a setting names a file and never a path. */
export function tileArchivePath(dataDir: string, name: string): string {
  return path.join(dataDir, 'tiles', name);
}

export interface ArchiveFile {
  file: string;
  size: number;
  /** Strong: the file's size and modification time, so a replaced archive has another. */
  etag: string;
}

export async function archiveFile(file: string): Promise<ArchiveFile | undefined> {
  try {
    const s = await stat(file);
    if (!s.isFile()) return undefined;
    return { file, size: s.size, etag: `"${s.size.toString(16)}-${Math.round(s.mtimeMs).toString(16)}"` };
  } catch {
    return undefined;
  }
}

/** A pmtiles Source over a local file that also notes every range read (the offline plan). */
class FileRangeSource implements Source {
  readonly read: [number, number][] = [];
  constructor(private readonly archive: ArchiveFile) {}
  getKey(): string { return this.archive.file; }
  async getBytes(offset: number, length: number): Promise<RangeResponse> {
    const end = Math.min(this.archive.size, offset + length);
    this.read.push([offset, end - offset]);
    const handle = await open(this.archive.file, 'r');
    try {
      const buffer = Buffer.alloc(Math.max(0, end - offset));
      await handle.read(buffer, 0, buffer.length, offset);
      return { data: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength), etag: this.archive.etag };
    } finally {
      await handle.close();
    }
  }
}

const TILE_TYPES: Partial<Record<TileType, Extract<MapTiles, { kind: 'archive' }>['tileType']>> = {
  [TileType.Png]: 'png', [TileType.Jpeg]: 'jpeg', [TileType.Webp]: 'webp', [TileType.Mvt]: 'mvt',
};

export class InvalidArchive extends Error {
  override name = 'InvalidArchive';
}

/** What the apps' map needs to know of an archive (its header and metadata), cached per etag. */
const described = new Map<string, Extract<MapTiles, { kind: 'archive' }>>();

export async function describeArchive(archive: ArchiveFile, attribution?: string): Promise<Extract<MapTiles, { kind: 'archive' }>> {
  const key = `${archive.file}|${archive.etag}|${attribution ?? ''}`;
  const known = described.get(key);
  if (known) return known;
  const tiles = new PMTiles(new FileRangeSource(archive));
  let header;
  let metadata: Record<string, unknown> = {};
  try {
    header = await tiles.getHeader();
    metadata = ((await tiles.getMetadata()) ?? {}) as Record<string, unknown>;
  } catch (error) {
    throw new InvalidArchive(`${path.basename(archive.file)} is not a PMTiles v3 archive (${(error as Error).message})`);
  }
  const layers = Array.isArray(metadata['vector_layers']) ? (metadata['vector_layers'] as { id?: unknown }[]).map((l) => String(l.id)).filter(Boolean) : undefined;
  const given = attribution ?? (typeof metadata['attribution'] === 'string' ? metadata['attribution'] : undefined);
  const description: Extract<MapTiles, { kind: 'archive' }> = {
    kind: 'archive', etag: archive.etag, tileType: TILE_TYPES[header.tileType] ?? 'unknown',
    minZoom: header.minZoom, maxZoom: header.maxZoom,
    bounds: { west: header.minLon, south: header.minLat, east: header.maxLon, north: header.maxLat },
    center: { lat: header.centerLat, lng: header.centerLon, zoom: header.centerZoom },
    ...(layers?.length ? { vectorLayers: layers } : {}),
    ...(given ? { attribution: given } : {}),
  };
  if (described.size > 100) described.clear();
  described.set(key, description);
  return description;
}

/**
 * The byte ranges of the archive a device needs to draw `area` with no network: the header and
 * root directory, the leaf directories on the way, and the tiles of the box at each zoom of the
 * band (clipped to the archive's own zooms). Ranges next to each other are joined.
 */
export async function offlinePlan(archive: ArchiveFile, area: MapArea): Promise<OfflinePlanBody> {
  if (tilesInArea(area) > MAX_OFFLINE_TILES) throw new InvalidArchive(`the offline area covers more than ${MAX_OFFLINE_TILES} tiles`);
  const source = new FileRangeSource(archive);
  const tiles = new PMTiles(source);
  const header = await tiles.getHeader();
  let count = 0;
  for (let z = Math.max(area.minZoom, header.minZoom); z <= Math.min(area.maxZoom, header.maxZoom); z++) {
    const r = tileRangeAt(area, z);
    for (let x = r.x0; x <= r.x1; x++) {
      for (let y = r.y0; y <= r.y1; y++) {
        if (await tiles.getZxy(z, x, y)) count++;
      }
    }
  }
  const sorted = [...source.read].filter(([, length]) => length > 0).sort((a, b) => a[0] - b[0]);
  const ranges: [number, number][] = [];
  for (const [offset, length] of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && offset <= last[0] + last[1]) last[1] = Math.max(last[1], offset + length - last[0]);
    else ranges.push([offset, length]);
  }
  return { etag: archive.etag, area, ranges, bytes: ranges.reduce((sum, [, length]) => sum + length, 0), tiles: count, archiveBytes: archive.size };
}
