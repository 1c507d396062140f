import { HaCheckInputError } from '../input-error';
import type { TfResource } from '../terraform';
import { block, blocks, bool, isObject, list, num, str, tagsOf, type Json } from './values';

/*
 * Typed views of the Terraform resource types ha-check reads (issue #13: `TfResource.values` is
 * `Record<string, unknown>`): one interface per type with the attributes read, and the one place
 * a resource's values are read. Each accessor reads the attributes in either shape (a cdk.tf.json
 * block object or a plan's one-item list), says what is unknown with `undefined` (absent, null, or
 * an expression only known at apply: `${...}`), never a guessed value, and turns a value Terraform
 * would not accept into bad input (exit 2) naming the resource address, the attribute and what it
 * expects. The analyses read these views, never `values` (test/tf-accessors.test.ts).
 */

const values = (r: TfResource): Json => r.values as Json;

/** A Terraform expression (`${aws_subnet.a.id}`, `${var.size}`): known only at apply. */
const isExpression = (value: unknown): boolean => typeof value === 'string' && /^\$\{[\s\S]*\}$/.test(value);
const unknownValue = (value: unknown): boolean => value === undefined || value === null || isExpression(value);

function malformed(r: TfResource, path: string, expected: string, value: unknown): never {
  throw new HaCheckInputError(`${r.address}: ${path}: expected ${expected}, got ${JSON.stringify(value)}`);
}

/** A number attribute (numbers may arrive as strings from CDKTF tokens that were literal after all). */
function numberAt(r: TfResource, path: string, value: unknown): number | undefined {
  if (unknownValue(value)) return undefined;
  return num(value) ?? malformed(r, path, 'a number', value);
}

function booleanAt(r: TfResource, path: string, value: unknown): boolean | undefined {
  if (unknownValue(value)) return undefined;
  return bool(value) ?? malformed(r, path, 'true or false', value);
}

function stringAt(r: TfResource, path: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : malformed(r, path, 'a string', value);
}

/** A list argument (subnets, zones): a list, or absent; one literal string is a one-item list. */
function listAt(r: TfResource, path: string, value: unknown): unknown[] {
  if (value !== undefined && value !== null && !Array.isArray(value) && typeof value !== 'string') malformed(r, path, 'a list', value);
  return list(value);
}

/** A resource's literal `name` attribute (any type that has one). */
export function resourceName(r: TfResource): string | undefined {
  return str(values(r).name);
}

/**
 * Attributes that hold references (or literal ids and names), as written: `index.resolve` decides
 * what they name. `attributes` maps each view field to its Terraform attribute.
 */
function references<K extends string>(r: TfResource, attributes: Readonly<Record<K, string>>): Readonly<Record<K, unknown>> {
  const v = values(r);
  const out = {} as Record<K, unknown>;
  for (const k in attributes) out[k] = v[attributes[k]];
  return out;
}

/** How people know a resource: its `name`, its `Name` tag, its `bucket`, else its Terraform name. */
export function displayName(r: TfResource): string {
  const v = values(r);
  return str(v.name) ?? str(tagsOf(v).Name) ?? str(v.bucket) ?? r.name;
}

/** `aws_subnet`. */
export interface SubnetValues {
  readonly availabilityZone: string | undefined;
  readonly cidr: string | undefined;
  /** Whether instances launched in it get a public address. */
  readonly mapPublicIpOnLaunch: boolean;
}

export function subnetValues(r: TfResource): SubnetValues {
  const v = values(r);
  return { availabilityZone: str(v.availability_zone), cidr: str(v.cidr_block), mapPublicIpOnLaunch: booleanAt(r, 'map_public_ip_on_launch', v.map_public_ip_on_launch) ?? false };
}

/** `aws_vpc`. */
export function vpcValues(r: TfResource): { readonly cidr: string | undefined } {
  return { cidr: str(values(r).cidr_block) };
}

/** How the packet model names a resource: its `name`, its `Name` tag, else its Terraform name. */
export function nameOrTag(r: TfResource): string {
  const v = values(r);
  return str(v.name) ?? str(tagsOf(v).Name) ?? r.name;
}

/** A route (`aws_route`, or a `route` block of a route table): its destination and targets as written (references or ids). */
export interface RouteValues {
  readonly cidrBlock: string | undefined;
  readonly destinationCidrBlock: string | undefined;
  /** The target attributes by their Terraform name, in the order a route is resolved. */
  readonly targets: Readonly<Record<RouteTargetAttribute, unknown>>;
}

