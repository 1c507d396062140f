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
import { endpointSubnetAssociation, vpcEndpoint } from './tf-accessors';
import { envFile, readUserData } from './user-data';
import { block, blocks, bool, list, num, str, tagsOf, type Json } from './values';

const v = (r: TfResource): Json => r.values as Json;
const nameOf = (r: TfResource): string => str(v(r).name) ?? str(tagsOf(v(r)).Name) ?? r.name;
const isDefault = (route: Json): boolean => str(route.cidr_block) === '0.0.0.0/0' || str(route.destination_cidr_block) === '0.0.0.0/0';
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

function routeTarget(index: TerraformIndex, from: TfResource, route: Json): RouteTargetModel {
  const nat = index.resolve(from, route.nat_gateway_id);
  if (nat) return { kind: 'nat', nat: nat.address };
  const gateway = index.resolve(from, route.gateway_id);
  if (gateway?.type === 'aws_internet_gateway' || /^igw-/.test(str(route.gateway_id) ?? '')) return { kind: 'internet-gateway' };
  const eni = index.resolve(from, route.network_interface_id);
  if (eni) return { kind: 'nat', nat: eni.address };
  const instance = index.resolve(from, route.instance_id);
  if (instance) return { kind: 'nat', nat: instance.address };
  for (const key of ['transit_gateway_id', 'network_interface_id', 'vpc_peering_connection_id', 'gateway_id', 'nat_gateway_id', 'egress_only_gateway_id', 'instance_id']) {
    if (route[key] !== undefined && route[key] !== null && route[key] !== '') return { kind: 'other', target: String(route[key]) };
  }
  return { kind: 'other', target: 'unknown' };
}

/** Subnets with the default route of the table they use: their own, else the VPC's main one. */
export function networkSubnets(index: TerraformIndex): NetworkSubnetModel[] {
  const defaults = new Map<string, RouteTargetModel>();
  for (const table of [...index.byType('aws_route_table'), ...index.byType('aws_default_route_table')]) {
    const inline = blocks(v(table).route).find(isDefault);
    if (inline) defaults.set(table.address, routeTarget(index, table, inline));
  }
  for (const route of index.byType('aws_route')) {
    const table = index.resolve(route, v(route).route_table_id);
    if (table && isDefault(v(route))) defaults.set(table.address, routeTarget(index, route, v(route)));
  }
  // The VPC's main route table: an aws_default_route_table, or a table made main by association.
  let main: string | undefined = index.byType('aws_default_route_table')[0]?.address;
  for (const a of index.byType('aws_main_route_table_association')) main = index.resolve(a, v(a).route_table_id)?.address ?? main;
  const tableOf = new Map<string, string>();
  for (const a of index.byType('aws_route_table_association')) {
    const subnet = index.resolve(a, v(a).subnet_id);
    const table = index.resolve(a, v(a).route_table_id);
    if (subnet && table) tableOf.set(subnet.address, table.address);
  }
  return index.byType('aws_subnet').map((s) => {
    const table = tableOf.get(s.address);
    const effective = table ?? main;
    return {
      address: s.address,
      name: nameOf(s),
      az: str(v(s).availability_zone) ?? 'unknown',
      cidr: str(v(s).cidr_block),
      defaultRoute: effective ? defaults.get(effective) : undefined,
      routeTable: effective ?? 'main',
    };
  });
}

function natsOf(index: TerraformIndex, subnets: readonly NetworkSubnetModel[]): NatModel[] {
  const azOf = (from: TfResource, ref: unknown): string => subnets.find((s) => s.address === index.resolve(from, ref)?.address)?.az ?? 'unknown';
  const eipOf = (r: TfResource): string | undefined => {
    const direct = index.resolve(r, v(r).allocation_id);
    if (direct) return direct.address;
    return index.byType('aws_eip').find((e) => [v(e).instance, v(e).network_interface].some((ref) => index.resolve(e, ref)?.address === r.address))?.address;
  };
  const gateways = index.byType('aws_nat_gateway').map((n): NatModel => ({ address: n.address, name: nameOf(n), kind: 'gateway', az: azOf(n, v(n).subnet_id), eip: eipOf(n) }));
  // NAT instances: whatever a default route sends to through a network interface or an instance.
  const instances = [...index.byType('aws_network_interface'), ...index.byType('aws_instance')].map((r): NatModel => ({ address: r.address, name: nameOf(r), kind: 'instance', az: azOf(r, v(r).subnet_id), eip: eipOf(r) }));
  return [...gateways, ...instances];
}

