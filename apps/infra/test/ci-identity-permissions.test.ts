import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CI_IDENTITY_STACK_OUTPUTS, defaultPlatform, PLAN_ARTIFACT_KEY_CONTEXT, planArtifactKeyAlias, ssmParameterArn } from '@platform/platform-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { synthInfra } from '../src/main';
import { failoverRequests, scanFailoverAwsCalls, type FailoverRequest } from './failover-aws-calls';
import { awsManagedKeyPolicy, defaultKeyPolicy, evaluate, MANAGED_POLICIES, READ_VERBS, sameAccountDecision, statementApplies, wildcard, type Decision, type Json, type Request, type Statement } from './iam-model';

/*
 * Who can read the clusters' secrets through GitHub's OIDC roles, computed from the
 * synthesized stacks (apps/infra synth, the committed output): for every role, which OIDC
 * subjects its trust policy admits (IAM semantics, wildcards included); for every role a pull
 * request's author can assume, and for the read-only drift role, what its identity policies
 * (inline and AWS managed) together with the clusters' key and bucket policies allow on the
 * real ARNs of the join material, the other SecureStrings, the KMS keys, the backup objects
 * and the state. A pull request runs its own code with the role: anything the role can read,
 * the pull request's author can read.
 */

const ACCOUNT = '123456789012';
const platform = defaultPlatform();
const { settings, names } = platform;
const repo = `${settings.github.owner}/${settings.github.repository}`;
const GITHUB_ISSUER = 'token.actions.githubusercontent.com';

/** Subjects the author of a pull request (write access to the repository) or anyone on GitHub can make GitHub put in a token. */
const PR_AUTHOR_SUBJECTS = [
  `repo:${repo}:pull_request`, // the pull request's own workflow run, with its code
  `repo:${repo}:ref:refs/heads/pr-author-branch`, // a push to an unprotected branch
  `repo:${repo}:ref:refs/tags/pr-author-tag`,
  `repo:${repo}:environment:pr-author-environment`, // an environment without deployment protection
  'repo:someone-else/any-repository:pull_request', // any GitHub user's own repository
  `repo:someone-else/any-repository:ref:refs/heads/${settings.github.mainBranch}`,
];
/** Subjects only reviewed code presents: the protected main branch and the protected apply environment. */
const PROTECTED_SUBJECTS = [`repo:${repo}:ref:refs/heads/${settings.github.mainBranch}`, `repo:${repo}:environment:${settings.github.applyEnvironment}`];
/** The scheduled fence's environment: no reviewers, but deployable from main only. */
const FENCE_SUBJECT = `repo:${repo}:environment:${names.ciFenceEnvironment}`;
/** The app-release environment: deployable from main only. */
const RELEASE_SUBJECT = `repo:${repo}:environment:${names.ciReleaseEnvironment}`;

type Stacks = Record<string, Json>;

interface Role {
  readonly stack: string;
  readonly name: string;
  readonly arn: string;
  readonly trust: readonly Statement[];
  readonly identity: readonly Statement[];
}

/** Terraform references a policy of these stacks may hold, resolved to what AWS will see. */
function resolver(stack: Json): (text: string) => string {
  return (text) => {
    const resolved = text
      .replace(/\$\{local\.account_id\}/g, ACCOUNT)
      .replace(/\$\{aws_s3_bucket\.([^.}]+)\.arn\}/g, (_, id: string) => `arn:aws:s3:::${stack.resource.aws_s3_bucket[id].bucket}`)
      .replace(/\$\{aws_kms_key\.([^.}]+)\.arn\}/g, (_, id: string) => keyArnOf(stack, id))
      .replace(/\$\{aws_sqs_queue\.([^.}]+)\.arn\}/g, (_, id: string) => `arn:aws:sqs:${regionOf(stack, stack.resource.aws_sqs_queue[id])}:${ACCOUNT}:${stack.resource.aws_sqs_queue[id].name}`)
      .replace(/\$\{aws_iam_role\.([^.}]+)\.arn\}/g, (_, id: string) => `arn:aws:iam::${ACCOUNT}:role/${stack.resource.aws_iam_role[id].name}`);
    if (resolved.includes('${')) throw new Error(`unresolved reference in a policy: ${resolved.slice(0, 300)}`);
    return resolved;
  };
}

const regionOf = (stack: Json, resource: Json): string => {
  const alias = /^aws\.(.+)$/.exec(resource.provider ?? '')?.[1];
  const provider = (stack.provider.aws as Json[]).find((p) => (alias ? p.alias === alias : !p.alias));
  return provider!.region;
};
const keyArnOf = (stack: Json, id: string) => `arn:aws:kms:${regionOf(stack, stack.resource.aws_kms_key[id])}:${ACCOUNT}:key/${id}`;

const statementsOf = (policy: string, resolve: (text: string) => string): Statement[] => {
  const statements = [JSON.parse(resolve(policy)).Statement].flat() as Statement[];
  for (const s of statements) if ('NotPrincipal' in s) throw new Error('NotPrincipal is not modelled');
  return statements;
};