export const ROUTE_TARGET_ATTRIBUTES = ['nat_gateway_id', 'gateway_id', 'network_interface_id', 'instance_id', 'transit_gateway_id', 'vpc_peering_connection_id', 'egress_only_gateway_id'] as const;
export type RouteTargetAttribute = (typeof ROUTE_TARGET_ATTRIBUTES)[number];

function routeOf(route: Json): RouteValues {
  return {
    cidrBlock: str(route.cidr_block),
    destinationCidrBlock: str(route.destination_cidr_block),
    targets: Object.fromEntries(ROUTE_TARGET_ATTRIBUTES.map((k) => [k, route[k]])) as Record<RouteTargetAttribute, unknown>,
  };
}

/** `aws_route_table` / `aws_default_route_table`: their inline routes. */
export function routeTableValues(r: TfResource): { readonly routes: readonly RouteValues[] } {
  return { routes: blocks(values(r).route).map(routeOf) };
}

/** `aws_route`: the route and the table it is added to. */
export function routeValues(r: TfResource): RouteValues & { readonly routeTable: unknown } {
  const v = values(r);
  return { ...routeOf(v), routeTable: v.route_table_id };
}

/** `aws_route_table_association` / `aws_main_route_table_association`. */
export function routeTableAssociationValues(r: TfResource): { readonly subnet: unknown; readonly routeTable: unknown } {
  return references(r, { subnet: 'subnet_id', routeTable: 'route_table_id' });
}

/** `aws_eip`: what it is attached to (references). */
export function eipValues(r: TfResource): { readonly instance: unknown; readonly networkInterface: unknown } {
  return references(r, { instance: 'instance', networkInterface: 'network_interface' });
}

/**
 * A security group rule: an inline `ingress`/`egress` block of `aws_security_group`, an
 * `aws_vpc_security_group_{ingress,egress}_rule` or an `aws_security_group_rule`.
 */
export interface SecurityGroupRuleValues {
  /** `ip_protocol` or `protocol` as written (`tcp`, `6`, `-1`, …). */
  readonly protocol: unknown;
  readonly fromPort: number | undefined;
  readonly toPort: number | undefined;
  readonly self: boolean;
  readonly cidrs: readonly unknown[];
  /** Security groups it admits (references). */
  readonly securityGroups: readonly unknown[];
  readonly prefixLists: readonly unknown[];
  /** A separate rule's group (`security_group_id`); undefined inline. */
  readonly securityGroup: unknown;
  /** `aws_security_group_rule`'s `type` (`ingress` / `egress`). */
  readonly type: string | undefined;
}

function ruleOf(r: TfResource, path: string, b: Json): SecurityGroupRuleValues {
  return {
    protocol: b.ip_protocol ?? b.protocol,
    fromPort: numberAt(r, `${path}from_port`, b.from_port),
    toPort: numberAt(r, `${path}to_port`, b.to_port),
    self: bool(b.self) ?? false,
    cidrs: [b.cidr_ipv4, ...list(b.cidr_blocks)],
    securityGroups: [b.referenced_security_group_id, b.source_security_group_id, ...list(b.security_groups)],
    prefixLists: [b.prefix_list_id, ...list(b.prefix_list_ids)],
    securityGroup: b.security_group_id,
    type: str(b.type),
  };
}

/** `aws_security_group`: its inline rules. */
export function securityGroupValues(r: TfResource): { readonly ingress: readonly SecurityGroupRuleValues[]; readonly egress: readonly SecurityGroupRuleValues[] } {
  const v = values(r);
  return { ingress: blocks(v.ingress).map((b, i) => ruleOf(r, `ingress[${i}].`, b)), egress: blocks(v.egress).map((b, i) => ruleOf(r, `egress[${i}].`, b)) };
}

/** A separate security group rule resource. */
export function securityGroupRuleValues(r: TfResource): SecurityGroupRuleValues {
  return ruleOf(r, '', values(r));
}

/** `aws_route53_zone`: the VPCs a private zone is associated with (its `vpc` blocks; none: a public zone). */
export function route53ZoneValues(r: TfResource): { readonly vpcs: readonly unknown[] } {
  return { vpcs: blocks(values(r).vpc).map((b) => b.vpc_id) };
}

