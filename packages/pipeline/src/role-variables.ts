import type { Platform } from '@platform/platform-config';

/**
 * What the workflows pass to aws-actions/configure-aws-credentials, derived from
 * platform-config so no role name or region is typed into YAML or stored in a secret:
 * the state region (`settings.state.region`) and the ARNs of the roles the ci-identity
 * stack creates (`names.ciPlanRole`, `names.ciApplyRole`, `names.ciDriftRole`). The account id is the one fact
 * the repository does not hold; it comes from the `AWS_ACCOUNT_ID` secret.
 */

/** The secret (and environment variable of the step) holding the AWS account id. */
export const ACCOUNT_ID_SECRET = 'AWS_ACCOUNT_ID';

/** Step outputs naming a role, and which CI role each one is. */
export const ROLE_OUTPUTS = { plan_role_arn: 'plan', apply_role_arn: 'apply', drift_role_arn: 'drift' } as const;
export type RoleOutput = keyof typeof ROLE_OUTPUTS;
export type CiRole = (typeof ROLE_OUTPUTS)[RoleOutput];

/** Step output with the region to ask STS in. */
export const REGION_OUTPUT = 'aws_region';

export type RoleVariables = Readonly<Record<RoleOutput | typeof REGION_OUTPUT, string>>;

/** The IAM role ARN in the commercial partition, where every platform region is. */
export function roleArn(accountId: string, roleName: string): string {
  return `arn:aws:iam::${accountId}:role/${roleName}`;
}

export function accountOfRoleArn(arn: string): string {
  const match = /^arn:aws:iam::(\d{12}):role\/.+$/.exec(arn);
  if (!match) throw new Error(`role ARN ${JSON.stringify(arn)}: expected arn:aws:iam::<12-digit account>:role/<name>`);
  return match[1];
}

export function roleVariables(platform: Platform, accountId: string | undefined): RoleVariables {
  if (!accountId || !/^\d{12}$/.test(accountId)) {
    throw new Error(
      `${ACCOUNT_ID_SECRET} ${JSON.stringify(accountId ?? '')}: expected the 12-digit id of the AWS account the ${platform.names.ciIdentityStack} stack is applied in (repository secret ${ACCOUNT_ID_SECRET}; \`npm run pipeline:role-variables -- --from-state\` prints the command that sets it)`,
    );
  }
  return {
    [REGION_OUTPUT]: platform.settings.state.region,
    plan_role_arn: roleArn(accountId, platform.names.ciPlanRole),
    apply_role_arn: roleArn(accountId, platform.names.ciApplyRole),
    drift_role_arn: roleArn(accountId, platform.names.ciDriftRole),
  };
}
