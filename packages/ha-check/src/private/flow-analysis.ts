import type { Findings } from '../findings';
import type { NetworkLoadBalancerModel, NetworkModel, NetworkNodeGroupModel, Protocol, RulePeer, SecurityGroupModel, SecurityGroupRuleModel } from '../network-model';
import type { FlowOutcome } from '../report-types';
import { cidrContains } from './cidr';
import { publiclyTargeted } from './network-terraform';

/** Ports the cluster needs between its nodes (kubeadm, Cilium's VXLAN datapath and health checks). */
const API_PORT = 6443;
const ETCD_PORTS = [2379, 2380];
const KUBELET_PORT = 10250;
const CNI_FLOWS: ReadonlyArray<{ readonly id: string; readonly flow: string; readonly protocol: Protocol; readonly port: number | undefined; readonly required: boolean }> = [
  { id: 'cni-vxlan', flow: 'node ↔ node CNI overlay (VXLAN)', protocol: 'udp', port: 8472, required: true },
  { id: 'cni-health', flow: 'node ↔ node CNI health', protocol: 'tcp', port: 4240, required: true },
  // Cilium's health probes ping every node too; without ICMP they report nodes unreachable but traffic flows.
  { id: 'cni-icmp', flow: 'node ↔ node ICMP (CNI health ping)', protocol: 'icmp', port: undefined, required: false },
];

/** Where a packet comes from, as the security groups it meets see it. */
type Source =
  | { readonly kind: 'private'; readonly label: string; readonly cidr: string | undefined; readonly sgs: readonly string[] }
  /** Behind a NAT (or a public IP): an Elastic IP when known. */
  | { readonly kind: 'eip'; readonly label: string; readonly eip: string | undefined }
  | { readonly kind: 'public'; readonly label: string; readonly cidr: string }
  /** Route 53's health checkers: AWS's published public ranges (the `route53-healthchecks` prefix list). */
  | { readonly kind: 'route53-checkers'; readonly label: string };

type Destination = { readonly kind: 'private'; readonly cidr: string | undefined; readonly sgs: readonly string[] } | { readonly kind: 'public' };

interface Endpoint {
  readonly group: NetworkNodeGroupModel;
  readonly subnet: string;
  readonly az: string;
  readonly cidr: string | undefined;
  readonly label: string;
}

class Dropped extends Error {
  constructor(
    readonly hop: string,
    readonly reason: string,
    readonly fix: string,
  ) {
    super(reason);
  }
}

function peerAdmitsSource(peer: RulePeer, src: Source): boolean {
  switch (peer.kind) {
    case 'security-group':
      return src.kind === 'private' && src.sgs.includes(peer.securityGroup);
    case 'cidr':
      if (peer.cidr === '0.0.0.0/0') return true;
      if (src.kind === 'private') return src.cidr !== undefined && cidrContains(peer.cidr, src.cidr);
      if (src.kind === 'public') return cidrContains(peer.cidr, src.cidr);
      // A NAT's Elastic IP or Route 53's ranges are not in any literal block ha-check can know.
      return false;
    case 'eip':
      return src.kind === 'eip' && src.eip !== undefined && src.eip === peer.eip;
    case 'prefix-list':
      return src.kind === 'route53-checkers' && /route53-healthchecks/.test(peer.name);
  }
}

function peerAdmitsDestination(peer: RulePeer, dest: Destination): boolean {
  if (peer.kind === 'cidr' && peer.cidr === '0.0.0.0/0') return true;
  if (dest.kind === 'public') return false;
  if (peer.kind === 'security-group') return dest.sgs.includes(peer.securityGroup);
  return peer.kind === 'cidr' && dest.cidr !== undefined && cidrContains(peer.cidr, dest.cidr);
}

function ruleMatches(rule: SecurityGroupRuleModel, protocol: Protocol, port: number | undefined): boolean {
  if (rule.protocol === 'all') return true;
  if (rule.protocol !== protocol) return false;
  if (protocol === 'icmp') return rule.fromPort === -1 || port === undefined || rule.fromPort === port;
  return port !== undefined && rule.fromPort <= port && port <= rule.toPort;
}

