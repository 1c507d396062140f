import { HaCheckInputError } from '../input-error';
import { CLOUD_CONTROLLER_CHART } from './chart-defaults';
import { isObject, type Json } from './values';

/**
 * What a Helm chart renders that matters for HA, read from a HelmRelease's `spec.values`. One
 * extractor per chart this platform ships (packages/k8s-addons/src/releases.ts), plus the coredns
 * chart. A chart whose upstream copy is stored (`defaults: 'stored'`) gets its values coalesced over
 * the stored values.yaml of the version the release pins (stored-charts.ts), so its extractor holds
 * no chart default: only what the chart's templates fix and what the API server defaults (a
 * Deployment without `replicas` runs 1). The others (`built-in`: no stored copy in shared/charts)
 * still name their defaults here.
 */
export interface ChartComponent {
  /** Sub-component (`grafana`), or undefined for the chart's main workload. */
  readonly component?: string;
  readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  /** Undefined for a DaemonSet. */
  readonly replicas?: number;
  readonly hpa?: { readonly minReplicas: number; readonly maxReplicas: number };
  readonly pdb?: { readonly minAvailable?: string | number; readonly maxUnavailable?: string | number };
  /** The labels the chart puts on the pods (topology spread selectors are matched against them). */
  readonly labels: Readonly<Record<string, string>>;
  /** nodeSelector, tolerations, affinity, topologySpreadConstraints and one container with the requests. */
  readonly podSpec: Json;
  /** Storage class of each volume claim template (undefined: the default class). */
  readonly claimClasses?: ReadonlyArray<string | undefined>;
  /**
   * Why losing every replica degrades the cluster but stops neither the app nor its AZ recovery
   * (a reconciler or dashboard): its findings are warnings at most. Undefined: in the data path.
   */
  readonly notCritical?: string;
}

export interface ReleaseRef {
  readonly name: string;
  readonly namespace: string;
  /** `HelmRelease/<ns>/<name>`, for messages. */
  readonly id: string;
}

type Extractor = (values: Json, release: ReleaseRef) => readonly ChartComponent[];

export interface ChartModel {
  readonly extract: Extractor;
  /** `stored`: the values arrive coalesced over shared/charts/<chart>/<version>/values.yaml; `built-in`: not stored, its defaults are the extractor's. */
  readonly defaults: 'stored' | 'built-in';
  /** Subcharts whose own values.yaml Helm coalesces under their key (`charts/<name>/values.yaml`). */
  readonly subcharts?: readonly string[];
}

/** A Deployment or StatefulSet without `replicas`: the API server's default. */
const API_DEFAULT_REPLICAS = 1;

/** The value at a dotted path (`deployment.replicas`), or undefined. */
function at(values: Json, path: string): unknown {
  let v: unknown = values;
  for (const key of path.split('.')) v = isObject(v) ? v[key] : undefined;
  return v;
}

const obj = (values: Json, path: string): Json => {
  const v = at(values, path);
  return isObject(v) ? v : {};
};

/** A replica count the chart would render: a whole number, else the release cannot be judged. */
function count(values: Json, path: string, fallback: number, release: ReleaseRef): number {
  const v = at(values, path);
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  throw new HaCheckInputError(`${release.id}: spec.values.${path}: expected a whole number ≥ 0, got ${JSON.stringify(v)}`);
}

/** A PDB bound; '' means unset (charts skip empty values). */
const bound = (v: unknown): string | number | undefined => (typeof v === 'number' || (typeof v === 'string' && v !== '') ? v : undefined);

function pdbOf(values: Json, path: string, enabledByDefault: boolean, defaults: { minAvailable?: number; maxUnavailable?: number } = {}): ChartComponent['pdb'] {
  const pdb = obj(values, path);
  const enabled = typeof pdb.enabled === 'boolean' ? pdb.enabled : enabledByDefault;
  if (!enabled) return undefined;
  const minAvailable = 'minAvailable' in pdb ? bound(pdb.minAvailable) : defaults.minAvailable;
  const maxUnavailable = 'maxUnavailable' in pdb ? bound(pdb.maxUnavailable) : defaults.maxUnavailable;
  return { ...(minAvailable !== undefined ? { minAvailable } : {}), ...(maxUnavailable !== undefined ? { maxUnavailable } : {}) };
}

/**
 * The scheduling part of a pod spec from the values under `prefix` (`''` or `controller.`),
 * each key falling back to the chart default given.
 */
