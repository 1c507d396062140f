import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployRefOf } from '@platform/platform-config';
import { markApplied as moveRefForward } from '../../apply/applied-ref';
import type { ApplyStacksResult } from '../../apply/apply';
import { APPROVED_PLANS_MANIFEST, readApprovedPlans } from '../../apply/approved-plan';
import { deployDecisions, renderDeploySummary, untouchedDecisions } from '../../apply/deploy-refs';
import type { ApplyOutcome } from '../../apply/merge-report';
import { clusterNames, nameList, parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';
import { APPLY_RESULT_FILE } from './apply-approved';

const OUTCOMES: readonly ApplyOutcome[] = ['success', 'failure', 'cancelled', 'skipped'];

export type DeployRefsOptions =
  /** After a merge's apply run: each cluster decided from what applied. */
  | { readonly kind: 'merge'; readonly sha: string; readonly stacks: readonly string[]; readonly dir?: string; readonly outcome: ApplyOutcome; readonly remote?: string }
  /** Before the apply: the clusters the merge touched no stack of move at once. */
  | { readonly kind: 'untouched'; readonly sha: string; readonly stacks: readonly string[]; readonly remote?: string }
  /** By hand or from the failover paths: move the named clusters to `sha` (still never backwards). */
  | { readonly kind: 'clusters'; readonly sha: string; readonly clusters: readonly string[]; readonly remote?: string };

/**
 * Moves each cluster's deploy ref (what its Flux follows) forward to `--sha`, only for the
 * clusters whose touched stacks applied (see deploy-refs.ts). With `--cluster`, moves those
 * clusters without asking (failover, fail-back, by hand). Never moves a ref backwards.
 */
export const deployRefs: Command<DeployRefsOptions> = {
  description: "move each cluster's deploy ref to the merged commit once its infrastructure is applied",
  parse(args) {
    const v = parseOptions(args, { sha: { type: 'string' }, stacks: { type: 'string' }, dir: { type: 'string' }, outcome: { type: 'string' }, cluster: { type: 'string', multiple: true }, remote: { type: 'string' }, 'untouched-only': { type: 'boolean' } });
    if (!v.sha) throw new UsageError('--sha <commit> is required');
    if (v.cluster !== undefined) {
      if (v.stacks !== undefined || v.outcome !== undefined) throw new UsageError('--cluster moves the named clusters; it excludes --stacks and --outcome');
      return { kind: 'clusters', sha: v.sha, clusters: v.cluster, remote: v.remote };
    }
    if (v.stacks === undefined) throw new UsageError('--stacks <JSON array of the stacks the merge touched> (or --cluster <name>) is required');
    if (v['untouched-only']) {
      if (v.outcome !== undefined || v.dir !== undefined) throw new UsageError('--untouched-only runs before the apply; it excludes --outcome and --dir');
      return { kind: 'untouched', sha: v.sha, stacks: nameList('--stacks', v.stacks), remote: v.remote };
    }
    const outcome = (v.outcome ?? 'skipped') as ApplyOutcome;
    if (!OUTCOMES.includes(outcome)) throw new UsageError(`--outcome ${v.outcome}: expected one of ${OUTCOMES.join(', ')} (needs.<apply job>.result)`);
    return { kind: 'merge', sha: v.sha, stacks: nameList('--stacks', v.stacks), dir: v.dir, outcome, remote: v.remote };
  },
  async run(options, { platform, paths, actions, log }) {
    let decisions;
    if (options.kind === 'untouched') {
      decisions = untouchedDecisions(platform, options.stacks);
    } else if (options.kind === 'clusters') {
      decisions = clusterNames(platform, '--cluster', options.clusters).map((cluster) => ({ cluster, ref: deployRefOf(cluster), move: true, reason: 'moved by hand or by the failover path' }));
    } else {
      const dir = options.dir;
      const plans = dir && existsSync(join(dir, APPROVED_PLANS_MANIFEST)) ? readApprovedPlans(dir) : undefined;
      const resultFile = dir ? join(dir, APPLY_RESULT_FILE) : undefined;
      const applied = resultFile && existsSync(resultFile) ? (JSON.parse(readFileSync(resultFile, 'utf8')) as ApplyStacksResult).results : undefined;
      if (plans && plans.commit !== options.sha) throw new Error(`approved plans in ${dir} are of ${plans.commit.slice(0, 12)}, not ${options.sha.slice(0, 12)}`);
      decisions = deployDecisions(platform, { touched: options.stacks, plans, applied, outcome: options.outcome });
    }
    const rows = [];
    const refused: string[] = [];
    for (const d of decisions) {
      if (!d.move) {
        log(`${d.ref}: ${'pending' in d && d.pending ? 'pending' : 'held'} (${d.reason})`);
        rows.push(d);
        continue;
      }
      // One refused ref (sideways, or a lost race) holds that cluster only; the others still move.
      try {
        const moved = moveRefForward({ repo: paths.repoRoot, ref: d.ref, sha: options.sha, remote: options.remote, log });
        const result = { moved: `moved to \`${options.sha.slice(0, 12)}\``, unchanged: 'already there', annotated: 'already there', kept: 'kept on a later commit' }[moved.outcome];
        rows.push({ ...d, result });
      } catch (error) {
        refused.push(error instanceof Error ? error.message : String(error));
        rows.push({ ...d, result: 'refused (see the log)' });
      }
    }
    actions.summary(renderDeploySummary(options.sha, rows));
    if (refused.length > 0) throw new Error(refused.join('; '));
    return 0;
  },
};