const portText = (protocol: Protocol, port: number | undefined): string => (protocol === 'icmp' ? 'ICMP' : `${protocol.toUpperCase()} ${port ?? '?'}`);

class FlowModel {
  private readonly sgs: Map<string, SecurityGroupModel>;
  private readonly subnets: Map<string, NetworkModel['subnets'][number]>;

  constructor(readonly net: NetworkModel) {
    this.sgs = new Map(net.securityGroups.map((g) => [g.address, g]));
    this.subnets = new Map(net.subnets.map((s) => [s.address, s]));
  }

  sgNames(sgs: readonly string[]): string {
    return sgs.map((a) => this.sgs.get(a)?.name ?? a).join(', ');
  }

  /** AWS evaluates the union of an interface's security groups: one rule of one group suffices. */
  ingress(sgs: readonly string[], src: Source, protocol: Protocol, port: number | undefined): boolean {
    return sgs.some((a) => this.sgs.get(a)?.ingress.some((r) => ruleMatches(r, protocol, port) && peerAdmitsSource(r.peer, src)) ?? false);
  }

  egress(sgs: readonly string[], dest: Destination, protocol: Protocol, port: number | undefined): boolean {
    return sgs.some((a) => this.sgs.get(a)?.egress.some((r) => ruleMatches(r, protocol, port) && peerAdmitsDestination(r.peer, dest)) ?? false);
  }

  endpoints(lostAz: string | undefined): Endpoint[] {
    return this.net.nodeGroups.flatMap((group) =>
      group.subnets
        .map((s) => this.subnets.get(s))
        .filter((s): s is NonNullable<typeof s> => s !== undefined && s.az !== lostAz)
        .map((s) => ({ group, subnet: s.address, az: s.az, cidr: s.cidr, label: group.subnets.length > 1 ? `${group.name} (${s.az})` : group.name })),
    );
  }

  lbSubnets(lb: NetworkLoadBalancerModel, lostAz: string | undefined): Array<{ az: string; cidr: string | undefined }> {
    return lb.subnets.map((s) => this.subnets.get(s)).filter((s): s is NonNullable<typeof s> => s !== undefined && s.az !== lostAz);
  }