function podSpecFrom(values: Json, prefix: string, defaults: { tolerations?: unknown[]; affinity?: Json; nodeSelector?: Json; requests?: Json } = {}): Json {
  const pick = (key: string, fallback: unknown): unknown => at(values, `${prefix}${key}`) ?? fallback;
  const resources = obj(values, `${prefix}resources`);
  const requests = isObject(resources.requests) ? resources.requests : (defaults.requests ?? {});
  return {
    nodeSelector: pick('nodeSelector', defaults.nodeSelector ?? {}),
    tolerations: pick('tolerations', defaults.tolerations ?? []),
    affinity: pick('affinity', defaults.affinity ?? {}),
    topologySpreadConstraints: pick('topologySpreadConstraints', []),
    priorityClassName: pick('priorityClassName', undefined),
    containers: [{ name: 'main', resources: { requests } }],
  };
}

const helmLabels = (name: string, instance: string): Record<string, string> => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': instance });
const nameOverride = (values: Json, fallback: string): string => (typeof values.nameOverride === 'string' && values.nameOverride !== '' ? values.nameOverride : fallback);

/** Traefik 37: `deployment.kind/replicas`, `autoscaling`, `podDisruptionBudget`, top-level pod settings. */
const traefik: Extractor = (values, release) => {
  const kind = at(values, 'deployment.kind') === 'DaemonSet' ? 'DaemonSet' : 'Deployment';
  const autoscaling = obj(values, 'autoscaling');
  const replicas = count(values, 'deployment.replicas', API_DEFAULT_REPLICAS, release);
  const hpa = autoscaling.enabled === true ? { minReplicas: count(values, 'autoscaling.minReplicas', 1, release), maxReplicas: count(values, 'autoscaling.maxReplicas', replicas, release) } : undefined;
  const instance = typeof values.instanceLabelOverride === 'string' ? values.instanceLabelOverride : `${release.name}-${release.namespace}`;
  return [{ kind, ...(kind === 'Deployment' ? { replicas, ...(hpa ? { hpa } : {}) } : {}), pdb: pdbOf(values, 'podDisruptionBudget', false), labels: helmLabels(nameOverride(values, 'traefik'), instance), podSpec: podSpecFrom(values, '') }];
};

/** cluster-autoscaler 9.x: `replicaCount`, `podDisruptionBudget` (rendered whenever set), `cloudProvider` in the name. */
const clusterAutoscaler: Extractor = (values, release) => {
  const provider = typeof values.cloudProvider === 'string' ? values.cloudProvider : '';
  const pdb = obj(values, 'podDisruptionBudget');
  return [
    {
      kind: 'Deployment',
      replicas: count(values, 'replicaCount', API_DEFAULT_REPLICAS, release),
      pdb: { ...(bound(pdb.minAvailable) !== undefined ? { minAvailable: bound(pdb.minAvailable) } : {}), ...(bound(pdb.maxUnavailable) !== undefined ? { maxUnavailable: bound(pdb.maxUnavailable) } : {}) },
      labels: helmLabels(nameOverride(values, `${provider}-cluster-autoscaler`), release.name),
      podSpec: podSpecFrom(values, ''),
    },
  ];
};

/** metrics-server 3.13: `replicas`, `podDisruptionBudget`, the pod settings at the top level. */
const metricsServer: Extractor = (values, release) => [
  { kind: 'Deployment', replicas: count(values, 'replicas', API_DEFAULT_REPLICAS, release), pdb: pdbOf(values, 'podDisruptionBudget', false), labels: helmLabels(nameOverride(values, 'metrics-server'), release.name), podSpec: podSpecFrom(values, '') },
];

/**
 * aws-ebs-csi-driver 2.53: the controller (`controller.*`; the template adds `app: ebs-csi-controller`
 * to every spread selector and renders its PDB with maxUnavailable 1) and the node DaemonSet
 * (`node.tolerateAllTaints` replaces its tolerations with one that tolerates everything).
 */
const ebsCsi: Extractor = (values, release) => {
  const labels = { app: 'ebs-csi-controller', ...helmLabels(nameOverride(values, 'aws-ebs-csi-driver'), release.name) };
  const controller = podSpecFrom(values, 'controller.');
  const spread = Array.isArray(controller.topologySpreadConstraints) ? controller.topologySpreadConstraints.filter(isObject) : [];
  controller.topologySpreadConstraints = spread.map((c) => ({ ...c, labelSelector: { matchLabels: { app: 'ebs-csi-controller' } } }));
  const node = podSpecFrom(values, 'node.');
  if (at(values, 'node.tolerateAllTaints') === true) node.tolerations = [{ operator: 'Exists' }];
  return [
    { component: 'controller', kind: 'Deployment', replicas: count(values, 'controller.replicaCount', API_DEFAULT_REPLICAS, release), pdb: pdbOf(values, 'controller.podDisruptionBudget', false, { maxUnavailable: 1 }), labels, podSpec: controller },
    { component: 'node', kind: 'DaemonSet', labels: { app: 'ebs-csi-node' }, podSpec: node },
  ];
};

