import { cidrContains, parseCidr } from '@platform/platform-config';
import type { Attributes, Synth } from './support';

/**
 * What EC2 does with a packet, from the synthesized security group rules: a packet enters an
 * ENI when one ingress rule of one of its groups matches protocol, port (or ICMP type and code)
 * and source, and leaves the sender when one of its egress rules matches. Sources are a CIDR
 * (matched on the sender's private address) or a referenced group (matched when the sender's
 * ENI is in that group). Groups are stateful: the answer to an admitted packet (an echo reply,
 * a TCP SYN-ACK) passes without any rule, and nothing else does.
 */

export interface Endpoint {
  readonly name: string;
  /** Private IPv4 address of the ENI. */
  readonly ip: string;
  /** Terraform references (`${aws_security_group.x.id}`) of its groups; none for an address outside the VPC's groups. */
  readonly groups: readonly string[];
}

export type Packet =
  | { readonly protocol: 'tcp' | 'udp'; readonly port: number }
  | { readonly protocol: 'icmp'; readonly type: number; readonly code: number };

function protocolMatches(rule: Attributes, packet: Packet): boolean {
  if (rule.ip_protocol === '-1') return true;
  if (rule.ip_protocol !== packet.protocol) return false;
  if (packet.protocol === 'icmp') {
    // ICMP rules carry the type in from_port and the code in to_port; -1 is any.
    return (rule.from_port === -1 || rule.from_port === packet.type) && (rule.to_port === -1 || rule.to_port === packet.code);
  }
  return rule.from_port <= packet.port && packet.port <= rule.to_port;
}

function peerMatches(rule: Attributes, peer: Endpoint): boolean {
  if (rule.referenced_security_group_id !== undefined) return peer.groups.includes(rule.referenced_security_group_id);
  const cidr = parseCidr(rule.cidr_ipv4);
  const host = parseCidr(`${peer.ip}/32`);
  return cidr !== undefined && host !== undefined && cidrContains(cidr, host);
}

export class SecurityGroupModel {
  private readonly ingress: Attributes[];
  private readonly egress: Attributes[];

  constructor(synth: Synth) {
    this.ingress = synth.values('aws_vpc_security_group_ingress_rule');
    this.egress = synth.values('aws_vpc_security_group_egress_rule');
  }

  /** True when `packet` from `from` reaches `to` as a new flow (egress of the sender, ingress of the receiver). */
  admits(from: Endpoint, to: Endpoint, packet: Packet): boolean {
    // An address in no group (outside the VPC's ENIs) has no egress rules of ours to pass.
    const leaves = from.groups.length === 0 || this.egress.some((r) => from.groups.includes(r.security_group_id) && protocolMatches(r, packet) && peerMatches(r, to));
    const enters = this.ingress.some((r) => to.groups.includes(r.security_group_id) && protocolMatches(r, packet) && peerMatches(r, from));
    return leaves && enters;
  }

  /**
   * An ICMP echo (ping) as Cilium's health prober sends it: the request must be admitted; the
   * reply then passes as tracked traffic. A reply without its request would be dropped.
   */
  ping(from: Endpoint, to: Endpoint): { request: boolean; reply: boolean } {
    const request = this.admits(from, to, { protocol: 'icmp', type: 8, code: 0 });
    return { request, reply: request };
  }
}
