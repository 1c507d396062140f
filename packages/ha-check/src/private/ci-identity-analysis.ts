import type { Findings } from '../findings';
import type { CiRoleOutcome } from '../report-types';
import type { TerraformIndex, TfResource } from '../terraform';
import { allowed, statementsOf, wildcardMatch, type Request } from './iam';
import { roleStatements } from './iam-roles';
import { iamRole } from './tf-accessors';
import { str, type Json } from './values';

/** What a CI role must never reach from a pull request: the cluster's secrets and state. */
export interface SensitiveResources {
  readonly region: string;
  /** SSM parameter names of the join material (`/hakube/<cluster>/kubeadm/join-token`...). */
  readonly joinParameters: readonly string[];
  /**
   * The CI kubeconfigs (`/hakube/<cluster>/kubeconfig/ci`) of this cluster and of its standby or primary, each in
   * its own region: cluster-admin credentials, which the environment-gated fence and failover roles read.
   */
  readonly kubeconfigParameters: ReadonlyArray<{ readonly name: string; readonly region: string }>;
  /** Buckets of etcd snapshots and app backups. */
  readonly snapshotBuckets: readonly string[];
  readonly stateBucket: string | undefined;
  /**
   * What the state holds that is secret (`address (what)`), in the cluster and CI identity stacks:
   * reading state is what a plan must do, so it is a secret read only when the state holds one.
   */
  readonly stateSecrets: readonly string[];
}

const SUB = 'token.actions.githubusercontent.com:sub';
const ACCOUNT = '111111111111';

/** The OIDC subjects a trust policy admits for `sts:AssumeRoleWithWebIdentity`, by kind of workflow run. */
interface SubjectPattern {
  readonly value: string;
  /** StringLike: `*` and `?` are wildcards; StringEquals: literal. */
  readonly like: boolean;
}

const admits = (p: SubjectPattern, subject: string): boolean => (p.like ? wildcardMatch(p.value, subject) : p.value === subject);

function trust(role: TfResource): { patterns: SubjectPattern[]; any: boolean } {
  const statements = statementsOf(str(iamRole(role).assumeRolePolicy), 'trust');
  const patterns: SubjectPattern[] = [];
  let any = false;
  for (const s of statements.filter((x) => x.effect === 'Allow' && (x.actions ?? []).some((a) => wildcardMatch(a, 'sts:AssumeRoleWithWebIdentity', true)))) {
    const subs = Object.entries(s.condition).flatMap(([op, block]) => (typeof block === 'object' && block !== null ? Object.entries(block as Json).filter(([k]) => k.toLowerCase() === SUB).map(([, v]) => ({ op, values: (Array.isArray(v) ? v : [v]).map(String) })) : []));
    if (subs.length === 0) any = true;
    for (const sub of subs) patterns.push(...sub.values.map((value) => ({ value, like: /Like$/.test(sub.op) })));
  }
  return { patterns, any };
}

/** Who a subject pattern lets in: pull requests, any branch, a protected environment, main. */
function assumableBy(patterns: readonly SubjectPattern[], any: boolean, repo: string | undefined): string[] {
  if (any) return ['anyone with a GitHub Actions token (no sub condition)'];
  const r = repo ?? '*';
  const samples: Array<[string, string]> = [
    ['pull_request', `repo:${r}:pull_request`],
    ['any branch', `repo:${r}:ref:refs/heads/some-feature-branch`],
    ['main', `repo:${r}:ref:refs/heads/main`],
    ['another repository', 'repo:someone-else/other-repo:pull_request'],
  ];
  const who = samples.filter(([, subject]) => patterns.some((p) => admits(p, subject))).map(([k]) => k);
  for (const p of patterns) {
    const env = /:environment:(.+)$/.exec(p.value);
    if (!env) continue;
    who.push(`environment ${env[1]}`);
    // A workflow that names an environment that does not exist makes GitHub create it, unprotected: a pattern
    // admits such a name, so any branch can mint a matching subject. Only an exact name can be protected.
    if (p.like && /[*?]/.test(env[1])) who.push('any branch');
  }
  return [...new Set(who)];
}

