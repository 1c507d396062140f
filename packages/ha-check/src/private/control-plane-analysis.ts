import type { Findings } from '../findings';
import type { InfraModel, LoadBalancerModel, LoadBalancerRole, NodeGroupModel } from '../model';
import type { EtcdOutcome, LoadBalancerOutcome } from '../report-types';

/** Nodes an ASG loses with `az`: all when it lives there alone, its even share when it spans AZs. */
export function nodesLost(group: NodeGroupModel, az: string, count: number): number {
  if (!group.azs.includes(az)) return 0;
  return group.azs.length === 1 ? count : Math.ceil(count / group.azs.length);
}

export function etcdOutcome(controlPlane: readonly NodeGroupModel[], az: string | undefined): EtcdOutcome {
  const members = controlPlane.reduce((s, g) => s + g.desired, 0);
  const lost = az === undefined ? members : controlPlane.reduce((s, g) => s + nodesLost(g, az, g.desired), 0);
  const quorumNeeded = Math.floor(members / 2) + 1;
  return { members, lost, surviving: members - lost, quorumNeeded, quorum: members > 0 && members - lost >= quorumNeeded };
}

export function loadBalancerOf(infra: InfraModel, role: LoadBalancerRole): LoadBalancerModel | undefined {
  return infra.loadBalancers.find((lb) => lb.role === role);
}

/** Node groups registered with the load balancer's target groups; else the role that serves it (API servers, or workers for NodePorts). */
export function targetsOf(infra: InfraModel, lb: LoadBalancerModel | undefined, fallback: NodeGroupModel['role']): NodeGroupModel[] {
  const tgs = new Set(lb?.targetGroups.map((t) => t.address) ?? []);
  const registered = infra.nodeGroups.filter((g) => g.targetGroups.some((t) => tgs.has(t)));
  return registered.length > 0 ? registered : infra.nodeGroups.filter((g) => g.role === fallback);
}

/**
 * Whether clients still reach a healthy target through `lb` after losing `az`, and how long the
 * dead targets take to leave the pool. `serving`: the targets can answer at all (API: etcd quorum).
 */
export function loadBalancerOutcome(infra: InfraModel, lb: LoadBalancerModel | undefined, fallback: NodeGroupModel['role'], az: string, serving: boolean): LoadBalancerOutcome {
  const targets = targetsOf(infra, lb, fallback);
  const azsLeft = (lb?.azs ?? []).filter((z) => z !== az);
  const surviving = targets.flatMap((g) => {
    const left = g.desired - nodesLost(g, az, g.desired);
    return left > 0 ? g.azs.filter((z) => z !== az).map((z) => [z, left] as const) : [];
  });
  const reachableTargets = lb?.crossZone ? surviving : surviving.filter(([z]) => azsLeft.includes(z));
  const targetsLeft = targets.reduce((s, g) => s + g.desired - nodesLost(g, az, g.desired), 0);
  const reachable = lb !== undefined && azsLeft.length > 0 && reachableTargets.length > 0 && serving;
  const hc = lb?.targetGroups[0]?.healthCheck;
  const touched = (lb?.azs.includes(az) ?? false) || targets.some((g) => g.azs.includes(az));
  const detect = hc ? hc.intervalSeconds * hc.unhealthyThreshold : 0;
  return { reachable, loadBalancer: lb?.name, loadBalancerAzsLeft: azsLeft, targetsLeft, rtoSeconds: reachable ? (touched ? detect : 0) : null };
}

/** Control plane and the load balancers in front of it (and of the app): quorum layout, NLB subnets. */
export function controlPlaneFindings(infra: InfraModel, findings: Findings): void {
  const azCount = infra.azs.length;
  const controlPlane = infra.nodeGroups.filter((g) => g.role === 'control-plane');
  const members = controlPlane.reduce((s, g) => s + g.desired, 0);
  if (members === 0) {
    findings.add('control-plane.missing', 'control plane', 'no control-plane ASG found (ASG names containing "control-plane")');
  } else {
    const perAz = new Map<string, number>();
    for (const g of controlPlane) for (const az of g.azs) perAz.set(az, (perAz.get(az) ?? 0) + nodesLost(g, az, g.desired));
    const killers = [...perAz].filter(([az]) => !etcdOutcome(controlPlane, az).quorum).map(([az]) => az);
    if (killers.length > 0) {
      const layout = [...perAz].sort().map(([az, n]) => `${az}: ${n}`).join(', ');
      findings.add('control-plane.az-spread', 'control plane', `${members} control-plane node(s) in ${perAz.size} AZ(s) (${layout}): losing ${killers.join(' or ')} loses etcd quorum`, { scenarios: killers.map((az) => `az-loss:${az}`) });
    }
    if (members % 2 === 0) findings.add('control-plane.even-members', 'control plane', `${members} etcd members: an even count tolerates no more failures than ${members - 1}`);
  }
  const lb = loadBalancerOf(infra, 'api');
  if (!lb) {
    findings.add('api.no-load-balancer', 'API endpoint', 'no network load balancer listening on 6443 found');
  }
  for (const nlb of infra.loadBalancers) {
    if (nlb.azs.length < 2) {
      // Scope: a load balancer that is neither the API nor the app's ingress does not decide the objectives.
      const unrelated = nlb.role === 'other';
      findings.add('nlb.single-az', nlb.name, `${nlb.type} load balancer in ${nlb.azs.length === 1 ? `one subnet (${nlb.azs[0]})` : 'no known subnet'}: losing that AZ takes the endpoint away${unrelated ? ' (neither the API nor the app ingress: the objectives do not depend on it)' : ''}`, {
        scenarios: nlb.azs.map((az) => `az-loss:${az}`),
        ...(unrelated ? { severity: 'warning' as const } : {}),
      });
    } else if (nlb.azs.length < azCount) {
      findings.add('nlb.missing-azs', nlb.name, `load balancer in ${nlb.azs.length} of ${azCount} AZs (${nlb.azs.join(', ')})`);
    }
    if (nlb.role !== 'other' && !nlb.crossZone) {
      findings.add('nlb.cross-zone-off', nlb.name, `cross-zone load balancing is off: each NLB node only sends to ${nlb.role === 'api' ? 'API servers' : 'ingress targets'} in its own AZ`);
    }
  }
}
