import type {
  ApiEndpointRef,
  DnsRecordModel,
  InterfaceEndpointModel,
  ListenerModel,
  NatModel,
  NetworkHealthCheckModel,
  NetworkLoadBalancerModel,
  NetworkModel,
  NetworkNodeGroupModel,
  NetworkSubnetModel,
  Protocol,
  RouteTargetModel,
  RulePeer,
  SecurityGroupModel,
  SecurityGroupRuleModel,
  TargetGroupFlowModel,
} from '../network-model';
import type { NodeGroupModel } from '../model';
import type { TerraformIndex, TfResource } from '../terraform';
import {
  autoscalingGroupValues,
  eipValues,
  endpointSubnetAssociation,
  launchTemplate,
  listenerValues,
  loadBalancerValues,
  nameOrTag,
  natValues,
  route53HealthCheckValues,
  route53RecordValues,
  route53ZoneAssociationValues,
  route53ZoneValues,
  routeTableAssociationValues,
  routeTableValues,
  routeValues,
  securityGroupRuleValues,
  securityGroupValues,
  subnetValues,
  targetGroupValues,
  vpcEndpoint,
  vpcValues,
  type RouteValues,
  type SecurityGroupRuleValues,
} from './tf-accessors';
import { envFile, readUserData } from './user-data';
import { str } from './values';

const nameOf = nameOrTag;
const isDefault = (route: RouteValues): boolean => route.cidrBlock === '0.0.0.0/0' || route.destinationCidrBlock === '0.0.0.0/0';
/** The file node-bootstrap writes its settings to, and the variable naming the API endpoint. */
const BOOTSTRAP_ENV = '/etc/node-bootstrap/env';
const API_ENDPOINT_VAR = 'API_ENDPOINT';

function protocolOf(value: unknown): Protocol {
  const p = String(value ?? '-1').toLowerCase();
  if (p === 'tcp' || p === '6') return 'tcp';
  if (p === 'udp' || p === '17') return 'udp';
  if (p === 'icmp' || p === '1') return 'icmp';
  return 'all';
}

function routeTarget(index: TerraformIndex, from: TfResource, route: RouteValues): RouteTargetModel {
  const t = route.targets;
  const nat = index.resolve(from, t.nat_gateway_id);
  if (nat) return { kind: 'nat', nat: nat.address };
  const gateway = index.resolve(from, t.gateway_id);
  if (gateway?.type === 'aws_internet_gateway' || /^igw-/.test(str(t.gateway_id) ?? '')) return { kind: 'internet-gateway' };
  const eni = index.resolve(from, t.network_interface_id);
  if (eni) return { kind: 'nat', nat: eni.address };
  const instance = index.resolve(from, t.instance_id);
  if (instance) return { kind: 'nat', nat: instance.address };
  for (const key of ['transit_gateway_id', 'network_interface_id', 'vpc_peering_connection_id', 'gateway_id', 'nat_gateway_id', 'egress_only_gateway_id', 'instance_id'] as const) {
    if (t[key] !== undefined && t[key] !== null && t[key] !== '') return { kind: 'other', target: String(t[key]) };
  }
  return { kind: 'other', target: 'unknown' };
}

/** Subnets with the default route of the table they use: their own, else the VPC's main one. */
export function networkSubnets(index: TerraformIndex): NetworkSubnetModel[] {
  const defaults = new Map<string, RouteTargetModel>();
  for (const table of [...index.byType('aws_route_table'), ...index.byType('aws_default_route_table')]) {
    const inline = routeTableValues(table).routes.find(isDefault);
    if (inline) defaults.set(table.address, routeTarget(index, table, inline));
  }
  for (const route of index.byType('aws_route')) {
    const rv = routeValues(route);
    const table = index.resolve(route, rv.routeTable);
    if (table && isDefault(rv)) defaults.set(table.address, routeTarget(index, route, rv));
  }
  // The VPC's main route table: an aws_default_route_table, or a table made main by association.
  let main: string | undefined = index.byType('aws_default_route_table')[0]?.address;
  for (const a of index.byType('aws_main_route_table_association')) main = index.resolve(a, routeTableAssociationValues(a).routeTable)?.address ?? main;
  const tableOf = new Map<string, string>();
  for (const a of index.byType('aws_route_table_association')) {
    const av = routeTableAssociationValues(a);
    const subnet = index.resolve(a, av.subnet);
    const table = index.resolve(a, av.routeTable);
    if (subnet && table) tableOf.set(subnet.address, table.address);
  }
  return index.byType('aws_subnet').map((s) => {
    const table = tableOf.get(s.address);
    const effective = table ?? main;
    const sv = subnetValues(s);
    return {
      address: s.address,
      name: nameOf(s),
      az: sv.availabilityZone ?? 'unknown',
      cidr: sv.cidr,
      defaultRoute: effective ? defaults.get(effective) : undefined,
      routeTable: effective ?? 'main',
    };
  });
}

