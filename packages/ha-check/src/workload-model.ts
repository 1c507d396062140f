import { manifestLayer, type K8sObject } from './manifests';
import type { AddonId, AddonModel, DaemonSetModel, DatabaseArchiveModel, HpaModel, ManifestModel, NodeSelectorRequirement, PdbModel, PodTemplateModel, Toleration, WorkloadModel, ZoneSpreadModel } from './model';
import { HaCheckInputError } from './input-error';
import { autoscalerFromArgs, autoscalerFromValues } from './private/autoscaler-config';
import { CHART_WORKLOADS, providesOf } from './private/chart-workloads';
import { scaleUpOf } from './private/hpa-behavior';
import { metricsServerFromArgs, metricsServerFromValues } from './private/metrics-server-config';
import { podCpuLimit, podRequests, podTemplate, podTemplateOf } from './private/pod-templates';
import { cpuMilli, memoryMiB } from './private/quantity';
import { CNPG_ARCHIVE_TIMEOUT_MINUTES } from './recovery-times';
import { runtimeHints } from './private/runtime-hints';
import { selectorMatches } from './private/selectors';
import { exactVersion, renderedValues, sharedStoredCharts, type StoredCharts } from './private/stored-charts';
import { isObject, num, str, type Json } from './private/values';

export const ZONE_KEYS: readonly string[] = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'];
const HOST_KEY = 'kubernetes.io/hostname';
const ZONAL_PROVISIONERS = /^(ebs\.csi\.aws\.com|kubernetes\.io\/aws-ebs)$/;

/** Names that show an add-on is deployed: HelmRelease names/charts, Deployments, DaemonSets. */
const ADDON_PATTERNS: ReadonlyArray<readonly [AddonId, RegExp]> = [
  ['cloud-controller', /cloud-controller-manager|aws-cloud-controller/],
  ['cluster-autoscaler', /cluster-autoscaler/],
  ['coredns', /coredns/],
  ['metrics-server', /metrics-server/],
  ['ebs-csi', /ebs-csi/],
];