/** Every IAM role of every stack, with its trust policy and all identity policies attached to it. */
function rolesOf(stacks: Stacks): Role[] {
  return Object.entries(stacks).flatMap(([stackName, stack]) => {
    const resolve = resolver(stack);
    const r = stack.resource ?? {};
    return Object.entries((r.aws_iam_role ?? {}) as Record<string, Json>).map(([id, role]) => {
      const refersToRole = (value: string) => value === `\${aws_iam_role.${id}.name}` || value === `\${aws_iam_role.${id}.id}` || value === role.name;
      const inline = Object.values((r.aws_iam_role_policy ?? {}) as Record<string, Json>).filter((p) => refersToRole(p.role)).flatMap((p) => statementsOf(p.policy, resolve));
      const attachments = Object.values((r.aws_iam_role_policy_attachment ?? {}) as Record<string, Json>).filter((a) => refersToRole(a.role));
      // Resolved when asked: only roles GitHub can assume are judged, and an AWS managed policy this model does not know stops the judgement.
      const attached = () =>
        attachments.flatMap((a) => {
          const own = /^\$\{aws_iam_policy\.([^.}]+)\.arn\}$/.exec(a.policy_arn);
          if (own) return statementsOf(r.aws_iam_policy[own[1]].policy, resolve);
          const managed = MANAGED_POLICIES[a.policy_arn];
          if (!managed) throw new Error(`${stackName}: role ${role.name} has ${a.policy_arn} attached, which this model does not know`);
          return managed;
        });
      if (role.managed_policy_arns || role.inline_policy) throw new Error(`${stackName}: role ${role.name} declares policies inline on the role: not modelled`);
      return {
        stack: stackName,
        name: role.name as string,
        arn: `arn:aws:iam::${ACCOUNT}:role/${role.name}`,
        trust: statementsOf(role.assume_role_policy, (t) => t),
        get identity() {
          return [...inline, ...attached()];
        },
      };
    });
  });
}

/** Whether GitHub's OIDC token with this subject (and the STS audience) may assume the role. */
function admits(stacks: Stacks, role: Role, subject: string): boolean {
  const providers = (stacks[role.stack].resource.aws_iam_openid_connect_provider ?? {}) as Record<string, Json>;
  const github = (federated: string) =>
    federated.endsWith(`:oidc-provider/${GITHUB_ISSUER}`) ||
    Object.entries(providers).some(([id, p]) => federated === `\${aws_iam_openid_connect_provider.${id}.arn}` && p.url === `https://${GITHUB_ISSUER}`);
  const trusted = role.trust.filter((s) => s.Effect === 'Deny' || (typeof s.Principal === 'object' && github(String(s.Principal.Federated ?? ''))));
  const request: Request = { action: 'sts:AssumeRoleWithWebIdentity', resource: role.arn, context: { [`${GITHUB_ISSUER}:sub`]: subject, [`${GITHUB_ISSUER}:aud`]: 'sts.amazonaws.com' } };
  return evaluate(trusted, request) === 'allow';
}

interface Probe {
  readonly what: string;
  readonly request: Request;
  /** The resource's own policy (KMS key policy, S3 bucket policy), when it has one. */
  readonly resourcePolicy?: { readonly statements: readonly Statement[]; readonly kind: 'kms' | 'other' };
}

