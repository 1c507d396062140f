import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Construct } from 'constructs';
import { policyDocument, renderPolicy, type PolicyDocument } from '../iam/policy-document';
import { invalidProp } from '../private/validation';
import { failoverPolicy, type FailoverResources } from './failover-policy';
import { fencePolicy, type FenceParameter } from './fence-policy';

export const GITHUB_OIDC_ISSUER = 'token.actions.githubusercontent.com';
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';

export interface GithubCiRolesProps {
  /** `owner/repository`: every trusted subject must belong to it. */
  readonly repository: string;
  readonly planRoleName: string;
  readonly applyRoleName: string;
  /** Read-only role of drift detection (scheduled runs on the main branch). */
  readonly driftRoleName: string;
  /** Role of the scheduled region-failover fence: reads `fenceParameters`, nothing else. */
  readonly fenceRoleName: string;
  /** Role of the manual promotion and fail-back: the failover tool's calls on `failoverResources`, nothing else. */
  readonly failoverRoleName: string;
  /** Exact `sub` claims (platform-config `names.ciSubjects`); no wildcards. */
  readonly subjects: { readonly plan: readonly string[]; readonly apply: readonly string[]; readonly drift: readonly string[]; readonly fence: readonly string[]; readonly failover: readonly string[] };
  /** What the fence reads: every failover pair's promoted marker and both failover kubeconfigs (see fencePolicy). */
  readonly fenceParameters: readonly FenceParameter[];
  /** What promotion and fail-back act on (see failoverPolicy). */
  readonly failoverResources: FailoverResources;
  readonly stateBucket: string;
  /**
   * Longest session of each role (IAM MaxSessionDuration, 3600 to 43200 s). The workflows ask
   * for `role-duration-seconds` within it and covering their job's timeout (a test checks).
   * Apply: 6 h, GitHub's limit for a hosted job, so the apply job (up to four stacks in a row) never outlives its credentials.
   * Failover: 2 h, the region-failover job's timeout.
   * @default { plan: 3600, apply: 21600, drift: 3600, fence: 3600, failover: 7200 }
   */
  readonly sessionSeconds?: { readonly plan?: number; readonly apply?: number; readonly drift?: number; readonly fence?: number; readonly failover?: number };
  /**
   * Where the clusters keep secrets: no plan may read them, whatever the read-only grant
   * (ReadOnlyAccess) allows now or later. `parameterPaths`: SSM paths (every cluster's
   * `ssmPrefix`: join material, kubeconfigs, credentials); `buckets`: S3 buckets of etcd
   * snapshots and database backups (primaries and replicas).
   */
  readonly secrets: { readonly parameterPaths: readonly string[]; readonly buckets: readonly string[] };
}

/** Trust for GitHub's OIDC tokens: this audience and exactly these subjects. */
export function githubTrustPolicy(providerArn: string, subjects: readonly string[]): PolicyDocument {
  return policyDocument({
    Effect: 'Allow',
    Principal: { Federated: providerArn },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { [`${GITHUB_OIDC_ISSUER}:aud`]: GITHUB_OIDC_AUDIENCE, [`${GITHUB_OIDC_ISSUER}:sub`]: [...subjects] } },
  });
}

/** @see GithubCiRolesProps.sessionSeconds */
export const DEFAULT_CI_SESSION_SECONDS = { plan: 3600, apply: 21600, drift: 3600, fence: 3600, failover: 7200 } as const;

/** Reading or re-encrypting ciphertext is what exposes a secret; Describe/Get/List on keys does not. */
const DECRYPT_ACTIONS = ['kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'];

/**
 * The grant of a role that runs `terraform plan` on top of ReadOnlyAccess: state read, and
 * explicit denies of every secret, so what a pull request's code can do with the role never
 * depends on how broad ReadOnlyAccess is. No write at all: these plans run with `-lock=false`
 * (they never write state, and a cancelled pull-request plan must not leave a lock the apply
 * waits on). No Terraform-managed resource stores a secret (join material is the nodes', not
 * Terraform's), so neither refresh nor state needs a decrypt.
 */
