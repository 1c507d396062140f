import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { DEFAULT_OBJECTIVES, buildManifestModel, runHaCheck, type K8sObject } from '../src';
import { HaCheckInputError } from '../src/input-error';
import { CLOUD_CONTROLLER_CHART, HOST_NETWORK_DEFAULTS, chartHostNetwork } from '../src/private/chart-defaults';
import { CHART_WORKLOADS } from '../src/private/chart-workloads';
import { StoredCharts } from '../src/private/stored-charts';
import { pinnedChartVersions } from '../bench/pinned-charts';
import { tempDir, writeFixture } from './helpers';

const root = resolve(__dirname, '..', '..', '..');
// The stored upstream charts beside the repository (in CI: a fresh clone with shared/ next to it).
const charts = resolve(root, '../shared/charts');

const at = (v: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), v);

const pinnedVersions = pinnedChartVersions;

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

describe('chart defaults are read from the stored values.yaml of the version each release pins', () => {
  const release = (chart: string, version: string | undefined, values: Record<string, unknown> = {}): K8sObject =>
    ({ apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name: chart, namespace: 'kube-system' }, spec: { chart: { spec: { chart, ...(version ? { version } : {}) } }, values } }) as K8sObject;
  /** A copy of the stored charts with one chart's values.yaml edited. */
  const editedCharts = (chart: string, edit: (values: Record<string, unknown>) => void): StoredCharts => {
    const dir = tempDir();
    const version = pinnedVersions().get(chart) as string;
    // Every stored chart's values (the bootstrap add-ons are read too), this one edited.
    for (const [c, v] of pinnedVersions()) {
      if (!existsSync(join(charts, c, v))) continue;
      mkdirSync(join(dir, c, v), { recursive: true });
      cpSync(join(charts, c, v, 'values.yaml'), join(dir, c, v, 'values.yaml'));
      if (existsSync(join(charts, c, v, 'charts'))) for (const sub of readdirSync(join(charts, c, v, 'charts'))) if (existsSync(join(charts, c, v, 'charts', sub, 'values.yaml'))) {
        mkdirSync(join(dir, c, v, 'charts', sub), { recursive: true });
        cpSync(join(charts, c, v, 'charts', sub, 'values.yaml'), join(dir, c, v, 'charts', sub, 'values.yaml'));
      }
    }
    const values = load(readFileSync(join(charts, chart, version, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    edit(values);
    writeFileSync(join(dir, chart, version, 'values.yaml'), JSON.stringify(values));
    return new StoredCharts(dir);
  };

  it('every chart ha-check models from stored defaults is stored at the version the clusters pin (a missing ../shared fails)', () => {
    const stored = Object.entries(CHART_WORKLOADS).filter(([, m]) => m.defaults === 'stored').map(([chart]) => chart);
    expect(stored.sort()).toEqual(['aws-cloud-controller-manager', 'aws-ebs-csi-driver', 'cilium', 'cloudnative-pg', 'cluster-autoscaler', 'kube-prometheus-stack', 'metrics-server', 'traefik']);
    for (const chart of stored) {
      const version = pinnedVersions().get(chart);
      expect(version, `${chart} is pinned by clusters/production`).toBeDefined();
      expect(existsSync(join(charts, chart, String(version), 'values.yaml')), `${charts}/${chart}/${version}/values.yaml`).toBe(true);
    }
  });

  it('a changed default in the stored values changes the judgement: metrics-server replicas 1 → 2 is no longer a single replica', () => {
    const shipped = buildManifestModel([release('metrics-server', pinnedVersions().get('metrics-server'))]);
    expect(shipped.workloads.find((w) => w.id === 'HelmRelease/kube-system/metrics-server')).toMatchObject({ replicas: 1, requests: { cpuMilli: 100, memoryMiB: 200 } });
    const edited = editedCharts('metrics-server', (v) => {
      v.replicas = 2;
      v.resources = { requests: { cpu: '250m', memory: '300Mi' } };
    });
    const model = buildManifestModel([release('metrics-server', pinnedVersions().get('metrics-server'))], { charts: edited });
    expect(model.workloads.find((w) => w.id === 'HelmRelease/kube-system/metrics-server')).toMatchObject({ replicas: 2, requests: { cpuMilli: 250, memoryMiB: 300 } });
    // The whole check on a cluster whose metrics-server values leave the replicas to the chart: one is an AZ-loss error, two are not.
    const f = writeFixture({ addons: ['cloud-controller', 'cluster-autoscaler', 'ebs-csi', 'coredns'] });
    appendFileSync(join(f.manifests, 'infrastructure', 'resources.yaml'), `---\n${JSON.stringify(release('metrics-server', pinnedVersions().get('metrics-server'), { podDisruptionBudget: { enabled: true, maxUnavailable: 1 } }))}\n`);
    const judged = (c: StoredCharts) => {
      const dir = c.dir;
      return runHaCheck({ terraform: [f.terraform], manifests: f.manifests, objectives: DEFAULT_OBJECTIVES, charts: dir }).findings.filter((x) => x.subject === 'HelmRelease/kube-system/metrics-server').map((x) => [x.id, x.severity]);
    };
    expect(judged(new StoredCharts(charts))).toContainEqual(['workload.single-replica', 'error']);
    expect(judged(edited)).not.toContainEqual(['workload.single-replica', 'error']);
    const cilium = editedCharts('cilium', (v) => {
      (v.operator as Record<string, unknown>).replicas = 1;
    });
    const operator = (c?: StoredCharts) => buildManifestModel([release('cilium', pinnedVersions().get('cilium'))], c ? { charts: c } : {}).workloads.find((w) => w.id === 'HelmRelease/kube-system/cilium:operator');
    expect(operator()?.replicas).toBe(2);
    expect(operator(cilium)?.replicas).toBe(1);
  });

  it('the cloud controller: tolerations, nodeSelector and requests are the stored values.yaml\'s; the template renders no affinity or spread', () => {
    const { chart } = CLOUD_CONTROLLER_CHART;
    const stored = load(readFileSync(join(charts, chart, String(pinnedVersions().get(chart)), 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const t = buildManifestModel([release(chart, pinnedVersions().get(chart))]).podTemplates[0];
    expect(t.tolerations).toEqual(stored.tolerations);
    expect(t.nodeSelector).toEqual(stored.nodeSelector);
    for (const key of ['affinity', 'topologySpreadConstraints', 'priorityClassName']) expect(stored[key], key).toBeUndefined();
    const edited = editedCharts(chart, (v) => {
      v.tolerations = [];
    });
    expect(buildManifestModel([release(chart, pinnedVersions().get(chart))], { charts: edited }).podTemplates[0].tolerations).toEqual([]);
  });

  it('a stored chart that is missing, or a release that pins no exact version, is bad input naming the release', () => {
    expect(() => buildManifestModel([release('traefik', '99.0.0')])).toThrow(/^HelmRelease\/kube-system\/traefik: chart traefik 99\.0\.0: no stored default values at .*traefik\/99\.0\.0\/values\.yaml; ha-check reads a chart's defaults from shared\/charts/);
    expect(() => buildManifestModel([release('traefik', undefined)])).toThrow('HelmRelease/kube-system/traefik: spec.chart.spec.version is not set: expected the exact chart version (Flux installs the newest a range admits), so that ha-check judges the chart defaults of the version deployed');
    expect(() => buildManifestModel([release('traefik', '>=37.0.0')])).toThrow('HelmRelease/kube-system/traefik: spec.chart.spec.version ">=37.0.0": expected the exact chart version');
    expect(() => buildManifestModel([release('metrics-server', pinnedVersions().get('metrics-server'))], { charts: new StoredCharts(join(tempDir(), 'no-charts')) })).toThrow(HaCheckInputError);
  });
});
