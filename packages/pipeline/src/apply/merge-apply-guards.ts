import type { ClusterDefinition, Platform } from '@platform/platform-config';
import { awsCliIdentityRoll } from '../io/aws-identity-roll';
import { appliedIdentityStages, identityRollGuard, type IdentityRollApi } from './identity-roll';
import { promotedStandbyGuard } from './promoted-standby';

/**
 * What a merge apply checks before each stack (applyStacks' `beforeStack`): a promoted standby serves
 * production traffic (its plan would reset the worker minimums; promoted-standby.ts), and a cluster's
 * IRSA stage moves only once the previous stage's control-plane roll finished (identity-roll.ts).
 */
export function mergeApplyGuards(
  platform: Platform,
  repoRoot: string,
  log: (line: string) => void,
  identityApi: (cluster: ClusterDefinition) => IdentityRollApi = (c) => awsCliIdentityRoll(c.region),
): (stack: string) => Promise<void> {
  const promoted = promotedStandbyGuard(platform, log);
  const identity = identityRollGuard(platform, () => appliedIdentityStages(platform, repoRoot, log), identityApi, log);
  return async (stack) => {
    await promoted(stack);
    await identity(stack);
  };
}
