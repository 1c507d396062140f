import { INSTANCE_TYPES } from '@platform/platform-config';
import { secretsInState } from './private/state-secrets';
import { allocatable, instanceCapacity } from './instance-capacity';
import { HaCheckInputError } from './input-error';
import type {
  BackupReplicationModel,
  DefaultRoute,
  InfraModel,
  LoadBalancerModel,
  LoadBalancerRole,
  NatGatewayModel,
  NodeGroupModel,
  Resources,
  RuntimeHints,
  SubnetModel,
  Taint,
  TargetGroupModel,
} from './model';
import { bootstrapAddons } from './private/bootstrap-addons';
import type { NetworkModel, NetworkSubnetModel } from './network-model';
import { buildNetworkModel, networkSubnets, publiclyTargeted } from './private/network-terraform';
import { dnsFailoverRecords } from './private/route53';
import { S3_RTC_MINUTES } from './recovery-times';
import { runtimeHints } from './private/runtime-hints';
import { sharedStoredCharts, type StoredCharts } from './private/stored-charts';
import { joinTaints, userDataHints } from './private/user-data';
import {
  autoscalingAttachmentValues,
  autoscalingGroupValues,
  displayName,
  endpointRouteTableAssociation,
  launchTemplate,
  listenerValues,
  loadBalancerValues,
  natValues,
  replicationConfigurationValues,
  s3Bucket,
  s3ObjectContent,
  ssmParameterValue,
  subnetValues,
  targetGroupValues,
  vpcEndpoint,
} from './private/tf-accessors';
import { str } from './private/values';
import type { TerraformIndex, TfResource } from './terraform';

/** Kubernetes API server port: the load balancer listening here is the API endpoint. */
const API_PORT = 6443;
/** An internet-facing load balancer listening on a web port is the app's ingress. */
const WEB_PORTS = new Set([80, 443]);
/** AWS provider defaults for an NLB target group health check and deregistration delay. */
const TG_DEFAULTS = { interval: 30, healthy: 3, unhealthy: 3, deregistration: 300 };
/** AWS default `health_check_grace_period` of an Auto Scaling group. */
const ASG_DEFAULT_GRACE_SECONDS = 300;
const NODE_TEMPLATE_LABEL = 'k8s.io/cluster-autoscaler/node-template/label/';
const NODE_TEMPLATE_TAINT = 'k8s.io/cluster-autoscaler/node-template/taint/';
const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
const REGION_SUFFIX = /([a-z]{2}(?:-gov)?-[a-z]+-\d)$/;

function s3EndpointTables(index: TerraformIndex): Set<string> {
  const tables = new Set<string>();
  const endpoints = new Set<string>();
  for (const ep of index.byType('aws_vpc_endpoint')) {
    const v = vpcEndpoint(ep);
    if (!/\.s3$/.test(v.serviceName ?? '') || v.type !== 'Gateway') continue;
    endpoints.add(ep.address);
    for (const t of v.routeTables) {
      const table = index.resolve(ep, t);
      if (table) tables.add(table.address);
    }
  }
  for (const assoc of index.byType('aws_vpc_endpoint_route_table_association')) {
    const v = endpointRouteTableAssociation(assoc);
    const ep = index.resolve(assoc, v.endpoint);
    const table = index.resolve(assoc, v.routeTable);
    if (ep && table && endpoints.has(ep.address)) tables.add(table.address);
  }
  return tables;
}