/** Every way to a cluster secret, on the real ARNs the cluster stacks and platform-config name. */
function secretProbes(stacks: Stacks): Probe[] {
  return platform.clusters.flatMap((cluster) => {
    const n = platform.namesOf(cluster);
    const stack = stacks[n.stack];
    const resolve = resolver(stack);
    const keys = Object.entries((stack.resource.aws_kms_key ?? {}) as Record<string, Json>).map(([id, key]) => ({
      id,
      arn: keyArnOf(stack, id),
      region: regionOf(stack, key),
      policy: { statements: key.policy ? statementsOf(key.policy, resolve) : defaultKeyPolicy(ACCOUNT), kind: 'kms' as const },
    }));
    const clusterKey = keys.find((k) => k.region === cluster.region)!;
    const secureStrings = [n.ssm.joinToken, n.ssm.caCertHash, n.ssm.certificateKey, n.ssm.ciKubeconfig, n.ssm.gitCredentials].map((name) => ssmParameterArn(name, cluster.region, ACCOUNT));
    const probes: Probe[] = secureStrings.flatMap((arn) => [
      ...['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParameterHistory'].map((action) => ({ what: `${action} ${arn}`, request: { action, resource: arn } })),
      {
        what: `kms:Decrypt of ${arn} through SSM`,
        request: { action: 'kms:Decrypt', resource: clusterKey.arn, context: { 'kms:ViaService': `ssm.${cluster.region}.amazonaws.com`, 'kms:EncryptionContext:PARAMETER_ARN': arn, 'kms:CallerAccount': ACCOUNT } },
        resourcePolicy: clusterKey.policy,
      },
    ]);
    // By path, IAM authorises the path asked for: the cluster's, or any parent of it (recursive).
    const parents = n.ssmPrefix.split('/').slice(1).map((_, i, parts) => `/${parts.slice(0, i + 1).join('/')}`);
    for (const path of parents) probes.push({ what: `ssm:GetParametersByPath ${path}`, request: { action: 'ssm:GetParametersByPath', resource: ssmParameterArn(path, cluster.region, ACCOUNT) } });
    for (const key of keys) {
      for (const action of ['kms:Decrypt', 'kms:ReEncryptFrom']) {
        probes.push({ what: `${action} of any ciphertext under ${key.arn}, called directly`, request: { action, resource: key.arn, context: { 'kms:CallerAccount': ACCOUNT } }, resourcePolicy: key.policy });
      }
      // EBS snapshots of etcd volumes read block by block (ebs:GetSnapshotBlock) decrypt through EC2.
      probes.push({ what: `kms:Decrypt under ${key.arn} through EC2/EBS`, request: { action: 'kms:Decrypt', resource: key.arn, context: { 'kms:ViaService': `ec2.${key.region}.amazonaws.com`, 'kms:CallerAccount': ACCOUNT } }, resourcePolicy: key.policy });
    }
    const bucketPolicies = Object.values((stack.resource.aws_s3_bucket_policy ?? {}) as Record<string, Json>);
    // Not secrets: the node scripts (the repository's, hash-pinned) and the issuer's two public documents.
    const notSecret = new Set([n.bootstrapBucket, n.serviceAccountIssuer.bucket]);
    for (const [id, bucket] of Object.entries((stack.resource.aws_s3_bucket ?? {}) as Record<string, Json>)) {
      if (notSecret.has(bucket.bucket)) continue;
      const policy = bucketPolicies.find((p) => p.bucket === `\${aws_s3_bucket.${id}.id}` || p.bucket === `\${aws_s3_bucket.${id}.bucket}`);
      const statements = policy ? statementsOf(policy.policy, resolve) : [];
      const object = `arn:aws:s3:::${bucket.bucket}/any/object`;
      for (const action of ['s3:GetObject', 's3:GetObjectVersion']) {
        probes.push({ what: `${action} ${object}`, request: { action, resource: object, context: { 'aws:SecureTransport': 'true' } }, resourcePolicy: { statements, kind: 'other' } });
      }
      const region = regionOf(stack, bucket);
      for (const key of keys.filter((k) => k.region === region)) {
        probes.push({
          what: `kms:Decrypt of ${object} through S3`,
          request: { action: 'kms:Decrypt', resource: key.arn, context: { 'kms:ViaService': `s3.${region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${bucket.bucket}`, 'kms:CallerAccount': ACCOUNT } },
          resourcePolicy: key.policy,
        });
      }
    }
    probes.push({ what: 'secretsmanager:GetSecretValue', request: { action: 'secretsmanager:GetSecretValue', resource: `arn:aws:secretsmanager:${cluster.region}:${ACCOUNT}:secret:any-AbCdEf` } });
    // kubeadm init prints its join commands (token, certificate key) to the node's console.
    probes.push({ what: 'ec2:GetConsoleOutput of a control-plane node', request: { action: 'ec2:GetConsoleOutput', resource: `arn:aws:ec2:${cluster.region}:${ACCOUNT}:instance/i-0123456789abcdef0` } });
    probes.push({ what: 'ec2:GetConsoleScreenshot of a control-plane node', request: { action: 'ec2:GetConsoleScreenshot', resource: `arn:aws:ec2:${cluster.region}:${ACCOUNT}:instance/i-0123456789abcdef0` } });
    return probes;
  });
}

