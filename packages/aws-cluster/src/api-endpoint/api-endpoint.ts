import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { KUBERNETES_PORTS, parseCidr } from '@platform/platform-config';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { allowIngress, allowEgress } from '../security/rules';
import { forwardTcp, networkLoadBalancer, validateSubnets, validateTargetHealthCheck } from '../private/network-load-balancer';
import { HOSTED_ZONE_ID, HOSTED_ZONE_ID_EXPECTED, invalidProp } from '../private/validation';
import { ApiHealthCheck } from './api-health-check';

/** Limits that make a dead API server leave the pool fast enough for the API RTO. */
export const MAX_API_DETECTION_SECONDS = 20;

/** A fully qualified DNS name in lowercase, written without the final dot (at most 253 characters). */
export const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface ApiEndpointProps {
  readonly loadBalancerName: string;
  readonly targetGroupName: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  /** One subnet per AZ: public ones for `internet-facing`, private ones for `internal`. */
  readonly subnetIds: readonly string[];
  /**
   * `internal`: private addresses, for clients inside the VPC (the nodes); its security group
   * admits the VPC CIDR. `internet-facing`: public addresses, for operators and CI outside; its
   * security group admits `allowedCidrs` only, since a client inside the VPC reaches public
   * addresses through a NAT gateway and arrives with the NAT's Elastic IP, never a VPC address.
   */
  readonly exposure: 'internal' | 'internet-facing';
  /** Networks allowed to reach the API besides the VPC (internal), or at all (internet-facing, at least one). @default [] */
  readonly allowedCidrs?: readonly string[];
  /** @default ApiHealthCheck.fast() */
  readonly healthCheck?: ApiHealthCheck;
  /** Seconds a deregistering node keeps open connections. @default 15 */
  readonly deregistrationDelaySeconds?: number;
  /**
   * An alias A record for the load balancer in a hosted zone, public
   * or private (`PrivateHostedZone`); `endpoint` is then the record's name. @default - the NLB's own DNS name only
   */
  readonly dnsRecord?: {
    readonly hostedZoneId: string;
    readonly name: string;
    /** Answer only while the load balancer has a healthy target (for a record with an alternative to fail over to). @default true */
    readonly evaluateTargetHealth?: boolean;
  };
}

/**
 * Network load balancer in every AZ in front of kube-apiserver (TCP 6443), cross-zone so a
 * client in any AZ reaches every healthy node, with its own security group enforcing who may
 * connect. A cluster has an internal one for in-cluster clients and, when exposed, an
 * internet-facing one for operators and CI; the control-plane nodes register in both.
 */
export class ApiEndpoint extends Construct {
  /** What clients and kubeadm use: the alias record when set, else the NLB DNS name. */
  readonly endpoint: string;
  readonly loadBalancerDnsName: string;
  readonly loadBalancerArnSuffix: string;
  readonly targetGroupArn: string;
  readonly targetGroupArnSuffix: string;
  readonly securityGroupId: string;
  readonly healthCheck: ApiHealthCheck;
  readonly exposure: ApiEndpointProps['exposure'];

