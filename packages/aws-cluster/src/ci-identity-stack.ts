import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { CI_IDENTITY_STACK_OUTPUTS, type Platform } from '@platform/platform-config';
import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { GithubCiRoles } from './ci-identity/github-ci-roles';
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

/** The account-level stack (`names.ciIdentityStack`): GitHub OIDC provider, plan, drift and apply roles. */
export class CiIdentityStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: CiIdentityStackProps) {
    super(scope, id);
    const { settings, names } = props.platform;
    (props.backend ?? StateBackend.s3({ bucket: names.stateBucket, key: names.stateKey(names.ciIdentityStack), region: settings.state.region })).bind(this);
    new AwsProvider(this, 'aws', { region: settings.state.region, defaultTags: [{ tags: { Stack: names.ciIdentityStack, ManagedBy: 'terraform' } }] });
    const roles = new GithubCiRoles(this, 'github', {
      repository: `${settings.github.owner}/${settings.github.repository}`,
      planRoleName: names.ciPlanRole,
      applyRoleName: names.ciApplyRole,
      driftRoleName: names.ciDriftRole,
      subjects: names.ciSubjects,
      stateBucket: names.stateBucket,
      secrets: secretLocations(props.platform),
    });
    new TerraformOutput(this, 'oidc_provider_arn', { value: roles.oidcProviderArn, description: 'GitHub Actions OIDC provider' });
    new TerraformOutput(this, CI_IDENTITY_STACK_OUTPUTS.planRoleArn, { value: roles.planRoleArn, description: 'Role for terraform plan on pull requests' });
    new TerraformOutput(this, CI_IDENTITY_STACK_OUTPUTS.driftRoleArn, { value: roles.driftRoleArn, description: 'Role for scheduled drift detection on the main branch' });
    new TerraformOutput(this, CI_IDENTITY_STACK_OUTPUTS.applyRoleArn, { value: roles.applyRoleArn, description: 'Role for terraform apply on main / the protected environment' });
  }
}
