import { judge, type ScaleDayRecord } from './samples';

/**
 * The scale-day chart as SVG, from the record alone: replicas, Pending pods and Ready worker nodes
 * per AZ on the left axis, p95 latency on the right one, the load's phases as bands, the p95 limit
 * and when scale-out finished against the objective as markers.
 */

const W = 960;
const H = 580;
const M = { left: 64, right: 76, top: 76, bottom: 130 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#8c564b', '#17becf', '#bcbd22', '#e377c2'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** Tick values from 0 covering `max` with a 1/2/5 × 10^k step, about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  const top = max > 0 ? max : 1;
  const raw = top / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v < top + step - 1e-9; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

export interface Series {
  readonly name: string;
  readonly axis: 'left' | 'right';
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly dashed?: boolean;
  /** A count sampled as state: drawn as steps (it held its value until the next sample). */
  readonly steps?: boolean;
  /** Stroke width; the nodes-per-AZ lines narrow one after the other so equal counts stay visible as nested lines. @default 2 */
  readonly width?: number;
}

/** The series the chart draws, in legend order. */
export function chartSeries(record: ScaleDayRecord): Series[] {
  const azs = [...new Set(record.samples.flatMap((s) => Object.keys(s.nodesPerAz)))].sort();
  return [
    { name: `replicas (${record.hpa.name}, HPA current)`, axis: 'left', points: record.samples.map((s) => [s.t, s.replicas]), steps: true },
    { name: 'Ready replicas', axis: 'left', points: record.samples.map((s) => [s.t, s.readyReplicas]), steps: true, dashed: true },
    { name: "the app's Pending pods", axis: 'left', points: record.samples.map((s) => [s.t, s.appPendingPods]), steps: true, dashed: true },
    ...azs.map((az, i): Series => ({ name: `Ready worker nodes ${az}`, axis: 'left', points: record.samples.map((s) => [s.t, s.nodesPerAz[az] ?? 0]), steps: true, width: Math.max(1.5, 6 - i * 2) })),
    { name: 'p95 latency (ms, right axis)', axis: 'right', points: record.load.map((w) => [w.t + w.seconds / 2, w.p95Ms]) },
  ];
}

export function renderChart(record: ScaleDayRecord): string {
  const series = chartSeries(record);
  const verdict = judge(record);
  const { rampUp, hold, rampDown } = record.phases;
  const tMax = Math.max(rampUp + hold + rampDown, ...series.flatMap((s) => s.points.map(([t]) => t)));
  const xTicks = niceTicks(tMax, 8);
  const xTop = xTicks[xTicks.length - 1];
  const leftTicks = niceTicks(Math.max(record.hpa.maxReplicas, record.limits.expectReplicas ?? 0, ...series.filter((s) => s.axis === 'left').flatMap((s) => s.points.map(([, v]) => v))), 5);
  // Headroom above the p95 limit, so its line and label sit inside the plot.
  const rightTicks = niceTicks(Math.max(record.limits.maxP95Ms * 1.2, ...series.filter((s) => s.axis === 'right').flatMap((s) => s.points.map(([, v]) => v))), 5);
  const leftTop = leftTicks[leftTicks.length - 1];
  const rightTop = rightTicks[rightTicks.length - 1];
  const x = (t: number): number => M.left + (t / xTop) * PLOT_W;
  const y = (v: number, axis: 'left' | 'right'): number => M.top + PLOT_H - (v / (axis === 'left' ? leftTop : rightTop)) * PLOT_H;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(`Scale day: ${record.cluster}, ${record.rate} req/s on ${record.target.host} (${record.startedAt.slice(0, 16).replace('T', ' ')} UTC)`)}</text>`);
  // Where the samples came from (a test double is said so) and the verdict's reasons, under the title.
  const subtitle = [record.source ? `source: ${record.source.split(' (')[0].split(':')[0]}` : 'source: a real run', verdict.ok ? 'passed' : `failed: ${verdict.failures.length} check(s)`, ...(record.problem || record.totals === null ? ['incomplete run (see the summary)'] : []), verdict.noScaleOut ? 'no scale-out observed (inconclusive)' : `HPA asked for ${verdict.peakDesired} of the expected ${verdict.expectReplicas}`].join(' · ');
  out.push(`<text x="${W / 2}" y="40" text-anchor="middle" font-size="12" fill="${verdict.ok ? '#2a7a2a' : '#b00020'}">${esc(subtitle)}</text>`);
  // Load phases.
  const phases: Array<[string, number, number, string]> = [
    ['ramp up', 0, rampUp, '#fff4e0'],
    ['hold', rampUp, rampUp + hold, '#ffe8c2'],
    ['ramp down', rampUp + hold, rampUp + hold + rampDown, '#fff4e0'],
  ];
  for (const [name, a, b, fill] of phases) {
    if (b <= a) continue;
    out.push(`<rect x="${x(a).toFixed(1)}" y="${M.top}" width="${(x(b) - x(a)).toFixed(1)}" height="${PLOT_H}" fill="${fill}"/>`);
    // A band too narrow for its name is labelled above the plot, from its start.
    const wide = x(b) - x(a) >= name.length * 7 + 8;
    out.push(wide ? `<text x="${((x(a) + x(b)) / 2).toFixed(1)}" y="${M.top + 14}" text-anchor="middle" fill="#8a5a00">${name}</text>` : `<text x="${x(a).toFixed(1)}" y="${M.top - 6}" text-anchor="start" fill="#8a5a00">${name}</text>`);
  }
  // Grid and axes.
  for (const v of leftTicks) {
    const yy = y(v, 'left').toFixed(1);
    out.push(`<line x1="${M.left}" y1="${yy}" x2="${M.left + PLOT_W}" y2="${yy}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${M.left - 8}" y="${yy}" dy="4" text-anchor="end">${fmt(v)}</text>`);
  }
  for (const v of rightTicks) out.push(`<text x="${M.left + PLOT_W + 8}" y="${y(v, 'right').toFixed(1)}" dy="4" text-anchor="start">${fmt(v)}</text>`);
  for (const t of xTicks) {
    const xx = x(t).toFixed(1);
    out.push(`<line x1="${xx}" y1="${M.top + PLOT_H}" x2="${xx}" y2="${M.top + PLOT_H + 5}" stroke="#333"/>`);
    out.push(`<text x="${xx}" y="${M.top + PLOT_H + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${M.left + PLOT_W / 2}" y="${M.top + PLOT_H + 36}" text-anchor="middle">seconds since the load started</text>`);
  out.push(`<text transform="translate(18 ${M.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle">pods, nodes</text>`);
  out.push(`<text transform="translate(${W - 16} ${M.top + PLOT_H / 2}) rotate(90)" text-anchor="middle">p95 latency (ms)</text>`);
  // Markers: p95 limit (right axis), scale-out done and the objective (vertical).
  const limitY = y(record.limits.maxP95Ms, 'right').toFixed(1);
  out.push(`<line x1="${M.left}" y1="${limitY}" x2="${M.left + PLOT_W}" y2="${limitY}" stroke="#ff7f0e" stroke-dasharray="2 4"/>`);
  out.push(`<text x="${M.left + PLOT_W - 4}" y="${limitY}" dy="-4" text-anchor="end" fill="#ff7f0e">p95 limit ${record.limits.maxP95Ms} ms</text>`);
  const expectY = y(verdict.expectReplicas, 'left').toFixed(1);
  out.push(`<line x1="${M.left}" y1="${expectY}" x2="${M.left + PLOT_W}" y2="${expectY}" stroke="#555555" stroke-dasharray="2 4"/>`);
  out.push(`<text x="${M.left + 4}" y="${expectY}" dy="-4" fill="#555555">${esc(`expected ${verdict.expectReplicas} replicas`)}</text>`);
  const vline = (t: number, label: string, color: string, dy: number): void => {
    const xx = x(Math.min(t, xTop)).toFixed(1);
    out.push(`<line x1="${xx}" y1="${M.top}" x2="${xx}" y2="${M.top + PLOT_H}" stroke="${color}" stroke-dasharray="6 3"/>`);
    out.push(`<text x="${xx}" y="${M.top + dy}" dx="4" fill="${color}">${esc(label)}</text>`);
  };
  if (record.limits.scaleOutSeconds !== undefined) vline(record.limits.scaleOutSeconds, `objective ${record.limits.scaleOutSeconds} s`, '#555555', 46);
  if (verdict.scaleOutSeconds !== null) vline(verdict.scaleOutSeconds, `scaled out: ${verdict.scaleOutSeconds} s`, '#1f77b4', 30);
  // Series.
  series.forEach((s, i) => {
    const color = s.axis === 'right' ? '#ff7f0e' : PALETTE[i % PALETTE.length];
    if (s.points.length === 0) return;
    const d = s.points
      .map(([t, v], k) => {
        const xy = `${x(t).toFixed(1)},${y(v, s.axis).toFixed(1)}`;
        if (k === 0) return `M${xy}`;
        // Steps: the previous value holds until this sample, then changes.
        return s.steps ? `H${x(t).toFixed(1)} V${y(v, s.axis).toFixed(1)}` : `L${xy}`;
      })
      .join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${s.width ?? 2}"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
  });
  // Legend: two columns under the axis title.
  series.forEach((s, i) => {
    const color = s.axis === 'right' ? '#ff7f0e' : PALETTE[i % PALETTE.length];
    const lx = M.left + (i % 2) * (PLOT_W / 2);
    const ly = M.top + PLOT_H + 58 + Math.floor(i / 2) * 18;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 26}" y2="${ly}" stroke="${color}" stroke-width="${s.width ?? 2}"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    out.push(`<text x="${lx + 32}" y="${ly}" dy="4">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