function natsOf(index: TerraformIndex, subnets: readonly NetworkSubnetModel[]): NatModel[] {
  const azOf = (from: TfResource, ref: unknown): string => subnets.find((s) => s.address === index.resolve(from, ref)?.address)?.az ?? 'unknown';
  const eipOf = (r: TfResource): string | undefined => {
    const direct = index.resolve(r, natValues(r).allocation);
    if (direct) return direct.address;
    return index.byType('aws_eip').find((e) => [eipValues(e).instance, eipValues(e).networkInterface].some((ref) => index.resolve(e, ref)?.address === r.address))?.address;
  };
  const gateways = index.byType('aws_nat_gateway').map((n): NatModel => ({ address: n.address, name: nameOf(n), kind: 'gateway', az: azOf(n, natValues(n).subnet), eip: eipOf(n) }));
  // NAT instances: whatever a default route sends to through a network interface or an instance.
  const instances = [...index.byType('aws_network_interface'), ...index.byType('aws_instance')].map((r): NatModel => ({ address: r.address, name: nameOf(r), kind: 'instance', az: azOf(r, natValues(r).subnet), eip: eipOf(r) }));
  return [...gateways, ...instances];
}

function peerOf(index: TerraformIndex, from: TfResource, values: SecurityGroupRuleValues): RulePeer[] {
  const peers: RulePeer[] = [];
  const cidr = (text: unknown): void => {
    const t = str(text);
    if (!t) return;
    const eip = /^\$\{(aws_eip\.[^.}]+)\.public_ip\}\/32$/.exec(t);
    const target = eip ? index.resolve(from, `\${${eip[1]}.id}`) : undefined;
    peers.push(target ? { kind: 'eip', eip: target.address } : { kind: 'cidr', cidr: t });
  };
  for (const c of values.cidrs) cidr(c);
  for (const ref of values.securityGroups) {
    const sg = index.resolve(from, ref);
    if (sg) peers.push({ kind: 'security-group', securityGroup: sg.address });
  }
  for (const ref of values.prefixLists) if (ref) peers.push({ kind: 'prefix-list', name: String(ref) });
  return peers;
}

function rule(address: string, values: SecurityGroupRuleValues, peer: RulePeer): SecurityGroupRuleModel {
  return { address, protocol: protocolOf(values.protocol), fromPort: values.fromPort ?? -1, toPort: values.toPort ?? values.fromPort ?? -1, peer };
}

function securityGroupsOf(index: TerraformIndex): SecurityGroupModel[] {
  const groups = new Map<string, { address: string; name: string; ingress: SecurityGroupRuleModel[]; egress: SecurityGroupRuleModel[] }>();
  for (const sg of index.byType('aws_security_group')) {
    const g = { address: sg.address, name: nameOf(sg), ingress: [] as SecurityGroupRuleModel[], egress: [] as SecurityGroupRuleModel[] };
    const inline = securityGroupValues(sg);
    for (const dir of ['ingress', 'egress'] as const) {
      for (const b of inline[dir]) {
        const peers = [...peerOf(index, sg, b), ...(b.self ? [{ kind: 'security-group' as const, securityGroup: sg.address }] : [])];
        for (const p of peers) g[dir].push(rule(sg.address, b, p));
      }
    }
    groups.set(sg.address, g);
  }
  const attach = (r: TfResource, dir: 'ingress' | 'egress', values: SecurityGroupRuleValues): void => {
    const sg = index.resolve(r, values.securityGroup);
    const g = sg ? groups.get(sg.address) : undefined;
    if (!g) return;
    const peers = [...peerOf(index, r, values), ...(values.self ? [{ kind: 'security-group' as const, securityGroup: g.address }] : [])];
    for (const p of peers) g[dir].push(rule(r.address, values, p));
  };
  for (const r of index.byType('aws_vpc_security_group_ingress_rule')) attach(r, 'ingress', securityGroupRuleValues(r));
  for (const r of index.byType('aws_vpc_security_group_egress_rule')) attach(r, 'egress', securityGroupRuleValues(r));
  for (const r of index.byType('aws_security_group_rule')) {
    const values = securityGroupRuleValues(r);
    attach(r, values.type === 'egress' ? 'egress' : 'ingress', values);
  }
  return [...groups.values()];
}

