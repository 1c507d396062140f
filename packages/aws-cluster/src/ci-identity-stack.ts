import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { CI_IDENTITY_STACK_OUTPUTS, failoverRole, PLAN_ARTIFACT_KEY_CONTEXT, planArtifactKeyAlias, releaseEcrRepositoryArns, ROUTE53_METRICS_REGION, ssmParameterArn, type Platform } from '@platform/platform-config';
import { Lazy, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { FailoverResources } from './ci-identity/failover-policy';
import type { FenceParameter } from './ci-identity/fence-policy';
import { GithubCiRoles } from './ci-identity/github-ci-roles';
import { PlanArtifactKey } from './ci-identity/plan-artifact-key';
import { ReleaseRole } from './ci-identity/release-role';
import { accountIdOf } from './private/arn';
import { StateBackend } from './state-backend';

export interface CiIdentityStackProps {
  readonly platform: Platform;
  /** @default StateBackend.s3() with the platform's state bucket and this stack's key */
  readonly backend?: StateBackend;
}

/** Every cluster's SSM path and backup buckets (replicas included): what no plan may read. */
export function secretLocations(platform: Platform): { parameterPaths: string[]; buckets: string[] } {
  const all = platform.clusters.map((cluster) => platform.namesOf(cluster));
  return {
    parameterPaths: all.map((n) => n.ssmPrefix),
    buckets: all.flatMap((n) => [n.etcdBackupBucket, n.etcdBackupReplicaBucket, n.appBackupBucket, n.appBackupReplicaBucket]).filter((b): b is string => b !== undefined),
  };
}

/**
 * What the fence reads (ci-identity/fence-policy.ts), per failover pair: the standby's promoted
 * marker and both clusters' failover kubeconfigs, each in its cluster's region.
 */
export function fenceParameters(platform: Platform, account: string): FenceParameter[] {
  return platform.clusters.flatMap((cluster) => {
    const pair = failoverRole(platform.clusters, cluster);
    if (pair?.role !== 'primary') return [];
    const { primary, standby } = pair;
    const at = (c: typeof primary, name: string, secure: boolean): FenceParameter => ({ arn: ssmParameterArn(name, c.region, account), region: c.region, secure });
    return [at(standby, platform.namesOf(standby).ssm.promotedMarker, false), at(primary, platform.namesOf(primary).ssm.ciKubeconfig, true), at(standby, platform.namesOf(standby).ssm.ciKubeconfig, true)];
  });
}

/**
 * What promotion and fail-back act on (ci-identity/failover-policy.ts), for every failover
 * pair: the standby's marker, both kubeconfigs, both clusters' app backup buckets (and
 * replicas) and worker ASGs, and the app's hosted zone.
 */
export function failoverResources(platform: Platform, account: string): FailoverResources {
  const pairs = platform.clusters.flatMap((cluster) => {
    const pair = failoverRole(platform.clusters, cluster);
    return pair?.role === 'primary' ? [pair] : [];
  });
  const parameters = fenceParameters(platform, account);
  const both = pairs.flatMap((p) => [p.primary, p.standby]);
  const dns = platform.settings.dns;
  return {
    hostedZoneArn: dns ? `arn:aws:route53:::hostedzone/${dns.hostedZoneId}` : undefined,
    markers: parameters.filter((p) => !p.secure),
    kubeconfigs: parameters.filter((p) => p.secure),
    backupBuckets: both.flatMap((c) => [platform.namesOf(c).appBackupBucket, platform.namesOf(c).appBackupReplicaBucket]).filter((b): b is string => b !== undefined),
    workerAsgArns: both.flatMap((c) => c.workerPools.flatMap((pool) => c.availabilityZones.map((az) => `arn:aws:autoscaling:${c.region}:${account}:autoScalingGroup:*:autoScalingGroupName/${platform.namesOf(c).workerAsg(pool, az)}`))),
    pageAlarmArns: pairs.map((p) => `arn:aws:cloudwatch:${ROUTE53_METRICS_REGION}:${account}:alarm:${platform.namesOf(p.standby).healthCheckAlarm.alarm}`),
  };
}

/**
 * The account-level stack (`names.ciIdentityStack`): GitHub OIDC provider, plan, drift, apply,
 * fence, failover and release roles, and the key that seals approved plans.
 */
export class CiIdentityStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: CiIdentityStackProps) {
    super(scope, id);
    const { settings, names } = props.platform;
    (props.backend ?? StateBackend.s3({ bucket: names.stateBucket, key: names.stateKey(names.ciIdentityStack), region: settings.state.region })).bind(this);
    new AwsProvider(this, 'aws', { region: settings.state.region, defaultTags: [{ tags: { Stack: names.ciIdentityStack, ManagedBy: 'terraform' } }] });
    // The account id comes from the OIDC provider's ARN the roles construct creates (accountIdOf):
    // resolved at synth, after the construct exists.
    const account: { id?: string } = {};
    const accountId = Lazy.stringValue({ produce: () => account.id });
    const roles = new GithubCiRoles(this, 'github', {
      repository: `${settings.github.owner}/${settings.github.repository}`,
      planRoleName: names.ciPlanRole,
      applyRoleName: names.ciApplyRole,
      driftRoleName: names.ciDriftRole,
      fenceRoleName: names.ciFenceRole,
      failoverRoleName: names.ciFailoverRole,
      subjects: names.ciSubjects,
      stateBucket: names.stateBucket,
      secrets: secretLocations(props.platform),
      fenceParameters: fenceParameters(props.platform, accountId),
      failoverResources: failoverResources(props.platform, accountId),
    });
    account.id = accountIdOf(this, roles.oidcProviderArn);
    // The app-release environment's own role: ECR sign-in and reads of the catalog's private repositories.
    const release = new ReleaseRole(this, 'release', {
      oidcProviderArn: roles.oidcProviderArn,
      repository: `${settings.github.owner}/${settings.github.repository}`,
      roleName: names.ciReleaseRole,
      subjects: names.ciSubjects.release,
      ecrRepositoryArns: releaseEcrRepositoryArns(props.platform.appCatalog),
    });
    // The merge's plan job seals with the drift role (a push to main presents its subject); the apply role opens.
    new PlanArtifactKey(this, 'plan-artifact-key', {
      aliasName: planArtifactKeyAlias(settings),
      accountId,
      sealerRoleArn: roles.driftRoleArn,
      openerRoleArn: roles.applyRoleArn,
      context: PLAN_ARTIFACT_KEY_CONTEXT,
    });
    new TerraformOutput(this, 'oidc_provider_arn', { value: roles.oidcProviderArn, description: 'GitHub Actions OIDC provider' });
    new TerraformOutput(this, CI_IDENTITY_STACK_OUTPUTS.planRoleArn, { value: roles.planRoleArn, description: 'Role for terraform plan on pull requests' });
    new TerraformOutput(this, CI_IDENTITY_STACK_OUTPUTS.driftRoleArn, { value: roles.driftRoleArn, description: 'Role for scheduled drift detection on the main branch' });
    new TerraformOutput(this, CI_IDENTITY_STACK_OUTPUTS.fenceRoleArn, { value: roles.fenceRoleArn, description: 'Role of the scheduled region-failover fence (its own environment)' });
    new TerraformOutput(this, CI_IDENTITY_STACK_OUTPUTS.failoverRoleArn, { value: roles.failoverRoleArn, description: 'Role of the manual region-failover promotion and fail-back (its own environment)' });
    new TerraformOutput(this, CI_IDENTITY_STACK_OUTPUTS.releaseRoleArn, { value: release.roleArn, description: 'Role of the app-release workflow (its own environment): ECR sign-in and catalog image reads' });
    new TerraformOutput(this, CI_IDENTITY_STACK_OUTPUTS.applyRoleArn, { value: roles.applyRoleArn, description: 'Role for terraform apply on main / the protected environment' });
  }
}
