import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REGION_AVAILABILITY_ZONES, azSuffix, clusterNames, defaultPlatform } from '@platform/platform-config';
import { stringify } from 'yaml';
import type { AddonId } from '../src/model';

/** One application of a synthetic cluster; every field defaults to the HA workload pattern. */
export interface SyntheticApp {
  readonly name: string;
  /** @default 'Deployment' */
  readonly kind?: 'Deployment' | 'StatefulSet';
  /** @default 3 */
  readonly replicas?: number;
  /** HPA maximum; no HPA when 0. @default 6 */
  readonly hpaMax?: number;
  /** Zone spread: `hard` (DoNotSchedule, nodeTaintsPolicy Honor), `soft`, or `none`. @default 'hard' */
  readonly spread?: 'hard' | 'soft' | 'none';
  /** Required pod anti-affinity on the zone key instead of spread. @default false */
  readonly zoneAntiAffinity?: boolean;
  /** PDB spec; none when false. @default { maxUnavailable: 1 } */
  readonly pdb?: { readonly maxUnavailable?: number | string; readonly minAvailable?: number | string } | false;
  /** A gp3 (EBS) volumeClaimTemplate of this size (StatefulSets). @default - none */
  readonly ebsGiB?: number;
  /** not-ready/unreachable toleration seconds; null: no tolerations (the 300 s defaults). @default 30 */
  readonly tolerationSeconds?: number | null;
  /** @default '100m' */
  readonly cpu?: string;
  /** @default '128Mi' */
  readonly memory?: string;
}

export interface SyntheticClusterOptions {
  /** @default 'fixture' */
  readonly name?: string;
  /** @default 'ap-northeast-2' */
  readonly region?: string;
  /** @default the region's first three AZs */
  readonly azs?: readonly string[];
  /** @default 'per-az' */
  readonly nat?: 'per-az' | 'single';
  /** One control-plane node per entry. @default one per AZ */
  readonly controlPlaneAzs?: readonly string[];
  /** AZs whose public subnet the API NLB uses. @default every AZ */
  readonly nlbAzs?: readonly string[];
  /** Worker nodes per AZ now / at most. @default { min: 2, max: 10 } */
  readonly workersPerAz?: { readonly min: number; readonly max: number };
  /** @default 'm7i.xlarge' */
  readonly workerInstanceType?: string;
  /** An internet-facing app ingress NLB (80/443 → NodePort 30080) on the worker ASGs, in these AZs. @default every AZ */
  readonly ingressAzs?: readonly string[] | null;
  /**
   * A Route 53 failover record (alias to the ingress NLB) and, unless `healthCheck` is false, its
   * health check. @default none
   */
  readonly dns?: { readonly role: 'PRIMARY' | 'SECONDARY'; readonly healthCheck?: false | { readonly interval: number; readonly threshold: number }; readonly ttl?: number } | null;
  /** Backup replica region; no replication when null. @default 'ap-northeast-1' */
  readonly replicaRegion?: string | null;
  /** Add-ons deployed. @default all of them */
  readonly addons?: readonly AddonId[];
  /** @default one HA app called `web` */
  readonly apps?: readonly SyntheticApp[];
  /** Extra generated HA apps (Deployment, Service, PDB, HPA each), for benchmarks. @default 0 */
  readonly generatedApps?: number;
}

export interface SyntheticCluster {
  readonly name: string;
  /** A CDKTF `cdk.tf.json` document. */
  readonly terraform: Record<string, unknown>;
  /** Folder (relative to `clusters/<name>`) → objects, Flux layout. */
  readonly manifests: Readonly<Record<'flux-system' | 'infrastructure' | 'apps', readonly Record<string, unknown>[]>>;
}

const ref = (type: string, name: string, attr = 'id'): string => `\${${type}.${name}.${attr}}`;
const ZONE = 'topology.kubernetes.io/zone';

