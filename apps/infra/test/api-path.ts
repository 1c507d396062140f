import { cidrContains, formatCidr, KUBERNETES_PORTS, parseCidr, type Ipv4Cidr } from '@platform/platform-config';

/*
 * A packet-path evaluator over one synthesized stack (cdk.tf.json), for the Kubernetes API
 * port. It follows what AWS does with a TCP SYN to <host>:6443, step by step:
 *
 *   1. name    — the host the client is configured with: for a node, read from the
 *                kubeadm join/init configuration in its launch template's user data.
 *   2. DNS     — Route 53: a record in a private hosted zone answers only to VPCs associated
 *                with the zone, through the VPC resolver (enable_dns_support); a public-zone
 *                record answers everyone. An alias answers with the load balancer's addresses:
 *                private ones (in its subnets) for an internal NLB, public ones for an
 *                internet-facing NLB. An NLB's own DNS name resolves the same way.
 *   3. route   — from a subnet: a destination inside the VPC CIDR takes the implicit `local`
 *                route; anything else the subnet's route table's 0.0.0.0/0 route. Through a
 *                NAT gateway the source becomes the NAT's Elastic IP; from the internet the
 *                client's own address. A private address is not routable from the internet.
 *   4. filters — the client's security group egress, the load balancer's security group
 *                ingress (source CIDR must contain the source; an Elastic IP is allocated from
 *                Amazon's pool at apply time, so only 0.0.0.0/0 or a rule naming that EIP
 *                admits it), then the load balancer's egress to, and the API servers' ingress
 *                from, the load balancer, and the control-plane ASGs registered in the target
 *                group its 6443 listener forwards to.
 *
 * Network ACLs are not modelled: the stacks create none, and the VPC's default ACL allows all.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Hop {
  readonly step: 'name' | 'dns' | 'route' | 'security-group' | 'target';
  readonly detail: string;
}

export type PathVerdict =
  | { readonly allowed: true; readonly hops: readonly Hop[]; readonly loadBalancer: string; /** The NAT gateway on the path, if any. */ readonly natGateway: string | undefined }
  | { readonly allowed: false; readonly hops: readonly Hop[]; readonly droppedAt: Hop['step']; readonly reason: string };

/** Where a packet comes from: a node in one of the stack's subnets, or an address on the internet. */
export type Client = { readonly kind: 'node'; readonly launchTemplate: string; readonly subnet: string } | { readonly kind: 'internet'; readonly address: string };

