/* eslint-disable @typescript-eslint/no-explicit-any -- walks parsed YAML */
import { CORE_ADDONS, firstBootAddOns, type PinnedChart } from '@platform/core-addons';
import { defaultPlatform } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { NODE_TERMINATION_HANDLER_RELEASE, synthClusterTree } from '../src';
import { loadChart, schemaErrors, TEMPLATE_ONLY_KEYS, UNCHECKED_CHARTS, unknownKeys } from './support/chart-values';
import { CHARTS_DIR } from './support/charts';

const platform = defaultPlatform();

interface ReleaseValues {
  readonly where: string;
  readonly chart: string;
  readonly version: string;
  readonly values: Record<string, unknown>;
}

/** Every HelmRelease of a cluster's tree, with its chart and version (HelmRepository or OCIRepository source). */
function renderedReleases(cluster: string): ReleaseValues[] {
  const tree = synthClusterTree(platform, cluster);
  const objects = Object.entries(tree).flatMap(([file, text]) => (file.endsWith('.yaml') ? parseAllDocuments(text).map((d) => ({ file, o: d.toJS() as any })) : []));
  return objects
    .filter(({ o }) => o?.kind === 'HelmRelease')
    .map(({ file, o }) => {
      const where = `clusters/${cluster}/${file} HelmRelease ${o.metadata.name}`;
      if (o.spec.chart) return { where, chart: o.spec.chart.spec.chart, version: o.spec.chart.spec.version, values: o.spec.values ?? {} };
      const source = objects.find(({ o: s }) => s?.kind === 'OCIRepository' && s.metadata.name === o.spec.chartRef.name)?.o;
      if (!source) throw new Error(`${where}: no OCIRepository ${o.spec.chartRef.name}`);
      return { where, chart: String(source.spec.url).split('/').at(-1)!, version: source.spec.ref.tag, values: o.spec.values ?? {} };
    });
}

/** What node-bootstrap installs at first boot (it serializes these unchanged). */
function bootstrapReleases(cluster: string): ReleaseValues[] {
  const firstBoot = firstBootAddOns(platform.cluster(cluster), platform.settings, platform.namesOf(cluster));
  return [firstBoot.cilium, firstBoot.cloudController, firstBoot.fluxOperator].map(({ pin, values }: { pin: PinnedChart; values: Record<string, unknown> }) => ({
    where: `node-bootstrap ${cluster} ${pin.releaseName}`,
    chart: pin.chart,
    version: pin.version,
    values,
  }));
}

const releases = platform.clusters.flatMap((c) => [...renderedReleases(c.name), ...bootstrapReleases(c.name)]);
const checked = releases.filter((r) => !UNCHECKED_CHARTS[`${r.chart}/${r.version}`]);

describe('chart values are checked against the real charts (../shared/charts)', () => {
  it('finds the chart defaults beside the repository', () => {
    expect(CHARTS_DIR.endsWith('shared/charts')).toBe(true);
    expect(releases.length).toBeGreaterThan(20);
  });

  it('has defaults for every pinned chart version, flux-operator and the node termination handler the documented exceptions', () => {
    const missing = [...new Set(checked.map((r) => `${r.chart}/${r.version}`))].flatMap((id) => {
      const [chart, version] = id.split('/') as [string, string];
      try {
        loadChart(chart, version);
        return [];
      } catch (e) {
        return [(e as Error).message];
      }
    });
    expect(missing).toEqual([]);
    expect(() => loadChart('cilium', '9.9.9')).toThrow(`no defaults for chart cilium 9.9.9: add ${CHARTS_DIR}/cilium/9.9.9/ (values.yaml, and values.schema.json where the chart ships one)`);
    expect(Object.keys(UNCHECKED_CHARTS)).toEqual([`${NODE_TERMINATION_HANDLER_RELEASE.chart}/${NODE_TERMINATION_HANDLER_RELEASE.version}`, `${CORE_ADDONS.fluxOperator.chart}/${CORE_ADDONS.fluxOperator.version}`]);
  });

  it.each(checked.map((r) => [r.where, r] as const))('%s: every key exists in the chart', (_where, release) => {
    expect(unknownKeys(loadChart(release.chart, release.version), release.values)).toEqual([]);
  });

  it.each(checked.map((r) => [r.where, r] as const))('%s: the coalesced values validate against values.schema.json', (_where, release) => {
    const errors = schemaErrors(loadChart(release.chart, release.version), release.values);
    expect(errors.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)).toEqual([]);
  });

  it('flags a key the chart does not have, accepts commented-out examples and template-only keys', () => {
    const ccm = loadChart('aws-cloud-controller-manager', '0.0.10');
    expect(unknownKeys(ccm, { hostNetworking: true, hostNetwork: true, resources: { limits: { cpu: '1' } } })).toEqual([{ path: 'hostNetwork', value: true }]);
    expect(TEMPLATE_ONLY_KEYS['aws-cloud-controller-manager/0.0.10']).toHaveProperty('hostNetworking');
    const cilium = loadChart('cilium', '1.18.2');
    expect(unknownKeys(cilium, { operator: { replica: 2, replicas: 2 }, tunnelPort: 8472 })).toEqual([{ path: 'operator.replica', value: 2 }]);
  });

  it('validates against the schema: a wrong type fails', () => {
    const cilium = loadChart('cilium', '1.18.2');
    expect(schemaErrors(cilium, { operator: { replicas: 'two' } }).length).toBeGreaterThan(0);
  });
});
