import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLAN_ARTIFACT_KEY_CONTEXT, planArtifactKeyAlias } from '@platform/platform-config';
import { appliedRef } from '../../apply/applied-ref';
import { mergedPullRequestsSinceApplied } from '../../apply/applied-ref-github';
import { planForApproval } from '../../apply/approved-plan';
import { parityWithPullRequests, postMergeComment, renderMergeComment } from '../../apply/merge-report';
import type { PlanKeyService } from '../../apply/plan-artifact';
import { protectedResourceRules } from '../../apply/protected-resources';
import { awsKmsKeyService } from '../../io/kms';
import type { TerraformRunner } from '../../io/terraform';
import { orderedStacks } from '../../pull-request/pr-flow';
import { nameList, parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';

export const MERGE_PARITY_FILE = 'merge-parity.json';
/** The pull requests this merge included, as the plan job found them (the applied tag moves later). */
export const MERGE_PULLS_FILE = 'merge-pulls.json';

export interface PlanApprovedOptions {
  readonly stacks: readonly string[];
  readonly sha: string;
  readonly out: string;
  readonly maxHours: number;
}

export interface ApprovedPlanDeps {
  /** @default KMS (the platform's plan key alias) through the AWS CLI in the state region */
  readonly keys?: PlanKeyService;
  readonly runner?: TerraformRunner;
  readonly now?: () => Date;
  /** apply-approved only. @default the promoted-standby guard (SSM, apply role) */
  readonly beforeStack?: (stack: string) => Promise<void>;
}

export function planKeys(deps: ApprovedPlanDeps, settings: Parameters<typeof planArtifactKeyAlias>[0] & { state: { region: string } }): PlanKeyService {
  return deps.keys ?? awsKmsKeyService(planArtifactKeyAlias(settings), settings.state.region);
}

/**
 * The merge's plan job: plan each affected stack, gate, seal the plan files into `--out`
 * (uploaded as an artifact that lives `--max-hours`), and tell the merged pull requests
 * (and the run summary) what waits for approval and how it differs from their plans.
 * Exit 1 when a stack cannot be applied (gate closed, plan failed): the apply job then does not run.
 */
export function planApprovedCommand(deps: ApprovedPlanDeps = {}): Command<PlanApprovedOptions> {
  return {
    description: 'plan the merge for approval: sealed plan files, merge comment with the difference from the PR plans',
    parse(args) {
      const v = parseOptions(args, { stacks: { type: 'string' }, sha: { type: 'string' }, out: { type: 'string' }, 'max-hours': { type: 'string' } });
      if (v.stacks === undefined || !v.sha || !v.out) throw new UsageError('--stacks <JSON array>, --sha <commit> and --out <dir> are required');
      const maxHours = Number(v['max-hours'] ?? 24);
      if (!Number.isInteger(maxHours) || maxHours < 1 || maxHours > 24 * 7) throw new UsageError(`--max-hours ${v['max-hours']}: expected whole hours from 1 to 168 (the artifact's retention-days must cover it)`);
      return { stacks: nameList('--stacks', v.stacks), sha: v.sha, out: v.out, maxHours };
    },
    async run(options, { platform, paths, actions, log }) {
      const client = actions.canCallGitHub ? actions.github() : undefined;
      const merged = client ? await mergedPullRequestsSinceApplied(client, appliedRef(platform), options.sha) : undefined;
      const plans = await planForApproval({
        stacks: options.stacks,
        order: orderedStacks(paths, platform),
        stacksDir: paths.stacksDir,
        rules: protectedResourceRules(platform),
        labels: async () => merged?.pulls.flatMap((p) => p.labels.map((l) => l.name)) ?? [],
        keys: planKeys(deps, platform.settings),
        keyContext: { [PLAN_ARTIFACT_KEY_CONTEXT.key]: PLAN_ARTIFACT_KEY_CONTEXT.value, repository: `${platform.settings.github.owner}/${platform.settings.github.repository}` },
        commit: options.sha,
        outDir: options.out,
        maxAgeMs: options.maxHours * 3_600_000,
        runner: deps.runner,
        now: deps.now,
        log,
      });
      const parity = client && merged ? await parityWithPullRequests(client, merged.pulls, plans) : {};
      writeFileSync(join(options.out, MERGE_PARITY_FILE), `${JSON.stringify(parity, null, 2)}\n`);
      writeFileSync(join(options.out, MERGE_PULLS_FILE), `${JSON.stringify(merged?.pulls ?? [], null, 2)}\n`);
      const body = renderMergeComment({ plans, parity, runUrl: actions.runUrl });
      actions.summary(body);
      if (client && merged) for (const r of await postMergeComment(client, merged.pulls, options.sha, body)) log(`#${r.pull}: merge comment ${r.action}`);
      actions.output('apply', plans.ok && plans.stacks.some((s) => s.status === 'planned') ? 'true' : 'false');
      return plans.ok ? 0 : 1;
    },
  };
}
