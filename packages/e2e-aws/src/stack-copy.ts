import { EXCLUDED_RESOURCE_TYPES, type ExcludedResourceType, type Substitution } from './emulator-gaps';

/** The parts of a synthesized cdk.tf.json the e2e copy rewrites. */
export interface StackJson {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, Record<string, unknown>>;
  provider?: { aws?: { alias?: string; region?: string }[] };
  terraform?: { backend?: Record<string, Record<string, unknown>> } & Record<string, unknown>;
  [key: string]: unknown;
}

export interface Exclusion {
  readonly address: string;
  /** The excluded type itself, or the excluded address this one references. */
  readonly because: string;
}

/** Which provider endpoint serves a resource type (longest prefix wins). */
const SERVICE_BY_PREFIX: readonly [string, string][] = [
  ['aws_autoscaling_', 'autoscaling'],
  ['aws_cloudwatch_event_', 'events'],
  ['aws_cloudwatch_metric_alarm', 'cloudwatch'],
  ['aws_fis_', 'fis'],
  ['aws_iam_', 'iam'],
  ['aws_kms_', 'kms'],
  ['aws_lb', 'elbv2'],
  ['aws_route53_', 'route53'],
  ['aws_s3_', 's3'],
  ['aws_sns_', 'sns'],
  ['aws_sqs_', 'sqs'],
  ['aws_ssm_', 'ssm'],
  ['aws_default_security_group', 'ec2'],
  ['aws_ebs_volume', 'ec2'],
  ['aws_eip', 'ec2'],
  ['aws_internet_gateway', 'ec2'],
  ['aws_launch_template', 'ec2'],
  ['aws_nat_gateway', 'ec2'],
  ['aws_network_interface', 'ec2'],
  ['aws_route', 'ec2'],
  ['aws_security_group', 'ec2'],
  ['aws_subnet', 'ec2'],
  ['aws_vpc', 'ec2'],
];

/** The endpoints a stack needs (sts always: the provider asks it for the account id). */
export function servicesOf(stack: StackJson): string[] {
  const services = new Set(['sts']);
  for (const type of Object.keys(stack.resource ?? {})) {
    const match = SERVICE_BY_PREFIX.filter(([prefix]) => type.startsWith(prefix)).sort((a, b) => b[0].length - a[0].length)[0];
    if (!match) throw new Error(`e2e-aws: resource type ${type} has no emulator endpoint; add its service to SERVICE_BY_PREFIX in packages/e2e-aws/src/stack-copy.ts (or exclude it in emulator-gaps.ts)`);
    services.add(match[1]);
  }
  return [...services].sort();
}

const refersTo = (value: unknown, address: string): boolean => new RegExp(`(^|[^\\w.])${address.replace(/\./g, '\\.')}(\\b|$)`).test(JSON.stringify(value));

/**
 * Removes the excluded types and, transitively, every resource and output that references a
 * removed resource. Returns the copy and what was removed, each with its cause.
 */
export function withoutExcluded(stack: StackJson, excluded: readonly ExcludedResourceType[] = EXCLUDED_RESOURCE_TYPES): { stack: StackJson; exclusions: Exclusion[] } {
  const copy = structuredClone(stack);
  const exclusions: Exclusion[] = [];
  const removed: string[] = [];
  for (const { type } of excluded) {
    for (const name of Object.keys(copy.resource?.[type] ?? {})) {
      exclusions.push({ address: `${type}.${name}`, because: `type ${type} (emulator-gaps.ts)` });
      removed.push(`${type}.${name}`);
    }
    if (copy.resource) delete copy.resource[type];
  }
  for (let i = 0; i < removed.length; i++) {
    const gone = removed[i];
    for (const [type, byName] of Object.entries(copy.resource ?? {})) {
      for (const [name, body] of Object.entries(byName)) {
        if (!refersTo({ ...body, '//': undefined }, gone)) continue;
        delete byName[name];
        exclusions.push({ address: `${type}.${name}`, because: `references ${gone}` });
        removed.push(`${type}.${name}`);
      }
      if (Object.keys(byName).length === 0) delete copy.resource![type];
    }
    for (const [name, body] of Object.entries(copy.output ?? {})) {
      if (refersTo(body, gone)) {
        delete copy.output![name];
        exclusions.push({ address: `output.${name}`, because: `references ${gone}` });
      }
    }
  }
  // Terraform refuses an empty block ("output": {} is a missing block label): a stack whose every
  // output went with its resources has none.
  if (copy.output && Object.keys(copy.output).length === 0) delete copy.output;
  if (copy.resource && Object.keys(copy.resource).length === 0) delete copy.resource;
  return { stack: copy, exclusions };
}

