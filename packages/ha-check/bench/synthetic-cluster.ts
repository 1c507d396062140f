import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REGION_AVAILABILITY_ZONES, azSuffix, clusterNames, defaultPlatform, nodeTerminationNames } from '@platform/platform-config';
import { stringify } from 'yaml';
import type { AddonId } from '../src/model';
import { TERMINATION_EVENTS } from '../src/private/termination-analysis';
import { pinnedChartVersions } from './pinned-charts';

const TERMINATING_HOOK = { name: 'node-terminating', lifecycle_transition: 'autoscaling:EC2_INSTANCE_TERMINATING', heartbeat_timeout: 600, default_result: 'CONTINUE' };

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
  /** CPU limit of the container. @default none */
  readonly cpuLimit?: string;
  /** @default '128Mi' */
  readonly memory?: string;
  /** `nodeTaintsPolicy` of the zone spread. @default 'Honor' */
  readonly nodeTaintsPolicy?: 'Honor' | 'Ignore';
  /** `spec.priorityClassName`. @default - none (the default priority) */
  readonly priorityClassName?: string;
  /** The HPA's `spec.behavior.scaleUp`. @default - none (the API server's defaults) */
  readonly hpaScaleUp?: Record<string, unknown>;
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
  /**
   * How nodes reach the API: `private-zone` (the target design: an internal NLB behind a Route 53
   * private hosted zone record, plus a public NLB for operators limited to `operatorCidrs`), or
   * `public-nlb` (nodes use the internet-facing NLB's DNS name: through their NAT). @default 'private-zone'
   */
  readonly apiEndpoint?: 'private-zone' | 'public-nlb';
  /** One realistic fault in the network, to prove ha-check finds it. @default none */
  readonly networkFault?: NetworkFault | null;
  /** CIDRs operators reach the public API from. @default ['203.0.113.0/24'] */
  readonly operatorCidrs?: readonly string[];
  /** The public API's security group admits the NAT gateways' Elastic IPs (/32 each). @default false */
  readonly apiAdmitsNatEips?: boolean;
  /** The bootstrap add-ons in the control plane's user data; none when null. @default 'ha' */
  readonly bootstrap?: BootstrapShape | null;
  /** PriorityClasses (name → value) in the infrastructure folder. @default none */
  readonly priorityClasses?: Readonly<Record<string, number>>;
  /** The cluster-autoscaler's `autoDiscovery.tags`; undefined keeps the chart's default (enabled and the cluster's tag). @default - chart default */
  readonly autoscalerDiscoveryTags?: readonly string[];
  /** Taints of the worker pool (kubeadm join configuration / autoscaler node-template tags). @default none */
  readonly workerTaints?: ReadonlyArray<{ readonly key: string; readonly value: string; readonly effect: string }>;
}

/**
 * `private-zone-unassociated`: the private hosted zone names another VPC; `nodeports-closed`: the
 * workers admit nothing from the ingress LB; `kubelet-closed`: no 10250 from the control plane;
 * `etcd-same-subnet`: etcd peers admitted only from the first AZ's subnet; `health-checker-blocked`:
 * the ingress LB admits only the VPC (Route 53's checkers are public); `no-icmp`: no ICMP between nodes.
 */
export type NetworkFault = 'private-zone-unassociated' | 'nodeports-closed' | 'kubelet-closed' | 'etcd-same-subnet' | 'health-checker-blocked' | 'no-icmp';

export interface SyntheticCluster {
  readonly name: string;
  /** A CDKTF `cdk.tf.json` document. */
  readonly terraform: Record<string, unknown>;
  /** Folder (relative to `clusters/<name>`) → objects, Flux layout. */
  readonly manifests: Readonly<Record<'flux-system' | 'infrastructure' | 'apps', readonly Record<string, unknown>[]>>;
}

const ref = (type: string, name: string, attr = 'id'): string => `\${${type}.${name}.${attr}}`;
const ZONE = 'topology.kubernetes.io/zone';

