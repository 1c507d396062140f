import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Objectives, PromotionPath } from './objectives';
import { PROMOTION_PHASE_SECONDS, promotionEstimateSeconds } from './recovery-times';

/** The repository's region-failover workflow (workflow_dispatch; runs `npm run failover`). */
export const FAILOVER_WORKFLOW = '.github/workflows/region-failover.yml';

/**
 * The repository's scripted promotion of the standby, when the repository at `repoRoot` has it:
 * the workflow file (manual dispatch, calling the `failover` script) and the root `failover`
 * npm script. The cluster promoted is the standby: `objectives.standbyCluster` for a primary,
 * the cluster itself for a standby. Undefined when there is no pair or no such path.
 */
export function findPromotionPath(cluster: string, objectives: Objectives, repoRoot: string): PromotionPath | undefined {
  const standby = objectives.standbyCluster ?? (objectives.primaryCluster ? cluster : undefined);
  if (!standby) return undefined;
  const workflow = join(repoRoot, FAILOVER_WORKFLOW);
  const pkg = join(repoRoot, 'package.json');
  if (!existsSync(workflow) || !existsSync(pkg)) return undefined;
  const text = readFileSync(workflow, 'utf8');
  if (!/^\s*workflow_dispatch:/m.test(text) || !/\bfailover\b/.test(text)) return undefined;
  let scripts: Record<string, unknown> = {};
  try {
    scripts = (JSON.parse(readFileSync(pkg, 'utf8')) as { scripts?: Record<string, unknown> }).scripts ?? {};
  } catch {
    return undefined;
  }
  if (typeof scripts.failover !== 'string') return undefined;
  return { workflow: FAILOVER_WORKFLOW, command: `npm run failover -- promote --standby ${standby}`, estimatedSeconds: promotionEstimateSeconds(), phases: { ...PROMOTION_PHASE_SECONDS } };
}
