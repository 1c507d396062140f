import { Testing } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { APP_CATALOG, loadPlatform, platformInput } from '@platform/platform-config';
import { CiIdentityStack, GithubCiRoles, ReleaseRole, secretLocations, StateBackend } from '../src';
import { fenceParameters } from '../src/ci-identity-stack';
import { PLAN_KEY_ADMIN_ACTIONS, PlanArtifactKey } from '../src/ci-identity/plan-artifact-key';
import { bareStack, platform, Synth, synthStack, type Attributes } from './support';

describe('CiIdentityStack', () => {
  const shipped = platform();
  const synth = synthStack(new CiIdentityStack(Testing.app(), 'ci-identity', { platform: shipped }));
  const role = (name: string) => synth.values('aws_iam_role').find((r) => r.name === name) as Attributes;
  const trust = (name: string) => Synth.policy(role(name).assume_role_policy).Statement[0];

  it('trusts GitHub OIDC tokens for sts.amazonaws.com only', () => {
    const [provider] = synth.values('aws_iam_openid_connect_provider');
    expect(provider).toMatchObject({ url: 'https://token.actions.githubusercontent.com', client_id_list: ['sts.amazonaws.com'] });
  });

  it('trusts the plan role for this repository\'s pull requests only', () => {
    expect(trust('hakube-github-plan')).toEqual({
      Effect: 'Allow',
      Principal: { Federated: expect.stringMatching(/^\$\{aws_iam_openid_connect_provider\..*\.arn\}$/) },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': ['repo:hakube-platform/ha-kube-platform:pull_request'] } },
    });
  });

  it('trusts the drift role for runs on the main branch only, with the plan role\'s read-only grant', () => {
    expect(trust('hakube-github-drift').Condition.StringEquals['token.actions.githubusercontent.com:sub']).toEqual(['repo:hakube-platform/ha-kube-platform:ref:refs/heads/main']);
    expect(trust('hakube-github-drift').Condition.StringEquals['token.actions.githubusercontent.com:sub']).toEqual(shipped.names.ciSubjects.drift);
    const attachments = synth.values('aws_iam_role_policy_attachment');
    expect(attachments.filter((a) => a.role.includes('drift-role')).map((a) => a.policy_arn)).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
    const inline = synth.values('aws_iam_role_policy');
    const of = (role: string) => inline.find((p) => p.role.includes(role)) as Attributes;
    expect(Synth.policy(of('drift-role').policy)).toEqual(Synth.policy(of('plan-role').policy));
  });

  it('gives each role a session that covers its workflow jobs: plan and drift 1 h, apply 6 h (a hosted job\'s limit)', () => {
    expect(role('hakube-github-plan').max_session_duration).toBe(3600);
    expect(role('hakube-github-drift').max_session_duration).toBe(3600);
    expect(role('hakube-github-apply').max_session_duration).toBe(21600);
  });

  it('trusts the release role for the app-release environment only (exact sub, STS audience), and lets it sign in to ECR and nothing else while no app is on ECR', () => {
    expect(trust('hakube-github-release')).toEqual({
      Effect: 'Allow',
      Principal: { Federated: expect.stringMatching(/^\$\{aws_iam_openid_connect_provider\..*\.arn\}$/) },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': ['repo:hakube-platform/ha-kube-platform:environment:app-release'] } },
    });
    expect(shipped.names.ciSubjects.release).toEqual(['repo:hakube-platform/ha-kube-platform:environment:app-release']);
    expect(role('hakube-github-release').max_session_duration).toBe(3600);
    const policy = synth.values('aws_iam_role_policy').find((p) => p.name === 'app-release') as Attributes;
    expect(policy.role).toMatch(/^\$\{aws_iam_role\.release_role_.*\.name\}$/);
    expect(Synth.policy(policy.policy).Statement).toEqual([{ Sid: 'EcrSignIn', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }]);
    expect(synth.values('aws_iam_role_policy_attachment').filter((a) => String(a.role).includes('release'))).toEqual([]);
  });

  it("lets the release role read exactly the catalog's private ECR repositories, by ARN derived from the catalog, never push", () => {
    const appCatalog = structuredClone(APP_CATALOG) as { apps: Record<string, { repository: string; registryAuth?: string }> };
    appCatalog.apps.web!.repository = '123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/acme/web';
    appCatalog.apps.web!.registryAuth = 'ecr';
    const ecr = synthStack(new CiIdentityStack(Testing.app(), 'ci-identity', { platform: loadPlatform({ ...structuredClone(platformInput), appCatalog }) }));
    const policy = ecr.values('aws_iam_role_policy').find((p) => p.name === 'app-release') as Attributes;
    expect(Synth.policy(policy.policy).Statement).toEqual([
      { Sid: 'EcrSignIn', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      { Sid: 'ReadCatalogImages', Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: ['arn:aws:ecr:ap-northeast-2:123456789012:repository/acme/web'] },
    ]);
  });

  it('trusts the apply role for the protected production environment only (not a bare run on main), from platform-config', () => {
    expect(trust('hakube-github-apply').Condition.StringEquals['token.actions.githubusercontent.com:sub']).toEqual([
      'repo:hakube-platform/ha-kube-platform:environment:production',
    ]);
    expect(trust('hakube-github-apply').Condition.StringEquals['token.actions.githubusercontent.com:sub']).toEqual(shipped.names.ciSubjects.apply);
  });

  it('keeps plan and drift read-only: no write, not even the state lock (their plans run with -lock=false)', () => {
    const attached = synth.values('aws_iam_role_policy_attachment').map((a) => a.policy_arn).sort();
    expect(attached).toEqual(['arn:aws:iam::aws:policy/AdministratorAccess', 'arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::aws:policy/ReadOnlyAccess']);
    const inline = synth.values('aws_iam_role_policy');
    expect(inline.map((p) => p.name).sort()).toEqual(['app-release', 'region-failover', 'region-failover-fence', 'terraform-plan', 'terraform-plan']);
    for (const policy of inline.filter((p) => p.name === 'terraform-plan')) {
      const allows = Synth.policy(policy.policy).Statement.filter((s: Attributes) => s.Effect === 'Allow');
      expect(allows.flatMap((s: Attributes) => [s.Action].flat() as string[]), policy.name).toEqual(['s3:ListBucket', 's3:GetObject']);
    }
  });

  it('denies plan and drift every decrypt but S3\'s (the state object) and every read of the clusters\' secrets', () => {
    const inline = synth.values('aws_iam_role_policy').filter((p) => p.name === 'terraform-plan');
    const { parameterPaths, buckets } = secretLocations(shipped);
    expect(parameterPaths).toEqual(shipped.clusters.map((c) => shipped.namesOf(c).ssmPrefix));
    expect(buckets).toContain(shipped.namesOf('production').etcdBackupReplicaBucket);
    for (const policy of inline) {
      const denies = Object.fromEntries(Synth.policy(policy.policy).Statement.filter((s: Attributes) => s.Effect === 'Deny').map((s: Attributes) => [s.Sid, s]));
      expect(denies.NoDecryptButS3).toEqual({ Sid: 'NoDecryptButS3', Effect: 'Deny', Action: ['kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'], Resource: '*', Condition: { StringNotLike: { 'kms:ViaService': 's3.*.amazonaws.com' } } });
      expect(denies.NoClusterParameters.Resource).toEqual(parameterPaths.flatMap((p) => [`arn:aws:ssm:*:*:parameter${p}`, `arn:aws:ssm:*:*:parameter${p}/*`]));
      expect(denies.NoBackupObjects.Resource).toEqual(buckets.map((b) => `arn:aws:s3:::${b}/*`));
      expect(JSON.stringify(Synth.policy(policy.policy))).not.toContain('"Effect":"Allow","Action":"kms');
    }
  });

  it('stores its state under its own key with native locking', () => {
    expect(synth.json.terraform.backend.s3).toEqual({ bucket: shipped.names.stateBucket, key: 'ci-identity/terraform.tfstate', region: shipped.settings.state.region, encrypt: true, use_lockfile: true });
    expect(Object.keys(synth.json.output).sort()).toEqual(['apply_role_arn', 'drift_role_arn', 'failover_role_arn', 'fence_role_arn', 'oidc_provider_arn', 'plan_role_arn', 'release_role_arn']);
  });

  it('keeps state in the working directory with StateBackend.local()', () => {
    const local = synthStack(new CiIdentityStack(Testing.app(), 'ci-identity', { platform: shipped, backend: StateBackend.local() }));
    expect(local.json.terraform.backend).toEqual({ local: { path: 'terraform.tfstate' } });
  });

  it('trusts the fence role for its own environment only, and lets it read only the markers and failover kubeconfigs', () => {
    expect(trust('hakube-github-fence').Condition.StringEquals['token.actions.githubusercontent.com:sub']).toEqual(['repo:hakube-platform/ha-kube-platform:environment:region-failover-fence']);
    expect(trust('hakube-github-fence').Condition.StringEquals['token.actions.githubusercontent.com:sub']).toEqual(shipped.names.ciSubjects.fence);
    expect(role('hakube-github-fence').max_session_duration).toBe(3600);
    expect(synth.values('aws_iam_role_policy_attachment').filter((a) => a.role.includes('fence-role'))).toEqual([]);
    const policy = Synth.policy((synth.values('aws_iam_role_policy').find((p) => p.name === 'region-failover-fence') as Attributes).policy);
    const dr = shipped.cluster('dr');
    const production = shipped.cluster('production');
    const arn = (c: typeof dr, name: string) => `arn:aws:ssm:${c.region}:\${local.account_id}:parameter${name}`;
    expect(policy.Statement).toEqual([
      {
        Sid: 'ReadMarkersAndKubeconfigs',
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: [arn(dr, shipped.namesOf('dr').ssm.promotedMarker), arn(production, shipped.namesOf('production').ssm.ciKubeconfig), arn(dr, shipped.namesOf('dr').ssm.ciKubeconfig)],
      },
      {
        Sid: 'DecryptKubeconfigsThroughSsm',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: [`arn:aws:kms:${production.region}:\${local.account_id}:key/*`, `arn:aws:kms:${dr.region}:\${local.account_id}:key/*`],
        Condition: {
          StringEquals: {
            'kms:ViaService': [`ssm.${production.region}.amazonaws.com`, `ssm.${dr.region}.amazonaws.com`],
            'kms:EncryptionContext:PARAMETER_ARN': [arn(production, shipped.namesOf('production').ssm.ciKubeconfig), arn(dr, shipped.namesOf('dr').ssm.ciKubeconfig)],
          },
        },
      },
    ]);
    // Only clusters in a failover pair: staging has none.
    expect(fenceParameters(shipped, '1').map((p) => p.arn).join(' ')).not.toContain('/staging/');
  });

  it('trusts the failover role for its own environment only; its policy is the tool\'s calls on the pairs\' resources, no administrator policy', () => {
    expect(trust('hakube-github-failover').Condition.StringEquals['token.actions.githubusercontent.com:sub']).toEqual(shipped.names.ciSubjects.failover);
    expect(role('hakube-github-failover').max_session_duration).toBe(7200);
    expect(synth.values('aws_iam_role_policy_attachment').filter((a) => a.role.includes('failover-role'))).toEqual([]);
    const policy = Synth.policy((synth.values('aws_iam_role_policy').find((p) => p.name === 'region-failover') as Attributes).policy);
    const bySid = Object.fromEntries(policy.Statement.map((s: Attributes) => [s.Sid, s]));
    expect(Object.keys(bySid)).toEqual(['ReadMarkersAndKubeconfigs', 'DecryptKubeconfigsThroughSsm', 'MarkPromotion', 'ReadAndMoveTheFailoverRecords', 'ReadAndFenceHealthChecks', 'DescribeWhatHasNoResourceScope', 'ScaleWorkers', 'ListWalArchives', 'ArmStandbyPage']);
    // Only the standby's us-east-1 page alarm: production's pages from creation and is never toggled.
    expect(bySid.ArmStandbyPage).toMatchObject({ Action: ['cloudwatch:EnableAlarmActions', 'cloudwatch:DisableAlarmActions', 'cloudwatch:DescribeAlarms'], Resource: [`arn:aws:cloudwatch:us-east-1:\${local.account_id}:alarm:${shipped.namesOf('dr').healthCheckAlarm.alarm}`] });
    expect(bySid.MarkPromotion.Resource).toEqual([`arn:aws:ssm:${shipped.cluster('dr').region}:\${local.account_id}:parameter${shipped.namesOf('dr').ssm.promotedMarker}`]);
    expect(bySid.ReadAndMoveTheFailoverRecords.Resource).toEqual([`arn:aws:route53:::hostedzone/${shipped.settings.dns!.hostedZoneId}`]);
    // Only the pair's ASGs and buckets: staging has no standby.
    expect(JSON.stringify(policy)).not.toContain('staging');
    expect(bySid.ScaleWorkers.Resource.length).toBeGreaterThan(0);
    for (const arn of bySid.ScaleWorkers.Resource as string[]) expect(arn).toMatch(/^arn:aws:autoscaling:[a-z0-9-]+:\$\{local\.account_id\}:autoScalingGroup:\*:autoScalingGroupName\/(production|dr)-/);
    expect(JSON.stringify(policy)).not.toMatch(/"Action":"\*"|"[a-z0-9]+:\*"/);
  });

  it('creates the plan key: rotated, under platform-config\'s alias, the drift role only seals, the apply role only opens, both bound to purpose=terraform-plan', () => {
    const [key] = synth.values('aws_kms_key');
    expect(key).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 7 });
    expect(synth.values('aws_kms_alias').map((a) => a.name)).toEqual(['alias/hakube-terraform-plans']);
    const statements = Synth.policy(key!.policy).Statement;
    const condition = { StringEquals: { 'kms:EncryptionContext:purpose': 'terraform-plan' } };
    expect(statements).toEqual([
      { Sid: 'AccountAdministersOnly', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::${local.account_id}:root' }, Action: [...PLAN_KEY_ADMIN_ACTIONS], Resource: '*' },
      { Sid: 'MergePlanSealsOnly', Effect: 'Allow', Principal: { AWS: expect.stringMatching(/^\$\{aws_iam_role\..*drift-role.*\.arn\}$/) }, Action: 'kms:GenerateDataKey', Resource: '*', Condition: condition },
      { Sid: 'ApplyOpensOnly', Effect: 'Allow', Principal: { AWS: expect.stringMatching(/^\$\{aws_iam_role\..*apply-role.*\.arn\}$/) }, Action: 'kms:Decrypt', Resource: '*', Condition: condition },
    ]);
    // The account's administration never covers a use of the key (nor a grant that would).
    for (const use of ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:CreateGrant', 'kms:*']) {
      expect(PLAN_KEY_ADMIN_ACTIONS.some((a) => new RegExp(`^${a.replace('*', '.*')}$`).test(use)), use).toBe(false);
    }
  });

  describe('ReleaseRole validation', () => {
    const props = { oidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com', repository: 'o/r', roleName: 'rel', subjects: ['repo:o/r:environment:app-release'], ecrRepositoryArns: [] };
    it('rejects no subject, a subject that is not an exact environment of the repository, a repository ARN with a wildcard, a session IAM does not allow', () => {
      expect(() => new ReleaseRole(bareStack(), 'r', { ...props, subjects: [] })).toThrow('ReleaseRole: props.subjects = []; expected at least one OIDC subject');
      expect(() => new ReleaseRole(bareStack(), 'r', { ...props, subjects: ['repo:o/r:environment:app-*'] })).toThrow(
        'ReleaseRole: props.subjects[0] = "repo:o/r:environment:app-*"; expected an exact environment subject of repo:o/r (repo:o/r:environment:<name>, no wildcards)',
      );
      expect(() => new ReleaseRole(bareStack(), 'r', { ...props, subjects: ['repo:o/r:ref:refs/heads/main'] })).toThrow('ReleaseRole: props.subjects[0] = "repo:o/r:ref:refs/heads/main"; expected an exact environment subject of repo:o/r');
      expect(() => new ReleaseRole(bareStack(), 'r', { ...props, ecrRepositoryArns: ['arn:aws:ecr:ap-northeast-2:123456789012:repository/*'] })).toThrow(
        'ReleaseRole: props.ecrRepositoryArns[0] = "arn:aws:ecr:ap-northeast-2:123456789012:repository/*"; expected an exact ECR repository ARN: arn:aws:ecr:<region>:<account>:repository/<name> (no wildcards)',
      );
      expect(() => new ReleaseRole(bareStack(), 'r', { ...props, sessionSeconds: 60 })).toThrow('ReleaseRole: props.sessionSeconds = 60; expected a whole number of seconds from 3600 to 43200 (IAM MaxSessionDuration)');
    });
  });

  describe('validation', () => {
    const fenceParameters = [{ arn: 'arn:aws:ssm:ap-northeast-1:123456789012:parameter/org/dr/failover/promoted', region: 'ap-northeast-1', secure: false }];
    const failoverResources = { markers: fenceParameters, kubeconfigs: [], backupBuckets: ['org-dr-app-backups'], workerAsgArns: ['arn:aws:autoscaling:ap-northeast-1:123456789012:autoScalingGroup:*:autoScalingGroupName/dr-general-a'] };
    const props = { repository: 'o/r', planRoleName: 'p', applyRoleName: 'a', driftRoleName: 'd', fenceRoleName: 'f', failoverRoleName: 'fo', stateBucket: 'b', secrets: { parameterPaths: ['/org/a'], buckets: ['org-a-backups'] }, fenceParameters, failoverResources };
    const fence = ['repo:o/r:environment:region-failover-fence'];
    const failover = ['repo:o/r:environment:region-failover'];
    const subjects = { plan: ['repo:o/r:pull_request'], apply: ['repo:o/r:environment:production'], drift: ['repo:o/r:ref:refs/heads/main'], fence, failover };
    const drift = ['repo:o/r:ref:refs/heads/main'];
    const build = (plan: string[], apply: string[] = ['repo:o/r:ref:refs/heads/main']) => () => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects: { plan, apply, drift, fence, failover } });
    it('rejects no subject', () => {
      expect(build([])).toThrow('GithubCiRoles: props.subjects.plan = []; expected at least one OIDC subject');
    });
    it('rejects a wildcard subject', () => {
      expect(build(['repo:o/r:*'])).toThrow('GithubCiRoles: props.subjects.plan[0] = "repo:o/r:*"; expected an exact subject of repo:o/r (no wildcards)');
    });
    it('rejects a secret path with a wildcard', () => {
      expect(() => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects, secrets: { parameterPaths: ['/org/a', '/org/*'], buckets: [] } })).toThrow(
        'GithubCiRoles: props.secrets.parameterPaths[1] = "/org/*"; expected an SSM path starting with "/", without a trailing "/" or wildcards',
      );
    });
    it('rejects no secret path', () => {
      expect(() => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects, secrets: { parameterPaths: [], buckets: [] } })).toThrow('GithubCiRoles: props.secrets.parameterPaths = []; expected at least one SSM path');
    });
    it('rejects a secret bucket that is not a bucket name', () => {
      expect(() => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects, secrets: { parameterPaths: ['/org/a'], buckets: ['org-*'] } })).toThrow('GithubCiRoles: props.secrets.buckets[0] = "org-*"; expected an S3 bucket name (no wildcards)');
    });
    it('rejects a drift role with no subject', () => {
      expect(() => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects: { plan: ['repo:o/r:pull_request'], apply: ['repo:o/r:environment:production'], drift: [], fence, failover } })).toThrow(
        'GithubCiRoles: props.subjects.drift = []; expected at least one OIDC subject',
      );
    });
    it('rejects a session IAM does not allow', () => {
      expect(() => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects: { plan: ['repo:o/r:pull_request'], apply: ['repo:o/r:environment:production'], drift, fence, failover }, sessionSeconds: { apply: 50000 } })).toThrow(
        'GithubCiRoles: props.sessionSeconds.apply = 50000; expected a whole number of seconds from 3600 to 43200 (IAM MaxSessionDuration)',
      );
    });
    it('rejects a fence role with no subject, no parameter, or a parameter ARN with a wildcard or in another region', () => {
      expect(() => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects: { ...subjects, fence: [] } })).toThrow('GithubCiRoles: props.subjects.fence = []; expected at least one OIDC subject');
      expect(() => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects, fenceParameters: [] })).toThrow("GithubCiRoles: props.fenceParameters = []; expected at least one SSM parameter (a failover pair's marker and kubeconfigs)");
      const wild = { ...fenceParameters[0]!, arn: 'arn:aws:ssm:ap-northeast-1:123456789012:parameter/org/*' };
      expect(() => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects, fenceParameters: [wild] })).toThrow(
        'GithubCiRoles: props.fenceParameters[0].arn = "arn:aws:ssm:ap-northeast-1:123456789012:parameter/org/*"; expected an exact SSM parameter ARN in ap-northeast-1 (no wildcards)',
      );
      const elsewhere = { ...fenceParameters[0]!, region: 'ap-northeast-2' };
      expect(() => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects, fenceParameters: [elsewhere] })).toThrow(
        'GithubCiRoles: props.fenceParameters[0].arn = "arn:aws:ssm:ap-northeast-1:123456789012:parameter/org/dr/failover/promoted"; expected an exact SSM parameter ARN in ap-northeast-2 (no wildcards)',
      );
    });
    it('rejects a failover role with no subject, no worker ASG, or a parameter ARN with a wildcard', () => {
      expect(() => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects: { ...subjects, failover: [] } })).toThrow('GithubCiRoles: props.subjects.failover = []; expected at least one OIDC subject');
      expect(() => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects, failoverResources: { ...failoverResources, workerAsgArns: [] } })).toThrow(
        'GithubCiRoles: props.failoverResources.workerAsgArns = []; expected at least one worker ASG ARN (a failover pair scales its standby)',
      );
      const wild = { ...fenceParameters[0]!, arn: 'arn:aws:ssm:ap-northeast-1:123456789012:parameter/org/*' };
      expect(() => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects, failoverResources: { ...failoverResources, kubeconfigs: [wild] } })).toThrow(
        'GithubCiRoles: props.failoverResources = "arn:aws:ssm:ap-northeast-1:123456789012:parameter/org/*"; expected exact SSM parameter ARNs (no wildcards)',
      );
    });
    it('rejects a plan key that is not a customer alias, a sealer that also opens, or an empty context', () => {
      const key = { aliasName: 'alias/o-terraform-plans', accountId: '123456789012', sealerRoleArn: 'arn:aws:iam::123456789012:role/d', openerRoleArn: 'arn:aws:iam::123456789012:role/a', context: { key: 'purpose', value: 'terraform-plan' } };
      expect(() => new PlanArtifactKey(bareStack(), 'k', { ...key, aliasName: 'alias/aws/plans' })).toThrow('PlanArtifactKey: props.aliasName = "alias/aws/plans"; expected a name starting with "alias/" (not "alias/aws/")');
      expect(() => new PlanArtifactKey(bareStack(), 'k', { ...key, openerRoleArn: key.sealerRoleArn })).toThrow(
        'PlanArtifactKey: props.openerRoleArn = "arn:aws:iam::123456789012:role/d"; expected a role other than the sealer (no role may both seal and open)',
      );
      expect(() => new PlanArtifactKey(bareStack(), 'k', { ...key, context: { key: 'purpose', value: '' } })).toThrow('PlanArtifactKey: props.context = {"key":"purpose","value":""}; expected a non-empty encryption-context key and value');
      expect(() => new PlanArtifactKey(bareStack(), 'k', { ...key, deletionWindowInDays: 3 })).toThrow('PlanArtifactKey: props.deletionWindowInDays = 3; expected 7 to 30 days');
    });
    it('rejects another repository\'s subject', () => {
      expect(build(['repo:o/r:pull_request'], ['repo:o/other:ref:refs/heads/main'])).toThrow('GithubCiRoles: props.subjects.apply[0] = "repo:o/other:ref:refs/heads/main"; expected an exact subject of repo:o/r (no wildcards)');
    });
  });
});
