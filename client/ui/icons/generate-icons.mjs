// Generates the apps' icons (PNG and SVG) and web manifests into client/ui/public/.
// Run: node client/ui/icons/generate-icons.mjs  (the output is committed; the build only copies it)
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

const out = path.resolve(import.meta.dirname, '../public');

/** One entry per installable app: colour, short name, start URL. */
export const APPS = {
  login: { name: 'fieldsync sign-in', short: 'fieldsync', color: '#263238', start: '/', scope: '/', letter: 'F' },
  crew: { name: 'fieldsync Crew ePCR', short: 'Crew ePCR', color: '#b00020', start: '/crew/', scope: '/crew/', letter: 'C' },
  mdt: { name: 'fieldsync Mobile Data Terminal', short: 'MDT', color: '#0b5394', start: '/mdt/', scope: '/mdt/', letter: 'M' },
  tech: { name: 'fieldsync Technician', short: 'Technician', color: '#1b5e20', start: '/tech/', scope: '/tech/', letter: 'T' },
  dispatch: { name: 'fieldsync Dispatch console', short: 'Dispatch', color: '#4a148c', start: '/dispatch/', scope: '/dispatch/', letter: 'D' },
  office: { name: 'fieldsync Field-service office', short: 'Office', color: '#e65100', start: '/office/', scope: '/office/', letter: 'O' },
};

function hex(color) {
  return [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
}

/** A plain PNG encoder: RGBA, no filtering, one IDAT. */
function png(size, pixel) {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x + 0.5, y + 0.5);
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = r; raw[o + 1] = g; raw[o + 2] = b; raw[o + 3] = a;
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A white plus (a simple "care" mark) on the app colour; `maskable` fills the whole square. */
function icon(size, color, maskable) {
  const [r, g, b] = hex(color);
  const radius = maskable ? 0 : size * 0.18;
  const arm = size * (maskable ? 0.22 : 0.28);
  const bar = size * (maskable ? 0.08 : 0.1);
  const c = size / 2;
  return png(size, (x, y) => {
    // rounded-square mask
    const dx = Math.max(radius - x, 0, x - (size - radius));
    const dy = Math.max(radius - y, 0, y - (size - radius));
    if (radius > 0 && dx * dx + dy * dy > radius * radius) return [0, 0, 0, 0];
    const inPlus = (Math.abs(x - c) <= bar && Math.abs(y - c) <= arm) || (Math.abs(y - c) <= bar && Math.abs(x - c) <= arm);
    return inPlus ? [255, 255, 255, 255] : [r, g, b, 255];
  });
}

function svg(color, letter) {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" rx="92" fill="${color}"/>` +
    `<path d="M205 112h102v93h93v102h-93v93H205v-93h-93V205h93z" fill="#fff"/>` +
    `<text x="256" y="286" font-family="sans-serif" font-size="96" font-weight="700" text-anchor="middle" fill="${color}">${letter}</text></svg>\n`;
}

mkdirSync(path.join(out, 'icons'), { recursive: true });
for (const [key, app] of Object.entries(APPS)) {
  writeFileSync(path.join(out, 'icons', `${key}-192.png`), icon(192, app.color, false));
  writeFileSync(path.join(out, 'icons', `${key}-512.png`), icon(512, app.color, false));
  writeFileSync(path.join(out, 'icons', `${key}-maskable-512.png`), icon(512, app.color, true));
  writeFileSync(path.join(out, 'icons', `${key}.svg`), svg(app.color, app.letter));
  const manifest = {
    id: app.start,
    name: app.name,
    short_name: app.short,
    start_url: app.start,
    scope: app.scope,
    display: 'standalone',
    orientation: key === 'tech' ? 'portrait' : 'any',
    background_color: '#000000',
    theme_color: app.color,
    icons: [
      { src: `/icons/${key}.svg`, sizes: 'any', type: 'image/svg+xml' },
      { src: `/icons/${key}-192.png`, sizes: '192x192', type: 'image/png' },
      { src: `/icons/${key}-512.png`, sizes: '512x512', type: 'image/png' },
      { src: `/icons/${key}-maskable-512.png`, sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    ],
  };
  const dir = key === 'login' ? out : path.join(out, key);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'manifest.webmanifest'), JSON.stringify(manifest, null, 2) + '\n');
}
console.log(`icons and manifests written to ${out}`);