  /** The packet from `src` reaching `lb` on `port`, then its targets; throws Dropped at the hop that drops it. */
  throughLoadBalancer(path: string[], src: Source, lb: NetworkLoadBalancerModel, port: number, lostAz: string | undefined, targets: readonly Endpoint[], client?: Endpoint): void {
    const lbSubnets = this.lbSubnets(lb, lostAz);
    path.push(`${lb.name} (${lb.internal ? 'internal' : 'internet-facing'} ${lb.type === 'network' ? 'NLB' : lb.type === 'application' ? 'ALB' : 'LB'})`);
    if (lb.internal && (src.kind === 'public' || src.kind === 'route53-checkers')) {
      // An internal load balancer's DNS name resolves to private addresses: nothing on the internet reaches them.
      throw new Dropped(`${lb.name} (internal)`, `${lb.name} is internal: its DNS name resolves to private addresses in the VPC, which ${src.label} on the internet cannot reach`, `Make ${lb.name} internet-facing (internal = false), or point the public record and the health check at an internet-facing load balancer.`);
    }
    if (lbSubnets.length === 0) throw new Dropped(lb.name, `${lb.name} has no subnet left${lostAz ? ` after losing ${lostAz}` : ''}`, `Attach a subnet in every AZ to ${lb.name}.`);
    if (lb.securityGroups && !this.ingress(lb.securityGroups, src, 'tcp', port)) {
      throw new Dropped(
        `security group ${this.sgNames(lb.securityGroups)} of ${lb.name}`,
        `${this.sgNames(lb.securityGroups)} admits no traffic from ${src.label} on TCP ${port}`,
        src.kind === 'eip'
          ? `Point the nodes at an internal load balancer (private DNS name), or admit the NAT Elastic IPs (/32) on TCP ${port} in ${this.sgNames(lb.securityGroups)}.`
          : src.kind === 'route53-checkers'
            ? `Admit Route 53's health checkers (the com.amazonaws.<region>.route53-healthchecks prefix list, or 0.0.0.0/0) on TCP ${port} in ${this.sgNames(lb.securityGroups)}.`
            : `Admit ${src.label} on TCP ${port} in ${this.sgNames(lb.securityGroups)}.`,
      );
    }
    const listener = lb.listeners.find((l) => l.port === port);
    if (!listener) throw new Dropped(`listener :${port} of ${lb.name}`, `${lb.name} has no listener on ${port}`, `Add a listener on ${port} to ${lb.name}.`);
    let last: Dropped | undefined;
    for (const tg of listener.targetGroups) {
      if (lb.type === 'network' && tg.preserveClientIp && src.kind === 'private' && client && client.group.targetGroups.includes(tg.address)) {
        // AWS: an NLB does not hairpin. With the client's address preserved, a connection it sends
        // back to the client itself arrives with one address as source and destination, and times
        // out; on day 0 the first control-plane node is the only target, so every connection does.
        throw new Dropped(
          `target group ${tg.name} (client IP preservation)`,
          `hairpin: the target is its own client: ${client.label} is registered with ${tg.name} (instance targets, client IP preserved), so a connection ${lb.name} sends back to it times out; on day 0 the first control-plane node is the only target, so kubeadm init never reaches the API`,
          `Set preserve_client_ip = false on ${tg.name} (the targets then see ${lb.name}'s private address), or register the targets by IP.`,
        );
      }
      const lbAzs = new Set(lbSubnets.map((s) => s.az));
      const registered = targets.filter((t) => t.group.targetGroups.includes(tg.address) && t.group.desired > 0);
      const reachable = registered.filter((t) => lb.crossZone || lbAzs.has(t.az));
      if (reachable.length === 0) {
        last = new Dropped(`target group ${tg.name}`, `no registered target left in an AZ ${lb.name} sends to`, `Register the ASGs of every AZ with ${tg.name} and turn cross-zone load balancing on.`);
        continue;
      }
      const tgPort = tg.port ?? port;
      for (const target of reachable) {
        // What the target sees: the client (client IP preservation) or the load balancer's private addresses.
        const fromLb = lbSubnets.map((s): Source => ({ kind: 'private', label: `${lb.name} (${s.az})`, cidr: s.cidr, sgs: lb.securityGroups ?? [] }));
        const viaLb = (p: number): boolean => fromLb.every((s) => this.ingress(target.group.securityGroups, s, 'tcp', p));
        const admitted = tg.preserveClientIp ? this.ingress(target.group.securityGroups, src, 'tcp', tgPort) || (lb.securityGroups !== undefined && viaLb(tgPort)) : viaLb(tgPort);
        const dest: Destination = { kind: 'private', cidr: target.cidr, sgs: target.group.securityGroups };
        if (lb.securityGroups && !this.egress(lb.securityGroups, dest, 'tcp', tgPort)) {
          last = new Dropped(`egress of ${this.sgNames(lb.securityGroups)}`, `${lb.name}'s security group lets nothing out to ${target.label} on TCP ${tgPort}`, `Allow egress on TCP ${tgPort} to the targets (their security group or the VPC CIDR) in ${this.sgNames(lb.securityGroups)}.`);
        } else if (!admitted) {
          last = new Dropped(
            `security group ${this.sgNames(target.group.securityGroups)}`,
            `${this.sgNames(target.group.securityGroups)} of ${target.label} admits no traffic from ${tg.preserveClientIp ? src.label : lb.name} on TCP ${tgPort}`,
            `Admit ${lb.securityGroups ? `the load balancer's security group (${this.sgNames(lb.securityGroups)})` : `${lb.name}'s subnets`} on TCP ${tgPort} in ${this.sgNames(target.group.securityGroups)}.`,
          );
        } else if (tg.healthCheckPort !== undefined && !viaLb(tg.healthCheckPort)) {
          last = new Dropped(
            `health check: security group ${this.sgNames(target.group.securityGroups)}`,
            `health checks from ${lb.name} to ${target.label} (${tg.name}) on TCP ${tg.healthCheckPort} are dropped by ${this.sgNames(target.group.securityGroups)}: every target stays unhealthy`,
            `Admit ${lb.securityGroups ? `the load balancer's security group` : `${lb.name}'s subnets`} on TCP ${tg.healthCheckPort} in ${this.sgNames(target.group.securityGroups)}.`,
          );
        } else {
          path.push(`${tg.name} → ${target.label}:${tgPort}`);
          return;
        }
      }
    }
    throw last ?? new Dropped(`listener :${port} of ${lb.name}`, `listener ${port} of ${lb.name} forwards to no target group`, `Forward listener ${port} to the target group of the ASGs.`);
  }
}