function planPolicy(stateBucket: string, secrets: GithubCiRolesProps['secrets']): PolicyDocument {
  const state = `arn:aws:s3:::${stateBucket}`;
  return policyDocument(
    { Sid: 'ReadState', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetObject'], Resource: [state, `${state}/*`] },
    // The state object is SSE-KMS under the AWS managed aws/s3 key, decrypted by S3 on the
    // reader's behalf: the only decrypt a plan makes. Any other (SSM SecureStrings, a direct
    // kms:Decrypt of stolen ciphertext, any key) is denied; backup objects are denied below.
    { Sid: 'NoDecryptButS3', Effect: 'Deny', Action: DECRYPT_ACTIONS, Resource: '*', Condition: { StringNotLike: { 'kms:ViaService': 's3.*.amazonaws.com' } } },
    { Sid: 'NoClusterParameters', Effect: 'Deny', Action: ['ssm:GetParameter*'], Resource: secrets.parameterPaths.flatMap((path) => [`arn:aws:ssm:*:*:parameter${path}`, `arn:aws:ssm:*:*:parameter${path}/*`]) },
    // By path IAM sees only the path asked for (a parent of the clusters' paths, recursive): no tree reads at all.
    { Sid: 'NoParameterTrees', Effect: 'Deny', Action: ['ssm:GetParametersByPath'], Resource: '*' },
    { Sid: 'NoBackupObjects', Effect: 'Deny', Action: ['s3:GetObject*'], Resource: secrets.buckets.map((bucket) => `arn:aws:s3:::${bucket}/*`) },
    { Sid: 'NoSecretValues', Effect: 'Deny', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:BatchGetSecretValue'], Resource: '*' },
    // ReadOnlyAccess includes the instances' consoles, where kubeadm init prints its join commands.
    { Sid: 'NoConsoles', Effect: 'Deny', Action: ['ec2:GetConsoleOutput', 'ec2:GetConsoleScreenshot'], Resource: '*' },
  );
}

/**
 * GitHub Actions' identity in the account: the OIDC provider and four roles. Plan is
 * read-only (no state lock: its plans run with -lock=false) and trusted only for pull requests; drift has the same
 * read-only grant and is trusted only for runs on the main branch (the schedule), so neither
 * can assume the other's role; apply is trusted only for the protected environment, so every
 * write passes its reviewers; fence (the scheduled region-failover fence) only reads the
 * promoted markers and failover kubeconfigs, trusted only for its own environment. No long-lived keys.
 */
export class GithubCiRoles extends Construct {
  readonly oidcProviderArn: string;
  readonly planRoleArn: string;
  readonly applyRoleArn: string;
  readonly driftRoleArn: string;
  readonly fenceRoleArn: string;
  readonly failoverRoleArn: string;

  constructor(scope: Construct, id: string, props: GithubCiRolesProps) {
    super(scope, id);
    const sessions = { ...DEFAULT_CI_SESSION_SECONDS, ...props.sessionSeconds };
    for (const kind of ['plan', 'apply', 'drift', 'fence', 'failover'] as const) {
      const seconds = sessions[kind];
      if (!Number.isInteger(seconds) || seconds < 3600 || seconds > 43200) throw invalidProp('GithubCiRoles', `sessionSeconds.${kind}`, seconds, 'a whole number of seconds from 3600 to 43200 (IAM MaxSessionDuration)');
    }
    for (const kind of ['plan', 'apply', 'drift', 'fence', 'failover'] as const) {
      const subjects = props.subjects[kind];
      if (subjects.length === 0) throw invalidProp('GithubCiRoles', `subjects.${kind}`, subjects, 'at least one OIDC subject');
      subjects.forEach((subject, i) => {
        if (!subject.startsWith(`repo:${props.repository}:`) || /[*?]/.test(subject)) {
          throw invalidProp('GithubCiRoles', `subjects.${kind}[${i}]`, subject, `an exact subject of repo:${props.repository} (no wildcards)`);
        }
      });
    }
    props.secrets.parameterPaths.forEach((path, i) => {
      if (!path.startsWith('/') || path.endsWith('/') || /[*?]/.test(path)) throw invalidProp('GithubCiRoles', `secrets.parameterPaths[${i}]`, path, 'an SSM path starting with "/", without a trailing "/" or wildcards');
    });
    props.secrets.buckets.forEach((bucket, i) => {
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw invalidProp('GithubCiRoles', `secrets.buckets[${i}]`, bucket, 'an S3 bucket name (no wildcards)');
    });
    if (props.fenceParameters.length === 0) throw invalidProp('GithubCiRoles', 'fenceParameters', props.fenceParameters, 'at least one SSM parameter (a failover pair\'s marker and kubeconfigs)');
    props.fenceParameters.forEach((p, i) => {
      if (!/^arn:aws:ssm:[a-z0-9-]+:[^:*?]+:parameter\/[^*?]+$/.test(p.arn) || !p.arn.startsWith(`arn:aws:ssm:${p.region}:`)) {
        throw invalidProp('GithubCiRoles', `fenceParameters[${i}].arn`, p.arn, `an exact SSM parameter ARN in ${p.region} (no wildcards)`);
      }
    });
    if (props.failoverResources.workerAsgArns.length === 0) throw invalidProp('GithubCiRoles', 'failoverResources.workerAsgArns', props.failoverResources.workerAsgArns, 'at least one worker ASG ARN (a failover pair scales its standby)');
    [...props.failoverResources.markers, ...props.failoverResources.kubeconfigs].forEach((p) => {
      if (!/^arn:aws:ssm:[a-z0-9-]+:[^:*?]+:parameter\/[^*?]+$/.test(p.arn)) throw invalidProp('GithubCiRoles', 'failoverResources', p.arn, 'exact SSM parameter ARNs (no wildcards)');
    });
    if (props.secrets.parameterPaths.length === 0) throw invalidProp('GithubCiRoles', 'secrets.parameterPaths', props.secrets.parameterPaths, 'at least one SSM path');
    const provider = new IamOpenidConnectProvider(this, 'github-oidc', { url: `https://${GITHUB_OIDC_ISSUER}`, clientIdList: [GITHUB_OIDC_AUDIENCE] });

    const plan = new IamRole(this, 'plan-role', {
      name: props.planRoleName,
      description: `terraform plan from pull requests of ${props.repository}`,
      assumeRolePolicy: renderPolicy(githubTrustPolicy(provider.arn, props.subjects.plan)),
      maxSessionDuration: sessions.plan,
    });
    new IamRolePolicyAttachment(this, 'plan-read-only', { role: plan.name, policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' });
    new IamRolePolicy(this, 'plan-state', { name: 'terraform-plan', role: plan.name, policy: renderPolicy(planPolicy(props.stateBucket, props.secrets)) });

    // Drift plans every stack against real state on a schedule: the plan's grant, its own trust.
    const drift = new IamRole(this, 'drift-role', {
      name: props.driftRoleName,
      description: `terraform plan -detailed-exitcode (drift) from the main branch of ${props.repository}`,
      assumeRolePolicy: renderPolicy(githubTrustPolicy(provider.arn, props.subjects.drift)),
      maxSessionDuration: sessions.drift,
    });
    new IamRolePolicyAttachment(this, 'drift-read-only', { role: drift.name, policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' });
    new IamRolePolicy(this, 'drift-state', { name: 'terraform-plan', role: drift.name, policy: renderPolicy(planPolicy(props.stateBucket, props.secrets)) });

    const apply = new IamRole(this, 'apply-role', {
      name: props.applyRoleName,
      description: `terraform apply from the main branch / protected environment of ${props.repository}`,
      assumeRolePolicy: renderPolicy(githubTrustPolicy(provider.arn, props.subjects.apply)),
      maxSessionDuration: sessions.apply,
    });
    // Apply creates IAM roles and policies, which makes any narrower grant escalatable anyway;
    // the protection is who may assume it (trust above) and the protected environment.
    new IamRolePolicyAttachment(this, 'apply-admin', { role: apply.name, policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' });

    // The fence runs unattended on a schedule: its own environment (no reviewers, main only),
    // its own role, and only the reads it makes; never the apply role.
    const fence = new IamRole(this, 'fence-role', {
      name: props.fenceRoleName,
      description: `region-failover fence (scheduled) of ${props.repository}: reads promoted markers and failover kubeconfigs`,
      assumeRolePolicy: renderPolicy(githubTrustPolicy(provider.arn, props.subjects.fence)),
      maxSessionDuration: sessions.fence,
    });
    new IamRolePolicy(this, 'fence-reads', { name: 'region-failover-fence', role: fence.name, policy: renderPolicy(fencePolicy(props.fenceParameters)) });

    // Promotion and fail-back, started by a person: their own environment (reviewers, main
    // only), their own role with the tool's calls only; never the apply role (administrator).
    const failover = new IamRole(this, 'failover-role', {
      name: props.failoverRoleName,
      description: `region-failover promotion and fail-back of ${props.repository}: Route 53 failover records and health checks, worker ASGs, promoted markers, WAL listings`,
      assumeRolePolicy: renderPolicy(githubTrustPolicy(provider.arn, props.subjects.failover)),
      maxSessionDuration: sessions.failover,
    });
    new IamRolePolicy(this, 'failover-calls', { name: 'region-failover', role: failover.name, policy: renderPolicy(failoverPolicy(props.failoverResources)) });

    this.oidcProviderArn = provider.arn;
    this.planRoleArn = plan.arn;
    this.applyRoleArn = apply.arn;
    this.driftRoleArn = drift.arn;
    this.fenceRoleArn = fence.arn;
    this.failoverRoleArn = failover.arn;
  }
}
