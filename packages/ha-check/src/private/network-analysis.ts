import type { Findings } from '../findings';
import type { InfraModel, NodeGroupModel } from '../model';
import type { AzTopology, EgressOutcome } from '../report-types';
import { loadBalancerOf, nodesLost } from './control-plane-analysis';

export function egressOutcome(infra: InfraModel, az: string): EgressOutcome[] {
  const nats = new Map(infra.natGateways.map((n) => [n.address, n]));
  return infra.subnets
    .filter((s) => !s.public && s.az !== az)
    .map((s) => {
      const r = s.defaultRoute;
      if (r.kind === 'nat') {
        const nat = nats.get(r.natGateway);
        return { subnet: s.name, az: s.az, via: nat?.name ?? r.natGateway, ok: nat !== undefined && nat.az !== az };
      }
      if (r.kind === 'other') return { subnet: s.name, az: s.az, via: `other:${r.target}`, ok: true };
      return { subnet: s.name, az: s.az, via: r.kind, ok: r.kind === 'internet-gateway' };
    });
}

/** Egress layout: NAT gateways serving other AZs, private subnets without a default route. */
export function egressFindings(infra: InfraModel, findings: Findings): void {
  const subnetsByNat = new Map<string, string[]>();
  for (const s of infra.subnets) {
    if (s.public || s.defaultRoute.kind !== 'nat') continue;
    const nat = infra.natGateways.find((n) => n.address === (s.defaultRoute as { natGateway: string }).natGateway);
    if (nat && nat.az !== s.az) subnetsByNat.set(nat.address, [...(subnetsByNat.get(nat.address) ?? []), `${s.name} (${s.az})`]);
  }
  for (const [address, subnets] of subnetsByNat) {
    const nat = infra.natGateways.find((n) => n.address === address)!;
    findings.add('nat.cross-az', nat.name, `NAT gateway in ${nat.az} also serves private subnets in other AZs: ${subnets.join(', ')}; losing ${nat.az} cuts their egress`, { scenarios: [`az-loss:${nat.az}`] });
  }
  for (const s of infra.subnets.filter((x) => !x.public && x.defaultRoute.kind === 'none')) {
    findings.add('egress.no-default-route', s.name, `private subnet in ${s.az} has no default route: nodes there cannot pull images${s.s3Endpoint ? ' (S3 is reachable through the gateway endpoint)' : ''}`);
  }
}

export function topology(infra: InfraModel): AzTopology[] {
  const lb = loadBalancerOf(infra, 'api');
  const ingress = loadBalancerOf(infra, 'ingress');
  const natAz = new Map(infra.natGateways.map((n) => [n.address, n.az]));
  const nodesIn = (role: NodeGroupModel['role'], az: string): number => infra.nodeGroups.filter((g) => g.role === role).reduce((s, g) => s + nodesLost(g, az, g.desired), 0);
  return infra.azs.map((az) => ({
    az,
    controlPlaneNodes: nodesIn('control-plane', az),
    workerNodes: nodesIn('worker', az),
    natGateways: infra.natGateways.filter((n) => n.az === az).map((n) => n.name),
    apiLoadBalancer: lb?.azs.includes(az) ?? false,
    ingressLoadBalancer: ingress?.azs.includes(az) ?? false,
    egressViaAzs: [
      ...new Set(
        infra.subnets
          .filter((s) => s.az === az && !s.public && s.defaultRoute.kind === 'nat')
          .map((s) => natAz.get((s.defaultRoute as { natGateway: string }).natGateway) ?? 'unknown'),
      ),
    ].sort(),
  }));
}