/** Changes a pull request must never be able to make (a sample across the services the stacks use). */
function writeProbes(): Probe[] {
  const cluster = platform.clusters[0];
  const n = platform.namesOf(cluster);
  const region = cluster.region;
  const state = `arn:aws:s3:::${names.stateBucket}/${n.stateKey}`;
  const calls: [string, string][] = [
    ['s3:PutObject', state],
    ['s3:DeleteObject', state],
    ['s3:PutBucketPolicy', `arn:aws:s3:::${names.stateBucket}`],
    ['ssm:PutParameter', ssmParameterArn(n.ssm.joinToken, region, ACCOUNT)],
    ['ssm:DeleteParameter', ssmParameterArn(n.ssm.initLock, region, ACCOUNT)],
    ['ssm:SendCommand', `arn:aws:ec2:${region}:${ACCOUNT}:instance/i-0123456789abcdef0`],
    ['ssm:StartSession', `arn:aws:ec2:${region}:${ACCOUNT}:instance/i-0123456789abcdef0`],
    ['kms:CreateGrant', `arn:aws:kms:${region}:${ACCOUNT}:key/any`],
    ['kms:PutKeyPolicy', `arn:aws:kms:${region}:${ACCOUNT}:key/any`],
    ['kms:ScheduleKeyDeletion', `arn:aws:kms:${region}:${ACCOUNT}:key/any`],
    ['iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/any`],
    ['iam:PutRolePolicy', `arn:aws:iam::${ACCOUNT}:role/${names.ciApplyRole}`],
    ['iam:UpdateAssumeRolePolicy', `arn:aws:iam::${ACCOUNT}:role/${names.ciApplyRole}`],
    ['iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/${n.controlPlaneRole}`],
    // No IAM user exists any more; CI must not be able to make one a key either.
    ['iam:CreateAccessKey', `arn:aws:iam::${ACCOUNT}:user/any`],
    ['iam:UpdateAssumeRolePolicy', `arn:aws:iam::${ACCOUNT}:role/${n.serviceAccountIssuer.workloadRole('postgres-backups')}`],
    ['sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/${names.ciApplyRole}`],
    ['ec2:RunInstances', `arn:aws:ec2:${region}:${ACCOUNT}:instance/*`],
    ['ec2:TerminateInstances', `arn:aws:ec2:${region}:${ACCOUNT}:instance/i-0123456789abcdef0`],
    ['ec2:AuthorizeSecurityGroupIngress', `arn:aws:ec2:${region}:${ACCOUNT}:security-group/sg-0123456789abcdef0`],
    ['autoscaling:UpdateAutoScalingGroup', `arn:aws:autoscaling:${region}:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/${n.controlPlaneAsg(cluster.availabilityZones[0])}`],
    ['elasticloadbalancing:DeleteLoadBalancer', `arn:aws:elasticloadbalancing:${region}:${ACCOUNT}:loadbalancer/net/${n.apiLoadBalancer}/0123456789abcdef`],
    ['route53:ChangeResourceRecordSets', 'arn:aws:route53:::hostedzone/Z0123456789'],
    ['fis:StartExperiment', `arn:aws:fis:${region}:${ACCOUNT}:experiment-template/EXT0123456789`],
  ];
  return calls.map(([action, resource]) => ({ what: `${action} ${resource}`, request: { action, resource } }));
}

/** What a role may do, combining its identity policies with the resource's own policy. */
function decide(role: Role, probe: Probe): Decision {
  if (!probe.resourcePolicy) return evaluate(role.identity, probe.request);
  return sameAccountDecision(role.identity, probe.resourcePolicy.statements, probe.request, { roleArn: role.arn, account: ACCOUNT }, probe.resourcePolicy.kind);
}

const granted = (role: Role, probes: readonly Probe[]) => probes.filter((p) => decide(role, p) === 'allow').map((p) => p.what);

/** Every Allow that could match an action outside the read verbs (a write, or `*`). */
function nonReadAllows(role: Role): string[] {
  return role.identity
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => (s.NotAction !== undefined ? ['NotAction'] : [s.Action ?? []].flat()))
    .filter((action) => {
      const verb = action.split(':')[1] ?? action;
      return !READ_VERBS.some((read) => verb.startsWith(read));
    });
}

function readStacks(outdir: string): Stacks {
  const dir = join(outdir, 'stacks');
  return Object.fromEntries(readdirSync(dir).map((stack) => [stack, JSON.parse(readFileSync(join(dir, stack, 'cdk.tf.json'), 'utf8'))]));
}

/** The plan role's inline policy before this change: ReadState plus decrypt of the join material through SSM. */
const PREVIOUS_PLAN_POLICY: Statement[] = [
  { Sid: 'ReadState', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetObject'], Resource: [`arn:aws:s3:::${names.stateBucket}`, `arn:aws:s3:::${names.stateBucket}/*`] },
  {
    Sid: 'RefreshSecureStrings',
    Effect: 'Allow',
    Action: 'kms:Decrypt',
    Resource: '*',
    Condition: {
      StringLike: {
        'kms:ViaService': 'ssm.*.amazonaws.com',
        'kms:EncryptionContext:PARAMETER_ARN': platform.clusters.flatMap((c) => {
          const { ssm } = platform.namesOf(c);
          return [ssm.joinToken, ssm.caCertHash, ssm.certificateKey].map((name) => `arn:aws:ssm:*:*:parameter${name}`);
        }),
      },
    },
  },
];

describe('what each GitHub OIDC role can read (synthesized stacks, IAM semantics)', () => {
  const outdir = join(mkdtempSync(join(tmpdir(), 'infra-ci-permissions-')), 'cdktf.out');
  let stacks: Stacks;
  let roles: Role[];
  let secrets: Probe[];
  const role = (name: string) => roles.find((r) => r.name === name)!;

  beforeAll(async () => {
    await synthInfra(outdir);
    stacks = readStacks(outdir);
    roles = rolesOf(stacks);
    secrets = secretProbes(stacks);
  }, 120_000);
  afterAll(() => rmSync(join(outdir, '..'), { recursive: true, force: true }));

  it('finds the roles a pull request can assume: exactly the plan role', () => {
    const assumable = roles.filter((r) => PR_AUTHOR_SUBJECTS.some((subject) => admits(stacks, r, subject))).map((r) => r.name);
    expect(assumable).toEqual([names.ciPlanRole]);
    // Reviewed code only: main (drift) and the protected environment (apply).
    expect(roles.filter((r) => admits(stacks, r, PROTECTED_SUBJECTS[0])).map((r) => r.name)).toEqual([names.ciDriftRole]);
    expect(roles.filter((r) => admits(stacks, r, PROTECTED_SUBJECTS[1])).map((r) => r.name)).toEqual([names.ciApplyRole]);
    // The fence's own environment reaches the fence role only, and no other subject reaches it.
    expect(roles.filter((r) => admits(stacks, r, FENCE_SUBJECT)).map((r) => r.name)).toEqual([names.ciFenceRole]);
    for (const subject of [...PR_AUTHOR_SUBJECTS, ...PROTECTED_SUBJECTS]) expect(admits(stacks, role(names.ciFenceRole), subject), subject).toBe(false);
  });

  it('gives no role a pull request can assume, nor the drift role, any secret: join material, SecureStrings, keys, backups', () => {
    const readOnly = roles.filter((r) => [...PR_AUTHOR_SUBJECTS, PROTECTED_SUBJECTS[0]].some((subject) => admits(stacks, r, subject)));
    expect(readOnly.map((r) => r.name).sort()).toEqual([names.ciDriftRole, names.ciPlanRole].sort());
    for (const r of readOnly) expect(granted(r, secrets), r.name).toEqual([]);
    // The probes are real and reachable: the apply role (administrator) gets them, the join material among them.
    const apply = granted(role(names.ciApplyRole), secrets);
    const { ssm } = platform.namesOf('production');
    expect(apply).toContain(`kms:Decrypt of ${ssmParameterArn(ssm.certificateKey, platform.cluster('production').region, ACCOUNT)} through SSM`);
    expect(secrets.length).toBeGreaterThan(100);
  });

  it('lets them write nothing', () => {
    for (const name of [names.ciPlanRole, names.ciDriftRole]) {
      expect(granted(role(name), writeProbes()), name).toEqual([]);
      expect(nonReadAllows(role(name)), name).toEqual([]);
    }
    expect(granted(role(names.ciApplyRole), writeProbes())).toHaveLength(writeProbes().length);
  });

  it('still lets them plan: read every state object (SSE under aws/s3, decrypted by S3) and describe what the stacks manage', () => {
    const region = settings.state.region;
    const awsS3Key = { statements: awsManagedKeyPolicy(ACCOUNT, 's3', region), kind: 'kms' as const };
    for (const name of [names.ciPlanRole, names.ciDriftRole]) {
      for (const stack of Object.keys(stacks)) {
        const object = `arn:aws:s3:::${names.stateBucket}/${names.stateKey(stack)}`;
        expect(decide(role(name), { what: object, request: { action: 's3:GetObject', resource: object } }), `${name} ${object}`).toBe('allow');
      }
      const stateDecrypt: Probe = {
        what: 'state decrypt',
        request: { action: 'kms:Decrypt', resource: `arn:aws:kms:${region}:${ACCOUNT}:key/aws-s3`, context: { 'kms:ViaService': `s3.${region}.amazonaws.com`, 'kms:CallerAccount': ACCOUNT } },
        resourcePolicy: awsS3Key,
      };
      expect(decide(role(name), stateDecrypt), name).toBe('allow');
      // A refresh of the cluster stacks' resources: describe calls, key metadata, bucket settings, IAM.
      const key = `arn:aws:kms:${region}:${ACCOUNT}:key/any`;
      for (const [action, resource] of [
        ['ec2:DescribeInstances', '*'],
        ['kms:DescribeKey', key],
        ['kms:GetKeyPolicy', key],
        ['kms:GetKeyRotationStatus', key],
        ['kms:ListResourceTags', key],
        ['ssm:DescribeParameters', '*'],
        ['s3:GetBucketPolicy', `arn:aws:s3:::${platform.namesOf('production').etcdBackupBucket}`],
        ['s3:GetEncryptionConfiguration', `arn:aws:s3:::${platform.namesOf('production').appBackupBucket}`],
        ['iam:GetRole', `arn:aws:iam::${ACCOUNT}:role/${names.ciApplyRole}`],
        ['iam:GetRolePolicy', `arn:aws:iam::${ACCOUNT}:role/${names.ciApplyRole}`],
      ]) {
        expect(evaluate(role(name).identity, { action, resource }), `${name} ${action}`).toBe('allow');
      }
    }
  });

  /** The plan key of the ci-identity stack, found by platform-config's alias, with its key policy. */
  function planKey(): { arn: string; policy: { statements: Statement[]; kind: 'kms' } } {
    const stack = stacks[names.ciIdentityStack];
    const alias = Object.values(stack.resource.aws_kms_alias as Record<string, Json>).find((a) => a.name === planArtifactKeyAlias(settings))!;
    const id = /^\$\{aws_kms_key\.([^.}]+)\.key_id\}$/.exec(alias.target_key_id)![1]!;
    return { arn: keyArnOf(stack, id), policy: { statements: statementsOf(stack.resource.aws_kms_key[id].policy, resolver(stack)), kind: 'kms' } };
  }
  /** The two uses of the plan key, with and without the context the pipeline sends (plan-artifact.ts). */
  function planKeyProbes(): Probe[] {
    const key = planKey();
    const context = { [`kms:EncryptionContext:${PLAN_ARTIFACT_KEY_CONTEXT.key}`]: PLAN_ARTIFACT_KEY_CONTEXT.value, 'kms:CallerAccount': ACCOUNT };
    return ['kms:GenerateDataKey', 'kms:Decrypt'].flatMap((action) => [
      { what: `${action} plan key`, request: { action, resource: key.arn, context }, resourcePolicy: key.policy },
      { what: `${action} plan key without the context`, request: { action, resource: key.arn, context: { 'kms:CallerAccount': ACCOUNT } }, resourcePolicy: key.policy },
    ]);
  }

  it('lets only the drift role seal approved plans and only the apply role open them; no role a pull request can assume does either', () => {
    const prReachable = roles.filter((r) => PR_AUTHOR_SUBJECTS.some((subject) => admits(stacks, r, subject)));
    expect(prReachable.length).toBeGreaterThan(0);
    for (const r of prReachable) expect(granted(r, planKeyProbes()), r.name).toEqual([]);
    expect(granted(role(names.ciDriftRole), planKeyProbes())).toEqual(['kms:GenerateDataKey plan key']);
    expect(granted(role(names.ciApplyRole), planKeyProbes())).toEqual(['kms:Decrypt plan key']);
    expect(granted(role(names.ciFenceRole), planKeyProbes())).toEqual([]);
    // Would fail if a pull request reached a role that may open plans: the apply role's grant
    // under the plan role's trust is judged like any PR-assumable role, and is caught.
    const misTrusted: Role = { ...role(names.ciApplyRole), trust: role(names.ciPlanRole).trust };
    expect(PR_AUTHOR_SUBJECTS.some((subject) => admits(stacks, misTrusted, subject))).toBe(true);
    expect(granted(misTrusted, planKeyProbes())).toContain('kms:Decrypt plan key');
    // And the key policy is what keeps AdministratorAccess out: under KMS's default policy
    // (the account root delegates to IAM) the apply role could also seal.
    const delegated = planKeyProbes().map((p) => ({ ...p, resourcePolicy: { statements: defaultKeyPolicy(ACCOUNT), kind: 'kms' as const } }));
    expect(granted(role(names.ciApplyRole), delegated)).toContain('kms:GenerateDataKey plan key');
  });

  it('lets the fence role read the promoted markers and the failover kubeconfigs, and nothing else: no other secret, no write', () => {
    const fence = role(names.ciFenceRole);
    const kubeconfigReads = ['production', 'dr'].flatMap((cluster) => {
      const arn = ssmParameterArn(platform.namesOf(cluster).ssm.ciKubeconfig, platform.cluster(cluster).region, ACCOUNT);
      return [`ssm:GetParameter ${arn}`, `kms:Decrypt of ${arn} through SSM`];
    });
    expect(granted(fence, secrets).sort()).toEqual(kubeconfigReads.sort());
    const dr = platform.cluster('dr');
    const marker = ssmParameterArn(platform.namesOf('dr').ssm.promotedMarker, dr.region, ACCOUNT);
    expect(evaluate(fence.identity, { action: 'ssm:GetParameter', resource: marker })).toBe('allow');
    expect(granted(fence, writeProbes())).toEqual([]);
    for (const [action, resource] of [
      ['ssm:PutParameter', marker],
      ['ssm:DeleteParameter', marker],
      ['ssm:GetParameter', ssmParameterArn(platform.namesOf('staging').ssm.ciKubeconfig, platform.cluster('staging').region, ACCOUNT)],
      ['ssm:GetParameter', ssmParameterArn(platform.namesOf('production').ssm.joinToken, platform.cluster('production').region, ACCOUNT)],
      ['s3:GetObject', `arn:aws:s3:::${names.stateBucket}/any`],
      ['ec2:DescribeInstances', '*'],
    ] as const) {
      expect(evaluate(fence.identity, { action, resource }), `${action} ${resource}`).toBe('implicit-deny');
    }
    const allowed = fence.identity.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action ?? []].flat());
    expect(allowed.sort()).toEqual(['kms:Decrypt', 'ssm:GetParameter']);
  });

  it('lets only the app-release environment assume the release role, which signs in to ECR and reads nothing else: no secret, no write, no state', () => {
    const release = role(names.ciReleaseRole);
    expect(roles.filter((r) => admits(stacks, r, RELEASE_SUBJECT)).map((r) => r.name)).toEqual([names.ciReleaseRole]);
    for (const subject of [...PR_AUTHOR_SUBJECTS, ...PROTECTED_SUBJECTS, FENCE_SUBJECT, `repo:${repo}:environment:${names.ciFailoverEnvironment}`]) {
      expect(admits(stacks, release, subject), subject).toBe(false);
    }
    expect(release.trust.map((t) => t.Condition)).toEqual([{ StringEquals: { [`${GITHUB_ISSUER}:aud`]: 'sts.amazonaws.com', [`${GITHUB_ISSUER}:sub`]: [RELEASE_SUBJECT] } }]);
    expect(granted(release, secrets)).toEqual([]);
    expect(granted(release, writeProbes())).toEqual([]);
    expect(granted(release, planKeyProbes())).toEqual([]);
    expect(evaluate(release.identity, { action: 'ecr:GetAuthorizationToken', resource: '*' })).toBe('allow');
    // The shipped catalog has no app on a private ECR: no repository is readable, and no push anywhere.
    const repository = `arn:aws:ecr:${settings.state.region}:${ACCOUNT}:repository/any`;
    for (const action of ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:CompleteLayerUpload']) {
      expect(evaluate(release.identity, { action, resource: repository }), action).toBe('implicit-deny');
    }
    expect(evaluate(release.identity, { action: 's3:GetObject', resource: `arn:aws:s3:::${names.stateBucket}/any` })).toBe('implicit-deny');
    expect(release.identity.filter((st) => st.Effect === 'Allow').flatMap((st) => [st.Action ?? []].flat())).toEqual(['ecr:GetAuthorizationToken']);
  });

  it('lets the role region-failover.yml assumes make every AWS call of the failover tool (scanned from its code), on the real resources', () => {
    const root = join(__dirname, '..', '..', '..');
    // The role: the output of pipeline:role-variables the workflow's credentials step names.
    const wf = parse(readFileSync(join(root, '.github/workflows/region-failover.yml'), 'utf8')) as { jobs: Record<string, { steps?: { uses?: string; with?: Record<string, string> }[] }> };
    const assumed = Object.values(wf.jobs).flatMap((j) => j.steps ?? []).filter((st) => st.uses?.startsWith('aws-actions/configure-aws-credentials@')).map((st) => /outputs\.([a-z_]+)/.exec(st.with?.['role-to-assume'] ?? '')?.[1]);
    expect(assumed).toHaveLength(1);
    const roleName = {
      [CI_IDENTITY_STACK_OUTPUTS.applyRoleArn]: names.ciApplyRole,
      [CI_IDENTITY_STACK_OUTPUTS.fenceRoleArn]: names.ciFenceRole,
      [CI_IDENTITY_STACK_OUTPUTS.driftRoleArn]: names.ciDriftRole,
      [CI_IDENTITY_STACK_OUTPUTS.planRoleArn]: names.ciPlanRole,
      [CI_IDENTITY_STACK_OUTPUTS.failoverRoleArn]: names.ciFailoverRole,
      [CI_IDENTITY_STACK_OUTPUTS.releaseRoleArn]: names.ciReleaseRole,
    }[assumed[0]!];
    // Its own role, not the administrator apply role: the grants below are what it has.
    expect(roleName).toBe(names.ciFailoverRole);
    expect(roleName, `role-to-assume ${assumed[0]}`).toBeDefined();
    const failover = role(roleName!);
    const { calls, unparsed } = scanFailoverAwsCalls(root);
    // Every aws child process is a literal ['<service>', '<command>', ...]: nothing escapes the scan.
    expect(unparsed).toEqual([]);
    const table = failoverRequests(platform, ACCOUNT);
    const commands = [...new Set(calls.map((c) => c.command))].sort();
    // The route53 health-check reads and the ASG update are among them (the scan finds real calls).
    expect(commands).toEqual(expect.arrayContaining(['route53 get-health-check', 'route53 get-health-check-status', 'autoscaling update-auto-scaling-group', 'ssm get-parameter']));
    expect(commands.filter((c) => !(c in table)), 'calls with no IAM mapping: add them to failover-aws-calls.ts').toEqual([]);
    expect(Object.keys(table).filter((c) => !commands.includes(c)).sort(), 'mapped commands the tool no longer makes').toEqual([]);
    const denied: string[] = [];
    for (const command of commands) {
      const requests = table[command]!;
      if (requests === 'none') continue;
      for (const request of requests) {
        expect(request.resources.length, `${command}: ${request.action} on no resource`).toBeGreaterThan(0);
        for (const resource of request.resources) {
          if (evaluate(failover.identity, { action: request.action, resource }) !== 'allow') denied.push(`${request.action} ${resource} (${command})`);
          if (request.decryptsThroughSsm) {
            const region = resource.split(':')[3]!;
            const decrypt: Request = { action: 'kms:Decrypt', resource: `arn:aws:kms:${region}:${ACCOUNT}:key/any`, context: { 'kms:ViaService': `ssm.${region}.amazonaws.com`, 'kms:EncryptionContext:PARAMETER_ARN': resource } };
            if (evaluate(failover.identity, decrypt) !== 'allow') denied.push(`kms:Decrypt of ${resource} through SSM (${command})`);
          }
        }
      }
    }
    expect(denied).toEqual([]);
    // Exactly those: no secret but the failover kubeconfigs, and nothing beyond the table's actions.
    const kubeconfigReads = ['production', 'dr'].flatMap((cluster) => {
      const arn = ssmParameterArn(platform.namesOf(cluster).ssm.ciKubeconfig, platform.cluster(cluster).region, ACCOUNT);
      return [`ssm:GetParameter ${arn}`, `kms:Decrypt of ${arn} through SSM`];
    });
    expect(granted(failover, secrets).sort()).toEqual(kubeconfigReads.sort());
    const tableActions = [...new Set(Object.values(table).flatMap((r) => (r === 'none' ? [] : r.map((q) => q.action))))];
    const allowedActions = failover.identity.filter((st) => st.Effect === 'Allow').flatMap((st) => [st.Action ?? []].flat());
    expect(allowedActions.filter((a) => a !== 'kms:Decrypt' && !tableActions.includes(a)), 'granted actions the tool never calls').toEqual([]);
    for (const [action, resource] of [
      ['autoscaling:UpdateAutoScalingGroup', `arn:aws:autoscaling:${platform.cluster('staging').region}:${ACCOUNT}:autoScalingGroup:any:autoScalingGroupName/${platform.namesOf('staging').workerAsg(platform.cluster('staging').workerPools[0]!, platform.cluster('staging').availabilityZones[0]!)}`],
      ['ssm:PutParameter', ssmParameterArn(platform.namesOf('production').ssm.joinToken, platform.cluster('production').region, ACCOUNT)],
      ['s3:GetObject', `arn:aws:s3:::${platform.namesOf('production').appBackupBucket}/any`],
      ['route53:ChangeResourceRecordSets', 'arn:aws:route53:::hostedzone/ZOTHERZONE'],
      ['iam:PassRole', '*'],
    ] as const) {
      expect(evaluate(failover.identity, { action, resource }), `${action} ${resource}`).toBe('implicit-deny');
    }
    // The evaluation can fail: the scheduled fence's role makes none of the mutating calls.
    const fence = role(names.ciFenceRole);
    expect(evaluate(fence.identity, { action: 'route53:GetHealthCheck', resource: 'arn:aws:route53:::healthcheck/any' })).toBe('implicit-deny');
    expect(evaluate(fence.identity, { action: 'autoscaling:UpdateAutoScalingGroup', resource: (table['autoscaling update-auto-scaling-group'] as readonly FailoverRequest[])[0]!.resources[0]! })).toBe('implicit-deny');
  });

  it('would have failed before: the previous plan role decrypted every cluster\'s join material through SSM', () => {
    const plan = role(names.ciPlanRole);
    const managed = MANAGED_POLICIES['arn:aws:iam::aws:policy/ReadOnlyAccess'];
    const previous: Role = { ...plan, identity: [...managed, ...PREVIOUS_PLAN_POLICY] };
    const leaks = granted(previous, secrets);
    for (const cluster of platform.clusters) {
      const { ssm } = platform.namesOf(cluster);
      for (const name of [ssm.joinToken, ssm.caCertHash, ssm.certificateKey]) expect(leaks).toContain(`kms:Decrypt of ${ssmParameterArn(name, cluster.region, ACCOUNT)} through SSM`);
    }
    // ReadOnlyAccess alone also reached the backup objects, Secrets Manager and the nodes' consoles.
    expect(leaks).toContain(`s3:GetObject arn:aws:s3:::${platform.namesOf('production').etcdBackupBucket}/any/object`);
    expect(leaks).toContain('ec2:GetConsoleOutput of a control-plane node');
    expect(leaks).toContain('secretsmanager:GetSecretValue');
  });

  it('needs each deny of the plan policy: without it ReadOnlyAccess reaches a secret again', () => {
    const plan = role(names.ciPlanRole);
    const denies = plan.identity.filter((s) => s.Effect === 'Deny');
    expect(denies.map((s) => s.Sid)).toEqual(['NoDecryptButS3', 'NoClusterParameters', 'NoParameterTrees', 'NoBackupObjects', 'NoSecretValues', 'NoConsoles']);
    for (const dropped of denies.filter((s) => s.Sid !== 'NoDecryptButS3')) {
      const without: Role = { ...plan, identity: plan.identity.filter((s) => s !== dropped) };
      expect(granted(without, secrets), dropped.Sid).not.toEqual([]);
    }
    // The decrypt deny is the backstop if a grant ever appears: with the old decrypt grant added, it still holds.
    const withOldGrant: Role = { ...plan, identity: [...plan.identity, ...PREVIOUS_PLAN_POLICY] };
    expect(granted(withOldGrant, secrets)).toEqual([]);
  });
});