/** `aws_route53_zone_association`. */
export function route53ZoneAssociationValues(r: TfResource): { readonly zone: unknown; readonly vpc: unknown } {
  return references(r, { zone: 'zone_id', vpc: 'vpc_id' });
}

/** `aws_nat_gateway`, or an `aws_network_interface` / `aws_instance` a route sends to (a NAT instance): its subnet and Elastic IP allocation. */
export function natValues(r: TfResource): { readonly subnet: unknown; readonly allocation: unknown } {
  return references(r, { subnet: 'subnet_id', allocation: 'allocation_id' });
}

/** `aws_lb_target_group`. AWS provider defaults are the caller's: undefined here means not written. */
export interface TargetGroupValues {
  readonly port: number | undefined;
  readonly protocol: string | undefined;
  readonly deregistrationDelaySeconds: number | undefined;
  /** `preserve_client_ip` as written (the default depends on the target type). */
  readonly preserveClientIp: boolean | undefined;
  readonly targetType: string | undefined;
  readonly healthCheck: {
    /** `traffic-port` (also when not written), or the port; undefined: unknown. */
    readonly port: number | 'traffic-port' | undefined;
    readonly intervalSeconds: number | undefined;
    readonly healthyThreshold: number | undefined;
    readonly unhealthyThreshold: number | undefined;
    readonly protocol: string | undefined;
    readonly path: string | undefined;
  };
}

export function targetGroupValues(r: TfResource): TargetGroupValues {
  const v = values(r);
  const hc = block(v.health_check) ?? {};
  return {
    port: numberAt(r, 'port', v.port),
    protocol: stringAt(r, 'protocol', v.protocol),
    deregistrationDelaySeconds: numberAt(r, 'deregistration_delay', v.deregistration_delay),
    preserveClientIp: booleanAt(r, 'preserve_client_ip', v.preserve_client_ip),
    targetType: stringAt(r, 'target_type', v.target_type),
    healthCheck: {
      port: hc.port === undefined || hc.port === 'traffic-port' ? 'traffic-port' : numberAt(r, 'health_check.port', hc.port),
      intervalSeconds: numberAt(r, 'health_check.interval', hc.interval),
      healthyThreshold: numberAt(r, 'health_check.healthy_threshold', hc.healthy_threshold),
      unhealthyThreshold: numberAt(r, 'health_check.unhealthy_threshold', hc.unhealthy_threshold),
      protocol: stringAt(r, 'health_check.protocol', hc.protocol),
      path: stringAt(r, 'health_check.path', hc.path),
    },
  };
}

/** `aws_lb` / `aws_alb`. */
export interface LoadBalancerValues {
  /** `load_balancer_type` as written; undefined: the provider's default (application). */
  readonly type: string | undefined;
  readonly internal: boolean | undefined;
  readonly crossZone: boolean | undefined;
  /** `subnets` and `subnet_mapping[*].subnet_id`, as written (references). */
  readonly subnets: readonly unknown[];
  readonly securityGroups: readonly unknown[];
}

export function loadBalancerValues(r: TfResource): LoadBalancerValues {
  const v = values(r);
  return {
    type: stringAt(r, 'load_balancer_type', v.load_balancer_type),
    // The scheme decides every flow through the load balancer: an expression is never guessed
    // internet-facing (absent or null is AWS's default, internet-facing).
    internal: isExpression(v.internal) ? malformed(r, 'internal', 'a literal true or false (the scheme decides who can reach the load balancer)', v.internal) : booleanAt(r, 'internal', v.internal),
    crossZone: booleanAt(r, 'enable_cross_zone_load_balancing', v.enable_cross_zone_load_balancing),
    subnets: [...listAt(r, 'subnets', v.subnets), ...blocks(v.subnet_mapping).map((m) => m.subnet_id)],
    securityGroups: listAt(r, 'security_groups', v.security_groups),
  };
}

/** `aws_lb_listener`: its load balancer, port and the target groups its default action forwards to (references). */
export interface ListenerValues {
  readonly loadBalancer: unknown;
  readonly port: number | undefined;
  readonly protocol: string | undefined;
  readonly targetGroups: readonly unknown[];
}