/**
 * The add-ons node-bootstrap installs on the first control-plane node: `ha` (they come up on a
 * NotReady, uninitialized node with no zone label), `deadlock` (today's shipped values: the Cilium
 * operator's zone spread is DoNotSchedule and the cloud controller does not tolerate not-ready),
 * `ccm-not-ready` (only the cloud controller's not-ready toleration is missing: it waits for the
 * CNI, which does not wait for it), `operator-zone-spread` (only the operator's hard zone spread:
 * it waits for the cloud controller, which does not wait for it), `operator-no-uninitialized` (the
 * operator does not tolerate uninitialized and the cloud controller not not-ready),
 * `agent-no-worker-taint` (the agent tolerates nothing a tainted worker pool carries).
 */
export type BootstrapShape = 'ha' | 'deadlock' | 'ccm-not-ready' | 'operator-zone-spread' | 'operator-no-uninitialized' | 'agent-no-worker-taint';

function bootstrapValues(shape: BootstrapShape): Record<string, Record<string, unknown>> {
  const cp = { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' };
  const notReady = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' };
  const uninitialized = { key: 'node.cloudprovider.kubernetes.io/uninitialized', operator: 'Exists', effect: 'NoSchedule' };
  const hardZone = shape === 'deadlock' || shape === 'operator-zone-spread';
  const ccmNotReady = shape !== 'deadlock' && shape !== 'ccm-not-ready' && shape !== 'operator-no-uninitialized';
  return {
    'cilium-values.yaml': {
      ipam: { mode: 'cluster-pool' },
      ...(shape === 'agent-no-worker-taint' ? { tolerations: [cp, notReady, uninitialized] } : {}),
      operator: {
        replicas: 2,
        tolerations: [cp, { key: 'node.kubernetes.io/not-ready', operator: 'Exists' }, ...(shape === 'operator-no-uninitialized' ? [] : [uninitialized])],
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: hardZone ? 'DoNotSchedule' : 'ScheduleAnyway', labelSelector: { matchLabels: { 'io.cilium/app': 'operator' } } }],
      },
    },
    'ccm-values.yaml': { hostNetworking: true, nodeSelector: { 'node-role.kubernetes.io/control-plane': '' }, tolerations: [uninitialized, cp, ...(ccmNotReady ? [notReady] : [])] },
    'flux-operator-values.yaml': { tolerations: [cp, notReady] },
  };
}

/** The cloud-config node-bootstrap renders, as CDKTF writes it: `${base64gzip(join("", [...]))}` with the endpoint interpolated. */
function userData(role: 'control-plane' | 'worker', endpoint: string, bootstrap: BootstrapShape | null): string {
  const PLACEHOLDER = '@@API_ENDPOINT@@';
  // The chart versions install-addons.sh installs, as node-bootstrap's env file carries them.
  const versions = pinnedChartVersions();
  const addonVersions = role === 'control-plane' ? `CILIUM_VERSION='${versions.get('cilium') ?? ''}'\nCCM_VERSION='${versions.get('aws-cloud-controller-manager') ?? ''}'\n` : '';
  const files: Array<{ path: string; content: string }> = [{ path: '/etc/node-bootstrap/env', content: `ROLE='${role}'\nAPI_ENDPOINT='${PLACEHOLDER}'\n${addonVersions}` }];
  if (role === 'control-plane') {
    if (bootstrap) for (const [file, values] of Object.entries(bootstrapValues(bootstrap))) files.push({ path: `/etc/node-bootstrap/addons/${file}`, content: stringify(values) });
    files.push({ path: '/etc/systemd/system/join-material-refresh.timer', content: '[Timer]\nOnUnitActiveSec=900s\n' });
    files.push({ path: '/etc/systemd/system/etcd-snapshot.timer', content: '[Timer]\nOnUnitActiveSec=15min\n' });
  }
  const text = `#cloud-config\n${stringify({ write_files: files })}`;
  const [head, tail] = text.split(PLACEHOLDER);
  const literal = !endpoint.startsWith('${');
  const parts = literal ? [JSON.stringify(head + endpoint + tail)] : [JSON.stringify(head), endpoint.slice(2, -1), JSON.stringify(tail)];
  return `\${base64gzip(join("", [${parts.join(', ')}]))}`;
}