function peerOf(index: TerraformIndex, from: TfResource, values: Json): RulePeer[] {
  const peers: RulePeer[] = [];
  const cidr = (text: unknown): void => {
    const t = str(text);
    if (!t) return;
    const eip = /^\$\{(aws_eip\.[^.}]+)\.public_ip\}\/32$/.exec(t);
    const target = eip ? index.resolve(from, `\${${eip[1]}.id}`) : undefined;
    peers.push(target ? { kind: 'eip', eip: target.address } : { kind: 'cidr', cidr: t });
  };
  cidr(values.cidr_ipv4);
  for (const c of list(values.cidr_blocks)) cidr(c);
  for (const ref of [values.referenced_security_group_id, values.source_security_group_id, ...list(values.security_groups)]) {
    const sg = index.resolve(from, ref);
    if (sg) peers.push({ kind: 'security-group', securityGroup: sg.address });
  }
  for (const ref of [values.prefix_list_id, ...list(values.prefix_list_ids)]) if (ref) peers.push({ kind: 'prefix-list', name: String(ref) });
  return peers;
}

function rule(address: string, values: Json, peer: RulePeer): SecurityGroupRuleModel {
  const protocol = protocolOf(values.ip_protocol ?? values.protocol);
  return { address, protocol, fromPort: num(values.from_port) ?? -1, toPort: num(values.to_port) ?? num(values.from_port) ?? -1, peer };
}

function securityGroupsOf(index: TerraformIndex): SecurityGroupModel[] {
  const groups = new Map<string, { address: string; name: string; ingress: SecurityGroupRuleModel[]; egress: SecurityGroupRuleModel[] }>();
  for (const sg of index.byType('aws_security_group')) {
    const g = { address: sg.address, name: nameOf(sg), ingress: [] as SecurityGroupRuleModel[], egress: [] as SecurityGroupRuleModel[] };
    for (const dir of ['ingress', 'egress'] as const) {
      for (const b of blocks(v(sg)[dir])) {
        const peers = [...peerOf(index, sg, b), ...(bool(b.self) ? [{ kind: 'security-group' as const, securityGroup: sg.address }] : [])];
        for (const p of peers) g[dir].push(rule(sg.address, b, p));
      }
    }
    groups.set(sg.address, g);
  }
  const attach = (r: TfResource, dir: 'ingress' | 'egress', values: Json): void => {
    const sg = index.resolve(r, values.security_group_id);
    const g = sg ? groups.get(sg.address) : undefined;
    if (!g) return;
    const peers = [...peerOf(index, r, values), ...(bool(values.self) ? [{ kind: 'security-group' as const, securityGroup: g.address }] : [])];
    for (const p of peers) g[dir].push(rule(r.address, values, p));
  };
  for (const r of index.byType('aws_vpc_security_group_ingress_rule')) attach(r, 'ingress', v(r));
  for (const r of index.byType('aws_vpc_security_group_egress_rule')) attach(r, 'egress', v(r));
  for (const r of index.byType('aws_security_group_rule')) attach(r, str(v(r).type) === 'egress' ? 'egress' : 'ingress', v(r));
  return [...groups.values()];
}

function targetGroupOf(tg: TfResource): TargetGroupFlowModel {
  const hc = block(v(tg).health_check) ?? {};
  const port = num(v(tg).port);
  const hcPort = str(hc.port) === 'traffic-port' || hc.port === undefined ? port : num(hc.port);
  // AWS: client IP preservation defaults on for instance targets (TCP/TLS), off for ip targets.
  const preserve = bool(v(tg).preserve_client_ip) ?? (str(v(tg).target_type) ?? 'instance') === 'instance';
  return { address: tg.address, name: nameOf(tg), port, healthCheckPort: hcPort, preserveClientIp: preserve };
}