function targetGroupOf(tg: TfResource): TargetGroupFlowModel {
  const v = targetGroupValues(tg);
  const port = v.port;
  const hcPort = v.healthCheck.port === 'traffic-port' ? port : v.healthCheck.port;
  // AWS: client IP preservation defaults on for instance targets (TCP/TLS), off for ip targets.
  const preserve = v.preserveClientIp ?? (v.targetType ?? 'instance') === 'instance';
  return { address: tg.address, name: nameOf(tg), port, healthCheckPort: hcPort, preserveClientIp: preserve };
}

function loadBalancersOf(index: TerraformIndex): NetworkLoadBalancerModel[] {
  const listeners = index.byType('aws_lb_listener').map((l) => ({ resource: l, view: listenerValues(l) }));
  return [...index.byType('aws_lb'), ...index.byType('aws_alb')].map((lb) => {
    const values = loadBalancerValues(lb);
    const type = (values.type ?? 'application') as NetworkLoadBalancerModel['type'];
    const own = listeners.filter((l) => index.resolve(l.resource, l.view.loadBalancer)?.address === lb.address);
    const ls: ListenerModel[] = own.map((l) => ({
      port: l.view.port ?? 0,
      protocol: l.view.protocol ?? 'TCP',
      targetGroups: l.view.targetGroups.map((ref) => index.resolve(l.resource, ref)).filter((t): t is TfResource => t !== undefined).map(targetGroupOf),
    }));
    const sgs = values.securityGroups.map((ref) => index.resolve(lb, ref)?.address).filter((a): a is string => a !== undefined);
    const subnets = values.subnets.map((ref) => index.resolve(lb, ref)?.address).filter((a): a is string => a !== undefined);
    return {
      address: lb.address,
      name: nameOf(lb),
      type,
      internal: values.internal ?? false,
      subnets,
      // An NLB without security groups filters nothing; an ALB always has one (the VPC default).
      securityGroups: sgs.length > 0 ? sgs : type === 'network' ? undefined : ['default'],
      crossZone: type === 'application' ? true : (values.crossZone ?? false),
      listeners: ls,
    };
  });
}

/** The API endpoint node-bootstrap writes to its env file, resolved to what it names. */
function apiEndpointOf(index: TerraformIndex, template: TfResource | undefined): ApiEndpointRef | undefined {
  const raw = template ? launchTemplate(template).userData : undefined;
  if (!template || !raw) return undefined;
  const ud = readUserData(raw);
  const env = ud.files.get(BOOTSTRAP_ENV);
  const text = env ? envFile(env).get(API_ENDPOINT_VAR) : undefined;
  // A plan leaves the interpolated user data unknown: its one reference is the endpoint.
  const candidate = text ?? (ud.files.size === 0 && ud.references.length === 1 ? `\${${ud.references[0]}}` : undefined);
  if (candidate === undefined) return undefined;
  const target = index.resolve(template, /^(\$\{[^}]+\})(:\d+)?$/.exec(candidate)?.[1]);
  if (target?.type === 'aws_lb' || target?.type === 'aws_alb') return { kind: 'load-balancer', loadBalancer: target.address, text: candidate };
  if (target?.type === 'aws_route53_record') return { kind: 'record', record: target.address, text: candidate };
  return { kind: 'name', name: candidate.replace(/:\d+$/, '').replace(/\.$/, ''), text: candidate };
}

function recordsOf(index: TerraformIndex): DnsRecordModel[] {
  return index.byType('aws_route53_record').map((r) => {
    const rv = route53RecordValues(r);
    const zone = index.resolve(r, rv.zone);
    const zoneVpcs = zone ? route53ZoneValues(zone).vpcs : [];
    const vpcs = zone ? zoneVpcs.map((vpc) => index.resolve(zone, vpc)?.address ?? String(vpc)) : [];
    for (const assoc of index.byType('aws_route53_zone_association')) {
      const av = route53ZoneAssociationValues(assoc);
      if (zone && index.resolve(assoc, av.zone)?.address === zone.address) vpcs.push(index.resolve(assoc, av.vpc)?.address ?? String(av.vpc));
    }
    const alias = index.resolve(r, rv.alias?.name);
    return {
      address: r.address,
      name: (rv.name ?? r.name).replace(/\.$/, ''),
      zone: zone?.address,
      privateZone: zone !== undefined && zoneVpcs.length > 0,
      zoneVpcs: vpcs,
      aliasLoadBalancer: alias && (alias.type === 'aws_lb' || alias.type === 'aws_alb') ? alias.address : undefined,
    };
  });
}