/** The subnets as the AZ scenarios read them, from the packet model's routes (one reading of the route tables). */
function subnets(index: TerraformIndex, network: readonly NetworkSubnetModel[]): SubnetModel[] {
  const s3Tables = s3EndpointTables(index);
  const mapsPublic = new Map(index.byType('aws_subnet').map((s) => [s.address, subnetValues(s).mapPublicIpOnLaunch]));
  return network.map((n) => {
    const r = n.defaultRoute;
    const defaultRoute: DefaultRoute =
      r === undefined || (r.kind === 'other' && r.target === 'unknown') ? { kind: 'none' } : r.kind === 'nat' ? { kind: 'nat', natGateway: r.nat } : r.kind === 'internet-gateway' ? { kind: 'internet-gateway' } : { kind: 'other', target: r.target };
    return {
      address: n.address,
      name: n.name,
      az: n.az,
      cidr: n.cidr,
      public: defaultRoute.kind === 'internet-gateway' || (defaultRoute.kind === 'none' && (mapsPublic.get(n.address) ?? false)),
      defaultRoute,
      s3Endpoint: s3Tables.has(n.routeTable),
    };
  });
}

function azsOfSubnets(index: TerraformIndex, from: TfResource, refs: unknown[], subnetAz: Map<string, string>): string[] {
  const azs = refs.map((ref) => {
    const subnet = index.resolve(from, ref);
    return subnet ? subnetAz.get(subnet.address) : undefined;
  });
  return [...new Set(azs.filter((az): az is string => az !== undefined))].sort();
}

function targetGroup(r: TfResource): TargetGroupModel {
  const v = targetGroupValues(r);
  const hc = v.healthCheck;
  return {
    address: r.address,
    name: displayName(r),
    port: v.port,
    healthCheck: {
      intervalSeconds: hc.intervalSeconds ?? TG_DEFAULTS.interval,
      healthyThreshold: hc.healthyThreshold ?? TG_DEFAULTS.healthy,
      unhealthyThreshold: hc.unhealthyThreshold ?? TG_DEFAULTS.unhealthy,
      protocol: hc.protocol ?? v.protocol ?? 'TCP',
      path: hc.path,
    },
    deregistrationDelaySeconds: v.deregistrationDelaySeconds ?? TG_DEFAULTS.deregistration,
  };
}

function loadBalancers(index: TerraformIndex, subnetAz: Map<string, string>, network: NetworkModel): LoadBalancerModel[] {
  const publicTargets = publiclyTargeted(network);
  const groups = new Map(index.byType('aws_lb_target_group').map((tg) => [tg.address, targetGroup(tg)]));
  const listeners = index.byType('aws_lb_listener').map((l) => ({ resource: l, view: listenerValues(l) }));
  // Network and application load balancers (a gateway load balancer carries no client traffic to nodes).
  return [...index.byType('aws_lb'), ...index.byType('aws_alb')]
    .map((lb) => ({ lb, v: loadBalancerValues(lb) }))
    .filter(({ v }) => ['network', 'application'].includes(v.type ?? 'application'))
    .map(({ lb, v }) => {
      const type = (v.type ?? 'application') as 'network' | 'application';
      const own = listeners.filter((l) => index.resolve(l.resource, l.view.loadBalancer)?.address === lb.address);
      const tgs = own.flatMap((l) => l.view.targetGroups.map((ref) => index.resolve(l.resource, ref)).filter((t): t is TfResource => t !== undefined));
      const targetGroups = [...new Set(tgs.map((t) => t.address))].map((a) => groups.get(a)).filter((t): t is TargetGroupModel => t !== undefined);
      const isApi = own.some((l) => l.view.port === API_PORT) || targetGroups.some((t) => t.port === API_PORT);
      // AWS's default scheme is internet-facing; an internal one has private addresses only. It is
      // still the app's ingress when a public record or a health check sends the internet to it
      // (the flow analysis then blocks that traffic), never "no ingress at all".
      const internal = v.internal ?? false;
      const isIngress = (!internal || publicTargets.has(lb.address)) && own.some((l) => WEB_PORTS.has(l.view.port ?? 0));
      const role: LoadBalancerRole = isApi ? 'api' : isIngress ? 'ingress' : 'other';
      return {
        address: lb.address,
        name: displayName(lb),
        role,
        type,
        internal,
        azs: azsOfSubnets(index, lb, [...v.subnets], subnetAz),
        // An ALB always balances across zones (its attribute cannot turn that off); an NLB only when enabled.
        crossZone: type === 'application' || (v.crossZone ?? false),
        targetGroups,
      };
    });
}