type AddResource = (type: string, name: string, values: Record<string, unknown>) => void;

/** Security groups as the target design has them (one rule per flow), `networkFault` breaking one. */
function securityGroups(o: { readonly name: string; readonly networkFault: NetworkFault | null; readonly operatorCidrs: readonly string[]; readonly apiAdmitsNatEips: boolean }, natEips: readonly string[], add: AddResource): void {
  const vpcCidr = '10.90.0.0/16';
  for (const g of ['control_plane', 'worker', 'api_public', 'api_internal', 'ingress']) add('aws_security_group', g, { name: `${o.name}-${g.replace('_', '-')}`, vpc_id: ref('aws_vpc', 'vpc') });
  let n = 0;
  const rule = (dir: 'ingress' | 'egress', sg: string, protocol: string, from: number, to: number, peer: { cidr?: string; sg?: string }): void =>
    add(`aws_vpc_security_group_${dir}_rule`, `${sg}_${dir}_${n++}`, {
      security_group_id: ref('aws_security_group', sg),
      ip_protocol: protocol,
      ...(protocol === '-1' ? {} : { from_port: from, to_port: to }),
      ...(peer.cidr ? { cidr_ipv4: peer.cidr } : { referenced_security_group_id: ref('aws_security_group', peer.sg ?? sg) }),
    });
  const nodes = ['control_plane', 'worker'];
  for (const sg of nodes) {
    rule('egress', sg, '-1', -1, -1, { cidr: '0.0.0.0/0' });
    for (const from of nodes) {
      rule('ingress', sg, 'udp', 8472, 8472, { sg: from });
      rule('ingress', sg, 'tcp', 4240, 4240, { sg: from });
      if (o.networkFault !== 'no-icmp') rule('ingress', sg, 'icmp', -1, -1, { sg: from });
    }
    if (o.networkFault !== 'kubelet-closed') rule('ingress', sg, 'tcp', 10250, 10250, { sg: 'control_plane' });
  }
  if (o.networkFault === 'etcd-same-subnet') rule('ingress', 'control_plane', 'tcp', 2379, 2380, { cidr: '10.90.64.0/20' });
  else rule('ingress', 'control_plane', 'tcp', 2379, 2380, { sg: 'control_plane' });
  for (const lb of ['api_public', 'api_internal']) {
    rule('ingress', 'control_plane', 'tcp', 6443, 6443, { sg: lb });
    rule('egress', lb, 'tcp', 6443, 6443, { cidr: vpcCidr });
  }
  rule('ingress', 'api_internal', 'tcp', 6443, 6443, { cidr: vpcCidr });
  for (const cidr of o.operatorCidrs) rule('ingress', 'api_public', 'tcp', 6443, 6443, { cidr });
  if (o.apiAdmitsNatEips) for (const eip of natEips) rule('ingress', 'api_public', 'tcp', 6443, 6443, { cidr: `\${aws_eip.${eip}.public_ip}/32` });
  rule('ingress', 'api_public', 'tcp', 6443, 6443, { cidr: vpcCidr });
  for (const port of [80, 443]) rule('ingress', 'ingress', 'tcp', port, port, { cidr: o.networkFault === 'health-checker-blocked' ? vpcCidr : '0.0.0.0/0' });
  rule('egress', 'ingress', 'tcp', 30080, 30080, { cidr: vpcCidr });
  if (o.networkFault !== 'nodeports-closed') rule('ingress', 'worker', 'tcp', 30080, 30080, { sg: 'ingress' });
}