function terraform(o: Required<Omit<SyntheticClusterOptions, 'apps' | 'generatedApps' | 'addons'>>): Record<string, unknown> {
  const platformNames = defaultPlatform().names;
  const settings = defaultPlatform().settings;
  const names = clusterNames({ name: o.name, region: o.region, backups: { etcdSnapshotIntervalMinutes: 15, retentionDays: 14, ...(o.replicaRegion ? { replicaRegion: o.replicaRegion } : {}) }, gitops: { branch: 'main', intervalMinutes: 5 } }, settings);
  const r: Record<string, Record<string, Record<string, unknown>>> = {};
  const add = (type: string, name: string, values: Record<string, unknown>): void => {
    r[type] ??= {};
    r[type][name] = values;
  };
  add('aws_vpc', 'vpc', { cidr_block: '10.90.0.0/16' });
  add('aws_internet_gateway', 'igw', { vpc_id: ref('aws_vpc', 'vpc') });
  add('aws_route_table', 'public', { vpc_id: ref('aws_vpc', 'vpc'), route: [{ cidr_block: '0.0.0.0/0', gateway_id: ref('aws_internet_gateway', 'igw') }] });
  const natAzs = o.nat === 'single' ? [o.azs[0]] : o.azs;
  o.azs.forEach((az, i) => {
    const s = azSuffix(az);
    add('aws_subnet', `public_${s}`, { vpc_id: ref('aws_vpc', 'vpc'), availability_zone: az, cidr_block: `10.90.${i}.0/24`, map_public_ip_on_launch: true, tags: { Name: `${o.name}-public-${s}` } });
    add('aws_subnet', `private_${s}`, { vpc_id: ref('aws_vpc', 'vpc'), availability_zone: az, cidr_block: `10.90.${64 + i * 16}.0/20`, tags: { Name: `${o.name}-private-${s}` } });
    add('aws_route_table_association', `public_${s}`, { subnet_id: ref('aws_subnet', `public_${s}`), route_table_id: ref('aws_route_table', 'public') });
    if (natAzs.includes(az)) {
      add('aws_eip', `nat_${s}`, { domain: 'vpc' });
      add('aws_nat_gateway', `nat_${s}`, { allocation_id: ref('aws_eip', `nat_${s}`), subnet_id: ref('aws_subnet', `public_${s}`), tags: { Name: `${o.name}-nat-${s}` } });
    }
    const nat = natAzs.includes(az) ? s : azSuffix(natAzs[0]);
    add('aws_route_table', `private_${s}`, { vpc_id: ref('aws_vpc', 'vpc') });
    add('aws_route', `private_${s}_default`, { route_table_id: ref('aws_route_table', `private_${s}`), destination_cidr_block: '0.0.0.0/0', nat_gateway_id: ref('aws_nat_gateway', `nat_${nat}`) });
    add('aws_route_table_association', `private_${s}`, { subnet_id: ref('aws_subnet', `private_${s}`), route_table_id: ref('aws_route_table', `private_${s}`) });
  });
  add('aws_vpc_endpoint', 's3', { vpc_id: ref('aws_vpc', 'vpc'), service_name: `com.amazonaws.${o.region}.s3`, route_table_ids: o.azs.map((az) => ref('aws_route_table', `private_${azSuffix(az)}`)) });
  add('aws_lb', 'api', { name: names.apiLoadBalancer, load_balancer_type: 'network', internal: false, enable_cross_zone_load_balancing: true, subnets: o.nlbAzs.map((az) => ref('aws_subnet', `public_${azSuffix(az)}`)) });
  add('aws_lb_target_group', 'api', { name: names.apiTargetGroup, port: 6443, protocol: 'TCP', vpc_id: ref('aws_vpc', 'vpc'), deregistration_delay: '30', health_check: { protocol: 'HTTPS', path: '/readyz', interval: 10, healthy_threshold: 2, unhealthy_threshold: 2 } });
  add('aws_lb_listener', 'api', { load_balancer_arn: ref('aws_lb', 'api', 'arn'), port: 6443, protocol: 'TCP', default_action: [{ type: 'forward', target_group_arn: ref('aws_lb_target_group', 'api', 'arn') }] });
  if (o.ingressAzs) {
    add('aws_lb', 'ingress', { name: names.ingressLoadBalancer, load_balancer_type: 'network', internal: false, enable_cross_zone_load_balancing: true, subnets: o.ingressAzs.map((az) => ref('aws_subnet', `public_${azSuffix(az)}`)) });
    add('aws_lb_target_group', 'ingress_http', { name: `${o.name}-ingress-http`, port: 30080, protocol: 'TCP', vpc_id: ref('aws_vpc', 'vpc'), health_check: { protocol: 'HTTP', path: '/ping', port: '30080', interval: 10, healthy_threshold: 2, unhealthy_threshold: 2 } });
    for (const port of [80, 443]) {
      add('aws_lb_listener', `ingress_${port}`, { load_balancer_arn: ref('aws_lb', 'ingress', 'arn'), port, protocol: 'TCP', default_action: [{ type: 'forward', target_group_arn: ref('aws_lb_target_group', 'ingress_http', 'arn') }] });
    }
  }
  if (o.dns) {
    if (o.dns.healthCheck !== false) {
      const hc = o.dns.healthCheck ?? { interval: 10, threshold: 3 };
      add('aws_route53_health_check', 'app', { type: 'HTTP', fqdn: ref('aws_lb', 'ingress', 'dns_name'), port: 80, resource_path: '/ping', request_interval: hc.interval, failure_threshold: hc.threshold });
    }
    add('aws_route53_record', 'app', {
      zone_id: 'Z0000000000000000000',
      name: platformNames.appHostname ?? `app.${o.name}.example.com`,
      type: 'A',
      set_identifier: o.name,
      failover_routing_policy: { type: o.dns.role },
      ...(o.dns.healthCheck !== false ? { health_check_id: ref('aws_route53_health_check', 'app') } : {}),
      ...(o.dns.ttl !== undefined ? { ttl: o.dns.ttl, records: ['192.0.2.10'] } : { alias: { name: ref('aws_lb', 'ingress', 'dns_name'), zone_id: ref('aws_lb', 'ingress', 'zone_id'), evaluate_target_health: false } }),
    });
  }
  const snapshotTimer = Buffer.from('[Timer]\n# etcd snapshot upload\nOnUnitActiveSec=15min\n').toString('base64');
  add('aws_launch_template', 'control_plane', { name: `${o.name}-control-plane`, instance_type: 'm7i.large', user_data: snapshotTimer });
  add('aws_launch_template', 'worker', { name: names.workerLaunchTemplate({ name: 'general' }), instance_type: o.workerInstanceType });
  o.controlPlaneAzs.forEach((az, i) => {
    add('aws_autoscaling_group', `control_plane_${i}`, {
      name: `${names.controlPlaneAsg(az)}${o.controlPlaneAzs.indexOf(az) === i ? '' : `-${i}`}`,
      min_size: 1,
      max_size: 1,
      desired_capacity: 1,
      vpc_zone_identifier: [ref('aws_subnet', `private_${azSuffix(az)}`)],
      target_group_arns: [ref('aws_lb_target_group', 'api', 'arn')],
      launch_template: { id: ref('aws_launch_template', 'control_plane'), version: '$Latest' },
    });
  });
  for (const az of o.azs) {
    add('aws_autoscaling_group', `worker_${azSuffix(az)}`, {
      name: names.workerAsg({ name: 'general' }, az),
      min_size: o.workersPerAz.min,
      max_size: o.workersPerAz.max,
      vpc_zone_identifier: [ref('aws_subnet', `private_${azSuffix(az)}`)],
      ...(o.ingressAzs ? { target_group_arns: [ref('aws_lb_target_group', 'ingress_http', 'arn')] } : {}),
      mixed_instances_policy: { launch_template: { launch_template_specification: { launch_template_id: ref('aws_launch_template', 'worker'), version: '$Latest' }, override: [{ instance_type: o.workerInstanceType }] } },
      tag: [
        ...names.autoscalerDiscoveryTags.map((key) => ({ key, value: 'owned', propagate_at_launch: false })),
        { key: 'k8s.io/cluster-autoscaler/node-template/label/node.platform.io/pool', value: 'general', propagate_at_launch: false },
        { key: names.clusterTagKey, value: 'owned', propagate_at_launch: true },
      ],
    });
  }
  add('aws_s3_bucket', 'etcd_backups', { bucket: names.etcdBackupBucket });
  if (o.replicaRegion && names.etcdBackupReplicaBucket) {
    add('aws_s3_bucket', 'etcd_backups_replica', { provider: 'aws.replica', bucket: names.etcdBackupReplicaBucket });
    add('aws_s3_bucket_replication_configuration', 'etcd_backups', {
      bucket: ref('aws_s3_bucket', 'etcd_backups'),
      role: 'arn:aws:iam::111111111111:role/replication',
      rule: [{ id: 'dr', status: 'Enabled', destination: { bucket: ref('aws_s3_bucket', 'etcd_backups_replica', 'arn') } }],
    });
  }
  add('aws_fis_experiment_template', 'az_failure', { description: names.fisExperiment });
  const providers = [{ region: o.region }, ...(o.replicaRegion ? [{ alias: 'replica', region: o.replicaRegion }] : [])];
  return {
    '//': { metadata: { backend: 'local', stackName: names.stack, version: '0.21.0' }, outputs: {} },
    provider: { aws: providers },
    resource: r,
    terraform: { required_providers: { aws: { source: 'aws', version: '5.100.0' } } },
  };
}

