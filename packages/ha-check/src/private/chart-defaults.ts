/**
 * Chart defaults for `hostNetwork` that our values usually leave out, in one place. A pod in the
 * host's network namespace reaches its node's IMDS even with IMDSv2 hop limit 1, so it acts with
 * the node role: the identity report must know it. Each row names the chart version its default
 * was read from (../shared/charts/<chart>/<version>/…); test/chart-defaults.test.ts re-reads
 * every row from there and checks the version is the one the shipped clusters pin.
 */
export interface HostNetworkDefault {
  readonly chart: string;
  readonly version: string;
  /** The component chart-workloads.ts renders (`node-exporter`), undefined for the main workload. */
  readonly component?: string;
  /** The values key that overrides the default; undefined when the chart's template fixes it. */
  readonly valuesPath?: string;
  /** The subchart whose values.yaml holds the default (`charts/<subchart>/values.yaml`), its key there. */
  readonly source: { readonly subchart?: string; readonly key?: string; readonly note?: string };
  readonly hostNetwork: boolean;
}

export const HOST_NETWORK_DEFAULTS: readonly HostNetworkDefault[] = [
  {
    chart: 'cilium',
    version: '1.18.2',
    component: 'agent',
    hostNetwork: true,
    // No values key: the agent DaemonSet template sets hostNetwork unconditionally (it is the CNI).
    source: { note: 'templates/cilium-agent/daemonset.yaml sets it; no values key' },
  },
  { chart: 'cilium', version: '1.18.2', component: 'operator', valuesPath: 'operator.hostNetwork', hostNetwork: true, source: { key: 'operator.hostNetwork' } },
  {
    chart: 'kube-prometheus-stack',
    version: '88.0.0',
    component: 'node-exporter',
    valuesPath: 'prometheus-node-exporter.hostNetwork',
    hostNetwork: true,
    source: { subchart: 'prometheus-node-exporter', key: 'hostNetwork' },
  },
];

/** The value at a dotted path (`operator.hostNetwork`), or undefined. */
function at(values: unknown, path: string): unknown {
  let v = values;
  for (const key of path.split('.')) v = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/**
 * hostNetwork of a chart component as the release renders it: the values key when set, else the
 * chart default; undefined when the table does not know the component.
 */
export function chartHostNetwork(chart: string | undefined, component: string | undefined, values: unknown): boolean | undefined {
  const row = HOST_NETWORK_DEFAULTS.find((d) => d.chart === chart && d.component === component);
  if (!row) return undefined;
  const set = row.valuesPath === undefined ? undefined : at(values, row.valuesPath);
  return typeof set === 'boolean' ? set : row.hostNetwork;
}

/**
 * What aws-cloud-controller-manager's DaemonSet template renders regardless of the values: the
 * priority class. Its `tolerations`, `nodeSelector` and `resources` come from the values, coalesced
 * over the stored chart's values.yaml of the version the release pins (stored-charts.ts); it
 * renders no affinity and no topology spread, whatever the values say.
 */
export const CLOUD_CONTROLLER_CHART = {
  chart: 'aws-cloud-controller-manager',
  priorityClassName: 'system-node-critical',
} as const;