describe('iam-model semantics (the evaluator the test above relies on)', () => {
  it('matches actions case-insensitively with wildcards, resources case-sensitively', () => {
    expect(wildcard('ssm:Get*', 'SSM:GetParameter', true)).toBe(true);
    expect(wildcard('arn:aws:ssm:*:*:parameter/a/*', 'arn:aws:ssm:r:1:parameter/A/b')).toBe(false);
    expect(wildcard('s3.?.amazonaws.com', 's3.x.amazonaws.com')).toBe(true);
  });
  it('lets a Deny win over an Allow, and treats a missing key as satisfying a negated operator', () => {
    const statements: Statement[] = [
      { Effect: 'Allow', Action: 'kms:*', Resource: '*' },
      { Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*', Condition: { StringNotLike: { 'kms:ViaService': 's3.*.amazonaws.com' } } },
    ];
    expect(evaluate(statements, { action: 'kms:Decrypt', resource: 'k' })).toBe('deny');
    expect(evaluate(statements, { action: 'kms:Decrypt', resource: 'k', context: { 'kms:ViaService': 'ssm.r.amazonaws.com' } })).toBe('deny');
    expect(evaluate(statements, { action: 'kms:Decrypt', resource: 'k', context: { 'kms:ViaService': 's3.r.amazonaws.com' } })).toBe('allow');
  });
  it('honours NotAction and refuses an operator it does not model', () => {
    expect(statementApplies({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }, { action: 'kms:Decrypt', resource: 'k' })).toBe(true);
    expect(() => statementApplies({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericLessThan: { 'aws:x': '1' } } }, { action: 'a:b', resource: 'r', context: { 'aws:x': '0' } })).toThrow(
      'iam-model: condition operator NumericLessThan is not modelled',
    );
  });
  it('needs the key policy to delegate to IAM before an identity grant of a KMS key counts', () => {
    const identity: Statement[] = [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }];
    const request = { action: 'kms:Decrypt', resource: 'arn:aws:kms:r:1:key/k' };
    const principal = { roleArn: `arn:aws:iam::${ACCOUNT}:role/r`, account: ACCOUNT };
    expect(sameAccountDecision(identity, defaultKeyPolicy(ACCOUNT), request, principal, 'kms')).toBe('allow');
    expect(sameAccountDecision(identity, [], request, principal, 'kms')).toBe('implicit-deny');
    expect(sameAccountDecision([], [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*' }], request, principal, 'kms')).toBe('allow');
  });
});