function loadBalancersOf(index: TerraformIndex): NetworkLoadBalancerModel[] {
  const listeners = index.byType('aws_lb_listener');
  return [...index.byType('aws_lb'), ...index.byType('aws_alb')].map((lb) => {
    const values = v(lb);
    const type = (str(values.load_balancer_type) ?? 'application') as NetworkLoadBalancerModel['type'];
    const own = listeners.filter((l) => index.resolve(l, v(l).load_balancer_arn)?.address === lb.address);
    const ls: ListenerModel[] = own.map((l) => {
      const tgs = blocks(v(l).default_action).flatMap((a) => [a.target_group_arn, ...blocks(block(a.forward)?.target_group).map((t) => t.arn)]);
      return {
        port: num(v(l).port) ?? 0,
        protocol: str(v(l).protocol) ?? 'TCP',
        targetGroups: tgs.map((ref) => index.resolve(l, ref)).filter((t): t is TfResource => t !== undefined).map(targetGroupOf),
      };
    });
    const sgRefs = list(values.security_groups);
    const sgs = sgRefs.map((ref) => index.resolve(lb, ref)?.address).filter((a): a is string => a !== undefined);
    const subnets = [...list(values.subnets), ...blocks(values.subnet_mapping).map((m) => m.subnet_id)].map((ref) => index.resolve(lb, ref)?.address).filter((a): a is string => a !== undefined);
    return {
      address: lb.address,
      name: nameOf(lb),
      type,
      internal: bool(values.internal) ?? false,
      subnets,
      // An NLB without security groups filters nothing; an ALB always has one (the VPC default).
      securityGroups: sgs.length > 0 ? sgs : type === 'network' ? undefined : ['default'],
      crossZone: type === 'application' ? true : (bool(values.enable_cross_zone_load_balancing) ?? false),
      listeners: ls,
    };
  });
}

/** The API endpoint node-bootstrap writes to its env file, resolved to what it names. */
function apiEndpointOf(index: TerraformIndex, template: TfResource | undefined): ApiEndpointRef | undefined {
  const raw = template ? str(v(template).user_data) : undefined;
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
    const zone = index.resolve(r, v(r).zone_id);
    const vpcs = zone ? blocks(v(zone).vpc).map((b) => index.resolve(zone, b.vpc_id)?.address ?? String(b.vpc_id)) : [];
    for (const assoc of index.byType('aws_route53_zone_association')) {
      if (zone && index.resolve(assoc, v(assoc).zone_id)?.address === zone.address) vpcs.push(index.resolve(assoc, v(assoc).vpc_id)?.address ?? String(v(assoc).vpc_id));
    }
    const alias = index.resolve(r, block(v(r).alias)?.name);
    return {
      address: r.address,
      name: (str(v(r).name) ?? r.name).replace(/\.$/, ''),
      zone: zone?.address,
      privateZone: zone !== undefined && blocks(v(zone).vpc).length > 0,
      zoneVpcs: vpcs,
      aliasLoadBalancer: alias && (alias.type === 'aws_lb' || alias.type === 'aws_alb') ? alias.address : undefined,
    };
  });
}

function healthChecksOf(index: TerraformIndex, records: readonly DnsRecordModel[]): NetworkHealthCheckModel[] {
  return index.byType('aws_route53_health_check').map((hc) => {
    const target = index.resolve(hc, v(hc).fqdn);
    const byName = records.find((r) => r.name === str(v(hc).fqdn));
    const lb = target && (target.type === 'aws_lb' || target.type === 'aws_alb') ? target.address : byName?.aliasLoadBalancer;
    return { address: hc.address, loadBalancer: lb, port: num(v(hc).port), type: str(v(hc).type) ?? 'HTTP' };
  });
}

/** The packet-level model; `nodeGroups` are the infra model's, with the launch template each uses. */
export function buildNetworkModel(index: TerraformIndex, subnets: readonly NetworkSubnetModel[], groups: ReadonlyArray<{ readonly group: NodeGroupModel; readonly template: TfResource | undefined; readonly asg: TfResource }>): NetworkModel {
  const vpc = index.byType('aws_vpc')[0];
  const records = recordsOf(index);
  const nodeGroups = groups.map(({ group, template, asg }): NetworkNodeGroupModel => {
    const lt = template ? v(template) : {};
    const sgRefs = [...list(lt.vpc_security_group_ids), ...list(lt.security_group_names), ...blocks(lt.network_interfaces).flatMap((n) => list(n.security_groups))];
    const sgs = template ? sgRefs.map((ref) => index.resolve(template, ref)?.address).filter((a): a is string => a !== undefined) : [];
    return {
      address: group.address,
      name: group.name,
      role: group.role,
      subnets: list(v(asg).vpc_zone_identifier).map((ref) => index.resolve(asg, ref)?.address).filter((a): a is string => a !== undefined),
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
    vpcCidr: vpc ? str(v(vpc).cidr_block) : undefined,
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