export function listenerValues(r: TfResource): ListenerValues {
  const v = values(r);
  return {
    loadBalancer: v.load_balancer_arn,
    port: numberAt(r, 'port', v.port),
    protocol: stringAt(r, 'protocol', v.protocol),
    targetGroups: blocks(v.default_action).flatMap((a) => [a.target_group_arn, ...blocks(block(a.forward)?.target_group).map((t) => t.arn)]),
  };
}

/**
 * An ASG size argument: a whole number (or a numeric string), undefined when absent or an
 * expression only known at apply (`${...}`); any other value is not a size Terraform accepts.
 */
function asgSize(r: TfResource, key: 'min_size' | 'max_size' | 'desired_capacity'): number | undefined {
  const value = values(r)[key];
  if (unknownValue(value)) return undefined;
  const n = num(value);
  if (n === undefined || !Number.isInteger(n) || n < 0) malformed(r, key, 'a whole number ≥ 0', value);
  return n;
}

/** `aws_autoscaling_group`. */
export interface AutoscalingGroupValues {
  readonly name: string | undefined;
  readonly namePrefix: string | undefined;
  /** `tags`, `tags_all` and `tag` blocks. */
  readonly tags: Readonly<Record<string, string>>;
  /** The launch template it names, directly or in a mixed-instances policy (references or literal names/ids). */
  readonly launchTemplateRefs: readonly unknown[];
  /** Mixed-instances `override[*].instance_type`. */
  readonly instanceTypeOverrides: readonly string[];
  readonly subnets: readonly unknown[];
  readonly availabilityZones: readonly unknown[];
  readonly targetGroups: readonly unknown[];
  readonly minSize: number | undefined;
  readonly maxSize: number | undefined;
  readonly desiredCapacity: number | undefined;
  readonly healthCheckType: string | undefined;
  readonly healthCheckGracePeriodSeconds: number | undefined;
}

export function autoscalingGroupValues(r: TfResource): AutoscalingGroupValues {
  const v = values(r);
  const direct = block(v.launch_template);
  const mixedLt = block(block(v.mixed_instances_policy)?.launch_template);
  const spec = block(mixedLt?.launch_template_specification);
  return {
    name: str(v.name),
    namePrefix: str(v.name_prefix),
    tags: tagsOf(v),
    launchTemplateRefs: [direct?.id, direct?.name, spec?.launch_template_id, spec?.launch_template_name],
    instanceTypeOverrides: blocks(mixedLt?.override).map((o) => str(o.instance_type)).filter((t): t is string => t !== undefined),
    subnets: listAt(r, 'vpc_zone_identifier', v.vpc_zone_identifier),
    availabilityZones: listAt(r, 'availability_zones', v.availability_zones),
    targetGroups: list(v.target_group_arns),
    minSize: asgSize(r, 'min_size'),
    maxSize: asgSize(r, 'max_size'),
    desiredCapacity: asgSize(r, 'desired_capacity'),
    healthCheckType: str(v.health_check_type),
    healthCheckGracePeriodSeconds: numberAt(r, 'health_check_grace_period', v.health_check_grace_period),
  };
}

/** `aws_autoscaling_attachment`: the ASG (reference or literal name) and the target group it attaches. */
export function autoscalingAttachmentValues(r: TfResource): { readonly autoscalingGroup: unknown; readonly targetGroup: unknown } {
  return references(r, { autoscalingGroup: 'autoscaling_group_name', targetGroup: 'lb_target_group_arn' });
}

/** `aws_s3_bucket_replication_configuration`: the source bucket and each rule's destination. */
export interface ReplicationConfigurationValues {
  readonly bucket: unknown;
  readonly rules: ReadonlyArray<{
    /** `Enabled` unless written otherwise. */
    readonly status: string | undefined;
    readonly destinationBucket: unknown;
    /** Replication Time Control, when the rule has the block: its status and minutes as written. */
    readonly replicationTime: { readonly status: string | undefined; readonly minutes: number | undefined } | undefined;
  }>;
}

export function replicationConfigurationValues(r: TfResource): ReplicationConfigurationValues {
  const v = values(r);
  return {
    bucket: v.bucket,
    rules: blocks(v.rule).map((rule, i) => {
      const destination = block(rule.destination);
      const rtc = block(destination?.replication_time);
      return {
        status: stringAt(r, `rule[${i}].status`, rule.status),
        destinationBucket: destination?.bucket,
        replicationTime: rtc ? { status: stringAt(r, `rule[${i}].destination.replication_time.status`, rtc.status), minutes: numberAt(r, `rule[${i}].destination.replication_time.time.minutes`, block(rtc.time)?.minutes) } : undefined,
      };
    }),
  };
}