function healthChecksOf(index: TerraformIndex, records: readonly DnsRecordModel[]): NetworkHealthCheckModel[] {
  return index.byType('aws_route53_health_check').map((hc) => {
    const hv = route53HealthCheckValues(hc);
    const target = index.resolve(hc, hv.fqdn);
    const byName = records.find((r) => r.name === str(hv.fqdn));
    const lb = target && (target.type === 'aws_lb' || target.type === 'aws_alb') ? target.address : byName?.aliasLoadBalancer;
    return { address: hc.address, loadBalancer: lb, port: hv.port, type: hv.type ?? 'HTTP' };
  });
}

/**
 * Load balancers the internet is sent to: aliased by a record in a public zone (or a zone this
 * Terraform does not define) or probed by a Route 53 health check, whose checkers are on the internet.
 */
export function publiclyTargeted(net: Pick<NetworkModel, 'records' | 'healthChecks'>): Set<string> {
  const lbs = [...net.records.filter((r) => !r.privateZone).map((r) => r.aliasLoadBalancer), ...net.healthChecks.map((h) => h.loadBalancer)];
  return new Set(lbs.filter((a): a is string => a !== undefined));
}

/** The packet-level model; `nodeGroups` are the infra model's, with the launch template each uses. */
export function buildNetworkModel(index: TerraformIndex, subnets: readonly NetworkSubnetModel[], groups: ReadonlyArray<{ readonly group: NodeGroupModel; readonly template: TfResource | undefined; readonly asg: TfResource }>): NetworkModel {
  const vpc = index.byType('aws_vpc')[0];
  const records = recordsOf(index);
  const nodeGroups = groups.map(({ group, template, asg }): NetworkNodeGroupModel => {
    const sgs = template ? launchTemplate(template).securityGroups.map((ref) => index.resolve(template, ref)?.address).filter((a): a is string => a !== undefined) : [];
    return {
      address: group.address,
      name: group.name,
      role: group.role,
      subnets: autoscalingGroupValues(asg).subnets.map((ref) => index.resolve(asg, ref)?.address).filter((a): a is string => a !== undefined),
      // An instance launched without a security group gets the VPC's default one.
      securityGroups: sgs.length > 0 ? sgs : ['default'],
      targetGroups: group.targetGroups,
      desired: group.desired,
      apiEndpoint: apiEndpointOf(index, template),
    };
  });
  return {
    region: index.primaryRegion,
    vpc: vpc?.address,
    vpcCidr: vpc ? vpcValues(vpc).cidr : undefined,
    subnets,
    nats: natsOf(index, subnets),
    securityGroups: [
      ...securityGroupsOf(index),
      // The VPC default group: members reach each other on everything, all egress.
      { address: 'default', name: 'VPC default security group', ingress: [{ address: 'default', protocol: 'all', fromPort: -1, toPort: -1, peer: { kind: 'security-group', securityGroup: 'default' } }], egress: [{ address: 'default', protocol: 'all', fromPort: -1, toPort: -1, peer: { kind: 'cidr', cidr: '0.0.0.0/0' } }] },
    ],
    loadBalancers: loadBalancersOf(index),
    nodeGroups,
    records,
    healthChecks: healthChecksOf(index, records),
    interfaceEndpoints: interfaceEndpointsOf(index),
  };
}

/** Interface endpoints with their subnets (inline or `aws_vpc_endpoint_subnet_association`) and security groups. */
function interfaceEndpointsOf(index: TerraformIndex): InterfaceEndpointModel[] {
  const associations = index.byType('aws_vpc_endpoint_subnet_association');
  return index.byType('aws_vpc_endpoint').flatMap((e) => {
    const ep = vpcEndpoint(e);
    if (ep.type !== 'Interface' || ep.serviceName === undefined) return [];
    const extra = associations.filter((a) => index.resolve(a, endpointSubnetAssociation(a).endpoint)?.address === e.address).map((a) => index.resolve(a, endpointSubnetAssociation(a).subnet)?.address);
    const subnets = [...ep.subnets.map((ref) => index.resolve(e, ref)?.address), ...extra].filter((a): a is string => a !== undefined);
    const sgs = ep.securityGroups.map((ref) => index.resolve(e, ref)?.address).filter((a): a is string => a !== undefined);
    // An interface endpoint created without a security group gets the VPC's default one.
    return [{ address: e.address, name: nameOf(e), service: ep.serviceName, privateDns: ep.privateDns, subnets, securityGroups: sgs.length > 0 ? sgs : ['default'] }];
  });
}