function tolerations(seconds: number | null | undefined): Record<string, unknown>[] {
  if (seconds === null) return [];
  return ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds ?? 30 }));
}

function app(a: SyntheticApp, namespace: string): Record<string, unknown>[] {
  const labels = { 'app.kubernetes.io/name': a.name };
  const kind = a.kind ?? 'Deployment';
  const replicas = a.replicas ?? 3;
  const spread = a.spread ?? 'hard';
  const podSpec: Record<string, unknown> = {
    containers: [{ name: a.name, image: `registry.example/${a.name}:1.0.0`, resources: { requests: { cpu: a.cpu ?? '100m', memory: a.memory ?? '128Mi' } }, readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 } }],
    tolerations: tolerations(a.tolerationSeconds),
    nodeSelector: { 'node.platform.io/pool': 'general' },
  };
  if (spread !== 'none' && !a.zoneAntiAffinity) {
    podSpec.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: spread === 'hard' ? 'DoNotSchedule' : 'ScheduleAnyway', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: labels } }];
  }
  if (a.zoneAntiAffinity) podSpec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: ZONE, labelSelector: { matchLabels: labels } }] } };
  const spec: Record<string, unknown> = { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec } };
  if (kind === 'StatefulSet') spec.serviceName = a.name;
  if (a.ebsGiB) spec.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'gp3', resources: { requests: { storage: `${a.ebsGiB}Gi` } } } }];
  const meta = { name: a.name, namespace, labels };
  const objects: Record<string, unknown>[] = [{ apiVersion: 'apps/v1', kind, metadata: meta, spec }];
  objects.push({ apiVersion: 'v1', kind: 'Service', metadata: meta, spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] } });
  const pdb = a.pdb ?? { maxUnavailable: 1 };
  if (pdb) objects.push({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta, spec: { ...pdb, selector: { matchLabels: labels } } });
  const hpaMax = a.hpaMax ?? 6;
  if (hpaMax > 0) {
    objects.push({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind, name: a.name }, minReplicas: replicas, maxReplicas: hpaMax, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }] } });
  }
  return objects;
}