/** `aws_ssm_parameter`: its value (`value`, else `insecure_value`). */
export function ssmParameterValue(r: TfResource): string | undefined {
  const v = values(r);
  return str(v.value) ?? str(v.insecure_value);
}

/** `aws_ssm_parameter`: whether the state holds a SecureString (a `value`, not a write-only `value_wo`). */
export function ssmSecureStringInState(r: TfResource): boolean {
  const v = values(r);
  return str(v.type) === 'SecureString' && v.value !== undefined && v.value !== null;
}

/** `aws_route53_health_check`. Route 53's defaults are the caller's: undefined here means not written. */
export interface Route53HealthCheckValues {
  readonly type: string | undefined;
  /** The checked name as written: a literal or a reference (to a load balancer's `dns_name`). */
  readonly fqdn: unknown;
  readonly port: number | undefined;
  readonly resourcePath: string | undefined;
  readonly requestIntervalSeconds: number | undefined;
  readonly failureThreshold: number | undefined;
}

export function route53HealthCheckValues(r: TfResource): Route53HealthCheckValues {
  const v = values(r);
  return {
    type: str(v.type),
    fqdn: v.fqdn,
    port: numberAt(r, 'port', v.port),
    resourcePath: str(v.resource_path),
    requestIntervalSeconds: numberAt(r, 'request_interval', v.request_interval),
    failureThreshold: numberAt(r, 'failure_threshold', v.failure_threshold),
  };
}

/** `aws_route53_record`: what the failover analysis reads. */
export interface Route53RecordValues {
  readonly name: string | undefined;
  readonly type: string | undefined;
  /** `failover_routing_policy.type`, upper-cased. */
  readonly failover: string | undefined;
  readonly setIdentifier: string | undefined;
  readonly healthCheck: unknown;
  /** The alias target as written (a reference or a literal DNS name), when the record is an alias. */
  readonly alias: { readonly name: unknown; readonly evaluateTargetHealth: boolean } | undefined;
  readonly ttlSeconds: number | undefined;
  readonly zone: unknown;
}

export function route53RecordValues(r: TfResource): Route53RecordValues {
  const v = values(r);
  const alias = block(v.alias);
  return {
    name: str(v.name),
    type: str(v.type),
    failover: str(block(v.failover_routing_policy)?.type)?.toUpperCase(),
    setIdentifier: str(v.set_identifier),
    healthCheck: v.health_check_id,
    alias: alias ? { name: alias.name, evaluateTargetHealth: booleanAt(r, 'alias.evaluate_target_health', alias.evaluate_target_health) ?? false } : undefined,
    ttlSeconds: numberAt(r, 'ttl', v.ttl),
    zone: v.zone_id,
  };
}

/** `aws_s3_object`: its inline content. */
export function s3ObjectContent(r: TfResource): string | undefined {
  return str(values(r).content);
}

/** `aws_vpc_endpoint_route_table_association`. */
export function endpointRouteTableAssociation(r: TfResource): { readonly endpoint: unknown; readonly routeTable: unknown } {
  return references(r, { endpoint: 'vpc_endpoint_id', routeTable: 'route_table_id' });
}

/** `aws_iam_role`. */
export interface IamRoleValues {
  /** Literal name, or undefined when computed (`name_prefix`). */
  readonly name: string | undefined;
  readonly path: string;
  /** The trust policy as written (JSON text, or a reference). */
  readonly assumeRolePolicy: unknown;
  /** Inline `inline_policy` blocks on the role itself. */
  readonly inlinePolicies: ReadonlyArray<{ readonly name: string | undefined; readonly policy: unknown }>;
}

export function iamRole(r: TfResource): IamRoleValues {
  const v = values(r);
  return {
    name: str(v.name),
    path: str(v.path) ?? '/',
    assumeRolePolicy: v.assume_role_policy,
    inlinePolicies: blocks(v.inline_policy).map((p) => ({ name: str(p.name), policy: p.policy })),
  };
}

/** `aws_iam_role_policy` / `aws_iam_role_policy_attachment`: the role they name (a reference or a literal). */
export interface RolePolicyValues {
  readonly role: unknown;
  readonly name: string | undefined;
  readonly policy: unknown;
  readonly policyArn: unknown;
}

