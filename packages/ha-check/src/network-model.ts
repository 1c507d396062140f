/**
 * The packet-level side of the AWS model: what a flow needs to be decided the way AWS decides it
 * (route tables, NAT, load balancer scheme and listeners, security groups, DNS).
 */

export type Protocol = 'tcp' | 'udp' | 'icmp' | 'all';

/** Who a security-group rule admits (ingress) or lets out to (egress). */
export type RulePeer =
  | { readonly kind: 'cidr'; readonly cidr: string }
  | { readonly kind: 'security-group'; readonly securityGroup: string }
  /** `${aws_eip.x.public_ip}/32`: exactly that Elastic IP. */
  | { readonly kind: 'eip'; readonly eip: string }
  | { readonly kind: 'prefix-list'; readonly name: string };

export interface SecurityGroupRuleModel {
  readonly address: string;
  readonly protocol: Protocol;
  /** ICMP: type; `all`: ignored. */
  readonly fromPort: number;
  readonly toPort: number;
  readonly peer: RulePeer;
}

export interface SecurityGroupModel {
  readonly address: string;
  readonly name: string;
  readonly ingress: readonly SecurityGroupRuleModel[];
  /** Terraform removes AWS's default allow-all egress of a group it creates: only these rules. */
  readonly egress: readonly SecurityGroupRuleModel[];
}

export type RouteTargetModel =
  | { readonly kind: 'internet-gateway' }
  | { readonly kind: 'nat'; readonly nat: string }
  | { readonly kind: 'other'; readonly target: string };

export interface NetworkSubnetModel {
  readonly address: string;
  readonly name: string;
  readonly az: string;
  readonly cidr: string | undefined;
  /** Where 0.0.0.0/0 goes: the associated route table's, else the VPC's main route table's. */
  readonly defaultRoute: RouteTargetModel | undefined;
  /** The route table it uses: its association, else the VPC's main table (`main` when Terraform does not manage that one). */
  readonly routeTable: string;
}

/** A NAT gateway, or a NAT instance a route sends to through its network interface. */
export interface NatModel {
  readonly address: string;
  readonly name: string;
  readonly kind: 'gateway' | 'instance';
  readonly az: string;
  /** The Elastic IP packets leave with (`aws_eip` address), when known. */
  readonly eip: string | undefined;
}

export interface TargetGroupFlowModel {
  readonly address: string;
  readonly name: string;
  /** Port the targets receive traffic on. */
  readonly port: number | undefined;
  /** Port the health check probes (`traffic-port`: the target port). */
  readonly healthCheckPort: number | undefined;
  /** Targets see the client's address (else the load balancer's private one). */
  readonly preserveClientIp: boolean;
}

export interface ListenerModel {
  readonly port: number;
  readonly protocol: string;
  readonly targetGroups: readonly TargetGroupFlowModel[];
}

export interface NetworkLoadBalancerModel {
  readonly address: string;
  readonly name: string;
  readonly type: 'network' | 'application' | 'gateway';
  readonly internal: boolean;
  readonly subnets: readonly string[];
  /** undefined: an NLB created without security groups (nothing filters at the load balancer). */
  readonly securityGroups: readonly string[] | undefined;
  readonly crossZone: boolean;
  readonly listeners: readonly ListenerModel[];
}

/** Where the nodes' kubeadm/kubelet configuration points: read from the launch template's user data. */
export type ApiEndpointRef =
  | { readonly kind: 'load-balancer'; readonly loadBalancer: string; readonly text: string }
  | { readonly kind: 'record'; readonly record: string; readonly text: string }
  | { readonly kind: 'name'; readonly name: string; readonly text: string };

export interface NetworkNodeGroupModel {
  /** The ASG's address (as NodeGroupModel.address). */
  readonly address: string;
  readonly name: string;
  readonly role: 'control-plane' | 'worker';
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
  readonly targetGroups: readonly string[];
  readonly desired: number;
  /** undefined: no API endpoint found in its user data. */
  readonly apiEndpoint: ApiEndpointRef | undefined;
}

export interface DnsRecordModel {
  readonly address: string;
  readonly name: string;
  /** The hosted zone's address when it is in the stack; undefined for a literal zone id. */
  readonly zone: string | undefined;
  /** A private hosted zone (has `vpc` blocks): it only answers inside the associated VPCs. */
  readonly privateZone: boolean;
  readonly zoneVpcs: readonly string[];
  readonly aliasLoadBalancer: string | undefined;
}

export interface NetworkHealthCheckModel {
  readonly address: string;
  /** The load balancer its fqdn references, or the record's alias target with that name. */
  readonly loadBalancer: string | undefined;
  readonly port: number | undefined;
  readonly type: string;
}

/** An interface VPC endpoint (`aws_vpc_endpoint`, type Interface): an ENI per subnet, behind its security groups. */
export interface InterfaceEndpointModel {
  readonly address: string;
  readonly name: string;
  /** `com.amazonaws.<region>.sts`. */
  readonly service: string;
  /** Private DNS: the service's public name resolves to the ENIs inside the VPC. */
  readonly privateDns: boolean;
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
}

export interface NetworkModel {
  /** The stack's region (AWS service names are regional: sts.<region>.amazonaws.com). */
  readonly region: string | undefined;
  readonly vpc: string | undefined;
  readonly vpcCidr: string | undefined;
  readonly subnets: readonly NetworkSubnetModel[];
  readonly nats: readonly NatModel[];
  readonly securityGroups: readonly SecurityGroupModel[];
  readonly loadBalancers: readonly NetworkLoadBalancerModel[];
  readonly nodeGroups: readonly NetworkNodeGroupModel[];
  readonly records: readonly DnsRecordModel[];
  readonly healthChecks: readonly NetworkHealthCheckModel[];
  readonly interfaceEndpoints: readonly InterfaceEndpointModel[];
}
