import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import type { Construct } from 'constructs';

/** Either a network or another security group. */
export type RulePeer = { readonly cidr: string } | { readonly securityGroupId: string };

export interface RuleProps {
  /** First port; `toPort` defaults to it. */
  readonly port: number;
  readonly toPort?: number;
  /** @default 'tcp' */
  readonly protocol?: 'tcp' | 'udp';
  readonly description: string;
}

function peer(p: RulePeer) {
  return 'cidr' in p ? { cidrIpv4: p.cidr } : { referencedSecurityGroupId: p.securityGroupId };
}

function portRange(props: RuleProps) {
  return { ipProtocol: props.protocol ?? 'tcp', fromPort: props.port, toPort: props.toPort ?? props.port, description: props.description };
}

/** One ingress rule as its own resource: rules stay readable in the synthesized JSON and change one at a time. */
export function allowIngress(scope: Construct, id: string, securityGroupId: string, props: RuleProps & { readonly source: RulePeer }): void {
  new VpcSecurityGroupIngressRule(scope, id, { securityGroupId, ...portRange(props), ...peer(props.source) });
}

export function allowEgress(scope: Construct, id: string, securityGroupId: string, props: RuleProps & { readonly destination: RulePeer }): void {
  new VpcSecurityGroupEgressRule(scope, id, { securityGroupId, ...portRange(props), ...peer(props.destination) });
}

/** ICMP messages of one type (and one code, or all of them). */
export interface IcmpRuleProps {
  /** ICMP type, e.g. 8 (echo request) or 3 (destination unreachable). */
  readonly type: number;
  /** ICMP code. @default -1 (every code of the type) */
  readonly code?: number;
  readonly description: string;
}

/** An ICMP ingress rule: security groups put the ICMP type in from_port and the code in to_port. */
export function allowIcmpIngress(scope: Construct, id: string, securityGroupId: string, props: IcmpRuleProps & { readonly source: RulePeer }): void {
  new VpcSecurityGroupIngressRule(scope, id, { securityGroupId, ipProtocol: 'icmp', fromPort: props.type, toPort: props.code ?? -1, description: props.description, ...peer(props.source) });
}

/** Nodes reach package mirrors, AWS APIs and registries through NAT; nothing is inbound from there. */
export function allowAllEgress(scope: Construct, id: string, securityGroupId: string): void {
  new VpcSecurityGroupEgressRule(scope, id, { securityGroupId, ipProtocol: '-1', cidrIpv4: '0.0.0.0/0', description: 'All outbound' });
}