/** The launch template an ASG launches (direct or mixed-instances), and its instance-type overrides. */
export function launchTemplateOf(index: TerraformIndex, asg: TfResource): { template: TfResource | undefined; overrides: string[] } {
  const v = autoscalingGroupValues(asg);
  const refs = v.launchTemplateRefs;
  let template: TfResource | undefined;
  for (const ref of refs) template ??= index.resolve(asg, ref);
  if (!template) {
    const literal = refs.map(str).find((s) => s !== undefined);
    template = index.byType('aws_launch_template').find((lt) => lt.stack === asg.stack && literal !== undefined && launchTemplate(lt).name === literal);
  }
  return { template, overrides: [...v.instanceTypeOverrides] };
}

function parseTaint(key: string, raw: string): Taint {
  const [value, effect] = raw.includes(':') ? [raw.slice(0, raw.lastIndexOf(':')), raw.slice(raw.lastIndexOf(':') + 1)] : ['', raw];
  return { key, value, effect };
}

function nodeGroups(index: TerraformIndex, subnetAz: Map<string, string>): NodeGroupModel[] {
  const attachments = index.byType('aws_autoscaling_attachment');
  return index.byType('aws_autoscaling_group').map((asg) => {
    const v = autoscalingGroupValues(asg);
    const name = v.name ?? v.namePrefix ?? asg.name;
    const tags = { ...v.tags };
    const { template, overrides } = launchTemplateOf(index, asg);
    const lt = template ? launchTemplate(template) : undefined;
    const ltType = lt?.instanceType;
    const instanceTypes = overrides.length > 0 ? overrides : ltType ? [ltType] : [];
    const capacities = instanceTypes.map((t) => [t, instanceCapacity(t)] as const);
    // Never zero capacity for a type ha-check cannot size: that would fail (or pass) a cluster on a guess.
    const unknown = capacities.filter(([, c]) => c === undefined).map(([t]) => t);
    if (unknown.length > 0) throw new HaCheckInputError(`${asg.address}: instance type ${unknown.join(', ')} is not in platform-config INSTANCE_TYPES: its allocatable CPU and memory are unknown (add it there)`);
    const known = capacities.map(([, c]) => c).filter((c): c is Resources => c !== undefined);
    const smallest = known.reduce<Resources | undefined>(
      (min, c) => (min === undefined ? c : { cpuMilli: Math.min(min.cpuMilli, c.cpuMilli), memoryMiB: Math.min(min.memoryMiB, c.memoryMiB) }),
      undefined,
    );
    const role = /control-plane/.test(name) || /control-plane/.test(tags['node.platform.io/role'] ?? '') ? ('control-plane' as const) : ('worker' as const);
    const subnetAzs = azsOfSubnets(index, asg, [...v.subnets], subnetAz);
    const azs = subnetAzs.length > 0 ? subnetAzs : v.availabilityZones.filter((z): z is string => typeof z === 'string').sort();
    // Labels kubelet and the cloud controller put on every node, so selectors on them match.
    const labels: Record<string, string> = {
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': INSTANCE_TYPES[instanceTypes[0] ?? '']?.architecture === 'arm64' ? 'arm64' : 'amd64',
      ...(instanceTypes.length === 1 ? { 'node.kubernetes.io/instance-type': instanceTypes[0] } : {}),
      ...(azs.length === 1 ? { 'topology.kubernetes.io/zone': azs[0] } : {}),
      ...(index.regionOf(asg) ? { 'topology.kubernetes.io/region': index.regionOf(asg) as string } : {}),
      ...(role === 'control-plane' ? { [CONTROL_PLANE_LABEL]: '' } : {}),
    };
    const taints: Taint[] = role === 'control-plane' ? [{ key: CONTROL_PLANE_LABEL, value: '', effect: 'NoSchedule' }] : [];
    // Taints the node registers with (kubeadm's join configuration), then what the autoscaler is told.
    const userData = lt?.userData;
    for (const t of userData ? joinTaints(userData) : []) if (!taints.some((x) => x.key === t.key)) taints.push(t);
    for (const [k, value] of Object.entries(tags)) {
      if (k.startsWith(NODE_TEMPLATE_LABEL)) labels[k.slice(NODE_TEMPLATE_LABEL.length)] = value;
      if (k.startsWith(NODE_TEMPLATE_TAINT)) {
        const key = k.slice(NODE_TEMPLATE_TAINT.length);
        if (!taints.some((t) => t.key === key)) taints.push(parseTaint(key, value));
      }
    }
    const tgRefs = [...v.targetGroups];
    for (const a of attachments) {
      const av = autoscalingAttachmentValues(a);
      const target = index.resolve(a, av.autoscalingGroup);
      if (target?.address === asg.address || str(av.autoscalingGroup) === name) tgRefs.push(av.targetGroup);
    }
    const targetGroups = tgRefs.map((ref) => index.resolve(asg, ref)?.address).filter((t): t is string => t !== undefined);
    const minSize = v.minSize ?? 0;
    const maxSize = v.maxSize;
    const desired = v.desiredCapacity;
    return {
      address: asg.address,
      name,
      role,
      azs,
      minSize,
      maxSize: maxSize ?? minSize,
      desired: desired ?? minSize,
      instanceTypes,
      allocatablePerNode: smallest ? allocatable(smallest) : { cpuMilli: 0, memoryMiB: 0 },
      labels,
      taints,
      targetGroups: [...new Set(targetGroups)],
      autoscaled: Object.keys(tags).some((k) => k === 'k8s.io/cluster-autoscaler/enabled'),
      tags,
      healthCheckType: v.healthCheckType === 'ELB' ? 'ELB' : 'EC2',
      bootstrapGraceSeconds: v.healthCheckGracePeriodSeconds ?? ASG_DEFAULT_GRACE_SECONDS,
    };
  });
}