/**
 * aws-cloud-controller-manager: a DaemonSet whose pod spec is what its template renders from the
 * values (`nodeSelector`, `tolerations`, `resources`) and the priority class the template fixes
 * (chart-defaults.ts); `affinity` or `topologySpreadConstraints` in the values are never rendered.
 */
const cloudController: Extractor = (values) => {
  const rendered = (key: 'nodeSelector' | 'tolerations' | 'resources'): unknown => values[key] ?? (key === 'tolerations' ? [] : {});
  const resources = rendered('resources');
  const requests = isObject(resources) && isObject(resources.requests) ? resources.requests : {};
  return [
    {
      kind: 'DaemonSet',
      labels: { 'k8s-app': 'aws-cloud-controller-manager' },
      podSpec: { nodeSelector: rendered('nodeSelector'), tolerations: rendered('tolerations'), affinity: {}, topologySpreadConstraints: [], priorityClassName: CLOUD_CONTROLLER_CHART.priorityClassName, containers: [{ name: 'main', resources: { requests } }] },
    },
  ];
};

/** Cilium 1.18: the agent DaemonSet (top-level pod settings) and the operator (`operator.*`). */
const cilium: Extractor = (values, release): ChartComponent[] => [
  { component: 'agent', kind: 'DaemonSet', labels: { 'k8s-app': 'cilium' }, podSpec: podSpecFrom(values, '') },
  {
    component: 'operator',
    kind: 'Deployment',
    replicas: count(values, 'operator.replicas', API_DEFAULT_REPLICAS, release),
    pdb: pdbOf(values, 'operator.podDisruptionBudget', false),
    labels: { 'io.cilium/app': 'operator', name: 'cilium-operator' },
    podSpec: podSpecFrom(values, 'operator.'),
    notCritical: 'allocates pod CIDRs (cluster-pool IPAM): only nodes added after the loss wait for it',
  },
];

/**
 * kube-prometheus-stack 88: Prometheus and Alertmanager (StatefulSets the operator creates from
 * `*.{prometheus,alertmanager}Spec`), Grafana, the operator, kube-state-metrics, node-exporter.
 */
const kubePrometheusStack: Extractor = (values, release) => {
  const claim = at(values, 'prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec');
  const monitoringOnly = 'monitoring only: alerts and dashboards pause, the app keeps serving';
  const components: ChartComponent[] = [
    {
      component: 'prometheus',
      kind: 'StatefulSet',
      replicas: count(values, 'prometheus.prometheusSpec.replicas', API_DEFAULT_REPLICAS, release),
      pdb: pdbOf(values, 'prometheus.podDisruptionBudget', false),
      labels: { 'app.kubernetes.io/name': 'prometheus', prometheus: `${release.name}-prometheus` },
      podSpec: podSpecFrom(values, 'prometheus.prometheusSpec.'),
      ...(isObject(claim) ? { claimClasses: [typeof claim.storageClassName === 'string' ? claim.storageClassName : undefined] } : {}),
    },
    {
      component: 'alertmanager',
      kind: 'StatefulSet',
      replicas: count(values, 'alertmanager.alertmanagerSpec.replicas', API_DEFAULT_REPLICAS, release),
      pdb: pdbOf(values, 'alertmanager.podDisruptionBudget', false),
      labels: { 'app.kubernetes.io/name': 'alertmanager', alertmanager: `${release.name}-alertmanager` },
      podSpec: podSpecFrom(values, 'alertmanager.alertmanagerSpec.'),
    },
    { component: 'grafana', kind: 'Deployment', replicas: count(values, 'grafana.replicas', API_DEFAULT_REPLICAS, release), labels: helmLabels('grafana', release.name), podSpec: podSpecFrom(values, 'grafana.'), notCritical: 'dashboards only; one replica because users and sessions live in a SQLite file per pod' },
    { component: 'operator', kind: 'Deployment', replicas: 1, labels: { app: `${release.name}-operator` }, podSpec: podSpecFrom(values, 'prometheusOperator.'), notCritical: 'reconciles Prometheus and Alertmanager; running pods keep working' },
    { component: 'kube-state-metrics', kind: 'Deployment', replicas: count(values, 'kube-state-metrics.replicas', API_DEFAULT_REPLICAS, release), labels: helmLabels('kube-state-metrics', release.name), podSpec: podSpecFrom(values, 'kube-state-metrics.'), notCritical: monitoringOnly },
    { component: 'node-exporter', kind: 'DaemonSet', labels: helmLabels('prometheus-node-exporter', release.name), podSpec: podSpecFrom(values, 'prometheus-node-exporter.') },
  ];
  return components;
};

