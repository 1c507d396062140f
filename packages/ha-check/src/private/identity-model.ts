import { launchTemplateOf } from '../infra-model';
import type { NodeGroupModel } from '../model';
import type { TerraformIndex, TfResource } from '../terraform';
import { statementsOf, wildcardMatch, type Statement } from './iam';
import { roleStatements } from './iam-roles';
import type { PodIdentity } from './pod-identities';
import { envFile, readUserData } from './user-data';
import { bucketPolicy, iamRole, iamUser, instanceProfile, launchTemplate, oidcProvider, publicAccessBlock, s3Bucket, type MetadataOptions } from './tf-accessors';
import type { Json } from './values';

/** Account id put in ARNs whose account Terraform computes (`${local.account_id}`, `data.aws_caller_identity`). */
export const ANY_ACCOUNT = '111111111111';

export interface IdentityRole {
  readonly address: string;
  readonly name: string;
  /** The trust policy with stack references resolved (provider hosts in condition keys and ARNs). */
  readonly trust: readonly Statement[];
  readonly statements: readonly Statement[];
  readonly unknownPolicies: readonly string[];
}

export interface NodeIdentity {
  readonly group: NodeGroupModel;
  /** The role of its launch template's instance profile (undefined: no profile, no credentials on IMDS). */
  readonly role: string | undefined;
  readonly metadata: MetadataOptions;
  /**
   * node-bootstrap's IMDS fence, from the launch template's user data (IMDS_FENCE_UID in
   * /etc/node-bootstrap/env): pod sockets reach IMDS only as `allowedUid`, or not at all when it
   * has none (IMDS_FENCE_CGROUP without IMDS_FENCE_UID). undefined: no fence (also IMDS_FENCE_UID
   * without IMDS_FENCE_CGROUP: node-prep.sh arms the fence only when the cgroup is named).
   */
  readonly imdsFence?: { readonly allowedUid?: number };
}

export interface IssuerBucket {
  readonly name: string;
  readonly address: string | undefined;
  /** Object keys (of those probed) anonymous `s3:GetObject` reaches through the bucket policy. */
  readonly publicKeys: readonly string[];
  /** Anonymous reads beyond the two documents (another key, or listing the bucket). */
  readonly alsoPublic: readonly string[];
  /** A public access block setting that stops the public policy. */
  readonly blockedBy: string | undefined;
}

export interface IdentityModel {
  /** The cluster's issuer host (`<bucket>.s3.<region>.amazonaws.com`), from platform-config or the stack's one OIDC provider. */
  readonly issuerHost: string | undefined;
  /** IAM OIDC providers in the stack: address → issuer host. */
  readonly providers: ReadonlyArray<{ readonly address: string; readonly host: string | undefined }>;
  readonly roles: readonly IdentityRole[];
  readonly nodes: readonly NodeIdentity[];
  readonly pods: readonly PodIdentity[];
  /** A pod identity webhook runs (what turns the role annotation into env and a token). */
  readonly webhook: string | undefined;
  /** platform-config fences IMDS off every node of the cluster (`imdsFenced`: pods use web identity): no pod may reach it. */
  readonly imdsFenceRequired: boolean;
  /** `aws_iam_user` / `aws_iam_access_key` resources, described. */
  /** `migration`: the IAM user the cluster's platform-config declares for its IRSA migration (serviceAccountIdentity before complete). */
  readonly staticKeys: ReadonlyArray<{ readonly address: string; readonly what: string; readonly migration?: string }>;
  readonly issuerBucket: IssuerBucket | undefined;
  /**
   * Where the cluster's etcd snapshots live (platform-config's names; undefined without --cluster).
   * A snapshot holds `pki/sa.key`, the service-account signing key.
   */
  readonly etcdSnapshots: EtcdSnapshots | undefined;
}

export interface EtcdSnapshots {
  readonly bucket: string;
  /** Key prefix, no trailing slash. */
  readonly prefix: string;
  /**
   * The SSM parameter ARN of kubeadm's certificate key (the join material of control-plane
   * nodes): with it and the join token, `kubeadm-certs` yields sa.key like a snapshot does.
   */
  readonly certificateKeyArn?: string;
}

const GITHUB_ISSUER = 'token.actions.githubusercontent.com';

/** A stack's `${...}` expressions the identity model needs, resolved to the values AWS will see. */
export class StackText {
  constructor(private readonly index: TerraformIndex) {}

  private resource(from: TfResource, type: string, name: string): TfResource | undefined {
    return this.index.resources.find((r) => r.stack === from.stack && r.type === type && r.name === name);
  }

