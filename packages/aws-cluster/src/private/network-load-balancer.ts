import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import type { Construct } from 'constructs';
import type { TargetHealthCheck } from '../load-balancing/target-health-check';
import { invalidProp } from './validation';

/*
 * The NLB pieces the API endpoint and the ingress load balancer share. Resources are created
 * in the caller's scope under fixed ids, so the API endpoint's Terraform addresses did not
 * change when this was factored out of it.
 */

export interface NetworkLoadBalancerProps {
  readonly name: string;
  readonly description: string;
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly internal: boolean;
}

/** Its own security group (filled by the caller's rules) and an NLB in every given subnet, cross-zone on. */
export function networkLoadBalancer(scope: Construct, props: NetworkLoadBalancerProps): { readonly loadBalancer: Lb; readonly securityGroup: SecurityGroup } {
  const securityGroup = new SecurityGroup(scope, 'security-group', {
    name: `${props.name}-lb`,
    description: props.description,
    vpcId: props.vpcId,
    tags: { Name: `${props.name}-lb` },
  });
  const loadBalancer = new Lb(scope, 'load-balancer', {
    name: props.name,
    loadBalancerType: 'network',
    internal: props.internal,
    subnets: [...props.subnetIds],
    securityGroups: [securityGroup.id],
    enableCrossZoneLoadBalancing: true,
    tags: { Name: props.name },
  });
  return { loadBalancer, securityGroup };
}

export interface TcpForwardProps {
  /** Construct ids of the target group and the listener. */
  readonly ids: { readonly targetGroup: string; readonly listener: string };
  readonly loadBalancerArn: string;
  readonly vpcId: string;
  readonly targetGroupName: string;
  readonly listenerPort: number;
  /** Port on the instances. */
  readonly targetPort: number;
  readonly healthCheck: TargetHealthCheck;
  readonly deregistrationDelaySeconds: number;
  readonly preserveClientIp: boolean;
  /** @default - not set (off) */
  readonly proxyProtocolV2?: boolean;
}

/** A TCP listener forwarding to an instance target group, with connections closed on deregistration. */
export function forwardTcp(scope: Construct, props: TcpForwardProps): LbTargetGroup {
  const check = props.healthCheck;
  const targetGroup = new LbTargetGroup(scope, props.ids.targetGroup, {
    name: props.targetGroupName,
    port: props.targetPort,
    protocol: 'TCP',
    targetType: 'instance',
    vpcId: props.vpcId,
    deregistrationDelay: String(props.deregistrationDelaySeconds),
    preserveClientIp: String(props.preserveClientIp),
    proxyProtocolV2: props.proxyProtocolV2,
    connectionTermination: true,
    healthCheck: {
      enabled: true,
      protocol: check.protocol,
      path: check.path,
      port: String(check.port),
      matcher: '200',
      interval: check.intervalSeconds,
      timeout: check.timeoutSeconds,
      healthyThreshold: check.healthyThreshold,
      unhealthyThreshold: check.unhealthyThreshold,
    },
    tags: { Name: props.targetGroupName },
  });
  new LbListener(scope, props.ids.listener, {
    loadBalancerArn: props.loadBalancerArn,
    port: props.listenerPort,
    protocol: 'TCP',
    defaultAction: [{ type: 'forward', targetGroupArn: targetGroup.arn }],
  });
  return targetGroup;
}

/** NLB limits on a health check, and how fast a dead target must leave the pool. */
export function validateTargetHealthCheck(construct: string, check: TargetHealthCheck, limit: { readonly maxDetectionSeconds: number; readonly why: string }): void {
  if (check.intervalSeconds < 5 || check.intervalSeconds > 300) throw invalidProp(construct, 'healthCheck.intervalSeconds', check.intervalSeconds, '5 to 300 seconds (NLB limits)');
  if (check.timeoutSeconds < 2 || check.timeoutSeconds >= check.intervalSeconds) {
    throw invalidProp(construct, 'healthCheck.timeoutSeconds', check.timeoutSeconds, `2 seconds or more and less than the interval (${check.intervalSeconds})`);
  }
  for (const key of ['healthyThreshold', 'unhealthyThreshold'] as const) {
    if (check[key] < 2 || check[key] > 10) throw invalidProp(construct, `healthCheck.${key}`, check[key], '2 to 10 checks (NLB limits)');
  }
  if (check.detectionSeconds > limit.maxDetectionSeconds) {
    throw invalidProp(construct, 'healthCheck', { intervalSeconds: check.intervalSeconds, unhealthyThreshold: check.unhealthyThreshold }, `intervalSeconds × unhealthyThreshold ≤ ${limit.maxDetectionSeconds} s so ${limit.why} (got ${check.detectionSeconds} s)`);
  }
}

export function validateSubnets(construct: string, subnetIds: readonly string[]): void {
  if (subnetIds.length === 0) throw invalidProp(construct, 'subnetIds', subnetIds, 'one subnet per AZ');
}
