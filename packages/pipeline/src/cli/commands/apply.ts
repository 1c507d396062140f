import { appliedRef } from '../../apply/applied-ref';
import { mergedPullRequestsSinceApplied } from '../../apply/applied-ref-github';
import { applyOrder, applyStacks, renderApplySummary } from '../../apply/apply';
import { assertAppliable } from '../../apply/example-platform';
import { newerCommitApplied } from '../../apply/newer-applied';
import { mergeApplyGuards } from '../../apply/merge-apply-guards';
import { protectedResourceRules } from '../../apply/protected-resources';
import { headCommit } from '../../io/git';
import { orderedStacks } from '../../pull-request/pr-flow';
import { assertOfflinePossible, nameList, parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';

export interface ApplyOptions {
  readonly stacks: readonly string[];
  readonly sha?: string;
  readonly dryRun: boolean;
}

/**
 * Plan, protected-destroy gate and apply of each stack, one after another in dependency
 * order (CI, apply role, one job). The first stack that fails stops the ones after it.
 */
export const apply: Command<ApplyOptions> = {
  description: 'plan, protected-destroy gate and apply of each stack in dependency order',
  parse(args) {
    const v = parseOptions(args, { stack: { type: 'string', multiple: true }, stacks: { type: 'string' }, sha: { type: 'string' }, 'dry-run': { type: 'boolean' } });
    const stacks = [...(v.stack ?? []), ...(v.stacks === undefined ? [] : nameList('--stacks', v.stacks))];
    if (stacks.length === 0) throw new UsageError('--stack <name> (repeatable) or --stacks <JSON array of names> is required');
    return { stacks, sha: v.sha, dryRun: v['dry-run'] ?? false };
  },
  async run(options, { platform, paths, actions, log }) {
    const order = orderedStacks(paths, platform);
    try {
      applyOrder(options.stacks, order);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    // A dry run plans offline and applies nothing, so an example platform may still rehearse it.
    if (!options.dryRun) {
      try {
        assertAppliable(platform);
      } catch (error) {
        actions.summary(`## Terraform apply\n\n🛑 ${(error as Error).message}\n`);
        throw error;
      }
    } else {
      assertOfflinePossible('offline', actions.providerMirror);
    }
    const ref = appliedRef(platform);
    const newer = options.sha && !options.dryRun ? await newerCommitApplied(platform, actions, paths.repoRoot, options.sha) : undefined;
    if (newer) {
      log(newer);
      actions.summary(`## Terraform apply\n\n${newer}\n`);
      return 0;
    }
    let labelSources: string | undefined;
    const result = await applyStacks({
      stacks: options.stacks,
      order,
      stacksDir: paths.stacksDir,
      rules: protectedResourceRules(platform),
      // Every pull request merged since the applied tag: this run may carry several merges.
      labels: async () => {
        const merged = await mergedPullRequestsSinceApplied(actions.github(), ref, options.sha ?? headCommit(paths.repoRoot));
        labelSources = `Labels read from ${merged.pulls.length === 0 ? 'no merged pull request' : merged.pulls.map((p) => `#${p.number}`).join(', ')} (${merged.range}).`;
        log(labelSources);
        return merged.pulls.flatMap((p) => p.labels.map((l) => l.name));
      },
      // A promoted standby's stack would reset the worker minimums; an IRSA stage waits for the previous roll.
      beforeStack: options.dryRun ? undefined : mergeApplyGuards(platform, paths.repoRoot, log),
      mode: options.dryRun ? 'offline' : 'cloud',
      dryRun: options.dryRun,
      mirror: actions.providerMirror,
      log,
    });
    actions.summary(renderApplySummary(result) + (labelSources ? `\n${labelSources}\n` : ''));
    return result.ok ? 0 : 1;
  },
};
