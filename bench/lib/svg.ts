/**
 * The summary chart, written by hand (no chart library): bulk throughput bars and GPS-fleet
 * latency percentiles per system. Plain SVG 1.1 that any browser or image viewer opens.
 */
export interface ChartSystem { key: string; label: string; color: string }

export interface ThroughputGroup {
  label: string;
  /** docs/s by system key; null when the system was not run. */
  values: Record<string, number | null>;
}

export interface LatencyGroup {
  label: string;
  /** p50/p95/p99 in ms by system key; null when the system was not run. */
  values: Record<string, { p50: number; p95: number; p99: number; note?: string } | null>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (n: number) => (n === 0 ? '0' : n >= 10_000 ? `${(n / 1000).toFixed(0)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function throughputPanel(x0: number, y0: number, w: number, h: number, systems: ChartSystem[], groups: ThroughputGroup[]): string {
  const out: string[] = [];
  out.push(text(x0, y0 - 8, 'Bulk throughput, docs/s (higher is better; median of rounds)', 'font-weight="bold" font-size="14"'));
  const max = niceMax(Math.max(...groups.flatMap((g) => Object.values(g.values).filter((v): v is number => v !== null))));
  const left = x0 + 50;
  const plotW = w - 60;
  const bottom = y0 + h - 30;
  const plotH = h - 50;
  for (let i = 0; i <= 5; i++) {
    const v = (max * i) / 5;
    const y = bottom - (plotH * i) / 5;
    out.push(`<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#ddd"/>`);
    out.push(text(left - 6, y + 4, fmt(v), 'text-anchor="end" font-size="11" fill="#555"'));
  }
  const groupW = plotW / groups.length;
  const barW = Math.min(36, (groupW - 20) / systems.length);
  groups.forEach((g, gi) => {
    const gx = left + gi * groupW + (groupW - barW * systems.length) / 2;
    systems.forEach((s, si) => {
      const v = g.values[s.key];
      const x = gx + si * barW;
      if (v === null || v === undefined) {
        out.push(text(x + barW / 2, bottom - 4, 'n/a', 'text-anchor="middle" font-size="9" fill="#999"'));
        return;
      }
      const bh = (plotH * v) / max;
      out.push(`<rect x="${(x + 1).toFixed(1)}" y="${(bottom - bh).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${s.color}"><title>${esc(`${s.label} ${g.label}: ${v.toFixed(0)} docs/s`)}</title></rect>`);
      out.push(text(x + barW / 2, bottom - bh - 3, fmt(v), 'text-anchor="middle" font-size="9" fill="#333"'));
    });
    out.push(text(left + gi * groupW + groupW / 2, bottom + 16, g.label, 'text-anchor="middle" font-size="11"'));
  });
  out.push(`<line x1="${left}" y1="${bottom}" x2="${left + plotW}" y2="${bottom}" stroke="#333"/>`);
  return out.join('\n');
}

function latencyPanel(x0: number, y0: number, w: number, h: number, systems: ChartSystem[], groups: LatencyGroup[]): string {
  const out: string[] = [];
  out.push(text(x0, y0 - 8, 'GPS fleet: device write → dispatcher, ms (log scale, lower is better; bars p50 / p95 / p99)', 'font-weight="bold" font-size="14"'));
  const all = groups.flatMap((g) => Object.values(g.values).filter((v) => v !== null).flatMap((v) => [v!.p50, v!.p95, v!.p99]));
  const lo = 1;
  const hi = 10 ** Math.ceil(Math.log10(Math.max(10, ...all)));
  const left = x0 + 50;
  const plotW = w - 60;
  const bottom = y0 + h - 30;
  const plotH = h - 50;
  const yOf = (v: number) => bottom - (plotH * (Math.log10(Math.max(lo, v)) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  for (let d = lo; d <= hi; d *= 10) {
    out.push(`<line x1="${left}" y1="${yOf(d)}" x2="${left + plotW}" y2="${yOf(d)}" stroke="#ddd"/>`);
    out.push(text(left - 6, yOf(d) + 4, fmt(d), 'text-anchor="end" font-size="11" fill="#555"'));
  }
  const groupW = plotW / groups.length;
  const clusterW = Math.min(66, (groupW - 20) / systems.length);
  const barW = clusterW / 3;
  groups.forEach((g, gi) => {
    const gx = left + gi * groupW + (groupW - clusterW * systems.length) / 2;
    systems.forEach((s, si) => {
      const v = g.values[s.key];
      const cx = gx + si * clusterW;
      if (!v) {
        out.push(text(cx + clusterW / 2, bottom - 4, 'not run', 'text-anchor="middle" font-size="9" fill="#999"'));
        return;
      }
      (['p50', 'p95', 'p99'] as const).forEach((p, pi) => {
        const y = yOf(v[p]);
        const opacity = [1, 0.7, 0.45][pi];
        out.push(`<rect x="${(cx + pi * barW + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(bottom - y).toFixed(1)}" fill="${s.color}" fill-opacity="${opacity}"><title>${esc(`${s.label} ${g.label} ${p}: ${v[p].toFixed(1)} ms`)}</title></rect>`);
      });
      out.push(text(cx + clusterW / 2, yOf(v.p99) - 3, fmt(v.p99), 'text-anchor="middle" font-size="9" fill="#333"'));
      if (v.note) out.push(text(cx + clusterW / 2, bottom + 28, v.note, 'text-anchor="middle" font-size="8" fill="#555"'));
    });
    out.push(text(left + gi * groupW + groupW / 2, bottom + 16, g.label, 'text-anchor="middle" font-size="11"'));
  });
  out.push(`<line x1="${left}" y1="${bottom}" x2="${left + plotW}" y2="${bottom}" stroke="#333"/>`);
  return out.join('\n');
}

export function summarySvg(input: { title: string; subtitle: string[]; systems: ChartSystem[]; throughput: ThroughputGroup[]; latency: LatencyGroup[]; notes: string[] }): string {
  const width = 980;
  const panelH = 300;
  const top = 40 + input.subtitle.length * 16 + 30;
  const legendY = top + panelH * 2 + 78;
  const height = legendY + 30 + input.notes.length * 14 + 20;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`);
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(text(20, 28, input.title, 'font-weight="bold" font-size="18"'));
  input.subtitle.forEach((s, i) => parts.push(text(20, 48 + i * 16, s, 'font-size="12" fill="#444"')));
  parts.push(throughputPanel(20, top, width - 40, panelH, input.systems, input.throughput));
  parts.push(latencyPanel(20, top + panelH + 50, width - 40, panelH, input.systems, input.latency));
  input.systems.forEach((s, i) => {
    const x = 20 + i * Math.floor((width - 40) / input.systems.length);
    parts.push(`<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${s.color}"/>`);
    parts.push(text(x + 18, legendY, s.label, 'font-size="12"'));
  });
  input.notes.forEach((n, i) => parts.push(text(20, legendY + 24 + i * 14, n, 'font-size="10" fill="#444"')));
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