function outcome(base: Omit<FlowOutcome, 'ok' | 'path' | 'droppedAt' | 'reason' | 'fix'>, run: (path: string[]) => void): FlowOutcome {
  const path: string[] = [];
  try {
    run(path);
    return { ...base, ok: true, path };
  } catch (e) {
    if (!(e instanceof Dropped)) throw e;
    return { ...base, ok: false, path, droppedAt: e.hop, reason: e.reason, fix: e.fix };
  }
}

function nodeToNode(m: FlowModel, id: string, flow: string, from: Endpoint, to: Endpoint, protocol: Protocol, port: number | undefined, required: boolean): FlowOutcome {
  return outcome({ id, flow, from: from.label, to: to.label, protocol, port, required }, (path) => {
    path.push(from.label, 'local route (VPC)');
    const dest: Destination = { kind: 'private', cidr: to.cidr, sgs: to.group.securityGroups };
    if (!m.egress(from.group.securityGroups, dest, protocol, port)) {
      throw new Dropped(`egress of ${m.sgNames(from.group.securityGroups)}`, `${m.sgNames(from.group.securityGroups)} lets no ${portText(protocol, port)} out to ${to.label}`, `Allow egress ${portText(protocol, port)} to the cluster's nodes in ${m.sgNames(from.group.securityGroups)}.`);
    }
    const src: Source = { kind: 'private', label: from.label, cidr: from.cidr, sgs: from.group.securityGroups };
    if (!m.ingress(to.group.securityGroups, src, protocol, port)) {
      throw new Dropped(`security group ${m.sgNames(to.group.securityGroups)}`, `${m.sgNames(to.group.securityGroups)} of ${to.label} admits no ${portText(protocol, port)} from ${from.label} (${m.sgNames(from.group.securityGroups)})`, `Admit ${portText(protocol, port)} from ${m.sgNames(from.group.securityGroups)} (a rule referencing that security group) in ${m.sgNames(to.group.securityGroups)}.`);
    }
    path.push(`${to.label}:${protocol === 'icmp' ? 'icmp' : port}`);
  });
}

