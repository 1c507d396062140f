import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { CNI, ETCD_METRICS_PORT, KUBERNETES_PORTS, NODE_EXPORTER_PORT } from '@platform/platform-config';
import { Construct } from 'constructs';
import { portRangesWithout } from '../private/port-ranges';
import { allowAllEgress, allowIcmpIngress, allowIngress } from './rules';

/** ICMP types and codes the nodes admit (RFC 792). */
export const ICMP = { echoRequest: 8, destinationUnreachable: 3, fragmentationNeeded: 4 } as const;

/** A port the CNI needs between every pair of nodes. */
export interface CniPort {
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
  readonly purpose: string;
}

export interface NodeSecurityGroupsProps {
  readonly namePrefix: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  /** Tag the cloud controller uses to pick the one group per node it may edit for Services. */
  readonly clusterTagKey: string;
  /** The API load balancer's group: the only non-VPC way to 6443. */
  readonly apiLoadBalancerSecurityGroupId: string;
  /** @default CNI.nodePorts (platform-config) */
  readonly cniPorts?: readonly CniPort[];
  /**
   * The ingress load balancer's group and the NodePorts it reaches: those ports admit that
   * group only and are left out of the VPC-wide NodePort rule. @default - no ingress load balancer
   */
  readonly ingressLoadBalancer?: { readonly securityGroupId: string; readonly nodePorts: readonly number[] };
}

/**
 * Control-plane and worker security groups. Only the API port and the ingress NodePorts are
 * reachable from outside the nodes, each through its NLB; etcd is between control-plane nodes
 * only (its plain-HTTP metrics port from the workers, where Prometheus runs); kubelets and
 * node-exporter only from the nodes; other NodePorts only from the VPC; ICMP echo between
 * nodes and "fragmentation needed" from the VPC. Nothing is open to 0.0.0.0/0 inbound.
 */
export class NodeSecurityGroups extends Construct {
  readonly controlPlaneSecurityGroupId: string;
  readonly workerSecurityGroupId: string;