/**
 * Replaces each exact string value `from` by `to` anywhere in the stack (e.g. the platform's
 * hosted zone id by the id moto gave the same zone). Returns how many values changed.
 */
export function substituted(stack: StackJson, substitutions: readonly Substitution[]): { stack: StackJson; count: number } {
  let count = 0;
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const hit = substitutions.find((s) => s.from === value);
      if (hit) count++;
      return hit ? hit.to : value;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return { stack: walk(stack) as StackJson, count };
}

/** Resource addresses the stack protects with `lifecycle.prevent_destroy`. */
export function protectedAddresses(stack: StackJson): string[] {
  const out: string[] = [];
  for (const [type, byName] of Object.entries(stack.resource ?? {})) {
    for (const [name, body] of Object.entries(byName)) {
      if ((body.lifecycle as { prevent_destroy?: boolean } | undefined)?.prevent_destroy === true) out.push(`${type}.${name}`);
    }
  }
  return out.sort();
}

/** The same stack with every `prevent_destroy` lifted (the e2e destroy phase only). */
export function withoutPreventDestroy(stack: StackJson): StackJson {
  const copy = structuredClone(stack);
  for (const byName of Object.values(copy.resource ?? {})) {
    for (const body of Object.values(byName)) {
      const lifecycle = body.lifecycle as { prevent_destroy?: boolean } | undefined;
      if (lifecycle?.prevent_destroy) delete lifecycle.prevent_destroy;
    }
  }
  return copy;
}

/**
 * The override file that points a stack at the emulator: every provider (aliases included)
 * and the S3 state backend get the emulator's endpoints, path-style S3 and the skip_* flags.
 * Credentials are dummies from the environment. An override's backend block replaces the
 * original, so the stack's own bucket, key, region and locking are repeated.
 */
export function emulatorOverride(stack: StackJson, endpoint: string): Record<string, unknown> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(endpoint)) throw new Error(`e2e-aws: emulator endpoint ${endpoint} is not http://127.0.0.1:<port>; the emulator listens on loopback only`);
  const endpoints = Object.fromEntries(servicesOf(stack).map((s) => [s, endpoint]));
  const skip = { skip_credentials_validation: true, skip_metadata_api_check: true, skip_region_validation: true };
  // The provider asks moto's STS for the account id: without it, it writes a group-referencing
  // rule's referenced_security_group_id as "<account>/sg-…" and every such rule plans a change.
  const providers = (stack.provider?.aws ?? [{}]).map((p) => ({ ...(p.alias ? { alias: p.alias } : {}), endpoints: [endpoints], s3_use_path_style: true, ...skip, skip_requesting_account_id: false }));
  const s3 = stack.terraform?.backend?.s3;
  if (!s3) throw new Error('e2e-aws: the stack has no S3 backend; the e2e keeps state in the emulated state bucket');
  const backend = { ...s3, endpoints: { s3: endpoint, sts: endpoint, iam: endpoint }, use_path_style: true, ...skip, skip_requesting_account_id: true };
  return { provider: { aws: providers }, terraform: { backend: { s3: backend } } };
}
