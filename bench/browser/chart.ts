/** bench:browser's chart (bench/results/browser.svg): horizontal bars per group, drawn by hand (no chart dependency). */
export interface Bar { label: string; value: number | null; text: string; color: string }
export interface BarGroup { title: string; unit: string; bars: Bar[]; note?: string }

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function barsSvg(input: { title: string; subtitle: string[]; groups: BarGroup[] }): string {
  const width = 860;
  const labelW = 300;
  const barW = 400;
  const rowH = 22;
  let y = 30 + input.subtitle.length * 16 + 10;
  const parts: string[] = [];
  parts.push(`<text x="16" y="26" font-size="16" font-weight="bold">${esc(input.title)}</text>`);
  input.subtitle.forEach((line, i) => parts.push(`<text x="16" y="${46 + i * 16}" font-size="11" fill="#555">${esc(line)}</text>`));
  for (const group of input.groups) {
    y += 14;
    parts.push(`<text x="16" y="${y}" font-size="13" font-weight="bold">${esc(group.title)}</text>`);
    y += 8;
    const max = Math.max(1e-9, ...group.bars.map((b) => b.value ?? 0));
    for (const bar of group.bars) {
      const w = bar.value === null ? 0 : Math.max(1, (bar.value / max) * barW);
      parts.push(`<text x="16" y="${y + 15}" font-size="12">${esc(bar.label)}</text>`);
      parts.push(`<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${bar.color}"/>`);
      parts.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}" font-size="12">${esc(bar.text)}</text>`);
      y += rowH;
    }
    if (group.note) {
      parts.push(`<text x="16" y="${y + 12}" font-size="11" fill="#555">${esc(group.note)}</text>`);
      y += 16;
    }
  }
  y += 12;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}