  /** The issuer host of an OIDC provider resource (its `url` without scheme). */
  providerHost(provider: TfResource): string | undefined {
    const url = this.resolve(provider, oidcProvider(provider).url);
    return typeof url === 'string' && !url.includes('${') ? url.replace(/^https:\/\//, '').replace(/\/$/, '') : undefined;
  }

  private bucketHost(bucket: TfResource, regional: boolean): string | undefined {
    const name = s3Bucket(bucket).bucket;
    const region = this.index.regionOf(bucket);
    return name && (region || !regional) ? `${name}.s3${regional ? `.${region}` : ''}.amazonaws.com` : undefined;
  }

  private expression(from: TfResource, inner: string, account: string): string | undefined {
    const bucket = /aws_s3_bucket\.([\w-]+)\.(\w+)/.exec(inner);
    if (bucket) {
      const b = this.resource(from, 'aws_s3_bucket', bucket[1]);
      const name = b ? s3Bucket(b).bucket : undefined;
      if (!b || !name) return undefined;
      if (bucket[2] === 'arn') return `arn:aws:s3:::${name}`;
      if (bucket[2] === 'bucket' || bucket[2] === 'id') return name;
      if (bucket[2] === 'bucket_regional_domain_name') return this.bucketHost(b, true);
      if (bucket[2] === 'bucket_domain_name') return this.bucketHost(b, false);
      return undefined;
    }
    const provider = /aws_iam_openid_connect_provider\.([\w-]+)\.(\w+)/.exec(inner);
    if (provider) {
      const p = this.resource(from, 'aws_iam_openid_connect_provider', provider[1]);
      const host = p ? this.providerHost(p) : undefined;
      if (!host) return undefined;
      // `url` as IAM returns it has no scheme (what `replace(url, "https://", "")` also gives).
      return provider[2] === 'arn' ? `arn:aws:iam::${ANY_ACCOUNT}:oidc-provider/${host}` : host;
    }
    if (/account_id/.test(inner)) return account;
    return undefined;
  }

  /**
   * `value` with every `${...}` the model knows replaced (others left as written); a computed
   * account id becomes `account` (ANY_ACCOUNT to evaluate, `<account>` to show).
   */
  resolve(from: TfResource, value: unknown, account = ANY_ACCOUNT): unknown {
    if (typeof value !== 'string') return value;
    return value.replace(/\$\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}/g, (whole, inner: string) => this.expression(from, inner, account) ?? whole);
  }
}

function issuerBucket(index: TerraformIndex, text: StackText, host: string): IssuerBucket {
  const name = host.slice(0, host.indexOf('.s3'));
  const bucket = index.byType('aws_s3_bucket').find((b) => s3Bucket(b).bucket === name);
  if (!bucket) return { name, address: undefined, publicKeys: [], alsoPublic: [], blockedBy: undefined };
  const mine = (r: TfResource, ref: unknown): boolean => index.resolve(r, ref)?.address === bucket.address || ref === name;
  const policies = index.byType('aws_s3_bucket_policy').filter((p) => mine(p, bucketPolicy(p).bucket));
  const anonymous = (s: Statement): boolean => s.principal === '*' || (typeof s.principal === 'object' && s.principal !== null && [(s.principal as Json).AWS].flat().includes('*'));
  const statements = policies.flatMap((p) => statementsOf(text.resolve(p, bucketPolicy(p).policy), p.address)).filter(anonymous);
  const reads = (resource: string, action = 's3:GetObject'): boolean => {
    const matching = (s: Statement): boolean => (s.actions ?? []).some((a) => wildcardMatch(a, action, true)) && (s.resources ?? []).some((r) => wildcardMatch(r, resource));
    // An unconditioned Deny to everyone wins; a conditioned one (TLS only) does not stop STS, which fetches over HTTPS.
    if (statements.some((s) => s.effect === 'Deny' && Object.keys(s.condition).length === 0 && matching(s))) return false;
    return statements.some((s) => s.effect === 'Allow' && Object.keys(s.condition).length === 0 && matching(s));
  };
  const arn = `arn:aws:s3:::${name}`;
  const block = index.byType('aws_s3_bucket_public_access_block').map((b) => ({ b, v: publicAccessBlock(b) })).find(({ b, v }) => mine(b, v.bucket));
  return {
    name,
    address: bucket.address,
    publicKeys: ['.well-known/openid-configuration', 'openid/v1/jwks'].filter((k) => reads(`${arn}/${k}`)),
    alsoPublic: [...(reads(`${arn}/any-other-object`) ? ['other objects (s3:GetObject on more than the two keys)'] : []), ...(reads(arn, 's3:ListBucket') ? ['the object list (s3:ListBucket)'] : [])],
    blockedBy: block?.v.blockPublicPolicy ? 'block_public_policy = true (PutBucketPolicy rejects a public policy)' : block?.v.restrictPublicBuckets ? 'restrict_public_buckets = true (anonymous requests are refused)' : undefined,
  };
}

