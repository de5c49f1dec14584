// Hand-written SVG charts of a suite run (docs/operations.md#metrics: results as JSON plus a chart; no chart
// dependency). Grouped bars per workload and executor-count timelines.
import type { PolicyName } from './policies.js';
import type { Row } from './report.js';
import type { TimelinePoint } from './result.js';

const COLORS = ['#d62728', '#ff7f0e', '#7f7f7f', '#1f77b4', '#2ca02c', '#98df8a', '#9467bd'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function legend(policies: readonly string[], x: number, y: number): string {
  return policies
    .map(
      (p, i) =>
        `<rect x="${x}" y="${y + i * 16}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>` +
        `<text x="${x + 14}" y="${y + i * 16 + 9}" font-size="11">${esc(p)}</text>`,
    )
    .join('');
}

/** Grouped bars: one group per workload, one bar per policy, value from `metric`. */
export function barChart(
  title: string,
  rows: readonly Row[],
  policies: readonly PolicyName[],
  metric: (r: Row) => number,
  unit: string,
): string {
  const apps = [...new Set(rows.map((r) => r.app))];
  const W = Math.max(640, 60 + apps.length * (policies.length * 6 + 14) + 160);
  const H = 360;
  const left = 50;
  const top = 30;
  const plotH = H - top - 60;
  const max = rows.reduce((m, r) => Math.max(m, metric(r)), 1e-9);
  const groupW = (W - left - 170) / apps.length;
  const barW = Math.max(2, (groupW - 6) / policies.length);
  const bars: string[] = [];
  apps.forEach((app, g) => {
    const x0 = left + g * groupW;
    policies.forEach((p, i) => {
      const r = rows.find((x) => x.app === app && x.policy === p);
      if (!r) return;
      const h = (metric(r) / max) * plotH;
      bars.push(
        `<rect x="${(x0 + i * barW).toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[i % COLORS.length]}"><title>${esc(`${app} ${p}: ${metric(r).toFixed(3)} ${unit}`)}</title></rect>`,
      );
    });
    const label = esc(app.replace(/^tpch-/, ''));
    bars.push(
      `<text x="${(x0 + groupW / 2).toFixed(1)}" y="${top + plotH + 14}" font-size="10" text-anchor="middle">${label}</text>`,
    );
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const y = top + plotH - f * plotH;
      return `<line x1="${left}" x2="${W - 170}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${left - 4}" y="${y + 3}" font-size="10" text-anchor="end">${(f * max).toPrecision(3)}</text>`;
    })
    .join('');
  return svg(W, H, title, `${ticks}${bars.join('')}${legend(policies, W - 160, top)}`, unit);
}

/** Executors over time per policy for one workload (cf. Dexter Fig. 8). */
export function timelineChart(
  title: string,
  series: readonly { policy: string; points: readonly TimelinePoint[] }[],
): string {
  const W = 720;
  const H = 340;
  const left = 50;
  const top = 30;
  const plotW = W - left - 180;
  const plotH = H - top - 50;
  let tMax = 1;
  let yMax = 1;
  for (const s of series) {
    for (const p of s.points) {
      tMax = Math.max(tMax, p.t);
      yMax = Math.max(yMax, p.ready);
    }
  }
  const x = (t: number) => (left + (t / tMax) * plotW).toFixed(1);
  const y = (v: number) => (top + plotH - (v / yMax) * plotH).toFixed(1);
  const lines = series
    .map((s, i) => {
      const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${x(p.t)},${y(p.ready)}`).join('');
      return `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"/>`;
    })
    .join('');
  const axes =
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>` +
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>` +
    `<text x="${left + plotW / 2}" y="${H - 12}" font-size="11" text-anchor="middle">seconds (0–${tMax.toFixed(0)})</text>` +
    `<text x="${left - 6}" y="${top + 4}" font-size="10" text-anchor="end">${yMax}</text>` +
    `<text x="${left - 6}" y="${top + plotH}" font-size="10" text-anchor="end">0</text>`;
  return svg(
    W,
    H,
    title,
    `${axes}${lines}${legend(
      series.map((s) => s.policy),
      W - 170,
      top,
    )}`,
    'ready executors',
  );
}

function svg(w: number, h: number, title: string, body: string, unit: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="10" y="18" font-size="13" font-weight="bold">${esc(title)}</text>` +
    `<text x="10" y="${h - 4}" font-size="10" fill="#666">${esc(unit)}</text>${body}</svg>\n`
  );
}