function terraform(o: Required<Omit<SyntheticClusterOptions, 'apps' | 'generatedApps' | 'addons' | 'networkFault' | 'bootstrap' | 'priorityClasses' | 'autoscalerDiscoveryTags'>> & { readonly networkFault: NetworkFault | null; readonly bootstrap: BootstrapShape | null }): Record<string, unknown> {
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
  securityGroups(o, natAzs.map((az) => `nat_${azSuffix(az)}`), add);
  const apiHealth = { protocol: 'HTTPS', path: '/readyz', interval: 10, healthy_threshold: 2, unhealthy_threshold: 2 };
  add('aws_lb', 'api', { name: names.apiLoadBalancer, load_balancer_type: 'network', internal: false, enable_cross_zone_load_balancing: true, security_groups: [ref('aws_security_group', 'api_public')], subnets: o.nlbAzs.map((az) => ref('aws_subnet', `public_${azSuffix(az)}`)) });
  add('aws_lb_target_group', 'api', { name: names.apiTargetGroup, port: 6443, protocol: 'TCP', vpc_id: ref('aws_vpc', 'vpc'), deregistration_delay: '30', preserve_client_ip: 'false', health_check: apiHealth });
  add('aws_lb_listener', 'api', { load_balancer_arn: ref('aws_lb', 'api', 'arn'), port: 6443, protocol: 'TCP', default_action: [{ type: 'forward', target_group_arn: ref('aws_lb_target_group', 'api', 'arn') }] });
  const apiTargetGroups = [ref('aws_lb_target_group', 'api', 'arn')];
  if (o.apiEndpoint === 'private-zone') {
    add('aws_lb', 'api_internal', { name: `${names.apiLoadBalancer}-int`, load_balancer_type: 'network', internal: true, enable_cross_zone_load_balancing: true, security_groups: [ref('aws_security_group', 'api_internal')], subnets: o.nlbAzs.map((az) => ref('aws_subnet', `private_${azSuffix(az)}`)) });
    add('aws_lb_target_group', 'api_internal', { name: `${names.apiTargetGroup}-int`, port: 6443, protocol: 'TCP', vpc_id: ref('aws_vpc', 'vpc'), deregistration_delay: '30', preserve_client_ip: 'false', health_check: apiHealth });
    add('aws_lb_listener', 'api_internal', { load_balancer_arn: ref('aws_lb', 'api_internal', 'arn'), port: 6443, protocol: 'TCP', default_action: [{ type: 'forward', target_group_arn: ref('aws_lb_target_group', 'api_internal', 'arn') }] });
    apiTargetGroups.push(ref('aws_lb_target_group', 'api_internal', 'arn'));
    const vpcOfZone = o.networkFault === 'private-zone-unassociated' ? ref('aws_vpc', 'other') : ref('aws_vpc', 'vpc');
    if (o.networkFault === 'private-zone-unassociated') add('aws_vpc', 'other', { cidr_block: '10.91.0.0/16' });
    add('aws_route53_zone', 'private', { name: `${o.name}.internal`, vpc: [{ vpc_id: vpcOfZone }] });
    add('aws_route53_record', 'api_private', { zone_id: ref('aws_route53_zone', 'private', 'zone_id'), name: `api.${o.name}.internal`, type: 'A', alias: { name: ref('aws_lb', 'api_internal', 'dns_name'), zone_id: ref('aws_lb', 'api_internal', 'zone_id'), evaluate_target_health: true } });
  }
  if (o.ingressAzs) {
    add('aws_lb', 'ingress', { name: names.ingressLoadBalancer, load_balancer_type: 'network', internal: false, enable_cross_zone_load_balancing: true, security_groups: [ref('aws_security_group', 'ingress')], subnets: o.ingressAzs.map((az) => ref('aws_subnet', `public_${azSuffix(az)}`)) });
    add('aws_lb_target_group', 'ingress_http', { name: `${o.name}-ingress-http`, port: 30080, protocol: 'TCP', vpc_id: ref('aws_vpc', 'vpc'), preserve_client_ip: 'false', health_check: { protocol: 'HTTP', path: '/ping', port: '30080', interval: 10, healthy_threshold: 2, unhealthy_threshold: 2 } });
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
  const endpoint = o.apiEndpoint === 'private-zone' ? `api.${o.name}.internal` : ref('aws_lb', 'api', 'dns_name');
  add('aws_launch_template', 'control_plane', { name: `${o.name}-control-plane`, instance_type: 'm7i.large', vpc_security_group_ids: [ref('aws_security_group', 'control_plane')], user_data: userData('control-plane', endpoint, o.bootstrap) });
  add('aws_launch_template', 'worker', { name: names.workerLaunchTemplate({ name: 'general' }), instance_type: o.workerInstanceType, vpc_security_group_ids: [ref('aws_security_group', 'worker')], user_data: userData('worker', endpoint, null) });
  o.controlPlaneAzs.forEach((az, i) => {
    add('aws_autoscaling_group', `control_plane_${i}`, {
      name: `${names.controlPlaneAsg(az)}${o.controlPlaneAzs.indexOf(az) === i ? '' : `-${i}`}`,
      min_size: 1,
      max_size: 1,
      desired_capacity: 1,
      vpc_zone_identifier: [ref('aws_subnet', `private_${azSuffix(az)}`)],
      target_group_arns: apiTargetGroups,
      launch_template: { id: ref('aws_launch_template', 'control_plane'), version: '$Latest' },
      initial_lifecycle_hook: [TERMINATING_HOOK],
    });
  });
  for (const az of o.azs) {
    add('aws_autoscaling_group', `worker_${azSuffix(az)}`, {
      name: names.workerAsg({ name: 'general' }, az),
      min_size: o.workersPerAz.min,
      max_size: o.workersPerAz.max,
      vpc_zone_identifier: [ref('aws_subnet', `private_${azSuffix(az)}`)],
      ...(o.ingressAzs ? { target_group_arns: [ref('aws_lb_target_group', 'ingress_http', 'arn')] } : {}),
      initial_lifecycle_hook: [TERMINATING_HOOK],
      mixed_instances_policy: { launch_template: { launch_template_specification: { launch_template_id: ref('aws_launch_template', 'worker'), version: '$Latest' }, override: [{ instance_type: o.workerInstanceType }] } },
      tag: [
        ...names.autoscalerDiscoveryTags.map((key) => ({ key, value: 'owned', propagate_at_launch: false })),
        { key: 'k8s.io/cluster-autoscaler/node-template/label/node.platform.io/pool', value: 'general', propagate_at_launch: false },
        ...o.workerTaints.map((t) => ({ key: `k8s.io/cluster-autoscaler/node-template/taint/${t.key}`, value: `${t.value}:${t.effect}`, propagate_at_launch: false })),
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
  // Node-termination handling (ha-check "Node termination"): a queue EventBridge can write to, a rule per event.
  const events = { sid: 'Events', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' } };
  add('aws_kms_key', 'termination', { policy: JSON.stringify({ Statement: [{ ...events, Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: '*' }] }) });
  add('aws_sqs_queue', 'termination', { name: names.nodeTermination.queue, kms_master_key_id: ref('aws_kms_key', 'termination', 'arn') });
  add('aws_sqs_queue_policy', 'termination', { queue_url: ref('aws_sqs_queue', 'termination', 'url'), policy: JSON.stringify({ Statement: [{ ...events, Action: 'sqs:SendMessage', Resource: '*' }] }) });
  Object.values(TERMINATION_EVENTS).forEach((detailType, i) => {
    add('aws_cloudwatch_event_rule', `termination_${i}`, { name: `${o.name}-termination-${i}`, event_pattern: JSON.stringify({ 'detail-type': [detailType] }) });
    add('aws_cloudwatch_event_target', `termination_${i}`, { rule: ref('aws_cloudwatch_event_rule', `termination_${i}`, 'name'), arn: ref('aws_sqs_queue', 'termination', 'arn') });
  });
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
    containers: [{ name: a.name, image: `registry.example/${a.name}:1.0.0`, resources: { requests: { cpu: a.cpu ?? '100m', memory: a.memory ?? '128Mi' }, ...(a.cpuLimit ? { limits: { cpu: a.cpuLimit } } : {}) }, readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 } }],
    tolerations: tolerations(a.tolerationSeconds),
    nodeSelector: { 'node.platform.io/pool': 'general' },
  };
  if (spread !== 'none' && !a.zoneAntiAffinity) {
    podSpec.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: spread === 'hard' ? 'DoNotSchedule' : 'ScheduleAnyway', nodeTaintsPolicy: a.nodeTaintsPolicy ?? 'Honor', labelSelector: { matchLabels: labels } }];
  }
  if (a.priorityClassName) podSpec.priorityClassName = a.priorityClassName;
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
    objects.push({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind, name: a.name }, minReplicas: replicas, maxReplicas: hpaMax, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }], ...(a.hpaScaleUp ? { behavior: { scaleUp: a.hpaScaleUp } } : {}) } });
  }
  return objects;
}

