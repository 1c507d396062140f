import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVES, formatMarkdown, runHaCheck } from '../src';
import { syntheticCiIdentity } from '../bench/synthetic-ci-identity';
import { tempDir, writeFixture } from './helpers';

const REPO = 'acme/platform';
const trust = (op: 'StringEquals' | 'StringLike', sub: string | string[]): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: '${aws_iam_openid_connect_provider.github.arn}' }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' }, [op]: { 'token.actions.githubusercontent.com:sub': sub } } }] });
const decryptJoinMaterial = { Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', Condition: { StringLike: { 'kms:ViaService': 'ssm.*.amazonaws.com', 'kms:EncryptionContext:PARAMETER_ARN': 'arn:aws:ssm:*:*:parameter/hakube/*/kubeadm/*' } } };

/** A CI identity stack: one role, its trust and policies. */
function ciStack(role: { trust: string; inline?: object[]; managed?: string[] }, extra: Record<string, object> = {}): string {
  const dir = join(tempDir(), 'ci-identity');
  mkdirSync(dir, { recursive: true });
  const resource = {
    aws_iam_openid_connect_provider: { github: { url: 'https://token.actions.githubusercontent.com', client_id_list: ['sts.amazonaws.com'] } },
    aws_iam_role: { plan: { name: 'ci-plan', assume_role_policy: role.trust } },
    ...(role.inline ? { aws_iam_role_policy: { plan: { name: 'plan', role: '${aws_iam_role.plan.name}', policy: JSON.stringify({ Version: '2012-10-17', Statement: role.inline }) } } } : {}),
    aws_iam_role_policy_attachment: Object.fromEntries((role.managed ?? []).map((arn, i) => [`a${i}`, { role: '${aws_iam_role.plan.name}', policy_arn: arn }])),
    ...extra,
  };
  writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify({ provider: { aws: [{ region: 'ap-northeast-2' }] }, resource }));
  return dir;
}
const check = (ci: string, objectives = DEFAULT_OBJECTIVES) => {
  const f = writeFixture({ name: 'production' });
  return runHaCheck({ terraform: [f.terraform], manifests: f.manifests, objectives, cluster: 'production', ciIdentityTerraform: [ci] });
};
const ciFindings = (r: ReturnType<typeof check>) => r.findings.filter((f) => f.id.startsWith('ci.'));