const REF = /^\$\{([a-z0-9_]+)\.([^.}]+)\.([a-z_]+)\}$/;
const BARE_REF = /^([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)$/;

/** A host in user data: a literal name, or a Terraform reference (`aws_route53_record.x.fqdn`). */
export type Host = { readonly literal: string } | { readonly ref: { readonly type: string; readonly name: string; readonly attr: string } };

export class StackNetwork {
  constructor(readonly json: Json) {}

  all(type: string): [string, Json][] {
    return Object.entries(this.json.resource?.[type] ?? {});
  }

  get(type: string, name: string): Json {
    const found = this.json.resource?.[type]?.[name];
    if (!found) throw new Error(`no ${type}.${name} in the stack`);
    return found;
  }

  /** `${type.name.attr}` → [type, name]. */
  deref(reference: unknown): [string, string] | undefined {
    const m = typeof reference === 'string' ? REF.exec(reference) : null;
    return m ? [m[1], m[2]] : undefined;
  }

  /**
   * The user data of a launch template decoded back to text: it is
   * `${base64gzip(join("", ["…", ref, "…"]))}`, literal HCL strings and references; each
   * reference comes back as `${type.name.attr}`.
   */
  userData(launchTemplate: string): string {
    const expr = String(this.get('aws_launch_template', launchTemplate).user_data);
    const inner = /^\$\{base64gzip\(join\("", \[(.*)\]\)\)\}$/s.exec(expr)?.[1];
    if (inner === undefined) throw new Error(`user data of ${launchTemplate} is not base64gzip(join(...)): ${expr.slice(0, 60)}`);
    const parts: string[] = [];
    const token = /\s*(?:"((?:[^"\\]|\\.)*)"|([a-z0-9_]+\.[A-Za-z0-9_-]+\.[a-z_]+))\s*(?:,|$)/gsy;
    let m: RegExpExecArray | null;
    while (token.lastIndex < inner.length && (m = token.exec(inner))) {
      // HCL string escapes are JSON's, plus $${ and %%{ for a literal ${ and %{.
      parts.push(m[1] !== undefined ? (JSON.parse(`"${m[1]}"`) as string).replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{') : `\${${m[2]}}`);
    }
    if (token.lastIndex !== inner.length) throw new Error(`cannot read the user data of ${launchTemplate} at offset ${token.lastIndex}`);
    return parts.join('');
  }

  /** The API host a node joins through (kubeadm JoinConfiguration discovery.bootstrapToken.apiServerEndpoint). */
  nodeApiHost(launchTemplate: string): Host {
    const text = this.userData(launchTemplate);
    const join = /apiServerEndpoint: (\S+):(\d+)\n/.exec(text);
    if (!join) throw new Error(`no kubeadm apiServerEndpoint in the user data of ${launchTemplate}`);
    const init = /controlPlaneEndpoint: (\S+):(\d+)\n/.exec(text);
    if (init && init[1] !== join[1]) throw new Error(`${launchTemplate}: controlPlaneEndpoint ${init[1]} differs from the join endpoint ${join[1]}`);
    return hostOf(join[1]);
  }

  /** Private CIDR of a subnet, its VPC, and the route table associated with it. */
  subnet(name: string): { cidr: Ipv4Cidr; vpc: string; routeTable: string | undefined; az: string } {
    const s = this.get('aws_subnet', name);
    const [, vpc] = this.deref(s.vpc_id) ?? [];
    const assoc = this.all('aws_route_table_association').find(([, a]) => this.deref(a.subnet_id)?.[1] === name);
    return { cidr: parseCidr(s.cidr_block) as Ipv4Cidr, vpc: vpc as string, routeTable: assoc ? this.deref(assoc[1].route_table_id)?.[1] : undefined, az: s.availability_zone };
  }

  /** The subnets an ASG launches into, by AZ. */
  asgSubnets(asg: Json): string[] {
    return (asg.vpc_zone_identifier as string[]).map((r) => this.deref(r)?.[1] as string);
  }

  launchTemplateOf(asg: Json): string {
    return this.deref(asg.launch_template?.id ?? asg.mixed_instances_policy?.launch_template?.launch_template_specification?.launch_template_id)?.[1] as string;
  }

  /** Every node an ASG can launch: one client per (launch template, subnet). */
  nodes(): { asg: string; client: Client & { kind: 'node' } }[] {
    return this.all('aws_autoscaling_group').flatMap(([, asg]) => this.asgSubnets(asg).map((subnet) => ({ asg: asg.name as string, client: { kind: 'node' as const, launchTemplate: this.launchTemplateOf(asg), subnet } })));
  }
}

function hostOf(text: string): Host {
  const ref = REF.exec(text) ?? BARE_REF.exec(text);
  return ref ? { ref: { type: ref[1], name: ref[2], attr: ref[3] } } : { literal: text };
}

/** Follow one TCP connection to <host>:6443 from `client`, hop by hop. */
export function apiPath(net: StackNetwork, client: Client, host: Host): PathVerdict {
  const hops: Hop[] = [];
  const drop = (step: Hop['step'], reason: string): PathVerdict => ({ allowed: false, hops, droppedAt: step, reason });
  const port = KUBERNETES_PORTS.apiServer;
  const vpc = client.kind === 'node' ? net.subnet(client.subnet).vpc : undefined;
  hops.push({ step: 'name', detail: 'ref' in host ? `${host.ref.type}.${host.ref.name}.${host.ref.attr}` : host.literal });

  // 2. DNS
  const resolved = resolve(net, vpc, host);
  if ('error' in resolved) return drop('dns', resolved.error);
  const lbName = resolved.loadBalancer;
  const lb = net.get('aws_lb', lbName);
  const internal = lb.internal === true;
  const [, lbVpc] = net.deref(lb.subnets?.[0] ? net.get('aws_subnet', net.deref(lb.subnets[0])?.[1] as string).vpc_id : undefined) ?? [];
  hops.push({ step: 'dns', detail: `${resolved.via} → aws_lb.${lbName} (${internal ? 'internal: private addresses in its subnets' : 'internet-facing: public addresses'})` });

  // 3. route, and the source address the load balancer sees
  let source: { cidr: Ipv4Cidr; label: string } | { eip: string; label: string };
  let natGateway: string | undefined;
  if (client.kind === 'internet') {
    if (internal) return drop('route', `aws_lb.${lbName} is internal: its private addresses are not routable from the internet (${client.address})`);
    source = { cidr: parseCidr(`${client.address}/32`) as Ipv4Cidr, label: client.address };
    hops.push({ step: 'route', detail: `internet → aws_lb.${lbName}, source ${client.address}` });
  } else if (internal) {
    const here = net.subnet(client.subnet);
    if (lbVpc !== here.vpc) return drop('route', `aws_lb.${lbName} is in another VPC (no peering modelled)`);
    source = { cidr: here.cidr, label: `subnet ${client.subnet} (${formatCidr(here.cidr)})` };
    hops.push({ step: 'route', detail: `local route (destination inside the VPC CIDR), source ${source.label}` });
  } else {
    const table = net.subnet(client.subnet).routeTable;
    if (!table) return drop('route', `subnet ${client.subnet} has no route table association`);
    const def = net.all('aws_route').find(([, r]) => net.deref(r.route_table_id)?.[1] === table && r.destination_cidr_block === '0.0.0.0/0');
    if (!def) return drop('route', `route table ${table} has no 0.0.0.0/0 route to reach the public addresses of aws_lb.${lbName}`);
    const nat = net.deref(def[1].nat_gateway_id);
    if (nat) {
      const gateway = net.get('aws_nat_gateway', nat[1]);
      const eip = net.deref(gateway.allocation_id)?.[1] as string;
      const natAz = net.get('aws_subnet', net.deref(gateway.subnet_id)?.[1] as string).availability_zone;
      source = { eip, label: `aws_eip.${eip} (NAT gateway aws_nat_gateway.${nat[1]} in ${natAz})` };
      natGateway = nat[1];
      hops.push({ step: 'route', detail: `0.0.0.0/0 → NAT aws_nat_gateway.${nat[1]} in ${natAz}, source rewritten to aws_eip.${eip}` });
    } else {
      return drop('route', `route table ${table} sends 0.0.0.0/0 to ${JSON.stringify(def[1])}, not a NAT gateway (a private subnet's node has no public address)`);
    }
  }

  // 4a. the client's own security groups, egress
  if (client.kind === 'node') {
    const vpcCidr = parseCidr(net.get('aws_vpc', net.subnet(client.subnet).vpc).cidr_block) as Ipv4Cidr;
    // To an internal NLB: an address inside the VPC CIDR; to an internet-facing one: anywhere.
    const out = nodeSecurityGroups(net, client.launchTemplate).some((g) => egressAllows(net, g, port, internal ? vpcCidr : undefined));
    if (!out) return drop('security-group', `no egress rule of ${client.launchTemplate}'s security groups allows TCP ${port} to aws_lb.${lbName}`);
  }

  // 4b. the load balancer's security group, ingress
  const lbGroups = ((lb.security_groups ?? []) as string[]).map((g) => net.deref(g)?.[1] as string);
  if (lbGroups.length > 0) {
    const nodeGroups = client.kind === 'node' && internal ? nodeSecurityGroups(net, client.launchTemplate) : [];
    const admitted = lbGroups.some((g) => ingressRules(net, g, port).some((r) => admits(net, r, source, nodeGroups)));
    if (!admitted) {
      const names = lbGroups.map((g) => net.get('aws_security_group', g).name).join(', ');
      return drop('security-group', `security group ${names} of aws_lb.${lbName} admits no TCP ${port} from source ${source.label}`);
    }
    hops.push({ step: 'security-group', detail: `aws_lb.${lbName} admits ${source.label}` });
  }

  // 4c. load balancer → API servers
  const target = reachesTargets(net, lbName, lbGroups, port);
  if (target) return drop('target', target);
  hops.push({ step: 'target', detail: `aws_lb.${lbName} forwards ${port} to the control-plane ASGs` });
  return { allowed: true, hops, loadBalancer: lbName, natGateway };
}

/** Route 53 and AWS DNS, as seen from `vpc` (undefined: from the internet). */
function resolve(net: StackNetwork, vpc: string | undefined, host: Host): { loadBalancer: string; via: string } | { error: string } {
  let record: [string, Json] | undefined;
  if ('ref' in host) {
    if (host.ref.type === 'aws_lb') return { loadBalancer: host.ref.name, via: 'the NLB\'s own DNS name (public DNS)' };
    if (host.ref.type !== 'aws_route53_record') return { error: `cannot resolve ${host.ref.type}.${host.ref.name}` };
    record = [host.ref.name, net.get('aws_route53_record', host.ref.name)];
  } else {
    record = net.all('aws_route53_record').find(([, r]) => r.name === host.literal);
    if (!record) return { error: `no record ${host.literal} in the stack's zones` };
  }
  const [recordName, r] = record;
  const zone = net.deref(r.zone_id);
  if (zone) {
    const z = net.get('aws_route53_zone', zone[1]);
    const associated = ((z.vpc ?? []) as Json[]).map((v) => net.deref(v.vpc_id)?.[1]);
    if (associated.length > 0) {
      if (!vpc) return { error: `${r.name} is in private zone ${z.name}: not resolvable from the internet (NXDOMAIN)` };
      if (!associated.includes(vpc)) return { error: `${r.name} is in private zone ${z.name}, not associated with VPC ${vpc}` };
      if (net.get('aws_vpc', vpc).enable_dns_support !== true) return { error: `VPC ${vpc} has DNS support off: its resolver answers nothing` };
    }
  }
  const alias = net.deref(r.alias?.name);
  if (!alias || alias[0] !== 'aws_lb') return { error: `record ${r.name} is not an alias of a load balancer` };
  return { loadBalancer: alias[1], via: `aws_route53_record.${recordName} (${r.name}${zone ? ', private zone' : ', public zone'})` };
}

type Rule = Json;
const coversPort = (r: Rule, port: number) => r.ip_protocol === '-1' || (r.ip_protocol === 'tcp' && r.from_port <= port && port <= r.to_port);

function ingressRules(net: StackNetwork, group: string, port: number): Rule[] {
  return net.all('aws_vpc_security_group_ingress_rule').map(([, r]) => r).filter((r) => net.deref(r.security_group_id)?.[1] === group && coversPort(r, port));
}

function egressAllows(net: StackNetwork, group: string, port: number, vpcCidr: Ipv4Cidr | undefined): boolean {
  return net.all('aws_vpc_security_group_egress_rule').some(([, r]) => {
    if (net.deref(r.security_group_id)?.[1] !== group || !coversPort(r, port)) return false;
    const cidr = parseCidr(r.cidr_ipv4 ?? '');
    return cidr !== undefined && (cidr.prefix === 0 || (vpcCidr !== undefined && cidrContains(cidr, vpcCidr)));
  });
}

function nodeSecurityGroups(net: StackNetwork, launchTemplate: string): string[] {
  const lt = net.get('aws_launch_template', launchTemplate);
  return ((lt.vpc_security_group_ids ?? lt.network_interfaces?.[0]?.security_groups ?? []) as string[]).map((g) => net.deref(g)?.[1] as string);
}

function admits(net: StackNetwork, rule: Rule, source: { cidr: Ipv4Cidr } | { eip: string }, clientGroups: readonly string[]): boolean {
  if (rule.referenced_security_group_id) return clientGroups.includes(net.deref(rule.referenced_security_group_id)?.[1] as string);
  const text = String(rule.cidr_ipv4 ?? '');
  if ('eip' in source) {
    // Known only at apply: admitted by the whole internet, or by a rule built from that very EIP.
    return text === '0.0.0.0/0' || text.includes(`aws_eip.${source.eip}.public_ip`);
  }
  const cidr = parseCidr(text);
  return cidr !== undefined && cidrContains(cidr, source.cidr);
}

/** Undefined when the NLB reaches the API servers on `port`; otherwise why not. */
function reachesTargets(net: StackNetwork, lbName: string, lbGroups: readonly string[], port: number): string | undefined {
  const listener = net.all('aws_lb_listener').find(([, l]) => net.deref(l.load_balancer_arn)?.[1] === lbName && l.port === port);
  if (!listener) return `aws_lb.${lbName} has no listener on ${port}`;
  const tg = net.deref(listener[1].default_action?.[0]?.target_group_arn)?.[1];
  const asgs = net.all('aws_autoscaling_group').filter(([, a]) => ((a.target_group_arns ?? []) as string[]).some((t) => net.deref(t)?.[1] === tg));
  if (asgs.length === 0) return `no ASG registers in aws_lb_target_group.${tg}`;
  const vpcCidr = parseCidr(net.all('aws_vpc')[0][1].cidr_block) as Ipv4Cidr;
  if (lbGroups.length > 0 && !lbGroups.some((g) => egressAllows(net, g, port, vpcCidr))) return `security group of aws_lb.${lbName} allows no TCP ${port} egress to the VPC`;
  for (const [, asg] of asgs) {
    const groups = nodeSecurityGroups(net, net.launchTemplateOf(asg));
    // preserve_client_ip is off: traffic and health checks come from the NLB's own addresses.
    const ok = groups.some((g) => ingressRules(net, g, port).some((r) => (r.referenced_security_group_id ? lbGroups.includes(net.deref(r.referenced_security_group_id)?.[1] as string) : false)));
    if (!ok) return `ASG ${asg.name}'s security groups admit no TCP ${port} from aws_lb.${lbName}'s security group`;
  }
  return undefined;
}