const ADDON_CHARTS: Readonly<Record<AddonId, readonly [string, string]>> = {
  'cloud-controller': ['aws-cloud-controller-manager', 'aws-cloud-controller-manager'],
  'cluster-autoscaler': ['cluster-autoscaler', 'cluster-autoscaler'],
  'metrics-server': ['metrics-server', 'metrics-server'],
  'ebs-csi': ['aws-ebs-csi-driver', 'aws-ebs-csi-driver'],
  coredns: ['coredns', 'coredns'],
};

/** HA values for each add-on's chart (ha-check models them from `spec.values`): two replicas, zone spread, PDB, 30 s evictions. */
function addonValues(id: AddonId, release: string): Record<string, unknown> {
  const tolerations = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }));
  const spread = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { 'app.kubernetes.io/instance': release } } }];
  const ha = { tolerations, topologySpreadConstraints: spread };
  switch (id) {
    case 'cloud-controller':
      return { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }] };
    case 'cluster-autoscaler':
      return { replicaCount: 2, ...ha };
    case 'metrics-server':
      return { replicas: 2, podDisruptionBudget: { enabled: true, maxUnavailable: 1 }, ...ha };
    case 'ebs-csi':
      return { controller: { replicaCount: 2, ...ha } };
    case 'coredns':
      return { replicaCount: 2, podDisruptionBudget: { maxUnavailable: 1 }, ...ha };
  }
}