/** The load balancer a node's configured API name leads to, or why it leads nowhere. */
function resolveEndpoint(net: NetworkModel, group: NetworkNodeGroupModel, path: string[]): NetworkLoadBalancerModel {
  const ep = group.apiEndpoint;
  if (!ep) throw new Error('no endpoint');
  const lbByAddress = (a: string | undefined): NetworkLoadBalancerModel | undefined => net.loadBalancers.find((lb) => lb.address === a);
  if (ep.kind === 'load-balancer') {
    const lb = lbByAddress(ep.loadBalancer);
    if (lb) return lb;
  }
  const records = ep.kind === 'record' ? net.records.filter((r) => r.address === ep.record) : ep.kind === 'name' ? net.records.filter((r) => r.name === ep.name) : [];
  const visible = records.filter((r) => !r.privateZone || (net.vpc !== undefined && r.zoneVpcs.includes(net.vpc)));
  const name = ep.kind === 'name' ? ep.name : (records[0]?.name ?? ep.text);
  path.push(`DNS ${name}`);
  if (visible.length === 0) {
    throw new Dropped(
      `DNS ${name}`,
      records.length > 0 ? `${name} is only in a private hosted zone not associated with the nodes' VPC: it does not resolve there` : `no Route 53 record named ${name} in this Terraform: the nodes cannot resolve it`,
      `Put ${name} in a private hosted zone associated with the cluster's VPC (vpc block or aws_route53_zone_association), aliasing the internal API load balancer.`,
    );
  }
  const lb = lbByAddress(visible[0].aliasLoadBalancer);
  if (!lb) throw new Dropped(`DNS ${name}`, `${name} is not an alias of a load balancer of this Terraform`, `Alias ${name} to the internal API load balancer.`);
  path.push(`alias → ${lb.name}`);
  return lb;
}

/** The configured endpoint, for people: a load balancer's DNS name by the load balancer's name. */
function endpointText(net: NetworkModel, group: NetworkNodeGroupModel): string {
  const ep = group.apiEndpoint;
  if (ep?.kind === 'load-balancer') return `${net.loadBalancers.find((lb) => lb.address === ep.loadBalancer)?.name ?? ep.loadBalancer} (its DNS name)`;
  if (ep?.kind === 'record') return net.records.find((r) => r.address === ep.record)?.name ?? ep.text;
  return ep?.kind === 'name' ? ep.name : '?';
}

export interface FlowOptions {
  /** Networks operators and CI reach the public API from (platform-config apiEndpoint.allowedCidrs). */
  readonly operatorCidrs?: readonly string[];
  /** Workloads with a web identity and the node groups (addresses) they can run on: they call STS. */
  readonly stsClients?: ReadonlyArray<{ readonly workload: string; readonly groups: readonly string[]; readonly global?: boolean }>;
}

/**
 * A pod with a web identity → `sts.<region>.amazonaws.com:443` (AssumeRoleWithWebIdentity). With an
 * STS interface endpoint whose private DNS is on, the name resolves to its ENIs in the VPC (the
 * packet never takes the default route; a dead endpoint is not bypassed); otherwise it leaves by
 * the subnet's default route: the AZ's NAT, or an internet gateway.
 */