const metaOf = (o: K8sObject): Json => (isObject(o.metadata) ? o.metadata : {});
const nameOf = (o: K8sObject): string => String(metaOf(o).name ?? '');
const namespaceOf = (o: K8sObject): string => String(metaOf(o).namespace ?? 'default');
const specOf = (o: Json): Json => (isObject(o.spec) ? o.spec : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
const strRecord = (v: unknown): Record<string, string> => (isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : {});

const requirementsOf = (term: Json): NodeSelectorRequirement[] =>
  arr(term.matchExpressions).map((e) => ({ key: String(e.key), operator: String(e.operator), values: Array.isArray(e.values) ? e.values.map(String) : [] }));

function requiredTerms(podSpec: Json): Json[] {
  const affinity = isObject(podSpec.affinity) && isObject(podSpec.affinity.nodeAffinity) ? podSpec.affinity.nodeAffinity : {};
  const required = isObject(affinity.requiredDuringSchedulingIgnoredDuringExecution) ? affinity.requiredDuringSchedulingIgnoredDuringExecution : {};
  return arr(required.nodeSelectorTerms);
}

/** Several required terms, ORed (a single one is part of nodeSelectorOf); undefined with fewer than two. */
function nodeSelectorTermsOf(podSpec: Json): NodeSelectorRequirement[][] | undefined {
  const terms = requiredTerms(podSpec);
  return terms.length > 1 ? terms.map(requirementsOf) : undefined;
}

function nodeSelectorOf(podSpec: Json): NodeSelectorRequirement[] {
  const reqs: NodeSelectorRequirement[] = Object.entries(strRecord(podSpec.nodeSelector)).map(([key, v]) => ({ key, operator: 'In', values: [v] }));
  const terms = requiredTerms(podSpec);
  // Terms are ORed: a single one is ANDed with the node selector; several are nodeSelectorTermsOf.
  if (terms.length === 1) reqs.push(...requirementsOf(terms[0]));
  return reqs;
}

function tolerationsOf(podSpec: Json): Toleration[] {
  // Plain assignments, not conditional spreads: this runs for every pod template (a hot path at 10,000 objects).
  return arr(podSpec.tolerations).map((t) => {
    const out: { -readonly [K in keyof Toleration]: Toleration[K] } = {};
    if (typeof t.key === 'string') out.key = t.key;
    if (typeof t.operator === 'string') out.operator = t.operator;
    if (typeof t.value === 'string') out.value = t.value;
    if (typeof t.effect === 'string') out.effect = t.effect;
    const seconds = num(t.tolerationSeconds);
    if (seconds !== undefined) out.tolerationSeconds = seconds;
    return out;
  });
}

function zoneSpreadOf(podSpec: Json, labels: Record<string, string>): ZoneSpreadModel | undefined {
  const constraints = arr(podSpec.topologySpreadConstraints).filter(
    (c) => ZONE_KEYS.includes(String(c.topologyKey)) && (c.labelSelector === undefined || selectorMatches(c.labelSelector, labels)),
  );
  if (constraints.length === 0) return undefined;
  const hard = constraints.find((c) => c.whenUnsatisfiable !== 'ScheduleAnyway');
  const chosen = hard ?? constraints[0];
  return {
    maxSkew: num(chosen.maxSkew) ?? 1,
    hard: hard !== undefined,
    nodeTaintsPolicy: str(chosen.nodeTaintsPolicy) ?? 'Ignore',
    minDomains: num(chosen.minDomains),
  };
}

function antiAffinityOn(podSpec: Json, labels: Record<string, string>, keys: readonly string[]): 'required' | 'preferred' | undefined {
  const anti = isObject(podSpec.affinity) && isObject(podSpec.affinity.podAntiAffinity) ? podSpec.affinity.podAntiAffinity : {};
  if (arr(anti.requiredDuringSchedulingIgnoredDuringExecution).some((term) => selfTerm(term, labels, keys))) return 'required';
  if (arr(anti.preferredDuringSchedulingIgnoredDuringExecution).some((w) => isObject(w.podAffinityTerm) && selfTerm(w.podAffinityTerm, labels, keys))) return 'preferred';
  return undefined;
}

/**
 * An anti-affinity term on one of `keys` that selects the pod itself. At module level, not a named
 * closure per call: tsx keeps function names by defining `name` on every closure it creates.
 */
function selfTerm(term: Json, labels: Record<string, string>, keys: readonly string[]): boolean {
  return keys.includes(String(term.topologyKey)) && selectorMatches(term.labelSelector, labels);
}

/** The chart a HelmRelease installs: `spec.chart.spec.chart`, else the `chartRef` source's name. */
function chartOf(h: K8sObject): string {
  const spec = specOf(h);
  if (isObject(spec.chart) && isObject(spec.chart.spec) && typeof spec.chart.spec.chart === 'string') return spec.chart.spec.chart;
  return isObject(spec.chartRef) && typeof spec.chartRef.name === 'string' ? spec.chartRef.name : '';
}

/** A replica count as the API server accepts it: a whole number ≥ 0 (undefined when absent). */
function replicaCount(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw new HaCheckInputError(`${where}: expected a whole number ≥ 0, got ${JSON.stringify(value)}`);
}

function addonOf(names: readonly string[]): AddonId | undefined {
  return ADDON_PATTERNS.find(([, re]) => names.some((n) => re.test(n)))?.[0];
}

interface StorageIndex {
  readonly zonal: Map<string, boolean>;
  readonly defaultClass: string | undefined;
  readonly claims: Map<string, string | undefined>;
}

function isZonal(storage: StorageIndex, className: string | undefined): boolean {
  const cls = className ?? storage.defaultClass;
  // An unknown class is treated as EBS: it is the only block storage this platform ships.
  return cls === undefined || cls === '' ? storage.zonal.size === 0 || [...storage.zonal.values()].some(Boolean) : (storage.zonal.get(cls) ?? true);
}

function zonalVolumesOf(o: K8sObject, podSpec: Json, storage: StorageIndex): string[] {
  const ns = namespaceOf(o);
  const fromTemplates = arr(specOf(o).volumeClaimTemplates)
    .filter((t) => isZonal(storage, str(specOf(t).storageClassName)))
    .map((t) => `${String(metaOf(t as K8sObject).name ?? 'data')} (volumeClaimTemplate)`);
  const fromClaims = arr(podSpec.volumes)
    .map((v) => (isObject(v.persistentVolumeClaim) ? String(v.persistentVolumeClaim.claimName) : undefined))
    .filter((c): c is string => c !== undefined && storage.claims.has(`${ns}/${c}`) && isZonal(storage, storage.claims.get(`${ns}/${c}`)))
    .map((c) => `PersistentVolumeClaim/${ns}/${c}`);
  return [...fromTemplates, ...fromClaims];
}

/** A PDB bound as the API server admits it: a whole number ≥ 0 or a percentage string ("50%"). */
function pdbBound(pdb: K8sObject, field: 'minAvailable' | 'maxUnavailable'): string | number | undefined {
  const value = specOf(pdb)[field];
  if (value === undefined || value === null) return undefined;
  if ((typeof value === 'number' && Number.isInteger(value) && value >= 0) || (typeof value === 'string' && /^\d+(\.\d+)?%$/.test(value))) return value;
  throw new HaCheckInputError(`PodDisruptionBudget/${namespaceOf(pdb)}/${nameOf(pdb)}: spec.${field}: expected a whole number ≥ 0 or a percentage ("50%"), got ${JSON.stringify(value)}`);
}

function pdbModel(pdb: K8sObject): PdbModel {
  return { name: `${namespaceOf(pdb)}/${nameOf(pdb)}`, minAvailable: pdbBound(pdb, 'minAvailable'), maxUnavailable: pdbBound(pdb, 'maxUnavailable') };
}

/**
 * A CloudNativePG Cluster as a workload: `instances` pods, each with its own PVC, placed by the
 * operator's anti-affinity (`spec.affinity`); the operator manages the PDBs itself.
 */
function cnpgCluster(o: K8sObject, storage: StorageIndex): WorkloadModel {
  const spec = specOf(o);
  const affinity = isObject(spec.affinity) ? spec.affinity : {};
  const onZone = affinity.enablePodAntiAffinity !== false && ZONE_KEYS.includes(String(affinity.topologyKey ?? ''));
  const requests = isObject(spec.resources) && isObject(spec.resources.requests) ? spec.resources.requests : {};
  const storageSpec = isObject(spec.storage) ? spec.storage : {};
  return {
    kind: 'Cluster',
    namespace: namespaceOf(o),
    name: nameOf(o),
    id: `Cluster/${namespaceOf(o)}/${nameOf(o)}`,
    replicas: replicaCount(spec.instances, `Cluster/${namespaceOf(o)}/${nameOf(o)}: spec.instances`) ?? 1,
    hpa: undefined,
    requests: { cpuMilli: cpuMilli(requests.cpu), memoryMiB: memoryMiB(requests.memory) },
    nodeSelector: Object.entries(strRecord(affinity.nodeSelector)).map(([key, v]) => ({ key, operator: 'In', values: [v] })),
    tolerations: tolerationsOf({ tolerations: affinity.tolerations }),
    zoneSpread: undefined,
    zoneAntiAffinity: onZone ? (affinity.podAntiAffinityType === 'required' ? 'required' : 'preferred') : undefined,
    hostAntiAffinity: affinity.enablePodAntiAffinity !== false && !onZone ? 'preferred' : undefined,
    pdbs: [{ name: 'managed by CloudNativePG', minAvailable: undefined, maxUnavailable: 1 }],
    zonalVolumes: isZonal(storage, str(storageSpec.storageClass)) ? ['storage (one PVC per instance)'] : [],
    addon: undefined,
  };
}

/** PostgreSQL `archive_timeout` (`5min`, `300s`, `300` seconds) in minutes. */
function archiveTimeoutMinutes(value: unknown): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|min|h)?$/.exec(String(value ?? '').trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = match[2] ?? 's';
  return unit === 'ms' ? n / 60_000 : unit === 's' ? n / 60 : unit === 'h' ? n * 60 : n;
}