export function rolePolicy(r: TfResource): RolePolicyValues {
  const v = values(r);
  return { role: v.role, name: str(v.name), policy: v.policy, policyArn: v.policy_arn };
}

/** `aws_iam_instance_profile`. */
export function instanceProfile(r: TfResource): { readonly name: string | undefined; readonly role: unknown } {
  const v = values(r);
  return { name: str(v.name), role: v.role };
}

/** `aws_iam_openid_connect_provider`. */
export interface OidcProviderValues {
  /** Issuer URL as written (`https://host`), or a reference. */
  readonly url: unknown;
  readonly clientIds: readonly string[];
}

export function oidcProvider(r: TfResource): OidcProviderValues {
  const v = values(r);
  return { url: v.url, clientIds: list(v.client_id_list).filter((x): x is string => typeof x === 'string') };
}

/**
 * `aws_launch_template` `metadata_options`. EC2's defaults when a field is absent: endpoint
 * enabled, tokens optional (IMDSv1 allowed) unless the AMI says otherwise, hop limit 1.
 */
export interface MetadataOptions {
  readonly endpointEnabled: boolean;
  /** IMDSv2 only (`http_tokens = required`). */
  readonly tokensRequired: boolean;
  readonly hopLimit: number;
  /** `metadata_options` was written at all (else every value is EC2's default). */
  readonly declared: boolean;
}

export interface LaunchTemplateValues {
  readonly name: string | undefined;
  readonly instanceType: string | undefined;
  /** As written: CDKTF's `${base64gzip(join(...))}` expression, base64, gzip or plain text (user-data.ts reads it). */
  readonly userData: string | undefined;
  /** `vpc_security_group_ids`, `security_group_names` and `network_interfaces[*].security_groups` (references). */
  readonly securityGroups: readonly unknown[];
  /** The instance profile named by `iam_instance_profile` (`name` or `arn`), as written. */
  readonly instanceProfile: unknown;
  readonly metadata: MetadataOptions;
}

export function launchTemplate(r: TfResource): LaunchTemplateValues {
  const v = values(r);
  const md = block(v.metadata_options);
  const profile = block(v.iam_instance_profile);
  return {
    name: str(v.name),
    instanceType: str(v.instance_type),
    userData: str(v.user_data),
    securityGroups: [...list(v.vpc_security_group_ids), ...list(v.security_group_names), ...blocks(v.network_interfaces).flatMap((n) => list(n.security_groups))],
    instanceProfile: profile?.name ?? profile?.arn,
    metadata: {
      endpointEnabled: str(md?.http_endpoint) !== 'disabled',
      tokensRequired: str(md?.http_tokens) === 'required',
      hopLimit: num(md?.http_put_response_hop_limit) ?? 1,
      declared: md !== undefined,
    },
  };
}

/** `aws_s3_bucket_policy`. */
export function bucketPolicy(r: TfResource): { readonly bucket: unknown; readonly policy: unknown } {
  const v = values(r);
  return { bucket: v.bucket, policy: v.policy };
}

/** `aws_s3_bucket_public_access_block`: the two settings that stop a public bucket policy. */
export interface PublicAccessBlockValues {
  readonly bucket: unknown;
  /** PutBucketPolicy rejects a policy that grants public access. */
  readonly blockPublicPolicy: boolean;
  /** A public policy is ignored: only AWS principals of the account get through. */
  readonly restrictPublicBuckets: boolean;
}

export function publicAccessBlock(r: TfResource): PublicAccessBlockValues {
  const v = values(r);
  return { bucket: v.bucket, blockPublicPolicy: bool(v.block_public_policy) ?? false, restrictPublicBuckets: bool(v.restrict_public_buckets) ?? false };
}

/** `aws_s3_bucket`. */
export function s3Bucket(r: TfResource): { readonly bucket: string | undefined } {
  return { bucket: str(values(r).bucket) };
}

/** `aws_vpc_endpoint`. */
export interface VpcEndpointValues {
  readonly vpc: unknown;
  readonly serviceName: string | undefined;
  /** Gateway (the default) or Interface. */
  readonly type: 'Gateway' | 'Interface' | 'GatewayLoadBalancer';
  readonly privateDns: boolean;
  readonly subnets: readonly unknown[];
  readonly securityGroups: readonly unknown[];
  /** Gateway endpoints: the route tables it is added to (references). */
  readonly routeTables: readonly unknown[];
}