/** The sensitive requests, each named: reading and decrypting the join material, snapshots, state, and a write. */
function probes(s: SensitiveResources): Array<{ what: string; requests: Request[]; secret: boolean }> {
  const out: Array<{ what: string; requests: Request[]; secret: boolean }> = [];
  const secureString = (p: string, region: string): { what: string; requests: Request[]; secret: boolean } => {
    const arn = `arn:aws:ssm:${region}:${ACCOUNT}:parameter${p}`;
    // A SecureString read: ssm:GetParameter, and kms:Decrypt through SSM with the parameter as encryption context.
    return {
      what: `read and decrypt ${p}`,
      secret: true,
      requests: [
        { action: 'ssm:GetParameter', resource: arn, context: {} },
        { action: 'kms:Decrypt', resource: `arn:aws:kms:${region}:${ACCOUNT}:key/00000000-0000-0000-0000-000000000000`, context: { 'kms:ViaService': `ssm.${region}.amazonaws.com`, 'kms:EncryptionContext:PARAMETER_ARN': arn } },
      ],
    };
  };
  for (const p of s.joinParameters) out.push(secureString(p, s.region));
  for (const k of s.kubeconfigParameters) out.push(secureString(k.name, k.region));
  for (const b of s.snapshotBuckets) out.push({ what: `read objects of ${b}`, secret: true, requests: [{ action: 's3:GetObject', resource: `arn:aws:s3:::${b}/snapshot`, context: {} }] });
  const holding = s.stateSecrets.length > 0 ? ` (it holds ${s.stateSecrets.join(', ')})` : '';
  if (s.stateBucket) out.push({ what: `read Terraform state in ${s.stateBucket}${holding}`, secret: s.stateSecrets.length > 0, requests: [{ action: 's3:GetObject', resource: `arn:aws:s3:::${s.stateBucket}/stack/terraform.tfstate`, context: {} }] });
  const writes: Array<[string, string]> = [
    ['s3:PutObject', `arn:aws:s3:::${s.stateBucket ?? 'any-bucket'}/stack/terraform.tfstate`],
    ['ssm:PutParameter', `arn:aws:ssm:${s.region}:${ACCOUNT}:parameter${s.joinParameters[0] ?? '/any'}`],
    ['ec2:RunInstances', `arn:aws:ec2:${s.region}:${ACCOUNT}:instance/*`],
    ['iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/any`],
  ];
  for (const [action, resource] of writes) out.push({ what: `write (${action})`, secret: false, requests: [{ action, resource, context: {} }] });
  return out;
}

/** Every role of the CI identity stack: who may assume it and which sensitive resources it reaches. */
export function ciIdentityAnalysis(index: TerraformIndex, sensitive: SensitiveResources, repo: string | undefined, findings: Findings): CiRoleOutcome[] {
  return index.byType('aws_iam_role').map((role) => {
    const name = iamRole(role).name ?? role.name;
    const t = trust(role);
    const who = assumableBy(t.patterns, t.any, repo);
    const { statements, unknown } = roleStatements(index, role);
    const can = probes(sensitive)
      .filter((p) => p.requests.every((r) => allowed(statements, r).allowed))
      .map((p) => ({ what: p.what, secret: p.secret, by: [...new Set(p.requests.map((r) => allowed(statements, r).by ?? '?'))] }));
    const untrusted = who.filter((w) => w === 'pull_request' || w === 'any branch' || w === 'another repository' || w.startsWith('anyone'));
    const bad = can.filter((c) => c.secret || c.what.startsWith('write'));
    if (untrusted.length > 0 && bad.length > 0) {
      findings.add('ci.pr-can-read-secret', name, `${name} can be assumed by ${untrusted.join(', ')} (sub ${t.patterns.map((p) => p.value).join(', ') || 'unrestricted'}) and can ${bad.map((c) => `${c.what} (${c.by.join(' + ')})`).join('; ')}`);
    }
    const wide = t.patterns.filter((p) => p.like && admits(p, `repo:${repo ?? 'x/y'}:pull_request`) && admits(p, `repo:${repo ?? 'x/y'}:ref:refs/heads/main`));
    if (t.any || wide.length > 0) findings.add('ci.wildcard-subject', name, `${name} trusts ${t.any ? 'every GitHub Actions token (no sub condition)' : wide.map((p) => p.value).join(', ')}: any workflow run of the repository can assume it`);
    return { role: name, subjects: t.patterns.map((p) => p.value), assumableBy: who, can: can.map((c) => c.what), unknownPolicies: unknown };
  });
}

/** The repository the roles trust (`repo:<owner>/<name>:...`), the one most subjects name. */
export function repositoryOf(index: TerraformIndex): string | undefined {
  const counts = new Map<string, number>();
  for (const role of index.byType('aws_iam_role')) for (const p of trust(role).patterns) {
    const m = /^repo:([^:*?]+\/[^:*?]+):/.exec(p.value);
    if (m) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}
