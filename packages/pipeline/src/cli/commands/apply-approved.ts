import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyApprovedPlans } from '../../apply/approved-plan';
import { renderApplySummary } from '../../apply/apply';
import { assertAppliable } from '../../apply/example-platform';
import { mergeApplyGuards } from '../../apply/merge-apply-guards';
import { newerCommitApplied } from '../../apply/newer-applied';
import { parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';
import { planKeys, type ApprovedPlanDeps } from './plan-approved';

export const APPLY_RESULT_FILE = 'apply-result.json';

export interface ApplyApprovedOptions {
  readonly dir: string;
  readonly sha: string;
}

/**
 * The merge's apply job (protected environment, after approval): opens each sealed plan of
 * `--dir` (expired or altered: refused) and applies exactly it. Writes the result beside the
 * plans for the report job. Exit 1 when a stack failed.
 */
export function applyApprovedCommand(deps: ApprovedPlanDeps = {}): Command<ApplyApprovedOptions> {
  return {
    description: 'apply the approved, sealed plan files in order',
    parse(args) {
      const v = parseOptions(args, { dir: { type: 'string' }, sha: { type: 'string' } });
      if (!v.dir || !v.sha) throw new UsageError('--dir <downloaded plans> and --sha <commit> are required');
      return { dir: v.dir, sha: v.sha };
    },
    async run(options, { platform, paths, actions, log }) {
      assertAppliable(platform);
      const newer = await newerCommitApplied(platform, actions, paths.repoRoot, options.sha);
      if (newer) {
        log(newer);
        actions.summary(`## Terraform apply\n\n${newer}\n`);
        return 0;
      }
      const result = await applyApprovedPlans({ dir: options.dir, stacksDir: paths.stacksDir, keys: planKeys(deps, platform.settings),
        commit: options.sha,
        runner: deps.runner,
        now: deps.now,
        beforeStack: deps.beforeStack ?? mergeApplyGuards(platform, paths.repoRoot, log),
        log,
      });
      writeFileSync(join(options.dir, APPLY_RESULT_FILE), `${JSON.stringify(result, null, 2)}\n`);
      actions.summary(renderApplySummary(result));
      return result.ok ? 0 : 1;
    },
  };
}