export function vpcEndpoint(r: TfResource): VpcEndpointValues {
  const v = values(r);
  const t = str(v.vpc_endpoint_type);
  return {
    vpc: v.vpc_id,
    serviceName: str(v.service_name),
    type: t === 'Interface' ? 'Interface' : t === 'GatewayLoadBalancer' ? 'GatewayLoadBalancer' : 'Gateway',
    privateDns: bool(v.private_dns_enabled) ?? false,
    subnets: list(v.subnet_ids),
    securityGroups: list(v.security_group_ids),
    routeTables: list(v.route_table_ids),
  };
}

/** `aws_vpc_endpoint_subnet_association`. */
export function endpointSubnetAssociation(r: TfResource): { readonly endpoint: unknown; readonly subnet: unknown } {
  const v = values(r);
  return { endpoint: v.vpc_endpoint_id, subnet: v.subnet_id };
}

/** `aws_iam_user` / `aws_iam_access_key`: a name or the user the key belongs to. */
export function iamUser(r: TfResource): { readonly name: string | undefined; readonly user: unknown } {
  const v = values(r);
  return { name: str(v.name), user: v.user };
}

/** A terminating or launching lifecycle hook: `aws_autoscaling_lifecycle_hook`, or an ASG's `initial_lifecycle_hook` block. */
export interface LifecycleHookValues {
  readonly transition: unknown;
  /** The ASG a separate hook names (a reference or a literal name); undefined for an inline hook. */
  readonly autoscalingGroup: unknown;
  readonly heartbeatTimeoutSeconds: number | undefined;
}

export function lifecycleHookValues(r: TfResource): LifecycleHookValues {
  const v = values(r);
  return { transition: v.lifecycle_transition, autoscalingGroup: v.autoscaling_group_name, heartbeatTimeoutSeconds: numberAt(r, 'heartbeat_timeout', v.heartbeat_timeout) };
}

/** An `aws_autoscaling_group`'s literal `name` (as written) and its inline `initial_lifecycle_hook` blocks. */
export function asgLifecycleValues(r: TfResource): { readonly name: unknown; readonly initialHooks: readonly LifecycleHookValues[] } {
  const v = values(r);
  const hooks = (Array.isArray(v.initial_lifecycle_hook) ? v.initial_lifecycle_hook : v.initial_lifecycle_hook === undefined ? [] : [v.initial_lifecycle_hook]).filter(isObject);
  return {
    name: v.name,
    initialHooks: hooks.map((h, i) => ({ transition: h.lifecycle_transition, autoscalingGroup: undefined, heartbeatTimeoutSeconds: numberAt(r, `initial_lifecycle_hook[${i}].heartbeat_timeout`, h.heartbeat_timeout) })),
  };
}

/** `aws_cloudwatch_event_target`: its target (`arn`) and rule (a reference, or in a plan the rule's name). */
export function eventTargetValues(r: TfResource): { readonly target: unknown; readonly rule: unknown } {
  return references(r, { target: 'arn', rule: 'rule' });
}

/** `aws_cloudwatch_event_rule`: its name and event pattern (JSON text or an object). */
export function eventRuleValues(r: TfResource): { readonly name: unknown; readonly eventPattern: unknown } {
  const v = values(r);
  return { name: v.name, eventPattern: v.event_pattern };
}

/** `aws_sqs_queue`: its name, inline policy and KMS key (as written). */
export function sqsQueueValues(r: TfResource): { readonly name: string | undefined; readonly policy: unknown; readonly kmsKey: unknown } {
  const v = values(r);
  return { name: str(v.name), policy: v.policy, kmsKey: v.kms_master_key_id };
}

/** `aws_sqs_queue_policy` (`queue_url`) or `aws_kms_key_policy` (`key_id`): what it attaches to and the policy. */
export function attachedPolicyValues(r: TfResource): { readonly target: unknown; readonly policy: unknown } {
  const v = values(r);
  return { target: r.type === 'aws_kms_key_policy' ? v.key_id : v.queue_url, policy: v.policy };
}

/** `aws_kms_key`: its inline key policy. */
export function kmsKeyValues(r: TfResource): { readonly policy: unknown } {
  return { policy: values(r).policy };
}
