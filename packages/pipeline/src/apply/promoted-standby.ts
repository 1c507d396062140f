import { assertNotPromoted, Commands } from '@platform/failover';
import type { Platform } from '@platform/platform-config';

/** applyStacks' `beforeStack` for the merge apply: refuses both stacks of a promoted failover pair (the standby's SSM marker exists; see packages/failover). */
export function promotedStandbyGuard(platform: Platform, log: (line: string) => void, cli: Pick<Commands, 'read'> = new Commands({ dryRun: false })) {
  return async (stack: string): Promise<void> => {
    const cluster = platform.clusters.find((c) => platform.namesOf(c).stack === stack);
    if (!cluster) return;
    await assertNotPromoted(platform, cluster, cli);
    log(`${stack}: ${cluster.name} is not a promoted standby`);
  };
}