describe('CI identities', () => {
  it('a PR-assumable role with decrypt on the join material (ReadOnlyAccess reads the parameter, the inline policy decrypts it) is an error', () => {
    const report = check(ciStack({ trust: trust('StringEquals', [`repo:${REPO}:pull_request`]), inline: [decryptJoinMaterial], managed: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }));
    expect(report.ciIdentities?.[0]).toMatchObject({ role: 'ci-plan', assumableBy: ['pull_request'] });
    expect(report.ciIdentities?.[0].can).toContain('read and decrypt /hakube/production/kubeadm/join-token');
    const [f] = ciFindings(report);
    expect(f).toMatchObject({ id: 'ci.pr-can-read-secret', severity: 'error', subject: 'ci-plan' });
    expect(f.message).toMatch(/can be assumed by pull_request .* read and decrypt \/hakube\/production\/kubeadm\/join-token \(arn:aws:iam::aws:policy\/ReadOnlyAccess \+ plan\)/);
  });

  it("a PR-assumable role that reads the pair's CI kubeconfig (cluster credentials) is an error", () => {
    const dr = defaultPlatform().clusters.find((c) => c.name === 'dr');
    const kubeconfig = defaultPlatform().namesOf('dr').ssm.ciKubeconfig;
    const arn = `arn:aws:ssm:${dr?.region}:111111111111:parameter${kubeconfig}`;
    const read = [
      { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: arn },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:EncryptionContext:PARAMETER_ARN': arn } } },
    ];
    const report = check(ciStack({ trust: trust('StringEquals', `repo:${REPO}:pull_request`), inline: read }), { ...DEFAULT_OBJECTIVES, standbyCluster: 'dr' });
    expect(report.ciIdentities?.[0].can).toEqual([`read and decrypt ${kubeconfig}`]);
    expect(ciFindings(report)).toMatchObject([{ id: 'ci.pr-can-read-secret', severity: 'error', subject: 'ci-plan' }]);
    expect(ciFindings(report)[0].message).toContain(`read and decrypt ${kubeconfig} (plan)`);
  });

  it('a wildcard environment subject (environment:prod*) admits any branch: GitHub creates a named environment unprotected on first reference', () => {
    const report = check(ciStack({ trust: trust('StringLike', `repo:${REPO}:environment:prod*`), managed: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }));
    expect(report.ciIdentities?.[0].assumableBy).toEqual(['environment prod*', 'any branch']);
    expect(ciFindings(report)).toMatchObject([{ id: 'ci.pr-can-read-secret', severity: 'error', subject: 'ci-plan' }]);
    expect(ciFindings(report)[0].message).toMatch(/^ci-plan can be assumed by any branch \(sub repo:acme\/platform:environment:prod\*\) and can read objects of /);
    // The exact environment is judged protected (its rules are GitHub's, stated in the report); `?` is a wildcard too.
    expect(check(ciStack({ trust: trust('StringEquals', `repo:${REPO}:environment:production`), managed: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] })).ciIdentities?.[0].assumableBy).toEqual(['environment production']);
    expect(check(ciStack({ trust: trust('StringLike', `repo:${REPO}:environment:pro?uction`), managed: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] })).ciIdentities?.[0].assumableBy).toContain('any branch');
  });

  it('an explicit Deny wins over ReadOnlyAccess: a PR role kept off the secrets passes', () => {
    const deny = { Effect: 'Deny', Action: ['ssm:GetParameter*', 's3:GetObject*', 'kms:Decrypt'], Resource: '*' };
    const report = check(ciStack({ trust: trust('StringEquals', `repo:${REPO}:pull_request`), inline: [decryptJoinMaterial, deny], managed: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }));
    expect(report.ciIdentities?.[0].can).toEqual([]);
    expect(ciFindings(report)).toEqual([]);
  });

  it('main-only and environment roles may hold secrets; a StringLike wildcard subject lets pull requests in', () => {
    const mainOnly = check(ciStack({ trust: trust('StringEquals', `repo:${REPO}:ref:refs/heads/main`), managed: ['arn:aws:iam::aws:policy/AdministratorAccess'] }));
    expect(mainOnly.ciIdentities?.[0].assumableBy).toEqual(['main']);
    expect(ciFindings(mainOnly)).toEqual([]);
    // StringEquals does not expand wildcards: a literal `*` admits nobody else.
    const literal = check(ciStack({ trust: trust('StringEquals', `repo:${REPO}:*`), managed: ['arn:aws:iam::aws:policy/AdministratorAccess'] }));
    expect(literal.ciIdentities?.[0].assumableBy).toEqual([]);
    const wild = check(ciStack({ trust: trust('StringLike', `repo:${REPO}:*`), managed: ['arn:aws:iam::aws:policy/AdministratorAccess'] }));
    expect(wild.ciIdentities?.[0].assumableBy).toEqual(['pull_request', 'any branch', 'main']);
    expect(ciFindings(wild).map((f) => [f.id, f.severity])).toEqual([
      ['ci.pr-can-read-secret', 'error'],
      ['ci.wildcard-subject', 'warning'],
    ]);
    expect(ciFindings(wild)[0].message).toMatch(/write \(s3:PutObject\) \(arn:aws:iam::aws:policy\/AdministratorAccess\)/);
  });

  it('reading the state is a secret read only when the state holds a secret (a plan must read it)', () => {
    const deny = { Effect: 'Deny', Action: ['ssm:GetParameter*', 'kms:Decrypt'], Resource: '*' };
    const denyBackups = { Effect: 'Deny', Action: 's3:GetObject*', Resource: 'arn:aws:s3:::hakube-*-backups-*/*' };
    const role = { trust: trust('StringEquals', `repo:${REPO}:pull_request`), inline: [deny, denyBackups], managed: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] };
    const clean = check(ciStack(role));
    expect(clean.ciIdentities?.[0].can.some((c) => c.startsWith('read Terraform state'))).toBe(true);
    expect(ciFindings(clean)).toEqual([]);
    // Terraform stores an access key's secret in state whatever `sensitive` says.
    const leaky = check(ciStack(role, { aws_iam_access_key: { backup: { user: 'backup' } } }));
    const [f] = ciFindings(leaky);
    expect(f).toMatchObject({ id: 'ci.pr-can-read-secret', severity: 'error', subject: 'ci-plan' });
    expect(f.message).toContain(`read Terraform state in ${defaultPlatform().names.stateBucket} (it holds ci-identity/aws_iam_access_key.backup (secret access key))`);
  });

  it('the Markdown report has a row per CI role: who can assume it (the OIDC subject patterns) and its sensitive access', () => {
    const leaky = formatMarkdown(check(ciStack({ trust: trust('StringEquals', [`repo:${REPO}:pull_request`]), inline: [decryptJoinMaterial], managed: ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::111111111111:policy/custom'] })));
    expect(leaky).toContain('#### CI roles');
    const row = leaky.split('\n').find((l) => l.startsWith('| `ci-plan` |'));
    expect(row).toBe(
      `| \`ci-plan\` | pull_request | \`repo:acme/platform:pull_request\` | read and decrypt /hakube/production/kubeadm/join-token; read and decrypt /hakube/production/kubeadm/ca-cert-hash; read and decrypt /hakube/production/kubeadm/certificate-key; read objects of hakube-production-etcd-backups-ap-northeast-2; read objects of hakube-production-app-backups-ap-northeast-2; read objects of ${defaultPlatform().namesOf('production').appWalArchive.bucket}; read Terraform state in ${defaultPlatform().names.stateBucket} | arn:aws:iam::111111111111:policy/custom |`,
    );
    const kept = formatMarkdown(check(ciStack({ trust: trust('StringEquals', `repo:${REPO}:environment:production`), managed: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] })));
    expect(kept.split('\n').find((l) => l.startsWith('| `ci-plan` |'))).toMatch(/^\| `ci-plan` \| environment production \| `repo:acme\/platform:environment:production` \| read objects of /);
    expect(kept).toContain('An exact environment keeps other branches out only through its protection rules (required reviewers, deployment branches), which GitHub holds and this Terraform does not show');
  });

  it('the platform-shaped CI identity stack (bench generator, platform-config names): five roles, only the environments and main reach secrets', () => {
    const dir = join(tempDir(), 'ci-identity');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify(syntheticCiIdentity()));
    const report = check(dir, { ...DEFAULT_OBJECTIVES, standbyCluster: 'dr' });
    const names = defaultPlatform().names;
    expect(report.ciIdentities?.map((r) => [r.role, r.assumableBy])).toEqual([
      [names.ciPlanRole, ['pull_request']],
      [names.ciDriftRole, ['main']],
      [names.ciApplyRole, [`environment ${names.ciSubjects.apply[0].split(':environment:')[1]}`]],
      [names.ciFenceRole, [`environment ${names.ciFenceEnvironment}`]],
      [names.ciFailoverRole, [`environment ${names.ciSubjects.failover[0].split(':environment:')[1]}`]],
    ]);
    // The fence and failover roles DO read the CI kubeconfigs (cluster credentials) of the pair: fine behind an environment.
    for (const role of [names.ciFenceRole, names.ciFailoverRole]) {
      expect(report.ciIdentities?.find((r) => r.role === role)?.can).toEqual(['production', 'dr'].map((c) => `read and decrypt ${defaultPlatform().namesOf(c).ssm.ciKubeconfig}`));
    }
    expect(ciFindings(report)).toEqual([]);
    // Reading the state is what a plan does; it holds no secret here, so it is listed, not judged.
    expect(formatMarkdown(report)).toContain(`| \`${names.ciPlanRole}\` | pull_request | \`${names.ciSubjects.plan[0]}\` | read Terraform state in ${names.stateBucket} | - |`);
  });
});