/** `version` as the shipped clusters pin the chart (none for a chart they do not ship through a HelmRepository). */
const chartVersion = (chart: string): { version?: string } => {
  const version = pinnedChartVersions().get(chart);
  return version ? { version } : {};
};

const ADDON_CHARTS: Readonly<Record<AddonId, readonly [string, string]>> = {
  'cloud-controller': ['aws-cloud-controller-manager', 'aws-cloud-controller-manager'],
  'cluster-autoscaler': ['cluster-autoscaler', 'cluster-autoscaler'],
  'metrics-server': ['metrics-server', 'metrics-server'],
  'ebs-csi': ['aws-ebs-csi-driver', 'aws-ebs-csi-driver'],
  coredns: ['coredns', 'coredns'],
};

/** HA values for each add-on's chart (ha-check models them from `spec.values`): two replicas, zone spread, PDB, 30 s evictions. */
function haValues(release: string): Record<string, unknown> {
  const tolerations = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }));
  const spread = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { 'app.kubernetes.io/instance': release } } }];
  return { tolerations, topologySpreadConstraints: spread };
}

function addonValues(id: AddonId, release: string, cluster: string, discoveryTags: readonly string[] | undefined): Record<string, unknown> {
  const ha = haValues(release);
  switch (id) {
    case 'cloud-controller':
      return { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }] };
    case 'cluster-autoscaler':
      return { replicaCount: 2, autoDiscovery: { clusterName: cluster, ...(discoveryTags ? { tags: [...discoveryTags] } : {}) }, ...ha };
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
    apiEndpoint: options.apiEndpoint ?? 'private-zone',
    networkFault: options.networkFault ?? null,
    operatorCidrs: options.operatorCidrs ?? ['203.0.113.0/24'],
    apiAdmitsNatEips: options.apiAdmitsNatEips ?? false,
    bootstrap: options.bootstrap === undefined ? 'ha' : options.bootstrap,
    workerTaints: options.workerTaints ?? [],
  });
  const addons = options.addons ?? (Object.keys(ADDON_CHARTS) as AddonId[]);
  // The termination handler runs on the control plane (as shipped): it takes no worker capacity.
  const ha = haValues('aws-node-termination-handler');
  const controlPlaneHa = { ...ha, nodeSelector: { 'node-role.kubernetes.io/control-plane': '' }, tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }, ...(ha.tolerations as object[])] };
  const infrastructure: Record<string, unknown>[] = [
    { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'gp3', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'ebs.csi.aws.com', volumeBindingMode: 'WaitForFirstConsumer', parameters: { type: 'gp3', encrypted: 'true' } },
    ...addons.map((id) => ({
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: ADDON_CHARTS[id][0], namespace: 'kube-system' },
      spec: { interval: '10m', chart: { spec: { chart: ADDON_CHARTS[id][1], ...chartVersion(ADDON_CHARTS[id][1]), sourceRef: { kind: 'HelmRepository', name: ADDON_CHARTS[id][0] } } }, values: addonValues(id, ADDON_CHARTS[id][0], name, options.autoscalerDiscoveryTags) },
    })),
    ...Object.entries(options.priorityClasses ?? {}).map(([pc, value]) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: pc }, value, globalDefault: false })),
    { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name: 'aws-node-termination-handler', namespace: 'kube-system' }, spec: { interval: '10m', chart: { spec: { chart: 'aws-node-termination-handler' } }, values: { enableSqsTerminationDraining: true, queueURL: `https://sqs.${region}.amazonaws.com/111111111111/${nodeTerminationNames(name).queue}`, replicas: 2, podDisruptionBudget: { maxUnavailable: 1 }, ...controlPlaneHa } } },
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