  constructor(scope: Construct, id: string, props: NodeSecurityGroupsProps) {
    super(scope, id);
    const ports = KUBERNETES_PORTS;
    const group = (role: string) =>
      new SecurityGroup(this, role, {
        name: `${props.namePrefix}-${role}`,
        description: `Kubernetes ${role} nodes`,
        vpcId: props.vpcId,
        tags: { Name: `${props.namePrefix}-${role}`, [props.clusterTagKey]: 'owned' },
      });
    const controlPlane = group('control-plane');
    const worker = group('worker');
    const cp = { securityGroupId: controlPlane.id };
    const wk = { securityGroupId: worker.id };

    allowIngress(this, 'cp-api-from-lb', controlPlane.id, { port: ports.apiServer, source: { securityGroupId: props.apiLoadBalancerSecurityGroupId }, description: 'API from the load balancer (traffic and health checks)' });
    allowIngress(this, 'cp-api-from-vpc', controlPlane.id, { port: ports.apiServer, source: { cidr: props.vpcCidr }, description: 'API from nodes in the VPC' });
    allowIngress(this, 'cp-etcd-from-cp', controlPlane.id, { port: ports.etcdClient, toPort: ports.etcdPeer, source: cp, description: 'etcd client and peer between control-plane nodes' });
    allowIngress(this, 'cp-kubelet-from-cp', controlPlane.id, { port: ports.kubelet, source: cp, description: 'kubelet from the control plane' });
    allowIngress(this, 'worker-kubelet-from-cp', worker.id, { port: ports.kubelet, source: cp, description: 'kubelet from the control plane' });
    // metrics-server and Prometheus run on workers and scrape every node's kubelet and
    // node-exporter, and etcd's metrics on the control plane. Cilium (VXLAN) masquerades
    // pod-to-remote-node traffic to the pod's node IP, so the worker group is the source.
    allowIngress(this, 'cp-kubelet-from-worker', controlPlane.id, { port: ports.kubelet, source: wk, description: 'kubelet from metrics-server and Prometheus on workers' });
    allowIngress(this, 'worker-kubelet-from-worker', worker.id, { port: ports.kubelet, source: wk, description: 'kubelet from metrics-server and Prometheus on workers' });
    allowIngress(this, 'cp-node-exporter-from-worker', controlPlane.id, { port: NODE_EXPORTER_PORT, source: wk, description: 'node-exporter from Prometheus on workers' });
    allowIngress(this, 'worker-node-exporter-from-worker', worker.id, { port: NODE_EXPORTER_PORT, source: wk, description: 'node-exporter from Prometheus on workers' });
    // etcd listens for metrics on 0.0.0.0: kubeadm copies the ClusterConfiguration's etcd
    // extraArgs to every member, so a node address there would be the first node's on all of
    // them. This rule is the restriction: Prometheus runs on workers only (it does not tolerate
    // the control-plane taint), so nothing else (no control-plane peer, no VPC range) reaches it.
    allowIngress(this, 'cp-etcd-metrics-from-worker', controlPlane.id, { port: ETCD_METRICS_PORT, source: wk, description: 'etcd metrics (plain HTTP, read-only) from Prometheus on workers' });
    // The first range keeps the id the whole range had before ingress NodePorts were carved out.
    const ingress = props.ingressLoadBalancer;
    portRangesWithout(ports.nodePortRange, ingress?.nodePorts ?? []).forEach((range, i) => {
      allowIngress(this, `worker-nodeports-from-vpc${i === 0 ? '' : `-${i + 1}`}`, worker.id, { port: range.from, toPort: range.to, source: { cidr: props.vpcCidr }, description: 'NodePort services from the VPC' });
    });
    if (ingress) {
      for (const port of ingress.nodePorts) {
        allowIngress(this, `worker-nodeport-${port}-from-ingress-lb`, worker.id, { port, source: { securityGroupId: ingress.securityGroupId }, description: 'Ingress NodePort from the ingress load balancer' });
      }
    }

    // The overlay between every pair of nodes, in both directions.
    const members = [['cp', controlPlane.id, cp], ['worker', worker.id, wk]] as const;
    for (const port of props.cniPorts ?? CNI.nodePorts) {
      for (const [to, target] of members) {
        for (const [from, , source] of members) {
          allowIngress(this, `${to}-${port.protocol}-${port.port}-from-${from}`, target, { port: port.port, protocol: port.protocol, source, description: `CNI: ${port.purpose}` });
        }
      }
    }
    // Cilium's health checks ping every node (and its health endpoint, through the tunnel);
    // without echo requests between nodes every peer shows unreachable. Replies pass as the
    // tracked answer to an admitted request.
    for (const [to, target] of members) {
      for (const [from, , source] of members) {
        allowIcmpIngress(this, `${to}-icmp-echo-from-${from}`, target, { type: ICMP.echoRequest, source, description: 'ICMP echo request between nodes (Cilium health checks)' });
      }
      // Path MTU discovery: nodes use 9001-byte frames, while NAT gateways, load balancer nodes
      // and peered paths carry less; they answer an oversized packet with "fragmentation needed"
      // from their private addresses. Dropping it black-holes large TCP segments.
      allowIcmpIngress(this, `${to}-icmp-fragmentation-needed-from-vpc`, target, { type: ICMP.destinationUnreachable, code: ICMP.fragmentationNeeded, source: { cidr: props.vpcCidr }, description: 'ICMP fragmentation needed (path MTU discovery) from the VPC' });
    }
    allowAllEgress(this, 'cp-egress', controlPlane.id);
    allowAllEgress(this, 'worker-egress', worker.id);

    this.controlPlaneSecurityGroupId = controlPlane.id;
    this.workerSecurityGroupId = worker.id;
  }
}
