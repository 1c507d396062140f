import { CI_IDENTITY_STACK_OUTPUTS, type Platform } from '@platform/platform-config';

/**
 * What the workflows pass to aws-actions/configure-aws-credentials, derived from
 * platform-config so no role name or region is typed into YAML or stored in a secret:
 * the state region (`settings.state.region`) and the ARNs of the roles the ci-identity
 * stack creates (`names.ciPlanRole`, `names.ciApplyRole`, `names.ciDriftRole`, `names.ciFenceRole`, `names.ciFailoverRole`, `names.ciReleaseRole`). The account id is the one fact
 * the repository does not hold; it comes from the `AWS_ACCOUNT_ID` secret.
 */

/** The secret (and environment variable of the step) holding the AWS account id. */
export const ACCOUNT_ID_SECRET = 'AWS_ACCOUNT_ID';

/** Step outputs naming a role (the ci-identity output names), and which CI role each one is. */
export const ROLE_OUTPUTS = {
  [CI_IDENTITY_STACK_OUTPUTS.planRoleArn]: 'plan',
  [CI_IDENTITY_STACK_OUTPUTS.applyRoleArn]: 'apply',
  [CI_IDENTITY_STACK_OUTPUTS.driftRoleArn]: 'drift',
  [CI_IDENTITY_STACK_OUTPUTS.fenceRoleArn]: 'fence',
  [CI_IDENTITY_STACK_OUTPUTS.failoverRoleArn]: 'failover',
  [CI_IDENTITY_STACK_OUTPUTS.releaseRoleArn]: 'release',
} as const;
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
    [CI_IDENTITY_STACK_OUTPUTS.planRoleArn]: roleArn(accountId, platform.names.ciPlanRole),
    [CI_IDENTITY_STACK_OUTPUTS.applyRoleArn]: roleArn(accountId, platform.names.ciApplyRole),
    [CI_IDENTITY_STACK_OUTPUTS.driftRoleArn]: roleArn(accountId, platform.names.ciDriftRole),
    [CI_IDENTITY_STACK_OUTPUTS.fenceRoleArn]: roleArn(accountId, platform.names.ciFenceRole),
    [CI_IDENTITY_STACK_OUTPUTS.failoverRoleArn]: roleArn(accountId, platform.names.ciFailoverRole),
    [CI_IDENTITY_STACK_OUTPUTS.releaseRoleArn]: roleArn(accountId, platform.names.ciReleaseRole),
  };
}

/**
 * `role-variables --from-state`: the applied ci-identity outputs must be the ARNs derived
 * here (else the workflows would assume roles that do not exist). Returns the account id.
 */
export function accountFromAppliedOutputs(platform: Platform, outputs: Record<string, unknown>): string {
  const stack = platform.names.ciIdentityStack;
  const plan = outputs[CI_IDENTITY_STACK_OUTPUTS.planRoleArn];
  if (typeof plan !== 'string') throw new Error(`stack ${stack} has no output ${CI_IDENTITY_STACK_OUTPUTS.planRoleArn}; apply it first`);
  const account = accountOfRoleArn(plan);
  const derived = roleVariables(platform, account);
  for (const key of Object.values(CI_IDENTITY_STACK_OUTPUTS)) {
    if (outputs[key] !== derived[key]) throw new Error(`stack ${stack} output ${key} is ${JSON.stringify(outputs[key])}, but the workflows derive ${derived[key]} from platform-config; apply ${stack} first`);
  }
  return account;
}
