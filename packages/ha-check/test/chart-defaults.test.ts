import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { CLOUD_CONTROLLER_CHART, HOST_NETWORK_DEFAULTS, chartHostNetwork } from '../src/private/chart-defaults';

const root = resolve(__dirname, '..', '..', '..');
// The stored upstream charts beside the repository (in CI: a fresh clone with shared/ next to it).
const charts = resolve(root, '../shared/charts');

const at = (v: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), v);

/** The chart versions the shipped clusters' HelmReleases pin. */
function pinnedVersions(): Map<string, string> {
  const dir = join(root, 'clusters/production');
  const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.yaml') ? [join(d, e.name)] : []));
  const out = new Map<string, string>();
  for (const f of files(dir)) {
    for (const doc of loadAll(readFileSync(f, 'utf8'))) {
      const chart = at(doc, 'spec.chart.spec');
      if (at(doc, 'kind') === 'HelmRelease' && typeof at(chart, 'chart') === 'string') out.set(String(at(chart, 'chart')), String(at(chart, 'version')));
    }
  }
  return out;
}

describe('chart hostNetwork defaults (chart-defaults.ts) are the stored charts\' own', () => {
  it('the stored charts are there (a missing ../shared fails, never passes)', () => {
    expect(existsSync(charts), `${charts} is missing: clone shared/ beside the repository`).toBe(true);
  });

  it.each(HOST_NETWORK_DEFAULTS.map((d) => [`${d.chart} ${d.version} ${d.component ?? '(main)'}`, d] as const))('%s: the default matches values.yaml and the version is the one the clusters pin', (_, d) => {
    expect(pinnedVersions().get(d.chart)).toBe(d.version);
    const file = join(charts, d.chart, d.version, ...(d.source.subchart ? ['charts', d.source.subchart] : []), 'values.yaml');
    expect(existsSync(file), `${file} is missing`).toBe(true);
    const values = load(readFileSync(file, 'utf8'));
    if (d.source.key) expect(at(values, d.source.key)).toBe(d.hostNetwork);
    // A template-fixed default has no values key at all (a key would mean the table should read it).
    else expect(d.valuesPath).toBeUndefined();
  });

  it('our values override the default; without a key the chart default holds; unknown components are left to the values', () => {
    expect(chartHostNetwork('cilium', 'operator', {})).toBe(true);
    expect(chartHostNetwork('cilium', 'operator', { operator: { hostNetwork: false } })).toBe(false);
    expect(chartHostNetwork('kube-prometheus-stack', 'node-exporter', { 'prometheus-node-exporter': { hostNetwork: false } })).toBe(false);
    expect(chartHostNetwork('kube-prometheus-stack', 'node-exporter', { 'node-exporter': { hostNetwork: false } })).toBe(true);
    expect(chartHostNetwork('cilium', 'agent', { hostNetwork: false })).toBe(true);
    expect(chartHostNetwork('kube-prometheus-stack', 'grafana', {})).toBeUndefined();
  });
});

describe("the cloud controller's rendered defaults (chart-defaults.ts) are the stored chart's values.yaml", () => {
  it('each key the template renders holds the stored default, at the version the clusters pin', () => {
    const { chart, version, values } = CLOUD_CONTROLLER_CHART;
    expect(pinnedVersions().get(chart)).toBe(version);
    const file = join(charts, chart, version, 'values.yaml');
    expect(existsSync(file), `${file} is missing: clone shared/ beside the repository`).toBe(true);
    const stored = load(readFileSync(file, 'utf8')) as Record<string, unknown>;
    for (const [key, value] of Object.entries(values)) expect(stored[key], key).toEqual(value);
    // Keys the template never renders are not in the chart's values either.
    for (const key of ['affinity', 'topologySpreadConstraints', 'priorityClassName']) expect(stored[key], key).toBeUndefined();
  });
});