function bucketRegion(index: TerraformIndex, from: TfResource, ref: unknown): { name: string; region: string | undefined } {
  const target = index.resolve(from, ref);
  if (target) {
    const name = s3Bucket(target).bucket ?? target.name;
    return { name, region: index.regionOf(target) ?? REGION_SUFFIX.exec(name)?.[1] };
  }
  const literal = (str(ref) ?? '').replace(/^arn:aws[a-z-]*:s3:::/, '');
  return { name: literal || String(ref), region: REGION_SUFFIX.exec(literal)?.[1] };
}

function backupReplications(index: TerraformIndex): BackupReplicationModel[] {
  return index.byType('aws_s3_bucket_replication_configuration').flatMap((cfg) => {
    const v = replicationConfigurationValues(cfg);
    const source = bucketRegion(index, cfg, v.bucket);
    const sourceRegion = index.resolve(cfg, v.bucket) ? source.region : (index.regionOf(cfg) ?? source.region);
    return v.rules.map((rule) => {
      const destination = bucketRegion(index, cfg, rule.destinationBucket);
      const rtc = rule.replicationTime;
      return {
        address: cfg.address,
        sourceBucket: source.name,
        sourceRegion,
        destinationBucket: destination.name,
        destinationRegion: destination.region,
        enabled: (rule.status ?? 'Enabled') === 'Enabled',
        replicationTimeMinutes: rtc && (rtc.status ?? 'Enabled') === 'Enabled' ? (rtc.minutes ?? S3_RTC_MINUTES) : undefined,
      };
    });
  });
}