function podToSts(m: FlowModel, net: NetworkModel, from: Endpoint, workloads: readonly string[], lostAz: string | undefined, global: boolean): FlowOutcome {
  const region = net.region ?? '<region>';
  // AWS_STS_REGIONAL_ENDPOINTS=legacy: the global name, which no STS interface endpoint answers for.
  const host = global ? 'sts.amazonaws.com' : `sts.${region}.amazonaws.com`;
  const subnets = new Map(net.subnets.map((s) => [s.address, s]));
  return outcome({ id: 'pod-to-sts', flow: 'pod with a web identity → STS', from: from.label, to: `${host} (${workloads.length === 1 ? workloads[0] : `${workloads.length} workloads`})`, protocol: 'tcp', port: 443, required: true }, (path) => {
    path.push(from.label);
    const src: Source = { kind: 'private', label: from.label, cidr: from.cidr, sgs: from.group.securityGroups };
    const endpoint = global ? undefined : net.interfaceEndpoints.find((e) => e.service === `com.amazonaws.${region}.sts` && e.privateDns);
    if (endpoint) {
      path.push(`DNS ${host} → ${endpoint.name} (private DNS)`, 'local route (VPC)');
      const left = endpoint.subnets.map((s) => subnets.get(s)).filter((s): s is NonNullable<typeof s> => s !== undefined && s.az !== lostAz);
      if (left.length === 0) throw new Dropped(endpoint.name, `${endpoint.name} has no subnet${lostAz ? ` left after losing ${lostAz}` : ''}: private DNS answers with no address that serves`, `Give ${endpoint.name} a subnet in every AZ.`);
      const dest: Destination = { kind: 'private', cidr: left[0].cidr, sgs: endpoint.securityGroups };
      if (!m.egress(from.group.securityGroups, dest, 'tcp', 443)) throw new Dropped(`egress of ${m.sgNames(from.group.securityGroups)}`, `${m.sgNames(from.group.securityGroups)} lets no TCP 443 out to ${endpoint.name}`, `Allow egress TCP 443 to ${endpoint.name}'s security group in ${m.sgNames(from.group.securityGroups)}.`);
      if (!m.ingress(endpoint.securityGroups, src, 'tcp', 443)) throw new Dropped(`security group ${m.sgNames(endpoint.securityGroups)} of ${endpoint.name}`, `${m.sgNames(endpoint.securityGroups)} admits no TCP 443 from ${from.label}`, `Admit TCP 443 from the nodes' security group (${m.sgNames(from.group.securityGroups)}) in ${m.sgNames(endpoint.securityGroups)}.`);
      path.push(`${endpoint.name} (${[...new Set(left.map((s) => s.az))].join(', ')})`);
      return;
    }
    const subnet = subnets.get(from.subnet);
    const route = subnet?.defaultRoute;
    const fix = global
      ? `Set AWS_STS_REGIONAL_ENDPOINTS=regional on the pods (an STS interface endpoint answers only for sts.${region}.amazonaws.com), or route 0.0.0.0/0 to the AZ's NAT gateway.`
      : `Add an STS interface VPC endpoint (com.amazonaws.${region}.sts, private DNS on, a subnet in every AZ, its security group admitting TCP 443 from the nodes) or route 0.0.0.0/0 to the AZ's NAT gateway.`;
    if (route?.kind === 'nat') {
      const nat = net.nats.find((n) => n.address === route.nat);
      path.push(`${nat?.name ?? route.nat} (NAT in ${nat?.az ?? '?'})`);
      if (nat && nat.az === lostAz) throw new Dropped(nat.name, `its only way out is the NAT in the lost AZ ${lostAz}`, fix);
    } else if (route?.kind === 'internet-gateway') {
      path.push('internet gateway');
    } else {
      const why = global ? `no default route, and the global ${host} (AWS_STS_REGIONAL_ENDPOINTS=legacy) is not what an STS interface endpoint answers for` : `no default route and no STS interface endpoint with private DNS: ${host} is out of reach`;
      throw new Dropped(`route table of ${subnet?.name ?? from.subnet}`, `${why}, so AssumeRoleWithWebIdentity fails and the pods get no AWS credentials`, fix);
    }
    if (!m.egress(from.group.securityGroups, { kind: 'public' }, 'tcp', 443)) throw new Dropped(`egress of ${m.sgNames(from.group.securityGroups)}`, `${m.sgNames(from.group.securityGroups)} lets no TCP 443 out to ${host}`, `Allow egress TCP 443 to 0.0.0.0/0 (or use an STS interface endpoint) in ${m.sgNames(from.group.securityGroups)}.`);
    path.push(host);
  });
}

