import { CNI, ETCD_METRICS_PORT, formatCidr, INGRESS_NODE_PORTS, KUBERNETES_PORTS, NODE_EXPORTER_PORT, parseCidr } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { SecurityGroupModel, type Endpoint } from './security-group-model';
import { platform, synthCluster, type Attributes } from './support';

describe('NodeSecurityGroups', () => {
  const production = synthCluster(platform(), 'production');
  const groupRef = (name: string) => {
    const [[id]] = production.resources('aws_security_group').filter(([, g]) => g.name === name);
    return `\${aws_security_group.${id}.id}`;
  };
  const cp = groupRef('production-control-plane');
  const worker = groupRef('production-worker');
  const lb = groupRef('production-api-lb');
  const internalLb = groupRef('production-api-int-lb');
  const ingress = production.values('aws_vpc_security_group_ingress_rule');
  const into = (group: string, port: number) => ingress.filter((r) => r.security_group_id === group && r.from_port <= port && port <= r.to_port);
  const sources = (rules: Attributes[]) => rules.map((r) => r.cidr_ipv4 ?? r.referenced_security_group_id).sort();

  const ingressLb = groupRef('production-ingress-lb');

  it('opens nothing to 0.0.0.0/0 inbound but HTTP and HTTPS on the ingress load balancer', () => {
    const open = ingress.filter((r) => r.cidr_ipv4 === '0.0.0.0/0' || r.cidr_ipv6 === '::/0');
    expect(open.map((r) => [r.security_group_id, r.ip_protocol, r.from_port, r.to_port])).toEqual([
      [ingressLb, 'tcp', 80, 80],
      [ingressLb, 'tcp', 443, 443],
    ]);
    expect(ingress.filter((r) => r.security_group_id === ingressLb)).toHaveLength(2);
  });

  it('lets the API port in from the load balancers (public and internal) and the VPC only', () => {
    expect(sources(into(cp, KUBERNETES_PORTS.apiServer))).toEqual(['10.20.0.0/16', lb, internalLb].sort());
  });

  it('keeps etcd between control-plane nodes', () => {
    for (const port of [KUBERNETES_PORTS.etcdClient, KUBERNETES_PORTS.etcdPeer]) expect(sources(into(cp, port))).toEqual([cp]);
    expect(into(worker, KUBERNETES_PORTS.etcdClient)).toEqual([]);
  });

  it('lets kubelets be reached from the nodes only (API server on the control plane, metrics-server and Prometheus on workers)', () => {
    expect(sources(into(cp, KUBERNETES_PORTS.kubelet))).toEqual([cp, worker].sort());
    expect(sources(into(worker, KUBERNETES_PORTS.kubelet))).toEqual([cp, worker].sort());
  });

  it('lets Prometheus on the workers reach every node-exporter, and nothing else reach it', () => {
    expect(NODE_EXPORTER_PORT).toBe(9100);
    expect(sources(into(cp, NODE_EXPORTER_PORT))).toEqual([worker]);
    expect(sources(into(worker, NODE_EXPORTER_PORT))).toEqual([worker]);
  });

  it('opens etcd’s metrics port (the one kube-prometheus-stack scrapes) on the control plane to the workers, where Prometheus runs, not its client port', () => {
    expect(ETCD_METRICS_PORT).toBe(2381);
    expect(sources(into(cp, ETCD_METRICS_PORT))).toEqual([worker]);
    expect(into(cp, ETCD_METRICS_PORT).every((r) => r.from_port === ETCD_METRICS_PORT && r.to_port === ETCD_METRICS_PORT)).toBe(true);
    expect(into(worker, ETCD_METRICS_PORT)).toEqual([]);
  });

  it('opens the ingress NodePorts on workers to the ingress load balancer only, other NodePorts to the VPC only', () => {
    for (const port of [INGRESS_NODE_PORTS.http, INGRESS_NODE_PORTS.https]) {
      expect(sources(into(worker, port))).toEqual([ingressLb]);
      expect(into(cp, port)).toEqual([]);
    }
    const { from, to } = KUBERNETES_PORTS.nodePortRange;
    for (const port of [from, INGRESS_NODE_PORTS.http - 1, INGRESS_NODE_PORTS.http + 1, INGRESS_NODE_PORTS.healthCheck, INGRESS_NODE_PORTS.https + 1, to]) {
      expect(sources(into(worker, port))).toEqual(['10.20.0.0/16']);
    }
    expect(into(cp, from)).toEqual([]);
  });

  it('opens the CNI ports between every pair of nodes', () => {
    for (const port of CNI.nodePorts) {
      for (const group of [cp, worker]) {
        const rules = into(group, port.port).filter((r) => r.ip_protocol === port.protocol);
        expect(sources(rules)).toEqual([cp, worker].sort());
      }
    }
  });

  describe('evaluated as EC2 does (stateful, group-reference sources, ICMP type and code)', () => {
    const model = new SecurityGroupModel(production);
    const subnets = production.values('aws_subnet');
    // The n-th address of the private (or public) subnet of `zone`, as a node there would have.
    const address = (zone: string, kind: 'private' | 'public', n: number) => {
      const role = kind === 'public' ? 'kubernetes.io/role/elb' : 'kubernetes.io/role/internal-elb';
      const subnet = subnets.find((x) => x.availability_zone === zone && x.tags[role] === '1');
      const parsed = subnet ? parseCidr(subnet.cidr_block) : undefined;
      if (!parsed) throw new Error(`no ${kind} subnet in ${zone}`);
      return formatCidr({ network: parsed.network + n, prefix: 32 }).replace('/32', '');
    };
    const [a, b, c] = platform().cluster('production').availabilityZones;
    const node = (name: string, zone: string, group: string, n: number): Endpoint => ({ name, ip: address(zone, 'private', n), groups: [group] });
    const cpA = node('control-plane-a', a, cp, 10);
    const cpB = node('control-plane-b', b, cp, 10);
    const workerA = node('worker-a', a, worker, 20);
    const workerC = node('worker-c', c, worker, 20);
    const nodes = [cpA, cpB, workerA, workerC];
    // A NAT gateway lives in a public subnet and has no security group; an API load balancer node has the load balancer's.
    const natGateway: Endpoint = { name: 'nat-gateway-b', ip: address(b, 'public', 5), groups: [] };
    const apiLoadBalancerNode: Endpoint = { name: 'api-lb-node-a', ip: address(a, 'private', 200), groups: [lb] };
    const internet: Endpoint = { name: 'internet router', ip: '52.95.110.1', groups: [] };

    it('lets Cilium’s health prober ping every other node, across AZs and roles, and get the reply', () => {
      for (const from of nodes) {
        for (const to of nodes.filter((n) => n !== from)) {
          expect({ from: from.name, to: to.name, ...model.ping(from, to) }).toEqual({ from: from.name, to: to.name, request: true, reply: true });
          expect(model.admits(from, to, { protocol: 'tcp', port: 4240 })).toBe(true);
        }
      }
    });

    it('admits no echo reply that answers no request, and no ping from outside the nodes', () => {
      expect(model.admits(workerA, workerC, { protocol: 'icmp', type: 0, code: 0 })).toBe(false);
      expect(model.ping(natGateway, workerA).request).toBe(false);
      expect(model.ping(internet, cpA).request).toBe(false);
    });

    // The NAT gateway (no security group of its own) is where 9001-byte frames meet the
    // internet's 1500: it answers an oversized packet with "fragmentation needed".
    it('admits "fragmentation needed" (type 3 code 4) from the NAT gateways, and no other unreachable code or source', () => {
      const fragmentationNeeded = { protocol: 'icmp', type: 3, code: 4 } as const;
      for (const to of nodes) {
        expect(model.admits(natGateway, to, fragmentationNeeded)).toBe(true);
        expect(model.admits(internet, to, fragmentationNeeded)).toBe(false);
        expect(model.admits(natGateway, to, { protocol: 'icmp', type: 3, code: 1 })).toBe(false);
      }
    });

    it('lets a worker (Prometheus) scrape etcd’s metrics, and drops them for every other source', () => {
      const metrics = { protocol: 'tcp', port: ETCD_METRICS_PORT } as const;
      expect(model.admits(workerC, cpA, metrics)).toBe(true);
      expect(model.admits(cpB, cpA, metrics)).toBe(false);
      expect(model.admits(natGateway, cpA, metrics)).toBe(false);
      expect(model.admits(apiLoadBalancerNode, cpA, metrics)).toBe(false);
      expect(model.admits(internet, cpA, metrics)).toBe(false);
      // And the client port stays between control-plane nodes.
      expect(model.admits(workerC, cpA, { protocol: 'tcp', port: KUBERNETES_PORTS.etcdClient })).toBe(false);
      expect(model.admits(cpB, cpA, { protocol: 'tcp', port: KUBERNETES_PORTS.etcdClient })).toBe(true);
    });
  });

  it('tags exactly one group per node role for the cloud controller', () => {
    const tagged = production.values('aws_security_group').filter((g) => g.tags['kubernetes.io/cluster/production'] === 'owned');
    expect(tagged.map((g) => g.name).sort()).toEqual(['production-control-plane', 'production-worker']);
  });
});
