import { join } from 'node:path';
import { stackOutputs } from '../../io/terraform';
import { ACCOUNT_ID_SECRET, accountFromAppliedOutputs, roleVariables } from '../../operations/role-variables';
import { parseOptions } from '../arguments';
import type { Command } from '../command';

/**
 * The region and role ARNs the workflows hand to configure-aws-credentials, derived from
 * platform-config and AWS_ACCOUNT_ID: printed, and written as step outputs in CI.
 * `--from-state` (once, with credentials): reads the applied ci-identity outputs, checks
 * they are the ARNs derived here, and prints the command that sets the secret.
 */
export const roleVariablesCommand: Command<{ readonly fromState: boolean }> = {
  description: 'region and role ARNs for configure-aws-credentials (step outputs)',
  parse(args) {
    return { fromState: parseOptions(args, { 'from-state': { type: 'boolean' } })['from-state'] ?? false };
  },
  async run({ fromState }, { platform, paths, actions }) {
    if (!fromState) {
      for (const [name, value] of Object.entries(roleVariables(platform, actions.accountId))) {
        console.log(`${name}=${value}`);
        actions.output(name, value);
      }
      return 0;
    }
    const account = accountFromAppliedOutputs(platform, stackOutputs(join(paths.stacksDir, platform.names.ciIdentityStack)));
    console.log(`gh secret set ${ACCOUNT_ID_SECRET} --body '${account}'`);
    return 0;
  },
};
