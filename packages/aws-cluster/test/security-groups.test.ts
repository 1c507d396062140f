import { CNI, ETCD_METRICS_PORT, INGRESS_NODE_PORTS, KUBERNETES_PORTS, NODE_EXPORTER_PORT } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
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

  it('opens etcd’s metrics port (the one kube-prometheus-stack scrapes) on the control plane to the nodes, not its client port', () => {
    expect(ETCD_METRICS_PORT).toBe(2381);
    expect(sources(into(cp, ETCD_METRICS_PORT))).toEqual([cp, worker].sort());
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

  it('tags exactly one group per node role for the cloud controller', () => {
    const tagged = production.values('aws_security_group').filter((g) => g.tags['kubernetes.io/cluster/production'] === 'owned');
    expect(tagged.map((g) => g.name).sort()).toEqual(['production-control-plane', 'production-worker']);
  });
});