/** A CloudNativePG Cluster that archives WAL (in-tree barmanObjectStore or a WAL-archiver plugin). */
function databaseArchive(o: K8sObject): DatabaseArchiveModel | undefined {
  const spec = specOf(o);
  const store = isObject(spec.backup) && isObject(spec.backup.barmanObjectStore) ? spec.backup.barmanObjectStore : undefined;
  const plugin = arr(spec.plugins).find((p) => p.isWALArchiver === true);
  if (!store && !plugin) return undefined;
  const params = isObject(spec.postgresql) && isObject(spec.postgresql.parameters) ? spec.postgresql.parameters : {};
  const endpointRegion = /^https?:\/\/s3[.-]([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com/.exec(str(store?.endpointURL) ?? '')?.[1];
  return {
    id: `Cluster/${namespaceOf(o)}/${nameOf(o)}`,
    destination: str(store?.destinationPath) ?? (plugin ? `plugin ${String(plugin.name ?? '')}` : undefined),
    ...(endpointRegion ? { endpointRegion } : {}),
    archiveTimeoutMinutes: archiveTimeoutMinutes(params.archive_timeout) ?? CNPG_ARCHIVE_TIMEOUT_MINUTES,
  };
}

/** The exact chart version a HelmRelease installs (`spec.chart.spec.version`): its stored defaults are that version's. */
function pinnedVersion(h: K8sObject, id: string): string {
  const chart = specOf(h).chart;
  const version = isObject(chart) && isObject(chart.spec) ? chart.spec.version : undefined;
  if (exactVersion(version)) return version;
  throw new HaCheckInputError(
    `${id}: spec.chart.spec.version ${version === undefined ? 'is not set' : JSON.stringify(version)}: expected the exact chart version (Flux installs the newest a range admits), so that ha-check judges the chart defaults of the version deployed`,
  );
}

export interface ManifestModelOptions {
  /** Where the charts' default values are stored. @default sharedStoredCharts() (shared/charts beside the repository) */
  readonly charts?: StoredCharts;
}

/** The Kubernetes side of the deployment, from built manifests. */
export function buildManifestModel(objects: readonly K8sObject[], options: ManifestModelOptions = {}): ManifestModel {
  const byKind = new Map<string, K8sObject[]>();
  for (const o of objects) {
    const list = byKind.get(o.kind) ?? [];
    list.push(o);
    byKind.set(o.kind, list);
  }
  const kind = (k: string): K8sObject[] => byKind.get(k) ?? [];

  const zonal = new Map(kind('StorageClass').map((sc) => [nameOf(sc), ZONAL_PROVISIONERS.test(String(sc.provisioner ?? ''))]));
  const defaultClass = kind('StorageClass').find((sc) => strRecord(metaOf(sc).annotations)['storageclass.kubernetes.io/is-default-class'] === 'true');
  const storage: StorageIndex = {
    zonal,
    defaultClass: defaultClass ? nameOf(defaultClass) : undefined,
    claims: new Map(kind('PersistentVolumeClaim').map((c) => [`${namespaceOf(c)}/${nameOf(c)}`, str(specOf(c).storageClassName)])),
  };

  const hpas = new Map<string, HpaModel>();
  for (const h of kind('HorizontalPodAutoscaler')) {
    const spec = specOf(h);
    const ref = isObject(spec.scaleTargetRef) ? spec.scaleTargetRef : {};
    hpas.set(`${String(ref.kind)}/${namespaceOf(h)}/${String(ref.name)}`, {
      name: `${namespaceOf(h)}/${nameOf(h)}`,
      scaleUp: scaleUpOf(spec, `HorizontalPodAutoscaler/${namespaceOf(h)}/${nameOf(h)}`),
      metrics: arr(spec.metrics).map(metricLine),
      minReplicas: replicaCount(spec.minReplicas, `HorizontalPodAutoscaler/${namespaceOf(h)}/${nameOf(h)}: spec.minReplicas`) ?? 1,
      maxReplicas: replicaCount(spec.maxReplicas, `HorizontalPodAutoscaler/${namespaceOf(h)}/${nameOf(h)}: spec.maxReplicas`) ?? 1,
    });
  }

  // Indexed by namespace and first matchLabels pair: matching every PDB against every workload is quadratic.
  const pdbIndex = new Map<string, K8sObject[]>();
  const pdbKey = (ns: string, k: string, v: string): string => `${ns}\u0000${k}\u0000${v}`;
  for (const p of kind('PodDisruptionBudget')) {
    const sel = specOf(p).selector;
    const first = isObject(sel) && isObject(sel.matchLabels) ? Object.entries(sel.matchLabels)[0] : undefined;
    const key = first ? pdbKey(namespaceOf(p), first[0], String(first[1])) : `${namespaceOf(p)}\u0000*`;
    const list = pdbIndex.get(key);
    if (list) list.push(p);
    else pdbIndex.set(key, [p]);
  }
  const pdbCandidates = (ns: string, labels: Record<string, string>): Set<K8sObject> => {
    const found = new Set<K8sObject>(pdbIndex.get(`${ns}\u0000*`));
    for (const k in labels) for (const p of pdbIndex.get(pdbKey(ns, k, labels[k])) ?? []) found.add(p);
    return found;
  };
  const usedPdbs = new Set<K8sObject>();

  /** One Deployment/StatefulSet (from the manifests, or rendered from a HelmRelease's values). */
  const workloadOf = (o: K8sObject, id: string, extra: { hpa?: WorkloadModel['hpa']; pdbs?: PdbModel[]; claimClasses?: ReadonlyArray<string | undefined>; addon?: string; notCritical?: string } = {}): WorkloadModel => {
    const spec = specOf(o);
    const template = isObject(spec.template) ? spec.template : {};
    const podSpec = specOf(template);
    const labels = strRecord(isObject(template.metadata) ? template.metadata.labels : undefined);
    const hpa = extra.hpa ?? hpas.get(id);
    let pdbs = extra.pdbs;
    if (pdbs === undefined) {
      const matched = [...pdbCandidates(namespaceOf(o), labels)].filter((p) => selectorMatches(specOf(p).selector, labels));
      matched.forEach((p) => usedPdbs.add(p));
      pdbs = matched.map(pdbModel);
    }
    const declared = replicaCount(spec.replicas, `${id}: spec.replicas`) ?? 1;
    const claimVolumes = (extra.claimClasses ?? []).filter((c) => isZonal(storage, c)).map((c) => `${c ?? 'default class'} (volumeClaimTemplate)`);
    const terms = nodeSelectorTermsOf(podSpec);
    const cpuLimit = podCpuLimit(podSpec);
    return {
      kind: o.kind as 'Deployment' | 'StatefulSet',
      namespace: namespaceOf(o),
      name: nameOf(o),
      id,
      // An HPA owns the count: it never runs fewer than its minimum.
      replicas: hpa ? Math.max(hpa.minReplicas, spec.replicas === undefined ? hpa.minReplicas : declared) : declared,
      hpa,
      requests: podRequests(podSpec),
      ...(cpuLimit === undefined ? {} : { cpuLimitMilli: cpuLimit }),
      nodeSelector: nodeSelectorOf(podSpec),
      ...(terms ? { nodeSelectorTerms: terms } : {}),
      tolerations: tolerationsOf(podSpec),
      zoneSpread: zoneSpreadOf(podSpec, labels),
      zoneAntiAffinity: antiAffinityOn(podSpec, labels, ZONE_KEYS),
      hostAntiAffinity: antiAffinityOn(podSpec, labels, [HOST_KEY]),
      pdbs,
      zonalVolumes: [...zonalVolumesOf(o, podSpec, storage), ...claimVolumes],
      addon: extra.addon ?? addonOf([nameOf(o)]),
      ...(extra.notCritical ? { notCritical: extra.notCritical } : {}),
    };
  };
  const workloadObjects = [...kind('Deployment'), ...kind('StatefulSet')];
  const workloads: WorkloadModel[] = workloadObjects.map((o) => workloadOf(o, `${o.kind}/${namespaceOf(o)}/${nameOf(o)}`));
  const podTemplates: PodTemplateModel[] = [];
  const templateOf = (o: K8sObject, id: string, replicas: number, layer: string, requests?: WorkloadModel['requests']): PodTemplateModel => {
    const template = isObject(specOf(o).template) ? (specOf(o).template as Json) : {};
    const labels = strRecord(isObject(template.metadata) ? template.metadata.labels : undefined);
    return podTemplateOf(id, o.kind as PodTemplateModel['kind'], replicas, labels, specOf(template), layer, requests);
  };
  // The workload's requests are the pod spec's, already summed: not parsed again for its template.
  workloads.forEach((w, i) => podTemplates.push(templateOf(workloadObjects[i], w.id, w.replicas, manifestLayer(workloadObjects[i]), w.requests)));
  for (const o of kind('DaemonSet')) podTemplates.push(templateOf(o, `DaemonSet/${namespaceOf(o)}/${nameOf(o)}`, 0, manifestLayer(o)));
  const daemonSetOf = (o: K8sObject, id: string): DaemonSetModel => {
    const template = isObject(specOf(o).template) ? (specOf(o).template as Json) : {};
    const podSpec = specOf(template);
    return { id, requests: podRequests(podSpec), tolerations: tolerationsOf(podSpec), nodeSelector: nodeSelectorOf(podSpec) };
  };
  const daemonSets: DaemonSetModel[] = kind('DaemonSet').map((o) => daemonSetOf(o, `DaemonSet/${namespaceOf(o)}/${nameOf(o)}`));

  // HelmRelease add-ons: their pods are not in the manifests, so render what their chart would from the values.
  const unanalysedCharts: string[] = [];
  for (const h of kind('HelmRelease')) {
    const chart = chartOf(h);
    const release = { name: nameOf(h), namespace: String(specOf(h).targetNamespace ?? namespaceOf(h)), id: `HelmRelease/${namespaceOf(h)}/${nameOf(h)}` };
    const model = Object.hasOwn(CHART_WORKLOADS, chart) ? CHART_WORKLOADS[chart] : undefined;
    if (!model) {
      unanalysedCharts.push(`${release.id} (chart ${chart || 'unknown'})`);
      continue;
    }
    const given = isObject(specOf(h).values) ? (specOf(h).values as Json) : {};
    const values = model.defaults === 'stored' ? renderedValues(options.charts ?? sharedStoredCharts(), chart, pinnedVersion(h, release.id), release.id, given, model.subcharts) : given;
    for (const c of model.extract(values, release)) {
      const id = c.component ? `${release.id}:${c.component}` : release.id;
      const name = c.component ? `${release.name}-${c.component}` : release.name;
      const rendered = { apiVersion: 'apps/v1', kind: c.kind, metadata: { name, namespace: release.namespace }, spec: { replicas: c.replicas, template: { metadata: { labels: c.labels }, spec: c.podSpec } } } as K8sObject;
      const provides = providesOf(chart, c.component, values);
      const template = podTemplateOf(id, c.kind, c.kind === 'DaemonSet' ? 0 : (c.hpa?.minReplicas ?? c.replicas ?? 1), c.labels, c.podSpec, manifestLayer(h));
      podTemplates.push(provides ? podTemplate({ ...template, provides }) : template);
      if (c.kind === 'DaemonSet') {
        daemonSets.push(daemonSetOf(rendered, id));
        continue;
      }
      const pdbs: PdbModel[] = c.pdb ? [{ name: `${release.id} (chart PodDisruptionBudget)`, minAvailable: c.pdb.minAvailable, maxUnavailable: c.pdb.maxUnavailable }] : [];
      const hpa = c.hpa ? { name: `${release.id} (chart HorizontalPodAutoscaler)`, ...c.hpa, scaleUp: scaleUpOf(isObject(values.autoscaling) ? values.autoscaling : {}, release.id) } : undefined;
      workloads.push(workloadOf(rendered, id, { pdbs, ...(hpa ? { hpa } : {}), claimClasses: c.claimClasses, addon: addonOf([release.name, chart]), notCritical: c.notCritical }));
    }
  }

  const cnpgClusters = kind('Cluster').filter((o) => /^postgresql\.cnpg\.io\//.test(String(o.apiVersion)));
  workloads.push(...cnpgClusters.map((o) => cnpgCluster(o, storage)));

  const evidence = new Map<AddonId, string[]>();
  const note = (names: string[], what: string): void => {
    const id = addonOf(names);
    if (id) evidence.set(id, [...(evidence.get(id) ?? []), what]);
  };
  for (const h of kind('HelmRelease')) {
    note([nameOf(h), chartOf(h), String(specOf(h).releaseName ?? '')], `HelmRelease/${namespaceOf(h)}/${nameOf(h)}`);
  }
  for (const o of [...kind('Deployment'), ...kind('DaemonSet'), ...kind('StatefulSet')]) note([nameOf(o)], `${o.kind}/${namespaceOf(o)}/${nameOf(o)}`);
  const addons: AddonModel[] = ADDON_PATTERNS.map(([id]) => ({ id, present: evidence.has(id), evidence: evidence.get(id) ?? [] }));

  const hintTexts: string[] = [];
  for (const cm of kind('ConfigMap')) for (const v of Object.values(strRecord(cm.data))) hintTexts.push(v);
  for (const cj of kind('CronJob')) if (/etcd/.test(nameOf(cj))) hintTexts.push(`etcd snapshot ${String(specOf(cj).schedule ?? '')}`);

  // PriorityClasses: the two built-in system classes (their values are fixed by the API server), then the manifests'.
  const priorityClasses: Record<string, number> = { 'system-cluster-critical': 2_000_000_000, 'system-node-critical': 2_000_001_000 };
  let defaultPriority = 0;
  for (const pc of kind('PriorityClass')) {
    const value = num(pc.value) ?? 0;
    priorityClasses[nameOf(pc)] = value;
    if (pc.globalDefault === true) defaultPriority = value;
  }

  // cluster-autoscaler: its chart's values, else a Deployment's command line.
  const autoscalerRelease = kind('HelmRelease').find((h) => chartOf(h) === 'cluster-autoscaler');
  const autoscalerDeployment = kind('Deployment').find((d) => /cluster-autoscaler/.test(nameOf(d)));
  const containerArgs = (o: K8sObject): string[] => {
    const template = isObject(specOf(o).template) ? (specOf(o).template as Json) : {};
    return arr(specOf(template).containers).flatMap((c) => [...(Array.isArray(c.command) ? c.command : []), ...(Array.isArray(c.args) ? c.args : [])].map(String));
  };
  const autoscaler = autoscalerRelease
    ? autoscalerFromValues(isObject(specOf(autoscalerRelease).values) ? (specOf(autoscalerRelease).values as Json) : {}, `HelmRelease/${namespaceOf(autoscalerRelease)}/${nameOf(autoscalerRelease)}`)
    : autoscalerDeployment
      ? autoscalerFromArgs(containerArgs(autoscalerDeployment), `Deployment/${namespaceOf(autoscalerDeployment)}/${nameOf(autoscalerDeployment)}`)
      : undefined;

  const metricsRelease = kind('HelmRelease').find((h) => chartOf(h) === 'metrics-server');
  const metricsDeployment = kind('Deployment').find((d) => /^metrics-server/.test(nameOf(d)));
  const metricsServer = metricsRelease
    ? metricsServerFromValues(isObject(specOf(metricsRelease).values) ? (specOf(metricsRelease).values as Json) : {}, `HelmRelease/${namespaceOf(metricsRelease)}/${nameOf(metricsRelease)}`)
    : metricsDeployment
      ? metricsServerFromArgs(containerArgs(metricsDeployment), `Deployment/${namespaceOf(metricsDeployment)}/${nameOf(metricsDeployment)}`)
      : undefined;

  return {
    objectCount: objects.length,
    autoscaler,
    ...(metricsServer ? { metricsServer } : {}),
    priorityClasses,
    defaultPriority,
    databaseArchives: cnpgClusters.map(databaseArchive).filter((d): d is DatabaseArchiveModel => d !== undefined),
    workloads,
    daemonSets,
    addons,
    unanalysedCharts,
    orphanPdbs: kind('PodDisruptionBudget')
      .filter((p) => !usedPdbs.has(p))
      .map((p) => `${namespaceOf(p)}/${nameOf(p)}`),
    hints: runtimeHints(hintTexts),
    podTemplates,
    fluxLayers: fluxLayerOrder(kind('Kustomization').filter((k) => /^kustomize\.toolkit\.fluxcd\.io\//.test(String(k.apiVersion)))),
  };
}

/** One `spec.metrics` entry for people: `Resource cpu 70% Utilization`. */
function metricLine(m: Json): string {
  const type = String(m.type ?? 'unknown');
  const body = isObject(m.resource) ? m.resource : isObject(m.containerResource) ? m.containerResource : isObject(m.pods) ? m.pods : isObject(m.object) ? m.object : isObject(m.external) ? m.external : {};
  const metric = isObject(body.metric) ? String(body.metric.name ?? '') : String(body.name ?? '');
  const target = isObject(body.target) ? body.target : {};
  const value = target.averageUtilization !== undefined ? `${String(target.averageUtilization)}%` : String(target.averageValue ?? target.value ?? '');
  return [type, metric, value, String(target.type ?? '')].filter((x) => x !== '').join(' ');
}

/** Flux Kustomizations in apply order: each after the ones it dependsOn (declaration order otherwise). */
function fluxLayerOrder(kustomizations: readonly K8sObject[]): string[] {
  const deps = new Map(kustomizations.map((k) => [nameOf(k), arr(specOf(k).dependsOn).map((d) => String(d.name))]));
  const order: string[] = ['cluster'];
  const visit = (name: string, path: readonly string[]): void => {
    if (order.includes(name) || path.includes(name) || !deps.has(name)) return;
    for (const d of deps.get(name) ?? []) visit(d, [...path, name]);
    order.push(name);
  };
  for (const name of deps.keys()) visit(name, []);
  return order;
}