/** Who can act on AWS, from the cluster stack and its pod identities. */
/** The backup user a cluster before `complete` keeps on purpose (platform-config serviceAccountIdentity), and its stage. */
export interface DeclaredLegacyUser {
  readonly name: string;
  readonly stage: string;
}

export function identityModel(
  index: TerraformIndex,
  nodeGroups: readonly NodeGroupModel[],
  pods: readonly PodIdentity[],
  webhook: string | undefined,
  expectedIssuerHost: string | undefined,
  etcdSnapshots?: EtcdSnapshots,
  declaredLegacyUser?: DeclaredLegacyUser,
  imdsFenceRequired = false,
): IdentityModel {
  const text = new StackText(index);
  const providers = index.byType('aws_iam_openid_connect_provider').map((p) => ({ address: p.address, host: text.providerHost(p) }));
  const own = providers.filter((p) => p.host !== GITHUB_ISSUER);
  const issuerHost = expectedIssuerHost ?? (own.length === 1 ? own[0].host : undefined);
  const roles = index.byType('aws_iam_role').map((role): IdentityRole => {
    const { statements, unknown } = roleStatements(index, role);
    // Resource ARNs as AWS will see them (`${aws_s3_bucket.x.arn}/postgres/*` → `arn:aws:s3:::<bucket>/postgres/*`).
    const resolved = statements.map((st) => ({ ...st, resources: st.resources?.map((r) => String(text.resolve(role, r, '<account>'))) }));
    return { address: role.address, name: iamRole(role).name ?? role.name, trust: statementsOf(text.resolve(role, iamRole(role).assumeRolePolicy), 'trust'), statements: resolved, unknownPolicies: unknown };
  });
  const asgs = index.byType('aws_autoscaling_group');
  const nodes = nodeGroups.map((group): NodeIdentity => {
    const asg = asgs.find((a) => a.address === group.address);
    const template = asg ? launchTemplateOf(index, asg).template : undefined;
    const lt = template ? launchTemplate(template) : undefined;
    const profileRef = lt?.instanceProfile;
    const profile = template ? (index.resolve(template, profileRef) ?? index.byType('aws_iam_instance_profile').find((p) => instanceProfile(p).name === profileRef)) : undefined;
    const roleRef = profile ? instanceProfile(profile).role : undefined;
    const role = profile ? (index.resolve(profile, roleRef) ?? index.byType('aws_iam_role').find((r) => iamRole(r).name === roleRef)) : undefined;
    const fence = imdsFenceOf(lt?.userData);
    return { group, role: role ? (iamRole(role).name ?? role.name) : undefined, metadata: lt?.metadata ?? { endpointEnabled: true, tokensRequired: false, hopLimit: 1, declared: false }, ...(fence ? { imdsFence: fence } : {}) };
  });
  const staticKeys = [
    ...index.byType('aws_iam_user').map((u) => {
      const name = iamUser(u).name ?? u.name;
      return { address: u.address, what: `IAM user ${name}`, ...(declaredLegacyUser?.name === name ? { migration: declaredLegacyUser.stage } : {}) };
    }),
    ...index.byType('aws_iam_access_key').map((k) => {
      const user = index.resolve(k, iamUser(k).user);
      return { address: k.address, what: `access key of IAM user ${user ? (iamUser(user).name ?? user.name) : String(iamUser(k).user)} (its secret is in the Terraform state)` };
    }),
  ];
  return { issuerHost, providers, roles, nodes, pods, webhook, staticKeys, etcdSnapshots, imdsFenceRequired, issuerBucket: issuerHost && /\.s3[.-]/.test(issuerHost) ? issuerBucket(index, text, issuerHost) : undefined };
}

/** The IMDS fence node-prep.sh applies at every boot when the env file names its uid. */
function imdsFenceOf(userData: string | undefined): { allowedUid?: number } | undefined {
  const env = userData ? readUserData(userData).files.get('/etc/node-bootstrap/env') : undefined;
  const vars = env ? envFile(env) : undefined;
  const uid = vars?.get('IMDS_FENCE_UID');
  const allowedUid = uid !== undefined && /^\d+$/.test(uid) ? Number(uid) : undefined;
  // A fence names its cgroup; node-prep.sh arms none without it (IMDS_FENCE_UID alone, the older form, is no fence).
  // One with an exempt uid as well is the older form (any pod may claim the uid).
  if (vars?.get('IMDS_FENCE_CGROUP') === undefined) return undefined;
  return allowedUid === undefined ? {} : { allowedUid };
}