  constructor(scope: Construct, id: string, props: ApiEndpointProps) {
    super(scope, id);
    const healthCheck = props.healthCheck ?? ApiHealthCheck.fast();
    validate(props, healthCheck);
    this.healthCheck = healthCheck;
    this.exposure = props.exposure;
    const port = KUBERNETES_PORTS.apiServer;

    const { loadBalancer, securityGroup } = networkLoadBalancer(this, {
      name: props.loadBalancerName,
      description: 'Kubernetes API load balancer',
      vpcId: props.vpcId,
      subnetIds: props.subnetIds,
      internal: props.exposure === 'internal',
    });
    if (props.exposure === 'internal') allowIngress(this, 'api-from-vpc', securityGroup.id, { port, source: { cidr: props.vpcCidr }, description: 'API from the VPC' });
    // Numbered from 1, as when the VPC rule came first here: the rules keep their addresses.
    (props.allowedCidrs ?? []).forEach((cidr, i) => {
      allowIngress(this, `api-from-allowed-${i + 1}`, securityGroup.id, { port, source: { cidr }, description: 'API from an allowed network' });
    });
    allowEgress(this, 'api-to-vpc', securityGroup.id, { port, destination: { cidr: props.vpcCidr }, description: 'API to control-plane nodes' });

    const targetGroup = forwardTcp(this, {
      ids: { targetGroup: 'target-group', listener: 'listener' },
      loadBalancerArn: loadBalancer.arn,
      vpcId: props.vpcId,
      targetGroupName: props.targetGroupName,
      listenerPort: port,
      targetPort: port,
      healthCheck,
      deregistrationDelaySeconds: props.deregistrationDelaySeconds ?? 15,
      // Without this, a node reaching the API through the NLB can land on itself and hang
      // (NLB hairpin); the allowed CIDRs are enforced on the NLB's security group instead.
      preserveClientIp: false,
    });

    // One token for the name, so callers can tell `endpoint` and `loadBalancerDnsName` are the same.
    const dnsName = loadBalancer.dnsName;
    let endpoint = dnsName;
    if (props.dnsRecord) {
      const record = new Route53Record(this, 'dns-record', {
        zoneId: props.dnsRecord.hostedZoneId,
        name: props.dnsRecord.name,
        type: 'A',
        alias: { name: dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: props.dnsRecord.evaluateTargetHealth ?? true },
      });
      endpoint = record.fqdn;
    }
    this.endpoint = endpoint;
    this.loadBalancerDnsName = dnsName;
    this.loadBalancerArnSuffix = loadBalancer.arnSuffix;
    this.targetGroupArn = targetGroup.arn;
    this.targetGroupArnSuffix = targetGroup.arnSuffix;
    this.securityGroupId = securityGroup.id;
  }

  /**
   * Lets this load balancer reach the API servers in `targetSecurityGroupId` (traffic and health
   * checks: client IP preservation is off, so both come from the load balancer's own addresses).
   */
  admitTo(targetSecurityGroupId: string): void {
    allowIngress(this, 'targets-from-lb', targetSecurityGroupId, { port: KUBERNETES_PORTS.apiServer, source: { securityGroupId: this.securityGroupId }, description: 'API from the load balancer (traffic and health checks)' });
  }
}

function validate(props: ApiEndpointProps, check: ApiHealthCheck): void {
  validateSubnets('ApiEndpoint', props.subnetIds);
  (props.allowedCidrs ?? []).forEach((cidr, i) => {
    const parsed = parseCidr(cidr);
    if (!parsed) throw invalidProp('ApiEndpoint', `allowedCidrs[${i}]`, cidr, 'an IPv4 CIDR block');
    if (parsed.prefix < 8) throw invalidProp('ApiEndpoint', `allowedCidrs[${i}]`, cidr, 'a range of /8 or narrower (never the whole internet on the API)');
  });
  if (props.exposure === 'internet-facing' && (props.allowedCidrs ?? []).length === 0) {
    throw invalidProp('ApiEndpoint', 'allowedCidrs', props.allowedCidrs ?? [], 'at least one network when internet-facing (clients in the VPC arrive through NAT, not from the VPC CIDR: they use the internal endpoint)');
  }
  if (props.dnsRecord) {
    // A zone made in the same stack (PrivateHostedZone) is a token until apply.
    if (!Token.isUnresolved(props.dnsRecord.hostedZoneId) && !HOSTED_ZONE_ID.test(props.dnsRecord.hostedZoneId)) throw invalidProp('ApiEndpoint', 'dnsRecord.hostedZoneId', props.dnsRecord.hostedZoneId, HOSTED_ZONE_ID_EXPECTED);
    if (!DNS_NAME.test(props.dnsRecord.name)) {
      throw invalidProp('ApiEndpoint', 'dnsRecord.name', props.dnsRecord.name, 'a fully qualified DNS name such as api.example.com: lowercase labels of at most 63 characters, at most 253 in all, no final dot');
    }
  }
  validateTargetHealthCheck('ApiEndpoint', check, { maxDetectionSeconds: MAX_API_DETECTION_SECONDS, why: 'a dead API server leaves the pool in time' });
}