/** Runtime settings: the launch templates' user data parsed by file and unit name, then SSM parameters and S3 objects. */
function infraHints(index: TerraformIndex): RuntimeHints {
  const fromUserData = index.byType('aws_launch_template').map((lt) => launchTemplate(lt).userData).filter((u): u is string => u !== undefined).map(userDataHints);
  const rest = runtimeHints(hintTexts(index));
  const first = <K extends keyof RuntimeHints>(k: K): RuntimeHints[K] => fromUserData.find((h) => h[k] !== undefined)?.[k] ?? rest[k];
  const keys = ['nodeMonitorGracePeriodSeconds', 'defaultUnreachableTolerationSeconds', 'etcdSnapshotIntervalMinutes', 'hpaSyncPeriodSeconds'] as const;
  return Object.fromEntries(keys.map((k) => [k, first(k)]).filter(([, v]) => v !== undefined)) as RuntimeHints;
}

function hintTexts(index: TerraformIndex): string[] {
  const texts: string[] = [];
  for (const p of index.byType('aws_ssm_parameter')) {
    const value = ssmParameterValue(p);
    if (value) texts.push(value);
  }
  for (const o of index.byType('aws_s3_object')) {
    const content = s3ObjectContent(o);
    if (content) texts.push(content);
  }
  return texts;
}

/** The AWS side of the deployment, from loaded Terraform. */
/** `charts`: where the bootstrap add-ons' chart defaults are stored. @default sharedStoredCharts() */
export function buildInfraModel(index: TerraformIndex, charts: StoredCharts = sharedStoredCharts()): InfraModel {
  const networkSubnetList = networkSubnets(index);
  const subnetList = subnets(index, networkSubnetList);
  const subnetAz = new Map(subnetList.map((s) => [s.address, s.az]));
  const natOf = (n: TfResource): NatGatewayModel => {
    const subnet = index.resolve(n, natValues(n).subnet);
    return { address: n.address, name: displayName(n), az: (subnet && subnetAz.get(subnet.address)) ?? 'unknown' };
  };
  // NAT gateways, and NAT instances: whatever a default route sends to through an interface or instance.
  const routedTo = new Set(subnetList.flatMap((s) => (s.defaultRoute.kind === 'nat' ? [s.defaultRoute.natGateway] : [])));
  const natGateways: NatGatewayModel[] = [...index.byType('aws_nat_gateway'), ...[...index.byType('aws_network_interface'), ...index.byType('aws_instance')].filter((r) => routedTo.has(r.address))].map(natOf);
  const azs = [...new Set(subnetList.map((s) => s.az).filter((az) => az !== 'unknown'))].sort();
  const groups = nodeGroups(index, subnetAz);
  const asgs = index.byType('aws_autoscaling_group');
  const withTemplates = groups.map((group, i) => ({ group, asg: asgs[i], template: launchTemplateOf(index, asgs[i]).template }));
  const network = buildNetworkModel(index, networkSubnetList, withTemplates);
  const bootstrap = bootstrapAddons(withTemplates.filter((g) => g.group.role === 'control-plane'), charts);
  return {
    region: index.primaryRegion,
    azs,
    subnets: subnetList,
    natGateways,
    loadBalancers: loadBalancers(index, subnetAz, network),
    nodeGroups: groups,
    network,
    bootstrapAddons: bootstrap.addons,
    bootstrapSource: bootstrap.source,
    backupBuckets: index
      .byType('aws_s3_bucket')
      .map((b) => s3Bucket(b).bucket ?? b.name)
      .filter((name) => /etcd|backup/.test(name)),
    backupReplications: backupReplications(index),
    bucketRegions: Object.fromEntries(index.byType('aws_s3_bucket').flatMap((b) => {
      const name = s3Bucket(b).bucket ?? b.name;
      const region = index.regionOf(b) ?? REGION_SUFFIX.exec(name)?.[1];
      return region ? [[name, region]] : [];
    })),
    dnsFailoverRecords: dnsFailoverRecords(index),
    chaosTemplates: index.byType('aws_fis_experiment_template').map(displayName),
    hints: infraHints(index),
    stateSecrets: secretsInState(index),
    resourceCount: index.resources.length,
    preferredPlans: index.preferredPlans,
  };
}
