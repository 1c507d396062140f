import { INGRESS_NODE_PORTS, KUBERNETES_PORTS } from '@platform/platform-config';
import { Construct } from 'constructs';
import { forwardTcp, networkLoadBalancer, validateSubnets, validateTargetHealthCheck } from '../private/network-load-balancer';
import { invalidProp } from '../private/validation';
import { allowEgress, allowIngress } from '../security/rules';
import { IngressHealthCheck } from './ingress-health-check';

/** A dead zone's workers must stop getting new connections within this many seconds. */
export const MAX_INGRESS_DETECTION_SECONDS = 20;

/** The public ports and the NodePorts they forward to. */
const LISTENERS = [
  { name: 'http', port: 80 },
  { name: 'https', port: 443 },
] as const;

export type IngressListenerName = (typeof LISTENERS)[number]['name'];

export interface IngressListener {
  readonly name: IngressListenerName;
  /** Port clients connect to. */
  readonly port: number;
  /** NodePort of the ingress controller's Service on every worker. */
  readonly nodePort: number;
  readonly targetGroupArn: string;
}

export interface IngressLoadBalancerProps {
  readonly loadBalancerName: string;
  readonly targetGroupNames: { readonly [L in IngressListenerName]: string };
  readonly vpcId: string;
  readonly vpcCidr: string;
  /** One public subnet per AZ. */
  readonly subnetIds: readonly string[];
  /** @default INGRESS_NODE_PORTS (platform-config), what the ingress controller's Service pins */
  readonly nodePorts?: { readonly [L in IngressListenerName]: number };
  /** @default IngressHealthCheck.fast() */
  readonly healthCheck?: IngressHealthCheck;
  /** Seconds a worker leaving its ASG keeps its open connections. @default 30 */
  readonly deregistrationDelaySeconds?: number;
  /**
   * Prepend a PROXY protocol v2 header so the ingress controller sees client addresses; the
   * controller must then be told to expect it on both entrypoints. @default false
   */
  readonly proxyProtocolV2?: boolean;
}

/**
 * Internet-facing NLB in every AZ in front of the ingress controller: TCP 80 and 443 to fixed
 * NodePorts on the workers (target type instance; attach `targetGroupArns` to the worker ASGs),
 * cross-zone so every healthy worker gets traffic from every zone. Its own security group is
 * the only thing open to 0.0.0.0/0, and only on 80 and 443; workers admit the NodePorts from
 * that group alone (NodeSecurityGroups).
 */
export class IngressLoadBalancer extends Construct {
  readonly listeners: readonly IngressListener[];
  readonly targetGroupArns: readonly string[];
  /** Every port the load balancer reaches on a worker: the NodePorts and the health-check port. */
  readonly nodePorts: readonly number[];
  readonly securityGroupId: string;
  readonly loadBalancerDnsName: string;
  /** Route 53 zone of the load balancer's DNS name, for alias records. */
  readonly loadBalancerZoneId: string;
  readonly loadBalancerArnSuffix: string;
  readonly healthCheck: IngressHealthCheck;

  constructor(scope: Construct, id: string, props: IngressLoadBalancerProps) {
    super(scope, id);
    const healthCheck = props.healthCheck ?? IngressHealthCheck.fast();
    const nodePorts = props.nodePorts ?? INGRESS_NODE_PORTS;
    const deregistrationDelaySeconds = props.deregistrationDelaySeconds ?? 30;
    validate(props, nodePorts, healthCheck, deregistrationDelaySeconds);
    this.healthCheck = healthCheck;

    const { loadBalancer, securityGroup } = networkLoadBalancer(this, {
      name: props.loadBalancerName,
      description: 'Ingress load balancer (HTTP, HTTPS)',
      vpcId: props.vpcId,
      subnetIds: props.subnetIds,
      internal: false,
    });

    this.listeners = LISTENERS.map(({ name, port }) => {
      const nodePort = nodePorts[name];
      allowIngress(this, `${name}-from-internet`, securityGroup.id, { port, source: { cidr: '0.0.0.0/0' }, description: `${name.toUpperCase()} from anywhere` });
      allowEgress(this, `${name}-to-nodes`, securityGroup.id, { port: nodePort, destination: { cidr: props.vpcCidr }, description: `${name.toUpperCase()} to the ingress NodePort on workers` });
      const targetGroup = forwardTcp(this, {
        ids: { targetGroup: `target-group-${name}`, listener: `listener-${name}` },
        loadBalancerArn: loadBalancer.arn,
        vpcId: props.vpcId,
        targetGroupName: props.targetGroupNames[name],
        listenerPort: port,
        targetPort: nodePort,
        healthCheck,
        deregistrationDelaySeconds,
        // The NodePort hop SNATs anyway (externalTrafficPolicy Cluster); off also spares a node
        // that reaches the public name through NAT the NLB hairpin problem.
        preserveClientIp: false,
        proxyProtocolV2: props.proxyProtocolV2 || undefined,
      });
      return { name, port, nodePort, targetGroupArn: targetGroup.arn };
    });
    const trafficPorts = this.listeners.map((l) => l.nodePort);
    if (!trafficPorts.includes(healthCheck.port)) {
      allowEgress(this, 'health-check-to-nodes', securityGroup.id, { port: healthCheck.port, destination: { cidr: props.vpcCidr }, description: 'Health checks to workers' });
    }

    this.nodePorts = [...new Set([...trafficPorts, healthCheck.port])];
    this.targetGroupArns = this.listeners.map((l) => l.targetGroupArn);
    this.securityGroupId = securityGroup.id;
    this.loadBalancerDnsName = loadBalancer.dnsName;
    this.loadBalancerZoneId = loadBalancer.zoneId;
    this.loadBalancerArnSuffix = loadBalancer.arnSuffix;
  }
}

function validate(props: IngressLoadBalancerProps, nodePorts: IngressLoadBalancerProps['nodePorts'] & object, check: IngressHealthCheck, deregistrationDelaySeconds: number): void {
  const construct = 'IngressLoadBalancer';
  validateSubnets(construct, props.subnetIds);
  const range = KUBERNETES_PORTS.nodePortRange;
  const inRange = `a NodePort from ${range.from} to ${range.to}`;
  for (const { name } of LISTENERS) {
    const port = nodePorts[name];
    if (!Number.isInteger(port) || port < range.from || port > range.to) throw invalidProp(construct, `nodePorts.${name}`, port, inRange);
  }
  if (nodePorts.http === nodePorts.https) throw invalidProp(construct, 'nodePorts', nodePorts, 'different NodePorts for http and https');
  if (!Number.isInteger(check.port) || check.port < range.from || check.port > range.to) throw invalidProp(construct, 'healthCheck.port', check.port, inRange);
  validateTargetHealthCheck(construct, check, { maxDetectionSeconds: MAX_INGRESS_DETECTION_SECONDS, why: "a dead zone's workers leave the pool in time" });
  if (!Number.isInteger(deregistrationDelaySeconds) || deregistrationDelaySeconds < 0 || deregistrationDelaySeconds > 3600) {
    throw invalidProp(construct, 'deregistrationDelaySeconds', deregistrationDelaySeconds, '0 to 3600 seconds (NLB limits)');
  }
}