/** cloudnative-pg 0.29: the operator (`replicaCount`). */
const cloudnativePg: Extractor = (values, release) => [
  {
    kind: 'Deployment',
    replicas: count(values, 'replicaCount', API_DEFAULT_REPLICAS, release),
    labels: helmLabels(nameOverride(values, 'cloudnative-pg'), release.name),
    podSpec: podSpecFrom(values, ''),
    notCritical: 'the PostgreSQL operator: a primary failover in the lost AZ waits until it is rescheduled',
  },
];

/** flux-operator: one replica (the chart has no replica setting); Flux's own controllers keep reconciling. */
const fluxOperator: Extractor = (values) => [
  { kind: 'Deployment', replicas: 1, labels: helmLabels('flux-operator', 'flux-operator'), podSpec: podSpecFrom(values, '', { requests: { cpu: '100m', memory: '64Mi' } }), notCritical: 'reconciles the FluxInstance only' },
];

/** coredns (coredns/helm): `replicaCount` (1), `podDisruptionBudget` (rendered when set), requests 100m / 128Mi. */
const coredns: Extractor = (values, release) => {
  const pdb = obj(values, 'podDisruptionBudget');
  const bounds = { ...(bound(pdb.minAvailable) !== undefined ? { minAvailable: bound(pdb.minAvailable) } : {}), ...(bound(pdb.maxUnavailable) !== undefined ? { maxUnavailable: bound(pdb.maxUnavailable) } : {}) };
  return [
    {
      kind: at(values, 'deployment.enabled') === false ? 'DaemonSet' : 'Deployment',
      replicas: count(values, 'replicaCount', 1, release),
      ...(Object.keys(bounds).length > 0 ? { pdb: bounds } : {}),
      labels: { ...helmLabels(nameOverride(values, 'coredns'), release.name), 'k8s-app': 'coredns' },
      podSpec: podSpecFrom(values, '', { requests: { cpu: '100m', memory: '128Mi' } }),
    },
  ];
};

/** Chart name → extractor: the charts of packages/k8s-addons/src/releases.ts. */
/** aws-node-termination-handler 0.27 in queue mode: a Deployment (`replicas` 1); its PDB only with replicas > 1 (templates/pdb.yaml). */
const nodeTerminationHandler: Extractor = (values, release) => {
  if (values.enableSqsTerminationDraining !== true) return []; // IMDS mode: a DaemonSet on every node, not modelled
  const replicas = count(values, 'replicas', 1, release);
  const pdb = obj(values, 'podDisruptionBudget');
  const labels = { ...helmLabels(nameOverride(values, 'aws-node-termination-handler'), release.name), 'app.kubernetes.io/component': 'deployment' };
  return [{ kind: 'Deployment', replicas, pdb: replicas > 1 && Object.keys(pdb).length > 0 ? { ...(bound(pdb.minAvailable) !== undefined ? { minAvailable: bound(pdb.minAvailable) } : {}), ...(bound(pdb.maxUnavailable) !== undefined ? { maxUnavailable: bound(pdb.maxUnavailable) } : {}) } : undefined, labels, podSpec: podSpecFrom(values, '') }];
};

export const CHART_WORKLOADS: Readonly<Record<string, ChartModel>> = {
  traefik: { extract: traefik, defaults: 'stored' },
  'cluster-autoscaler': { extract: clusterAutoscaler, defaults: 'stored' },
  'metrics-server': { extract: metricsServer, defaults: 'stored' },
  'aws-ebs-csi-driver': { extract: ebsCsi, defaults: 'stored' },
  'aws-cloud-controller-manager': { extract: cloudController, defaults: 'stored' },
  cilium: { extract: cilium, defaults: 'stored' },
  'kube-prometheus-stack': { extract: kubePrometheusStack, defaults: 'stored', subcharts: ['grafana', 'kube-state-metrics', 'prometheus-node-exporter'] },
  'cloudnative-pg': { extract: cloudnativePg, defaults: 'stored' },
  'flux-operator': { extract: fluxOperator, defaults: 'built-in' },
  coredns: { extract: coredns, defaults: 'built-in' },
  'aws-node-termination-handler': { extract: nodeTerminationHandler, defaults: 'built-in' },
};

/**
 * What a chart component lifts when it runs (day 0): the Cilium agent makes its node Ready, the
 * operator allocates pod CIDRs the agents wait for in cluster-pool / multi-pool IPAM (the chart's
 * default `ipam.mode` is cluster-pool), the cloud controller labels zones and initializes nodes.
 */
export function providesOf(chart: string, component: string | undefined, values: Json): 'cni' | 'cni-ipam' | 'cloud-controller' | undefined {
  if (chart === 'cilium' && component === 'agent') return 'cni';
  if (chart === 'cilium' && component === 'operator') return ['cluster-pool', 'multi-pool'].includes(String(at(values, 'ipam.mode') ?? 'cluster-pool')) ? 'cni-ipam' : undefined;
  if (chart === 'aws-cloud-controller-manager') return 'cloud-controller';
  return undefined;
}
