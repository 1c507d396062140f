import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartSeries, niceTicks, renderChart } from '../src/operations/scale-day/chart';
import { judge, type ScaleDayRecord } from '../src/operations/scale-day/samples';
import { renderScaleDaySummary } from '../src/operations/scale-day/summary';
import { ROOT } from './support/infra-synth';

/** The recorded sample file (from the fake cluster; see its `source`): chart and summary come from it alone. */
const record = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'scale-day', 'samples.json'), 'utf8')) as ScaleDayRecord;
const svg = renderChart(record);

describe('scale-day chart and summary from the recorded samples', () => {
  it('ticks are 0 and 1/2/5 × 10^k steps covering the maximum', () => {
    expect(niceTicks(700, 8)).toEqual([0, 100, 200, 300, 400, 500, 600, 700]);
    expect(niceTicks(9, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it('draws one line per series (replicas, Ready replicas, Pending pods, nodes per AZ, p95 on the right axis), each with a legend entry', () => {
    const series = chartSeries(record);
    expect(series.map((s) => [s.name, s.axis])).toEqual([
      ['replicas (web/web, HPA current)', 'left'],
      ['Ready replicas', 'left'],
      ["the app's Pending pods", 'left'],
      ['Ready worker nodes ap-northeast-2a', 'left'],
      ['Ready worker nodes ap-northeast-2b', 'left'],
      ['Ready worker nodes ap-northeast-2c', 'left'],
      ['p95 latency (ms, right axis)', 'right'],
    ]);
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]);
    expect(paths).toHaveLength(series.length);
    // A count holds until the next sample (steps); latency is one point per k6 window.
    expect(paths[0].match(/[MH]/g)).toHaveLength(record.samples.length);
    expect(paths[6].match(/[ML]/g)).toHaveLength(record.load.length);
    for (const s of series) expect(svg).toContain(`>${s.name}</text>`);
  });

  it('has both axes with their ticks and titles, the phases, the p95 limit and the scale-out markers', () => {
    for (const t of [0, 100, 200, 300, 400, 500, 600, 700]) expect(svg).toContain(`text-anchor="middle">${t}</text>`);
    expect(svg).toContain('>seconds since the load started</text>');
    expect(svg).toContain('>pods, nodes</text>');
    expect(svg).toContain('>p95 latency (ms)</text>');
    for (const v of [0, 200, 400, 600]) expect(svg).toContain(`text-anchor="start">${v}</text>`);
    for (const p of ['ramp up', 'hold', 'ramp down']) expect(svg).toContain(`>${p}</text>`);
    expect(svg).toContain('>p95 limit 500 ms</text>');
    expect(svg).toContain('>objective 180 s</text>');
    expect(svg).toContain('>scaled out: 510 s</text>');
  });

  it('the summary: checks with limits, replicas, nodes added per AZ, and the failure', () => {
    expect(judge(record)).toMatchObject({ ok: false, peakDesired: 9, scaleOutSeconds: 510, expectReplicas: 12, expectReachedSeconds: null, noScaleOut: false });
    const md = renderScaleDaySummary(record, 'scale-day-production.svg');
    expect(md).toContain('## Scale day: production ❌');
    expect(md).toContain('| error rate | 2.33 % | ≤ 5.00 % | ✅ |');
    expect(md).toContain('| p95 latency (run) | 408 ms | ≤ 500 ms | ✅ |');
    expect(md).toContain('| scale-out | 510 s | ≤ 180 s (objectives.scaleOutSeconds) | ❌ |');
    expect(md).toContain('| HPA desired replicas | at most 9 | 12 (the HPA maximum) within 180 s (objectives.scaleOutSeconds) | ❌ |');
    expect(md).toContain('- ❌ scale-out took 510 s, above the objective scaleOutSeconds 180 s');
    expect(md).toContain('- ❌ the HPA asked for at most 9 replicas, never the expected 12');
    // The record says it came from the fake cluster; the summary and the chart say so too.
    expect(md).toContain('> **Not a real cluster:** recorded from test/support/fake-cluster.ts');
    expect(svg).toContain('>source: recorded from test/support/fake-cluster.ts · failed: 2 check(s) · HPA asked for 9 of the expected 12</text>');
    expect(svg).toContain('>expected 12 replicas</text>');
    expect(md).toContain('| ap-northeast-2a | 1 | 2 | 1 |');
    expect(md).toContain("3 → peak 9 replicas (the HPA asked for at most 9), 9 at the end; at most 6 pod(s) Pending in the cluster, 6 of the app's");
  });

  it('docs/scale-day-example.svg is this chart (npm run pipeline:scale-day-report regenerates it)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'scale-day-example.svg'), 'utf8')).toBe(svg);
  });
});
