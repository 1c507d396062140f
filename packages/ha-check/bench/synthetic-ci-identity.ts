import { defaultPlatform, ssmParameterArn, type Platform } from '@platform/platform-config';

const ACCOUNT = '111111111111';
const ISSUER = 'token.actions.githubusercontent.com';

const policy = (...statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });

/** GitHub's OIDC trust for exactly these subjects (StringEquals, as the CI identity stack writes it). */
const trust = (subjects: readonly string[]): string =>
  policy({ Effect: 'Allow', Principal: { Federated: '${aws_iam_openid_connect_provider.github.arn}' }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${ISSUER}:aud`]: 'sts.amazonaws.com', [`${ISSUER}:sub`]: [...subjects] } } });

/**
 * A CI identity stack's `cdk.tf.json` in the shape the platform's (packages/aws-cluster
 * `GithubCiRoles`) has: the GitHub OIDC provider; plan (pull requests) and drift (main) with
 * ReadOnlyAccess, state read and explicit denies of every cluster's secrets; apply
 * (AdministratorAccess, the protected environment); fence and failover (their environments)
 * reading the failover kubeconfigs through SSM. Role names, subjects, secret paths and buckets
 * come from platform-config. ha-check may not import aws-cluster (Nx boundaries), so this is a
 * generator for the bench and tests, not the stack itself.
 */
export function syntheticCiIdentity(platform: Platform = defaultPlatform()): Record<string, unknown> {
  const { names, settings } = platform;
  const all = platform.clusters.map((c) => platform.namesOf(c));
  const state = `arn:aws:s3:::${names.stateBucket}`;
  const buckets = all.flatMap((n) => [n.etcdBackupBucket, n.etcdBackupReplicaBucket, n.appBackupBucket, n.appBackupReplicaBucket]).filter((b): b is string => b !== undefined);
  const planPolicy = policy(
    { Sid: 'ReadState', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetObject'], Resource: [state, `${state}/*`] },
    { Sid: 'NoDecryptButS3', Effect: 'Deny', Action: ['kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'], Resource: '*', Condition: { StringNotLike: { 'kms:ViaService': 's3.*.amazonaws.com' } } },
    { Sid: 'NoClusterParameters', Effect: 'Deny', Action: ['ssm:GetParameter*'], Resource: all.flatMap((n) => [`arn:aws:ssm:*:*:parameter${n.ssmPrefix}`, `arn:aws:ssm:*:*:parameter${n.ssmPrefix}/*`]) },
    { Sid: 'NoParameterTrees', Effect: 'Deny', Action: ['ssm:GetParametersByPath'], Resource: '*' },
    { Sid: 'NoBackupObjects', Effect: 'Deny', Action: ['s3:GetObject*'], Resource: buckets.map((b) => `arn:aws:s3:::${b}/*`) },
    { Sid: 'NoSecretValues', Effect: 'Deny', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:BatchGetSecretValue'], Resource: '*' },
    { Sid: 'NoConsoles', Effect: 'Deny', Action: ['ec2:GetConsoleOutput', 'ec2:GetConsoleScreenshot'], Resource: '*' },
  );
  const kubeconfigs = platform.clusters.map((c) => ({ arn: ssmParameterArn(platform.namesOf(c).ssm.ciKubeconfig, c.region, ACCOUNT), region: c.region }));
  const kubeconfigPolicy = policy(
    { Sid: 'ReadKubeconfigs', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: kubeconfigs.map((k) => k.arn) },
    {
      Sid: 'DecryptKubeconfigsThroughSsm',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: [...new Set(kubeconfigs.map((k) => `arn:aws:kms:${k.region}:${ACCOUNT}:key/*`))],
      Condition: { StringEquals: { 'kms:ViaService': [...new Set(kubeconfigs.map((k) => `ssm.${k.region}.amazonaws.com`))], 'kms:EncryptionContext:PARAMETER_ARN': kubeconfigs.map((k) => k.arn) } },
    },
  );
  const roles = {
    plan: { name: names.ciPlanRole, subjects: names.ciSubjects.plan, managed: 'ReadOnlyAccess', inline: planPolicy },
    drift: { name: names.ciDriftRole, subjects: names.ciSubjects.drift, managed: 'ReadOnlyAccess', inline: planPolicy },
    apply: { name: names.ciApplyRole, subjects: names.ciSubjects.apply, managed: 'AdministratorAccess', inline: undefined },
    fence: { name: names.ciFenceRole, subjects: names.ciSubjects.fence, managed: undefined, inline: kubeconfigPolicy },
    failover: { name: names.ciFailoverRole, subjects: names.ciSubjects.failover, managed: undefined, inline: kubeconfigPolicy },
  };
  const resource: Record<string, Record<string, unknown>> = {
    aws_iam_openid_connect_provider: { github: { url: `https://${ISSUER}`, client_id_list: ['sts.amazonaws.com'] } },
    aws_iam_role: {},
    aws_iam_role_policy: {},
    aws_iam_role_policy_attachment: {},
  };
  for (const [kind, role] of Object.entries(roles)) {
    resource.aws_iam_role[kind] = { name: role.name, assume_role_policy: trust(role.subjects) };
    if (role.inline) resource.aws_iam_role_policy[kind] = { name: kind, role: `\${aws_iam_role.${kind}.name}`, policy: role.inline };
    if (role.managed) resource.aws_iam_role_policy_attachment[kind] = { role: `\${aws_iam_role.${kind}.name}`, policy_arn: `arn:aws:iam::aws:policy/${role.managed}` };
  }
  return {
    '//': { metadata: { backend: 's3', stackName: names.ciIdentityStack, version: '0.21.0' }, outputs: {} },
    provider: { aws: [{ region: settings.state.region }] },
    resource,
    terraform: { required_providers: { aws: { source: 'aws', version: '5.100.0' } } },
  };
}