/** Every flow the cluster depends on, decided with `lostAz` gone (undefined: the normal state). */
export function decideFlows(net: NetworkModel, lostAz: string | undefined, options: FlowOptions = {}): FlowOutcome[] {
  const m = new FlowModel(net);
  const endpoints = m.endpoints(lostAz);
  const nats = new Map(net.nats.map((n) => [n.address, n]));
  const subnets = new Map(net.subnets.map((s) => [s.address, s]));
  const flows: FlowOutcome[] = [];
  const cps = endpoints.filter((e) => e.group.role === 'control-plane');
  const apiLbs = net.loadBalancers.filter((lb) => lb.listeners.some((l) => l.port === API_PORT));

  // Nodes → the API endpoint their bootstrap configuration names.
  for (const from of endpoints.filter((e) => e.group.apiEndpoint !== undefined)) {
    flows.push(
      outcome({ id: 'node-to-api', flow: 'node → API endpoint', from: from.label, to: endpointText(net, from.group), protocol: 'tcp', port: API_PORT, required: true }, (path) => {
        path.push(from.label);
        const lb = resolveEndpoint(net, from.group, path);
        let src: Source = { kind: 'private', label: from.label, cidr: from.cidr, sgs: from.group.securityGroups };
        let dest: Destination = { kind: 'private', cidr: net.vpcCidr, sgs: lb.securityGroups ?? [] };
        if (!lb.internal) {
          // An internet-facing load balancer resolves to public addresses: the packet takes the subnet's default route.
          const route = subnets.get(from.subnet)?.defaultRoute;
          if (route?.kind === 'nat') {
            const nat = nats.get(route.nat);
            path.push(`${nat?.name ?? route.nat} (NAT in ${nat?.az ?? '?'})`);
            if (nat && nat.az === lostAz) throw new Dropped(`${nat.name}`, `its only way out is the NAT in the lost AZ ${lostAz}`, 'Use an internal API endpoint (no NAT on the path) or a NAT gateway per AZ.');
            src = { kind: 'eip', label: `the NAT Elastic IP of ${nat?.name ?? route.nat}`, eip: nat?.eip };
          } else if (route?.kind === 'internet-gateway') {
            path.push('internet gateway');
            src = { kind: 'eip', label: `${from.label}'s public IP`, eip: undefined };
          } else {
            throw new Dropped(`route table of ${subnets.get(from.subnet)?.name ?? from.subnet}`, 'no default route: the internet-facing endpoint is out of reach', 'Use an internal API endpoint, or route 0.0.0.0/0 to the AZ\'s NAT gateway.');
          }
          dest = { kind: 'public' };
        } else {
          path.push('local route (VPC)');
        }
        if (!m.egress(from.group.securityGroups, dest, 'tcp', API_PORT)) {
          throw new Dropped(`egress of ${m.sgNames(from.group.securityGroups)}`, `${m.sgNames(from.group.securityGroups)} lets no TCP ${API_PORT} out to ${lb.name}`, `Allow egress TCP ${API_PORT} in ${m.sgNames(from.group.securityGroups)}.`);
        }
        m.throughLoadBalancer(path, src, lb, API_PORT, lostAz, cps, from);
      }),
    );
  }

  // Pods with a web identity → STS, from every node they can run on.
  for (const from of endpoints) {
    for (const global of [false, true]) {
      const workloads = (options.stsClients ?? []).filter((c) => c.groups.includes(from.group.address) && (c.global === true) === global).map((c) => c.workload);
      if (workloads.length > 0) flows.push(podToSts(m, net, from, workloads, lostAz, global));
    }
  }

  // Operators and CI → the public API endpoint.
  for (const cidr of options.operatorCidrs ?? []) {
    const lb = apiLbs.find((x) => !x.internal);
    flows.push(
      outcome({ id: 'operator-to-api', flow: 'operator/CI → public API', from: cidr, to: lb?.name ?? 'public API endpoint', protocol: 'tcp', port: API_PORT, required: true }, (path) => {
        path.push(cidr, 'internet');
        if (!lb) throw new Dropped('public API endpoint', 'no internet-facing load balancer listens on 6443', 'Create the public API NLB (internet-facing, security group = allowedCidrs).');
        m.throughLoadBalancer(path, { kind: 'public', label: cidr, cidr }, lb, API_PORT, lostAz, cps);
      }),
    );
  }

  // Control plane ↔ control plane: etcd client and peer.
  for (const a of cps) for (const b of cps) if (a !== b) for (const port of ETCD_PORTS) flows.push(nodeToNode(m, 'etcd-peers', `control plane ↔ control plane (etcd ${port})`, a, b, 'tcp', port, true));
  // Control plane → every kubelet (logs, exec, metrics).
  for (const a of cps) for (const b of endpoints) if (a !== b) flows.push(nodeToNode(m, 'kubelet', 'control plane → kubelet', a, b, 'tcp', KUBELET_PORT, true));
  // Node ↔ node: the CNI.
  for (const f of CNI_FLOWS) for (const a of endpoints) for (const b of endpoints) if (a !== b || a.group.desired > 1) flows.push(nodeToNode(m, f.id, f.flow, a, b, f.protocol, f.port, f.required));

  // The app's ingress: internet → ingress LB → NodePorts, and Route 53's health checker → ingress.
  const workers = endpoints.filter((e) => e.group.role === 'worker');
  const publicTargets = publiclyTargeted(net);
  const ingressLbs = net.loadBalancers.filter((lb) => (!lb.internal || publicTargets.has(lb.address)) && !lb.listeners.some((l) => l.port === API_PORT) && lb.listeners.some((l) => l.port === 80 || l.port === 443));
  for (const lb of ingressLbs) {
    for (const l of lb.listeners) {
      const src: Source = { kind: 'public', label: 'clients (0.0.0.0/0)', cidr: '0.0.0.0/0' };
      flows.push(outcome({ id: 'ingress-nodeports', flow: 'ingress LB → NodePorts', from: 'internet', to: `${lb.name}:${l.port}`, protocol: 'tcp', port: l.port, required: true }, (path) => m.throughLoadBalancer(path, src, lb, l.port, lostAz, workers)));
    }
  }
  for (const hc of net.healthChecks) {
    const lb = net.loadBalancers.find((x) => x.address === hc.loadBalancer);
    if (!lb || hc.port === undefined) continue;
    flows.push(
      outcome({ id: 'health-checker-ingress', flow: 'Route 53 health checker → ingress', from: 'Route 53 health checkers', to: `${lb.name}:${hc.port}`, protocol: 'tcp', port: hc.port, required: true }, (path) => {
        path.push('Route 53 health checkers (public ranges)');
        m.throughLoadBalancer(path, { kind: 'route53-checkers', label: "Route 53's health checkers" }, lb, hc.port as number, lostAz, workers);
      }),
    );
  }
  return flows;
}

