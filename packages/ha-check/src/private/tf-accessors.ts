import type { TfResource } from '../terraform';
import { block, blocks, bool, list, num, str, type Json } from './values';

/*
 * Typed views of the Terraform resource types the identity analysis and the STS flow read (issue
 * #13: `TfResource.values` is `Record<string, unknown>`). Each accessor reads the attributes in
 * either shape (a cdk.tf.json block object or a plan's one-item list) and says what is missing
 * with `undefined`, never a guessed value. The other analyses still read `values` directly
 * (docs/ha-check.md "Typed Terraform values").
 */

const values = (r: TfResource): Json => r.values as Json;

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