/** A whole cluster's synthesized output, HA by default; options break one thing at a time. */
export function syntheticCluster(options: SyntheticClusterOptions = {}): SyntheticCluster {
  const region = options.region ?? 'ap-northeast-2';
  const azs = options.azs ?? (REGION_AVAILABILITY_ZONES[region] ?? []).slice(0, 3);
  const name = options.name ?? 'fixture';
  const tf = terraform({
    name,
    region,
    azs,
    nat: options.nat ?? 'per-az',
    controlPlaneAzs: options.controlPlaneAzs ?? azs,
    nlbAzs: options.nlbAzs ?? azs,
    workersPerAz: options.workersPerAz ?? { min: 2, max: 10 },
    workerInstanceType: options.workerInstanceType ?? 'm7i.xlarge',
    replicaRegion: options.replicaRegion === undefined ? 'ap-northeast-1' : options.replicaRegion,
    ingressAzs: options.ingressAzs === undefined ? azs : options.ingressAzs,
    dns: options.dns ?? null,
  });
  const addons = options.addons ?? (Object.keys(ADDON_CHARTS) as AddonId[]);
  const infrastructure: Record<string, unknown>[] = [
    { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'gp3', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'ebs.csi.aws.com', volumeBindingMode: 'WaitForFirstConsumer', parameters: { type: 'gp3', encrypted: 'true' } },
    ...addons.map((id) => ({
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: ADDON_CHARTS[id][0], namespace: 'kube-system' },
      spec: { interval: '10m', chart: { spec: { chart: ADDON_CHARTS[id][1], sourceRef: { kind: 'HelmRepository', name: ADDON_CHARTS[id][0] } } }, values: addonValues(id, ADDON_CHARTS[id][0]) },
    })),
  ];
  const apps = [...(options.apps ?? [{ name: 'web' }])];
  for (let i = 0; i < (options.generatedApps ?? 0); i++) apps.push({ name: `svc-${String(i).padStart(5, '0')}`, cpu: '10m', memory: '16Mi' });
  const flux = (folder: string, dependsOn?: string): Record<string, unknown> => ({
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: { name: folder, namespace: 'flux-system' },
    spec: { interval: '10m', path: `./clusters/${name}/${folder}`, prune: true, wait: true, sourceRef: { kind: 'GitRepository', name: 'flux-system' }, ...(dependsOn ? { dependsOn: [{ name: dependsOn }] } : {}) },
  });
  return {
    name,
    terraform: tf,
    manifests: {
      'flux-system': [flux('infrastructure'), flux('apps', 'infrastructure')],
      infrastructure,
      apps: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } }, ...apps.flatMap((a) => app(a, 'apps'))],
    },
  };
}

/**
 * Writes `<root>/stacks/<stack>/cdk.tf.json` and `<root>/clusters/<name>/{flux-system,infrastructure,apps}`
 * with a kustomization.yaml in each folder; returns the two paths ha-check takes.
 */
export function writeSyntheticCluster(root: string, cluster: SyntheticCluster): { terraform: string; manifests: string } {
  const stack = join(root, 'stacks', String((cluster.terraform['//'] as { metadata: { stackName: string } }).metadata.stackName));
  mkdirSync(stack, { recursive: true });
  writeFileSync(join(stack, 'cdk.tf.json'), `${JSON.stringify(cluster.terraform, null, 2)}\n`);
  const clusterDir = join(root, 'clusters', cluster.name);
  const kustomization = (resources: string[]): string => stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources });
  for (const [folder, objects] of Object.entries(cluster.manifests)) {
    mkdirSync(join(clusterDir, folder), { recursive: true });
    writeFileSync(join(clusterDir, folder, 'resources.yaml'), objects.map((o) => stringify(o)).join('---\n'));
    writeFileSync(join(clusterDir, folder, 'kustomization.yaml'), kustomization(['resources.yaml']));
  }
  writeFileSync(join(clusterDir, 'kustomization.yaml'), kustomization(['flux-system']));
  return { terraform: stack, manifests: clusterDir };
}