/** One finding per flow and dropping hop; errors in the normal state (the cluster cannot work), AZ rule when only an AZ loss blocks it. */
export function flowFindings(normal: readonly FlowOutcome[], byAz: ReadonlyArray<{ readonly id: string; readonly flows: readonly FlowOutcome[] }>, findings: Findings): void {
  const groups = new Map<string, { flow: FlowOutcome; instances: Set<string>; scenarios: Set<string>; normal: boolean }>();
  const collect = (f: FlowOutcome, scenario: string | undefined): void => {
    if (f.ok) return;
    const key = `${f.flow}\u0000${f.droppedAt}`;
    const g = groups.get(key) ?? { flow: f, instances: new Set<string>(), scenarios: new Set<string>(), normal: false };
    g.instances.add(`${f.from} → ${f.to}`);
    if (scenario) g.scenarios.add(scenario);
    else g.normal = true;
    groups.set(key, g);
  };
  for (const f of normal) collect(f, undefined);
  for (const s of byAz) for (const f of s.flows) collect(f, s.id);
  for (const g of groups.values()) {
    const instances = [...g.instances];
    const shown = instances.slice(0, 3).join('; ') + (instances.length > 3 ? `; and ${instances.length - 3} more` : '');
    const when = g.normal ? 'in the normal state' : `after losing ${[...g.scenarios].map((s) => s.replace('az-loss:', '')).join(' or ')}`;
    findings.add('flow.blocked', `${g.flow.flow}: ${g.flow.droppedAt}`, `${g.flow.flow} (${portText(g.flow.protocol, g.flow.port)}) is dropped ${when} at ${g.flow.droppedAt}: ${g.flow.reason} (${shown})`, {
      scenarios: [...g.scenarios],
      vars: { fix: g.flow.fix ?? '' },
      ...(g.flow.required ? (g.normal ? { severity: 'error' as const } : {}) : { severity: 'warning' as const }),
    });
  }
}
